//! `source.files`: the files under a root folder, filtered by globs, in path order.

use std::fs;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use super::{DocumentSource, SourceEvent, SourceItemError, SourceWarning};
use crate::model::Document;

fn default_include() -> Vec<String> {
    vec!["**/*".to_owned()]
}

fn default_max_bytes() -> u64 {
    256 * 1024 * 1024
}

/// Settings of `source.files`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// The root folder (relative to the pipeline file). `doc_id` is the path below it.
    pub path: String,
    /// Globs of the files to read, as `.gitignore` reads them: one with no `/` (but at its end)
    /// names files or folders at any depth (`*.md`, `README.md`, `docs`); one with a `/` inside,
    /// or a leading `/` or `./`, is a path from the root (`docs/**/*.md`, `/README.md`); `*`
    /// stays within a folder, `**` crosses folders.
    #[serde(default = "default_include")]
    pub include: Vec<String>,
    /// Globs of files and folders to leave out, applied after `include` and read alike
    /// (`SOURCES.md` and `node_modules` at any depth, `/drafts/` the root's folder alone).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Read hidden files and folders (names starting with `.`) too.
    #[serde(default)]
    pub hidden: bool,
    /// Files larger than this many bytes become error records instead of being read.
    #[serde(default = "default_max_bytes")]
    #[schemars(range(min = 1))]
    pub max_bytes: u64,
    /// Put before every `doc_id` (`wiki/`), so that two sources feeding one step keep files
    /// or records of the same name apart.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id_prefix: String,
}

impl FilesConfig {
    /// Settings that are valid but cannot be meant, as (key, message) pairs: an `include`
    /// without a pattern (`[]`, `[""]`) picks no file, so the source reads nothing.
    pub fn warnings(&self) -> Vec<(&'static str, String)> {
        if !self.include.iter().all(|glob| glob.trim().is_empty()) {
            return Vec::new();
        }
        let written = serde_json::to_string(&self.include).unwrap_or_default();
        vec![(
            "include",
            format!(
                "`include: {written}` picks no file, so this source reads nothing: remove `include` to read every file (its default is `[\"**/*\"]`), or list the patterns of the files to read"
            ),
        )]
    }

    /// Problems with the settings as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = super::id_prefix_problems(&self.id_prefix);
        for (key, globs) in [("include", &self.include), ("exclude", &self.exclude)] {
            for glob in globs {
                if let Some(name) = glob.strip_prefix('!') {
                    problems.push((
                        key,
                        format!(
                            "`{glob}`: a leading `!` (a .gitignore negation) is not read here; list what to read in `include` and what to leave out in `exclude` (a file whose name starts with `!` is `\\!{name}`)"
                        ),
                    ));
                } else if let Err(err) = glob_of(glob) {
                    problems.push((key, format!("invalid glob `{glob}`: {}", err.kind())));
                }
            }
        }
        problems
    }
}

/// Reads the files below a root.
#[derive(Debug)]
pub struct FileSource {
    root: PathBuf,
    /// The root as the pipeline names it, for each document's `source`.
    named_root: PathBuf,
    /// Files and folders never read: the pipeline's own store and outputs.
    skipped: Vec<PathBuf>,
    include: GlobSet,
    include_globs: Vec<String>,
    exclude: GlobSet,
    exclude_globs: Vec<String>,
    hidden: bool,
    max_bytes: u64,
}

/// Globs as a pipeline writes them: `["**/*.md", "*.txt"]`, `[]`.
fn globs_shown(globs: &[String]) -> String {
    serde_json::to_string(globs).unwrap_or_default()
}

fn glob_set(globs: &[String]) -> Result<GlobSet, globset::Error> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(glob_of(glob)?);
    }
    builder.build()
}

/// A glob as [`relative_glob`] reads it, where `*` and `?` stay within a path component (as in
/// `.gitignore`: `/*.md` is the root's Markdown files, `docs/*.md` those right in `docs`).
fn glob_of(glob: &str) -> Result<Glob, globset::Error> {
    globset::GlobBuilder::new(&relative_glob(glob))
        .literal_separator(true)
        .build()
}

/// A glob as it matches paths relative to the root, as `.gitignore` reads one: a pattern with
/// no `/` but at its end names a file or folder at any depth (`SOURCES.md` is `**/SOURCES.md`,
/// `node_modules` every folder of that name), one that starts with `/` or `./` or has a `/`
/// inside is a path from the root (`./a.md` is the root's `a.md` alone, `./**/*.md` is
/// `**/*.md`), and one ending in `/` names a folder, so everything below it (`drafts/` is
/// `**/drafts/**`).
pub fn relative_glob(glob: &str) -> String {
    // Trailing spaces are no part of a pattern, as in `.gitignore`, but one escaped (`a.md\ `).
    let trimmed = glob.trim_end_matches(' ');
    let escapes = trimmed.len() - trimmed.trim_end_matches('\\').len();
    let mut rest = match escapes % 2 == 1 && trimmed.len() < glob.len() {
        true => &glob[..trimmed.len() + 1],
        false => trimmed,
    };
    let mut anchored = false;
    loop {
        if let Some(after) = rest.strip_prefix("./") {
            rest = after;
        } else if let Some(after) = rest.strip_prefix('/') {
            rest = after;
        } else {
            break;
        }
        anchored = true;
    }
    let folder = rest.trim_end_matches('/');
    let pattern = if folder.len() < rest.len() && !folder.is_empty() {
        format!("{folder}/**")
    } else {
        rest.to_owned()
    };
    if anchored || folder.contains('/') || folder.starts_with("**") {
        pattern
    } else {
        format!("**/{pattern}")
    }
}

/// Whether `exclude` leaves out the folder `relative` and everything below it: a pattern that
/// names the folder (`node_modules`, `private/`) or all below it (`private/**`) does, `*.log`
/// does not. Such a folder is not listed at all, so one that cannot be listed (`lost+found`)
/// is no error.
fn excluded_folder(exclude: &GlobSet, relative: &Path) -> bool {
    // A name no pattern names: a pattern that leaves it out leaves out any name there.
    exclude.is_match(relative) || exclude.is_match(relative.join("\u{1}"))
}

