//! Querying the index a pipeline's `index.hybrid` step built, with the query embedded by the same
//! provider and settings as the branch that built it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;
use operators::embed::Embedder;
use operators::index::vectors::VectorIndex;
use operators::index::{Fusion, Hit, HybridIndex, Mode};

use crate::failure::invalid;
use crate::registry::OperatorConfig;
use crate::spec::load::Pipeline;

/// Where an index step keeps its index: `indexes/<pipeline>/<step>` under the store, or the
/// older `indexes/<step>` while an index there has not been moved yet ([`move_legacy_index`]).
/// Only looks: a query never moves files.
pub fn index_dir(pipeline: &Pipeline, step: &str) -> PathBuf {
    let namespaced = namespaced_index_dir(pipeline, step);
    let legacy = legacy_index_dir(pipeline, step);
    if !namespaced.exists() && legacy.join("CURRENT").is_file() {
        legacy
    } else {
        namespaced
    }
}

/// Moves an index step's index from the older `indexes/<step>` into its pipeline's folder, once;
/// `run` calls it, holding the store, before the step starts.
pub fn move_legacy_index(pipeline: &Pipeline, step: &str) -> anyhow::Result<()> {
    let namespaced = namespaced_index_dir(pipeline, step);
    let legacy = legacy_index_dir(pipeline, step);
    if namespaced.exists() || !legacy.join("CURRENT").is_file() {
        return Ok(());
    }
    if let Some(parent) = namespaced.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::rename(&legacy, &namespaced).with_context(|| {
        format!(
            "cannot move the index of `{step}` from {} to {}",
            legacy.display(),
            namespaced.display()
        )
    })
}

fn namespaced_index_dir(pipeline: &Pipeline, step: &str) -> PathBuf {
    pipeline
        .store
        .join("indexes")
        .join(folder_name(&pipeline.name))
        .join(step)
}

/// The index folders of `pipeline` in its store that no index step of it names any more (a
/// step removed or renamed).
pub fn orphaned_index_dirs(pipeline: &Pipeline) -> Vec<PathBuf> {
    let steps: std::collections::HashSet<&str> = pipeline
        .steps
        .iter()
        .filter(|step| matches!(step.config, crate::registry::OperatorConfig::IndexHybrid(_)))
        .map(|step| step.name.as_str())
        .collect();
    let folder = pipeline
        .store
        .join("indexes")
        .join(folder_name(&pipeline.name));
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut orphaned: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_none_or(|name| !steps.contains(name))
        })
        .map(|entry| entry.path())
        .collect();
    orphaned.sort();
    orphaned
}

fn legacy_index_dir(pipeline: &Pipeline, step: &str) -> PathBuf {
    pipeline.store.join("indexes").join(step)
}

/// Most bytes of a query text that are embedded: far more than a model reads (the default
/// one, 512 tokens), so a long query's vector is the same, and a 10 MB query no longer took
/// 1 GB to tokenize.
const MAX_EMBEDDED_QUERY_BYTES: usize = 64 * 1024;

/// The start of `text` that is embedded, cut at a character boundary.
fn embedded_part(text: &str) -> &str {
    &text[..text.floor_char_boundary(MAX_EMBEDDED_QUERY_BYTES)]
}

/// A pipeline name as one folder name: itself when it is plain, else a hash of it. A name
/// spelled like a hash (`p-` and 16 hex digits) is hashed too, so that it cannot take the folder
/// of another name's hash, and with it that pipeline's indexes; so is a name longer than a
/// file name may be (255 bytes), which no folder could have.
pub fn folder_name(name: &str) -> String {
    let hashed = |name: &str| format!("p-{}", &blake3::hash(name.as_bytes()).to_hex()[..16]);
    let looks_hashed = name.len() == 18
        && name.strip_prefix("p-").is_some_and(|hex| {
            hex.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        });
    let plain = !name.is_empty()
        && name.len() <= crate::spec::schema::MAX_FILE_NAME_BYTES
        && !name.starts_with('.')
        && !looks_hashed
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain { name.to_owned() } else { hashed(name) }
}

