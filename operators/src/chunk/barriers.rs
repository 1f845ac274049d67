//! Where overlap must stop: section starts (headings, and any change of section), page
//! changes and table edges.
//!
//! Overlap repeats the end of the previous chunk; it never reaches back over one of these
//! boundaries, so the repeated text is in the same section, on the same page and on the same
//! side of a table's edge as the new content it leads into. It repeats a heading whole or not
//! at all, and starts after a link or image it would begin inside (`text](url)` shows as
//! broken markup).

use crate::model::{ElementKind, ParsedDocument};

/// The boundaries of one document, each a byte range `[from, to]` of its markdown: a chunk
/// whose new content starts at or after `from` repeats nothing before `to`.
#[derive(Debug, Default)]
pub(super) struct Barriers {
    /// The `from` of every boundary, ascending.
    from: Vec<usize>,
    /// `floor[i]`: the largest `to` among the first `i + 1` boundaries.
    floor: Vec<usize>,
    /// Heading spans, ascending.
    headings: Vec<[usize; 2]>,
    /// Code block spans, ascending: overlap in them starts at a line's start.
    code: Vec<[usize; 2]>,
    /// The whole spans of links and images (none inside another), ascending.
    links: Vec<[usize; 2]>,
}

impl Barriers {
    /// The boundaries of `doc`: every heading's start, where the section changes, both edges
    /// of every table, and where the page changes (an element on another page than the one before, a paragraph going on
    /// to the next page, the whole of a page-break marker).
    pub(super) fn new(doc: &ParsedDocument) -> Self {
        let mut elements: Vec<_> = doc.elements.iter().collect();
        elements.sort_by_key(|e| e.span[0]);
        let mut zones: Vec<[usize; 2]> = Vec::new();
        let mut headings = Vec::new();
        let mut code = Vec::new();
        let mut page = None;
        let mut section: Option<&[String]> = None;
        for e in elements {
            let [start, end] = e.span;
            // A section left without a heading (notes after the last section, say). A heading
            // is a boundary of its own, and its content's section is not its own.
            if e.kind == ElementKind::Heading {
                section = None;
            } else {
                if section.is_some_and(|s| s != e.section.as_slice()) {
                    zones.push([start, start]);
                }
                section = Some(&e.section);
            }
            match e.kind {
                ElementKind::Heading => {
                    zones.push([start, start]);
                    headings.push(e.span);
                }
                ElementKind::Table => zones.extend([[start, start], [end, end]]),
                ElementKind::Code => code.push(e.span),
                ElementKind::PageBreak => zones.push([start, end.max(start)]),
                _ => {}
            }
            if let Some(p) = e.page {
                if page.is_some_and(|q| q != p) {
                    zones.push([start, start]);
                }
                page = Some(p);
            }
            for c in &e.continued {
                zones.push([c.at, c.at]);
                page = Some(c.page);
            }
        }
        zones.sort_unstable();
        let mut max = 0;
        let floor = zones
            .iter()
            .map(|&[_, to]| {
                max = max.max(to);
                max
            })
            .collect();
        Barriers {
            from: zones.iter().map(|z| z[0]).collect(),
            floor,
            headings,
            code,
            links: Vec::new(),
        }
    }

    /// These barriers with the links and images of `spans` (whole spans, ascending, none
    /// inside another), which overlap does not begin inside.
    pub(super) fn with_links(self, spans: &[[usize; 2]]) -> Self {
        Barriers {
            links: spans.to_vec(),
            ..self
        }
    }

    /// `at`, or the end of the link or image `at` lies inside (after its start).
    pub(super) fn outside_link(&self, at: usize) -> usize {
        let count = self.links.partition_point(|l| l[0] < at);
        match count.checked_sub(1).map(|i| self.links[i]) {
            Some([_, end]) if at < end => end,
            _ => at,
        }
    }

    /// `at`, or the end of the heading `at` lies inside (after its start).
    pub(super) fn outside_heading(&self, at: usize) -> usize {
        let count = self.headings.partition_point(|h| h[0] < at);
        match count.checked_sub(1).map(|i| self.headings[i]) {
            Some([_, end]) if at < end => end,
            _ => at,
        }
    }

