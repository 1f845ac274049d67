//! Cutting a document into regions and regions into pieces.
//!
//! [`Work`] holds what every strategy needs (the text, the sizer, the break levels, the
//! tables) and collects [`Piece`]s in document order. A strategy hands it regions in order;
//! each region is cut around tables (`tables: own_chunk`) and tables of contents (`contents`),
//! and each text part is one piece
//! when it fits in `size`, else split by the recursive splitter. A table's piece begins with
//! the headings bound to it (a heading right before a table), when they fit with its header
//! and first row.

use super::barriers::Barriers;
use super::breaks::Breaks;
use super::config::{Settings, Tables};
use super::headings;
use super::recursive::{split_range, trim};
use super::sizer::Sizer;
use super::unshown::UnshownMarkup;
use super::{ChunkError, Strategy, contents, semantic, smart};
use crate::model::{ElementKind, ParsedDocument};

/// What joins a split table's repeated header rows to a continuation's text in `embed_text`.
pub(super) const HEADER_JOIN: &str = "\n";

/// One future chunk.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Piece {
    /// Byte span in the markdown, trimmed.
    pub span: [usize; 2],
    /// Whether it is (part of) a table.
    pub table: bool,
    /// For the continuation of a split table: the span of the table's header rows, repeated
    /// in `embed_text`.
    pub header: Option<[usize; 2]>,
}

/// What a strategy did, for the debug record.
#[derive(Debug, Clone, Default)]
pub(super) struct Outcome {
    /// The strategy that cut the document (smart's choice, or the fallback).
    pub used: &'static str,
    /// Why (smart's reasons, fallbacks).
    pub reasons: Vec<String>,
    /// Set when the strategy could not apply and another one did the work.
    pub fallback: Option<String>,
    /// Strategy-specific figures (semantic: sentences, breakpoints, threshold).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The state of chunking one document.
pub(super) struct Work<'a> {
    pub doc: &'a ParsedDocument,
    pub text: &'a str,
    pub sizer: &'a dyn Sizer,
    pub settings: &'a Settings,
    pub(super) breaks: Breaks<'a>,
    /// Where overlap stops.
    pub(super) barriers: Barriers,
    /// The document's link and image markup.
    pub(super) links: UnshownMarkup,
    /// Table spans in order (empty with `tables: inline`).
    tables: Vec<[usize; 2]>,
    /// The spans of all tables, with either setting of `tables`.
    pub(super) table_spans: Vec<[usize; 2]>,
    /// Headings with what binds them to their content (`headings::glued`).
    pub(super) glued: Vec<[usize; 2]>,
    /// Paragraph spans by their end, where a table's caption is looked for.
    paragraphs: Vec<[usize; 2]>,
    /// Where text parts are cut around tables of contents (`contents::cuts`).
    pub(super) contents: Vec<usize>,
    pub(super) pieces: Vec<Piece>,
}

/// A part of a region: text, or a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Segment {
    Text([usize; 2]),
    /// The table at `table`, led by the headings bound to it, or its title, from `from`
    /// (`from == table[0]` when none is), and followed by its caption up to `until`
    /// (`until == table[1]` when none is).
    Table {
        from: usize,
        table: [usize; 2],
        until: usize,
    },
}

impl<'a> Work<'a> {
    pub fn new(doc: &'a ParsedDocument, sizer: &'a dyn Sizer, settings: &'a Settings) -> Self {
        let text = doc.markdown.as_str();
        let mut table_spans: Vec<[usize; 2]> = doc
            .elements
            .iter()
            .filter(|e| e.kind == ElementKind::Table && e.span[0] < e.span[1])
            .map(|e| [e.span[0], e.span[1].min(text.len())])
            .filter(|[s, e]| text.get(*s..*e).is_some())
            .collect();
        table_spans.sort_unstable();
        let mut tables = match settings.tables {
            Tables::Inline => Vec::new(),
            Tables::OwnChunk => table_spans.clone(),
        };
        // Nested or overlapping tables (never from the parsers) keep the first.
        tables.dedup_by(|next, prev| next[0] < prev[1]);
        let mut paragraphs: Vec<[usize; 2]> = (doc.elements.iter())
            .filter(|e| e.kind == ElementKind::Paragraph)
            .map(|e| e.span)
            .collect();
        paragraphs.sort_by_key(|span| span[1]);
        let glued = headings::glued(doc);
        let links = UnshownMarkup::of(text);
        Work {
            doc,
            text,
            sizer,
            settings,
            breaks: Breaks::of(doc, glued.clone()),
            barriers: Barriers::new(doc).with_links(links.spans()),
            links,
            tables,
            table_spans,
            contents: contents::cuts(doc, &glued),
            glued,
            paragraphs,
            pieces: Vec::new(),
        }
    }

