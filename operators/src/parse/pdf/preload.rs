//! Limits on what lopdf decodes while it loads a file, checked before it does.
//! `Document::load_mem` inflates, with no limit, every cross-reference stream, every object
//! stream (keeping the inflated data and every object parsed from it) and, to find the length
//! of a stream given by reference, the object stream holding that length; a few hundred
//! kilobytes can take gigabytes before any page is read.
//!
//! [`check`] finds those streams as lopdf does: the cross-reference sections from the
//! `startxref` offset through `/Prev` and `/XRefStm`, then, at the offsets their entries give,
//! the object streams they name as containers and every stream typed `/ObjStm`. It decodes them
//! (decrypted first in an encrypted file, as lopdf does with the empty user password) within
//! [`LoadLimits`].

use std::collections::{BTreeMap, BTreeSet};

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::streams::{self, DecodeError};
use super::tokens;

/// Most bytes decoded from the cross-reference and object streams of one file.
pub(crate) const MAX_LOAD_BYTES: usize = 64 << 20;
/// Most tokens (objects, counted by [`tokens::count`]) lopdf parses while loading one file, at
/// up to some 150 bytes each: those of its objects and of its object streams.
pub(crate) const MAX_LOAD_TOKENS: usize = 2_000_000;
/// Widest field of a cross-reference stream entry (the PDF reference uses up to 8 bytes; lopdf
/// allocates whatever `/W` says).
const MAX_FIELD_WIDTH: i64 = 8;
/// Most cross-reference sections followed.
const MAX_SECTIONS: usize = 1024;

/// What loading one file may decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoadLimits {
    /// Decoded bytes.
    pub bytes: usize,
    /// Tokens in object streams.
    pub tokens: usize,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            bytes: MAX_LOAD_BYTES,
            tokens: MAX_LOAD_TOKENS,
        }
    }
}

/// Decoded bytes and tokens against limits.
#[derive(Debug, Clone, Copy)]
struct Budget {
    limits: LoadLimits,
    bytes: usize,
    tokens: usize,
}

impl Budget {
    fn new(limits: LoadLimits) -> Self {
        Budget {
            limits,
            bytes: 0,
            tokens: 0,
        }
    }

    /// Decodes `stream` within what is left; `Ok(None)` when lopdf could not decode it either.
    fn decode(&mut self, stream: &Stream) -> Result<Option<Vec<u8>>, String> {
        let left = self.limits.bytes.saturating_sub(self.bytes);
        match streams::decode(stream, left) {
            Ok(bytes) => {
                self.bytes += bytes.len();
                Ok(Some(bytes))
            }
            Err(DecodeError::TooLarge) => Err(format!(
                "its cross-reference and object streams decode to more than the {} MiB read",
                self.limits.bytes >> 20
            )),
            Err(DecodeError::Unreadable) => Ok(None),
        }
    }

    /// Counts the objects of some object text.
    fn objects(&mut self, data: &[u8]) -> Result<(), String> {
        self.tokens = self.tokens.saturating_add(tokens::count(data));
        if self.tokens > self.limits.tokens {
            return Err(format!(
                "its objects and object streams hold more than the {} objects read",
                self.limits.tokens
            ));
        }
        Ok(())
    }
}

