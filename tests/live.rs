//! End-to-end tests of seeing a run while it runs: `engine runs`, `engine inspect` and
//! `engine tap` against a real `engine run` held mid-way by an embedding endpoint that answers
//! only when the test lets it. A run answers over a Unix socket, so these run on Unix only.
#![cfg(unix)]

mod common;

use common::{engine, stderr, stdout};

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Json, State};
use axum::routing::post;
use serde_json::{Value, json};

/// An embedding endpoint that holds every request until `open`.
#[derive(Default)]
struct Gate {
    open: AtomicBool,
    requests: AtomicUsize,
}

async fn embeddings(State(gate): State<Arc<Gate>>, Json(body): Json<Value>) -> Json<Value> {
    gate.requests.fetch_add(1, Ordering::SeqCst);
    while !gate.open.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let data: Vec<Value> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let length = text.as_str().unwrap().len() as f32;
            json!({ "index": index, "embedding": [length, 1.0, 0.5] })
        })
        .collect();
    Json(json!({ "data": data }))
}

/// An embedding endpoint holding every request until its gate opens, and its base URL.
fn gated_endpoint() -> (Arc<Gate>, String) {
    let gate = Arc::new(Gate::default());
    let app = Router::new()
        .route("/v1/embeddings", post(embeddings))
        .with_state(gate.clone());
    (gate, format!("http://{}/v1", common::serve(app)))
}

