//! Glyph names of a simple font's `Differences` that are not in the Adobe Glyph List but map to
//! Unicode by the rules of its specification: `uniXXXX` (one or more code points of four hex
//! digits), `uXXXX` to `uXXXXXX`, a name with a `.suffix` (the part before the dot) and names
//! of parts joined by `_` (a ligature). Subset fonts from FontForge, cairo and LibreOffice name
//! glyphs so. pdf-extract looks names up in its list alone, and for any other it keeps the base
//! encoding's character (`Привет` read as `!"#$%&`) or drops the glyph. A font without a
//! ToUnicode CMap whose `Differences` hold such names is handed over as a copy with one, which
//! maps their codes; pdf-extract reads every other code as before.

use lopdf::{Dictionary, Document, Encoding, Object, Stream, dictionary};

use super::flatten::resolve;

/// Font `font`, or a copy with a ToUnicode CMap for the codes its `Differences` name by the
/// rules of the glyph list specification (see the module).
pub(crate) fn mapped(doc: &Document, font: Object) -> Object {
    let Some(dict) = resolve(doc, &font).and_then(|f| f.as_dict().ok()) else {
        return font;
    };
    let simple = dict
        .get(b"Subtype")
        .ok()
        .and_then(|s| s.as_name().ok())
        .is_some_and(|s| matches!(s, b"Type1" | b"TrueType" | b"MMType1" | b"Type3"));
    if !simple || dict.has(b"ToUnicode") {
        return font;
    }
    let differences = dict
        .get(b"Encoding")
        .ok()
        .and_then(|e| resolve(doc, e))
        .and_then(|e| e.as_dict().ok())
        .and_then(|e| e.get(b"Differences").ok())
        .and_then(|d| resolve(doc, d))
        .and_then(|d| d.as_array().ok());
    let Some(differences) = differences else {
        return font;
    };
    let codes = by_rule(doc, differences);
    if codes.is_empty() {
        return font;
    }
    let mut copy = dict.clone();
    copy.set("ToUnicode", Object::Stream(to_unicode(&codes)));
    Object::Dictionary(copy)
}

/// The codes of `differences` whose names are not in the list but map by its rules, with
/// their text.
fn by_rule(doc: &Document, differences: &[Object]) -> Vec<(u8, String)> {
    let mut codes = Vec::new();
    let mut code: Option<u8> = None;
    for entry in differences {
        match resolve(doc, entry) {
            Some(Object::Integer(n)) => code = u8::try_from(*n).ok(),
            Some(Object::Name(name)) => {
                if let Some(at) = code
                    && listed(name).is_none()
                    && let Some(text) = unicode(name).filter(|t| !t.is_empty())
                {
                    codes.push((at, text));
                }
                code = code.and_then(|c| c.checked_add(1));
            }
            _ => {}
        }
    }
    codes
}

/// The text glyph `name` stands for by the rules of the Adobe Glyph List specification: the
/// part before its first `.`, split at `_`, each part a name of the list, `uniXXXX…` or
/// `uXXXX` to `uXXXXXX`; a part none of them is maps to nothing. `None` when no part maps.
pub(crate) fn unicode(name: &[u8]) -> Option<String> {
    let stem = name.split(|&c| c == b'.').next().unwrap_or_default();
    let mut text = String::new();
    let mut any = false;
    for part in stem.split(|&c| c == b'_') {
        let mapped = listed(part)
            .map(String::from)
            .or_else(|| uni(part))
            .or_else(|| u(part));
        if let Some(mapped) = mapped {
            text.push_str(&mapped);
            any = true;
        }
    }
    any.then_some(text)
}

/// Glyph `name` in the Adobe Glyph List, as lopdf knows it (it decodes `Differences` by that
/// list).
fn listed(name: &[u8]) -> Option<char> {
    let font = dictionary! {
        "Type" => "Font",
        "Encoding" => dictionary! {
            "Type" => "Encoding",
            "Differences" => vec![0.into(), Object::Name(name.to_vec())],
        },
    };
    let doc = Document::new();
    let encoding = font.get_font_encoding(&doc).ok()?;
    // A name lopdf does not know makes it fall back to the standard encoding.
    if !matches!(encoding, Encoding::Differences(_)) {
        return None;
    }
    encoding.bytes_to_string(&[0]).ok()?.chars().next()
}

/// `uniXXXX[XXXX…]`: code points of four hex digits each, none a surrogate.
fn uni(part: &[u8]) -> Option<String> {
    let hex = part.strip_prefix(b"uni")?;
    if hex.is_empty() || hex.len() % 4 != 0 {
        return None;
    }
    hex.chunks(4).map(code_point).collect()
}

/// `uXXXX` to `uXXXXXX`: one code point, no surrogate.
fn u(part: &[u8]) -> Option<String> {
    let hex = part.strip_prefix(b"u")?;
    if !(4..=6).contains(&hex.len()) {
        return None;
    }
    code_point(hex).map(String::from)
}

/// The character of the hex digits `hex`.
fn code_point(hex: &[u8]) -> Option<char> {
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let value = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
    char::from_u32(value)
}

/// A ToUnicode CMap of one-byte codes mapping each of `codes` to its text.
fn to_unicode(codes: &[(u8, String)]) -> Stream {
    let mut text = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapName /Glyph-Names def\n/CMapType 2 def\n1 begincodespacerange\n<00> <FF>\nendcodespacerange\n",
    );
    for block in codes.chunks(100) {
        text.push_str(&format!("{} beginbfchar\n", block.len()));
        for (code, mapped) in block {
            let units: String = mapped
                .encode_utf16()
                .map(|unit| format!("{unit:04X}"))
                .collect();
            text.push_str(&format!("<{code:02X}> <{units}>\n"));
        }
        text.push_str("endbfchar\n");
    }
    text.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    Stream::new(Dictionary::new(), text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_by_the_rules_of_the_glyph_list() {
        for (name, text) in [
            ("uni041F", "П"),
            ("uni00410042", "AB"),
            ("u1F600", "😀"),
            ("u0416", "Ж"),
            ("a.sc", "a"),
            ("one.oldstyle", "1"),
            ("uni0416.sc", "Ж"),
            ("T_h", "Th"),
            ("f_uni0069", "fi"),
            ("Zhecyrillic", "Ж"),
        ] {
            assert_eq!(unicode(name.as_bytes()).as_deref(), Some(text), "{name}");
        }
        for name in [
            "uniD800", "uni041", "u12", "u1234567", "uniXYZW", "foo.sc", ".notdef",
        ] {
            assert_eq!(unicode(name.as_bytes()), None, "{name}");
        }
    }

    #[test]
    fn only_names_outside_the_list_get_a_cmap_entry() {
        let doc = Document::new();
        let differences = vec![
            33.into(),
            "uni041F".into(),
            "A".into(),
            "a.sc".into(),
            250.into(),
            "bogus".into(),
        ];
        assert_eq!(
            by_rule(&doc, &differences),
            vec![(33, "П".to_string()), (35, "a".to_string())]
        );
    }
}
