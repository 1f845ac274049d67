//! The `onnx` provider: a local transformer encoder (e.g. bge-small-en-v1.5) run by onnxruntime.
//!
//! The model folder holds an ONNX graph and its `tokenizer.json` (Hugging Face tokenizers). The
//! graph's inputs are found by name (`input_ids`, `attention_mask`, optional `token_type_ids`)
//! and its output by name (`last_hidden_state`, `token_embeddings`, `sentence_embedding`, …) or
//! position. Texts are sorted by token count and batched so that each batch pads to its own
//! longest text; the vectors come back in the order of the texts.
//!
//! onnxruntime itself is a shared library loaded at run time: `runtime:` in the settings, else
//! `ORT_DYLIB_PATH`, else `onnxruntime/libonnxruntime.so` beside the model folder (where
//! `just setup` puts it).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use ort::session::{Session, SessionInputValue, builder::GraphOptimizationLevel};
use ort::value::{Tensor, TensorElementType, ValueType};
use serde::{Deserialize, Serialize};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::{
    EmbedError, Embedder, Embeddings, Placement, default_cache_entries, default_true, l2_normalize,
};
use crate::model::BatchDebug;

/// How token vectors become one text vector.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The first token's vector (`[CLS]`), as BGE models are trained.
    #[default]
    Cls,
    /// The mean of the vectors of the real (unpadded) tokens, as most sentence-transformers are.
    Mean,
}

/// Settings of the `onnx` embedding provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OnnxConfig {
    /// Folder with the ONNX model and its `tokenizer.json`, relative to the pipeline file
    /// (`just setup` fetches `models/bge-small-en-v1.5`).
    pub model: String,
    /// The ONNX file in `model` (default: `model.onnx`, else the folder's only `.onnx` file).
    #[serde(default)]
    pub file: Option<String>,
    /// How token vectors are pooled into one vector per text.
    #[serde(default)]
    pub pooling: Pooling,
    /// Tokens per text, special tokens included; longer texts are cut (and counted in `debug`).
    #[serde(default = "default_max_tokens")]
    #[schemars(range(min = 2))]
    pub max_tokens: usize,
    /// Text put before every search query (BGE: "Represent this sentence for searching relevant
    /// passages: ").
    #[serde(default)]
    pub query_prefix: String,
    /// Text put before every document chunk.
    #[serde(default)]
    pub document_prefix: String,
    /// Texts per model call.
    #[serde(default = "default_batch_size")]
    #[schemars(range(min = 1, max = 4096))]
    pub batch_size: usize,
    /// onnxruntime intra-op threads (0: one per core; at most 256, and never more than the
    /// cores).
    #[serde(default)]
    #[schemars(range(max = 256))]
    pub threads: usize,
    /// Scale vectors to unit length.
    #[serde(default = "default_true")]
    pub normalize: bool,
    /// The graph output to pool, by name (default: `last_hidden_state`, `token_embeddings`,
    /// `sentence_embedding`, else the first output).
    #[serde(default)]
    pub output: Option<String>,
    /// Path of `libonnxruntime.so` (default: `ORT_DYLIB_PATH`, else
    /// `onnxruntime/libonnxruntime.so` beside the model folder).
    #[serde(default)]
    pub runtime: Option<String>,
    /// Vectors kept in the step's in-memory cache (0: no cache).
    #[serde(default = "default_cache_entries")]
    pub cache_entries: usize,
}

/// The position table of BERT-style models (bge, MiniLM, e5): they take no longer input.
const BERT_POSITIONS: usize = 512;

fn default_max_tokens() -> usize {
    BERT_POSITIONS
}

fn default_batch_size() -> usize {
    32
}

/// One pooled vector per text of a batch, and the seconds the model took.
type Pooled = (Vec<Vec<f32>>, f64);

/// The cache scope of the vectors of texts embedded alone by the model whose fingerprint is
/// `fingerprint` (see [`super::Embedder::cache_scope`]).
pub fn alone_scope(fingerprint: &str) -> String {
    format!("{fingerprint}:alone")
}

/// The tokenizer's file name inside a model folder.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

impl OnnxConfig {
    /// Settings for the model in `model` with every default.
    pub fn new(model: impl Into<String>) -> Self {
        OnnxConfig {
            model: model.into(),
            file: None,
            pooling: Pooling::default(),
            max_tokens: default_max_tokens(),
            query_prefix: String::new(),
            document_prefix: String::new(),
            batch_size: default_batch_size(),
            threads: 0,
            normalize: true,
            output: None,
            runtime: None,
            cache_entries: default_cache_entries(),
        }
    }

