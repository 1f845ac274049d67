//! Plain text: the text is its own rendering; paragraphs are separated by blank lines.

use super::{MAX_ELEMENTS, ParseError, Parsed, too_many_elements};
use crate::model::{Element, ElementKind, Metadata};

/// Parses plain text: one paragraph element per run of non-blank lines. A lone CR (old Mac
/// line endings) is a line break: it becomes a LF in the rendering. More than
/// [`MAX_ELEMENTS`] paragraphs is an error.
pub(super) fn parse(text: String) -> Result<Parsed, ParseError> {
    let text = lone_cr_to_lf(text);
    let elements: Vec<Element> = paragraphs(&text)
        .take(MAX_ELEMENTS + 1)
        .map(|span| Element::new(ElementKind::Paragraph, &text[span[0]..span[1]], span))
        .collect();
    if elements.len() > MAX_ELEMENTS {
        return Err(too_many_elements());
    }
    Ok(Parsed {
        markdown: text,
        elements,
        metadata: Metadata::new(),
        warnings: Vec::new(),
        stats: Metadata::new(),
    })
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

    #[test]
    fn no_headings_and_no_trailing_newline() {
        let parsed = parse("# not a heading\nline".to_string()).unwrap();
        assert_eq!(parsed.elements.len(), 1);
        assert_eq!(parsed.elements[0].text, "# not a heading\nline");
        assert!(parse("\n\n  \n".to_string()).unwrap().elements.is_empty());
    }
}
