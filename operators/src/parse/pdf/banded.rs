//! Tables ruled with horizontal lines alone (LaTeX's booktabs, a rule under every row, a
//! rule above the header, under it and under the last row): horizontal lines in no grid (see
//! [`super::grid`]) of about one extent, stacked, with the text between them. The columns come
//! from the text: gaps that no glyph of any row between the lines covers. A stack whose text
//! splits into two columns or more, a header and a body, of short cells, is a table: it is
//! given to table detection as a grid whose vertical lines stand in those gaps (so that text
//! is not joined across them, however thin), whose header is the text between the first two
//! lines. A row just above the first line or just below the last one that falls into the same
//! columns belongs to the table too (a rule under every row, or above every row).
//!
//! Everything else changes nothing: an underline, a rule under a heading or between a page's
//! header and body, rules between paragraphs, a box of prose (its lines share no gaps, or their
//! cells are running text), a stack of one row.

use super::extract::Glyph;
use super::grid::{Grid, Line};

/// Shortest line of a stack, in points.
const MIN_LENGTH: f32 = 36.0;
/// How far (points, or share of the length) the ends of the lines of one stack may differ.
const EXTENT_SLACK: f32 = 3.0;
const EXTENT_SHARE: f32 = 0.02;
/// Most lines looked at on a page (bounded work).
const MAX_LINES: usize = 400;
/// Most lines of one stack.
const MAX_STACK: usize = 200;
/// Narrowest gap between columns, in font sizes, when the producer draws its word spaces (a
/// gap no space glyph falls into).
const MIN_GAP: f32 = 0.1;
/// Narrowest gap between columns, in font sizes, otherwise (wider than a word space).
const WIDE_GAP: f32 = 0.5;
/// Most columns.
const MAX_COLUMNS: usize = 24;
/// Most words a table's cells hold on average: more is running text.
const MAX_CELL_WORDS: f32 = 5.0;
/// Fewest words, on average, of every column's cells for the columns to be running text.
const COLUMN_WORDS: f32 = 2.5;
/// A word space is wider than this many font sizes.
const SPACE_GAP: f32 = 0.12;

/// The text of one baseline between the lines of a stack: glyph indices, left to right.
pub(super) struct Row {
    pub y: f32,
    pub size: f32,
    pub glyphs: Vec<usize>,
}

/// The grids of the tables that stacks of horizontal lines `floors` (in no grid, sorted by
/// position) hold, told from `glyphs`.
pub(crate) fn grids(floors: &[Line], glyphs: &[Glyph]) -> Vec<Grid> {
    let lines: Vec<Line> = floors
        .iter()
        .filter(|l| l.to - l.from >= MIN_LENGTH)
        .copied()
        .collect();
    if lines.len() < 2 || lines.len() > MAX_LINES || glyphs.is_empty() {
        return Vec::new();
    }
    // Glyphs by baseline.
    let mut order: Vec<usize> = (0..glyphs.len())
        .filter(|&i| glyphs[i].y.is_finite() && glyphs[i].x.is_finite())
        .collect();
    order.sort_by(|&a, &b| glyphs[a].y.total_cmp(&glyphs[b].y));
    let spaces_drawn = glyphs.iter().any(|g| g.text.trim().is_empty() && g.w > 0.0);
    let mut out = Vec::new();
    for stack in stacks(&lines) {
        let mut k = 0;
        while k + 1 < stack.len() {
            match table_from(&stack, k, glyphs, &order, spaces_drawn) {
                Some((grid, last)) => {
                    out.push(grid);
                    k = last.max(k + 1);
                }
                None => k += 1,
            }
        }
    }
    out
}

/// Lines of about one extent, top to bottom, each stack at most [`MAX_STACK`] long.
fn stacks(lines: &[Line]) -> Vec<Vec<Line>> {
    let mut stacks: Vec<Vec<Line>> = Vec::new();
    for &l in lines {
        let slack = EXTENT_SLACK.max(EXTENT_SHARE * (l.to - l.from));
        let found = stacks.iter_mut().find(|s| {
            s.last().is_some_and(|last| {
                s.len() < MAX_STACK
                    && (last.from - l.from).abs() <= slack
                    && (last.to - l.to).abs() <= slack
                    && l.at > last.at
            })
        });
        match found {
            Some(s) => s.push(l),
            None => stacks.push(vec![l]),
        }
    }
    stacks.retain(|s| s.len() >= 2);
    stacks
}

/// Where a glyph stands against lines from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Over the lines (a space anywhere over them).
    Over,
    /// A gutter away beside them: not their text.
    Beside,
    /// At their ends or past them: text that runs on from inside.
    Past,
}