    /// Problems found before a run: a missing model folder, model file, tokenizer or runtime.
    pub fn problems(&self, base: &Path) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let dir = base.join(&self.model);
        if dir.exists() && !dir.is_dir() {
            let hint = match dir.file_name() {
                Some(name) if dir.extension().is_some_and(|ext| ext == "onnx") => {
                    let folder = Path::new(&self.model)
                        .parent()
                        .filter(|parent| !parent.as_os_str().is_empty())
                        .unwrap_or(Path::new("."));
                    format!(
                        "set `model: {}` and `file: {}`",
                        folder.display(),
                        name.to_string_lossy()
                    )
                }
                _ => "name the folder that holds the .onnx file and its tokenizer.json".to_owned(),
            };
            problems.push((
                "model",
                format!(
                    "`{}` is a file, but `model` names a folder (looked at {}); {hint}",
                    self.model,
                    dir.display()
                ),
            ));
            return problems;
        }
        if !dir.is_dir() {
            problems.push((
                "model",
                format!(
                    "model folder `{}` does not exist (looked for {}); run `just setup` to fetch the default model",
                    self.model,
                    dir.display()
                ),
            ));
            return problems;
        }
        match self.model_file(&dir) {
            // The folder is there: a `file` it does not hold is that key's problem.
            Err(err) if self.file.is_some() => problems.push(("file", err.message)),
            Err(err) => problems.push(("model", err.message)),
            Ok(file) => {
                let outline = super::positions::model_outline(&file).unwrap_or_default();
                problems.extend(self.past_the_positions(&file, outline.position_rows));
                problems.extend(self.output_not_in(&file, &outline.outputs));
            }
        }
        if !dir.join(TOKENIZER_FILE).is_file() {
            problems.push((
                "model",
                format!("{} has no tokenizer.json; run `just setup`", dir.display()),
            ));
        }
        if let Err(err) = self.runtime_path(base, &dir) {
            problems.push(("runtime", err.message));
        }
        problems
    }

    /// What may keep a run from loading the model though the settings are right: a model file
    /// that cannot be read as one (a tokenizer named as `file`, a damaged or cut-short
    /// download). Only what computes new embeddings loads it, so it warns.
    pub fn resource_warnings(&self, base: &Path) -> Vec<(&'static str, String)> {
        let Ok(file) = self.model_file(&base.join(&self.model)) else {
            return Vec::new();
        };
        let why = super::positions::model_outline(&file).and_then(|outline| outline.unreadable);
        let key = if self.file.is_some() { "file" } else { "model" };
        why.map(|why| {
            (
                key,
                format!(
                    "{} cannot be read as an ONNX model ({why}): documents that need new embeddings would fail to load it, and so would vector and hybrid queries",
                    file.display()
                ),
            )
        })
        .into_iter()
        .collect()
    }

    /// The problem of a `max_tokens` past the rows of the model's position table, when it has
    /// one ([`super::positions`]): texts that long would fail in the model, one document at a
    /// time.
    fn past_the_positions(
        &self,
        model_file: &Path,
        rows: Option<usize>,
    ) -> Option<(&'static str, String)> {
        let rows = rows?;
        (self.max_tokens > rows).then(|| {
            (
                "max_tokens",
                format!(
                    "`max_tokens` is {}, but the model ({}) has positions for {rows} tokens: longer texts would fail in it; set `max_tokens` to {rows} or less",
                    self.max_tokens,
                    model_file.display()
                ),
            )
        })
    }

    /// The problem of an `output` the model does not have (`outputs`, read from its file; none
    /// when they could not be read): every text would fail in it.
    fn output_not_in(
        &self,
        model_file: &Path,
        outputs: &[String],
    ) -> Option<(&'static str, String)> {
        let wanted = self.output.as_deref()?;
        if outputs.is_empty() || outputs.iter().any(|name| name == wanted) {
            return None;
        }
        let listed: Vec<String> = outputs.iter().map(|name| format!("`{name}`")).collect();
        Some((
            "output",
            format!(
                "the model ({}) has no output `{wanted}`; its outputs are {}: set `output` to one of them, or leave it out to take `last_hidden_state` or the first",
                model_file.display(),
                listed.join(", ")
            ),
        ))
    }

    /// The model file and tokenizer these settings load (those that can be found), paths
    /// resolved against `base`.
    pub fn files(&self, base: &Path) -> Vec<PathBuf> {
        let dir = base.join(&self.model);
        self.model_file(&dir)
            .ok()
            .into_iter()
            .chain([dir.join(TOKENIZER_FILE)])
            .collect()
    }

    fn model_file(&self, dir: &Path) -> Result<PathBuf, EmbedError> {
        if let Some(file) = &self.file {
            let path = dir.join(file);
            if path.is_file() {
                return Ok(path);
            }
            let held = onnx_files(dir).unwrap_or_default();
            let names: Vec<String> = (held.iter())
                .filter_map(|path| Some(format!("`{}`", path.file_name()?.to_string_lossy())))
                .collect();
            let what_to_do = if names.is_empty() {
                format!("{} holds no .onnx file; run `just setup`", dir.display())
            } else {
                format!("it holds {}: name one in `file:`", names.join(", "))
            };
            return Err(EmbedError::new(format!(
                "model file {} does not exist; {what_to_do}",
                path.display()
            )));
        }
        let default = dir.join("model.onnx");
        if default.is_file() {
            return Ok(default);
        }
        let mut found = onnx_files(dir)?;
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(EmbedError::new(format!(
                "{} holds no .onnx file; run `just setup`",
                dir.display()
            ))),
            _ => Err(EmbedError::new(format!(
                "{} holds several .onnx files; choose one with `file:`",
                dir.display()
            ))),
        }
    }

    /// The onnxruntime library these settings load, found or not, and where its path comes
    /// from: `runtime:`, `ORT_DYLIB_PATH`, else the default beside the model folder
    /// `model_dir`.
    pub fn runtime_library(&self, base: &Path, model_dir: &Path) -> (PathBuf, &'static str) {
        if let Some(runtime) = &self.runtime {
            (base.join(runtime), "`runtime:`")
        } else if let Some(env) = std::env::var_os("ORT_DYLIB_PATH") {
            (PathBuf::from(env), "ORT_DYLIB_PATH")
        } else {
            let parent = model_dir
                .canonicalize()
                .ok()
                .and_then(|dir| dir.parent().map(Path::to_owned))
                .unwrap_or_else(|| model_dir.join(".."));
            (
                parent.join("onnxruntime/libonnxruntime.so"),
                "the default beside the model folder",
            )
        }
    }

    fn runtime_path(&self, base: &Path, model_dir: &Path) -> Result<PathBuf, EmbedError> {
        let (path, from) = self.runtime_library(base, model_dir);
        if path.is_file() {
            Ok(path)
        } else if path.is_dir() {
            let inside = path.join("libonnxruntime.so");
            let what_to_do = if inside.is_file() {
                format!(
                    "it holds libonnxruntime.so: name that file, `{}`",
                    inside.display()
                )
            } else {
                "name the library file itself, libonnxruntime.so (`just setup` fetches it)"
                    .to_owned()
            };
            Err(EmbedError::new(format!(
                "onnxruntime library {} ({from}) is a folder, not the library file; {what_to_do}",
                path.display()
            )))
        } else {
            Err(EmbedError::new(format!(
                "onnxruntime library {} ({from}) does not exist; run `just setup`, or point `runtime:` or ORT_DYLIB_PATH at libonnxruntime.so",
                path.display()
            )))
        }
    }
}

