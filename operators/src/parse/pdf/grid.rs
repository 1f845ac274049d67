//! Ruled tables: the rules a page draws (see [`super::rules`]), in page coordinates, merged
//! into horizontal and vertical lines. Lines that meet form a grid when they bound two rows
//! and two columns at least; a grid's vertical lines are walls that text on one baseline is
//! not joined across (a cell border between two cells with thin padding), and a grid that
//! holds text in two rows and two columns is a table whose cells are the grid's cells.
//!
//! Horizontal lines in no grid may still rule a table by themselves (see [`super::banded`],
//! and [`super::header_rule`] for a line under a header alone), which gives a grid whose
//! vertical lines stand in the gaps between its text's columns. Other
//! lines in no grid (an underline, a rule under a heading, a bar beside a quote, a lone box
//! around text, a page of separate boxes, column separators) are left out: the page is read as
//! if they were not there.

use super::extract::{Frame, Glyph};
use super::lines::Segment;
use super::rules::Rule;
use super::tables::Table;
use super::wrapped::{self, Reading};

/// Lines closer than this (points) across their length are one line.
const SNAP: f32 = 1.5;
/// Pieces of one line with gaps up to this (points) are joined.
const JOIN: f32 = 2.0;
/// How far (points) a line may stop short of another and still meet it.
const MEET: f32 = 2.5;
/// Most pairs of horizontal and vertical lines checked for meeting on one page.
const MAX_PAIRS: usize = 4_000_000;
/// Most cells of a grid read as a table (bounded memory).
const MAX_GRID_CELLS: usize = 250_000;
/// Fewest rows and columns of a ruled table, holding text.
const MIN_ROWS: usize = 2;
const MIN_COLUMNS: usize = 2;
/// Least share of a ruled table's cells that hold text.
const MIN_FILLED: f32 = 0.4;
/// Most words a ruled table's cells hold on average: boxes of running text are not a table.
const MAX_CELL_WORDS: f32 = 60.0;
/// Narrowest gap, in font sizes, between text on either side of a grid's vertical line.
const MIN_WALLED_GAP: f32 = 0.05;
/// How near (in font sizes) a grid's vertical line must be to where text touching across it
/// (closer than [`MIN_WALLED_GAP`]) meets, to split it: a cell with no padding, its text
/// reaching the line or crossing it by a hair. A word overflowing its cell goes on well past
/// the line, which falls between two of its letters only by chance.
const TOUCH: f32 = 0.02;
/// Most share of the text in a grid that crosses one of its vertical lines: lines drawn
/// through the text (a chart's grid behind its labels) do not bound cells.
const MAX_CROSSING: f32 = 0.1;

/// A straight line on a page: at `at` across, from `from` to `to` along (top-down points).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Line {
    pub at: f32,
    pub from: f32,
    pub to: f32,
}

/// Lines that meet in a grid of two rows and two columns at least.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    /// Column bounds, left to right: the vertical lines' positions and the grid's edges.
    pub xs: Vec<f32>,
    /// Row bounds, top to bottom: the horizontal lines' positions and the grid's edges.
    pub ys: Vec<f32>,
    /// Its vertical lines, sorted by position.
    pub walls: Vec<Line>,
    /// Its horizontal lines (`at` is y, `from`–`to` x), sorted by position.
    pub floors: Vec<Line>,
    /// Whether it is drawn with horizontal lines alone, its vertical lines standing in the
    /// gaps between the text's columns (see [`super::banded`]): its first band is the header,
    /// one row however many lines it holds.
    pub banded: bool,
}

impl Grid {
    /// Whether horizontal line `l` is one of the grid's, or inside it.
    pub fn holds(&self, l: &Line) -> bool {
        let (xs, ys) = (&self.xs, &self.ys);
        ys[0] - 1.0 <= l.at
            && l.at <= ys[ys.len() - 1] + 1.0
            && l.from < xs[xs.len() - 1]
            && xs[0] < l.to
    }
}