    /// `at`, or, inside a code block, the start of the first line of `text` in `[at, end)`
    /// (`None` when there is none): overlap repeats whole lines of code. Overlap that would
    /// leave the block before `end` starts after it (`None` when nothing is left): a chunk
    /// opening with code lines or a bare closing fence renders that fence as an opening one.
    pub(super) fn code_line_start(&self, text: &str, at: usize, end: usize) -> Option<usize> {
        let Some([_, block_end]) = self.code_around(at) else {
            return Some(at);
        };
        if block_end <= end {
            return (block_end < end).then_some(block_end);
        }
        let line_start = at == 0 || text.as_bytes().get(at - 1) == Some(&b'\n');
        if line_start {
            return Some(at);
        }
        let next = at + text.get(at..end)?.find('\n')? + 1;
        (next < end).then_some(next)
    }

    /// `at`, or inside a code block, the start of its line when only spaces and tabs stand
    /// between them and that start is at or after `floor`: a chunk starting in code keeps its
    /// first line's indentation.
    pub(super) fn indented(&self, text: &str, at: usize, floor: usize) -> usize {
        if self.code_around(at).is_none() {
            return at;
        }
        let line = text[..at].rfind('\n').map_or(0, |newline| newline + 1);
        let indent = text[line..at].bytes().all(|b| b == b' ' || b == b'\t');
        if indent && line >= floor && line < at {
            line
        } else {
            at
        }
    }

    /// The code block `at` lies inside (after its start, before its end).
    pub(super) fn code_around(&self, at: usize) -> Option<[usize; 2]> {
        let count = self.code.partition_point(|c| c[0] < at);
        let block = self.code[..count].last()?;
        (at < block[1]).then_some(*block)
    }

    /// The earliest position the overlap of a chunk whose new content starts at `bound` may
    /// start at (0 when no boundary lies at or before `bound`).
    pub(super) fn floor(&self, bound: usize) -> usize {
        let count = self.from.partition_point(|&from| from <= bound);
        count.checked_sub(1).map_or(0, |i| self.floor[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Element, Format, Metadata, PageContinuation};

    fn doc(elements: Vec<Element>) -> ParsedDocument {
        ParsedDocument {
            doc_id: "d".into(),
            source: "d".into(),
            format: Format::Pdf,
            title: None,
            markdown: " ".repeat(100),
            elements,
            metadata: Metadata::new(),
            hash: "h".into(),
            debug: Default::default(),
        }
    }

    fn el(kind: ElementKind, span: [usize; 2], page: Option<u32>) -> Element {
        Element {
            page,
            ..Element::new(kind, "x", span)
        }
    }

    #[test]
    fn floors_follow_headings_pages_and_tables() {
        let mut joined = el(ElementKind::Paragraph, [30, 50], Some(2));
        joined.continued = vec![PageContinuation { page: 3, at: 40 }];
        let barriers = Barriers::new(&doc(vec![
            el(ElementKind::Paragraph, [0, 8], Some(1)),
            el(ElementKind::Heading, [10, 14], Some(1)),
            el(ElementKind::Paragraph, [16, 20], Some(1)),
            el(ElementKind::PageBreak, [22, 25], Some(2)),
            joined,
            el(ElementKind::Table, [52, 60], Some(3)),
            el(ElementKind::Paragraph, [62, 70], Some(3)),
        ]));
        let floors: Vec<usize> = [5, 10, 18, 22, 27, 45, 55, 62]
            .iter()
            .map(|&at| barriers.floor(at))
            .collect();
        assert_eq!(floors, vec![0, 10, 10, 25, 25, 40, 52, 60]);
        assert_eq!(Barriers::default().floor(50), 0);
        let inside: Vec<usize> = [9, 10, 11, 13, 14, 15]
            .iter()
            .map(|&at| barriers.outside_heading(at))
            .collect();
        assert_eq!(inside, vec![9, 10, 14, 14, 14, 15]);
    }

    /// Where the section changes without a heading (notes after the last section), overlap
    /// stops; after a heading, whose section is its parent's, only the heading is a boundary.
    #[test]
    fn a_change_of_section_is_a_boundary() {
        let in_section = |kind, span, path: &[&str]| Element {
            section: path.iter().map(|s| s.to_string()).collect(),
            ..el(kind, span, None)
        };
        let barriers = Barriers::new(&doc(vec![
            in_section(ElementKind::Heading, [0, 5], &[]),
            in_section(ElementKind::Paragraph, [6, 20], &["A"]),
            in_section(ElementKind::Paragraph, [21, 30], &["A"]),
            in_section(ElementKind::Paragraph, [31, 40], &[]),
        ]));
        let floors: Vec<usize> = [6, 21, 35].iter().map(|&at| barriers.floor(at)).collect();
        assert_eq!(floors, vec![0, 0, 31]);
    }
}
