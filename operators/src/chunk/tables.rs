//! Tables as pieces of their own (`tables: own_chunk`), and no piece of a table that shows
//! no text (either setting).
//!
//! A table that fits in `size` is one piece. A larger one is split between rows, without
//! overlap: the first part holds the header rows (the first line and the delimiter row after
//! it, which never part) and the rows that fit with them; every later part begins with a
//! row and holds the rows that fit with it while the header rows still fit in front of them,
//! so that its `embed_text` repeats the header rows within `size`. A row that fits in `size`
//! but not with the header rows is a part of its own without them; a row larger than `size`
//! is split at the best breaks inside it (its first piece in the first part, after the header
//! rows, when no row came before it), its pieces repeating the header rows within `size` when
//! these take at most half of it. Header rows larger than `size` are split the same way,
//! without repetition. The headings right before a table (bound to it as their first
//! content, see `headings`) begin its first piece when they fit with its header rows and
//! first row, so that no heading stands alone before its table; else they are a piece of
//! their own.
//!
//! A piece of a table that shows no text (only pipes, dashes, colons and whitespace: a
//! delimiter row, the closing `|` of a row cut inside, a row of empty cells) joins a
//! neighbour ([`Work::join_bare`]): the previous piece when the result fits, else the next
//! one, else the cut before it moves back to an earlier break (or the cut after it forward),
//! so that the piece takes text along. The same holds for a table split inline with the text
//! around it (`tables: inline`).

