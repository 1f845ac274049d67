//! A leading YAML front-matter block (`---` … `---` or `...`), read as YAML into JSON metadata;
//! or a TOML one (`+++` … `+++`, as Hugo writes it), read as TOML.
//!
//! The block is read with saphyr-parser's event stream (the parser the engine reads pipelines
//! with): scalars are typed by the YAML 1.2 core schema (plain `2020` is a number, `false` a
//! bool, `2024-01-02` and anything quoted a string), block and flow lists become lists, nested
//! mappings objects, folded and literal scalars their text, comments go; aliases and merge keys
//! (`<<: *anchor`) are expanded. Top-level keys without a value (`key:`, `key: ~`) are left out.
//! Reading is bounded: a block over [`MAX_YAML_BYTES`] is not read as YAML, and the values it
//! expands to (aliases included), their bytes and their nesting are capped.
//!
//! The block is front matter when it is a YAML mapping, or empty. A block that is valid YAML but
//! not a mapping (a paragraph between two rules) is not front matter: it stays text. A block
//! that is not valid YAML (or passes a limit) falls back to the line reader of earlier versions,
//! with a warning: it is front matter when it has a top-level `key: value` line (or nothing but
//! blank, comment, indented and list lines), and then each such line is a string (quotes
//! stripped; nested and multi-line values are left out); otherwise it stays text.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, StrInput, Tag};
use serde_json::{Map, Value};

use crate::model::Metadata;

/// Largest front-matter block read as YAML, in bytes; a larger one is read line by line.
const MAX_YAML_BYTES: usize = 1 << 20;
/// Most values (scalars, lists and mappings) front matter may expand to, aliases included.
const MAX_VALUES: usize = 100_000;
/// Most bytes of keys and text front matter may expand to, aliases and anchors included.
const MAX_TEXT_BYTES: usize = 4 << 20;
/// Deepest nesting of lists and mappings, aliases included.
const MAX_DEPTH: usize = 64;

/// A leading front-matter block split off a document.
#[derive(Debug, Default)]
pub(super) struct FrontMatter {
    /// What the block declares.
    pub metadata: Metadata,
    /// The byte offset where the rest of the document starts (0 without front matter).
    pub body_start: usize,
    /// Problems reading it (front matter that is not valid YAML).
    pub warnings: Vec<String>,
}

/// Splits a leading front-matter block off `text`.
pub(super) fn split(text: &str) -> FrontMatter {
    if let Some((content, body_start)) = fenced(text, "+++", "+++") {
        return toml_front_matter(content, body_start);
    }
    let Some((content, body_start)) = block(text) else {
        return FrontMatter::default();
    };
    let problem = if content.len() > MAX_YAML_BYTES {
        format!(
            "is larger than {} MiB, the most read as YAML",
            MAX_YAML_BYTES >> 20
        )
    } else {
        match read_yaml(content) {
            Ok((Value::Null, warnings)) => {
                return FrontMatter {
                    metadata: Metadata::new(),
                    body_start,
                    warnings,
                };
            }
            Ok((Value::Object(map), warnings)) => {
                let metadata = map.into_iter().filter(|(_, v)| !v.is_null()).collect();
                return FrontMatter {
                    metadata,
                    body_start,
                    warnings,
                };
            }
            // Valid YAML that is no mapping: a paragraph (or list) between two rules.
            Ok(_) => return FrontMatter::default(),
            Err(problem) => format!("is not valid YAML ({problem})"),
        }
    };
    match simple_pairs(content) {
        Some((metadata, repeated)) => {
            let mut warnings = vec![format!(
                "front matter {problem}: read as `key: value` lines, each value as text"
            )];
            warnings.extend(repeated);
            FrontMatter {
                metadata,
                body_start,
                warnings,
            }
        }
        None => FrontMatter::default(),
    }
}

/// The text of a leading `---` … `---` (or `...`) block and the byte offset just past it.
fn block(text: &str) -> Option<(&str, usize)> {
    fenced(text, "---", "---")
}