/// The names of the pipeline's index steps.
pub fn index_steps(pipeline: &Pipeline) -> Vec<&str> {
    pipeline
        .steps
        .iter()
        .filter(|step| matches!(step.config, OperatorConfig::IndexHybrid(_)))
        .map(|step| step.name.as_str())
        .collect()
}

/// An index opened for queries, with the embedder of its branch.
pub struct Searcher {
    /// The index.
    pub index: HybridIndex,
    /// The query embedder, loaded by the first query that needs it (queries share it).
    embedder: OnceLock<Arc<dyn Embedder>>,
    /// Held while the embedder loads, so that queries arriving together load it once.
    loading: Mutex<()>,
    embed_config: Option<operators::embed::EmbedConfig>,
    base: PathBuf,
    /// The index's folder.
    dir: PathBuf,
    /// The index step and the pipeline file, for messages.
    step: String,
    file: PathBuf,
}

impl Searcher {
    /// Opens the index of step `step`.
    pub fn open(pipeline: &Pipeline, step: &str) -> anyhow::Result<Searcher> {
        let Some(index_step) = pipeline.steps.iter().find(|s| s.name == step) else {
            return Err(invalid(format!(
                "no step `{step}` in {}; {}",
                pipeline.file.display(),
                index_steps_are(pipeline)
            )));
        };
        if !matches!(index_step.config, OperatorConfig::IndexHybrid(_)) {
            return Err(invalid(format!(
                "step `{step}` runs `{}`, not an index; {}",
                index_step.config.info().name,
                index_steps_are(pipeline)
            )));
        }
        let embed_config = index_step.inputs.iter().find_map(|input| {
            pipeline
                .steps
                .iter()
                .find(|s| &s.name == input)
                .and_then(|s| match &s.config {
                    OperatorConfig::Embed(config) => Some(config.clone()),
                    _ => None,
                })
        });
        complete_publishing(pipeline);
        let dir = index_dir(pipeline, step);
        if !HybridIndex::exists(&dir) {
            if let Some(run_id) = running_run(pipeline) {
                return Err(invalid(format!(
                    "`{step}` has no index yet: run {run_id} of {} is building it now; query again when it ends (`engine runs --pipeline {}` shows it)",
                    pipeline.file.display(),
                    pipeline.file.display()
                )));
            }
            return Err(invalid(format!(
                "`{step}` has no index yet (none in {}): run the pipeline first (`engine run {}`)",
                dir.display(),
                pipeline.file.display()
            )));
        }
        let index =
            HybridIndex::open(&dir).map_err(|err| unopened(err, step, &dir, &pipeline.file))?;
        Ok(Searcher {
            index,
            embedder: OnceLock::new(),
            loading: Mutex::new(()),
            embed_config,
            base: pipeline.base.clone(),
            dir,
            step: step.to_owned(),
            file: pipeline.file.clone(),
        })
    }

    /// What to say, after searching, when a search found the index's vector graph damaged
    /// or of an older format: vector searches score every chunk instead of walking it until a
    /// run saves it anew.
    pub fn rebuilt_graph_note(&self) -> Option<String> {
        // Vectors no search read (BM25 alone) are not read for this.
        let read = self.index.vectors_if_read();
        if !read.is_some_and(|vectors| vectors.graph_found_unusable()) {
            return None;
        }
        // A query never writes the index.
        let run = format!("`engine run {}`", self.file.display());
        let saved_by = if self.index.read_only() {
            format!(
                "its folder is read-only to this user, so it cannot be saved from here: {run} by the store's owner saves it anew"
            )
        } else {
            format!("{run} once saves it anew")
        };
        Some(format!(
            "the vector graph of index `{}` is damaged or from an older version of the engine, so vector searches score every chunk instead of walking it (the same hits, slower on a large index); {saved_by}",
            self.step,
        ))
    }

