//! Decoding an HTML page's bytes: byte order mark, then a `<meta charset>` or http-equiv
//! declaration, then detection (UTF-16 without BOM, UTF-8, else the legacy encoding a browser
//! would guess: windows-1252, windows-1251, Shift_JIS, …). A page
//! declared UTF-8 that is not, or declared single-byte but valid multi-byte UTF-8, is decoded
//! by what the bytes are, with a warning; UTF-8 with a few bytes that are not (declared or
//! not) stays UTF-8, those bytes read as U+FFFD, as browsers read it.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use crate::parse::ParseError;
use crate::parse::decode::{
    UTF8_CHARACTERS_PER_DAMAGE, detect_legacy, replaced_bytes, utf8_with_damage, utf16_without_bom,
    without_stray_nuls,
};

/// How far into the page a declaration is looked for.
const PRESCAN: usize = 4096;

/// Decoded text, the encoding used and a warning when the declaration was overruled.
pub(super) struct Decoded {
    pub text: String,
    pub encoding: &'static str,
    pub warning: Option<String>,
}

/// Decodes `bytes` as an HTML page. Stray NUL bytes in a page of an ASCII-compatible
/// encoding are dropped, with a warning, as for Markdown; more of them are binary content.
pub(super) fn decode(bytes: &[u8]) -> Result<Decoded, ParseError> {
    if let Some(wide) = decode_wide(bytes) {
        return Ok(wide);
    }
    let (bytes, nuls) = without_stray_nuls(bytes).map_err(|offset| ParseError::Binary {
        offset,
        forced: None,
    })?;
    let mut decoded = decode_ascii_compatible(&bytes);
    if let Some(note) = nuls {
        decoded.warning = Some(match decoded.warning.take() {
            Some(warning) => format!("{warning}; {note}"),
            None => note,
        });
    }
    Ok(decoded)
}

/// A page in UTF-32 or UTF-16 (with a BOM, or UTF-16 recognised without one), decoded; `None`
/// for the other encodings, whose ASCII is ASCII.
fn decode_wide(bytes: &[u8]) -> Option<Decoded> {
    // UTF-32 (no `Encoding` of encoding_rs): its LE BOM starts with UTF-16LE's.
    for (bom, unit, name) in [
        (
            &b"\xFF\xFE\0\0"[..],
            u32::from_le_bytes as fn([u8; 4]) -> u32,
            "UTF-32LE",
        ),
        (&b"\0\0\xFE\xFF"[..], u32::from_be_bytes, "UTF-32BE"),
    ] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            // Bad units become U+FFFD; the page's check for binary content judges NULs.
            let text = crate::parse::decode::decode_utf32_lossy(rest, unit);
            return Some(Decoded {
                text,
                encoding: name,
                warning: None,
            });
        }
    }
    if let Some((encoding, bom)) = Encoding::for_bom(bytes)
        && encoding != UTF_8
    {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return Some(done(text.into_owned(), encoding, None));
    }
    let encoding = utf16_without_bom(bytes)?;
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    Some(done(text.into_owned(), encoding, None))
}

/// Decodes a page in an encoding whose ASCII is ASCII (UTF-8, the legacy ones), without NULs.
fn decode_ascii_compatible(bytes: &[u8]) -> Decoded {
    if let Some(body) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        // A UTF-8 BOM says UTF-8: bytes that are not are damage, said.
        return match std::str::from_utf8(body) {
            Ok(text) => done(text.to_string(), UTF_8, None),
            Err(e) => {
                let damaged = body.utf8_chunks().map(|c| c.invalid().len()).sum();
                let warning = replaced_bytes(e.valid_up_to() + 3, damaged);
                done(
                    String::from_utf8_lossy(body).into_owned(),
                    UTF_8,
                    Some(warning),
                )
            }
        };
    }
    let declared = declared(bytes).or_else(|| xml_declared(bytes)).map(|e| {
        // A page that declares UTF-16 but reached here has no BOM and is ASCII-compatible.
        if e == UTF_16LE || e == UTF_16BE {
            UTF_8
        } else {
            e
        }
    });
    let utf8 = std::str::from_utf8(bytes).ok();
    match (declared, utf8) {
        (Some(e), Some(text)) if e == UTF_8 => done(text.to_string(), UTF_8, None),
        (Some(e), None) if e == UTF_8 => {
            if let Some(decoded) = utf8_around_damage(bytes, DECLARED_UTF8_CHARACTERS_PER_DAMAGE) {
                return decoded;
            }
            let detected = detect_legacy(bytes);
            let (text, _) = detected.decode_without_bom_handling(bytes);
            let warning = format!(
                "declared UTF-8 but is not valid UTF-8; decoded as {}, the encoding detected",
                detected.name()
            );
            done(text.into_owned(), detected, Some(warning))
        }
        (Some(e), Some(text)) if !text.is_ascii() && e.is_single_byte() => {
            let warning = format!(
                "declared {} but the bytes are UTF-8; decoded as UTF-8",
                e.name()
            );
            done(text.to_string(), UTF_8, Some(warning))
        }
        (Some(e), _) => {
            let (text, _) = e.decode_without_bom_handling(bytes);
            done(text.into_owned(), e, None)
        }
        (None, Some(text)) => done(text.to_string(), UTF_8, None),
        (None, None) => {
            if let Some(decoded) = utf8_around_damage(bytes, UTF8_CHARACTERS_PER_DAMAGE) {
                return decoded;
            }
            let detected = detect_legacy(bytes);
            let (text, _) = detected.decode_without_bom_handling(bytes);
            let warning = format!(
                "no charset declared and not UTF-8; decoded as {}, the encoding detected",
                detected.name()
            );
            done(text.into_owned(), detected, Some(warning))
        }
    }
}