/// The text of a leading block between an `open` line and the first `close` line (for `---`,
/// `...` too), and the byte offset just past it.
fn fenced<'t>(text: &'t str, open: &str, close: &str) -> Option<(&'t str, usize)> {
    let mut lines = lines_with_ends(text);
    let (first, start) = lines.next()?;
    if first.trim_end() != open {
        return None;
    }
    let mut line_start = start;
    for (line, end) in lines {
        let trimmed = line.trim_end();
        if trimmed == close || (close == "---" && trimmed == "...") {
            return Some((&text[start..line_start], end));
        }
        line_start = end;
    }
    None
}

/// TOML front matter (`+++` … `+++`, as Hugo writes it), read into JSON metadata: tables as
/// objects, dates as their text. A block that is not valid TOML stays text, with a warning.
fn toml_front_matter(content: &str, body_start: usize) -> FrontMatter {
    let parsed = if content.len() > MAX_YAML_BYTES {
        Err(format!(
            "is larger than {} MiB, the most read",
            MAX_YAML_BYTES >> 20
        ))
    } else {
        content
            .parse::<toml_edit::DocumentMut>()
            .map_err(|err| format!("is not valid TOML ({})", err.message()))
    };
    match parsed {
        Ok(document) => FrontMatter {
            metadata: toml_table(document.as_table(), 0),
            body_start,
            warnings: Vec::new(),
        },
        // Not front matter after all: it stays text, as YAML that is no mapping does.
        Err(problem) => FrontMatter {
            warnings: vec![format!(
                "a `+++` block at the top {problem}: kept as text, not read as front matter"
            )],
            ..FrontMatter::default()
        },
    }
}

/// A TOML item as JSON (`None` for an empty one, or nested past [`MAX_DEPTH`]).
fn toml_item(item: &toml_edit::Item, depth: usize) -> Option<Value> {
    use toml_edit::Item;
    match item {
        Item::None => None,
        Item::Value(value) => Some(toml_value(value, depth)),
        _ if depth >= MAX_DEPTH => None,
        Item::Table(table) => Some(Value::Object(toml_table(table, depth + 1))),
        Item::ArrayOfTables(tables) => Some(Value::Array(
            (tables.iter())
                .map(|table| Value::Object(toml_table(table, depth + 1)))
                .collect(),
        )),
    }
}

/// A TOML table's items as a JSON object, its items `depth` deep.
fn toml_table(table: &toml_edit::Table, depth: usize) -> Map<String, Value> {
    table
        .iter()
        .filter_map(|(key, item)| Some((key.to_owned(), toml_item(item, depth)?)))
        .collect()
}

/// A TOML value as JSON (null past [`MAX_DEPTH`]).
fn toml_value(value: &toml_edit::Value, depth: usize) -> Value {
    use toml_edit::Value as Toml;
    if depth >= MAX_DEPTH {
        return Value::Null;
    }
    match value {
        Toml::String(text) => Value::String(text.value().clone()),
        Toml::Integer(n) => Value::from(*n.value()),
        Toml::Float(x) => serde_json::Number::from_f64(*x.value())
            .map_or_else(|| Value::String(x.value().to_string()), Value::Number),
        Toml::Boolean(b) => Value::Bool(*b.value()),
        Toml::Datetime(date) => Value::String(date.value().to_string()),
        Toml::Array(array) => Value::Array(
            array
                .iter()
                .map(|value| toml_value(value, depth + 1))
                .collect(),
        ),
        Toml::InlineTable(table) => Value::Object(
            table
                .iter()
                .map(|(key, value)| (key.to_owned(), toml_value(value, depth + 1)))
                .collect(),
        ),
    }
}

/// Lines of `text` (without their line break) with the byte offset just past their break.
fn lines_with_ends(text: &str) -> impl Iterator<Item = (&str, usize)> {
    text.split_inclusive('\n').scan(0, |offset, line| {
        *offset += line.len();
        Some((line.trim_end_matches(['\n', '\r']), *offset))
    })
}

/// Reads `yaml` (the block without its `---` lines) as one YAML document: its value (`Null` for
/// none) and warnings, or why it cannot be read (naming the line of the document).
fn read_yaml(yaml: &str) -> Result<(Value, Vec<String>), String> {
    let mut reader = Reader {
        events: Parser::new_from_str(yaml),
        peeked: None,
        anchors: HashMap::new(),
        values: 0,
        bytes: 0,
        warnings: Vec::new(),
        keys: Vec::new(),
    };
    let mut value = Value::Null;
    let mut documents = 0;
    while let Some((event, span)) = reader.next()? {
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(format!("line {}: a second YAML document", line(&span)));
                }
                if let Some((Event::DocumentEnd, _)) = reader.peek()? {
                    continue;
                }
                value = reader.node(0)?;
            }
            Event::StreamEnd => break,
            _ => {}
        }
    }
    Ok((value, reader.warnings))
}

