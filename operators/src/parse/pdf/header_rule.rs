//! Tables ruled under their header alone (Word's "Plain Table", many reports, LaTeX and pandoc
//! without booktabs' top and bottom rules): a horizontal line in no grid and in no table of
//! [`super::banded`], with a row of text right above it that splits into two columns or more
//! (the header; a wrapped header's lines above it too) and rows right below it, as closely
//! spaced, that keep the header's column gaps (the body). The body ends at text that covers a
//! gap, runs past the line's ends or sits further apart. Its lines are grouped into rows: a
//! line that goes on with a cell above it (see [`super::wrapped`]) joins that row. When the
//! rows read as a table, it is given to table detection as a grid whose vertical lines stand
//! in the column gaps and whose horizontal lines part the rows.
//!
//! Such tables are looked for twice: first alone (no line right above the header, none under
//! the body before it ends), before [`super::banded`] (which would read two of them of one
//! width, stacked, as one table); then among the lines no table took, the body running on past
//! other lines (a rule under the last row, or above a row of totals).
//!
//! Everything else changes nothing: a rule under a heading (one cell above it), a signature
//! line (no text right above it), a rule between paragraphs or a footnote separator (text
//! that runs past its ends, or covers the gaps).

use super::banded::{self, Place, Row};
use super::extract::Glyph;
use super::grid::{Grid, Line};
use super::wrapped;

/// Shortest line under a header, in points.
const MIN_LENGTH: f32 = 36.0;
/// Most lines looked at on a page (bounded work).
const MAX_LINES: usize = 400;
/// Farthest a header's baseline sits above its line, in font sizes.
const HEADER_REACH: f32 = 1.2;
/// Farthest the first body row's baseline sits below the line, in font sizes.
const BODY_REACH: f32 = 2.2;
/// Farthest a top rule sits above a header's first baseline, in font sizes.
const TOP_RULE_REACH: f32 = 2.5;
/// Widest spacing of a wrapped header's lines, in font sizes.
const HEADER_LEADING: f32 = 1.4;
/// Most lines of a header.
const MAX_HEADER_LINES: usize = 3;
/// Most lines of a body.
const MAX_BODY_LINES: usize = 500;
/// How many times the spacing of the header and the first row the spacing of two body lines
/// may be at most.
const BODY_SPACING: f32 = 1.3;
/// Most columns.
const MAX_COLUMNS: usize = 24;
/// How far above a line its header is looked for, and below it its body, in points.
const HEADER_SPAN: f32 = 60.0;
const MAX_BODY_SPAN: f32 = 2_000.0;
/// Narrowest gap between columns, in font sizes, when the producer draws its word spaces (a
/// gap no space glyph falls into), and otherwise (as in [`banded`]).
const MIN_GAP: f32 = 0.1;
const WIDE_GAP: f32 = 0.5;

/// The grids of the tables ruled by one line under their header among horizontal lines
/// `floors` (in no grid, sorted by position) that are not in a table of `taken`, told from
/// `glyphs`. When `alone`, only tables with no other line near: none right above the header
/// (a top rule: the table is [`banded`]'s), the body ending before the next line below.
pub(crate) fn grids(floors: &[Line], taken: &[Grid], glyphs: &[Glyph], alone: bool) -> Vec<Grid> {
    if floors.len() > MAX_LINES || glyphs.is_empty() {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..glyphs.len())
        .filter(|&i| glyphs[i].y.is_finite() && glyphs[i].x.is_finite())
        .collect();
    order.sort_by(|&a, &b| glyphs[a].y.total_cmp(&glyphs[b].y));
    let page = Page {
        glyphs,
        order: &order,
        spaces_drawn: glyphs.iter().any(|g| g.text.trim().is_empty() && g.w > 0.0),
    };
    let mut out: Vec<Grid> = Vec::new();
    for (k, line) in floors.iter().enumerate() {
        if line.to - line.from < MIN_LENGTH || taken.iter().chain(&out).any(|g| g.holds(line)) {
            continue;
        }
        // The nearest lines across it above and below.
        let across = |l: &&Line| l.from < line.to && line.from < l.to;
        let above = floors[..k]
            .iter()
            .rev()
            .filter(across)
            .find(|l| l.at < line.at - 1.0)
            .map_or(f32::MIN, |l| l.at);
        let below = floors[k + 1..]
            .iter()
            .filter(across)
            .find(|l| l.at > line.at + 1.0)
            .map_or(f32::MAX, |l| l.at);
        if let Some(grid) = page.table_under(line, (above, below), alone) {
            out.push(grid);
        }
    }
    out
}

/// A page's glyphs, by baseline in `order`.
struct Page<'a> {
    glyphs: &'a [Glyph],
    order: &'a [usize],
    spaces_drawn: bool,
}

