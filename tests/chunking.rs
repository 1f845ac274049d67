//! End-to-end tests of the chunking operators: the real `engine` binary, every strategy, on
//! the bundled sample corpus.

mod common;

use common::{engine, engine_on, lines, repo};

use std::collections::HashMap;
use std::fs;

use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder with the tokenizer used by the tests, copied next to the pipeline file.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        repo().join("operators/tests/data/all-MiniLM-L6-v2.tokenizer.json"),
        dir.path().join("tokenizer.json"),
    )
    .unwrap();
    dir
}

const STRATEGIES: &[(&str, &str)] = &[
    (
        "recursive",
        "{ op: chunk.recursive, input: parse, size: 256, overlap: 32, unit: tokens, tokenizer: tokenizer.json, min_size: 32 }",
    ),
    (
        "by_heading",
        "{ op: chunk.by_heading, input: parse, size: 256, level: 2, unit: tokens, tokenizer: tokenizer.json, min_size: 64, context_header: true }",
    ),
    (
        "by_page",
        "{ op: chunk.by_page, input: parse, size: 800, overlap: 100, unit: chars }",
    ),
    (
        "semantic",
        "{ op: chunk.semantic, input: parse, size: 120, unit: words, breakpoint_percentile: 90, embedding: { provider: hash, dim: 128 } }",
    ),
    (
        "smart",
        "{ op: chunk.smart, input: parse, size: 256, unit: tokens, tokenizer: tokenizer.json, tables: inline }",
    ),
];

fn pipeline() -> String {
    let corpus = repo().join("sample-corpus");
    let mut yaml = format!(
        "version: 1\nname: chunking\nsteps:\n  docs: {{ op: source.files, path: {}, include: [\"**/*.md\", \"**/*.txt\"], exclude: [\"SOURCES.md\"] }}\n  parse: {{ op: parse, input: docs }}\n  out_parsed: {{ op: sink.jsonl, input: parse, path: out/parsed.jsonl }}\n",
        corpus.display()
    );
    for (name, step) in STRATEGIES {
        yaml.push_str(&format!("  {name}: {step}\n"));
        yaml.push_str(&format!(
            "  out_{name}: {{ op: sink.jsonl, input: {name}, path: out/{name}.jsonl }}\n"
        ));
    }
    yaml
}