impl FileSource {
    /// A source over `config.path` resolved against `base` (the pipeline file's folder).
    pub fn new(config: &FilesConfig, base: &Path) -> Result<Self, globset::Error> {
        Ok(FileSource {
            root: base.join(&config.path),
            named_root: super::normalize(Path::new(&config.path)),
            skipped: Vec::new(),
            include: glob_set(&config.include)?,
            include_globs: config.include.clone(),
            exclude: glob_set(&config.exclude)?,
            exclude_globs: config.exclude.clone(),
            hidden: config.hidden,
            max_bytes: config.max_bytes,
        })
    }

    /// Never reads `paths` (files or folders, such as the pipeline's store and the files its
    /// sinks write) when they lie below the root. They are resolved when the source is
    /// scanned, so a folder made in between (a sink's) still resolves to where it is.
    pub fn skipping(mut self, paths: impl IntoIterator<Item = PathBuf>) -> Self {
        self.skipped = paths.into_iter().collect();
        self
    }

    /// The root for messages: without the `./` in front that a pipeline in the working
    /// directory gives it (`../docs`, not `./../docs`).
    fn shown_root(&self) -> String {
        match self.root.strip_prefix(".") {
            Ok(rest) if rest.as_os_str().is_empty() => ".".to_owned(),
            Ok(rest) => rest.display().to_string(),
            Err(_) => self.root.display().to_string(),
        }
    }

    /// The root folder this source reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn read(&self, path: &Path, doc_id: &str) -> Result<Vec<u8>, String> {
        let file = super::open_regular_file(path).map_err(|err| format!("cannot open: {err}"))?;
        let too_large = || {
            format!(
                "{doc_id} is larger than max_bytes ({} bytes); raise max_bytes or exclude it",
                self.max_bytes
            )
        };
        if file
            .metadata()
            .is_ok_and(|meta| meta.len() > self.max_bytes)
        {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        file.take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|err| format!("cannot read: {err}"))?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(too_large());
        }
        Ok(bytes)
    }

    /// Whether `include` takes the file at `relative`: it, or a folder it lies in, matches
    /// (`include: [docs]` takes all below `docs`, as `docs/` does).
    fn included(&self, relative: &Path) -> bool {
        relative
            .ancestors()
            .filter(|path| !path.as_os_str().is_empty())
            .any(|path| self.include.is_match(path))
    }

    /// Decides what to do with one walked entry whose path is `path` (below the root).
    fn visit_entry(&self, canonical_root: &Path, entry: &walkdir::DirEntry) -> Option<SourceEvent> {
        let relative = entry.path().strip_prefix(&self.root).ok()?;
        let doc_id = relative_id(relative)?;
        let file_type = entry.file_type();
        let warning = |message: String| {
            Some(SourceEvent::Warning(SourceWarning {
                doc_id: doc_id.clone(),
                message,
            }))
        };
        if file_type.is_symlink() {
            match fs::canonicalize(entry.path()) {
                Ok(target) if !target.starts_with(canonical_root) => {
                    return warning("symlink points outside the source root; skipped".to_owned());
                }
                Ok(target) => {
                    if let Some(message) =
                        self.inner_link_skipped(canonical_root, relative, &target)
                    {
                        return warning(message);
                    }
                    if !target.is_file() {
                        return None;
                    }
                }
                Err(err) => return warning(format!("broken symlink ({err}); skipped")),
            }
        } else if !file_type.is_file() && !file_type.is_dir() {
            // A FIFO, socket or device the patterns pick: never read (an open or a read could
            // block or never end), but said.
            let picked = self.included(relative) && !self.exclude.is_match(relative);
            return picked.then(|| {
                SourceEvent::Warning(SourceWarning {
                    doc_id,
                    message: "not a regular file (a FIFO, socket or device); skipped".to_owned(),
                })
            });
        } else if !file_type.is_file() {
            return None;
        }
        if !self.included(relative) || self.exclude.is_match(relative) {
            return None;
        }
        Some(match self.read(entry.path(), &doc_id) {
            Ok(bytes) => SourceEvent::Document(Document::new(
                doc_id,
                self.named_root.join(relative).display().to_string(),
                bytes,
            )),
            // Removed between the listing of its folder and its read (a folder being synced):
            // gone, as if the listing had come after, not failed.
            Err(_) if fs::symlink_metadata(entry.path()).is_err() => {
                return warning(GONE_WHILE_READ.to_owned());
            }
            Err(message) => SourceEvent::Error(SourceItemError { doc_id, message }),
        })
    }

    /// Why a symlink at `relative` to `target`, inside the root, is skipped, if it is: a
    /// folder's files are read where they are (links to folders are never followed, so that
    /// no loop is walked); a file the source reads under its own name would be a second
    /// document of the same text; a FIFO, socket or device is never read. Each only when the
    /// patterns pick the link; a link to a file they do not pick is read under its name.
    fn inner_link_skipped(
        &self,
        canonical_root: &Path,
        relative: &Path,
        target: &Path,
    ) -> Option<String> {
        let below_root = target.strip_prefix(canonical_root).ok()?;
        let shown = below_root.display();
        if target.is_dir() {
            return (!self.exclude.is_match(relative)).then(|| {
                format!("symlink to the folder `{shown}` of the source root; skipped: its files are read under their own names")
            });
        }
        if !self.included(relative) || self.exclude.is_match(relative) {
            return None;
        }
        if !target.is_file() {
            return Some("symlink to a FIFO, socket or device; skipped".to_owned());
        }
        self.picks(below_root).then(|| {
            format!("symlink to `{shown}`, which is read under its own name; skipped, so that its text is not indexed twice")
        })
    }
}

/// The warning of a file or folder removed after the folder holding it was listed.
const GONE_WHILE_READ: &str = "removed while the run read the source folder; taken as gone";

