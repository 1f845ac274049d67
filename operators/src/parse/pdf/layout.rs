//! One document from bytes to Markdown: open, extract every page's glyphs, build lines, drop
//! running headers and footers, order, find tables, paragraphs, headings and lists, render.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use super::extract::{Collector, PageGlyphs};
use super::headings::{self, Levels};
use super::lines::{self, Segment};
use super::load::{self, LoadError};
use super::paragraphs::{self, list_marker};
use super::render::{self, Block, BlockKind};
use super::{debug_metadata, flatten, furniture, order, tables};
use crate::parse::{ParseError, Parsed};

/// A unit of a page in reading order: a line segment or a whole table.
enum Unit {
    Line(usize),
    Table(tables::Table),
}

/// One page's paragraphs, tables and sizes, before headings are known.
enum Piece {
    Para(paragraphs::Paragraph),
    Table(Vec<Vec<String>>),
}

/// Parses a whole document within `budget`.
pub(super) fn parse(bytes: &[u8], budget: Duration) -> Result<Parsed, ParseError> {
    let started = Instant::now();
    let deadline = started + budget;
    let mut doc = load::open(bytes).map_err(|err| match err {
        LoadError::Password => ParseError::PdfPassword,
        LoadError::Malformed(reason) => ParseError::PdfMalformed { reason },
    })?;
    let mut metadata = load::info_metadata(&doc);
    let pages = doc.get_pages();
    metadata.insert("pages".into(), pages.len().into());
    let mut warnings = Vec::new();
    let mut page_segments: Vec<(u32, Vec<Segment>, f32)> = Vec::with_capacity(pages.len());
    let (mut unmapped, mut rotated, mut failed, mut forms) = (0usize, 0usize, 0usize, 0usize);
    for (&number, &id) in &pages {
        if Instant::now() > deadline {
            return Err(ParseError::PdfTimeout {
                seconds: budget.as_secs(),
                page: number,
            });
        }
        if let Err(reason) = load::check_page(&doc, id) {
            warnings.push(format!("page {number} skipped: {reason}"));
            failed += 1;
            continue;
        }
        let bold = match catch_unwind(AssertUnwindSafe(|| {
            flatten::flatten_page(&mut doc, id, deadline)
        })) {
            Ok(Ok(flat)) => {
                forms += flat.forms;
                flat.bold
            }
            Ok(Err(reason)) => {
                if Instant::now() > deadline {
                    return Err(ParseError::PdfTimeout {
                        seconds: budget.as_secs(),
                        page: number,
                    });
                }
                warnings.push(format!("page {number} skipped: {reason}"));
                failed += 1;
                continue;
            }
            Err(_) => {
                warnings.push(format!(
                    "page {number} skipped: its content could not be read"
                ));
                failed += 1;
                continue;
            }
        };
        let mut collector = Collector::new(deadline, bold);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&doc, &mut collector, number)
        }));
        if collector.timed_out {
            return Err(ParseError::PdfTimeout {
                seconds: budget.as_secs(),
                page: number,
            });
        }
        let page: PageGlyphs = std::mem::take(&mut collector.page);
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(err)) => warnings.push(format!("page {number} partly read: {err}")),
            Err(_) => {
                failed += 1;
                warnings.push(format!(
                    "page {number} could not be fully read (the PDF reader failed); kept {} glyphs",
                    page.glyphs.len()
                ));
            }
        }
        unmapped += page.unmapped;
        rotated += page.rotated;
        let segments = lines::segments(&page.glyphs);
        if segments.is_empty() {
            warnings.push(format!(
                "page {number} has no extractable text: scanned image?"
            ));
        }
        page_segments.push((number, segments, page.height));
    }
    if failed == pages.len() {
        return Err(ParseError::PdfMalformed {
            reason: "no page could be read".into(),
        });
    }
    if unmapped > 0 {
        warnings.push(format!("{unmapped} glyphs had no Unicode mapping"));
    }
    if rotated > 0 {
        warnings.push(format!("{rotated} rotated glyphs were left out"));
    }
    let drop = {
        let views: Vec<(&[Segment], f32)> = page_segments
            .iter()
            .map(|(_, s, h)| (s.as_slice(), *h))
            .collect();
        furniture::furniture(&views)
    };
    let mut page_pieces: Vec<(u32, Vec<Piece>)> = Vec::with_capacity(page_segments.len());
    for ((number, mut segments, _), drop) in page_segments.into_iter().zip(drop) {
        let mut keep = vec![true; segments.len()];
        for i in drop {
            keep[i] = false;
        }
        let mut k = keep.iter();
        segments.retain(|_| k.next().copied().unwrap_or(true));
        page_pieces.push((number, page_pieces_of(&segments)));
    }
    let body = headings::body_size(page_pieces.iter().flat_map(|(_, pieces)| {
        pieces.iter().filter_map(|p| match p {
            Piece::Para(p) => Some((p.size, p.text.len())),
            Piece::Table(_) => None,
        })
    }));
    let levels = Levels::new(
        body,
        page_pieces.iter().flat_map(|(_, pieces)| {
            pieces.iter().filter_map(|p| match p {
                Piece::Para(p) if headings::heading_shaped(&p.text, p.lines) => Some(p.size),
                _ => None,
            })
        }),
    );
    let mut blocks = Vec::new();
    for (i, (number, pieces)) in page_pieces.into_iter().enumerate() {
        if i > 0 {
            blocks.push(Block {
                kind: BlockKind::PageBreak,
                text: String::new(),
                page: number,
            });
        }
        for piece in pieces {
            blocks.push(match piece {
                Piece::Table(rows) => Block {
                    text: rows
                        .iter()
                        .map(|r| r.join("\t"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    kind: BlockKind::Table(rows),
                    page: number,
                },
                Piece::Para(p) => classify(p, &levels, number),
            });
        }
    }
    let (markdown, elements) = render::render(&blocks);
    metadata.insert("parse_forms_inlined".into(), forms.into());
    let chars = markdown.chars().count();
    debug_metadata(
        &mut metadata,
        warnings,
        &elements,
        pages.len(),
        chars,
        started,
    );
    Ok(Parsed {
        markdown,
        elements,
        metadata,
    })
}

/// A paragraph as a heading, a list item or running text.
fn classify(p: paragraphs::Paragraph, levels: &Levels, page: u32) -> Block {
    if let Some(level) = levels.level(&p.text, p.size, p.lines, p.bold) {
        return Block {
            kind: BlockKind::Heading(level),
            text: p.text,
            page,
        };
    }
    if let Some((marker, ordered)) = list_marker(&p.text) {
        let text = if ordered {
            p.text
        } else {
            p.text[marker..].trim_start().to_string()
        };
        return Block {
            kind: BlockKind::ListItem(ordered),
            text,
            page,
        };
    }
    Block {
        kind: BlockKind::Paragraph,
        text: p.text,
        page,
    }
}

/// Lays out one page: tables, reading order, paragraphs.
fn page_pieces_of(segments: &[Segment]) -> Vec<Piece> {
    let found = tables::find(segments);
    let mut in_table = vec![false; segments.len()];
    let mut units: Vec<Unit> = Vec::new();
    let mut boxes: Vec<Segment> = Vec::new();
    for table in found {
        let cells: Vec<usize> = table.rows.iter().flatten().flatten().copied().collect();
        let Some(first) = cells.first().map(|&c| &segments[c]) else {
            continue;
        };
        let mut bbox = Segment {
            text: String::new(),
            ..first.clone()
        };
        for &c in &cells {
            in_table[c] = true;
            let s = &segments[c];
            bbox.x0 = bbox.x0.min(s.x0);
            bbox.x1 = bbox.x1.max(s.x1);
            bbox.y = bbox.y.min(s.y);
            bbox.y_last = bbox.y_last.max(s.y);
        }
        boxes.push(bbox);
        units.push(Unit::Table(table));
    }
    for (i, s) in segments.iter().enumerate() {
        if !in_table[i] {
            boxes.push(s.clone());
            units.push(Unit::Line(i));
        }
    }
    let mut pieces = Vec::new();
    let mut run: Vec<&Segment> = Vec::new();
    for i in order::reading_order(&boxes) {
        match &units[i] {
            Unit::Line(k) => run.push(&segments[*k]),
            Unit::Table(table) => {
                pieces.extend(paragraphs::paragraphs(&run).into_iter().map(Piece::Para));
                run.clear();
                let rows = table
                    .rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|c| c.map_or(String::new(), |k| segments[k].text.clone()))
                            .collect()
                    })
                    .collect();
                pieces.push(Piece::Table(rows));
            }
        }
    }
    pieces.extend(paragraphs::paragraphs(&run).into_iter().map(Piece::Para));
    pieces
}
