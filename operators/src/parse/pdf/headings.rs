//! Headings from font size relative to the body text: the size that carries most characters is
//! the body; short paragraphs clearly larger than it are headings, and the distinct heading sizes,
//! largest first, give levels 1, 2, 3… Multi-level section numbers (`2.3 Scope`) on a short line
//! also mark a heading, one level per number.

/// Font sizes are compared in half points.
fn key(size: f32) -> i32 {
    (size * 2.0).round() as i32
}

/// Size of the body text: the size (to half a point) weighted by characters.
pub(crate) fn body_size(samples: impl Iterator<Item = (f32, usize)>) -> f32 {
    let mut counts: Vec<(i32, usize)> = Vec::new();
    for (size, chars) in samples {
        let k = key(size);
        match counts.iter_mut().find(|(s, _)| *s == k) {
            Some((_, n)) => *n += chars,
            None => counts.push((k, chars)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(k, n)| (n, -k))
        .map_or(10.0, |(k, _)| k as f32 / 2.0)
}

/// A heading ladder: which sizes are heading sizes, and their levels.
#[derive(Debug, Clone)]
pub(crate) struct Levels {
    body: f32,
    /// Heading sizes in half points, largest first.
    sizes: Vec<i32>,
}

/// Ratio to the body size from which larger text is a heading.
const HEADING_RATIO: f32 = 1.12;
/// Longest heading, in characters.
const MAX_HEADING_CHARS: usize = 160;

/// Whether a paragraph could be a heading at all, whatever its size: short, with letters, not
/// ending a clause, and not opening with a bullet (a list item).
pub(crate) fn heading_shaped(text: &str, lines: usize) -> bool {
    let chars = text.chars().count();
    lines <= 3
        && chars <= MAX_HEADING_CHARS
        && !super::leaders::has_leader_dots(text)
        && text.chars().any(char::is_alphabetic)
        && !text.ends_with([',', ';'])
        && !text.starts_with(super::lists::is_bullet)
}

impl Levels {
    /// Builds the ladder from the sizes of heading-shaped paragraphs.
    pub(crate) fn new(body: f32, candidate_sizes: impl Iterator<Item = f32>) -> Self {
        let mut sizes: Vec<i32> = candidate_sizes
            .filter(|&s| s >= body * HEADING_RATIO)
            .map(key)
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes.dedup();
        Levels { body, sizes }
    }

    /// The heading level of a paragraph, if it is a heading: larger than the body by rank of
    /// size; at about body size when set in bold on one or two lines (below every larger size),
    /// or numbered like `2.3 Title`.
    pub(crate) fn level(&self, text: &str, size: f32, lines: usize, bold: bool) -> Option<u8> {
        if !heading_shaped(text, lines) {
            return None;
        }
        if size >= self.body * HEADING_RATIO {
            let rank = self.sizes.iter().position(|&s| s == key(size))?;
            return Some((rank + 1).min(6) as u8);
        }
        let bold_title = bold
            && lines <= 2
            && text.chars().count() <= 120
            && !text.ends_with(['.', ':'])
            && !opens_in_lower_case(text)
            && size >= self.body * 0.9;
        if bold_title {
            let depth = numbered_level(text).unwrap_or(1);
            return Some((self.sizes.len() + depth).clamp(1, 6) as u8);
        }
        numbered_level(text)
            .filter(|_| lines == 1 && (size - self.body).abs() <= 0.15 * self.body)
            .map(|depth| (self.sizes.len() + depth - 1).clamp(1, 6) as u8)
    }
}

/// Words of a phrase in bold from which, opening in lower case, it is part of a sentence.
const SENTENCE_WORDS: usize = 4;

/// Whether `text` is a phrase of [`SENTENCE_WORDS`] words or more that opens with a lower-case
/// word (`at the final point`, not `iPhone`): in body-size bold, words set in bold inside a
/// sentence, not a title. (A shorter one may be a label, `legal aid` under `State funded`.)
fn opens_in_lower_case(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(char::is_lowercase)
        && chars
            .next()
            .is_none_or(|c| c.is_lowercase() || c.is_whitespace())
        && text.split_whitespace().count() >= SENTENCE_WORDS
}

/// The depth of a multi-level section number opening a short title (`2.3 Scope` → 2).
fn numbered_level(text: &str) -> Option<usize> {
    let (number, title) = text.split_once(' ')?;
    let number = number.trim_end_matches('.');
    let parts: Vec<&str> = number.split('.').collect();
    let numeric = parts.len() >= 2
        && parts.len() <= 5
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
    let titled = title.chars().next().is_some_and(char::is_uppercase)
        && title.chars().count() <= 80
        && !title.ends_with('.');
    (numeric && titled).then_some(parts.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paragraph_opening_with_a_bullet_is_no_heading() {
        let levels = Levels::new(10.0, [14.0].into_iter());
        assert_eq!(levels.level("No", 14.0, 1, false), Some(1));
        // A check box set larger than the text it marks made `☐ No` a heading.
        assert!(!heading_shaped("\u{f0a7} No", 1));
        assert_eq!(levels.level("\u{f0a7} No", 14.0, 1, false), None);
        assert_eq!(levels.level("• Summary", 10.0, 1, true), None);
    }

    #[test]
    fn bold_words_in_lower_case_are_no_title() {
        let levels = Levels::new(10.0, std::iter::empty());
        assert!(levels.level("Configure script", 10.0, 1, true).is_some());
        assert!(levels.level("iPhone setup", 10.0, 1, true).is_some());
        assert_eq!(
            levels.level("at the beginning point then drag the mouse", 10.0, 1, true),
            None
        );
    }

    #[test]
    fn levels_from_sizes() {
        let body = body_size([(10.0, 5000), (18.0, 40), (14.0, 80), (12.0, 100)].into_iter());
        assert_eq!(body, 10.0);
        let levels = Levels::new(body, [18.0, 14.0, 12.0, 14.0, 10.5].into_iter());
        assert_eq!(levels.level("Introduction", 18.0, 1, false), Some(1));
        assert_eq!(levels.level("Scope", 14.0, 1, false), Some(2));
        assert_eq!(levels.level("Detail", 12.0, 1, false), Some(3));
        assert_eq!(levels.level("body text", 10.0, 1, false), None);
        assert_eq!(levels.level("2.3 Numbered Title", 10.0, 1, false), Some(4));
        assert_eq!(
            levels.level("2.3 million people were counted.", 10.0, 1, false),
            None
        );
        assert_eq!(levels.level(&"long ".repeat(60), 18.0, 3, false), None);
        assert_eq!(levels.level("Bold title", 10.0, 1, true), Some(4));
        assert_eq!(levels.level("Bold sentence.", 10.0, 1, true), None);
        assert_eq!(levels.level("Contents . . . . . 3", 18.0, 1, false), None);
    }
}
