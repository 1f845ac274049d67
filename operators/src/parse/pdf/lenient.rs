//! Objects lopdf refused, read again leniently. lopdf drops an object whole for one token it
//! cannot parse (`/Foo 1.2.3`, a stray `)`, `<zz>`, an exponent number such as `1e5`), so a
//! page holding one vanished from the page tree and the pages after it were numbered one too
//! low; a font or a content stream so was lost. Each in-use object of the cross-reference
//! table missing after loading is read here as qpdf and MuPDF read it: a token that is no PDF
//! object is skipped, with the dictionary entry or array element it stood for.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat};

use super::preload::{is_regular, is_white, object_header, skip_space, string_end};

/// Most objects read again in one document: each is a pass over its bytes.
const MAX_RECOVERED: usize = 10_000;
/// Deepest nesting of arrays and dictionaries read.
const MAX_DEPTH: usize = 64;

/// Reads again the in-use objects of `doc` (loaded from `bytes`, not encrypted) that lopdf
/// dropped for not parsing; returns how many it read.
pub(crate) fn recover(doc: &mut Document, bytes: &[u8]) -> usize {
    // Offsets count from the header, as lopdf reads them.
    let start = memchr::memmem::find(bytes, b"%PDF-").unwrap_or(0);
    let buf = &bytes[start..];
    let missing: Vec<(ObjectId, usize)> = super::lengths::in_use_offsets(doc)
        .filter(|(id, _)| !doc.objects.contains_key(id))
        .take(MAX_RECOVERED)
        .collect();
    let mut recovered = 0;
    for (id, offset) in missing {
        let Some((found, body)) = object_header(buf, offset) else {
            continue;
        };
        if found != id {
            continue;
        }
        let mut lexer = Lexer { buf, i: body };
        let Ok(object) = lexer.value(0) else {
            continue;
        };
        if !lexer.ended() {
            continue;
        }
        let object = match object {
            Object::Dictionary(dict) => match lexer.stream_data(doc, &dict) {
                Some(data) => Object::Stream(Stream::new(dict, data.to_vec())),
                None => Object::Dictionary(dict),
            },
            other => other,
        };
        doc.objects.insert(id, object);
        recovered += 1;
    }
    recovered
}

/// A token that is no PDF object, read past.
struct Skipped;

