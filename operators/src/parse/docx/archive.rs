//! Reading parts of a DOCX zip with bounded decompression: a cap per entry, a cap for the
//! whole document and a refusal of absurd compression ratios (zip bombs). Every read counts
//! against the document's cap, and so does a part shown again (an import referenced twice),
//! which may add little: it is not in the file.

use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use super::super::ParseError;
use crate::model::Format;

/// Most bytes one part may decompress to.
const MAX_ENTRY: u64 = 64 << 20;
/// Most bytes all parts read from one document may decompress to.
const MAX_TOTAL: u64 = 256 << 20;
/// Largest accepted ratio of decompressed to compressed size, for parts above
/// [`MIN_RATIO_PART`], and of all bytes read from a document to its file's size past
/// [`MIN_RATIO_TOTAL`].
const MAX_RATIO: u64 = 200;
/// Parts up to this size may compress any amount: a 6,000-row table or a pasted log of 2 MB
/// compresses 200 to 300 times, and the caps above bound what they cost.
const MIN_RATIO_PART: u64 = 16 << 20;
/// Bytes any document may read whatever its file's size: a small file may hold well
/// compressed parts, but a few kilobytes read 200 times over (one imported part referenced
/// again and again) must not cost minutes and gigabytes.
const MIN_RATIO_TOTAL: u64 = 8 << 20;
/// Most bytes the parts shown again ([`Archive::show_again`]) may add to a document, whatever
/// its size: 100,000 references to one part of 9 KB, a 2.5 MB file, took 3 minutes and 5 GB
/// within the cap.
const MAX_AGAIN: u64 = 8 << 20;

/// An open DOCX package with a decompression budget.
pub(super) struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    /// Bytes that may still be decompressed, or shown again.
    budget: u64,
    /// Bytes that parts shown again may still add.
    again: u64,
    /// The document's cap, for messages.
    cap: u64,
    /// What reading the parts found wrong but read anyway (text that is not what it says).
    warnings: Vec<String>,
}

