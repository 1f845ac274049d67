//! Speed of the hybrid index (`just bench-index`, release, not in CI): build throughput of the
//! BM25 part (Tantivy) and of the HNSW part separately and of the whole `index.hybrid` update,
//! query latency p50/p99 per mode, and HNSW recall@10 against exact search, over 10k and 100k
//! chunks. Everything goes through the engine's own index code: `TextIndex`/`TextWriter` and
//! `VectorIndex` (what `IndexUpdate` calls), `IndexUpdate` itself, and `HybridIndex::search`
//! (what `engine query` calls).
//!
//! Texts: the Cranfield and Medline abstracts and the `ok` documents of `../shared/corpus`
//! (parsed by the engine's parser), cut by the engine's recursive chunker into chunks of at most
//! 300 characters. A size larger than that real pool is filled with synthetic chunks, each made
//! of whole real sentences drawn at random (fixed seed) from the pool and cut to the length of a
//! randomly drawn real chunk; the output says how many of each. Vectors: the built-in `hash`
//! embedder, 384 dimensions (bge-small's width); with `--bge N`, recall is also measured on
//! bge-small vectors of N chunks (the real ones, then synthetic ones as for the sizes).
//!
//! It writes the texts and queries it used and `results.json` into `--out` (default
//! `$CARGO_TARGET_DIR/index-bench`), where `bench/bm25_qps.py` indexes the same texts with bm25s.
//!
//! ```sh
//! cargo run --release -p operators --example index_bench -- [--sizes 10000,100000] [--bge 3000]
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use operators::chunk::{Chunker, Settings, Strategy};
use operators::embed::Embedder;
use operators::embed::hash::HashEmbedder;
use operators::index::text::TextIndex;
use operators::index::vectors::VectorIndex;
use operators::index::{Entry, Fusion, HybridIndex, IndexConfig, IndexUpdate, Mode, StoredHit};
use operators::model::{Document, Format};
use operators::parse::{ParseConfig, parse};
use serde_json::{Value, json};

// The allocator the engine binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Largest chunk of the real pool, in characters.
const CHUNK_CHARS: usize = 300;
/// Dimensions of the hash vectors (bge-small's).
const DIMENSIONS: usize = 384;
/// Held-out real chunks used as recall queries (never indexed).
const HELD_OUT: usize = 1000;
/// Chunks per synthetic document.
const SYNTHETIC_PER_DOC: usize = 4;
/// Hits per query, as `engine query`'s default.
const K: usize = 10;
/// The query prefix of bge-small for retrieval, as in the eval pipelines.
const BGE_QUERY_PREFIX: &str = "Represent this sentence for searching relevant passages: ";

struct Options {
    sizes: Vec<usize>,
    /// The index settings (defaults, or `--m`, `--ef-construction`, `--ef-search`).
    config: IndexConfig,
    out: PathBuf,
    rounds: usize,
    bge: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: index_bench [--sizes 10000,100000] [--rounds 3] [--bge N] [--out DIR]\n\
         [--m N] [--ef-construction N] [--ef-search N] (HNSW settings; default: the engine's)\n\
         (the texts come from ../shared/eval/ir and ../shared/corpus beside the repository)"
    );
    std::process::exit(2);
}

fn options() -> Options {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let mut options = Options {
        sizes: vec![10_000, 100_000],
        config: IndexConfig::default(),
        out: target.join("index-bench"),
        rounds: 3,
        bge: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--sizes" => {
                options.sizes = value
                    .split(',')
                    .map(|s| s.trim().parse().unwrap_or_else(|_| usage()))
                    .collect();
            }
            "--m" => options.config.m = value.parse().unwrap_or_else(|_| usage()),
            "--ef-construction" => {
                options.config.ef_construction = value.parse().unwrap_or_else(|_| usage())
            }
            "--ef-search" => options.config.ef_search = value.parse().unwrap_or_else(|_| usage()),
            "--rounds" => options.rounds = value.parse().unwrap_or_else(|_| usage()),
            "--bge" => options.bge = value.parse().unwrap_or_else(|_| usage()),
            "--out" => options.out = PathBuf::from(value),
            _ => usage(),
        }
    }
    options
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the operators crate is in the workspace")
        .to_owned()
}

