//! One document from bytes to Markdown: open, extract every page's glyphs, build lines, drop
//! running headers and footers, order, find tables, paragraphs, headings and lists, render.

use crate::caught::catch_quietly;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use super::cmap_guard;
use super::extract::{Collector, Frame, MAX_GLYPHS_PER_DOCUMENT, MAX_GLYPHS_PER_PAGE, PageGlyphs};
use super::font_repair::{self, Defect};
use super::font_streams::{self, MAX_FONT_BYTES};
use super::grid::{self, PageRules};
use super::headings::{self, Levels};
use super::lines::{self, Segment};
use super::load::{self, LoadError};
use super::paragraphs;
use super::rebuild::Cut;
use super::render::{self, Block, BlockKind};
use super::turn::{self, Side};
use super::{code, flatten, furniture, lists, order, tables};
use crate::parse::{ParseError, Parsed};

/// A unit of a page in reading order: a line segment, a whole table or a code block.
enum Unit {
    Line(usize),
    Table(tables::Table),
    Code(String),
}

/// A page reduced to text operators, with where it sits.
struct Flat {
    number: u32,
    id: lopdf::ObjectId,
    frame: Frame,
    page: flatten::Flattened,
}

/// How drawing pages went.
enum Drawn {
    /// The glyphs of every page.
    Done(Vec<PageGlyphs>),
    /// The budget ran out while drawing the page at this index.
    TimedOut(usize),
    /// The interpreter failed; what it had collected.
    Failed(Vec<PageGlyphs>),
}

/// Draws `flats` as one content stream, each page inside `q … Q`, installed on the first
/// page's object, and sorts the glyphs back into pages, keeping `glyphs_left` in all and
/// `page_glyphs` a page. The operations are moved out of `flats`. Fonts whose streams decode
/// past [`MAX_FONT_BYTES`] go without them (`checked` remembers which streams fit, over the
/// document).
fn draw(
    doc: &mut lopdf::Document,
    flats: &mut [Flat],
    deadline: Instant,
    (glyphs_left, page_glyphs): (usize, usize),
    checked: &mut font_streams::Checked,
) -> Drawn {
    let Some(first) = flats.first() else {
        return Drawn::Done(Vec::new());
    };
    let mut ops = Vec::new();
    let mut fonts = lopdf::Dictionary::new();
    let (mut ends, mut faces, mut frames) = (Vec::new(), Vec::new(), Vec::new());
    let (first_id, first_number) = (first.id, first.number);
    for flat in flats.iter_mut() {
        ops.push(lopdf::content::Operation::new("q", vec![]));
        ops.append(&mut flat.page.ops);
        ops.push(lopdf::content::Operation::new("Q", vec![]));
        for (name, font) in flat.page.fonts.iter() {
            let font = font_streams::bounded(doc, font, MAX_FONT_BYTES, checked);
            fonts.set(name.clone(), font);
        }
        faces.extend(&flat.page.faces);
        ends.push(faces.len());
        frames.push(flat.frame);
    }
    let mut collector = Collector::new(deadline, frames, ends, faces, glyphs_left, page_glyphs);
    let saved = flatten::save(doc, first_id);
    let installed = flatten::install(doc, first_id, ops, fonts);
    let outcome = installed
        .is_ok()
        .then(|| catch_quietly(|| pdf_extract::output_doc_page(doc, &mut collector, first_number)));
    flatten::restore(doc, first_id, saved);
    if collector.timed_out {
        return Drawn::TimedOut(collector.current);
    }
    match outcome {
        Some(Ok(Ok(()))) => Drawn::Done(collector.pages),
        _ => Drawn::Failed(collector.pages),
    }
}

/// Most operations drawn in one batch: pdf-extract parses them again, at some 600 bytes each.
const BATCH_OPERATIONS: usize = 200_000;
/// Most content bytes (which bound the bytes of the strings kept) behind one batch.
const BATCH_BYTES: usize = 64 << 20;

/// What the pages drawn so far gave.
struct Read {
    /// Each page's number, its text in its main turn, and its text in other turns.
    segments: Vec<(u32, Side, Vec<Side>)>,
    warnings: Vec<String>,
    /// Warnings of single pages, by what they say of the page (`{pages}` stands for which),
    /// each with its pages: one warning each, not one a page (a truncated file of 20,000 pages
    /// gave 25,000 of them).
    page_warnings: BTreeMap<String, Vec<u32>>,
    /// Pages not read.
    failed: usize,
    unmapped: usize,
    rotated: usize,
    /// The page on which the document reached its limit of glyphs ([`DocLimits::glyphs`])
    /// partway, with how many of its glyphs were left out.
    cut_at: Option<(u32, usize)>,
    /// The first page not read because the document had reached that limit before it: it and
    /// every page after it are left out.
    unread_from: Option<u32>,
    /// Glyphs the document may still keep, of how many.
    glyphs_left: usize,
    glyph_limit: usize,
    /// Glyphs one page may keep.
    page_glyph_limit: usize,
    /// Font streams found within their limit.
    checked: font_streams::Checked,
    /// What was found of the document's fonts, for each page that uses them.
    font_checks: font_repair::Cache,
    /// Fonts read without entries that lead to lost objects, and fonts lost, by name.
    fonts_repaired: BTreeSet<Vec<u8>>,
    fonts_lost: BTreeSet<Vec<u8>>,
    /// Fonts read without malformed entries, by name, with each kind of entry.
    fonts_malformed: BTreeSet<(Vec<u8>, Defect)>,
    fonts_undecodable: BTreeSet<(Vec<u8>, String)>,
    fonts_over_budget: BTreeSet<Vec<u8>>,
}

impl Read {
    /// Notes `warning` (with `{pages}` for the page) of page `number`.
    fn page_warning(&mut self, number: u32, warning: String) {
        self.page_warnings.entry(warning).or_default().push(number);
    }

    /// One warning for each thing said of pages, naming its pages, in the order of their first.
    fn summarise_page_warnings(&mut self) {
        let mut notes: Vec<(String, Vec<u32>)> = std::mem::take(&mut self.page_warnings)
            .into_iter()
            .collect();
        notes.sort_by_key(|(_, pages)| pages.first().copied());
        for (warning, pages) in notes {
            let warning = match pages.len() {
                1 => warning,
                _ => warning.replace("{pages} has ", "{pages} have "),
            };
            self.warnings
                .push(warning.replace("{pages}", &page_list(&pages)));
        }
    }

