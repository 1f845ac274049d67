//! Font entries pdf-extract panics on. When it builds a font it indexes a 256-entry table with
//! every `Differences` code, unwraps what the CMap, Type 1 and CFF parsers make of the
//! ToUnicode CMap and the embedded font program, asserts that `Widths` spans `FirstChar` to
//! `LastChar`, and expects a Type 3 font to have a width for every code shown. A panic there
//! loses the rest of the page, text in healthy fonts included. [`repaired`] checks a font with
//! the same parsers before it is handed over, and makes a copy without what they reject:
//! `Differences` cleaned to the entries it can read, a ToUnicode CMap or font program it cannot
//! read left out, `LastChar` set to agree with `Widths`, a Type 3 font's widths spread over all
//! 256 codes. A font it reads as it is gets `None`, and is handed over untouched.

use std::borrow::Cow;
use std::collections::HashMap;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::font_streams::MAX_FONT_BYTES;
use super::streams::{self, DecodeError};
use crate::caught::catch_quietly;

/// A malformed font entry, as the warning names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Defect {
    /// An encoding name pdf-extract does not know, or `Differences` entries other than codes
    /// from 0 to 255 and the glyph names they number.
    Encoding,
    /// A ToUnicode CMap its parser rejects, or that maps codes to what is not UTF-16.
    ToUnicode,
    /// `FirstChar`, `LastChar` and `Widths` that disagree, or widths that are not numbers.
    Widths,
    /// An embedded Type 1 or CFF font program its parser rejects.
    FontFile,
}

impl Defect {
    /// The entry, as a warning names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Defect::Encoding => "Encoding",
            Defect::ToUnicode => "ToUnicode",
            Defect::Widths => "Widths",
            Defect::FontFile => "font file",
        }
    }
}

/// A copy of a font that pdf-extract reads without panicking.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Repaired {
    pub font: Dictionary,
    /// The malformed entries it was read without, sorted. Empty when the font was well formed
    /// and only pdf-extract could not take it (a Type 3 font's widths, glyph names that it
    /// maps to lone surrogates, references where it expects numbers): no warning is due.
    pub defects: Vec<Defect>,
}

/// What was found of one document's fonts and font streams: each is parsed once, however many
/// pages use it.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    fonts: HashMap<ObjectId, Option<Repaired>>,
    streams: HashMap<(ObjectId, Parse), bool>,
    /// Codes each ToUnicode CMap object maps (see [`Cache::mapped_codes`]).
    codes: HashMap<ObjectId, u64>,
}

/// How a stream is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Parse {
    ToUnicode,
    /// A Type 1 font program, whose own encoding is read when the font has no `Encoding`.
    Type1 {
        encoded: bool,
    },
    Type1C,
}

impl Cache {
    /// [`repaired`] for font dictionary `font`, found once for font object `id` (a direct
    /// font, without one, is checked each time).
    pub(crate) fn font(
        &mut self,
        doc: &Document,
        id: Option<ObjectId>,
        font: &Dictionary,
    ) -> Option<Repaired> {
        if let Some(found) = id.and_then(|id| self.fonts.get(&id)) {
            return found.clone();
        }
        let found = repaired(doc, font, self);
        if let Some(id) = id {
            self.fonts.insert(id, found.clone());
        }
        found
    }

    /// How many codes font `font`'s ToUnicode CMap maps (see
    /// [`super::cmap_guard::to_unicode_codes`]; 0 without one), found once for a CMap object
    /// however many pages use it.
    pub(crate) fn mapped_codes(&mut self, doc: &Document, font: &Dictionary) -> u64 {
        let id = match font.get(b"ToUnicode") {
            Ok(Object::Reference(id)) => Some(*id),
            _ => None,
        };
        if let Some(&codes) = id.and_then(|id| self.codes.get(&id)) {
            return codes;
        }
        let codes = super::cmap_guard::to_unicode_codes(doc, font).unwrap_or(0);
        if let Some(id) = id {
            self.codes.insert(id, codes);
        }
        codes
    }

    /// Whether pdf-extract reads `stream` (object `id`, when it is one) as `parse` reads it.
    fn readable(&mut self, id: Option<ObjectId>, stream: &Stream, parse: Parse) -> bool {
        if let Some(&found) = id.and_then(|id| self.streams.get(&(id, parse))) {
            return found;
        }
        let found = parsed(stream, parse);
        if let Some(id) = id {
            self.streams.insert((id, parse), found);
        }
        found
    }
}

