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
    /// Globs (relative to the root) of the files to read.
    #[serde(default = "default_include")]
    pub include: Vec<String>,
    /// Globs of files to leave out, applied after `include`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Read hidden files and folders (names starting with `.`) too.
    #[serde(default)]
    pub hidden: bool,
    /// Files larger than this many bytes become error records instead of being read.
    #[serde(default = "default_max_bytes")]
    #[schemars(range(min = 1))]
    pub max_bytes: u64,
}

impl FilesConfig {
    /// Problems with the settings as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        for (key, globs) in [("include", &self.include), ("exclude", &self.exclude)] {
            for glob in globs {
                if let Err(err) = Glob::new(glob) {
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
    hidden: bool,
    max_bytes: u64,
}

fn glob_set(globs: &[String]) -> Result<GlobSet, globset::Error> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(Glob::new(glob)?);
    }
    builder.build()
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
            hidden: config.hidden,
            max_bytes: config.max_bytes,
        })
    }

    /// Never reads `paths` (files or folders, such as the pipeline's store and the files its
    /// sinks write) when they lie below the root.
    pub fn skipping(mut self, paths: impl IntoIterator<Item = PathBuf>) -> Self {
        self.skipped = paths.into_iter().map(|path| canonical(&path)).collect();
        self
    }

    /// The root folder this source reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn read(&self, path: &Path, doc_id: &str) -> Result<Vec<u8>, String> {
        let file = fs::File::open(path).map_err(|err| format!("cannot open: {err}"))?;
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
        file.take(self.max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| format!("cannot read: {err}"))?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(too_large());
        }
        Ok(bytes)
    }

    /// Decides what to do with one walked entry whose path is `path` (below the root).
    fn visit_entry(&self, canonical_root: &Path, entry: &walkdir::DirEntry) -> Option<SourceEvent> {
        let relative = entry.path().strip_prefix(&self.root).ok()?;
        let doc_id = relative_id(relative)?;
        let file_type = entry.file_type();
        if file_type.is_symlink() {
            match fs::canonicalize(entry.path()) {
                Ok(target) if !target.starts_with(canonical_root) => {
                    return Some(SourceEvent::Warning(SourceWarning {
                        doc_id,
                        message: "symlink points outside the source root; skipped".to_owned(),
                    }));
                }
                Ok(target) if target.is_file() => {}
                Ok(_) => return None,
                Err(err) => {
                    return Some(SourceEvent::Warning(SourceWarning {
                        doc_id,
                        message: format!("broken symlink ({err}); skipped"),
                    }));
                }
            }
        } else if !file_type.is_file() {
            return None;
        }
        if !self.include.is_match(relative) || self.exclude.is_match(relative) {
            return None;
        }
        Some(match self.read(entry.path(), &doc_id) {
            Ok(bytes) => SourceEvent::Document(Document::new(
                doc_id,
                self.named_root.join(relative).display().to_string(),
                bytes,
            )),
            Err(message) => SourceEvent::Error(SourceItemError { doc_id, message }),
        })
    }
}

/// `path` with symlinks resolved; for a file not yet written, its folder's resolved path.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(resolved) = fs::canonicalize(path) {
        return resolved;
    }
    match (path.parent(), path.file_name()) {
        (Some(folder), Some(name)) => fs::canonicalize(folder)
            .map(|folder| folder.join(name))
            .unwrap_or_else(|_| path.to_owned()),
        _ => path.to_owned(),
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

/// A file name as text, with every byte that is not UTF-8 written `\xFF`: two names that
/// differ only there stay two documents.
#[cfg(unix)]
fn name_text(name: &std::ffi::OsStr) -> String {
    use std::fmt::Write;
    use std::os::unix::ffi::OsStrExt;

    let mut text = String::new();
    for chunk in name.as_bytes().utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            let _ = write!(text, "\\x{byte:02X}");
        }
    }
    text
}

/// A file name as text (names elsewhere are Unicode already).
#[cfg(not(unix))]
fn name_text(name: &std::ffi::OsStr) -> String {
    name.to_string_lossy().into_owned()
}

fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
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
        let hidden = self.hidden;
        let skipped: Vec<&Path> = self
            .skipped
            .iter()
            .filter(|path| path.starts_with(&canonical_root))
            .map(PathBuf::as_path)
            .collect();
        let root = &self.root;
        let walked_root = canonical_root.clone();
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(move |entry| {
                (hidden || !is_hidden(entry)) && !is_skipped(&skipped, &walked_root, root, entry)
            });
        let mut documents = 0usize;
        for entry in walker {
            let event = match entry {
                Ok(entry) => match self.visit_entry(&canonical_root, &entry) {
                    Some(event) => event,
                    None => continue,
                },
                Err(err) => {
                    let doc_id = err
                        .path()
                        .and_then(|path| path.strip_prefix(&self.root).ok())
                        .and_then(relative_id)
                        .unwrap_or_else(|| self.root.display().to_string());
                    SourceEvent::Error(SourceItemError {
                        doc_id,
                        message: format!("cannot list: {err}"),
                    })
                }
            };
            documents += usize::from(!matches!(event, SourceEvent::Warning(_)));
            if visit(event).is_break() {
                return Ok(());
            }
        }
        if documents == 0 {
            let _ = visit(SourceEvent::Warning(SourceWarning {
                doc_id: String::new(),
                message: format!(
                    "found no files in {} (include: {}); check `path` and `include`",
                    self.root.display(),
                    self.include_globs.join(", ")
                ),
            }));
        }
        Ok(())
    }
}

/// Whether a walked entry is one of the `skipped` paths.
fn is_skipped(
    skipped: &[&Path],
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
    skipped.contains(&path.as_path())
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
        }
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
        assert_eq!(ids(&events), vec!["alias.txt", "inside.txt"]);
        assert!(events.iter().any(|event| matches!(event,
            SourceEvent::Warning(w) if w.doc_id == "link.txt" && w.message.contains("outside"))));
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
