//! What a chunk's links and images show, for its `embed_text`: `[text](url)` reads as `text`
//! and `![alt](src)` as `alt`. A URL says nothing a model's vector should hold, and long ones
//! (a CDN's image paths, a README's badges) filled a third of some web pages' chunks.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// `text` with the targets of its links and images left out (their text, or alt text, stays);
/// `None` when it has none.
pub(super) fn without_link_targets(text: &str) -> Option<String> {
    // Cheap test first: no link or image without a `](` or `][`, nor an autolink without `<`.
    if !text.contains("](") && !text.contains("][") && !text.contains('<') {
        return None;
    }
    let mut cuts: Vec<[usize; 2]> = Vec::new();
    // The links and images open at this point: each one's whole span and its content's.
    let mut open: Vec<([usize; 2], Option<[usize; 2]>)> = Vec::new();
    for (event, range) in
        Parser::new_ext(text, crate::parse::markdown::options()).into_offset_iter()
    {
        let span = [range.start, range.end];
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
                if let Some((_, outer)) = open.last_mut() {
                    widen(outer, whole);
                }
            }
            _ => {
                if let Some((_, content)) = open.last_mut() {
                    widen(content, span);
                }
            }
        }
    }
    cuts.retain(|[from, to]| from < to);
    if cuts.is_empty() {
        return None;
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for [from, to] in cuts {
        if from >= at {
            out.push_str(text.get(at..from)?);
        }
        at = at.max(to);
    }
    out.push_str(text.get(at..)?);
    Some(out)
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
        ];
        for (text, expected) in cases {
            assert_eq!(without_link_targets(text).as_deref(), expected, "{text}");
        }
    }
}
