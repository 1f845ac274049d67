//! End-to-end tests: the real `engine` binary on real files.

mod common;

use std::fs;

use common::{engine, engine_on, lines, repo, shared_corpus, stderr, stdout};
use serde_json::Value;

/// A folder of Markdown files and a JSONL file for pipelines to read.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs/sub")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Alpha\n\nFirst paragraph about alpha.\n\n## Beta\n\nSecond paragraph.\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("docs/sub/b.txt"),
        "Plain text.\n\nAnother paragraph.\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("data.jsonl"),
        "{\"_id\": \"r1\", \"title\": \"Record one\", \"text\": \"Record text one.\"}\n{\"_id\": \"r2\", \"title\": \"Record two\", \"text\": \"Record text two.\"}\n",
    )
    .unwrap();
    dir
}

/// Asserts exit 2 and a diagnostic at `line` containing `needle`.
fn assert_invalid(yaml: &str, line: usize, needle: &str) -> String {
    let dir = fixture();
    for command in ["validate", "run"] {
        let output = engine_on(dir.path(), &[command], yaml);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {text}");
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("pipeline.yaml:{line}:")) && l.contains(needle)),
            "{command}: expected `{needle}` at line {line} in:\n{text}"
        );
    }
    assert!(
        !dir.path().join(".engine").exists(),
        "an invalid pipeline must not run"
    );
    stderr(&engine_on(dir.path(), &["validate"], yaml))
}

const HEADER: &str = "version: 1\nname: t\n";

#[test]
fn unknown_key_names_line_step_key_and_suggests() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, sise: 10 }}\n"
        ),
        6,
        "step `chunk`, key `sise`: unknown key `sise`",
    );
    assert!(text.contains("did you mean `size`?"), "{text}");
    assert!(text.contains("missing key `size`"), "{text}");
}

#[test]
fn a_key_of_another_provider_names_the_provider_it_belongs_to() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 10 }}\n  embed: {{ op: embed, input: chunk, provider: hash, dimensions: 8 }}\n  out: {{ op: sink.jsonl, input: embed, path: o.jsonl }}\n"
        ),
        7,
        "step `embed`, key `dimensions`: unknown key `dimensions`",
    );
    assert!(
        text.contains("is a setting of `provider: http`, not of `provider: hash`"),
        "{text}"
    );
    assert!(
        text.contains("the keys are: ") && text.contains(", dim"),
        "{text}"
    );
    assert!(!text.contains("did you mean `dimensions`"), "{text}");
}

#[test]
fn unknown_operator_suggests_the_closest() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk:\n    op: chunk.recursiv\n    input: parse\n"
        ),
        7,
        "unknown operator `chunk.recursiv`",
    );
    assert!(text.contains("did you mean `chunk.recursive`?"), "{text}");
}

#[test]
fn missing_input_is_named_with_a_hint() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: dcos }}\n  out: {{ op: sink.jsonl, input: parse, path: out.jsonl }}\n"
        ),
        5,
        "no step named `dcos`",
    );
    assert!(text.contains("did you mean `docs`?"), "{text}");
}

#[test]
fn cycles_are_named_in_order() {
    assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: [docs, c2] }}\n  c1: {{ op: chunk.recursive, input: parse, size: 10 }}\n  c2: {{ op: parse, input: c1 }}\n  out: {{ op: sink.jsonl, input: c2, path: o.jsonl }}\n"
        ),
        5,
        "cycle: parse → c1 → c2 → parse",
    );
}

/// An `embed` step over two chunkers of one `parse` got each document twice and kept one
/// output: a sink after it dropped a branch's chunks without a word, and an index failed every
/// document blaming two sources. A sink may read both branches: it keeps them apart.
#[test]
fn a_step_that_would_meet_each_document_twice_is_refused() {
    let branches = "  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  small: { op: chunk.recursive, input: parse, size: 40 }\n  big: { op: chunk.by_heading, input: parse, size: 400 }\n";
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n{branches}  emb:\n    op: embed\n    input: [small, big]\n    provider: hash\n    dim: 16\n  out: {{ op: sink.jsonl, input: emb, path: o.jsonl }}\n"
        ),
        10,
        "step `emb`, key `input`: `small` and `big` both carry the documents of `docs`: step `emb` would get each of them twice",
    );
    assert!(
        text.contains("give each branch its own `embed` step"),
        "{text}"
    );
    let dir = fixture();
    let both = format!(
        "{HEADER}steps:\n{branches}  out: {{ op: sink.jsonl, input: [small, big], path: o.jsonl }}\n"
    );
    let output = engine_on(dir.path(), &["validate"], &both);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// An index fed by chunks is told what goes between (it had no help line).