/// The named encodings pdf-extract knows: it panics on any other.
const ENCODINGS: [&[u8]; 3] = [
    b"MacRomanEncoding",
    b"MacExpertEncoding",
    b"WinAnsiEncoding",
];

/// The glyph names of pdf-extract's glyph list that map to a surrogate code unit (glyphs of TeX
/// and expert fonts): turning one into text panics.
const SURROGATE_GLYPHS: [&[u8]; 13] = [
    b"FFIsmall",
    b"FFLsmall",
    b"FFsmall",
    b"FIsmall",
    b"FLsmall",
    b"Germandblssmall",
    b"SSsmall",
    b"altselector",
    b"ascendercompwordmark",
    b"capitalcompwordmark",
    b"emptyslot",
    b"interrobangdown",
    b"ringfitted",
];

/// A copy of font dictionary `font` of `doc` that pdf-extract reads without panicking, when it
/// would panic on some entry; `None` when it reads the font as it is.
pub(crate) fn repaired(doc: &Document, font: &Dictionary, cache: &mut Cache) -> Option<Repaired> {
    let mut fix = Fix {
        doc,
        font,
        copy: None,
        defects: Vec::new(),
    };
    match name(doc, font, b"Subtype") {
        Some(b"Type0") => {}
        Some(b"Type3") => {
            fix.encoding(true);
            fix.type3_widths();
        }
        subtype => {
            fix.encoding(false);
            fix.simple_widths();
            fix.font_files(subtype == Some(b"Type1"), cache);
        }
    }
    fix.cmap(cache);
    let Fix {
        copy, mut defects, ..
    } = fix;
    defects.sort_unstable();
    defects.dedup();
    copy.map(|font| Repaired { font, defects })
}

/// A font being repaired: the copy, made at the first change.
struct Fix<'a> {
    doc: &'a Document,
    font: &'a Dictionary,
    copy: Option<Dictionary>,
    defects: Vec<Defect>,
}

