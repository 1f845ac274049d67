//! End-to-end tests of the checkpoint store: resume after SIGKILL, incremental runs, branch-only
//! recomputation, deletions, failures never cached, one process per store, gc and inspect.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{engine, run_json, sorted_lines, stderr, stdout};
use serde_json::Value;

const TWO_BRANCHES: &str = "version: 1\nname: ckpt\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk_a: { op: chunk.recursive, input: parse, size: 300, overlap: 40 }\n  chunk_b: { op: chunk.recursive, input: parse, size: 60, unit: words }\n  out_a: { op: sink.jsonl, input: chunk_a, path: out/a.jsonl }\n  out_b: { op: sink.jsonl, input: chunk_b, path: out/b.jsonl }\n";

/// A document of a few sections whose text depends on `i`.
fn document(i: usize, paragraphs: usize) -> String {
    let mut text = format!("# Document {i}\n\n");
    for p in 0..paragraphs {
        if p % 4 == 0 {
            text.push_str(&format!("## Section {p} of {i}\n\n"));
        }
        text.push_str(&format!(
            "Paragraph {p} of document {i} talks about checkpoints, resumable runs and the store. \
             Every sentence here is real text for the chunker to split at sensible places. \
             Item {i}-{p} ends this paragraph.\n\n"
        ));
    }
    text
}

fn corpus(dir: &Path, count: usize, paragraphs: usize) {
    fs::create_dir_all(dir.join("docs")).unwrap();
    for i in 0..count {
        fs::write(
            dir.join(format!("docs/doc-{i:04}.md")),
            document(i, paragraphs),
        )
        .unwrap();
    }
}

fn setup(count: usize, yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path(), count, 6);
    fs::write(dir.path().join("pipeline.yaml"), yaml).unwrap();
    dir
}

fn step<'a>(summary: &'a Value, name: &str) -> &'a Value {
    &summary["steps"][name]
}

fn computed(summary: &Value, name: &str) -> u64 {
    step(summary, name)["in"].as_u64().unwrap() - step(summary, name)["cached"].as_u64().unwrap()
}

#[test]
fn a_rerun_takes_everything_from_checkpoints_and_gives_the_same_outputs() {
    let dir = setup(20, TWO_BRANCHES);
    let (code, first) = run_json(dir.path());
    assert_eq!(code, Some(0), "{first}");
    let before = sorted_lines(&dir.path().join("out/a.jsonl"));
    let (code, second) = run_json(dir.path());
    assert_eq!(code, Some(0));
    for name in ["parse", "chunk_a", "chunk_b"] {
        assert_eq!(step(&second, name)["cached"], 20, "{name}: {second}");
        assert_eq!(step(&first, name)["cached"], 0, "{name}");
    }
    assert_eq!(sorted_lines(&dir.path().join("out/a.jsonl")), before);
}

#[test]
fn a_run_from_another_folder_reuses_every_checkpoint() {
    let dir = setup(3, TWO_BRANCHES);
    let run_from = |cwd: &Path, pipeline: &Path| -> Value {
        let output = engine()
            .current_dir(cwd)
            .args(["run", "--json"])
            .arg(pipeline)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    run_from(dir.path(), Path::new("pipeline.yaml"));
    let second = run_from(
        dir.path().parent().unwrap(),
        &dir.path().join("pipeline.yaml"),
    );
    assert_eq!(step(&second, "parse")["cached"], 3, "{second}");
}

#[test]
fn a_store_and_outputs_inside_the_source_folder_are_not_documents() {
    let dir = setup(2, "");
    let yaml = "version: 1\nname: inside\nstore: docs/.store\nsteps:\n  docs: { op: source.files, path: docs, hidden: true }\n  parse: { op: parse, input: docs }\n  out: { op: sink.jsonl, input: parse, path: docs/out.jsonl }\n";
    fs::write(dir.path().join("pipeline.yaml"), yaml).unwrap();
    for _ in 0..2 {
        let (code, summary) = run_json(dir.path());
        assert_eq!(code, Some(0), "{summary}");
        assert_eq!(step(&summary, "docs")["out"], 2, "{summary}");
    }
    let mut sources: Vec<String> = common::lines(&dir.path().join("docs/out.jsonl"))
        .iter()
        .map(|record| record["source"].as_str().unwrap().to_owned())
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        ["docs/doc-0000.md", "docs/doc-0001.md"],
        "named from the pipeline's folder"
    );
}

