//! Prints the chunking debug record of each file, until `engine inspect` shows them.
//!
//! `cargo run -p operators --example chunk_debug -- STRATEGY SIZE UNIT FILE...`, e.g.
//! `… -- smart 512 tokens sample-corpus/rust-book/*.md`. STRATEGY is recursive, by_heading,
//! by_page, semantic or smart; UNIT chars, words or tokens (the committed all-MiniLM-L6-v2
//! tokenizer).

use std::path::Path;
use std::sync::Arc;

use operators::chunk::sizer::load_tokenizer;
use operators::chunk::{Chunker, Settings, Strategy, Unit};
use operators::embed::hash::HashEmbedder;
use operators::model::Document;
use operators::parse::{ParseConfig, parse};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [strategy, size, unit, files @ ..] = args.as_slice() else {
        return Err("usage: chunk_debug STRATEGY SIZE UNIT FILE...".into());
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
        ..Settings::chars(size.parse().map_err(|e| format!("size: {e}"))?)
    };
    let chunker =
        Chunker::new(strategy, settings, tokenizer, "example").map_err(|e| e.to_string())?;
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        let doc = Document::new(file.clone(), file.clone(), bytes);
        let parsed = parse(&doc, &ParseConfig::default()).map_err(|e| format!("{file}: {e}"))?;
        let set = chunker.chunk(&parsed).map_err(|e| format!("{file}: {e}"))?;
        println!(
            "{}",
            serde_json::json!({ "doc_id": set.doc_id, "debug": set.debug })
        );
    }
    Ok(())
}
