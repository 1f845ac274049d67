//! Thin column gutters: the gaps of a compact table set without rules, narrower than the gap
//! that parts a line into segments (see [`super::lines::SPLIT_GAP`]), some no wider than a word
//! space. A word space falls wherever the words of a line happen to end; a gutter stands at one
//! place line after line: the column after it starts (or the column before it ends) at the same
//! x on three consecutive lines or more, with the gap free of ink and of drawn spaces on every
//! one of them, and the text between such gaps short (cells, not running text). Each gutter
//! becomes a wall (as a ruled table's vertical line is) that text is not joined across, so the
//! table's rows split into cells and read as a table.
//!
//! Monospaced text (code aligned in columns) and a column of list labels beside their items are
//! left alone.

use super::extract::Glyph;
use super::grid::Line;
use super::lines::SPLIT_GAP;

/// Narrowest gutter, in font sizes (ReportLab's `LEFTPADDING` and `RIGHTPADDING` of 1 point
/// leave 2 points between the widest cell of a column and the next).
const MIN_GAP: f32 = 0.15;
/// Widest gap, in font sizes, that makes a gutter worth a wall: about a word space (3 points in
/// 10-point type). Some line must part its columns by no more (wider gaps up to
/// [`SPLIT_GAP`] are not taken: `pdfjs__issue840.pdf`'s schedule, 5 to 6 points apart in 8-point
/// type, would read as tables but its heading sizes shift with the text they take).
const NARROW: f32 = 0.45;
/// How far, in font sizes, the edges of a column may stray from line to line.
const ALIGN: f32 = 0.01;
/// Fewest consecutive lines a gutter runs through.
const MIN_LINES: usize = 3;
/// Most words the cells of a line hold on average, and the cells beside a gutter at most.
const CELL_WORDS: f32 = 3.0;
const MAX_CELL_WORDS: usize = 6;
/// Fewest words of a line of running text (in a narrow column).
const RUNNING_WORDS: usize = 4;
/// Narrowest gap, in font sizes, between columns of running text on a page (a justified
/// line's word spaces stay narrower).
const COLUMN_GAP: f32 = 1.5;
/// Most lines, and pieces of a line, looked at on a page, and most pieces read to judge its
/// gutters (bounded work).
const MAX_ROWS: usize = 2_000;
const MAX_PIECES: usize = 200;
const MAX_WORK: usize = 1_000_000;

/// Ink on one baseline between gaps: a word, or a run of words that no gap parts.
#[derive(Debug, Clone)]
struct Piece {
    x0: f32,
    x1: f32,
    text: String,
    mono: bool,
    /// Whether a space glyph is drawn between it and the piece before.
    spaced: bool,
}

/// The pieces of one baseline, left to right.
#[derive(Debug)]
struct Row {
    y: f32,
    size: f32,
    pieces: Vec<Piece>,
}

impl Row {
    /// The gap before piece `k` (from 1): its left and right ends.
    fn gap(&self, k: usize) -> (f32, f32) {
        (self.pieces[k - 1].x1, self.pieces[k].x0)
    }

    /// Whether the gap before piece `k` could be a gutter: free of drawn spaces, at least
    /// [`MIN_GAP`] wide, between proportional type.
    fn open(&self, k: usize) -> bool {
        let (a, b) = (&self.pieces[k - 1], &self.pieces[k]);
        !b.spaced && !a.mono && !b.mono && b.x0 - a.x1 >= MIN_GAP * self.size
    }
}

/// Rows of pieces from a page's glyphs (in any order), top to bottom.
fn rows(glyphs: &[Glyph]) -> Vec<Row> {
    let mut order: Vec<usize> = (0..glyphs.len())
        .filter(|&i| glyphs[i].x.is_finite() && glyphs[i].y.is_finite() && glyphs[i].size > 0.0)
        .collect();
    order.sort_by(|&a, &b| glyphs[a].y.total_cmp(&glyphs[b].y));
    let mut lines: Vec<(f32, f32, Vec<usize>)> = Vec::new();
    for i in order {
        let g = &glyphs[i];
        match lines.last_mut() {
            Some((y, size, members)) if (g.y - *y).abs() <= 0.35 * size.max(g.size) => {
                *size = size.max(g.size);
                members.push(i);
            }
            _ => lines.push((g.y, g.size, vec![i])),
        }
    }
    lines
        .into_iter()
        .take(MAX_ROWS)
        .map(|(y, size, mut members)| {
            members.sort_by(|&a, &b| glyphs[a].x.total_cmp(&glyphs[b].x));
            let mut pieces: Vec<Piece> = Vec::new();
            let mut spaced = false;
            for i in members {
                let g = &glyphs[i];
                if g.text.trim().is_empty() {
                    spaced = true;
                    continue;
                }
                match pieces.last_mut() {
                    Some(p) if !spaced && g.x - p.x1 < MIN_GAP * size => {
                        p.text.push_str(&g.text);
                        p.x1 = p.x1.max(g.x + g.w);
                        p.mono &= g.mono;
                    }
                    _ => pieces.push(Piece {
                        x0: g.x,
                        x1: g.x + g.w,
                        text: g.text.clone(),
                        mono: g.mono,
                        spaced,
                    }),
                }
                spaced = false;
            }
            pieces.truncate(MAX_PIECES);
            Row { y, size, pieces }
        })
        .collect()
}

