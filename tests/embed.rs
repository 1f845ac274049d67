//! End-to-end tests of the `embed` operator: the real `engine` binary, with the local ONNX model
//! (`just setup` fetches it; these tests fail, never skip, without it) and with an
//! OpenAI-compatible endpoint served by the test on 127.0.0.1.

mod common;

use common::{engine, engine_on, repo};

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Json, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The default model folder; panics with what to do when `just setup` has not run.
fn model() -> PathBuf {
    let model = repo().join("models/bge-small-en-v1.5");
    assert!(
        model.join("tokenizer.json").exists() && repo().join("models/onnxruntime").exists(),
        "models/ is incomplete: run `just setup`"
    );
    model
}

/// The summary of a run of `file`, which must succeed.
fn run_summary(file: &Path) -> Value {
    let output = engine().args(["run", "--json"]).arg(file).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// How many cached vectors `engine gc` of `file` removed.
fn vectors_removed_by_gc(file: &Path) -> u64 {
    let gc = engine().args(["gc", "--json"]).arg(file).output().unwrap();
    assert_eq!(gc.status.code(), Some(0), "{}", stderr(&gc));
    let collected: Value = serde_json::from_slice(&gc.stdout).unwrap();
    collected["vectors_removed"].as_u64().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn norm(vector: &Value) -> f64 {
    vector
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap().powi(2))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn onnx_embeds_the_sample_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "version: 1\nname: embed\nsteps:\n  docs: {{ op: source.files, path: {corpus}, include: [\"**/*.md\"], exclude: [\"SOURCES.md\"] }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 150, overlap: 0, unit: tokens }}\n  embed: {{ op: embed, input: chunk, provider: onnx, model: {model}, batch_size: 16, threads: 2 }}\n  chunks: {{ op: sink.jsonl, input: chunk, path: out/chunks.jsonl }}\n  vectors: {{ op: sink.jsonl, input: embed, path: out/vectors.jsonl }}\n",
        corpus = repo().join("sample-corpus").display(),
        model = model().display(),
    );
    let output = engine_on(dir.path(), &["run", "--json"], &yaml);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["status"], "ok");
    assert_eq!(summary["steps"]["embed"]["failed"], 0);
    assert_eq!(
        summary["steps"]["embed"]["out"],
        summary["steps"]["chunk"]["out"]
    );
    let chunks = lines(&dir.path().join("out/chunks.jsonl"));
    let vectors = lines(&dir.path().join("out/vectors.jsonl"));
    assert!(chunks.len() > 20, "{} chunks", chunks.len());
    // Sized in tokens of the model's own tokenizer, which the chunk step took from the embed
    // step it feeds.
    assert!(chunks.iter().all(|c| c["tokens"].as_u64().unwrap() <= 150));
    assert!(chunks.iter().any(|c| c["tokens"].as_u64().unwrap() > 100));
    assert_eq!(vectors.len(), chunks.len());
    let by_id: HashMap<&str, &Value> = chunks
        .iter()
        .map(|c| (c["chunk_id"].as_str().unwrap(), c))
        .collect();
    for line in &vectors {
        // Every chunk field, unchanged, plus the vector.
        let chunk = by_id[line["chunk_id"].as_str().unwrap()];
        for (key, value) in chunk.as_object().unwrap() {
            assert_eq!(&line[key], value, "{key}");
        }
        assert_eq!(line["vector"].as_array().unwrap().len(), 384);
        assert!((norm(&line["vector"]) - 1.0).abs() < 1e-4);
    }
}

#[test]
fn vectors_can_stay_unnormalized() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Alpha\n\nA paragraph about ownership.\n\nA paragraph about ownership.\n",
    )
    .unwrap();
    let yaml = format!(
        "version: 1\nname: raw\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 30, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: onnx, model: {model}, normalize: false, pooling: mean }}\n  out: {{ op: sink.jsonl, input: embed, path: out.jsonl }}\n",
        model = model().display(),
    );
    let output = engine_on(dir.path(), &["run"], &yaml);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let vectors = lines(&dir.path().join("out.jsonl"));
    assert!(vectors.len() >= 2);
    assert!(
        vectors
            .iter()
            .all(|v| (norm(&v["vector"]) - 1.0).abs() > 1e-3)
    );
}