#[test]
fn a_missing_step_between_two_types_is_named() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 100 }}\n  idx: {{ op: index.hybrid, input: chunk }}\n"
        ),
        7,
        "step `idx` (index.hybrid) takes Embedded but its input `chunk` (chunk.recursive) emits Chunks",
    );
    assert!(
        text.contains("help: add a step of `op: embed` that reads `chunk`, and read from it"),
        "{text}"
    );
}

/// An index fed by a parse is told the two steps that go between (it had no help line), a step
/// without `input` which steps it could read (it was told `input: parse`, itself when it is
/// the parse), and an `embed` without `provider` the providers.
#[test]
fn missing_steps_inputs_and_providers_are_named() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  idx: {{ op: index.hybrid, input: parse }}\n"
        ),
        6,
        "step `idx` (index.hybrid) takes Embedded but its input `parse` (parse) emits Parsed",
    );
    assert!(
        text.contains("help: add a step of `op: chunk.recursive` that reads `parse`, then one of `op: embed` that reads it, and read from the last"),
        "{text}"
    );
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse }}\n  out: {{ op: sink.jsonl, input: parse, path: o.jsonl }}\n"
        ),
        5,
        "step `parse`, key `input`: missing key `input`",
    );
    assert!(
        text.contains(
            "help: name the step(s) this step reads: `docs` (Document) emits what it takes"
        ),
        "{text}"
    );
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 100 }}\n  embed: {{ op: embed, input: chunk }}\n  out: {{ op: sink.jsonl, input: embed, path: o.jsonl }}\n"
        ),
        7,
        "step `embed`, key `provider`: missing key `provider`",
    );
    assert!(
        text.contains("help: choose one of: onnx, http, hash"),
        "{text}"
    );
}

#[test]
fn duplicate_step_names_are_refused() {
    assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  docs: {{ op: source.files, path: docs }}\n  out: {{ op: sink.jsonl, input: parse, path: o.jsonl }}\n"
        ),
        6,
        "duplicate step name `docs` (first at line 4)",
    );
}

/// A `{` left open is found on the next line; the message names where it opened.
#[test]
fn yaml_syntax_errors_have_a_line() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs\n  parse: {{ op: parse, input: docs }}\n"
        ),
        5,
        "YAML syntax error",
    );
    assert!(
        text.contains("in the `{ … }` that opens at line 4, column 9"),
        "{text}"
    );
}

#[test]
fn type_mismatch_names_both_steps_and_types() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: docs, size: 100 }}\n  out: {{ op: sink.jsonl, input: [chunk, parse], path: o.jsonl }}\n"
        ),
        6,
        "step `chunk` (chunk.recursive) takes Parsed but its input `docs` (source.files) emits Document",
    );
    assert!(text.contains("read from `parse`"), "{text}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = assert_invalid(
        &format!(
            "{HEADER}bogus: 1\nsteps:\n  docs: {{ op: source.files, path: nowhere }}\n  parse: {{ op: parse, input: docs, parallelism: 0 }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 100, overlap: 200 }}\n  out: {{ op: sink.jsonl, input: chunk, path: o.jsonl, extra: true }}\n"
        ),
        3,
        "unknown key `bogus`",
    );
    for (line, needle) in [
        (5, "`nowhere` does not exist"),
        (6, "must be at least 1"),
        (7, "overlap"),
        (8, "unknown key `extra`"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("pipeline.yaml:{line}:")) && l.contains(needle)),
            "expected `{needle}` at line {line}:\n{text}"
        );
    }
}