    pub fn into_pieces(self) -> Vec<Piece> {
        self.pieces
    }

    /// Runs `strategy` over the whole document.
    pub fn run(&mut self, strategy: &Strategy) -> Result<Outcome, ChunkError> {
        let whole = [0, self.text.len()];
        Ok(match strategy {
            Strategy::Recursive => {
                self.regions(&[whole]);
                Outcome {
                    used: "recursive",
                    ..Outcome::default()
                }
            }
            Strategy::ByHeading { level } => self.by_heading(*level),
            Strategy::ByPage => match page_regions(self.doc, &self.glued) {
                Some(regions) => {
                    self.regions(&regions);
                    Outcome {
                        used: "by_page",
                        reasons: vec![format!("{} pages", regions.len())],
                        ..Outcome::default()
                    }
                }
                None => {
                    self.regions(&[whole]);
                    Outcome {
                        used: "recursive",
                        fallback: Some(
                            "the document has no pages: chunked by the recursive strategy"
                                .to_owned(),
                        ),
                        ..Outcome::default()
                    }
                }
            },
            Strategy::Semantic {
                percentile,
                embedder,
            } => semantic::run(self, *percentile, embedder.as_ref())?,
            Strategy::Smart => {
                let decision = smart::decide(self.doc, &self.glued, self.sizer, self.settings);
                let mut outcome = self.run(&decision.strategy)?;
                let mut reasons = decision.reasons;
                reasons.append(&mut outcome.reasons);
                outcome.reasons = reasons;
                outcome
            }
        })
    }

    fn by_heading(&mut self, level: u8) -> Outcome {
        let regions = section_regions(self.doc, &self.glued, level);
        self.regions(&regions);
        let sections = regions.len();
        let mut outcome = Outcome {
            used: "by_heading",
            reasons: vec![format!("{sections} section(s) at heading level <= {level}")],
            ..Outcome::default()
        };
        if sections <= 1 {
            let headings = (self.doc.elements.iter())
                .filter(|e| e.kind == ElementKind::Heading && e.level.is_some_and(|l| l <= level))
                .count();
            let why = match headings {
                0 => format!("no headings of level <= {level}"),
                // One that opens the document, or headings with no content of their own
                // before the last, each going with the next section.
                n => format!(
                    "the {n} heading(s) of level <= {level} make one section (a heading with no content of its own before the next goes with it)"
                ),
            };
            outcome.fallback = Some(format!(
                "{why}: the whole document is one section, chunked by the recursive strategy"
            ));
        }
        outcome
    }

    /// Chunks `regions` (in order) as units: each fits in a piece or is split.
    pub fn regions(&mut self, regions: &[[usize; 2]]) {
        for &region in regions {
            for segment in self.segments(region) {
                self.segment_pieces(segment);
            }
        }
    }

    /// The pieces of one segment.
    pub fn segment_pieces(&mut self, segment: Segment) {
        match segment {
            Segment::Text(range) => self.text_piece(range),
            Segment::Table { from, table, until } => {
                self.led_table_pieces(from, table);
                self.caption_after_pieces(table, until);
            }
        }
    }

    /// `region` cut around the tables in it, and its text around tables of contents, in order.
    pub fn segments(&self, region: [usize; 2]) -> Vec<Segment> {
        let mut out = Vec::new();
        for segment in self.table_segments(region) {
            match segment {
                Segment::Text(range) if !self.contents.is_empty() => out.extend(
                    cut_range(range, &self.contents)
                        .into_iter()
                        .map(Segment::Text),
                ),
                _ => out.push(segment),
            }
        }
        out
    }