/// The `.onnx` files in `dir`, sorted.
fn onnx_files(dir: &Path) -> Result<Vec<PathBuf>, EmbedError> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|err| EmbedError::new(format!("cannot list {}: {err}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "onnx"))
        .collect();
    found.sort();
    Ok(found)
}

/// The model `config` names, shared: branches that embed with equal settings (two `embed` steps
/// after two chunkers, say) use one session, loaded once and held in memory once. A session
/// already runs on every core it is given, so sharing it costs them no speed.
pub fn shared(config: &OnnxConfig, base: &Path) -> Result<Arc<OnnxEmbedder>, EmbedError> {
    type Loaded = Vec<((OnnxConfig, PathBuf), Weak<OnnxEmbedder>)>;
    static LOADED: Mutex<Loaded> = Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|poison| poison.into_inner());
    loaded.retain(|(_, embedder)| embedder.strong_count() > 0);
    let key = (config.clone(), base.to_owned());
    if let Some(embedder) = loaded
        .iter()
        .find(|(known, _)| *known == key)
        .and_then(|(_, embedder)| embedder.upgrade())
    {
        return Ok(embedder);
    }
    let embedder = Arc::new(OnnxEmbedder::new(config, base)?);
    loaded.push((key, Arc::downgrade(&embedder)));
    Ok(embedder)
}

/// The variable onnxruntime reads, when its environment is created, to record no telemetry.
/// onnxruntime 1.32 on Linux logs a `ProcessInfo` event then (this binary's path, the OS, the
/// CPU, a device id), keeps it in `~/.cache/Microsoft/DeveloperTools/.onnxruntime/` and sends
/// it to Microsoft's collector (`mobile.events.data.microsoft.com`) when it can reach it;
/// `with_telemetry(false)` turns events off only after that one.
pub const TELEMETRY_SWITCH: &str = "ORT_DISABLE_TELEMETRY";

/// Turns onnxruntime's telemetry off for this process, unless [`TELEMETRY_SWITCH`] is set
/// already (to anything: the user's choice stands). Call it first thing in `main`, before any
/// thread starts: setting a variable while another thread reads the environment is undefined
/// behaviour.
pub fn disable_telemetry() {
    if std::env::var_os(TELEMETRY_SWITCH).is_none() {
        // SAFETY: called at the start of `main`, while the process has one thread.
        unsafe { std::env::set_var(TELEMETRY_SWITCH, "1") };
    }
}

/// The process's onnxruntime: one library and one environment per process.
fn environment(library: &Path) -> Result<&'static ort::environment::Environment, EmbedError> {
    static ENVIRONMENT: OnceLock<Result<(PathBuf, ort::environment::Environment), String>> =
        OnceLock::new();
    let loaded = ENVIRONMENT.get_or_init(|| {
        let builder = ort::init_from(library)
            .map_err(|err| format!("cannot load onnxruntime from {}: {err}", library.display()))?;
        let environment = builder
            .with_name("engine")
            .with_telemetry(false)
            .build()
            .map_err(|err| format!("cannot start onnxruntime: {err}"))?;
        Ok((library.to_owned(), environment))
    });
    match loaded {
        Ok((_, environment)) => Ok(environment),
        Err(message) => Err(EmbedError::new(message.clone())),
    }
}

/// Where the graph's inputs and output are.
#[derive(Debug)]
struct Graph {
    input_ids: String,
    attention_mask: Option<String>,
    token_type_ids: Option<String>,
    output: usize,
    output_name: String,
}

impl Graph {
    fn find(session: &Session, output: Option<&str>) -> Result<Self, EmbedError> {
        let inputs: Vec<&str> = session.inputs().iter().map(|input| input.name()).collect();
        for input in session.inputs() {
            if let ValueType::Tensor { ty, .. } = input.dtype()
                && *ty != TensorElementType::Int64
            {
                return Err(EmbedError::new(format!(
                    "model input `{}` is {ty:?}; only int64 token inputs are supported",
                    input.name()
                )));
            }
        }
        let find = |names: &[&str]| {
            inputs
                .iter()
                .find(|input| names.contains(input))
                .map(|name| (*name).to_owned())
        };
        let input_ids = find(&["input_ids", "ids", "input"]).or_else(|| {
            // Positional: the first input is the token ids.
            inputs.first().map(|name| (*name).to_owned())
        });
        let Some(input_ids) = input_ids else {
            return Err(EmbedError::new("the model has no inputs"));
        };
        let attention_mask = find(&["attention_mask", "mask"]);
        let token_type_ids = find(&["token_type_ids", "segment_ids"]);
        for name in &inputs {
            let known = [
                Some(&input_ids),
                attention_mask.as_ref(),
                token_type_ids.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|known| known == name);
            if !known {
                return Err(EmbedError::new(format!(
                    "model input `{name}` is not one of input_ids, attention_mask, token_type_ids (inputs: {})",
                    inputs.join(", ")
                )));
            }
        }
        let outputs: Vec<&str> = session
            .outputs()
            .iter()
            .map(|output| output.name())
            .collect();
        let position = match output {
            Some(wanted) => outputs
                .iter()
                .position(|name| *name == wanted)
                .ok_or_else(|| {
                    EmbedError::new(format!(
                        "the model has no output `{wanted}` (outputs: {})",
                        outputs.join(", ")
                    ))
                })?,
            None => [
                "last_hidden_state",
                "token_embeddings",
                "sentence_embedding",
                "embeddings",
            ]
            .iter()
            .find_map(|wanted| outputs.iter().position(|name| name == wanted))
            .unwrap_or(0),
        };
        let output_name = outputs
            .get(position)
            .ok_or_else(|| EmbedError::new("the model has no outputs"))?
            .to_string();
        Ok(Graph {
            input_ids,
            attention_mask,
            token_type_ids,
            output: position,
            output_name,
        })
    }
}

