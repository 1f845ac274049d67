//! List labels: bullets and enumerators (`1.`, `2)`, `(3)`, `a.`, `(b)`, `iv.`, `(ii)`) that open
//! a line, which of them mark list items, and a column of labels beside a column of text (a list
//! that a layout set as two columns) read as list items rather than as a table. A label alone on
//! its line (`2.`, an item that holds only a sublist) marks an item in a sequence.
//!
//! Bullets that mark nothing else (`•`, `◦`, `▪`…) and numbers mark items wherever they open a
//! line. Letters and roman numerals also open sentences and names (`A. Smith`, `I. Newton`), and
//! `-`, `*`, `–`, `·` open wrapped lines of running text: they mark items only in a sequence,
//! next to a label before or after them at the same left edge (`a.` then `b.`, `-` then `-`),
//! or, for a dash, where a sentence ended.

use super::lines::Segment;

/// Whether `c` is a bullet glyph that marks nothing but a list item (unlike `-` or `*`).
pub(crate) fn is_bullet(c: char) -> bool {
    matches!(
        c,
        '•' | '◦'
            | '▪'
            | '▫'
            | '●'
            | '○'
            | '■'
            | '□'
            | '‣'
            | '⁃'
            | '∙'
            | '►'
            | '▶'
            | '➢'
            | '➤'
            | '◆'
            | '♦'
            | '❖'
            | '✓'
            | '✔'
            | '\u{f0b7}'
            | '\u{f0a7}'
            | '\u{f076}'
            | '\u{f0d8}'
    )
}

/// Characters that mark list items in a sequence but also start other lines.
fn is_weak_bullet(c: char) -> bool {
    matches!(c, '-' | '*' | '–' | '·')
}

/// Most digits of a numeric label.
const MAX_DIGITS: usize = 3;
/// Most characters of a roman numeral label (`xviii`).
const MAX_ROMAN: usize = 6;

/// A label and what it may count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Label {
    /// Bytes of the label (`(iv)` is 4).
    pub len: usize,
    /// The bullet, for bullets.
    bullet: Option<char>,
    /// Whether it opens with `(`, and the closing `.` or `)`.
    open: bool,
    close: u8,
    /// Its value as a number, a letter (a = 1) and a roman numeral, where it reads as one.
    number: Option<u32>,
    letter: Option<u32>,
    roman: Option<u32>,
    /// Whether its letters are capitals.
    upper: bool,
}

impl Label {
    /// Whether items it marks are numbered (Markdown `1.`), rather than bulleted.
    pub(crate) fn ordered(&self) -> bool {
        self.bullet.is_none()
    }

    /// Whether `next` is the label after this one: the same bullet, or the next value in the
    /// same style.
    pub(crate) fn followed_by(&self, next: &Label) -> bool {
        if self.bullet.is_some() || next.bullet.is_some() {
            return self.bullet == next.bullet;
        }
        if (self.open, self.close, self.upper) != (next.open, next.close, next.upper) {
            return false;
        }
        let step =
            |a: Option<u32>, b: Option<u32>| matches!((a, b), (Some(a), Some(b)) if b == a + 1);
        step(self.number, next.number)
            || step(self.letter, next.letter)
            || step(self.roman, next.roman)
    }
}

