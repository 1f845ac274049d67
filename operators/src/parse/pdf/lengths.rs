//! Streams whose `/Length` is wrong or missing: lopdf keeps such an object as its dictionary
//! alone (its data do not end in `endstream` at the declared length) or reads it empty (no
//! length it can read), and a page whose content it is loses all its text. Such streams are read again from the file, their
//! data up to the `endstream` that ends them, as other readers do.

use lopdf::xref::XrefEntry;
use lopdf::{Document, Object, Stream};

use super::preload::{object_header, stream_dict_at};

/// Most streams read again in one document: each is a search of the file.
const MAX_RECOVERED: usize = 10_000;

/// The in-use objects of `doc`'s cross-reference table, with their offsets.
pub(crate) fn in_use_offsets(
    doc: &Document,
) -> impl Iterator<Item = (lopdf::ObjectId, usize)> + '_ {
    (doc.reference_table.entries.iter()).filter_map(|(&number, entry)| match *entry {
        XrefEntry::Normal { offset, generation } => {
            Some(((number, generation), usize::try_from(offset).ok()?))
        }
        _ => None,
    })
}

/// Reads again the streams of `doc` (loaded from `bytes`, not encrypted) that lopdf lost, kept
/// as their dictionary or read empty although the file holds data for them; returns how many
/// it read.
pub(crate) fn recover(doc: &mut Document, bytes: &[u8]) -> usize {
    let candidates: Vec<(lopdf::ObjectId, usize)> = in_use_offsets(doc)
        .filter(|&(id, _)| match doc.objects.get(&id) {
            None => true,
            Some(Object::Stream(stream)) => stream.content.is_empty(),
            // What lopdf keeps of a stream whose data do not end at its length.
            Some(Object::Dictionary(dict)) => dict.has(b"Length"),
            Some(_) => false,
        })
        .take(MAX_RECOVERED)
        .collect();
    let mut recovered = 0;
    for (id, offset) in candidates {
        let Some((dict, data)) = stream_to_endstream(bytes, offset, id) else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        let mut stream = Stream::new(dict, data.to_vec());
        // The length the data have, not the one the file gave.
        stream
            .dict
            .set("Length", Object::Integer(data.len() as i64));
        doc.objects.insert(id, Object::Stream(stream));
        recovered += 1;
    }
    recovered
}

/// The stream object `id` at `offset`: its dictionary and its data, from the line after
/// `stream` to the end of line before the first `endstream`.
fn stream_to_endstream(
    bytes: &[u8],
    offset: usize,
    id: lopdf::ObjectId,
) -> Option<(lopdf::Dictionary, &[u8])> {
    let (found, at) = object_header(bytes, offset)?;
    if found != id {
        return None;
    }
    let (dict, i) = stream_dict_at(bytes, at)?;
    let end = i + memchr::memmem::find(&bytes[i..], b"endstream")?;
    let mut data = &bytes[i..end];
    // A stream cut short has no `endstream` of its own: the one found ends a later object.
    if memchr::memmem::find(data, b"endobj").is_some() {
        return None;
    }
    for eol in [&b"\r\n"[..], b"\n", b"\r"] {
        if let Some(trimmed) = data.strip_suffix(eol) {
            data = trimmed;
            break;
        }
    }
    Some((dict, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_read_up_to_its_endstream() {
        let file =
            b"%PDF-1.4\n5 0 obj\n<< /Length 3 >>\nstream\nBT (Hi) Tj ET\nendstream\nendobj\n";
        let (dict, data) = stream_to_endstream(file, 9, (5, 0)).unwrap();
        assert_eq!(data, b"BT (Hi) Tj ET");
        assert_eq!(dict.get(b"Length").unwrap(), &Object::Integer(3));
        assert!(
            stream_to_endstream(file, 9, (6, 0)).is_none(),
            "another object"
        );
        let crlf = b"1 0 obj << >> stream\r\ndata\r\nendstream";
        assert_eq!(stream_to_endstream(crlf, 0, (1, 0)).unwrap().1, b"data");
        assert!(stream_to_endstream(b"1 0 obj << >> stream\r\ndata", 0, (1, 0)).is_none());
        let cut = b"1 0 obj << >> stream\ndata\nendobj\n2 0 obj << >> stream\nmore\nendstream";
        assert!(
            stream_to_endstream(cut, 0, (1, 0)).is_none(),
            "a later object's end"
        );
    }
}