/// `engine tap --wait --json` of `pipeline` (in `dir`), once it waits: it listens in the store
/// for the run to call it.
fn waiting_tap(dir: &Path, pipeline: &Path) -> Running {
    let tap = Running::spawn(
        engine()
            .args(["tap", "--wait", "--json", "--pipeline"])
            .arg(pipeline)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let sockets = dir.join(".engine/taps");
    wait_for("the tap to wait", || {
        fs::read_dir(&sockets).is_ok_and(|mut entries| entries.next().is_some())
    });
    tap
}

/// Waits (at most a minute) until `ready` holds.
fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn json_of(args: &[&str], pipeline: &Path) -> Value {
    let output = engine()
        .args(args)
        .args(["--json", "--pipeline"])
        .arg(pipeline)
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap_or_else(|_| panic!("{}", stdout(&output)))
}

/// A child process, killed if a failed assertion unwinds before it ends.
struct Running(Option<Child>);

impl Running {
    fn spawn(command: &mut std::process::Command) -> Running {
        Running(Some(command.spawn().unwrap()))
    }

    fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }

    /// Waits for the end and takes what it printed.
    fn finish(mut self) -> std::process::Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_running_run_answers_runs_inspect_and_tap() {
    let (gate, base_url) = gated_endpoint();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    for i in 0..3 {
        fs::write(
            dir.path().join(format!("docs/{i}.md")),
            format!("# Doc {i}\n\nThe first paragraph of document {i}.\n\nAnd a second one.\n"),
        )
        .unwrap();
    }
    let pipeline = dir.path().join("pipeline.yaml");
    fs::write(
        &pipeline,
        format!(
            "version: 1\nname: live\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 40, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, batch_size: 64, backoff: 0.01, timeout: 120 }}\n  index: {{ op: index.hybrid, input: embed }}\n"
        ),
    )
    .unwrap();

    // A tap of every step as far as the third item, started before there is a run or a store.
    let mut tap_all = Running::spawn(
        engine()
            .args(["tap", "--wait", "--json", "--limit", "3", "--pipeline"])
            .arg(&pipeline)
            .stdout(Stdio::piped()),
    );
    let mut all_lines = BufReader::new(tap_all.child().stdout.take().unwrap()).lines();
    let running = Running::spawn(
        engine()
            .args(["run", "--json"])
            .arg(&pipeline)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    // The embed step is waiting on the endpoint: the run is mid-way.
    wait_for("the first embedding request", || {
        gate.requests.load(Ordering::SeqCst) > 0
    });

    let runs = json_of(&["runs"], &pipeline);
    assert_eq!(runs["runs"][0]["status"], "running", "{runs}");
    // A query of the index the run is building says so, not "run the pipeline first".
    let query = engine()
        .arg("query")
        .arg(&pipeline)
        .args(["--index", "index", "--mode", "bm25", "first paragraph"])
        .output()
        .unwrap();
    assert_eq!(query.status.code(), Some(2), "{}", stderr(&query));
    let run_id = runs["runs"][0]["run_id"].as_str().unwrap();
    assert!(
        stderr(&query).contains(&format!("run {run_id} of"))
            && stderr(&query).contains("is building it now"),
        "{}",
        stderr(&query)
    );
    wait_for("every chunk set", || {
        let run = json_of(&["inspect", "latest"], &pipeline);
        run["steps"]["chunk"]["out"] == 3
    });
    let run = json_of(&["inspect", "latest"], &pipeline);
    assert_eq!(run["steps"]["chunk"]["op"], "chunk.recursive", "{run}");
    assert_eq!(run["steps"]["embed"]["out"], 0, "{run}");
    let chunk = json_of(&["inspect", "latest", "--step", "chunk"], &pipeline);
    assert_eq!(chunk["documents"].as_array().unwrap().len(), 3, "{chunk}");
    let doc = json_of(&["inspect", "latest", "--doc", "1.md"], &pipeline);
    let steps: Vec<&str> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["docs", "parse", "chunk"], "{doc}");
    // A mistake is the run's answer, not "the store is in use".
    let unknown = engine()
        .args(["inspect", "latest", "--step", "chunks", "--pipeline"])
        .arg(&pipeline)
        .output()
        .unwrap();
    assert_eq!(
        unknown.status.code(),
        Some(2),
        "the run says the request was wrong"
    );
    assert!(
        stderr(&unknown).contains("has no step `chunks`"),
        "{}",
        stderr(&unknown)
    );

    // A tap of another pipeline sharing the store is told whose run this is, and a step the
    // pipeline lacks is refused at once, even waiting (it waited for ever).
    fs::write(
        dir.path().join("other.yaml"),
        "version: 1\nname: other\nstore: .engine\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n",
    )
    .unwrap();
    let other = engine()
        .args(["tap", "--pipeline"])
        .arg(dir.path().join("other.yaml"))
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(2), "{}", stderr(&other));
    assert!(
        stderr(&other).contains("is of pipeline `live`, not `other`"),
        "{}",
        stderr(&other)
    );
    let missing = engine()
        .args(["tap", "embed", "--wait", "--pipeline"])
        .arg(dir.path().join("other.yaml"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("has no step `embed`"),
        "{}",
        stderr(&missing)
    );

    // Tap the embed step, then let the endpoint answer: every embedded set comes through.
    let mut tap = Running::spawn(
        engine()
            .args(["tap", "embed", "--json", "--pipeline"])
            .arg(&pipeline)
            .stdout(Stdio::piped()),
    );
    let mut lines = BufReader::new(tap.child().stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["ok"]["step"], "embed", "{first}");
    // The tap of every step, waiting since before the run, is there too.
    let first: Value = serde_json::from_str(&all_lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["ok"]["step"], Value::Null, "{first}");
    gate.open.store(true, Ordering::SeqCst);
    let mut embedded = Vec::new();
    let mut end = Value::Null;
    for line in lines {
        let line: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if let Some(item) = line.get("item") {
            assert_eq!(item["output"]["type"], "Embedded", "{item}");
            embedded.push(item["doc_id"].as_str().unwrap().to_owned());
        } else {
            end = line;
        }
    }
    embedded.sort();
    assert_eq!(embedded, ["0.md", "1.md", "2.md"]);
    assert_eq!(end["end"]["skipped"], 0, "{end}");
    assert!(tap.finish().status.success());
    let items: Vec<Value> = all_lines
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect();
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(
        items[0]["item"]["step"], "docs",
        "a tap waiting for the run follows it from its start: {items:?}"
    );
    // A source keeps no output, and says so as `inspect` does (it was said to be gc'd).
    assert_eq!(items[0]["item"]["op"], "source.files", "{items:?}");
    assert_eq!(
        items[0]["item"]["output_note"],
        "a source keeps no output: it reads the document from its file",
        "{items:?}"
    );
    for line in &items {
        let step = line["item"]["step"].as_str().unwrap();
        let steps = ["docs", "parse", "chunk", "embed", "index"];
        assert!(steps.contains(&step), "{line}");
    }
    assert!(tap_all.finish().status.success());

    let finished = running.finish();
    assert!(finished.status.success(), "{}", stderr(&finished));
    assert!(!dir.path().join(".engine/live.sock").exists());
    let after = json_of(&["inspect", "latest"], &pipeline);
    assert_eq!(after["status"], "ok", "{after}");
    assert_eq!(after["steps"]["embed"]["out"], 3, "{after}");
    // Nothing runs now: tap says so.
    let idle = engine()
        .args(["tap", "embed", "--pipeline"])
        .arg(&pipeline)
        .output()
        .unwrap();
    assert_eq!(idle.status.code(), Some(2));
    assert!(
        stderr(&idle).contains("no run is using"),
        "{}",
        stderr(&idle)
    );
}

/// `tap --wait` follows a run that is over in a blink from its start to its end (it used to
/// look for the run's socket every 200 ms and miss such a run, waiting for the next one).
#[test]
fn a_waiting_tap_follows_a_run_over_in_a_blink() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# A\n\nOne short paragraph.\n",
    )
    .unwrap();
    let pipeline = dir.path().join("pipeline.yaml");
    fs::write(
        &pipeline,
        "version: 1\nname: blink\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n",
    )
    .unwrap();
    let mut tap = waiting_tap(dir.path(), &pipeline);
    let tap_pid = tap.child().id().to_string();
    let run = engine().arg("run").arg(&pipeline).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(tap.finish()));
    let Ok(tapped) = finished.recv_timeout(Duration::from_secs(60)) else {
        let _ = std::process::Command::new("kill").arg(&tap_pid).status();
        panic!("the tap missed the run and still waits");
    };
    assert!(tapped.status.success(), "{}", stderr(&tapped));
    let lines: Vec<Value> = stdout(&tapped)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let steps: Vec<&str> = lines
        .iter()
        .filter_map(|line| line["item"]["step"].as_str())
        .collect();
    assert_eq!(steps, ["docs", "parse"], "{lines:?}");
    assert!(lines.last().unwrap().get("end").is_some(), "{lines:?}");
    assert_eq!(
        fs::read_dir(dir.path().join(".engine/taps"))
            .unwrap()
            .count(),
        0,
        "the tap's socket is removed"
    );
}