/// Whether row `b` follows row `a` as the next line of one block: a line's pitch below, in
/// about the same type.
fn next_line(a: &Row, b: &Row) -> bool {
    let size = a.size.max(b.size);
    let dy = b.y - a.y;
    dy > 0.3 * size && dy <= 2.5 * size && (a.size - b.size).abs() <= 0.2 * size
}

/// A gutter through rows `first..first + at.len()`: in each, the gap before piece `at[r]`.
#[derive(Debug, Clone)]
struct Gutter {
    first: usize,
    at: Vec<usize>,
    /// Whether the column after it starts at one x (else the column before it ends at one).
    starts: bool,
}

impl Gutter {
    /// Its rows with the gap taken in each.
    fn rows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.at
            .iter()
            .enumerate()
            .map(|(r, &k)| (self.first + r, k))
    }

    /// The band every one of its gaps covers.
    fn band(&self, rows: &[Row]) -> (f32, f32) {
        self.rows()
            .fold((f32::NEG_INFINITY, f32::INFINITY), |(lo, hi), (r, k)| {
                let (a, b) = rows[r].gap(k);
                (lo.max(a), hi.min(b))
            })
    }
}

/// The gaps of row `row` (each before a piece, from 1) whose edge after (`starts`) or before
/// stands within `tolerance` of `x`.
fn gaps_at(row: &Row, x: f32, tolerance: f32, starts: bool) -> impl Iterator<Item = usize> + '_ {
    let pieces = &row.pieces;
    let first = if starts {
        pieces.partition_point(|p| p.x0 < x - tolerance).max(1)
    } else {
        pieces.partition_point(|p| p.x1 < x - tolerance) + 1
    };
    (first..pieces.len()).take_while(move |&j| {
        let edge = if starts {
            pieces[j].x0
        } else {
            pieces[j - 1].x1
        };
        edge <= x + tolerance
    })
}

/// The gutter that the gap before piece `k` of row `first` starts, following the column edge
/// after it (`starts`) or before it down the rows while it stays put.
fn follow(rows: &[Row], first: usize, k: usize, starts: bool) -> Gutter {
    let (mut lo, mut hi) = rows[first].gap(k);
    let x = if starts { hi } else { lo };
    let mut at = vec![k];
    let mut r = first + 1;
    while r < rows.len() && next_line(&rows[r - 1], &rows[r]) {
        let row = &rows[r];
        let tolerance = ALIGN * row.size.max(rows[first].size);
        let found = gaps_at(row, x, tolerance, starts).find(|&j| {
            let (a, b) = row.gap(j);
            row.open(j) && a.max(lo) < b.min(hi)
        });
        let Some(j) = found else {
            break;
        };
        let (a, b) = row.gap(j);
        (lo, hi) = (lo.max(a), hi.min(b));
        at.push(j);
        r += 1;
    }
    Gutter { first, at, starts }
}

/// Candidate gutters of a page: every run of [`MIN_LINES`] lines or more down which a column
/// edge stays put beside open gaps, each gap taken once.
fn candidates(rows: &[Row]) -> Vec<Gutter> {
    let mut taken: Vec<Vec<bool>> = rows.iter().map(|r| vec![false; r.pieces.len()]).collect();
    let mut out = Vec::new();
    for first in 0..rows.len() {
        for k in 1..rows[first].pieces.len() {
            if taken[first][k] || !rows[first].open(k) {
                continue;
            }
            let longest = [true, false]
                .into_iter()
                .map(|starts| follow(rows, first, k, starts))
                .max_by_key(|g| g.at.len());
            let Some(gutter) = longest.filter(|g| g.at.len() >= MIN_LINES) else {
                continue;
            };
            for (r, &j) in gutter.at.iter().enumerate() {
                taken[first + r][j] = true;
            }
            out.push(gutter);
        }
    }
    out
}

