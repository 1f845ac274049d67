//! Soft line breaks: a line break that only wraps running text, and the sentences of text in
//! which such breaks do not end a sentence.
//!
//! A line break is soft when it lies inside a paragraph, list item, quote or contents entry
//! (not inside a code block, table or heading), is no Markdown hard break (two spaces or a
//! backslash before it), and the next line is neither blank nor the start of another element.
//! Every other line break is hard: it ends a sentence. The recursive splitter (`breaks`) ranks a soft line break as
//! the word or sentence boundary it stands for, semantic chunking reads it as a space.

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;

use super::annotate::ElementIndex;
use super::recursive::trim;
use crate::model::ElementKind;

/// Whether the `\n` at byte `at` of `text` is a soft line break.
pub(super) fn is_soft(text: &str, index: &ElementIndex<'_>, at: usize) -> bool {
    if text.as_bytes().get(at) != Some(&b'\n') || is_hard_break(text, at) {
        return false;
    }
    // The first char of the next line that is not a space or tab.
    let next = at + 1;
    let indent = text.as_bytes()[next..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let first = next + indent;
    if matches!(text.as_bytes().get(first), None | Some(b'\n' | b'\r')) {
        return false;
    }
    let mut prose = false;
    for element in index.overlapping([at, first + 1]) {
        let [start, end] = element.span;
        if start > at {
            // Another element starts on the next line.
            return false;
        }
        if at < end {
            match element.kind {
                ElementKind::Paragraph
                | ElementKind::ListItem
                | ElementKind::Quote
                | ElementKind::ContentsEntry => {
                    prose |= end > first;
                }
                _ => return false,
            }
        }
    }
    prose
}

/// Whether the `\n` at byte `at` ends a Markdown hard line break: two spaces or a backslash
/// before it.
fn is_hard_break(text: &str, at: usize) -> bool {
    let line = text.as_bytes()[..at]
        .strip_suffix(b"\r")
        .unwrap_or(&text.as_bytes()[..at]);
    let backslashes = line.iter().rev().take_while(|&&b| b == b'\\').count();
    line.ends_with(b"  ") || backslashes % 2 == 1
}

/// The sentences of `text[range]`, trimmed and non-empty: a code block is one; elsewhere
/// Unicode sentence boundaries and every hard line break end one, and a soft line break is
/// read as a space.
pub(super) fn sentences(
    text: &str,
    index: &ElementIndex<'_>,
    range: [usize; 2],
) -> Vec<[usize; 2]> {
    let mut out = Vec::new();
    let mut at = range[0];
    for code in index.overlapping(range) {
        let [start, end] = [code.span[0].max(at), code.span[1].min(range[1])];
        if code.kind != ElementKind::Code || start >= end {
            continue;
        }
        running_text(text, index, [at, start], &mut out);
        let [s, e] = trim(text, start, end);
        if s < e {
            out.push([s, e]);
        }
        at = end;
    }
    running_text(text, index, [at, range[1]], &mut out);
    out
}

/// The sentences of `text[range]`, which holds no code block, onto `out`.
fn running_text(
    text: &str,
    index: &ElementIndex<'_>,
    range: [usize; 2],
    out: &mut Vec<[usize; 2]>,
) {
    let [lo, hi] = range;
    let mut block_start = lo;
    // Soft breaks of the current block, relative to its start.
    let mut soft: Vec<usize> = Vec::new();
    let Some(slice) = text.get(lo..hi) else {
        return;
    };
    for offset in memchr::memchr_iter(b'\n', slice.as_bytes()) {
        let at = lo + offset;
        if is_soft(text, index, at) {
            soft.push(at - block_start);
        } else {
            push_sentences(text, [block_start, at + 1], &soft, out);
            soft.clear();
            block_start = at + 1;
        }
    }
    push_sentences(text, [block_start, hi], &soft, out);
}

/// The sentences of the block `text[block]`, trimmed and non-empty, onto `out`.
fn push_sentences(text: &str, block: [usize; 2], soft: &[usize], out: &mut Vec<[usize; 2]>) {
    for [s, e] in block_sentences(text, block, soft) {
        let [s, e] = trim(text, s, e);
        if s < e {
            out.push([s, e]);
        }
    }
}

/// The most text given to the Unicode sentence rules at once. After a full stop their lookahead
/// runs to the next letter, and again from every char until it resolves, so a long run without
/// letters (an ASCII-art table wrapped into one paragraph) took quadratic time: 382 KB, 11 s.
/// Text is cut into windows at whitespace; a window's last segment, which the window's end
/// cuts, is segmented again at the start of the next window. A sentence longer than a window
/// is cut by the windows too, and made whole again: those cuts are no sentence boundaries.
const SENTENCE_WINDOW: usize = 1024;

/// A run of at least this many bytes without a letter (a table's rules and padding, ASCII art,
/// a dotted leader) holds no sentence: it is a segment of its own, and the rules never see it.
/// After a full stop their lookahead crosses such a run at every char, in quadratic time (a
/// pandoc grid table of 3.4 MB took 6 s in a release build).
const LETTERLESS_RUN: usize = 64;

/// The Unicode sentence segments of `text` as (offset, segment), found window by window (see
/// [`SENTENCE_WINDOW`]) in the stretches between runs without letters ([`LETTERLESS_RUN`]).
pub(super) fn sentence_bounds(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    // Where a window cut a sentence longer than itself: no boundaries.
    let mut forced = Vec::new();
    let mut start = 0;
    for [run_start, run_end] in letterless_runs(text) {
        windows(text, [start, run_start], &mut out, &mut forced);
        out.push((run_start, &text[run_start..run_end]));
        start = run_end;
    }
    windows(text, [start, text.len()], &mut out, &mut forced);
    split_lower_case(text, glue_unspaced(text, out, &forced))
}

/// Words whose full stop ends no sentence in text without capitals, where a lower-case word
/// after it says nothing: `e.g. the`, `et al. found`, `fig. a`.
const ABBREVIATIONS: [&str; 40] = [
    "al", "approx", "art", "ca", "cf", "ch", "chap", "co", "col", "dept", "dr", "ed", "eds", "eq",
    "eqs", "esp", "est", "etc", "fig", "figs", "inc", "incl", "jr", "ltd", "max", "min", "mr",
    "mrs", "ms", "no", "nos", "p", "pp", "prof", "ref", "refs", "resp", "sec", "vol", "vs",
];

/// `segments` of `text` cut again where a sentence starts with a lower-case word, when `text`
/// has no capital letter at all (a lower-cased corpus such as Cranfield, a transcript): the
/// Unicode rules never end a sentence before a lower-case word (`ratios . an experimental`),
/// so such text was one sentence. Text with any capital keeps the Unicode rules alone.
fn split_lower_case<'t>(text: &'t str, segments: Vec<(usize, &'t str)>) -> Vec<(usize, &'t str)> {
    if text.chars().any(char::is_uppercase) {
        return segments;
    }
    let mut out = Vec::with_capacity(segments.len());
    for (offset, segment) in segments {
        let mut start = 0;
        for cut in lower_case_sentence_starts(segment) {
            out.push((offset + start, &segment[start..cut]));
            start = cut;
        }
        out.push((offset + start, &segment[start..]));
    }
    out
}

/// Where a sentence starts inside `segment`: a lower-case letter after white space after `.`,
/// `!` or `?` (and any closing quotes or brackets), unless the full stop is an ellipsis's, or
/// ends an abbreviation ([`ABBREVIATIONS`]), a single letter (an initial, a list's `a.`) or a
/// word of letters with a full stop inside (`e.g.`, `u.s.`; a number's, `1.5.`, ends one), or
/// follows a list item's number alone (`. 2. the amount`).
fn lower_case_sentence_starts(segment: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut chars = segment.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        while chars
            .next_if(|(_, c)| matches!(c, ')' | ']' | '"' | '\'' | '’' | '”' | '»'))
            .is_some()
        {}
        let mut spaced = false;
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {
            spaced = true;
        }
        let Some(&(next, first)) = chars.peek() else {
            break;
        };
        let since = starts.last().copied().unwrap_or(0);
        if spaced
            && first.is_lowercase()
            && (c != '.' || ends_sentence_with_stop(&segment[..at]))
            && !is_list_marker(&segment[since..next])
        {
            starts.push(next);
        }
    }
    starts
}

