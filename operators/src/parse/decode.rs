//! Turning a document's bytes into text: byte order marks, UTF-16 and clear errors for
//! binary or mis-encoded content.

use super::ParseError;

/// Decodes `bytes` as text: a UTF-8 BOM is stripped, UTF-16 LE/BE with a BOM is decoded,
/// anything else must be UTF-8 without NUL bytes.
pub(super) fn decode(bytes: &[u8]) -> Result<String, ParseError> {
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(rest, u16::from_be_bytes);
    }
    let (body, skipped) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, 3),
        None => (bytes, 0),
    };
    if let Some(nul) = body.iter().position(|&b| b == 0) {
        return Err(ParseError::Binary {
            offset: nul + skipped,
        });
    }
    match std::str::from_utf8(body) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => Err(ParseError::InvalidUtf8 {
            offset: e.valid_up_to() + skipped,
        }),
    }
}

/// Decodes UTF-16 code units (after a 2-byte BOM) built by `unit` from byte pairs.
fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, ParseError> {
    let pairs = bytes.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(ParseError::InvalidUtf16 {
            offset: bytes.len() + 1,
        });
    }
    let units = pairs.map(|p| unit([p[0], p[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut offset = 2;
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok(c) => {
                text.push(c);
                offset += 2 * c.len_utf16();
            }
            Err(_) => return Err(ParseError::InvalidUtf16 { offset }),
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in text.encode_utf16() {
            out.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode(b"h\xC3\xA9").unwrap(), "hé");
        assert_eq!(decode(b"\xEF\xBB\xBF# Title").unwrap(), "# Title");
        assert_eq!(decode(b"").unwrap(), "");
    }

    #[test]
    fn utf16_with_bom() {
        let text = "# Grüße 🎉\nline";
        assert_eq!(decode(&utf16(text, false)).unwrap(), text);
        assert_eq!(decode(&utf16(text, true)).unwrap(), text);
    }

    #[test]
    fn broken_utf16_is_an_error() {
        let mut odd = utf16("ab", false);
        odd.push(b'c');
        assert!(matches!(decode(&odd), Err(ParseError::InvalidUtf16 { .. })));
        // A lone high surrogate followed by a normal unit.
        let lone = [0xFF, 0xFE, 0x3D, 0xD8, 0x41, 0x00];
        assert!(matches!(
            decode(&lone),
            Err(ParseError::InvalidUtf16 { offset: 2 })
        ));
    }

    #[test]
    fn invalid_utf8_names_the_offset() {
        let err = decode(b"abc\xC3(").unwrap_err();
        assert!(matches!(err, ParseError::InvalidUtf8 { offset: 3 }));
        let msg = err.to_string();
        assert!(msg.contains("byte offset 3") && msg.contains("convert the file to UTF-8"));
        let err = decode(b"\xEF\xBB\xBFab\xFF").unwrap_err();
        assert!(matches!(err, ParseError::InvalidUtf8 { offset: 5 }));
    }

    #[test]
    fn nul_bytes_mean_binary() {
        let err = decode(b"text\0more").unwrap_err();
        assert!(matches!(err, ParseError::Binary { offset: 4 }));
        assert!(err.to_string().contains("binary content, not text"));
    }
}