#[test]
fn new_source_settings_that_find_the_same_documents_recompute_nothing() {
    let dir = setup(3, TWO_BRANCHES);
    run_json(dir.path());
    let widened = TWO_BRANCHES.replace(
        "path: docs }",
        "path: docs, include: [\"**/*.md\", \"**/*.rst\"], exclude: [\"**/*.log\"] }",
    );
    assert_ne!(widened, TWO_BRANCHES);
    fs::write(dir.path().join("pipeline.yaml"), widened).unwrap();
    let (code, second) = run_json(dir.path());
    assert_eq!(code, Some(0), "{second}");
    for name in ["parse", "chunk_a", "chunk_b"] {
        assert_eq!(step(&second, name)["cached"], 3, "{name}: {second}");
    }
}

#[test]
fn editing_one_document_recomputes_only_that_document() {
    let dir = setup(20, TWO_BRANCHES);
    run_json(dir.path());
    fs::write(dir.path().join("docs/doc-0007.md"), document(7, 9)).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0));
    for name in ["parse", "chunk_a", "chunk_b"] {
        assert_eq!(computed(&summary, name), 1, "{name}: {summary}");
    }
    let chunks = sorted_lines(&dir.path().join("out/a.jsonl"));
    assert!(
        chunks
            .iter()
            .any(|line| line.contains("Paragraph 8 of document 7"))
    );
}

#[test]
fn deleting_a_document_removes_its_outputs_from_every_sink() {
    let dir = setup(10, TWO_BRANCHES);
    run_json(dir.path());
    assert!(
        sorted_lines(&dir.path().join("out/b.jsonl"))
            .iter()
            .any(|l| l.contains("\"doc-0003.md\""))
    );
    fs::remove_file(dir.path().join("docs/doc-0003.md")).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0));
    assert_eq!(step(&summary, "parse")["in"], 9);
    for sink in ["out/a.jsonl", "out/b.jsonl"] {
        let lines = sorted_lines(&dir.path().join(sink));
        assert!(!lines.is_empty());
        assert!(
            !lines.iter().any(|l| l.contains("\"doc-0003.md\"")),
            "{sink} still has the deleted document"
        );
    }
}

#[test]
fn changing_branch_b_recomputes_only_branch_b() {
    let dir = setup(15, TWO_BRANCHES);
    run_json(dir.path());
    let changed = TWO_BRANCHES.replace("size: 60, unit: words", "size: 80, unit: words");
    fs::write(dir.path().join("pipeline.yaml"), changed).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0));
    assert_eq!(step(&summary, "parse")["cached"], 15);
    assert_eq!(step(&summary, "chunk_a")["cached"], 15);
    assert_eq!(step(&summary, "chunk_b")["cached"], 0);
    assert_eq!(computed(&summary, "chunk_b"), 15);
}

