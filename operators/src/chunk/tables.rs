//! Tables as pieces of their own (`tables: own_chunk`).
//!
//! A table that fits in `size` is one piece; a larger one is split between rows (lines),
//! without overlap, leaving room for the header rows that continuation pieces repeat in
//! `embed_text`. The headings right before a table (bound to it as their first content, see
//! `headings`) begin its first piece when they fit with its header rows and first row, so that
//! no heading stands alone before its table; else they are a piece of their own.

use super::recursive::{split_range, trim};
use super::strategy::{HEADER_JOIN, Piece, Work};

impl Work<'_> {
    /// The table at `table`, led by the headings from `from` (`from == table[0]`: none).
    pub(super) fn led_table_pieces(&mut self, from: usize, table: [usize; 2]) {
        let [s, e] = trim(self.text, table[0], table[1]);
        let [ls, le] = trim(self.text, from, table[0]);
        if ls >= le || s >= e {
            self.text_piece([ls, le]);
            self.table_pieces([s, e], None);
            return;
        }
        let row_end = first_row_end(self.text, [s, e]);
        if self.sizer.fits(&self.text[ls..row_end], self.settings.size) {
            self.table_pieces([s, e], Some(ls));
        } else {
            self.text_piece([ls, le]);
            self.table_pieces([s, e], None);
        }
    }

    /// The table at `range` (trimmed), its first piece starting at `lead` when given (headings
    /// that fit with the header rows and first row).
    fn table_pieces(&mut self, range: [usize; 2], lead: Option<usize>) {
        let [s, e] = trim(self.text, range[0], range[1]);
        if s >= e {
            return;
        }
        let start = lead.unwrap_or(s);
        let size = self.settings.size;
        if self.sizer.fits(&self.text[start..e], size) {
            self.push_table(&[[start, e]], None);
            return;
        }
        let header = table_header(self.text, [s, e]);
        // The room the header takes: with what joins it to the rows in a continuation's
        // `embed_text`, and with what comes before the rows in the first part.
        let header_size = header.map_or(0, |[hs, he]| {
            let joined = [&self.text[hs..he], HEADER_JOIN].concat();
            let rows = e - self.text[he..e].trim_start().len();
            let first = self.sizer.size(&self.text[hs..rows]);
            self.sizer.size(&joined).max(first)
        });
        // Repeat the header only when it takes at most half the budget: the rows after it are
        // split with what the header leaves, the first part keeps the header itself.
        let Some([_, header_end]) = header.filter(|_| header_size * 2 <= size) else {
            let first = size.saturating_sub(self.sizer.size(&self.text[start..s]));
            let mut spans = self.split_first([s, e], first, size);
            if let Some(span) = spans.first_mut() {
                span[0] = start;
            }
            self.push_table(&spans, None);
            return;
        };
        let budget = size - header_size;
        let rows = e - self.text[header_end..e].trim_start().len();
        // The first part holds what comes before its rows (lead and header) itself.
        let first = match lead {
            Some(_) => size.saturating_sub(self.sizer.size(&self.text[start..rows])),
            None => budget,
        };
        let mut spans = self.split_first([header_end, e], first, budget);
        match spans.first_mut() {
            Some(span) => span[0] = start,
            // Nothing after the header rows (cannot happen: such a table fits).
            None => spans.push([start, header_end]),
        }
        self.push_table(&spans[..1], None);
        self.push_table(&spans[1..], header);
    }

    /// `range` split without overlap: the first span within `first` units, the others within
    /// `rest`.
    fn split_first(&mut self, range: [usize; 2], first: usize, rest: usize) -> Vec<[usize; 2]> {
        let mut split = |range: [usize; 2], size: usize| {
            split_range(
                self.text,
                &mut self.breaks,
                &self.barriers,
                self.sizer,
                range,
                size,
                0,
            )
        };
        if first == rest {
            return split(range, rest);
        }
        let mut spans = split(range, first);
        spans.truncate(1);
        if let Some(&[_, end]) = spans.first() {
            spans.extend(split([end, range[1]], rest));
        }
        spans
    }

    /// Table pieces of `spans`, repeating `header` in `embed_text`.
    fn push_table(&mut self, spans: &[[usize; 2]], header: Option<[usize; 2]>) {
        self.pieces.extend(spans.iter().map(|&span| Piece {
            span,
            table: true,
            header,
        }));
    }
}