/// `path` with symlinks resolved; for a file not yet written (in folders maybe not made yet),
/// the resolved path of its nearest existing folder, joined with the rest without `.` and `..`.
fn canonical(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut rest = Vec::new();
    let mut existing = path.as_path();
    loop {
        if let Ok(resolved) = fs::canonicalize(existing) {
            let mut resolved = resolved;
            for part in rest.iter().rev() {
                match part {
                    std::path::Component::ParentDir => {
                        resolved.pop();
                    }
                    std::path::Component::Normal(name) => resolved.push(name),
                    _ => {}
                }
            }
            return resolved;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                existing = parent;
            }
            _ => return path.clone(),
        }
    }
}

/// The doc_id of a relative path: its components joined by `/`.
fn relative_id(relative: &Path) -> Option<String> {
    let parts: Vec<String> = relative
        .components()
        .map(|part| name_text(part.as_os_str()))
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A file name as text. A UTF-8 name is itself, unless it holds what reads as an escape
/// (`\x` and two hex digits, `0-9A-F`); in a name that is not UTF-8, or holds such a sequence,
/// every backslash is written `\\` and every byte that is not UTF-8 `\xFF`. So no two names share
/// a text: an escaped text always holds a `\xHH` and the text of a name left as it is never
/// does, and escaped texts decode one way.
#[cfg(unix)]
fn name_text(name: &std::ffi::OsStr) -> String {
    use std::fmt::Write;
    use std::os::unix::ffi::OsStrExt;

    let bytes = name.as_bytes();
    match std::str::from_utf8(bytes) {
        Ok(text) if !holds_escape(text) => return text.to_owned(),
        _ => {}
    }
    let mut text = String::new();
    for chunk in bytes.utf8_chunks() {
        text.push_str(&chunk.valid().replace('\\', "\\\\"));
        for byte in chunk.invalid() {
            let _ = write!(text, "\\x{byte:02X}");
        }
    }
    text
}

/// Whether `text` holds `\x` and two hex digits (as [`name_text`] writes a byte).
#[cfg(unix)]
fn holds_escape(text: &str) -> bool {
    let hex = |byte: &u8| byte.is_ascii_digit() || (b'A'..=b'F').contains(byte);
    text.as_bytes()
        .windows(4)
        .any(|w| w[0] == b'\\' && w[1] == b'x' && hex(&w[2]) && hex(&w[3]))
}

/// A file name as text (names elsewhere are Unicode already).
#[cfg(not(unix))]
fn name_text(name: &std::ffi::OsStr) -> String {
    name.to_string_lossy().into_owned()
}

fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
}

impl FileSource {
    /// The entries below the root in name order, without excluded folders, hidden entries
    /// (unless `hidden`) and the paths [`FileSource::skipping`] names.
    fn walk(
        &self,
        canonical_root: &Path,
    ) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> + use<> {
        self.walk_excluding(canonical_root, self.exclude.clone())
    }

