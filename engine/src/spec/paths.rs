//! The paths a pipeline reads and writes, checked before anything runs: inputs exist and are
//! what their step reads (a folder, a file); outputs can be created and overwrite nothing the
//! pipeline reads or another step writes; the store is a folder of its own.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::diagnostic::Diagnostic;
use super::load::{Step, StepOutline};
use super::yaml::LocatedValue;
use crate::registry::{PathKind, ReadPath, ReadScope};
use operators::source::files::FileSource;

/// A problem with a path: what is wrong and what to do.
pub struct Problem {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

fn problem(message: String, hint: impl Into<String>) -> Option<Problem> {
    Some(Problem {
        message,
        hint: hint.into(),
    })
}

/// A path that holds a line break (a `|` block scalar keeps one at its end), an error, or
/// starts or ends with white space, a warning: the file named would be `o.jsonl\n`, not
/// `o.jsonl`. `None` for a path without either.
pub fn blank_edges(key: &str, path: &str) -> Option<(bool, Problem)> {
    let shown = serde_json::Value::from(path);
    if path.contains(['\n', '\r']) {
        return Some((
            true,
            Problem {
                message: format!(
                    "`{key}` holds a line break: {shown}, a name no file is meant to have"
                ),
                hint: format!(
                    "write the path on the key's line (`{key}: out.jsonl`); a `|` block scalar keeps the line break at its end"
                ),
            },
        ));
    }
    let side = match (
        path.starts_with(char::is_whitespace),
        path.ends_with(char::is_whitespace),
    ) {
        (false, false) => return None,
        (true, false) => "starts",
        (false, true) => "ends",
        (true, true) => "starts and ends",
    };
    Some((
        false,
        Problem {
            message: format!(
                "`{key}` {side} with white space: {shown} names a file or folder whose name does too"
            ),
            hint: "remove the white space (quoted or not, it is part of the path)".to_owned(),
        },
    ))
}

/// What is wrong with an input path (`relative` to `base`) that must name a `kind`.
pub fn input_problem(base: &Path, relative: &str, kind: PathKind) -> Option<Problem> {
    // An empty path joins to the base itself: it read the pipeline's own folder unasked.
    if relative.trim().is_empty() {
        return problem(
            "the path is empty".to_owned(),
            match kind {
                PathKind::Folder => {
                    "name the folder of the documents (`.` for the pipeline file's own)"
                }
                PathKind::File | PathKind::Tokenizer => "name the file to read",
            },
        );
    }
    let resolved = base.join(relative);
    if !resolved.exists() {
        return problem(
            format!(
                "`{relative}` does not exist (looked for {})",
                resolved.display()
            ),
            "paths are relative to the pipeline file",
        );
    }
    match kind {
        PathKind::Folder if !resolved.is_dir() => problem(
            format!(
                "`{relative}` is a file, but this step reads the files below a folder ({})",
                resolved.display()
            ),
            "name the folder that holds it, and pick files with `include`",
        ),
        PathKind::File | PathKind::Tokenizer if resolved.is_dir() => problem(
            format!(
                "`{relative}` is a folder, but this step reads one file ({})",
                resolved.display()
            ),
            "name a file in it",
        ),
        PathKind::File | PathKind::Tokenizer if !resolved.is_file() => problem(
            format!(
                "`{relative}` is not a regular file but a FIFO, socket or device ({}): this step reads a file to its end",
                resolved.display()
            ),
            "write what it gives to a file, and name that file",
        ),
        PathKind::Tokenizer => operators::chunk::sizer::read_tokenizer(&resolved)
            .err()
            .and_then(|err| {
                problem(
                    format!("`{relative}` {err}"),
                    "name the tokenizer.json of the embedding model, e.g. `models/bge-small-en-v1.5/tokenizer.json`",
                )
            }),
        _ => None,
    }
}

/// What is wrong with an output file path (`relative` to `base`), if it cannot be created.
pub fn output_problem(base: &Path, relative: &str) -> Option<Problem> {
    if relative.is_empty() {
        return problem(
            "the path is empty; it must name a file".to_owned(),
            "e.g. `path: out/items.jsonl` (relative to the pipeline file)",
        );
    }
    let resolved = base.join(relative);
    if resolved.exists() && !resolved.is_dir() && !resolved.is_file() {
        return problem(
            format!(
                "`{relative}` is not a regular file but a FIFO, socket or device ({}): a sink writes a file, and would put one in its place",
                resolved.display()
            ),
            "name a file, e.g. `out/items.jsonl` (relative to the pipeline file)",
        );
    }
    if relative.ends_with('/') || resolved.is_dir() {
        return problem(
            format!(
                "`{relative}` is a folder ({}); the output is a file",
                resolved.display()
            ),
            format!(
                "name a file, e.g. `{}/items.jsonl`",
                relative.trim_end_matches('/')
            ),
        );
    }
    blocked_by_file(&resolved).and_then(|file| {
        problem(
            format!(
                "`{relative}` cannot be created: {} is a file, not a folder",
                file.display()
            ),
            "write somewhere else",
        )
    })
}

/// What is wrong with the `store` folder (relative to `base`).
pub fn store_problem(base: &Path, store: &str) -> Option<Problem> {
    let hint = "name a folder of its own, e.g. `store: .engine`";
    if store.is_empty() {
        return problem("the path is empty; it must name a folder".to_owned(), hint);
    }
    let resolved = base.join(store);
    if identity(&resolved) == identity(base) {
        return problem(
            format!("`{store}` is the pipeline's own folder; the store's files would go beside it"),
            hint,
        );
    }
    if resolved.exists() && !resolved.is_dir() {
        return problem(
            format!(
                "`{store}` is a file ({}); the store is a folder",
                resolved.display()
            ),
            hint,
        );
    }
    blocked_by_file(&resolved).and_then(|file| {
        problem(
            format!(
                "`{store}` cannot be created: {} is a file, not a folder",
                file.display()
            ),
            hint,
        )
    })
}

/// What is wrong with the `store` folder (relative to `base`) for a run, which makes it or
/// writes to it: a folder of the user's that is not a store, or one that cannot be created.
pub fn store_folder_problem(base: &Path, store: &str) -> Option<Problem> {
    let resolved = base.join(store);
    if !resolved.exists() {
        let (parent, why) = crate::store::unwritable_ancestor(&resolved)?;
        return problem(
            format!(
                "`{store}` cannot be created: {} cannot be written by this user ({why})",
                parent.display()
            ),
            "name a folder you can write (paths are relative to the pipeline file)",
        );
    }
    match crate::store::examine(&resolved) {
        Ok(crate::store::Folder::Other(names, count)) => problem(
            format!(
                "`{store}` is not a store of the engine: it already holds {}; the engine would put its files among them, and `engine gc` clean what it took for its own",
                crate::store::describe_entries(&names, count)
            ),
            "name a new or empty folder, e.g. `store: .engine` (the engine makes it)",
        ),
        _ => None,
    }
}

/// The nearest existing ancestor of `path` when it is not a folder (so `path` cannot be made).
fn blocked_by_file(path: &Path) -> Option<PathBuf> {
    crate::store::nearest_existing_ancestor(path)
        .filter(|ancestor| !ancestor.is_dir())
        .map(Path::to_owned)
}

/// One path as the file system sees it: absolute, without `.` and `..`, links resolved as far
/// as it exists, so `same.jsonl` and `./same.jsonl` compare equal.
pub fn identity(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut lexical = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !lexical.pop() {
                    lexical.push(component);
                }
            }
            other => lexical.push(other),
        }
    }
    if let Ok(real) = lexical.canonicalize() {
        return real;
    }
    match (lexical.parent(), lexical.file_name()) {
        (Some(parent), Some(name)) => match parent.canonicalize() {
            Ok(real) => real.join(name),
            Err(_) => lexical,
        },
        _ => lexical,
    }
}

