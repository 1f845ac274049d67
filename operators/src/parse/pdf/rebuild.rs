//! Rebuilding the cross-reference table of a damaged or truncated PDF, as readers do when the
//! table, the cross-reference stream or the trailer is missing or wrong: the bytes are scanned
//! for `N G obj` headers, the last occurrence of each object number wins, and a fresh table
//! and trailer are appended to a copy of the bytes, which lopdf then loads as any other file
//! (after the same pre-check of what loading decodes). The trailer keeps `/Root`, `/Info`,
//! `/Encrypt` and `/ID` of the last surviving trailer or cross-reference stream that names a
//! root; [`repair`] finds the catalog when none survived, and gives a stream that runs past the
//! end of the bytes what data there are.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Range;

use lopdf::{Dictionary, Document, Object, ObjectId, ObjectStream, Stream};

use super::preload::{dict_at, is_regular, is_white, object_header, skip_space};

/// Trailer entries carried over from a surviving trailer or cross-reference stream.
const KEPT: [&[u8]; 4] = [b"Root", b"Info", b"Encrypt", b"ID"];
/// Most bytes read back from `obj` to the start of its `N G` (numbers and white space).
const MAX_HEADER_BYTES: usize = 48;

/// Streams whose data the end of the file cut short: what is there was read.
pub(crate) type Cut = BTreeSet<ObjectId>;

/// A file with a rebuilt cross-reference table.
pub(super) struct Rebuilt {
    /// The file's bytes with the table appended.
    pub bytes: Vec<u8>,
    /// Its last stream, when its data run past the end of the file.
    last: Option<Unended>,
}

/// A stream whose data run to the end of the bytes, without `endstream`.
struct Unended {
    /// Where its header starts.
    at: usize,
    id: ObjectId,
    dict: Dictionary,
    data: Range<usize>,
    /// Whether the data are as long as a direct `/Length` says (only `endstream` was cut off).
    whole: bool,
}

/// A copy of `file` (from its `%PDF-` header on, as lopdf reads it) with a cross-reference
/// table and a trailer appended that list the objects found in its bytes; `None` when it holds
/// none.
pub(super) fn rebuild(file: &[u8]) -> Option<Rebuilt> {
    let start = file.windows(5).position(|w| w == b"%PDF-").unwrap_or(0);
    let buf = &file[start..];
    let (objects, trailer, unended) = scan(buf);
    let entries: Vec<(u32, (usize, u16))> = objects.into_iter().collect();
    let last = entries.last()?.0;
    let mut out = Vec::with_capacity(buf.len() + 64 + 20 * entries.len());
    out.extend_from_slice(buf);
    // A cut file may end inside a token: the table starts on a line of its own.
    out.extend_from_slice(b"\n");
    let xref_at = out.len();
    let mut text = String::from("xref\n0 1\n0000000000 65535 f \n");
    let mut i = 0;
    while i < entries.len() {
        let mut j = i + 1;
        while j < entries.len() && entries[j].0 == entries[j - 1].0 + 1 {
            j += 1;
        }
        let _ = writeln!(text, "{} {}", entries[i].0, j - i);
        for (_, (offset, generation)) in &entries[i..j] {
            let _ = writeln!(text, "{offset:010} {generation:05} n ");
        }
        i = j;
    }
    let _ = write!(text, "trailer\n<< /Size {}", u64::from(last) + 1);
    for key in KEPT {
        if let Ok(value) = trailer.get(key) {
            let _ = write!(text, " /{} ", String::from_utf8_lossy(key));
            write_object(&mut text, value, 0);
        }
    }
    let _ = write!(text, " >>\nstartxref\n{xref_at}\n%%EOF\n");
    out.extend_from_slice(text.as_bytes());
    Some(Rebuilt {
        bytes: out,
        last: unended,
    })
}