/// Checks the streams lopdf decodes while loading `file` before it does (see the module).
pub(crate) fn check(file: &[u8], limits: LoadLimits) -> Result<(), String> {
    let start = file.windows(5).position(|w| w == b"%PDF-").unwrap_or(0);
    let buf = &file[start..];
    let mut budget = Budget::new(limits);
    // The first offset found for each object number, and every offset found.
    let mut offsets: BTreeMap<u32, usize> = BTreeMap::new();
    let mut all: BTreeSet<usize> = BTreeSet::new();
    let mut containers: BTreeSet<u32> = BTreeSet::new();
    let mut trailer: Option<Dictionary> = None;
    let mut pending: Vec<usize> = xref_start(buf).into_iter().collect();
    let mut seen = BTreeSet::new();
    while let Some(at) = pending.pop() {
        if !seen.insert(at) || seen.len() > MAX_SECTIONS {
            continue;
        }
        let dict = if buf.get(at..).is_some_and(|b| b.starts_with(b"xref")) {
            let Some(dict) = xref_table(buf, at, &mut offsets, &mut all) else {
                continue;
            };
            dict
        } else {
            let Some(found) = stream_at(buf, at, None) else {
                continue;
            };
            let stream = Stream::new(found.dict.clone(), found.data.to_vec());
            if let Some(data) = budget.decode(&stream)? {
                xref_entries(&found.dict, &data, &mut offsets, &mut all, &mut containers)?;
            }
            found.dict
        };
        for key in [&b"Prev"[..], b"XRefStm"] {
            if let Some(next) = dict.get(key).ok().and_then(|o| o.as_i64().ok()) {
                pending.extend(usize::try_from(next).ok());
            }
        }
        trailer.get_or_insert(dict);
    }
    // The objects lopdf parses from the file itself (their text: stream data aside).
    for &at in &all {
        if let Some((_, i)) = object_header(buf, at) {
            budget.objects(&buf[i..object_end(buf, i)])?;
        }
    }
    let decryption = trailer.as_ref().and_then(|t| decryption(buf, t, &offsets));
    // The containers compressed objects name, then every other object stream lopdf reads.
    let marks: Vec<usize> = memchr::memmem::find_iter(buf, b"ObjStm").collect();
    let typed = all
        .iter()
        .copied()
        .filter(|&at| object_stream_at(buf, at, &marks))
        .collect::<BTreeSet<usize>>();
    let at_containers = containers.iter().filter_map(|n| offsets.get(n).copied());
    let mut done = BTreeSet::new();
    for at in at_containers.chain(typed) {
        if !done.insert(at) {
            continue;
        }
        let Some(found) = stream_at(buf, at, Some(&offsets)) else {
            continue;
        };
        let mut object = Object::Stream(Stream::new(found.dict, found.data.to_vec()));
        if let Some(state) = &decryption {
            let _ = lopdf::encryption::decrypt_object(state, found.id, &mut object);
        }
        let Ok(stream) = object.as_stream() else {
            continue;
        };
        if let Some(data) = budget.decode(stream)? {
            budget.objects(&data)?;
        }
    }
    Ok(())
}

/// Whether the object at `at` is a stream typed `/ObjStm`; `marks` are where the file says
/// `ObjStm`, and the dictionary is read only when one lies in it.
fn object_stream_at(buf: &[u8], at: usize, marks: &[usize]) -> bool {
    let Some((_, i)) = object_header(buf, at) else {
        return false;
    };
    let first = marks.partition_point(|&m| m < i);
    let Some(&mark) = marks.get(first) else {
        return false;
    };
    dict_end(buf, i).is_some_and(|end| mark < end)
        && stream_at(buf, at, None).is_some_and(|found| found.dict.has_type(b"ObjStm"))
}

/// The offset `startxref` gives, found as lopdf finds it.
pub(super) fn xref_start(buf: &[u8]) -> Option<usize> {
    let from = buf.len() - buf.len().min(512);
    let eof = from + buf[from..].windows(5).rposition(|w| w == b"%%EOF")?;
    if eof <= 25 {
        return None;
    }
    let at = eof - 25
        + buf[eof - 25..eof]
            .windows(9)
            .rposition(|w| w == b"startxref")?;
    let mut i = at + 9;
    skip_white(buf, &mut i);
    number(buf, &mut i).and_then(|n| usize::try_from(n).ok())
}

