//! Turning the main content's DOM into [`Block`]s: headings, paragraphs, lists with depth,
//! tables (layout tables are read as containers), code with its language, quotes, images.

use scraper::Node;
use scraper::node::Element;

use super::content::Page;
use super::contents::Contents;
use super::dom::{
    NodeRef, class_weight, element, is_block, is_footnotes, is_heading, is_note_reference,
    is_structure_block, is_tex_script, math_text,
};
use crate::parse::render::{Block, MAX_NUMBER, MAX_SPAN_COLUMNS, MAX_TABLE_CELLS, top_level};
use crate::parse::roman::roman;
use crate::parse::{html_strip, inline_markup};

/// Marks a permalink beside a heading may show (Hugo's and many blogs' `#`).
const PERMALINK_MARKS: &[&str] = &["#", "¶", "§", "🔗", "⚓", "link", "permalink"];

/// `text`, a heading's, without the mark of a link to the heading itself that ends or opens it
/// (`<a href="#current-status">#</a>`): `Current status`, not `Current status #`; a `#` that
/// is no such link stays (`C#`).
fn without_permalink<'a>(heading: &NodeRef<'_>, text: &'a str) -> &'a str {
    let marks = heading.descendants().filter_map(|n| {
        let e = element(&n)?;
        let linked = e.name() == "a" && e.attr("href").is_some_and(|h| h.starts_with('#'));
        let mark = super::dom::text_of(&n);
        let mark = mark.trim();
        linked.then(|| {
            PERMALINK_MARKS
                .iter()
                .find(|m| m.eq_ignore_ascii_case(mark))
        })?
    });
    for mark in marks.collect::<Vec<_>>() {
        if let Some(rest) = text.strip_suffix(mark)
            && !rest.trim_end().is_empty()
        {
            return rest.trim_end();
        }
        // Some set it before the text (`<a href="#x">§</a> Scope`).
        if let Some(rest) = text.strip_prefix(mark)
            && rest.starts_with(char::is_whitespace)
            && !rest.trim_start().is_empty()
        {
            return rest.trim_start();
        }
    }
    text
}

/// Deeper than this, an element's text is taken flat, with a warning. The conversion recurses
/// once per level, on a stack sized for it (`super::STACK_BYTES`), as deep as pages are
/// accepted (`super::MAX_NESTING`): only a tree built without that bound is ever flattened.
pub(super) const MAX_DEPTH: usize = super::MAX_NESTING;

/// The warning of a page whose structure was flattened past [`MAX_DEPTH`].
const FLATTENED: &str = "html elements nest too deep to keep their structure: the text below is kept as plain lines, without its headings, lists and tables";
/// Most columns a `colspan` may add.
const MAX_COLSPAN: usize = 64;
/// Most rows a `rowspan` may cover (the HTML standard's limit).
const MAX_ROWSPAN: usize = 65534;

/// Quotes nested deeper than this are read as plain containers: every level copies the text
/// of those inside it once more.
pub(super) const MAX_QUOTE_DEPTH: usize = 8;

/// The text index of a grid cell that no cell covers.
const NO_TEXT: usize = usize::MAX;

/// A table row: its cells and whether it is in the table's `<thead>`.
struct Row<'n> {
    cells: Vec<NodeRef<'n>>,
    head: bool,
}

/// A cell's `colspan` or `rowspan`: 1 when missing or unreadable, at most `max`; read as HTML
/// reads integers (`2abc` is 2).
fn span(cell: &NodeRef<'_>, name: &str, max: usize) -> usize {
    element(cell)
        .and_then(|e| e.attr(name))
        .and_then(html_integer)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(1)
        .min(max)
}

/// An attribute's integer as HTML reads it: white space, a sign and the digits that follow,
/// whatever comes after them (`5abc` is 5); saturated to `i64`.
fn html_integer(value: &str) -> Option<i64> {
    let value = value.trim_start_matches([' ', '\t', '\n', '\r', '\x0c']);
    let (negative, digits) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        _ => (false, value),
    };
    let digits = &digits[..digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len())];
    if digits.is_empty() {
        return None;
    }
    let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