/// Most attention cells (texts × padded length²) one model call may hold: a full batch up to
/// 256 tokens a text, fewer texts beyond. The attention scores of 32 texts of 512 tokens take
/// 400 MB a tensor, and onnxruntime keeps its largest allocations for the next call.
const MAX_ATTENTION_CELLS: usize = 32 * 256 * 256;

/// The sizes of consecutive batches of texts whose token lengths, longest first, are
/// `lengths`: at most `batch_size` texts, and within [`MAX_ATTENTION_CELLS`] (at least one).
fn batch_sizes(lengths: &[usize], batch_size: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut at = 0;
    while at < lengths.len() {
        // Sorted longest first: the batch pads to its first text.
        let longest = lengths[at].max(1);
        let fits = (MAX_ATTENTION_CELLS / (longest * longest)).clamp(1, batch_size.max(1));
        let size = fits.min(lengths.len() - at);
        sizes.push(size);
        at += size;
    }
    sizes
}

/// A local ONNX embedding model.
pub struct OnnxEmbedder {
    session: Mutex<Session>,
    tokenizer: Tokenizer,
    graph: Graph,
    pooling: Pooling,
    batch_size: usize,
    normalize: bool,
    query_prefix: String,
    document_prefix: String,
    fingerprint: String,
    /// The fingerprint engines before 2026-12 gave these settings (their query prefix hashed
    /// in), when it differs.
    legacy_fingerprint: Option<String>,
}

impl std::fmt::Debug for OnnxEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxEmbedder")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// Token ids of one text.
struct Encoded {
    ids: Vec<i64>,
    type_ids: Vec<i64>,
    truncated: bool,
}

impl OnnxEmbedder {
    /// The cache scope of vectors by the model whose fingerprint is `fingerprint` with these
    /// settings: texts embedded alone are kept apart.
    fn scope_of(&self, fingerprint: &str) -> String {
        if self.batch_size == 1 {
            alone_scope(fingerprint)
        } else {
            fingerprint.to_owned()
        }
    }

    /// Loads the model `config` names, paths resolved against `base`.
    pub fn new(config: &OnnxConfig, base: &Path) -> Result<Self, EmbedError> {
        let dir = base.join(&config.model);
        if !dir.is_dir() {
            return Err(EmbedError::new(format!(
                "model folder {} does not exist; run `just setup`",
                dir.display()
            )));
        }
        let model_file = config.model_file(&dir)?;
        let tokenizer_file = dir.join(TOKENIZER_FILE);
        let library = config.runtime_path(base, &dir)?;
        let environment = environment(&library)?;

        let mut tokenizer =
            crate::chunk::sizer::read_tokenizer(&tokenizer_file).map_err(|err| {
                EmbedError::new(format!("the tokenizer {} {err}", tokenizer_file.display()))
            })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: config.max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|err| EmbedError::new(format!("cannot set truncation: {err}")))?;

        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        let threads = intra_threads(config.threads, cores);
        let onnx_error = |err: ort::Error<ort::session::builder::SessionBuilder>| {
            EmbedError::new(format!("cannot configure onnxruntime: {err}"))
        };
        let session = Session::builder(environment)
            .map_err(|err| EmbedError::new(format!("cannot start onnxruntime: {err}")))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(onnx_error)?
            .with_intra_threads(threads)
            .map_err(onnx_error)?
            .commit_from_file(&model_file)
            .map_err(|err| {
                EmbedError::new(format!("cannot load {}: {err}", model_file.display()))
            })?;
        let graph = Graph::find(&session, config.output.as_deref())?;

