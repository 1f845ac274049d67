//! Glyphs to words to line pieces: glyphs on one baseline that follow each other closely form a
//! [`Segment`]; a gap wider than a few spaces (a column gutter, a table cell border) starts a
//! new segment on the same baseline.

use std::borrow::Cow;

use super::extract::Glyph;
use super::grid::PageRules;

/// A horizontal run of text on one baseline: a line, or a piece of one when gaps split it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    /// Left edge.
    pub x0: f32,
    /// Right edge.
    pub x1: f32,
    /// Baseline, from the page top.
    pub y: f32,
    /// Baseline of the last line, when the segment stands for several (a table); else `y`.
    pub y_last: f32,
    /// Dominant font size.
    pub size: f32,
    /// The text, words separated by single spaces: in visual order (see [`super::bidi::visual`])
    /// until [`segments`] puts it in logical order.
    pub text: String,
    /// Whether all of it is set in a bold font.
    pub bold: bool,
    /// Whether all of it is set in a monospaced font.
    pub mono: bool,
    /// Whether it opens with a raised marker (a footnote's number, `∗`, `†`).
    pub marked: bool,
}

impl Segment {
    /// A plain 10-point segment of `text` from `x0` to `x1` on baseline `y`, for tests.
    #[cfg(test)]
    pub(crate) fn plain(text: &str, x0: f32, x1: f32, y: f32) -> Segment {
        Segment {
            x0,
            x1,
            y,
            y_last: y,
            size: 10.0,
            text: text.into(),
            bold: false,
            mono: false,
            marked: false,
        }
    }
}

impl Segment {
    /// Top of the text box (ascenders).
    pub fn top(&self) -> f32 {
        self.y - 0.8 * self.size
    }

    /// Bottom of the text box (descenders).
    pub fn bottom(&self) -> f32 {
        self.y_last + 0.25 * self.size
    }
}

/// A gap wider than this many font sizes splits a line into segments.
pub(crate) const SPLIT_GAP: f32 = 0.75;
/// A gap wider than this many font sizes between glyphs is a word space.
const SPACE_GAP: f32 = 0.12;
/// Widest gap, in font sizes, between a lone bullet and the item text it marks (a tab stop).
const BULLET_GAP: f32 = 5.0;

/// Whether `label`, a number, letter or numeral alone (`10`, `b.`), set in a type and on a
/// baseline of its own apart from the text that follows it after a word space (`spaced`; the
/// text in `next_size` type on baseline `next_y`), is a list item's label drawn in a column of
/// its own: ReportLab sets `10` in 12 points, 2 points below items in 10, so close to them that
/// the two would read as one word. (A line number or page number on the text's baseline stays
/// with it.)
fn label_apart(label: &Segment, (next_size, next_y): (f32, f32), spaced: bool) -> bool {
    let size = label.size.max(next_size);
    spaced
        && (label.size - next_size).abs() > 0.1 * size
        && (label.y - next_y).abs() > 0.1 * size
        && super::lists::label_only(&label.text).is_some_and(|l| l.ordered())
}

/// Whether `text` is a bullet glyph alone: the marker of the text to its right, however far
/// the tab stop puts it.
fn lone_bullet(text: &str) -> bool {
    let mut chars = text.trim().chars();
    chars.next().is_some_and(super::lists::is_bullet) && chars.next().is_none()
}

/// Largest type of an exponent or index, as a share of the text's (WeasyPrint's `<sup>` is 0.9
/// of it, 0.96 in a heading; ReportLab's in a heading 2 points less: 0.86 to 0.89).
const SCRIPT_SIZE: f32 = 0.97;
/// Smallest type of an exponent or index, as a share of the text's (LaTeX's second-level
/// scripts are half of it; a line beside a drop cap is less).
const MIN_SCRIPT_SIZE: f32 = 0.5;
/// Nearest and farthest an exponent's or index's baseline stands from the text's, in the
/// text's size.
const SCRIPT_SHIFT: std::ops::RangeInclusive<f32> = 0.1..=0.7;
/// Widest gap, in the smaller of the two sizes, between an exponent or index and the text it
/// follows (so that a word space in the script's own type ends it).
const SCRIPT_GAP: f32 = 0.15;
/// Widest gap, in the text's size, between a raised marker that opens a line (a footnote's
/// number) and the text after it, a word space included.
const MARKER_GAP: f32 = 0.5;
/// Most characters of such a marker.
const MAX_MARKER: usize = 5;

