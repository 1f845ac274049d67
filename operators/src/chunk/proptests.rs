//! Property tests of every strategy over generated text, and runs over the real corpora
//! (`../shared/corpus`, its Markdown with more settings, and `sample-corpus/`).
//!
//! Invariants: no chunk exceeds `size` unless it is a single char (an indivisible unit, listed
//! as oversized in the debug record); `text == markdown[span]`; chunks in order cover the
//! document (nothing lost but whitespace, and markup that shows no text where no neighbour had
//! room for it); the same input gives the same chunks and ids; with overlap, a chunk after a
//! multi-word chunk starts inside it (recursive strategy), overlap never reaches back over a
//! heading, page change or table edge, and every chunk has text of its own (not only what its
//! neighbours repeat; none lies inside a neighbour); a chunk ends with a heading whose content comes later only when the
//! content's first word does not fit with it (a table of its own: its header and first row).

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use tokenizers::Tokenizer;

use super::sizer::{CharSizer, Sizer, TokenSizer, WordSizer};
use super::{Chunker, Settings, Strategy as Chunking, Tables, Unit};
use crate::embed::hash::HashEmbedder;
use crate::model::{Document, Element, ElementKind, Format, ParsedDocument};
use crate::parse::{ParseConfig, parse};

/// Short words (at most 8 chars), some multibyte, some Markdown-ish (markup without text too).
fn short_word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}",
        "[A-Z][a-z]{0,7}",
        "[äöüéñßøç]{1,4}",
        "[日本語テキスト]{1,3}",
        Just("🎉".to_string()),
        Just("#".to_string()),
        Just("-".to_string()),
        Just("1.".to_string()),
        Just("`x`".to_string()),
        Just("|".to_string()),
        Just("## H".to_string()),
        Just("---".to_string()),
        Just("<br>".to_string()),
        Just("[x]:".to_string()),
    ]
}

/// Any word, including ones far longer than small chunk sizes, a small table on lines of its
/// own (after a heading, when a `## H` word comes before it), a table of contents (a list of
/// links to the page's headings, with a heading it names) and a fenced code block.
fn any_word() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => short_word(),
        2 => "[a-zé]{9,60}",
        1 => Just("\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\n".to_string()),
        1 => Just("\n\n- [H](#h)\n- [bé](#bé)\n  - [H](#h-1)\n\n## H\n\n".to_string()),
        1 => code_block(),
    ]
}

/// A fenced code block of a few lines, some indented (by spaces or a tab), of words up to 20
/// chars, some longer than small chunk sizes.
fn code_block() -> impl Strategy<Value = String> {
    let line = (
        prop_oneof![Just(""), Just("    "), Just("        "), Just("\t")],
        prop::collection::vec("[a-z<>=\"./()]{1,20}", 1..5),
    );
    prop::collection::vec(line, 1..6).prop_map(|lines| {
        let body: String = (lines.iter())
            .map(|(indent, words)| format!("{indent}{}\n", words.join(" ")))
            .collect();
        format!("\n\n```\n{body}```\n\n")
    })
}

/// Whitespace between words: at most 4 chars.
fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        6 => Just(" "),
        1 => Just(". "),
        1 => Just("? "),
        2 => Just("\n"),
        2 => Just("\n\n"),
        1 => Just("  \n\n"),
        1 => Just("\t"),
        1 => Just("\u{a0}"),
        1 => Just("\r\n"),
    ]
}

/// Text of alternating words and separators.
fn text_of(word: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (
        prop::collection::vec((word, separator()), 0..250),
        prop::bool::ANY,
    )
        .prop_map(|(pieces, leading_space)| {
            let mut text = if leading_space {
                " \n".to_string()
            } else {
                String::new()
            };
            for (word, sep) in pieces {
                text.push_str(&word);
                text.push_str(sep);
            }
            text
        })
}

