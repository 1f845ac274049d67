//! Turning the main content's DOM into [`Block`]s: headings, paragraphs, lists with depth,
//! tables (layout tables are read as containers), code with its language, quotes, images.

use scraper::Node;

use super::content::Page;
use super::dom::{NodeRef, class_weight, element, is_block, is_noteref};
use crate::parse::render::{Block, pad_span};

/// Deeper than this, an element's text is taken flat (no recursion on hostile nesting).
const MAX_DEPTH: usize = 200;
/// Most columns a `colspan` may add.
const MAX_COLSPAN: usize = 64;

/// Appends the text of a text node outside `<pre>`: its line breaks are white space, as
/// browsers show them (only `<br>` and blocks break lines), so a paragraph wrapped in the
/// source is one line of running text.
fn push_collapsed(out: &mut String, text: &str) {
    out.extend(
        text.chars()
            .map(|c| if matches!(c, '\n' | '\r') { ' ' } else { c }),
    );
}

/// Converts the content nodes of `page` into blocks.
pub(super) fn blocks(page: &Page<'_>, content: &[NodeRef<'_>]) -> Vec<Block> {
    let mut c = Converter {
        page,
        blocks: Vec::new(),
        inline: String::new(),
    };
    for node in content {
        c.visit(*node, 0);
        c.flush();
    }
    c.blocks
}

struct Converter<'p, 'a> {
    page: &'p Page<'a>,
    blocks: Vec<Block>,
    /// Inline text gathered since the last block.
    inline: String,
}

