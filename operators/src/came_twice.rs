//! One document id offered twice in one run with different content (two sources giving the same
//! id): what an output keeps of the two, and what it says. The index and `sink.jsonl` decide
//! alike, so they keep the same version whatever order the two arrive in.

/// What an output does with a document offered again in the same run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondOffer {
    /// The same content again: nothing to do.
    Same,
    /// Other content, and the first offer stays (its key is the smaller).
    KeepFirst,
    /// Other content, and it takes the first offer's place (its key is the smaller).
    Replace,
}

/// What to do when a document offered under key `first` comes again under `again`: the
/// smaller key is kept, so the choice does not depend on the order of arrival. Keys that begin
/// with the document's content hash keep the same version in every output.
pub fn second_offer(first: &str, again: &str) -> SecondOffer {
    match first.cmp(again) {
        std::cmp::Ordering::Equal => SecondOffer::Same,
        std::cmp::Ordering::Less => SecondOffer::KeepFirst,
        std::cmp::Ordering::Greater => SecondOffer::Replace,
    }
}

/// The error of a document that came twice with different content, or from two sources (the
/// index keeps a hit's source: the same bytes from two files differ there); `output` names
/// what kept one of them (`the index`, `the output`).
pub fn came_twice(doc_id: &str, output: &str) -> String {
    format!(
        "document `{doc_id}` came twice in this run, with other content or from another source (two sources with the same id?); {output} keeps one of them: give each source an `id_prefix`, or the documents distinct ids"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smaller_key_is_kept_whichever_comes_first() {
        assert_eq!(second_offer("a1", "a1"), SecondOffer::Same);
        assert_eq!(second_offer("a1", "b2"), SecondOffer::KeepFirst);
        assert_eq!(second_offer("b2", "a1"), SecondOffer::Replace);
        let message = came_twice("x.md", "the index");
        assert!(message.contains("`x.md` came twice"), "{message}");
        assert!(message.contains("the index keeps one"), "{message}");
        // The same bytes from two files differ in the index by their source: no claim of
        // different content.
        assert!(message.contains("or from another source"), "{message}");
    }
}