/// Whether the full stop after `before` ends a sentence: not an ellipsis's, nor after an
/// abbreviation, a single letter, or a word of letters with a full stop inside.
fn ends_sentence_with_stop(before: &str) -> bool {
    if before.ends_with('.') {
        return false;
    }
    let word = before
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or_default()
        .trim_start_matches(|c: char| !c.is_alphanumeric());
    let letters = word.chars().count();
    let single_letter = letters == 1 && word.chars().all(char::is_alphabetic);
    let dotted = word.contains('.') && word.chars().any(char::is_alphabetic);
    !(single_letter || dotted || ABBREVIATIONS.contains(&word))
}

/// The runs of at least [`LETTERLESS_RUN`] bytes in `text` of words without a letter, each
/// from the start of its first word to the start of the next word with one.
fn letterless_runs(text: &str) -> Vec<[usize; 2]> {
    let mut runs = Vec::new();
    // Where the current run started, if one has.
    let mut run_start: Option<usize> = None;
    let mut end_run = |run_start: &mut Option<usize>, at: usize| {
        if let Some(start) = run_start.take()
            && at - start >= LETTERLESS_RUN
        {
            runs.push([start, at]);
        }
    };
    // Each word: where it starts, and whether it has a letter.
    for (start, letters) in words_with_letters(text) {
        if letters {
            end_run(&mut run_start, start);
        } else {
            run_start.get_or_insert(start);
        }
    }
    end_run(&mut run_start, text.len());
    runs
}