impl Page<'_> {
    /// Rows of text with baselines between `top` and `bottom` (by a point a little above the
    /// baseline) over `line`, top to bottom, handed to `take` with whether their text runs
    /// past the line's ends while it asks for more.
    fn each_row(
        &self,
        top: f32,
        bottom: f32,
        line: &Line,
        mut take: impl FnMut(Row, bool) -> bool,
    ) {
        let glyphs = self.glyphs;
        // The glyphs of the baseline at hand: from the first, of the largest size, how many
        // run past.
        let (mut picked, mut first, mut size, mut past) = (Vec::new(), 0.0f32, 0.0f32, false);
        let mut flush = |picked: &mut Vec<usize>, past: bool| {
            let row = banded::rows_of(picked, glyphs).pop();
            picked.clear();
            row.is_none_or(|row| take(row, past))
        };
        for i in banded::glyphs_between(top, bottom, glyphs, self.order) {
            let g = &glyphs[i];
            let place = banded::place(g, line.from, line.to);
            if place == Place::Beside {
                continue;
            }
            if !picked.is_empty()
                && (g.y - first).abs() > 0.35 * g.size.max(size)
                && !flush(&mut picked, past)
            {
                return;
            }
            if picked.is_empty() {
                (first, size, past) = (g.y, 0.0, false);
            }
            picked.push(i);
            size = size.max(g.size);
            past |= place == Place::Past;
        }
        flush(&mut picked, past);
    }

    fn gaps(&self, rows: &[&Row]) -> Vec<(f32, f32)> {
        banded::gaps(rows, self.glyphs, self.spaces_drawn)
    }

    /// The table whose header stands right above `line`, between the lines across it
    /// `ruled` above and `below`. When `alone`, none if the line above stands right above its
    /// header or its body runs on to the line below; else its body may run on past lines (a
    /// rule above a row of totals, or under the last row).
    fn table_under(&self, line: &Line, (ruled, below): (f32, f32), alone: bool) -> Option<Grid> {
        // The header: the row right above the line, and the lines of a wrapped header above.
        let mut above: Vec<(Row, bool)> = Vec::new();
        self.each_row(line.at - HEADER_SPAN, line.at, line, |row, past| {
            above.push((row, past));
            true
        });
        let mut above = above.into_iter().rev();
        let (nearest, past) = above.next()?;
        if past || line.at - nearest.y > HEADER_REACH * nearest.size {
            return None;
        }
        let mut open = Open::new(&self.gaps(&[&nearest]), nearest.size, self.spaces_drawn)?;
        let mut header = vec![nearest];
        for (row, past) in above.take(MAX_HEADER_LINES - 1) {
            let top = &header[header.len() - 1];
            if past || top.y - row.y > HEADER_LEADING * top.size.max(row.size) {
                break;
            }
            if !open.narrow(&row, self.glyphs) {
                break;
            }
            header.push(row);
        }
        header.reverse();
        let top = &header[0];
        if alone && top.y - ruled <= TOP_RULE_REACH * top.size {
            return None;
        }
        // The body: rows below the line while they keep the header's gaps, as closely spaced.
        let header_y = header[header.len() - 1].y;
        let mut body: Vec<Row> = Vec::new();
        let mut spacing = f32::MAX;
        let mut ended = false;
        let bottom = if alone { below } else { f32::MAX };
        self.each_row(
            line.at,
            bottom.min(line.at + MAX_BODY_SPAN),
            line,
            |row, past| {
                let close = match body.last() {
                    None => {
                        spacing = row.y - header_y;
                        row.y - line.at <= BODY_REACH * row.size
                    }
                    Some(last) => row.y - last.y <= BODY_SPACING * spacing,
                };
                ended = past
                    || !close
                    || body.len() >= MAX_BODY_LINES
                    || !open.narrow(&row, self.glyphs);
                if !ended {
                    body.push(row);
                }
                !ended
            },
        );
        if alone && !ended && below < f32::MAX {
            return None;
        }
        let every: Vec<&Row> = header.iter().chain(&body).collect();
        if banded::code(&every, self.glyphs) {
            return None;
        }
        let gaps = self.gaps(&every);
        if gaps.is_empty() || gaps.len() + 1 > MAX_COLUMNS {
            return None;
        }
        let cells = |r: &Row| banded::cells(r, &gaps, self.glyphs);
        let header_cells: Vec<Vec<String>> = header.iter().map(cells).collect();
        let mut body_cells: Vec<Vec<String>> = body.iter().map(cells).collect();
        let mut groups = row_groups(&body, &body_cells, &gaps, self.glyphs);
        // A table ends with a row, not with a label.
        while let Some(&(start, end)) = groups.last()
            && end - start == 1
            && body_cells[start].iter().filter(|c| !c.is_empty()).count() < 2
        {
            groups.pop();
            body.truncate(start);
            body_cells.truncate(start);
        }
        if groups.len() < 2 || !banded::tabular(&[header_cells, body_cells]) {
            return None;
        }
        Some(grid(line, &header, &body, &groups, &gaps, self.glyphs))
    }
}