        let mut hasher = blake3::Hasher::new();
        for file in [&model_file, &tokenizer_file] {
            let bytes = std::fs::read(file)
                .map_err(|err| EmbedError::new(format!("cannot read {}: {err}", file.display())))?;
            hasher.update(&bytes);
        }
        // The query prefix changes no document's vector: it is hashed as empty (as engines
        // before 2026-12 hashed a pipeline without one), and the vectors they kept under it
        // are found through the legacy scope.
        let fingerprint_with = |query_prefix: &str| {
            let mut hasher = hasher.clone();
            hasher.update(
                format!(
                    "{:?}\0{}\0{}\0{}\0{}\0{}",
                    config.pooling,
                    config.max_tokens,
                    config.normalize,
                    graph.output_name,
                    query_prefix,
                    config.document_prefix
                )
                .as_bytes(),
            );
            format!(
                "onnx:{}:{}",
                dir.file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                &hasher.finalize().to_hex()[..16]
            )
        };
        let fingerprint = fingerprint_with("");
        let legacy_fingerprint =
            (!config.query_prefix.is_empty()).then(|| fingerprint_with(&config.query_prefix));
        Ok(OnnxEmbedder {
            session: Mutex::new(session),
            tokenizer,
            graph,
            pooling: config.pooling,
            batch_size: config.batch_size.max(1),
            normalize: config.normalize,
            query_prefix: config.query_prefix.clone(),
            document_prefix: config.document_prefix.clone(),
            fingerprint,
            legacy_fingerprint,
        })
    }

    fn encode(&self, texts: Vec<String>) -> Result<Vec<Encoded>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts, true)
            .map_err(|err| EmbedError::new(format!("cannot tokenize: {err}")))?;
        Ok(encodings
            .into_iter()
            .map(|encoding| Encoded {
                ids: encoding.get_ids().iter().map(|&id| i64::from(id)).collect(),
                type_ids: encoding
                    .get_type_ids()
                    .iter()
                    .map(|&id| i64::from(id))
                    .collect(),
                truncated: !encoding.get_overflowing().is_empty(),
            })
            .collect())
    }

    /// Runs the model on texts with `prefix`, batching texts of similar length, until `stop` is
    /// set: it is checked before each batch, and again once the session is free (two workers
    /// share it), see [`Embedder::embed_documents_until`].
    fn embed_prefixed(
        &self,
        texts: &[&str],
        prefix: &str,
        stop: &AtomicBool,
    ) -> Result<Embeddings, EmbedError> {
        if texts.is_empty() {
            return Ok(Embeddings::default());
        }
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let mut placements = vec![Placement::default(); texts.len()];
        let mut batches = Vec::new();
        // Tokenize first (cheap), then sort by length so each batch pads little.
        let started = Instant::now();
        let encoded = self.encode(texts.iter().map(|text| format!("{prefix}{text}")).collect())?;
        let tokenize_seconds = started.elapsed().as_secs_f64();
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&index| std::cmp::Reverse(encoded[index].ids.len()));
        let lengths: Vec<usize> = order
            .iter()
            .map(|&index| encoded[index].ids.len())
            .collect();
        let sizes = batch_sizes(&lengths, self.batch_size);
        let batch_count = sizes.len();
        let mut rest = order.as_slice();
        let mut stopped = false;
        for size in sizes {
            if stop.load(Ordering::Relaxed) {
                stopped = true;
                break;
            }
            let (batch, after) = rest.split_at(size);
            rest = after;
            let Some((pooled, model_seconds)) =
                self.run_batch(batch.iter().map(|&index| &encoded[index]), stop)?
            else {
                stopped = true;
                break;
            };
            // Tokenizing was done for all batches at once; each batch carries its share.
            let seconds = model_seconds + tokenize_seconds / batch_count as f64;
            let tokens: usize = batch.iter().map(|&index| encoded[index].ids.len()).sum();
            batches.push(BatchDebug {
                size: batch.len(),
                padded_len: Some(encoded[batch[0]].ids.len()),
                tokens: Some(tokens),
                seconds,
                tokens_per_second: Some(if seconds > 0.0 {
                    tokens as f64 / seconds
                } else {
                    0.0
                }),
                truncated: batch
                    .iter()
                    .filter(|&&index| encoded[index].truncated)
                    .count(),
                retries: 0,
            });
            for (&index, vector) in batch.iter().zip(pooled) {
                vectors[index] = vector;
                placements[index] = Placement {
                    batch: batches.len() - 1,
                    truncated: encoded[index].truncated,
                };
            }
        }
        Ok(Embeddings {
            vectors,
            batches,
            placements,
            stopped,
        })
    }

    /// One model call on a batch, padded to its longest text: one pooled vector per text, and
    /// the seconds it took once the session was free (another worker may hold it); `None` when
    /// `stop` was set while it waited for the session.
    fn run_batch<'a>(
        &self,
        batch: impl ExactSizeIterator<Item = &'a Encoded> + Clone,
        stop: &AtomicBool,
    ) -> Result<Option<Pooled>, EmbedError> {
        let rows = batch.len();
        let width = batch
            .clone()
            .map(|encoded| encoded.ids.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut ids = vec![0i64; rows * width];
        let mut mask = vec![0i64; rows * width];
        let mut types = vec![0i64; rows * width];
        for (row, encoded) in batch.enumerate() {
            let at = row * width;
            let len = encoded.ids.len();
            ids[at..at + len].copy_from_slice(&encoded.ids);
            mask[at..at + len].fill(1);
            types[at..at + len].copy_from_slice(&encoded.type_ids);
        }
        let tensor = |data: Vec<i64>| {
            Tensor::from_array(([rows, width], data))
                .map(SessionInputValue::from)
                .map_err(|err| EmbedError::new(format!("cannot build an input tensor: {err}")))
        };
        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
            vec![(Cow::from(self.graph.input_ids.as_str()), tensor(ids)?)];
        if let Some(name) = &self.graph.attention_mask {
            inputs.push((Cow::from(name.as_str()), tensor(mask.clone())?));
        }
        if let Some(name) = &self.graph.token_type_ids {
            inputs.push((Cow::from(name.as_str()), tensor(types)?));
        }
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let started = Instant::now();
        let outputs = session.run(inputs).map_err(|err| {
            // Past its position table a BERT-style model fails with a shape error.
            let hint = if width > BERT_POSITIONS {
                format!(
                    " (texts of {width} tokens: BERT-style models take at most \
                         {BERT_POSITIONS}; lower `max_tokens` to what the model takes)"
                )
            } else {
                String::new()
            };
            EmbedError::new(format!("onnxruntime failed: {err}{hint}"))
        })?;
        let (shape, data) = outputs[self.graph.output]
            .try_extract_tensor::<f32>()
            .map_err(|err| {
                EmbedError::new(format!(
                    "output `{}` is not a float tensor: {err}",
                    self.graph.output_name
                ))
            })?;
        let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
        let mut vectors = Vec::with_capacity(rows);
        match dims.as_slice() {
            [r, seq, hidden] if *r == rows && *seq == width => {
                for row in 0..rows {
                    let tokens = &data[row * seq * hidden..(row + 1) * seq * hidden];
                    let mut vector = match self.pooling {
                        Pooling::Cls => tokens[..*hidden].to_vec(),
                        Pooling::Mean => {
                            let mut sum = vec![0f32; *hidden];
                            let mut count = 0f32;
                            for (position, token) in tokens.chunks_exact(*hidden).enumerate() {
                                if mask[row * width + position] == 1 {
                                    count += 1.0;
                                    sum.iter_mut().zip(token).for_each(|(s, t)| *s += t);
                                }
                            }
                            sum.iter_mut().for_each(|s| *s /= count.max(1.0));
                            sum
                        }
                    };
                    if self.normalize {
                        l2_normalize(&mut vector);
                    }
                    vectors.push(vector);
                }
            }
            [r, hidden] if *r == rows => {
                for row in data.chunks_exact(*hidden) {
                    let mut vector = row.to_vec();
                    if self.normalize {
                        l2_normalize(&mut vector);
                    }
                    vectors.push(vector);
                }
            }
            _ => {
                return Err(EmbedError::new(format!(
                    "output `{}` has shape {dims:?}; expected [{rows}, {width}, hidden] or [{rows}, hidden]",
                    self.graph.output_name
                )));
            }
        }
        Ok(Some((vectors, started.elapsed().as_secs_f64())))
    }
}

