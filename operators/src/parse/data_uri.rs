//! Inline `data:` URIs without their payload: a page saved whole from a browser, or Markdown
//! with an embedded figure, holds images as base64 in the text (`![Chart](data:image/png;
//! base64,iVBOR…)`), tens of kilobytes each, which were chunked, embedded and indexed as words.
//! The URI stays with its media type (`data:image/png;base64,`), so the markup still says an
//! image was there; element and page offsets move with the text.

use memchr::memmem;

use super::Parsed;

/// A payload shorter than this that is not base64 stays (`data:,Hello%20world` is text).
const LONG_PAYLOAD: usize = 256;

/// The byte ranges of `text` that are payloads of `data:` URIs to leave out, in order.
fn payloads(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    for at in memmem::find_iter(bytes, b"data:") {
        if at < from
            || bytes[..at]
                .last()
                .is_some_and(|&b| b.is_ascii_alphanumeric())
        {
            continue;
        }
        let Some((comma, base64)) = header_end(&bytes[at + 5..]) else {
            continue;
        };
        let start = at + 5 + comma + 1;
        let end = start
            + bytes[start..]
                .iter()
                .position(|&b| ends_payload(b))
                .unwrap_or(bytes.len() - start);
        if end > start && (base64 || end - start >= LONG_PAYLOAD) {
            found.push(start..end);
        }
        from = end;
    }
    found
}

/// Where the media type and parameters after `data:` end (the offset of their comma), and
/// whether they end in `;base64`; `None` when what follows is no URI's header (`data: the
/// results`, a word after a colon).
fn header_end(rest: &[u8]) -> Option<(usize, bool)> {
    let comma = rest
        .iter()
        .take(128)
        .position(|&b| !(b.is_ascii_alphanumeric() || b"/;=+-._!#$&^%".contains(&b)))
        .filter(|&stop| rest[stop] == b',')?;
    let header = &rest[..comma];
    // `type/subtype`, then `;name=value` parameters, or nothing (`data:,text`).
    let media = header.split(|&b| b == b';').next().unwrap_or_default();
    if !media.is_empty() && media.iter().filter(|&&b| b == b'/').count() != 1 {
        return None;
    }
    Some((comma, header.to_ascii_lowercase().ends_with(b";base64")))
}

/// Whether `byte` ends a URI in Markdown or HTML text.
fn ends_payload(byte: u8) -> bool {
    byte.is_ascii_whitespace() || b")\"'<>]`".contains(&byte)
}