/// Whether the file at `path` is what a sink writes: empty, or JSON lines whose first is an
/// object with a `doc_id` (every line a sink writes has one). Only the first line is read.
fn is_sink_output(path: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Line {
        #[allow(dead_code)]
        doc_id: String,
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut lines =
        serde_json::Deserializer::from_reader(std::io::BufReader::new(file)).into_iter::<Line>();
    matches!(lines.next(), None | Some(Ok(_)))
}

/// The JSON pointer of `key` in step `step`.
fn key_pointer(outlines: &[StepOutline], step: &str, key: &str) -> String {
    let step = outlines
        .iter()
        .find(|outline| outline.name == step)
        .map(|outline| outline.pointer.as_str())
        .unwrap_or_default();
    format!("{step}/{key}")
}

/// Sources whose folder is the store or lies inside it (a source never reads the store, so it
/// would find nothing), and outputs inside the store (a sink's file there would damage it).
pub fn paths_in_store(
    doc: &LocatedValue,
    steps: &[Step],
    outlines: &[StepOutline],
    base: &Path,
    store: &str,
) -> Vec<Diagnostic> {
    let store_dir = identity(&base.join(store));
    let inside = |relative: &str| identity(&base.join(relative)).starts_with(&store_dir);
    let mut diagnostics = Vec::new();
    for step in steps {
        let sources = (step.config.input_paths().into_iter())
            .filter(|(_, relative, kind)| *kind == PathKind::Folder && inside(relative))
            .map(|(key, relative, _)| {
                (
                    key,
                    format!(
                        "`{relative}` is inside the pipeline's store `{store}`, which sources never read: this step would find nothing"
                    ),
                    "give `store` a folder of its own, outside the documents (e.g. `store: .engine`)",
                )
            });
        let sinks = (step.config.output_paths().into_iter())
            .filter(|(_, relative)| inside(relative))
            .map(|(key, relative)| {
                (
                    key,
                    format!(
                        "`{relative}` is inside the pipeline's store `{store}`, whose files are the engine's own: writing it there would damage the store"
                    ),
                    "write outside the store, e.g. `path: out/items.jsonl`",
                )
            });
        for (key, message, hint) in sources.chain(sinks).collect::<Vec<_>>() {
            diagnostics.push(
                Diagnostic::error(
                    doc.value_pos(&key_pointer(outlines, &step.name, key)),
                    message,
                )
                .in_step(&step.name)
                .at_key(key)
                .with_hint(Some(hint.to_owned())),
            );
        }
    }
    diagnostics
}

/// Entries walked below a `source.files` folder to find a file that two sources both read.
const SAMPLED_ENTRIES: usize = 10_000;
/// Files tried against another source's settings, in all: past that, no more pairs are
/// checked (thousands of sources over one large folder stay quick to validate).
const OVERLAP_CHECKS: usize = 1_000_000;

/// `source.files` steps that read one folder, or one inside the other's, where some file is
/// read by both (by their `include`, `exclude` and `hidden`): it is read twice, as two
/// documents (under two ids when the folders differ), so every chunk of it is found twice. A
/// warning at the inner one's `path`, naming such a file. The files looked at are those there
/// now (the first [`SAMPLED_ENTRIES`] entries below the inner folder).
pub fn overlapping_sources(
    doc: &LocatedValue,
    steps: &[Step],
    outlines: &[StepOutline],
    base: &Path,
) -> Vec<Diagnostic> {
    /// A `source.files` step: its name, `path` as written, the folder, what it reads, and
    /// (once needed) a sample of the files it reads.
    struct Source<'a> {
        step: &'a str,
        path: &'a str,
        folder: PathBuf,
        reader: FileSource,
        sample: std::cell::OnceCell<Vec<PathBuf>>,
    }
    let sources: Vec<Source> = steps
        .iter()
        .filter_map(|step| match &step.config {
            crate::registry::OperatorConfig::SourceFiles(config) => Some(Source {
                step: &step.name,
                path: &config.path,
                folder: identity(&base.join(&config.path)),
                reader: FileSource::new(config, base).ok()?,
                sample: std::cell::OnceCell::new(),
            }),
            _ => None,
        })
        .collect();
    let mut diagnostics = Vec::new();
    // One warning a step: 2,000 steps reading one folder made four million, 515 MB of them.
    let mut warned = std::collections::HashSet::new();
    let mut checks_left = OVERLAP_CHECKS;
    for (k, a) in sources.iter().enumerate() {
        for b in &sources[k + 1..] {
            let (outer, inner) = match (
                b.folder.starts_with(&a.folder),
                a.folder.starts_with(&b.folder),
            ) {
                (true, _) => (a, b),
                (_, true) => (b, a),
                _ => continue,
            };
            if warned.contains(inner.step) || checks_left == 0 {
                continue;
            }
            let below = inner
                .folder
                .strip_prefix(&outer.folder)
                .unwrap_or(Path::new(""));
            let sample = inner
                .sample
                .get_or_init(|| inner.reader.sample(SAMPLED_ENTRIES));
            let shared = sample.iter().find(|file| {
                checks_left = checks_left.saturating_sub(1);
                checks_left > 0 && outer.reader.picks(&below.join(file))
            });
            let Some(shared) = shared else {
                continue;
            };
            warned.insert(inner.step);
            let shared = shared.display();
            let (message, hint) = if below.as_os_str().is_empty() {
                (
                    format!(
                        "`{}` is the folder step `{}` reads too, and both read some of its files (`{shared}` among them): those documents are read twice",
                        inner.path, outer.step
                    ),
                    "remove one of the two steps, or give them `include` or `exclude` that leave no file to both".to_owned(),
                )
            } else {
                let folder = globset::escape(&below.to_string_lossy());
                (
                    format!(
                        "`{}` lies inside `{}`, which step `{}` reads too, and both read some of its files (`{shared}` among them): those documents are read twice, under two ids",
                        inner.path, outer.path, outer.step
                    ),
                    format!(
                        "remove one of the two steps, or leave the folder out of `{}` with `exclude: [\"/{folder}/\"]`",
                        outer.step
                    ),
                )
            };
            diagnostics.push(
                Diagnostic::warning(
                    doc.value_pos(&key_pointer(outlines, inner.step, "path")),
                    message,
                )
                .in_step(inner.step)
                .at_key("path")
                .with_hint(Some(hint)),
            );
        }
    }
    diagnostics
}

