//! End-to-end tests of `engine serve` on the real binary: the answers of `engine query`, over
//! HTTP, from indexes loaded once and opened again after a run.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use common::{TWO_INDEX_PIPELINE, engine, query_json, run_json};
use serde_json::{Value, json};

/// A running `engine serve`, stopped when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    /// Stops the server; what it wrote on stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let mut errors = String::new();
        let _ = self
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut errors);
        errors
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `engine serve` on `dir/pipeline.yaml` on a free port, once it listens.
fn serve(dir: &Path) -> Server {
    serve_with(dir, &[])
}

/// `engine serve` on `dir/pipeline.yaml` on a free port with more arguments, and the first
/// line it printed (once it listens).
fn start(dir: &Path, args: &[&str]) -> (Child, String) {
    let mut child = engine()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .arg(dir.join("pipeline.yaml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

/// [`serve`] with more arguments.
fn serve_with(dir: &Path, args: &[&str]) -> Server {
    let (mut child, line) = start(dir, args);
    let Some(addr) = line
        .trim()
        .rsplit_once("http://")
        .map(|(_, addr)| addr.to_owned())
    else {
        let _ = child.kill();
        let mut errors = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut errors);
        panic!("no address in {line:?}; stderr: {errors}");
    };
    Server { child, addr }
}

/// One HTTP/1.1 request: the status and the JSON body of the answer.
fn http(server: &Server, method: &str, path: &str, body: &str) -> (u16, Value) {
    http_with(server, method, path, body, "")
}

/// [`http`] with more header lines (each ending in `\r\n`).
fn http_with(server: &Server, method: &str, path: &str, body: &str, headers: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    // A server refusing a body too long answers before reading it all and closes: the rest
    // of the write, and the read past its answer, may fail.
    let _ = write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        server.addr,
        body.len()
    );
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("no JSON in {answer}"));
    (status, body)
}

/// The server's answer to `request` (method, path, body): a 200 whose hits are those of
/// `engine query --json` with `args`.
fn answers_as_engine_query(
    server: &Server,
    dir: &Path,
    (method, path, body): (&str, &str, &str),
    args: &[&str],
) -> Value {
    let (status, answer) = http(server, method, path, body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["hits"],
        query_json(dir, args)["hits"],
        "{method} {path}"
    );
    answer
}

fn setup() -> tempfile::TempDir {
    common::two_index_project()
}

/// The server's hits are `engine query --json`'s, by a JSON body and by a URL, and a run
/// while it serves is what the next query sees (a document added, then removed).
#[test]
fn serve_answers_as_engine_query_does_and_follows_new_runs() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let server = serve(dir.path());
    let (status, indexes) = http(&server, "GET", "/indexes", "");
    assert_eq!(status, 200);
    let names: Vec<&str> = (indexes["indexes"].as_array().unwrap().iter())
        .map(|index| index["index"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["index_a", "index_b"]);
    assert!(indexes["indexes"][0]["chunks"].as_u64().unwrap() > 0);
    assert_eq!(
        indexes["indexes"][0]["run_id"], summary["run_id"],
        "{indexes}"
    );
    assert!(
        indexes["indexes"][0]["model"]
            .as_str()
            .unwrap()
            .starts_with("hash:"),
        "{indexes}"
    );

    let text = "mutex guards shared data between threads";
    let body = json!({ "text": text, "index": "index_a", "k": 3 }).to_string();
    let answer = answers_as_engine_query(
        &server,
        dir.path(),
        ("POST", "/query", &body),
        &["--index", "index_a", "-k", "3", text],
    );
    assert_eq!(answer["hits"][0]["doc_id"], "threads.md");

    let url = "/query?text=recursive+types+on+the+heap&index=index_b&mode=bm25&k=2&filter=doc_id%3Dboxes.md";
    let args = "--index index_b --mode bm25 -k 2 --filter doc_id=boxes.md";
    let mut args: Vec<&str> = args.split(' ').collect();
    args.push("recursive types on the heap");
    let answer = answers_as_engine_query(&server, dir.path(), ("GET", url, ""), &args);
    assert!(!answer["hits"].as_array().unwrap().is_empty());

    // `explain` adds each hybrid hit's places in the two lists, as `--explain` does.
    let body = json!({ "text": text, "index": "index_a", "k": 3, "explain": true }).to_string();
    let answer = answers_as_engine_query(
        &server,
        dir.path(),
        ("POST", "/query", &body),
        &["--index", "index_a", "-k", "3", "--explain", text],
    );
    let rank = &answer["hits"][0]["explain"]["vector"]["rank"];
    assert!(rank.is_u64(), "{answer}");
    let url = "/query?text=heap&index=index_a&mode=vector&explain=true";
    assert_eq!(http(&server, "GET", url, "").0, 400);
    // `context` adds the chunks around each hit, as `--context` does.
    let url = "/query?text=threads&index=index_b&mode=bm25&k=3&context=2";
    let args = "--index index_b --mode bm25 -k 3 --context 2 threads";
    let args: Vec<&str> = args.split(' ').collect();
    let answer = answers_as_engine_query(&server, dir.path(), ("GET", url, ""), &args);
    assert!(answer["hits"][0]["context"]["after"].is_array(), "{answer}");

    let zebra = "/query?text=quagga&index=index_a&mode=bm25";
    assert_eq!(http(&server, "GET", zebra, "").1["hits"], json!([]));
    fs::write(
        dir.path().join("docs/zebra.md"),
        "# Zebras\n\nThe quagga was a zebra of the plains.\n",
    )
    .unwrap();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    // The listing shows the index a query would find now: the new run's.
    let (_, indexes) = http(&server, "GET", "/indexes", "");
    assert_eq!(
        indexes["indexes"][0]["run_id"], summary["run_id"],
        "{indexes}"
    );
    let (_, answer) = http(&server, "GET", zebra, "");
    assert_eq!(answer["hits"][0]["doc_id"], "zebra.md", "{answer}");
    fs::remove_file(dir.path().join("docs/zebra.md")).unwrap();
    assert_eq!(run_json(dir.path()).0, Some(0));
    // Each run made another generation live, and the one before it is removed by the next.
    let (status, answer) = http(&server, "GET", zebra, "");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["hits"], json!([]));
    // Each request is logged on stderr, its path without the query's words.
    let log = server.stop();
    assert!(log.contains("POST /query 200 "), "{log}");
    assert!(log.contains("GET /indexes 200 "), "{log}");
    assert!(!log.contains("quagga"), "{log}");
}