/// The words of `text` (runs of chars between white space): where each starts, and whether
/// it has a letter.
fn words_with_letters(text: &str) -> impl Iterator<Item = (usize, bool)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let (start, first) = chars.next()?;
        let mut letters = first.is_alphabetic();
        while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
            letters |= c.is_alphabetic();
        }
        Some((start, letters))
    })
}

/// The sentence segments of `text[stretch]` onto `out`, window by window, and where a window
/// cut a sentence longer than itself onto `forced`.
fn windows<'t>(
    text: &'t str,
    [mut start, stretch_end]: [usize; 2],
    out: &mut Vec<(usize, &'t str)>,
    forced: &mut Vec<usize>,
) {
    while start < stretch_end {
        let mut end = (start + SENTENCE_WINDOW).min(stretch_end);
        if end < stretch_end {
            end = text.floor_char_boundary(end);
            if let Some((at, c)) = text[start..end]
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
            {
                end = start + at + c.len_utf8();
            }
        }
        let mut segments: Vec<(usize, &str)> = text[start..end]
            .split_sentence_bound_indices()
            .map(|(offset, segment)| (start + offset, segment))
            .collect();
        let next = match segments.last() {
            // The window's end is no sentence's end: the last segment goes again, with what
            // follows it, when it starts in the window's second half (a segment that starts
            // earlier is as good as a sentence longer than the window: taking it again would
            // move the next window on by little, and cost quadratic time again).
            Some(&(last, _)) if end < stretch_end && last > start + (end - start) / 2 => {
                segments.pop();
                last
            }
            _ => {
                if end < stretch_end && !ends_sentence(&text[..stretch_end], start, end) {
                    forced.push(end);
                }
                end
            }
        };
        out.extend(segments);
        start = next;
    }
}

/// Whether a sentence ends at `end` in `text`, the text from `start` (a sentence start) seen
/// with at most one window after `end` (the rules' lookahead).
fn ends_sentence(text: &str, start: usize, end: usize) -> bool {
    let mut until = (end + SENTENCE_WINDOW).min(text.len());
    while !text.is_char_boundary(until) {
        until -= 1;
    }
    text[start..until]
        .split_sentence_bound_indices()
        .any(|(offset, _)| start + offset == end)
}

