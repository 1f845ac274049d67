//! Tokenizing a document word by word, each distinct word once.
//!
//! For tokenizers whose tokens never cross whitespace (BERT-style: a per-char normalizer, a
//! pre-tokenizer that splits on whitespace, no truncation), tokenizing a text is tokenizing
//! each of its whitespace-separated words on its own: the same tokens, at the same offsets
//! once shifted by the word's position. A document repeats most of its words, so [`Wordwise`]
//! tokenizes every distinct word once and reuses the token offsets. Words of printable ASCII
//! skip the tokenizer's pipeline for a BERT pre-tokenizer: split at punctuation, lowercased
//! when the normalizer lowercases, and given to the model directly.
//!
//! [`Wordwise::new`] returns `None` for tokenizers where this is not exactly the full
//! tokenization (the proptests compare both on real and generated text).

use rustc_hash::FxHashMap;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{Model, ModelWrapper, Tokenizer};

/// Splits between words: ASCII whitespace, which every eligible pipeline drops.
fn is_gap(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// A tokenizer that can be run one word at a time.
pub(super) struct Wordwise<'t> {
    tokenizer: &'t Tokenizer,
    /// The shortcut for printable-ASCII words, when the pipeline allows it.
    ascii: Option<Ascii<'t>>,
}

/// What the pipeline does to a printable-ASCII word: BERT pre-tokenization (split at ASCII
/// punctuation, which is isolated), lowercasing or not, then the model.
struct Ascii<'t> {
    model: &'t ModelWrapper,
    lowercase: bool,
    /// Contents of the added tokens: a word containing one (in any case) takes the full
    /// pipeline, which extracts added tokens first.
    added: Vec<String>,
}

impl<'t> Wordwise<'t> {
    /// `None` when tokens of `tokenizer` may depend on text across whitespace.
    pub(super) fn new(tokenizer: &'t Tokenizer) -> Option<Self> {
        if tokenizer.get_truncation().is_some() || tokenizer.get_padding().is_some() {
            return None;
        }
        let normalizer = match tokenizer.get_normalizer() {
            None => None,
            Some(NormalizerWrapper::BertNormalizer(bert)) => Some(bert),
            Some(_) => return None,
        };
        let bert_split = match tokenizer.get_pre_tokenizer()? {
            PreTokenizerWrapper::BertPreTokenizer(_) => true,
            PreTokenizerWrapper::Whitespace(_) | PreTokenizerWrapper::WhitespaceSplit(_) => false,
            _ => return None,
        };
        if !matches!(
            tokenizer.get_post_processor(),
            None | Some(PostProcessorWrapper::Bert(_) | PostProcessorWrapper::Template(_))
        ) {
            return None;
        }
        // Added tokens are matched before anything else, on the raw (or normalized) text:
        // one that strips whitespace or contains some would see past a word.
        let added: Vec<_> = tokenizer.get_added_tokens_decoder().into_values().collect();
        if added.iter().any(|t| {
            t.lstrip || t.rstrip || t.content.is_empty() || t.content.contains(char::is_whitespace)
        }) {
            return None;
        }
        // A normalized non-ASCII added token could match the normalized form of ASCII text.
        let ascii_ok = bert_split && added.iter().all(|t| !t.normalized || t.content.is_ascii());
        let ascii = ascii_ok.then(|| Ascii {
            model: tokenizer.get_model(),
            lowercase: normalizer.is_some_and(|n| n.lowercase),
            added: added.into_iter().map(|t| t.content).collect(),
        });
        Some(Wordwise { tokenizer, ascii })
    }

    /// Byte offsets where the tokens of `text` start, in order: what the starts of the
    /// offsets of `tokenizer.encode(text, false)` are.
    pub(super) fn token_starts(&self, text: &str) -> Result<Vec<usize>, String> {
        let bytes = text.as_bytes();
        // Each distinct word -> its range in `relative` (token starts within the word).
        let mut memo: FxHashMap<&str, (u32, u32)> = FxHashMap::default();
        let mut relative: Vec<u32> = Vec::new();
        let mut starts = Vec::with_capacity(text.len() / 4);
        let mut buffer = String::new();
        let mut i = 0;
        while i < bytes.len() {
            if is_gap(bytes[i]) {
                i += 1;
                continue;
            }
            let end = bytes[i..]
                .iter()
                .position(|&b| is_gap(b))
                .map_or(bytes.len(), |n| i + n);
            // Gaps are ASCII: `i` and `end` are char boundaries.
            let word = &text[i..end];
            let (from, to) = match memo.get(word) {
                Some(&range) => range,
                None => {
                    let from = relative.len() as u32;
                    self.word_starts(word, &mut relative, &mut buffer)?;
                    let range = (from, relative.len() as u32);
                    memo.insert(word, range);
                    range
                }
            };
            starts.extend(
                relative[from as usize..to as usize]
                    .iter()
                    .map(|&r| i + r as usize),
            );
            i = end;
        }
        if starts.windows(2).any(|w| w[0] > w[1]) {
            starts.sort_unstable();
        }
        Ok(starts)
    }