/// The header rows of the Markdown table at `span`: its first line, plus the delimiter row
/// (`|---|:--|`) after it when there is one.
fn table_header(text: &str, span: [usize; 2]) -> Option<[usize; 2]> {
    let table = text.get(span[0]..span[1])?;
    let first_end = table.find('\n')?;
    let rest = &table[first_end + 1..];
    let second_len = rest.find('\n').unwrap_or(rest.len());
    let second = &rest[..second_len];
    let is_delimiter = !second.trim().is_empty()
        && second
            .trim()
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'));
    let end = if is_delimiter {
        first_end + 1 + second_len
    } else {
        first_end
    };
    let [hs, he] = trim(text, span[0], span[0] + end);
    (hs < he).then_some([hs, he])
}

/// The end of the first row after the header rows of the table at `span` (trimmed), or of the
/// table when it has no other row.
pub(super) fn first_row_end(text: &str, span: [usize; 2]) -> usize {
    let rows = table_header(text, span).map_or(span[0], |[_, he]| he);
    let Some(rest) = text.get(rows..span[1]) else {
        return span[1];
    };
    let start = rows + (rest.len() - rest.trim_start().len());
    let line = text[start..span[1]]
        .find('\n')
        .map_or(span[1], |i| start + i);
    trim(text, start, line)[1].max(start)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::tests::parsed;
    use super::super::{Chunker, Settings, Strategy};
    use crate::embed::hash::HashEmbedder;
    use crate::model::ChunkSet;

    const DOC: &str = "# Report\n\nIntro text here.\n\n## Results\n\n| name | value |\n|------|-------|\n\
                       | a | 1 |\n| b | 2 |\n| c | 3 |\n\nAfter the table.\n";

    fn chunks(strategy: Strategy, size: usize) -> ChunkSet {
        Chunker::new(strategy, Settings::chars(size), None, "fp")
            .unwrap()
            .chunk(&parsed("r.md", DOC))
            .unwrap()
    }

    fn texts(set: &ChunkSet) -> Vec<&str> {
        set.chunks.iter().map(|c| c.text.as_str()).collect()
    }

    #[test]
    fn a_heading_right_before_a_table_leads_its_chunk() {
        let table = &DOC[DOC.find("| name").unwrap()..DOC.find("\n\nAfter").unwrap()];
        let semantic = Strategy::Semantic {
            percentile: 50.0,
            embedder: Arc::new(HashEmbedder::new(64)),
        };
        for strategy in [
            Strategy::Recursive,
            Strategy::ByHeading { level: 2 },
            semantic,
            Strategy::Smart,
        ] {
            let set = chunks(strategy, 100);
            let texts = texts(&set);
            assert!(!texts.contains(&"## Results"), "{texts:?}");
            assert!(
                texts.contains(&format!("## Results\n\n{table}").as_str()),
                "{texts:?}"
            );
            assert!(texts.contains(&"After the table."));
            assert_eq!(set.debug.unwrap().table_chunks, 1);
        }
    }

    #[test]
    fn a_heading_leads_the_first_part_of_a_split_table() {
        // The table fits in 70, with its heading it does not: the first part takes the heading,
        // the header rows and as many rows as fit; the next part repeats the header rows.
        let set = chunks(Strategy::Recursive, 70);
        assert_eq!(
            texts(&set)[1..],
            [
                "## Results\n\n| name | value |\n|------|-------|\n| a | 1 |\n| b | 2 |",
                "| c | 3 |",
                "After the table."
            ]
        );
        let header = "| name | value |\n|------|-------|\n";
        assert_eq!(set.chunks[2].embed_text, Some(format!("{header}| c | 3 |")));
        assert!(set.chunks.iter().all(|c| c.tokens <= 70));
    }

    #[test]
    fn a_heading_without_room_for_the_first_row_stands_alone() {
        // 12 + 34 + 9 chars for the heading, the header rows and the first row.
        let set = chunks(Strategy::Recursive, 54);
        assert!(texts(&set).contains(&"## Results"), "{:?}", texts(&set));
        assert!(set.chunks.iter().all(|c| c.tokens <= 54));
        let set = chunks(Strategy::Recursive, 55);
        assert!(
            texts(&set)[1]
                .starts_with("## Results\n\n| name | value |\n|------|-------|\n| a | 1 |")
        );
    }
}
