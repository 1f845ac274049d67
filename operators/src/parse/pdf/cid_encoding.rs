//! Composite (Type 0) fonts whose `Encoding` is a predefined CMap other than `Identity-H` or
//! `-V`. pdf-extract reads only those two and an embedded CMap stream, and panics on any other
//! name, losing the rest of the page. The Unicode CMaps (`UniGB-UCS2-H`, `UniJIS-UCS2-H`,
//! `UniCNS-UCS2-H`, `UniKS-UCS2-H`, their `-V`, `-HW-` and `-UTF16-` variants; what reportlab
//! writes for its non-embedded CJK fonts) need no CMap file: a code is two bytes of big-endian
//! UTF-16. Such a font is handed over as a copy that reads its codes as `Identity-H`, with a
//! ToUnicode CMap mapping each code to itself (when it has none) and the widths of its Latin
//! glyphs moved from their CIDs to their codes. Any other predefined CMap (`GBK-EUC-H`,
//! `90ms-RKSJ-H`, …) would need the CMap file, so the text shown in the font is left out, and
//! said so.

use lopdf::{Dictionary, Document, Object, Stream, dictionary};

use super::flatten::resolve;

/// What pdf-extract can make of a font.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Readable {
    /// The font as it is.
    AsIs,
    /// A copy it can read.
    Copy(Dictionary),
    /// Nothing: its encoding, by name, cannot be decoded.
    Not(String),
}

/// Whether a predefined CMap name encodes codes as UTF-16 (UCS-2) code units.
fn unicode_cmap(name: &str) -> bool {
    name.starts_with("Uni")
        && (name.contains("-UCS2-") || name.contains("-UTF16-"))
        && (name.ends_with("-H") || name.ends_with("-V"))
}

/// What pdf-extract can make of font dictionary `font`.
pub(crate) fn readable(doc: &Document, font: &Dictionary) -> Readable {
    let subtype = font.get(b"Subtype").ok().and_then(|s| s.as_name().ok());
    if subtype != Some(&b"Type0"[..]) {
        return Readable::AsIs;
    }
    let encoding = font.get(b"Encoding").ok().and_then(|e| resolve(doc, e));
    let name = match encoding {
        Some(Object::Stream(_)) => return Readable::AsIs,
        Some(Object::Name(name)) => String::from_utf8_lossy(name).into_owned(),
        // pdf-extract requires an encoding.
        _ => return Readable::Not("none".into()),
    };
    if name == "Identity-H" || name == "Identity-V" {
        return Readable::AsIs;
    }
    if !unicode_cmap(&name) {
        return Readable::Not(name);
    }
    let mut copy = font.clone();
    copy.set("Encoding", Object::Name(b"Identity-H".to_vec()));
    let has_map = font
        .get(b"ToUnicode")
        .ok()
        .and_then(|t| resolve(doc, t))
        .is_some_and(|t| matches!(t, Object::Stream(_)))
        && super::cmap_guard::to_unicode_is_safe(doc, font);
    if !has_map {
        copy.set("ToUnicode", Object::Stream(identity_to_unicode()));
    }
    let descendant = font
        .get(b"DescendantFonts")
        .ok()
        .and_then(|d| resolve(doc, d))
        .and_then(|d| d.as_array().ok())
        .and_then(|a| a.first())
        .and_then(|d| resolve(doc, d))
        .and_then(|d| d.as_dict().ok());
    if let Some(descendant) = descendant {
        copy.set(
            "DescendantFonts",
            vec![Object::Dictionary(widths_by_code(doc, descendant))],
        );
    }
    Readable::Copy(copy)
}