/// An edit of the pipeline file is seen by the next query, as a new `engine query` would see
/// it: another embedding model is refused for vector queries of the index built with the old
/// one (BM25 still answers), and the file put back answers as before.
#[test]
fn serve_answers_with_the_pipeline_file_as_it_is_now() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let server = serve(dir.path());
    let vector = "/query?text=heap&index=index_a&mode=vector";
    assert_eq!(http(&server, "GET", vector, "").0, 200);
    let file = dir.path().join("pipeline.yaml");
    let edited = TWO_INDEX_PIPELINE.replace(
        "embed_a: { op: embed, input: chunk_a, provider: hash, dim: 256 }",
        "embed_a: { op: embed, input: chunk_a, provider: hash, dim: 128 }",
    );
    assert_ne!(edited, TWO_INDEX_PIPELINE);
    fs::write(&file, &edited).unwrap();
    let (status, answer) = http(&server, "GET", vector, "");
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"].as_str().unwrap();
    assert!(
        message.contains("run the pipeline to re-embed"),
        "{message}"
    );
    assert!(message.contains("`\"mode\": \"bm25\"`"), "{message}");
    let bm25 = "/query?text=heap&index=index_a&mode=bm25";
    let (status, answer) = http(&server, "GET", bm25, "");
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|note| note.as_str().unwrap().contains("embed_a")),
        "the index answers with what the run before the edit made: {answer}"
    );
    fs::write(&file, TWO_INDEX_PIPELINE).unwrap();
    let (status, answer) = http(&server, "GET", vector, "");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["notes"], json!([]));
    // Saved halfway through an edit, the file does not load: the index answers as it was
    // opened, with a note saying why, until the file loads again.
    fs::write(
        &file,
        "version: 1\nname: idx\nsteps:\n  docs: { op: source.files, path: \n",
    )
    .unwrap();
    let (status, answer) = http(&server, "GET", vector, "");
    assert_eq!(status, 200, "{answer}");
    assert!(!answer["hits"].as_array().unwrap().is_empty(), "{answer}");
    let note = answer["notes"][0].as_str().unwrap_or_default();
    assert!(note.contains("does not load now"), "{answer}");
    assert!(
        note.contains("pipeline.yaml:5:1: error: YAML syntax error"),
        "the file's line: {note}"
    );
    fs::write(&file, TWO_INDEX_PIPELINE).unwrap();
    let (status, answer) = http(&server, "GET", vector, "");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["notes"], json!([]));
}

