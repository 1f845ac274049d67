//! Opening a PDF: loading with lopdf, decryption with the empty user password, the document
//! information dictionary and sanity checks on the page tree and form XObjects.

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::freed;
use super::lengths;
use super::lenient;
use super::page_tree::unique_pages;
use super::preload::{self, LoadLimits};
use super::rebuild;

use super::extract::Frame;
use crate::model::Metadata;

/// Why a PDF could not be opened.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// Encrypted with a user password other than the empty one.
    Password,
    /// Not a readable PDF; the message says why.
    Malformed(String),
    /// Cut short (no `%%EOF` at its end), and what is left lists no page.
    Truncated,
}

/// A loaded document, whether its cross-reference table had to be rebuilt, and the streams
/// whose data the end of the file cut short.
pub(crate) struct Opened {
    pub doc: Document,
    pub rebuilt: bool,
    pub cut: rebuild::Cut,
    /// Streams read up to their `endstream`, their `/Length` wrong or missing.
    pub lengths_wrong: usize,
    /// Objects lopdf refused for a token that is no PDF object, read again without it (see
    /// [`lenient`]).
    pub objects_relexed: usize,
    /// Pages without a usable media box (missing, malformed or of no area), given US Letter.
    pub pages_boxed: usize,
    /// Times the page tree reached a node it had reached before (it lists a page twice, or
    /// loops back on itself): each page is read once (see [`unique_pages`]).
    pub pages_repeated: usize,
}

/// Why one attempt at opening failed.
enum Attempt {
    /// For good (a password, limits, a page tree that cannot be).
    Failed(LoadError),
    /// lopdf could not load the file, or found no pages in it: its cross-reference table may
    /// be missing or wrong.
    Damaged(String),
}

impl From<LoadError> for Attempt {
    fn from(err: LoadError) -> Self {
        Attempt::Failed(err)
    }
}