fn shared() -> PathBuf {
    repo().join("../shared")
}

/// One chunk to index, before it has a vector.
#[derive(Debug, Clone)]
struct Passage {
    hit: StoredHit,
    collection: &'static str,
}

fn main() {
    operators::embed::onnx::disable_telemetry();
    let options = options();
    std::fs::create_dir_all(&options.out).unwrap_or_else(|err| fail(&options.out, err));
    let started = Instant::now();
    let (mut real, sources) = real_passages();
    // A fixed shuffle mixes the collections; the last HELD_OUT are the recall queries.
    let mut rng = Rng::new(7);
    rng.shuffle(&mut real);
    if real.len() <= HELD_OUT {
        eprintln!("error: only {} real chunks", real.len());
        std::process::exit(1);
    }
    let held_out = real.split_off(real.len() - HELD_OUT);
    let sentences: Vec<&str> = real
        .iter()
        .flat_map(|p| split_sentences(&p.hit.text))
        .collect();
    let lengths: Vec<usize> = real.iter().map(|p| p.hit.text.len()).collect();
    let queries = real_queries();
    eprintln!(
        "{} real chunks ({sources}), {} held out as recall queries, {} sentences, {} queries; {:.1}s",
        real.len() + held_out.len(),
        held_out.len(),
        sentences.len(),
        queries.len(),
        started.elapsed().as_secs_f64()
    );
    write_jsonl(
        &options.out.join("queries.jsonl"),
        queries
            .iter()
            .map(|(id, text)| json!({ "_id": id, "text": text })),
    );
    let embedder = HashEmbedder::new(DIMENSIONS);
    let query_vectors: Vec<Vec<f32>> = queries.iter().map(|(_, q)| embedder.embed(q)).collect();
    let held_out_vectors: Vec<Vec<f32>> = held_out
        .iter()
        .map(|p| embedder.embed(&p.hit.text))
        .collect();

    let mut results = Vec::new();
    for &size in &options.sizes {
        let real_used = size.min(real.len());
        let mut passages = passages_of_size(&real, &sentences, &lengths, size);
        // The sink receives a document's chunks together: group them (stable, by doc_id).
        passages.sort_by(|a, b| a.hit.doc_id.cmp(&b.hit.doc_id));
        let result = bench_size(
            &options,
            &passages,
            real_used,
            &queries,
            &query_vectors,
            &held_out_vectors,
        );
        print_size(&result);
        results.push(result);
    }
    let bge = (options.bge > 0).then(|| {
        let passages = passages_of_size(&real, &sentences, &lengths, options.bge);
        bge_recall(&passages, &held_out, &queries, &options)
    });
    let report = json!({
        "texts": {
            "real_chunks": real.len() + held_out.len(),
            "held_out": held_out.len(),
            "sources": sources,
            "chunking": format!("engine chunk.recursive, at most {CHUNK_CHARS} chars, no overlap"),
            "synthetic": "whole real sentences drawn at random (seeded) from the real chunks, cut to the length of a randomly drawn real chunk",
            "vectors": format!("built-in hash embedder, {DIMENSIONS} dimensions"),
        },
        "queries": queries.len(),
        "rounds": options.rounds,
        "k": K,
        "config": serde_json::to_value(&options.config).unwrap_or_default(),
        "sizes": results,
        "bge": bge,
    });
    let path = options.out.join("results.json");
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&report).unwrap_or_default(),
    )
    .unwrap_or_else(|err| fail(&path, err));
    eprintln!(
        "wrote {} ({:.0}s in all)",
        path.display(),
        started.elapsed().as_secs_f64()
    );
}

fn fail(path: &Path, err: impl std::fmt::Display) -> ! {
    eprintln!("error: {}: {err}", path.display());
    std::process::exit(1);
}