/// The value of a roman numeral of one case, if it is one in canonical form.
fn roman_value(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > MAX_ROMAN {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let digit = |c: u8| match c {
        b'i' => Some(1),
        b'v' => Some(5),
        b'x' => Some(10),
        b'l' => Some(50),
        b'c' => Some(100),
        _ => None,
    };
    let values: Vec<i32> = lower.bytes().map(digit).collect::<Option<_>>()?;
    let mut total = 0i32;
    for (i, &v) in values.iter().enumerate() {
        if values.get(i + 1).is_some_and(|&n| n > v) {
            total -= v;
        } else {
            total += v;
        }
    }
    // Canonical form only: `iiii` or `vx` are words, not numerals.
    let total = u32::try_from(total).ok()?;
    (crate::parse::roman::roman(total) == lower).then_some(total)
}

/// A label that is the whole of `text` (a cell of a label column): a bullet, or an enumerator
/// with or without its `.` or `)` (`3`, `3.`, `(c)`, `iv)`).
pub(crate) fn label_only(text: &str) -> Option<Label> {
    let text = text.trim();
    let mut chars = text.chars();
    let first = chars.next()?;
    if chars.next().is_none() && (is_bullet(first) || is_weak_bullet(first)) {
        return Some(bullet_label(first));
    }
    let label = enumerator(text, true)?;
    (label.len == text.len()).then_some(label)
}

fn bullet_label(c: char) -> Label {
    Label {
        len: c.len_utf8(),
        bullet: Some(c),
        open: false,
        close: 0,
        number: None,
        letter: None,
        roman: None,
        upper: false,
    }
}

/// An enumerator opening `text`: `(`, one to three digits, one letter or a roman numeral, then
/// `.` or `)` (`(` needs `)`); a bare one (`3`, `c`, `iv`) only when `bare`.
fn enumerator(text: &str, bare: bool) -> Option<Label> {
    let bytes = text.as_bytes();
    let open = bytes.first() == Some(&b'(');
    let start = usize::from(open);
    let body_len = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if body_len == 0 {
        return None;
    }
    let body = &text[start..start + body_len];
    let close = bytes.get(start + body_len).copied();
    let mut len = start + body_len;
    let closed = match close {
        Some(b')') => true,
        Some(b'.') => !open,
        _ => false,
    };
    let close = if closed {
        len += 1;
        close.unwrap_or_default()
    } else if bare && !open {
        0
    } else {
        return None;
    };
    let mut label = Label {
        len,
        bullet: None,
        open,
        close,
        number: None,
        letter: None,
        roman: None,
        upper: false,
    };
    if body.bytes().all(|b| b.is_ascii_digit()) {
        if body.len() > MAX_DIGITS {
            return None;
        }
        label.number = body.parse().ok();
        return Some(label);
    }
    let upper = body.bytes().all(|b| b.is_ascii_uppercase());
    let lower = body.bytes().all(|b| b.is_ascii_lowercase());
    if !upper && !lower {
        return None;
    }
    label.upper = upper;
    if body.len() == 1 {
        label.letter = Some(u32::from(
            body.as_bytes()[0].to_ascii_lowercase() - b'a' + 1,
        ));
    }
    label.roman = roman_value(body);
    (label.letter.is_some() || label.roman.is_some()).then_some(label)
}

/// The label opening a line of text, followed by a space and more text: a bullet (`• item`,
/// `- item`) or an enumerator (`1. item`, `(a) item`, `iv) item`).
pub(crate) fn label(text: &str) -> Option<Label> {
    let first = text.chars().next()?;
    let label = if is_bullet(first) || is_weak_bullet(first) {
        bullet_label(first)
    } else {
        enumerator(text, false)?
    };
    let rest = &text[label.len..];
    (rest.starts_with(' ') && !rest.trim().is_empty()).then_some(label)
}

/// Lines nearer than this many font sizes to each other's left edge share an indent.
const SAME_EDGE: f32 = 0.5;
/// How many lines on either side of a label are searched for its neighbour in a sequence.
const SEQUENCE_REACH: usize = 40;

/// A line's list label, and whether it starts a new paragraph wherever it stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LineLabel {
    pub label: Label,
    pub breaks: bool,
}

