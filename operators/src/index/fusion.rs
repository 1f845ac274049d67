//! Fusing a BM25 list and a vector list into one ranking.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// How hybrid mode combines its two lists.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Fusion {
    /// Reciprocal-rank fusion: the sum of `1 / (k + rank)` over the lists.
    Rrf {
        /// The constant k (60 in the original paper).
        k: f32,
    },
    /// `alpha * vector + (1 - alpha) * bm25`, each min-max normalised to 0..1.
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

fn normalised<Id: Eq + Hash>(list: &[(Id, f32)]) -> HashMap<&Id, f32> {
    let (low, high) = list.iter().fold(
        (f32::INFINITY, f32::NEG_INFINITY),
        |(low, high), (_, score)| (low.min(*score), high.max(*score)),
    );
    let span = high - low;
    list.iter()
        .map(|(id, score)| {
            (
                id,
                if span > 0.0 {
                    (score - low) / span
                } else {
                    1.0
                },
            )
        })
        .collect()
}

/// Fuses two ranked lists of (id, score), best first, into one, best first (equal scores in
/// id order).
pub fn fuse<Id: Clone + Eq + Hash + Ord>(
    bm25: &[(Id, f32)],
    vector: &[(Id, f32)],
    fusion: Fusion,
) -> Vec<(Id, f32)> {
    let mut scores: HashMap<&Id, f32> = HashMap::new();
    match fusion {
        Fusion::Rrf { k } => {
            for list in [bm25, vector] {
                for (rank, (id, _)) in list.iter().enumerate() {
                    *scores.entry(id).or_default() += 1.0 / (k + rank as f32 + 1.0);
                }
            }
        }
        Fusion::Weighted { alpha } => {
            for (id, score) in normalised(bm25) {
                *scores.entry(id).or_default() += (1.0 - alpha) * score;
            }
            for (id, score) in normalised(vector) {
                *scores.entry(id).or_default() += alpha * score;
            }
        }
    }
    let mut fused: Vec<(Id, f32)> = scores
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
        let fused = fuse(
            &list(&["a", "b", "c"]),
            &list(&["b", "d", "a"]),
            Fusion::default(),
        );
        assert_eq!(fused[0].0, "b");
        assert!((fused[0].1 - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-6);
        assert_eq!(fused.len(), 4);
    }

    #[test]
    fn weighted_follows_alpha() {
        let bm25 = list(&["a", "b"]);
        let vector = list(&["b", "a"]);
        assert_eq!(
            fuse(&bm25, &vector, Fusion::Weighted { alpha: 0.9 })[0].0,
            "b"
        );
        assert_eq!(
            fuse(&bm25, &vector, Fusion::Weighted { alpha: 0.1 })[0].0,
            "a"
        );
    }
}