/// Builds and queries one size; returns its figures.
fn bench_size(
    options: &Options,
    passages: &[Passage],
    real: usize,
    queries: &[(String, String)],
    query_vectors: &[Vec<f32>],
    held_out_vectors: &[Vec<f32>],
) -> Value {
    let size = passages.len();
    let config = options.config.clone();
    let dir = options.out.join(format!("index-{size}"));
    let _ = std::fs::remove_dir_all(&dir);
    write_jsonl(
        &options.out.join(format!("texts-{size}.jsonl")),
        passages.iter().map(|p| {
            json!({ "_id": p.hit.chunk_id, "title": p.hit.title.as_deref().unwrap_or(""), "text": p.hit.text })
        }),
    );
    let embedder = HashEmbedder::new(DIMENSIONS);
    let embed_started = Instant::now();
    let entries: Vec<Entry> = passages
        .iter()
        .map(|p| {
            let mut metadata = serde_json::Map::new();
            metadata.insert("collection".into(), p.collection.into());
            Entry {
                hit: p.hit.clone(),
                metadata,
                pages: None,
                sections: Vec::new(),
                vector: embedder.embed(&p.hit.text),
            }
        })
        .collect();
    let embed_seconds = embed_started.elapsed().as_secs_f64();

    // BM25 alone: what IndexUpdate does for the text half (add every chunk, commit).
    let started = Instant::now();
    let text = TextIndex::open(&dir.join("bm25-only"), &config).unwrap_or_else(|e| fail(&dir, e));
    let mut writer = text.writer().unwrap_or_else(|e| fail(&dir, e));
    for (point, entry) in entries.iter().enumerate() {
        // Chunks are grouped by document: a document's first is its lead, as upserts make it.
        let lead = point == 0 || entries[point - 1].hit.doc_id != entry.hit.doc_id;
        writer
            .add(entry, point as u64, lead)
            .unwrap_or_else(|e| fail(&dir, e));
    }
    writer.commit().unwrap_or_else(|e| fail(&dir, e));
    let bm25_seconds = started.elapsed().as_secs_f64();
    drop(text);

    // HNSW alone: what IndexUpdate does for the vector half (insert every vector, save).
    let started = Instant::now();
    let mut vectors = VectorIndex::new(DIMENSIONS, &config);
    for entry in &entries {
        vectors
            .insert(&entry.vector)
            .unwrap_or_else(|e| fail(&dir, e));
    }
    let hnsw_dir = dir.join("hnsw-only");
    std::fs::create_dir_all(&hnsw_dir).unwrap_or_else(|e| fail(&hnsw_dir, e));
    vectors.save(&hnsw_dir).unwrap_or_else(|e| fail(&dir, e));
    let hnsw_seconds = started.elapsed().as_secs_f64();
    drop(vectors);
    let _ = std::fs::remove_dir_all(dir.join("bm25-only"));
    let _ = std::fs::remove_dir_all(&hnsw_dir);

    // The whole index.hybrid update, document by document, as the pipeline's sink runs it.
    let hybrid_dir = dir.join("hybrid");
    let started = Instant::now();
    let mut update = IndexUpdate::begin(&hybrid_dir, &config, Some("hash-384"))
        .unwrap_or_else(|e| fail(&dir, e));
    let mut start = 0;
    while start < entries.len() {
        let doc_id = &entries[start].hit.doc_id;
        let end = start
            + entries[start..]
                .iter()
                .take_while(|e| &e.hit.doc_id == doc_id)
                .count();
        update
            .upsert(doc_id, doc_id, &entries[start..end])
            .unwrap_or_else(|e| fail(&dir, e));
        start = end;
    }
    let (stats, switch) = update.finish().unwrap_or_else(|e| fail(&dir, e));
    switch.publish().unwrap_or_else(|e| fail(&dir, e));
    let hybrid_seconds = started.elapsed().as_secs_f64();
    drop(entries);

    let index = HybridIndex::open(&hybrid_dir).unwrap_or_else(|e| fail(&dir, e));
    assert_eq!(index.chunks(), size as u64, "every chunk is indexed once");
    let mut latency = serde_json::Map::new();
    for mode in [Mode::Bm25, Mode::Vector, Mode::Hybrid] {
        let samples = time_queries(&index, queries, query_vectors, mode, options.rounds);
        latency.insert(
            mode_name(mode).into(),
            latency_figures(&samples, queries.len()),
        );
    }
    let vectors = index
        .vectors()
        .ok()
        .flatten()
        .expect("the index holds vectors");
    let ef = index.config().ef_search;
    let sweep = measure_recall(vectors, held_out_vectors, &[K, 32, ef, 256, 512]);
    let recall_held_out = sweep[2];
    let recall_queries = measure_recall(vectors, query_vectors, &[ef])[0];
    json!({
        "chunks": size,
        "real": real,
        "synthetic": size - real,
        "documents": stats.documents_indexed,
        "hash_embed_chunks_per_s": size as f64 / embed_seconds,
        "build": {
            "bm25_chunks_per_s": size as f64 / bm25_seconds,
            "hnsw_chunks_per_s": size as f64 / hnsw_seconds,
            "hybrid_chunks_per_s": size as f64 / hybrid_seconds,
            "bm25_seconds": bm25_seconds,
            "hnsw_seconds": hnsw_seconds,
            "hybrid_seconds": hybrid_seconds,
        },
        "latency": latency,
        "recall_at_10": {
            "ef_search": ef,
            "held_out_chunks": recall_held_out,
            "queries": recall_queries,
            "held_out_at_ef_10": sweep[0],
            "held_out_at_ef_32": sweep[1],
            "held_out_at_ef_256": sweep[3],
            "held_out_at_ef_512": sweep[4],
        },
    })
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Bm25 => "bm25",
        Mode::Vector => "vector",
        Mode::Hybrid => "hybrid",
    }
}