use super::breaks::{LINE, WORD};
use super::recursive::{skip_whitespace, split_range, trim};
use super::scan::before;
use super::strategy::{HEADER_JOIN, Piece, Work};
use crate::model::ElementKind;

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
        // The earliest heading of the lead that fits with the header rows and first row leads
        // the table; the headings before it (an empty section's) are text of their own.
        let mut starts: Vec<usize> = (self.doc.elements.iter())
            .filter(|el| el.kind == ElementKind::Heading)
            .map(|el| el.span[0])
            .filter(|&start| ls < start && start < le)
            .collect();
        starts.sort_unstable();
        let lead = std::iter::once(ls).chain(starts).find(|&start| {
            self.sizer
                .fits(&self.text[start..row_end], self.settings.size)
        });
        match lead {
            Some(lead) => {
                if lead > ls {
                    self.text_piece([ls, lead]);
                }
                self.table_pieces([s, e], Some(lead));
            }
            None => {
                self.text_piece([ls, le]);
                self.table_pieces([s, e], None);
            }
        }
    }

    /// The caption set under the table at `table`, up to `until`: in the table's last piece
    /// when it fits there, else a piece of its own.
    pub(super) fn caption_after_pieces(&mut self, table: [usize; 2], until: usize) {
        let [cs, ce] = trim(self.text, table[1], until);
        if cs >= ce {
            return;
        }
        let room = self.header_room(table_header(self.text, trim(self.text, table[0], table[1])));
        if let Some(last) = self.pieces.last()
            && last.table
            && last.span[1] <= cs
            && self.part_fits([last.span[0], ce], last.header.is_some(), room)
            && let Some(last) = self.pieces.last_mut()
        {
            last.span[1] = ce;
            return;
        }
        self.text_piece([cs, ce]);
    }

    /// The room a table's header rows at `header` take in a later part's `embed_text`, with
    /// what joins them to its rows.
    fn header_room(&self, header: Option<[usize; 2]>) -> usize {
        header.map_or(0, |[hs, he]| {
            self.sizer.size(&[&self.text[hs..he], HEADER_JOIN].concat())
        })
    }

    /// The table at `range` (trimmed), its first piece starting at `lead` when given (headings
    /// that fit with the header rows and first row).
    fn table_pieces(&mut self, range: [usize; 2], lead: Option<usize>) {
        let [s, e] = trim(self.text, range[0], range[1]);
        if s >= e {
            return;
        }
        let start = lead.unwrap_or(s);
        let size = self.settings.size.max(1);
        if self.sizer.fits(&self.text[start..e], size) {
            self.push_table(&[[start, e]], None);
            return;
        }
        let header = table_header(self.text, [s, e]);
        let rows_start = header.map_or(s, |[_, he]| he);
        let room = self.header_room(header);
        let piece = |span, header| Piece {
            span,
            table: true,
            header,
        };
        let mut parts: Vec<Piece> = Vec::new();
        // The part the next row may join, and whether it holds a row yet.
        let mut open: Option<(Piece, bool)> = None;
        if header.is_some() {
            if self.sizer.fits(&self.text[start..rows_start], size) {
                open = Some((piece([start, rows_start], None), false));
            } else {
                let spans = self.split_first([start, rows_start], size, size);
                parts.extend(spans.into_iter().map(|span| piece(span, None)));
            }
        }
        for row in rows(self.text, [rows_start, e]) {
            if let Some((part, has_row)) = open.as_mut() {
                let with = [part.span[0], row[1]];
                if self.part_fits(with, part.header.is_some(), room) {
                    part.span = with;
                    *has_row = true;
                    continue;
                }
            }
            let last = open.take();
            if header.is_some() && self.part_fits(row, true, room) {
                parts.extend(last.map(|(part, _)| part));
                open = Some((piece(row, header), true));
            } else if self.sizer.fits(&self.text[row[0]..row[1]], size) {
                parts.extend(last.map(|(part, _)| part));
                parts.push(piece(row, None));
            } else {
                // Larger than `size`: split, its pieces repeating the header rows when these
                // take at most half of `size`.
                let (limit, repeat) = match header {
                    Some(_) if room * 2 <= size => (size - room, header),
                    _ => (size, None),
                };
                let mut spans = match last {
                    // The first part, with no row yet: the row's first piece fills it.
                    Some((part, false)) => {
                        let first =
                            size.saturating_sub(self.sizer.size(&self.text[part.span[0]..row[0]]));
                        let mut spans = self.split_first(row, first, limit);
                        match spans.first_mut() {
                            Some(span) if first > 0 && !is_bare(&self.text[span[0]..span[1]]) => {
                                span[0] = part.span[0];
                                parts.push(piece(spans.remove(0), None));
                            }
                            _ => {
                                parts.push(part);
                                spans = self.split_first(row, limit, limit);
                            }
                        }
                        spans
                    }
                    last => {
                        parts.extend(last.map(|(part, _)| part));
                        self.split_first(row, limit, limit)
                    }
                };
                parts.extend(spans.drain(..).map(|span| piece(span, repeat)));
            }
        }
        parts.extend(open.map(|(part, _)| part));
        self.join_bare(&mut parts, room);
        self.pieces.append(&mut parts);
    }

    /// Whether a table part at `span` fits in `size`, with `room` for the header rows in its
    /// `embed_text` when it repeats them.
    fn part_fits(&self, span: [usize; 2], with_header: bool, room: usize) -> bool {
        let room = if with_header { room } else { 0 };
        self.settings.size.max(1) >= room
            && self.sizer.fits(
                &self.text[span[0]..span[1]],
                self.settings.size.max(1) - room,
            )
    }

    /// Pieces of a table that show no text ([`is_bare`]) join a neighbour: the previous piece
    /// when the two fit together, else the next one; else the cut between it and the previous
    /// piece moves back to the best earlier break (or the cut after it forward) that leaves
    /// both within size and the piece with text. `room`: what a piece's header rows take in
    /// its `embed_text`. A bare piece stays only when no neighbour can give it text (a row of
    /// empty cells as large as `size` between rows that fill their own, a delimiter row larger
    /// than `size`), and so does one that overlaps a neighbour (`overlap` with `tables:
    /// inline`).
    pub(super) fn join_bare(&mut self, pieces: &mut Vec<Piece>, room: usize) {
        // A run of bare pieces (rows of empty cells) is one, when it fits; and a bare piece
        // repeats no header rows, which would head nothing.
        let mut i = 0;
        while i < pieces.len() {
            if !self.is_table_markup(pieces[i].span) {
                i += 1;
                continue;
            }
            pieces[i].header = None;
            if let Some(next) = pieces.get(i + 1)
                && pieces[i].span[1] <= next.span[0]
                && self.is_table_markup(next.span)
                && self.part_fits([pieces[i].span[0], next.span[1]], false, room)
            {
                pieces[i].span[1] = next.span[1];
                pieces.remove(i + 1);
                continue;
            }
            i += 1;
        }
        let mut i = 0;
        while i < pieces.len() {
            let span = pieces[i].span;
            // Pieces that overlap (`overlap` inline) are left as they are, and so are their
            // neighbours.
            let apart = |j: usize| {
                let [s, e] = pieces[j].span;
                (j == 0 || pieces[j - 1].span[1] <= s)
                    && pieces.get(j + 1).is_none_or(|next| e <= next.span[0])
            };
            let apart = (i.saturating_sub(1)..(i + 2).min(pieces.len())).all(apart);
            if !apart || !self.is_table_markup(span) {
                i += 1;
                continue;
            }
            if i > 0 {
                let prev = &pieces[i - 1];
                let merged = [prev.span[0], span[1]];
                if self.part_fits(merged, prev.header.is_some(), room) {
                    pieces[i - 1].span = merged;
                    pieces.remove(i);
                    continue;
                }
            }
            if let Some(next) = pieces.get(i + 1) {
                let merged = [span[0], next.span[1]];
                if self.part_fits(merged, next.header.is_some(), room) {
                    pieces[i + 1].span = merged;
                    pieces.remove(i);
                    continue;
                }
            }
            let limit = self.settings.size.max(1);
            // Whole rows of empty cells (not a delimiter row, which goes with its header row)
            // take whole rows along, never a row's last cells: that row fits whole.
            let rows = whole_lines(self.text, span) && {
                let bare = &self.text[span[0]..span[1]];
                bare.matches('|').count() >= 2
                    && bare.chars().all(|c| c == '|' || c.is_whitespace())
            };
            let level = if rows { LINE } else { WORD };
            if i > 0 {
                let prev = pieces[i - 1].span;
                if let Some(at) = self.cut_back(prev, span, limit, level) {
                    pieces[i - 1].span = trim(self.text, prev[0], at);
                    pieces[i].span[0] = at;
                    i += 1;
                    continue;
                }
            }
            if let Some(next) = pieces.get(i + 1)
                && let Some(at) = self.cut_forward(span, next.span, limit, level)
            {
                pieces[i].span[1] = at;
                pieces[i + 1].span[0] = skip_whitespace(self.text, at, pieces[i + 1].span[1]);
                i += 1;
                continue;
            }
            if rows {
                // Rows that show nothing and that nothing can join within `size`: left out
                // rather than a chunk of empty cells.
                pieces.remove(i);
                continue;
            }
            i += 1;
        }
    }

    /// Whether `span` shows no text and lies in a table.
    fn is_table_markup(&self, span: [usize; 2]) -> bool {
        self.text.get(span[0]..span[1]).is_some_and(is_bare)
            && self
                .table_spans
                .iter()
                .any(|t| t[0] < span[1] && span[0] < t[1])
    }

    /// The best break of at least `level` inside `prev` from which the text up to `bare`'s end
    /// fits in `limit` and shows text, with text of `prev` left before it.
    fn cut_back(
        &mut self,
        prev: [usize; 2],
        bare: [usize; 2],
        limit: usize,
        level: u8,
    ) -> Option<usize> {
        let text = self.text;
        let lowest = self.sizer.fit_back(text, bare[1], limit).max(prev[0]);
        // Breaks are looked for after a position: just before the lowest one that fits.
        let after = if lowest > prev[0] {
            before(text, lowest)
        } else {
            prev[0]
        };
        let mut up_to = prev[1];
        while up_to > after {
            let Some((at, found)) = self.breaks.best_level(after, up_to) else {
                break;
            };
            if found < level {
                return None;
            }
            let [s, e] = trim(text, prev[0], at);
            if s < e && !is_bare(&text[at..bare[1]]) {
                return Some(at);
            }
            up_to = before(text, at);
        }
        if level > WORD {
            return None;
        }
        // No break will do: the last char of `prev` (the end of a word cut inside).
        let at = before(text, prev[1]);
        let [s, e] = trim(text, prev[0], at);
        (at >= lowest && s < e && !is_bare(&text[at..bare[1]])).then_some(at)
    }

    /// The best break of at least `level` inside `next` up to which the text from `bare`'s
    /// start fits in `limit` and shows text, with text of `next` left after it.
    fn cut_forward(
        &mut self,
        bare: [usize; 2],
        next: [usize; 2],
        limit: usize,
        level: u8,
    ) -> Option<usize> {
        let text = self.text;
        let mut up_to = self.sizer.fit(text, bare[0], limit).min(next[1]);
        while up_to > next[0] {
            let (at, found) = self.breaks.best_level(next[0], up_to)?;
            if found < level {
                return None;
            }
            let [s, e] = trim(text, at, next[1]);
            if s < e && !is_bare(&text[bare[0]..at]) {
                return Some(trim(text, bare[0], at)[1]);
            }
            up_to = before(text, at);
        }
        None
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
        if first == rest || first == 0 {
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

/// Whether `text` shows no text as part of a table: only pipes, dashes, colons, plus and
/// equals signs and whitespace (a delimiter row, a row of empty cells, a lone `|`).
pub(super) fn is_bare(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, '|' | '-' | ':' | '+' | '=') || c.is_whitespace())
}