/// How many leading rows of a table are its header: those in its `<thead>`, or else the
/// leading rows of `<th>` cells only.
fn header_rows(rows: &[Row<'_>]) -> usize {
    let rows: Vec<&Row<'_>> = rows.iter().filter(|r| !r.cells.is_empty()).collect();
    let head = rows.iter().take_while(|r| r.head).count();
    if head > 0 {
        return head;
    }
    rows.iter()
        .take_while(|r| {
            r.cells
                .iter()
                .all(|c| element(c).is_some_and(|e| e.name() == "th"))
        })
        .count()
}

/// Appends the text of a text node outside `<pre>`: its line breaks are white space, as
/// browsers show them (only `<br>` and blocks break lines), so a paragraph wrapped in the
/// source is one line of running text.
fn push_collapsed(out: &mut String, text: &str) {
    out.extend(
        inline_markup::strip(text)
            .chars()
            .map(|c| if matches!(c, '\n' | '\r') { ' ' } else { c }),
    );
}

/// Converts the content nodes of `page` into blocks, with a warning when structure nested
/// too deep was flattened.
pub(super) fn blocks(page: &Page<'_>, content: &[NodeRef<'_>]) -> (Vec<Block>, Option<String>) {
    let mut c = Converter {
        page,
        contents: Contents::of(page.root),
        blocks: Vec::new(),
        inline: String::new(),
        quotes: 0,
        flattened: false,
    };
    for node in content {
        c.visit(*node, 0);
        c.flush();
    }
    (c.blocks, c.flattened.then(|| FLATTENED.to_owned()))
}

struct Converter<'p, 'a> {
    page: &'p Page<'a>,
    /// The page's tables of contents.
    contents: Contents,
    blocks: Vec<Block>,
    /// Inline text gathered since the last block.
    inline: String,
    /// How many quotes the node being visited is in.
    quotes: usize,
    /// Whether structure nested past [`MAX_DEPTH`] was read as plain text.
    flattened: bool,
}