/// Whether `text` may be a raised marker that opens a line: a footnote's number, letter or
/// sign (`1`, `a`, `∗`, `†`), or citation numbers wrapped to the line's start (`3,4`, `7–9`);
/// not a rule (a `|` between footer fields).
fn marker(text: &str) -> bool {
    let text = text.trim_end();
    let sign = |c: char| c.is_alphanumeric() || "*∗†‡§¶#".contains(c);
    // A long text is told by its length in bytes alone (at most 4 a character): this is asked
    // of the line being built at every glyph.
    text.len() <= 4 * MAX_MARKER
        && (1..=MAX_MARKER).contains(&text.chars().count())
        && text.chars().any(sign)
        && text.chars().all(|c| sign(c) || ",-–".contains(c))
}

/// Whether type of `size` on baseline `y` is an exponent or index (a superscript or subscript:
/// `m²`, `H₂O`, a citation's number) of text of `text_size` on baseline `text_y`: smaller, and
/// raised or lowered (smaller type on the text's baseline is not a script: a page number after
/// a `|` in larger type).
fn script_of(size: f32, y: f32, text_size: f32, text_y: f32) -> bool {
    (MIN_SCRIPT_SIZE * text_size..=SCRIPT_SIZE * text_size).contains(&size)
        && SCRIPT_SHIFT.contains(&((y - text_y).abs() / text_size))
}

/// Whether two baselines belong to one line, given the larger font size.
fn same_baseline(a: f32, b: f32, size: f32) -> bool {
    (a - b).abs() <= 0.35 * size
}

/// Groups segments (sorted by baseline then x, as [`segments`] returns them) into rows that
/// share a baseline: segment indices, each row left to right.
pub(crate) fn rows(segs: &[Segment]) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        match rows.last_mut() {
            Some(row) if (segs[row[0]].y - s.y).abs() <= 0.35 * s.size.max(segs[row[0]].size) => {
                row.push(i)
            }
            _ => rows.push(vec![i]),
        }
    }
    for row in &mut rows {
        row.sort_by(|&a, &b| segs[a].x0.total_cmp(&segs[b].x0));
    }
    rows
}

/// Groups glyphs (in any order) into segments, sorted top to bottom then left to right. Text
/// is not joined across a vertical line of `rules` (a cell border).
pub(crate) fn segments(glyphs: &[Glyph], rules: &PageRules) -> Vec<Segment> {
    let glyphs = super::accents::combine(glyphs);
    let runs = runs(&glyphs, rules);
    let mut segments = merge_runs(runs, rules);
    for seg in &mut segments {
        if let Some(text) = super::bidi::logical_order(&seg.text) {
            seg.text = text;
        }
    }
    segments
}

