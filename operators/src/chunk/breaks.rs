//! Candidate chunk boundaries and how good each one is.
//!
//! Every byte position of the text has a level: 5 element start, 4 paragraph break (start of
//! a blank line), 3 line break, 2 sentence boundary, 1 word start, 0 none. A soft line break
//! (one that only wraps running text, see `softbreak`) is no line break: the text after it
//! starts a sentence when the text before it ends one, else a word. No break is taken inside
//! a heading or between a heading and its section's first content (`headings`) while the
//! window holds another. Nothing is computed over the text up front: [`Breaks::best`] looks for
//! each level in turn, from the end of the window.

use super::annotate::ElementIndex;
use super::headings;
use super::scan::{before, char_at};
use super::sizer::is_word_char;
use super::softbreak;
use crate::model::{ElementKind, ParsedDocument};

/// Level of the start of a structural element.
const ELEMENT: u8 = 5;
/// Level of the start of a blank line.
const PARAGRAPH: u8 = 4;
/// Level of the start of a line.
pub(super) const LINE: u8 = 3;
/// Level of a sentence boundary.
pub(super) const SENTENCE: u8 = 2;
/// Level of the start of a word (after whitespace).
pub(super) const WORD: u8 = 1;

/// The break positions of one text, found on demand.
///
/// Only the window of each chunk is ever looked at, and from its end: the last element start
/// is a binary search, the last blank line, line or word start a short backward scan, and
/// sentence boundaries are computed once per block (lines joined by soft line breaks;
/// sentences never span a hard line break). Chunks of thousands of units therefore cost far
/// less than a pass over their text.
pub(super) struct Breaks<'a> {
    text: &'a str,
    /// Element starts, sorted, on char boundaries.
    elements: Vec<usize>,
    /// Ranges `(from, to]` that hold no break while the window has one outside them: headings
    /// with what binds them to their content.
    glued: Vec<[usize; 2]>,
    /// The starts of sections: of each heading, or run of headings, right after other
    /// content; sorted.
    sections: Vec<usize>,
    /// The elements, which tell soft line breaks; `None`: every line break is hard.
    index: Option<ElementIndex<'a>>,
    /// The block whose sentence boundaries are in `sentences` (`[start, end)`, end past its
    /// hard newline).
    block: [usize; 2],
    /// Sentence boundaries inside `block`, absolute, ascending.
    sentences: Vec<usize>,
}

/// A search for the last break of one level in a window `(after, up_to]`.
type Finder<'a> = fn(&mut Breaks<'a>, usize, usize) -> Option<usize>;

