//! The `parse` operator: turns a [`Document`]'s bytes into a [`ParsedDocument`].
//!
//! Format detection lives in `detect`, byte decoding in `decode`, and each format has its
//! own module that returns the Markdown rendering and the elements; this module assembles the
//! result (identity, title, metadata) the same way for every format.

mod data_uri;
mod decode;
mod detect;
mod docx;
mod front_matter;
mod html;
mod html_strip;
mod inline_markup;
pub(crate) mod markdown;
mod markdown_br;
mod markdown_clean;
mod markdown_contents;
mod markdown_html;
pub mod pdf;
#[cfg(test)]
mod proptests;
pub(crate) mod render;
mod roman;
mod stats;
mod text;
pub mod versions;

#[cfg(test)]
pub(crate) mod test_corpus;

use std::borrow::Cow;

use crate::model::{Document, Element, ElementKind, Format, Metadata, ParseDebug, ParsedDocument};

pub use detect::detect_format;

/// Settings of the `parse` operator.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ParseConfig {
    /// Treat every document as this format instead of detecting it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// PDF settings: the time budget and the glyph limit of one document.
    #[serde(default, skip_serializing_if = "pdf::PdfConfig::keeps_default_output")]
    pub pdf: pdf::PdfConfig,
}

/// Why a document could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The PDF is encrypted and needs a password to open.
    #[error(
        "the PDF is password protected (encrypted with a non-empty user password); decrypt it first, e.g. `qpdf --password=… --decrypt in.pdf out.pdf`"
    )]
    PdfPassword,
    /// The bytes are not a PDF that can be read.
    #[error("not a readable PDF: {reason}; the file may be truncated, damaged or not a PDF")]
    PdfMalformed {
        /// What went wrong.
        reason: String,
    },
    /// The PDF is cut short, and no page survives in what is left.
    #[error(
        "the PDF is cut short: it ends after {bytes} bytes without the `%%EOF` a complete file ends with, and the part that is left holds none of the objects that list its pages, so no page can be read; get a complete copy of the file (a download or copy that stopped early leaves such a file)"
    )]
    PdfTruncated {
        /// How many bytes are left.
        bytes: usize,
    },
    /// Parsing took longer than the time budget.
    #[error(
        "timed out after {seconds} s {} of the PDF{}",
        at_page(*page),
        timeout_cause(*cpu_percent)
    )]
    PdfTimeout {
        /// The budget in seconds.
        seconds: u64,
        /// The page being read when the budget ran out (0 when not known: the reader did not
        /// stop by itself).
        page: u32,
        /// Of that time, the share (percent) the reader had the processor for; `None` when not
        /// known.
        cpu_percent: Option<u32>,
    },
    /// Neither the name nor the content says what the format is.
    #[error(
        "cannot tell the document's format{}; {UNKNOWN_FORMAT_ADVICE}",
        describe_extension(.extension.as_deref(), .content)
    )]
    UnknownFormat {
        /// The unrecognised file extension, when there was one.
        extension: Option<String>,
        /// Why the content is not read as text ("it is not valid UTF-8").
        content: &'static str,
    },
    /// The bytes are binary data rather than text.
    #[error(
        "binary content, not text (NUL byte at offset {offset}); {}",
        binary_advice(*.forced)
    )]
    Binary {
        /// Byte offset of the first NUL byte.
        offset: usize,
        /// The format the parse settings force, if they do.
        forced: Option<Format>,
    },
    /// The bytes are not valid UTF-8.
    #[error("invalid UTF-8 at byte offset {offset}; convert the file to UTF-8")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The bytes start with a UTF-32 byte order mark but are not valid UTF-32.
    #[error("invalid UTF-32 at byte offset {offset}; convert the file to UTF-8")]
    InvalidUtf32 {
        /// Byte offset of the first invalid code unit.
        offset: usize,
    },
    /// The file is damaged or is not what its name or format says.
    #[error("damaged or invalid {} document: {detail}", .format.name())]
    Damaged {
        /// The format it was parsed as.
        format: Format,
        /// What is wrong, and where.
        detail: String,
    },
    /// The document is encrypted (password-protected).
    #[error(
        "the {} document is encrypted (password-protected); save an unprotected copy to parse it",
        .format.name()
    )]
    Encrypted {
        /// The format it was parsed as.
        format: Format,
    },
    /// Decompressing or reading the document would exceed the parser's limits.
    #[error("{detail}")]
    TooLarge {
        /// What exceeded which limit.
        detail: String,
    },
}

/// Below this share of the processor (percent), a PDF that ran out of time waited for a busy
/// machine more than it worked: another run may well parse it.
const BUSY_MACHINE_PERCENT: u32 = 75;