/// Whether a candidate gutter may part cells at all: words with letters or digits on either
/// side on every row (not leader dots, which stand on a grid line after line), and not the
/// same words before it on every row (a phrase that opens every item of a list).
fn plausible(rows: &[Row], gutter: &Gutter) -> bool {
    let worded_sides = gutter.rows().all(|(r, k)| {
        let pieces = &rows[r].pieces;
        worded(&pieces[k - 1]) && worded(&pieces[k])
    });
    let prefix = |(r, k): (usize, usize)| rows[r].pieces[..k].iter().map(|p| p.text.as_str());
    let mut prefixes = gutter.rows().map(prefix);
    let first: Vec<&str> = prefixes.next().map(Iterator::collect).unwrap_or_default();
    worded_sides && !prefixes.all(|p| p.eq(first.iter().copied()))
}

/// For each row, which of its gaps `gutters` take.
fn cut_table(rows: &[Row], gutters: &[Gutter]) -> Vec<Vec<bool>> {
    let mut cuts: Vec<Vec<bool>> = rows.iter().map(|r| vec![false; r.pieces.len()]).collect();
    for (r, k) in gutters.iter().flat_map(Gutter::rows) {
        cuts[r][k] = true;
    }
    cuts
}

/// Whether a piece holds a letter or digit (not a leader dot).
fn worded(piece: &Piece) -> bool {
    piece.text.chars().any(char::is_alphanumeric)
}

