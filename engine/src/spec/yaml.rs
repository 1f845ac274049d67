//! YAML to JSON with a position for every key and value, so every later check can name a line.
//!
//! Built on saphyr-parser's event stream, read one event at a time: scalars are typed by the
//! YAML 1.2 core schema, aliases and merge keys (`<<: *anchor`) are expanded, duplicate keys are
//! errors. Everything is bounded: the file's size (checked by the caller), the values it
//! expands to, the bytes aliases copy and the nesting, so no file can exhaust memory or stack.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, StrInput};
use serde_json::{Map, Value};

/// Largest pipeline file read, in bytes.
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// Most values (scalars, lists and mappings) a pipeline file may expand to, aliases included.
pub const MAX_NODES: usize = 100_000;
/// Most bytes of keys and text aliases and anchors may copy.
const MAX_COPIED_BYTES: usize = 16 << 20;
/// Deepest nesting a pipeline file may have, aliases included.
pub const MAX_DEPTH: usize = 64;
/// Longest key: what YAML allows outside `{ … }` (a "simple key"), everywhere.
const MAX_SIMPLE_KEY: usize = 1024;
/// Most problems reported from the YAML itself; the reading stops after them.
const MAX_ERRORS: usize = 500;

/// A 1-based line and column in the pipeline file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

impl Pos {
    /// The start of the file.
    pub const START: Pos = Pos { line: 1, col: 1 };

    /// The position of byte `at` of `bytes` (valid UTF-8 before it), columns in characters.
    pub fn at_byte(bytes: &[u8], at: usize) -> Pos {
        let before = &bytes[..at];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        Pos {
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            col: 1 + String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count(),
        }
    }

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

/// The locations of the nodes written in the file, as a tree: each key is stored with its node,
/// so the memory stays proportional to the file even for long keys nested deep.
#[derive(Debug, Clone, Default)]
struct Locations {
    /// Node 0 is the document.
    nodes: Vec<Location>,
    /// Each node's parent and its escaped key or list index (the document's are unused).
    names: Vec<(usize, Box<str>)>,
    /// (parent node, escaped key or list index) → node.
    children: HashMap<(usize, Box<str>), usize>,
    /// The text of the plain scalars written as numbers (`2.0`, `1e309`), as written.
    written: HashMap<usize, Box<str>>,
}

impl Locations {
    fn insert(&mut self, parent: Option<usize>, segment: &str, location: Location) -> usize {
        let Some(parent) = parent else {
            if self.nodes.is_empty() {
                self.nodes.push(location);
                self.names.push((0, Box::from("")));
            } else {
                self.nodes[0] = location;
            }
            return 0;
        };
        if let Some(&id) = self.children.get(&(parent, Box::from(segment))) {
            self.nodes[id] = location;
            self.written.remove(&id);
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(location);
        self.names.push((parent, Box::from(segment)));
        self.children.insert((parent, Box::from(segment)), id);
        id
    }

    /// The JSON pointer of node `id`.
    fn pointer(&self, id: usize) -> String {
        let mut parts = Vec::new();
        let mut current = id;
        while current != 0 {
            let Some((parent, name)) = self.names.get(current) else {
                break;
            };
            parts.push(&**name);
            current = *parent;
        }
        parts.iter().rev().map(|part| format!("/{part}")).collect()
    }

    /// The id of the node at `pointer`.
    fn id(&self, pointer: &str) -> Option<usize> {
        let mut current = 0;
        if pointer.is_empty() {
            return Some(current);
        }
        for segment in pointer.strip_prefix('/').unwrap_or(pointer).split('/') {
            current = *self.children.get(&(current, Box::from(segment)))?;
        }
        Some(current)
    }

    /// The node at `pointer`, or the deepest located ancestor and whether it is the node itself.
    fn find(&self, pointer: &str) -> Option<(&Location, bool)> {
        let mut current = 0;
        let mut found = self.nodes.first()?;
        if pointer.is_empty() {
            return Some((found, true));
        }
        for segment in pointer.strip_prefix('/').unwrap_or(pointer).split('/') {
            match self.children.get(&(current, Box::from(segment))) {
                Some(&id) => {
                    current = id;
                    found = &self.nodes[id];
                }
                None => return Some((found, false)),
            }
        }
        Some((found, true))
    }
}

/// A YAML document as JSON plus the location of every node, by JSON pointer.
#[derive(Debug, Clone)]
pub struct LocatedValue {
    /// The document.
    pub value: Value,
    locations: Locations,
}

impl LocatedValue {
    /// The location of the node at a JSON pointer (`/steps/parse/input`).
    pub fn location(&self, pointer: &str) -> Option<Location> {
        match self.locations.find(pointer) {
            Some((location, true)) => Some(*location),
            _ => None,
        }
    }

