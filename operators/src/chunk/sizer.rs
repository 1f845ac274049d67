//! Measuring text in the unit chunk sizes are given in.
//!
//! A [`Sizer`] knows how big a piece of text is and how far text can extend within a budget;
//! the chunker only talks to this trait. [`TokenSizer`] counts model tokens: it tokenizes a
//! document once (each distinct word once, for tokenizers that allow it: `wordwise`) and
//! answers every question about a span of it from the token offsets, so `fit` is a binary
//! search rather than a re-tokenization. [`CharSizer`] counts UTF-8 lead bytes, a block of
//! bytes at a time; [`DocumentCharSizer`] counts a document's once, and answers about its
//! spans from those counts.

use std::path::Path;

use tokenizers::Tokenizer;

use super::wordwise::{Wordwise, encoded_starts};

/// Measures text in one unit.
pub trait Sizer {
    /// The size of `text`.
    fn size(&self, text: &str) -> usize;

    /// Whether `size(text) <= limit` (which may be known without measuring all of `text`).
    fn fits(&self, text: &str, limit: usize) -> bool {
        self.size(text) <= limit
    }

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
        count_chars(text.as_bytes())
    }

    fn fits(&self, text: &str, limit: usize) -> bool {
        text.len() <= limit || nth_char(text.as_bytes(), limit).is_none()
    }

    fn fit(&self, text: &str, start: usize, limit: usize) -> usize {
        let Some(rest) = text.get(start..) else {
            return start.min(text.len());
        };
        match nth_char(rest.as_bytes(), limit) {
            Some(offset) => start + offset,
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
        nth_char_back(head.as_bytes(), limit).unwrap_or(0)
    }
}

/// Counts Unicode scalar values in one document (the `text` it was made for) from the char
/// counts of its blocks of bytes, counted once: the size of a slice of it is two lookups and
/// two partial blocks, a fit a lookup and a scan within a block. Other text is counted as
/// [`CharSizer`] counts it, with the same results.
pub struct DocumentCharSizer<'a> {
    text: &'a str,
    /// `before[i]` is the number of chars in `text[..i * TABLE_BLOCK]`, for every
    /// `i * TABLE_BLOCK` up to the text's length.
    before: Vec<usize>,
}

/// The bytes of a block of [`DocumentCharSizer`]'s table: counting a block in one go is the
/// cost of the table, counting within one the cost of a lookup. Below 256, so that each of
/// [`chars_in`]'s byte-wide sums holds a block's count.
const TABLE_BLOCK: usize = 240;

impl<'a> DocumentCharSizer<'a> {
    /// Counts the chars of `text` block by block.
    pub fn new(text: &'a str) -> Self {
        let mut before = Vec::with_capacity(text.len() / TABLE_BLOCK + 1);
        let mut chars = 0;
        before.push(chars);
        for block in text.as_bytes().chunks_exact(TABLE_BLOCK) {
            chars += chars_in(block);
            before.push(chars);
        }
        DocumentCharSizer { text, before }
    }

    /// Chars in the document before byte `at` (at most the document's length).
    fn chars_before(&self, at: usize) -> usize {
        let block = at / TABLE_BLOCK;
        self.before[block] + chars_in(&self.text.as_bytes()[block * TABLE_BLOCK..at])
    }

    /// Where char number `n` (from 0) of the document begins; `None` when it has at most `n`
    /// chars.
    fn char_start(&self, n: usize) -> Option<usize> {
        // The last block with at most `n` chars before it holds the char, if any does. A char
        // has at least one byte, so it is no block before the one of byte `n`, and in mostly
        // ASCII text it is that block.
        let guess = (n / TABLE_BLOCK).min(self.before.len() - 1);
        let after = &self.before[guess + 1..];
        let block = match after.first() {
            Some(&chars) if chars <= n => guess + after.partition_point(|&chars| chars <= n),
            _ => guess,
        };
        let from = block * TABLE_BLOCK;
        nth_char(&self.text.as_bytes()[from..], n - self.before[block]).map(|at| from + at)
    }
}

