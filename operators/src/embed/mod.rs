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
mod positions;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::model::{BatchDebug, Chunk, ChunkSet, EmbedDebug, EmbeddedChunk, EmbeddedSet};
use cache::{CacheKey, LruCache, NoCache, VectorCache};
pub use http::{HttpConfig, HttpEmbedder};
pub use onnx::{OnnxConfig, OnnxEmbedder, Pooling};

pub mod hash;

/// Why texts could not be embedded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct EmbedError {
    /// What went wrong and what to do.
    pub message: String,
    /// The provider could not be reached, or kept failing through its retries: nothing to do
    /// with the texts, so asking again for fewer of them would fail the same way.
    pub unavailable: bool,
    /// The work stopped on request ([`crate::stop`]) before it was done: not a failure.
    pub stopped: bool,
    /// The provider kept failing on its side (5xx, timeouts, broken connections) through its
    /// retries: perhaps down, perhaps failing on one text, so the documents of the call are
    /// tried alone, once each, until a few in a row fail the same way (see [`Embed`]).
    pub server_fault: bool,
    /// What the provider's endpoint did, when the failure is its (a server answering the
    /// engine's requests passes it on as a gateway error rather than its own).
    pub upstream: Option<Upstream>,
    /// The request the provider gave up on, when it gave up through its retries: the message
    /// is composed from it, and a document tried alone after its call failed tells both.
    pub gave_up: Option<GaveUp>,
}

/// A request sent `attempts` times, the last failing because of `last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaveUp {
    /// How many times the request was sent.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last: String,
}

impl GaveUp {
    /// "1 attempt", "5 attempts".
    fn attempts_told(&self) -> String {
        match self.attempts {
            1 => "1 attempt".to_owned(),
            n => format!("{n} attempts"),
        }
    }
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gave up after {}; last: {}",
            self.attempts_told(),
            self.last
        )
    }
}

/// How an embedding provider's endpoint failed a request, seen from the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// It answered with an error (a key refused, a 4xx or 5xx, a reply the engine cannot
    /// read), or could not be reached.
    Failed,
    /// It asked to wait (429), for this long when it said (`Retry-After`).
    Busy(Option<std::time::Duration>),
    /// It did not answer within the provider's `timeout`.
    TimedOut,
}

impl EmbedError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        EmbedError {
            message: message.into(),
            unavailable: false,
            stopped: false,
            server_fault: false,
            upstream: None,
            gave_up: None,
        }
    }

    /// The error, as the provider's endpoint's failure (see [`EmbedError::upstream`]).
    pub fn from_upstream(self, upstream: Upstream) -> Self {
        EmbedError {
            upstream: Some(upstream),
            ..self
        }
    }

    /// The provider failed on its side through its retries (see [`EmbedError::server_fault`]):
    /// "gave up after 2 attempts; last: …".
    pub fn server_fault(gave_up: GaveUp) -> Self {
        EmbedError {
            server_fault: true,
            ..EmbedError::new(gave_up.to_string())
        }
        .with_gave_up(gave_up)
    }

    fn with_gave_up(self, gave_up: GaveUp) -> Self {
        EmbedError {
            gave_up: Some(gave_up),
            ..self
        }
    }

    /// The work stopped on request (see [`EmbedError::stopped`]).
    pub fn stopped() -> Self {
        EmbedError {
            stopped: true,
            ..EmbedError::new(crate::stop::Stopped.to_string())
        }
    }

    /// The provider is unavailable (see [`EmbedError::unavailable`]).
    pub fn provider_unavailable(message: impl Into<String>) -> Self {
        EmbedError {
            unavailable: true,
            ..EmbedError::new(message)
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
    /// One entry per text, in the order of the texts: where it ran.
    pub placements: Vec<Placement>,
    /// The provider stopped on request before every batch ran
    /// ([`Embedder::embed_documents_until`]): the texts of the batches it did not run have an
    /// empty vector.
    pub stopped: bool,
}

/// Where one text was embedded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placement {
    /// Its batch: an index into [`Embeddings::batches`].
    pub batch: usize,
    /// Whether it was cut to the model's `max_tokens`.
    pub truncated: bool,
}

/// A text embedding provider.
pub trait Embedder: Send + Sync {
    /// Identifies the provider, its model and every setting that changes vectors; two embedders
    /// with equal fingerprints give equal vectors for equal texts (cache keys use it).
    fn fingerprint(&self) -> String;

    /// Which cached vectors this provider may reuse and add to: its fingerprint, unless a setting
    /// that leaves the model alone still changes its vectors (texts embedded alone rather than in
    /// batches, whose int8 activations are scaled over the whole batch).
    fn cache_scope(&self) -> String {
        self.fingerprint()
    }

    /// The fingerprint engines before 2026-12 gave this provider, when it differs from
    /// [`Embedder::fingerprint`]: theirs hashed the query prefix, which changes no document's
    /// vector.
    fn legacy_fingerprint(&self) -> Option<String> {
        None
    }

    /// The scope engines before 2026-12 kept this provider's vectors under, when it differs
    /// from [`Embedder::cache_scope`] (see [`Embedder::legacy_fingerprint`]): a vector missing
    /// from the cache is looked for there too.
    fn legacy_cache_scope(&self) -> Option<String> {
        self.legacy_fingerprint()
    }

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
            placements: vec![Placement::default(); texts.len()],
            stopped: false,
        })
    }

    /// Like [`Embedder::embed_documents_debug`], but checks `stop` before each batch (each
    /// model call or request) and, once it is set, runs no more: the texts of the batches not
    /// run get an empty vector and [`Embeddings::stopped`] is set, so a cancelled run waits for
    /// one batch at most. Providers that batch override it; the default checks once, before the
    /// whole call, and stops with [`EmbedError::stopped`].
    fn embed_documents_until(
        &self,
        texts: &[&str],
        stop: &AtomicBool,
    ) -> Result<Embeddings, EmbedError> {
        if stop.load(Ordering::Relaxed) {
            return Err(EmbedError::stopped());
        }
        self.embed_documents_debug(texts)
    }

    /// Like [`Embedder::embed_documents_until`], but each request is tried once, without
    /// retries: for a document tried alone after its call failed ([`EmbedError::server_fault`]).
    /// Providers that retry override it; the default is `embed_documents_until`.
    fn embed_documents_once(
        &self,
        texts: &[&str],
        stop: &AtomicBool,
    ) -> Result<Embeddings, EmbedError> {
        self.embed_documents_until(texts, stop)
    }

    /// Like [`Embedder::embed_query`], telling `note` (once, at most) when the provider makes
    /// it wait: a slow reply, or a retry. The default tells nothing.
    fn embed_query_noting(
        &self,
        text: &str,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<Vec<f32>, EmbedError> {
        let _ = note;
        self.embed_query(text)
    }
}

/// A stop request that is never made, for calls that run to the end.
pub(crate) static NEVER: AtomicBool = AtomicBool::new(false);

