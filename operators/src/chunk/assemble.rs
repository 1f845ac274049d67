//! From pieces to chunks: merging small pieces, annotating, `embed_text`, the debug record.

use super::annotate::{ChunkIds, ElementIndex};
use super::config::Settings;
use super::debug;
use super::markup::Visible;
use super::sizer::{Sizer, is_word_char};
use super::strategy::{HEADER_JOIN, Outcome, Piece};
use super::unshown::UnshownMarkup;
use std::collections::HashSet;

use crate::model::{Chunk, ChunkSet, Metadata, ParsedDocument};

/// Merges pieces under `min_size` with a neighbour, left to right, when the merged span fits
/// in `size`. Tables never merge, nor do pieces on either side of one of `apart` (the edges
/// of a table of contents). Pieces that overlap merge too: the merged span holds both, and
/// what the small one repeated of its neighbour is said once.
pub(super) fn merge_small(
    pieces: Vec<Piece>,
    text: &str,
    sizer: &dyn Sizer,
    settings: &Settings,
    apart: &[usize],
) -> Vec<Piece> {
    if settings.min_size == 0 {
        return pieces;
    }
    let size_of = |[s, e]: [usize; 2]| text.get(s..e).map_or(0, |t| sizer.size(t));
    let mut out: Vec<(Piece, usize)> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let piece_size = size_of(piece.span);
        if let Some((last, last_size)) = out.last_mut()
            && !last.table
            && !piece.table
            && (*last_size < settings.min_size || piece_size < settings.min_size)
            && !between(apart, last.span[1], piece.span[0])
        {
            let merged = [last.span[0], piece.span[1]];
            let merged_size = size_of(merged);
            if merged_size <= settings.size {
                last.span = merged;
                *last_size = merged_size;
                continue;
            }
        }
        out.push((piece, piece_size));
    }
    out.into_iter().map(|(piece, _)| piece).collect()
}

/// Whether one of the ascending positions `cuts` lies in `[from, to]`.
fn between(cuts: &[usize], from: usize, to: usize) -> bool {
    let first = cuts.partition_point(|&at| at < from);
    cuts.get(first).is_some_and(|&at| at <= to)
}

/// The blank line between a context header and the text.
const CONTEXT_JOIN: &str = "\n\n";

/// Units of `size` kept for the context header (`context_header: true`, else 0): the longest
/// the document's sections give, with the blank line after it, but at most a quarter of
/// `size` (a longer header is shortened to fit, see [`fitted_header`]).
pub(super) fn header_room(doc: &ParsedDocument, sizer: &dyn Sizer, settings: &Settings) -> usize {
    if !settings.context_header {
        return 0;
    }
    let mut sections: HashSet<&[String]> = (doc.elements.iter())
        .map(|e| e.section.as_slice())
        .collect();
    sections.insert(&[]);
    let title = doc.title.as_deref();
    (sections.into_iter())
        .map(|section| context_header(title, section))
        .filter(|header| !header.is_empty())
        .map(|header| sizer.size(&(header + CONTEXT_JOIN)))
        .max()
        .unwrap_or(0)
        .min(settings.size / 4)
}

/// `header` within `room` units with the blank line after it: whole, else without its
/// outermost parts (the title first: the nearest sections say most of where the text is),
/// else its last part cut short; `None` when not even that fits.
fn fitted_header(header: String, room: usize, sizer: &dyn Sizer) -> Option<String> {
    let fits = |header: &str| sizer.size(&format!("{header}{CONTEXT_JOIN}")) <= room;
    if fits(&header) {
        return Some(header);
    }
    let parts: Vec<&str> = header.split(" > ").collect();
    for from in 1..parts.len() {
        let shorter = parts[from..].join(" > ");
        if fits(&shorter) {
            return Some(shorter);
        }
    }
    let last = parts.last()?;
    let join = sizer.size(CONTEXT_JOIN);
    let end = sizer.fit(last, 0, room.checked_sub(join)?);
    let cut = last.get(..end)?;
    // At a word's end: back to the last space when the cut falls inside a word (a CJK
    // ideograph or kana is a word of its own); none when it leaves no whole word.
    let inside_word = last[end..]
        .chars()
        .next()
        .is_some_and(|c| !c.is_whitespace())
        && !cut.chars().next_back().is_some_and(is_word_char);
    let cut = match inside_word {
        true => &cut[..cut.rfind(char::is_whitespace)?],
        false => cut,
    }
    .trim_end();
    (!cut.is_empty() && fits(cut)).then(|| cut.to_owned())
}

