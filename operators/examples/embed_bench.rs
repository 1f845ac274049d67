//! Embeds the texts of a JSONL file (`{"text": …}` per line) with the `onnx` provider and prints
//! chunks per second as JSON. Used by `just bench-embed` (bench/embed_bench.py), which runs
//! onnxruntime-python on the same texts, model, threads and batch size.
//!
//! ```sh
//! cargo run --release -p operators --example embed_bench -- TEXTS.jsonl MODEL_DIR THREADS BATCH [RUNS]
//! ```

use std::path::Path;
use std::time::Instant;

use operators::embed::{Embedder, OnnxConfig, OnnxEmbedder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    operators::embed::onnx::disable_telemetry();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [texts, model, threads, batch, rest @ ..] = args.as_slice() else {
        return Err("usage: embed_bench TEXTS.jsonl MODEL_DIR THREADS BATCH [RUNS]".into());
    };
    let runs: usize = rest.first().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let texts: Vec<String> = std::fs::read_to_string(texts)?
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .map(|v| v["text"].as_str().unwrap_or_default().to_owned())
        })
        .collect::<Result<_, _>>()?;
    let mut config = OnnxConfig::new(model.clone());
    config.threads = threads.parse()?;
    config.batch_size = batch.parse()?;
    let loading = Instant::now();
    let embedder = OnnxEmbedder::new(&config, Path::new("."))?;
    let load_seconds = loading.elapsed().as_secs_f64();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // One warm-up call (onnxruntime allocates and tunes on its first runs).
    embedder.embed_documents(&refs[..refs.len().min(64)])?;
    let mut best = f64::INFINITY;
    let mut truncated = 0;
    let mut tokens = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let out = embedder.embed_documents_debug(&refs)?;
        best = best.min(started.elapsed().as_secs_f64());
        truncated = out.batches.iter().map(|b| b.truncated).sum::<usize>();
        tokens = out.batches.iter().filter_map(|b| b.tokens).sum::<usize>();
        assert_eq!(out.vectors.len(), refs.len());
    }
    println!(
        "{}",
        serde_json::json!({
            "impl": "engine (ort, Rust)",
            "chunks": refs.len(),
            "tokens": tokens,
            "truncated": truncated,
            "seconds": best,
            "chunks_per_s": refs.len() as f64 / best,
            "load_seconds": load_seconds,
        })
    );
    Ok(())
}
