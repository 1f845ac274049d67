//! The runtime's [`Checkpoints`] backed by the store, for one run.

use std::sync::Arc;

use crate::live::LiveRun;
use crate::runtime::{Checkpoints, Item};
use crate::store::{ItemRecord, Key, Store, codec};

/// Checkpoints and item records of one run in a [`Store`].
pub struct RunCheckpoints {
    store: Arc<Store>,
    run_id: String,
    live: Option<Arc<LiveRun>>,
}

impl RunCheckpoints {
    /// Checkpoints for run `run_id`.
    pub fn new(store: Arc<Store>, run_id: String) -> Self {
        RunCheckpoints {
            store,
            run_id,
            live: None,
        }
    }

    /// Also offers every item record to the taps of `live`, once it is stored.
    pub fn with_live(mut self, live: Arc<LiveRun>) -> Self {
        self.live = Some(live);
        self
    }
}

impl Checkpoints for RunCheckpoints {
    fn get(&self, fingerprint: &str, key: &Key) -> Option<(Option<Item>, u64)> {
        let bytes = self.store.checkpoint(fingerprint, key).ok()??;
        // A damaged entry is a miss: the work is redone and the entry replaced.
        let output = codec::decode(&bytes).ok()?;
        Some((output, bytes.len() as u64))
    }

    fn put(&self, fingerprint: &str, key: &Key, output: Option<&Item>) -> u64 {
        let Some(bytes) = codec::encode(output) else {
            return 0;
        };
        match self.store.put_checkpoint(fingerprint, key, &bytes) {
            Ok(()) => bytes.len() as u64,
            Err(_) => 0,
        }
    }

    fn record(&self, step: &str, doc_id: &str, record: ItemRecord) {
        let _ = self.store.record_item(&self.run_id, step, doc_id, &record);
        if let Some(live) = &self.live {
            live.offer(step, doc_id, &record);
        }
    }
}