impl ParseError {
    /// Whether the same bytes with the same settings and parser fail the same way again: all
    /// but a timeout on a machine so busy that the reader had the processor for less than
    /// three quarters of its time.
    pub fn recurs(&self) -> bool {
        match self {
            ParseError::PdfTimeout { cpu_percent, .. } => !machine_was_busy(*cpu_percent),
            _ => true,
        }
    }
}

/// Whether a reader that had the processor for `cpu_percent` of its time (when known) mostly
/// waited for a busy machine.
fn machine_was_busy(cpu_percent: Option<u32>) -> bool {
    cpu_percent.is_some_and(|percent| percent < BUSY_MACHINE_PERCENT)
}

/// Why a PDF ran out of time, as the timeout error says it.
fn timeout_cause(cpu_percent: Option<u32>) -> String {
    match cpu_percent {
        Some(percent) if machine_was_busy(cpu_percent) => format!(
            "; the machine was busy (the reader had the processor for {percent}% of that time): run again when it is less busy, or raise `pdf.time_budget_seconds`"
        ),
        _ => "; the file may be damaged or very large: raise `pdf.time_budget_seconds` to give it longer".to_owned(),
    }
}

/// Where a PDF's time budget ran out, as the timeout error says it.
fn at_page(page: u32) -> String {
    match page {
        0 => "reading the pages".to_owned(),
        page => format!("at page {page}"),
    }
}

/// What to do about a document of [`ParseError::UnknownFormat`] in a pipeline.
pub const UNKNOWN_FORMAT_ADVICE: &str = "leave such files out with the source's `exclude`, or set `format` in the parse settings (text, markdown, html, pdf or docx) if every document of the step has that format (`text` reads a legacy encoding too)";

/// What to do, in a pipeline, about a file of an unknown extension read as plain text.
pub const AS_TEXT_ADVICE: &str =
    "set `format` in the parse settings to read it otherwise, or exclude such files";

/// What to do about binary content: setting `format` helps a misnamed file only when the
/// settings do not force one already (`forced`).
fn binary_advice(forced: Option<Format>) -> String {
    match forced {
        None => "this is not a text, Markdown, HTML, PDF or DOCX file: exclude it or set `format` if it was misnamed".into(),
        Some(format) => format!(
            "this is no {} file, though it is read as one: the file is damaged or of another kind; exclude it",
            format.name()
        ),
    }
}

/// Phrase for [`ParseError::UnknownFormat`] naming the extension, if any, and why its content
/// is not read as text.
fn describe_extension(extension: Option<&str>, content: &str) -> String {
    match extension {
        Some(ext) => format!(
            " (unknown extension `.{ext}`, and the content is no PDF, DOCX or HTML file, nor plain text: {content})"
        ),
        None => " from its name or content".to_string(),
    }
}

/// What a format parser found: the Markdown rendering, its elements and metadata from the
/// content itself.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// Markdown rendering; element spans index it.
    pub markdown: String,
    /// Structural elements in reading order.
    pub elements: Vec<Element>,
    /// Metadata found in the content (e.g. front matter).
    pub metadata: Metadata,
    /// Problems the parser recovered from; they end up in the document's `debug.warnings`.
    pub warnings: Vec<String>,
    /// Format-specific figures (e.g. pages) added to the document's `debug.stats`.
    pub stats: Metadata,
}

/// Parses one document.
///
/// The title is the source's title, else a front-matter `title`, else the first level-1
/// heading, else the first heading; a title from the content is capped as section paths are
/// ([`render::section_label`]), since every chunk's context header repeats it. Metadata is the source's metadata plus what the content
/// declares (the source wins on conflicts).
pub fn parse(doc: &Document, config: &ParseConfig) -> Result<ParsedDocument, ParseError> {
    let (format, unknown) = match detect_format(doc, config) {
        Some(format) => (format, None),
        None => {
            let extension = detect::extension_of(doc);
            match detect::not_plain_text(&doc.bytes) {
                None => (Format::Text, extension),
                Some(content) => return Err(ParseError::UnknownFormat { extension, content }),
            }
        }
    };
    // Text the source read as text (a JSON string) is no file to tell binary content in.
    let decode = match doc.format {
        Some(_) => decode::decode_given_text,
        None => decode::decode,
    };
    let parsed = match format {
        Format::Markdown => decode(&doc.bytes).and_then(|d| decoded(d, markdown::parse)),
        Format::Text => decode(&doc.bytes).and_then(|d| decoded(d, text::parse)),
        Format::Html => html::parse(&doc.bytes),
        Format::Docx => docx::parse(&doc.bytes),
        Format::Pdf => pdf::parse_with(doc.bytes.clone(), &config.pdf),
    };
    let mut parsed = parsed.map_err(|e| match e {
        // A forced format is no advice for what is not that format.
        ParseError::Binary { offset, .. } => ParseError::Binary {
            offset,
            forced: config.format,
        },
        other => other,
    })?;
    if matches!(format, Format::Markdown | Format::Html) {
        let left_out = data_uri::leave_out(&mut parsed);
        if left_out > 0 {
            (parsed.stats).insert("data_uri_payloads_left_out".into(), left_out.into());
        }
    }
    if let Some(extension) = unknown {
        parsed.warnings.push(format!(
            "unknown extension `.{extension}`: read as plain text; {AS_TEXT_ADVICE}"
        ));
    }
    Ok(assemble(doc, format, parsed))
}