/// Where glyph `g` stands against lines from `from` to `to`.
pub(super) fn place(g: &Glyph, from: f32, to: f32) -> Place {
    if g.text.trim().is_empty() {
        return if g.x + g.w > from && g.x < to {
            Place::Over
        } else {
            Place::Beside
        };
    }
    let reach = g.size.max(1.0);
    if g.x + g.w <= from - reach || g.x >= to + reach {
        Place::Beside
    } else if g.x < from - 0.5 * g.size || g.x + g.w > to + 0.5 * g.size {
        Place::Past
    } else {
        Place::Over
    }
}

/// Glyph indices `picked` (sorted by baseline) grouped into rows by baseline, each left to
/// right; rows of spaces alone are left out.
pub(super) fn rows_of(picked: &[usize], glyphs: &[Glyph]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for &i in picked {
        let g = &glyphs[i];
        match rows.last_mut() {
            Some(r) if (g.y - r.y).abs() <= 0.35 * g.size.max(r.size) => {
                r.size = r.size.max(g.size);
                r.glyphs.push(i);
            }
            _ => rows.push(Row {
                y: g.y,
                size: g.size,
                glyphs: vec![i],
            }),
        }
    }
    rows.retain(|r| r.glyphs.iter().any(|&i| !glyphs[i].text.trim().is_empty()));
    for r in &mut rows {
        r.glyphs
            .sort_by(|&a, &b| glyphs[a].x.total_cmp(&glyphs[b].x));
    }
    rows
}

/// The glyphs of `order` (sorted by baseline) whose baselines lie between `top` and `bottom`
/// (exclusive, by a point a little above the baseline), top to bottom.
pub(super) fn glyphs_between<'a>(
    top: f32,
    bottom: f32,
    glyphs: &'a [Glyph],
    order: &'a [usize],
) -> impl Iterator<Item = usize> + 'a {
    let probe = |g: &Glyph| g.y - 0.3 * g.size;
    let start = order.partition_point(|&i| glyphs[i].y < top);
    order[start..]
        .iter()
        .copied()
        .take_while(move |&i| probe(&glyphs[i]) < bottom + 2.0 * glyphs[i].size.max(1.0))
        .filter(move |&i| {
            let probe = probe(&glyphs[i]);
            !(probe <= top || probe >= bottom)
        })
}

/// Rows of text with baselines between `top` and `bottom` (exclusive, by a point a little
/// above the baseline) whose glyphs lie over `from`–`to`; `None` when text there runs past
/// the ends of the lines (the lines are not a table's).
fn rows_between(
    top: f32,
    bottom: f32,
    from: f32,
    to: f32,
    glyphs: &[Glyph],
    order: &[usize],
) -> Option<Vec<Row>> {
    let mut picked: Vec<usize> = Vec::new();
    for i in glyphs_between(top, bottom, glyphs, order) {
        match place(&glyphs[i], from, to) {
            Place::Over => picked.push(i),
            Place::Beside => {}
            Place::Past => return None,
        }
    }
    Some(rows_of(&picked, glyphs))
}

/// The gaps (from, to) that no glyph of `rows` covers, between their leftmost and rightmost
/// text, wide enough to part columns: wider than a word space, or, when the page draws its
/// word spaces (`spaces_drawn`), thin but with no space drawn in them.
pub(super) fn gaps(rows: &[&Row], glyphs: &[Glyph], spaces_drawn: bool) -> Vec<(f32, f32)> {
    let mut ink: Vec<(f32, f32)> = Vec::new();
    let mut blanks: Vec<(f32, f32)> = Vec::new();
    let mut sizes: Vec<f32> = Vec::new();
    for r in rows {
        for &i in &r.glyphs {
            let g = &glyphs[i];
            if g.text.trim().is_empty() {
                blanks.push((g.x, g.x + g.w));
            } else {
                ink.push((g.x, g.x + g.w.max(0.0)));
                sizes.push(g.size);
            }
        }
    }
    if ink.is_empty() {
        return Vec::new();
    }
    sizes.sort_by(f32::total_cmp);
    let size = sizes[sizes.len() / 2].max(1.0);
    ink.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut end = ink[0].1;
    for &(a, b) in &ink[1..] {
        if a > end {
            let width = a - end;
            let blank_inside = blanks.iter().any(|&(p, q)| {
                let mid = (p + q) / 2.0;
                end < mid && mid < a
            });
            let wide = width >= WIDE_GAP * size;
            let thin = spaces_drawn && width >= MIN_GAP * size && !blank_inside;
            if wide && !blank_inside || thin {
                out.push((end, a));
            }
        }
        end = end.max(b);
    }
    out
}