/// onnxruntime 1.32 records a telemetry event for Microsoft under `~/.cache/Microsoft` when it
/// starts, whatever the environment's telemetry setting, unless `ORT_DISABLE_TELEMETRY` is set:
/// the engine sets it, and leaves a user's own value alone.
#[test]
fn onnxruntime_records_no_telemetry() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Alpha\n\nA paragraph about ownership.\n",
    )
    .unwrap();
    let yaml = format!(
        "version: 1\nname: quiet\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 100 }}\n  embed: {{ op: embed, input: chunk, provider: onnx, model: {model} }}\n  out: {{ op: sink.jsonl, input: embed, path: out.jsonl }}\n",
        model = model().display(),
    );
    fs::write(dir.path().join("pipeline.yaml"), yaml).unwrap();
    let run_with_home = |home: &Path, switch: Option<&str>| {
        let mut command = engine();
        command
            .arg("run")
            .arg(dir.path().join("pipeline.yaml"))
            .env("HOME", home)
            .env_remove("XDG_CACHE_HOME")
            .env_remove("ORT_DISABLE_TELEMETRY");
        if let Some(value) = switch {
            command.env("ORT_DISABLE_TELEMETRY", value);
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        // A fresh store each time, so that the model is loaded each time.
        fs::remove_dir_all(dir.path().join(".engine")).unwrap();
    };
    // Without the variable onnxruntime writes `.cache/Microsoft/DeveloperTools/.onnxruntime/`
    // under HOME (seen by hand with `ORT_DISABLE_TELEMETRY=0`; not done here, since a machine
    // that reaches Microsoft's collector would send the event).
    let home = tempfile::tempdir().unwrap();
    run_with_home(home.path(), None);
    assert!(
        !home.path().join(".cache/Microsoft").exists(),
        "onnxruntime wrote its telemetry store"
    );
    // A user's own value stands (here the same choice, spelled their way).
    let own = tempfile::tempdir().unwrap();
    run_with_home(own.path(), Some("1"));
    assert!(!own.path().join(".cache/Microsoft").exists());
}

#[test]
fn a_missing_model_is_an_invalid_pipeline_that_says_run_setup() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    let yaml = "version: 1\nname: broken\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.recursive, input: parse, size: 100 }\n  embed: { op: embed, input: chunk, provider: onnx, model: models/nothing }\n  out: { op: sink.jsonl, input: embed, path: out.jsonl }\n";
    for command in ["validate", "run"] {
        let output = engine_on(dir.path(), &[command], yaml);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {text}");
        assert!(text.contains("pipeline.yaml:7:"), "{text}");
        assert!(text.contains("just setup"), "{text}");
    }
    // Keys of the wrong provider are unknown keys, with the line.
    let yaml = yaml.replace(
        "model: models/nothing",
        "model: m, base_url: http://x, pooling: cls",
    );
    let output = engine_on(dir.path(), &["validate"], &yaml);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("unknown key `base_url`"), "{text}");
    // An unknown provider names the choices.
    let yaml = yaml.replace(
        "provider: onnx, model: m, base_url: http://x, pooling: cls",
        "provider: onx, model: m",
    );
    let output = engine_on(dir.path(), &["validate"], &yaml);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("onnx"), "{text}");
}

/// A `max_tokens` past the model's 512 positions is an invalid pipeline at its line and key,
/// for `validate` and `run` alike, and for a semantic chunker's `embedding`: before, it passed,
/// and every document of more than 512 tokens failed in the model.
#[test]
fn max_tokens_past_the_models_positions_is_an_invalid_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    let model = model().display().to_string();
    let yaml = format!(
        "version: 1\nname: long\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 100 }}\n  embed: {{ op: embed, input: chunk, provider: onnx, model: {model},\n           max_tokens: 1024 }}\n  out: {{ op: sink.jsonl, input: embed, path: out.jsonl }}\n"
    );
    for command in ["validate", "run"] {
        let output = engine_on(dir.path(), &[command], &yaml);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {text}");
        assert!(text.contains("pipeline.yaml:8:"), "{text}");
        assert!(text.contains("set `max_tokens` to 512 or less"), "{text}");
    }
    assert!(!dir.path().join("out.jsonl").exists());
    let output = engine_on(dir.path(), &["validate"], &yaml.replace("1024", "512"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let semantic = format!(
        "version: 1\nname: long\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.semantic, input: parse, size: 100,\n           embedding: {{ provider: onnx, model: {model}, max_tokens: 600 }} }}\n  out: {{ op: sink.jsonl, input: chunk, path: out.jsonl }}\n"
    );
    let output = engine_on(dir.path(), &["validate"], &semantic);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("set `max_tokens` to 512 or less"), "{text}");
}