fn parsed(text: &str, markdown: bool) -> ParsedDocument {
    let doc = Document::new("gen".into(), "gen".into(), text.as_bytes().to_vec());
    let config = ParseConfig {
        format: Some(if markdown {
            Format::Markdown
        } else {
            Format::Text
        }),
        ..ParseConfig::default()
    };
    parse(&doc, &config).expect("generated text parses")
}

fn tokenizer() -> Arc<Tokenizer> {
    static TOKENIZER: OnceLock<Arc<Tokenizer>> = OnceLock::new();
    TOKENIZER
        .get_or_init(|| Arc::new(super::sizer::tests::test_tokenizer()))
        .clone()
}

fn strategies() -> Vec<Chunking> {
    vec![
        Chunking::Recursive,
        Chunking::ByHeading { level: 2 },
        Chunking::ByPage,
        Chunking::Semantic {
            percentile: 90.0,
            embedder: Arc::new(HashEmbedder::new(64)),
        },
        Chunking::Smart,
    ]
}

/// Checks the invariants every chunking must satisfy; returns the chunk spans.
fn check(doc: &ParsedDocument, strategy: &Chunking, settings: &Settings) -> Vec<[usize; 2]> {
    let tokenizer = (settings.unit == Unit::Tokens).then(tokenizer);
    let chunker =
        Chunker::new(strategy.clone(), settings.clone(), tokenizer.clone(), "fp").expect("chunker");
    let set = chunker.chunk(doc).expect("chunks");
    let again = chunker.chunk(doc).expect("chunks");
    assert_eq!(set.chunks, again.chunks, "not deterministic");
    let md = &doc.markdown;
    let tokens;
    let sizer: &dyn Sizer = match settings.unit {
        Unit::Chars => &CharSizer,
        Unit::Words => &WordSizer,
        Unit::Tokens => {
            tokens = TokenSizer::new(tokenizer.as_deref().unwrap(), md).unwrap();
            &tokens
        }
    };
    // Chunks are cut to what a context header leaves of `size`, and with it within `size`.
    let configured = settings;
    let effective = settings.less(super::assemble::header_room(doc, sizer, settings));
    let settings = &effective;
    if configured.unit == Unit::Chars {
        for chunk in &set.chunks {
            let embedded = chunk.embed_text.as_deref().unwrap_or(&chunk.text);
            assert!(
                chunk.text.chars().count() == 1 || sizer.size(embedded) <= configured.size.max(1),
                "{strategy:?}: embed_text of {} > {}: {embedded:?}",
                sizer.size(embedded),
                configured.size
            );
        }
    }
    let debug = set.debug.as_ref().expect("debug record");
    let flagged = debug.oversized.len();
    let mut oversized = 0;
    let mut covered = vec![false; md.len()];
    for (i, chunk) in set.chunks.iter().enumerate() {
        let [s, e] = chunk.span;
        assert_eq!(chunk.ordinal, i);
        assert_eq!(
            md.get(s..e),
            Some(chunk.text.as_str()),
            "text != markdown[span]"
        );
        // Trimmed, but for a first line's indentation in code.
        let in_code = doc
            .elements
            .iter()
            .any(|el| el.kind == ElementKind::Code && el.span[0] < s && s < el.span[1]);
        assert!(!chunk.text.is_empty() && chunk.text.trim_end() == chunk.text);
        assert!(
            chunk.text.trim_start() == chunk.text
                || (in_code && !chunk.text.starts_with(['\n', '\r'])),
            "{strategy:?}: {:?}",
            chunk.text
        );
        assert_eq!(chunk.tokens, sizer.size(&md[s..e]));
        // A table of contents stands apart: no chunk mixes its entries with other text.
        assert!(
            !chunk.kinds.contains(&ElementKind::ContentsEntry) || chunk.is_contents(),
            "{strategy:?}: contents mixed with {:?}: {:?}",
            chunk.kinds,
            chunk.text
        );
        if chunk.tokens > settings.size.max(1) {
            oversized += 1;
            assert_eq!(
                chunk.text.chars().count(),
                1,
                "{strategy:?}: chunk of {} > {}: {:?}",
                chunk.tokens,
                settings.size,
                chunk.text
            );
        }
        covered[s..e].iter_mut().for_each(|c| *c = true);
    }
    assert_eq!(oversized, flagged, "oversized chunks are flagged");
    assert_eq!(debug.chunks, set.chunks.len());
    for (i, c) in md.char_indices() {
        assert!(
            c.is_whitespace() || covered[i] || invisible(doc, i),
            "{strategy:?}: lost {c:?} at {i}"
        );
    }
    let spans: Vec<[usize; 2]> = set.chunks.iter().map(|c| c.span).collect();
    let mut shown: Vec<&Element> = doc
        .elements
        .iter()
        .filter(|el| el.kind != ElementKind::PageBreak && !el.text.trim().is_empty())
        .collect();
    shown.sort_by_key(|el| el.span[0]);
    for &span in &spans {
        check_heading_end(doc, &shown, sizer, settings, span, strategy);
    }
    let stops = boundaries(doc);
    for w in spans.windows(2) {
        // No chunk lies inside its neighbour, nor repeats it.
        let inside = |a: [usize; 2], b: [usize; 2]| b[0] <= a[0] && a[1] <= b[1];
        assert!(
            !inside(w[1], w[0]) && !inside(w[0], w[1]),
            "{strategy:?}: of the chunks {:?} and {:?}, one lies inside the other ({w:?})",
            &md[w[0][0]..w[0][1]],
            &md[w[1][0]..w[1][1]]
        );
        assert!(w[1][0] > w[0][0] && w[1][1] > w[0][1], "out of order {w:?}");
        if settings.overlap == 0 {
            assert!(w[1][0] >= w[0][1], "overlap without overlap {w:?}");
        }
        if w[1][0] < w[0][1] {
            let bound = skip_whitespace(md, w[0][1]);
            let crossed = stops.iter().find(|&&at| w[1][0] < at && at <= bound);
            assert!(
                crossed.is_none(),
                "{strategy:?}: overlap {w:?} crosses the boundary at {crossed:?}"
            );
            let cut = headings(doc).find(|h| h[0] < w[1][0] && w[1][0] < h[1]);
            assert!(cut.is_none(), "{strategy:?}: overlap {w:?} cuts {cut:?}");
        }
    }
    for w in spans.windows(3) {
        let own = md.get(w[0][1].max(w[1][0])..w[2][0].min(w[1][1]));
        assert!(
            own.is_some_and(|own| !own.trim().is_empty()),
            "{strategy:?}: chunk {:?} is only overlap ({w:?})",
            &md[w[1][0]..w[1][1]]
        );
    }
    spans
}