/// The label of each line (in reading order) that marks a list item, by the rules of the module
/// notes. A number marks an item where a paragraph starts anyway; it starts one itself in a
/// sequence, after a finished sentence, or as `1` (not `LEN !=` / `0. With this…`).
pub(crate) fn line_labels(lines: &[&Segment]) -> Vec<Option<LineLabel>> {
    // A closed label alone on its line (`2.`) is an item that holds only a sublist, in a
    // sequence.
    let alone = |text: &str| label_only(text).filter(|l| l.bullet.is_none() && l.close != 0);
    // A raised marker opening a line (a footnote's `*` or `1`) is no list label.
    let labels: Vec<Option<Label>> = lines
        .iter()
        .map(|l| match l.marked {
            true => None,
            false => label(&l.text).or_else(|| alone(&l.text)),
        })
        .collect();
    // Labels of different widths line up at either end (`9.` and `10.` end together).
    let aligned = |i: usize, j: usize, a: &Label, b: &Label| {
        let size = lines[i].size.max(lines[j].size);
        let widths = 0.6 * size * a.len.abs_diff(b.len) as f32;
        (lines[i].x0 - lines[j].x0).abs() <= SAME_EDGE * size + widths
    };
    (0..lines.len())
        .map(|i| {
            let here = labels[i]?;
            if here.bullet.is_some_and(is_bullet) {
                return Some(LineLabel {
                    label: here,
                    breaks: true,
                });
            }
            // Next label at this edge, before and after (lines further left end the search:
            // the list ended there).
            let neighbour = |range: &mut dyn Iterator<Item = usize>| {
                for j in range {
                    let size = lines[i].size.max(lines[j].size);
                    if lines[j].x0 < lines[i].x0 - (SAME_EDGE + 2.0) * size {
                        return None;
                    }
                    if let Some(other) = labels[j]
                        && aligned(i, j, &here, &other)
                    {
                        return Some(other);
                    }
                }
                None
            };
            let before = neighbour(&mut (i.saturating_sub(SEQUENCE_REACH)..i).rev());
            let after = neighbour(&mut (i + 1..lines.len().min(i + 1 + SEQUENCE_REACH)));
            let in_sequence = before.is_some_and(|b| b.followed_by(&here))
                || after.is_some_and(|a| here.followed_by(&a));
            // A number or a dash starts an item on its own after a finished sentence, or at the
            // start; a dash also next to a line that opens with the same dash (an item nested
            // alone, at another edge).
            let after_sentence = (here.bullet.is_some() || here.number.is_some())
                && i.checked_sub(1).is_none_or(|p| {
                    lines[p]
                        .text
                        .trim_end()
                        .ends_with(['.', ':', '!', '?', ';'])
                });
            let same_dash = |j: Option<usize>| {
                j.and_then(|j| labels.get(j).copied().flatten())
                    .is_some_and(|l| l.bullet.is_some() && l.bullet == here.bullet)
            };
            let beside =
                here.bullet.is_some() && (same_dash(i.checked_sub(1)) || same_dash(Some(i + 1)));
            // `1.` opens a list wherever it stands (`1. Precision` under a line without a stop).
            let opens = here.number == Some(1);
            if alone(&lines[i].text).is_some() {
                return in_sequence.then_some(LineLabel {
                    label: here,
                    breaks: true,
                });
            }
            let breaks = in_sequence || after_sentence || beside || opens;
            (breaks || here.number.is_some()).then_some(LineLabel {
                label: here,
                breaks,
            })
        })
        .collect()
}

/// Whether a table's rows are a list set as two columns: every row a label and text, the labels
/// a sequence from any value (`1 2 3`, `c d e`, one bullet throughout), the text words rather
/// than numbers, some of it more than one word. A header row (`No. | Item`) or a third column
/// keeps it a table.
pub(crate) fn is_label_column(rows: &[[&str; 2]]) -> bool {
    let Some(labels) = rows
        .iter()
        .map(|[label, _]| label_only(label))
        .collect::<Option<Vec<Label>>>()
    else {
        return false;
    };
    let sequence = labels.windows(2).all(|w| w[0].followed_by(&w[1]));
    let wordy = |text: &str| {
        text.trim_start_matches(['"', '“', '‘', '('])
            .starts_with(char::is_alphabetic)
    };
    sequence
        && rows.iter().all(|[_, text]| wordy(text))
        && rows
            .iter()
            .any(|[_, text]| text.split_whitespace().nth(1).is_some())
}

/// A label cell and its text cell as one line: `3` becomes `3.`, so that it reads as a number;
/// a table of contents' chapter number stays as it is (`6 Image files . . . 25`, as `5 Binary
/// files . . . 24` set on one line reads).
fn item_line(label: &Segment, text: &Segment) -> Segment {
    let mut mark = label.text.trim().to_string();
    if mark.bytes().all(|b| b.is_ascii_alphanumeric())
        && !super::leaders::has_leader_dots(&text.text)
    {
        mark.push('.');
    }
    Segment {
        x0: label.x0.min(text.x0),
        x1: label.x1.max(text.x1),
        text: format!("{mark} {}", text.text),
        ..text.clone()
    }
}

/// Widest gap, in font sizes, between a label and its item's text in a label column.
const LABEL_GAP: f32 = 5.0;