#[test]
fn sources_take_no_input_and_others_need_one() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs, input: parse }}\n  parse: {{ op: parse }}\n  out: {{ op: sink.jsonl, input: parse, path: o.jsonl }}\n"
        ),
        4,
        "unknown key `input`",
    );
    assert!(text.contains("is a source and reads no input"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("pipeline.yaml:5:") && l.contains("missing key `input`")),
        "{text}"
    );
    // Nor a bound on an input: the README said every step may set it.
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs, channel_capacity: 8 }}\n  out: {{ op: sink.jsonl, input: docs, path: o.jsonl }}\n"
        ),
        4,
        "unknown key `channel_capacity`",
    );
    assert!(
        text.contains("`channel_capacity` bounds a step's input"),
        "{text}"
    );
}

#[test]
fn an_unread_output_is_a_warning_not_an_error() {
    let dir = fixture();
    let output = engine_on(
        dir.path(),
        &["validate"],
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n"
        ),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains(
        "pipeline.yaml:5:3: warning: step `parse`: the output of `parse` is read by no step"
    ));
}

#[test]
fn fan_out_and_fan_in_with_capacity_one_finish() {
    let dir = fixture();
    let output = engine_on(
        dir.path(),
        &["run", "--json"],
        "version: 1\nname: diamond\nchannel_capacity: 1\nsteps:\n  docs: { op: source.files, path: docs }\n  records: { op: source.jsonl, path: data.jsonl }\n  parse: { op: parse, input: [docs, records], parallelism: 3 }\n  small: { op: chunk.recursive, input: parse, size: 20, unit: chars }\n  large: { op: chunk.recursive, input: parse, size: 10, unit: words }\n  all: { op: sink.jsonl, input: [small, large], path: out/all.jsonl }\n  parsed: { op: sink.jsonl, input: parse, path: out/parsed.jsonl }\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["status"], "ok");
    assert_eq!(summary["steps"]["parse"]["in"], 4);
    assert_eq!(summary["steps"]["parse"]["out"], 4);
    assert_eq!(summary["steps"]["all"]["in"], 8);
    for step in [
        "docs", "records", "parse", "small", "large", "all", "parsed",
    ] {
        for key in ["in", "out", "failed", "cached", "seconds"] {
            assert!(summary["steps"][step][key].is_number(), "{step}.{key}");
        }
    }
    let parsed = lines(&dir.path().join("out/parsed.jsonl"));
    let mut ids: Vec<&str> = parsed
        .iter()
        .map(|doc| doc["doc_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["a.md", "r1", "r2", "sub/b.txt"]);
    let record = parsed.iter().find(|doc| doc["doc_id"] == "r1").unwrap();
    assert_eq!(record["title"], "Record one");
    assert_eq!(record["format"], "text");
    let alpha = parsed.iter().find(|doc| doc["doc_id"] == "a.md").unwrap();
    assert_eq!(alpha["elements"][0]["kind"], "heading");
    assert_eq!(alpha["elements"][0]["level"], 1);
    let chunks = lines(&dir.path().join("out/all.jsonl"));
    // The summary counts the chunks each chunking step emitted; other steps have no count.
    let counted = |step: &str| summary["steps"][step]["chunks"].as_u64().unwrap();
    assert_eq!(counted("small") + counted("large"), chunks.len() as u64);
    assert!(summary["steps"]["parse"].get("chunks").is_none());
    // Busy time: the seconds items spent in each step's operator; sources have none.
    assert!(summary["steps"]["docs"].get("busy_seconds").is_none());
    for step in ["parse", "small", "large", "all", "parsed"] {
        assert!(summary["steps"][step]["busy_seconds"].is_number(), "{step}");
    }
    for chunk in &chunks {
        for key in [
            "chunk_id", "doc_id", "ordinal", "text", "span", "section", "pages", "tokens",
            "metadata",
        ] {
            assert!(chunk.get(key).is_some(), "chunk lacks `{key}`: {chunk}");
        }
        let doc = parsed
            .iter()
            .find(|doc| doc["doc_id"] == chunk["doc_id"])
            .unwrap();
        let markdown = doc["markdown"].as_str().unwrap();
        let span = chunk["span"].as_array().unwrap();
        let (start, end) = (
            span[0].as_u64().unwrap() as usize,
            span[1].as_u64().unwrap() as usize,
        );
        assert_eq!(&markdown[start..end], chunk["text"].as_str().unwrap());
    }
    let beta = chunks
        .iter()
        .find(|c| c["doc_id"] == "a.md" && c["text"] == "## Beta\n\nSecond")
        .expect("a 20-character chunk starts at the second heading, with its content's first word");
    assert_eq!(beta["section"], serde_json::json!(["Alpha", "Beta"]));
}

#[test]
fn one_unreadable_document_of_a_thousand_is_one_error_record() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir_all(&docs).unwrap();
    for i in 0..1000 {
        let body = if i == 500 {
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR not text at all \xff\xfe".to_vec()
        } else {
            format!("# Note {i}\n\nThis is note number {i}.\n").into_bytes()
        };
        fs::write(docs.join(format!("note-{i:04}.md")), body).unwrap();
    }
    let output = engine_on(
        dir.path(),
        &["run", "--json"],
        "version: 1\nname: thousand\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 200 }\n  out: { op: sink.jsonl, input: chunk, path: out/chunks.jsonl }\n",
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["status"], "failed_items");
    let errors = summary["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["step"], "parse");
    assert_eq!(errors[0]["doc_id"], "note-0500.md");
    assert!(!errors[0]["message"].as_str().unwrap().is_empty());
    let chunks = lines(&dir.path().join("out/chunks.jsonl"));
    let mut docs_out: Vec<&str> = chunks
        .iter()
        .map(|c| c["doc_id"].as_str().unwrap())
        .collect();
    docs_out.dedup();
    assert_eq!(docs_out.len(), 999);
    assert_eq!(summary["steps"]["out"]["in"], 999);
    let runs = engine()
        .args(["runs", "--json", "--store"])
        .arg(dir.path().join(".engine"))
        .output()
        .unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(
        runs["runs"].as_array().unwrap().len(),
        1,
        "the run is recorded in the store"
    );
    assert_eq!(runs["runs"][0]["run_id"], summary["run_id"]);
}

#[test]
fn the_run_table_and_graph_show_every_step_and_edge_type() {
    let dir = fixture();
    let yaml = "version: 1\nname: g\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 50 }\n  out: { op: sink.jsonl, input: chunk, path: o.jsonl }\n";
    let run = engine_on(dir.path(), &["run"], yaml);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let table = stdout(&run);
    for step in ["docs", "parse", "chunk", "out"] {
        assert!(table.lines().any(|l| l.starts_with(step)), "{table}");
    }
    let dot = stdout(&engine_on(dir.path(), &["graph"], yaml));
    assert!(
        dot.contains("\"docs\" -> \"parse\" [label=\"Document\"]"),
        "{dot}"
    );
    assert!(
        dot.contains("\"parse\" -> \"chunk\" [label=\"Parsed\"]"),
        "{dot}"
    );
    assert!(
        dot.contains("\"chunk\" -> \"out\" [label=\"Chunks\"]"),
        "{dot}"
    );
    let mermaid = stdout(&engine_on(
        dir.path(),
        &["graph", "--format", "mermaid"],
        yaml,
    ));
    assert!(mermaid.starts_with("flowchart LR"), "{mermaid}");
    assert!(mermaid.contains("-->|Parsed|"), "{mermaid}");
}

#[test]
fn the_committed_schema_is_what_engine_schema_prints() {
    let output = engine().arg("schema").output().unwrap();
    let committed = fs::read_to_string(repo().join("schemas/pipeline.schema.json")).unwrap();
    assert!(
        stdout(&output) == committed,
        "schemas/pipeline.schema.json is stale: run `just schema`"
    );
}

#[test]
fn every_bundled_pipeline_validates_without_warnings() {
    for entry in fs::read_dir(repo().join("pipelines")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "yaml") {
            let output = engine().arg("validate").arg(&path).output().unwrap();
            assert_eq!(
                output.status.code(),
                Some(0),
                "{}: {}",
                path.display(),
                stderr(&output)
            );
            assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
            let first = fs::read_to_string(&path).unwrap();
            assert!(
                first
                    .starts_with("# yaml-language-server: $schema=../schemas/pipeline.schema.json")
            );
        }
    }
}

#[test]
fn the_markdown_of_the_shared_corpus_parses_and_chunks() {
    let corpus = shared_corpus();
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "version: 1\nname: corpus\nsteps:\n  docs: {{ op: source.files, path: {}, include: [\"md/*.md\"], exclude: [\"**/*.ref.*\", \"**/*.struct.*\"] }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 800, overlap: 100 }}\n  out: {{ op: sink.jsonl, input: chunk, path: out/chunks.jsonl }}\n",
        corpus.display()
    );
    let output = engine_on(dir.path(), &["run", "--json"], &yaml);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stderr(&output),
        stdout(&output)
    );
    let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let manifest = fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let markdown_files = manifest
        .lines()
        .filter(|l| l.split('\t').nth(1) == Some("md"))
        .count();
    assert_eq!(summary["steps"]["parse"]["out"], markdown_files as u64);
    for chunk in lines(&dir.path().join("out/chunks.jsonl")) {
        assert!(chunk["text"].as_str().unwrap().chars().count() <= 800);
    }
}

