//! Prints the chunking debug record of each file or, with `--chunks`, its chunks (and their
//! `embed_text`).
//!
//! `cargo run -p operators --example chunk_debug -- [--chunks] [--tables inline] STRATEGY SIZE
//! UNIT FILE...`, e.g. `… -- smart 512 tokens sample-corpus/rust-book/*.md`. STRATEGY is
//! recursive, by_heading, by_page, semantic or smart; UNIT chars, words or tokens (the committed
//! all-MiniLM-L6-v2 tokenizer); tables are chunks of their own unless `--tables inline`.

use std::path::Path;
use std::sync::Arc;

use operators::chunk::sizer::load_tokenizer;
use operators::chunk::{Chunker, Settings, Strategy, Tables, Unit};
use operators::embed::hash::HashEmbedder;
use operators::model::Document;
use operators::parse::{ParseConfig, parse};

fn main() -> Result<(), String> {
    operators::embed::onnx::disable_telemetry();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let chunks = take_flag(&mut args, "--chunks");
    let tables = match take_option(&mut args, "--tables")?.as_deref() {
        None | Some("own_chunk" | "own") => Tables::OwnChunk,
        Some("inline") => Tables::Inline,
        Some(other) => return Err(format!("unknown --tables {other}: own_chunk or inline")),
    };
    let [strategy, size, unit, files @ ..] = args.as_slice() else {
        return Err(
            "usage: chunk_debug [--chunks] [--tables inline] STRATEGY SIZE UNIT FILE...".into(),
        );
    };
    let strategy = match strategy.as_str() {
        "recursive" => Strategy::Recursive,
        "by_heading" => Strategy::ByHeading { level: 2 },
        "by_page" => Strategy::ByPage,
        "semantic" => Strategy::Semantic {
            percentile: 95.0,
            embedder: Arc::new(HashEmbedder::new(256)),
        },
        "smart" => Strategy::Smart,
        other => return Err(format!("unknown strategy {other}")),
    };
    let unit = match unit.as_str() {
        "chars" => Unit::Chars,
        "words" => Unit::Words,
        "tokens" => Unit::Tokens,
        other => return Err(format!("unknown unit {other}")),
    };
    let tokenizer = match unit {
        Unit::Tokens => Some(Arc::new(load_tokenizer(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/all-MiniLM-L6-v2.tokenizer.json"),
        )?)),
        _ => None,
    };
    let settings = Settings {
        unit,
        tables,
        ..Settings::chars(size.parse().map_err(|e| format!("size: {e}"))?)
    };
    let chunker =
        Chunker::new(strategy, settings, tokenizer, "example").map_err(|e| e.to_string())?;
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        let doc = Document::new(file.clone(), file.clone(), bytes);
        let parsed = parse(&doc, &ParseConfig::default()).map_err(|e| format!("{file}: {e}"))?;
        let set = chunker.chunk(&parsed).map_err(|e| format!("{file}: {e}"))?;
        if !chunks {
            println!(
                "{}",
                serde_json::json!({ "doc_id": set.doc_id, "debug": set.debug })
            );
            continue;
        }
        for c in &set.chunks {
            println!(
                "--- {file} #{} ({} units) {:?}",
                c.ordinal, c.tokens, c.span
            );
            println!("{}", c.text);
            if let Some(embed) = &c.embed_text {
                println!("    [embed_text] {embed:?}");
            }
        }
    }
    Ok(())
}

/// Whether `flag` is among `args`, taken out of them.
fn take_flag(args: &mut Vec<String>, flag: &str) -> bool {
    let found = args.iter().position(|a| a == flag);
    found.map(|i| args.remove(i)).is_some()
}

/// The value after `option` among `args`, both taken out of them.
fn take_option(args: &mut Vec<String>, option: &str) -> Result<Option<String>, String> {
    let Some(i) = args.iter().position(|a| a == option) else {
        return Ok(None);
    };
    args.remove(i);
    (i < args.len())
        .then(|| args.remove(i))
        .map(Some)
        .ok_or_else(|| format!("{option} needs a value"))
}
