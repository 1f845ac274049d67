//! End-to-end tests of what `engine query`, `engine compare` and the other readers print for
//! people, and of what they need to be there, on the real binary with the model-free hash
//! embedder.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::{engine, run_json, stderr, stdout};
use serde_json::Value;

const PIPELINE: &str = "version: 1\nname: qc\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk_a: { op: chunk.recursive, input: parse, size: 400, unit: chars }\n  chunk_b: { op: chunk.recursive, input: parse, size: 120, unit: chars }\n  embed_a: { op: embed, input: chunk_a, provider: hash, dim: 256 }\n  embed_b: { op: embed, input: chunk_b, provider: hash, dim: 256 }\n  index_a: { op: index.hybrid, input: embed_a }\n  index_b: { op: index.hybrid, input: embed_b }\n";

/// Three documents and the pipeline, run.
fn built() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::three_documents(&dir.path().join("docs"));
    fs::write(dir.path().join("pipeline.yaml"), PIPELINE).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    dir
}

/// `engine ARGS[0] pipeline.yaml ARGS[1..]`.
fn engine_with(dir: &Path, args: &[&str]) -> Output {
    engine()
        .arg(args[0])
        .arg(dir.join("pipeline.yaml"))
        .args(&args[1..])
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Whether `text` holds a control character other than line feed and tab.
fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// A document's terminal control sequences (colour, window title, bell, carriage return,
/// backspace) are shown, never sent, in every text output; JSON keeps the exact text.
#[test]
fn control_characters_of_documents_are_shown_not_sent_to_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    common::three_documents(&dir.path().join("docs"));
    let nasty = "# Escape \u{1b}[31mtest\u{1b}[0m\n\nansi \u{1b}[31mREDTEXT\u{1b}[0m and osc \u{1b}]0;PWNED\u{7} bell \u{7} cr\rover backspace ab\u{8}\u{8}XY c1 \u{9b}2J tail.\n";
    fs::write(dir.path().join("docs/esc\u{1b}[1m.md"), nasty).unwrap();
    fs::write(dir.path().join("pipeline.yaml"), PIPELINE).unwrap();
    let run = engine_with(dir.path(), &["run"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(!has_control(&stdout(&run)), "{}", stdout(&run));
    let text = engine_with(
        dir.path(),
        &[
            "query",
            "--index",
            "index_a",
            "--mode",
            "bm25",
            "ansi osc bell",
        ],
    );
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let shown = stdout(&text);
    assert!(!has_control(&shown), "{shown:?}");
    assert!(
        shown.contains("\\u{1b}[31mREDTEXT") && shown.contains("cr\\u{d}over"),
        "{shown}"
    );
    let json = engine_with(
        dir.path(),
        &[
            "query",
            "--index",
            "index_a",
            "--mode",
            "bm25",
            "--json",
            "ansi osc bell",
        ],
    );
    let hits: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        hits["hits"][0]["text"]
            .as_str()
            .unwrap()
            .contains("\u{1b}]0;PWNED\u{7}"),
        "{hits}"
    );
    for args in [
        &["inspect", "latest", "--doc", "esc\u{1b}[1m.md"][..],
        &["inspect", "latest", "--step", "parse"][..],
    ] {
        let output = engine()
            .args(args)
            .arg("--pipeline")
            .arg(dir.path().join("pipeline.yaml"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            !has_control(&stdout(&output)),
            "{args:?}: {}",
            stdout(&output)
        );
        assert!(
            stdout(&output).contains("esc\\u{1b}[1m.md"),
            "{}",
            stdout(&output)
        );
    }
    let parse = engine()
        .arg("parse")
        .arg(dir.path().join("docs/esc\u{1b}[1m.md"))
        .output()
        .unwrap();
    assert!(!has_control(&stdout(&parse)), "{}", stdout(&parse));
    // An error quoting the file (a queries line) is shown too.
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"a\\u001b[2Jb c\", \"text\": \"x\"}\n",
    )
    .unwrap();
    let trec = engine_with(
        dir.path(),
        &[
            "query",
            "--index",
            "index_a",
            "--queries",
            "q.jsonl",
            "--trec",
            "t",
        ],
    );
    assert_eq!(trec.status.code(), Some(2));
    assert!(!has_control(&stderr(&trec)), "{}", stderr(&trec));
}
