//! Running headers, footers and page numbers: lines near the top or bottom edge whose text
//! (digits ignored) repeats on several pages, and lone page numbers at the edges.

use std::collections::HashMap;

use super::lines::Segment;

/// How many lines from each edge are candidates.
const EDGE_LINES: usize = 2;
/// Fraction of the page height, from each edge, where furniture may sit.
const EDGE_ZONE: f32 = 0.15;

/// The text with digits folded, spaces collapsed and case ignored.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !out.ends_with('#') {
                    out.push('#');
                }
            } else {
                out.extend(c.to_lowercase());
            }
        }
    }
    out
}

/// Whether the text is only a page number (`12`, `- 12 -`, `Page 3 of 9`, `xiv`).
pub(crate) fn is_page_number(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| c == '-' || c == '–' || c == ' ');
    let t = t.to_lowercase();
    let t = t.strip_prefix("page").map_or(t.as_str(), str::trim);
    if t.is_empty() {
        return false;
    }
    let digits_of =
        |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    if digits_of(t) {
        return true;
    }
    if let Some((a, b)) = t.split_once(" of ").or_else(|| t.split_once('/')) {
        return digits_of(a.trim()) && digits_of(b.trim());
    }
    t.len() <= 6 && t.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l'))
}

/// Indices of the candidate lines of one page: up to [`EDGE_LINES`] distinct baselines from
/// the top and from the bottom, within the edge zones.
fn edge_lines(segs: &[Segment], height: f32) -> Vec<usize> {
    let mut ys: Vec<f32> = segs.iter().map(|s| s.y).collect();
    ys.sort_by(f32::total_cmp);
    ys.dedup_by(|a, b| (*a - *b).abs() < 2.0);
    let top: Vec<f32> = ys.iter().take(EDGE_LINES).copied().collect();
    let bottom: Vec<f32> = ys.iter().rev().take(EDGE_LINES).copied().collect();
    segs.iter()
        .enumerate()
        .filter(|(_, s)| {
            let near = |ys: &[f32]| ys.iter().any(|y| (s.y - y).abs() < 2.0);
            (near(&top) && s.y < height * EDGE_ZONE)
                || (near(&bottom) && s.y > height * (1.0 - EDGE_ZONE))
        })
        .map(|(i, _)| i)
        .collect()
}

/// For each page (segments and page height), the indices of lines that are running headers,
/// footers or page numbers. Only documents of two pages or more have any.
pub(crate) fn furniture(pages: &[(&[Segment], f32)]) -> Vec<Vec<usize>> {
    let n = pages.len();
    if n < 2 {
        return vec![Vec::new(); n];
    }
    let candidates: Vec<Vec<usize>> = pages.iter().map(|(s, h)| edge_lines(s, *h)).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (page, idx) in pages.iter().zip(&candidates) {
        let mut seen: Vec<String> = idx.iter().map(|&i| normalize(&page.0[i].text)).collect();
        seen.sort();
        seen.dedup();
        for key in seen {
            *counts.entry(key).or_default() += 1;
        }
    }
    let needed = 2.max(n.div_ceil(4)).min(n);
    let found: Vec<Vec<usize>> = pages
        .iter()
        .zip(candidates)
        .map(|(page, idx)| {
            idx.into_iter()
                .filter(|&i| {
                    let text = &page.0[i].text;
                    is_page_number(text)
                        || counts.get(&normalize(text)).is_some_and(|&c| c >= needed)
                })
                .collect()
        })
        .collect();
    // Lines that repeat on every page and are all there is (the same short text on each page)
    // are the document, not its furniture.
    let everything = pages
        .iter()
        .zip(&found)
        .all(|(page, lines)| lines.len() == page.0.len());
    if everything && pages.iter().any(|page| !page.0.is_empty()) {
        return vec![Vec::new(); n];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, y: f32) -> Segment {
        Segment::plain(text, 50.0, 300.0, y)
    }

    #[test]
    fn repeated_edges_and_page_numbers_are_found() {
        let p1 = [
            seg("ACME Manual", 30.0),
            seg("Body one", 100.0),
            seg("Body two", 400.0),
            seg("1", 780.0),
        ];
        let p2 = [
            seg("ACME Manual", 30.0),
            seg("Other body", 100.0),
            seg("Page 2 of 3", 780.0),
        ];
        let p3 = [
            seg("Chapter start", 30.0),
            seg("More", 100.0),
            seg("iii", 780.0),
        ];
        let pages = [(&p1[..], 800.0), (&p2[..], 800.0), (&p3[..], 800.0)];
        let found = furniture(&pages);
        assert_eq!(found, vec![vec![0, 3], vec![0, 2], vec![2]]);
        let single = [(&p1[..], 800.0)];
        assert_eq!(furniture(&single), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn lines_that_are_all_of_every_page_are_kept() {
        let page = [
            seg(
                "The same first sentence on each page of this document.",
                100.0,
            ),
            seg(
                "The same second sentence on each page of this document.",
                114.0,
            ),
        ];
        let pages: Vec<(&[Segment], f32)> = (0..20).map(|_| (&page[..], 792.0)).collect();
        assert!(furniture(&pages).iter().all(Vec::is_empty));
    }

    #[test]
    fn page_numbers() {
        for yes in ["12", "- 3 -", "Page 4", "page 2 of 10", "xiv", "3/9"] {
            assert!(is_page_number(yes), "{yes}");
        }
        for no in ["Section 2", "2019 results", "vivid", ""] {
            assert!(!is_page_number(no), "{no}");
        }
    }
}
