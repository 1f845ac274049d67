//! What a chunk inherits from the elements it covers: section, pages and kinds; and its id.

use crate::model::{Element, ElementKind};

/// The elements of a document ordered by start, for looking up what a span overlaps.
pub(super) struct ElementIndex<'a> {
    elements: &'a [Element],
    /// Positions in `elements` sorted by span start (stable, so reading order breaks ties);
    /// `None` when `elements` are in that order already (as parsers make them).
    order: Option<Vec<usize>>,
    /// Span starts and ends in sorted order (scanned without touching the elements).
    starts: Vec<usize>,
    ends: Vec<usize>,
    /// `max_end[i]` is the largest span end among the first `i + 1` sorted elements.
    max_end: Vec<usize>,
}

impl<'a> ElementIndex<'a> {
    /// Indexes `elements`.
    pub(super) fn new(elements: &'a [Element]) -> Self {
        let mut index = ElementIndex {
            elements,
            order: None,
            starts: Vec::with_capacity(elements.len()),
            ends: Vec::with_capacity(elements.len()),
            max_end: Vec::with_capacity(elements.len()),
        };
        index.fill();
        if !index.starts.is_sorted() {
            let mut order: Vec<usize> = (0..elements.len()).collect();
            order.sort_by_key(|&i| elements[i].span[0]);
            index.order = Some(order);
            index.fill();
        }
        index
    }

    /// Fills `starts`, `ends` and `max_end` from the elements in `order`.
    fn fill(&mut self) {
        self.starts.clear();
        self.ends.clear();
        self.max_end.clear();
        let mut max = 0;
        for i in 0..self.elements.len() {
            let span = self.get(i).span;
            max = span[1].max(max);
            self.starts.push(span[0]);
            self.ends.push(span[1]);
            self.max_end.push(max);
        }
    }