/// Two runs of one pipeline on their own stores, their parse step on four workers: each sink's
/// file holds the documents in path order, and the two runs' files are byte for byte the same
/// (no timing in the outputs, and no order of whichever worker finished first).
#[test]
fn identical_runs_write_identical_outputs_in_source_order() {
    let corpus = shared_corpus();
    let yaml = format!(
        "version: 1\nname: corpus\nsteps:\n  docs: {{ op: source.files, path: {}, include: [\"html/*.html\", \"md/*.md\"], exclude: [\"**/*.ref.*\", \"**/*.struct.*\"] }}\n  parse: {{ op: parse, input: docs, parallelism: 4 }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 800, parallelism: 4 }}\n  parsed: {{ op: sink.jsonl, input: parse, path: out/parsed.jsonl }}\n  chunks: {{ op: sink.jsonl, input: chunk, path: out/chunks.jsonl }}\n",
        corpus.display()
    );
    let runs: Vec<tempfile::TempDir> = (0..2)
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            let output = engine_on(dir.path(), &["run"], &yaml);
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            dir
        })
        .collect();
    let parsed = lines(&runs[0].path().join("out/parsed.jsonl"));
    let ids: Vec<&str> = parsed
        .iter()
        .map(|doc| doc["doc_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert!(ids.len() > 20, "{ids:?}");
    assert_eq!(ids, sorted, "documents in path order");
    for sink in ["out/parsed.jsonl", "out/chunks.jsonl"] {
        let [first, second] = [0, 1].map(|run| fs::read(runs[run].path().join(sink)).unwrap());
        assert!(first == second, "{sink} differs between two identical runs");
    }
}

/// `engine inspect … | head` closes the pipe early: the command stops printing and ends as it
/// would have, instead of panicking on the next write ("failed printing to stdout").
#[test]
fn a_reader_that_closes_the_pipe_early_ends_output_quietly() {
    for args in [&["schema"][..], &["parse", "README.md"]] {
        let mut child = engine()
            .args(args)
            .current_dir(repo())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before the command writes (`head` after its lines).
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// A duplicate key is one problem among others: `validate` still reports every other one.
#[test]
fn a_duplicate_key_does_not_hide_the_other_problems() {
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  out: {{ op: sink.jsonl, input: parse, path: a.jsonl }}\n  out: {{ op: sink.jsonl, input: parse, path: b.jsonl }}\n  chunk: {{ op: chunk.recursive, input: parse, sise: 3 }}\n"
        ),
        7,
        "duplicate step name `out` (first at line 6)",
    );
    assert!(
        text.lines()
            .any(|l| l.contains("pipeline.yaml:8:") && l.contains("unknown key `sise`")),
        "{text}"
    );
}

/// A file over the size limit is refused, a device (endless zeros) without being read, and a
/// file of too many values is refused while it is read, each said as what it is.
#[test]
fn oversized_pipeline_files_are_refused_early() {
    let output = engine().args(["validate", "/dev/zero"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("/dev/zero:1:1: error: the pipeline file is not a regular file"),
        "{}",
        stderr(&output)
    );
    let dir = fixture();
    let large = dir.path().join("large.yaml");
    std::fs::write(&large, "# padding\n".repeat(200_000)).unwrap();
    let output = engine().arg("validate").arg(&large).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("large.yaml:1:1: error: the file is larger than 1 MiB"),
        "{}",
        stderr(&output)
    );
    let items = "1, ".repeat(150_000);
    let text = stderr(&engine_on(
        dir.path(),
        &["validate"],
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs, include: [{items}] }}\n"
        ),
    ));
    assert!(
        text.contains("the file holds more than 100000 values") && !text.contains("alias"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2, "one problem and the count: {text}");
}

