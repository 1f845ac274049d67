//! A Markdown renderer shared by HTML and DOCX (PDF renders its pages itself, with these
//! escaping helpers): a list of [`Block`]s becomes one Markdown string plus elements whose spans index
//! it and whose sections follow the headings. A block's text may hold inline code and images
//! marked by [`inline_markup`]: Markdown in the string, their plain text in the elements.

use super::inline_markup::{self, Span};
use crate::model::{Element, ElementKind};

/// One block of a document, in plain text, ready to be rendered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    /// A heading of `level` 1..=6 (clamped).
    Heading { level: u8, text: String },
    /// Running text; line breaks are kept, as Markdown hard breaks. This text, a heading's, a
    /// list item's and a table cell's may hold [`inline_markup`].
    Paragraph(String),
    /// One list item at `depth` (0 = top level). An ordered item shows `number` when the
    /// source gives one (else it follows the previous item); a number that does not follow
    /// the previous item's starts a new list, as a restart does. A task item has a check
    /// box, `checked` or not (`- [x] text`).
    ListItem {
        depth: u32,
        ordered: bool,
        number: Option<u32>,
        checked: Option<bool>,
        text: String,
    },
    /// A table, row by row; the first row is rendered as the header.
    Table(Vec<Vec<String>>),
    /// A code block with its language when known.
    Code {
        language: Option<String>,
        text: String,
    },
    /// A block quote: the blocks it holds (paragraphs, lists, code, quotes…).
    Quote(Vec<Block>),
    /// An image with its alt text and source.
    Image { alt: String, src: Option<String> },
    /// A table of contents: its list items are rendered as such, and are contents entries.
    Contents(Vec<Block>),
}

/// The headings in force while walking a document, for elements' `section` paths.
#[derive(Debug, Default)]
pub(crate) struct Sections {
    headings: Vec<(u8, String)>,
    /// Bytes of the section paths handed out so far.
    given: usize,
}

impl Sections {
    /// Enters a heading of `level`: closes the headings at or below it and, when `text` is
    /// not empty, opens this one. Returns the section path above the heading itself.
    pub(crate) fn enter(&mut self, level: u8, text: &str) -> Vec<String> {
        while self.headings.last().is_some_and(|(l, _)| *l >= level) {
            self.headings.pop();
        }
        let above = self.path();
        if !text.is_empty() {
            self.headings.push((level, section_label(text)));
        }
        above
    }

    /// Texts of the headings in force, outermost first; none once the paths handed out pass
    /// [`MAX_SECTION_PATH_BYTES`] (the document is then refused, see [`Sections::check`]).
    pub(crate) fn path(&mut self) -> Vec<String> {
        if self.given > MAX_SECTION_PATH_BYTES {
            return Vec::new();
        }
        self.given += self.headings.iter().map(|(_, t)| t.len()).sum::<usize>();
        self.headings.iter().map(|(_, t)| t.clone()).collect()
    }

    /// The error of a document whose elements' section paths passed
    /// [`MAX_SECTION_PATH_BYTES`].
    pub(crate) fn check(&self) -> Result<(), super::ParseError> {
        if self.given <= MAX_SECTION_PATH_BYTES {
            return Ok(());
        }
        Err(super::ParseError::TooLarge {
            detail: format!(
                "the section paths of the document's elements (the headings above each paragraph, item and row) come to more than {} MiB: too many elements under headings that long; split the document or shorten its headings",
                MAX_SECTION_PATH_BYTES >> 20
            ),
        })
    }
}

/// The most bytes of section paths a document's elements may carry in all: each element
/// carries its own copy, and 900,000 paragraphs under six headings of 200 characters took
/// 3.8 GB to parse, and a checkpoint too large to read back.
pub(crate) const MAX_SECTION_PATH_BYTES: usize = 64 << 20;

/// The most characters a heading contributes to the section paths of the elements under it.
/// Every element carries its section path, so an uncapped heading of a megabyte would be
/// copied into each of them; the heading's own element keeps its full text.
pub(crate) const MAX_SECTION_CHARS: usize = 200;

/// A heading's text as it appears in section paths: at most [`MAX_SECTION_CHARS`]
/// characters, cut at a character boundary and marked with "…" when cut.
pub(crate) fn section_label(text: &str) -> String {
    match text.char_indices().nth(MAX_SECTION_CHARS) {
        Some((cut, _)) => {
            let mut label = text[..cut].trim_end().to_string();
            label.push('…');
            label
        }
        None => text.to_string(),
    }
}

/// Most cells of one table's grid (rows × the widest row) rendered as a Markdown table; a
/// larger table's rows become paragraphs, with a warning (as a sparse table's do, without).
pub(crate) const MAX_TABLE_CELLS: usize = 1_000_000;