    /// How a number at a JSON pointer was written (`99999999999999999999999`, `2.0`), also when
    /// it is too large to read as one (`1e309`, read as a string): the value alone may differ
    /// (`1e+23`), or may have been quoted text.
    pub fn written(&self, pointer: &str) -> Option<&str> {
        let id = self.locations.id(pointer)?;
        self.locations.written.get(&id).map(|text| &**text)
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
        match self.locations.find(pointer) {
            Some((location, _)) => pick(location),
            None => Pos::START,
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

/// What reading a file gave: the document, unless a problem stopped the reading (a syntax
/// error, a file too large), and every problem found.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The document; `None` when the reading stopped.
    pub doc: Option<LocatedValue>,
    /// Problems: with a document, each concerns one node and the rest of the file was read
    /// (a duplicate key keeps its first value); without one, the last stopped the reading.
    pub errors: Vec<YamlError>,
}

/// Parses `text` into a located JSON value, with every problem found.
pub fn parse(text: &str) -> Parsed {
    if text.len() > MAX_FILE_BYTES {
        return Parsed {
            doc: None,
            errors: vec![YamlError {
                pos: Pos::START,
                pointer: None,
                message: too_large_message(),
            }],
        };
    }
    let mut builder = Builder {
        text,
        events: Parser::new_from_str(text),
        peeked: None,
        stopped: false,
        locations: Locations::default(),
        anchors: HashMap::new(),
        nodes: 0,
        aliased_nodes: 0,
        copied_bytes: 0,
        errors: Vec::new(),
        inside: Vec::new(),
        open: Vec::new(),
    };
    let value = builder.stream();
    let doc = (!builder.stopped).then(|| LocatedValue {
        value,
        locations: builder.locations,
    });
    Parsed {
        doc,
        errors: builder.errors,
    }
}

/// The error for a file over [`MAX_FILE_BYTES`].
pub fn too_large_message() -> String {
    format!(
        "the file is larger than {} MiB ({MAX_FILE_BYTES} bytes), the most a pipeline file may be; is this the right file?",
        MAX_FILE_BYTES >> 20
    )
}

/// An anchored value and what copying it costs.
struct Anchor {
    value: Value,
    nodes: usize,
    bytes: usize,
    depth: usize,
}

struct Builder<'a> {
    text: &'a str,
    events: Parser<'a, StrInput<'a>>,
    peeked: Option<(Event<'a>, Span)>,
    /// A syntax error or a limit stopped the reading: no more events are taken.
    stopped: bool,
    locations: Locations,
    anchors: HashMap<usize, Anchor>,
    /// Values read or copied so far.
    nodes: usize,
    /// Of them, values copied by aliases.
    aliased_nodes: usize,
    copied_bytes: usize,
    errors: Vec<YamlError>,
    /// The anchors of the lists and mappings being read, outermost first (0 for none): an
    /// alias to one of them would be inside its own value.
    inside: Vec<usize>,
    /// Where the collections open at the last event start (character index and position),
    /// innermost last, so that a syntax error inside `{ … }` or `[ … ]` names where it opened.
    open: Vec<(usize, Pos)>,
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
                    value = self.node(None, "", None, 0);
                }
                Event::StreamEnd => break,
                _ => {}
            }
        }
        value
    }

    /// The next event; `None` at the end, after a syntax error (recorded) or once stopped.
    fn take(&mut self) -> Option<(Event<'a>, Span)> {
        if self.stopped {
            return None;
        }
        if let Some(event) = self.peeked.take() {
            return Some(event);
        }
        match self.events.next()? {
            Ok(event) => {
                self.follow_collections(&event);
                Some(event)
            }
            Err(err) => {
                let marker = err.marker();
                let pos = Pos {
                    line: marker.line(),
                    col: marker.col() + 1,
                };
                let open = innermost_flow(self.text, &self.open);
                let (pos, message) = long_key_message(self.text, pos.line)
                    .unwrap_or_else(|| (pos, syntax_message(self.text, pos, err.info(), open)));
                self.stop(pos, None, message);
                None
            }
        }
    }

