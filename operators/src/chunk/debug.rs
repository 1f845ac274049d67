//! The debug record of one chunked document (`ChunkSet::debug`).

use super::config::Settings;
use super::strategy::Outcome;
use crate::model::{Chunk, ChunkDebug, ChunkSizes, ElementKind, OversizedChunk};

/// The debug record of `chunks`, cut from `text` by `strategy` with `settings`.
pub(super) fn record(
    strategy: &'static str,
    outcome: Outcome,
    settings: &Settings,
    chunks: &[Chunk],
    text: &str,
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
            .filter(|c| ends_mid_sentence(text, c.span[1]))
            .count(),
        table_chunks: chunks
            .iter()
            .filter(|c| c.kinds == [ElementKind::Table])
            .count(),
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

/// Whether a chunk ending at byte `end` stops inside a sentence: its last visible char is no
/// sentence-final punctuation (closing quotes and brackets aside), and the text does not go on
/// after a line break or end there.
pub(super) fn ends_mid_sentence(text: &str, end: usize) -> bool {
    let (Some(head), Some(rest)) = (text.get(..end), text.get(end..)) else {
        return false;
    };
    let after = rest.trim_start();
    if after.is_empty() || rest[..rest.len() - after.len()].contains('\n') {
        return false;
    }
    let last = head
        .trim_end()
        .trim_end_matches(['"', '\'', ')', ']', '*', '_', '»', '”', '’'])
        .chars()
        .next_back();
    !matches!(
        last,
        None | Some('.' | '!' | '?' | ':' | ';' | '…' | '。' | '！' | '？' | '|' | '`')
    )
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
        let text = "One two. Three four\nfive six";
        assert!(!ends_mid_sentence(text, 8));
        assert!(ends_mid_sentence(text, 3));
        assert!(!ends_mid_sentence(text, 19));
        assert!(!ends_mid_sentence(text, text.len()));
        assert!(!ends_mid_sentence("He said \"yes.\" Then", 14));
    }
}
