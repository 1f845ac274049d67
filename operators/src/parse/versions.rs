//! The version of each format's parsed output, so that a change to one format's parsing
//! redoes the documents of that format alone.
//!
//! Up to version [`SHARED_VERSION`] the `parse` operator had one version for every format, so
//! a fix to DOCX tables re-parsed every PDF too (the slowest documents to parse). Past it, each
//! format counts on its own: a document's checkpoint key takes its format's version only once
//! that version has moved past the shared one ([`output_variant`]), so every checkpoint made
//! before keeps its key.
//!
//! What to bump:
//! - a change to one format's parser (its module): that format's entry in [`format_version`];
//! - a change to what several formats share (`render.rs` for HTML and DOCX, `decode.rs` for
//!   Markdown and text, the assembly of title and metadata in `mod.rs` for all): each of them;
//! - a change to detection that moves documents to another format: the formats they move to
//!   (their keys would otherwise find the output of the format they were read as before).

use super::{ParseConfig, detect};
use crate::model::{Document, Format};

/// The last version every format shared (the `parse` operator's version in the engine's
/// registry, which stays there).
pub const SHARED_VERSION: u32 = 13;

/// The version of `format`'s parsed output; each starts at [`SHARED_VERSION`]. The history
/// past it:
/// - PDF 14: a run of three or more headings with nothing between them stays headings when
///   their section numbers rise (`4. REPORT`, `5. DISCUSSION`, `5.1 …`, `6. ADJOURNMENT`: an
///   agenda's last items); such runs were all taken for labels, so items 1 to 3 of an agenda
///   were headings and items 4 to 6 were not. Headings numbered to one depth of two parts or
///   more (`3.7.4`) share the level most of them have: one set in another size had that size's
///   level, and its siblings after it fell under it in section paths.
/// - PDF 15: a table of contents' entry is a paragraph of its own that ends at its page number,
///   its leader dots kept as three (`3.1 Programs . . . 8`); a leader and page number set apart
///   on the entry's line join it. Entries ran together into paragraphs of dozens of dots, and
///   TeX's contents read as a column of titles, then a column of page numbers. A contents
///   page's first heading is no heading when it is an entry (`4 Examples 33`), and a numbered
///   heading set at its parent's level (`5.1` beside `5.`) goes one level under it. An entry
///   whose title left no room for a leader ends at its page number when a numbered entry
///   follows, and an index's entry at its last page (`Sockets . . . 26, 31`). A contents or
///   index page's text is `contents_entry` elements (which `index.hybrid` leaves out), not
///   paragraphs; a page of leader dots in no order (a price list) is neither.
/// - PDF 16: on a contents or index page only the entries are `contents_entry` (lines with
///   leader dots or short ones ending with a page number, the short lines between them, a
///   numbered title or an index's letter right above the first); a preface above them and
///   the first chapter below keep their kinds (every paragraph and heading of the page but its
///   first heading was an entry, and left out of the index). A page whose page numbers rise
///   is contents only when they stay within the document or most entries are numbered
///   sections, and an index's A-to-Z entries only when their pages do (a one-page menu sorted
///   by price was contents). An index or contents set in columns is no table (R-data's concept
///   index was one, read row by row and indexed), and the page after an index or contents page
///   needs only one entry with a leader and page to be one (an index's last page, `yaml . . .
///   7`). A label set apart at the left of its line (a contents' chapter number, `5`, in
///   larger type), on a line of its own every other line at most, reads with its line; it came
///   before the lines of the chapter above; a chapter number in a column of labels joins its
///   entry without a full stop (`6 Image files . . . 25`, not `6. Image files`).
/// - PDF 17: a paragraph that fills a page and goes on to the next is one paragraph over the
///   three pages (its third page's words began a paragraph of their own). A justified line's
///   last word set apart by a stretched space makes no column gutter (R-data's `read.socket,`
///   was read after the lines and heading under it), and a line that comes in segments goes on
///   to the next line as one segment does (the next line began a paragraph of its own). A
///   running header or footer of three lines or more goes whole (TCPDF's web address, its
///   third line, stayed on every page). A document of one page drops a page number at its
///   edge that says it is one (`Page 7`, `3 of 10`: an excerpt's), which was a chunk alone.
/// - PDF 18: a letter with a circle drawn round it (TeX's `\copyright`, `\textcircled{R}`) is
///   the sign they make, `©`, `®` or `℗`; it read `c⃝` (the letter, then a combining circle).
/// - PDF 19: a page past 400,000 glyphs says how many were left out (it was cut silently);
///   past the document's limit of glyphs the pages not read are left out, not kept as empty
///   pages with page breaks, and one warning names the page the text stops on; a string in a
///   page's content counts as one object against the 400,000 read (a page of long `Tj` lines
///   was refused).
/// - PDF 20: a content stream whose FlateDecode data are damaged (a bit flipped inflates to
///   garbage refused at the checksum, or midway) says the page is cut short (it lost the rest
///   silently); a page tree that reaches a page again (lists it twice, loops) reads each page
///   once, with a warning (a loop read one page thousands of times); forms nested up to 32
///   deep are read, deeper ones left out with a warning (past 12, silently); encryption no
///   password opens names its security handler (`Adobe.PubSec`) or the damaged `/Encrypt`.
/// - PDF 21: an object lopdf refused for one token that is no PDF object (`/Foo 1.2.3`, a stray
///   `)`, `1e5`) is read without that entry, with a warning: such a page vanished silently and
///   the pages after it were numbered one too low, such a font or content stream lost its text.
/// - PDF 22: glyph names of a simple font's `Differences` map by the Adobe Glyph List's rules
///   (`uniXXXX…`, `uXXXX`–`uXXXXXX`, `.suffix`, `_` ligatures): the base encoding's character
///   came out (`Привет` read as `!"#$%&`), or nothing without a base encoding.
/// - PDF 23: a `/Kids` entry that loops back to an ancestor of the page tree is skipped and its
///   siblings read: every page listed after it was lost, under a warning that said each page
///   was read once.
/// - PDF 24: a raised marker opening a line (a footnote's number, `∗`, `†`) is a word apart from
///   the text after it, drawn with no gap too: `4Exceptions`, `1pironneau@…` broke word and
///   email matches.
/// - PDF 25: an object an incremental update marks free (`f` in the newest cross-reference
///   section) is null: the older in-use entry won, and deleted content was still read.
/// - Text 14: a form feed (`\f`, what `pdftotext` writes between pages) is a page break: it
///   ends its paragraph, becomes a line break in the rendering, and the elements have pages
///   with a `page_break` before each later page with text (it stayed in the text, and a text
///   had no pages for `chunk.by_page` or page filters).
/// - Markdown 14: a list of three items or more, each only links to headings of the page
///   (`- [Install](#install)`), is a table of contents: `contents_entry` elements, not list
///   items.
/// - Markdown 15: a list item's span goes on to the end of inline markup that closes its text
///   (`- [FAQ](#faq)`, `- **Note**`); it ended with the text, before `](#faq)` or `**`, and
///   the chunkers' table of contents cut, which now ends at the last entry's span, would
///   leave that markup to the next chunk. A list is a table of contents only when most of its
///   links name a heading of the page (as GitHub, pandoc or mkdocs spell anchors) or an id its
///   source gives (`{#id}`, `id="…"`), and then as a whole: links to `#` or to headings that
///   are not there made one, and a list with one item of text was cut into entries and items.
/// - Markdown 16: a `>` in a quoted attribute value of raw HTML does not end its tag (the Rust
///   book's `<Listing caption="Saving a `JoinHandle<T>` from …">`): the rest of the tag was
///   text, a paragraph of `` ` from `thread::spawn` … "> ``.
/// - Markdown 18: raw HTML is rendered as the HTML parser renders it: a `<pre>` (`<pre><code>`)
///   is a code block keeping its lines, indentation and language (it was a paragraph, its
///   whitespace collapsed); an `<img>`'s alt text is an image, `![alt](src)` (a README's
///   centred logo lost it); `<noscript>`, `<template>` and elements hidden by `hidden`,
///   `aria-hidden` or a `display:none` style are no text, in blocks and inline (they leaked).
/// - DOCX 17: text holding U+FDD0 to U+FDD4, the noncharacters that mark inline markup for
///   the renderer, is text: they are left out (`a\u{FDD0}b\u{FDD1}` was a code span).
/// - Markdown 19, Text 15: UTF-16 without a byte order mark is read, told by the NUL bytes
///   beside its ASCII characters, with a warning (it was refused as binary content). In
///   Markdown, an HTML block over several lines in a list item or a quote is rendered as one
///   outside them, each line led by the container's markers: a `<pre>` is a code block there
///   (it stayed raw HTML, and the item's text lost its indentation). A `source.jsonl` record's
///   text drops its NUL characters with a warning, however many (one in a short record failed
///   it as binary content).
/// - DOCX 14: a main part without a document body (its relationship names a relationships
///   part, say) is a damaged document, not an empty one.
/// - DOCX 15: a main or notes part cut short (no closing `</w:body></w:document>`) says so in a
///   warning: half of its paragraphs were gone without a word. An imported part (`w:altChunk`)
///   referenced again is read once, and every showing counts against the document's
///   decompression cap, now 200 times the file's size past 8 MiB (256 MiB at most), showings
///   again adding 8 MiB at most: those past it are left out with a warning (a 3.9 KB file
///   showing one 1 MB part 200 times took 13 minutes and 2.1 GB).
/// - HTML 14: a list of three items or more whose every word is in links to anchors of the
///   page is a table of contents, its items `contents_entry` elements.
/// - HTML 15: only when most of those links name an element of the page (an `id`, an `<a
///   name>`): a list of `href="#"` placeholders was contents. A table of contents in a box of
///   links (`div#toc`, a bare `<div>`) is no longer dropped with it as navigation. Lists nested
///   more than 200 deep keep the text below that depth, as one item (it was left out).
/// - HTML 16: a page whose content is tables (a datasheet) keeps the tables of data beside
///   the best-scoring block, the short all-bold lines that title them, and the headline right
///   before the block that holds them; a table whose cell is framed in a one-cell table is a
///   table of data. Such a page lost its heading, its key/value table and its tables' titles.
/// - HTML 18: the copies of a link left open (`<a href=x>` and no `</a>`), which the HTML5 tree
///   builder reopens around the text of every block after it, are taken out, their text left
///   in place: the blocks after such a link read as links, and were dropped as a cluster of
///   links (a page lost every paragraph after its first).
/// - HTML 19, DOCX 16 (for the HTML it imports: the code tables, notes and inline markup below):
///   a page declared UTF-8, or not declared, whose bytes are UTF-8 but for a few stays UTF-8, those bytes read as U+FFFD with a warning that counts
///   them (one stray byte made the whole page windows-1252: `CafÃ©`); a stray NUL byte, one in
///   4 KiB at most, is dropped with a warning as in Markdown (a 19 KB page with one was refused
///   as binary content). Code shown beside its line numbers in a table (Pygments'
///   `highlighttable`, mkdocs-material, Hugo's `lntable`) is a code block of its lines (a table
///   of two cells, the code on one line). A superscript that is only a link within the page is
///   a note reference, `[1]` (`<sup><a href="#fn1">1</a></sup>` read `ref1`), and a link within
///   the page shown only as an arrow (`↩`) a link back, dropped. Inline `<code>` is a Markdown
///   code span (it was escaped text, `foo\_bar(\*args)`), and an image inside text with alt
///   text `![alt](src)` (its alt was lost); the code and alt text are in the element's text.
/// - HTML 20, DOCX 18 (for the HTML it imports: the headings, lists, hiding and depth below),
///   Markdown 20 (for its raw HTML: the hiding below): a `<form>` holding headings,
///   paragraphs, tables or lists is content (ASP.NET and SharePoint wrap the whole page in one,
///   which was dropped: the page was the text outside it), its controls still dropped, and so
///   is a sign-up, search or login form of under 40 words around a field to type in; the
///   class and id patterns of furniture do not apply inside `<pre>`, `<code>` or a table (a
///   highlighter's `token comment` was dropped); in an article or `<main>` a title block
///   (`<header class="entry-header">`, `div.page-header`) keeps its heading and byline, and an
///   `<aside>` (a docs page's callout) is kept (both were dropped); a heading left open
///   (`<h2>Title<h2>`) is its text before its first block, the blocks after it (the rest of
///   the page was one heading); structure nested 200 to 4096 deep is kept (it was flat lines,
///   blocks at the threshold glued: `twoSome`); an SVG's `<title>` is no document title (an
///   icon's was); `hidden="until-found"` is shown, and only a `display: none` declaration
///   hides (the words in a comment, a string or a custom property did); an ordered list of
///   letters or roman numerals (`type`), or of numbers Markdown cannot show (negative, past
///   nine digits), keeps its labels in its items' text (`c. third`; they were `1.`, 1 2 3 for
///   -1 0 1, and `999999999.` for every item past it); `colspan="2abc"` is 2 (it was 1).
/// - Markdown 17, HTML 17: the payload of an inline `data:` URI is left out of the text
///   (`![Chart](data:image/png;base64,)`): a page saved whole with its images was tens of
///   kilobytes of base64 chunks, embedded and indexed as words.
/// - DOCX 18: a field that never ends is read as if its `begin` were not there, the other
///   fields as usual (one stray `begin` made the whole part read without fields: a table of
///   contents kept, `«Gender»Ms` from a mail merge). Alternate content takes the first
///   Choice whose requirements are understood, else the Fallback, and `w16se:symEx` is its
///   character (the Choice was always taken: Word's emoji were lost). List labels that are
///   more than a number (`2.1.`, `Article 1`) are kept in the item's text, and numbered
///   paragraphs in table cells keep their label (they were bare `1.` items, or lost it). A
///   direct outline level 9 makes a heading-styled paragraph body text (it stayed a
///   heading). Parts of up to 16 MiB are read however well they compress (a 2 MB table
///   compressed 210 times was refused as a zip bomb); an OLE file that is no Word document
///   and a zip of another kind are named (they were "encrypted", "damaged docx").
pub fn format_version(format: Format) -> u32 {
    match format {
        Format::Text => 15,
        Format::Markdown => 20,
        Format::Html => 20,
        Format::Pdf => 25,
        Format::Docx => 18,
    }
}

