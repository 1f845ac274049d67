//! Simple tables: runs of consecutive lines that each split into two or more segments whose
//! left edges line up with the same column positions. A line of one segment in the first
//! column that reads as the rest of the first cell above it (see [`super::wrapped`]) goes on
//! with that row.

use super::lines::Segment;
use super::wrapped;

/// A table found among a page's lines (indices into the page's segments, row by row).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    /// Segment indices of each row's cells, left to right, one cell per column: the segments
    /// of a cell in reading order (an empty cell has none). Tables told from text alone have
    /// one segment a cell; ruled tables (see [`super::grid`]) may have several.
    pub rows: Vec<Vec<Vec<usize>>>,
}

/// Fewest rows of a table.
const MIN_ROWS: usize = 3;
/// Fewest columns of a table.
const MIN_COLUMNS: usize = 2;
/// Most cells (rows × columns) of a table: a hostile page (one row of thousands of segments
/// over thousands of two-segment rows) would make a grid of gigabytes. Its lines stay lines.
const MAX_CELLS: usize = 1_000_000;

/// Finds tables: rows are groups of segments on one baseline; a table is a run of at least
/// [`MIN_ROWS`] rows with [`MIN_COLUMNS`] or more segments each, whose segments fall into the
/// same column bands.
pub(crate) fn find(segs: &[Segment]) -> Vec<Table> {
    let rows = super::lines::rows(segs);
    let rtl = super::bidi::mostly_rtl(segs.iter().map(|s| s.text.as_str()));
    let mut tables = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        if rows[i].len() < MIN_COLUMNS {
            i += 1;
            continue;
        }
        // Grow a run of multi-segment rows that stay aligned with the first row's columns.
        let mut columns: Vec<(f32, f32)> =
            rows[i].iter().map(|&k| (segs[k].x0, segs[k].x1)).collect();
        let mut j = i + 1;
        // Which of the rows from `i` are lines of a wrapped first cell.
        let mut goes_on = vec![false];
        while j < rows.len() {
            let row = &rows[j];
            let prev_y = segs[rows[j - 1][0]].y;
            let size = segs[row[0]].size;
            if segs[row[0]].y - prev_y > 3.0 * size {
                break;
            }
            if let Some(merged) = align(&columns, row, segs, size) {
                columns = merged;
                goes_on.push(false);
            } else if let Some(merged) = wrapped_first_cell(&rows[i..], j - i, &columns, segs, rtl)
            {
                columns = merged;
                goes_on.push(true);
            } else {
                break;
            }
            j += 1;
        }
        let wrapped = goes_on.iter().filter(|w| **w).count();
        let cells = (j - i).saturating_mul(columns.len());
        let shaped = j - i - wrapped >= MIN_ROWS && columns.len() >= MIN_COLUMNS;
        if shaped
            && (text_columns(&rows[i..j], &columns, segs)
                || entry_columns(&rows[i..j], &columns, segs))
        {
            // Columns of running text, or of an index's entries, side by side: none of their
            // rows starts a table.
            i = j;
            continue;
        }
        if shaped && cells <= MAX_CELLS && !prose(&rows[i..j], segs) {
            let mut table_rows: Vec<Vec<Vec<usize>>> = Vec::new();
            for (row, &goes_on) in rows[i..j].iter().zip(&goes_on) {
                if goes_on && let Some(last) = table_rows.last_mut() {
                    let first = if rtl { columns.len() - 1 } else { 0 };
                    last[first].extend(row);
                    continue;
                }
                let mut cells = vec![Vec::new(); columns.len()];
                for &k in row {
                    let column = columns
                        .iter()
                        .position(|&(a, b)| overlaps(segs[k].x0, segs[k].x1, a, b));
                    if let Some(c) = column
                        && cells[c].is_empty()
                    {
                        cells[c].push(k);
                    }
                }
                table_rows.push(cells);
            }
            tables.push(Table { rows: table_rows });
            i = j;
        } else {
            i += 1;
        }
    }
    tables
}

/// Whether the cells hold running text (two columns of prose line up like a table).
fn prose(rows: &[Vec<usize>], segs: &[Segment]) -> bool {
    let (mut cells, mut words) = (0usize, 0usize);
    for &k in rows.iter().flatten() {
        cells += 1;
        words += segs[k].text.split_whitespace().count();
    }
    words > 5 * cells
}