/// Loads `bytes`, decrypting documents encrypted with an empty user password. When lopdf
/// cannot load them, or finds no pages, the cross-reference table is rebuilt from the objects
/// in the bytes (see [`rebuild`]) and the copy is loaded instead.
pub(crate) fn open(bytes: &[u8]) -> Result<Opened, LoadError> {
    if !bytes.starts_with(b"%PDF")
        && !bytes[..bytes.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
    {
        return Err(LoadError::Malformed("no %PDF header".into()));
    }
    let reason = match open_as_is(bytes, None) {
        Ok(loaded) => return Ok(loaded.opened(false)),
        Err(Attempt::Failed(err)) => return Err(locked(bytes, err)),
        Err(Attempt::Damaged(reason)) => reason,
    };
    let Some(rebuilt) = rebuild::rebuild(bytes) else {
        return Err(LoadError::Malformed(reason));
    };
    match open_as_is(&rebuilt.bytes, Some(&rebuilt)) {
        Ok(loaded) => Ok(loaded.opened(true)),
        Err(Attempt::Failed(err)) => Err(locked(&rebuilt.bytes, err)),
        Err(Attempt::Damaged(_)) if !ends_as_a_pdf_does(bytes) => Err(LoadError::Truncated),
        // Why the file as it was failed says more than why the rebuilt copy did.
        Err(Attempt::Damaged(_)) => Err(LoadError::Malformed(reason)),
    }
}

/// Whether `bytes` end with a `%%EOF` marker (within the last KiB, where writers and the
/// padding some transfers add leave it), as a complete PDF does.
fn ends_as_a_pdf_does(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    tail.windows(5).any(|w| w == b"%%EOF")
}

/// What one attempt at [`open`] loaded.
struct Loaded {
    doc: Document,
    /// Streams the end of the file cut.
    cut: rebuild::Cut,
    /// Streams read up to their `endstream` ([`lengths`]).
    lengths_wrong: usize,
    /// Objects read again leniently ([`lenient`]).
    objects_relexed: usize,
}

impl Loaded {
    /// The document opened, its pages listed twice read once and those without a usable
    /// media box given one; `rebuilt` when it was loaded from a copy with a rebuilt table.
    fn opened(self, rebuilt: bool) -> Opened {
        let Loaded {
            mut doc,
            cut,
            lengths_wrong,
            objects_relexed,
        } = self;
        let pages_repeated = unique_pages(&mut doc);
        let pages_boxed = box_pages(&mut doc);
        Opened {
            doc,
            rebuilt,
            cut,
            lengths_wrong,
            objects_relexed,
            pages_boxed,
            pages_repeated,
        }
    }
}

/// One attempt at [`open`]; `rebuilt` when `bytes` are a copy with a rebuilt table.
fn open_as_is(bytes: &[u8], rebuilt: Option<&rebuild::Rebuilt>) -> Result<Loaded, Attempt> {
    preload::check(bytes, LoadLimits::default()).map_err(LoadError::Malformed)?;
    let mut doc = Document::load_mem(bytes).map_err(|err| match classify(err) {
        LoadError::Malformed(reason) => Attempt::Damaged(reason),
        err => Attempt::Failed(err),
    })?;
    if rebuilt.is_some() && doc.trailer.get(b"Encrypt").is_err() && has_security_handler(&doc) {
        return Err(LoadError::Malformed(
            "the file is encrypted and its trailer, which names the key, is lost".into(),
        )
        .into());
    }
    if let Ok(Object::Dictionary(encrypt)) = doc.trailer.get(b"Encrypt") {
        doc = with_direct_encrypt(bytes, encrypt.clone())?;
    }
    // lopdf decrypts while loading when the empty user password opens the file; when it does
    // not, the trailer still names an encryption dictionary but nothing was decrypted.
    if doc.trailer.get(b"Encrypt").is_ok() && !doc.was_encrypted() {
        if !doc.is_encrypted() {
            return Err(LoadError::Password.into());
        }
        doc.decrypt("").map_err(|_| LoadError::Password)?;
    }
    // An encrypted file's strings and streams would need decrypting: they are left as lopdf
    // read them.
    let encrypted = doc.was_encrypted() || doc.trailer.get(b"Encrypt").is_ok();
    if rebuilt.is_none() {
        freed::drop_freed(&mut doc, bytes);
    }
    let objects_relexed = if encrypted {
        0
    } else {
        lenient::recover(&mut doc, bytes)
    };
    let lengths_wrong = if encrypted {
        0
    } else {
        lengths::recover(&mut doc, bytes)
    };
    let cut = match rebuilt {
        Some(rebuilt) => rebuild::repair(&mut doc, rebuilt),
        None => rebuild::Cut::new(),
    };
    if doc.get_pages().is_empty() {
        return Err(Attempt::Damaged("no pages in the page tree".into()));
    }
    check_page_count(&doc)?;
    Ok(Loaded {
        doc,
        cut,
        lengths_wrong,
        objects_relexed,
    })
}

/// Why a file that [`LoadError::Password`] failed cannot be opened: a password only when its
/// encryption dictionary is the standard (password) security handler's. Another handler
/// (certificate security, `/Adobe.PubSec`, or one unknown) is named, and an `/Encrypt` that is
/// no encryption dictionary (missing, not a dictionary, the catalog, without `/Filter`) is
/// damage: no password opens either. The dictionary is read from a copy loaded with the
/// trailer's key renamed, as [`with_direct_encrypt`] does.
fn locked(bytes: &[u8], err: LoadError) -> LoadError {
    if !matches!(err, LoadError::Password) {
        return err;
    }
    let mut renamed = bytes.to_vec();
    rename(&mut renamed, HIDDEN_ENCRYPT);
    rename(&mut renamed, HIDDEN_OBJSTM);
    let Ok(doc) = load(&renamed, LoadLimits::default()) else {
        return LoadError::Password;
    };
    let entry = doc.trailer.get(&HIDDEN_ENCRYPT.1[1..]).ok();
    let target = entry.and_then(|e| deref(&doc, e));
    let damaged = |what: String| {
        LoadError::Malformed(format!(
            "it is marked encrypted, but its encryption dictionary (the trailer's /Encrypt) {what}, so no password would open it: the file is damaged"
        ))
    };
    let Some(dict) = target.and_then(|o| o.as_dict().ok()) else {
        return match (entry, target) {
            (Some(Object::Reference((n, g))), None) => {
                damaged(format!("refers to object {n} {g} R, which is missing"))
            }
            _ => damaged("is not a dictionary".into()),
        };
    };
    if dict.has_type(b"Catalog") || dict.has(b"Pages") {
        return damaged("is the document catalog".into());
    }
    if dict.has_type(b"Page") || dict.has_type(b"Pages") {
        return damaged("is a page".into());
    }
    let Some(filter) = dict
        .get(b"Filter")
        .ok()
        .and_then(|f| deref(&doc, f))
        .and_then(|f| f.as_name().ok())
    else {
        return damaged("names no security handler (/Filter)".into());
    };
    let filter = String::from_utf8_lossy(filter);
    match &*filter {
        "Standard" => LoadError::Password,
        "Adobe.PubSec" => LoadError::Malformed(
            "it is encrypted with certificate security (the Adobe.PubSec security handler: it opens with a recipient's private key, not a password), which is not supported; decrypt it first with the certificate in a PDF viewer that supports it".into(),
        ),
        other => LoadError::Malformed(format!(
            "it is encrypted with the {other} security handler, which is not supported (only the Standard password handler is); decrypt it first with the software that encrypted it"
        )),
    }
}

/// Whether the document holds a standard security handler's encryption dictionary.
fn has_security_handler(doc: &Document) -> bool {
    doc.objects.values().any(|o| {
        o.as_dict().is_ok_and(|d| {
            d.get(b"Filter")
                .and_then(Object::as_name)
                .is_ok_and(|f| f == b"Standard")
                && d.has(b"O")
                && d.has(b"U")
        })
    })
}

/// Names hidden from lopdf while loading a PDF whose encryption dictionary is direct, each
/// with a stand-in of the same length (so that offsets hold).
const HIDDEN_ENCRYPT: (&[u8], &[u8]) = (b"/Encrypt", b"/Xncrypt");
const HIDDEN_OBJSTM: (&[u8], &[u8]) = (b"/ObjStm", b"/XbjStm");

/// Loads a PDF whose trailer holds the encryption dictionary itself rather than a reference
/// to it, as MuPDF writes it. lopdf only decrypts through a reference, and loads no objects
/// at all from such a file; so a copy of the bytes is loaded with the trailer's key renamed,
/// as if not encrypted (object streams renamed too, or lopdf would drop them for not
/// parsing); then the dictionary becomes an object of its own, the object streams get their
/// type back and the document is decrypted with the empty user password.
fn with_direct_encrypt(bytes: &[u8], encrypt: Dictionary) -> Result<Document, LoadError> {
    let mut renamed = bytes.to_vec();
    rename(&mut renamed, HIDDEN_ENCRYPT);
    rename(&mut renamed, HIDDEN_OBJSTM);
    let mut doc = load(&renamed, LoadLimits::default())?;
    doc.trailer.remove(&HIDDEN_ENCRYPT.1[1..]);
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object
            && stream.dict.has_type(&HIDDEN_OBJSTM.1[1..])
        {
            stream
                .dict
                .set("Type", Object::Name(HIDDEN_OBJSTM.0[1..].to_vec()));
        }
    }
    let id = doc.add_object(Object::Dictionary(encrypt));
    doc.trailer.set("Encrypt", Object::Reference(id));
    doc.decrypt("").map_err(|_| LoadError::Password)?;
    Ok(doc)
}