    /// [`FileSource::walk`], leaving out the folders `exclude` names.
    fn walk_excluding(
        &self,
        canonical_root: &Path,
        exclude: GlobSet,
    ) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> + use<> {
        let hidden = self.hidden;
        let skipped: Vec<PathBuf> = self
            .skipped
            .iter()
            .map(|path| canonical(path))
            .filter(|path| path.starts_with(canonical_root))
            .collect();
        let root = self.root.clone();
        let walked_root = canonical_root.to_owned();
        walkdir::WalkDir::new(&self.root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(move |entry| {
                let pruned = entry.depth() > 0
                    && entry.file_type().is_dir()
                    && entry
                        .path()
                        .strip_prefix(&root)
                        .is_ok_and(|relative| excluded_folder(&exclude, relative));
                !pruned
                    && (hidden || !is_hidden(entry))
                    && !is_skipped(&skipped, &walked_root, &root, entry)
            })
    }

    /// Whether this source reads a file at `relative` (below its root), by its settings:
    /// picked by `include`, left out by `exclude` neither itself nor through a folder above
    /// it, and hidden (a name starting with `.`) only with `hidden`.
    pub fn picks(&self, relative: &Path) -> bool {
        let hidden =
            (relative.components()).any(|part| part.as_os_str().to_string_lossy().starts_with('.'));
        let folder_excluded = (relative.ancestors().skip(1))
            .filter(|folder| !folder.as_os_str().is_empty())
            .any(|folder| excluded_folder(&self.exclude, folder));
        (self.hidden || !hidden)
            && !folder_excluded
            && self.included(relative)
            && !self.exclude.is_match(relative)
    }

    /// The files this source reads among the first `entries` entries below its root (in name
    /// order, excluded folders not entered), as paths below the root: a sample of what it
    /// reads, at a bounded cost.
    pub fn sample(&self, entries: usize) -> Vec<PathBuf> {
        let Ok(canonical_root) = fs::canonicalize(&self.root) else {
            return Vec::new();
        };
        (self.walk(&canonical_root).take(entries).flatten())
            .filter(|entry| entry.file_type().is_file())
            .filter_map(|entry| Some(entry.path().strip_prefix(&self.root).ok()?.to_owned()))
            .filter(|relative| self.included(relative) && !self.exclude.is_match(relative))
            .collect()
    }

    /// The files this source reads, as a [`super::Listing`]: each picked file in name order,
    /// and each entry that cannot be listed (what `engine run --watch` compares); a root that
    /// cannot be read lists nothing.
    pub fn listing(&self) -> super::Listing {
        let Ok(canonical_root) = fs::canonicalize(&self.root) else {
            return Vec::new();
        };
        let mut listed = Vec::new();
        for entry in self.walk(&canonical_root) {
            let Ok(entry) = entry else {
                listed.push(("\u{0}unlistable".to_owned(), 0, None));
                continue;
            };
            let Some(relative) = entry.path().strip_prefix(&self.root).ok() else {
                continue;
            };
            if entry.file_type().is_dir()
                || !self.included(relative)
                || self.exclude.is_match(relative)
            {
                continue;
            }
            // A symlink counts by what it points to.
            let Ok(metadata) = fs::metadata(entry.path()) else {
                continue;
            };
            if metadata.is_file() {
                let id = relative_id(relative).unwrap_or_default();
                listed.push((id, metadata.len(), metadata.modified().ok()));
            }
        }
        listed
    }
}

impl DocumentSource for FileSource {
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(SourceEvent) -> ControlFlow<()>,
    ) -> Result<(), std::io::Error> {
        let canonical_root = fs::canonicalize(&self.root).map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!(
                    "source folder {} cannot be read: {err}",
                    self.root.display()
                ),
            )
        })?;
        if !canonical_root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("source path {} is not a folder", self.root.display()),
            ));
        }
        let walker = self.walk(&canonical_root);
        let mut documents = 0usize;
        // A listing error that names no entry: which documents it hid is unknown, so the whole
        // source counts as failed once the rest is read.
        let mut unplaced: Option<std::io::Error> = None;
        for entry in walker {
            let event = match entry {
                Ok(entry) => match self.visit_entry(&canonical_root, &entry) {
                    Some(event) => event,
                    None => continue,
                },
                Err(err) => {
                    let folder = err
                        .path()
                        .filter(|_| err.depth() > 0)
                        .and_then(|path| path.strip_prefix(&self.root).ok())
                        .and_then(relative_id);
                    let Some(folder) = folder else {
                        let listing = std::io::Error::new(
                            err.io_error()
                                .map_or(std::io::ErrorKind::Other, std::io::Error::kind),
                            format!(
                                "source folder {} cannot be listed: {}; what it held is kept as it was",
                                self.root.display(),
                                listing_cause(&err)
                            ),
                        );
                        if err.depth() == 0 {
                            return Err(listing);
                        }
                        unplaced.get_or_insert(listing);
                        continue;
                    };
                    // A folder removed once its parent was listed is gone, with all below it.
                    if err.io_error().map(std::io::Error::kind)
                        == Some(std::io::ErrorKind::NotFound)
                        && err
                            .path()
                            .is_some_and(|path| fs::symlink_metadata(path).is_err())
                    {
                        let event = SourceEvent::Warning(SourceWarning {
                            doc_id: folder,
                            message: GONE_WHILE_READ.to_owned(),
                        });
                        if visit(event).is_break() {
                            return Ok(());
                        }
                        continue;
                    }
                    // What is below an entry that cannot be listed is unknown: every document
                    // there failed (it is not gone).
                    SourceEvent::FolderError(SourceItemError {
                        doc_id: folder,
                        message: format!(
                            "cannot list: {}; the documents below it are kept as they were",
                            listing_cause(&err)
                        ),
                    })
                }
            };
            documents += usize::from(!matches!(event, SourceEvent::Warning(_)));
            if visit(event).is_break() {
                return Ok(());
            }
        }
        if let Some(err) = unplaced {
            return Err(err);
        }
        if documents == 0 {
            // A pattern that names hidden files or folders finds none unless they are read.
            let hidden_named = !self.hidden
                && self.include_globs.iter().any(|glob| {
                    relative_glob(glob)
                        .split('/')
                        .any(|part| part.starts_with('.') && part != "." && part != "..")
                });
            let advice = match hidden_named {
                true => {
                    "; hidden files and folders (names starting with `.`) are skipped unless `hidden: true`"
                }
                false => "",
            };
            let (root, include) = (self.shown_root(), globs_shown(&self.include_globs));
            let message = if self.exclude_leaves_out_all(&canonical_root) {
                format!(
                    "found no files in {root} (include: {include}): `exclude` ({}) leaves out every file `include` picks; check `exclude`",
                    globs_shown(&self.exclude_globs)
                )
            } else {
                format!(
                    "found no files in {root} (include: {include}); check `path` and `include`{advice}"
                )
            };
            let _ = visit(SourceEvent::Warning(SourceWarning {
                doc_id: String::new(),
                message,
            }));
        }
        Ok(())
    }
}

impl FileSource {
    /// Whether `include` picks files below the root that `exclude` leaves out, for a source
    /// that found none.
    fn exclude_leaves_out_all(&self, canonical_root: &Path) -> bool {
        !self.exclude_globs.is_empty()
            && self
                .walk_excluding(canonical_root, GlobSet::empty())
                .flatten()
                .any(|entry| {
                    !entry.file_type().is_dir()
                        && entry
                            .path()
                            .strip_prefix(&self.root)
                            .is_ok_and(|relative| self.included(relative))
                })
    }
}

/// Why a walk could not go on: the system's error, without walkdir's repeat of the path.
fn listing_cause(err: &walkdir::Error) -> String {
    match err.io_error() {
        Some(io) => io.to_string(),
        None => err.to_string(),
    }
}