/// Valid characters of more than one byte per invalid sequence that keep a page declared
/// UTF-8 in UTF-8 (fewer than without a declaration, which they confirm): text in a legacy
/// encoding has almost none.
const DECLARED_UTF8_CHARACTERS_PER_DAMAGE: usize = 1;

/// `bytes` read as UTF-8, its invalid sequences as U+FFFD with a warning counting their bytes,
/// as browsers read a page with a stray byte, when its valid characters of more than one byte
/// are at least `per_damage` times those sequences; `None` for a page in a legacy encoding.
fn utf8_around_damage(bytes: &[u8], per_damage: usize) -> Option<Decoded> {
    let damaged = utf8_with_damage(bytes, per_damage)?;
    let offset = bytes.utf8_chunks().next().map_or(0, |c| c.valid().len());
    let text = String::from_utf8_lossy(bytes).into_owned();
    Some(done(text, UTF_8, Some(replaced_bytes(offset, damaged))))
}

fn done(text: String, encoding: &'static Encoding, warning: Option<String>) -> Decoded {
    Decoded {
        text,
        encoding: encoding.name(),
        warning,
    }
}

/// The encoding a `<meta>` near the top declares, if any.
fn declared(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PRESCAN)];
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = find(&lower[from..], b"<meta") {
        let start = from + at;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(pos) = find(tag, b"charset") {
            let rest = &tag[pos + 7..];
            let rest = rest.trim_ascii_start();
            if let Some(value) = rest.strip_prefix(b"=") {
                let value = value.trim_ascii_start();
                let value = value
                    .strip_prefix(b"\"")
                    .or_else(|| value.strip_prefix(b"'"))
                    .unwrap_or(value);
                let label_end = value
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .unwrap_or(value.len());
                if let Some(e) = Encoding::for_label(&value[..label_end]) {
                    return Some(e);
                }
            }
        }
        from = end.max(start + 1);
    }
    None
}