/// Per-query latencies of `rounds` passes over the queries (after one untimed pass), one thread.
fn time_queries(
    index: &HybridIndex,
    queries: &[(String, String)],
    vectors: &[Vec<f32>],
    mode: Mode,
    rounds: usize,
) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(queries.len() * rounds);
    for round in 0..=rounds {
        for ((_, text), vector) in queries.iter().zip(vectors) {
            let started = Instant::now();
            let hits = index
                .search(text, Some(vector), mode, K, &[], Fusion::default())
                .unwrap_or_else(|e| fail(Path::new("query"), e));
            let elapsed = started.elapsed();
            std::hint::black_box(hits);
            if round > 0 {
                samples.push(elapsed);
            }
        }
    }
    samples
}

/// Percentiles of the latencies of passes of `per_pass` queries, and queries per second of the
/// fastest pass (the other programs on the machine slow some passes down, never speed one up).
fn latency_figures(samples: &[Duration], per_pass: usize) -> Value {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    let best_pass = ms
        .chunks(per_pass.max(1))
        .map(|pass| pass.iter().sum::<f64>())
        .fold(f64::INFINITY, f64::min);
    ms.sort_by(f64::total_cmp);
    let total: f64 = ms.iter().sum();
    json!({
        "p50_ms": percentile(&ms, 50.0),
        "p99_ms": percentile(&ms, 99.0),
        "mean_ms": total / ms.len().max(1) as f64,
        "qps": per_pass as f64 / (best_pass / 1e3).max(f64::MIN_POSITIVE),
        "samples": ms.len(),
    })
}

/// Nearest-rank percentile `p` (0..=100) of ascending `sorted` values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p.clamp(0.0, 100.0) / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Mean recall@10 of the graph search against brute force over `queries`, at each of `efs`.
fn measure_recall(vectors: &VectorIndex, queries: &[Vec<f32>], efs: &[usize]) -> Vec<f64> {
    let mut found = vec![0; efs.len()];
    let mut wanted = 0;
    for query in queries {
        let exact = vectors.exact_search(query, K, None);
        for (ef, found) in efs.iter().zip(&mut found) {
            let graph: Vec<usize> = vectors
                .graph_search(query, K, *ef)
                .into_iter()
                .map(|(point, _)| point)
                .collect();
            *found += recall_hits(&graph, &exact, |point| {
                vectors
                    .live_vector(point)
                    .map_or(f32::NEG_INFINITY, |v| cosine(query, v))
            });
        }
        wanted += exact.len();
    }
    found
        .into_iter()
        .map(|found| found as f64 / wanted.max(1) as f64)
        .collect()
}