/// The offset and generation of the last `N G obj` of each object number in `buf`, the
/// trailer entries to keep, and the last object when it is a stream whose data run to the end.
fn scan(buf: &[u8]) -> (BTreeMap<u32, (usize, u16)>, Dictionary, Option<Unended>) {
    let starts: Vec<usize> = memchr::memmem::find_iter(buf, b"obj")
        .filter(|&at| buf.get(at + 3).is_none_or(|&b| !is_regular(b)))
        .filter_map(|at| header_start(buf, at))
        .collect();
    let mut objects = BTreeMap::new();
    // Trailer dictionaries (and cross-reference stream dictionaries) by offset.
    let mut trailers: Vec<(usize, Dictionary)> = Vec::new();
    let mut skip_to = 0;
    let mut last = None;
    for (k, &begin) in starts.iter().enumerate() {
        if begin < skip_to {
            continue;
        }
        let Some(((num, generation), body)) = object_header(buf, begin) else {
            continue;
        };
        if num == 0 {
            continue;
        }
        objects.insert(num, (begin, generation));
        // The dictionary lies before the next header: the search for its end stays there.
        let next = starts.get(k + 1).copied().unwrap_or(buf.len());
        let Some((dict, end)) = dict_at(&buf[..next], body) else {
            continue;
        };
        if dict.has_type(b"XRef") {
            trailers.push((begin, dict.clone()));
        }
        // Stream data of a known length are skipped, so that nothing in them reads as a header.
        if let Some(data_end) = stream_end(buf, &dict, end) {
            skip_to = data_end;
        } else if next == buf.len() {
            last = unended(buf, begin, (num, generation), dict, end);
        }
    }
    for at in memchr::memmem::find_iter(buf, b"trailer") {
        let mut i = at + 7;
        skip_space(buf, &mut i);
        if let Some((dict, _)) = dict_at(buf, i) {
            trailers.push((at, dict));
        }
    }
    trailers.sort_by_key(|(at, _)| *at);
    let mut trailer = Dictionary::new();
    if let Some((_, found)) = trailers.iter().rev().find(|(_, d)| d.get(b"Root").is_ok()) {
        for key in KEPT {
            if let Ok(value) = found.get(key) {
                trailer.set(key, value.clone());
            }
        }
    }
    // Only the object's last occurrence counts.
    let last = last.filter(|u: &Unended| objects.get(&u.id.0) == Some(&(u.at, u.id.1)));
    (objects, trailer, last)
}

/// Where `N G obj` ends at `at` (the offset of `obj`) starts, read backwards.
fn header_start(buf: &[u8], at: usize) -> Option<usize> {
    let floor = at.saturating_sub(MAX_HEADER_BYTES);
    let mut i = at;
    for _ in 0..2 {
        let white = i;
        while i > floor && is_white(buf[i - 1]) {
            i -= 1;
        }
        let digits = i;
        while i > floor && buf[i - 1].is_ascii_digit() {
            i -= 1;
        }
        if i == white || i == digits {
            return None;
        }
    }
    (i == 0 || !is_regular(buf[i - 1])).then_some(i)
}

/// Past `endstream` of the stream whose dictionary ends at `end`, when its `/Length` is direct
/// and `endstream` follows that many bytes.
fn stream_end(buf: &[u8], dict: &Dictionary, end: usize) -> Option<usize> {
    let Ok(Object::Integer(length)) = dict.get(b"Length") else {
        return None;
    };
    let mut i = data_start(buf, end)?;
    i = i.checked_add(usize::try_from(*length).ok()?)?;
    skip_space(buf, &mut i);
    buf.get(i..)?.starts_with(b"endstream").then_some(i + 9)
}

/// Where the data of the stream whose dictionary ends at `end` start, past `stream` and its
/// end of line.
fn data_start(buf: &[u8], end: usize) -> Option<usize> {
    let mut i = end;
    skip_space(buf, &mut i);
    if !buf.get(i..)?.starts_with(b"stream") {
        return None;
    }
    i += 6;
    match buf.get(i..i + 2)? {
        b"\r\n" => i += 2,
        [b'\n' | b'\r', _] => i += 1,
        _ => return None,
    }
    Some(i)
}