/// A chunk whose visible text ends with a whole heading (only a heading, or a heading after
/// other text) while its section's content (under it or its subheadings, before the next
/// heading of its level or above) follows in a later chunk: allowed only when the
/// chunk could not take that content's first word along within `size`, or, when the content
/// is a table of its own (`tables: own_chunk`), its header rows and first row.
/// `elements`: those with text, by start.
fn check_heading_end(
    doc: &ParsedDocument,
    elements: &[&Element],
    sizer: &dyn Sizer,
    settings: &Settings,
    [s, e]: [usize; 2],
    strategy: &Chunking,
) {
    let md = doc.markdown.as_str();
    let Some(last) = elements
        .iter()
        .rev()
        .find(|el| el.span[0] < e && el.span[1] > s)
    else {
        return;
    };
    if last.kind != ElementKind::Heading || last.span[0] < s || last.span[1] > e {
        return;
    }
    // Its section's content: what comes before the next heading of its level or above. A
    // section with none (`## A` right before `## B`) has nothing to keep with its heading.
    let level = last.level.unwrap_or(1);
    let Some(content) = elements
        .iter()
        .filter(|el| el.span[0] >= last.span[1])
        .take_while(|el| el.kind != ElementKind::Heading || el.level.unwrap_or(1) > level)
        .find(|el| el.kind != ElementKind::Heading)
    else {
        return;
    };
    if content.kind == ElementKind::Table && settings.tables == Tables::OwnChunk {
        // A table of its own takes the headings before it along when they fit with its
        // header rows and first row.
        let [ts, te] = super::recursive::trim(md, content.span[0], content.span[1]);
        let row_end = super::tables::first_row_end(md, [ts, te]);
        assert!(
            sizer.size(&md[s..row_end]) > settings.size.max(1),
            "{strategy:?}: chunk {:?} ends with a heading, its table {:?} next",
            &md[s..e],
            &md[ts..row_end]
        );
        return;
    }
    // The first break after the content's start: the start of its second word. A fenced code
    // block's is in its code (a chunk never ends right after the opening fence), and before
    // its closing fence's line (nor right before that fence): else it is the block's end.
    let fenced = content.kind == ElementKind::Code && md[content.span[0]..].starts_with(['`', '~']);
    let (from, closing) = match fenced {
        true => {
            let [bs, be] = super::recursive::trim(md, content.span[0], content.span[1]);
            let block = &md[bs..be];
            let code = block.find('\n').map_or(be, |i| bs + i + 1);
            let closing = block.rfind('\n').map_or(be, |i| bs + i + 1);
            (code.min(closing), Some([closing, be]))
        }
        false => (content.span[0], None),
    };
    let rest = &md[from..];
    let token = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let mut next = rest[token..]
        .find(|c: char| !c.is_whitespace())
        .map_or(md.len(), |i| from + token + i);
    if let Some([closing, end]) = closing
        && next >= closing
    {
        next = end;
    }
    assert!(
        sizer.size(&md[s..next]) > settings.size.max(1),
        "{strategy:?}: chunk {:?} ends with a heading, its content {:?} next",
        &md[s..e],
        &md[from..next]
    );
}