/// Replaces the name `from` by `to` (of the same length) wherever it stands whole in `bytes`.
fn rename(bytes: &mut [u8], (from, to): (&[u8], &[u8])) {
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], from) {
        let start = at + found;
        let end = start + from.len();
        // Longer names (`/EncryptMetadata`) stay.
        if bytes.get(end).is_none_or(|&b| !preload::is_regular(b)) {
            bytes[start..end].copy_from_slice(to);
        }
        at = end;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Loads `bytes` with lopdf, what it decodes while loading bounded by `limits`.
pub(crate) fn load(bytes: &[u8], limits: LoadLimits) -> Result<Document, LoadError> {
    preload::check(bytes, limits).map_err(LoadError::Malformed)?;
    Document::load_mem(bytes).map_err(classify)
}

/// The root page tree's `/Count` must be a possible page count: positive and no larger than
/// the number of objects in the file (every page is an object). A fuzzed count means a
/// damaged page tree, which peers refuse too.
fn check_page_count(doc: &Document) -> Result<(), LoadError> {
    let count = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Pages").ok())
        .and_then(|p| deref(doc, p))
        .and_then(|p| p.as_dict().ok())
        .and_then(|p| p.get(b"Count").ok())
        .and_then(|c| deref(doc, c))
        .and_then(|c| c.as_i64().ok());
    match count {
        Some(n) if n < 1 || n > doc.objects.len() as i64 => Err(LoadError::Malformed(format!(
            "the page tree claims {n} pages in a file of {} objects",
            doc.objects.len()
        ))),
        _ => Ok(()),
    }
}

/// Maps a lopdf error to a [`LoadError`].
fn classify(err: lopdf::Error) -> LoadError {
    let text = err.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("password") || matches!(err, lopdf::Error::Decryption(_)) {
        LoadError::Password
    } else {
        LoadError::Malformed(text)
    }
}

/// Title, author, subject, keywords, creator and producer from the information dictionary,
/// under lowercase keys; empty values are skipped.
pub(crate) fn info_metadata(doc: &Document) -> Metadata {
    let mut metadata = Metadata::new();
    let Some(info) = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| deref(doc, o))
        .and_then(|o| o.as_dict().ok())
    else {
        return metadata;
    };
    for (key, name) in [
        (&b"Title"[..], "title"),
        (b"Author", "author"),
        (b"Subject", "subject"),
        (b"Keywords", "keywords"),
        (b"Creator", "creator"),
        (b"Producer", "producer"),
    ] {
        let value = info
            .get(key)
            .ok()
            .and_then(|o| deref(doc, o))
            .and_then(|o| lopdf::decode_text_string(o).ok())
            .map(|s| s.replace('\0', "").trim().to_string())
            .filter(|s| !s.is_empty());
        if let Some(value) = value {
            metadata.insert(name.into(), value.into());
        }
    }
    metadata
}