/// The text of each column (split at `gaps`) of a row, words separated by single spaces.
pub(super) fn cells(row: &Row, gaps: &[(f32, f32)], glyphs: &[Glyph]) -> Vec<String> {
    let mut cells = vec![String::new(); gaps.len() + 1];
    let mut last: Option<(usize, f32)> = None;
    for &i in &row.glyphs {
        let g = &glyphs[i];
        let mid = g.x + g.w / 2.0;
        let c = gaps.partition_point(|&(a, _)| a < mid);
        let cell = &mut cells[c];
        if g.text.trim().is_empty() {
            if !cell.is_empty() && !cell.ends_with(' ') {
                cell.push(' ');
            }
            continue;
        }
        if let Some((lc, end)) = last
            && lc == c
            && g.x - end > SPACE_GAP * g.size
            && !cell.ends_with(' ')
        {
            cell.push(' ');
        }
        cell.push_str(&g.text);
        last = Some((c, g.x + g.w));
    }
    for cell in &mut cells {
        let trimmed = cell.trim_end().len();
        cell.truncate(trimmed);
    }
    cells
}

/// Whether rows of cells read as a table: the header (first band) and most bands have text in
/// two columns, the cells are short, and not every column is running text.
pub(super) fn tabular(bands: &[Vec<Vec<String>>]) -> bool {
    let columns = bands
        .iter()
        .flatten()
        .next()
        .map_or(0, |row: &Vec<String>| row.len());
    let filled = |band: &Vec<Vec<String>>| {
        (0..columns)
            .filter(|&c| band.iter().any(|row| !row[c].is_empty()))
            .count()
    };
    let Some(header) = bands.first() else {
        return false;
    };
    if filled(header) < 2 {
        return false;
    }
    let rows: usize = bands.iter().map(Vec::len).sum();
    if rows < 2 || bands.iter().any(|b| b.is_empty() || filled(b) < 2) {
        return false;
    }
    // Most rows hold text in two columns (the rest are wrapped cells), and every column holds
    // text in two rows.
    let all: Vec<&Vec<String>> = bands.iter().flatten().collect();
    let split = all
        .iter()
        .filter(|row| row.iter().filter(|c| !c.is_empty()).count() >= 2)
        .count();
    if 2 * split < all.len() {
        return false;
    }
    if (0..columns).any(|c| all.iter().filter(|row| !row[c].is_empty()).count() < 2) {
        return false;
    }
    let words = |s: &String| s.split_whitespace().count();
    let (mut cells, mut total) = (0usize, 0usize);
    for row in &all {
        for cell in row.iter().filter(|c| !c.is_empty()) {
            cells += 1;
            total += words(cell);
        }
    }
    if total as f32 > MAX_CELL_WORDS * cells as f32 {
        return false;
    }
    // Columns of running text side by side.
    let running = (0..columns).all(|c| {
        let texts: Vec<&String> = all
            .iter()
            .map(|row| &row[c])
            .filter(|s| !s.is_empty())
            .collect();
        let n = texts.len().max(1) as f32;
        texts.iter().map(|s| words(s)).sum::<usize>() as f32 >= COLUMN_WORDS * n
    });
    !running
}

/// Whether `rows` are code: set in a monospaced font, which lines up by its characters, not
/// in columns.
pub(super) fn code(rows: &[&Row], glyphs: &[Glyph]) -> bool {
    let (mono, ink) = rows
        .iter()
        .flat_map(|r| r.glyphs.iter().map(|&i| &glyphs[i]))
        .filter(|g| !g.text.trim().is_empty())
        .fold((0usize, 0usize), |(m, n), g| {
            (m + usize::from(g.mono), n + 1)
        });
    2 * mono >= ink
}

/// The table whose top line is `stack[k]`, with the lines below it that go on with it, and the
/// index of its last line.
fn table_from(
    stack: &[Line],
    k: usize,
    glyphs: &[Glyph],
    order: &[usize],
    spaces_drawn: bool,
) -> Option<(Grid, usize)> {
    let (from, to) = (
        stack[k].from.min(stack[k + 1].from),
        stack[k].to.max(stack[k + 1].to),
    );
    // Bands of text between consecutive lines, while they hold text and share gaps.
    let mut bands: Vec<Vec<Row>> = Vec::new();
    let mut j = k;
    while j + 1 < stack.len() {
        let Some(rows) = rows_between(stack[j].at, stack[j + 1].at, from, to, glyphs, order) else {
            break;
        };
        if rows.is_empty() {
            break;
        }
        let all: Vec<&Row> = bands.iter().flatten().chain(&rows).collect();
        if gaps(&all, glyphs, spaces_drawn).is_empty() {
            break;
        }
        bands.push(rows);
        j += 1;
    }
    // The longest run of bands that reads as a table.
    while !bands.is_empty() {
        if let Some(grid) = grid_of(
            &stack[k..=j],
            &bands,
            (from, to),
            glyphs,
            order,
            spaces_drawn,
        ) {
            return Some((grid, j));
        }
        bands.pop();
        j -= 1;
    }
    None
}