impl Converter<'_, '_> {
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.inline);
        if !text.trim().is_empty() {
            self.blocks.push(Block::Paragraph(text));
        }
    }

    /// An element past [`MAX_DEPTH`]: its text, blocks on lines of their own and apart from
    /// the text around it (words are never glued), with a warning.
    fn flat(&mut self, node: NodeRef<'_>) {
        self.flattened = true;
        let block = element(&node).is_some_and(|e| is_block(e.name()));
        if block {
            self.flush();
        }
        let text = self.text(node, false);
        self.inline.push_str(&text);
        if block {
            self.flush();
        }
    }

    /// A heading. One left open (`<h2>Title<h2>`, an `<h1>` never closed) holds the blocks
    /// after it: its text is the text before its first block ([`Self::is_structure`]), and
    /// its blocks follow it as blocks of their own.
    fn heading(&mut self, node: NodeRef<'_>, level: u8, depth: usize) {
        let children: Vec<_> = node.children().filter(|c| !self.skipped(c)).collect();
        let blocks: Vec<usize> = (0..children.len())
            .filter(|&i| self.is_structure(&children[i]))
            .collect();
        // One block alone (`<h2><p>Title</p></h2>`, as editors write) is the heading's text.
        let split = match blocks.as_slice() {
            [] => None,
            [only] if !self.page.facts(&children[*only]).has_structure => None,
            [first, ..] => Some(*first),
        };
        let Some(split) = split else {
            let text = self.text(node, false);
            self.push_heading(node, level, &text);
            return;
        };
        let after: std::collections::HashSet<_> =
            children[split..].iter().map(|c| c.id()).collect();
        let text = self.text_with(node, false, &mut |n| after.contains(&n.id()));
        if !inline_markup::without_images(&text).trim().is_empty() {
            self.push_heading(node, level, &text);
        }
        for child in &children[split..] {
            self.visit(*child, depth + 1);
        }
        self.flush();
    }

    /// Whether a heading's child is a block of content a heading cannot hold but when left
    /// open: a paragraph, list, table, code, quote, heading, or a block that holds one.
    fn is_structure(&self, node: &NodeRef<'_>) -> bool {
        element(node).is_some_and(|e| {
            is_structure_block(e.name())
                || (is_block(e.name()) && self.page.facts(node).has_structure)
        })
    }

    /// Pushes a heading of `text`, without permalink marks; a heading of images only has no
    /// text, its images follow it.
    fn push_heading(&mut self, node: NodeRef<'_>, level: u8, text: &str) {
        // Permalink marks some generators append to headings.
        let text = text.trim_end_matches(['¶', '§', ' ', '\n']);
        let mut text = without_permalink(&node, text).to_string();
        // Images alone are no title (a logo, a link home): image blocks after the
        // heading, which has no text and closes the sections above as before.
        let images = inline_markup::without_images(&text).trim().is_empty();
        if images {
            text.clear();
        }
        // A page heading the content repeats right after it is said once.
        let repeated = matches!(
            self.blocks.last(),
            Some(Block::Heading { level: l, text: t }) if *l == level && *t == text
        );
        if !repeated {
            self.blocks.push(Block::Heading { level, text });
        }
        if images {
            self.images(node);
        }
    }

    fn skipped(&self, node: &NodeRef<'_>) -> bool {
        !self.page.facts.contains_key(&node.id())
    }

    fn visit(&mut self, node: NodeRef<'_>, depth: usize) {
        if self.skipped(&node) {
            return;
        }
        let e = match node.value() {
            Node::Text(t) => {
                push_collapsed(&mut self.inline, t);
                return;
            }
            Node::Element(e) => e,
            _ => return,
        };
        let name = e.name();
        if depth > MAX_DEPTH {
            self.flat(node);
            return;
        }
        let cluster = matches!(name, "ul" | "ol" | "div" | "section" | "dl")
            || (name == "aside" && !is_footnotes(e));
        if cluster && self.is_link_cluster(&node) {
            return;
        }
        if is_footnotes(e)
            && !node
                .ancestors()
                .any(|a| element(&a).is_some_and(is_footnotes))
            && !node.descendants().any(|n| is_heading(&n))
        {
            // Notes without a heading of their own do not take the last section's path: a
            // heading without text at the top level closes the sections (as for a DOCX's
            // notes) and adds no text.
            self.flush();
            self.blocks.push(Block::Heading {
                level: top_level(&self.blocks),
                text: String::new(),
            });
        }
        if is_note_reference(&node) {
            let mark = self.note_mark(node);
            self.inline.push_str(&mark);
            return;
        }
        if name == "math" || is_tex_script(e) {
            self.inline.push_str(&math_text(&node));
            return;
        }
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                self.heading(node, name[1..].parse().unwrap_or(1), depth);
            }
            "p" | "dt" | "figcaption" | "caption" | "summary" => {
                self.flush();
                let text = self.text(node, false);
                if inline_markup::without_images(&text).trim().is_empty() {
                    // Images alone: image blocks.
                    self.images(node);
                } else {
                    self.blocks.push(Block::Paragraph(text));
                }
            }
            "ul" | "ol" | "menu" | "dir" => {
                self.flush();
                let first = self.blocks.len();
                self.list(node, name == "ol", 0, depth);
                if self.contents.is_list(&node) {
                    let entries = self.blocks.split_off(first);
                    self.blocks.push(Block::Contents(entries));
                }
            }
            "table" => {
                self.flush();
                self.table(node, depth);
            }
            "pre" | "listing" | "xmp" => {
                self.flush();
                let text = self.text(node, true);
                let language = language(&node);
                self.blocks.push(Block::Code { language, text });
            }
            "blockquote" if self.quotes < MAX_QUOTE_DEPTH => {
                // The quote's own blocks (paragraphs, lists, code), rendered inside it.
                self.flush();
                let outer = std::mem::take(&mut self.blocks);
                self.quotes += 1;
                for child in node.children() {
                    self.visit(child, depth + 1);
                }
                self.flush();
                self.quotes -= 1;
                let quoted = std::mem::replace(&mut self.blocks, outer);
                self.blocks.push(Block::Quote(quoted));
            }
            "img" => {
                if self.inline.trim().is_empty() {
                    self.flush();
                    self.images(node);
                } else {
                    self.inline.push_str(&inline_image(&node));
                }
            }
            "code" => match self.code_span(node) {
                Some(span) => self.inline.push_str(&span),
                None => {
                    for child in node.children() {
                        self.visit(child, depth + 1);
                    }
                }
            },
            "br" => self.inline.push('\n'),
            "hr" => self.flush(),
            _ if is_block(name) => {
                self.flush();
                for child in node.children() {
                    self.visit(child, depth + 1);
                }
                self.flush();
            }
            _ => {
                for child in node.children() {
                    self.visit(child, depth + 1);
                }
            }
        }
    }

    /// Whether a container is mostly links (navigation, related articles, share bars). As in
    /// readability, a list is judged by its class alone, other containers by link density. A
    /// table of contents, and what holds it, is none.
    fn is_link_cluster(&self, node: &NodeRef<'_>) -> bool {
        let Some(e) = element(node) else { return false };
        if self.page.whole || self.contents.holds(node) {
            return false;
        }
        let facts = self.page.facts(node);
        let weight = class_weight(e);
        let density = facts.link_density();
        if facts.text == 0 {
            return false;
        }
        if matches!(e.name(), "ul" | "ol") {
            return weight < 0.0 && density > 0.2;
        }
        (weight < 25.0 && density > 0.5) || (weight < 0.0 && density > 0.2)
    }

    /// Image blocks for the `<img>` elements at or under `node`.
    fn images(&mut self, node: NodeRef<'_>) {
        for n in node.descendants() {
            if let Some(e) = element(&n)
                && e.name() == "img"
                && !self.skipped(&n)
            {
                let alt = e.attr("alt").unwrap_or("").to_string();
                let src = e.attr("src").map(str::to_string);
                if !alt.trim().is_empty() || src.is_some() {
                    self.blocks.push(Block::Image { alt, src });
                }
            }
        }
    }

    /// A list nested in an item: its items, or past [`MAX_DEPTH`] (hostile nesting) its whole
    /// text as one item, so that no word is lost (the items below were left out).
    fn nested_list(&mut self, list: NodeRef<'_>, ordered: bool, depth: u32, tree_depth: usize) {
        if tree_depth <= MAX_DEPTH {
            self.list(list, ordered, depth, tree_depth);
            return;
        }
        let text = self.text(list, false);
        if !text.trim().is_empty() {
            self.blocks.push(Block::ListItem {
                depth,
                ordered,
                number: None,
                checked: None,
                text,
            });
        }
    }

    fn list(&mut self, node: NodeRef<'_>, ordered: bool, depth: u32, tree_depth: usize) {
        let mut entries = Vec::new();
        for child in node.children() {
            if self.skipped(&child) {
                continue;
            }
            let Some(e) = element(&child) else { continue };
            entries.push(match e.name() {
                "li" => Entry::Item(child),
                name @ ("ul" | "ol") => Entry::Nested(child, name == "ol"),
                _ => {
                    let text = self.text(child, false);
                    if text.trim().is_empty() {
                        continue;
                    }
                    Entry::Loose(text)
                }
            });
        }
        let values: Vec<Option<&str>> = (entries.iter())
            .filter_map(|entry| match entry {
                Entry::Item(li) => Some(element(li).and_then(|e| e.attr("value"))),
                Entry::Loose(_) => Some(None),
                Entry::Nested(..) => None,
            })
            .collect();
        let mut labels = Numbering::of(element(&node), ordered, &values).into_iter();
        for entry in entries {
            match entry {
                Entry::Item(li) => {
                    let (text, code, nested) = self.item(li);
                    let item = list_item(depth, labels.next(), task_box(li), text);
                    self.blocks.push(item);
                    for pre in code {
                        let text = self.text(pre, true);
                        let language = language(&pre);
                        self.blocks.push(Block::Code { language, text });
                    }
                    for (list, ordered) in nested {
                        self.nested_list(list, ordered, depth + 1, tree_depth + 1);
                    }
                }
                Entry::Nested(list, ordered) => {
                    self.nested_list(list, ordered, depth + 1, tree_depth + 1);
                }
                Entry::Loose(text) => {
                    let item = list_item(depth, labels.next(), None, text);
                    self.blocks.push(item);
                }
            }
        }
    }

    /// A list item's own text and the lists nested in it.
    /// A list item's own text, the code blocks in it and the lists nested in it.
    fn item<'n>(&self, li: NodeRef<'n>) -> (String, Vec<NodeRef<'n>>, Vec<(NodeRef<'n>, bool)>) {
        let (mut code, mut nested) = (Vec::new(), Vec::new());
        let text = self.text_with(li, false, &mut |n: &NodeRef<'n>| {
            match element(n).map(|e| e.name()) {
                Some(name @ ("ul" | "ol")) => nested.push((*n, name == "ol")),
                // Code keeps its lines and indentation as a block of its own.
                Some("pre" | "listing" | "xmp") => code.push(*n),
                _ => return false,
            }
            true
        });
        (text, code, nested)
    }

    fn table(&mut self, node: NodeRef<'_>, depth: usize) {
        let rows = self.rows(node);
        if let Some(pre) = numbered_code(&rows) {
            let text = self.text(pre, true);
            let language = language(&pre).or_else(|| language(&node));
            self.blocks.push(Block::Code { language, text });
            return;
        }
        let layout = !self.page.is_data_table(node)
            || (rows.len() <= 1 && rows.iter().flat_map(|r| &r.cells).count() <= 1);
        if layout {
            for cell in rows.iter().flat_map(|r| &r.cells) {
                for child in cell.children() {
                    self.visit(child, depth + 1);
                }
                self.flush();
            }
            return;
        }
        let table = self.grid(&rows);
        if let Some(caption) = node
            .children()
            .find(|c| element(c).is_some_and(|e| e.name() == "caption"))
        {
            let text = self.text(caption, false);
            self.blocks.push(Block::Paragraph(text));
        }
        self.blocks.push(Block::Table(table));
    }

    /// The rows of a table laid out as the browser does: a cell spanning columns or rows
    /// leaves empty cells where it spans, so that the cells after it stay in their columns.
    /// Several header rows (a `<thead>` of more than one row, or leading rows of `<th>` only)
    /// become one, each column's labels joined top to bottom ("Price Monthly").
    fn grid(&self, rows: &[Row<'_>]) -> Vec<Vec<String>> {
        // Each grid cell: the index of its cell's text, and whether it is that cell's origin.
        let mut texts: Vec<String> = Vec::new();
        let mut grid: Vec<Vec<(usize, bool)>> = Vec::with_capacity(rows.len());
        // Per column: rows still covered by a cell above, and that cell's text.
        let mut covered: Vec<(usize, usize)> = Vec::new();
        // Spanned cells are bounded like the cells of a rendered table.
        let mut budget = MAX_TABLE_CELLS;
        for row in rows {
            let mut out: Vec<(usize, bool)> = Vec::new();
            // (first column, end column, rows below, text) of the cells spanning rows.
            let mut spans: Vec<(usize, usize, usize, usize)> = Vec::new();
            for cell in &row.cells {
                while let Some(&(left, text)) = covered.get(out.len())
                    && left > 0
                    && budget > 0
                {
                    out.push((text, false));
                    budget -= 1;
                }
                let text = texts.len();
                texts.push(self.text(*cell, false));
                let start = out.len();
                out.push((text, true));
                let colspan = span(cell, "colspan", MAX_COLSPAN);
                let pad = colspan
                    .saturating_sub(1)
                    .min(MAX_SPAN_COLUMNS.saturating_sub(out.len()));
                out.extend(std::iter::repeat_n((text, false), pad));
                let rowspan = span(cell, "rowspan", MAX_ROWSPAN);
                if rowspan != 1 && start < MAX_SPAN_COLUMNS {
                    // 0: to the end of the table.
                    let rows = if rowspan == 0 { MAX_ROWSPAN } else { rowspan };
                    spans.push((start, out.len().min(MAX_SPAN_COLUMNS), rows - 1, text));
                }
            }
            // Columns past the row's last cell that cells above still cover.
            if let Some(last) = covered.iter().rposition(|c| c.0 > 0) {
                while out.len() <= last && budget > 0 {
                    let (left, text) = covered[out.len()];
                    out.push((if left > 0 { text } else { NO_TEXT }, false));
                    budget -= 1;
                }
            }
            for column in &mut covered {
                column.0 = column.0.saturating_sub(1);
            }
            for (start, end, rows, text) in spans {
                if covered.len() < end {
                    covered.resize(end, (0, 0));
                }
                covered[start..end].fill((rows, text));
            }
            if row.cells.is_empty() {
                continue;
            }
            grid.push(out);
        }
        let header = header_rows(rows);
        let mut table: Vec<Vec<String>> = Vec::with_capacity(grid.len());
        if header >= 2 && header < grid.len() {
            let width = grid[..header].iter().map(Vec::len).max().unwrap_or(0);
            let labels = (0..width)
                .map(|c| {
                    let mut label: Vec<&str> = Vec::new();
                    let mut last = None;
                    for row in &grid[..header] {
                        let Some(&(text, _)) = row.get(c) else {
                            continue;
                        };
                        let words = texts.get(text).map_or("", |t| t.trim());
                        if last != Some(text) && !words.is_empty() && !label.contains(&words) {
                            label.push(words);
                        }
                        last = Some(text);
                    }
                    label.join(" ")
                })
                .collect();
            table.push(labels);
            grid.drain(..header);
        }
        table.extend(grid.into_iter().map(|row| {
            row.into_iter()
                .map(|(text, origin)| {
                    if origin {
                        std::mem::take(&mut texts[text])
                    } else {
                        String::new()
                    }
                })
                .collect()
        }));
        table
    }

    /// The rows of a table (not descending into nested tables): their cells and whether
    /// they are in its `<thead>`.
    fn rows<'n>(&self, table: NodeRef<'n>) -> Vec<Row<'n>> {
        // As a browser shows them: the header rows, the body's, then the footer's wherever
        // `<tfoot>` stands (HTML 4 put it before `<tbody>`).
        let (mut head, mut body, mut foot) = (Vec::new(), Vec::new(), Vec::new());
        for child in table.children() {
            if self.skipped(&child) {
                continue;
            }
            match element(&child).map(|e| e.name()) {
                Some("tr") => body.extend(self.row(child, false)),
                Some("thead") => head.extend(self.group_rows(child, true)),
                Some("tbody") => body.extend(self.group_rows(child, false)),
                Some("tfoot") => foot.extend(self.group_rows(child, false)),
                _ => {}
            }
        }
        head.into_iter().chain(body).chain(foot).collect()
    }

    /// The rows of a `<thead>`, `<tbody>` or `<tfoot>`.
    fn group_rows<'n>(&self, group: NodeRef<'n>, head: bool) -> Vec<Row<'n>> {
        group
            .children()
            .filter(|c| !self.skipped(c))
            .filter_map(|c| self.row(c, head))
            .collect()
    }

    /// The row of a `<tr>` (none for anything else): its cells.
    fn row<'n>(&self, tr: NodeRef<'n>, head: bool) -> Option<Row<'n>> {
        if element(&tr).is_none_or(|e| e.name() != "tr") {
            return None;
        }
        let cells: Vec<NodeRef<'n>> = tr
            .children()
            .filter(|c| {
                !self.skipped(c) && element(c).is_some_and(|e| matches!(e.name(), "td" | "th"))
            })
            .collect();
        Some(Row { cells, head })
    }

    /// An inline `<code>`'s text marked as a code span, or `None` for code that holds line
    /// breaks or blocks (read as running text, its lines kept).
    fn code_span(&self, code: NodeRef<'_>) -> Option<String> {
        let mut text = String::new();
        for n in code.descendants().skip(1) {
            match n.value() {
                Node::Text(t) if !self.skipped(&n) => text.push_str(t),
                Node::Element(e) if e.name() == "br" || is_block(e.name()) => return None,
                _ => {}
            }
        }
        Some(inline_markup::code(&text))
    }

    /// A footnote reference as `[n]` (its text without the brackets or superscript some
    /// generators add).
    fn note_mark(&self, node: NodeRef<'_>) -> String {
        let mut text = String::new();
        for n in node.descendants() {
            if let Node::Text(t) = n.value()
                && !self.skipped(&n)
            {
                text.push_str(t);
            }
        }
        let number = text
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim();
        if number.is_empty() {
            String::new()
        } else {
            format!("[{number}]")
        }
    }

    /// The text under `node`: blocks on their own lines, `<br>` as a line break; with
    /// `raw` (code) whitespace is kept as is.
    fn text(&self, node: NodeRef<'_>, raw: bool) -> String {
        self.text_with(node, raw, &mut |_| false)
    }

    /// Like [`Self::text`], leaving out subtrees for which `exclude` returns true.
    fn text_with<'n>(
        &self,
        node: NodeRef<'n>,
        raw: bool,
        exclude: &mut dyn FnMut(&NodeRef<'n>) -> bool,
    ) -> String {
        let mut out = String::new();
        // (node, entering, the text's length before it): block elements add a line break on
        // both sides, but one without text is a space (a block a style shows inline, often).
        let mut stack = vec![(node, true, 0)];
        while let Some((n, entering, before)) = stack.pop() {
            let block = element(&n).is_some_and(|e| is_block(e.name()) && n.id() != node.id());
            if !entering {
                if block && out[before..].trim().is_empty() {
                    out.truncate(before);
                    if !out.is_empty() && !out.ends_with(char::is_whitespace) {
                        out.push(' ');
                    }
                } else if block && !out.ends_with('\n') {
                    out.push('\n');
                }
                continue;
            }
            if self.skipped(&n) {
                continue;
            }
            if n.id() != node.id() && exclude(&n) {
                // Text after a nested list is not glued to the text before it.
                if block && !out.is_empty() && !out.ends_with(char::is_whitespace) {
                    out.push('\n');
                }
                continue;
            }
            if !raw && n.id() != node.id() {
                let inline = match element(&n).map(|e| e.name()) {
                    Some("img") => Some(inline_image(&n)),
                    Some("code") => self.code_span(n),
                    _ => None,
                };
                if let Some(inline) = inline {
                    out.push_str(&inline);
                    continue;
                }
            }
            match n.value() {
                Node::Text(t) if raw => out.push_str(&inline_markup::strip(t)),
                Node::Text(t) => push_collapsed(&mut out, t),
                Node::Element(e) if e.name() == "br" => out.push('\n'),
                Node::Element(_) if !raw && n.id() != node.id() && is_note_reference(&n) => {
                    out.push_str(&self.note_mark(n));
                }
                Node::Element(e) if !raw && (e.name() == "math" || is_tex_script(e)) => {
                    out.push_str(&math_text(&n));
                }
                // Code inside running text (a list item's) keeps its lines.
                Node::Element(e)
                    if !raw
                        && n.id() != node.id()
                        && matches!(e.name(), "pre" | "listing" | "xmp") =>
                {
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(self.text(n, true).trim_matches('\n'));
                    out.push('\n');
                }
                Node::Element(_) => {
                    let before = out.len();
                    if block && !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    stack.push((n, false, before));
                    let mut children: Vec<_> = n.children().collect();
                    children.reverse();
                    stack.extend(children.into_iter().map(|c| (c, true, 0)));
                }
                _ => {}
            }
        }
        if raw {
            out
        } else {
            // A soft hyphen only shows where a line breaks: `hy\u{ad}phen` is one word.
            out.replace('\u{a0}', " ").replace('\u{ad}', "")
        }
    }
}

