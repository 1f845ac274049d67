//! Paragraphs from lines in reading order: a new paragraph starts at a larger vertical gap than
//! the page's usual line pitch, a change of font size, a jump sideways, an indented first line,
//! a bullet, or after a short line that ends a sentence. A line centred between lines of running
//! text (a displayed formula, see [`super::display`]) is a block of its own. A paragraph that
//! stops mid-sentence at the foot of a column goes on at the top of the next when that starts in
//! lower case. A list item's lines indented under its text (a hanging indent) continue the item;
//! a line back at its label's edge ends it. A table of contents' entry ends at its page number.
//! Right-to-left lines are read mirrored: they start at the right, an indented first line is
//! indented there, and a line is short at its left end.
//! Lines are joined with spaces, and a word hyphenated at a line end is joined back.

use super::bidi;
use super::display;
use super::lines::{Segment, same_size};
use super::lists::{self, Label};

/// Consecutive lines that belong together.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Paragraph {
    /// The joined text.
    pub text: String,
    /// Font size of the first line.
    pub size: f32,
    /// Number of lines.
    pub lines: usize,
    /// Left and right edges of the first line.
    pub x0: f32,
    pub x1: f32,
    /// Baseline of the first line.
    pub y: f32,
    /// Whether every line is bold.
    pub bold: bool,
    /// The label of a list item.
    pub label: Option<Label>,
}

/// The most common distance between consecutive baselines of same-sized lines, if any.
fn typical_pitch(lines: &[&Segment]) -> Option<f32> {
    let mut counts: Vec<(i32, usize)> = Vec::new();
    for w in lines.windows(2) {
        let (a, b) = (w[0], w[1]);
        let pitch = b.y - a.y;
        if pitch <= 0.0 || (a.size - b.size).abs() > 0.1 * a.size || pitch > 3.0 * a.size {
            continue;
        }
        let key = (pitch * 2.0).round() as i32;
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(k, n)| (n, -k))
        .map(|(k, _)| k as f32 / 2.0)
}

/// How far, in font sizes, a list item's text may sit right of its marker: its continuation
/// lines, indented that far under the text, are not indented first lines of new paragraphs.
const MAX_HANGING_INDENT: f32 = 4.0;
/// Type smaller than this share of the body's is a footnote's, when a raised marker opens it.
const FOOTNOTE_SIZE: f32 = 0.95;

/// Whether `line` opens a footnote: a raised marker (`1`, `∗`, `†`) before text smaller than
/// the body's, `body`. (A citation's number wrapped to the start of a line of body text is raised
/// too, and goes on with its paragraph.)
fn opens_footnote(line: &Segment, body: f32) -> bool {
    line.marked && line.size < FOOTNOTE_SIZE * body
}

/// The paragraph being built: its left and right edges so far, and whether it is a list item.
#[derive(Debug, Clone, Copy)]
struct Open {
    left: f32,
    right: f32,
    list_item: bool,
    /// Lines so far.
    lines: usize,
    /// Left and right edges of the second line.
    second: Option<(f32, f32)>,
}

/// What is known of the line that may start a new paragraph, beyond its segment.
#[derive(Debug, Clone, Copy)]
struct Next {
    /// Whether it opens with a list label.
    labelled: bool,
    /// Left edge of the column of text the line before stands in, when that line is
    /// right-to-left.
    rtl_column_left: Option<f32>,
    /// Whether the line itself is right-to-left.
    next_rtl: bool,
}

/// Whether `next` is the rest of `prev`'s line: on its baseline, to its right.
fn rest_of_line(prev: &Segment, next: &Segment) -> bool {
    let size = prev.size.max(next.size);
    (next.y - prev.y).abs() <= 0.3 * size && next.x0 >= prev.x1 - 0.5 * size
}