/// Tables at least this wide whose cells are mostly empty are rendered row by row as
/// paragraphs (see [`is_sparse`]).
const SPARSE_FROM_COLUMNS: usize = 8;

/// Whether a table of `rows`, `width` columns wide, is a form laid out on a fine grid rather
/// than a grid of data: at least [`SPARSE_FROM_COLUMNS`] wide with fewer than a third of its
/// cells holding text (merged cells leave the columns they span empty). As a Markdown table
/// it would be mostly pipes (a 63-column estimate of 480 rows: 118 KB, 93% empty cells),
/// which chunks and embeddings would be made of.
fn is_sparse(rows: &[Vec<String>], width: usize) -> bool {
    let filled: usize = rows
        .iter()
        .map(|row| row.iter().filter(|cell| !cell.is_empty()).count())
        .sum();
    width >= SPARSE_FROM_COLUMNS && filled.saturating_mul(3) < width.saturating_mul(rows.len())
}

/// Most columns that column spans may pad one row to: a span is rendered as empty cells after
/// its own, so that the columns line up; past this a span adds none (the cells' text stays).
pub(crate) const MAX_SPAN_COLUMNS: usize = 1000;

/// Pads `row`, which has just received a cell spanning `span` columns, with the empty cells the
/// span stands for, up to [`MAX_SPAN_COLUMNS`] in the row.
pub(crate) fn pad_span(row: &mut Vec<String>, span: usize) {
    let room = MAX_SPAN_COLUMNS.saturating_sub(row.len());
    row.extend(std::iter::repeat_n(
        String::new(),
        span.saturating_sub(1).min(room),
    ));
}

/// The top heading level among `blocks` (1 when there is none): the level of a heading
/// added after them that ends all their sections (a document's notes).
pub(crate) fn top_level(blocks: &[Block]) -> u8 {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, .. } => Some(*level),
            _ => None,
        })
        .min()
        .unwrap_or(1)
}

