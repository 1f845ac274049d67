//! Turning a document's bytes into text: byte order marks (UTF-8, UTF-16, UTF-32), UTF-8, and
//! for bytes that are not UTF-8 the legacy encoding a browser would guess (windows-1252 for
//! Latin text, windows-1251 or KOI8-R for Cyrillic, Shift_JIS, GBK, …); clear errors for
//! binary content.

use encoding_rs::Encoding;

use super::ParseError;

/// Share of control characters above which legacy-decoded bytes are not text.
const MAX_CONTROL_SHARE: f64 = 0.05;

/// How many bytes the encoding detector reads: enough to tell any real text's encoding, and a
/// bound on its time for a huge file.
const DETECTION_PREFIX: usize = 1 << 20;

/// The legacy (not UTF-8) encoding `bytes` are most likely in, guessed the way Firefox does
/// for an unlabelled page (chardetng): windows-1252 for Latin text, windows-1251 or KOI8-R
/// for Cyrillic, Shift_JIS, EUC-KR, GBK, Big5 and so on.
pub(super) fn detect_legacy(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    let prefix = &bytes[..bytes.len().min(DETECTION_PREFIX)];
    detector.feed(prefix, prefix.len() == bytes.len());
    detector.guess(None, false)
}

/// Text decoded from a document's bytes.
#[derive(Debug, PartialEq)]
pub(super) struct Decoded {
    /// The text.
    pub text: String,
    /// The encoding, when it was not plain UTF-8 (for the document's metadata).
    pub encoding: Option<&'static str>,
    /// A note when the encoding was guessed rather than marked.
    pub warning: Option<String>,
}

impl Decoded {
    fn utf8(text: String) -> Self {
        Decoded {
            text,
            encoding: None,
            warning: None,
        }
    }

    fn marked(text: String, encoding: &'static str) -> Self {
        Decoded {
            text,
            encoding: Some(encoding),
            warning: None,
        }
    }
}

/// Decodes `bytes` as text: a UTF-8 BOM is stripped, UTF-32 and UTF-16 (LE/BE) with a BOM are
/// decoded, NUL bytes mean binary content; bytes that are not UTF-8 are decoded in the legacy
/// encoding detected ([`detect_legacy`]) with a warning, unless that gives mostly control
/// characters.
pub(super) fn decode(bytes: &[u8]) -> Result<Decoded, ParseError> {
    // UTF-32LE's BOM starts with UTF-16LE's: look for it first.
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE\0\0") {
        return utf32_read_around(rest, u32::from_le_bytes, "UTF-32LE");
    }
    if let Some(rest) = bytes.strip_prefix(b"\0\0\xFE\xFF") {
        return utf32_read_around(rest, u32::from_be_bytes, "UTF-32BE");
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return Ok(decode_utf16(rest, u16::from_le_bytes, "UTF-16LE"));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return Ok(decode_utf16(rest, u16::from_be_bytes, "UTF-16BE"));
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return utf16_unmarked(bytes, encoding);
    }
    let (body, skipped) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, 3),
        None => (bytes, 0),
    };
    let (body, nuls) = without_stray_nuls(body).map_err(|nul| ParseError::Binary {
        offset: nul + skipped,
        forced: None,
    })?;
    let mut decoded = decode_unmarked(&body, skipped > 0)?;
    if let Some(nuls) = nuls {
        decoded.warn(nuls);
    }
    Ok(decoded)
}

/// Text a source read as text (a `source.jsonl` record's JSON string): UTF-8 already, and its
/// NUL characters are escapes its producer wrote (`\u0000`, a database export's), not binary
/// content: dropped with a warning however many (one in a short record failed it as binary).
pub(super) fn decode_given_text(bytes: &[u8]) -> Result<Decoded, ParseError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return decode(bytes);
    };
    let Some(first) = text.find('\0') else {
        return Ok(Decoded::utf8(text.to_owned()));
    };
    let count = text.matches('\0').count();
    let mut decoded = Decoded::utf8(text.replace('\0', ""));
    decoded.warn(format!(
        "{count} NUL character(s) dropped (the first at byte offset {first})"
    ));
    Ok(decoded)
}