/// What `engine query` refuses is a 400 with the reason; an unknown path a 404.
#[test]
fn serve_refuses_bad_queries_with_their_reason() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let server = serve(dir.path());
    for (body, needle) in [
        (
            json!({ "text": "heap" }),
            "say which with `index` (index_a, index_b)",
        ),
        (
            json!({ "text": "heap", "index": "nope" }),
            "no index step `nope`",
        ),
        (
            json!({ "text": "  ", "index": "index_a" }),
            "the query is empty",
        ),
        (
            json!({ "text": "heap", "index": "index_a", "k": 0 }),
            "at least 1",
        ),
        (
            json!({ "text": "heap", "index": "index_a", "mode": "fuzzy" }),
            "not `fuzzy`",
        ),
        (
            json!({ "text": "heap", "index": "index_a", "mode": "bm25", "alpha": 0.5 }),
            "`alpha` sets how hybrid mode fuses",
        ),
        (
            json!({ "text": "heap", "index": "index_a", "alpha": 2.0 }),
            "from 0 to 1",
        ),
        (
            json!({ "text": "heap", "index": "index_a", "filters": ["doc_id"] }),
            "(e.g. `\"filters\": [\"doc_id=guide.pdf\"]`)",
        ),
        // Advice in the client's terms: the field, not the command line's `--filter`.
        (
            json!({ "text": "heap", "index": "index_a", "context": 51 }),
            "with `\"filters\": [\"doc_id=…\"]`",
        ),
        (
            json!({ "text": "heap", "colour": "red" }),
            "unknown field `colour`",
        ),
        // An answer is bounded: `k`, and `k` with its context.
        (
            json!({ "text": "heap", "index": "index_a", "k": 100_000 }),
            "`k` is at most 1000 here, not 100000",
        ),
        (
            json!({ "text": "heap", "index": "index_a", "k": 100, "context": 50 }),
            "at most 5000 chunks, hits and context together: `k` 100 with `context` 50 asks for up to 10100",
        ),
    ] {
        let (status, answer) = http(&server, "POST", "/query", &body.to_string());
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    let (status, answer) = http(&server, "POST", "/query", "[]");
    assert_eq!(status, 400);
    let message = answer["error"].as_str().unwrap();
    assert!(
        message.contains("the body is no query (it is a list)") && !message.contains("struct"),
        "{message}"
    );
    for (twice, says) in [
        ("text=heap&text=box", "`text` is given twice"),
        (
            "text=heap&q=box",
            "`text` and `q` are the same parameter, given twice",
        ),
        ("text=heap&k=2&k=3", "`k` is given twice"),
    ] {
        let (status, answer) = http(&server, "GET", &format!("/query?{twice}&index=index_a"), "");
        assert_eq!(status, 400, "{twice}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
    }
    let (status, answer) = http(&server, "GET", "/query?text=heap&index=index_a&k=1000", "");
    assert_eq!(status, 200, "{answer}");
    // A POST's URL parameters are refused, not ignored.
    let body = json!({ "text": "heap" }).to_string();
    let (status, answer) = http(&server, "POST", "/query?index=index_b&k=1&k=2", &body);
    assert_eq!(status, 400, "{answer}");
    assert!(
        (answer["error"].as_str().unwrap()).contains(
            "parameters in the URL are not read with POST (`index`, `k`): put them in the JSON body"
        ),
        "{answer}"
    );
    // Bytes that are no UTF-8 once decoded: a 400 in a URL as in a body.
    let (status, answer) = http(&server, "GET", "/query?text=%FF%FE&index=index_b", "");
    assert_eq!(status, 400, "{answer}");
    assert!(
        (answer["error"].as_str().unwrap()).contains("the URL parameter `text` is not UTF-8"),
        "{answer}"
    );
    let both = json!({ "text": "heap", "index": "index_a", "filter": ["doc_id=a.md"], "filters": ["page=1"] });
    let (status, answer) = http(&server, "POST", "/query", &both.to_string());
    assert_eq!(status, 400, "{answer}");
    assert!(
        (answer["error"].as_str().unwrap())
            .contains("`filter` and `filters` are the same field, given twice"),
        "{answer}"
    );
    // A method a path does not take: a JSON error naming those it takes, and `Allow`.
    for (method, path, allowed) in [
        ("PUT", "/query", "GET or POST"),
        ("DELETE", "/indexes", "GET"),
    ] {
        let (status, answer) = http(&server, method, path, "");
        assert_eq!(status, 405, "{method} {path}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{path}` takes {allowed}, not `{method}`")),
            "{message}"
        );
        let mut stream = TcpStream::connect(&server.addr).unwrap();
        write!(stream, "{method} {path} HTTP/1.0\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(
            answer.to_ascii_lowercase().contains("\r\nallow: get,head"),
            "{answer}"
        );
    }
    let (status, answer) = http(&server, "POST", "/query", "{not json");
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("the body is no query")
    );
    let huge = json!({ "text": "heap ".repeat(500_000), "index": "index_a" }).to_string();
    let (status, answer) = http(&server, "POST", "/query", &huge);
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("at most 2 MiB"));
    let (status, _) = http(
        &server,
        "GET",
        "/query?text=heap&index=index_a&colour=red",
        "",
    );
    assert_eq!(status, 400);
    let (status, answer) = http(&server, "GET", "/elsewhere", "");
    assert_eq!(status, 404);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("or `GET /health`"),
        "{answer}"
    );
    assert_eq!(http(&server, "GET", "/health", "").0, 200);
    // A request line hyper refuses itself (no body to say why): the log says it.
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "GET /query?text={} HTTP/1.1\r\n\r\n",
        "a".repeat(70_000)
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer}");
    // Logged once the connection has ended, just after it closed.
    std::thread::sleep(Duration::from_millis(300));
    let errors = server.stop();
    assert!(errors.contains("- - 414 (URI too long"), "{errors}");
}