/// Fewest items of a list of links to the page's own anchors that make a table of contents
/// (two are a "see also"), in Markdown and HTML alike.
pub(crate) const CONTENTS_ITEMS: usize = 3;

/// Whether most of a list's in-page link `targets` name an anchor of the page (`names`): a list
/// of links to anchors that are not there (`#`, a script's placeholder) is no table of contents,
/// and a stale entry or two does not undo one.
pub(crate) fn mostly_named(targets: &[String], names: impl Fn(&str) -> bool) -> bool {
    2 * targets.iter().filter(|target| names(target)).count() > targets.len()
}

/// Whether `text`, outside any link in a list item, holds no word: only white space and
/// punctuation (`, ` or ` | ` between the links of a table of contents' entry).
pub(crate) fn no_words(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || c.is_ascii_punctuation())
}

/// Most elements (paragraphs, list items, headings, tables…) a document may have: each costs
/// a few hundred bytes through parsing and chunking, so a file of tiny ones (`a` and a blank
/// line, a million times over) would take hundreds of times its size in memory.
pub(crate) const MAX_ELEMENTS: usize = 1_000_000;

/// The error of a document with more than [`MAX_ELEMENTS`] elements.
pub(crate) fn too_many_elements() -> ParseError {
    ParseError::TooLarge {
        detail: format!(
            "the document has more than {MAX_ELEMENTS} elements (paragraphs, list items, headings, tables…), more than one document may hold: split it"
        ),
    }
}

/// Parses decoded text with `parse`, recording an encoding other than UTF-8 in the metadata
/// and a guessed one in the warnings.
fn decoded(
    decoded: decode::Decoded,
    parse: fn(String) -> Result<Parsed, ParseError>,
) -> Result<Parsed, ParseError> {
    let mut parsed = parse(decoded.text)?;
    if let Some(encoding) = decoded.encoding {
        parsed
            .metadata
            .insert("encoding".into(), encoding.to_string().into());
    }
    parsed.warnings.extend(decoded.warning);
    Ok(parsed)
}

/// Builds the [`ParsedDocument`] from a format parser's result, with its debug record.
fn assemble(doc: &Document, format: Format, parsed: Parsed) -> ParsedDocument {
    let mut warnings = parsed.warnings;
    // The source's title and metadata (a JSON lines record's fields) are bounded as the
    // content's are: every chunk carries a copy.
    let title = doc
        .title
        .as_ref()
        .map(|title| {
            let mut title = title.clone();
            if cut_long_string(&mut title) {
                warnings.push(format!(
                    "the title is longer than {MAX_METADATA_CHARS} characters: cut"
                ));
            }
            title
        })
        .or_else(|| {
            // A title from YAML front matter may be a number (`title: 1984`).
            let title = match parsed.metadata.get("title")? {
                serde_json::Value::String(text) => Cow::Borrowed(text.as_str()),
                serde_json::Value::Number(number) => Cow::Owned(number.to_string()),
                _ => return None,
            };
            let title = tidy_title(&title);
            (!placeholder_title(title)).then(|| render::section_label(title))
        })
        .or_else(|| heading_title(&parsed.elements));
    let mut metadata = bounded_metadata(doc.metadata.clone(), &mut warnings);
    for (key, value) in bounded_metadata(parsed.metadata, &mut warnings) {
        metadata.entry(key).or_insert(value);
    }
    let mut stats = stats::stats(&parsed.markdown, &parsed.elements);
    stats.extend(parsed.stats);
    let debug = ParseDebug { stats, warnings };
    ParsedDocument {
        doc_id: doc.doc_id.clone(),
        source: doc.source.clone(),
        format,
        title,
        markdown: parsed.markdown,
        elements: parsed.elements,
        metadata,
        hash: doc.hash.clone(),
        debug,
    }
}

/// Most characters of one string of metadata taken from the content.
const MAX_METADATA_CHARS: usize = 4096;
/// Most bytes (as JSON) of all metadata taken from the content.
const MAX_METADATA_BYTES: usize = 64 * 1024;

