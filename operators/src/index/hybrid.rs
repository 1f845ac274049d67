//! The hybrid index on disk: generations switched atomically.
//!
//! `<dir>/CURRENT` names the live generation `gen-NNNNNN/`, which holds the text index (`text/`),
//! the vectors and graph, and `docs.json` (each document's key and points, and the settings).
//! An update writes a new generation (text segments are immutable, so the previous ones are
//! hard-linked, not copied), then replaces `CURRENT` by a rename: a crash at any moment leaves
//! `CURRENT` naming a complete generation that agrees with the last finished update.
//!
//! Building the vector graph is most of an update's time. A new generation notes, while its
//! graph is built, what it builds on and holds (`partial.json`), and the build saves its progress
//! under `build/` now and then and when the run is cancelled; an update that finds such a
//! generation on top of the live one goes on from its last checkpoint instead of starting over.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fusion::{self, Fusion, Ranked};
use super::text::{TextIndex, TextWriter};
use super::vectors::{BuildCheckpoints, CHECKPOINT_EVERY, VectorIndex};
use super::{Context, Entry, Explain, Hit, IndexConfig, IndexError, ListPlace, Mode, StoredHit};
use crate::came_twice::{SecondOffer, came_twice, second_offer};
use crate::model::FailedDocuments;

const CURRENT: &str = "CURRENT";
/// What a generation being built builds on and holds, until it is complete.
const PARTIAL: &str = "partial.json";
/// The checkpoints of a generation's graph build, until it is complete.
const BUILD: &str = "build";
/// The layout of the text index a generation holds; an index of another layout is indexed
/// afresh by the next update (2: title and section headings indexed exactly for filters, chunk
/// ids as a fast field, CJK bigrams and accent folding; 3: each chunk's exact token counts, so
/// BM25's average lengths do not depend on how segments were merged; 4: combining marks stay
/// in their word, which is read composed, so decomposed accents fold as composed ones do; 5:
/// words up to 255 characters, not 40 bytes, text read in its NFKC form without format
/// characters, a final sigma as sigma, the diacritics of every alphabetic script folded, and
/// Thai, Lao, Khmer and Burmese cut into bigrams).
const FORMAT: u32 = 5;

/// What a generation knows about each document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct DocEntry {
    /// The key of the content indexed for it (changes when the document does).
    key: String,
    /// Its chunks' point ids.
    points: Vec<usize>,
    /// The metadata keys its chunks can be filtered by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    metadata_keys: Vec<String>,
    /// Offered twice with different content (two sources giving its id): an update that is
    /// offered another version first waits for the second offer before changing it (see
    /// [`IndexUpdate::upsert`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    contested: bool,
}

/// `docs.json` of a generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Generation {
    /// The text index's layout ([`FORMAT`]; absent: 1).
    #[serde(default = "first_format")]
    format: u32,
    config: IndexConfig,
    /// The embedding model's fingerprint the vectors come from.
    #[serde(default)]
    model: Option<String>,
    dimensions: Option<usize>,
    docs: BTreeMap<String, DocEntry>,
}

fn first_format() -> u32 {
    1
}

impl Generation {
    /// Whether an update with `config` and vectors from `model` indexes everything afresh
    /// rather than building on this generation: its text layout or analysis, or its vectors'
    /// model, is another.
    fn indexed_afresh_for(&self, config: &IndexConfig, model: Option<&str>) -> bool {
        let analysis = |config: &IndexConfig| {
            (
                config.stemmer,
                config.stopwords,
                config.fold_accents,
                config.cjk_bigrams,
            )
        };
        (model.is_some() && self.model.as_deref() != model)
            || self.format != FORMAT
            || analysis(&self.config) != analysis(config)
    }
}

/// `partial.json` of a generation whose graph is being built.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Partial {
    /// The live generation it builds on (none for the first).
    base: Option<String>,
    /// Its `docs.json`-to-be.
    generation: Generation,
}

/// A generation an update left while building its graph, on top of the live one.
struct Resumable {
    number: u64,
    path: PathBuf,
    generation: Generation,
    /// Its last checkpoint's folder, or the generation's own when its build was complete.
    vectors: PathBuf,
}

impl Resumable {
    /// Its vectors, once its text index and vectors are found whole.
    fn open(&self, config: &IndexConfig) -> Result<VectorIndex, IndexError> {
        let text = self.path.join("text");
        if !text.join("meta.json").is_file() {
            return Err(IndexError::new(format!("{} is missing", text.display())));
        }
        TextIndex::open(&text, config)?;
        VectorIndex::load(&self.vectors, config)
    }
}

/// The newest generation on top of `base` (the live generation's name) whose graph build was
/// cut short after saving a checkpoint, or completed in a run that was cancelled before it
/// could be switched in.
fn resumable(dir: &Path, base: Option<&str>) -> Option<Resumable> {
    let entries = fs::read_dir(dir).ok()?;
    entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            let number = name.to_str()?.strip_prefix("gen-")?.parse().ok()?;
            let path = entry.path();
            let partial: Partial =
                serde_json::from_slice(&fs::read(path.join(PARTIAL)).ok()?).ok()?;
            let complete = path.join("docs.json").is_file() && path.join("vectors.json").is_file();
            let vectors = match complete {
                true => path.clone(),
                false => BuildCheckpoints::latest(&path.join(BUILD))?,
            };
            (partial.base.as_deref() == base).then_some(Resumable {
                number,
                path,
                generation: partial.generation,
                vectors,
            })
        })
        .max_by_key(|resumable| resumable.number)
}

/// Whether `folder` holds nothing but what an index's folder holds: `CURRENT` (naming the live
/// generation), `CURRENT.pending` and generation folders `gen-…` (an index whose first build
/// was cut short may hold no `CURRENT` yet, or nothing at all); `false` when it cannot be read.
pub fn holds_only_an_index(folder: &Path) -> bool {
    let Ok(entries) = fs::read_dir(folder) else {
        return false;
    };
    let pending = format!("{CURRENT}.pending");
    entries.into_iter().all(|entry| {
        entry.is_ok_and(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
            match name.strip_prefix("gen-") {
                Some(number) => {
                    is_dir && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
                }
                None => !is_dir && (name == CURRENT || name == pending),
            }
        })
    })
}

/// The folder name of a generation.
fn generation_name(path: &Path) -> Option<String> {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
}

fn io(what: &str, path: &Path) -> impl Fn(std::io::Error) -> IndexError {
    let place = format!("{what} {}", path.display());
    move |err| IndexError::new(format!("{place}: {err}"))
}

fn current_generation(dir: &Path) -> Option<(u64, PathBuf)> {
    let name = fs::read_to_string(dir.join(CURRENT)).ok()?;
    let name = name.trim();
    let number = name.strip_prefix("gen-")?.parse().ok()?;
    let path = dir.join(name);
    path.join("docs.json").exists().then_some((number, path))
}

/// The file of a generation that names the run that made it ([`IndexUpdate::record_build`]).
const BUILT: &str = "built.json";

/// The record of the run that made the live generation of the index in `dir` what it is
/// ([`IndexUpdate::record_build`]), when it has one that reads.
pub fn build_record(dir: &Path) -> Option<serde_json::Value> {
    read_build_record(&current_generation(dir)?.1)
}

fn read_build_record(generation: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&fs::read(generation.join(BUILT)).ok()?).ok()
}

/// Writes `build` as the record of `generation` (written whole, then renamed into place), or
/// removes it when there is none; a record that cannot be written is removed: an index
/// without one is told from the store's runs.
fn write_build_record(generation: &Path, build: Option<&serde_json::Value>) {
    let file = generation.join(BUILT);
    let written = build.is_some_and(|build| {
        let pending = generation.join(format!("{BUILT}.pending"));
        fs::write(&pending, build.to_string())
            .and_then(|()| fs::rename(&pending, &file))
            .is_ok()
    });
    if !written {
        let _ = fs::remove_file(&file);
    }
}

fn read_generation(path: &Path) -> Result<Generation, IndexError> {
    let file = path.join("docs.json");
    let bytes = fs::read(&file).map_err(io("cannot read", &file))?;
    serde_json::from_slice(&bytes)
        .map_err(|err| IndexError::new(format!("damaged {}: {err}", file.display())))
}

/// Writes `value` as JSON into `path`.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), IndexError> {
    let bytes = serde_json::to_vec(value).map_err(|err| IndexError::new(err.to_string()))?;
    fs::write(path, bytes).map_err(io("cannot write", path))
}

/// Hard-links every file of a text index folder into another.
fn link_text(from: &Path, to: &Path) -> Result<(), IndexError> {
    fs::create_dir_all(to).map_err(io("cannot create", to))?;
    for entry in fs::read_dir(from).map_err(io("cannot read", from))? {
        let entry = entry.map_err(io("cannot read", from))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(".tantivy") {
            continue;
        }
        let target = to.join(&name);
        fs::hard_link(entry.path(), &target)
            .or_else(|_| fs::copy(entry.path(), &target).map(|_| ()))
            .map_err(io("cannot link", &target))?;
    }
    Ok(())
}

/// Counts of what an update changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpdateStats {
    /// Documents whose chunks were (re)indexed.
    pub documents_indexed: usize,
    /// Documents left as they were.
    pub documents_unchanged: usize,
    /// Documents removed (gone from the input).
    pub documents_removed: usize,
    /// Documents not offered but kept as they were, because they failed upstream.
    pub documents_kept: usize,
    /// Chunks added.
    pub chunks_added: usize,
    /// Live chunks after the update.
    pub chunks: usize,
    /// Whether the vector graph was rebuilt: to drop tombstones, or for a new `m` or
    /// `ef_construction`.
    #[serde(rename = "graph_rebuilt")]
    pub rebuilt: bool,
    /// Whether the update went on from the graph build of an update cut short, rather than
    /// starting it over.
    #[serde(rename = "graph_resumed")]
    pub resumed: bool,
    /// Whether the live index was found damaged (its vectors cut short, say), and so
    /// everything was indexed afresh.
    #[serde(rename = "damaged_index_rebuilt")]
    pub repaired: bool,
    /// Whether the live index was replaced by one built afresh, every document indexed and
    /// the graph built anew, because its vectors' model or its text analysis changed.
    #[serde(rename = "indexed_afresh")]
    pub afresh: bool,
}

/// The work of one update, started on the first change.
struct Staged {
    path: PathBuf,
    writer: TextWriter,
    vectors: Option<VectorIndex>,
}

/// One update of the index: every document of the input is offered; unchanged ones are skipped,
/// changed ones replaced, and at [`IndexUpdate::finish`] those not offered are removed.
pub struct IndexUpdate {
    dir: PathBuf,
    config: IndexConfig,
    /// The settings the previous generation was built with (when it is updated, not replaced).
    previous_config: Option<IndexConfig>,
    previous: Option<(u64, PathBuf)>,
    /// The live generation this update replaces (its number and folder), even when the update
    /// starts afresh and builds on nothing of it.
    live: Option<(u64, PathBuf)>,
    /// Whether `previous` is a generation whose graph build was cut short, which this update
    /// goes on from.
    resumed: bool,
    /// How often the graph build saves its progress.
    checkpoint_every: Duration,
    /// The vectors of the cut-short build's last checkpoint, loaded when the update began (to
    /// tell they are whole), until the update is staged.
    resumed_vectors: Option<VectorIndex>,
    generation: Generation,
    /// The key each document was offered with in this update.
    offered: HashMap<String, String>,
    /// The chunks each document indexed (not found unchanged) in this update added, so that a
    /// document offered again and replaced is counted once.
    indexed_now: HashMap<String, usize>,
    /// Offers of contested documents waiting for the other source's offer, with their key.
    waiting: HashMap<String, (String, Vec<Entry>)>,
    /// Documents that failed upstream (one by one, below a folder, or a whole source): not
    /// offered, but not gone either.
    failed: FailedDocuments,
    staged: Option<Staged>,
    stats: UpdateStats,
    /// What the update records of the run that made it ([`IndexUpdate::record_build`]).
    build: Option<serde_json::Value>,
}

impl IndexUpdate {
    /// Starts an update of the index in `dir` (created when missing) with vectors from `model`
    /// (an embedder fingerprint); a different model than the index holds starts it afresh.
    pub fn begin(
        dir: &Path,
        config: &IndexConfig,
        model: Option<&str>,
    ) -> Result<IndexUpdate, IndexError> {
        fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
        let live = current_generation(dir);
        let live_name = live.as_ref().and_then(|(_, path)| generation_name(path));
        // A build this update would index afresh anyway is not loaded; a damaged one is no
        // head start: it goes, and the update starts from the live generation (it would fail
        // every update after otherwise).
        let cut_short = resumable(dir, live_name.as_deref())
            .filter(|cut_short| !cut_short.generation.indexed_afresh_for(config, model))
            .and_then(|cut_short| match cut_short.open(config) {
                Ok(vectors) => Some((cut_short, vectors)),
                Err(_) => {
                    let _ = fs::remove_dir_all(&cut_short.path);
                    None
                }
            });
        let fresh = || Generation {
            format: FORMAT,
            config: config.clone(),
            model: model.map(str::to_owned),
            dimensions: None,
            docs: BTreeMap::new(),
        };
        // A live generation that is damaged (its document list, text index or vectors) would
        // fail every query, and every update that changes nothing would leave it so:
        // everything is indexed afresh.
        let (previous, mut generation, resumed_vectors, damaged) = match cut_short {
            Some((cut_short, vectors)) => (
                Some((cut_short.number, cut_short.path)),
                cut_short.generation,
                Some(vectors),
                false,
            ),
            None => {
                let (generation, damaged) = match &live {
                    Some((_, path)) => match read_generation(path) {
                        Ok(generation) => {
                            let damaged = !TextIndex::intact(&path.join("text"), config)
                                || (generation.dimensions.is_some() && !VectorIndex::intact(path));
                            (generation, damaged)
                        }
                        Err(_) => (fresh(), true),
                    },
                    // A `CURRENT` that names no generation there is damage, not a first build.
                    None => (fresh(), dir.join(CURRENT).exists()),
                };
                (live.clone(), generation, None, damaged)
            }
        };
        let rebuild_all = damaged || generation.indexed_afresh_for(config, model);
        // An index that held no document (its first run failed them all) is built, not
        // built afresh.
        let held_documents = !generation.docs.is_empty();
        if rebuild_all {
            // The text analysis or layout, or the vectors' model, changed: everything is
            // indexed afresh.
            generation.docs.clear();
            generation.dimensions = None;
            generation.format = FORMAT;
        }
        if model.is_some() {
            generation.model = model.map(str::to_owned);
        }
        let previous_config =
            (previous.is_some() && !rebuild_all).then(|| generation.config.clone());
        let afresh = rebuild_all && !damaged && live.is_some() && held_documents;
        generation.config = config.clone();
        Ok(IndexUpdate {
            dir: dir.to_owned(),
            config: config.clone(),
            previous_config,
            live,
            previous: if rebuild_all { None } else { previous },
            resumed: resumed_vectors.is_some(),
            checkpoint_every: CHECKPOINT_EVERY,
            resumed_vectors,
            generation,
            offered: HashMap::new(),
            indexed_now: HashMap::new(),
            waiting: HashMap::new(),
            failed: FailedDocuments::default(),
            staged: None,
            stats: UpdateStats {
                repaired: damaged,
                afresh,
                ..UpdateStats::default()
            },
            build: None,
        })
    }

    /// Records `build` (what run made the update, with what settings) with the index as the
    /// update leaves it, switched in with it ([`build_record`] reads it), adding how many
    /// documents the index kept from before for documents that failed (`documents_kept`). An
    /// update offered no document, that kept what the index held (a source found empty), leaves
    /// the record of the run that made what it holds.
    pub fn record_build(&mut self, build: serde_json::Value) {
        self.build = Some(build);
    }