/// After aliases pass the limit, nothing else is reported: no errors about the rest of the
/// file, which was not read.
#[test]
fn an_alias_bomb_is_one_error() {
    let dir = fixture();
    let mut yaml = format!(
        "{HEADER}steps:\n  docs: {{ op: source.files, path: docs, include: &a0 [x, x, x, x, x, x, x, x, x, x] }}\n"
    );
    for level in 1..8 {
        let prev = level - 1;
        let refs = vec![format!("*a{prev}"); 10].join(", ");
        yaml.push_str(&format!(
            "  op{level}: {{ op: source.files, path: docs, include: &a{level} [{refs}] }}\n"
        ));
    }
    let output = engine_on(dir.path(), &["validate"], &yaml);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text.contains(
            "aliases expand the file to more than 100000 values; is an alias repeated on purpose?"
        ),
        "{text}"
    );
    assert!(text.contains("1 error(s)"), "{text}");
}

/// Merge keys (`<<: *anchor`) bring the keys of another step the mapping does not set.
#[test]
fn merge_keys_repeat_the_settings_of_another_step() {
    let dir = fixture();
    let output = engine_on(
        dir.path(),
        &["run", "--json"],
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  a: &chunk {{ op: chunk.recursive, input: parse, size: 40, overlap: 5 }}\n  b: {{ <<: *chunk, size: 80 }}\n  out: {{ op: sink.jsonl, input: [a, b], path: out.jsonl }}\n"
        ),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["steps"]["b"]["op"], "chunk.recursive");
    assert!(summary["steps"]["a"]["chunks"].as_u64() > summary["steps"]["b"]["chunks"].as_u64());
    let text = assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  a: {{ <<: 3, input: parse }}\n  out: {{ op: sink.jsonl, input: a, path: out.jsonl }}\n"
        ),
        6,
        "a merge key `<<` takes a mapping",
    );
    assert!(!text.contains("unknown key `<<`"), "{text}");
}