/// A page's rules: the grids they form, and the vertical lines of those grids. Lines in no
/// grid are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PageRules {
    pub grids: Vec<Grid>,
    /// The grids' vertical lines (`at` is x, `from`–`to` y), sorted by `at`.
    pub walls: Vec<Line>,
}

impl PageRules {
    /// The rules of a page framed by `frame`, merged into lines, with the tables that
    /// horizontal lines alone rule around the page's `glyphs` (see [`super::banded`]), and
    /// walls in the thin gutters of compact tables without rules (see [`super::gutters`]).
    pub fn new(rules: &[Rule], frame: &Frame, glyphs: &[Glyph]) -> PageRules {
        let (mut horizontal, mut vertical) = (Vec::new(), Vec::new());
        for r in rules {
            // To page coordinates, y downwards.
            let (x0, x1) = (
                (f64::from(r.x0) - frame.left) as f32,
                (f64::from(r.x1) - frame.left) as f32,
            );
            let (y0, y1) = (
                (frame.top - f64::from(r.y1)) as f32,
                (frame.top - f64::from(r.y0)) as f32,
            );
            if ![x0, x1, y0, y1].iter().all(|v| v.is_finite()) {
                continue;
            }
            if x1 - x0 >= y1 - y0 {
                horizontal.push(Line {
                    at: (y0 + y1) / 2.0,
                    from: x0,
                    to: x1,
                });
            } else {
                vertical.push(Line {
                    at: (x0 + x1) / 2.0,
                    from: y0,
                    to: y1,
                });
            }
        }
        let (horizontal, vertical) = (merge(horizontal), merge(vertical));
        let (mut grids, in_grid) = grids(&horizontal, &vertical);
        let loose: Vec<Line> = horizontal
            .iter()
            .zip(&in_grid)
            .filter(|(_, in_grid)| !**in_grid)
            .map(|(l, _)| *l)
            .collect();
        // Tables ruled under their header alone first (stacked, such lines would read as one
        // table ruled with horizontal lines), then those with more lines, then tables ruled
        // under their header and their last row.
        let alone = super::header_rule::grids(&loose, &[], glyphs, true);
        let loose: Vec<Line> = loose
            .into_iter()
            .filter(|l| !alone.iter().any(|g| g.holds(l)))
            .collect();
        let banded = super::banded::grids(&loose, glyphs);
        let last = super::header_rule::grids(&loose, &banded, glyphs, false);
        grids.extend(alone);
        grids.extend(banded);
        grids.extend(last);
        let mut walls: Vec<Line> = grids.iter().flat_map(|g| g.walls.iter().copied()).collect();
        walls.extend(super::gutters::walls(glyphs));
        walls.sort_by(|a, b| a.at.total_cmp(&b.at));
        PageRules { grids, walls }
    }

    /// Whether a grid's vertical line stands between text ending at `left` and text starting
    /// at `right` on baseline `y` in type of `size`: they are not one piece of text. Text on
    /// either side of a gap is split at a line in or near the gap; text that touches (a cell
    /// with no padding) only at a line right where it meets. (Text that runs over a line, a
    /// word too long for its cell, stays whole.)
    pub fn walled(&self, left: f32, right: f32, y: f32, size: f32) -> bool {
        if self.walls.is_empty() || right - left < -TOUCH * size {
            return false;
        }
        let slack = if right - left < MIN_WALLED_GAP * size {
            TOUCH * size
        } else {
            0.15 * size
        };
        let (low, high) = (left - slack, right + slack);
        let probe = y - 0.3 * size;
        let start = self.walls.partition_point(|l| l.at < low);
        self.walls[start..]
            .iter()
            .take_while(|l| l.at <= high)
            .any(|l| l.from <= probe && probe <= l.to)
    }
}