/// Bytes of text for each stray NUL byte it may hold (a log written past a crash): more NULs,
/// or one in a shorter text, and the bytes are binary.
const BYTES_PER_STRAY_NUL: usize = 4096;

/// `bytes` without their NUL bytes, and a note of them, when there are no more than a stray
/// one per [`BYTES_PER_STRAY_NUL`] bytes; else the offset of the first, as binary content.
pub(in crate::parse) fn without_stray_nuls(
    bytes: &[u8],
) -> Result<(std::borrow::Cow<'_, [u8]>, Option<String>), usize> {
    let Some(first) = bytes.iter().position(|&b| b == 0) else {
        return Ok((std::borrow::Cow::Borrowed(bytes), None));
    };
    let count = bytes.iter().filter(|&&b| b == 0).count();
    if count > bytes.len() / BYTES_PER_STRAY_NUL {
        return Err(first);
    }
    let kept: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0).collect();
    Ok((
        std::borrow::Cow::Owned(kept),
        Some(format!(
            "{count} stray NUL byte(s) dropped (the first at byte offset {first})"
        )),
    ))
}

impl Decoded {
    /// Adds `note` to the warning.
    fn warn(&mut self, note: String) {
        self.warning = Some(match self.warning.take() {
            Some(warning) => format!("{warning}; {note}"),
            None => note,
        });
    }
}

/// Decodes bytes without a byte order mark other than UTF-8's (`bom`) and without NUL bytes.
fn decode_unmarked(body: &[u8], bom: bool) -> Result<Decoded, ParseError> {
    let error = match std::str::from_utf8(body) {
        Ok(text) => return Ok(Decoded::utf8(text.to_string())),
        Err(e) => e,
    };
    let invalid = ParseError::InvalidUtf8 {
        offset: error.valid_up_to() + if bom { 3 } else { 0 },
    };
    // A UTF-8 BOM says UTF-8: broken bytes after it are damage, not another encoding.
    let damaged = match bom {
        true => Some(body.utf8_chunks().map(|c| c.invalid().len()).sum()),
        false => utf8_with_damage(body, UTF8_CHARACTERS_PER_DAMAGE),
    };
    if let Some(damaged) = damaged {
        // UTF-8 with a few stray bytes (a file pasted together): decoding it all in a legacy
        // encoding would garble every accent.
        return Ok(Decoded {
            text: String::from_utf8_lossy(body).into_owned(),
            encoding: None,
            warning: Some(replaced_bytes(error.valid_up_to(), damaged)),
        });
    }
    let encoding = detect_legacy(body);
    let (text, _) = encoding.decode_without_bom_handling(body);
    if mostly_control(&text) {
        return Err(invalid);
    }
    Ok(Decoded {
        text: text.into_owned(),
        encoding: Some(encoding.name()),
        warning: Some(format!(
            "not valid UTF-8 (byte offset {}): decoded as {}, the encoding detected",
            error.valid_up_to(),
            encoding.name()
        )),
    })
}

/// The warning of UTF-8 read around `damaged` bytes that are not UTF-8, the first at `offset`.
pub(in crate::parse) fn replaced_bytes(offset: usize, damaged: usize) -> String {
    format!(
        "not valid UTF-8 (byte offset {offset}): {damaged} byte(s) that are not were replaced by U+FFFD; the rest is UTF-8"
    )
}

/// Valid characters of more than one byte per invalid sequence that make bytes without a
/// declared encoding UTF-8 with damage rather than text in a legacy encoding.
pub(in crate::parse) const UTF8_CHARACTERS_PER_DAMAGE: usize = 4;