/// Whether `span` of `text` starts at a line's start and ends at a line's end.
fn whole_lines(text: &str, [start, end]: [usize; 2]) -> bool {
    let bytes = text.as_bytes();
    (start == 0 || bytes.get(start - 1) == Some(&b'\n'))
        && matches!(bytes.get(end), None | Some(b'\n' | b'\r'))
}

/// The rows (non-blank lines, trimmed) of `text[range]`.
fn rows(text: &str, range: [usize; 2]) -> Vec<[usize; 2]> {
    let mut out = Vec::new();
    let mut at = range[0];
    while at < range[1] {
        let end = text[at..range[1]].find('\n').map_or(range[1], |i| at + i);
        let [s, e] = trim(text, at, end);
        if s < e {
            out.push([s, e]);
        }
        at = end + 1;
    }
    out
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
    use super::super::{Chunker, Settings, Strategy, Tables};
    use super::is_bare;
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

    fn chunk_with(md: &str, name: &str, settings: Settings) -> ChunkSet {
        Chunker::new(Strategy::Recursive, settings, None, "fp")
            .unwrap()
            .chunk(&parsed(name, md))
            .unwrap()
    }

    fn own_and_inline(size: usize) -> [Settings; 2] {
        [
            Settings::chars(size),
            Settings {
                tables: Tables::Inline,
                ..Settings::chars(size)
            },
        ]
    }

    /// The tester's `br2.html`: at size 24 the header row and the delimiter row (25 chars
    /// together) were split, leaving `| --- | --- |` a chunk of its own.
    #[test]
    fn a_delimiter_row_is_never_a_chunk_of_its_own() {
        let html = "<html><body><article><p>Some text before the table, long enough.</p>\
                    <h3>H3 title</h3><table><thead><tr><th>h1</th><th>h2</th></tr></thead>\
                    <tbody><tr><td>r1</td><td>r2</td></tr></tbody></table></article></body></html>";
        let md = "Intro paragraph here.\n\n| Item | Price |\n| --- | --- |\n\
                  | A much longer item name | 1 |\n| Banana | 2 |\n";
        // From the smallest size that holds the delimiter row with a word before it
        // ("h2 |\n| --- | --- |", "Price |\n| --- | --- |").
        for (doc, name, least) in [(html, "br2.html", 18), (md, "t.md", 21)] {
            for size in least..80 {
                for settings in own_and_inline(size) {
                    let tables = settings.tables;
                    let set = chunk_with(doc, name, settings);
                    for c in &set.chunks {
                        assert!(
                            !c.text.lines().all(|l| l.contains('-') && is_bare(l)),
                            "{name} {size} {tables:?}: {:?}",
                            texts(&set)
                        );
                        assert!(c.tokens <= size);
                    }
                }
            }
        }
        // The delimiter row goes with (the end of) the header row.
        let set = chunk_with(html, "br2.html", Settings::chars(24));
        let texts = texts(&set);
        assert!(texts.contains(&"h2 |\n| --- | --- |"), "{texts:?}");
        assert!(texts.contains(&"| r1 | r2 |"), "{texts:?}");
    }

    /// A row wider than `size` cut just before its closing pipe left a chunk `|`.
    #[test]
    fn no_piece_of_a_table_is_only_pipes() {
        let md = "| key | text |\n|---|---|\n| k | aaaa bbbb cccc |\n| l | dd ee ff gg hh ii |\n";
        let row = "| k | aaaa bbbb cccc |";
        // From the smallest size that holds the delimiter row with a word before it
        // ("text |\n|---|---|").
        for size in 16..60 {
            for settings in own_and_inline(size) {
                let tables = settings.tables;
                let set = chunk_with(md, "p.md", settings);
                for c in &set.chunks {
                    assert!(!is_bare(&c.text), "{size} {tables:?}: {:?}", texts(&set));
                    assert!(c.tokens <= size);
                }
            }
        }
        // At 20 chars the row up to its closing pipe fits (was "| k | aaaa bbbb cccc", "|").
        for settings in own_and_inline(20) {
            let set = chunk_with(md, "p.md", settings);
            let texts = texts(&set);
            assert!(texts.contains(&"| k | aaaa bbbb"), "{texts:?}");
            assert!(texts.contains(&"cccc |"), "{texts:?}");
            assert!(!texts.contains(&row));
        }
    }

    /// Rows of empty cells after a table's last rows: they were chunks of their own (under the
    /// header rows repeated over nothing), or took the last cell of the row before them (`ok
    /// |`) though that whole row fitted with them. Now they join whole rows, or, when none fits
    /// with them, are left out.
    #[test]
    fn rows_of_empty_cells_join_whole_rows() {
        let mut md =
            String::from("# Report\n\n| Section | Signal | Status |\n| --- | --- | --- |\n");
        for i in 0..6 {
            md.push_str(&format!("| zone {i} | alarm signal number {i} | ok |\n"));
        }
        md.push_str(&"|  |  |  |\n".repeat(6));
        md.push_str("\nRemarks:\n");
        for size in [100, 150] {
            let set = chunk_with(&md, "t.md", Settings::chars(size));
            let all = texts(&set);
            assert!(
                all.iter()
                    .any(|t| t.contains("| zone 5 | alarm signal number 5 | ok |")),
                "{size}: the last row cut: {all:?}"
            );
            for c in &set.chunks {
                assert!(!is_bare(&c.text), "{size}: {all:?}");
                let embedded = c.embed_text.as_deref().unwrap_or(&c.text);
                assert!(embedded.chars().count() <= size, "{size}: {embedded:?}");
            }
        }
    }

    /// The tester's `tb4.md` and `tb2.md` at 60 chars: the header rows (30 chars, 31 with
    /// the line break that joins them to the rows) fit with a row, so every later part
    /// repeats them in `embed_text`, within `size`.
    #[test]
    fn later_parts_repeat_the_header_whenever_it_fits_with_a_row() {
        let header = "| Item | Price |\n| --- | --- |";
        let mut tb4 = format!("{header}\n");
        for i in 0..20 {
            tb4.push_str(&format!("| Item number {i} | Price {} |\n", 3 * i));
        }
        let tb2 = format!(
            "Intro paragraph here.\n\n{header}\n| Apple | 1 |\n| Banana | 2 |\n| Cherry | 3 |\n\
             | Durian | 4 |\n| Elderberry | 5 |\n"
        );
        for md in [&tb4, &tb2] {
            let set = chunk_with(md, "t.md", Settings::chars(60));
            let parts: Vec<_> = set
                .chunks
                .iter()
                .filter(|c| c.text.starts_with('|'))
                .collect();
            assert!(parts.len() >= 3, "{:?}", texts(&set));
            assert!(parts[0].text.starts_with(header) && parts[0].embed_text.is_none());
            for part in &parts[1..] {
                let embed = format!("{header}\n{}", part.text);
                assert_eq!(part.embed_text.as_deref(), Some(embed.as_str()));
                assert!(embed.chars().count() <= 60, "{embed:?}");
            }
        }
        let set = chunk_with(&tb2, "t.md", Settings::chars(60));
        assert_eq!(
            texts(&set)[1..],
            [
                &format!("{header}\n| Apple | 1 |\n| Banana | 2 |"),
                "| Cherry | 3 |\n| Durian | 4 |",
                "| Elderberry | 5 |"
            ]
        );
        // At 40 no row (27 or 28 chars) fits with the header rows: the first part is the
        // header rows, every row a part of its own without them.
        let set = chunk_with(&tb4, "t.md", Settings::chars(40));
        assert_eq!(set.chunks[0].text, header);
        for c in &set.chunks[1..] {
            assert!(c.text.starts_with("| Item number") && !c.text.contains('\n'));
            assert_eq!(c.embed_text, None);
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

    /// An empty section's heading before the heading of a table: when the two do not fit with
    /// the table's header rows and first row, the nearer one still leads the table (found by
    /// the property test, with a long first heading).
    #[test]
    fn the_nearest_heading_that_fits_leads_the_table() {
        let md = format!(
            "Intro text.\n\n## {}\n\n### Results\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n",
            "Long heading words ".repeat(4).trim()
        );
        for strategy in [Strategy::Recursive, Strategy::Smart] {
            let set = Chunker::new(strategy, Settings::chars(83), None, "fp")
                .unwrap()
                .chunk(&parsed("t.md", &md))
                .unwrap();
            let texts = texts(&set);
            assert!(
                texts
                    .iter()
                    .any(|t| t.starts_with("### Results\n\n| a | b |")),
                "{texts:?}"
            );
            assert!(!texts.contains(&"### Results"), "{texts:?}");
        }
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
