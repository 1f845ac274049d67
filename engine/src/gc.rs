//! `engine gc`: removing what no run that counts reached any more.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use operators::embed::cache::CacheKey;
use operators::embed::text_to_embed;

use crate::query::folder_name;
use crate::runtime::Item;
use crate::store::{ItemRecord, Store, codec};

/// What `engine gc` removed and kept.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Collected {
    /// Checkpoints removed.
    pub removed: u64,
    /// Bytes they held.
    pub bytes_freed: u64,
    /// Checkpoints kept.
    pub kept: u64,
    /// Old runs removed with their item records, and every run of a pipeline renamed since.
    pub runs_removed: u64,
    /// Vectors removed from the embedding cache: those no kept checkpoint holds.
    pub vectors_removed: u64,
    /// Index folders removed: those of index steps the pipeline no longer has, and those of
    /// pipeline names no pipeline in the store uses any more (see [`abandoned_names`]).
    pub indexes_removed: u64,
    /// Bytes of the store's database on disk before it was compacted, and after.
    pub store_bytes_before: u64,
    /// See `store_bytes_before`.
    pub store_bytes: u64,
    /// Whether the database was rewritten: not when nothing was removed from it.
    pub rewritten: bool,
    /// What gc would have removed with those index folders but left, since the engine did not
    /// make it (see [`operators::index::hybrid::holds_only_an_index`]).
    pub left_alone: Vec<PathBuf>,
}

impl Collected {
    /// Whether anything was removed from the store's database (index folders are not in it).
    pub fn removed_from_database(&self) -> bool {
        self.removed + self.runs_removed + self.vectors_removed > 0
    }
}

/// Index folders removed, the bytes they held, and what was left.
#[derive(Default)]
struct Removed {
    indexes: u64,
    bytes: u64,
    left_alone: Vec<PathBuf>,
}

impl Removed {
    /// Removes `folder` when it is an index the engine made; else leaves it, and notes it.
    fn index(&mut self, folder: &Path) -> anyhow::Result<()> {
        if !operators::index::hybrid::holds_only_an_index(folder) {
            self.left_alone.push(folder.to_owned());
            return Ok(());
        }
        self.bytes += crate::store::bytes_below(folder);
        std::fs::remove_dir_all(folder)
            .map_err(|err| anyhow::anyhow!("cannot remove {}: {err}", folder.display()))?;
        self.indexes += 1;
        Ok(())
    }

    /// Removes the indexes in a pipeline name's folder `folder`, then the folder once empty;
    /// anything else in it stays.
    fn name_folder(&mut self, folder: &Path) -> anyhow::Result<()> {
        let mut inside: Vec<(PathBuf, bool)> = std::fs::read_dir(folder)
            .map_err(|err| anyhow::anyhow!("cannot list {}: {err}", folder.display()))?
            .flatten()
            .map(|entry| {
                let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
                (entry.path(), is_dir)
            })
            .collect();
        inside.sort();
        for (path, is_dir) in inside {
            match is_dir {
                true => self.index(&path)?,
                false => self.left_alone.push(path),
            }
        }
        // Empty now, or holding what was left (which `left_alone` names).
        let _ = std::fs::remove_dir(folder);
        Ok(())
    }
}

/// Whether the pipeline file at a path (as runs record it, `pipeline_path`) still gives a name
/// and this store; `true` when that cannot be told (the file is gone, or does not load).
pub type StillNamed<'a> = &'a dyn Fn(&Path, &str) -> bool;

/// The index folders (`<store>/indexes/<name>/`) of pipeline names other than `name` that no
/// pipeline uses any more, by the store's own records: no run left in the store carries the
/// name, or every run that does was made by a pipeline file that now gives another name (or
/// another store). A name that a file which still gives it has run under keeps its folder, and
/// so does an index at the older `indexes/<step>/` (it holds `CURRENT` or a `gen-` folder
/// itself: a run moves it).
fn abandoned_names(
    store: &Store,
    name: &str,
    still_named: StillNamed<'_>,
) -> anyhow::Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(store.dir().join("indexes")) else {
        return Ok(Vec::new());
    };
    // Each folder's runs.
    let runs_of = runs_by_name(&store.runs()?, folder_name);
    let ours = folder_name(name);
    let mut abandoned = Vec::new();
    for entry in entries.flatten() {
        let folder = entry.path();
        let Some(folder_name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if folder_name == ours || !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            continue;
        }
        let legacy = std::fs::read_dir(&folder).is_ok_and(|mut inside| {
            inside.any(|item| {
                item.is_ok_and(|item| {
                    let item = item.file_name();
                    let item = item.to_string_lossy();
                    item == "CURRENT" || item.starts_with("gen-")
                })
            })
        });
        if legacy {
            continue;
        }
        let used = (runs_of.get(&folder_name)).is_some_and(|runs| still_used(runs, still_named));
        if !used {
            abandoned.push(folder);
        }
    }
    abandoned.sort();
    Ok(abandoned)
}

