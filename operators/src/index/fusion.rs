//! Fusing a BM25 list and a vector list into one ranking.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// How hybrid mode combines its two lists.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Fusion {
    /// Reciprocal-rank fusion: the sum of `1 / (k + rank)` over the lists; BM25 hits far ahead
    /// of the rest ([`DOMINANT_BM25_RATIO`]) count as first in the vector list too.
    Rrf {
        /// The constant k (60 in the original paper).
        k: f32,
    },
    /// `alpha * vector + (1 - alpha) * bm25`, each min-max normalised into (0, 1] from the best
    /// score a chunk absent from the list can have (0 for BM25; for vectors, the similarity just
    /// past the list): a chunk absent from a list scores 0 in it, one in it above 0.
    Weighted {
        /// Weight of the vector score.
        alpha: f32,
    },
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Rrf { k: 60.0 }
    }
}

/// How many times the next BM25 score the last of a group of first hits must be for RRF to
/// rank the group first whatever the vector list says: the query names something those chunks
/// alone have (an identifier, a rare name), which ranks would hide (first by BM25 and absent
/// from the vector list, a chunk scores as one ranked 62nd in both). Measured on the 255
/// Cranfield and Medline queries, the n-th BM25 score is at most 2.15 times the next for n = 1
/// and 1.9 for n = 2 to 5, and the first of the 26 queries whose first leads by 1.5 times or
/// more is relevant for 3: below 3 a lead is a rare word's, not an answer's.
pub const DOMINANT_BM25_RATIO: f32 = 3.0;

/// The most first BM25 hits taken as a group far ahead of the rest: an identifier is in two
/// chunks when it falls in their overlap, and in a few when a document is copied.
pub const DOMINANT_GROUP_MAX: usize = 5;

/// The first BM25 hits that lead the rest: the fewest first n (at most
/// [`DOMINANT_GROUP_MAX`]) whose last scores [`DOMINANT_BM25_RATIO`] times the next or more,
/// or the only chunk that matches. Empty when no group leads. A few chunks that alone match
/// lead nothing: in a small corpus that is any query's few matches, not an identifier's.
fn dominant<Id>(list: &[(Id, f32)]) -> &[(Id, f32)] {
    // No match at all leads nothing; the only match leads.
    if list.len() <= 1 {
        return list;
    }
    (1..=DOMINANT_GROUP_MAX.min(list.len() - 1))
        .find(|&n| list[n - 1].1 >= DOMINANT_BM25_RATIO * list[n].1)
        .map_or(&[], |n| &list[..n])
}

/// The vector list's ids in rank order with `first` (their vector order, then those it lacks)
/// moved ahead of the rest. `first` is a few chunks at most ([`DOMINANT_GROUP_MAX`]).
fn with_first<'a, Id: Eq>(list: &'a [(Id, f32)], first: &'a [(Id, f32)]) -> Vec<&'a Id> {
    let in_first = |id: &Id| first.iter().any(|(chunk, _)| chunk == id);
    let (mut front, rest): (Vec<&Id>, Vec<&Id>) =
        list.iter().map(|(id, _)| id).partition(|id| in_first(id));
    let unlisted: Vec<&Id> = (first.iter().map(|(id, _)| id))
        .filter(|id| !front.contains(id))
        .collect();
    front.extend(unlisted);
    front.extend(rest);
    front
}

/// The least normalised score of a chunk in a list: above the 0 of every chunk absent from it.
const LEAST_PRESENT: f32 = 1e-6;

/// A ranked list (id, score), best first, and the best score a chunk absent from it can have.
#[derive(Debug, Clone, Copy)]
pub struct Ranked<'a, Id> {
    /// The list, best first.
    pub list: &'a [(Id, f32)],
    /// The best score of a chunk not in the list: the score just past it when the list was cut,
    /// 0 for BM25 (a chunk that does not match). `None`: the list holds every chunk there is,
    /// and its own minimum is the floor.
    pub floor: Option<f32>,
}

