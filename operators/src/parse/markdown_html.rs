//! Raw HTML in Markdown rendered as Markdown, as the HTML parser renders the same HTML: a
//! block's text escaped to stay literal, a line per block element; a `<pre>` (`<listing>`,
//! `<xmp>`) a fenced code block keeping its lines and indentation; an `<img>` with alt text an
//! image, `![alt](src)`; what is never shown (`<noscript>`, `<template>`, a `display:none`
//! element …) left out, in blocks and in a paragraph's inline tags alike.

use std::ops::Range;

use super::html_strip::{self, IMAGE_MARK, Image};
use super::markdown_clean::escape_all;
use super::render::{fence_for, one_line, tidy};

/// The Markdown for the HTML block `html`, outside any container: its text a line per block,
/// each `<pre>` a fenced code block.
pub(super) fn block(html: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some((start, name)) = next_pre(rest) {
        parts.extend(text_lines(&rest[..start]));
        let (code, len) = pre_block(&rest[start..], name);
        parts.extend(code);
        rest = &rest[start + len..];
    }
    parts.extend(text_lines(rest));
    parts.join("\n")
}

/// The Markdown for the HTML block `html` on one line (in a list item or a quote, whose
/// markers would have to start each line): its text and images, a `<pre>`'s text too.
pub(super) fn one_line_block(html: &str) -> String {
    text_lines(html).join(" ")
}

/// The image `![alt](src)` an `<img>` tag shows, if it has alt text and is not hidden.
pub(super) fn inline_image(tag: &str) -> Option<String> {
    html_strip::image(tag).map(|image| image_markdown(&image))
}

/// Lines of Markdown for the text of an HTML fragment: escaped, its images as images.
fn text_lines(html: &str) -> Vec<String> {
    let mut images = Vec::new();
    let mut text = html_strip::raw_text(html, Some(&mut images));
    if text.matches(IMAGE_MARK).count() != images.len() {
        // The fragment writes the mark itself: images cannot be told apart from it.
        images.clear();
        text = html_strip::raw_text(html, None);
    }
    let mut images = images.iter();
    tidy(&text)
        .lines()
        .map(|line| {
            let escaped = escape_all(line);
            let mut out = String::with_capacity(escaped.len());
            for (i, piece) in escaped.split(IMAGE_MARK).enumerate() {
                if i > 0 {
                    match images.next() {
                        Some(image) => out.push_str(&image_markdown(image)),
                        None => out.push(IMAGE_MARK),
                    }
                }
                out.push_str(piece);
            }
            out
        })
        .collect()
}

/// `![alt](src)`, the alt text escaped, the destination's spaces, parentheses and angle
/// brackets percent-encoded.
fn image_markdown(image: &Image) -> String {
    let mut src = String::with_capacity(image.src.len());
    for c in image.src.trim().chars() {
        match c {
            ' ' => src.push_str("%20"),
            '(' => src.push_str("%28"),
            ')' => src.push_str("%29"),
            '<' => src.push_str("%3C"),
            '>' => src.push_str("%3E"),
            '\\' => src.push_str("%5C"),
            c if c.is_control() || c.is_whitespace() => {}
            c => src.push(c),
        }
    }
    format!("![{}]({src})", escape_all(&one_line(&image.alt)))
}

/// Elements whose content is preformatted text.
const PREFORMATTED: [&str; 3] = ["pre", "listing", "xmp"];

/// Where the first preformatted element's opening tag in `html` is (outside comments), and
/// its name.
fn next_pre(html: &str) -> Option<(usize, &'static str)> {
    let mut at = 0;
    while let Some(found) = html[at..].find('<') {
        let start = at + found;
        let after = &html[start..];
        if after.starts_with("<!--") {
            at = start + after.find("-->").map_or(after.len(), |end| end + 3);
            continue;
        }
        let (name, closing) = html_strip::tag_name(after);
        if !closing && let Some(&pre) = PREFORMATTED.iter().find(|&&pre| pre == name) {
            return Some((start, pre));
        }
        at = start + 1;
    }
    None
}

/// The fenced code block for the preformatted element `name` at the start of `html` (`None`
/// when it has no text), and the length of its source through its end tag (the rest of
/// `html` when it has none).
fn pre_block(html: &str, name: &str) -> (Option<String>, usize) {
    let Some(open_end) = html_strip::tag_end(html) else {
        return (None, html.len());
    };
    let open_tag = &html[..open_end];
    let after = &html[open_end..];
    let (inner, len) = match html_strip::find_ignoring_case(after, &format!("</{name}")) {
        Some(at) => {
            let close = after[at..].find('>').map_or(after.len(), |i| at + i + 1);
            (&after[..at], open_end + close)
        }
        None => (after, html.len()),
    };
    // An `<xmp>`'s content is text as written; a `<pre>`'s is HTML.
    let text = if name == "xmp" {
        inner.to_owned()
    } else {
        html_strip::raw_text(inner, None)
    };
    // The line break right after the opening tag is no part of the text.
    let text = text
        .strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
        .unwrap_or(&text);
    let code = text.trim_matches(['\n', '\r']).trim_end();
    if code.trim().is_empty() {
        return (None, len);
    }
    let fence = fence_for(code);
    let language = language(open_tag, inner).unwrap_or_default();
    (Some(format!("{fence}{language}\n{code}\n{fence}")), len)
}

