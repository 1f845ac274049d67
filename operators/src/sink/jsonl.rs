//! `sink.jsonl`: one JSON object per line, written to a temporary file and moved into place only
//! when the run completes, so an interrupted run never leaves a truncated output behind. An
//! output dropped before it is moved into place (a cancelled run) removes its temporary file;
//! only a process killed outright leaves one, which the next run writes over.
//!
//! Items arrive in whatever order the run's workers finish them; each is written as it comes,
//! with its place in the output's order ([`JsonlSink::start_item`]), and [`JsonlSink::finish`]
//! puts the lines in that order, so identical runs write identical files.

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
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
    /// Bytes written so far.
    written: u64,
    /// Where each item's lines start in the file, with the item's place in the output's order.
    items: Vec<(u128, u64)>,
    /// Items whose lines are left out of the output ([`JsonlSink::drop_item`]), ascending.
    dropped: Vec<usize>,
    /// One line, encoded.
    line: Vec<u8>,
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
            written: 0,
            items: Vec::new(),
            dropped: Vec::new(),
            line: Vec::new(),
        })
    }

    /// Starts an item: the lines written until the next item belong to it, and go where `order`
    /// puts them among the output's items (items of equal order stay in the order written).
    /// Lines written before the first item come first. Returns the item's number, for
    /// [`JsonlSink::drop_item`].
    pub fn start_item(&mut self, order: u128) -> usize {
        self.items.push((order, self.written));
        self.items.len() - 1
    }

    /// Leaves the lines of item `item` (a number [`JsonlSink::start_item`] returned) out of
    /// the output.
    pub fn drop_item(&mut self, item: usize) {
        if let Err(at) = self.dropped.binary_search(&item) {
            self.dropped.insert(at, item);
        }
    }

    /// Appends one value as a line.
    pub fn write<T: Serialize + ?Sized>(&mut self, value: &T) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value)?;
        self.line.push(b'\n');
        self.write_line()
    }

    /// Appends `self.line`, which ends with a line break.
    fn write_line(&mut self) -> std::io::Result<()> {
        self.writer.write_all(&self.line)?;
        self.written += self.line.len() as u64;
        Ok(())
    }

    /// Copies the lines of the output in place (the previous run's) whose `doc_id` passes `keep`
    /// to the output being written, after every item and in their previous order: the lines of
    /// documents that failed in this run stay as they were. A previous output that is missing
    /// or cannot be read keeps nothing; a line that is not a JSON object with a `doc_id` is not
    /// copied.
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
        self.start_item(u128::MAX);
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
                self.line.clear();
                self.line.extend_from_slice(text);
                self.line.push(b'\n');
                self.write_line()?;
                kept += 1;
            }
        }
        Ok(kept)
    }

    /// Puts the items in order, flushes and syncs the file; [`Written::publish`] then moves it
    /// into place.
    pub fn finish(mut self) -> std::io::Result<Written> {
        self.writer.flush()?;
        self.put_in_order()?;
        // With the permissions of the output it replaces (a user's `chmod` stays).
        if let Ok(previous) = fs::metadata(&self.path) {
            fs::set_permissions(&self.partial, previous.permissions())?;
        }
        self.writer.get_ref().sync_all()?;
        // The file is the `Written`'s now: this sink's drop leaves it.
        Ok(Written {
            path: std::mem::take(&mut self.path),
            partial: std::mem::take(&mut self.partial),
        })
    }
}

