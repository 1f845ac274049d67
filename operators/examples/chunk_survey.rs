//! Chunks every document of some folders with several strategies and sizes and counts the
//! chunks that look wrong: heading-only chunks, chunks under 20 chars, short tails after a
//! chunk that keeps a heading with the start of its content, punctuation-only chunks, chunks
//! ending mid-sentence, and broken invariants (over size, `text != markdown[span]`, out of
//! order).
//!
//! `cargo run -p operators --example chunk_survey -- [--show KIND] DIR...`; with `--show` it
//! prints the offending chunks of that kind (`heading_only`, `heading_table`, `short`,
//! `heading_tail`, `punct`, `violation`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use operators::chunk::sizer::load_tokenizer;
use operators::chunk::{Chunker, Settings, Strategy, Tables, Unit};
use operators::embed::hash::HashEmbedder;
use operators::model::{Chunk, Document, ElementKind, ParsedDocument};
use operators::parse::{ParseConfig, parse};

/// Counts of one configuration.
#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    chunks: usize,
    heading_only: usize,
    heading_table: usize,
    short: usize,
    heading_tail: usize,
    punct: usize,
    mid_sentence: usize,
    violations: usize,
}

/// The documents below `dir`: those its MANIFEST.tsv lists (first column), else every file
/// of a known format.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(manifest) = std::fs::read_to_string(dir.join("MANIFEST.tsv")) {
        out.extend(
            manifest
                .lines()
                .skip(1)
                .filter_map(|line| line.split('\t').next())
                .filter(|f| !f.is_empty())
                .map(|f| dir.join(f)),
        );
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "md" | "txt" | "html" | "htm" | "docx" | "pdf"))
        {
            out.push(path);
        }
    }
}

/// `--print STRATEGY SIZE UNIT TABLES FILE`: prints the chunks of one file.
fn print(args: &[String]) -> Result<(), String> {
    let [strategy, size, unit, tables, file] = args else {
        return Err("usage: --print STRATEGY SIZE UNIT own|inline FILE".into());
    };
    let strategy = match strategy.as_str() {
        "recursive" => Strategy::Recursive,
        "by_heading" => Strategy::ByHeading { level: 2 },
        "semantic" => Strategy::Semantic {
            percentile: 95.0,
            embedder: Arc::new(HashEmbedder::new(256)),
        },
        "smart" => Strategy::Smart,
        other => return Err(format!("unknown strategy {other}")),
    };
    let unit = match unit.as_str() {
        "chars" => Unit::Chars,
        _ => Unit::Tokens,
    };
    let tokenizer = Arc::new(load_tokenizer(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/all-MiniLM-L6-v2.tokenizer.json"),
    )?);
    let settings = Settings {
        unit,
        tables: if tables == "inline" {
            Tables::Inline
        } else {
            Tables::OwnChunk
        },
        ..Settings::chars(size.parse().map_err(|e| format!("size: {e}"))?)
    };
    let tok = (unit == Unit::Tokens).then_some(tokenizer);
    let chunker = Chunker::new(strategy, settings, tok, "survey").map_err(|e| e.to_string())?;
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let doc = parse(
        &Document::new(file.clone(), file.clone(), bytes),
        &ParseConfig::default(),
    )
    .map_err(|e| e.to_string())?;
    let set = chunker.chunk(&doc).map_err(|e| e.to_string())?;
    for c in &set.chunks {
        println!("--- #{} ({} units) {:?}", c.ordinal, c.tokens, c.span);
        println!("{}", c.text);
    }
    Ok(())
}

/// The elements with text that a chunk overlaps.
fn shown<'d>(doc: &'d ParsedDocument, c: &Chunk) -> Vec<&'d operators::model::Element> {
    doc.elements
        .iter()
        .filter(|e| e.kind != ElementKind::PageBreak && !e.text.trim().is_empty())
        .filter(|e| e.span[0] < c.span[1] && e.span[1] > c.span[0])
        .collect()
}

