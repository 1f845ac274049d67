//! Displayed lines: a short line set centred in the text column between lines of running text,
//! at the text's own line pitch (a formula such as `E = mc² (1)`, a centred remark). Such a line
//! is a block of its own, with the smaller type of its exponents and indices just above or below
//! it, and an equation number at the column's right edge. A short line at a column edge is a
//! paragraph's last (or only) line instead; lines that share their edges with the line beside
//! them (a block quotation) are a paragraph of their own, not displays.

use super::lines::{Segment, same_size};
use super::paragraphs::{Paragraph, join_line};

/// Least margin, in font sizes, between a displayed line and either edge of the column.
const MIN_MARGIN: f32 = 4.0;
/// How far, in font sizes, a line may stand from a column edge and still start (or end) there:
/// a paragraph's first line is indented by about this much at most.
const AT_EDGE: f32 = 3.0;
/// How much, as a share, the type of a displayed line and of the text around it may differ.
const SAME_SIZE: f32 = 0.05;
/// Largest type of an exponent or index, as a share of its formula's.
const SCRIPT_SIZE: f32 = 0.92;
/// Lines of running text looked at above and below a line to find its column.
const CONTEXT: usize = 6;
/// How far right of the centre of the lines around it, in parts of their width, a line may
/// stand and still be centred in ragged text.
const RAGGED: f32 = 0.15;
/// Most displayed lines in a row.
const MAX_RUN: usize = 3;

/// Consecutive lines (in reading order) that stand on one baseline.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// Its lines, `first..end`.
    first: usize,
    end: usize,
    x0: f32,
    x1: f32,
    /// Right edge without an equation number at the end.
    body_x1: f32,
    y: f32,
    size: f32,
}

/// Groups lines in reading order into rows: a line on the baseline of the one before, to its
/// right, goes on that row.
fn rows(lines: &[&Segment]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(row) = rows.last_mut() {
            let size = row.size.max(line.size);
            if (line.y - row.y).abs() <= 0.3 * size && line.x0 >= row.x1 - 0.5 * size {
                if !equation_number(&line.text) {
                    row.body_x1 = line.x1;
                }
                row.end = i + 1;
                row.x1 = line.x1;
                row.size = size;
                continue;
            }
        }
        rows.push(Row {
            first: i,
            end: i + 1,
            x0: line.x0,
            x1: line.x1,
            body_x1: line.x1,
            y: line.y,
            size: line.size,
        });
    }
    rows
}

