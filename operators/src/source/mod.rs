//! Sources: where documents come from.

pub mod files;
pub mod jsonl;

use std::ops::ControlFlow;
use std::path::{Component, Path, PathBuf};

use crate::model::Document;

pub use files::{FileSource, FilesConfig};
pub use jsonl::{JsonlConfig, JsonlSource};

/// Opens the file at `path` for reading when it is a regular file. A FIFO would block the
/// open until a writer comes, and a device never ends: the open does not wait (`O_NONBLOCK`,
/// which changes nothing for a regular file's reads), and anything else is refused after it,
/// so a file replaced by a FIFO between a listing and its read cannot hang the run.
pub fn open_regular_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, socket or device): only regular files are read",
        ));
    }
    Ok(file)
}

/// What the files a source reads look like without reading them: each file's id, length and
/// modification time. Two listings differ when a file it reads was added, removed or written.
pub type Listing = Vec<(String, u64, Option<std::time::SystemTime>)>;

/// One document a source could not produce; the others go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceItemError {
    /// The id the document would have had (a path, or `file.jsonl:line`).
    pub doc_id: String,
    /// What went wrong and what to do.
    pub message: String,
}

/// Something a source noticed and skipped on purpose (e.g. a symlink out of the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceWarning {
    /// The entry concerned.
    pub doc_id: String,
    /// Why it was skipped.
    pub message: String,
}

/// What a source hands its caller, one entry at a time.
#[derive(Debug)]
pub enum SourceEvent {
    /// A document.
    Document(Document),
    /// A document that could not be read.
    Error(SourceItemError),
    /// A folder whose entries could not be listed (`doc_id`: its path below the root, as the
    /// ids of the documents in it begin): every document below it failed, none is gone.
    FolderError(SourceItemError),
    /// An entry that could not be read and whose document cannot be told (a JSON line with no
    /// readable id): it failed, and as it may have been any document, none is gone.
    Unplaced(SourceItemError),
    /// An entry skipped on purpose.
    Warning(SourceWarning),
}

/// A source of documents, scanned in a deterministic order.
pub trait DocumentSource: Send {
    /// Visits every entry in order until done or until `visit` breaks.
    /// An `Err` means the source as a whole could not be read (e.g. the root is missing).
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(SourceEvent) -> ControlFlow<()>,
    ) -> Result<(), std::io::Error>;
}

/// What is wrong with a source's `id_prefix`: ids are printed and matched as they are, so
/// control characters are refused.
pub(crate) fn id_prefix_problems(prefix: &str) -> Vec<(&'static str, String)> {
    match prefix.chars().find(|c| c.is_control()) {
        Some(c) => vec![(
            "id_prefix",
            format!(
                "holds the control character {:?}; use printable characters, such as `wiki/`",
                c
            ),
        )],
        None => Vec::new(),
    }
}

/// `path` without `.` components and with each `..` taking out the folder before it, where
/// there is one: the same file named the same way wherever the engine runs from.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(normal.components().next_back(), Some(Component::Normal(_))) =>
            {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}
