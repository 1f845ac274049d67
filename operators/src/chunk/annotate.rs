//! What a chunk inherits from the elements it covers: section, pages and kinds; and its id.

use crate::model::{Element, ElementKind};

/// The elements of a document ordered by start, for looking up what a span overlaps.
pub(super) struct ElementIndex<'a> {
    /// Elements sorted by span start (stable, so reading order breaks ties).
    sorted: Vec<&'a Element>,
    /// `max_end[i]` is the largest span end among `sorted[..=i]`.
    max_end: Vec<usize>,
}

impl<'a> ElementIndex<'a> {
    /// Indexes `elements`.
    pub(super) fn new(elements: &'a [Element]) -> Self {
        let mut sorted: Vec<&Element> = elements.iter().collect();
        sorted.sort_by_key(|e| e.span[0]);
        let max_end = sorted
            .iter()
            .scan(0, |max, e| {
                *max = (*max).max(e.span[1]);
                Some(*max)
            })
            .collect();
        ElementIndex { sorted, max_end }
    }

    /// The headings in force at byte `at`: the section of the last element starting at or
    /// before it, plus that element's own text when it is a heading.
    pub(super) fn section_at(&self, at: usize) -> Vec<String> {
        let count = self.sorted.partition_point(|e| e.span[0] <= at);
        let Some(element) = count.checked_sub(1).and_then(|i| self.sorted.get(i)) else {
            return Vec::new();
        };
        let mut section = element.section.clone();
        if element.kind == ElementKind::Heading {
            section.push(element.text.clone());
        }
        section
    }

    /// The elements overlapping `span` (empty elements count when they lie inside it).
    pub(super) fn overlapping(&self, span: [usize; 2]) -> impl Iterator<Item = &'a Element> {
        let [s, e] = span;
        let first = self.max_end.partition_point(|&end| end < s);
        self.sorted
            .get(first..)
            .unwrap_or_default()
            .iter()
            .copied()
            .take_while(move |el| el.span[0] < e)
            .filter(move |el| el.span[1] > s || (el.span[0] == el.span[1] && el.span[0] >= s))
    }

    /// First and last page among the elements overlapping `span`, if any has a page.
    pub(super) fn pages(&self, span: [usize; 2]) -> Option<[u32; 2]> {
        self.overlapping(span)
            .filter_map(|e| e.page)
            .fold(None, |acc, p| match acc {
                None => Some([p, p]),
                Some([lo, hi]) => Some([lo.min(p), hi.max(p)]),
            })
    }

    /// Distinct kinds of the elements overlapping `span`, in order of first appearance.
    pub(super) fn kinds(&self, span: [usize; 2]) -> Vec<ElementKind> {
        let mut kinds = Vec::new();
        for element in self.overlapping(span) {
            if !kinds.contains(&element.kind) {
                kinds.push(element.kind);
            }
        }
        kinds
    }
}

/// The stable id of a chunk: the first 32 hex digits of
/// blake3(doc_id + "\0" + fingerprint + "\0" + start + ":" + end).
pub(super) fn chunk_id(doc_id: &str, fingerprint: &str, span: [usize; 2]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(doc_id.as_bytes());
    hasher.update(b"\0");
    hasher.update(fingerprint.as_bytes());
    hasher.update(b"\0");
    hasher.update(format!("{}:{}", span[0], span[1]).as_bytes());
    let mut hex = hasher.finalize().to_hex().to_string();
    hex.truncate(32);
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