    /// `region` cut around the tables in it, in order.
    fn table_segments(&self, region: [usize; 2]) -> Vec<Segment> {
        let [lo, hi] = region;
        let mut out = Vec::new();
        let mut at = lo;
        let first = self.tables.partition_point(|t| t[1] <= lo);
        for &[ts, te] in self.tables[first..].iter().take_while(|t| t[0] < hi) {
            let (ts, te) = (ts.max(lo).max(at), te.min(hi));
            // Headings whose first content is the table lead it (from inside this part), and
            // so does its caption ("Table 9.6. Random Functions") or title line ("Hardness of
            // grade SNB22-3"); a caption set under it ("Table 3.1: Gfem Keywords") ends it.
            let led_by_headings = |start: usize| match headings::holding(&self.glued, start) {
                Some([from, to]) if to == start && from >= at => Some(from),
                _ => None,
            };
            let from = led_by_headings(ts).unwrap_or_else(|| {
                // A title or caption that is the first content of headings brings them along.
                self.caption_before(ts)
                    .filter(|&c| c >= at)
                    .map_or(ts, |c| led_by_headings(c).unwrap_or(c))
            });
            if from > at {
                out.push(Segment::Text([at, from]));
            }
            let until = self.caption_after(te, hi).unwrap_or(te);
            out.push(Segment::Table {
                from,
                table: [ts, te],
                until,
            });
            at = until;
        }
        if at < hi {
            out.push(Segment::Text([at, hi]));
        }
        out
    }

    /// The start of the paragraph right before the table at `table_start` when it is the
    /// table's caption (one short line that opens with "Table" and a number) or title (one
    /// short line that is no sentence).
    fn caption_before(&self, table_start: usize) -> Option<usize> {
        let before = self
            .paragraphs
            .partition_point(|span| span[1] <= table_start);
        let [s, e] = *self.paragraphs[..before].last()?;
        let between = self.text.get(e..table_start)?;
        let caption = self.text.get(s..e)?.trim();
        (between.trim().is_empty() && (is_caption(caption) || is_title_line(caption))).then_some(s)
    }

    /// The end of the paragraph right after the table ending at `table_end` (before `hi`)
    /// when it is the table's caption, set under it; not when another table follows it, whose
    /// caption it may as well be, as one set above.
    fn caption_after(&self, table_end: usize, hi: usize) -> Option<usize> {
        let after = self.paragraphs.partition_point(|span| span[1] <= table_end);
        let &[s, e] = self.paragraphs.get(after)?;
        let blank =
            |from: usize, to: usize| self.text.get(from..to).is_some_and(|t| t.trim().is_empty());
        let next_table = (self.table_spans).get(self.table_spans.partition_point(|t| t[0] < e));
        let before_a_table = next_table.is_some_and(|t| blank(e, t[0]));
        (e <= hi
            && blank(table_end, s)
            && !before_a_table
            && self.text.get(s..e).is_some_and(|c| is_caption(c.trim())))
        .then_some(e)
    }

    /// Text of `range`: one piece when it fits, else split by size with overlap.
    pub fn text_piece(&mut self, range: [usize; 2]) {
        let [s, e] = trim(self.text, range[0], range[1]);
        if s >= e {
            return;
        }
        if self.sizer.fits(&self.text[s..e], self.settings.size) {
            self.pieces.push(Piece {
                span: [s, e],
                table: false,
                header: None,
            });
            return;
        }
        let spans = split_range(
            self.text,
            &mut self.breaks,
            &self.barriers,
            self.sizer,
            [s, e],
            self.settings.size,
            self.settings.overlap,
        );
        let mut pieces: Vec<Piece> = spans
            .into_iter()
            .map(|span| Piece {
                span,
                table: false,
                header: None,
            })
            .collect();
        // A piece of a table split inline that shows no text takes some along.
        if self.table_spans.iter().any(|t| t[0] < e && s < t[1]) {
            self.join_bare(&mut pieces, 0);
        }
        self.pieces.append(&mut pieces);
    }
}

/// Regions starting at each heading of level <= `level` (and one before the first); headings
/// with no content between them and such a heading start its region (`glued`, from
/// `headings::glued`).
pub(super) fn section_regions(
    doc: &ParsedDocument,
    glued: &[[usize; 2]],
    level: u8,
) -> Vec<[usize; 2]> {
    let len = doc.markdown.len();
    let bounds: Vec<usize> = doc
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::Heading && e.level.is_some_and(|l| l <= level))
        .map(|e| e.span[0].min(len))
        .filter(|&at| at > 0 && doc.markdown.is_char_boundary(at))
        .collect();
    regions_between(doc, glued, bounds)
}