    /// The record of [`IndexUpdate::record_build`] for the index as it will be, and whether it
    /// is the record of an earlier run (the update offered nothing, and kept what was there).
    fn build_to_record(&mut self) -> Option<(serde_json::Value, bool)> {
        let mut build = self.build.take()?;
        let stats = &self.stats;
        let earlier =
            stats.documents_indexed + stats.documents_unchanged == 0 && stats.documents_kept > 0;
        build["documents_kept"] = stats.documents_kept.into();
        Some((build, earlier))
    }

    fn stage(&mut self) -> Result<&mut Staged, IndexError> {
        if self.staged.is_none() {
            let built_on = [&self.live, &self.previous].into_iter().flatten();
            let number = built_on.map(|(n, _)| n + 1).max().unwrap_or(1);
            let path = self.dir.join(format!("gen-{number:06}"));
            if path.exists() {
                fs::remove_dir_all(&path).map_err(io("cannot clear", &path))?;
            }
            let text_dir = path.join("text");
            match &self.previous {
                Some((_, previous)) => link_text(&previous.join("text"), &text_dir)?,
                None => fs::create_dir_all(&text_dir).map_err(io("cannot create", &text_dir))?,
            }
            let text = TextIndex::open(&text_dir, &self.config)?;
            let writer = text.writer()?;
            let vectors = match (&self.previous, self.generation.dimensions) {
                _ if self.resumed_vectors.is_some() => self.resumed_vectors.take(),
                (Some((_, previous)), Some(_)) => Some(VectorIndex::load(previous, &self.config)?),
                _ => None,
            };
            self.staged = Some(Staged {
                path,
                writer,
                vectors,
            });
        }
        Ok(self.staged.as_mut().expect("staged above"))
    }

    /// A build this update went on from (a killed or cancelled run's) has applied that run's
    /// removals and changes. A document that failed in this run must stay as the live
    /// generation holds it; when the build no longer holds it so, the build is dropped (with
    /// what this update staged on it) and the update fails: the index stays as the last
    /// completed run left it, and the next update starts from there. Without this a run whose
    /// empty-source guard kept every document emptied the index.
    fn drop_a_build_that_lost_failed_documents(
        &mut self,
        live: &BTreeMap<String, DocEntry>,
    ) -> Result<(), IndexError> {
        let lost = (live.iter())
            .filter(|(doc_id, _)| {
                !self.offered.contains_key(*doc_id) && self.failed.contains(doc_id)
            })
            .filter(|(doc_id, was)| {
                (self.generation.docs.get(*doc_id)).is_none_or(|now| now.key != was.key)
            })
            .count();
        if lost == 0 {
            return Ok(());
        }
        let built = [
            self.staged.take().map(|staged| staged.path),
            self.previous.take().map(|(_, path)| path),
        ];
        for path in built.into_iter().flatten() {
            let _ = fs::remove_dir_all(path);
        }
        let _ = fs::remove_file(self.dir.join(format!("{CURRENT}.pending")));
        Err(IndexError::new(format!(
            "the index build a killed or cancelled run left had removed or changed {lost} document(s) that failed in this run, which the index keeps as they were: that build was dropped, and the index stays as the last completed run left it (the next run indexes from there)"
        )))
    }

    /// Counts what the update changes against the live generation, not the build it went on
    /// from (which had indexed most of it already).
    fn count_against_live(&mut self, live: &BTreeMap<String, DocEntry>) {
        let offered = |doc_id: &String| self.offered.contains_key(doc_id);
        let (changed, unchanged): (Vec<_>, Vec<_>) = (self.generation.docs.iter())
            .filter(|(doc_id, _)| offered(doc_id))
            .partition(|(doc_id, entry)| live.get(*doc_id).is_none_or(|was| was.key != entry.key));
        self.stats.documents_indexed = changed.len();
        self.stats.documents_unchanged = unchanged.len();
        self.stats.chunks_added = changed.iter().map(|(_, entry)| entry.points.len()).sum();
        self.stats.documents_removed = (live.keys())
            .filter(|doc_id| !self.generation.docs.contains_key(*doc_id))
            .count();
    }

    fn remove(&mut self, doc_id: &str) -> Result<(), IndexError> {
        let Some(entry) = self.generation.docs.remove(doc_id) else {
            return Ok(());
        };
        let staged = self.stage()?;
        staged.writer.delete_document(doc_id);
        if let Some(vectors) = &mut staged.vectors {
            for point in entry.points {
                vectors.remove(point);
            }
        }
        Ok(())
    }

    /// Offers one document: indexed unless its `key` equals what is indexed for it.
    ///
    /// A document id offered twice in one update with different content (two sources giving the
    /// same id) is an error: of the two, the one with the smaller key is indexed, whichever came
    /// first, so the index does not change from run to run with the order they arrive in (the
    /// engine's keys begin with the document's content hash, so it keeps what its sinks keep).
    /// Such a document is marked contested; in a later update, an offer that would replace it
    /// by a version with a larger key waits for the other offer (or the update's end): an
    /// unchanged run re-indexed it, and could rebuild the graph, every time its versions came
    /// in the other order.
    ///
    /// A chunk whose vector holds values that are not numbers fails the document before
    /// anything changes: the index keeps what it held of it.
    pub fn upsert(&mut self, doc_id: &str, key: &str, entries: &[Entry]) -> Result<(), IndexError> {
        if let Some(k) = (entries.iter()).position(|entry| !crate::embed::all_finite(&entry.vector))
        {
            // Offered all the same: what the index holds of it is not removed as gone.
            (self.offered)
                .entry(doc_id.to_owned())
                .or_insert_with(|| key.to_owned());
            return Err(IndexError::new(format!(
                "chunk {k} has a vector holding values that are not numbers (NaN or infinity): the document was not indexed, and the index keeps what it held of it"
            )));
        }
        let Some(first) = self.offered.get(doc_id) else {
            let waits = (self.generation.docs.get(doc_id)).is_some_and(|kept| {
                kept.contested && second_offer(&kept.key, key) == SecondOffer::KeepFirst
            });
            if waits {
                self.offered.insert(doc_id.to_owned(), key.to_owned());
                (self.waiting).insert(doc_id.to_owned(), (key.to_owned(), entries.to_vec()));
                return Ok(());
            }
            return self.upsert_once(doc_id, key, entries);
        };
        let twice = IndexError::new(came_twice(doc_id, "the index"));
        let outcome = match second_offer(first, key) {
            SecondOffer::Same => return Ok(()),
            SecondOffer::KeepFirst => Ok(()),
            SecondOffer::Replace => {
                // A waiting offer was never applied: this one is the first to be.
                if self.waiting.remove(doc_id).is_some() {
                    self.offered.remove(doc_id);
                }
                self.upsert_once(doc_id, key, entries)
            }
        };
        if let Some(entry) = self.generation.docs.get_mut(doc_id) {
            entry.contested = true;
        }
        outcome.and(Err(twice))
    }

    /// Applies the offers still waiting for another source's (see [`IndexUpdate::upsert`]):
    /// it did not come.
    fn apply_waiting(&mut self) -> Result<(), IndexError> {
        let mut waiting: Vec<_> = self.waiting.drain().collect();
        waiting.sort_by(|a, b| a.0.cmp(&b.0));
        for (doc_id, (key, entries)) in waiting {
            self.offered.remove(&doc_id);
            self.upsert_once(&doc_id, &key, &entries)?;
        }
        Ok(())
    }

    fn upsert_once(
        &mut self,
        doc_id: &str,
        key: &str,
        entries: &[Entry],
    ) -> Result<(), IndexError> {
        // Offered again in this update (see `upsert`): what the first offer counted goes.
        if self
            .offered
            .insert(doc_id.to_owned(), key.to_owned())
            .is_some()
        {
            match self.indexed_now.remove(doc_id) {
                Some(chunks) => {
                    self.stats.documents_indexed -= 1;
                    self.stats.chunks_added -= chunks;
                }
                None => self.stats.documents_unchanged -= 1,
            }
        }
        if self
            .generation
            .docs
            .get(doc_id)
            .is_some_and(|entry| entry.key == key)
        {
            self.stats.documents_unchanged += 1;
            return Ok(());
        }
        self.remove(doc_id)?;
        let config = self.config.clone();
        let known = self.generation.dimensions;
        let staged = self.stage()?;
        let mut points = Vec::with_capacity(entries.len());
        let mut metadata_keys = BTreeSet::new();
        // A document without chunks sets no vector length (it would refuse every other).
        if let Some(first) = entries.first() {
            let dimensions = known.unwrap_or(first.vector.len());
            let vectors = staged
                .vectors
                .get_or_insert_with(|| VectorIndex::new(dimensions, &config));
            for (k, entry) in entries.iter().enumerate() {
                metadata_keys.extend(super::text::filterable_metadata(&entry.metadata).into_keys());
                let point = vectors.insert(&entry.vector)?;
                staged.writer.add(entry, point as u64, k == 0)?;
                points.push(point);
            }
            self.generation.dimensions = Some(dimensions);
        }
        self.stats.documents_indexed += 1;
        self.stats.chunks_added += entries.len();
        self.indexed_now.insert(doc_id.to_owned(), entries.len());
        self.generation.docs.insert(
            doc_id.to_owned(),
            DocEntry {
                key: key.to_owned(),
                points,
                metadata_keys: metadata_keys.into_iter().collect(),
                contested: false,
            },
        );
        Ok(())
    }

    /// Marks the documents that failed upstream in this run: if they are not offered, what the
    /// index holds for them stays instead of being removed.
    pub fn keep_failed(&mut self, failed: &FailedDocuments) {
        self.failed = failed.clone();
    }

    /// Removes the documents not offered (except those that failed upstream) and writes the new
    /// generation; the returned [`Switch`] makes it the live one.
    pub fn finish(mut self) -> Result<(UpdateStats, Switch), IndexError> {
        self.apply_waiting()?;
        // What is live, read once, when this update went on from a build cut short.
        let live_docs = match (&self.live, self.resumed) {
            (Some((_, path)), true) => read_generation(path)?.docs,
            _ => BTreeMap::new(),
        };
        if self.resumed {
            self.drop_a_build_that_lost_failed_documents(&live_docs)?;
        }
        let unseen: Vec<String> = self
            .generation
            .docs
            .keys()
            .filter(|doc_id| !self.offered.contains_key(*doc_id))
            .cloned()
            .collect();
        let (kept, gone): (Vec<String>, Vec<String>) = unseen
            .into_iter()
            .partition(|doc_id| self.failed.contains(doc_id));
        self.stats.documents_kept = kept.len();
        for doc_id in &gone {
            self.remove(doc_id)?;
        }
        self.stats.documents_removed = gone.len();
        self.stats.chunks = self
            .generation
            .docs
            .values()
            .map(|entry| entry.points.len())
            .sum();
        // New settings take effect even when no document changed: query-time ones (ef_search,
        // boosts) are read from the generation, graph ones need the graph rebuilt.
        let settings_changed = self
            .previous_config
            .as_ref()
            .is_some_and(|previous| *previous != self.config);
        let graph_changed = self.previous_config.as_ref().is_some_and(|previous| {
            (previous.m, previous.ef_construction) != (self.config.m, self.config.ef_construction)
        });
        // A graph in an older format, or damaged, is rebuilt and saved once, not at every load
        // (a staged update loaded it, rebuilt, and saves it anyway: its files are not read again).
        let outdated = || {
            self.generation.dimensions.is_some()
                && (self.previous.as_ref()).is_some_and(|(_, path)| VectorIndex::outdated(path))
        };
        // A build cut short is finished even when nothing changed since, and a first update
        // that found no document still makes an (empty) index to query.
        let resumed = self.resumed;
        let first = self.live.is_none();
        if self.staged.is_none() && (settings_changed || resumed || first || outdated()) {
            self.stage()?;
        }
        let build = self.build_to_record();
        let live = self.live.as_ref().map(|(_, path)| path.clone());
        let Some(mut staged) = self.staged.take() else {
            // Nothing changed: the live generation is what this run makes of its input, and
            // says so once the run completes.
            let record = match (build, live) {
                (Some((build, false)), Some(live)) => Some((live, build)),
                _ => None,
            };
            return Ok((self.stats, Switch(Publishing::Record(record))));
        };
        match (&build, &live) {
            (Some((build, false)), _) => write_build_record(&staged.path, Some(build)),
            (Some((_, true)), Some(live)) => {
                write_build_record(&staged.path, read_build_record(live).as_ref())
            }
            _ => {}
        }
        self.stats.resumed = resumed;
        if resumed {
            self.count_against_live(&live_docs);
        }
        staged.writer.commit()?;
        let text = staged.path.join("text");
        super::directory::share_like_folder(&text).map_err(io("cannot share", &text))?;
        if let Some(vectors) = &mut staged.vectors {
            let partial = Partial {
                base: self
                    .live
                    .as_ref()
                    .and_then(|(_, path)| generation_name(path)),
                generation: self.generation.clone(),
            };
            write_json(&staged.path.join(PARTIAL), &partial)?;
            vectors.save_checkpoints(BuildCheckpoints {
                dir: staged.path.join(BUILD),
                every: self.checkpoint_every,
            });
            if graph_changed || vectors.tombstone_ratio() > self.config.rebuild_threshold {
                vectors.rebuild()?;
                self.stats.rebuilt = true;
            }
            // A graph found damaged, or in an older format, was rebuilt as it was loaded: a
            // build cut short whose saved graph was damaged went on from its vectors alone.
            self.stats.rebuilt |= vectors.rebuilt_on_load();
            self.stats.resumed &= !vectors.rebuilt_on_load();
            vectors.save(&staged.path)?;
        }
        // Complete. Until it is switched in (a run cancelled now never switches it in), it stays
        // resumable: the next update would go on from it.
        write_json(&staged.path.join("docs.json"), &self.generation)?;
        let name = generation_name(&staged.path).unwrap_or_default();
        let pending = self.dir.join(format!("{CURRENT}.pending"));
        fs::write(&pending, &name).map_err(io("cannot write", &pending))?;
        fs::File::open(&pending)
            .and_then(|file| file.sync_all())
            .map_err(io("cannot sync", &pending))?;
        let replaced = self.live.as_ref().and_then(|(_, path)| path.file_name());
        let replaced = replaced.map(|name| name.to_string_lossy().into_owned());
        Ok((
            self.stats,
            Switch(Publishing::Generation(PendingSwitch {
                dir: self.dir,
                name,
                replaced,
            })),
        ))
    }
}

/// What makes a finished update the live generation; when it changed nothing, what records
/// that its run made the live one what it is.
#[derive(Debug)]
#[must_use = "the update is not live until it is switched in"]
pub struct Switch(Publishing);

#[derive(Debug)]
enum Publishing {
    Generation(PendingSwitch),
    /// The live generation, and the record of the run it stays (none: it stays as it was).
    Record(Option<(PathBuf, serde_json::Value)>),
}

#[derive(Debug)]
struct PendingSwitch {
    dir: PathBuf,
    name: String,
    replaced: Option<String>,
}

impl Switch {
    /// The rename that makes the update live: (`CURRENT.pending`, `CURRENT`); none when it
    /// changed nothing.
    pub fn renames(&self) -> Vec<(PathBuf, PathBuf)> {
        match &self.0 {
            Publishing::Generation(pending) => vec![(
                pending.dir.join(format!("{CURRENT}.pending")),
                pending.dir.join(CURRENT),
            )],
            Publishing::Record(_) => Vec::new(),
        }
    }

    /// Makes the update live: renames `CURRENT.pending` over `CURRENT`, then removes the
    /// generations no query needs any more (or, when it changed nothing, records its run with
    /// the live generation).
    pub fn publish(self) -> Result<(), IndexError> {
        let PendingSwitch {
            dir,
            name,
            replaced,
        } = match self.0 {
            Publishing::Generation(pending) => pending,
            Publishing::Record(record) => {
                if let Some((live, build)) = record {
                    write_build_record(&live, Some(&build));
                }
                return Ok(());
            }
        };
        let pending = dir.join(format!("{CURRENT}.pending"));
        fs::rename(&pending, dir.join(CURRENT)).map_err(io("cannot switch", &dir))?;
        // Live: what resuming its build took goes (a failure only leaves it on disk until the
        // next update removes the generation).
        let _ = fs::remove_file(dir.join(&name).join(PARTIAL));
        let _ = fs::remove_dir_all(dir.join(&name).join(BUILD));
        remove_other_generations(&dir, &[Some(name), replaced]);
        Ok(())
    }
}

