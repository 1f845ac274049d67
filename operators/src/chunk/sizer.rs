//! Measuring text in the unit chunk sizes are given in.
//!
//! A [`Sizer`] knows how big a piece of text is and how far text can extend within a budget;
//! the chunker only talks to this trait. [`TokenSizer`] counts model tokens: it tokenizes a
//! document once and answers every question about a span of it from the token offsets, so
//! `fit` is a binary search rather than a re-tokenization.

use std::path::Path;

use tokenizers::Tokenizer;

use super::scan::char_at;

/// Measures text in one unit.
pub trait Sizer {
    /// The size of `text`.
    fn size(&self, text: &str) -> usize;

    /// The largest char-boundary `end` (≥ `start`) such that `size(&text[start..end]) <= limit`.
    fn fit(&self, text: &str, start: usize, limit: usize) -> usize;

    /// The smallest char-boundary `start` (≤ `end`) such that
    /// `size(&text[start..end]) <= limit`: where the last `limit` units before `end` begin.
    fn fit_back(&self, text: &str, end: usize, limit: usize) -> usize;
}

/// Counts Unicode scalar values.
#[derive(Debug, Clone, Copy, Default)]
pub struct CharSizer;

impl Sizer for CharSizer {
    fn size(&self, text: &str) -> usize {
        text.chars().count()
    }

    fn fit(&self, text: &str, start: usize, limit: usize) -> usize {
        let Some(rest) = text.get(start..) else {
            return start.min(text.len());
        };
        // ASCII shortcut: `limit` bytes are `limit` chars.
        if let Some(head) = rest.as_bytes().get(..limit)
            && head.is_ascii()
        {
            return start + limit;
        }
        match rest.char_indices().nth(limit) {
            Some((offset, _)) => start + offset,
            None => text.len(),
        }
    }

    fn fit_back(&self, text: &str, end: usize, limit: usize) -> usize {
        let Some(head) = text.get(..end) else {
            return end.min(text.len());
        };
        if limit == 0 {
            return end;
        }
        match head.char_indices().rev().nth(limit - 1) {
            Some((offset, _)) => offset,
            None => 0,
        }
    }
}

/// Counts whitespace-separated words.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordSizer;

impl Sizer for WordSizer {
    fn size(&self, text: &str) -> usize {
        let mut words = 0;
        let mut in_word = false;
        let mut i = 0;
        while i < text.len() {
            let (ws, len) = char_at(text, i);
            if !ws && !in_word {
                words += 1;
            }
            in_word = !ws;
            i += len;
        }
        words
    }

    fn fit(&self, text: &str, start: usize, limit: usize) -> usize {
        if !text.is_char_boundary(start) {
            return start.min(text.len());
        }
        // The end is where word number `limit + 1` begins.
        let mut words = 0;
        let mut in_word = false;
        let mut i = start;
        while i < text.len() {
            let (ws, len) = char_at(text, i);
            if !ws && !in_word {
                if words == limit {
                    return i;
                }
                words += 1;
            }
            in_word = !ws;
            i += len;
        }
        text.len()
    }

    fn fit_back(&self, text: &str, end: usize, limit: usize) -> usize {
        let Some(head) = text.get(..end) else {
            return end.min(text.len());
        };
        // The start is just after the end of word number `limit + 1` counted backwards.
        let mut words = 0;
        let mut in_word = false;
        for (offset, c) in head.char_indices().rev() {
            if c.is_whitespace() {
                in_word = false;
            } else if !in_word {
                in_word = true;
                if words == limit {
                    return offset + c.len_utf8();
                }
                words += 1;
            }
        }
        0
    }
}

/// Loads a Hugging Face `tokenizer.json` for counting: no truncation, no padding.
pub fn load_tokenizer(path: &Path) -> Result<Tokenizer, String> {
    let mut tokenizer = Tokenizer::from_file(path)
        .map_err(|e| format!("cannot load tokenizer {}: {e}", path.display()))?;
    tokenizer
        .with_truncation(None)
        .map_err(|e| format!("tokenizer {}: {e}", path.display()))?;
    tokenizer.with_padding(None);
    Ok(tokenizer)
}

