//! End-to-end tests of `index.hybrid`, `engine query` and `engine compare` on the real binary,
//! with the model-free hash embedder so they run in seconds.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{copy_of_engine, engine, run_json, stderr, stdout};
use serde_json::Value;

const PIPELINE: &str = common::TWO_INDEX_PIPELINE;

fn setup() -> tempfile::TempDir {
    common::two_index_project()
}

fn query(dir: &Path, args: &[&str]) -> Vec<Value> {
    common::query_json(dir, args)["hits"]
        .as_array()
        .unwrap()
        .clone()
}

fn doc_ids(hits: &[Value]) -> Vec<&str> {
    hits.iter()
        .map(|hit| hit["doc_id"].as_str().unwrap())
        .collect()
}

#[test]
fn every_mode_finds_the_document_about_the_query() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    for mode in ["bm25", "vector", "hybrid"] {
        let hits = query(
            dir.path(),
            &[
                "--index",
                "index_a",
                "--mode",
                mode,
                "-k",
                "3",
                "mutex guards shared data between threads",
            ],
        );
        assert_eq!(doc_ids(&hits)[0], "threads.md", "{mode}: {hits:?}");
        let hit = &hits[0];
        for key in [
            "rank", "score", "chunk_id", "doc_id", "source", "title", "section", "page", "text",
        ] {
            assert!(hit.get(key).is_some(), "{mode}: hit lacks `{key}`");
        }
        assert_eq!(hit["rank"], 1);
    }
    let weighted = query(
        dir.path(),
        &[
            "--index",
            "index_b",
            "--alpha",
            "0.3",
            "recursive types on the heap",
        ],
    );
    assert_eq!(doc_ids(&weighted)[0], "boxes.md");
    let filtered = query(
        dir.path(),
        &[
            "--index",
            "index_b",
            "--filter",
            "doc_id=errors.md",
            "threads",
        ],
    );
    assert!(!filtered.is_empty() && doc_ids(&filtered).iter().all(|doc| *doc == "errors.md"));
}

/// `--explain` shows each hybrid hit's rank and score in the BM25 and vector lists: in the
/// JSON (which has no `explain` without it) the ranks BM25 and vector queries give alone, and
/// a line under each hit in the text; outside hybrid mode it is refused.
#[test]
fn query_explain_shows_each_hybrid_hits_places_in_both_lists() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let text = "mutex guards shared data between threads";
    let args = |mode: &'static str, explain: bool| {
        let mut args = vec!["--index", "index_a", "--mode", mode, "-k", "20"];
        args.extend(explain.then_some("--explain"));
        args.push(text);
        args
    };
    let plain = query(dir.path(), &args("hybrid", false));
    assert!(
        plain.iter().all(|hit| hit.get("explain").is_none()),
        "{plain:?}"
    );
    let explained = query(dir.path(), &args("hybrid", true));
    assert_eq!(doc_ids(&explained), doc_ids(&plain));
    for mode in ["bm25", "vector"] {
        let alone = query(dir.path(), &args(mode, false));
        for hit in &explained {
            let place = &hit["explain"][mode];
            let found = alone
                .iter()
                .find(|other| other["chunk_id"] == hit["chunk_id"]);
            match found {
                Some(other) => {
                    assert_eq!(place["rank"], other["rank"], "{mode}: {hit}");
                    assert_eq!(place["score"], other["score"], "{mode}: {hit}");
                }
                None => assert!(place.is_null(), "{mode}: {hit}"),
            }
        }
    }
    let output = engine()
        .args(["query", "--index", "index_a", "-k", "2", "--explain"])
        .arg(dir.path().join("pipeline.yaml"))
        .arg(text)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = stdout(&output);
    let lines: Vec<&str> = printed.lines().collect();
    assert!(lines[1].trim_start().starts_with("bm25 #"), "{printed}");
    assert!(lines[1].contains(" · vector #"), "{printed}");
    let output = engine()
        .args(["query", "--index", "index_a", "--mode", "bm25", "--explain"])
        .arg(dir.path().join("pipeline.yaml"))
        .arg(text)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--mode hybrid"),
        "{}",
        stderr(&output)
    );
}

/// `--context N` adds to each hit the N chunks before and after it in its document, as the
/// chunk step cut them; at a document's edge, fewer. A context past 50 is refused.
#[test]
fn query_context_adds_the_chunks_around_each_hit() {
    let dir = setup();
    let paragraphs: Vec<String> = (1..=6)
        .map(|n| format!("Paragraph {n} says how threads wait, share and end, step {n} of six."))
        .collect();
    fs::write(
        dir.path().join("docs/long.md"),
        format!("# Threads at length\n\n{}\n", paragraphs.join("\n\n")),
    )
    .unwrap();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let output = engine()
        .args([
            "inspect", "latest", "--json", "--step", "chunk_b", "--doc", "long.md",
        ])
        .arg("--pipeline")
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let inspected: Value = serde_json::from_slice(&output.stdout).unwrap();
    let order: Vec<&str> = (inspected["output"]["chunks"].as_array().unwrap().iter())
        .map(|chunk| chunk["chunk_id"].as_str().unwrap())
        .collect();
    assert!(order.len() >= 5, "{order:?}");
    let hits = query(
        dir.path(),
        &[
            "--index",
            "index_b",
            "--mode",
            "bm25",
            "--context",
            "1",
            "-k",
            "20",
            "--filter",
            "doc_id=long.md",
            "threads",
        ],
    );
    assert!(hits.len() >= 5, "{hits:?}");
    for hit in &hits {
        let at = order.iter().position(|id| hit["chunk_id"] == *id).unwrap();
        let ids = |side: &str| -> Vec<&str> {
            (hit["context"][side].as_array().unwrap().iter())
                .map(|chunk| chunk["chunk_id"].as_str().unwrap())
                .collect()
        };
        assert_eq!(ids("before"), order[at.saturating_sub(1)..at], "{hit}");
        assert_eq!(
            ids("after"),
            order[(at + 1).min(order.len())..(at + 2).min(order.len())],
            "{hit}"
        );
        assert_eq!(
            hit["context"]["before"]
                .as_array()
                .map(|b| b.iter().all(|c| c["doc_id"] == "long.md")),
            Some(true)
        );
    }
    let plain = query(dir.path(), &["--index", "index_b", "threads"]);
    assert!(plain.iter().all(|hit| hit.get("context").is_none()));
    let output = engine()
        .args(["query", "--index", "index_b", "--context", "51"])
        .arg(dir.path().join("pipeline.yaml"))
        .arg("threads")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("with `--filter doc_id=…`"),
        "{}",
        stderr(&output)
    );
    // `-k` is the option's name, in its errors too (it was told as `--k`).
    let output = engine()
        .args(["query", "--index", "index_b", "-k", "0"])
        .arg(dir.path().join("pipeline.yaml"))
        .arg("threads")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("'-k <K>'"), "{}", stderr(&output));
}

/// A query naming an identifier one chunk alone holds finds it first in hybrid mode: BM25
/// ranks it far ahead, while the vector list ranks first the chunks that share the query's
/// other words (by ranks alone, RRF left it out of the first five).
#[test]
fn an_identifier_only_one_chunk_holds_is_first_in_hybrid_mode() {
    let first = hybrid_hits_naming_an_identifier(&["quota.md"]);
    assert_eq!(first[..1], ["quota.md"], "{first:?}");
}