/// The language of a preformatted block: its `lang` attribute (as GitHub reads it), else a
/// `language-x` / `lang-x` / `highlight-x` class on it or on the `<code>` right inside it.
fn language(open_tag: &str, inner: &str) -> Option<String> {
    let usable = |lang: &str| {
        !lang.is_empty()
            && !matches!(lang, "default" | "none" | "text")
            && !lang.contains(|c: char| c == '`' || c.is_whitespace() || c.is_control())
    };
    if let Some(lang) = html_strip::attribute(open_tag, "lang")
        && usable(lang.trim())
    {
        return Some(lang.trim().to_owned());
    }
    let inner = inner.trim_start();
    let code_tag = (html_strip::tag_name(inner) == ("code".to_owned(), false))
        .then(|| html_strip::tag_end(inner).map(|end| &inner[..end]))
        .flatten();
    [Some(open_tag), code_tag]
        .into_iter()
        .flatten()
        .filter_map(|tag| html_strip::attribute(tag, "class"))
        .find_map(|class| html_strip::class_language(&class, usable).map(str::to_owned))
}

/// What an inline tag is, as far as hidden elements go.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Inline {
    /// Shown: handled as it is.
    Shown,
    /// In a hidden element, or opening one: nothing to do yet.
    Hidden,
    /// Closing a hidden element: the source from its opening tag through this one goes.
    Closed(Range<usize>),
}

/// Hidden elements in the inline tags of a paragraph (a heading, a table cell, a tight list
/// item), tracked tag by tag. One not closed in its paragraph stays (nothing is lost on a
/// guess).
#[derive(Debug, Default)]
pub(super) struct InlineHidden {
    /// The hidden element open: its name, how many elements of that name are open in it, and
    /// where its opening tag starts.
    open: Option<(String, usize, usize)>,
}

impl InlineHidden {
    /// Reads the inline tag `html` at `range` of the source.
    pub(super) fn tag(&mut self, html: &str, range: Range<usize>) -> Inline {
        match &mut self.open {
            Some((name, depth, start)) => {
                let (tag_name, closing) = html_strip::tag_name(html.trim());
                if tag_name == *name {
                    if closing {
                        *depth -= 1;
                    } else if !html.trim_end().ends_with("/>") {
                        *depth += 1;
                    }
                }
                if *depth > 0 {
                    return Inline::Hidden;
                }
                let start = *start;
                self.open = None;
                Inline::Closed(start..range.end)
            }
            None => match html_strip::hides(html.trim()) {
                Some(name) => {
                    self.open = Some((name, 1, range.start));
                    Inline::Hidden
                }
                None => Inline::Shown,
            },
        }
    }

    /// The paragraph ended: a hidden element still open stays.
    pub(super) fn end_paragraph(&mut self) {
        self.open = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pre_block_is_fenced_code_keeping_its_lines() {
        let html = "<pre>\n$ tree\n.\n├── src\n│   └── main.rs\n└── &lt;Cargo.toml&gt;\n</pre>\n";
        assert_eq!(
            block(html),
            "```\n$ tree\n.\n├── src\n│   └── main.rs\n└── <Cargo.toml>\n```"
        );
        let html = "<pre lang=\"rust\"><code>fn main() {\n    <b>x</b>();\n}\n</code></pre>";
        assert_eq!(block(html), "```rust\nfn main() {\n    x();\n}\n```");
        let html = "<div>\n<p>Run:</p>\n<PRE><code class=\"language-sh\">ls ```x```\n</code></PRE>\nafter *it*\n</div>";
        assert_eq!(
            block(html),
            "Run\\:\n````sh\nls ```x```\n````\nafter \\*it\\*"
        );
        assert_eq!(block("<pre>\n\n</pre>"), "");
        assert_eq!(
            block("<pre>  never closed\n  more"),
            "```\n  never closed\n  more\n```"
        );
        assert_eq!(
            block("<xmp><b>as written</b></xmp>"),
            "```\n<b>as written</b>\n```"
        );
        assert_eq!(block("<!-- <pre> -->a"), "a");
    }

    #[test]
    fn images_keep_their_alt_text() {
        let html =
            "<p align=\"center\"><img src=\"logo.png\" alt=\"Acme logo: a [red] triangle\"></p>";
        assert_eq!(
            block(html),
            "![Acme logo\\: a \\[red\\] triangle](logo.png)"
        );
        assert_eq!(
            block(
                "<p>See <img alt='x' src='a b(1).png'> and <img src=y.png> <img alt=z aria-hidden=true></p>"
            ),
            "See ![x](a%20b%281%29.png) and"
        );
        assert_eq!(
            one_line_block("<div>\n<img alt=A src=a>\ntext\n</div>"),
            "![A](a) text"
        );
        assert_eq!(block("\u{FFFC}<img alt=A src=a>"), "\u{FFFC}");
    }

    #[test]
    fn hidden_inline_elements_close_at_their_end_tag() {
        let mut hidden = InlineHidden::default();
        assert_eq!(hidden.tag("<b>", 0..3), Inline::Shown);
        assert_eq!(
            hidden.tag("<span style=\"display: none\">", 10..38),
            Inline::Hidden
        );
        assert_eq!(hidden.tag("<span>", 40..46), Inline::Hidden);
        assert_eq!(hidden.tag("</span>", 47..54), Inline::Hidden);
        assert_eq!(hidden.tag("</span>", 60..67), Inline::Closed(10..67));
        assert_eq!(hidden.tag("<noscript>", 70..80), Inline::Hidden);
        hidden.end_paragraph();
        assert_eq!(hidden.tag("</noscript>", 90..101), Inline::Shown);
    }
}