/// What is left open of a header's gaps as the rows under it are laid over them: for each gap,
/// the stretches no glyph (space or not) of those rows covers.
struct Open {
    stretches: Vec<Vec<(f32, f32)>>,
    /// Narrowest stretch that still parts columns.
    narrowest: f32,
}

impl Open {
    /// The open stretches of `gaps` of a header in type of `size`; `None` without gaps.
    fn new(gaps: &[(f32, f32)], size: f32, spaces_drawn: bool) -> Option<Open> {
        let share = if spaces_drawn { MIN_GAP } else { WIDE_GAP };
        (!gaps.is_empty()).then(|| Open {
            stretches: gaps.iter().map(|&g| vec![g]).collect(),
            narrowest: share * size.max(1.0),
        })
    }

    /// Lays `row` over the gaps; whether each still has a stretch open (else nothing changes).
    fn narrow(&mut self, row: &Row, glyphs: &[Glyph]) -> bool {
        let mut stretches = self.stretches.clone();
        for gap in &mut stretches {
            for &i in &row.glyphs {
                let g = &glyphs[i];
                let (a, b) = (g.x, g.x + g.w.max(0.0));
                *gap = gap
                    .iter()
                    .flat_map(|&(c, d)| {
                        if b <= c || d <= a {
                            vec![(c, d)]
                        } else {
                            [(c, a), (b, d)]
                                .into_iter()
                                .filter(|(p, q)| q > p)
                                .collect()
                        }
                    })
                    .collect();
            }
            gap.retain(|(c, d)| d - c >= self.narrowest);
            if gap.is_empty() {
                return false;
            }
        }
        self.stretches = stretches;
        true
    }
}

/// The lines of `body` (their cells `cells`, parted at `gaps`) grouped into rows: ranges of
/// line indices. A line with no text in its first column goes on with the row above when it
/// sits as close under it as a wrapped line, text in the first column alone when it reads as
/// the rest of the cell above (see [`wrapped`]), and text there and in other columns only when
/// the spacing tells that it is a wrapped line.
fn row_groups(
    body: &[Row],
    cells: &[Vec<String>],
    gaps: &[(f32, f32)],
    glyphs: &[Glyph],
) -> Vec<(usize, usize)> {
    // The first column: the rightmost in a right-to-left table (where indents are measured
    // from the right).
    let rtl = super::bidi::mostly_rtl(cells.iter().flatten().map(String::as_str));
    let first = if rtl { gaps.len() } else { 0 };
    let left = first.checked_sub(1).map_or(f32::MIN, |c| gaps[c].1);
    let right = gaps.get(first).map_or(f32::MAX, |g| g.0);
    let lines: Vec<wrapped::Line> = body
        .iter()
        .zip(cells)
        .map(|(row, cells)| {
            let ink: Vec<&Glyph> = row
                .glyphs
                .iter()
                .map(|&i| &glyphs[i])
                .filter(|g| !g.text.trim().is_empty() && (left..right).contains(&(g.x + g.w / 2.0)))
                .collect();
            let x0 = if rtl {
                -ink.iter().map(|g| g.x + g.w).fold(f32::MIN, f32::max)
            } else {
                ink.iter().map(|g| g.x).fold(f32::MAX, f32::min)
            };
            wrapped::Line {
                y: row.y,
                size: row.size,
                first: (!ink.is_empty()).then(|| wrapped::First {
                    text: &cells[first],
                    x0,
                    bold: ink.iter().all(|g| g.bold),
                }),
                filled: cells.iter().filter(|c| !c.is_empty()).count(),
            }
        })
        .collect();
    let limit = wrapped::wrap_limit(&lines);
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (k, l) in lines.iter().enumerate() {
        let close = |k: usize| limit.is_none_or(|limit| lines[k].y - lines[k - 1].y < limit);
        let goes_on = k > 0
            && match (l.first, l.filled) {
                (None, _) => close(k),
                (Some(_), 1) => wrapped::continues(&lines, k, limit),
                (Some(_), _) => limit.is_some() && close(k),
            };
        match groups.last_mut() {
            Some(g) if goes_on => g.1 = k + 1,
            _ => groups.push((k, k + 1)),
        }
    }
    groups
}