/// Counts model tokens in one document (the `text` it was made for), without special tokens.
///
/// The document is tokenized once; a span's size is the number of tokens that *start* inside
/// it (byte offsets of the whole-document tokenization), which makes `size` a pair of binary
/// searches and `fit` one. Text that is not a slice of the document is tokenized on its own.
pub struct TokenSizer<'a> {
    tokenizer: &'a Tokenizer,
    text: &'a str,
    /// Byte offset where each token starts, non-decreasing.
    starts: Vec<usize>,
}

impl<'a> TokenSizer<'a> {
    /// Tokenizes `text` with `tokenizer`.
    pub fn new(tokenizer: &'a Tokenizer, text: &'a str) -> Result<Self, String> {
        let starts = token_starts(tokenizer, text)?;
        Ok(TokenSizer {
            tokenizer,
            text,
            starts,
        })
    }

    /// Tokens in the document.
    pub fn total(&self) -> usize {
        self.starts.len()
    }

    /// Tokens starting in `start..end` of the document.
    fn count(&self, start: usize, end: usize) -> usize {
        let a = self.starts.partition_point(|&s| s < start);
        let b = self.starts.partition_point(|&s| s < end);
        b.saturating_sub(a)
    }

    /// Where `piece` lies in the document, when it is a slice of it.
    fn offset_of(&self, piece: &str) -> Option<usize> {
        let base = self.text.as_ptr() as usize;
        let at = (piece.as_ptr() as usize).checked_sub(base)?;
        (at + piece.len() <= self.text.len()).then_some(at)
    }

    /// Whether `text` is the document itself.
    fn is_document(&self, text: &str) -> bool {
        text.as_ptr() == self.text.as_ptr() && text.len() == self.text.len()
    }
}