/// `segments` with the `forced` cuts of windows undone, and every boundary between two ASCII
/// chars that are not white space: `![alt` (an image), `(...)` + `` ` `` (code) or `e.g.x` are
/// no sentence ends, which in ASCII text are followed by white space; nor is the full stop of
/// a list item's number ([`is_list_marker`]). A boundary after a CJK full stop (`。`) stays.
fn glue_unspaced<'t>(
    text: &'t str,
    segments: Vec<(usize, &'t str)>,
    forced: &[usize],
) -> Vec<(usize, &'t str)> {
    let mut out: Vec<(usize, &'t str)> = Vec::with_capacity(segments.len());
    for (offset, segment) in segments {
        let before = text[..offset].chars().next_back();
        let after = segment.chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii() && !c.is_ascii_whitespace());
        match out.last_mut() {
            Some((start, previous))
                if (glued(before) && glued(after))
                    || forced.binary_search(&offset).is_ok()
                    || is_list_marker(previous) =>
            {
                *previous = &text[*start..offset + segment.len()];
            }
            _ => out.push((offset, segment)),
        }
    }
    out
}

/// Whether a segment is only a list item's number or letter (`2.`, `10)`, `b.`): the full stop
/// after it ends no sentence, and a chunk that began after it would strand it.
fn is_list_marker(segment: &str) -> bool {
    let Some(label) = segment
        .trim()
        .strip_suffix('.')
        .or_else(|| segment.trim().strip_suffix(')'))
    else {
        return false;
    };
    let digits = !label.is_empty() && label.len() <= 9 && label.bytes().all(|b| b.is_ascii_digit());
    let letter = label.len() == 1 && label.bytes().all(|b| b.is_ascii_alphabetic());
    digits || letter
}