/// Scales `vector` to unit length (a zero vector stays zero).
pub fn l2_normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm.is_normal() {
        vector.iter_mut().for_each(|x| *x /= norm);
    } else {
        // Components so small (1e-30) that their squares vanish in f32: in f64 they do not.
        let norm = vector
            .iter()
            .map(|&x| f64::from(x).powi(2))
            .sum::<f64>()
            .sqrt();
        if norm > 0.0 {
            vector
                .iter_mut()
                .for_each(|x| *x = (f64::from(*x) / norm) as f32);
        }
    }
}

/// The text of a chunk that is embedded: its `embed_text` (enriched for retrieval, e.g. with
/// the title and section path, or a repeated table header) when the chunker set one, else its
/// text.
pub fn text_to_embed(chunk: &Chunk) -> &str {
    chunk.embed_text.as_deref().unwrap_or(&chunk.text)
}

/// The values of `provider` ([`EmbedConfig`]'s variants).
pub const PROVIDERS: [&str; 3] = ["onnx", "http", "hash"];

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

    /// What the environment lacks for the provider to work (see
    /// [`http::HttpConfig::environment_warnings`]).
    pub fn environment_warnings(&self) -> Vec<(&'static str, String)> {
        match self {
            EmbedConfig::Http(config) => config.environment_warnings(),
            EmbedConfig::Onnx(_) | EmbedConfig::Hash(_) => Vec::new(),
        }
    }

    /// What may keep a run from loading the provider's model though the settings are right
    /// (see [`onnx::OnnxConfig::resource_warnings`]); paths resolved against `base`.
    pub fn resource_warnings(&self, base: &Path) -> Vec<(&'static str, String)> {
        match self {
            EmbedConfig::Onnx(config) => config.resource_warnings(base),
            EmbedConfig::Http(_) | EmbedConfig::Hash(_) => Vec::new(),
        }
    }

    /// These settings with those that cannot change a document's vector at their defaults:
    /// the query prefix, onnxruntime's threads, the in-memory cache, an ONNX batch size other
    /// than 1 (the vector cache serves any batched vector for any other, see
    /// [`Embedder::cache_scope`]) and an HTTP endpoint's key variable, batch size, concurrency,
    /// timeout, retries and backoff. A step's fingerprint hashes these, so tuning them keeps
    /// its checkpoints.
    pub fn output_settings(&self) -> EmbedConfig {
        let mut settings = self.clone();
        match &mut settings {
            EmbedConfig::Onnx(onnx) => {
                let defaults = OnnxConfig::new(String::new());
                onnx.query_prefix = defaults.query_prefix;
                onnx.threads = defaults.threads;
                onnx.cache_entries = defaults.cache_entries;
                if onnx.batch_size != 1 {
                    onnx.batch_size = defaults.batch_size;
                }
            }
            EmbedConfig::Http(http) => {
                let defaults = HttpConfig::new(String::new(), String::new());
                http.query_prefix = defaults.query_prefix;
                http.api_key_env = defaults.api_key_env;
                http.batch_size = defaults.batch_size;
                http.concurrency = defaults.concurrency;
                http.timeout = defaults.timeout;
                http.retries = defaults.retries;
                http.backoff = defaults.backoff;
                http.cache_entries = defaults.cache_entries;
            }
            EmbedConfig::Hash(_) => {}
        }
        settings
    }

    fn cache_entries(&self) -> usize {
        match self {
            EmbedConfig::Onnx(config) => config.cache_entries,
            EmbedConfig::Http(config) => config.cache_entries,
            // Hashing is no dearer than a cache lookup, and a cache miss adds a write to the
            // store (and 4 × dim bytes a chunk to it). Measured in a debug build (this crate
            // unoptimised, sled at opt-level 1) on 3,000 texts of 465 bytes: hashing 70 to
            // 105 µs a text, a lookup in the store 50 to 110 µs, a write 80 to 265 µs; optimised,
            // hashing (a pass over the words) gains more than a B-tree read does.
            EmbedConfig::Hash(_) => 0,
        }
    }

    /// How many texts the operator gathers, across documents, for one call to the provider: a
    /// few of its batches, so texts can be sorted into batches of similar length.
    pub fn texts_per_call(&self) -> usize {
        match self {
            EmbedConfig::Onnx(config) => config.batch_size.max(1) * 4,
            EmbedConfig::Http(config) => config.batch_size.max(1) * config.concurrency.max(1) * 2,
            EmbedConfig::Hash(_) => 256,
        }
    }

    /// The length of the vectors, when the settings tell it without loading a model: `dim` of
    /// `hash`, `dimensions` of `http` when given; `None` for `onnx` (the model file tells).
    pub fn dimensions(&self) -> Option<usize> {
        match self {
            EmbedConfig::Hash(config) => Some(config.dim),
            EmbedConfig::Http(config) => config.dimensions,
            EmbedConfig::Onnx(_) => None,
        }
    }

    /// The local files the provider reads (model and tokenizer), paths resolved against `base`.
    pub fn files(&self, base: &Path) -> Vec<PathBuf> {
        match self {
            EmbedConfig::Onnx(config) => config.files(base),
            EmbedConfig::Http(_) | EmbedConfig::Hash(_) => Vec::new(),
        }
    }

    /// The `tokenizer.json` of a local model (`None` for other providers), relative to the
    /// pipeline's folder as `model` is.
    pub fn tokenizer(&self) -> Option<String> {
        match self {
            EmbedConfig::Onnx(config) => Some(
                Path::new(&config.model)
                    .join(onnx::TOKENIZER_FILE)
                    .to_string_lossy()
                    .into_owned(),
            ),
            EmbedConfig::Http(_) | EmbedConfig::Hash(_) => None,
        }
    }

    /// Builds the provider these settings describe.
    pub fn embedder(&self, base: &Path) -> Result<Arc<dyn Embedder>, EmbedError> {
        Ok(match self {
            EmbedConfig::Onnx(config) => onnx::shared(config, base)?,
            EmbedConfig::Http(config) => Arc::new(HttpEmbedder::new(config)?),
            EmbedConfig::Hash(config) => Arc::new(hash::HashEmbedder::from_config(config)),
        })
    }
}

/// The `embed` operator: chunk sets in, chunk sets with vectors out.
pub struct Embed {
    /// The provider, built when the first chunks arrive.
    provider: OnceLock<Result<Provider, EmbedError>>,
    /// What to build it from (`None` when it was given built).
    settings: Option<(EmbedConfig, PathBuf)>,
    cache: Arc<dyn VectorCache>,
    /// Checked between the provider's batches: once set, the documents not embedded yet fail
    /// with [`EmbedError::stopped`] ([`crate::stop::REQUESTED`] unless told otherwise).
    stop: &'static AtomicBool,
    /// The length of the provider's vectors: the size the cache holds for its fingerprint, or
    /// the first computed. Vectors of another size are neither used nor kept.
    vector_size: OnceLock<usize>,
    /// An HTTP step's hold on its endpoint, so that its `concurrency` limits every step that
    /// calls it from the first request on, though its provider is built later.
    _endpoint: Option<http::EndpointHold>,
}

