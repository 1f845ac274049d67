//! The greedy recursive splitter: cut each chunk at the best break that keeps it within size.
//!
//! From a chunk's start, the furthest end that fits is found; among the breaks up to there the
//! highest level wins, and the furthest break of that level is taken (none after a heading
//! while another is there, see `breaks`; a cut inside a sentence leaves no tiny tail, see
//! `tails`), but a chunk at least half full ends where a section begins in it. Chunks are trimmed of surrounding whitespace (but for a first line's indentation
//! in code). With overlap the next chunk starts at a word start inside the
//! previous chunk's tail, but its end is always chosen past the start of its new text (white
//! space, a line of code's indentation, is none), so no chunk lies inside the one before. The
//! overlap stops at the last boundary ([`Barriers`]) before the new content, and after the
//! start of the previous chunk's own new content, so no chunk is only repeated text.

use super::barriers::Barriers;
use super::breaks::{Breaks, SENTENCE, WORD};
use super::scan::before;
use super::sizer::{Sizer, is_word_char};
use super::tails::{self, Cut};
use unicode_segmentation::UnicodeSegmentation;

/// Splits `text` into trimmed, non-empty byte spans of at most `size` units (`size` ≥ 1,
/// `overlap` < `size`). `element_starts` are the strongest break positions.
#[cfg(test)]
pub(super) fn split(
    text: &str,
    element_starts: impl IntoIterator<Item = usize>,
    sizer: &dyn Sizer,
    size: usize,
    overlap: usize,
) -> Vec<[usize; 2]> {
    let mut breaks = Breaks::new(text, element_starts);
    let barriers = Barriers::default();
    split_range(
        text,
        &mut breaks,
        &barriers,
        sizer,
        [0, text.len()],
        size,
        overlap,
    )
}

/// Splits `text[range]` into trimmed, non-empty byte spans of at most `size` units, with
/// breaks from `breaks` and overlap limits from `barriers` (both made for the whole `text`).
/// Ranges of one text are best split in order (`breaks` keeps the sentence boundaries of the
/// last block it looked at).
pub(super) fn split_range(
    text: &str,
    breaks: &mut Breaks<'_>,
    barriers: &Barriers,
    sizer: &dyn Sizer,
    range: [usize; 2],
    size: usize,
    overlap: usize,
) -> Vec<[usize; 2]> {
    let size = size.max(1);
    let overlap = overlap.min(size - 1);
    let n = range[1].min(text.len());
    let mut spans = Vec::new();
    let mut start = skip_whitespace(text, range[0], n);
    // New content begins here, at its first char that is not white space: the chunk's end
    // must lie beyond it.
    let mut bound = start;
    // Where the chunk starts without overlap: at `bound`, or in code at the start of its line,
    // keeping its indentation. (Taken for the start of new content, the indentation was all a
    // chunk had of its own, and that chunk lay inside the one before.)
    let mut own = start;
    while bound < n {
        let mut max_end = sizer.fit(text, start, size).min(n);
        if max_end <= bound {
            // The overlap plus the gap before new content leaves no room: drop the overlap
            // (and the indentation, when it leaves none either).
            start = own;
            max_end = sizer.fit(text, start, size).min(n);
            if max_end <= bound {
                start = bound;
                max_end = sizer.fit(text, start, size).min(n);
            }
        }
        let (mut end, mut cut_inside) =
            chunk_end(text, breaks, sizer, [start, bound, n], size, max_end);
        if start < own && max_end < n {
            // The overlap leaves room for only a little new content (an opening fence, a list
            // item's number), or a word or a code block that fits without it is cut: the
            // overlap goes instead, when that gives the chunk more of its own.
            let little = end <= bound || sizer.size(&text[own..end]).saturating_mul(4) < size;
            let splits_code = barriers.code_around(end).is_some_and(|[from, to]| {
                from >= bound && sizer.size(&text[bound..to.min(n)]) <= size
            });
            if little || cut_inside || splits_code {
                let without = sizer.fit(text, own, size).min(n);
                let (alone, cut) = chunk_end(text, breaks, sizer, [own, bound, n], size, without);
                if alone > end {
                    (start, end, cut_inside) = (own, alone, cut);
                }
            }
        }
        if start == own && own < bound && cut_inside {
            // Nor does the indentation of a line of code cut its first word when that fits
            // without it: the indentation goes.
            let without = sizer.fit(text, bound, size).min(n);
            let (alone, cut) = chunk_end(text, breaks, sizer, [bound, bound, n], size, without);
            if !cut {
                (start, end) = (bound, alone);
            }
        }
        if end <= bound {
            // A single char or cluster larger than `size` (several tokens): indivisible.
            end = grapheme_end(text, bound);
        }
        let [s, e] = trim(text, start, end);
        let s = barriers.indented(text, s, start);
        if s < e {
            spans.push([s, e]);
        }
        if end >= n {
            break;
        }
        let fresh = bound;
        bound = skip_whitespace(text, end, n);
        own = barriers.indented(text, bound, end);
        start = match overlap {
            0 => own,
            _ => {
                // Not back to a boundary before the new content, nor to the previous chunk's
                // own new content (which would leave that chunk nothing of its own).
                let floor = barriers.floor(bound).max(next_boundary(text, fresh));
                overlap_start(text, sizer, barriers, e, floor, overlap)
                    .map(|at| clean_start(text, breaks, sizer, barriers, [at, e], overlap))
                    .unwrap_or(own)
            }
        };
    }
    spans
}