    /// Keeps [`Builder::open`] up to date with the event just read.
    fn follow_collections(&mut self, (event, span): &(Event<'a>, Span)) {
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                self.open.push((span.start.index(), Pos::of(span)));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.open.pop();
            }
            _ => {}
        }
    }

    fn peek(&mut self) -> Option<&(Event<'a>, Span)> {
        if self.peeked.is_none() {
            self.peeked = self.take();
        }
        self.peeked.as_ref()
    }

    /// Records a problem with node `id` (the document for `None`).
    fn error(&mut self, pos: Pos, id: Option<usize>, message: impl Into<String>) {
        if self.errors.len() >= MAX_ERRORS {
            return self.stop(
                pos,
                None,
                format!("more than {MAX_ERRORS} problems; fix these first"),
            );
        }
        let pointer = id.map(|id| self.locations.pointer(id));
        self.errors.push(YamlError {
            pos,
            pointer,
            message: message.into(),
        });
    }

    /// Records a problem that ends the reading.
    fn stop(&mut self, pos: Pos, id: Option<usize>, message: impl Into<String>) {
        self.errors.push(YamlError {
            pos,
            pointer: id.map(|id| self.locations.pointer(id)),
            message: message.into(),
        });
        self.stopped = true;
        self.peeked = None;
    }

    /// Counts `nodes` more values (`copied` when an alias copies them); false, after stopping
    /// the reading, when that passes the limit.
    fn count(&mut self, nodes: usize, copied: bool, pos: Pos, id: usize) -> bool {
        self.nodes += nodes;
        if copied {
            self.aliased_nodes += nodes;
        }
        if self.nodes <= MAX_NODES {
            return true;
        }
        let message = if self.aliased_nodes > 0 {
            format!(
                "aliases expand the file to more than {MAX_NODES} values; is an alias repeated on purpose?"
            )
        } else {
            format!(
                "the file holds more than {MAX_NODES} values, far more than a pipeline needs; is this the right file?"
            )
        };
        self.stop(pos, Some(id), message);
        false
    }

    /// Counts `bytes` copied by an alias or an anchor; false, after stopping, past the limit.
    fn copy(&mut self, bytes: usize, pos: Pos, id: usize) -> bool {
        self.copied_bytes += bytes;
        if self.copied_bytes <= MAX_COPIED_BYTES {
            return true;
        }
        self.stop(
            pos,
            Some(id),
            format!(
                "anchors and aliases copy more than {} MiB of text; is an alias repeated on purpose?",
                MAX_COPIED_BYTES >> 20
            ),
        );
        false
    }

    /// Reads one node, the child `segment` of node `parent` (the document for `None`); `key`
    /// is the position of the key that names it, `depth` its nesting.
    fn node(
        &mut self,
        parent: Option<usize>,
        segment: &str,
        key: Option<Pos>,
        depth: usize,
    ) -> Value {
        let Some((event, span)) = self.take() else {
            return Value::Null;
        };
        let pos = Pos::of(&span);
        let id = self
            .locations
            .insert(parent, segment, Location { key, value: pos });
        if !self.count(1, false, pos, id) {
            return Value::Null;
        }
        if depth > MAX_DEPTH {
            self.error(
                pos,
                Some(id),
                format!("nesting deeper than {MAX_DEPTH} levels"),
            );
            self.skip_rest_of(&event);
            return Value::Null;
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(&text, style, tag.as_deref().map(|t| t.suffix.as_str()));
                if style == ScalarStyle::Plain && (value.is_number() || reads_as_number(&text)) {
                    self.locations.written.insert(id, Box::from(&*text));
                }
                self.remember(anchor, &value, pos, id);
                value
            }
            Event::Alias(anchor) => self.alias(anchor, depth, pos, id),
            Event::SequenceStart(anchor, _) => {
                self.inside.push(anchor);
                let mut items = Vec::new();
                loop {
                    match self.peek() {
                        Some((Event::SequenceEnd, _)) => {
                            self.take();
                            break;
                        }
                        None => break,
                        _ => {
                            let index = items.len().to_string();
                            items.push(self.node(Some(id), &index, None, depth + 1));
                        }
                    }
                }
                self.inside.pop();
                let value = Value::Array(items);
                self.remember(anchor, &value, pos, id);
                value
            }
            Event::MappingStart(anchor, _) => {
                self.inside.push(anchor);
                let value = Value::Object(self.mapping(id, depth));
                self.inside.pop();
                self.remember(anchor, &value, pos, id);
                value
            }
            _ => Value::Null,
        }
    }

    /// The value of an alias, copied within the limits.
    fn alias(&mut self, anchor: usize, depth: usize, pos: Pos, id: usize) -> Value {
        let Some(found) = self.anchors.get(&anchor) else {
            let message = if self.inside.contains(&anchor) {
                let name = alias_name(self.text, pos);
                format!(
                    "the alias `*{name}` is inside the value its anchor `&{name}` marks, which YAML \
                     does not allow (the value would hold itself); write the keys out here, or \
                     anchor a value of its own and alias that"
                )
            } else {
                "alias to an unknown anchor".to_owned()
            };
            self.error(pos, Some(id), message);
            return Value::Null;
        };
        let (nodes, bytes, deepest) = (found.nodes, found.bytes, depth + found.depth);
        // The alias itself was counted as one value.
        if !self.count(nodes.saturating_sub(1), true, pos, id) || !self.copy(bytes, pos, id) {
            return Value::Null;
        }
        if deepest > MAX_DEPTH {
            self.error(
                pos,
                Some(id),
                format!("through this alias the nesting goes deeper than {MAX_DEPTH} levels"),
            );
            return Value::Null;
        }
        self.anchors
            .get(&anchor)
            .map(|found| found.value.clone())
            .unwrap_or_default()
    }

    /// Reads the entries of the mapping node `id`, whose start event was taken.
    fn mapping(&mut self, id: usize, depth: usize) -> Map<String, Value> {
        let mut map = Map::new();
        let mut first_seen: HashMap<String, Pos> = HashMap::new();
        let mut first_merge: Option<Pos> = None;
        while let Some((event, span)) = self.take() {
            let key_pos = Pos::of(&span);
            let (key, plain) = match event {
                Event::MappingEnd => break,
                Event::Scalar(text, style, ..) => (text.into_owned(), style == ScalarStyle::Plain),
                other => {
                    self.error(key_pos, Some(id), "mapping keys must be plain strings");
                    self.skip_rest_of(&other);
                    self.skip_node();
                    continue;
                }
            };
            let length = key.chars().count();
            if length > MAX_SIMPLE_KEY {
                let start: String = key.chars().take(20).collect();
                self.error(
                    key_pos,
                    Some(id),
                    format!(
                        "the key `{start}…` is {length} characters long; keys may have at most {MAX_SIMPLE_KEY}: shorten it"
                    ),
                );
                self.skip_node();
                continue;
            }
            let segment = escape_pointer(&key);
            if key == "<<" && plain {
                if let Some(first) = first_merge {
                    let message = format!(
                        "a second merge key `<<` (first at line {}); merge several in one: `<<: [*a, *b]`",
                        first.line
                    );
                    self.error(key_pos, Some(id), message);
                    self.skip_node();
                    continue;
                }
                first_merge = Some(key_pos);
                let value = self.node(Some(id), &segment, Some(key_pos), depth + 1);
                let value_pos = self
                    .locations
                    .children
                    .get(&(id, Box::from(segment.as_str())))
                    .map_or(key_pos, |&child| self.locations.nodes[child].value);
                self.merge(id, &mut map, &first_seen, value, key_pos, value_pos);
                continue;
            }
            if let Some(first) = first_seen.get(&key) {
                let what = if self.locations.pointer(id) == "/steps" {
                    "step name"
                } else {
                    "key"
                };
                let message = format!(
                    "duplicate {what} `{key}` (first at line {}); rename or remove one of them",
                    first.line
                );
                let child = self
                    .locations
                    .children
                    .get(&(id, Box::from(segment.as_str())))
                    .copied();
                self.error(key_pos, child.or(Some(id)), message);
                self.skip_node();
                continue;
            }
            first_seen.insert(key.clone(), key_pos);
            let value = self.node(Some(id), &segment, Some(key_pos), depth + 1);
            // A key of the mapping itself overrides one a merge key brought.
            map.insert(key, value);
        }
        map
    }

    /// Adds the keys of a merge key's mapping (or list of mappings, the first winning) that the
    /// mapping has not set itself (those it sets later override them).
    fn merge(
        &mut self,
        id: usize,
        map: &mut Map<String, Value>,
        own: &HashMap<String, Pos>,
        value: Value,
        key_pos: Pos,
        value_pos: Pos,
    ) {
        let sources = match value {
            Value::Object(object) => vec![object],
            Value::Array(items) if items.iter().all(Value::is_object) => items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Object(object) => Some(object),
                    _ => None,
                })
                .collect(),
            // Already reported: an alias to an unknown anchor, or a limit.
            Value::Null
                if self.stopped || self.errors.last().is_some_and(|e| e.pos == value_pos) =>
            {
                return;
            }
            _ => {
                let at = self.locations.children.get(&(id, Box::from("<<"))).copied();
                self.error(
                    value_pos,
                    at,
                    "a merge key `<<` takes a mapping (`<<: *anchor`) or a list of them (`<<: [*a, *b]`)",
                );
                return;
            }
        };
        for source in sources {
            for (key, value) in source {
                if own.contains_key(&key) || map.contains_key(&key) {
                    continue;
                }
                self.locations.insert(
                    Some(id),
                    &escape_pointer(&key),
                    Location {
                        key: Some(key_pos),
                        value: value_pos,
                    },
                );
                map.insert(key, value);
            }
        }
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

    fn remember(&mut self, anchor: usize, value: &Value, pos: Pos, id: usize) {
        if anchor == 0 || self.stopped {
            return;
        }
        let (nodes, bytes, depth) = operators::yaml_scalar::measure(value);
        if self.copy(bytes, pos, id) {
            self.anchors.insert(
                anchor,
                Anchor {
                    value: value.clone(),
                    nodes,
                    bytes,
                    depth,
                },
            );
        }
    }
}

