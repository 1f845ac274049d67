//! `sink.jsonl`: one JSON object per line, written to a temporary file and moved into place only
//! when the run completes, so an interrupted run never leaves a truncated output behind. An
//! output dropped before it is moved into place (a cancelled run) removes its temporary file;
//! only a process killed outright leaves one, which the next run writes over.

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Settings of `sink.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonlSinkConfig {
    /// The output file (relative to the pipeline file); its folder is created.
    pub path: String,
}

/// Writes JSON lines to a file.
#[derive(Debug)]
pub struct JsonlSink {
    path: PathBuf,
    partial: PathBuf,
    writer: BufWriter<fs::File>,
}

impl JsonlSink {
    /// The files a sink with `config` writes, resolved against `base`: the output, and the
    /// `.partial` file it is written to first.
    pub fn files(config: &JsonlSinkConfig, base: &Path) -> [PathBuf; 2] {
        let path = base.join(&config.path);
        let mut partial = path.clone().into_os_string();
        partial.push(".partial");
        [path, PathBuf::from(partial)]
    }

    /// Opens `config.path` resolved against `base` for writing (through a `.partial` file).
    pub fn create(config: &JsonlSinkConfig, base: &Path) -> std::io::Result<Self> {
        let [path, partial] = Self::files(config, base);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|err| {
                std::io::Error::new(
                    err.kind(),
                    format!("cannot create the folder {}: {err}", parent.display()),
                )
            })?;
        }
        let file = fs::File::create(&partial).map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!("cannot create {}: {err}", partial.display()),
            )
        })?;
        Ok(JsonlSink {
            path,
            partial,
            writer: BufWriter::with_capacity(1 << 16, file),
        })
    }

    /// Appends one value as a line.
    pub fn write<T: Serialize + ?Sized>(&mut self, value: &T) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.writer, value)?;
        self.writer.write_all(b"\n")
    }

    /// Copies the lines of the output in place (the previous run's) whose `doc_id` passes `keep`
    /// to the output being written: the lines of documents that failed in this run stay as they
    /// were. A previous output that is missing or cannot be read keeps nothing; a line that is
    /// not a JSON object with a `doc_id` is not copied.
    pub fn keep_previous(&mut self, keep: impl Fn(&str) -> bool) -> std::io::Result<usize> {
        #[derive(Deserialize)]
        struct Line {
            doc_id: String,
        }
        let Ok(previous) = fs::File::open(&self.path) else {
            return Ok(0);
        };
        let mut previous = BufReader::new(previous);
        let mut line = Vec::new();
        let mut kept = 0;
        loop {
            line.clear();
            match previous.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let Ok(Line { doc_id }) = serde_json::from_slice::<Line>(text) else {
                continue;
            };
            if keep(&doc_id) {
                self.writer.write_all(text)?;
                self.writer.write_all(b"\n")?;
                kept += 1;
            }
        }
        Ok(kept)
    }

    /// Flushes and syncs the file; [`Written::publish`] then moves it into place.
    pub fn finish(mut self) -> std::io::Result<Written> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        // The file is the `Written`'s now: this sink's drop leaves it.
        Ok(Written {
            path: std::mem::take(&mut self.path),
            partial: std::mem::take(&mut self.partial),
        })
    }
}

/// A sink dropped unfinished (a cancelled run, a failure) removes its `.partial` file.
impl Drop for JsonlSink {
    fn drop(&mut self) {
        remove_partial(&self.partial);
    }
}

/// Removes an unpublished `.partial` file (none when `partial` is empty: handed on or moved
/// into place).
fn remove_partial(partial: &Path) {
    if !partial.as_os_str().is_empty() {
        let _ = fs::remove_file(partial);
    }
}

/// A complete output, on disk beside its place.
#[derive(Debug)]
pub struct Written {
    path: PathBuf,
    partial: PathBuf,
}

impl Written {
    /// Moves the output into place.
    pub fn publish(mut self) -> std::io::Result<PathBuf> {
        fs::rename(&self.partial, &self.path)?;
        self.partial = PathBuf::new();
        Ok(std::mem::take(&mut self.path))
    }
}

/// An output never published (the run was cancelled after this sink finished) removes its
/// `.partial` file.
impl Drop for Written {
    fn drop(&mut self) {
        remove_partial(&self.partial);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_appears_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let config = JsonlSinkConfig {
            path: "out/a.jsonl".to_owned(),
        };
        let mut sink = JsonlSink::create(&config, dir.path()).unwrap();
        sink.write(&serde_json::json!({"a": 1})).unwrap();
        assert!(!dir.path().join("out/a.jsonl").exists());
        let written = sink.finish().unwrap();
        assert!(
            !dir.path().join("out/a.jsonl").exists(),
            "not before it is published"
        );
        let path = written.publish().unwrap();
        assert_eq!(fs::read_to_string(path).unwrap(), "{\"a\":1}\n");
    }

    /// An output never published (a cancelled run drops its sinks, before or after they
    /// finish) leaves no `.partial` file, and the previous output as it was.
    #[test]
    fn an_unpublished_output_removes_its_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = JsonlSinkConfig {
            path: "out/a.jsonl".to_owned(),
        };
        let [path, partial] = JsonlSink::files(&config, dir.path());
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "previous\n").unwrap();
        let mut sink = JsonlSink::create(&config, dir.path()).unwrap();
        sink.write(&serde_json::json!({"a": 1})).unwrap();
        assert!(partial.exists());
        drop(sink);
        assert!(!partial.exists());
        let mut sink = JsonlSink::create(&config, dir.path()).unwrap();
        sink.write(&serde_json::json!({"a": 1})).unwrap();
        let written = sink.finish().unwrap();
        assert!(partial.exists());
        drop(written);
        assert!(!partial.exists());
        assert_eq!(fs::read_to_string(&path).unwrap(), "previous\n");
    }

    #[test]
    fn the_previous_lines_of_chosen_documents_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let config = JsonlSinkConfig {
            path: "out.jsonl".to_owned(),
        };
        fs::write(
            dir.path().join("out.jsonl"),
            "{\"doc_id\":\"a\",\"n\":1}\n{\"doc_id\":\"b\"}\nnot json\n{\"doc_id\":\"a\",\"n\":2}",
        )
        .unwrap();
        let mut sink = JsonlSink::create(&config, dir.path()).unwrap();
        sink.write(&serde_json::json!({"doc_id": "c"})).unwrap();
        assert_eq!(sink.keep_previous(|doc_id| doc_id == "a").unwrap(), 2);
        let path = sink.finish().unwrap().publish().unwrap();
        assert_eq!(
            fs::read_to_string(path).unwrap(),
            "{\"doc_id\":\"c\"}\n{\"doc_id\":\"a\",\"n\":1}\n{\"doc_id\":\"a\",\"n\":2}\n"
        );
    }
}
