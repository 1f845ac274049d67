//! A process-wide request to stop long work early: Ctrl-C during a run, whose outputs are then
//! thrown away. An index build checks it between blocks of inserts, and an embedding provider
//! between model batches (or requests), so a cancelled run does not wait for work it will not
//! keep.

use std::sync::atomic::{AtomicBool, Ordering};

/// The request, once made.
pub static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks long work to stop.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// The error of an item whose work stopped on request before it was done: not a failure of
/// the item, so a runtime neither records it as one nor checkpoints anything for it (the next
/// run does the item again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped: the run was cancelled before this item was done")]
pub struct Stopped;
