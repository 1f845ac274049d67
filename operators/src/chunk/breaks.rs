//! Candidate chunk boundaries and how good each one is.
//!
//! Every byte position of the text has a level: 5 element start, 4 paragraph break (start of
//! a blank line), 3 line break, 2 sentence boundary, 1 word start, 0 none. Nothing is computed
//! up front: [`Breaks::best`] looks for each level in turn, from the end of the window.

use unicode_segmentation::UnicodeSegmentation;

use super::scan::char_at;

/// Level of the start of a structural element.
#[cfg(test)]
const ELEMENT: u8 = 5;
/// Level of the start of a blank line.
#[cfg(test)]
const PARAGRAPH: u8 = 4;
/// Level of the start of a line.
#[cfg(test)]
const LINE: u8 = 3;
/// Level of a sentence boundary.
#[cfg(test)]
const SENTENCE: u8 = 2;
/// Level of the start of a word (after whitespace).
#[cfg(test)]
const WORD: u8 = 1;

/// The break positions of one text, found on demand.
///
/// Only the window of each chunk is ever looked at, and from its end: the last element start
/// is a binary search, the last blank line, line or word start a short backward scan, and
/// sentence boundaries are computed once per line (sentences never span a line break). Chunks
/// of thousands of units therefore cost far less than a pass over their text.
pub(super) struct Breaks<'a> {
    text: &'a str,
    /// Element starts, sorted, on char boundaries.
    elements: Vec<usize>,
    /// The line whose sentence boundaries are in `sentences` (`[start, end)`, end past its
    /// newline).
    line: [usize; 2],
    /// Sentence boundaries inside `line`, absolute, ascending.
    sentences: Vec<usize>,
}

impl<'a> Breaks<'a> {
    /// The breaks of `text`, with element starts at `element_starts`.
    pub(super) fn new(text: &'a str, element_starts: impl IntoIterator<Item = usize>) -> Self {
        let mut elements: Vec<usize> = element_starts
            .into_iter()
            .filter(|&at| text.is_char_boundary(at))
            .collect();
        elements.sort_unstable();
        elements.dedup();
        Breaks {
            text,
            elements,
            line: [0, 0],
            sentences: Vec::new(),
        }
    }

    /// The best break in `(after, up_to]`: the highest level present, furthest at that level.
    /// `None` when the window holds no break at all. `after` and `up_to` are char boundaries.
    ///
    /// Calls should come with non-decreasing `after` (the sentences of one line are kept).
    pub(super) fn best(&mut self, after: usize, up_to: usize) -> Option<usize> {
        let up_to = up_to.min(self.text.len());
        if after >= up_to || !self.text.is_char_boundary(after) {
            return None;
        }
        self.last_element(after, up_to)
            .or_else(|| self.last_paragraph(after, up_to))
            .or_else(|| self.last_line(after, up_to))
            .or_else(|| self.last_sentence(after, up_to))
            .or_else(|| self.last_word(after, up_to))
    }

    fn last_element(&self, after: usize, up_to: usize) -> Option<usize> {
        let count = self.elements.partition_point(|&at| at <= up_to);
        count
            .checked_sub(1)
            .map(|i| self.elements[i])
            .filter(|&at| at > after)
    }

    /// The last start of a blank line (whitespace up to a newline) in the window.
    fn last_paragraph(&self, after: usize, up_to: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut end = up_to;
        while end > after {
            let newline = after + bytes[after..end].iter().rposition(|&b| b == b'\n')?;
            let start = newline + 1;
            if self.is_blank_line(start) {
                return Some(start);
            }
            end = newline;
        }
        None
    }

    /// Whether the line starting at `start` holds only whitespace and ends with a newline.
    fn is_blank_line(&self, start: usize) -> bool {
        let mut i = start;
        while i < self.text.len() {
            if self.text.as_bytes()[i] == b'\n' {
                return true;
            }
            let (ws, len) = char_at(self.text, i);
            if !ws {
                return false;
            }
            i += len;
        }
        false
    }