/// The number of bytes that are not UTF-8 in `bytes`, when it is mostly UTF-8: its valid
/// characters of more than one byte are at least `per_damage` times its invalid sequences, and
/// there is one (text in a legacy encoding has almost none of the first).
pub(in crate::parse) fn utf8_with_damage(bytes: &[u8], per_damage: usize) -> Option<usize> {
    let (mut multibyte, mut invalid, mut invalid_bytes) = (0usize, 0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        if !chunk.invalid().is_empty() {
            invalid += 1;
            invalid_bytes += chunk.invalid().len();
        }
    }
    (multibyte >= invalid.saturating_mul(per_damage).max(1)).then_some(invalid_bytes)
}

/// Decodes UTF-32 code units (after a 4-byte BOM) built by `unit` from byte quads.
pub(super) fn decode_utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> Result<String, ParseError> {
    let quads = bytes.chunks_exact(4);
    if !quads.remainder().is_empty() {
        return Err(ParseError::InvalidUtf32 {
            offset: bytes.len() - quads.remainder().len() + 4,
        });
    }
    let mut text = String::with_capacity(bytes.len() / 4);
    for (i, quad) in quads.enumerate() {
        match char::from_u32(unit([quad[0], quad[1], quad[2], quad[3]])) {
            Some('\0') => {
                return Err(ParseError::Binary {
                    offset: 4 + 4 * i,
                    forced: None,
                });
            }
            Some(c) => text.push(c),
            None => return Err(ParseError::InvalidUtf32 { offset: 4 + 4 * i }),
        }
    }
    Ok(text)
}

/// Decodes UTF-32 code units (after a 4-byte BOM) as the BOM says (`encoding`): an invalid
/// unit or a last partial one is U+FFFD, with a warning; a NUL character is binary content.
fn utf32_read_around(
    bytes: &[u8],
    unit: fn([u8; 4]) -> u32,
    encoding: &'static str,
) -> Result<Decoded, ParseError> {
    match decode_utf32(bytes, unit) {
        Ok(text) => Ok(Decoded::marked(text, encoding)),
        Err(ParseError::InvalidUtf32 { offset }) => {
            let mut decoded = Decoded::marked(decode_utf32_lossy(bytes, unit), encoding);
            decoded.warn(format!(
                "damaged {encoding} from byte offset {offset}: what is not a character read as U+FFFD"
            ));
            Ok(decoded)
        }
        Err(other) => Err(other),
    }
}

/// Decodes UTF-32 code units (after a 4-byte BOM), an invalid unit or a trailing partial one
/// as U+FFFD.
pub(super) fn decode_utf32_lossy(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> String {
    let quads = bytes.chunks_exact(4);
    let partial = !quads.remainder().is_empty();
    quads
        .map(|q| char::from_u32(unit([q[0], q[1], q[2], q[3]])).unwrap_or('\u{FFFD}'))
        .chain(partial.then_some('\u{FFFD}'))
        .collect()
}

/// Control characters in `text` (but line breaks, tabs and form feeds), and its characters
/// (at least 1).
pub(in crate::parse) fn control_characters(text: &str) -> (usize, usize) {
    let total = text.chars().count().max(1);
    let control = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0C'))
        .count();
    (control, total)
}

/// Whether more than [`MAX_CONTROL_SHARE`] of `text` is control characters: bytes decoded as
/// text that are not.
pub(in crate::parse) fn mostly_control(text: &str) -> bool {
    let (control, total) = control_characters(text);
    control as f64 / total as f64 > MAX_CONTROL_SHARE
}

/// How far into the bytes UTF-16 without a byte order mark is looked for.
const UTF16_PRESCAN: usize = 4096;

/// UTF-16 recognised by NUL bytes on one side of its ASCII characters: the markup or the
/// spaces and punctuation, at least 3 units in 10 even in CJK text (whose units have no NUL on
/// either side).
pub(in crate::parse) fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(UTF16_PRESCAN) & !1];
    if head.len() < 8 {
        return None;
    }
    let pairs = head.len() / 2;
    let even_nul = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd_nul * 10 >= pairs * 3 && even_nul * 10 < pairs {
        Some(encoding_rs::UTF_16LE)
    } else if even_nul * 10 >= pairs * 3 && odd_nul * 10 < pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Text in UTF-16 `encoding` without a byte order mark (a Windows tool's export), with a
/// warning; bytes that decode to mostly control characters are binary content (an image whose
/// NUL bytes happen to alternate).
fn utf16_unmarked(bytes: &[u8], encoding: &'static Encoding) -> Result<Decoded, ParseError> {
    let unit = match encoding == encoding_rs::UTF_16BE {
        true => u16::from_be_bytes,
        false => u16::from_le_bytes,
    };
    let mut decoded = decode_utf16_from(bytes, unit, encoding.name(), 0);
    if mostly_control(&decoded.text) {
        let offset = bytes.iter().position(|&b| b == 0).unwrap_or(0);
        return Err(ParseError::Binary {
            offset,
            forced: None,
        });
    }
    decoded.warn(format!(
        "no byte order mark: read as {}, told by the NUL bytes beside its ASCII characters",
        encoding.name()
    ));
    Ok(decoded)
}

/// UTF-16 after its byte order mark.
fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16, encoding: &'static str) -> Decoded {
    decode_utf16_from(bytes, unit, encoding, 2)
}