/// The grid of the table between `lines` whose bands of rows are `bands`, if they read as a
/// table; a row of the same columns just above or below the lines joins it.
fn grid_of(
    lines: &[Line],
    bands: &[Vec<Row>],
    (from, to): (f32, f32),
    glyphs: &[Glyph],
    order: &[usize],
    spaces_drawn: bool,
) -> Option<Grid> {
    let all: Vec<&Row> = bands.iter().flatten().collect();
    let size = all.iter().map(|r| r.size).fold(0.0f32, f32::max).max(1.0);
    // How far a lone row's baseline sits below the line above it and above the line below it.
    let single: Vec<(f32, f32)> = bands
        .iter()
        .zip(lines.windows(2))
        .filter(|(b, _)| b.len() == 1)
        .map(|(b, l)| (b[0].y - l[0].at, l[1].at - b[0].y))
        .collect();
    let median = |mut v: Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).copied()
    };
    let below_line = median(single.iter().map(|s| s.0).collect());
    let above_line = median(single.iter().map(|s| s.1).collect());
    let (first, last) = (lines[0], lines[lines.len() - 1]);
    // The nearest row above the first line, and below the last.
    let above = above_line.and_then(|d| {
        let rows = rows_between(first.at - d - 1.5 * size, first.at, from, to, glyphs, order)?;
        let row = rows.into_iter().last()?;
        (first.at - row.y <= d + 0.3 * size).then_some(row)
    });
    let below = below_line.and_then(|d| {
        let rows = rows_between(last.at, last.at + d + 0.5 * size, from, to, glyphs, order)?;
        let row = rows.into_iter().next()?;
        (row.y - last.at <= d + 0.3 * size).then_some(row)
    });
    if code(&all, glyphs) {
        return None;
    }
    let base = gaps(&all, glyphs, spaces_drawn);
    let fits = |row: &Row| {
        let with: Vec<&Row> = all.iter().copied().chain([row]).collect();
        let g = gaps(&with, glyphs, spaces_drawn);
        g.len() == base.len() && {
            let c = cells(row, &g, glyphs);
            c.iter().filter(|s| !s.is_empty()).count() >= 2
        }
    };
    let above = above.filter(|r| fits(r));
    let below = below.filter(|r| fits(r));
    let mut every: Vec<&Row> = all.clone();
    every.extend(above.iter());
    every.extend(below.iter());
    let gaps = gaps(&every, glyphs, spaces_drawn);
    if gaps.is_empty() || gaps.len() + 1 > MAX_COLUMNS {
        return None;
    }
    let mut text: Vec<Vec<Vec<String>>> = Vec::new();
    text.extend(above.iter().map(|r| vec![cells(r, &gaps, glyphs)]));
    for band in bands {
        text.push(band.iter().map(|r| cells(r, &gaps, glyphs)).collect());
    }
    text.extend(below.iter().map(|r| vec![cells(r, &gaps, glyphs)]));
    if !tabular(&text) {
        return None;
    }
    let mut ys: Vec<f32> = Vec::new();
    if let Some(r) = &above {
        ys.push(r.y - 1.2 * r.size);
    }
    ys.extend(lines[..=bands.len()].iter().map(|l| l.at));
    if let Some(r) = &below {
        ys.push(r.y + 0.5 * r.size);
    }
    // One band between two lines is a header without a body, or a body without its header
    // (a table ruled under its header and its last row, see [`super::header_rule`]).
    if ys.len() < 3 {
        return None;
    }
    let (top, bottom) = (ys[0], ys[ys.len() - 1]);
    let mut xs = vec![from];
    xs.extend(gaps.iter().map(|&(a, b)| (a + b) / 2.0));
    xs.push(to);
    let walls = inner_walls(&xs, top, bottom);
    let mut floors: Vec<Line> = lines[..=bands.len()].to_vec();
    // Rows without lines of their own still end at the table's edge.
    for y in [top, bottom] {
        if !floors.iter().any(|l| (l.at - y).abs() < 0.01) {
            floors.push(Line { at: y, from, to });
        }
    }
    floors.sort_by(|a, b| a.at.total_cmp(&b.at));
    Some(Grid {
        xs,
        ys,
        walls,
        floors,
        banded: true,
    })
}

