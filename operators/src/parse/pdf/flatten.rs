//! Page flattening before extraction: each page's content is rewritten into one stream that
//! holds only text and transformation operators, with form XObjects drawn inline (under their
//! matrix and the current transformation, which pdf-extract would otherwise lose), images and
//! vector graphics dropped (the thin lines they paint kept aside as rules, see [`super::rules`]),
//! `'` and `"` turned into the operators pdf-extract knows, and
//! malformed operations (wrong operand count or type) removed so that they cannot make the
//! interpreter panic. Content cut short (see [`truncated`]) is read to its last complete
//! operation. Fonts are renamed after their objects so that pages can be drawn together, and
//! handed over without what the file lost (see [`dangling`]) or what pdf-extract panics on
//! (see [`font_repair`]).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::cid_encoding::Readable;
use super::dangling::{self, Checked};
use super::font_repair::{self, Defect};
use super::rebuild::Cut;
use super::rules::{Gfx, Painter, Rule};
use super::streams::{self, DecodeError, Decoded};
use super::{tokens, truncated};

/// Deepest nesting of form XObjects followed (deeper ones are left out, with a warning).
/// What they draw counts against the page's [`Limits`] each time it is drawn, whatever
/// the depth, and the parsing thread's stack is ample for it.
pub(crate) const MAX_FORM_DEPTH: usize = 32;
/// Most operations kept on one page (bounded memory and time): no more than it may read.
const MAX_OPERATIONS: usize = MAX_CONTENT_TOKENS;
/// Most decoded content read for one page, in bytes: its content streams and every form it
/// draws (each time it draws it), together.
pub(crate) const MAX_CONTENT_BYTES: usize = 64 << 20;
/// Most tokens (objects and operators, as [`tokens::count_content`] counts them: a string is
/// one) handed to lopdf's content parser for one page, its streams and forms together. lopdf
/// builds some 600 bytes per operation, so this keeps a page's parsed content to about 250 MB
/// at worst (a string's bytes are bounded by [`MAX_CONTENT_BYTES`]); the largest page of the
/// test corpus has 36,000 (counting each run of letters or digits in strings).
pub(crate) const MAX_CONTENT_TOKENS: usize = 400_000;
/// Deepest nesting of `q` kept in one content stream. pdf-extract copies its whole graphics
/// state at every `q`, and `q ` is two bytes that compress to nothing, so unmatched ones could
/// cost gigabytes (the PDF reference gives 28 as a viewer's limit).
pub(super) const MAX_SAVES: usize = 4096;

/// Resource categories whose names the kept operators refer to.
const FONT: &[u8] = b"Font";

/// A page reduced to text operators.
#[derive(Debug, Default, Clone)]
pub(crate) struct Flattened {
    /// The operations, to be drawn inside `q … Q`.
    pub ops: Vec<Operation>,
    /// The fonts they name. A font object is named after its object number (`R12_0`), so the
    /// fonts of many pages merge without clashes and the interpreter's font cache stays valid
    /// from page to page.
    pub fonts: Dictionary,
    /// Form XObjects drawn inline.
    pub forms: usize,
    /// Whether forms nested deeper than [`MAX_FORM_DEPTH`] were left out.
    pub forms_too_deep: bool,
    /// For each text-showing string, in the order pdf-extract will show them (it calls
    /// `begin_word` once per string), what its font looks like.
    pub faces: Vec<Face>,
    /// Bytes of content decoded to reduce the page (which bounds the bytes of its strings).
    pub bytes: usize,
    /// Whether some of its content was cut short or is missing (what came before was read).
    pub cut: bool,
    /// Fonts read without the entries that lead to objects the file lost, and fonts lost (the
    /// text shown in them left out), by the names the operations give them (`R12_0`).
    pub fonts_repaired: Vec<Vec<u8>>,
    pub fonts_lost: Vec<Vec<u8>>,
    /// Fonts read without malformed entries pdf-extract panics on, by name, with each kind of
    /// entry (see [`font_repair`]).
    pub fonts_malformed: Vec<(Vec<u8>, Defect)>,
    /// Fonts whose encoding (a predefined CMap, by name) cannot be decoded, the text shown in
    /// them left out: `(font, encoding)`.
    pub fonts_undecodable: Vec<(Vec<u8>, String)>,
    /// Fonts past the codes a page may map through ToUnicode CMaps, the text shown in them left
    /// out (see [`super::cmap_guard::MAX_PAGE_MAPPED_CODES`]).
    pub fonts_over_budget: Vec<Vec<u8>>,
    /// The page's fonts that map codes through a ToUnicode CMap, with how many.
    pub mapped_codes: Vec<(Vec<u8>, u64)>,
    /// The thin lines the page paints, in default user space (see [`super::rules`]).
    pub rules: Vec<Rule>,
}