/// Deletes generations other than those in `keep`: older ones, and any left by an interrupted
/// update. The generation an update replaced is kept until the next update, for queries that
/// were opening it when it was replaced.
fn remove_other_generations(dir: &Path, keep: &[Option<String>]) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("gen-") && !keep.iter().flatten().any(|kept| *kept == name) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The live generation, open for queries.
pub struct HybridIndex {
    config: IndexConfig,
    model: Option<String>,
    text: TextIndex,
    /// The generation's folder, where the vector half is read from.
    generation: PathBuf,
    /// Whether the generation holds vectors.
    has_vectors: bool,
    /// The vector half, read when a search first needs it: a BM25 query never reads the
    /// graph and the vectors (1.75 GB and 4 s at 284,000 chunks).
    vectors: OnceLock<Result<VectorIndex, String>>,
    /// The documents the index holds chunks of, each with its chunks' points in document
    /// order (a hit's neighbours, [`HybridIndex::context`]).
    documents: HashMap<String, Vec<usize>>,
    metadata_keys: BTreeSet<String>,
}

impl HybridIndex {
    /// Opens the live generation in `dir`. An update that switches generations keeps the one
    /// it replaced, so an open that began before the switch completes; one that began before
    /// two switches finds its generation gone and opens the new live one.
    pub fn open(dir: &Path) -> Result<HybridIndex, IndexError> {
        Self::open_with(dir, TextIndex::open)
    }

    /// [`HybridIndex::open`], opening the text index with `open_text`.
    fn open_with(
        dir: &Path,
        open_text: impl Fn(&Path, &IndexConfig) -> Result<TextIndex, IndexError>,
    ) -> Result<HybridIndex, IndexError> {
        let mut attempts = 0;
        loop {
            let before = current_generation(dir).map(|(number, _)| number);
            match Self::open_current(dir, &open_text) {
                Err(_) if attempts < 3 && current_generation(dir).map(|(n, _)| n) != before => {
                    attempts += 1;
                }
                opened => return opened,
            }
        }
    }

    fn open_current(
        dir: &Path,
        open_text: &impl Fn(&Path, &IndexConfig) -> Result<TextIndex, IndexError>,
    ) -> Result<HybridIndex, IndexError> {
        let Some((_, path)) = current_generation(dir) else {
            if dir.join(CURRENT).exists() {
                return Err(IndexError::new(format!(
                    "the index in {} is damaged (its {CURRENT} names no generation there): the next run indexes it afresh",
                    dir.display()
                )));
            }
            return Err(IndexError::new(format!(
                "no index in {}: run the pipeline that builds it first",
                dir.display()
            )));
        };
        let generation = read_generation(&path)?;
        if generation.format != FORMAT {
            return Err(IndexError::new(format!(
                "the index in {} was written by an earlier version of the engine (its text analysis and filters have changed since): run the pipeline once to index it anew",
                dir.display()
            )));
        }
        let text = path.join("text");
        // Opening a text index that is not there would make an empty one, and hide the damage.
        if !text.join("meta.json").is_file() {
            return Err(IndexError::new(format!(
                "the text index in {} is damaged (its meta.json is missing): the next run indexes it afresh",
                text.display()
            )));
        }
        let text = open_text(&text, &generation.config)?;
        Ok(HybridIndex {
            config: generation.config,
            model: generation.model,
            text,
            generation: path,
            has_vectors: generation.dimensions.is_some(),
            vectors: OnceLock::new(),
            metadata_keys: (generation.docs.values())
                .flat_map(|doc| doc.metadata_keys.iter().cloned())
                .collect(),
            // A document of no text, or only table of contents chunks, has none to find.
            documents: (generation.docs.into_iter())
                .filter(|(_, doc)| !doc.points.is_empty())
                .map(|(doc_id, doc)| (doc_id, doc.points))
                .collect(),
        })
    }

    /// Whether `dir` holds an index: a first update completed there (it may still fail to
    /// open, when damaged).
    pub fn exists(dir: &Path) -> bool {
        dir.join(CURRENT).exists()
    }

    /// Whether this is still the live generation of its index: an update since has made
    /// another one live (and the update after that removes this one), so a process that keeps
    /// an index open opens it again when this turns false.
    pub fn is_live(&self) -> bool {
        let dir = self.generation.parent().unwrap_or(&self.generation);
        current_generation(dir).is_some_and(|(_, live)| live == self.generation)
    }

    /// A text index file opened before that is now shorter than it was then (damaged from
    /// outside): a process that keeps the index open opens it again before searching, as a
    /// search of it would die of the mapped file's lost end.
    pub fn file_cut_short(&self) -> Option<PathBuf> {
        self.text.file_cut_short()
    }

    /// Live chunks.
    pub fn chunks(&self) -> u64 {
        self.text.len()
    }

    /// Documents the index holds chunks of.
    pub fn documents(&self) -> usize {
        self.documents.len()
    }

    /// The record of the run that made this generation ([`IndexUpdate::record_build`]), when
    /// it has one that reads.
    pub fn build_record(&self) -> Option<serde_json::Value> {
        read_build_record(&self.generation)
    }

    /// Whether the index holds chunks of document `doc_id`.
    pub fn holds(&self, doc_id: &str) -> bool {
        self.documents.contains_key(doc_id)
    }

    /// The chunks around `hit` in its document, as the index holds them: up to `around`
    /// before it and after it, in document order (table of contents chunks the index left out
    /// are not among them).
    pub fn context(&self, hit: &StoredHit, around: usize) -> Result<Context, IndexError> {
        let mut context = Context::default();
        let Some(points) = self.documents.get(&hit.doc_id) else {
            return Ok(context);
        };
        let of_chunk = self.text.points_of_chunk(&hit.chunk_id)?;
        let Some(at) = points
            .iter()
            .position(|point| of_chunk.contains(&(*point as u64)))
        else {
            return Ok(context);
        };
        for point in &points[at.saturating_sub(around)..at] {
            context
                .before
                .extend(self.text.hit_for_point(*point as u64)?);
        }
        for point in points.iter().skip(at + 1).take(around) {
            context
                .after
                .extend(self.text.hit_for_point(*point as u64)?);
        }
        Ok(context)
    }

    /// The metadata keys some chunk can be filtered by (besides [`super::FILTER_FIELDS`]).
    pub fn metadata_keys(&self) -> &BTreeSet<String> {
        &self.metadata_keys
    }

    /// The fingerprint of the embedding model its vectors come from.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The settings the index was built with.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// The vector half (`None` when the index holds no vectors), read from disk on first use.
    pub fn vectors(&self) -> Result<Option<&VectorIndex>, IndexError> {
        if !self.has_vectors {
            return Ok(None);
        }
        let loaded = self.vectors.get_or_init(|| {
            VectorIndex::open(&self.generation, &self.config).map_err(|e| e.message)
        });
        match loaded {
            Ok(vectors) => Ok(Some(vectors)),
            Err(message) => Err(IndexError::new(message.clone())),
        }
    }

    /// Why a search that needs the vector half would fail, found without reading it (see
    /// [`VectorIndex::whole_on_disk`]; or the failure of a search that read it); `None` when
    /// it has none, or it looks whole.
    pub fn vectors_damage(&self) -> Option<String> {
        if !self.has_vectors {
            return None;
        }
        match self.vectors.get() {
            Some(loaded) => loaded.as_ref().err().cloned(),
            None => VectorIndex::whole_on_disk(&self.generation)
                .err()
                .map(|err| err.message),
        }
    }

    /// The vectors file, once a search has read it whole, when it no longer has the length it
    /// had then (damaged from outside: a run never writes a generation again). The vectors in
    /// memory still answer; a process that keeps the index open opens it again, which finds the
    /// damage as `engine query` would.
    pub fn vectors_file_changed(&self) -> Option<PathBuf> {
        let read = self.vectors_if_read()?;
        let path = self.generation.join("vectors.f32");
        let now = fs::metadata(&path).map(|file| file.len()).ok();
        (now != Some(read.file_bytes())).then_some(path)
    }

    /// The vector half when a search has read it already: never reads it.
    pub fn vectors_if_read(&self) -> Option<&VectorIndex> {
        self.vectors.get().and_then(|loaded| loaded.as_ref().ok())
    }

    /// The distinct terms BM25 searches for `text`: none when every word is a stop word.
    pub fn search_terms(&self, text: &str) -> Vec<String> {
        self.text.terms(text)
    }

    /// Whether its folder is read-only to this process (another user's, or on a read-only
    /// mount): it answers queries, but nothing can be saved in it from here.
    pub fn read_only(&self) -> bool {
        self.text.read_only()
    }

    /// Ranks chunks for a query. `vector` is the query's embedding (needed by vector and hybrid
    /// modes); `filters` are `key=value` pairs every hit must match.
    pub fn search(
        &self,
        text: &str,
        vector: Option<&[f32]>,
        mode: Mode,
        k: usize,
        filters: &[(String, String)],
        fusion: Fusion,
    ) -> Result<Vec<Hit>, IndexError> {
        // No mode can return more chunks than the index holds, and every list below is sized
        // by k: a huge k must cost what the whole index costs, not what k asks.
        let total = usize::try_from(self.chunks()).unwrap_or(usize::MAX);
        let k = k.min(total);
        if k == 0 {
            return Ok(Vec::new());
        }
        // Vector search and both lists of hybrid mode go `candidates` deep whatever k asks; a
        // k past what that ranks doubles the depth, again and again, each round adding the
        // chunks it ranks that are not there yet after them: the hits of a smaller k are always
        // the first of a larger one's.
        let depths = std::iter::successors(Some(self.config.candidates.clamp(1, total)), |depth| {
            (*depth < total).then(|| depth.saturating_mul(2).min(total))
        });
        let ranked: Vec<(super::StoredHit, f32, Option<Explain>)> = match mode {
            Mode::Bm25 => self
                .text
                .search(text, k, filters)?
                .into_iter()
                .map(|(score, hit)| (hit, score, None))
                .collect(),
            Mode::Vector => {
                let vector = query_vector(vector)?;
                let nearest = |depth| -> Result<Vec<(u64, f32)>, IndexError> {
                    self.order_ties(self.nearest(vector, depth, filters)?.0, usize::MAX)
                };
                let mut ranked = Vec::new();
                for depth in depths {
                    append_new(&mut ranked, nearest(depth)?);
                    if ranked.len() >= k {
                        break;
                    }
                }
                let ranked = ranked.into_iter().take(k);
                self.hits(ranked.map(|(point, score)| (point, score, None)))?
            }
            Mode::Hybrid => {
                let vector = query_vector(vector)?;
                let mut ranked = Vec::new();
                // Each chunk's places in the lists of the round that ranked it.
                let mut explained: HashMap<u64, Explain> = HashMap::new();
                for depth in depths {
                    // Ties are ordered where hits can come from: the first k of the first round,
                    // anywhere in the later ones.
                    let needed = if ranked.is_empty() { k } else { usize::MAX };
                    let (mut fused, places) =
                        self.fused(text, vector, depth, needed, filters, fusion)?;
                    if depth < total {
                        // A chunk scoring 0 (in no list that weighs) waits for the last round:
                        // a deeper list may rank it.
                        fused.retain(|(_, score)| *score > 0.0);
                    }
                    for (point, _) in &fused {
                        let place = places.get(point).copied().unwrap_or_default();
                        explained.entry(*point).or_insert(place);
                    }
                    append_new(&mut ranked, fused);
                    if ranked.len() >= k {
                        break;
                    }
                }
                // Ranked in double precision, shown in single.
                let ranked = ranked
                    .into_iter()
                    .take(k)
                    .map(|(point, score)| (point, score as f32, explained.get(&point).copied()));
                self.hits(ranked)?
            }
        };
        Ok(ranked
            .into_iter()
            .take(k)
            .enumerate()
            .map(|(i, (stored, score, explain))| Hit {
                rank: i + 1,
                score,
                stored,
                explain,
                context: None,
            })
            .collect())
    }

    /// The fusion of the BM25 and vector lists `depth` deep (ties among the first `needed` in
    /// chunk id order), as (point, fused score), with each point's places in the two lists.
    /// Both lists and their fusion work on point ids; only the winners' stored hits are read
    /// later. The two searches run side by side.
    fn fused(
        &self,
        text: &str,
        vector: &[f32],
        depth: usize,
        needed: usize,
        filters: &[(String, String)],
        fusion: Fusion,
    ) -> Result<Fused, IndexError> {
        let (bm25, nearest) = std::thread::scope(|scope| {
            let bm25 = scope.spawn(|| self.text.search_points(text, depth, filters));
            let nearest = self.nearest(vector, depth, filters);
            let bm25 = bm25
                .join()
                .unwrap_or_else(|_| Err(IndexError::new("the BM25 search failed unexpectedly")));
            (bm25, nearest)
        });
        let bm25: Vec<(u64, f32)> = bm25?
            .into_iter()
            .map(|(score, point)| (point, score))
            .collect();
        let (nearest, floor) = nearest?;
        let mut nearest = self.order_ties(nearest, usize::MAX)?;
        // Both lists go exactly `depth` deep, chunks tied at the cut taken by chunk id (as
        // BM25 takes them): a tie run past the cut would give some copies of a text a vector
        // rank in this round and leave their BM25 rank to the next.
        let floor = match nearest.get(depth) {
            Some(&(_, next)) => {
                nearest.truncate(depth);
                Some(next)
            }
            None => floor,
        };
        // A chunk absent from the BM25 list does not match (0), or is below its last.
        let fused = fusion::fuse(
            Ranked::new(&bm25, Some(0.0)),
            Ranked::new(&nearest, floor),
            fusion,
        );
        let mut places: HashMap<u64, Explain> = HashMap::new();
        let place = |rank: usize, score: f32| {
            Some(ListPlace {
                rank: rank + 1,
                score,
            })
        };
        for (rank, (point, score)) in bm25.iter().enumerate() {
            places.entry(*point).or_default().bm25 = place(rank, *score);
        }
        for (rank, (point, score)) in nearest.iter().enumerate() {
            places.entry(*point).or_default().vector = place(rank, *score);
        }
        Ok((self.order_ties(fused, needed)?, places))
    }

    /// The `depth` live points nearest to `vector` among the chunks that pass `filters` (more
    /// when chunks tie with the last), as (point, cosine similarity), and the similarity of the
    /// next one (`None` when every chunk that passes is in the list).
    fn nearest(
        &self,
        vector: &[f32],
        depth: usize,
        filters: &[(String, String)],
    ) -> Result<Nearest, IndexError> {
        let Some(vectors) = self.vectors()? else {
            return Ok((Vec::new(), None));
        };
        if vector.len() != vectors.dimensions() {
            return Err(IndexError::new(format!(
                "the query vector has {} dimensions but the index holds {}: query with the model that built it",
                vector.len(),
                vectors.dimensions()
            )));
        }
        let allowed = self.text.allowed_points(filters)?;
        // Chunks tied with the last one are all taken, as BM25 takes them, so that ties at
        // the cut go by chunk id ([`HybridIndex::order_ties`]), not by where chunks sit.
        let mut wanted = depth.saturating_add(1);
        loop {
            let mut found: Vec<(u64, f32)> = vectors
                .search(vector, wanted, self.config.ef_search, allowed.as_deref())
                .into_iter()
                .map(|(point, score)| (point as u64, score))
                .collect();
            if found.len() <= depth {
                return Ok((found, None));
            }
            let last = found[depth.saturating_sub(1)].1;
            match found.iter().position(|(_, score)| *score < last) {
                Some(end) => {
                    let next = found[end].1;
                    found.truncate(end);
                    return Ok((found, Some(next)));
                }
                None if found.len() < wanted => return Ok((found, None)),
                None => wanted = wanted.saturating_mul(2),
            }
        }
    }