impl Fix<'_> {
    /// The copy, made now if not yet.
    fn edit(&mut self) -> &mut Dictionary {
        self.copy.get_or_insert_with(|| self.font.clone())
    }

    /// Records `defect` when `malformed`.
    fn flag(&mut self, malformed: bool, defect: Defect) {
        if malformed {
            self.defects.push(defect);
        }
    }

    /// The `Encoding`: a name pdf-extract does not know, or a value neither name nor
    /// dictionary, is left out (a Type 3 font, which requires one, gets an empty dictionary:
    /// PDFDocEncoding); a dictionary's unknown `BaseEncoding` is left out and its
    /// `Differences` cleaned.
    fn encoding(&mut self, type3: bool) {
        let Some(value) = get(self.doc, self.font, b"Encoding") else {
            return;
        };
        match value {
            Object::Name(encoding) if ENCODINGS.contains(&&encoding[..]) => {}
            Object::Dictionary(dict) => {
                if let Some(cleaned) = self.encoding_dict(dict, type3) {
                    self.edit().set("Encoding", Object::Dictionary(cleaned));
                }
            }
            _ if type3 => {
                self.edit().set("Encoding", Dictionary::new());
                self.flag(true, Defect::Encoding);
            }
            _ => {
                self.edit().remove(b"Encoding");
                self.flag(true, Defect::Encoding);
            }
        }
    }

    /// A copy of encoding dictionary `dict` without an unknown `BaseEncoding` and with its
    /// `Differences` cleaned, when either needs it.
    fn encoding_dict(&mut self, dict: &Dictionary, type3: bool) -> Option<Dictionary> {
        let doc = self.doc;
        let mut copy: Option<Dictionary> = None;
        let base = get(doc, dict, b"BaseEncoding").and_then(|b| b.as_name().ok());
        if base.is_some_and(|b| !ENCODINGS.contains(&b)) {
            copy.get_or_insert_with(|| dict.clone())
                .remove(b"BaseEncoding");
            self.flag(true, Defect::Encoding);
        }
        let entries = get(doc, dict, b"Differences").and_then(|d| d.as_array().ok());
        if let Some((cleaned, malformed)) = entries.and_then(|e| differences(doc, e, type3)) {
            copy.get_or_insert_with(|| dict.clone())
                .set("Differences", Object::Array(cleaned));
            self.flag(malformed, Defect::Encoding);
        }
        copy
    }

    /// A simple font's `LastChar` set to agree with `Widths`, and widths that are not numbers
    /// made 0: pdf-extract reads the widths whenever `Widths` is an array, panics on an entry
    /// that is not a number (it follows no reference there) and, when `FirstChar` and
    /// `LastChar` are integers, asserts that they span the widths. A span past the integers
    /// leaves the three out.
    fn simple_widths(&mut self) {
        let (doc, font) = (self.doc, self.font);
        let Some(widths) = get(doc, font, b"Widths").and_then(|w| w.as_array().ok()) else {
            return;
        };
        let numbers: Vec<Option<Object>> = widths.iter().map(|w| number(doc, w)).collect();
        let first = get(doc, font, b"FirstChar").and_then(as_integer);
        let last = get(doc, font, b"LastChar").and_then(as_integer);
        if let (Some(first), Some(last)) = (first, last) {
            match last_char(first, widths.len()) {
                Some(end) if end == last => {}
                Some(end) => {
                    self.edit().set("LastChar", end);
                    self.flag(true, Defect::Widths);
                }
                None => {
                    let copy = self.edit();
                    for key in [&b"FirstChar"[..], b"LastChar", b"Widths"] {
                        copy.remove(key);
                    }
                    self.flag(true, Defect::Widths);
                    return;
                }
            }
        }
        let direct = widths
            .iter()
            .all(|w| matches!(w, Object::Integer(_) | Object::Real(_)));
        if !direct {
            let malformed = numbers.iter().any(Option::is_none);
            let numbers = numbers
                .into_iter()
                .map(|n| n.unwrap_or(Object::Integer(0)))
                .collect();
            self.edit().set("Widths", Object::Array(numbers));
            self.flag(malformed, Defect::Widths);
        }
    }

    /// A Type 3 font's widths spread over codes 0 to 255, 0 for the codes it has none for:
    /// pdf-extract panics on a code shown outside `FirstChar` to `LastChar` (a glyph of the
    /// font there is no error), on a `FirstChar`, `LastChar` or width that is not a number,
    /// and on widths that do not span `FirstChar` to `LastChar`.
    fn type3_widths(&mut self) {
        let (doc, font) = (self.doc, self.font);
        let first_char = get(doc, font, b"FirstChar");
        let widths = get(doc, font, b"Widths");
        let first = match first_char {
            Some(Object::Integer(first)) => Some(*first),
            Some(Object::Real(first)) => Some(first.round() as i64),
            _ => None,
        };
        let last = get(doc, font, b"LastChar").and_then(as_integer);
        let (spread, mut malformed) = match (first, widths.and_then(|w| w.as_array().ok())) {
            (Some(first), Some(widths)) => {
                let (spread, numbers) = spread_widths(doc, first, widths);
                (spread, !numbers || last_char(first, widths.len()) != last)
            }
            _ => (vec![Object::Integer(0); 256], true),
        };
        malformed |= !matches!(first_char, Some(Object::Integer(_))) || last.is_none();
        let spread = Object::Array(spread);
        let unchanged =
            first_char == Some(&Object::Integer(0)) && last == Some(255) && widths == Some(&spread);
        if unchanged {
            return;
        }
        let copy = self.edit();
        copy.set("FirstChar", 0);
        copy.set("LastChar", 255);
        copy.set("Widths", spread);
        self.flag(malformed, Defect::Widths);
    }

    /// The font programs of a simple font's descriptor that pdf-extract parses and whose
    /// parser rejects them, left out of a copy of the descriptor: a Type 1 font's `FontFile`
    /// (and its encoding, when the font has no `Encoding`), and a `FontFile3` of subtype
    /// `Type1C` (one without a subtype name panics too).
    fn font_files(&mut self, type1: bool, cache: &mut Cache) {
        let doc = self.doc;
        let Some(descriptor) =
            get(doc, self.font, b"FontDescriptor").and_then(|d| d.as_dict().ok())
        else {
            return;
        };
        let encoded = self
            .copy
            .as_ref()
            .unwrap_or(self.font)
            .get(b"Encoding")
            .is_ok();
        let mut rejected: Vec<&[u8]> = Vec::new();
        if type1
            && let Some((id, stream)) = stream_entry(doc, descriptor, b"FontFile")
            && !cache.readable(id, stream, Parse::Type1 { encoded })
        {
            rejected.push(b"FontFile");
        }
        if let Some((id, stream)) = stream_entry(doc, descriptor, b"FontFile3") {
            let readable = match get(doc, &stream.dict, b"Subtype").map(Object::as_name) {
                Some(Ok(b"Type1C")) => cache.readable(id, stream, Parse::Type1C),
                Some(Ok(_)) => true,
                _ => false,
            };
            if !readable {
                rejected.push(b"FontFile3");
            }
        }
        if rejected.is_empty() {
            return;
        }
        let mut inline = descriptor.clone();
        for key in rejected {
            inline.remove(key);
        }
        self.edit()
            .set("FontDescriptor", Object::Dictionary(inline));
        self.flag(true, Defect::FontFile);
    }

    /// A ToUnicode CMap pdf-extract cannot take, left out: a stream whose parser rejects it or
    /// that maps a code to bytes that are not UTF-16 (but for one lone surrogate, which it
    /// skips). A direct stream is one of ours (see [`super::cid_encoding`]), and is left alone.
    fn cmap(&mut self, cache: &mut Cache) {
        let Ok(Object::Reference(id)) = self.font.get(b"ToUnicode") else {
            return;
        };
        let Ok(Object::Stream(stream)) = self.doc.get_object(*id) else {
            return;
        };
        if !cache.readable(Some(*id), stream, Parse::ToUnicode) {
            self.edit().remove(b"ToUnicode");
            self.flag(true, Defect::ToUnicode);
        }
    }
}