/// Where a chunk of text from `start` whose new content begins at `bound` (in a region ending
/// at `n`) ends, when it may reach `max_end`: at the best break that fits, else between two
/// grapheme clusters of the word `max_end` falls in (then `true`: it cuts inside a word).
fn chunk_end(
    text: &str,
    breaks: &mut Breaks<'_>,
    sizer: &dyn Sizer,
    [start, bound, n]: [usize; 3],
    size: usize,
    max_end: usize,
) -> (usize, bool) {
    if max_end >= n {
        return (n, false);
    }
    // Whitespace after `max_end` is trimmed off: a break past it fits too (and the "." after
    // "cells " stays with "cells" when it fits).
    let best = breaks.best_level(bound, skip_whitespace(text, max_end, n));
    // A heading's marker is no chunk of its own: a heading of one word larger than the chunk
    // (Thai, written without spaces) is cut inside that word, its marker kept with it.
    let best = best.filter(|&(at, _)| !is_heading_marker(&text[start..at]));
    // A chunk at least half full when a section begins in it ends there, rather than with the
    // section's heading and first words, which the next chunk would repeat (and a section
    // filter would find in this one).
    if let Some((at, _)) = best
        && let Some(section) = breaks.section_start(bound, at)
        && sizer.size(&text[start..section]).saturating_mul(2) >= size
    {
        return (section, false);
    }
    match best {
        Some((at, WORD)) => {
            let cut = Cut {
                start,
                bound,
                n,
                size,
            };
            (tails::word_cut(text, breaks, sizer, &cut, at), false)
        }
        Some((at, _)) => (at, false),
        // Inside a word: between two of its grapheme clusters.
        None => (grapheme_floor(text, bound, max_end), true),
    }
}

/// Whether `piece` is only an ATX heading's marker (`#` to `######`), and white space.
fn is_heading_marker(piece: &str) -> bool {
    let marker = piece.trim();
    (1..=6).contains(&marker.len()) && marker.bytes().all(|b| b == b'#')
}

/// Where the chunk after one ending at `end` starts: the earliest word start (after white
/// space, or a CJK ideograph or kana) at or after both `floor` and the position where the last
/// `overlap` units before `end` begin, not inside a heading, a link or an image, at a line's
/// start in code, and before `end`. `None` when there is no such word start.
fn overlap_start(
    text: &str,
    sizer: &dyn Sizer,
    barriers: &Barriers,
    end: usize,
    floor: usize,
    overlap: usize,
) -> Option<usize> {
    let from = barriers.outside_heading(sizer.fit_back(text, end, overlap).max(floor));
    let from = barriers.code_line_start(text, barriers.outside_link(from), end)?;
    let tail = text.get(from..end)?;
    // In code, at the start of its first line that is not blank, indentation and all.
    if barriers.code_around(from).is_some() {
        let blank = tail.len() - tail.trim_start().len();
        let line = tail[..blank].rfind('\n').map_or(0, |newline| newline + 1);
        return (blank < tail.len()).then_some(from + line);
    }
    let mut prev_ws = text
        .get(..from)
        .and_then(|head| head.chars().next_back())
        .is_none_or(char::is_whitespace);
    for (i, c) in tail.char_indices() {
        let ws = c.is_whitespace();
        // A CJK ideograph or kana is a word of its own, written without spaces.
        if !ws && (prev_ws || is_word_char(c)) {
            return Some(from + i);
        }
        prev_ws = ws;
    }
    None
}

