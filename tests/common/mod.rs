//! Helpers shared by the end-to-end tests: run the real binary, read its outputs.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `engine` binary under test.
pub fn engine() -> Command {
    Command::new(env!("CARGO_BIN_EXE_engine"))
}

/// Copies the `engine` binary under test to `to` (where another user may run it), once it
/// can be run: a child another test forks while the copy is being written holds the file open
/// for writing until that child execs, and running the copy then fails with "Text file busy".
pub fn copy_of_engine(to: &Path) {
    fs::copy(env!("CARGO_BIN_EXE_engine"), to).unwrap();
    for _ in 0..500 {
        match Command::new(to).arg("--version").output() {
            Err(err) if err.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(err) => panic!("{}: {err}", to.display()),
            Ok(_) => return,
        }
    }
    panic!("{} stayed busy", to.display());
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// ../shared/corpus, which must be there.
pub fn shared_corpus() -> PathBuf {
    let corpus = repo().join("../shared/corpus");
    assert!(
        corpus.join("MANIFEST.tsv").exists(),
        "../shared/corpus is missing"
    );
    corpus
}

/// Writes `yaml` to `dir/pipeline.yaml` and runs `engine ARGS dir/pipeline.yaml`.
pub fn engine_on(dir: &Path, args: &[&str], yaml: &str) -> Output {
    let file = dir.join("pipeline.yaml");
    fs::write(&file, yaml).unwrap();
    engine().args(args).arg(&file).output().unwrap()
}

/// Runs `engine run --json` on `dir/pipeline.yaml` as it is and parses the summary.
pub fn run_json(dir: &Path) -> (Option<i32>, Value) {
    run_file_json(&dir.join("pipeline.yaml"))
}

/// Runs `engine run --json` on the pipeline file `file` and parses the summary.
pub fn run_file_json(file: &Path) -> (Option<i32>, Value) {
    let output = engine().args(["run", "--json"]).arg(file).output().unwrap();
    let summary = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("no JSON summary; stderr: {}", stderr(&output)));
    (output.status.code(), summary)
}

/// `engine query --json ARGS` on `dir/pipeline.yaml`, which must succeed: its JSON.
pub fn query_json(dir: &Path, args: &[&str]) -> Value {
    let output = engine()
        .arg("query")
        .arg(dir.join("pipeline.yaml"))
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A pipeline of two branches (chunks of 400 and 120 characters), each embedded by the
/// model-free `hash` provider into an index (`index_a`, `index_b`), over the folder `docs`.
pub const TWO_INDEX_PIPELINE: &str = "version: 1\nname: idx\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk_a: { op: chunk.recursive, input: parse, size: 400, unit: chars }\n  chunk_b: { op: chunk.recursive, input: parse, size: 120, unit: chars }\n  embed_a: { op: embed, input: chunk_a, provider: hash, dim: 256 }\n  embed_b: { op: embed, input: chunk_b, provider: hash, dim: 256 }\n  index_a: { op: index.hybrid, input: embed_a }\n  index_b: { op: index.hybrid, input: embed_b }\n";

/// A folder with [`three_documents`] in `docs` and [`TWO_INDEX_PIPELINE`] as `pipeline.yaml`.
pub fn two_index_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    three_documents(&dir.path().join("docs"));
    fs::write(dir.path().join("pipeline.yaml"), TWO_INDEX_PIPELINE).unwrap();
    dir
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The JSON lines of a file.
pub fn lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The lines of a file, sorted: what it holds, whatever the order.
pub fn sorted_lines(path: &Path) -> Vec<String> {
    let mut lines: Vec<String> = fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// Serves `app` on 127.0.0.1 from a background thread (a tokio runtime of its own) for the rest
/// of the test; returns its address.
pub fn serve(app: axum::Router) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// Three short Markdown documents (threads, boxes, errors) in `docs`, created if need be.
pub fn three_documents(docs: &Path) {
    fs::create_dir_all(docs).unwrap();
    for (name, text) in [
        (
            "threads.md",
            "# Threads\n\nSpawning threads lets a program run code at the same time. Channels send messages between threads.\n\n## Mutex\n\nA mutex guards shared data so one thread at a time can change it.\n",
        ),
        (
            "boxes.md",
            "# Boxes\n\nA box stores data on the heap. Recursive types need a box because their size is unknown at compile time.\n",
        ),
        (
            "errors.md",
            "# Errors\n\nRecoverable errors use Result; unrecoverable errors panic. The question mark operator propagates errors.\n",
        ),
    ] {
        fs::write(docs.join(name), text).unwrap();
    }
}