/// Two copies of the identifier's page tie at BM25's first place: both go first in hybrid
/// mode (a lead over the next hit alone promoted none of them).
#[test]
fn an_identifier_two_copies_hold_is_first_in_hybrid_mode() {
    let first = hybrid_hits_naming_an_identifier(&["quota.md", "quota-copy.md"]);
    let mut two = first[..2].to_vec();
    two.sort();
    assert_eq!(two, ["quota-copy.md", "quota.md"], "{first:?}");
}

/// The documents of hybrid mode's first five hits for `configure server logging error E4471`
/// over twelve server-logging pages and `pages` on E4471, after checking that BM25 finds those
/// pages first and the vector search does not.
fn hybrid_hits_naming_an_identifier(pages: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir_all(&docs).unwrap();
    for n in 0..12 {
        let text = format!(
            "# Server {n}\n\nConfigure the server logging settings for host {n} in the config file.\n"
        );
        fs::write(docs.join(format!("server{n:02}.md")), text).unwrap();
    }
    for page in pages {
        let text = "# Quota\n\nError E4471 means the disk quota is exceeded.\n";
        fs::write(docs.join(page), text).unwrap();
    }
    fs::write(dir.path().join("pipeline.yaml"), PIPELINE).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let search = |mode: &str| {
        let args = ["--index", "index_a", "--mode", mode, "-k", "5"];
        let text = "configure server logging error E4471";
        let hits = query(dir.path(), &[&args[..], &[text]].concat());
        doc_ids(&hits)
            .iter()
            .map(|doc| doc.to_string())
            .collect::<Vec<_>>()
    };
    let bm25 = search("bm25");
    assert!(
        bm25[..pages.len()]
            .iter()
            .all(|doc| pages.contains(&doc.as_str())),
        "{bm25:?}"
    );
    let vector = search("vector");
    assert!(
        !pages.contains(&vector[0].as_str()),
        "the vector list must not find them first: {vector:?}"
    );
    search("hybrid")
}

