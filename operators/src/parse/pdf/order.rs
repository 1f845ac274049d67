//! Reading order: a recursive XY cut over the segments of a page. Where a vertical gutter runs
//! through a region it is read column by column, left to right; otherwise it is cut into
//! horizontal bands read top to bottom, where consecutive bands that share a gutter are kept
//! together so that two columns are not interleaved at lines that happen to align. Short lines
//! under columns that end together (a heading, a line across the page) are read after them.

use super::lines::Segment;

/// Narrowest vertical gap, in font sizes, that counts as a column gutter.
const GUTTER: f32 = 0.7;
/// Recursion bound (each level removes at least one cut).
const MAX_DEPTH: usize = 64;

/// Returns the indices of `segs` in reading order.
pub(crate) fn reading_order(segs: &[Segment]) -> Vec<usize> {
    let mut out = Vec::with_capacity(segs.len());
    let ids: Vec<usize> = (0..segs.len()).collect();
    order(segs, ids, &mut out, 0);
    out
}

/// The left edge of the leftmost of `ids` and the right edge of the rightmost.
fn extent(segs: &[Segment], ids: &[usize]) -> (f32, f32) {
    ids.iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(left, right), &i| {
            (left.min(segs[i].x0), right.max(segs[i].x1))
        })
}

/// `ids` line by line, top to bottom, each line left to right.
fn in_rows(segs: &[Segment], mut ids: Vec<usize>) -> Vec<usize> {
    ids.sort_by(|&a, &b| {
        segs[a]
            .y
            .total_cmp(&segs[b].y)
            .then(segs[a].x0.total_cmp(&segs[b].x0))
    });
    ids
}

fn median_size(segs: &[Segment], ids: &[usize]) -> f32 {
    let mut sizes: Vec<f32> = ids.iter().map(|&i| segs[i].size).collect();
    sizes.sort_by(f32::total_cmp);
    sizes.get(sizes.len() / 2).copied().unwrap_or(10.0)
}

fn order(segs: &[Segment], ids: Vec<usize>, out: &mut Vec<usize>, depth: usize) {
    if ids.len() <= 1 || depth > MAX_DEPTH {
        out.extend(in_rows(segs, ids));
        return;
    }
    let gutter = GUTTER * median_size(segs, &ids);
    let columns = columns_then_tail(segs, &ids, gutter);
    if definition_list(segs, &columns) || labels_beside(segs, &columns) {
        // Row by row: each term, then its definition.
        out.extend(in_rows(segs, ids));
        return;
    }
    if columns.len() > 1 && side_by_side(segs, &columns) {
        for column in columns {
            order(segs, column, out, depth + 1);
        }
        return;
    }
    let bands = bands(segs, &ids);
    if bands.len() <= 1 {
        out.extend(in_rows(segs, ids));
        return;
    }
    // Keep consecutive bands together while their union still has a gutter.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_has_gutter = false;
    for band in bands {
        let own = split_columns(segs, &band, gutter);
        let band_alone = own.len() > 1 && !word_set_apart(segs, &own);
        if let Some(last) = groups.last_mut() {
            let mut union = last.clone();
            union.extend(&band);
            // A line above that crosses the band's own gutter (an author line centred over
            // both columns) shares no gutter with it, whatever narrower gap their union has.
            let crossed = !group_has_gutter && band_alone && crosses_gutters(segs, last, &own);
            if !crossed
                && (group_has_gutter || band_alone)
                && split_columns(segs, &union, gutter).len() > 1
            {
                *last = union;
                group_has_gutter = true;
                continue;
            }
        }
        group_has_gutter = band_alone;
        groups.push(band);
    }
    if groups.len() == 1 {
        // One group with a gutter: read it as columns.
        let group = groups.pop().unwrap_or_default();
        let columns = columns_then_tail(segs, &group, gutter);
        if columns.len() > 1 {
            for column in columns {
                order(segs, column, out, depth + 1);
            }
        } else {
            out.extend(in_rows(segs, group));
        }
        return;
    }
    for group in groups {
        order(segs, group, out, depth + 1);
    }
}

