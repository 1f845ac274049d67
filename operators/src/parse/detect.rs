//! Format detection: configuration, the source's hint, magic bytes, then the file extension.

use super::ParseConfig;
use crate::model::{Document, Format};

/// Detects the format: config override, then the source's hint (doc.format), then magic bytes
/// (%PDF-, PK\x03\x04 zip → docx, <!doctype html / <html after whitespace/BOM → html), then
/// the extension of doc.source / doc.doc_id (.md .markdown .mdx → markdown; .txt .text .rst
/// .log .csv and no extension → text, but a `README`, `CHANGELOG` and the like without one
/// that is written in Markdown → markdown; .html .htm .xhtml → html; .pdf; .docx).
pub fn detect_format(doc: &Document, config: &ParseConfig) -> Option<Format> {
    config
        .format
        .or(doc.format)
        .or_else(|| sniff(&doc.bytes))
        .or_else(|| {
            let (name, format) = [&doc.source, &doc.doc_id]
                .into_iter()
                .find_map(|name| Some((name, by_name(name)?)))?;
            let markdown = format == Format::Text
                && extension(name).is_none()
                && is_project_document(name)
                && written_in_markdown(&doc.bytes);
            Some(if markdown { Format::Markdown } else { format })
        })
}

/// Whether `name` is one a project gives its documents without an extension (`README`,
/// `CHANGELOG`, `CONTRIBUTING`, …), often written in Markdown.
fn is_project_document(name: &str) -> bool {
    const NAMES: [&str; 10] = [
        "README",
        "CHANGELOG",
        "CHANGES",
        "CONTRIBUTING",
        "HISTORY",
        "NEWS",
        "INSTALL",
        "TODO",
        "NOTES",
        "RELEASE-NOTES",
    ];
    NAMES
        .iter()
        .any(|known| file_name(name).eq_ignore_ascii_case(known))
}

/// Whether text shows Markdown's structure in its first 64 KiB: a heading (`# Title`, or a
/// line underlined with `===` or `---`) or a fenced code block.
fn written_in_markdown(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let mut previous = "";
    for line in head.lines() {
        let trimmed = line.trim_end();
        let hashes = trimmed.len() - trimmed.trim_start_matches('#').len();
        let atx = (1..=6).contains(&hashes)
            && trimmed[hashes..].starts_with([' ', '\t'])
            && !trimmed[hashes..].trim().is_empty();
        let underline = !previous.trim().is_empty()
            && trimmed.len() >= 3
            && (trimmed.bytes().all(|b| b == b'=') || trimmed.bytes().all(|b| b == b'-'));
        if atx || underline || trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            return true;
        }
        previous = line;
    }
    false
}

/// The format announced by the content's first bytes, if any.
fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(b"%PDF-") {
        return Some(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Some(Format::Docx);
    }
    let rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &rest[start..];
    let starts_with_ci = |prefix: &[u8]| {
        head.get(..prefix.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
    };
    if starts_with_ci(b"<!doctype html") || starts_with_ci(b"<html") {
        return Some(Format::Html);
    }
    // XHTML: an XML declaration (and comments) before the doctype or the root element.
    let xhtml = starts_with_ci(b"<?xml") && {
        let prefix = &head[..head.len().min(XML_PROLOGUE)];
        let lower = prefix.to_ascii_lowercase();
        let find = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
        find(b"<!doctype html") || find(b"<html")
    };
    xhtml.then_some(Format::Html)
}

/// Why a file of an unknown extension (`.json`, `.yaml`, `.sh`) is not plain text to read as
/// such (`None`: it is): UTF-8 throughout (after a byte order mark), without a NUL or other C0
/// control but tab, line feed, form feed and carriage return. Legacy encodings are left to a
/// known name: any bytes decode as windows-1252, a binary file of no NUL too.
pub(super) fn not_plain_text(bytes: &[u8]) -> Option<&'static str> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(body) else {
        return Some(match body.contains(&0) {
            true => "it holds NUL bytes, as binary data does",
            false => "it is not valid UTF-8 (a legacy encoding, or binary data)",
        });
    };
    let control = |b: u8| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r');
    match text.bytes().find(|&b| control(b)) {
        None => None,
        Some(0) => Some("it holds NUL bytes, as binary data does"),
        Some(_) => Some("it holds control characters (terminal escapes, say)"),
    }
}

/// How far into an XML document its root element is looked for.
const XML_PROLOGUE: usize = 1024;

/// The format a file name's extension stands for; a name without extension is text.
fn by_name(name: &str) -> Option<Format> {
    if file_name(name).is_empty() {
        return None;
    }
    let Some(ext) = extension(name) else {
        return Some(Format::Text);
    };
    match ext.to_ascii_lowercase().as_str() {
        "md" | "markdown" | "mdx" => Some(Format::Markdown),
        "txt" | "text" | "rst" | "log" | "csv" => Some(Format::Text),
        "html" | "htm" | "xhtml" => Some(Format::Html),
        "pdf" => Some(Format::Pdf),
        "docx" => Some(Format::Docx),
        _ => None,
    }
}

/// The last path component of `name`.
fn file_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The extension of `name`'s last path component (without the dot), if it has one.
/// A leading dot (`.profile`) does not start an extension.
fn extension(name: &str) -> Option<&str> {
    let file = file_name(name);
    match file.rfind('.') {
        Some(0) | None => None,
        Some(dot) => file.get(dot + 1..).filter(|e| !e.is_empty()),
    }
}