    /// The last line start (just after a newline) in the window.
    fn last_line(&self, after: usize, up_to: usize) -> Option<usize> {
        self.text.as_bytes()[after..up_to]
            .iter()
            .rposition(|&b| b == b'\n')
            .map(|i| after + i + 1)
    }

    /// The last sentence boundary in the window (which lies inside one line, or a line break
    /// would have been found).
    fn last_sentence(&mut self, after: usize, up_to: usize) -> Option<usize> {
        if !(self.line[0] <= after && after < self.line[1]) {
            let bytes = self.text.as_bytes();
            let start = bytes[..after]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let end = bytes[after..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(self.text.len(), |i| after + i + 1);
            self.line = [start, end];
            self.sentences = self
                .text
                .get(start..end)
                .map(|line| {
                    line.split_sentence_bound_indices()
                        .map(|(offset, _)| start + offset)
                        .filter(|&at| at > start)
                        .collect()
                })
                .unwrap_or_default();
        }
        let count = self.sentences.partition_point(|&at| at <= up_to);
        count
            .checked_sub(1)
            .map(|i| self.sentences[i])
            .filter(|&at| at > after)
    }

    /// The last word start (a non-whitespace char after whitespace) in the window.
    fn last_word(&self, after: usize, up_to: usize) -> Option<usize> {
        let text = self.text;
        let mut right_is_word = up_to < text.len() && !char_at(text, up_to).0;
        let window = text.get(after..up_to)?;
        for (offset, c) in window.char_indices().rev() {
            let ws = c.is_whitespace();
            if ws && right_is_word {
                return Some(after + offset + c.len_utf8());
            }
            right_is_word = !ws;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eager reference: a level for every byte (5 element start, 4 blank line start,
    /// 3 line start, 2 sentence boundary, 1 word start), the best break by a scan.
    fn reference(text: &str, element_starts: &[usize]) -> Vec<u8> {
        let mut levels = vec![0u8; text.len() + 1];
        let mut raise = |at: usize, level: u8| {
            if let Some(l) = levels.get_mut(at) {
                *l = (*l).max(level);
            }
        };
        let bytes = text.as_bytes();
        let (mut prev_ws, mut line_start, mut line_blank) = (false, 0, true);
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
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            for (offset, _) in line.split_sentence_bound_indices() {
                if offset > 0 {
                    raise(start + offset, SENTENCE);
                }
            }
            start += line.len();
        }
        for &at in element_starts {
            if text.is_char_boundary(at) {
                raise(at, ELEMENT);
            }
        }
        levels
    }

    fn reference_best(levels: &[u8], after: usize, up_to: usize) -> Option<usize> {
        let window = levels.get(after + 1..=up_to.min(levels.len() - 1))?;
        let top = *window.iter().max()?;
        (top > 0).then(|| after + 1 + window.iter().rposition(|&l| l == top).unwrap())
    }

    fn agree(text: &str, element_starts: &[usize]) {
        let levels = reference(text, element_starts);
        let bounds: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for &after in &bounds {
            let mut b = Breaks::new(text, element_starts.iter().copied());
            for &up_to in bounds.iter().filter(|&&u| u > after) {
                assert_eq!(
                    b.best(after, up_to),
                    reference_best(&levels, after, up_to),
                    "{text:?} ({after}, {up_to}]"
                );
            }
        }
    }

    #[test]
    fn agrees_with_the_eager_levels() {
        agree("# T\n\nOne two.\nx", &[0, 5]);
        agree("aa bb\ncc dd\nee ff", &[]);
        agree(
            "First one. Second one! Third one? Fourth\nNext line. Yes",
            &[],
        );
        agree("ünï cödé. 日本語。テキスト\n\n🎉 ok", &[1, 2, 3]);
        agree("\n\n\n  \n\t\nx  y\u{a0}z\r\n\r\nEnd. ", &[4, 9]);
        agree("  lead. And trail  ", &[]);
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
