//! What makes a folder a store: the file `engine-store`, which the engine writes when it makes
//! one (and into a store made before the file existed, when it can), so that a folder of the
//! user's is never taken for a store, filled with the engine's files, and cleaned by `gc`.
//!
//! A store made before the marker is told by its `lock` (every process that opened it made
//! one) alone (an engine stopped before it made its database) or beside its database `db/`,
//! its seal `db.seal` or its `indexes/`.

use std::path::{Path, PathBuf};

use super::StoreError;

/// The marker's file name in a store's folder.
pub const MARKER: &str = "engine-store";

/// What the marker says, for whoever finds it.
const MARKER_TEXT: &str = "This folder is a store of the engine (its checkpoints, runs and \
indexes). Remove the whole folder to start afresh; never put other files in it.\n";

/// The most entries a message names of a folder that is not a store.
const NAMED: usize = 3;

/// What a folder is, for making or opening a store in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Folder {
    /// Nothing is there yet.
    Absent,
    /// An empty folder.
    Empty,
    /// A store (marked, or made before the marker).
    Store,
    /// A folder that holds other things: some of their names, and how many there are.
    Other(Vec<String>, usize),
}

/// What `dir` is. A path that is there but is no folder (or cannot be listed) is an error.
pub fn examine(dir: &Path) -> std::io::Result<Folder> {
    let entries = match std::fs::read_dir(dir) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Folder::Absent),
        other => other?,
    };
    let mut names: Vec<String> = entries
        .map(|entry| entry.map(|entry| entry.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()?;
    if names.is_empty() {
        return Ok(Folder::Empty);
    }
    let has = |name: &str| names.iter().any(|held| held == name);
    let older_store = has("lock")
        && (names.len() == 1
            || dir.join("db").is_dir()
            || has("db.seal")
            || dir.join("indexes").is_dir());
    if has(MARKER) || older_store {
        return Ok(Folder::Store);
    }
    names.sort();
    let count = names.len();
    names.truncate(NAMED);
    Ok(Folder::Other(names, count))
}

/// The names a message gives of a folder's entries (`names` of `count`).
pub fn describe(names: &[String], count: usize) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match count - names.len() {
        0 => quoted.join(", "),
        more => format!("{} and {more} more", quoted.join(", ")),
    }
}

/// Makes `dir` a store, or finds it one: creates the folder when it is not there, and marks it.
/// A folder that holds anything else is refused ([`StoreError::NotAStore`]), and so is one
/// that cannot be created ([`StoreError::CannotCreate`]).
pub fn claim(dir: &Path) -> Result<(), StoreError> {
    let found = examine(dir).map_err(|err| StoreError::opening(dir, dir, &err))?;
    match found {
        Folder::Other(names, count) => {
            return Err(StoreError::NotAStore {
                path: dir.to_owned(),
                held: describe(&names, count),
            });
        }
        Folder::Absent => create(dir)?,
        Folder::Empty | Folder::Store => {}
    }
    let marker = dir.join(MARKER);
    if marker.exists() {
        return Ok(());
    }
    match std::fs::write(&marker, MARKER_TEXT) {
        Ok(()) => Ok(()),
        // A store made before the marker and read-only to this user stays what it was; the
        // lock tells first whether it can be used.
        Err(_) if found == Folder::Store => Ok(()),
        Err(err) => Err(StoreError::opening(dir, &marker, &err)),
    }
}

/// Creates the folder `dir` (and the folders above it that are missing).
fn create(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(|err| StoreError::CannotCreate {
        path: dir.to_owned(),
        parent: unwritable_ancestor(dir)
            .map(|(parent, _)| parent)
            .or_else(|| dir.parent().map(Path::to_owned))
            .unwrap_or_default(),
        why: match super::read_only(&err) {
            true => super::refusal(&err).to_owned(),
            false => super::io_message(&err),
        },
    })
}

/// The nearest path above `path` that exists (`.` for the parent of a relative path's first
/// part).
pub fn nearest_existing_ancestor(path: &Path) -> Option<&Path> {
    path.ancestors()
        .skip(1)
        .map(|ancestor| match ancestor.as_os_str().is_empty() {
            true => Path::new("."),
            false => ancestor,
        })
        .find(|ancestor| ancestor.exists())
}

/// The nearest folder above `dir` that exists, when this process cannot create anything in it,
/// and why in words: a read-only file system, or no permission to write or enter it.
pub fn unwritable_ancestor(dir: &Path) -> Option<(PathBuf, &'static str)> {
    let existing = nearest_existing_ancestor(dir)?;
    let access = rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK;
    rustix::fs::access(existing, access).is_err().then(|| {
        let read_only = rustix::fs::statvfs(existing)
            .is_ok_and(|vfs| vfs.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY));
        let why = match read_only {
            true => "read-only file system",
            false => "permission denied",
        };
        let shown = existing.strip_prefix(".").unwrap_or(existing);
        match shown.as_os_str().is_empty() {
            true => (existing.to_owned(), why),
            false => (shown.to_owned(), why),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new or empty folder becomes a store; a store made before the marker is one; a folder
    /// of the user's is refused and left as it was.
    #[test]
    fn only_new_empty_or_store_folders_are_claimed() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("a/new");
        claim(&new).unwrap();
        assert!(new.join(MARKER).is_file());
        assert_eq!(examine(&new).unwrap(), Folder::Store);
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        claim(&empty).unwrap();
        assert_eq!(examine(&empty).unwrap(), Folder::Store);
        let older = dir.path().join("older");
        std::fs::create_dir_all(older.join("db")).unwrap();
        std::fs::write(older.join("lock"), "1").unwrap();
        assert_eq!(examine(&older).unwrap(), Folder::Store);
        claim(&older).unwrap();
        assert!(older.join(MARKER).is_file(), "marked from now on");
        let locked = dir.path().join("locked");
        std::fs::create_dir_all(&locked).unwrap();
        std::fs::write(locked.join("lock"), "1").unwrap();
        assert_eq!(examine(&locked).unwrap(), Folder::Store, "a lock alone");
        std::fs::write(locked.join("notes.txt"), "mine").unwrap();
        assert_ne!(
            examine(&locked).unwrap(),
            Folder::Store,
            "a lock and the user's"
        );
        let user = dir.path().join("user");
        std::fs::create_dir_all(user.join("db")).unwrap();
        std::fs::create_dir_all(user.join("indexes/legacy")).unwrap();
        std::fs::write(user.join("notes.txt"), "mine").unwrap();
        std::fs::write(user.join("db/conf"), "x").unwrap();
        let refused = claim(&user).unwrap_err().to_string();
        assert!(
            refused.contains("`db`, `indexes`, `notes.txt`") && refused.contains("new or empty"),
            "{refused}"
        );
        assert_eq!(std::fs::read_to_string(user.join("db/conf")).unwrap(), "x");
        assert!(!user.join(MARKER).exists() && !user.join("lock").exists());
        std::fs::write(user.join("more.txt"), "").unwrap();
        assert_eq!(
            examine(&user).unwrap(),
            Folder::Other(vec!["db".into(), "indexes".into(), "more.txt".into()], 4)
        );
        // Nobody may make a folder in a process's /proc entry.
        let refused = claim(Path::new("/proc/1/store")).unwrap_err().to_string();
        assert!(
            refused.contains("the store /proc/1/store cannot be created")
                && refused.contains("in /proc/1)")
                && refused.contains("a folder you can write"),
            "{refused}"
        );
        assert_eq!(
            describe(&["a".into()], 3),
            "`a` and 2 more",
            "the rest counted"
        );
    }
}
