//! Chunks every document of some folders with several strategies and sizes and counts the
//! chunks that look wrong: heading-only chunks, chunks under 20 chars, short tails after a
//! chunk that keeps a heading with the start of its content, punctuation-only chunks, chunks
//! ending mid-sentence, and broken invariants (over size, `text != markdown[span]`, out of
//! order). For tables: chunks that are only a delimiter row (`| --- | --- |`), chunks of a
//! table that are only rows of empty cells, chunks of a table that are other markup without
//! text (pipes, dashes, colons: a lone `|`), and parts of a split table
//! (`tables: own_chunk`) whose `embed_text` lacks the table's header rows although the header
//! rows and the part's first row fit in `size` together.
//!
//! `cargo run -p operators --example chunk_survey -- [--show KIND] DIR...`; with `--show` it
//! prints the offending chunks of that kind (`heading_only`, `heading_table`, `short`,
//! `heading_tail`, `punct`, `violation`, `sep`, `bare`, `empty`, `no_header`). `SURVEY_SIZES` replaces
//! the sizes (`60c,200c,64t`: chars or tokens), `SURVEY_STRATEGIES` the strategies
//! (`recursive,smart`), `SURVEY_ONLY=substring` keeps the configurations whose label has it.
//! The `chunk_debug` example prints one file's chunks (`--chunks`).

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
    sep: usize,
    bare: usize,
    empty: usize,
    no_header: usize,
}

/// Whether `line` is a Markdown table delimiter row (`| --- | :-: |`).
fn is_delimiter(line: &str) -> bool {
    let line = line.trim();
    line.contains('-')
        && line
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'))
}

/// Whether `text` is only table markup: pipes, dashes, colons, plus signs and whitespace.
fn is_bare(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, '|' | '-' | ':' | '+' | '=') || c.is_whitespace())
}

/// Whether every line of `text` is a whole table row (`| … |`).
fn whole_rows(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.len() >= 2 && l.starts_with('|') && l.ends_with('|')
    })
}

/// The header rows of the table at `span` (its first line and the delimiter row after it).
fn table_header(md: &str, span: [usize; 2]) -> Option<&str> {
    let table = md.get(span[0]..span[1])?.trim();
    let mut lines = table.split_inclusive('\n');
    let first = lines.next()?;
    let second = lines.next()?;
    is_delimiter(second).then(|| table[..first.len() + second.len()].trim_end())
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

/// The elements with text that a chunk overlaps.
fn shown<'d>(doc: &'d ParsedDocument, c: &Chunk) -> Vec<&'d operators::model::Element> {
    doc.elements
        .iter()
        .filter(|e| e.kind != ElementKind::PageBreak && !e.text.trim().is_empty())
        .filter(|e| e.span[0] < c.span[1] && e.span[1] > c.span[0])
        .collect()
}