/// The line of the document where `span` starts: the block starts on its second line.
fn line(span: &Span) -> usize {
    span.start.line() + 1
}

/// An anchored value and what copying it costs.
struct Anchor {
    value: Value,
    values: usize,
    bytes: usize,
    depth: usize,
}

/// Builds JSON from saphyr-parser's events, within the limits.
struct Reader<'a> {
    events: Parser<'a, StrInput<'a>>,
    peeked: Option<(Event<'a>, Span)>,
    anchors: HashMap<usize, Anchor>,
    /// Values built so far, copies included.
    values: usize,
    /// Bytes of keys and text built so far, copies included.
    bytes: usize,
    warnings: Vec<String>,
    /// The keys of the mappings being read, outermost first (`b` while reading `b: { x: … }`).
    keys: Vec<String>,
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Result<Option<(Event<'a>, Span)>, String> {
        if let Some(event) = self.peeked.take() {
            return Ok(Some(event));
        }
        match self.events.next() {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(err)) => Err(format!("line {}: {}", err.marker().line() + 1, err.info())),
        }
    }

    fn peek(&mut self) -> Result<Option<&(Event<'a>, Span)>, String> {
        if self.peeked.is_none() {
            self.peeked = self.next()?;
        }
        Ok(self.peeked.as_ref())
    }

    /// Counts `values` and `bytes` more built (or copied), refusing past the limits.
    fn count(&mut self, values: usize, bytes: usize, line: usize) -> Result<(), String> {
        self.values += values;
        self.bytes += bytes;
        if self.values > MAX_VALUES {
            return Err(format!(
                "line {line}: more than {MAX_VALUES} values, aliases expanded"
            ));
        }
        if self.bytes > MAX_TEXT_BYTES {
            return Err(format!(
                "line {line}: more than {} MiB of text, aliases expanded",
                MAX_TEXT_BYTES >> 20
            ));
        }
        Ok(())
    }

    /// Reads one node at nesting `depth`.
    fn node(&mut self, depth: usize) -> Result<Value, String> {
        let Some((event, span)) = self.next()? else {
            return Ok(Value::Null);
        };
        let line = line(&span);
        if depth > MAX_DEPTH {
            return Err(format!(
                "line {line}: nested deeper than {MAX_DEPTH} levels"
            ));
        }
        self.count(1, 0, line)?;
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(0, text.len(), line)?;
                (scalar(&text, style, tag.as_deref()), anchor)
            }
            Event::Alias(anchor) => return self.alias(anchor, depth, line),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.peek()? {
                        Some((Event::SequenceEnd, _)) => {
                            self.next()?;
                            break;
                        }
                        None => break,
                        Some(_) => items.push(self.node(depth + 1)?),
                    }
                }
                (Value::Array(items), anchor)
            }
            Event::MappingStart(anchor, _) => (Value::Object(self.mapping(depth)?), anchor),
            _ => (Value::Null, 0),
        };
        self.remember(anchor, &value, line)?;
        Ok(value)
    }

    /// The value of an alias, copied within the limits.
    fn alias(&mut self, anchor: usize, depth: usize, line: usize) -> Result<Value, String> {
        let Some(found) = self.anchors.get(&anchor) else {
            return Err(format!("line {line}: an alias to an unknown anchor"));
        };
        let (values, bytes, deepest) = (found.values, found.bytes, depth + found.depth);
        if deepest > MAX_DEPTH {
            return Err(format!(
                "line {line}: through an alias nested deeper than {MAX_DEPTH} levels"
            ));
        }
        // The alias itself was counted as one value.
        self.count(values.saturating_sub(1), bytes, line)?;
        Ok(self.anchors[&anchor].value.clone())
    }

    /// Reads the entries of a mapping whose start event was taken: a later key replaces an
    /// earlier one, with a warning; a key that is a list or a mapping is left out, with a warning.
    fn mapping(&mut self, depth: usize) -> Result<Map<String, Value>, String> {
        let mut map = Map::new();
        let mut written = std::collections::HashSet::new();
        while let Some((event, span)) = self.next()? {
            let line = line(&span);
            let (key, plain) = match event {
                Event::MappingEnd => break,
                Event::Scalar(text, style, anchor, tag) => {
                    self.count(1, text.len(), line)?;
                    let key = scalar(&text, style, tag.as_deref());
                    self.remember(anchor, &key, line)?;
                    (text.into_owned(), style == ScalarStyle::Plain)
                }
                Event::Alias(anchor) => match self.alias(anchor, depth + 1, line)? {
                    Value::String(text) => (text, false),
                    value @ (Value::Number(_) | Value::Bool(_)) => (value.to_string(), false),
                    _ => {
                        self.left_out_key(line)?;
                        continue;
                    }
                },
                start => {
                    self.skip_rest_of(&start)?;
                    self.left_out_key(line)?;
                    continue;
                }
            };
            self.keys.push(key.clone());
            let value = self.node(depth + 1);
            self.keys.pop();
            let value = value?;
            if key == "<<" && plain {
                merge(&mut map, value);
            } else {
                if !written.insert(key.clone()) {
                    let path: Vec<&str> = self
                        .keys
                        .iter()
                        .map(String::as_str)
                        .chain([key.as_str()])
                        .collect();
                    self.warnings.push(repeated_key(line, &path.join(".")));
                }
                map.insert(key, value);
            }
        }
        Ok(map)
    }

    /// Skips the value of a key that is not a scalar, with a warning.
    fn left_out_key(&mut self, line: usize) -> Result<(), String> {
        self.warnings.push(format!(
            "front matter line {line}: a key that is a list or a mapping is left out"
        ));
        if let Some((event, _)) = self.next()? {
            self.skip_rest_of(&event)?;
        }
        Ok(())
    }

    /// Skips the events of a node whose start event was taken.
    fn skip_rest_of(&mut self, start: &Event<'a>) -> Result<(), String> {
        if matches!(start, Event::SequenceStart(..) | Event::MappingStart(..)) {
            let mut open = 1usize;
            while open > 0 {
                match self.next()? {
                    Some((Event::SequenceStart(..) | Event::MappingStart(..), _)) => open += 1,
                    Some((Event::SequenceEnd | Event::MappingEnd, _)) => open -= 1,
                    Some(_) => {}
                    None => break,
                }
            }
        }
        Ok(())
    }

    /// Keeps an anchored value for its aliases; the copy counts towards the limits.
    fn remember(&mut self, anchor: usize, value: &Value, line: usize) -> Result<(), String> {
        if anchor == 0 {
            return Ok(());
        }
        let (values, bytes, depth) = crate::yaml_scalar::measure(value);
        self.count(0, bytes, line)?;
        self.anchors.insert(
            anchor,
            Anchor {
                value: value.clone(),
                values,
                bytes,
                depth,
            },
        );
        Ok(())
    }
}