/// Requests seen, and how many to refuse with 429 before answering.
#[derive(Default)]
struct Endpoint {
    requests: AtomicUsize,
    texts: Mutex<Vec<String>>,
    /// The texts of each answered request.
    calls: Mutex<Vec<Vec<String>>>,
    /// Answer every request with 503 from now on.
    down: AtomicBool,
    /// Zeros added to every vector (a model of another size behind the same name).
    extra_dimensions: AtomicUsize,
}

async fn embeddings(State(endpoint): State<Arc<Endpoint>>, Json(body): Json<Value>) -> Response {
    let request = endpoint.requests.fetch_add(1, Ordering::SeqCst);
    if endpoint.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response();
    }
    // Every third request is refused once: the engine retries it.
    if request % 3 == 0 {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "0")],
            "slow down",
        )
            .into_response();
    }
    let texts: Vec<String> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    endpoint.texts.lock().unwrap().extend(texts.clone());
    endpoint.calls.lock().unwrap().push(texts.clone());
    let extra = endpoint.extra_dimensions.load(Ordering::SeqCst);
    let data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let mut vector = vec![text.len() as f32, text.matches(' ').count() as f32, 1.0];
            vector.extend(std::iter::repeat_n(0.0, extra));
            json!({"object": "embedding", "index": index, "embedding": vector})
        })
        .collect();
    Json(json!({"object": "list", "data": data, "model": body["model"]})).into_response()
}

fn server() -> (String, Arc<Endpoint>) {
    let endpoint = Arc::new(Endpoint::default());
    let app = Router::new()
        .route("/v1/embeddings", post(embeddings))
        .with_state(endpoint.clone());
    (format!("http://{}/v1", common::serve(app)), endpoint)
}

#[test]
fn http_embeds_through_an_openai_compatible_endpoint() {
    let (base_url, endpoint) = server();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    for i in 0..6 {
        fs::write(
            dir.path().join(format!("docs/{i}.md")),
            format!("# Doc {i}\n\nParagraph number {i} with some words.\n\nShared paragraph.\n"),
        )
        .unwrap();
    }
    let yaml = format!(
        "version: 1\nname: http\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 20, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, api_key_env: ENGINE_E2E_EMBED_KEY, batch_size: 2, concurrency: 2, backoff: 0.01, parallelism: 1 }}\n  out: {{ op: sink.jsonl, input: embed, path: out.jsonl }}\n",
    );
    let file = dir.path().join("pipeline.yaml");
    fs::write(&file, yaml).unwrap();
    let output = engine()
        .args(["run", "--json"])
        .arg(&file)
        .env("ENGINE_E2E_EMBED_KEY", "sk-e2e-secret")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!String::from_utf8_lossy(&output.stdout).contains("sk-e2e-secret"));
    let vectors = lines(&dir.path().join("out.jsonl"));
    assert!(vectors.len() >= 18, "{}", vectors.len());
    for line in &vectors {
        let text = line["text"].as_str().unwrap();
        let raw = [text.len() as f64, text.matches(' ').count() as f64, 1.0];
        let length = raw.iter().map(|x| x * x).sum::<f64>().sqrt();
        let vector: Vec<f64> = line["vector"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        for (got, want) in vector.iter().zip(raw) {
            assert!((got - want / length).abs() < 1e-5, "{text}: {vector:?}");
        }
    }
    // The six identical "Shared paragraph." chunks were sent once.
    let sent = endpoint.texts.lock().unwrap().clone();
    let shared = sent
        .iter()
        .filter(|t| t.as_str() == "Shared paragraph.")
        .count();
    assert_eq!(shared, 1, "{sent:?}");
    assert!(endpoint.requests.load(Ordering::SeqCst) > sent.len().div_ceil(2));
    let stored = fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert!(!stored.contains("sk-e2e-secret"));
}

