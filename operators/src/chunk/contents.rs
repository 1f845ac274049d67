//! Tables of contents stand apart: a chunk never holds both contents entries and other text,
//! so that `index.hybrid`, which leaves out chunks made only of contents entries, drops a whole
//! table of contents and keeps everything else (the end of a book's contents and its first
//! chapter made one chunk, indexed for the contents' words).

use super::headings;
use crate::model::{ElementKind, ParsedDocument};

/// Where text parts are cut so that no chunk spans the edge of a table of contents: each run
/// of contents entries starts a part (with the headings bound to it, `## Contents`) and ends
/// one (after its last entry). Headings and page breaks between entries keep a run going.
/// Ascending, inside the markdown.
pub(super) fn cuts(doc: &ParsedDocument, glued: &[[usize; 2]]) -> Vec<usize> {
    let len = doc.markdown.len();
    let mut elements: Vec<_> = doc.elements.iter().collect();
    elements.sort_by_key(|e| e.span[0]);
    let mut cuts = Vec::new();
    // The open run's end, while one is open.
    let mut open: Option<usize> = None;
    for element in elements {
        let [start, end] = element.span.map(|at| at.min(len));
        match element.kind {
            ElementKind::ContentsEntry => {
                if open.is_none() {
                    let from = match headings::holding(glued, start) {
                        Some([from, to]) if to == start => from,
                        _ => start,
                    };
                    cuts.push(from);
                }
                open = Some(end);
            }
            ElementKind::Heading | ElementKind::PageBreak => {}
            _ if element.text.trim().is_empty() => {}
            _ => {
                if let Some(end) = open.take() {
                    cuts.push(end);
                }
            }
        }
    }
    cuts.extend(open);
    cuts.retain(|&at| doc.markdown.is_char_boundary(at));
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[cfg(test)]
mod tests {
    use super::super::strategy::cut_range;
    use super::super::tests::parsed;
    use super::*;
    use crate::chunk::{Chunker, Settings, Strategy};

    /// The chunks of `doc` by `strategy` and `settings`, and their texts for messages.
    fn chunked(
        doc: &ParsedDocument,
        strategy: Strategy,
        settings: Settings,
    ) -> (Vec<crate::model::Chunk>, String) {
        let set = Chunker::new(strategy, settings, None, "fp")
            .unwrap()
            .chunk(doc)
            .unwrap();
        let texts: Vec<&str> = set.chunks.iter().map(|c| c.text.as_str()).collect();
        let shown = format!("{texts:?}");
        (set.chunks, shown)
    }

    const README: &str = "# Tool\n\nA tool.\n\n## Contents\n\n- [Install](#install)\n- [Usage](#usage)\n- [FAQ](#faq)\n\n## Install\n\nRun the installer.\n\n## Usage\n\nRun the tool.\n\n## FAQ\n\nNone yet.\n";

    #[test]
    fn a_table_of_contents_is_cut_out_with_its_heading() {
        let doc = parsed("README.md", README);
        let cuts = cuts(&doc, &headings::glued(&doc));
        let at = |text: &str| README.find(text).unwrap();
        assert_eq!(
            cuts,
            [at("## Contents"), at("[FAQ](#faq)") + "[FAQ](#faq)".len()]
        );
        assert_eq!(
            cut_range([0, README.len()], &cuts),
            [[0, cuts[0]], [cuts[0], cuts[1]], [cuts[1], README.len()]]
        );
        assert_eq!(cut_range([0, cuts[0]], &cuts), [[0, cuts[0]]]);
    }

    /// However large the chunks, the contents are a chunk of their own, which is contents;
    /// every other chunk holds none of it.
    #[test]
    fn no_chunk_holds_contents_and_other_text() {
        let doc = parsed("README.md", README);
        for strategy in [Strategy::Recursive, Strategy::ByHeading { level: 1 }] {
            let (chunks, texts) = chunked(&doc, strategy, Settings::chars(2_000));
            assert_eq!(chunks.len(), 3, "{texts}");
            assert!(chunks[1].is_contents(), "{texts}");
            assert!(chunks[1].text.starts_with("## Contents"), "{texts}");
            for chunk in [&chunks[0], &chunks[2]] {
                assert!(
                    !chunk.kinds.contains(&ElementKind::ContentsEntry),
                    "{texts}"
                );
            }
        }
    }

    /// Small chunks with overlap: text right after the contents, in its section, repeats none
    /// of it (each part is split on its own, so overlap stays inside it), and no chunk mixes
    /// the two.
    #[test]
    fn overlap_stops_at_the_end_of_the_contents() {
        let markdown = "## Contents\n\n- [Install](#install)\n- [Usage](#usage)\n- [FAQ](#faq)\n\nThe rest of this page explains each step in turn. Every step has an example.\n\n## Install\n\n## Usage\n";
        let doc = parsed("README.md", markdown);
        let settings = Settings {
            overlap: 20,
            ..Settings::chars(50)
        };
        let (chunks, texts) = chunked(&doc, Strategy::Recursive, settings);
        assert!(chunks.iter().any(|c| c.is_contents()), "{texts}");
        for chunk in &chunks {
            let entries = chunk.kinds.contains(&ElementKind::ContentsEntry);
            assert!(!entries || chunk.is_contents(), "{texts}");
        }
    }

    /// Small pieces merge with their neighbours (`min_size`), but not across the edges of a
    /// table of contents.
    #[test]
    fn small_pieces_do_not_merge_into_the_contents() {
        let doc = parsed("README.md", README);
        let settings = Settings {
            min_size: 1_000,
            ..Settings::chars(2_000)
        };
        let (chunks, texts) = chunked(&doc, Strategy::ByHeading { level: 2 }, settings);
        assert_eq!(chunks.len(), 3, "{texts}");
        assert!(chunks[1].is_contents(), "{texts}");
    }
}