/// A tap following a run that is killed says the run ended without finishing, and fails (exit
/// 3): it ended as after a finished run, exit 0 and no word, so a script took a killed run for
/// a finished one.
#[test]
fn a_tap_of_a_run_that_is_killed_says_so_and_fails() {
    let (gate, base_url) = gated_endpoint();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(dir.path().join("docs/a.md"), "# A\n\nOne paragraph.\n").unwrap();
    let pipeline = dir.path().join("pipeline.yaml");
    fs::write(
        &pipeline,
        format!(
            "version: 1\nname: killed\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 40, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, timeout: 120 }}\n  out: {{ op: sink.jsonl, input: embed, path: out.jsonl }}\n"
        ),
    )
    .unwrap();
    let mut tap = waiting_tap(dir.path(), &pipeline);
    let mut running = Running::spawn(engine().arg("run").arg(&pipeline).stdout(Stdio::null()));
    wait_for("the first embedding request", || {
        gate.requests.load(Ordering::SeqCst) > 0
    });
    // Killed once the run has taken the tap (its first line): a run killed before it answers
    // is no run, and the tap waits for the next.
    let mut lines = BufReader::new(tap.child().stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("\"ok\""), "{first}");
    running.child().kill().unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let _ = done.send((rest, tap.finish()));
    });
    let (rest, tapped) = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the tap ended with the run");
    gate.open.store(true, Ordering::SeqCst);
    assert_eq!(tapped.status.code(), Some(3), "{}", stderr(&tapped));
    assert!(
        stderr(&tapped).contains("the run ended without finishing (killed, or it crashed)"),
        "{}",
        stderr(&tapped)
    );
    let last = rest.last().cloned().unwrap_or_default();
    assert!(last.contains("\"error\""), "{rest:?}");
}
