//! `word/document.xml` (and the notes parts): paragraphs and tables in reading order, turned
//! into [`Block`]s by their styles, outline levels and numbering.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::numbering::{Counters, Numbering, check_box_state};
use super::styles::{Styles, is_change, is_monospace};
use super::symbol_fonts::SymbolFont;
use super::xml::{attr, is_on, local, resolve};
use crate::parse::render::{Block, pad_span};

/// What the body reader needs to classify paragraphs.
pub(super) struct Context<'a> {
    pub styles: &'a Styles,
    pub numbering: &'a Numbering,
    /// The numbers given to notes as the references to them are met.
    pub notes: RefCell<NoteNumbers>,
}

/// The numbers Word shows for notes: footnotes and endnotes are each numbered from 1 in the
/// order of their first reference (a note's `w:id` is only a key, often not 1, 2, 3).
#[derive(Debug, Default)]
pub(super) struct NoteNumbers {
    footnotes: HashMap<String, u32>,
    endnotes: HashMap<String, u32>,
    /// Notes referenced by a custom mark (`*`), by (endnote, id): the mark, and how many
    /// notes of their kind were numbered before (they are listed after that one).
    custom: HashMap<(bool, String), (String, u32)>,
}

impl NoteNumbers {
    /// The number of note `id`, given the next free one at its first reference.
    pub(super) fn number(&mut self, endnote: bool, id: &str) -> u32 {
        let map = if endnote {
            &mut self.endnotes
        } else {
            &mut self.footnotes
        };
        let next = u32::try_from(map.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        *map.entry(id.to_string()).or_insert(next)
    }

    /// Note `id` is referenced by the custom `mark` (the text after its reference).
    pub(super) fn custom_mark(&mut self, endnote: bool, id: &str, mark: &str) {
        let before = if endnote {
            self.endnotes.len()
        } else {
            self.footnotes.len()
        };
        let before = u32::try_from(before).unwrap_or(u32::MAX);
        self.custom
            .entry((endnote, id.to_string()))
            .or_insert_with(|| (mark.to_string(), before));
    }

    /// The custom mark of note `id` and how many notes were numbered before its reference.
    pub(super) fn custom(&self, endnote: bool, id: &str) -> Option<&(String, u32)> {
        self.custom.get(&(endnote, id.to_string()))
    }

    /// Whether note `id` has its number (it was referenced).
    pub(super) fn is_numbered(&self, endnote: bool, id: &str) -> bool {
        if endnote {
            self.endnotes.contains_key(id)
        } else {
            self.footnotes.contains_key(id)
        }
    }

    /// The mark of note `id` as text: `[1]` for a footnote, `[e1]` for an endnote.
    pub(super) fn mark(&mut self, endnote: bool, id: &str) -> String {
        let number = self.number(endnote, id);
        if endnote {
            format!("[e{number}]")
        } else {
            format!("[{number}]")
        }
    }
}

/// A paragraph being read.
#[derive(Default)]
struct Para {
    style: Option<String>,
    outline: Option<u8>,
    num_id: Option<String>,
    ilvl: Option<u32>,
    text: String,
    /// Alt texts of the pictures anchored in the paragraph.
    images: Vec<String>,
    /// Runs with text in a monospace font, and the other runs with text.
    mono_runs: usize,
    other_runs: usize,
    /// The run being read: where its text starts and whether its font is monospace.
    run_start: usize,
    run_mono: bool,
    /// The symbol font the paragraph's style sets its runs in.
    style_font: Option<SymbolFont>,
    /// The symbol font of the current run (its text is glyph codes, not letters), and whether
    /// the run sets its font itself (over its character style's).
    run_font: Option<SymbolFont>,
    run_font_direct: bool,
    /// The text of the text boxes anchored in the paragraph: paragraphs of their own.
    boxes: Vec<String>,
    /// Whether its style hides its runs' text (`w:vanish`), and whether the current run's
    /// text is hidden (by that, its character style or itself).
    style_hidden: bool,
    run_hidden: bool,
    /// Whether its paragraph mark is deleted (tracked): it joins the next paragraph.
    mark_deleted: bool,
}

/// A table cell being read: its paragraphs' text and how it merges.
#[derive(Default)]
struct Cell {
    lines: Vec<String>,
    span: usize,
    continues: bool,
    /// Whether it holds more than paragraphs (a table, a list item, a heading), which its
    /// lines flatten.
    structured: bool,
}

/// A table being read.
#[derive(Default)]
struct Table {
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: Option<Cell>,
    /// Whether a cell holds more than paragraphs.
    structured: bool,
    /// Whether the current row is deleted (tracked, `w:trPr/w:del`), and the grid columns
    /// it leaves empty after its cells (`w:gridAfter`).
    row_deleted: bool,
    grid_after: usize,
    /// The blocks of its paragraphs while it has one cell only (and no table in it): a single
    /// cell that holds a heading or a list (a call-out box) is read as those blocks.
    frame: Option<Vec<Block>>,
}

/// A field (`w:fldChar` begin, instruction, separate, result, end) being read.
struct Field {
    /// Which `w:fldChar` begin of the part started it (`None` for a `w:fldSimple`).
    begin: Option<usize>,
    /// The instruction's text (its start: enough to name the field).
    instr: String,
    /// Whether its result is being read (after `separate`).
    result: bool,
    /// Whether it is a table of contents, whose result repeats the headings.
    toc: bool,
    /// Bytes of text it hid.
    hidden: usize,
}

impl Field {
    /// Whether the text read now is not content: the instruction (and the results of the
    /// fields nested in it), or a table of contents.
    fn hides(&self) -> bool {
        !self.result || self.toc
    }
}

/// The result of reading one part: its blocks and any problem met on the way.
pub(super) struct Read {
    pub blocks: Vec<Block>,
    pub warning: Option<String>,
    /// Imported content (`w:altChunk`) to put in: before block number `.0`, the part of
    /// relationship `.1` (`usize::MAX`: one in a table cell, which is not read).
    pub imports: Vec<(usize, String)>,
}

/// Reads the paragraphs and tables of a WordprocessingML part in order. A field that never
/// ends would hide all text after it: then the part is read again without the fields left
/// open (as if their `begin` were not there), the others read as usual.
pub(super) fn read(xml: &str, cx: &Context<'_>) -> Read {
    let (walker, warning) = walk(xml, cx, HashSet::new());
    let (walker, warning) = if walker.fields.iter().any(|field| field.hidden > 0) {
        let unended: HashSet<usize> = walker.fields.iter().filter_map(|f| f.begin).collect();
        let n = unended.len();
        let (walker, again) = walk(xml, cx, unended);
        (walker, again.or_else(|| Some(never_ends(n))))
    } else {
        (walker, warning)
    };
    Read {
        blocks: walker.blocks,
        warning,
        imports: walker.imports,
    }
}

/// The warning for a part with `n` fields that never end.
fn never_ends(n: usize) -> String {
    format!(
        "{n} field(s) never end (w:fldChar begin without end): the text after each is read as if it were not there (its instruction left out, the rest kept); the other fields are read as usual"
    )
}

/// One pass over a part, the fields begun by the `w:fldChar` begins numbered in `unended`
/// ignored.
fn walk(xml: &str, cx: &Context<'_>, unended: HashSet<usize>) -> (Walker, Option<String>) {
    let mut reader = Reader::from_str(xml);
    let mut walker = Walker {
        unended,
        ..Walker::default()
    };
    let mut warning = None;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => {
                // A part cut short (a truncated write) parses cleanly up to its end.
                if walker.skip > 0 || !walker.stack.is_empty() {
                    let outer = walker.stack.first().map(String::as_str);
                    warning = Some(cut_short(xml.len(), outer));
                }
                break;
            }
            Ok(event) => walker.event(event, cx),
            Err(e) => {
                warning = Some(format!(
                    "malformed XML at byte {}: {e}; text after it is lost",
                    reader.buffer_position()
                ));
                break;
            }
        }
    }
    walker.finish(cx);
    (walker, warning)
}

/// The warning for a part whose XML ends at byte `at` with elements still open, `outer` the
/// outermost when known.
pub(super) fn cut_short(at: usize, outer: Option<&str>) -> String {
    let open = outer.map_or(String::new(), |o| format!(" (`{o}` is still open)"));
    format!(
        "the XML ends at byte {at} before its elements close{open}: the part is cut short, text after it is lost"
    )
}

/// Whether `name` is a property element, whose content is formatting rather than text.
fn is_props(name: &str) -> bool {
    matches!(name, "pPr" | "rPr" | "tblPr" | "sectPr")
}

/// Whether the subtree of element `name` (under `parent`) is skipped: deleted or moved-away
/// runs, old properties of tracked formatting changes, and the pronunciation guide of ruby
/// text (its base is the text).
fn is_skipped(name: &str, parent: Option<&str>) -> bool {
    matches!(name, "del" | "moveFrom")
        || is_change(name)
        || (name == "rt" && parent == Some("ruby"))
}

/// The namespaces (by their usual prefix) of the extensions whose markup this reader reads, or
/// passes over without losing text: an `mc:Choice` that requires only these is taken.
const UNDERSTOOD: [(&str, &str); 7] = [
    (
        "wps",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
    ),
    (
        "wpg",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingGroup",
    ),
    (
        "wpc",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas",
    ),
    (
        "wp14",
        "http://schemas.microsoft.com/office/word/2010/wordprocessingDrawing",
    ),
    (
        "w14",
        "http://schemas.microsoft.com/office/word/2010/wordml",
    ),
    (
        "w15",
        "http://schemas.microsoft.com/office/word/2012/wordml",
    ),
    (
        "w16se",
        "http://schemas.microsoft.com/office/word/2015/wordml/symex",
    ),
];

/// Whether namespace prefix `prefix` names an understood namespace: the one `declared` binds
/// it to, or, undeclared (a note read on its own), the one it usually stands for.
fn understood(prefix: &str, declared: &HashMap<String, String>) -> bool {
    let usual = || {
        UNDERSTOOD
            .iter()
            .find(|(p, _)| *p == prefix)
            .map(|(_, ns)| *ns)
    };
    let Some(ns) = declared.get(prefix).map(String::as_str).or_else(usual) else {
        return false;
    };
    UNDERSTOOD.iter().any(|(_, known)| *known == ns)
}

