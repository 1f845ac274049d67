//! Objects the newest cross-reference section marks free. lopdf reads a classic table's `f`
//! entries as no entry at all, so an older section's in-use entry for the object won and an
//! object deleted by an incremental update (a redaction, a removed text block) was still
//! read. The newest section wins, free entries included (PDF 32000-1 §7.5.6): such an object
//! is null, as a reference to it reads in qpdf.

use std::collections::{BTreeMap, BTreeSet};

use lopdf::xref::XrefEntry;
use lopdf::{Document, Object};

use super::preload::{XrefTableEntry, xref_start, xref_table_entries};

/// Most cross-reference sections followed.
const MAX_SECTIONS: usize = 1024;

/// Makes null the objects of `doc` (loaded from `bytes` as they are, no table rebuilt) that
/// the newest section to list them marks free; returns how many. Only a chain of classic tables is
/// read: a hybrid file's table marks its compressed objects free, and a cross-reference stream
/// lopdf reads itself.
pub(crate) fn drop_freed(doc: &mut Document, bytes: &[u8]) -> usize {
    let start = memchr::memmem::find(bytes, b"%PDF-").unwrap_or(0);
    let buf = &bytes[start..];
    // Whether each object number is free in the newest section that lists it.
    let mut newest: BTreeMap<u32, bool> = BTreeMap::new();
    let mut at = xref_start(buf);
    let mut seen = BTreeSet::new();
    // A `/Prev` that loops back ends the chain.
    while let Some(here) = at.filter(|&here| seen.insert(here)) {
        if seen.len() > MAX_SECTIONS || !buf.get(here..).is_some_and(|b| b.starts_with(b"xref")) {
            return 0;
        }
        let Some((entries, trailer)) = xref_table_entries(buf, here) else {
            return 0;
        };
        if trailer.has(b"XRefStm") {
            return 0;
        }
        for entry in entries {
            let (number, free) = match entry {
                XrefTableEntry::InUse { number, .. } => (number, false),
                XrefTableEntry::Free { number } => (number, true),
            };
            newest.entry(number).or_insert(free);
        }
        at = trailer
            .get(b"Prev")
            .ok()
            .and_then(|p| p.as_i64().ok())
            .and_then(|p| usize::try_from(p).ok());
    }
    let mut dropped = 0;
    for (number, free) in newest {
        if number == 0 || !free {
            continue;
        }
        let Some(&XrefEntry::Normal { generation, .. }) = doc.reference_table.get(number) else {
            continue;
        };
        doc.reference_table.insert(number, XrefEntry::Free);
        // Null, not missing: a missing object reads as damage (a content stream cut off).
        if let Some(object) = doc.objects.get_mut(&(number, generation)) {
            *object = Object::Null;
            dropped += 1;
        }
    }
    dropped
}
