//! Markdown rendering of the laid-out blocks, with one element per block: spans index the
//! Markdown, sections follow the headings, and every element carries its page.

use crate::model::{Element, ElementKind};

/// What a block of a page is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BlockKind {
    /// A heading of level 1..=6.
    Heading(u8),
    /// Running text.
    Paragraph,
    /// A list item; `true` when numbered.
    ListItem(bool),
    /// A table, row by row.
    Table(Vec<Vec<String>>),
    /// The boundary before a new page.
    PageBreak,
}

/// One laid-out block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    /// What it is.
    pub kind: BlockKind,
    /// Its plain text.
    pub text: String,
    /// 1-based page number.
    pub page: u32,
}

/// Escapes inline markup characters.
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes inline markup, and what would otherwise read as Markdown structure at the start of
/// a block (`#`, `-`, `1.`).
fn escape(text: &str) -> String {
    let mut out = escape_inline(text);
    let starts_block = out.starts_with(['#', '-', '+', '=', '~'])
        || out.split_once(['.', ')']).is_some_and(|(n, rest)| {
            !n.is_empty()
                && n.len() <= 9
                && n.bytes().all(|b| b.is_ascii_digit())
                && (rest.is_empty() || rest.starts_with(' '))
        });
    if starts_block {
        if out.starts_with(|c: char| c.is_ascii_digit()) {
            if let Some(pos) = out.find(['.', ')']) {
                out.insert(pos, '\\');
            }
        } else {
            out.insert(0, '\\');
        }
    }
    out
}

/// A table cell: escaped, on one line.
fn cell(text: &str) -> String {
    escape(&text.replace(['\n', '\r'], " "))
}

/// Renders a pipe table; the first row is the header.
fn table(rows: &[Vec<String>]) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        out.push('|');
        for c in 0..width {
            out.push(' ');
            out.push_str(&cell(row.get(c).map_or("", String::as_str)));
            out.push_str(" |");
        }
        out.push('\n');
        if i == 0 {
            out.push('|');
            for _ in 0..width {
                out.push_str(" --- |");
            }
            out.push('\n');
        }
    }
    out.pop();
    out
}

/// Renders blocks to Markdown and elements.
pub(crate) fn render(blocks: &[Block]) -> (String, Vec<Element>) {
    let mut md = String::new();
    let mut elements = Vec::with_capacity(blocks.len());
    let mut headings: Vec<(u8, String)> = Vec::new();
    for block in blocks {
        if !md.is_empty() {
            md.push_str("\n\n");
        }
        let start = md.len();
        let section: Vec<String> = headings.iter().map(|(_, t)| t.clone()).collect();
        let mut element = Element::new(ElementKind::Paragraph, block.text.clone(), [0, 0]);
        element.page = Some(block.page);
        element.section = section;
        match &block.kind {
            BlockKind::Heading(level) => {
                while headings.last().is_some_and(|(l, _)| l >= level) {
                    headings.pop();
                }
                element.section = headings.iter().map(|(_, t)| t.clone()).collect();
                headings.push((*level, block.text.clone()));
                md.push_str(&"#".repeat(usize::from(*level)));
                md.push(' ');
                md.push_str(&escape_inline(&block.text));
                element.kind = ElementKind::Heading;
                element.level = Some(*level);
            }
            BlockKind::Paragraph => md.push_str(&escape(&block.text)),
            BlockKind::ListItem(ordered) => {
                if *ordered {
                    md.push_str(&escape_ordered(&block.text));
                } else {
                    md.push_str("- ");
                    md.push_str(&escape(&block.text));
                }
                element.kind = ElementKind::ListItem;
                element.depth = Some(0);
                element.ordered = Some(*ordered);
            }
            BlockKind::Table(rows) => {
                md.push_str(&table(rows));
                element.kind = ElementKind::Table;
                element.rows = Some(rows.clone());
            }
            BlockKind::PageBreak => {
                md.push_str("---");
                element.kind = ElementKind::PageBreak;
                element.text = String::new();
            }
        }
        element.span = [start, md.len()];
        elements.push(element);
    }
    if !md.is_empty() {
        md.push('\n');
    }
    (md, elements)
}

/// An ordered item keeps its own number (`3. text`), the rest escaped.
fn escape_ordered(text: &str) -> String {
    match text.find(['.', ')']) {
        Some(pos) if pos > 0 && text[..pos].bytes().all(|b| b.is_ascii_digit()) => {
            let rest = text[pos + 1..].trim_start();
            format!("{}. {}", &text[..pos], escape(rest))
        }
        _ => format!("- {}", escape(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kind: BlockKind, text: &str, page: u32) -> Block {
        Block {
            kind,
            text: text.into(),
            page,
        }
    }

    #[test]
    fn spans_sections_and_pages() {
        let blocks = vec![
            block(BlockKind::Heading(1), "Intro", 1),
            block(BlockKind::Paragraph, "Some *text* here", 1),
            block(BlockKind::PageBreak, "", 2),
            block(BlockKind::Heading(2), "Sub", 2),
            block(BlockKind::ListItem(false), "item", 2),
            block(BlockKind::ListItem(true), "2. second", 2),
            block(
                BlockKind::Table(vec![
                    vec!["a".into(), "b|c".into()],
                    vec!["1".into(), "2".into()],
                ]),
                "a b|c 1 2",
                2,
            ),
            block(BlockKind::Heading(1), "Next", 2),
        ];
        let (md, els) = render(&blocks);
        let slices: Vec<&str> = els.iter().map(|e| &md[e.span[0]..e.span[1]]).collect();
        assert_eq!(
            slices,
            [
                "# Intro",
                "Some \\*text\\* here",
                "---",
                "## Sub",
                "- item",
                "2. second",
                "| a | b\\|c |\n| --- | --- |\n| 1 | 2 |",
                "# Next"
            ]
        );
        assert_eq!(els[4].section, ["Intro", "Sub"]);
        assert!(els[7].section.is_empty());
        assert!(els.iter().all(|e| e.page.is_some()));
        assert_eq!(els[2].kind, ElementKind::PageBreak);
    }

    #[test]
    fn block_starts_are_escaped() {
        assert_eq!(escape("# not"), "\\# not");
        assert_eq!(escape("1. not a list"), "1\\. not a list");
        assert_eq!(escape("- dash"), "\\- dash");
        assert_eq!(escape("plain 1. text"), "plain 1. text");
        assert_eq!(escape("1.2 Section"), "1.2 Section");
    }
}