/// The stream object at `at`, whose dictionary ends at `end`, when no `endstream` follows its
/// data: they run to the end of `buf` (no further than a direct `/Length`).
fn unended(buf: &[u8], at: usize, id: ObjectId, dict: Dictionary, end: usize) -> Option<Unended> {
    let start = data_start(buf, end)?;
    if memchr::memmem::find(&buf[start..], b"endstream").is_some() {
        return None;
    }
    let length = match dict.get(b"Length") {
        Ok(Object::Integer(n)) => usize::try_from(*n).ok(),
        _ => None,
    };
    let stop = length.map_or(buf.len(), |n| start.saturating_add(n).min(buf.len()));
    Some(Unended {
        at,
        id,
        whole: length == Some(stop - start),
        dict,
        data: start..stop,
    })
}

/// Writes a trailer value as PDF text (strings in hexadecimal).
fn write_object(text: &mut String, object: &Object, depth: usize) {
    if depth > 32 {
        text.push_str("null");
        return;
    }
    match object {
        Object::Null => text.push_str("null"),
        Object::Boolean(b) => {
            let _ = write!(text, "{b}");
        }
        Object::Integer(n) => {
            let _ = write!(text, "{n}");
        }
        Object::Real(r) => {
            let _ = write!(text, "{r}");
        }
        Object::Name(name) => {
            text.push('/');
            for &b in name {
                if is_regular(b) && b.is_ascii_graphic() && b != b'#' {
                    text.push(b as char);
                } else {
                    let _ = write!(text, "#{b:02X}");
                }
            }
        }
        Object::String(bytes, _) => {
            text.push('<');
            for b in bytes {
                let _ = write!(text, "{b:02X}");
            }
            text.push('>');
        }
        Object::Array(items) => {
            text.push('[');
            for item in items {
                text.push(' ');
                write_object(text, item, depth + 1);
            }
            text.push_str(" ]");
        }
        Object::Dictionary(dict) => write_dict(text, dict, depth),
        Object::Stream(stream) => write_dict(text, &stream.dict, depth),
        Object::Reference((n, g)) => {
            let _ = write!(text, "{n} {g} R");
        }
    }
}

fn write_dict(text: &mut String, dict: &Dictionary, depth: usize) {
    text.push_str("<<");
    for (key, value) in dict.iter() {
        text.push(' ');
        write_object(text, &Object::Name(key.clone()), depth + 1);
        text.push(' ');
        write_object(text, value, depth + 1);
    }
    text.push_str(" >>");
}

/// Most catalogs and page tree roots tried in turn.
const MAX_ROOTS_TRIED: usize = 8;

/// After loading a rebuilt file: unpacks the object streams lopdf left packed (in an encrypted
/// file it unpacks only those a cross-reference stream lists); gives the stream the end of the
/// file cut its data (see [`restore`]); then, when the trailer's catalog leads to no pages,
/// tries the other catalogs, then the roots of page trees (under a new catalog), then gathers
/// every page found under a new page tree. The streams whose data are cut short.
pub(super) fn repair(doc: &mut Document, rebuilt: &Rebuilt) -> Cut {
    unpack(doc);
    let cut = restore(doc, rebuilt);
    find_pages(doc);
    cut
}

/// Unpacks the object streams of an encrypted file, which lopdf leaves packed.
fn unpack(doc: &mut Document) {
    if doc.was_encrypted() {
        let mut unpacked = Vec::new();
        for object in doc.objects.values_mut() {
            if let Object::Stream(stream) = object
                && stream.dict.has_type(b"ObjStm")
                && let Ok(packed) = ObjectStream::new(stream)
            {
                unpacked.extend(packed.objects);
            }
        }
        for (id, object) in unpacked {
            doc.objects.entry(id).or_insert(object);
        }
    }
}