/// For a syntax error on `line`, the place and a clear message when that line (or the one
/// before) holds a key longer than YAML allows outside `{ … }` (saphyr then reports "simple key
/// expect ':'" or the like).
fn long_key_message(text: &str, line: usize) -> Option<(Pos, String)> {
    let before = line
        .checked_sub(2)
        .and_then(|index| text.lines().nth(index));
    let at = line
        .checked_sub(1)
        .and_then(|index| text.lines().nth(index));
    [(line, at), (line.saturating_sub(1), before)]
        .into_iter()
        .find_map(|(number, content)| {
            let content = content?;
            let body = content.trim_start().trim_start_matches("- ").trim_start();
            let col = content.chars().count() - body.chars().count() + 1;
            let end = body
                .char_indices()
                .find(|&(i, c)| {
                    c == ':' && body[i + 1..].chars().next().is_none_or(char::is_whitespace)
                })
                .map(|(i, _)| i)?;
            let key = body[..end].trim_end().trim_matches(['"', '\'']);
            let length = key.chars().count();
            (length > MAX_SIMPLE_KEY).then(|| {
                let start: String = key.chars().take(20).collect();
                (
                    Pos { line: number, col },
                    format!(
                        "the key `{start}…` is {length} characters long; YAML allows at most {MAX_SIMPLE_KEY} in a key outside `{{ … }}`: shorten it"
                    ),
                )
            })
        })
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The innermost of the `open` collections (character index and position in `text`) that is
/// a flow collection, with its bracket: one pass over the text, when an error needs it.
fn innermost_flow(text: &str, open: &[(usize, Pos)]) -> Option<(char, Pos)> {
    let last = open.iter().map(|(index, _)| *index).max()?;
    let wanted: std::collections::HashSet<usize> = open.iter().map(|(index, _)| *index).collect();
    let brackets: HashMap<usize, char> = (text.chars().enumerate())
        .take(last + 1)
        .filter(|(index, c)| matches!(c, '{' | '[') && wanted.contains(index))
        .collect();
    open.iter()
        .rev()
        .find_map(|(index, pos)| brackets.get(index).map(|bracket| (*bracket, *pos)))
}

/// The message for the YAML syntax error `info` at `pos` of `text`, with what to do where the
/// parser's words do not say it; `open` is the innermost flow collection open there (its
/// bracket and position).
fn syntax_message(text: &str, pos: Pos, info: &str, open: Option<(char, Pos)>) -> String {
    let mut message = format!("YAML syntax error: {info}");
    let in_flow = info.contains("flow mapping") || info.contains("flow sequence");
    if let Some((bracket, at)) = open.filter(|_| in_flow) {
        let (close, entries) = if bracket == '{' {
            ('}', "entries")
        } else {
            (']', "items")
        };
        // A `,` left out and a bracket left open read alike to the parser.
        message.push_str(&format!(
            "; in the `{bracket} … {close}` that opens at line {}, column {}: its {entries} are separated by `,` and it ends with `{close}`",
            at.line, at.col
        ));
    } else if info.contains("quoted scalar") && info.contains("end of stream") {
        message.push_str(
            "; the quote that opens here is never closed: end the value with the same quote",
        );
    } else if info.contains("invalid indentation in quoted scalar") {
        message.push_str(
            "; the quote that opens here is probably never closed: end the value with the same \
             quote on its line (a quoted value that goes on over lines indents them deeper than \
             its key)",
        );
    } else if info.contains("mapping values are not allowed") {
        // A `key: value` before the `:` found: the value holds a `: `; else the line is a key
        // indented deeper than the mapping it belongs to.
        let line = text
            .lines()
            .nth(pos.line.saturating_sub(1))
            .unwrap_or_default();
        let before: String = line.chars().take(pos.col.saturating_sub(1)).collect();
        message.push_str(if before.contains(": ") {
            "; a value holding `: ` must be quoted (`key: \"Note: …\"`)"
        } else {
            "; this key is indented deeper than the keys of its mapping: line it up with them"
        });
    } else if info.contains("block mapping") && info.contains("expected key") {
        message.push_str(
            "; this line is no key of the mapping above it: check its indentation against that mapping's keys",
        );
    } else if info.contains("tabs disallowed") {
        message.push_str("; indent with spaces: YAML does not allow tabs for indentation");
    } else if info.contains("recursion limit") {
        message = format!(
            "YAML syntax error: values nested too deep for the YAML reader; a pipeline nests {MAX_DEPTH} levels at most"
        );
    } else if info.contains("unknown anchor") {
        let line = text
            .lines()
            .nth(pos.line.saturating_sub(1))
            .unwrap_or_default();
        let alias = alias_name(text, pos);
        if looks_like_a_pattern(&alias) {
            // `include` and `exclude` take a list: a pattern written alone goes in one.
            let before = line
                .chars()
                .take(pos.col.saturating_sub(1))
                .collect::<String>();
            let in_list = open.is_some_and(|(bracket, _)| bracket == '[');
            let key = before.trim_end();
            let quoted = if !in_list && (key.ends_with("include:") || key.ends_with("exclude:")) {
                format!("[\"*{alias}\"]")
            } else {
                format!("\"*{alias}\"")
            };
            message = format!(
                "YAML syntax error: a value that starts with `*` is an alias in YAML, and `*{alias}` \
                 names no anchor; to write the pattern `*{alias}`, quote it: `{quoted}`"
            );
        } else if !alias.is_empty() {
            message = format!(
                "YAML syntax error: the alias `*{alias}` names no anchor; mark the value it \
                 repeats with `&{alias}` before it"
            );
        }
    }
    message
}

/// Whether the name of an alias (what follows its `*`) reads as the rest of a glob or a path
/// (`**/*.md`, `*.tmp`) rather than an anchor's name.
fn looks_like_a_pattern(alias: &str) -> bool {
    alias.starts_with(['*', '/', '.']) || alias.contains(['/', '.'])
}

/// The name of the alias written at `pos` (what follows its `*`).
fn alias_name(text: &str, pos: Pos) -> String {
    let line = text
        .lines()
        .nth(pos.line.saturating_sub(1))
        .unwrap_or_default();
    line.chars()
        .skip(pos.col.saturating_sub(1))
        .skip_while(|c| *c != '*')
        .skip(1)
        .take_while(|c| !c.is_whitespace() && !",]}".contains(*c))
        .collect()
}

/// Types a scalar by the YAML 1.2 core schema; quoted and block scalars are strings. A number
/// with no fraction is a whole number however it is written (`2.0` and `2e0` are `2`), when
/// it fits in 64 bits: the schema takes it as an integer, and so do the settings.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    let value = operators::yaml_scalar::core_schema_scalar(text, style == ScalarStyle::Plain, tag);
    match value.as_f64() {
        Some(float) if value.is_f64() => whole_number(float).unwrap_or(value),
        _ => value,
    }
}

