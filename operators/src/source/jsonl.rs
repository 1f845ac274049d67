//! `source.jsonl`: one document per line of a JSON Lines file.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{DocumentSource, SourceEvent, SourceItemError, SourceWarning};
use crate::model::{Document, Format};

fn default_id_field() -> String {
    "_id".to_owned()
}

fn default_title_field() -> Option<String> {
    Some("title".to_owned())
}

fn default_text_field() -> String {
    "text".to_owned()
}

fn default_format() -> Format {
    Format::Text
}

fn default_max_line_bytes() -> u64 {
    64 * 1024 * 1024
}

/// Settings of `source.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonlConfig {
    /// The JSON Lines file (relative to the pipeline file).
    pub path: String,
    /// The field holding each record's id (string or number); it becomes the `doc_id`.
    #[serde(default = "default_id_field")]
    pub id_field: String,
    /// The field holding the title, if any (`null` for none).
    #[serde(default = "default_title_field")]
    pub title_field: Option<String>,
    /// The field holding the text.
    #[serde(default = "default_text_field")]
    pub text_field: String,
    /// How `parse` should read the text.
    #[serde(default = "default_format")]
    pub format: Format,
    /// Lines longer than this many bytes become error records.
    #[serde(default = "default_max_line_bytes")]
    #[schemars(range(min = 1))]
    pub max_line_bytes: u64,
    /// Put before every `doc_id` (`wiki/`), so that two sources feeding one step keep files
    /// or records of the same name apart.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id_prefix: String,
}

impl JsonlConfig {
    /// Problems with the settings as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        super::id_prefix_problems(&self.id_prefix)
    }
}

/// What is wrong with one line: `id`, the record's id when it could be read.
struct RecordError {
    id: Option<String>,
    message: String,
}

impl RecordError {
    /// A line whose record's id cannot be read.
    fn unplaced(message: impl Into<String>) -> Self {
        RecordError {
            id: None,
            message: message.into(),
        }
    }
}

/// Reads records from a JSON Lines file; every other field of a record becomes metadata.
#[derive(Debug)]
pub struct JsonlSource {
    config: JsonlConfig,
    path: PathBuf,
    /// The file as the pipeline names it, for each document's `source`.
    named: String,
}

impl JsonlSource {
    /// A source over `config.path` resolved against `base` (the pipeline file's folder).
    pub fn new(config: &JsonlConfig, base: &Path) -> Self {
        JsonlSource {
            config: config.clone(),
            path: base.join(&config.path),
            named: super::normalize(Path::new(&config.path))
                .display()
                .to_string(),
        }
    }

    /// Its file, as a [`super::Listing`] of one (none when the file cannot be read).
    pub fn listing(&self) -> super::Listing {
        let Ok(metadata) = std::fs::metadata(&self.path) else {
            return Vec::new();
        };
        vec![(self.named.clone(), metadata.len(), metadata.modified().ok())]
    }

