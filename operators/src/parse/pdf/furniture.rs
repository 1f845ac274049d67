//! Running headers, footers and page numbers: lines near the top or bottom edge whose text
//! (digits ignored) repeats at the same place on several pages, and lone page numbers at the
//! edges.
//!
//! Repetition alone would take body text for furniture: the rows of a long table (`PN-0033`,
//! `Widget model 33`, digits folded) end every page alike, a repeated table header heads each
//! page, and a paragraph's line may reach the edge of two pages. So a candidate is body when
//! its row lines up in columns with the next row (a table row), when it goes on with the
//! sentence of the line next to it, or when its text also occurs in the page's body; it must
//! repeat at one position (the first page's table header sits lower, under the title); and a
//! long line set close to the body must repeat on half the pages (three at least).

use std::collections::{HashMap, HashSet};

use super::lines::{Segment, rows};

/// How many lines from each edge are candidates.
const EDGE_LINES: usize = 2;
/// Fraction of the page height, from each edge, where furniture may sit.
const EDGE_ZONE: f32 = 0.15;
/// The same for a page number alone on its line.
const NUMBER_ZONE: f32 = 0.25;
/// A line this close (in font sizes, baseline to baseline) to the next body line is set with
/// the body, as running headers and footers are not.
const ATTACHED: f32 = 2.2;
/// A line of more words than this is body-like.
const LONG_WORDS: usize = 6;
/// Lines at least this much larger than the page's body text are set as headings.
const HEADING_RATIO: f32 = 1.15;

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

/// Which edge a candidate sits at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Edge {
    Top,
    Bottom,
}

/// A candidate's place: its page, and its index among the page's candidates.
type Place = (usize, usize);

/// A line near a page edge that may be furniture.
#[derive(Debug)]
struct Candidate {
    /// Segment index on its page.
    seg: usize,
    edge: Edge,
    /// Distance of the baseline from its edge.
    offset: f32,
    /// Its font size.
    size: f32,
    /// Whether it is set close to the body line next to it (towards the page middle).
    attached: bool,
    /// Whether it is alone on its row.
    alone: bool,
}

/// Whether the line reads on from the line before it: it starts in lower case, or the line
/// before ends without closing its sentence.
fn continues(before: &str, line: &str) -> bool {
    let starts_lower = line
        .chars()
        .find(|c| c.is_alphabetic())
        .is_some_and(char::is_lowercase)
        && line.chars().next().is_some_and(char::is_alphabetic);
    let before = before.trim_end();
    let open = before
        .chars()
        .last()
        .is_some_and(|c| c.is_alphabetic() || matches!(c, ',' | ';' | '-' | '‐' | '\u{AD}' | '–'));
    starts_lower || open
}

/// Whether the segments of `row` each line up (left or right edge) with one of `next`'s, two
/// or more on each side: a row of a table.
fn aligned(segs: &[Segment], row: &[usize], next: &[usize]) -> bool {
    row.len() >= 2
        && next.len() >= 2
        && row.iter().all(|&a| {
            let a = &segs[a];
            let tol = 0.5 * a.size;
            next.iter().any(|&b| {
                let b = &segs[b];
                (a.x0 - b.x0).abs() <= tol || (a.x1 - b.x1).abs() <= tol
            })
        })
}

