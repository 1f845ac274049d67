//! The command line's contract on bad input: exit codes (2 for what the user must fix, 3 for
//! what stopped a valid command), JSON errors with `--json`, and limits on what arguments can
//! ask for. On the real binary, with the hash embedder.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Output;

use common::{engine, run_json, stderr, stdout};
use serde_json::Value;

const PIPELINE: &str = "version: 1\nname: cli\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk_a: { op: chunk.recursive, input: parse, size: 400, unit: chars }\n  chunk_b: { op: chunk.recursive, input: parse, size: 120, unit: chars }\n  embed_a: { op: embed, input: chunk_a, provider: hash, dim: 256 }\n  embed_b: { op: embed, input: chunk_b, provider: hash, dim: 256 }\n  index_a: { op: index.hybrid, input: embed_a }\n  index_b: { op: index.hybrid, input: embed_b }\n";

/// Three short documents, the pipeline above, a queries file and its judgments; not run yet.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::three_documents(&dir.path().join("docs"));
    fs::write(dir.path().join("pipeline.yaml"), PIPELINE).unwrap();
    fs::write(
        dir.path().join("queries.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex shared data\"}\n{\"_id\": \"q2\", \"text\": \"heap box recursive\"}\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("qrels.tsv"),
        "query-id\tcorpus-id\tscore\nq1\tthreads.md\t1\nq2\tboxes.md\t1\n",
    )
    .unwrap();
    dir
}

/// `engine COMMAND ARGS…` in `dir`.
fn engine_in(dir: &Path, args: &[&str]) -> Output {
    engine().current_dir(dir).args(args).output().unwrap()
}

/// Asserts that `args` exits with `code` and that stderr says `needle`.
fn assert_fails(dir: &Path, args: &[&str], code: i32, needle: &str) -> Output {
    let output = engine_in(dir, args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(needle),
        "{args:?}: expected `{needle}` in: {}",
        stderr(&output)
    );
    output
}

fn hits(output: &Output) -> Vec<Value> {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    value["hits"].as_array().unwrap().clone()
}

/// `-k` is capped by the chunks in the index, in every mode and in fusion, before anything is
/// sized by it; `-k 0` is a usage error.
#[test]
fn query_k_is_capped_by_the_index_and_zero_is_refused() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let chunks = summary["steps"]["chunk_b"]["chunks"].as_u64().unwrap() as usize;
    assert!(chunks > 3, "{summary}");
    for (mode, fusion) in [
        ("vector", None),
        ("hybrid", None),
        ("hybrid", Some("--alpha=0.5")),
        ("hybrid", Some("--rrf-k=1")),
    ] {
        for k in [
            "9223372036854775807",
            "18446744073709551615",
            "1000000000000",
        ] {
            let mut args = vec![
                "query",
                "pipeline.yaml",
                "--index",
                "index_b",
                "--json",
                "--mode",
                mode,
                "-k",
                k,
            ];
            args.extend(fusion);
            args.push("threads heap errors");
            let found = hits(&engine_in(dir.path(), &args));
            assert_eq!(found.len(), chunks, "{mode} {fusion:?} -k {k}");
        }
    }
    let bm25 = hits(&engine_in(
        dir.path(),
        &[
            "query",
            "pipeline.yaml",
            "--index",
            "index_b",
            "--json",
            "--mode",
            "bm25",
            "-k",
            "18446744073709551615",
            "threads",
        ],
    ));
    assert!(!bm25.is_empty() && bm25.len() <= chunks, "{bm25:?}");
    // A TREC run's depth is capped too.
    let trec = engine_in(
        dir.path(),
        &[
            "query",
            "pipeline.yaml",
            "--index",
            "index_b",
            "-k",
            "18446744073709551615",
            "--trec",
            "run",
            "--queries",
            "queries.jsonl",
        ],
    );
    assert_eq!(trec.status.code(), Some(0), "{}", stderr(&trec));
    assert_eq!(
        stdout(&trec).lines().count(),
        2 * 3,
        "every document per query"
    );
    for k in ["-k=0", "-k=-1", "-k=ten", "-k=99999999999999999999999"] {
        assert_fails(
            dir.path(),
            &["query", "pipeline.yaml", "--index", "index_b", k, "x"],
            2,
            "for '-k <K>'",
        );
    }
    assert_fails(
        dir.path(),
        &[
            "compare",
            "pipeline.yaml",
            "--queries",
            "queries.jsonl",
            "--k",
            "0",
        ],
        2,
        "must be at least 1",
    );
}