/// Fewest words a line of a text column holds, on average.
const COLUMN_WORDS: f32 = 2.5;
/// Share of a text column's lines that fill it (from its left edge to near its right edge).
const COLUMN_FILLED: f32 = 0.6;
/// Share of a text column's lines after the first that go on with a sentence (they start
/// with a lowercase letter, or follow a line that ends without a full stop).
const COLUMN_FLOW: f32 = 0.5;

/// Whether the aligned rows are columns of running text set side by side (a page in two
/// columns whose lines happen to share baselines) rather than a table: every column's lines
/// hold several words, most of them run the column's full width, and each line mostly carries
/// on the sentence of the line above. A table's cells are short and vary in width, or start
/// afresh row after row.
fn text_columns(rows: &[Vec<usize>], columns: &[(f32, f32)], segs: &[Segment]) -> bool {
    columns.iter().all(|&(a, b)| {
        let cells = column_cells(rows, (a, b), segs);
        if cells.len() < MIN_ROWS {
            return false;
        }
        let n = cells.len() as f32;
        let words: usize = cells
            .iter()
            .map(|s| s.text.split_whitespace().count())
            .sum();
        let size = cells.iter().map(|s| s.size).fold(0.0f32, f32::max);
        // A line fills the column when it ends near the right edge, or when the first word
        // of the next line would not have fitted after it (ragged text with long words).
        let filled = cells
            .iter()
            .enumerate()
            .filter(|&(r, s)| {
                let near_edge = b - s.x1 <= 0.3 * (b - a);
                let next_word_overflows = cells.get(r + 1).is_some_and(|next| {
                    let chars = next.text.chars().count().max(1) as f32;
                    let word = next.text.split_whitespace().next().unwrap_or("");
                    let word_width = (next.x1 - next.x0) * word.chars().count() as f32 / chars;
                    s.x1 + 0.25 * size + word_width >= b - 0.05 * (b - a)
                });
                s.x0 - a <= size && (near_edge || next_word_overflows)
            })
            .count();
        let flowing = cells
            .windows(2)
            .filter(|w| {
                let before = w[0].text.trim_end();
                let after = w[1].text.trim_start();
                after.starts_with(char::is_lowercase)
                    || !before.ends_with(['.', ':', '!', '?'])
                        && !after.starts_with(char::is_numeric)
            })
            .count();
        words as f32 >= COLUMN_WORDS * n
            && filled as f32 >= COLUMN_FILLED * n
            && flowing as f32 >= COLUMN_FLOW * (n - 1.0)
    })
}

/// Least share of a column's cells that are entries (leader dots, or an index's letter) for
/// the columns to be an index or a table of contents set in columns.
const ENTRY_SHARE: f32 = 0.8;

/// Whether the aligned rows are columns of a book index's or a table of contents' entries
/// (`awk . . . 3` beside `netCDF . . . 24`, letters `A` beside `N`): each column reads on down,
/// not across, so they are no table (the index's entries were a table's cells, read row by row,
/// and kept from the contents rule).
fn entry_columns(rows: &[Vec<usize>], columns: &[(f32, f32)], segs: &[Segment]) -> bool {
    columns.iter().all(|&band| {
        let cells = column_cells(rows, band, segs);
        let entries = (cells.iter())
            .filter(|s| {
                super::leaders::has_leader_dots(&s.text) || super::leaders::group_letter(&s.text)
            })
            .count();
        cells.len() >= MIN_ROWS && entries as f32 >= ENTRY_SHARE * cells.len() as f32
    })
}

/// The first segment of each of `rows` in the column band `(a, b)`.
fn column_cells<'s>(
    rows: &[Vec<usize>],
    (a, b): (f32, f32),
    segs: &'s [Segment],
) -> Vec<&'s Segment> {
    rows.iter()
        .filter_map(|row| {
            row.iter()
                .map(|&k| &segs[k])
                .find(|s| overlaps(s.x0, s.x1, a, b))
        })
        .collect()
}