/// Adds the keys of a merge key's mapping (or list of mappings, the first winning) that the
/// mapping has not set; keys it sets later replace them. Anything else is left out.
fn merge(map: &mut Map<String, Value>, value: Value) {
    let sources = match value {
        Value::Object(object) => vec![object],
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::Object(object) => Some(object),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    for source in sources {
        for (key, value) in source {
            if !map.contains_key(&key) {
                map.insert(key, value);
            }
        }
    }
}

/// The warning for a key (`path`, `b.x` when nested) that appears again on document line `line`.
fn repeated_key(line: usize, path: &str) -> String {
    format!(
        "front matter line {line}: key `{}` appears again; the later value is kept",
        shortened(path)
    )
}

/// `text` cut to at most 60 characters, for a warning.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Types a scalar by the YAML 1.2 core schema (as the engine reads pipelines): quoted and block
/// scalars are strings, and so are `.inf` and `.nan`, which JSON cannot hold. An integer past
/// 64 bits stays as written: a float would change an id of 20 digits.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let value = crate::yaml_scalar::core_schema_scalar(
        text,
        style == ScalarStyle::Plain,
        tag.map(|tag| tag.suffix.as_str()),
    );
    match value {
        Value::Number(number)
            if number.is_f64() && crate::yaml_scalar::is_decimal_integer(text) =>
        {
            Value::String(text.to_owned())
        }
        value => value,
    }
}