impl Sizer for DocumentCharSizer<'_> {
    fn size(&self, text: &str) -> usize {
        match offset_in(self.text, text) {
            Some(at) => self.chars_before(at + text.len()) - self.chars_before(at),
            None => CharSizer.size(text),
        }
    }

    fn fits(&self, text: &str, limit: usize) -> bool {
        match offset_in(self.text, text) {
            Some(_) => text.len() <= limit || self.size(text) <= limit,
            None => CharSizer.fits(text, limit),
        }
    }

    fn fit(&self, text: &str, start: usize, limit: usize) -> usize {
        if !is_whole(self.text, text) || !text.is_char_boundary(start) {
            return CharSizer.fit(text, start, limit);
        }
        let target = self.chars_before(start).saturating_add(limit);
        self.char_start(target).unwrap_or(text.len())
    }

    fn fit_back(&self, text: &str, end: usize, limit: usize) -> usize {
        if !is_whole(self.text, text) || !text.is_char_boundary(end) || limit == 0 {
            return CharSizer.fit_back(text, end, limit);
        }
        match self.chars_before(end).checked_sub(limit) {
            Some(first) => self.char_start(first).unwrap_or(end),
            None => 0,
        }
    }
}

/// Whether `piece` is the whole of `text` (the same slice, not only equal contents).
fn is_whole(text: &str, piece: &str) -> bool {
    piece.as_ptr() == text.as_ptr() && piece.len() == text.len()
}

/// Where `piece` lies in `text`, when it is a slice of it.
fn offset_in(text: &str, piece: &str) -> Option<usize> {
    let at = (piece.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    (at + piece.len() <= text.len()).then_some(at)
}

/// Whether `byte` begins a char in UTF-8 (is no continuation byte).
#[inline]
fn begins_char(byte: u8) -> bool {
    (byte as i8) >= -0x40
}

/// Chars are counted this many bytes at a time (a loop the compiler vectorizes).
const BLOCK: usize = 64;

/// The chars beginning in `block` (at most 255 bytes): a byte-wide sum, which vectorizes far
/// better than a count into `usize`.
#[inline]
fn chars_in(block: &[u8]) -> usize {
    usize::from(
        block
            .iter()
            .fold(0u8, |sum, &b| sum.wrapping_add(u8::from(begins_char(b)))),
    )
}

/// The chars beginning in `bytes`, a block at a time.
fn count_chars(bytes: &[u8]) -> usize {
    let mut blocks = bytes.chunks_exact(BLOCK);
    let whole: usize = blocks.by_ref().map(chars_in).sum();
    whole + chars_in(blocks.remainder())
}

/// Where char number `n` (from 0) of the UTF-8 `bytes` begins: the offset with exactly `n`
/// chars before it; `None` when there are at most `n` chars.
fn nth_char(bytes: &[u8], n: usize) -> Option<usize> {
    // `left` more chars to pass from `at`: the next `left` bytes hold at most that many, so
    // counting them never goes past the char, and few such windows reach it.
    let mut left = n;
    let mut at: usize = 0;
    while left > 0 {
        let end = at.saturating_add(left).min(bytes.len());
        if end == at {
            return None;
        }
        left -= count_chars(&bytes[at..end]);
        at = end;
    }
    bytes[at..]
        .iter()
        .position(|&b| begins_char(b))
        .map(|i| at + i)
}

/// Where the `n`-th char (`n` ≥ 1) from the end of the UTF-8 `bytes` begins: the offset with
/// exactly `n` chars after it; `None` when there are fewer than `n` chars.
fn nth_char_back(bytes: &[u8], n: usize) -> Option<usize> {
    // As `nth_char`, backwards: windows of `left` bytes before `start`.
    let mut left = n;
    let mut start = bytes.len();
    while left > 0 {
        let from = start.saturating_sub(left);
        if from == start {
            return None;
        }
        left -= count_chars(&bytes[from..start]);
        start = from;
    }
    bytes[start..]
        .iter()
        .position(|&b| begins_char(b))
        .map(|i| start + i)
}

/// Counts words: runs of characters between whitespace. Text written without spaces is still
/// measured: a CJK ideograph or kana is a word of its own, and a run longer than
/// [`MAX_WORD_CHARS`] (Thai, a base64 blob) counts one word per [`MAX_WORD_CHARS`] characters,
/// so a chunk size in words bounds every chunk.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordSizer;

/// Characters of the longest word; a longer run of non-space characters is several words.
pub const MAX_WORD_CHARS: usize = 32;

/// Whether `c` is written without spaces between words and counts as a word itself.
pub(super) fn is_word_char(c: char) -> bool {
    matches!(c as u32,
        0x3005..=0x3007 // 々 〆 〇
        | 0x3021..=0x3029 | 0x3031..=0x3035 | 0x3038..=0x303C // Hangzhou numerals, repeat marks
        | 0x3040..=0x3098 | 0x309D..=0x30FA | 0x30FC..=0x30FF // Kana (not its voicing marks, nor ・)
        | 0xFF66..=0xFF9D // half-width Katakana (not its voicing marks)
        | 0x3400..=0x4DBF // CJK Extension A
        | 0x4E00..=0x9FFF // CJK Unified Ideographs
        | 0xF900..=0xFAFF // CJK Compatibility Ideographs
        | 0x20000..=0x3FFFF) // CJK Extensions B and later
}

/// Whether `c` is punctuation of CJK text (`。`, `、`, `「`, `・`, full-width `！` and `？`):
/// like a space between words, it is no word of its own (`北京。` is two words, as
/// `Paris.` is one).
fn is_cjk_punctuation(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x3004 | 0x3008..=0x3020 | 0x3030 | 0x3036..=0x3037 | 0x303D..=0x303F
        | 0x30FB // Katakana middle dot
        | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65)
}

