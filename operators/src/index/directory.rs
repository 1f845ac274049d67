//! Tantivy's folder of index files, readable where this process cannot write: a knowledge base
//! shipped on a read-only mount, or owned by another user.
//!
//! Tantivy takes a lock file (`.tantivy-meta.lock`) around opening segment readers, so that a
//! writer in the same folder does not delete the segments being opened; [`MmapDirectory`] opens
//! (creating) that file for writing, which fails where the folder or file is read-only.
//! [`ReadableDirectory`] then takes the same lock on the file opened for reading (an advisory
//! lock does not need write access, so writers and readers still exclude each other), and only
//! when there is no lock file and none can be made does it go without one. That is safe: Tantivy
//! never deletes a lock file, so its absence says no writer ever collected garbage in the
//! folder, and no writer can start there while nobody can create files in it (a writer creates
//! its own lock file and its segments); besides, the engine never writes a published generation
//! again (an update writes a new one). Every other call goes to the wrapped directory unchanged:
//! writes still fail with the system's error.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::HasLen;
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, FileSlice, Lock, MmapDirectory, WatchCallback,
    WatchHandle, WritePtr,
};

/// A directory whose locks fall back to read-only ones where the folder cannot be written.
#[derive(Debug, Clone)]
pub struct ReadableDirectory<D = MmapDirectory> {
    inner: D,
    root: PathBuf,
    read_only: Arc<AtomicBool>,
    opened: OpenedFiles,
}

/// The files a directory opened for reading, each with its length then: a file mapped into
/// memory and cut short since kills the process (SIGBUS) at the first read past its new end,
/// so a process that keeps an index open checks them before it searches
/// ([`OpenedFiles::first_cut_short`]). Shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct OpenedFiles(Arc<Mutex<BTreeMap<PathBuf, u64>>>);

impl OpenedFiles {
    fn record(&self, path: PathBuf, len: u64) {
        let mut opened = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        opened.insert(path, len);
    }

    /// The first file opened that is now shorter than it was when opened (one removed is not:
    /// its mapping stays whole).
    pub fn first_cut_short(&self) -> Option<PathBuf> {
        let opened = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (opened.iter())
            .find(|(path, len)| std::fs::metadata(path).is_ok_and(|now| now.len() < **len))
            .map(|(path, _)| path.clone())
    }
}

/// Gives the files in `dir` that only their owner may read (Tantivy writes `meta.json` and
/// `.managed.json` through private temporary files) the mode the folder's own files get (the
/// folder's mode without execute bits, so the umask's), so that whoever may read the other index
/// files, another user querying a shared store, may read these too.
pub fn share_like_folder(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o666;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        if metadata.is_file() && metadata.permissions().mode() & 0o777 == 0o600 && mode != 0o600 {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode))?;
        }
    }
    Ok(())
}

/// Whether an error of opening a file for writing says the place is not writable (as opposed to
/// a missing folder or a full disk).
pub fn unwritable(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
    )
}

/// The lock taken without a lock file, where none exists and none can be made.
struct NoLockFile;

impl ReadableDirectory<MmapDirectory> {
    /// The index files in `root`.
    pub fn open(root: &Path) -> Result<Self, tantivy::directory::error::OpenDirectoryError> {
        Ok(ReadableDirectory::wrap(MmapDirectory::open(root)?, root))
    }
}

impl<D> ReadableDirectory<D> {
    /// `inner`, whose files are in `root`.
    pub fn wrap(inner: D, root: &Path) -> Self {
        ReadableDirectory {
            inner,
            root: root.to_owned(),
            read_only: Arc::new(AtomicBool::new(false)),
            opened: OpenedFiles::default(),
        }
    }

    /// The files opened for reading so far, and by every clone from now on.
    pub fn opened_files(&self) -> OpenedFiles {
        self.opened.clone()
    }

    /// A flag that becomes true once a lock could not be taken for writing: the folder (or its
    /// lock file) is read-only to this process. Shared by every clone.
    pub fn read_only_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.read_only)
    }

    /// `lock` on its file opened for reading, or, when there is none, no lock at all.
    fn read_only_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.read_only.store(true, Ordering::Relaxed);
        let path = self.root.join(&lock.filepath);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Ok(DirectoryLock::from(Box::new(NoLockFile)));
            }
            Err(err) => return Err(LockError::wrap_io_error(err)),
        };
        if lock.is_blocking {
            file.lock().map_err(LockError::wrap_io_error)?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Err(LockError::LockBusy),
                Err(std::fs::TryLockError::Error(err)) => {
                    return Err(LockError::wrap_io_error(err));
                }
            }
        }
        // Closing the file releases the lock.
        Ok(DirectoryLock::from(Box::new(file)))
    }
}