/// Whether a walked entry is one of the `skipped` paths.
fn is_skipped(
    skipped: &[PathBuf],
    canonical_root: &Path,
    root: &Path,
    entry: &walkdir::DirEntry,
) -> bool {
    if skipped.is_empty() {
        return false;
    }
    let Ok(relative) = entry.path().strip_prefix(root) else {
        return false;
    };
    let path = canonical_root.join(relative);
    skipped.contains(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: &str) -> FilesConfig {
        FilesConfig {
            path: path.to_owned(),
            include: default_include(),
            exclude: Vec::new(),
            hidden: false,
            max_bytes: default_max_bytes(),
            id_prefix: String::new(),
        }
    }

    /// A file listed as a regular file and replaced by a FIFO before it is read is refused at
    /// once: its open waited for a writer for ever, and the run with it.
    #[test]
    fn a_file_turned_into_a_fifo_after_the_listing_is_refused_not_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.md");
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        let source = FileSource::new(&config("."), dir.path()).unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(source.read(&path, "f.md"));
        });
        let read = finished
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the read returned");
        let err = read.unwrap_err();
        assert!(err.contains("not a regular file"), "{err}");
    }

    /// The listing `engine run --watch` compares: the files the source picks (not the hidden,
    /// excluded or skipped ones), each with its length, so that a write, an addition or a
    /// removal changes it and a file the source does not read does not.
    #[test]
    fn a_listing_changes_with_the_files_the_source_reads_alone() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("a.md"), "a").unwrap();
        fs::write(root.join("sub/c.md"), "c").unwrap();
        fs::write(root.join(".hidden.md"), "h").unwrap();
        fs::write(root.join("notes.txt"), "n").unwrap();
        fs::write(root.join("out.md"), "sink").unwrap();
        let mut config = config(".");
        config.include = vec!["**/*.md".to_owned()];
        let source = FileSource::new(&config, root)
            .unwrap()
            .skipping([root.join("out.md")]);
        let ids = |listing: &super::super::Listing| {
            listing
                .iter()
                .map(|(id, ..)| id.clone())
                .collect::<Vec<_>>()
        };
        let before = source.listing();
        assert_eq!(ids(&before), ["a.md", "sub/c.md"]);
        fs::write(root.join("notes.txt"), "not read").unwrap();
        fs::write(root.join("out.md"), "written by a sink").unwrap();
        assert_eq!(source.listing(), before);
        fs::write(root.join("a.md"), "a, longer").unwrap();
        let written = source.listing();
        assert_ne!(written, before);
        fs::write(root.join("sub/d.md"), "d").unwrap();
        assert_eq!(ids(&source.listing()), ["a.md", "sub/c.md", "sub/d.md"]);
        fs::remove_file(root.join("a.md")).unwrap();
        assert_eq!(ids(&source.listing()), ["sub/c.md", "sub/d.md"]);
    }

    /// Without `id_prefix` the settings serialize as before it existed, so the fingerprints of
    /// existing pipelines (and the work their stores keep) stay; a control character in it is
    /// refused.
    #[test]
    fn an_unset_id_prefix_leaves_the_settings_as_they_were() {
        let settings = serde_json::to_value(config("docs")).unwrap();
        assert!(settings.get("id_prefix").is_none(), "{settings}");
        let mut prefixed = config("docs");
        prefixed.id_prefix = "wiki/".to_owned();
        assert!(prefixed.problems().is_empty());
        prefixed.id_prefix = "wiki\n".to_owned();
        let problems = prefixed.problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, "id_prefix");
    }

    fn scan_all(source: &mut FileSource) -> Vec<SourceEvent> {
        let mut events = Vec::new();
        source
            .scan(&mut |event| {
                events.push(event);
                ControlFlow::Continue(())
            })
            .unwrap();
        events
    }

    fn ids(events: &[SourceEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|event| match event {
                SourceEvent::Document(doc) => Some(doc.doc_id.clone()),
                _ => None,
            })
            .collect()
    }

    /// `./` before a glob says nothing and a `/` after one names a folder; a folder that
    /// `exclude` leaves out whole is not even listed (one that cannot be, `lost+found`, was an
    /// error in every run).
    #[test]
    fn globs_read_as_paths_below_the_root_and_excluded_folders_are_not_listed() {
        assert_eq!(relative_glob("./**/*.md"), "**/*.md");
        assert_eq!(relative_glob(".//a.md"), "a.md");
        assert_eq!(relative_glob("/a.md"), "a.md");
        assert_eq!(relative_glob("a.md"), "**/a.md");
        assert_eq!(relative_glob("*.md"), "**/*.md");
        assert_eq!(relative_glob("docs/*.md"), "docs/*.md");
        assert_eq!(relative_glob("drafts/"), "**/drafts/**");
        assert_eq!(relative_glob("drafts//"), "**/drafts/**");
        assert_eq!(relative_glob("./drafts/"), "drafts/**");
        assert_eq!(relative_glob("**/*.md"), "**/*.md");
        let exclude = glob_set(&[
            "private/**".to_owned(),
            "**/node_modules/".to_owned(),
            "build".to_owned(),
            "*.log".to_owned(),
        ])
        .unwrap();
        assert!(excluded_folder(&exclude, Path::new("private")));
        assert!(excluded_folder(&exclude, Path::new("web/node_modules")));
        assert!(excluded_folder(&exclude, Path::new("web/build")));
        assert!(!excluded_folder(&exclude, Path::new("public")));
        assert!(!excluded_folder(&exclude, Path::new("web/private")));

        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("private")).unwrap();
        fs::create_dir_all(dir.path().join("docs")).unwrap();
        fs::write(dir.path().join("docs/a.md"), "a").unwrap();
        fs::write(dir.path().join("private/b.md"), "b").unwrap();
        // Listing `private` would say this link is broken.
        std::os::unix::fs::symlink("/nonexistent", dir.path().join("private/gone.md")).unwrap();
        let mut cfg = config("root");
        cfg.path = dir.path().display().to_string();
        cfg.include = vec!["./**/*.md".to_owned()];
        cfg.exclude = vec!["./private/".to_owned()];
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        assert_eq!(ids(&events), vec!["docs/a.md"]);
        assert_eq!(events.len(), 1, "nothing said of `private`: {events:?}");
    }

    /// The largest `max_bytes` a pipeline can give (u64::MAX) overflowed the read's bound and
    /// panicked: the whole source failed.
    #[test]
    fn the_largest_max_bytes_reads_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.md"), "a").unwrap();
        let mut cfg = config("root");
        cfg.path = dir.path().display().to_string();
        cfg.max_bytes = u64::MAX;
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        assert_eq!(ids(&scan_all(&mut source)), vec!["a.md"]);
    }

    /// A pattern without a `/` names a file or folder at any depth, as in `.gitignore`:
    /// `exclude: ["e.md"]` left `sub/e.md` in, and `exclude: ["build"]` left every file of a
    /// `build` folder in. A leading `/` keeps a pattern to the root.
    #[test]
    fn a_name_without_a_slash_matches_at_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "e.md",
            "a.md",
            "sub/e.md",
            "sub/a.md",
            "sub/build/x.md",
            "build/y.md",
        ] {
            let path = dir.path().join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "x").unwrap();
        }
        let mut cfg = config("root");
        cfg.path = dir.path().display().to_string();
        cfg.exclude = vec!["e.md".to_owned(), "build".to_owned()];
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        assert_eq!(ids(&scan_all(&mut source)), vec!["a.md", "sub/a.md"]);
        cfg.exclude = vec!["/e.md".to_owned(), "./build/".to_owned()];
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        assert_eq!(
            ids(&scan_all(&mut source)),
            vec!["a.md", "sub/a.md", "sub/build/x.md", "sub/e.md"]
        );
        cfg.exclude = Vec::new();
        cfg.include = vec!["e.md".to_owned()];
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        assert_eq!(ids(&scan_all(&mut source)), vec!["e.md", "sub/e.md"]);
        // A folder's name takes all below it, as with a `/` after it (it took nothing).
        for include in ["build", "/build", "build/", "sub/build"] {
            cfg.include = vec![include.to_owned()];
            let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
            let expected = match include {
                "build" | "build/" => vec!["build/y.md", "sub/build/x.md"],
                "/build" => vec!["build/y.md"],
                _ => vec!["sub/build/x.md"],
            };
            assert_eq!(ids(&scan_all(&mut source)), expected, "{include}");
        }
        // `*` stays within a folder, as in `.gitignore`; trailing spaces say nothing.
        for (include, expected) in [
            ("/*.md", vec!["a.md", "e.md"]),
            ("sub/*.md", vec!["sub/a.md", "sub/e.md"]),
            (
                "*.md",
                vec![
                    "a.md",
                    "build/y.md",
                    "e.md",
                    "sub/a.md",
                    "sub/build/x.md",
                    "sub/e.md",
                ],
            ),
            ("a.md  ", vec!["a.md", "sub/a.md"]),
            // An escaped space is one (no file here has it; the glob is valid).
            ("a.md\\ ", vec![]),
        ] {
            cfg.include = vec![include.to_owned()];
            let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
            assert_eq!(ids(&scan_all(&mut source)), expected, "{include:?}");
        }
        // A `.gitignore` negation is refused, not read as a name.
        cfg.exclude = vec!["!README.md".to_owned()];
        let problems = cfg.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].1.contains("negation"), "{problems:?}");
        // The name it gives for a file whose name starts with `!` is one.
        let escaped = glob_set(&["\\!x.md".to_owned()]).unwrap();
        assert!(escaped.is_match("!x.md") && escaped.is_match("sub/!x.md"));
    }

    /// An `include` that names hidden files finds none unless `hidden: true`, and says so.
    #[test]
    fn no_files_named_hidden_says_hidden_files_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".notes")).unwrap();
        fs::write(dir.path().join(".notes/a.md"), "a").unwrap();
        let mut cfg = config("root");
        cfg.path = dir.path().display().to_string();
        cfg.include = vec![".notes/**".to_owned()];
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        let said = events.iter().any(|event| {
            matches!(event, SourceEvent::Warning(w) if w.message.contains("unless `hidden: true`"))
        });
        assert!(said, "{events:?}");
        cfg.hidden = true;
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        assert_eq!(ids(&scan_all(&mut source)), vec![".notes/a.md"]);
    }

    #[test]
    fn lists_files_in_path_order_with_globs_and_hashes() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("b/c")).unwrap();
        fs::write(dir.path().join("b/c/z.md"), "z").unwrap();
        fs::write(dir.path().join("a.txt"), "a").unwrap();
        fs::write(dir.path().join("b/skip.log"), "s").unwrap();
        fs::write(dir.path().join(".hidden.md"), "h").unwrap();
        let mut cfg = config("root");
        cfg.path = dir.path().display().to_string();
        cfg.exclude = vec!["**/*.log".to_owned()];
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        assert_eq!(ids(&events), vec!["a.txt", "b/c/z.md"]);
        let SourceEvent::Document(doc) = &events[0] else {
            panic!()
        };
        assert_eq!(doc.hash, blake3::hash(b"a").to_hex().to_string());
    }

    #[test]
    fn never_follows_a_symlink_out_of_the_root() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("inside.txt"), "in").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            dir.path().join("link.txt"),
        )
        .unwrap();
        std::os::unix::fs::symlink(dir.path().join("inside.txt"), dir.path().join("alias.txt"))
            .unwrap();
        let mut source =
            FileSource::new(&config(&dir.path().display().to_string()), Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        assert_eq!(ids(&events), vec!["inside.txt"]);
        assert!(events.iter().any(|event| matches!(event,
            SourceEvent::Warning(w) if w.doc_id == "link.txt" && w.message.contains("outside"))));
    }

    /// Symlinks inside the root: one to a file read under its own name is skipped (it was a
    /// second document of the same text), one to a file the patterns do not pick is read, and
    /// one to a folder or a FIFO is named in a warning (they were passed over in silence).
    #[cfg(unix)]
    #[test]
    fn symlinks_inside_the_root_index_nothing_twice_and_say_what_they_skip() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("real")).unwrap();
        fs::write(dir.path().join("real/x.md"), "x").unwrap();
        fs::write(dir.path().join("notes.txt"), "n").unwrap();
        symlink(dir.path().join("real"), dir.path().join("linkdir")).unwrap();
        symlink(dir.path().join("real/x.md"), dir.path().join("alias.md")).unwrap();
        symlink(dir.path().join("notes.txt"), dir.path().join("notes.md")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("pipe"))
            .status();
        assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        symlink(dir.path().join("pipe"), dir.path().join("piped.md")).unwrap();
        let mut cfg = config(&dir.path().display().to_string());
        cfg.include = vec!["**/*.md".to_owned()];
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        assert_eq!(ids(&events), vec!["notes.md", "real/x.md"]);
        let warned = |id: &str, part: &str| {
            events.iter().any(|event| {
                matches!(event, SourceEvent::Warning(w) if w.doc_id == id && w.message.contains(part))
            })
        };
        assert!(warned(
            "alias.md",
            "`real/x.md`, which is read under its own name"
        ));
        assert!(warned("linkdir", "symlink to the folder `real`"));
        assert!(warned("piped.md", "FIFO"));
    }

    /// A file removed between the listing of its folder and its read is gone, not failed.
    #[test]
    fn a_file_removed_after_its_folder_was_listed_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.md"), "a").unwrap();
        fs::write(dir.path().join("b.md"), "b").unwrap();
        let mut source =
            FileSource::new(&config(&dir.path().display().to_string()), Path::new("/")).unwrap();
        let mut events = Vec::new();
        source
            .scan(&mut |event| {
                if matches!(&event, SourceEvent::Document(doc) if doc.doc_id == "a.md") {
                    fs::remove_file(dir.path().join("b.md")).unwrap();
                }
                events.push(event);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(ids(&events), vec!["a.md"]);
        assert!(
            events.iter().any(|event| matches!(event,
                SourceEvent::Warning(w) if w.doc_id == "b.md" && w.message.contains("taken as gone"))),
            "{events:?}"
        );
    }

    /// So is a folder removed after the folder holding it was listed: its documents are gone,
    /// where they failed as a folder that cannot be listed (a run exited 1 on a folder being
    /// synced).
    #[test]
    fn a_folder_removed_after_its_parent_was_listed_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["a", "b"] {
            fs::create_dir_all(dir.path().join(folder)).unwrap();
            fs::write(dir.path().join(folder).join("doc.md"), folder).unwrap();
        }
        let mut source =
            FileSource::new(&config(&dir.path().display().to_string()), Path::new("/")).unwrap();
        let mut events = Vec::new();
        source
            .scan(&mut |event| {
                if matches!(&event, SourceEvent::Document(doc) if doc.doc_id == "a/doc.md") {
                    fs::remove_dir_all(dir.path().join("b")).unwrap();
                }
                events.push(event);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(ids(&events), vec!["a/doc.md"]);
        assert!(
            !events
                .iter()
                .any(|event| matches!(event, SourceEvent::FolderError(_))),
            "{events:?}"
        );
        assert!(
            events.iter().any(|event| matches!(event,
                SourceEvent::Warning(w) if w.doc_id.starts_with('b') && w.message.contains("taken as gone"))),
            "{events:?}"
        );
    }

    /// A FIFO or socket the patterns pick is never opened (a FIFO blocks the open) but is
    /// named in a warning; one they do not pick is passed over in silence.
    #[test]
    fn fifos_and_sockets_are_skipped_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.md"), "a").unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("pipe.md"))
            .status();
        assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("s.md")).unwrap();
        let _other = std::os::unix::net::UnixListener::bind(dir.path().join("s.sock")).unwrap();
        let mut cfg = config(&dir.path().display().to_string());
        cfg.include = vec!["**/*.md".to_owned()];
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        assert_eq!(ids(&events), vec!["a.md"]);
        let mut warned: Vec<&str> = events
            .iter()
            .filter_map(|event| match event {
                SourceEvent::Warning(w) if w.message.contains("not a regular file") => {
                    Some(w.doc_id.as_str())
                }
                _ => None,
            })
            .collect();
        warned.sort_unstable();
        assert_eq!(warned, ["pipe.md", "s.md"]);
    }

    #[test]
    fn oversized_files_become_error_records() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("big.txt"), "0123456789").unwrap();
        fs::write(dir.path().join("small.txt"), "01").unwrap();
        let mut cfg = config(&dir.path().display().to_string());
        cfg.max_bytes = 5;
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        assert_eq!(ids(&events), vec!["small.txt"]);
        assert!(matches!(&events[0], SourceEvent::Error(e) if e.doc_id == "big.txt"));
    }

    #[test]
    fn a_missing_root_is_an_error_of_the_whole_source() {
        let mut source = FileSource::new(&config("/nonexistent/root"), Path::new("/")).unwrap();
        let err = source.scan(&mut |_| ControlFlow::Continue(())).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/root"));
    }

    #[test]
    fn a_documents_source_is_named_from_the_pipeline_not_the_working_folder() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("pipelines")).unwrap();
        fs::create_dir_all(dir.path().join("corpus/a")).unwrap();
        fs::write(dir.path().join("corpus/a/x.md"), "x").unwrap();
        let cfg = config("./../corpus");
        let sources: Vec<String> = [dir.path().join("pipelines"), dir.path().join("pipelines/.")]
            .iter()
            .map(|base| {
                let mut source = FileSource::new(&cfg, base).unwrap();
                match &scan_all(&mut source)[0] {
                    SourceEvent::Document(doc) => doc.source.clone(),
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        assert_eq!(sources, ["../corpus/a/x.md", "../corpus/a/x.md"]);
        assert_eq!(
            crate::source::normalize(Path::new("a/./b/../../../c")),
            Path::new("../c")
        );
    }

    #[test]
    fn the_pipelines_own_store_and_outputs_are_never_read() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("store/db")).unwrap();
        fs::write(dir.path().join("store/db/db"), "sled").unwrap();
        fs::write(dir.path().join("doc.md"), "doc").unwrap();
        fs::write(dir.path().join("out.jsonl"), "{}").unwrap();
        fs::write(dir.path().join("out.jsonl.partial"), "{}").unwrap();
        let cfg = config(&dir.path().display().to_string());
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap().skipping([
            dir.path().join("store"),
            dir.path().join("./out.jsonl"),
            dir.path().join("out.jsonl.partial"),
        ]);
        assert_eq!(ids(&scan_all(&mut source)), ["doc.md"]);
    }

    #[test]
    fn a_folder_with_no_matching_file_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("doc.md"), "doc").unwrap();
        let mut cfg = config(&dir.path().display().to_string());
        cfg.include = vec!["**/*.mdx".to_owned()];
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        assert!(
            matches!(&events[..], [SourceEvent::Warning(w)]
                if w.message.contains("found no files") && w.message.contains("**/*.mdx")),
            "{events:?}"
        );
    }

    /// An `exclude` that left out every file got "check `path` and `include`", neither of
    /// which was wrong: the warning now names `exclude`, and only when it is the cause.
    #[test]
    fn a_folder_whose_files_exclude_leaves_out_names_exclude() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/doc.md"), "doc").unwrap();
        let warning = |include: &str, exclude: &str| {
            let mut cfg = config(&dir.path().display().to_string());
            cfg.include = vec![include.to_owned()];
            cfg.exclude = vec![exclude.to_owned()];
            let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
            match &scan_all(&mut source)[..] {
                [SourceEvent::Warning(w)] => w.message.clone(),
                events => panic!("{events:?}"),
            }
        };
        for exclude in ["**", "sub/", "*.md"] {
            let message = warning("**/*", exclude);
            assert!(
                message.contains(&format!(
                    "`exclude` ([\"{exclude}\"]) leaves out every file"
                )) && message.ends_with("check `exclude`"),
                "{message}"
            );
        }
        let message = warning("**/*.txt", "*.md");
        assert!(
            message.contains("check `path` and `include`") && !message.contains("`exclude`"),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn names_that_differ_only_in_bytes_that_are_not_utf8_stay_two_documents() {
        use std::os::unix::ffi::OsStrExt;

        let dir = tempfile::tempdir().unwrap();
        for (byte, text) in [(0xffu8, "alpha"), (0xfe, "beta")] {
            let bytes = [b'd', b'u', b'p', byte, b'.', b't', b'x', b't'];
            fs::write(dir.path().join(std::ffi::OsStr::from_bytes(&bytes)), text).unwrap();
        }
        let cfg = config(&dir.path().display().to_string());
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        assert_eq!(
            ids(&scan_all(&mut source)),
            ["dup\\xFE.txt", "dup\\xFF.txt"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_name_that_reads_as_an_escape_is_not_the_name_with_that_byte() {
        use std::os::unix::ffi::OsStrExt;

        let dir = tempfile::tempdir().unwrap();
        for name in [
            &b"a\\xFF.md"[..],
            b"a\xFF.md",
            b"a\\xff.md",
            b"a\\b.md",
            b"a\xFF\\x41.md",
            "plain \u{e9}.md".as_bytes(),
        ] {
            fs::write(dir.path().join(std::ffi::OsStr::from_bytes(name)), "x").unwrap();
        }
        let cfg = config(&dir.path().display().to_string());
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let mut found = ids(&scan_all(&mut source));
        found.sort();
        let mut expected = [
            // A name that holds `\xFF` literally: its backslash doubled.
            "a\\\\xFF.md",
            // The byte 0xFF.
            "a\\xFF.md",
            // Names with nothing that reads as an escape are themselves.
            "a\\xff.md",
            "a\\b.md",
            "plain \u{e9}.md",
            // The byte 0xFF, then `\x41` literally: that backslash doubled.
            "a\\xFF\\\\x41.md",
        ];
        expected.sort();
        assert_eq!(found, expected);
    }

    /// A tree where `sub-folder-whose-name-is-long` cannot be listed though `a.md` beside it
    /// can be read: the root is named with enough `./` that the folder's path is longer than
    /// the system takes (ENAMETOOLONG), which fails for every user, root too.
    #[cfg(target_os = "linux")]
    fn tree_with_a_folder_too_deep_to_list() -> (tempfile::TempDir, FilesConfig) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        fs::create_dir_all(root.join("sub-folder-whose-name-is-long")).unwrap();
        fs::write(root.join("a.md"), "a").unwrap();
        fs::write(root.join("sub-folder-whose-name-is-long/b.md"), "b").unwrap();
        let prefix = dir.path().display().to_string();
        let padding = "./".repeat((4070 - prefix.len() - 4) / 2);
        let path = format!("{prefix}/{padding}src");
        assert!(path.len() + "/a.md".len() < 4095);
        assert!(path.len() + "/sub-folder-whose-name-is-long".len() > 4096);
        (dir, config(&path))
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_folder_that_cannot_be_listed_fails_every_document_below_it() {
        let (_dir, cfg) = tree_with_a_folder_too_deep_to_list();
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        assert_eq!(ids(&events), ["a.md"]);
        assert!(
            events.iter().any(|event| matches!(event,
                SourceEvent::FolderError(e) if e.doc_id == "sub-folder-whose-name-is-long"
                    && e.message.contains("cannot list"))),
            "{events:?}"
        );
    }

    /// Whether this process runs as root (which no permission bit stops).
    #[cfg(unix)]
    fn is_root() -> bool {
        use std::os::unix::fs::MetadataExt;
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().metadata().unwrap().uid() == 0
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_folders_fail_their_documents_or_the_whole_source() {
        use std::os::unix::fs::PermissionsExt;

        if is_root() {
            eprintln!(
                "running as root: permissions cannot hide a folder (see the ENAMETOOLONG test)"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("a.md"), "a").unwrap();
        fs::write(dir.path().join("sub/b.md"), "b").unwrap();
        let cfg = config(&dir.path().display().to_string());
        let mode = |path: &Path, mode| {
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap()
        };
        mode(&dir.path().join("sub"), 0o000);
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        mode(&dir.path().join("sub"), 0o755);
        assert_eq!(ids(&events), ["a.md"]);
        assert!(
            events.iter().any(|event| matches!(event,
                SourceEvent::FolderError(e) if e.doc_id == "sub")),
            "{events:?}"
        );
        mode(dir.path(), 0o000);
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let result = source.scan(&mut |_| ControlFlow::Continue(()));
        mode(dir.path(), 0o755);
        let err = result.unwrap_err();
        assert!(err.to_string().contains("cannot be listed"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_sink_file_in_a_folder_made_after_the_source_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("real")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        fs::write(dir.path().join("real/doc.md"), "doc").unwrap();
        let cfg = config(&dir.path().join("real").display().to_string());
        // Named through the link, in a folder not made yet when the source is built.
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap().skipping([
            dir.path().join("link/out/p.jsonl"),
            dir.path().join("link/out/p.jsonl.partial"),
            dir.path().join("link/store/../.store"),
        ]);
        fs::create_dir_all(dir.path().join("real/out")).unwrap();
        fs::write(dir.path().join("real/out/p.jsonl.partial"), "{}").unwrap();
        fs::write(dir.path().join("real/out/p.jsonl"), "{}").unwrap();
        fs::create_dir_all(dir.path().join("real/.store")).unwrap();
        assert_eq!(ids(&scan_all(&mut source)), ["doc.md"]);
    }

    #[test]
    fn a_sparse_terabyte_file_is_refused_by_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let file = fs::File::create(dir.path().join("sparse.txt")).unwrap();
        file.set_len(1 << 40).unwrap();
        let mut cfg = config(&dir.path().display().to_string());
        cfg.max_bytes = 1 << 20;
        let mut source = FileSource::new(&cfg, Path::new("/")).unwrap();
        let events = scan_all(&mut source);
        assert!(
            matches!(&events[..], [SourceEvent::Error(e)] if e.message.contains("larger than max_bytes")),
            "{events:?}"
        );
    }
}
