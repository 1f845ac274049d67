//! The hybrid index: Tantivy BM25 plus an hnsw_rs vector graph, updated by document and
//! switched atomically, queried by BM25, vector or both fused.

pub mod analysis;
pub mod directory;
pub mod distance;
pub mod fusion;
pub mod hybrid;
pub mod text;
pub mod vectors;

use serde::{Deserialize, Serialize};

pub use fusion::Fusion;
pub use hybrid::{HybridIndex, IndexUpdate, Switch, UpdateStats};

/// Why the index could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct IndexError {
    /// What went wrong and what to do.
    pub message: String,
}

impl IndexError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        IndexError {
            message: message.into(),
        }
    }
}

fn default_m() -> usize {
    16
}
fn default_ef_construction() -> usize {
    200
}
fn default_ef_search() -> usize {
    128
}
fn default_true() -> bool {
    true
}
/// Title and section words rank the chunks their own text finds; weighed at half a word of the
/// text, as measured: at 2 and 1.5, a question word in some document's title brought up that
/// document's chunks above the answer (a tester's 50 questions over the corpus: 44 right
/// documents first, 49 at 0.5; Cranfield BM25 nDCG@10 0.366, 0.383 at 0.5).
fn default_title_boost() -> f32 {
    0.5
}
fn default_section_boost() -> f32 {
    0.5
}
fn default_rebuild_threshold() -> f64 {
    0.2
}
fn default_candidates() -> usize {
    100
}

/// Settings of `index.hybrid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    /// HNSW: links per node.
    #[serde(default = "default_m")]
    #[schemars(range(min = 2, max = 255))]
    pub m: usize,
    /// HNSW: candidates explored while building (at most 10,000).
    #[serde(default = "default_ef_construction")]
    #[schemars(range(min = 1, max = 10_000))]
    pub ef_construction: usize,
    /// HNSW: candidates explored while searching (at least `k`; at most 10,000).
    #[serde(default = "default_ef_search")]
    #[schemars(range(min = 1, max = 10_000))]
    pub ef_search: usize,
    /// Reduce words to their English stems for BM25.
    #[serde(default = "default_true")]
    pub stemmer: bool,
    /// Drop English stop words for BM25.
    #[serde(default = "default_true")]
    pub stopwords: bool,
    /// Fold accented letters to ASCII for BM25 (`cafe` finds "café").
    #[serde(default = "default_true")]
    pub fold_accents: bool,
    /// Cut runs of Chinese, Japanese, Korean, Thai, Lao, Khmer and Burmese text into
    /// overlapping two-letter terms for BM25 (such text has no spaces between words).
    #[serde(default = "default_true")]
    pub cjk_bigrams: bool,
    /// BM25 weight of a match in the document title (0 to 1,000), for chunks whose text
    /// matches the query.
    #[serde(default = "default_title_boost")]
    #[schemars(range(min = 0.0, max = 1000.0))]
    pub title_boost: f32,
    /// BM25 weight of a match in the section path (0 to 1,000), for chunks whose text matches
    /// the query.
    #[serde(default = "default_section_boost")]
    #[schemars(range(min = 0.0, max = 1000.0))]
    pub section_boost: f32,
    /// Rebuild the vector graph when this share of its points are tombstones.
    #[serde(default = "default_rebuild_threshold")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub rebuild_threshold: f64,
    /// How deep vector search and each list hybrid mode fuses go, whatever `-k` asks (a larger
    /// `-k` goes that deep): up to this many hits, a query's hits are the first of one ranking.
    #[serde(default = "default_candidates")]
    #[schemars(range(min = 1, max = 10_000))]
    pub candidates: usize,
    /// Index chunks made only of table of contents entries (headings and page breaks aside).
    /// Off by default: such a chunk holds the words of every section title it lists and
    /// outranks the sections themselves. Left out, it stays in the chunk step's output.
    #[serde(default)]
    pub contents: bool,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            m: default_m(),
            ef_construction: default_ef_construction(),
            ef_search: default_ef_search(),
            stemmer: true,
            stopwords: true,
            fold_accents: true,
            cjk_bigrams: true,
            title_boost: default_title_boost(),
            section_boost: default_section_boost(),
            rebuild_threshold: default_rebuild_threshold(),
            candidates: default_candidates(),
            contents: false,
        }
    }
}