/// Pieces built from glyphs in content order: each glyph extends the current piece when it
/// continues it on the same baseline.
fn runs(glyphs: &[Glyph], rules: &PageRules) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut current: Option<Segment> = None;
    let mut pending_space = false;
    for g in glyphs {
        let blank = g.text.chars().all(char::is_whitespace);
        if let Some(seg) = current.as_mut() {
            let size = seg.size.max(g.size);
            let gap = g.x - seg.x1;
            let walled = rules.walled(seg.x1, g.x, g.y, size);
            let continues = same_baseline(seg.y, g.y, size)
                && gap > -0.5 * size
                && gap < SPLIT_GAP * size
                && (g.size - seg.size).abs() <= 0.3 * size
                && !walled
                && (blank
                    || !label_apart(seg, (g.size, g.y), pending_space || gap > SPACE_GAP * size));
            // An exponent or index drawn right after its text, with no space between, goes on
            // its line (`m2`, `H2O`, `et al.12`); the text's baseline and size stay the line's.
            let script = !blank
                && !walled
                && !pending_space
                && (-0.5 * size..SCRIPT_GAP * seg.size.min(g.size)).contains(&gap)
                && script_of(g.size, g.y, seg.size, seg.y);
            // A raised marker that opens a line (a footnote's number) takes the baseline and
            // size of the text after it, and stays a word of its own (`4 Exceptions`).
            let marked = !blank
                && !walled
                && seg.y < g.y
                && (-0.5 * size..MARKER_GAP * g.size).contains(&gap)
                && script_of(seg.size, seg.y, g.size, g.y)
                && marker(&seg.text);
            if marked {
                seg.y = g.y;
                seg.y_last = g.y;
                seg.size = g.size;
                seg.marked = true;
            }
            if continues || script || marked {
                if blank {
                    pending_space = true;
                    seg.x1 = seg.x1.max(g.x + g.w);
                    continue;
                }
                if (pending_space || marked || gap > SPACE_GAP * size) && !seg.text.ends_with(' ') {
                    seg.text.push(' ');
                }
                pending_space = false;
                seg.text.push_str(&super::bidi::visual(&g.text));
                seg.bold &= g.bold;
                seg.mono &= g.mono;
                seg.x1 = seg.x1.max(g.x + g.w);
                continue;
            }
            if blank {
                continue;
            }
            out.extend(
                current
                    .take()
                    .map(|seg| with_trailing_space(seg, pending_space)),
            );
        }
        pending_space = false;
        if blank || g.text.is_empty() {
            continue;
        }
        current = Some(Segment {
            x0: g.x,
            x1: g.x + g.w,
            y: g.y,
            y_last: g.y,
            size: g.size,
            text: super::bidi::visual(&g.text).into_owned(),
            bold: g.bold,
            mono: g.mono,
            marked: false,
        });
    }
    out.extend(current.map(|seg| with_trailing_space(seg, pending_space)));
    out.retain(|s| !s.text.trim().is_empty());
    out
}

/// A run that ends in a drawn space keeps it as a trailing `' '` until runs are merged: the
/// run drawn next to it (an item's text after its `1. ` marker) is another word, however
/// close. Other trailing white space is dropped.
fn with_trailing_space(mut seg: Segment, space: bool) -> Segment {
    let trimmed = seg.text.trim_end().len();
    seg.text.truncate(trimmed);
    if space {
        seg.text.push(' ');
    }
    seg
}

/// Widest word space of a justified line, in font sizes.
const MAX_JUSTIFIED_GAP: f32 = 2.5;
/// How much the word spaces of one justified line may differ, in font sizes.
const JUSTIFIED_SPREAD: f32 = 0.1;
/// Fewest words of a justified line told apart by its spaces.
const JUSTIFIED_WORDS: usize = 3;
/// Fewest characters of those words, on average.
const JUSTIFIED_WORD_CHARS: usize = 3;

/// Joins runs of words on one baseline (sorted left to right) that a justified line spaced
/// wider than [`SPLIT_GAP`]: at least [`JUSTIFIED_WORDS`] single words with letters, separated
/// by spaces of one width (justification shares the slack out evenly). Table cells and column
/// gutters are spaced as their contents fall, and numbers are left alone.
fn join_justified(line: Vec<Segment>, rules: &PageRules) -> Vec<Segment> {
    let word =
        |s: &Segment| !s.text.trim_end().contains(' ') && s.text.chars().any(char::is_alphabetic);
    let mut out: Vec<Segment> = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let mut j = i;
        if word(&line[i]) {
            let (mut low, mut high) = (f32::INFINITY, f32::NEG_INFINITY);
            while j + 1 < line.len() && word(&line[j + 1]) {
                let size = line[j].size.max(line[j + 1].size);
                let gap = line[j + 1].x0 - line[j].x1;
                let (l, h) = (low.min(gap), high.max(gap));
                if gap <= 0.0
                    || gap > MAX_JUSTIFIED_GAP * size
                    || h - l > JUSTIFIED_SPREAD * size
                    || rules.walled(line[j].x1, line[j + 1].x0, line[j].y, size)
                {
                    break;
                }
                (low, high) = (l, h);
                j += 1;
            }
        }
        // Words, not a grid of letters or symbols (`A  B  C`): a few letters each on average.
        let chars: usize = line[i..=j]
            .iter()
            .map(|s| s.text.trim_end().chars().count())
            .sum();
        if j + 1 - i >= JUSTIFIED_WORDS && chars >= JUSTIFIED_WORD_CHARS * (j + 1 - i) {
            let mut joined = line[i].clone();
            for next in &line[i + 1..=j] {
                if !joined.text.ends_with(' ') {
                    joined.text.push(' ');
                }
                joined.text.push_str(&next.text);
                joined.bold &= next.bold;
                joined.mono &= next.mono;
                joined.x1 = joined.x1.max(next.x1);
            }
            out.push(joined);
        } else {
            out.extend(line[i..=j].iter().cloned());
        }
        i = j + 1;
    }
    out
}