/// Where overlap starting at `at` (up to the previous chunk's `end`) had better start: at the
/// earliest line or sentence start after it that still leaves at least half of `overlap`, so
/// that the next chunk opens with a whole list item or sentence rather than the tail of one.
/// Code keeps its whole lines.
fn clean_start(
    text: &str,
    breaks: &mut Breaks<'_>,
    sizer: &dyn Sizer,
    barriers: &Barriers,
    [at, end]: [usize; 2],
    overlap: usize,
) -> usize {
    if barriers.code_around(at).is_some() || at == 0 {
        return at;
    }
    match breaks.earliest(before(text, at), end, SENTENCE) {
        Some(start)
            if start > at
                && start < end
                && barriers.outside_link(start) == start
                && sizer.size(&text[start..end]).saturating_mul(2) >= overlap =>
        {
            skip_whitespace(text, start, end)
        }
        _ => at,
    }
}

/// How far around a cut grapheme clusters are looked for, in bytes: a cut inside a longer
/// cluster (a pathological run of combining marks) stays at a char boundary. (At 64 bytes, a
/// letter under 60 marks, "Zalgo" text, was cut into two chunks, the second opening with a
/// bare mark.)
const GRAPHEME_REACH: usize = 256;

/// The last grapheme cluster boundary in `(after, at]` within [`GRAPHEME_REACH`] bytes of
/// `at`; `after` when `(after, at]` lies inside one cluster of at most the reach, else `at` (a
/// char boundary inside a cluster longer than the reach). A cut there keeps a letter with its
/// accents, a flag or a family emoji whole.
fn grapheme_floor(text: &str, after: usize, at: usize) -> usize {
    let mut from = text.floor_char_boundary(at.saturating_sub(GRAPHEME_REACH).max(after));
    // Flags pair regional indicators from the start of their run: look from there (a run of
    // over a thousand flags may be paired from within).
    let regional = |c: char| ('\u{1F1E6}'..='\u{1F1FF}').contains(&c);
    if text[from..].chars().next().is_some_and(regional) {
        let run = (text[after..from].chars().rev())
            .take(2048)
            .take_while(|&c| regional(c))
            .count();
        from -= 4 * run;
    }
    let until = text.floor_char_boundary((at + 16).min(text.len()));
    text[from..until]
        .grapheme_indices(true)
        .map(|(offset, _)| from + offset)
        .rfind(|&boundary| boundary > from.max(after) && boundary <= at)
        // All of `(after, at]` inside the cluster that starts at `after`: none, unless that
        // cluster is too long to keep whole (it made chunks of the reach, over `size`).
        .unwrap_or(if from <= after && !in_long_cluster(text, after) {
            after
        } else {
            at
        })
}

/// Whether `at` lies in a grapheme cluster cut between chars: one that starts there and is
/// longer than [`GRAPHEME_REACH`] bytes, or one that began before `at` (a cut already made
/// inside it). A regional indicator counts as starting its flag.
fn in_long_cluster(text: &str, at: usize) -> bool {
    let until = text.floor_char_boundary((at + GRAPHEME_REACH + 4).min(text.len()));
    let long = text
        .get(at..until)
        .and_then(|local| local.graphemes(true).next())
        .is_some_and(|cluster| cluster.len() > GRAPHEME_REACH);
    let regional = |c: char| ('\u{1F1E6}'..='\u{1F1FF}').contains(&c);
    let before = text.floor_char_boundary(at.saturating_sub(1));
    let continued = before < at
        && !text[at..].chars().next().is_some_and(regional)
        && text[before..until]
            .graphemes(true)
            .next()
            .is_some_and(|cluster| cluster.len() > at - before);
    long || continued
}

/// The end of the grapheme cluster that starts at `at` (within [`GRAPHEME_REACH`] bytes; at
/// least the next char boundary).
fn grapheme_end(text: &str, at: usize) -> usize {
    let until = text.floor_char_boundary((at + GRAPHEME_REACH).min(text.len()));
    text.get(at..until)
        .and_then(|local| local.graphemes(true).next())
        .map_or(0, str::len)
        .max(next_boundary(text, at) - at)
        + at
}

/// The first char boundary strictly after `at` (or the text's length).
fn next_boundary(text: &str, at: usize) -> usize {
    let mut next = at.saturating_add(1);
    while next < text.len() && !text.is_char_boundary(next) {
        next += 1;
    }
    next.min(text.len())
}

