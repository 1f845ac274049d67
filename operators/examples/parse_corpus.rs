//! Parses the documents of a corpus (`MANIFEST.tsv` layout, as in ../shared/corpus) into the
//! layout `score.py` reads: for `pdf/x.pdf`, `OUT/pdf/x.pdf.md`, or `OUT/pdf/x.pdf.err` holding
//! the error message.
//!
//! ```sh
//! cargo run --release -p operators --example parse_corpus -- ../shared/corpus OUT [pdf|docx|html|md]
//! python3 ../shared/corpus/score.py OUT
//! ```

use std::path::Path;
use std::time::Instant;

use operators::model::Document;
use operators::parse::{ParseConfig, parse};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: parse_corpus CORPUS_DIR OUT_DIR [FORMAT]");
        std::process::exit(2);
    }
    let corpus = Path::new(&args[1]);
    let out = Path::new(&args[2]);
    let only = args.get(3).map(String::as_str);
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let (mut ok, mut failed, mut bytes) = (0, 0, 0usize);
    let started = Instant::now();
    for line in manifest.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let (file, format) = (columns[0], columns.get(1).copied().unwrap_or_default());
        if only.is_some_and(|only| only != format) {
            continue;
        }
        let content = std::fs::read(corpus.join(file)).expect("corpus file");
        bytes += content.len();
        let doc = Document::new(file.to_owned(), file.to_owned(), content);
        let target = out.join(file);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("output folder");
        match parse(&doc, &ParseConfig::default()) {
            Ok(parsed) => {
                std::fs::write(format!("{}.md", target.display()), parsed.markdown).expect("write");
                ok += 1;
            }
            Err(err) => {
                std::fs::write(format!("{}.err", target.display()), err.to_string())
                    .expect("write");
                failed += 1;
            }
        }
    }
    eprintln!(
        "{ok} parsed, {failed} errors, {:.1} MB in {:.2}s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
}