/// The paths steps read, by scope and path, each with the position of its first read: what
/// reads a written path is found in the time of a lookup per folder above it.
struct ReadIndex<'a>(HashMap<(ReadScope, &'a Path), usize>);

impl<'a> ReadIndex<'a> {
    fn of(reads: &'a [(&str, ReadPath)]) -> Self {
        let mut index = HashMap::new();
        for (i, (_, read)) in reads.iter().enumerate() {
            index.entry((read.scope, read.path.as_path())).or_insert(i);
        }
        ReadIndex(index)
    }

    /// The first read of `scope` that takes in `written`: the file itself for
    /// [`ReadScope::File`], a folder it lies in (or is) otherwise.
    fn first(&self, written: &Path, scope: ReadScope) -> Option<usize> {
        match scope {
            ReadScope::File => self.0.get(&(scope, written)).copied(),
            ReadScope::Documents | ReadScope::Folder => (written.ancestors())
                .filter_map(|folder| self.0.get(&(scope, folder)).copied())
                .min(),
        }
    }
}

/// Outputs that would overwrite what the pipeline reads: the pipeline file itself, a file a
/// step reads (a `source.jsonl` file, a tokenizer, a model file, the onnxruntime library),
/// anything inside an ONNX model's folder, a file of the user's below a `source.files` folder
/// (anything there but a sink's own earlier output), or a file that another step writes.
pub fn conflicts(
    doc: &LocatedValue,
    steps: &[Step],
    outlines: &[StepOutline],
    base: &Path,
    file: &Path,
) -> Vec<Diagnostic> {
    // Maps, not scans: thousands of sinks took seconds in all-pairs path comparisons.
    let pointers: HashMap<&str, &str> = (outlines.iter())
        .map(|outline| (outline.name.as_str(), outline.pointer.as_str()))
        .collect();
    let pointer = |step: &str, key: &str| {
        format!("{}/{key}", pointers.get(step).copied().unwrap_or_default())
    };
    let pipeline_file = identity(file);
    let reads: Vec<(&str, ReadPath)> = (steps.iter())
        .flat_map(|step| {
            (step.config.read_paths(base).into_iter()).map(|read| {
                let path = identity(&read.path);
                (step.name.as_str(), ReadPath { path, ..read })
            })
        })
        .collect();
    let read_index = ReadIndex::of(&reads);
    let read_as =
        |written: &Path, scope: ReadScope| read_index.first(written, scope).map(|i| &reads[i]);
    // The first step that writes each file, and its key.
    let mut writes: HashMap<PathBuf, (&str, &str)> = HashMap::new();
    let mut diagnostics = Vec::new();
    for step in steps {
        for (key, relative) in step.config.output_paths() {
            let written = identity(&base.join(relative));
            let at = doc.value_pos(&pointer(&step.name, key));
            let clash = |message: String, hint: &str| {
                Diagnostic::error(at, message)
                    .in_step(&step.name)
                    .at_key(key)
                    .with_hint(Some(hint.to_owned()))
            };
            let line =
                |reader: &str, read_key: &str| doc.value_pos(&pointer(reader, read_key)).line;
            if written == pipeline_file {
                diagnostics.push(clash(
                    format!("`{relative}` is this pipeline file; the run would overwrite it"),
                    "write the output to another file",
                ));
            } else if let Some((reader, read)) = read_as(&written, ReadScope::File) {
                diagnostics.push(clash(
                    format!(
                        "`{relative}` is the file step `{reader}` reads (line {}); the run would overwrite its own input",
                        line(reader, read.key)
                    ),
                    "write the output to another file",
                ));
            } else if let Some((reader, read)) = read_as(&written, ReadScope::Folder) {
                diagnostics.push(clash(
                    format!(
                        "`{relative}` is inside the model folder step `{reader}` reads (line {}); the run would overwrite or add to the model's files",
                        line(reader, read.key)
                    ),
                    "write the output outside the model folder, e.g. `path: out/items.jsonl`",
                ));
            } else if let Some((reader, read)) = read_as(&written, ReadScope::Documents)
                .filter(|_| written.is_file() && !is_sink_output(&written))
            {
                diagnostics.push(clash(
                    format!(
                        "`{relative}` is a file below the folder step `{reader}` reads (line {}), and not JSON lines a sink wrote; the run would overwrite it",
                        line(reader, read.key)
                    ),
                    "write the output to a file that is not there yet (a sink replaces only its own earlier output), or move that file away first",
                ));
            } else if let Some((writer, write_key)) = writes.get(&written) {
                diagnostics.push(clash(
                    format!(
                        "`{relative}` is also the file step `{writer}` writes (line {}); one would overwrite the other",
                        doc.value_pos(&pointer(writer, write_key)).line
                    ),
                    "give each sink a file of its own",
                ));
            }
            writes.entry(written).or_insert((&step.name, key));
        }
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two sources of one folder, or of a folder and one inside it, that both read some file
    /// there read it twice: a warning; with `include`s that pick no file in common (Markdown
    /// from one, PDF from the other) they share nothing, and get none.
    #[test]
    fn sources_that_read_one_folder_twice_are_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs/sub")).unwrap();
        for file in ["docs/a.md", "docs/b.txt", "docs/sub/c.md"] {
            std::fs::write(dir.path().join(file), "# x\n").unwrap();
        }
        let warnings = |sources: &str| {
            let text = format!(
                "version: 1\nname: t\nsteps:\n{sources}  parse: {{ op: parse, input: [a, b] }}\n  out: {{ op: sink.jsonl, input: parse, path: out.jsonl }}\n"
            );
            let (_, report) =
                crate::spec::load::load_str(&dir.path().join("p.yaml"), &text).unwrap();
            report.to_string()
        };
        let twice = warnings(
            "  a: { op: source.files, path: docs }\n  b: { op: source.files, path: ./docs/ }\n",
        );
        assert!(
            twice.contains("`./docs/` is the folder step `a` reads too, and both read some of its files (`a.md` among them)"),
            "{twice}"
        );
        let inside = warnings(
            "  a: { op: source.files, path: docs/sub }\n  b: { op: source.files, path: docs }\n",
        );
        assert!(
            inside.contains("`docs/sub` lies inside `docs`, which step `b` reads too"),
            "{inside}"
        );
        assert!(
            inside.contains("p.yaml:4:"),
            "at the inner one's path: {inside}"
        );
        let same = warnings(
            "  a: { op: source.files, path: docs, include: [\"**/*.md\", \"**/*.txt\"] }\n  b: { op: source.files, path: docs, include: [\"./**/*.txt\", \"**/*.md\"] }\n",
        );
        assert!(
            same.contains("read twice"),
            "the same globs, written otherwise: {same}"
        );
        let split = warnings(
            "  a: { op: source.files, path: docs, include: [\"**/*.md\"] }\n  b: { op: source.files, path: docs, include: [\"**/*.pdf\"] }\n",
        );
        assert!(!split.contains("twice"), "{split}");
        // Many sources of one folder: one warning each, not one a pair.
        let many: String = (0..40)
            .map(|i| format!("  s{i}: {{ op: source.files, path: docs }}\n"))
            .collect();
        let text = format!(
            "version: 1\nname: t\nsteps:\n{many}  parse: {{ op: parse, input: [{}] }}\n  out: {{ op: sink.jsonl, input: parse, path: out.jsonl }}\n",
            (0..40)
                .map(|i| format!("s{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let (_, report) = crate::spec::load::load_str(&dir.path().join("p.yaml"), &text).unwrap();
        let twice = (report.diagnostics.iter()).filter(|d| d.message.contains("read twice"));
        assert_eq!(twice.count(), 39);
    }

    /// The warning of a folder inside another's follows `exclude`: however the outer source
    /// leaves the folder out (the hint's way among them), or when the inner one reads nothing,
    /// no file is read twice, and none is said to be.
    #[test]
    fn sources_that_share_no_file_are_not_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("corpus/sub")).unwrap();
        std::fs::write(dir.path().join("corpus/a.md"), "# top\n").unwrap();
        std::fs::write(dir.path().join("corpus/sub/b.md"), "# sub\n").unwrap();
        let report = |all: &str, sub: &str| {
            let text = format!(
                "version: 1\nname: t\nsteps:\n  all: {{ op: source.files, path: corpus{all} }}\n  sub: {{ op: source.files, path: corpus/sub{sub} }}\n  parse: {{ op: parse, input: [all, sub] }}\n  out: {{ op: sink.jsonl, input: parse, path: out.jsonl }}\n"
            );
            let (_, report) =
                crate::spec::load::load_str(&dir.path().join("p.yaml"), &text).unwrap();
            report.to_string()
        };
        let warned = report("", "");
        assert!(
            warned.contains("`corpus/sub` lies inside `corpus`, which step `all` reads too, and both read some of its files (`b.md` among them)"),
            "{warned}"
        );
        let hint = "leave the folder out of `all` with `exclude: [\"/sub/\"]`";
        assert!(warned.contains(hint), "{warned}");
        for spelling in ["/sub/", "sub/", "sub", "/sub", "sub/**", "**/b.md"] {
            let excluded = report(&format!(", exclude: [\"{spelling}\"]"), "");
            assert!(!excluded.contains("read twice"), "{spelling}: {excluded}");
        }
        let nothing = report("", ", exclude: [\"**\"]");
        assert!(!nothing.contains("read twice"), "{nothing}");
        let other_files = report(", include: [\"*.txt\"]", "");
        assert!(!other_files.contains("read twice"), "{other_files}");
        let still = report(", exclude: [\"other/\"]", "");
        assert!(still.contains("read twice"), "{still}");
    }

    /// A sink may write over nothing a model step reads: the model file, its tokenizer, any
    /// file in the model folder, the onnxruntime library, nor a semantic chunker's model.
    #[test]
    fn sinks_over_what_a_model_step_reads_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir_all(base.join("model")).unwrap();
        std::fs::create_dir_all(base.join("lib")).unwrap();
        std::fs::write(base.join("model/model.onnx"), b"not a model").unwrap();
        let tokenizer = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../models/bge-small-en-v1.5/tokenizer.json"
        ))
        .unwrap();
        std::fs::write(base.join("model/tokenizer.json"), tokenizer).unwrap();
        std::fs::write(base.join("lib/libonnxruntime.so"), b"not a library").unwrap();
        std::fs::write(base.join("docs.jsonl"), b"").unwrap();
        let errors = |embedder: &str, sink: &str| {
            let text = format!(
                "version: 1\nname: t\nsteps:\n  docs: {{ op: source.jsonl, path: docs.jsonl }}\n  parse: {{ op: parse, input: docs }}\n{embedder}  out: {{ op: sink.jsonl, input: parse, path: {sink} }}\n"
            );
            match crate::spec::load::load_str(&base.join("p.yaml"), &text) {
                Ok(_) => String::new(),
                Err(report) => report.to_string(),
            }
        };
        let embed = "  chunk: { op: chunk.recursive, input: parse, size: 50 }\n  embed: { op: embed, input: chunk, provider: onnx, model: model, runtime: lib/libonnxruntime.so }\n";
        for (sink, needle) in [
            (
                "model/model.onnx",
                "is the file step `embed` reads (line 7)",
            ),
            (
                "./model/tokenizer.json",
                "is the file step `embed` reads (line 7)",
            ),
            (
                "lib/libonnxruntime.so",
                "is the file step `embed` reads (line 7)",
            ),
            (
                "model/notes.jsonl",
                "is inside the model folder step `embed` reads (line 7)",
            ),
            (
                "model/sub/out.jsonl",
                "is inside the model folder step `embed` reads",
            ),
        ] {
            let report = errors(embed, sink);
            assert!(
                report.contains(needle) && report.contains("p.yaml:8:"),
                "{sink}: {report}"
            );
        }
        assert_eq!(errors(embed, "out.jsonl"), "", "elsewhere is fine");
        let semantic = "  chunk: { op: chunk.semantic, input: parse, size: 50, embedding: { provider: onnx, model: model, runtime: lib/libonnxruntime.so } }\n";
        for sink in [
            "model/model.onnx",
            "model/other.jsonl",
            "lib/libonnxruntime.so",
        ] {
            let report = errors(semantic, sink);
            assert!(
                report.contains("step `chunk` reads (line 6)"),
                "{sink}: {report}"
            );
        }
    }

    #[test]
    fn paths_that_name_one_file_are_one_identity() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir_all(base.join("sub")).unwrap();
        assert_eq!(
            identity(&base.join("same.jsonl")),
            identity(&base.join("./same.jsonl"))
        );
        assert_eq!(
            identity(&base.join("sub/../same.jsonl")),
            identity(&base.join("same.jsonl"))
        );
        assert_ne!(
            identity(&base.join("sub/same.jsonl")),
            identity(&base.join("same.jsonl"))
        );
    }

    #[test]
    fn outputs_and_the_store_must_be_creatable() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir_all(base.join("folder")).unwrap();
        std::fs::write(base.join("file"), b"x").unwrap();
        let output = |path: &str| output_problem(base, path).map(|p| p.message);
        assert!(output("").unwrap().contains("empty"));
        assert!(output("folder").unwrap().contains("is a folder"));
        assert!(output("new/").unwrap().contains("is a folder"));
        assert!(
            output("file/out.jsonl")
                .unwrap()
                .contains("is a file, not a folder")
        );
        assert!(output("file").is_none(), "an existing file is replaced");
        assert!(output("new/out.jsonl").is_none());
        let store = |path: &str| store_problem(base, path).map(|p| p.message);
        assert!(store("").unwrap().contains("empty"));
        assert!(store(".").unwrap().contains("the pipeline's own folder"));
        assert!(store("./").unwrap().contains("the pipeline's own folder"));
        assert!(store("file").unwrap().contains("is a file"));
        assert!(
            store("file/db")
                .unwrap()
                .contains("is a file, not a folder")
        );
        assert!(store(".engine").is_none());
        assert!(store("folder").is_none());
    }

    /// A run's store is a new or empty folder, or a store; one it cannot create is said with
    /// the folder that refuses.
    #[test]
    fn a_store_folder_is_new_empty_or_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        let store = |path: &str| store_folder_problem(base, path).map(|p| p.message);
        assert!(store("new/store").is_none());
        std::fs::create_dir_all(base.join("empty")).unwrap();
        assert!(store("empty").is_none());
        std::fs::create_dir_all(base.join("mine/indexes/legacy")).unwrap();
        std::fs::write(base.join("mine/notes.txt"), "mine").unwrap();
        let mine = store("mine").unwrap();
        assert!(
            mine.contains(
                "`mine` is not a store of the engine: it already holds `indexes`, `notes.txt`"
            ),
            "{mine}"
        );
        crate::store::Store::open(&base.join("made")).unwrap();
        assert!(store("made").is_none(), "a store the engine made");
        // Nobody may make a folder in a process's /proc entry.
        let unwritable = store("/proc/1/store").unwrap();
        assert!(
            unwritable.contains(
                "`/proc/1/store` cannot be created: /proc/1 cannot be written by this user"
            ),
            "{unwritable}"
        );
        // Root writes whatever the permissions say (/proc/self is the process's own).
        use std::os::unix::fs::MetadataExt;
        if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
            return;
        }
        // Without root, a folder without write permission refuses too.
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(base.join("ro")).unwrap();
        std::fs::set_permissions(base.join("ro"), std::fs::Permissions::from_mode(0o555)).unwrap();
        let refused = store("ro/store").unwrap();
        assert!(
            refused.contains("cannot be written by this user"),
            "{refused}"
        );
    }

    #[test]
    fn inputs_must_be_of_their_kind() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir_all(base.join("folder")).unwrap();
        std::fs::write(base.join("file"), b"x").unwrap();
        let input = |path: &str, kind| input_problem(base, path, kind).map(|p| p.message);
        assert!(input("folder", PathKind::Folder).is_none());
        assert!(input("file", PathKind::File).is_none());
        assert!(
            input("file", PathKind::Folder)
                .unwrap()
                .contains("is a file")
        );
        assert!(
            input("folder", PathKind::File)
                .unwrap()
                .contains("is a folder")
        );
        assert!(
            input("gone", PathKind::File)
                .unwrap()
                .contains("does not exist")
        );
        // An empty path read the pipeline's own folder without a word.
        for kind in [PathKind::Folder, PathKind::File] {
            assert_eq!(input("", kind).as_deref(), Some("the path is empty"));
            assert_eq!(input("  ", kind).as_deref(), Some("the path is empty"));
        }
        assert!(input(".", PathKind::Folder).is_none());
        // A device (and so a FIFO or socket) never ends: not a file to read.
        std::os::unix::fs::symlink("/dev/zero", base.join("zero")).unwrap();
        assert!(
            input("zero", PathKind::File)
                .unwrap()
                .contains("not a regular file")
        );
    }
}