    /// Appends the token starts of `word` (relative to it) to `out`.
    fn word_starts(
        &self,
        word: &str,
        out: &mut Vec<u32>,
        buffer: &mut String,
    ) -> Result<(), String> {
        if let Some(ascii) = &self.ascii
            && ascii.applies(word)
        {
            return ascii.starts(word, out, buffer);
        }
        let starts = encoded_starts(self.tokenizer, word)?;
        out.extend(starts.into_iter().map(|s| s as u32));
        Ok(())
    }
}

impl Ascii<'_> {
    /// Whether `word` is printable ASCII without an added token in it.
    fn applies(&self, word: &str) -> bool {
        word.bytes().all(|b| (0x21..=0x7e).contains(&b))
            && !self.added.iter().any(|added| {
                word.as_bytes()
                    .windows(added.len())
                    .any(|w| w.eq_ignore_ascii_case(added.as_bytes()))
            })
    }

    fn starts(&self, word: &str, out: &mut Vec<u32>, buffer: &mut String) -> Result<(), String> {
        let bytes = word.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let end = if bytes[at].is_ascii_punctuation() {
                at + 1
            } else {
                bytes[at..]
                    .iter()
                    .position(u8::is_ascii_punctuation)
                    .map_or(bytes.len(), |n| at + n)
            };
            let piece = &word[at..end];
            let piece = if self.lowercase && piece.bytes().any(|b| b.is_ascii_uppercase()) {
                buffer.clear();
                buffer.push_str(piece);
                buffer.make_ascii_lowercase();
                buffer.as_str()
            } else {
                piece
            };
            let tokens = self
                .model
                .tokenize(piece)
                .map_err(|e| format!("tokenizing failed: {e}"))?;
            out.extend(
                tokens
                    .iter()
                    .map(|t| (at + t.offsets.0.min(piece.len())) as u32),
            );
            at = end;
        }
        Ok(())
    }
}