/// A classic cross-reference table at `at`: its in-use entries into `offsets`, and the
/// trailer dictionary after it.
fn xref_table(
    buf: &[u8],
    at: usize,
    offsets: &mut BTreeMap<u32, usize>,
    all: &mut BTreeSet<usize>,
) -> Option<Dictionary> {
    let (entries, trailer) = xref_table_entries(buf, at)?;
    for entry in entries {
        if let XrefTableEntry::InUse { number, offset } = entry {
            offsets.entry(number).or_insert(offset);
            all.insert(offset);
        }
    }
    Some(trailer)
}

/// One entry of a classic cross-reference table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum XrefTableEntry {
    InUse { number: u32, offset: usize },
    Free { number: u32 },
}

/// The entries of the classic cross-reference table at `at`, in order, and the trailer
/// dictionary after it.
pub(super) fn xref_table_entries(
    buf: &[u8],
    at: usize,
) -> Option<(Vec<XrefTableEntry>, Dictionary)> {
    let mut entries = Vec::new();
    let mut i = at + 4;
    // As lopdf: each section's entries are read while they look like entries, whatever count
    // its header gives; an object's number is the section's start plus the entry's index.
    let (mut start, mut index) = (0i64, 0i64);
    loop {
        skip_white(buf, &mut i);
        if buf.get(i..)?.starts_with(b"trailer") {
            i += 7;
            skip_space(buf, &mut i);
            return dict_at(buf, i).map(|(dict, _)| (entries, dict));
        }
        let first = number(buf, &mut i)?;
        skip_white(buf, &mut i);
        let second = number(buf, &mut i)?;
        skip_white(buf, &mut i);
        match buf.get(i) {
            Some(&kind @ (b'n' | b'f')) => {
                i += 1;
                let number = start.wrapping_add(index) as u32;
                if kind == b'f' {
                    entries.push(XrefTableEntry::Free { number });
                } else if u16::try_from(second).is_ok()
                    && let Ok(offset) = usize::try_from(first)
                {
                    entries.push(XrefTableEntry::InUse { number, offset });
                }
                index += 1;
            }
            _ => (start, index) = (first, 0),
        }
    }
}