/// Reads objects from `buf` at `i`.
struct Lexer<'a> {
    buf: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    /// The object at the cursor, or [`Skipped`] past one token that is none.
    fn value(&mut self, depth: usize) -> Result<Object, Skipped> {
        skip_space(self.buf, &mut self.i);
        let rest = &self.buf[self.i..];
        match rest.first() {
            None => Err(Skipped),
            Some(_) if depth > MAX_DEPTH => {
                self.i = self.buf.len();
                Err(Skipped)
            }
            Some(b'/') => Ok(Object::Name(self.name())),
            Some(b'<') if rest.starts_with(b"<<") => {
                self.i += 2;
                self.dict(depth + 1).map(Object::Dictionary)
            }
            Some(b'<') => self.hex_string(),
            Some(b'(') => self.literal_string(),
            Some(b'[') => {
                self.i += 1;
                self.array(depth + 1)
            }
            Some(&c) if !is_regular(c) => {
                // `)`, `>`, `]`, `{`, `}` out of place.
                self.i += 1;
                Err(Skipped)
            }
            Some(_) => self.word(),
        }
    }

    /// The entries of a dictionary whose `<<` was read, up to its `>>` (or where the object
    /// ends): entries whose value is no object are left out, as are tokens where a key belongs.
    fn dict(&mut self, depth: usize) -> Result<Dictionary, Skipped> {
        let mut dict = Dictionary::new();
        loop {
            skip_space(self.buf, &mut self.i);
            if self.closes(b">>") {
                return Ok(dict);
            }
            if self.buf.get(self.i) != Some(&b'/') {
                let _ = self.value(depth);
                continue;
            }
            let key = self.name();
            skip_space(self.buf, &mut self.i);
            if self.at_end() || self.buf[self.i..].starts_with(b">>") {
                continue;
            }
            if let Ok(value) = self.value(depth) {
                dict.set(key, value);
            }
        }
    }

    /// The elements of an array whose `[` was read, up to its `]` (or where the object ends).
    fn array(&mut self, depth: usize) -> Result<Object, Skipped> {
        let mut items = Vec::new();
        loop {
            skip_space(self.buf, &mut self.i);
            if self.closes(b"]") {
                return Ok(Object::Array(items));
            }
            // An array left open ends with the dictionary around it.
            if self.buf[self.i..].starts_with(b">>") {
                return Ok(Object::Array(items));
            }
            if let Ok(item) = self.value(depth) {
                items.push(item);
            }
        }
    }

    /// Whether the cursor is at `close` (moving past it) or where the object ends.
    fn closes(&mut self, close: &[u8]) -> bool {
        if self.buf[self.i..].starts_with(close) {
            self.i += close.len();
            return true;
        }
        self.at_end()
    }

    /// Whether nothing of the object is left: the end of the bytes, `endobj`, `stream`, or
    /// the `obj` of the next object's header (this one is cut short).
    fn at_end(&self) -> bool {
        self.i == self.buf.len()
            || [&b"endobj"[..], b"stream", b"obj"]
                .iter()
                .any(|k| self.at(k))
    }

    /// Whether keyword `word` stands whole at the cursor.
    fn at(&self, word: &[u8]) -> bool {
        let rest = &self.buf[self.i..];
        rest.starts_with(word) && rest.get(word.len()).is_none_or(|&c| !is_regular(c))
    }

    /// Whether the object read ends as an object does, with `endobj` or `stream`: one cut
    /// short by the end of the file or by the next object is not read.
    fn ended(&mut self) -> bool {
        skip_space(self.buf, &mut self.i);
        self.at(b"endobj") || self.at(b"stream")
    }

    /// The name at the cursor (`/`), `#xx` escapes decoded.
    fn name(&mut self) -> Vec<u8> {
        self.i += 1;
        let start = self.i;
        while self.buf.get(self.i).is_some_and(|&c| is_regular(c)) {
            self.i += 1;
        }
        let raw = &self.buf[start..self.i];
        let mut name = Vec::with_capacity(raw.len());
        let mut k = 0;
        while k < raw.len() {
            let escaped = (raw[k] == b'#')
                .then(|| raw.get(k + 1..k + 3))
                .flatten()
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match escaped {
                Some(byte) => {
                    name.push(byte);
                    k += 3;
                }
                None => {
                    name.push(raw[k]);
                    k += 1;
                }
            }
        }
        name
    }

    /// The hexadecimal string at the cursor (`<`); [`Skipped`] up to its `>` when it holds
    /// anything but hex digits and white space.
    fn hex_string(&mut self) -> Result<Object, Skipped> {
        let start = self.i + 1;
        let Some(len) = self.buf[start..].iter().position(|&c| c == b'>') else {
            self.i += 1;
            return Err(Skipped);
        };
        let body = &self.buf[start..start + len];
        self.i = start + len + 1;
        let mut digits: Vec<u8> = Vec::with_capacity(body.len());
        for &c in body {
            match c {
                _ if is_white(c) => {}
                _ if c.is_ascii_hexdigit() => digits.push(c),
                _ => return Err(Skipped),
            }
        }
        if digits.len() % 2 == 1 {
            digits.push(b'0');
        }
        let bytes = digits
            .chunks(2)
            .map(|pair| (hex_digit(pair[0]) << 4) | hex_digit(pair[1]))
            .collect();
        Ok(Object::String(bytes, StringFormat::Hexadecimal))
    }

    /// The literal string at the cursor (`(`), escapes decoded; one that never closes is
    /// [`Skipped`] as its `(`.
    fn literal_string(&mut self) -> Result<Object, Skipped> {
        let Some(end) = string_end(self.buf, self.i) else {
            self.i += 1;
            return Err(Skipped);
        };
        let text = unescape(&self.buf[self.i + 1..end - 1]);
        self.i = end;
        Ok(Object::String(text, StringFormat::Literal))
    }

    /// The run of regular characters at the cursor as a number, a reference (`N G R`), a
    /// boolean or null; any other word is [`Skipped`].
    fn word(&mut self) -> Result<Object, Skipped> {
        let word = self.run();
        if let Some(number) = integer(word) {
            if number >= 0
                && let Some(reference) = self.reference_after(number)
            {
                return Ok(reference);
            }
            return Ok(Object::Integer(number));
        }
        match word {
            b"true" => Ok(Object::Boolean(true)),
            b"false" => Ok(Object::Boolean(false)),
            b"null" => Ok(Object::Null),
            _ => real(word).map(Object::Real).ok_or(Skipped),
        }
    }

    /// The run of regular characters at the cursor, moving past it.
    fn run(&mut self) -> &[u8] {
        let start = self.i;
        while self.buf.get(self.i).is_some_and(|&c| is_regular(c)) {
            self.i += 1;
        }
        &self.buf[start..self.i]
    }

    /// `G R` after the object number `number` that was read: the reference, the cursor past
    /// it; else `None`, the cursor where it was.
    fn reference_after(&mut self, number: i64) -> Option<Object> {
        let back = self.i;
        let reference = self.generation_and_r().and_then(|generation| {
            let number = u32::try_from(number).ok()?;
            Some(Object::Reference((number, generation)))
        });
        if reference.is_none() {
            self.i = back;
        }
        reference
    }

    /// `G R` at the cursor: the generation, the cursor moved past them.
    fn generation_and_r(&mut self) -> Option<u16> {
        skip_space(self.buf, &mut self.i);
        let generation = u16::try_from(integer(self.run())?).ok()?;
        skip_space(self.buf, &mut self.i);
        (self.run() == b"R").then_some(generation)
    }

    /// The data of the stream whose dictionary `dict` was read, when `stream` follows it: as
    /// long as its `/Length` says when `endstream` follows them there, else up to the first
    /// `endstream`.
    fn stream_data(&mut self, doc: &Document, dict: &Dictionary) -> Option<&[u8]> {
        skip_space(self.buf, &mut self.i);
        let mut i = self.i;
        if !self.at(b"stream") {
            return None;
        }
        i += b"stream".len();
        match self.buf.get(i..i + 2) {
            Some(b"\r\n") => i += 2,
            _ if matches!(self.buf.get(i), Some(b'\n' | b'\r')) => i += 1,
            _ => {}
        }
        let rest = &self.buf[i..];
        let length = match dict.get(b"Length") {
            Ok(Object::Integer(n)) => usize::try_from(*n).ok(),
            Ok(Object::Reference(id)) => doc
                .get_object(*id)
                .ok()
                .and_then(|n| n.as_i64().ok())
                .and_then(|n| usize::try_from(n).ok()),
            _ => None,
        };
        if let Some(data) = length.and_then(|n| rest.get(..n)) {
            let mut after = data.len();
            skip_space(rest, &mut after);
            if rest[after..].starts_with(b"endstream") {
                return Some(data);
            }
        }
        let end = memchr::memmem::find(rest, b"endstream")?;
        let mut data = &rest[..end];
        for eol in [&b"\r\n"[..], b"\n", b"\r"] {
            if let Some(trimmed) = data.strip_suffix(eol) {
                data = trimmed;
                break;
            }
        }
        Some(data)
    }
}

