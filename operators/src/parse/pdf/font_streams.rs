//! The font streams pdf-extract decodes, bounded. It inflates, with no limit, a simple font's
//! font file (`FontFile`, `FontFile2`, `FontFile3` of its descriptor), a font's `ToUnicode`
//! CMap and a composite font's `Encoding` CMap; a font whose stream decodes past
//! [`MAX_FONT_BYTES`] is handed over without it (a font file left out falls back to the
//! font's encoding; a composite font without its encoding fails its pages, as an error).

use std::collections::HashMap;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::flatten::{font_descriptor, resolve};
use super::streams::{self, DecodeError};

/// Largest decoded font stream handed to pdf-extract, in bytes. The largest embedded fonts
/// (full CJK fonts) are some 20 MiB.
pub(crate) const MAX_FONT_BYTES: usize = 32 << 20;

/// Font file entries of a font descriptor.
const FONT_FILES: [&[u8]; 3] = [b"FontFile", b"FontFile2", b"FontFile3"];

/// Which streams were found within the limit (decoding each once per document).
pub(crate) type Checked = HashMap<ObjectId, bool>;

/// `font` as it is when all its streams decode within `limit` bytes, or a copy without those
/// that do not.
pub(crate) fn bounded(
    doc: &Document,
    font: &Object,
    limit: usize,
    checked: &mut Checked,
) -> Object {
    let Some(dict) = resolve(doc, font).and_then(|f| f.as_dict().ok()) else {
        return font.clone();
    };
    let mut fits = |value: &Object| within(doc, value, limit, checked);
    let mut copy: Option<Dictionary> = None;
    for key in [&b"ToUnicode"[..], b"Encoding"] {
        if dict.get(key).is_ok_and(|v| !fits(v)) {
            copy.get_or_insert_with(|| dict.clone()).remove(key);
        }
    }
    if let Some(descriptor) = font_descriptor(doc, dict) {
        let oversized: Vec<&[u8]> = FONT_FILES
            .into_iter()
            .filter(|key| descriptor.get(key).is_ok_and(|v| !fits(v)))
            .collect();
        if !oversized.is_empty() {
            let mut inline = descriptor.clone();
            for key in oversized {
                inline.remove(key);
            }
            copy.get_or_insert_with(|| dict.clone())
                .set("FontDescriptor", Object::Dictionary(inline));
        }
    }
    copy.map_or_else(|| font.clone(), Object::Dictionary)
}

/// Whether `value`, if it is a stream (by reference), decodes within `limit` bytes.
fn within(doc: &Document, value: &Object, limit: usize, checked: &mut Checked) -> bool {
    let Object::Reference(id) = value else {
        return true;
    };
    if let Some(&fits) = checked.get(id) {
        return fits;
    }
    let fits = match doc.get_object(*id).and_then(Object::as_stream) {
        Ok(stream) => streams::decode(stream, limit) != Err(DecodeError::TooLarge),
        Err(_) => true,
    };
    checked.insert(*id, fits);
    fits
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Stream, dictionary};

    #[test]
    fn streams_past_the_limit_are_left_out() {
        let mut doc = Document::with_version("1.5");
        let small = doc.add_object(Stream::new(dictionary! {}, vec![b' '; 10]));
        let large = doc.add_object(Stream::new(dictionary! {}, vec![b' '; 100]));
        let descriptor = doc.add_object(dictionary! {
            "Type" => "FontDescriptor", "FontFile2" => large, "FontFile3" => small,
        });
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "TrueType", "FontDescriptor" => descriptor,
            "ToUnicode" => small,
        });
        let mut checked = Checked::new();
        // Within the limit: the font itself, by reference.
        let kept = bounded(&doc, &Object::Reference(font), 100, &mut checked);
        assert_eq!(kept, Object::Reference(font));
        let mut checked = Checked::new();
        let Object::Dictionary(copy) = bounded(&doc, &Object::Reference(font), 50, &mut checked)
        else {
            panic!("not a copy");
        };
        assert_eq!(copy.get(b"ToUnicode").ok(), Some(&Object::Reference(small)));
        let inline = copy
            .get(b"FontDescriptor")
            .and_then(Object::as_dict)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(inline.get(b"FontFile2").is_err());
        assert!(inline.get(b"FontFile3").is_ok());
        assert_eq!(checked.len(), 2);
    }
}