    /// The index's vector half (`None` when it holds no vectors), read on first use: BM25
    /// searches never read it. A damaged or unreadable vectors file is reported as one found
    /// by the open.
    pub fn vectors(&self) -> anyhow::Result<Option<&VectorIndex>> {
        (self.index.vectors()).map_err(|err| unopened(err, &self.step, &self.dir, &self.file))
    }

    /// The query embedder, when one was loaded.
    pub fn loaded_embedder(&self) -> Option<Arc<dyn Embedder>> {
        self.embedder.get().cloned()
    }

    fn embedder(&self) -> anyhow::Result<&Arc<dyn Embedder>> {
        if let Some(embedder) = self.embedder.get() {
            return Ok(embedder);
        }
        let _loading = self
            .loading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.embedder.get().is_none() {
            let config = self.embed_config.as_ref().ok_or_else(|| {
                invalid(
                    "the index step does not read an embed step, so it has no query embedder; use --mode bm25",
                )
            })?;
            // The pipeline was loaded to read (`Purpose::Read`): its model was not required
            // then. A vector query needs it; BM25 does not.
            let problems = config.problems(&self.base);
            if !problems.is_empty() {
                let problems: Vec<String> = problems.into_iter().map(|(_, m)| m).collect();
                return Err(invalid(format!(
                    "vector and hybrid queries of `{}` embed the query with the embed step's model, which cannot be loaded: {}; BM25 works without it (`query --mode bm25`, `compare --modes bm25`)",
                    self.step,
                    problems.join("; ")
                )));
            }
            let embedder = config.embedder(&self.base).with_context(|| {
                format!(
                    "cannot load the query embedder of `{}` (BM25 works without it: `query --mode bm25`, `compare --modes bm25`)",
                    self.step
                )
            })?;
            // A query embedded by another model than the vectors' ranks noise, even at the
            // same length.
            let now = embedder.fingerprint();
            if let Some(built) = self.index.model().filter(|built| **built != now) {
                if embedder.legacy_fingerprint().as_deref() == Some(built) {
                    return Err(invalid(format!(
                        "the index of `{}` was built by an earlier version of the engine, whose vectors' identity included the query prefix: run the pipeline once (`engine run {}`) to switch it to the new identity (nothing is embedded again), or query with --mode bm25",
                        self.step,
                        self.file.display()
                    )));
                }
                return Err(invalid(format!(
                    "the index of `{}` holds vectors of {built}, but the embed step now says {now}{}: run the pipeline to re-embed (`engine run {}`), or query with --mode bm25",
                    self.step,
                    identity_note(config, built, &now),
                    self.file.display()
                )));
            }
            let _ = self.embedder.set(embedder);
        }
        Ok(self.embedder.get().expect("set above"))
    }

    /// The query's embedding by the branch's provider (with its query prefix). A provider
    /// that makes it wait (a slow reply, a retry) says so on stderr, once.
    pub fn embed_query(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        let text = embedded_part(text);
        let step = self.step.clone();
        let note = |note: &str| errln!("note: {}", crate::stdout::visible(note));
        let vector = self
            .embedder()?
            .embed_query_noting(text, &note)
            .with_context(|| {
                format!("cannot embed the query with the model of `{step}` ({BM25_WORKS})")
            })?;
        let held = self.vectors()?.map(|vectors| vectors.dimensions());
        if let Some(held) = held.filter(|held| *held != vector.len()) {
            anyhow::bail!(
                "the query vector has {} dimensions but the index of `{step}` holds {held}: query with the model that built it ({BM25_WORKS})",
                vector.len()
            );
        }
        Ok(vector)
    }

    /// Ranks chunks for `text`; `vector` is its embedding when already known.
    pub fn search(
        &self,
        text: &str,
        vector: Option<&[f32]>,
        mode: Mode,
        k: usize,
        filters: &[(String, String)],
        fusion: Fusion,
    ) -> anyhow::Result<Vec<Hit>> {
        let embedded = self.embedding_needed(text, mode, vector)?;
        let vector = vector.or(embedded.as_deref());
        (self.index.search(text, vector, mode, k, filters, fusion))
            .map_err(|err| unreadable(err, "search", &self.step, &self.dir, &self.file))
    }