/// Documents tried alone in a row that may fail on the provider's side (after their call did)
/// before the rest of the call fails at once, the provider counted as unavailable.
pub const LONE_SERVER_FAULTS: usize = 3;

/// How a call asks the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tries {
    /// With the provider's retries.
    Retrying,
    /// Each request once ([`Embedder::embed_documents_once`]).
    Once,
}

/// A built provider, its fingerprint and its cache scopes.
struct Provider {
    embedder: Arc<dyn Embedder>,
    fingerprint: String,
    cache_scope: String,
    legacy_cache_scope: Option<String>,
}

impl Provider {
    fn new(embedder: Arc<dyn Embedder>) -> Self {
        Provider {
            fingerprint: embedder.fingerprint(),
            cache_scope: embedder.cache_scope(),
            legacy_cache_scope: embedder.legacy_cache_scope(),
            embedder,
        }
    }

    /// The cached vector of `text`: under the provider's scope, else under its legacy scope
    /// (then kept under its scope too, where `gc` finds it held by the new checkpoints).
    fn cached(&self, cache: &dyn VectorCache, text: &str) -> Option<Arc<[f32]>> {
        let key = CacheKey::new(&self.cache_scope, text);
        cache.get(&key).or_else(|| {
            let legacy = self.legacy_cache_scope.as_deref()?;
            let vector = cache.get(&CacheKey::new(legacy, text))?;
            cache.put(key, vector.clone());
            Some(vector)
        })
    }
}

impl Embed {
    /// The operator for `config`, with its own in-memory cache of `cache_entries` vectors. The
    /// provider (a model session, say) is built when the first chunks arrive, so a run whose
    /// embeddings all come from checkpoints never loads it; `EmbedConfig::problems` checks its
    /// files beforehand.
    pub fn new(config: &EmbedConfig, base: &Path) -> Self {
        Self::new_with(config, base, |memory| memory)
    }

    /// [`Embed::new`] with the in-memory cache wrapped by `layer` (a cache on disk that keeps
    /// vectors across runs, say); no cache at all when `cache_entries` is 0.
    pub fn new_with(
        config: &EmbedConfig,
        base: &Path,
        layer: impl FnOnce(Arc<dyn VectorCache>) -> Arc<dyn VectorCache>,
    ) -> Self {
        // With no cache, the layer still records the size of the vectors (a cache on disk
        // keeps that across runs), though it keeps no vector.
        let cache: Arc<dyn VectorCache> = match config.cache_entries() {
            0 => layer(Arc::new(NoCache)),
            entries => layer(Arc::new(LruCache::new(entries))),
        };
        let endpoint = match config {
            EmbedConfig::Http(http) => Some(http::hold_endpoint(http)),
            _ => None,
        };
        Embed {
            provider: OnceLock::new(),
            settings: Some((config.clone(), base.to_owned())),
            cache,
            stop: &crate::stop::REQUESTED,
            vector_size: OnceLock::new(),
            _endpoint: endpoint,
        }
    }

    /// The operator for any provider and cache.
    pub fn with_cache(embedder: Arc<dyn Embedder>, cache: Arc<dyn VectorCache>) -> Self {
        Embed {
            provider: OnceLock::from(Ok(Provider::new(embedder))),
            settings: None,
            cache,
            stop: &crate::stop::REQUESTED,
            vector_size: OnceLock::new(),
            _endpoint: None,
        }
    }

    /// The operator stopping on `stop` rather than on the process-wide [`crate::stop`]
    /// request (tests, embedders of their own).
    pub fn stopping_on(mut self, stop: &'static AtomicBool) -> Self {
        self.stop = stop;
        self
    }

