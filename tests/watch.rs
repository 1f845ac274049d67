//! End-to-end tests of `engine run --watch` on the real binary.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::engine;
use serde_json::Value;

/// A run again when a file the source reads is added, and none when a file it does not read
/// changes or when its own sink writes below the source folder (`docs/parsed.md`, which the
/// include pattern takes: counted, each run would start the next); Ctrl-C ends watching with
/// the last run's exit code.
#[test]
fn run_watch_runs_again_when_a_file_the_source_reads_changes() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    common::three_documents(&docs);
    let file = dir.path().join("pipeline.yaml");
    fs::write(
        &file,
        "version: 1\nname: watched\nsteps:\n  docs: { op: source.files, path: docs, include: [\"**/*.md\"] }\n  parse: { op: parse, input: docs }\n  out: { op: sink.jsonl, input: parse, path: docs/parsed.md }\n",
    )
    .unwrap();
    let (mut watching, summaries) = watch(&file);
    let wait = Duration::from_secs(60);
    let first = summaries.recv_timeout(wait).expect("a first run");
    assert_eq!(first["status"], "ok", "{first}");
    assert_eq!(first["steps"]["parse"]["out"], 3);
    // Neither a file the source does not read nor the sink's output starts a run.
    fs::write(docs.join("notes.txt"), "not read").unwrap();
    assert!(
        summaries.recv_timeout(Duration::from_secs(2)).is_err(),
        "a run started with nothing the source reads changed"
    );
    fs::write(docs.join("zebra.md"), "# Zebras\n\nStripes.\n").unwrap();
    let second = summaries
        .recv_timeout(wait)
        .expect("a run after the change");
    assert_eq!(second["steps"]["parse"]["out"], 4, "{second}");
    assert_eq!(second["steps"]["parse"]["cached"], 3, "{second}");
    let status = Command::new("kill")
        .args(["-INT", &watching.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..600 {
        if let Some(exit) = watching.0.try_wait().unwrap() {
            assert_eq!(exit.code(), Some(0));
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("watching did not end at Ctrl-C");
}

/// `engine run --watch --json` of `file`, looking every 0.1 s, and the JSON lines it prints,
/// as they come.
fn watch(file: &Path) -> (Watching, mpsc::Receiver<Value>) {
    let mut watching = Watching(
        engine()
            .args(["run", "--watch", "--interval", "0.1", "--json"])
            .arg(file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (lines, summaries) = mpsc::channel::<Value>();
    let stdout = watching.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(serde_json::from_str(&line).unwrap());
        }
    });
    (watching, summaries)
}

/// A watching engine, killed if a test ends before it does.
struct Watching(std::process::Child);

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A run that finds the store in use by another process is run again once the store is free,
/// with nothing changed meanwhile: it waited for the next change of a document before.
#[test]
fn run_watch_runs_again_once_a_store_in_use_is_free() {
    let dir = tempfile::tempdir().unwrap();
    common::three_documents(&dir.path().join("docs"));
    let file = dir.path().join("pipeline.yaml");
    fs::write(
        &file,
        "version: 1\nname: watched\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  out: { op: sink.jsonl, input: parse, path: out/parsed.jsonl }\n",
    )
    .unwrap();
    // The store's lock, held here as another engine would hold it.
    fs::create_dir_all(dir.path().join(".engine")).unwrap();
    let held = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.path().join(".engine/lock"))
        .unwrap();
    held.lock().unwrap();
    let (_watching, summaries) = watch(&file);
    let wait = Duration::from_secs(60);
    let refused = summaries.recv_timeout(wait).expect("a first run");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("in use by process"), "{refused}");
    std::thread::sleep(Duration::from_millis(500));
    drop(held);
    let ran = (summaries.recv_timeout(wait)).expect("a run once the store is free");
    assert_eq!(ran["status"], "ok", "{ran}");
    assert_eq!(ran["steps"]["parse"]["out"], 3, "{ran}");
}

/// A tokenizer (or model) a step reads, replaced in place, starts a run, which redoes that
/// step's work: its fingerprint covers the file's contents.
#[test]
fn run_watch_runs_again_when_a_tokenizer_a_step_reads_changes() {
    let dir = tempfile::tempdir().unwrap();
    common::three_documents(&dir.path().join("docs"));
    let tokenizer = dir.path().join("tokenizer.json");
    let original =
        fs::read(common::repo().join("operators/tests/data/all-MiniLM-L6-v2.tokenizer.json"))
            .unwrap();
    fs::write(&tokenizer, &original).unwrap();
    let file = dir.path().join("pipeline.yaml");
    fs::write(
        &file,
        "version: 1\nname: watched\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 32, unit: tokens, tokenizer: tokenizer.json }\n  out: { op: sink.jsonl, input: chunk, path: out/chunks.jsonl }\n",
    )
    .unwrap();
    let (_watching, summaries) = watch(&file);
    let wait = Duration::from_secs(60);
    let first = summaries.recv_timeout(wait).expect("a first run");
    assert_eq!(first["status"], "ok", "{first}");
    // The same tokenizer, written out with a space more: another file, as far as any step
    // can tell.
    let mut edited = original.clone();
    edited.push(b' ');
    fs::write(&tokenizer, &edited).unwrap();
    let second = summaries
        .recv_timeout(wait)
        .expect("a run after the change");
    assert_eq!(second["steps"]["chunk"]["cached"], 0, "{second}");
    assert_eq!(second["steps"]["parse"]["cached"], 3, "{second}");
}