/// Whether `next` starts a new paragraph after `prev`, the last line of `open`.
fn breaks(prev: &Segment, next: &Segment, pitch: Option<f32>, open: Open, known: Next) -> bool {
    let Open {
        left,
        right,
        list_item,
        lines,
        second,
    } = open;
    if super::leaders::entry(&prev.text)
        || super::leaders::entry_after_entry_without_leader(&prev.text, &next.text)
    {
        // A table of contents' entry ends at its page number.
        return true;
    }
    let size = prev.size.max(next.size);
    let dy = next.y - prev.y;
    if rest_of_line(prev, next) {
        // The rest of the same line, after a wide gap.
        return !same_size(prev.size, next.size);
    }
    if dy < -0.3 * size && next.x0 >= right - 0.5 * size {
        // Up to the top of the next column: the paragraph goes on there when it ran over
        // lines to the column's edge and stopped mid-sentence, and the next line carries on in
        // lower case, in the same type.
        let open_sentence = prev
            .text
            .trim_end()
            .chars()
            .next_back()
            .is_some_and(|c| !matches!(c, '.' | '!' | '?' | ':' | ';'));
        // Words on both sides of the break, not code or formulas (`y:=-1`, `t1 = 100;`).
        let word = |w: Option<&str>| {
            w.map(|w| {
                w.trim_matches([
                    ',', ';', '.', ':', '!', '?', '-', '\u{2010}', '\u{ad}', '(', ')', '"',
                ])
            })
            .is_some_and(|w| !w.is_empty() && w.chars().all(char::is_alphabetic))
        };
        let carries_on = lines >= 2
            && prev.x1 >= right - 4.0 * size
            && open_sentence
            && next.text.starts_with(char::is_lowercase)
            && word(prev.text.split_whitespace().next_back())
            && word(next.text.split_whitespace().next())
            && same_size(prev.size, next.size)
            && prev.bold == next.bold;
        return !carries_on;
    }
    if dy <= 0.3 * size {
        return true;
    }
    let limit = pitch.map_or(1.5 * size, |p| (p * 1.3).max(1.35 * size));
    if dy > limit {
        return true;
    }
    if !same_size(prev.size, next.size) || prev.bold != next.bold {
        return true;
    }
    if next.x0 > prev.x1 || next.x1 < prev.x0 {
        return true;
    }
    if known.labelled || rule(&prev.text) || rule(&next.text) {
        return true;
    }
    // Right-to-left lines start at the right: the rules below read the page mirrored.
    let rtl = known.rtl_column_left.is_some() && known.next_rtl;
    let flip = |x0: f32, x1: f32| if rtl { (-x1, -x0) } else { (x0, x1) };
    let (_, prev_end) = flip(prev.x0, prev.x1);
    let (next_start, next_end) = flip(next.x0, next.x1);
    let (left, right) = flip(left, right);
    let second = if rtl {
        second.map(|(_, x1)| -x1)
    } else {
        second.map(|(x0, _)| x0)
    };
    let indent = next_start - left;
    // Only a line that ran to the right edge wraps: after a short first line (`1. Precision`)
    // an indented line starts the body, not the rest of the item.
    let wrapped = prev_end >= right.max(next_end) - 4.0 * size;
    let hanging = list_item && wrapped && indent <= MAX_HANGING_INDENT * size;
    if indent > 0.8 * size && indent < 8.0 * size && next_end > right - 2.0 * size && !hanging {
        return true;
    }
    let ends_sentence = prev.text.ends_with(['.', '!', '?', ':', '؟', '۔']);
    // A list item ends at a line back at its label's edge (or left of it) with no label of its
    // own, once its text hung indented under the label or a sentence ended.
    if list_item && next_start <= left + 0.5 * size {
        let hung = second.is_some_and(|x| x > left + 0.5 * size);
        if hung || ends_sentence && !next.text.starts_with(char::is_lowercase) {
            return true;
        }
    }
    // A right-to-left line is short at its left end.
    if let Some(column_left) = known.rtl_column_left
        && ends_sentence
        && prev.x0 > column_left.min(next.x0) + 4.0 * size
    {
        return true;
    }
    ends_sentence && prev_end < right.max(next_end) - 4.0 * size
}