impl Converter<'_, '_> {
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.inline);
        if !text.trim().is_empty() {
            self.blocks.push(Block::Paragraph(text));
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
            let text = self.text(node, false);
            self.inline.push_str(&text);
            return;
        }
        if matches!(name, "ul" | "ol" | "div" | "section" | "dl") && self.is_link_cluster(&node) {
            return;
        }
        if is_noteref(e) {
            let mark = self.note_mark(node);
            self.inline.push_str(&mark);
            return;
        }
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                let level = name[1..].parse().unwrap_or(1);
                let text = self.text(node, false);
                // Permalink marks some generators append to headings.
                let text = text.trim_end_matches(['¶', '§', ' ', '\n']).to_string();
                self.blocks.push(Block::Heading { level, text });
            }
            "p" | "dt" | "figcaption" | "caption" | "summary" => {
                self.flush();
                let text = self.text(node, false);
                if text.trim().is_empty() {
                    self.images(node);
                } else {
                    self.blocks.push(Block::Paragraph(text));
                }
            }
            "ul" | "ol" | "menu" | "dir" => {
                self.flush();
                self.list(node, name == "ol", 0, depth);
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
            "blockquote" => {
                self.flush();
                let text = self.text(node, false);
                self.blocks.push(Block::Quote(text));
            }
            "img" => {
                if self.inline.trim().is_empty() {
                    self.flush();
                    self.images(node);
                }
            }
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
    /// readability, a list is judged by its class alone, other containers by link density.
    fn is_link_cluster(&self, node: &NodeRef<'_>) -> bool {
        let Some(e) = element(node) else { return false };
        if self.page.whole {
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

    fn list(&mut self, node: NodeRef<'_>, ordered: bool, depth: u32, tree_depth: usize) {
        // The numbers the browser shows: from `start` (1) up, reset by an item's `value`;
        // a reversed list is left to the renderer's own count.
        let list = element(&node);
        let reversed = list.is_some_and(|e| e.attr("reversed").is_some());
        let mut next = list
            .and_then(|e| e.attr("start"))
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(1);
        let mut number = |value: Option<&str>| {
            if let Some(v) = value.and_then(|v| v.trim().parse::<u32>().ok()) {
                next = v;
            }
            let n = next;
            next = next.saturating_add(1);
            (ordered && !reversed).then_some(n)
        };
        for child in node.children() {
            if self.skipped(&child) {
                continue;
            }
            let Some(e) = element(&child) else { continue };
            match e.name() {
                "li" => {
                    let number = number(e.attr("value"));
                    let (text, nested) = self.item(child);
                    self.blocks.push(Block::ListItem {
                        depth,
                        ordered,
                        number,
                        text,
                    });
                    for (list, ordered) in nested {
                        if tree_depth < MAX_DEPTH {
                            self.list(list, ordered, depth + 1, tree_depth + 1);
                        }
                    }
                }
                "ul" | "ol" => {
                    if tree_depth < MAX_DEPTH {
                        self.list(child, e.name() == "ol", depth + 1, tree_depth + 1);
                    }
                }
                _ => {
                    let text = self.text(child, false);
                    if !text.trim().is_empty() {
                        let number = number(None);
                        self.blocks.push(Block::ListItem {
                            depth,
                            ordered,
                            number,
                            text,
                        });
                    }
                }
            }
        }
    }

    /// A list item's own text and the lists nested in it.
    fn item<'n>(&self, li: NodeRef<'n>) -> (String, Vec<(NodeRef<'n>, bool)>) {
        let mut nested = Vec::new();
        let text = self.text_with(li, false, &mut |n: &NodeRef<'n>| {
            let list = element(n).filter(|e| matches!(e.name(), "ul" | "ol"));
            if let Some(e) = list {
                nested.push((*n, e.name() == "ol"));
                true
            } else {
                false
            }
        });
        (text, nested)
    }

    fn table(&mut self, node: NodeRef<'_>, depth: usize) {
        let rows = self.rows(node);
        let layout = !self.page.is_data_table(node)
            || (rows.len() <= 1 && rows.iter().flatten().count() <= 1);
        if layout {
            for cell in rows.iter().flatten() {
                for child in cell.children() {
                    self.visit(child, depth + 1);
                }
                self.flush();
            }
            return;
        }
        let mut table = Vec::new();
        for row in &rows {
            let mut cells = Vec::new();
            for cell in row {
                cells.push(self.text(*cell, false));
                let span = element(cell)
                    .and_then(|e| e.attr("colspan"))
                    .and_then(|s| s.trim().parse::<usize>().ok())
                    .unwrap_or(1)
                    .clamp(1, MAX_COLSPAN);
                pad_span(&mut cells, span);
            }
            if !cells.is_empty() {
                table.push(cells);
            }
        }
        if let Some(caption) = node
            .children()
            .find(|c| element(c).is_some_and(|e| e.name() == "caption"))
        {
            let text = self.text(caption, false);
            self.blocks.push(Block::Paragraph(text));
        }
        self.blocks.push(Block::Table(table));
    }

    /// The cells of a table's rows, not descending into nested tables.
    fn rows<'n>(&self, table: NodeRef<'n>) -> Vec<Vec<NodeRef<'n>>> {
        let mut rows = Vec::new();
        let mut stack: Vec<NodeRef<'n>> = table.children().collect();
        stack.reverse();
        while let Some(n) = stack.pop() {
            if self.skipped(&n) {
                continue;
            }
            match element(&n).map(|e| e.name()) {
                Some("tr") => {
                    let cells: Vec<NodeRef<'n>> = n
                        .children()
                        .filter(|c| {
                            !self.skipped(c)
                                && element(c).is_some_and(|e| matches!(e.name(), "td" | "th"))
                        })
                        .collect();
                    rows.push(cells);
                }
                Some("thead" | "tbody" | "tfoot") => {
                    let mut children: Vec<NodeRef<'n>> = n.children().collect();
                    children.reverse();
                    stack.extend(children);
                }
                _ => {}
            }
        }
        rows
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
            if self.skipped(&n) || (n.id() != node.id() && exclude(&n)) {
                continue;
            }
            match n.value() {
                Node::Text(t) if raw => out.push_str(t),
                Node::Text(t) => push_collapsed(&mut out, t),
                Node::Element(e) if e.name() == "br" => out.push('\n'),
                Node::Element(e) if !raw && n.id() != node.id() && is_noteref(e) => {
                    out.push_str(&self.note_mark(n));
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
        if raw { out } else { out.replace('\u{a0}', " ") }
    }
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
    for node in candidates {
        let Some(class) = element(&node).and_then(|e| e.attr("class")) else {
            continue;
        };
        for word in class.split_whitespace() {
            for prefix in ["language-", "lang-", "highlight-", "sourcecode-"] {
                if let Some(lang) = word.strip_prefix(prefix)
                    && !lang.is_empty()
                    && !matches!(lang, "default" | "none" | "text")
                {
                    return Some(lang.to_string());
                }
            }
        }
    }
    None
}