/// How many of the graph's points are true nearest neighbours: a point of the exact list, or
/// one whose exact `similarity` equals the exact list's last (ties at the cut-off may go either
/// way). The graph's own scores are not trusted: similarities are computed afresh.
fn recall_hits(
    graph: &[usize],
    exact: &[(usize, f32)],
    similarity: impl Fn(usize) -> f32,
) -> usize {
    let Some(&(_, cutoff)) = exact.last() else {
        return 0;
    };
    let exact_ids: HashSet<usize> = exact.iter().map(|(p, _)| *p).collect();
    let mut seen = HashSet::new();
    graph
        .iter()
        .filter(|point| {
            seen.insert(**point)
                && (exact_ids.contains(point) || similarity(**point) >= cutoff - 1e-6)
        })
        .count()
        .min(exact.len())
}

/// Cosine similarity, as `VectorIndex::exact_search` computes it.
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    use operators::index::vectors::norm;
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    dot / (norm(a) * norm(b))
}

/// HNSW recall@10 on real bge-small vectors: `n` real chunks indexed, the held-out chunks and
/// the real queries (with bge's query prefix) as queries.
/// `size` passages: the real ones first, then synthetic ones (seeded by `size`) to fill up.
fn passages_of_size(
    real: &[Passage],
    sentences: &[&str],
    lengths: &[usize],
    size: usize,
) -> Vec<Passage> {
    let real_used = size.min(real.len());
    let mut passages: Vec<Passage> = real[..real_used].to_vec();
    let mut synth_rng = Rng::new(size as u64);
    for i in 0..size - real_used {
        let text = synthesize(sentences, lengths, &mut synth_rng);
        let doc = i / SYNTHETIC_PER_DOC;
        passages.push(Passage {
            hit: StoredHit {
                chunk_id: format!("synthetic/{doc}#{}", i % SYNTHETIC_PER_DOC),
                doc_id: format!("synthetic/{doc}"),
                source: "synthetic".into(),
                title: None,
                section: Vec::new(),
                page: None,
                text,
            },
            collection: "synthetic",
        });
    }
    passages
}