/// Whether `c` is a voicing mark of kana written apart from it (decomposed, as macOS writes
/// it, or half-width): part of its kana's word, never one of its own.
fn is_kana_voicing_mark(c: char) -> bool {
    matches!(c as u32, 0x3099..=0x309C | 0xFF9E..=0xFF9F)
}

/// Whether `c` separates words as a space does, and is none itself.
fn between_words(c: char) -> bool {
    c.is_whitespace() || is_cjk_punctuation(c)
}

/// Counts words one character at a time, in either direction.
#[derive(Default)]
struct WordCounter {
    words: usize,
    /// Characters of the current word so far (0: between words).
    run: usize,
}

impl WordCounter {
    /// Whether `c`, coming next, begins a word.
    fn begins(&self, c: char) -> bool {
        !between_words(c)
            && !is_kana_voicing_mark(c)
            && (is_word_char(c) || self.run == 0 || self.run == MAX_WORD_CHARS)
    }

    /// Takes the next character; returns whether it begins a word.
    fn step(&mut self, c: char) -> bool {
        // A voicing mark written apart belongs to its kana, in either direction.
        if is_kana_voicing_mark(c) {
            return false;
        }
        let begins = self.begins(c);
        self.words += usize::from(begins);
        self.run = if between_words(c) || is_word_char(c) {
            0
        } else if begins {
            1
        } else {
            self.run + 1
        };
        begins
    }
}

impl Sizer for WordSizer {
    fn size(&self, text: &str) -> usize {
        let mut counter = WordCounter::default();
        for c in text.chars() {
            counter.step(c);
        }
        counter.words
    }

    fn fit(&self, text: &str, start: usize, limit: usize) -> usize {
        if !text.is_char_boundary(start) {
            return start.min(text.len());
        }
        // The end is where word number `limit + 1` begins.
        let mut counter = WordCounter::default();
        for (offset, c) in text[start..].char_indices() {
            if counter.words == limit && counter.begins(c) {
                return start + offset;
            }
            counter.step(c);
        }
        text.len()
    }

    fn fit_back(&self, text: &str, end: usize, limit: usize) -> usize {
        let Some(head) = text.get(..end) else {
            return end.min(text.len());
        };
        // The start is just after the end of word number `limit + 1` counted backwards.
        let mut counter = WordCounter::default();
        for (offset, c) in head.char_indices().rev() {
            if counter.step(c) && counter.words == limit + 1 {
                return offset + c.len_utf8();
            }
        }
        0
    }
}

/// Reads a Hugging Face `tokenizer.json`. The error, to follow the file's name, says whether it
/// cannot be read, is not JSON, or is JSON of another kind.
pub fn read_tokenizer(path: &Path) -> Result<Tokenizer, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    Tokenizer::from_bytes(&bytes).map_err(|e| {
        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            format!(
                "is JSON but not a Hugging Face tokenizer (the `tokenizer.json` saved with a model): {e}"
            )
        } else {
            format!("is not a tokenizer.json, not even JSON: {e}")
        }
    })
}

