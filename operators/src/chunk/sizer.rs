//! Measuring text in the unit chunk sizes are given in.
//!
//! A [`Sizer`] knows how big a piece of text is and how far text can extend within a budget;
//! the chunker only talks to this trait, so other units (e.g. model tokens) can be added.

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

#[cfg(test)]
mod tests {
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
}
