//! The items that flow between operators: raw documents, parsed documents, chunks and embedded
//! chunks.
//!
//! Field names are a contract: `sink.jsonl` writes these types as they serialize here.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Free-form metadata attached to a document and inherited by everything derived from it.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// The format of a document's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Plain text.
    Text,
    /// Markdown (CommonMark with tables).
    Markdown,
    /// HTML.
    Html,
    /// PDF.
    Pdf,
    /// Office Open XML word processing document.
    Docx,
}

impl Format {
    /// The lowercase name used in JSON and YAML.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
        }
    }
}

/// A document as a source found it: its identity, its bytes and what is known about it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document {
    /// Stable identifier: the path relative to the source root, or the record id.
    pub doc_id: String,
    /// Where it came from, for people: a path, or `file.jsonl:line`.
    pub source: String,
    /// The format when the source knows it (a JSONL record is text); otherwise detected by `parse`.
    pub format: Option<Format>,
    /// The title when the source knows it.
    pub title: Option<String>,
    /// blake3 of the bytes, hex.
    pub hash: String,
    /// The content itself.
    #[serde(skip)]
    pub bytes: Arc<[u8]>,
    /// Metadata from the source.
    pub metadata: Metadata,
}

impl Document {
    /// Builds a document and computes its content hash.
    pub fn new(doc_id: String, source: String, bytes: Vec<u8>) -> Self {
        let hash = blake3::hash(&bytes).to_hex().to_string();
        Document {
            doc_id,
            source,
            format: None,
            title: None,
            hash,
            bytes: bytes.into(),
            metadata: Metadata::new(),
        }
    }
}

/// What a structural element of a parsed document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementKind {
    /// A heading; `level` is 1..=6.
    Heading,
    /// A paragraph of running text.
    Paragraph,
    /// One item of a list; `depth` and `ordered` say where and how.
    ListItem,
    /// A table; `rows` holds its cells.
    Table,
    /// A code block; `language` when known.
    Code,
    /// A block quote.
    Quote,
    /// An image; `text` is its alt text.
    Image,
    /// A page boundary (formats with pages).
    PageBreak,
    /// An entry of a table of contents (`3.1 Programs . . . 8`), or other text on its pages.
    ContentsEntry,
}

impl ElementKind {
    /// The snake_case name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            ElementKind::Heading => "heading",
            ElementKind::Paragraph => "paragraph",
            ElementKind::ListItem => "list_item",
            ElementKind::Table => "table",
            ElementKind::Code => "code",
            ElementKind::Quote => "quote",
            ElementKind::Image => "image",
            ElementKind::PageBreak => "page_break",
            ElementKind::ContentsEntry => "contents_entry",
        }
    }
}

/// The point where an element's text goes on to the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageContinuation {
    /// The 1-based page the text goes on to.
    pub page: u32,
    /// Byte offset in the document's `markdown` where the text on that page starts.
    pub at: usize,
}

/// One structural element of a parsed document, in reading order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    /// What it is.
    pub kind: ElementKind,
    /// Its plain text (no markup).
    pub text: String,
    /// Heading level (1..=6), for headings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    /// 1-based page number, for formats with pages: the page the element starts on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Where the element runs on over page breaks (a sentence cut by the end of a page), in
    /// order; empty when it stays on `page`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub continued: Vec<PageContinuation>,
    /// Nesting depth of a list item (0 = top level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    /// Whether a list item belongs to an ordered list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered: Option<bool>,
    /// Whether a task-list item's box is checked (`- [x]`), for items with a check box.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<bool>,
    /// The language of a code block, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The cells of a table, row by row (the first row is the header when there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<Vec<String>>>,
    /// The headings above this element, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub section: Vec<String>,
    /// Byte range of this element in the document's `markdown`.
    pub span: [usize; 2],
}

impl Element {
    /// An element of `kind` with `text` at `span`, every optional field empty.
    pub fn new(kind: ElementKind, text: impl Into<String>, span: [usize; 2]) -> Self {
        Element {
            kind,
            text: text.into(),
            level: None,
            page: None,
            continued: Vec::new(),
            depth: None,
            ordered: None,
            checked: None,
            language: None,
            rows: None,
            section: Vec::new(),
            span,
        }
    }

