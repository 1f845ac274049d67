//! `engine gc`: removing what the current pipeline no longer reaches.

use std::collections::{BTreeMap, HashSet};

use operators::embed::cache::CacheKey;
use operators::embed::text_to_embed;

use crate::runtime::Item;
use crate::store::{Store, codec};

/// What `engine gc` removed and kept.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Collected {
    /// Checkpoints removed.
    pub removed: u64,
    /// Bytes they held.
    pub bytes_freed: u64,
    /// Checkpoints kept.
    pub kept: u64,
    /// Old runs removed with their item records.
    pub runs_removed: u64,
    /// Vectors removed from the embedding cache: those no kept checkpoint holds.
    pub vectors_removed: u64,
    /// Index folders removed: those of index steps the pipeline no longer has.
    pub indexes_removed: u64,
}

/// Removes `folders` (the indexes of steps a pipeline no longer has): how many, and the bytes
/// they held.
fn remove_folders(folders: &[std::path::PathBuf]) -> anyhow::Result<(u64, u64)> {
    let mut bytes = 0;
    for folder in folders {
        bytes += walkdir::WalkDir::new(folder)
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.metadata().ok())
            .filter(|meta| meta.is_file())
            .map(|meta| meta.len())
            .sum::<u64>();
        std::fs::remove_dir_all(folder)
            .map_err(|err| anyhow::anyhow!("cannot remove {}: {err}", folder.display()))?;
    }
    Ok((folders.len() as u64, bytes))
}

/// The embedding cache keys of every vector a stored output holds: the cache keeps them, so a
/// document renamed after `gc` still costs no model call.
fn held_vectors(store: &Store) -> anyhow::Result<HashSet<[u8; 32]>> {
    let mut held = HashSet::new();
    for value in store.checkpoint_values() {
        if let Ok(Some(Item::Embedded(set))) = codec::decode(&value?) {
            held.extend(
                set.chunks
                    .iter()
                    .map(|c| *CacheKey::new(&set.model, text_to_embed(&c.chunk)).as_bytes()),
            );
        }
    }
    Ok(held)
}

/// Which pipeline a recorded run belongs to: its name (its file, for runs recorded before runs
/// named their pipeline).
fn pipeline_of(run: &serde_json::Value) -> &str {
    match run["name"].as_str() {
        Some(name) if !name.is_empty() => name,
        _ => run["pipeline"].as_str().unwrap_or_default(),
    }
}

/// `engine gc` for pipeline `name` with step fingerprints `current`: keeps the checkpoints it
/// reaches through its latest completed run and through its runs since (a killed run's work
/// with the current file), everything the latest completed run of every other pipeline sharing
/// the store reached, the newest `keep_runs` runs and each pipeline's latest completed run;
/// removes the `orphaned_indexes` (folders of index steps the pipeline no longer has).
pub fn collect_garbage(
    store: &Store,
    name: &str,
    current: &BTreeMap<String, String>,
    keep_runs: usize,
    orphaned_indexes: &[std::path::PathBuf],
) -> anyhow::Result<Collected> {
    let runs = store.runs()?;
    let mut latest: BTreeMap<&str, &serde_json::Value> = BTreeMap::new();
    for run in &runs {
        if matches!(run["status"].as_str(), Some("ok" | "failed_items")) {
            latest.entry(pipeline_of(run)).or_insert(run);
        }
    }
    // Runs of this pipeline newer than its latest completed one (killed, cancelled, failed)
    // computed checkpoints of the current file that no completed run reached yet: a run
    // resumes from them.
    let since_latest = runs
        .iter()
        .take_while(|run| {
            !latest
                .get(name)
                .is_some_and(|done| std::ptr::eq(*done, *run))
        })
        .filter(|run| pipeline_of(run) == name);
    let mut live = HashSet::new();
    for run in latest.values().copied().chain(since_latest) {
        // Another pipeline's run keeps all it reached; this pipeline's, what the current
        // file still reaches.
        let other = pipeline_of(run) != name;
        let reached = |step: &str| {
            other
                || current.get(step).is_some_and(|fingerprint| {
                    run["fingerprints"][step].as_str() == Some(fingerprint)
                })
        };
        let run_id = run["run_id"].as_str().unwrap_or_default();
        for (step, _, record) in store.item_records(run_id, None)? {
            if !record.key.is_empty() && reached(&step) {
                live.insert((record.fingerprint, record.key));
            }
        }
    }
    let (removed, bytes_freed) = store.retain_checkpoints(&live)?;
    let protected: HashSet<String> = latest
        .values()
        .filter_map(|run| run["run_id"].as_str().map(str::to_owned))
        .collect();
    let runs_removed = store.prune_runs(keep_runs.max(1), &protected)?;
    let held = held_vectors(store)?;
    let (vectors_removed, vector_bytes) = store.retain_vectors(|key| held.contains(key))?;
    // With the store held, no run is writing an index.
    let (indexes_removed, index_bytes) = remove_folders(orphaned_indexes)?;
    Ok(Collected {
        removed,
        bytes_freed: bytes_freed + vector_bytes + index_bytes,
        kept: store.checkpoint_stats().0,
        runs_removed,
        vectors_removed,
        indexes_removed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ItemRecord, hex, parse_key};

    /// Records a run of pipeline `p` whose chunk step (fingerprint `fingerprint`) computed the
    /// checkpoint `key`.
    fn record_run(store: &Store, run_id: &str, status: &str, fingerprint: &str, key: u8) {
        let summary = serde_json::json!({
            "run_id": run_id, "status": status, "name": "p",
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
        };
        store.record_item(run_id, "chunk", "a.md", &record).unwrap();
        let key = parse_key(&key).unwrap();
        store.put_checkpoint(fingerprint, &key, b"chunks").unwrap();
    }

    /// A run killed after the pipeline file changed computed checkpoints of the current file
    /// that no completed run reached: gc keeps them for the run that resumes, and drops those
    /// of the old settings.
    #[test]
    fn gc_keeps_what_a_killed_run_computed_with_the_current_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        record_run(&store, "20261130T000001.000Z-aaaa", "ok", "size600", 1);
        record_run(
            &store,
            "20261130T000002.000Z-bbbb",
            "interrupted",
            "size640",
            2,
        );
        let current = BTreeMap::from([("chunk".to_owned(), "size640".to_owned())]);
        let collected = collect_garbage(&store, "p", &current, 20, &[]).unwrap();
        let kept = |fingerprint: &str, key: u8| {
            let key = parse_key(&hex(&[key; 32])).unwrap();
            store.checkpoint(fingerprint, &key).unwrap().is_some()
        };
        assert!(
            kept("size640", 2),
            "the killed run's work with the current file"
        );
        assert!(!kept("size600", 1), "the old settings' output");
        assert_eq!(collected.removed, 1);
    }
}
