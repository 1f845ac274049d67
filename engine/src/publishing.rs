//! A run's outputs go into place together, even when the process is killed meanwhile. Each
//! sink's output is complete beside its place before any goes in (a `.partial` file, an
//! index's `CURRENT.pending`), and each goes in by one rename; but a run has several sinks,
//! and a process killed between two renames left one index of the new run beside another of
//! the last, with the run recorded as interrupted.
//!
//! So the renames are written down first, in `publishing.json` in the store's folder, synced:
//! from then on the run's outputs are going into place, whatever happens. The run removes the
//! file once it is recorded. When it finds the file, the next command that holds the store does
//! what the file names that is not done, and records the run as completed (from what it
//! recorded of each document), so the outputs and the run history agree again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file a run's renames are written to, in the store's folder.
const FILE: &str = "publishing.json";

/// The renames of one run that put its outputs in place, and what the run's record needs of
/// what it knew then.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    /// The run whose outputs they are.
    pub run_id: String,
    /// Each `(prepared, live)`: what `prepared` becomes.
    pub renames: Vec<(PathBuf, PathBuf)>,
    /// How long the run had taken when its outputs began to go into place.
    #[serde(default)]
    pub seconds: Option<f64>,
    /// The outcome of each sink that reported one (an index's documents indexed and removed).
    #[serde(default)]
    pub outcomes: BTreeMap<String, serde_json::Value>,
}

/// Where the journal of the store in `store_dir` is.
pub fn path(store_dir: &Path) -> PathBuf {
    store_dir.join(FILE)
}

/// Whether the store in `store_dir` has a journal: a run is putting its outputs in place, or
/// was killed while it did.
pub fn pending(store_dir: &Path) -> bool {
    path(store_dir).exists()
}

impl Journal {
    /// Writes the journal in `store_dir`, whole and synced, before the first rename.
    pub fn write(&self, store_dir: &Path) -> anyhow::Result<()> {
        let file = path(store_dir);
        crate::durable::replace(&file, &serde_json::to_vec(self)?)
            .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", file.display()))
    }

    /// The journal of the store in `store_dir`, if it has one that reads.
    pub fn read(store_dir: &Path) -> Option<Journal> {
        serde_json::from_slice(&std::fs::read(path(store_dir)).ok()?).ok()
    }

    /// Does the renames not done yet (those whose prepared file is still there); the warnings
    /// of those that fail.
    pub fn complete(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        for (prepared, live) in &self.renames {
            if prepared.exists()
                && let Err(err) = std::fs::rename(prepared, live)
            {
                warnings.push(format!(
                    "cannot put {} in place of {}: {err}",
                    prepared.display(),
                    live.display()
                ));
            }
        }
        warnings
    }
}

/// Removes the journal of the store in `store_dir`, once its run is recorded.
pub fn remove(store_dir: &Path) -> anyhow::Result<()> {
    let file = path(store_dir);
    crate::durable::remove(&file)
        .map_err(|err| anyhow::anyhow!("cannot remove {}: {err}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A journal written reads back, and completing it does only the renames not done.
    #[test]
    fn a_journal_completes_the_renames_not_done() {
        let dir = tempfile::tempdir().unwrap();
        let (done_prepared, done_live) = (dir.path().join("a.partial"), dir.path().join("a"));
        let (todo_prepared, todo_live) = (dir.path().join("b.partial"), dir.path().join("b"));
        std::fs::write(&done_live, "new a").unwrap();
        std::fs::write(&todo_prepared, "new b").unwrap();
        std::fs::write(&todo_live, "old b").unwrap();
        let journal = Journal {
            run_id: "r1".to_owned(),
            renames: vec![
                (done_prepared, done_live.clone()),
                (todo_prepared, todo_live.clone()),
            ],
            seconds: Some(1.5),
            outcomes: BTreeMap::from([(
                "index".to_owned(),
                serde_json::json!({ "documents_indexed": 2 }),
            )]),
        };
        journal.write(dir.path()).unwrap();
        assert!(pending(dir.path()));
        let read = Journal::read(dir.path()).unwrap();
        assert_eq!(read, journal);
        assert!(read.complete().is_empty());
        assert_eq!(std::fs::read_to_string(&todo_live).unwrap(), "new b");
        assert_eq!(std::fs::read_to_string(&done_live).unwrap(), "new a");
        remove(dir.path()).unwrap();
        assert!(!pending(dir.path()));
        remove(dir.path()).unwrap();
    }
}