/// `float` as an integer, when it is one that 64 bits hold.
fn whole_number(float: f64) -> Option<Value> {
    // 2^64 and -2^63 are exact as floats; `u64::MAX as f64` rounds up to 2^64.
    const TWO_TO_64: f64 = 18_446_744_073_709_551_616.0;
    if float.fract() != 0.0 || !float.is_finite() {
        return None;
    }
    if (0.0..TWO_TO_64).contains(&float) {
        Some(Value::from(float as u64))
    } else if (-TWO_TO_64 / 2.0..0.0).contains(&float) {
        Some(Value::from(float as i64))
    } else {
        None
    }
}

/// Whether a plain scalar is written as a number (digits, a point, an exponent, a sign), also
/// one too large to read (`1e309`).
pub fn reads_as_number(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body.chars().any(|c| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document of a file without problems.
    fn doc(text: &str) -> LocatedValue {
        let parsed = parse(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        parsed.doc.expect("a document")
    }

    /// A `{` left open was reported at the next line or the end of the file, with the reader's
    /// words only: the message now names where it opened.
    #[test]
    fn an_unclosed_bracket_is_named_where_it_opens() {
        let message = |text: &str| {
            let parsed = parse(text);
            assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
            parsed.errors[0].message.clone()
        };
        let mapping = message("steps:\n  docs: { op: files, path: docs\n  parse: { op: parse }\n");
        assert!(
            mapping.contains("in the `{ … }` that opens at line 2, column 9: its entries are separated by `,` and it ends with `}`"),
            "{mapping}"
        );
        let sequence = message("steps:\n  docs: { op: files, include: [\"a\", \"b\" }\n");
        assert!(
            sequence.contains("in the `[ … ]` that opens at line 2, column 31"),
            "{sequence}"
        );
        let quote = message("steps:\n  docs: { op: \"files }\n");
        assert!(
            quote.contains("the quote that opens here is never closed"),
            "{quote}"
        );
        let indent = message("steps:\n  docs:\n    op: files\n   path: docs\n");
        assert!(indent.contains("check its indentation"), "{indent}");
    }

    /// A key indented too far, a value holding `: ` and a quote left open before more lines
    /// got only the reader's words ("mapping values are not allowed in this context",
    /// "invalid indentation in quoted scalar"): each now says what to do.
    #[test]
    fn common_slips_say_what_to_do() {
        let message = |text: &str| {
            let parsed = parse(text);
            assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
            parsed.errors[0].message.clone()
        };
        let deeper = message("steps:\n  docs:\n    op: files\n     path: docs\n");
        assert!(deeper.contains("indented deeper than the keys"), "{deeper}");
        let colon = message("name: t\ndescription: Note: the sample\nsteps: {}\n");
        assert!(
            colon.contains("a value holding `: ` must be quoted"),
            "{colon}"
        );
        let quote = message("version: 1\nname: \"kb\ndescription: x\nsteps: {}\n");
        assert!(quote.contains("probably never closed"), "{quote}");
    }

    /// 10,000 nested `[` gave only the reader's "recursion limit exceeded".
    #[test]
    fn nesting_past_the_readers_limit_says_how_deep_a_pipeline_may_nest() {
        let text = format!("steps: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let parsed = parse(&text);
        let message = &parsed.errors[0].message;
        assert!(
            message.contains(&format!("nests {MAX_DEPTH} levels at most")),
            "{message}"
        );
    }

    #[test]
    fn types_scalars_by_the_core_schema() {
        let doc = doc("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: hello\ng: 0x10\nh: -3\n");
        assert_eq!(
            doc.value,
            serde_json::json!({"a": 1, "b": 1.5, "c": true, "d": null, "e": "1", "f": "hello", "g": 16, "h": -3})
        );
    }

    #[test]
    fn locates_keys_and_values() {
        let doc = doc("version: 1\nsteps:\n  parse: { op: parse, input: docs }\n");
        let loc = doc.location("/steps/parse/input").unwrap();
        assert_eq!(loc.key, Some(Pos { line: 3, col: 23 }));
        assert_eq!(loc.value, Pos { line: 3, col: 30 });
        assert_eq!(doc.location("/steps/parse/missing"), None);
        assert_eq!(
            doc.key_pos("/steps/parse/missing/deeper"),
            doc.key_pos("/steps/parse")
        );
    }

    #[test]
    fn reports_duplicate_keys_with_both_lines() {
        let parsed = parse("steps:\n  a: 1\n  b: 2\n  a: 3\n");
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].pos.line, 4);
        assert_eq!(parsed.errors[0].pointer.as_deref(), Some("/steps/a"));
        assert!(
            parsed.errors[0]
                .message
                .contains("duplicate step name `a` (first at line 2)")
        );
    }

    /// A duplicate key is one problem among others: the rest of the file is read (the first
    /// value kept), so the checks after the YAML still run on it.
    #[test]
    fn a_duplicate_key_keeps_the_document() {
        let parsed = parse("a: 1\nb: { x: 1, x: 2 }\nc: 3\nc: 4\n");
        assert_eq!(parsed.errors.len(), 2, "{:?}", parsed.errors);
        assert_eq!(
            parsed.doc.unwrap().value,
            serde_json::json!({"a": 1, "b": {"x": 1}, "c": 3})
        );
    }

    #[test]
    fn syntax_errors_say_what_to_do() {
        let tabs = parse("version: 1\nsteps:\n\tdocs: { op: parse }\n");
        assert!(
            tabs.errors[0].message.contains("indent with spaces"),
            "{}",
            tabs.errors[0].message
        );
        let alias = parse("version: 1\nsteps:\n  docs: *zz\n");
        assert!(
            alias.errors[0].message.contains("`*zz`") && alias.errors[0].message.contains("&zz"),
            "{}",
            alias.errors[0].message
        );
        // A glob left unquoted reads as an alias: the way out is quoting it, not an anchor.
        for (written, quoted) in [
            ("[**/*.md]", "`\"**/*.md\"`"),
            ("*.tmp", "`[\"*.tmp\"]`"),
            ("[\"a\", *.md]", "`\"*.md\"`"),
        ] {
            let glob = parse(&format!(
                "version: 1\nsteps:\n  docs: {{ include: {written} }}\n"
            ));
            let message = &glob.errors[0].message;
            assert!(
                message.contains("quote it") && message.contains(quoted),
                "{message}"
            );
            assert!(!message.contains('&'), "{message}");
        }
    }

    #[test]
    fn reports_syntax_errors_with_a_line() {
        let parsed = parse("steps:\n  a: [1, 2\n  b: 3\n");
        assert!(parsed.doc.is_none());
        assert!(parsed.errors[0].message.starts_with("YAML syntax error"));
        assert!(parsed.errors[0].pos.line >= 2);
    }

    #[test]
    fn expands_aliases_but_refuses_a_billion_laughs() {
        let doc = doc("a: &x [1, 2]\nb: *x\n");
        assert_eq!(doc.value["b"], serde_json::json!([1, 2]));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let prev = level - 1;
            bomb.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let parsed = parse(&bomb);
        assert!(parsed.doc.is_none());
        // One problem, said once: no cascade of errors about the events left unread.
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
        assert!(
            parsed.errors[0]
                .message
                .contains("aliases expand the file to more than 100000 values"),
            "{:?}",
            parsed.errors
        );
    }

    /// A large file without aliases is refused while it is read, said as what it is.
    #[test]
    fn a_file_of_too_many_values_stops_at_the_limit() {
        let mut text = String::from("steps:\n  docs:\n    include:\n");
        for _ in 0..MAX_NODES {
            text.push_str("      - x\n");
        }
        let parsed = parse(&text);
        assert!(parsed.doc.is_none());
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
        let error = &parsed.errors[0];
        assert!(
            error.message.contains("holds more than 100000 values"),
            "{error:?}"
        );
        assert!(!error.message.contains("alias"), "{error:?}");
        assert!(error.pos.line > 1000, "{error:?}");
    }

    #[test]
    fn a_file_over_the_size_limit_is_not_read() {
        let text = "#".repeat(MAX_FILE_BYTES + 1);
        let parsed = parse(&text);
        assert!(parsed.doc.is_none());
        assert!(parsed.errors[0].message.contains("larger than 1 MiB"));
    }

    /// Aliases copy at most so many bytes, and nest at most so deep.
    #[test]
    fn aliases_copy_a_bounded_amount() {
        let long = "x".repeat(100_000);
        let mut text = format!("a: &a \"{long}\"\nb: [");
        for _ in 0..200 {
            text.push_str("*a, ");
        }
        text.push_str("]\n");
        let parsed = parse(&text);
        assert!(parsed.doc.is_none());
        assert!(parsed.errors[0].message.contains("copy more than 16 MiB"));
        let mut deep = String::from("a0: &a0 [1]\n");
        for level in 1..80 {
            deep.push_str(&format!("a{level}: &a{level} [*a{}]\n", level - 1));
        }
        let parsed = parse(&deep);
        assert!(
            parsed
                .errors
                .iter()
                .any(|e| e.message.contains("deeper than 64")),
            "{:?}",
            parsed.errors
        );
    }

    #[test]
    fn merge_keys_add_the_keys_not_set_in_the_mapping() {
        let doc = doc(
            "base: &b { op: parse, input: docs, format: markdown }\nmore: &m { format: html, pdf: 1 }\none: { <<: *b, input: other }\ntwo: { format: text, <<: [*m, *b] }\n",
        );
        assert_eq!(
            doc.value["one"],
            serde_json::json!({"op": "parse", "input": "other", "format": "markdown"})
        );
        assert_eq!(
            doc.value["two"],
            serde_json::json!({"format": "text", "pdf": 1, "op": "parse", "input": "docs"})
        );
        // A merged key points at the merge key's line.
        assert_eq!(doc.key_pos("/one/op").line, 3);
        let parsed = parse("a: { <<: 1 }\n");
        assert!(
            parsed.errors[0]
                .message
                .contains("merge key `<<` takes a mapping")
        );
        // A quoted `<<` is an ordinary key.
        assert_eq!(
            doc_value("a: { '<<': 1 }\n"),
            serde_json::json!({"a": {"<<": 1}})
        );
    }

    /// Two merge keys in one mapping are refused like any key written twice (which of them
    /// wins would be a guess); a list merges several, and a quoted `<<` is no merge key.
    #[test]
    fn a_second_merge_key_is_refused() {
        let parsed = parse("a: &a { x: 1 }\nb: &b { y: 2 }\nc: { <<: *a,\n  <<: *b }\n");
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
        assert_eq!(parsed.errors[0].pos.line, 4);
        assert!(
            parsed.errors[0]
                .message
                .contains("a second merge key `<<` (first at line 3)"),
            "{}",
            parsed.errors[0].message
        );
        assert_eq!(parsed.doc.unwrap().value["c"], serde_json::json!({"x": 1}));
        assert!(
            parse("a: &a { x: 1 }\nc: { '<<': 0, <<: *a }\n")
                .errors
                .is_empty()
        );
    }

    fn doc_value(text: &str) -> Value {
        doc(text).value
    }

    #[test]
    fn a_key_longer_than_yaml_allows_is_named() {
        let key = "a".repeat(1100);
        let parsed = parse(&format!("steps:\n  {key}: {{ op: parse }}\n"));
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
        assert!(
            parsed.errors[0].message.contains("1100 characters long"),
            "{:?}",
            parsed.errors
        );
        assert_eq!(parsed.errors[0].pos, Pos { line: 2, col: 3 });
        let parsed = parse(&format!("steps:\n  \"{key}\":\n    op: parse\n"));
        assert!(parsed.errors[0].message.contains("1100 characters long"));
        let parsed = parse(&format!("steps: {{ {key}: {{ op: parse }} }}\n"));
        assert!(parsed.errors[0].message.contains("1100 characters long"));
    }

    /// `2.0` was a float here and an integer to the JSON Schema, so some settings took it and
    /// others refused it: a whole number fitting 64 bits is one however written.
    #[test]
    fn whole_numbers_are_integers_however_written() {
        let doc = doc("a: 2.0\nb: 1e3\nc: -2.0\nd: 2.5\ne: 1e20\nf: '2.0'\n");
        assert_eq!(
            doc.value,
            serde_json::json!({"a": 2, "b": 1000, "c": -2, "d": 2.5, "e": 1e20, "f": "2.0"})
        );
        assert!(doc.value["a"].is_u64() && doc.value["c"].is_i64());
    }

    /// A number is echoed as written (`99999999999999999999999` was `1e+23`), and so is one
    /// too large to read, kept as text (`1e309`); quoted text and words are not numbers.
    #[test]
    fn numbers_keep_how_they_were_written() {
        let doc = doc("a: 99999999999999999999999\nb: [1e309, 2.0]\nc: '1e309'\nd: yes\n");
        assert_eq!(doc.written("/a"), Some("99999999999999999999999"));
        assert_eq!(doc.written("/b/0"), Some("1e309"));
        assert_eq!(doc.value["b"][0], "1e309");
        assert_eq!(doc.written("/b/1"), Some("2.0"));
        assert_eq!((doc.written("/c"), doc.written("/d")), (None, None));
    }

    /// An alias inside the value its anchor marks was "an alias to an unknown anchor".
    #[test]
    fn an_alias_inside_its_own_anchors_value_is_named() {
        for text in ["a: &x [*x]\n", "a: &c { op: parse, <<: *c }\n"] {
            let parsed = parse(text);
            assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
            let message = &parsed.errors[0].message;
            let name = if text.contains("&x") { "x" } else { "c" };
            assert!(
                message.contains(&format!(
                    "the alias `*{name}` is inside the value its anchor `&{name}` marks, which YAML does not allow"
                )),
                "{message}"
            );
        }
        // Once its value ends, the anchor is aliased as ever.
        assert_eq!(
            doc("a: &x [1]\nb: [*x]\n").value["b"],
            serde_json::json!([[1]])
        );
    }

    #[test]
    fn refuses_a_second_document() {
        let parsed = parse("a: 1\n---\nb: 2\n");
        assert!(parsed.errors[0].message.contains("one YAML document"));
    }
}