/// A label standing alone on its row, left of the row's only other segment: its item's text;
/// or, for an item that holds only a sublist, left of that sublist's first label (`sub`).
struct Candidate {
    label: usize,
    text: usize,
    value: Label,
    sub: bool,
}

/// Joins the labels of a list that a layout set as a column of their own (ReportLab's
/// `ListFlowable` draws `1`, `2`, `3` or `a`, `b`, `c` left of the items' text) to their items'
/// first lines: `a` and `Open the box.` become `a. Open the box.` The labels must stand alone
/// on rows of two segments, line up (left or right), follow each other (from any value) with
/// nothing between them left of the items' text but the items of a nested list, and the items
/// be text, not numbers (see [`is_label_column`]); a header row over the two columns
/// (`No. | Step`) keeps them a table. An item holding only a sublist (`2`, then `a` and
/// `Inner a.` on its row) keeps its label on a line of its own, just above. `segments` are
/// sorted as [`super::lines::segments`] returns them; `None` when nothing is joined.
pub(crate) fn join_label_columns(segments: &[Segment]) -> Option<Vec<Segment>> {
    let rows = super::lines::rows(segments);
    let mut candidates: Vec<(usize, Candidate)> = Vec::new();
    let pair = |label: usize, text: usize| {
        let (l, t) = (&segments[label], &segments[text]);
        let gap = t.x0 - l.x1;
        label_only(&l.text).filter(|_| !t.mono && gap > 0.0 && gap <= LABEL_GAP * t.size)
    };
    for (r, row) in rows.iter().enumerate() {
        match *row.as_slice() {
            [label, text] => {
                if let Some(value) = pair(label, text) {
                    candidates.push((
                        r,
                        Candidate {
                            label,
                            text,
                            value,
                            sub: false,
                        },
                    ));
                }
            }
            [outer, label, text] => {
                if let (Some(outer_value), Some(value)) = (pair(outer, label), pair(label, text)) {
                    candidates.push((
                        r,
                        Candidate {
                            label: outer,
                            text: label,
                            value: outer_value,
                            sub: true,
                        },
                    ));
                    candidates.push((
                        r,
                        Candidate {
                            label,
                            text,
                            value,
                            sub: false,
                        },
                    ));
                }
            }
            _ => {}
        }
    }
    if candidates.len() < 2 {
        return None;
    }
    // Label columns, each an item after another: a nested list's items may stand between two
    // of an outer list's.
    let mut columns: Vec<Vec<usize>> = Vec::new();
    for c in 0..candidates.len() {
        let column = columns.iter_mut().rev().find(|column| {
            column
                .last()
                .is_some_and(|&last| continues(segments, &rows, &candidates[last], &candidates[c]))
        });
        match column {
            Some(column) => column.push(c),
            None => columns.push(vec![c]),
        }
    }
    let mut joined: Vec<Option<Segment>> = segments.iter().cloned().map(Some).collect();
    let mut any = false;
    for column in &columns {
        let group: Vec<&(usize, Candidate)> = column.iter().map(|&c| &candidates[c]).collect();
        let pairs: Vec<[&str; 2]> = group
            .iter()
            .map(|(_, c)| {
                [
                    segments[c.label].text.as_str(),
                    segments[c.text].text.as_str(),
                ]
            })
            .collect();
        if group.len() >= 2 && is_label_column(&pairs) && !headed(segments, &rows, group[0]) {
            for (_, c) in group {
                if c.sub {
                    joined[c.label] = Some(label_line(&segments[c.label], &segments[c.text]));
                } else {
                    joined[c.label] = Some(item_line(&segments[c.label], &segments[c.text]));
                    joined[c.text] = None;
                }
            }
            any = true;
        }
    }
    any.then(|| joined.into_iter().flatten().collect())
}

/// The label of an item that holds only a sublist, as a line of its own just above the row of
/// the sublist's first item (`next`), in that item's type: `2` becomes `2.`.
fn label_line(label: &Segment, next: &Segment) -> Segment {
    let mut mark = label.text.trim().to_string();
    if mark.bytes().all(|b| b.is_ascii_alphanumeric()) {
        mark.push('.');
    }
    Segment {
        x0: label.x0,
        x1: label.x1,
        y: next.y - 0.5 * next.size,
        y_last: next.y - 0.5 * next.size,
        text: mark,
        ..next.clone()
    }
}