/// What a font looks like, as far as layout cares.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Face {
    /// A bold weight.
    pub bold: bool,
    /// A monospaced (typewriter) design: code.
    pub mono: bool,
    /// A font of pictographs (Wingdings, Webdings, Zapf Dingbats, other dingbats): a glyph of
    /// it with no Unicode meaning is a symbol such as a bullet or a check box.
    pub dingbats: bool,
}

/// What reading one page may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Decoded bytes of content: the page's streams and every form drawn, each time drawn.
    pub content_bytes: usize,
    /// Tokens of that content handed to lopdf's content parser.
    pub content_tokens: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            content_bytes: MAX_CONTENT_BYTES,
            content_tokens: MAX_CONTENT_TOKENS,
        }
    }
}

/// Reduces page `page` of `doc`, whose streams in `cut` were cut short, to text operators;
/// `tag` makes the names of fonts that are not separate objects unique to this page. `fonts`
/// keeps what was found of the document's fonts from page to page.
pub(crate) fn flatten_page(
    doc: &Document,
    cut: &Cut,
    fonts: &mut font_repair::Cache,
    page: ObjectId,
    tag: u32,
    deadline: Instant,
) -> Result<Flattened, String> {
    flatten_page_with(doc, cut, fonts, page, tag, deadline, Limits::default())
}

/// [`flatten_page`] within `limits`.
pub(crate) fn flatten_page_with(
    doc: &Document,
    cut: &Cut,
    fonts: &mut font_repair::Cache,
    page: ObjectId,
    tag: u32,
    deadline: Instant,
    limits: Limits,
) -> Result<Flattened, String> {
    let mut budget = Budget {
        limits,
        bytes: 0,
        tokens: 0,
    };
    let (content, short) = page_content(doc, cut, page, &mut budget)?;
    let resources = page_resources(doc, page).unwrap_or_default();
    let mut state = State {
        doc,
        cut,
        font_checks: fonts,
        short,
        repaired: Vec::new(),
        lost: Vec::new(),
        malformed: Vec::new(),
        undecodable: Vec::new(),
        over_budget: Vec::new(),
        mapped_codes: Vec::new(),
        tag,
        font_set: false,
        face_now: Face::default(),
        face_stack: Vec::new(),
        painter: Painter::default(),
        font_faces: HashMap::new(),
        shows: Vec::new(),
        out: Vec::new(),
        fonts: Dictionary::new(),
        forms: 0,
        too_deep: false,
        stack: HashSet::new(),
        deadline,
        budget,
    };
    let ops = state.budget.parse(&content)?;
    drop(content);
    state.walk(ops, &resources, 0)?;
    Ok(Flattened {
        ops: state.out,
        fonts: state.fonts,
        forms: state.forms,
        forms_too_deep: state.too_deep,
        faces: state.shows,
        bytes: state.budget.bytes,
        cut: state.short,
        fonts_repaired: state.repaired,
        fonts_lost: state.lost,
        fonts_malformed: state.malformed,
        fonts_undecodable: state.undecodable,
        fonts_over_budget: state.over_budget,
        mapped_codes: state.mapped_codes,
        rules: state.painter.rules,
    })
}

/// What one page has read so far, against its limits.
#[derive(Debug, Clone, Copy)]
struct Budget {
    limits: Limits,
    bytes: usize,
    tokens: usize,
}

impl Budget {
    /// Bytes still to be read.
    fn bytes_left(&self) -> usize {
        self.limits.content_bytes.saturating_sub(self.bytes)
    }

    fn too_large(&self) -> String {
        format!(
            "its content (streams and forms) decodes to more than the {} read",
            size(self.limits.content_bytes)
        )
    }