impl<'a> Breaks<'a> {
    /// The breaks of `text`, with element starts at `element_starts`, every line break hard
    /// and nothing glued.
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
            glued: Vec::new(),
            sections: Vec::new(),
            index: None,
            block: [0, 0],
            sentences: Vec::new(),
        }
    }

    /// The breaks of a document's markdown: its element starts (but for an element right after
    /// a heading), its soft line breaks, its headings bound to their content (`glued`, from
    /// `headings::glued`).
    pub(super) fn of(doc: &'a ParsedDocument, glued: Vec<[usize; 2]>) -> Self {
        let text = doc.markdown.as_str();
        let mut starts = Vec::with_capacity(doc.elements.len());
        let mut sections = Vec::new();
        let mut after_heading = false;
        for e in &doc.elements {
            if !after_heading {
                starts.push(e.span[0]);
            }
            let heading = e.kind == ElementKind::Heading;
            if heading && !after_heading && text.is_char_boundary(e.span[0]) {
                sections.push(e.span[0]);
            }
            after_heading = heading;
        }
        sections.sort_unstable();
        let mut breaks = Breaks::new(text, starts);
        breaks.glued = glued;
        breaks.sections = sections;
        breaks.index = Some(ElementIndex::new(&doc.elements));
        breaks
    }

    /// The best break in `(after, up_to]`: the highest level present, furthest at that level,
    /// outside the glued ranges (inside them only when the window has no other break). `None`
    /// when the window holds no break at all. `after` and `up_to` are char boundaries.
    ///
    /// Calls with non-decreasing `after` cost least (the sentences of one block are kept).
    pub(super) fn best(&mut self, after: usize, up_to: usize) -> Option<usize> {
        self.best_level(after, up_to).map(|(at, _)| at)
    }

    /// [`Breaks::best`] with its level ([`WORD`] for a word start, higher ones above).
    pub(super) fn best_level(&mut self, after: usize, up_to: usize) -> Option<(usize, u8)> {
        let up_to = up_to.min(self.text.len());
        if after >= up_to || !self.text.is_char_boundary(after) {
            return None;
        }
        self.best_of_levels(after, up_to, true).or_else(|| {
            (!self.glued.is_empty())
                .then(|| self.best_of_levels(after, up_to, false))
                .flatten()
        })
    }

    /// The start of the last section that begins in `(after, before)`, if any.
    pub(super) fn section_start(&self, after: usize, before: usize) -> Option<usize> {
        let count = self.sections.partition_point(|&at| at < before);
        count
            .checked_sub(1)
            .map(|i| self.sections[i])
            .filter(|&at| at > after)
    }

    /// The earliest break of at least `level` in `(after, up_to]` outside the glued ranges.
    pub(super) fn earliest(&mut self, after: usize, up_to: usize, level: u8) -> Option<usize> {
        let mut earliest = None;
        let mut up_to = up_to.min(self.text.len());
        while up_to > after {
            match self.best_of_levels(after, up_to, true) {
                Some((at, found)) if found >= level => {
                    earliest = Some(at);
                    up_to = before(self.text, at);
                }
                _ => break,
            }
        }
        earliest
    }

    /// The last word start in `(after, before)` outside the glued ranges, if any.
    pub(super) fn word_before(&mut self, after: usize, before: usize) -> Option<usize> {
        let head = self.text.get(..before.min(self.text.len()))?;
        let up_to = before - head.chars().next_back()?.len_utf8();
        self.last(Self::last_word, after, up_to, true)
    }

    /// The best break in the window with its level, outside the glued ranges when `unglued`.
    fn best_of_levels(&mut self, after: usize, up_to: usize, unglued: bool) -> Option<(usize, u8)> {
        let levels: [(Finder<'a>, u8); 5] = [
            (Self::last_element, ELEMENT),
            (Self::last_paragraph, PARAGRAPH),
            (Self::last_line, LINE),
            (Self::last_sentence, SENTENCE),
            (Self::last_word, WORD),
        ];
        levels
            .into_iter()
            .find_map(|(find, level)| self.last(find, after, up_to, unglued).map(|at| (at, level)))
    }

    /// The last break `find` finds in the window, outside the glued ranges when `unglued`.
    fn last(
        &mut self,
        find: Finder<'a>,
        after: usize,
        up_to: usize,
        unglued: bool,
    ) -> Option<usize> {
        let mut up_to = up_to;
        while up_to > after {
            let at = find(self, after, up_to)?;
            match headings::holding(&self.glued, at).filter(|_| unglued) {
                // Before the glued range's start, which lies before `at`.
                Some([from, _]) => up_to = from,
                None => return Some(at),
            }
        }
        None
    }

    fn last_element(&mut self, after: usize, up_to: usize) -> Option<usize> {
        let count = self.elements.partition_point(|&at| at <= up_to);
        count
            .checked_sub(1)
            .map(|i| self.elements[i])
            .filter(|&at| at > after)
    }

    /// The last start of a blank line (whitespace up to a newline) in the window.
    fn last_paragraph(&mut self, after: usize, up_to: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut end = up_to;
        while end > after {
            let newline = after + memchr::memrchr(b'\n', &bytes[after..end])?;
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

    /// Whether the newline at byte `at` only wraps running text.
    fn is_soft(&self, at: usize) -> bool {
        self.index
            .as_ref()
            .is_some_and(|index| softbreak::is_soft(self.text, index, at))
    }

    /// The last line start (just after a hard newline) in the window.
    fn last_line(&mut self, after: usize, up_to: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut end = up_to;
        while let Some(i) = memchr::memrchr(b'\n', &bytes[after..end]) {
            let newline = after + i;
            if !self.is_soft(newline) {
                return Some(newline + 1);
            }
            end = newline;
        }
        None
    }

    /// The last sentence boundary in the window, block by block from its end.
    fn last_sentence(&mut self, after: usize, up_to: usize) -> Option<usize> {
        let mut up_to = up_to;
        while up_to > after {
            self.load_block(up_to - 1);
            let count = self.sentences.partition_point(|&at| at <= up_to);
            if let Some(i) = count.checked_sub(1) {
                return Some(self.sentences[i]).filter(|&at| at > after);
            }
            up_to = self.block[0];
        }
        None
    }

    /// Makes `block` the block holding byte `at`, with its sentence boundaries.
    fn load_block(&mut self, at: usize) {
        if self.block[0] <= at && at < self.block[1] {
            return;
        }
        let bytes = self.text.as_bytes();
        let mut soft = Vec::new();
        let mut start = at;
        loop {
            match memchr::memrchr(b'\n', &bytes[..start]) {
                Some(i) if self.is_soft(i) => {
                    soft.push(i);
                    start = i;
                }
                Some(i) => break start = i + 1,
                None => break start = 0,
            }
        }
        soft.reverse();
        let mut end = at;
        loop {
            match memchr::memchr(b'\n', &bytes[end..]) {
                Some(i) if self.is_soft(end + i) => {
                    soft.push(end + i);
                    end += i + 1;
                }
                Some(i) => break end += i + 1,
                None => break end = bytes.len(),
            }
        }
        soft.iter_mut().for_each(|at| *at -= start);
        self.block = [start, end];
        self.sentences = softbreak::block_sentences(self.text, [start, end], &soft)
            .into_iter()
            .map(|[s, _]| s)
            .filter(|&s| s > start)
            .collect();
    }

    /// The last word start (a non-whitespace char after whitespace) in the window.
    fn last_word(&mut self, after: usize, up_to: usize) -> Option<usize> {
        let text = self.text;
        // The char right of each boundary looked at, from the window's end.
        let mut right = text.get(up_to..).and_then(|rest| rest.chars().next());
        let window = text.get(after..up_to)?;
        for (offset, c) in window.char_indices().rev() {
            if right.is_some_and(|r| word_starts(c, r)) {
                return Some(after + offset + c.len_utf8());
            }
            right = Some(c);
        }
        None
    }
}

/// Whether a word starts between `left` and `right`: after whitespace, or at a CJK ideograph
/// or kana, a word of its own written without spaces (not at the punctuation after one).
fn word_starts(left: char, right: char) -> bool {
    !right.is_whitespace() && (left.is_whitespace() || is_word_char(right))
}

#[cfg(test)]
mod tests {
    use super::super::tests::parsed;
    use super::*;

    /// The eager reference: a level for every byte (5 element start, 4 blank line start,
    /// 3 line start after a hard newline, 2 sentence boundary in blocks whose `soft` newlines
    /// read as spaces, 1 word start).
    fn reference(text: &str, element_starts: &[usize], soft: &[usize]) -> Vec<u8> {
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
            let cjk = text[i..].chars().next().is_some_and(is_word_char);
            if !ws && (prev_ws || (i > 0 && cjk)) {
                raise(i, WORD);
            }
            if bytes[i] == b'\n' {
                if line_blank && line_start > 0 {
                    raise(line_start, PARAGRAPH);
                }
                if !soft.contains(&i) {
                    raise(i + 1, LINE);
                }
                line_start = i + 1;
                line_blank = true;
            } else if !ws {
                line_blank = false;
            }
            prev_ws = ws;
            i += len;
        }
        let mut joined = text.as_bytes().to_vec();
        for &at in soft {
            joined[at] = b' ';
            if at > 0 && joined[at - 1] == b'\r' {
                joined[at - 1] = b' ';
            }
        }
        let joined = String::from_utf8(joined).unwrap();
        let mut start = 0;
        for block in joined.split_inclusive('\n') {
            for (offset, _) in softbreak::sentence_bounds(block) {
                if offset > 0 {
                    raise(start + offset, SENTENCE);
                }
            }
            start += block.len();
        }
        for &at in element_starts {
            if text.is_char_boundary(at) {
                raise(at, ELEMENT);
            }
        }
        levels
    }

    /// The best break in `(after, up_to]` by a scan: outside `glued` when there is one there.
    fn reference_best(
        levels: &[u8],
        glued: &[[usize; 2]],
        after: usize,
        up_to: usize,
    ) -> Option<usize> {
        let best = |free: &dyn Fn(usize) -> bool| {
            let window = (after + 1..=up_to.min(levels.len() - 1)).filter(|&at| free(at));
            let top = window.clone().map(|at| levels[at]).max()?;
            (top > 0).then(|| window.filter(|&at| levels[at] == top).last().unwrap())
        };
        best(&|at| glued.iter().all(|&[from, to]| at <= from || at > to))
            .or_else(|| best(&|_| true))
    }

    fn compare(mut make: impl FnMut() -> Breaks<'static>, levels: &[u8]) {
        let breaks = make();
        let (text, glued) = (breaks.text, breaks.glued.clone());
        let bounds: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for &after in &bounds {
            let mut b = make();
            for &up_to in bounds.iter().filter(|&&u| u > after) {
                assert_eq!(
                    b.best(after, up_to),
                    reference_best(levels, &glued, after, up_to),
                    "{text:?} ({after}, {up_to}]"
                );
            }
        }
    }

    fn agree(text: &'static str, element_starts: &'static [usize]) {
        let levels = reference(text, element_starts, &[]);
        compare(
            || Breaks::new(text, element_starts.iter().copied()),
            &levels,
        );
    }

    /// Agreement on a parsed Markdown document: its element starts, soft line breaks and
    /// glued headings (it must have some of both).
    fn agree_on_document(md: &str) {
        let doc: &'static ParsedDocument = Box::leak(Box::new(parsed("a.md", md)));
        let breaks = Breaks::of(doc, headings::glued(doc));
        let text = doc.markdown.as_str();
        let soft: Vec<usize> = memchr::memchr_iter(b'\n', text.as_bytes())
            .filter(|&at| breaks.is_soft(at))
            .collect();
        assert!(!soft.is_empty() && !breaks.glued.is_empty(), "{md:?}");
        let levels = reference(text, &breaks.elements, &soft);
        compare(|| Breaks::of(doc, headings::glued(doc)), &levels);
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
    fn agrees_with_the_eager_levels_on_documents() {
        agree_on_document("# T\n\nOne two. Three\nfour five.\nSix\r\nseven. Eight\n");
        agree_on_document(
            "# Part\n\n## Ch 1\n\nText one. More\ntext.\n\n## Empty\n\n## Ch 2\n\n- item that\n  wraps. Yes\n- two\n",
        );
        agree_on_document(
            "Intro.\n\n```\nlet a;\nlet b;\n```\n\n> quote that\n> wraps. On\n\nHard  \nbreak. Soft\nbreak.\n\n# End\n",
        );
    }

    #[test]
    fn a_wrapped_line_ranks_as_a_word_or_sentence_boundary() {
        let md = "Alpha beta gamma delta.\nEpsilon zeta eta\ntheta iota. Kappa.\n\n```\nlet x = 1; y\nlet z\n```\n";
        let doc = parsed("w.md", md);
        let mut b = Breaks::of(&doc, headings::glued(&doc));
        let at = |s: &str| md.find(s).unwrap();
        // After "delta." the wrapped line starts a sentence, after "eta" only a word.
        assert_eq!(b.best(0, at("theta") + 3), Some(at("Epsilon")));
        assert_eq!(b.best(at("Epsilon"), at("theta") + 3), Some(at("theta")));
        assert_eq!(b.best(at("Epsilon"), at("Kappa") + 2), Some(at("Kappa")));
        // Lines of code keep their rank.
        assert_eq!(b.best(at("let x"), at("let z") + 4), Some(at("let z")));
        // Without the document's elements every line break counts as a line.
        let mut plain = Breaks::new(md, []);
        assert_eq!(plain.best(0, at("theta") + 3), Some(at("theta")));
    }

    #[test]
    fn no_break_between_a_heading_and_its_content_while_another_fits() {
        let md = "Some text.\n\n# Part\n\n## Chapter\n\nFirst words of the chapter.\n";
        let doc = parsed("h.md", md);
        let mut b = Breaks::of(&doc, headings::glued(&doc));
        let at = |s: &str| md.find(s).unwrap();
        // Before the heading, not after it.
        assert_eq!(b.best(0, at("words")), Some(at("# Part")));
        // From the heading on: the chapter's first words come along.
        assert_eq!(b.best(at("# Part"), at("of the") - 1), Some(at("words")));
        // Nothing of the content fits: the headings may end a chunk after all.
        assert_eq!(b.best(at("# Part"), at("First")), Some(at("First") - 1));
        assert_eq!(
            b.best(at("# Part"), at("Chapter")),
            Some(at("## Chapter") - 1)
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