/// Whether a line is a rule drawn in dashes, stars or the like (`- - - - x`, `* * *`): three
/// or more such marks and at most one other word. (Not a leader of dots.)
fn rule(text: &str) -> bool {
    let (mut marks, mut words) = (0usize, 0usize);
    for token in text.split_whitespace() {
        if token
            .chars()
            .all(|c| matches!(c, '-' | '*' | '_' | '=' | '~' | '–' | '—'))
        {
            marks += 1;
        } else {
            words += 1;
        }
    }
    marks >= 3 && words <= 1
}

/// How many lines back the left edge of a right-to-left line's column is looked for.
const COLUMN_REACH: usize = 30;

/// The left edge of the column of text that line `i` stands in: the leftmost of the lines
/// before it (back to the top of its column) that share some of its width.
fn column_left(lines: &[&Segment], i: usize) -> f32 {
    let line = lines[i];
    let mut left = line.x0;
    for j in (i.saturating_sub(COLUMN_REACH)..i).rev() {
        let (above, below) = (lines[j], lines[j + 1]);
        if above.y > below.y + 0.3 * above.size.max(below.size) {
            break;
        }
        if above.x0 < line.x1 && above.x1 > line.x0 {
            left = left.min(above.x0);
        }
    }
    left
}

/// Joins one more line onto a paragraph's text, undoing end-of-line hyphenation.
pub(crate) fn join_line(text: &mut String, line: &str) {
    if text.is_empty() {
        text.push_str(line);
        return;
    }
    // `-` or U+2010 HYPHEN (what WeasyPrint and others draw for a break inside a word) after a
    // letter, before a word in lower case.
    let mut back = text.chars().rev();
    let hyphen = matches!(back.next(), Some('-' | '\u{2010}'));
    let before = back.next();
    let hyphenated = hyphen
        && before.is_some_and(char::is_alphabetic)
        && line.chars().next().is_some_and(char::is_lowercase);
    if url_goes_on(text, line) {
        // A web address broken at the line's end (`https://CRAN.` / `R-project.org/…`).
    } else if hyphenated && before.is_some_and(char::is_uppercase) {
        // After a capital (`DBMS-specific`) the hyphen is the compound's own: words are not
        // broken after an acronym's letters.
    } else if hyphenated || text.ends_with('\u{ad}') {
        text.pop();
    } else {
        text.push(' ');
    }
    text.push_str(line);
}

/// Whether `line` goes on with a web address that ends `text`: the address (`http://`,
/// `https://` or `www.`) is the last word and breaks off after a separator (`/`, `.`, `-`,
/// `=`, `&`, `?`, `#`, `_`), and the line's first word is more of one (a path, a query or a
/// host part: `/`, `=`, `?`, `&`, `%`, or a dot inside it), not an address of its own nor a
/// label (`Email:`).
fn url_goes_on(text: &str, line: &str) -> bool {
    let last = text.rsplit(char::is_whitespace).next().unwrap_or_default();
    let last = last.trim_start_matches(['(', '<', '[', '"', '\'']);
    let address = ["http://", "https://", "www."]
        .iter()
        .any(|scheme| last.starts_with(scheme));
    let broken = last.ends_with(['/', '.', '-', '=', '&', '?', '#', '_']);
    let next = line.split(char::is_whitespace).next().unwrap_or_default();
    let next = next.trim_end_matches([')', '>', ']', '.', ',', ';', ':', '"', '\'']);
    let own = next.contains("://") || next.starts_with("www.") || next.contains(':');
    let more = next.contains(['/', '=', '?', '&', '%'])
        || next
            .split_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && b.starts_with(char::is_alphanumeric));
    // A typesetter breaks an address after its own hyphen, and adds none.
    address && broken && !own && (more || last.ends_with('-') && !next.is_empty())
}