/// Widest gap between the first column's text above a tail and the foot of the other
/// columns, in font sizes, for the columns to count as ending together there.
const BALANCED: f32 = 2.5;
/// Fewest lines of each column for a tail to be told apart from them.
const COLUMN_LINES: usize = 3;
/// Most lines of a tail under the columns.
const MAX_TAIL_LINES: usize = 3;
/// Most a line of a column's text falls short of either edge of the column, as a share of its
/// width (ragged text ends up to a long word short of the right edge).
const RAGGED: f32 = 0.2;
/// Narrowest blank between the columns' text and a tail under them, in font sizes (more than
/// the leading between two lines of a paragraph).
const TAIL_GAP: f32 = 0.6;

/// [`split_columns`], then what stands under the columns where they end together: lines
/// narrow enough to sit inside the first column (a heading, a short line set across the page
/// after the columns) but below the foot of every other column, after a blank, are read after
/// all the columns rather than in the first. A line as wide as the first column is no tail but
/// that column's text. The tail, when there is one, comes last.
fn columns_then_tail(segs: &[Segment], ids: &[usize], gutter: f32) -> Vec<Vec<usize>> {
    let mut columns = split_columns(segs, ids, gutter);
    // Only columns of text: a few lines each, not a label beside a block.
    if columns.len() < 2 || columns.iter().any(|c| c.len() < COLUMN_LINES) {
        return columns;
    }
    let others_bottom = columns[1..]
        .iter()
        .flatten()
        .map(|&i| segs[i].bottom())
        .fold(f32::NEG_INFINITY, f32::max);
    let first = &mut columns[0];
    first.sort_by(|&a, &b| {
        segs[a]
            .top()
            .total_cmp(&segs[b].top())
            .then(segs[a].x0.total_cmp(&segs[b].x0))
    });
    let mut above = f32::NEG_INFINITY;
    let mut cut = None;
    for (k, &i) in first.iter().enumerate() {
        let s = &segs[i];
        if k >= COLUMN_LINES
            && s.top() > others_bottom
            && s.top() - above > TAIL_GAP * s.size
            && above <= others_bottom + BALANCED * s.size
        {
            cut = Some(k);
            break;
        }
        above = above.max(s.bottom());
    }
    // A tail is a line or a few (a heading and a line under it), each shorter than the column:
    // more, or a line as wide as the column, is the first column going on after a paragraph
    // break, past where the others happen to end.
    if let Some(k) = cut.filter(|&k| {
        first.len() - k <= MAX_TAIL_LINES && !spans_column(segs, &first[..k], &first[k..])
    }) {
        let tail = first.split_off(k);
        columns.push(tail);
    }
    columns
}

/// Whether one of `lines` spans the column whose text above them is `body`, from near its
/// left edge to near its right: text wrapped at the column's width, not a heading or a short
/// line set under the columns (text set across the page would have run on past the gutter).
fn spans_column(segs: &[Segment], body: &[usize], lines: &[usize]) -> bool {
    let (left, right) = extent(segs, body);
    let slack = RAGGED * (right - left);
    lines.iter().any(|&i| {
        let s = &segs[i];
        s.x0 <= left + slack && s.x1 >= right - slack
    })
}

/// Whether some text of one column stands beside text of another (their heights overlap).
/// Columns that never do are blocks set one under another at different indents (a centred
/// table between short paragraphs), read top to bottom, not as columns.
fn side_by_side(segs: &[Segment], columns: &[Vec<usize>]) -> bool {
    // Every span by its top; a span overlaps an earlier-starting one of another column when
    // that one reaches below its top.
    let mut spans: Vec<(f32, f32, usize)> = columns
        .iter()
        .enumerate()
        .flat_map(|(k, column)| {
            column
                .iter()
                .map(move |&i| (segs[i].top(), segs[i].bottom(), k))
        })
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    // The two lowest bottoms reached so far, by different columns.
    let mut lowest: [(f32, usize); 2] = [(f32::NEG_INFINITY, usize::MAX); 2];
    for (top, bottom, column) in spans {
        let other = if lowest[0].1 == column {
            lowest[1]
        } else {
            lowest[0]
        };
        if other.0 > top {
            return true;
        }
        if lowest[0].1 == column {
            lowest[0].0 = lowest[0].0.max(bottom);
        } else if lowest[1].1 == column {
            lowest[1].0 = lowest[1].0.max(bottom);
        } else if bottom > lowest[1].0 {
            lowest[1] = (bottom, column);
        }
        if lowest[1].0 > lowest[0].0 {
            lowest.swap(0, 1);
        }
    }
    false
}