    /// The embedding of `text` when `mode` needs one and `known` is not it. A mode that
    /// searches vectors reads them first, so that their damage is reported as the open's.
    fn embedding_needed(
        &self,
        text: &str,
        mode: Mode,
        known: Option<&[f32]>,
    ) -> anyhow::Result<Option<Vec<f32>>> {
        if mode != Mode::Bm25 {
            self.vectors()?;
        }
        Ok(match (mode, known) {
            (Mode::Bm25, _) | (_, Some(_)) => None,
            _ => Some(self.embed_query(text)?),
        })
    }

    /// Ranks the `documents` best documents for `text` among the chunks that pass `filters`,
    /// each at its best chunk (the hit returned for it), in the order `engine query` ranks
    /// those chunks. Chunks are fetched ten times `documents` deep (at least 100), and four
    /// times deeper again while they hold fewer documents than asked and the index has more:
    /// documents of many chunks never crowd out the rest.
    pub fn search_documents(
        &self,
        text: &str,
        vector: Option<&[f32]>,
        mode: Mode,
        documents: usize,
        filters: &[(String, String)],
        fusion: Fusion,
    ) -> anyhow::Result<Vec<Hit>> {
        let embedded = self.embedding_needed(text, mode, vector)?;
        let vector = vector.or(embedded.as_deref());
        let chunks = usize::try_from(self.index.chunks()).unwrap_or(usize::MAX);
        let mut depth = documents.saturating_mul(10).max(100);
        loop {
            let hits = (self
                .index
                .search(text, vector, mode, depth, filters, fusion))
            .map_err(|err| unreadable(err, "search", &self.step, &self.dir, &self.file))?;
            let exhausted = hits.len() < depth || depth >= chunks;
            let mut best =
                operators::eval::best_per_document(hits, |hit| hit.stored.doc_id.as_str());
            if best.len() >= documents || exhausted {
                best.truncate(documents);
                for (i, hit) in best.iter_mut().enumerate() {
                    hit.rank = i + 1;
                }
                return Ok(best);
            }
            depth = depth.saturating_mul(4).min(chunks);
        }
    }
}

/// The most chunks `--context` (`"context"`) adds on each side of a hit.
pub const MAX_CONTEXT: usize = 50;

/// Who asks a query: its errors give examples in the asker's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// `engine query` and `engine compare`: `--filter doc_id=…`.
    CommandLine,
    /// `engine serve`'s clients: `"filters": ["doc_id=…"]`.
    Http,
}

impl Asker {
    /// How this asker writes the filter `filter` (`doc_id=guide.pdf`).
    fn writes_filter(self, filter: &str) -> String {
        match self {
            Asker::CommandLine => format!("`--filter {filter}`"),
            Asker::Http => format!("`\"filters\": [\"{filter}\"]`"),
        }
    }
}

/// Why a `--context` (`"context"`) past [`MAX_CONTEXT`] is refused.
pub fn context_too_wide(asked: usize, asker: Asker) -> String {
    format!(
        "a context of {asked} chunks on each side of a hit is more than {MAX_CONTEXT}: ask for fewer (or for the document's chunks with {})",
        asker.writes_filter("doc_id=…")
    )
}

impl Searcher {
    /// Adds to each of `hits` the chunks around it in its document, up to `around` on each
    /// side (none when 0).
    pub fn add_context(&self, hits: &mut [Hit], around: usize) -> anyhow::Result<()> {
        if around == 0 {
            return Ok(());
        }
        for hit in hits {
            let context = (self.index.context(&hit.stored, around))
                .map_err(|err| unreadable(err, "search", &self.step, &self.dir, &self.file))?;
            hit.context = Some(context);
        }
        Ok(())
    }
}

/// `hits` with their places in hybrid mode's two lists (`explain`) only when they were asked
/// for: `engine query --json` prints no more than it always has unless `--explain` is given.
pub fn keep_explain(hits: &mut [Hit], asked: bool) {
    if !asked {
        for hit in hits {
            hit.explain = None;
        }
    }
}