/// What a list holds, in order: items, lists nested right in it, and other elements' text.
enum Entry<'n> {
    Item(NodeRef<'n>),
    Nested(NodeRef<'n>, bool),
    Loose(String),
}

/// How a list's items are marked: bullets, Markdown numbers, or labels in their text.
enum Numbering {
    Bullets,
    Numbers(Vec<u32>),
    Labels(Vec<String>),
}

/// An item's mark, from [`Numbering`].
enum Mark {
    Number(u32),
    Label(String),
}

impl Numbering {
    /// The marks of an ordered list's items as the browser shows them: counted from `start` (1)
    /// up, reset by an item's `value` (`values`, one per item), down from the number of items
    /// when `reversed`, in the `type`'s letters or roman numerals. Markdown numbers when they
    /// are decimal and 0 to [`MAX_NUMBER`]; else labels (`c.`, `iv.`, `-1.`) that the items'
    /// text keeps, as a DOCX's lettered lists do.
    fn of(list: Option<&Element>, ordered: bool, values: &[Option<&str>]) -> Self {
        if !ordered {
            return Numbering::Bullets;
        }
        let attr = |name| list.and_then(|e| e.attr(name));
        let reversed = attr("reversed").is_some();
        let count = i64::try_from(values.len()).unwrap_or(i64::MAX);
        let mut next =
            attr("start")
                .and_then(html_integer)
                .unwrap_or(if reversed { count } else { 1 });
        let numbers: Vec<i64> = (values.iter())
            .map(|value| {
                if let Some(v) = value.and_then(html_integer) {
                    next = v;
                }
                let n = next;
                next = if reversed {
                    next.saturating_sub(1)
                } else {
                    next.saturating_add(1)
                };
                n
            })
            .collect();
        let style = attr("type").map(str::trim).unwrap_or("1");
        let markdown = |n: &i64| u32::try_from(*n).is_ok_and(|n| n <= MAX_NUMBER);
        if matches!(style, "a" | "A" | "i" | "I") || !numbers.iter().all(markdown) {
            Numbering::Labels(numbers.iter().map(|&n| label(n, style)).collect())
        } else {
            Numbering::Numbers(numbers.iter().map(|&n| n as u32).collect())
        }
    }
}

impl IntoIterator for Numbering {
    type Item = Mark;
    type IntoIter = Box<dyn Iterator<Item = Mark>>;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            Numbering::Bullets => Box::new(std::iter::empty()),
            Numbering::Numbers(numbers) => Box::new(numbers.into_iter().map(Mark::Number)),
            Numbering::Labels(labels) => Box::new(labels.into_iter().map(Mark::Label)),
        }
    }
}

