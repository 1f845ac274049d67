//! The seal: a small file beside the database (`db.seal`) naming the newest run the database
//! held when it was last flushed. sled opens a database whose file was cut short or overwritten
//! as an older state, or an empty one, without a word; a run it no longer holds then shows the
//! damage. Without the check, `runs` showed no history, `gc` took no checkpoint as reached, and
//! a run over an emptied folder emptied its indexes, the guard against that having no earlier
//! run to compare with.
//!
//! The seal is written only once what it names is on disk, and moved to an older run before a
//! run it names is removed, so that it never names a run an undamaged database lacks. A store
//! without one (new, or written before seals) is not checked; a database moved away (as the
//! message for a damaged one says to do) takes the seal's meaning with it, so the seal goes too.

use std::path::{Path, PathBuf};

use super::StoreError;

/// The seal of the store in `dir`.
fn path(dir: &Path) -> PathBuf {
    dir.join("db.seal")
}

/// Removes the seal of a store whose database is not there (a new store, or one whose
/// database was moved away): the database about to be created is not the one it describes.
pub fn forget_if_no_database(dir: &Path) -> Result<(), StoreError> {
    if dir.join("db").exists() {
        return Ok(());
    }
    remove(dir)
}

/// The run the seal names, if there is a seal.
pub fn sealed_run(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path(dir)).ok()?;
    let run = text.trim();
    (!run.is_empty()).then(|| run.to_owned())
}

/// Seals the store in `dir` with `run`, the newest run its database holds on disk (`None`: it
/// holds none). The seal is replaced whole ([`crate::durable::replace`]).
pub fn write(dir: &Path, run: Option<&str>) -> Result<(), StoreError> {
    let Some(run) = run else {
        return remove(dir);
    };
    if sealed_run(dir).as_deref() == Some(run) {
        return Ok(());
    }
    crate::durable::replace(&path(dir), format!("{run}\n").as_bytes()).map_err(failed(dir))
}

fn remove(dir: &Path) -> Result<(), StoreError> {
    crate::durable::remove(&path(dir)).map_err(failed(dir))
}

/// The error of writing or removing the seal of the store in `dir`.
fn failed(dir: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let seal = path(dir);
    move |err| StoreError::Io(format!("{}: {err}", seal.display()))
}