/// Metadata from the source or the content (front matter, `<title>` and `<meta>`, document
/// properties) within bounds: every chunk carries a copy, so a megabyte of it would be copied into each.
/// A longer string, at any depth of a list or mapping, is cut to [`MAX_METADATA_CHARS`]
/// characters (ending in "…"); values past [`MAX_METADATA_BYTES`] in all are left out. Both with
/// a warning.
fn bounded_metadata(metadata: Metadata, warnings: &mut Vec<String>) -> Metadata {
    let mut out = Metadata::new();
    let mut total = 0;
    let mut dropped = Vec::new();
    for (key, mut value) in metadata {
        if cut_long_strings(&mut value) {
            warnings.push(format!(
                "metadata `{key}` is longer than {MAX_METADATA_CHARS} characters: cut"
            ));
        }
        // `"key":value,` as JSON.
        let size = key.len() + 4 + serde_json::to_string(&value).map_or(usize::MAX, |j| j.len());
        if total + size > MAX_METADATA_BYTES {
            dropped.push(key);
            continue;
        }
        total += size;
        out.insert(key, value);
    }
    if !dropped.is_empty() {
        let shown: Vec<&str> = dropped.iter().take(5).map(String::as_str).collect();
        warnings.push(format!(
            "metadata from the document is more than {MAX_METADATA_BYTES} bytes: {} keys left out ({}{})",
            dropped.len(),
            shown.join(", "),
            if dropped.len() > shown.len() { ", …" } else { "" }
        ));
    }
    out
}

/// Cuts every string in `value` longer than [`MAX_METADATA_CHARS`] characters to that many
/// (ending in "…"); whether one was.
fn cut_long_strings(value: &mut serde_json::Value) -> bool {
    let items: Box<dyn Iterator<Item = &mut serde_json::Value>> = match value {
        serde_json::Value::String(text) => return cut_long_string(text),
        serde_json::Value::Array(items) => Box::new(items.iter_mut()),
        serde_json::Value::Object(map) => Box::new(map.values_mut()),
        _ => return false,
    };
    // Every string is cut, not only the first.
    let mut cut = false;
    for item in items {
        cut |= cut_long_strings(item);
    }
    cut
}

/// Cuts `text` to [`MAX_METADATA_CHARS`] characters (ending in "…") when longer; whether it was.
fn cut_long_string(text: &mut String) -> bool {
    let Some((cut, _)) = text.char_indices().nth(MAX_METADATA_CHARS) else {
        return false;
    };
    text.truncate(cut);
    text.push('…');
    true
}

/// Office programs that prefix the file name to a document's title when printing it to PDF.
const PRINTED_BY: &[&str] = &[
    "Microsoft Word - ",
    "Microsoft PowerPoint - ",
    "Microsoft Excel - ",
    "Microsoft Outlook - ",
];

/// Extensions of office files a printed title ends with.
const OFFICE_EXTENSIONS: &[&str] = &[
    ".docx", ".doc", ".rtf", ".pptx", ".ppt", ".xlsx", ".xls", ".odt", ".pages", ".pdf",
];

/// A title from the document's properties without what the program that printed it added:
/// "Microsoft Word - SPECIAL BOARD AGENDA 040616.doc" is "SPECIAL BOARD AGENDA 040616".
fn tidy_title(title: &str) -> &str {
    let title = title.trim();
    let title = PRINTED_BY
        .iter()
        .find_map(|prefix| {
            let head = title.get(..prefix.len())?;
            head.eq_ignore_ascii_case(prefix)
                .then(|| &title[prefix.len()..])
        })
        .or_else(|| {
            // "Microsoft Word -" with no name after it.
            PRINTED_BY
                .iter()
                .any(|prefix| title.eq_ignore_ascii_case(prefix.trim_end()))
                .then_some("")
        })
        .unwrap_or(title)
        .trim();
    let lower = title.to_ascii_lowercase();
    OFFICE_EXTENSIONS
        .iter()
        .find(|ext| {
            lower
                .strip_suffix(*ext)
                .is_some_and(|name| name.ends_with(|c: char| !c.is_whitespace()))
        })
        .map_or(title, |ext| title[..title.len() - ext.len()].trim_end())
}