/// The column bands widened by row `k` of `rows` (the table's rows from its first on, and
/// those after), when that row is one segment in the first column alone (the rightmost when
/// `rtl`) that goes on with the first cell above it (see [`wrapped`]).
fn wrapped_first_cell(
    rows: &[Vec<usize>],
    k: usize,
    columns: &[(f32, f32)],
    segs: &[Segment],
    rtl: bool,
) -> Option<Vec<(f32, f32)>> {
    let [only] = rows[k][..] else {
        return None;
    };
    let s = &segs[only];
    let slack = 0.2 * s.size;
    let hits = |&(a, b): &(f32, f32)| overlaps(s.x0 - slack, s.x1 + slack, a, b);
    let first = if rtl {
        columns.len().checked_sub(1)?
    } else {
        0
    };
    let (a, b) = columns[first];
    let others = columns.iter().enumerate().filter(|&(c, _)| c != first);
    if !hits(&(a, b)) || others.clone().any(|(_, band)| hits(band)) {
        return None;
    }
    let widened = (a.min(s.x0), b.max(s.x1));
    // The widened band must not run into the next one.
    if others
        .into_iter()
        .any(|(_, &(c, d))| widened.0 < d && c < widened.1)
    {
        return None;
    }
    let lines: Vec<wrapped::Line> = rows[..(k + 2).min(rows.len())]
        .iter()
        .map(|row| {
            // The row's segment in the first column, if any.
            let cell = row
                .iter()
                .map(|&k| &segs[k])
                .find(|s| overlaps(s.x0, s.x1, a - slack, b + slack));
            wrapped::Line {
                y: segs[row[0]].y,
                size: row.iter().map(|&k| segs[k].size).fold(0.0, f32::max),
                first: cell.map(|s| wrapped::First {
                    text: &s.text,
                    x0: if rtl { -s.x1 } else { s.x0 },
                    bold: s.bold,
                }),
                filled: row.len(),
            }
        })
        .collect();
    let limit = wrapped::wrap_limit(&lines[..=k]);
    wrapped::continues(&lines, k, limit).then(|| {
        let mut out = columns.to_vec();
        out[first] = widened;
        out
    })
}

fn overlaps(a0: f32, a1: f32, b0: f32, b1: f32) -> bool {
    a0 < b1 && b0 < a1
}