impl<'a> Archive<'a> {
    /// Opens the package; encrypted (OLE) files, legacy Word documents, other OLE files and
    /// broken zips are clear errors.
    pub(super) fn open(bytes: &'a [u8]) -> Result<Self, ParseError> {
        if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
            return Err(ole_error(bytes));
        }
        if bytes.is_empty() {
            return Err(damaged("the file is empty"));
        }
        let zip = ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| damaged(&format!("not a readable zip package ({e})")))?;
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let cap = MAX_TOTAL.min(MIN_RATIO_TOTAL.max(size.saturating_mul(MAX_RATIO)));
        Ok(Archive {
            zip,
            budget: cap,
            again: MAX_AGAIN,
            cap,
            warnings: Vec::new(),
        })
    }

    /// The text of part `name`, or `None` when the package has no such part.
    /// Part names are case-insensitive (OPC), so `Word/Document.xml` is `word/document.xml`.
    pub(super) fn read(&mut self, name: &str) -> Result<Option<String>, ParseError> {
        Ok(self.read_sized(name)?.map(|(text, _)| text))
    }

    /// [`Archive::read`], with the bytes the part decompressed to.
    pub(super) fn read_sized(&mut self, name: &str) -> Result<Option<(String, u64)>, ParseError> {
        let name = match self.zip.index_for_name(name) {
            Some(_) => name.to_string(),
            None => match self
                .zip
                .file_names()
                .flatten()
                .find(|n| n.eq_ignore_ascii_case(name))
            {
                Some(found) => found.to_string(),
                None => return Ok(None),
            },
        };
        let name = name.as_str();
        let mut file = match self.zip.by_name(name) {
            Ok(file) => file,
            Err(ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(damaged(&format!("part {name}: {e}"))),
        };
        if file.encrypted() {
            return Err(ParseError::Encrypted {
                format: Format::Docx,
            });
        }
        let declared = file.size();
        let compressed = file.compressed_size().max(1);
        check_ratio(name, declared, compressed)?;
        if declared > MAX_ENTRY {
            return Err(too_large(name, "declared size", declared));
        }
        if declared > self.budget {
            return Err(over_cap(name, self.cap));
        }
        let limit = MAX_ENTRY.min(self.budget);
        let mut bytes = Vec::with_capacity(usize::try_from(declared.min(1 << 20)).unwrap_or(0));
        (&mut file)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| damaged(&format!("part {name}: {e}")))?;
        drop(file);
        let read = bytes.len() as u64;
        // The declared size may lie; the bytes read may not.
        check_ratio(name, read, compressed)?;
        if read > MAX_ENTRY {
            return Err(too_large(name, "decompressed size", read));
        }
        if read > self.budget {
            return Err(over_cap(name, self.cap));
        }
        self.budget -= read;
        let (text, problem) = xml_text(bytes);
        self.warnings
            .extend(problem.map(|problem| format!("part {name}: {problem}")));
        Ok(Some((text, read)))
    }

    /// Counts part `name`, read once and `bytes` long, shown again: against the document's
    /// cap, as reading it again would, and against what parts shown again may add.
    pub(super) fn show_again(&mut self, name: &str, bytes: u64) -> Result<(), ParseError> {
        if bytes > self.again {
            return Err(ParseError::TooLarge {
                detail: format!(
                    "docx part {name}: shown again, it takes the parts shown more than once past {} MiB (a part referenced over and over: a zip bomb?)",
                    MAX_AGAIN >> 20
                ),
            });
        }
        if bytes > self.budget {
            return Err(over_cap(name, self.cap));
        }
        self.again -= bytes;
        self.budget -= bytes;
        Ok(())
    }

    /// What a package that holds no Word document is, when its `mimetype` (OpenDocument,
    /// EPUB), content types or part names tell: "a zip archive holding an Excel workbook".
    pub(super) fn other_kind(&mut self) -> Option<String> {
        let mimetype = self.read("mimetype").ok().flatten().unwrap_or_default();
        let types = self.read("[Content_Types].xml").ok().flatten();
        let names: Vec<String> = self
            .zip
            .file_names()
            .flatten()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        let has = |name: &str| names.iter().any(|n| n == name);
        let types_say = |kind: &str| types.as_deref().is_some_and(|t| t.contains(kind));
        let kind = if let Some((_, kind)) = MIMETYPES.iter().find(|(m, _)| mimetype.trim() == *m) {
            kind
        } else if types_say("spreadsheetml") || has("xl/workbook.xml") {
            "an Excel workbook (.xlsx)"
        } else if types_say("presentationml") || has("ppt/presentation.xml") {
            "a PowerPoint presentation (.pptx)"
        } else if types_say("ms-visio") || has("visio/document.xml") {
            "a Visio drawing (.vsdx)"
        } else if has("content.xml") && has("meta-inf/manifest.xml") {
            "an OpenDocument file"
        } else if types.is_none()
            && !names
                .iter()
                .any(|n| n.starts_with("word/") || n.starts_with("_rels/"))
        {
            return Some(
                "a plain zip archive (no [Content_Types].xml, word/ or _rels/ part)".to_owned(),
            );
        } else {
            return None;
        };
        Some(format!("a zip archive holding {kind}"))
    }

    /// What reading the parts so far found wrong but read anyway.
    pub(super) fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

/// The `mimetype` entries of zip formats (OpenDocument, EPUB), and what they name.
const MIMETYPES: [(&str, &str); 4] = [
    (
        "application/vnd.oasis.opendocument.text",
        "an OpenDocument text (.odt)",
    ),
    (
        "application/vnd.oasis.opendocument.spreadsheet",
        "an OpenDocument spreadsheet (.ods)",
    ),
    (
        "application/vnd.oasis.opendocument.presentation",
        "an OpenDocument presentation (.odp)",
    ),
    ("application/epub+zip", "an EPUB book"),
];

/// The streams that name the other kinds of OLE compound file, and what those are.
const OLE_KINDS: [(&str, &str); 5] = [
    ("Workbook", "an Excel 97-2003 workbook (.xls)"),
    ("Book", "an Excel 5 workbook (.xls)"),
    (
        "PowerPoint Document",
        "a PowerPoint 97-2003 presentation (.ppt)",
    ),
    ("__substg1.0_", "an Outlook message (.msg)"),
    ("VisioDocument", "a Visio 2003 drawing (.vsd)"),
];