/// `text` without `ranges` (in order, apart).
fn without(text: &str, ranges: &[std::ops::Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut kept = 0;
    for range in ranges {
        out.push_str(&text[kept..range.start]);
        kept = range.end;
    }
    out.push_str(&text[kept..]);
    out
}

/// `text` with the payloads of its `data:` URIs left out.
fn elided(text: &str) -> Option<String> {
    let ranges = payloads(text);
    (!ranges.is_empty()).then(|| without(text, &ranges))
}

/// Leaves the payloads of `data:` URIs out of `parsed`'s Markdown and of its elements' text,
/// moving element spans and page continuations with the text; returns how many it left out.
pub(crate) fn leave_out(parsed: &mut Parsed) -> usize {
    let ranges = payloads(&parsed.markdown);
    if ranges.is_empty() {
        return 0;
    }
    // The offset `at` once the ranges before it are gone (within one: its start).
    let moved = |at: usize| {
        let gone: usize = ranges
            .iter()
            .take_while(|range| range.start < at)
            .map(|range| range.end.min(at) - range.start)
            .sum();
        at - gone
    };
    for element in &mut parsed.elements {
        element.span = element.span.map(moved);
        for continuation in &mut element.continued {
            continuation.at = moved(continuation.at);
        }
        if let Some(text) = elided(&element.text) {
            element.text = text;
        }
        for cell in element.rows.iter_mut().flatten().flatten() {
            if let Some(text) = elided(cell) {
                *cell = text;
            }
        }
    }
    parsed.markdown = without(&parsed.markdown, &ranges);
    ranges.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Element, ElementKind, Metadata};

    fn payload_of(text: &str) -> Vec<&str> {
        payloads(text)
            .into_iter()
            .map(|range| &text[range])
            .collect()
    }

    #[test]
    fn base64_payloads_go_whatever_their_length() {
        let text = "![Chart](data:image/png;base64,iVBORw0KGgo=) and <img src=\"data:image/gif;BASE64,R0lG\">";
        assert_eq!(payload_of(text), ["iVBORw0KGgo=", "R0lG"]);
        assert_eq!(
            without(text, &payloads(text)),
            "![Chart](data:image/png;base64,) and <img src=\"data:image/gif;BASE64,\">"
        );
    }

    #[test]
    fn long_percent_encoded_payloads_go_and_short_text_stays() {
        let svg = format!("data:image/svg+xml,%3Csvg{}%3E", "%20x".repeat(80));
        let text = format!("![icon]({svg}) and [note](data:,Hello%20world)");
        let gone = payload_of(&text);
        assert_eq!(gone.len(), 1);
        assert!(gone[0].starts_with("%3Csvg"));
    }

    #[test]
    fn words_that_are_no_uri_stay() {
        for text in [
            "metadata:image/png;base64,abc",
            "The data: results were good, base64 or not.",
            "data:image/png;base64 without a comma",
            "data:a/b/c;base64,abc",
        ] {
            assert!(payloads(text).is_empty(), "{text}");
        }
    }

    /// A document with an inline image keeps every word around it, at offsets that still
    /// name that text.
    #[test]
    fn spans_move_with_the_text() {
        let image = format!("![Chart](data:image/png;base64,{})", "QUJD".repeat(1000));
        let markdown = format!("# Results\n\nBefore.\n\n{image}\n\nAfter the chart.");
        let span_of = |text: &str, part: &str| {
            let start = text.find(part).unwrap();
            [start, start + part.len()]
        };
        let mut parsed = Parsed {
            elements: vec![
                Element::new(
                    ElementKind::Heading,
                    "Results",
                    span_of(&markdown, "# Results"),
                ),
                Element::new(ElementKind::Image, "Chart", span_of(&markdown, &image)),
                Element::new(
                    ElementKind::Paragraph,
                    "After the chart.",
                    span_of(&markdown, "After the chart."),
                ),
            ],
            markdown,
            metadata: Metadata::new(),
            warnings: Vec::new(),
            stats: Metadata::new(),
        };
        assert_eq!(leave_out(&mut parsed), 1);
        assert_eq!(
            parsed.markdown,
            "# Results\n\nBefore.\n\n![Chart](data:image/png;base64,)\n\nAfter the chart."
        );
        let texts: Vec<&str> = (parsed.elements.iter())
            .map(|element| &parsed.markdown[element.span[0]..element.span[1]])
            .collect();
        assert_eq!(
            texts,
            [
                "# Results",
                "![Chart](data:image/png;base64,)",
                "After the chart."
            ]
        );
    }

    /// Through the parser of each format whose text holds URIs: the words around an inline
    /// image are all there, the image's alt text too, and no base64.
    #[test]
    fn markdown_and_html_documents_keep_no_payload() {
        let payload = "iVBORw0KGgoAAAANSUhEUgAA".repeat(500);
        let words = "The quick brown fox jumps over the lazy dog.";
        let html = format!(
            "<html><body><article><h1>Results</h1><p>{words}</p><figure><img alt=\"Throughput chart\" src=\"data:image/png;base64,{payload}\"><figcaption>Figure 1</figcaption></figure><p>{words}</p></article></body></html>"
        );
        let markdown = format!(
            "# Results\n\n{words}\n\n![Throughput chart](data:image/png;base64,{payload})\n\n{words}\n"
        );
        for (name, bytes) in [("page.html", html), ("page.md", markdown)] {
            let doc = crate::model::Document::new(name.into(), name.into(), bytes.into_bytes());
            let parsed = crate::parse::parse(&doc, &crate::parse::ParseConfig::default()).unwrap();
            assert!(
                !parsed.markdown.contains("iVBOR"),
                "{name}: {}",
                parsed.markdown
            );
            assert!(
                parsed
                    .markdown
                    .contains("![Throughput chart](data:image/png;base64,)"),
                "{name}"
            );
            assert_eq!(parsed.markdown.matches(words).count(), 2, "{name}");
            for element in &parsed.elements {
                assert!(!element.text.contains("iVBOR"), "{name}");
                assert!(
                    parsed
                        .markdown
                        .get(element.span[0]..element.span[1])
                        .is_some(),
                    "{name}"
                );
            }
            assert_eq!(
                parsed.debug.stats["data_uri_payloads_left_out"], 1,
                "{name}"
            );
        }
    }
}
