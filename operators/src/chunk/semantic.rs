//! Semantic chunking: split where adjacent sentences stop resembling each other.
//!
//! The document's text (tables aside, with `tables: own_chunk`) is cut into sentences
//! (`softbreak`): Unicode sentence boundaries, and line breaks except those that only wrap a
//! paragraph, list item or quote; a code block is one sentence, fences and all. Every sentence
//! is embedded; the distance between neighbours is `1 - cosine`. Where a distance is above the
//! configured percentile of all the document's distances, a group of sentences ends (never
//! between a heading and its section's first content, nor inside a sentence). Each group is one chunk when it fits in
//! `size`, and is split by the recursive splitter otherwise, so `size` stays a maximum.
//! Sentences without words (a rule) embed to the zero vector: no breakpoint is placed next to
//! them.

use super::ChunkError;
use super::annotate::ElementIndex;
use super::debug;
use super::headings;
use super::sizer::{Sizer, WordSizer};
use super::softbreak;
use super::strategy::{Outcome, Segment, Work};
use crate::embed::Embedder;
use crate::embed::cache::CacheKey;

/// Sentences embedded per call to the provider.
const BATCH: usize = 256;

/// The entry of a document's chunk debug that lists the cache keys (hex) of its sentence
/// embedding calls.
pub const SENTENCE_CALLS: &str = "sentence_calls";

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
    // The cache key of each call, recorded with the chunks: `engine gc` keeps the sentence
    // vectors of the chunkings it keeps, which another percentile or size chunks again from.
    let scope = embedder.cache_scope();
    let mut calls = Vec::new();
    for batch in sentences.chunks(BATCH) {
        let texts: Vec<&str> = batch.iter().map(|(_, [s, e])| &text[*s..*e]).collect();
        vectors.extend(embedder.embed_documents(&texts)?);
        let key = CacheKey::of_call(&scope, &texts);
        calls.push(serde_json::Value::from(
            blake3::Hash::from(*key.as_bytes()).to_hex().as_str(),
        ));
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
    // Nor after a sentence that announces what follows ("For example:"), nor inside a
    // sentence (before a run of numbers without letters in a line, which is a segment of its
    // own).
    let breakpoints: Vec<bool> = distances
        .iter()
        .zip(sentences.windows(2))
        .map(|(d, pair)| {
            let ([s, e], [next, _]) = (pair[0].1, pair[1].1);
            matches!((d, threshold), (Some(d), Some(t)) if *d > t)
                && headings::holding(&work.glued, next).is_none()
                && !text[s..e].trim_end().ends_with(':')
                && !debug::ends_mid_sentence(text, &elements, e)
        })
        .collect();
    let span = |first: usize, last: usize| &text[sentences[first].1[0]..sentences[last].1[1]];
    let breakpoints = join_small_groups(
        &sentences,
        breakpoints,
        &distances,
        |first, last| WordSizer.size(span(first, last)) < FEWEST_WORDS,
        |first, last| work.sizer.fits(span(first, last), work.settings.size),
    );

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
    outcome
        .extra
        .insert(SENTENCE_CALLS.into(), serde_json::Value::Array(calls));
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

/// A group of fewer words than this ("Oh no!", "NaN") joins a neighbour.
const FEWEST_WORDS: usize = 4;

/// `breakpoints` (after each sentence but the last) without those that leave a `small` group
/// of sentences (of one segment: `sentences[i].0`; `small(first, last)`): such a group joins
/// the neighbour it is nearer to (`distances`), when the two `fit` together.
fn join_small_groups(
    sentences: &[(usize, [usize; 2])],
    mut breakpoints: Vec<bool>,
    distances: &[Option<f32>],
    small: impl Fn(usize, usize) -> bool,
    fit: impl Fn(usize, usize) -> bool,
) -> Vec<bool> {
    let ends = |breakpoints: &[bool], i: usize| {
        breakpoints.get(i).copied().unwrap_or(true)
            || sentences.get(i + 1).is_none_or(|n| n.0 != sentences[i].0)
    };
    let mut first = 0;
    while first < sentences.len() {
        let mut last = first;
        while !ends(&breakpoints, last) {
            last += 1;
        }
        if !small(first, last) {
            first = last + 1;
            continue;
        }
        // The neighbours in the segment: the group before (its start) and the one after.
        let segment = sentences[first].0;
        let before = (first > 0 && sentences[first - 1].0 == segment).then(|| {
            let mut start = first - 1;
            while start > 0 && !ends(&breakpoints, start - 1) {
                start -= 1;
            }
            start
        });
        let after = (sentences.get(last + 1).is_some_and(|n| n.0 == segment)).then(|| {
            let mut end = last + 1;
            while !ends(&breakpoints, end) {
                end += 1;
            }
            end
        });
        let nearness = |at: usize| {
            distances
                .get(at)
                .copied()
                .flatten()
                .unwrap_or(f32::INFINITY)
        };
        let fits_before = before.filter(|&start| fit(start, last));
        let fits_after = after.filter(|&end| fit(first, end));
        match (fits_before, fits_after) {
            (Some(_), Some(_)) if nearness(last) < nearness(first - 1) => breakpoints[last] = false,
            (Some(start), _) => {
                breakpoints[first - 1] = false;
                first = start;
                continue;
            }
            (None, Some(_)) => breakpoints[last] = false,
            (None, None) => first = last + 1,
        }
    }
    breakpoints
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

    /// A small group ("Oh no!" between two long ones) joins the neighbour it is nearer to, when
    /// the two fit; groups of another segment are never joined.
    #[test]
    fn small_groups_join_their_nearer_neighbour() {
        // Sentences of 10 units each but the third (1 unit); all in segment 0 but the last.
        let sentences: Vec<(usize, [usize; 2])> = vec![
            (0, [0, 10]),
            (0, [10, 20]),
            (0, [20, 21]),
            (0, [21, 31]),
            (1, [40, 41]),
        ];
        let size_of = |first: usize, last: usize| sentences[last].1[1] - sentences[first].1[0];
        let small = |first, last| size_of(first, last) < 5;
        let breakpoints = vec![false, true, true, true];
        // Nearer to what follows (0.2 against 0.5).
        let distances = vec![Some(0.1), Some(0.5), Some(0.2), None];
        let fit = |first, last| size_of(first, last) <= 100;
        let joined = join_small_groups(&sentences, breakpoints.clone(), &distances, small, fit);
        assert_eq!(joined, vec![false, true, false, true]);
        // Nearer to what comes before.
        let distances = vec![Some(0.1), Some(0.2), Some(0.5), None];
        let joined = join_small_groups(&sentences, breakpoints.clone(), &distances, small, fit);
        assert_eq!(joined, vec![false, false, true, true]);
        // Neither fits with it: it stays.
        let tight = |first, last| size_of(first, last) <= 10;
        let joined = join_small_groups(&sentences, breakpoints.clone(), &distances, small, tight);
        assert_eq!(joined, breakpoints);
    }

    #[test]
    fn cosines() {
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 0.0]), None);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]).unwrap() - 1.0).abs() < 1e-6);
    }
}