/// The API key is needed to embed, not to load the pipeline: without it `validate` warns, a run
/// whose embeddings are all checkpointed completes and BM25 queries answer; a vector query
/// says what is missing.
#[test]
fn an_unset_api_key_only_stops_what_embeds() {
    let (base_url, _) = server();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(dir.path().join("docs/a.md"), "# Keys\n\nLocks and keys.\n").unwrap();
    let yaml = format!(
        "version: 1\nname: http\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, api_key_env: ENGINE_E2E_UNSET_KEY, backoff: 0.01 }}\n  index: {{ op: index.hybrid, input: embed }}\n",
    );
    let file = dir.path().join("pipeline.yaml");
    fs::write(&file, yaml).unwrap();
    let with_key = engine()
        .arg("run")
        .arg(&file)
        .env("ENGINE_E2E_UNSET_KEY", "sk-e2e-secret")
        .output()
        .unwrap();
    assert_eq!(with_key.status.code(), Some(0), "{}", stderr(&with_key));
    let without_key = |args: &[&str]| {
        engine()
            .arg(args[0])
            .arg(&file)
            .args(&args[1..])
            .env_remove("ENGINE_E2E_UNSET_KEY")
            .output()
            .unwrap()
    };
    let validate = without_key(&["validate"]);
    assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));
    assert!(
        stderr(&validate).contains("`ENGINE_E2E_UNSET_KEY` is not set"),
        "{}",
        stderr(&validate)
    );
    let rerun = without_key(&["run"]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    let bm25 = without_key(&["query", "--index", "index", "--mode", "bm25", "keys"]);
    assert_eq!(bm25.status.code(), Some(0), "{}", stderr(&bm25));
    assert!(String::from_utf8_lossy(&bm25.stdout).contains("a.md"));
    let vector = without_key(&["query", "--index", "index", "--mode", "vector", "keys"]);
    assert_ne!(vector.status.code(), Some(0));
    assert!(
        stderr(&vector).contains("ENGINE_E2E_UNSET_KEY"),
        "{}",
        stderr(&vector)
    );
}

/// With the embedding server down, a vector query fails with the server's answer and points to
/// BM25, which needs no server.
#[test]
fn a_query_whose_server_is_down_points_to_bm25() {
    let (base_url, endpoint) = server();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(dir.path().join("docs/a.md"), "# Keys\n\nLocks and keys.\n").unwrap();
    let yaml = format!(
        "version: 1\nname: http\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, retries: 1, backoff: 0.01 }}\n  index: {{ op: index.hybrid, input: embed }}\n",
    );
    let file = dir.path().join("pipeline.yaml");
    fs::write(&file, yaml).unwrap();
    let run = engine().arg("run").arg(&file).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    endpoint.down.store(true, Ordering::SeqCst);
    let query = |mode: &str| {
        engine()
            .arg("query")
            .arg(&file)
            .args(["--index", "index", "--mode", mode, "keys"])
            .output()
            .unwrap()
    };
    let vector = query("vector");
    assert_ne!(vector.status.code(), Some(0));
    let message = stderr(&vector);
    assert!(message.contains("503"), "{message}");
    assert!(message.contains("query --mode bm25"), "{message}");
    let bm25 = query("bm25");
    assert_eq!(bm25.status.code(), Some(0), "{}", stderr(&bm25));
    assert!(String::from_utf8_lossy(&bm25.stdout).contains("a.md"));
}