/// Why BM25 searches nothing for a query: every word a stop word, none of letters or digits,
/// or too long.
fn no_search_terms() -> String {
    format!(
        "no word of the query is searched by BM25 (each is a stop word, has no letter or digit, or is longer than {} characters)",
        operators::index::analysis::LONGEST_WORD
    )
}

/// Why the vector search ranks nothing for a query whose embedding is all zeros (the `hash`
/// provider's for a text with no word): it has no cosine with anything.
const NO_DIRECTION: &str = "the query's embedding is all zeros (the embed step's model found nothing in it to embed), so the vector search ranks no chunk";

/// The embedding of `text` when `mode` needs one, and a note on the halves of the search that
/// can match nothing for it ([`unsearchable_note`]).
pub fn prepare(
    searcher: &Searcher,
    mode: Mode,
    text: &str,
) -> anyhow::Result<(Option<Vec<f32>>, Option<String>)> {
    let no_terms = mode != Mode::Vector && searcher.index.search_terms(text).is_empty();
    let vector = match mode {
        Mode::Bm25 => None,
        Mode::Vector | Mode::Hybrid => Some(searcher.embed_query(text)?),
    };
    let no_direction = (vector.as_deref()).is_some_and(all_zeros);
    Ok((vector, unsearchable_note(mode, no_terms, no_direction)))
}

/// Whether a query's embedding is all zeros: it has no cosine with anything.
pub fn all_zeros(vector: &[f32]) -> bool {
    vector.iter().all(|x| *x == 0.0)
}

/// A note on the halves of a `mode` search that can match nothing for a query (`no_terms`: BM25
/// searches no word of it; `no_direction`: its embedding is all zeros), ending in what is left
/// (in hybrid mode, the other half's hits, or nothing when neither can match); `None` when
/// both halves `mode` uses can match.
pub fn unsearchable_note(mode: Mode, no_terms: bool, no_direction: bool) -> Option<String> {
    let no_terms = no_terms && mode != Mode::Vector;
    let no_direction = no_direction && mode != Mode::Bm25;
    match (no_terms, no_direction) {
        (false, false) => None,
        (true, true) => Some(format!(
            "{}, and {NO_DIRECTION}: nothing can match",
            no_search_terms()
        )),
        (true, false) if mode == Mode::Hybrid => Some(format!(
            "{}: the hits are the vector search's alone",
            no_search_terms()
        )),
        (false, true) if mode == Mode::Hybrid => {
            Some(format!("{NO_DIRECTION}: the hits are BM25's alone"))
        }
        (true, false) => Some(format!("{}: nothing can match", no_search_terms())),
        (false, true) => Some(format!("{NO_DIRECTION}: nothing can match")),
    }
}

/// Refuses a query without words: BM25 finds nothing for it, and its embedding (the query
/// prefix alone) would rank arbitrary chunks with confident scores.
pub fn refuse_empty(text: &str) -> anyhow::Result<()> {
    if text.trim().is_empty() {
        return Err(invalid(
            "the query is empty (or only whitespace): give the words to search for",
        ));
    }
    Ok(())
}

/// Why the index of `step` in `dir` could not be opened or read, and what to do.
fn unopened(
    err: operators::index::IndexError,
    step: &str,
    dir: &std::path::Path,
    pipeline_file: &std::path::Path,
) -> anyhow::Error {
    unreadable(err, "open", step, dir, pipeline_file)
}

/// Why the index of `step` in `dir` could not be opened or searched (`doing`), and what to do:
/// a file this user may not read, or damage (a corrupt text index file fails only when a hit
/// is read), which a run repairs.
fn unreadable(
    err: operators::index::IndexError,
    doing: &str,
    step: &str,
    dir: &std::path::Path,
    pipeline_file: &std::path::Path,
) -> anyhow::Error {
    // A file this user may not read is not damage: a run would change nothing.
    let message = err.to_string();
    let advice = if message.contains("Permission denied") {
        format!(
            "this user may not read its files: ask the owner of {} to let you read them",
            dir.display()
        )
    } else if message.contains("written by an earlier version") {
        // The message says what to do.
        return anyhow::Error::new(err).context(format!("cannot {doing} the index of `{step}`"));
    } else {
        format!(
            "`engine run {}` rebuilds an index found damaged",
            pipeline_file.display()
        )
    };
    anyhow::Error::new(err).context(format!("cannot {doing} the index of `{step}` ({advice})"))
}

