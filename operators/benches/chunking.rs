//! Chunking speed, side by side with the `text-splitter` crate on the same text and sizer.
//!
//! The text: every Markdown/text file of `sample-corpus/` and `../shared/corpus/md/`, parsed
//! once (outside the measurement); each document's `markdown` is what both chunkers get.
//! Settings: recursive, 2,000 chars; recursive, 512 tokens of all-MiniLM-L6-v2 (the committed
//! tokenizer.json); no overlap. The texts are also written to
//! `$CARGO_TARGET_DIR/criterion/chunk-texts.json` so that `bench/chunk_compare.py` runs the
//! Python chunkers on exactly the same strings and reports the ratios.
//!
//! `just bench-chunk` runs both.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use operators::chunk::sizer::load_tokenizer;
use operators::chunk::{Chunker, Settings, Strategy, Unit};
use operators::model::{Document, ParsedDocument};
use operators::parse::{ParseConfig, parse};
use text_splitter::{ChunkConfig, TextSplitter};

// The allocator the engine binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn documents() -> Vec<ParsedDocument> {
    let mut files = Vec::new();
    // shared/corpus lies beside the clone (or beside a worktree's parent folder).
    let shared = manifest()
        .ancestors()
        .map(|dir| dir.join("shared/corpus/md"))
        .find(|dir| dir.is_dir())
        .unwrap_or_default();
    for dir in [manifest().join("../sample-corpus"), shared] {
        for entry in walkdir::WalkDir::new(&dir)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            let path = entry.path().to_owned();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if (name.ends_with(".md") || name.ends_with(".txt"))
                && name != "SOURCES.md"
                && !name.contains(".ref.")
            {
                files.push(path);
            }
        }
    }
    files
        .into_iter()
        .filter_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            let name = path.display().to_string();
            parse(
                &Document::new(name.clone(), name, bytes),
                &ParseConfig::default(),
            )
            .ok()
        })
        .collect()
}

fn write_texts(docs: &[ParsedDocument]) {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest().join("../target"));
    let dir = target.join("criterion");
    let _ = std::fs::create_dir_all(&dir);
    let texts: Vec<&str> = docs.iter().map(|d| d.markdown.as_str()).collect();
    let json = serde_json::to_string(&texts).expect("texts serialize");
    if std::fs::write(dir.join("chunk-texts.json"), json).is_ok() {
        eprintln!(
            "bench texts: {} documents, {} bytes -> {}",
            docs.len(),
            texts.iter().map(|t| t.len()).sum::<usize>(),
            dir.join("chunk-texts.json").display()
        );
    }
}

fn bench(c: &mut Criterion) {
    let docs = documents();
    assert!(!docs.is_empty(), "no bench documents");
    write_texts(&docs);
    let bytes: usize = docs.iter().map(|d| d.markdown.len()).sum();
    let tokenizer_path = manifest().join("tests/data/all-MiniLM-L6-v2.tokenizer.json");
    let tokenizer = Arc::new(load_tokenizer(Path::new(&tokenizer_path)).expect("tokenizer"));

    let mut group = c.benchmark_group("chunk");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));

    let chars =
        Chunker::new(Strategy::Recursive, Settings::chars(2000), None, "bench").expect("chunker");
    group.bench_function("engine/chars-2000", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| chars.chunk(d).expect("chunks").chunks.len())
                .sum::<usize>()
        })
    });
    let splitter = TextSplitter::new(ChunkConfig::new(2000));
    group.bench_function("text-splitter/chars-2000", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| splitter.chunks(&d.markdown).count())
                .sum::<usize>()
        })
    });

    let tokens = Chunker::new(
        Strategy::Recursive,
        Settings {
            unit: Unit::Tokens,
            ..Settings::chars(512)
        },
        Some(tokenizer.clone()),
        "bench",
    )
    .expect("chunker");
    group.bench_function("engine/tokens-512", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| tokens.chunk(d).expect("chunks").chunks.len())
                .sum::<usize>()
        })
    });
    let splitter = TextSplitter::new(ChunkConfig::new(512).with_sizer(tokenizer.as_ref()));
    group.bench_function("text-splitter/tokens-512", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| splitter.chunks(&d.markdown).count())
                .sum::<usize>()
        })
    });
    group.finish();

    let count = |f: &dyn Fn(&ParsedDocument) -> usize| docs.iter().map(f).sum::<usize>();
    eprintln!(
        "chunks: engine chars {} / text-splitter chars {} / engine tokens {} / text-splitter tokens {}",
        count(&|d| chars.chunk(d).map_or(0, |s| s.chunks.len())),
        count(&|d| TextSplitter::new(ChunkConfig::new(2000))
            .chunks(&d.markdown)
            .count()),
        count(&|d| tokens.chunk(d).map_or(0, |s| s.chunks.len())),
        count(&|d| splitter.chunks(&d.markdown).count()),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
