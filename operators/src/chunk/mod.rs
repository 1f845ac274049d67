//! Chunking: splitting a [`ParsedDocument`] into [`Chunk`]s sized for retrieval.
//!
//! A [`Chunker`] runs one strategy ([`Strategy`]) with the shared [`Settings`]:
//!
//! - the strategy cuts the document into *regions*: the whole document (`recursive`),
//!   sections up to a heading level (`by_heading`), pages (`by_page`), or groups of sentences
//!   between drops in embedding similarity (`semantic`); `smart` picks one of the first three
//!   per document (`smart`); no region ends between a heading and its section's first content
//!   (`headings`);
//! - with `tables: own_chunk` every table is cut out of its region as a region of its own,
//!   led by the headings right before it (`tables`);
//! - a region that fits in `size` is one chunk; a larger one is split by the greedy recursive
//!   splitter (`recursive`, break levels from `breaks`: element starts, blank lines, lines,
//!   sentences, words; a line break that only wraps text (`softbreak`) is a sentence end or a
//!   word start; no break after a heading while its first content fits), with `overlap`, which
//!   stops at section starts, page changes and table edges (`barriers`); an oversized table is
//!   split between rows, its later parts repeating the header rows in `embed_text`, and no
//!   piece of a table is only markup such as a delimiter row or a lone `|` (`tables`);
//! - a piece of markup without visible text (a page marker, an `<a id>` anchor, link reference
//!   definitions) joins a neighbour when the result fits, else is left out (`markup`);
//! - chunks under `min_size` merge with a neighbour when the result fits (`assemble`);
//! - what a chunk inherits from the elements is worked out in `annotate`, and every chunk set
//!   gets a debug record (`debug`).
//!
//! Sizes are measured by a [`sizer::Sizer`] for the configured [`Unit`]; for tokens the
//! document is tokenized once ([`sizer::TokenSizer`]), for chars its chars are counted once
//! ([`sizer::DocumentCharSizer`]).
//!
//! `text == markdown[span]` holds for every chunk, and the chunks in order cover the document
//! but for whitespace and such left-out markup. What differs for embedding (the context
//! header, the repeated header row of a split table) goes into `embed_text` only.

mod annotate;
mod assemble;
mod barriers;
mod breaks;
mod config;
mod contents;
mod debug;
mod headings;
mod markup;
mod recursive;
mod scan;
mod semantic;
mod unshown;
pub use semantic::SENTENCE_CALLS;
pub mod sizer;
mod smart;
mod softbreak;
mod strategy;
mod tables;
mod tails;
mod wordwise;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use tokenizers::Tokenizer;

use crate::embed::cache::{CallCache, VectorCache};
use crate::embed::hash::HashEmbedder;
use crate::embed::{EmbedConfig, EmbedError, Embedder};
use crate::model::{ChunkSet, ParsedDocument};
use sizer::{DocumentCharSizer, Sizer, TokenSizer, WordSizer};

pub use config::{
    ByHeadingConfig, ByPageConfig, RecursiveConfig, SemanticConfig, Settings, SmartConfig, Tables,
    Unit,
};

/// Why a document could not be chunked, or a chunker not built.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    /// `unit: tokens` without a tokenizer.
    #[error("unit `tokens` needs a tokenizer (set `tokenizer` to a tokenizer.json)")]
    NoTokenizer,
    /// The tokenizer file could not be loaded.
    #[error("{0}")]
    Tokenizer(String),
    /// Tokenizing the document failed.
    #[error("{0}")]
    Tokenize(String),
    /// The embedding provider of `chunk.semantic` failed. Its error is said in the message,
    /// and so is no `source` (a chain would say it twice).
    #[error("embedding sentences failed: {0}")]
    Embed(EmbedError),
}

impl From<EmbedError> for ChunkError {
    fn from(err: EmbedError) -> Self {
        ChunkError::Embed(err)
    }
}

