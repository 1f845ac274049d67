//! Text analysis for BM25, the same at index and query time: words split at anything not a
//! letter or digit, runs of Chinese, Japanese, Korean, Thai, Lao, Khmer or Burmese script cut
//! into overlapping bigrams,
//! words of more than 255 characters dropped, lower-cased, accents folded (`café` is `cafe`),
//! English stop words dropped and words stemmed; each step but the split can be switched off
//! in the settings.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, Stemmer, StopWordFilter, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::IndexConfig;

/// Words longer than this many characters are dropped (base64 and other blobs), as Lucene's
/// standard tokenizer bounds them. It counts characters, not bytes: a 40-byte bound dropped
/// Russian words of 20 letters, Devanagari compounds and git hashes.
pub const LONGEST_WORD: usize = 255;

/// The analyzer of the analysed fields (text, title, section) for `config`.
pub fn analyzer(config: &IndexConfig) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(WordTokenizer {
        cjk_bigrams: config.cjk_bigrams,
        fold_accents: config.fold_accents,
    })
    .filter(LowerCaser)
    .dynamic();
    let builder = if config.fold_accents {
        builder.filter_dynamic(AsciiFoldingFilter)
    } else {
        builder
    };
    let builder = match (config.stopwords, StopWordFilter::new(Language::English)) {
        (true, Some(filter)) => builder.filter_dynamic(filter),
        _ => builder,
    };
    let builder = if config.stemmer {
        builder.filter_dynamic(Stemmer::new(Language::English))
    } else {
        builder
    };
    builder.build()
}

/// Whether `c` is a letter of a script written without spaces between words (or one
/// Lucene's CJK analysis treats alike): Han, Hiragana, Katakana, Hangul, and the letters of
/// Thai, Lao, Khmer and Burmese (their vowel signs and tone marks are combining marks, which
/// stay with the letter before them; their digits are words of their own).
fn is_cjk(c: char) -> bool {
    let southeast_asian = matches!(c as u32,
        0x0E00..=0x0EFF          // Thai, Lao
        | 0x1000..=0x109F        // Myanmar
        | 0x1780..=0x17FF        // Khmer
        | 0xA9E0..=0xA9FF        // Myanmar extended B
        | 0xAA60..=0xAA7F // Myanmar extended A
    );
    if southeast_asian {
        return c.is_alphabetic() && !is_combining_mark(c);
    }
    matches!(c as u32,
        0x1100..=0x11FF          // Hangul Jamo
        | 0x3005..=0x3007        // 々 〆 〇
        | 0x3040..=0x309F        // Hiragana
        | 0x30A0..=0x30FF        // Katakana (with ー)
        | 0x3130..=0x318F        // Hangul compatibility Jamo
        | 0x31F0..=0x31FF        // Katakana phonetic extensions
        | 0x3400..=0x4DBF        // CJK extension A
        | 0x4E00..=0x9FFF        // CJK unified ideographs
        | 0xA960..=0xA97F        // Hangul Jamo extended A
        | 0xAC00..=0xD7AF        // Hangul syllables
        | 0xD7B0..=0xD7FF        // Hangul Jamo extended B
        | 0xF900..=0xFAFF        // CJK compatibility ideographs
        | 0xFF66..=0xFF9F        // half-width Katakana
        | 0x20000..=0x3134F // CJK extensions B to G, compatibility supplement
    )
}

/// Splits text into words at every character that is not a letter, digit or a combining mark
/// after one (as Tantivy's `SimpleTokenizer`, which split `nai\u{308}ve` in two), and, with
/// `cjk_bigrams`, a run of CJK characters into its overlapping pairs (`日本語` gives `日本` and
/// `本語`; a run of one character is itself), as Lucene's CJK bigram filter does: such text
/// has no spaces, so a whole sentence would be one token. Thai, Lao, Khmer and Burmese runs
/// are cut alike, each letter with the combining marks after it (`ประเทศไทย` gives `ปร`, `ระ`,
/// …, `ไท`, `ทย`).
///
/// The text is [`normalized`] first: compatibility forms as their plain letters, format
/// characters dropped, and with `fold_accents` the diacritics of alphabetic scripts too.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    /// Cut CJK runs into bigrams.
    pub cjk_bigrams: bool,
    /// Drop the diacritics of alphabetic scripts ([`normalized`]).
    pub fold_accents: bool,
}