/// Whether a title from the document's properties says nothing: empty, what a tool writes
/// when it was given none (reportlab's `untitled` and `(anonymous)`, `Untitled`, Word's
/// `Document1`), or the name of a program or temporary file (`10811.exe`, `~WRL0001.tmp`).
fn placeholder_title(title: &str) -> bool {
    let title = title.trim().to_lowercase();
    let program = [".exe", ".dll", ".tmp", ".dvi"]
        .iter()
        .any(|ext| title.ends_with(ext) && !title.contains(' '));
    let numbered = |name: &str| {
        title
            .strip_prefix(name)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    program
        || numbered("document")
        || numbered("presentation")
        || numbered("book")
        || matches!(
            title.as_str(),
            "" | "untitled"
                | "(untitled)"
                | "anonymous"
                | "(anonymous)"
                | "untitled document"
                | "no title"
        )
}

/// The first level-1 heading's text, else the first heading's text, capped as in section paths.
fn heading_title(elements: &[Element]) -> Option<String> {
    let mut headings = elements.iter().filter(|e| e.kind == ElementKind::Heading);
    let first = headings.clone().next()?;
    let top = headings.find(|e| e.level == Some(1)).unwrap_or(first);
    Some(render::section_label(&top.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, bytes: &[u8]) -> Document {
        Document::new(name.to_string(), name.to_string(), bytes.to_vec())
    }

    /// A PDF that ran out of time while it had the processor would again; one that mostly
    /// waited for a busy machine may not, and its error says what to do about each.
    #[test]
    fn a_timeout_recurs_unless_the_machine_was_busy() {
        let timeout = |cpu_percent| ParseError::PdfTimeout {
            seconds: 60,
            page: 12,
            cpu_percent,
        };
        for (percent, recurs) in [(Some(98), true), (None, true), (Some(40), false)] {
            assert_eq!(timeout(percent).recurs(), recurs, "{percent:?}");
        }
        let busy = timeout(Some(40)).to_string();
        assert!(
            busy.contains("the machine was busy") && busy.contains("40%"),
            "{busy}"
        );
        let slow = timeout(Some(98)).to_string();
        assert!(slow.contains("raise `pdf.time_budget_seconds`"), "{slow}");
        assert!(
            ParseError::Binary {
                offset: 3,
                forced: None
            }
            .recurs()
        );
    }

    /// A `source.jsonl` record's text holding a `\u0000` (one in a short record) is text, the
    /// NUL dropped and said; the same bytes as a file are binary content.
    #[test]
    fn a_nul_in_a_records_text_is_dropped_not_binary() {
        let bytes = b"Invoice 42\0 total due";
        let record = Document {
            format: Some(Format::Text),
            ..doc("r1", bytes)
        };
        let parsed = parse(&record, &ParseConfig::default()).unwrap();
        assert_eq!(parsed.elements[0].text, "Invoice 42 total due");
        assert!(
            (parsed.debug.warnings.iter()).any(|w| w.contains("1 NUL character(s) dropped")),
            "{:?}",
            parsed.debug.warnings
        );
        let file = parse(&doc("r1.txt", bytes), &ParseConfig::default());
        assert!(matches!(file, Err(ParseError::Binary { .. })), "{file:?}");
    }

    #[test]
    fn stats_and_warnings_are_recorded() {
        let parsed = parse(&doc("a.md", b"# T\n\ntext\n"), &ParseConfig::default()).unwrap();
        let stats = &parsed.debug.stats;
        assert_eq!(stats["elements"]["heading"], 1);
        assert_eq!(stats["elements"]["paragraph"], 1);
        assert_eq!(stats["chars"], 10);
        assert!(
            stats.get("ms").is_none(),
            "an output depends on its input alone"
        );
        assert!(parsed.debug.warnings.is_empty());
        assert!(
            !parsed.metadata.contains_key("parse_stats"),
            "chunks must not inherit debug data"
        );
    }

    /// Binary data of an unknown extension is a clear error; text of one (`.json`, `.yaml`) is
    /// read as text, with a warning that says so.
    #[test]
    fn unknown_extension_is_text_or_a_clear_error() {
        let err = parse(
            &doc("data.xyz", b"\x89PNG\r\n\x1a\n\0"),
            &ParseConfig::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("`.xyz`"), "{err}");
        assert!(err.to_string().contains("set `format`"), "{err}");
        let parsed = parse(
            &doc("conf.yaml", b"name: kb\nsteps: 3\n"),
            &ParseConfig::default(),
        )
        .unwrap();
        assert_eq!(parsed.format, Format::Text);
        assert_eq!(parsed.markdown, "name: kb\nsteps: 3\n");
        assert_eq!(
            parsed.debug.warnings.len(),
            1,
            "{:?}",
            parsed.debug.warnings
        );
        assert!(parsed.debug.warnings[0].contains("unknown extension `.yaml`: read as plain text"));
    }

    /// Binary content suggests setting `format` only when the settings do not force one: with
    /// `format: html` the advice was to set it.
    #[test]
    fn binary_content_advises_a_format_only_when_none_is_forced() {
        let bytes = b"<p>abc\0\0\0\0\0\0 def</p>";
        let err = parse(&doc("page.html", bytes), &ParseConfig::default()).unwrap_err();
        assert!(err.to_string().contains("set `format`"), "{err}");
        for format in [Format::Html, Format::Markdown, Format::Text] {
            let config = ParseConfig {
                format: Some(format),
                ..ParseConfig::default()
            };
            let err = parse(&doc("page.html", bytes), &config).unwrap_err();
            let message = err.to_string();
            assert!(message.contains("binary content"), "{message}");
            assert!(!message.contains("set `format`"), "{message}");
            let expected = format!(
                "this is no {} file, though it is read as one",
                format.name()
            );
            assert!(message.contains(&expected), "{message}");
        }
    }

    #[test]
    fn config_format_overrides_detection() {
        let config = ParseConfig {
            format: Some(Format::Text),
            ..ParseConfig::default()
        };
        let parsed = parse(&doc("a.md", b"# Not a heading"), &config).unwrap();
        assert_eq!(parsed.format, Format::Text);
        assert_eq!(parsed.elements[0].kind, ElementKind::Paragraph);
    }

    #[test]
    fn identity_and_metadata_are_copied() {
        let mut d = doc(
            "notes/a.md",
            b"---\ntitle: From front matter\nauthor: Ann\n---\n# H\n",
        );
        d.metadata.insert("author".into(), "Source".into());
        let parsed = parse(&d, &ParseConfig::default()).unwrap();
        assert_eq!(parsed.doc_id, "notes/a.md");
        assert_eq!(parsed.hash, d.hash);
        assert_eq!(parsed.title.as_deref(), Some("From front matter"));
        assert_eq!(parsed.metadata["author"], "Source");
        assert_eq!(parsed.metadata["title"], "From front matter");
    }

    #[test]
    fn front_matter_is_yaml_and_its_problems_are_warnings() {
        let parsed = parse(
            &doc(
                "a.md",
                b"---\ntitle: 1984\ntags: [x, y]\nauthor:\n  name: Ann\n---\n# H\n",
            ),
            &ParseConfig::default(),
        )
        .unwrap();
        assert_eq!(parsed.title.as_deref(), Some("1984"));
        assert_eq!(parsed.metadata["tags"], serde_json::json!(["x", "y"]));
        assert_eq!(parsed.metadata["author"]["name"], "Ann");
        assert!(parsed.debug.warnings.is_empty());
        let parsed = parse(
            &doc("a.md", b"---\ntitle: Hello: world\n---\n# H\n"),
            &ParseConfig::default(),
        )
        .unwrap();
        assert_eq!(parsed.title.as_deref(), Some("Hello: world"));
        assert!(
            parsed.debug.warnings[0].starts_with("front matter is not valid YAML"),
            "{:?}",
            parsed.debug.warnings
        );
    }

    #[test]
    fn title_precedence() {
        let mut d = doc("a.md", b"## Second level\n\n# First level\n");
        let parsed = parse(&d, &ParseConfig::default()).unwrap();
        assert_eq!(parsed.title.as_deref(), Some("First level"));
        let parsed = parse(&doc("a.md", b"## Only h2\n"), &ParseConfig::default()).unwrap();
        assert_eq!(parsed.title.as_deref(), Some("Only h2"));
        d.title = Some("Given".into());
        let parsed = parse(&d, &ParseConfig::default()).unwrap();
        assert_eq!(parsed.title.as_deref(), Some("Given"));
        let parsed = parse(&doc("a.txt", b"# x"), &ParseConfig::default()).unwrap();
        assert_eq!(parsed.title, None);
        // Placeholders a tool writes for no title give way to the first heading.
        for placeholder in [
            "untitled",
            "(anonymous)",
            "Untitled",
            "  ",
            "10811.exe",
            "Microsoft Word - Document1",
            "MICROSOFT WORD - Document12.docx",
            "Microsoft Word -",
        ] {
            let text = format!("---\ntitle: \"{placeholder}\"\n---\n# Real title\n\ntext\n");
            let parsed = parse(&doc("a.md", text.as_bytes()), &ParseConfig::default()).unwrap();
            assert_eq!(parsed.title.as_deref(), Some("Real title"), "{placeholder}");
        }
        // What the program that printed it added goes; the file's name is the title.
        for (given, title) in [
            ("Microsoft Word - report.docx", "report"),
            (
                "Microsoft Word - SPECIAL BOARD AGENDA 040616.doc",
                "SPECIAL BOARD AGENDA 040616",
            ),
            ("Notes on .doc", "Notes on .doc"),
            ("Report.pdf", "Report"),
            ("Setup.exe explained", "Setup.exe explained"),
        ] {
            let text = format!("---\ntitle: {given}\n---\n# Heading\n");
            let parsed = parse(&doc("a.md", text.as_bytes()), &ParseConfig::default()).unwrap();
            assert_eq!(parsed.title.as_deref(), Some(title), "{given}");
            assert_eq!(
                parsed.metadata["title"], given,
                "the metadata keeps it as given"
            );
        }
    }

    #[test]
    fn empty_documents_have_no_elements() {
        for bytes in [&b""[..], b"  \n\n\t \n", b"\xEF\xBB\xBF"] {
            for name in ["a.md", "a.txt"] {
                let parsed = parse(&doc(name, bytes), &ParseConfig::default()).unwrap();
                assert!(parsed.elements.is_empty(), "{name} {bytes:?}");
            }
        }
    }

    #[test]
    fn decoding_errors_surface() {
        let err = parse(
            &doc("a.md", b"ok\xFF\x01\x02\x03\x04\x05\x06no"),
            &ParseConfig::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, ParseError::InvalidUtf8 { offset: 2 }),
            "{err}"
        );
        let err = parse(&doc("a.txt", b"ab\0cd"), &ParseConfig::default()).unwrap_err();
        assert!(
            err.to_string().contains("binary content, not text"),
            "{err}"
        );
    }

    #[test]
    fn latin1_and_cp1252_text_is_decoded_and_its_encoding_recorded() {
        for name in ["a.md", "a.txt"] {
            let parsed = parse(
                &doc(name, b"Caf\xE9 cr\xE8me \x93br\xFBl\xE9e\x94\n"),
                &ParseConfig::default(),
            )
            .unwrap();
            assert_eq!(parsed.elements[0].text, "Café crème \u{201C}brûlée\u{201D}");
            assert_eq!(parsed.metadata["encoding"], "windows-1252");
            assert_eq!(
                parsed.debug.warnings.len(),
                1,
                "{:?}",
                parsed.debug.warnings
            );
        }
        let parsed = parse(&doc("a.md", b"plain\n"), &ParseConfig::default()).unwrap();
        assert!(!parsed.metadata.contains_key("encoding"));
    }

    #[test]
    fn utf16_markdown_is_decoded_before_parsing() {
        let text = "# Überschrift\n\nText mit Ümläuten.\n";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let parsed = parse(&doc("de.md", &bytes), &ParseConfig::default()).unwrap();
        assert_eq!(parsed.markdown, text);
        assert_eq!(parsed.title.as_deref(), Some("Überschrift"));
        let para = &parsed.elements[1];
        assert_eq!(
            &parsed.markdown[para.span[0]..para.span[1]],
            "Text mit Ümläuten."
        );
    }

    #[test]
    fn a_long_heading_is_not_copied_into_every_section_path() {
        let heading = "title ".repeat(17_000);
        let paragraphs: String = (0..2000).map(|i| format!("para {i}.\n\n")).collect();
        let md = format!("# {heading}\n\n{paragraphs}");
        let html = format!(
            "<html><body><h1>{heading}</h1>{}</body></html>",
            (0..2000)
                .map(|i| format!("<p>para {i}.</p>"))
                .collect::<String>()
        );
        for (name, bytes) in [("a.md", md.as_bytes()), ("a.html", html.as_bytes())] {
            let parsed = parse(&doc(name, bytes), &ParseConfig::default()).unwrap();
            assert_eq!(parsed.elements[0].text, heading.trim(), "{name}");
            assert!(
                parsed.title.as_ref().unwrap().chars().count() <= 201,
                "{name}"
            );
            let section_bytes: usize = parsed
                .elements
                .iter()
                .flat_map(|e| &e.section)
                .map(String::len)
                .sum();
            assert!(
                section_bytes < 2001 * (render::MAX_SECTION_CHARS + 3),
                "{name}: {section_bytes}"
            );
            assert_eq!(parsed.elements.len(), 2001, "{name}");
        }
    }

    /// Every element carries its section path: 900,000 paragraphs under six headings of 200
    /// characters took 3.8 GB to parse (a 2.7 MB file), and their checkpoint could not be
    /// read back. Past [`render::MAX_SECTION_PATH_BYTES`] of paths the document is refused,
    /// before its paths take more.
    #[test]
    fn section_paths_past_their_budget_refuse_the_document() {
        let headings: String = (1..=6)
            .map(|level| format!("{} {}\n\n", "#".repeat(level), "long heading ".repeat(20)))
            .collect();
        let paragraphs = "a\n\n".repeat(60_000);
        let md = format!("{headings}{paragraphs}");
        let html = format!(
            "<html><body>{}{}</body></html>",
            (1..=6)
                .map(|level| format!("<h{level}>{}</h{level}>", "long heading ".repeat(20)))
                .collect::<String>(),
            "<p>a</p>".repeat(60_000)
        );
        for (name, bytes) in [("a.md", md.as_bytes()), ("a.html", html.as_bytes())] {
            let err = parse(&doc(name, bytes), &ParseConfig::default()).unwrap_err();
            assert!(
                matches!(err, ParseError::TooLarge { .. })
                    && err.to_string().contains("section paths"),
                "{name}: {err}"
            );
        }
        // Short headings over as many paragraphs are no trouble.
        let md = format!("# Short\n\n{paragraphs}");
        assert!(parse(&doc("b.md", md.as_bytes()), &ParseConfig::default()).is_ok());
    }

    /// A JSON lines record's title and extra fields are bounded as the content's metadata is:
    /// a 6 MB field was copied into each of a document's chunks (13 GB for one record).
    #[test]
    fn the_sources_title_and_metadata_are_bounded() {
        let mut record = doc("r1", b"some text");
        record.title = Some("t".repeat(1_000_000));
        record
            .metadata
            .insert("blob".into(), "b".repeat(6_000_000).into());
        record.metadata.insert("lang".into(), "en".into());
        let parsed = parse(&record, &ParseConfig::default()).unwrap();
        assert_eq!(
            parsed.title.unwrap().chars().count(),
            MAX_METADATA_CHARS + 1
        );
        let blob = parsed.metadata["blob"].as_str().unwrap();
        assert_eq!(blob.chars().count(), MAX_METADATA_CHARS + 1);
        assert_eq!(parsed.metadata["lang"], "en");
        let warnings = &parsed.debug.warnings;
        assert!(warnings.iter().any(|w| w.contains("the title is longer")));
        assert!(warnings.iter().any(|w| w.contains("`blob`")));
    }

    #[test]
    fn metadata_from_the_content_is_bounded() {
        let page = format!(
            "<html><head><title>{}</title></head><body><p>text</p></body></html>",
            "long title ".repeat(100_000)
        );
        let parsed = parse(&doc("a.html", page.as_bytes()), &ParseConfig::default()).unwrap();
        let title = parsed.metadata["title"].as_str().unwrap();
        assert_eq!(title.chars().count(), MAX_METADATA_CHARS + 1);
        assert!(parsed.title.unwrap().chars().count() <= 201);
        assert!(parsed.debug.warnings.iter().any(|w| w.contains("`title`")));
        let front: String = (0..10_000)
            .map(|i| format!("key{i}: {}\n", "v".repeat(100)))
            .collect();
        let md = format!("---\n{front}---\n# H\n");
        let parsed = parse(&doc("a.md", md.as_bytes()), &ParseConfig::default()).unwrap();
        let size = serde_json::to_string(&parsed.metadata).unwrap().len();
        assert!(size <= MAX_METADATA_BYTES + 2, "{size}");
        assert!(parsed.metadata.len() > 100);
        assert!(
            parsed
                .debug
                .warnings
                .iter()
                .any(|w| w.contains("keys left out"))
        );
        // Strings in lists and mappings are cut too.
        let md = format!(
            "---\ntags: [short, {}]\nauthor:\n  bio: {}\n---\n# H\n",
            "t".repeat(MAX_METADATA_CHARS + 10),
            "b".repeat(MAX_METADATA_CHARS + 10)
        );
        let parsed = parse(&doc("a.md", md.as_bytes()), &ParseConfig::default()).unwrap();
        assert_eq!(parsed.metadata["tags"][0], "short");
        let long = parsed.metadata["tags"][1].as_str().unwrap();
        assert_eq!(long.chars().count(), MAX_METADATA_CHARS + 1);
        let bio = parsed.metadata["author"]["bio"].as_str().unwrap();
        assert_eq!(bio.chars().count(), MAX_METADATA_CHARS + 1);
        for key in ["`tags`", "`author`"] {
            assert!(
                parsed.debug.warnings.iter().any(|w| w.contains(key)),
                "{:?}",
                parsed.debug.warnings
            );
        }
        // Ordinary metadata is untouched.
        let parsed = parse(
            &doc("a.md", b"---\ntitle: T\nauthor: Ann\n---\nx\n"),
            &ParseConfig::default(),
        )
        .unwrap();
        assert_eq!(parsed.metadata["author"], "Ann");
        assert!(parsed.debug.warnings.is_empty());
    }

    /// A file of tiny elements cannot make the parser hold hundreds of times its size: past
    /// [`MAX_ELEMENTS`] paragraphs or items, Markdown and text are refused; at the limit, read.
    #[test]
    fn a_document_of_more_than_the_most_elements_is_refused() {
        for (name, unit) in [("a.md", "- a\n"), ("a.txt", "a\n\n")] {
            let over = unit.repeat(MAX_ELEMENTS + 1);
            let err = parse(&doc(name, over.as_bytes()), &ParseConfig::default()).unwrap_err();
            assert!(
                err.to_string().contains("more than 1000000 elements"),
                "{name}: {err}"
            );
        }
        let at = "a\n\n".repeat(MAX_ELEMENTS);
        let parsed = parse(&doc("a.txt", at.as_bytes()), &ParseConfig::default()).unwrap();
        assert_eq!(parsed.elements.len(), MAX_ELEMENTS);
    }

    #[test]
    fn config_serde_round_trip() {
        let config: ParseConfig = serde_json::from_str(r#"{"format":"markdown"}"#).unwrap();
        assert_eq!(config.format, Some(Format::Markdown));
        assert!(serde_json::from_str::<ParseConfig>(r#"{"fromat":"text"}"#).is_err());
        assert_eq!(
            serde_json::to_string(&ParseConfig::default()).unwrap(),
            "{}"
        );
    }
}