/// The Unicode sentence segments (absolute, untrimmed) of the block `text[block]`, its soft
/// line breaks (`soft`, offsets relative to the block) read as spaces.
pub(super) fn block_sentences(text: &str, block: [usize; 2], soft: &[usize]) -> Vec<[usize; 2]> {
    let [lo, hi] = block;
    let Some(slice) = text.get(lo..hi) else {
        return Vec::new();
    };
    let joined: Cow<'_, str> = if soft.is_empty() {
        Cow::Borrowed(slice)
    } else {
        // Same length, so offsets carry over; a CR before the break goes too.
        let mut bytes = slice.as_bytes().to_vec();
        for &at in soft {
            bytes[at] = b' ';
            if at > 0 && bytes[at - 1] == b'\r' {
                bytes[at - 1] = b' ';
            }
        }
        Cow::Owned(String::from_utf8(bytes).expect("ASCII bytes replaced by ASCII"))
    };
    sentence_bounds(&joined)
        .into_iter()
        .map(|(offset, sentence)| [lo + offset, lo + offset + sentence.len()])
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::tests::parsed;
    use super::super::{Chunker, Settings, Strategy, Unit};
    use super::*;
    use crate::embed::hash::HashEmbedder;

    /// Sentences wrapped at about 40 columns, as Markdown sources often are.
    const WRAPPED: &str = "# Sorting\n\nLists have a sort method that changes the\n\
        list in place. The sorted function builds a\nnew list from any iterable. A simple sort\n\
        is very easy: just call the function. It\nreturns a new list. Tomato soup needs\n\
        basil and slow simmering. Soup with basil\nis tasty on cold days.\n";

    fn split<'t>(text: &'t str, index: &ElementIndex<'_>) -> Vec<&'t str> {
        sentences(text, index, [0, text.len()])
            .into_iter()
            .map(|[s, e]| &text[s..e])
            .collect()
    }

    /// Sentence rules see at most a window of text at once, cut at whitespace, so a long run
    /// without letters after a full stop cannot make them quadratic; within a window the
    /// segments are Unicode's, and the windows' own cuts are no boundaries: a run longer than
    /// a window is one segment (a chunk cut it at every 1,024 bytes, leaving pieces of 24
    /// chars of a run without spaces).
    /// A list item's number (`2.`) or letter (`b)`) ends no sentence: it stays with its text
    /// (a chunk of `2.` alone was cut from the text it numbers).
    #[test]
    fn a_list_number_stays_with_its_text() {
        let segments = |text: &str| -> Vec<String> {
            sentence_bounds(text)
                .into_iter()
                .map(|(_, s)| s.to_owned())
                .collect()
        };
        assert_eq!(
            segments("Steps follow. 2. Check out the issues. Then stop."),
            ["Steps follow. ", "2. Check out the issues. ", "Then stop."]
        );
        assert_eq!(
            segments("b) Second. C. Third."),
            ["b) Second. ", "C. Third."]
        );
        assert_eq!(
            segments("It costs 10. Then more."),
            ["It costs 10. ", "Then more."]
        );
    }

    /// Runs of words without letters (a grid table's rules and padding, with numbers in its
    /// cells) of 64 bytes or more are segments the sentence rules never see; shorter ones (a
    /// date, a price) are read with their sentence.
    #[test]
    fn runs_of_words_without_letters_are_segments_of_their_own() {
        let grid = "+------+------+\n| 12.5 | 13.0 |\n+------+------+\n| 14.  | 15.  |\n";
        let text =
            format!("See the table. {grid}{grid}Then it ends. On 12.05.2024 at 10:00 it ran.");
        let start = text.find('+').unwrap();
        let end = text.find("Then").unwrap();
        assert_eq!(letterless_runs(&text), [[start, end]]);
        let segments: Vec<&str> = sentence_bounds(&text).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            segments,
            [
                "See the table. ",
                &text[start..end],
                "Then it ends. ",
                "On 12.05.2024 at 10:00 it ran."
            ]
        );
    }

    fn segments(text: &str) -> Vec<&str> {
        sentence_bounds(text).into_iter().map(|(_, s)| s).collect()
    }

    /// Text without a capital (Cranfield's abstracts) has sentences: one starts at a
    /// lower-case word after a full stop, question or exclamation mark, but not after an
    /// abbreviation, an initial, `e.g.` or an ellipsis.
    #[test]
    fn lower_case_text_has_sentences() {
        let cranfield = "the lift increase was measured . an experimental study was made. \
                         was it right? (it was.) then the results, e.g. the slope, \
                         follow fig. a of smith et al. and j. doe... but not here";
        assert_eq!(
            segments(cranfield),
            [
                "the lift increase was measured . ",
                "an experimental study was made. ",
                "was it right? ",
                "(it was.) ",
                "then the results, e.g. the slope, follow fig. a of smith et al. and j. doe... but not here"
            ]
        );
        // Text with a capital anywhere keeps the Unicode rules, which see no end before a
        // lower-case word.
        let mixed = "The slope was measured. then it was not. Then it was.";
        assert_eq!(
            segments(mixed),
            ["The slope was measured. then it was not. ", "Then it was."]
        );
        // A full stop inside a word, or a number's, is no end.
        assert_eq!(segments("see v1.2.3 now. ok"), ["see v1.2.3 now. ", "ok"]);
        assert_eq!(segments("it was 1.5. the end"), ["it was 1.5. ", "the end"]);
        // Nor is a list item's number's, inline (Medline's `. 2. the amount`).
        assert_eq!(
            segments("the cells . 2. the amount"),
            ["the cells . ", "2. the amount"]
        );
    }

    #[test]
    fn sentences_are_found_window_by_window() {
        let run = "+-------".repeat(5000);
        let table = format!("Total. {run}\n");
        let bounds = sentence_bounds(&table);
        assert_eq!(bounds, [(0, "Total. "), (7, &table[7..])]);
        let unspaced = "x".repeat(3000);
        assert_eq!(sentence_bounds(&unspaced), [(0, unspaced.as_str())]);
        let cjk = "中".repeat(1000);
        assert_eq!(sentence_bounds(&cjk).len(), 1);
        let prose = "One sentence here. Another one follows! And a third?";
        let ours: Vec<&str> = sentence_bounds(prose).into_iter().map(|(_, s)| s).collect();
        let unicode: Vec<&str> = prose.split_sentence_bounds().collect();
        assert_eq!(ours, unicode);
        let words = "word ".repeat(1000);
        assert_eq!(sentence_bounds(&words), [(0, words.as_str())]);
    }

    #[test]
    fn a_wrapped_line_does_not_end_a_sentence() {
        let md = "# Sorting\n\nA simple sort is very\neasy: call sorted(). It\nreturns a list.\n\n\
                  - one item that\n  wraps\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n\
                  ```\nlet x\nlet y\n```\n\n> quoted and\n> wrapped.\n";
        let doc = parsed("w.md", md);
        let index = ElementIndex::new(&doc.elements);
        assert_eq!(
            split(&doc.markdown, &index),
            vec![
                "# Sorting",
                "A simple sort is very\neasy: call sorted().",
                "It\nreturns a list.",
                "- one item that\n  wraps",
                "- two",
                "| a | b |",
                "|---|---|",
                "| 1 | 2 |",
                "```\nlet x\nlet y\n```",
                "> quoted and\n> wrapped.",
            ]
        );
        let nl = md.find("very\n").unwrap() + 4;
        assert!(is_soft(md, &index, nl));
        assert!(!is_soft(md, &index, md.find("let x\n").unwrap() + 5));
        assert!(!is_soft(md, &index, md.find("wraps\n").unwrap() + 5));
    }

    /// A table of contents' entry that wraps is one sentence, as a list item is.
    #[test]
    fn a_wrapped_contents_entry_is_one_sentence() {
        let md = "- [Installing the tool on\n  Linux](#install)\n- [Usage](#usage)\n- [FAQ](#faq)\n\n# Install\n\n# Usage\n";
        let doc = parsed("toc.md", md);
        assert_eq!(doc.elements[0].kind, ElementKind::ContentsEntry);
        let index = ElementIndex::new(&doc.elements);
        assert_eq!(
            split(&doc.markdown, &index),
            [
                "- [Installing the tool on\n  Linux](#install)",
                "- [Usage](#usage)",
                "- [FAQ](#faq)",
                "# Install",
                "# Usage"
            ]
        );
    }

    #[test]
    fn semantic_chunks_end_at_sentence_ends() {
        let doc = parsed("w.md", WRAPPED);
        let strategy = Strategy::Semantic {
            percentile: 50.0,
            embedder: Arc::new(HashEmbedder::new(256)),
        };
        let set = Chunker::new(strategy, Settings::chars(1000), None, "fp")
            .unwrap()
            .chunk(&doc)
            .unwrap();
        let debug = set.debug.as_ref().unwrap();
        assert_eq!(debug.extra["sentences"], 7);
        assert!(set.chunks.len() > 2);
        for c in &set.chunks[1..] {
            assert!(c.text.ends_with('.'), "{:?}", c.text);
        }
        assert_eq!(debug.mid_sentence_ends, 0);
    }

    #[test]
    fn recursive_chunks_end_at_sentence_ends_not_at_wrapped_lines() {
        let doc = parsed("w.md", WRAPPED);
        let set = Chunker::new(Strategy::Recursive, Settings::chars(60), None, "fp")
            .unwrap()
            .chunk(&doc)
            .unwrap();
        // A wrapped line is no line break: each chunk ends at the last sentence end that fits
        // (the first one after the heading it keeps, cut where it leaves no tiny tail).
        let texts: Vec<&str> = set.chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "# Sorting\n\nLists have a sort method that",
                "changes the\nlist in place.",
                "The sorted function builds a\nnew list from any iterable.",
                "A simple sort\nis very easy: just call the function.",
                "It\nreturns a new list.",
                "Tomato soup needs\nbasil and slow simmering.",
                "Soup with basil\nis tasty on cold days.",
            ]
        );
        assert_eq!(set.debug.unwrap().mid_sentence_ends, 1);
    }

    #[test]
    fn a_cut_at_a_wrapped_line_counts_as_mid_sentence() {
        let doc = parsed("t.txt", "one two\nthree four");
        let settings = Settings {
            unit: Unit::Words,
            ..Settings::chars(2)
        };
        let set = Chunker::new(Strategy::Recursive, settings, None, "fp")
            .unwrap()
            .chunk(&doc)
            .unwrap();
        assert_eq!(set.chunks[0].text, "one two");
        assert_eq!(set.debug.unwrap().mid_sentence_ends, 1);
    }

    /// A `<br>` (HTML, DOCX) is an explicit line break: it ends a sentence and ranks as a line
    /// break, while a line of a PDF paragraph still wraps.
    #[test]
    fn an_explicit_line_break_is_no_wrapped_line() {
        let html = "<html><body><p>Intro paragraph.</p>\
                    <p>ACME Corp<br>12 Main Street<br>Springfield Road West</p></body></html>";
        let doc = parsed("a.html", html);
        let (md, index) = (doc.markdown.as_str(), ElementIndex::new(&doc.elements));
        let breaks: Vec<usize> = md.match_indices('\n').map(|(at, _)| at).collect();
        assert!(breaks.iter().all(|&at| !is_soft(md, &index, at)), "{md:?}");
        assert_eq!(
            split(md, &index),
            [
                "Intro paragraph.",
                "ACME Corp",
                "12 Main Street",
                "Springfield Road West"
            ]
        );
        // "Springfield Road" fits with the lines before it: the chunk ends at the line.
        let set = Chunker::new(Strategy::Recursive, Settings::chars(45), None, "fp")
            .unwrap()
            .chunk(&doc)
            .unwrap();
        let texts: Vec<&str> = set.chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts[1], "ACME Corp  \n12 Main Street");
        // The lines of a PDF paragraph wrap it.
        let mut pdf = doc.clone();
        pdf.format = crate::model::Format::Pdf;
        pdf.markdown = "One line that\nwraps here.\n".into();
        pdf.elements = vec![crate::model::Element::new(
            ElementKind::Paragraph,
            "One line that\nwraps here.",
            [0, 25],
        )];
        let index = ElementIndex::new(&pdf.elements);
        assert!(is_soft(&pdf.markdown, &index, 13));
    }

    /// A window's end is no sentence's end: in a paragraph of many short sentences, every
    /// boundary is a sentence's, wherever the windows fall.
    #[test]
    fn windows_add_no_sentence_boundary() {
        let sentence = "Alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo \
                        lima mike november oscar papa quebec.";
        for lead in 0..8 {
            let text = format!("{}{}", "x ".repeat(lead), [sentence; 30].join(" "));
            let segments = sentence_bounds(&text);
            assert_eq!(
                segments.iter().map(|(_, s)| s.len()).sum::<usize>(),
                text.len()
            );
            for (offset, segment) in &segments[1..] {
                assert!(
                    segment.trim_end().ends_with("quebec."),
                    "lead {lead}: a boundary inside a sentence at {offset}: {segment:?}"
                );
            }
        }
        // A sentence longer than a window is one segment.
        let long = format!("{}end. Next.", "word ".repeat(SENTENCE_WINDOW));
        let segments: Vec<&str> = sentence_bounds(&long).into_iter().map(|(_, s)| s).collect();
        assert_eq!(segments, [&long[..long.len() - 5], "Next."]);
    }

    /// A sentence ends before white space (or after a CJK full stop): `![` before an image's
    /// text and `...)` before a closing backtick end none.
    #[test]
    fn a_sentence_ends_before_white_space() {
        let segments = |text: &str| -> Vec<String> {
            sentence_bounds(text)
                .into_iter()
                .map(|(_, s)| s.to_owned())
                .collect()
        };
        // Unicode's rules end sentences after "![" and after "(...)".
        for text in [
            "Intro here. ![Save money at home.](x.jpg)",
            "Add it to `Page.to_image(...)`. See the tracker.",
        ] {
            let found = segments(text);
            assert!(
                found
                    .iter()
                    .all(|s| s.ends_with(' ') || text.ends_with(s.as_str())),
                "{found:?}"
            );
        }
        assert_eq!(
            segments("今日は晴れ。明日は雨。"),
            ["今日は晴れ。", "明日は雨。"]
        );
    }

    #[test]
    fn hard_breaks_are_not_soft() {
        let md =
            "Two spaces  \nend a line. A backslash\\\nends one. Two do not\\\\\r\nhere\nor here.\n";
        let doc = parsed("h.md", md);
        let index = ElementIndex::new(&doc.elements);
        let soft: Vec<bool> = md
            .match_indices('\n')
            .map(|(at, _)| is_soft(md, &index, at))
            .collect();
        assert_eq!(soft, [false, false, true, true, false]);
    }

    #[test]
    fn plain_text_paragraphs_wrap_too() {
        let text = "One line that\nwraps. Two.\n\nNext\r\nparagraph.";
        let doc = parsed("t.txt", text);
        let index = ElementIndex::new(&doc.elements);
        assert_eq!(
            split(text, &index),
            vec!["One line that\nwraps.", "Two.", "Next\r\nparagraph."]
        );
    }
}
