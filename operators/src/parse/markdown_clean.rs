//! Normalising Markdown source before it becomes the rendering: raw HTML blocks become their
//! text, HTML comments go, inline `<br>`s become hard breaks (spaces in table cells and
//! headings, see `markdown_br`), and character references outside code are decoded (escaped so
//! the Markdown still means the same). The result reads like what a Markdown renderer shows.

use std::ops::Range;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::html_strip;
use super::markdown_br::{self, Lines, Place};
use super::markdown_html::{self, Inline, InlineHidden};

/// `markdown` with HTML blocks replaced by their text, comments removed, `<br>`s made line
/// breaks and entities decoded.
pub(super) fn clean(markdown: &str, options: pulldown_cmark::Options) -> String {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut containers = 0usize;
    let mut code = 0usize;
    let mut html_block: Option<Range<usize>> = None;
    let mut comment: Option<usize> = None;
    // The inline text being read (innermost last), where `<br>`s are rewritten.
    let mut places: Vec<Place> = Vec::new();
    // The end of the last run of `<br>`s rewritten, and of the last one that broke a line.
    let mut breaks_end = 0;
    let mut lines = Lines::default();
    // Backslashes that keep the text after a break running text, and the text edits (which
    // escape all punctuation themselves).
    let mut escapes: Vec<usize> = Vec::new();
    let mut text_edits: Vec<Range<usize>> = Vec::new();
    // Inline hidden elements (`<span style="display:none">…</span>`), and the source of those
    // closed.
    let mut hidden = InlineHidden::default();
    let mut hidden_ranges: Vec<Range<usize>> = Vec::new();
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        match event {
            Event::Start(Tag::Paragraph) => places.push(Place::Lines { start: range.start }),
            Event::Start(Tag::Heading { .. } | Tag::TableCell | Tag::Image { .. }) => {
                places.push(Place::OneLine)
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::TableCell | TagEnd::Image,
            ) => {
                places.pop();
                if !matches!(event, Event::End(TagEnd::Image)) {
                    hidden.end_paragraph();
                }
            }
            Event::Start(Tag::HtmlBlock) => html_block = Some(range),
            Event::End(TagEnd::HtmlBlock) => {
                let multi_line = |source: &str| source.trim_end().contains('\n');
                if let Some(block) = html_block.take()
                    && let Some(source) = markdown.get(block.clone())
                {
                    let replacement = match html_strip::heading(source) {
                        // A block that is one heading is a heading (a README's title).
                        Some((level, text)) if containers == 0 => {
                            format!("{} {}", "#".repeat(level), escape_all(&text))
                        }
                        _ if containers == 0 => markdown_html::block(source),
                        _ if !multi_line(source) => markdown_html::one_line_block(source),
                        // Its lines carry the container's markers: rendered without them,
                        // then each line led by them again. One whose lines do not all carry
                        // them stays as it is.
                        _ => match contained_block(markdown, block.clone()) {
                            Some(rendered) => rendered,
                            None => continue,
                        },
                    };
                    // In a container, the line stays even when empty: the next line joined
                    // to the container's markers would be read as inside it (`- <div>` then
                    // `> a` would become `- > a`).
                    let keep_newline =
                        source.ends_with('\n') && (containers > 0 || !replacement.is_empty());
                    let replacement = if keep_newline {
                        replacement + "\n"
                    } else {
                        replacement
                    };
                    edits.push((block, replacement));
                }
            }
            Event::Start(Tag::BlockQuote(_) | Tag::Item | Tag::FootnoteDefinition(_)) => {
                containers += 1;
                // A tight list item's text is in no paragraph.
                if matches!(event, Event::Start(Tag::Item)) {
                    places.push(Place::Lines { start: range.start });
                }
            }
            Event::End(TagEnd::BlockQuote(_) | TagEnd::Item | TagEnd::FootnoteDefinition) => {
                containers = containers.saturating_sub(1);
                if matches!(event, Event::End(TagEnd::Item)) {
                    places.pop();
                    hidden.end_paragraph();
                }
            }
            Event::Start(Tag::CodeBlock(_)) => code += 1,
            Event::End(TagEnd::CodeBlock) => code = code.saturating_sub(1),
            Event::InlineHtml(html) => {
                let starts = html.trim_start().starts_with("<!--");
                if starts || comment.is_some() {
                    let start = *comment.get_or_insert(range.start);
                    if html.contains("-->") {
                        comment = None;
                        lines.removed = range.end;
                        edits.push((start..range.end, String::new()));
                    }
                } else if let Some(closed) = match hidden.tag(&html, range.clone()) {
                    Inline::Shown => None,
                    Inline::Hidden => Some(None),
                    Inline::Closed(closed) => Some(Some(closed)),
                } {
                    // What a hidden element holds goes, once it is closed.
                    hidden_ranges.extend(closed);
                } else if range.start >= breaks_end
                    && markdown.is_char_boundary(range.start)
                    && markdown.is_char_boundary(range.end)
                    && markdown_br::is_br(&html)
                    && let Some(&place) = places.last()
                {
                    let rewrite = markdown_br::rewrite(markdown, range, place, lines);
                    breaks_end = rewrite.range.end;
                    if rewrite.breaks_line {
                        lines.head = rewrite.range.end;
                    }
                    if let Some(at) = rewrite.break_before {
                        edits.push((at..at, "  ".into()));
                    }
                    edits.push((rewrite.range, rewrite.text));
                    escapes.extend(rewrite.escape);
                } else if let Some(image) = markdown_html::inline_image(&html) {
                    edits.push((range, image));
                }
            }
            Event::Text(text) if code == 0 && html_block.is_none() => {
                if let Some(source) = markdown.get(range.clone())
                    && source.contains('&')
                    && source != text.as_ref()
                {
                    text_edits.push(range.clone());
                    edits.push((range, escape_all(&text)));
                }
            }
            _ => {}
        }
    }
    let removals = without_space_after(markdown, hidden_ranges, &edits);
    edits.extend(removals.into_iter().map(|range| (range, String::new())));
    edits.extend(
        outside(escapes, &text_edits)
            .into_iter()
            .map(|at| (at..at, "\\".to_string())),
    );
    apply(markdown, edits)
}

