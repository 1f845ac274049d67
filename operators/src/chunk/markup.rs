//! Markup that shows no text: page markers and thematic breaks (`---`), lines of bare HTML
//! tags (`<a id="x"></a>`), link reference definitions (`[x]: url`).
//!
//! A line counts as such markup when its whole text matches and no element with text covers
//! it (so a `---` inside a code block is content). A piece made only of such lines and
//! whitespace never becomes a chunk of its own ([`absorb`]), and a chunk's section is taken at
//! its first visible content ([`Visible::start`]).

use super::annotate::ElementIndex;
use super::config::Settings;
use super::sizer::Sizer;
use super::strategy::Piece;
use crate::model::{ElementKind, ParsedDocument};

/// Finds the first visible content of spans of one text, asked in document order: the text
/// is scanned about once, and only lines that may be markup are read to their end.
pub(super) struct Visible<'t> {
    text: &'t str,
    /// The start of the line of the last position asked about; no newline lies between it
    /// and `scanned`.
    line_start: usize,
    scanned: usize,
    /// The last line judged: its start, and its end when it is markup.
    judged: Option<(usize, Option<usize>)>,
}

impl<'t> Visible<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Visible {
            text,
            line_start: 0,
            scanned: 0,
            judged: None,
        }
    }

    /// The first byte of visible content in `span`; `None` when it holds only whitespace and
    /// markup.
    pub(super) fn start(&mut self, span: [usize; 2], index: &ElementIndex<'_>) -> Option<usize> {
        let [mut at, e] = span;
        let e = e.min(self.text.len());
        while at < e {
            match self.markup_end(at) {
                Some(end) if !shows_text(index, [at, end.min(e)]) => at = end + 1,
                _ => {
                    let rest = self.text.get(at..e)?;
                    return rest.find(|c: char| !c.is_whitespace()).map(|i| at + i);
                }
            }
        }
        None
    }

    /// The end (before its newline) of the line holding byte `at` when that line is markup.
    fn markup_end(&mut self, at: usize) -> Option<usize> {
        let start = self.line_start(at);
        if let Some((judged, end)) = self.judged
            && judged == start
        {
            return end;
        }
        let bytes = self.text.as_bytes();
        let first = bytes[start..].iter().find(|&&b| b != b' ' && b != b'\t');
        let end = match first {
            Some(b) if b.is_ascii() && !b"-*_<[\r\n".contains(b) => None,
            _ => {
                let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
                self.text
                    .get(start..end)
                    .filter(|line| is_markup_line(line))
                    .map(|_| end)
            }
        };
        self.judged = Some((start, end));
        end
    }

    /// The start of the line holding byte `at`.
    fn line_start(&mut self, at: usize) -> usize {
        let bytes = self.text.as_bytes();
        if at < self.line_start {
            self.line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
            self.scanned = at;
        } else if at > self.scanned {
            if let Some(i) = memchr::memrchr(b'\n', &bytes[self.scanned..at]) {
                self.line_start = self.scanned + i + 1;
            }
            self.scanned = at;
        }
        self.line_start
    }
}

/// Whether an element with text (not a page break) overlaps `span`.
fn shows_text(index: &ElementIndex<'_>, span: [usize; 2]) -> bool {
    index
        .overlapping(span)
        .any(|e| e.kind != ElementKind::PageBreak && !e.text.trim().is_empty())
}

/// Whether `line` (without its newline) shows no text when rendered: blank, a thematic break
/// or page marker, only HTML tags, or a link reference definition.
pub(super) fn is_markup_line(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || is_rule(trimmed) || is_tags(trimmed) || is_link_definition(line)
}

/// Three or more of one of `-`, `*`, `_`, spaces and tabs between them.
fn is_rule(line: &str) -> bool {
    let mut marks = line.chars().filter(|c| !matches!(c, ' ' | '\t'));
    let Some(mark @ ('-' | '*' | '_')) = marks.next() else {
        return false;
    };
    let mut count = 1;
    for c in marks {
        if c != mark {
            return false;
        }
        count += 1;
    }
    count >= 3
}

/// Only HTML tags (`<a id="x">`, `</a>`, `<br/>`, `<!-- … -->`) and whitespace; an autolink
/// (`<https://…>`) is text.
fn is_tags(line: &str) -> bool {
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return true;
        }
        let Some(tag) = rest.strip_prefix('<') else {
            return false;
        };
        let name = tag.strip_prefix('/').unwrap_or(tag);
        if !tag.starts_with('!') {
            let len = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(name.len());
            let after = name[len..].chars().next();
            if !name.starts_with(|c: char| c.is_ascii_alphabetic())
                || !matches!(after, Some('>' | '/' | ' ' | '\t'))
            {
                return false;
            }
        }
        let Some(close) = tag.find('>') else {
            return false;
        };
        rest = &tag[close + 1..];
    }
}