    /// The decoded data of `stream`, counted against the budget.
    fn decode(&mut self, stream: &Stream) -> Result<Result<Decoded, ()>, String> {
        match streams::decode_prefix(stream, self.bytes_left()) {
            Ok(decoded) => {
                self.bytes += decoded.bytes.len();
                Ok(Ok(decoded))
            }
            Err(DecodeError::TooLarge) => Err(self.too_large()),
            Err(DecodeError::Unreadable) => Ok(Err(())),
        }
    }

    /// The operations of `content`, refused before lopdf parses them when they could take
    /// more tokens than are left.
    fn parse(&mut self, content: &[u8]) -> Result<Vec<Operation>, String> {
        let content = tokens::blank_bad_hex_strings(content);
        self.tokens = self.tokens.saturating_add(tokens::count_content(&content));
        if self.tokens > self.limits.content_tokens {
            return Err(format!(
                "its content (streams and forms) holds more than the {} objects and operators read",
                self.limits.content_tokens
            ));
        }
        Content::decode(&content)
            .map(|c| c.operations)
            .map_err(|e| format!("unreadable content stream ({e})"))
    }
}

/// `bytes` in MiB, or in bytes when less than one MiB.
fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// The page's content streams decoded and joined by newlines, as lopdf's `get_page_content`
/// joins them (a stream whose filter is not read is taken as it is), within the budget; and
/// whether some were missing or cut short (of those, the complete operations are kept).
fn page_content(
    doc: &Document,
    cut: &Cut,
    page: ObjectId,
    budget: &mut Budget,
) -> Result<(Vec<u8>, bool), String> {
    let mut content = Vec::new();
    let mut short = false;
    for id in doc.get_page_contents(page) {
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            short = true;
            continue;
        };
        let (bytes, complete) = match budget.decode(stream)? {
            Ok(decoded) => (Cow::Owned(decoded.bytes), decoded.complete),
            Err(()) => {
                if stream.content.len() > budget.bytes_left() {
                    return Err(budget.too_large());
                }
                budget.bytes += stream.content.len();
                (Cow::Borrowed(&stream.content[..]), true)
            }
        };
        if complete && !cut.contains(&id) {
            content.extend_from_slice(&bytes);
        } else {
            short = true;
            content.extend_from_slice(truncated::complete_operations(&bytes));
        }
        content.push(b'\n');
    }
    Ok((content, short))
}

/// Makes `page` of `doc` draw `ops` with `fonts` and nothing else.
pub(crate) fn install(
    doc: &mut Document,
    page: ObjectId,
    ops: Vec<Operation>,
    fonts: Dictionary,
) -> Result<(), String> {
    let bytes = Content { operations: ops }
        .encode()
        .map_err(|e| format!("cannot re-encode the page ({e})"))?;
    let mut resources = Dictionary::new();
    resources.set(FONT, Object::Dictionary(fonts));
    let stream = doc.add_object(Stream::new(Dictionary::new(), bytes));
    let dict = doc
        .get_object_mut(page)
        .and_then(Object::as_dict_mut)
        .map_err(|e| format!("the page is not a dictionary ({e})"))?;
    dict.set("Contents", Object::Reference(stream));
    dict.set("Resources", Object::Dictionary(resources));
    Ok(())
}

/// The page's own `Contents` and `Resources` entries, to put back after [`install`].
pub(crate) fn save(doc: &Document, page: ObjectId) -> [Option<Object>; 2] {
    let dict = doc.get_object(page).and_then(Object::as_dict).ok();
    let get = |key: &[u8]| dict.and_then(|d| d.get(key).ok()).cloned();
    [get(b"Contents"), get(b"Resources")]
}

/// Puts back what [`save`] kept.
pub(crate) fn restore(doc: &mut Document, page: ObjectId, saved: [Option<Object>; 2]) {
    let Ok(dict) = doc.get_object_mut(page).and_then(Object::as_dict_mut) else {
        return;
    };
    for (key, value) in [&b"Contents"[..], b"Resources"].into_iter().zip(saved) {
        match value {
            Some(value) => dict.set(key, value),
            None => {
                dict.remove(key);
            }
        }
    }
}

/// The font descriptor of font dictionary `font`, when it has one.
pub(super) fn font_descriptor<'a>(
    doc: &'a Document,
    font: &'a Dictionary,
) -> Option<&'a Dictionary> {
    font.get(b"FontDescriptor")
        .ok()
        .and_then(|d| resolve(doc, d))
        .and_then(|d| d.as_dict().ok())
}