/// A query is embedded by the model that built the index, or refused: after switching the
/// embed step to another model of the same length, and before running it, vector queries say
/// to run the pipeline instead of ranking with vectors of two models.
#[test]
fn a_query_never_mixes_the_index_model_with_another() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Locks\n\nA mutex guards data.\n",
    )
    .unwrap();
    let pipeline = |embed: &str| {
        format!(
            "version: 1\nname: switch\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200, unit: chars }}\n  embed: {{ op: embed, input: chunk, {embed} }}\n  index: {{ op: index.hybrid, input: embed }}\n"
        )
    };
    let output = engine_on(dir.path(), &["run"], &pipeline("provider: hash, dim: 384"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let onnx = format!("provider: onnx, model: {}", model().display());
    fs::write(dir.path().join("pipeline.yaml"), pipeline(&onnx)).unwrap();
    let query = |mode: &str| {
        engine()
            .arg("query")
            .arg(dir.path().join("pipeline.yaml"))
            .args(["--index", "index", "--mode", mode, "mutex"])
            .output()
            .unwrap()
    };
    let vector = query("vector");
    assert_eq!(vector.status.code(), Some(2), "{}", stderr(&vector));
    assert!(
        stderr(&vector).contains("holds vectors of hash:v2:dim=384"),
        "{}",
        stderr(&vector)
    );
    assert_eq!(query("bm25").status.code(), Some(0));
    let output = engine()
        .arg("run")
        .arg(dir.path().join("pipeline.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(query("vector").status.code(), Some(0), "after the run");
}

#[test]
fn http_batches_take_texts_from_several_documents() {
    let (base_url, endpoint) = server();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    let documents = 40;
    for i in 0..documents {
        fs::write(
            dir.path().join(format!("docs/{i:02}.txt")),
            format!("Note {i} is about topic {i}.\n"),
        )
        .unwrap();
    }
    let yaml = format!(
        "version: 1\nname: http\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, batch_size: 8, concurrency: 1, backoff: 0.01, parallelism: 1 }}\n  out: {{ op: sink.jsonl, input: embed, path: out.jsonl }}\n",
    );
    let file = dir.path().join("pipeline.yaml");
    fs::write(&file, yaml).unwrap();
    let output = engine().args(["run"]).arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let vectors = lines(&dir.path().join("out.jsonl"));
    assert_eq!(vectors.len(), documents);
    let calls = endpoint.calls.lock().unwrap().clone();
    assert_eq!(calls.iter().map(Vec::len).sum::<usize>(), documents);
    assert!(calls.iter().all(|call| call.len() <= 8), "{calls:?}");
    // One document has one text: a request with several texts mixes documents.
    assert!(
        calls.len() < documents && calls.iter().any(|call| call.len() > 1),
        "one request per document: {calls:?}"
    );
}

/// A text embedded once is not sent again in a later run: a renamed document's chunks come
/// from the store's embedding cache. `gc` keeps the vectors of what the pipeline reaches and
/// drops the others.
#[test]
fn a_renamed_document_is_not_embedded_again() {
    let (base_url, endpoint) = server();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Renamed\n\nA paragraph about renaming files.\n",
    )
    .unwrap();
    let yaml = format!(
        "version: 1\nname: http\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 30, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, backoff: 0.01 }}\n  out: {{ op: sink.jsonl, input: embed, path: out.jsonl }}\n",
    );
    let file = dir.path().join("pipeline.yaml");
    fs::write(&file, yaml).unwrap();
    let run = || {
        let output = engine().args(["run"]).arg(&file).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        endpoint.texts.lock().unwrap().len()
    };
    let first = run();
    assert!(first >= 2, "{first}");
    fs::rename(dir.path().join("docs/a.md"), dir.path().join("docs/b.md")).unwrap();
    assert_eq!(run(), first, "no text was sent again");
    assert_eq!(lines(&dir.path().join("out.jsonl"))[0]["doc_id"], "b.md");
    let gc = || vectors_removed_by_gc(&file);
    assert_eq!(gc(), 0, "every vector is held by a live checkpoint");
    fs::rename(dir.path().join("docs/b.md"), dir.path().join("docs/c.md")).unwrap();
    assert_eq!(run(), first, "after gc, the live texts are still cached");
    let original = fs::read_to_string(dir.path().join("docs/c.md")).unwrap();
    fs::write(
        dir.path().join("docs/c.md"),
        "# Edited\n\nAnother paragraph entirely, on new things.\n",
    )
    .unwrap();
    let edited = run();
    assert!(edited > first, "{edited}");
    assert_eq!(gc(), first as u64, "the old texts' vectors go");
    fs::write(dir.path().join("docs/c.md"), original).unwrap();
    assert_eq!(
        run(),
        edited + first,
        "after gc, the texts no checkpoint held are embedded again"
    );
}

/// A model that embeds each text alone (`batch_size: 1`) keeps its vectors apart from batched
/// ones; `gc` keeps those its checkpoints hold all the same, and drops them with the last
/// checkpoint that holds them.
#[test]
fn gc_keeps_the_vectors_of_texts_embedded_alone() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Alone\n\nA paragraph embedded on its own.\n",
    )
    .unwrap();
    let yaml = format!(
        "version: 1\nname: alone\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: onnx, model: {}, batch_size: 1 }}\n  out: {{ op: sink.jsonl, input: embed, path: out.jsonl }}\n",
        model().display()
    );
    let file = dir.path().join("pipeline.yaml");
    fs::write(&file, yaml).unwrap();
    let gc = || vectors_removed_by_gc(&file);
    run_summary(&file);
    assert_eq!(gc(), 0, "every vector is held by a live checkpoint");
    fs::write(dir.path().join("docs/a.md"), "# Edited\n\nAnother text.\n").unwrap();
    run_summary(&file);
    assert!(gc() > 0, "the old text's vectors go");
}