/// `[label]: destination "title"`, indented at most 3 spaces; a footnote (`[^1]: …`) is text.
fn is_link_definition(line: &str) -> bool {
    let body = line.trim_start_matches(' ');
    if line.len() - body.len() > 3 {
        return false;
    }
    let Some(label) = body.strip_prefix('[') else {
        return false;
    };
    let Some(close) = label.find(']') else {
        return false;
    };
    let name = &label[..close];
    !name.trim().is_empty()
        && !name.starts_with('^')
        && !name.contains('[')
        && name.chars().count() <= 999
        && label[close + 1..].starts_with(':')
}

/// Pieces without visible content are merged into a neighbour: the next piece when the result
/// fits in `size`, else the previous one; tables take none. One that fits nowhere is dropped
/// (it has no text to lose). Consecutive such pieces go to the next piece from the nearest on,
/// the rest to the previous piece.
pub(super) fn absorb(
    pieces: Vec<Piece>,
    doc: &ParsedDocument,
    sizer: &dyn Sizer,
    settings: &Settings,
) -> Vec<Piece> {
    let text = doc.markdown.as_str();
    // Most documents have no markup-only piece: look at the text alone first.
    let mut visible = Visible::new(text);
    let none = ElementIndex::new(&[]);
    if pieces
        .iter()
        .all(|p| visible.start(p.span, &none).is_some())
    {
        return pieces;
    }
    let index = ElementIndex::new(&doc.elements);
    let mut visible = Visible::new(text);
    let fits = |[s, e]: [usize; 2]| text.get(s..e).is_some_and(|t| sizer.fits(t, settings.size));
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    let mut pending: Vec<[usize; 2]> = Vec::new();
    for mut piece in pieces {
        if visible.start(piece.span, &index).is_none() {
            pending.push(piece.span);
            continue;
        }
        if !piece.table {
            while let Some(&[s, _]) = pending.last()
                && fits([s, piece.span[1]])
            {
                piece.span[0] = s;
                pending.pop();
            }
        }
        append(&mut out, &pending, fits);
        pending.clear();
        out.push(piece);
    }
    append(&mut out, &pending, fits);
    out
}