/// What every query-embedding error says BM25 does without it.
const BM25_WORKS: &str = "BM25 works without it: `query --mode bm25`, `compare --modes bm25`";

/// For two fingerprints of one provider that differ after the model's name (`built`, the
/// index's, and `now`): what that part covers, so the user can tell which setting changed.
fn identity_note(config: &operators::embed::EmbedConfig, built: &str, now: &str) -> String {
    let model_part = |fingerprint: &str| {
        fingerprint
            .rsplit_once(':')
            .map(|(model, _)| model.to_owned())
    };
    match config {
        operators::embed::EmbedConfig::Http(settings) if model_part(built) == model_part(now) => {
            format!(
                " (the same model; the hash after its name covers {}: one of them changed, even if only in spelling; `base_url` is now `{}`)",
                operators::embed::http::FINGERPRINTED,
                settings.base_url
            )
        }
        _ => String::new(),
    }
}

/// The id of the run of `pipeline` in progress on its store, if one answers there.
fn running_run(pipeline: &Pipeline) -> Option<String> {
    let report = crate::live::ask(&pipeline.store, &crate::live::Request::Runs).ok()?;
    report["runs"]
        .as_array()?
        .iter()
        .filter(|run| run["status"] == "running")
        .find(|run| {
            run["name"]
                .as_str()
                .is_none_or(|name| name == pipeline.name)
        })
        .and_then(|run| run["run_id"].as_str().map(str::to_owned))
}

/// The runs of pipeline `name` in `store` that completed (every item done, some perhaps
/// failed), newest first; runs from before runs recorded their pipeline's name count as its.
pub fn completed_runs(
    store: &crate::store::Store,
    name: &str,
) -> anyhow::Result<impl Iterator<Item = serde_json::Value>> {
    Ok(store.runs()?.into_iter().filter(move |run| {
        run["name"].as_str().is_none_or(|named| named == name)
            && matches!(run["status"].as_str(), Some("ok" | "failed_items"))
    }))
}

/// A note for each index of `steps` whose feeding steps (their settings, or the files they
/// read) are not what they were in the run that built it: the index still answers with what
/// that run made until `engine run` rebuilds it. Reads the build record of each index
/// ([`build_record`]) when every index has one, so that a query need not open the store (which
/// takes most of a second once it holds gigabytes); else the store's run records (opened once
/// for all), and then says nothing when the store cannot be opened (a run holds it) or records
/// no completed run. Says nothing either when the first step that differs lacks a file it reads
/// (a model moved away: not a change of the pipeline, and a vector query says so itself).
pub fn stale_notes(pipeline: &Pipeline, steps: &[&str]) -> Vec<String> {
    let plan = crate::plan::plan(pipeline);
    let recorded: Option<Vec<serde_json::Value>> = (steps.iter())
        .map(|step| build_record(pipeline, step))
        .collect();
    let built = match recorded {
        Some(records) => records,
        None => {
            let Some(runs) = completed_runs_of(pipeline) else {
                return Vec::new();
            };
            let built_by = |step: &&str| {
                let built = runs.iter().find(|run| brought_up_to_date(run, step));
                built.cloned().unwrap_or_default()
            };
            steps.iter().map(built_by).collect()
        }
    };
    steps
        .iter()
        .zip(&built)
        .filter_map(|(step, built)| stale_note(pipeline, &plan, built, step))
        .collect()
}