/// The error for an OLE compound file: an encrypted package, a Word 97-2003 document, or
/// another kind of file (named by its streams).
fn ole_error(bytes: &[u8]) -> ParseError {
    if has_stream(bytes, "EncryptedPackage") {
        return ParseError::Encrypted {
            format: Format::Docx,
        };
    }
    if has_stream(bytes, "WordDocument") {
        return damaged(
            "this is a legacy Word 97-2003 .doc file (OLE), not a .docx; the .doc format is not \
             supported: save it as .docx (Word Open XML) to parse it",
        );
    }
    let kind = OLE_KINDS
        .iter()
        .find(|(stream, _)| has_stream(bytes, stream))
        .map_or(
            "an OLE compound file (an Office 97-2003 format) with no Word document in it",
            |(_, kind)| kind,
        );
    damaged(&format!(
        "this is {kind}, not a Word document (nor an encrypted one)"
    ))
}

/// Whether an OLE compound file has a stream named `name`: directory entries hold their
/// names in UTF-16LE.
fn has_stream(bytes: &[u8], name: &str) -> bool {
    let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(utf16.len()).any(|w| w == utf16.as_slice())
}

/// XML bytes as text: UTF-16 by its byte order mark, else in the encoding its XML declaration
/// names (`encoding="ISO-8859-1"`), else UTF-8; and what was wrong with them, when some bytes
/// were not text in that encoding (each is then U+FFFD).
fn xml_text(bytes: Vec<u8>) -> (String, Option<String>) {
    let (encoding, text, lossy) = match encoding_rs::Encoding::for_bom(&bytes) {
        Some((encoding, _)) => {
            let (text, lossy) = encoding.decode_with_bom_removal(&bytes);
            (encoding, text.into_owned(), lossy)
        }
        None => {
            let encoding = declared_encoding(&bytes).unwrap_or(encoding_rs::UTF_8);
            let (text, lossy) = encoding.decode_without_bom_handling(&bytes);
            (encoding, text.into_owned(), lossy)
        }
    };
    let problem = lossy.then(|| {
        format!(
            "not valid {} text: the bytes that are not were replaced by U+FFFD",
            encoding.name()
        )
    });
    (text, problem)
}

/// The encoding an XML declaration at the start of `bytes` names, if encoding_rs knows it.
fn declared_encoding(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = bytes.get(..bytes.len().min(200))?;
    let declaration = head.strip_prefix(b"<?xml")?;
    let declaration = &declaration[..declaration.windows(2).position(|w| w == b"?>")?];
    let at = declaration.windows(8).position(|w| w == b"encoding")?;
    let rest = &declaration[at + 8..];
    let quote = rest.iter().position(|&b| b == b'"' || b == b'\'')?;
    let value = &rest[quote + 1..];
    let end = value.iter().position(|&b| b == rest[quote])?;
    encoding_rs::Encoding::for_label(&value[..end])
}

/// A damaged-DOCX error with `detail`.
pub(super) fn damaged(detail: &str) -> ParseError {
    ParseError::Damaged {
        format: Format::Docx,
        detail: detail.to_string(),
    }
}

/// The error for part `name`, which the document's `cap` has no room left for.
fn over_cap(name: &str, cap: u64) -> ParseError {
    ParseError::TooLarge {
        detail: format!(
            "docx part {name}: reading it takes the document past {cap} decompressed bytes, its limit ({} MiB, or {MAX_RATIO} times the file's size above {} MiB: a zip bomb?)",
            MAX_TOTAL >> 20,
            MIN_RATIO_TOTAL >> 20
        ),
    }
}

/// Refuses part `name`, `size` bytes decompressed from `compressed`, when it is over
/// [`MIN_RATIO_PART`] and compressed more than [`MAX_RATIO`] times.
fn check_ratio(name: &str, size: u64, compressed: u64) -> Result<(), ParseError> {
    let ratio = size / compressed.max(1);
    if size <= MIN_RATIO_PART || ratio <= MAX_RATIO {
        return Ok(());
    }
    Err(ParseError::TooLarge {
        detail: format!(
            "docx part {name}: {size} bytes compressed {ratio} times, beyond the limits ({MAX_RATIO} times for parts over {} MiB: a zip bomb?)",
            MIN_RATIO_PART >> 20
        ),
    })
}