/// A block's text without Markdown (a table's as [`table_text`], a quote's blocks a line
/// each); `None` for an image.
pub(crate) fn plain_text(block: &Block) -> Option<String> {
    match block {
        Block::Paragraph(text) | Block::Heading { text, .. } | Block::ListItem { text, .. } => {
            Some(inline_markup::plain(text))
        }
        Block::Code { text, .. } => Some(text.clone()),
        Block::Table(rows) => Some(inline_markup::plain(&table_text(rows))),
        Block::Quote(blocks) | Block::Contents(blocks) => Some(
            blocks
                .iter()
                .filter_map(plain_text)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        Block::Image { .. } => None,
    }
}

/// Table text: cells joined with " | ", rows with newlines.
pub(crate) fn table_text(rows: &[Vec<String>]) -> String {
    rows.iter()
        .map(|row| row.join(" | "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An open list at one depth: what its last item was.
#[derive(Debug, Default, Clone, Copy)]
struct ListLevel {
    /// Whether the last item was ordered.
    ordered: bool,
    /// The last ordered item's number.
    last: u32,
    /// Whether ordered items use `)` rather than `.`: the delimiter alternates between
    /// consecutive ordered lists so that Markdown sees two lists, not one.
    paren: bool,
    /// The last item's indentation.
    indent: usize,
    /// Where the last item's text starts (its indentation plus its marker).
    column: usize,
}

/// Largest ordered-list number Markdown accepts (nine digits).
pub(crate) const MAX_NUMBER: u32 = 999_999_999;

/// Builds Markdown and elements block by block.
#[derive(Debug, Default)]
pub(crate) struct Renderer {
    markdown: String,
    elements: Vec<Element>,
    sections: Sections,
    /// Whether the previous block was a list item (items of one list are not separated by
    /// blank lines).
    in_list: bool,
    /// The open lists, by depth.
    levels: Vec<ListLevel>,
    /// The page that new elements are on, for formats with pages.
    page: Option<u32>,
    /// What was rendered differently from its source, for the document's warnings.
    warnings: Vec<String>,
}

impl Renderer {
    /// An empty renderer.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Whether any element rendered so far has text.
    pub(crate) fn has_text(&self) -> bool {
        self.elements.iter().any(|e| !e.text.trim().is_empty())
    }

    /// Takes the warnings gathered so far (tables too large for a grid).
    pub(crate) fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Sets the page of the elements pushed from now on.
    #[allow(dead_code)] // for the PDF parser
    pub(crate) fn set_page(&mut self, page: Option<u32>) {
        self.page = page;
    }

    /// Renders every block of `blocks`.
    pub(crate) fn extend(&mut self, blocks: impl IntoIterator<Item = Block>) {
        let mut blocks = blocks.into_iter().peekable();
        while let Some(block) = blocks.next() {
            // An item without text holding a nested list (a bare check box, an empty bullet)
            // is kept as its marker: its nested items stay under it rather than going under
            // the item before.
            let holds_list = match (&block, blocks.peek()) {
                (Block::ListItem { depth, .. }, Some(Block::ListItem { depth: next, .. })) => {
                    next > depth
                }
                _ => false,
            };
            self.render(block, holds_list);
        }
    }

    /// Renders one block; blocks without text are dropped.
    pub(crate) fn push(&mut self, block: Block) {
        self.render(block, false);
    }

    /// Renders one block; a list item without text is kept as its marker when it
    /// `holds_list`, and other blocks without text are dropped.
    fn render(&mut self, block: Block, holds_list: bool) {
        match block {
            Block::Heading { level, text } => {
                let marked = one_line(&text);
                let text = one_line(&inline_markup::plain(&marked));
                let level = level.clamp(1, 6);
                let section = self.sections.enter(level, &text);
                if text.is_empty() {
                    return;
                }
                let mut escaped = escape_inline(&marked);
                // A trailing `#` run would read as the heading's closing sequence.
                if escaped.ends_with('#') {
                    let at = escaped.trim_end_matches('#').len();
                    escaped.insert(at, '\\');
                }
                let md = format!("{} {escaped}", "#".repeat(usize::from(level)));
                let element = Element {
                    level: Some(level),
                    ..Element::new(ElementKind::Heading, text, [0, 0])
                };
                self.emit(element, &md, false, Some(section));
            }
            Block::Paragraph(text) => {
                let marked = tidy(&text);
                let text = tidy(&inline_markup::plain(&marked));
                if text.is_empty() {
                    return;
                }
                let md = escape_lines(&marked);
                self.emit(
                    Element::new(ElementKind::Paragraph, text, [0, 0]),
                    &md,
                    false,
                    None,
                );
            }
            Block::ListItem {
                depth,
                ordered,
                number,
                checked,
                text,
            } => self.list_item(depth, ordered, number, checked, &text, holds_list),
            Block::Table(rows) => self.table(rows),
            Block::Code { language, text } => {
                let text = text.trim_matches(['\n', '\r']).trim_end().to_string();
                if text.trim().is_empty() {
                    return;
                }
                let fence = fence_for(&text);
                let info = language.as_deref().map(one_line).unwrap_or_default();
                let md = format!("{fence}{info}\n{text}\n{fence}");
                let element = Element {
                    language: language.filter(|l| !l.trim().is_empty()),
                    ..Element::new(ElementKind::Code, text, [0, 0])
                };
                self.emit(element, &md, false, None);
            }
            Block::Quote(blocks) => self.quote(blocks),
            Block::Contents(blocks) => {
                let first = self.elements.len();
                self.extend(blocks);
                for element in &mut self.elements[first..] {
                    if element.kind == ElementKind::ListItem {
                        element.kind = ElementKind::ContentsEntry;
                    }
                }
            }
            Block::Image { alt, src } => {
                let alt = one_line(&alt);
                let src = src.map(|s| one_line(&s).replace(' ', "%20"));
                let md = format!(
                    "![{}]({})",
                    alt.replace(['[', ']'], ""),
                    src.as_deref().unwrap_or("")
                );
                self.emit(
                    Element::new(ElementKind::Image, alt, [0, 0]),
                    &md,
                    false,
                    None,
                );
            }
        }
    }

    fn list_item(
        &mut self,
        depth: u32,
        ordered: bool,
        number: Option<u32>,
        checked: Option<bool>,
        text: &str,
        holds_list: bool,
    ) {
        let marked = tidy(text);
        let text = tidy(&inline_markup::plain(&marked));
        if text.is_empty() && !holds_list {
            return;
        }
        if !self.in_list {
            self.levels.clear();
        }
        // A level may only open one below the previous item (deeper indentation would turn
        // the item into code); skipped levels are closed up.
        let depth_index = usize::try_from(depth)
            .unwrap_or(usize::MAX)
            .min(16)
            .min(self.levels.len());
        self.levels.truncate(depth_index + 1);
        let opened = self.levels.len() <= depth_index;
        if opened {
            self.levels.push(ListLevel::default());
        }
        // Nested items go four spaces in, or further under a wide marker ("100. "): never so
        // far past the parent's text that they would read as code.
        let indent = match depth_index.checked_sub(1).map(|d| self.levels[d]) {
            Some(parent) => (parent.indent + 4).max(parent.column),
            None => 0,
        };
        let level = &mut self.levels[depth_index];
        let mut separate = false;
        let marker = if ordered {
            let follows = (!opened && level.ordered).then(|| level.last.saturating_add(1));
            let n = number.or(follows).unwrap_or(1).min(MAX_NUMBER);
            if !opened && level.ordered && follows != Some(n) {
                // Another list right after this one (a restart, a jump): a new delimiter
                // keeps them apart.
                level.paren = !level.paren;
            }
            // A nested list that does not start at 1 cannot interrupt the paragraph of the
            // item above it: a blank line first.
            separate = opened && depth_index > 0 && n != 1;
            level.last = n;
            format!("{n}{} ", if level.paren { ')' } else { '.' })
        } else {
            "- ".into()
        };
        level.ordered = ordered;
        level.indent = indent;
        level.column = indent + marker.len();
        let continuation = " ".repeat(level.column);
        let indent = " ".repeat(indent);
        let task_box = match checked {
            Some(true) => "[x] ",
            Some(false) => "[ ] ",
            None => "",
        };
        let mut md = String::new();
        if text.is_empty() {
            // The marker alone (CommonMark: an item may start with a blank line); it has no
            // text for an element.
            md = format!("{indent}{marker}{task_box}").trim_end().to_string();
            let separator = if self.in_list && !separate {
                "\n"
            } else {
                "\n\n"
            };
            if !self.markdown.is_empty() {
                self.markdown.push_str(separator);
            }
            self.markdown.push_str(&md);
            self.in_list = true;
            return;
        }
        for (i, line) in escape_lines(&marked).lines().enumerate() {
            if i == 0 {
                md.push_str(&indent);
                md.push_str(&marker);
                md.push_str(task_box);
            } else {
                md.push('\n');
                md.push_str(&continuation);
            }
            md.push_str(line);
        }
        let element = Element {
            depth: Some(depth_index as u32),
            ordered: Some(ordered),
            checked,
            ..Element::new(ElementKind::ListItem, text, [0, 0])
        };
        if separate {
            self.in_list = false;
        }
        self.emit(element, &md, true, None);
    }

    fn table(&mut self, rows: Vec<Vec<String>>) {
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|row| row.iter().map(|c| one_line(c)).collect::<Vec<_>>())
            .filter(|row| !row.is_empty())
            .collect();
        if rows.iter().all(|row| row.iter().all(String::is_empty)) {
            return;
        }
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        if width.saturating_mul(rows.len()) > MAX_TABLE_CELLS {
            // Every row is padded to the widest: a wide row over many rows would render a
            // grid quadratic in the input. The text stays, a row per paragraph.
            self.warnings.push(format!(
                "a table of {} rows and {width} columns is more than {MAX_TABLE_CELLS} cells: its rows are kept as paragraphs",
                rows.len()
            ));
            self.rows_as_paragraphs(rows, false);
            return;
        }
        if is_sparse(&rows, width) {
            let named = rows[0].iter().filter(|cell| !cell.is_empty()).count() * 2 >= width;
            self.rows_as_paragraphs(rows, named);
            return;
        }
        let line = |row: &[String]| {
            let mut out = String::from("|");
            for i in 0..width {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                out.push(' ');
                out.push_str(&escape_cell(cell));
                out.push_str(" |");
            }
            out
        };
        let mut md = String::new();
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                md.push('\n');
            }
            md.push_str(&line(row));
            if i == 0 {
                md.push_str("\n|");
                md.push_str(&" --- |".repeat(width));
            }
        }
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|row| row.iter().map(|c| inline_markup::plain(c)).collect())
            .collect();
        let text = table_text(&rows);
        let element = Element {
            rows: Some(rows),
            ..Element::new(ElementKind::Table, text, [0, 0])
        };
        self.emit(element, &md, false, None);
    }

    /// Renders a table's rows as paragraphs of their cells that hold text, joined by ` | `;
    /// with `named`, each later row's cells after the first row's cell above them (`Linux: ✓`).
    fn rows_as_paragraphs(&mut self, rows: Vec<Vec<String>>, named: bool) {
        let names = if named { rows[0].clone() } else { Vec::new() };
        for (index, row) in rows.into_iter().enumerate() {
            let cells: Vec<String> = row
                .into_iter()
                .enumerate()
                .filter(|(_, cell)| !cell.is_empty())
                .map(|(column, cell)| match names.get(column) {
                    Some(name) if index > 0 && !name.is_empty() && *name != cell => {
                        format!("{name}: {cell}")
                    }
                    _ => cell,
                })
                .collect();
            if !cells.is_empty() {
                self.push(Block::Paragraph(cells.join(" | ")));
            }
        }
    }

    /// Renders a quote's blocks as Markdown of their own, every line marked `>`: one quote
    /// element whose text is its blocks' texts, a line each (a task keeps its box).
    fn quote(&mut self, blocks: Vec<Block>) {
        let mut inner = Renderer {
            page: self.page,
            ..Renderer::new()
        };
        inner.extend(blocks);
        self.warnings.append(&mut inner.warnings);
        // A quote's own renderer has no headings above its blocks: no section paths.
        let (md, elements) = inner.into_parts();
        let text = elements
            .iter()
            .map(|e| match e.checked {
                Some(checked) => format!("[{}] {}", if checked { 'x' } else { ' ' }, e.text),
                None => e.text.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        if text.trim().is_empty() {
            return;
        }
        let md = md
            .trim_end()
            .lines()
            .map(|l| {
                if l.is_empty() {
                    ">".into()
                } else {
                    format!("> {l}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        self.emit(
            Element::new(ElementKind::Quote, text, [0, 0]),
            &md,
            false,
            None,
        );
    }

    /// Appends `md` after the right separator and records `element` spanning it.
    fn emit(&mut self, mut element: Element, md: &str, list: bool, section: Option<Vec<String>>) {
        if !self.markdown.is_empty() {
            self.markdown
                .push_str(if list && self.in_list { "\n" } else { "\n\n" });
        }
        let start = self.markdown.len();
        self.markdown.push_str(md);
        element.span = [start, self.markdown.len()];
        element.section = section.unwrap_or_else(|| self.sections.path());
        element.page = self.page;
        self.in_list = list;
        self.elements.push(element);
    }

    /// The Markdown (ending in a newline when not empty) and the elements; an error when
    /// their section paths passed [`MAX_SECTION_PATH_BYTES`].
    pub(crate) fn finish(self) -> Result<(String, Vec<Element>), super::ParseError> {
        self.sections.check()?;
        Ok(self.into_parts())
    }

    /// The Markdown (ending in a newline when not empty) and the elements, as they are.
    fn into_parts(mut self) -> (String, Vec<Element>) {
        if !self.markdown.is_empty() {
            self.markdown.push('\n');
        }
        (self.markdown, self.elements)
    }
}

/// `text` with whitespace runs collapsed inside lines, lines trimmed and blank lines dropped.
pub(crate) fn tidy(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` on one line with whitespace collapsed.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A code fence longer than any backtick run in `text`.
pub(crate) fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat(longest.max(2) + 1)
}

/// What ends a line of a block's text: a Markdown hard line break (two spaces before the
/// newline). A line break kept in a block's text is an explicit one (`<br>`, a DOCX `w:br`),
/// not the wrapping of running text, and is rendered as one, so that it reads as a line
/// break, not as a space (Markdown's soft break), to Markdown readers and to the chunkers.
pub(crate) const HARD_BREAK: &str = "  \n";

/// Each line of `text` escaped so it stays running text, the lines joined by hard breaks.
fn escape_lines(text: &str) -> String {
    text.lines()
        .map(escape_inline)
        .collect::<Vec<_>>()
        .join(HARD_BREAK)
}

/// One line escaped: characters that would start inline markup, HTML or a block construct at
/// the line start get a backslash. Those that cannot are left as they are, so the text reads as
/// written: a backslash before anything but ASCII punctuation (`C:\Users`, TeX's `\alpha`) and an
/// underscore inside a word (`snake_case`, which CommonMark never reads as emphasis).
pub(crate) fn escape_inline(line: &str) -> String {
    escape_text(line, true)
}

/// A table cell's text escaped: inline markup and the cell separator `|`, but no block starts,
/// which a cell cannot hold.
fn escape_cell(cell: &str) -> String {
    escape_text(cell, false).replace('|', "\\|")
}

/// A span of [`inline_markup`] as Markdown: a code span, or an image as a block image is
/// written (its alt text escaped, as it is inline).
fn span_markdown(span: Span<'_>) -> String {
    match span {
        Span::Code(code) => inline_markup::code_span(code),
        Span::Image { alt, src } => {
            let alt = inline_markup::strip(alt).replace(['[', ']'], "");
            let src = inline_markup::strip(src).replace(' ', "%20");
            format!("![{}]({src})", escape_text(&alt, false))
        }
    }
}

/// [`escape_inline`], with the escapes of what starts a block only `at_line_start`; the
/// [`inline_markup`] the line holds is written as Markdown.
fn escape_text(line: &str, at_line_start: bool) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut previous = None;
    // Two tildes can strike through what is between them; one alone is text (`~5 minutes`).
    let tildes_pair = line.bytes().filter(|&b| b == b'~').nth(1).is_some();
    let mut i = 0;
    while let Some(c) = line[i..].chars().next() {
        if let Some((span, len)) = inline_markup::span_at(&line[i..]) {
            let md = span_markdown(span);
            out.push_str(&md);
            previous = md.chars().next_back();
            i += len;
            continue;
        }
        let next = line[i + c.len_utf8()..].chars().next();
        let line_start = at_line_start && i == 0;
        let escape = match c {
            '\\' => next.is_none_or(|n| n.is_ascii_punctuation()),
            '_' => {
                !(previous.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric))
            }
            '`' | '*' | '[' | ']' => true,
            '<' => next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')),
            '&' => next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#'),
            '~' => line_start || tildes_pair,
            '#' | '>' | '|' | '=' if line_start => true,
            '-' | '+' if line_start => next.is_none_or(|n| n == ' ' || n == c),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
        previous = Some(c);
        i += c.len_utf8();
    }
    // An ordered-list marker at the start ("1. ") would become a list.
    if at_line_start
        && let Some(dot) = out.find(['.', ')'])
        && dot > 0
        && dot <= 9
        && out[..dot].bytes().all(|b| b.is_ascii_digit())
        && (out[dot + 1..].is_empty() || out[dot + 1..].starts_with(' '))
    {
        out.insert(dot, '\\');
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The text a CommonMark reader (with the extensions the Markdown parser enables) finds in
    /// `markdown`, a paragraph.
    fn read_back(markdown: &str) -> String {
        use pulldown_cmark::{Event, Options, Parser};
        let options = Options::ENABLE_TABLES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_FOOTNOTES;
        Parser::new_ext(markdown, options)
            .filter_map(|event| match event {
                Event::Text(text) | Event::Code(text) => Some(text.into_string()),
                _ => None,
            })
            .collect()
    }

    proptest! {
        /// An escaped line reads back as exactly its text: no markup, HTML or block starts.
        #[test]
        fn an_escaped_line_reads_back_as_its_text(line in "[a-z1 _*`\\\\\\[\\]<>&#=+~|!.()-]{1,16}") {
            // A paragraph's text has no spaces at its ends.
            let line = line.trim();
            prop_assert_eq!(read_back(&escape_inline(line)), line);
        }
    }

    #[test]
    fn only_what_could_be_markup_is_escaped() {
        for (line, escaped) in [
            ("snake_case_name", "snake_case_name"),
            ("_emphasis_ and a_", "\\_emphasis\\_ and a\\_"),
            ("C:\\Users\\me", "C:\\Users\\me"),
            ("$\\alpha_1$", "$\\alpha_1$"),
            ("a\\*b", "a\\\\\\*b"),
            ("ends with \\", "ends with \\\\"),
            ("*", "\\*"),
        ] {
            assert_eq!(escape_inline(line), escaped, "{line}");
        }
    }

    fn render(blocks: Vec<Block>) -> (String, Vec<Element>) {
        let mut r = Renderer::new();
        r.extend(blocks);
        r.finish().unwrap()
    }

    #[test]
    fn renders_blocks_with_spans_and_sections() {
        let (md, els) = render(vec![
            Block::Heading {
                level: 1,
                text: "Title".into(),
            },
            Block::Paragraph("Some *text*\nsecond  line".into()),
            Block::Heading {
                level: 2,
                text: "Sub".into(),
            },
            Block::ListItem {
                depth: 0,
                ordered: true,
                number: None,
                checked: None,
                text: "one".into(),
            },
            Block::ListItem {
                depth: 1,
                ordered: false,
                number: None,
                checked: None,
                text: "nested".into(),
            },
            Block::ListItem {
                depth: 0,
                ordered: true,
                number: None,
                checked: None,
                text: "two".into(),
            },
            Block::Table(vec![vec!["a".into(), "b|c".into()], vec!["1".into()]]),
            Block::Code {
                language: Some("rust".into()),
                text: "fn x() {}\n".into(),
            },
            Block::Quote(vec![Block::Paragraph("quoted".into())]),
            Block::Image {
                alt: "pic".into(),
                src: Some("a b.png".into()),
            },
        ]);
        assert_eq!(
            md,
            "# Title\n\nSome \\*text\\*  \nsecond line\n\n## Sub\n\n1. one\n    - nested\n2. two\n\n| a | b\\|c |\n| --- | --- |\n| 1 |  |\n\n```rust\nfn x() {}\n```\n\n> quoted\n\n![pic](a%20b.png)\n"
        );
        for e in &els {
            assert!(!md[e.span[0]..e.span[1]].is_empty());
        }
        assert_eq!(&md[els[3].span[0]..els[3].span[1]], "1. one");
        assert_eq!(els[1].section, vec!["Title"]);
        assert_eq!(els[2].section, vec!["Title"]);
        assert_eq!(els[4].section, vec!["Title", "Sub"]);
        assert_eq!(els[4].depth, Some(1));
        assert_eq!(els[6].rows.as_ref().unwrap()[0][1], "b|c");
        assert_eq!(els[7].language.as_deref(), Some("rust"));
    }

    #[test]
    fn rendering_round_trips_through_the_markdown_parser() {
        let (md, _) = render(vec![
            Block::Paragraph("# not a heading\n1. not a list\n- nor this\n<b>no html</b>".into()),
            Block::ListItem {
                depth: 0,
                ordered: false,
                number: None,
                checked: None,
                text: "item".into(),
            },
            Block::ListItem {
                depth: 1,
                ordered: true,
                number: None,
                checked: None,
                text: "sub".into(),
            },
        ]);
        let parsed = super::super::markdown::parse(md).unwrap();
        let kinds: Vec<ElementKind> = parsed.elements.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ElementKind::Paragraph,
                ElementKind::ListItem,
                ElementKind::ListItem
            ]
        );
        // Its line breaks are hard breaks: they stay line breaks, not spaces.
        assert_eq!(
            parsed.elements[0].text,
            "# not a heading\n1. not a list\n- nor this\n<b>no html</b>"
        );
        assert_eq!(parsed.elements[2].depth, Some(1));
    }

    #[test]
    fn skipped_list_levels_and_closing_hashes() {
        let item = |depth: u32| Block::ListItem {
            depth,
            ordered: false,
            number: None,
            checked: None,
            text: format!("d{depth}"),
        };
        let (md, els) = render(vec![
            item(2),
            item(3),
            Block::Heading {
                level: 2,
                text: "Using C#".into(),
            },
        ]);
        assert_eq!(md, "- d2\n    - d3\n\n## Using C\\#\n");
        assert_eq!(els[0].depth, Some(0));
        assert_eq!(els[1].depth, Some(1));
        let parsed = super::super::markdown::parse(md).unwrap();
        assert_eq!(parsed.elements[2].text, "Using C#");
    }

    /// The lists pulldown-cmark sees in `md`: each list's start (`None` for bullets), depth
    /// and item count.
    fn lists(md: &str) -> Vec<(Option<u64>, usize, usize)> {
        use pulldown_cmark::{Event, Parser, Tag, TagEnd};
        let mut open: Vec<usize> = Vec::new();
        let mut out = Vec::new();
        for event in Parser::new(md) {
            match event {
                Event::Start(Tag::List(start)) => {
                    open.push(out.len());
                    out.push((start, open.len() - 1, 0));
                }
                Event::Start(Tag::Item) => {
                    if let Some(&i) = open.last() {
                        out[i].2 += 1;
                    }
                }
                Event::End(TagEnd::List(_)) => {
                    open.pop();
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn given_numbers_restart_and_start_lists() {
        let item = |depth: u32, number: Option<u32>, text: &str| Block::ListItem {
            depth,
            ordered: number.is_some(),
            checked: None,
            number,
            text: text.into(),
        };
        let (md, els) = render(vec![
            item(0, Some(1), "one"),
            item(0, Some(2), "two"),
            item(1, Some(5), "nested from five"),
            item(1, Some(6), "six"),
            item(0, Some(1), "restarted"),
            item(0, Some(2), "again two"),
            item(0, Some(10), "jump"),
            item(0, None, "bullet"),
            item(0, Some(100), "wide marker"),
            item(1, Some(1), "under it"),
            Block::Paragraph("between".into()),
            item(0, Some(12), "carried on"),
        ]);
        assert_eq!(
            md,
            "1. one\n2. two\n\n    5. nested from five\n    6. six\n1) restarted\n2) again two\n10. jump\n- bullet\n100. wide marker\n     1. under it\n\nbetween\n\n12. carried on\n"
        );
        assert_eq!(
            lists(&md),
            [
                (Some(1), 0, 2),
                (Some(5), 1, 2),
                (Some(1), 0, 2),
                (Some(10), 0, 1),
                (None, 0, 1),
                (Some(100), 0, 1),
                (Some(1), 1, 1),
                (Some(12), 0, 1),
            ]
        );
        assert_eq!(
            &md[els[2].span[0]..els[2].span[1]],
            "    5. nested from five"
        );
        assert_eq!(els[2].depth, Some(1));
    }

    #[test]
    fn empty_blocks_are_dropped() {
        let (md, els) = render(vec![
            Block::Paragraph("  \n ".into()),
            Block::Heading {
                level: 9,
                text: " ".into(),
            },
            Block::Table(vec![vec![String::new()]]),
            Block::Code {
                language: None,
                text: "\n".into(),
            },
        ]);
        assert!(md.is_empty() && els.is_empty());
    }

    #[test]
    fn long_headings_are_capped_in_section_paths_only() {
        let long = "é".repeat(MAX_SECTION_CHARS + 50);
        let label = section_label(&long);
        assert_eq!(label.chars().count(), MAX_SECTION_CHARS + 1);
        assert!(label.ends_with('…'));
        assert_eq!(section_label("short"), "short");
        assert_eq!(
            section_label(&"x".repeat(MAX_SECTION_CHARS)).len(),
            MAX_SECTION_CHARS
        );
        let (_, els) = render(vec![
            Block::Heading {
                level: 1,
                text: long.clone(),
            },
            Block::Paragraph("under it".into()),
        ]);
        assert_eq!(els[0].text, long);
        assert_eq!(els[1].section, vec![label]);
    }

    #[test]
    fn spans_pad_rows_to_a_bound() {
        let mut row = vec!["a".to_string()];
        pad_span(&mut row, 3);
        assert_eq!(row, ["a", "", ""]);
        for _ in 0..100 {
            row.push("x".into());
            pad_span(&mut row, 64);
        }
        assert!((MAX_SPAN_COLUMNS..MAX_SPAN_COLUMNS + 100).contains(&row.len()));
        assert_eq!(row.iter().filter(|c| *c == "x").count(), 100);
    }

    #[test]
    fn a_table_too_large_for_a_grid_keeps_its_text_as_paragraphs() {
        let mut wide = vec!["x".to_string(); 3000];
        wide.resize(MAX_SPAN_COLUMNS * 2, String::new());
        let mut rows = vec![wide];
        rows.extend((0..MAX_TABLE_CELLS / 1000).map(|i| vec![format!("y{i}")]));
        let mut r = Renderer::new();
        r.push(Block::Table(rows));
        assert_eq!(r.take_warnings().len(), 1);
        let (md, els) = r.finish().unwrap();
        assert!(md.len() < 20_000, "{}", md.len());
        assert!(els.iter().all(|e| e.kind == ElementKind::Paragraph));
        assert_eq!(els.len(), 1 + MAX_TABLE_CELLS / 1000);
        assert!(els[0].text.starts_with("x | x"));
        assert_eq!(els[1].text, "y0");
        // Below the limit a table stays a table.
        let (_, els) = render(vec![Block::Table(vec![vec!["a".into(); 1000]; 1000])]);
        assert_eq!(els[0].kind, ElementKind::Table);
    }

    /// A wide table whose cells are mostly empty (a form laid out on a fine grid, merged
    /// cells spanning columns) is its rows as paragraphs of the cells that hold text, without
    /// a warning; a data table's header names each later row's cells. Narrower or fuller
    /// tables stay tables.
    #[test]
    fn a_sparse_wide_table_is_its_rows_as_paragraphs() {
        let row = |cells: &[(usize, &str)]| {
            let mut row = vec![String::new(); 10];
            for (column, text) in cells {
                row[*column] = (*text).to_owned();
            }
            row
        };
        let form = vec![
            row(&[(0, "Estimate No. 2")]),
            row(&[(0, "Basis"), (5, "Cost -"), (8, "1 735 k")]),
            row(&[]),
            row(&[(0, "Wages"), (4, "106 598"), (9, "1")]),
        ];
        let mut r = Renderer::new();
        r.push(Block::Table(form));
        assert!(r.take_warnings().is_empty());
        let (md, els) = r.finish().unwrap();
        assert!(els.iter().all(|e| e.kind == ElementKind::Paragraph));
        let texts: Vec<&str> = els.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Estimate No. 2",
                "Basis | Cost - | 1 735 k",
                "Wages | 106 598 | 1"
            ]
        );
        assert!(!md.contains("| |"), "{md}");
        let mut header = vec!["Feature".to_owned()];
        header.extend((1..10).map(|i| format!("OS {i}")));
        let mut matrix = vec![header];
        matrix.extend((0..8).map(|i| row(&[(0, "Sound"), (i + 1, "yes")])));
        let (_, els) = render(vec![Block::Table(matrix)]);
        assert_eq!(els[1].text, "Feature: Sound | OS 1: yes");
        assert_eq!(els[8].text, "Feature: Sound | OS 8: yes");
        // Seven columns, or a third of the cells filled: a table.
        let mut narrow = vec![String::new(); 7];
        narrow[0] = "a".to_owned();
        let (_, els) = render(vec![Block::Table(vec![narrow; 3])]);
        assert_eq!(els[0].kind, ElementKind::Table);
        let third = vec![row(&[(0, "a"), (4, "b"), (8, "c"), (9, "d")]); 3];
        let (_, els) = render(vec![Block::Table(third)]);
        assert_eq!(els[0].kind, ElementKind::Table);
    }

    #[test]
    fn code_fences_outgrow_backticks() {
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("plain"), "```");
    }
}
