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
    // The title is shown as every other line shows text, not as JSON (`\u001b`).
    let doc = engine()
        .args([
            "inspect",
            "latest",
            "--doc",
            "esc\u{1b}[1m.md",
            "--pipeline",
        ])
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert!(
        stdout(&doc).contains("title: Escape \\u{1b}[31mtest\\u{1b}[0m  format: markdown"),
        "{}",
        stdout(&doc)
    );
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

/// An empty or blank query is refused (exit 2) in every mode, on the command line and in a
/// queries file (with the file and line), for `query` and `compare` alike.
#[test]
fn an_empty_query_is_refused_everywhere() {
    let dir = built();
    for mode in ["hybrid", "vector", "bm25"] {
        for text in ["", "  \t "] {
            let output = engine_with(
                dir.path(),
                &["query", "--index", "index_a", "--mode", mode, text],
            );
            assert_eq!(output.status.code(), Some(2), "{mode} {text:?}");
            assert!(stdout(&output).is_empty(), "{}", stdout(&output));
            assert!(
                stderr(&output).contains("the query is empty"),
                "{}",
                stderr(&output)
            );
        }
    }
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex\"}\n{\"_id\": \"q2\", \"text\": \" \"}\n",
    )
    .unwrap();
    for args in [
        &["query", "--index", "index_a", "--queries", "q.jsonl"][..],
        &["compare", "--queries", "q.jsonl", "--modes", "bm25"][..],
    ] {
        let output = engine_with(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains("q.jsonl:2: the text of query `q2` is empty"),
            "{}",
            stderr(&output)
        );
    }
}