    /// The provider, built on first use; its error, every time, when it cannot be built.
    fn provider(&self) -> Result<&Provider, EmbedError> {
        self.provider
            .get_or_init(|| match &self.settings {
                Some((config, base)) => config.embedder(base).map(Provider::new),
                None => Err(EmbedError::new("the embed operator has no provider")),
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The length of the provider's vectors, when known: learnt in this process, or the size
    /// the cache holds for its fingerprint.
    fn known_vector_size(&self, provider: &Provider) -> Option<usize> {
        if let Some(size) = self.vector_size.get() {
            return Some(*size);
        }
        let size = self.cache.vector_size(&provider.fingerprint)?;
        Some(*self.vector_size.get_or_init(|| size))
    }

    /// Records `size`, the length of the first vectors computed, as the provider's (unless the
    /// cache holds another already); returns the length recorded.
    fn settle_vector_size(&self, provider: &Provider, size: usize) -> usize {
        let settled = self.cache.settle_vector_size(&provider.fingerprint, size);
        *self.vector_size.get_or_init(|| settled)
    }

    /// The provider, built on first use.
    pub fn embedder(&self) -> Result<&Arc<dyn Embedder>, EmbedError> {
        Ok(&self.provider()?.embedder)
    }

    /// Embeds every chunk of `set`: texts found in the cache (or repeated in the document) are
    /// not sent to the provider again.
    pub fn embed_set(&self, set: &ChunkSet) -> Result<EmbeddedSet, EmbedError> {
        self.embed_sets(&[set])
            .pop()
            .unwrap_or_else(|| Err(EmbedError::new("no result for the document")))
    }

    /// Embeds the chunks of several documents in one call to the provider, so that its batches
    /// mix documents and group texts of similar length. Texts found in the cache, or repeated
    /// anywhere in `sets`, are computed once. One result per set, in order: when the provider
    /// refuses the combined call, each set is tried alone so that one document's bad text fails
    /// only it; when the provider is unavailable, every set fails with that error at once.
    ///
    /// A stop request ([`Embed::stopping_on`]) is seen between the provider's batches: the
    /// sets whose every text was embedded by then are complete, the others fail with
    /// [`EmbedError::stopped`] (and the vectors computed for them are cached all the same).
    ///
    /// When the call failed on the provider's side through its retries
    /// ([`EmbedError::server_fault`]: a 5xx, perhaps for one text), each set is tried alone, once
    /// (no retries), in order; once [`LONE_SERVER_FAULTS`] in a row fail that way, the provider
    /// is taken for down and the rest fail at once.
    ///
    /// Vectors whose length differs from the one the cache holds for the provider (or, before
    /// it holds any, from the first computed) fail their sets and are not cached; such
    /// cached vectors are computed again.
    pub fn embed_sets(&self, sets: &[&ChunkSet]) -> Vec<Result<EmbeddedSet, EmbedError>> {
        self.embed_sets_trying(sets, Tries::Retrying)
    }

    /// Each of `sets` alone, each request once, in order, until [`LONE_SERVER_FAULTS`] in a row
    /// fail on the provider's side: then the rest fail at once as the provider unavailable.
    /// `call` is why the call of them all failed: a document's failure counts its attempts too.
    fn embed_alone_once(
        &self,
        sets: &[&ChunkSet],
        call: &EmbedError,
    ) -> Vec<Result<EmbeddedSet, EmbedError>> {
        let mut results = Vec::with_capacity(sets.len());
        let mut faults_in_a_row = 0;
        for (tried, set) in sets.iter().enumerate() {
            let mut result = self
                .embed_sets_trying(&[set], Tries::Once)
                .pop()
                .unwrap_or_else(|| Err(EmbedError::new("no result for the document")));
            if let Err(error) = &mut result
                && error.server_fault
            {
                error.message = with_the_call_attempts(error, call);
            }
            let rest = match &result {
                Ok(_) => {
                    faults_in_a_row = 0;
                    None
                }
                Err(error) if error.stopped || error.unavailable => Some(error.clone()),
                Err(error) if error.server_fault => {
                    faults_in_a_row += 1;
                    (faults_in_a_row >= LONE_SERVER_FAULTS).then(|| {
                        EmbedError::provider_unavailable(format!(
                            "the embedding provider is unavailable: its call failed, then {LONE_SERVER_FAULTS} documents tried alone in a row failed on its side too; last: {}",
                            error.message
                        ))
                    })
                }
                Err(_) => None,
            };
            results.push(result);
            if let Some(error) = rest {
                results.extend(sets[tried + 1..].iter().map(|_| Err(error.clone())));
                break;
            }
        }
        results
    }

    /// [`Embed::embed_sets`], asking the provider as `tries` says.
    fn embed_sets_trying(
        &self,
        sets: &[&ChunkSet],
        tries: Tries,
    ) -> Vec<Result<EmbeddedSet, EmbedError>> {
        let provider = match self.provider() {
            Ok(provider) => provider,
            Err(error) => return sets.iter().map(|_| Err(error.clone())).collect(),
        };
        let mut plan = Plan {
            vector_size: self.known_vector_size(provider),
            ..Plan::default()
        };
        let sources: Vec<Vec<VectorSource>> = sets
            .iter()
            .enumerate()
            .map(|(owner, set)| {
                set.chunks
                    .iter()
                    .map(|chunk| plan.source(owner, text_to_embed(chunk), provider, self))
                    .collect()
            })
            .collect();
        // Each call's vectors go into the cache as it ends: a run killed outright keeps them.
        let known_size = plan.vector_size;
        let keep = |texts: &[&str], vectors: &[Vec<f32>]| {
            let size = known_size.or_else(|| {
                (vectors.iter())
                    .find(|vector| !vector.is_empty())
                    .map(|vector| self.settle_vector_size(provider, vector.len()))
            });
            for (text, vector) in texts.iter().zip(vectors) {
                if !vector.is_empty()
                    && size.is_none_or(|size| vector.len() == size)
                    && all_finite(vector)
                {
                    let key = CacheKey::new(&provider.cache_scope, text);
                    self.cache.put(key, Arc::from(vector.as_slice()));
                }
            }
        };
        let computed = match compute(&provider.embedder, &plan.missing, self.stop, tries, keep) {
            Ok(computed) => computed,
            // Down for all of them, or stopped: each fails now instead of retrying alone.
            Err(error) if error.unavailable || error.stopped => {
                return sets.iter().map(|_| Err(error.clone())).collect();
            }
            // Down, or failing on one document's text: each is tried alone, once.
            Err(error) if error.server_fault && sets.len() > 1 => {
                return self.embed_alone_once(sets, &error);
            }
            // Perhaps one document's text: each is tried alone, so it fails only its own.
            Err(_) if sets.len() > 1 => {
                return sets.iter().map(|set| self.embed_set(set)).collect();
            }
            Err(error) => return vec![Err(error)],
        };
        let stopped = computed.stopped;
        let vectors: Vec<Arc<[f32]>> = computed.vectors.into_iter().map(Arc::from).collect();
        // Texts of batches a stop request left out have no vector.
        let done = |vector: &Arc<[f32]>| !(stopped && vector.is_empty());
        // Known before, or settled from the first vectors `keep` was handed.
        let size = self.known_vector_size(provider);
        let sized = |vector: &Arc<[f32]>| size.is_none_or(|size| vector.len() == size);
        sets.iter()
            .zip(sources)
            .enumerate()
            .map(|(owner, (set, sources))| {
                let unfinished = sources.iter().any(|source| match source {
                    VectorSource::Computed(slot) => !done(&vectors[*slot]),
                    VectorSource::Cached(_) => false,
                });
                if unfinished {
                    return Err(EmbedError::stopped());
                }
                let missized = sources.iter().find_map(|source| match source {
                    VectorSource::Computed(slot) if !sized(&vectors[*slot]) => {
                        Some(vectors[*slot].len())
                    }
                    _ => None,
                });
                if let (Some(got), Some(size)) = (missized, size) {
                    return Err(EmbedError::new(format!(
                        "the provider answered {got}-dimensional vectors where it answered {size}-dimensional ones before for this model ({}): not kept; if the model behind `model` changed on purpose, set `dimensions` in the provider's settings or name the model differently (either embeds every text again)",
                        provider.fingerprint
                    )));
                }
                let owned: Vec<Placement> = plan
                    .owners
                    .iter()
                    .zip(&computed.placements)
                    .filter(|(slot_owner, _)| **slot_owner == owner)
                    .map(|(_, placement)| *placement)
                    .collect();
                let debug = document_debug(&sources, &owned, &computed.batches);
                assemble(set, sources, &vectors, debug, provider)
            })
            .collect()
    }
}

/// The failure `lone` of a document tried alone once, told with the attempts of the call of
/// every document that failed before (`call`): "gave up after 5 attempts of the batch with the
/// other documents and 1 of the document alone", where it said "after 1 attempt".
fn with_the_call_attempts(lone: &EmbedError, call: &EmbedError) -> String {
    match (&lone.gave_up, &call.gave_up) {
        (Some(alone), Some(batch)) => format!(
            "gave up after {} of the batch with the other documents and {} of the document alone; last: {}",
            batch.attempts_told(),
            alone.attempts,
            alone.last
        ),
        _ => format!(
            "{} (the document alone, tried once after the batch with the other documents failed: {})",
            lone.message, call.message
        ),
    }
}

/// Most texts asked of the provider in one call: the vectors of each call are kept (`keep`) as
/// it ends, so a run killed outright (`kill -9`) loses at most one call's work, not that of
/// every document embedded together (a cold run's whole corpus, or a book of 3,000 chunks).
const TEXTS_PER_CALL: usize = 256;

/// Runs the provider on `texts` until `stop` is set, as `tries` says, [`TEXTS_PER_CALL`] at a
/// time, checks it gave one vector (and placement) per text, and hands `keep` each call's texts
/// and vectors as it ends.
fn compute(
    embedder: &Arc<dyn Embedder>,
    texts: &[&str],
    stop: &AtomicBool,
    tries: Tries,
    mut keep: impl FnMut(&[&str], &[Vec<f32>]),
) -> Result<Embeddings, EmbedError> {
    let mut all = Embeddings::default();
    for call in texts.chunks(TEXTS_PER_CALL) {
        let mut computed = match tries {
            Tries::Retrying => embedder.embed_documents_until(call, stop)?,
            Tries::Once => embedder.embed_documents_once(call, stop)?,
        };
        if computed.vectors.len() != call.len() {
            return Err(EmbedError::new(format!(
                "the provider returned {} vectors for {} texts",
                computed.vectors.len(),
                call.len()
            )));
        }
        if computed.placements.len() != call.len() {
            computed.placements = vec![Placement::default(); call.len()];
        }
        keep(call, &computed.vectors);
        let batches = all.batches.len();
        all.placements
            .extend(computed.placements.into_iter().map(|placement| Placement {
                batch: placement.batch + batches,
                ..placement
            }));
        all.vectors.append(&mut computed.vectors);
        all.batches.append(&mut computed.batches);
        if computed.stopped {
            // The texts of the calls not made have no vector.
            all.stopped = true;
            all.vectors.resize(texts.len(), Vec::new());
            all.placements.resize(texts.len(), Placement::default());
            break;
        }
    }
    Ok(all)
}

/// Whether every value of `vector` is a number: a model can give NaN or infinity (an fp16
/// export that overflows), which no index or cache may keep.
pub fn all_finite(vector: &[f32]) -> bool {
    vector.iter().all(|value| value.is_finite())
}

/// One document's chunks with their vectors, from the provider of `fingerprint`.
fn assemble(
    set: &ChunkSet,
    sources: Vec<VectorSource>,
    computed: &[Arc<[f32]>],
    debug: EmbedDebug,
    provider: &Provider,
) -> Result<EmbeddedSet, EmbedError> {
    let mut dimensions = None;
    let mut chunks = Vec::with_capacity(set.chunks.len());
    for (chunk, source) in set.chunks.iter().zip(sources) {
        let vector = match source {
            VectorSource::Cached(vector) => vector,
            VectorSource::Computed(slot) => computed[slot].clone(),
        };
        let expected = *dimensions.get_or_insert(vector.len());
        if vector.len() != expected {
            return Err(EmbedError::new(format!(
                "vectors of different lengths ({} and {expected}) for one document",
                vector.len()
            )));
        }
        if !all_finite(&vector) {
            return Err(EmbedError::new(format!(
                "the model ({}) gave chunk {} a vector holding values that are not numbers (NaN or infinity): not kept; a model exported in half precision can overflow so, or be broken",
                provider.fingerprint, chunk.ordinal
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
        model: provider.fingerprint.clone(),
        cache_scope: (provider.cache_scope != provider.fingerprint)
            .then(|| provider.cache_scope.clone()),
        dimensions: dimensions.unwrap_or(0),
        chunks,
        debug,
    })
}

/// Where one chunk's vector comes from.
enum VectorSource {
    /// The cache.
    Cached(Arc<[f32]>),
    /// The provider call: a slot of [`Plan::missing`].
    Computed(usize),
}

/// The texts one provider call computes, each once, with the set that first asked for it.
#[derive(Default)]
struct Plan<'a> {
    missing: Vec<&'a str>,
    owners: Vec<usize>,
    slots: HashMap<&'a str, usize>,
    /// The length of the provider's vectors, when known: a cached vector of another is
    /// computed again.
    vector_size: Option<usize>,
}

impl<'a> Plan<'a> {
    /// Where the vector of `text`, wanted by set `owner`, will come from.
    fn source(
        &mut self,
        owner: usize,
        text: &'a str,
        provider: &Provider,
        embed: &Embed,
    ) -> VectorSource {
        if let Some(&slot) = self.slots.get(text) {
            return VectorSource::Computed(slot);
        }
        if let Some(vector) = provider
            .cached(embed.cache.as_ref(), text)
            .filter(|vector| self.vector_size.is_none_or(|size| vector.len() == size))
            // One a version that kept them stored is computed again.
            .filter(|vector| all_finite(vector))
        {
            return VectorSource::Cached(vector);
        }
        let slot = self.missing.len();
        self.slots.insert(text, slot);
        self.missing.push(text);
        self.owners.push(owner);
        VectorSource::Computed(slot)
    }
}

/// What embedding one document cost: the batches its own texts ran in (which may hold other
/// documents' texts too), its share of their time (by text), and its texts that were cut.
fn document_debug(
    sources: &[VectorSource],
    owned: &[Placement],
    batches: &[BatchDebug],
) -> EmbedDebug {
    let seconds = owned
        .iter()
        .filter_map(|placement| batches.get(placement.batch))
        .map(|batch| batch.seconds / batch.size.max(1) as f64)
        .sum::<f64>()
        // An empty float sum is -0.0, printed "-0.0" for a document embedded from the cache.
        + 0.0;
    let mut used: Vec<usize> = owned.iter().map(|placement| placement.batch).collect();
    used.sort_unstable();
    used.dedup();
    EmbedDebug {
        cached: sources.len() - owned.len(),
        truncated: owned.iter().filter(|placement| placement.truncated).count(),
        seconds,
        batches: used
            .into_iter()
            .filter_map(|index| batches.get(index).cloned())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    /// Components so small that their squares vanish in f32 are still scaled to unit length.
    #[test]
    fn tiny_vectors_are_normalized() {
        let mut tiny = vec![1e-30f32, 2e-30, 2e-30];
        l2_normalize(&mut tiny);
        let norm: f32 = tiny.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{tiny:?}");
        let mut zero = vec![0.0f32; 3];
        l2_normalize(&mut zero);
        assert_eq!(zero, [0.0; 3]);
    }

    use super::*;

    /// A document whose texts all came from the cache took no time: 0, not -0.
    #[test]
    fn a_document_from_the_cache_took_zero_seconds() {
        let debug = document_debug(&[], &[], &[]);
        assert!(debug.seconds == 0.0 && debug.seconds.is_sign_positive());
    }

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
            sections: None,
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

    /// Runs batches of two texts in order, as a model would, checking the stop request before
    /// each; the request comes (Ctrl-C) while batch number `trip` runs.
    struct Stepping {
        trip: usize,
        stop: &'static AtomicBool,
        batches: AtomicUsize,
        texts: Mutex<Vec<String>>,
    }

    impl Stepping {
        fn new(trip: usize) -> Self {
            Stepping {
                trip,
                stop: Box::leak(Box::new(AtomicBool::new(false))),
                batches: AtomicUsize::new(0),
                texts: Mutex::new(Vec::new()),
            }
        }
    }

    impl Embedder for Stepping {
        fn fingerprint(&self) -> String {
            "stepping".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            Ok(self.embed_documents_debug(texts)?.vectors)
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            Ok(vec![text.len() as f32, 1.0])
        }

        fn embed_documents_until(
            &self,
            texts: &[&str],
            stop: &AtomicBool,
        ) -> Result<Embeddings, EmbedError> {
            let mut out = Embeddings::default();
            for batch in texts.chunks(2) {
                if stop.load(Ordering::SeqCst) {
                    out.stopped = true;
                    out.vectors.extend(batch.iter().map(|_| Vec::new()));
                    out.placements
                        .extend(batch.iter().map(|_| Placement::default()));
                    continue;
                }
                let ran = self.batches.fetch_add(1, Ordering::SeqCst) + 1;
                if ran == self.trip {
                    self.stop.store(true, Ordering::SeqCst);
                }
                self.texts
                    .lock()
                    .unwrap()
                    .extend(batch.iter().map(|t| t.to_string()));
                out.vectors
                    .extend(batch.iter().map(|t| vec![t.len() as f32, 1.0]));
                out.placements.extend(batch.iter().map(|_| Placement {
                    batch: out.batches.len(),
                    truncated: false,
                }));
                out.batches.push(BatchDebug {
                    size: batch.len(),
                    ..BatchDebug::default()
                });
            }
            Ok(out)
        }
    }

    /// Fails its third call, as a process killed outright ends: what came before must be kept.
    struct FailsThirdCall(AtomicUsize);

    impl Embedder for FailsThirdCall {
        fn fingerprint(&self) -> String {
            "fails-third".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            if self.0.fetch_add(1, Ordering::SeqCst) == 2 {
                return Err(EmbedError::new("killed"));
            }
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            Ok(vec![text.len() as f32, 1.0])
        }
    }

    /// A document of many chunks is embedded [`TEXTS_PER_CALL`] texts at a time, each call's
    /// vectors cached as it ends: a run killed during the third call keeps the first two (it
    /// kept none: the whole document's vectors were cached after its last batch).
    #[test]
    fn vectors_are_cached_call_by_call() {
        let texts: Vec<String> = (0..3 * TEXTS_PER_CALL)
            .map(|i| format!("text {i}"))
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let cache: Arc<dyn VectorCache> = Arc::new(LruCache::new(10_000));
        let provider = Arc::new(FailsThirdCall(AtomicUsize::new(0)));
        let embed = Embed::with_cache(provider.clone(), cache.clone());
        assert!(embed.embed_set(&set(&texts)).is_err());
        let cached = (texts.iter())
            .filter(|text| cache.get(&CacheKey::new("fails-third", text)).is_some())
            .count();
        assert_eq!(cached, 2 * TEXTS_PER_CALL);
        // The next run asks only for the rest.
        let out = embed.embed_set(&set(&texts)).unwrap();
        assert_eq!(out.debug.cached, 2 * TEXTS_PER_CALL);
        assert_eq!(provider.0.load(Ordering::SeqCst), 4);
    }

    /// A stop request seen between batches ends the call: the batches after it do not run,
    /// the documents whose texts all ran are complete, the others fail as stopped (not as
    /// failures), and what was computed is cached, so only the rest is embedded next time.
    #[test]
    fn a_stop_request_ends_embedding_between_batches() {
        let provider = Arc::new(Stepping::new(2));
        let embed = Embed::with_cache(provider.clone(), Arc::new(LruCache::new(100)))
            .stopping_on(provider.stop);
        let a = named("a", &["a1", "a2"]);
        let b = named("b", &["b1", "b2", "b3"]);
        let c = named("c", &["c1"]);
        let results = embed.embed_sets(&[&a, &b, &c]);
        // Three batches were wanted ([a1 a2] [b1 b2] [b3 c1]); two ran.
        assert_eq!(provider.batches.load(Ordering::SeqCst), 2);
        let done = results[0].as_ref().expect("a's texts all ran");
        assert_eq!(done.chunks.len(), 2);
        assert_eq!(done.chunks[1].vector, vec![2.0, 1.0]);
        for result in &results[1..] {
            let error = result.as_ref().expect_err("stopped before its texts ran");
            assert!(error.stopped && !error.unavailable, "{error:?}");
        }
        // Still stopped: nothing more runs, every document is stopped.
        let again = embed.embed_sets(&[&b]);
        assert!(again[0].as_ref().is_err_and(|e| e.stopped));
        assert_eq!(provider.batches.load(Ordering::SeqCst), 2);
        // The next run embeds only what was left.
        provider.stop.store(false, Ordering::SeqCst);
        let results = embed.embed_sets(&[&b, &c]);
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(
            *provider.texts.lock().unwrap(),
            ["a1", "a2", "b1", "b2", "b3", "c1"]
        );
    }

    /// A provider without batches of its own is checked once, before the call.
    #[test]
    fn a_stop_request_before_the_call_embeds_nothing() {
        let provider = Arc::new(Counting(AtomicUsize::new(0)));
        let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(true)));
        let embed =
            Embed::with_cache(provider.clone(), Arc::new(LruCache::new(100))).stopping_on(stop);
        let (a, b) = (named("a", &["x"]), named("b", &["y"]));
        let results = embed.embed_sets(&[&a, &b]);
        assert!(results.iter().all(|r| r.as_ref().is_err_and(|e| e.stopped)));
        assert_eq!(provider.0.load(Ordering::SeqCst), 0);
    }

    /// A run whose embeddings all come from checkpoints never needs the model: the operator
    /// loads it when the first chunks arrive, and a provider that cannot be built fails those.
    #[test]
    fn the_provider_is_built_when_the_first_chunks_arrive() {
        let dir = tempfile::tempdir().unwrap();
        let config = EmbedConfig::Onnx(onnx::OnnxConfig::new("no-such-model"));
        let embed = Embed::new(&config, dir.path());
        let one = set(&["some text"]);
        let results = embed.embed_sets(&[&one, &one]);
        assert_eq!(results.len(), 2);
        for result in results {
            let err = result.expect_err("no model to load");
            assert!(err.message.contains("no-such-model"), "{}", err.message);
        }
        assert!(embed.embedder().is_err());
    }

    /// The same model with another cache scope (texts embedded alone, say).
    struct Alone(Counting);

    impl Embedder for Alone {
        fn fingerprint(&self) -> String {
            self.0.fingerprint()
        }

        fn cache_scope(&self) -> String {
            "counting:alone".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.embed_documents(texts)
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            self.0.embed_query(text)
        }
    }

    /// Vectors cached under one scope are not served to a provider of another, though the
    /// model (and so the vectors' recorded model) is the same: a step embedding texts alone
    /// must not get the vectors a batched step computed.
    #[test]
    fn vectors_are_shared_within_a_cache_scope_only() {
        let cache: Arc<dyn VectorCache> = Arc::new(LruCache::new(100));
        let batched = Arc::new(Counting(AtomicUsize::new(0)));
        Embed::with_cache(batched.clone(), cache.clone())
            .embed_set(&set(&["a", "bb"]))
            .unwrap();
        let alone = Arc::new(Alone(Counting(AtomicUsize::new(0))));
        let embed = Embed::with_cache(alone.clone(), cache.clone());
        let out = embed.embed_set(&set(&["a", "bb"])).unwrap();
        assert_eq!(alone.0.0.load(Ordering::SeqCst), 2, "computed, not cached");
        assert_eq!(out.debug.cached, 0);
        assert_eq!(out.model, "counting");
        // Within its own scope the cache serves it as before.
        embed.embed_set(&set(&["bb", "a"])).unwrap();
        assert_eq!(alone.0.0.load(Ordering::SeqCst), 2);
        Embed::with_cache(batched.clone(), cache)
            .embed_set(&set(&["a"]))
            .unwrap();
        assert_eq!(batched.0.load(Ordering::SeqCst), 2);
    }

    /// A provider whose vectors an older engine kept under another scope (its query prefix
    /// hashed in).
    struct Renamed(Counting);

    impl Embedder for Renamed {
        fn fingerprint(&self) -> String {
            "counting:new".to_owned()
        }

        fn legacy_fingerprint(&self) -> Option<String> {
            Some("counting".to_owned())
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.embed_documents(texts)
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            self.0.embed_query(text)
        }
    }

    /// Vectors kept under a provider's legacy scope are served, and kept under its scope
    /// from then on; whole calls (a semantic chunker's) too.
    #[test]
    fn vectors_kept_under_the_legacy_scope_are_found_and_kept_anew() {
        let cache: Arc<dyn VectorCache> = Arc::new(LruCache::new(100));
        let old = Arc::new(Counting(AtomicUsize::new(0)));
        Embed::with_cache(old.clone(), cache.clone())
            .embed_set(&set(&["a", "bb"]))
            .unwrap();
        let renamed = Arc::new(Renamed(Counting(AtomicUsize::new(0))));
        let out = Embed::with_cache(renamed.clone(), cache.clone())
            .embed_set(&set(&["a", "bb", "ccc"]))
            .unwrap();
        assert_eq!(renamed.0.0.load(Ordering::SeqCst), 1, "ccc alone computed");
        assert_eq!((out.debug.cached, out.model.as_str()), (2, "counting:new"));
        assert_eq!(out.chunks[1].vector, vec![2.0, 1.0]);
        assert!(cache.get(&CacheKey::new("counting:new", "a")).is_some());
        let calls = cache::CallCache::wrap(Arc::new(Counting(AtomicUsize::new(0))), cache.clone());
        calls.embed_documents(&["x y", "z"]).unwrap();
        let counted = Arc::new(Renamed(Counting(AtomicUsize::new(0))));
        let calls = cache::CallCache::wrap(counted.clone(), cache.clone());
        assert_eq!(calls.embed_documents(&["x y", "z"]).unwrap()[0], [3.0, 1.0]);
        assert_eq!(
            counted.0.0.load(Ordering::SeqCst),
            0,
            "the call came from the cache"
        );
        let key = CacheKey::of_call("counting:new", &["x y", "z"]);
        assert!(cache.get(&key).is_some());
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

    /// Vectors from text lengths in batches of two; fails any call holding a text "bad".
    struct Picky(AtomicUsize);

    impl Embedder for Picky {
        fn fingerprint(&self) -> String {
            "picky".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            Ok(self.embed_documents_debug(texts)?.vectors)
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            Ok(vec![text.len() as f32, 1.0])
        }

        fn embed_documents_debug(&self, texts: &[&str]) -> Result<Embeddings, EmbedError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if texts.contains(&"bad") {
                return Err(EmbedError::new("the provider refused \"bad\""));
            }
            let batches = texts.len().div_ceil(2);
            Ok(Embeddings {
                vectors: texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect(),
                batches: (0..batches)
                    .map(|_| BatchDebug {
                        size: 2,
                        seconds: 1.0,
                        ..BatchDebug::default()
                    })
                    .collect(),
                placements: (0..texts.len())
                    .map(|index| Placement {
                        batch: index / 2,
                        truncated: texts[index].len() > 3,
                    })
                    .collect(),
                stopped: false,
            })
        }
    }

    /// Vectors of text lengths, but NaN for a text "nan" (a model that overflows).
    struct Overflowing(AtomicUsize);

    impl Embedder for Overflowing {
        fn fingerprint(&self) -> String {
            "overflowing".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(texts
                .iter()
                .map(|t| match *t {
                    "nan" => vec![f32::NAN, 1.0],
                    _ => vec![t.len() as f32, 1.0],
                })
                .collect())
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            Ok(vec![text.len() as f32, 1.0])
        }
    }

    /// A vector holding NaN fails its document, saying so, and is not cached (the run said
    /// `ok`, the sink wrote `null`s and the index could not be opened); the other documents
    /// of the call are embedded.
    #[test]
    fn a_vector_that_is_not_numbers_fails_its_document_and_is_not_kept() {
        let provider = Arc::new(Overflowing(AtomicUsize::new(0)));
        let embed = Embed::with_cache(provider.clone(), Arc::new(LruCache::new(100)));
        let (good, bad) = (named("good", &["fine"]), named("bad", &["x", "nan"]));
        let out = embed.embed_sets(&[&good, &bad]);
        assert_eq!(out[0].as_ref().unwrap().chunks[0].vector, [4.0, 1.0]);
        let error = out[1].as_ref().unwrap_err();
        assert!(
            error
                .message
                .contains("gave chunk 1 a vector holding values that are not numbers"),
            "{error}"
        );
        assert!(embed.embed_set(&bad).is_err());
        assert_eq!(
            provider.0.load(Ordering::SeqCst),
            2,
            "computed again, not cached"
        );
    }

    /// Document `doc_id` of one chunk per text (shared with the providers' tests).
    pub(super) fn named(doc_id: &str, texts: &[&str]) -> ChunkSet {
        ChunkSet {
            doc_id: doc_id.to_owned(),
            ..set(texts)
        }
    }

    #[test]
    fn several_documents_share_one_call_and_each_gets_its_own_figures() {
        let provider = Arc::new(Picky(AtomicUsize::new(0)));
        let embed = Embed::with_cache(provider.clone(), Arc::new(LruCache::new(100)));
        let (a, b) = (named("a", &["x", "yy", "x"]), named("b", &["yy", "zzzzz"]));
        let out = embed.embed_sets(&[&a, &b]);
        assert_eq!(provider.0.load(Ordering::SeqCst), 1, "one call for both");
        let (a, b) = (out[0].as_ref().unwrap(), out[1].as_ref().unwrap());
        assert_eq!(a.doc_id, "a");
        assert_eq!(b.doc_id, "b");
        assert_eq!(b.chunks[0].vector, vec![2.0, 1.0]);
        assert_eq!(b.chunks[1].vector, vec![5.0, 1.0]);
        // a computed x and yy (batch 0); b reused yy and computed zzzzz (batch 1).
        assert_eq!((a.debug.cached, b.debug.cached), (1, 1));
        assert_eq!((a.debug.batches.len(), b.debug.batches.len()), (1, 1));
        assert_eq!((a.debug.truncated, b.debug.truncated), (0, 1));
        assert!((a.debug.seconds - 1.0).abs() < 1e-9, "{}", a.debug.seconds);
        assert!((b.debug.seconds - 0.5).abs() < 1e-9, "{}", b.debug.seconds);
    }

    #[test]
    fn a_document_the_provider_refuses_fails_alone() {
        let provider = Arc::new(Picky(AtomicUsize::new(0)));
        let embed = Embed::with_cache(provider, Arc::new(NoCache));
        let sets = [
            named("a", &["one"]),
            named("b", &["bad", "two"]),
            named("c", &["three"]),
        ];
        let out = embed.embed_sets(&sets.iter().collect::<Vec<_>>());
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].as_ref().unwrap().chunks[0].vector, vec![3.0, 1.0]);
        let error = out[1].as_ref().unwrap_err();
        assert!(error.message.contains("refused"), "{}", error.message);
        assert_eq!(out[2].as_ref().unwrap().chunks[0].vector, vec![5.0, 1.0]);
    }

    /// Always down; counts the calls.
    struct Down(AtomicUsize);

    impl Embedder for Down {
        fn fingerprint(&self) -> String {
            "down".to_owned()
        }

        fn embed_documents(&self, _: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(EmbedError::provider_unavailable("gave up after 4 attempts"))
        }

        fn embed_query(&self, _: &str) -> Result<Vec<f32>, EmbedError> {
            Err(EmbedError::provider_unavailable("gave up after 4 attempts"))
        }
    }

    #[test]
    fn a_provider_that_is_down_is_asked_once_for_all_documents() {
        let provider = Arc::new(Down(AtomicUsize::new(0)));
        let embed = Embed::with_cache(provider.clone(), Arc::new(NoCache));
        let sets = [
            named("a", &["one"]),
            named("b", &["two"]),
            named("c", &["x"]),
        ];
        let out = embed.embed_sets(&sets.iter().collect::<Vec<_>>());
        assert_eq!(
            provider.0.load(Ordering::SeqCst),
            1,
            "not once more per document"
        );
        assert_eq!(out.len(), 3);
        for result in out {
            let error = result.unwrap_err();
            assert!(
                error.unavailable && error.message.contains("gave up"),
                "{error}"
            );
        }
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

    /// Fails on the provider's side (through its retries) for a call of several texts, or for
    /// any text "bad"; counts the calls.
    struct Faulty(AtomicUsize);

    impl Embedder for Faulty {
        fn fingerprint(&self) -> String {
            "faulty".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if texts.len() > 1 || texts.contains(&"bad") {
                return Err(EmbedError::server_fault(GaveUp {
                    attempts: 2,
                    last: "500".to_owned(),
                }));
            }
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            Ok(vec![text.len() as f32, 1.0])
        }
    }

    /// After a call failed on the provider's side, each document is tried alone, once: a
    /// success resets the count of failures in a row, so the documents that fail are only the
    /// ones whose text the provider fails on.
    #[test]
    fn after_a_server_fault_documents_are_tried_alone_once() {
        let provider = Arc::new(Faulty(AtomicUsize::new(0)));
        let embed = Embed::with_cache(provider.clone(), Arc::new(NoCache));
        let sets = [
            named("a", &["bad"]),
            named("b", &["bad"]),
            named("c", &["one"]),
            named("d", &["bad"]),
            named("e", &["bad"]),
            named("f", &["two"]),
        ];
        let out = embed.embed_sets(&sets.iter().collect::<Vec<_>>());
        assert_eq!(
            provider.0.load(Ordering::SeqCst),
            7,
            "the call, then six alone"
        );
        let ok: Vec<bool> = out.iter().map(Result::is_ok).collect();
        assert_eq!(ok, [false, false, true, false, false, true]);
        assert!(out[0].as_ref().unwrap_err().message.contains("500"));
    }

    /// Three documents alone failing in a row on the provider's side: it is down, and the rest
    /// of the call fails at once, with one message.
    #[test]
    fn three_lone_server_faults_in_a_row_fail_the_rest_at_once() {
        let provider = Arc::new(Faulty(AtomicUsize::new(0)));
        let embed = Embed::with_cache(provider.clone(), Arc::new(NoCache));
        let sets: Vec<ChunkSet> = (0..6).map(|i| named(&format!("d{i}"), &["bad"])).collect();
        let out = embed.embed_sets(&sets.iter().collect::<Vec<_>>());
        assert_eq!(provider.0.load(Ordering::SeqCst), 1 + LONE_SERVER_FAULTS);
        assert_eq!(out.len(), 6);
        for result in &out[LONE_SERVER_FAULTS..] {
            let error = result.as_ref().unwrap_err();
            assert!(error.unavailable, "{error}");
            assert!(
                error.message.contains("3 documents tried alone in a row"),
                "{error}"
            );
        }
    }

    /// Vectors of `size` numbers, the size changed at will (a server whose model changed).
    struct Resizable {
        size: AtomicUsize,
        calls: AtomicUsize,
    }

    impl Embedder for Resizable {
        fn fingerprint(&self) -> String {
            "resizable".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let size = self.size.load(Ordering::SeqCst);
            Ok(texts.iter().map(|t| vec![t.len() as f32; size]).collect())
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            Ok(vec![text.len() as f32; self.size.load(Ordering::SeqCst)])
        }
    }

    /// A reply of another size than the cache holds for the model fails its documents and is
    /// not cached; once the provider answers the right size again, they are embedded (a new
    /// operator on the same cache: the next run); a cached vector of another size is computed
    /// again.
    #[test]
    fn vectors_of_another_size_than_before_are_refused_and_not_cached() {
        let cache: Arc<dyn VectorCache> = Arc::new(LruCache::new(100));
        let provider = Arc::new(Resizable {
            size: AtomicUsize::new(2),
            calls: AtomicUsize::new(0),
        });
        let embed = Embed::with_cache(provider.clone(), cache.clone());
        embed.embed_set(&set(&["first"])).unwrap();
        provider.size.store(3, Ordering::SeqCst);
        let error = embed.embed_set(&set(&["second"])).unwrap_err();
        assert!(
            error
                .message
                .contains("3-dimensional vectors where it answered 2-dimensional"),
            "{error}"
        );
        assert!(cache.get(&CacheKey::new("resizable", "second")).is_none());
        let next_run = Embed::with_cache(provider.clone(), cache.clone());
        assert!(next_run.embed_set(&set(&["second"])).is_err(), "still 3");
        provider.size.store(2, Ordering::SeqCst);
        let next_run = Embed::with_cache(provider.clone(), cache.clone());
        let out = next_run.embed_set(&set(&["second"])).unwrap();
        assert_eq!(out.dimensions, 2);
        // A vector of another size in the cache (stored before sizes were recorded) is a miss.
        cache.put(
            CacheKey::new("resizable", "third"),
            Arc::from(vec![1.0f32; 5]),
        );
        let calls = provider.calls.load(Ordering::SeqCst);
        let out = next_run.embed_set(&set(&["third"])).unwrap();
        assert_eq!(out.chunks[0].vector.len(), 2);
        assert_eq!(provider.calls.load(Ordering::SeqCst), calls + 1);
        assert_eq!(
            cache
                .get(&CacheKey::new("resizable", "third"))
                .unwrap()
                .len(),
            2
        );
    }
}
