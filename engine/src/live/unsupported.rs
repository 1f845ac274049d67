//! Platforms without Unix domain sockets: a run does not answer for its store, so other
//! processes are told it is in use, and `engine tap` says why it cannot follow.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::{AskError, LiveRun, Request};
use crate::store::Store;

/// Why nothing can be asked of a running run here.
const UNSUPPORTED: &str = "seeing a running run needs Unix domain sockets, which this platform lacks; look again when the run has ended";

/// Stands for the server a run would start on Unix.
pub struct LiveServer;

impl LiveServer {
    /// Never starts: there is no socket to listen on.
    pub fn start(_store: Arc<Store>, _live: Arc<LiveRun>) -> Option<LiveServer> {
        None
    }
}

/// No run answers: the caller reports the store as in use.
pub fn ask(_dir: &Path, _request: &Request) -> Result<Value, AskError> {
    Err(AskError::NoAnswer(anyhow::anyhow!(UNSUPPORTED)))
}

/// Refuses at once, so that `tap --wait` does not wait for an answer that cannot come.
pub fn follow(
    _dir: &Path,
    _step: Option<&str>,
    _wait: Option<&mut dyn FnMut()>,
    _each: impl FnMut(&Value) -> bool,
) -> Result<(), AskError> {
    Err(AskError::Refused(anyhow::anyhow!(UNSUPPORTED)))
}