/// An address another server holds cannot be listened on: exit 3 (a valid command that could
/// not be carried out), saying which, every time: the query model's loading thread, started
/// before the port was bound, crashed the process as it exited (SIGSEGV, SIGABRT) about one
/// time in eight. An address that is none, exit 2.
#[test]
fn serve_says_when_it_cannot_listen() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let file = dir.path().join("pipeline.yaml");
    for _ in 0..12 {
        let output = engine()
            .args(["serve", "--addr", &addr])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{}", common::stderr(&output));
        assert!(common::stderr(&output).contains(&format!("cannot listen on {addr}")));
    }
    let output = engine()
        .args(["serve", "--addr", "localhost:port"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", common::stderr(&output));
    assert!(common::stderr(&output).contains("is no address to listen on"));
}

/// That `answer` says the index asked for has not been built yet.
fn assert_no_index_yet(answer: &Value) {
    let message = answer["error"].as_str().unwrap_or_default();
    assert!(message.contains("has no index yet"), "{answer}");
}

/// A server started before the first run says there is no index yet, then answers once a run
/// has built it.
#[test]
fn serve_started_before_the_first_run_answers_after_it() {
    let dir = setup();
    let server = serve(dir.path());
    let url = "/query?text=heap&index=index_a&mode=bm25";
    let (status, answer) = http(&server, "GET", url, "");
    assert_eq!(status, 400, "{answer}");
    assert_no_index_yet(&answer);
    let (_, indexes) = http(&server, "GET", "/indexes", "");
    assert_eq!(indexes["indexes"][0]["open"], false, "{indexes}");
    let why = indexes["indexes"][0]["error"].as_str().unwrap();
    assert!(why.contains("has no index yet"), "{why}");
    assert_eq!(run_json(dir.path()).0, Some(0));
    let (status, answer) = http(&server, "GET", url, "");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["hits"][0]["doc_id"], "boxes.md");
    let (_, indexes) = http(&server, "GET", "/indexes", "");
    assert!(
        indexes["indexes"][0]["chunks"].as_u64().unwrap() > 0,
        "{indexes}"
    );
}

/// Queries of one index sent together are each answered as the same query sent alone: the
/// index and its query model are shared by the searches running at once, and no answer takes
/// another's vector, mode or hits.
#[test]
fn serve_answers_queries_sent_together_as_each_alone() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let server = serve(dir.path());
    let texts = [
        "mutex guards shared data between threads",
        "recursive types on the heap",
        "the question mark operator propagates errors",
        "channels send messages",
    ];
    let bodies: Vec<String> = (texts.iter())
        .flat_map(|text| {
            ["hybrid", "vector", "bm25"].map(|mode| {
                json!({ "text": text, "index": "index_a", "mode": mode, "k": 4 }).to_string()
            })
        })
        .collect();
    let alone: Vec<Value> = (bodies.iter())
        .map(|body| http(&server, "POST", "/query", body).1)
        .collect();
    let together: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let asked: Vec<_> = (bodies.iter())
            .map(|body| scope.spawn(|| http(&server, "POST", "/query", body)))
            .collect();
        asked
            .into_iter()
            .map(|asked| asked.join().unwrap())
            .collect()
    });
    for ((body, alone), (status, together)) in bodies.iter().zip(&alone).zip(&together) {
        assert_eq!(*status, 200, "{body}: {together}");
        assert!(
            !alone["hits"].as_array().unwrap().is_empty(),
            "{body}: {alone}"
        );
        assert_eq!(together, alone, "{body}");
    }
}