fn token_starts(tokenizer: &Tokenizer, text: &str) -> Result<Vec<usize>, String> {
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

impl Sizer for TokenSizer<'_> {
    fn size(&self, text: &str) -> usize {
        match self.offset_of(text) {
            Some(at) => self.count(at, at + text.len()),
            None => token_starts(self.tokenizer, text).map_or(0, |s| s.len()),
        }
    }

    fn fit(&self, text: &str, start: usize, limit: usize) -> usize {
        if !self.is_document(text) {
            return match TokenSizer::new(self.tokenizer, text) {
                Ok(other) => other.fit(text, start, limit),
                Err(_) => start.min(text.len()),
            };
        }
        if !text.is_char_boundary(start) {
            return start.min(text.len());
        }
        // The end is where token number `limit + 1` from `start` begins.
        let first = self.starts.partition_point(|&s| s < start);
        match self.starts.get(first + limit) {
            Some(&end) => end.max(start),
            None => text.len(),
        }
    }

    fn fit_back(&self, text: &str, end: usize, limit: usize) -> usize {
        if !self.is_document(text) {
            return match TokenSizer::new(self.tokenizer, text) {
                Ok(other) => other.fit_back(text, end, limit),
                Err(_) => end.min(text.len()),
            };
        }
        if !text.is_char_boundary(end) {
            return end.min(text.len());
        }
        // Tokens starting before `end`; the start is just past token number `limit + 1`
        // counted backwards (on the next char boundary).
        let before = self.starts.partition_point(|&s| s < end);
        if before <= limit {
            return 0;
        }
        let excluded = self.starts[before - limit - 1];
        let mut at = excluded + 1;
        while at < text.len() && !text.is_char_boundary(at) {
            at += 1;
        }
        at.min(end)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn chars() {
        let s = CharSizer;
        let text = "héllo wörld";
        assert_eq!(s.size(text), 11);
        assert_eq!(s.fit(text, 0, 2), 3);
        assert_eq!(s.fit(text, 0, 100), text.len());
        assert_eq!(s.fit(text, 1, 0), 1);
        assert_eq!(s.fit_back(text, text.len(), 3), text.len() - 3);
        assert_eq!(s.fit_back(text, text.len(), 5), 7);
        assert_eq!(s.fit_back(text, 3, 10), 0);
        assert_eq!(s.fit_back(text, 3, 0), 3);
        // Out-of-range or off-boundary positions never panic.
        assert_eq!(s.fit(text, 2, 1), 2);
        assert_eq!(s.fit(text, 99, 1), text.len());
    }

    #[test]
    fn words() {
        let s = WordSizer;
        let text = "  one two\tthree\n four ";
        assert_eq!(s.size(text), 4);
        assert_eq!(s.fit(text, 0, 0), 2);
        assert_eq!(s.fit(text, 0, 2), 10);
        assert_eq!(s.size(&text[..10]), 2);
        assert_eq!(s.fit(text, 0, 4), text.len());
        assert_eq!(s.fit(text, 3, 1), 6);
        assert_eq!(s.fit_back(text, text.len(), 1), 15);
        assert_eq!(s.size(&text[15..]), 1);
        assert_eq!(s.fit_back(text, text.len(), 2), 9);
        assert_eq!(s.fit_back(text, text.len(), 9), 0);
    }

    #[test]
    fn fit_is_maximal() {
        let text = "a bb ccc  dddd é ñ  ";
        for sizer in [&CharSizer as &dyn Sizer, &WordSizer] {
            for start in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                for limit in 0..8 {
                    let end = sizer.fit(text, start, limit);
                    assert!(sizer.size(&text[start..end]) <= limit);
                    if let Some(c) = text[end..].chars().next() {
                        let next = end + c.len_utf8();
                        assert!(sizer.size(&text[start..next]) > limit);
                    }
                    let back = sizer.fit_back(text, start, limit);
                    assert!(sizer.size(&text[back..start]) <= limit);
                    if let Some(c) = text[..back].chars().next_back() {
                        let prev = back - c.len_utf8();
                        assert!(sizer.size(&text[prev..start]) > limit);
                    }
                }
            }
        }
    }

    /// The tokenizer committed for tests (all-MiniLM-L6-v2, Apache-2.0).
    pub(crate) fn test_tokenizer() -> Tokenizer {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/all-MiniLM-L6-v2.tokenizer.json");
        load_tokenizer(&path).expect("test tokenizer loads")
    }

    #[test]
    fn tokens() {
        let tokenizer = test_tokenizer();
        let text = "Hello, wonderful world! Tokenization héllo.";
        let s = TokenSizer::new(&tokenizer, text).unwrap();
        let direct = tokenizer.encode(text, false).unwrap().len();
        assert_eq!(s.total(), direct);
        assert_eq!(s.size(text), direct);
        assert_eq!(s.size(&text[..5]), 1);
        assert_eq!(s.size("not a slice of the document"), 6);
        // The end is where the third token ("wonderful") starts.
        assert_eq!(&text[..s.fit(text, 0, 2)], "Hello, ");
        assert_eq!(s.fit(text, 0, 1000), text.len());
        let back = s.fit_back(text, text.len(), 2);
        assert!(s.size(&text[back..]) <= 2);
        // A long document is not truncated (the tokenizer.json sets max_length 128).
        let long = "word ".repeat(1000);
        assert_eq!(TokenSizer::new(&tokenizer, &long).unwrap().total(), 1000);
    }

    #[test]
    fn tokens_fit_is_maximal() {
        let tokenizer = test_tokenizer();
        let text = "a bb ccc, dddd é ñ unbelievable 日本語 🎉🎉 tokenization  ";
        let sizer = TokenSizer::new(&tokenizer, text).unwrap();
        for start in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            for limit in 0..8 {
                let end = sizer.fit(text, start, limit);
                assert!(sizer.size(&text[start..end]) <= limit);
                if let Some(c) = text[end..].chars().next() {
                    let next = end + c.len_utf8();
                    assert!(sizer.size(&text[start..next]) > limit);
                }
                let back = sizer.fit_back(text, start, limit);
                assert!(sizer.size(&text[back..start]) <= limit);
            }
        }
    }
}