/// Regions starting where the page changes (at the headings whose content is on the next
/// page, when a page ends with some: `glued`, from `headings::glued`); `None` when no element
/// has a page.
pub(super) fn page_regions(doc: &ParsedDocument, glued: &[[usize; 2]]) -> Option<Vec<[usize; 2]>> {
    let len = doc.markdown.len();
    let mut elements: Vec<_> = doc.elements.iter().collect();
    elements.sort_by_key(|e| e.span[0]);
    if elements.iter().all(|e| e.page.is_none()) {
        return None;
    }
    let mut bounds = Vec::new();
    let mut current = None;
    let mut bound = |at: usize| {
        let at = at.min(len);
        if at > 0 && doc.markdown.is_char_boundary(at) {
            bounds.push(at);
        }
    };
    for e in elements {
        let Some(page) = e.page else { continue };
        if current.is_some_and(|c| c != page) {
            bound(e.span[0]);
        }
        current = Some(page);
        // A paragraph that goes on to the next page: the page changes inside it.
        for c in &e.continued {
            if current != Some(c.page) {
                bound(c.at);
            }
            current = Some(c.page);
        }
    }
    Some(regions_between(doc, glued, bounds))
}

/// Whether `text` reads as a table's title: one line of at most 100 chars and 12 words that is
/// no sentence (it ends with no full stop, question or exclamation mark, semicolon or comma),
/// and no markup but emphasis ("Hardness of grade SNB22-3", "**Results by month**").
fn is_title_line(text: &str) -> bool {
    let bare = text.trim_matches(|c| c == '*' || c == '_').trim();
    text.len() <= 100
        && !text.contains('\n')
        && (1..=12).contains(&bare.split_whitespace().count())
        && bare.chars().next().is_some_and(char::is_alphanumeric)
        && !bare.ends_with(['.', '!', '?', ';', ','])
}

/// Whether `text` reads as a table's caption: one line of at most 200 chars, "Table" (or
/// "Tab.", any case) and then a number ("Table 9.6.", "TABLE II", "Table A1:").
fn is_caption(text: &str) -> bool {
    if text.len() > 200 || text.contains('\n') {
        return false;
    }
    let lower = text.to_lowercase();
    let Some(rest) = ["table", "tab."]
        .iter()
        .find_map(|word| lower.strip_prefix(word))
    else {
        return false;
    };
    let number = rest.trim_start();
    number.len() < rest.len()
        && number
            .split(|c: char| c.is_whitespace() || c == ':')
            .next()
            .is_some_and(|n| {
                let n = n.trim_end_matches('.');
                !n.is_empty()
                    && n.chars().any(|c| c.is_ascii_digit() || "ivxl".contains(c))
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
                    && n.chars().filter(|c| c.is_ascii_alphabetic()).count() <= 4
            })
}

/// The regions of `doc` between `bounds`, each moved back to the first of the headings bound
/// to it (`glued`), so that no region ends with a heading whose content is in the next, and
/// none is only such headings.
fn regions_between(
    doc: &ParsedDocument,
    glued: &[[usize; 2]],
    mut bounds: Vec<usize>,
) -> Vec<[usize; 2]> {
    for b in &mut bounds {
        if let Some([from, _]) = headings::holding(glued, *b) {
            *b = from;
        }
    }
    bounds.sort_unstable();
    bounds.dedup();
    cut_range([0, doc.markdown.len()], &bounds)
}

