//! What a chunk's Markdown shows, for its `embed_text`: `[text](url)` reads as `text`,
//! `![alt](src)` as `alt`, and a backslash escape as the character it escapes (`\*args` as
//! `*args`). A URL says nothing a model's vector should hold, and long ones (a CDN's image
//! paths, a README's badges) filled a third of some web pages' chunks.
//!
//! The markup is found in the whole document, once, and each chunk leaves out the parts of it
//! within its span: a chunk read alone misreads what it begins inside (the end of a link its
//! overlap starts in, `text](url)`, is no link; after the end of a code block it starts in, a
//! closing fence reads as an opening one, and its links as code).

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// The byte ranges of a document's Markdown that show nothing themselves: link and image
/// markup, escapes' backslashes.
#[derive(Debug, Default)]
pub(super) struct UnshownMarkup {
    /// Sorted, disjoint.
    cuts: Vec<[usize; 2]>,
    /// The whole span of every link or image not inside another, in order.
    links: Vec<[usize; 2]>,
}

impl UnshownMarkup {
    /// The markup of `document` (Markdown) that shows nothing itself.
    pub(super) fn of(document: &str) -> UnshownMarkup {
        // Cheap test first: no link or image without a `](` or `][`, nor an autolink without
        // `<`, nor an escape without `\`.
        if !document.contains("](")
            && !document.contains("][")
            && !document.contains('<')
            && !document.contains('\\')
        {
            return UnshownMarkup::default();
        }
        let (cuts, links) = markup_cuts(document);
        UnshownMarkup {
            cuts: disjoint(cuts),
            links,
        }
    }

    /// The whole spans of the outermost links and images, in order.
    pub(super) fn spans(&self) -> &[[usize; 2]] {
        &self.links
    }

    /// `document[span]` with the link markup within it left out; `None` when it has none.
    pub(super) fn shown(&self, document: &str, [start, end]: [usize; 2]) -> Option<String> {
        let first = self.cuts.partition_point(|cut| cut[1] <= start);
        let within = self.cuts[first..]
            .iter()
            .take_while(|cut| cut[0] < end)
            .map(|&[from, to]| [from.max(start), to.min(end)]);
        let mut out = String::with_capacity(end.saturating_sub(start));
        let mut at = start;
        let mut cut_any = false;
        for [from, to] in within {
            out.push_str(document.get(at..from)?);
            at = to;
            cut_any = true;
        }
        if !cut_any {
            return None;
        }
        out.push_str(document.get(at..end)?);
        Some(out)
    }
}

/// The ranges of `text` that show nothing (a link's `[` and `](url)`, an image's whole markup
/// but its alt text, an escape's backslash), and the whole spans of the outermost links and
/// images.
fn markup_cuts(text: &str) -> (Vec<[usize; 2]>, Vec<[usize; 2]>) {
    let mut cuts: Vec<[usize; 2]> = Vec::new();
    let mut links: Vec<[usize; 2]> = Vec::new();
    // Where the last event's range ended: an escape's backslash lies in no text's range.
    let mut covered = 0;
    // The links and images open at this point: each one's whole span and its content's.
    let mut open: Vec<([usize; 2], Option<[usize; 2]>)> = Vec::new();
    for (event, range) in
        Parser::new_ext(text, crate::parse::markdown::options()).into_offset_iter()
    {
        let span = [range.start, range.end];
        if let Event::Text(_) = event
            && escaped_at(text, range.start, covered)
        {
            cuts.push([range.start - 1, range.start]);
        }
        // A start's range holds its whole element: only its start is behind.
        covered = match event {
            Event::Start(_) => range.start,
            _ => range.end,
        };
        match event {
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => open.push((span, None)),
            Event::End(TagEnd::Link | TagEnd::Image) => {
                let Some((whole, content)) = open.pop() else {
                    continue;
                };
                match content {
                    Some([from, to]) => cuts.extend([[whole[0], from], [to, whole[1]]]),
                    None => cuts.push(whole),
                }
                match open.last_mut() {
                    Some((_, outer)) => widen(outer, whole),
                    None => links.push(whole),
                }
            }
            _ => {
                if let Some((_, content)) = open.last_mut() {
                    widen(content, span);
                }
            }
        }
    }
    (cuts, links)
}

/// Whether the text at `start` follows a backslash escaping it: the byte before is a `\\`
/// that no event before, which ended at `covered`, took in.
fn escaped_at(text: &str, start: usize, covered: usize) -> bool {
    start > covered
        && text.as_bytes()[start - 1] == b'\\'
        && text
            .as_bytes()
            .get(start)
            .is_some_and(u8::is_ascii_punctuation)
}

