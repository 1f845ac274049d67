//! Embedding: turning texts into vectors.
//!
//! Every provider (local ONNX models, OpenAI-compatible HTTP, the built-in hash embedder)
//! implements [`Embedder`]; chunkers that need similarities (semantic chunking) and the `embed`
//! operator use providers only through it. [`Embed`] is the operator: it picks the text of each
//! chunk, skips texts the [`cache`] already holds, and attaches a vector and debug figures to
//! each document's chunks.

pub mod cache;
pub mod http;
pub mod onnx;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::model::{BatchDebug, Chunk, ChunkSet, EmbedDebug, EmbeddedChunk, EmbeddedSet};
use cache::{CacheKey, LruCache, NoCache, VectorCache};
pub use http::{HttpConfig, HttpEmbedder};
pub use onnx::{OnnxConfig, OnnxEmbedder, Pooling};

pub mod hash;

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct EmbedError {
    /// What went wrong and what to do.
    pub message: String,
}

impl EmbedError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        EmbedError {
            message: message.into(),
        }
    }
}

/// Vectors for a list of texts, with what computing them cost.
#[derive(Debug, Clone, Default)]
pub struct Embeddings {
    /// One vector per text, in the order of the texts.
    pub vectors: Vec<Vec<f32>>,
    /// One entry per batch the provider ran.
    pub batches: Vec<BatchDebug>,
}

/// A text embedding provider.
pub trait Embedder: Send + Sync {
    /// Identifies the provider, its model and every setting that changes vectors; two embedders
    /// with equal fingerprints give equal vectors for equal texts (cache keys use it).
    fn fingerprint(&self) -> String;

    /// Embeds texts to be stored and searched (with the document prefix, if any).
    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;

    /// Embeds one search query (with the query prefix, if any).
    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError>;

    /// Like [`Embedder::embed_documents`], with per-batch debug figures. Providers that batch
    /// override it; the default reports the whole call as one batch.
    fn embed_documents_debug(&self, texts: &[&str]) -> Result<Embeddings, EmbedError> {
        let started = Instant::now();
        let vectors = self.embed_documents(texts)?;
        Ok(Embeddings {
            vectors,
            batches: vec![BatchDebug {
                size: texts.len(),
                seconds: started.elapsed().as_secs_f64(),
                ..BatchDebug::default()
            }],
        })
    }
}

/// Scales `vector` to unit length (a zero vector stays zero).
pub fn l2_normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The text of a chunk that is embedded: its `embed_text` (enriched for retrieval, e.g. with
/// the title and section path, or a repeated table header) when the chunker set one, else its
/// text.
pub fn text_to_embed(chunk: &Chunk) -> &str {
    chunk.embed_text.as_deref().unwrap_or(&chunk.text)
}

/// Settings of the `embed` operator: a provider and its keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum EmbedConfig {
    /// A local ONNX model (e.g. `just setup`'s bge-small-en-v1.5) run by onnxruntime.
    Onnx(OnnxConfig),
    /// An OpenAI-compatible `/embeddings` endpoint.
    Http(HttpConfig),
    /// Built in and model-free: signed feature hashing of word unigrams and bigrams (tests,
    /// demos without a model, a lexical baseline).
    Hash(hash::HashConfig),
}

/// The default number of vectors a step keeps in its in-memory cache.
pub const DEFAULT_CACHE_ENTRIES: usize = 100_000;

pub(crate) fn default_cache_entries() -> usize {
    DEFAULT_CACHE_ENTRIES
}

pub(crate) fn default_true() -> bool {
    true
}

impl EmbedConfig {
    /// Problems with the settings that the schema cannot express, as (key, message) pairs;
    /// paths are resolved against `base` (the pipeline's folder).
    pub fn problems(&self, base: &Path) -> Vec<(&'static str, String)> {
        match self {
            EmbedConfig::Onnx(config) => config.problems(base),
            EmbedConfig::Http(config) => config.problems(),
            EmbedConfig::Hash(config) => config.problems(),
        }
    }

    fn cache_entries(&self) -> usize {
        match self {
            EmbedConfig::Onnx(config) => config.cache_entries,
            EmbedConfig::Http(config) => config.cache_entries,
            // Hashing is cheaper than a cache lookup.
            EmbedConfig::Hash(_) => 0,
        }
    }

    /// Builds the provider these settings describe.
    pub fn embedder(&self, base: &Path) -> Result<Arc<dyn Embedder>, EmbedError> {
        Ok(match self {
            EmbedConfig::Onnx(config) => Arc::new(OnnxEmbedder::new(config, base)?),
            EmbedConfig::Http(config) => Arc::new(HttpEmbedder::new(config)?),
            EmbedConfig::Hash(config) => Arc::new(hash::HashEmbedder::from_config(config)),
        })
    }
}

/// The `embed` operator: chunk sets in, chunk sets with vectors out.
pub struct Embed {
    embedder: Arc<dyn Embedder>,
    fingerprint: String,
    cache: Arc<dyn VectorCache>,
}

impl Embed {
    /// The operator for `config`, with its own in-memory cache of `cache_entries` vectors.
    pub fn new(config: &EmbedConfig, base: &Path) -> Result<Self, EmbedError> {
        let cache: Arc<dyn VectorCache> = match config.cache_entries() {
            0 => Arc::new(NoCache),
            entries => Arc::new(LruCache::new(entries)),
        };
        Ok(Embed::with_cache(config.embedder(base)?, cache))
    }