    /// The `i`-th element in sorted order.
    fn get(&self, i: usize) -> &'a Element {
        let elements: &'a [Element] = self.elements;
        match &self.order {
            Some(order) => &elements[order[i]],
            None => &elements[i],
        }
    }

    /// The headings in force at byte `at`: the section of the last element starting at or
    /// before it, plus that element's own text when it is a heading.
    pub(super) fn section_at(&self, at: usize) -> Vec<String> {
        let count = self.starts.partition_point(|&start| start <= at);
        let Some(element) = count.checked_sub(1).map(|i| self.get(i)) else {
            return Vec::new();
        };
        // A chunk inside a heading has it in its section, as its elements' sections have it:
        // at most its first characters, whatever its length.
        let heading = (element.kind == ElementKind::Heading)
            .then(|| crate::parse::render::section_label(&element.text));
        let mut section =
            Vec::with_capacity(element.section.len() + usize::from(heading.is_some()));
        section.extend(element.section.iter().cloned());
        section.extend(heading);
        section
    }

    /// Every section path the content in `span` covers, in document order, starting with
    /// `first` (the chunk's section): each element's section, and a heading's own path (its
    /// section and itself), so a chunk holding `## Install` is under Guide › Install even when
    /// it starts in Guide. `None` when that is `first` alone. Page markers and elements with
    /// no text add nothing.
    pub(super) fn sections(&self, span: [usize; 2], first: &[String]) -> Option<Vec<Vec<String>>> {
        let mut sections: Vec<Vec<String>> = Vec::new();
        for element in self.overlapping(span) {
            if element.kind == ElementKind::PageBreak || element.text.trim().is_empty() {
                continue;
            }
            let heading = (element.kind == ElementKind::Heading)
                .then(|| crate::parse::render::section_label(&element.text));
            let is_path = |path: &[String]| match &heading {
                Some(heading) => {
                    path.len() == element.section.len() + 1
                        && path.starts_with(&element.section)
                        && path.last() == Some(heading)
                }
                None => path == element.section.as_slice(),
            };
            if is_path(first) || sections.iter().rev().any(|path| is_path(path)) {
                continue;
            }
            let mut path = element.section.clone();
            path.extend(heading);
            sections.push(path);
        }
        (!sections.is_empty()).then(|| {
            sections.insert(0, first.to_vec());
            sections
        })
    }

    /// The elements overlapping `span` (empty elements count when they lie inside it).
    pub(super) fn overlapping(&self, span: [usize; 2]) -> impl Iterator<Item = &'a Element> {
        let [s, e] = span;
        let first = self.max_end.partition_point(|&end| end < s);
        (first..self.starts.len())
            .take_while(move |&i| self.starts[i] < e)
            .filter(move |&i| {
                let (start, end) = (self.starts[i], self.ends[i]);
                end > s || (start == end && start >= s)
            })
            .map(|i| self.get(i))
    }

    /// First and last page among the elements overlapping `span`, if any has a page, and the
    /// distinct kinds of those elements, in order of first appearance. A page-break marker
    /// counts only when nothing else has a page: one at either end of a chunk adds no page.
    pub(super) fn pages_and_kinds(&self, span: [usize; 2]) -> (Option<[u32; 2]>, Vec<ElementKind>) {
        let mut pages: Option<[u32; 2]> = None;
        let mut marker_pages: Option<[u32; 2]> = None;
        let mut kinds = Vec::new();
        // Bit `kind as u32` is set once `kind` is in `kinds`.
        let mut seen = 0u32;
        for element in self.overlapping(span) {
            if let Some([first, last]) = element.pages_within(span) {
                let range = match element.kind {
                    ElementKind::PageBreak => &mut marker_pages,
                    _ => &mut pages,
                };
                *range = Some(match *range {
                    None => [first, last],
                    Some([lo, hi]) => [lo.min(first), hi.max(last)],
                });
            }
            let bit = 1 << element.kind as u32;
            if seen & bit == 0 {
                seen |= bit;
                kinds.push(element.kind);
            }
        }
        (pages.or(marker_pages), kinds)
    }

    /// First and last page among the elements overlapping `span`, if any has a page.
    #[cfg(test)]
    fn pages(&self, span: [usize; 2]) -> Option<[u32; 2]> {
        self.pages_and_kinds(span).0
    }

    /// Distinct kinds of the elements overlapping `span`, in order of first appearance.
    #[cfg(test)]
    fn kinds(&self, span: [usize; 2]) -> Vec<ElementKind> {
        self.pages_and_kinds(span).1
    }
}

/// The stable id of a chunk: the first 32 hex digits of
/// blake3(doc_id + "\0" + fingerprint + "\0" + start + ":" + end).
#[cfg(test)]
pub(super) fn chunk_id(doc_id: &str, fingerprint: &str, span: [usize; 2]) -> String {
    ChunkIds::new(doc_id, fingerprint).id(span)
}

/// Makes the [`chunk_id`]s of one document: the hashed prefix is laid out once.
pub(super) struct ChunkIds {
    /// `doc_id + "\0" + fingerprint + "\0"`, then room for a span.
    input: Vec<u8>,
    prefix: usize,
}

impl ChunkIds {
    pub(super) fn new(doc_id: &str, fingerprint: &str) -> Self {
        let prefix = doc_id.len() + fingerprint.len() + 2;
        let mut input = Vec::with_capacity(prefix + 2 * MAX_DIGITS + 1);
        input.extend_from_slice(doc_id.as_bytes());
        input.push(0);
        input.extend_from_slice(fingerprint.as_bytes());
        input.push(0);
        ChunkIds { input, prefix }
    }