/// A ToUnicode CMap that maps every two-byte code to the same UTF-16 code unit (surrogates
/// left out: they come in pairs, which a two-byte code cannot say).
fn identity_to_unicode() -> Stream {
    let mut ranges: Vec<String> = (0u32..=0xff)
        .filter(|hi| !(0xd8..=0xdf).contains(hi))
        .map(|hi| format!("<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>"))
        .collect();
    let mut text = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapName /Uni-Identity def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    while !ranges.is_empty() {
        let block: Vec<String> = ranges.drain(..ranges.len().min(100)).collect();
        text.push_str(&format!("{} beginbfrange\n", block.len()));
        for line in block {
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str("endbfrange\n");
    }
    text.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    Stream::new(dictionary! {}, text.into_bytes())
}

/// The CID font `descendant` with its widths by code instead of by CID: in the Adobe CJK
/// collections (GB1, CNS1, Japan1, Korea1) CIDs 1 to 95 are the Latin glyphs of U+0020 to
/// U+007E; other glyphs take the default width (most are full width). Without a known
/// collection, every glyph takes the default width.
fn widths_by_code(doc: &Document, descendant: &Dictionary) -> Dictionary {
    let mut copy = descendant.clone();
    copy.remove(b"W");
    let ordering = descendant
        .get(b"CIDSystemInfo")
        .ok()
        .and_then(|i| resolve(doc, i))
        .and_then(|i| i.as_dict().ok())
        .and_then(|i| i.get(b"Ordering").ok())
        .and_then(|o| resolve(doc, o))
        .and_then(|o| o.as_str().ok());
    let adobe_cjk = ordering.is_some_and(|o| matches!(o, b"GB1" | b"CNS1" | b"Japan1" | b"Korea1"));
    let w = descendant
        .get(b"W")
        .ok()
        .and_then(|w| resolve(doc, w))
        .and_then(|w| w.as_array().ok());
    let (true, Some(w)) = (adobe_cjk, w) else {
        return copy;
    };
    let default = descendant
        .get(b"DW")
        .ok()
        .and_then(|d| resolve(doc, d))
        .and_then(|d| d.as_float().ok())
        .unwrap_or(1000.0);
    let mut latin = [default; 95];
    let number = |o: &Object| resolve(doc, o).and_then(|o| o.as_float().ok());
    let mut put = |cid: f32, width: f32| {
        if (1.0..=95.0).contains(&cid) {
            latin[cid as usize - 1] = width;
        }
    };
    let mut i = 0;
    // `c [w1 w2 …]` or `c_first c_last w`.
    while i + 1 < w.len() {
        let Some(first) = number(&w[i]) else { break };
        match resolve(doc, &w[i + 1]) {
            Some(Object::Array(widths)) => {
                for (k, width) in widths.iter().enumerate().take(96) {
                    if let Some(width) = number(width) {
                        put(first + k as f32, width);
                    }
                }
                i += 2;
            }
            _ => {
                let (Some(last), Some(width)) = (number(&w[i + 1]), w.get(i + 2).and_then(number))
                else {
                    break;
                };
                let mut cid = first.max(0.0);
                while cid <= last.min(96.0) {
                    put(cid, width);
                    cid += 1.0;
                }
                i += 3;
            }
        }
    }
    copy.set(
        "W",
        vec![
            Object::Integer(0x20),
            Object::Array(latin.iter().map(|&w| Object::Real(w)).collect()),
        ],
    );
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_cmaps_are_told_apart() {
        for yes in [
            "UniGB-UCS2-H",
            "UniJIS-UCS2-H",
            "UniCNS-UCS2-V",
            "UniKS-UCS2-H",
            "UniGB-UTF16-H",
            "UniJIS-UCS2-HW-H",
        ] {
            assert!(unicode_cmap(yes), "{yes}");
        }
        for no in ["GBK-EUC-H", "90ms-RKSJ-H", "UniJIS-UTF8-H", "Identity-H"] {
            assert!(!unicode_cmap(no), "{no}");
        }
    }

    #[test]
    fn latin_widths_move_from_cids_to_codes() {
        let doc = Document::with_version("1.5");
        let descendant = dictionary! {
            "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"),
                "Ordering" => Object::string_literal("GB1"), "Supplement" => 0 },
            "DW" => 1000,
            "W" => vec![1.into(), vec![207.into(), 270.into()].into(), 18.into(), 26.into(), 462.into()],
        };
        let copy = widths_by_code(&doc, &descendant);
        let w = copy
            .get(b"W")
            .and_then(Object::as_array)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w[0], Object::Integer(0x20));
        let widths: Vec<f32> = w[1]
            .as_array()
            .map(|a| a.iter().filter_map(|o| o.as_float().ok()).collect())
            .unwrap_or_default();
        // Space (CID 1), `!` (CID 2), `0` to `8` (CIDs 17 to 25 are `0`… so CID 18 is `1`).
        assert_eq!(widths[0], 207.0);
        assert_eq!(widths[1], 270.0);
        assert_eq!(widths[2], 1000.0);
        assert_eq!(widths[17], 462.0);
        assert_eq!(widths[25], 462.0);
        assert_eq!(widths[26], 1000.0);
    }
}