impl<'a, Id> Ranked<'a, Id> {
    /// A list with a floor.
    pub fn new(list: &'a [(Id, f32)], floor: Option<f32>) -> Self {
        Ranked { list, floor }
    }
}

/// Scores min-max normalised between the list's floor (or its minimum, when lower) and its
/// best: a chunk in the list gets at least [`LEAST_PRESENT`], so it never ties with one absent
/// from it (0).
fn normalised<Id: Eq + Hash>(ranked: Ranked<'_, Id>) -> HashMap<&Id, f32> {
    let (low, high) = ranked.list.iter().fold(
        (f32::INFINITY, f32::NEG_INFINITY),
        |(low, high), (_, score)| (low.min(*score), high.max(*score)),
    );
    let low = ranked.floor.map_or(low, |floor| floor.min(low));
    let span = high - low;
    ranked
        .list
        .iter()
        .map(|(id, score)| {
            let normalised = if span > 0.0 {
                ((score - low) / span).clamp(LEAST_PRESENT, 1.0)
            } else {
                1.0
            };
            (id, normalised)
        })
        .collect()
}

/// Fuses two ranked lists of (id, score), best first, into one, best first (equal scores in
/// id order). Fused scores are summed in double precision: with a large RRF `k`, sums of
/// different ranks differ past what single precision holds (1/(k+5) + 1/(k+8) and
/// 1/(k+6) + 1/(k+7) are one `f32` at k = 1,000,000).
pub fn fuse<Id: Clone + Eq + Hash + Ord>(
    bm25: Ranked<'_, Id>,
    vector: Ranked<'_, Id>,
    fusion: Fusion,
) -> Vec<(Id, f64)> {
    let mut scores: HashMap<&Id, f64> = HashMap::new();
    match fusion {
        Fusion::Rrf { k } => {
            // A dominant group is first in BM25's list already, and taken as first in the
            // vector list too: n chunks ranked 1 to n in both score at least 2 / (k + n), above
            // any other's most, 2 / (k + n + 1).
            let vector_ranks = with_first(vector.list, dominant(bm25.list));
            let bm25_ranks = bm25.list.iter().map(|(id, _)| id).collect();
            for list in [bm25_ranks, vector_ranks] {
                for (rank, id) in list.into_iter().enumerate() {
                    *scores.entry(id).or_default() += 1.0 / (f64::from(k) + rank as f64 + 1.0);
                }
            }
        }
        Fusion::Weighted { alpha } => {
            let alpha = f64::from(alpha);
            for (id, score) in normalised(bm25) {
                *scores.entry(id).or_default() += (1.0 - alpha) * f64::from(score);
            }
            for (id, score) in normalised(vector) {
                *scores.entry(id).or_default() += alpha * f64::from(score);
            }
        }
    }
    let mut fused: Vec<(Id, f64)> = scores
        .into_iter()
        .map(|(id, score)| (id.clone(), score))
        .collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(ids: &[&str]) -> Vec<(String, f32)> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| ((*id).to_owned(), 10.0 - i as f32))
            .collect()
    }

    #[test]
    fn rrf_rewards_agreement() {
        let (bm25, vector) = (list(&["a", "b", "c"]), list(&["b", "d", "a"]));
        let fused = fuse(
            Ranked::new(&bm25, Some(0.0)),
            Ranked::new(&vector, None),
            Fusion::default(),
        );
        assert_eq!(fused[0].0, "b");
        assert!((fused[0].1 - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-6);
        assert_eq!(fused.len(), 4);
    }

    /// A chunk BM25 ranks first far ahead of the next (a query naming an identifier only it
    /// holds) is first, scored as first in both lists, though the vector list ranks it low;
    /// a lead of less than [`DOMINANT_BM25_RATIO`] is fused as ranks are.
    #[test]
    fn a_dominant_bm25_hit_is_first_whatever_the_vector_list_says() {
        let vector = list(&["b", "c", "d", "e", "f", "g", "h", "i", "j", "a"]);
        let fused_with = |lead: f32| {
            let bm25 = vec![
                ("a".to_owned(), lead),
                ("b".to_owned(), 1.0),
                ("c".to_owned(), 0.9),
            ];
            fuse(
                Ranked::new(&bm25, Some(0.0)),
                Ranked::new(&vector, None),
                Fusion::default(),
            )
        };
        let dominant = fused_with(DOMINANT_BM25_RATIO);
        assert_eq!(dominant[0].0, "a", "{dominant:?}");
        assert!((dominant[0].1 - 2.0 / 61.0).abs() < 1e-9);
        assert_eq!(dominant[1].0, "b");
        let close = fused_with(DOMINANT_BM25_RATIO * 0.99);
        assert_eq!(close[0].0, "b", "{close:?}");
        assert_eq!(close[1].0, "c");
        // The only chunk that matches leads by as much as can be.
        let only = vec![("z".to_owned(), 0.5)];
        let fused = fuse(
            Ranked::new(&only, Some(0.0)),
            Ranked::new(&vector, None),
            Fusion::default(),
        );
        assert_eq!(fused[0].0, "z");
    }

    /// Two chunks holding the identifier (it fell in their overlap, or the page was copied) tie
    /// at BM25's first place, far ahead of the rest: both go first, though the vector list
    /// ranks them last. A group past [`DOMINANT_GROUP_MAX`] is fused by ranks, and so are two
    /// chunks that alone match.
    #[test]
    fn a_group_of_bm25_hits_far_ahead_of_the_rest_is_first() {
        let rest = ["b", "c", "d", "e", "f", "g", "h", "i", "j", "k"];
        let fused_with = |group: &[&str], lead: f32| {
            let mut bm25: Vec<(String, f32)> =
                group.iter().map(|id| (id.to_string(), lead)).collect();
            bm25.extend([("b".to_owned(), 1.0), ("c".to_owned(), 0.9)]);
            let vector = list(&[&rest[..], group].concat());
            let fused = fuse(
                Ranked::new(&bm25, Some(0.0)),
                Ranked::new(&vector, None),
                Fusion::default(),
            );
            fused.into_iter().map(|(id, _)| id).collect::<Vec<_>>()
        };
        let two = fused_with(&["x", "y"], 5.0);
        assert_eq!(two[..3], ["x", "y", "b"], "{two:?}");
        // The fewest that lead: `y` at 2.5 times `b` does not lead, so `x` alone is first.
        let bm25 = vec![
            ("x".to_owned(), 10.0),
            ("y".to_owned(), 2.5),
            ("b".to_owned(), 1.0),
        ];
        let vector = list(&["b", "c", "d", "e", "f", "x", "y"]);
        let fused = fuse(
            Ranked::new(&bm25, Some(0.0)),
            Ranked::new(&vector, None),
            Fusion::default(),
        );
        let ids: Vec<&str> = fused.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids[..2], ["x", "b"], "{fused:?}");
        let max: Vec<String> = (0..DOMINANT_GROUP_MAX).map(|n| format!("x{n}")).collect();
        let max: Vec<&str> = max.iter().map(String::as_str).collect();
        let fused = fused_with(&max, 5.0);
        assert!(
            fused[..DOMINANT_GROUP_MAX]
                .iter()
                .all(|id| id.starts_with('x'))
        );
        let past: Vec<String> = (0..=DOMINANT_GROUP_MAX).map(|n| format!("x{n}")).collect();
        let past: Vec<&str> = past.iter().map(String::as_str).collect();
        assert_eq!(fused_with(&past, 5.0)[0], "b");
        // Only two chunks match at all: fused by ranks (`w`, absent from the vector list, is
        // below the vector list's first).
        let only = vec![("z".to_owned(), 0.5), ("w".to_owned(), 0.4)];
        let vector = list(&["b", "z"]);
        let fused = fuse(
            Ranked::new(&only, Some(0.0)),
            Ranked::new(&vector, None),
            Fusion::default(),
        );
        let ids: Vec<&str> = fused.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["z", "b", "w"]);
        // No BM25 match (a query of stop words): the vector list alone.
        let fused = fuse(
            Ranked::new(&[], Some(0.0)),
            Ranked::new(&vector, None),
            Fusion::default(),
        );
        let ids: Vec<&str> = fused.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["b", "z"]);
    }

    /// At a large `k`, fused sums that single precision cannot tell apart still rank by their
    /// value, not by id: 1/(k+5) + 1/(k+8) is above 1/(k+6) + 1/(k+7).
    #[test]
    fn rrf_at_a_large_k_ranks_by_the_exact_sums() {
        let bm25 = list(&["a", "b", "c", "d", "y", "x", "e", "f"]);
        let vector = list(&["g", "h", "i", "j", "k", "l", "x", "y"]);
        let k = 1_000_000.0_f32;
        // As single precision summed them: one value for both.
        let single = |index: f32| 1.0 / (k + index + 1.0);
        assert_eq!(
            0.0 + single(4.0) + single(7.0),
            0.0 + single(5.0) + single(6.0)
        );
        let fused = fuse(
            Ranked::new(&bm25, Some(0.0)),
            Ranked::new(&vector, None),
            Fusion::Rrf { k },
        );
        let rank = |id: &str| fused.iter().position(|(fused, _)| fused == id).unwrap();
        assert!(rank("y") < rank("x"), "{fused:?}");
    }

    #[test]
    fn weighted_follows_alpha() {
        let bm25 = list(&["a", "b"]);
        let vector = list(&["b", "a"]);
        let weighted = |alpha| {
            fuse(
                Ranked::new(&bm25, Some(0.0)),
                Ranked::new(&vector, Some(8.0)),
                Fusion::Weighted { alpha },
            )
        };
        assert_eq!(weighted(0.9)[0].0, "b");
        assert_eq!(weighted(0.1)[0].0, "a");
    }

    /// The weakest match of a list still scores above every chunk absent from it: with alpha 0
    /// the fused order is the BM25 order, then the rest.
    #[test]
    fn the_weakest_match_never_ties_with_a_chunk_absent_from_the_list() {
        let bm25 = vec![("a".to_owned(), 9.0), ("b".to_owned(), 5.2)];
        let vector = vec![
            ("c".to_owned(), 0.9),
            ("d".to_owned(), 0.8),
            ("b".to_owned(), 0.7),
            ("a".to_owned(), 0.6),
        ];
        let fused = fuse(
            Ranked::new(&bm25, Some(0.0)),
            Ranked::new(&vector, Some(0.5)),
            Fusion::Weighted { alpha: 0.0 },
        );
        let ids: Vec<&str> = fused.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids[..2], ["a", "b"]);
        assert!(fused[1].1 > 0.0, "{fused:?}");
        assert_eq!((fused[2].1, fused[3].1), (0.0, 0.0));
        // alpha 1: the vector order, the last of the list above the floor just past it.
        let fused = fuse(
            Ranked::new(&bm25, Some(0.0)),
            Ranked::new(&vector, Some(0.5)),
            Fusion::Weighted { alpha: 1.0 },
        );
        let ids: Vec<&str> = fused.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["c", "d", "b", "a"]);
        assert!(fused[3].1 > 0.0);
        // A chunk at the floor itself (a tie at the cut) is still above the absent ones.
        let tied = vec![("a".to_owned(), 0.9), ("b".to_owned(), 0.5)];
        let fused = fuse(
            Ranked::new(&[], Some(0.0)),
            Ranked::new(&tied, Some(0.5)),
            Fusion::Weighted { alpha: 1.0 },
        );
        assert!(fused[1].1 > 0.0);
    }

    #[test]
    fn a_list_holding_everything_normalises_from_its_own_minimum() {
        let vector = vec![("a".to_owned(), 0.9), ("b".to_owned(), 0.5)];
        let fused = fuse(
            Ranked::new(&[], Some(0.0)),
            Ranked::new(&vector, None),
            Fusion::Weighted { alpha: 1.0 },
        );
        assert_eq!(fused[0].1, 1.0);
        assert!(fused[1].1 > 0.0 && fused[1].1 < 0.001);
    }
}