/// An index built by an engine whose vectors' identity hashed the query prefix says so to a
/// vector query, and one run switches it to the new identity without sending a text again.
#[test]
fn an_index_of_the_older_identity_is_switched_by_one_run() {
    let (base_url, endpoint) = server();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Wings\n\nA paragraph on wings.\n",
    )
    .unwrap();
    let yaml = format!(
        "version: 1\nname: older\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 30, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, backoff: 0.01, query_prefix: \"find: \" }}\n  index: {{ op: index.hybrid, input: embed }}\n",
    );
    let file = dir.path().join("pipeline.yaml");
    fs::write(&file, yaml).unwrap();
    let run = || run_summary(&file);
    run();
    // The identity the older engine recorded: the query prefix hashed in.
    let hashed = format!("{base_url}/embeddings\0find: \0\0true\0None");
    let older = format!(
        "http:test:{}",
        &blake3::hash(hashed.as_bytes()).to_hex()[..16]
    );
    let index = dir.path().join(".engine/indexes/older/index");
    let current = fs::read_to_string(index.join("CURRENT")).unwrap();
    let docs = index.join(current.trim()).join("docs.json");
    let mut manifest: Value = serde_json::from_slice(&fs::read(&docs).unwrap()).unwrap();
    manifest["model"] = Value::from(older);
    fs::write(&docs, manifest.to_string()).unwrap();
    let query = || {
        engine()
            .arg("query")
            .arg(&file)
            .args(["--index", "index", "--mode", "vector", "wings"])
            .output()
            .unwrap()
    };
    let refused = query();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("built by an earlier version of the engine"),
        "{}",
        stderr(&refused)
    );
    let sent = endpoint.texts.lock().unwrap().len();
    let switched = run();
    assert_eq!(
        switched["steps"]["index"]["outcome"]["indexed_afresh"],
        true
    );
    assert_eq!(
        endpoint.texts.lock().unwrap().len(),
        sent,
        "nothing embedded again"
    );
    let answered = query();
    assert_eq!(answered.status.code(), Some(0), "{}", stderr(&answered));
}

/// Tuning how the endpoint is called (retries, timeout, concurrency, batch size) or the query
/// prefix redoes nothing: every document's embeddings come from the step's checkpoints, the
/// index keeps every document, a query does not say the pipeline changed since the index was
/// built, and a vector query is embedded with the new prefix.
#[test]
fn tuning_the_endpoint_redoes_nothing() {
    let (base_url, endpoint) = server();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    for i in 0..4 {
        let text = format!("# Doc {i}\n\nA paragraph about tuning, number {i}.\n");
        fs::write(dir.path().join(format!("docs/{i}.md")), text).unwrap();
    }
    let file = dir.path().join("pipeline.yaml");
    let write = |tuning: &str| {
        let yaml = format!(
            "version: 1\nname: http\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 30, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, backoff: 0.01{tuning} }}\n  index: {{ op: index.hybrid, input: embed }}\n",
        );
        fs::write(&file, yaml).unwrap();
    };
    let run = || run_summary(&file);
    write("");
    let first = run();
    assert_eq!(first["steps"]["embed"]["cached"], 0, "{first}");
    write(", retries: 9, timeout: 30, concurrency: 2, batch_size: 3, query_prefix: \"find: \"");
    let tuned = run();
    assert_eq!(tuned["fingerprints"], first["fingerprints"], "{tuned}");
    assert_eq!(tuned["steps"]["embed"]["cached"], 4, "{tuned}");
    let index = &tuned["steps"]["index"]["outcome"];
    assert_eq!(index["documents_unchanged"], 4, "{tuned}");
    assert_eq!(index["documents_indexed"], 0, "{tuned}");
    let sent = endpoint.texts.lock().unwrap().len();
    let query = engine()
        .arg("query")
        .arg(&file)
        .args(["--index", "index", "--mode", "bm25", "tuning"])
        .output()
        .unwrap();
    assert_eq!(query.status.code(), Some(0), "{}", stderr(&query));
    assert!(
        !stderr(&query).contains("changed since"),
        "{}",
        stderr(&query)
    );
    assert_eq!(endpoint.texts.lock().unwrap().len(), sent);
    let query = engine()
        .arg("query")
        .arg(&file)
        .args(["--index", "index", "--mode", "vector", "tuning"])
        .output()
        .unwrap();
    assert_eq!(query.status.code(), Some(0), "{}", stderr(&query));
    let texts = endpoint.texts.lock().unwrap().clone();
    assert_eq!(texts[sent..], ["find: tuning"]);
    write(", document_prefix: \"passage: \"");
    let prefixed = run();
    assert_eq!(prefixed["steps"]["embed"]["cached"], 0, "{prefixed}");
}