/// Positions overlap never reaches back over: heading starts, table edges, page-break markers
/// and page changes.
fn boundaries(doc: &ParsedDocument) -> Vec<usize> {
    let mut stops = Vec::new();
    let mut page = None;
    for e in &doc.elements {
        match e.kind {
            ElementKind::Heading => stops.push(e.span[0]),
            ElementKind::Table | ElementKind::PageBreak => stops.extend(e.span),
            _ => {}
        }
        if e.page.is_some() && page.is_some() && e.page != page {
            stops.push(e.span[0]);
        }
        page = e.page.or(page);
        stops.extend(e.continued.iter().map(|c| c.at));
        page = e.continued.last().map(|c| c.page).or(page);
    }
    stops
}

/// The spans of the headings.
fn headings(doc: &ParsedDocument) -> impl Iterator<Item = [usize; 2]> + '_ {
    doc.elements
        .iter()
        .filter(|e| e.kind == ElementKind::Heading)
        .map(|e| e.span)
}

/// The first non-whitespace position at or after `at` (or the text's length).
fn skip_whitespace(text: &str, at: usize) -> usize {
    text[at..]
        .find(|c: char| !c.is_whitespace())
        .map_or(text.len(), |i| at + i)
}

/// Whether byte `at` is on a line of markup that shows no text, outside every element with text.
fn invisible(doc: &ParsedDocument, at: usize) -> bool {
    let md = doc.markdown.as_str();
    let start = md[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = md[at..].find('\n').map_or(md.len(), |i| at + i);
    // A table row of empty cells (or a delimiter row) that nothing could join is left out.
    let line = &md[start..end];
    if line.contains('|') && super::tables::is_bare(line) {
        return true;
    }
    super::markup::is_markup_line(line)
        && doc.elements.iter().all(|e| {
            e.kind == ElementKind::PageBreak
                || e.text.trim().is_empty()
                || e.span[1] <= at
                || e.span[0] > at
        })
}

fn settings(size: usize, overlap: usize, unit: Unit, min_size: usize, inline: bool) -> Settings {
    Settings {
        size,
        overlap,
        unit,
        tokenizer: None,
        min_size,
        tables: if inline {
            Tables::Inline
        } else {
            Tables::OwnChunk
        },
        context_header: min_size % 2 == 1,
    }
}

fn unit_of(n: u8) -> Unit {
    match n % 3 {
        0 => Unit::Chars,
        1 => Unit::Words,
        _ => Unit::Tokens,
    }
}

proptest! {
    // 64 cases by default (each runs five strategies); PROPTEST_CASES=1000 for a deeper run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
    ))]

    #[test]
    fn invariants_hold(
        text in text_of(any_word()),
        markdown in prop::bool::ANY,
        size in 1usize..200,
        overlap_share in 0usize..100,
        min_share in 0usize..100,
        unit in 0u8..3,
        inline in prop::bool::ANY,
        strategy in 0usize..5,
    ) {
        let unit = unit_of(unit);
        let size = if unit == Unit::Chars { size } else { size / 10 + 1 };
        let settings = settings(size, size * overlap_share / 100, unit, size * min_share / 200, inline);
        check(&parsed(&text, markdown), &strategies()[strategy], &settings);
    }

    #[test]
    fn overlap_repeats_the_tail(
        text in text_of(short_word()),
        markdown in prop::bool::ANY,
        overlap in 9usize..40,
        extra in 10usize..150,
        unit in 0u8..3,
    ) {
        let unit = unit_of(unit);
        let settings = if unit == Unit::Chars {
            settings(overlap + extra, overlap, unit, 0, true)
        } else {
            settings(overlap / 4 + extra / 10 + 1, overlap / 4, unit, 0, true)
        };
        let doc = parsed(&text, markdown);
        let md = &doc.markdown;
        let spans = check(&doc, &Chunking::Recursive, &settings);
        let stops = boundaries(&doc);
        for (i, w) in spans.windows(2).enumerate() {
            // Overlap comes from the previous chunk's own text (after the chunk before it),
            // and stops at boundaries: expected when no boundary lies between that text's
            // start and the new content.
            let fresh = match i.checked_sub(1) {
                Some(before) => w[0][0].max(skip_whitespace(md, spans[before][1])),
                None => w[0][0],
            };
            let bound = skip_whitespace(md, w[0][1]);
            // Nor does it repeat part of a heading: none after one that ends the chunk.
            let ends_in_heading = headings(&doc).any(|h| h[0] < w[0][1] && w[0][1] <= h[1]);
            if ends_in_heading || stops.iter().any(|&at| fresh < at && at <= bound) {
                continue;
            }
            let prev = &md[fresh..w[0][1]];
            // Overlap repeats whole words: expected when the last word fits in it.
            let last_word_fits = match prev.split_whitespace().next_back() {
                Some(word) if unit == Unit::Tokens => {
                    tokenizer().encode(word, false).map_or(0, |e| e.len()) <= settings.overlap
                }
                // A run written without spaces is several words; whole words still begin at
                // spaces.
                Some(word) if unit == Unit::Words => WordSizer.size(word) <= settings.overlap,
                _ => true,
            };
            // A piece of markup without text dropped between them leaves a gap of markup.
            let markup_between = w[0][1] <= w[1][0]
                && doc.markdown[w[0][1]..w[1][0]]
                    .char_indices()
                    .all(|(i, c)| c.is_whitespace() || invisible(&doc, w[0][1] + i));
            if prev.split_whitespace().nth(1).is_some() && last_word_fits && !markup_between {
                prop_assert!(w[1][0] < w[0][1], "no overlap after {prev:?}: {w:?}");
            }
        }
    }
}