    /// Draws a batch of pages in one pass, page by page when that fails, and keeps their
    /// segments; the number of the page at which the time budget ran out, if it did.
    fn draw(
        &mut self,
        doc: &mut lopdf::Document,
        cut: &Cut,
        flats: &mut [Flat],
        deadline: Instant,
    ) -> Result<(), u32> {
        let limits = (self.glyphs_left, self.page_glyph_limit);
        let glyphs = match draw(doc, flats, deadline, limits, &mut self.checked) {
            Drawn::Done(glyphs) => glyphs,
            Drawn::TimedOut(i) => return Err(flats.get(i).map_or(0, |f| f.number)),
            Drawn::Failed(_) => {
                let mut all = Vec::with_capacity(flats.len());
                let mut left = self.glyphs_left;
                for flat in flats.iter_mut() {
                    if left == 0 {
                        // Not read (see below): not drawn either.
                        all.push(PageGlyphs::default());
                        continue;
                    }
                    // The batch consumed the operations: reduce the page again.
                    let fonts = &mut self.font_checks;
                    let again = catch_quietly(|| {
                        flatten::flatten_page(doc, cut, fonts, flat.id, flat.number, deadline)
                    });
                    match again {
                        Ok(Ok(page)) => flat.page = page,
                        _ => flat.page = flatten::Flattened::default(),
                    }
                    let one = std::slice::from_mut(flat);
                    let limits = (left, self.page_glyph_limit);
                    let drawn = match draw(doc, one, deadline, limits, &mut self.checked) {
                        Drawn::Done(one) => one,
                        Drawn::TimedOut(_) => return Err(flat.number),
                        Drawn::Failed(partial) => {
                            let kept = partial.first().map_or(0, |p| p.len());
                            // A page partly read counts as read: its glyphs are kept.
                            if kept == 0 {
                                self.failed += 1;
                            }
                            self.warnings.push(format!(
                                "page {} could not be fully read (the PDF reader failed); kept {kept} glyphs",
                                flat.number
                            ));
                            partial
                        }
                    };
                    left -= drawn.iter().map(|p| p.len()).sum::<usize>();
                    all.extend(drawn);
                }
                all
            }
        };
        for (flat, page) in flats.iter().zip(glyphs) {
            let number = flat.number;
            // Pages the batch drew after the document had kept all it may are not read, as
            // the pages after the batch are not: no page of them is named, or made a page
            // break, as if it had no text.
            if self.unread_from.is_some() || self.glyphs_left == 0 {
                self.unread_from.get_or_insert(number);
                continue;
            }
            self.unmapped += page.unmapped;
            if page.past_limit > 0 {
                // Some glyphs were kept (some were left when the page began): the text
                // stops partway through it.
                self.cut_at = Some((number, page.past_limit));
            }
            if page.past_page_limit > 0 {
                self.warnings.push(format!(
                    "page {number}: {} glyphs past the first {} of the page were left out",
                    page.past_page_limit, self.page_glyph_limit
                ));
            }
            self.glyphs_left -= page.len();
            let sides = turn::sides(&page, &flat.frame, &flat.page.rules);
            self.rotated += page.rotated + sides.left_out;
            // A page whose glyphs came past the document's limit is no scanned image: the
            // limit's own warning says what was left out; nor is one whose content the file
            // lost before any text.
            if sides.main.segments.is_empty() && sides.asides.is_empty() && page.past_limit == 0 {
                let why = if flat.page.cut {
                    "{pages}: no text came before the cut"
                } else {
                    "{pages} has no extractable text: scanned image?"
                };
                self.page_warning(number, why.to_owned());
            }
            self.segments.push((number, sides.main, sides.asides));
        }
        Ok(())
    }
}

/// The warning for fonts read without malformed entries: how many, and which kinds of entry.
fn malformed_warning(fonts: &BTreeSet<(Vec<u8>, Defect)>) -> Option<String> {
    let names: BTreeSet<&[u8]> = fonts.iter().map(|(name, _)| &name[..]).collect();
    if names.is_empty() {
        return None;
    }
    let defects: BTreeSet<Defect> = fonts.iter().map(|&(_, defect)| defect).collect();
    let defects: Vec<&str> = defects.into_iter().map(Defect::name).collect();
    Some(format!(
        "{} fonts have malformed entries ({}) and were read without them",
        names.len(),
        defects.join(", ")
    ))
}

/// One page's paragraphs, tables and code, before headings are known.
enum Piece {
    Para(paragraphs::Paragraph),
    Table(Vec<Vec<String>>),
    Code(String),
}

/// What one document may cost beyond its pages' own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DocLimits {
    /// Most operations drawn in one batch.
    pub batch_operations: usize,
    /// Most content bytes behind one batch.
    pub batch_bytes: usize,
    /// Most glyphs kept.
    pub glyphs: usize,
    /// Most glyphs kept on one page.
    pub page_glyphs: usize,
}

impl Default for DocLimits {
    fn default() -> Self {
        DocLimits {
            batch_operations: BATCH_OPERATIONS,
            batch_bytes: BATCH_BYTES,
            glyphs: MAX_GLYPHS_PER_DOCUMENT,
            page_glyphs: MAX_GLYPHS_PER_PAGE,
        }
    }
}