/// Whether candidate `b` is the next item after `a` in one label column: its label lines up
/// with `a`'s and follows it on a later row, and no row between them starts left of the items'
/// text.
fn continues(
    segments: &[Segment],
    rows: &[Vec<usize>],
    (ra, a): &(usize, Candidate),
    (rb, b): &(usize, Candidate),
) -> bool {
    if rb <= ra {
        return false;
    }
    let (la, lb) = (&segments[a.label], &segments[b.label]);
    let tolerance = SAME_EDGE * la.size.max(lb.size);
    let lined_up = (la.x0 - lb.x0).abs() <= tolerance || (la.x1 - lb.x1).abs() <= tolerance;
    let text_edge = segments[a.text].x0.min(segments[b.text].x0);
    let clear = rows[ra + 1..*rb].iter().flatten().all(|&k| {
        let s = &segments[k];
        s.x0 >= text_edge - tolerance || s.x1 <= la.x0.min(lb.x0)
    });
    lined_up && clear && a.value.followed_by(&b.value)
}

/// Whether the row right above candidate `first` heads the two columns as a table's header:
/// two segments over the label and the text, or one in bold (unlike the items' text) that
/// starts over the labels and is no sentence or lead-in (`Steps:`).
fn headed(segments: &[Segment], rows: &[Vec<usize>], (r, first): &(usize, Candidate)) -> bool {
    let Some(above) = r.checked_sub(1).and_then(|a| rows.get(a)) else {
        return false;
    };
    let (label, text) = (&segments[first.label], &segments[first.text]);
    let tolerance = SAME_EDGE * text.size;
    let near = |x: f32, edge: f32| (x - edge).abs() <= tolerance;
    match above.as_slice() {
        [one] => {
            let s = &segments[*one];
            s.bold
                && !text.bold
                && near(s.x0, label.x0)
                && !s.text.trim_end().ends_with(['.', ':', '!', '?'])
        }
        // (Not the last item of a list before, nested deeper or not: a label and its text.)
        [first_above, ..] if label_only(&segments[*first_above].text).is_some() => false,
        many => {
            many.iter().any(|&k| near(segments[k].x0, label.x0))
                && many.iter().any(|&k| near(segments[k].x0, text.x0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, x0: f32, y: f32) -> Segment {
        Segment::plain(text, x0, 500.0, y)
    }

    /// A label cell joins its text as a number (`3.`), but a contents' chapter number stays
    /// one: `6. Image files . . . 25` was written beside `5 Binary files . . . 24`.
    #[test]
    fn a_label_joins_its_text_as_a_number_unless_a_contents_entry() {
        let joined = |label: &str, text: &str| {
            item_line(&line(label, 90.0, 100.0), &line(text, 114.0, 100.0)).text
        };
        assert_eq!(joined("3", "Apples and pears"), "3. Apples and pears");
        assert_eq!(
            joined("6", "Image files . . . 25"),
            "6 Image files . . . 25"
        );
    }

    #[test]
    fn labels_and_their_values() {
        assert_eq!(label("• item").map(|l| l.len), Some(3));
        assert!(label("12. item").is_some_and(|l| l.ordered() && l.number == Some(12)));
        assert!(label("(a) item").is_some_and(|l| l.letter == Some(1)));
        assert!(label("iv) item").is_some_and(|l| l.roman == Some(4) && l.letter.is_none()));
        assert!(label("IX. item").is_some_and(|l| l.roman == Some(9) && l.upper));
        assert_eq!(label("3.5 million"), None);
        assert_eq!(label("-5 degrees"), None);
        assert_eq!(label("1.Download"), None);
        assert_eq!(label("(a)"), None);
        assert_eq!(label("ab. item"), None);
        assert_eq!(label("iiii. item"), None);
        assert_eq!(label("1234. item"), None);
        assert!(label_only("3").is_some_and(|l| l.number == Some(3)));
        assert!(label_only("iv").is_some_and(|l| l.roman == Some(4)));
        assert!(label_only("b").is_some_and(|l| l.letter == Some(2)));
        assert!(label_only(" • ").is_some());
        assert_eq!(label_only("3 apples"), None);
        assert_eq!(label_only("No."), None);
    }

    #[test]
    fn sequences() {
        let l = |t: &str| label_only(t).expect("a label");
        assert!(l("a.").followed_by(&l("b.")));
        assert!(l("i.").followed_by(&l("ii.")));
        assert!(l("h)").followed_by(&l("i)")));
        assert!(l("(iv)").followed_by(&l("(v)")));
        assert!(l("9").followed_by(&l("10")));
        assert!(l("•").followed_by(&l("•")));
        assert!(!l("a.").followed_by(&l("B.")));
        assert!(!l("a.").followed_by(&l("b)")));
        assert!(!l("1.").followed_by(&l("3.")));
        assert!(!l("•").followed_by(&l("◦")));
    }

    /// Lines opened by a raised marker (footnotes `* …`, `1 …`, `2 …`) are no list items,
    /// however they follow each other; the same text on the baseline is.
    #[test]
    fn a_raised_marker_is_no_list_label() {
        let footnote = |text: &str, y: f32| Segment {
            marked: true,
            ..line(text, 50.0, y)
        };
        let lines = [
            footnote("* Funded by the Foundation.", 700.0),
            footnote("1 See the appendix.", 710.0),
            footnote("2 Reported elsewhere.", 720.0),
            line("1. First step.", 50.0, 740.0),
            line("2. Second step.", 50.0, 750.0),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let labelled: Vec<bool> = line_labels(&refs).iter().map(Option::is_some).collect();
        assert_eq!(labelled, [false, false, false, true, true]);
    }

    #[test]
    fn letters_and_dashes_mark_items_in_a_sequence() {
        let lines = [
            line("The options are:", 50.0, 100.0),
            line("a. the first one, which runs on to", 60.0, 112.0),
            line("a second line;", 72.0, 124.0),
            line("b. and the second.", 60.0, 136.0),
            line(
                "A. Smith wrote the text that follows here and it",
                50.0,
                160.0,
            ),
            line("- goes on after a dash at the start of a line", 50.0, 172.0),
            line("I. Newton, too.", 50.0, 184.0),
            line("Steps:", 50.0, 200.0),
            line("- one", 60.0, 212.0),
            line("- two", 60.0, 224.0),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let marked: Vec<bool> = line_labels(&refs).iter().map(Option::is_some).collect();
        assert_eq!(
            marked,
            [
                false, true, false, true, false, false, false, false, true, true
            ]
        );
        // A number breaks a paragraph in a sequence or after a sentence, not in one.
        let lines = [
            line("SEQUENCE OF: VALUE must be \"NEW\" and LEN !=", 50.0, 100.0),
            line(
                "0. With this instruction an element is appended.",
                50.0,
                112.0,
            ),
            line("The parties agree as follows.", 50.0, 136.0),
            line("9. The ninth clause, which runs on to", 55.0, 148.0),
            line("a second line;", 50.0, 160.0),
            line("10. and the tenth.", 50.0, 172.0),
        ];
        let refs: Vec<&Segment> = lines.iter().collect();
        let breaks: Vec<Option<bool>> = line_labels(&refs)
            .iter()
            .map(|l| l.map(|l| l.breaks))
            .collect();
        assert_eq!(
            breaks,
            [None, Some(false), None, Some(true), None, Some(true)]
        );
    }

    #[test]
    fn label_columns_join_their_items() {
        let seg = |text: &str, x0: f32, x1: f32, y: f32| Segment::plain(text, x0, x1, y);
        let mut bold = seg("No. Step", 78.0, 160.0, 300.0);
        bold.bold = true;
        let segments = vec![
            seg("Lettered:", 78.0, 118.0, 100.0),
            seg("a", 78.0, 84.0, 120.0),
            seg("Open the box.", 96.0, 160.0, 120.0),
            seg("b", 78.0, 84.0, 138.0),
            seg(
                "This item is long enough that it wraps onto",
                96.0,
                480.0,
                138.0,
            ),
            seg("a second line under its text.", 96.0, 300.0, 150.0),
            seg("c", 78.0, 84.0, 168.0),
            seg("Plug it in.", 96.0, 140.0, 168.0),
            seg("A table:", 78.0, 118.0, 200.0),
            seg("1", 78.0, 84.0, 220.0),
            seg("Apples", 96.0, 130.0, 220.0),
            seg("3", 150.0, 156.0, 220.0),
            seg("2", 78.0, 84.0, 238.0),
            seg("Pears", 96.0, 130.0, 238.0),
            seg("5", 150.0, 156.0, 238.0),
            bold,
            seg("1", 78.0, 84.0, 318.0),
            seg("Open the box now.", 96.0, 190.0, 318.0),
            seg("2", 78.0, 84.0, 336.0),
            seg("Remove the device.", 96.0, 190.0, 336.0),
        ];
        let texts: Vec<String> = join_label_columns(&segments)
            .expect("a list")
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(
            texts[..6],
            [
                "Lettered:",
                "a. Open the box.",
                "b. This item is long enough that it wraps onto",
                "a second line under its text.",
                "c. Plug it in.",
                "A table:"
            ]
        );
        assert_eq!(texts.len(), segments.len() - 3, "{texts:?}");
    }

    #[test]
    fn label_columns_from_any_start_and_nested() {
        // ReportLab: a list from 3; a nested list the outer one resumes after; an item that
        // holds only a sublist, whose label shares the row of the sublist's first label.
        let seg = |text: &str, x0: f32, x1: f32, y: f32| Segment::plain(text, x0, x1, y);
        let segments = vec![
            seg("3", 78.0, 84.0, 100.0),
            seg("Third step here.", 96.0, 160.0, 100.0),
            seg("4", 78.0, 84.0, 112.0),
            seg("Fourth step here.", 96.0, 160.0, 112.0),
            seg("Nested:", 78.0, 118.0, 140.0),
            seg("1", 78.0, 84.0, 160.0),
            seg("Outer one.", 96.0, 160.0, 160.0),
            seg("a", 96.0, 102.0, 172.0),
            seg("Inner a.", 114.0, 160.0, 172.0),
            seg("b", 96.0, 102.0, 184.0),
            seg("Inner b.", 114.0, 160.0, 184.0),
            seg("2", 78.0, 84.0, 196.0),
            seg("a", 96.0, 102.0, 196.0),
            seg("Inner a again.", 114.0, 180.0, 196.0),
            seg("b", 96.0, 102.0, 208.0),
            seg("Inner b again.", 114.0, 180.0, 208.0),
            seg("3", 78.0, 84.0, 220.0),
            seg("Outer three.", 96.0, 160.0, 220.0),
        ];
        let joined = join_label_columns(&segments).expect("a list");
        let texts: Vec<(&str, f32)> = joined.iter().map(|s| (s.text.as_str(), s.y)).collect();
        assert_eq!(
            texts,
            [
                ("3. Third step here.", 100.0),
                ("4. Fourth step here.", 112.0),
                ("Nested:", 140.0),
                ("1. Outer one.", 160.0),
                ("a. Inner a.", 172.0),
                ("b. Inner b.", 184.0),
                ("2.", 191.0),
                ("a. Inner a again.", 196.0),
                ("b. Inner b again.", 208.0),
                ("3. Outer three.", 220.0),
            ]
        );
        let refs: Vec<&Segment> = joined.iter().collect();
        let marked: Vec<bool> = line_labels(&refs).iter().map(Option::is_some).collect();
        assert_eq!(
            marked,
            [true, true, false, true, true, true, true, true, true, true]
        );
    }

    #[test]
    fn label_columns() {
        assert!(is_label_column(&[
            ["1", "Open the box."],
            ["2", "Remove the device."],
            ["3", "Plug it in."],
        ]));
        assert!(is_label_column(&[
            ["a)", "Apples and pears"],
            ["b)", "Plums"],
            ["c)", "Cherries"],
        ]));
        assert!(is_label_column(&[
            ["•", "one thing"],
            ["•", "another"],
            ["•", "a third"]
        ]));
        // A header row, numbers beside numbers, a gap in the numbering, one word a row.
        assert!(!is_label_column(&[
            ["No.", "Step"],
            ["1", "Open the box."],
            ["2", "Remove the device."],
        ]));
        assert!(!is_label_column(&[
            ["1", "2.5"],
            ["2", "3.7"],
            ["3", "4.1"]
        ]));
        assert!(!is_label_column(&[
            ["1", "Open the box."],
            ["3", "Remove the device."],
            ["4", "Plug it in."],
        ]));
        assert!(!is_label_column(&[
            ["1", "Apples"],
            ["2", "Pears"],
            ["3", "Plums"]
        ]));
    }
}
