//! Giving the disk back: sled keeps its files' size when records are removed, so a store
//! that `gc` collects again and again only grows. Compacting copies every tree into a fresh
//! database beside the old one (`db.compacting`), marks the copy complete (`db.compacted`), and
//! then puts it in the old one's place. A process killed at any point leaves a store that
//! [`recover`] (run on every open, under the store's lock) brings back to one whole database:
//! the old one while the copy is not complete, the copy once it is.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::StoreError;

/// The database folder of a store in `dir`.
fn db(dir: &Path) -> PathBuf {
    dir.join("db")
}

/// Where the copy is made.
fn copy(dir: &Path) -> PathBuf {
    dir.join("db.compacting")
}

/// Present once the copy is complete and on disk.
fn complete(dir: &Path) -> PathBuf {
    dir.join("db.compacted")
}

/// The old database, while it is put aside.
fn old(dir: &Path) -> PathBuf {
    dir.join("db.old")
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.display().to_string();
    let what = what.to_owned();
    move |err| StoreError::Io(format!("cannot {what} {path}: {err}"))
}

/// Finishes or undoes a compaction a process was killed in, so that `dir/db` is one whole
/// database: a complete copy takes the old one's place, an incomplete one goes.
pub fn recover(dir: &Path) -> Result<(), StoreError> {
    if complete(dir).exists() {
        if copy(dir).exists() {
            if db(dir).exists() && !old(dir).exists() {
                std::fs::rename(db(dir), old(dir)).map_err(io("put aside", &db(dir)))?;
            } else if db(dir).exists() {
                // The old one is aside already: this `db` can only be a leftover of nothing.
                std::fs::remove_dir_all(db(dir)).map_err(io("remove", &db(dir)))?;
            }
            std::fs::rename(copy(dir), db(dir)).map_err(io("put in place", &copy(dir)))?;
        }
        std::fs::remove_file(complete(dir)).map_err(io("remove", &complete(dir)))?;
    } else if copy(dir).exists() {
        std::fs::remove_dir_all(copy(dir)).map_err(io("remove", &copy(dir)))?;
    }
    if old(dir).exists() && db(dir).exists() {
        std::fs::remove_dir_all(old(dir)).map_err(io("remove", &old(dir)))?;
    }
    Ok(())
}

/// Opens the database `config` names, waiting up to 5 s while another handle of this process,
/// just dropped, still holds its file lock: sled lets go of it from a background thread, so a
/// database closed a moment ago (the copy put in place) can refuse to open at once.
pub fn open(config: &sled::Config) -> sled::Result<sled::Db> {
    let started = std::time::Instant::now();
    loop {
        match config.open() {
            Err(sled::Error::Io(err))
                if err.to_string().contains("could not acquire lock")
                    && started.elapsed() < std::time::Duration::from_secs(5) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            opened => return opened,
        }
    }
}

/// What opening a database may add to its files (a snapshot, a new 512 KiB segment): a copy
/// smaller by less came out larger once open.
const OPENING_ADDS: u64 = 1 << 20;
/// Bytes copied between two looks at the disk's free space.
const BATCH_BYTES: usize = 8 << 20;