/// The distinct (name, file) of the runs that carry a pipeline name, by `key` of the name, so
/// that a file is loaded once per name however many runs it made.
type RunsByName = BTreeMap<String, BTreeSet<(String, Option<PathBuf>)>>;

fn runs_by_name(runs: &[serde_json::Value], key: impl Fn(&str) -> String) -> RunsByName {
    let mut runs_of = RunsByName::new();
    for run in runs {
        if let Some(named) = run["name"].as_str().filter(|named| !named.is_empty()) {
            let file = run["pipeline_path"].as_str().map(PathBuf::from);
            runs_of
                .entry(key(named))
                .or_default()
                .insert((named.to_owned(), file));
        }
    }
    runs_of
}

/// Whether a pipeline file that made one of `runs` (name, file) still gives its name, or it
/// cannot be told (a run from before runs recorded their file).
fn still_used(runs: &BTreeSet<(String, Option<PathBuf>)>, still_named: StillNamed<'_>) -> bool {
    runs.iter().any(|(named, file)| match file {
        Some(file) => still_named(file, named),
        None => true,
    })
}

/// The pipeline names other than `name` that `runs` carry and that no pipeline file gives any
/// more: every run under the name was made by a file that now gives another name (or another
/// store). Their runs tell nothing gc must keep (their indexes go too).
fn renamed_pipelines(
    runs: &[serde_json::Value],
    name: &str,
    still_named: StillNamed<'_>,
) -> HashSet<String> {
    (runs_by_name(runs, str::to_owned).into_iter())
        .filter(|(named, runs)| named != name && !still_used(runs, still_named))
        .map(|(named, _)| named)
        .collect()
}

/// The embedding cache keys of every vector a stored output holds: the cache keeps them, so a
/// document renamed after `gc` still costs no model call; and of the sentence vectors a
/// semantic chunking was cut from, so that chunking it again with another percentile or size
/// embeds nothing.
fn held_vectors(store: &Store) -> anyhow::Result<HashSet<[u8; 32]>> {
    let mut held = HashSet::new();
    for value in store.checkpoint_values() {
        match codec::decode(&value?) {
            Ok(Some(Item::Embedded(set))) => {
                for scope in cache_scopes(&set) {
                    held.extend(
                        set.chunks
                            .iter()
                            .map(|c| *CacheKey::new(&scope, text_to_embed(&c.chunk)).as_bytes()),
                    );
                }
            }
            Ok(Some(Item::Chunks(set))) => {
                let calls = (set.debug.as_ref())
                    .and_then(|debug| debug.extra.get(operators::chunk::SENTENCE_CALLS))
                    .and_then(serde_json::Value::as_array);
                let keys = calls.into_iter().flatten().filter_map(|call| call.as_str());
                held.extend(keys.filter_map(crate::store::parse_key));
            }
            _ => {}
        }
    }
    Ok(held)
}

/// The scopes the vectors of `set` may be cached under: the one it records, else its model's
/// fingerprint and, for a local model, the scope of texts embedded alone (checkpoints from
/// before the scope was recorded do not say which).
fn cache_scopes(set: &operators::model::EmbeddedSet) -> Vec<String> {
    match &set.cache_scope {
        Some(scope) => vec![scope.clone()],
        None if set.model.starts_with("onnx:") => vec![
            set.model.clone(),
            operators::embed::onnx::alone_scope(&set.model),
        ],
        None => vec![set.model.clone()],
    }
}

/// Runs of each pipeline kept by `engine run`, with their per-item records: every run records
/// every document of every step (90 MB a run for 20,000 documents through 10 steps), and
/// sled reuses the space of removed records.
pub const RUNS_KEPT: usize = 20;

