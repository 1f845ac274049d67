//! Headings bind to what follows them: a chunk may end before a heading, not between it and
//! its section's first content; a heading whose section is empty (another heading follows it
//! directly) binds to that next heading, and so on to the first content.

use crate::model::{ElementKind, ParsedDocument};

/// The byte ranges `(from, to]` where a break would part a heading from its content: from a
/// heading's start to the start of the first content after it (an element other than a
/// heading or a page break, with text), or to the end of the text when none follows. Sorted
/// and disjoint: the headings of empty sections and the heading after them make one range.
pub(super) fn glued(doc: &ParsedDocument) -> Vec<[usize; 2]> {
    let len = doc.markdown.len();
    let mut elements: Vec<_> = doc.elements.iter().collect();
    elements.sort_by_key(|e| e.span[0]);
    let mut ranges = Vec::new();
    let mut content = len;
    for e in elements.iter().rev() {
        let start = e.span[0].min(len);
        match e.kind {
            ElementKind::Heading if start < content && doc.markdown.is_char_boundary(start) => {
                ranges.push([start, content])
            }
            ElementKind::Heading | ElementKind::PageBreak => {}
            _ if e.text.trim().is_empty() => {}
            _ => content = start,
        }
    }
    ranges.reverse();
    ranges.extend(fences(doc));
    ranges.sort_unstable();
    let mut merged: Vec<[usize; 2]> = Vec::with_capacity(ranges.len());
    for [from, to] in ranges {
        match merged.last_mut() {
            Some(last) if from <= last[1] => last[1] = last[1].max(to),
            _ => merged.push([from, to]),
        }
    }
    merged
}

/// The fence lines of fenced code blocks, as ranges that hold no break: a chunk cut before a
/// closing fence left the next chunk nothing new but the fence (`` ``` ``), and one cut after
/// an opening fence was nothing but the fence.
fn fences(doc: &ParsedDocument) -> impl Iterator<Item = [usize; 2]> + '_ {
    let text = doc.markdown.as_str();
    let is_fence = |line: &str| {
        let fence = line.trim();
        fence.len() >= 3
            && (fence.starts_with("```") || fence.starts_with("~~~"))
            && (fence.bytes().all(|b| b == b'`') || fence.bytes().all(|b| b == b'~'))
    };
    doc.elements
        .iter()
        .filter(|e| e.kind == ElementKind::Code)
        .flat_map(move |e| {
            let [start, end] = e.span;
            let block = text.get(start..end).unwrap_or_default().trim_end();
            let last = block.rfind('\n').map_or(0, |i| i + 1);
            let closing = (last > 0 && is_fence(&block[last..]))
                .then_some([start + last - 1, start + block.len()]);
            // An opening fence may carry an info string (```rust).
            let first = block.find('\n').unwrap_or(block.len());
            let opening = (first < block.len()
                && (block.starts_with("```") || block.starts_with("~~~")))
            .then_some([start, start + first + 1]);
            opening.into_iter().chain(closing)
        })
}

/// The range of `glued` (sorted, disjoint) that holds `at` (`from < at <= to`).
pub(super) fn holding(glued: &[[usize; 2]], at: usize) -> Option<[usize; 2]> {
    let count = glued.partition_point(|g| g[0] < at);
    count
        .checked_sub(1)
        .map(|i| glued[i])
        .filter(|g| at <= g[1])
}

#[cfg(test)]
mod tests {
    use super::super::tests::parsed;
    use super::*;

    #[test]
    fn a_heading_binds_to_its_first_content() {
        let md =
            "Intro.\n\n# Part I\n\n## Chapter 1\n\nText one.\n\n## Chapter 2\n\n- item\n\n# End\n";
        let doc = parsed("h.md", md);
        let at = |s: &str| md.find(s).unwrap();
        let glued = glued(&doc);
        assert_eq!(
            glued,
            vec![
                [at("# Part"), at("Text one")],
                [at("## Chapter 2"), at("- item")],
                [at("# End"), md.len()],
            ]
        );
        assert_eq!(holding(&glued, at("# Part")), None);
        assert_eq!(holding(&glued, at("## Chapter 1")), Some(glued[0]));
        assert_eq!(holding(&glued, at("Text one")), Some(glued[0]));
        assert_eq!(holding(&glued, at("Text one") + 1), None);
    }
}
