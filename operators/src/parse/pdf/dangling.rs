//! Fonts that refer to objects the file lost (cut off the end of a truncated file, or never
//! written). pdf-extract follows each reference it meets with `expect`, so one to a missing
//! object in a font (the font itself, its descriptor, encoding, widths, ToUnicode CMap or font
//! file, a composite font's descendant) panics, and the page loses its text. [`font`] checks a
//! font before it is handed over: entries that lead to a missing object, or to a stream that the
//! end of the file cut short, are left out of a copy; a font that is missing, or is left without
//! an entry pdf-extract requires, is lost. Only fonts need this: the flattened page hands
//! pdf-extract nothing else (forms are drawn inline, images and graphics states dropped).

use lopdf::{Dictionary, Document, Object};

use super::rebuild::Cut;

/// What [`font`] found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Checked {
    /// Nothing lost: the font as it is.
    Whole,
    /// A copy without the entries that lead to lost objects.
    Repaired(Dictionary),
    /// Missing, or without what pdf-extract requires: its text cannot be read.
    Lost,
}

/// Entries of a simple font pdf-extract can do without.
const SIMPLE: [&[u8]; 7] = [
    b"Encoding",
    b"FontDescriptor",
    b"ToUnicode",
    b"FirstChar",
    b"LastChar",
    b"Widths",
    b"MissingWidth",
];
/// Entries of a font descriptor pdf-extract reads and can do without.
const DESCRIPTOR: [&[u8]; 4] = [b"FontFile", b"FontFile2", b"FontFile3", b"CharSet"];
/// Entries of an encoding dictionary.
const ENCODING: [&[u8]; 2] = [b"BaseEncoding", b"Differences"];
/// Entries a Type 3 font cannot do without.
const TYPE3: [&[u8]; 4] = [b"Encoding", b"FirstChar", b"LastChar", b"Widths"];
/// Entries of a composite font's descendant it can do without.
const DESCENDANT: [&[u8]; 2] = [b"DW", b"W"];

/// Checks font `font` (a reference to a font dictionary, or one) of `doc`, whose streams in
/// `cut` were cut short, for what pdf-extract would panic on.
pub(crate) fn font(doc: &Document, cut: &Cut, font: &Object) -> Checked {
    if lost(doc, cut, font) {
        return Checked::Lost;
    }
    let Some(dict) = deref(doc, font).and_then(|f| f.as_dict().ok()) else {
        return Checked::Lost;
    };
    let subtype = name(doc, dict, b"Subtype");
    let repaired = match subtype {
        Some(b"Type0") => composite(doc, cut, dict),
        Some(b"Type3") => type3(doc, cut, dict),
        Some(_) if name(doc, dict, b"BaseFont").is_some() => Some(simple(doc, cut, dict)),
        _ => None,
    };
    match repaired {
        None => Checked::Lost,
        Some(None) => Checked::Whole,
        Some(Some(copy)) => Checked::Repaired(copy),
    }
}

/// A simple font (Type 1, TrueType): a copy without its lost entries, if any.
fn simple(doc: &Document, cut: &Cut, dict: &Dictionary) -> Option<Dictionary> {
    let mut copy = without(doc, cut, dict, &SIMPLE);
    for (key, keys) in [
        (&b"Encoding"[..], &ENCODING[..]),
        (b"FontDescriptor", &DESCRIPTOR),
    ] {
        repair_nested(doc, cut, dict, &mut copy, key, keys);
    }
    copy
}

/// A Type 3 font: `None` when an entry it requires is lost.
fn type3(doc: &Document, cut: &Cut, dict: &Dictionary) -> Option<Option<Dictionary>> {
    if TYPE3
        .iter()
        .any(|key| dict.get(key).ok().is_none_or(|v| lost(doc, cut, v)))
    {
        return None;
    }
    let mut copy = without(doc, cut, dict, &[b"ToUnicode"]);
    repair_nested(doc, cut, dict, &mut copy, b"Encoding", &ENCODING);
    Some(copy)
}