/// The candidates of one page: the segments of up to [`EDGE_LINES`] rows from the top and from
/// the bottom, within the edge zones, less those that are body by their neighbours (table rows,
/// lines that go on with the sentence of the line above or below).
fn candidates(segs: &[Segment], height: f32) -> Vec<Candidate> {
    let rows = rows(segs);
    let size_of = |row: &[usize]| row.iter().map(|&i| segs[i].size).fold(0.0f32, f32::max);
    let text_of = |row: &[usize]| {
        row.iter()
            .map(|&i| segs[i].text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = Vec::new();
    let n = rows.len();
    let top = (0..n.min(EDGE_LINES)).map(|k| (k, Edge::Top));
    let bottom = (n.saturating_sub(EDGE_LINES)..n)
        .rev()
        .map(|k| (k, Edge::Bottom));
    let mut seen = HashSet::new();
    for (k, edge) in top.chain(bottom) {
        let row = &rows[k];
        let y = segs[row[0]].y;
        // A page number alone on its line may sit further in (LaTeX's on A4: 83% down).
        let zone = match is_page_number(&text_of(row)) {
            true => NUMBER_ZONE,
            false => EDGE_ZONE,
        };
        let in_zone = match edge {
            Edge::Top => y < height * zone,
            Edge::Bottom => y > height * (1.0 - zone),
        };
        if !in_zone || !seen.insert(k) {
            continue;
        }
        // The next row towards the page middle.
        let inner = match edge {
            Edge::Top => rows.get(k + 1),
            Edge::Bottom => k.checked_sub(1).map(|j| &rows[j]),
        };
        let attached = inner.is_some_and(|next| {
            let size = size_of(row).max(size_of(next));
            (segs[next[0]].y - y).abs() <= ATTACHED * size
        });
        if let Some(next) = inner
            && attached
        {
            if aligned(segs, row, next) {
                continue;
            }
            // A line that reads on from the line above it, or goes on below in lower case.
            let (above, below) = match edge {
                Edge::Top => (text_of(row), text_of(next)),
                Edge::Bottom => (text_of(next), text_of(row)),
            };
            let lower_start = |t: &str| {
                t.chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() && c.is_lowercase())
            };
            // Only beside a line of running text (long, in the same type): a footer's second
            // line goes on from its first as well.
            let running = row.len() == 1
                && next.len() == 1
                && (segs[row[0]].size - segs[next[0]].size).abs() <= 0.5
                && segs[next[0]].text.split_whitespace().count() > LONG_WORDS;
            let reads_on = running
                && match edge {
                    Edge::Bottom => continues(&above, &below),
                    Edge::Top => lower_start(&above),
                };
            if reads_on && !is_page_number(&text_of(row)) {
                continue;
            }
        }
        for &i in row {
            let offset = match edge {
                Edge::Top => segs[i].y,
                Edge::Bottom => height - segs[i].y,
            };
            out.push(Candidate {
                seg: i,
                edge,
                offset,
                size: segs[i].size,
                attached,
                alone: row.len() == 1,
            });
        }
    }
    out
}

/// Of `places` sorted by offset, as (offset, tolerance, page), the run from one place to
/// those within its tolerance below it that spans the most pages: (start, end, pages).
///
/// A window slides over the places, counting its pages: linear, where counting each start's
/// window afresh was quadratic when every page has the text (40,000 pages took 27 s).
fn densest_cluster(places: &[(f32, f32, usize)]) -> (usize, usize, usize) {
    let mut best = (0, 0, 0);
    let mut end = 0;
    let mut in_window: HashMap<usize, usize> = HashMap::new();
    for (start, &(first, tolerance, page)) in places.iter().enumerate() {
        let within = |at: usize| places[at].0 - first <= tolerance;
        while end < places.len() && within(end) {
            *in_window.entry(places[end].2).or_default() += 1;
            end += 1;
        }
        // A smaller tolerance than the last start's ends the window sooner.
        while end > start + 1 && !within(end - 1) {
            end -= 1;
            leave(&mut in_window, places[end].2);
        }
        if in_window.len() > best.2 {
            best = (start, end, in_window.len());
        }
        leave(&mut in_window, page);
    }
    best
}

/// Whether a line says it is a page's (`Annual Report 2024 - Page 3`, `Seite 3`): a running
/// header, whatever its type.
fn names_a_page(text: &str) -> bool {
    const PAGE: [&str; 7] = ["page", "pg.", "seite", "página", "pagina", "strona", "стр"];
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .any(|word| {
            PAGE.iter()
                .any(|page| word.trim_end_matches('.') == page.trim_end_matches('.'))
        })
}

/// One place on `page` leaves a window of places counted by page.
fn leave(pages: &mut HashMap<usize, usize>, page: usize) {
    if let Some(count) = pages.get_mut(&page) {
        *count -= 1;
        if *count == 0 {
            pages.remove(&page);
        }
    }
}

/// For each page (segments and page height), the indices of lines that are running headers,
/// footers or page numbers. Only documents of two pages or more have any.
pub(crate) fn furniture(pages: &[(&[Segment], f32)]) -> Vec<Vec<usize>> {
    if let [(segs, height)] = pages {
        return vec![named_page_number(segs, *height)];
    }
    let mut found = found_at_edges(pages, true);
    if found.iter().all(Vec::is_empty) {
        return found;
    }
    // A running header or footer of more lines than an edge's candidates (TCPDF's title,
    // author and web address) leaves its last lines at the new edges: they are looked at
    // again, for text that repeats, set close to the lines found (a lone number there is the
    // body's: a code line's, a list item's; a line further in is the body's first).
    let rest: Vec<(Vec<usize>, Vec<Segment>, f32)> = pages
        .iter()
        .zip(&found)
        .map(|((segs, height), gone)| {
            let kept: Vec<usize> = (0..segs.len())
                .filter(|i| gone.binary_search(i).is_err())
                .collect();
            let segs = kept.iter().map(|&i| segs[i].clone()).collect();
            (kept, segs, *height)
        })
        .collect();
    let views: Vec<(&[Segment], f32)> = rest
        .iter()
        .map(|(_, segs, h)| (segs.as_slice(), *h))
        .collect();
    let again = found_at_edges(&views, false);
    for (((lines, (kept, _, _)), again), (segs, _)) in
        found.iter_mut().zip(&rest).zip(again).zip(pages)
    {
        let close = |i: usize| {
            let line = &segs[i];
            (lines.iter())
                .any(|&f| (segs[f].y - line.y).abs() <= ATTACHED * segs[f].size.max(line.size))
        };
        let more: Vec<usize> = (again.into_iter())
            .map(|i| kept[i])
            .filter(|&i| close(i))
            .collect();
        lines.extend(more);
        lines.sort_unstable();
    }
    found
}

/// The lines of a document of one page that name its page number at an edge, set apart from
/// the body (`Page 7`, `3 of 10`, `3/10`: an excerpt's), unless they are all it holds. Nothing
/// repeats on one page, and a bare number (`2024` under a poster) may be its text.
fn named_page_number(segs: &[Segment], height: f32) -> Vec<usize> {
    let named = |text: &str| {
        let lower = text.trim().to_lowercase();
        is_page_number(text)
            && (lower.starts_with("page") || lower.contains(" of ") || lower.contains('/'))
    };
    let found: Vec<usize> = candidates(segs, height)
        .into_iter()
        .filter(|c| named(&segs[c.seg].text) && (c.alone || !c.attached))
        .map(|c| c.seg)
        .collect();
    if found.len() == segs.len() {
        return Vec::new();
    }
    found
}

/// [`furniture`]'s lines among the edge lines of `pages`: text that repeats, and lone page
/// numbers when `page_numbers`.
fn found_at_edges(pages: &[(&[Segment], f32)], page_numbers: bool) -> Vec<Vec<usize>> {
    let n = pages.len();
    if n < 2 {
        return vec![Vec::new(); n];
    }
    let candidates: Vec<Vec<Candidate>> = pages.iter().map(|(s, h)| candidates(s, *h)).collect();
    // Text of each page's body: a candidate that also occurs there is part of a pattern of the
    // body (a table column), not furniture.
    let bodies: Vec<HashSet<String>> = pages
        .iter()
        .zip(&candidates)
        .map(|(page, cands)| {
            let edge: HashSet<usize> = cands.iter().map(|c| c.seg).collect();
            page.0
                .iter()
                .enumerate()
                .filter(|(i, _)| !edge.contains(i))
                .map(|(_, s)| normalize(&s.text))
                .collect()
        })
        .collect();
    // Where each text repeats: (page, candidate) by text and edge.
    let mut places: HashMap<(String, Edge), Vec<(usize, usize)>> = HashMap::new();
    for (p, (page, cands)) in pages.iter().zip(&candidates).enumerate() {
        for (c, cand) in cands.iter().enumerate() {
            let key = normalize(&page.0[cand.seg].text);
            if bodies[p].contains(&key) {
                continue;
            }
            places.entry((key, cand.edge)).or_default().push((p, c));
        }
    }
    let body_sizes: Vec<f32> = pages
        .iter()
        .map(|(segs, _)| {
            super::headings::body_size(segs.iter().map(|seg| (seg.size, seg.text.chars().count())))
        })
        .collect();
    let base = 2.max(n.div_ceil(4)).min(n);
    let strict = 3.max(n.div_ceil(2));
    let mut repeated: HashSet<(usize, usize)> = HashSet::new();
    // Where running headers and footers were found (edge, offsets), and the clusters that
    // repeat too little alone.
    let mut found_at: Vec<(Edge, f32, f32)> = Vec::new();
    let mut too_few: Vec<(Edge, usize, Vec<Place>)> = Vec::new();
    for ((key, edge), mut at) in places {
        let long = key.split(' ').count() > LONG_WORDS;
        at.sort_by(|a, b| {
            candidates[a.0][a.1]
                .offset
                .total_cmp(&candidates[b.0][b.1].offset)
        });
        // Clusters of one position, largest first, each counted by its pages.
        while !at.is_empty() {
            let places: Vec<(f32, f32, usize)> = at
                .iter()
                .map(|&(p, c)| {
                    let cand = &candidates[p][c];
                    (cand.offset, 2.0 + 0.8 * cand.size, p)
                })
                .collect();
            let best = densest_cluster(&places);
            let (start, end, count) = best;
            let cluster: Vec<(usize, usize)> = at.drain(start..end).collect();
            let close = cluster.iter().any(|&(p, c)| candidates[p][c].attached);
            let needed = if long && close { strict } else { base };
            // Lines set larger than the body, each page's its own (`Chapter 1`, `Chapter 2`),
            // are the headings of a page each, not a running header (which repeats its text,
            // or differs only by its page number in type no larger than the body's).
            let texts: HashSet<&str> = cluster
                .iter()
                .map(|&(p, c)| pages[p].0[candidates[p][c].seg].text.as_str())
                .collect();
            let headings = texts.len() == cluster.len()
                && !texts.iter().any(|text| names_a_page(text))
                && cluster
                    .iter()
                    .all(|&(p, c)| candidates[p][c].size >= body_sizes[p] * HEADING_RATIO);
            if count >= needed && !headings {
                let offsets = cluster.iter().map(|&(p, c)| candidates[p][c].offset);
                let low = offsets.clone().fold(f32::INFINITY, f32::min);
                let high = offsets.fold(f32::NEG_INFINITY, f32::max);
                found_at.push((edge, low, high));
                repeated.extend(cluster);
            } else if !headings {
                too_few.push((edge, count, cluster));
            }
        }
    }
    // A text that repeats on a few pages only, where running headers stand on the others, is
    // one too: a manual's `Chapter 4: Relational databases` over that chapter's odd pages,
    // with the book's title over the even ones. Not in type set as a heading (against the
    // document's body: a page of small type makes its header look large).
    let mut sizes = body_sizes.clone();
    sizes.sort_by(f32::total_cmp);
    let document_body = sizes[sizes.len() / 2];
    for (edge, count, cluster) in too_few {
        let beside_found = cluster.iter().all(|&(p, c)| {
            let cand = &candidates[p][c];
            let tolerance = 2.0 + 0.8 * cand.size;
            cand.size < document_body * HEADING_RATIO
                && found_at.iter().any(|&(e, low, high)| {
                    e == edge && cand.offset >= low - tolerance && cand.offset <= high + tolerance
                })
        });
        if count >= 2 && beside_found {
            repeated.extend(cluster);
        }
    }
    let found: Vec<Vec<usize>> = pages
        .iter()
        .zip(&candidates)
        .enumerate()
        .map(|(p, (page, cands))| {
            let mut lines: Vec<usize> = cands
                .iter()
                .enumerate()
                .filter(|&(c, cand)| {
                    repeated.contains(&(p, c))
                        || (page_numbers
                            && is_page_number(&page.0[cand.seg].text)
                            && (cand.alone || !cand.attached))
                })
                .map(|(_, cand)| cand.seg)
                .collect();
            lines.sort_unstable();
            lines.dedup();
            lines
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
        // One page: only a number that says it is the page's (`1` alone may be text).
        let single = [(&p1[..], 800.0)];
        assert_eq!(furniture(&single), vec![Vec::<usize>::new()]);
        let excerpt = [
            seg("Body one", 100.0),
            seg("Body two", 400.0),
            seg("Page 7", 780.0),
        ];
        assert_eq!(furniture(&[(&excerpt[..], 800.0)]), vec![vec![2]]);
        let only = [seg("Page 7", 780.0)];
        assert_eq!(furniture(&[(&only[..], 800.0)]), vec![Vec::<usize>::new()]);
    }

    /// TCPDF's running header is three lines (title, author, web address): the third stood on
    /// every page as body text. A lone number the footer's removal leaves at the edge (a code
    /// line's) stays.
    #[test]
    fn a_running_header_of_three_lines_goes_whole() {
        let body = "A body line of the page, long enough to be the text most of it is set in.";
        let pages: Vec<Vec<Segment>> = (1..=4)
            .map(|n| {
                vec![
                    seg("TCPDF Example 055", 25.1),
                    seg("by Nicola Asuni - Tecnick.com", 37.7),
                    seg("www.tcpdf.org", 50.2),
                    seg(body, 120.0),
                    seg(body, 600.0),
                    seg(&(40 + n).to_string(), 700.0 + 7.0 * n as f32),
                    seg("Powered by TCPDF", 790.0),
                    seg(&n.to_string(), 805.0),
                ]
            })
            .collect();
        let views: Vec<(&[Segment], f32)> = pages.iter().map(|p| (&p[..], 841.9)).collect();
        assert_eq!(furniture(&views), vec![vec![0, 1, 2, 6, 7]; 4]);
    }

    /// LaTeX sets the page number on A4 83% down the page, 30 points under the text: a page
    /// number alone on its line is looked for a quarter of the page from the edge.
    #[test]
    fn a_page_number_further_in_is_found() {
        let body = "A body line of the page, long enough to be the text most of it is set in.";
        let pages: Vec<Vec<Segment>> = (1..=3)
            .map(|n| {
                vec![
                    seg(body, 100.0),
                    seg(body, 672.0),
                    seg(&n.to_string(), 702.6),
                ]
            })
            .collect();
        let pages: Vec<(&[Segment], f32)> = pages.iter().map(|p| (&p[..], 841.9)).collect();
        assert_eq!(furniture(&pages), vec![vec![2]; 3]);
    }

    /// A manual's running headers: the book's title over the even pages, over the odd ones the
    /// chapter's, each on a few pages only. Where the title stands, a chapter's repeated
    /// header is one too; a line repeated as often elsewhere is not.
    #[test]
    fn a_chapters_header_beside_the_books_is_furniture() {
        let body = "A body line of the page, long enough to be the text most of it is set in.";
        let chapters = [
            "Introduction",
            "Spreadsheet-like data",
            "Relational databases",
            "Connections",
        ];
        let pages: Vec<Vec<Segment>> = (0..16)
            .map(|p| {
                let header = match p % 2 {
                    0 => format!("R Data Import/Export {p}"),
                    _ => format!("Chapter {}: {} {p}", p / 4 + 1, chapters[p / 4]),
                };
                let mut page = vec![seg(&header, 30.0), seg(body, 100.0), seg(body, 112.0)];
                // A line lower on two pages, at no header's place.
                if p == 3 || p == 9 {
                    page.push(seg("See also the appendix", 700.0));
                }
                page
            })
            .collect();
        let pages: Vec<(&[Segment], f32)> = pages.iter().map(|p| (&p[..], 800.0)).collect();
        let found = furniture(&pages);
        for (p, lines) in found.iter().enumerate() {
            assert_eq!(lines, &vec![0], "page {p}");
        }
    }

    /// A heading at the top of each page that differs from the others only in its number
    /// (`Chapter 1`, `Chapter 2`), set larger than the body, is no running header; one at the
    /// body's size, or the same heading on every page, is.
    #[test]
    fn a_heading_of_each_page_numbered_apart_is_kept() {
        let sized = |text: &str, y: f32, size: f32| Segment {
            size,
            ..seg(text, y)
        };
        let body = "A body line of the page, long enough to be the text most of it is set in.";
        let pages_with = |heading: &dyn Fn(usize) -> String, size: f32| -> Vec<Vec<Segment>> {
            (1..=4)
                .map(|n| {
                    vec![
                        sized(&heading(n), 40.0, size),
                        sized(body, 120.0, 10.0),
                        sized(body, 134.0, 10.0),
                    ]
                })
                .collect()
        };
        let found = |pages: &[Vec<Segment>]| {
            let pages: Vec<(&[Segment], f32)> = pages.iter().map(|p| (&p[..], 800.0)).collect();
            furniture(&pages)
        };
        let chapters = pages_with(&|n| format!("Chapter {n}"), 18.0);
        assert!(found(&chapters).iter().all(Vec::is_empty));
        let running = pages_with(&|n| format!("Annual report {n}"), 10.0);
        assert!(found(&running).iter().all(|lines| lines == &[0]));
        let same = pages_with(&|_| "Annual report".to_owned(), 18.0);
        assert!(found(&same).iter().all(|lines| lines == &[0]));
        // Large, but it says it is the page's: a running header.
        let paged = pages_with(&|n| format!("Annual Report 2024 - Page {n}"), 18.0);
        assert!(found(&paged).iter().all(|lines| lines == &[0]));
    }

    /// The sliding window finds the cluster that counting each start's window afresh finds.
    #[test]
    fn the_densest_cluster_is_found_in_one_pass() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for _ in 0..200 {
            let count = 1 + next(40) as usize;
            let mut places: Vec<(f32, f32, usize)> = (0..count)
                .map(|_| (next(60) as f32, 2.0 + next(20) as f32, next(12) as usize))
                .collect();
            places.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut naive = (0, 0, 0);
            for (start, &(first, tolerance, _)) in places.iter().enumerate() {
                let end = start
                    + places[start..]
                        .iter()
                        .take_while(|p| p.0 - first <= tolerance)
                        .count();
                let pages: HashSet<usize> = places[start..end].iter().map(|p| p.2).collect();
                if pages.len() > naive.2 {
                    naive = (start, end, pages.len());
                }
            }
            assert_eq!(densest_cluster(&places), naive, "{places:?}");
        }
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

    /// A table's rows: `PN-0000 | Widget model 0 gadget | 3` from `first`, 18 points apart,
    /// starting at `top`.
    fn table(first: usize, count: usize, top: f32) -> Vec<Segment> {
        let mut out = Vec::new();
        for (k, i) in (first..first + count).enumerate() {
            let y = top + 18.0 * k as f32;
            out.push(Segment::plain(&format!("PN-{i:04}"), 50.0, 100.0, y));
            out.push(Segment::plain(
                &format!("Widget model {i} gadget"),
                150.0,
                260.0,
                y,
            ));
            out.push(Segment::plain(&format!("{}", i % 7 + 1), 300.0, 306.0, y));
        }
        out
    }

    #[test]
    fn rows_of_a_long_table_at_the_page_ends_are_kept() {
        let header = |y: f32| {
            vec![
                Segment::plain("Part number", 50.0, 110.0, y),
                Segment::plain("Description", 150.0, 210.0, y),
                Segment::plain("Quantity", 300.0, 340.0, y),
            ]
        };
        let mut p1 = vec![Segment::plain("Catalogue", 50.0, 150.0, 60.0)];
        p1.extend(header(100.0));
        p1.extend(table(0, 38, 118.0));
        let mut pages: Vec<Vec<Segment>> = vec![p1];
        for first in [38, 76, 114] {
            let mut page = header(60.0);
            page.extend(table(first, 40, 78.0));
            pages.push(page);
        }
        let views: Vec<(&[Segment], f32)> = pages.iter().map(|p| (&p[..], 842.0)).collect();
        let found = furniture(&views);
        // Only the header repeated at the top of later pages may go; never a data row, and
        // not the first page's header.
        assert!(found[0].is_empty(), "{found:?}");
        for (page, lines) in pages.iter().zip(&found).skip(1) {
            assert!(
                lines.iter().all(|&i| page[i].y == 60.0),
                "{:?}",
                lines.iter().map(|&i| &page[i].text).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_body_line_at_the_edges_of_two_pages_is_kept() {
        let line =
            "ance and consistency. Administrators frequently misunderstand the interrelationships";
        let body = |first: &str, last: &str| {
            let mut page = vec![seg("Zephyr Manual", 40.0), seg(first, 80.0)];
            for k in 1..50 {
                page.push(seg(
                    &format!("filler line {k} of the body text here"),
                    80.0 + 14.0 * k as f32,
                ));
            }
            page.push(seg(last, 80.0 + 14.0 * 50.0));
            page.push(seg("Page 1 of 4", 810.0));
            page
        };
        let pages = [
            body("Intro words start the page here", line),
            body(line, "tail words end the page, then"),
            body("Fresh start of a page here", line),
            body(
                "frequently misunderstand the interrelationships",
                "Last line.",
            ),
        ];
        let views: Vec<(&[Segment], f32)> = pages.iter().map(|p| (&p[..], 842.0)).collect();
        let found = furniture(&views);
        for (page, lines) in pages.iter().zip(&found) {
            let texts: Vec<&str> = lines.iter().map(|&i| page[i].text.as_str()).collect();
            assert_eq!(texts, ["Zephyr Manual", "Page 1 of 4"]);
        }
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