impl Embedder for OnnxEmbedder {
    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    /// Texts embedded alone (`batch_size: 1`) have vectors of their own, apart from batched ones.
    fn cache_scope(&self) -> String {
        self.scope_of(&self.fingerprint)
    }

    fn legacy_fingerprint(&self) -> Option<String> {
        self.legacy_fingerprint.clone()
    }

    fn legacy_cache_scope(&self) -> Option<String> {
        self.legacy_fingerprint
            .as_ref()
            .map(|fingerprint| self.scope_of(fingerprint))
    }

    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(self.embed_documents_debug(texts)?.vectors)
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut embeddings = self.embed_prefixed(&[text], &self.query_prefix, &super::NEVER)?;
        embeddings
            .vectors
            .pop()
            .ok_or_else(|| EmbedError::new("the model returned no vector"))
    }

    fn embed_documents_debug(&self, texts: &[&str]) -> Result<Embeddings, EmbedError> {
        self.embed_prefixed(texts, &self.document_prefix, &super::NEVER)
    }

    fn embed_documents_until(
        &self,
        texts: &[&str],
        stop: &AtomicBool,
    ) -> Result<Embeddings, EmbedError> {
        self.embed_prefixed(texts, &self.document_prefix, stop)
    }
}

/// The intra-op threads for `threads` asked on a machine of `cores`: one per core for 0, and
/// never more than the cores (more only take turns: 256 on 2 cores ran 100 times slower, and
/// a stop waited minutes for the batch in flight).
fn intra_threads(threads: usize, cores: usize) -> usize {
    match threads {
        0 => cores,
        n => n.min(cores),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_never_outnumber_the_cores() {
        assert_eq!(intra_threads(0, 8), 8);
        assert_eq!(intra_threads(2, 8), 2);
        assert_eq!(intra_threads(256, 2), 2);
    }

    /// The repository root (models/ and tests/fixtures/ live there).
    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_owned()
    }

    const MODEL: &str = "models/bge-small-en-v1.5";

    /// The default model; fails (never skips) when `just setup` has not run.
    fn config() -> OnnxConfig {
        let problems = OnnxConfig::new(MODEL).problems(&root());
        assert!(
            problems.is_empty(),
            "the embedding model is missing: run `just setup` ({problems:?})"
        );
        let mut config = OnnxConfig::new(MODEL);
        config.threads = 2;
        config.query_prefix =
            "Represent this sentence for searching relevant passages: ".to_owned();
        config
    }

    /// A `max_tokens` past the model's 512 positions is a problem before any run, naming the
    /// most it may be; up to them it is none.
    #[test]
    fn max_tokens_past_the_models_positions_is_found_before_a_run() {
        let mut config = config();
        config.max_tokens = 512;
        assert!(config.problems(&root()).is_empty());
        config.max_tokens = 1024;
        let problems = config.problems(&root());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "max_tokens");
        assert!(
            problems[0].1.contains("set `max_tokens` to 512 or less"),
            "{}",
            problems[0].1
        );
    }

    /// An `output` the model does not have is a problem before any run (every document failed
    /// at the embed step), listing the model's outputs; one it has is none.
    #[test]
    fn an_output_the_model_lacks_is_found_before_a_run() {
        let mut config = config();
        config.output = Some("last_hidden_state".to_owned());
        assert!(config.problems(&root()).is_empty());
        config.output = Some("last_hidden_states".to_owned());
        let problems = config.problems(&root());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "output");
        assert!(
            problems[0].1.contains(
                "has no output `last_hidden_states`; its outputs are `last_hidden_state`"
            ),
            "{}",
            problems[0].1
        );
    }

    /// A model file that is no model (a tokenizer named as `file`) is a warning before the
    /// run, which would fail every document that needs new embeddings (`validate` said the
    /// pipeline was valid); the real model is none.
    #[test]
    fn a_file_that_is_no_model_is_a_warning_before_a_run() {
        let mut config = config();
        assert!(config.resource_warnings(&root()).is_empty());
        config.file = Some("tokenizer.json".to_owned());
        assert!(config.problems(&root()).is_empty());
        let warnings = config.resource_warnings(&root());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0, "file");
        assert!(
            warnings[0]
                .1
                .contains("tokenizer.json cannot be read as an ONNX model"),
            "{}",
            warnings[0].1
        );
    }

    /// A `runtime` that names a folder says so, and names the library in it.
    #[test]
    fn a_runtime_that_is_a_folder_is_named_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config();
        config.runtime = Some(dir.path().to_string_lossy().into_owned());
        let problem = |config: &OnnxConfig| {
            let problems = config.problems(&root());
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].0, "runtime");
            problems[0].1.clone()
        };
        let message = problem(&config);
        assert!(
            message.contains("is a folder, not the library file"),
            "{message}"
        );
        assert!(
            message.contains("name the library file itself"),
            "{message}"
        );
        std::fs::write(dir.path().join("libonnxruntime.so"), b"").unwrap();
        let message = problem(&config);
        assert!(
            message.contains("it holds libonnxruntime.so: name that file"),
            "{message}"
        );
    }

    /// A `model` that names a file says so, and for an .onnx file how to name it instead.
    #[test]
    fn a_model_that_is_a_file_is_named_as_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("m")).unwrap();
        std::fs::write(dir.path().join("m/model.onnx"), b"").unwrap();
        let problems = OnnxConfig::new("m/model.onnx").problems(dir.path());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "model");
        assert!(
            problems[0]
                .1
                .contains("is a file, but `model` names a folder")
        );
        assert!(
            problems[0]
                .1
                .contains("set `model: m` and `file: model.onnx`")
        );
        assert!(!problems[0].1.contains("does not exist"));
        let problems = OnnxConfig::new("missing").problems(dir.path());
        assert!(problems[0].1.contains("does not exist"), "{problems:?}");
    }

    /// A `file` the model folder does not hold is that key's problem, naming the .onnx files
    /// the folder does hold: it was blamed on `model`, with `run just setup`, which could not help.
    #[test]
    fn a_file_the_folder_does_not_hold_is_named_with_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("m")).unwrap();
        std::fs::write(dir.path().join("m/model_quantized.onnx"), b"").unwrap();
        std::fs::write(dir.path().join("m/tokenizer.json"), b"{}").unwrap();
        let mut config = OnnxConfig::new("m");
        config.file = Some("model.onnx".to_owned());
        let problems = config.problems(dir.path());
        let (key, message) = (problems.iter())
            .find(|(_, message)| message.contains("model.onnx does not exist"))
            .unwrap_or_else(|| panic!("{problems:?}"));
        assert_eq!(*key, "file");
        assert!(
            message.contains("it holds `model_quantized.onnx`: name one in `file:`")
                && !message.contains("just setup"),
            "{message}"
        );
    }

    #[test]
    fn long_texts_go_in_smaller_batches() {
        // Up to 256 tokens, full batches; 512 tokens, a quarter; never an empty batch.
        assert_eq!(batch_sizes(&[200; 70], 32), [32, 32, 6]);
        assert_eq!(batch_sizes(&[512; 10], 32), [8, 2]);
        let mixed: Vec<usize> = [512; 9].into_iter().chain([100; 40]).collect();
        assert_eq!(batch_sizes(&mixed, 32), [8, 8, 32, 1]);
        assert_eq!(batch_sizes(&[100_000], 32), [1]);
        assert_eq!(batch_sizes(&[0, 0], 0), [1, 1]);
        assert!(batch_sizes(&[], 32).is_empty());
    }

    /// Two embed steps with equal settings share one session; other settings get their own.
    #[test]
    fn equal_settings_share_one_session() {
        let config = config();
        let a = shared(&config, &root()).unwrap();
        let b = shared(&config, &root()).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        // Settings no other test uses: this test alone holds their session.
        let mut other = config.clone();
        other.pooling = Pooling::Mean;
        other.max_tokens = 123;
        let c = shared(&other, &root()).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        // Once nobody holds it, the session is let go.
        let weak = Arc::downgrade(&c);
        drop(c);
        assert!(weak.upgrade().is_none());
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (norm(a) * norm(b))
    }

    struct Reference {
        texts: Vec<String>,
        vectors: Vec<Vec<f32>>,
        truncated: Vec<bool>,
        query: String,
        query_vector: Vec<f32>,
    }

    fn reference() -> Reference {
        let text = std::fs::read_to_string(root().join("tests/fixtures/bge_reference.json"))
            .expect("tests/fixtures/bge_reference.json");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let floats = |v: &serde_json::Value| -> Vec<f32> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        };
        Reference {
            texts: value["texts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect(),
            vectors: value["vectors"]
                .as_array()
                .unwrap()
                .iter()
                .map(floats)
                .collect(),
            truncated: value["truncated"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_bool().unwrap())
                .collect(),
            query: value["query"].as_str().unwrap().to_owned(),
            query_vector: floats(&value["query_vector"]),
        }
    }

    /// A stop request is checked before every model batch: made before the call, no batch
    /// runs and every text is left without a vector; without one, every batch runs.
    #[test]
    fn a_stop_request_runs_no_more_batches() {
        let mut config = config();
        config.batch_size = 1;
        let embedder = OnnxEmbedder::new(&config, &root()).unwrap();
        let texts = ["one text", "another text", "a third"];
        let stopped = embedder
            .embed_documents_until(&texts, &AtomicBool::new(true))
            .unwrap();
        assert!(stopped.stopped && stopped.batches.is_empty());
        assert_eq!(stopped.vectors.len(), 3);
        assert!(stopped.vectors.iter().all(Vec::is_empty));
        let all = embedder
            .embed_documents_until(&texts, &AtomicBool::new(false))
            .unwrap();
        assert!(!all.stopped);
        assert_eq!(all.batches.len(), 3);
        assert!(all.vectors.iter().all(|v| v.len() == 384));
    }

    /// The engine's vectors match onnxruntime-python's (scripts/reference_vectors.py) on the
    /// same model and texts: cosine >= 0.999 run alone, as the reference was. Batched, the int8
    /// model's dynamic quantization scales each activation tensor by its batch-wide range, so a
    /// vector moves a little with its batch mates and padding (as in onnxruntime-python):
    /// batches are held to >= 0.99.
    #[test]
    fn vectors_match_onnxruntime_python() {
        let reference = reference();
        let texts: Vec<&str> = reference.texts.iter().map(String::as_str).collect();
        for batch_size in [1, 5, 32] {
            let mut config = config();
            config.batch_size = batch_size;
            let embedder = OnnxEmbedder::new(&config, &root()).unwrap();
            let out = embedder.embed_documents_debug(&texts).unwrap();
            assert_eq!(out.vectors.len(), texts.len());
            for (index, (ours, theirs)) in out.vectors.iter().zip(&reference.vectors).enumerate() {
                assert_eq!(ours.len(), 384);
                let similarity = cosine(ours, theirs);
                let bound = if batch_size == 1 { 0.999 } else { 0.99 };
                assert!(
                    similarity >= bound,
                    "batch {batch_size}, text {index}: cosine {similarity}"
                );
                let norm: f32 = ours.iter().map(|x| x * x).sum::<f32>().sqrt();
                assert!((norm - 1.0).abs() < 1e-4);
            }
            let truncated: usize = out.batches.iter().map(|b| b.truncated).sum();
            let expected = reference.truncated.iter().filter(|t| **t).count();
            assert_eq!(truncated, expected);
            // Each text says which batch it ran in and whether it was cut.
            let cut: Vec<bool> = out.placements.iter().map(|p| p.truncated).collect();
            assert_eq!(cut, reference.truncated);
            for (batch, debug) in out.batches.iter().enumerate() {
                let members = out.placements.iter().filter(|p| p.batch == batch).count();
                assert_eq!(members, debug.size);
            }
            // Full batches, but for long texts: within the attention budget.
            for debug in &out.batches {
                let padded = debug.padded_len.unwrap();
                assert!(debug.size <= batch_size);
                assert!(debug.size == 1 || debug.size * padded * padded <= MAX_ATTENTION_CELLS);
            }
            assert_eq!(
                out.batches.iter().map(|b| b.size).sum::<usize>(),
                texts.len()
            );
            // Batches hold texts sorted by length: padding never exceeds the batch's longest.
            let padded: Vec<usize> = out.batches.iter().map(|b| b.padded_len.unwrap()).collect();
            assert!(padded.windows(2).all(|w| w[0] >= w[1]), "{padded:?}");
            assert_eq!(padded[0], 512);
        }
        let embedder = OnnxEmbedder::new(&config(), &root()).unwrap();
        let query = embedder.embed_query(&reference.query).unwrap();
        assert!(cosine(&query, &reference.query_vector) >= 0.999);
    }

    /// Batch size leaves the model's fingerprint alone, but texts embedded alone have a cache
    /// scope of their own: their int8 vectors differ from batched ones.
    #[test]
    fn texts_embedded_alone_have_a_cache_scope_of_their_own() {
        let mut config = config();
        config.batch_size = 1;
        let alone = OnnxEmbedder::new(&config, &root()).unwrap();
        config.batch_size = 8;
        let batched = OnnxEmbedder::new(&config, &root()).unwrap();
        config.batch_size = 32;
        let larger = OnnxEmbedder::new(&config, &root()).unwrap();
        assert_eq!(alone.fingerprint(), batched.fingerprint());
        assert_ne!(alone.cache_scope(), batched.cache_scope());
        assert_eq!(batched.cache_scope(), larger.cache_scope());
    }

    /// The query prefix changes no document's vector: embedders that differ in it alone
    /// share their fingerprint and cache scope; the one with a prefix looks in the scope
    /// older engines kept its vectors under (the prefix hashed in), alone or batched.
    #[test]
    fn the_query_prefix_is_no_part_of_the_vectors_identity() {
        let mut config = config();
        config.batch_size = 1;
        config.query_prefix = String::new();
        let plain = OnnxEmbedder::new(&config, &root()).unwrap();
        config.query_prefix = "Represent this sentence: ".into();
        let prefixed = OnnxEmbedder::new(&config, &root()).unwrap();
        config.batch_size = 8;
        let batched = OnnxEmbedder::new(&config, &root()).unwrap();
        assert_eq!(plain.fingerprint(), prefixed.fingerprint());
        assert_eq!(plain.cache_scope(), prefixed.cache_scope());
        assert_eq!(plain.legacy_cache_scope(), None);
        let legacy = prefixed.legacy_cache_scope().unwrap();
        assert!(legacy.ends_with(":alone") && legacy != prefixed.cache_scope());
        assert_eq!(
            batched.legacy_cache_scope().unwrap(),
            legacy.trim_end_matches(":alone")
        );
        assert_ne!(
            plain.embed_query("wings").unwrap(),
            prefixed.embed_query("wings").unwrap()
        );
    }

    #[test]
    fn texts_past_the_models_positions_say_to_lower_max_tokens() {
        let mut config = config();
        config.max_tokens = 2048;
        let embedder = OnnxEmbedder::new(&config, &root()).unwrap();
        let long = "word ".repeat(1500);
        let err = embedder.embed_documents(&[&long]).unwrap_err().to_string();
        assert!(err.contains("lower `max_tokens`"), "{err}");
    }

    #[test]
    fn mean_pooling_and_raw_vectors() {
        let mut config = config();
        config.pooling = Pooling::Mean;
        config.normalize = false;
        let mean = OnnxEmbedder::new(&config, &root()).unwrap();
        let cls = OnnxEmbedder::new(&self::config(), &root()).unwrap();
        assert_ne!(mean.fingerprint(), cls.fingerprint());
        let text = ["Cargo is Rust's build system and package manager."];
        let a = &mean.embed_documents(&text).unwrap()[0];
        let b = &cls.embed_documents(&text).unwrap()[0];
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() > 1e-3, "not normalized: {norm}");
        assert!(cosine(a, b) < 0.999);
    }

    #[test]
    fn missing_models_say_to_run_setup() {
        let problems = OnnxConfig::new("no/such/model").problems(&root());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].1.contains("just setup"), "{problems:?}");
        let err = OnnxEmbedder::new(&OnnxConfig::new("no/such/model"), &root()).unwrap_err();
        assert!(err.to_string().contains("just setup"), "{err}");
        let mut config = OnnxConfig::new(MODEL);
        config.runtime = Some("no/such/libonnxruntime.so".to_owned());
        let problems = config.problems(&root());
        assert_eq!(problems[0].0, "runtime");
        assert!(problems[0].1.contains("just setup"));
    }
}