/// Follows references (a bounded number of times).
pub(super) fn resolve<'a>(doc: &'a Document, mut obj: &'a Object) -> Option<&'a Object> {
    for _ in 0..8 {
        match obj {
            Object::Reference(id) => obj = doc.get_object(*id).ok()?,
            other => return Some(other),
        }
    }
    None
}

/// The page's resources, inherited from its ancestors when absent.
fn page_resources(doc: &Document, page: ObjectId) -> Option<Dictionary> {
    let mut dict = doc.get_object(page).ok()?.as_dict().ok()?;
    for _ in 0..32 {
        if let Ok(res) = dict.get(b"Resources") {
            return resolve(doc, res)?.as_dict().ok().cloned();
        }
        let parent = dict.get(b"Parent").ok()?.as_reference().ok()?;
        dict = doc.get_object(parent).ok()?.as_dict().ok()?;
    }
    None
}

/// The `Font` sub-dictionary of some resources, resolved.
fn font_dict(doc: &Document, resources: &Dictionary) -> Dictionary {
    resources
        .get(FONT)
        .ok()
        .and_then(|o| resolve(doc, o))
        .and_then(|o| o.as_dict().ok())
        .cloned()
        .unwrap_or_default()
}

struct State<'d> {
    doc: &'d Document,
    /// Streams the end of the file cut short.
    cut: &'d Cut,
    /// What was found of the document's fonts.
    font_checks: &'d mut font_repair::Cache,
    /// Whether content read was cut short or missing.
    short: bool,
    /// Fonts repaired and lost (see [`Flattened`]).
    repaired: Vec<Vec<u8>>,
    lost: Vec<Vec<u8>>,
    malformed: Vec<(Vec<u8>, Defect)>,
    undecodable: Vec<(Vec<u8>, String)>,
    over_budget: Vec<Vec<u8>>,
    /// The fonts added so far that map codes through a ToUnicode CMap, with how many.
    mapped_codes: Vec<(Vec<u8>, u64)>,
    /// Distinguishes this page's direct (unnumbered) fonts.
    tag: u32,
    /// Faces by font name, computed once; `None` for a font lost.
    font_faces: HashMap<Vec<u8>, Option<Face>>,
    out: Vec<Operation>,
    /// Whether a font has been selected (showing text before that would panic).
    font_set: bool,
    /// The current font's face, and the faces saved by `q` with whether a font was set (a
    /// `Q` can restore a state without one).
    face_now: Face,
    face_stack: Vec<(Face, bool, Gfx)>,
    /// Paths and their paint, for the rules they draw.
    painter: Painter,
    /// The face of each shown string.
    shows: Vec<Face>,
    fonts: Dictionary,
    forms: usize,
    /// Whether a form nested deeper than [`MAX_FORM_DEPTH`] was left out.
    too_deep: bool,
    stack: HashSet<ObjectId>,
    deadline: Instant,
    budget: Budget,
}

fn is_number(o: &Object) -> bool {
    matches!(o, Object::Integer(_) | Object::Real(_))
}

fn numbers(ops: &[Object], n: usize) -> bool {
    ops.len() == n && ops.iter().all(is_number)
}

fn op(operator: &str, operands: Vec<Object>) -> Operation {
    Operation::new(operator, operands)
}