    fn name(&self) -> String {
        self.path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.config.path.clone())
    }

    /// Turns one line into a document, or says what is wrong with it. Its `source` is the file
    /// as the pipeline names it and the id (`corpus.jsonl#42`), not the line: a record that
    /// moves in the file is the same document.
    /// A record whose strings hold lone UTF-16 surrogate escapes (`\ud83d`, an emoji cut in
    /// half by JavaScript's `slice`) is read with U+FFFD for each, and a warning says so.
    fn record(&self, line: &[u8]) -> Result<(Document, Option<String>), RecordError> {
        // A byte-order mark (editors write one at the start of a file) is not part of the JSON.
        let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        let value: Value = match serde_json::from_slice(line) {
            Ok(value) => value,
            Err(err) => match lone_surrogates_replaced(line) {
                Some((repaired, count)) => {
                    let value = serde_json::from_slice(&repaired)
                        .map_err(|err| RecordError::unplaced(format!("invalid JSON: {err}")))?;
                    let warning = format!(
                        "{count} lone UTF-16 surrogate escape(s) (half of a character, `\\ud83d`) read as U+FFFD"
                    );
                    return (self.document(value, &repaired)).map(|doc| (doc, Some(warning)));
                }
                None => return Err(RecordError::unplaced(format!("invalid JSON: {err}"))),
            },
        };
        self.document(value, line).map(|doc| (doc, None))
    }

    /// The document of a record's JSON `value` (read from `line`), or what is wrong with it.
    fn document(&self, value: Value, line: &[u8]) -> Result<Document, RecordError> {
        let Value::Object(mut fields) = value else {
            return Err(RecordError::unplaced("a record must be a JSON object"));
        };
        let id = match fields.remove(&self.config.id_field) {
            Some(Value::String(id)) if !id.is_empty() => id,
            Some(Value::Number(id)) => number_text(line, &self.config.id_field, &id),
            Some(_) => {
                return Err(RecordError::unplaced(format!(
                    "field `{}` must be a non-empty string or a number",
                    self.config.id_field
                )));
            }
            None => {
                return Err(RecordError::unplaced(format!(
                    "no `{}` field (set id_field to the field holding the id)",
                    self.config.id_field
                )));
            }
        };
        // Past here the record's document is known: a problem fails it alone.
        let of = |message: String| RecordError {
            id: Some(id.clone()),
            message,
        };
        let text = match fields.remove(&self.config.text_field) {
            Some(Value::String(text)) => text,
            // A missing or null text is far more often a wrong `text_field` or a broken export
            // than an empty document: say so rather than index nothing in silence.
            Some(Value::Null) => {
                return Err(of(format!(
                    "field `{}` is null: give a string (\"\" for a document with no text)",
                    self.config.text_field
                )));
            }
            Some(_) => {
                return Err(of(format!(
                    "field `{}` must be a string",
                    self.config.text_field
                )));
            }
            None => {
                return Err(of(format!(
                    "no `{}` field (set text_field to the field holding the text)",
                    self.config.text_field
                )));
            }
        };
        let title = match self
            .config
            .title_field
            .as_ref()
            .and_then(|field| fields.remove(field))
        {
            Some(Value::String(title)) if !title.trim().is_empty() => Some(title),
            Some(Value::Number(number)) => Some(number_text(
                line,
                self.config.title_field.as_deref().unwrap_or_default(),
                &number,
            )),
            Some(Value::String(_) | Value::Null) | None => None,
            Some(_) => {
                return Err(of(format!(
                    "field `{}` must be a string or a number",
                    self.config.title_field.as_deref().unwrap_or_default()
                )));
            }
        };
        let source = format!("{}#{id}", self.named);
        let mut doc = Document::new(id, source, text.into_bytes());
        doc.format = Some(self.config.format);
        doc.title = title;
        doc.metadata = fields;
        Ok(doc)
    }
}

/// Reads one line of at most `limit` bytes into `buf`; returns false at the end of the input.
/// A longer line is consumed to its end and reported by the returned length exceeding `limit`.
fn read_bounded_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: u64,
) -> std::io::Result<(bool, u64)> {
    buf.clear();
    let read = reader
        .by_ref()
        .take(limit.saturating_add(1))
        .read_until(b'\n', buf)? as u64;
    if read == 0 {
        return Ok((false, 0));
    }
    let mut total = read;
    if read > limit && buf.last() != Some(&b'\n') {
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let more = reader.by_ref().take(1 << 20).read_until(b'\n', &mut rest)? as u64;
            total += more;
            if more == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
        buf.clear();
    }
    Ok((true, total))
}