/// Recall of the graph over bge-small vectors of `passages` (real, then synthetic ones).
fn bge_recall(
    passages: &[Passage],
    held_out: &[Passage],
    queries: &[(String, String)],
    options: &Options,
) -> Value {
    let config: operators::embed::EmbedConfig = serde_json::from_value(json!({
        "provider": "onnx",
        "model": "models/bge-small-en-v1.5",
        "pooling": "cls",
        "query_prefix": BGE_QUERY_PREFIX,
    }))
    .expect("a valid onnx config");
    let embedder: Arc<dyn Embedder> = config
        .embedder(&repo())
        .unwrap_or_else(|e| fail(Path::new("models/bge-small-en-v1.5"), e));
    let n = passages.len();
    let query_count = 300.min(held_out.len());
    let started = Instant::now();
    let mut texts: Vec<&str> = passages.iter().map(|p| p.hit.text.as_str()).collect();
    texts.extend(held_out[..query_count].iter().map(|p| p.hit.text.as_str()));
    let mut vectors = Vec::with_capacity(texts.len());
    for batch in texts.chunks(256) {
        vectors.extend(
            embedder
                .embed_documents(batch)
                .unwrap_or_else(|e| fail(Path::new("bge"), e)),
        );
        eprint!("\rbge: {}/{} chunks embedded", vectors.len(), texts.len());
    }
    let query_vectors: Vec<Vec<f32>> = queries
        .iter()
        .map(|(_, q)| {
            embedder
                .embed_query(q)
                .unwrap_or_else(|e| fail(Path::new("bge"), e))
        })
        .collect();
    let embed_seconds = started.elapsed().as_secs_f64();
    eprintln!(" in {embed_seconds:.0}s");
    let config = &options.config;
    let mut index = VectorIndex::new(vectors[0].len(), config);
    for vector in &vectors[..n] {
        index
            .insert(vector)
            .unwrap_or_else(|e| fail(Path::new("bge"), e));
    }
    index.commit().unwrap_or_else(|e| fail(Path::new("bge"), e));
    let sweep = measure_recall(&index, &vectors[n..], &[K, 32, config.ef_search, 256, 512]);
    let held = sweep[2];
    let real_queries = measure_recall(&index, &query_vectors, &[config.ef_search])[0];
    eprintln!(
        "bge-small vectors, {n} chunks: HNSW recall@10 {held:.4} (held-out chunks), {real_queries:.4} (queries)"
    );
    json!({
        "chunks": n,
        "embed_seconds": embed_seconds,
        "recall_at_10": {
            "ef_search": config.ef_search, "held_out_chunks": held, "queries": real_queries,
            "held_out_at_ef_10": sweep[0], "held_out_at_ef_32": sweep[1],
            "held_out_at_ef_256": sweep[3], "held_out_at_ef_512": sweep[4],
        },
        "synthetic": passages.iter().filter(|p| p.collection == "synthetic").count(),
        "held_out_queries": query_count,
    })
}

fn print_size(result: &Value) {
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    eprintln!(
        "{} chunks ({} real, {} synthetic): build BM25 {:.0}/s, HNSW {:.0}/s, hybrid {:.0}/s; recall@10 {:.4} (held-out; ef 10: {:.4}, ef 32: {:.4}) {:.4} (queries)",
        result["chunks"],
        result["real"],
        result["synthetic"],
        f(&result["build"]["bm25_chunks_per_s"]),
        f(&result["build"]["hnsw_chunks_per_s"]),
        f(&result["build"]["hybrid_chunks_per_s"]),
        f(&result["recall_at_10"]["held_out_chunks"]),
        f(&result["recall_at_10"]["held_out_at_ef_10"]),
        f(&result["recall_at_10"]["held_out_at_ef_32"]),
        f(&result["recall_at_10"]["queries"]),
    );
    for mode in ["bm25", "vector", "hybrid"] {
        let l = &result["latency"][mode];
        eprintln!(
            "  {mode:<6} p50 {:.3} ms  p99 {:.3} ms  {:.0} queries/s",
            f(&l["p50_ms"]),
            f(&l["p99_ms"]),
            f(&l["qps"])
        );
    }
}