/// Whether byte `at` of `md` is on a line of markup that shows no text (a page marker, bare
/// HTML tags, a link reference definition): a chunker leaves such a line out when no
/// neighbouring chunk has room for it.
fn on_markup_line(md: &str, at: usize) -> bool {
    let start = md[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = md[at..].find('\n').map_or(md.len(), |i| at + i);
    let line = md[start..end].trim();
    (line.len() >= 3 && line.chars().all(|c| c == '-'))
        || (line.starts_with('<') && line.ends_with('>') && !line.starts_with("<http"))
        || (line.starts_with('[') && !line.starts_with("[^") && line.contains("]:"))
}

#[test]
fn every_strategy_runs_on_the_sample_corpus() {
    let dir = workdir();
    let yaml = pipeline();
    let output = engine_on(dir.path(), &["run", "--json"], &yaml);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        text(&output.stderr),
        text(&output.stdout)
    );
    let summary: Value = serde_json::from_str(&text(&output.stdout)).unwrap();
    assert_eq!(summary["errors_total"], 0, "{summary}");
    let markdown: HashMap<String, String> = lines(&dir.path().join("out/parsed.jsonl"))
        .into_iter()
        .map(|doc| {
            (
                doc["doc_id"].as_str().unwrap().to_owned(),
                doc["markdown"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(markdown.len() >= 10);
    let mut ids_by_strategy = HashMap::new();
    for (name, _) in STRATEGIES {
        let chunks = lines(&dir.path().join(format!("out/{name}.jsonl")));
        assert!(chunks.len() > markdown.len(), "{name}: too few chunks");
        let mut docs = HashMap::<&str, Vec<&Value>>::new();
        for chunk in &chunks {
            docs.entry(chunk["doc_id"].as_str().unwrap())
                .or_default()
                .push(chunk);
        }
        assert_eq!(docs.len(), markdown.len(), "{name}: every document chunked");
        for (doc_id, doc_chunks) in &docs {
            let md = &markdown[*doc_id];
            let mut covered = vec![false; md.len()];
            for (i, chunk) in doc_chunks.iter().enumerate() {
                assert_eq!(chunk["ordinal"], i, "{name}");
                let span = &chunk["span"];
                let (s, e) = (
                    span[0].as_u64().unwrap() as usize,
                    span[1].as_u64().unwrap() as usize,
                );
                assert_eq!(&md[s..e], chunk["text"].as_str().unwrap(), "{name}");
                covered[s..e].iter_mut().for_each(|c| *c = true);
                assert!(chunk["tokens"].as_u64().unwrap() > 0);
                assert_eq!(chunk["chunk_id"].as_str().unwrap().len(), 32);
                // No chunk of markup alone (an anchor, link definitions, a page marker).
                let kinds = chunk["kinds"].as_array().unwrap();
                assert!(kinds.iter().any(|k| k != "page_break"), "{name}: {chunk}");
            }
            for (i, c) in md.char_indices() {
                assert!(
                    c.is_whitespace() || covered[i] || on_markup_line(md, i),
                    "{name}: {doc_id} lost {c:?}"
                );
            }
        }
        let limit = match *name {
            "by_page" => 800,
            "semantic" => 120,
            _ => 256,
        };
        for chunk in &chunks {
            assert!(
                chunk["tokens"].as_u64().unwrap() <= limit,
                "{name}: {chunk}"
            );
        }
        // Documents reach the sink in scheduling order: compare ids as sets.
        let mut ids: Vec<String> = chunks
            .iter()
            .map(|c| c["chunk_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        let count = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), count, "{name}: duplicate chunk ids");
        ids_by_strategy.insert(*name, ids);
    }
    // context_header: by_heading chunks carry the title and section path for embedding only.
    let by_heading = lines(&dir.path().join("out/by_heading.jsonl"));
    let with_header = by_heading
        .iter()
        .find(|c| c["section"].as_array().is_some_and(|s| s.len() >= 2))
        .expect("a chunk below a second-level heading");
    let embed = with_header["embed_text"].as_str().unwrap();
    let shown = with_header["text"].as_str().unwrap();
    assert!(
        embed.ends_with(shown) || shown.contains("](") || shown.contains('\\'),
        "{embed}"
    );
    assert!(embed.contains(" > "), "{embed}");
    // Chunks without context header have embed_text only for their links (inline, or by
    // reference to a definition elsewhere in the document) and backslash escapes: what they
    // show, without the targets, and `\.` as `.`.
    let recursive = lines(&dir.path().join("out/recursive.jsonl"));
    let mut unescaped = 0;
    for chunk in &recursive {
        if let Some(embed) = chunk.get("embed_text") {
            let shown = chunk["text"].as_str().unwrap();
            let embed = embed.as_str().unwrap();
            let links = shown.contains("](") || shown.contains("][");
            let escapes = shown.matches('\\').count();
            assert!(
                (links || embed.matches('\\').count() < escapes)
                    && !embed.contains("](")
                    && !embed.contains("]["),
                "{chunk}"
            );
            if !links && escapes > 0 {
                unescaped += 1;
                assert!(!embed.contains("\\."), "{chunk}");
            }
        }
    }
    assert!(
        unescaped > 0,
        "no chunk of the sample corpus had escapes only"
    );

    // Same input and settings: same chunks and ids, run after run.
    let again = engine_on(dir.path(), &["run", "--json"], &yaml);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    for (name, ids) in &ids_by_strategy {
        let chunks = lines(&dir.path().join(format!("out/{name}.jsonl")));
        let mut again: Vec<String> = chunks
            .iter()
            .map(|c| c["chunk_id"].as_str().unwrap().to_owned())
            .collect();
        again.sort();
        assert_eq!(&again, ids, "{name}: ids changed between runs");
    }
}

#[test]
fn validate_reports_chunking_problems() {
    let dir = workdir();
    let corpus = repo().join("sample-corpus");
    let yaml = format!(
        "version: 1\nname: t\nsteps:\n  docs: {{ op: source.files, path: {} }}\n  parse: {{ op: parse, input: docs }}\n  a: {{ op: chunk.by_heading, input: parse, size: 100, overlap: 100 }}\n  b: {{ op: chunk.recursive, input: parse, size: 100, unit: tokens }}\n  c: {{ op: chunk.semantic, input: parse, size: 100, unit: tokens, tokenizer: missing.json }}\n  d: {{ op: chunk.smart, input: parse, size: 100, level: 2 }}\n  e: {{ op: chunk.semantic, input: parse, size: 100, embedding: {{ provider: hash, dims: 3 }} }}\n  f: {{ op: chunk.semantic, input: parse, size: 100, embedding: {{ provider: foo }} }}\n  g: {{ op: chunk.recursive, input: parse, size: 100, unit: tokens, tokenizer: not-a-tokenizer.json }}\n  out: {{ op: sink.jsonl, input: [a, b, c, d, e, f, g], path: o.jsonl }}\n",
        corpus.display()
    );
    fs::write(dir.path().join("not-a-tokenizer.json"), r#"{"a": 1}"#).unwrap();
    let output = engine_on(dir.path(), &["validate"], &yaml);
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    for (line, needle) in [
        (6, "overlap (100) must be smaller than size (100)"),
        (7, "unit `tokens` needs a tokenizer"),
        (8, "`missing.json` does not exist"),
        (9, "unknown key `level`"),
        (10, "dims"),
        // An unknown provider is named, with the choices (it read "expected another value").
        (11, "`provider: foo` is not allowed here"),
        // A file that is no tokenizer is found before the run (it was "valid").
        (
            12,
            "`not-a-tokenizer.json` is JSON but not a Hugging Face tokenizer",
        ),
    ] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("pipeline.yaml:{line}:")) && l.contains(needle)),
            "expected `{needle}` at line {line}:\n{err}"
        );
    }
}

#[test]
fn the_example_pipeline_validates() {
    let output = engine()
        .args(["validate"])
        .arg(repo().join("pipelines/chunking.yaml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}