/// Whether a field instruction names a table of contents (` TOC \o "1-3" \h`).
fn is_toc(instr: &str) -> bool {
    instr
        .split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("TOC"))
}

/// Whether a fraction's part needs parentheses once written on a line (`a+b` over `c` is
/// `(a+b)/c`): it has an operator after its first character.
fn needs_parens(part: &str) -> bool {
    part.trim()
        .chars()
        .skip(1)
        .any(|c| "+-−±×·*/=<>≤≥ ".contains(c))
}

#[derive(Default)]
struct Walker {
    blocks: Vec<Block>,
    /// Local names of the open elements.
    stack: Vec<String>,
    /// How many of them are property elements (`pPr`, `rPr`, `tblPr`, `sectPr`): counted as
    /// they open and close, as walking the stack at every symbol would cost quadratic time.
    props: usize,
    paras: Vec<Para>,
    tables: Vec<Table>,
    /// Inside `w:t` (text to keep).
    in_text: bool,
    /// Depth of a skipped subtree (an alternative not taken, deleted or moved-away runs), 0
    /// when not skipping.
    skip: usize,
    /// The list counters, advanced by every numbered paragraph.
    counters: Counters,
    /// Whether the last block is a code block that the next code paragraph continues.
    code_open: bool,
    /// The open content controls (`w:sdt`): whether each one's content is dropped, a table
    /// of contents (its entries repeat the headings) or placeholder text ("Click or tap here
    /// to enter text.").
    sdts: Vec<bool>,
    /// Whether the last block is a caption paragraph (a frame's text may repeat it).
    caption_last: bool,
    /// The open fields, and how many of them hide the text read now ([`Field::hides`]).
    fields: Vec<Field>,
    hiding_fields: usize,
    /// Inside `w:instrText` (a field's instruction).
    in_instr: bool,
    /// A paragraph whose mark is deleted, which the next paragraph continues.
    joined: Option<Para>,
    /// Where the open fraction parts (`m:num`, `m:den`) start in the paragraph's text.
    fraction_parts: Vec<usize>,
    /// A note referenced by a custom mark, whose mark is the text that follows.
    custom_note: Option<(bool, String)>,
    /// The open `mc:AlternateContent` elements: whether each has taken one of its branches.
    alternates: Vec<bool>,
    /// The namespace prefixes declared on the root and on alternate content, and their names.
    namespaces: HashMap<String, String>,
    /// How many `w:fldChar` begins were met, and those whose field never ends (found by a
    /// first pass), which are ignored.
    begins: usize,
    unended: HashSet<usize>,
    /// Imported content (`w:altChunk`: HTML, RTF or another document shown in its place):
    /// where its blocks go among `blocks`, and its relationship id.
    imports: Vec<(usize, String)>,
}

