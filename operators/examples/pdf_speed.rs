//! Times the PDF parser over files given on the command line: parses every file `ROUNDS`
//! times (default 3) and prints pages, seconds and pages per second of the best round.
//!
//! ```sh
//! cargo run --release -p operators --example pdf_speed -- [--rounds N] a.pdf b.pdf …
//! ```

use std::time::Instant;

use operators::model::{Document, Format};
use operators::parse::{ParseConfig, parse};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut rounds = 3;
    if args.first().map(String::as_str) == Some("--rounds") {
        rounds = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
        args.drain(..2.min(args.len()));
    }
    let docs: Vec<Document> = args
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
            Document::new(path.clone(), path.clone(), bytes)
        })
        .collect();
    let config = ParseConfig {
        format: Some(Format::Pdf),
        ..ParseConfig::default()
    };
    let mut best = f64::INFINITY;
    let mut pages = 0u64;
    for _ in 0..rounds.max(1) {
        pages = 0;
        let started = Instant::now();
        for doc in &docs {
            if let Ok(parsed) = parse(doc, &config) {
                pages += parsed
                    .metadata
                    .get("pages")
                    .and_then(|p| p.as_u64())
                    .unwrap_or(0);
            }
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "pages={pages} seconds={best:.3} pages_per_second={:.1}",
        pages as f64 / best
    );
}