/// Whether `c` only formats text, and is no part of what it says: a soft hyphen, a zero-width
/// non-joiner or joiner (Persian writes one inside words), a word joiner, a zero-width no-break
/// space. Dropped, so that a word holding one is the word a reader sees.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Whether `c` is a diacritic of an alphabetic script, folded away with accents: the combining
/// diacritical marks (Latin and Greek accents, Cyrillic stress, the dot of Turkish İ), Cyrillic
/// titlo, Hebrew points, Arabic vowel marks and tatweel. The vowel signs and viramas of Indic
/// and Southeast Asian scripts, and the voicing marks of kana, spell their words and stay.
fn is_folded_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F
        | 0x0483..=0x0489
        | 0x0591..=0x05BD | 0x05BF | 0x05C1..=0x05C2 | 0x05C4..=0x05C5 | 0x05C7
        | 0x0610..=0x061A | 0x0640 | 0x064B..=0x065F | 0x0670
        | 0x06D6..=0x06DC | 0x06DF..=0x06E4 | 0x06E7..=0x06E8 | 0x06EA..=0x06ED
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// `text` as it is analysed: compatibility forms as their plain letters (NFKC: full-width
/// Latin, half-width katakana, ligatures), decomposed Hangul and kana composed (so that CJK
/// bigrams are of syllables, however the text was written), format characters dropped, a final
/// sigma as sigma (upper case has one sigma); and with `fold_accents`, the diacritics of
/// alphabetic scripts dropped ([`is_folded_mark`]: `αθηνα` finds "Αθήνα", `москва` "Москва́",
/// `istanbul` "İstanbul", `елка` "Ёлка").
pub fn normalized(text: &str, fold_accents: bool) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    // Most text is in its NFKC form already (curly quotes, dashes, accented letters): only
    // text that is not, or holds a format character or a final sigma, is rewritten.
    let plain = unicode_normalization::is_nfkc_quick(text.chars())
        == unicode_normalization::IsNormalized::Yes
        && !text.chars().any(|c| is_ignorable(c) || c == 'ς');
    let composed: Cow<'_, str> = match plain {
        true => Cow::Borrowed(text),
        false => Cow::Owned(
            (text.chars())
                .filter(|c| !is_ignorable(*c))
                .nfkc()
                .map(|c| if c == 'ς' { 'σ' } else { c })
                .collect(),
        ),
    };
    match fold_accents {
        true => Cow::Owned(without_diacritics(&composed)),
        false => composed,
    }
}

/// `text` (NFKC) without the diacritics of alphabetic scripts ([`is_folded_mark`]), in one
/// pass: only Latin, Greek and Cyrillic letters are decomposed to drop theirs (other scripts'
/// marks stand apart already), and the text is composed again only when a mark stays with its
/// letter (й).
fn without_diacritics(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut base = '\0';
    // Whether a mark split from its letter here stayed: the text is composed again then.
    let mut split_mark_kept = false;
    for c in text.chars() {
        let decomposes = matches!(c as u32, 0xC0..=0x24F | 0x370..=0x4FF | 0x1E00..=0x1FFF);
        let mut take = |part: char| {
            let mark = is_combining_mark(part);
            if !is_folded_mark(part) || is_letter_of_its_own(base, part) {
                folded.push(part);
                split_mark_kept |= mark && decomposes;
            }
            if !mark {
                base = part;
            }
        };
        match decomposes {
            true => unicode_normalization::char::decompose_canonical(c, take),
            false => take(c),
        }
    }
    match split_mark_kept {
        true => folded.nfc().collect(),
        false => folded,
    }
}

/// Whether `mark` after `base` makes a letter of its own, not an accented one: Cyrillic й, ў
/// (a breve) and Ukrainian ї (a diaeresis) spell other words than и, у and і (мой, мои).
fn is_letter_of_its_own(base: char, mark: char) -> bool {
    matches!(
        (base, mark),
        ('и' | 'И' | 'у' | 'У', '\u{306}') | ('і' | 'І', '\u{308}')
    )
}

