//! Leader dots: the rows of dots that lead a table of contents' entry to its page number
//! (`1.1 Conventions . . . . . . . . 4`). A row of dozens of dots carries nothing a reader or a
//! search needs, yet costs a model token apiece, so it is kept as three (`1.1 Conventions . . .
//! 4`). An entry ends at its page number: the next entry is a paragraph of its own, and a leader
//! and page number set apart on the entry's line belong to it.

use std::borrow::Cow;

/// Fewest dots in a row that make a leader when they are collapsed: three are an ellipsis.
const COLLAPSED_FROM: usize = 4;
/// Fewest dots in a row before a page number that make an entry's leader.
const ENTRY_DOTS: usize = 3;
/// Longest page number, in characters (`1024`, `xviii`).
const MAX_PAGE_CHARS: usize = 7;

/// Whether `text` has a table of contents' leader dots (`Programs . . . . 12`).
pub(crate) fn has_leader_dots(text: &str) -> bool {
    text.contains(". . .") || text.contains("....")
}

/// Whether `text` is an index's group letter (`A`, `S`, `.` over `.dbf`): one character.
pub(crate) fn group_letter(text: &str) -> bool {
    text.trim().chars().count() == 1
}

/// `text` with every row of at least four dots (set close or spaced, `....` or `. . . .`) as
/// three spaced dots, and a single space on either side of it where words stand there.
pub(crate) fn collapse(text: &str) -> Cow<'_, str> {
    // Most text has no two dots in a row: nothing to look at.
    if !(text.contains("..") || text.contains(". .") || text.contains('…')) {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let (end, dots) = dot_row(&chars, i);
        if dots >= COLLAPSED_FROM {
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(". . .");
            // Spaces after the row are kept as one.
            let after = (end..chars.len())
                .find(|&k| chars[k] != ' ')
                .unwrap_or(chars.len());
            if after < chars.len() {
                out.push(' ');
            }
            i = after;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// The end of the row of dots (single spaces between them allowed) that starts at `start`, and
/// how many dots it holds (`…` counts as three).
fn dot_row(chars: &[char], start: usize) -> (usize, usize) {
    let (mut end, mut dots) = (start, 0);
    let mut k = start;
    while k < chars.len() {
        match chars[k] {
            '.' => dots += 1,
            '…' => dots += 3,
            ' ' if k + 1 < chars.len() && matches!(chars[k + 1], '.' | '…') && dots > 0 => {}
            _ => break,
        }
        k += 1;
        if chars[k - 1] != ' ' {
            end = k;
        }
    }
    (end, dots)
}

/// Whether `text` is a page number: arabic digits or a roman numeral.
pub(crate) fn page_number(text: &str) -> bool {
    let text = text.trim();
    let roman = |c: char| {
        matches!(
            c.to_ascii_lowercase(),
            'i' | 'v' | 'x' | 'l' | 'c' | 'd' | 'm'
        )
    };
    let chars = text.chars().count();
    (1..=MAX_PAGE_CHARS).contains(&chars)
        && (text.chars().all(|c| c.is_ascii_digit())
            || text.chars().all(roman)
                && (text.chars().all(|c| c.is_ascii_lowercase())
                    || text.chars().all(|c| c.is_ascii_uppercase())))
}

/// How many dots end `text` (spaces aside).
fn trailing_dots(text: &str) -> usize {
    let mut dots = 0;
    for c in text.trim_end().chars().rev() {
        match c {
            '.' => dots += 1,
            '…' => dots += 3,
            ' ' => {}
            _ => break,
        }
    }
    dots
}

/// Whether `text` is nothing but a leader: two dots or more (TeX sets a leader apart from the
/// title before it, so that it may stand as a piece of the line of its own).
pub(crate) fn leader_alone(text: &str) -> bool {
    text.chars().all(|c| matches!(c, '.' | '…' | ' ')) && trailing_dots(text) >= 2
}

/// Whether `text` ends with a leader that waits for its page number (`Programs . . . .`), the
/// number set apart further right.
pub(crate) fn awaits_page_number(text: &str) -> bool {
    trailing_dots(text) >= ENTRY_DOTS && text.chars().any(char::is_alphanumeric)
}

/// Whether `text` is a whole table of contents entry: a title, a leader and a page number
/// (`3.2 List of reserved words . . . 9`, `2.1 Principles of encryption. . . .14`).
pub(crate) fn entry(text: &str) -> bool {
    entry_page(text).is_some()
}

/// The page number a whole table of contents (or index) entry leads to: `9` of `3.2 List of
/// reserved words . . . 9`, the first, `26`, of `Sockets . . . 26, 31`; `None` when `text` is no
/// entry.
pub(crate) fn entry_page(text: &str) -> Option<&str> {
    let mut head = text.trim_end();
    let mut first;
    loop {
        let page_start = head
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric())
            .last()
            .map_or(head.len(), |(i, _)| i);
        let (before, page) = head.split_at(page_start);
        if !page_number(page) {
            return None;
        }
        first = page;
        match before.trim_end().strip_suffix(',') {
            Some(listed) => head = listed.trim_end(),
            None => {
                head = before;
                break;
            }
        }
    }
    awaits_page_number(head).then_some(first)
}

/// Whether `next`, a whole entry opening with a section number (`3.10 Language internals . . .
/// 31`), follows `prev` ending with a page number: `prev` is an entry whose title left no room
/// for a leader (`3.9.7 … how to link an external function to Gfem 30`), and it ends there.
pub(crate) fn entry_after_entry_without_leader(prev: &str, next: &str) -> bool {
    let opens_with_number = next.split_whitespace().next().is_some_and(|first| {
        first.starts_with(|c: char| c.is_ascii_digit())
            && first.chars().all(|c| c.is_ascii_digit() || c == '.')
    });
    opens_with_number && ends_with_page_number(prev) && entry(next)
}

/// Whether `text` is a title followed by a page number (`4 Examples 33`, `… to Gfem 30`).
pub(crate) fn ends_with_page_number(text: &str) -> bool {
    let mut words = text.split_whitespace();
    words.next_back().is_some_and(page_number) && words.next().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_dots_become_three() {
        assert_eq!(
            collapse("1.1 Conventions . . . . . . . . . . . 4"),
            "1.1 Conventions . . . 4"
        );
        assert_eq!(
            collapse("Acknowledgements.........1"),
            "Acknowledgements . . . 1"
        );
        assert_eq!(
            collapse("2.1 Principles of encryption. . . . . . .14"),
            "2.1 Principles of encryption . . . 14"
        );
        assert_eq!(collapse("Name: ..........."), "Name: . . .");
        // An ellipsis, a version number and a decimal stay as they are.
        for kept in ["and so on...", "v1.2.3", "3.14 is pi", "wait. . . what"] {
            assert_eq!(collapse(kept), kept);
        }
    }

    #[test]
    fn a_whole_entry_ends_at_its_page_number() {
        assert!(entry("1.1 Conventions . . . 4"));
        assert!(entry("Acknowledgements.........1"));
        assert!(entry("2.1 Principles of encryption. . . . .14"));
        assert!(entry("Preface . . . . xiv"));
        assert!(!entry("Preface . . . . Xiv"));
        assert!(!entry("1.1 Conventions . . . "));
        assert!(!entry(". . . 4"));
        // A sentence ending in a number, an ellipsis before a word.
        assert!(!entry("It was built in 1998"));
        assert!(!entry("and then... twelve"));
        assert!(awaits_page_number("3.1 Programs . . . . ."));
        assert!(leader_alone(". ."));
        assert!(leader_alone(". . . . . . ."));
        assert!(!leader_alone("."));
        assert!(!leader_alone(". . 4"));
        assert!(!awaits_page_number("The end."));
    }

    #[test]
    fn an_entry_without_a_leader_ends_before_the_next_numbered_entry() {
        let next = "3.10 Language internals . . . 31";
        assert!(entry_after_entry_without_leader("to Gfem 30", next));
        // A title carried over to the next line, a sentence before a numbered entry.
        assert!(!entry_after_entry_without_leader(
            "3.9.7 Exec(), user(),",
            next
        ));
        assert!(!entry_after_entry_without_leader(
            "to Gfem 30",
            "function to Gfem . . . 30"
        ));
        assert!(!entry_after_entry_without_leader(
            "to Gfem 30",
            "3.10 Language internals"
        ));
    }

    #[test]
    fn an_entry_gives_its_page_number() {
        assert_eq!(entry_page("3.2 List of reserved words . . . 9"), Some("9"));
        assert_eq!(entry_page("Preface . . . xiv"), Some("xiv"));
        assert_eq!(entry_page("Coffee . . . 3.50"), None);
        assert_eq!(entry_page("Sockets . . . 26, 31"), Some("26"));
        assert_eq!(entry_page("Seen on pages 26, 31"), None);
    }

    #[test]
    fn page_numbers_are_digits_or_roman_numerals() {
        for page in ["4", "128", "xiv", "IV"] {
            assert!(page_number(page), "{page}");
        }
        for other in ["", "12345678", "Mix", "4a", "viii9"] {
            assert!(!page_number(other), "{other}");
        }
    }
}