/// Most words of a term in a definition list's narrow left column.
const TERM_WORDS: usize = 4;

/// Whether two columns are a definition list (texinfo's `@table`, a glossary): the left one
/// narrower, of short terms with letters, two at least, each on the baseline of a line of the
/// right one (its definition's first), which wraps on under it. Read as columns, every term
/// came before every definition (`float(p) integer smallint Real number…`).
fn definition_list(segs: &[Segment], columns: &[Vec<usize>]) -> bool {
    let [terms, definitions] = columns else {
        return false;
    };
    let width = |column: &[usize]| {
        let (left, right) = extent(segs, column);
        right - left
    };
    terms.len() >= 2
        && definitions.len() > terms.len()
        && width(terms) < 0.6 * width(definitions)
        && terms.iter().all(|&t| {
            let term = &segs[t];
            term.text.split_whitespace().count() <= TERM_WORDS
                && term.text.chars().any(char::is_alphabetic)
                && beside_a_line_of(segs, term, definitions)
        })
}

/// Most characters of a label set apart to the left of its line (`5`, `A.1`, `IV`).
const LABEL_CHARS: usize = 4;

/// Whether the left one of two columns is only labels, each a word of a few characters on the
/// baseline of a line of the right one, and at most every other line has one: a table of
/// contents' chapter numbers, set apart from their titles in larger type. Read as columns, `5`
/// came before the sections of chapter 4 above it. (A transcript numbers every line: its
/// numbers stay a column, and its sentences whole.)
fn labels_beside(segs: &[Segment], columns: &[Vec<usize>]) -> bool {
    let [labels, lines] = columns else {
        return false;
    };
    2 * labels.len() <= lines.len()
        && labels.iter().all(|&l| {
            let label = &segs[l];
            let text = label.text.trim();
            !text.is_empty()
                && text.chars().count() <= LABEL_CHARS
                && !text.contains(char::is_whitespace)
                && beside_a_line_of(segs, label, lines)
        })
}

/// Whether `left` stands on the baseline of one of `lines` (a term or label to their left).
fn beside_a_line_of(segs: &[Segment], left: &Segment, lines: &[usize]) -> bool {
    (lines.iter()).any(|&i| (segs[i].y - left.y).abs() <= 0.3 * left.size)
}

/// Widest gap, in font sizes, before a line's last word that a justified line may stretch its
/// space to.
const STRETCHED_SPACE: f32 = 1.2;

/// Whether a band's `columns` (as [`split_columns`] gives them) are one line whose last word
/// stands apart from the rest by a stretched space (texinfo's `make.socket, read.socket,`
/// in a justified line): no gutter, which would make the lines under it a column read before
/// that word.
fn word_set_apart(segs: &[Segment], columns: &[Vec<usize>]) -> bool {
    let [line, word] = columns else {
        return false;
    };
    let (&[l], &[w]) = (line.as_slice(), word.as_slice()) else {
        return false;
    };
    let (line, word) = (&segs[l], &segs[w]);
    beside_a_line_of(segs, line, &[w])
        && word.x0 - line.x1 <= STRETCHED_SPACE * line.size
        && !word.text.trim().contains(char::is_whitespace)
        && line.text.trim().contains(char::is_whitespace)
}

/// Splits at vertical gaps at least `gutter` wide that no segment crosses; left to right.
fn split_columns(segs: &[Segment], ids: &[usize], gutter: f32) -> Vec<Vec<usize>> {
    let mut sorted: Vec<usize> = ids.to_vec();
    sorted.sort_by(|&a, &b| segs[a].x0.total_cmp(&segs[b].x0));
    let mut columns: Vec<Vec<usize>> = Vec::new();
    let mut right = f32::NEG_INFINITY;
    for i in sorted {
        let s = &segs[i];
        match columns.last_mut() {
            Some(col) if s.x0 < right + gutter => col.push(i),
            _ => columns.push(vec![i]),
        }
        right = right.max(s.x1);
    }
    columns
}