/// A list item marked by `mark`: a bullet without one, a Markdown number, or a bullet and a
/// label that starts its text (`- c. third`).
fn list_item(depth: u32, mark: Option<Mark>, checked: Option<bool>, text: String) -> Block {
    let (ordered, number, text) = match mark {
        None => (false, None, text),
        Some(Mark::Number(n)) => (true, Some(n), text),
        Some(Mark::Label(label)) => (false, None, format!("{label} {}", text.trim_start())),
    };
    Block::ListItem {
        depth,
        ordered,
        number,
        checked,
        text,
    }
}

/// The label a browser shows for item `n` of a list of `type` `style`: `c.` for `a`, `IV.` for
/// `I`, decimal for `1` and where letters or numerals have none (0, negative numbers, roman
/// numerals past 3999).
fn label(n: i64, style: &str) -> String {
    let text = match (style, u32::try_from(n)) {
        ("a" | "A", Ok(n)) if n > 0 => letters(n),
        ("i" | "I", Ok(n @ 1..=3999)) => roman(n),
        _ => n.to_string(),
    };
    if matches!(style, "A" | "I") {
        format!("{}.", text.to_uppercase())
    } else {
        format!("{text}.")
    }
}

/// `n` (from 1) in letters as CSS counts them: a … z, aa, ab, … zz, aaa.
fn letters(n: u32) -> String {
    let mut n = n;
    let mut out = Vec::new();
    while n > 0 {
        n -= 1;
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The code of a table that shows code beside its line numbers (Pygments' and Sphinx's
/// `highlighttable`, mkdocs-material's `linenums`, Hugo's `lntable`): one row of two cells, the
/// first only numbers, the second holding a `<pre>`, which is returned; `None` for any other
/// table.
fn numbered_code<'n>(rows: &[Row<'n>]) -> Option<NodeRef<'n>> {
    let mut rows = rows.iter().filter(|r| !r.cells.is_empty());
    let (Some(row), None) = (rows.next(), rows.next()) else {
        return None;
    };
    let [numbers, code] = row.cells.as_slice() else {
        return None;
    };
    let numbers = super::dom::text_of(numbers);
    let only_numbers = numbers.chars().any(|c| c.is_ascii_digit())
        && numbers
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace());
    if !only_numbers {
        return None;
    }
    code.descendants()
        .find(|n| element(n).is_some_and(|e| matches!(e.name(), "pre" | "listing" | "xmp")))
}