fn corpus_settings() -> Vec<Settings> {
    vec![
        settings(800, 100, Unit::Chars, 0, false),
        settings(100, 0, Unit::Words, 20, true),
        settings(128, 16, Unit::Tokens, 32, false),
    ]
}

/// The Markdown documents of the shared corpus: `shared/corpus/md/*.md` in the nearest
/// ancestor folder that has it (beside a clone, or beside a worktree's parent).
fn shared_markdown() -> Vec<Document> {
    let corpus = crate::parse::test_corpus::corpus_dir();
    let mut paths: Vec<_> = std::fs::read_dir(corpus.join("md"))
        .expect("shared/corpus/md")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    paths.sort();
    let docs: Vec<Document> = paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            Document::new(
                name.clone(),
                name,
                std::fs::read(&path).expect("corpus file"),
            )
        })
        .collect();
    assert!(
        docs.len() >= 5,
        "too few Markdown files in the shared corpus"
    );
    docs
}

#[test]
fn corpus_markdown_chunks_soundly() {
    for doc in shared_markdown() {
        let parsed = parse(&doc, &ParseConfig::default()).expect("corpus markdown parses");
        for settings in corpus_settings() {
            for strategy in strategies() {
                let spans = check(&parsed, &strategy, &settings);
                assert!(!spans.is_empty(), "{}: no chunks", doc.doc_id);
            }
        }
    }
}