/// The fields of a hit `--filter` matches besides metadata keys (all but
/// [`OWN_FIELDS`] also match metadata of those names).
pub const FILTER_FIELDS: [&str; 6] = ["doc_id", "chunk_id", "source", "page", "title", "section"];

/// The fields a filter matches on the hit alone: metadata of these names cannot be filtered.
pub const OWN_FIELDS: [&str; 2] = ["doc_id", "chunk_id"];

/// The page number a `page` filter's value writes, in plain digits: a whole number, however
/// written (`01`, `1.0`), and however large (one past every page passes nothing); anything
/// else is refused with a message.
pub fn page_filter(value: &str) -> Result<String, IndexError> {
    let refused = || {
        IndexError::new(format!(
            "page `{value}` is not a page number: filter by a whole number (e.g. --filter page=3)"
        ))
    };
    match text::number(value).ok_or_else(refused)? {
        tantivy::columnar::NumericalValue::I64(page) if page >= 0 => Ok(page.to_string()),
        tantivy::columnar::NumericalValue::U64(page) => Ok(page.to_string()),
        tantivy::columnar::NumericalValue::F64(page)
            if page.is_finite() && page >= 0.0 && page.fract() == 0.0 =>
        {
            Ok(format!("{page:.0}"))
        }
        _ => Err(refused()),
    }
}

/// What a hit shows, stored with every chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredHit {
    /// The chunk.
    pub chunk_id: String,
    /// Its document.
    pub doc_id: String,
    /// Where the document came from.
    pub source: String,
    /// The document's title.
    pub title: Option<String>,
    /// Headings above the chunk.
    pub section: Vec<String>,
    /// First page of the chunk, for paged formats.
    pub page: Option<u32>,
    /// The chunk's text.
    pub text: String,
}

/// One chunk to index.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What hits show.
    pub hit: StoredHit,
    /// Metadata; string, number and boolean values can be filtered on.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The first and last page the chunk covers, for paged formats: `--filter page=N` finds
    /// it on each.
    pub pages: Option<[u32; 2]>,
    /// Every section path the chunk covers ([`crate::model::Chunk::sections`]): `--filter
    /// section=X` finds it under each. Empty: the hit's `section` alone.
    pub sections: Vec<Vec<String>>,
    /// The chunk's vector.
    pub vector: Vec<f32>,
}

/// How to rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// BM25 only.
    Bm25,
    /// Vector similarity only.
    Vector,
    /// Both, fused.
    Hybrid,
}

/// One result of a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// 1-based rank.
    pub rank: usize,
    /// The mode's score (BM25, cosine similarity or fused).
    pub score: f32,
    /// The chunk and what it shows.
    #[serde(flatten)]
    pub stored: StoredHit,
    /// Where a hybrid hit stood in the two lists fused into it (hybrid mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explain>,
    /// The chunks around it in its document, when asked for ([`HybridIndex::context`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
}

/// The chunks before and after a hit in its document, nearest last and first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Context {
    /// The chunks before it, in document order.
    pub before: Vec<StoredHit>,
    /// The chunks after it, in document order.
    pub after: Vec<StoredHit>,
}

/// Where a hybrid hit stood in each of the two lists fused into it, in the round of the search
/// that ranked it: `None` where a list does not hold it (BM25: no query word in the chunk, or
/// past the list's depth; vector: past the list's depth).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Explain {
    /// In the BM25 list.
    pub bm25: Option<ListPlace>,
    /// In the vector list.
    pub vector: Option<ListPlace>,
}

/// A chunk's place in one ranked list: its rank (from 1) and its score there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ListPlace {
    /// 1-based rank in the list.
    pub rank: usize,
    /// BM25 score, or cosine similarity.
    pub score: f32,
}