/// Whether `text` is an equation number: `(1)`, `(2.3)`, `(4a)`.
fn equation_number(text: &str) -> bool {
    let Some(inner) = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
    else {
        return false;
    };
    let inner = inner.trim_end_matches(|c: char| c.is_ascii_lowercase());
    !inner.is_empty()
        && inner.len() <= 8
        && inner.starts_with(|c: char| c.is_ascii_digit())
        && inner.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Whether row `script` holds an exponent or index of row `of`: smaller type, just above or
/// below it, within its width.
fn script_of(script: &Row, of: &Row) -> bool {
    script.size <= SCRIPT_SIZE * of.size
        && (script.y - of.y).abs() > 0.2 * of.size
        && (script.y - of.y).abs() < 0.7 * of.size
        && script.x0 >= of.x0 - of.size
        && script.x1 <= of.body_x1 + of.size
}

/// The rows of running text next to rows `from..to` going `up` (or down), nearest first: they
/// follow one another at about a line's pitch, in one type size.
/// Scripts of the edge row are stepped over.
fn context(rows: &[Row], (from, to): (usize, usize), up: bool) -> Vec<usize> {
    let mut out = Vec::new();
    let edge = if up { from } else { to - 1 };
    let mut at = edge;
    let mut k = edge;
    while out.len() < CONTEXT {
        let next = if up { k.checked_sub(1) } else { Some(k + 1) };
        let Some(next) = next.filter(|&n| n < rows.len()) else {
            break;
        };
        k = next;
        let row = &rows[k];
        if out.is_empty() && script_of(row, &rows[edge]) {
            continue;
        }
        let (upper, lower) = if up {
            (row, &rows[at])
        } else {
            (&rows[at], row)
        };
        let size = upper.size.max(lower.size);
        let dy = lower.y - upper.y;
        let same_type = out
            .last()
            .is_none_or(|&l: &usize| same_size(rows[l].size, row.size));
        if dy <= 0.3 * size || dy > 2.5 * size || !same_type {
            break;
        }
        out.push(k);
        at = k;
    }
    out
}

/// Whether a row stands clearly inside `[left, right]`, about as far from either edge. The
/// right edge of ragged text is only known to lie at or right of its longest line, so a line
/// centred in the true column may stand right of the centre of `[left, right]`, by up to
/// [`RAGGED`] of its width.
fn centred(row: &Row, left: f32, right: f32) -> bool {
    let (lm, rm) = (row.x0 - left, right - row.body_x1);
    let size = row.size;
    let tolerance = 2.0 * size + 0.05 * (lm + rm);
    lm >= MIN_MARGIN * size
        && rm >= MIN_MARGIN * size
        && lm - rm >= -tolerance
        && lm - rm <= tolerance + RAGGED * (right - left)
}

/// Whether a row starts or ends at an edge of `[left, right]`.
fn at_edge(row: &Row, left: f32, right: f32) -> bool {
    row.x0 <= left + AT_EDGE * row.size || row.x1 >= right - AT_EDGE * row.size
}

/// Whether a row runs across `[left, right]`, from about its left edge (or a first-line indent)
/// to about its right.
fn full(row: &Row, left: f32, right: f32) -> bool {
    row.x0 <= left + AT_EDGE * row.size && row.x1 >= right - AT_EDGE * row.size
}

/// Whether rows `from..to` (with their scripts) are displayed lines. Each is set in the type of
/// the lines just above and below it and centred in the column that the rows of running text
/// above and below make; those two lines stand at the column's edges and some rows on either
/// side run across it; no row around but another display starts where a displayed row does
/// (an indent of a list or of a definition's text); no two displayed rows share their edges.
fn displayed(rows: &[Row], (from, to): (usize, usize)) -> bool {
    let above = context(rows, (from, to), true);
    let below = context(rows, (from, to), false);
    let (Some(&before), Some(&after)) = (above.first(), below.first()) else {
        return false;
    };
    let around = || above.iter().chain(&below).map(|&k| &rows[k]);
    let left = around().map(|r| r.x0).fold(f32::INFINITY, f32::min);
    let right = around().map(|r| r.x1).fold(f32::NEG_INFINITY, f32::max);
    let shares_edges = |a: &Row, b: &Row| {
        let size = a.size.max(b.size);
        (a.x0 - b.x0).abs() <= 0.5 * size && (a.x1 - b.x1).abs() <= 0.5 * size
    };
    let own: Vec<&Row> = own_rows(&rows[from..to])
        .into_iter()
        .map(|k| &rows[from + k])
        .collect();
    let indent =
        |r: &Row| around().any(|c| (c.x0 - r.x0).abs() <= 0.5 * r.size && !centred(c, left, right));
    // Set in the type of the text around it (a heading or a signature line is not).
    let body_type = |r: &Row| {
        [before, after]
            .iter()
            .all(|&k| (rows[k].size - r.size).abs() <= SAME_SIZE * r.size)
    };
    !own.is_empty()
        && own
            .iter()
            .all(|r| centred(r, left, right) && !indent(r) && body_type(r))
        && own.windows(2).all(|w| !shares_edges(w[0], w[1]))
        && at_edge(&rows[before], left, right)
        && at_edge(&rows[after], left, right)
        && above.iter().any(|&k| full(&rows[k], left, right))
        && below.iter().any(|&k| full(&rows[k], left, right))
}

/// For each line (in reading order), the displayed line it belongs to, numbered from 0; `None`
/// for running text.
pub(crate) fn displays(lines: &[&Segment]) -> Vec<Option<usize>> {
    let rows = rows(lines);
    let mut out = vec![None; lines.len()];
    let mut count = 0;
    let mut r = 0;
    while r < rows.len() {
        // The longest run of rows from `r` that displays, with its scripts (a line has one
        // row of them above and one below at most).
        let found = (1..=MAX_RUN * 3)
            .rev()
            .filter(|&n| r + n <= rows.len())
            .find(|&n| own_rows(&rows[r..r + n]).len() <= MAX_RUN && displayed(&rows, (r, r + n)));
        let Some(n) = found else {
            r += 1;
            continue;
        };
        // Each displayed line is a block of its own, with its scripts.
        let run = &rows[r..r + n];
        let own = own_rows(run);
        for (k, row) in run.iter().enumerate() {
            let base = own
                .iter()
                .position(|&o| o == k)
                .or_else(|| {
                    own.iter()
                        .enumerate()
                        .filter(|&(_, &o)| script_of(row, &run[o]))
                        .min_by(|a, b| {
                            let d = |o: usize| (run[o].y - row.y).abs();
                            d(*a.1).total_cmp(&d(*b.1))
                        })
                        .map(|(p, _)| p)
                })
                .unwrap_or(0);
            for line in &mut out[row.first..row.end] {
                *line = Some(count + base);
            }
        }
        count += own.len();
        r += n;
    }
    out
}

/// Which of `rows` are lines of their own, not scripts of another.
fn own_rows(rows: &[Row]) -> Vec<usize> {
    (0..rows.len())
        .filter(|&k| !rows.iter().any(|o| script_of(&rows[k], o)))
        .collect()
}

/// One displayed line as a paragraph, from its lines (in reading order): the pieces on its
/// baseline joined, each exponent or index (smaller type above or below it) put in after the
/// character it stands beside in the piece it stands over or under, as far as the widths of
/// characters (taken as equal) tell.
pub(crate) fn paragraph(lines: &[&Segment]) -> Paragraph {
    // The line in the largest type stands on the formula's baseline.
    let (size, base) = lines
        .iter()
        .max_by(|a, b| a.size.total_cmp(&b.size))
        .map_or((0.0, 0.0), |l| (l.size, l.y));
    let (mut own, mut scripts): (Vec<&Segment>, Vec<&Segment>) = lines
        .iter()
        .partition(|l| l.size > SCRIPT_SIZE * size || (l.y - base).abs() <= 0.2 * size);
    own.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let mut pieces: Vec<Vec<char>> = own.iter().map(|l| l.text.chars().collect()).collect();
    // Right to left, so that the places of the ones before stay put.
    scripts.sort_by(|a, b| b.x0.total_cmp(&a.x0));
    for script in scripts {
        let k = own
            .iter()
            .rposition(|l| l.x0 <= script.x0)
            .unwrap_or_default();
        let (line, chars) = (own[k], &mut pieces[k]);
        let at = (script.x0 - line.x0) / (line.x1 - line.x0).max(1.0) * chars.len() as f32;
        let mut at = (at.round().max(0.0) as usize).min(chars.len());
        while at > 0 && chars[at - 1] == ' ' {
            at -= 1;
        }
        chars.splice(at..at, script.text.chars());
    }
    let mut text = String::new();
    for piece in pieces {
        join_line(&mut text, &piece.into_iter().collect::<String>());
    }
    Paragraph {
        text,
        size,
        lines: 1,
        x0: own.iter().map(|l| l.x0).fold(f32::INFINITY, f32::min),
        x1: own.iter().map(|l| l.x1).fold(f32::NEG_INFINITY, f32::max),
        y: own.first().map_or(0.0, |l| l.y),
        bold: lines.iter().all(|l| l.bold),
        label: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, x0: f32, x1: f32, y: f32) -> Segment {
        Segment::plain(text, x0, x1, y)
    }

    fn flags(lines: &[Segment]) -> Vec<Option<usize>> {
        let refs: Vec<&Segment> = lines.iter().collect();
        displays(&refs)
    }

    /// Justified running text, a paragraph's short last line, then `middle`, then more text.
    fn around(middle: &[Segment]) -> Vec<Segment> {
        let mut lines = vec![
            line("running text across the whole column", 72.0, 540.0, 100.0),
            line("running text across the whole column", 72.0, 540.0, 112.0),
            line("and its short last line:", 72.0, 200.0, 124.0),
        ];
        let mut y = 136.0;
        for m in middle {
            lines.push(Segment {
                y,
                y_last: y,
                ..m.clone()
            });
            y += 12.0;
        }
        lines.push(line("running text across the whole column", 72.0, 540.0, y));
        lines.push(line(
            "running text across the whole column",
            72.0,
            540.0,
            y + 12.0,
        ));
        lines
    }

    #[test]
    fn a_centred_line_between_running_text_is_displayed() {
        let lines = around(&[line("x = (a + b) / 2", 278.0, 334.0, 0.0)]);
        assert_eq!(flags(&lines), [None, None, None, Some(0), None, None]);
        // Two formulas one under the other are two displays.
        let lines = around(&[
            line("x = (a + b) / 2", 278.0, 334.0, 0.0),
            line("y = x - 1", 286.0, 326.0, 0.0),
        ]);
        assert_eq!(flags(&lines)[3..5], [Some(0), Some(1)]);
    }

    #[test]
    fn a_short_line_at_an_edge_is_running_text() {
        // A paragraph's last line starts at the left edge; an indented first line runs to the
        // right edge; a right-aligned line ends there.
        for middle in [
            line("a short last line.", 72.0, 200.0, 0.0),
            line("An indented first line runs on", 90.0, 540.0, 0.0),
            line("Signed, the author", 440.0, 540.0, 0.0),
            // Off centre, to the left: an indented line of some example.
            line("onbdy(1) u = 0;", 130.0, 200.0, 0.0),
        ] {
            assert_eq!(flags(&around(&[middle])), [None; 6]);
        }
    }

    #[test]
    fn a_block_quotation_and_a_definitions_text_are_no_displays() {
        // Lines indented on both sides share their edges.
        let quote = line("a quotation indented on both sides", 120.0, 492.0, 0.0);
        assert_eq!(flags(&around(&[quote.clone(), quote.clone()])), [None; 7]);
        // Texinfo's table: the definitions' text starts at one indent (R-data).
        let lines = [
            line(
                "rJava (https://CRAN.R-project.org/package=rJava):",
                118.8,
                388.8,
                378.8,
            ),
            line("Simon Urbanek", 176.4, 250.4, 391.9),
            line(
                "RJDBC (https://CRAN.R-project.org/package=RJDBC):",
                118.8,
                401.0,
                410.3,
            ),
            line("Simon Urbanek", 176.4, 250.4, 423.5),
            line(
                "RMySQL (https://CRAN.R-project.org/package=RMySQL):",
                118.8,
                414.0,
                441.9,
            ),
            line("David James and Saikat DebRoy", 176.4, 333.7, 455.0),
            line(
                "RNetCDF (https://CRAN.R-project.org/package=RNetCDF):",
                118.8,
                423.8,
                473.5,
            ),
            line("Pavel Michna", 176.4, 240.8, 486.6),
        ];
        assert_eq!(flags(&lines), [None; 8]);
    }

    #[test]
    fn scripts_and_an_equation_number_go_with_their_formula() {
        // ReportLab's `E = mc<super>2</super> (1)`: the exponent is a line of its own above.
        let exponent = Segment {
            size: 8.0,
            ..line("2", 311.4, 315.4, 0.0)
        };
        let mut lines = around(&[line("E = mc (1)", 282.4, 329.6, 0.0)]);
        lines.insert(
            3,
            Segment {
                y: 131.0,
                y_last: 131.0,
                ..exponent
            },
        );
        assert_eq!(
            flags(&lines),
            [None, None, None, Some(0), Some(0), None, None]
        );
        let refs: Vec<&Segment> = lines[3..5].iter().collect();
        assert_eq!(paragraph(&refs).text, "E = mc2 (1)");
        assert_eq!(paragraph(&refs).size, 10.0);
        // LaTeX sets the number at the column's right edge.
        let mut lines = around(&[line("E = mc", 284.0, 318.0, 0.0)]);
        lines.insert(4, line("(1)", 526.0, 540.0, 136.0));
        assert_eq!(
            flags(&lines),
            [None, None, None, Some(0), Some(0), None, None]
        );
    }
}