/// How a chunker cuts documents into regions.
#[derive(Clone)]
pub enum Strategy {
    /// The whole document, split by size at the best breaks.
    Recursive,
    /// One region per section, up to headings of `level`.
    ByHeading {
        /// The deepest heading level that starts a region.
        level: u8,
    },
    /// One region per page; documents without pages fall back to `Recursive`.
    ByPage,
    /// Regions between drops of embedding similarity between adjacent sentences.
    Semantic {
        /// Percentile of the adjacent-sentence distances above which a region ends.
        percentile: f64,
        /// Embeds the sentences.
        embedder: Arc<dyn Embedder>,
    },
    /// Picks `Recursive`, `ByHeading` or `ByPage` per document from its structure.
    Smart,
}

impl Strategy {
    /// The operator-style name (`recursive`, `by_heading`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Recursive => "recursive",
            Strategy::ByHeading { .. } => "by_heading",
            Strategy::ByPage => "by_page",
            Strategy::Semantic { .. } => "semantic",
            Strategy::Smart => "smart",
        }
    }
}

impl std::fmt::Debug for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::ByHeading { level } => write!(f, "ByHeading {{ level: {level} }}"),
            Strategy::Semantic {
                percentile,
                embedder,
            } => write!(
                f,
                "Semantic {{ percentile: {percentile}, embedder: {} }}",
                embedder.fingerprint()
            ),
            other => f.write_str(other.name()),
        }
    }
}

/// A chunking step, ready to run on documents: strategy, settings, tokenizer and the step's
/// fingerprint (which goes into every chunk_id).
#[derive(Debug, Clone)]
pub struct Chunker {
    strategy: Strategy,
    settings: Settings,
    tokenizer: Option<Arc<Tokenizer>>,
    fingerprint: String,
}

impl Chunker {
    /// A chunker; `tokenizer` is required with `unit: tokens` (the engine fills in the embed
    /// step's model's when the pipeline names none) and ignored otherwise.
    ///
    /// Settings with [`Settings::problems`] are clamped rather than rejected: size 0 counts as
    /// 1, the overlap as at most `size - 1`.
    pub fn new(
        strategy: Strategy,
        settings: Settings,
        tokenizer: Option<Arc<Tokenizer>>,
        fingerprint: impl Into<String>,
    ) -> Result<Self, ChunkError> {
        if settings.unit == Unit::Tokens && tokenizer.is_none() {
            return Err(ChunkError::NoTokenizer);
        }
        Ok(Chunker {
            strategy,
            settings,
            tokenizer,
            fingerprint: fingerprint.into(),
        })
    }

    /// The strategy.
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Chunks one document. Deterministic: the same document and chunker give the same
    /// chunks and ids.
    pub fn chunk(&self, doc: &ParsedDocument) -> Result<ChunkSet, ChunkError> {
        let text = doc.markdown.as_str();
        let (chars, tokens);
        let sizer: &dyn Sizer = match self.settings.unit {
            Unit::Chars => {
                chars = DocumentCharSizer::new(text);
                &chars
            }
            Unit::Words => &WordSizer,
            Unit::Tokens => {
                let tokenizer = self.tokenizer.as_deref().ok_or(ChunkError::NoTokenizer)?;
                tokens = TokenSizer::new(tokenizer, text).map_err(ChunkError::Tokenize)?;
                &tokens
            }
        };
        // A context header comes before the text of what gets embedded: room is kept for it,
        // so that the two are within `size` (beyond a model's positions, the end was cut off).
        let room = assemble::header_room(doc, sizer, &self.settings);
        let settings = self.settings.less(room);
        let mut work = strategy::Work::new(doc, sizer, &settings);
        let outcome = work.run(&self.strategy)?;
        let contents = std::mem::take(&mut work.contents);
        let links = std::mem::take(&mut work.links);
        let pieces = markup::absorb(work.into_pieces(), doc, sizer, &settings);
        let pieces = assemble::merge_small(pieces, text, sizer, &settings, &contents);
        Ok(assemble::chunk_set(
            doc,
            pieces,
            &links,
            sizer,
            &self.settings,
            room,
            &self.fingerprint,
            outcome,
            self.strategy.name(),
        ))
    }
}

