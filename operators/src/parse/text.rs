//! Plain text: the text is its own rendering; paragraphs are separated by blank lines, pages by
//! form feeds (`\f`, what `pdftotext` writes between pages).

use super::{MAX_ELEMENTS, ParseError, Parsed, too_many_elements};
use crate::model::{Element, ElementKind, Metadata};

/// Parses plain text: one paragraph element per run of non-blank lines. A lone CR (old Mac
/// line endings) is a line break: it becomes a LF in the rendering. A form feed is a page
/// break: it becomes a LF in the rendering, ends the paragraph it is in and, in a text that
/// has one, every element has its page (from 1, counting every form feed) and each page with
/// text after the first starts with a page break element (pages without text have none). More than
/// [`MAX_ELEMENTS`] elements is an error.
pub(super) fn parse(text: String) -> Result<Parsed, ParseError> {
    let text = lone_cr_to_lf(text);
    let (text, feeds) = form_feeds_to_lf(text);
    let paged = !feeds.is_empty();
    let mut elements = Vec::new();
    let mut page_start = 0;
    for (index, &page_end) in feeds.iter().chain([&text.len()]).enumerate() {
        let page = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let page_text = &text[page_start..page_end];
        if index > 0 && !page_text.trim().is_empty() {
            let mut marker = Element::new(ElementKind::PageBreak, "", [page_start - 1, page_start]);
            marker.page = Some(page);
            elements.push(marker);
        }
        for span in paragraphs(page_text) {
            let span = [page_start + span[0], page_start + span[1]];
            let mut element = Element::new(ElementKind::Paragraph, &text[span[0]..span[1]], span);
            element.page = paged.then_some(page);
            elements.push(element);
        }
        if elements.len() > MAX_ELEMENTS {
            return Err(too_many_elements());
        }
        page_start = page_end + 1;
    }
    let mut stats = Metadata::new();
    let mut metadata = Metadata::new();
    if let Some(pages) = elements.iter().filter_map(|e| e.page).max() {
        stats.insert("pages".into(), pages.into());
        metadata.insert("pages".into(), pages.into());
    }
    Ok(Parsed {
        markdown: text,
        elements,
        metadata,
        warnings: Vec::new(),
        stats,
    })
}

/// `text` with each form feed replaced by a LF, and where they were.
fn form_feeds_to_lf(text: String) -> (String, Vec<usize>) {
    let feeds: Vec<usize> = memchr::memchr_iter(b'\x0c', text.as_bytes()).collect();
    if feeds.is_empty() {
        return (text, feeds);
    }
    let mut bytes = text.into_bytes();
    for &at in &feeds {
        bytes[at] = b'\n';
    }
    // Only ASCII bytes were replaced by ASCII bytes.
    (String::from_utf8(bytes).unwrap_or_default(), feeds)
}

/// `text` with each CR that is not followed by a LF replaced by a LF.
fn lone_cr_to_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Byte spans of the paragraphs of `text`, each without surrounding whitespace.
fn paragraphs(text: &str) -> impl Iterator<Item = [usize; 2]> + '_ {
    let mut offset = 0;
    let mut current: Option<[usize; 2]> = None;
    let mut lines = text.split_inclusive('\n');
    std::iter::from_fn(move || {
        loop {
            let Some(line) = lines.next() else {
                return current.take();
            };
            let line_start = offset;
            offset += line.len();
            let content = line.trim();
            if content.is_empty() {
                if let Some(span) = current.take() {
                    return Some(span);
                }
                continue;
            }
            let lead = line.len() - line.trim_start().len();
            let end = line_start + lead + content.len();
            match &mut current {
                Some(span) => span[1] = end,
                None => current = Some([line_start + lead, end]),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_by_blank_lines() {
        let text = "  first line\nsecond line  \n \t\n\nthird\r\n\r\nfourth ünï\n";
        let parsed = parse(text.to_string()).unwrap();
        let got: Vec<&str> = parsed.elements.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(got, vec!["first line\nsecond line", "third", "fourth ünï"]);
        for e in &parsed.elements {
            assert_eq!(&text[e.span[0]..e.span[1]], e.text);
            assert_eq!(e.kind, ElementKind::Paragraph);
            assert!(e.section.is_empty());
        }
        assert_eq!(parsed.markdown, text);
    }

    #[test]
    fn lone_carriage_returns_break_lines() {
        let parsed = parse("first\rline\r\rsecond\r\n\r\nthird\r".to_string()).unwrap();
        let got: Vec<&str> = parsed.elements.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(got, ["first\nline", "second", "third"]);
        assert_eq!(parsed.markdown, "first\nline\n\nsecond\r\n\r\nthird\n");
    }

    /// Form feeds (what `pdftotext` writes between pages) are page breaks: they stayed in the
    /// text, and a text had no pages, so chunking by page had nothing to go on.
    #[test]
    fn form_feeds_are_page_breaks() {
        let text =
            "Page one.\nMore on one.\n\x0cPage two\x0cPage three.\n\x0c\x0cPage five.\n\x0c\n";
        let parsed = parse(text.to_string()).unwrap();
        let got: Vec<(ElementKind, &str, Option<u32>)> = parsed
            .elements
            .iter()
            .map(|e| (e.kind, e.text.as_str(), e.page))
            .collect();
        use ElementKind::{PageBreak as B, Paragraph as P};
        assert_eq!(
            got,
            [
                (P, "Page one.\nMore on one.", Some(1)),
                (B, "", Some(2)),
                (P, "Page two", Some(2)),
                (B, "", Some(3)),
                (P, "Page three.", Some(3)),
                (B, "", Some(5)),
                (P, "Page five.", Some(5)),
            ]
        );
        assert!(!parsed.markdown.contains('\x0c'));
        assert_eq!(parsed.markdown.len(), text.len());
        for e in &parsed.elements {
            assert_eq!(&parsed.markdown[e.span[0]..e.span[1]].trim(), &e.text);
        }
        assert_eq!(parsed.metadata["pages"], 5);
        assert_eq!(parsed.stats["pages"], 5);
        // Without a form feed a text has no pages.
        let flat = parse("one\n\ntwo\n".to_string()).unwrap();
        assert!(flat.elements.iter().all(|e| e.page.is_none()));
        assert!(flat.metadata.is_empty());
    }

    #[test]
    fn no_headings_and_no_trailing_newline() {
        let parsed = parse("# not a heading\nline".to_string()).unwrap();
        assert_eq!(parsed.elements.len(), 1);
        assert_eq!(parsed.elements[0].text, "# not a heading\nline");
        assert!(parse("\n\n  \n".to_string()).unwrap().elements.is_empty());
    }
}