/// `cuts` sorted, the empty ones dropped and those that overlap made one.
fn disjoint(mut cuts: Vec<[usize; 2]>) -> Vec<[usize; 2]> {
    cuts.retain(|[from, to]| from < to);
    cuts.sort_unstable();
    let mut merged: Vec<[usize; 2]> = Vec::with_capacity(cuts.len());
    for cut in cuts {
        match merged.last_mut() {
            Some(last) if cut[0] <= last[1] => last[1] = last[1].max(cut[1]),
            _ => merged.push(cut),
        }
    }
    merged
}

/// `content` grown to hold `span`.
fn widen(content: &mut Option<[usize; 2]>, span: [usize; 2]) {
    *content = Some(match *content {
        Some([from, to]) => [from.min(span[0]), to.max(span[1])],
        None => span,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_images_keep_their_text_not_their_targets() {
        let cases = [
            (
                "See [the guide](https://example.com/guide.html) first.",
                Some("See the guide first."),
            ),
            (
                "![A tall glass of iced tea](//img-aws.ehowcdn.com/640/photos.demandstudios.com/getty/article/tea.jpg)\n\nSpencer Platt/Getty Images",
                Some("A tall glass of iced tea\n\nSpencer Platt/Getty Images"),
            ),
            // A badge: an image inside a link.
            (
                "[![Build](https://img.shields.io/badge/build-passing.svg)](https://ci.example.com/x) **bold [inner](u)**",
                Some("Build **bold inner**"),
            ),
            (
                "An image without alt: ![](x.png) here.",
                Some("An image without alt:  here."),
            ),
            ("<https://example.com>", Some("https://example.com")),
            ("No links at all, only (parens) and [brackets].", None),
            // Code keeps its text as written.
            ("Call `[x](y)` and\n\n```\n[a](b)\n```\n", None),
            (
                "| a | [b](c) |\n| --- | --- |\n| 1 | 2 |",
                Some("| a | b |\n| --- | --- |\n| 1 | 2 |"),
            ),
            // Escapes read as what they escape (they leaked into what was embedded), in code
            // as written; a hard line break's backslash is no escape.
            (
                "Call foo\\_bar(\\*args, \\*\\*kw) and `a\\*b`, \\<div>, pipe \\| and\\\nnext \\\\ x.",
                Some("Call foo_bar(*args, **kw) and `a\\*b`, <div>, pipe | and\\\nnext \\ x."),
            ),
            (
                "| a \\| b | [c](d) |\n|---|---|\n| 1 | 2 |",
                Some("| a | b | c |\n|---|---|\n| 1 | 2 |"),
            ),
            ("A path C:\\Users\\me stays.", None),
            (
                "\\*Not emphasis\\*\n\n- \\# not a heading",
                Some("*Not emphasis*\n\n- # not a heading"),
            ),
        ];
        for (text, expected) in cases {
            let whole = [0, text.len()];
            assert_eq!(
                UnshownMarkup::of(text).shown(text, whole).as_deref(),
                expected,
                "{text}"
            );
        }
    }

    /// A chunk read alone misread what it begins inside: the end of a link its overlap starts
    /// in kept its URL, and after the end of a code block it starts in, the closing fence read
    /// as an opening one and every link after it as code.
    #[test]
    fn a_chunk_that_begins_inside_a_link_or_a_code_block_shows_what_the_document_does() {
        let document = "- [Add an option to modify the link density](https://github.com/mozilla/readability/pull/801)\n";
        let start = document.find("modify").unwrap();
        let shown = UnshownMarkup::of(document).shown(document, [start, document.len()]);
        assert_eq!(shown.as_deref(), Some("modify the link density\n"));
        let end = document.find(" to modify").unwrap();
        let shown = UnshownMarkup::of(document).shown(document, [0, end]);
        assert_eq!(shown.as_deref(), Some("- Add an option"));

        let document = "```\nrow 1\nrow 2\n```\n\nSee ![Errors](https://example.com/e.png) and [the guide](https://example.com/g).\n";
        let start = document.find("row 2").unwrap();
        let shown = UnshownMarkup::of(document).shown(document, [start, document.len()]);
        assert_eq!(
            shown.as_deref(),
            Some("row 2\n```\n\nSee Errors and the guide.\n")
        );
    }
}