/// The entries of a decoded cross-reference stream: in-use objects into `offsets`, the object
/// streams holding compressed objects into `containers`. Refuses widths lopdf would allocate
/// without bound, or loop on (all zero).
fn xref_entries(
    dict: &Dictionary,
    data: &[u8],
    offsets: &mut BTreeMap<u32, usize>,
    all: &mut BTreeSet<usize>,
    containers: &mut BTreeSet<u32>,
) -> Result<(), String> {
    let integers = |key: &[u8]| -> Option<Vec<i64>> {
        dict.get(key)
            .ok()?
            .as_array()
            .ok()?
            .iter()
            .map(|o| o.as_i64().ok())
            .collect()
    };
    let Some(widths) = integers(b"W").filter(|w| w.len() >= 3) else {
        return Ok(());
    };
    if widths.iter().any(|&w| !(0..=MAX_FIELD_WIDTH).contains(&w))
        || widths[..3].iter().sum::<i64>() == 0
    {
        return Err(format!(
            "its cross-reference stream has malformed field widths {widths:?}"
        ));
    }
    let w: Vec<usize> = widths[..3].iter().map(|&w| w as usize).collect();
    let size = dict
        .get(b"Size")
        .ok()
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(0);
    let index = integers(b"Index").unwrap_or_else(|| vec![0, size]);
    // As lopdf reads them: the low 32 bits of each field.
    let field = |bytes: &[u8]| bytes.iter().fold(0u32, |v, &b| v << 8 | u32::from(b));
    let mut rest = data;
    for pair in index.chunks_exact(2) {
        for n in 0..pair[1].max(0) {
            let Some((entry, tail)) = rest.split_at_checked(w[0] + w[1] + w[2]) else {
                return Ok(());
            };
            rest = tail;
            let kind = if w[0] == 0 { 1 } else { field(&entry[..w[0]]) };
            let second = field(&entry[w[0]..w[0] + w[1]]);
            let number = pair[0].wrapping_add(n) as u32;
            match kind {
                1 => {
                    let offset = second as usize;
                    offsets.entry(number).or_insert(offset);
                    all.insert(offset);
                }
                2 => {
                    containers.insert(second);
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// lopdf's decryption state for a file encrypted with the empty user password.
fn decryption(
    buf: &[u8],
    trailer: &Dictionary,
    offsets: &BTreeMap<u32, usize>,
) -> Option<lopdf::EncryptionState> {
    let id = trailer.get(b"Encrypt").ok()?.as_reference().ok()?;
    let at = *offsets.get(&id.0)?;
    let (dict, _) = object_header(buf, at).and_then(|(_, i)| dict_at(buf, i))?;
    let mut doc = Document::new();
    doc.trailer = trailer.clone();
    doc.objects.insert(id, Object::Dictionary(dict));
    lopdf::EncryptionState::decode(&doc, "").ok()
}

/// A stream object found in the raw bytes.
pub(super) struct Found<'a> {
    pub(super) id: ObjectId,
    pub(super) dict: Dictionary,
    pub(super) data: &'a [u8],
}

/// The stream object `N G obj << … >> stream` at `at`. Its data are `/Length` bytes when the
/// length is direct (or an object found through `offsets`), the rest of the file when it is an
/// object not found (more than lopdf reads), nothing without a length (lopdf reads nothing).
pub(super) fn stream_at<'a>(
    buf: &'a [u8],
    at: usize,
    offsets: Option<&BTreeMap<u32, usize>>,
) -> Option<Found<'a>> {
    let (id, i) = object_header(buf, at)?;
    let (dict, i) = stream_dict_at(buf, i)?;
    let rest = &buf[i..];
    let length = match dict.get(b"Length") {
        Ok(Object::Integer(n)) => usize::try_from(*n).ok(),
        Ok(Object::Reference(r)) => Some(
            offsets
                .and_then(|o| o.get(&r.0))
                .and_then(|&at| integer_object(buf, at))
                .unwrap_or(rest.len()),
        ),
        _ => Some(0),
    }?;
    Some(Found {
        id,
        dict,
        data: &rest[..length.min(rest.len())],
    })
}

/// The dictionary of the stream object whose body starts at `at`, and where its data start:
/// after `stream` and the end of line that follows it.
pub(super) fn stream_dict_at(buf: &[u8], at: usize) -> Option<(Dictionary, usize)> {
    let (dict, mut i) = dict_at(buf, at)?;
    skip_space(buf, &mut i);
    if !buf.get(i..)?.starts_with(b"stream") {
        return None;
    }
    i += b"stream".len();
    while matches!(buf.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    match buf.get(i..i + 2) {
        Some(b"\r\n") => i += 2,
        _ if matches!(buf.get(i), Some(b'\n' | b'\r')) => i += 1,
        _ => return None,
    }
    Some((dict, i))
}

/// `N G obj` at `at`: the object's id and where its body starts.
pub(super) fn object_header(buf: &[u8], at: usize) -> Option<(ObjectId, usize)> {
    let mut i = at;
    let number = u32::try_from(number(buf, &mut i)?).ok()?;
    skip_white(buf, &mut i);
    let generation = u16::try_from(self::number(buf, &mut i)?).ok()?;
    skip_white(buf, &mut i);
    if !buf.get(i..)?.starts_with(b"obj") {
        return None;
    }
    i += 3;
    skip_space(buf, &mut i);
    Some(((number, generation), i))
}

/// The integer object `N G obj 123` at `at`.
fn integer_object(buf: &[u8], at: usize) -> Option<usize> {
    let (_, mut i) = object_header(buf, at)?;
    usize::try_from(number(buf, &mut i)?).ok()
}

/// The dictionary starting at `at` and where it ends, parsed by lopdf's content parser (which
/// reads dictionaries, references included, as lopdf's object parser does).
pub(super) fn dict_at(buf: &[u8], at: usize) -> Option<(Dictionary, usize)> {
    let end = dict_end(buf, at)?;
    let text = [&buf[at..end], b" x"].concat();
    let content = Content::decode(&text).ok()?;
    match content.operations.first()?.operands.first()? {
        Object::Dictionary(dict) => Some((dict.clone(), end)),
        _ => None,
    }
}

/// Where the dictionary starting at `at` (`<<`) ends, past its `>>`.
fn dict_end(buf: &[u8], at: usize) -> Option<usize> {
    if !buf.get(at..)?.starts_with(b"<<") {
        return None;
    }
    let mut depth = 0usize;
    let mut i = at;
    while i < buf.len() {
        match buf[i] {
            b'<' if buf.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 2;
            }
            b'>' if buf.get(i + 1) == Some(&b'>') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'<' => i += buf[i..].iter().position(|&c| c == b'>')? + 1,
            b'(' => i = string_end(buf, i)?,
            b'%' => skip_space(buf, &mut i),
            _ => i += 1,
        }
    }
    None
}

/// Where the object whose text starts at `at` ends (a stream's at the end of its dictionary),
/// or, when it does not, where lopdf's parser must stop: at `obj`, `endobj`, `stream` or
/// `endstream`, or at the end of the file.
fn object_end(buf: &[u8], at: usize) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while let Some(&c) = buf.get(i) {
        match c {
            b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0' => i += 1,
            b'%' => skip_space(buf, &mut i),
            b'(' => i = string_end(buf, i).unwrap_or(buf.len()),
            b'<' if buf.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 2;
            }
            b'<' => {
                i = buf[i..]
                    .iter()
                    .position(|&c| c == b'>')
                    .map_or(buf.len(), |p| i + p + 1)
            }
            b'[' => {
                depth += 1;
                i += 1;
            }
            b'>' | b']' => {
                i += if c == b'>' && buf.get(i + 1) == Some(&b'>') {
                    2
                } else {
                    1
                };
                depth = depth.saturating_sub(1);
            }
            _ => {
                let start = i;
                i += 1;
                while buf.get(i).is_some_and(|&c| {
                    !matches!(
                        c,
                        b' ' | b'\t'
                            | b'\r'
                            | b'\n'
                            | b'\x0c'
                            | b'\0'
                            | b'('
                            | b')'
                            | b'<'
                            | b'>'
                            | b'['
                            | b']'
                            | b'{'
                            | b'}'
                            | b'/'
                            | b'%'
                    )
                }) {
                    i += 1;
                }
                if matches!(
                    &buf[start..i],
                    b"obj" | b"endobj" | b"stream" | b"endstream"
                ) {
                    return start;
                }
            }
        }
        if depth == 0 && i > at {
            return i;
        }
    }
    buf.len()
}