/// Gives the last stream of the file, when its data run to the end, the data there are: lopdf
/// reads it as its dictionary alone, or as empty when its length is an object cut off too (or
/// runs on into the appended table when that object survived). Its id when they are shorter
/// than its `/Length` (or it has none to tell).
fn restore(doc: &mut Document, rebuilt: &Rebuilt) -> Cut {
    let mut cut = Cut::new();
    let Some(last) = &rebuilt.last else {
        return cut;
    };
    let Some(data) = rebuilt.bytes.get(last.data.clone()) else {
        return cut;
    };
    let dict = match doc.objects.get(&last.id) {
        Some(Object::Dictionary(dict)) => dict.clone(),
        Some(Object::Stream(stream)) if stream.content.len() != data.len() => stream.dict.clone(),
        Some(_) => return cut,
        None => last.dict.clone(),
    };
    let Some(data) = decrypted(doc, last.id, &dict, data.to_vec()) else {
        return cut;
    };
    doc.objects
        .insert(last.id, Object::Stream(Stream::new(dict, data)));
    if !last.whole {
        cut.insert(last.id);
    }
    cut
}

/// `data` of stream `id` decrypted when the document was (its dictionary, already decrypted,
/// only chooses the crypt filter); `None` when that fails.
fn decrypted(doc: &Document, id: ObjectId, dict: &Dictionary, data: Vec<u8>) -> Option<Vec<u8>> {
    let Some(state) = &doc.encryption_state else {
        return Some(data);
    };
    let mut filters = Dictionary::new();
    for key in [&b"Filter"[..], b"DecodeParms"] {
        if let Ok(value) = dict.get(key) {
            filters.set(key, value.clone());
        }
    }
    let mut object = Object::Stream(Stream::new(filters, data));
    lopdf::encryption::decrypt_object(state, id, &mut object).ok()?;
    object.as_stream().ok().map(|s| s.content.clone())
}

/// When the trailer's catalog leads to no pages: the other catalogs, the roots of page trees,
/// or every page (see [`repair`]).
fn find_pages(doc: &mut Document) {
    if !doc.get_pages().is_empty() {
        return;
    }
    let typed = |doc: &Document, kind: &[u8]| -> Vec<ObjectId> {
        doc.objects
            .iter()
            .rev()
            .filter(|(_, o)| o.as_dict().is_ok_and(|d| d.has_type(kind)))
            .map(|(id, _)| *id)
            .collect()
    };
    for id in typed(doc, b"Catalog").into_iter().take(MAX_ROOTS_TRIED) {
        doc.trailer.set("Root", Object::Reference(id));
        if !doc.get_pages().is_empty() {
            return;
        }
    }
    let catalog = new_dict(b"Catalog");
    let catalog = doc.add_object(Object::Dictionary(catalog));
    doc.trailer.set("Root", Object::Reference(catalog));
    let roots: Vec<ObjectId> = typed(doc, b"Pages")
        .into_iter()
        .filter(|&id| {
            doc.get_dictionary(id)
                .is_ok_and(|d| d.get(b"Parent").is_err())
        })
        .take(MAX_ROOTS_TRIED)
        .collect();
    for id in roots {
        set_pages(doc, catalog, id);
        if !doc.get_pages().is_empty() {
            return;
        }
    }
    // Every page, in the order of their numbers, under a new root that pages whose parent is
    // lost hang from (with the first media box found, for them to inherit).
    let mut pages = typed(doc, b"Page");
    pages.reverse();
    if pages.is_empty() {
        return;
    }
    let media_box = pages
        .iter()
        .find_map(|&id| doc.get_dictionary(id).ok()?.get(b"MediaBox").ok().cloned())
        .unwrap_or_else(|| {
            Object::Array([0, 0, 612, 792].into_iter().map(Object::Integer).collect())
        });
    let mut root = new_dict(b"Pages");
    root.set("Count", Object::Integer(pages.len() as i64));
    root.set(
        "Kids",
        Object::Array(pages.iter().map(|&id| Object::Reference(id)).collect()),
    );
    root.set("MediaBox", media_box);
    let root = doc.add_object(Object::Dictionary(root));
    for &id in &pages {
        let orphan = doc
            .get_dictionary(id)
            .ok()
            .and_then(|d| d.get(b"Parent").ok())
            .and_then(|p| p.as_reference().ok())
            .is_none_or(|p| doc.get_dictionary(p).is_err());
        if orphan && let Ok(page) = doc.get_dictionary_mut(id) {
            page.set("Parent", Object::Reference(root));
        }
    }
    set_pages(doc, catalog, root);
}

