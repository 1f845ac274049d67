//! What a chunk's links and images show, for its `embed_text`: `[text](url)` reads as `text`
//! and `![alt](src)` as `alt`. A URL says nothing a model's vector should hold, and long ones
//! (a CDN's image paths, a README's badges) filled a third of some web pages' chunks.
//!
//! The links are found in the whole document, once, and each chunk leaves out the parts of
//! their markup within its span: a chunk read alone misreads what it begins inside (the end of
//! a link its overlap starts in, `text](url)`, is no link; after the end of a code block it
//! starts in, a closing fence reads as an opening one, and its links as code).

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// The byte ranges of a document's link and image markup that are not what they show.
pub(super) struct LinkTargets {
    /// Sorted, disjoint.
    cuts: Vec<[usize; 2]>,
}

impl LinkTargets {
    /// The link markup of `document` (Markdown).
    pub(super) fn of(document: &str) -> LinkTargets {
        // Cheap test first: no link or image without a `](` or `][`, nor an autolink without `<`.
        if !document.contains("](") && !document.contains("][") && !document.contains('<') {
            return LinkTargets { cuts: Vec::new() };
        }
        LinkTargets {
            cuts: disjoint(markup_cuts(document)),
        }
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

/// The ranges of `text` that are link or image markup: a link's `[` and `](url)`, an image's
/// whole markup but its alt text.
fn markup_cuts(text: &str) -> Vec<[usize; 2]> {
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
    cuts
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
        ];
        for (text, expected) in cases {
            let whole = [0, text.len()];
            assert_eq!(
                LinkTargets::of(text).shown(text, whole).as_deref(),
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
        let shown = LinkTargets::of(document).shown(document, [start, document.len()]);
        assert_eq!(shown.as_deref(), Some("modify the link density\n"));
        let end = document.find(" to modify").unwrap();
        let shown = LinkTargets::of(document).shown(document, [0, end]);
        assert_eq!(shown.as_deref(), Some("- Add an option"));

        let document = "```\nrow 1\nrow 2\n```\n\nSee ![Errors](https://example.com/e.png) and [the guide](https://example.com/g).\n";
        let start = document.find("row 2").unwrap();
        let shown = LinkTargets::of(document).shown(document, [start, document.len()]);
        assert_eq!(
            shown.as_deref(),
            Some("row 2\n```\n\nSee Errors and the guide.\n")
        );
    }
}