/// Past the literal string starting at `at` (`(`), nested parentheses and escapes read.
pub(super) fn string_end(buf: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    while i < buf.len() {
        match buf[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The unsigned integer at `i`, moving past it.
fn number(buf: &[u8], i: &mut usize) -> Option<i64> {
    let start = *i;
    let mut value: i64 = 0;
    while let Some(&c) = buf.get(*i).filter(|c| c.is_ascii_digit()) {
        value = value.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
        *i += 1;
    }
    (*i > start).then_some(value)
}

/// Whether `b` is PDF white space.
pub(super) fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

/// Whether `b` continues a PDF token (not white space or a delimiter).
pub(super) fn is_regular(b: u8) -> bool {
    !is_white(b) && !b"()<>[]{}/%".contains(&b)
}

fn skip_white(buf: &[u8], i: &mut usize) {
    while buf.get(*i).is_some_and(|&c| is_white(c)) {
        *i += 1;
    }
}

/// Skips white space and comments.
pub(super) fn skip_space(buf: &[u8], i: &mut usize) {
    loop {
        skip_white(buf, i);
        if buf.get(*i) != Some(&b'%') {
            return;
        }
        while buf.get(*i).is_some_and(|&c| c != b'\n' && c != b'\r') {
            *i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::pdf::streams::zlib;
    use crate::parse::test_corpus::corpus_dir;
    use lopdf::dictionary;
    use std::io::Write;

    fn limits(bytes: usize) -> LoadLimits {
        LoadLimits {
            bytes,
            ..LoadLimits::default()
        }
    }

    /// Loads as the parser does.
    fn load(bytes: &[u8], limits: LoadLimits) -> Result<Document, String> {
        super::super::load::load(bytes, limits).map_err(|e| match e {
            super::super::load::LoadError::Malformed(reason) => reason,
            super::super::load::LoadError::Password => "password".into(),
            super::super::load::LoadError::Truncated => "truncated".into(),
        })
    }

    /// A one-page document with the given extra objects (numbered from 4), its bytes written
    /// here (lopdf leaves object streams out when it saves).
    fn document(extra: &[Vec<u8>]) -> Vec<u8> {
        let mut objects: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_vec(),
        ];
        objects.extend_from_slice(extra);
        crate::parse::pdf::tests::objects_pdf_of_version("1.5", &objects)
    }

    /// An object stream lopdf finds by its type, whatever refers to it, is checked before
    /// lopdf inflates it (it kept all of it: 1 GiB from 1 MB).
    #[test]
    fn an_object_stream_past_the_limit_is_refused() {
        let objstm = |data: &[u8]| {
            let data = zlib(data);
            let mut body = format!(
                "<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {} >>\nstream\n",
                data.len()
            )
            .into_bytes();
            body.extend_from_slice(&data);
            body.extend_from_slice(b"\nendstream");
            body
        };
        let big = document(&[objstm(&vec![b' '; 2 << 20])]);
        assert_eq!(
            load(&big, limits(1 << 20)).err().as_deref(),
            Some("its cross-reference and object streams decode to more than the 1 MiB read")
        );
        assert!(load(&big, LoadLimits::default()).is_ok());
        // lopdf reads a table's entries whatever count its section header gives.
        let at = big
            .windows(9)
            .rposition(|w| w == b"xref\n0 5\n")
            .unwrap_or_else(|| panic!("no table"));
        let mut lying = big.clone();
        lying[at + 7] = b'1';
        assert!(Document::load_mem(&lying).is_ok_and(|d| d.objects.len() >= 4));
        assert_eq!(
            load(&lying, limits(1 << 20)).err().as_deref(),
            Some("its cross-reference and object streams decode to more than the 1 MiB read")
        );

        let many = document(&[objstm(&b"1 ".repeat(1000))]);
        let few_tokens = LoadLimits {
            tokens: 999,
            ..LoadLimits::default()
        };
        assert_eq!(
            load(&many, few_tokens).err().as_deref(),
            Some("its objects and object streams hold more than the 999 objects read")
        );
    }

    /// The objects lopdf parses from the file itself are counted too (an array of a few
    /// megabytes of numbers took 60 times its size), their text only: not stream data, all of
    /// an array even past a string that says `endobj`.
    #[test]
    fn the_objects_of_the_file_are_counted() {
        let few = LoadLimits {
            tokens: 1000,
            ..LoadLimits::default()
        };
        let numbers = |n: usize| [&b"["[..], &b"0 ".repeat(n), b"]"].concat();
        assert!(load(&document(&[numbers(900)]), few).is_ok());
        assert_eq!(
            load(&document(&[numbers(1000)]), few).err().as_deref(),
            Some("its objects and object streams hold more than the 1000 objects read")
        );
        let hidden = [&b"[(endobj) "[..], &numbers(1000)[1..]].concat();
        assert!(load(&document(&[hidden]), few).is_err());
        let data = b"0 ".repeat(5000);
        let stream = [
            format!("<< /Length {} >>\nstream\n", data.len()).as_bytes(),
            &data,
            b"\nendstream",
        ]
        .concat();
        assert!(load(&document(&[stream]), few).is_ok());
        // Where lopdf has to stop reading an object that does not end.
        assert_eq!(object_end(b"[1 2 endobj", 0), 5);
        assert_eq!(object_end(b"<< /A (>>) >> stream", 0), 13);
        assert_eq!(object_end(b"12 0 R", 0), 2);
    }

    /// A file with its objects in object streams and a cross-reference stream (as lopdf saves
    /// one): both are found through `startxref` and decoded within the limits.
    #[test]
    fn cross_reference_streams_and_their_object_streams_are_read_within_the_limits() {
        let mut doc = Document::with_version("1.5");
        let pages = doc.new_object_id();
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Filler" => Object::string_literal(" ".repeat(5000)),
        });
        doc.objects.insert(
            pages,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
            ),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        let options = lopdf::SaveOptions::builder()
            .use_object_streams(true)
            .use_xref_streams(true)
            .build();
        doc.save_with_options(&mut bytes, options)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(load(&bytes, LoadLimits::default()).is_ok());
        // The object stream holds the 5,000-byte string; the cross-reference stream is small.
        let err = check(&bytes, limits(4000)).err();
        assert_eq!(
            err.as_deref(),
            Some("its cross-reference and object streams decode to more than the 0 MiB read")
        );
        assert!(check(&bytes, limits(6000)).is_ok());
    }

    /// A cross-reference stream that inflates past the limit, or whose entries have no width
    /// (lopdf would read entries of nothing for ever), is refused before lopdf reads it.
    #[test]
    fn a_cross_reference_stream_past_the_limit_is_refused() {
        let file = |widths: &str, data: &[u8]| {
            let mut bytes = b"%PDF-1.5\n".to_vec();
            let at = bytes.len();
            let _ = write!(
                bytes,
                "1 0 obj\n<< /Type /XRef /Size 2 /W [{widths}] /Filter /FlateDecode /Length {} >>\nstream\n",
                data.len()
            );
            bytes.extend_from_slice(data);
            let _ = write!(bytes, "\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n");
            bytes
        };
        let bomb = file("1 4 2", &zlib(&vec![0; 2 << 20]));
        assert_eq!(
            check(&bomb, limits(1 << 20)).err().as_deref(),
            Some("its cross-reference and object streams decode to more than the 1 MiB read")
        );
        let zero = file("0 0 0", &zlib(b""));
        assert_eq!(
            check(&zero, LoadLimits::default()).err().as_deref(),
            Some("its cross-reference stream has malformed field widths [0, 0, 0]")
        );
    }

    /// The corpus files with cross-reference and object streams are read, and what is read of
    /// them is counted.
    #[test]
    fn corpus_object_streams_are_read_and_counted() {
        for file in [
            "debian-freefem-doc__freefem.pdf",
            "pdfplumber__scotus-transcript-p1.pdf",
        ] {
            let bytes = std::fs::read(corpus_dir().join("pdf").join(file))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(check(&bytes, LoadLimits::default()).is_ok(), "{file}");
            assert!(check(&bytes, limits(100)).is_err(), "{file}");
            assert!(load(&bytes, LoadLimits::default()).is_ok(), "{file}");
        }
    }

    /// In an encrypted file (empty user password), a container of compressed objects is
    /// decrypted before it is decoded, as lopdf does (decoded encrypted, it would look small).
    #[test]
    fn an_encrypted_object_stream_is_decrypted_then_checked() {
        use lopdf::encryption::{EncryptionVersion, Permissions, encrypt_object};

        let id = Object::string_literal("0123456789abcdef");
        let mut doc = Document::new();
        doc.trailer.set("ID", vec![id.clone(), id.clone()]);
        let state = lopdf::EncryptionState::try_from(EncryptionVersion::V1 {
            document: &doc,
            owner_password: "owner",
            user_password: "",
            permissions: Permissions::default(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let encrypt = state.encode().unwrap_or_else(|e| panic!("{e:?}"));
        let file = |objects: &[u8]| {
            let mut container = Object::Stream(
                Stream::new(
                    dictionary! { "Type" => "ObjStm", "N" => 1, "First" => 4, "Filter" => "FlateDecode" },
                    zlib(&[b"6 0 ", objects].concat()),
                )
                .with_compression(false),
            );
            encrypt_object(&state, (5, 0), &mut container).unwrap_or_else(|e| panic!("{e:?}"));
            let Object::Stream(container) = container else {
                panic!("not a stream")
            };
            let mut bytes = b"%PDF-1.5\n".to_vec();
            let mut offsets = Vec::new();
            let mut object = |bytes: &mut Vec<u8>, n: usize, body: &[u8]| {
                offsets.push((n, bytes.len()));
                let _ = writeln!(bytes, "{n} 0 obj");
                bytes.extend_from_slice(body);
                bytes.extend_from_slice(b"\nendobj\n");
            };
            object(&mut bytes, 1, b"<< /Type /Catalog /Pages 2 0 R >>");
            object(&mut bytes, 2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
            object(
                &mut bytes,
                3,
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 6 0 R >>",
            );
            let mut text = Vec::new();
            for (key, value) in encrypt.iter() {
                text.extend_from_slice(b"/");
                text.extend_from_slice(key);
                text.extend_from_slice(b" ");
                match value {
                    Object::String(s, _) => {
                        text.push(b'<');
                        text.extend(s.iter().flat_map(|b| format!("{b:02x}").into_bytes()));
                        text.push(b'>');
                    }
                    Object::Name(n) => {
                        text.push(b'/');
                        text.extend_from_slice(n);
                    }
                    Object::Integer(i) => text.extend(i.to_string().into_bytes()),
                    Object::Boolean(b) => text.extend(b.to_string().into_bytes()),
                    other => panic!("{other:?}"),
                }
                text.push(b' ');
            }
            object(&mut bytes, 4, &[b"<< ", &text[..], b">>"].concat());
            let head = format!(
                "<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {} >>\nstream\n",
                container.content.len()
            );
            object(
                &mut bytes,
                5,
                &[head.as_bytes(), &container.content, b"\nendstream"].concat(),
            );
            let at = bytes.len();
            let mut entries = vec![0u8, 0, 0, 0, 0, 0xff, 0xff];
            for n in 1..=7u32 {
                let (kind, second) = match offsets.iter().find(|(m, _)| *m as u32 == n) {
                    Some(&(_, offset)) => (1u8, offset as u32),
                    None if n == 6 => (2, 5),
                    None => (1, at as u32),
                };
                entries.push(kind);
                entries.extend(second.to_be_bytes());
                entries.extend([0, 0]);
            }
            let data = zlib(&entries);
            let _ = write!(
                bytes,
                "7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Encrypt 4 0 R \
                 /ID [<30313233343536373839616263646566> <30313233343536373839616263646566>] \
                 /Filter /FlateDecode /Length {} >>\nstream\n",
                data.len()
            );
            bytes.extend_from_slice(&data);
            let _ = write!(bytes, "\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n");
            bytes
        };
        let small = file(b"<< /Font << >> >>");
        assert!(check(&small, LoadLimits::default()).is_ok());
        let doc = load(&small, LoadLimits::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            doc.get_object((6, 0)).is_ok(),
            "the compressed object is read"
        );
        let padded = [&b"<< /Pad ("[..], &vec![b' '; 2 << 20], b") >>"].concat();
        let big = file(&padded);
        assert_eq!(
            check(&big, limits(1 << 20)).err().as_deref(),
            Some("its cross-reference and object streams decode to more than the 1 MiB read")
        );
    }
}
