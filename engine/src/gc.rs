//! `engine gc`: removing what the current pipeline no longer reaches.

use std::collections::{BTreeMap, HashSet};

use crate::store::Store;

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
}

/// `engine gc`: keeps the checkpoints the current pipeline reaches through its latest completed
/// run, and the newest `keep_runs` runs.
pub fn collect_garbage(
    store: &Store,
    current: &BTreeMap<String, String>,
    keep_runs: usize,
) -> anyhow::Result<Collected> {
    let runs = store.runs()?;
    let latest = runs
        .iter()
        .find(|run| matches!(run["status"].as_str(), Some("ok" | "failed_items")));
    let mut live = HashSet::new();
    if let Some(run) = latest {
        let run_id = run["run_id"].as_str().unwrap_or_default();
        for (step, fingerprint) in current {
            if run["fingerprints"][step].as_str() != Some(fingerprint.as_str()) {
                continue;
            }
            for (_, _, record) in store.item_records(run_id, Some(step))? {
                if !record.key.is_empty() {
                    live.insert((record.fingerprint, record.key));
                }
            }
        }
    }
    let (removed, bytes_freed) = store.retain_checkpoints(&live)?;
    let runs_removed = store.prune_runs(keep_runs.max(1))?;
    Ok(Collected {
        removed,
        bytes_freed,
        kept: store.checkpoint_stats().0,
        runs_removed,
    })
}