/// Loads a Hugging Face `tokenizer.json` for counting: no truncation, no padding.
pub fn load_tokenizer(path: &Path) -> Result<Tokenizer, String> {
    let mut tokenizer =
        read_tokenizer(path).map_err(|e| format!("the tokenizer {} {e}", path.display()))?;
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

    /// `f` of a sizer made for `text`, a text other than the document; `at` (clamped to
    /// `text`) when `text` cannot be tokenized.
    fn for_other(&self, text: &str, at: usize, f: impl FnOnce(&TokenSizer<'_>) -> usize) -> usize {
        match TokenSizer::new(self.tokenizer, text) {
            Ok(other) => f(&other),
            Err(_) => at.min(text.len()),
        }
    }
}

/// Characters one token may cover before it counts as several. WordPiece makes a "word" of
/// more than 100 characters one `[UNK]` (Thai, written without spaces, is such a word), which
/// would make a whole document one token and one chunk.
const MAX_TOKEN_CHARS: usize = 100;

/// Characters of each piece a longer token counts as: more than [`MAX_TOKEN_CHARS`], so that a
/// chunk holding any of the token holds a word WordPiece still reads as one `[UNK]`. A piece of
/// 100 characters or fewer, alone in a chunk, is a word of its own, and its pieces (60 for 95
/// random letters) took the chunk past `size` where it had counted one.
const TOKEN_PIECE_CHARS: usize = MAX_TOKEN_CHARS + 1;

/// Token starts of `text`: word by word when the tokenizer allows it (the same result, faster),
/// else from the full tokenization; a token over [`MAX_TOKEN_CHARS`] counts once per
/// [`TOKEN_PIECE_CHARS`] characters, its last piece the rest, up to twice that.
fn token_starts(tokenizer: &Tokenizer, text: &str) -> Result<Vec<usize>, String> {
    let starts = match Wordwise::new(tokenizer) {
        Some(wordwise) => wordwise.token_starts(text)?,
        None => encoded_starts(tokenizer, text)?,
    };
    Ok(split_long_tokens(text, starts))
}

/// `starts` with a start added every [`TOKEN_PIECE_CHARS`] characters inside longer tokens,
/// while what follows it is a whole piece too.
fn split_long_tokens(text: &str, starts: Vec<usize>) -> Vec<usize> {
    // Where the piece from `from` ends, when the token (ending at `to`) goes on for a piece more.
    let piece_end = |from: usize, to: usize| {
        let bytes = &text.as_bytes()[from..to];
        nth_char(bytes, 2 * TOKEN_PIECE_CHARS - 1)?;
        nth_char(bytes, TOKEN_PIECE_CHARS)
    };
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    if !starts
        .iter()
        .zip(ends.clone())
        .any(|(&s, e)| piece_end(s, e.max(s)).is_some())
    {
        return starts;
    }
    let mut split = Vec::with_capacity(starts.len());
    for (&start, end) in starts.iter().zip(ends) {
        split.push(start);
        let mut at = start;
        while let Some(offset) = piece_end(at, end.max(at)) {
            at += offset;
            split.push(at);
        }
    }
    split
}

impl Sizer for TokenSizer<'_> {
    fn size(&self, text: &str) -> usize {
        match offset_in(self.text, text) {
            Some(at) => self.count(at, at + text.len()),
            None => token_starts(self.tokenizer, text).map_or(0, |s| s.len()),
        }
    }

    fn fit(&self, text: &str, start: usize, limit: usize) -> usize {
        if !is_whole(self.text, text) {
            return self.for_other(text, start, |other| other.fit(text, start, limit));
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
        if !is_whole(self.text, text) {
            return self.for_other(text, end, |other| other.fit_back(text, end, limit));
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
    fn a_tokenizer_file_that_is_not_one_says_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tokenizer.json");
        std::fs::write(&file, "{\"vocab\": {\"a\": 1}}").unwrap();
        let err = load_tokenizer(&file).unwrap_err();
        assert!(
            err.contains("is JSON but not a Hugging Face tokenizer"),
            "{err}"
        );
        std::fs::write(&file, "<html>not found</html>").unwrap();
        let err = load_tokenizer(&file).unwrap_err();
        assert!(err.contains("not even JSON"), "{err}");
        let err = load_tokenizer(&dir.path().join("missing.json")).unwrap_err();
        assert!(err.contains("missing.json cannot be read"), "{err}");
    }

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

    /// CJK punctuation is no word (as `.` after `Paris` is none), and half-width katakana are
    /// kana: each a word, as their full-width forms.
    #[test]
    fn cjk_punctuation_is_no_word_and_half_width_kana_are_kana() {
        let s = WordSizer;
        assert_eq!(s.size("北京。上海、广州「深圳」"), 8);
        assert_eq!(s.size("Paris。"), 1);
        assert_eq!(s.size("ｱｲｳｴｵ"), s.size("アイウエオ"));
        assert_eq!(s.size("ｱｲｳｴｵ"), 5);
        assert_eq!(s.fit("北京。上海。", 0, 2), "北京。".len());
        assert_fits_are_maximal(&s, "北京。上海、 ｱｲ・ウエ！", false);
        // A voicing mark written apart is part of its kana; 々 and 〇 are words.
        assert_eq!(s.size("カ\u{3099}キ\u{3099}ｶﾞｷﾞ"), 4);
        assert_eq!(s.fit("カ\u{3099}キ\u{3099}", 0, 1), "カ\u{3099}".len());
        assert_eq!(s.size("人々 二〇二六年"), 7);
        assert_fits_are_maximal(&s, "カ\u{3099}キ ｶﾞｷﾞ人々", false);
    }

    /// From every char boundary of `text` and for limits 0 to 7: `fit` and `fit_back` stay
    /// within the limit, `fit` takes as much as it can, and so does `fit_back` when
    /// `back_is_maximal`.
    fn assert_fits_are_maximal(sizer: &dyn Sizer, text: &str, back_is_maximal: bool) {
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
                if let Some(c) = text[..back].chars().next_back()
                    && back_is_maximal
                {
                    let prev = back - c.len_utf8();
                    assert!(sizer.size(&text[prev..start]) > limit);
                }
            }
        }
    }

    #[test]
    fn fit_is_maximal() {
        let text = "a bb ccc  dddd é ñ  ";
        let document = DocumentCharSizer::new(text);
        for sizer in [&CharSizer as &dyn Sizer, &WordSizer, &document] {
            assert_fits_are_maximal(sizer, text, true);
        }
    }

    proptest::proptest! {
        /// Char counting by blocks of bytes agrees with `chars()` on texts longer than a
        /// block, of chars of every UTF-8 length.
        #[test]
        fn chars_by_blocks(text in "[a é日🎉\n]{0,300}", at in 0usize..1200, limit in 0usize..400) {
            let s = CharSizer;
            let at = (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap();
            proptest::prop_assert_eq!(s.size(&text), text.chars().count());
            proptest::prop_assert_eq!(s.fits(&text, limit), text.chars().count() <= limit);
            let fit = text[at..].char_indices().nth(limit).map_or(text.len(), |(o, _)| at + o);
            proptest::prop_assert_eq!(s.fit(&text, at, limit), fit);
            let back = match limit {
                0 => at,
                _ => text[..at].char_indices().rev().nth(limit - 1).map_or(0, |(o, _)| o),
            };
            proptest::prop_assert_eq!(s.fit_back(&text, at, limit), back);
        }

        /// The document char sizer answers as the char sizer does, for the document, its
        /// slices and other text, at every position (char boundary or not).
        #[test]
        fn document_chars_agree(text in "[a é日🎉\n]{0,300}", at in 0usize..1200, to in 0usize..1200, limit in 0usize..400) {
            let (chars, document) = (CharSizer, DocumentCharSizer::new(&text));
            let at = (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap();
            let to = (at..=to.max(at).min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap();
            for piece in [text.as_str(), &text[at..to], &text[..at], &text.clone()] {
                proptest::prop_assert_eq!(document.size(piece), chars.size(piece));
                proptest::prop_assert_eq!(document.fits(piece, limit), chars.fits(piece, limit));
            }
            for position in [at, at + 1, to, text.len() + 1] {
                proptest::prop_assert_eq!(document.fit(&text, position, limit), chars.fit(&text, position, limit));
                proptest::prop_assert_eq!(document.fit_back(&text, position, limit), chars.fit_back(&text, position, limit));
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
        assert_fits_are_maximal(&sizer, text, false);
    }
}