/// The encoding an XML declaration at the very start (`<?xml … encoding="…"?>`, as XHTML
/// pages have) names, if any.
fn xml_declared(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PRESCAN)];
    let decl = head.trim_ascii_start().strip_prefix(b"<?xml")?;
    let decl = &decl[..find(decl, b"?>")?];
    let rest = &decl[find(decl, b"encoding")? + 8..];
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let quote = *rest.first().filter(|q| matches!(q, b'"' | b'\''))?;
    let value = &rest[1..];
    let end = value.iter().position(|&b| b == quote)?;
    Encoding::for_label(&value[..end])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoding of a page these tests expect to decode.
    fn decode(bytes: &[u8]) -> Decoded {
        super::decode(bytes).expect("a page")
    }

    #[test]
    fn declarations_boms_and_detection() {
        let d = decode(b"<meta charset=\"windows-1252\"><p>caf\xE9");
        assert_eq!(d.text, "<meta charset=\"windows-1252\"><p>café");
        let d = decode(
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\"><p>\xFC",
        );
        assert!(d.text.ends_with('ü'));
        assert_eq!(d.encoding, "windows-1252");
        let d = decode(b"<p>no declaration \x93quoted\x94</p>");
        assert!(d.text.contains("\u{201C}quoted\u{201D}"));
        assert_eq!(decode("<p>é</p>".as_bytes()).text, "<p>é</p>");
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("<p>ü</p>".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&utf16).text, "<p>ü</p>");
        let no_bom: Vec<u8> = "<html><p>hello</p></html>"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(decode(&no_bom).text, "<html><p>hello</p></html>");
        // A page of CJK text has NULs in its markup only (it was refused as binary).
        let japanese = "<html><body><h1>東京の天気</h1><p>今日は晴れです。明日は雨が降るでしょう。週末は曇りの予報です。</p></body></html>";
        for bytes in [
            japanese
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
            japanese.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        ] {
            assert_eq!(decode(&bytes).text, japanese);
        }
    }

    #[test]
    fn xml_declarations_and_utf32_boms() {
        let page = b"<?xml version=\"1.0\" encoding=\"ISO-8859-5\"?>\n<html><body><p>\xBF\xE0\xD8\xD2\xD5\xE2</p></body></html>";
        let d = decode(page);
        assert!(d.text.contains("Привет"), "{}", d.text);
        assert_eq!(d.encoding, "ISO-8859-5");
        // A <meta> wins over the declaration.
        let page =
            b"<?xml version='1.0' encoding='ISO-8859-5'?><meta charset=windows-1252><p>caf\xE9";
        assert!(decode(page).text.ends_with("café"));
        assert_eq!(xml_declared(b"<?xml version=\"1.0\"?><p>x"), None);
        assert_eq!(xml_declared(b"<p>encoding=\"koi8-r\"?>"), None);
        let utf32: Vec<u8> = [0xFEFF_u32]
            .into_iter()
            .chain("<p>Grüße</p>".chars().map(u32::from))
            .flat_map(u32::to_le_bytes)
            .collect();
        let d = decode(&utf32);
        assert_eq!(d.text, "<p>Grüße</p>");
        assert_eq!(d.encoding, "UTF-32LE");
    }

    #[test]
    fn undeclared_legacy_encodings_are_detected() {
        let cyrillic = "<html><body><h1>Новости</h1><p>Правительство объявило сегодня о \
            новых мерах поддержки малого бизнеса в регионах страны.</p></body></html>";
        for encoding in [encoding_rs::WINDOWS_1251, encoding_rs::KOI8_R] {
            let (bytes, _, _) = encoding.encode(cyrillic);
            let d = decode(&bytes);
            assert_eq!(d.text, cyrillic, "{}", encoding.name());
            assert!(d.warning.as_deref().unwrap().contains(d.encoding));
            // KOI8-U is KOI8-R plus Ukrainian letters: either reads Russian the same.
            assert_eq!(&d.encoding[..4], &encoding.name()[..4]);
        }
        let japanese = "<html><body><p>東京都は今日、新しい交通計画を発表しました。\
            市民の生活がより便利になると期待されています。</p></body></html>";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(japanese);
        let d = decode(&bytes);
        assert_eq!((d.text.as_str(), d.encoding), (japanese, "Shift_JIS"));
        // Declared UTF-8 but Cyrillic windows-1251: decoded by what the bytes are.
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(cyrillic);
        let d = decode(&[&b"<meta charset=utf-8>"[..], &bytes].concat());
        assert!(d.text.ends_with(cyrillic), "{}", d.text);
        assert!(d.warning.unwrap().contains("windows-1251"));
    }

    /// UTF-8 with a stray byte stays UTF-8, declared or not, the byte read as U+FFFD: the whole
    /// page was read as windows-1252 (`CafÃ©`). Bytes mostly not UTF-8 are still read in the
    /// legacy encoding detected.
    #[test]
    fn utf8_with_a_stray_byte_stays_utf8() {
        let body = "<p>Größe, Straße, naïve façade, “quotes” — 日本語.</p>".repeat(5);
        for head in ["<meta charset=\"utf-8\">", ""] {
            let bytes = [head.as_bytes(), body.as_bytes(), b"<p>caf\xE9</p>"].concat();
            let d = decode(&bytes);
            assert_eq!(d.encoding, "UTF-8", "{head}");
            assert!(d.text.contains(&body), "{}", d.text);
            assert!(d.text.ends_with("<p>caf\u{FFFD}</p>"), "{}", d.text);
            let warning = d.warning.unwrap();
            assert!(warning.contains("1 byte(s) that are not were replaced by U+FFFD"));
        }
        // After a UTF-8 BOM, the damage is said too (it was replaced without a word).
        let d = decode(b"\xEF\xBB\xBF<p>ab\xFFc</p>");
        assert_eq!(d.text, "<p>ab\u{FFFD}c</p>");
        assert!(d.warning.unwrap().contains("(byte offset 8): 1 byte(s)"));
        // Declared UTF-8: one character of UTF-8 outweighs one stray byte.
        let d = decode(b"<meta charset=utf-8><p>na\xC3\xAFve caf\xE9</p>");
        assert!(d.text.ends_with("naïve caf\u{FFFD}</p>"), "{}", d.text);
        // Undeclared, it takes four.
        let d = decode(b"<p>na\xC3\xAFve caf\xE9 \x93quoted\x94</p>");
        assert_eq!(d.encoding, "windows-1252");
        let d = decode(b"<p>na\xEFve caf\xE9 \x93quoted\x94</p>");
        assert_eq!(d.text, "<p>naïve café \u{201C}quoted\u{201D}</p>");
        assert_eq!(d.encoding, "windows-1252");
    }

    #[test]
    fn mislabelled_pages_decode_by_their_bytes() {
        let d = decode(b"<meta charset=utf-8><p>caf\xE9</p>");
        assert!(d.text.contains("café") && d.warning.is_some());
        let d = decode("<meta charset=iso-8859-1><p>café</p>".as_bytes());
        assert!(d.text.contains("café") && d.warning.is_some());
    }
}