impl JsonlSink {
    /// Rewrites the file with its items in order, without the dropped ones, when they were not
    /// written so: the items' lines are copied in order to a new file beside it, which then
    /// takes its place.
    fn put_in_order(&mut self) -> std::io::Result<()> {
        if self.items.is_sorted_by_key(|&(order, _)| order) && self.dropped.is_empty() {
            return Ok(());
        }
        let mut spans: Vec<(u128, u64, u64)> = Vec::with_capacity(self.items.len() + 1);
        if self.items.first().is_some_and(|&(_, start)| start > 0) {
            spans.push((0, 0, self.items[0].1));
        }
        for (index, &(order, start)) in self.items.iter().enumerate() {
            if self.dropped.binary_search(&index).is_ok() {
                continue;
            }
            let end = self
                .items
                .get(index + 1)
                .map_or(self.written, |next| next.1);
            spans.push((order, start, end));
        }
        spans.sort_by_key(|&(order, _, _)| order);
        let folder = self.partial.parent().unwrap_or(Path::new("."));
        let ordered = tempfile::NamedTempFile::new_in(folder)?;
        let mut unordered = fs::File::open(&self.partial)?;
        // A temporary file is private (0600); the output is made as any file (the umask).
        fs::set_permissions(ordered.path(), unordered.metadata()?.permissions())?;
        {
            let mut out = BufWriter::with_capacity(1 << 16, ordered.as_file());
            for (_, start, end) in spans {
                unordered.seek(SeekFrom::Start(start))?;
                let copied = std::io::copy(&mut (&mut unordered).take(end - start), &mut out)?;
                if copied != end - start {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!(
                            "{} is shorter than what was written",
                            self.partial.display()
                        ),
                    ));
                }
            }
            out.flush()?;
        }
        let file = ordered.persist(&self.partial).map_err(|err| err.error)?;
        self.writer = BufWriter::with_capacity(1 << 16, file);
        Ok(())
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
    /// The rename that [`Written::publish`] does: (the complete output, its place).
    pub fn rename(&self) -> (PathBuf, PathBuf) {
        (self.partial.clone(), self.path.clone())
    }

    /// Moves the output into place (it has the permissions of the output it replaces).
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

    /// A dropped item's lines are left out, whether the items came in order or not.
    #[test]
    fn dropped_items_are_left_out() {
        for orders in [[1, 2, 3], [3, 1, 2]] {
            let dir = tempfile::tempdir().unwrap();
            let config = JsonlSinkConfig {
                path: "out.jsonl".to_owned(),
            };
            let mut sink = JsonlSink::create(&config, dir.path()).unwrap();
            let mut numbers = Vec::new();
            for order in orders {
                numbers.push(sink.start_item(order));
                sink.write(&serde_json::json!({ "n": order })).unwrap();
            }
            sink.drop_item(numbers[1]);
            let path = sink.finish().unwrap().publish().unwrap();
            let kept: Vec<u128> = orders.iter().copied().filter(|&o| o != orders[1]).collect();
            let mut expected: Vec<String> =
                kept.iter().map(|n| format!("{{\"n\":{n}}}\n")).collect();
            expected.sort();
            assert_eq!(
                fs::read_to_string(path).unwrap(),
                expected.concat(),
                "{orders:?}"
            );
        }
    }

    /// Items written out of order are published in order (equal orders as written), after
    /// the lines written before the first item and before the previous run's kept lines.
    #[test]
    fn items_are_published_in_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let config = JsonlSinkConfig {
            path: "out.jsonl".to_owned(),
        };
        fs::write(dir.path().join("out.jsonl"), "{\"doc_id\":\"kept\"}\n").unwrap();
        let mut sink = JsonlSink::create(&config, dir.path()).unwrap();
        sink.write(&serde_json::json!({"n": "first"})).unwrap();
        for (order, lines) in [(3, ["3a", "3b"]), (1, ["1a", "1b"]), (3, ["3c", "3d"])] {
            sink.start_item(order);
            for n in lines {
                sink.write(&serde_json::json!({ "n": n })).unwrap();
            }
        }
        sink.start_item(2);
        sink.keep_previous(|doc_id| doc_id == "kept").unwrap();
        let path = sink.finish().unwrap().publish().unwrap();
        let lines: Vec<serde_json::Value> = fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let names: Vec<&str> = lines
            .iter()
            .map(|line| line["n"].as_str().or(line["doc_id"].as_str()).unwrap())
            .collect();
        assert_eq!(names, ["first", "1a", "1b", "3a", "3b", "3c", "3d", "kept"]);
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "only the output is left in its folder");
    }

    /// An output rewritten in order is made as any file is (not private, as temporary files
    /// are), and one that replaces an output keeps that output's permissions.
    #[cfg(unix)]
    #[test]
    fn outputs_keep_the_permissions_files_get() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let config = JsonlSinkConfig {
            path: "out.jsonl".to_owned(),
        };
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let write = || {
            let mut sink = JsonlSink::create(&config, dir.path()).unwrap();
            for order in [2, 1] {
                sink.start_item(order);
                sink.write(&serde_json::json!({ "n": order })).unwrap();
            }
            sink.finish().unwrap().publish().unwrap()
        };
        let path = write();
        let plain = dir.path().join("plain");
        fs::write(&plain, "").unwrap();
        assert_eq!(mode(&path), mode(&plain), "made as any file");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let path = write();
        assert_eq!(mode(&path), 0o640, "the replaced output's permissions");
    }
}