/// The line reader for front matter that is not valid YAML: its top-level `key: value` lines
/// as strings, with a warning for each key that appears again (as the YAML reader warns: the
/// later value is kept, and a later empty value leaves the key out, as YAML's `key:` does), or
/// `None` when the block does not look like front matter (it has lines that are none of
/// `key: value`, blank, comment, indented or list lines, and no `key: value` line).
fn simple_pairs(content: &str) -> Option<(Metadata, Vec<String>)> {
    let mut metadata = Metadata::new();
    let mut warnings = Vec::new();
    let mut written = std::collections::HashSet::new();
    let mut recognised = 0;
    let mut other = 0;
    for (index, line) in content.lines().enumerate() {
        match key_value(line) {
            Some((key, value)) => {
                recognised += 1;
                if !written.insert(key) {
                    // The block starts on the document's second line.
                    warnings.push(repeated_key(index + 2, key));
                }
                if value.is_empty() {
                    metadata.remove(key);
                } else {
                    metadata.insert(key.to_string(), value.to_string().into());
                }
            }
            None if is_yaml_continuation(line) => {}
            None => other += 1,
        }
    }
    (recognised > 0 || other == 0).then_some((metadata, warnings))
}

/// A top-level `key: value` line; the value has surrounding quotes removed.
fn key_value(line: &str) -> Option<(&str, &str)> {
    if line.starts_with(char::is_whitespace) || line.starts_with(['#', '-']) {
        return None;
    }
    let (key, value) = line.split_once(':')?;
    let key = key.trim();
    let key = strip_quotes(key);
    if key.is_empty() || !(value.is_empty() || value.starts_with(char::is_whitespace)) {
        return None;
    }
    let value = strip_quotes(value.trim());
    // Block scalars (`|`, `>`) continue on the following lines, which are not read.
    let value = if matches!(value, "|" | ">" | "|-" | ">-" | "|+" | ">+") {
        ""
    } else {
        value
    };
    Some((key, value))
}

/// Lines that belong to a YAML value above: blank, comments, indented or list entries.
fn is_yaml_continuation(line: &str) -> bool {
    line.trim().is_empty()
        || line.starts_with(char::is_whitespace)
        || line.starts_with('#')
        || line.starts_with("- ")
        || line == "-"
}