/// Loads the tokenizer the settings name (relative to `base`), when `unit` is tokens.
pub fn load_tokenizer(
    settings: &Settings,
    base: &Path,
) -> Result<Option<Arc<Tokenizer>>, ChunkError> {
    match (settings.unit, &settings.tokenizer) {
        (Unit::Tokens, Some(path)) => sizer::load_tokenizer(&base.join(path))
            .map(|t| Some(Arc::new(t)))
            .map_err(ChunkError::Tokenizer),
        (Unit::Tokens, None) => Err(ChunkError::NoTokenizer),
        _ => Ok(None),
    }
}

impl RecursiveConfig {
    /// The chunker of these settings; paths are relative to `base`.
    pub fn chunker(&self, base: &Path, fingerprint: &str) -> Result<Chunker, ChunkError> {
        let settings = self.settings();
        let tokenizer = load_tokenizer(&settings, base)?;
        Chunker::new(Strategy::Recursive, settings, tokenizer, fingerprint)
    }
}

impl ByHeadingConfig {
    /// The chunker of these settings; paths are relative to `base`.
    pub fn chunker(&self, base: &Path, fingerprint: &str) -> Result<Chunker, ChunkError> {
        let settings = self.settings();
        let tokenizer = load_tokenizer(&settings, base)?;
        let level = self.level.clamp(1, 6);
        Chunker::new(
            Strategy::ByHeading { level },
            settings,
            tokenizer,
            fingerprint,
        )
    }
}

impl ByPageConfig {
    /// The chunker of these settings; paths are relative to `base`.
    pub fn chunker(&self, base: &Path, fingerprint: &str) -> Result<Chunker, ChunkError> {
        let settings = self.settings();
        let tokenizer = load_tokenizer(&settings, base)?;
        Chunker::new(Strategy::ByPage, settings, tokenizer, fingerprint)
    }
}

impl SemanticConfig {
    /// The chunker of these settings; paths are relative to `base`.
    pub fn chunker(&self, base: &Path, fingerprint: &str) -> Result<Chunker, ChunkError> {
        self.chunker_keeping(base, fingerprint, None)
    }

    /// [`SemanticConfig::chunker`], keeping the sentence vectors of a model in `cache` (one
    /// on disk, say), so that chunking a document again with other settings does not embed
    /// its sentences again. The built-in `hash` provider is faster than any cache, and skips it.
    pub fn chunker_keeping(
        &self,
        base: &Path,
        fingerprint: &str,
        cache: Option<Arc<dyn VectorCache>>,
    ) -> Result<Chunker, ChunkError> {
        let settings = self.settings();
        let tokenizer = load_tokenizer(&settings, base)?;
        let embedder: Arc<dyn Embedder> = match &self.embedding {
            Some(config) => config.embedder(base)?,
            None => Arc::new(HashEmbedder::from_config(&Default::default())),
        };
        let embedder = match (cache, &self.embedding) {
            (Some(cache), Some(config)) if !matches!(config, EmbedConfig::Hash(_)) => {
                CallCache::wrap(embedder, cache)
            }
            _ => embedder,
        };
        let strategy = Strategy::Semantic {
            percentile: self.breakpoint_percentile.clamp(0.0, 100.0),
            embedder,
        };
        Chunker::new(strategy, settings, tokenizer, fingerprint)
    }
}

impl SmartConfig {
    /// The chunker of these settings; paths are relative to `base`.
    pub fn chunker(&self, base: &Path, fingerprint: &str) -> Result<Chunker, ChunkError> {
        let settings = self.settings();
        let tokenizer = load_tokenizer(&settings, base)?;
        Chunker::new(Strategy::Smart, settings, tokenizer, fingerprint)
    }
}