#[test]
fn semantic_chunking_compares_sentences_with_the_model_it_feeds() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "Cats are small carnivorous mammals. They purr and hunt mice. Cats sleep a lot during the day.\n\nThe stock market fell sharply today. Investors sold shares of banks. Bond yields rose as well.\n",
    )
    .unwrap();
    // No `embedding` and no `tokenizer`: both come from the embed step.
    let yaml = format!(
        "version: 1\nname: sem\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.semantic, input: parse, size: 200, unit: tokens }}\n  embed: {{ op: embed, input: chunk, provider: onnx, model: {model} }}\n  out: {{ op: sink.jsonl, input: embed, path: out.jsonl }}\n",
        model = model().display(),
    );
    let output = engine_on(dir.path(), &["run"], &yaml);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let inspect = engine()
        .current_dir(dir.path())
        .args([
            "inspect",
            "latest",
            "--pipeline",
            "pipeline.yaml",
            "--step",
            "chunk",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(inspect.status.code(), Some(0), "{}", stderr(&inspect));
    let report: Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let debug = &report["documents"][0]["debug"]["debug"];
    assert_eq!(debug["strategy"], "semantic");
    let embedder = debug["embedder"].as_str().unwrap();
    assert!(embedder.starts_with("onnx:bge-small"), "{embedder}");
    // The topic changes between the two paragraphs: that is where the split falls.
    let chunks = lines(&dir.path().join("out.jsonl"));
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    let second = chunks[1]["text"].as_str().unwrap();
    assert!(second.starts_with("The stock market"), "{second}");
}

/// `chunk.semantic` keeps its sentence vectors in the store: chunking again with another
/// breakpoint sends no sentence to the provider again, and gives what a fresh store gives.
#[test]
fn semantic_chunking_embeds_a_documents_sentences_once() {
    let (base_url, endpoint) = server();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "Cats are small mammals. They purr and hunt mice. Cats sleep a lot.\n\nThe stock market fell today. Investors sold shares of banks. Bond yields rose as well.\n",
    )
    .unwrap();
    let pipeline = |store: &str, percentile: u32| {
        format!(
            "version: 1\nname: sem\nstore: {store}\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.semantic, input: parse, size: 300, unit: chars, breakpoint_percentile: {percentile}, embedding: {{ provider: http, base_url: \"{base_url}\", model: test, backoff: 0.01 }} }}\n  out: {{ op: sink.jsonl, input: chunk, path: {store}.jsonl }}\n"
        )
    };
    let run = |store: &str, percentile: u32| {
        let output = engine_on(dir.path(), &["run"], &pipeline(store, percentile));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        fs::read(dir.path().join(format!("{store}.jsonl"))).unwrap()
    };
    run("kept", 95);
    let sent = endpoint.texts.lock().unwrap().len();
    assert_eq!(sent, 6, "six sentences, each sent once");
    let again = run("kept", 50);
    assert_eq!(
        endpoint.texts.lock().unwrap().len(),
        sent,
        "no sentence sent again"
    );
    assert_eq!(again, run("fresh", 50), "as a fresh store chunks it");
    // gc keeps the sentence vectors of the chunking it keeps: tuning again embeds nothing.
    let gc = engine_on(dir.path(), &["gc"], &pipeline("kept", 50));
    assert_eq!(gc.status.code(), Some(0), "{}", stderr(&gc));
    run("kept", 30);
    assert_eq!(
        endpoint.texts.lock().unwrap().len(),
        sent * 2,
        "the fresh store's six sentences only"
    );
}