/// Follows one reference.
fn deref<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Object> {
    match obj {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

/// The size other readers give a page without a usable media box: US Letter.
const DEFAULT_MEDIA_BOX: [i64; 4] = [0, 0, 612, 792];

/// Gives every page of `doc` without a usable media box (missing, malformed, or of no area)
/// [`DEFAULT_MEDIA_BOX`], as other readers do: pdf-extract panics without one, and a page of no
/// area shows nothing. Returns how many pages it gave one.
fn box_pages(doc: &mut Document) -> usize {
    let unboxed: Vec<ObjectId> = doc
        .get_pages()
        .into_values()
        .filter(|&page| match check_page(doc, page) {
            Ok(frame) => frame.width < 1.0 || frame.height < 1.0,
            Err(reason) => reason != NOT_A_DICTIONARY,
        })
        .collect();
    for &page in &unboxed {
        if let Ok(Object::Dictionary(dict)) = doc.get_object_mut(page) {
            let media_box: Vec<Object> = DEFAULT_MEDIA_BOX.iter().map(|&n| n.into()).collect();
            dict.set("MediaBox", media_box);
        }
    }
    unboxed.len()
}

/// Why [`check_page`] refuses a page that is not a dictionary.
const NOT_A_DICTIONARY: &str = "the page is not a dictionary";

/// The page's media box as a [`Frame`]; an error when it has none usable (pdf-extract panics
/// without one).
pub(crate) fn check_page(doc: &Document, page: ObjectId) -> Result<Frame, String> {
    let dict = doc
        .get_object(page)
        .ok()
        .and_then(|o| o.as_dict().ok())
        .ok_or(NOT_A_DICTIONARY)?;
    let media_box = inherited(doc, dict, b"MediaBox", 0).ok_or("no media box")?;
    let n: Vec<f64> = media_box
        .as_array()
        .ok()
        .filter(|a| a.len() == 4 && a.iter().all(is_number))
        .ok_or("malformed media box")?
        .iter()
        .filter_map(|o| o.as_float().ok().map(f64::from))
        .collect();
    let [llx, lly, urx, ury] = n[..] else {
        return Err("malformed media box".into());
    };
    let (width, height) = ((urx - llx).abs() as f32, (ury - lly).abs() as f32);
    if !(width.is_finite() && height.is_finite()) {
        return Err("malformed media box".into());
    }
    Ok(Frame {
        left: llx.min(urx),
        top: lly.max(ury),
        width,
        height,
    })
}

fn is_number(obj: &Object) -> bool {
    matches!(obj, Object::Integer(_) | Object::Real(_))
}

/// Looks `key` up on the page and its ancestors.
fn inherited<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    key: &[u8],
    depth: usize,
) -> Option<&'a Object> {
    if depth > 32 {
        return None;
    }
    if let Ok(value) = dict.get(key) {
        return deref(doc, value);
    }
    let parent = dict.get(b"Parent").ok()?.as_reference().ok()?;
    let parent = doc.get_object(parent).ok()?.as_dict().ok()?;
    inherited(doc, parent, key, depth + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIRECT_AES128: &[u8] =
        include_bytes!("../../../../tests/fixtures/mupdf-aes128-empty-user-password.pdf");
    const DIRECT_AES256_OBJSTM: &[u8] =
        include_bytes!("../../../../tests/fixtures/mupdf-aes256-objstm-empty-user-password.pdf");
    const USER_PASSWORD: &[u8] =
        include_bytes!("../../../../tests/fixtures/mupdf-aes128-user-password.pdf");

    #[test]
    fn a_direct_encryption_dictionary_with_an_empty_user_password_opens() {
        for bytes in [DIRECT_AES128, DIRECT_AES256_OBJSTM] {
            let doc = open(bytes).unwrap().doc;
            assert_eq!(doc.get_pages().len(), 1);
            assert!(doc.trailer.get(b"Xncrypt").is_err());
            let page = *doc.get_pages().values().next().unwrap();
            let content: Vec<u8> = doc
                .get_page_contents(page)
                .into_iter()
                .flat_map(|id| {
                    let stream = doc.get_object(id).unwrap().as_stream().unwrap();
                    stream.decompressed_content().expect("decrypted")
                })
                .collect();
            assert!(String::from_utf8_lossy(&content).contains("BT"));
        }
        let info = info_metadata(&open(DIRECT_AES256_OBJSTM).unwrap().doc);
        assert_eq!(info["title"], "Secret title");
        assert!(matches!(open(USER_PASSWORD), Err(LoadError::Password)));
    }

    #[test]
    fn renaming_keeps_longer_names_and_lengths() {
        let mut bytes = b"<</Encrypt<</EncryptMetadata true>>/Encrypt 5 0 R>>".to_vec();
        let len = bytes.len();
        rename(&mut bytes, HIDDEN_ENCRYPT);
        assert_eq!(
            bytes,
            b"<</Xncrypt<</EncryptMetadata true>>/Xncrypt 5 0 R>>"
        );
        assert_eq!(bytes.len(), len);
    }
}