fn main() -> Result<(), String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let show = match args.iter().position(|a| a == "--show") {
        Some(i) => {
            let kind = args.remove(i + 1);
            args.remove(i);
            Some(kind)
        }
        None => None,
    };
    if args.first().is_some_and(|a| a == "--print") {
        return print(&args[1..]);
    }
    let mut paths = Vec::new();
    for dir in &args {
        files(Path::new(dir), &mut paths);
    }
    let tokenizer = Arc::new(load_tokenizer(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/all-MiniLM-L6-v2.tokenizer.json"),
    )?);
    let docs: Vec<ParsedDocument> = paths
        .iter()
        .filter_map(|path| {
            let bytes = std::fs::read(path).ok()?;
            let name = path.display().to_string();
            parse(
                &Document::new(name.clone(), name, bytes),
                &ParseConfig::default(),
            )
            .ok()
        })
        .collect();
    eprintln!("{} documents", docs.len());
    let semantic = || Strategy::Semantic {
        percentile: 95.0,
        embedder: Arc::new(HashEmbedder::new(256)),
    };
    let mut configs: Vec<(String, Strategy, Settings)> = Vec::new();
    for (name, strategy) in [
        ("recursive", Strategy::Recursive),
        ("by_heading", Strategy::ByHeading { level: 2 }),
        ("semantic", semantic()),
        ("smart", Strategy::Smart),
    ] {
        for (size, unit) in [
            (400, Unit::Chars),
            (1000, Unit::Chars),
            (128, Unit::Tokens),
            (512, Unit::Tokens),
        ] {
            for tables in [Tables::OwnChunk, Tables::Inline] {
                let settings = Settings {
                    unit,
                    tables,
                    tokenizer: None,
                    ..Settings::chars(size)
                };
                let label = format!("{name} {size} {} {tables:?}", unit.name());
                configs.push((label, strategy.clone(), settings));
            }
        }
    }
    // SURVEY_ONLY=substring keeps the configurations whose label has it.
    if let Ok(only) = std::env::var("SURVEY_ONLY") {
        configs.retain(|(label, _, _)| label.contains(&only));
    }
    let mut total = Counts::default();
    println!(
        "{:<40} {:>7} {:>8} {:>7} {:>6} {:>8} {:>6} {:>8} {:>6}",
        "config", "chunks", "h_only", "h_table", "<20", "h_tail", "punct", "mid", "viol"
    );
    for (label, strategy, settings) in configs {
        let tok = (settings.unit == Unit::Tokens).then(|| tokenizer.clone());
        let chunker =
            Chunker::new(strategy, settings.clone(), tok, "survey").map_err(|e| e.to_string())?;
        let mut counts = Counts::default();
        for doc in &docs {
            let Ok(set) = chunker.chunk(doc) else {
                continue;
            };
            counts.chunks += set.chunks.len();
            counts.mid_sentence += set.debug.as_ref().map_or(0, |d| d.mid_sentence_ends);
            let mut prev: Option<&Chunk> = None;
            for c in &set.chunks {
                let mut flags = Vec::new();
                if doc.markdown.get(c.span[0]..c.span[1]) != Some(c.text.as_str())
                    || (c.tokens > settings.size && c.text.chars().count() > 1)
                    || prev.is_some_and(|p| p.span[0] >= c.span[0] || p.span[1] >= c.span[1])
                {
                    counts.violations += 1;
                    flags.push("violation");
                }
                let els = shown(doc, c);
                if !els.is_empty() && els.iter().all(|e| e.kind == ElementKind::Heading) {
                    counts.heading_only += 1;
                    flags.push("heading_only");
                    // The heading's first content is a table.
                    let last = els[els.len() - 1].span[1];
                    let next = doc
                        .elements
                        .iter()
                        .filter(|e| e.kind != ElementKind::PageBreak && !e.text.trim().is_empty())
                        .find(|e| e.span[0] >= last);
                    if next.is_some_and(|e| e.kind == ElementKind::Table) {
                        counts.heading_table += 1;
                        flags.push("heading_table");
                    }
                }
                let chars = c.text.chars().count();
                if chars < 20 {
                    counts.short += 1;
                    flags.push("short");
                    // The previous chunk starts with a heading and the element this chunk
                    // starts in began in it.
                    if let Some(p) = prev {
                        let pels = shown(doc, p);
                        let starts_heading =
                            pels.first().is_some_and(|e| e.kind == ElementKind::Heading);
                        let continues = els.first().is_some_and(|e| e.span[0] < p.span[1]);
                        if starts_heading && continues && pels.len() >= 2 {
                            counts.heading_tail += 1;
                            flags.push("heading_tail");
                        }
                    }
                }
                if !c.text.chars().any(char::is_alphanumeric) {
                    counts.punct += 1;
                    flags.push("punct");
                }
                if let Some(kind) = &show
                    && flags.contains(&kind.as_str())
                {
                    let before = prev.map_or("", |p| p.text.as_str());
                    let tail: String = before
                        .chars()
                        .rev()
                        .take(80)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    println!(
                        "## {label} {} #{}\n   prev …{tail:?}\n   this {:?}",
                        doc.doc_id,
                        c.ordinal,
                        c.text.chars().take(200).collect::<String>()
                    );
                }
                prev = Some(c);
            }
        }
        println!(
            "{label:<40} {:>7} {:>8} {:>7} {:>6} {:>8} {:>6} {:>8} {:>6}",
            counts.chunks,
            counts.heading_only,
            counts.heading_table,
            counts.short,
            counts.heading_tail,
            counts.punct,
            counts.mid_sentence,
            counts.violations
        );
        total.chunks += counts.chunks;
        total.heading_only += counts.heading_only;
        total.heading_table += counts.heading_table;
        total.short += counts.short;
        total.heading_tail += counts.heading_tail;
        total.punct += counts.punct;
        total.mid_sentence += counts.mid_sentence;
        total.violations += counts.violations;
    }
    println!(
        "{:<40} {:>7} {:>8} {:>7} {:>6} {:>8} {:>6} {:>8} {:>6}",
        "TOTAL",
        total.chunks,
        total.heading_only,
        total.heading_table,
        total.short,
        total.heading_tail,
        total.punct,
        total.mid_sentence,
        total.violations
    );
    Ok(())
}
