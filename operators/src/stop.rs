//! A process-wide request to stop long work early: Ctrl-C during a run, whose outputs are then
//! thrown away. An index build checks it between blocks of inserts, so a cancelled run does not
//! wait for a graph it will not keep.

use std::sync::atomic::{AtomicBool, Ordering};

/// The request, once made.
pub static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks long work to stop.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}
