//! The debug record of one chunked document (`ChunkSet::debug`).

use super::annotate::ElementIndex;
use super::config::Settings;
use super::softbreak::is_soft;
use super::strategy::Outcome;
use crate::model::{Chunk, ChunkDebug, ChunkSizes, ElementKind, OversizedChunk};

/// The debug record of `chunks`, cut from `text` by `strategy` with `settings`.
pub(super) fn record(
    strategy: &'static str,
    outcome: Outcome,
    settings: &Settings,
    chunks: &[Chunk],
    text: &str,
    index: &ElementIndex<'_>,
) -> ChunkDebug {
    let mut sizes: Vec<usize> = chunks.iter().map(|c| c.tokens).collect();
    sizes.sort_unstable();
    ChunkDebug {
        strategy: strategy.into(),
        used: outcome.used.into(),
        reasons: outcome.reasons,
        fallback: outcome.fallback,
        unit: settings.unit.name().into(),
        size: settings.size,
        overlap: settings.overlap,
        min_size: settings.min_size,
        chunks: chunks.len(),
        sizes: (!sizes.is_empty()).then(|| ChunkSizes {
            min: sizes[0],
            median: sizes[sizes.len() / 2],
            max: sizes[sizes.len() - 1],
        }),
        under_min_size: chunks
            .iter()
            .filter(|c| c.tokens < settings.min_size)
            .count(),
        mid_sentence_ends: chunks
            .iter()
            .filter(|c| ends_mid_sentence(text, index, c.span[1]))
            .count(),
        table_chunks: chunks.iter().filter(|c| is_table_chunk(c)).count(),
        oversized: chunks
            .iter()
            .filter(|c| c.tokens > settings.size)
            .map(|c| OversizedChunk {
                ordinal: c.ordinal,
                size: c.tokens,
            })
            .collect(),
        extra: outcome.extra,
    }
}

/// Whether a chunk is (part of) a table, maybe led by its headings.
fn is_table_chunk(chunk: &Chunk) -> bool {
    chunk.kinds.contains(&ElementKind::Table)
        && chunk
            .kinds
            .iter()
            .all(|k| matches!(k, ElementKind::Table | ElementKind::Heading))
}

/// Whether a chunk ending at byte `end` stops inside a sentence: its last visible char is no
/// sentence-final punctuation (closing quotes and brackets aside), and the text goes on, on the
/// same line or after a soft line break (one that only wraps a paragraph).
pub(super) fn ends_mid_sentence(text: &str, index: &ElementIndex<'_>, end: usize) -> bool {
    let (Some(head), Some(rest)) = (text.get(..end), text.get(end..)) else {
        return false;
    };
    let last = head
        .trim_end()
        .trim_end_matches(['"', '\'', ')', ']', '*', '_', '»', '”', '’'])
        .chars()
        .next_back();
    if matches!(
        last,
        None | Some('.' | '!' | '?' | ':' | ';' | '…' | '。' | '！' | '？' | '|' | '`')
    ) {
        return false;
    }
    let after = rest.trim_start();
    let gap = &rest[..rest.len() - after.len()];
    !after.is_empty() && gap.find('\n').is_none_or(|i| is_soft(text, index, end + i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_field_order_and_skips_empty_ones() {
        let mut extra = crate::model::Metadata::new();
        extra.insert("sentences".into(), 12.into());
        let debug = ChunkDebug {
            strategy: "smart".into(),
            used: "by_heading".into(),
            reasons: vec!["3 headings".into()],
            fallback: None,
            unit: "tokens".into(),
            size: 64,
            overlap: 8,
            min_size: 4,
            chunks: 2,
            sizes: Some(ChunkSizes {
                min: 3,
                median: 40,
                max: 70,
            }),
            under_min_size: 1,
            mid_sentence_ends: 0,
            table_chunks: 0,
            oversized: vec![OversizedChunk {
                ordinal: 1,
                size: 70,
            }],
            extra,
        };
        let json = serde_json::to_string(&debug).unwrap();
        assert_eq!(
            json,
            r#"{"strategy":"smart","used":"by_heading","reasons":["3 headings"],"unit":"tokens","size":64,"overlap":8,"min_size":4,"chunks":2,"sizes":{"min":3,"median":40,"max":70},"under_min_size":1,"mid_sentence_ends":0,"table_chunks":0,"oversized":[{"ordinal":1,"size":70}],"sentences":12}"#
        );
        assert_eq!(serde_json::to_value(&debug).unwrap().to_string(), json);
        assert_eq!(serde_json::from_str::<ChunkDebug>(&json).unwrap(), debug);
        let bare = ChunkDebug {
            reasons: Vec::new(),
            sizes: None,
            oversized: Vec::new(),
            extra: Default::default(),
            ..debug
        };
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"strategy":"smart","used":"by_heading","unit":"tokens","size":64,"overlap":8,"min_size":4,"chunks":2,"under_min_size":1,"mid_sentence_ends":0,"table_chunks":0}"#
        );
    }

    #[test]
    fn mid_sentence() {
        let none = ElementIndex::new(&[]);
        let text = "One two. Three four\nfive six";
        assert!(!ends_mid_sentence(text, &none, 8));
        assert!(ends_mid_sentence(text, &none, 3));
        assert!(
            !ends_mid_sentence(text, &none, 19),
            "no paragraph: a hard break"
        );
        assert!(!ends_mid_sentence(text, &none, text.len()));
        assert!(!ends_mid_sentence("He said \"yes.\" Then", &none, 14));
    }

    #[test]
    fn a_soft_line_break_is_mid_sentence() {
        let doc = super::super::tests::parsed(
            "w.md",
            "A sort is very\neasy: call it. It\nreturns.\n\n- item\n- next\n\n```\nx\ny\n```\n",
        );
        let index = ElementIndex::new(&doc.elements);
        let text = doc.markdown.as_str();
        let after = |s: &str| text.find(s).unwrap() + s.len();
        assert!(ends_mid_sentence(text, &index, after("very")));
        assert!(ends_mid_sentence(text, &index, after(" It")));
        assert!(!ends_mid_sentence(text, &index, after("returns.")));
        assert!(!ends_mid_sentence(text, &index, after("item")));
        assert!(!ends_mid_sentence(text, &index, after("```\nx")));
    }
}
