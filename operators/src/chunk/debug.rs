//! The debug record of one chunked document (`ChunkSet::debug`).

use serde_json::{Map, Value};

use super::config::Settings;
use super::strategy::Outcome;
use crate::model::Chunk;

/// What the chunker did with one document. [`ChunkDebug::into_value`] gives its JSON: the
/// fields in order, under their names, empty lists and absent values left out, `extra`'s
/// entries last.
#[derive(Debug, Clone)]
pub(super) struct ChunkDebug {
    /// The operator's strategy (`smart` for chunk.smart).
    pub strategy: &'static str,
    /// The strategy that cut this document (smart's choice, or a fallback).
    pub used: &'static str,
    /// Why (smart's reasons, section and page counts, semantic figures).
    pub reasons: Vec<String>,
    /// Set when the strategy could not apply (e.g. by_page on a document without pages).
    pub fallback: Option<String>,
    /// The unit of every size here.
    pub unit: &'static str,
    /// The configured size, overlap and min_size.
    pub size: usize,
    pub overlap: usize,
    pub min_size: usize,
    /// Number of chunks.
    pub chunks: usize,
    /// Smallest, median and largest chunk, in the unit (absent without chunks).
    pub sizes: Option<Sizes>,
    /// Chunks smaller than `min_size` (that could not merge).
    pub under_min_size: usize,
    /// Chunks that end inside a sentence: not on terminal punctuation nor at a line end.
    pub mid_sentence_ends: usize,
    /// Table chunks.
    pub table_chunks: usize,
    /// Chunks larger than `size`: single chars worth more than `size` tokens, which cannot
    /// be divided. Ordinals and sizes.
    pub oversized: Vec<Oversized>,
    /// Strategy-specific figures (semantic: sentences, breakpoints, threshold, embedder).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Size distribution of a document's chunks.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sizes {
    pub min: usize,
    pub median: usize,
    pub max: usize,
}

/// An oversized chunk.
#[derive(Debug, Clone, Copy)]
pub(super) struct Oversized {
    pub ordinal: usize,
    pub size: usize,
}

impl ChunkDebug {
    pub(super) fn new(
        strategy: &'static str,
        outcome: Outcome,
        settings: &Settings,
        chunks: &[Chunk],
        text: &str,
    ) -> Self {
        let mut sizes: Vec<usize> = chunks.iter().map(|c| c.tokens).collect();
        sizes.sort_unstable();
        ChunkDebug {
            strategy,
            used: outcome.used,
            reasons: outcome.reasons,
            fallback: outcome.fallback,
            unit: settings.unit.name(),
            size: settings.size,
            overlap: settings.overlap,
            min_size: settings.min_size,
            chunks: chunks.len(),
            sizes: (!sizes.is_empty()).then(|| Sizes {
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
                .filter(|c| c.kinds == [crate::model::ElementKind::Table])
                .count(),
            oversized: chunks
                .iter()
                .filter(|c| c.tokens > settings.size)
                .map(|c| Oversized {
                    ordinal: c.ordinal,
                    size: c.tokens,
                })
                .collect(),
            extra: outcome.extra,
        }
    }

    /// The JSON object of the record (built directly: a generic serializer costs more than
    /// the chunking of a small document).
    pub(super) fn into_value(self) -> Value {
        // The exact number of entries: a map of 16 would be an allocation large enough to
        // cost much more in the allocator (glibc consolidates its free lists for those).
        let optional = [
            !self.reasons.is_empty(),
            self.fallback.is_some(),
            self.sizes.is_some(),
            !self.oversized.is_empty(),
        ];
        let entries = 10 + optional.iter().filter(|&&b| b).count() + self.extra.len();
        let mut map = Map::with_capacity(entries);
        let mut put = |key: &str, value: Value| {
            map.insert(key.to_owned(), value);
        };
        put("strategy", self.strategy.into());
        put("used", self.used.into());
        if !self.reasons.is_empty() {
            put("reasons", self.reasons.into());
        }
        if let Some(fallback) = self.fallback {
            put("fallback", fallback.into());
        }
        put("unit", self.unit.into());
        put("size", self.size.into());
        put("overlap", self.overlap.into());
        put("min_size", self.min_size.into());
        put("chunks", self.chunks.into());
        if let Some(sizes) = self.sizes {
            put(
                "sizes",
                object([
                    ("min", sizes.min.into()),
                    ("median", sizes.median.into()),
                    ("max", sizes.max.into()),
                ]),
            );
        }
        put("under_min_size", self.under_min_size.into());
        put("mid_sentence_ends", self.mid_sentence_ends.into());
        put("table_chunks", self.table_chunks.into());
        if !self.oversized.is_empty() {
            let oversized = self
                .oversized
                .iter()
                .map(|o| object([("ordinal", o.ordinal.into()), ("size", o.size.into())]));
            put("oversized", oversized.collect());
        }
        map.extend(self.extra);
        Value::Object(map)
    }
}

/// A JSON object of `entries`, in order.
fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (key, value) in entries {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
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
    fn value_keeps_field_order_and_skips_empty_ones() {
        let mut extra = Map::new();
        extra.insert("sentences".into(), 12.into());
        let debug = ChunkDebug {
            strategy: "smart",
            used: "by_heading",
            reasons: vec!["3 headings".into()],
            fallback: None,
            unit: "tokens",
            size: 64,
            overlap: 8,
            min_size: 4,
            chunks: 2,
            sizes: Some(Sizes {
                min: 3,
                median: 40,
                max: 70,
            }),
            under_min_size: 1,
            mid_sentence_ends: 0,
            table_chunks: 0,
            oversized: vec![Oversized {
                ordinal: 1,
                size: 70,
            }],
            extra,
        };
        let json = serde_json::to_string(&debug.into_value()).unwrap();
        assert_eq!(
            json,
            r#"{"strategy":"smart","used":"by_heading","reasons":["3 headings"],"unit":"tokens","size":64,"overlap":8,"min_size":4,"chunks":2,"sizes":{"min":3,"median":40,"max":70},"under_min_size":1,"mid_sentence_ends":0,"table_chunks":0,"oversized":[{"ordinal":1,"size":70}],"sentences":12}"#
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
