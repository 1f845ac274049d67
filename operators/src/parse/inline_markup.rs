//! Inline markup inside a block's plain text: code spans and images, which the renderer writes
//! as Markdown (`` `code` ``, `![alt](src)`) and leaves out of the elements' text (the code's
//! text and the image's alt stay). They are marked by Unicode noncharacters, which no text of
//! a page holds ([`strip`] takes them out of what the page says).

/// Opens a code span.
const CODE_OPEN: char = '\u{FDD0}';
/// Closes a code span.
const CODE_CLOSE: char = '\u{FDD1}';
/// Opens an image: its alt text follows.
const IMAGE_OPEN: char = '\u{FDD2}';
/// Ends an image's alt text: its source follows.
const IMAGE_SRC: char = '\u{FDD3}';
/// Closes an image.
const IMAGE_CLOSE: char = '\u{FDD4}';

/// Whether `c` is one of the marks.
fn is_mark(c: char) -> bool {
    matches!(
        c,
        CODE_OPEN | CODE_CLOSE | IMAGE_OPEN | IMAGE_SRC | IMAGE_CLOSE
    )
}

/// `text` without the marks (a page's text that happens to hold these noncharacters).
pub(crate) fn strip(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(is_mark) {
        text.replace(is_mark, "").into()
    } else {
        text.into()
    }
}

/// `code` marked as a code span: on one line, its white space collapsed as in running text;
/// nothing when it has no text.
pub(crate) fn code(code: &str) -> String {
    let code = super::render::one_line(&strip(code));
    if code.is_empty() {
        return code;
    }
    format!("{CODE_OPEN}{code}{CODE_CLOSE}")
}

/// An image marked inline, with its `alt` text and `src`.
pub(crate) fn image(alt: &str, src: Option<&str>) -> String {
    let alt = super::render::one_line(&strip(alt));
    let src = super::render::one_line(&strip(src.unwrap_or("")));
    format!("{IMAGE_OPEN}{alt}{IMAGE_SRC}{src}{IMAGE_CLOSE}")
}

/// A marked span: a code span or an image.
#[derive(Debug, PartialEq)]
pub(crate) enum Span<'a> {
    Code(&'a str),
    Image { alt: &'a str, src: &'a str },
}

/// The span that starts at the beginning of `text` (at a mark that opens one), and the length
/// of its marked text; a span left open ends with `text`.
pub(crate) fn span_at(text: &str) -> Option<(Span<'_>, usize)> {
    let open = text.chars().next()?;
    let body = &text[open.len_utf8()..];
    let end = |close: char| {
        body.find(close)
            .map_or((body.len(), 0), |at| (at, close.len_utf8()))
    };
    match open {
        CODE_OPEN => {
            let (at, close) = end(CODE_CLOSE);
            Some((Span::Code(&body[..at]), open.len_utf8() + at + close))
        }
        IMAGE_OPEN => {
            let (at, close) = end(IMAGE_CLOSE);
            let inner = &body[..at];
            let (alt, src) = inner.split_once(IMAGE_SRC).unwrap_or((inner, ""));
            Some((Span::Image { alt, src }, open.len_utf8() + at + close))
        }
        _ => None,
    }
}

/// `text` as plain text: a code span's code, an image's alt text, no marks.
pub(crate) fn plain(text: &str) -> String {
    if !text.contains(is_mark) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(is_mark) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match span_at(rest) {
            Some((span, len)) => {
                out.push_str(match span {
                    Span::Code(code) => code,
                    Span::Image { alt, .. } => alt,
                });
                rest = &rest[len..];
            }
            // A stray closing mark.
            None => rest = &rest[rest.chars().next().map_or(0, char::len_utf8)..],
        }
    }
    out.push_str(rest);
    strip(&out).into_owned()
}

/// `text` without its images (what a paragraph says besides them).
pub(crate) fn without_images(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(IMAGE_OPEN) {
        out.push_str(&rest[..at]);
        let len = span_at(&rest[at..]).map_or(IMAGE_OPEN.len_utf8(), |(_, len)| len);
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    out
}

/// A code span as Markdown: fenced by more backticks than any run it holds, with a space
/// inside each fence when it starts or ends with a backtick, or with a space at both ends
/// (CommonMark takes one off each end then).
pub(crate) fn code_span(code: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in code.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let spaced = code.starts_with(' ') && code.ends_with(' ') && !code.trim().is_empty();
    let pad = if code.starts_with('`') || code.ends_with('`') || spaced {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{code}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_read_back_as_spans_and_plain_text() {
        let text = format!(
            "call {} or see {} now",
            code("foo_bar(*args)\n  x"),
            image("warning icon", Some("i.png"))
        );
        assert_eq!(
            plain(&text),
            "call foo_bar(*args) x or see warning icon now"
        );
        assert_eq!(
            plain(&without_images(&text)),
            "call foo_bar(*args) x or see  now"
        );
        let at = text.find(CODE_OPEN).unwrap();
        let (span, len) = span_at(&text[at..]).unwrap();
        assert_eq!(span, Span::Code("foo_bar(*args) x"));
        assert!(text[at + len..].starts_with(" or see"));
        assert_eq!(code("  \n "), "");
        // Marks the page's own text holds are no markup; a span left open ends the text.
        assert_eq!(strip("a\u{FDD0}b\u{FDD4}"), "ab");
        assert_eq!(plain("a\u{FDD1}b \u{FDD0}c"), "ab c");
    }

    #[test]
    fn code_spans_outgrow_their_backticks() {
        assert_eq!(code_span("a|b"), "`a|b`");
        assert_eq!(code_span("a `b` c"), "``a `b` c``");
        assert_eq!(code_span("`x``"), "``` `x`` ```");
        assert_eq!(code_span(" x"), "` x`");
        assert_eq!(code_span(" x "), "`  x  `");
    }
}