/// The tokens of one text, produced up front.
pub struct WordTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream {
        let text = &*normalized(text, self.fold_accents);
        let mut tokens = Vec::new();
        let mut push = |from: usize, to: usize| {
            let word = &text[from..to];
            if word.len() > LONGEST_WORD && word.chars().nth(LONGEST_WORD).is_some() {
                return;
            }
            tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position: tokens.len(),
                text: word.to_owned(),
                position_length: 1,
            });
        };
        // (start of the current word, whether it is a CJK run, the CJK run's char starts)
        let mut word: Option<(usize, bool)> = None;
        let mut run: Vec<usize> = Vec::new();
        let flush = |word: &mut Option<(usize, bool)>,
                     run: &mut Vec<usize>,
                     end: usize,
                     push: &mut dyn FnMut(usize, usize)| {
            match word.take() {
                Some((_, true)) => {
                    if run.len() == 1 {
                        push(run[0], end);
                    } else {
                        for pair in 0..run.len() - 1 {
                            let to = run.get(pair + 2).copied().unwrap_or(end);
                            push(run[pair], to);
                        }
                    }
                }
                Some((start, false)) => push(start, end),
                None => {}
            }
            run.clear();
        };
        for (offset, c) in text.char_indices() {
            // A combining mark (a decomposed accent, a Thai vowel sign) belongs to the word,
            // or the letter of a bigram run, it follows.
            if is_combining_mark(c) && word.is_some() {
                continue;
            }
            if !c.is_alphanumeric() {
                flush(&mut word, &mut run, offset, &mut push);
                continue;
            }
            let cjk = self.cjk_bigrams && is_cjk(c);
            if word.is_some_and(|(_, in_cjk)| in_cjk != cjk) {
                flush(&mut word, &mut run, offset, &mut push);
            }
            if word.is_none() {
                word = Some((offset, cjk));
            }
            if cjk {
                run.push(offset);
            }
        }
        flush(&mut word, &mut run, text.len(), &mut push);
        WordTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for WordTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(config: &IndexConfig, text: &str) -> Vec<String> {
        let mut analyzer = analyzer(config);
        let mut terms = Vec::new();
        analyzer
            .token_stream(text)
            .process(&mut |token| terms.push(token.text.clone()));
        terms
    }

    /// Words are kept up to 255 characters, however many bytes they take: a 21-letter
    /// Russian word, a git hash and a Hindi word with its vowel signs are terms; a blob of 256
    /// characters is not.
    #[test]
    fn long_words_are_terms_up_to_255_characters() {
        let config = IndexConfig {
            stemmer: false,
            ..IndexConfig::default()
        };
        for word in [
            "достопримечательность",
            "3f786850e387550fdab836ed7e6dc881de23001b",
            "अंतर्राष्ट्रीयकरण",
        ] {
            assert_eq!(
                terms(&config, &format!("a {word} b")),
                [word, "b"],
                "{word}"
            );
        }
        let longest = "é".repeat(LONGEST_WORD);
        assert_eq!(terms(&config, &longest), ["e".repeat(LONGEST_WORD)]);
        // Characters as a reader counts them: an accent written apart is no character more.
        let decomposed = "e\u{301}".repeat(LONGEST_WORD);
        assert_eq!(terms(&config, &decomposed), ["e".repeat(LONGEST_WORD)]);
        assert!(terms(&config, &format!("{longest}e")).is_empty());
    }

    /// What people type finds what documents hold, in any script: Turkish İ without its dot,
    /// Greek without tonos and in capitals (final sigma), Cyrillic without stress marks or ё's
    /// dots, Hebrew and Arabic without vowel marks, half-width katakana as full-width, words
    /// with a soft hyphen or a Persian zero-width non-joiner, decomposed Hangul and kana.
    #[test]
    fn words_in_other_scripts_fold_as_people_type_them() {
        let config = IndexConfig {
            stemmer: false,
            stopwords: false,
            ..IndexConfig::default()
        };
        let same = |document: &str, query: &str| {
            assert_eq!(
                terms(&config, document),
                terms(&config, query),
                "{document} / {query}"
            );
        };
        same("İstanbul DİYARBAKIR", "istanbul diyarbakir");
        same("Αθήνα ΣΩΚΡΑΤΗΣ Οδυσσέας", "αθηνα σωκρατης ΟΔΥΣΣΕΑΣ");
        same("Москва\u{301} Ёлка Пётр", "москва елка петр");
        // Й, ў and ї are letters of their own: мой is not мои.
        assert_ne!(
            terms(&config, "мой край їх ўсё"),
            terms(&config, "мои краи іх усё")
        );
        assert_eq!(terms(&config, "Мой"), terms(&config, "мой"));
        same("O\u{323}\u{300}ro\u{323}\u{300}", "oro");
        same("ס\u{5b0}פ\u{5b8}ר\u{5b4}ים مِصْرَ", "ספרים مصر");
        same("ｶﾀｶﾅ ＡＢＣ１２３", "カタカナ abc123");
        same(
            "super\u{ad}cali\u{ad}fragilistic می\u{200c}خواهم",
            "supercalifragilistic میخواهم",
        );
        let nfd = |text: &str| text.nfd().collect::<String>();
        same(&nfd("부산 비빔밥 ガギグゲゴ"), "부산 비빔밥 ガギグゲゴ");
        // The voicing marks of kana and the vowel signs of Indic scripts spell words: kept.
        assert_ne!(terms(&config, "ガ"), terms(&config, "カ"));
        assert_ne!(terms(&config, "किताब"), terms(&config, "कताब"));
        // Without accent folding, accents stay; the rest is folded still.
        let kept = IndexConfig {
            fold_accents: false,
            ..config.clone()
        };
        assert_eq!(
            terms(&kept, "Αθήνα ΣΩΚΡΑΤΗΣ ｶﾀｶﾅ"),
            ["αθήνα", "σωκρατησ", "カタ", "タカ", "カナ"]
        );
    }

    #[test]
    fn cjk_runs_become_overlapping_bigrams() {
        let config = IndexConfig::default();
        assert_eq!(
            terms(&config, "東京は日本の首都です"),
            [
                "東京", "京は", "は日", "日本", "本の", "の首", "首都", "都で", "です"
            ]
        );
        assert_eq!(terms(&config, "ラーメン"), ["ラー", "ーメ", "メン"]);
        assert_eq!(terms(&config, "日"), ["日"]);
        assert_eq!(terms(&config, "한국어"), ["한국", "국어"]);
        // Latin words next to CJK text stay words (and are analysed as such).
        assert_eq!(
            terms(&config, "Tokyo東京ramen, 日本 Running"),
            ["tokyo", "東京", "ramen", "日本", "run"]
        );
    }

    #[test]
    fn bigram_positions_and_offsets_follow_the_text() {
        let mut tokenizer = WordTokenizer {
            cjk_bigrams: true,
            fold_accents: true,
        };
        let mut stream = tokenizer.token_stream("ab 日本語");
        let mut seen = Vec::new();
        while stream.advance() {
            let token = stream.token();
            seen.push((
                token.text.clone(),
                token.position,
                token.offset_from,
                token.offset_to,
            ));
        }
        assert_eq!(
            seen,
            [
                ("ab".to_owned(), 0, 0, 2),
                ("日本".to_owned(), 1, 3, 9),
                ("本語".to_owned(), 2, 6, 12)
            ]
        );
    }

    /// Thai, Lao, Khmer and Burmese are written without spaces between words: a run is cut
    /// into overlapping pairs of letters, each with its vowel signs and tone marks, so a word
    /// finds the phrase that holds it; their digits and Latin words beside them stay words.
    #[test]
    fn southeast_asian_runs_become_overlapping_bigrams_of_letters() {
        let config = IndexConfig::default();
        let phrase = terms(&config, "บ้านเมืองของประเทศไทยสวยงาม");
        assert_eq!(phrase[..3], ["บ้า", "าน", "นเ"]);
        let word = terms(&config, "ประเทศไทย");
        assert_eq!(word, ["ปร", "ระ", "ะเ", "เท", "ทศ", "ศไ", "ไท", "ทย"]);
        assert!(word.iter().all(|pair| phrase.contains(pair)), "{phrase:?}");
        assert_eq!(terms(&config, "ປະເທດລາວ")[..2], ["ປະ", "ະເ"]);
        // Khmer: the coeng (U+17D2) and the vowel signs stay with their consonants.
        assert_eq!(terms(&config, "កម្ពុជា"), ["កម្", "ម្ពុ", "ពុជា"]);
        assert_eq!(
            terms(&config, "Bangkok กรุงเทพ ๒๕๖๗"),
            ["bangkok", "กรุ", "รุง", "งเ", "เท", "ทพ", "๒๕๖๗"]
        );
        let off = IndexConfig {
            cjk_bigrams: false,
            ..IndexConfig::default()
        };
        assert_eq!(terms(&off, "ประเทศไทย"), ["ประเทศไทย"]);
    }

    #[test]
    fn switched_off_a_cjk_run_is_one_token() {
        let config = IndexConfig {
            cjk_bigrams: false,
            ..IndexConfig::default()
        };
        assert_eq!(terms(&config, "東京は日本"), ["東京は日本"]);
    }

    #[test]
    fn accents_are_folded_and_stemming_and_stop_words_still_apply() {
        let config = IndexConfig::default();
        assert_eq!(terms(&config, "Café"), terms(&config, "cafe"));
        assert_eq!(terms(&config, "naïve"), ["naiv"]);
        // Decomposed accents are one word with their letters, and fold alike (the word was
        // cut at the mark: `éclair` was `e` and `clair`).
        assert_eq!(terms(&config, "nai\u{308}ve"), ["naiv"]);
        assert_eq!(terms(&config, "e\u{301}clair"), terms(&config, "éclair"));
        assert_eq!(terms(&config, "the cafés"), ["cafe"]);
        let unfolded = IndexConfig {
            fold_accents: false,
            ..IndexConfig::default()
        };
        assert_ne!(terms(&unfolded, "café"), terms(&unfolded, "cafe"));
        let plain = IndexConfig {
            stemmer: false,
            stopwords: false,
            ..IndexConfig::default()
        };
        assert_eq!(terms(&plain, "the Cafés"), ["the", "cafes"]);
    }
}