/// An index step added to the pipeline file is served once the file has it (its index once a
/// run has built it), and one removed from the file is no longer served, without a restart.
#[test]
fn serve_follows_the_index_steps_of_the_pipeline_file() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let server = serve(dir.path());
    let file = dir.path().join("pipeline.yaml");
    let listed = |server: &Server| -> Vec<String> {
        let (_, indexes) = http(server, "GET", "/indexes", "");
        (indexes["indexes"].as_array().unwrap().iter())
            .map(|index| index["index"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(listed(&server), ["index_a", "index_b"]);
    let added = format!(
        "{TWO_INDEX_PIPELINE}  embed_c: {{ op: embed, input: chunk_b, provider: hash, dim: 64 }}\n  index_c: {{ op: index.hybrid, input: embed_c }}\n"
    );
    fs::write(&file, &added).unwrap();
    let url = "/query?text=recursive+types+on+the+heap&index=index_c";
    let (status, answer) = http(&server, "GET", url, "");
    assert_eq!(status, 400, "{answer}");
    assert_no_index_yet(&answer);
    assert_eq!(listed(&server), ["index_a", "index_b", "index_c"]);
    assert_eq!(run_json(dir.path()).0, Some(0));
    let (status, answer) = http(&server, "GET", url, "");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["hits"][0]["doc_id"], "boxes.md", "{answer}");

    let removed = added
        .replace("  index_b: { op: index.hybrid, input: embed_b }\n", "")
        .replace(
            "  embed_b: { op: embed, input: chunk_b, provider: hash, dim: 256 }\n",
            "",
        );
    assert!(!removed.contains("embed_b"), "{removed}");
    fs::write(&file, &removed).unwrap();
    let (status, answer) = http(&server, "GET", "/query?text=heap&index=index_b", "");
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"].as_str().unwrap();
    assert!(
        message.contains("no index step `index_b`") && message.contains("index_a, index_c"),
        "{message}"
    );
    assert_eq!(listed(&server), ["index_a", "index_c"]);
}

/// With `--token-file`, a query or listing without the token, or with another, is a 401;
/// with it, answered; `/health` answers without it. A token file without a token is refused
/// at start (exit 2).
#[test]
fn serve_with_a_token_file_answers_only_requests_that_carry_the_token() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let token_file = dir.path().join("token");
    fs::write(&token_file, "s3cret-token\n").unwrap();
    let server = serve_with(dir.path(), &["--token-file", token_file.to_str().unwrap()]);
    let url = "/query?text=heap&index=index_a&mode=bm25";
    for headers in [
        "",
        "Authorization: Bearer wrong\r\n",
        "Authorization: s3cret-token\r\n",
    ] {
        for path in [url, "/indexes"] {
            let (status, answer) = http_with(&server, "GET", path, "", headers);
            assert_eq!(status, 401, "{path} with {headers:?}: {answer}");
            assert!(
                answer["error"].as_str().unwrap().contains("Bearer"),
                "{answer}"
            );
        }
    }
    // An unknown path says nothing either (it answered 404 to anyone).
    assert_eq!(http(&server, "GET", "/elsewhere", "").0, 401);
    let carried = "Authorization: Bearer s3cret-token\r\n";
    assert_eq!(http_with(&server, "GET", "/elsewhere", "", carried).0, 404);
    let (status, answer) = http_with(&server, "GET", url, "", carried);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["hits"][0]["doc_id"], "boxes.md", "{answer}");
    assert_eq!(http_with(&server, "GET", "/indexes", "", carried).0, 200);
    assert_eq!(http(&server, "GET", "/health", "").0, 200);

    fs::write(&token_file, "\n").unwrap();
    let output = engine()
        .args(["serve", "--token-file"])
        .arg(&token_file)
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        common::stderr(&output).contains("must hold the token on its first line"),
        "{}",
        common::stderr(&output)
    );
}

/// A connection that sends nothing, half a request's headers, or less body than it says it
/// will is closed after `--idle-timeout` (they stayed open for ever: twenty thousand of them
/// used every file descriptor, and nobody else was answered); a body longer than a query may
/// be is refused before it is sent. `--json` says where it listens as JSON.
#[test]
fn serve_closes_connections_that_stall() {
    let dir = setup();
    let (child, line) = start(dir.path(), &["--json", "--idle-timeout", "1"]);
    let listening: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line}"));
    assert_eq!(
        listening["indexes"],
        json!(["index_a", "index_b"]),
        "{line}"
    );
    let server = Server {
        child,
        addr: listening["url"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://")
            .to_owned(),
    };
    let answer_to = |sent: &str| {
        let mut stream = TcpStream::connect(&server.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream.write_all(sent.as_bytes()).unwrap();
        let mut answer = String::new();
        // Closed: the read ends (an answer, or nothing), long before the read's timeout.
        stream
            .read_to_string(&mut answer)
            .expect("the connection is closed");
        answer
    };
    assert_eq!(answer_to(""), "", "nothing sent");
    let half = answer_to("GET /query?text=heap HTTP/1.1\r\nHost: x\r\n");
    assert!(
        half.is_empty() || half.starts_with("HTTP/1.1 408"),
        "{half}"
    );
    let stalled =
        answer_to("POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"text\":");
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    assert!(
        stalled.contains("the body did not arrive within 1 s"),
        "{stalled}"
    );
    let huge = answer_to("POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n");
    assert!(huge.starts_with("HTTP/1.1 413"), "{huge}");
    assert_eq!(http(&server, "GET", "/health", "").0, 200);
}

/// A client that sends a whole request and then closes its side of the connection (as `nc -N`,
/// HTTP/1.0 scripts and health checkers do) gets its answer: the server closed such
/// connections without answering.
#[test]
fn serve_answers_clients_that_close_their_side_after_the_request() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let server = serve(dir.path());
    for request in [
        "GET /query?text=heap&index=index_a&k=1 HTTP/1.0\r\n\r\n",
        "GET /indexes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /health HTTP/1.0\r\n\r\n",
    ] {
        for _ in 0..5 {
            let mut stream = TcpStream::connect(&server.addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            assert!(answer.starts_with("HTTP/1."), "{request:?}: {answer:?}");
            assert!(answer.contains(" 200 OK"), "{request:?}: {answer:?}");
        }
    }
}

/// A text index file of the live generation cut short while the server has it open is
/// answered with a 500 saying the index is damaged, and the server goes on: its files are
/// mapped into memory, and the first read past a file's new end killed the server (SIGBUS).
#[test]
fn serve_answers_a_500_when_an_open_index_is_cut_short_under_it() {
    let dir = setup();
    // Documents of many distinct words, so that the term dictionaries span several pages.
    let mut seed: u64 = 7;
    let mut word = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let letters = 3 + (seed >> 60) as usize % 6;
        (0..letters)
            .map(|i| (b'a' + ((seed >> (8 * i + 3)) % 26) as u8) as char)
            .collect::<String>()
    };
    for doc in 0..40 {
        let words: Vec<String> = (0..300).map(|_| word()).collect();
        fs::write(
            dir.path().join(format!("docs/gen{doc}.md")),
            format!("# Doc {doc}\n\n{} frobnicator\n", words.join(" ")),
        )
        .unwrap();
    }
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let server = serve(dir.path());
    let query = "/query?index=index_a&mode=bm25&text=frobnicator&k=50";
    assert_eq!(http(&server, "GET", query, "").0, 200);
    let index = dir.path().join(".engine/indexes/idx/index_a");
    let current = fs::read_to_string(index.join("CURRENT")).unwrap();
    let mut longest = 0;
    for entry in fs::read_dir(index.join(current.trim()).join("text")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "idx") {
            longest = longest.max(fs::metadata(&path).unwrap().len());
            fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(10)
                .unwrap();
        }
    }
    // Past the first page: a read there finds no mapped byte.
    assert!(longest > 2 * 4096, "{longest}");
    let (status, answer) = http(&server, "GET", query, "");
    assert_eq!(status, 500, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("rebuilds an index found damaged"),
        "{answer}"
    );
    assert_eq!(http(&server, "GET", "/health", "").0, 200);
    let other = "/query?index=index_b&mode=bm25&text=frobnicator";
    assert_eq!(http(&server, "GET", other, "").0, 200);
}