/// YAML allows keys of at most 1024 characters outside `{ … }`; a longer step name is named
/// as such instead of a puzzling syntax error.
#[test]
fn a_step_name_longer_than_yaml_allows_is_named() {
    let name = "s".repeat(1100);
    assert_invalid(
        &format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  {name}: {{ op: parse, input: docs }}\n"
        ),
        5,
        "is 1100 characters long; YAML allows at most 1024",
    );
}

/// Settings that would exhaust the machine or cannot be represented are refused by `validate`,
/// each at its key with the limit: channel bounds, HNSW candidate lists, onnx threads, http
/// durations, BM25 boosts; NaN and infinity are named as such.
#[test]
fn settings_beyond_their_limits_are_refused_at_their_key() {
    let text = assert_invalid(
        "version: 1\nname: t\nchannel_capacity: 18446744073709551615\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs, channel_capacity: 1000000000 }\n  chunk: { op: chunk.recursive, input: parse, size: 100 }\n  e1: { op: embed, input: chunk, provider: http, base_url: \"http://127.0.0.1:9/v1\", model: m, timeout: 1e308, backoff: .nan }\n  e2: { op: embed, input: chunk, provider: onnx, model: m, threads: 100000 }\n  index: { op: index.hybrid, input: e1, ef_construction: 1000000000000, ef_search: 20000, title_boost: 1e39, section_boost: -.inf }\n  out: { op: sink.jsonl, input: e2, path: o.jsonl }\n",
        3,
        "key `channel_capacity`: must be at most 65536",
    );
    for (line, needle) in [
        (
            6,
            "step `parse`, key `channel_capacity`: must be at most 65536",
        ),
        (8, "step `e1`, key `timeout`: must be at most 3600"),
        (
            8,
            "step `e1`, key `backoff`: `.nan` is not allowed: settings take finite numbers, not NaN or infinity",
        ),
        (9, "step `e2`, key `threads`: must be at most 256"),
        (
            10,
            "step `index`, key `ef_construction`: must be at most 10000",
        ),
        (10, "step `index`, key `ef_search`: must be at most 10000"),
        (10, "step `index`, key `title_boost`: must be at most 1000"),
        (
            10,
            "step `index`, key `section_boost`: `-.inf` is not allowed",
        ),
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("pipeline.yaml:{line}:")) && l.contains(needle)),
            "expected `{needle}` at line {line}:\n{text}"
        );
    }
}

