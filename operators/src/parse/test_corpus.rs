//! Test helper: the Markdown files of the shared public corpus.

use std::path::PathBuf;

use crate::model::Document;

/// The corpus directory: `$CORPUS_DIR`, else the first `shared/corpus` found next to the
/// workspace or one of its ancestors (a worktree may sit deeper than the main clone).
pub(crate) fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CORPUS_DIR") {
        return PathBuf::from(dir);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/corpus"))
        .find(|dir| dir.join("MANIFEST.tsv").is_file())
        .unwrap_or_else(|| manifest.join("../../shared/corpus"))
}

/// Every `md` document listed in the corpus MANIFEST, loaded. Panics (fails the test) when the
/// corpus is missing.
pub(crate) fn markdown_documents() -> Vec<Document> {
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
        .filter(|cols| cols.get(format_col) == Some(&"md"))
        .map(|cols| {
            let file = cols[file_col];
            let bytes =
                std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("corpus file {file}: {e}"));
            Document::new(file.to_string(), file.to_string(), bytes)
        })
        .collect();
    assert!(!docs.is_empty(), "no md documents in the corpus manifest");
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