impl DocumentSource for JsonlSource {
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(SourceEvent) -> ControlFlow<()>,
    ) -> Result<(), std::io::Error> {
        // A FIFO would block the open until a writer comes, and a device never ends: only
        // a regular file is read (checked before opening, which is what blocks).
        if fs::metadata(&self.path).is_ok_and(|meta| !meta.is_file()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{} is not a regular file (a FIFO, socket or device): source.jsonl reads a file to its end; write the records to a file first",
                    self.path.display()
                ),
            ));
        }
        let file = super::open_regular_file(&self.path).map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!("cannot open {}: {err}", self.path.display()),
            )
        })?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let name = self.name();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut buf = Vec::new();
        let mut number = 0usize;
        let mut records = 0usize;
        loop {
            let (more, length) =
                read_bounded_line(&mut reader, &mut buf, self.config.max_line_bytes)?;
            if !more {
                break;
            }
            number += 1;
            let location = format!("{name}:{number}");
            let event = if length > self.config.max_line_bytes {
                SourceEvent::Unplaced(SourceItemError {
                    doc_id: location.clone(),
                    message: format!(
                        "the line is longer than max_line_bytes ({})",
                        self.config.max_line_bytes
                    ),
                })
            } else if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            } else {
                match self.record(&buf) {
                    Ok((doc, warning)) => match seen.get(&doc.doc_id) {
                        Some(first) => SourceEvent::Error(SourceItemError {
                            doc_id: doc.doc_id.clone(),
                            message: format!(
                                "{location}: duplicate id `{}` (first at line {first}); ids must be unique",
                                doc.doc_id
                            ),
                        }),
                        None => {
                            seen.insert(doc.doc_id.clone(), number);
                            if let Some(message) = warning {
                                let warning = SourceEvent::Warning(SourceWarning {
                                    doc_id: doc.doc_id.clone(),
                                    message: format!("{location}: {message}"),
                                });
                                if visit(warning).is_break() {
                                    return Ok(());
                                }
                            }
                            SourceEvent::Document(doc)
                        }
                    },
                    // The record's document failed, and is not gone.
                    Err(RecordError {
                        id: Some(id),
                        message,
                    }) => SourceEvent::Error(SourceItemError {
                        doc_id: id,
                        message: format!("{location}: {message}"),
                    }),
                    // Its id (`file:line`) tells the line; it may have been any document.
                    Err(RecordError { id: None, message }) => {
                        SourceEvent::Unplaced(SourceItemError {
                            doc_id: location.clone(),
                            message,
                        })
                    }
                }
            };
            let found = !matches!(event, SourceEvent::Warning(_));
            records += usize::from(found);
            if visit(event).is_break() {
                return Ok(());
            }
        }
        if records == 0 {
            let _ = visit(SourceEvent::Warning(SourceWarning {
                doc_id: String::new(),
                message: format!("found no records in {}; check `path`", self.path.display()),
            }));
        }
        Ok(())
    }
}

/// A number of field `field` of the record on `line` as text: as written when it is no whole
/// number of 64 bits, which serde_json keeps as a float (two 20-digit ids were one, `1e2` was
/// `100.0`); else its digits.
fn number_text(line: &[u8], field: &str, number: &serde_json::Number) -> String {
    if !number.is_f64() {
        return number.to_string();
    }
    top_level_value(line, field)
        .and_then(|raw| std::str::from_utf8(raw).ok())
        .map_or_else(|| number.to_string(), str::to_owned)
}

/// The bytes of the value of `key` in the JSON object on `line` (valid JSON), as written.
fn top_level_value<'a>(line: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let mut at = skip_white(line, 0);
    if line.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip_white(line, at);
        if line.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = value_end(line, at)?;
        let found: String = serde_json::from_slice(&line[at..key_end]).ok()?;
        at = skip_white(line, key_end);
        if line.get(at) != Some(&b':') {
            return None;
        }
        let start = skip_white(line, at + 1);
        let end = value_end(line, start)?;
        if found == key {
            return Some(&line[start..end]);
        }
        at = skip_white(line, end);
        if line.get(at) != Some(&b',') {
            return None;
        }
        at += 1;
    }
}

/// Past JSON white space from `at`.
fn skip_white(line: &[u8], mut at: usize) -> usize {
    while line
        .get(at)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
    {
        at += 1;
    }
    at
}

