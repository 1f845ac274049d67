//! Small files replaced whole and removed, durably: what a later process reads to decide what
//! happened (the store's seal, a run's publishing journal, the compaction mark).

use std::io;
use std::path::Path;

/// Replaces the file at `path` with `bytes`, whole: a new file beside it, synced, renamed over
/// it, then its folder synced (the rename itself is on disk once the folder is).
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut fresh = path.as_os_str().to_owned();
    fresh.push(".new");
    std::fs::write(&fresh, bytes)?;
    std::fs::File::open(&fresh)?.sync_all()?;
    std::fs::rename(&fresh, path)?;
    if let Some(folder) = path
        .parent()
        .and_then(|folder| std::fs::File::open(folder).ok())
    {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// Removes the file at `path`; one that is not there is no error.
pub fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_removed_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("seal");
        replace(&file, b"one").unwrap();
        replace(&file, b"two").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
        assert!(!dir.path().join("seal.new").exists());
        remove(&file).unwrap();
        assert!(!file.exists());
        remove(&file).unwrap();
    }
}