/// What sets apart the checkpoint key of `doc`'s parsed output beyond the step's settings:
/// its format's version, once that has moved past [`SHARED_VERSION`] (`None` before, the key
/// being then what it was before formats had versions of their own). A document of no known
/// format counts as text, which it is read as.
pub fn output_variant(doc: &Document, config: &ParseConfig) -> Option<String> {
    variant_by(doc, config, format_version)
}

/// [`output_variant`] with the versions `version_of` gives.
fn variant_by(
    doc: &Document,
    config: &ParseConfig,
    version_of: impl Fn(Format) -> u32,
) -> Option<String> {
    let format = detect::detect_format(doc, config).unwrap_or(Format::Text);
    let version = version_of(format);
    (version != SHARED_VERSION).then(|| format!("parse:{}:{version}", format.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(name: &str, bytes: &[u8]) -> Document {
        Document::new(name.to_owned(), name.to_owned(), bytes.to_vec())
    }

    /// Every format starts at the shared version, and no format's version goes back.
    #[test]
    fn every_format_counts_on_from_the_shared_version() {
        for format in [
            Format::Text,
            Format::Markdown,
            Format::Html,
            Format::Pdf,
            Format::Docx,
        ] {
            assert!(format_version(format) >= SHARED_VERSION, "{format:?}");
        }
    }

    /// While a format is at the shared version its documents' keys are those of before
    /// (no variant); past it, only that format's documents get one, and each version its own.
    #[test]
    fn a_bumped_format_sets_apart_its_own_documents_only() {
        let config = ParseConfig::default();
        let pdf = document("a.pdf", b"%PDF-1.7\n");
        let docx = document("b.docx", b"PK\x03\x04");
        let notes = document("notes.txt", b"plain words");
        let unknown = document("data.xyz", b"plain words too");
        for (doc, format) in [
            (&pdf, Format::Pdf),
            (&docx, Format::Docx),
            (&notes, Format::Text),
            (&unknown, Format::Text),
        ] {
            let version = format_version(format);
            let expected =
                (version != SHARED_VERSION).then(|| format!("parse:{}:{version}", format.name()));
            assert_eq!(output_variant(doc, &config), expected, "{}", doc.doc_id);
        }
        let docx_bumped = |format| match format {
            Format::Docx => SHARED_VERSION + 1,
            _ => SHARED_VERSION,
        };
        assert_eq!(variant_by(&pdf, &config, docx_bumped), None);
        assert_eq!(variant_by(&notes, &config, docx_bumped), None);
        assert_eq!(
            variant_by(&docx, &config, docx_bumped).as_deref(),
            Some("parse:docx:14")
        );
        let text_bumped = |format| match format {
            Format::Text => SHARED_VERSION + 2,
            _ => SHARED_VERSION,
        };
        assert_eq!(
            variant_by(&unknown, &config, text_bumped).as_deref(),
            Some("parse:text:15"),
            "a document of no known format is read as text"
        );
    }

    /// The format the settings force is the one whose version counts.
    #[test]
    fn the_format_the_settings_give_is_the_one_that_counts() {
        let config = ParseConfig {
            format: Some(Format::Markdown),
            ..ParseConfig::default()
        };
        let notes = document("notes.txt", b"# Title");
        let markdown_bumped = |format| match format {
            Format::Markdown => SHARED_VERSION + 1,
            _ => SHARED_VERSION,
        };
        assert_eq!(
            variant_by(&notes, &config, markdown_bumped).as_deref(),
            Some("parse:markdown:14")
        );
    }
}