/// Decodes UTF-16 code units built by `unit` from byte pairs, as the BOM says (`encoding`),
/// the first at `offset` in the file (for the offsets warnings give). Damage is said and read
/// around: a lone surrogate is U+FFFD, a last odd byte (a cut file) and NUL characters are
/// dropped.
fn decode_utf16_from(
    bytes: &[u8],
    unit: fn([u8; 2]) -> u16,
    encoding: &'static str,
    offset: usize,
) -> Decoded {
    let pairs = bytes.chunks_exact(2);
    let odd = !pairs.remainder().is_empty();
    let units = pairs.map(|p| unit([p[0], p[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    let (mut lone, mut nuls, mut first) = (0usize, 0usize, None);
    let mut offset = offset;
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok('\0') => nuls += 1,
            Ok(c) => text.push(c),
            Err(_) => {
                lone += 1;
                text.push('\u{FFFD}');
            }
        }
        if !matches!(decoded, Ok(c) if c != '\0') {
            first.get_or_insert(offset);
        }
        offset += 2 * decoded.map_or(1, char::len_utf16);
    }
    let mut decoded = Decoded::marked(text, encoding);
    let mut notes = Vec::new();
    if lone > 0 {
        notes.push(format!("{lone} unpaired surrogate(s) read as U+FFFD"));
    }
    if nuls > 0 {
        notes.push(format!("{nuls} NUL character(s) dropped"));
    }
    if odd {
        notes.push("a last odd byte dropped (is the file cut short?)".to_owned());
    }
    if !notes.is_empty() {
        let at = first.map_or(String::new(), |at| format!(" from byte offset {at}"));
        decoded.warn(format!("damaged {encoding}{at}: {}", notes.join(", ")));
    }
    decoded
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

    fn text(bytes: &[u8]) -> String {
        decode(bytes).unwrap().text
    }

    /// UTF-16 without a byte order mark (a Windows export) was refused as binary for its NUL
    /// bytes: it is read, told apart by where the NULs are, with a warning; CJK text too. Bytes
    /// whose NULs alternate but that read as control characters stay binary.
    #[test]
    fn utf16_without_a_byte_order_mark_is_read_with_a_warning() {
        for (written, big_endian) in [
            ("# Notes\n\nSome text, with accents: café.\n", false),
            ("# Notes\n\nSome text, with accents: café.\n", true),
            ("# 会议纪要\n\n今天 讨论了 预算。\n", false),
        ] {
            let bytes = utf16(written, big_endian);
            let decoded = decode(&bytes[2..]).unwrap();
            assert_eq!(decoded.text, written);
            let name = if big_endian { "UTF-16BE" } else { "UTF-16LE" };
            assert_eq!(decoded.encoding, Some(name));
            let warning = decoded.warning.unwrap();
            assert!(
                warning.contains(&format!("no byte order mark: read as {name}")),
                "{warning}"
            );
        }
        let pixels: Vec<u8> = (0..400u32).flat_map(|i| [(i % 7) as u8 + 1, 0]).collect();
        assert!(matches!(decode(&pixels), Err(ParseError::Binary { .. })));
        // A damaged unit is told at its offset in the file (no byte order mark before it).
        let mut damaged = utf16("plain words here", false)[2..].to_vec();
        damaged.extend([0x00, 0xD8]);
        damaged.extend(utf16(" and more", false)[2..].iter());
        let warning = decode(&damaged).unwrap().warning.unwrap();
        assert!(warning.contains("from byte offset 32"), "{warning}");
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode(b"h\xC3\xA9").unwrap(), Decoded::utf8("hé".into()));
        assert_eq!(text(b"\xEF\xBB\xBF# Title"), "# Title");
        assert_eq!(text(b""), "");
    }

    #[test]
    fn utf16_with_bom() {
        let t = "# Grüße 🎉\nline";
        assert_eq!(
            decode(&utf16(t, false)).unwrap(),
            Decoded::marked(t.into(), "UTF-16LE")
        );
        assert_eq!(text(&utf16(t, true)), t);
    }

    #[test]
    fn utf32_with_bom() {
        let t = "Grüße 🎉\nline";
        let le: Vec<u8> = [0xFEFF_u32]
            .into_iter()
            .chain(t.chars().map(u32::from))
            .flat_map(u32::to_le_bytes)
            .collect();
        assert_eq!(le[..4], [0xFF, 0xFE, 0, 0]);
        assert_eq!(decode(&le).unwrap(), Decoded::marked(t.into(), "UTF-32LE"));
        let be: Vec<u8> = [0xFEFF_u32]
            .into_iter()
            .chain(t.chars().map(u32::from))
            .flat_map(u32::to_be_bytes)
            .collect();
        assert_eq!(text(&be), t);
        // Damage is read around, and said.
        let cut = decode(&le[..le.len() - 1]).unwrap();
        assert!(cut.text.ends_with("lin\u{FFFD}"), "{:?}", cut.text);
        assert!(cut.warning.unwrap().contains("damaged UTF-32LE"));
        let surrogate = [0xFF, 0xFE, 0, 0, 0x00, 0xD8, 0, 0, 0x41, 0, 0, 0];
        let d = decode(&surrogate).unwrap();
        assert_eq!(d.text, "\u{FFFD}A");
        assert!(d.warning.unwrap().contains("from byte offset 4"));
    }

    #[test]
    fn legacy_bytes_decode_as_windows_1252_with_a_warning() {
        let d = decode(b"caf\xE9 \x93quoted\x94 na\xEFve\r\n").unwrap();
        assert_eq!(d.text, "café \u{201C}quoted\u{201D} naïve\r\n");
        assert_eq!(d.encoding, Some("windows-1252"));
        assert!(d.warning.unwrap().contains("byte offset 3"));
    }

    /// UTF-8 with a stray byte stays UTF-8 (it was all decoded as windows-1252: `cafÃ©`).
    #[test]
    fn mostly_utf8_text_with_a_stray_byte_stays_utf8() {
        let mut bytes = "Le café est très bon. Élève, où êtes-vous ? "
            .repeat(20)
            .into_bytes();
        bytes.push(0x92);
        bytes.extend("fin".as_bytes());
        let decoded = decode(&bytes).unwrap();
        assert!(
            decoded.text.starts_with("Le café est très bon."),
            "{}",
            decoded.text
        );
        assert!(decoded.text.ends_with("\u{FFFD}fin"));
        assert!(decoded.warning.unwrap().contains("1 byte(s)"));
    }

    #[test]
    fn legacy_encodings_other_than_latin_are_detected() {
        let russian = "Правительство объявило сегодня о новых мерах поддержки малого \
            бизнеса в регионах страны.\n";
        for encoding in [encoding_rs::WINDOWS_1251, encoding_rs::KOI8_R] {
            let (bytes, _, _) = encoding.encode(russian);
            let d = decode(&bytes).unwrap();
            assert_eq!(d.text, russian, "{}", encoding.name());
            // KOI8-U is KOI8-R plus Ukrainian letters: either reads Russian the same.
            let name = d.encoding.unwrap();
            assert_eq!(&name[..4], &encoding.name()[..4]);
            assert!(d.warning.unwrap().contains(name));
        }
        let japanese = "東京都は今日、新しい交通計画を発表しました。市民の生活がより便利になる\
            と期待されています。\n";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(japanese);
        assert_eq!(decode(&bytes).unwrap().text, japanese);
    }

    /// Damaged UTF-16 is read around its damage, which is said: one bad unit lost the file.
    #[test]
    fn broken_utf16_is_read_with_a_warning() {
        let mut odd = utf16("ab", false);
        odd.push(b'c');
        let d = decode(&odd).unwrap();
        assert_eq!(d.text, "ab");
        assert!(d.warning.unwrap().contains("last odd byte dropped"));
        // A lone high surrogate followed by a normal unit, and a NUL.
        let lone = [0xFF, 0xFE, 0x3D, 0xD8, 0x41, 0x00, 0x00, 0x00];
        let d = decode(&lone).unwrap();
        assert_eq!(d.text, "\u{FFFD}A");
        let warning = d.warning.unwrap();
        assert!(warning.contains("from byte offset 2"), "{warning}");
        assert!(warning.contains("1 NUL character(s) dropped"), "{warning}");
    }

    #[test]
    fn invalid_utf8_that_is_not_text_names_the_offset() {
        // Mostly control characters in any single-byte encoding: not text.
        let err = decode(b"abc\xC3(\x01\x02\x03\x81\x8D").unwrap_err();
        assert!(matches!(err, ParseError::InvalidUtf8 { offset: 3 }));
        let msg = err.to_string();
        assert!(msg.contains("byte offset 3") && msg.contains("convert the file to UTF-8"));
        // After a UTF-8 BOM, bad bytes are damage: replaced, and said.
        let d = decode(b"\xEF\xBB\xBFab\xFFc").unwrap();
        assert_eq!(d.text, "ab\u{FFFD}c");
        assert!(d.warning.unwrap().contains("1 byte(s)"));
    }

    /// A source's text (a JSON string) keeps its text whatever NULs it holds: they go, said.
    #[test]
    fn nul_characters_of_given_text_are_dropped() {
        let d = decode_given_text("Invoice 42\0 total\0 due".as_bytes()).unwrap();
        assert_eq!(d.text, "Invoice 42 total due");
        let warning = d.warning.unwrap();
        assert!(
            warning.contains("2 NUL character(s) dropped (the first at byte offset 10)"),
            "{warning}"
        );
        assert_eq!(
            decode_given_text(b"plain").unwrap(),
            Decoded::utf8("plain".to_owned())
        );
    }

    /// NUL bytes mean binary content, unless a stray one in 4 KiB of text (a log cut by a
    /// crash): it is dropped, and said.
    #[test]
    fn nul_bytes_mean_binary_unless_stray() {
        let err = decode(b"text\0more").unwrap_err();
        assert!(matches!(err, ParseError::Binary { offset: 4, .. }));
        assert!(err.to_string().contains("binary content, not text"));
        let mut log = "a line of the log\n".repeat(300).into_bytes();
        log.insert(5100, 0);
        let d = decode(&log).unwrap();
        assert_eq!(d.text, "a line of the log\n".repeat(300));
        assert!(
            d.warning
                .unwrap()
                .contains("1 stray NUL byte(s) dropped (the first at byte offset 5100)")
        );
        log.insert(10, 0);
        assert!(matches!(
            decode(&log),
            Err(ParseError::Binary { offset: 10, .. })
        ));
        let mut log = "a line of the log\n".repeat(1000).into_bytes();
        log.insert(10, 0);
        log.insert(9000, 0);
        assert!(decode(&log).is_ok(), "two in 18 KB");
    }
}