fn main() -> Result<(), String> {
    operators::embed::onnx::disable_telemetry();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let show = match args.iter().position(|a| a == "--show") {
        Some(i) => {
            let kind = args.remove(i + 1);
            args.remove(i);
            Some(kind)
        }
        None => None,
    };
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
    let sizes: Vec<(usize, Unit)> = match std::env::var("SURVEY_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|s| {
                let unit = if s.ends_with('t') {
                    Unit::Tokens
                } else {
                    Unit::Chars
                };
                let n = s
                    .trim_end_matches(['c', 't'])
                    .parse()
                    .map_err(|e| format!("{s}: {e}"));
                n.map(|n| (n, unit))
            })
            .collect::<Result<_, _>>()?,
        Err(_) => vec![
            (400, Unit::Chars),
            (1000, Unit::Chars),
            (128, Unit::Tokens),
            (512, Unit::Tokens),
        ],
    };
    let strategies = std::env::var("SURVEY_STRATEGIES")
        .unwrap_or_else(|_| "recursive,by_heading,semantic,smart".into());
    for (name, strategy) in [
        ("recursive", Strategy::Recursive),
        ("by_heading", Strategy::ByHeading { level: 2 }),
        ("semantic", semantic()),
        ("smart", Strategy::Smart),
    ] {
        if !strategies.split(',').any(|s| s == name) {
            continue;
        }
        for &(size, unit) in &sizes {
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
        "{:<40} {:>7} {:>8} {:>7} {:>6} {:>8} {:>6} {:>8} {:>6} {:>5} {:>5} {:>5} {:>6}",
        "config",
        "chunks",
        "h_only",
        "h_table",
        "<20",
        "h_tail",
        "punct",
        "mid",
        "viol",
        "sep",
        "bare",
        "empty",
        "no_hdr"
    );
    for (label, strategy, settings) in configs {
        let tok = (settings.unit == Unit::Tokens).then(|| tokenizer.clone());
        let measure = |text: &str| match settings.unit {
            Unit::Tokens => tokenizer.encode(text, false).map_or(0, |e| e.len()),
            _ => text.chars().count(),
        };
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
                // Table markup without text: delimiter rows only, rows of empty cells only, or
                // another piece of markup (a lone `|`), in a chunk that overlaps a table.
                let in_table = doc.elements.iter().any(|e| {
                    e.kind == ElementKind::Table && e.span[0] < c.span[1] && c.span[0] < e.span[1]
                });
                if in_table && c.text.lines().all(is_delimiter) {
                    counts.sep += 1;
                    flags.push("sep");
                } else if in_table && is_bare(&c.text) && whole_rows(&c.text) {
                    counts.empty += 1;
                    flags.push("empty");
                } else if in_table && is_bare(&c.text) {
                    counts.bare += 1;
                    flags.push("bare");
                }
                // A later part of a split table that starts with a whole row: its embed_text
                // repeats the header rows when they fit with that row.
                let table = doc.elements.iter().find(|e| {
                    e.kind == ElementKind::Table && e.span[0] <= c.span[0] && c.span[1] <= e.span[1]
                });
                if settings.tables == Tables::OwnChunk
                    && let Some(table) = table
                    && let Some(header) = table_header(&doc.markdown, table.span)
                    && !c.text.contains(header)
                    && doc.markdown[..c.span[0]].ends_with('\n')
                {
                    // Up to its first row with text (rows of empty cells before it come along).
                    let row = match c.text.find(|ch: char| ch.is_alphanumeric()) {
                        Some(i) => {
                            &c.text[..c.text[i..].find('\n').map_or(c.text.len(), |j| i + j)]
                        }
                        None => &c.text,
                    };
                    let has = c.embed_text.as_deref().is_some_and(|t| t.contains(header));
                    if !has && measure(&format!("{header}\n")) + measure(row) <= settings.size {
                        counts.no_header += 1;
                        flags.push("no_header");
                    }
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
            "{label:<40} {:>7} {:>8} {:>7} {:>6} {:>8} {:>6} {:>8} {:>6} {:>5} {:>5} {:>5} {:>6}",
            counts.chunks,
            counts.heading_only,
            counts.heading_table,
            counts.short,
            counts.heading_tail,
            counts.punct,
            counts.mid_sentence,
            counts.violations,
            counts.sep,
            counts.bare,
            counts.empty,
            counts.no_header
        );
        total.chunks += counts.chunks;
        total.heading_only += counts.heading_only;
        total.heading_table += counts.heading_table;
        total.short += counts.short;
        total.heading_tail += counts.heading_tail;
        total.punct += counts.punct;
        total.mid_sentence += counts.mid_sentence;
        total.violations += counts.violations;
        total.sep += counts.sep;
        total.bare += counts.bare;
        total.empty += counts.empty;
        total.no_header += counts.no_header;
    }
    println!(
        "{:<40} {:>7} {:>8} {:>7} {:>6} {:>8} {:>6} {:>8} {:>6} {:>5} {:>5} {:>5} {:>6}",
        "TOTAL",
        total.chunks,
        total.heading_only,
        total.heading_table,
        total.short,
        total.heading_tail,
        total.punct,
        total.mid_sentence,
        total.violations,
        total.sep,
        total.bare,
        total.empty,
        total.no_header
    );
    Ok(())
}