    /// `ranked` (best first) with every run of equal scores that starts among the first `needed`
    /// in chunk id order (vectors without direction last), so that ties never depend on where
    /// chunks sit in the index.
    fn order_ties<Score: PartialEq>(
        &self,
        mut ranked: Vec<(u64, Score)>,
        needed: usize,
    ) -> Result<Vec<(u64, Score)>, IndexError> {
        let mut runs = Vec::new();
        let mut start = 0;
        while start < ranked.len() && start < needed {
            // At least the chunk itself: a NaN score (a damaged vectors file) equals nothing,
            // not even itself, and would otherwise never move on.
            let end = start
                + 1
                + ranked[start + 1..]
                    .iter()
                    .take_while(|(_, score)| *score == ranked[start].1)
                    .count();
            if end - start > 1 {
                runs.push(start..end);
            }
            start = end;
        }
        if runs.is_empty() {
            return Ok(ranked);
        }
        let points: Vec<u64> = (runs.iter().cloned().flatten())
            .map(|i| ranked[i].0)
            .collect();
        let ids = self.text.chunk_ids_of_points(&points)?;
        // A vector without direction comes after every chunk that has one (read only when the
        // search loaded the vectors).
        let loaded = self.vectors_if_read();
        let directionless = |point: u64| loaded.is_some_and(|v| !v.has_direction(point as usize));
        for run in runs {
            ranked[run].sort_by(|a, b| {
                (directionless(a.0).cmp(&directionless(b.0)))
                    .then(ids.get(&a.0).cmp(&ids.get(&b.0)))
                    .then(a.0.cmp(&b.0))
            });
        }
        Ok(ranked)
    }

    /// The stored hits of ranked points, in their order, with their scores.
    fn hits<Extra>(
        &self,
        ranked: impl Iterator<Item = (u64, f32, Extra)>,
    ) -> Result<Vec<(super::StoredHit, f32, Extra)>, IndexError> {
        let mut hits = Vec::new();
        for (point, score, extra) in ranked {
            if let Some(hit) = self.text.hit_for_point(point)? {
                hits.push((hit, score, extra));
            }
        }
        Ok(hits)
    }
}

/// Points (id, fused score), best first, and each one's places in the two lists fused.
type Fused = (Vec<(u64, f64)>, HashMap<u64, Explain>);

/// Points (id, cosine similarity), best first, and the similarity of the next one.
type Nearest = (Vec<(u64, f32)>, Option<f32>);

/// Adds to `ranked` the points of `deeper` it does not hold yet, in their order.
fn append_new<Score>(ranked: &mut Vec<(u64, Score)>, deeper: Vec<(u64, Score)>) {
    let held: std::collections::HashSet<u64> = ranked.iter().map(|(point, _)| *point).collect();
    ranked.extend(
        deeper
            .into_iter()
            .filter(|(point, _)| !held.contains(point)),
    );
}

