//! The queries of `engine compare` that a branch's search can match nothing for (BM25 searches
//! no word of them, or their embedding is all zeros), said as warnings: they score as if the
//! system had failed them, where `engine query` says why for each.

use std::collections::BTreeMap;

use operators::index::Mode;

use crate::compare::mode_name;
use crate::query::unsearchable_note;

/// Query ids shown at most in one warning.
const SHOWN: usize = 5;

/// The queries each branch and mode can search only in part or not at all, by what the note
/// says.
#[derive(Debug, Default)]
pub struct UnsearchableQueries {
    /// (mode, note) → branch → query ids, in the order the queries came.
    found: BTreeMap<(&'static str, String), BTreeMap<String, Vec<String>>>,
}

impl UnsearchableQueries {
    /// Records query `id` of `branch` when a `mode` search of it cannot match in full
    /// (`no_terms`: BM25 searches no word of it; `no_direction`: its embedding is all zeros).
    pub fn add(&mut self, branch: &str, mode: Mode, id: &str, no_terms: bool, no_direction: bool) {
        if let Some(note) = unsearchable_note(mode, no_terms, no_direction) {
            (self.found.entry((mode_name(mode), note)).or_default())
                .entry(branch.to_owned())
                .or_default()
                .push(id.to_owned());
        }
    }

    /// One warning per mode and note, naming the branches it holds for (together when the
    /// same queries), how many of the `total` queries and a few of their ids.
    pub fn warnings(&self, total: usize) -> Vec<String> {
        let mut warnings = Vec::new();
        for ((mode, note), branches) in &self.found {
            let mut by_queries: BTreeMap<&[String], Vec<&str>> = BTreeMap::new();
            for (branch, ids) in branches {
                by_queries.entry(ids).or_default().push(branch);
            }
            for (ids, branches) in by_queries {
                let branches: Vec<String> = branches.iter().map(|b| format!("`{b}`")).collect();
                let shown: Vec<String> =
                    ids.iter().take(SHOWN).map(|id| format!("`{id}`")).collect();
                let more = if ids.len() > SHOWN { ", …" } else { "" };
                warnings.push(format!(
                    "{} · {mode}: for {} of the {total} queries ({}{more}), {note}",
                    branches.join(", "),
                    ids.len(),
                    shown.join(", "),
                ));
            }
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_named_per_mode_and_branches_with_the_same_ones_together() {
        let mut found = UnsearchableQueries::default();
        for branch in ["index_a", "index_b"] {
            for mode in [Mode::Bm25, Mode::Vector, Mode::Hybrid] {
                found.add(branch, mode, "q1", false, false);
                found.add(branch, mode, "q2", true, false);
                found.add(branch, mode, "q3", true, true);
            }
        }
        for id in 0..7 {
            found.add("index_a", Mode::Vector, &format!("z{id}"), false, true);
        }
        let warnings = found.warnings(10);
        let of = |start: &str| -> Vec<&String> {
            (warnings.iter())
                .filter(|warning| warning.starts_with(start))
                .collect()
        };
        let bm25 = of(
            "`index_a`, `index_b` · bm25: for 2 of the 10 queries (`q2`, `q3`), no word of the query is searched by BM25",
        );
        assert_eq!(bm25.len(), 1, "{warnings:#?}");
        assert!(bm25[0].ends_with("nothing can match"), "{warnings:#?}");
        let hybrid = of("`index_a`, `index_b` · hybrid: for 1 of the 10 queries (`q2`)");
        assert!(
            hybrid[0].ends_with("the vector search's alone"),
            "{warnings:#?}"
        );
        assert_eq!(
            of("`index_a`, `index_b` · hybrid: for 1 of the 10 queries (`q3`)").len(),
            1,
            "{warnings:#?}"
        );
        let vector = of(
            "`index_a` · vector: for 8 of the 10 queries (`q3`, `z0`, `z1`, `z2`, `z3`, …), the query's embedding is all zeros",
        );
        assert_eq!(vector.len(), 1, "{warnings:#?}");
        assert_eq!(
            of("`index_b` · vector: for 1 of the 10 queries (`q3`)").len(),
            1,
            "{warnings:#?}"
        );
        assert!(!warnings.iter().any(|warning| warning.contains("`q1`")));
        assert_eq!(warnings.len(), 5, "{warnings:#?}");
    }
}