/// Extends the last piece of `out` over the first `pending` spans that fit with it.
fn append(out: &mut [Piece], pending: &[[usize; 2]], fits: impl Fn([usize; 2]) -> bool) {
    let Some(last) = out.last_mut().filter(|p| !p.table) else {
        return;
    };
    for &[_, e] in pending {
        let end = e.max(last.span[1]);
        if !fits([last.span[0], end]) {
            break;
        }
        last.span[1] = end;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parsed;
    use super::super::{Chunker, Settings, Strategy};
    use super::*;
    use crate::model::{ChunkSet, Element, Format, Metadata};

    fn chunk(doc: &ParsedDocument, strategy: Strategy, size: usize) -> ChunkSet {
        Chunker::new(strategy, Settings::chars(size), None, "fp")
            .unwrap()
            .chunk(doc)
            .unwrap()
    }

    /// Every chunk shows text; `text == markdown[span]`.
    fn assert_visible(doc: &ParsedDocument, set: &ChunkSet) {
        let index = ElementIndex::new(&doc.elements);
        let mut visible = Visible::new(&doc.markdown);
        for c in &set.chunks {
            assert_eq!(doc.markdown[c.span[0]..c.span[1]], c.text);
            assert!(visible.start(c.span, &index).is_some(), "{:?}", c.text);
        }
    }

    #[test]
    fn markup_lines() {
        for line in [
            "",
            "  ",
            "---",
            "* * *",
            "<a id=\"x\"></a>",
            "</div>",
            "<br/> <img src=\"a.png\">",
            "<!-- note -->",
            "[x]: https://example.com \"Title\"",
            "   [long label]:",
        ] {
            assert!(is_markup_line(line), "{line:?}");
        }
        for line in [
            "text",
            "--",
            "- item",
            "<https://example.com>",
            "<b>bold</b>",
            "[^1]: a footnote",
            "[x] a task",
            "    [x]: indented code",
        ] {
            assert!(!is_markup_line(line), "{line:?}");
        }
    }

    const DOC: &str = "# Hello\n\nAn introduction that is long enough to fill most of one chunk here.\n\n\
                       <a id=\"next-steps\"></a>\n\n### Next steps\n\nRun the program and read what it prints.\n\n\
                       See [the guide][guide].\n\n[guide]: https://example.com/guide\n\
                       [ref]: https://example.com/reference\n";

    #[test]
    fn markup_joins_a_neighbour() {
        let doc = parsed("a.md", DOC);
        for strategy in [Strategy::Recursive, Strategy::ByHeading { level: 3 }] {
            let set = chunk(&doc, strategy, 100);
            assert_visible(&doc, &set);
            let texts: Vec<&str> = set.chunks.iter().map(|c| c.text.as_str()).collect();
            assert_eq!(
                texts[1],
                "<a id=\"next-steps\"></a>\n\n### Next steps\n\nRun the program and read what it prints.",
                "{texts:?}"
            );
            assert!(texts[2].starts_with("See [the guide]"), "{texts:?}");
            assert!(texts[2].ends_with("reference"), "{texts:?}");
            assert_eq!(texts.len(), 3);
        }
    }

    #[test]
    fn absorb_prefers_the_next_piece_then_the_previous() {
        let md = "Alpha text.\n\n<a id=\"one\"></a>\n\n[two]: x\n\nBeta.\n\n---\n\n| t |\n\n---";
        let doc = parsed("a.md", md);
        let at = |s: &str| md.find(s).unwrap();
        let piece = |from: &str, to: &str, table| Piece {
            span: [at(from), at(to) + to.len()],
            table,
            header: None,
        };
        let pieces = vec![
            piece("Alpha", "text.", false),
            piece("<a", "</a>", false),
            piece("[two]", ": x", false),
            piece("Beta", "Beta.", false),
            piece("---", "---", false),
            piece("| t", "t |", true),
            Piece {
                span: [md.len() - 3, md.len()],
                table: false,
                header: None,
            },
        ];
        let spans = |size| -> Vec<&str> {
            let settings = Settings::chars(size);
            absorb(
                pieces.clone(),
                &doc,
                &super::super::sizer::CharSizer,
                &settings,
            )
            .iter()
            .map(|p| &md[p.span[0]..p.span[1]])
            .collect()
        };
        // Both go to the next piece; the page marker before a table goes back to "Beta.", the
        // one after it has no room anywhere.
        assert_eq!(
            spans(40),
            vec![
                "Alpha text.",
                "<a id=\"one\"></a>\n\n[two]: x\n\nBeta.\n\n---",
                "| t |"
            ]
        );
        // The nearest to the next piece, then the rest to the previous one.
        assert_eq!(
            spans(30),
            vec![
                "Alpha text.\n\n<a id=\"one\"></a>",
                "[two]: x\n\nBeta.\n\n---",
                "| t |"
            ]
        );
    }

    #[test]
    fn markup_without_room_is_dropped() {
        let doc = parsed("a.md", DOC);
        let set = chunk(&doc, Strategy::Recursive, 20);
        assert_visible(&doc, &set);
        assert!(set.chunks.iter().all(|c| c.tokens <= 20));
        assert!(!set.chunks.iter().any(|c| c.text.contains("example.com")));
    }

    #[test]
    fn the_section_is_that_of_the_first_visible_content() {
        let doc = parsed("a.md", DOC);
        for strategy in [Strategy::Recursive, Strategy::ByHeading { level: 3 }] {
            let set = chunk(&doc, strategy, 100);
            assert_eq!(set.chunks[1].section, vec!["Hello", "Next steps"]);
        }
    }

    /// A PDF-like document: page markers between pages, page 3 empty.
    fn paged() -> ParsedDocument {
        let parts: [(ElementKind, &str, u32, &[&str]); 8] = [
            (ElementKind::Heading, "# Title", 1, &[]),
            (ElementKind::Paragraph, "Page one text.", 1, &["Title"]),
            (ElementKind::PageBreak, "---", 2, &["Title"]),
            (ElementKind::Heading, "# Second", 2, &[]),
            (ElementKind::Paragraph, "Page two text.", 2, &["Second"]),
            (ElementKind::PageBreak, "---", 3, &["Second"]),
            (ElementKind::PageBreak, "---", 4, &["Second"]),
            (ElementKind::Paragraph, "Page four.", 4, &["Second"]),
        ];
        let mut markdown = String::new();
        let mut elements = Vec::new();
        for (kind, text, page, section) in parts {
            let start = markdown.len();
            markdown.push_str(text);
            let shown = match kind {
                ElementKind::PageBreak => "",
                _ => text.trim_start_matches("# "),
            };
            let mut e = Element::new(kind, shown, [start, markdown.len()]);
            e.page = Some(page);
            e.section = section.iter().map(|s| s.to_string()).collect();
            elements.push(e);
            markdown.push_str("\n\n");
        }
        ParsedDocument {
            doc_id: "p.pdf".into(),
            source: "p.pdf".into(),
            format: Format::Pdf,
            title: Some("Title".into()),
            markdown,
            elements,
            metadata: Metadata::new(),
            hash: "h".into(),
            debug: Default::default(),
        }
    }

    #[test]
    fn a_page_starting_with_a_heading_is_in_its_section() {
        let doc = paged();
        let set = chunk(&doc, Strategy::ByPage, 1000);
        assert_eq!(set.chunks[1].text, "---\n\n# Second\n\nPage two text.");
        assert_eq!(set.chunks[1].section, vec!["Second"]);
    }

    #[test]
    fn an_empty_page_is_no_chunk() {
        let doc = paged();
        let set = chunk(&doc, Strategy::ByPage, 1000);
        assert_visible(&doc, &set);
        let last = set.chunks.last().unwrap();
        assert_eq!(last.text, "---\n\n---\n\nPage four.");
        assert_eq!(set.chunks.len(), 3);
    }
}