/// `value` without one pair of matching surrounding quotes.
fn strip_quotes(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The metadata of `text`'s front matter, which must read without warnings.
    fn metadata(text: &str) -> Value {
        let front = split(text);
        assert!(front.warnings.is_empty(), "{:?}", front.warnings);
        assert!(front.body_start > 0, "{text:?} has front matter");
        Value::Object(front.metadata)
    }

    /// TOML front matter (`+++`, Hugo's) is read into metadata too (it stayed text).
    #[test]
    fn toml_front_matter_is_read() {
        let text = "+++\ntitle = \"Toml Title\"\ndate = 2024-01-01\ndraft = false\nweight = 3\ntags = [\"x\", \"y\"]\n\n[params]\nauthor = \"Ann\"\n+++\n\n# Heading\n";
        assert_eq!(
            metadata(text),
            json!({
                "title": "Toml Title", "date": "2024-01-01", "draft": false, "weight": 3,
                "tags": ["x", "y"], "params": {"author": "Ann"}
            })
        );
        assert_eq!(&text[split(text).body_start..], "\n# Heading\n");
        // Not TOML: it stays text (its words were dropped), and says why.
        let broken = split("+++\nthis is not toml at all\n+++\nbody\n");
        assert!(broken.metadata.is_empty() && broken.body_start == 0);
        assert!(
            broken.warnings[0].contains("not valid TOML"),
            "{:?}",
            broken.warnings
        );
        // A `+++` line with no closing one is text.
        assert_eq!(split("+++\nnot closed\n").body_start, 0);
    }

    #[test]
    fn reads_yaml_lists_mappings_and_block_scalars() {
        let text = "---\ntitle: \"Echo: a title\"\ndesc: >\n  folded line one\n  folded line two\nnote: value # a comment\nsq: 'single q'\ndate: 2024-01-02\ndraft: false\nyear: 2020\nratio: 0.5\ncategories:\n- news\n- tech\ntags: [x, y]\nauthor:\n  name: Ann\n  email: a@b.c\nnested: { k: v }\ncode: |\n  line 1\n  line 2\n---\n# Body\n";
        let front = split(text);
        assert_eq!(&text[front.body_start..], "# Body\n");
        assert!(front.warnings.is_empty(), "{:?}", front.warnings);
        assert_eq!(
            Value::Object(front.metadata),
            json!({
                "title": "Echo: a title",
                "desc": "folded line one folded line two\n",
                "note": "value",
                "sq": "single q",
                "date": "2024-01-02",
                "draft": false,
                "year": 2020,
                "ratio": 0.5,
                "categories": ["news", "tech"],
                "tags": ["x", "y"],
                "author": {"name": "Ann", "email": "a@b.c"},
                "nested": {"k": "v"},
                "code": "line 1\nline 2\n",
            })
        );
    }

    #[test]
    fn an_integer_past_64_bits_stays_exact() {
        assert_eq!(
            metadata("---\nid: 123456789012345678901234\nsmall: 18446744073709551615\n---\n"),
            json!({"id": "123456789012345678901234", "small": 18446744073709551615u64})
        );
    }

    #[test]
    fn types_scalars_by_the_core_schema_and_leaves_out_empty_keys() {
        assert_eq!(
            metadata(
                "---\nn: ~\nempty:\nquoted: \"42\"\ntagged: !!str 7\nhex: 0x1F\ninf: .inf\nyes: yes\nbig: 123456789012345678901234567890\nlist: [1, true, null, 'a']\n---\n"
            ),
            json!({
                "quoted": "42",
                "tagged": "7",
                "hex": 31,
                "inf": ".inf",
                "yes": "yes",
                "big": "123456789012345678901234567890",
                "list": [1, true, null, "a"],
            })
        );
    }

    #[test]
    fn expands_aliases_and_merge_keys() {
        assert_eq!(
            metadata(
                "---\nbase: &b { lang: en, kind: post }\npost:\n  <<: *b\n  kind: note\nsame: *b\n---\n"
            ),
            json!({
                "base": {"lang": "en", "kind": "post"},
                "post": {"lang": "en", "kind": "note"},
                "same": {"lang": "en", "kind": "post"},
            })
        );
    }

    #[test]
    fn a_repeated_key_is_named_in_a_warning() {
        let front = split(
            "---
title: first
post:
  <<: { kind: a }
  kind: b
title: second
---
",
        );
        assert_eq!(
            Value::Object(front.metadata),
            json!({"title": "second", "post": {"kind": "b"}})
        );
        assert_eq!(front.warnings.len(), 1, "{:?}", front.warnings);
        assert!(
            front.warnings[0].contains("line 6") && front.warnings[0].contains("`title`"),
            "{:?}",
            front.warnings
        );
        // Nested, it is named by its path.
        let front = split("---\nb:\n  x: 1\n  x: 2\n---\n");
        assert_eq!(Value::Object(front.metadata), json!({"b": {"x": 2}}));
        assert!(front.warnings[0].contains("`b.x`"), "{:?}", front.warnings);
    }

    #[test]
    fn a_key_that_is_a_list_is_left_out_with_a_warning() {
        let front = split("---\n? [a, b]\n: value\nkept: yes\n---\n");
        assert_eq!(Value::Object(front.metadata), json!({"kept": "yes"}));
        assert_eq!(front.warnings.len(), 1, "{:?}", front.warnings);
        assert!(front.warnings[0].contains("line 2"), "{:?}", front.warnings);
    }

    #[test]
    fn invalid_yaml_falls_back_to_key_value_lines_with_a_warning() {
        let text = "---\ntitle: Hello: world\nauthor: 'Ann'\ntags: [a, b]\nlist:\n  - x\n# comment\n---\n# Body\n";
        let front = split(text);
        assert_eq!(&text[front.body_start..], "# Body\n");
        assert_eq!(
            Value::Object(front.metadata),
            json!({"title": "Hello: world", "author": "Ann", "tags": "[a, b]"})
        );
        assert_eq!(front.warnings.len(), 1);
        assert!(
            front.warnings[0].starts_with("front matter is not valid YAML (line 2: ")
                && front.warnings[0].ends_with("read as `key: value` lines, each value as text"),
            "{:?}",
            front.warnings
        );
    }

    #[test]
    fn the_line_reader_names_a_repeated_key_as_the_yaml_reader_does() {
        // Not valid YAML (`Hello: world`), so read line by line.
        let text = "---\ntitle: Hello: world\nauthor: Ann\nlist:\n  - x\nauthor: Bob\n\"draft\": yes\ndraft:\n---\nbody";
        let front = split(text);
        assert_eq!(&text[front.body_start..], "body");
        assert_eq!(
            Value::Object(front.metadata),
            json!({"title": "Hello: world", "author": "Bob"})
        );
        assert_eq!(front.warnings.len(), 3, "{:?}", front.warnings);
        assert!(front.warnings[0].starts_with("front matter is not valid YAML"));
        assert_eq!(
            front.warnings[1..],
            [
                "front matter line 6: key `author` appears again; the later value is kept",
                "front matter line 8: key `draft` appears again; the later value is kept",
            ]
        );
        // The same wording as the YAML reader's.
        let yaml = split("---\ntitle: T\nauthor: Ann\nlist:\n  - x\nauthor: Bob\n---\n");
        assert_eq!(yaml.warnings, front.warnings[1..2]);
        // A long key is shortened as the YAML reader shortens it.
        let key = "k".repeat(80);
        let front = split(&format!("---\nt: a: b\n{key}: 1\n{key}: 2\n---\n"));
        assert!(
            front.warnings[1].contains(&format!("`{}…`", "k".repeat(60))),
            "{:?}",
            front.warnings
        );
    }

    #[test]
    fn crlf_and_dots_terminator() {
        let text = "---\r\ntitle: T\r\nlist:\r\n  - a\r\n...\r\nbody";
        let front = split(text);
        assert_eq!(&text[front.body_start..], "body");
        assert_eq!(
            Value::Object(front.metadata),
            json!({"title": "T", "list": ["a"]})
        );
    }

    #[test]
    fn not_front_matter() {
        for text in [
            "--- \nno closing\ntitle: x\n",
            "# Title\n---\ntitle: x\n---\n",
            "---\nJust a paragraph between rules\n---\n",
            "---\n- a list\n- between rules\n---\n",
            "---\nNot [valid YAML, and no key\n---\n",
            "----\ntitle: x\n----\n",
            "",
        ] {
            let front = split(text);
            assert_eq!(front.body_start, 0, "{text:?}");
            assert!(front.metadata.is_empty(), "{text:?}");
            assert!(front.warnings.is_empty(), "{text:?}");
        }
    }

    #[test]
    fn empty_block_is_front_matter() {
        for (text, rest) in [("---\n---\ntext", 8), ("---\n# only a comment\n---\n", 25)] {
            let front = split(text);
            assert!(front.metadata.is_empty() && front.warnings.is_empty());
            assert_eq!(front.body_start, rest, "{text:?}");
        }
    }

    #[test]
    fn reading_is_bounded() {
        // A billion laughs: each level repeats the one above ten times.
        let mut text =
            String::from("---\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..10 {
            let above = format!("*a{}", level - 1);
            let items = [above.as_str(); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        text.push_str("title: laughs\n---\nbody");
        let front = split(&text);
        assert_eq!(&text[front.body_start..], "body");
        assert_eq!(front.metadata["title"], "laughs");
        assert!(
            front.warnings[0].contains(&format!("more than {MAX_VALUES} values")),
            "{:?}",
            front.warnings
        );
        // Deep nesting: past saphyr's own limit, and past this reader's.
        for (depth, needle) in [
            (100_000, "recursion limit exceeded"),
            (70, "nested deeper than 64 levels"),
        ] {
            let deep = format!("---\nk: {}{}\n---\n", "[".repeat(depth), "]".repeat(depth));
            let front = split(&deep);
            assert_eq!(front.body_start, deep.len());
            assert!(front.warnings[0].contains(needle), "{:?}", front.warnings);
        }
        // Past the size read as YAML, lines are read.
        let big = format!(
            "---\ntitle: big\npad: {}\n---\n",
            "x".repeat(MAX_YAML_BYTES)
        );
        let front = split(&big);
        assert_eq!(front.metadata["title"], "big");
        assert!(
            front.warnings[0].contains("larger than 1 MiB"),
            "{:?}",
            front.warnings
        );
    }
}