/// Whether `first`, the first paragraph of a page, goes on with the running text that ended the
/// page before (`last_text`, set in `last_size`, bold or not): that text is a few words at least
/// (not a stray page number or label) and stops mid-sentence, and `first` starts in lower case,
/// in the same type.
pub(crate) fn continues_on_next_page(
    last_text: &str,
    (last_size, last_bold): (f32, bool),
    first: &Paragraph,
) -> bool {
    let open_sentence = last_text
        .trim_end()
        .chars()
        .next_back()
        .is_some_and(|c| !matches!(c, '.' | '!' | '?' | ':' | ';'));
    open_sentence
        && last_text.split_whitespace().nth(2).is_some()
        && first.text.chars().next().is_some_and(char::is_lowercase)
        && same_size(first.size, last_size)
        && first.bold == last_bold
}

/// Groups lines (already in reading order) into paragraphs.
pub(crate) fn paragraphs(lines: &[&Segment]) -> Vec<Paragraph> {
    let pitch = typical_pitch(lines);
    let body = super::headings::body_size(lines.iter().map(|l| (l.size, l.text.len())));
    let labels = lists::line_labels(lines);
    let displays = display::displays(lines);
    let mut out: Vec<Paragraph> = Vec::new();
    let mut prev: Option<&Segment> = None;
    // The left edge of the line `prev` ends: a line may come in segments, its last word set
    // apart by a stretched space.
    let mut line_left = f32::INFINITY;
    let mut open = Open {
        left: 0.0,
        right: 0.0,
        list_item: false,
        lines: 0,
        second: None,
    };
    for (i, &line) in lines.iter().enumerate() {
        let new = match prev {
            None => true,
            // A displayed line is a block of its own, with its scripts.
            Some(_) if displays[i].is_some() && displays[i] == displays[i - 1] => continue,
            Some(_) if displays[i].is_some() => {
                let end = (i..lines.len())
                    .find(|&k| displays[k] != displays[i])
                    .unwrap_or(lines.len());
                out.push(display::paragraph(&lines[i..end]));
                prev = lines.get(end - 1).copied();
                continue;
            }
            Some(_) if displays[i - 1].is_some() => true,
            Some(p) => {
                let known = Next {
                    labelled: labels[i].is_some_and(|l| l.breaks),
                    rtl_column_left: bidi::mostly_rtl(std::iter::once(p.text.as_str()))
                        .then(|| column_left(lines, i - 1)),
                    next_rtl: bidi::mostly_rtl(std::iter::once(line.text.as_str())),
                };
                let whole_line;
                let p = if line_left < p.x0 {
                    whole_line = Segment {
                        x0: line_left,
                        ..p.clone()
                    };
                    &whole_line
                } else {
                    p
                };
                breaks(p, line, pitch, open, known) || opens_footnote(line, body)
            }
        };
        if new || !prev.is_some_and(|p| rest_of_line(p, line)) {
            line_left = line.x0;
        }
        if new {
            out.push(Paragraph {
                text: String::new(),
                size: line.size,
                lines: 0,
                x0: line.x0,
                x1: line.x1,
                y: line.y,
                bold: true,
                label: labels[i].map(|l| l.label),
            });
            open = Open {
                left: line.x0,
                right: line.x1,
                list_item: labels[i].is_some(),
                lines: 1,
                second: None,
            };
        } else if prev.is_some_and(|p| line.y < p.y - 0.3 * p.size.max(line.size)) {
            // The paragraph goes on in the next column: its edges are that column's.
            open.left = line.x0;
            open.right = line.x1;
            open.lines += 1;
        } else {
            open.left = open.left.min(line.x0);
            open.right = open.right.max(line.x1);
            open.lines += 1;
            if open.lines == 2 {
                open.second = Some((line.x0, line.x1));
            }
        }
        if let Some(p) = out.last_mut() {
            join_line(&mut p.text, &line.text);
            p.lines += 1;
            p.bold &= line.bold;
        }
        prev = Some(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, x0: f32, x1: f32, y: f32) -> Segment {
        Segment::plain(text, x0, x1, y)
    }

    /// A line that comes in two segments (its last word set apart by a stretched space) goes
    /// on to the next line as a line of one segment does: the next line, under the line's
    /// start and not its last word, began a paragraph of its own.
    #[test]
    fn a_line_in_two_segments_goes_on_to_the_next() {
        let lines = [
            line(
                "The earlier low-level interface is given by functions make.socket,",
                104.9,
                447.6,
                265.9,
            ),
            line("read.socket,", 456.0, 522.0, 265.9),
            line("write.socket and close.socket.", 90.0, 255.3, 279.0),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let texts: Vec<String> = paragraphs(&refs).into_iter().map(|p| p.text).collect();
        assert_eq!(
            texts,
            [
                "The earlier low-level interface is given by functions make.socket, read.socket, write.socket and close.socket."
            ]
        );
    }

    #[test]
    fn hyphenation_is_joined() {
        let mut text = String::from("an exam-");
        join_line(&mut text, "ple of text");
        assert_eq!(text, "an example of text");
        let mut text = String::from("well-");
        join_line(&mut text, "Known");
        assert_eq!(text, "well- Known");
        let mut text = String::from("is DBMS-");
        join_line(&mut text, "specific");
        assert_eq!(text, "is DBMS-specific");
        // A web address broken at the line's end is one word again; one that ends a sentence
        // is not joined to the next.
        for (first, second, joined) in [
            (
                "(https://CRAN.",
                "R-project.org/package=DBI)",
                "(https://CRAN.R-project.org/package=DBI)",
            ),
            (
                "at https://CRAN.R-project.org/",
                "package=RPostgreSQL.",
                "at https://CRAN.R-project.org/package=RPostgreSQL.",
            ),
            (
                "see https://example.com.",
                "The next",
                "see https://example.com. The next",
            ),
            (
                "see www.example.com",
                "for more",
                "see www.example.com for more",
            ),
            // One address a line, or a label after one: apart.
            (
                "https://one.example.org/pub/",
                "https://two.example.net/pub/",
                "https://one.example.org/pub/ https://two.example.net/pub/",
            ),
            (
                "Web: http://www.example.com/school/",
                "Email:name@example.com",
                "Web: http://www.example.com/school/ Email:name@example.com",
            ),
            (
                "http://www.example.com/dilworth#",
                "Email: a@b.org",
                "http://www.example.com/dilworth# Email: a@b.org",
            ),
            // Broken right after the scheme, or after a hyphen of its own.
            (
                "see https://",
                "cran.r-project.org/web/",
                "see https://cran.r-project.org/web/",
            ),
            (
                "at https://example.org/some-",
                "path/to/it",
                "at https://example.org/some-path/to/it",
            ),
        ] {
            let mut text = String::from(first);
            join_line(&mut text, second);
            assert_eq!(text, joined);
        }
        // U+2010 HYPHEN and the soft hyphen, as WeasyPrint draws them.
        let mut text = String::from("acknowledge\u{2010}");
        join_line(&mut text, "ment of it");
        assert_eq!(text, "acknowledgement of it");
        let mut text = String::from("synchroniza\u{ad}");
        join_line(&mut text, "tion");
        assert_eq!(text, "synchronization");
        let mut text = String::from("pre\u{2010}");
        join_line(&mut text, "War");
        assert_eq!(text, "pre\u{2010} War");
        let mut text = String::from("2\u{2010}");
        join_line(&mut text, "day");
        assert_eq!(text, "2\u{2010} day");
    }

    #[test]
    fn a_paragraph_goes_on_at_the_top_of_the_next_column() {
        let lines = [
            line("The first column ends in the middle", 50.0, 280.0, 700.0),
            line("of a sentence that the next column", 50.0, 278.0, 712.0),
            line("carries. On, in lower case.", 320.0, 480.0, 100.0),
            line("A new paragraph, lower in that column", 320.0, 550.0, 124.0),
            line("ends with a full stop.", 320.0, 470.0, 136.0),
            line("Then up again in a third column.", 600.0, 800.0, 100.0),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let texts: Vec<String> = paragraphs(&refs).into_iter().map(|p| p.text).collect();
        assert_eq!(
            texts,
            [
                "The first column ends in the middle of a sentence that the next column carries. On, in lower case.",
                "A new paragraph, lower in that column ends with a full stop.",
                "Then up again in a third column."
            ]
        );
    }

    /// Contents entries set line after line at the body's pitch are paragraphs of their own; a
    /// title that wraps before its leader goes on to its page number.
    #[test]
    fn a_contents_entry_ends_at_its_page_number() {
        let lines = [
            line("1.1 Imports . . . 3", 50.0, 500.0, 100.0),
            line("1.1.1 Encodings . . . 4", 60.0, 500.0, 112.0),
            line(
                "4.1 Generic approach to block cipher implementation",
                50.0,
                420.0,
                124.0,
            ),
            line("construction . . . 35", 50.0, 500.0, 136.0),
            line("4.2 Blowfish . . . 36", 50.0, 500.0, 148.0),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let texts: Vec<String> = paragraphs(&refs).into_iter().map(|p| p.text).collect();
        assert_eq!(
            texts,
            [
                "1.1 Imports . . . 3",
                "1.1.1 Encodings . . . 4",
                "4.1 Generic approach to block cipher implementation construction . . . 35",
                "4.2 Blowfish . . . 36"
            ]
        );
    }

    #[test]
    fn gaps_and_short_lines_break_paragraphs() {
        let lines = [
            line("First paragraph line one", 50.0, 500.0, 100.0),
            line("and its end.", 50.0, 200.0, 112.0),
            line("Second paragraph after a short line", 50.0, 500.0, 124.0),
            line("still second", 50.0, 500.0, 136.0),
            line("Third after a gap", 50.0, 500.0, 170.0),
            line("• a bullet", 50.0, 500.0, 182.0),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let paras = paragraphs(&refs);
        let texts: Vec<&str> = paras.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "First paragraph line one and its end.",
                "Second paragraph after a short line still second",
                "Third after a gap",
                "• a bullet"
            ]
        );
    }

    /// A raised marker opening a line of footnote type starts a footnote, though the one before
    /// filled the measure; in body type (a citation wrapped to the line's start) it goes on.
    #[test]
    fn each_footnote_is_a_paragraph_and_a_wrapped_citation_goes_on() {
        let small = |text: &str, y: f32, marked: bool| Segment {
            size: 8.0,
            marked,
            ..line(text, 50.0, 500.0, y)
        };
        let mut cited = line("3,4 the paragraph goes on here", 50.0, 500.0, 136.0);
        cited.marked = true;
        let lines = [
            line("Body text of the page that fills", 50.0, 500.0, 100.0),
            line("its lines, as body text does, and", 50.0, 500.0, 112.0),
            line("cites its sources as it goes on", 50.0, 500.0, 124.0),
            cited,
            line("and ends.", 50.0, 200.0, 148.0),
            small("1The first footnote fills the measure of", 700.0, true),
            small("the page foot to its right edge", 709.6, false),
            small("2The second footnote.", 719.2, true),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let texts: Vec<String> = paragraphs(&refs).into_iter().map(|p| p.text).collect();
        assert_eq!(
            texts,
            [
                "Body text of the page that fills its lines, as body text does, and cites its \
                 sources as it goes on 3,4 the paragraph goes on here and ends.",
                "1The first footnote fills the measure of the page foot to its right edge",
                "2The second footnote."
            ]
        );
    }

    #[test]
    fn hanging_indent_continues_a_list_item() {
        // LaTeX itemize: the bullet hangs left of the item's text, its next lines align with the
        // text; a body paragraph indented as much is still a new paragraph.
        let lines = [
            line(
                "• Each vertex has a number iv, a region reference number region, and",
                60.0,
                500.0,
                100.0,
            ),
            line(
                "a boundary reference number ib which is zero for internal points.",
                72.0,
                500.0,
                112.0,
            ),
            line(
                "It continues here on a third line of the same item",
                72.0,
                500.0,
                124.0,
            ),
            line(
                "• An array-function is an array of values on the vertices of T. It rep-",
                60.0,
                500.0,
                136.0,
            ),
            line("resents a piecewise linear function.", 72.0, 300.0, 148.0),
            line(
                "A body paragraph, not indented, after the list ends here.",
                50.0,
                500.0,
                160.0,
            ),
            line(
                "Its first line is indented as far as the item text was indented",
                62.0,
                500.0,
                172.0,
            ),
            line("1. Precision", 50.0, 120.0, 184.0),
            line(
                "A short item line is a heading: the indented line under it is its body",
                62.0,
                500.0,
                196.0,
            ),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let texts: Vec<String> = paragraphs(&refs).into_iter().map(|p| p.text).collect();
        assert_eq!(
            texts,
            [
                "• Each vertex has a number iv, a region reference number region, and a boundary reference number ib which is zero for internal points. It continues here on a third line of the same item",
                "• An array-function is an array of values on the vertices of T. It represents a piecewise linear function.",
                "A body paragraph, not indented, after the list ends here.",
                "Its first line is indented as far as the item text was indented",
                "1. Precision",
                "A short item line is a heading: the indented line under it is its body",
            ]
        );
    }

    #[test]
    fn a_list_item_ends_at_a_line_back_at_its_label() {
        // ReportLab: one-line items, then a lead-in at the label's edge; LaTeX: an item whose
        // text hangs under it, then body text back at the label's edge.
        let lines = [
            line("• Bananas are yellow.", 78.0, 186.0, 154.0),
            line("• Cherries are dark red.", 78.0, 193.0, 172.0),
            line("Numbered:", 78.0, 127.0, 188.0),
            line(
                "• An item whose text runs on to the edge and",
                60.0,
                500.0,
                220.0,
            ),
            line("hangs under its label", 72.0, 180.0, 232.0),
            line("then text at the margin", 60.0, 500.0, 244.0),
            line(
                "- A dash, no bullet, runs on in a sentence",
                60.0,
                500.0,
                276.0,
            ),
            line("which wraps back to the dash.", 60.0, 300.0, 288.0),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let texts: Vec<String> = paragraphs(&refs).into_iter().map(|p| p.text).collect();
        assert_eq!(
            texts,
            [
                "• Bananas are yellow.",
                "• Cherries are dark red.",
                "Numbered:",
                "• An item whose text runs on to the edge and hangs under its label",
                "then text at the margin",
                "- A dash, no bullet, runs on in a sentence which wraps back to the dash.",
            ]
        );
    }

    #[test]
    fn right_to_left_paragraphs_stay_apart() {
        // WeasyPrint: paragraphs set flush right, one line each, at the pitch of the text;
        // each ends short at its left, further right than the column's left edge.
        let lines = [
            line("English line before.", 62.0, 177.0, 127.5),
            line(
                "שלום עולם, זהו משפט בעברית עם המספר 2024.",
                155.0,
                533.0,
                153.5,
            ),
            line(
                "مرحبا بالعالم، هذه جملة باللغة العربية.",
                343.0,
                533.0,
                179.5,
            ),
            line("Ligatures: the first floor office.", 62.0, 489.0, 205.5),
            // A paragraph of two right-to-left lines: the first runs the column's width.
            line("זוהי פסקה ארוכה בעברית. היא ממשיכה עד", 62.0, 533.0, 231.5),
            line("לשורה השנייה.", 420.0, 533.0, 257.5),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let texts: Vec<String> = paragraphs(&refs).into_iter().map(|p| p.text).collect();
        assert_eq!(
            texts,
            [
                "English line before.",
                "שלום עולם, זהו משפט בעברית עם המספר 2024.",
                "مرحبا بالعالم، هذه جملة باللغة العربية.",
                "Ligatures: the first floor office.",
                "זוהי פסקה ארוכה בעברית. היא ממשיכה עד לשורה השנייה.",
            ]
        );
    }

    #[test]
    fn right_to_left_lines_ragged_at_their_left_go_on() {
        // WeasyPrint, `body{width:300px}`, Arabic and Hebrew: each line is flush right, short at
        // its left by up to several words; only a line that ends a sentence short ends its
        // paragraph (an indent is at the right).
        let lines = [
            line("هذه هي الفقرة الأولى وهي طويلة بما يكفي", 72.0, 287.2, 79.4),
            line("لتمتد على عدة أسطر في هذه الصفحة", 97.2, 287.3, 93.4),
            line("الضيقة، مع كلمات كثيرة أخرى.", 133.8, 287.3, 107.3),
            line("فقرة أخرى طويلة أيضا، وفيها جمل عدة.", 87.4, 287.3, 133.3),
            line(
                "الجملة الثانية تستمر هنا مع بعض الكلمات",
                83.7,
                287.3,
                147.3,
            ),
            line("لملء سطر ثالث في الصفحة.", 140.5, 287.3, 161.2),
            line("זוהי הפסקה הראשונה והיא ארוכה מספיק", 75.0, 287.2, 187.2),
            line("כדי להימשך על פני כמה שורות בעמוד הצר", 69.0, 287.2, 201.2),
            line("הזה, עם עוד מילים רבות.", 158.6, 287.2, 215.1),
            line("פסקה שנייה,", 240.0, 277.2, 241.1),
            line("עם שורה שנייה.", 220.0, 287.2, 255.1),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let texts: Vec<String> = paragraphs(&refs).into_iter().map(|p| p.text).collect();
        assert_eq!(
            texts,
            [
                "هذه هي الفقرة الأولى وهي طويلة بما يكفي لتمتد على عدة أسطر في هذه الصفحة الضيقة، مع كلمات كثيرة أخرى.",
                "فقرة أخرى طويلة أيضا، وفيها جمل عدة. الجملة الثانية تستمر هنا مع بعض الكلمات لملء سطر ثالث في الصفحة.",
                "זוהי הפסקה הראשונה והיא ארוכה מספיק כדי להימשך על פני כמה שורות בעמוד הצר הזה, עם עוד מילים רבות.",
                "פסקה שנייה, עם שורה שנייה.",
            ]
        );
    }

    #[test]
    fn a_rule_of_dashes_stands_alone() {
        let lines = [
            line(
                "IN THE SUPREME COURT OF THE UNITED STATES",
                100.0,
                400.0,
                100.0,
            ),
            line("- - - - - - - - - - - x", 100.0, 300.0, 112.0),
            line("MICHAEL A. KNOWLES,", 100.0, 250.0, 124.0),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        assert_eq!(paragraphs(&refs).len(), 3);
        assert!(rule("* * *"));
        assert!(!rule("Contents . . . . . 3"));
        assert!(!rule("- a dash - and - more words"));
    }

    #[test]
    fn a_sentence_cut_by_the_page_end_continues_on_the_next_page() {
        let first = |text: &str, size: f32, bold: bool| Paragraph {
            text: text.into(),
            size,
            lines: 1,
            x0: 50.0,
            x1: 500.0,
            y: 100.0,
            bold,
            label: None,
        };
        let body = (10.0, false);
        let next = first("clockwise if it is the boundary of a hole.", 10.0, false);
        assert!(continues_on_next_page("outer boundary and", body, &next));
        assert!(continues_on_next_page("this is an exam-", body, &next));
        assert!(!continues_on_next_page("the sentence ends.", body, &next));
        assert!(!continues_on_next_page("a list follows:", body, &next));
        assert!(!continues_on_next_page("1", body, &next));
        assert!(!continues_on_next_page("dyy()", body, &next));
        let capital = first("The next paragraph.", 10.0, false);
        assert!(!continues_on_next_page(
            "outer boundary and",
            body,
            &capital
        ));
        let small = first("www.example.org", 7.0, false);
        assert!(!continues_on_next_page("outer boundary and", body, &small));
        let bold = first("clockwise", 10.0, true);
        assert!(!continues_on_next_page("outer boundary and", body, &bold));
    }
}
