//! The items on the edges: cheap to clone (fan-out hands each consumer the same `Arc`).

use std::sync::Arc;

use operators::model::{ChunkSet, Document, EmbeddedSet, ParsedDocument};

use crate::registry::ItemType;

/// One item flowing between steps.
#[derive(Debug, Clone)]
pub enum Item {
    /// A raw document.
    Document(Arc<Document>),
    /// A parsed document.
    Parsed(Arc<ParsedDocument>),
    /// The chunks of one document.
    Chunks(Arc<ChunkSet>),
    /// The chunks of one document with their vectors.
    Embedded(Arc<EmbeddedSet>),
}

impl Item {
    /// How many chunks it holds (`None` for documents and parsed documents).
    pub fn chunks(&self) -> Option<usize> {
        match self {
            Item::Document(_) | Item::Parsed(_) => None,
            Item::Chunks(set) => Some(set.chunks.len()),
            Item::Embedded(set) => Some(set.chunks.len()),
        }
    }

    /// The problems the step that made it recovered from (a parsed document's warnings: an
    /// encoding guessed, a repeated front-matter key, damaged PDF pages…).
    pub fn warnings(&self) -> &[String] {
        match self {
            Item::Parsed(doc) => &doc.debug.warnings,
            Item::Document(_) | Item::Chunks(_) | Item::Embedded(_) => &[],
        }
    }

    /// The document this item belongs to.
    pub fn doc_id(&self) -> &str {
        match self {
            Item::Document(doc) => &doc.doc_id,
            Item::Parsed(doc) => &doc.doc_id,
            Item::Chunks(set) => &set.doc_id,
            Item::Embedded(set) => &set.doc_id,
        }
    }

    /// The content hash of the document it comes from (of its bytes as the source read them).
    pub fn content_hash(&self) -> &str {
        match self {
            Item::Document(doc) => &doc.hash,
            Item::Parsed(doc) => &doc.hash,
            Item::Chunks(set) => &set.hash,
            Item::Embedded(set) => &set.hash,
        }
    }

    /// A hash of everything that defines this item as a source emitted it: for a document, its
    /// id, origin, content hash, format, title and metadata.
    pub fn identity(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        match self {
            Item::Document(doc) => {
                let described = serde_json::to_vec(doc.as_ref()).unwrap_or_default();
                hasher.update(b"document\0");
                hasher.update(&described);
            }
            Item::Parsed(doc) => {
                hasher.update(b"parsed\0");
                hasher.update(&serde_json::to_vec(doc.as_ref()).unwrap_or_default());
            }
            Item::Chunks(set) => {
                hasher.update(b"chunks\0");
                hasher.update(&serde_json::to_vec(set.as_ref()).unwrap_or_default());
            }
            Item::Embedded(set) => {
                hasher.update(b"embedded\0");
                hasher.update(&serde_json::to_vec(set.as_ref()).unwrap_or_default());
            }
        }
        *hasher.finalize().as_bytes()
    }

    /// Its size in bytes where it is known without encoding it (a document's content).
    pub fn size_hint(&self) -> u64 {
        match self {
            Item::Document(doc) => doc.bytes.len() as u64,
            Item::Parsed(_) | Item::Chunks(_) | Item::Embedded(_) => 0,
        }
    }

    /// Its type.
    pub fn item_type(&self) -> ItemType {
        match self {
            Item::Document(_) => ItemType::Document,
            Item::Parsed(_) => ItemType::Parsed,
            Item::Chunks(_) => ItemType::Chunks,
            Item::Embedded(_) => ItemType::Embedded,
        }
    }
}