/// `Differences` entries pdf-extract reads without panicking, and whether some were malformed,
/// when they are not all so: codes from 0 to 255, and glyph names while the code they take
/// stays below 256. As MuPDF reads them, an entry of another type is skipped, and the names
/// after a code out of range up to the next code. A glyph name pdf-extract cannot turn into
/// text is dropped (the next keeps its code), and a Type 3 font's references are followed
/// (pdf-extract follows them only for other fonts).
fn differences(doc: &Document, entries: &[Object], type3: bool) -> Option<(Vec<Object>, bool)> {
    let mut kept: Vec<(i64, &[u8])> = Vec::new();
    let mut code = Some(0i64);
    let (mut changed, mut malformed) = (false, false);
    for entry in entries {
        changed |= type3 && matches!(entry, Object::Reference(_));
        match deref(doc, entry) {
            Some(Object::Integer(i)) => {
                code = (0..=255).contains(i).then_some(*i);
                malformed |= code.is_none();
            }
            Some(Object::Name(glyph)) => match code {
                Some(c) if c <= 255 => {
                    if readable_glyph(glyph) {
                        kept.push((c, glyph));
                    } else {
                        changed = true;
                    }
                    code = Some(c + 1);
                }
                _ => malformed = true,
            },
            _ => malformed = true,
        }
    }
    if !changed && !malformed {
        return None;
    }
    let mut cleaned = Vec::with_capacity(entries.len());
    let mut next = None;
    for (code, glyph) in kept {
        if next != Some(code) {
            cleaned.push(Object::Integer(code));
        }
        cleaned.push(Object::Name(glyph.to_vec()));
        next = Some(code + 1);
    }
    Some((cleaned, malformed))
}

/// The widths of codes 0 to 255 that `widths` from code `first` give, 0 where they give none
/// (or no number); and whether they were all numbers.
fn spread_widths(doc: &Document, first: i64, widths: &[Object]) -> (Vec<Object>, bool) {
    let mut spread = vec![Object::Integer(0); 256];
    let mut numbers = true;
    for (i, width) in widths.iter().enumerate() {
        let width = number(doc, width);
        numbers &= width.is_some();
        let code = i64::try_from(i).ok().and_then(|i| first.checked_add(i));
        let slot = code
            .and_then(|c| usize::try_from(c).ok())
            .and_then(|c| spread.get_mut(c));
        if let (Some(slot), Some(width)) = (slot, width) {
            *slot = width;
        }
    }
    (spread, numbers)
}

/// The `LastChar` that `count` widths from `first` span, `None` past the integers (as
/// pdf-extract computes it: `first + count - 1`).
fn last_char(first: i64, count: usize) -> Option<i64> {
    first
        .checked_add(i64::try_from(count).ok()?)?
        .checked_sub(1)
}