/// `--alpha` is a weight from 0 to 1, `--rrf-k` a finite constant; they exclude each other and
/// are refused where no mode fuses.
#[test]
fn fusion_settings_are_checked_and_apply_to_hybrid_only() {
    let dir = setup();
    run_json(dir.path());
    let query = |extra: &[&str]| {
        let mut args = vec!["query", "pipeline.yaml", "--index", "index_a", "--json"];
        args.extend(extra);
        args.push("threads");
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    for alpha in ["1.5", "-0.1", "inf", "NaN", "nan", "x"] {
        let alpha = format!("--alpha={alpha}");
        let args = query(&[&alpha]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_fails(dir.path(), &args, 2, "from 0 to 1");
    }
    for k in ["-1", "inf", "NaN"] {
        let k = format!("--rrf-k={k}");
        let args = query(&[&k]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_fails(dir.path(), &args, 2, "RRF constant");
    }
    let args = query(&["--alpha", "0.5", "--rrf-k", "10"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_fails(dir.path(), &args, 2, "cannot be used with");
    for mode in ["bm25", "vector"] {
        for flag in [["--alpha", "0.5"], ["--rrf-k", "10"]] {
            let args = query(&["--mode", mode, flag[0], flag[1]]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            assert_fails(dir.path(), &args, 2, "has no hybrid");
        }
    }
    for alpha in ["0", "1", "0.25"] {
        let args = query(&["--alpha", alpha]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let found = hits(&engine_in(dir.path(), &args));
        assert!(
            found.iter().all(|hit| hit["score"].is_number()),
            "{found:?}"
        );
    }
    let compare = |extra: &[&str]| {
        let mut args = vec![
            "compare",
            "pipeline.yaml",
            "--queries",
            "queries.jsonl",
            "--trials",
            "10",
        ];
        args.extend(extra);
        engine_in(dir.path(), &args)
    };
    let clamped_before = compare(&["--alpha", "2"]);
    assert_eq!(clamped_before.status.code(), Some(2));
    assert!(stderr(&clamped_before).contains("from 0 to 1"));
    let no_hybrid = compare(&["--modes", "bm25,vector", "--rrf-k", "10"]);
    assert_eq!(no_hybrid.status.code(), Some(2));
    assert!(
        stderr(&no_hybrid).contains("`--modes bm25,vector` has no hybrid"),
        "{}",
        stderr(&no_hybrid)
    );
    let trials = compare(&["--trials", "100000000000"]);
    assert_eq!(trials.status.code(), Some(2), "{}", stderr(&trials));
}

/// A representative of every class of failure: 2 for what the user must fix (arguments, input
/// files, unknown names, nothing built yet), 3 when a valid command could not be carried out.
#[test]
fn bad_input_exits_2_and_what_stops_a_valid_command_exits_3() {
    let dir = setup();
    let d = dir.path();
    // Nothing built yet.
    assert_fails(
        d,
        &["query", "pipeline.yaml", "--index", "index_a", "x"],
        2,
        "has no index yet",
    );
    assert_fails(
        d,
        &["runs", "--pipeline", "pipeline.yaml"],
        2,
        "no store at",
    );
    assert_fails(d, &["tap", "--pipeline", "pipeline.yaml"], 2, "no store at");
    let (code, summary) = run_json(d);
    assert_eq!(code, Some(0), "{summary}");
    // Names that do not exist, bad arguments, bad input files.
    for (args, needle) in [
        (
            &["query", "pipeline.yaml", "--index", "nope", "x"][..],
            "no step `nope`",
        ),
        (
            &["query", "pipeline.yaml", "--index", "chunk_a", "x"],
            "not an index",
        ),
        (
            &[
                "query",
                "pipeline.yaml",
                "--index",
                "index_a",
                "--filter",
                "bogus",
                "x",
            ],
            "not key=value",
        ),
        (
            &[
                "query",
                "pipeline.yaml",
                "--index",
                "index_a",
                "--queries",
                "missing.jsonl",
            ],
            "cannot read missing.jsonl",
        ),
        (
            &[
                "query",
                "pipeline.yaml",
                "--index",
                "index_a",
                "--queries",
                "qrels.tsv",
            ],
            "qrels.tsv:1: invalid JSON",
        ),
        (
            &[
                "query",
                "pipeline.yaml",
                "--index",
                "index_a",
                "--queries",
                "queries.jsonl",
                "--trec",
                "",
            ],
            "run name `` is empty",
        ),
        (
            &[
                "compare",
                "pipeline.yaml",
                "--queries",
                "queries.jsonl",
                "--run",
                "x=missing.trec",
            ],
            "cannot read missing.trec",
        ),
        (
            &[
                "compare",
                "pipeline.yaml",
                "--queries",
                "queries.jsonl",
                "--html",
                "no/such/folder/report.html",
            ],
            "no folder no/such/folder",
        ),
        (&["inspect", "nope", "--store", ".engine"], "no run `nope`"),
        (
            &["inspect", "latest", "--step", "nope", "--store", ".engine"],
            "has no step `nope`",
        ),
        (
            &[
                "inspect", "latest", "--doc", "nope.md", "--store", ".engine",
            ],
            "has no document `nope.md`",
        ),
        (&["tap", "--store", ".engine"], "no run is using"),
        (&["gc", "pipeline.yaml", "--keep-runs", "0"], "at least 1"),
        (&["parse", "missing.md"], "missing.md"),
        (
            &["parse", "."],
            "is a folder: `engine parse` reads one file",
        ),
        (
            &["parse", "x.md", "--as", "word"],
            "[possible values: text, markdown",
        ),
        // `--trec` asks for `--queries`, with a query text or without.
        (
            &[
                "query",
                "pipeline.yaml",
                "--index",
                "index_a",
                "--trec",
                "x",
            ],
            "not provided:\n  --queries <QUERIES>\n",
        ),
        (
            &[
                "query",
                "pipeline.yaml",
                "--index",
                "index_a",
                "box",
                "--trec",
                "x",
            ],
            "give `--queries FILE`",
        ),
    ] {
        assert_fails(d, args, 2, needle);
    }
    // A FIFO is refused, not waited on for a writer that never comes.
    let made = std::process::Command::new("mkfifo")
        .arg(d.join("pipe.md"))
        .status()
        .unwrap();
    assert!(made.success());
    assert_fails(d, &["parse", "pipe.md"], 2, "not a regular file");
    // A file over the limit fails as an unparsable one does (a sparse file: nothing written).
    let huge = fs::File::create(d.join("huge.md")).unwrap();
    huge.set_len(300 << 20).unwrap();
    assert_fails(d, &["parse", "huge.md"], 1, "larger than 256 MiB");
    fs::write(
        d.join("plain.yaml"),
        "version: 1\nname: plain\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  out: { op: sink.jsonl, input: parse, path: out.jsonl }\n",
    )
    .unwrap();
    assert_fails(
        d,
        &["compare", "plain.yaml", "--queries", "queries.jsonl"],
        2,
        "has no index.hybrid step",
    );
    // A page that cannot be written: exit 3, and the report is printed all the same.
    let output = assert_fails(
        d,
        &[
            "compare",
            "pipeline.yaml",
            "--queries",
            "queries.jsonl",
            "--qrels",
            "qrels.tsv",
            "--trials",
            "10",
            "--html",
            "/dev/full",
        ],
        3,
        "cannot write /dev/full",
    );
    assert!(
        stdout(&output).contains("index_a · hybrid"),
        "{}",
        stdout(&output)
    );

    // The store in use by another process (no run answering for it): 3, for every command.
    let mut lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(d.join(".engine/lock"))
        .unwrap();
    lock.try_lock().unwrap();
    lock.set_len(0).unwrap();
    write!(lock, "4242").unwrap();
    for args in [
        &["run", "pipeline.yaml"][..],
        &["gc", "pipeline.yaml"],
        &["runs", "--store", ".engine"],
        &["inspect", "latest", "--store", ".engine"],
    ] {
        assert_fails(d, args, 3, "in use by process 4242");
    }
    lock.unlock().unwrap();
    // A store that is a file is refused when the pipeline is checked.
    fs::write(
        d.join("filestore.yaml"),
        PIPELINE.replace("name: cli\n", "name: cli\nstore: afile\n"),
    )
    .unwrap();
    fs::write(d.join("afile"), "not a store").unwrap();
    assert_fails(d, &["run", "filestore.yaml"], 2, "the store is a folder");
    // So is a store that holds the documents: sources never read it.
    fs::write(
        d.join("docstore.yaml"),
        PIPELINE.replace("name: cli\n", "name: cli2\nstore: docs\n"),
    )
    .unwrap();
    assert_fails(
        d,
        &["validate", "docstore.yaml"],
        2,
        "inside the pipeline's store",
    );
    // A sink writing into the store would damage it (a run did, for good), and one writing a
    // device or FIFO would put a file in its place: both are refused before the run.
    for (name, path, says) in [
        (
            "sinkstore",
            ".engine/db/conf",
            "inside the pipeline's store",
        ),
        ("sinkdevice", "/dev/null", "not a regular file"),
    ] {
        fs::write(
            d.join(format!("{name}.yaml")),
            format!("{PIPELINE}  out: {{ op: sink.jsonl, input: parse, path: {path} }}\n"),
        )
        .unwrap();
        assert_fails(d, &["validate", &format!("{name}.yaml")], 2, says);
        assert_fails(d, &["run", &format!("{name}.yaml")], 2, says);
    }
    assert!(
        fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

/// With `--json`, a failing command prints one JSON object on stdout,
/// `{"error": {"message", "code"}}`, beside the message on stderr.
#[test]
fn with_json_every_error_is_one_object_on_stdout() {
    let dir = setup();
    let d = dir.path();
    run_json(d);
    for args in [
        &["query", "pipeline.yaml", "--index", "nope", "--json", "x"][..],
        &[
            "query",
            "pipeline.yaml",
            "--index",
            "index_a",
            "-k",
            "0",
            "--json",
            "x",
        ],
        &[
            "query",
            "pipeline.yaml",
            "--index",
            "index_a",
            "--alpha",
            "NaN",
            "--json",
            "x",
        ],
        &[
            "compare",
            "pipeline.yaml",
            "--queries",
            "missing.jsonl",
            "--json",
        ],
        &["inspect", "nope", "--store", ".engine", "--json"],
        &["runs", "--store", "docs/threads.md", "--json"],
        &["tap", "--store", ".engine", "--json"],
        &["gc", "pipeline.yaml", "--keep-runs", "0", "--json"],
        &["parse", "missing.md", "--json"],
        &["run", "missing.yaml", "--json"],
        &["validate", "missing.yaml", "--json"],
        &["graph", "missing.yaml", "--json"],
        &["runs", "--pipeline", "missing.yaml", "--json"],
    ] {
        let output = engine_in(d, args);
        let code = output.status.code().unwrap();
        assert_eq!(code, 2, "{args:?}: {}", stderr(&output));
        let text = stdout(&output);
        assert_eq!(text.lines().count(), 1, "{args:?}: one line: {text}");
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|err| {
            panic!("{args:?}: not JSON ({err}): {text}");
        });
        let message = value["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{args:?}: {value}");
        assert_eq!(value["error"]["code"], code, "{args:?}: {value}");
        assert!(stderr(&output).contains("error"), "{args:?}");
    }
    // A usage error names what is wrong: the missing argument too (its message stopped at
    // "the following required arguments were not provided:").
    let output = engine_in(d, &["inspect", "--json"]);
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    let message = value["error"]["message"].as_str().unwrap_or_default();
    assert!(message.ends_with("not provided: <RUN>"), "{value}");
    // A pipeline that does not load keeps its diagnostics, as `validate --json` gives them.
    let output = engine_in(d, &["run", "missing.yaml", "--json"]);
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["valid"], false, "{value}");
    assert!(value["diagnostics"][0]["message"].is_string(), "{value}");
    // Could not run: code 3 in the object too.
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(d.join(".engine/lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let output = engine_in(d, &["run", "pipeline.yaml", "--json"]);
    assert_eq!(output.status.code(), Some(3));
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["error"]["code"], 3, "{value}");
    assert!(
        value["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in use"),
        "{value}"
    );
    lock.unlock().unwrap();
}

/// `schema` and `parse` take `--json` as every command does.
#[test]
fn schema_and_parse_take_json() {
    let dir = setup();
    let plain = engine_in(dir.path(), &["schema"]);
    let json = engine_in(dir.path(), &["schema", "--json"]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    assert_eq!(json.stdout, plain.stdout);
    let file = "docs/threads.md";
    let json = engine_in(dir.path(), &["parse", file, "--json"]);
    let format = engine_in(dir.path(), &["parse", file, "--format", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let parsed = |output: &Output| serde_json::from_slice::<Value>(&output.stdout).unwrap();
    assert_eq!(parsed(&json), parsed(&format));
    assert_eq!(parsed(&json)["title"], "Threads");
    assert_fails(
        dir.path(),
        &["parse", file, "--json", "--format", "markdown"],
        2,
        "cannot be used with",
    );
}

/// `runs` names a pipeline's problems once, and a file given as the store is not a store.
#[test]
fn runs_says_what_is_wrong_with_the_store_it_is_given() {
    let dir = setup();
    let output = assert_fails(
        dir.path(),
        &["runs", "--pipeline", "nonexist.yaml"],
        2,
        "nonexist.yaml:1:1: error: cannot read the pipeline file",
    );
    assert!(
        !stderr(&output).contains("error: nonexist.yaml:1:1: error:"),
        "{}",
        stderr(&output)
    );
    assert_fails(
        dir.path(),
        &["runs", "--store", "queries.jsonl"],
        2,
        "queries.jsonl is a file, not a store",
    );
    assert_fails(
        dir.path(),
        &["runs", "--store", "docs"],
        2,
        "docs is not a store",
    );
}

/// A run id prefix names one run or is refused with the runs it matches; an empty id is refused.
#[test]
fn inspect_refuses_an_ambiguous_prefix_and_an_empty_id() {
    let dir = setup();
    let ids: Vec<String> = (0..2)
        .map(|_| {
            run_json(dir.path()).1["run_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let shared: String = ids[0]
        .chars()
        .zip(ids[1].chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    let output = assert_fails(
        dir.path(),
        &["inspect", &shared, "--store", ".engine"],
        2,
        "is ambiguous: 2 runs match",
    );
    for id in &ids {
        assert!(stderr(&output).contains(id.as_str()), "{}", stderr(&output));
    }
    assert_fails(
        dir.path(),
        &["inspect", "", "--store", ".engine"],
        2,
        "the run id is empty",
    );
    // A prefix of one run, and a whole id, find it.
    for id in [&ids[0][..ids[0].len() - 1], ids[0].as_str()] {
        let output = engine_in(dir.path(), &["inspect", id, "--store", ".engine", "--json"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let run: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(run["run_id"], ids[0].as_str());
    }
}

/// `gc` keeps at least the newest run (it says which checkpoints the pipeline reaches), and on
/// a pipeline without a store it has nothing to collect and makes none.
#[test]
fn gc_keeps_a_run_and_never_makes_a_store() {
    let dir = setup();
    let output = engine_in(dir.path(), &["gc", "pipeline.yaml", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("nothing to collect"),
        "{}",
        stderr(&output)
    );
    let collected: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(collected["removed"], 0);
    assert!(!dir.path().join(".engine").exists(), "gc made a store");
    let help = engine_in(dir.path(), &["gc", "--help"]);
    assert!(stdout(&help).contains("at least 1"), "{}", stdout(&help));
    assert_fails(
        dir.path(),
        &["gc", "pipeline.yaml", "--keep-runs", "0"],
        2,
        "must be at least 1",
    );
    for _ in 0..3 {
        run_json(dir.path());
    }
    let output = engine_in(
        dir.path(),
        &["gc", "pipeline.yaml", "--keep-runs", "1", "--json"],
    );
    let collected: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(collected["runs_removed"], 2, "{collected}");
    assert!(collected["kept"].as_u64().unwrap() > 0, "{collected}");
}

/// A queries file with an id twice and qrels that are malformed or judge none of the queries
/// are refused with the line; what is scored never shows as -0.
#[test]
fn duplicate_query_ids_and_malformed_or_unrelated_qrels_are_refused() {
    let dir = setup();
    let d = dir.path();
    run_json(d);
    fs::write(
        d.join("twice.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"a\"}\n{\"_id\": \"q2\", \"text\": \"b\"}\n{\"_id\": \"q1\", \"text\": \"c\"}\n",
    )
    .unwrap();
    let needle = "twice.jsonl:3: query id `q1` again (first on line 1)";
    assert_fails(
        d,
        &[
            "query",
            "pipeline.yaml",
            "--index",
            "index_a",
            "--queries",
            "twice.jsonl",
        ],
        2,
        needle,
    );
    assert_fails(
        d,
        &["compare", "pipeline.yaml", "--queries", "twice.jsonl"],
        2,
        needle,
    );
    for (qrels, needle) in [
        (
            "q1 threads.md 1\nq2 boxes.md 1\n",
            "bad.tsv:1: not a qrels line",
        ),
        (
            "q1\tthreads.md\t1\n\u{1}\u{2}garbage\n",
            "bad.tsv:2: not a qrels line",
        ),
        ("", "bad.tsv holds no judgments"),
        (
            "x1\tthreads.md\t1\nx2\tboxes.md\t1\n",
            "bad.tsv judges no document relevant to any of the 2 queries",
        ),
    ] {
        fs::write(d.join("bad.tsv"), qrels).unwrap();
        assert_fails(
            d,
            &[
                "compare",
                "pipeline.yaml",
                "--queries",
                "queries.jsonl",
                "--qrels",
                "bad.tsv",
            ],
            2,
            needle,
        );
    }
    // A run that answers none of the judged queries scores 0, not -0.
    fs::write(d.join("ghost.tsv"), "q1\tghost.md\t1\n").unwrap();
    fs::write(d.join("other.trec"), "q2 Q0 boxes.md 1 1.0 other\n").unwrap();
    let args = [
        "compare",
        "pipeline.yaml",
        "--queries",
        "queries.jsonl",
        "--qrels",
        "ghost.tsv",
        "--trials",
        "10",
        "--modes",
        "bm25",
        "--index",
        "index_a",
        "--run",
        "other=other.trec",
    ];
    for json in [true, false] {
        let mut args = args.to_vec();
        if json {
            args.push("--json");
        }
        let output = engine_in(d, &args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(!text.contains("-0.0") && !text.contains("-0,"), "{text}");
        if json {
            let report: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                report["branches"]["other"]["run"]["ndcg@10"], 0.0,
                "{report}"
            );
            assert_eq!(report["judged_queries"], 1, "{report}");
        }
    }
}

/// A store beside the pipeline's folder is named as written when the pipeline is in the
/// working directory, not as `./../st`.
#[test]
fn a_store_outside_the_working_directory_is_named_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    fs::create_dir_all(work.join("docs")).unwrap();
    fs::write(
        work.join("pipeline.yaml"),
        "version: 1\nname: beside\nstore: ../st\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n",
    )
    .unwrap();
    let output = engine_in(&work, &["gc", "pipeline.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no store at ../st yet"),
        "{}",
        stderr(&output)
    );
}

/// A reader that goes away (`engine validate bad.yaml 2>&1 | head -1`) does not make the
/// engine panic (exit 101) on its next message: it ends with its own exit code.
#[test]
fn a_closed_stderr_pipe_keeps_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pipeline.yaml");
    fs::write(
        &file,
        "version: 1\nname: p\nsteps:\n  docs: { op: source.files, path: docs, unti: 3 }\n  parse: { op: prase, input: docs }\n",
    )
    .unwrap();
    for command in ["validate", "gc"] {
        let mut child = engine()
            .arg(command)
            .arg(&file)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(2), "{command}");
    }
}
