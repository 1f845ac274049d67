//! Code blocks: runs of lines set in a monospaced font (with their line numbers, when the
//! listing has them) in a document whose running text is not monospaced. A block becomes one
//! unit of the page, like a table, and its lines keep their indentation.

use super::lines::Segment;

/// A code block found among a page's lines: segment indices, row by row, left to right.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CodeBlock {
    pub rows: Vec<Vec<usize>>,
}

/// Largest gap between the baselines of two rows of one block, in font sizes (a blank line
/// inside the code is about 2.4).
const MAX_ROW_GAP: f32 = 2.8;
/// Least gap, in font sizes, that sets a one-line block apart from the text around it: closer,
/// the line is a line of a paragraph that happens to be all code.
const LONE_LINE_GAP: f32 = 1.6;
/// Least indentation, in font sizes, past the lines above and below that sets a one-line
/// block apart.
const LONE_LINE_INDENT: f32 = 1.5;
/// Widest gap, in font sizes, between a line number and the code it numbers.
const NUMBER_GAP: f32 = 4.0;
/// Longest line number, in digits.
const NUMBER_DIGITS: usize = 5;

/// Whether a segment is a listing's line number.
fn line_number(s: &Segment) -> bool {
    !s.mono
        && s.text.len() <= NUMBER_DIGITS
        && !s.text.is_empty()
        && s.text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a line holds only addresses (e-mail, URLs), which are often set in a typewriter
/// face without being code.
fn addresses(text: &str) -> bool {
    text.split_whitespace()
        .all(|t| t.contains('@') || t.contains("://") || t.starts_with("www."))
}

/// Whether a lone line reads as code rather than a word or a phrase in a typewriter face:
/// it has brackets, operators, a path or an option.
fn code_like(text: &str) -> bool {
    text.contains([
        '(', ')', '{', '}', '[', ']', '=', ';', '<', '>', '$', '#', '\\', '|', '/', '*', '"',
    ]) || text.contains("--")
        || text.contains("::")
}

/// Whether a row (segments on one baseline, left to right) is a line of code: monospaced
/// segments, each non-monospaced one a line number just left of code, and not only addresses.
fn code_row(row: &[usize], segs: &[Segment]) -> bool {
    if row.iter().all(|&k| addresses(&segs[k].text)) {
        return false;
    }
    let mut any_mono = false;
    for (i, &k) in row.iter().enumerate() {
        let s = &segs[k];
        if s.mono {
            any_mono = true;
            continue;
        }
        let numbers_code = line_number(s)
            && row.get(i + 1).is_some_and(|&n| {
                let next = &segs[n];
                next.mono && next.x0 - s.x1 < NUMBER_GAP * s.size.max(next.size)
            });
        if !numbers_code {
            return false;
        }
    }
    any_mono
}

/// The font size of a row: its largest segment's.
fn row_size(row: &[usize], segs: &[Segment]) -> f32 {
    row.iter().map(|&k| segs[k].size).fold(0.0, f32::max)
}

fn extent(row: &[usize], segs: &[Segment]) -> (f32, f32) {
    row.iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &k| {
            (a.min(segs[k].x0), b.max(segs[k].x1))
        })
}

fn overlaps((a0, a1): (f32, f32), (b0, b1): (f32, f32)) -> bool {
    a0 < b1 && b0 < a1
}

/// Finds the code blocks of a page (segments sorted by baseline then x, as
/// [`super::lines::segments`] returns them).
pub(crate) fn find(segs: &[Segment]) -> Vec<CodeBlock> {
    let rows = super::lines::rows(segs);
    let is_code: Vec<bool> = rows.iter().map(|r| code_row(r, segs)).collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        if !is_code[i] {
            i += 1;
            continue;
        }
        let size = row_size(&rows[i], segs);
        let mut span = extent(&rows[i], segs);
        let mut members = vec![i];
        let mut j = i + 1;
        while j < rows.len() {
            let row_extent = extent(&rows[j], segs);
            if !is_code[j] {
                // Text beside the block (another column) does not end it; text under it does.
                if overlaps(row_extent, span) {
                    break;
                }
                j += 1;
                continue;
            }
            let last = *members.last().unwrap_or(&i);
            let gap = segs[rows[j][0]].y - segs[rows[last][0]].y;
            let same_size = (row_size(&rows[j], segs) - size).abs() <= 0.2 * size;
            if gap > MAX_ROW_GAP * size || !same_size {
                break;
            }
            span = (span.0.min(row_extent.0), span.1.max(row_extent.1));
            members.push(j);
            j += 1;
        }
        let keep = members.len() >= 2
            || set_apart(&rows, segs, i, span, size)
                && rows[i].iter().any(|&k| code_like(&segs[k].text));
        if keep {
            blocks.push(CodeBlock {
                rows: members.iter().map(|&m| rows[m].clone()).collect(),
            });
        }
        i = j.max(i + 1);
    }
    blocks
}

/// Whether the one-line block in row `at` stands apart from the nearest rows above and below
/// it that share its columns: by a wider gap than between lines, or by its indentation.
fn set_apart(
    rows: &[Vec<usize>],
    segs: &[Segment],
    at: usize,
    span: (f32, f32),
    size: f32,
) -> bool {
    let y = segs[rows[at][0]].y;
    let near = |r: &Vec<usize>| overlaps(extent(r, segs), span);
    let above = rows[..at].iter().rev().find(|r| near(r));
    let below = rows[at + 1..].iter().find(|r| near(r));
    let apart = |r: Option<&Vec<usize>>| {
        r.is_none_or(|r| {
            let size = size.max(row_size(r, segs));
            (segs[r[0]].y - y).abs() >= LONE_LINE_GAP * size
                || span.0 >= extent(r, segs).0 + LONE_LINE_INDENT * size
        })
    };
    apart(above) && apart(below)
}