/// A byte that is not UTF-8 is named at its line and column (it was always 1:1).
#[test]
fn a_byte_that_is_not_utf8_is_named_at_its_line() {
    let dir = fixture();
    let file = dir.path().join("pipeline.yaml");
    let mut bytes = format!("{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  out: {{ op: sink.jsonl, input: docs, path: \"o").into_bytes();
    bytes.extend(b"\xff.jsonl\" }\n");
    std::fs::write(&file, bytes).unwrap();
    let output = engine().arg("validate").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("pipeline.yaml:5:47: error: the file is not valid UTF-8 (byte 113)"),
        "{text}"
    );
}

/// A key that may be left out (null) names the type it takes: the schema's message was
/// `expected ["a"] is not of types "null", "string", found a list`.
#[test]
fn a_key_that_may_be_left_out_names_the_type_it_takes() {
    let text = assert_invalid(
        &format!(
            "{HEADER}description: [a]\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 10, tokenizer: 5 }}\n  out: {{ op: sink.jsonl, input: chunk, path: o.jsonl }}\n"
        ),
        3,
        "key `description`: expected string, found a list",
    );
    assert!(
        text.contains("step `chunk`, key `tokenizer`: expected string, found `5`, an integer"),
        "{text}"
    );
    assert!(!text.contains("is not of types"), "{text}");
}

/// Values serde refuses after the schema passed them are named at their key, and a few
/// misleading messages say what is wrong instead.
#[test]
fn refused_values_are_named_at_their_key() {
    let text = assert_invalid(
        "version: 1.5\nname: t\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: [] }\n  chunk: { op: chunk.recursive, input: parse, size: 99999999999999999999999 }\n  embed: { op: embed, input: chunk, provider: onnx, model: docs/a.md }\n  out: { op: sink.jsonl, input: embed, path: o.jsonl }\n",
        1,
        "key `version`: expected a whole number, found `1.5`, a number with a fraction",
    );
    for (line, needle) in [
        (5, "step `parse`, key `input`: must not be empty"),
        (
            6,
            "step `chunk`, key `size`: `99999999999999999999999` is too large: at most 18446744073709551615",
        ),
        (
            7,
            "step `embed`, key `model`: `docs/a.md` is a file, but `model` names a folder",
        ),
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("pipeline.yaml:{line}:")) && l.contains(needle)),
            "expected `{needle}` at line {line}:\n{text}"
        );
    }
    assert!(
        text.contains("help: name the step(s) this step reads"),
        "{text}"
    );
    assert!(!text.contains("run `just setup`"), "{text}");
}