    /// The first and last page of this element's text within `span` (a byte range of the
    /// markdown), following its continuations; `None` for elements without a page.
    pub fn pages_within(&self, span: [usize; 2]) -> Option<[u32; 2]> {
        let first = self.page?;
        let start = span[0].max(self.span[0]);
        let end = span[1].min(self.span[1]).max(start);
        // The page of the byte at `position`: that of the last continuation at or before it.
        let page_at = |position: usize| {
            self.continued
                .iter()
                .take_while(|c| c.at <= position)
                .last()
                .map_or(first, |c| c.page)
        };
        // A range ends before its `end` byte: ending at a continuation point, it does not
        // reach that page.
        let lo = page_at(start);
        let hi = page_at(end.saturating_sub(1)).max(lo);
        Some([lo, hi])
    }
}

/// A document turned into ordered structure plus a Markdown rendering of the whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParsedDocument {
    /// Identifier inherited from the [`Document`].
    pub doc_id: String,
    /// Where it came from.
    pub source: String,
    /// The detected format.
    pub format: Format,
    /// The title: from the source, the document's metadata or its first heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Markdown rendering that keeps the structure; element and chunk spans index it in bytes.
    pub markdown: String,
    /// Structural elements in reading order.
    pub elements: Vec<Element>,
    /// Document metadata (source metadata plus what the parser found, e.g. front matter).
    pub metadata: Metadata,
    /// Content hash of the input document.
    pub hash: String,
    /// What parsing found worth knowing; kept out of `metadata`, so chunks do not inherit it.
    #[serde(default)]
    pub debug: ParseDebug,
}

/// Debug information of one parse: what was produced, how long it took, what went wrong.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParseDebug {
    /// Element counts by kind, characters and format-specific figures (pages…).
    pub stats: Metadata,
    /// Problems the parser recovered from (e.g. "page 4 has no extractable text: scanned image?").
    pub warnings: Vec<String>,
}

/// One piece of a document, sized for retrieval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Stable id: hash of doc_id, the chunk step's fingerprint and the span.
    pub chunk_id: String,
    /// The document it comes from.
    pub doc_id: String,
    /// Position among the document's chunks, from 0.
    pub ordinal: usize,
    /// The text shown to users; equals `markdown[span]` of the parsed document.
    pub text: String,
    /// The text to embed when it differs from `text`: the document title and section path
    /// (`context_header`) and, for the continuation of a split table, its header row, followed
    /// by `text` with its links and images as what they show (`[text](url)` reads `text`).
    /// Absent when `text` itself is what gets embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed_text: Option<String>,
    /// Byte range in the parsed document's `markdown`.
    pub span: [usize; 2],
    /// The headings above the chunk's start (its first visible content), outermost first.
    pub section: Vec<String>,
    /// Every section path the chunk's text covers, in document order, `section` first, when
    /// that is more than `section` alone: a chunk that holds a heading (an empty section
    /// merged with the next one, a section that begins inside the chunk) covers that heading's
    /// section too. Absent when it would be `[section]`; see [`Chunk::sections`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<Vec<String>>>,
    /// First and last page the chunk touches, for formats with pages.
    pub pages: Option<[u32; 2]>,
    /// The chunk's size in the step's unit.
    pub tokens: usize,
    /// Kinds of the elements the chunk overlaps, in order of first appearance.
    pub kinds: Vec<ElementKind>,
    /// Metadata inherited from the document.
    pub metadata: Metadata,
}

/// All chunks of one document, the item a chunking step emits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkSet {
    /// The document the chunks come from.
    pub doc_id: String,
    /// Where the document came from.
    pub source: String,
    /// The document's title.
    pub title: Option<String>,
    /// Content hash of the parsed document's input.
    pub hash: String,
    /// The chunks in document order.
    pub chunks: Vec<Chunk>,
    /// What the chunker did with this document, for people (`engine inspect`): the strategy
    /// and why, chunk count, size distribution, chunks under `min_size`, chunks ending
    /// mid-sentence, oversized units. Not part of the JSONL chunk contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<ChunkDebug>,
}