/// `range` cut at every one of the ascending positions `cuts` that lies inside it, in order.
pub(super) fn cut_range(range: [usize; 2], cuts: &[usize]) -> Vec<[usize; 2]> {
    let [lo, hi] = range;
    let first = cuts.partition_point(|&at| at <= lo);
    let mut parts = Vec::new();
    let mut from = lo;
    for &at in cuts[first..].iter().take_while(|&&at| at < hi) {
        parts.push([from, at]);
        from = at;
    }
    parts.push([from, hi]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Element, Format, Metadata, PageContinuation};

    /// A table's caption leads it, as a heading does: it went with the prose before it, and
    /// the table lost the only words that say what it holds.
    #[test]
    fn a_caption_leads_its_table() {
        let rows: String = (0..6).map(|i| format!("| random() | {i}.5 |\n")).collect();
        let md = format!(
            "Table 9.6 shows functions for generating random numbers, and a good deal more prose besides.\n\nTable 9.6. Random Functions\n\n| Function | Value |\n| --- | --- |\n{rows}"
        );
        let doc = super::super::tests::parsed("f.md", &md);
        let set = crate::chunk::Chunker::new(Strategy::Recursive, Settings::chars(120), None, "fp")
            .unwrap()
            .chunk(&doc)
            .unwrap();
        let table = set
            .chunks
            .iter()
            .find(|c| c.text.contains("| Function |"))
            .unwrap();
        assert!(
            table
                .text
                .starts_with("Table 9.6. Random Functions\n\n| Function"),
            "{:?}",
            table.text
        );
        for (text, caption) in [
            ("Table 9.6. Random Functions", true),
            ("TABLE II: Results", true),
            ("Tab. 3 Sizes", true),
            ("Table A1. Inputs", true),
            ("Table of contents", false),
            ("Table lists the sizes", false),
            ("Tablespace 4", false),
        ] {
            assert_eq!(is_caption(text), caption, "{text}");
        }
    }

    /// A datasheet titles its tables with a short line ("Hardness of grade SNB22-3") and a
    /// manual may set a table's caption under it ("Table 3.1: Gfem Keywords"): each stayed a
    /// chunk of a few words, and the table lost what says what it holds. A caption between two
    /// tables goes with the second, as one set above it.
    #[test]
    fn a_title_leads_its_table_and_a_caption_under_it_ends_it() {
        let table =
            |name: &str| format!("| {name} | Value |\n| --- | --- |\n| a | 1 |\n| b | 2 |\n");
        let md = format!(
            "Steel grades are sold as bars, and this page gives their properties in full.\n\nHardness of grade SNB22-3\n\n{}\nTable 3.1: Gfem Keywords\n\nThe keywords are read by the interpreter in the order given, one by one.\n\n{}\nTable 3.2: Between two tables\n\n{}",
            table("Hardness"),
            table("Keyword"),
            table("Operator"),
        );
        let doc = super::super::tests::parsed("f.md", &md);
        let set = crate::chunk::Chunker::new(Strategy::Recursive, Settings::chars(120), None, "fp")
            .unwrap()
            .chunk(&doc)
            .unwrap();
        let texts: Vec<&str> = set.chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Steel grades are sold as bars, and this page gives their properties in full.",
                "Hardness of grade SNB22-3\n\n| Hardness | Value |\n| --- | --- |\n| a | 1 |\n| b | 2 |\n\nTable 3.1: Gfem Keywords",
                "The keywords are read by the interpreter in the order given, one by one.",
                "| Keyword | Value |\n| --- | --- |\n| a | 1 |\n| b | 2 |",
                "Table 3.2: Between two tables\n\n| Operator | Value |\n| --- | --- |\n| a | 1 |\n| b | 2 |",
            ]
        );
        for (text, title) in [
            ("Hardness of grade SNB22-3", true),
            ("**Results by month**", true),
            ("The results are:", true),
            ("The results are shown in the table below.", false),
            ("---", false),
            ("- an item", false),
            ("| a | b |", false),
        ] {
            assert_eq!(is_title_line(text), title, "{text}");
        }
    }

    /// A paragraph that goes on to the next page changes page inside it: `by_page` cuts there
    /// (it cut only where an element of another page began, so a regular PDF whose pages end
    /// mid-paragraph had pages "too uneven" for `smart`, and `by_page` chunks straddled pages).
    #[test]
    fn pages_change_inside_a_paragraph_that_goes_on() {
        let mut first = Element::new(ElementKind::Paragraph, "x", [0, 40]);
        first.page = Some(1);
        first.continued = vec![PageContinuation { page: 2, at: 20 }];
        let mut second = Element::new(ElementKind::Paragraph, "x", [42, 80]);
        second.page = Some(3);
        second.continued = vec![PageContinuation { page: 4, at: 60 }];
        let doc = ParsedDocument {
            doc_id: "d".into(),
            source: "d".into(),
            format: Format::Pdf,
            title: None,
            markdown: "word ".repeat(16),
            elements: vec![first, second],
            metadata: Metadata::new(),
            hash: "h".into(),
            debug: Default::default(),
        };
        assert_eq!(
            page_regions(&doc, &headings::glued(&doc)),
            Some(vec![[0, 20], [20, 42], [42, 60], [60, 80]])
        );
    }
}