/// Widest gap, in font sizes, between a section number and its title (TeX sets a quad, one).
const SECTION_GAP: f32 = 1.6;
/// Most words of a title after a section number (leader dots aside).
const SECTION_TITLE_WORDS: usize = 12;

/// Whether `number` is a section number and `title`, after it on its baseline in the same type
/// and at most [`SECTION_GAP`] away, the short title it numbers (`1 Introduction`, `2.3
/// Scope`): one line, though set wider apart than words are. A number of one level (`1`) must
/// be bold with its title, as headings are: ReportLab sets a list's labels as far from their
/// items, in body type.
fn titled_section_number(number: &Segment, title: &Segment, gap: f32) -> bool {
    let size = number.size.max(title.size);
    let parts: Vec<&str> = number.text.split('.').collect();
    let levels = parts.len();
    let numeral = levels <= 4
        && parts.iter().enumerate().all(|(k, part)| {
            let digits = (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
            // An appendix's letter opens a number of several levels (`A.1`).
            let letter =
                k == 0 && levels > 1 && part.len() == 1 && part.as_bytes()[0].is_ascii_uppercase();
            digits || letter
        });
    let words = title
        .text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    numeral
        && (levels > 1 || number.bold && title.bold)
        && title.text.starts_with(char::is_uppercase)
        && words <= SECTION_TITLE_WORDS
        && (number.size - title.size).abs() <= 0.05 * size
        && number.bold == title.bold
        && (0.0..SECTION_GAP * size).contains(&gap)
}

/// Sorts runs into lines by baseline and joins neighbours on a line that are close enough.
fn merge_runs(mut runs: Vec<Segment>, rules: &PageRules) -> Vec<Segment> {
    runs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    // Cluster baselines.
    let mut lines: Vec<Vec<Segment>> = Vec::new();
    for run in runs {
        match lines.last_mut() {
            Some(line) if same_baseline(line[0].y, run.y, line[0].size.max(run.size)) => {
                line.push(run)
            }
            _ => lines.push(vec![run]),
        }
    }
    let mut out = Vec::new();
    for mut line in lines {
        line.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        let line = join_justified(line, rules);
        let mut iter = line.into_iter();
        let Some(mut current) = iter.next() else {
            continue;
        };
        for next in iter {
            let size = current.size.max(next.size);
            let gap = next.x0 - current.x1;
            // (Not before a lone character: a chart of glyphs, a grid of symbols.)
            let bullet = lone_bullet(&current.text)
                && next.text.trim_end().chars().nth(1).is_some()
                && (0.0..BULLET_GAP * size).contains(&gap);
            let walled = rules.walled(current.x1, next.x0, next.y, size);
            let apart = label_apart(&current, (next.size, next.y), gap > SPACE_GAP * size);
            let numbered = titled_section_number(&current, &next, gap);
            let paged = leader_page(&current, &next, gap);
            let led = leader_after(&current, &next, gap);
            let mut next = next;
            if led {
                // However many dots the typesetter drew (two, when the title left little room).
                next.text = ". . .".to_string();
            }
            if !walled
                && !apart
                && (bullet
                    || numbered
                    || paged
                    || led
                    || gap < SPLIT_GAP * size && gap > -2.0 * size)
            {
                let spaced = bullet
                    || numbered
                    || paged
                    || led
                    || gap > SPACE_GAP * size
                    || current.text.ends_with(char::is_alphanumeric)
                        && next.text.starts_with(char::is_alphanumeric)
                        && gap > 0.0;
                // Keep the larger share's size (the space between counted with the left one).
                let left = current.text.trim_end().len() + usize::from(spaced);
                if next.text.trim_end().len() > left {
                    current.size = next.size;
                }
                if spaced && !current.text.ends_with(' ') {
                    current.text.push(' ');
                }
                current.text.push_str(&next.text);
                current.bold &= next.bold;
                current.mono &= next.mono;
                current.x1 = current.x1.max(next.x1);
            } else {
                out.push(current);
                current = next;
            }
        }
        out.push(current);
    }
    for seg in &mut out {
        let trimmed = seg.text.trim_end().len();
        seg.text.truncate(trimmed);
        if !seg.mono
            && let Cow::Owned(collapsed) = super::leaders::collapse(&seg.text)
        {
            seg.text = collapsed;
        }
    }
    out
}

/// Whether `leader` is a table of contents' leader dots set apart after the title `entry`, on
/// its baseline in the same type.
fn leader_after(entry: &Segment, leader: &Segment, gap: f32) -> bool {
    apart_in_same_type(entry, leader, gap)
        && entry.text.chars().any(char::is_alphanumeric)
        && super::leaders::leader_alone(&leader.text)
}

/// Whether `page` is the page number that `entry`'s leader dots lead to, set apart at the right
/// on its baseline in the same type (a table of contents).
fn leader_page(entry: &Segment, page: &Segment, gap: f32) -> bool {
    apart_in_same_type(entry, page, gap)
        && super::leaders::awaits_page_number(&entry.text)
        && super::leaders::page_number(&page.text)
}

/// Whether `next` comes after `current`, `gap` to the right on its baseline, in the same size.
fn apart_in_same_type(current: &Segment, next: &Segment, gap: f32) -> bool {
    gap > 0.0 && same_size(current.size, next.size)
}

/// Largest difference between two font sizes, as a share of the larger, that still counts as
/// one size of type (rounding, a font's own metrics).
const SAME_SIZE: f32 = 0.12;

/// Whether font sizes `a` and `b` are one size of type.
pub(crate) fn same_size(a: f32, b: f32) -> bool {
    (a - b).abs() <= SAME_SIZE * a.max(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A section number and its title a quad apart are one line; a list's label as far from
    /// its item in body type, or a number before a sentence, stays apart.
    #[test]
    fn a_section_number_and_its_title_are_one_line() {
        let part = |text: &str, x0: f32, x1: f32, size: f32, bold: bool| Segment {
            size,
            bold,
            ..Segment::plain(text, x0, x1, 100.0)
        };
        let joined = |number: Segment, title: Segment| {
            let gap = title.x0 - number.x1;
            titled_section_number(&number, &title, gap)
        };
        // `1 Introduction` in 12-point bold, 12 points apart (TeX's quad).
        assert!(joined(
            part("1", 72.0, 78.0, 12.0, true),
            part("Introduction", 90.0, 155.0, 12.0, true)
        ));
        assert!(joined(
            part("2.3", 72.0, 85.0, 10.0, false),
            part("Scope", 97.0, 125.0, 10.0, false)
        ));
        assert!(joined(
            part("A.1", 72.0, 85.0, 10.0, true),
            part("Proofs", 97.0, 125.0, 10.0, true)
        ));
        // ReportLab's list labels, in body type.
        assert!(!joined(
            part("1", 72.0, 77.0, 10.0, false),
            part("Open the box.", 90.0, 150.0, 10.0, false)
        ));
        assert!(!joined(
            part("2.3", 72.0, 85.0, 10.0, false),
            part(
                "percent of the samples were lost.",
                97.0,
                250.0,
                10.0,
                false
            )
        ));
        assert!(!joined(
            part("2.3", 72.0, 85.0, 10.0, false),
            part("Scope", 130.0, 160.0, 10.0, false)
        ));
        assert!(!joined(
            part("1.", 72.0, 78.0, 12.0, true),
            part("Introduction", 90.0, 155.0, 12.0, true)
        ));
    }

    /// The texts of the segments `glyphs` make on a page without rules.
    fn texts_of(glyphs: &[Glyph]) -> Vec<String> {
        segments(glyphs, &PageRules::default())
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    fn glyphs(text: &str, x: f32, y: f32, size: f32) -> Vec<Glyph> {
        let w = size * 0.5;
        text.chars()
            .enumerate()
            .map(|(i, c)| Glyph {
                x: x + i as f32 * w,
                y,
                w,
                size,
                text: c.to_string(),
                bold: false,
                mono: false,
            })
            .collect()
    }

    /// TeX sets a contents entry's title, leader and page number apart on its line: they are one
    /// segment, the leader as three dots however many were drawn. A number far right of a line
    /// with no leader stays apart, and code keeps its dots.
    #[test]
    fn a_contents_entry_is_one_segment_with_its_leader_and_page_number() {
        let mut entry = glyphs("3.3.3 Geometric variables", 10.0, 100.0, 10.0);
        entry.extend(glyphs(". .", 150.0, 100.0, 10.0));
        entry.extend(glyphs("12", 300.0, 100.0, 10.0));
        let mut long = glyphs("3.1 Programs", 10.0, 120.0, 10.0);
        long.extend(glyphs(". . . . . . . . . . . .", 90.0, 120.0, 10.0));
        long.extend(glyphs("8", 300.0, 120.0, 10.0));
        let mut plain = glyphs("Total", 10.0, 140.0, 10.0);
        plain.extend(glyphs("42", 300.0, 140.0, 10.0));
        let mut all = entry;
        all.extend(long);
        all.extend(plain);
        assert_eq!(
            texts_of(&all),
            [
                "3.3.3 Geometric variables . . . 12",
                "3.1 Programs . . . 8",
                "Total",
                "42"
            ]
        );
        let code: Vec<Glyph> = glyphs("x ....... y", 10.0, 100.0, 10.0)
            .into_iter()
            .map(|g| Glyph { mono: true, ..g })
            .collect();
        assert_eq!(texts_of(&code), ["x ....... y"]);
    }

    #[test]
    fn words_and_lines_from_positions() {
        let mut g = glyphs("Hello", 10.0, 100.0, 10.0);
        // A word after a gap without a space glyph.
        g.extend(glyphs("world", 10.0 + 5.0 * 5.0 + 3.0, 100.5, 10.0));
        // The next line, drawn first in the stream.
        let mut all = glyphs("Second line", 10.0, 112.0, 10.0);
        all.extend(g);
        let segs = segments(&all, &PageRules::default());
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["Hello world", "Second line"]);
    }

    #[test]
    fn a_label_in_a_type_of_its_own_is_a_segment_of_its_own() {
        // ReportLab: `10` in 12 points, its item's text in 10 points a word space after it.
        let mut g = glyphs("10", 78.0, 430.0, 12.0);
        g.extend(glyphs("Long entry", 78.0 + 12.0 + 4.7, 428.0, 10.0));
        // A word in a larger type inside a line stays in it.
        g.extend(glyphs("Some", 78.0, 460.0, 10.0));
        g.extend(glyphs("BIG", 78.0 + 20.0 + 2.0, 460.0, 12.0));
        g.extend(glyphs("word", 78.0 + 40.0 + 2.0, 460.0, 10.0));
        let texts = texts_of(&g);
        assert_eq!(texts, ["10", "Long entry", "Some BIG word"]);
    }

    /// `glyphs` of `text` at `x` followed, touching, by `script` in 7-point type `shift` points
    /// below (positive) or above (negative) the 10-point text's baseline `y`, then `rest`
    /// after a space; with the x after it.
    fn with_script(text: &str, script: &str, shift: f32, rest: &str, x: f32, y: f32) -> Vec<Glyph> {
        let mut g = glyphs(text, x, y, 10.0);
        let mut x = x + 5.0 * text.chars().count() as f32;
        g.extend(glyphs(script, x, y + shift, 7.0));
        x += 3.5 * script.chars().count() as f32;
        g.extend(glyphs(" ", x, y, 10.0));
        g.extend(glyphs(rest, x + 2.5, y, 10.0));
        g
    }

    /// Exponents, indices and citation numbers drawn right after their text stay in its line
    /// (they broke it in two, with the script on a line of its own between).
    #[test]
    fn exponents_and_indices_stay_in_their_line() {
        let mut g = with_script("an area of 25 m", "2", -3.5, "and more", 10.0, 100.0);
        g.extend(with_script("water is H", "2", 2.0, "and air", 10.0, 120.0));
        g.extend(with_script(
            "Smith et al.",
            "12,13",
            -4.0,
            "found",
            10.0,
            140.0,
        ));
        assert_eq!(
            texts_of(&g),
            [
                "an area of 25 m2 and more",
                "water is H2 and air",
                "Smith et al.12,13 found"
            ]
        );
    }

    /// WeasyPrint's `<sup>` (9 points on 10, raised 4.5) is an exponent too; the first line
    /// beside a drop cap (10 points beside 22, 13 above its baseline) is not the cap's script.
    #[test]
    fn a_large_script_is_one_and_a_drop_caps_line_is_none() {
        let mut g = glyphs("covers 40 m", 10.0, 100.0, 10.0);
        g.extend(glyphs("2", 65.0, 95.5, 9.0));
        g.extend(glyphs(" and more", 69.5, 100.0, 10.0));
        g.extend(glyphs("D", 10.0, 213.0, 22.0));
        g.extend(glyphs("rop caps are", 21.0, 200.0, 10.0));
        assert_eq!(texts_of(&g), ["covers 40 m2 and more", "rop caps are", "D"]);
    }

    /// Citation numbers wrapped to the start of a line, raised, go with the text after them.
    #[test]
    fn a_wrapped_citation_list_opens_its_line() {
        let mut g = glyphs("3,4", 10.0, 96.0, 7.0);
        g.extend(glyphs(" and the line goes on", 19.0, 100.0, 10.0));
        assert_eq!(texts_of(&g), ["3,4 and the line goes on"]);
    }

    /// A raised marker opening a line (a footnote's number) goes with the text after it, which
    /// keeps its baseline and size; it stays a word of its own, drawn with no gap too (it was
    /// glued on, `1The`, `1pironneau@…`, which no search for the word finds).
    #[test]
    fn a_raised_marker_opens_its_line() {
        let mut g = glyphs("1", 10.0, 96.0, 7.0);
        g.extend(glyphs("The code is released", 13.5, 100.0, 10.0));
        let segs = segments(&g, &PageRules::default());
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].text, "1 The code is released");
        assert_eq!((segs[0].y, segs[0].size), (100.0, 10.0));
    }

    /// Smaller type on the text's own baseline or after a space is no script, nor is a raised
    /// rule sign a marker: each stays a piece of its own in its own type (a page number in 7
    /// points after a `|` in 12 took the `|`'s size and left its footer's line).
    #[test]
    fn smaller_type_on_the_baseline_or_after_a_space_is_no_script() {
        let mut g = glyphs("|", 500.0, 100.0, 12.0);
        g.extend(glyphs(" ", 506.0, 100.0, 12.0));
        g.extend(glyphs("41", 512.0, 100.0, 7.0));
        g.extend(glyphs("|", 500.0, 120.0, 12.0));
        g.extend(glyphs("41", 506.0, 120.0, 7.0));
        g.extend(glyphs("|", 500.0, 139.0, 6.0));
        g.extend(glyphs("Footer", 503.0, 143.0, 10.0));
        let pieces: Vec<(String, f32, f32)> = runs(&g, &PageRules::default())
            .into_iter()
            .map(|run| (run.text, run.y, run.size))
            .collect();
        let expected = [
            ("| ", 100.0, 12.0),
            ("41", 100.0, 7.0),
            ("|", 120.0, 12.0),
            ("41", 120.0, 7.0),
            ("|", 139.0, 6.0),
            ("Footer", 143.0, 10.0),
        ];
        assert_eq!(
            pieces,
            expected.map(|(text, y, size)| (text.to_owned(), y, size))
        );
    }

    #[test]
    fn a_justified_line_with_wide_spaces_is_one_segment() {
        // Four words spaced 9 points apart (justified), then a column gutter of 20 points and
        // the next column's line; then a row of numbers spaced alike, which stays apart.
        let mut g = Vec::new();
        let mut x = 10.0;
        for w in ["rotation,", "synchronization", "rotation", "consistency."] {
            g.extend(glyphs(w, x, 100.0, 10.0));
            x += 5.0 * w.chars().count() as f32 + 9.0;
        }
        g.extend(glyphs("next column", x - 9.0 + 20.0, 100.0, 10.0));
        for (k, n) in ["1.5", "2.5", "3.5"].into_iter().enumerate() {
            g.extend(glyphs(n, 10.0 + 24.0 * k as f32, 120.0, 10.0));
        }
        // Nor does a grid of letters.
        for (k, n) in ["A", "B", "C"].into_iter().enumerate() {
            g.extend(glyphs(n, 10.0 + 14.0 * k as f32, 140.0, 10.0));
        }
        let texts = texts_of(&g);
        assert_eq!(
            texts,
            [
                "rotation, synchronization rotation consistency.",
                "next column",
                "1.5",
                "2.5",
                "3.5",
                "A",
                "B",
                "C"
            ]
        );
    }

    #[test]
    fn wide_gaps_split_columns() {
        let mut g = glyphs("left column", 10.0, 100.0, 10.0);
        g.extend(glyphs("right column", 200.0, 100.0, 10.0));
        let segs = segments(&g, &PageRules::default());
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].text, "left column");
        assert_eq!(segs[1].text, "right column");
    }

    #[test]
    fn a_marker_drawn_with_its_space_is_a_word_of_its_own() {
        // WeasyPrint draws a list's markers (`1. `, `• `) after the items' text, each with a
        // space that ends where the item text starts.
        let mut g = glyphs("Download it.", 92.0, 100.0, 10.0);
        g.extend(glyphs("Verify it.", 92.0, 112.0, 10.0));
        g.extend(glyphs("1. ", 77.0, 100.0, 10.0));
        g.extend(glyphs("• ", 82.0, 112.0, 10.0));
        // Without a drawn space, touching runs stay one word.
        g.extend(glyphs("(x)", 92.0, 124.0, 10.0));
        g.extend(glyphs("f", 87.0, 124.0, 10.0));
        let texts = texts_of(&g);
        assert_eq!(texts, ["1. Download it.", "• Verify it.", "f(x)"]);
    }

    #[test]
    fn a_bullet_at_its_tab_stop_joins_the_item_text() {
        // Word sets a bullet, then a tab: the text starts 2-3 font sizes to its right.
        let mut g = glyphs("•", 50.0, 100.0, 10.0);
        g.extend(glyphs(
            "Accessibility: writers no longer",
            75.0,
            100.0,
            10.0,
        ));
        // In a chart of glyphs a bullet is one cell among others.
        g.extend(glyphs("•", 50.0, 120.0, 10.0));
        g.extend(glyphs("Ž", 75.0, 120.0, 10.0));
        // A dash is not a bullet on its own: it may be an empty table cell.
        g.extend(glyphs("-", 50.0, 140.0, 10.0));
        g.extend(glyphs("next cell", 75.0, 140.0, 10.0));
        let texts = texts_of(&g);
        assert_eq!(
            texts,
            [
                "• Accessibility: writers no longer",
                "•",
                "Ž",
                "-",
                "next cell"
            ]
        );
    }
}