/// What the chunker did with one document. Serializes as an object with the fields in order,
/// empty lists and absent values left out, `extra`'s entries last; older stores hold the same
/// object as a generic map, which reads back the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkDebug {
    /// The operator's strategy (`smart` for chunk.smart).
    pub strategy: Cow<'static, str>,
    /// The strategy that cut this document (smart's choice, or a fallback).
    pub used: Cow<'static, str>,
    /// Why (smart's reasons, section and page counts, semantic figures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Set when the strategy could not apply (e.g. by_page on a document without pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The unit of every size here.
    pub unit: Cow<'static, str>,
    /// The configured size.
    pub size: usize,
    /// The configured overlap.
    pub overlap: usize,
    /// The configured min_size.
    pub min_size: usize,
    /// Number of chunks.
    pub chunks: usize,
    /// Smallest, median and largest chunk, in the unit (absent without chunks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<ChunkSizes>,
    /// Chunks smaller than `min_size` (that could not merge).
    pub under_min_size: usize,
    /// Chunks that end inside a sentence: not on terminal punctuation nor at a line end.
    pub mid_sentence_ends: usize,
    /// Table chunks: a table or a part of one, maybe led by its headings.
    pub table_chunks: usize,
    /// Chunks larger than `size`: single chars worth more than `size` tokens, which cannot
    /// be divided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oversized: Vec<OversizedChunk>,
    /// Strategy-specific figures (semantic: sentences, breakpoints, threshold, embedder),
    /// serialized as entries of the record itself.
    #[serde(flatten)]
    pub extra: Metadata,
}

/// Size distribution of a document's chunks, in the step's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkSizes {
    /// The smallest chunk.
    pub min: usize,
    /// The median chunk (the upper one of an even count).
    pub median: usize,
    /// The largest chunk.
    pub max: usize,
}

/// A chunk larger than the step's `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OversizedChunk {
    /// Its position among the document's chunks.
    pub ordinal: usize,
    /// Its size in the step's unit.
    pub size: usize,
}

impl Chunk {
    /// Whether the chunk is made only of table of contents entries, headings and page breaks
    /// aside.
    pub fn is_contents(&self) -> bool {
        self.kinds.contains(&ElementKind::ContentsEntry)
            && self.kinds.iter().all(|kind| {
                matches!(
                    kind,
                    ElementKind::ContentsEntry | ElementKind::Heading | ElementKind::PageBreak
                )
            })
    }

    /// Every section path the chunk covers: `sections` when set, else `section` alone.
    pub fn sections(&self) -> &[Vec<String>] {
        match &self.sections {
            Some(sections) => sections,
            None => std::slice::from_ref(&self.section),
        }
    }

    /// The text to embed: `embed_text` when set, otherwise `text`.
    pub fn text_to_embed(&self) -> &str {
        self.embed_text.as_deref().unwrap_or(&self.text)
    }
}

/// One chunk with its vector; serializes as the chunk's fields plus `"vector"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddedChunk {
    /// The chunk, unchanged.
    #[serde(flatten)]
    pub chunk: Chunk,
    /// Its embedding (L2-normalised unless the step says `normalize: false`).
    pub vector: Vec<f32>,
}

/// All chunks of one document with their vectors, the item an embedding step emits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddedSet {
    /// The document the chunks come from.
    pub doc_id: String,
    /// Where the document came from.
    pub source: String,
    /// The document's title.
    pub title: Option<String>,
    /// Content hash of the parsed document's input.
    pub hash: String,
    /// The embedding provider's fingerprint (provider, model and every setting that changes vectors).
    pub model: String,
    /// The scope its vectors are cached under when it is not `model` (a model that embeds each
    /// text alone, see `Embedder::cache_scope`): `engine gc` keeps the vectors under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<String>,
    /// Length of every vector.
    pub dimensions: usize,
    /// The chunks in document order.
    pub chunks: Vec<EmbeddedChunk>,
    /// How the vectors were computed.
    pub debug: EmbedDebug,
}

/// How one document's vectors were computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedDebug {
    /// Chunks whose vector came from the cache, or from an identical text embedded in the same
    /// call (of this document or another one batched with it).
    pub cached: usize,
    /// Chunks whose text was cut to the model's `max_tokens`.
    pub truncated: usize,
    /// This document's share of its batches' wall-clock seconds (each text an equal part of its
    /// batch).
    pub seconds: f64,
    /// Every batch the document's texts ran in; batches mix texts of several documents.
    pub batches: Vec<BatchDebug>,
}

