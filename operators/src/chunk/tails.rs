//! No tiny tail after a cut inside a sentence.
//!
//! When no break better than a word start fits, a chunk ends inside a sentence, and the next
//! chunk may end at that sentence's end: with only a few words ("in place.") when the sentence
//! after does not fit with them. This happens most after a heading, which keeps its first
//! content however long its first sentence is. Such a cut moves back by whole words until the
//! next chunk gets at least [`TAIL_CHARS`] chars, or as far as it can while the chunk keeps as
//! many (chunks under twice that are left as they are).

use super::breaks::Breaks;
use super::recursive::{skip_whitespace, trim};
use super::sizer::Sizer;

/// Chars below which the text a cut leaves for the next chunk counts as a tiny tail.
pub(super) const TAIL_CHARS: usize = 24;

/// The chunk being cut: new content from `bound` (its text from `start`), region end `n`.
pub(super) struct Cut {
    pub start: usize,
    pub bound: usize,
    pub n: usize,
    pub size: usize,
}

/// Where a chunk cut at the word start `end` should end instead: `end`, or an earlier word
/// start that leaves the next chunk no tiny tail.
pub(super) fn word_cut(
    text: &str,
    breaks: &mut Breaks<'_>,
    sizer: &dyn Sizer,
    cut: &Cut,
    end: usize,
) -> usize {
    let chars = |from: usize, to: usize| {
        let [s, e] = trim(text, from, to);
        text.get(s..e).map_or(0, |t| t.chars().count())
    };
    let next = skip_whitespace(text, end, cut.n);
    if next >= cut.n {
        return end;
    }
    // Where the next chunk would end (its new content only, without overlap).
    let max_end = sizer.fit(text, next, cut.size).min(cut.n);
    let next_end = if max_end >= cut.n {
        cut.n
    } else {
        let up_to = skip_whitespace(text, max_end, cut.n);
        breaks.best(next, up_to).unwrap_or(max_end)
    };
    let least = TAIL_CHARS;
    // Small chunks are all tails: only a chunk of twice as much gives some away.
    if chars(cut.start, end) < 2 * least || chars(end, next_end) >= least {
        return end;
    }
    // Back by whole words: the next chunk then still ends at `next_end` or later. When the
    // chunk cannot give enough and keep enough, it gives what it can.
    let mut at = end;
    while let Some(word) = breaks.word_before(cut.bound, at) {
        if chars(cut.start, word) < least {
            break;
        }
        at = word;
        if chars(word, next_end) >= least {
            break;
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::super::tests::parsed;
    use super::super::{Chunker, Settings, Strategy};
    use super::TAIL_CHARS;

    fn texts(md: &str, size: usize) -> Vec<String> {
        Chunker::new(Strategy::Recursive, Settings::chars(size), None, "fp")
            .unwrap()
            .chunk(&parsed("t.md", md))
            .unwrap()
            .chunks
            .into_iter()
            .map(|c| c.text)
            .collect()
    }

    #[test]
    fn a_heading_is_not_cut_from_a_tiny_tail_of_its_first_sentence() {
        let md = "## Sorting\n\nLists have a sort method that changes the list in place. \
                  The sorted function builds a new list from any iterable.\n";
        // Was "## Sorting\n\nLists have a sort method that changes the list", "in place.".
        assert_eq!(
            texts(md, 60),
            [
                "## Sorting\n\nLists have a sort method that",
                "changes the list in place.",
                "The sorted function builds a new list from any iterable."
            ]
            .map(String::from)
        );
        // With room for the first sentence, the heading keeps it whole.
        assert_eq!(
            texts(md, 70)[0],
            "## Sorting\n\nLists have a sort method that changes the list in place."
        );
    }

    /// A chunk that cannot give the tail enough while keeping enough gives what it can.
    #[test]
    fn a_tail_gets_what_the_chunk_can_give() {
        let md = "### Note\n\nApplications that wanted precise values have historically had to \
                  set extra\\_float\\_digits to 3 to obtain them. For maximum compatibility between \
                  versions, they should continue to do so.\n";
        let texts = texts(md, 60);
        assert!(
            texts.iter().all(|t| t.len() >= 10),
            "a tiny tail is left: {texts:?}"
        );
        assert!(
            texts.iter().any(|t| t.ends_with("to obtain them.")),
            "{texts:?}"
        );
    }

    #[test]
    fn small_chunks_and_sentence_ends_are_left_alone() {
        // Under twice the tail, every chunk is a tail: the greedy cut stands.
        assert_eq!(
            texts("## Sorting\n\nLists have a sort method here.", 30),
            ["## Sorting\n\nLists have a sort", "method here."].map(String::from)
        );
        // A cut at a sentence end or before a heading is kept however short the next chunk.
        let md = "One sentence that is long enough to fill a chunk. Short one.\n\n## Next\n\n\
                  Text that goes on for a while, long enough.";
        assert_eq!(
            texts(md, 2 * TAIL_CHARS + 10)[..2],
            [
                "One sentence that is long enough to fill a chunk.",
                "Short one."
            ]
            .map(String::from)
        );
    }
}
