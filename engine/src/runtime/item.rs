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
    /// The document this item belongs to.
    pub fn doc_id(&self) -> &str {
        match self {
            Item::Document(doc) => &doc.doc_id,
            Item::Parsed(doc) => &doc.doc_id,
            Item::Chunks(set) => &set.doc_id,
            Item::Embedded(set) => &set.doc_id,
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