/// Whether a segment of `group` covers most of the gap between two of `columns` (as
/// [`split_columns`] gives them, left to right): with it, what gap is left is not theirs.
fn crosses_gutters(segs: &[Segment], group: &[usize], columns: &[Vec<usize>]) -> bool {
    columns.windows(2).any(|pair| {
        let (left, right) = (extent(segs, &pair[0]).1, extent(segs, &pair[1]).0);
        group
            .iter()
            .any(|&i| segs[i].x1.min(right) - segs[i].x0.max(left) > 0.5 * (right - left))
    })
}

/// Splits at horizontal gaps that no segment crosses; top to bottom.
fn bands(segs: &[Segment], ids: &[usize]) -> Vec<Vec<usize>> {
    let mut sorted: Vec<usize> = ids.to_vec();
    sorted.sort_by(|&a, &b| segs[a].top().total_cmp(&segs[b].top()));
    let mut bands: Vec<Vec<usize>> = Vec::new();
    let mut bottom = f32::NEG_INFINITY;
    for i in sorted {
        let s = &segs[i];
        match bands.last_mut() {
            Some(band) if s.top() < bottom => band.push(i),
            _ => bands.push(vec![i]),
        }
        bottom = bottom.max(s.bottom());
    }
    bands
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, x0: f32, x1: f32, y: f32) -> Segment {
        Segment::plain(text, x0, x1, y)
    }

    fn texts(segs: &[Segment]) -> Vec<&str> {
        reading_order(segs)
            .into_iter()
            .map(|i| segs[i].text.as_str())
            .collect()
    }

    /// Short paragraphs at the left margin and centred tables between them share no height:
    /// blocks one under another, read top to bottom (the tables came after every paragraph).
    #[test]
    fn centred_blocks_between_short_paragraphs_are_no_column() {
        let mut table1 = seg("table 1", 250.0, 350.0, 130.0);
        table1.y_last = 160.0;
        let mut table2 = seg("table 2", 250.0, 350.0, 210.0);
        table2.y_last = 240.0;
        let segs = vec![
            seg("title", 50.0, 150.0, 50.0),
            seg("P1", 50.0, 220.0, 100.0),
            table1,
            seg("P2", 50.0, 230.0, 185.0),
            table2,
            seg("P3", 50.0, 200.0, 265.0),
        ];
        assert_eq!(
            texts(&segs),
            ["title", "P1", "table 1", "P2", "table 2", "P3"]
        );
    }

    #[test]
    fn two_columns_under_a_title() {
        let segs = vec![
            seg("title", 100.0, 400.0, 50.0),
            seg("L1", 50.0, 280.0, 100.0),
            seg("R1", 320.0, 550.0, 100.0),
            seg("L2", 50.0, 280.0, 112.0),
            seg("R2", 320.0, 550.0, 112.0),
            seg("L3", 50.0, 280.0, 124.0),
            seg("R3", 320.0, 550.0, 140.0),
            seg("footer", 50.0, 550.0, 300.0),
        ];
        assert_eq!(
            texts(&segs),
            ["title", "L1", "L2", "L3", "R1", "R2", "R3", "footer"]
        );
    }

    #[test]
    fn a_short_line_under_balanced_columns_comes_after_both() {
        let segs = vec![
            seg("L1", 50.0, 280.0, 100.0),
            seg("R1", 320.0, 550.0, 100.0),
            seg("L2", 50.0, 280.0, 112.0),
            seg("R2", 320.0, 550.0, 112.0),
            seg("L3", 50.0, 280.0, 124.0),
            seg("R3", 320.0, 450.0, 124.0),
            seg("L4", 50.0, 200.0, 136.0),
            seg("Heading", 50.0, 150.0, 160.0),
            seg("short", 50.0, 200.0, 172.0),
        ];
        assert_eq!(
            texts(&segs),
            ["L1", "L2", "L3", "L4", "R1", "R2", "R3", "Heading", "short"]
        );
    }

    /// A first column that goes on after a paragraph break just where the second one ends is
    /// read whole before it: its rest is no line under the columns (it came after them).
    #[test]
    fn a_first_column_going_on_past_the_seconds_end_is_no_tail() {
        let mut segs = Vec::new();
        let mut y = 100.0;
        for k in 1..=20 {
            if k == 10 {
                y += 12.0;
            }
            segs.push(seg(&format!("L{k:02}"), 50.0, 280.0, y));
            y += 12.0;
        }
        for k in 1..=8 {
            segs.push(seg(
                &format!("R{k:02}"),
                320.0,
                550.0,
                100.0 + 12.0 * (k - 1) as f32,
            ));
        }
        let order = texts(&segs);
        let expected: Vec<String> = (1..=20)
            .map(|k| format!("L{k:02}"))
            .chain((1..=8).map(|k| format!("R{k:02}")))
            .collect();
        assert_eq!(order, expected);
    }

    /// A single line under balanced columns that spans the first column is its text (a
    /// paragraph's first line, going on at the top of the next column), not a tail.
    #[test]
    fn a_column_wide_line_under_balanced_columns_stays_in_the_first() {
        let segs = vec![
            seg("L1", 50.0, 280.0, 100.0),
            seg("R1", 320.0, 550.0, 100.0),
            seg("L2", 50.0, 280.0, 112.0),
            seg("R2", 320.0, 550.0, 112.0),
            seg("L3", 50.0, 200.0, 124.0),
            seg("R3", 320.0, 450.0, 124.0),
            seg("L4", 50.0, 270.0, 148.0),
        ];
        assert_eq!(texts(&segs), ["L1", "L2", "L3", "L4", "R1", "R2", "R3"]);
    }

    #[test]
    fn a_longer_first_column_is_read_before_the_next() {
        // The right column stops early (the last page of a frame layout); the left goes on,
        // past a paragraph break.
        let mut segs = Vec::new();
        for (k, y) in [100.0, 112.0, 124.0, 136.0, 148.0, 160.0, 184.0, 196.0]
            .into_iter()
            .enumerate()
        {
            segs.push(seg(
                ["L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8"][k],
                50.0,
                280.0,
                y,
            ));
        }
        for (k, y) in [100.0, 112.0, 124.0].into_iter().enumerate() {
            segs.push(seg(["R1", "R2", "R3"][k], 320.0, 550.0, y));
        }
        assert_eq!(
            texts(&segs),
            [
                "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "R1", "R2", "R3"
            ]
        );
    }

    #[test]
    fn single_column_top_to_bottom() {
        let segs = vec![
            seg("b", 50.0, 500.0, 112.0),
            seg("a", 50.0, 500.0, 100.0),
            seg("c end.", 50.0, 200.0, 124.0),
            seg("d", 70.0, 500.0, 136.0),
        ];
        assert_eq!(texts(&segs), ["a", "b", "c end.", "d"]);
    }

    /// The first page of a two-column paper: an author line centred over both columns, then
    /// the abstract's heading in the left column beside the right column's first line. The
    /// author line's gap to the heading is no gutter of the columns: it was read between the
    /// heading and the abstract, and the right column's first line with it.
    #[test]
    fn a_line_centred_over_two_columns_is_read_before_them() {
        let mut segs = vec![
            seg("Title", 100.0, 490.0, 80.0),
            seg("author", 217.0, 383.0, 170.0),
            seg("email", 217.0, 383.0, 184.0),
            seg("Abstract", 159.0, 203.0, 232.0),
            seg("R1", 318.0, 527.0, 232.0),
        ];
        for k in 0..6 {
            let y = 252.0 + 12.0 * k as f32;
            segs.push(seg(["L1", "L2", "L3", "L4", "L5", "L6"][k], 89.0, 275.0, y));
            segs.push(seg(
                ["R2", "R3", "R4", "R5", "R6", "R7"][k],
                307.0,
                527.0,
                y - 6.0,
            ));
        }
        assert_eq!(
            texts(&segs),
            [
                "Title", "author", "email", "Abstract", "L1", "L2", "L3", "L4", "L5", "L6", "R1",
                "R2", "R3", "R4", "R5", "R6", "R7"
            ]
        );
    }

    /// A definition list (texinfo's `@table`) reads term by term, each before its definition;
    /// a column of short labels beside running text that does not start on their baselines,
    /// or of line numbers, stays a column.
    #[test]
    fn a_definition_list_reads_term_by_term() {
        let segs = vec![
            seg("float(p)", 90.0, 136.0, 365.0),
            seg(
                "Real number, with optional precision. Often called",
                148.0,
                522.0,
                365.0,
            ),
            seg("precision.", 148.0, 202.0, 378.0),
            seg("integer", 90.0, 130.0, 397.0),
            seg("32-bit integer. Often called int.", 148.0, 301.0, 397.0),
            seg("smallint", 90.0, 136.0, 417.0),
            seg("16-bit integer", 148.0, 212.0, 417.0),
        ];
        assert_eq!(
            texts(&segs),
            [
                "float(p)",
                "Real number, with optional precision. Often called",
                "precision.",
                "integer",
                "32-bit integer. Often called int.",
                "smallint",
                "16-bit integer"
            ]
        );
        let numbered: Vec<Segment> = (0..4)
            .flat_map(|k| {
                let y = 100.0 + 12.0 * k as f32;
                [
                    seg(&(k + 1).to_string(), 50.0, 56.0, y),
                    seg("a line of the transcript", 80.0, 400.0, y),
                ]
            })
            .collect();
        assert_eq!(texts(&numbered)[..2], ["1", "2"]);
    }

    /// A table of contents' chapter number set apart from its title, in larger type, reads with
    /// its line: it came before the sections of the chapter above it (R-data's `5`).
    #[test]
    fn a_chapter_number_set_apart_reads_with_its_line() {
        let segs = vec![
            seg("4.3.1 Packages using DBI . . . 20", 120.0, 520.0, 732.0),
            seg("4.3.2 Package RODBC . . . 21", 120.0, 520.0, 745.0),
            seg("5", 90.0, 98.0, 775.0),
            seg("Binary files . . . 24", 114.0, 520.0, 775.0),
            seg("5.1 Binary data formats . . . 24", 120.0, 520.0, 790.0),
        ];
        assert_eq!(
            texts(&segs),
            [
                "4.3.1 Packages using DBI . . . 20",
                "4.3.2 Package RODBC . . . 21",
                "5",
                "Binary files . . . 24",
                "5.1 Binary data formats . . . 24"
            ]
        );
    }

    /// A justified line whose last word stands apart by a stretched space (R-data's
    /// `make.socket, read.socket,`) made a gutter: the shorter lines and the heading under it
    /// were read as a column before that word, which landed after the heading.
    #[test]
    fn a_word_set_apart_at_a_lines_end_is_no_column() {
        let segs = vec![
            seg(
                "the use of Web caches, so these functions may be more useful",
                90.0,
                522.0,
                236.6,
            ),
            seg(
                "For new projects it is suggested that socket connections are used.",
                90.0,
                440.1,
                249.7,
            ),
            seg(
                "The earlier low-level interface is given by functions make.socket,",
                104.9,
                447.6,
                265.9,
            ),
            seg("read.socket,", 456.0, 522.0, 265.9),
            seg("write.socket and close.socket.", 90.0, 255.3, 279.0),
            seg("8.2 Using download.file", 90.0, 260.3, 307.9),
            seg(
                "Function download.file is provided to read a file from a Web resource",
                90.0,
                522.0,
                327.0,
            ),
        ];
        let order = texts(&segs);
        assert_eq!(
            order[3..6],
            [
                "read.socket,",
                "write.socket and close.socket.",
                "8.2 Using download.file"
            ]
        );
        // Two columns whose lines align keep their gutter.
        let segs = vec![
            seg("left column text that runs", 50.0, 280.0, 100.0),
            seg("right column text that runs", 300.0, 530.0, 100.0),
            seg("on in the left column", 50.0, 280.0, 112.0),
            seg("on in the right column", 300.0, 530.0, 112.0),
            seg("and ends.", 50.0, 120.0, 124.0),
            seg("and ends.", 300.0, 370.0, 124.0),
        ];
        assert_eq!(
            texts(&segs),
            [
                "left column text that runs",
                "on in the left column",
                "and ends.",
                "right column text that runs",
                "on in the right column",
                "and ends."
            ]
        );
    }
}