/// An `<img>` inside running text, marked inline ([`inline_markup::image`]) when it has alt
/// text; nothing for one without (an icon, a spacer), as before.
fn inline_image(img: &NodeRef<'_>) -> String {
    let Some(e) = element(img) else {
        return String::new();
    };
    match e.attr("alt").filter(|alt| !alt.trim().is_empty()) {
        Some(alt) => inline_markup::image(alt, e.attr("src")),
        None => String::new(),
    }
}

/// The state of a task item's check box: an `<input type="checkbox">` before any of the
/// item's text (`<li><input type="checkbox" checked> Done</li>`, as Markdown renderers write
/// task lists); `None` when the item has none.
fn task_box(li: NodeRef<'_>) -> Option<bool> {
    for node in li.descendants().skip(1).take(64) {
        match node.value() {
            Node::Text(t) if !t.trim().is_empty() => return None,
            Node::Element(e) if matches!(e.name(), "ul" | "ol") => return None,
            Node::Element(e)
                if e.name() == "input"
                    && e.attr("type")
                        .is_some_and(|t| t.trim().eq_ignore_ascii_case("checkbox")) =>
            {
                return Some(e.attr("checked").is_some());
            }
            _ => {}
        }
    }
    None
}

/// The language of a code block from `language-x` / `lang-x` / `highlight-x` classes on the
/// block, its `<code>` child or its near ancestors.
fn language(pre: &NodeRef<'_>) -> Option<String> {
    let code_child = pre
        .children()
        .find(|c| element(c).is_some_and(|e| e.name() == "code"));
    let candidates = code_child
        .into_iter()
        .chain(std::iter::once(*pre))
        .chain(pre.ancestors().take(3));
    candidates
        .filter_map(|node| element(&node).and_then(|e| e.attr("class")))
        .find_map(|class| html_strip::class_language(class, |_| true).map(str::to_owned))
}