fn write_jsonl(path: &Path, rows: impl Iterator<Item = Value>) {
    let mut text = String::new();
    for row in rows {
        text.push_str(&row.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).unwrap_or_else(|err| fail(path, err));
}

/// The Cranfield and Medline queries, ids prefixed by their collection.
fn real_queries() -> Vec<(String, String)> {
    let mut queries = Vec::new();
    for collection in ["cranfield", "medline"] {
        let path = shared().join(format!("eval/ir/{collection}/queries.jsonl"));
        let read = operators::eval::read_queries(&path).unwrap_or_else(|e| fail(&path, e.0));
        queries.extend(
            read.into_iter()
                .map(|(id, text)| (format!("{collection}/{id}"), text)),
        );
    }
    queries
}

/// Every real chunk: the abstracts of both collections and the corpus documents, parsed and
/// chunked by the engine; with a description of the sources.
fn real_passages() -> (Vec<Passage>, String) {
    let chunker = Chunker::new(
        Strategy::Recursive,
        Settings::chars(CHUNK_CHARS),
        None,
        "index-bench",
    )
    .expect("a chars chunker needs no tokenizer");
    let mut passages = Vec::new();
    let mut counts = Vec::new();
    for collection in ["cranfield", "medline"] {
        let path = shared().join(format!("eval/ir/{collection}/corpus.jsonl"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| fail(&path, e));
        let before = passages.len();
        let mut docs = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let record: Value = serde_json::from_str(line).unwrap_or_else(|e| fail(&path, e));
            let id = match &record["_id"] {
                Value::String(id) => id.clone(),
                other => other.to_string(),
            };
            let mut doc = Document::new(
                format!("{collection}/{id}"),
                path.display().to_string(),
                record["text"]
                    .as_str()
                    .unwrap_or_default()
                    .as_bytes()
                    .to_vec(),
            );
            doc.format = Some(Format::Text);
            doc.title = record["title"]
                .as_str()
                .filter(|t| !t.trim().is_empty())
                .map(str::to_owned);
            docs += 1;
            add_chunks(&mut passages, &chunker, &doc, collection);
        }
        counts.push(format!(
            "{collection}: {docs} abstracts, {} chunks",
            passages.len() - before
        ));
    }
    let corpus = shared().join("corpus");
    let manifest_path = corpus.join("MANIFEST.tsv");
    let manifest =
        std::fs::read_to_string(&manifest_path).unwrap_or_else(|e| fail(&manifest_path, e));
    let before = passages.len();
    let (mut docs, mut failed) = (0, 0);
    for line in manifest.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.get(2) != Some(&"ok") {
            continue;
        }
        let path = corpus.join(columns[0]);
        let Ok(bytes) = std::fs::read(&path) else {
            failed += 1;
            continue;
        };
        let doc = Document::new(
            format!("corpus/{}", columns[0]),
            path.display().to_string(),
            bytes,
        );
        docs += 1;
        if !add_chunks(&mut passages, &chunker, &doc, "corpus") {
            failed += 1;
        }
    }
    counts.push(format!(
        "corpus: {docs} documents ({failed} failed), {} chunks",
        passages.len() - before
    ));
    (passages, counts.join("; "))
}

/// Parses and chunks one document into `passages`; false when it could not be parsed.
fn add_chunks(
    passages: &mut Vec<Passage>,
    chunker: &Chunker,
    doc: &Document,
    collection: &'static str,
) -> bool {
    let Ok(parsed) = parse(doc, &ParseConfig::default()) else {
        return false;
    };
    let Ok(set) = chunker.chunk(&parsed) else {
        return false;
    };
    passages.extend(
        set.chunks
            .into_iter()
            .filter(|c| !c.text.trim().is_empty())
            .map(|c| Passage {
                hit: StoredHit {
                    chunk_id: c.chunk_id,
                    doc_id: c.doc_id,
                    source: set.source.clone(),
                    title: set.title.clone(),
                    section: c.section,
                    page: c.pages.map(|p| p[0]),
                    text: c.text,
                },
                collection,
            }),
    );
    true
}

/// The sentences of a text: cut after `.`, `?` or `!` followed by white space, and at line
/// breaks; trimmed, empty ones dropped.
fn split_sentences(text: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_some_and(|(_, n)| n.is_whitespace());
        let end = match c {
            '\n' => Some(i),
            '.' | '?' | '!' if next_is_space => Some(i + c.len_utf8()),
            _ => None,
        };
        if let Some(end) = end {
            let sentence = text[start..end].trim();
            if !sentence.is_empty() {
                sentences.push(sentence);
            }
            start = end;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        sentences.push(rest);
    }
    sentences
}

/// A synthetic chunk: whole sentences drawn at random from `sentences` until the text reaches
/// a length drawn from `lengths`, then cut back at the last word boundary within it.
fn synthesize(sentences: &[&str], lengths: &[usize], rng: &mut Rng) -> String {
    let target = lengths[rng.below(lengths.len())].max(1);
    let mut text = String::new();
    while text.len() < target {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(sentences[rng.below(sentences.len())]);
    }
    if text.len() > target {
        let mut cut = target;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let cut = match text[..cut].rfind(char::is_whitespace) {
            Some(space) if space > 0 => space,
            _ => cut,
        };
        text.truncate(cut);
    }
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text
}

