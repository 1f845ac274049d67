//! Notes on what a query's filters cannot do: a key that is neither a field of a hit nor a
//! metadata key of any chunk (a mistyped key: the filter passes nothing), and metadata no
//! filter reaches (a key holding `=`, where a filter's key ends; `doc_id` or `chunk_id`, which
//! filter the hit's own).

use std::collections::BTreeSet;

use operators::index::{FILTER_FIELDS, OWN_FIELDS};

/// Keys named at most in a note.
const KEYS_SHOWN: usize = 30;

/// The notes on `filters` (`key`, `value`) for an index whose chunks have `metadata_keys`.
pub fn filter_notes(metadata_keys: &BTreeSet<String>, filters: &[(String, String)]) -> Vec<String> {
    let mut keys: Vec<&str> = Vec::new();
    for (key, _) in filters {
        if !keys.contains(&key.as_str()) {
            keys.push(key);
        }
    }
    let mut notes: Vec<String> = unknown_keys(metadata_keys, &keys).into_iter().collect();
    for key in keys {
        if OWN_FIELDS.contains(&key) && metadata_keys.contains(key) {
            notes.push(format!(
                "`{key}` filters each hit's own {key}: the metadata key `{key}` some documents carry cannot be filtered"
            ));
        }
    }
    notes
}

/// A note naming `keys` that are neither a field nor one of `metadata_keys` (a filter on them
/// passes nothing), and the keys there are: the fields, then the metadata keys a filter can
/// reach, then those holding `=`, which none can.
fn unknown_keys(metadata_keys: &BTreeSet<String>, keys: &[&str]) -> Option<String> {
    let unknown: Vec<String> = (keys.iter())
        .filter(|key| !FILTER_FIELDS.contains(key) && !metadata_keys.contains(**key))
        .map(|key| format!("`{key}`"))
        .collect();
    if unknown.is_empty() {
        return None;
    }
    // Metadata named as a field is listed with the fields (or cannot be filtered).
    let other = || (metadata_keys.iter()).filter(|key| !FILTER_FIELDS.contains(&key.as_str()));
    let reachable: Vec<&str> = (other())
        .filter(|key| !key.contains('='))
        .map(String::as_str)
        .collect();
    let with_equals: Vec<String> = (other())
        .filter(|key| key.contains('='))
        .map(|key| format!("`{key}`"))
        .collect();
    let metadata = match (metadata_keys.is_empty(), reachable.is_empty()) {
        (true, _) => ", and no chunk has metadata".to_owned(),
        (false, true) => String::new(),
        (false, false) => format!(", and the metadata keys {}", some_keys(&reachable)),
    };
    let mut note = format!(
        "no chunk in the index has {}, so a filter on {} passes nothing; the fields are {}{metadata}",
        some_keys(&unknown),
        if unknown.len() == 1 { "it" } else { "them" },
        FILTER_FIELDS.join(", "),
    );
    if !with_equals.is_empty() {
        note.push_str(&format!(
            " (the metadata keys {} hold `=`, where a filter's key ends: no filter reaches them)",
            some_keys(&with_equals)
        ));
    }
    Some(note)
}

/// `keys` joined with ", ", the first [`KEYS_SHOWN`] of them, and how many more.
fn some_keys(keys: &[impl AsRef<str>]) -> String {
    let shown: Vec<&str> = keys.iter().take(KEYS_SHOWN).map(AsRef::as_ref).collect();
    let mut text = shown.join(", ");
    if keys.len() > KEYS_SHOWN {
        text.push_str(&format!(" and {} more", keys.len() - KEYS_SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(metadata: &[&str], filters: &[&str]) -> Vec<String> {
        let metadata: BTreeSet<String> = metadata.iter().map(|key| (*key).to_owned()).collect();
        let filters: Vec<(String, String)> = (filters.iter())
            .map(|key| ((*key).to_owned(), "x".to_owned()))
            .collect();
        filter_notes(&metadata, &filters)
    }

    #[test]
    fn a_key_no_chunk_has_is_named_with_the_keys_a_filter_can_reach() {
        let metadata = ["chunk_id", "k=v", "lang", "page", "tags"];
        assert!(notes(&metadata, &["lang", "page", "title"]).is_empty());
        let [note] = &notes(&metadata, &["k", "lang", "k"])[..] else {
            panic!("{:?}", notes(&metadata, &["k"]));
        };
        assert_eq!(
            note,
            "no chunk in the index has `k`, so a filter on it passes nothing; the fields are doc_id, chunk_id, source, page, title, section, and the metadata keys lang, tags (the metadata keys `k=v` hold `=`, where a filter's key ends: no filter reaches them)"
        );
        assert!(notes(&[], &["colour"])[0].ends_with("section, and no chunk has metadata"));
        assert!(notes(&["page"], &["colour"])[0].ends_with("title, section"));
    }

    #[test]
    fn a_filter_on_the_hits_own_id_says_metadata_of_that_name_is_not_reached() {
        assert_eq!(
            notes(&["doc_id", "lang"], &["doc_id", "doc_id"]),
            [
                "`doc_id` filters each hit's own doc_id: the metadata key `doc_id` some documents carry cannot be filtered"
            ]
        );
        assert!(notes(&["lang"], &["doc_id", "chunk_id"]).is_empty());
    }
}