/// Merges lines that lie on one another or continue one another.
fn merge(mut lines: Vec<Line>) -> Vec<Line> {
    lines.sort_by(|a, b| a.at.total_cmp(&b.at).then(a.from.total_cmp(&b.from)));
    let mut out: Vec<Line> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        // A cluster of lines at about one position.
        let mut j = i + 1;
        while j < lines.len()
            && lines[j].at - lines[j - 1].at <= SNAP
            && lines[j].at - lines[i].at <= 2.0 * SNAP
        {
            j += 1;
        }
        let cluster = &mut lines[i..j];
        cluster.sort_by(|a, b| a.from.total_cmp(&b.from));
        let at = cluster.iter().map(|l| l.at).sum::<f32>() / cluster.len() as f32;
        let mut current: Option<Line> = None;
        for l in cluster.iter() {
            match current.as_mut() {
                Some(c) if l.from <= c.to + JOIN => c.to = c.to.max(l.to),
                _ => {
                    out.extend(current.take());
                    current = Some(Line { at, ..*l });
                }
            }
        }
        out.extend(current);
        i = j;
    }
    out.sort_by(|a, b| a.at.total_cmp(&b.at));
    out
}

/// Union-find over line indices.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The grids of lines that meet: groups of horizontal lines `h` and vertical lines `v` (each
/// sorted by position) that bound two rows and two columns at least; and for each horizontal
/// line, whether it is in one of them.
fn grids(h: &[Line], v: &[Line]) -> (Vec<Grid>, Vec<bool>) {
    let mut in_grid = vec![false; h.len()];
    if h.len() < 2 || v.len() < 2 || h.len().saturating_mul(v.len()) > MAX_PAIRS {
        return (Vec::new(), in_grid);
    }
    let mut parent: Vec<usize> = (0..h.len() + v.len()).collect();
    for (i, a) in h.iter().enumerate() {
        // Vertical lines within the horizontal one's reach (sorted by x).
        let start = v.partition_point(|l| l.at < a.from - MEET);
        for (k, b) in v[start..].iter().enumerate() {
            if b.at > a.to + MEET {
                break;
            }
            if b.from - MEET <= a.at && a.at <= b.to + MEET {
                let (x, y) = (root(&mut parent, i), root(&mut parent, h.len() + start + k));
                parent[x] = y;
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, (Vec<usize>, Vec<usize>)> =
        std::collections::BTreeMap::new();
    for i in 0..h.len() + v.len() {
        let r = root(&mut parent, i);
        let group = groups.entry(r).or_default();
        if i < h.len() {
            group.0.push(i);
        } else {
            group.1.push(i - h.len());
        }
    }
    let mut out = Vec::new();
    for (hs, vs) in groups.into_values() {
        if hs.len() < 2 || vs.len() < 2 {
            continue;
        }
        let left = hs
            .iter()
            .map(|&i| h[i].from)
            .chain(vs.iter().map(|&i| v[i].at));
        let right = hs
            .iter()
            .map(|&i| h[i].to)
            .chain(vs.iter().map(|&i| v[i].at));
        let top = vs
            .iter()
            .map(|&i| v[i].from)
            .chain(hs.iter().map(|&i| h[i].at));
        let bottom = vs
            .iter()
            .map(|&i| v[i].to)
            .chain(hs.iter().map(|&i| h[i].at));
        let (x0, x1) = (
            left.fold(f32::MAX, f32::min),
            right.fold(f32::MIN, f32::max),
        );
        let (y0, y1) = (
            top.fold(f32::MAX, f32::min),
            bottom.fold(f32::MIN, f32::max),
        );
        let xs = positions(vs.iter().map(|&i| v[i].at).chain([x0, x1]).collect());
        let ys = positions(hs.iter().map(|&i| h[i].at).chain([y0, y1]).collect());
        if xs.len() > MIN_COLUMNS && ys.len() > MIN_ROWS {
            for &i in &hs {
                in_grid[i] = true;
            }
            out.push(Grid {
                xs,
                ys,
                walls: vs.iter().map(|&i| v[i]).collect(),
                floors: hs.iter().map(|&i| h[i]).collect(),
                banded: false,
            });
        }
    }
    (out, in_grid)
}

/// Sorted positions with those closer than [`SNAP`] taken as one.
fn positions(mut at: Vec<f32>) -> Vec<f32> {
    at.sort_by(f32::total_cmp);
    let mut out: Vec<f32> = Vec::with_capacity(at.len());
    for a in at {
        match out.last() {
            Some(&last) if a - last <= SNAP => {}
            _ => out.push(a),
        }
    }
    out
}

/// Where a segment is taken to be: a little into its first characters, at mid-letter height.
fn probe(s: &Segment) -> (f32, f32) {
    (s.x0 + 0.5 * (s.x1 - s.x0).min(s.size), s.y - 0.3 * s.size)
}

/// The band of `bounds` (sorted) holding `v`, if inside.
fn band(bounds: &[f32], v: f32) -> Option<usize> {
    let i = bounds.partition_point(|&b| b <= v);
    (i >= 1 && i < bounds.len()).then(|| i - 1)
}

/// Finds the ruled tables of a page among `segs` (sorted by baseline, as
/// [`super::lines::segments`] returns them). Segments are used by one table at most. A grid
/// inside another's cell (a table nested in a table's cell) is tried after it: a table holds
/// the nested one's text in its cell, in place; the inner grid is a table of its own only
/// when the outer one is none.
pub(crate) fn find(segs: &[Segment], rules: &PageRules) -> Vec<Table> {
    let mut used = vec![false; segs.len()];
    let area = |g: &Grid| {
        let (xs, ys) = (&g.xs, &g.ys);
        (xs[xs.len() - 1] - xs[0]) * (ys[ys.len() - 1] - ys[0])
    };
    let mut order: Vec<&Grid> = rules.grids.iter().collect();
    // (Larger first: a grid inside another is smaller than it.)
    order.sort_by(|a, b| area(b).total_cmp(&area(a)));
    order
        .into_iter()
        .filter_map(|g| table_in(segs, &mut used, g))
        .collect()
}

/// The table the grid of column bounds `xs` and row bounds `ys` makes of the segments inside
/// it that are not `used` yet, if it is one (then they are marked used).
fn table_in(segs: &[Segment], used: &mut [bool], grid: &Grid) -> Option<Table> {
    let (xs, ys, walls, banded) = (&grid.xs, &grid.ys, &grid.walls, grid.banded);
    let (columns, bands) = (xs.len().checked_sub(1)?, ys.len().checked_sub(1)?);
    if columns < MIN_COLUMNS || bands.saturating_mul(columns) > MAX_GRID_CELLS {
        return None;
    }
    // Segments by row band and column.
    // Segments are sorted by line, their baselines within a font size of the line's: those
    // whose probe may fall inside.
    let (top, bottom) = (ys[0], ys[bands]);
    let largest = segs.iter().map(|s| s.size).fold(0.0f32, f32::max);
    let start = segs.partition_point(|s| s.y < top - largest);
    let end = segs.partition_point(|s| s.y <= bottom + largest);
    let mut placed: Vec<(usize, usize, usize)> = Vec::new();
    for (k, s) in segs.iter().enumerate().take(end).skip(start) {
        if used[k] {
            continue;
        }
        let (px, py) = probe(s);
        if let (Some(c), Some(r)) = (band(xs, px), band(ys, py)) {
            placed.push(merged_cell_start(grid, r, c, k));
        }
    }
    if placed.len() < MIN_ROWS * MIN_COLUMNS {
        return None;
    }
    // Text that lines run through is not in cells.
    let crossing = placed
        .iter()
        .filter(|&&(_, _, k)| {
            let s = &segs[k];
            let y = s.y - 0.3 * s.size;
            lines_near(walls, s.x0 + 0.5 * s.size, s.x1 - 0.5 * s.size)
                .iter()
                .any(|w| w.from <= y && y <= w.to)
        })
        .count();
    if crossing as f32 > MAX_CROSSING * placed.len() as f32 {
        return None;
    }
    let mut grid: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); columns]; bands];
    for &(r, c, k) in &placed {
        grid[r][c].push(k);
    }
    let rows = split_bands(grid, segs, banded);
    // Empty rows and columns (a double border, a spacer) go.
    let rows: Vec<Vec<Vec<usize>>> = rows
        .into_iter()
        .filter(|row| row.iter().any(|cell| !cell.is_empty()))
        .collect();
    let filled_columns: Vec<usize> = (0..columns)
        .filter(|&c| rows.iter().any(|row| !row[c].is_empty()))
        .collect();
    let rows: Vec<Vec<Vec<usize>>> = rows
        .into_iter()
        .map(|row| filled_columns.iter().map(|&c| row[c].clone()).collect())
        .collect();
    let cells = rows.len() * filled_columns.len();
    let filled = rows.iter().flatten().filter(|c| !c.is_empty()).count();
    let words: usize = placed
        .iter()
        .map(|&(_, _, k)| segs[k].text.split_whitespace().count())
        .sum();
    if rows.len() < MIN_ROWS
        || filled_columns.len() < MIN_COLUMNS
        || (filled as f32) < MIN_FILLED * cells as f32
        || words as f32 > MAX_CELL_WORDS * filled as f32
    {
        return None;
    }
    for &(_, _, k) in &placed {
        used[k] = true;
    }
    Some(Table { rows })
}