/// The chunk set of `doc` from its final pieces and its link markup, `room` units of `size`
/// kept for each chunk's context header.
#[allow(clippy::too_many_arguments)]
pub(super) fn chunk_set(
    doc: &ParsedDocument,
    pieces: Vec<Piece>,
    links: &UnshownMarkup,
    sizer: &dyn Sizer,
    settings: &Settings,
    room: usize,
    fingerprint: &str,
    outcome: Outcome,
    strategy: &'static str,
) -> ChunkSet {
    let text = doc.markdown.as_str();
    let index = ElementIndex::new(&doc.elements);
    let mut ids = ChunkIds::new(&doc.doc_id, fingerprint);
    let mut visible = Visible::new(text);
    let chunks: Vec<Chunk> = pieces
        .into_iter()
        .filter_map(|piece| {
            let [s, e] = piece.span;
            text.get(s..e).map(|chunk_text| (piece, chunk_text))
        })
        .enumerate()
        .map(|(ordinal, (piece, chunk_text))| {
            let span = piece.span;
            // Leading markup (an anchor, a page marker) does not decide the section.
            let start = visible.start(span, &index).unwrap_or(span[0]);
            let section = index.section_at(start);
            let sections = index.sections([start.max(span[0]), span[1]], &section);
            let (pages, kinds) = index.pages_and_kinds(span);
            let header = piece
                .header
                .and_then(|[hs, he]| Some((text.get(hs..he)?, [hs, he])));
            let context = settings
                .context_header
                .then(|| context_header(doc.title.as_deref(), &section))
                .filter(|c| !c.is_empty())
                .and_then(|c| fitted_header(c, room, sizer));
            // What links and images show is embedded, not their targets.
            let shown = links.shown(text, span);
            let embed_text = match (context, header, shown) {
                (None, None, shown) => shown,
                (context, header, shown) => {
                    let mut out = String::new();
                    if let Some(context) = context {
                        out.push_str(&context);
                        out.push_str(CONTEXT_JOIN);
                    }
                    if let Some((header, header_span)) = header {
                        out.push_str(
                            &(links.shown(text, header_span)).unwrap_or_else(|| header.to_owned()),
                        );
                        out.push_str(HEADER_JOIN);
                    }
                    out.push_str(shown.as_deref().unwrap_or(chunk_text));
                    Some(out)
                }
            };
            Chunk {
                chunk_id: ids.id(span),
                doc_id: doc.doc_id.clone(),
                ordinal,
                text: chunk_text.to_string(),
                embed_text,
                span,
                section,
                sections,
                pages,
                tokens: sizer.size(chunk_text),
                kinds,
                // An empty map clones at a cost; a new one is free.
                metadata: if doc.metadata.is_empty() {
                    Metadata::new()
                } else {
                    doc.metadata.clone()
                },
            }
        })
        .collect();
    // The record tells the size chunks were cut to, and the room kept for the header.
    let mut outcome = outcome;
    if room > 0 {
        outcome
            .extra
            .insert("context_header_room".into(), room.into());
    }
    let debug = debug::record(
        strategy,
        outcome,
        &settings.less(room),
        &chunks,
        text,
        &index,
    );
    ChunkSet {
        doc_id: doc.doc_id.clone(),
        source: doc.source.clone(),
        title: doc.title.clone(),
        hash: doc.hash.clone(),
        chunks,
        debug: Some(debug),
    }
}

/// "Title > Section > Subsection": the title, then the section path without a leading
/// heading equal to the title.
fn context_header(title: Option<&str>, section: &[String]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(title) = title.map(str::trim).filter(|t| !t.is_empty()) {
        parts.push(title);
    }
    let skip = usize::from(
        parts
            .first()
            .zip(section.first())
            .is_some_and(|(t, s)| *t == s.trim()),
    );
    parts.extend(section.iter().skip(skip).map(|s| s.trim()));
    parts.join(" > ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_headers() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            context_header(Some("Guide"), &s(&["Guide", "Install"])),
            "Guide > Install"
        );
        assert_eq!(context_header(Some("Doc"), &s(&["A"])), "Doc > A");
        assert_eq!(context_header(None, &s(&["A", "B"])), "A > B");
        assert_eq!(context_header(None, &[]), "");
    }

    /// A header too long for its room loses its outer parts, then is cut at a word's end (it
    /// was cut inside a word: `… Section h`).
    #[test]
    fn headers_are_fitted_whole_part_by_part_then_by_words() {
        use super::super::sizer::CharSizer;
        let fit = |header: &str, room| fitted_header(header.to_owned(), room, &CharSizer);
        assert_eq!(
            fit("Guide > Install", 17).as_deref(),
            Some("Guide > Install")
        );
        assert_eq!(fit("Guide > Install", 16).as_deref(), Some("Install"));
        assert_eq!(
            fit("A very long section heading", 16).as_deref(),
            Some("A very long")
        );
        assert_eq!(fit("Unbreakable", 5), None);
    }

    /// A piece under `min_size` merges with the neighbour it overlaps when the merged span
    /// fits in `size` (a short first chunk whose text the next one repeats as overlap stood
    /// alone); one that would not fit stays.
    #[test]
    fn a_small_piece_merges_with_the_neighbour_it_overlaps() {
        let text = "x".repeat(900);
        let piece = |span| Piece {
            span,
            table: false,
            header: None,
        };
        let merged = |size| {
            let settings = Settings {
                min_size: 50,
                overlap: 30,
                ..Settings::chars(size)
            };
            let pieces = vec![piece([0, 40]), piece([20, 700]), piece([701, 869])];
            merge_small(
                pieces,
                &text,
                &crate::chunk::sizer::CharSizer,
                &settings,
                &[],
            )
            .into_iter()
            .map(|piece| piece.span)
            .collect::<Vec<_>>()
        };
        assert_eq!(merged(800), [[0, 700], [701, 869]]);
        assert_eq!(merged(690), [[0, 40], [20, 700], [701, 869]]);
    }
}