/// An index whose vectors file was cut short is listed with a note saying its vector and
/// hybrid queries fail: the vectors are read when a search first needs them, so `/indexes`
/// showed it as whole while every vector query got a 500.
#[test]
fn serve_lists_an_index_with_damaged_vectors_as_such() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let index = dir.path().join(".engine/indexes/idx/index_a");
    let current = fs::read_to_string(index.join("CURRENT")).unwrap();
    let vectors = index.join(current.trim()).join("vectors.f32");
    let file = fs::OpenOptions::new().write(true).open(&vectors).unwrap();
    file.set_len(10).unwrap();
    drop(file);
    let server = serve(dir.path());
    let (status, listed) = http(&server, "GET", "/indexes", "");
    assert_eq!(status, 200, "{listed}");
    let notes = |step: &str| -> String {
        let index = (listed["indexes"].as_array().unwrap().iter())
            .find(|index| index["index"] == step)
            .unwrap_or_else(|| panic!("no {step} in {listed}"));
        index["notes"].to_string()
    };
    let damaged = notes("index_a");
    assert!(
        damaged.contains("its vectors cannot be read") && damaged.contains("BM25 answers"),
        "{damaged}"
    );
    assert!(!notes("index_b").contains("vectors"), "{listed}");
    let (status, _) = http(
        &server,
        "GET",
        "/query?index=index_a&mode=bm25&text=mutex",
        "",
    );
    assert_eq!(status, 200);
}

/// A vectors file cut short while the server holds its vectors in memory is found at the next
/// query, as `engine query` finds it: vector queries get a 500 and `/indexes` a note, where
/// the server went on answering from memory and listed the index as whole.
#[test]
fn serve_finds_a_vectors_file_damaged_while_it_serves() {
    let dir = setup();
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    let server = serve(dir.path());
    let vector = "/query?index=index_a&mode=vector&text=mutex";
    let (status, answer) = http(&server, "GET", vector, "");
    assert_eq!(status, 200, "{answer}");
    let index = dir.path().join(".engine/indexes/idx/index_a");
    let current = fs::read_to_string(index.join("CURRENT")).unwrap();
    let vectors = index.join(current.trim()).join("vectors.f32");
    let file = fs::OpenOptions::new().write(true).open(&vectors).unwrap();
    file.set_len(10).unwrap();
    drop(file);
    let (status, answer) = http(&server, "GET", vector, "");
    assert_eq!(status, 500, "{answer}");
    assert!(
        (answer["error"].as_str().unwrap()).contains("size does not match the point count"),
        "{answer}"
    );
    let (status, listed) = http(&server, "GET", "/indexes", "");
    assert_eq!(status, 200, "{listed}");
    assert!(
        listed["indexes"][0]["notes"]
            .to_string()
            .contains("its vectors cannot be read"),
        "{listed}"
    );
    let bm25 = "/query?index=index_a&mode=bm25&text=mutex";
    assert_eq!(http(&server, "GET", bm25, "").0, 200);
}