/// A query of stop words alone gives BM25 nothing to search: the query says so, in hybrid mode
/// that its hits are the vector search's alone; a query with a real word says nothing.
#[test]
fn a_query_of_stop_words_alone_says_bm25_searches_nothing() {
    let dir = built();
    for (mode, says) in [
        ("hybrid", "the hits are the vector search's alone"),
        ("bm25", "nothing can match"),
    ] {
        let output = engine_with(
            dir.path(),
            &[
                "query",
                "--index",
                "index_a",
                "--mode",
                mode,
                "the of and ?",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let note = stderr(&output);
        assert!(
            note.contains("no word of the query is searched by BM25") && note.contains(says),
            "{mode}: {note}"
        );
    }
    for mode in ["hybrid", "vector", "bm25"] {
        let output = engine_with(
            dir.path(),
            &["query", "--index", "index_a", "--mode", mode, "the mutex"],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            !stderr(&output).contains("searched by BM25"),
            "{mode}: {}",
            stderr(&output)
        );
    }
    let vector = engine_with(
        dir.path(),
        &[
            "query",
            "--index",
            "index_a",
            "--mode",
            "vector",
            "the of and",
        ],
    );
    assert!(
        !stderr(&vector).contains("searched by BM25"),
        "{}",
        stderr(&vector)
    );
    // A file of queries says it of the queries it holds, by id, as a lone query would.
    fs::write(
        dir.path().join("stop.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"the mutex\"}\n{\"_id\": \"q2\", \"text\": \"the of and\"}\n",
    )
    .unwrap();
    let many = engine_with(
        dir.path(),
        &["query", "--index", "index_a", "--queries", "stop.jsonl"],
    );
    assert_eq!(many.status.code(), Some(0), "{}", stderr(&many));
    let notes = stderr(&many);
    assert!(
        notes.contains("query q2: no word of the query is searched by BM25")
            && !notes.contains("query q1:"),
        "{notes}"
    );
}

/// A query the embedder finds nothing in (the `hash` provider's vector of a text with no word
/// is all zeros) says the vector search ranks nothing, instead of answering "no hits" alone; in
/// hybrid mode, where BM25 has no word of it either, one note says both and that nothing can
/// match (two notes each said the other half's hits were the answer).
#[test]
fn a_query_without_a_direction_says_the_vector_search_ranks_nothing() {
    let dir = built();
    for mode in ["vector", "hybrid"] {
        let output = engine_with(
            dir.path(),
            &["query", "--index", "index_a", "--mode", mode, "?!"],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let note = stderr(&output);
        assert!(
            note.contains("the query's embedding is all zeros")
                && note.contains("nothing can match")
                && !note.contains("alone")
                && note.matches("note:").count() == 1,
            "{mode}: {note}"
        );
        assert_eq!(
            note.contains("no word of the query is searched by BM25"),
            mode == "hybrid",
            "{note}"
        );
    }
    let output = engine_with(
        dir.path(),
        &["query", "--index", "index_a", "--mode", "vector", "mutex"],
    );
    assert!(
        !stderr(&output).contains("all zeros"),
        "{}",
        stderr(&output)
    );
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex\"}\n{\"_id\": \"q2\", \"text\": \"?!\"}\n",
    )
    .unwrap();
    let args = ["query", "--index", "index_a", "--mode", "vector"];
    let many = engine_with(dir.path(), &[&args[..], &["--queries", "q.jsonl"]].concat());
    assert_eq!(many.status.code(), Some(0), "{}", stderr(&many));
    let notes = stderr(&many);
    assert!(
        notes.contains("query q2: the query's embedding is all zeros") && !notes.contains("q1"),
        "{notes}"
    );
}

/// `compare` names the queries a mode can match nothing for (stop words alone for BM25, no word
/// at all for the vector search too), on stderr and in the JSON `warnings`, as `query` notes
/// them: it scored them as misses without a word.
#[test]
fn compare_names_the_queries_a_mode_can_match_nothing_for() {
    let dir = built();
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex\"}\n{\"_id\": \"q2\", \"text\": \"the of and\"}\n{\"_id\": \"q3\", \"text\": \"?!\"}\n",
    )
    .unwrap();
    let args = ["compare", "--queries", "q.jsonl", "--trials", "10"];
    let text = engine_with(dir.path(), &args);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let warnings = stderr(&text);
    for expected in [
        "warning: `index_a`, `index_b` · bm25: for 2 of the 3 queries (`q2`, `q3`), no word of the query is searched by BM25",
        "warning: `index_a`, `index_b` · vector: for 1 of the 3 queries (`q3`), the query's embedding is all zeros",
        "warning: `index_a`, `index_b` · hybrid: for 1 of the 3 queries (`q2`), no word of the query is searched by BM25",
    ] {
        assert!(warnings.contains(expected), "{expected}\n in: {warnings}");
    }
    assert!(!warnings.contains("`q1`"), "{warnings}");
    let json = engine_with(
        dir.path(),
        &[&args[..], &["--json", "--modes", "vector"]].concat(),
    );
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{report}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("vector: for 1 of the 3 queries (`q3`)"),
        "{report}"
    );
}

/// A query id a TREC run cannot hold is refused with the file and line, as the other problems
/// of a queries file are.
#[test]
fn a_query_id_a_trec_run_cannot_hold_names_its_line() {
    let dir = built();
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex\"}\n\n{\"_id\": \"a b\", \"text\": \"heap\"}\n",
    )
    .unwrap();
    let output = engine_with(
        dir.path(),
        &[
            "query",
            "--index",
            "index_a",
            "--queries",
            "q.jsonl",
            "--trec",
            "run",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("q.jsonl:3: query id `a b` is empty or has whitespace"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());
}

/// A doc_id a TREC run cannot hold refuses the run before any of it is written: the first
/// query's lines were printed, and `> run.trec` kept a run cut short that looked complete.
#[test]
fn a_doc_id_a_trec_run_cannot_hold_writes_no_part_of_the_run() {
    let dir = built();
    fs::rename(
        dir.path().join("docs/boxes.md"),
        dir.path().join("docs/heap boxes.md"),
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex\"}\n{\"_id\": \"q2\", \"text\": \"heap box\"}\n",
    )
    .unwrap();
    let args = [
        "query",
        "--index",
        "index_a",
        "--queries",
        "q.jsonl",
        "--mode",
        "bm25",
        "-k",
        "1",
    ];
    let answered = engine_with(dir.path(), &args);
    assert_eq!(answered.status.code(), Some(0), "{}", stderr(&answered));
    let answers = stdout(&answered);
    assert!(
        answers.contains("threads.md") && answers.contains("heap boxes.md"),
        "{answers}"
    );
    let output = engine_with(dir.path(), &[&args[..], &["--trec", "run"]].concat());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("doc_id `heap boxes.md` is empty or has whitespace"),
        "{}",
        stderr(&output)
    );
    assert_eq!(stdout(&output), "");
}

/// A TREC run is machine output: a query id or doc_id with a control character is written as
/// it is, so that the run matches the queries, the qrels and the index.
#[test]
fn a_trec_run_writes_ids_exactly() {
    let dir = built();
    fs::copy(
        dir.path().join("docs/boxes.md"),
        dir.path().join("docs/b\u{1b}x.md"),
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q\\u001b1\", \"text\": \"heap box\"}\n",
    )
    .unwrap();
    let output = engine_with(
        dir.path(),
        &[
            "query",
            "--index",
            "index_a",
            "--queries",
            "q.jsonl",
            "--trec",
            "run",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let run = stdout(&output);
    assert!(run.starts_with("q\u{1b}1 Q0 "), "{run:?}");
    assert!(run.contains(" b\u{1b}x.md "), "{run:?}");
}

/// A knowledge base stays searchable when what only a run needs is gone: its source documents
/// archived, its sinks' folder removed, its model moved away. BM25 needs no model; vector and
/// hybrid queries say that they need it and that BM25 works without it.
#[test]
fn query_and_compare_need_neither_the_sources_nor_the_model_for_bm25() {
    let dir = tempfile::tempdir().unwrap();
    let model = common::repo().join("models/bge-small-en-v1.5");
    assert!(
        model.join("tokenizer.json").exists(),
        "models/ is incomplete: run `just setup`"
    );
    // A folder of its own, its files linked, so that the model file alone can go.
    fs::create_dir(dir.path().join("model")).unwrap();
    for file in fs::read_dir(&model).unwrap() {
        let file = file.unwrap().path();
        std::os::unix::fs::symlink(
            &file,
            dir.path().join("model").join(file.file_name().unwrap()),
        )
        .unwrap();
    }
    std::os::unix::fs::symlink(
        common::repo().join("models/onnxruntime"),
        dir.path().join("onnxruntime"),
    )
    .unwrap();
    common::three_documents(&dir.path().join("docs"));
    fs::write(
        dir.path().join("pipeline.yaml"),
        "version: 1\nname: archived\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 300, unit: chars }\n  embed: { op: embed, input: chunk, provider: onnx, model: model }\n  index: { op: index.hybrid, input: embed }\n  out: { op: sink.jsonl, input: chunk, path: out/chunks.jsonl }\n",
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex shared data\"}\n",
    )
    .unwrap();
    // The documents archived and the sink's folder gone: every mode still answers.
    fs::rename(dir.path().join("docs"), dir.path().join("docs.archived")).unwrap();
    fs::remove_dir_all(dir.path().join("out")).unwrap();
    for mode in ["bm25", "vector", "hybrid"] {
        let output = engine_with(
            dir.path(),
            &[
                "query",
                "--index",
                "index",
                "--mode",
                mode,
                "mutex shared data",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{mode}: {}", stderr(&output));
        assert!(
            stdout(&output).contains("threads.md"),
            "{}",
            stdout(&output)
        );
        assert!(stderr(&output).is_empty(), "{mode}: {}", stderr(&output));
    }
    let inspect = engine()
        .args(["inspect", "latest", "--pipeline"])
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(inspect.status.code(), Some(0), "{}", stderr(&inspect));
    // The model file moved away, its folder left: BM25 answers, with no note that the
    // pipeline changed (it said so, and that a run would rebuild the index, which fails).
    for file in fs::read_dir(dir.path().join("model")).unwrap() {
        let file = file.unwrap().path();
        if file.extension().is_some_and(|ext| ext == "onnx") {
            fs::remove_file(file).unwrap();
        }
    }
    let bm25 = engine_with(
        dir.path(),
        &["query", "--index", "index", "--mode", "bm25", "mutex"],
    );
    assert_eq!(bm25.status.code(), Some(0), "{}", stderr(&bm25));
    assert!(stderr(&bm25).is_empty(), "{}", stderr(&bm25));
    // The model moved away too: BM25 answers, vector and hybrid say what they lack.
    fs::remove_dir_all(dir.path().join("model")).unwrap();
    let bm25 = engine_with(
        dir.path(),
        &[
            "query",
            "--index",
            "index",
            "--mode",
            "bm25",
            "mutex shared data",
        ],
    );
    assert_eq!(bm25.status.code(), Some(0), "{}", stderr(&bm25));
    assert!(stdout(&bm25).contains("threads.md"), "{}", stdout(&bm25));
    assert!(stderr(&bm25).is_empty(), "{}", stderr(&bm25));
    let compare = engine_with(
        dir.path(),
        &["compare", "--queries", "q.jsonl", "--modes", "bm25"],
    );
    assert_eq!(compare.status.code(), Some(0), "{}", stderr(&compare));
    for mode in ["vector", "hybrid"] {
        let output = engine_with(
            dir.path(),
            &[
                "query",
                "--index",
                "index",
                "--mode",
                mode,
                "mutex shared data",
            ],
        );
        assert_eq!(output.status.code(), Some(2), "{mode}");
        let message = stderr(&output);
        assert!(
            message.contains("does not exist") && message.contains("BM25 works without it"),
            "{message}"
        );
    }
    // A run still needs all of it.
    let run = engine_with(dir.path(), &["run"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("does not exist"), "{}", stderr(&run));
}

/// `compare` warns of a judgment given twice (both lines; the last counts) and of judged
/// documents the index holds no chunk of (a count and examples), says how many queries are judged,
/// and prints, in text too, each branch's chunks, index size and build cost, the side-by-side
/// lists under their systems' names, and that the overlap is Jaccard's.
#[test]
fn compare_warns_of_qrels_problems_and_prints_what_it_measured() {
    let dir = built();
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex shared data\"}\n{\"_id\": \"q2\", \"text\": \"heap box\"}\n{\"_id\": \"q3\", \"text\": \"errors\"}\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("r.tsv"),
        "query-id\tcorpus-id\tscore\nq1\tthreads.md\t2\nq1\tthreads.md\t0\nq2\tBoxes.MD\t1\nq2\tboxes.md\t1\n",
    )
    .unwrap();
    let judged = engine_with(
        dir.path(),
        &[
            "compare",
            "--queries",
            "q.jsonl",
            "--qrels",
            "r.tsv",
            "--trials",
            "10",
        ],
    );
    assert_eq!(judged.status.code(), Some(0), "{}", stderr(&judged));
    let warnings = stderr(&judged);
    assert!(
        warnings.contains(
            "r.tsv:3: query `q1` judges document `threads.md` again (line 2: 2 there, 0 here; 0 counts)"
        ),
        "{warnings}"
    );
    assert!(
        warnings.contains("1 of the 3 judgments of these queries name documents the index holds no chunk of, such as `Boxes.MD` (query q2)"),
        "{warnings}"
    );
    let text = stdout(&judged);
    assert!(text.starts_with("3 queries, 1 of them judged"), "{text}");
    for branch in ["index_a", "index_b"] {
        let line = text
            .lines()
            .find(|line| line.starts_with(&format!("{branch}: ")))
            .unwrap_or_else(|| panic!("no line for {branch}: {text}"));
        assert!(
            line.contains(" chunks of chunk_")
                && line.contains("; index ")
                && line.contains("last run: docs "),
            "{line}"
        );
    }
    let json = engine_with(
        dir.path(),
        &[
            "compare",
            "--queries",
            "q.jsonl",
            "--qrels",
            "r.tsv",
            "--trials",
            "10",
            "--json",
        ],
    );
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["warnings"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["judged_queries"], 1);
    assert_eq!(report["fusion"], serde_json::json!({"rrf": {"k": 60}}));
    let unjudged = engine_with(
        dir.path(),
        &[
            "compare",
            "--queries",
            "q.jsonl",
            "--modes",
            "bm25",
            "--k",
            "2",
        ],
    );
    let text = stdout(&unjudged);
    assert!(text.starts_with("3 queries (no judgments)"), "{text}");
    // The count stands under its header.
    assert!(
        text.contains(&format!(
            "{:<28}    queries\n{:<28}          3\n",
            "branch · mode", "index_a · bm25"
        )),
        "{text}"
    );
    assert!(
        text.contains("index_a · bm25 vs index_b · bm25: mean top-k overlap (Jaccard) "),
        "{text}"
    );
    assert!(
        text.lines().any(|line| line.trim_start().starts_with("#")
            && line.contains("index_a · bm25")
            && line.contains("index_b · bm25")),
        "{text}"
    );
    assert!(stderr(&unjudged).is_empty(), "{}", stderr(&unjudged));
}

/// A hit names its document's title beside the id; a pipeline whose steps changed since the
/// index was built says so (once the steps are as they were, it says nothing).
#[test]
fn a_query_shows_titles_and_says_when_the_index_is_older_than_the_pipeline() {
    let dir = built();
    let query = |index: &str| {
        engine_with(
            dir.path(),
            &["query", "--index", index, "--mode", "bm25", "mutex"],
        )
    };
    let fresh = query("index_a");
    assert_eq!(fresh.status.code(), Some(0), "{}", stderr(&fresh));
    assert!(
        stdout(&fresh).contains("threads.md — Threads"),
        "{}",
        stdout(&fresh)
    );
    assert!(stderr(&fresh).is_empty(), "{}", stderr(&fresh));
    fs::write(
        dir.path().join("pipeline.yaml"),
        PIPELINE.replace("size: 400", "size: 300"),
    )
    .unwrap();
    let stale = query("index_a");
    assert_eq!(stale.status.code(), Some(0), "{}", stderr(&stale));
    assert!(
        stderr(&stale)
            .contains("note: the pipeline file, or a model or tokenizer it reads, changed since index `index_a` was built by run ")
            && stderr(&stale).contains("(step `chunk_a` changed)")
            && stderr(&stale).contains("`engine run "),
        "{}",
        stderr(&stale)
    );
    // The other branch did not change.
    assert!(stderr(&query("index_b")).is_empty());
    fs::write(dir.path().join("pipeline.yaml"), PIPELINE).unwrap();
    assert!(stderr(&query("index_a")).is_empty());
    // A step made like another branch's (chunk_b's size) computes what index_a never held.
    fs::write(
        dir.path().join("pipeline.yaml"),
        PIPELINE.replace("size: 400", "size: 120"),
    )
    .unwrap();
    assert!(
        stderr(&query("index_a")).contains("(step `chunk_a` changed)"),
        "{}",
        stderr(&query("index_a"))
    );
    // A step renamed computes what it did: nothing changed.
    fs::write(
        dir.path().join("pipeline.yaml"),
        PIPELINE.replace("chunk_a", "chunk_renamed"),
    )
    .unwrap();
    assert!(
        stderr(&query("index_a")).is_empty(),
        "{}",
        stderr(&query("index_a"))
    );
}

/// A query tells an index older than the pipeline from the record the run left beside the
/// index, without opening the store (which takes seconds once it holds gigabytes); an index
/// with no record (built by an older engine) is told from the store's runs.
#[test]
fn a_query_tells_a_stale_index_without_the_store_and_from_the_store_without_a_record() {
    let dir = built();
    let store = dir.path().join(".engine");
    let record = live_generation(dir.path(), "index_a").join("built.json");
    let recorded: serde_json::Value = serde_json::from_slice(&fs::read(&record).unwrap()).unwrap();
    assert!(
        recorded["fingerprints"]["chunk_a"].is_string(),
        "{recorded}"
    );
    let stale_note = |query: &Output| {
        assert_eq!(query.status.code(), Some(0), "{}", stderr(query));
        stderr(query).contains("since index `index_a` was built by run ")
            && stderr(query).contains("(step `chunk_a` changed)")
    };
    let query = || engine_with(dir.path(), &["query", "--index", "index_a", "mutex"]);
    fs::write(
        dir.path().join("pipeline.yaml"),
        PIPELINE.replace("size: 400", "size: 300"),
    )
    .unwrap();
    fs::rename(store.join("db"), store.join("db.away")).unwrap();
    assert!(stale_note(&query()), "{}", stderr(&query()));
    fs::rename(store.join("db.away"), store.join("db")).unwrap();
    fs::remove_file(&record).unwrap();
    assert!(stale_note(&query()), "{}", stderr(&query()));
    fs::write(dir.path().join("pipeline.yaml"), PIPELINE).unwrap();
    assert!(stderr(&query()).is_empty(), "{}", stderr(&query()));
    // The next run records the build again.
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    assert!(
        live_generation(dir.path(), "index_a")
            .join("built.json")
            .is_file()
    );
}

/// The live generation folder of index `step` of the `qc` pipeline run in `dir`.
fn live_generation(dir: &Path, step: &str) -> std::path::PathBuf {
    let index = dir.join(".engine/indexes/qc").join(step);
    let current = fs::read_to_string(index.join("CURRENT")).unwrap();
    index.join(current.trim())
}

/// A run in which a document failed still built the rest of the index with its settings: a
/// query with the pipeline of that run says the failed document holds what an earlier run
/// made of it; with the pipeline file of before, that the file changed since the index was
/// built.
#[test]
fn a_run_with_a_failed_document_counts_as_the_build_and_says_what_it_kept() {
    let dir = built();
    let docx = common::shared_corpus().join("docx/docling__docx_checkboxes.docx");
    fs::copy(&docx, dir.path().join("docs/form.docx")).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    fs::write(dir.path().join("docs/form.docx"), "not a zip").unwrap();
    fs::write(
        dir.path().join("pipeline.yaml"),
        PIPELINE.replace("size: 400", "size: 300"),
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(1), "{summary}");
    assert_eq!(summary["steps"]["index_a"]["outcome"]["documents_kept"], 1);
    let query = || engine_with(dir.path(), &["query", "--index", "index_a", "mutex"]);
    let note = stderr(&query());
    assert!(
        note.contains("1 document(s) failed in run ") && !note.contains("file changed"),
        "{note}"
    );
    fs::write(dir.path().join("pipeline.yaml"), PIPELINE).unwrap();
    let note = stderr(&query());
    assert!(note.contains("(step `chunk_a` changed)"), "{note}");
}

/// A run that leaves the index holding what an earlier run made (its source found empty: the
/// index keeps every document) is not taken for the index's build: a query still says the
/// pipeline changed since, and says nothing once the pipeline is as the index was built.
#[test]
fn a_run_that_kept_the_index_as_it_was_does_not_count_as_its_build() {
    let dir = built();
    let query = || engine_with(dir.path(), &["query", "--index", "index_a", "mutex"]);
    let says_stale = |query: &Output| stderr(query).contains("(step `chunk_a` changed)");
    fs::write(
        dir.path().join("pipeline.yaml"),
        PIPELINE.replace("size: 400", "size: 300"),
    )
    .unwrap();
    fs::rename(dir.path().join("docs"), dir.path().join("docs.away")).unwrap();
    fs::create_dir(dir.path().join("docs")).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(1), "{summary}");
    assert!(summary["steps"]["index_a"]["outcome"]["documents_kept"].as_u64() > Some(0));
    assert!(says_stale(&query()), "{}", stderr(&query()));
    fs::write(dir.path().join("pipeline.yaml"), PIPELINE).unwrap();
    assert!(stderr(&query()).is_empty(), "{}", stderr(&query()));
}

/// `--filter section=X` finds every chunk whose text covers section X: the Install text, in a
/// chunk that starts at the empty `# Guide` heading merged with it (so its `section` is Guide),
/// passes `section=Install` and `section=Guide > Install`, with by_heading and recursive alike.
#[test]
fn a_section_filter_finds_a_documents_first_section() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/guide.md"),
        "# Guide\n\n## Install\n\nInstall the widget with the installer.\n\n## Use\n\nUse the widget daily.\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("pipeline.yaml"),
        "version: 1\nname: sections\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  by_heading: { op: chunk.by_heading, input: parse, size: 400, unit: chars }\n  recursive: { op: chunk.recursive, input: parse, size: 60, unit: chars }\n  embed_h: { op: embed, input: by_heading, provider: hash, dim: 64 }\n  embed_r: { op: embed, input: recursive, provider: hash, dim: 64 }\n  index_h: { op: index.hybrid, input: embed_h }\n  index_r: { op: index.hybrid, input: embed_r }\n",
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    for index in ["index_h", "index_r"] {
        let hits = |filter: &str| -> Vec<Value> {
            let output = engine_with(
                dir.path(),
                &[
                    "query", "--index", index, "--mode", "bm25", "--json", "--filter", filter,
                    "widget",
                ],
            );
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            let found: Value = serde_json::from_slice(&output.stdout).unwrap();
            found["hits"].as_array().cloned().unwrap_or_default()
        };
        let texts = |hits: &[Value]| -> String {
            hits.iter()
                .map(|hit| hit["text"].as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        for filter in ["section=Install", "section=Guide > Install"] {
            let found = hits(filter);
            assert!(
                texts(&found).contains("Install the widget with the installer."),
                "{index} {filter}: {found:?}"
            );
            // A hit shows the section its chunk starts in, a path of the document's headings.
            for hit in &found {
                assert_eq!(hit["section"][0], "Guide", "{index} {filter}: {hit}");
            }
        }
        for filter in ["section=Use", "section=Guide > Use"] {
            let found = hits(filter);
            assert!(
                texts(&found).contains("Use the widget daily."),
                "{index} {filter}: {found:?}"
            );
        }
        // Each section's filter passes its own text only (the sizes keep them apart).
        assert!(
            !texts(&hits("section=Use")).contains("Install the widget"),
            "{index}"
        );
        assert!(
            !texts(&hits("section=Install")).contains("Use the widget"),
            "{index}"
        );
        assert!(hits("section=Other").is_empty(), "{index}");
    }
}

/// Ten long documents of many matching chunks and a hundred short ones: a TREC run and
/// `compare` rank as many documents as asked (the chunks are fetched deeper until they hold
/// them), each line's score is below the one before it (trec_eval sorts by score), and
/// Recall@100 counts the short relevant documents.
#[test]
fn long_documents_do_not_crowd_out_the_ranked_documents() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir_all(&docs).unwrap();
    let long_paragraph = "Turbine blade cooling channels carry air along the blade. ";
    for i in 0..10 {
        let paragraphs: Vec<String> = (0..150)
            .map(|p| format!("{long_paragraph}Section {p} of manual {i}."))
            .collect();
        fs::write(docs.join(format!("long{i:02}.md")), paragraphs.join("\n\n")).unwrap();
    }
    let mut qrels = String::from("query-id\tcorpus-id\tscore\n");
    for i in 0..100 {
        fs::write(
            docs.join(format!("short{i:03}.md")),
            format!("Note {i} on turbine cooling.\n"),
        )
        .unwrap();
        qrels.push_str(&format!("q1\tshort{i:03}.md\t1\n"));
    }
    fs::write(dir.path().join("qrels.tsv"), qrels).unwrap();
    fs::write(
        dir.path().join("queries.jsonl"),
        "{\"_id\":\"q1\",\"text\":\"turbine blade cooling\"}\n",
    )
    .unwrap();
    let pipeline = "version: 1\nname: long\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 90, unit: chars }\n  embed: { op: embed, input: chunk, provider: hash, dim: 64 }\n  index: { op: index.hybrid, input: embed }\n";
    fs::write(dir.path().join("pipeline.yaml"), pipeline).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");

    for mode in ["bm25", "vector", "hybrid"] {
        let trec = engine_with(
            dir.path(),
            &[
                "query",
                "--index",
                "index",
                "--mode",
                mode,
                "-k",
                "100",
                "--queries",
                "queries.jsonl",
                "--trec",
                "t",
            ],
        );
        assert_eq!(trec.status.code(), Some(0), "{}", stderr(&trec));
        let lines: Vec<Vec<String>> = stdout(&trec)
            .lines()
            .map(|line| line.split(' ').map(str::to_owned).collect())
            .collect();
        assert_eq!(lines.len(), 100, "{mode}: {}", stdout(&trec));
        let scores: Vec<f32> = lines.iter().map(|line| line[4].parse().unwrap()).collect();
        assert!(
            scores.windows(2).all(|pair| pair[0] > pair[1]),
            "{mode}: {scores:?}"
        );
        let ranks: Vec<usize> = lines.iter().map(|line| line[3].parse().unwrap()).collect();
        assert_eq!(ranks, (1..=100).collect::<Vec<_>>());
    }

    let compare = engine_with(
        dir.path(),
        &[
            "compare",
            "--queries",
            "queries.jsonl",
            "--qrels",
            "qrels.tsv",
            "--modes",
            "bm25",
            "--json",
        ],
    );
    assert_eq!(compare.status.code(), Some(0), "{}", stderr(&compare));
    let report: Value = serde_json::from_slice(&compare.stdout).unwrap();
    let text = report.to_string();
    // The true top 100 holds the 10 long documents and 90 short ones.
    let recall = report["branches"]["index"]["bm25"]["recall@100"].as_f64();
    assert_eq!(recall, Some(0.9), "{text}");
}

/// Without judgments, two branches that both find nothing for a query do not overlap
/// perfectly: that query has no overlap, and a report of such queries alone says so.
#[test]
fn two_empty_lists_have_no_overlap() {
    let dir = built();
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"zzzzqqq\"}\n",
    )
    .unwrap();
    let args = ["compare", "--queries", "q.jsonl", "--modes", "bm25"];
    let output = engine_with(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("no query has hits on either side"), "{text}");
    assert!(text.contains("query q1: no hits on either side"), "{text}");
    assert!(!text.contains("Jaccard"), "{text}");
    let json = engine_with(dir.path(), &[&args[..], &["--json"]].concat());
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(report["pairs"][0]["mean_overlap"].is_null(), "{report}");
}

/// A BM25 query or comparison never reads the vector half (the graph and vectors took 4 s and
/// 1.75 GB at 284,000 chunks), so damaged vectors do not stop it; a search that needs them
/// says the index is damaged and what rebuilds it, before any query runs.
#[test]
fn bm25_never_reads_the_vectors_and_the_rest_report_their_damage() {
    let dir = built();
    let generation = live_generation(dir.path(), "index_a");
    assert!(generation.join("vectors.f32").is_file());
    let vectors = fs::OpenOptions::new()
        .write(true)
        .open(generation.join("vectors.f32"))
        .unwrap();
    vectors.set_len(10).unwrap();
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex shared data\"}\n",
    )
    .unwrap();
    let query = |mode: &str| {
        engine_with(
            dir.path(),
            &["query", "--index", "index_a", "--mode", mode, "mutex"],
        )
    };
    let compare = |modes: &str| {
        let args = ["compare", "--queries", "q.jsonl", "--modes", modes];
        engine_with(dir.path(), &[&args[..], &["--index", "index_a"]].concat())
    };
    let bm25 = query("bm25");
    assert_eq!(bm25.status.code(), Some(0), "{}", stderr(&bm25));
    assert!(stdout(&bm25).contains("threads.md"), "{}", stdout(&bm25));
    let bm25 = compare("bm25");
    assert_eq!(bm25.status.code(), Some(0), "{}", stderr(&bm25));
    for output in [query("vector"), query("hybrid"), compare("bm25,vector")] {
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{message}");
        assert!(
            message.contains("cannot open the index of `index_a`")
                && message.contains("rebuilds an index found damaged"),
            "{message}"
        );
        assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    }
}

/// A text index file damaged inside (bytes overwritten in a `.store`) opens, but reading a
/// hit fails: the query says the index is damaged and what rebuilds it, as other damage does
/// (it said only "cannot read a hit: the offset to copy is not contained…").
#[test]
fn a_damaged_text_index_file_says_what_rebuilds_it() {
    let dir = built();
    let text = live_generation(dir.path(), "index_a").join("text");
    let stores: Vec<_> = (fs::read_dir(&text).unwrap().flatten())
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "store"))
        .collect();
    assert!(!stores.is_empty(), "no .store file in {}", text.display());
    // The first half of every segment's stored texts (their compressed blocks; the footer
    // that opening reads stays whole).
    for store in stores {
        let mut bytes = fs::read(&store).unwrap();
        let half = bytes.len() / 2;
        bytes[..half].fill(0xff);
        fs::write(&store, bytes).unwrap();
    }
    let output = engine_with(
        dir.path(),
        &["query", "--index", "index_a", "--mode", "bm25", "mutex"],
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{message}");
    assert!(
        message.contains("cannot search the index of `index_a`")
            && message.contains("rebuilds an index found damaged"),
        "{message}"
    );
}

/// A vector graph found damaged is not walked (every chunk is scored) until a run saves it
/// anew, and a search that would walk it says so, as `query` (and `compare`, in its warnings
/// too); a search that scores every chunk anyway (a narrow filter) never reads the graph's
/// files, and says nothing; BM25 never reads it.
#[test]
fn a_search_that_would_walk_a_damaged_graph_says_so() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("docs")).unwrap();
    let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    ];
    for i in 0..40 {
        let text = format!(
            "# Note {i}\n\n{} {} {} {i}\n",
            words[i % 8],
            words[(i / 8) % 8],
            words[(i * 3) % 8]
        );
        fs::write(dir.path().join(format!("docs/n{i:02}.md")), text).unwrap();
    }
    // A graph this small is walked only when the walk is cheap: m 2, ef_search 1, 1 deep.
    fs::write(
        dir.path().join("pipeline.yaml"),
        "version: 1\nname: qc\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 400, unit: chars }\n  embed: { op: embed, input: chunk, provider: hash, dim: 64 }\n  index: { op: index.hybrid, input: embed, m: 2, ef_search: 1, candidates: 1 }\n",
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    fs::remove_file(live_generation(dir.path(), "index").join("hnsw.hnsw.graph")).unwrap();
    let says = "the vector graph of index `index` is damaged";
    let query = |args: &[&str]| {
        let base = ["query", "--index", "index", "-k", "1"];
        let output = engine_with(dir.path(), &[&base[..], args].concat());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        (stdout(&output), stderr(&output))
    };
    let (walked, note) = query(&["--mode", "vector", "alpha bravo"]);
    assert!(note.contains(says), "{note}");
    assert!(walked.contains("1. "), "{walked}");
    let (_, note) = query(&["--mode", "vector", "--filter", "doc_id=n01.md", "bravo"]);
    assert!(
        !note.contains(says),
        "a narrow filter scores its chunks: {note}"
    );
    let (_, note) = query(&["--mode", "bm25", "alpha"]);
    assert!(!note.contains(says), "{note}");
}