/// When a run of the store was killed while its outputs went into place, puts the rest in
/// place first (see [`crate::publishing`]), so that the indexes agree with one another and with
/// the run history. Only when the store opens here: a store in use is a run still at it (it
/// completes them itself), and a read-only one cannot be written.
fn complete_publishing(pipeline: &Pipeline) {
    if !crate::publishing::pending(&pipeline.store) {
        return;
    }
    if let Ok(store) = crate::store::Store::open(&pipeline.store)
        && let Err(err) = crate::run::mark_interrupted(&store)
    {
        errln!("warning: {err:#}");
    }
}

/// The completed runs of `pipeline`, newest first, from its store (`None` when it has none or
/// cannot be opened: a run holds it).
fn completed_runs_of(pipeline: &Pipeline) -> Option<Vec<serde_json::Value>> {
    if !pipeline.store.join("db").is_dir() {
        return None;
    }
    let store = crate::store::Store::open(&pipeline.store).ok()?;
    completed_runs(&store, &pipeline.name)
        .map(Vec::from_iter)
        .ok()
}

/// Whether completed `run` (as the store records it) brought index `step` up to date: the
/// step updated the index and kept no document from before for one that failed (a source
/// found empty, a provider down), so that everything it holds came from the run's settings.
/// For an index written before indexes recorded their run ([`build_record`]).
fn brought_up_to_date(run: &serde_json::Value, step: &str) -> bool {
    let outcome = &run["steps"][step]["outcome"];
    run["fingerprints"][step].is_string()
        && outcome.is_object()
        && outcome["documents_kept"].as_u64().unwrap_or(0) == 0
}

/// The record index `step` keeps of the run that made it what it is (its id, the steps'
/// fingerprints then, and the documents it kept from before), if it has one that reads whole.
fn build_record(pipeline: &Pipeline, step: &str) -> Option<serde_json::Value> {
    let record = operators::index::hybrid::build_record(&index_dir(pipeline, step))?;
    (record["run_id"].is_string() && record["fingerprints"][step].is_string()).then_some(record)
}

/// The note of [`stale_notes`] for index `step`, last updated by run `built` (its id and
/// fingerprints; null when no completed run built it).
fn stale_note(
    pipeline: &Pipeline,
    plan: &crate::plan::Plan,
    built: &serde_json::Value,
    step: &str,
) -> Option<String> {
    let fingerprints = &built["fingerprints"];
    let run = built["run_id"].as_str().unwrap_or("?");
    let planned_fingerprint = |name: &str| {
        (plan.order.iter())
            .find(|planned| pipeline.steps[planned.index].name == name)
            .map(|planned| planned.fingerprint.as_str())
    };
    // A step's fingerprint covers all that feeds it: the index's own tells.
    if fingerprints[step].as_str()? == planned_fingerprint(step)? {
        return kept_note(built, step, run);
    }
    // The first step that differs, by name; one renamed since, by its fingerprint.
    let known: std::collections::HashSet<&str> = (fingerprints.as_object().into_iter())
        .flat_map(|all| all.values().filter_map(|value| value.as_str()))
        .collect();
    let feeding = crate::compare::upstream(pipeline, step);
    let changed = plan.order.iter().find(|planned| {
        let spec = &pipeline.steps[planned.index];
        let differs = match fingerprints[&spec.name].as_str() {
            Some(fingerprint) => fingerprint != planned.fingerprint,
            None => !known.contains(planned.fingerprint.as_str()),
        };
        (spec.name == step || feeding.contains(&spec.name)) && differs
    })?;
    let spec = &pipeline.steps[changed.index];
    // A model or tokenizer missing (archived with the sources) changes the fingerprint, not
    // the index: no run could rebuild it as the note would say.
    let missing = (spec.config.resource_files(&pipeline.base).iter()).any(|file| !file.is_file())
        || !spec.config.resource_problems(&pipeline.base).is_empty();
    if missing {
        return None;
    }
    let what = if spec.name == step {
        "its settings or its input changed".to_owned()
    } else {
        format!("step `{}` changed", spec.name)
    };
    Some(format!(
        "the pipeline file, or a model or tokenizer it reads, changed since index `{step}` was built by run {run} ({what}): the index answers with what that run made; `engine run {}` rebuilds it",
        pipeline.file.display()
    ))
}