/// Whether pdf-extract turns glyph name `glyph` into text: it decodes a name that starts with
/// a UTF-16 byte order mark as UTF-16, panicking when that fails, and a name its glyph list
/// maps to a surrogate panics.
fn readable_glyph(glyph: &[u8]) -> bool {
    name_decodes(glyph) && !SURROGATE_GLYPHS.contains(&glyph)
}

/// Whether pdf-extract decodes name `name`: one that starts with a UTF-16 byte order mark
/// must be UTF-16.
fn name_decodes(name: &[u8]) -> bool {
    match name {
        [0xfe, 0xff, rest @ ..] if !rest.is_empty() => utf16(rest).is_some(),
        _ => true,
    }
}

/// Big-endian UTF-16 `bytes` as text, `None` when they are not.
fn utf16(bytes: &[u8]) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// Whether pdf-extract turns CMap destination `bytes` into text: big-endian UTF-16, or one lone
/// surrogate (which it skips).
fn destination_readable(bytes: &[u8]) -> bool {
    matches!(bytes, [0xd8..=0xdf, _]) || utf16(bytes).is_some()
}

/// Whether `stream` parses as pdf-extract parses it for `parse`. A panic inside the parser is
/// a rejection, as it would be inside pdf-extract.
fn parsed(stream: &Stream, parse: Parse) -> bool {
    let Some(data) = stream_data(stream) else {
        return true;
    };
    catch_quietly(|| match parse {
        Parse::ToUnicode => adobe_cmap_parser::get_unicode_map(&data)
            .is_ok_and(|map| map.values().all(|v| destination_readable(v))),
        Parse::Type1 { encoded } => {
            type1_encoding_parser::get_encoding_map(&data).is_ok_and(|map| {
                // Without an `Encoding` pdf-extract puts each name at its code of a 256-entry table.
                encoded
                    || map
                        .iter()
                        .all(|(&code, glyph)| code <= 255 && name_decodes(glyph))
            })
        }
        Parse::Type1C => cff_names_readable(&data),
    })
    .unwrap_or(false)
}

/// Whether pdf-extract reads CFF font program `data`: it parses, and each code of its encoding
/// names a glyph (by a string id the font has) that is no surrogate.
fn cff_names_readable(data: &[u8]) -> bool {
    let Some(table) = cff_parser::Table::parse(data) else {
        return false;
    };
    table
        .encoding
        .get_code_to_sid_table(&table.charset)
        .into_values()
        .all(|sid| {
            cff_parser::string_by_id(&table, sid)
                .is_some_and(|glyph| !SURROGATE_GLYPHS.contains(&glyph.as_bytes()))
        })
}

/// The data pdf-extract reads from `stream`: decoded, or as they are when they cannot be;
/// `None` past [`MAX_FONT_BYTES`], which the size guards leave out anyway.
fn stream_data(stream: &Stream) -> Option<Cow<'_, [u8]>> {
    match streams::decode(stream, MAX_FONT_BYTES) {
        Ok(bytes) => Some(Cow::Owned(bytes)),
        Err(DecodeError::TooLarge) => None,
        Err(DecodeError::Unreadable) => Some(Cow::Borrowed(&stream.content)),
    }
}

/// The stream under `key` of `dict`, with its object number when it has one.
fn stream_entry<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    key: &[u8],
) -> Option<(Option<ObjectId>, &'a Stream)> {
    let value = dict.get(key).ok()?;
    let id = match value {
        Object::Reference(id) => Some(*id),
        _ => None,
    };
    Some((id, deref(doc, value)?.as_stream().ok()?))
}

/// A number, through one reference: a width as pdf-extract could read it.
fn number(doc: &Document, value: &Object) -> Option<Object> {
    deref(doc, value)
        .filter(|v| matches!(v, Object::Integer(_) | Object::Real(_)))
        .cloned()
}

/// An integer, as pdf-extract reads `FirstChar` and `LastChar` (a real is none).
fn as_integer(value: &Object) -> Option<i64> {
    match value {
        Object::Integer(i) => Some(*i),
        _ => None,
    }
}

/// The value under `key`, through one reference, as pdf-extract reads it.
fn get<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    deref(doc, dict.get(key).ok()?)
}

/// The name under `key`, through one reference.
fn name<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    get(doc, dict, key)?.as_name().ok()
}

/// Follows one reference, as pdf-extract does.
fn deref<'a>(doc: &'a Document, value: &'a Object) -> Option<&'a Object> {
    match value {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}
