//! Candidate chunk boundaries and how good each one is.
//!
//! Every byte position of the text gets a level: 5 element start, 4 paragraph break (start of
//! a blank line), 3 line break, 2 sentence boundary, 1 word start, 0 none. Levels 1, 3, 4 and 5
//! are computed in one pass up front. Sentence boundaries are only needed where a window has
//! nothing better, so they are computed lazily, one line at a time (sentences never span a
//! line break), which keeps the whole thing linear in the text length.

use unicode_segmentation::UnicodeSegmentation;

use super::scan::char_at;

/// Level of the start of a structural element.
pub(super) const ELEMENT: u8 = 5;
/// Level of the start of a blank line.
pub(super) const PARAGRAPH: u8 = 4;
/// Level of the start of a line.
pub(super) const LINE: u8 = 3;
/// Level of a sentence boundary.
pub(super) const SENTENCE: u8 = 2;
/// Level of the start of a word (after whitespace).
pub(super) const WORD: u8 = 1;

/// The break levels of one text.
pub(super) struct Breaks<'a> {
    text: &'a str,
    /// `levels[i]` is the level of a break at byte `i` (length `text.len() + 1`).
    levels: Vec<u8>,
    /// Sentence boundaries are known for every line that ends at or before this offset.
    sentences_until: usize,
}

impl<'a> Breaks<'a> {
    /// Computes the eager levels of `text`, with element starts at `element_starts`.
    pub(super) fn new(text: &'a str, element_starts: impl IntoIterator<Item = usize>) -> Self {
        let mut levels = vec![0u8; text.len() + 1];
        let mut raise = |at: usize, level: u8| {
            if let Some(l) = levels.get_mut(at) {
                *l = (*l).max(level);
            }
        };
        let bytes = text.as_bytes();
        let mut prev_ws = false;
        let mut line_start = 0;
        let mut line_blank = true;
        let mut i = 0;
        while i < bytes.len() {
            let (ws, len) = char_at(text, i);
            if !ws && prev_ws {
                raise(i, WORD);
            }
            if bytes[i] == b'\n' {
                if line_blank && line_start > 0 {
                    raise(line_start, PARAGRAPH);
                }
                raise(i + 1, LINE);
                line_start = i + 1;
                line_blank = true;
            } else if !ws {
                line_blank = false;
            }
            prev_ws = ws;
            i += len;
        }
        for start in element_starts {
            if text.is_char_boundary(start) {
                raise(start, ELEMENT);
            }
        }
        Breaks {
            text,
            levels,
            sentences_until: 0,
        }
    }

    /// The best break in `(after, up_to]`: the highest level present, furthest at that level.
    /// `None` when the window holds no break at all.
    ///
    /// Calls must come with non-decreasing `after` (sentence boundaries are filled in order).
    pub(super) fn best(&mut self, after: usize, up_to: usize) -> Option<usize> {
        let up_to = up_to.min(self.text.len());
        if after >= up_to {
            return None;
        }
        let mut top = self.top(after, up_to);
        if top < SENTENCE {
            self.fill_sentences(after);
            top = self.top(after, up_to);
        }
        if top == 0 {
            return None;
        }
        let window = self.levels.get(after + 1..=up_to)?;
        window
            .iter()
            .rposition(|&l| l == top)
            .map(|i| after + 1 + i)
    }

    /// The highest level in `(after, up_to]`.
    fn top(&self, after: usize, up_to: usize) -> u8 {
        self.levels
            .get(after + 1..=up_to)
            .and_then(|w| w.iter().copied().max())
            .unwrap_or(0)
    }

    /// Marks the sentence boundaries of the line containing `at`, unless already done.
    fn fill_sentences(&mut self, at: usize) {
        if at < self.sentences_until || at >= self.text.len() {
            return;
        }
        let bytes = self.text.as_bytes();
        let line_start = bytes[self.sentences_until..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(self.sentences_until, |i| self.sentences_until + i + 1);
        let line_end = bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.text.len(), |i| at + i + 1);
        if let Some(line) = self.text.get(line_start..line_end) {
            for (offset, _) in line.split_sentence_bound_indices() {
                if offset > 0
                    && let Some(l) = self.levels.get_mut(line_start + offset)
                {
                    *l = (*l).max(SENTENCE);
                }
            }
        }
        self.sentences_until = line_end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eager_levels() {
        let text = "# T\n\nOne two.\nx";
        let b = Breaks::new(text, [0, 5]);
        let levels: Vec<(usize, u8)> = b
            .levels
            .iter()
            .enumerate()
            .filter(|(_, l)| **l > 0)
            .map(|(i, l)| (i, *l))
            .collect();
        // Element start at 0, "T" word start, blank line start, "One" element start,
        // "two." word start, "x" line start.
        assert_eq!(
            levels,
            vec![
                (0, ELEMENT),
                (2, WORD),
                (4, PARAGRAPH),
                (5, ELEMENT),
                (9, WORD),
                (14, LINE)
            ]
        );
    }

    #[test]
    fn best_prefers_level_then_distance() {
        let text = "aa bb\ncc dd\nee ff";
        let mut b = Breaks::new(text, []);
        assert_eq!(b.best(0, 14), Some(12));
        assert_eq!(b.best(0, 5), Some(3));
        assert_eq!(b.best(12, 14), None);
        assert_eq!(b.best(12, 12), None);
    }

    #[test]
    fn sentences_are_found_lazily() {
        let text = "First one. Second one! Third one? Fourth\nNext line. Yes";
        let mut b = Breaks::new(text, []);
        assert_eq!(b.best(0, 30), Some(23));
        assert_eq!(b.best(23, 38), Some(34));
        assert_eq!(b.best(23, 39), Some(34));
        assert_eq!(b.best(41, text.len()), Some(52));
    }

    #[test]
    fn multibyte_text_never_breaks_inside_a_char() {
        let text = "ünï cödé. 日本語。テキスト\n\n🎉 ok";
        let mut b = Breaks::new(text, [1, 2, 3]);
        let mut after = 0;
        while let Some(at) = b.best(after, text.len() - 1) {
            assert!(text.is_char_boundary(at));
            after = at;
        }
    }
}