/// A server that answers vectors of another size for a while: the documents it embedded then
/// fail and nothing of theirs is kept (neither vectors nor checkpoints), a vector query says
/// that BM25 works, and once the server answers the right size again the next run asks it
/// again and succeeds.
#[test]
fn a_reply_of_another_size_is_not_kept_and_the_next_run_recovers() {
    let (base_url, endpoint) = server();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Horses\n\nHorses run fast.\n",
    )
    .unwrap();
    let yaml = format!(
        "version: 1\nname: sizes\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, base_url: \"{base_url}\", model: test, backoff: 0.01 }}\n  index: {{ op: index.hybrid, input: embed }}\n",
    );
    let file = dir.path().join("pipeline.yaml");
    fs::write(&file, yaml).unwrap();
    let run = || engine().arg("run").arg(&file).output().unwrap();
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    // A new document and an edited one, embedded while the server answers 4 numbers, not 3.
    fs::write(
        dir.path().join("docs/b.md"),
        "# Zebras\n\nZebras have stripes.\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("docs/a.md"),
        "# Horses\n\nHorses run far.\n",
    )
    .unwrap();
    endpoint.extra_dimensions.store(1, Ordering::SeqCst);
    let wrong = run();
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&wrong.stdout),
        stderr(&wrong)
    );
    assert!(
        said.contains("4-dimensional vectors where it answered 3-dimensional"),
        "{said}"
    );
    let query = engine()
        .arg("query")
        .arg(&file)
        .args(["--index", "index", "--mode", "vector", "zebras"])
        .output()
        .unwrap();
    assert_ne!(query.status.code(), Some(0));
    let message = stderr(&query);
    assert!(
        message.contains("holds 3") && message.contains("query --mode bm25"),
        "{message}"
    );
    // Fixed: the texts are asked again, and every document is indexed.
    endpoint.extra_dimensions.store(0, Ordering::SeqCst);
    let sent = endpoint.texts.lock().unwrap().len();
    let fixed = run();
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert!(endpoint.texts.lock().unwrap().len() > sent, "asked again");
    let query = engine()
        .arg("query")
        .arg(&file)
        .args(["--index", "index", "--mode", "vector", "--json", "zebras"])
        .output()
        .unwrap();
    assert_eq!(query.status.code(), Some(0), "{}", stderr(&query));
    assert!(String::from_utf8_lossy(&query.stdout).contains("b.md"));
}

/// `validate` refuses a `base_url` no request can go to, at its key, and an empty `model`.
#[test]
fn validate_refuses_a_base_url_no_request_can_reach() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    let pipeline = |embed: &str| {
        format!(
            "version: 1\nname: urls\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: 200, unit: chars }}\n  embed: {{ op: embed, input: chunk, provider: http, {embed} }}\n"
        )
    };
    for (embed, needle) in [
        ("base_url: \"http://127.0.0.1:99999/v1\", model: m", "99999"),
        (
            "base_url: \"http://127.0.0.1:8080/v1 \", model: m",
            "a space at its end",
        ),
        (
            "base_url: \"http://h/v1?api-version=1\", model: m",
            "query string",
        ),
        ("base_url: \"http://h/v1\", model: \"\"", "model"),
    ] {
        let output = engine_on(dir.path(), &["validate"], &pipeline(embed));
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{embed}: {text}");
        assert!(
            text.contains("pipeline.yaml:7:") && text.contains(needle),
            "{embed}: {text}"
        );
    }
    let upper = engine_on(
        dir.path(),
        &["validate"],
        &pipeline("base_url: \"HTTP://127.0.0.1:8080/v1\", model: m"),
    );
    assert_eq!(upper.status.code(), Some(0), "{}", stderr(&upper));
}