/// The query's embedding, which vector and hybrid modes need.
fn query_vector(vector: Option<&[f32]>) -> Result<&[f32], IndexError> {
    vector.ok_or_else(|| IndexError::new("vector and hybrid modes need the query's embedding"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::StoredHit;
    use std::collections::HashSet;

    /// A unit vector pointing mostly along axis `axis` of 8.
    fn vector(axis: usize, wobble: f32) -> Vec<f32> {
        let mut v = [wobble; 8];
        v[axis % 8] = 1.0;
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }

    fn entry(doc_id: &str, n: usize, text: &str, axis: usize) -> Entry {
        let mut metadata = serde_json::Map::new();
        metadata.insert(
            "lang".into(),
            if n.is_multiple_of(2) {
                "en".into()
            } else {
                "fr".into()
            },
        );
        Entry {
            hit: StoredHit {
                chunk_id: format!("{doc_id}#{n}"),
                doc_id: doc_id.to_owned(),
                source: format!("/corpus/{doc_id}"),
                title: Some(format!("Title of {doc_id}")),
                section: vec!["Intro".to_owned()],
                page: None,
                text: text.to_owned(),
            },
            metadata,
            pages: None,
            sections: Vec::new(),
            vector: vector(axis, 0.05),
        }
    }

    /// Finishes an update and switches it in.
    fn finish_live(update: IndexUpdate) -> UpdateStats {
        let (stats, switch) = update.finish().unwrap();
        switch.publish().unwrap();
        stats
    }

    fn build(dir: &Path, docs: &[(&str, &str, Vec<Entry>)]) -> UpdateStats {
        let mut update = IndexUpdate::begin(dir, &IndexConfig::default(), Some("model")).unwrap();
        for (doc_id, key, entries) in docs {
            update.upsert(doc_id, key, entries).unwrap();
        }
        finish_live(update)
    }

    fn ids(hits: &[Hit]) -> Vec<&str> {
        hits.iter()
            .map(|hit| hit.stored.chunk_id.as_str())
            .collect()
    }

    /// An index in a folder this process cannot write (another user's, a read-only mount:
    /// simulated, as root may write anywhere) answers every mode, and says it is read-only;
    /// Tantivy alone refuses to read it, for want of its lock file.
    #[test]
    fn an_index_that_cannot_be_written_is_read() {
        use crate::index::directory::{ReadableDirectory, Unwritable};
        use tantivy::directory::MmapDirectory;
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[
                ("a", "ka", vec![entry("a", 0, "Resuming a pipeline", 0)]),
                ("b", "kb", vec![entry("b", 0, "Chunking documents", 1)]),
            ],
        );
        let unwritable = |text: &Path| Unwritable(MmapDirectory::open(text).unwrap());
        let refused = HybridIndex::open_with(dir.path(), |text, _| {
            let index = tantivy::Index::open(unwritable(text)).unwrap();
            index
                .reader()
                .map_err(|err| IndexError::new(crate::index::directory::tantivy_message(&err)))?;
            unreachable!("Tantivy read an unwritable folder without its lock")
        });
        let message = refused.err().unwrap().message;
        assert!(
            message.contains("lock file: Permission denied"),
            "{message}"
        );
        let files = |dir: &Path| {
            let mut files: Vec<_> = walkdir::WalkDir::new(dir)
                .into_iter()
                .flatten()
                .map(|entry| entry.path().to_owned())
                .collect();
            files.sort();
            files
        };
        let before = files(dir.path());
        let index = HybridIndex::open_with(dir.path(), |text, config| {
            TextIndex::open_in(ReadableDirectory::wrap(unwritable(text), text), config)
        })
        .unwrap();
        assert!(index.read_only());
        let query = vector(1, 0.0);
        for mode in [Mode::Bm25, Mode::Vector, Mode::Hybrid] {
            let hits = index
                .search("chunking", Some(&query), mode, 1, &[], Fusion::default())
                .unwrap();
            assert_eq!(ids(&hits), ["b#0"], "{mode:?}");
        }
        assert_eq!(files(dir.path()), before, "nothing was written");
        assert!(!HybridIndex::open(dir.path()).unwrap().read_only());
    }

    /// One id from two sources: the smaller key is kept whichever comes first, and a later
    /// update offered the other version first waits for the kept one instead of replacing it
    /// and putting it back (an unchanged run re-indexed it, and rebuilt the graph, every time
    /// the two came in that order). An offer whose rival does not come is applied at the end.
    #[test]
    fn a_contested_document_is_not_indexed_again_when_its_versions_come_in_the_other_order() {
        let dir = tempfile::tempdir().unwrap();
        let kept = || vec![entry("x", 0, "Resuming a pipeline", 0)];
        let other = || vec![entry("x", 0, "Chunking documents", 1)];
        let mut update =
            IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
        update.upsert("x", "ka", &kept()).unwrap();
        assert!(update.upsert("x", "kb", &other()).is_err());
        finish_live(update);
        let live = current_generation(dir.path()).unwrap().0;
        for _ in 0..2 {
            let mut update =
                IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
            update.upsert("x", "kb", &other()).unwrap();
            let error = update.upsert("x", "ka", &kept()).unwrap_err();
            assert!(error.message.contains("came twice"), "{error}");
            let stats = finish_live(update);
            assert_eq!(
                (
                    stats.documents_indexed,
                    stats.documents_unchanged,
                    stats.chunks_added
                ),
                (0, 1, 0)
            );
            assert!(!stats.rebuilt);
            assert_eq!(
                current_generation(dir.path()).unwrap().0,
                live,
                "nothing staged"
            );
        }
        // The kept version's source gone: the other is indexed, at the update's end.
        let mut update =
            IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
        update.upsert("x", "kb", &other()).unwrap();
        let stats = finish_live(update);
        assert_eq!((stats.documents_indexed, stats.chunks), (1, 1));
        let index = HybridIndex::open(dir.path()).unwrap();
        let hits = index
            .search("chunking", None, Mode::Bm25, 5, &[], Fusion::default())
            .unwrap();
        assert_eq!(hits[0].stored.text, "Chunking documents");
    }

    /// A vector holding NaN (a model that overflows) fails its document before anything
    /// changes: the index keeps what it held of it, and every vector query still opens and
    /// answers (a NaN stored made the index "damaged" for good, rebuilt from the same vectors
    /// every run).
    #[test]
    fn a_vector_that_is_not_numbers_fails_its_document_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[("a", "ka", vec![entry("a", 0, "Resuming a pipeline", 0)])],
        );
        let mut update =
            IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
        let mut broken = entry("a", 1, "Chunking documents", 1);
        broken.vector[3] = f32::NAN;
        let error = update
            .upsert("a", "ka2", &[entry("a", 0, "Changed text", 2), broken])
            .unwrap_err();
        assert!(
            error
                .message
                .contains("chunk 1 has a vector holding values that are not numbers"),
            "{error}"
        );
        update
            .upsert("b", "kb", &[entry("b", 0, "Tables", 3)])
            .unwrap();
        finish_live(update);
        let index = HybridIndex::open(dir.path()).unwrap();
        let query = vector(0, 0.0);
        let hits = index
            .search(
                "resuming",
                Some(&query),
                Mode::Hybrid,
                5,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&hits), ["a#0", "b#0"]);
        assert_eq!(hits[0].stored.text, "Resuming a pipeline");
    }

    /// k is capped by the chunks indexed before anything is sized by it: the largest k gives
    /// every chunk once, in every mode, without a panic or a huge allocation; 0 gives none.
    #[test]
    fn a_huge_k_gives_every_chunk_and_allocates_for_the_index_only() {
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[
                (
                    "a",
                    "ka",
                    vec![
                        entry("a", 0, "Resuming a pipeline after a crash", 0),
                        entry("a", 1, "Chunking long documents", 1),
                    ],
                ),
                ("b", "kb", vec![entry("b", 0, "Resuming embedding", 2)]),
            ],
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        let query = vector(0, 0.0);
        let query = Some(&query[..]);
        for mode in [Mode::Bm25, Mode::Vector, Mode::Hybrid] {
            for fusion in [Fusion::default(), Fusion::Weighted { alpha: 0.5 }] {
                let all = index
                    .search("resuming chunking", query, mode, usize::MAX, &[], fusion)
                    .unwrap();
                assert_eq!(all.len(), 3, "{mode:?} {fusion:?}");
                let none = index
                    .search("resuming", query, mode, 0, &[], fusion)
                    .unwrap();
                assert!(none.is_empty(), "{mode:?}");
            }
        }
    }

    /// A chunk that runs over several pages is found by a filter on any of them.
    #[test]
    fn a_page_filter_finds_every_chunk_on_that_page() {
        let dir = tempfile::tempdir().unwrap();
        let mut spanning = entry("a", 0, "Tables of results", 0);
        spanning.hit.page = Some(2);
        spanning.pages = Some([2, 4]);
        let mut later = entry("a", 1, "More tables later", 1);
        later.hit.page = Some(4);
        later.pages = Some([4, 4]);
        build(dir.path(), &[("a", "ka", vec![spanning, later])]);
        let index = HybridIndex::open(dir.path()).unwrap();
        let on = |page: &str| {
            let filter = [("page".to_owned(), page.to_owned())];
            let hits = index
                .search("tables", None, Mode::Bm25, 5, &filter, Fusion::default())
                .unwrap();
            ids(&hits)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(on("2"), ["a#0"]);
        assert_eq!(on("3"), ["a#0"]);
        let mut four = on("4");
        four.sort();
        assert_eq!(four, ["a#0", "a#1"]);
        assert!(on("5").is_empty());
        // Written otherwise, or past every page number there can be.
        assert_eq!(on("02"), ["a#0"]);
        assert_eq!(on("2.0"), ["a#0"]);
        assert!(on("4294967296").is_empty());
        assert!(on("99999999999999999999").is_empty());
        let refused = |page: &str| super::super::page_filter(page).is_err();
        assert!(refused("-1") && refused("2.5") && refused("abc"));
    }

    /// A number in metadata passes a filter however the number is written, on either side:
    /// `1500.0` by `1500`, YAML's `1.10` (the number 1.1) by `1.10`; a string keeps its
    /// spelling, even one that reads as a number.
    #[test]
    fn a_number_filter_matches_any_spelling_of_the_number() {
        let dir = tempfile::tempdir().unwrap();
        let mut price = entry("a", 0, "Tables of prices", 0);
        price
            .metadata
            .insert("price".into(), serde_json::json!(1500.0));
        price
            .metadata
            .insert("version".into(), serde_json::json!(1.10));
        price
            .metadata
            .insert("code".into(), serde_json::json!("007"));
        price
            .metadata
            .insert("seven".into(), serde_json::json!("7"));
        build(dir.path(), &[("a", "ka", vec![price])]);
        let index = HybridIndex::open(dir.path()).unwrap();
        let passes = |key: &str, value: &str| {
            let filter = [(key.to_owned(), value.to_owned())];
            let hits = index
                .search("tables", None, Mode::Bm25, 5, &filter, Fusion::default())
                .unwrap();
            !hits.is_empty()
        };
        for value in ["1500", "1500.0", "1.5e3", "+1500"] {
            assert!(passes("price", value), "price={value}");
        }
        for value in ["1.10", "1.1"] {
            assert!(passes("version", value), "version={value}");
        }
        assert!(!passes("price", "1501"));
        assert!(passes("code", "007"));
        assert!(!passes("code", "7"), "text keeps its spelling");
        assert!(passes("seven", "7"));
        for value in ["07", "7.0"] {
            assert!(
                !passes("seven", value),
                "the string \"7\" is no number: {value}"
            );
        }
    }

    /// A query is words: `NOT`, `AND` and `OR` are searched for (as stop words, nothing), never
    /// obeyed; a term counts once however many spellings lead to it.
    #[test]
    fn bm25_queries_are_words_not_syntax() {
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[
                (
                    "a",
                    "ka",
                    vec![entry(
                        "a",
                        0,
                        "Patients who did not respond to treatment",
                        0,
                    )],
                ),
                (
                    "b",
                    "kb",
                    vec![entry("b", 0, "Rust and C++ compared for systems work", 1)],
                ),
            ],
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        let bm25 = |text: &str| {
            index
                .search(text, None, Mode::Bm25, 5, &[], Fusion::default())
                .unwrap()
        };
        assert_eq!(ids(&bm25("patients who did NOT respond")), ["a#0"]);
        assert_eq!(ids(&bm25("NOT respond")), ["a#0"]);
        assert_eq!(ids(&bm25("C++ AND Rust")), ["b#0"]);
        assert_eq!(ids(&bm25("\"treatment -patients\" OR (x")), ["a#0"]);
        assert!(bm25("NOT AND OR").is_empty());
        let score = |text: &str| bm25(text)[0].score;
        assert_eq!(score("patients"), score("patients Patients"));
        assert_eq!(score("patients"), score("patients patient"));
    }

    /// A hit's context is the chunks around it in its own document, in document order, as
    /// many as asked on each side where the document has them; after the document changes,
    /// those of its new chunks.
    #[test]
    fn a_hits_context_is_the_chunks_around_it_in_its_document() {
        let dir = tempfile::tempdir().unwrap();
        let chunks = |doc: &str, count: usize| -> Vec<Entry> {
            (0..count)
                .map(|n| entry(doc, n, &format!("{doc} part {n} of many"), n))
                .collect()
        };
        build(
            dir.path(),
            &[("a", "ka", chunks("a", 5)), ("b", "kb", chunks("b", 3))],
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        let hit_of = |index: &HybridIndex, chunk: &str| {
            let found =
                (index.search("part", None, Mode::Bm25, 20, &[], Fusion::default())).unwrap();
            found
                .into_iter()
                .find(|hit| hit.stored.chunk_id == chunk)
                .unwrap()
                .stored
        };
        let around = |index: &HybridIndex, chunk: &str, n: usize| {
            let context = index.context(&hit_of(index, chunk), n).unwrap();
            let ids = |hits: &[StoredHit]| -> Vec<String> {
                hits.iter().map(|hit| hit.chunk_id.clone()).collect()
            };
            (ids(&context.before), ids(&context.after))
        };
        assert_eq!(
            around(&index, "a#2", 1),
            (vec!["a#1".into()], vec!["a#3".into()])
        );
        assert_eq!(
            around(&index, "a#2", 10),
            (
                vec!["a#0".into(), "a#1".into()],
                vec!["a#3".into(), "a#4".into()]
            )
        );
        assert_eq!(
            around(&index, "b#0", 2),
            (vec![], vec!["b#1".into(), "b#2".into()])
        );
        assert_eq!(around(&index, "a#4", 0), (vec![], vec![]));
        drop(index);
        build(
            dir.path(),
            &[("a", "ka2", chunks("a", 2)), ("b", "kb", chunks("b", 3))],
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        assert_eq!(around(&index, "a#1", 3), (vec!["a#0".into()], vec![]));
    }

    /// Each hybrid hit says where it stood in the BM25 and vector lists fused into it: the
    /// ranks and scores those modes give alone, and no place in a list that does not hold it;
    /// its RRF score is the sum over the lists that do. BM25 and vector hits say nothing.
    #[test]
    fn hybrid_hits_explain_their_places_in_both_lists() {
        let dir = tempfile::tempdir().unwrap();
        let texts = [
            "crash recovery resumes the pipeline",
            "chunking long documents",
            "a pipeline of documents",
            "vectors of text",
            "the pipeline resumes after a crash of the pipeline",
            "nothing in common",
        ];
        let entries: Vec<Entry> = (texts.iter().enumerate())
            .map(|(n, text)| entry("a", n, text, n))
            .collect();
        build(dir.path(), &[("a", "ka", entries)]);
        let index = HybridIndex::open(dir.path()).unwrap();
        let query = "pipeline crash";
        let near = vector(3, 0.1);
        let search = |mode| {
            let k = texts.len();
            (index.search(query, Some(&near), mode, k, &[], Fusion::default())).unwrap()
        };
        let place_in = |hits: &[Hit], chunk: &str| {
            (hits.iter())
                .find(|hit| hit.stored.chunk_id == chunk)
                .map(|hit| ListPlace {
                    rank: hit.rank,
                    score: hit.score,
                })
        };
        let (bm25, vector_hits) = (search(Mode::Bm25), search(Mode::Vector));
        assert!(
            bm25.iter()
                .chain(&vector_hits)
                .all(|hit| hit.explain.is_none())
        );
        let hybrid = search(Mode::Hybrid);
        assert_eq!(hybrid.len(), texts.len());
        for hit in &hybrid {
            let explain = hit.explain.expect("a hybrid hit explains itself");
            let chunk = hit.stored.chunk_id.as_str();
            assert_eq!(explain.bm25, place_in(&bm25, chunk), "{chunk}");
            assert_eq!(explain.vector, place_in(&vector_hits, chunk), "{chunk}");
            let rrf: f64 = [explain.bm25, explain.vector]
                .iter()
                .flatten()
                .map(|place| 1.0 / (60.0 + place.rank as f64))
                .sum();
            assert!(
                (f64::from(hit.score) - rrf).abs() < 1e-6,
                "{chunk}: {hit:?}"
            );
        }
        assert!(
            hybrid.iter().any(|hit| hit.explain.unwrap().bm25.is_none()),
            "a chunk without a query word is in no BM25 list"
        );
    }

    #[test]
    fn bm25_vector_and_hybrid_find_the_right_chunks() {
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[
                (
                    "a",
                    "ka",
                    vec![
                        entry("a", 0, "Resuming a pipeline after a crash", 0),
                        entry("a", 1, "Chunking long documents", 1),
                    ],
                ),
                (
                    "b",
                    "kb",
                    vec![entry("b", 0, "Embedding models turn text into vectors", 2)],
                ),
            ],
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        assert_eq!(index.chunks(), 3);
        let bm25 = index
            .search(
                "how do I resume pipelines?",
                None,
                Mode::Bm25,
                2,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(
            ids(&bm25)[0],
            "a#0",
            "stemming matches resume/resuming and pipeline/pipelines"
        );
        let near = index
            .search(
                "",
                Some(&vector(2, 0.0)),
                Mode::Vector,
                1,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&near), ["b#0"]);
        assert!(near[0].score > 0.9);
        let hybrid = index
            .search(
                "chunking",
                Some(&vector(1, 0.0)),
                Mode::Hybrid,
                3,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&hybrid)[0], "a#1");
        assert_eq!(hybrid[0].rank, 1);
        let filtered = index
            .search(
                "",
                Some(&vector(1, 0.0)),
                Mode::Vector,
                3,
                &[("lang".into(), "en".into())],
                Fusion::default(),
            )
            .unwrap();
        assert!(
            filtered
                .iter()
                .all(|hit| hit.stored.chunk_id.ends_with("#0")),
            "{filtered:?}"
        );
        let by_doc = index
            .search(
                "vectors chunking",
                None,
                Mode::Bm25,
                5,
                &[("doc_id".into(), "b".into())],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&by_doc), ["b#0"]);
    }

    /// A document without chunks (an empty file) that reaches a new index first sets no
    /// vector length: the documents after it are indexed, not refused for "0 dimensions".
    #[test]
    fn a_document_without_chunks_first_sets_no_vector_length() {
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[
                ("a.md", "ka", Vec::new()),
                ("b.txt", "kb", vec![entry("b.txt", 0, "apple banana", 0)]),
                ("c.txt", "kc", vec![entry("c.txt", 0, "cherry date", 1)]),
            ],
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        assert_eq!(index.chunks(), 2);
        let near = index
            .search(
                "",
                Some(&vector(1, 0.0)),
                Mode::Vector,
                1,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&near), ["c.txt#0"]);
    }

    /// Removed and replaced chunks leave BM25's statistics: after deletes, scores are a fresh
    /// build's (they kept counting in document frequencies and lengths, so "xylophone yak"
    /// ranked the yak documents above the one with both words).
    #[test]
    fn scores_after_deletes_are_a_fresh_builds() {
        let kept = |axis: usize| {
            vec![
                ("d1", "k", vec![entry("d1", 0, "xylophone music", axis)]),
                ("d2", "k", vec![entry("d2", 0, "yak music", axis + 1)]),
                ("d3", "k", vec![entry("d3", 0, "yak grass", axis + 2)]),
            ]
        };
        let updated = tempfile::tempdir().unwrap();
        let mut first = kept(0);
        let lessons: Vec<String> = (1..=6).map(|i| format!("x{i}")).collect();
        for (i, id) in lessons.iter().enumerate() {
            let text = format!("xylophone lesson {i}");
            first.push((id, "k", vec![entry(id, 0, &text, i)]));
        }
        build(updated.path(), &first);
        // d2 changes too: its old chunk is replaced, not only removed ones deleted.
        let mut second = kept(0);
        second[1] = ("d2", "k2", vec![entry("d2", 0, "yak music", 1)]);
        build(updated.path(), &second);
        let fresh = tempfile::tempdir().unwrap();
        build(fresh.path(), &kept(0));
        let scores = |dir: &Path| {
            let index = HybridIndex::open(dir).unwrap();
            index
                .search(
                    "xylophone yak",
                    None,
                    Mode::Bm25,
                    10,
                    &[],
                    Fusion::default(),
                )
                .unwrap()
                .into_iter()
                .map(|hit| (hit.stored.chunk_id, hit.score))
                .collect::<Vec<_>>()
        };
        let expected = scores(fresh.path());
        assert_eq!(expected[0].0, "d1#0");
        assert_eq!(scores(updated.path()), expected);
    }

    /// Chunk text of `words` words drawn from a small vocabulary, skewed to its first words as
    /// prose is, by `seed`.
    fn prose(seed: usize, words: usize) -> String {
        const SYLLABLES: [&str; 12] = [
            "ba", "ko", "tu", "mi", "re", "sa", "lo", "ne", "di", "fu", "ga", "pe",
        ];
        let mut state = (seed as u64 + 7).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..words)
            .map(|_| {
                let rank = (next() % 60) * (next() % 60) / 60;
                let rank = rank as usize;
                format!("{}{}x", SYLLABLES[rank % 12], SYLLABLES[rank / 12])
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A chunk is found by its own text (a document's first chunk by its title too); its title
    /// and section only rank it among those found. A document titled "Two-Column Document"
    /// brought up all its chunks, a lone page number among them, for "range of a bigint
    /// column", above the one chunk that says it.
    #[test]
    fn a_title_word_alone_finds_no_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let titled = |doc: &str, title: &str, n: usize, text: &str| {
            let mut entry = entry(doc, n, text, n);
            entry.hit.title = Some(title.to_owned());
            entry.hit.section = vec![title.to_owned()];
            entry
        };
        let lorem: Vec<Entry> = ["Lorem ipsum dolor sit amet.", "3", "Sed do eiusmod tempor."]
            .iter()
            .enumerate()
            .map(|(n, text)| titled("lorem", "Two-Column Document", n, text))
            .collect();
        let numeric = vec![
            titled(
                "numeric",
                "Numeric Types",
                0,
                "A bigint holds a large range of integers.",
            ),
            titled(
                "numeric",
                "Numeric Types",
                1,
                "Floating point types are inexact.",
            ),
        ];
        let other = vec![titled(
            "other",
            "Notes",
            0,
            "Floating point types are inexact.",
        )];
        build(
            dir.path(),
            &[
                ("lorem", "k1", lorem),
                ("numeric", "k2", numeric),
                ("other", "k3", other),
            ],
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        let bm25 = |query: &str| {
            let hits = (index.search(query, None, Mode::Bm25, 10, &[], Fusion::default())).unwrap();
            ids(&hits)
                .iter()
                .map(|id| id.to_string())
                .collect::<Vec<_>>()
        };
        // The answer first; of the titled document, only its first chunk, which holds its
        // title; never the lone page number.
        assert_eq!(bm25("range of a bigint column"), ["numeric#0", "lorem#0"]);
        // A query of a title's words finds its document, by the first chunk.
        assert_eq!(bm25("two-column document"), ["lorem#0"]);
        // Among the chunks their text finds, a title word still counts: of two chunks that
        // say the same, the one under the title.
        let hits = bm25("numeric inexact");
        let at = |id: &str| hits.iter().position(|hit| hit == id).unwrap();
        assert!(at("numeric#1") < at("other#0"), "{hits:?}");
    }

    /// After edits and deletes of long chunks (whose one-byte field lengths are rounded, which
    /// a merge used to total them from), every BM25 score is a fresh build's: the average
    /// lengths no longer depend on the segments' history (scores were 0.1-1% off).
    #[test]
    fn scores_after_edits_and_deletes_of_long_chunks_are_a_fresh_builds_exactly() {
        let names: Vec<String> = (0..40).map(|i| format!("doc{i:02}")).collect();
        let docs = |version: usize, gone: &[usize], edited: &[usize]| {
            (0..names.len())
                .filter(|i| !gone.contains(i))
                .map(|i| {
                    let seed = if edited.contains(&i) {
                        i + 1000 * version
                    } else {
                        i
                    };
                    let chunks = (0..1 + i % 2)
                        .map(|n| {
                            let words = 100 + (seed * 37 + n * 11) % 101;
                            entry(&names[i], n, &prose(seed * 2 + n, words), i + n)
                        })
                        .collect::<Vec<_>>();
                    (names[i].as_str(), format!("k{seed}"), chunks)
                })
                .collect::<Vec<_>>()
        };
        let build = |dir: &Path, docs: &[(&str, String, Vec<Entry>)]| {
            let docs: Vec<(&str, &str, Vec<Entry>)> = (docs.iter())
                .map(|(id, key, chunks)| (*id, key.as_str(), chunks.clone()))
                .collect();
            build(dir, &docs)
        };
        let updated = tempfile::tempdir().unwrap();
        build(updated.path(), &docs(0, &[], &[]));
        build(updated.path(), &docs(1, &[3, 17], &[5, 8, 21, 30]));
        let last = docs(2, &[3, 17, 9, 26], &[5, 11, 33]);
        build(updated.path(), &last);
        let fresh = tempfile::tempdir().unwrap();
        build(fresh.path(), &last);
        // Every chunk that matches, by chunk id: the order a union sums several clauses' scores
        // in depends on the segments, so the last bit may differ (as between two fresh builds).
        let scores = |dir: &Path, query: &str| {
            let index = HybridIndex::open(dir).unwrap();
            index
                .search(query, None, Mode::Bm25, 1000, &[], Fusion::default())
                .unwrap()
                .into_iter()
                .map(|hit| (hit.stored.chunk_id, hit.score))
                .collect::<BTreeMap<_, _>>()
        };
        for query in [
            "bakox",
            "bakox tubax",
            "pekox",
            "rebax fumix",
            // The title's and section's scores (for chunks their text finds).
            "bakox intro",
            "pekox title doc05",
        ] {
            let expected = scores(fresh.path(), query);
            let updated = scores(updated.path(), query);
            assert!(!expected.is_empty(), "{query}");
            assert_eq!(
                updated.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>()
            );
            for (chunk, score) in &expected {
                let off = (updated[chunk] - score).abs() / score;
                assert!(off < 1e-6, "{query}: {chunk} {} vs {score}", updated[chunk]);
            }
        }
    }

    #[test]
    fn updates_replace_changed_documents_remove_missing_ones_and_never_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[
                ("a", "k1", vec![entry("a", 0, "alpha text", 0)]),
                ("b", "k1", vec![entry("b", 0, "beta text", 1)]),
            ],
        );
        let same = build(
            dir.path(),
            &[
                ("a", "k1", vec![entry("a", 0, "alpha text", 0)]),
                ("b", "k1", vec![entry("b", 0, "beta text", 1)]),
            ],
        );
        assert_eq!(same.documents_unchanged, 2);
        assert_eq!(same.chunks_added, 0);
        let changed = build(
            dir.path(),
            &[(
                "a",
                "k2",
                vec![entry("a", 0, "gamma text", 0), entry("a", 1, "delta", 3)],
            )],
        );
        assert_eq!(
            (changed.documents_indexed, changed.documents_removed),
            (1, 1)
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        assert_eq!(index.chunks(), 2);
        assert!(
            index
                .search("alpha", None, Mode::Bm25, 5, &[], Fusion::default())
                .unwrap()
                .is_empty()
        );
        assert!(
            index
                .search("beta", None, Mode::Bm25, 5, &[], Fusion::default())
                .unwrap()
                .is_empty()
        );
        let near = index
            .search(
                "",
                Some(&vector(1, 0.0)),
                Mode::Vector,
                5,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert!(
            near.iter().all(|hit| hit.stored.doc_id == "a"),
            "tombstoned vectors never come back: {near:?}"
        );
        assert_eq!(
            generations(dir.path()).len(),
            2,
            "older generations are removed; the replaced one stays for queries opening it"
        );
    }

    #[test]
    fn an_interrupted_update_leaves_the_last_finished_generation() {
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[("a", "k1", vec![entry("a", 0, "alpha text", 0)])],
        );
        {
            let mut update =
                IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
            update
                .upsert("b", "k1", &[entry("b", 0, "beta text", 1)])
                .unwrap();
            // dropped without finish: as if the process died here
        }
        let index = HybridIndex::open(dir.path()).unwrap();
        assert_eq!(index.chunks(), 1);
        assert_eq!(
            index
                .search("alpha", None, Mode::Bm25, 5, &[], Fusion::default())
                .unwrap()
                .len(),
            1
        );
        build(
            dir.path(),
            &[
                ("a", "k1", vec![entry("a", 0, "alpha text", 0)]),
                ("b", "k1", vec![entry("b", 0, "beta text", 1)]),
            ],
        );
        assert_eq!(HybridIndex::open(dir.path()).unwrap().chunks(), 2);
    }

    #[test]
    fn an_unchanged_run_saves_a_graph_of_an_older_format_anew() {
        let dir = tempfile::tempdir().unwrap();
        let docs = [("a", "k1", vec![entry("a", 0, "alpha text", 0)])];
        build(dir.path(), &docs);
        let (_, first) = current_generation(dir.path()).unwrap();
        let meta_path = first.join("vectors.json");
        let mut meta: serde_json::Value =
            serde_json::from_slice(&fs::read(&meta_path).unwrap()).unwrap();
        meta.as_object_mut().unwrap().remove("distance");
        fs::write(&meta_path, meta.to_string()).unwrap();
        assert!(VectorIndex::outdated(&first));
        let stats = build(dir.path(), &docs);
        assert_eq!(stats.documents_unchanged, 1);
        let (_, second) = current_generation(dir.path()).unwrap();
        assert_ne!(
            first, second,
            "a new generation holds the graph in the current format"
        );
        assert!(!VectorIndex::outdated(&second));
        let index = HybridIndex::open(dir.path()).unwrap();
        let hits = index
            .search(
                "alpha",
                Some(&vector(0, 0.0)),
                Mode::Hybrid,
                5,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&hits), ["a#0"]);
        // Nothing to upgrade: an unchanged run writes no generation.
        build(dir.path(), &docs);
        assert_eq!(current_generation(dir.path()).unwrap().1, second);
    }

    /// Two documents of one chunk each, on axes 0 and 1.
    fn alpha_and_beta() -> [(&'static str, &'static str, Vec<Entry>); 2] {
        [
            ("a", "k1", vec![entry("a", 0, "alpha text", 0)]),
            ("b", "k1", vec![entry("b", 0, "beta text", 1)]),
        ]
    }

    /// hnsw_rs ends the process on a truncated data file: the graph's files are checked
    /// first, queries score every chunk instead of walking a damaged graph, and the next run,
    /// even with nothing changed, rebuilds it from the vectors and saves it anew.
    #[test]
    fn a_damaged_graph_is_rebuilt_and_saved_anew() {
        let dir = tempfile::tempdir().unwrap();
        let docs = alpha_and_beta();
        build(dir.path(), &docs);
        let (_, first) = current_generation(dir.path()).unwrap();
        let data = first.join("hnsw.hnsw.data");
        let file = fs::OpenOptions::new().write(true).open(&data).unwrap();
        file.set_len(100).unwrap();
        assert!(VectorIndex::outdated(&first));
        let opened = HybridIndex::open(dir.path()).unwrap();
        let hits = opened
            .search(
                "",
                Some(&vector(1, 0.0)),
                Mode::Vector,
                1,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&hits), ["b#0"]);
        let stats = build(dir.path(), &docs);
        assert_eq!(stats.documents_unchanged, 2);
        assert!(stats.rebuilt, "the update says it rebuilt the graph");
        let (_, second) = current_generation(dir.path()).unwrap();
        assert_ne!(first, second);
        assert!(!VectorIndex::outdated(&second));
    }

    /// A live index whose vectors are damaged (cut short) failed every query, and an update
    /// that changed nothing left it so: the next update indexes everything afresh, and says so.
    #[test]
    fn a_damaged_index_is_indexed_afresh_by_the_next_update() {
        let docs = alpha_and_beta();
        for damage in ["cut short", "NaN"] {
            let dir = tempfile::tempdir().unwrap();
            build(dir.path(), &docs);
            let (_, first) = current_generation(dir.path()).unwrap();
            assert!(VectorIndex::intact(&first));
            let path = first.join("vectors.f32");
            match damage {
                "cut short" => {
                    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
                    file.set_len(10).unwrap();
                }
                _ => {
                    // A NaN made every vector query spin for ever.
                    let mut bytes = fs::read(&path).unwrap();
                    bytes[..4].copy_from_slice(&f32::NAN.to_le_bytes());
                    fs::write(&path, bytes).unwrap();
                }
            }
            assert!(!VectorIndex::intact(&first), "{damage}");
            // A BM25 search never reads the vectors; one that needs them reports the damage.
            let opened = HybridIndex::open(dir.path()).unwrap();
            let search = |mode| {
                let vector = vector(1, 0.0);
                opened.search("beta", Some(&vector), mode, 1, &[], Fusion::default())
            };
            assert_eq!(ids(&search(Mode::Bm25).unwrap()), ["b#0"], "{damage}");
            assert!(opened.vectors_if_read().is_none() && opened.vectors.get().is_none());
            assert!(search(Mode::Vector).is_err(), "{damage}");
            assert!(search(Mode::Hybrid).is_err(), "{damage}");
            assert!(opened.vectors().is_err(), "{damage}");
            let stats = build(dir.path(), &docs);
            assert!(stats.repaired, "{damage}");
            assert_eq!(stats.documents_indexed, 2, "{damage}");
        }
        let dir = tempfile::tempdir().unwrap();
        build(dir.path(), &docs);
        let index = HybridIndex::open(dir.path()).unwrap();
        let hits = index
            .search(
                "beta",
                Some(&vector(1, 0.0)),
                Mode::Hybrid,
                1,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&hits), ["b#0"]);
        assert!(!build(dir.path(), &docs).repaired);
    }

    /// A live index whose document list or text index is damaged is indexed afresh too (runs
    /// failed every document, or left queries failing).
    #[test]
    fn a_damaged_document_list_or_text_index_is_indexed_afresh() {
        let docs = alpha_and_beta();
        let segment_files = |live: &Path, ext: &str| -> Vec<PathBuf> {
            (fs::read_dir(live.join("text")).unwrap())
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.extension().is_some_and(|e| e == ext))
                .collect()
        };
        for damage in [
            "docs.json",
            "idx",
            "meta.json",
            "pos",
            "store bytes",
            "CURRENT",
            "generation",
        ] {
            let dir = tempfile::tempdir().unwrap();
            build(dir.path(), &docs);
            let (_, live) = current_generation(dir.path()).unwrap();
            match damage {
                "docs.json" => fs::write(live.join("docs.json"), "garbage").unwrap(),
                "idx" => {
                    for path in segment_files(&live, "idx") {
                        fs::write(&path, b"").unwrap();
                    }
                }
                "meta.json" => {
                    fs::remove_file(live.join("text/meta.json")).unwrap();
                    // A query says so, and writes no empty index in its place.
                    let err = HybridIndex::open(dir.path()).err().unwrap().to_string();
                    assert!(err.contains("meta.json is missing"), "{err}");
                    assert!(!live.join("text/meta.json").exists());
                }
                "pos" => {
                    for path in segment_files(&live, "pos") {
                        fs::remove_file(&path).unwrap();
                    }
                }
                // `CURRENT` names a generation that is not there: damage, not "no index"
                // (a query said to run the pipeline first and that a run repairs damage).
                "CURRENT" | "generation" => {
                    if damage == "CURRENT" {
                        fs::write(dir.path().join(CURRENT), "gen-999999").unwrap();
                    } else {
                        fs::remove_dir_all(&live).unwrap();
                    }
                    let err = HybridIndex::open(dir.path()).err().unwrap().to_string();
                    assert!(
                        err.contains("is damaged (its CURRENT names no generation"),
                        "{err}"
                    );
                }
                _ => {
                    for path in segment_files(&live, "store") {
                        let mut bytes = fs::read(&path).unwrap();
                        bytes[0] ^= 0xff;
                        fs::write(&path, bytes).unwrap();
                    }
                }
            }
            let stats = build(dir.path(), &docs);
            assert!(stats.repaired, "{damage}");
            assert_eq!(stats.documents_indexed, 2, "{damage}");
            let index = HybridIndex::open(dir.path()).unwrap();
            let hits = index
                .search("beta", None, Mode::Bm25, 1, &[], Fusion::default())
                .unwrap();
            assert_eq!(ids(&hits), ["b#0"], "{damage}");
        }
    }

    /// An index whose first run indexed no document (every embedding failed) is built, not
    /// "indexed afresh", when a later run brings its documents with their model.
    #[test]
    fn a_first_build_after_an_empty_index_is_not_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let empty = IndexUpdate::begin(dir.path(), &IndexConfig::default(), None).unwrap();
        finish_live(empty);
        let stats = build(dir.path(), &alpha_and_beta());
        assert!(!stats.afresh && !stats.repaired, "{stats:?}");
        assert_eq!(stats.documents_indexed, 2);
    }

    /// Tantivy's private `meta.json` and `.managed.json` get the mode of the other index files,
    /// so that another user who may read the store may query it.
    #[test]
    fn the_text_index_files_are_as_readable_as_their_folder() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        build(dir.path(), &alpha_and_beta());
        let (_, live) = current_generation(dir.path()).unwrap();
        let text = live.join("text");
        fs::set_permissions(&text, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(text.join("meta.json"), fs::Permissions::from_mode(0o600)).unwrap();
        super::super::directory::share_like_folder(&text).unwrap();
        let mode = |name: &str| fs::metadata(text.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("meta.json"), 0o644);
        // Built here, under whatever umask the tests run with: the same mode as the folder's.
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        build(dir.path(), &alpha_and_beta());
        let (_, live) = current_generation(dir.path()).unwrap();
        let folder = fs::metadata(live.join("text"))
            .unwrap()
            .permissions()
            .mode()
            & 0o666;
        for name in ["meta.json", ".managed.json"] {
            let file = fs::metadata(live.join("text").join(name)).unwrap();
            assert_eq!(file.permissions().mode() & 0o777, folder, "{name}");
        }
    }

    /// A first update that finds no document makes an empty index, which answers queries
    /// with no hits (it said there was no index yet).
    #[test]
    fn a_first_update_without_documents_makes_an_empty_index() {
        let dir = tempfile::tempdir().unwrap();
        let stats = build(dir.path(), &[]);
        assert_eq!(stats.chunks, 0);
        let index = HybridIndex::open(dir.path()).unwrap();
        let hits = index
            .search(
                "anything",
                Some(&vector(1, 0.0)),
                Mode::Hybrid,
                5,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert!(hits.is_empty());
    }

    #[test]
    fn new_settings_take_effect_without_a_changed_document() {
        let dir = tempfile::tempdir().unwrap();
        let docs = [("a", "k1", vec![entry("a", 0, "alpha text", 0)])];
        build(dir.path(), &docs);
        let update_with = |config: &IndexConfig| {
            let mut update = IndexUpdate::begin(dir.path(), config, Some("model")).unwrap();
            for (doc_id, key, entries) in &docs {
                update.upsert(doc_id, key, entries).unwrap();
            }
            finish_live(update)
        };
        let query_time = IndexConfig {
            ef_search: 7,
            title_boost: 3.0,
            ..IndexConfig::default()
        };
        let stats = update_with(&query_time);
        assert_eq!((stats.documents_unchanged, stats.rebuilt), (1, false));
        assert_eq!(HybridIndex::open(dir.path()).unwrap().config(), &query_time);
        let graph = IndexConfig {
            m: 8,
            ..query_time.clone()
        };
        let stats = update_with(&graph);
        assert!(stats.rebuilt, "a new m rebuilds the graph");
        let index = HybridIndex::open(dir.path()).unwrap();
        assert_eq!(index.config(), &graph);
        let hits = index
            .search(
                "alpha",
                Some(&vector(0, 0.0)),
                Mode::Vector,
                5,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&hits), ["a#0"]);
        let (_, current) = current_generation(dir.path()).unwrap();
        assert!(!update_with(&graph).rebuilt);
        assert_eq!(
            current_generation(dir.path()).unwrap().1,
            current,
            "nothing new to write"
        );
    }

    /// A deterministic pseudo-random unit vector of 8 values.
    #[test]
    fn one_id_from_two_sources_is_an_error_and_the_index_keeps_the_same_one_in_any_order() {
        let texts = |order: [(&str, &str); 2]| -> String {
            let dir = tempfile::tempdir().unwrap();
            let mut update =
                IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
            let results: Vec<bool> = order
                .iter()
                .map(|(key, text)| {
                    update
                        .upsert("same", key, &[entry("same", 0, text, 0)])
                        .is_ok()
                })
                .collect();
            assert_eq!(results, [true, false], "the second offer is the error");
            finish_live(update);
            let index = HybridIndex::open(dir.path()).unwrap();
            let hits = index
                .search("text", None, Mode::Bm25, 5, &[], Fusion::default())
                .unwrap();
            assert_eq!(hits.len(), 1);
            hits[0].stored.text.clone()
        };
        let one = texts([("k1", "first text"), ("k2", "second text")]);
        let other = texts([("k2", "second text"), ("k1", "first text")]);
        assert_eq!(one, other);
    }

    /// The generations on disk, by name.
    fn generations(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("gen-"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_replaced_generation_stays_until_the_next_update_and_a_new_model_never_clears_the_live_one()
     {
        let dir = tempfile::tempdir().unwrap();
        let docs = |key: &str| vec![("a", key.to_owned(), vec![entry("a", 0, "alpha", 0)])];
        let offer = |update: &mut IndexUpdate, key: &str| {
            for (doc_id, key, entries) in docs(key) {
                update.upsert(doc_id, &key, &entries).unwrap();
            }
        };
        for key in ["k1", "k2", "k3"] {
            let mut update =
                IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
            offer(&mut update, key);
            let stats = finish_live(update);
            assert!(
                !stats.afresh,
                "a first build or an update builds on what is there"
            );
        }
        assert_eq!(generations(dir.path()), ["gen-000002", "gen-000003"]);
        let mut update =
            IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("other")).unwrap();
        offer(&mut update, "k4");
        let live = HybridIndex::open(dir.path()).expect("the live generation is intact mid-update");
        assert_eq!(live.chunks(), 1);
        // Another model: indexed afresh, and said so (it read as no graph rebuilt).
        assert!(finish_live(update).afresh);
        assert_eq!(generations(dir.path()), ["gen-000003", "gen-000004"]);
    }

    /// An index kept open (by `engine serve`) learns that an update made another generation
    /// live, and the reopened one is live.
    #[test]
    fn an_open_index_knows_when_another_generation_is_live() {
        let dir = tempfile::tempdir().unwrap();
        let update_with = |key: &str| {
            let mut update =
                IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
            update
                .upsert("a", key, &[entry("a", 0, "alpha", 0)])
                .unwrap();
            finish_live(update);
        };
        update_with("k1");
        let first = HybridIndex::open(dir.path()).unwrap();
        assert!(first.is_live());
        update_with("k2");
        assert!(!first.is_live());
        assert!(HybridIndex::open(dir.path()).unwrap().is_live());
    }

    /// 300 chunks whose texts share words unevenly and whose vectors are scattered.
    fn varied(dir: &Path) {
        let words = [
            "flow", "heat", "wing", "shock", "layer", "plate", "jet", "wake",
        ];
        let docs: Vec<(String, Vec<Entry>)> = (0..300)
            .map(|d| {
                let doc = format!("d{d:03}");
                let text: Vec<&str> = (0..6).map(|w| words[(d * (w + 3) / 7 + w) % 8]).collect();
                let mut e = entry(&doc, 0, &text.join(" "), 0);
                e.vector = random_vector(d);
                (doc, vec![e])
            })
            .collect();
        let refs: Vec<(&str, &str, Vec<Entry>)> = docs
            .iter()
            .map(|(d, e)| (d.as_str(), "k1", e.clone()))
            .collect();
        build(dir, &refs);
    }

    #[test]
    fn a_smaller_k_gives_the_first_hits_of_a_larger_one_in_every_mode() {
        let dir = tempfile::tempdir().unwrap();
        varied(dir.path());
        let index = HybridIndex::open(dir.path()).unwrap();
        let query = random_vector(4242);
        for mode in [Mode::Bm25, Mode::Vector, Mode::Hybrid] {
            for fusion in [Fusion::default(), Fusion::Weighted { alpha: 0.5 }] {
                let ranked = |k| {
                    let hits = index
                        .search("flow shock wake", Some(&query), mode, k, &[], fusion)
                        .unwrap();
                    ids(&hits)
                        .into_iter()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                };
                let longest = ranked(300);
                for k in [1, 10, 99, 100, 101, 200] {
                    let hits = ranked(k);
                    assert_eq!(hits.len(), k.min(longest.len()));
                    assert_eq!(hits, longest[..hits.len()], "{mode:?} {fusion:?} k {k}");
                }
            }
        }
    }

    #[test]
    fn equal_scores_are_in_chunk_id_order_in_every_mode() {
        let dir = tempfile::tempdir().unwrap();
        // The same text and vector under ids indexed in reverse order.
        let docs: Vec<(String, Vec<Entry>)> = ["e", "d", "c", "b", "a"]
            .iter()
            .map(|doc| ((*doc).to_owned(), vec![entry(doc, 0, "same words", 1)]))
            .collect();
        let refs: Vec<(&str, &str, Vec<Entry>)> = docs
            .iter()
            .map(|(d, e)| (d.as_str(), "k1", e.clone()))
            .collect();
        build(dir.path(), &refs);
        let index = HybridIndex::open(dir.path()).unwrap();
        for mode in [Mode::Bm25, Mode::Vector, Mode::Hybrid] {
            for k in [2, 5] {
                let hits = index
                    .search(
                        "words",
                        Some(&vector(1, 0.05)),
                        mode,
                        k,
                        &[],
                        Fusion::default(),
                    )
                    .unwrap();
                assert_eq!(
                    ids(&hits),
                    ["a#0", "b#0", "c#0", "d#0", "e#0"][..k],
                    "{mode:?}"
                );
            }
        }
    }

    /// With alpha 0 the fused order is BM25's, and every match ranks above every chunk that
    /// does not match.
    #[test]
    fn alpha_0_keeps_the_bm25_order_down_to_the_weakest_match() {
        let dir = tempfile::tempdir().unwrap();
        varied(dir.path());
        let index = HybridIndex::open(dir.path()).unwrap();
        let bm25 = index
            .search("jet", None, Mode::Bm25, 300, &[], Fusion::default())
            .unwrap();
        assert!(!bm25.is_empty() && bm25.len() < 300);
        let fused = index
            .search(
                "jet",
                Some(&random_vector(1)),
                Mode::Hybrid,
                300,
                &[],
                Fusion::Weighted { alpha: 0.0 },
            )
            .unwrap();
        assert_eq!(ids(&fused)[..bm25.len()], ids(&bm25));
        assert!(fused[bm25.len() - 1].score > 0.0);
        assert_eq!(fused[bm25.len()].score, 0.0);
    }

    #[test]
    fn title_section_and_page_filters() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = entry("a", 0, "alpha text", 0);
        a.hit.section = vec!["Guide".into(), "Install".into()];
        a.pages = Some([1, 2]);
        a.hit.page = Some(1);
        let mut b = entry("b", 0, "beta text", 1);
        b.hit.title = Some("Other Title".into());
        b.hit.section = vec!["Install".into()];
        b.metadata
            .insert("tags".into(), serde_json::json!(["x", "y"]));
        // Metadata named as a field: a filter on page or source passes it too, on doc_id not.
        b.metadata.insert("page".into(), serde_json::json!(3));
        b.metadata
            .insert("source".into(), serde_json::json!("wiki"));
        b.metadata.insert("doc_id".into(), serde_json::json!("a"));
        build(dir.path(), &[("a", "k1", vec![a]), ("b", "k1", vec![b])]);
        let index = HybridIndex::open(dir.path()).unwrap();
        let hits = |filters: &[(&str, &str)]| -> Result<Vec<String>, IndexError> {
            let filters: Vec<(String, String)> = filters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let hits = index.search("text", None, Mode::Bm25, 5, &filters, Fusion::default())?;
            Ok(ids(&hits).into_iter().map(str::to_owned).collect())
        };
        assert_eq!(hits(&[("title", "Title of a")]).unwrap(), ["a#0"]);
        assert_eq!(hits(&[("title", "Other Title")]).unwrap(), ["b#0"]);
        assert!(hits(&[("title", "other title")]).unwrap().is_empty());
        let sorted = |mut ids: Vec<String>| {
            ids.sort();
            ids
        };
        assert_eq!(
            sorted(hits(&[("section", "Install")]).unwrap()),
            ["a#0", "b#0"]
        );
        assert_eq!(hits(&[("section", "Guide")]).unwrap(), ["a#0"]);
        assert_eq!(hits(&[("section", "Guide > Install")]).unwrap(), ["a#0"]);
        assert!(hits(&[("section", "Guide > Intro")]).unwrap().is_empty());
        for page in ["1", "01", "1.0", "2"] {
            assert_eq!(hits(&[("page", page)]).unwrap(), ["a#0"], "{page}");
        }
        assert!(hits(&[("page", "4")]).unwrap().is_empty());
        assert_eq!(hits(&[("page", "03")]).unwrap(), ["b#0"]);
        assert_eq!(hits(&[("source", "wiki")]).unwrap(), ["b#0"]);
        assert_eq!(hits(&[("doc_id", "a")]).unwrap(), ["a#0"]);
        for page in ["abc", "1.5", "-1", ""] {
            assert!(hits(&[("page", page)]).is_err(), "{page}");
        }
        // Filters are ANDed; the same key twice means both values.
        assert_eq!(
            sorted(hits(&[("section", "Install"), ("lang", "en")]).unwrap()),
            ["a#0", "b#0"]
        );
        assert_eq!(hits(&[("tags", "x"), ("tags", "y")]).unwrap(), ["b#0"]);
        assert!(
            hits(&[("section", "Guide"), ("section", "Other")])
                .unwrap()
                .is_empty()
        );
        let keys: Vec<&str> = index.metadata_keys().iter().map(String::as_str).collect();
        assert_eq!(keys, ["doc_id", "lang", "page", "source", "tags"]);
    }

    /// A chunk covering several sections (an empty heading merged with the next section) is
    /// found by a section filter on each heading and each whole path it covers, and shows the
    /// section it starts in.
    #[test]
    fn a_section_filter_finds_every_chunk_covering_that_section() {
        let dir = tempfile::tempdir().unwrap();
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut install = entry("a", 0, "Install the widget", 0);
        install.hit.section = path(&["Guide"]);
        install.sections = vec![path(&["Guide"]), path(&["Guide", "Install"])];
        let mut using = entry("a", 1, "Use the widget daily", 1);
        using.hit.section = path(&["Guide", "Use"]);
        let mut linux = entry("a", 2, "On Linux the widget needs root", 2);
        linux.hit.section = path(&["Guide", "Install", "Linux"]);
        build(dir.path(), &[("a", "ka", vec![install, using, linux])]);
        let index = HybridIndex::open(dir.path()).unwrap();
        let on = |section: &str| {
            let filter = [("section".to_owned(), section.to_owned())];
            index
                .search("widget", None, Mode::Bm25, 5, &filter, Fusion::default())
                .unwrap()
        };
        // A path passes its subsections too, as one heading's name does.
        for section in ["Install", "Guide > Install"] {
            let hits = on(section);
            assert_eq!(ids(&hits), ["a#0", "a#2"], "{section}");
            assert_eq!(hits[0].stored.section, ["Guide"]);
        }
        assert_eq!(ids(&on("Guide > Install > Linux")), ["a#2"]);
        assert!(on("Install > Linux").is_empty(), "paths start at the top");
        assert_eq!(ids(&on("Use")), ["a#1"]);
        assert_eq!(ids(&on("Guide > Use")), ["a#1"]);
        let mut guide = ids(&on("Guide"))
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        guide.sort();
        assert_eq!(guide, ["a#0", "a#1", "a#2"]);
        assert!(on("Install > Use").is_empty());
    }

    /// A filter narrows the hits and nothing else: each hit keeps its unfiltered score, so the
    /// normalisation behind `--alpha` does not move with the number of filters.
    #[test]
    fn filters_leave_scores_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = entry("a", 0, "turbine blade turbine", 0);
        a.metadata.insert("tags".into(), serde_json::json!(["y"]));
        let mut b = entry("b", 0, "turbine housing", 1);
        b.metadata
            .insert("tags".into(), serde_json::json!(["y", "z"]));
        let c = entry("c", 0, "turbine", 2);
        build(
            dir.path(),
            &[
                ("a", "k1", vec![a]),
                ("b", "k1", vec![b]),
                ("c", "k1", vec![c]),
            ],
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        let scores = |filters: &[(&str, &str)]| -> Vec<(String, f32)> {
            let filters: Vec<(String, String)> = filters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let hits = index
                .search("turbine", None, Mode::Bm25, 5, &filters, Fusion::default())
                .unwrap();
            hits.iter()
                .map(|hit| (hit.stored.chunk_id.clone(), hit.score))
                .collect()
        };
        let unfiltered = scores(&[]);
        let tagged: Vec<(String, f32)> = unfiltered
            .iter()
            .filter(|(id, _)| id != "c#0")
            .cloned()
            .collect();
        assert_eq!(tagged.len(), 2, "{unfiltered:?}");
        assert_eq!(scores(&[("tags", "y")]), tagged);
        assert_eq!(
            scores(&[("tags", "y"), ("tags", "y"), ("tags", "y")]),
            tagged
        );
        let b: Vec<(String, f32)> = unfiltered
            .iter()
            .filter(|(id, _)| id == "b#0")
            .cloned()
            .collect();
        assert_eq!(scores(&[("doc_id", "b")]), b);
    }

    #[test]
    fn cjk_text_and_accents_are_found_by_bm25() {
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[
                (
                    "ja",
                    "k1",
                    vec![entry(
                        "ja",
                        0,
                        "東京は日本の首都です。ラーメンが好きです。",
                        0,
                    )],
                ),
                ("fr", "k1", vec![entry("fr", 0, "un café naïve", 1)]),
            ],
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        for (query, doc) in [
            ("日本", "ja#0"),
            ("ラーメン", "ja#0"),
            ("cafe", "fr#0"),
            ("naive", "fr#0"),
            ("Café", "fr#0"),
        ] {
            let hits = index
                .search(query, None, Mode::Bm25, 5, &[], Fusion::default())
                .unwrap();
            assert_eq!(ids(&hits), [doc], "{query}");
        }
    }

    /// Vector ties at the cut go by chunk id, as in BM25, not by where the chunks sit in the
    /// index; and a vector without direction, scored 0, comes after every chunk with one, even
    /// one scored 0 too.
    #[test]
    fn vector_ties_at_the_cut_go_by_chunk_id_and_directionless_chunks_last() {
        let dir = tempfile::tempdir().unwrap();
        let config = IndexConfig {
            candidates: 2,
            ..IndexConfig::default()
        };
        let axis = |i: usize| {
            let mut v = vec![0.0; 8];
            v[i] = 1.0;
            v
        };
        let with_vector = |doc: &str, vector: Vec<f32>| Entry {
            vector,
            ..entry(doc, 0, "text", 0)
        };
        let mut update = IndexUpdate::begin(dir.path(), &config, Some("model")).unwrap();
        for doc in ["zz", "yy", "bb", "aa"] {
            update
                .upsert(doc, "k", &[with_vector(doc, axis(1))])
                .unwrap();
        }
        update
            .upsert("p", "k", &[with_vector("p", axis(0))])
            .unwrap();
        update
            .upsert("q", "k", &[with_vector("q", axis(2))])
            .unwrap();
        update
            .upsert("a0", "k", &[with_vector("a0", vec![0.0; 8])])
            .unwrap();
        finish_live(update);
        let index = HybridIndex::open(dir.path()).unwrap();
        let search = |query: Vec<f32>, k| {
            let hits =
                (index.search("", Some(&query), Mode::Vector, k, &[], Fusion::default())).unwrap();
            ids(&hits)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(search(axis(1), 2), ["aa#0", "bb#0"]);
        assert_eq!(search(axis(1), 3), ["aa#0", "bb#0", "yy#0"]);
        let all = search(axis(0), 8);
        assert_eq!(all[0], "p#0");
        assert_eq!(all.last().map(String::as_str), Some("a0#0"), "{all:?}");
    }

    /// An index of an earlier format (its text analysed by other rules) is refused by queries,
    /// which would read the query by the new rules and miss what it holds, and is indexed
    /// afresh by the next update.
    #[test]
    fn an_index_of_an_earlier_format_is_refused_until_indexed_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let docs = [("a", "k1", vec![entry("a", 0, "Αθήνα text", 0)])];
        build(dir.path(), &docs);
        let (_, live) = current_generation(dir.path()).unwrap();
        let path = live.join("docs.json");
        let mut generation: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        generation["format"] = (FORMAT - 1).into();
        fs::write(&path, generation.to_string()).unwrap();
        let refused = HybridIndex::open(dir.path()).err().unwrap();
        assert!(
            refused.message.contains("earlier version"),
            "{}",
            refused.message
        );
        let stats = build(dir.path(), &docs);
        assert!(stats.afresh && stats.documents_indexed == 1, "{stats:?}");
        let index = HybridIndex::open(dir.path()).unwrap();
        let hits = (index.search("αθηνα", None, Mode::Bm25, 5, &[], Fusion::default())).unwrap();
        assert_eq!(ids(&hits), ["a#0"]);
    }

    /// The record of the run that made the index goes with the generation it made: an update
    /// not switched in (its run killed before) leaves the live record, and one that changed
    /// nothing writes its run's record into the live generation.
    #[test]
    fn an_index_records_the_run_that_made_it_with_its_generation() {
        let dir = tempfile::tempdir().unwrap();
        let update = |run: &str, text: &str| {
            let mut update =
                IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
            update.record_build(serde_json::json!({ "run_id": run }));
            update.upsert("a", text, &[entry("a", 0, text, 0)]).unwrap();
            update.finish().unwrap().1
        };
        let run_of = || build_record(dir.path()).map(|record| record["run_id"].clone());
        update("r1", "alpha").publish().unwrap();
        assert_eq!(run_of(), Some("r1".into()));
        let not_switched_in = update("r2", "beta");
        drop(not_switched_in);
        assert_eq!(run_of(), Some("r1".into()));
        update("r3", "alpha").publish().unwrap();
        assert_eq!(run_of(), Some("r3".into()));
        let unchanged = update("r4", "alpha");
        assert_eq!(run_of(), Some("r3".into()), "until its run completes");
        unchanged.publish().unwrap();
        assert_eq!(
            run_of(),
            Some("r4".into()),
            "nothing changed: the live generation is r4's"
        );
        assert_eq!(build_record(dir.path()).unwrap()["documents_kept"], 0);
    }

    /// Hybrid mode fuses two lists that both go exactly `candidates` deep, chunks tied at the
    /// cut taken by chunk id: copies of one text tied past the cut get both their ranks in a
    /// later round, never their vector rank alone (half the score of the copies before them).
    #[test]
    fn copies_tied_at_the_cut_are_fused_with_both_their_ranks() {
        let dir = tempfile::tempdir().unwrap();
        let config = IndexConfig {
            candidates: 2,
            ..IndexConfig::default()
        };
        let mut update = IndexUpdate::begin(dir.path(), &config, Some("model")).unwrap();
        for doc in ["c", "a", "b"] {
            update
                .upsert(doc, "k", &[entry(doc, 0, "apple banana", 1)])
                .unwrap();
        }
        update
            .upsert("d", "k", &[entry("d", 0, "apple cherry kiwi", 2)])
            .unwrap();
        finish_live(update);
        let index = HybridIndex::open(dir.path()).unwrap();
        let hits = index
            .search(
                "apple banana",
                Some(&vector(1, 0.05)),
                Mode::Hybrid,
                4,
                &[],
                Fusion::default(),
            )
            .unwrap();
        assert_eq!(ids(&hits), ["a#0", "b#0", "c#0", "d#0"]);
        let both_ranks = |rank: f32| 2.0 / (60.0 + rank);
        for (hit, rank) in hits.iter().zip(1..=3) {
            assert!(
                (hit.score - both_ranks(rank as f32)).abs() < 1e-6,
                "{} scored {}",
                hit.stored.chunk_id,
                hit.score
            );
        }
    }

    /// A document offered twice in one update with different content (one id from two sources)
    /// is counted once, whichever of the two is kept, and whether it was unchanged before.
    #[test]
    fn a_document_offered_twice_is_counted_once() {
        let one = vec![entry("a", 0, "alpha text", 0)];
        let two = vec![entry("a", 0, "alpha text", 0), entry("a", 1, "more", 1)];
        for (first, second) in [("k2", "k1"), ("k1", "k2")] {
            let dir = tempfile::tempdir().unwrap();
            let mut update =
                IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
            update.upsert("a", first, &two).unwrap();
            assert!(update.upsert("a", second, &one).is_err());
            let stats = finish_live(update);
            let kept = if second == "k1" { 1 } else { 2 };
            assert_eq!(
                (stats.documents_indexed, stats.chunks_added),
                (1, kept),
                "{first} then {second}"
            );
        }
        // Unchanged at first (k1 is indexed), then replaced by a smaller key.
        let dir = tempfile::tempdir().unwrap();
        build(dir.path(), &[("a", "k1", two.clone())]);
        let mut update =
            IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
        update.upsert("a", "k1", &two).unwrap();
        assert!(update.upsert("a", "k0", &one).is_err());
        let stats = finish_live(update);
        assert_eq!((stats.documents_indexed, stats.documents_unchanged), (1, 0));
    }

    /// An index written before the current layout is refused with what to do, and the next
    /// update indexes everything afresh.
    #[test]
    fn an_index_of_an_earlier_layout_is_indexed_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let docs = [("a", "k1", vec![entry("a", 0, "alpha text", 0)])];
        build(dir.path(), &docs);
        let (_, path) = current_generation(dir.path()).unwrap();
        let file = path.join("docs.json");
        let mut generation: serde_json::Value =
            serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        generation.as_object_mut().unwrap().remove("format");
        fs::write(&file, generation.to_string()).unwrap();
        let refused = HybridIndex::open(dir.path()).err().unwrap();
        assert!(refused.message.contains("run the pipeline"), "{refused}");
        let stats = build(dir.path(), &docs);
        assert_eq!(stats.documents_indexed, 1);
        assert_eq!(HybridIndex::open(dir.path()).unwrap().chunks(), 1);
    }

    /// 40 documents of 10 chunks each, with random vectors; `edit` changes document `d7`.
    fn forty(edit: bool) -> Vec<(String, String, Vec<Entry>)> {
        (0..40)
            .map(|d| {
                let doc = format!("d{d}");
                let edited = edit && d == 7;
                let entries = (0..10)
                    .map(|n| {
                        let text = if edited { "edited words" } else { "text words" };
                        let mut e = entry(&doc, n, &format!("{text} {d} {n}"), 0);
                        e.vector = random_vector(d * 10 + n + usize::from(edited) * 1000);
                        e
                    })
                    .collect();
                let key = if edited { "k2" } else { "k1" };
                (doc, key.to_owned(), entries)
            })
            .collect()
    }

    /// An update whose graph build is cut short (stopped after two blocks of 64 points) after
    /// every document of `docs` was offered.
    fn cut_short(dir: &Path, docs: &[(String, String, Vec<Entry>)], model: &str) {
        let mut update = IndexUpdate::begin(dir, &IndexConfig::default(), Some(model)).unwrap();
        update.checkpoint_every = Duration::ZERO;
        for (doc_id, key, entries) in docs {
            update.upsert(doc_id, key, entries).unwrap();
        }
        let staged = update.staged.as_mut().unwrap();
        staged.vectors.as_mut().unwrap().stop_after_blocks(2, 64);
        let err = update.finish().err().unwrap();
        assert!(err.message.contains("stopped"), "{err}");
    }

    /// A cut-short build whose saved graph is damaged goes on from its vectors, building the
    /// graph anew: it says so (`graph_rebuilt`), not `graph_resumed` (which it said).
    #[test]
    fn a_damaged_saved_graph_is_rebuilt_not_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let docs = forty(false);
        cut_short(dir.path(), &docs, "model");
        let checkpoint = BuildCheckpoints::latest(&dir.path().join("gen-000001/build")).unwrap();
        let mut damaged = 0;
        for entry in fs::read_dir(&checkpoint).unwrap().flatten() {
            let path = entry.path();
            if path.to_string_lossy().ends_with(".graph") {
                let bytes = fs::read(&path).unwrap();
                fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
                damaged += 1;
            }
        }
        assert!(damaged > 0, "no graph file in {}", checkpoint.display());
        let stats = build_all(dir.path(), &docs);
        assert!(stats.rebuilt && !stats.resumed, "{stats:?}");
        assert_eq!(HybridIndex::open(dir.path()).unwrap().chunks(), 400);
    }

    /// A run killed or cancelled while its index's graph is built leaves the graph so far; the
    /// next update goes on from it, takes the documents changed and removed since, and ends
    /// with every chunk found and nothing of the cut-short build left on disk.
    #[test]
    fn a_graph_build_cut_short_goes_on_from_its_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let docs = forty(false);
        cut_short(dir.path(), &docs, "model");
        assert!(
            HybridIndex::open(dir.path()).is_err(),
            "nothing is live yet"
        );
        let checkpoint = BuildCheckpoints::latest(&dir.path().join("gen-000001/build")).unwrap();
        let saved = VectorIndex::load(&checkpoint, &IndexConfig::default()).unwrap();
        assert_eq!((saved.points(), saved.pending()), (400, 400 - 128));

        let edited: Vec<_> = forty(true)
            .into_iter()
            .filter(|(doc, ..)| doc != "d3")
            .collect();
        let stats = build_all(dir.path(), &edited);
        assert!(stats.resumed);
        // Counted against what was live (nothing), not against the build it went on from.
        assert_eq!(changes(&stats), (39, 0, 0, 390));
        assert_eq!(generations(dir.path()), ["gen-000002"]);
        let live = dir.path().join("gen-000002");
        assert!(!live.join(PARTIAL).exists() && !live.join(BUILD).exists());

        let index = HybridIndex::open(dir.path()).unwrap();
        assert_eq!(index.chunks(), 390);
        for (doc_id, _, entries) in &edited {
            for entry in entries {
                let hits = index
                    .search(
                        "",
                        Some(&entry.vector),
                        Mode::Vector,
                        1,
                        &[],
                        Fusion::default(),
                    )
                    .unwrap();
                assert_eq!(ids(&hits), [entry.hit.chunk_id.as_str()], "{doc_id}");
            }
        }
        let bm25 = |query: &str, doc: &str| {
            let filter = [("doc_id".to_owned(), doc.to_owned())];
            index
                .search(query, None, Mode::Bm25, 20, &filter, Fusion::default())
                .unwrap()
                .len()
        };
        assert_eq!(index.documents(), 39);
        assert_eq!(
            (bm25("edited", "d7"), bm25("text", "d7"), bm25("text", "d3")),
            (10, 0, 0)
        );
    }

    /// A build cut short with another model than the update's is not loaded: the update goes
    /// on from the live generation, whose model it has (it indexed everything afresh).
    #[test]
    fn a_build_cut_short_with_another_model_leaves_the_live_one_to_build_on() {
        let dir = tempfile::tempdir().unwrap();
        let docs = forty(false);
        build_all(dir.path(), &docs);
        cut_short(dir.path(), &docs, "old model");
        let stats = build_all(dir.path(), &docs);
        assert!(!stats.resumed);
        assert_eq!(changes(&stats), (0, 40, 0, 0));
        assert_eq!(HybridIndex::open(dir.path()).unwrap().chunks(), 400);
    }

    /// A checkpoint found damaged is dropped, and the update builds from what is live (it
    /// failed every update after).
    #[test]
    fn a_damaged_checkpoint_is_dropped_and_the_update_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let docs = forty(false);
        cut_short(dir.path(), &docs, "model");
        let checkpoint = BuildCheckpoints::latest(&dir.path().join("gen-000001/build")).unwrap();
        let vectors = fs::OpenOptions::new()
            .write(true)
            .open(checkpoint.join("vectors.f32"))
            .unwrap();
        vectors.set_len(1000).unwrap();
        let stats = build_all(dir.path(), &docs);
        assert!(!stats.resumed);
        assert_eq!(stats.documents_indexed, 40);
        assert_eq!(HybridIndex::open(dir.path()).unwrap().chunks(), 400);
    }

    /// A build completed in a run cancelled before it was switched in is gone on from whole,
    /// and what the update changes is counted against what was live.
    #[test]
    fn a_build_completed_but_not_switched_in_is_taken_whole() {
        let dir = tempfile::tempdir().unwrap();
        build_all(dir.path(), &forty(false));
        let edited: Vec<_> = forty(true)
            .into_iter()
            .filter(|(doc, ..)| doc != "d3")
            .collect();
        let mut update =
            IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
        for (doc_id, key, entries) in &edited {
            update.upsert(doc_id, key, entries).unwrap();
        }
        let (_, switch) = update.finish().unwrap();
        drop(switch);
        assert_eq!(HybridIndex::open(dir.path()).unwrap().chunks(), 400);
        let stats = build_all(dir.path(), &edited);
        assert!(stats.resumed);
        assert_eq!(changes(&stats), (1, 38, 1, 10));
        assert_eq!(generations(dir.path()), ["gen-000001", "gen-000003"]);
        let live = dir.path().join("gen-000003");
        assert!(!live.join(PARTIAL).exists() && !live.join(BUILD).exists());
        assert_eq!(HybridIndex::open(dir.path()).unwrap().chunks(), 390);
    }

    /// A build a cancelled run left, which removed `d3`, is not gone on from by a run in which
    /// `d3` failed (or its whole source did): the update fails, the index keeps `d3` as the
    /// last completed run left it, and the next update starts from there and keeps it too.
    /// Going on from it removed what the run's failures keep (a guard-stopped source emptied
    /// the index).
    #[test]
    fn a_cut_short_build_is_dropped_when_it_lost_a_document_that_failed() {
        for failed in ["d3", ""] {
            let dir = tempfile::tempdir().unwrap();
            build_all(dir.path(), &forty(false));
            let without_d3: Vec<_> = forty(false)
                .into_iter()
                .filter(|(doc, ..)| doc != "d3")
                .collect();
            let mut update =
                IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
            for (doc_id, key, entries) in &without_d3 {
                update.upsert(doc_id, key, entries).unwrap();
            }
            drop(update.finish().unwrap());
            let failures = FailedDocuments {
                ids: HashSet::from([failed.to_owned()]),
                folders: Vec::new(),
            };
            let offered = if failed.is_empty() {
                &[][..]
            } else {
                &without_d3[..]
            };
            for attempt in 0..2 {
                let mut update =
                    IndexUpdate::begin(dir.path(), &IndexConfig::default(), Some("model")).unwrap();
                for (doc_id, key, entries) in offered {
                    update.upsert(doc_id, key, entries).unwrap();
                }
                update.keep_failed(&failures);
                match update.finish() {
                    Err(err) if attempt == 0 => {
                        assert!(err.message.contains("was dropped"), "{err}")
                    }
                    Ok((stats, switch)) if attempt == 1 => {
                        switch.publish().unwrap();
                        assert!(!stats.resumed);
                        assert_eq!(stats.documents_kept, if failed.is_empty() { 40 } else { 1 });
                    }
                    other => panic!("attempt {attempt}, failed {failed:?}: {other:?}"),
                }
                let index = HybridIndex::open(dir.path()).unwrap();
                assert!(index.holds("d3"), "attempt {attempt}, failed {failed:?}");
                assert_eq!(index.chunks(), 400);
            }
        }
    }

    /// Documents indexed, unchanged and removed, and chunks added.
    fn changes(stats: &UpdateStats) -> (usize, usize, usize, usize) {
        (
            stats.documents_indexed,
            stats.documents_unchanged,
            stats.documents_removed,
            stats.chunks_added,
        )
    }

    /// Offers every document of `docs` to an update, and switches it in.
    fn build_all(dir: &Path, docs: &[(String, String, Vec<Entry>)]) -> UpdateStats {
        let mut update = IndexUpdate::begin(dir, &IndexConfig::default(), Some("model")).unwrap();
        for (doc_id, key, entries) in docs {
            update.upsert(doc_id, key, entries).unwrap();
        }
        finish_live(update)
    }

    /// A checkpoint of another model's vectors is not gone on from: the update starts afresh.
    #[test]
    fn a_build_cut_short_with_another_model_is_started_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let docs = forty(false);
        cut_short(dir.path(), &docs, "old model");
        let stats = build_all(dir.path(), &docs);
        assert!(!stats.resumed);
        assert_eq!(stats.documents_indexed, 40);
        assert_eq!(generations(dir.path()), ["gen-000001"]);
        assert_eq!(HybridIndex::open(dir.path()).unwrap().chunks(), 400);
    }

    fn random_vector(seed: usize) -> Vec<f32> {
        let mut state = (seed as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let v: Vec<f32> = (0..8)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 2000) as f32 / 1000.0 - 1.0
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }

    #[test]
    fn the_graph_is_rebuilt_past_the_tombstone_threshold_and_recall_holds() {
        let dir = tempfile::tempdir().unwrap();
        let many = |key: &str, shift: usize| -> Vec<(String, String, Vec<Entry>)> {
            (0..40)
                .map(|d| {
                    let doc = format!("d{d}");
                    let entries = (0..5)
                        .map(|n| {
                            let mut e = entry(&doc, n, &format!("text {d} {n}"), 0);
                            e.vector = random_vector(d * 5 + n + shift * 1000);
                            e
                        })
                        .collect();
                    (doc, key.to_owned(), entries)
                })
                .collect()
        };
        let first = many("k1", 0);
        let refs: Vec<(&str, &str, Vec<Entry>)> = first
            .iter()
            .map(|(d, k, e)| (d.as_str(), k.as_str(), e.clone()))
            .collect();
        build(dir.path(), &refs);
        let second = many("k2", 3);
        let refs: Vec<(&str, &str, Vec<Entry>)> = second
            .iter()
            .map(|(d, k, e)| (d.as_str(), k.as_str(), e.clone()))
            .collect();
        let stats = build(dir.path(), &refs);
        assert!(
            stats.rebuilt,
            "half the points became tombstones: {stats:?}"
        );
        let index = HybridIndex::open(dir.path()).unwrap();
        assert_eq!(index.chunks(), 200);
        let vectors = index.vectors().unwrap().unwrap();
        for seed in 0..20 {
            let query = random_vector(seed + 7777);
            let exact: Vec<usize> = vectors
                .exact_search(&query, 10, None)
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            let found: Vec<usize> = vectors
                .search(&query, 10, 128, None)
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            let same = found.iter().filter(|p| exact.contains(p)).count();
            assert!(same >= 9, "recall@10 {same}/10");
        }
        assert_eq!(vectors.points(), 200, "the rebuild dropped the tombstones");
        drop(index);
        let mut third = second.clone();
        third[0].1 = "k3".to_owned();
        let refs: Vec<(&str, &str, Vec<Entry>)> = third
            .iter()
            .map(|(d, k, e)| (d.as_str(), k.as_str(), e.clone()))
            .collect();
        let stats = build(dir.path(), &refs);
        assert!(
            !stats.rebuilt,
            "one changed document after a rebuild is far below the threshold: {stats:?}"
        );
    }
}