/// Front matter read as YAML: a list filters by each of its elements, in every mode; a bool by
/// its text, a number however it is written (YAML reads `1.10` as the number 1.1).
#[test]
fn a_list_in_front_matter_filters_by_each_element() {
    let dir = setup();
    fs::write(
        dir.path().join("docs/tagged.md"),
        "---\ntags: [rust, memory]\ncategories:\n- guide\nyear: 2020\nversion: 1.10\ndraft: false\n---\n# Tagged\n\nData on the heap, in threads.\n",
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    for mode in ["bm25", "vector", "hybrid"] {
        for filter in [
            "tags=rust",
            "tags=memory",
            "categories=guide",
            "year=2020",
            "year=2020.0",
            "version=1.10",
            "draft=false",
        ] {
            let hits = query(
                dir.path(),
                &[
                    "--index",
                    "index_a",
                    "--mode",
                    mode,
                    "--filter",
                    filter,
                    "heap threads",
                ],
            );
            assert_eq!(doc_ids(&hits), ["tagged.md"], "{mode} {filter}");
        }
        for filter in ["tags=[rust, memory]", "tags=guide"] {
            let hits = query(
                dir.path(),
                &[
                    "--index",
                    "index_a",
                    "--mode",
                    mode,
                    "--filter",
                    filter,
                    "heap threads",
                ],
            );
            assert!(hits.is_empty(), "{mode} {filter}: {hits:?}");
        }
    }
}

/// A file of queries gives, query by query, what one query at a time gives; as a TREC run,
/// documents ranked by their best chunk, each once.
#[test]
fn a_file_of_queries_answers_each_as_alone_and_as_a_trec_run() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let queries = [
        ("q1", "mutex guards shared data between threads"),
        ("q2", "recursive types on the heap"),
        ("q3", "errors"),
    ];
    let file = dir.path().join("queries.jsonl");
    let lines: Vec<String> = queries
        .iter()
        .map(|(id, text)| serde_json::json!({ "_id": id, "text": text }).to_string())
        .collect();
    // Saved with a byte-order mark, as Notepad does: it is skipped.
    fs::write(&file, format!("\u{feff}{}", lines.join("\n"))).unwrap();
    let batch = |extra: &[&str]| {
        let output = engine()
            .arg("query")
            .arg(dir.path().join("pipeline.yaml"))
            .args(["--index", "index_b", "-k", "3", "--queries"])
            .arg(&file)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    let answers: Vec<Value> = batch(&["--json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(answers.len(), queries.len());
    for ((id, text), answer) in queries.iter().zip(&answers) {
        assert_eq!(answer["query_id"], *id);
        let alone = query(dir.path(), &["--index", "index_b", "-k", "3", text]);
        assert_eq!(answer["hits"].as_array().unwrap(), &alone, "{id}");
    }

    let run = batch(&["--trec", "hybrid-b"]);
    let mut per_query: std::collections::BTreeMap<&str, Vec<(&str, usize, f64)>> =
        Default::default();
    for line in run.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [qid, "Q0", doc, rank, score, "hybrid-b"] = fields[..] else {
            panic!("not a TREC run line: {line}")
        };
        let entry = (doc, rank.parse().unwrap(), score.parse().unwrap());
        per_query.entry(qid).or_default().push(entry);
    }
    assert_eq!(
        per_query.keys().copied().collect::<Vec<_>>(),
        ["q1", "q2", "q3"]
    );
    for (qid, docs) in &per_query {
        // index_b cuts the documents into several chunks each: a document comes once, at the
        // rank of its best chunk, up to k documents.
        let ids: std::collections::HashSet<&str> = docs.iter().map(|d| d.0).collect();
        assert_eq!(ids.len(), docs.len(), "{qid}: {docs:?}");
        assert_eq!(docs.len(), 3, "{qid}: all three documents within k = 3");
        let ranks: Vec<usize> = docs.iter().map(|d| d.1).collect();
        assert_eq!(ranks, [1, 2, 3], "{qid}");
        assert!(docs.windows(2).all(|w| w[0].2 >= w[1].2), "{qid}: {docs:?}");
    }
    assert_eq!(per_query["q1"][0].0, "threads.md");
    assert_eq!(per_query["q2"][0].0, "boxes.md");

    // A query id a TREC run cannot hold is refused, with what to do.
    fs::write(&file, r#"{"_id": "q 1", "text": "threads"}"#).unwrap();
    let output = engine()
        .arg("query")
        .arg(dir.path().join("pipeline.yaml"))
        .args(["--index", "index_b", "--trec", "run", "--queries"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty(), "refused before any query runs");
    assert!(
        stderr(&output).contains("query id `q 1`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn reruns_never_duplicate_and_changes_replace_or_remove_a_documents_chunks() {
    let dir = setup();
    // What each index update did, as the run's report tells: indexed, unchanged, removed.
    let counts = |summary: &Value| {
        let outcome = &summary["steps"]["index_b"]["outcome"];
        let count = |key: &str| outcome[key].as_u64().unwrap();
        (
            count("documents_indexed"),
            count("documents_unchanged"),
            count("documents_removed"),
        )
    };
    assert_eq!(counts(&run_json(dir.path()).1), (3, 0, 0));
    let all = |dir: &Path| {
        query(
            dir,
            &[
                "--index",
                "index_b",
                "--mode",
                "bm25",
                "-k",
                "100",
                "threads heap errors box mutex result",
            ],
        )
    };
    let before = all(dir.path());
    assert_eq!(counts(&run_json(dir.path()).1), (0, 3, 0));
    assert_eq!(
        all(dir.path()).len(),
        before.len(),
        "re-ingesting must not duplicate"
    );
    fs::remove_file(dir.path().join("docs/errors.md")).unwrap();
    fs::write(
        dir.path().join("docs/boxes.md"),
        "# Boxes\n\nA box is a smart pointer; the heap holds its value.\n",
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0));
    assert_eq!(counts(&summary), (1, 1, 1));
    let after = all(dir.path());
    assert!(
        !doc_ids(&after).contains(&"errors.md"),
        "a removed document leaves the index"
    );
    let boxes: Vec<&Value> = after
        .iter()
        .filter(|hit| hit["doc_id"] == "boxes.md")
        .collect();
    assert!(!boxes.is_empty());
    assert!(
        boxes
            .iter()
            .all(|hit| !hit["text"].as_str().unwrap().contains("Recursive")),
        "old chunks are replaced"
    );
    let ids: std::collections::HashSet<&str> = after
        .iter()
        .map(|hit| hit["chunk_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), after.len());
}

#[test]
fn a_document_that_fails_keeps_its_indexed_chunks_until_it_parses_again() {
    let dir = setup();
    let report = dir.path().join("docs/report.pdf");
    fs::copy(
        common::repo().join("tests/fixtures/pdf-extract-panics.pdf"),
        &report,
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let find = |dir: &Path| {
        doc_ids(&query(
            dir,
            &[
                "--index",
                "index_a",
                "--mode",
                "bm25",
                "readable first page",
            ],
        ))
        .iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
    };
    assert_eq!(
        find(dir.path()).first().map(String::as_str),
        Some("report.pdf")
    );
    let made_in = summary["run_id"].clone();
    // The file is damaged now: that document fails, and a failure is not a removal.
    fs::write(&report, b"%PDF-1.4\nnot really a pdf").unwrap();
    let (_, summary) = run_json(dir.path());
    assert_eq!(summary["steps"]["parse"]["failed"], 1, "{summary}");
    assert_eq!(
        find(dir.path()).first().map(String::as_str),
        Some("report.pdf")
    );
    // `inspect` says which run made what the index keeps of it; of a document that never
    // went through, that nothing is kept.
    let inspect = |doc: &str| -> Value {
        let output = engine()
            .args(["inspect", "latest", "--json", "--doc", doc, "--pipeline"])
            .arg(dir.path().join("pipeline.yaml"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    assert_eq!(inspect("report.pdf")["kept_from"], made_in);
    assert!(inspect("boxes.md").get("kept_from").is_none());
    fs::write(
        dir.path().join("docs/never.pdf"),
        b"%PDF-1.4\nnot one either",
    )
    .unwrap();
    run_json(dir.path());
    assert_eq!(inspect("never.pdf")["kept_from"], Value::Null);
    // Gone from the folder, it leaves the index.
    fs::remove_file(&report).unwrap();
    fs::remove_file(dir.path().join("docs/never.pdf")).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    assert!(!find(dir.path()).contains(&"report.pdf".to_owned()));
}

#[test]
fn querying_a_step_that_is_not_an_index_says_which_are() {
    let dir = setup();
    run_json(dir.path());
    let output = engine()
        .arg("query")
        .arg(dir.path().join("pipeline.yaml"))
        .args(["--index", "chunk_a", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("index steps: index_a, index_b"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn compare_scores_branches_tests_significance_and_writes_a_page_chromium_renders() {
    let dir = setup();
    run_json(dir.path());
    let page = dir.path().join("report.html");
    let report = compare_judged(
        dir.path(),
        &["--trials", "500", "--html", page.to_str().unwrap()],
    );
    for branch in ["index_a", "index_b"] {
        for mode in ["hybrid", "bm25", "vector"] {
            let ndcg = report["branches"][branch][mode]["ndcg@10"]
                .as_f64()
                .unwrap();
            assert!(ndcg > 0.5, "{branch} {mode}: {ndcg}");
            assert!(report["branches"][branch][mode]["recall@100"].is_number());
            // Average precision within the 100 documents compare ranks, named so.
            assert!(report["branches"][branch][mode]["map@100"].is_number());
            assert!(report["branches"][branch][mode].get("map").is_none());
        }
    }
    let pair = report["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["a"]["index"] == "index_a" && p["b"]["index"] == "index_b")
        .unwrap();
    let ndcg = &pair["metrics"]["ndcg@10"];
    assert!(ndcg["p_value"].as_f64().unwrap() > 0.0);
    assert_eq!(
        ndcg["wins"].as_u64().unwrap()
            + ndcg["losses"].as_u64().unwrap()
            + ndcg["ties"].as_u64().unwrap(),
        3
    );
    assert!(
        report["chunks"]["index_b"]["count"].as_u64().unwrap()
            > report["chunks"]["index_a"]["count"].as_u64().unwrap()
    );
    let html = fs::read_to_string(&page).unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"));
    render_in_chromium(&page, dir.path());
}

#[test]
fn compare_fuses_hybrid_as_asked_and_says_how() {
    let dir = setup();
    run_json(dir.path());
    let compare = |fusion: &[&str]| {
        let args = [
            &[
                "--trials",
                "100",
                "--index",
                "index_a",
                "--modes",
                "hybrid,vector",
            ],
            fusion,
        ];
        compare_judged(dir.path(), &args.concat())
    };
    let rrf = compare(&["--rrf-k", "10"]);
    assert_eq!(rrf["fusion"], serde_json::json!({"rrf": {"k": 10}}));
    // All weight on the vector list: hybrid ranks exactly as vector search does.
    let vector_only = compare(&["--alpha", "1"]);
    assert_eq!(
        vector_only["fusion"],
        serde_json::json!({"weighted": {"alpha": 1}})
    );
    let branch = &vector_only["branches"]["index_a"];
    for metric in ["ndcg@10", "recall@100", "mrr@10"] {
        assert_eq!(
            branch["hybrid"][metric], branch["vector"][metric],
            "{metric}"
        );
    }
}

/// Another system's TREC run is scored and tested like a branch. The run `engine query --trec`
/// writes of a branch scores what that branch scores, and pairs with every branch and mode.
#[test]
fn compare_scores_another_systems_trec_run_like_a_branch() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let by_itself = compare_judged(dir.path(), &["--modes", "hybrid"]);
    let trec_of_index_b = || {
        let output = engine()
            .arg("query")
            .arg(dir.path().join("pipeline.yaml"))
            .args([
                "--index",
                "index_b",
                "-k",
                "100",
                "--trec",
                "b",
                "--queries",
            ])
            .arg(dir.path().join("queries.jsonl"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    // One more query than the queries file asks, and one it asks left out.
    let run: String = trec_of_index_b()
        .lines()
        .filter(|line| !line.starts_with("q3 "))
        .chain(["q9 Q0 threads.md 1 1.0 b", "q9 Q0 threads.md 2 0.5 b"])
        .map(|line| format!("{line}\n"))
        .collect();
    fs::write(dir.path().join("b.trec"), run).unwrap();
    let run_arg = format!("outside={}", dir.path().join("b.trec").display());
    let with_run = compare_judged(
        dir.path(),
        &["--modes", "hybrid", "--index", "index_a", "--run", &run_arg],
    );
    let outside = &with_run["branches"]["outside"]["run"];
    let branch = &by_itself["branches"]["index_b"]["hybrid"];
    // q3 is missing from the run: it counts as retrieving nothing, the other two score alike.
    let ndcg = |v: &Value| v["ndcg@10"].as_f64().unwrap();
    assert!(ndcg(outside) < ndcg(branch), "{outside} vs {branch}");
    assert_eq!(
        with_run["runs"]["outside"]["queries_missing"],
        serde_json::json!(["q3"])
    );
    assert_eq!(
        with_run["runs"]["outside"]["queries_not_asked"],
        serde_json::json!(["q9"])
    );
    // What to know to read the figures is in the report, for the page as for people.
    let notes = with_run["notes"].to_string();
    for expected in [
        "run `outside` has no results for 1 of the queries",
        "run `outside` ranks 1 queries that are not in the queries file",
        "run `outside` lists a document again for its query on 1 line(s)",
        "query `q9`, document `threads.md`",
    ] {
        assert!(notes.contains(expected), "{expected} in {notes}");
    }
    let pairs = with_run["pairs"].as_array().unwrap();
    assert!(
        pairs
            .iter()
            .any(|pair| pair["a"]["index"] == "index_a" && pair["b"]["index"] == "outside"),
        "{pairs:?}"
    );
    // The whole run scores exactly what the branch scores.
    fs::write(dir.path().join("b.trec"), trec_of_index_b()).unwrap();
    let with_run = compare_judged(
        dir.path(),
        &["--modes", "hybrid", "--index", "index_a", "--run", &run_arg],
    );
    assert_eq!(with_run["branches"]["outside"]["run"], *branch);
    // A run named like a branch is refused.
    let output = engine()
        .arg("compare")
        .arg(dir.path().join("pipeline.yaml"))
        .arg("--queries")
        .arg(dir.path().join("queries.jsonl"))
        .arg("--run")
        .arg(format!("index_a={}", dir.path().join("b.trec").display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("two systems are named `index_a`"),
        "{}",
        stderr(&output)
    );
}

/// Runs `engine compare --json` with `args` on three judged queries about the test corpus.
fn compare_judged(dir: &Path, args: &[&str]) -> Value {
    fs::write(
        dir.join("queries.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex shared data\"}\n{\"_id\": \"q2\", \"text\": \"heap box recursive\"}\n{\"_id\": \"q3\", \"text\": \"result error propagate\"}\n",
    )
    .unwrap();
    fs::write(
        dir.join("qrels.tsv"),
        "query-id\tcorpus-id\tscore\nq1\tthreads.md\t2\nq2\tboxes.md\t1\nq3\terrors.md\t1\n",
    )
    .unwrap();
    let output = engine()
        .arg("compare")
        .arg(dir.join("pipeline.yaml"))
        .arg("--queries")
        .arg(dir.join("queries.jsonl"))
        .arg("--qrels")
        .arg(dir.join("qrels.tsv"))
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

/// Loads the page in headless Chromium: it must render its charts and log no console errors.
fn render_in_chromium(page: &Path, dir: &Path) {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("headless Chromium is needed for this test: `apt-get install chromium` (.ci/run installs it)");
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join("chromium-profile").display()
        ))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = stdout(&output);
    assert!(
        dom.matches("<svg").count() >= 3,
        "the charts did not render:\n{dom}"
    );
    let log = stderr(&output);
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") && l.to_lowercase().contains("error"))
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors: {console_errors:?}"
    );
}

#[test]
fn compare_without_judgments_shows_overlaps_and_both_lists() {
    let dir = setup();
    run_json(dir.path());
    fs::write(
        dir.path().join("queries.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"mutex shared data\"}\n",
    )
    .unwrap();
    let run = |json: bool| {
        let mut command = engine();
        command
            .arg("compare")
            .arg(dir.path().join("pipeline.yaml"))
            .arg("--queries")
            .arg(dir.path().join("queries.jsonl"))
            .args(["--modes", "bm25", "--k", "2"]);
        if json {
            command.arg("--json");
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    let report: Value = serde_json::from_str(&run(true)).unwrap();
    let pair = &report["pairs"][0];
    let overlap = pair["queries"]["q1"]["overlap"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&overlap));
    assert_eq!(pair["queries"]["q1"]["a"][0], "threads.md");
    assert_eq!(pair["queries"]["q1"]["b"][0], "threads.md");
    let table = run(false);
    assert!(
        table.contains("mean top-k overlap") && table.contains("query q1"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|line| line.trim_start().starts_with("1. threads.md")),
        "{table}"
    );
}

/// `engine compare` pairs the same systems with and without judgments: the same mode across
/// branches and the modes within a branch, so one index alone still compares its modes.
#[test]
fn compare_pairs_the_same_systems_with_and_without_judgments() {
    let dir = setup();
    run_json(dir.path());
    let pairs = |report: &Value| -> Vec<String> {
        report["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                let side = |s: &str| {
                    format!(
                        "{}·{}",
                        pair[s]["index"].as_str().unwrap(),
                        pair[s]["mode"].as_str().unwrap()
                    )
                };
                format!("{} ~ {}", side("a"), side("b"))
            })
            .collect()
    };
    let unjudged = |args: &[&str]| -> Value {
        let output = engine()
            .arg("compare")
            .arg(dir.path().join("pipeline.yaml"))
            .arg("--queries")
            .arg(dir.path().join("queries.jsonl"))
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        serde_json::from_str(&stdout(&output)).unwrap()
    };
    // compare_judged writes the queries file the unjudged runs read.
    let judged = compare_judged(dir.path(), &["--index", "index_a", "--trials", "10"]);
    let one_index = pairs(&unjudged(&["--index", "index_a"]));
    assert_eq!(
        one_index,
        [
            "index_a·bm25 ~ index_a·hybrid",
            "index_a·bm25 ~ index_a·vector",
            "index_a·hybrid ~ index_a·vector",
        ]
    );
    assert_eq!(one_index, pairs(&judged));
    let both = pairs(&unjudged(&[]));
    assert_eq!(
        both,
        pairs(&compare_judged(dir.path(), &["--trials", "10"]))
    );
    // Three modes within each of two branches, and each mode across them.
    assert_eq!(both.len(), 3 + 3 + 3, "{both:?}");
    assert!(
        both.contains(&"index_a·bm25 ~ index_b·bm25".to_owned()),
        "{both:?}"
    );
    assert!(
        both.contains(&"index_b·hybrid ~ index_b·vector".to_owned()),
        "{both:?}"
    );
    assert!(
        !both.contains(&"index_a·bm25 ~ index_b·vector".to_owned()),
        "{both:?}"
    );
}

/// Two pipelines sharing a store with an index step of the same name keep two indexes; an index
/// at the older location (`indexes/<step>`) is read where it is by a query and moved into its
/// pipeline's folder by the next run.
#[test]
fn pipelines_sharing_a_store_never_share_an_index() {
    let dir = setup();
    run_json(dir.path());
    let store = dir.path().join(".engine/indexes");
    fs::rename(store.join("idx/index_a"), store.join("index_a")).unwrap();
    let hits = query(
        dir.path(),
        &["--index", "index_a", "--mode", "bm25", "mutex"],
    );
    assert_eq!(
        doc_ids(&hits)[0],
        "threads.md",
        "the older location is found"
    );
    assert!(
        store.join("index_a/CURRENT").is_file() && !store.join("idx/index_a").exists(),
        "a query only reads"
    );
    run_json(dir.path());
    assert!(
        store.join("idx/index_a/CURRENT").is_file(),
        "a run moves it"
    );
    assert!(!store.join("index_a").exists());
    let hits = query(
        dir.path(),
        &["--index", "index_a", "--mode", "bm25", "mutex"],
    );
    assert_eq!(doc_ids(&hits)[0], "threads.md");

    let only_boxes = PIPELINE
        .replace("name: idx", "name: other")
        .replace("path: docs }", "path: docs, include: [\"boxes.md\"] }");
    fs::write(dir.path().join("other.yaml"), only_boxes).unwrap();
    let (code, summary) = common::run_file_json(&dir.path().join("other.yaml"));
    assert_eq!(code, Some(0), "{summary}");
    let hits = query(
        dir.path(),
        &["--index", "index_a", "--mode", "bm25", "mutex"],
    );
    assert_eq!(doc_ids(&hits)[0], "threads.md", "idx's index is untouched");
    let output = engine()
        .arg("query")
        .arg(dir.path().join("other.yaml"))
        .args(["--index", "index_a", "--mode", "bm25", "--json", "mutex"])
        .output()
        .unwrap();
    let other: Value = serde_json::from_slice(&output.stdout).unwrap();
    let other = other["hits"].as_array().unwrap();
    assert!(
        doc_ids(other).iter().all(|doc| *doc == "boxes.md"),
        "{other:?}"
    );
}

/// The index holds what its documents say now: a record whose title or metadata alone changed
/// (its text did not) shows the new ones, and its vectors are not recomputed for that.
#[test]
fn a_new_title_or_metadata_alone_reaches_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let records = |title: &str, lang: &str| {
        format!(
            "{{\"_id\": \"a\", \"title\": \"{title}\", \"lang\": \"{lang}\", \"text\": \"Locks and mutexes guard shared data.\"}}\n{{\"_id\": \"b\", \"title\": \"Boxes\", \"lang\": \"en\", \"text\": \"A box owns heap data.\"}}\n"
        )
    };
    fs::write(dir.path().join("data.jsonl"), records("Old title", "en")).unwrap();
    fs::write(
        dir.path().join("pipeline.yaml"),
        "version: 1\nname: meta\nsteps:\n  docs: { op: source.jsonl, path: data.jsonl }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 400, unit: chars }\n  embed: { op: embed, input: chunk, provider: hash, dim: 64 }\n  index: { op: index.hybrid, input: embed }\n",
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    fs::write(dir.path().join("data.jsonl"), records("New title", "fr")).unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let hits = query(
        dir.path(),
        &[
            "--index", "index", "--mode", "bm25", "--filter", "lang=fr", "mutexes",
        ],
    );
    assert_eq!(doc_ids(&hits), ["a"]);
    assert_eq!(hits[0]["title"], "New title");
    let old = query(
        dir.path(),
        &[
            "--index", "index", "--mode", "bm25", "--filter", "lang=en", "mutexes",
        ],
    );
    assert!(old.is_empty(), "{old:?}");
}

/// `gc` removes the index of a step the pipeline no longer has, and keeps the others.
#[test]
fn gc_removes_the_index_of_a_removed_step() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let indexes = dir.path().join(".engine/indexes/idx");
    assert!(indexes.join("index_a").is_dir() && indexes.join("index_b").is_dir());
    let without_b = PIPELINE
        .replace(
            "  embed_b: { op: embed, input: chunk_b, provider: hash, dim: 256 }\n",
            "",
        )
        .replace("  index_b: { op: index.hybrid, input: embed_b }\n", "")
        .replace(
            "  chunk_b: { op: chunk.recursive, input: parse, size: 120, unit: chars }\n",
            "",
        );
    fs::write(dir.path().join("pipeline.yaml"), without_b).unwrap();
    let output = engine()
        .args(["gc", "--json"])
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let gc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(gc["indexes_removed"], 1, "{gc}");
    assert!(!indexes.join("index_b").exists());
    assert!(!query(dir.path(), &["--index", "index_a", "threads"]).is_empty());
}

/// Two pipeline files that give one name and one store would share runs and an index, each run
/// dropping the other's documents: the second is refused (exit 2, naming the first), so are its
/// `gc`, and the first's index is untouched. A file moved elsewhere is no other file.
#[test]
fn a_second_pipeline_file_with_the_same_name_and_store_is_refused() {
    let dir = setup();
    run_json(dir.path());
    let before = query(dir.path(), &["--index", "index_a", "threads"]);
    fs::create_dir_all(dir.path().join("other")).unwrap();
    fs::write(
        dir.path().join("other/docs.md"),
        "# Other\n\nBanana bread.\n",
    )
    .unwrap();
    let copy = PIPELINE
        .replace("path: docs }", "path: other }")
        .replace("version: 1\n", "version: 1\nstore: .engine\n");
    fs::write(dir.path().join("copy.yaml"), copy).unwrap();
    // `validate` says so too, at the `name` key, so a check in CI catches it before a run.
    for command in ["run", "gc", "validate"] {
        let output = engine()
            .arg(command)
            .arg(dir.path().join("copy.yaml"))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("pipeline.yaml is also named `idx`"),
            "{command}: {}",
            stderr(&output)
        );
    }
    let validate = engine()
        .args(["validate", "--json"])
        .arg(dir.path().join("copy.yaml"))
        .output()
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&validate.stdout).unwrap();
    let diagnostic = &answer["diagnostics"][0];
    assert_eq!(
        (&diagnostic["key"], &diagnostic["line"]),
        (&"name".into(), &3.into()),
        "{answer}"
    );
    assert_eq!(
        query(dir.path(), &["--index", "index_a", "threads"]),
        before
    );
    // Moved: the old file is gone, so the new one carries on with its name.
    fs::rename(
        dir.path().join("pipeline.yaml"),
        dir.path().join("moved.yaml"),
    )
    .unwrap();
    let (code, summary) = common::run_file_json(&dir.path().join("moved.yaml"));
    assert_eq!(code, Some(0), "{summary}");
}

/// `args` run by `program` as the user nobody, or why that cannot be done here: it needs root
/// (which CI is) and `setpriv`, and `dir` reachable by nobody.
fn as_nobody(program: &Path, dir: &Path) -> Result<Command, String> {
    let id = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|err| err.to_string())?;
    if String::from_utf8_lossy(&id.stdout).trim() != "0" {
        return Err("not running as root, so cannot run the engine as another user".into());
    }
    let nobody = |program: &Path| {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(program);
        command
    };
    let reachable = nobody(Path::new("test"))
        .arg("-r")
        .arg(dir.join("pipeline.yaml"))
        .status()
        .map_err(|err| format!("no setpriv: {err}"))?;
    if !reachable.success() {
        return Err(format!("{} is not reachable by nobody", dir.display()));
    }
    Ok(nobody(program))
}

/// A knowledge base on a read-only mount or owned by another user is a normal deployment:
/// `engine query` answers from it, as that other user, in every mode, and writes nothing there;
/// the commands that need the store writable say so in one line of words (exit 3). Run as the
/// user nobody through `setpriv` (root, as in CI, may write anywhere); skipped, saying why,
/// where that cannot be done.
#[test]
fn a_store_another_user_owns_answers_queries_and_the_rest_say_it_is_read_only() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    // The binary, where nobody may run it (the build folder may be under /root).
    let binary = dir.path().join("engine");
    if fs::hard_link(env!("CARGO_BIN_EXE_engine"), &binary).is_err() {
        copy_of_engine(&binary);
    }
    let chmod = |mode: &str, path: &Path| {
        let status = Command::new("chmod")
            .args(["-R", mode])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    };
    chmod("a+rX", dir.path());
    let store = dir.path().join(".engine");
    chmod("a-w", &store);
    let files = || {
        let mut files: Vec<(String, u64)> = walkdir::WalkDir::new(&store)
            .into_iter()
            .flatten()
            .map(|entry| {
                let size = entry.metadata().map_or(0, |meta| meta.len());
                (entry.path().display().to_string(), size)
            })
            .collect();
        files.sort();
        files
    };
    let before = files();
    let nobody = || match as_nobody(&binary, dir.path()) {
        Ok(command) => Some(command),
        Err(why) => {
            eprintln!("skipped: {why}");
            None
        }
    };
    let Some(_) = nobody() else {
        chmod("u+w", &store);
        return;
    };
    for mode in ["bm25", "vector", "hybrid"] {
        let output = nobody()
            .unwrap()
            .arg("query")
            .arg(dir.path().join("pipeline.yaml"))
            .args(["--index", "index_a", "--mode", mode, "--json", "mutex"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{mode}: {}", stderr(&output));
        let hits: Value = serde_json::from_slice(&output.stdout).unwrap();
        let hits = hits["hits"].as_array().unwrap();
        assert_eq!(doc_ids(hits)[0], "threads.md", "{mode}: {hits:?}");
    }
    let pipeline = dir.path().join("pipeline.yaml");
    // compare answers too, and says what it leaves out without the run records.
    let queries = dir.path().join("q.jsonl");
    fs::write(&queries, "{\"_id\": \"q1\", \"text\": \"mutex\"}\n").unwrap();
    chmod("a+r", &queries);
    let compared = nobody()
        .unwrap()
        .arg("compare")
        .arg(&pipeline)
        .arg("--queries")
        .arg(&queries)
        .args(["--modes", "bm25"])
        .output()
        .unwrap();
    assert_eq!(compared.status.code(), Some(0), "{}", stderr(&compared));
    assert!(
        stderr(&compared).contains("run records cannot be read (it is read-only to this user)"),
        "{}",
        stderr(&compared)
    );
    let commands: [Vec<&std::ffi::OsStr>; 5] = [
        vec!["runs".as_ref(), "--store".as_ref(), store.as_os_str()],
        // A waiting tap could never make its socket there, nor reach a run's: it says so
        // instead of waiting for ever.
        vec![
            "tap".as_ref(),
            "--wait".as_ref(),
            "--pipeline".as_ref(),
            pipeline.as_os_str(),
        ],
        vec![
            "inspect".as_ref(),
            "latest".as_ref(),
            "-p".as_ref(),
            pipeline.as_os_str(),
        ],
        vec!["gc".as_ref(), pipeline.as_os_str()],
        vec!["run".as_ref(), pipeline.as_os_str()],
    ];
    for args in commands {
        let output = nobody().unwrap().args(&args).output().unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
        assert!(
            message.starts_with("error: the store ")
                && message.contains(&format!("{} is read-only to this user (", store.display())),
            "{args:?}: {message}"
        );
        assert!(
            message.contains("permission denied") && !message.contains("Os {"),
            "{args:?}: {message}"
        );
    }
    assert_eq!(files(), before, "nothing in the store was written");
    // Root again may write: the temporary folder can be removed.
    chmod("u+w", &store);
}

/// Under a umask that lets others read new files, a store built by one user answers another's
/// BM25 query with no chmod of its files (Tantivy's meta.json and .managed.json were private);
/// a file made private again is named as one this user may not read, not as damage.
#[test]
fn an_index_is_as_readable_to_others_as_the_umask_makes_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = setup();
    let probe = dir.path().join("probe");
    fs::write(&probe, "").unwrap();
    if fs::metadata(&probe).unwrap().permissions().mode() & 0o004 == 0 {
        eprintln!("skipped: the umask keeps new files from others");
        return;
    }
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let binary = dir.path().join("engine");
    copy_of_engine(&binary);
    // Folders reachable (a temporary folder is private to its owner); files as they were made.
    for entry in walkdir::WalkDir::new(dir.path()).into_iter().flatten() {
        if entry.file_type().is_dir() {
            let mode = entry.metadata().unwrap().permissions().mode() | 0o005;
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
    let query = || {
        as_nobody(&binary, dir.path()).map(|mut command| {
            command
                .arg("query")
                .arg(dir.path().join("pipeline.yaml"))
                .args(["--index", "index_a", "--mode", "bm25", "--json", "mutex"])
                .output()
                .unwrap()
        })
    };
    let output = match query() {
        Ok(output) => output,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let managed: Vec<std::path::PathBuf> =
        walkdir::WalkDir::new(dir.path().join(".engine/indexes"))
            .into_iter()
            .flatten()
            .filter(|entry| entry.file_name() == ".managed.json")
            .map(|entry| entry.path().to_owned())
            .collect();
    assert!(!managed.is_empty());
    for path in &managed {
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let output = query().unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("this user may not read its files"),
        "{message}"
    );
    assert!(!message.contains("rebuilds"), "{message}");
}

/// `engine gc` with the output as JSON.
fn gc(file: &Path) -> Value {
    let output = engine().args(["gc", "--json"]).arg(file).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// After a pipeline's `name:` changes, `gc` removes the index folder of its old name, once no
/// pipeline file that still gives that name has run on the store; the folders of the other
/// pipelines sharing the store stay and answer.
#[test]
fn gc_removes_the_index_folder_of_a_renamed_pipeline_once_no_file_gives_the_name() {
    let dir = setup();
    let indexes = dir.path().join(".engine/indexes");
    let pipeline = dir.path().join("pipeline.yaml");
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let other = dir.path().join("other.yaml");
    fs::write(
        &other,
        PIPELINE
            .replace("name: idx", "name: other")
            .replace("path: docs }", "path: docs, include: [\"boxes.md\"] }"),
    )
    .unwrap();
    assert_eq!(common::run_file_json(&other).0, Some(0));
    // Renamed: the old name's folder stays while another file that gives it has run.
    fs::write(&pipeline, PIPELINE.replace("name: idx", "name: idx2")).unwrap();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let third = dir.path().join("third.yaml");
    fs::write(&third, PIPELINE).unwrap();
    assert_eq!(common::run_file_json(&third).0, Some(0));
    assert_eq!(gc(&pipeline)["indexes_removed"], 0);
    assert!(indexes.join("idx/index_a").is_dir());
    // Renamed too: nobody gives `idx` any more.
    fs::write(&third, PIPELINE.replace("name: idx", "name: idx3")).unwrap();
    assert_eq!(common::run_file_json(&third).0, Some(0));
    let collected = gc(&pipeline);
    assert_eq!(collected["indexes_removed"], 2, "{collected}");
    assert!(!indexes.join("idx").exists());
    for name in ["idx2", "idx3", "other"] {
        assert!(
            indexes.join(name).join("index_a/CURRENT").is_file(),
            "{name}"
        );
    }
    assert!(!query(dir.path(), &["--index", "index_a", "threads"]).is_empty());
    let output = engine()
        .arg("query")
        .arg(&other)
        .args(["--index", "index_a", "--mode", "bm25", "--json", "heap"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(gc(&other)["indexes_removed"], 0, "nothing more to remove");
}

/// A project copied whole (`cp -a`) keeps both pipelines' indexes when one of them is
/// collected: the runs record the files where they were, which give the original store, and
/// the copy's own files tell. gc of one pipeline deleted the other's index.
#[test]
fn gc_in_a_copied_project_keeps_the_other_pipelines_index() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let other = dir.path().join("other.yaml");
    fs::write(&other, PIPELINE.replace("name: idx", "name: other")).unwrap();
    assert_eq!(common::run_file_json(&other).0, Some(0));
    let copy = tempfile::tempdir().unwrap();
    let copied = copy.path().join("project");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(dir.path())
        .arg(&copied)
        .status()
        .unwrap();
    assert!(status.success());
    let collected = gc(&copied.join("pipeline.yaml"));
    assert_eq!(collected["indexes_removed"], 0, "{collected}");
    assert!(
        copied
            .join(".engine/indexes/other/index_a/CURRENT")
            .is_file()
    );
    // Once this copy's pipeline has run here, its older runs still say where it was.
    assert_eq!(
        common::run_file_json(&copied.join("pipeline.yaml")).0,
        Some(0)
    );
    assert_eq!(gc(&copied.join("pipeline.yaml"))["indexes_removed"], 0);
    assert!(
        copied
            .join(".engine/indexes/other/index_a/CURRENT")
            .is_file()
    );
}

/// `title` and `section` filter by the hit's own title and headings, a page is a whole number,
/// a key that nothing in the index has is named on stderr, and BM25 finds Japanese words and
/// words written without their accents.
#[test]
fn title_section_and_page_filters_cjk_and_accents() {
    let dir = setup();
    fs::write(
        dir.path().join("docs/ramen.md"),
        format!(
            "---\ntitle: Ramen Guide\nlang: ja\n---\n# Tokyo\n\n{filler}\n\n## Broth\n\n{filler}\n\n東京は日本の首都です。ラーメンが好きです。Un café naïve.\n",
            filler = "A large city by the bay. ".repeat(20)
        ),
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let bm25 = |extra: &[&str], text: &str| {
        let mut args = vec!["--index", "index_a", "--mode", "bm25"];
        args.extend_from_slice(extra);
        args.push(text);
        query(dir.path(), &args)
    };
    for text in ["日本", "ラーメン", "cafe", "naive"] {
        assert_eq!(doc_ids(&bm25(&[], text)), ["ramen.md"], "{text}");
    }
    let hit = &bm25(&[], "ラーメン")[0];
    let title = hit["title"].as_str().unwrap().to_owned();
    let section: Vec<String> = hit["section"]
        .as_array()
        .unwrap()
        .iter()
        .map(|heading| heading.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(section, ["Tokyo", "Broth"], "{hit}");
    let path = section.join(" > ");
    for filter in [
        format!("title={title}"),
        "section=Tokyo".to_owned(),
        "section=Broth".to_owned(),
        format!("section={path}"),
    ] {
        let hits = bm25(&["--filter", &filter], "ラーメン cafe");
        assert_eq!(doc_ids(&hits), ["ramen.md"], "{filter}");
    }
    // Filters are ANDed, the same key twice too.
    assert!(
        bm25(
            &["--filter", "section=Tokyo", "--filter", "section=Other"],
            "cafe"
        )
        .is_empty()
    );
    // A page is a number however it is written; anything else is refused.
    assert!(bm25(&["--filter", "page=01"], "cafe").is_empty());
    let refused = engine()
        .arg("query")
        .arg(dir.path().join("pipeline.yaml"))
        .args(["--index", "index_a", "--filter", "page=abc", "cafe"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("page `abc`"),
        "{}",
        stderr(&refused)
    );
    // A key nothing has is named, with the keys there are.
    let unknown = engine()
        .arg("query")
        .arg(dir.path().join("pipeline.yaml"))
        .args([
            "--index", "index_a", "--mode", "bm25", "--filter", "doc=432", "cafe",
        ])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(0), "{}", stderr(&unknown));
    let note = stderr(&unknown);
    assert!(
        note.contains("`doc`") && note.contains("doc_id") && note.contains("lang"),
        "{note}"
    );
    // However many keys nothing has, one note names them (the first 30, and how many more).
    let filters: Vec<String> = (0..300).map(|i| format!("k{i}=y")).collect();
    let mut many = engine();
    many.arg("query").arg(dir.path().join("pipeline.yaml"));
    for filter in &filters {
        many.args(["--filter", filter]);
    }
    let many = many
        .args(["--index", "index_a", "--mode", "bm25", "cafe"])
        .output()
        .unwrap();
    assert_eq!(many.status.code(), Some(0), "{}", stderr(&many));
    let notes = stderr(&many);
    assert_eq!(notes.matches("note:").count(), 1, "{notes}");
    assert!(
        notes.contains("`k0`, `k1`") && notes.contains("and 270 more"),
        "{notes}"
    );
    let known = engine()
        .arg("query")
        .arg(dir.path().join("pipeline.yaml"))
        .args([
            "--index", "index_a", "--mode", "bm25", "--filter", "lang=ja", "cafe",
        ])
        .output()
        .unwrap();
    assert!(!stderr(&known).contains("note"), "{}", stderr(&known));
}

/// A JSON line that fails is not a document gone: a record whose id is read (a null text)
/// keeps its chunks in the index and the sink; a line of no readable id (half-written JSON)
/// may have been any record, so no document is removed in that run. Both used to be taken as
/// deleted, so one bad line of an export deleted documents.
#[test]
fn a_failed_json_line_removes_no_document() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "version: 1\nname: recs\nsteps:\n  recs: { op: source.jsonl, path: c.jsonl }\n  parse: { op: parse, input: recs }\n  chunk: { op: chunk.recursive, input: parse, size: 300, unit: chars }\n  embed: { op: embed, input: chunk, provider: hash, dim: 32 }\n  index: { op: index.hybrid, input: embed }\n  out: { op: sink.jsonl, input: chunk, path: out/c.jsonl }\n";
    fs::write(dir.path().join("pipeline.yaml"), yaml).unwrap();
    let records = |lines: &[&str]| {
        fs::write(dir.path().join("c.jsonl"), lines.join("\n") + "\n").unwrap();
        run_json(dir.path())
    };
    let r1 = r#"{"_id": "r1", "text": "apple banana"}"#;
    let (code, summary) = records(&[r1, r#"{"_id": "r2", "text": "cherry durian"}"#]);
    assert_eq!(code, Some(0), "{summary}");
    let found = |word: &str| {
        doc_ids(&query(
            dir.path(),
            &["--index", "index", "--mode", "bm25", word],
        ))
        .join(",")
    };
    assert_eq!(found("cherry"), "r2");

    let (code, summary) = records(&[r1, r#"{"_id": "r2", "text": null}"#]);
    assert_eq!(code, Some(1), "{summary}");
    assert_eq!(summary["errors"][0]["doc_id"], "r2", "{summary}");
    assert_eq!(
        summary["steps"]["index"]["outcome"]["documents_kept"], 1,
        "{summary}"
    );
    assert_eq!(found("cherry"), "r2", "the failed record keeps its chunks");
    assert_eq!(common::lines(&dir.path().join("out/c.jsonl")).len(), 2);

    // r1 is left out and a half-written line comes instead: it may have been r1.
    let (code, summary) = records(&[
        r#"{"_id": "r2", "text": "cherry durian"}"#,
        r#"{"_id": "r3", "te"#,
    ]);
    assert_eq!(code, Some(1), "{summary}");
    assert_eq!(summary["errors"][0]["doc_id"], "c.jsonl:2", "{summary}");
    assert_eq!(
        summary["steps"]["index"]["outcome"]["documents_removed"], 0,
        "{summary}"
    );
    assert_eq!(found("apple"), "r1");
    // Once the file reads whole again, r1 is gone.
    let (code, summary) = records(&[r#"{"_id": "r2", "text": "cherry durian"}"#]);
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(found("apple"), "");
}

/// A document that failed in the latest run keeps its chunks in the index: `compare` counts it
/// as held (it warned that the index did not hold it, though it found it first) and says how
/// many chunks the index holds beside those the latest run made.
#[test]
fn compare_knows_a_document_kept_after_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Apple\n\napple banana orchard fruit.\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("docs/b.md"),
        "# Cherry\n\ncherry durian tropical fruit.\n",
    )
    .unwrap();
    let yaml = "version: 1\nname: kept\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 300 }\n  embed: { op: embed, input: chunk, provider: hash, dim: 32 }\n  index: { op: index.hybrid, input: embed }\n";
    fs::write(dir.path().join("pipeline.yaml"), yaml).unwrap();
    assert_eq!(run_json(dir.path()).0, Some(0));
    fs::write(dir.path().join("docs/b.md"), b"AB\0\0\0\0binary").unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(1), "{summary}");
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"cherry durian\"}\n",
    )
    .unwrap();
    fs::write(dir.path().join("qrels.tsv"), "q1\tb.md\t1\n").unwrap();
    let output = engine()
        .arg("compare")
        .arg(dir.path().join("pipeline.yaml"))
        .args(["--modes", "bm25", "--queries"])
        .arg(dir.path().join("q.jsonl"))
        .arg("--qrels")
        .arg(dir.path().join("qrels.tsv"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("holds no chunk of"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("index: 1 chunks of chunk in the latest run; the index holds 2 "),
        "{}",
        stdout(&output)
    );
}

/// Chunks of a table of contents (a PDF's, a README's list of links to its sections) stay out of
/// the index unless `contents: true`: they hold every section title's words and outranked the
/// sections (freefem's contents came first for "weak formulation"; bug886717 is one page of
/// contents).
#[test]
fn table_of_contents_chunks_are_left_out_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    for file in ["debian-freefem-doc__freefem.pdf", "pdfjs__bug886717.pdf"] {
        fs::copy(
            common::shared_corpus().join("pdf").join(file),
            docs.join(file),
        )
        .unwrap();
    }
    // A README that opens with a list of links to its sections.
    let section = |title: &str, words: &str| format!("## {title}\n\n{}\n\n", words.repeat(40));
    let readme = format!(
        "# Tool\n\n## Contents\n\n- [Installation](#installation)\n- [Configuration](#configuration)\n- [Troubleshooting](#troubleshooting)\n\n{}{}{}",
        section("Installation", "Download the archive and unpack it. "),
        section("Configuration", "Edit the settings file by hand. "),
        section("Troubleshooting", "Read the log when it fails. "),
    );
    fs::write(docs.join("README.md"), readme).unwrap();
    fs::write(
        dir.path().join("pipeline.yaml"),
        "version: 1\nname: toc\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 800, unit: chars }\n  embed: { op: embed, input: chunk, provider: hash, dim: 64 }\n  index: { op: index.hybrid, input: embed }\n  with_contents: { op: index.hybrid, input: embed, contents: true }\n",
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let left_out = &summary["steps"]["index"]["outcome"]["contents_chunks_left_out"];
    assert!(left_out.as_u64().is_some_and(|n| n >= 3), "{summary}");
    let outcome = &summary["steps"]["with_contents"]["outcome"];
    assert!(
        outcome.get("contents_chunks_left_out").is_none(),
        "{outcome}"
    );
    let (left, kept) = (
        &summary["steps"]["index"]["outcome"]["chunks"],
        &outcome["chunks"],
    );
    assert_eq!(
        kept.as_u64().unwrap() - left.as_u64().unwrap(),
        left_out.as_u64().unwrap()
    );

    let search = |index: &str, text: &str| {
        query(
            dir.path(),
            &["--index", index, "--mode", "bm25", "-k", "20", text],
        )
    };
    let leaders = |hits: &[Value]| {
        hits.iter()
            .filter(|hit| hit["text"].as_str().unwrap().contains(". . ."))
            .count()
    };
    let hits = search("index", "weak formulation");
    assert!(!hits.is_empty());
    assert_eq!(leaders(&hits), 0, "{hits:?}");
    let hits = search("index", "block ciphers");
    assert!(
        !doc_ids(&hits).contains(&"pdfjs__bug886717.pdf"),
        "{hits:?}"
    );
    let hits = search("with_contents", "block ciphers");
    assert_eq!(doc_ids(&hits)[0], "pdfjs__bug886717.pdf", "{hits:?}");
    assert!(leaders(&search("with_contents", "weak formulation")) > 0);

    let links = |hits: &[Value]| {
        hits.iter()
            .filter(|hit| hit["text"].as_str().unwrap().contains("](#configuration)"))
            .count()
    };
    let hits = search("index", "configuration troubleshooting");
    assert!(doc_ids(&hits).contains(&"README.md"), "{hits:?}");
    assert_eq!(links(&hits), 0, "{hits:?}");
    assert_eq!(
        links(&search("with_contents", "configuration troubleshooting")),
        1
    );

    // `inspect` shows which chunks are contents: all of the one-page contents, some of
    // freefem's.
    let contents_marks = |doc: &str| {
        let inspect = engine()
            .args(["inspect", "latest", "--doc", doc])
            .arg("--pipeline")
            .arg(dir.path().join("pipeline.yaml"))
            .output()
            .unwrap();
        assert_eq!(inspect.status.code(), Some(0), "{}", stderr(&inspect));
        let shown = stdout(&inspect);
        let chunks: Vec<bool> = (shown.lines())
            .filter(|line| line.starts_with("  #"))
            .map(|line| line.contains("(contents) "))
            .collect();
        assert!(!chunks.is_empty(), "{shown}");
        chunks
    };
    assert!(contents_marks("pdfjs__bug886717.pdf").iter().all(|&c| c));
    let freefem = contents_marks("debian-freefem-doc__freefem.pdf");
    assert!(
        freefem.contains(&true) && freefem.contains(&false),
        "{freefem:?}"
    );
    // `compare` says why the index holds fewer chunks than the chunk step made, and a
    // judgment of the one-page contents, of which the index holds no chunk, is warned of.
    fs::write(
        dir.path().join("q.jsonl"),
        "{\"_id\": \"q1\", \"text\": \"block ciphers\"}\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("qrels.tsv"),
        "q1\tpdfjs__bug886717.pdf\t1\n",
    )
    .unwrap();
    let compared = engine()
        .arg("compare")
        .arg(dir.path().join("pipeline.yaml"))
        .args(["--modes", "bm25", "--index", "index", "--queries"])
        .arg(dir.path().join("q.jsonl"))
        .arg("--qrels")
        .arg(dir.path().join("qrels.tsv"))
        .output()
        .unwrap();
    assert_eq!(compared.status.code(), Some(0), "{}", stderr(&compared));
    let line = format!(
        "index: {} chunks of chunk, {} of them table of contents left out of the index (sizes",
        kept, left_out
    );
    assert!(
        stdout(&compared).contains(&line),
        "{line}\n{}",
        stdout(&compared)
    );
    assert!(
        stderr(&compared)
            .contains("name documents the index holds no chunk of, such as `pdfjs__bug886717.pdf`"),
        "{}",
        stderr(&compared)
    );

    // So does one step's output for one document, chunks and embeddings alike.
    for step in ["chunk", "embed"] {
        let inspect = engine()
            .args(["inspect", "latest", "--json", "--step", step, "--doc"])
            .arg("debian-freefem-doc__freefem.pdf")
            .arg("--pipeline")
            .arg(dir.path().join("pipeline.yaml"))
            .output()
            .unwrap();
        assert_eq!(inspect.status.code(), Some(0), "{}", stderr(&inspect));
        let found: Value = serde_json::from_str(&stdout(&inspect)).unwrap();
        let marks: Vec<bool> = (found["output"]["chunks"].as_array().unwrap().iter())
            .map(|chunk| chunk["contents"].as_bool().unwrap())
            .collect();
        assert_eq!(marks, freefem, "{step}");
    }
}