/// A sink may not overwrite what the pipeline reads or another sink writes, nor be a folder or
/// empty; the store is a folder of its own; each source path is of the kind its step reads.
/// All refused by `validate`, each at its key.
#[test]
fn paths_that_would_overwrite_or_cannot_be_written_are_refused() {
    let text = assert_invalid(
        &format!(
            "{HEADER}store: \"\"\nsteps:\n  docs: {{ op: source.files, path: data.jsonl }}\n  recs: {{ op: source.jsonl, path: docs }}\n  data: {{ op: source.jsonl, path: data.jsonl }}\n  own: {{ op: sink.jsonl, input: data, path: ./sub/../data.jsonl }}\n  a: {{ op: sink.jsonl, input: data, path: same.jsonl }}\n  b: {{ op: sink.jsonl, input: data, path: ./same.jsonl }}\n  empty: {{ op: sink.jsonl, input: data, path: \"\" }}\n  folder: {{ op: sink.jsonl, input: data, path: docs }}\n  under: {{ op: sink.jsonl, input: data, path: data.jsonl/out.jsonl }}\n  self: {{ op: sink.jsonl, input: data, path: pipeline.yaml }}\n"
        ),
        3,
        "key `store`: the path is empty; it must name a folder",
    );
    for (line, needle) in [
        (
            5,
            "step `docs`, key `path`: `data.jsonl` is a file, but this step reads the files below a folder",
        ),
        (
            6,
            "step `recs`, key `path`: `docs` is a folder, but this step reads one file",
        ),
        (
            8,
            "step `own`, key `path`: `./sub/../data.jsonl` is the file step `data` reads (line 7); the run would overwrite its own input",
        ),
        (
            10,
            "step `b`, key `path`: `./same.jsonl` is also the file step `a` writes (line 9)",
        ),
        (
            11,
            "step `empty`, key `path`: the path is empty; it must name a file",
        ),
        (12, "step `folder`, key `path`: `docs` is a folder"),
        (
            13,
            "step `under`, key `path`: `data.jsonl/out.jsonl` cannot be created",
        ),
        (
            14,
            "step `self`, key `path`: `pipeline.yaml` is this pipeline file",
        ),
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("pipeline.yaml:{line}:")) && l.contains(needle)),
            "expected `{needle}` at line {line}:\n{text}"
        );
    }
    let dir = fixture();
    for (store, needle) in [
        (".", "`.` is the pipeline's own folder"),
        ("data.jsonl", "`data.jsonl` is a file"),
        ("data.jsonl/db", "`data.jsonl/db` cannot be created"),
    ] {
        let output = engine_on(
            dir.path(),
            &["validate"],
            &format!(
                "{HEADER}store: {store}\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  out: {{ op: sink.jsonl, input: docs, path: o.jsonl }}\n"
            ),
        );
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).contains(&format!("pipeline.yaml:3:8: error: key `store`: {needle}")),
            "{}",
            stderr(&output)
        );
        // The store's error alone: not again as a source "inside the pipeline's store `.`".
        assert!(
            !stderr(&output).contains("inside the pipeline's store"),
            "{}",
            stderr(&output)
        );
    }
    assert_eq!(
        fs::read_to_string(dir.path().join("data.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2,
        "the input is untouched"
    );
}

/// Two `embed` steps whose vectors differ in length cannot fill one index: `validate` says so,
/// naming the setting (the run would fail at the second), while equal lengths are fine.
#[test]
fn an_index_fed_vectors_of_two_lengths_is_refused() {
    let pipeline = |dim_b: usize| {
        format!(
            "{HEADER}steps:\n  docs: {{ op: source.files, path: docs }}\n  records: {{ op: source.jsonl, path: data.jsonl }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 100 }}\n  parse_records: {{ op: parse, input: records }}\n  chunk_records: {{ op: chunk.recursive, input: parse_records, size: 100 }}\n  a: {{ op: embed, input: chunk, provider: hash, dim: 64 }}\n  b: {{ op: embed, input: chunk_records, provider: hash, dim: {dim_b} }}\n  index: {{ op: index.hybrid, input: [a, b] }}\n"
        )
    };
    let text = assert_invalid(
        &pipeline(32),
        12,
        "step `index`, key `input`: `a` and `b` embed differently (`dim` 64 and 32): one index holds vectors of one model and settings",
    );
    assert!(
        text.contains("its own index.hybrid step, or make their `dim` equal"),
        "{text}"
    );
    let dir = fixture();
    let output = engine_on(dir.path(), &["validate"], &pipeline(64));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}