/// The lines of `lines` (sorted by position) from `low` to `high`.
fn lines_near(lines: &[Line], low: f32, high: f32) -> &[Line] {
    let start = lines.partition_point(|l| l.at < low);
    let end = lines.partition_point(|l| l.at <= high);
    &lines[start..end.max(start)]
}

/// Where the text of segment `k`, in the cell at row band `r` and column `c`, goes: the
/// top left cell of the merged cell it is in (a cell spanning columns or rows has no line
/// between its parts).
fn merged_cell_start(grid: &Grid, mut r: usize, mut c: usize, k: usize) -> (usize, usize, usize) {
    let mid_y = (grid.ys[r] + grid.ys[r + 1]) / 2.0;
    let ruled = |lines: &[Line], at: f32, along: f32| {
        lines_near(lines, at - SNAP, at + SNAP)
            .iter()
            .any(|l| l.from - MEET <= along && along <= l.to + MEET)
    };
    while c > 0 && !ruled(&grid.walls, grid.xs[c], mid_y) {
        c -= 1;
    }
    let mid_x = (grid.xs[c] + grid.xs[c + 1]) / 2.0;
    while r > 0 && !ruled(&grid.floors, grid.ys[r], mid_x) {
        r -= 1;
    }
    (r, c, k)
}

