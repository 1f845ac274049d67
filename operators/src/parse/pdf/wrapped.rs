//! Wrapped first-column cells: a line of a table whose only text is in its first column, right
//! under a row, is either the rest of that row's first cell wrapped onto a line of its own
//! ("Total operating ex-" over "penses") or a row of its own (a group label such as "Assets"
//! over the items it heads). It goes on with the row above when it reads as the same text: a
//! word hyphenated across the two lines, or a line as close under it as wrapped lines sit
//! (closer than the table's rows), or, where the spacing tells nothing, a line that starts in
//! lower case under one that ends no sentence. A label shows as such: bold under plain text,
//! set left of the row above, or heading rows indented under it; it stays a row, and so does
//! any line that cannot be told.

/// The first cell's text on one line of a table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct First<'a> {
    pub text: &'a str,
    /// Left edge.
    pub x0: f32,
    pub bold: bool,
}

/// One line (baseline) of a table, as continuation is judged from it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub y: f32,
    pub size: f32,
    /// The first column's text on this line, if any.
    pub first: Option<First<'a>>,
    /// How many columns hold text on this line.
    pub filled: usize,
}

/// How far (in font sizes) the spacing of a table's rows must exceed that of its wrapped lines
/// for the two to be told apart.
const SPACING_APART: f32 = 0.15;
/// Widest spacing, in font sizes, of wrapped lines.
const MAX_WRAP: f32 = 1.5;
/// How far (in font sizes) a line must sit left or right of another to be outdented or
/// indented.
const INDENT: f32 = 0.5;

/// The baseline distance below which a line sits as close as a wrapped line does, when the
/// table's rows are spaced apart more than its wrapped lines; `None` when the spacing tells
/// nothing (no line is closer than the rows, or the rows sit as close as wrapped lines). Told
/// from the lines of the first column: the closest two are a wrapped cell's, the rows' spacing
/// is that above lines that start a row (text in the first cell and more).
pub(crate) fn wrap_limit(lines: &[Line]) -> Option<f32> {
    let firsts: Vec<&Line> = lines.iter().filter(|l| l.first.is_some()).collect();
    let gaps: Vec<(f32, &Line)> = firsts
        .windows(2)
        .map(|w| (w[1].y - w[0].y, w[1]))
        .filter(|(gap, _)| *gap > 0.0)
        .collect();
    let closest = gaps.iter().map(|g| g.0).fold(f32::MAX, f32::min);
    let mut rows: Vec<f32> = gaps
        .iter()
        .filter(|(_, l)| l.filled >= 2)
        .map(|g| g.0)
        .collect();
    rows.sort_by(f32::total_cmp);
    let pitch = *rows.get(rows.len() / 2)?;
    let size = lines.iter().map(|l| l.size).fold(0.0f32, f32::max).max(1.0);
    (closest <= MAX_WRAP * size && pitch - closest >= SPACING_APART * size)
        .then(|| (closest + pitch) / 2.0)
}

/// Whether a cell's text ends a word broken by a hyphen (`-`, U+2010 HYPHEN after a letter, or a
/// soft hyphen) that `next` goes on with in lower case (as [`super::paragraphs::join_line`]
/// joins it).
fn hyphenated(text: &str, next: &str) -> bool {
    let mut back = text.trim_end().chars().rev();
    let end = back.next();
    let after_letter = back.next().is_some_and(char::is_alphabetic);
    let lower = next
        .trim_start()
        .chars()
        .next()
        .is_some_and(char::is_lowercase);
    lower && (matches!(end, Some('-' | '\u{2010}')) && after_letter || end == Some('\u{ad}'))
}

/// What a line of text in the first column alone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// The rest of the first cell above it.
    Wrapped,
    /// A row of its own: a label, or a line as far below the row above as rows are.
    Row,
    /// Either: nothing tells.
    Unclear,
}