/// Fits a row into the column bands: every segment must overlap exactly one band and no band
/// may take two segments; a row of one segment fits only inside one band. Returns the widened
/// bands.
fn align(
    columns: &[(f32, f32)],
    row: &[usize],
    segs: &[Segment],
    size: f32,
) -> Option<Vec<(f32, f32)>> {
    if row.len() < 2 && columns.len() > 2 {
        return None;
    }
    let mut out = columns.to_vec();
    let mut used = vec![false; columns.len()];
    for &k in row {
        let s = &segs[k];
        // A little slack, unless it reaches the next band (a compact table's columns stand
        // a couple of points apart).
        let hits = |slack: f32| -> Vec<usize> {
            columns
                .iter()
                .enumerate()
                .filter(|(_, (a, b))| overlaps(s.x0 - slack, s.x1 + slack, *a, *b))
                .map(|(c, _)| c)
                .collect()
        };
        let mut hit = hits(0.2 * size);
        if hit.len() > 1 {
            hit = hits(0.0);
        }
        let [c] = hit[..] else {
            return None;
        };
        if used[c] {
            return None;
        }
        used[c] = true;
        out[c] = (out[c].0.min(s.x0), out[c].1.max(s.x1));
    }
    // Widened bands must not run into each other.
    if out.windows(2).any(|w| w[0].1 >= w[1].0) {
        return None;
    }
    if used.iter().filter(|u| **u).count() < 2 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, x0: f32, x1: f32, y: f32) -> Segment {
        Segment::plain(text, x0, x1, y)
    }

    #[test]
    fn aligned_rows_make_a_table() {
        let segs = vec![
            seg("Intro paragraph across the page", 50.0, 500.0, 80.0),
            seg("Name", 50.0, 100.0, 100.0),
            seg("Value", 300.0, 340.0, 100.0),
            seg("alpha", 50.0, 90.0, 112.0),
            seg("1", 300.0, 310.0, 112.0),
            seg("beta gamma", 50.0, 140.0, 124.0),
            seg("22", 305.0, 320.0, 124.0),
            seg("After the table", 50.0, 500.0, 150.0),
        ];
        let tables = find(&segs);
        assert_eq!(tables.len(), 1);
        assert_eq!(
            tables[0].rows,
            vec![
                vec![vec![1], vec![2]],
                vec![vec![3], vec![4]],
                vec![vec![5], vec![6]]
            ]
        );
    }

    /// A book index set in two columns (R-data's concept index) lines up like a table, but each
    /// column reads on down: no table. A price list with leaders beside its prices stays one.
    #[test]
    fn an_index_in_two_columns_is_not_a_table() {
        let left = ["A", "awk . . . 3", "B", "Binary files . . . 24, 29", "C"];
        let right = [
            "N",
            "netCDF . . . 24",
            "O",
            "Octave . . . 16",
            "ODBC . . . 17, 21",
        ];
        let mut segs = Vec::new();
        for (row, (l, r)) in left.iter().zip(right).enumerate() {
            let y = 100.0 + 12.0 * row as f32;
            segs.push(seg(l, 50.0, 50.0 + 6.0 * l.len() as f32, y));
            segs.push(seg(r, 300.0, 300.0 + 6.0 * r.len() as f32, y));
        }
        assert!(find(&segs).is_empty());
        let mut prices = Vec::new();
        for (row, (dish, price)) in [
            ("Soup . . .", "5"),
            ("Salad . . .", "7"),
            ("Fish . . .", "18"),
        ]
        .into_iter()
        .enumerate()
        {
            let y = 100.0 + 12.0 * row as f32;
            prices.push(seg(dish, 50.0, 120.0, y));
            prices.push(seg(price, 300.0, 310.0, y));
        }
        assert_eq!(find(&prices).len(), 1);
    }

    #[test]
    fn a_grid_past_the_cell_limit_is_not_a_table() {
        let columns = 1_500;
        let mut segs: Vec<Segment> = (0..columns)
            .map(|c| seg("h", 10.0 * c as f32, 10.0 * c as f32 + 5.0, 100.0))
            .collect();
        for r in 1..=1_000 {
            let y = 100.0 + 12.0 * r as f32;
            segs.push(seg("a", 0.0, 5.0, y));
            segs.push(seg("b", 10.0, 15.0, y));
        }
        let tables = find(&segs);
        let cells: usize = tables.iter().map(|t| t.rows.len() * t.rows[0].len()).sum();
        assert!(cells <= MAX_CELLS, "{cells} cells");
    }

    #[test]
    fn two_columns_of_running_text_are_not_a_table() {
        let left = [
            "Administrators frequently misunderstand",
            "interrelationships between replication",
            "factors, synchronization protocols and",
            "the efficiency of their deployments.",
        ];
        let right = [
            "Distributed configurations require careful",
            "consideration of availability, partition",
            "tolerance and consistency guarantees in",
            "every cluster they administer.",
        ];
        let mut segs = Vec::new();
        for (r, (l, rt)) in left.iter().zip(right).enumerate() {
            let y = 100.0 + 12.0 * r as f32;
            segs.push(seg(l, 50.0, if r == 3 { 230.0 } else { 280.0 }, y));
            segs.push(seg(rt, 320.0, if r == 3 { 480.0 } else { 548.0 }, y));
        }
        assert!(find(&segs).is_empty());
    }

    #[test]
    fn a_two_column_table_with_wrapped_descriptions_stays_a_table() {
        let segs = vec![
            seg("Option", 50.0, 90.0, 100.0),
            seg("Meaning", 200.0, 260.0, 100.0),
            seg("--workers", 50.0, 110.0, 112.0),
            seg(
                "how many threads parse documents at once,",
                200.0,
                520.0,
                112.0,
            ),
            seg("--batch", 50.0, 95.0, 124.0),
            seg(
                "documents handed to a thread in one go and",
                200.0,
                525.0,
                124.0,
            ),
            seg("--store", 50.0, 95.0, 136.0),
            seg("where the knowledge base is written", 200.0, 480.0, 136.0),
        ];
        assert_eq!(find(&segs).len(), 1);
    }

    #[test]
    fn columns_two_points_apart_keep_their_cells() {
        // A right-aligned column, then one that starts 2 points (here 1.9) after its widest
        // cell: the slack that lets a cell stray a little would reach into both.
        let segs = vec![
            seg("Qty", 161.7, 177.3, 100.0),
            seg("Price", 181.5, 204.3, 100.0),
            seg("1200", 155.0, 177.3, 118.0),
            seg("0.45", 184.8, 204.3, 118.0),
            seg("36", 166.2, 177.3, 136.0),
            seg("12.20", 179.2, 204.3, 136.0),
        ];
        let tables = find(&segs);
        assert_eq!(tables.len(), 1, "{tables:?}");
        assert_eq!(tables[0].rows.len(), 3);
    }

    #[test]
    fn prose_is_not_a_table() {
        let segs = vec![
            seg("one line", 50.0, 500.0, 100.0),
            seg("two line", 50.0, 500.0, 112.0),
            seg("three line", 50.0, 500.0, 124.0),
        ];
        assert!(find(&segs).is_empty());
    }
}