/// The first SIGTERM stops the server taking connections but answers the request it is
/// reading, then exits 0 saying so; every signal killed the server with its requests before.
#[test]
fn serve_answers_the_requests_in_flight_when_asked_to_stop() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let mut server = serve(dir.path());
    let body = json!({ "text": "heap", "index": "index_a", "mode": "bm25" }).to_string();
    let (first, rest) = body.split_at(10);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&server, "TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "it did not wait"
    );
    assert!(TcpStream::connect(&server.addr).is_err(), "still listening");
    stream.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let status = server.child.wait().unwrap();
    let errors = server.child.stderr.take().map(|mut stderr| {
        let mut errors = String::new();
        let _ = stderr.read_to_string(&mut errors);
        errors
    });
    let errors = errors.unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{errors}");
    assert!(errors.contains("stopping: no new connections"), "{errors}");
    assert!(
        errors.contains("stopped: every request in flight was answered"),
        "{errors}"
    );
}

/// A second signal stops the server at once, exit 130, dropping the request in flight.
#[test]
fn serve_stops_at_once_at_a_second_signal() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let mut server = serve(dir.path());
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&server, "INT");
    std::thread::sleep(Duration::from_millis(300));
    signal(&server, "INT");
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
}

/// Sends the signal `name` (`TERM`, `INT`) to the server.
fn signal(server: &Server, name: &str) {
    let sent = std::process::Command::new("kill")
        .args([format!("-{name}"), server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Large bodies are read 16 at a time, the rest refused at once with a 503 that says when to
/// try again; small ones are read as before: 400 clients sending 2 MiB bodies took 1 GB.
#[test]
fn serve_reads_few_large_bodies_at_once() {
    let dir = setup();
    assert_eq!(run_json(dir.path()).0, Some(0));
    let server = serve(dir.path());
    let large =
        json!({ "text": "heap ".repeat(20_000), "index": "index_a", "mode": "bm25" }).to_string();
    let reading: Vec<TcpStream> = (0..16)
        .map(|_| {
            let mut stream = TcpStream::connect(&server.addr).unwrap();
            write!(
                stream,
                "POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{{",
                large.len()
            )
            .unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // Refused on its `Content-Length`, before its body is sent.
    let (status, retry_after, answer) = post_with_retry_after(&server, large.len(), "");
    assert_eq!(status, 503, "{answer}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(
        (answer["error"].as_str().unwrap()).contains("16 bodies over 64 KiB are being read"),
        "{answer}"
    );
    let small = json!({ "text": "heap", "index": "index_a", "mode": "bm25" }).to_string();
    assert_eq!(http(&server, "POST", "/query", &small).0, 200);
    drop(reading);
    std::thread::sleep(Duration::from_millis(300));
    let (status, _, answer) = post_with_retry_after(&server, large.len(), &large);
    assert_eq!(status, 200, "{answer}");
}

/// The status, `Retry-After` header and JSON body of the answer to a POST of `body` that says
/// it is `length` bytes long.
fn post_with_retry_after(
    server: &Server,
    length: usize,
    body: &str,
) -> (u16, Option<String>, Value) {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    let _ = write!(
        stream,
        "POST /query HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {length}\r\n\r\n{body}"
    );
    read_with_retry_after(stream)
}

/// A fake embedding provider whose answers follow `mode`: [`PROVIDER_OK`], 401, 429 asking to
/// wait 30 s, or no answer for longer than a 1 s `timeout`.
fn fake_provider(mode: Arc<AtomicU8>) -> String {
    use axum::extract::Json as Body;
    async fn embeddings(State(mode): State<Arc<AtomicU8>>, Body(body): Body<Value>) -> Response {
        match mode.load(Ordering::SeqCst) {
            PROVIDER_REFUSES_KEY => (StatusCode::UNAUTHORIZED, "bad key").into_response(),
            PROVIDER_BUSY => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "30")],
                "slow down",
            )
                .into_response(),
            PROVIDER_HANGS => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                (StatusCode::OK, "late").into_response()
            }
            PROVIDER_HOLDS => {
                HELD.fetch_add(1, Ordering::SeqCst);
                while mode.load(Ordering::SeqCst) == PROVIDER_HOLDS {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                HELD.fetch_sub(1, Ordering::SeqCst);
                (StatusCode::SERVICE_UNAVAILABLE, "released").into_response()
            }
            _ => {
                let data: Vec<Value> = (body["input"].as_array().unwrap().iter().enumerate())
                    .map(|(index, text)| {
                        let length = text.as_str().unwrap().len() as f32;
                        json!({"object": "embedding", "index": index, "embedding": [length, 1.0]})
                    })
                    .collect();
                axum::Json(json!({"object": "list", "data": data})).into_response()
            }
        }
    }
    let app = axum::Router::new()
        .route("/v1/embeddings", axum::routing::post(embeddings))
        .with_state(mode);
    format!("http://{}/v1", common::serve(app))
}

const PROVIDER_OK: u8 = 0;
const PROVIDER_REFUSES_KEY: u8 = 1;
const PROVIDER_BUSY: u8 = 2;
const PROVIDER_HANGS: u8 = 3;
/// Holds each request unanswered until the mode changes, counting them in [`HELD`].
const PROVIDER_HOLDS: u8 = 4;
/// Requests the fake provider holds unanswered now.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// A project whose index is embedded by `base_url` (1 s `timeout`), built while it answered.
fn provider_project(base_url: &str) -> tempfile::TempDir {
    provider_project_waiting(base_url, 1)
}

/// [`provider_project`] with a `timeout` of `seconds`.
fn provider_project_waiting(base_url: &str, seconds: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(dir.path().join("docs/a.md"), "# Keys\n\nLocks and keys.\n").unwrap();
    let yaml = format!(
        "version: 1\nname: http\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, timeout: {seconds}, retries: 1, backoff: 0.01 }}\n  index: {{ op: index.hybrid, input: embed }}\n",
    );
    fs::write(dir.path().join("pipeline.yaml"), yaml).unwrap();
    let run = engine()
        .arg("run")
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    dir
}

/// A GET's status, its `Retry-After` header and its JSON body.
fn get_with_retry_after(server: &Server, path: &str) -> (u16, Option<String>, Value) {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr
    );
    read_with_retry_after(stream)
}

/// The status, `Retry-After` header and JSON body of the answer `stream` gets.
fn read_with_retry_after(mut stream: TcpStream) -> (u16, Option<String>, Value) {
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let retry_after = (head.lines())
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("retry-after:")
                .map(str::to_owned)
        })
        .map(|value| value.trim().to_owned());
    (status, retry_after, serde_json::from_str(body).unwrap())
}

