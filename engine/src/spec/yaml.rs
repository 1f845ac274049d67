//! YAML to JSON with a position for every key and value, so every later check can name a line.
//!
//! Built on saphyr-parser's event stream: scalars are typed by the YAML 1.2 core schema, aliases
//! are expanded (bounded, so a "billion laughs" file is refused), duplicate keys are errors.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::{Map, Number, Value};

/// Most nodes a pipeline file may expand to (aliases included).
const MAX_NODES: usize = 100_000;
/// Deepest nesting a pipeline file may have.
const MAX_DEPTH: usize = 64;

/// A 1-based line and column in the pipeline file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

impl Pos {
    fn of(span: &Span) -> Pos {
        Pos {
            line: span.start.line(),
            col: span.start.col() + 1,
        }
    }
}

/// Where a node sits: its key (for mapping values) and the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    /// The position of the key naming this node, if it is a mapping value.
    pub key: Option<Pos>,
    /// The position of the value.
    pub value: Pos,
}

/// A YAML document as JSON plus the location of every node, by JSON pointer.
#[derive(Debug, Clone)]
pub struct LocatedValue {
    /// The document.
    pub value: Value,
    locations: HashMap<String, Location>,
}

impl LocatedValue {
    /// The location of the node at a JSON pointer (`/steps/parse/input`).
    pub fn location(&self, pointer: &str) -> Option<Location> {
        self.locations.get(pointer).copied()
    }

    /// The best position to point at for a node: its key when it has one, else the value;
    /// falls back to the nearest located ancestor.
    pub fn key_pos(&self, pointer: &str) -> Pos {
        self.nearest(pointer, |loc| loc.key.unwrap_or(loc.value))
    }

    /// The position of a node's value, falling back to the nearest located ancestor.
    pub fn value_pos(&self, pointer: &str) -> Pos {
        self.nearest(pointer, |loc| loc.value)
    }

    fn nearest(&self, pointer: &str, pick: impl Fn(&Location) -> Pos) -> Pos {
        let mut current = pointer;
        loop {
            if let Some(loc) = self.locations.get(current) {
                return pick(loc);
            }
            match current.rfind('/') {
                Some(cut) => current = &current[..cut],
                None => return Pos { line: 1, col: 1 },
            }
        }
    }
}

/// A problem found while reading the YAML itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Where.
    pub pos: Pos,
    /// The JSON pointer of the node concerned, when there is one.
    pub pointer: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Parses `text` into a located JSON value, or every problem found.
pub fn parse(text: &str) -> Result<LocatedValue, Vec<YamlError>> {
    let mut events = Vec::new();
    for event in Parser::new_from_str(text) {
        match event {
            Ok(event) => events.push(event),
            Err(err) => {
                let marker = err.marker();
                return Err(vec![YamlError {
                    pos: Pos {
                        line: marker.line(),
                        col: marker.col() + 1,
                    },
                    pointer: None,
                    message: format!("YAML syntax error: {}", err.info()),
                }]);
            }
        }
    }
    let mut builder = Builder {
        events,
        next: 0,
        locations: HashMap::new(),
        anchors: HashMap::new(),
        nodes: 0,
        errors: Vec::new(),
    };
    let value = builder.stream();
    if builder.errors.is_empty() {
        Ok(LocatedValue {
            value,
            locations: builder.locations,
        })
    } else {
        Err(builder.errors)
    }
}

struct Builder<'a> {
    events: Vec<(Event<'a>, Span)>,
    next: usize,
    locations: HashMap<String, Location>,
    anchors: HashMap<usize, Value>,
    nodes: usize,
    errors: Vec<YamlError>,
}