fn too_large(name: &str, what: &str, value: u64) -> ParseError {
    ParseError::TooLarge {
        detail: format!("docx part {name}: {what} {value} is beyond the limits (a zip bomb?)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, data) in entries {
                w.start_file(*name, options).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn reads_parts_and_reports_missing_ones() {
        let bytes = zip_with(&[("a.xml", b"<a/>")]);
        let mut archive = Archive::open(&bytes).unwrap();
        assert_eq!(archive.read("a.xml").unwrap().as_deref(), Some("<a/>"));
        assert_eq!(archive.read("b.xml").unwrap(), None);
    }

    #[test]
    fn refuses_bombs_and_broken_packages() {
        let zeros = vec![b' '; (8 << 20) + 1];
        let bytes = zip_with(&[("big.xml", &zeros)]);
        let mut archive = Archive::open(&bytes).unwrap();
        let err = archive.read("big.xml").unwrap_err();
        assert!(matches!(err, ParseError::TooLarge { .. }), "{err}");
        let zeros = vec![b' '; 17 << 20];
        let bytes = zip_with(&[("big.xml", &zeros)]);
        let err = Archive::open(&bytes).unwrap().read("big.xml").unwrap_err();
        assert!(err.to_string().contains("for parts over 16 MiB"), "{err}");
        assert!(matches!(
            Archive::open(b"PK\x03\x04garbage"),
            Err(ParseError::Damaged { .. })
        ));
    }

    /// A small file reads at most 8 MiB in all (then 200 times its size, up to 256 MiB),
    /// and a part shown again adds at most 8 MiB ([`Archive::show_again`]): parts under
    /// 1 MiB escape the ratio check, and a few kilobytes could read 256 MiB.
    #[test]
    fn a_small_file_reads_no_more_than_its_share() {
        let part = vec![b' '; 1_000_000];
        let names: Vec<String> = (0..9).map(|i| format!("p{i}.xml")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &part[..])).collect();
        let bytes = zip_with(&entries);
        assert!(bytes.len() < 64 << 10, "{}", bytes.len());
        let mut archive = Archive::open(&bytes).unwrap();
        for name in &names[..8] {
            assert!(archive.read(name).unwrap().is_some());
        }
        let err = archive.read(&names[8]).unwrap_err();
        assert!(matches!(err, ParseError::TooLarge { .. }), "{err}");
        assert!(
            err.to_string().contains("past 8388608 decompressed bytes"),
            "{err}"
        );
        let mut archive = Archive::open(&bytes).unwrap();
        let (_, size) = archive.read_sized("p0.xml").unwrap().unwrap();
        assert_eq!(size, 1_000_000);
        for _ in 0..7 {
            archive.show_again("p0.xml", size).unwrap();
        }
        let err = archive.show_again("p0.xml", size).unwrap_err();
        assert!(err.to_string().contains("its limit"), "{err}");
        // A larger file (its cap 20 MB) shows parts again for 8 MiB all the same.
        let mut state = 1_u32;
        let noise: Vec<u8> = (0..100_000)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect();
        let bytes = zip_with(&[("p0.xml", &part), ("noise.bin", &noise)]);
        let mut archive = Archive::open(&bytes).unwrap();
        let (_, size) = archive.read_sized("p0.xml").unwrap().unwrap();
        for _ in 0..8 {
            archive.show_again("p0.xml", size).unwrap();
        }
        let err = archive.show_again("p0.xml", size).unwrap_err();
        assert!(err.to_string().contains("shown more than once"), "{err}");
    }

    /// A part of 2 MB compressed 1,000 times (a 6,000-row table, a pasted log) is read: the
    /// ratio rule is for parts over 16 MiB, the caps bound the rest. It was refused as a
    /// zip bomb past 1 MiB.
    #[test]
    fn well_compressed_documents_of_a_few_megabytes_are_read() {
        let part = format!("<w:t>{}</w:t>", "_".repeat(2_000_000));
        let bytes = zip_with(&[("word/document.xml", part.as_bytes())]);
        assert!(bytes.len() * 200 < part.len(), "{}", bytes.len());
        let mut archive = Archive::open(&bytes).unwrap();
        let read = archive.read("word/document.xml").unwrap();
        assert_eq!(read.map(|t| t.len()), Some(part.len()));
    }

    /// A part declared in another encoding than UTF-8 is read in it; bytes that are not
    /// text in the part's encoding are replaced, and said to be.
    #[test]
    fn parts_are_read_in_their_declared_encoding() {
        let latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><t>H\xe9llo</t>".to_vec();
        assert_eq!(
            xml_text(latin1),
            (
                "<?xml version='1.0' encoding='ISO-8859-1'?><t>Héllo</t>".to_owned(),
                None
            )
        );
        let utf8 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>Héllo</t>";
        assert_eq!(xml_text(utf8.as_bytes().to_vec()), (utf8.to_owned(), None));
        let (text, problem) = xml_text(b"<t>H\xe9llo</t>".to_vec());
        assert_eq!(text, "<t>H\u{FFFD}llo</t>");
        assert!(problem.is_some_and(|p| p.contains("not valid UTF-8")));
    }

    /// An OLE file with a `WordDocument` stream and no `EncryptedPackage` is a Word 97-2003
    /// document renamed, not an encrypted one.
    #[test]
    fn legacy_word_documents_are_named_as_such() {
        let ole = |names: &[&str]| {
            let mut bytes = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
            for name in names {
                bytes.extend(name.encode_utf16().flat_map(u16::to_le_bytes));
                bytes.extend([0, 0]);
            }
            bytes
        };
        let Err(err) = Archive::open(&ole(&["Root Entry", "WordDocument", "1Table"])) else {
            panic!("a legacy document opened");
        };
        assert!(matches!(err, ParseError::Damaged { .. }), "{err}");
        assert!(err.to_string().contains("Word 97-2003 .doc"), "{err}");
        let encrypted = ole(&["Root Entry", "EncryptionInfo", "EncryptedPackage"]);
        assert!(matches!(
            Archive::open(&encrypted),
            Err(ParseError::Encrypted { .. })
        ));
    }

    /// An OLE file without a `WordDocument` stream (an .xls, .ppt or .msg renamed, or a bare
    /// header) is named for what it is: all were "encrypted (password-protected)".
    #[test]
    fn other_ole_files_are_not_called_encrypted() {
        let ole = |name: &str| {
            let mut bytes = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
            bytes.extend(name.encode_utf16().flat_map(u16::to_le_bytes));
            bytes
        };
        for (stream, named) in [
            ("Workbook", "Excel 97-2003 workbook"),
            ("PowerPoint Document", "PowerPoint"),
            ("__substg1.0_0037001F", "Outlook message"),
            ("Root Entry", "OLE compound file"),
        ] {
            let Err(err) = Archive::open(&ole(stream)) else {
                panic!("{stream} opened");
            };
            assert!(matches!(err, ParseError::Damaged { .. }), "{err}");
            assert!(err.to_string().contains(named), "{err}");
            assert!(err.to_string().contains("not a Word document"), "{err}");
        }
    }

    /// A zip that holds another kind of document says which, by its `mimetype`, content
    /// types or part names.
    #[test]
    fn other_zip_packages_are_named() {
        let kind = |entries: &[(&str, &[u8])]| {
            let bytes = zip_with(entries);
            Archive::open(&bytes).unwrap().other_kind()
        };
        let xlsx = kind(&[
            ("[Content_Types].xml", b"<Override ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"),
            ("xl/workbook.xml", b"<workbook/>"),
        ]);
        assert_eq!(
            xlsx.as_deref(),
            Some("a zip archive holding an Excel workbook (.xlsx)")
        );
        let odt = kind(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<x/>"),
        ]);
        assert!(odt.is_some_and(|k| k.contains("OpenDocument text")));
        let epub = kind(&[("mimetype", b"application/epub+zip")]);
        assert!(epub.is_some_and(|k| k.contains("EPUB")));
        let plain = kind(&[("notes.txt", b"hello")]);
        assert!(plain.is_some_and(|k| k.contains("plain zip archive")));
        let docx = kind(&[("[Content_Types].xml", b"<Types/>")]);
        assert_eq!(docx, None);
    }
}