impl Walker {
    fn event(&mut self, event: Event<'_>, cx: &Context<'_>) {
        match event {
            Event::Start(e) => {
                if self.skip > 0 {
                    self.skip += 1;
                    return;
                }
                let name = local(&e);
                if self.stack.is_empty() || name == "AlternateContent" || name == "Choice" {
                    self.declare(&e);
                }
                let dropped = name == "sdtContent" && self.sdts.last() == Some(&true);
                if dropped || is_skipped(&name, self.parent()) || self.skips_branch(&name, &e) {
                    if name == "del" {
                        self.mark_deleted();
                    }
                    self.skip = 1;
                    return;
                }
                self.open(&name, &e, cx);
                self.props += usize::from(is_props(&name));
                self.stack.push(name);
            }
            Event::Empty(e) if self.skip == 0 => {
                let name = local(&e);
                if self.skips_branch(&name, &e) {
                    return;
                }
                self.open(&name, &e, cx);
                self.close(&name, cx);
            }
            Event::End(_) => {
                if self.skip > 0 {
                    self.skip -= 1;
                    return;
                }
                if let Some(name) = self.stack.pop() {
                    self.props -= usize::from(is_props(&name));
                    self.close(&name, cx);
                }
            }
            Event::Text(t) if self.in_text && self.skip == 0 => {
                let text = t.xml10_content();
                if let Some((endnote, id)) = self.custom_note.take() {
                    let mark = text.split_whitespace().next().unwrap_or_default();
                    cx.notes.borrow_mut().custom_mark(endnote, &id, mark);
                }
                self.push_text(&text);
            }
            Event::Text(t) if self.in_instr && self.skip == 0 => {
                if let Some(field) = self.fields.last_mut()
                    && field.instr.len() < 64
                {
                    field.instr.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) if self.in_text && self.skip == 0 => {
                let text = t.into_inner().into_owned();
                self.push_text(&text);
            }
            Event::GeneralRef(r) if self.in_text && self.skip == 0 => {
                if let Some(c) = resolve(&r) {
                    self.push_text(c.encode_utf8(&mut [0; 4]));
                }
            }
            _ => {}
        }
    }

    fn parent(&self) -> Option<&str> {
        self.stack.last().map(String::as_str)
    }

    /// Notes the namespace prefixes element `e` declares.
    fn declare(&mut self, e: &BytesStart<'_>) {
        for a in e.attributes().flatten() {
            if let Some(prefix) = a.key.as_ref().strip_prefix("xmlns:") {
                self.namespaces
                    .insert(prefix.to_owned(), a.value.to_string());
            }
        }
    }

    /// Whether element `name` is a branch of alternate content that is not taken (Markup
    /// Compatibility): the first `mc:Choice` whose `Requires` names only understood namespaces
    /// is taken, else the `mc:Fallback`; one branch at most.
    fn skips_branch(&mut self, name: &str, e: &BytesStart<'_>) -> bool {
        if !matches!(name, "Choice" | "Fallback") || self.parent() != Some("AlternateContent") {
            return false;
        }
        let namespaces = &self.namespaces;
        let Some(taken) = self.alternates.last_mut() else {
            return false;
        };
        if *taken {
            return true;
        }
        *taken = name == "Fallback"
            || attr(e, "Requires").is_none_or(|r| {
                r.split_whitespace()
                    .all(|prefix| understood(prefix, namespaces))
            });
        !*taken
    }

    fn in_props(&self) -> bool {
        self.props > 0
    }

    /// Whether the open element is a run's properties (`w:r/w:rPr`).
    fn in_run_props(&self) -> bool {
        let n = self.stack.len();
        n >= 2 && self.stack[n - 1] == "rPr" && self.stack[n - 2] == "r"
    }

    fn push_text(&mut self, text: &str) {
        // The noncharacters that mark inline markup for the renderer are no text of a page.
        let text = &*crate::parse::inline_markup::strip(text);
        if self.hiding_fields > 0 {
            if let Some(field) = self.fields.iter_mut().find(|field| field.hides()) {
                field.hidden += text.len();
            }
            return;
        }
        if let Some(para) = self.paras.last_mut() {
            match para.run_font.filter(|_| self.in_text) {
                // Text in a symbol font is glyph codes (`a` is α in Symbol, `þ` a checked
                // box in Wingdings).
                Some(font) => font.decode_into(text, &mut para.text),
                None => para.text.push_str(text),
            }
        }
    }

    fn open(&mut self, name: &str, e: &BytesStart<'_>, cx: &Context<'_>) {
        let val = || attr(e, "val");
        match name {
            "p" => {
                // A paragraph whose mark is deleted goes on in this one, which gives the
                // joined paragraph its properties.
                let para = match self.joined.take() {
                    Some(joined) => Para {
                        text: joined.text,
                        images: joined.images,
                        boxes: joined.boxes,
                        mono_runs: joined.mono_runs,
                        other_runs: joined.other_runs,
                        ..Para::default()
                    },
                    None => Para::default(),
                };
                self.paras.push(para);
            }
            "sdt" => self.sdts.push(false),
            "AlternateContent" => self.alternates.push(false),
            "docPartGallery" => {
                if let Some(toc) = self.sdts.last_mut() {
                    *toc |= val().is_some_and(|v| v.eq_ignore_ascii_case("Table of Contents"));
                }
            }
            "showingPlcHdr" => {
                if let Some(dropped) = self.sdts.last_mut() {
                    *dropped |= is_on(e);
                }
            }
            "del" => self.mark_deleted(),
            "fldChar" => match attr(e, "fldCharType").as_deref() {
                Some("begin") => {
                    let begin = self.begins;
                    self.begins += 1;
                    if !self.unended.contains(&begin) {
                        self.open_field(Some(begin), String::new(), false);
                    }
                }
                Some("separate") => self.separate_field(),
                Some("end") => self.close_field(),
                _ => {}
            },
            "fldSimple" => self.open_field(None, attr(e, "instr").unwrap_or_default(), true),
            "instrText" => self.in_instr = true,
            "r" => {
                if let Some(p) = self.paras.last_mut() {
                    p.run_start = p.text.len();
                    p.run_mono = false;
                    p.run_font = p.style_font;
                    p.run_font_direct = false;
                    p.run_hidden = p.style_hidden;
                }
            }
            "vanish" if self.in_run_props() => {
                if let Some(p) = self.paras.last_mut() {
                    p.run_hidden = is_on(e);
                }
            }
            "rFonts" if self.in_run_props() => {
                let font = attr(e, "ascii").or_else(|| attr(e, "hAnsi"));
                if let (Some(p), Some(font)) = (self.paras.last_mut(), font) {
                    p.run_mono |= is_monospace(&font);
                    p.run_font = SymbolFont::named(&font);
                    p.run_font_direct = true;
                }
            }
            "rStyle" if self.in_run_props() => {
                if let (Some(p), Some(style)) = (self.paras.last_mut(), val()) {
                    p.run_mono |= cx.styles.is_monospace(&style);
                    p.run_hidden = cx.styles.hidden(&style).unwrap_or(p.run_hidden);
                    // A font set on the run itself wins over its character style's.
                    if let Some(font) = cx.styles.font(&style).filter(|_| !p.run_font_direct) {
                        p.run_font = SymbolFont::named(font);
                    }
                }
            }
            "t" => self.in_text = true,
            "tbl" => {
                self.flush_joined(cx);
                self.tables.push(Table {
                    frame: Some(Vec::new()),
                    ..Table::default()
                });
            }
            "gridBefore" | "gridAfter" => {
                let n = val().and_then(|v| v.parse().ok()).unwrap_or(0usize).min(64);
                if let Some(table) = self.tables.last_mut() {
                    if name == "gridBefore" {
                        // The grid columns before its first cell are empty.
                        pad_span(&mut table.row, n + 1);
                    } else {
                        table.grid_after = n;
                    }
                }
            }
            "tc" => {
                if let Some(table) = self.tables.last_mut() {
                    if !(table.rows.is_empty() && table.row.is_empty()) {
                        table.frame = None;
                    }
                    table.cell = Some(Cell {
                        span: 1,
                        ..Cell::default()
                    });
                }
            }
            "gridSpan" => {
                if let Some(cell) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                    cell.span = val().and_then(|v| v.parse().ok()).unwrap_or(1).clamp(1, 64);
                }
            }
            "vMerge" => {
                if let Some(cell) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                    cell.continues = val().is_none_or(|v| v == "continue");
                }
            }
            "pStyle" => {
                if let Some(p) = self.paras.last_mut() {
                    p.style = val();
                    p.style_font = p
                        .style
                        .as_deref()
                        .and_then(|s| cx.styles.font(s))
                        .and_then(SymbolFont::named);
                    p.style_hidden = p
                        .style
                        .as_deref()
                        .and_then(|s| cx.styles.hidden(s))
                        .unwrap_or(false);
                }
            }
            "outlineLvl" => {
                if let Some(p) = self.paras.last_mut() {
                    p.outline = val().and_then(|v| v.parse().ok());
                }
            }
            "numId" => {
                if let Some(p) = self.paras.last_mut() {
                    p.num_id = val();
                }
            }
            "ilvl" => {
                if let Some(p) = self.paras.last_mut() {
                    p.ilvl = val().and_then(|v| v.parse().ok());
                }
            }
            // A positional tab (`w:ptab`, right-aligned page numbers) separates as a tab does.
            "tab" | "ptab" if self.parent() == Some("r") => self.push_text("\t"),
            "num" | "den" if self.parent() == Some("f") => {
                // A fraction on a line: numerator `/` denominator.
                if name == "den" {
                    self.push_text("/");
                }
                let start = self.paras.last().map_or(0, |p| p.text.len());
                self.fraction_parts.push(start);
            }
            "br" | "cr" if self.parent() == Some("r") => self.push_text("\n"),
            "noBreakHyphen" if !self.in_props() => self.push_text("-"),
            // `w16se:symEx` (an emoji Word inserted) as `w:sym`: its font and character code.
            "sym" | "symEx" if !self.in_props() => {
                let code = attr(e, "char").and_then(|hex| u32::from_str_radix(&hex, 16).ok());
                // In its font (the run's when it names none); other fonts' private-use
                // characters have no text.
                let font = match attr(e, "font") {
                    Some(font) => SymbolFont::named(&font),
                    None => self.paras.last().and_then(|p| p.run_font),
                };
                let c = code.and_then(|code| match font {
                    Some(font) => font.char(code),
                    None => char::from_u32(code).filter(|c| !('\u{E000}'..='\u{F8FF}').contains(c)),
                });
                if let Some(c) = c
                    && self.hiding_fields == 0
                {
                    // A note's custom mark may be a symbol (`•` in Symbol).
                    if let Some((endnote, id)) = self.custom_note.take() {
                        cx.notes
                            .borrow_mut()
                            .custom_mark(endnote, &id, &c.to_string());
                    }
                    // The character itself, not a code of the run's font.
                    if let Some(p) = self.paras.last_mut() {
                        p.text.push(c);
                    }
                }
            }
            "docPr" => {
                let alt = attr(e, "descr")
                    .or_else(|| attr(e, "title"))
                    .filter(|a| !a.trim().is_empty());
                if let (Some(p), Some(alt)) = (self.paras.last_mut(), alt) {
                    p.images.push(alt);
                }
            }
            // Between body paragraphs: its blocks go after those read so far (in a table
            // cell, it is not read).
            "altChunk" if self.tables.is_empty() && self.paras.is_empty() => {
                self.flush_joined(cx);
                self.code_open = false;
                let id = attr(e, "id").unwrap_or_default();
                self.imports.push((self.blocks.len(), id));
            }
            "altChunk" => self.imports.push((usize::MAX, String::new())),
            "footnoteReference" | "endnoteReference" => {
                // A custom mark is the text of the run that follows.
                let custom = attr(e, "customMarkFollows")
                    .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "on"));
                let endnote = name == "endnoteReference";
                match attr(e, "id") {
                    Some(id) if custom => self.custom_note = Some((endnote, id)),
                    Some(id) => {
                        let mark = cx.notes.borrow_mut().mark(endnote, &id);
                        self.push_text(&mark);
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &str, cx: &Context<'_>) {
        match name {
            "t" => self.in_text = false,
            "instrText" => self.in_instr = false,
            "fldSimple" => self.close_field(),
            "sdt" => {
                self.sdts.pop();
            }
            "AlternateContent" => {
                self.alternates.pop();
            }
            "num" | "den" if self.parent() == Some("f") => {
                let start = self.fraction_parts.pop();
                if let (Some(p), Some(start)) = (self.paras.last_mut(), start)
                    && p.text.get(start..).is_some_and(needs_parens)
                {
                    p.text.insert(start, '(');
                    p.text.push(')');
                }
            }
            "r" => {
                if let Some(p) = self.paras.last_mut()
                    && p.run_hidden
                {
                    // Hidden text (`w:vanish`) is not shown.
                    p.text.truncate(p.run_start);
                }
                if let Some(p) = self.paras.last_mut()
                    && p.text
                        .get(p.run_start..)
                        .is_some_and(|t| !t.trim().is_empty())
                {
                    if p.run_mono {
                        p.mono_runs += 1;
                    } else {
                        p.other_runs += 1;
                    }
                }
            }
            "p" => {
                if let Some(para) = self.paras.pop() {
                    self.finish_para(para, cx);
                }
            }
            "tc" => {
                self.flush_joined(cx);
                if let Some(table) = self.tables.last_mut()
                    && let Some(cell) = table.cell.take()
                {
                    // A cell that continues a merge with no cell above it starts one.
                    let col = table.row.len();
                    let above = table.rows.last().is_some_and(|r| r.len() > col);
                    let text = if cell.continues && above {
                        String::new()
                    } else {
                        cell.lines.join("\n")
                    };
                    table.structured |= cell.structured;
                    table.row.push(text);
                    pad_span(&mut table.row, cell.span);
                }
            }
            "tr" => {
                if let Some(table) = self.tables.last_mut() {
                    let mut row = std::mem::take(&mut table.row);
                    pad_span(&mut row, std::mem::take(&mut table.grid_after) + 1);
                    // A deleted row (tracked) is gone.
                    if !std::mem::take(&mut table.row_deleted) {
                        table.rows.push(row);
                    }
                }
            }
            "tbl" => {
                if let Some(table) = self.tables.pop() {
                    self.finish_table(table);
                }
            }
            _ => {}
        }
    }

    /// A tracked deletion (`w:del`) of the paragraph mark (in `w:pPr/w:rPr`) or of a table row
    /// (in `w:trPr`).
    fn mark_deleted(&mut self) {
        let n = self.stack.len();
        let at = |i: usize| n.checked_sub(i).map(|i| self.stack[i].as_str());
        if at(1) == Some("rPr") && at(2) == Some("pPr") {
            if let Some(p) = self.paras.last_mut() {
                p.mark_deleted = true;
            }
        } else if at(1) == Some("trPr")
            && let Some(table) = self.tables.last_mut()
        {
            table.row_deleted = true;
        }
    }

    /// A field begins: its instruction (given by a `w:fldSimple`, or read from `w:instrText`
    /// up to `separate`), then its result.
    fn open_field(&mut self, begin: Option<usize>, instr: String, result: bool) {
        let field = Field {
            begin,
            toc: result && is_toc(&instr),
            instr,
            result,
            hidden: 0,
        };
        self.hiding_fields += usize::from(field.hides());
        self.fields.push(field);
    }

    /// A field's instruction ends and its result begins.
    fn separate_field(&mut self) {
        if let Some(field) = self.fields.last_mut()
            && !field.result
        {
            field.result = true;
            field.toc = is_toc(&field.instr);
            if !field.hides() {
                self.hiding_fields -= 1;
            }
        }
    }

    /// A field ends.
    fn close_field(&mut self) {
        if let Some(field) = self.fields.pop() {
            self.hiding_fields -= usize::from(field.hides());
        }
    }

    /// A paragraph whose mark is deleted, with no paragraph after it in its cell or before a
    /// table, ends there.
    fn flush_joined(&mut self, cx: &Context<'_>) {
        if let Some(para) = self.joined.take() {
            self.finish_para(
                Para {
                    mark_deleted: false,
                    ..para
                },
                cx,
            );
        }
    }

    /// A paragraph ends: its text goes to the enclosing cell or paragraph, or becomes a block.
    fn finish_para(&mut self, para: Para, cx: &Context<'_>) {
        if para.mark_deleted {
            // Its mark is deleted: the next paragraph goes on from its text (none when all
            // its runs are deleted too), and only that one is numbered.
            self.joined = Some(para);
            return;
        }
        // Word numbers every numbered paragraph, empty ones and those in tables included.
        let list = list_number(&para, cx, &mut self.counters);
        let text = para.text.trim().to_string();
        if let Some(table) = self.tables.last_mut()
            && let Some(cell) = table.cell.as_mut()
        {
            if !text.is_empty() {
                cell.structured |= list.is_some() || heading_level(&para, cx).is_some();
                // A numbered paragraph keeps the number Word shows.
                let label = list
                    .as_ref()
                    .and_then(|l| self.counters.label(cx.numbering, &l.num_id, l.ilvl));
                cell.lines.push(match label {
                    Some(label) => format!("{label} {text}"),
                    None => text.clone(),
                });
                if let Some(frame) = table.frame.as_mut() {
                    frame.push(classify(para, text, cx, list, &self.counters));
                }
            }
            return;
        }
        if self.paras.is_empty() && is_code(&para, cx) {
            self.caption_last = false;
            // Code keeps its white space; its paragraphs (a line each, often) make one block.
            let code = para.text.trim_matches(['\n', '\r']).trim_end().to_string();
            if let (true, Some(Block::Code { text, .. })) = (self.code_open, self.blocks.last_mut())
            {
                text.push('\n');
                text.push_str(&code);
                return;
            }
            if !code.trim().is_empty() {
                self.blocks.push(Block::Code {
                    language: None,
                    text: code,
                });
                self.code_open = true;
                return;
            }
        }
        self.code_open = false;
        let images: Vec<Block> = para
            .images
            .iter()
            .map(|alt| Block::Image {
                alt: alt.clone(),
                src: None,
            })
            .collect();
        let boxes: Vec<Block> = para
            .boxes
            .iter()
            .map(|t| Block::Paragraph(t.clone()))
            .collect();
        if let Some(outer) = self.paras.last_mut() {
            // A text box inside a paragraph: a paragraph of its own after the outer one.
            if !text.is_empty() {
                outer.boxes.push(text);
            }
            outer.boxes.extend(para.boxes);
            return;
        }
        if text.is_empty() {
            self.blocks.extend(images);
            self.blocks.extend(boxes);
            return;
        }
        let caption = para
            .style
            .as_deref()
            .is_some_and(|s| cx.styles.name(s).contains("caption"));
        if caption && self.blocks.last() == Some(&Block::Paragraph(text.clone())) {
            // A caption repeating the text just before it: pandoc writes a missing image's
            // description, then the same words as its caption.
            self.blocks.extend(images);
            self.blocks.extend(boxes);
            return;
        }
        self.blocks
            .push(classify(para, text, cx, list, &self.counters));
        self.caption_last = caption && images.is_empty() && boxes.is_empty();
        self.blocks.extend(images);
        self.blocks.extend(boxes);
    }

    fn finish_table(&mut self, table: Table) {
        self.code_open = false;
        let mut rows = table.rows;
        if !table.row.is_empty() {
            rows.push(table.row);
        }
        if let Some(parent) = self.tables.last_mut()
            && let Some(cell) = parent.cell.as_mut()
        {
            // A nested table flattens into its cell, a row per line.
            cell.structured = true;
            for row in &rows {
                let line = row
                    .iter()
                    .filter(|c| !c.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ");
                if !line.is_empty() {
                    cell.lines.push(line);
                }
            }
            // A frame holding a table stays a table (of one cell): its rows keep their lines.
            parent.frame = None;
            return;
        }
        if let ([row], Some(frame)) = (rows.as_slice(), table.frame)
            && row.len() == 1
            && table.structured
        {
            // A single cell with a heading or a list (a call-out box): its blocks, its headings
            // as paragraphs (a box's title heads no section of the document).
            self.blocks
                .extend(frame.into_iter().map(|block| match block {
                    Block::Heading { text, .. } => Block::Paragraph(text),
                    other => other,
                }));
            self.caption_last = false;
            return;
        }
        if let [row] = rows.as_slice()
            && let [cell] = row.as_slice()
            && !table.structured
        {
            // A single cell of paragraphs is a frame (pandoc's figures, boxed notes), not
            // data; a caption above it that says the same is not said twice.
            let repeated = |line: &str| {
                self.caption_last && self.blocks.last() == Some(&Block::Paragraph(line.into()))
            };
            let lines: Vec<Block> = cell
                .lines()
                .filter(|l| !l.trim().is_empty() && !repeated(l))
                .map(|l| Block::Paragraph(l.to_string()))
                .collect();
            self.blocks.extend(lines);
            self.caption_last = false;
            return;
        }
        self.caption_last = false;
        if !rows.is_empty() {
            self.blocks.push(Block::Table(rows));
        }
    }

    fn finish(&mut self, cx: &Context<'_>) {
        while let Some(para) = self.paras.pop() {
            self.finish_para(para, cx);
        }
        self.flush_joined(cx);
        while let Some(table) = self.tables.pop() {
            self.finish_table(table);
        }
    }
}

/// Where a numbered paragraph is in its list.
struct ListPlace {
    /// Its list's id and level (`w:ilvl`).
    num_id: String,
    ilvl: u32,
    /// The depth it is shown at: its level, plus the level a "List Bullet 2" style stands for.
    depth: u32,
    /// The number Word shows (`None` for a bullet).
    number: Option<u32>,
}

/// Where a numbered paragraph is in its list, advancing `counters`.
fn list_number(para: &Para, cx: &Context<'_>, counters: &mut Counters) -> Option<ListPlace> {
    let style = para.style.as_deref();
    let from_style = style.and_then(|s| cx.styles.numbering(s));
    let num_id = para
        .num_id
        .clone()
        .or_else(|| from_style.as_ref().map(|(n, _)| n.clone()))
        .filter(|n| n != "0")?;
    let ilvl = para
        .ilvl
        .or_else(|| from_style.and_then(|(_, l)| l))
        .or_else(|| style.and_then(|s| cx.numbering.level_of_style(&num_id, s)))
        .unwrap_or(0)
        .min(8);
    // Word's "List Bullet 2", "List Number 3": a list of its own, shown a level deeper.
    let depth = ilvl + style.map_or(0, |s| style_depth(&cx.styles.name(s)));
    let number = counters.next(cx.numbering, &num_id, ilvl);
    Some(ListPlace {
        num_id,
        ilvl,
        depth: depth.min(8),
        number,
    })
}

/// The depth a built-in list style's name stands for: "list bullet 2" → 1.
fn style_depth(name: &str) -> u32 {
    let Some(rest) = name.strip_prefix("list ") else {
        return 0;
    };
    let Some((kind, n)) = rest.rsplit_once(' ') else {
        return 0;
    };
    if !matches!(kind, "bullet" | "number" | "continue" | "") {
        return 0;
    }
    n.parse::<u32>()
        .ok()
        .filter(|n| (2..=9).contains(n))
        .map_or(0, |n| n - 1)
}

/// Whether a body paragraph is code: in a code style, or with all its text in a monospace
/// font; never a heading.
fn is_code(para: &Para, cx: &Context<'_>) -> bool {
    let style = para.style.as_deref();
    if heading_level(para, cx).is_some() {
        return false;
    }
    style.is_some_and(|s| cx.styles.is_code(s)) || (para.mono_runs > 0 && para.other_runs == 0)
}

/// The heading level of a paragraph, by its own outline level, else its style's: a direct
/// `w:outlineLvl` of 9 (body text) makes a paragraph in a heading style body text, as in Word.
fn heading_level(para: &Para, cx: &Context<'_>) -> Option<u8> {
    match para.outline {
        Some(level) if level < 9 => Some(level.saturating_add(1).min(6)),
        Some(_) => None,
        None => para
            .style
            .as_deref()
            .and_then(|s| cx.styles.heading_level(s)),
    }
}

/// The block a body paragraph is: heading, list item (`list` from [`list_number`]), quote or
/// paragraph.
fn classify(
    para: Para,
    text: String,
    cx: &Context<'_>,
    list: Option<ListPlace>,
    counters: &Counters,
) -> Block {
    let style = para.style.as_deref();
    if let Some(level) = heading_level(&para, cx) {
        // A numbered heading shows its number ("2.1 Setup").
        let label = list.and_then(|l| counters.label(cx.numbering, &l.num_id, l.ilvl));
        let text = match label {
            Some(label) => format!("{label} {text}"),
            None => text,
        };
        return Block::Heading { level, text };
    }
    if let Some(ListPlace {
        depth,
        number,
        num_id,
        ilvl,
    }) = list
    {
        // A task item: its bullet is a check box, or its text starts with one (typed, or a
        // check-box content control's glyph).
        let typed = text.chars().next().and_then(check_box_state);
        let (checked, text) = match typed {
            Some(state) => (Some(state), text.chars().skip(1).collect::<String>()),
            None => (cx.numbering.check_box(&num_id, ilvl), text),
        };
        let text = text.trim_start().to_string();
        // Items whose label is more than a number ("a)", "(ii)", "2.1.", "Article 1") keep
        // it, which a Markdown list would show as a number, and the text may refer to.
        let label = number.and_then(|_| counters.label(cx.numbering, &num_id, ilvl));
        if let (Some(number), Some(label)) = (number, label)
            && !is_plain_number(&label, number)
        {
            return Block::ListItem {
                depth,
                ordered: false,
                number: None,
                checked,
                text: format!("{label} {text}"),
            };
        }
        return Block::ListItem {
            depth,
            ordered: number.is_some(),
            number,
            checked,
            text,
        };
    }
    let name = style.map(|s| cx.styles.name(s)).unwrap_or_default();
    // pandoc writes a block quote in "Block Text".
    if name.contains("quote") || name == "block text" {
        return Block::Quote(vec![Block::Paragraph(text)]);
    }
    Block::Paragraph(text)
}

/// Whether a list label is the bare `number` a Markdown list shows (`3`, `3.`, `3)`).
fn is_plain_number(label: &str, number: u32) -> bool {
    label.strip_suffix(['.', ')']).unwrap_or(label) == number.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(body: &str) -> Vec<Block> {
        blocks_styled(
            r#"<w:style w:styleId="Quote"><w:name w:val="Quote"/></w:style>"#,
            body,
        )
    }

    fn blocks_styled(styles: &str, body: &str) -> Vec<Block> {
        blocks_numbered(
            styles,
            r#"<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>"#,
            body,
        )
    }

    fn blocks_numbered(styles: &str, numbering: &str, body: &str) -> Vec<Block> {
        read_numbered(styles, numbering, body).blocks
    }

    /// What reading a document of `body`, with `styles` and `numbering`, gives.
    fn read_numbered(styles: &str, numbering: &str, body: &str) -> Read {
        let styles = Styles::parse(&format!(r#"<w:styles xmlns:w="x">{styles}</w:styles>"#));
        let numbering = Numbering::parse(&format!(
            r#"<w:numbering xmlns:w="x">{numbering}</w:numbering>"#
        ));
        let cx = Context {
            styles: &styles,
            numbering: &numbering,
            notes: Default::default(),
        };
        let xml = format!(
            r#"<w:document xmlns:w="x" xmlns:mc="m" xmlns:r="r"><w:body>{body}</w:body></w:document>"#
        );
        read(&xml, &cx)
    }

    fn p(props: &str, text: &str) -> String {
        format!(
            "<w:p><w:pPr>{props}</w:pPr><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>"
        )
    }

    #[test]
    fn headings_lists_quotes_and_runs() {
        let body = [
            p(r#"<w:pStyle w:val="Heading1"/>"#, "Top"),
            p(r#"<w:outlineLvl w:val="1"/>"#, "Second"),
            p(r#"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>"#, "first"),
            p(r#"<w:numPr><w:ilvl w:val="1"/><w:numId w:val="2"/></w:numPr>"#, "bullet"),
            p(r#"<w:pStyle w:val="Quote"/>"#, "said"),
            r#"<w:p><w:r><w:t>a &amp; b</w:t><w:tab/><w:t>c</w:t></w:r><w:hyperlink><w:r><w:t> link</w:t></w:r></w:hyperlink><w:del><w:r><w:delText>gone</w:delText></w:r></w:del><w:r><w:instrText>HYPERLINK x</w:instrText></w:r><mc:AlternateContent><mc:Choice><w:r><w:t> once</w:t></w:r></mc:Choice><mc:Fallback><w:r><w:t> twice</w:t></w:r></mc:Fallback></mc:AlternateContent></w:p>"#.to_string(),
        ]
        .concat();
        assert_eq!(
            blocks(&body),
            vec![
                Block::Heading {
                    level: 1,
                    text: "Top".into()
                },
                Block::Heading {
                    level: 2,
                    text: "Second".into()
                },
                Block::ListItem {
                    depth: 0,
                    ordered: true,
                    number: Some(1),
                    checked: None,
                    text: "first".into()
                },
                Block::ListItem {
                    depth: 1,
                    ordered: false,
                    number: None,
                    checked: None,
                    text: "bullet".into()
                },
                Block::Quote(vec![Block::Paragraph("said".into())]),
                Block::Paragraph("a & b\tc link once".into()),
            ]
        );
    }

    /// pandoc's "Source Code" paragraphs, code styles by name and paragraphs all in a
    /// monospace font are code blocks with their white space; one per line make one block.
    #[test]
    fn code_keeps_its_white_space() {
        let styles = r#"<w:style w:styleId="SourceCode"><w:name w:val="Source Code"/><w:basedOn w:val="Normal"/></w:style>
<w:style w:type="character" w:styleId="VerbatimChar"><w:name w:val="Verbatim Char"/><w:rPr><w:rFonts w:ascii="Consolas" w:hAnsi="Consolas"/></w:rPr></w:style>
<w:style w:styleId="HTMLPreformatted"><w:name w:val="HTML Preformatted"/></w:style>
<w:style w:styleId="BlockText"><w:name w:val="Block Text"/></w:style>"#;
        let run = |props: &str, text: &str| {
            format!(r#"<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>"#)
        };
        let body = [
            format!(
                r#"<w:p><w:pPr><w:pStyle w:val="SourceCode"/></w:pPr>{}{}<w:r><w:br/></w:r>{}{}</w:p>"#,
                run(r#"<w:rStyle w:val="KeywordTok"/>"#, "def"),
                run("", " configure(path):"),
                run("", "    "),
                run("", "return load(path)   # comment"),
            ),
            p(r#"<w:pStyle w:val="BlockText"/>"#, "Quoted."),
            p(r#"<w:pStyle w:val="HTMLPreformatted"/>"#, "for x in y:"),
            r#"<w:p><w:pPr><w:pStyle w:val="HTMLPreformatted"/></w:pPr></w:p>"#.into(),
            format!(
                "<w:p>{}<w:r><w:tab/></w:r>{}</w:p>",
                run(r#"<w:rFonts w:ascii="Courier New" w:hAnsi="Courier New"/>"#, "  print(x)"),
                run(r#"<w:rStyle w:val="VerbatimChar"/>"#, "# done"),
            ),
            format!(
                "<w:p>{}{}</w:p>",
                run(r#"<w:rFonts w:ascii="Consolas"/>"#, "mono"),
                run("", " and prose"),
            ),
        ]
        .concat();
        assert_eq!(
            blocks_styled(styles, &body),
            vec![
                Block::Code {
                    language: None,
                    text: "def configure(path):\n    return load(path)   # comment".into()
                },
                Block::Quote(vec![Block::Paragraph("Quoted.".into())]),
                Block::Code {
                    language: None,
                    text: "for x in y:\n\n  print(x)\t# done".into()
                },
                Block::Paragraph("mono and prose".into()),
            ]
        );
    }

    /// Headings in a multilevel list show Word's numbers; "List Bullet 2" and "List Bullet 3",
    /// lists of their own, nest by the style's level.
    #[test]
    fn numbered_headings_and_list_styles_by_level() {
        let styles = r#"<w:style w:styleId="Heading1"><w:name w:val="heading 1"/><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="90"/></w:numPr></w:pPr></w:style>
<w:style w:styleId="Heading2"><w:name w:val="heading 2"/><w:pPr><w:numPr><w:numId w:val="90"/></w:numPr></w:pPr></w:style>
<w:style w:styleId="Heading3"><w:name w:val="heading 3"/><w:pPr><w:numPr><w:ilvl w:val="2"/><w:numId w:val="90"/></w:numPr></w:pPr></w:style>
<w:style w:styleId="ListBullet"><w:name w:val="List Bullet"/><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>
<w:style w:styleId="ListBullet2"><w:name w:val="List Bullet 2"/><w:pPr><w:numPr><w:numId w:val="2"/></w:numPr></w:pPr></w:style>
<w:style w:styleId="ListBullet3"><w:name w:val="List Bullet 3"/><w:pPr><w:numPr><w:numId w:val="3"/></w:numPr></w:pPr></w:style>"#;
        let lvl = |ilvl: u32, style: &str, text: &str, format: &str| {
            format!(
                r#"<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="{format}"/><w:pStyle w:val="{style}"/><w:lvlText w:val="{text}"/></w:lvl>"#
            )
        };
        let bullet = |id: u32| {
            format!(
                r#"<w:abstractNum w:abstractNumId="{id}"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl></w:abstractNum><w:num w:numId="{id}"><w:abstractNumId w:val="{id}"/></w:num>"#
            )
        };
        let numbering = format!(
            r#"<w:abstractNum w:abstractNumId="90">{}{}{}</w:abstractNum><w:num w:numId="90"><w:abstractNumId w:val="90"/></w:num>{}{}{}"#,
            lvl(0, "Heading1", "%1", "decimal"),
            lvl(1, "Heading2", "%1.%2", "decimal"),
            lvl(2, "Heading3", "Part %1.%2.%3)", "lowerLetter"),
            bullet(1),
            bullet(2),
            bullet(3),
        );
        let style = |id: &str| format!(r#"<w:pStyle w:val="{id}"/>"#);
        let body = [
            p(&style("Heading1"), "Introduction"),
            p(&style("Heading2"), "Scope"),
            p(&style("Heading3"), "Details"),
            p(&style("Heading1"), "Method"),
            p(&style("Heading2"), "Setup"),
            p(&style("ListBullet"), "top"),
            p(&style("ListBullet2"), "sub"),
            p(&style("ListBullet3"), "subsub"),
            p(&style("ListBullet"), "again"),
        ]
        .concat();
        let heading = |level: u8, text: &str| Block::Heading {
            level,
            text: text.into(),
        };
        let item = |depth: u32, text: &str| Block::ListItem {
            depth,
            ordered: false,
            number: None,
            checked: None,
            text: text.into(),
        };
        assert_eq!(
            blocks_numbered(styles, &numbering, &body),
            vec![
                heading(1, "1 Introduction"),
                heading(2, "1.1 Scope"),
                heading(3, "Part 1.1.a) Details"),
                heading(1, "2 Method"),
                heading(2, "2.1 Setup"),
                item(0, "top"),
                item(1, "sub"),
                item(2, "subsub"),
                item(0, "again"),
            ]
        );
    }

    /// Items counted in letters or roman numerals keep Word's label in their text (a Markdown
    /// list showed `1.` for `a)`); a legal-numbering level shows every number in decimal.
    #[test]
    fn lettered_items_keep_their_labels_and_legal_levels_are_decimal() {
        let lvl = |ilvl: u32, format: &str, text: &str, extra: &str| {
            format!(
                r#"<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="{format}"/><w:lvlText w:val="{text}"/>{extra}</w:lvl>"#
            )
        };
        let numbering = format!(
            r#"<w:abstractNum w:abstractNumId="1">{}{}</w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="1"/></w:num><w:abstractNum w:abstractNumId="2">{}{}</w:abstractNum><w:num w:numId="2"><w:abstractNumId w:val="2"/></w:num>"#,
            lvl(0, "lowerLetter", "%1)", ""),
            lvl(1, "lowerRoman", "(%2)", ""),
            lvl(0, "upperRoman", "%1.", ""),
            lvl(1, "decimal", "%1.%2", "<w:isLgl/>"),
        );
        let item = |num: u32, ilvl: u32, text: &str| {
            p(
                &format!(r#"<w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num}"/></w:numPr>"#),
                text,
            )
        };
        let body = [
            item(1, 0, "first"),
            item(1, 1, "sub one"),
            item(1, 1, "sub two"),
            item(1, 0, "second"),
            item(2, 0, "Part"),
            item(2, 1, "Terms"),
        ]
        .concat();
        let texts: Vec<(u32, bool, String)> = blocks_numbered("", &numbering, &body)
            .into_iter()
            .map(|block| match block {
                Block::ListItem {
                    depth,
                    ordered,
                    text,
                    ..
                } => (depth, ordered, text),
                other => panic!("{other:?}"),
            })
            .collect();
        let want = |depth: u32, ordered: bool, text: &str| (depth, ordered, text.to_owned());
        assert_eq!(
            texts,
            [
                want(0, false, "a) first"),
                want(1, false, "(i) sub one"),
                want(1, false, "(ii) sub two"),
                want(0, false, "b) second"),
                want(0, false, "I. Part"),
                want(1, false, "1.1 Terms"),
            ]
        );
        // The label a numbered heading would show: `1.1`, not `I.1`.
        let numbering = Numbering::parse(&format!(
            r#"<w:numbering xmlns:w="x">{numbering}</w:numbering>"#
        ));
        let mut counters = Counters::default();
        counters.next(&numbering, "2", 0);
        counters.next(&numbering, "2", 1);
        assert_eq!(counters.label(&numbering, "2", 1).as_deref(), Some("1.1"));
    }

    /// Symbol-font symbols are their Unicode characters (Wingdings' are dropped, but for check
    /// marks and boxes); a text box
    /// is a paragraph of its own; a table of contents is dropped; Author (based on Title) is
    /// a paragraph.
    #[test]
    fn symbols_text_boxes_tables_of_contents_and_title_styles() {
        let styles = r#"<w:style w:styleId="Title"><w:name w:val="Title"/></w:style>
<w:style w:styleId="Author"><w:name w:val="Author"/><w:basedOn w:val="Title"/></w:style>
<w:style w:styleId="TOC1"><w:name w:val="toc 1"/></w:style>"#;
        let body = [
            r#"<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj></w:sdtPr><w:sdtContent><w:p><w:r><w:t>Contents</w:t></w:r></w:p><w:p><w:pPr><w:pStyle w:val="TOC1"/></w:pPr><w:r><w:t>Alpha Chapter 1</w:t></w:r></w:p></w:sdtContent></w:sdt>"#.to_string(),
            p(r#"<w:pStyle w:val="Title"/>"#, "Handbook"),
            p(r#"<w:pStyle w:val="Author"/>"#, "Bob Writer"),
            r#"<w:p><w:r><w:t xml:space="preserve">Angle </w:t></w:r><w:r><w:sym w:font="Symbol" w:char="F061"/><w:sym w:font="Symbol" w:char="B3"/><w:sym w:font="Wingdings" w:char="F04A"/><w:sym w:font="Wingdings" w:char="F0FC"/></w:r><w:r><w:t xml:space="preserve"> name: </w:t></w:r><w:sdt><w:sdtPr><w:alias w:val="Name"/></w:sdtPr><w:sdtContent><w:r><w:t>Jane</w:t></w:r></w:sdtContent></w:sdt></w:p>"#.into(),
            r#"<w:p><w:r><w:t xml:space="preserve">Before box. </w:t></w:r><w:r><w:drawing><wps:txbx xmlns:wps="s"><w:txbxContent><w:p><w:r><w:t>Box text.</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></w:r><w:r><w:t>After box.</w:t></w:r></w:p>"#.into(),
        ]
        .concat();
        assert_eq!(
            blocks_styled(styles, &body),
            vec![
                Block::Heading {
                    level: 1,
                    text: "Handbook".into()
                },
                Block::Paragraph("Bob Writer".into()),
                Block::Paragraph("Angle α≥✓ name: Jane".into()),
                Block::Paragraph("Before box. After box.".into()),
                Block::Paragraph("Box text.".into()),
            ]
        );
    }

    #[test]
    fn moved_away_text_is_dropped_like_deleted_text() {
        let body = r#"<w:p><w:moveFromRangeStart w:id="1"/><w:moveFrom w:id="2"><w:r><w:t>MOVEDFROM</w:t></w:r></w:moveFrom><w:moveFromRangeEnd w:id="1"/><w:r><w:t>kept</w:t></w:r></w:p><w:p><w:moveTo w:id="3"><w:r><w:t>movedto</w:t></w:r></w:moveTo></w:p>"#;
        assert_eq!(
            blocks(body),
            vec![
                Block::Paragraph("kept".into()),
                Block::Paragraph("movedto".into())
            ]
        );
    }

    /// pandoc's task lists (bullets `☐`/`☒`), typed boxes and Wingdings boxes make task
    /// items; a single-cell table (pandoc's figure frame) is its text, and a caption that
    /// repeats that text is dropped.
    #[test]
    fn task_items_frames_and_captions() {
        let numbering = r#"<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="☐"/></w:lvl></w:abstractNum>
<w:abstractNum w:abstractNumId="2"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="☒"/></w:lvl></w:abstractNum>
<w:abstractNum w:abstractNumId="3"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl></w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="1"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="2"/></w:num><w:num w:numId="3"><w:abstractNumId w:val="3"/></w:num>"#;
        let styles =
            r#"<w:style w:styleId="ImageCaption"><w:name w:val="Image Caption"/></w:style>"#;
        let list =
            |num: u32| format!(r#"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="{num}"/></w:numPr>"#);
        let wingdings = r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="3"/></w:numPr></w:pPr><w:r><w:sym w:font="Wingdings" w:char="F0FE"/><w:t xml:space="preserve"> Signed</w:t></w:r></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="3"/></w:numPr></w:pPr><w:r><w:rPr><w:rFonts w:ascii="Wingdings" w:hAnsi="Wingdings"/></w:rPr><w:t>¨</w:t></w:r><w:r><w:t xml:space="preserve"> Unsigned</w:t></w:r></w:p>"#;
        let figure = r#"<w:tbl><w:tblPr><w:tblStyle w:val="FigureTable"/></w:tblPr><w:tr><w:tc><w:p><w:r><w:t>A diagram</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#;
        let body = [
            p(&list(1), "open task"),
            p(&list(2), "done task"),
            p(&list(3), "☒ typed"),
            p(&list(3), "plain"),
            wingdings.to_string(),
            figure.to_string(),
            p(r#"<w:pStyle w:val="ImageCaption"/>"#, "A diagram"),
            p(r#"<w:pStyle w:val="ImageCaption"/>"#, "Another caption"),
        ]
        .concat();
        let item = |checked: Option<bool>, text: &str| Block::ListItem {
            depth: 0,
            ordered: false,
            number: None,
            checked,
            text: text.into(),
        };
        assert_eq!(
            blocks_numbered(styles, numbering, &body),
            vec![
                item(Some(false), "open task"),
                item(Some(true), "done task"),
                item(Some(true), "typed"),
                item(None, "plain"),
                item(Some(true), "Signed"),
                item(Some(false), "Unsigned"),
                Block::Paragraph("A diagram".into()),
                Block::Paragraph("Another caption".into()),
            ]
        );
    }

    /// A caption above a frame that says what the frame says is not said twice; a frame that
    /// holds a table keeps it in a table, not flattened into paragraphs; a frame with a heading
    /// or a list (a call-out box) is its paragraphs and list items (it was a table of one cell
    /// holding all its text on one line), its heading a paragraph.
    #[test]
    fn frames_with_captions_above_and_frames_with_structure() {
        let styles = r#"<w:style w:styleId="Caption"><w:name w:val="caption"/></w:style>
<w:style w:styleId="Heading2"><w:name w:val="heading 2"/></w:style>"#;
        let frame = |inner: &str| format!("<w:tbl><w:tr><w:tc>{inner}</w:tc></w:tr></w:tbl>");
        let body = [
            p(r#"<w:pStyle w:val="Caption"/>"#, "Warning box text"),
            frame(&p("", "Warning box text")),
            frame(
                &[
                    p(r#"<w:pStyle w:val="Heading2"/>"#, "Inside"),
                    p("", "body"),
                    p(
                        r#"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>"#,
                        "step",
                    ),
                ]
                .concat(),
            ),
            frame(&[p("", "Table:"), frame(&p("", "nested"))].concat()),
        ]
        .concat();
        assert_eq!(
            blocks_styled(styles, &body),
            vec![
                Block::Paragraph("Warning box text".into()),
                Block::Paragraph("Inside".into()),
                Block::Paragraph("body".into()),
                Block::ListItem {
                    depth: 0,
                    ordered: true,
                    number: Some(1),
                    checked: None,
                    text: "step".into(),
                },
                Block::Table(vec![vec!["Table:\nnested".into()]]),
            ]
        );
    }

    #[test]
    fn tables_merge_cells_once() {
        let cell = |props: &str, text: &str| {
            format!("<w:tc><w:tcPr>{props}</w:tcPr>{}</w:tc>", p("", text))
        };
        let body = format!(
            "<w:tbl><w:tr>{}{}</w:tr><w:tr>{}{}{}</w:tr></w:tbl>",
            cell(r#"<w:gridSpan w:val="2"/>"#, "wide"),
            cell(r#"<w:vMerge w:val="restart"/>"#, "tall"),
            cell("", "a"),
            cell("", "b"),
            cell("<w:vMerge/>", "ignored"),
        );
        assert_eq!(
            blocks(&body),
            vec![Block::Table(vec![
                vec!["wide".into(), "".into(), "tall".into()],
                vec!["a".into(), "b".into(), "".into()],
            ])]
        );
    }

    #[test]
    fn pictures_become_images_with_alt_text() {
        let body = r#"<w:p><w:r><w:drawing><wp:inline xmlns:wp="w"><wp:docPr id="1" name="Picture 1" descr="A red bicycle"/></wp:inline></w:drawing></w:r></w:p>"#;
        assert_eq!(
            blocks(body),
            vec![Block::Image {
                alt: "A red bicycle".into(),
                src: None
            }]
        );
    }

    #[test]
    fn malformed_xml_keeps_what_was_read() {
        let styles = Styles::default();
        let numbering = Numbering::default();
        let cx = Context {
            styles: &styles,
            numbering: &numbering,
            notes: Default::default(),
        };
        let read = read(
            "<w:body><w:p><w:r><w:t>kept</w:t></w:r></w:p><w:p></w:x>",
            &cx,
        );
        assert_eq!(read.blocks, vec![Block::Paragraph("kept".into())]);
        assert!(read.warning.is_some());
    }

    /// A field that never ends does not hide the rest of the part: it is read again with
    /// fields ignored, and says so.
    #[test]
    fn a_field_that_never_ends_hides_nothing() {
        let xml = format!(
            "{}{}{}",
            r#"<w:p><w:r><w:t>Start </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r></w:p>"#,
            p("", "All the rest."),
            p("", "And more."),
        );
        let read = read_numbered("", "", &xml);
        assert_eq!(
            read.blocks,
            vec![
                Block::Paragraph("Start".into()),
                Block::Paragraph("All the rest.".into()),
                Block::Paragraph("And more.".into()),
            ]
        );
        assert!(read.warning.is_some_and(|w| w.contains("never end")));
    }

    /// Imported content (`w:altChunk`) is found where it stands among the blocks.
    #[test]
    fn imported_parts_are_found_in_place() {
        let body = format!(
            r#"{}<w:altChunk r:id="rId9"/>{}"#,
            p("", "Before."),
            p("", "After.")
        );
        let read = read_numbered("", "", &body);
        assert_eq!(read.blocks.len(), 2);
        assert_eq!(read.imports, [(1, "rId9".to_owned())]);
    }

    /// Tracked formatting changes hold the old properties: the current style, numbering and
    /// run properties count, not theirs.
    #[test]
    fn formatting_changes_keep_the_current_properties() {
        let change = |old: &str| {
            format!(r#"<w:pPrChange w:id="1" w:author="x"><w:pPr>{old}</w:pPr></w:pPrChange>"#)
        };
        let list = r#"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>"#;
        let body = [
            p(
                &format!(
                    r#"<w:pStyle w:val="Heading2"/>{}"#,
                    change(r#"<w:pStyle w:val="Normal"/>"#)
                ),
                "Now a heading",
            ),
            p(
                &format!(
                    r#"<w:pStyle w:val="Normal"/>{}"#,
                    change(r#"<w:pStyle w:val="Heading1"/>"#)
                ),
                "Was a heading",
            ),
            p(&change(list), "Was a list item"),
            r#"<w:p><w:r><w:rPr><w:rPrChange w:id="2" w:author="x"><w:rPr><w:vanish/></w:rPr></w:rPrChange></w:rPr><w:t>Was hidden</w:t></w:r></w:p>"#.into(),
        ]
        .concat();
        assert_eq!(
            blocks(&body),
            vec![
                Block::Heading {
                    level: 2,
                    text: "Now a heading".into()
                },
                Block::Paragraph("Was a heading".into()),
                Block::Paragraph("Was a list item".into()),
                Block::Paragraph("Was hidden".into()),
            ]
        );
    }

    /// Hidden text (`w:vanish` on the run, its character style or its paragraph's style) is
    /// not shown; `w:val="0"` shows it again, and neither `w:specVanish` nor a style's old
    /// properties (`w:rPrChange`) hide.
    #[test]
    fn hidden_text_is_dropped() {
        let styles = r#"<w:style w:type="character" w:styleId="Secret"><w:name w:val="Secret"/><w:rPr><w:vanish/></w:rPr></w:style>
<w:style w:type="character" w:styleId="MoreSecret"><w:basedOn w:val="Secret"/></w:style>
<w:style w:type="paragraph" w:styleId="HiddenPara"><w:name w:val="Hidden Para"/><w:rPr><w:vanish/></w:rPr></w:style>
<w:style w:type="character" w:styleId="WasSecret"><w:rPr><w:rPrChange w:id="1"><w:rPr><w:vanish/></w:rPr></w:rPrChange></w:rPr></w:style>"#;
        let run = |props: &str, text: &str| {
            format!(r#"<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>"#)
        };
        let body = [
            format!(
                "<w:p>{}{}{}{}{}{}{}</w:p>",
                run("", "Price: "),
                run("<w:vanish/>", "INTERNAL cost 3.10 "),
                run(r#"<w:rStyle w:val="MoreSecret"/>"#, "secret "),
                run(r#"<w:vanish w:val="false"/>"#, "4.99"),
                run(r#"<w:rStyle w:val="Secret"/><w:vanish w:val="0"/>"#, " USD"),
                run("<w:specVanish/>", "!"),
                run(r#"<w:rStyle w:val="WasSecret"/>"#, "?"),
            ),
            format!(
                r#"<w:p><w:pPr><w:pStyle w:val="HiddenPara"/><w:rPr><w:vanish/></w:rPr></w:pPr>{}{}</w:p>"#,
                run("", "gone "),
                run(r#"<w:vanish w:val="0"/>"#, "shown"),
            ),
            p(r#"<w:rPr><w:vanish/></w:rPr>"#, "hidden mark, shown text"),
        ]
        .concat();
        assert_eq!(
            blocks_styled(styles, &body),
            vec![
                Block::Paragraph("Price: 4.99 USD!?".into()),
                Block::Paragraph("shown".into()),
                Block::Paragraph("hidden mark, shown text".into()),
            ]
        );
    }

    /// A field's instruction is not content, nor are the results of the fields nested in it
    /// (a mail merge's `IF { MERGEFIELD }`); a table of contents field's result (its
    /// entries, over several paragraphs) is dropped, as a table of contents control is.
    #[test]
    fn field_instructions_and_tables_of_contents_are_dropped() {
        let fld = |kind: &str| format!(r#"<w:r><w:fldChar w:fldCharType="{kind}"/></w:r>"#);
        let instr = |text: &str| {
            format!(r#"<w:r><w:instrText xml:space="preserve">{text}</w:instrText></w:r>"#)
        };
        let t = |text: &str| format!(r#"<w:r><w:t xml:space="preserve">{text}</w:t></w:r>"#);
        let body = [
            format!(
                "<w:p>{}{}{}{}{}{}{}{}{}{}{}{}{}</w:p>",
                t("Dear "),
                fld("begin"),
                instr(" IF "),
                fld("begin"),
                instr(" MERGEFIELD Gender "),
                fld("separate"),
                t("F"),
                fld("end"),
                instr(r#" = "F" "Ms." "Mr." "#),
                fld("separate"),
                t("Ms."),
                fld("end"),
                t(" Smith,"),
            ),
            format!(
                "<w:p>{}{}{}{}</w:p><w:p>{}</w:p><w:p>{}</w:p>",
                fld("begin"),
                instr(r#" TOC \o "1-3" \h "#),
                fld("separate"),
                t("Introduction\t1"),
                t("Methods\t2"),
                fld("end"),
            ),
            r#"<w:p><w:fldSimple w:instr=" TOC \o "><w:r><w:t>Entry 3</w:t></w:r></w:fldSimple></w:p>"#.into(),
            format!(
                "<w:p>{}{}{}{}{}{}</w:p>",
                t("See page "),
                fld("begin"),
                instr(" PAGEREF _Toc1 \\h "),
                fld("separate"),
                t("7"),
                fld("end"),
            ),
        ]
        .concat();
        assert_eq!(
            blocks(&body),
            vec![
                Block::Paragraph("Dear Ms. Smith,".into()),
                Block::Paragraph("See page 7".into()),
            ]
        );
    }

    /// A paragraph whose mark is deleted (tracked) joins the next one, which alone is
    /// numbered; with all its runs deleted too it is gone. A deleted row is gone.
    #[test]
    fn deleted_paragraph_marks_and_rows() {
        let deleted_mark = r#"<w:rPr><w:del w:id="1" w:author="x"/></w:rPr>"#;
        let list = r#"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>"#;
        let deleted_item = format!(
            r#"<w:p><w:pPr>{list}{deleted_mark}</w:pPr><w:del w:id="2" w:author="x"><w:r><w:delText>Beta</w:delText></w:r></w:del></w:p>"#
        );
        let row = |a: &str, b: &str, props: &str| {
            format!(
                "<w:tr><w:trPr>{props}</w:trPr><w:tc>{}</w:tc><w:tc>{}</w:tc></w:tr>",
                p("", a),
                p("", b)
            )
        };
        let body = [
            p(list, "Alpha"),
            deleted_item,
            p(list, "Gamma"),
            p(deleted_mark, "The first half "),
            p("", "and the second."),
            format!(
                "<w:tbl>{}{}{}</w:tbl>",
                row("Name", "Role", ""),
                row("Bob", "Dev", r#"<w:del w:id="3" w:author="x"/>"#),
                row("Ann", "PM", ""),
            ),
        ]
        .concat();
        let item = |number: u32, text: &str| Block::ListItem {
            depth: 0,
            ordered: true,
            number: Some(number),
            checked: None,
            text: text.into(),
        };
        assert_eq!(
            blocks(&body),
            vec![
                item(1, "Alpha"),
                item(2, "Gamma"),
                Block::Paragraph("The first half and the second.".into()),
                Block::Table(vec![
                    vec!["Name".into(), "Role".into()],
                    vec!["Ann".into(), "PM".into()],
                ]),
            ]
        );
    }

    /// Grid columns a row skips before its first cell (`w:gridBefore`) and after its last
    /// (`w:gridAfter`) are empty cells; a merge continuation with no cell above it is a cell.
    #[test]
    fn skipped_grid_columns_and_merges_without_a_start() {
        let cell = |props: &str, text: &str| {
            format!("<w:tc><w:tcPr>{props}</w:tcPr>{}</w:tc>", p("", text))
        };
        let body = format!(
            r#"<w:tbl><w:tr>{}{}{}</w:tr><w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr>{}{}</w:tr><w:tr><w:trPr><w:gridAfter w:val="2"/></w:trPr>{}</w:tr></w:tbl>"#,
            cell("<w:vMerge/>", "Item"),
            cell("", "Qty"),
            cell("", "Price"),
            cell("", "3"),
            cell("", "9.99"),
            cell("<w:vMerge/>", "Total"),
        );
        assert_eq!(
            blocks(&body),
            vec![Block::Table(vec![
                vec!["Item".into(), "Qty".into(), "Price".into()],
                vec!["".into(), "3".into(), "9.99".into()],
                vec!["".into(), "".into(), "".into()],
            ])]
        );
    }

    /// A content control showing its placeholder ("Click or tap here to enter text.") has
    /// no content; one holding text keeps it.
    #[test]
    fn placeholder_text_is_dropped() {
        let sdt = |props: &str, text: &str| {
            format!(
                r#"<w:sdt><w:sdtPr>{props}</w:sdtPr><w:sdtContent><w:r><w:t>{text}</w:t></w:r></w:sdtContent></w:sdt>"#
            )
        };
        let body = format!(
            r#"<w:p><w:r><w:t xml:space="preserve">Client: </w:t></w:r>{}</w:p><w:p><w:r><w:t xml:space="preserve">Name: </w:t></w:r>{}</w:p>"#,
            sdt("<w:showingPlcHdr/>", "Click or tap here to enter text."),
            sdt(r#"<w:showingPlcHdr w:val="0"/>"#, "Jane"),
        );
        assert_eq!(
            blocks(&body),
            vec![
                Block::Paragraph("Client:".into()),
                Block::Paragraph("Name: Jane".into()),
            ]
        );
    }

    /// A positional tab separates words, ruby text reads as its base, a fraction reads
    /// `num/den` (in parentheses when a part has several terms) and a Wingdings arrow is an
    /// arrow.
    #[test]
    fn positional_tabs_ruby_fractions_and_arrows() {
        let math = |num: &str, den: &str| {
            format!(
                r#"<m:oMath><m:f><m:num><m:r><m:t>{num}</m:t></m:r></m:num><m:den><m:r><m:t>{den}</m:t></m:r></m:den></m:f></m:oMath>"#
            )
        };
        let body = [
            r#"<w:p><w:r><w:t>Name</w:t></w:r><w:r><w:ptab w:relativeTo="margin" w:alignment="right" w:leader="dot"/></w:r><w:r><w:t>Page</w:t></w:r></w:p>"#.to_string(),
            format!(
                r#"<w:p><w:r><w:t xml:space="preserve">r=</w:t></w:r>{} and {}</w:p>"#,
                math("10", "25"),
                math("a+b", "-c"),
            ),
            r#"<w:p><w:r><w:ruby><w:rubyPr/><w:rt><w:r><w:t>とうきょう</w:t></w:r></w:rt><w:rubyBase><w:r><w:t>東京</w:t></w:r></w:rubyBase></w:ruby></w:r></w:p>"#.into(),
            r#"<w:p><w:r><w:t xml:space="preserve">Next </w:t></w:r><w:r><w:sym w:font="Wingdings" w:char="F0E0"/></w:r><w:r><w:t xml:space="preserve"> step</w:t></w:r></w:p>"#.into(),
        ]
        .concat();
        assert_eq!(
            blocks(&body),
            vec![
                Block::Paragraph("Name\tPage".into()),
                Block::Paragraph("r=10/25(a+b)/-c".into()),
                Block::Paragraph("東京".into()),
                Block::Paragraph("Next → step".into()),
            ]
        );
    }

    /// Found fuzzing the docx parts: every symbol or non-breaking hyphen walked the whole
    /// stack of open elements, so a deeply nested document with many symbols took quadratic
    /// time (20 000 levels and symbols: 8.5 s in a debug build).
    #[test]
    fn symbols_count_outside_properties_in_linear_time() {
        let body = r#"<w:p><w:pPr><w:rPr><w:sym w:char="42"/></w:rPr></w:pPr><w:r><w:t>a</w:t><w:noBreakHyphen/><w:sym w:char="41"/></w:r></w:p>"#;
        assert_eq!(blocks(body), vec![Block::Paragraph("a-A".into())]);
        let n = 50_000;
        let deep = format!(
            "<w:p>{}<w:r>{}</w:r>{}</w:p>",
            "<w:x>".repeat(n),
            r#"<w:sym w:char="41"/>"#.repeat(n),
            "</w:x>".repeat(n)
        );
        let started = std::time::Instant::now();
        assert_eq!(blocks(&deep), vec![Block::Paragraph("A".repeat(n))]);
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }

    /// A field that never ends (its `begin` late in the part) changes nothing before it: the
    /// table of contents is still dropped and a mail merge's `IF { MERGEFIELD }` still reads
    /// as its result; the text after it is read. One stray `begin` made the whole part read
    /// without fields (`«Gender»Ms`, the TOC's entries).
    #[test]
    fn a_field_that_never_ends_changes_no_other_field() {
        let fld = |kind: &str| format!(r#"<w:r><w:fldChar w:fldCharType="{kind}"/></w:r>"#);
        let instr = |text: &str| format!(r#"<w:r><w:instrText>{text}</w:instrText></w:r>"#);
        let t = |text: &str| format!(r#"<w:r><w:t xml:space="preserve">{text}</w:t></w:r>"#);
        let body = [
            format!(
                "<w:p>{}{}{}{}{}</w:p>",
                fld("begin"),
                instr(" TOC \\o "),
                fld("separate"),
                t("Intro 1"),
                fld("end")
            ),
            format!(
                "<w:p>{}{}{}{}{}{}{}{}{}{}{}{}{}</w:p>",
                t("Dear "),
                fld("begin"),
                instr(" IF "),
                fld("begin"),
                instr(" MERGEFIELD Gender "),
                fld("separate"),
                t("«Gender»"),
                fld("end"),
                instr(r#" = "M" "Mr" "Ms" "#),
                fld("separate"),
                t("Ms"),
                fld("end"),
                t(" Smith,"),
            ),
            format!(
                "<w:p>{}{}{}</w:p>",
                t("Page "),
                fld("begin"),
                instr(" PAGE ")
            ),
            p("", "Last paragraph."),
        ]
        .concat();
        let read = read_numbered("", "", &body);
        assert_eq!(
            read.blocks,
            vec![
                Block::Paragraph("Dear Ms Smith,".into()),
                Block::Paragraph("Page".into()),
                Block::Paragraph("Last paragraph.".into()),
            ]
        );
        let warning = read.warning.unwrap_or_default();
        assert!(warning.contains("1 field(s) never end"), "{warning}");
        assert!(
            warning.contains("other fields are read as usual"),
            "{warning}"
        );
    }

    /// Alternate content takes the first Choice whose `Requires` names only namespaces the
    /// reader understands, else the Fallback: an emoji Word inserted (`w16se:symEx`) reads
    /// once, and so does a Choice in an unknown extension's stead. The Choice was always
    /// taken, and the emoji lost.
    #[test]
    fn alternate_content_takes_what_is_understood() {
        let alternate = |requires: &str, choice: &str, fallback: &str| {
            format!(
                r#"<w:r><mc:AlternateContent><mc:Choice Requires="{requires}">{choice}</mc:Choice><mc:Fallback>{fallback}</mc:Fallback></mc:AlternateContent></w:r>"#
            )
        };
        let symex = |code: &str| {
            format!(r#"<w16se:symEx w16se:font="Segoe UI Emoji" w16se:char="{code}"/>"#)
        };
        let t = |text: &str| format!("<w:t>{text}</w:t>");
        let body = format!(
            r#"<w:p xmlns:w16se="http://schemas.microsoft.com/office/word/2015/wordml/symex" xmlns:zz="http://example.com/unknown">{}{}{}{}</w:p>"#,
            alternate("w16se", &symex("1F60A"), &t("😊")),
            alternate("zz", &t("CHOICE"), &t(" fallback")),
            alternate("w16se zz", &t("CHOICE"), &t(" again")),
            alternate("wps", &t(" box"), &t("VML BOX")),
        );
        assert_eq!(
            blocks(&body),
            vec![Block::Paragraph("😊 fallback again box".into())]
        );
        // The symbol itself, where Word reads only the symbol (its font names it).
        let body = format!("<w:p><w:r>{}{}</w:r></w:p>", symex("2460"), t(" first"));
        assert_eq!(blocks(&body), vec![Block::Paragraph("① first".into())]);
    }

    /// Labels that are more than a number (`2.1.`, `Article 1`, `Section 1.2`) are kept in
    /// the item's text, as letters are, and so are the numbers of items in table cells: text
    /// that refers to "clause 2.1" finds it. They were bare `1.` items, and cells lost them.
    #[test]
    fn compound_labels_and_numbers_in_cells_are_kept() {
        let lvl = |ilvl: u32, text: &str| {
            format!(
                r#"<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="{text}"/></w:lvl>"#
            )
        };
        let numbering = format!(
            r#"<w:abstractNum w:abstractNumId="1">{}{}</w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="1"/></w:num><w:abstractNum w:abstractNumId="2">{}{}</w:abstractNum><w:num w:numId="2"><w:abstractNumId w:val="2"/></w:num>"#,
            lvl(0, "%1."),
            lvl(1, "%1.%2."),
            lvl(0, "Article %1"),
            lvl(1, "Section %1.%2"),
        );
        let item = |num: u32, ilvl: u32, text: &str| {
            p(
                &format!(r#"<w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num}"/></w:numPr>"#),
                text,
            )
        };
        let body = [
            item(1, 0, "Definitions"),
            item(1, 0, "Payment"),
            item(1, 1, "Pay within 30 days."),
            item(2, 0, "Scope"),
            item(2, 1, "The scope clause."),
            format!(
                "<w:tbl><w:tr><w:tc>{}</w:tc><w:tc>{}{}</w:tc></w:tr></w:tbl>",
                p("", "cell"),
                item(1, 0, "item"),
                item(1, 1, "sub item"),
            ),
        ]
        .concat();
        let list = |ordered: bool, number: Option<u32>, depth: u32, text: &str| Block::ListItem {
            depth,
            ordered,
            number,
            checked: None,
            text: text.into(),
        };
        assert_eq!(
            blocks_numbered("", &numbering, &body),
            vec![
                list(true, Some(1), 0, "Definitions"),
                list(true, Some(2), 0, "Payment"),
                list(false, None, 1, "2.1. Pay within 30 days."),
                list(false, None, 0, "Article 1 Scope"),
                list(false, None, 1, "Section 1.1 The scope clause."),
                Block::Table(vec![vec!["cell".into(), "3. item\n3.1. sub item".into()]]),
            ]
        );
    }

    /// A direct outline level of 9 (body text) overrides a heading style, as in Word.
    #[test]
    fn a_direct_body_text_outline_level_is_no_heading() {
        let styles = r#"<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>"#;
        let body = [
            p(r#"<w:pStyle w:val="Heading1"/>"#, "A heading"),
            p(
                r#"<w:pStyle w:val="Heading1"/><w:outlineLvl w:val="9"/>"#,
                "Body text",
            ),
        ]
        .concat();
        assert_eq!(
            blocks_styled(styles, &body),
            vec![
                Block::Heading {
                    level: 1,
                    text: "A heading".into()
                },
                Block::Paragraph("Body text".into()),
            ]
        );
    }
}
