//! Test helper: the Markdown files of the shared public corpus.

use std::path::PathBuf;

use crate::model::Document;

/// The corpus directory: `shared/corpus` in the nearest folder above the workspace that has
/// one (a clone sits next to `shared/`, a worktree one level deeper).
pub(crate) fn corpus_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|dir| dir.join("shared/corpus"))
        .find(|dir| dir.join("MANIFEST.tsv").exists())
        .unwrap_or_else(|| manifest.join("../../shared/corpus"))
}

/// Every `md` document listed in the corpus MANIFEST, loaded. Panics (fails the test) when the
/// corpus is missing.
pub(crate) fn markdown_documents() -> Vec<Document> {
    documents(&["md"])
}

/// Every document of the given MANIFEST formats (`md`, `html`, `docx`, `pdf`), loaded.
pub(crate) fn documents(formats: &[&str]) -> Vec<Document> {
    let dir = corpus_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("corpus manifest in {}: {e}", dir.display()));
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("MANIFEST.tsv has no `{name}` column"))
    };
    let (file_col, format_col) = (column("file"), column("format"));
    let docs: Vec<Document> = lines
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|cols| cols.get(format_col).is_some_and(|f| formats.contains(f)))
        .map(|cols| {
            let file = cols[file_col];
            let bytes =
                std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("corpus file {file}: {e}"));
            Document::new(file.to_string(), file.to_string(), bytes)
        })
        .collect();
    assert!(
        !docs.is_empty(),
        "no {formats:?} documents in the corpus manifest"
    );
    docs
}

#[test]
fn every_corpus_markdown_file_parses_with_sound_spans() {
    use crate::model::ElementKind;
    use crate::parse::{ParseConfig, parse};

    for doc in markdown_documents() {
        let parsed =
            parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{}: {e}", doc.doc_id));
        let md = &parsed.markdown;
        assert!(!parsed.elements.is_empty(), "{}: no elements", doc.doc_id);
        for e in &parsed.elements {
            let [start, end] = e.span;
            assert!(start <= end && end <= md.len(), "{}: {e:?}", doc.doc_id);
            assert!(
                md.is_char_boundary(start) && md.is_char_boundary(end),
                "{}: span off char boundary {e:?}",
                doc.doc_id
            );
            if e.kind == ElementKind::Heading {
                assert!(
                    matches!(e.level, Some(1..=6)),
                    "{}: heading without level {e:?}",
                    doc.doc_id
                );
            }
        }
        let starts: Vec<usize> = parsed.elements.iter().map(|e| e.span[0]).collect();
        assert!(
            starts.windows(2).all(|w| w[0] <= w[1]),
            "{}: elements out of order",
            doc.doc_id
        );
    }
}

#[test]
fn damaged_corpus_files_never_panic() {
    use crate::parse::{ParseConfig, parse};

    for doc in documents(&["md", "html", "docx"]) {
        let bytes = &doc.bytes;
        let len = bytes.len();
        let mut variants: Vec<Vec<u8>> = [0, 1, 7, len / 10, len / 3, len / 2, len - len / 10]
            .into_iter()
            .filter(|&cut| cut < len)
            .map(|cut| bytes[..cut].to_vec())
            .collect();
        for seed in 1..=3usize {
            let mut flipped = bytes.to_vec();
            // Deterministic scatter of flipped bytes over the whole file.
            let step = (len / (16 * seed)).max(1);
            for i in (seed * 31 % len.max(1)..len).step_by(step) {
                flipped[i] ^= 0x5A ^ (i as u8);
            }
            variants.push(flipped);
        }
        for (i, variant) in variants.into_iter().enumerate() {
            let mut damaged = Document::new(doc.doc_id.clone(), doc.source.clone(), variant);
            damaged.format = crate::parse::detect_format(&doc, &ParseConfig::default());
            let result = std::panic::catch_unwind(|| parse(&damaged, &ParseConfig::default()));
            assert!(result.is_ok(), "{} variant {i} panicked", doc.doc_id);
        }
    }
}

#[test]
fn every_corpus_html_and_docx_file_parses_or_errors_as_expected() {
    use crate::parse::{ParseConfig, parse};

    let dir = corpus_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, format, expect) = (cols[0], cols[1], cols[2]);
        if !matches!(format, "html" | "docx") {
            continue;
        }
        let bytes = std::fs::read(dir.join(file)).expect("corpus file");
        let doc = Document::new(file.to_string(), file.to_string(), bytes);
        let result = parse(&doc, &ParseConfig::default());
        match expect {
            "ok" => {
                let parsed = result.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert!(parsed.elements.len() > 2, "{file}: too few elements");
                for e in &parsed.elements {
                    let [s, t] = e.span;
                    assert!(s < t && t <= parsed.markdown.len(), "{file}: {e:?}");
                }
            }
            "must-error-cleanly" => assert!(result.is_err(), "{file} should fail"),
            _ => {}
        }
    }
}