/// Where the JSON value starting at `start` ends: a string past its closing quote, an object or
/// array past its closing bracket, a number or literal before the next delimiter.
fn value_end(line: &[u8], start: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (offset, &c) in line.get(start..)?.iter().enumerate() {
        let at = start + offset;
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return Some(at + 1);
                    }
                }
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n' if depth == 0 => return Some(at),
            _ => {}
        }
    }
    (depth == 0 && !in_string).then_some(line.len())
}

/// `line` with each lone UTF-16 surrogate escape (`\\ud83d` not followed by its low half, a
/// low half alone) written `\\ufffd`, and how many there were; `None` when it has none. Every
/// backslash of valid JSON starts an escape inside a string, so escapes are read in order.
fn lone_surrogates_replaced(line: &[u8]) -> Option<(Vec<u8>, usize)> {
    let unit = |at: usize| -> Option<u16> {
        let digits = line.get(at..at + 6)?.strip_prefix(b"\\u")?;
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let mut out = Vec::with_capacity(line.len());
    let mut count = 0;
    let mut at = 0;
    while at < line.len() {
        if line[at] != b'\\' {
            out.push(line[at]);
            at += 1;
            continue;
        }
        match unit(at) {
            Some(0xD800..=0xDBFF)
                if unit(at + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) =>
            {
                out.extend_from_slice(&line[at..at + 12]);
                at += 12;
            }
            Some(0xD800..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                count += 1;
                at += 6;
            }
            // Another escape: its backslash and the character it escapes.
            _ => {
                out.extend_from_slice(&line[at..(at + 2).min(line.len())]);
                at += 2;
            }
        }
    }
    (count > 0).then_some((out, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `engine run --watch` compares listings: the file's, none while it is missing, another
    /// once it is written.
    #[test]
    fn a_listing_is_the_files_and_changes_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docs.jsonl");
        let source = JsonlSource::new(&config(Path::new("docs.jsonl")), dir.path());
        assert!(source.listing().is_empty());
        fs::write(&path, "{\"_id\": \"a\", \"text\": \"x\"}\n").unwrap();
        let first = source.listing();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].0, "docs.jsonl");
        fs::write(&path, "{\"_id\": \"a\", \"text\": \"longer\"}\n").unwrap();
        assert_ne!(source.listing(), first);
    }

    fn config(path: &Path) -> JsonlConfig {
        JsonlConfig {
            path: path.display().to_string(),
            id_field: default_id_field(),
            title_field: default_title_field(),
            text_field: default_text_field(),
            format: Format::Text,
            max_line_bytes: 100,
            id_prefix: String::new(),
        }
    }

    /// The largest `max_line_bytes` a pipeline can give (u64::MAX) overflowed the read's
    /// bound and panicked: the whole source failed.
    #[test]
    fn the_largest_line_limit_reads_lines() {
        let mut reader = std::io::Cursor::new(b"{\"_id\": \"a\"}\n".to_vec());
        let mut buf = Vec::new();
        let (read, length) = read_bounded_line(&mut reader, &mut buf, u64::MAX).unwrap();
        assert!(read);
        assert_eq!(length, 13);
    }

    fn scan(text: &str) -> Vec<SourceEvent> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.jsonl");
        fs::write(&path, text).unwrap();
        let mut source = JsonlSource::new(&config(Path::new("./data.jsonl")), dir.path());
        let mut events = Vec::new();
        source
            .scan(&mut |event| {
                events.push(event);
                ControlFlow::Continue(())
            })
            .unwrap();
        events
    }

    /// A lone UTF-16 surrogate escape (`\\ud83d`, an emoji cut in half by JavaScript's
    /// `slice`; `\\udcff`, Python's `surrogateescape`) is read as U+FFFD with a warning: the
    /// whole record was lost as invalid JSON. A whole pair and an escaped backslash before `u`
    /// are text as they were.
    #[test]
    fn a_lone_surrogate_escape_is_read_as_a_replacement_character() {
        let events = scan(concat!(
            "{\"_id\": \"cut\", \"text\": \"Loved it \\ud83d\"}\n",
            "{\"_id\": \"low\", \"text\": \"\\udcff bytes \\ud83d\\ude00 \\\\ud83d\"}\n",
        ));
        let texts: Vec<(String, String)> = (events.iter())
            .filter_map(|event| match event {
                SourceEvent::Document(doc) => Some((
                    doc.doc_id.clone(),
                    String::from_utf8(doc.bytes.to_vec()).unwrap(),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            texts,
            [
                ("cut".to_owned(), "Loved it \u{fffd}".to_owned()),
                ("low".to_owned(), "\u{fffd} bytes 😀 \\ud83d".to_owned()),
            ]
        );
        let warnings: Vec<&str> = (events.iter())
            .filter_map(|event| match event {
                SourceEvent::Warning(w) => Some(w.message.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("data.jsonl:1: 1 lone UTF-16 surrogate escape(s)"),
            "{warnings:?}"
        );
        assert_eq!(lone_surrogates_replaced(br#"{"a": "\\ud83d"}"#), None);
    }

    /// A numeric id or title is its text as written when serde_json would keep it as a float:
    /// two 20-digit ids were one id (and the second a duplicate), `1e2` was `100.0`. Whole
    /// numbers of 64 bits stay their digits.
    #[test]
    fn a_numeric_id_is_read_as_written() {
        let events = scan(concat!(
            "{\"_id\": 18446744073709551616, \"text\": \"first\"}\n",
            "{\"text\": \"second\", \"nested\": {\"_id\": 1}, \"_id\": 18446744073709551617}\n",
            "{\"_id\": 1e2, \"title\": 2.50, \"text\": \"third\"}\n",
            "{ \"_id\" : -12 , \"text\": \"fourth\"}\n",
        ));
        let docs: Vec<(String, Option<String>)> = (events.iter())
            .filter_map(|event| match event {
                SourceEvent::Document(doc) => Some((doc.doc_id.clone(), doc.title.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            docs,
            [
                ("18446744073709551616".to_owned(), None),
                ("18446744073709551617".to_owned(), None),
                ("1e2".to_owned(), Some("2.50".to_owned())),
                ("-12".to_owned(), None),
            ]
        );
        assert_eq!(
            top_level_value(br#"{"a": "x\"}", "b": [1, {"c": 2}], "_id": 3.5}"#, "_id"),
            Some(&b"3.5"[..])
        );
    }

    /// A FIFO (which blocks the open until a writer comes) or a device (which never ends) is
    /// refused at once, never read.
    #[test]
    fn a_fifo_or_device_is_refused_before_it_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.jsonl");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.jsonl")).unwrap();
        for name in ["./fifo.jsonl", "./zero.jsonl"] {
            let mut source = JsonlSource::new(&config(Path::new(name)), dir.path());
            let err = source.scan(&mut |_| ControlFlow::Continue(())).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
    }

    #[test]
    fn reads_records_with_metadata_and_reports_bad_lines_by_number() {
        let long = "x".repeat(200);
        let events = scan(&format!(
            "{{\"_id\": \"a\", \"title\": \"A\", \"text\": \"alpha\", \"lang\": \"en\"}}\n\nnot json\n{{\"_id\": 7, \"text\": \"seven\"}}\n{{\"_id\": \"a\", \"text\": \"again\"}}\n{{\"_id\": \"b\", \"text\": \"{long}\"}}\n{{\"text\": \"no id\"}}\n"
        ));
        let summary: Vec<String> = events
            .iter()
            .map(|event| match event {
                SourceEvent::Document(doc) => format!("doc {} {}", doc.doc_id, doc.source),
                SourceEvent::Error(err) | SourceEvent::FolderError(err) => {
                    format!("error {}: {}", err.doc_id, err.message)
                }
                SourceEvent::Unplaced(err) => format!("unplaced {}: {}", err.doc_id, err.message),
                SourceEvent::Warning(w) => format!("warning {}", w.doc_id),
            })
            .collect();
        assert_eq!(summary[0], "doc a data.jsonl#a");
        // A line of no readable id is named by its place, and may have been any document;
        // one whose id is read fails that document, the line said in the message.
        assert!(summary[1].starts_with("unplaced data.jsonl:3: invalid JSON"));
        assert_eq!(summary[2], "doc 7 data.jsonl#7");
        assert_eq!(
            summary[3],
            "error a: data.jsonl:5: duplicate id `a` (first at line 1); ids must be unique"
        );
        assert!(
            summary[4].starts_with("unplaced data.jsonl:6: the line is longer than max_line_bytes")
        );
        assert!(summary[5].starts_with("unplaced data.jsonl:7: no `_id` field"));
        assert_eq!(summary.len(), 6);
        let SourceEvent::Document(doc) = &events[0] else {
            panic!()
        };
        assert_eq!(doc.title.as_deref(), Some("A"));
        assert_eq!(&*doc.bytes, b"alpha");
        assert_eq!(doc.metadata["lang"], "en");
        assert_eq!(doc.format, Some(Format::Text));
    }

    #[test]
    fn a_missing_or_null_text_is_an_error_and_an_empty_one_a_document() {
        let events = scan(
            "{\"_id\": \"a\", \"body\": \"alpha\"}\n{\"_id\": \"b\", \"text\": null}\n{\"_id\": \"c\", \"text\": 3}\n{\"_id\": \"d\", \"text\": \"\"}\n",
        );
        let errors: Vec<(&str, &str)> = events
            .iter()
            .filter_map(|event| match event {
                SourceEvent::Error(err) => Some((err.doc_id.as_str(), err.message.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        // Each fails its own document, by id, so the index keeps what it held of it (a null
        // text used to fail `data.jsonl:2`, and record `b` was taken as gone).
        let ids: Vec<&str> = errors.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert!(
            errors[0]
                .1
                .contains("data.jsonl:1: no `text` field (set text_field")
        );
        assert!(errors[1].1.contains("data.jsonl:2: field `text` is null"));
        assert!(errors[2].1.contains("field `text` must be a string"));
        assert!(matches!(events.last(), Some(SourceEvent::Document(doc)) if doc.bytes.is_empty()));
    }

    #[test]
    fn a_record_that_moves_in_the_file_is_the_same_document() {
        let first =
            scan("{\"_id\": \"a\", \"text\": \"alpha\"}\n{\"_id\": \"b\", \"text\": \"bravo\"}\n");
        let moved = scan(
            "{\"_id\": \"b\", \"text\": \"bravo\"}\n\n{\"_id\": \"a\", \"text\": \"alpha\"}\n",
        );
        let document = |events: &[SourceEvent], id: &str| -> String {
            events
                .iter()
                .find_map(|event| match event {
                    SourceEvent::Document(doc) if doc.doc_id == id => {
                        Some(serde_json::to_string(doc).unwrap())
                    }
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(document(&first, "a"), document(&moved, "a"));
    }

    #[test]
    fn a_byte_order_mark_and_a_numeric_title_are_read() {
        let events = scan(
            "\u{feff}{\"_id\": \"a\", \"title\": 1984, \"text\": \"alpha\"}\n{\"_id\": \"b\", \"title\": [1], \"text\": \"beta\"}\n",
        );
        let SourceEvent::Document(doc) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(doc.title.as_deref(), Some("1984"));
        assert!(
            matches!(&events[1], SourceEvent::Error(e) if e.message.contains("must be a string or a number")),
            "{events:?}"
        );
    }

    #[test]
    fn an_empty_file_is_a_warning() {
        let events = scan("\n");
        assert!(
            matches!(&events[..], [SourceEvent::Warning(w)] if w.message.contains("found no records")),
            "{events:?}"
        );
    }
}
