//! Markdown rendering of the laid-out blocks, with one element per block: spans index the
//! Markdown, sections follow the headings, and every element carries its page.

use crate::model::{Element, ElementKind, PageContinuation};
use crate::parse::render::{fence_for, section_label};

/// What a block of a page is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BlockKind {
    /// A heading of level 1..=6.
    Heading(u8),
    /// Running text.
    Paragraph,
    /// A list item, numbered or not, nested `depth` levels deep.
    ListItem { ordered: bool, depth: u32 },
    /// A table, row by row.
    Table(Vec<Vec<String>>),
    /// A code block; its text keeps its lines and indentation.
    Code,
    /// The boundary before a new page.
    PageBreak,
    /// A table of contents' entry, or other text on a contents page: Markdown as running text.
    ContentsEntry,
}

/// One laid-out block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    /// What it is.
    pub kind: BlockKind,
    /// Its plain text.
    pub text: String,
    /// 1-based page number: the page it starts on.
    pub page: u32,
    /// Where its text goes on to a later page: the page, and the byte offset in `text`.
    pub continued: Vec<(u32, usize)>,
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
    // The indentation and text column of the enclosing list items, outermost first; emptied
    // by anything that is not a list item.
    let mut list: Vec<(usize, usize)> = Vec::new();
    for block in blocks {
        if !md.is_empty() {
            md.push_str("\n\n");
        }
        if !matches!(block.kind, BlockKind::ListItem { .. }) {
            list.clear();
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
                headings.push((*level, section_label(&block.text)));
                md.push_str(&"#".repeat(usize::from(*level)));
                md.push(' ');
                md.push_str(&escape_inline(&block.text));
                element.kind = ElementKind::Heading;
                element.level = Some(*level);
            }
            BlockKind::Paragraph => md.push_str(&escape(&block.text)),
            BlockKind::ContentsEntry => {
                md.push_str(&escape(&block.text));
                element.kind = ElementKind::ContentsEntry;
            }
            BlockKind::ListItem { ordered, depth } => {
                let item = if *ordered {
                    escape_ordered(&block.text)
                } else {
                    format!("- {}", escape(&block.text))
                };
                // Markdown nests an item only right under its parent: deeper than the open
                // levels allow (after a page break, say), it is indented as far as it can be.
                let at = usize::try_from(*depth)
                    .unwrap_or(usize::MAX)
                    .min(list.len());
                list.truncate(at);
                let indent = list.last().map_or(0, |&(i, column)| (i + 4).max(column));
                let marker = item.find(' ').map_or(2, |m| m + 1);
                list.push((indent, indent + marker));
                md.push_str(&" ".repeat(indent));
                md.push_str(&item);
                element.kind = ElementKind::ListItem;
                element.depth = Some(*depth);
                element.ordered = Some(*ordered);
            }
            BlockKind::Code => {
                let fence = fence_for(&block.text);
                md.push_str(&fence);
                md.push('\n');
                md.push_str(&block.text);
                md.push('\n');
                md.push_str(&fence);
                element.kind = ElementKind::Code;
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
        element.continued = continuations(block, &md);
        elements.push(element);
    }
    if !md.is_empty() {
        md.push('\n');
    }
    (md, elements)
}

/// Where `block`'s text, just rendered at the end of `md`, goes on to later pages, as offsets
/// in `md`. Escaping works character by character after the start of a block, so the text from
/// a continuation on ends the Markdown escaped as it is.
fn continuations(block: &Block, md: &str) -> Vec<PageContinuation> {
    block
        .continued
        .iter()
        .filter_map(|&(page, offset)| {
            let tail = escape_inline(block.text.get(offset..)?);
            md.ends_with(&tail).then(|| PageContinuation {
                page,
                at: md.len() - tail.len(),
            })
        })
        .collect()
}

/// An ordered item keeps its own number (`3. text`), the rest escaped.
fn escape_ordered(text: &str) -> String {
    match text.find(['.', ')']) {
        Some(pos) if pos > 0 && text[..pos].bytes().all(|b| b.is_ascii_digit()) => {
            let rest = text[pos + 1..].trim_start();
            // An item that holds only a sublist is its number alone.
            if rest.is_empty() {
                return format!("{}.", &text[..pos]);
            }
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
            continued: Vec::new(),
        }
    }

    #[test]
    fn a_continuation_points_into_the_markdown_past_escapes() {
        let text = "1. a *starred* [word] and";
        let mut paragraph = block(BlockKind::Paragraph, &format!("{text} more_of it"), 3);
        paragraph.continued = vec![(4, text.len() + 1)];
        let mut item = block(
            BlockKind::ListItem {
                ordered: true,
                depth: 0,
            },
            "2. the <second> item and the",
            4,
        );
        item.continued = vec![(5, "2. the <second> item and ".len())];
        let (md, elements) = render(&[paragraph, item]);
        let continued: Vec<Vec<(u32, &str)>> = elements
            .iter()
            .map(|e| {
                e.continued
                    .iter()
                    .map(|c| (c.page, &md[c.at..e.span[1]]))
                    .collect()
            })
            .collect();
        assert_eq!(continued, [[(4, r"more\_of it")], [(5, "the")]]);
    }

    #[test]
    fn spans_sections_and_pages() {
        let blocks = vec![
            block(BlockKind::Heading(1), "Intro", 1),
            block(BlockKind::Paragraph, "Some *text* here", 1),
            block(BlockKind::PageBreak, "", 2),
            block(BlockKind::Heading(2), "Sub", 2),
            block(
                BlockKind::ListItem {
                    ordered: false,
                    depth: 0,
                },
                "item",
                2,
            ),
            block(
                BlockKind::ListItem {
                    ordered: true,
                    depth: 0,
                },
                "2. second",
                2,
            ),
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
    fn long_headings_are_capped_in_section_paths() {
        let long = "word ".repeat(1000);
        let blocks = vec![
            block(BlockKind::Heading(1), long.trim(), 1),
            block(BlockKind::Paragraph, "body", 1),
        ];
        let (_, els) = render(&blocks);
        assert_eq!(els[0].text, long.trim());
        assert_eq!(els[1].section, [section_label(long.trim())]);
        assert!(els[1].section[0].chars().count() <= 201);
    }

    #[test]
    fn nested_items_indent_under_their_parent_only() {
        let item = |ordered: bool, depth: u32, text: &str| {
            block(BlockKind::ListItem { ordered, depth }, text, 1)
        };
        let blocks = vec![
            item(true, 0, "10. ten"),
            item(false, 1, "under ten"),
            item(false, 2, "deeper"),
            block(BlockKind::PageBreak, "", 2),
            item(false, 2, "after the break"),
            block(BlockKind::Code, "let x = `a`;\n  y", 2),
        ];
        let (md, els) = render(&blocks);
        assert_eq!(
            md,
            "10. ten\n\n    - under ten\n\n        - deeper\n\n---\n\n- after the break\n\n```\nlet x = `a`;\n  y\n```\n"
        );
        assert_eq!(els[4].depth, Some(2));
        assert_eq!(els[5].kind, ElementKind::Code);
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