/// `compare` says so too, in its warnings (stderr and JSON alike), when its searches walk a
/// damaged graph: one that ranks 100 documents walks only a graph of more than 1,200 chunks.
#[test]
fn a_comparison_that_would_walk_a_damaged_graph_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    ];
    let records: Vec<String> = (0..1_300)
        .map(|i| {
            let text = format!(
                "{} {} {} {i}",
                words[i % 8],
                words[(i / 8) % 8],
                words[i / 64 % 8]
            );
            serde_json::json!({ "_id": format!("d{i}"), "text": text }).to_string()
        })
        .collect();
    fs::write(dir.path().join("corpus.jsonl"), records.join("\n")).unwrap();
    fs::write(
        dir.path().join("queries.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"alpha bravo\"}\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("pipeline.yaml"),
        "version: 1\nname: qc\nsteps:\n  docs: { op: source.jsonl, path: corpus.jsonl, id_field: _id }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 400, unit: chars }\n  embed: { op: embed, input: chunk, provider: hash, dim: 64 }\n  index: { op: index.hybrid, input: embed, m: 2, ef_search: 1 }\n",
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let compare = |modes: &str| {
        let args = [
            "compare",
            "--queries",
            "queries.jsonl",
            "--modes",
            modes,
            "--json",
        ];
        let output = engine_with(dir.path(), &args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
        (report["warnings"].to_string(), stderr(&output))
    };
    let says = "the vector graph of index `index` is damaged";
    let (warnings, note) = compare("vector");
    assert!(!warnings.contains(says) && !note.contains(says), "{note}");
    fs::remove_file(live_generation(dir.path(), "index").join("hnsw.hnsw.graph")).unwrap();
    let (warnings, note) = compare("vector");
    assert!(warnings.contains(says), "{warnings}");
    assert!(note.contains(says), "{note}");
    let (warnings, note) = compare("bm25");
    assert!(!warnings.contains(says) && !note.contains(says), "{note}");
}