/// `word` as a PDF integer: an optional sign and digits.
fn integer(word: &[u8]) -> Option<i64> {
    let digits = word.strip_prefix(b"+").unwrap_or(word);
    let unsigned = word
        .strip_prefix(b"+")
        .or_else(|| word.strip_prefix(b"-"))
        .unwrap_or(word);
    if unsigned.is_empty() || !unsigned.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// `word` as a PDF real: an optional sign, digits with one point (`1.5`, `.5`, `4.`).
fn real(word: &[u8]) -> Option<f32> {
    let unsigned = word
        .strip_prefix(b"+")
        .or_else(|| word.strip_prefix(b"-"))
        .unwrap_or(word);
    let points = unsigned.iter().filter(|&&c| c == b'.').count();
    let digits = unsigned.iter().filter(|c| c.is_ascii_digit()).count();
    if points != 1 || digits == 0 || digits + 1 != unsigned.len() {
        return None;
    }
    let text = std::str::from_utf8(word).ok()?;
    text.strip_prefix('+').unwrap_or(text).parse().ok()
}

fn hex_digit(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// The bytes of a literal string's body, its escapes decoded (PDF 32000-1 §7.3.4.2).
fn unescape(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut k = 0;
    while k < body.len() {
        let c = body[k];
        k += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = body.get(k) else { break };
        k += 1;
        match e {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'\r' => {
                // A line continued: its end of line is no part of the string.
                if body.get(k) == Some(&b'\n') {
                    k += 1;
                }
            }
            b'\n' => {}
            b'0'..=b'7' => {
                let mut value = u32::from(e - b'0');
                for _ in 0..2 {
                    match body.get(k) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            k += 1;
                        }
                        _ => break,
                    }
                }
                out.push(value as u8);
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Object {
        Lexer { buf: text, i: 0 }.value(0).ok().unwrap()
    }

    #[test]
    fn a_token_that_is_no_object_costs_only_its_entry() {
        for junk in [&b"1.2.3"[..], b")", b"<zz>", b"1e5", b"+-5", b"}", b"bogus"] {
            let text = [
                &b"<< /Type /Page /Foo "[..],
                junk,
                b" /MediaBox [0 0 612.5 -7] /Contents 13 0 R /S (a\\(b\\)\\101) /H <4142 4> >>",
            ]
            .concat();
            let dict = read(&text);
            let dict = dict.as_dict().unwrap();
            assert!(dict.get(b"Foo").is_err(), "{junk:?}");
            assert_eq!(dict.get(b"Type").unwrap(), &Object::Name(b"Page".to_vec()));
            assert_eq!(
                dict.get(b"MediaBox").unwrap(),
                &Object::Array(vec![0.into(), 0.into(), Object::Real(612.5), (-7).into()])
            );
            assert_eq!(dict.get(b"Contents").unwrap(), &Object::Reference((13, 0)));
            assert_eq!(dict.get(b"S").unwrap().as_str().unwrap(), b"a(b)A");
            assert_eq!(dict.get(b"H").unwrap().as_str().unwrap(), b"AB@");
        }
    }

    #[test]
    fn an_array_left_open_ends_with_its_dictionary() {
        let dict = read(b"<< /Foo [1 2 /Type /Page >> endobj");
        let dict = dict.as_dict().unwrap();
        assert_eq!(dict.get(b"Foo").unwrap().as_array().unwrap().len(), 4);
        let nested = read(b"<< /A << /B#20C 1 >> /D [[ null true ]] >>");
        let nested = nested.as_dict().unwrap();
        assert!(nested.get(b"A").unwrap().as_dict().unwrap().has(b"B C"));
        assert!(
            nested.get(b"D").unwrap().as_array().unwrap()[0]
                .as_array()
                .is_ok()
        );
    }
}