/// Parses a whole document within `budget` and `limits`.
pub(super) fn parse(
    bytes: &[u8],
    budget: Duration,
    limits: DocLimits,
) -> Result<Parsed, ParseError> {
    let started = Instant::now();
    let cpu_at_start = crate::cpu_time::of_this_thread();
    let deadline = started + budget;
    let load::Opened {
        mut doc,
        rebuilt,
        cut,
        lengths_wrong,
        objects_relexed,
        pages_boxed,
        pages_repeated,
    } = load::open(bytes).map_err(|err| match err {
        LoadError::Password => ParseError::PdfPassword,
        LoadError::Malformed(reason) => ParseError::PdfMalformed { reason },
        LoadError::Truncated => ParseError::PdfTruncated { bytes: bytes.len() },
    })?;
    let mut metadata = load::info_metadata(&doc);
    let pages = doc.get_pages();
    metadata.insert("pages".into(), pages.len().into());
    let timeout = |page: u32| ParseError::PdfTimeout {
        seconds: budget.as_secs(),
        page,
        cpu_percent: crate::cpu_time::share_since(started, cpu_at_start),
    };
    let mut read = Read {
        segments: Vec::with_capacity(pages.len()),
        warnings: Vec::new(),
        page_warnings: BTreeMap::new(),
        failed: 0,
        unmapped: 0,
        rotated: 0,
        cut_at: None,
        unread_from: None,
        glyphs_left: limits.glyphs,
        glyph_limit: limits.glyphs,
        page_glyph_limit: limits.page_glyphs,
        checked: font_streams::Checked::new(),
        font_checks: font_repair::Cache::default(),
        fonts_repaired: BTreeSet::new(),
        fonts_lost: BTreeSet::new(),
        fonts_malformed: BTreeSet::new(),
        fonts_undecodable: BTreeSet::new(),
        fonts_over_budget: BTreeSet::new(),
    };
    let mut forms = 0usize;
    // Pages are drawn in batches (fonts are parsed once a batch), each with a bounded number
    // of operations and bytes: what pdf-extract builds for them is bounded too.
    let mut batch: Vec<Flat> = Vec::new();
    let (mut batch_ops, mut batch_bytes) = (0usize, 0usize);
    // Codes the batch's fonts map (pdf-extract expands each font's CMap once a batch): a batch
    // ends before a page whose new fonts would take it past what one page may map.
    let mut batch_fonts: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut batch_codes = 0u64;
    let last = pages.keys().last().copied().unwrap_or(0);
    for (&number, &id) in &pages {
        if Instant::now() > deadline {
            return Err(timeout(number));
        }
        if read.glyphs_left == 0 {
            read.unread_from.get_or_insert(number);
            break;
        }
        let frame = match load::check_page(&doc, id) {
            Ok(frame) => frame,
            Err(reason) => {
                read.page_warning(number, format!("{{pages}} skipped: {reason}"));
                read.failed += 1;
                continue;
            }
        };
        let fonts = &mut read.font_checks;
        match catch_quietly(|| flatten::flatten_page(&doc, &cut, fonts, id, number, deadline)) {
            Ok(Ok(mut page)) => {
                if page.forms_too_deep {
                    read.page_warning(
                        number,
                        format!(
                            "{{pages}}: forms nested more than {} deep were left out, with their text",
                            flatten::MAX_FORM_DEPTH
                        ),
                    );
                }
                if page.cut {
                    read.page_warning(
                        number,
                        "{pages}: its content is cut short (the file is truncated or damaged); the text before the cut was read".to_owned(),
                    );
                }
                read.fonts_repaired.extend(page.fonts_repaired.drain(..));
                read.fonts_lost.extend(page.fonts_lost.drain(..));
                read.fonts_malformed.extend(page.fonts_malformed.drain(..));
                read.fonts_undecodable
                    .extend(page.fonts_undecodable.drain(..));
                read.fonts_over_budget
                    .extend(page.fonts_over_budget.drain(..));
                let new_codes = |fonts: &BTreeSet<Vec<u8>>| -> u64 {
                    page.mapped_codes
                        .iter()
                        .filter(|(name, _)| !fonts.contains(name))
                        .map(|(_, codes)| codes)
                        .sum()
                };
                if !batch.is_empty()
                    && batch_codes + new_codes(&batch_fonts) > cmap_guard::MAX_PAGE_MAPPED_CODES
                {
                    read.draw(&mut doc, &cut, &mut batch, deadline)
                        .map_err(&timeout)?;
                    batch.clear();
                    batch_fonts.clear();
                    (batch_ops, batch_bytes, batch_codes) = (0, 0, 0);
                }
                batch_codes += new_codes(&batch_fonts);
                batch_fonts.extend(page.mapped_codes.iter().map(|(name, _)| name.clone()));
                forms += page.forms;
                batch_ops += page.ops.len();
                batch_bytes += page.bytes;
                batch.push(Flat {
                    number,
                    id,
                    frame,
                    page,
                });
            }
            Ok(Err(_)) if Instant::now() > deadline => return Err(timeout(number)),
            Ok(Err(reason)) => {
                read.page_warning(number, format!("{{pages}} skipped: {reason}"));
                read.failed += 1;
            }
            Err(_) => {
                read.page_warning(
                    number,
                    "{pages} skipped: its content could not be read".to_owned(),
                );
                read.failed += 1;
            }
        }
        if batch_ops >= limits.batch_operations || batch_bytes >= limits.batch_bytes {
            read.draw(&mut doc, &cut, &mut batch, deadline)
                .map_err(&timeout)?;
            batch.clear();
            batch_fonts.clear();
            (batch_ops, batch_bytes, batch_codes) = (0, 0, 0);
        }
    }
    read.draw(&mut doc, &cut, &mut batch, deadline)
        .map_err(&timeout)?;
    drop(batch);
    read.summarise_page_warnings();
    let oversized = read.checked.values().filter(|fits| !**fits).count();
    if oversized > 0 {
        read.warnings.push(format!(
            "{oversized} font streams (font files or CMaps) decode to more than {} MiB and were left out",
            MAX_FONT_BYTES >> 20
        ));
    }
    if !read.fonts_repaired.is_empty() {
        read.warnings.push(format!(
            "{} fonts refer to objects missing from the file and were read without them",
            read.fonts_repaired.len()
        ));
    }
    if let Some(warning) = malformed_warning(&read.fonts_malformed) {
        read.warnings.push(warning);
    }
    if !read.fonts_lost.is_empty() {
        read.warnings.push(format!(
            "{} fonts are missing from the file or lack what they need; the text shown in them was left out",
            read.fonts_lost.len()
        ));
    }
    if !read.fonts_undecodable.is_empty() {
        let mut encodings: Vec<&str> = read
            .fonts_undecodable
            .iter()
            .map(|(_, e)| e.as_str())
            .collect();
        encodings.sort_unstable();
        encodings.dedup();
        read.warnings.push(format!(
            "{} fonts use an encoding that cannot be decoded without its CMap ({}); the text shown in them was left out",
            read.fonts_undecodable.len(),
            encodings.join(", ")
        ));
    }
    if !read.fonts_over_budget.is_empty() {
        read.warnings.push(format!(
            "{} fonts were left out, with the text shown in them: a page's fonts may map at most {} character codes through their ToUnicode CMaps",
            read.fonts_over_budget.len(),
            cmap_guard::MAX_PAGE_MAPPED_CODES
        ));
    }
    let Read {
        segments: page_segments,
        mut warnings,
        failed,
        unmapped,
        rotated,
        cut_at,
        unread_from,
        glyph_limit,
        ..
    } = read;
    if failed == pages.len() {
        // Why the first page failed, which is often why they all did.
        let reason = match warnings.first() {
            Some(first) => format!("no page could be read ({first})"),
            None => "no page could be read".into(),
        };
        return Err(ParseError::PdfMalformed { reason });
    }
    let unread = unread_from.map_or(0, |first| pages.range(first..).count());
    if rebuilt {
        warnings.push(format!(
            "the file is damaged (cross-reference table rebuilt); {} pages read",
            pages.len().saturating_sub(failed + unread)
        ));
    }
    if pages_repeated > 0 {
        warnings.push(
            "the page tree is damaged: it reaches a page again (it lists a page twice, or loops back on itself); each page was read once"
                .to_owned(),
        );
    }
    if pages_boxed > 0 {
        warnings.push(format!(
            "{pages_boxed} pages have no usable media box (missing, malformed or of no area) and were read as US Letter"
        ));
    }
    if objects_relexed > 0 {
        warnings.push(format!(
            "the file is damaged: {objects_relexed} objects hold a token that is no PDF object (such as 1.2.3, a stray parenthesis or an exponent number); each was read without the entry that held it"
        ));
    }
    if lengths_wrong > 0 {
        warnings.push(format!(
            "the file is damaged: {lengths_wrong} streams have a wrong or missing /Length and were read up to their endstream"
        ));
    }
    if unmapped > 0 {
        warnings.push(format!("{unmapped} glyphs had no Unicode mapping"));
    }
    if rotated > 0 {
        warnings.push(format!("{rotated} rotated glyphs were left out"));
    }
    if let Some(warning) = glyph_limit_warning(glyph_limit, cut_at, unread_from, last) {
        // First, before what follows from it.
        warnings.insert(0, warning);
    }
    // The passes over all pages below check the budget too: past it, the reader stops by
    // itself rather than run on after the document has failed.
    let last_read = page_segments.last().map_or(0, |(number, _, _)| *number);
    if Instant::now() > deadline {
        return Err(timeout(last_read));
    }
    let drop = {
        let views: Vec<(&[Segment], f32)> = page_segments
            .iter()
            .map(|(_, main, _)| (main.segments.as_slice(), main.height))
            .collect();
        furniture::furniture(&views)
    };
    // Monospaced lines are code, unless the whole document is set that way.
    let find_code = !code::mono_body(
        page_segments
            .iter()
            .flat_map(|(_, main, asides)| std::iter::once(main).chain(asides))
            .flat_map(|side| &side.segments),
    );
    let mut page_pieces: Vec<(u32, Vec<Piece>)> = Vec::with_capacity(page_segments.len());
    for ((number, mut main, asides), drop) in page_segments.into_iter().zip(drop) {
        if Instant::now() > deadline {
            return Err(timeout(number));
        }
        let mut keep = vec![true; main.segments.len()];
        for i in drop {
            keep[i] = false;
        }
        let mut k = keep.iter();
        main.segments.retain(|_| k.next().copied().unwrap_or(true));
        // Text set in another turn than the page's (a table set sideways) follows its text.
        let pieces = std::iter::once(main)
            .chain(asides)
            .flat_map(|side| page_pieces_of(&side.segments, &side.rules, find_code))
            .collect();
        page_pieces.push((number, pieces));
    }
    let body = headings::body_size(page_pieces.iter().flat_map(|(_, pieces)| {
        pieces.iter().filter_map(|p| match p {
            Piece::Para(p) => Some((p.size, p.text.len())),
            Piece::Table(_) | Piece::Code(_) => None,
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
    let mut blocks: Vec<Block> = Vec::new();
    let mut indents = ListIndents::default();
    // Size and weight of the page's last piece, when it is running text.
    let mut tail: Option<(f32, bool)> = None;
    for (i, (number, pieces)) in page_pieces.into_iter().enumerate() {
        let mut pieces = pieces.into_iter().peekable();
        // The running text a page that only continues a paragraph hands on to the next.
        let mut continued_tail = None;
        if i > 0 {
            // A sentence the page end cut stays one paragraph, which starts on one page and
            // goes on to the next, and the one after when it fills a page of its own (the
            // page breaks it spans follow it).
            let last = blocks
                .iter_mut()
                .rev()
                .find(|block| !matches!(block.kind, BlockKind::PageBreak));
            if let (Some(last), Some(tail), Some(Piece::Para(first))) = (last, tail, pieces.peek())
                && matches!(last.kind, BlockKind::Paragraph | BlockKind::ListItem { .. })
                && paragraphs::continues_on_next_page(&last.text, tail, first)
            {
                paragraphs::join_line(&mut last.text, &first.text);
                last.continued
                    .push((number, last.text.len() - first.text.len()));
                continued_tail = Some((first.size, first.bold));
                pieces.next();
            }
            blocks.push(Block {
                kind: BlockKind::PageBreak,
                text: String::new(),
                page: number,
                continued: Vec::new(),
            });
        }
        tail = continued_tail;
        for piece in pieces {
            tail = match &piece {
                Piece::Para(p) => Some((p.size, p.bold)),
                Piece::Table(_) | Piece::Code(_) => None,
            };
            blocks.push(match piece {
                Piece::Table(rows) => {
                    indents.reset();
                    Block {
                        text: rows
                            .iter()
                            .map(|r| r.join("\t"))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        kind: BlockKind::Table(rows),
                        page: number,
                        continued: Vec::new(),
                    }
                }
                Piece::Code(text) => Block {
                    kind: BlockKind::Code,
                    text,
                    page: number,
                    continued: Vec::new(),
                },
                Piece::Para(p) => classify(p, &levels, number, &mut indents),
            });
        }
    }
    demote_label_runs(&mut blocks);
    demote_continued_words(&mut blocks);
    mark_contents_entries(&mut blocks, pages.len());
    align_numbered_levels(&mut blocks);
    nest_numbered_subsections(&mut blocks);
    let (markdown, elements) = render::render(&blocks);
    let mut stats = crate::model::Metadata::new();
    stats.insert("pages".into(), pages.len().into());
    stats.insert("forms_inlined".into(), forms.into());
    Ok(Parsed {
        markdown,
        elements,
        metadata,
        warnings,
        stats,
    })
}

/// What the document's limit of glyphs (`limit`) left out: the rest of the page `cut_at` names
/// (with how many of its glyphs), and the pages from `unread_from` to `last`.
fn glyph_limit_warning(
    limit: usize,
    cut_at: Option<(u32, usize)>,
    unread_from: Option<u32>,
    last: u32,
) -> Option<String> {
    let cut = cut_at.map(|(page, left_out)| {
        format!("the text stops partway through page {page} ({left_out} of its glyphs left out)")
    });
    let unread = unread_from.map(|first| match first == last {
        true => format!("page {first} was not read"),
        false => format!("pages {first}–{last} were not read"),
    });
    let what = match (cut, unread) {
        (None, None) => return None,
        (Some(one), None) | (None, Some(one)) => one,
        (Some(cut), Some(unread)) => format!("{cut}, and {unread}"),
    };
    Some(format!(
        "the document reached the most glyphs kept ({limit}): {what}"
    ))
}

/// Fewest consecutive same-level headings, with nothing between them, that are taken for
/// labels (a grid of names, a table of contents) rather than headings.
const LABEL_RUN: usize = 3;

/// Turns runs of [`LABEL_RUN`] or more headings of one level with no text between them
/// (page breaks aside) back into paragraphs: a heading heads something. A run numbered in
/// order (`4. REPORT`, `5. DISCUSSION`, `5.1 Board Governance`, `6. ADJOURNMENT`: an agenda's
/// last items) stays: names in a grid are not numbered so.
fn demote_label_runs(blocks: &mut [Block]) {
    let mut i = 0;
    while i < blocks.len() {
        let BlockKind::Heading(level) = blocks[i].kind else {
            i += 1;
            continue;
        };
        let mut members = vec![i];
        let mut j = i + 1;
        while j < blocks.len() {
            match blocks[j].kind {
                BlockKind::Heading(l) if l == level => members.push(j),
                BlockKind::PageBreak => {}
                _ => break,
            }
            j += 1;
        }
        if members.len() >= LABEL_RUN && !numbered_in_order(members.iter().map(|&k| &blocks[k])) {
            for k in members {
                blocks[k].kind = BlockKind::Paragraph;
            }
        }
        i = j.max(i + 1);
    }
}

/// Gives the headings numbered to one depth of two parts or more (`3.3.1`, `3.7.4`) one level:
/// the one most of them have (on a tie, the first's). Most such headings of a manual are set
/// alike, but one set in another size took that size's level (freefem's `3.7.4 2-Systems` was
/// `####`, its siblings `######`), and the siblings after it fell under it in section paths.
fn align_numbered_levels(blocks: &mut [Block]) {
    // Per depth: each level met, with how many headings have it and where it was first met.
    let mut levels: HashMap<usize, Vec<(u8, usize, usize)>> = HashMap::new();
    for (at, block) in blocks.iter().enumerate() {
        let BlockKind::Heading(level) = block.kind else {
            continue;
        };
        let Some(depth) = section_number(&block.text)
            .map(|number| number.len())
            .filter(|&depth| depth >= 2)
        else {
            continue;
        };
        let met = levels.entry(depth).or_default();
        match met.iter_mut().find(|(l, _, _)| *l == level) {
            Some((_, count, _)) => *count += 1,
            None => met.push((level, 1, at)),
        }
    }
    let chosen: HashMap<usize, u8> = levels
        .into_iter()
        .filter(|(_, met)| met.len() > 1)
        .filter_map(|(depth, met)| {
            let (level, _, _) = met
                .into_iter()
                .max_by_key(|&(_, count, first)| (count, std::cmp::Reverse(first)))?;
            Some((depth, level))
        })
        .collect();
    if chosen.is_empty() {
        return;
    }
    for block in blocks.iter_mut() {
        if let BlockKind::Heading(level) = &mut block.kind
            && let Some(depth) = section_number(&block.text).map(|number| number.len())
            && let Some(&aligned) = chosen.get(&depth)
        {
            *level = aligned;
        }
    }
}

/// Puts a numbered heading (`5.1 Board Governance`) one level under the nearest heading before
/// it numbered as its parent (`5. DISCUSSION`) when it was not already under it: set in bold at
/// the parent's size, it took the parent's level, and its text fell beside the parent's in
/// section paths rather than under it.
fn nest_numbered_subsections(blocks: &mut [Block]) {
    // The level of the last heading met with each section number.
    let mut numbered: HashMap<Vec<u32>, u8> = HashMap::new();
    for block in blocks.iter_mut() {
        let BlockKind::Heading(level) = &mut block.kind else {
            continue;
        };
        let Some(number) = section_number(&block.text) else {
            continue;
        };
        if number.len() >= 2
            && let Some(&parent) = numbered.get(&number[..number.len() - 1])
            && parent >= *level
            && parent < 6
        {
            *level = parent + 1;
        }
        numbered.insert(number, *level);
    }
}

/// Whether every block opens with a section number (`4.`, `5.1`, `2.3.1`) and the numbers rise
/// from one block to the next.
fn numbered_in_order<'b>(blocks: impl Iterator<Item = &'b Block>) -> bool {
    let mut previous: Option<Vec<u32>> = None;
    for block in blocks {
        let Some(number) = section_number(&block.text) else {
            return false;
        };
        if previous.is_some_and(|previous| previous >= number) {
            return false;
        }
        previous = Some(number);
    }
    true
}

/// The section number opening `text` (`5.1 Board Governance` → [5, 1]; `4. REPORT` → [4]),
/// followed by white space and a title.
fn section_number(text: &str) -> Option<Vec<u32>> {
    let (number, title) = text.split_once(char::is_whitespace)?;
    let parts: Vec<u32> = number
        .strip_suffix('.')
        .unwrap_or(number)
        .split('.')
        .map(|part| {
            (!part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse().ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    (parts.len() <= 5 && title.chars().any(char::is_alphabetic)).then_some(parts)
}

/// Turns a heading right after text that breaks off inside a word (`… AND CON-`) back into a
/// paragraph when it reads as the rest of that word, in its case (`TROL OF IB AT CORNERS`): it
/// is the rest of that text, set apart, not a title. (A numbered heading, or one in another
/// case, is a title that reading order put there.)
fn demote_continued_words(blocks: &mut [Block]) {
    for i in 1..blocks.len() {
        if !matches!(blocks[i].kind, BlockKind::Heading(_))
            || !matches!(
                blocks[i - 1].kind,
                BlockKind::Paragraph | BlockKind::ListItem { .. }
            )
        {
            continue;
        }
        let before = blocks[i - 1].text.trim_end();
        let Some(fragment) = before
            .strip_suffix(['-', '\u{2010}', '\u{ad}'])
            .and_then(|rest| rest.split_whitespace().last())
            .filter(|word| word.chars().all(char::is_alphabetic))
        else {
            continue;
        };
        let first = blocks[i].text.split_whitespace().next().unwrap_or_default();
        let letters = |word: &str| word.chars().all(char::is_alphabetic);
        let upper = |word: &str| word.chars().all(char::is_uppercase);
        let lower = |word: &str| word.chars().all(char::is_lowercase);
        let same_case = upper(fragment) && upper(first) || lower(first);
        if letters(first) && !first.is_empty() && same_case {
            blocks[i].kind = BlockKind::Paragraph;
        }
    }
}

/// Paragraphs with leader dots (`Programs . . . . 12`) a page must hold, and their least share
/// of its blocks, to be a table of contents.
const CONTENTS_LINES: usize = 5;
const CONTENTS_SHARE: f32 = 0.3;
/// Least share of a table of contents' entries, one after the other, in order: a contents' page
/// numbers rise, an index's titles go from A to Z, a price list's (`Coffee . . . 3`) do neither.
const CONTENTS_IN_ORDER: f32 = 0.8;
/// Most words of an entry without leader dots (`4 Examples 33`, `Sockets, 26, 31`) or of a line
/// between entries (`Part II`, an index's `B`); prose is longer.
const ENTRY_WORDS: usize = 16;

/// Whether the entries among `blocks` are in order, as a table of contents' or a book index's
/// are, in a document of `pages` pages: their page numbers rise (roman numerals aside, the
/// front matter's) and stay within the document, or most entries are numbered sections (a
/// contents page printed on its own); or their titles go from A to Z and their pages stay
/// within the document (an index). A price list's prices are in neither order, or, sorted,
/// pass the document's last page.
fn entries_in_order(blocks: &[Block], pages: usize) -> bool {
    let entries: Vec<(String, &str)> = blocks
        .iter()
        .filter_map(|block| {
            let page = super::leaders::entry_page(&block.text)?;
            Some((block.text.to_lowercase(), page))
        })
        .collect();
    let numbers: Vec<u32> = entries
        .iter()
        .filter_map(|(_, page)| page.parse().ok())
        .collect();
    let titles: Vec<&str> = entries.iter().map(|(title, _)| title.as_str()).collect();
    let within = numbers
        .iter()
        .max()
        .is_none_or(|&last| usize::try_from(last).is_ok_and(|last| last <= pages));
    let sections = (entries.iter())
        .filter(|(title, _)| section_number(title).is_some())
        .count();
    let numbered = 2 * sections >= entries.len();
    mostly_in_order(&numbers) && (within || numbered) || mostly_in_order(&titles) && within
}

/// Whether at least [`CONTENTS_IN_ORDER`] of the pairs of neighbours in `items` are in order
/// (none to compare counts as in order).
fn mostly_in_order<T: PartialOrd>(items: &[T]) -> bool {
    let pairs = items.len().saturating_sub(1);
    let ordered = items.windows(2).filter(|pair| pair[0] <= pair[1]).count();
    ordered as f32 >= CONTENTS_IN_ORDER * pairs as f32
}

/// Whether `block` reads as a table of contents' entry by itself: leader dots, or a short line
/// ending with a page number (`4 Examples 33`, a bold chapter's entry).
fn reads_as_entry(block: &Block) -> bool {
    let text = &block.text;
    super::leaders::has_leader_dots(text)
        || super::leaders::ends_with_page_number(text)
            && text.split_whitespace().count() <= ENTRY_WORDS
}

/// Marks the entries of a table of contents' or an index's pages, in a document of `pages`
/// pages: the blocks that read as entries (leader dots, or a short line ending with a page
/// number), the short ones between them (a chapter's title set in bold with no page, a `Part
/// II`, an index's letter) and numbered titles or letters right above the first. What comes
/// before the first entry (the `Contents` title, a preface) or after the last (the first
/// chapter, when it starts on that page) keeps its kind (but for a line that is only the page's
/// number), as do tables and code. A page of leader dots in no order (a price list, a form) is
/// no contents; an index is.
fn mark_contents_entries(blocks: &mut [Block], pages: usize) {
    // The last page found to be contents.
    let mut contents_page = None;
    let mut start = 0;
    while start < blocks.len() {
        let page = blocks[start].page;
        let end = (start..blocks.len())
            .find(|&i| blocks[i].page != page)
            .unwrap_or(blocks.len());
        let on_page = &blocks[start..end];
        let blocks_on_page = (on_page.iter())
            .filter(|b| b.kind != BlockKind::PageBreak)
            .count();
        let share = |count: usize| count as f32 >= CONTENTS_SHARE * blocks_on_page as f32;
        let dotted = (on_page.iter())
            .filter(|b| super::leaders::has_leader_dots(&b.text))
            .count();
        // The last page of an index or contents may hold only a few entries (`yaml . . . 7`):
        // right after such a page, entries with leader dots and pages are enough.
        let listed = (on_page.iter())
            .filter(|b| {
                super::leaders::has_leader_dots(&b.text)
                    && super::leaders::entry_page(&b.text).is_some()
            })
            .count();
        let opens = dotted >= CONTENTS_LINES && share(dotted);
        let goes_on =
            contents_page.is_some_and(|p: u32| p + 1 == page) && listed > 0 && share(listed);
        if (opens || goes_on) && entries_in_order(on_page, pages) {
            contents_page = Some(page);
            mark_entries_of_page(&mut blocks[start..end]);
        }
        start = end;
    }
}

/// Marks the entries of one contents or index page (see [`mark_contents_entries`]).
fn mark_entries_of_page(page: &mut [Block]) {
    let textual = |b: &Block| {
        matches!(
            b.kind,
            BlockKind::Heading(_) | BlockKind::Paragraph | BlockKind::ListItem { .. }
        )
    };
    let short = |b: &Block| b.text.split_whitespace().count() <= ENTRY_WORDS;
    let entries: Vec<bool> = (page.iter())
        .map(|b| textual(b) && reads_as_entry(b))
        .collect();
    // A numbered title right above the first entry is its chapter's (`1 Basics`, in bold with
    // no page), and a letter there the index's group (`S`); below the last entry, a numbered
    // title is the first chapter starting.
    let heads_entries = |b: &Block| {
        let titled = section_number(&b.text).is_some() || super::leaders::group_letter(&b.text);
        textual(b) && short(b) && titled
    };
    let first = (entries.iter().position(|&e| e)).map(|first| {
        first
            - page[..first]
                .iter()
                .rev()
                .take_while(|b| heads_entries(b))
                .count()
    });
    let last = entries.iter().rposition(|&e| e);
    let (Some(first), Some(last)) = (first, last) else {
        return;
    };
    for (i, block) in page.iter_mut().enumerate() {
        let between = first <= i && i < last && textual(block) && short(block);
        // The page's own number, a one-page document's furniture, goes with them.
        let folio = textual(block) && super::leaders::page_number(&block.text);
        if entries[i] || between || folio {
            block.kind = BlockKind::ContentsEntry;
        }
    }
}

/// A paragraph as a heading, a list item (nested by its indentation among the items around
/// it) or running text.
fn classify(
    p: paragraphs::Paragraph,
    levels: &Levels,
    page: u32,
    indents: &mut ListIndents,
) -> Block {
    if let Some(level) = levels.level(&p.text, p.size, p.lines, p.bold) {
        indents.reset();
        return Block {
            kind: BlockKind::Heading(level),
            text: p.text,
            page,
            continued: Vec::new(),
        };
    }
    if let Some(label) = p.label {
        let ordered = label.ordered();
        // Labels are set left- or right-aligned (`9.` and `10.` end together): the item's text
        // starts about a label's width (half a font size a character, and a space) right of it.
        // A right-to-left item is measured from the right.
        let width = (label.len as f32 * 0.5 + 0.25) * p.size;
        let at = if super::bidi::mostly_rtl(std::iter::once(p.text.as_str())) {
            (-p.x1, -p.x1 + width)
        } else {
            (p.x0, p.x0 + width)
        };
        let text = if ordered {
            p.text
        } else {
            p.text[label.len..].trim_start().to_string()
        };
        return Block {
            kind: BlockKind::ListItem {
                ordered,
                depth: indents.item(at, p.size),
            },
            text,
            page,
            continued: Vec::new(),
        };
    }
    indents.text(p.x0, p.size);
    Block {
        kind: BlockKind::Paragraph,
        text: p.text,
        page,
        continued: Vec::new(),
    }
}

/// Deepest list nesting told from indentation.
const MAX_LIST_DEPTH: usize = 8;
/// Widest indentation step between list levels, in font sizes; a wider jump sideways is
/// another column, not a deeper level.
const MAX_INDENT_STEP: f32 = 6.0;

/// The edges of the open list levels, outermost first, each the left edge of its items' label
/// and (about) of their text: an item indented past the innermost level opens a level, one back
/// at an outer level's edges closes the levels inside. An item at either edge of a level is on
/// that level, so that labels of different widths set right-aligned (`iii.` and `iv.`) or
/// left-aligned stay on one level.
#[derive(Debug, Default)]
struct ListIndents {
    edges: Vec<(f32, f32)>,
}

impl ListIndents {
    /// The depth of a list item whose label starts at `at.0` and text at `at.1`.
    fn item(&mut self, at: (f32, f32), size: f32) -> u32 {
        let tolerance = 0.5 * size;
        let same =
            |e: (f32, f32)| (at.0 - e.0).abs() <= tolerance || (at.1 - e.1).abs() <= tolerance;
        while self
            .edges
            .last()
            .is_some_and(|&e| !same(e) && e.0 > at.0 + tolerance)
        {
            self.edges.pop();
        }
        match self.edges.last() {
            Some(&e) if same(e) => {}
            Some(&e) if at.0 > e.0 + tolerance && at.0 - e.0 <= MAX_INDENT_STEP * size => {
                if self.edges.len() < MAX_LIST_DEPTH {
                    self.edges.push(at);
                }
            }
            Some(&e) if at.0 > e.0 + tolerance => self.edges = vec![at],
            Some(_) => {}
            None => self.edges.push(at),
        }
        self.edges.len().saturating_sub(1) as u32
    }

    /// Running text at `x0`: text left of the list (back at the margin, or another column)
    /// ends it; text indented under an item continues it.
    fn text(&mut self, x0: f32, size: f32) {
        if self
            .edges
            .first()
            .is_some_and(|&(e, _)| x0 < e - 0.5 * size || x0 - e > MAX_INDENT_STEP * size * 2.0)
        {
            self.reset();
        }
    }

    /// A heading or table ends the lists.
    fn reset(&mut self) {
        self.edges.clear();
    }
}

/// The smallest segment that covers segments `cells` of `segments` (at least one).
fn bounding_box(segments: &[Segment], cells: &[usize]) -> Option<Segment> {
    let first = &segments[*cells.first()?];
    let mut bbox = Segment {
        text: String::new(),
        ..first.clone()
    };
    for &c in cells {
        let s = &segments[c];
        bbox.x0 = bbox.x0.min(s.x0);
        bbox.x1 = bbox.x1.max(s.x1);
        bbox.y = bbox.y.min(s.y);
        bbox.y_last = bbox.y_last.max(s.y);
    }
    Some(bbox)
}

/// Tables found by `find` among the segments not yet `taken` (indices mapped back to
/// `segments`).
fn tables_among(
    segments: &[Segment],
    taken: &[bool],
    find: impl Fn(&[Segment]) -> Vec<tables::Table>,
) -> Vec<tables::Table> {
    let rest: Vec<usize> = (0..segments.len()).filter(|&i| !taken[i]).collect();
    if rest.len() == segments.len() {
        return find(segments);
    }
    let kept: Vec<Segment> = rest.iter().map(|&i| segments[i].clone()).collect();
    let mut found = find(&kept);
    for table in &mut found {
        for cell in table.rows.iter_mut().flatten().flatten() {
            *cell = rest[*cell];
        }
    }
    found
}

/// The text of a table cell: its segments' lines joined, pieces of one line from the right
/// when `rtl`.
fn cell_text(segments: &[Segment], cell: &[usize], rtl: bool) -> String {
    let mut order = cell.to_vec();
    if rtl {
        for line in lines::rows(
            &cell
                .iter()
                .map(|&k| segments[k].clone())
                .collect::<Vec<_>>(),
        ) {
            let mut ks: Vec<usize> = line.iter().map(|&i| cell[i]).collect();
            ks.reverse();
            let first = line.iter().copied().min().unwrap_or(0);
            order.splice(first..first + ks.len(), ks);
        }
    }
    let mut text = String::new();
    for k in order {
        paragraphs::join_line(&mut text, &segments[k].text);
    }
    text
}

/// Lays out one page: code blocks (when `find_code`), tables (ruled by `rules`, then told from
/// the text), reading order, paragraphs.
fn page_pieces_of(segments: &[Segment], rules: &PageRules, find_code: bool) -> Vec<Piece> {
    // A list whose labels a layout set as a column of their own is no table.
    let joined = lists::join_label_columns(segments);
    let segments = joined.as_deref().unwrap_or(segments);
    let mut in_table = vec![false; segments.len()];
    let mut units: Vec<Unit> = Vec::new();
    let mut boxes: Vec<Segment> = Vec::new();
    if find_code {
        for block in code::find(segments) {
            let cells: Vec<usize> = block.rows.iter().flatten().copied().collect();
            let Some(bbox) = bounding_box(segments, &cells) else {
                continue;
            };
            for &c in &cells {
                in_table[c] = true;
            }
            boxes.push(bbox);
            units.push(Unit::Code(code::text(&block, segments)));
        }
    }
    // Ruled tables among the lines that are not code, then tables told from the text among
    // the rest.
    for ruled in [true, false] {
        let found = if ruled {
            tables_among(segments, &in_table, |segs| grid::find(segs, rules))
        } else {
            tables_among(segments, &in_table, tables::find)
        };
        for table in found {
            let cells: Vec<usize> = table.rows.iter().flatten().flatten().copied().collect();
            let Some(bbox) = bounding_box(segments, &cells) else {
                continue;
            };
            for &c in &cells {
                in_table[c] = true;
            }
            boxes.push(bbox);
            units.push(Unit::Table(table));
        }
    }
    for (i, s) in segments.iter().enumerate() {
        if !in_table[i] {
            boxes.push(s.clone());
            units.push(Unit::Line(i));
        }
    }
    // A right-to-left page is ordered as its mirror image: columns and pieces of a line from
    // the right.
    let rtl = super::bidi::mostly_rtl(segments.iter().map(|s| s.text.as_str()));
    if rtl {
        let right = boxes.iter().map(|b| b.x1).fold(0.0f32, f32::max);
        for b in &mut boxes {
            (b.x0, b.x1) = (right - b.x1, right - b.x0);
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
                let mut rows: Vec<Vec<String>> = table
                    .rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|cell| cell_text(segments, cell, rtl))
                            .collect()
                    })
                    .collect();
                // A right-to-left table's first column is its rightmost, as HTML and DOCX
                // give it.
                if super::bidi::mostly_rtl(rows.iter().flatten().map(String::as_str)) {
                    rows.iter_mut().for_each(|row| row.reverse());
                }
                pieces.push(Piece::Table(rows));
            }
            Unit::Code(text) => {
                pieces.extend(paragraphs::paragraphs(&run).into_iter().map(Piece::Para));
                run.clear();
                pieces.push(Piece::Code(text.clone()));
            }
        }
    }
    pieces.extend(paragraphs::paragraphs(&run).into_iter().map(Piece::Para));
    pieces
}

/// Pages by number, runs as ranges, at most 10 of them: "page 3", "pages 3, 5–9 and 12",
/// "pages 1–4, 7, … (12,000 pages)".
fn page_list(pages: &[u32]) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &page in pages {
        match runs.last_mut() {
            Some((_, last)) if page == *last + 1 => *last = page,
            _ => runs.push((page, page)),
        }
    }
    let shown: Vec<String> = (runs.iter().take(10))
        .map(|&(first, last)| match first == last {
            true => first.to_string(),
            false => format!("{first}–{last}"),
        })
        .collect();
    match (pages.len(), runs.len()) {
        (1, _) => format!("page {}", shown[0]),
        (_, 1) => format!("pages {}", shown[0]),
        (_, n) if n <= 10 => {
            let (last, rest) = shown.split_last().expect("two runs or more");
            format!("pages {} and {last}", rest.join(", "))
        }
        (count, _) => format!("pages {}, … ({count} pages)", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A truncated file of 20,000 pages gave a warning a page, 25,000 of them: pages are
    /// named in one warning for each thing said of them.
    #[test]
    fn pages_are_named_as_runs() {
        assert_eq!(page_list(&[3]), "page 3");
        assert_eq!(page_list(&[3, 4, 5]), "pages 3–5");
        assert_eq!(page_list(&[3, 5, 6, 7, 12]), "pages 3, 5–7 and 12");
        let scattered: Vec<u32> = (1..=30).map(|p| p * 2).collect();
        assert_eq!(
            page_list(&scattered),
            "pages 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, … (30 pages)"
        );
    }

    fn block(kind: BlockKind) -> Block {
        Block {
            kind,
            text: "t".into(),
            page: 1,
            continued: Vec::new(),
        }
    }

    /// A right-to-left table's first column is its rightmost (the name column of a Hebrew
    /// price list), as HTML and DOCX give it; a left-to-right one keeps page order.
    #[test]
    fn a_right_to_left_tables_columns_start_at_the_right() {
        let table = |cells: [[&str; 3]; 3]| -> Vec<Segment> {
            let mut segs = Vec::new();
            for (r, row) in cells.iter().enumerate() {
                for (c, text) in row.iter().enumerate() {
                    let x0 = 72.0 + 120.0 * c as f32;
                    segs.push(Segment::plain(text, x0, x0 + 40.0, 100.0 + 14.0 * r as f32));
                }
            }
            segs
        };
        let first_rows = |segs: &[Segment]| -> Vec<Vec<String>> {
            page_pieces_of(segs, &PageRules::default(), false)
                .into_iter()
                .find_map(|piece| match piece {
                    Piece::Table(rows) => Some(rows),
                    _ => None,
                })
                .expect("a table")
        };
        let hebrew = table([
            ["מחיר", "כמות", "שם"],
            ["1.50", "10", "תפוח"],
            ["0.25", "200", "בננה"],
        ]);
        assert_eq!(first_rows(&hebrew)[0], ["שם", "כמות", "מחיר"]);
        let english = table([
            ["Name", "Qty", "Price"],
            ["Apple", "10", "1.50"],
            ["Banana", "200", "0.25"],
        ]);
        assert_eq!(first_rows(&english)[0], ["Name", "Qty", "Price"]);
    }

    #[test]
    fn list_depth_follows_indentation_among_items() {
        let mut indents = ListIndents::default();
        let mut depths = Vec::new();
        for x0 in [72.0, 90.0, 108.0, 91.0, 72.0, 300.0, 318.0] {
            depths.push(indents.item((x0, x0 + 8.0), 10.0));
        }
        // 300 is another column: a new list, not a level 4 cm in.
        assert_eq!(depths, [0, 1, 2, 1, 0, 0, 1]);
        indents.text(72.0, 10.0);
        assert_eq!(
            indents.item((90.0, 98.0), 10.0),
            0,
            "text at the margin ends the list"
        );
        indents.text(100.0, 10.0);
        assert_eq!(
            indents.item((108.0, 116.0), 10.0),
            1,
            "text under an item does not"
        );
        // Right-aligned labels (`i.` … `iv.`, then `I.`) start at different edges, and their
        // text at one.
        indents.reset();
        let depths: Vec<u32> = [
            (79.0, 90.0),
            (77.0, 90.5),
            (74.7, 90.0),
            (76.8, 90.2),
            (80.9, 90.0),
        ]
        .into_iter()
        .map(|at| indents.item(at, 11.0))
        .collect();
        assert_eq!(depths, [0, 0, 0, 0, 0]);
    }

    fn text_block(kind: BlockKind, text: &str, page: u32) -> Block {
        Block {
            text: text.into(),
            page,
            ..block(kind)
        }
    }

    /// A bold line after text that breaks off inside a word, in that word's case, is the rest
    /// of the text; a numbered heading there is a title reading order put there.
    #[test]
    fn the_rest_of_a_broken_word_is_no_heading() {
        use BlockKind::{Heading, ListItem, Paragraph};
        let item = ListItem {
            ordered: false,
            depth: 0,
        };
        let mut blocks = vec![
            text_block(item.clone(), "A SQUARE WITH SIDES AND CON-", 1),
            text_block(Heading(4), "TROL OF IB AT CORNERS", 1),
            text_block(Paragraph, "You must delete all sections entitled “En-", 2),
            text_block(Heading(3), "5.6 Collections of Documents", 2),
        ];
        demote_continued_words(&mut blocks);
        let kinds: Vec<BlockKind> = blocks.into_iter().map(|b| b.kind).collect();
        assert_eq!(kinds, [item, Paragraph, Paragraph, Heading(3)]);
    }

    /// On a page of a table of contents, its entries, set in bold or not, are entries; its
    /// title is a heading, and the pages after it keep their kinds.
    #[test]
    fn a_table_of_contents_entries_are_entries() {
        use BlockKind::{ContentsEntry, Heading, Paragraph};
        let mut blocks = vec![text_block(Heading(1), "Contents", 1)];
        for n in 1..=6 {
            blocks.push(text_block(Heading(4), &format!("{n} Chapter"), 1));
            blocks.push(text_block(
                Paragraph,
                &format!("{n}.1 Section . . . . . {n}"),
                1,
            ));
        }
        // The contents' second page opens with a chapter's entry.
        blocks.push(text_block(Heading(4), "7 Examples 33", 2));
        for n in 1..=6 {
            blocks.push(text_block(Paragraph, &format!("7.{n} Example . . . 33"), 2));
        }
        blocks.push(text_block(Heading(1), "Introduction", 3));
        blocks.push(text_block(Heading(2), "Scope", 3));
        blocks.push(text_block(Paragraph, "See section 2.1 . . . below.", 3));
        mark_contents_entries(&mut blocks, 40);
        let headings: Vec<&str> = blocks
            .iter()
            .filter(|b| matches!(b.kind, Heading(_)))
            .map(|b| b.text.as_str())
            .collect();
        assert_eq!(headings, ["Contents", "Introduction", "Scope"]);
        let entries = blocks.iter().filter(|b| b.kind == ContentsEntry).count();
        assert_eq!(entries, 6 + 6 + 1 + 6);
        assert_eq!(blocks.last().unwrap().kind, Paragraph);
    }

    /// A price list set with leader dots is no table of contents: neither its numbers nor its
    /// names are in order.
    #[test]
    fn a_price_list_with_leader_dots_is_no_contents() {
        use BlockKind::{Heading, Paragraph};
        let mut blocks = vec![text_block(Heading(1), "Drinks", 1)];
        for (item, price) in [
            ("Tea", 3),
            ("Coffee", 2),
            ("Water", 4),
            ("Juice", 1),
            ("Soda", 2),
        ] {
            blocks.push(text_block(Paragraph, &format!("{item} . . . {price}"), 1));
        }
        blocks.push(text_block(Heading(2), "Cakes . . . 5", 1));
        mark_contents_entries(&mut blocks, 1);
        assert!(blocks.iter().all(|b| b.kind != BlockKind::ContentsEntry));
        assert_eq!(blocks.last().unwrap().kind, Heading(2));
        // A book's index: its pages in no order, its terms from A to Z.
        let mut index = vec![text_block(Heading(1), "Index", 1)];
        for term in [
            "awk . . . 3, 12",
            "CSV . . . 5",
            "DBMS . . . 17",
            "Excel . . . 21",
        ] {
            index.push(text_block(Paragraph, term, 1));
        }
        index.push(text_block(Heading(3), "F", 1));
        index.push(text_block(Paragraph, "fixed width . . . 9", 1));
        mark_contents_entries(&mut index, 30);
        let entries = index.iter().filter(|b| b.kind == BlockKind::ContentsEntry);
        assert_eq!(entries.count(), 6);
        // The same terms in a document of 10 pages, which they pass: a menu from A to Z.
        let mut menu = index.clone();
        for block in &mut menu {
            block.kind = Paragraph;
        }
        mark_contents_entries(&mut menu, 10);
        assert!(menu.iter().all(|b| b.kind == Paragraph));
    }

    /// The last page of an index may hold a letter and one entry (R-data's `Y`, `yaml . . .
    /// 7`): right after an index page, that is enough. A chapter's page after the contents
    /// with a line of dots and no page number is no contents.
    #[test]
    fn the_last_page_of_an_index_with_one_entry_is_contents() {
        use BlockKind::{ContentsEntry, Heading, PageBreak, Paragraph};
        let mut blocks = vec![text_block(Heading(1), "Index", 1)];
        for term in [
            "awk . . . 3",
            "CSV . . . 5",
            "DBMS . . . 17",
            "Excel . . . 21",
            "xls . . . 9",
        ] {
            blocks.push(text_block(Paragraph, term, 1));
        }
        blocks.push(text_block(PageBreak, "", 2));
        blocks.push(text_block(Heading(3), "Y", 2));
        blocks.push(text_block(Paragraph, "yaml . . . 7", 2));
        let mut chapter = blocks.clone();
        mark_contents_entries(&mut blocks, 30);
        assert_eq!(blocks[7].kind, ContentsEntry, "{:?}", blocks[7]);
        assert_eq!(blocks[8].kind, ContentsEntry, "{:?}", blocks[8]);
        chapter[8].text = "See the list . . . below.".into();
        mark_contents_entries(&mut chapter, 30);
        assert_eq!(chapter[8].kind, Paragraph);
    }

    /// A one-page menu sorted by price reads like rising page numbers; its prices pass the
    /// document's last page and its dishes are no numbered sections. A contents page printed
    /// on its own, its entries numbered, is contents whatever its page numbers.
    #[test]
    fn a_price_list_in_price_order_is_no_contents() {
        use BlockKind::{ContentsEntry, Heading, Paragraph};
        let mut menu = vec![text_block(Heading(1), "Menu", 1)];
        for (dish, price) in [
            ("Soup", 5),
            ("Salad", 7),
            ("Pasta", 12),
            ("Fish", 18),
            ("Steak", 25),
        ] {
            menu.push(text_block(Paragraph, &format!("{dish} . . . {price}"), 1));
        }
        menu.push(text_block(
            Paragraph,
            "All dishes are made fresh every day.",
            1,
        ));
        mark_contents_entries(&mut menu, 1);
        assert!(menu.iter().all(|b| b.kind != ContentsEntry));
        let mut contents = vec![text_block(Heading(1), "Contents", 1)];
        for (n, page) in [(1, 11), (2, 14), (3, 20), (4, 31), (5, 40)] {
            contents.push(text_block(
                Paragraph,
                &format!("{n} Chapter . . . {page}"),
                1,
            ));
        }
        mark_contents_entries(&mut contents, 1);
        let entries = contents.iter().filter(|b| b.kind == ContentsEntry).count();
        assert_eq!(entries, 5);
    }

    /// On a contents page, only the entries and the short lines between them are entries: a
    /// preface above the contents, and the first chapter's heading and text below them, keep
    /// their kinds (they were entries, and left out of the index).
    #[test]
    fn text_before_and_after_the_contents_on_its_page_stays_text() {
        use BlockKind::{ContentsEntry, Heading, Paragraph};
        let preface = "This book grew out of a course taught over many years; we thank every \
                       student who sat through its first drafts.";
        let mut blocks = vec![
            text_block(Paragraph, "ix", 1),
            text_block(Heading(1), "Preface", 1),
            text_block(Paragraph, preface, 1),
            text_block(Heading(1), "Contents", 1),
        ];
        for n in 1..=5 {
            blocks.push(text_block(
                Paragraph,
                &format!("{n} Chapter . . . {}", n * 3),
                1,
            ));
            blocks.push(text_block(
                Paragraph,
                &format!("{n}.1 Section . . . {}", n * 3 + 1),
                1,
            ));
        }
        blocks.push(text_block(Heading(2), "Part II", 1));
        blocks.push(text_block(Paragraph, "6 Appendix 20", 1));
        blocks.push(text_block(Heading(1), "1 Introduction", 1));
        blocks.push(text_block(
            Paragraph,
            "Engineers in Norway designed the first of these machines in 1968.",
            1,
        ));
        mark_contents_entries(&mut blocks, 40);
        let kinds: Vec<(BlockKind, &str)> = (blocks.iter())
            .filter(|b| b.kind != ContentsEntry)
            .map(|b| (b.kind.clone(), b.text.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (Heading(1), "Preface"),
                (Paragraph, preface),
                (Heading(1), "Contents"),
                (Heading(1), "1 Introduction"),
                (
                    Paragraph,
                    "Engineers in Norway designed the first of these machines in 1968."
                ),
            ]
        );
        assert_eq!(
            blocks[13].kind, ContentsEntry,
            "Part II lies between entries"
        );
    }

    /// Headings numbered to one depth take the level most of them have.
    #[test]
    fn headings_numbered_alike_share_a_level() {
        use BlockKind::{Heading, Paragraph};
        let titled = |kind, text: &str| Block {
            text: text.to_owned(),
            ..block(kind)
        };
        let mut blocks = vec![
            titled(Heading(3), "3.7 Solving an equation"),
            titled(Heading(6), "3.7.3 Solve()"),
            titled(Paragraph, "text"),
            titled(Heading(4), "3.7.4 2-Systems"),
            titled(Paragraph, "text"),
            titled(Heading(6), "3.7.5 Boundary conditions at corners"),
            titled(Heading(4), "Examples"),
            titled(Heading(3), "3.8 Results"),
        ];
        align_numbered_levels(&mut blocks);
        let kinds: Vec<BlockKind> = blocks.into_iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [
                Heading(3),
                Heading(6),
                Paragraph,
                Heading(6),
                Paragraph,
                Heading(6),
                Heading(4),
                Heading(3)
            ]
        );
    }

    /// A subsection set at its section's level goes under it; one already under it stays.
    #[test]
    fn a_numbered_subsection_goes_under_its_section() {
        use BlockKind::{Heading, Paragraph};
        let titled = |kind, text: &str| Block {
            text: text.to_owned(),
            ..block(kind)
        };
        let mut blocks = vec![
            titled(Heading(3), "5. DISCUSSION"),
            titled(Heading(3), "5.1 Board Governance"),
            titled(Paragraph, "text"),
            titled(Heading(5), "5.2 Budget"),
            titled(Heading(3), "6. ADJOURNMENT"),
            titled(Heading(2), "7.1 Orphan"),
        ];
        nest_numbered_subsections(&mut blocks);
        let kinds: Vec<BlockKind> = blocks.into_iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [
                Heading(3),
                Heading(4),
                Paragraph,
                Heading(5),
                Heading(3),
                Heading(2)
            ]
        );
    }

    #[test]
    fn runs_of_bare_headings_are_labels() {
        use BlockKind::{Heading, PageBreak, Paragraph};
        let mut blocks: Vec<Block> = [
            Heading(1),
            Paragraph,
            Heading(2),
            Heading(2),
            PageBreak,
            Heading(2),
            Heading(3),
            Paragraph,
            Heading(2),
            Heading(3),
        ]
        .into_iter()
        .map(block)
        .collect();
        demote_label_runs(&mut blocks);
        let kinds: Vec<BlockKind> = blocks.into_iter().map(|b| b.kind).collect();
        // An agenda's last items, numbered in order, with nothing under them, stay headings;
        // numbers out of order (a grid of numbered names) do not.
        let titled = |kind, text: &str| Block {
            text: text.to_owned(),
            ..block(kind)
        };
        let agenda = [
            "4. REPORT FROM CLOSED SESSION",
            "5. DISCUSSION",
            "5.1 Board Governance",
            "6. ADJOURNMENT",
        ];
        let mut blocks: Vec<Block> = agenda.iter().map(|t| titled(Heading(3), t)).collect();
        demote_label_runs(&mut blocks);
        assert!(blocks.iter().all(|b| b.kind == Heading(3)));
        let grid = ["12 Alice", "3 Bob", "7 Carol"];
        let mut blocks: Vec<Block> = grid.iter().map(|t| titled(Heading(3), t)).collect();
        demote_label_runs(&mut blocks);
        assert!(blocks.iter().all(|b| b.kind == Paragraph));
        assert_eq!(
            kinds,
            [
                Heading(1),
                Paragraph,
                Paragraph,
                Paragraph,
                PageBreak,
                Paragraph,
                Heading(3),
                Paragraph,
                Heading(2),
                Heading(3)
            ]
        );
    }
}
