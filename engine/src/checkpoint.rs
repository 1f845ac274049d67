//! The runtime's [`Checkpoints`] backed by the store, for one run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::live::LiveRun;
use crate::runtime::{Checkpoint, Checkpoints, Item};
use crate::store::{ItemRecord, Key, Store, codec};

/// Checkpoints and item records of one run in a [`Store`].
pub struct RunCheckpoints {
    store: Arc<Store>,
    run_id: String,
    live: Option<Arc<LiveRun>>,
    /// Stored outputs the store could not read (a blob file of its database gone), and why
    /// the first could not: each was computed again.
    unreadable: AtomicUsize,
    first_unreadable: Mutex<Option<String>>,
}

impl RunCheckpoints {
    /// Checkpoints for run `run_id`.
    pub fn new(store: Arc<Store>, run_id: String) -> Self {
        RunCheckpoints {
            store,
            run_id,
            live: None,
            unreadable: AtomicUsize::new(0),
            first_unreadable: Mutex::new(None),
        }
    }

    /// How many stored outputs the store could not read in this run, and why the first could
    /// not; `None` when it read them all.
    pub fn unreadable(&self) -> Option<(usize, String)> {
        let count = self.unreadable.load(Ordering::Relaxed);
        let first = self.first_unreadable.lock().ok()?.clone()?;
        (count > 0).then_some((count, first))
    }

    /// Also offers every item record to the taps of `live`, once it is stored.
    pub fn with_live(mut self, live: Arc<LiveRun>) -> Self {
        self.live = Some(live);
        self
    }
}

impl RunCheckpoints {
    /// Stores an encoded checkpoint: its size, or 0 when the store could not take it (what
    /// is not stored is only done again by the next run).
    fn store_encoded(&self, fingerprint: &str, key: &Key, bytes: &[u8]) -> u64 {
        match self.store.put_checkpoint(fingerprint, key, bytes) {
            Ok(()) => bytes.len() as u64,
            Err(_) => 0,
        }
    }
}

impl Checkpoints for RunCheckpoints {
    fn get(&self, fingerprint: &str, key: &Key) -> Option<(Checkpoint, u64)> {
        let bytes = match self.store.checkpoint(fingerprint, key) {
            Ok(found) => found?,
            Err(err) => {
                // Stored, but not readable: computed again, and said at the end of the run.
                self.unreadable.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_unreadable.lock() {
                    first.get_or_insert_with(|| err.to_string());
                }
                return None;
            }
        };
        // A damaged entry is a miss: the work is redone and the entry replaced.
        let stored = codec::decode_checkpoint(&bytes).ok()?;
        Some((stored, bytes.len() as u64))
    }

    fn put(&self, fingerprint: &str, key: &Key, output: Option<&Item>) -> u64 {
        codec::encode(output).map_or(0, |bytes| self.store_encoded(fingerprint, key, &bytes))
    }

    fn put_failure(&self, fingerprint: &str, key: &Key, message: &str) -> u64 {
        self.store_encoded(fingerprint, key, &codec::encode_failure(message))
    }

    fn record(&self, step: &str, doc_id: &str, record: ItemRecord) {
        let _ = self.store.record_item(&self.run_id, step, doc_id, &record);
        if let Some(live) = &self.live {
            live.offer(step, doc_id, &record);
        }
    }
}