/// The text of a block: one line per row, indented by its offset from the block's left edge
/// in character widths, the segments of a row spaced by their gaps, and blank lines where the
/// rows leave room for them.
pub(crate) fn text(block: &CodeBlock, segs: &[Segment]) -> String {
    let widths: Vec<f32> = block
        .rows
        .iter()
        .flatten()
        .map(|&k| &segs[k])
        .filter(|s| s.mono)
        .filter_map(|s| {
            let chars = s.text.chars().count();
            (chars >= 2).then(|| (s.x1 - s.x0) / chars as f32)
        })
        .collect();
    let size = block
        .rows
        .iter()
        .map(|r| row_size(r, segs))
        .fold(0.0, f32::max);
    let char_width = median(widths).unwrap_or(0.6 * size).max(0.2 * size);
    let left = block
        .rows
        .iter()
        .flatten()
        .map(|&k| segs[k].x0)
        .fold(f32::INFINITY, f32::min);
    // The line pitch: the closest rows, when there are enough to tell; else a usual 1.2.
    let gaps: Vec<f32> = block
        .rows
        .windows(2)
        .map(|w| segs[w[1][0]].y - segs[w[0][0]].y)
        .filter(|d| *d > 0.0)
        .collect();
    let pitch = if gaps.len() >= 2 {
        gaps.iter().copied().fold(f32::INFINITY, f32::min)
    } else {
        1.2 * size
    };
    let columns = |dx: f32| ((dx / char_width).round().max(0.0) as usize).min(200);
    let mut out = String::new();
    let mut prev_y: Option<f32> = None;
    for row in &block.rows {
        let y = segs[row[0]].y;
        if let Some(prev) = prev_y {
            out.push('\n');
            let blanks = ((y - prev) / pitch).round() as usize;
            for _ in 1..blanks.min(3) {
                out.push('\n');
            }
        }
        prev_y = Some(y);
        let mut x = left;
        for (n, &k) in row.iter().enumerate() {
            let s = &segs[k];
            let spaces = columns(s.x0 - x);
            let spaces = if n == 0 { spaces } else { spaces.max(1) };
            out.extend(std::iter::repeat_n(' ', spaces));
            out.push_str(&s.text);
            x = s.x1;
        }
    }
    out
}

fn median(mut values: Vec<f32>) -> Option<f32> {
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 2).copied()
}

/// Whether the running text of a document is itself monospaced (a typescript, a transcript):
/// then monospaced lines are not code. `segments` are every page's lines.
pub(crate) fn mono_body<'a>(segments: impl Iterator<Item = &'a Segment>) -> bool {
    let (mut mono, mut all) = (0usize, 0usize);
    for s in segments {
        let chars = s.text.len();
        all += chars;
        if s.mono {
            mono += chars;
        }
    }
    mono * 2 > all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, x0: f32, y: f32, mono: bool) -> Segment {
        let width = if mono { 6.0 } else { 5.0 };
        Segment {
            mono,
            ..Segment::plain(text, x0, x0 + width * text.chars().count() as f32, y)
        }
    }

    #[test]
    fn a_numbered_listing_is_one_block_with_its_indentation() {
        let segs = vec![
            seg(
                "Some prose before the listing, long enough.",
                50.0,
                100.0,
                false,
            ),
            seg("1", 40.0, 124.0, false),
            seg("fn main() {", 50.0, 124.0, true),
            seg("2", 40.0, 136.0, false),
            seg("let x = 1;", 74.0, 136.0, true),
            seg("3", 40.0, 148.0, false),
            seg("}", 50.0, 148.0, true),
            seg("Prose after it.", 50.0, 172.0, false),
        ];
        let blocks = find(&segs);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].rows, vec![vec![1, 2], vec![3, 4], vec![5, 6]]);
        assert_eq!(
            text(&blocks[0], &segs),
            "1 fn main() {\n2     let x = 1;\n3 }"
        );
    }

    #[test]
    fn blank_lines_and_gaps_inside_code_are_kept() {
        let segs = vec![
            seg("a = 1", 50.0, 100.0, true),
            seg("# note", 110.0, 100.0, true),
            seg("b = 2", 50.0, 124.0, true),
        ];
        let blocks = find(&segs);
        assert_eq!(blocks.len(), 1);
        assert_eq!(text(&blocks[0], &segs), "a = 1     # note\n\nb = 2");
    }

    #[test]
    fn inline_code_and_lone_code_words_in_prose_are_not_blocks() {
        let segs = vec![
            seg("A paragraph line", 50.0, 100.0, false),
            seg("call()", 140.0, 100.0, true),
            seg("identifier_on_its_own_line", 50.0, 112.0, true),
            seg("and more prose after it.", 50.0, 124.0, false),
            seg("standalone(command)", 50.0, 150.0, true),
            seg("Next paragraph.", 50.0, 176.0, false),
        ];
        let blocks = find(&segs);
        assert_eq!(
            blocks,
            vec![CodeBlock {
                rows: vec![vec![4]]
            }]
        );
    }

    #[test]
    fn a_monospaced_body_is_not_code() {
        let mono = seg("typed in a typewriter face", 50.0, 100.0, true);
        let prose = seg("set in a proportional face", 50.0, 112.0, false);
        assert!(mono_body([&mono, &mono, &prose].into_iter()));
        assert!(!mono_body([&mono, &prose, &prose].into_iter()));
    }
}
