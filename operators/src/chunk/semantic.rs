//! Semantic chunking: split where adjacent sentences stop resembling each other.
//!
//! The document's text (tables aside, with `tables: own_chunk`) is cut into sentences
//! (`softbreak`): Unicode sentence boundaries, and line breaks except those that only wrap a
//! paragraph, list item or quote; a code block is one sentence, fences and all. Every sentence
//! is embedded; the distance between neighbours is `1 - cosine`. Where a distance is above the
//! configured percentile of all the document's distances, a group of sentences ends (never
//! between a heading and its section's first content). Each group is one chunk when it fits in
//! `size`, and is split by the recursive splitter otherwise, so `size` stays a maximum.
//! Sentences without words (a rule) embed to the zero vector: no breakpoint is placed next to
//! them.

use super::ChunkError;
use super::annotate::ElementIndex;
use super::headings;
use super::softbreak;
use super::strategy::{Outcome, Segment, Work};
use crate::embed::Embedder;

/// Sentences embedded per call to the provider.
const BATCH: usize = 256;

pub(super) fn run(
    work: &mut Work<'_>,
    percentile: f64,
    embedder: &dyn Embedder,
) -> Result<Outcome, ChunkError> {
    let text = work.text;
    let segments = work.segments([0, text.len()]);
    let elements = ElementIndex::new(&work.doc.elements);
    // Sentences of every text segment, with the index of their segment.
    let mut sentences: Vec<(usize, [usize; 2])> = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        if let Segment::Text(range) = *segment {
            let found = softbreak::sentences(text, &elements, range);
            sentences.extend(found.into_iter().map(|span| (index, span)));
        }
    }
    let mut vectors = Vec::with_capacity(sentences.len());
    for batch in sentences.chunks(BATCH) {
        let texts: Vec<&str> = batch.iter().map(|(_, [s, e])| &text[*s..*e]).collect();
        vectors.extend(embedder.embed_documents(&texts)?);
    }
    // distances[i]: between sentence i and i + 1, when both are in one segment and have words.
    let distances: Vec<Option<f32>> = sentences
        .windows(2)
        .zip(vectors.windows(2))
        .map(|(pair, v)| {
            (pair[0].0 == pair[1].0)
                .then(|| cosine(&v[0], &v[1]))
                .flatten()
                .map(|similarity| 1.0 - similarity)
        })
        .collect();
    let mut known: Vec<f32> = distances.iter().flatten().copied().collect();
    known.sort_by(f32::total_cmp);
    let threshold = percentile_of(&known, percentile);
    // No group ends between a heading and its section's first content.
    let glued = headings::glued(work.doc);
    let breakpoints: Vec<bool> = distances
        .iter()
        .zip(sentences.iter().skip(1))
        .map(|(d, (_, [next, _]))| {
            matches!((d, threshold), (Some(d), Some(t)) if *d > t)
                && headings::holding(&glued, *next).is_none()
        })
        .collect();

    // Walk segments in order: tables as they are, text as groups of sentences.
    let mut next_sentence = 0;
    let mut groups = 0;
    for (index, segment) in segments.iter().enumerate() {
        match *segment {
            Segment::Table { .. } => work.segment_pieces(*segment),
            Segment::Text(_) => {
                let mut group_start: Option<usize> = None;
                while let Some(&(seg, [s, e])) = sentences.get(next_sentence) {
                    if seg != index {
                        break;
                    }
                    let start = *group_start.get_or_insert(s);
                    let ends_group = breakpoints.get(next_sentence).copied().unwrap_or(true)
                        || sentences
                            .get(next_sentence + 1)
                            .is_none_or(|n| n.0 != index);
                    if ends_group {
                        work.text_piece([start, e]);
                        groups += 1;
                        group_start = None;
                    }
                    next_sentence += 1;
                }
            }
        }
    }
    let mut outcome = Outcome {
        used: "semantic",
        reasons: vec![format!(
            "{} sentences in {groups} group(s), breakpoints above the {percentile}th percentile of adjacent-sentence distances",
            sentences.len()
        )],
        ..Outcome::default()
    };
    outcome
        .extra
        .insert("sentences".into(), sentences.len().into());
    outcome.extra.insert(
        "breakpoints".into(),
        breakpoints.iter().filter(|b| **b).count().into(),
    );
    outcome.extra.insert("groups".into(), groups.into());
    outcome.extra.insert(
        "threshold".into(),
        threshold.map_or(serde_json::Value::Null, |t| {
            serde_json::Value::from((f64::from(t) * 1e4).round() / 1e4)
        }),
    );
    outcome
        .extra
        .insert("embedder".into(), embedder.fingerprint().into());
    Ok(outcome)
}

/// Cosine similarity; `None` when either vector is zero.
fn cosine(a: &[f32], b: &[f32]) -> Option<f32> {
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    (na > 0.0 && nb > 0.0).then(|| dot / (na.sqrt() * nb.sqrt()))
}

/// The `p`th percentile (0..=100) of sorted values, linearly interpolated.
fn percentile_of(sorted: &[f32], p: f64) -> Option<f32> {
    let last = sorted.len().checked_sub(1)?;
    let rank = (p.clamp(0.0, 100.0) / 100.0) * last as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let frac = (rank - lo as f64) as f32;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        assert_eq!(percentile_of(&[], 95.0), None);
        assert_eq!(percentile_of(&[1.0], 95.0), Some(1.0));
        assert_eq!(percentile_of(&[0.0, 1.0], 50.0), Some(0.5));
        assert_eq!(percentile_of(&[0.0, 1.0, 2.0, 3.0, 4.0], 100.0), Some(4.0));
        assert_eq!(percentile_of(&[0.0, 1.0, 2.0, 3.0, 4.0], 0.0), Some(0.0));
    }

    #[test]
    fn cosines() {
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 0.0]), None);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]).unwrap() - 1.0).abs() < 1e-6);
    }
}
