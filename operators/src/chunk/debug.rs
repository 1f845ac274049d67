//! The debug record of one chunked document (`ChunkSet::debug`).

use serde::Serialize;

use super::config::Settings;
use super::strategy::Outcome;
use crate::model::Chunk;

/// What the chunker did with one document.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ChunkDebug {
    /// The operator's strategy (`smart` for chunk.smart).
    pub strategy: &'static str,
    /// The strategy that cut this document (smart's choice, or a fallback).
    pub used: &'static str,
    /// Why (smart's reasons, section and page counts, semantic figures).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Set when the strategy could not apply (e.g. by_page on a document without pages).
    #[serde(skip_serializing_if = "Option::is_none")]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Sizes>,
    /// Chunks smaller than `min_size` (that could not merge).
    pub under_min_size: usize,
    /// Chunks that end inside a sentence: not on terminal punctuation nor at a line end.
    pub mid_sentence_ends: usize,
    /// Table chunks.
    pub table_chunks: usize,
    /// Chunks larger than `size`: single chars worth more than `size` tokens, which cannot
    /// be divided. Ordinals and sizes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub oversized: Vec<Oversized>,
    /// Strategy-specific figures (semantic: sentences, breakpoints, threshold, embedder).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Size distribution of a document's chunks.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Sizes {
    pub min: usize,
    pub median: usize,
    pub max: usize,
}

/// An oversized chunk.
#[derive(Debug, Clone, Copy, Serialize)]
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
    fn mid_sentence() {
        let text = "One two. Three four\nfive six";
        assert!(!ends_mid_sentence(text, 8));
        assert!(ends_mid_sentence(text, 3));
        assert!(!ends_mid_sentence(text, 19));
        assert!(!ends_mid_sentence(text, text.len()));
        assert!(!ends_mid_sentence("He said \"yes.\" Then", 14));
    }
}