/// Whether `text` is a list label or a section number (`3.`, `(b)`, `2.4.1`).
fn label(text: &str) -> bool {
    super::lists::label_only(text).is_some()
        || text.chars().next().is_some_and(|c| c.is_ascii_digit())
            && text.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// What a gutter parts on one row: the piece of the line that wide gaps bound
/// (`from..to`), and in it the cells on either side of the gutter (`start..k`, `k..end`),
/// bounded by other gutters.
struct Beside {
    from: usize,
    to: usize,
    start: usize,
    end: usize,
    /// Words of the piece of the line, and gutters in it.
    words: usize,
    cuts: usize,
}

/// Words with letters or digits among `pieces`.
fn words(pieces: &[Piece]) -> usize {
    pieces.iter().filter(|p| worded(p)).count()
}

/// The first piece after a gap at least `width` font sizes wide before piece `k` of `row`,
/// and the first piece after such a gap after `k` (or the row's end).
fn between_gaps(row: &Row, k: usize, width: f32) -> (usize, usize) {
    let apart = |j: usize| {
        let (a, b) = row.gap(j);
        b - a >= width * row.size
    };
    let from = (1..k).rev().find(|&j| apart(j)).unwrap_or(0);
    let to = (k + 1..row.pieces.len())
        .find(|&j| apart(j))
        .unwrap_or(row.pieces.len());
    (from, to)
}

/// What the gap before piece `k` of row `index` parts, `cuts` marking the gutters' gaps.
fn beside(rows: &[Row], index: usize, k: usize, cuts: &[Vec<bool>]) -> Beside {
    let row = &rows[index];
    let (from, to) = between_gaps(row, k, SPLIT_GAP);
    let cut = |j: usize| j == k || cuts[index][j];
    Beside {
        from,
        to,
        start: (from + 1..k).rev().find(|&j| cut(j)).unwrap_or(from),
        end: (k + 1..to).find(|&j| cut(j)).unwrap_or(to),
        words: words(&row.pieces[from..to]),
        cuts: (from + 1..to).filter(|&j| cut(j)).count(),
    }
}

/// Whether a gutter's aligned edge is only that of words of one width that start (or end)
/// lines of running text set flush together, a word space after (before) them: on all its
/// rows but one at most, the cell across its aligned edge is a single word that opens (ends)
/// a line of [`RUNNING_WORDS`] or more, and those words' far edges line up.
fn flush_words(rows: &[Row], gutter: &Gutter, cells: &[Beside]) -> bool {
    let far_edges: Vec<Option<f32>> = gutter
        .rows()
        .zip(cells)
        .map(|((r, k), c)| {
            let row = &rows[r];
            let (line_start, line_end) = between_gaps(row, k, COLUMN_GAP);
            if words(&row.pieces[line_start..line_end]) < RUNNING_WORDS {
                return None;
            }
            if gutter.starts {
                (c.end == c.to && c.end == k + 1).then(|| row.pieces[k].x1)
            } else {
                (c.start == c.from && c.start + 1 == k).then(|| row.pieces[c.start].x0)
            }
        })
        .collect();
    let tolerance = ALIGN * rows[gutter.first].size;
    let xs: Vec<f32> = far_edges.iter().flatten().copied().collect();
    let together = xs
        .iter()
        .map(|&x| xs.iter().filter(|&&y| (y - x).abs() <= tolerance).count())
        .max()
        .unwrap_or(0);
    together >= 2 && together + 1 >= far_edges.len()
}

/// What a gutter that parts cells stands after.
#[derive(Debug, Clone, Copy, PartialEq)]
enum After {
    /// A column of cells.
    Cells,
    /// A column of list labels or section numbers, on half its rows or more.
    Labels,
}

/// Whether a plausible gutter parts cells, and after what. On each of its rows, within the
/// piece of the line that wide gaps bound: the cells on either side of it (up to the next
/// gutters) hold a few words, and the gutters there part that piece into cells of a few words
/// on average (a word space that lines up by chance in running text leaves long runs of words
/// beside it). The text is not the same on every row, some of its gaps are narrow (the wide
/// ones part segments anyway), and its aligned edge is not that of words of one width flush
/// with the lines' start or end ([`flush_words`]).
fn parts_cells(rows: &[Row], gutter: &Gutter, cuts: &[Vec<bool>]) -> Option<After> {
    let cells: Vec<Beside> = gutter
        .rows()
        .map(|(r, k)| beside(rows, r, k, cuts))
        .collect();
    let text = |r: usize, span: std::ops::Range<usize>| {
        rows[r].pieces[span]
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut texts: Vec<String> = Vec::new();
    let (mut labels, mut narrow) = (0usize, false);
    for ((r, k), c) in gutter.rows().zip(&cells) {
        let row = &rows[r];
        if words(&row.pieces[c.start..k]) > MAX_CELL_WORDS
            || words(&row.pieces[k..c.end]) > MAX_CELL_WORDS
            || c.words as f32 > CELL_WORDS * (c.cuts + 1) as f32
        {
            return None;
        }
        let (a, b) = row.gap(k);
        narrow |= b - a <= NARROW * row.size;
        labels += usize::from(c.start == 0 && label(&text(r, 0..k)));
        texts.push(text(r, c.from..c.to));
    }
    let varied = texts.iter().any(|t| *t != texts[0]);
    if !narrow || !varied || flush_words(rows, gutter, &cells) {
        return None;
    }
    Some(if 2 * labels >= texts.len() {
        After::Labels
    } else {
        After::Cells
    })
}

/// Where two lists of intervals, each sorted and not overlapping, overlap by `least` or more.
fn overlaps(a: &[(f32, f32)], b: &[(f32, f32)], least: f32) -> Vec<(f32, f32)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (lo, hi) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if hi - lo >= least {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The gutter before a right-aligned column that ends where `gutter` starts (its numbers end
/// at one x, but start wherever their widths put them): the band no text of its rows covers,
/// nearest left of it, at least [`MIN_GAP`] wide, narrow on some row, with a few words with
/// letters or digits on either side.
fn before_right_aligned(rows: &[Row], gutter: &Gutter) -> Option<Gutter> {
    let size = rows[gutter.first].size;
    let mut bands: Vec<(f32, f32)> = vec![(f32::NEG_INFINITY, f32::INFINITY)];
    for (r, k) in gutter.rows() {
        let row = &rows[r];
        let gaps: Vec<(f32, f32)> = (1..k)
            .filter(|&j| row.open(j))
            .map(|j| row.gap(j))
            .collect();
        bands = overlaps(&bands, &gaps, MIN_GAP * size);
    }
    let &(lo, hi) = bands.iter().max_by(|a, b| a.0.total_cmp(&b.0))?;
    let mut at = Vec::with_capacity(gutter.at.len());
    let mut narrow = false;
    for (r, k) in gutter.rows() {
        let row = &rows[r];
        let j = (1..k).find(|&j| {
            let (a, b) = row.gap(j);
            a <= lo && hi <= b
        })?;
        let cell = &row.pieces[j..k];
        let words = cell.iter().filter(|p| worded(p)).count();
        if !worded(&row.pieces[j - 1]) || !worded(&row.pieces[j]) || words > MAX_CELL_WORDS {
            return None;
        }
        let (a, b) = row.gap(j);
        narrow |= b - a <= NARROW * row.size;
        at.push(j);
    }
    narrow.then_some(Gutter {
        first: gutter.first,
        at,
        starts: false,
    })
}

/// Walls in the thin gutters of compact tables on a page drawing `glyphs`: vertical lines in
/// the band each gutter's gaps share, from above its first line to its last. A gutter after a
/// column of labels or section numbers counts only beside another gutter on three of its rows
/// (a numbered table, not a list or a table of contents); a right-aligned column gets a
/// gutter before it too.
pub(crate) fn walls(glyphs: &[Glyph]) -> Vec<Line> {
    let rows = rows(glyphs);
    let all = candidates(&rows);
    // Judging a gutter reads its rows' pieces: a page of thousands of gutters through long
    // rows (a grid of numbers) is no compact table, and is left as it is.
    let work: usize = all
        .iter()
        .flat_map(Gutter::rows)
        .map(|(r, _)| rows[r].pieces.len())
        .sum();
    if work > MAX_WORK {
        return Vec::new();
    }
    let all: Vec<Gutter> = all.into_iter().filter(|g| plausible(&rows, g)).collect();
    let cuts = cut_table(&rows, &all);
    let judged: Vec<(&Gutter, After)> = all
        .iter()
        .filter_map(|g| parts_cells(&rows, g, &cuts).map(|after| (g, after)))
        .collect();
    let beside_cells = |g: &Gutter| {
        judged.iter().any(|(c, after)| {
            let start = g.first.max(c.first);
            let end = (g.first + g.at.len()).min(c.first + c.at.len());
            *after == After::Cells && end >= start + MIN_LINES
        })
    };
    let mut kept: Vec<Gutter> = judged
        .iter()
        .filter(|(g, after)| *after == After::Cells || beside_cells(g))
        .map(|(g, _)| (*g).clone())
        .collect();
    let right_aligned: Vec<Gutter> = kept
        .iter()
        .filter(|g| !g.starts)
        .filter_map(|g| before_right_aligned(&rows, g))
        .collect();
    kept.extend(right_aligned);
    kept.iter()
        .map(|g| {
            let (lo, hi) = g.band(&rows);
            let (top, bottom) = (&rows[g.first], &rows[g.first + g.at.len() - 1]);
            Line {
                at: (lo + hi) / 2.0,
                from: top.y - top.size,
                to: bottom.y,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Glyphs of each `(word, x)` on baseline `y`, 5 points a character in 10-point type, no
    /// space drawn between words (as TeX and many table cells place them).
    fn words(glyphs: &mut Vec<Glyph>, words: &[(&str, f32)], y: f32, mono: bool) {
        for &(word, x) in words {
            crate::parse::pdf::extract::test_glyphs(glyphs, word, x, y, mono);
        }
    }

    /// Cells drawn at the columns `xs`, a row every 12 points from baseline 100.
    fn table(rows: &[&[&str]], xs: &[f32]) -> Vec<Glyph> {
        let mut glyphs = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            let cells: Vec<(&str, f32)> = row.iter().copied().zip(xs.iter().copied()).collect();
            words(&mut glyphs, &cells, 100.0 + 12.0 * r as f32, false);
        }
        glyphs
    }

    /// Lines of words one word space (3 points) apart, from x 50, a line every 12 points.
    fn prose(lines: &[&str], mono: bool) -> Vec<Glyph> {
        let mut glyphs = Vec::new();
        for (r, line) in lines.iter().enumerate() {
            let mut x = 50.0;
            let mut placed = Vec::new();
            for word in line.split(' ') {
                placed.push((word, x));
                x += 5.0 * word.chars().count() as f32 + 3.0;
            }
            words(&mut glyphs, &placed, 100.0 + 12.0 * r as f32, mono);
        }
        glyphs
    }

    fn at(walls: &[Line]) -> Vec<f32> {
        let mut xs: Vec<f32> = walls.iter().map(|l| l.at).collect();
        xs.sort_by(f32::total_cmp);
        xs.dedup();
        xs
    }

    #[test]
    fn a_compact_tables_gutters_get_walls() {
        // The widest cell of a column ends 2 points before the next column starts.
        let rows: &[&[&str]] = &[
            &["Name", "Qty", "Origin"],
            &["Apples", "120", "Kent"],
            &["Elderberries", "7", "Devon"],
            &["Dates", "48", "Tunisia"],
        ];
        let walls = walls(&table(rows, &[50.0, 112.0, 129.0]));
        assert_eq!(at(&walls), [111.0, 128.0], "{walls:?}");
        assert!(
            walls
                .iter()
                .all(|l| l.from <= 100.0 - 3.0 && l.to >= 136.0 - 3.0)
        );
    }

    #[test]
    fn a_right_aligned_column_gets_a_wall_before_it() {
        // Items start at 50, quantities end at 142 (the widest starts 2 points after the
        // widest item), origins start at 144.
        let mut glyphs = Vec::new();
        for (r, (item, qty, origin)) in [
            ("Item", "Qty", "Origin"),
            ("Nuts and bolts", "1000", "Kent"),
            ("Springs", "48", "Devon"),
            ("Washers", "7", "Tunisia"),
        ]
        .into_iter()
        .enumerate()
        {
            let y = 100.0 + 12.0 * r as f32;
            words(&mut glyphs, &[(item, 50.0)], y, false);
            let qty_x = 142.0 - 5.0 * qty.len() as f32;
            words(&mut glyphs, &[(qty, qty_x), (origin, 144.0)], y, false);
        }
        let walls = walls(&glyphs);
        assert_eq!(at(&walls), [121.0, 143.0], "{walls:?}");
    }

    #[test]
    fn word_spaces_that_line_up_by_chance_get_no_walls() {
        // The second word starts at one x on every line: a run of words follows it.
        let lines = [
            "The cat sat quietly on the mat by the window",
            "The horse galloped over fields far away from home",
            "The old owl watched everything from its tree",
        ];
        assert!(walls(&prose(&lines, false)).is_empty());
        // The same phrase opens every item of a list.
        let items = [
            "- A way to install it",
            "- A way to find it",
            "- A way to read it",
        ];
        assert!(walls(&prose(&items, false)).is_empty());
        // Monospaced code lines up by the character.
        let code = ["let a = 1;", "let b = 2;", "let c = 3;"];
        assert!(walls(&prose(&code, true)).is_empty());
    }

    #[test]
    fn a_table_of_contents_gets_no_walls() {
        // Section numbers, titles at one indent, leader dots on a grid, page numbers.
        let mut glyphs = Vec::new();
        for (r, (number, title, page)) in [
            ("3.1", "Programs", "8"),
            ("3.2", "Reserved", "9"),
            ("3.3", "Meshes", "10"),
        ]
        .into_iter()
        .enumerate()
        {
            let y = 100.0 + 12.0 * r as f32;
            let mut placed = vec![(number, 50.0), (title, 68.0)];
            let dots_from = 68.0 + 5.0 * title.len() as f32 + 4.0;
            let mut x = 120.0;
            while x < 200.0 {
                if x >= dots_from {
                    placed.push((".", x));
                }
                x += 8.0;
            }
            placed.push((page, 210.0 - 5.0 * page.len() as f32));
            words(&mut glyphs, &placed, y, false);
        }
        assert!(walls(&glyphs).is_empty());
    }

    #[test]
    fn spaces_drawn_in_a_gap_make_it_a_word_space() {
        let rows: &[&[&str]] = &[
            &["Name", "Qty", "Origin"],
            &["Apples", "120", "Kent"],
            &["Elderberries", "7", "Devon"],
        ];
        let mut glyphs = table(rows, &[50.0, 112.0, 129.0]);
        for r in 0..3 {
            glyphs.push(Glyph {
                x: 110.5,
                y: 100.0 + 12.0 * r as f32,
                w: 1.0,
                size: 10.0,
                text: " ".into(),
                bold: false,
                mono: false,
            });
        }
        assert_eq!(at(&walls(&glyphs)), [128.0]);
    }

    #[test]
    fn a_page_of_too_many_gutters_is_left_alone() {
        // 300 lines of 60 numbers 2 points apart: judging its 59 gutters would read more
        // pieces than a page may cost.
        let mut glyphs = Vec::new();
        for r in 0..300 {
            let digits: Vec<String> = (0..60).map(|c| ((r * 7 + c) % 10).to_string()).collect();
            let placed: Vec<(&str, f32)> = digits
                .iter()
                .enumerate()
                .map(|(c, d)| (d.as_str(), 10.0 + 7.0 * c as f32))
                .collect();
            words(&mut glyphs, &placed, 100.0 + 12.0 * r as f32, false);
        }
        assert!(walls(&glyphs).is_empty());
    }
}