#[test]
fn sample_corpus_chunks_soundly() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-corpus");
    let mut seen = 0;
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.expect("sample corpus readable");
        let path = entry.path();
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("md" | "txt")
        ) {
            continue;
        }
        let bytes = std::fs::read(path).expect("sample file");
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let doc = Document::new(name.clone(), name, bytes);
        let parsed = parse(&doc, &ParseConfig::default()).expect("sample parses");
        for settings in corpus_settings() {
            for strategy in strategies() {
                check(&parsed, &strategy, &settings);
            }
        }
        seen += 1;
    }
    assert!(seen >= 5, "sample-corpus has too few documents");
}

/// The invariants over every document of the shared corpus (PDF, DOCX, HTML, Markdown), with
/// sizes from 400 chars to 512 tokens.
#[test]
fn whole_corpus_chunks_soundly() {
    let corpus = crate::parse::test_corpus::corpus_dir();
    let listed = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).expect("manifest");
    let all = [
        settings(400, 0, Unit::Chars, 0, false),
        settings(1000, 100, Unit::Chars, 0, true),
        settings(128, 16, Unit::Tokens, 0, false),
        settings(512, 0, Unit::Tokens, 64, false),
    ];
    let mut seen = 0;
    for file in listed.lines().skip(1).filter_map(|l| l.split('\t').next()) {
        let Ok(bytes) = std::fs::read(corpus.join(file)) else {
            continue;
        };
        let doc = Document::new(file.into(), file.into(), bytes);
        let Ok(parsed) = parse(&doc, &ParseConfig::default()) else {
            continue;
        };
        for settings in &all {
            for strategy in strategies() {
                check(&parsed, &strategy, settings);
            }
        }
        seen += 1;
    }
    assert!(seen >= 50, "only {seen} corpus documents");
}

/// A page of code blocks with indented lines (`readability__001.html` of the shared corpus),
/// with overlap nearly as large as `size`: a chunk whose only new text was the indentation of
/// the next line of code lay inside the one before.
#[test]
fn code_with_large_overlap_chunks_soundly() {
    let corpus = crate::parse::test_corpus::corpus_dir();
    let file = "html/readability__001.html";
    let bytes = std::fs::read(corpus.join(file)).expect("corpus file");
    let parsed = parse(
        &Document::new(file.into(), file.into(), bytes),
        &ParseConfig::default(),
    )
    .expect("corpus HTML parses");
    for settings in [
        settings(20, 19, Unit::Chars, 0, false),
        settings(50, 37, Unit::Chars, 0, false),
        settings(60, 45, Unit::Chars, 0, false),
        settings(16, 15, Unit::Tokens, 0, false),
        settings(2, 1, Unit::Tokens, 0, false),
    ] {
        for strategy in strategies() {
            check(&parsed, &strategy, &settings);
        }
    }
}