/// Copies every tree of `from` into a fresh database at `dir/db.compacting` and, when the copy
/// is smaller than the database (by more than opening it may add), marks it complete (`true`); the caller closes `from` and calls
/// [`recover`], which puts the copy in place. A copy no smaller is removed (`false`): sled's
/// files hold more than their records, and a copy of a database with little to give back came
/// out 30 to 50% larger. `progress` counts the bytes copied (a watchdog tells a stalled copy by
/// it). It stops, leaving the store as it was, when the disk's free space falls under `least`
/// bytes: sled waits for ever on a write the disk has no room for.
pub fn copy_out(
    dir: &Path,
    from: &sled::Db,
    least: u64,
    progress: &AtomicU64,
) -> Result<bool, StoreError> {
    let to_path = copy(dir);
    if to_path.exists() {
        std::fs::remove_dir_all(&to_path).map_err(io("remove", &to_path))?;
    }
    let to = open(&sled::Config::new().path(&to_path))?;
    let room = || {
        let short = fs4::available_space(dir).is_ok_and(|available| available < least);
        match short {
            true => Err(StoreError::Io(format!(
                "the disk of {} is nearly full: the rewrite of its database stopped, and it is as it was",
                dir.display()
            ))),
            false => Ok(()),
        }
    };
    for name in from.tree_names() {
        let (source, target) = (from.open_tree(&name)?, to.open_tree(&name)?);
        let mut batch = sled::Batch::default();
        let mut pending = 0usize;
        for entry in source.iter() {
            let (key, value) = entry?;
            pending += key.len() + value.len();
            batch.insert(key, value);
            if pending >= BATCH_BYTES {
                room()?;
                target.apply_batch(std::mem::take(&mut batch))?;
                progress.fetch_add(pending as u64, Ordering::Relaxed);
                pending = 0;
            }
        }
        room()?;
        target.apply_batch(batch)?;
        progress.fetch_add(pending as u64 + 1, Ordering::Relaxed);
    }
    room()?;
    to.flush()?;
    drop(to);
    // Opening the copy adds a snapshot and may start a segment: it must be smaller by more.
    let opened = super::bytes_below(&to_path).saturating_add(OPENING_ADDS);
    if opened >= super::bytes_below(&db(dir)) {
        std::fs::remove_dir_all(&to_path).map_err(io("remove", &to_path))?;
        return Ok(false);
    }
    let mark = complete(dir);
    let file = std::fs::File::create(&mark).map_err(io("write", &mark))?;
    file.sync_all().map_err(io("write", &mark))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_with(path: &Path, value: &[u8]) {
        let db = open(&sled::Config::new().path(path)).unwrap();
        db.open_tree("t").unwrap().insert("k", value).unwrap();
        db.flush().unwrap();
    }

    fn value_in(dir: &Path) -> Vec<u8> {
        let db = open(&sled::Config::new().path(db(dir))).unwrap();
        db.open_tree("t")
            .unwrap()
            .get("k")
            .unwrap()
            .unwrap()
            .to_vec()
    }

    /// Killed at each point of a compaction, the store opens as one whole database: the old
    /// one until the copy is complete, the copy after.
    #[test]
    fn a_compaction_killed_anywhere_leaves_one_whole_database() {
        // Killed while copying: the old one stays, the copy goes.
        let dir = tempfile::tempdir().unwrap();
        db_with(&db(dir.path()), b"old");
        db_with(&copy(dir.path()), b"half");
        recover(dir.path()).unwrap();
        assert_eq!(value_in(dir.path()), b"old");
        assert!(!copy(dir.path()).exists());
        // Killed once the copy was marked complete, before or after the old one went aside.
        for aside in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            db_with(&db(dir.path()), b"old");
            db_with(&copy(dir.path()), b"new");
            std::fs::write(complete(dir.path()), b"").unwrap();
            if aside {
                std::fs::rename(db(dir.path()), old(dir.path())).unwrap();
            }
            recover(dir.path()).unwrap();
            assert_eq!(value_in(dir.path()), b"new", "aside: {aside}");
            for gone in [copy(dir.path()), complete(dir.path()), old(dir.path())] {
                assert!(!gone.exists(), "{}", gone.display());
            }
        }
        // Killed after the copy was put in place, before the old one and the mark went.
        let dir = tempfile::tempdir().unwrap();
        db_with(&old(dir.path()), b"old");
        db_with(&db(dir.path()), b"new");
        std::fs::write(complete(dir.path()), b"").unwrap();
        recover(dir.path()).unwrap();
        assert_eq!(value_in(dir.path()), b"new");
        assert!(!old(dir.path()).exists() && !complete(dir.path()).exists());
    }

    /// A copy the disk runs short of room for stops with an error (sled would wait for ever on
    /// a write that finds no room), and the store stays as it was.
    #[test]
    fn a_copy_stops_when_the_disk_runs_short() {
        let dir = tempfile::tempdir().unwrap();
        db_with(&db(dir.path()), b"old");
        {
            let from = open(&sled::Config::new().path(db(dir.path()))).unwrap();
            let err = copy_out(dir.path(), &from, u64::MAX, &AtomicU64::new(0)).unwrap_err();
            assert!(err.to_string().contains("nearly full"), "{err}");
        }
        recover(dir.path()).unwrap();
        assert!(!copy(dir.path()).exists() && !complete(dir.path()).exists());
        assert_eq!(value_in(dir.path()), b"old");
    }

    /// A copy no smaller than the database (sled's files of a database written once hold
    /// little to give back, and a copy of them came out larger) is removed, and the database
    /// stays; one of a database whose records were mostly removed takes its place.
    #[test]
    fn only_a_smaller_copy_takes_the_databases_place() {
        let dir = tempfile::tempdir().unwrap();
        let from = open(&sled::Config::new().path(db(dir.path()))).unwrap();
        let tree = from.open_tree("items").unwrap();
        // Written once, and small enough that what sled writes besides its records (whose
        // amount varies from run to run with its background flushes) cannot pass the margin.
        for i in 0..1_000u32 {
            tree.insert(i.to_be_bytes(), vec![7u8; 200]).unwrap();
        }
        from.flush().unwrap();
        assert!(!copy_out(dir.path(), &from, 0, &AtomicU64::new(0)).unwrap());
        assert!(!copy(dir.path()).exists() && !complete(dir.path()).exists());
        for i in 1_000..20_000u32 {
            tree.insert(i.to_be_bytes(), vec![7u8; 200]).unwrap();
        }
        from.flush().unwrap();
        for i in 0..19_000u32 {
            tree.remove(i.to_be_bytes()).unwrap();
        }
        from.flush().unwrap();
        assert!(copy_out(dir.path(), &from, 0, &AtomicU64::new(0)).unwrap());
        let before = super::super::bytes_below(&db(dir.path()));
        drop((tree, from));
        recover(dir.path()).unwrap();
        assert!(super::super::bytes_below(&db(dir.path())) < before);
        let db = open(&sled::Config::new().path(db(dir.path()))).unwrap();
        assert_eq!(db.open_tree("items").unwrap().len(), 1000);
    }

    /// A compaction keeps every tree's records.
    #[test]
    fn a_compaction_keeps_every_record() {
        let dir = tempfile::tempdir().unwrap();
        {
            let from = open(&sled::Config::new().path(db(dir.path()))).unwrap();
            for tree in ["a", "b"] {
                let tree = from.open_tree(tree).unwrap();
                for i in 0..1000u32 {
                    tree.insert(i.to_be_bytes(), vec![7u8; 100]).unwrap();
                }
            }
            copy_out(dir.path(), &from, 0, &AtomicU64::new(0)).unwrap();
        }
        recover(dir.path()).unwrap();
        let db = open(&sled::Config::new().path(db(dir.path()))).unwrap();
        for tree in ["a", "b"] {
            assert_eq!(db.open_tree(tree).unwrap().len(), 1000);
        }
    }
}