/// Baselines of the segments of one row band: groups of segment indices (sorted by baseline)
/// with, for each, the columns it has text in.
fn baselines(row: &[Vec<usize>], segs: &[Segment]) -> Vec<(Vec<(usize, usize)>, usize)> {
    let mut items: Vec<(usize, usize)> = row
        .iter()
        .enumerate()
        .flat_map(|(c, cell)| cell.iter().map(move |&k| (c, k)))
        .collect();
    items.sort_by(|a, b| segs[a.1].y.total_cmp(&segs[b.1].y));
    let mut lines: Vec<Vec<(usize, usize)>> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(line)
                if {
                    let first = &segs[line[0].1];
                    let s = &segs[item.1];
                    (s.y - first.y).abs() <= 0.35 * s.size.max(first.size)
                } =>
            {
                line.push(item)
            }
            _ => lines.push(vec![item]),
        }
    }
    lines
        .into_iter()
        .map(|line| {
            let mut columns: Vec<usize> = line.iter().map(|&(c, _)| c).collect();
            columns.sort_unstable();
            columns.dedup();
            (line, columns.len())
        })
        .collect()
}

/// Splits row bands that hold several rows of the table (a grid ruled around its header and
/// body but not between the body's rows) into one row per baseline, a line in one column
/// alone going on with the row above (a wrapped cell), unless it is text in the first column
/// alone that does not read as the rest of the cell above (a group label, see [`wrapped`]).
/// A grid ruled between its rows, most of whose bands hold one baseline, keeps its bands:
/// there a band of several lines holds wrapped cells. The header band of a `banded` grid
/// stays one row, and so do all its bands when it has a line between its body's rows.
fn split_bands(grid: Vec<Vec<Vec<usize>>>, segs: &[Segment], banded: bool) -> Vec<Vec<Vec<usize>>> {
    let lines: Vec<_> = grid.iter().map(|row| baselines(row, segs)).collect();
    let with_text = lines.iter().filter(|l| !l.is_empty()).count();
    let single = lines.iter().filter(|l| l.len() == 1).count();
    // (A grid of horizontal lines alone ruled between body rows: its bands are rows.)
    if single >= 2 && single as f32 >= 0.75 * with_text as f32 || banded && with_text >= 3 {
        return grid;
    }
    let columns = grid.first().map_or(0, Vec::len);
    // The first column that holds text: the rightmost in a right-to-left table.
    let rtl = super::bidi::mostly_rtl(
        grid.iter()
            .flatten()
            .flatten()
            .map(|&k| segs[k].text.as_str()),
    );
    let mut filled = (0..columns).filter(|&c| grid.iter().any(|row| !row[c].is_empty()));
    let first = if rtl {
        filled.next_back()
    } else {
        filled.next()
    }
    .unwrap_or(0);
    let mut out = Vec::new();
    for (band, (row, lines)) in grid.into_iter().zip(lines).enumerate() {
        let wrapped_lines = first_cells(&lines, first, rtl, segs);
        let limit = wrapped::wrap_limit(&wrapped_lines);
        // How each line in the first column alone reads (a group label, or not).
        let readings: Vec<Option<Reading>> = lines
            .iter()
            .enumerate()
            .map(|(i, (line, n))| {
                (*n < 2 && line.iter().all(|&(c, _)| c == first))
                    .then(|| wrapped::read(&wrapped_lines, i, limit))
            })
            .collect();
        // Lines that start a row: text in two columns or more, or a label.
        let shared = lines
            .iter()
            .zip(&readings)
            .enumerate()
            .filter(|(i, ((_, n), reading))| *n >= 2 || *i > 0 && **reading == Some(Reading::Row))
            .count();
        let header = banded && out.is_empty() && band == 0;
        if header || lines.len() < 2 || (shared as f32) < 2.0 / 3.0 * lines.len() as f32 {
            out.push(row);
            continue;
        }
        let mut sub: Vec<Vec<Vec<usize>>> = Vec::new();
        for ((line, n), reading) in lines.into_iter().zip(readings) {
            // (Text in the first column alone that cannot be told stays a row.)
            let goes_on = n < 2 && reading.is_none_or(|r| r == Reading::Wrapped);
            if goes_on && let Some(last) = sub.last_mut() {
                for (c, k) in line {
                    last[c].push(k);
                }
                continue;
            }
            let mut cells = vec![Vec::new(); columns];
            for (c, k) in line {
                cells[c].push(k);
            }
            sub.push(cells);
        }
        out.extend(sub);
    }
    out
}