/// A composite (Type 0) font: `None` when its encoding or descendant is lost. A descendant
/// without a usable descriptor gets an empty one (pdf-extract requires one, and reads nothing
/// from it).
fn composite(doc: &Document, cut: &Cut, dict: &Dictionary) -> Option<Option<Dictionary>> {
    name(doc, dict, b"BaseFont")?;
    let encoding = dict.get(b"Encoding").ok()?;
    let usable = match deref(doc, encoding)? {
        Object::Name(_) => true,
        Object::Stream(_) => !lost(doc, cut, encoding),
        _ => false,
    };
    let descendants = dict.get(b"DescendantFonts").ok()?;
    if !usable || lost(doc, cut, descendants) {
        return None;
    }
    let descendants = deref(doc, descendants)?.as_array().ok()?;
    let first = descendants.first()?;
    if lost(doc, cut, first) {
        return None;
    }
    let descendant = deref(doc, first)?.as_dict().ok()?;
    let mut copy = without(doc, cut, dict, &[b"ToUnicode"]);
    let mut inner = without(doc, cut, descendant, &DESCENDANT);
    let descriptor = descendant.get(b"FontDescriptor").ok();
    if descriptor
        .is_none_or(|d| lost(doc, cut, d) || deref(doc, d).is_none_or(|d| d.as_dict().is_err()))
    {
        inner
            .get_or_insert_with(|| descendant.clone())
            .set("FontDescriptor", Object::Dictionary(Dictionary::new()));
    }
    if let Some(inner) = inner {
        let mut array = descendants.clone();
        array[0] = Object::Dictionary(inner);
        copy.get_or_insert_with(|| dict.clone())
            .set("DescendantFonts", Object::Array(array));
    }
    Some(copy)
}

/// Whether `value` leads to what the file lost: a reference to a missing object or to a stream
/// cut short, or an array holding one.
fn lost(doc: &Document, cut: &Cut, value: &Object) -> bool {
    let missing = |item: &Object| match item {
        Object::Reference(id) => cut.contains(id) || doc.get_object(*id).is_err(),
        _ => false,
    };
    match value {
        Object::Reference(id) => {
            cut.contains(id)
                || match doc.get_object(*id) {
                    Ok(Object::Array(items)) => items.iter().any(missing),
                    Ok(_) => false,
                    Err(_) => true,
                }
        }
        Object::Array(items) => items.iter().any(missing),
        _ => false,
    }
}

/// A copy of `dict` without those of `keys` whose values are lost, when any is. A `ToUnicode`
/// CMap must be a stream (or a name): a cut stream lopdf read as its dictionary alone is lost.
fn without(doc: &Document, cut: &Cut, dict: &Dictionary, keys: &[&[u8]]) -> Option<Dictionary> {
    let mut copy: Option<Dictionary> = None;
    for key in keys {
        let Ok(value) = dict.get(key) else { continue };
        let not_a_cmap = *key == b"ToUnicode"
            && deref(doc, value).is_some_and(|v| !matches!(v, Object::Stream(_) | Object::Name(_)));
        if lost(doc, cut, value) || not_a_cmap {
            copy.get_or_insert_with(|| dict.clone()).remove(key);
        }
    }
    copy
}

/// Puts into `copy` (of `dict`) a copy of the dictionary under `key` without its lost `keys`,
/// when it has any and `key` was not left out.
fn repair_nested(
    doc: &Document,
    cut: &Cut,
    dict: &Dictionary,
    copy: &mut Option<Dictionary>,
    key: &[u8],
    keys: &[&[u8]],
) {
    if copy.as_ref().is_some_and(|c| c.get(key).is_err()) {
        return;
    }
    let Some(nested) = dict
        .get(key)
        .ok()
        .and_then(|v| deref(doc, v))
        .and_then(|v| v.as_dict().ok())
    else {
        return;
    };
    if let Some(repaired) = without(doc, cut, nested, keys) {
        copy.get_or_insert_with(|| dict.clone())
            .set(key, Object::Dictionary(repaired));
    }
}