/// The first non-whitespace position at or after `at` and before `limit` (or `limit`).
pub(super) fn skip_whitespace(text: &str, at: usize, limit: usize) -> usize {
    text.get(at..limit)
        .and_then(|rest| rest.find(|c: char| !c.is_whitespace()).map(|i| at + i))
        .unwrap_or(limit)
}

/// `start..end` without surrounding whitespace.
pub(super) fn trim(text: &str, start: usize, end: usize) -> [usize; 2] {
    match text.get(start..end) {
        Some(slice) => {
            let s = start + (slice.len() - slice.trim_start().len());
            [s, s + slice.trim().len()]
        }
        None => [start, start],
    }
}

#[cfg(test)]
mod tests {
    use super::super::sizer::{CharSizer, WordSizer};
    use super::*;

    fn pieces(text: &str, size: usize, overlap: usize, words: bool) -> Vec<&str> {
        let sizer: &dyn Sizer = if words { &WordSizer } else { &CharSizer };
        split(text, [], sizer, size, overlap)
            .into_iter()
            .map(|[s, e]| &text[s..e])
            .collect()
    }

    #[test]
    fn whole_text_when_it_fits() {
        assert_eq!(pieces("  short text \n", 100, 0, false), vec!["short text"]);
        assert!(pieces("", 10, 0, false).is_empty());
        assert!(pieces(" \n\t ", 10, 0, false).is_empty());
    }

    #[test]
    fn prefers_paragraphs_then_lines_then_sentences_then_words() {
        let text = "Para one line.\nStill one.\n\nPara two is here.";
        assert_eq!(
            pieces(text, 30, 0, false),
            vec!["Para one line.\nStill one.", "Para two is here."]
        );
        let text = "Line one here\nline two here and more";
        assert_eq!(
            pieces(text, 25, 0, false),
            vec!["Line one here", "line two here and more"]
        );
        let text = "One sentence. Another sentence here.";
        assert_eq!(
            pieces(text, 20, 0, false),
            vec!["One sentence.", "Another sentence", "here."]
        );
        assert_eq!(
            pieces("aaa bbb ccc", 5, 0, false),
            vec!["aaa", "bbb", "ccc"]
        );
    }

    /// The furthest end that fits is followed by whitespace, which a chunk drops: the break
    /// after it fits too, so a tail of punctuation ("cells .") stays with its chunk rather than
    /// being a chunk of its own.
    #[test]
    fn a_punctuation_tail_joins_the_chunk_it_fits_in() {
        let text = "aaaa bbbb .\n\nNext one.";
        assert_eq!(pieces(text, 11, 0, false), vec!["aaaa bbbb .", "Next one."]);
        let text = "cells . 2. the amount";
        assert_eq!(
            pieces(text, 7, 0, false),
            vec!["cells .", "2. the", "amount"]
        );
    }

    #[test]
    fn element_starts_win() {
        let text = "# Title\nbody text that is long\n\nmore";
        let spans = split(text, [0, 8], &CharSizer, 30, 0);
        assert_eq!(&text[spans[0][0]..spans[0][1]], "# Title");
    }

    #[test]
    fn long_words_are_cut_at_char_boundaries() {
        let text = "ééééééééé";
        assert_eq!(pieces(text, 4, 0, false), vec!["éééé", "éééé", "é"]);
        assert_eq!(pieces(text, 4, 2, false), vec!["éééé", "éééé", "é"]);
    }

    /// A word longer than a chunk is cut between grapheme clusters: an accent stays with its
    /// letter, a flag and a family emoji stay whole, even far into a long run of flags.
    #[test]
    fn long_words_are_cut_between_grapheme_clusters() {
        let accents = "e\u{301}".repeat(9);
        for piece in pieces(&accents, 5, 0, false) {
            assert!(
                !piece.starts_with('\u{301}') && piece.ends_with('\u{301}'),
                "{piece:?}"
            );
        }
        let flags = "🇫🇷🇩🇪🇯🇵".repeat(40);
        for piece in pieces(&flags, 51, 0, false) {
            assert_eq!(piece.chars().count() % 2, 0, "{piece:?}");
        }
        let family = "👨\u{200d}👩\u{200d}👦".repeat(9);
        for piece in pieces(&family, 7, 0, false) {
            assert!(
                piece.starts_with('👨') && piece.ends_with('👦'),
                "{piece:?}"
            );
        }
        // A cluster larger than a chunk is one chunk of its own.
        assert_eq!(
            pieces(&"👨\u{200d}👩\u{200d}👦".repeat(2), 3, 0, false).len(),
            2
        );
        // So is a letter under 60 stacked marks ("Zalgo" text): it was cut after 32 chars.
        let zalgo = format!("e{}", "\u{301}".repeat(60));
        assert_eq!(
            pieces(&format!("{zalgo}{zalgo}"), 10, 0, false),
            [&zalgo, &zalgo]
        );
        // A cluster longer than the reach (a letter under 300 marks, 601 bytes) is cut between
        // chars to `size`: it made chunks of the reach, 128 chars where `size` was 64.
        let long = format!("a{}", "\u{301}".repeat(300));
        let cut = pieces(&long, 64, 0, false);
        assert!(cut.iter().all(|p| p.chars().count() <= 64), "{cut:?}");
        assert_eq!(cut.concat(), long);
    }