fn new_dict(kind: &[u8]) -> Dictionary {
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(kind.to_vec()));
    dict
}

fn set_pages(doc: &mut Document, catalog: ObjectId, pages: ObjectId) {
    if let Ok(catalog) = doc.get_dictionary_mut(catalog) {
        catalog.set("Pages", Object::Reference(pages));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page file whose cross-reference table and trailer are gone (cut off).
    fn without_xref() -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            "<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 700 Td (Hello) Tj ET\nendstream",
        ];
        let mut file = String::from("%PDF-1.4\n");
        for (i, object) in objects.iter().enumerate() {
            file.push_str(&format!("{} 0 obj\n{object}\nendobj\n", i + 1));
        }
        file.into_bytes()
    }

    #[test]
    fn a_file_without_its_table_loads_from_the_objects_in_its_bytes() {
        let file = without_xref();
        assert!(
            Document::load_mem(&file).is_err(),
            "lopdf alone cannot load it"
        );
        let rebuilt = rebuild(&file).expect("objects were found");
        let mut doc = Document::load_mem(&rebuilt.bytes).unwrap();
        assert!(repair(&mut doc, &rebuilt).is_empty());
        assert_eq!(doc.get_pages().len(), 1);
        assert_eq!(doc.objects.len(), 4);
    }

    /// A file cut inside its last object, a stream: the stream keeps the data there are, and is
    /// said to be cut short (lopdf read it as its dictionary alone); cut between its data and
    /// `endstream`, it is whole.
    #[test]
    fn a_stream_the_end_of_the_file_cuts_keeps_the_data_there_are() {
        let data = b"BT /F1 12 Tf 72 700 Td (Hello) Tj ET";
        let mut file = String::from("%PDF-1.4\n");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_string(),
            format!(
                "<< /Length {} >>\nstream\n{}\nendstream",
                data.len(),
                String::from_utf8_lossy(data)
            ),
        ];
        for (i, object) in objects.iter().enumerate() {
            file.push_str(&format!("{} 0 obj\n{object}\nendobj\n", i + 1));
        }
        let at = file.find("(Hello)").unwrap_or(0);
        let end = file.find("\nendstream").unwrap_or(0);
        for (cut, content, short) in [(at + 4, &data[..27], true), (end, &data[..], false)] {
            let rebuilt = rebuild(&file.as_bytes()[..cut]).expect("objects were found");
            let mut doc = Document::load_mem(&rebuilt.bytes).unwrap();
            assert!(doc.get_object((4, 0)).unwrap().as_stream().is_err());
            let cut = repair(&mut doc, &rebuilt);
            assert_eq!(cut.contains(&(4, 0)), short);
            let stream = doc.get_object((4, 0)).unwrap().as_stream().unwrap();
            assert_eq!(stream.content, content);
        }
    }

    #[test]
    fn bytes_without_objects_give_nothing_to_load() {
        assert!(rebuild(b"%PDF-1.4\nnot a single object here").is_none());
    }
}