    /// The operator for any provider and cache.
    pub fn with_cache(embedder: Arc<dyn Embedder>, cache: Arc<dyn VectorCache>) -> Self {
        Embed {
            fingerprint: embedder.fingerprint(),
            embedder,
            cache,
        }
    }

    /// The provider.
    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    /// Embeds every chunk of `set`: texts found in the cache (or repeated in the document) are
    /// not sent to the provider again.
    pub fn embed_set(&self, set: &ChunkSet) -> Result<EmbeddedSet, EmbedError> {
        let started = Instant::now();
        let texts: Vec<&str> = set.chunks.iter().map(text_to_embed).collect();
        let mut vectors: Vec<Option<Arc<[f32]>>> = vec![None; texts.len()];
        // Texts to compute, each once, with the chunks that use it.
        let mut missing: Vec<&str> = Vec::new();
        let mut users: Vec<Vec<usize>> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut cached = 0;
        for (index, text) in texts.iter().enumerate() {
            if let Some(&slot) = seen.get(text) {
                users[slot].push(index);
                cached += 1;
                continue;
            }
            if let Some(vector) = self.cache.get(&CacheKey::new(&self.fingerprint, text)) {
                vectors[index] = Some(vector);
                cached += 1;
                continue;
            }
            seen.insert(text, missing.len());
            missing.push(text);
            users.push(vec![index]);
        }
        let mut batches = Vec::new();
        if !missing.is_empty() {
            let computed = self.embedder.embed_documents_debug(&missing)?;
            if computed.vectors.len() != missing.len() {
                return Err(EmbedError::new(format!(
                    "the provider returned {} vectors for {} texts",
                    computed.vectors.len(),
                    missing.len()
                )));
            }
            batches = computed.batches;
            for ((text, vector), indexes) in missing.iter().zip(computed.vectors).zip(&users) {
                let vector: Arc<[f32]> = vector.into();
                self.cache
                    .put(CacheKey::new(&self.fingerprint, text), vector.clone());
                for &index in indexes {
                    vectors[index] = Some(vector.clone());
                }
            }
        }
        let dimensions = vectors
            .iter()
            .flatten()
            .map(|vector| vector.len())
            .next()
            .unwrap_or(0);
        let mut chunks = Vec::with_capacity(set.chunks.len());
        for (chunk, vector) in set.chunks.iter().zip(vectors) {
            let vector = vector.ok_or_else(|| EmbedError::new("a chunk got no vector"))?;
            if vector.len() != dimensions {
                return Err(EmbedError::new(format!(
                    "vectors of different lengths ({} and {dimensions}) for one document",
                    vector.len()
                )));
            }
            chunks.push(EmbeddedChunk {
                chunk: chunk.clone(),
                vector: vector.to_vec(),
            });
        }
        Ok(EmbeddedSet {
            doc_id: set.doc_id.clone(),
            source: set.source.clone(),
            title: set.title.clone(),
            hash: set.hash.clone(),
            model: self.fingerprint.clone(),
            dimensions,
            chunks,
            debug: EmbedDebug {
                cached,
                truncated: batches.iter().map(|batch| batch.truncated).sum(),
                seconds: started.elapsed().as_secs_f64(),
                batches,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Vectors from text lengths; counts the texts it is asked for.
    struct Counting(AtomicUsize);

    impl Embedder for Counting {
        fn fingerprint(&self) -> String {
            "counting".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            Ok(vec![text.len() as f32, 1.0])
        }
    }

    fn chunk(ordinal: usize, text: &str) -> Chunk {
        Chunk {
            chunk_id: format!("c{ordinal}"),
            doc_id: "d".to_owned(),
            ordinal,
            text: text.to_owned(),
            span: [0, text.len()],
            section: Vec::new(),
            pages: None,
            tokens: 1,
            kinds: Vec::new(),
            metadata: Default::default(),
            embed_text: None,
        }
    }

    fn set(texts: &[&str]) -> ChunkSet {
        ChunkSet {
            doc_id: "d".to_owned(),
            source: "d".to_owned(),
            title: None,
            hash: "h".to_owned(),
            chunks: texts.iter().enumerate().map(|(i, t)| chunk(i, t)).collect(),
            debug: None,
        }
    }

    #[test]
    fn identical_texts_are_embedded_once() {
        let provider = Arc::new(Counting(AtomicUsize::new(0)));
        let embed = Embed::with_cache(provider.clone(), Arc::new(LruCache::new(100)));
        let out = embed.embed_set(&set(&["a", "bb", "a"])).unwrap();
        assert_eq!(provider.0.load(Ordering::SeqCst), 2);
        assert_eq!(out.debug.cached, 1);
        assert_eq!(out.chunks[0].vector, out.chunks[2].vector);
        assert_eq!(out.chunks[1].vector, vec![2.0, 1.0]);
        assert_eq!(out.dimensions, 2);
        let again = embed.embed_set(&set(&["bb", "ccc"])).unwrap();
        assert_eq!(
            provider.0.load(Ordering::SeqCst),
            3,
            "bb came from the cache"
        );
        assert_eq!(again.debug.cached, 1);
        let value = serde_json::to_value(&again.chunks[0]).unwrap();
        assert_eq!(value["text"], "bb");
        assert_eq!(value["chunk_id"], "c0");
        assert_eq!(value["vector"], serde_json::json!([2.0, 1.0]));
    }

    #[test]
    fn normalizing_gives_unit_length() {
        let mut v = vec![3.0, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut zero = vec![0.0, 0.0];
        l2_normalize(&mut zero);
        assert_eq!(zero, vec![0.0, 0.0]);
    }
}