    /// Text without spaces longer than the sentence rules' window (1,024 bytes) is cut into
    /// full chunks: the window's own cuts are no sentence ends (they left 24-char chunks).
    #[test]
    fn long_unspaced_runs_give_full_chunks() {
        let sizes = |text: &str| -> Vec<usize> {
            pieces(text, 200, 0, false)
                .iter()
                .map(|p| p.chars().count())
                .collect()
        };
        assert_eq!(sizes(&"x".repeat(3000)), [[200; 15].as_slice()].concat());
        assert_eq!(sizes(&"中".repeat(1000)), [200; 5]);
    }

    /// A word that fits in a chunk but not after the overlap is not cut: the overlap goes.
    /// So it does when it leaves room for only a little new content (an opening code fence,
    /// a list item's number), which would be a chunk of its own.
    #[test]
    fn overlap_never_cuts_a_word_that_fits_without_it() {
        let url = format!("https://example.com/{}", "abcdefghij".repeat(7));
        let text = format!("First sentence has several short words in it. Then {url} and more.");
        let got = pieces(&text, 100, 30, false);
        assert!(got.iter().any(|piece| piece.contains(&url)), "{got:?}");
        assert!(
            got.iter()
                .all(|piece| !piece.contains("https") || piece.contains(&url))
        );
        let code = "Some text before it.\n\n```\nSELECT * FROM weather JOIN cities ON\n```\n";
        let spans = split(code, [0, 22, 63], &CharSizer, 40, 10);
        let texts: Vec<&str> = spans.iter().map(|&[s, e]| &code[s..e]).collect();
        // No chunk of the overlap and an opening fence alone ("it.\n\n```").
        assert_eq!(
            texts[1], "```\nSELECT * FROM weather JOIN cities ON",
            "{texts:?}"
        );
    }

    /// Overlap in CJK text, written without spaces, starts before an ideograph (it had none).
    #[test]
    fn cjk_text_gets_its_overlap() {
        let text =
            "東京は日本の首都です。大阪は商業の中心です。京都には古い寺が多いです。".repeat(3);
        let spans = split(&text, [], &CharSizer, 30, 8);
        assert!(spans.len() > 2);
        for pair in spans.windows(2) {
            let repeated = pair[0][1].saturating_sub(pair[1][0]);
            assert!(repeated > 0 && text[pair[1][0]..pair[0][1]].chars().count() <= 8);
        }
    }

    #[test]
    fn words_unit() {
        let text = "one two three four five six seven";
        assert_eq!(
            pieces(text, 3, 0, true),
            vec!["one two three", "four five six", "seven"]
        );
        assert_eq!(
            pieces(text, 3, 1, true),
            vec!["one two three", "three four five", "five six seven"]
        );
    }

    #[test]
    fn overlap_repeats_whole_words() {
        let text = "alpha beta gamma delta epsilon zeta eta theta";
        let got = pieces(text, 20, 8, false);
        // The last overlap is "eta", not "zeta eta": that would repeat all of the third
        // chunk's own text, leaving it nothing but overlap.
        assert_eq!(
            got,
            vec![
                "alpha beta gamma",
                "gamma delta epsilon",
                "epsilon zeta eta",
                "eta theta"
            ]
        );
    }

    #[test]
    fn overlap_never_stalls_on_short_chunks() {
        let text = "# A\n\nbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb cc dd\n\nee";
        let spans = split(text, [0, 5, 50], &CharSizer, 20, 15);
        for w in spans.windows(2) {
            assert!(w[1][0] > w[0][0] && w[1][1] > w[0][1], "{spans:?}");
        }
        assert!(spans.len() < 10, "{spans:?}");
    }
}