impl State<'_> {
    /// Reduces one content stream (a page's or a form's). The `q`/`Q` it passes on are
    /// balanced, whatever the stream does: a `Q` with nothing of this stream to restore is
    /// left out, states it leaves saved are restored at its end (so they do not pile up over
    /// the pages, drawn in one pass), and saves nested deeper than [`MAX_SAVES`] are left out
    /// with their `Q`.
    fn walk(
        &mut self,
        ops: Vec<Operation>,
        resources: &Dictionary,
        depth: usize,
    ) -> Result<(), String> {
        let base = self.face_stack.len();
        let result = self.walk_ops(ops, resources, depth, base);
        while self.face_stack.len() > base {
            if let Some((face, font_set, gfx)) = self.face_stack.pop() {
                (self.face_now, self.font_set, self.painter.gfx) = (face, font_set, gfx);
            }
            self.out.push(op("Q", vec![]));
        }
        result
    }

    fn walk_ops(
        &mut self,
        ops: Vec<Operation>,
        resources: &Dictionary,
        depth: usize,
        base: usize,
    ) -> Result<(), String> {
        let local_fonts = font_dict(self.doc, resources);
        // `q`s left out beyond MAX_SAVES, whose `Q`s are left out too.
        let mut unsaved = 0usize;
        let scope = self.forms;
        for (i, mut operation) in ops.into_iter().enumerate() {
            if self.out.len() >= MAX_OPERATIONS {
                return Ok(());
            }
            if i % 4096 == 4095 && Instant::now() > self.deadline {
                return Err("time budget spent".into());
            }
            let o = &operation.operands;
            match operation.operator.as_str() {
                "q" if self.face_stack.len() - base >= MAX_SAVES => unsaved += 1,
                "Q" if unsaved > 0 => unsaved -= 1,
                "Q" if self.face_stack.len() <= base => {}
                "BT" | "ET" | "q" | "Q" | "T*" => {
                    match operation.operator.as_str() {
                        "q" => {
                            self.face_stack
                                .push((self.face_now, self.font_set, self.painter.gfx))
                        }
                        "Q" => {
                            if let Some((face, font_set, gfx)) = self.face_stack.pop() {
                                (self.face_now, self.font_set, self.painter.gfx) =
                                    (face, font_set, gfx);
                            }
                        }
                        _ => {}
                    }
                    operation.operands.clear();
                    self.out.push(operation);
                }
                "cm" if numbers(o, 6) => {
                    self.painter.op("cm", o);
                    self.out.push(operation)
                }
                "Tm" if numbers(o, 6) => self.out.push(operation),
                "Td" | "TD" if numbers(o, 2) => self.out.push(operation),
                "Tc" | "Tw" | "Tz" | "TL" | "Ts" if numbers(o, 1) => self.out.push(operation),
                "Tf" if o.len() == 2 && is_number(&o[1]) => {
                    let Ok(name) = o[0].as_name() else { continue };
                    let Ok(value) = local_fonts.get(name) else {
                        continue;
                    };
                    let renamed = match value {
                        Object::Reference((n, g)) => format!("R{n}_{g}"),
                        _ => format!("P{}S{scope}_{}", self.tag, String::from_utf8_lossy(name)),
                    };
                    let face = match self.font_faces.get(renamed.as_bytes()) {
                        Some(&face) => face,
                        None => {
                            let face = self.add_font(renamed.as_bytes(), value);
                            self.font_faces.insert(renamed.clone().into_bytes(), face);
                            face
                        }
                    };
                    // A font lost shows nothing, until the next one is selected.
                    let Some(face) = face else {
                        self.font_set = false;
                        continue;
                    };
                    self.face_now = face;
                    self.font_set = true;
                    let size = o[1].clone();
                    self.out
                        .push(op("Tf", vec![Object::Name(renamed.into_bytes()), size]));
                }
                "Tj" if self.font_set
                    && matches!(o.first(), Some(Object::String(..)))
                    && o.len() == 1 =>
                {
                    self.shows.push(self.face_now);
                    self.out.push(operation)
                }
                "TJ" if self.font_set
                    && matches!(o.first(), Some(Object::Array(_)))
                    && o.len() == 1 =>
                {
                    if let Some(Object::Array(items)) = o.first() {
                        let strings = items
                            .iter()
                            .filter(|i| matches!(i, Object::String(..)))
                            .count();
                        self.shows
                            .extend(std::iter::repeat_n(self.face_now, strings));
                    }
                    self.out.push(operation)
                }
                "'" if self.font_set
                    && matches!(o.first(), Some(Object::String(..)))
                    && o.len() == 1 =>
                {
                    self.out.push(op("T*", vec![]));
                    self.shows.push(self.face_now);
                    operation.operator = "Tj".into();
                    self.out.push(operation);
                }
                "\"" if self.font_set
                    && o.len() == 3
                    && is_number(&o[0])
                    && is_number(&o[1])
                    && matches!(o[2], Object::String(..)) =>
                {
                    let mut operands = std::mem::take(&mut operation.operands);
                    let text = operands.pop().unwrap_or(Object::Null);
                    let ac = operands.pop().unwrap_or(Object::Integer(0));
                    let aw = operands.pop().unwrap_or(Object::Integer(0));
                    self.out.push(op("Tw", vec![aw]));
                    self.out.push(op("Tc", vec![ac]));
                    self.out.push(op("T*", vec![]));
                    self.shows.push(self.face_now);
                    self.out.push(op("Tj", vec![text]));
                }
                "Do" if o.len() == 1 => {
                    let Ok(name) = o[0].as_name() else { continue };
                    self.form(name, resources, depth)?;
                }
                "w" | "G" | "g" | "RG" | "rg" | "K" | "k" | "SC" | "sc" | "SCN" | "scn" | "CS"
                | "cs" | "m" | "l" | "c" | "v" | "y" | "h" | "re" | "S" | "s" | "f" | "F"
                | "f*" | "B" | "B*" | "b" | "b*" | "n" => {
                    self.painter.op(operation.operator.as_str(), o)
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Adds font `value` under `name` to the page's fonts, as pdf-extract can read it (see
    /// [`dangling`]); its face, or `None` when it is lost.
    fn add_font(&mut self, name: &[u8], value: &Object) -> Option<Face> {
        let font = match dangling::font(self.doc, self.cut, value) {
            Checked::Lost => {
                self.lost.push(name.to_vec());
                return None;
            }
            Checked::Repaired(copy) => {
                self.repaired.push(name.to_vec());
                Object::Dictionary(copy)
            }
            Checked::Whole => value.clone(),
        };
        let font = safe_font(self.doc, &font);
        let readable = resolve(self.doc, &font)
            .and_then(|f| f.as_dict().ok())
            .map(|dict| super::cid_encoding::readable(self.doc, dict));
        let font = match readable {
            Some(Readable::Copy(copy)) => Object::Dictionary(copy),
            Some(Readable::Not(encoding)) => {
                self.undecodable.push((name.to_vec(), encoding));
                return None;
            }
            Some(Readable::AsIs) | None => font,
        };
        let font = self.repair(name, value, font);
        let font = super::glyph_names::mapped(self.doc, font);
        // pdf-extract expands each font's CMap into a map of its own.
        let codes = resolve(self.doc, &font)
            .and_then(|f| f.as_dict().ok())
            .map_or(0, |dict| self.font_checks.mapped_codes(self.doc, dict));
        let mapped: u64 = self.mapped_codes.iter().map(|(_, codes)| codes).sum();
        if mapped + codes > super::cmap_guard::MAX_PAGE_MAPPED_CODES {
            self.over_budget.push(name.to_vec());
            return None;
        }
        if codes > 0 {
            self.mapped_codes.push((name.to_vec(), codes));
        }
        self.fonts.set(name, font);
        Some(Face {
            bold: is_bold(self.doc, value),
            mono: is_mono(self.doc, value),
            dingbats: is_dingbats(self.doc, value),
        })
    }

    /// Font `font`, which the page names `name` and refers to as `value`, or a copy without
    /// the entries pdf-extract panics on (see [`font_repair`]), found once a document.
    fn repair(&mut self, name: &[u8], value: &Object, font: Object) -> Object {
        let id = match value {
            Object::Reference(id) => Some(*id),
            _ => None,
        };
        let Some(dict) = resolve(self.doc, &font).and_then(|f| f.as_dict().ok()) else {
            return font;
        };
        let Some(repaired) = self.font_checks.font(self.doc, id, dict) else {
            return font;
        };
        for &defect in &repaired.defects {
            self.malformed.push((name.to_vec(), defect));
        }
        Object::Dictionary(repaired.font)
    }

    /// Draws form XObject `name` inline: `q`, its matrix, its content, `Q`.
    fn form(&mut self, name: &[u8], resources: &Dictionary, depth: usize) -> Result<(), String> {
        let doc = self.doc;
        let Some(Object::Reference(id)) = resources
            .get(b"XObject")
            .ok()
            .and_then(|o| resolve(doc, o))
            .and_then(|o| o.as_dict().ok())
            .and_then(|x| x.get(name).ok())
        else {
            return Ok(());
        };
        let id = *id;
        let Some(stream) = doc.get_object(id).ok().and_then(|o| o.as_stream().ok()) else {
            return Ok(());
        };
        let is_form = stream
            .dict
            .get(b"Subtype")
            .ok()
            .and_then(|o| o.as_name().ok())
            == Some(&b"Form"[..]);
        if !is_form || self.stack.contains(&id) {
            return Ok(());
        }
        if depth >= MAX_FORM_DEPTH {
            self.too_deep = true;
            return Ok(());
        }
        let Ok(decoded) = self.budget.decode(stream)? else {
            return Ok(());
        };
        let bytes = if decoded.complete && !self.cut.contains(&id) {
            &decoded.bytes[..]
        } else {
            self.short = true;
            truncated::complete_operations(&decoded.bytes)
        };
        // The page goes on without a form lopdf cannot parse, but not past the budget.
        let operations = match self.budget.parse(bytes) {
            Ok(operations) => operations,
            Err(_) if self.budget.tokens <= self.budget.limits.content_tokens => return Ok(()),
            Err(reason) => return Err(reason),
        };
        drop(decoded);
        let inner = stream
            .dict
            .get(b"Resources")
            .ok()
            .and_then(|o| resolve(doc, o))
            .and_then(|o| o.as_dict().ok())
            .cloned()
            .unwrap_or_else(|| resources.clone());
        let matrix = stream
            .dict
            .get(b"Matrix")
            .ok()
            .and_then(|o| resolve(doc, o))
            .and_then(|o| o.as_array().ok())
            .filter(|m| numbers(m, 6))
            .cloned();
        self.forms += 1;
        // The `Q` after the form restores the font (and the matrix) from before it.
        let saved = (self.face_now, self.font_set, self.painter.gfx);
        self.out.push(op("q", vec![]));
        if let Some(matrix) = matrix {
            self.painter.op("cm", &matrix);
            self.out.push(op("cm", matrix));
        }
        self.stack.insert(id);
        let result = self.walk(operations, &inner, depth + 1);
        self.stack.remove(&id);
        self.out.push(op("Q", vec![]));
        (self.face_now, self.font_set, self.painter.gfx) = saved;
        result
    }
}

/// The font object, or a copy without its ToUnicode CMap when that one is too large to expand.
fn safe_font(doc: &Document, font: &Object) -> Object {
    let Some(dict) = resolve(doc, font).and_then(|f| f.as_dict().ok()) else {
        return font.clone();
    };
    if super::cmap_guard::to_unicode_is_safe(doc, dict) {
        return font.clone();
    }
    let mut copy = dict.clone();
    copy.remove(b"ToUnicode");
    Object::Dictionary(copy)
}

/// A font dictionary's `BaseFont` name, in lower case.
fn base_font(font: &Dictionary) -> Option<String> {
    let name = font.get(b"BaseFont").ok()?.as_name().ok()?;
    Some(String::from_utf8_lossy(name).to_ascii_lowercase())
}

/// Whether a font object is bold: by its name (`Helvetica-Bold`, `ABCDEF+Arial,Bold`,
/// `…-Semibold`, `…Black`, `…Heavy`), its descriptor's weight (600 or more) or its ForceBold
/// flag; a composite font by its descendant.
fn is_bold(doc: &Document, font: &Object) -> bool {
    let Some(dict) = resolve(doc, font).and_then(|f| f.as_dict().ok()) else {
        return false;
    };
    let named_bold = base_font(dict).is_some_and(|n| {
        ["bold", "black", "heavy", "semibold", "demi"]
            .iter()
            .any(|w| n.contains(w))
            || tex_bold(&n)
    });
    if named_bold {
        return true;
    }
    if let Some(descriptor) = font_descriptor(doc, dict) {
        let weight = descriptor
            .get(b"FontWeight")
            .ok()
            .and_then(|w| resolve(doc, w))
            .and_then(|w| w.as_float().ok());
        let flags = descriptor
            .get(b"Flags")
            .ok()
            .and_then(|f| resolve(doc, f))
            .and_then(|f| f.as_i64().ok())
            .unwrap_or(0);
        return weight.is_some_and(|w| w >= 600.0) || flags & (1 << 18) != 0;
    }
    let descendant = dict
        .get(b"DescendantFonts")
        .ok()
        .and_then(|d| resolve(doc, d))
        .and_then(|d| d.as_array().ok())
        .and_then(|a| a.first());
    match descendant {
        Some(inner) if !matches!(inner, Object::Array(_)) => {
            resolve(doc, inner).is_some_and(|i| {
                i.as_dict()
                    .is_ok_and(|d| d.get(b"DescendantFonts").is_err())
            }) && is_bold_descendant(doc, inner)
        }
        _ => false,
    }
}

/// Whether a lower-case font name (subset prefix and all) names a bold face in TeX's or URW's
/// abbreviations: Computer Modern's and the EC fonts' bold extended (`CMBX12`, `CMSSBX10`,
/// `SFBX1200`) and URW's medium, their bold (`NimbusRomNo9L-Medi`, `…-MediItal`; not
/// `Poppins-Medium`).
fn tex_bold(name: &str) -> bool {
    let name = name.split_once('+').map_or(name, |(_, rest)| rest);
    let urw_medium = name
        .rsplit_once('-')
        .is_some_and(|(_, weight)| weight == "medi" || weight == "mediital");
    urw_medium
        || ["cmbx", "cmssbx", "sfbx", "sfsx"]
            .iter()
            .any(|p| name.starts_with(p))
}

/// Words in font names of typewriter designs (lowercase, subset prefix and spaces removed):
/// Courier, the TeX typewriter faces (cmtt, cmsltt, sftt, lmmono, txtt), Nimbus Mono,
/// DejaVu Sans Mono, Consolas, Menlo, Monaco, Inconsolata, Source Code Pro, Fira Code, …
const MONO_NAMES: &[&str] = &[
    "courier",
    "mono",
    "consol",
    "menlo",
    "monaco",
    "typewriter",
    "code",
    "cmtt",
    "cmsltt",
    "cmitt",
    "sftt",
    "sfitt",
    "sfsltt",
    "txtt",
    "pcrr",
    "pcrb",
    "fixedsys",
    "letrgoth",
    "lettergothic",
];

/// Whether a font object is monospaced: by its name, its descriptor's FixedPitch flag (simple
/// fonts only: CJK composite fonts set it for full-width glyphs) or a `Widths` array whose
/// glyphs all advance alike.
fn is_mono(doc: &Document, font: &Object) -> bool {
    let Some(dict) = resolve(doc, font).and_then(|f| f.as_dict().ok()) else {
        return false;
    };
    let name = base_font(dict)
        .map(|n| {
            let n = n.split_once('+').map_or(n.as_str(), |(_, rest)| rest);
            n.replace([' ', '-', '_', ','], "")
        })
        .unwrap_or_default();
    if MONO_NAMES.iter().any(|w| name.contains(w)) && !name.contains("barcode") {
        return true;
    }
    let composite = dict.get(b"Subtype").ok().and_then(|s| s.as_name().ok()) == Some(&b"Type0"[..]);
    if composite {
        return false;
    }
    let fixed_flag = font_descriptor(doc, dict)
        .and_then(|d| d.get(b"Flags").ok())
        .and_then(|f| resolve(doc, f))
        .and_then(|f| f.as_i64().ok())
        .is_some_and(|f| f & 1 != 0);
    if fixed_flag {
        return true;
    }
    let widths = dict
        .get(b"Widths")
        .ok()
        .and_then(|w| resolve(doc, w))
        .and_then(|w| w.as_array().ok());
    let Some(widths) = widths else {
        return false;
    };
    let advances: Vec<f32> = widths
        .iter()
        .filter_map(|w| resolve(doc, w)?.as_float().ok())
        .filter(|w| *w > 0.0)
        .collect();
    advances.len() >= 16
        && advances
            .iter()
            .all(|w| (w - advances[0]).abs() <= 0.01 * advances[0])
}

/// Whether a font object is a font of pictographs, by its name.
fn is_dingbats(doc: &Document, font: &Object) -> bool {
    resolve(doc, font)
        .and_then(|f| f.as_dict().ok())
        .and_then(base_font)
        .is_some_and(|n| {
            ["dingbat", "wingding", "webding"]
                .iter()
                .any(|w| n.contains(w))
        })
}

/// Boldness of a CID font (no further descendants, so no recursion).
fn is_bold_descendant(doc: &Document, font: &Object) -> bool {
    let Some(dict) = resolve(doc, font).and_then(|f| f.as_dict().ok()) else {
        return false;
    };
    if dict.get(b"DescendantFonts").is_ok() {
        return false;
    }
    is_bold(doc, font)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tex_and_urw_bold_names_are_bold() {
        for name in [
            "egukd+cmbx12",
            "cmssbx10",
            "sfbx1200",
            "ygcxdp+nimbusromno9l-medi",
        ] {
            assert!(tex_bold(name), "{name}");
        }
        for name in [
            "cmr10",
            "poppins-medium",
            "nimbusromno9l-regu",
            "cmmi10",
            "abc+cmb",
        ] {
            assert!(!tex_bold(name), "{name}");
        }
    }
}