/// Removes, with their item records, the runs of pipeline `only` (of every pipeline when
/// `None`) past its newest `keep` (at least 1), except the runs that say what is kept: each
/// pipeline's latest completed run and its runs since (what `gc` keeps), the run each
/// source's empty-source guard compares with (see [`guard_references`]), and, for a document
/// such a completed run failed on, the run that last made what the indexes keep of it (see
/// [`last_made_of`]). Returns how many.
pub fn prune_runs(store: &Store, only: Option<&str>, keep: usize) -> anyhow::Result<u64> {
    let runs = store.runs()?;
    let references = guard_references(&runs);
    let mut protected = references.clone();
    let mut completed_seen = HashSet::new();
    let mut kept_completed = Vec::new();
    for run in &runs {
        // Newest first: everything down to a pipeline's latest completed run.
        let pipeline = pipeline_of(run);
        if completed_seen.contains(pipeline) {
            continue;
        }
        if matches!(run["status"].as_str(), Some("ok" | "failed_items")) {
            completed_seen.insert(pipeline);
            kept_completed.push(run);
        }
        protected.extend(run["run_id"].as_str().map(str::to_owned));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut removable = Vec::new();
    for run in &runs {
        let pipeline = pipeline_of(run);
        let newer = seen.entry(pipeline).or_default();
        *newer += 1;
        let Some(run_id) = run["run_id"].as_str() else {
            continue;
        };
        if *newer > keep.max(1)
            && only.is_none_or(|only| only == pipeline)
            && !protected.contains(run_id)
        {
            removable.push(run_id.to_owned());
        }
    }
    if removable.is_empty() {
        return Ok(0);
    }
    // Only runs that failed documents are read for them.
    let guarded = (runs.iter())
        .filter(|run| (run["run_id"].as_str()).is_some_and(|id| references.contains(id)));
    let failing = (kept_completed.into_iter().chain(guarded))
        .filter(|run| run["status"].as_str() == Some("failed_items"));
    for run in failing {
        let run_id = run["run_id"].as_str().unwrap_or_default();
        let failed = failed_documents(store, run_id)?;
        protected.extend(last_made_of(store, &runs, run_id, failed).1);
    }
    removable.retain(|run_id| !protected.contains(run_id));
    Ok(store.remove_runs(&removable)?)
}

/// The documents some step of run `run_id` failed on.
fn failed_documents(store: &Store, run_id: &str) -> anyhow::Result<HashSet<String>> {
    Ok((store.item_records(run_id, None)?.into_iter())
        .filter(|(_, _, record)| record.error.is_some())
        .map(|(_, doc_id, _)| doc_id)
        .collect())
}

/// What `documents`, which failed in completed run `run_id`, were made of in the newest earlier
/// run of its pipeline in `runs` (newest first) that took each through every step it reached
/// without failing: the indexes and sinks keep them as they were then, and a document back as
/// it was then computes and embeds nothing. With the runs they were found in: those runs tell
/// where the indexes' chunks of the documents came from, and keep them for the next `gc`.
fn last_made_of(
    store: &Store,
    runs: &[serde_json::Value],
    run_id: &str,
    mut documents: HashSet<String>,
) -> (HashSet<(String, String)>, HashSet<String>) {
    let mut made_of = HashSet::new();
    let mut made_in = HashSet::new();
    let Some(at) = runs.iter().position(|run| run["run_id"] == run_id) else {
        return (made_of, made_in);
    };
    let pipeline = pipeline_of(&runs[at]);
    let earlier = runs[at + 1..]
        .iter()
        .filter(|run| pipeline_of(run) == pipeline);
    for run in earlier {
        if documents.is_empty() {
            break;
        }
        let (Some(earlier_id), Some(steps)) = (run["run_id"].as_str(), run["steps"].as_object())
        else {
            continue;
        };
        // Read once: records come in blocks, and finding one reads its step's.
        let mut by_document: HashMap<String, Vec<ItemRecord>> = HashMap::new();
        for (step, doc_id, record) in store.item_records(earlier_id, None).unwrap_or_default() {
            if steps.contains_key(&step) && documents.contains(&doc_id) {
                by_document.entry(doc_id).or_default().push(record);
            }
        }
        documents.retain(|doc_id| {
            let records = by_document.remove(doc_id).unwrap_or_default();
            let whole = !records.is_empty() && records.iter().all(|r| r.error.is_none());
            if whole {
                let keyed = records.into_iter().filter(|r| !r.key.is_empty());
                made_of.extend(keyed.map(|r| (r.fingerprint, r.key)));
                made_in.insert(earlier_id.to_owned());
            }
            !whole
        });
    }
    (made_of, made_in)
}

/// For every source step of every pipeline (an `op` named `source.…`), the latest completed run
/// in which it read documents without failing as a whole: the run its empty-source guard
/// compares with (`engine run`'s last reads). Pruned, it would disarm the guard after many
/// runs that read nothing, and the next one would empty the index.
fn guard_references(runs: &[serde_json::Value]) -> HashSet<String> {
    let mut decided: HashSet<(&str, &str)> = HashSet::new();
    let mut references = HashSet::new();
    let completed =
        (runs.iter()).filter(|run| matches!(run["status"].as_str(), Some("ok" | "failed_items")));
    for run in completed {
        let Some(steps) = run["steps"].as_object() else {
            continue;
        };
        for (step, report) in steps {
            let source = report["op"]
                .as_str()
                .is_some_and(|op| op.starts_with("source."));
            // A source is what it reads, whatever its step's name (when the run recorded it).
            let which = (pipeline_of(run), report["reads"].as_str().unwrap_or(step));
            if !source || decided.contains(&which) {
                continue;
            }
            let documents = report["out"].as_u64().unwrap_or(0);
            if documents > 0 || report["failed"].as_u64().unwrap_or(0) == 0 {
                decided.insert(which);
                if documents > 0 {
                    references.extend(run["run_id"].as_str().map(str::to_owned));
                }
            }
        }
    }
    references
}

/// Where the project of `pipeline` was, and where it is now, when its runs recorded its file
/// elsewhere (the project copied or moved whole): the folders above the file that differ, for
/// the newest run that recorded it elsewhere. `None` when none did.
pub fn moved_root(
    runs: &[serde_json::Value],
    pipeline: &crate::spec::load::Pipeline,
) -> Option<(PathBuf, PathBuf)> {
    let now = crate::spec::paths::identity(&pipeline.file);
    let recorded = (runs.iter())
        .filter(|run| run["name"].as_str() == Some(pipeline.name.as_str()))
        .filter_map(|run| run["pipeline_path"].as_str().map(PathBuf::from))
        .find(|recorded| *recorded != now)?;
    let (mut was, mut is) = (recorded.as_path(), now.as_path());
    while was.file_name().is_some() && was.file_name() == is.file_name() {
        (was, is) = (was.parent()?, is.parent()?);
    }
    (was != is).then(|| (was.to_owned(), is.to_owned()))
}

/// Which pipeline a recorded run belongs to: its name (its file, for runs recorded before runs
/// named their pipeline).
fn pipeline_of(run: &serde_json::Value) -> &str {
    match run["name"].as_str() {
        Some(name) if !name.is_empty() => name,
        _ => run["pipeline"].as_str().unwrap_or_default(),
    }
}

/// `engine gc` for pipeline `name` with step fingerprints `current`: keeps everything the
/// latest completed run of each pipeline sharing the store reached (this one's too, edited
/// since or not: its indexes and sinks hold it), what the runs since computed (a killed run's
/// work, for the run that resumes: of this pipeline, with the current file; of another, all),
/// the newest `keep_runs` runs and the runs that tell what is kept, and every cached vector
/// while a run awaits its resume;
/// removes the `orphaned_indexes` (folders of index steps the pipeline no longer has) and, once
/// the runs are pruned, the index folders of names no pipeline uses any more (see
/// [`abandoned_names`]; `still_named` tells whether a pipeline file still gives a name), each
/// only when the engine made it (anything else is left, and named in `left_alone`). The
/// runs of a pipeline renamed since ([`renamed_pipelines`]) keep nothing and go.
pub fn collect_garbage(
    store: &Store,
    name: &str,
    current: &BTreeMap<String, String>,
    keep_runs: usize,
    orphaned_indexes: &[PathBuf],
    still_named: StillNamed<'_>,
) -> anyhow::Result<Collected> {
    // A pipeline renamed since (its file now gives another name) keeps nothing alive: its
    // runs go, and what they alone reached.
    let runs = store.runs()?;
    let renamed = renamed_pipelines(&runs, name, still_named);
    let (renamed_runs, runs): (Vec<serde_json::Value>, Vec<serde_json::Value>) = runs
        .into_iter()
        .partition(|run| renamed.contains(pipeline_of(run)));
    let mut latest: BTreeMap<&str, &serde_json::Value> = BTreeMap::new();
    for run in &runs {
        if matches!(run["status"].as_str(), Some("ok" | "failed_items")) {
            latest.entry(pipeline_of(run)).or_insert(run);
        }
    }
    // Runs of a pipeline newer than its latest completed one (killed, cancelled, failed), or
    // of one that never completed a run, computed checkpoints no completed run reached yet: a
    // run resumes from them.
    let mut completed_seen = HashSet::new();
    let since_latest: Vec<&serde_json::Value> = (runs.iter())
        .filter(|run| {
            let pipeline = pipeline_of(run);
            if latest
                .get(pipeline)
                .is_some_and(|done| std::ptr::eq(*done, *run))
            {
                completed_seen.insert(pipeline);
            }
            !completed_seen.contains(pipeline)
        })
        .collect();
    // The runs an empty-source guard compares with: while it keeps a source's documents in
    // the indexes and sinks, what they were made of stays too (when the drive is back, nothing
    // is computed or embedded again).
    let references = guard_references(&runs);
    let guarded = (runs.iter()).filter(|run| {
        run["run_id"]
            .as_str()
            .is_some_and(|id| references.contains(id))
    });
    let mut live = HashSet::new();
    // Documents the completed runs kept here (each pipeline's latest, the guards') failed on.
    let mut failed: HashMap<&str, HashSet<String>> = HashMap::new();
    for run in (latest.values().copied())
        .chain(since_latest.iter().copied())
        .chain(guarded)
    {
        // A completed run keeps all it reached (its outputs are what the indexes and sinks
        // hold, whatever the file says since); a run since, what the current file reaches (of
        // another pipeline, whose file is not read here, all it reached).
        let completed = latest
            .get(pipeline_of(run))
            .is_some_and(|done| std::ptr::eq(*done, run))
            || run["run_id"]
                .as_str()
                .is_some_and(|id| references.contains(id));
        let ours = pipeline_of(run) == name;
        let reached = |step: &str| {
            completed
                || !ours
                || current.get(step).is_some_and(|fingerprint| {
                    run["fingerprints"][step].as_str() == Some(fingerprint)
                })
        };
        let run_id = run["run_id"].as_str().unwrap_or_default();
        for (step, doc_id, record) in store.item_records(run_id, None)? {
            if record.error.is_some() && completed {
                failed.entry(run_id).or_default().insert(doc_id);
            }
            // A failure's key holds the failure, when it was stored (a remembered one).
            if !record.key.is_empty() && reached(&step) {
                live.insert((record.fingerprint, record.key));
            }
        }
    }
    for (run_id, documents) in failed {
        live.extend(last_made_of(store, &runs, run_id, documents).0);
    }
    // A renamed pipeline's runs may have computed what the current file reaches (a name
    // changed, then changed back): that stays, for the next run.
    let reaches: HashSet<&str> = current.values().map(String::as_str).collect();
    for run in &renamed_runs {
        let run_id = run["run_id"].as_str().unwrap_or_default();
        for (_, _, record) in store.item_records(run_id, None)? {
            if !record.key.is_empty() && reaches.contains(record.fingerprint.as_str()) {
                live.insert((record.fingerprint, record.key));
            }
        }
    }
    let (removed, bytes_freed) = store.retain_checkpoints(&live)?;
    let renamed_ids: Vec<String> = (renamed_runs.iter())
        .filter_map(|run| run["run_id"].as_str().map(str::to_owned))
        .collect();
    let runs_removed = store.remove_runs(&renamed_ids)? + prune_runs(store, None, keep_runs)?;
    // A cancelled or killed run's vectors are in the cache alone, for the run that resumes
    // it: while one waits, no vector goes.
    let (vectors_removed, vector_bytes) = match !since_latest.is_empty() {
        true => (0, 0),
        false => {
            let held = held_vectors(store)?;
            store.retain_vectors(|key| held.contains(key))?
        }
    };
    // With the store held, no run is writing an index. Only what the engine made goes.
    let mut indexes = Removed::default();
    for folder in orphaned_indexes {
        indexes.index(folder)?;
    }
    for folder in abandoned_names(store, name, still_named)? {
        indexes.name_folder(&folder)?;
    }
    Ok(Collected {
        removed,
        bytes_freed: bytes_freed + vector_bytes + indexes.bytes,
        kept: store.checkpoint_stats().0,
        runs_removed,
        vectors_removed,
        indexes_removed: indexes.indexes,
        left_alone: indexes.left_alone,
        ..Collected::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ItemRecord, hex, parse_key};

    /// Records a run of pipeline `p` whose chunk step (fingerprint `fingerprint`) computed the
    /// checkpoint `key`.
    fn record_run(store: &Store, run_id: &str, status: &str, fingerprint: &str, key: u8) {
        record_run_of(store, "p", run_id, status, fingerprint, key);
    }

    /// [`record_run`] of pipeline `name`.
    fn record_run_of(
        store: &Store,
        name: &str,
        run_id: &str,
        status: &str,
        fingerprint: &str,
        key: u8,
    ) {
        let summary = serde_json::json!({
            "run_id": run_id, "status": status, "name": name,
            "fingerprints": { "chunk": fingerprint },
        });
        store.save_run(run_id, &summary).unwrap();
        let key = hex(&[key; 32]);
        let record = ItemRecord {
            fingerprint: fingerprint.to_owned(),
            key: key.clone(),
            cached: false,
            seconds: 0.1,
            bytes_in: 1,
            bytes_out: 1,
            error: None,
            warned: false,
        };
        store.record_item(run_id, "chunk", "a.md", &record).unwrap();
        let key = parse_key(&key).unwrap();
        store.put_checkpoint(fingerprint, &key, b"chunks").unwrap();
    }

    /// A run killed after the pipeline file changed computed checkpoints of the current file
    /// that no completed run reached: gc keeps them for the run that resumes, and those of the
    /// latest completed run too (its index holds them), but not those of an older run.
    #[test]
    fn gc_keeps_what_a_killed_run_computed_with_the_current_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        record_run(&store, "20261130T000000.000Z-0000", "ok", "size500", 0);
        record_run(&store, "20261130T000001.000Z-aaaa", "ok", "size600", 1);
        record_run(
            &store,
            "20261130T000002.000Z-bbbb",
            "interrupted",
            "size640",
            2,
        );
        let current = BTreeMap::from([("chunk".to_owned(), "size640".to_owned())]);
        let collected = collect_garbage(&store, "p", &current, 20, &[], &|_, _| true).unwrap();
        let kept = |fingerprint: &str, key: u8| {
            let key = parse_key(&hex(&[key; 32])).unwrap();
            store.checkpoint(fingerprint, &key).unwrap().is_some()
        };
        assert!(
            kept("size640", 2),
            "the killed run's work with the current file"
        );
        assert!(kept("size600", 1), "the latest completed run's output");
        assert!(!kept("size500", 0), "an older run's output");
        assert_eq!(collected.removed, 1);
    }

    /// While an empty-source guard keeps a source's documents in the index (its latest
    /// completed run read nothing), gc keeps what they were made of, as the run the guard
    /// compares with reached: collecting removed it, and everything was embedded again when
    /// the drive came back.
    #[test]
    fn gc_keeps_what_an_empty_source_guard_keeps_in_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        record_run(&store, "20261130T000000.000Z-0000", "ok", "size500", 0);
        for (id, status, read) in [
            ("20261130T000000.000Z-0000", "ok", 5),
            ("20261130T000001.000Z-aaaa", "failed_items", 0),
        ] {
            let failed = u64::from(read == 0);
            let summary = serde_json::json!({
                "run_id": id, "status": status, "name": "p",
                "fingerprints": { "chunk": "size500" },
                "steps": { "docs": { "op": "source.files", "out": read, "failed": failed } },
            });
            store.save_run(id, &summary).unwrap();
        }
        let current = BTreeMap::from([("chunk".to_owned(), "size500".to_owned())]);
        let collected = collect_garbage(&store, "p", &current, 1, &[], &|_, _| true).unwrap();
        assert_eq!(collected.removed, 0);
        let key = parse_key(&hex(&[0; 32])).unwrap();
        assert!(store.checkpoint("size500", &key).unwrap().is_some());
    }

    /// Another pipeline sharing the store whose only run was killed keeps what that run
    /// computed, whichever pipeline is collected (collecting `p` removed it).
    #[test]
    fn gc_keeps_what_another_pipelines_killed_run_computed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        record_run_of(
            &store,
            "b",
            "20261130T000001.000Z-bbbb",
            "interrupted",
            "bsize",
            2,
        );
        record_run(&store, "20261130T000002.000Z-aaaa", "ok", "size600", 1);
        let current = BTreeMap::from([("chunk".to_owned(), "size600".to_owned())]);
        let collected = collect_garbage(&store, "p", &current, 1, &[], &|_, _| true).unwrap();
        assert_eq!(collected.removed, 0);
        let key = parse_key(&hex(&[2; 32])).unwrap();
        assert!(store.checkpoint("bsize", &key).unwrap().is_some());
        assert_eq!(
            store.runs().unwrap().len(),
            2,
            "the run that tells it is kept"
        );
    }

    /// A cancelled run's vectors are in the cache alone: gc keeps them until a run completes
    /// (it dropped them, and the resume embedded everything again), then drops what no
    /// checkpoint holds.
    #[test]
    fn gc_keeps_cached_vectors_while_a_run_awaits_its_resume() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        record_run(&store, "20261130T000001.000Z-aaaa", "ok", "size600", 1);
        record_run(
            &store,
            "20261130T000002.000Z-bbbb",
            "cancelled",
            "size640",
            2,
        );
        store.put_vector(&[7; 32], &[0.5, 0.5]).unwrap();
        let current = BTreeMap::from([("chunk".to_owned(), "size640".to_owned())]);
        let collected = collect_garbage(&store, "p", &current, 20, &[], &|_, _| true).unwrap();
        assert_eq!(collected.vectors_removed, 0);
        assert!(store.vector(&[7; 32]).is_some());
        record_run(&store, "20261130T000003.000Z-cccc", "ok", "size640", 2);
        let collected = collect_garbage(&store, "p", &current, 20, &[], &|_, _| true).unwrap();
        assert_eq!(collected.vectors_removed, 1);
        assert!(store.vector(&[7; 32]).is_none());
    }

    /// A pipeline renamed since (the file that ran it now gives another name) keeps nothing
    /// alive: its runs go and the checkpoints only they reached; a name that a file still
    /// gives keeps its latest run and what it reached.
    #[test]
    fn gc_drops_the_runs_and_checkpoints_of_a_renamed_pipeline() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let runs = [
            (
                "old",
                "20261130T000001.000Z-aaaa",
                "/kb/a.yaml",
                "fp-old",
                1,
            ),
            (
                "other",
                "20261130T000002.000Z-aaaa",
                "/kb/b.yaml",
                "fp-other",
                2,
            ),
            ("p", "20261130T000003.000Z-aaaa", "/kb/a.yaml", "fp-p", 3),
        ];
        // Each run, with the file that made it.
        let record = |&(name, run_id, file, fingerprint, key): &(&str, &str, &str, &str, u8)| {
            record_run_of(&store, name, run_id, "ok", fingerprint, key);
            let summary = serde_json::json!({
                "run_id": run_id, "status": "ok", "name": name, "pipeline_path": file,
                "fingerprints": { "chunk": fingerprint },
            });
            store.save_run(run_id, &summary).unwrap();
        };
        runs.iter().for_each(record);
        // a.yaml now gives `p`; b.yaml still gives `other`.
        let still_named = |file: &Path, name: &str| match file.to_str() {
            Some("/kb/a.yaml") => name == "p",
            _ => true,
        };
        let current = BTreeMap::from([("chunk".to_owned(), "fp-p".to_owned())]);
        // What the current file reaches stays, whichever name computed it.
        let renamed_computed = BTreeMap::from([("chunk".to_owned(), "fp-old".to_owned())]);
        let collected =
            collect_garbage(&store, "p", &renamed_computed, 20, &[], &still_named).unwrap();
        assert_eq!((collected.runs_removed, collected.removed), (1, 0));
        record(&runs[0]);
        let collected = collect_garbage(&store, "p", &current, 1, &[], &still_named).unwrap();
        assert_eq!((collected.runs_removed, collected.removed), (1, 1));
        let names: Vec<String> = (store.runs().unwrap().iter())
            .map(|run| run["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["p", "other"]);
        let kept = |fingerprint: &str, key: u8| {
            store
                .checkpoint(fingerprint, &parse_key(&hex(&[key; 32])).unwrap())
                .unwrap()
                .is_some()
        };
        assert!(!kept("fp-old", 1) && kept("fp-other", 2) && kept("fp-p", 3));
    }

    /// Index folders of names no pipeline uses go; those of names a file still gives, of the
    /// pipeline collected, and at the older `indexes/<step>/` stay.
    #[test]
    fn gc_removes_the_index_folders_of_names_no_pipeline_uses() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut id = 0;
        let mut run = |name: &str, file: Option<&str>| {
            id += 1;
            let mut summary = serde_json::json!({
                "run_id": format!("20261130T00000{id}.000Z-aaaa"), "status": "ok", "name": name,
            });
            if let Some(file) = file {
                summary["pipeline_path"] = file.into();
            }
            store
                .save_run(&format!("20261130T00000{id}.000Z-aaaa"), &summary)
                .unwrap();
        };
        run("renamed", Some("/kb/a.yaml"));
        run("kept", Some("/kb/b.yaml"));
        run("shared", Some("/kb/a.yaml"));
        run("shared", Some("/kb/c.yaml"));
        run("unrecorded file", None);
        run("p", Some("/kb/a.yaml"));
        let indexes = dir.path().join("indexes");
        let folders = [
            "renamed/index_a",
            "renamed/index_b",
            "kept/index_a",
            "shared/index_a",
            "no runs/index_a",
            "p/index_a",
            "index_z/gen-000001",
        ];
        for folder in folders {
            std::fs::create_dir_all(indexes.join(folder)).unwrap();
        }
        let hashed = indexes.join(folder_name("unrecorded file"));
        std::fs::create_dir_all(hashed.join("index_a")).unwrap();
        std::fs::write(indexes.join("index_z/CURRENT"), "gen-000001").unwrap();
        std::fs::create_dir_all(indexes.join("renamed/index_a/gen-000001")).unwrap();
        std::fs::write(indexes.join("renamed/index_a/CURRENT"), "gen-000001").unwrap();
        std::fs::write(indexes.join("renamed/index_a/gen-000001/data"), "12345").unwrap();
        // What the engine did not make stays, wherever gc would look.
        std::fs::create_dir_all(indexes.join("no runs/mine")).unwrap();
        std::fs::write(indexes.join("no runs/mine/part-0001.bin"), "mine").unwrap();
        std::fs::write(indexes.join("no runs/notes.txt"), "mine").unwrap();
        std::fs::create_dir_all(indexes.join("legacy")).unwrap();
        std::fs::write(indexes.join("legacy/part-0001.bin"), "mine").unwrap();
        std::fs::create_dir_all(indexes.join("p/gone_step/gen-000003")).unwrap();
        std::fs::write(indexes.join("p/gone_step/CURRENT"), "gen-000003").unwrap();
        std::fs::create_dir_all(indexes.join("p/user_folder")).unwrap();
        std::fs::write(indexes.join("p/user_folder/CURRENT"), "mine").unwrap();
        std::fs::write(indexes.join("p/user_folder/more.bin"), "mine").unwrap();
        let orphaned = [indexes.join("p/gone_step"), indexes.join("p/user_folder")];
        // a.yaml now gives `p`; b.yaml and c.yaml still give their names.
        let still_named = |file: &Path, name: &str| match file.to_str() {
            Some("/kb/a.yaml") => name == "p",
            _ => true,
        };
        let collected =
            collect_garbage(&store, "p", &BTreeMap::new(), 20, &orphaned, &still_named).unwrap();
        let gone = |folder: &str| !indexes.join(folder).exists();
        assert!(
            gone("renamed"),
            "all its runs are of a file now named otherwise"
        );
        assert!(
            gone("no runs/index_a"),
            "no run left carries the name: {collected:?}"
        );
        assert!(gone("p/gone_step"), "a step the pipeline no longer has");
        let left = [
            "legacy/part-0001.bin",
            "no runs/mine/part-0001.bin",
            "no runs/notes.txt",
            "p/user_folder/more.bin",
        ];
        for file in left {
            assert_eq!(
                std::fs::read_to_string(indexes.join(file)).unwrap(),
                "mine",
                "not the engine's: {file}"
            );
        }
        let said: Vec<PathBuf> = [
            "legacy/part-0001.bin",
            "no runs/mine",
            "no runs/notes.txt",
            "p/user_folder",
        ]
        .iter()
        .map(|folder| indexes.join(folder))
        .collect();
        let mut left_alone = collected.left_alone.clone();
        left_alone.sort();
        assert_eq!(left_alone, said);
        assert!(
            !gone("kept") && !gone("shared"),
            "a file still gives the name"
        );
        assert!(
            !gone("p") && !gone("index_z"),
            "the pipeline's own, and an older index"
        );
        assert!(
            hashed.exists(),
            "a run that did not record its file cannot tell"
        );
        assert_eq!(
            collected.indexes_removed, 4,
            "renamed's two, no runs' one and p's gone step"
        );
        assert_eq!(collected.bytes_freed, 5 + 2 * "gen-000001".len() as u64);
    }
}