impl<'a> Builder<'a> {
    fn stream(&mut self) -> Value {
        let mut documents = 0;
        let mut value = Value::Null;
        while let Some((event, span)) = self.take() {
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        self.error(
                            Pos::of(&span),
                            None,
                            "a pipeline file holds one YAML document; remove the second `---`",
                        );
                        return value;
                    }
                    if let Some((Event::DocumentEnd, _)) = self.peek() {
                        continue;
                    }
                    value = self.node("", None, 0);
                }
                Event::StreamEnd => break,
                _ => {}
            }
        }
        value
    }

    fn take(&mut self) -> Option<(Event<'a>, Span)> {
        let item = self.events.get(self.next).cloned();
        self.next += 1;
        item
    }

    fn peek(&self) -> Option<&(Event<'a>, Span)> {
        self.events.get(self.next)
    }

    fn error(&mut self, pos: Pos, pointer: Option<&str>, message: impl Into<String>) {
        self.errors.push(YamlError {
            pos,
            pointer: pointer.map(str::to_owned),
            message: message.into(),
        });
    }

    /// Reads one node at `pointer`; `key` is the position of the key that names it.
    fn node(&mut self, pointer: &str, key: Option<Pos>, depth: usize) -> Value {
        let Some((event, span)) = self.take() else {
            return Value::Null;
        };
        let pos = Pos::of(&span);
        self.locations
            .insert(pointer.to_owned(), Location { key, value: pos });
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            if self.nodes == MAX_NODES + 1 {
                self.error(
                    pos,
                    Some(pointer),
                    format!("the file expands to more than {MAX_NODES} nodes; is an alias repeated on purpose?"),
                );
            }
            return Value::Null;
        }
        if depth > MAX_DEPTH {
            self.error(
                pos,
                Some(pointer),
                format!("nesting deeper than {MAX_DEPTH} levels"),
            );
            self.skip_rest_of(&event);
            return Value::Null;
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(&text, style, tag.as_deref().map(|t| t.suffix.as_str()));
                self.remember(anchor, &value);
                value
            }
            Event::Alias(anchor) => {
                match self.anchors.get(&anchor).cloned() {
                    Some(value) => {
                        self.nodes += count_nodes(&value);
                        if self.nodes > MAX_NODES {
                            self.error(
                            pos,
                            Some(pointer),
                            format!("the file expands to more than {MAX_NODES} nodes through aliases"),
                        );
                            return Value::Null;
                        }
                        value
                    }
                    None => {
                        self.error(pos, Some(pointer), "alias to an unknown anchor");
                        Value::Null
                    }
                }
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.peek() {
                        Some((Event::SequenceEnd, _)) | None => {
                            self.next += 1;
                            break;
                        }
                        _ => {
                            let child = format!("{pointer}/{}", items.len());
                            items.push(self.node(&child, None, depth + 1));
                        }
                    }
                }
                let value = Value::Array(items);
                self.remember(anchor, &value);
                value
            }
            Event::MappingStart(anchor, _) => {
                let value = Value::Object(self.mapping(pointer, depth));
                self.remember(anchor, &value);
                value
            }
            _ => Value::Null,
        }
    }

    fn mapping(&mut self, pointer: &str, depth: usize) -> Map<String, Value> {
        let mut map = Map::new();
        let mut first_seen: HashMap<String, Pos> = HashMap::new();
        while let Some((event, span)) = self.take() {
            let key_pos = Pos::of(&span);
            let key = match event {
                Event::MappingEnd => break,
                Event::Scalar(text, ..) => text.into_owned(),
                other => {
                    self.error(key_pos, Some(pointer), "mapping keys must be plain strings");
                    self.skip_rest_of(&other);
                    self.skip_node();
                    continue;
                }
            };
            let child = format!("{pointer}/{}", escape_pointer(&key));
            if let Some(first) = first_seen.get(&key) {
                let what = if pointer == "/steps" {
                    "step name"
                } else {
                    "key"
                };
                let message = format!(
                    "duplicate {what} `{key}` (first at line {}); rename or remove one of them",
                    first.line
                );
                self.error(key_pos, Some(&child), message);
                self.skip_node();
                continue;
            }
            first_seen.insert(key.clone(), key_pos);
            let value = self.node(&child, Some(key_pos), depth + 1);
            map.insert(key, value);
        }
        map
    }

    /// Skips the events of a node whose start event was already taken.
    fn skip_rest_of(&mut self, start: &Event<'a>) {
        if matches!(start, Event::SequenceStart(..) | Event::MappingStart(..)) {
            let mut open = 1usize;
            while open > 0 {
                match self.take() {
                    Some((Event::SequenceStart(..) | Event::MappingStart(..), _)) => open += 1,
                    Some((Event::SequenceEnd | Event::MappingEnd, _)) => open -= 1,
                    Some(_) => {}
                    None => break,
                }
            }
        }
    }

    /// Skips one whole node.
    fn skip_node(&mut self) {
        if let Some((event, _)) = self.take() {
            self.skip_rest_of(&event);
        }
    }

    fn remember(&mut self, anchor: usize, value: &Value) {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
    }
}

fn count_nodes(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Types a scalar by the YAML 1.2 core schema; quoted and block scalars are strings.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    if let Some(tag) = tag {
        match tag {
            "str" => return Value::String(text.to_owned()),
            "null" => return Value::Null,
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Value::String(text.to_owned()),
        _ => {}
    }
    if let Some(number) = integer(text) {
        return Value::Number(number);
    }
    if looks_like_float(text)
        && let Ok(float) = text.parse::<f64>()
        && let Some(number) = Number::from_f64(float)
    {
        return Value::Number(number);
    }
    Value::String(text.to_owned())
}

fn integer(text: &str) -> Option<Number> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = digits.strip_prefix("0o") {
        (8, octal)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        let signed = i64::try_from(magnitude).ok()?;
        Some(Number::from(-signed))
    } else {
        Some(Number::from(magnitude))
    }
}

fn looks_like_float(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    !body.is_empty()
        && body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && body.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_scalars_by_the_core_schema() {
        let doc = parse("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: hello\ng: 0x10\nh: -3\n").unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"a": 1, "b": 1.5, "c": true, "d": null, "e": "1", "f": "hello", "g": 16, "h": -3})
        );
    }

    #[test]
    fn locates_keys_and_values() {
        let doc = parse("version: 1\nsteps:\n  parse: { op: parse, input: docs }\n").unwrap();
        let loc = doc.location("/steps/parse/input").unwrap();
        assert_eq!(loc.key, Some(Pos { line: 3, col: 23 }));
        assert_eq!(loc.value, Pos { line: 3, col: 30 });
        assert_eq!(
            doc.key_pos("/steps/parse/missing/deeper"),
            doc.key_pos("/steps/parse")
        );
    }

    #[test]
    fn reports_duplicate_keys_with_both_lines() {
        let errors = parse("steps:\n  a: 1\n  b: 2\n  a: 3\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pos.line, 4);
        assert!(
            errors[0]
                .message
                .contains("duplicate step name `a` (first at line 2)")
        );
    }

    #[test]
    fn reports_syntax_errors_with_a_line() {
        let errors = parse("steps:\n  a: [1, 2\n  b: 3\n").unwrap_err();
        assert!(errors[0].message.starts_with("YAML syntax error"));
        assert!(errors[0].pos.line >= 2);
    }

    #[test]
    fn expands_aliases_but_refuses_a_billion_laughs() {
        let doc = parse("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(doc.value["b"], serde_json::json!([1, 2]));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let prev = level - 1;
            bomb.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let errors = parse(&bomb).unwrap_err();
        assert!(errors[0].message.contains("more than"));
    }

    #[test]
    fn refuses_a_second_document() {
        let errors = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(errors[0].message.contains("one YAML document"));
    }
}
