//! The pages of a page tree that reaches a node again (lists a page twice, or a `/Kids` entry
//! loops back to an ancestor, as a damaged or hostile file does). lopdf's walk follows such a
//! loop until it has read as many kids as the file has objects, and loses every page listed
//! after it; this walk skips a node it has reached before and goes on with its siblings.

use std::collections::HashSet;

use lopdf::{Document, Object, ObjectId};

/// Deepest page tree node followed, as lopdf follows.
const MAX_DEPTH: usize = 256;

/// Makes the page tree of `doc` reach each page once, in the order it first reaches it, when
/// it reaches a node more than once: the root's `/Kids` become those pages (each keeps its
/// `/Parent`, for what it inherits). Returns how many times a node was reached again.
pub(super) fn unique_pages(doc: &mut Document) -> usize {
    let Some(root) = root(doc) else {
        return 0;
    };
    let (pages, repeated) = walk(doc, root);
    if repeated == 0 {
        return 0;
    }
    let Ok(Object::Dictionary(tree)) = doc.get_object_mut(root) else {
        return 0;
    };
    let count = pages.len() as i64;
    tree.set(
        "Kids",
        pages.into_iter().map(Object::Reference).collect::<Vec<_>>(),
    );
    tree.set("Count", count);
    repeated
}

/// The root of the page tree: the catalog's `/Pages`.
fn root(doc: &Document) -> Option<ObjectId> {
    doc.catalog().ok()?.get(b"Pages").ok()?.as_reference().ok()
}

/// The pages under `root` in order, each once, and how many times a page or a node was
/// reached again.
fn walk(doc: &Document, root: ObjectId) -> (Vec<ObjectId>, usize) {
    let mut seen = HashSet::from([root]);
    let mut pages = Vec::new();
    let mut repeated = 0;
    // The kids left to read at each level, the deepest last.
    let mut stack: Vec<std::slice::Iter<'_, Object>> = vec![kids(doc, root).iter()];
    while let Some(level) = stack.last_mut() {
        let Some(kid) = level.next() else {
            stack.pop();
            continue;
        };
        let Ok(id) = kid.as_reference() else {
            continue;
        };
        let Some(kind) = doc.get_dictionary(id).ok().and_then(|d| d.get_type().ok()) else {
            continue;
        };
        if kind != b"Page" && kind != b"Pages" {
            continue;
        }
        if !seen.insert(id) {
            repeated += 1;
            continue;
        }
        if kind == b"Page" {
            pages.push(id);
        } else if stack.len() < MAX_DEPTH {
            stack.push(kids(doc, id).iter());
        }
    }
    (pages, repeated)
}

/// The `/Kids` of page tree node `id`.
fn kids(doc: &Document, id: ObjectId) -> &[Object] {
    doc.get_dictionary(id)
        .and_then(|node| node.get_deref(b"Kids", doc))
        .and_then(Object::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}