/// The grid of a table ruled by `line` under `header`, its `body` lines grouped into rows
/// `groups`, its columns parted at `gaps`.
fn grid(
    line: &Line,
    header: &[Row],
    body: &[Row],
    groups: &[(usize, usize)],
    gaps: &[(f32, f32)],
    glyphs: &[Glyph],
) -> Grid {
    let probe = |r: &Row| r.y - 0.3 * r.size;
    let first = &header[0];
    let last = &body[groups[groups.len() - 1].1 - 1];
    let mut ys = vec![first.y - 1.2 * first.size, line.at];
    for w in groups.windows(2) {
        let (end, start) = (&body[w[0].1 - 1], &body[w[1].0]);
        ys.push((probe(end) + probe(start)) / 2.0);
    }
    ys.push(last.y + 0.5 * last.size);
    let (top, bottom) = (ys[0], ys[ys.len() - 1]);
    let ink = header
        .iter()
        .chain(body)
        .flat_map(|r| r.glyphs.iter().map(|&i| &glyphs[i]))
        .filter(|g| !g.text.trim().is_empty());
    let (left, right) = ink.fold((line.from, line.to), |(l, r), g| {
        (l.min(g.x), r.max(g.x + g.w))
    });
    let mut xs = vec![left];
    xs.extend(gaps.iter().map(|&(a, b)| (a + b) / 2.0));
    xs.push(right);
    let walls = super::banded::inner_walls(&xs, top, bottom);
    let floors = ys
        .iter()
        .map(|&at| Line {
            at,
            from: left,
            to: right,
        })
        .collect();
    Grid {
        xs,
        ys,
        walls,
        floors,
        banded: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Glyphs of `s` from `x` on baseline `y`, 5 points a character, spaces drawn.
    fn text(glyphs: &mut Vec<Glyph>, s: &str, x: f32, y: f32) {
        crate::parse::pdf::extract::test_glyphs(glyphs, s, x, y, false);
    }

    fn rule(at: f32) -> Line {
        Line {
            at,
            from: 48.0,
            to: 260.0,
        }
    }

    /// A header on baseline 100 over rows every 16 points, a wrapped line 11 points under its
    /// row, then a paragraph.
    fn table() -> Vec<Glyph> {
        let mut glyphs = Vec::new();
        for (cells, y) in [
            (&["Parameter", "Default", "Unit"][..], 100.0),
            (&["timeout", "30", "seconds"], 116.0),
            (&["maximum number of", "5", "attempts"], 132.0),
            (&["retries"], 143.0),
            (&["buffer", "4096", "bytes"], 159.0),
        ] {
            for (cell, x) in cells.iter().zip([50.0, 150.0, 200.0]) {
                text(&mut glyphs, cell, x, y);
            }
        }
        text(
            &mut glyphs,
            "The settings take effect on restart.",
            50.0,
            190.0,
        );
        glyphs
    }

    #[test]
    fn a_line_under_a_header_parts_the_rows_below_it() {
        let grids = grids(&[rule(103.0)], &[], &table(), true);
        assert_eq!(grids.len(), 1, "{grids:?}");
        let g = &grids[0];
        assert!(g.banded);
        // The header, then three rows: the wrapped line stays with its row.
        assert_eq!(g.ys.len(), 5, "{g:?}");
        assert_eq!(g.ys[1], 103.0);
        assert!(g.ys[3] > 143.0 - 3.0 && g.ys[3] < 159.0 - 3.0, "{g:?}");
        assert!(g.ys[4] < 190.0 - 10.0, "{g:?}");
        assert_eq!(g.walls.len(), 2, "{g:?}");
    }

    #[test]
    fn a_line_near_another_is_left_for_later_alone() {
        // A top rule right above the header (booktabs'), and a line under the last row.
        for lines in [[rule(89.0), rule(103.0)], [rule(103.0), rule(162.0)]] {
            assert!(grids(&lines, &[], &table(), true).is_empty());
        }
        // Later, a body runs on past the line under its last row.
        let grids = grids(&[rule(103.0), rule(162.0)], &[], &table(), false);
        assert_eq!(grids.len(), 1, "{grids:?}");
        assert_eq!(grids[0].ys.len(), 5, "{grids:?}");
    }

    #[test]
    fn a_line_under_a_heading_or_between_paragraphs_is_no_table() {
        let mut glyphs = Vec::new();
        text(&mut glyphs, "2.1", 50.0, 100.0);
        text(&mut glyphs, "Results", 80.0, 100.0);
        text(
            &mut glyphs,
            "The results show a clear trend over time.",
            50.0,
            116.0,
        );
        text(
            &mut glyphs,
            "And the numbers were taken at each site.",
            50.0,
            128.0,
        );
        assert!(grids(&[rule(103.0)], &[], &glyphs, true).is_empty());
        assert!(grids(&[rule(103.0)], &[], &glyphs, false).is_empty());
        // No text right above: a signature line.
        assert!(grids(&[rule(80.0)], &[], &table(), false).is_empty());
    }
}