    /// The id of the chunk at `span`.
    pub(super) fn id(&mut self, span: [usize; 2]) -> String {
        self.input.truncate(self.prefix);
        // "start:end", written back to front.
        let mut text = [0u8; 2 * MAX_DIGITS + 1];
        let mut at = prepend_decimal(&mut text, 2 * MAX_DIGITS + 1, span[1]);
        at -= 1;
        text[at] = b':';
        at = prepend_decimal(&mut text, at, span[0]);
        self.input.extend_from_slice(&text[at..]);
        let hash = blake3::hash(&self.input);
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 32];
        for (pair, &byte) in hex.chunks_exact_mut(2).zip(hash.as_bytes()) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 15)];
        }
        String::from_utf8(hex.to_vec()).expect("hex digits are ASCII")
    }
}

/// Digits of the largest `usize`.
const MAX_DIGITS: usize = 20;

/// Writes the decimal digits of `n` into `out` so that they end at `end`; returns where they
/// begin.
fn prepend_decimal(out: &mut [u8], end: usize, mut n: usize) -> usize {
    let mut at = end;
    loop {
        at -= 1;
        out[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PageContinuation;

    fn el(kind: ElementKind, text: &str, span: [usize; 2], section: &[&str]) -> Element {
        Element {
            section: section.iter().map(|s| s.to_string()).collect(),
            ..Element::new(kind, text, span)
        }
    }

    #[test]
    fn sections_pages_kinds() {
        let mut elements = vec![
            el(ElementKind::Heading, "A", [0, 3], &[]),
            el(ElementKind::Paragraph, "p", [5, 10], &["A"]),
            el(ElementKind::Heading, "B", [12, 16], &["A"]),
            el(ElementKind::ListItem, "i", [18, 20], &["A", "B"]),
            el(ElementKind::PageBreak, "", [21, 21], &["A", "B"]),
            el(ElementKind::Paragraph, "q", [22, 30], &["A", "B"]),
        ];
        for (i, e) in elements.iter_mut().enumerate() {
            e.page = Some(1 + i as u32 / 3);
        }
        let index = ElementIndex::new(&elements);
        assert_eq!(index.section_at(0), vec!["A"]);
        assert_eq!(index.section_at(7), vec!["A"]);
        assert_eq!(index.section_at(12), vec!["A", "B"]);
        assert_eq!(index.section_at(25), vec!["A", "B"]);
        assert_eq!(
            index.kinds([4, 19]),
            vec![
                ElementKind::Paragraph,
                ElementKind::Heading,
                ElementKind::ListItem
            ]
        );
        assert_eq!(index.kinds([20, 22]), vec![ElementKind::PageBreak]);
        assert_eq!(index.pages([0, 11]), Some([1, 1]));
        assert_eq!(index.pages([9, 30]), Some([1, 2]));
        assert_eq!(index.kinds([10, 12]), vec![]);
        assert_eq!(ElementIndex::new(&[]).section_at(5), Vec::<String>::new());
        // Out of order, the same answers.
        let mut reversed = elements.clone();
        reversed.reverse();
        let unsorted = ElementIndex::new(&reversed);
        assert!(unsorted.order.is_some() && index.order.is_none());
        for span in [[0, 11], [4, 19], [9, 30], [10, 12], [20, 22], [25, 25]] {
            assert_eq!(unsorted.section_at(span[0]), index.section_at(span[0]));
            assert_eq!(unsorted.pages_and_kinds(span), index.pages_and_kinds(span));
        }
    }

    /// A span's sections: each element's, a heading's own path, in order and once each;
    /// `None` when only the chunk's own section is covered.
    #[test]
    fn sections_a_span_covers() {
        let elements = vec![
            el(ElementKind::Heading, "Guide", [0, 7], &[]),
            el(ElementKind::Heading, "Install", [9, 19], &["Guide"]),
            el(ElementKind::Paragraph, "p", [21, 30], &["Guide", "Install"]),
            el(ElementKind::PageBreak, "", [31, 31], &["Guide", "Install"]),
            el(ElementKind::Heading, "Use", [32, 38], &["Guide"]),
            el(ElementKind::Paragraph, "q", [40, 50], &["Guide", "Use"]),
        ];
        let index = ElementIndex::new(&elements);
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // An empty heading merged forward: the chunk is in Guide and covers Guide › Install.
        assert_eq!(
            index.sections([0, 30], &path(&["Guide"])),
            Some(vec![path(&["Guide"]), path(&["Guide", "Install"])])
        );
        // A section beginning inside the chunk; the page marker between adds nothing.
        assert_eq!(
            index.sections([21, 50], &path(&["Guide", "Install"])),
            Some(vec![path(&["Guide", "Install"]), path(&["Guide", "Use"])])
        );
        // Within one section: nothing beyond the chunk's own.
        assert_eq!(index.sections([21, 30], &path(&["Guide", "Install"])), None);
        assert_eq!(index.sections([9, 30], &path(&["Guide", "Install"])), None);
        assert_eq!(
            index
                .sections([22, 33], &path(&["Guide", "Install"]))
                .map(|s| s.len()),
            Some(2)
        );
    }

    #[test]
    fn a_paragraph_that_goes_on_to_the_next_page_counts_where_the_range_reaches() {
        let mut joined = el(ElementKind::Paragraph, "one two", [0, 20], &[]);
        joined.page = Some(3);
        joined.continued = vec![PageContinuation { page: 4, at: 12 }];
        let mut next = el(ElementKind::Paragraph, "three", [22, 30], &[]);
        next.page = Some(4);
        let elements = [joined, next];
        let index = ElementIndex::new(&elements);
        assert_eq!(index.pages([0, 20]), Some([3, 4]));
        assert_eq!(
            index.pages([0, 12]),
            Some([3, 3]),
            "ends where page 4 starts"
        );
        assert_eq!(index.pages([2, 13]), Some([3, 4]));
        assert_eq!(index.pages([12, 20]), Some([4, 4]));
        assert_eq!(index.pages([14, 30]), Some([4, 4]));
    }

    #[test]
    fn a_page_marker_adds_its_page_only_to_a_chunk_of_nothing_else() {
        let mut elements = vec![
            el(ElementKind::Paragraph, "one", [0, 10], &[]),
            el(ElementKind::PageBreak, "", [12, 15], &[]),
            el(ElementKind::Paragraph, "two", [17, 30], &[]),
        ];
        for (e, page) in elements.iter_mut().zip([1, 2, 2]) {
            e.page = Some(page);
        }
        let index = ElementIndex::new(&elements);
        assert_eq!(index.pages([0, 15]), Some([1, 1]), "trailing marker");
        assert_eq!(index.pages([5, 20]), Some([1, 2]));
        assert_eq!(index.pages([12, 15]), Some([2, 2]), "the marker alone");
        // A marker given the page before it, leading a chunk on the next page.
        elements[1].page = Some(1);
        let index = ElementIndex::new(&elements);
        assert_eq!(index.pages([12, 30]), Some([2, 2]), "leading marker");
        assert_eq!(
            index.kinds([12, 30]),
            vec![ElementKind::PageBreak, ElementKind::Paragraph]
        );
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = chunk_id("doc", "fp", [0, 10]);
        assert_eq!(a.len(), 32);
        assert_eq!(a, chunk_id("doc", "fp", [0, 10]));
        assert_ne!(a, chunk_id("doc", "fp", [0, 11]));
        assert_ne!(a, chunk_id("doc", "fp2", [0, 10]));
        assert_ne!(a, chunk_id("doc2", "fp", [0, 10]));
        let expected = blake3::hash(b"doc\0fp\x000:10").to_hex();
        assert_eq!(a, &expected[..32]);
        let mut ids = ChunkIds::new("doc", "fp");
        for span in [[0, 10], [1234567, 18446744073709551615], [7, 7]] {
            let input = format!("doc\0fp\0{}:{}", span[0], span[1]);
            assert_eq!(ids.id(span), &blake3::hash(input.as_bytes()).to_hex()[..32]);
        }
    }
}