/// A document the parser refuses is refused again by the next run without being parsed (a
/// hostile PDF costs its whole time budget every run), and still counts as failed; a run told
/// to retry failures parses it again, and so does one that finds its file changed.
#[test]
fn a_failed_parse_is_remembered_until_its_file_changes_or_a_run_retries_it() {
    let dir = setup(5, TWO_BRANCHES);
    fs::write(dir.path().join("docs/broken.md"), b"binary\x00content\xff").unwrap();
    let (code, first) = run_json(dir.path());
    assert_eq!(code, Some(1));
    assert_eq!(step(&first, "parse")["failed"], 1);
    assert_eq!(computed(&first, "parse"), 6);
    let message = first["errors"][0]["message"].clone();
    assert!(
        message.as_str().unwrap().contains("binary content"),
        "{first}"
    );

    let (code, second) = run_json(dir.path());
    assert_eq!(code, Some(1), "a remembered failure is still a failure");
    let parse = step(&second, "parse");
    assert_eq!((&parse["failed"], &parse["cached"]), (&1.into(), &6.into()));
    assert_eq!(parse["remembered"], 1, "{second}");
    assert_eq!(second["errors"][0]["doc_id"], "broken.md");
    assert_eq!(second["errors"][0]["message"], message);
    // `inspect` names the run that met the failure, and says why there is no output.
    let inspected = (engine().args(["inspect", second["run_id"].as_str().unwrap()]))
        .args(["--step", "parse", "--doc", "broken.md", "--json", "--store"])
        .arg(dir.path().join(".engine"))
        .output()
        .unwrap();
    let inspected: Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert_eq!(
        inspected["computed_in"]["run_id"], first["run_id"],
        "{inspected}"
    );
    assert!(
        inspected["output_note"]
            .as_str()
            .unwrap()
            .contains("--retry-failed"),
        "{inspected}"
    );
    // `--only failed` lists it alone among the six; nothing was computed; `--only cached`
    // lists the six the `cached` count holds, the remembered failure among them (it left it
    // out, and listed five under a header that said six).
    let listed = |only: &str| {
        let output = (engine().args(["inspect", second["run_id"].as_str().unwrap()]))
            .args(["--step", "parse", "--only", only, "--json", "--store"])
            .arg(dir.path().join(".engine"))
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let documents = report["documents"].as_array().unwrap().iter();
        documents
            .map(|d| d["doc_id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(listed("failed"), ["broken.md"]);
    assert!(listed("computed").is_empty());
    assert_eq!(listed("cached").len(), 6);
    let pipeline = dir.path().join("pipeline.yaml");
    let text = engine().arg("run").arg(&pipeline).output().unwrap();
    assert!(
        stdout(&text).contains("failed as in an earlier run")
            && stdout(&text).contains("--retry-failed"),
        "{}",
        stdout(&text)
    );

    let retried = (engine()
        .args(["run", "--json", "--retry-failed"])
        .arg(&pipeline))
    .output()
    .unwrap();
    let retried: Value = serde_json::from_slice(&retried.stdout).unwrap();
    assert_eq!(computed(&retried, "parse"), 1, "{retried}");
    assert!(step(&retried, "parse")["remembered"].is_null());

    fs::write(
        dir.path().join("docs/broken.md"),
        "# Fixed\n\nNow it is text.\n",
    )
    .unwrap();
    let (code, fixed) = run_json(dir.path());
    assert_eq!(code, Some(0), "{fixed}");
    assert_eq!(computed(&fixed, "parse"), 1);
}

#[test]
fn a_second_process_on_the_same_store_stops_at_once_and_harms_nothing() {
    let dir = setup(5, TWO_BRANCHES);
    run_json(dir.path());
    let store = dir.path().join(".engine");
    let mut lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(store.join("lock"))
        .unwrap();
    lock.try_lock().unwrap();
    lock.set_len(0).unwrap();
    write!(lock, "4242").unwrap();
    let output = engine()
        .args(["run"])
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "could not run: exit 3");
    assert!(
        stderr(&output).contains("in use by process 4242"),
        "{}",
        stderr(&output)
    );
    lock.unlock().unwrap();
    drop(lock);
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0));
    assert_eq!(step(&summary, "parse")["cached"], 5);
}