#[cfg(test)]
mod pruning_tests {
    use super::*;

    /// Records a run of pipeline `name` whose source read `read` documents, and failed as a
    /// whole when it read none.
    fn record(store: &Store, name: &str, run_id: &str, status: &str, read: u64) {
        let failed = u64::from(read == 0);
        let summary = serde_json::json!({
            "run_id": run_id, "status": status, "name": name,
            "steps": { "docs": { "op": "source.files", "in": read + failed, "out": read, "failed": failed } },
        });
        store.save_run(run_id, &summary).unwrap();
    }

    fn kept(store: &Store) -> Vec<String> {
        let runs = store.runs().unwrap();
        let mut ids: Vec<String> = (runs.iter())
            .filter_map(|run| run["run_id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    }

    /// A run prunes its own pipeline's runs past the newest few, never another pipeline's,
    /// never the latest completed run and the runs since (what gc keeps), and never the run the
    /// empty-source guard compares with: after many runs that read nothing (a drive not
    /// mounted), pruning it would let the next such run empty the index.
    #[test]
    fn pruning_keeps_the_runs_that_say_what_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        record(&store, "b", "r00", "ok", 3);
        record(&store, "a", "r01", "ok", 5);
        for id in ["r02", "r03", "r04", "r05"] {
            record(&store, "a", id, "failed_items", 0);
        }
        record(&store, "b", "r06", "ok", 3);
        record(&store, "a", "r07", "interrupted", 5);
        assert_eq!(prune_runs(&store, Some("a"), 2).unwrap(), 3);
        assert_eq!(kept(&store), ["r00", "r01", "r05", "r06", "r07"]);
        // gc prunes every pipeline's.
        assert_eq!(prune_runs(&store, None, 1).unwrap(), 1);
        assert_eq!(kept(&store), ["r01", "r05", "r06", "r07"]);
    }

    /// A checkpoint says the scope its vectors are cached under; one from before it said so
    /// may hold a local model's vectors of texts embedded alone, or batched.
    #[test]
    fn vectors_are_held_under_the_scope_a_checkpoint_says_or_may_have() {
        let set = |model: &str, cache_scope: Option<&str>| operators::model::EmbeddedSet {
            doc_id: "d".into(),
            source: "d".into(),
            title: None,
            hash: "h".into(),
            model: model.into(),
            cache_scope: cache_scope.map(str::to_owned),
            dimensions: 0,
            chunks: Vec::new(),
            debug: Default::default(),
        };
        assert_eq!(
            cache_scopes(&set("onnx:m:1", Some("onnx:m:1:alone"))),
            ["onnx:m:1:alone"]
        );
        assert_eq!(
            cache_scopes(&set("onnx:m:1", None)),
            ["onnx:m:1", "onnx:m:1:alone"]
        );
        assert_eq!(cache_scopes(&set("http:m:1", None)), ["http:m:1"]);
    }
}
