//! Normalising Markdown source before it becomes the rendering: raw HTML blocks become their
//! text, HTML comments go, and character references outside code are decoded (escaped so the
//! Markdown still means the same). The result reads like what a Markdown renderer shows.

use std::ops::Range;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::html_strip;

/// `markdown` with HTML blocks replaced by their text, comments removed and entities decoded.
pub(super) fn clean(markdown: &str, options: pulldown_cmark::Options) -> String {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut containers = 0usize;
    let mut code = 0usize;
    let mut html_block: Option<Range<usize>> = None;
    let mut comment: Option<usize> = None;
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        match event {
            Event::Start(Tag::HtmlBlock) => html_block = Some(range),
            Event::End(TagEnd::HtmlBlock) => {
                // A multi-line block inside a container carries the container's markers on
                // its lines; it stays as it is.
                if let Some(block) = html_block.take()
                    && let Some(source) = markdown.get(block.clone())
                    && (containers == 0 || !source.trim_end().contains('\n'))
                {
                    let text = html_strip::strip_tags(source);
                    let replacement = if containers > 0 {
                        escape_all(&super::render::one_line(&text))
                    } else {
                        text.lines().map(escape_all).collect::<Vec<_>>().join("\n")
                    };
                    let keep_newline = source.ends_with('\n') && !replacement.is_empty();
                    let replacement = if keep_newline {
                        replacement + "\n"
                    } else {
                        replacement
                    };
                    edits.push((block, replacement));
                }
            }
            Event::Start(Tag::BlockQuote(_) | Tag::Item | Tag::FootnoteDefinition(_)) => {
                containers += 1
            }
            Event::End(TagEnd::BlockQuote(_) | TagEnd::Item | TagEnd::FootnoteDefinition) => {
                containers = containers.saturating_sub(1)
            }
            Event::Start(Tag::CodeBlock(_)) => code += 1,
            Event::End(TagEnd::CodeBlock) => code = code.saturating_sub(1),
            Event::InlineHtml(html) => {
                let starts = html.trim_start().starts_with("<!--");
                if starts || comment.is_some() {
                    let start = *comment.get_or_insert(range.start);
                    if html.contains("-->") {
                        comment = None;
                        edits.push((start..range.end, String::new()));
                    }
                }
            }
            Event::Text(text) if code == 0 && html_block.is_none() => {
                if let Some(source) = markdown.get(range.clone())
                    && source.contains('&')
                    && source != text.as_ref()
                {
                    edits.push((range, escape_all(&text)));
                }
            }
            _ => {}
        }
    }
    apply(markdown, edits)
}

/// `text` with every ASCII punctuation character backslash-escaped: literal in Markdown.
fn escape_all(text: &str) -> String {
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
        assert_eq!(
            run("> <p>quoted\n> html</p>\n"),
            "> <p>quoted\n> html</p>\n"
        );
    }
}