impl<D: Directory + Clone> Directory for ReadableDirectory<D> {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let handle = self.inner.get_file_handle(path)?;
        self.opened
            .record(self.root.join(path), handle.len() as u64);
        Ok(handle)
    }

    fn open_read(&self, path: &Path) -> Result<FileSlice, OpenReadError> {
        let slice = self.inner.open_read(path)?;
        self.opened.record(self.root.join(path), slice.len() as u64);
        Ok(slice)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.inner.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        match self.inner.acquire_lock(lock) {
            Err(LockError::IoError(err)) if unwritable(&err) => self.read_only_lock(lock),
            taken => taken,
        }
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

/// A Tantivy error in words: Tantivy prints the I/O errors inside some of its errors in their
/// debug form (`IoError(Os { code: 13, kind: PermissionDenied, … })`).
pub fn tantivy_message(err: &tantivy::TantivyError) -> String {
    use tantivy::TantivyError;
    use tantivy::directory::error::OpenDirectoryError;
    match err {
        TantivyError::LockFailure(LockError::IoError(io), _) => {
            format!("cannot take the index's lock file: {io}")
        }
        TantivyError::LockFailure(LockError::LockBusy, _) => {
            "the index is locked by another process; try again when it is done".to_owned()
        }
        TantivyError::OpenReadError(OpenReadError::IoError { io_error, filepath }) => {
            format!("cannot read {}: {io_error}", filepath.display())
        }
        TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(path)) => {
            format!("{} is missing", path.display())
        }
        TantivyError::OpenWriteError(OpenWriteError::IoError { io_error, filepath }) => {
            format!("cannot write {}: {io_error}", filepath.display())
        }
        TantivyError::OpenDirectoryError(OpenDirectoryError::IoError {
            io_error,
            directory_path,
        }) => format!("cannot open {}: {io_error}", directory_path.display()),
        TantivyError::OpenDirectoryError(err) => err.to_string(),
        TantivyError::IoError(io) => io.to_string(),
        TantivyError::DataCorruption(_) => {
            format!("the text index is damaged ({err}): the next run indexes it afresh")
        }
        other => other.to_string(),
    }
}

/// A folder this process cannot write, as another user's or a read-only mount is, for tests
/// that run as root (who may write anywhere): every write fails with the system's error.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct Unwritable(pub MmapDirectory);

#[cfg(test)]
fn denied() -> io::Error {
    io::Error::from_raw_os_error(13)
}

#[cfg(test)]
impl Directory for Unwritable {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.0.get_file_handle(path)
    }
    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: Arc::new(denied()),
            filepath: path.to_owned(),
        })
    }
    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.0.exists(path)
    }
    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::wrap_io_error(denied(), path.to_owned()))
    }
    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.0.atomic_read(path)
    }
    fn atomic_write(&self, _path: &Path, _data: &[u8]) -> io::Result<()> {
        Err(denied())
    }
    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }
    fn acquire_lock(&self, _lock: &Lock) -> Result<DirectoryLock, LockError> {
        // What MmapDirectory gives when it cannot open the lock file for writing.
        Err(LockError::wrap_io_error(denied()))
    }
    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.0.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_lock() -> Lock {
        Lock {
            filepath: PathBuf::from(".tantivy-meta.lock"),
            is_blocking: false,
        }
    }

    /// Where the lock file exists, the read-only lock is a real one: a second taker (another
    /// process, or a writer that can reach the folder) is refused while it is held.
    #[test]
    fn an_existing_lock_file_is_locked_for_reading() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".tantivy-meta.lock"), b"").unwrap();
        let directory = ReadableDirectory::wrap(
            Unwritable(MmapDirectory::open(dir.path()).unwrap()),
            dir.path(),
        );
        let held = directory.acquire_lock(&meta_lock()).unwrap();
        assert!(directory.read_only_flag().load(Ordering::Relaxed));
        let other = File::open(dir.path().join(".tantivy-meta.lock")).unwrap();
        assert!(
            matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            "held"
        );
        assert!(matches!(
            directory.acquire_lock(&meta_lock()),
            Err(LockError::LockBusy)
        ));
        drop(held);
        other.try_lock().expect("released with the lock");
    }

    /// Without a lock file in a folder nobody can write, the lock is taken without one, and no
    /// file is made.
    #[test]
    fn without_a_lock_file_an_unwritable_folder_is_read_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let directory = ReadableDirectory::wrap(
            Unwritable(MmapDirectory::open(dir.path()).unwrap()),
            dir.path(),
        );
        let _held = directory.acquire_lock(&meta_lock()).unwrap();
        assert!(!dir.path().join(".tantivy-meta.lock").exists());
    }

    /// A writable folder is locked as Tantivy always did, and not taken for read-only.
    #[test]
    fn a_writable_folder_is_locked_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let directory = ReadableDirectory::open(dir.path()).unwrap();
        let _held = directory.acquire_lock(&meta_lock()).unwrap();
        assert!(dir.path().join(".tantivy-meta.lock").exists());
        assert!(!directory.read_only_flag().load(Ordering::Relaxed));
    }

    /// The error of the reported bug, in words.
    #[test]
    fn a_lock_that_cannot_be_taken_is_said_in_words() {
        let err = tantivy::TantivyError::LockFailure(LockError::wrap_io_error(denied()), None);
        let message = tantivy_message(&err);
        assert!(message.contains("Permission denied"), "{message}");
        assert!(!message.contains("Os {"), "{message}");
        let err = tantivy::TantivyError::OpenReadError(OpenReadError::wrap_io_error(
            denied(),
            PathBuf::from("meta.json"),
        ));
        assert_eq!(
            tantivy_message(&err),
            "cannot read meta.json: Permission denied (os error 13)"
        );
    }
}