/// The document's unrecognised extension, for error messages.
pub(super) fn extension_of(doc: &Document) -> Option<String> {
    extension(&doc.source)
        .or_else(|| extension(&doc.doc_id))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(name: &str, bytes: &[u8]) -> Option<Format> {
        let doc = Document::new(name.into(), name.into(), bytes.to_vec());
        detect_format(&doc, &ParseConfig::default())
    }

    #[test]
    fn by_extension() {
        assert_eq!(detect("a/b.md", b"x"), Some(Format::Markdown));
        assert_eq!(detect("B.MARKDOWN", b"x"), Some(Format::Markdown));
        assert_eq!(detect("x.mdx", b"x"), Some(Format::Markdown));
        for name in [
            "a.txt",
            "a.text",
            "a.rst",
            "a.log",
            "a.csv",
            "README",
            "dir.d/LICENSE",
        ] {
            assert_eq!(detect(name, b"x"), Some(Format::Text), "{name}");
        }
        assert_eq!(detect("a.htm", b"x"), Some(Format::Html));
        assert_eq!(detect("a.xhtml", b"x"), Some(Format::Html));
        assert_eq!(detect("a.pdf", b"x"), Some(Format::Pdf));
        assert_eq!(detect("a.docx", b"x"), Some(Format::Docx));
        assert_eq!(detect("a.xyz", b"x"), None);
        assert_eq!(detect("", b"x"), None);
    }

    /// A `README` (or `CHANGELOG`, …) without an extension written in Markdown is read as
    /// Markdown, its headings kept; one in plain text, and other names without an extension
    /// (a `Makefile`'s `# comments`), stay text.
    #[test]
    fn an_extensionless_readme_in_markdown_is_markdown() {
        for text in [
            "# Project\n\nWhat it does.\n",
            "Project\n=======\n\nWhat it does.\n",
            "Intro.\n\nUsage\n---\n",
            "Run:\n\n```sh\nmake\n```\n",
        ] {
            assert_eq!(
                detect("src/README", text.as_bytes()),
                Some(Format::Markdown),
                "{text}"
            );
        }
        assert_eq!(
            detect("ChangeLog", b"## 1.0\n\n- first\n"),
            Some(Format::Markdown)
        );
        for text in [
            "Project\n\nWhat it does, #1 in its class.\n",
            "----\nA rule.\n",
            "#!/bin/sh\n",
        ] {
            assert_eq!(
                detect("README", text.as_bytes()),
                Some(Format::Text),
                "{text}"
            );
        }
        assert_eq!(detect("Makefile", b"# Build\n\nall:\n"), Some(Format::Text));
        assert_eq!(detect("README.txt", b"# Project\n"), Some(Format::Text));
    }

    /// XHTML opens with an XML declaration: without an extension it was read as text, tags
    /// and all. Other XML stays what its name says.
    #[test]
    fn xhtml_is_told_by_its_root_after_the_declaration() {
        let xhtml = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- page -->\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"x\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>";
        assert_eq!(detect("page", xhtml), Some(Format::Html));
        let rss = b"<?xml version=\"1.0\"?><rss><channel><title>html</title></channel></rss>";
        assert_eq!(detect("feed", rss), Some(Format::Text));
    }

    /// A `.json`, `.yaml` or `.sh` file failed as of no format in every run of a folder read
    /// whole; text of an unknown extension is read as text, binary data still fails.
    #[test]
    fn text_of_an_unknown_extension_is_plain_text() {
        assert_eq!(not_plain_text(b"{\"a\": [1, 2]}\n"), None);
        assert_eq!(
            not_plain_text("\u{feff}key: värde\r\n\tx: 1\n".as_bytes()),
            None
        );
        assert_eq!(not_plain_text(b""), None);
        // Each says why it is not.
        let why = |bytes: &[u8]| not_plain_text(bytes).unwrap();
        assert!(why(b"\x89PNG\r\n\x1a\n\0\0").contains("NUL"));
        assert!(why(b"caf\xe9").contains("not valid UTF-8"));
        assert!(why(b"a\x1b[31mred").contains("control characters"));
    }

    #[test]
    fn magic_bytes_beat_extension() {
        assert_eq!(detect("a.txt", b"%PDF-1.7\n"), Some(Format::Pdf));
        assert_eq!(detect("a.md", b"PK\x03\x04rest"), Some(Format::Docx));
        assert_eq!(
            detect("a.txt", b"\xEF\xBB\xBF \n<!DOCTYPE html><p>"),
            Some(Format::Html)
        );
        assert_eq!(detect("a.xyz", b"\t<HTML lang=en>"), Some(Format::Html));
        assert_eq!(
            detect("a.md", b"<div>not a page</div>"),
            Some(Format::Markdown)
        );
    }

    #[test]
    fn hint_and_config_come_first() {
        let mut doc = Document::new("a.md".into(), "a.md".into(), b"%PDF-".to_vec());
        doc.format = Some(Format::Text);
        assert_eq!(
            detect_format(&doc, &ParseConfig::default()),
            Some(Format::Text)
        );
        let config = ParseConfig {
            format: Some(Format::Markdown),
            ..ParseConfig::default()
        };
        assert_eq!(detect_format(&doc, &config), Some(Format::Markdown));
    }

    #[test]
    fn doc_id_is_the_fallback_name() {
        let doc = Document::new("notes.md".into(), "export.jsonl:3".into(), b"x".to_vec());
        assert_eq!(
            detect_format(&doc, &ParseConfig::default()),
            Some(Format::Markdown)
        );
        assert_eq!(extension_of(&doc).as_deref(), Some("jsonl:3"));
        assert_eq!(extension(".profile"), None);
    }
}
