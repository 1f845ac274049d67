//! A guard for ToUnicode CMaps: pdf-extract expands every `bfrange` entry into one map entry per
//! code, so a damaged or hostile range such as `<00000000> <FFFFFFFF>` would take unbounded time
//! and memory. Fonts whose CMap spans more codes than any real font are used without it, and
//! a page may map at most [`MAX_PAGE_MAPPED_CODES`] codes through all its fonts' CMaps (each font
//! expands its own copy, even of a CMap other fonts share).

use lopdf::{Document, Object};

use super::font_streams::MAX_FONT_BYTES;
use super::streams::{self, DecodeError};

/// Most codes a ToUnicode CMap may map in total (a two-byte font has 65,536).
const MAX_MAPPED_CODES: u64 = 1 << 18;

/// Most codes the fonts of one page may map through their ToUnicode CMaps together: 32 full
/// two-byte fonts, some 160 MB once pdf-extract has expanded them.
pub(crate) const MAX_PAGE_MAPPED_CODES: u64 = 1 << 21;

/// Whether the font's ToUnicode CMap (if any) is safe to hand to pdf-extract: it decodes
/// within [`MAX_FONT_BYTES`] and maps few enough codes.
pub(crate) fn to_unicode_is_safe(doc: &Document, font: &lopdf::Dictionary) -> bool {
    to_unicode_codes(doc, font).is_some_and(|codes| codes <= MAX_MAPPED_CODES)
}

/// How many codes the font's ToUnicode CMap maps: 0 without one (or with one that cannot be
/// read), `None` when it decodes to more than [`MAX_FONT_BYTES`].
pub(crate) fn to_unicode_codes(doc: &Document, font: &lopdf::Dictionary) -> Option<u64> {
    let Ok(obj) = font.get(b"ToUnicode") else {
        return Some(0);
    };
    let obj = match obj {
        Object::Reference(id) => match doc.get_object(*id) {
            Ok(o) => o,
            Err(_) => return Some(0),
        },
        other => other,
    };
    let Ok(stream) = obj.as_stream() else {
        return Some(0);
    };
    match streams::decode(stream, MAX_FONT_BYTES) {
        Ok(bytes) => Some(mapped_codes(&bytes)),
        Err(DecodeError::TooLarge) => None,
        Err(DecodeError::Unreadable) => Some(0),
    }
}

/// Total number of codes a CMap maps: those its `bfrange` sections cover, and its `bfchar`
/// entries.
pub(crate) fn mapped_codes(cmap: &[u8]) -> u64 {
    let mut total: u64 = 0;
    let mut in_range = false;
    let mut in_chars = false;
    let mut char_tokens: u64 = 0;
    let mut pending: Vec<u64> = Vec::with_capacity(2);
    let mut depth = 0usize;
    let mut i = 0;
    while i < cmap.len() {
        match cmap[i] {
            b'<' => {
                let end = cmap[i + 1..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map_or(cmap.len(), |p| i + 1 + p);
                if in_chars {
                    char_tokens += 1;
                    // A source code and its destination: one entry.
                    if char_tokens.is_multiple_of(2) {
                        total = total.saturating_add(1);
                    }
                }
                if in_range && depth == 0 {
                    let digits: Vec<u8> = cmap[i + 1..end.min(cmap.len())]
                        .iter()
                        .copied()
                        .filter(u8::is_ascii_hexdigit)
                        .collect();
                    let value = digits.iter().take(16).fold(0u64, |acc, &d| {
                        acc.saturating_mul(16)
                            .saturating_add(u64::from((d as char).to_digit(16).unwrap_or(0)))
                    });
                    pending.push(value);
                    if pending.len() == 3 {
                        pending.clear();
                    } else if pending.len() == 2 {
                        total = total.saturating_add(pending[1].saturating_sub(pending[0]) + 1);
                    }
                }
                i = end + 1;
            }
            b'[' => {
                depth += 1;
                i += 1;
            }
            b']' => {
                depth = depth.saturating_sub(1);
                if in_range && depth == 0 && pending.len() == 2 {
                    pending.clear();
                }
                i += 1;
            }
            b'b' if cmap[i..].starts_with(b"beginbfrange") => {
                in_range = true;
                pending.clear();
                i += 12;
            }
            b'e' if cmap[i..].starts_with(b"endbfrange") => {
                in_range = false;
                i += 10;
            }
            b'b' if cmap[i..].starts_with(b"beginbfchar") => {
                in_chars = true;
                char_tokens = 0;
                i += 11;
            }
            b'e' if cmap[i..].starts_with(b"endbfchar") => {
                in_chars = false;
                i += 9;
            }
            _ => i += 1,
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_ranges() {
        let cmap = b"2 beginbfrange\n<0000> <00FF> <0020>\n<0100> <0101> [<0041> <0042>]\nendbfrange\n1 beginbfchar <01> <0041> endbfchar";
        assert_eq!(mapped_codes(cmap), 259);
        let hostile = b"1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange";
        assert!(mapped_codes(hostile) > MAX_MAPPED_CODES);
    }
}