/// The embedding provider's trouble is passed on as a gateway's, not as the server's own
/// failure (500): an error answer is 502, a 429 is 503 with its `Retry-After` (answered at
/// once: it asks to wait longer than the provider's `timeout`), no answer in time is 504.
#[test]
fn serve_passes_on_the_embedding_providers_trouble() {
    let mode = Arc::new(AtomicU8::new(PROVIDER_OK));
    let dir = provider_project(&fake_provider(mode.clone()));
    let server = serve(dir.path());
    let query = "/query?index=index&mode=vector&text=keys";
    let (status, _, answer) = get_with_retry_after(&server, query);
    assert_eq!(status, 200, "{answer}");
    for (trouble, expected, retry_after, said) in [
        (PROVIDER_REFUSES_KEY, 502, None, "answered 401"),
        (
            PROVIDER_BUSY,
            503,
            Some("30"),
            "Retry-After asks to wait 30 s",
        ),
        (PROVIDER_HANGS, 504, None, "no complete reply within 1 s"),
    ] {
        mode.store(trouble, Ordering::SeqCst);
        let (status, header, answer) = get_with_retry_after(&server, query);
        assert_eq!(status, expected, "{answer}");
        assert_eq!(header.as_deref(), retry_after, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains(said), "{answer}");
    }
    // BM25 needs no provider.
    let (status, _, answer) =
        get_with_retry_after(&server, "/query?index=index&mode=bm25&text=keys");
    assert_eq!(status, 200, "{answer}");
}

/// `engine serve` listens while it loads the query model: it asked an http provider first, and
/// one that did not answer kept the port closed for two minutes (`/health` and BM25 refused).
#[test]
fn serve_listens_while_the_provider_is_asked() {
    let mode = Arc::new(AtomicU8::new(PROVIDER_OK));
    let dir = provider_project_waiting(&fake_provider(mode.clone()), 60);
    mode.store(PROVIDER_HOLDS, Ordering::SeqCst);
    let server = serve(dir.path());
    // The warm-up's request reaches the provider, which holds it, while the server answers.
    let mut waited = 0;
    while HELD.load(Ordering::SeqCst) == 0 && waited < 300 {
        std::thread::sleep(Duration::from_millis(50));
        waited += 1;
    }
    assert_eq!(
        HELD.load(Ordering::SeqCst),
        1,
        "the provider was asked before the server listened"
    );
    assert_eq!(http(&server, "GET", "/health", "").0, 200);
    let (status, _, answer) =
        get_with_retry_after(&server, "/query?index=index&mode=bm25&text=keys");
    assert_eq!(status, 200, "{answer}");
    mode.store(PROVIDER_OK, Ordering::SeqCst);
}

/// `engine query` does not wait on a 429 whose `Retry-After` is longer than the provider's
/// `timeout`: it fails at once, saying the wait asked for.
#[test]
fn a_query_fails_at_once_when_the_provider_asks_to_wait_past_its_timeout() {
    let mode = Arc::new(AtomicU8::new(PROVIDER_OK));
    let dir = provider_project(&fake_provider(mode.clone()));
    mode.store(PROVIDER_BUSY, Ordering::SeqCst);
    let output = engine()
        .arg("query")
        .arg(dir.path().join("pipeline.yaml"))
        .args(["--index", "index", "--mode", "vector", "keys"])
        .output()
        .unwrap();
    let errors = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{errors}");
    assert!(
        errors
            .contains("Retry-After asks to wait 30 s, longer than the provider's `timeout` (1 s)"),
        "{errors}"
    );
}