#[test]
fn killed_at_random_points_a_run_resumes_to_the_outputs_of_an_uninterrupted_run() {
    let reference = setup(0, TWO_BRANCHES);
    corpus(reference.path(), 300, 12);
    let (code, _) = run_json(reference.path());
    assert_eq!(code, Some(0));
    let dir = setup(0, TWO_BRANCHES);
    corpus(dir.path(), 300, 12);
    // Deterministic "random" kill points, from early (store opening) to late (sinks finishing).
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..8 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let after = Duration::from_millis(20 + state % 600);
        let mut child = engine()
            .args(["run", "--json"])
            .arg(dir.path().join("pipeline.yaml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(after);
        let _ = child.kill();
        let _ = child.wait();
    }
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    for sink in ["out/a.jsonl", "out/b.jsonl"] {
        assert_eq!(
            fs::read_to_string(dir.path().join(sink)).unwrap(),
            fs::read_to_string(reference.path().join(sink)).unwrap(),
            "{sink} differs from an uninterrupted run"
        );
    }
    let (_, again) = run_json(dir.path());
    assert_eq!(
        step(&again, "chunk_b")["cached"],
        300,
        "after completion everything is checkpointed"
    );
}

/// `engine gc --keep-runs 1` on `dir/pipeline.yaml`; its JSON report.
fn gc_keeping_one_run(dir: &Path) -> Value {
    let output = engine()
        .args(["gc", "--json", "--keep-runs", "1"])
        .arg(dir.join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn gc_of_one_pipeline_keeps_what_another_pipeline_sharing_the_store_reached() {
    let dir = setup(4, TWO_BRANCHES);
    let other = "version: 1\nname: other\nstore: .engine\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 120 }\n  out: { op: sink.jsonl, input: chunk, path: out/other.jsonl }\n";
    fs::write(dir.path().join("other.yaml"), other).unwrap();
    let run_other = || -> Value {
        let (code, summary) = common::run_file_json(&dir.path().join("other.yaml"));
        assert_eq!(code, Some(0), "{summary}");
        summary
    };
    run_json(dir.path());
    run_other();
    for _ in 0..3 {
        run_json(dir.path());
    }
    gc_keeping_one_run(dir.path());
    let again = run_other();
    assert_eq!(step(&again, "chunk")["cached"], 4, "{again}");
    let (_, summary) = run_json(dir.path());
    assert_eq!(step(&summary, "chunk_b")["cached"], 4, "{summary}");
    // `latest` of a pipeline is its own newest run, not the store's.
    let output = engine()
        .args(["inspect", "latest", "--json", "--pipeline"])
        .arg(dir.path().join("other.yaml"))
        .output()
        .unwrap();
    let latest: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(latest["run_id"], again["run_id"], "{}", stderr(&output));
}

#[test]
fn gc_removes_what_the_pipeline_no_longer_reaches() {
    let dir = setup(8, TWO_BRANCHES);
    run_json(dir.path());
    let changed = TWO_BRANCHES.replace("size: 60, unit: words", "size: 90, unit: words");
    fs::write(dir.path().join("pipeline.yaml"), changed).unwrap();
    run_json(dir.path());
    let gc = gc_keeping_one_run(dir.path());
    assert_eq!(gc["removed"], 8, "the old chunk_b outputs: {gc}");
    assert_eq!(gc["kept"], 24);
    assert_eq!(gc["runs_removed"], 1);
    let (_, summary) = run_json(dir.path());
    for name in ["parse", "chunk_a", "chunk_b"] {
        assert_eq!(step(&summary, name)["cached"], 8, "{name}");
    }
}

/// `gc` gives the disk back: the store's database is rewritten, so over edit, run and gc
/// cycles it stays the size of what it holds (sled kept its files' size, and the store grew
/// by about a third of what it held each cycle), and the next run finds everything. A `gc`
/// that removes nothing does not rewrite it (minutes for a large store).
#[test]
fn gc_keeps_the_store_the_size_of_what_it_holds() {
    let dir = setup(20, TWO_BRANCHES);
    let mut sizes = Vec::new();
    for cycle in 0..6 {
        let sized = TWO_BRANCHES.replace(
            "size: 60, unit: words",
            &format!("size: {}, unit: words", 60 + cycle),
        );
        fs::write(dir.path().join("pipeline.yaml"), sized).unwrap();
        run_json(dir.path());
        let gc = gc_keeping_one_run(dir.path());
        // The first has nothing to remove; a rewrite never leaves the database larger (a copy
        // came out 30 to 50% larger where there was little to give back).
        if cycle == 0 {
            assert_eq!(gc["rewritten"], false, "{gc}");
        }
        let bytes = |key: &str| gc[key].as_u64().unwrap();
        assert!(bytes("store_bytes") <= bytes("store_bytes_before"), "{gc}");
        sizes.push(bytes("store_bytes"));
    }
    // A gc with nothing to remove leaves the database as it is.
    let again = gc_keeping_one_run(dir.path());
    assert_eq!(again["rewritten"], false, "{again}");
    assert_eq!(again["store_bytes"], again["store_bytes_before"], "{again}");
    // One whose rewrite a kill ended leaves its mark: the next rewrites, with nothing to remove.
    let mark = dir.path().join(".engine/compact.wanted");
    fs::write(&mark, "").unwrap();
    let output = engine()
        .args(["gc", "--keep-runs", "1"])
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let said = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        said.contains(" before)") || said.contains("would not have been smaller"),
        "{said}"
    );
    assert!(!mark.exists(), "the mark goes once the rewrite is done");
    // sled's segments make the size move a little from one rewrite to the next, and a store
    // this small may take one more (512 KiB) that no rewrite gives back (see `OPENING_ADDS`).
    assert!(
        sizes[5] <= sizes[0] * 7 / 4 + (1 << 20),
        "the store grows: {sizes:?}"
    );
    let (_, summary) = run_json(dir.path());
    for name in ["parse", "chunk_a", "chunk_b"] {
        assert_eq!(step(&summary, name)["cached"], 20, "{name}: {summary}");
    }
}

/// A run removes the pipeline's runs past the newest `--keep-runs` (20 by default), with their
/// per-item records: every run records every document, and a store run again and again grew
/// by 90 MB a run at 20,000 documents. What the runs computed stays in the store, and the next
/// `gc` gives the space back (it found nothing to remove, so it left the database as it was).
#[test]
fn a_run_keeps_the_newest_runs_of_its_pipeline() {
    let dir = setup(4, TWO_BRANCHES);
    let mut ids = Vec::new();
    for _ in 0..4 {
        let output = engine()
            .args(["run", "--json", "--keep-runs", "2"])
            .arg(dir.path().join("pipeline.yaml"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
        ids.push(summary["run_id"].as_str().unwrap().to_owned());
    }
    let listed = engine()
        .args(["runs", "--json", "--store"])
        .arg(dir.path().join(".engine"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let kept: Vec<&str> = (report["runs"].as_array().unwrap().iter())
        .map(|run| run["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(kept, [ids[3].as_str(), ids[2].as_str()], "{report}");
    // sled keeps its files' size: the next gc rewrites the database, though it removes nothing.
    let mark = dir.path().join(".engine/compact.wanted");
    assert!(mark.exists(), "a run that removed runs asks for a rewrite");
    let output = engine()
        .args(["gc", "--json", "--keep-runs", "2"])
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let gc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (&gc["removed"], &gc["runs_removed"]),
        (&0.into(), &0.into()),
        "{gc}"
    );
    let small = stderr(&output).contains("would not have been smaller");
    assert!(gc["rewritten"] == true || small, "{gc} {}", stderr(&output));
    assert!(!mark.exists(), "the mark goes once the rewrite is done");
    let (_, summary) = run_json(dir.path());
    assert_eq!(step(&summary, "chunk_a")["cached"], 4, "{summary}");
}

/// A document that fails keeps its sink lines (and index entries) from before, and `gc` keeps
/// what they were made of, and the run that made them, however often it runs: back as it was,
/// the document computes nothing. `gc` dropped those checkpoints, and their vectors, since the
/// latest completed run reached none of them; then it kept them but pruned the run that told
/// it so, and the next `gc` dropped them.
#[test]
fn gc_keeps_what_a_failed_document_was_made_of_before() {
    let dir = setup(4, TWO_BRANCHES);
    let doc = dir.path().join("docs/doc-0001.md");
    let good = fs::read(&doc).unwrap();
    let (_, made) = run_json(dir.path());
    fs::write(&doc, b"binary\x00content\xff").unwrap();
    for _ in 0..2 {
        let (code, _) = run_json(dir.path());
        assert_eq!(code, Some(1));
    }
    for _ in 0..2 {
        let gc = gc_keeping_one_run(dir.path());
        assert_eq!(gc["removed"], 0, "{gc}");
    }
    let output = engine()
        .args(["runs", "--json", "--pipeline"])
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    let runs: Value = serde_json::from_slice(&output.stdout).unwrap();
    let kept: Vec<&Value> = (runs["runs"].as_array().unwrap().iter())
        .map(|run| &run["run_id"])
        .collect();
    assert_eq!(
        kept.len(),
        2,
        "the latest run and the one that made the document: {runs}"
    );
    assert_eq!(kept[1], &made["run_id"], "{runs}");
    fs::write(&doc, good).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    for name in ["parse", "chunk_a", "chunk_b"] {
        assert_eq!(computed(&summary, name), 0, "{name}: {summary}");
    }
}

/// `gc` between an edit and its run keeps what the latest completed run made (its index and
/// sinks hold it): undoing the edit recomputes nothing. It dropped those checkpoints, and
/// their vectors, as no longer reached.
#[test]
fn gc_before_an_edit_is_run_keeps_the_latest_completed_runs_outputs() {
    let dir = setup(8, TWO_BRANCHES);
    run_json(dir.path());
    let changed = TWO_BRANCHES.replace("size: 60, unit: words", "size: 90, unit: words");
    fs::write(dir.path().join("pipeline.yaml"), changed).unwrap();
    let gc = gc_keeping_one_run(dir.path());
    assert_eq!(gc["removed"], 0, "{gc}");
    fs::write(dir.path().join("pipeline.yaml"), TWO_BRANCHES).unwrap();
    let (_, summary) = run_json(dir.path());
    for name in ["parse", "chunk_a", "chunk_b"] {
        assert_eq!(step(&summary, name)["cached"], 8, "{name}");
    }
}

#[test]
fn inspect_follows_a_document_through_every_step() {
    let dir = setup(3, TWO_BRANCHES);
    let (_, summary) = run_json(dir.path());
    let store = dir.path().join(".engine");
    let inspect = |args: &[&str]| -> Value {
        let output = engine()
            .args(["inspect"])
            .args(args)
            .arg("--json")
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let run = inspect(&["latest"]);
    assert_eq!(run["run_id"], summary["run_id"]);
    let doc = inspect(&["latest", "--doc", "doc-0001.md"]);
    let steps: Vec<&str> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["docs", "parse", "chunk_a", "chunk_b", "out_a", "out_b"]
    );
    assert_eq!(doc["steps"][1]["output"]["type"], "Parsed");
    assert_eq!(doc["steps"][2]["output"]["type"], "Chunks");
    assert!(doc["steps"][2]["output"]["count"].as_u64().unwrap() > 1);
    let one = inspect(&["latest", "--step", "chunk_b", "--doc", "doc-0001.md"]);
    let chunks = one["output"]["chunks"].as_array().unwrap();
    assert!(chunks.iter().all(|c| c["doc_id"] == "doc-0001.md"));
    assert!(one.get("output_note").is_none(), "{one}");
    // No output: the view says why (a source keeps none).
    let source = inspect(&["latest", "--step", "docs", "--doc", "doc-0001.md"]);
    assert!(source["output"].is_null());
    assert!(
        source["output_note"]
            .as_str()
            .is_some_and(|note| note.starts_with("a source keeps no output")),
        "{source}"
    );
    let step = inspect(&["latest", "--step", "parse"]);
    assert_eq!(step["documents"].as_array().unwrap().len(), 3);
    assert!(step["timing"]["p50"].is_number());
    let stored = step["documents"][0]["bytes_out"].as_u64().unwrap();
    let json = serde_json::to_string(
        &inspect(&["latest", "--step", "parse", "--doc", "doc-0000.md"])["output"],
    )
    .unwrap();
    assert!(
        stored > 0 && (stored as usize) < json.len(),
        "stored {stored} bytes vs {} as JSON",
        json.len()
    );
    let text = engine()
        .args(["inspect", "latest", "--doc", "doc-0001.md", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        stdout(&text).contains("== chunk_a (chunk.recursive)"),
        "{}",
        stdout(&text)
    );
    let missing = engine()
        .args(["inspect", "latest", "--doc", "doc-0009.md", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn inspect_names_the_run_that_computed_a_cached_output() {
    let dir = setup(3, TWO_BRANCHES);
    let (_, first) = run_json(dir.path());
    fs::write(dir.path().join("docs/doc-0002.md"), document(7, 6)).unwrap();
    let (_, second) = run_json(dir.path());
    let (_, third) = run_json(dir.path());
    let inspect = |args: &[&str]| -> Value {
        let output = engine()
            .args(["inspect", third["run_id"].as_str().unwrap()])
            .args(args)
            .args(["--json", "--store"])
            .arg(dir.path().join(".engine"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let parse = inspect(&["--step", "parse"]);
    let origin = |doc: &str| -> Value {
        let documents = parse["documents"].as_array().unwrap();
        let record = documents.iter().find(|d| d["doc_id"] == doc).unwrap();
        assert_eq!(record["cached"], true, "{record}");
        record["computed_in"]["run_id"].clone()
    };
    assert_eq!(origin("doc-0000.md"), first["run_id"]);
    assert_eq!(
        origin("doc-0002.md"),
        second["run_id"],
        "the edit was computed in the second run"
    );
    let doc = inspect(&["--doc", "doc-0001.md"]);
    let chunk_a = &doc["steps"][2];
    assert_eq!(
        chunk_a["computed_in"]["run_id"], first["run_id"],
        "{chunk_a}"
    );
    assert!(chunk_a["computed_in"]["seconds"].as_f64().unwrap() > 0.0);
    let one = inspect(&["--step", "chunk_b", "--doc", "doc-0002.md"]);
    assert_eq!(one["computed_in"]["run_id"], second["run_id"]);
    let text = engine()
        .args(["inspect", "latest", "--step", "parse", "--store"])
        .arg(dir.path().join(".engine"))
        .output()
        .unwrap();
    let first_id = first["run_id"].as_str().unwrap();
    assert!(
        stdout(&text).contains(&format!("(computed in run {first_id} in ")),
        "{}",
        stdout(&text)
    );
    // A step renamed keeps its checkpoints, and `--step` still names the run that computed
    // them under the old name (it gave none).
    let renamed = TWO_BRANCHES
        .replace("chunk_b:", "chunk_z:")
        .replace("input: chunk_b", "input: chunk_z");
    fs::write(dir.path().join("pipeline.yaml"), renamed).unwrap();
    let (_, fourth) = run_json(dir.path());
    assert_eq!(step(&fourth, "chunk_z")["cached"], 3, "{fourth}");
    let output = engine()
        .args([
            "inspect",
            "latest",
            "--step",
            "chunk_z",
            "--doc",
            "doc-0002.md",
            "--json",
            "--store",
        ])
        .arg(dir.path().join(".engine"))
        .output()
        .unwrap();
    let one: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(one["computed_in"]["run_id"], second["run_id"], "{one}");
}

/// `engine ARGS dir/pipeline.yaml`, spawned with its output to `output()`, once its store is
/// open (or after 2.5 s).
fn started_run(dir: &Path, args: &[&str], output: fn() -> Stdio) -> std::process::Child {
    let child = engine()
        .args(args)
        .arg(dir.join("pipeline.yaml"))
        .stdout(output())
        .stderr(output())
        .spawn()
        .unwrap();
    for _ in 0..500 {
        if dir.join(".engine/db").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

/// SIGTERM (a service manager stopping the engine) cancels the run as Ctrl-C does: exit 130,
/// the run recorded as cancelled, nothing published, and the next run completes it.
#[test]
fn sigterm_cancels_the_run_cleanly() {
    let dir = setup(400, TWO_BRANCHES);
    let store = dir.path().join(".engine");
    let child = started_run(dir.path(), &["run"], Stdio::null);
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let output = child.wait_with_output().unwrap();
    let code = output.status.code();
    let listed = engine()
        .args(["runs", "--json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let runs: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let status = runs["runs"][0]["status"].clone();
    if code == Some(0) {
        // The run finished before the signal arrived.
        assert_eq!(status, "ok");
    } else {
        assert_eq!(code, Some(130), "{}", stderr(&output));
        assert_eq!(status, "cancelled", "{runs}");
        assert!(
            !dir.path().join("out/a.jsonl").exists(),
            "nothing published"
        );
    }
    // Published or not, no sink leaves its `.partial` file behind.
    let partials: Vec<_> = fs::read_dir(dir.path().join("out"))
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name())
                .filter(|name| name.to_string_lossy().ends_with(".partial"))
                .collect()
        })
        .unwrap_or_default();
    assert!(partials.is_empty(), "{partials:?}");
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    assert!(dir.path().join("out/a.jsonl").exists());
}

#[test]
fn runs_are_listed_newest_first_and_killed_runs_show_as_interrupted() {
    let dir = setup(200, TWO_BRANCHES);
    let mut child = engine()
        .args(["run"])
        .arg(dir.path().join("pipeline.yaml"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the run is recorded, then kill it.
    let store = dir.path().join(".engine");
    for _ in 0..200 {
        if store.join("db").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(50));
    let _ = child.kill();
    let _ = child.wait();
    let listed = |store: &Path| -> Value {
        let output = engine()
            .args(["runs", "--json", "--store"])
            .arg(store)
            .output()
            .unwrap();
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let before = listed(&store);
    if let Some(killed) = before["runs"].as_array().and_then(|runs| runs.first()) {
        assert_eq!(
            killed["status"], "interrupted",
            "before the next run: {killed}"
        );
    }
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0));
    let output = engine()
        .args(["runs", "--json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let runs: Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs[0]["run_id"], summary["run_id"]);
    assert!(runs[0]["pipeline_hash"].is_string());
    assert!(runs[0]["peak_rss_kib"].as_u64().unwrap() > 0);
    assert!(runs[0]["steps"]["parse"]["bytes_out"].as_u64().unwrap() > 0);
    if runs.len() == 2 {
        assert_eq!(runs[1]["status"], "interrupted");
    }
}

/// A second Ctrl-C leaves at once; with `--json`, stdout still ends with the error object
/// (exit 130) that every command ends with, saying what became of the run.
#[test]
fn a_second_ctrl_c_leaves_at_once_and_json_says_so() {
    let dir = setup(400, TWO_BRANCHES);
    let child = started_run(dir.path(), &["run", "--json"], Stdio::piped);
    for _ in 0..2 {
        let interrupted = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    if output.status.code() == Some(0) {
        return; // The run finished before the signals arrived.
    }
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let last = stdout(&output)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let last: Value = serde_json::from_str(&last).unwrap_or_else(|_| panic!("{last:?}"));
    if last["status"] == "cancelled" {
        return; // The first Ctrl-C ended the run before the second came.
    }
    assert_eq!(last["error"]["code"], 130, "{last}");
    let message = last["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("second Ctrl-C"), "{message}");
    // Its socket goes with it (it was left behind).
    assert!(!dir.path().join(".engine/live.sock").exists());
}

/// A store whose database file was overwritten at its start opens, in sled, as an empty one.
/// The run refuses it as damaged, saying how to start afresh, where it used to run as if on a
/// new store (no history, every step again), and its outputs are left as they were.
#[test]
fn a_damaged_database_is_refused_not_taken_for_a_new_store() {
    let dir = setup(3, TWO_BRANCHES);
    let (code, first) = run_json(dir.path());
    assert_eq!(code, Some(0), "{first}");
    let outputs = sorted_lines(&dir.path().join("out/a.jsonl"));
    let db = dir.path().join(".engine/db");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .open(db.join("db"))
        .unwrap();
    file.write_all(&[0xde, 0xad, 0xbe, 0xef]).unwrap();
    drop(file);
    let output = engine()
        .arg("run")
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    // sled finds some damage itself; this it does not, and the run missing from it shows it.
    let run_id = first["run_id"].as_str().unwrap();
    let said = stderr(&output);
    assert!(
        (said.contains(&format!("no longer holds run {run_id}"))
            || said.contains("checkpoint database cannot be read"))
            && said.contains(".damaged`"),
        "{}",
        stderr(&output)
    );
    assert_eq!(sorted_lines(&dir.path().join("out/a.jsonl")), outputs);
    // Moved away as it says, the next run starts afresh.
    fs::rename(&db, dir.path().join(".engine/db.damaged")).unwrap();
    let (code, again) = run_json(dir.path());
    assert_eq!(code, Some(0), "{again}");
    assert_eq!(step(&again, "parse")["cached"], 0, "{again}");
    assert_eq!(sorted_lines(&dir.path().join("out/a.jsonl")), outputs);
}