/// The lines of a row band (see [`baselines`]) as seen from their text in column `first`
/// (indents measured from the right when `rtl`).
fn first_cells<'a>(
    lines: &[(Vec<(usize, usize)>, usize)],
    first: usize,
    rtl: bool,
    segs: &'a [Segment],
) -> Vec<wrapped::Line<'a>> {
    lines
        .iter()
        .map(|(line, n)| {
            let cell: Vec<&Segment> = line
                .iter()
                .filter(|&&(c, _)| c == first)
                .map(|&(_, k)| &segs[k])
                .collect();
            let x0 = if rtl {
                -cell.iter().map(|s| s.x1).fold(f32::MIN, f32::max)
            } else {
                cell.iter().map(|s| s.x0).fold(f32::MAX, f32::min)
            };
            wrapped::Line {
                y: segs[line[0].1].y,
                size: line.iter().map(|&(_, k)| segs[k].size).fold(0.0, f32::max),
                // (A cell of one segment a line, the usual case, is judged by it.)
                first: cell.last().map(|s| wrapped::First {
                    text: &s.text,
                    x0,
                    bold: cell.iter().all(|s| s.bold),
                }),
                filled: *n,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, x0: f32, x1: f32, y: f32) -> Segment {
        Segment::plain(text, x0, x1, y)
    }

    fn h(y: f32, x0: f32, x1: f32) -> Rule {
        // In user space of a page 800 high.
        Rule {
            x0,
            y0: 800.0 - y - 0.25,
            x1,
            y1: 800.0 - y + 0.25,
        }
    }

    fn v(x: f32, y0: f32, y1: f32) -> Rule {
        Rule {
            x0: x - 0.25,
            y0: 800.0 - y1,
            x1: x + 0.25,
            y1: 800.0 - y0,
        }
    }

    const FRAME: Frame = Frame {
        left: 0.0,
        top: 800.0,
        width: 600.0,
        height: 800.0,
    };

    /// A grid with rows bounded at `ys` and columns at `xs`, each cell drawn apart (its
    /// borders overlapping the neighbours', as WeasyPrint draws them).
    fn grid_rules(xs: &[f32], ys: &[f32]) -> Vec<Rule> {
        let mut rules = Vec::new();
        for r in ys.windows(2) {
            for c in xs.windows(2) {
                rules.push(h(r[0], c[0] - 0.5, c[1] + 0.5));
                rules.push(h(r[1], c[0] - 0.5, c[1] + 0.5));
                rules.push(v(c[0], r[0] - 0.5, r[1] + 0.5));
                rules.push(v(c[1], r[0] - 0.5, r[1] + 0.5));
            }
        }
        rules
    }

    #[test]
    fn pieces_of_lines_merge() {
        let rules = PageRules::new(
            &grid_rules(&[50.0, 100.0, 150.0], &[100.0, 120.0, 140.0]),
            &FRAME,
            &[],
        );
        assert_eq!(rules.grids.len(), 1, "{rules:?}");
        let grid = &rules.grids[0];
        assert_eq!(grid.walls.len(), 3, "{rules:?}");
        assert_eq!(grid.xs.len(), 3, "{rules:?}");
        assert_eq!(grid.ys.len(), 3, "{rules:?}");
        assert!((grid.xs[0] - 49.5).abs() < 0.01, "{rules:?}");
        assert!((grid.xs[2] - 150.0).abs() < 1.0, "{rules:?}");
    }

    #[test]
    fn a_grid_makes_cells_and_a_wall_between_them() {
        let rules = PageRules::new(
            &grid_rules(&[50.0, 100.0, 150.0, 200.0], &[100.0, 120.0, 140.0, 170.0]),
            &FRAME,
            &[],
        );
        assert!(rules.walled(98.0, 102.0, 115.0, 10.0));
        assert!(!rules.walled(60.0, 62.0, 115.0, 10.0));
        assert!(!rules.walled(98.0, 102.0, 190.0, 10.0), "below the grid");
        // Text touching the line, or crossing it by a hair, is split there; a word running
        // over it is not.
        assert!(rules.walled(100.0, 100.0, 115.0, 10.0));
        assert!(rules.walled(100.1, 100.1, 115.0, 10.0));
        assert!(rules.walled(99.75, 100.25, 115.0, 10.0));
        assert!(!rules.walled(101.0, 101.0, 115.0, 10.0));
        assert!(!rules.walled(98.8, 98.8, 115.0, 10.0));
        let segs = vec![
            seg("Before", 50.0, 200.0, 90.0),
            seg("Item", 52.0, 70.0, 115.0),
            seg("Qty", 102.0, 120.0, 115.0),
            seg("Price", 152.0, 175.0, 115.0),
            seg("Apple", 52.0, 80.0, 135.0),
            seg("3", 102.0, 107.0, 135.0),
            seg("1.00", 152.0, 170.0, 135.0),
            // A cell of two lines, and one empty.
            seg("Banana", 52.0, 90.0, 152.0),
            seg("split", 52.0, 75.0, 164.0),
            seg("12", 102.0, 112.0, 158.0),
            seg("After", 50.0, 200.0, 190.0),
        ];
        let tables = find(&segs, &rules);
        assert_eq!(tables.len(), 1);
        assert_eq!(
            tables[0].rows,
            vec![
                vec![vec![1], vec![2], vec![3]],
                vec![vec![4], vec![5], vec![6]],
                vec![vec![7, 8], vec![9], vec![]],
            ]
        );
    }

    #[test]
    fn a_grid_ruled_around_its_header_and_body_splits_the_body_by_baselines() {
        let rules = PageRules::new(
            &grid_rules(&[50.0, 100.0, 200.0], &[100.0, 120.0, 180.0]),
            &FRAME,
            &[],
        );
        let segs = vec![
            seg("Term", 52.0, 70.0, 115.0),
            seg("Meaning", 102.0, 140.0, 115.0),
            seg("alpha", 52.0, 80.0, 135.0),
            seg("the first", 102.0, 150.0, 135.0),
            seg("beta", 52.0, 80.0, 147.0),
            seg("the second, which", 102.0, 190.0, 147.0),
            seg("wraps", 102.0, 130.0, 159.0),
            seg("gamma", 52.0, 80.0, 171.0),
            seg("the third", 102.0, 150.0, 171.0),
        ];
        let tables = find(&segs, &rules);
        assert_eq!(tables.len(), 1);
        assert_eq!(
            tables[0].rows,
            vec![
                vec![vec![0], vec![1]],
                vec![vec![2], vec![3]],
                vec![vec![4], vec![5, 6]],
                vec![vec![7], vec![8]],
            ]
        );
    }

    #[test]
    fn lone_lines_and_boxes_make_no_table() {
        // An underline, a rule across the page, a box around a paragraph, a bar by a quote.
        let rules = PageRules::new(
            &[
                h(102.0, 50.0, 80.0),
                h(130.0, 40.0, 560.0),
                h(150.0, 40.0, 300.0),
                h(200.0, 40.0, 300.0),
                v(40.0, 150.0, 200.0),
                v(300.0, 150.0, 200.0),
                v(45.0, 220.0, 260.0),
            ],
            &FRAME,
            &[],
        );
        let segs = vec![
            seg("A word underlined here", 50.0, 160.0, 100.0),
            seg("Boxed text on one line", 50.0, 280.0, 165.0),
            seg("and on another line", 50.0, 250.0, 177.0),
            seg("and two cells", 50.0, 100.0, 189.0),
            seg("on a line", 200.0, 250.0, 189.0),
            seg("A quote", 50.0, 200.0, 230.0),
        ];
        assert!(find(&segs, &rules).is_empty());
    }

    #[test]
    fn lines_through_the_text_are_not_cell_borders() {
        // A chart's grid drawn behind long labels.
        let mut rules = grid_rules(&[50.0, 100.0, 150.0, 200.0], &[100.0, 120.0, 140.0]);
        rules.extend(grid_rules(&[50.0, 100.0, 150.0, 200.0], &[140.0, 160.0]));
        let rules = PageRules::new(&rules, &FRAME, &[]);
        let segs = vec![
            seg("A label across two bands", 52.0, 190.0, 115.0),
            seg("Another long label", 52.0, 190.0, 135.0),
            seg("x", 52.0, 60.0, 155.0),
            seg("y", 102.0, 110.0, 155.0),
        ];
        assert!(find(&segs, &rules).is_empty());
    }

    #[test]
    fn too_many_lines_are_not_checked_pair_by_pair() {
        let mut rules = Vec::new();
        for i in 0..2_100 {
            let at = 2.0 * i as f32;
            rules.push(h(at, 0.0, 600.0));
            rules.push(v(at, 0.0, 700.0));
        }
        let rules = PageRules::new(&rules, &FRAME, &[]);
        assert!(rules.grids.is_empty());
    }
}