/// A small deterministic generator (xorshift64*), so every run uses the same texts.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&[3.0, 7.0], 50.0), Some(3.0));
        assert_eq!(percentile(&[3.0, 7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn recall_counts_exact_neighbours_and_ties_at_the_cutoff() {
        let exact = [(1, 0.9), (2, 0.8), (3, 0.7)];
        let similarity = |point: usize| match point {
            1 => 0.9,
            2 => 0.8,
            3 | 9 => 0.7,
            _ => 0.1,
        };
        assert_eq!(recall_hits(&[1, 2, 3], &exact, similarity), 3);
        assert_eq!(recall_hits(&[1, 2, 8], &exact, similarity), 2);
        assert_eq!(
            recall_hits(&[1, 2, 9], &exact, similarity),
            3,
            "point 9 is as close as point 3: either is a right answer"
        );
        assert_eq!(
            recall_hits(&[1, 1, 1], &exact, similarity),
            1,
            "a point counts once"
        );
        assert_eq!(recall_hits(&[], &exact, similarity), 0);
        assert_eq!(recall_hits(&[1], &[], similarity), 0);
        assert!((cosine(&[1.0, 0.0], &[2.0, 2.0]) - 0.5f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn recall_is_one_when_the_graph_finds_the_exact_neighbours() {
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(8, &config);
        let mut rng = Rng::new(3);
        let mut random = || -> Vec<f32> {
            (0..8)
                .map(|_| rng.below(2001) as f32 / 1000.0 - 1.0)
                .collect()
        };
        for _ in 0..200 {
            index.insert(&random()).unwrap();
        }
        index.commit().unwrap();
        let queries: Vec<Vec<f32>> = (0..20).map(|_| random()).collect();
        // 200 points and ef 200: the graph search is exhaustive.
        assert_eq!(measure_recall(&index, &queries, &[200]), [1.0]);
    }

    #[test]
    fn sentences_are_cut_at_ends_and_line_breaks() {
        assert_eq!(
            split_sentences("the flow is laminar . it separates! Why? e.g.x\nnext line"),
            [
                "the flow is laminar .",
                "it separates!",
                "Why?",
                "e.g.x",
                "next line"
            ]
        );
        assert_eq!(split_sentences("  \n "), Vec::<&str>::new());
        assert_eq!(split_sentences("no end"), ["no end"]);
    }

    #[test]
    fn synthetic_chunks_are_real_sentences_cut_to_a_real_length() {
        let sentences = [
            "alpha beta gamma.",
            "delta epsilon.",
            "zeta eta theta iota.",
        ];
        let words: HashSet<&str> = sentences
            .iter()
            .flat_map(|s| s.split_whitespace())
            .collect();
        let lengths = [10, 25, 40];
        let mut rng = Rng::new(1);
        let texts: Vec<String> = (0..50)
            .map(|_| synthesize(&sentences, &lengths, &mut rng))
            .collect();
        for text in &texts {
            assert!(!text.is_empty() && text.len() <= 40, "{text:?}");
            assert_eq!(text.trim(), text);
            // every word is a real word, or the cut-off start of the last one
            let mut parts: Vec<&str> = text.split_whitespace().collect();
            let last = parts.pop().unwrap();
            assert!(parts.iter().all(|w| words.contains(w)), "{text:?}");
            assert!(words.iter().any(|w| w.starts_with(last)), "{text:?}");
        }
        let mut again = Rng::new(1);
        let repeat: Vec<String> = (0..50)
            .map(|_| synthesize(&sentences, &lengths, &mut again))
            .collect();
        assert_eq!(texts, repeat, "the same seed gives the same texts");
    }

    #[test]
    fn shuffle_is_a_deterministic_permutation() {
        let mut a: Vec<usize> = (0..100).collect();
        let mut b = a.clone();
        Rng::new(5).shuffle(&mut a);
        Rng::new(5).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
        a.sort_unstable();
        assert_eq!(a, (0..100).collect::<Vec<_>>());
    }
}