/// What line `k` of `lines`, text in its first column alone, is; `limit` is the table's
/// [`wrap_limit`].
pub(crate) fn read(lines: &[Line], k: usize, limit: Option<f32>) -> Reading {
    let Some(line) = lines.get(k) else {
        return Reading::Unclear;
    };
    // The nearest line above with text in the first column (lines between them, of a row
    // whose other cells sit in the middle of its height, have none).
    let above = lines[..k].iter().rev().find(|l| l.first.is_some());
    let (Some(above), Some(f)) = (above, line.first) else {
        return Reading::Unclear;
    };
    let Some(a) = above.first else {
        return Reading::Unclear;
    };
    if line.filled != 1 {
        return Reading::Unclear;
    }
    let size = line.size.max(above.size).max(1.0);
    // A label: bold under plain text, set left of the row above, or, under a full row, heading
    // rows indented under it.
    let heads_indented = above.filled >= 2
        && lines
            .get(k + 1)
            .and_then(|n| n.first)
            .is_some_and(|n| n.x0 > f.x0 + INDENT * size);
    if f.bold && !a.bold || f.x0 < a.x0 - INDENT * size || heads_indented {
        return Reading::Row;
    }
    if hyphenated(a.text, f.text) {
        return Reading::Wrapped;
    }
    let gap = line.y - above.y;
    let goes_on = match limit {
        Some(limit) if gap < limit => true,
        Some(_) => return Reading::Row,
        None => {
            gap <= MAX_WRAP * size
                && f.text.trim_start().starts_with(char::is_lowercase)
                && !a.text.trim_end().ends_with(['.', ':', ';', '!', '?'])
        }
    };
    if goes_on {
        Reading::Wrapped
    } else {
        Reading::Unclear
    }
}

/// Whether line `k` of `lines`, text in its first column alone, goes on with the first cell of
/// the line above it (when it cannot be told, it does not).
pub(crate) fn continues(lines: &[Line], k: usize, limit: Option<f32>) -> bool {
    read(lines, k, limit) == Reading::Wrapped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(y: f32, first: Option<(&'static str, f32, bool)>, filled: usize) -> Line<'static> {
        Line {
            y,
            size: 10.0,
            first: first.map(|(text, x0, bold)| First { text, x0, bold }),
            filled,
        }
    }

    #[test]
    fn a_hyphenated_or_closer_line_goes_on_with_the_cell_above() {
        // Rows 18 points apart, a wrapped line 12 under its row.
        let lines = [
            line(100.0, Some(("Rent", 50.0, false)), 3),
            line(118.0, Some(("Total operating ex-", 50.0, false)), 3),
            line(130.0, Some(("penses", 50.0, false)), 1),
            line(148.0, Some(("Long name of", 50.0, false)), 3),
            line(160.0, Some(("The Item", 50.0, false)), 1),
            line(178.0, Some(("Travel", 50.0, false)), 3),
        ];
        let limit = wrap_limit(&lines);
        assert_eq!(limit, Some(15.0));
        assert!(continues(&lines, 2, limit));
        assert!(continues(&lines, 4, limit));
        // Without the spacing, the hyphen still tells.
        assert!(continues(&lines, 2, None));
        assert!(!continues(&lines, 4, None));
    }

    #[test]
    fn labels_and_lines_at_row_spacing_stay_rows() {
        let lines = [
            line(100.0, Some(("Cash", 60.0, false)), 3),
            line(118.0, Some(("Receivables", 60.0, false)), 3),
            // Bold under plain, at row spacing anyway.
            line(130.0, Some(("Liabilities", 50.0, true)), 1),
            line(148.0, Some(("Payables", 60.0, false)), 3),
            // Plain, but heading indented rows.
            line(160.0, Some(("Other", 50.0, false)), 1),
            line(178.0, Some(("Loans", 60.0, false)), 3),
            // At row spacing, in lower case: a row.
            line(196.0, Some(("other", 60.0, false)), 1),
        ];
        let limit = wrap_limit(&lines);
        assert_eq!(read(&lines, 2, limit), Reading::Row);
        assert_eq!(read(&lines, 4, limit), Reading::Row);
        assert_eq!(read(&lines, 6, limit), Reading::Row);
        // Without the spacing, an upper-case line under a full row cannot be told.
        assert_eq!(read(&lines, 6, None), Reading::Unclear);
    }
}