/// Token starts of `text` from the full pipeline, non-decreasing and within `text`.
pub(super) fn encoded_starts(tokenizer: &Tokenizer, text: &str) -> Result<Vec<usize>, String> {
    let encoding = tokenizer
        .encode(text, false)
        .map_err(|e| format!("tokenizing failed: {e}"))?;
    let mut starts: Vec<usize> = encoding
        .get_offsets()
        .iter()
        .map(|&(s, _)| s.min(text.len()))
        .collect();
    if starts.windows(2).any(|w| w[0] > w[1]) {
        starts.sort_unstable();
    }
    Ok(starts)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tokenizers::TruncationParams;
    use tokenizers::normalizers::BertNormalizer;
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    use tokenizers::pre_tokenizers::whitespace::{Whitespace, WhitespaceSplit};

    use super::*;
    use crate::chunk::sizer::tests::test_tokenizer;

    /// The test tokenizer (BERT normalizer and pre-tokenizer, WordPiece) and variants of its
    /// pipeline that stay eligible.
    fn tokenizers() -> Vec<Tokenizer> {
        let base = test_tokenizer();
        let mut whitespace = base.clone();
        whitespace.with_pre_tokenizer(Some(Whitespace));
        let mut split = base.clone();
        split.with_pre_tokenizer(Some(WhitespaceSplit));
        let mut raw = base.clone();
        raw.with_normalizer(None::<BertNormalizer>).unwrap();
        let mut cased = base.clone();
        cased
            .with_normalizer(Some(BertNormalizer::new(false, false, Some(true), false)))
            .unwrap();
        vec![base, whitespace, split, raw, cased]
    }

    fn check(tokenizer: &Tokenizer, text: &str) {
        let wordwise = Wordwise::new(tokenizer).expect("eligible");
        assert_eq!(
            wordwise.token_starts(text).unwrap(),
            encoded_starts(tokenizer, text).unwrap(),
            "{text:?}"
        );
    }

    #[test]
    fn same_starts_on_examples() {
        let texts = [
            "",
            "Hello, World! Tokenization is UNBELIEVABLY interesting.",
            "  lead\tand\r\ntrail  ",
            "café naïve Ångström e\u{301} \u{301}x ΣΊΣΥΦΟΣ ǅ İstanbul",
            "日本語のテキスト、中文。한국어 😀🎉 a😀b",
            "nbsp\u{a0}nbsp ideo\u{3000}space nel\u{85}x vt\u{b}ff\u{c}x",
            "ctl\u{0}x \u{fffd}y z\u{200b}w \u{7f}del \u{1}",
            "[CLS] x[SEP]y [mask] [Unk] [PAD][PAD]",
            "a.b,c;d--e__f $5+3=8 <tag> `code` ~/path/x.rs:12 e.g. U.S.A.",
            "dépôt_x…y “quoted” ‘single’ ¿qué? ¡sí! «ok» 1,234.56",
        ];
        let long = format!("{} {}", "x".repeat(150), "é".repeat(120));
        for tokenizer in tokenizers() {
            for text in texts.iter().copied().chain([long.as_str()]) {
                check(&tokenizer, text);
            }
        }
    }

    #[test]
    fn ineligible_pipelines() {
        let mut truncating = test_tokenizer();
        truncating
            .with_truncation(Some(TruncationParams::default()))
            .unwrap();
        assert!(Wordwise::new(&truncating).is_none());
        let mut byte_level = test_tokenizer();
        byte_level.with_pre_tokenizer(Some(ByteLevel::default()));
        assert!(Wordwise::new(&byte_level).is_none());
        let mut none = test_tokenizer();
        none.with_pre_tokenizer(None::<Whitespace>);
        assert!(Wordwise::new(&none).is_none());
    }

    /// The real texts the chunker sees: the shared corpus and the sample corpus.
    #[test]
    fn same_starts_on_the_corpora() {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let shared = manifest
            .ancestors()
            .map(|dir| dir.join("shared/corpus/md"))
            .find(|dir| dir.is_dir())
            .expect("shared/corpus/md");
        let tokenizer = test_tokenizer();
        let mut seen = 0;
        for dir in [manifest.join("../sample-corpus"), shared] {
            for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
                let path = entry.path();
                if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("md" | "txt")
                ) {
                    let text = std::fs::read_to_string(path).expect("corpus text");
                    check(&tokenizer, &text);
                    seen += 1;
                }
            }
        }
        assert!(seen >= 10, "too few corpus files");
    }

    /// Pieces of text that stress the pipeline: cases, accents (composed and combining),
    /// CJK, emoji, punctuation, control chars, added tokens, every kind of whitespace.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-zA-Z]{1,12}",
            2 => "[ \t\n\r]{1,3}",
            2 => "[.,;:!?'\"()\\[\\]{}<>/\\\\|@#$%^&*_+=~`-]{1,3}",
            1 => "[0-9]{1,5}",
            1 => "[àéîõüÀÉÎÕÜçñßøåæœ]{1,4}",
            1 => "[\u{300}\u{301}\u{308}\u{327}]{1,2}",
            1 => "[日本語中文字テキストのは한국어]{1,4}",
            1 => "[😀🎉👍🏽]{1,2}",
            1 => "[\u{0}\u{1}\u{b}\u{c}\u{7f}\u{85}\u{a0}\u{200b}\u{2028}\u{3000}\u{fffd}\u{feff}]",
            1 => "[ΣσςΑΩİıǅﬁ…“”‘’«»¿¡–—]{1,3}",
            1 => prop::sample::select(vec!["[CLS]", "[sep]", "[MASK]", "[UNK]", "[PAD"])
                .prop_map(str::to_owned),
            1 => "[a-z]{90,110}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]

        #[test]
        fn same_starts_as_the_full_pipeline(pieces in prop::collection::vec(piece(), 0..60)) {
            let text = pieces.concat();
            for tokenizer in tokenizers() {
                let wordwise = Wordwise::new(&tokenizer).expect("eligible");
                prop_assert_eq!(
                    wordwise.token_starts(&text).unwrap(),
                    encoded_starts(&tokenizer, &text).unwrap(),
                    "{:?}", text
                );
            }
        }
    }
}
