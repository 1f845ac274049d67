//! How a command fails, and the exit code that says so.
//!
//! - 0: success.
//! - 1: a run finished with failed items (the rest were processed); `engine parse` of a file it
//!   cannot parse.
//! - 2 ([`EXIT_INVALID`]): the command cannot be carried out as given: an invalid pipeline, bad
//!   arguments, a bad input file (queries, qrels, TREC run), a name that does not exist (index
//!   step, run, step, document), or nothing to read yet (no store, no index, no running run).
//! - 3 ([`EXIT_COULD_NOT_RUN`]): the command was valid but could not be carried out: the store
//!   is in use or cannot be opened, a step cannot start, a file cannot be written, an index or
//!   model cannot be read.
//! - 130: cancelled.
//!
//! Errors are [`anyhow::Error`]s; an [`Invalid`] (or an [`InvalidPipeline`], or an input file's
//! [`operators::eval::EvalError`]) anywhere in the chain makes it exit 2, an [`ItemFailed`] 1,
//! anything else 3.

use std::fmt;

use crate::spec::diagnostic::Report;

/// Exit code of a run that finished with failed items.
pub const EXIT_FAILED_ITEMS: i32 = 1;
/// Exit code for an invalid pipeline, bad usage or bad input.
pub const EXIT_INVALID: i32 = 2;
/// Exit code when a valid command could not be carried out (store in use, I/O, …).
pub const EXIT_COULD_NOT_RUN: i32 = 3;

/// A mistake in what the command was given: the user's to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// An [`Invalid`] error with `message`.
pub fn invalid(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Invalid(message.into()))
}

/// The one item a command works on failed (`engine parse` of a file it cannot parse): exit 1,
/// as a run whose items failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ItemFailed(pub String);

/// A pipeline file that does not load, with every problem in it.
#[derive(Debug)]
pub struct InvalidPipeline(pub Report);

impl fmt::Display for InvalidPipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} error(s), {} warning(s)",
            self.0.file.display(),
            self.0.errors(),
            self.0.warnings()
        )
    }
}

impl std::error::Error for InvalidPipeline {}

/// The exit code of a command that failed with `err`.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err.chain().any(|cause| cause.is::<ItemFailed>()) {
        return EXIT_FAILED_ITEMS;
    }
    let invalid = err.chain().any(|cause| {
        cause.is::<Invalid>()
            || cause.is::<InvalidPipeline>()
            || cause.is::<operators::eval::EvalError>()
    });
    if invalid {
        EXIT_INVALID
    } else {
        EXIT_COULD_NOT_RUN
    }
}

/// Reports `err` and gives the exit code: the message on stderr (a pipeline's problems one a
/// line), and with `json` one object on stdout, `{"error": {"message", "code"}}` (for a pipeline
/// that does not load, with `valid`, `file` and `diagnostics` as `engine validate --json`).
pub fn report(err: &anyhow::Error, json: bool) -> i32 {
    let code = exit_code(err);
    let pipeline = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<InvalidPipeline>());
    let message = format!("{err:#}");
    match pipeline {
        // Messages may quote documents, queries files and pipeline files: shown, not sent.
        Some(InvalidPipeline(report)) => {
            errln!("{}", crate::stdout::visible(&format!("{report}{message}")))
        }
        None => errln!("error: {}", crate::stdout::visible(&message)),
    }
    if json {
        let value = match pipeline {
            Some(InvalidPipeline(report)) => serde_json::json!({
                "valid": false, "file": report.file, "diagnostics": report.diagnostics,
                "error": error_object(&message, code)["error"],
            }),
            None => error_object(&message, code),
        };
        jsonln!("{value}");
    }
    code
}

/// Whether the command was given `--json`, for the exits that leave from deep inside it.
static JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Records whether the command was given `--json` ([`exit_now`] says its error as JSON then).
pub fn set_json(json: bool) {
    JSON.store(json, std::sync::atomic::Ordering::Relaxed);
}

/// Files this process made for as long as it runs (a run's `live.sock`), which an exit at once
/// removes too.
static MADE_FOR_NOW: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Has [`exit_now`] remove `path` (while it is not [`forget_at_exit`]).
pub fn remove_at_exit(path: &std::path::Path) {
    let mut made = MADE_FOR_NOW.lock().unwrap_or_else(|p| p.into_inner());
    made.push(path.to_owned());
}

/// What [`exit_now`] would remove now.
#[cfg(test)]
pub fn removed_at_exit() -> Vec<std::path::PathBuf> {
    MADE_FOR_NOW
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// Takes `path` off what [`exit_now`] removes (it is removed already).
pub fn forget_at_exit(path: &std::path::Path) {
    let mut made = MADE_FOR_NOW.lock().unwrap_or_else(|p| p.into_inner());
    made.retain(|made| made != path);
}

/// Ends the process at once with exit `code`: `error: message` on stderr, and with `--json`
/// also the error object on stdout, as every command that fails ends (a second Ctrl-C, a
/// store that cannot be written).
pub fn exit_now(message: &str, code: i32) -> ! {
    let made = MADE_FOR_NOW.lock().unwrap_or_else(|p| p.into_inner());
    for path in made.iter() {
        let _ = std::fs::remove_file(path);
    }
    errln!("error: {}", crate::stdout::visible(message));
    if JSON.load(std::sync::atomic::Ordering::Relaxed) {
        jsonln!("{}", error_object(message, code));
    }
    std::process::exit(code)
}

/// The object that ends a failed command's JSON output: `{"error": {"message", "code"}}`.
pub fn error_object(message: &str, code: i32) -> serde_json::Value {
    serde_json::json!({ "error": { "message": message, "code": code } })
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;

    #[test]
    fn invalid_input_anywhere_in_the_chain_exits_2_and_the_rest_3() {
        let wrapped = Err::<(), _>(invalid("no step `x`"))
            .context("cannot search")
            .unwrap_err();
        assert_eq!(exit_code(&wrapped), EXIT_INVALID);
        assert_eq!(format!("{wrapped:#}"), "cannot search: no step `x`");
        let eval = anyhow::Error::new(operators::eval::EvalError("q.jsonl:3: no `_id`".into()));
        assert_eq!(exit_code(&eval), EXIT_INVALID);
        let io = anyhow::anyhow!("cannot write report.html: permission denied");
        assert_eq!(exit_code(&io), EXIT_COULD_NOT_RUN);
        let parse = anyhow::Error::new(ItemFailed("a.pdf: damaged".into()));
        assert_eq!(exit_code(&parse), EXIT_FAILED_ITEMS);
    }
}