/// What one batch sent to an embedding provider cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchDebug {
    /// Texts in the batch.
    pub size: usize,
    /// Tokens per text after padding (local models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padded_len: Option<usize>,
    /// Real (unpadded) tokens in the batch (local models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<usize>,
    /// Wall-clock seconds, tokenizing to vectors.
    pub seconds: f64,
    /// `tokens / seconds` (local models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_second: Option<f64>,
    /// Texts cut to `max_tokens`.
    pub truncated: usize,
    /// Attempts that failed and were retried (remote providers).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The documents that failed in a run, as sinks are told them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailedDocuments {
    /// Ids of documents that failed (`""`: a whole source failed, so every document may have).
    pub ids: HashSet<String>,
    /// Folders that could not be listed, each ending in `/`: every document whose id starts
    /// with one failed.
    pub folders: Vec<String>,
}

impl FailedDocuments {
    /// Whether a whole source failed: no document not seen in the run may be taken as gone.
    pub fn everything(&self) -> bool {
        self.ids.contains("")
    }

    /// Whether `doc_id` failed in the run (itself, below a folder that failed, or in a source
    /// that failed as a whole).
    pub fn contains(&self, doc_id: &str) -> bool {
        self.everything()
            || self.ids.contains(doc_id)
            || self
                .folders
                .iter()
                .any(|folder| doc_id.starts_with(folder.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a chunk of contents entries, headings and page breaks is contents; one that holds
    /// running text too (the end of the contents and the start of chapter 1) is not.
    #[test]
    fn a_chunk_is_contents_when_it_holds_nothing_else() {
        use ElementKind::{ContentsEntry, Heading, PageBreak, Paragraph};
        let chunk = |kinds: &[ElementKind]| Chunk {
            chunk_id: "c".into(),
            doc_id: "d".into(),
            ordinal: 0,
            text: String::new(),
            embed_text: None,
            span: [0, 0],
            section: Vec::new(),
            sections: None,
            pages: None,
            tokens: 0,
            kinds: kinds.to_vec(),
            metadata: Metadata::new(),
        };
        assert!(chunk(&[Heading, ContentsEntry, PageBreak]).is_contents());
        assert!(chunk(&[ContentsEntry]).is_contents());
        assert!(!chunk(&[ContentsEntry, PageBreak, Heading, Paragraph]).is_contents());
        assert!(!chunk(&[Heading, PageBreak]).is_contents());
        assert!(!chunk(&[]).is_contents());
    }

    #[test]
    fn pages_within_follow_the_continuations_a_range_reaches() {
        let mut element = Element::new(ElementKind::Paragraph, "a b c", [10, 40]);
        assert_eq!(element.pages_within([0, 100]), None, "no page, no pages");
        element.page = Some(2);
        assert_eq!(element.pages_within([0, 100]), Some([2, 2]));
        element.continued = vec![
            PageContinuation { page: 3, at: 20 },
            PageContinuation { page: 4, at: 30 },
        ];
        assert_eq!(element.pages_within([0, 100]), Some([2, 4]));
        assert_eq!(element.pages_within([10, 20]), Some([2, 2]));
        assert_eq!(element.pages_within([15, 25]), Some([2, 3]));
        assert_eq!(element.pages_within([20, 30]), Some([3, 3]));
        assert_eq!(element.pages_within([25, 35]), Some([3, 4]));
        assert_eq!(element.pages_within([35, 35]), Some([4, 4]));
    }

    /// A parsed document without a title leaves `title` out, as the output contract says
    /// (`"title"?`), and one written before with `"title": null` still reads.
    #[test]
    fn an_untitled_document_leaves_its_title_out() {
        let doc = ParsedDocument {
            doc_id: "d".into(),
            source: "d".into(),
            format: Format::Text,
            title: None,
            markdown: String::new(),
            elements: Vec::new(),
            metadata: Metadata::new(),
            hash: "h".into(),
            debug: ParseDebug::default(),
        };
        let json = serde_json::to_value(&doc).unwrap();
        assert!(json.get("title").is_none(), "{json}");
        let mut old = json.clone();
        old["title"] = serde_json::Value::Null;
        let read: ParsedDocument = serde_json::from_value(old).unwrap();
        assert_eq!(read.title, None);
    }
}