/// The note for an index up to date with the pipeline but for documents that failed in the
/// run that built it (`documents_kept` in its record): it holds what an earlier run made of
/// them.
fn kept_note(built: &serde_json::Value, step: &str, run: &str) -> Option<String> {
    let kept = built["documents_kept"].as_u64().filter(|kept| *kept > 0)?;
    Some(format!(
        "{kept} document(s) failed in run {run}, which built index `{step}`: the index answers with what an earlier run made of them, until a run reads them again without failing"
    ))
}

/// "index steps: a, b", or that there are none.
fn index_steps_are(pipeline: &Pipeline) -> String {
    match index_steps(pipeline).join(", ") {
        steps if steps.is_empty() => "the pipeline has no index.hybrid step".to_owned(),
        steps => format!("index steps: {steps}"),
    }
}

/// Parses `key=value` filters; a page must be a whole number.
pub fn parse_filters(filters: &[String], asker: Asker) -> anyhow::Result<Vec<(String, String)>> {
    filters
        .iter()
        .map(|filter| match filter.split_once('=') {
            Some(("page", value)) => match operators::index::page_filter(value) {
                Ok(_) => Ok(("page".to_owned(), value.to_owned())),
                Err(err) => Err(invalid(err.message)),
            },
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(invalid(format!(
                "filter `{filter}` is not key=value (e.g. {})",
                asker.writes_filter("doc_id=guide.pdf")
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use operators::embed::{EmbedConfig, HttpConfig};

    use super::*;

    #[test]
    fn a_long_query_is_embedded_from_its_start() {
        assert_eq!(embedded_part("short"), "short");
        let long = "é".repeat(MAX_EMBEDDED_QUERY_BYTES);
        let part = embedded_part(&long);
        assert!(
            part.len() <= MAX_EMBEDDED_QUERY_BYTES && part.len() + 2 > MAX_EMBEDDED_QUERY_BYTES
        );
    }

    /// A name spelled as another name's folder (`p-` and its hash) took that folder, and a
    /// pipeline so named replaced the other's documents in its indexes, without a word.
    #[test]
    fn no_name_takes_the_folder_of_another_names_hash() {
        assert_eq!(folder_name("kb"), "kb");
        assert_eq!(folder_name("p-notahash"), "p-notahash");
        let escaped = folder_name("../escaped");
        assert!(
            escaped.starts_with("p-") && escaped.len() == 18,
            "{escaped}"
        );
        assert_ne!(folder_name(&escaped), escaped);
        assert_eq!(folder_name(&escaped).len(), 18);
        assert_eq!(folder_name("p-0123456789ABCDEF"), "p-0123456789ABCDEF");
    }

    /// A plain name longer than a file name may be made every document fail at the index
    /// ("File name too long"): it is a hash too, and the longest plain name is itself.
    #[test]
    fn a_name_too_long_for_a_folder_is_hashed() {
        let longest = "a".repeat(255);
        assert_eq!(folder_name(&longest), longest);
        let long = folder_name(&"a".repeat(256));
        assert!(long.starts_with("p-") && long.len() == 18, "{long}");
    }

    /// Two identities of one http model differ only in their hash: the refusal says what the
    /// hash covers, and the `base_url` now set, so the user can tell what changed.
    #[test]
    fn another_identity_of_the_same_model_names_what_its_hash_covers() {
        let config = EmbedConfig::Http(HttpConfig::new("http://localhost:8080/v1", "m"));
        let note = identity_note(
            &config,
            "http:m:b3bd0132f58b5ce6",
            "http:m:866e9d6d0adcde50",
        );
        assert!(note.contains("`base_url` (as written)"), "{note}");
        assert!(
            note.contains("`base_url` is now `http://localhost:8080/v1`"),
            "{note}"
        );
        assert!(identity_note(&config, "http:other:b3bd0132f58b5ce6", "http:m:1").is_empty());
    }
}
