//! Text analysis for BM25, the same at index and query time: words split at anything not a
//! letter or digit, runs of Chinese, Japanese or Korean script cut into overlapping bigrams,
//! words of more than 255 characters dropped, lower-cased, accents folded (`café` is `cafe`),
//! English stop words dropped and words stemmed; each step but the split can be switched off
//! in the settings.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, Stemmer, StopWordFilter, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::IndexConfig;

/// Words longer than this many characters are dropped (base64 and other blobs), as Lucene's
/// standard tokenizer bounds them. It counts characters, not bytes: a 40-byte bound dropped
/// Russian words of 20 letters, Thai phrases (written without spaces) and git hashes.
pub const LONGEST_WORD: usize = 255;

/// The analyzer of the analysed fields (text, title, section) for `config`.
pub fn analyzer(config: &IndexConfig) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(WordTokenizer {
        cjk_bigrams: config.cjk_bigrams,
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

/// Whether `c` is written in a script without spaces between words (or one Lucene's CJK
/// analysis treats alike): Han, Hiragana, Katakana, Hangul.
fn is_cjk(c: char) -> bool {
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
/// after one (as Tantivy's `SimpleTokenizer`, which split `nai\u{308}ve` in two), and, with `cjk_bigrams`, a run of CJK characters into its overlapping
/// pairs (`日本語` gives `日本` and `本語`; a run of one character is itself), as Lucene's CJK
/// bigram filter does: such text has no spaces, so a whole sentence would be one token.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    /// Cut CJK runs into bigrams.
    pub cjk_bigrams: bool,
}

/// The tokens of one text, produced up front.
pub struct WordTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream {
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
                // Composed, so that a decomposed accent (`nai\u{308}ve`) folds as `naïve` does.
                text: if word.is_ascii() {
                    word.to_owned()
                } else {
                    word.nfc().collect()
                },
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
            // A combining mark (a decomposed accent) belongs to the word it follows.
            if is_combining_mark(c) && word.is_some_and(|(_, cjk)| !cjk) {
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
    /// Russian word, a git hash and a Thai phrase (one run of letters) are terms; a blob of 256
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
            "บ้านเมืองของประเทศไทยสวยงาม",
        ] {
            assert_eq!(
                terms(&config, &format!("a {word} b")),
                [word, "b"],
                "{word}"
            );
        }
        let longest = "é".repeat(LONGEST_WORD);
        assert_eq!(terms(&config, &longest), ["e".repeat(LONGEST_WORD)]);
        assert!(terms(&config, &format!("{longest}e")).is_empty());
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
        let mut tokenizer = WordTokenizer { cjk_bigrams: true };
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