/// The vertical lines of a table whose column edges are `xs` (its outer edges first and last),
/// from `top` to `bottom`: one at each inner edge.
pub(crate) fn inner_walls(xs: &[f32], top: f32, bottom: f32) -> Vec<Line> {
    let inner = xs.get(1..xs.len().saturating_sub(1)).unwrap_or_default();
    inner
        .iter()
        .map(|&at| Line {
            at,
            from: top,
            to: bottom,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::parse::pdf::extract::test_glyphs as text;

    fn rule(at: f32) -> Line {
        Line {
            at,
            from: 48.0,
            to: 260.0,
        }
    }

    /// A table of `rows` with columns at `xs`, a row every 14 points from baseline 110.
    fn table(rows: &[&[&str]], xs: &[f32], mono: bool) -> Vec<Glyph> {
        let mut glyphs = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            for (cell, &x) in row.iter().zip(xs) {
                text(&mut glyphs, cell, x, 110.0 + 14.0 * r as f32, mono);
            }
        }
        glyphs
    }

    const ROWS: &[&[&str]] = &[
        &["Parameter", "Default", "Unit"],
        &["timeout", "30", "seconds"],
        &["max retries", "5", "attempts"],
    ];

    #[test]
    fn a_header_between_two_lines_and_a_body_make_a_grid_with_walls_in_the_gaps() {
        // Columns 2 points apart: thinner than a word space.
        let glyphs = table(ROWS, &[50.0, 107.0, 144.0], false);
        let grids = grids(&[rule(98.0), rule(114.0), rule(142.0)], &glyphs);
        assert_eq!(grids.len(), 1, "{grids:?}");
        let g = &grids[0];
        assert!(g.banded);
        assert_eq!(g.ys, [98.0, 114.0, 142.0]);
        assert_eq!(g.walls.len(), 2, "{g:?}");
        assert!((g.walls[0].at - 106.0).abs() < 0.01, "{g:?}");
        assert!((g.walls[1].at - 143.0).abs() < 0.01, "{g:?}");
    }

    #[test]
    fn a_row_above_the_first_line_of_a_table_ruled_under_every_row_is_its_header() {
        let glyphs = table(
            &[
                &["Name", "Value"],
                &["alpha", "1"],
                &["beta", "2"],
                &["gamma", "3"],
            ],
            &[50.0, 150.0],
            false,
        );
        let grids = grids(
            &[rule(114.0), rule(128.0), rule(142.0), rule(156.0)],
            &glyphs,
        );
        assert_eq!(grids.len(), 1, "{grids:?}");
        assert_eq!(grids[0].ys.len(), 5, "{grids:?}");
        assert!(grids[0].ys[0] < 100.0, "{grids:?}");
    }

    #[test]
    fn prose_code_and_a_single_row_between_lines_make_no_grid() {
        let lines = [rule(98.0), rule(142.0)];
        // Prose whose word spaces happen to line up.
        let prose = table(
            &[
                &["The service must be stopped before the upgrade"],
                &["and the data written meanwhile will be lost."],
                &["Restore it from the backup to get it back."],
            ],
            &[50.0],
            false,
        );
        assert!(grids(&lines, &prose).is_empty());
        // The same rows in a monospaced font: code lines up by its characters.
        let code = table(ROWS, &[50.0, 120.0, 160.0], true);
        assert!(grids(&lines, &code).is_empty());
        // One row between the lines: a boxed line, not a table.
        let one = table(&ROWS[..1], &[50.0, 120.0, 160.0], false);
        assert!(grids(&lines, &one).is_empty());
        // A short label over a paragraph (a heading above a line, a rule under it).
        let heading = table(
            &[
                &["Configuration"],
                &["Edit the file config to set the options, then restart."],
            ],
            &[50.0],
            false,
        );
        assert!(grids(&lines, &heading).is_empty());
    }

    #[test]
    fn text_running_past_the_lines_makes_no_grid() {
        let mut glyphs = table(ROWS, &[50.0, 120.0, 160.0], false);
        text(
            &mut glyphs,
            "and a long line on past the end",
            120.0,
            124.0,
            false,
        );
        let g = grids(&[rule(98.0), rule(114.0), rule(142.0)], &glyphs);
        assert!(g.is_empty(), "{g:?}");
    }
}