/// The Markdown for the HTML block at `block` of `markdown`, inside a container (a list item,
/// a quote) and over several lines, as [`markdown_html::block`] renders a block outside one,
/// each line after the first led by the container's markers as the block's second line is
/// (`  `, `> `): a `<pre>` in a list item is a code block there, keeping its lines and
/// indentation. `None` when a line after the first lacks the markers the first line stands
/// after.
fn contained_block(markdown: &str, block: Range<usize>) -> Option<String> {
    let line_start = markdown[..block.start].rfind('\n').map_or(0, |at| at + 1);
    let column = block.start - line_start;
    let source = markdown.get(block)?;
    let mut lines = source.split_inclusive('\n');
    let mut stripped = lines.next()?.to_owned();
    let mut prefix: Option<&str> = None;
    for line in lines {
        let body = line.trim_end_matches(['\n', '\r']);
        let is_marker = |c: char| c == ' ' || c == '\t' || c == '>';
        let rest = match body.get(..column) {
            Some(head) if head.chars().all(is_marker) => {
                prefix.get_or_insert(head);
                &line[column..]
            }
            // A blank line, its markers cut short (`>` for `> `).
            _ if body.chars().all(is_marker) => &line[body.len()..],
            _ => return None,
        };
        stripped.push_str(rest);
    }
    let prefix = prefix.unwrap_or_default();
    let rendered = markdown_html::block(&stripped);
    let mut out = String::with_capacity(rendered.len() + 16);
    for (i, line) in rendered.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(if line.is_empty() {
                prefix.trim_end()
            } else {
                prefix
            });
        }
        out.push_str(line);
    }
    Some(out)
}

/// The `ranges` removed from `markdown`, each with the spaces after it when spaces come
/// before it too (`a <span hidden>b</span> c` is `a c`) and no edit starts there.
fn without_space_after(
    markdown: &str,
    ranges: Vec<Range<usize>>,
    edits: &[(Range<usize>, String)],
) -> Vec<Range<usize>> {
    let starts: std::collections::HashSet<usize> =
        edits.iter().map(|(range, _)| range.start).collect();
    let spaces = |text: &str| text.len() - text.trim_start_matches([' ', '\t']).len();
    ranges
        .into_iter()
        .map(|range| {
            let before = markdown[..range.start].ends_with([' ', '\t']);
            let after = spaces(&markdown[range.end..]);
            if before && after > 0 && !(range.end..range.end + after).any(|at| starts.contains(&at))
            {
                range.start..range.end + after
            } else {
                range
            }
        })
        .collect()
}

/// The positions (ascending) that are in none of the ranges (ascending, not overlapping).
fn outside(positions: Vec<usize>, ranges: &[Range<usize>]) -> Vec<usize> {
    let mut ranges = ranges.iter().peekable();
    positions
        .into_iter()
        .filter(|&at| {
            while ranges.next_if(|range| range.end <= at).is_some() {}
            ranges.peek().is_none_or(|range| !range.contains(&at))
        })
        .collect()
}

/// `text` with every ASCII punctuation character backslash-escaped: literal in Markdown.
pub(super) fn escape_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` with the non-overlapping `edits` (in any order) applied.
fn apply(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    if edits.is_empty() {
        return text.to_string();
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, replacement) in edits {
        if range.start < at || range.end > text.len() {
            continue;
        }
        if let Some(kept) = text.get(at..range.start) {
            out.push_str(kept);
            out.push_str(&replacement);
            at = range.end;
        }
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(md: &str) -> String {
        clean(md, pulldown_cmark::Options::ENABLE_TABLES)
    }

    #[test]
    fn entities_are_decoded_outside_code() {
        assert_eq!(run("a &amp; b &lt;div&gt;\n"), "a \\& b \\<div\\>\n");
        assert_eq!(run("`&amp;`\n\n    &amp;\n"), "`&amp;`\n\n    &amp;\n");
    }

    #[test]
    fn html_blocks_become_text_and_comments_go() {
        assert_eq!(
            run("<div title=\"\">&amp; x</div>\n\ntext<!-- note\nmore -->after\n\n<!-- gone -->\n"),
            "\\& x\n\ntextafter\n\n"
        );
        assert_eq!(run("> <p>quoted</p>\n"), "> quoted\n");
        assert_eq!(run("- <div>\n> a\n"), "- \n> a\n");
        // Over several lines in a container: rendered, each line led by its markers.
        assert_eq!(run("> <p>quoted\n> html</p>\n"), "> quoted\n> html\n");
        // A line whose markers are not those the first line stands after (a tab for `- `):
        // left as it is.
        assert_eq!(
            run("-\t<div>\n\tline\n\t</div>\n"),
            "-\t<div>\n\tline\n\t</div>\n"
        );
    }
}