/// Follows one reference, as pdf-extract does.
fn deref<'a>(doc: &'a Document, value: &'a Object) -> Option<&'a Object> {
    match value {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

/// The name under `key`, through one reference.
fn name<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    deref(doc, dict.get(key).ok()?)?.as_name().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Stream, dictionary};

    /// Checks `font` in a document holding `objects` (numbered from 1), one of the ids in
    /// `cut` being cut short.
    fn check(objects: Vec<Object>, cut: &[u32], font: Dictionary) -> Checked {
        let mut doc = Document::with_version("1.5");
        for object in objects {
            doc.add_object(object);
        }
        let cut: Cut = cut.iter().map(|&n| (n, 0)).collect();
        let id = doc.add_object(font);
        super::font(&doc, &cut, &Object::Reference(id))
    }

    fn repaired(checked: Checked) -> Dictionary {
        match checked {
            Checked::Repaired(copy) => copy,
            other => panic!("not repaired: {other:?}"),
        }
    }

    #[test]
    fn a_simple_font_loses_only_its_lost_entries() {
        let whole = dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Times-Roman",
            "Encoding" => Object::Reference((1, 0)), "ToUnicode" => Object::Reference((2, 0)),
        };
        let encoding = || dictionary! { "Differences" => vec![32.into(), "space".into()] };
        let cmap = || Stream::new(dictionary! {}, b"begincmap endcmap".to_vec());
        let objects = || vec![encoding().into(), cmap().into()];
        assert_eq!(check(objects(), &[], whole.clone()), Checked::Whole);
        // The ToUnicode stream cut short, or read as its dictionary alone.
        let copy = repaired(check(objects(), &[2], whole.clone()));
        assert!(copy.get(b"ToUnicode").is_err() && copy.get(b"Encoding").is_ok());
        let copy = repaired(check(
            vec![encoding().into(), dictionary! {}.into()],
            &[],
            whole,
        ));
        assert!(copy.get(b"ToUnicode").is_err());
        // Differences naming a lost object; a descriptor whose font file is lost.
        let font = dictionary! {
            "Type" => "Font", "Subtype" => "TrueType", "BaseFont" => "Arial",
            "Encoding" => dictionary! { "Differences" => Object::Reference((9, 0)) },
            "FontDescriptor" => Object::Reference((1, 0)), "Widths" => Object::Reference((8, 0)),
        };
        let descriptor =
            dictionary! { "FontName" => "Arial", "FontFile2" => Object::Reference((7, 0)) };
        let copy = repaired(check(vec![descriptor.into()], &[], font));
        let nested = |key: &[u8]| {
            copy.get(key)
                .and_then(Object::as_dict)
                .cloned()
                .unwrap_or_default()
        };
        assert!(nested(b"Encoding").is_empty());
        assert_eq!(nested(b"FontDescriptor").len(), 1);
        assert!(copy.get(b"Widths").is_err());
        // No font at all, or no base font.
        let mut doc = Document::with_version("1.5");
        let missing = super::font(&doc, &Cut::new(), &Object::Reference((5, 0)));
        assert_eq!(missing, Checked::Lost);
        let nameless = doc.add_object(
            dictionary! { "Subtype" => "Type1", "BaseFont" => Object::Reference((6, 0)) },
        );
        assert_eq!(
            super::font(&doc, &Cut::new(), &Object::Reference(nameless)),
            Checked::Lost
        );
    }

    #[test]
    fn a_type3_font_is_lost_without_its_widths() {
        let font = |widths: Object| {
            dictionary! {
                "Type" => "Font", "Subtype" => "Type3", "Encoding" => "WinAnsiEncoding",
                "FirstChar" => 65, "LastChar" => 65, "Widths" => widths,
                "ToUnicode" => Object::Reference((9, 0)),
            }
        };
        let copy = repaired(check(vec![], &[], font(vec![Object::from(500)].into())));
        assert!(copy.get(b"ToUnicode").is_err());
        assert_eq!(
            check(vec![], &[], font(Object::Reference((9, 0)))),
            Checked::Lost
        );
        let dangling = vec![Object::Reference((9, 0))].into();
        assert_eq!(check(vec![], &[], font(dangling)), Checked::Lost);
    }

    #[test]
    fn a_composite_font_needs_its_encoding_and_descendant() {
        let font = |encoding: Object, descendant: Object| {
            dictionary! {
                "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "Sans",
                "Encoding" => encoding, "DescendantFonts" => vec![descendant],
            }
        };
        let descendant = dictionary! {
            "Subtype" => "CIDFontType2", "FontDescriptor" => Object::Reference((9, 0)),
            "W" => Object::Reference((8, 0)),
        };
        let copy = repaired(check(
            vec![descendant.into()],
            &[],
            font("Identity-H".into(), Object::Reference((1, 0))),
        ));
        let inner = copy
            .get(b"DescendantFonts")
            .and_then(Object::as_array)
            .ok()
            .and_then(|a| a.first())
            .and_then(|d| d.as_dict().ok())
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            inner.get(b"FontDescriptor").ok(),
            Some(&Object::Dictionary(Dictionary::new()))
        );
        assert!(inner.get(b"W").is_err());
        let lost_descendant = font("Identity-H".into(), Object::Reference((9, 0)));
        assert_eq!(check(vec![], &[], lost_descendant), Checked::Lost);
        let cmap = Stream::new(dictionary! {}, b"begincmap".to_vec());
        let cut_cmap = font(Object::Reference((1, 0)), dictionary! {}.into());
        assert_eq!(check(vec![cmap.into()], &[1], cut_cmap), Checked::Lost);
    }
}
