//! Property tests of `chunk_recursive` over generated text, and a run over the real corpus.

use proptest::prelude::*;

use super::{RecursiveConfig, Unit, chunk_recursive};
use crate::model::{Document, Format, ParsedDocument};
use crate::parse::{ParseConfig, parse};

/// Short words (at most 8 chars), some multibyte, some Markdown-ish.
fn short_word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}",
        "[A-Z][a-z]{0,7}",
        "[äöüéñßøç]{1,4}",
        "[日本語テキスト]{1,3}",
        Just("🎉".to_string()),
        Just("#".to_string()),
        Just("-".to_string()),
        Just("1.".to_string()),
        Just("`x`".to_string()),
    ]
}

/// Any word, including ones far longer than small chunk sizes.
fn any_word() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => short_word(),
        1 => "[a-zé]{9,60}",
    ]
}

/// Whitespace between words: at most 4 chars.
fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        6 => Just(" "),
        1 => Just(". "),
        1 => Just("? "),
        2 => Just("\n"),
        2 => Just("\n\n"),
        1 => Just("  \n\n"),
        1 => Just("\t"),
        1 => Just("\u{a0}"),
        1 => Just("\r\n"),
    ]
}

/// Text of alternating words and separators.
fn text_of(word: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (
        prop::collection::vec((word, separator()), 0..250),
        prop::bool::ANY,
    )
        .prop_map(|(pieces, leading_space)| {
            let mut text = if leading_space {
                " \n".to_string()
            } else {
                String::new()
            };
            for (word, sep) in pieces {
                text.push_str(&word);
                text.push_str(sep);
            }
            text
        })
}

fn parsed(text: &str, markdown: bool) -> ParsedDocument {
    let doc = Document::new("gen".into(), "gen".into(), text.as_bytes().to_vec());
    let config = ParseConfig {
        format: Some(if markdown {
            Format::Markdown
        } else {
            Format::Text
        }),
    };
    parse(&doc, &config).expect("generated text parses")
}

/// Checks the invariants every chunking must satisfy; returns the chunk spans.
fn check(doc: &ParsedDocument, config: &RecursiveConfig) -> Vec<[usize; 2]> {
    let set = chunk_recursive(doc, config, "fp");
    let again = chunk_recursive(doc, config, "fp");
    assert_eq!(set.chunks, again.chunks, "not deterministic");
    let md = &doc.markdown;
    let sizer = config.unit.sizer();
    let mut covered = vec![false; md.len()];
    for (i, chunk) in set.chunks.iter().enumerate() {
        let [s, e] = chunk.span;
        assert_eq!(chunk.ordinal, i);
        assert_eq!(
            md.get(s..e),
            Some(chunk.text.as_str()),
            "text != markdown[span]"
        );
        assert!(!chunk.text.is_empty() && chunk.text.trim() == chunk.text);
        assert_eq!(chunk.tokens, sizer.size(&chunk.text));
        assert!(
            chunk.tokens <= config.size,
            "chunk of {} > {}: {:?}",
            chunk.tokens,
            config.size,
            chunk.text
        );
        covered[s..e].iter_mut().for_each(|c| *c = true);
    }
    for (i, c) in md.char_indices() {
        assert!(c.is_whitespace() || covered[i], "lost {c:?} at {i}");
    }
    let spans: Vec<[usize; 2]> = set.chunks.iter().map(|c| c.span).collect();
    for w in spans.windows(2) {
        assert!(w[1][0] > w[0][0] && w[1][1] > w[0][1], "out of order {w:?}");
        if config.overlap == 0 {
            assert!(w[1][0] >= w[0][1], "overlap without overlap {w:?}");
        }
    }
    spans
}

proptest! {
    #[test]
    fn invariants_hold(
        text in text_of(any_word()),
        markdown in prop::bool::ANY,
        size in 1usize..200,
        overlap_share in 0usize..100,
        words in prop::bool::ANY,
    ) {
        let size = if words { size / 10 + 1 } else { size };
        let config = RecursiveConfig {
            size,
            overlap: size * overlap_share / 100,
            unit: if words { Unit::Words } else { Unit::Chars },
        };
        check(&parsed(&text, markdown), &config);
    }

    #[test]
    fn overlap_repeats_the_tail(
        text in text_of(short_word()),
        markdown in prop::bool::ANY,
        overlap in 9usize..40,
        extra in 10usize..150,
        words in prop::bool::ANY,
    ) {
        let config = if words {
            RecursiveConfig { size: overlap / 4 + extra / 10 + 1, overlap: overlap / 4, unit: Unit::Words }
        } else {
            RecursiveConfig { size: overlap + extra, overlap, unit: Unit::Chars }
        };
        let doc = parsed(&text, markdown);
        let spans = check(&doc, &config);
        for w in spans.windows(2) {
            let prev = &doc.markdown[w[0][0]..w[0][1]];
            if prev.split_whitespace().nth(1).is_some() {
                prop_assert!(w[1][0] < w[0][1], "no overlap after {prev:?}: {w:?}");
            }
        }
    }
}

#[test]
fn corpus_markdown_chunks_soundly() {
    let configs = [
        RecursiveConfig {
            size: 800,
            overlap: 100,
            unit: Unit::Chars,
        },
        RecursiveConfig {
            size: 100,
            overlap: 0,
            unit: Unit::Words,
        },
    ];
    for doc in crate::parse::test_corpus::markdown_documents() {
        let parsed = parse(&doc, &ParseConfig::default()).expect("corpus markdown parses");
        for config in &configs {
            let spans = check(&parsed, config);
            assert!(!spans.is_empty(), "{}: no chunks", doc.doc_id);
        }
    }
}
