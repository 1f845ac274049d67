//! Unit tests of the chunkers on small documents.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::embed::EmbedConfig;
use crate::embed::hash::HashEmbedder;
use crate::model::{Chunk, Document, Element, ElementKind, Format, Metadata};
use crate::parse::{ParseConfig, parse};

pub(super) fn parsed(name: &str, text: &str) -> ParsedDocument {
    let mut doc = Document::new(name.into(), name.into(), text.as_bytes().to_vec());
    doc.metadata.insert("lang".into(), "en".into());
    parse(&doc, &ParseConfig::default()).unwrap()
}

fn settings(size: usize, overlap: usize, unit: Unit) -> Settings {
    Settings {
        overlap,
        unit,
        ..Settings::chars(size)
    }
}

fn chunker(strategy: Strategy, settings: Settings) -> Chunker {
    let tokenizer =
        (settings.unit == Unit::Tokens).then(|| Arc::new(sizer::tests::test_tokenizer()));
    Chunker::new(strategy, settings, tokenizer, "fp").unwrap()
}

fn texts(set: &ChunkSet) -> Vec<&str> {
    set.chunks.iter().map(|c| c.text.as_str()).collect()
}

/// Each chunk's text and pages.
fn texts_and_pages(set: &ChunkSet) -> Vec<(&str, Option<[u32; 2]>)> {
    set.chunks
        .iter()
        .map(|c| (c.text.as_str(), c.pages))
        .collect()
}

#[test]
fn problems() {
    let config = |size, overlap| RecursiveConfig {
        size,
        overlap,
        unit: Unit::Chars,
        tokenizer: None,
        min_size: 0,
        tables: Tables::OwnChunk,
        context_header: false,
    };
    assert!(config(10, 9).problems().is_empty());
    assert_eq!(
        config(200, 300).problems(),
        vec![(
            "overlap",
            "overlap (300) must be smaller than size (200)".to_string()
        )]
    );
    assert_eq!(config(0, 0).problems()[0].0, "size");
    let tokens = Settings {
        unit: Unit::Tokens,
        ..Settings::chars(10)
    };
    assert!(
        tokens.problems().is_empty(),
        "the pipeline fills the tokenizer in"
    );
    let stray = Settings {
        tokenizer: Some("t.json".into()),
        min_size: 11,
        ..Settings::chars(10)
    };
    let keys: Vec<&str> = stray.problems().iter().map(|p| p.0).collect();
    assert_eq!(keys, vec!["min_size", "tokenizer"]);
    assert!(matches!(
        Chunker::new(Strategy::Recursive, tokens, None, "fp"),
        Err(ChunkError::NoTokenizer)
    ));
    // Bad settings are clamped, never a panic or an endless loop.
    let doc = parsed("a.txt", "some words here and there");
    for s in [settings(0, 5, Unit::Chars), settings(3, 3, Unit::Words)] {
        assert!(
            !chunker(Strategy::Recursive, s)
                .chunk(&doc)
                .unwrap()
                .chunks
                .is_empty()
        );
    }
}

#[test]
fn config_serde() {
    let c: RecursiveConfig = serde_json::from_str(r#"{"size": 100}"#).unwrap();
    assert_eq!(c.settings(), Settings::chars(100));
    let c: RecursiveConfig = serde_json::from_str(
        r#"{"size": 100, "overlap": 10, "unit": "tokens", "tokenizer": "t.json", "min_size": 5, "tables": "inline", "context_header": true}"#,
    )
    .unwrap();
    assert_eq!(c.unit, Unit::Tokens);
    assert_eq!(c.tables, Tables::Inline);
    assert!(serde_json::from_str::<RecursiveConfig>(r#"{"size": 1, "olap": 1}"#).is_err());
    assert!(serde_json::from_str::<RecursiveConfig>(r#"{}"#).is_err());
    let schema = serde_json::to_value(schemars::schema_for!(RecursiveConfig)).unwrap();
    assert_eq!(schema["properties"]["size"]["minimum"], 1);
    let h: ByHeadingConfig = serde_json::from_str(r#"{"size": 100}"#).unwrap();
    assert_eq!(h.level, 2);
    let s: SemanticConfig = serde_json::from_str(r#"{"size": 100}"#).unwrap();
    assert_eq!(s.breakpoint_percentile, 95.0);
    assert_eq!(s.embedding, None);
    let s: SemanticConfig =
        serde_json::from_str(r#"{"size": 100, "embedding": {"provider": "hash", "dim": 32}}"#)
            .unwrap();
    assert!(matches!(s.embedding, Some(EmbedConfig::Hash(ref h)) if h.dim == 32));
    assert!(serde_json::from_str::<SmartConfig>(r#"{"size": 1, "level": 2}"#).is_err());
}

#[test]
fn chunks_carry_structure() {
    let md = "# Guide\n\nIntro paragraph here.\n\n## Install\n\n- step one\n- step two\n\n```sh\ncargo build\n```\n\n## Use\n\nRun it.\n";
    let doc = parsed("guide.md", md);
    let set = chunker(Strategy::Recursive, settings(35, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert_eq!(set.doc_id, "guide.md");
    assert_eq!(set.title.as_deref(), Some("Guide"));
    assert_eq!(set.hash, doc.hash);
    assert_eq!(
        texts(&set),
        vec![
            "# Guide\n\nIntro paragraph here.",
            "## Install\n\n- step one\n- step two",
            "```sh\ncargo build\n```",
            "## Use\n\nRun it."
        ]
    );
    let c = &set.chunks[1];
    assert_eq!(c.ordinal, 1);
    assert_eq!(c.section, vec!["Guide", "Install"]);
    assert_eq!(c.kinds, vec![ElementKind::Heading, ElementKind::ListItem]);
    assert_eq!(c.tokens, c.text.chars().count());
    assert_eq!(c.pages, None);
    assert_eq!(c.embed_text, None);
    assert_eq!(c.metadata["lang"], "en");
    assert_eq!(set.chunks[2].section, vec!["Guide", "Install"]);
    assert_eq!(set.chunks[2].kinds, vec![ElementKind::Code]);
    assert_eq!(set.chunks[0].section, vec!["Guide"]);
    for c in &set.chunks {
        assert_eq!(c.text, &md[c.span[0]..c.span[1]]);
        assert_eq!(c.chunk_id, annotate::chunk_id("guide.md", "fp", c.span));
    }
    let debug = set.debug.as_ref().unwrap();
    assert_eq!(debug.strategy, "recursive");
    assert_eq!(debug.chunks, 4);
    assert_eq!(debug.unit, "chars");
    assert_eq!(debug.sizes.unwrap().max, 33);
    assert_eq!(debug.mid_sentence_ends, 0);
}

#[test]
fn word_unit_tokens() {
    let doc = parsed("a.txt", "one two three four five");
    let set = chunker(Strategy::Recursive, settings(2, 0, Unit::Words))
        .chunk(&doc)
        .unwrap();
    let tokens: Vec<usize> = set.chunks.iter().map(|c| c.tokens).collect();
    assert_eq!(tokens, vec![2, 2, 1]);
    assert_eq!(set.debug.unwrap().mid_sentence_ends, 2);
}

#[test]
fn chunks_inside_a_long_heading_carry_it_cut_short() {
    let heading = "title ".repeat(20_000);
    let doc = parsed("a.md", &format!("# {heading}\n\nbody\n"));
    let set = chunker(Strategy::Recursive, settings(500, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert!(set.chunks.len() > 100);
    for chunk in &set.chunks {
        let section: usize = chunk.section.iter().map(String::len).sum();
        assert!(section < 1_000, "a chunk carries a {section}-byte section");
    }
}

/// A heading of one word larger than a chunk (Thai, written without spaces; a run of emoji)
/// is cut inside that word: its marker is never a chunk of its own.
#[test]
fn a_heading_marker_is_never_a_chunk_of_its_own() {
    let thai = "# การประชุมคณะกรรมการบริหารประจำปีสองพันห้าร้อยหกสิบเจ็ด\n\nเนื้อหา สั้น\n";
    let emoji = format!("## {}\n\nshort text\n", "👨\u{200d}👩\u{200d}👧".repeat(6));
    for text in [thai.to_owned(), emoji] {
        let doc = parsed("a.md", &text);
        let set = chunker(Strategy::Recursive, settings(40, 0, Unit::Chars))
            .chunk(&doc)
            .unwrap();
        for chunk in &set.chunks {
            assert!(
                chunk.text.trim_start_matches('#').trim().chars().count() > 0,
                "{:?}",
                chunk.text
            );
            assert!(chunk.text.chars().count() <= 40, "{:?}", chunk.text);
        }
        assert!(
            set.chunks[0].text.starts_with('#'),
            "{:?}",
            set.chunks[0].text
        );
    }
}

#[test]
fn text_without_spaces_is_chunked_to_size_in_words() {
    let chinese = "知识库把文档变成可以检索的段落。".repeat(40);
    let thai = "ภาษาไทยเขียนติดกันโดยไม่เว้นวรรคระหว่างคำ".repeat(200);
    for text in [chinese, thai] {
        let doc = parsed("a.txt", &text);
        let set = chunker(Strategy::Recursive, settings(50, 0, Unit::Words))
            .chunk(&doc)
            .unwrap();
        assert!(set.chunks.len() > 2, "{} chunk(s)", set.chunks.len());
        for chunk in &set.chunks {
            assert!(chunk.tokens <= 50, "{} words", chunk.tokens);
            assert!(chunk.text.chars().count() <= 50 * sizer::MAX_WORD_CHARS);
        }
        let joined: String = set.chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(joined, text, "no text lost");
    }
}

#[test]
fn text_without_spaces_is_chunked_to_size_in_tokens() {
    let thai = "ภาษาไทยเขียนติดกันโดยไม่เว้นวรรคระหว่างคำ".repeat(200);
    let doc = parsed("a.txt", &thai);
    let set = chunker(Strategy::Recursive, settings(50, 0, Unit::Tokens))
        .chunk(&doc)
        .unwrap();
    assert!(
        set.chunks.len() > 1,
        "one chunk of {} chars",
        thai.chars().count()
    );
    for chunk in &set.chunks {
        assert!(chunk.tokens <= 50, "{} tokens", chunk.tokens);
    }
    let joined: String = set.chunks.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(joined, thai, "no text lost");
}

/// A run without spaces longer than WordPiece's 100-character words is one `[UNK]`, counted
/// once per 101 characters: no chunk holds a piece of it short enough to be a word of its own,
/// which the model splits into many pieces (95 random letters, counted 1, were 60 tokens and
/// took their chunk past `size`, cut off before embedding).
#[test]
fn a_chunk_holding_the_end_of_a_long_run_without_spaces_stays_within_size() {
    let mut seed: u32 = 7;
    let blob: String = (0..1_095)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
            char::from(alphabet[(seed >> 16) as usize % alphabet.len()])
        })
        .collect();
    let words = "the quick brown fox jumps over the lazy dog ".repeat(20);
    let text = format!("Attachment follows.\n\n{blob} {words}\n");
    let doc = parsed("attach.md", &text);
    let tokenizer = sizer::tests::test_tokenizer();
    for size in [8, 11, 12, 50] {
        let set = chunker(Strategy::Recursive, settings(size, 0, Unit::Tokens))
            .chunk(&doc)
            .unwrap();
        for c in &set.chunks {
            let direct = tokenizer.encode(c.text.as_str(), false).unwrap().len();
            assert!(
                direct <= size,
                "size {size}: {direct} tokens, counted {}: {:?}",
                c.tokens,
                c.text
            );
        }
    }
}

#[test]
fn token_unit() {
    let text = "Tokenization is unbelievably interesting. ".repeat(20);
    let doc = parsed("t.txt", &text);
    let set = chunker(Strategy::Recursive, settings(16, 4, Unit::Tokens))
        .chunk(&doc)
        .unwrap();
    let tokenizer = sizer::tests::test_tokenizer();
    assert!(set.chunks.len() > 5);
    for c in &set.chunks {
        assert!(c.tokens <= 16, "{c:?}");
        let direct = tokenizer.encode(c.text.as_str(), false).unwrap().len();
        assert_eq!(c.tokens, direct, "{:?}", c.text);
    }
    for w in set.chunks.windows(2) {
        assert!(w[1].span[0] < w[0].span[1], "overlap expected");
    }
    let load = RecursiveConfig {
        size: 10,
        overlap: 0,
        unit: Unit::Tokens,
        tokenizer: Some("tests/data/all-MiniLM-L6-v2.tokenizer.json".into()),
        min_size: 0,
        tables: Tables::OwnChunk,
        context_header: false,
    };
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(load.chunker(base, "fp").is_ok());
    let missing = RecursiveConfig {
        tokenizer: Some("nope.json".into()),
        ..load
    };
    assert!(matches!(
        missing.chunker(base, "fp"),
        Err(ChunkError::Tokenizer(m)) if m.contains("nope.json")
    ));
}

#[test]
fn fingerprint_changes_ids() {
    let doc = parsed("a.txt", "hello world");
    let make = |fp: &str| {
        Chunker::new(Strategy::Recursive, Settings::chars(100), None, fp)
            .unwrap()
            .chunk(&doc)
            .unwrap()
    };
    assert_ne!(make("a").chunks[0].chunk_id, make("b").chunks[0].chunk_id);
    let empty = parsed("e.md", "");
    let set = chunker(Strategy::Recursive, Settings::chars(10))
        .chunk(&empty)
        .unwrap();
    assert!(set.chunks.is_empty());
    assert_eq!(set.debug.unwrap().chunks, 0);
}

const TABLE_DOC: &str = "# Data\n\nSome intro text.\n\n| name | value |\n|------|-------|\n| a | 1 |\n| b | 2 |\n| c | 3 |\n| d | 4 |\n| e | 5 |\n\nAfter the table.\n";

#[test]
fn tables_own_chunk_and_split_with_header() {
    let doc = parsed("t.md", TABLE_DOC);
    let set = chunker(Strategy::Recursive, settings(200, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert_eq!(
        texts(&set),
        vec![
            "# Data\n\nSome intro text.",
            &TABLE_DOC[TABLE_DOC.find("| name").unwrap()..TABLE_DOC.find("\n\nAfter").unwrap()],
            "After the table."
        ]
    );
    assert_eq!(set.chunks[1].kinds, vec![ElementKind::Table]);
    assert_eq!(set.debug.as_ref().unwrap().table_chunks, 1);
    // Inline: the table shares a chunk with its neighbours.
    let inline = Settings {
        tables: Tables::Inline,
        ..settings(200, 0, Unit::Chars)
    };
    let set = chunker(Strategy::Recursive, inline).chunk(&doc).unwrap();
    assert_eq!(set.chunks.len(), 1);
    // Split: continuation parts repeat the header rows in embed_text only.
    let set = chunker(Strategy::Recursive, settings(70, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    let tables: Vec<&Chunk> = set
        .chunks
        .iter()
        .filter(|c| c.kinds == [ElementKind::Table])
        .collect();
    assert!(tables.len() >= 2, "{:?}", texts(&set));
    assert!(tables[0].text.starts_with("| name | value |\n|------|"));
    assert_eq!(tables[0].embed_text, None);
    for part in &tables[1..] {
        let embed = part.embed_text.as_deref().unwrap();
        assert_eq!(
            embed,
            format!("| name | value |\n|------|-------|\n{}", part.text)
        );
        assert!(embed.chars().count() <= 70, "{embed:?}");
        assert!(part.text.starts_with("| "));
    }
    for c in &set.chunks {
        assert_eq!(c.text, &TABLE_DOC[c.span[0]..c.span[1]]);
        assert!(c.tokens <= 70);
    }
}

/// Overlap starts at a line or sentence start when one leaves at least half of it: chunks
/// opened with the tail of a list item (`detail text\n - deeper`) or of a sentence.
#[test]
fn overlap_starts_at_a_line_or_sentence_when_it_can() {
    let chunked = |md: &str| {
        let set = chunker(Strategy::Recursive, settings(200, 60, Unit::Chars))
            .chunk(&parsed("o.md", md))
            .unwrap();
        assert!(set.chunks.len() > 2);
        set
    };
    let items: String = (0..12)
        .map(|i| format!("- item {i} with a fine grained detail text\n"))
        .collect();
    let set = chunked(&items);
    for chunk in &set.chunks[1..] {
        assert!(chunk.text.starts_with("- item"), "{:?}", texts(&set));
    }
    let prose: String = (0..20)
        .map(|i| format!("Sentence number {i} says a few words. "))
        .collect();
    let set = chunked(&prose);
    for pair in set.chunks.windows(2) {
        assert!(
            pair[1].span[0] < pair[0].span[1],
            "overlap kept: {:?}",
            texts(&set)
        );
        assert!(
            pair[1].text.starts_with("Sentence number"),
            "{:?}",
            texts(&set)
        );
    }
}

/// A heading keeps its content's first word in CJK text too, where an ideograph is a word: in
/// words, `# 人工智能` was a chunk of its own (the whole run without spaces was taken for the
/// first word, and no break was left after the heading but the one before its content).
#[test]
fn a_cjk_heading_keeps_its_first_words() {
    let md = "# 人工智能\n\n人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。该领域的研究包括机器人、语言识别。\n";
    for unit in [Unit::Words, Unit::Chars] {
        let set = chunker(Strategy::Recursive, settings(20, 0, unit))
            .chunk(&parsed("cjk.md", md))
            .unwrap();
        let first = &set.chunks[0].text;
        assert!(
            first.starts_with("# 人工智能\n\n人工智能是"),
            "{unit:?}: {first:?}"
        );
        for chunk in &set.chunks[1..] {
            assert!(
                !chunk.text.starts_with(['，', '。', '、']),
                "{unit:?}: {:?}",
                chunk.text
            );
        }
    }
}

/// With `context_header`, what gets embedded (header, blank line and text) is within `size`:
/// the header came on top of a full chunk, and past a model's positions the end of the text
/// was cut off before embedding.
#[test]
fn a_context_header_and_its_text_are_within_size() {
    let words: String = (0..200).map(|i| format!("word{i} ")).collect();
    let md = format!("# A Rather Long Document Title\n\n## Installation Section\n\n{words}\n");
    let s = Settings {
        context_header: true,
        ..settings(200, 20, Unit::Chars)
    };
    let set = chunker(Strategy::Recursive, s)
        .chunk(&parsed("g.md", &md))
        .unwrap();
    assert!(set.chunks.len() > 3);
    for chunk in &set.chunks {
        let embedded = chunk.embed_text.as_deref().unwrap();
        assert!(embedded.chars().count() <= 200, "{embedded:?}");
        // "A Rather Long Document Title > Installation Section" and its blank line take more
        // than a quarter of `size`: the title goes, the nearer section stays.
        assert!(
            embedded.starts_with("A Rather Long Document Title\n\n# ")
                || embedded.starts_with("Installation Section\n\n"),
            "{embedded:?}"
        );
    }
    let debug = set.debug.as_ref().unwrap();
    assert_eq!(debug.extra["context_header_room"], 50, "{debug:?}");
}

/// A chunk whose overlap begins inside a link, or that begins inside a code block, embedded
/// the URLs after that point: read alone, `text](url)` is no link, and a closing fence opens a
/// code block. What every chunk embeds holds no link target.
#[test]
fn no_chunk_embeds_a_link_target_wherever_it_begins() {
    let items: String = (0..8)
        .map(|i| format!("- [Add an option number {i} to modify the link density value](https://github.com/mozilla/readability/pull/{})\n", 800 + i))
        .collect();
    let rows: String = (0..22)
        .map(|i| format!("row {i:03} value {}\n", i * 7))
        .collect();
    let md = format!(
        "# Changes\n\n{items}\nThe raw data:\n\n```\n{rows}```\n\nSee the chart ![Errors per hour](https://example.com/img/errors.png) and [the guide](https://example.com/guide).\n"
    );
    let set = chunker(Strategy::Recursive, settings(300, 80, Unit::Chars))
        .chunk(&parsed("links.md", &md))
        .unwrap();
    assert!(set.chunks.len() > 4, "{:?}", texts(&set));
    for chunk in &set.chunks {
        let embedded = chunk.embed_text.as_deref().unwrap_or(&chunk.text);
        assert!(!embedded.contains("https://"), "{embedded:?}");
    }
    let last = set.chunks.last().unwrap().embed_text.as_deref().unwrap();
    assert!(
        last.ends_with("See the chart Errors per hour and the guide."),
        "{last:?}"
    );
}

/// Overlap that began inside a link showed its end as broken markup at the chunk's start
/// (`value](https://…)`): overlap starts after a link it would begin inside.
#[test]
fn overlap_never_begins_inside_a_link() {
    let items: String = (0..12)
        .map(|i| format!("See [the notes on option number {i} of the link density value](https://github.com/mozilla/readability/pull/{}) too. ", 800 + i))
        .collect();
    let md = format!("# Changes\n\n{items}\n");
    let links: Vec<[usize; 2]> = md
        .match_indices("[the notes")
        .map(|(at, _)| [at, at + md[at..].find(')').unwrap() + 1])
        .collect();
    for (size, overlap) in [(200, 80), (300, 120), (250, 100)] {
        let set = chunker(Strategy::Recursive, settings(size, overlap, Unit::Chars))
            .chunk(&parsed("links.md", &md))
            .unwrap();
        assert!(set.chunks.len() > 5, "{:?}", texts(&set));
        for chunk in &set.chunks[1..] {
            let start = chunk.span[0];
            assert!(
                !links.iter().any(|&[from, to]| from < start && start < to),
                "{size}/{overlap}: {:?}",
                chunk.text
            );
        }
        // Overlap is kept where a link does not stand in its way.
        assert!(
            set.chunks.windows(2).any(|w| w[1].span[0] < w[0].span[1]),
            "{size}/{overlap}: {:?}",
            texts(&set)
        );
    }
}

#[test]
fn context_header_goes_to_embed_text() {
    let md = "# Guide\n\nIntro.\n\n## Install\n\nRun the installer.\n";
    let doc = parsed("g.md", md);
    let headed = |size: usize| {
        let s = Settings {
            context_header: true,
            ..settings(size, 0, Unit::Chars)
        };
        chunker(Strategy::ByHeading { level: 2 }, s)
            .chunk(&doc)
            .unwrap()
    };
    let set = headed(40);
    assert_eq!(
        texts(&set),
        vec!["# Guide\n\nIntro.", "## Install\n\nRun the installer."]
    );
    assert_eq!(
        set.chunks[0].embed_text.as_deref(),
        Some("Guide\n\n# Guide\n\nIntro.")
    );
    // A header longer than a quarter of `size` loses its outer parts, so that it and the
    // text are within `size` (the text cut to what the header leaves).
    assert_eq!(
        set.chunks[1].embed_text.as_deref(),
        Some("Install\n\n## Install\n\nRun the installer.")
    );
    let set80 = headed(80);
    assert_eq!(
        set80.chunks[1].embed_text.as_deref(),
        Some("Guide > Install\n\n## Install\n\nRun the installer.")
    );
    let json = serde_json::to_value(&set.chunks[0]).unwrap();
    assert!(json.get("embed_text").is_some());
    let plain = chunker(Strategy::Recursive, settings(20, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert!(
        serde_json::to_value(&plain.chunks[0])
            .unwrap()
            .get("embed_text")
            .is_none()
    );
}

const SECTIONS: &str = "# Manual\n\nOverview of the manual.\n\n## Setup\n\nInstall it. Configure it.\n\n### Details\n\nMore setup detail here.\n\n## Usage\n\nRun it daily.\n\n## Tiny\n\nOk.\n";

/// A chunk records every section its text covers: an empty heading merged forward (its
/// `section` is taken at its first content, the outer heading) and a section beginning inside
/// it. A chunk within one section records nothing more, and serializes as before.
#[test]
fn chunks_record_the_sections_they_cover() {
    let doc = parsed(
        "g.md",
        "# Guide\n\n## Install\n\nInstall the widget with the installer.\n\n## Use\n\nUse the widget daily.\n",
    );
    let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for strategy in [Strategy::ByHeading { level: 2 }, Strategy::Recursive] {
        let set = chunker(strategy, settings(200, 0, Unit::Chars))
            .chunk(&doc)
            .unwrap();
        let install = set
            .chunks
            .iter()
            .find(|c| c.text.contains("Install the widget"))
            .unwrap();
        assert_eq!(install.section, path(&["Guide"]));
        let covered = install.sections();
        assert!(
            covered.contains(&path(&["Guide", "Install"])),
            "{covered:?}"
        );
        assert_eq!(covered[0], install.section);
        let json = serde_json::to_value(install).unwrap();
        assert_eq!(json["sections"][1], serde_json::json!(["Guide", "Install"]));
        let back: Chunk = serde_json::from_value(json).unwrap();
        assert_eq!(&back, install);
        let using = set
            .chunks
            .iter()
            .find(|c| c.text.contains("Use the widget"))
            .unwrap();
        assert!(using.sections().contains(&path(&["Guide", "Use"])));
    }
    let set = chunker(
        Strategy::ByHeading { level: 2 },
        settings(200, 0, Unit::Chars),
    )
    .chunk(&doc)
    .unwrap();
    let using = set.chunks.last().unwrap();
    assert_eq!(using.text, "## Use\n\nUse the widget daily.");
    assert_eq!(using.sections, None);
    assert!(
        serde_json::to_value(using)
            .unwrap()
            .get("sections")
            .is_none()
    );
}

#[test]
fn by_heading_sections_fallback_and_merge() {
    let doc = parsed("m.md", SECTIONS);
    let set = chunker(
        Strategy::ByHeading { level: 2 },
        settings(200, 0, Unit::Chars),
    )
    .chunk(&doc)
    .unwrap();
    assert_eq!(
        texts(&set),
        vec![
            "# Manual\n\nOverview of the manual.",
            "## Setup\n\nInstall it. Configure it.\n\n### Details\n\nMore setup detail here.",
            "## Usage\n\nRun it daily.",
            "## Tiny\n\nOk."
        ]
    );
    assert_eq!(set.chunks[1].section, vec!["Manual", "Setup"]);
    let debug = set.debug.as_ref().unwrap();
    assert_eq!(debug.strategy, "by_heading");
    assert_eq!(debug.used, "by_heading");
    // Level 3 splits Setup; an oversized section falls back to recursive.
    let set = chunker(
        Strategy::ByHeading { level: 3 },
        settings(30, 0, Unit::Chars),
    )
    .chunk(&doc)
    .unwrap();
    // A heading keeps at least its content's first words.
    assert!(
        texts(&set).contains(&"### Details\n\nMore setup detail"),
        "{:?}",
        texts(&set)
    );
    assert!(set.chunks.iter().all(|c| c.tokens <= 30));
    // Tiny sections merge with neighbours up to min_size, within size.
    let merging = Settings {
        min_size: 30,
        ..settings(60, 0, Unit::Chars)
    };
    let set = chunker(Strategy::ByHeading { level: 2 }, merging)
        .chunk(&doc)
        .unwrap();
    assert!(
        texts(&set).contains(&"## Usage\n\nRun it daily.\n\n## Tiny\n\nOk."),
        "{:?}",
        texts(&set)
    );
    // No headings at all: one section, chunked recursively, said so.
    let flat = parsed("f.txt", "just some text. more text here.");
    let set = chunker(
        Strategy::ByHeading { level: 2 },
        settings(16, 0, Unit::Chars),
    )
    .chunk(&flat)
    .unwrap();
    assert_eq!(set.chunks.len(), 2);
    let fallback = set.debug.unwrap().fallback.unwrap();
    assert!(
        fallback.starts_with("no headings of level <= 2"),
        "{fallback}"
    );
    // Headings alone (each goes with the next) make one section too: not "no headings".
    let only = parsed("h.md", "# One\n\n## Two\n\n### Three\n\n## Four\n");
    let set = chunker(
        Strategy::ByHeading { level: 3 },
        settings(16, 0, Unit::Chars),
    )
    .chunk(&only)
    .unwrap();
    let fallback = set.debug.unwrap().fallback.unwrap();
    assert!(
        fallback.starts_with("the 4 heading(s) of level <= 3 make one section"),
        "{fallback}"
    );
}

/// A document with pages, as a PDF parser would produce it.
fn paged(pages: &[&str]) -> ParsedDocument {
    let mut markdown = String::new();
    let mut elements = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        for para in page.split("\n\n") {
            let start = markdown.len();
            markdown.push_str(para);
            let mut e = Element::new(ElementKind::Paragraph, para, [start, markdown.len()]);
            e.page = Some(i as u32 + 1);
            elements.push(e);
            markdown.push_str("\n\n");
        }
    }
    ParsedDocument {
        doc_id: "p.pdf".into(),
        source: "p.pdf".into(),
        format: Format::Pdf,
        title: Some("Paged".into()),
        markdown,
        elements,
        metadata: Metadata::new(),
        hash: "h".into(),
        debug: Default::default(),
    }
}

#[test]
fn by_page_pages_and_fallback() {
    let doc = paged(&[
        "Page one text.\n\nMore on one.",
        "Page two text.",
        "Page three is long and has many words in it to split.",
    ]);
    let set = chunker(Strategy::ByPage, settings(30, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert_eq!(texts(&set)[0], "Page one text.\n\nMore on one.");
    assert_eq!(set.chunks[0].pages, Some([1, 1]));
    assert_eq!(texts(&set)[1], "Page two text.");
    assert_eq!(set.chunks[1].pages, Some([2, 2]));
    assert!(set.chunks.len() > 3);
    assert!(set.chunks[2..].iter().all(|c| c.pages == Some([3, 3])));
    assert_eq!(set.debug.as_ref().unwrap().used, "by_page");
    let flat = parsed("f.md", "# T\n\nNo pages here.");
    let set = chunker(Strategy::ByPage, settings(100, 0, Unit::Chars))
        .chunk(&flat)
        .unwrap();
    let debug = set.debug.unwrap();
    assert_eq!(debug.used, "recursive");
    assert!(debug.fallback.unwrap().contains("no pages"));
}

/// Semantic groups of a few words ("Oh no!") join a neighbour, and a sentence that announces
/// what follows ("For example:") stays with it: both were chunks of their own.
#[test]
fn semantic_groups_are_no_fragments() {
    // Distances: the first two sentences share words (the least distance, no break); every
    // other pair none, so percentile 0 breaks between each.
    let md = "Rust ownership rules govern memory.\n\nOwnership rules move memory values.\n\nOh no!\n\nTomato soup needs basil and a long slow simmer.\n\nFor example:\n\n```\nlet broth = Broth::new();\n```\n";
    let strategy = Strategy::Semantic {
        percentile: 0.0,
        embedder: Arc::new(HashEmbedder::new(256)),
    };
    let set = chunker(strategy, settings(500, 0, Unit::Chars))
        .chunk(&parsed("s.md", md))
        .unwrap();
    let texts = texts(&set);
    assert!(texts.iter().all(|t| t.trim() != "Oh no!"), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("For example:\n\n```\nlet broth")),
        "{texts:?}"
    );
}

#[test]
fn semantic_splits_at_topic_shifts() {
    let md = "Rust ownership rules govern memory. Ownership rules move values. Borrowing rules check ownership.\n\
              Tomato soup needs basil. Basil and tomato soup simmer slowly. Soup with basil is tasty.\n";
    let doc = parsed("s.txt", md);
    let strategy = Strategy::Semantic {
        percentile: 80.0,
        embedder: Arc::new(HashEmbedder::new(256)),
    };
    let set = chunker(strategy.clone(), settings(500, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert_eq!(set.chunks.len(), 2, "{:?}", texts(&set));
    assert!(
        set.chunks[0]
            .text
            .ends_with("Borrowing rules check ownership.")
    );
    let debug = set.debug.as_ref().unwrap();
    assert_eq!(debug.strategy, "semantic");
    assert_eq!(debug.extra["sentences"], 6);
    assert_eq!(debug.extra["embedder"], "hash:v2:dim=256");
    // Size stays a maximum.
    let set = chunker(strategy, settings(40, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert!(set.chunks.iter().all(|c| c.tokens <= 40));
}

#[test]
fn smart_picks_per_document() {
    let s = settings(60, 0, Unit::Chars);
    let pick = |doc: &ParsedDocument| {
        let set = chunker(Strategy::Smart, s.clone()).chunk(doc).unwrap();
        let debug = set.debug.unwrap();
        assert_eq!(debug.strategy, "smart");
        assert!(!debug.reasons.is_empty());
        debug.used.into_owned()
    };
    assert_eq!(pick(&parsed("m.md", SECTIONS)), "by_heading");
    assert_eq!(pick(&parsed("s.md", "# Short\n\nFits.")), "recursive");
    let long_flat = "Plain words without any structure at all. ".repeat(10);
    assert_eq!(pick(&parsed("f.txt", &long_flat)), "recursive");
    let page = "Words on a page that go on for a while. ";
    assert_eq!(pick(&paged(&[page, page, page, page])), "by_page");
    // A manual with a heading every other page reads by its sections (pages cut its
    // sentences); one with a heading every 4 pages, by its pages.
    let manual = |every: u32| {
        let parts: Vec<(ElementKind, &str, u32)> = (1..=8)
            .flat_map(|page| {
                let heading =
                    (page % every == 1).then_some((ElementKind::Heading, "## Section", page));
                heading
                    .into_iter()
                    .chain([(ElementKind::Paragraph, page_text(), page)])
            })
            .collect();
        paged_elements(&parts)
    };
    assert_eq!(pick(&manual(2)), "by_heading");
    assert_eq!(pick(&manual(4)), "by_page");
}

/// A page's worth of running text for [`smart_picks_per_document`].
fn page_text() -> &'static str {
    "Words on a page that go on for a while and then some."
}

const CONTROL_FLOW: &str = "# Control Flow\n\nThe most common constructs that let you control the flow of execution of Rust\ncode are `if` expressions and loops.\n\n## `if` Expressions\n\nAn `if` expression allows you to branch your code depending on conditions. You\nprovide a condition and then state, \"If this condition is met, run this block\nof code. If the condition is not met, do not run this block of code.\"\n";

#[test]
fn overlap_stops_at_section_starts() {
    let doc = parsed("flow.md", CONTROL_FLOW);
    for strategy in [Strategy::Recursive, Strategy::ByHeading { level: 1 }] {
        let set = chunker(strategy, settings(200, 40, Unit::Chars))
            .chunk(&doc)
            .unwrap();
        // Nothing of "Control Flow" goes with the next section's heading, and the text after
        // the heading repeats none of it; the heading keeps its first sentences, which end at
        // a wrapped line ("block\nof code.").
        assert_eq!(
            texts(&set),
            vec![
                "# Control Flow\n\nThe most common constructs that let you control the flow of execution of Rust\ncode are `if` expressions and loops.",
                "## `if` Expressions\n\nAn `if` expression allows you to branch your code depending on conditions. You\nprovide a condition and then state, \"If this condition is met, run this block\nof code.",
                "is met, run this block\nof code. If the condition is not met, do not run this block of code.\"",
            ]
        );
        for c in &set.chunks[1..] {
            assert_eq!(c.section, vec!["Control Flow", "if Expressions"]);
        }
        assert!(
            set.chunks[2].span[0] < set.chunks[1].span[1],
            "overlap within a section"
        );
    }
}

/// Pages as the PDF parser renders them: a `---` page-break element (on the new page) between.
/// A text with form feeds between pages (`pdftotext`'s) is chunked page by page: it had no
/// pages, and by_page chunked it whole, form feeds in the text.
#[test]
fn a_text_with_form_feeds_is_chunked_by_page() {
    let doc = parsed(
        "pdftotext.txt",
        "Page one text. More on page one.\n\x0cPage two text.\n\x0cPage three.\n\x0c",
    );
    let set = chunker(Strategy::ByPage, settings(200, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert_eq!(set.debug.as_ref().unwrap().used, "by_page");
    let got = texts_and_pages(&set);
    assert_eq!(
        got,
        [
            ("Page one text. More on page one.", Some([1, 1])),
            ("Page two text.", Some([2, 2])),
            ("Page three.", Some([3, 3])),
        ]
    );
}

fn paged_with_markers(pages: &[&str]) -> ParsedDocument {
    let mut doc = paged(pages);
    let mut markdown = String::new();
    let mut elements = Vec::new();
    for (i, e) in doc.elements.iter().enumerate() {
        if i > 0 && doc.elements[i - 1].page != e.page {
            let start = markdown.len();
            markdown.push_str("---");
            let mut marker = Element::new(ElementKind::PageBreak, "", [start, markdown.len()]);
            marker.page = e.page;
            elements.push(marker);
            markdown.push_str("\n\n");
        }
        let start = markdown.len();
        markdown.push_str(&e.text);
        let mut moved = Element::new(e.kind, e.text.clone(), [start, markdown.len()]);
        moved.page = e.page;
        elements.push(moved);
        markdown.push_str("\n\n");
    }
    doc.markdown = markdown;
    doc.elements = elements;
    doc
}

#[test]
fn overlap_stays_on_its_page_and_a_trailing_marker_adds_no_page() {
    let doc = paged_with_markers(&[
        "Page one has a first paragraph of some length.\n\nAnd a second one on page one.",
        "Page two starts here and goes on for a while with words.",
    ]);
    let set = chunker(Strategy::Recursive, settings(60, 20, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    let got = texts_and_pages(&set);
    assert_eq!(
        got,
        vec![
            (
                "Page one has a first paragraph of some length.",
                Some([1, 1])
            ),
            (
                "of some length.\n\nAnd a second one on page one.\n\n---",
                Some([1, 1])
            ),
            (
                "Page two starts here and goes on for a while with words.",
                Some([2, 2])
            ),
        ]
    );
    for c in &set.chunks {
        assert_eq!(c.text, &doc.markdown[c.span[0]..c.span[1]]);
    }
}

#[test]
fn split_tables_keep_room_for_the_header_and_its_line_break() {
    // Spaces after the header rows count in the first part.
    let spaced = TABLE_DOC.replace("-|\n| a", "-|    \n| a");
    for md in [TABLE_DOC, &spaced] {
        let doc = parsed("t.md", md);
        for (size, unit) in (34..120).flat_map(|size| [(size, Unit::Chars), (size, Unit::Words)]) {
            let set = chunker(Strategy::Recursive, settings(size, 0, unit))
                .chunk(&doc)
                .unwrap();
            for c in &set.chunks {
                assert!(c.tokens <= size, "{size} {unit:?}: {:?}", c.text);
                let embed = c.embed_text.as_deref().unwrap_or_default();
                let embed_size = match unit {
                    Unit::Chars => embed.chars().count(),
                    _ => sizer::WordSizer.size(embed),
                };
                assert!(embed_size <= size, "{size} {unit:?}: {embed:?}");
            }
        }
    }
}

/// No chunk's visible text is only a heading.
fn assert_no_lone_heading(doc: &ParsedDocument, set: &ChunkSet) {
    for c in &set.chunks {
        let shown: Vec<&Element> = doc
            .elements
            .iter()
            .filter(|e| e.kind != ElementKind::PageBreak && !e.text.trim().is_empty())
            .filter(|e| e.span[0] < c.span[1] && e.span[1] > c.span[0])
            .collect();
        assert!(
            !shown.iter().all(|e| e.kind == ElementKind::Heading),
            "{:?}",
            texts(set)
        );
    }
}

#[test]
fn a_heading_keeps_its_first_content() {
    let md = "# Guide\n\nIntro text that is long enough to need a chunk of its own here.\n\n\
              ## Install\n\nDownload the archive. Unpack it somewhere. Run the installer and follow it.\n";
    let doc = parsed("g.md", md);
    for strategy in [Strategy::Recursive, Strategy::ByHeading { level: 2 }] {
        for overlap in [0, 15] {
            let set = chunker(strategy.clone(), settings(60, overlap, Unit::Chars))
                .chunk(&doc)
                .unwrap();
            assert_no_lone_heading(&doc, &set);
            assert!(
                texts(&set).contains(&"## Install\n\nDownload the archive. Unpack it somewhere."),
                "{:?}",
                texts(&set)
            );
        }
    }
    let set = chunker(Strategy::Recursive, settings(60, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    // The heading's first sentence does not fit with it: the cut leaves the next chunk more
    // than a tiny tail ("its own here.").
    assert_eq!(
        texts(&set),
        vec![
            "# Guide\n\nIntro text that is long enough to need",
            "a chunk of its own here.",
            "## Install\n\nDownload the archive. Unpack it somewhere.",
            "Run the installer and follow it.",
        ]
    );
    assert!(set.chunks.iter().all(|c| c.text.chars().count() >= 20));
}

#[test]
fn an_empty_section_goes_with_the_next_heading() {
    let md = "# Part I\n\n## Chapter 1\n\nIt begins here. It goes on for a while longer.\n\n\
              ## Chapter 2\n\nMore.\n";
    let doc = parsed("p.md", md);
    let set = chunker(
        Strategy::ByHeading { level: 2 },
        settings(200, 0, Unit::Chars),
    )
    .chunk(&doc)
    .unwrap();
    assert_eq!(
        texts(&set),
        vec![
            "# Part I\n\n## Chapter 1\n\nIt begins here. It goes on for a while longer.",
            "## Chapter 2\n\nMore."
        ]
    );
    let set = chunker(Strategy::Recursive, settings(40, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert_eq!(
        texts(&set)[0],
        "# Part I\n\n## Chapter 1\n\nIt begins here."
    );
    assert_no_lone_heading(&doc, &set);
}

#[test]
fn a_heading_stands_alone_only_when_its_first_word_does_not_fit() {
    let doc = parsed(
        "i.md",
        "## Installation\n\nSupercalifragilistic words follow.",
    );
    let split = |size| {
        let set = chunker(Strategy::Recursive, settings(size, 0, Unit::Chars))
            .chunk(&doc)
            .unwrap();
        texts(&set)
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        split(20),
        ["## Installation", "Supercalifragilistic", "words follow."]
    );
    assert_eq!(
        split(40),
        ["## Installation\n\nSupercalifragilistic", "words follow."]
    );
}

/// A document with pages whose elements are given as `(kind, markdown, page)`.
fn paged_elements(parts: &[(ElementKind, &str, u32)]) -> ParsedDocument {
    let mut doc = paged(&[]);
    doc.markdown.clear();
    doc.elements.clear();
    for &(kind, md, page) in parts {
        let start = doc.markdown.len();
        doc.markdown.push_str(md);
        let mut e = Element::new(
            kind,
            md.trim_start_matches('#').trim(),
            [start, doc.markdown.len()],
        );
        e.page = Some(page);
        if kind == ElementKind::Heading {
            e.level = Some(md.chars().take_while(|&c| c == '#').count() as u8);
        }
        doc.elements.push(e);
        doc.markdown.push_str("\n\n");
    }
    doc
}

#[test]
fn a_heading_at_the_foot_of_a_page_goes_with_its_content() {
    let doc = paged_elements(&[
        (ElementKind::Heading, "# Title", 1),
        (ElementKind::Paragraph, "Intro text.", 2),
        (ElementKind::Heading, "## Results", 2),
        (ElementKind::Paragraph, "The results are good.", 3),
    ]);
    let set = chunker(Strategy::ByPage, settings(1000, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    assert_eq!(
        texts(&set),
        vec![
            "# Title\n\nIntro text.",
            "## Results\n\nThe results are good."
        ]
    );
    assert_eq!(set.chunks[1].pages, Some([2, 3]));
    assert_eq!(set.debug.unwrap().used, "by_page");
}

/// `doc` chunked semantically (hash vectors) in chunks of 500 chars, a group ending wherever
/// neighbours are further apart than the closest pair.
fn semantic_at_every_breakpoint(doc: &ParsedDocument) -> ChunkSet {
    let strategy = Strategy::Semantic {
        percentile: 0.0,
        embedder: Arc::new(HashEmbedder::new(256)),
    };
    chunker(strategy, settings(500, 0, Unit::Chars))
        .chunk(doc)
        .unwrap()
}

#[test]
fn semantic_groups_keep_a_heading_with_its_text() {
    // Every heading shares no word with the sentence after it: the largest distances.
    let md = "# Soup\n\nTomato basil broth simmers. Basil broth tastes good.\n\n# Rust\n\n\
              Ownership rules govern memory. Borrowing rules check ownership.\n";
    let doc = parsed("s.md", md);
    let set = semantic_at_every_breakpoint(&doc);
    assert_eq!(
        texts(&set),
        vec![
            "# Soup\n\nTomato basil broth simmers. Basil broth tastes good.",
            "# Rust\n\nOwnership rules govern memory.",
            "Borrowing rules check ownership."
        ]
    );
}

/// A run of numbers without letters in a line (an estimate's row of figures) is a sentence
/// segment of its own, and a semantic group ended right before it, inside the line, though
/// the whole text fit in one chunk.
#[test]
fn semantic_groups_end_at_sentence_ends_only() {
    let md = "Pipe assembly tubes of 89 mm | 1,89 | 1 786,04 | 384,74 | 46 319,04 | 38 550,75 | 5 303,17 | 99,9 | 188,81\n\n\
              Pipe assembly tubes are welded. Pipe assembly tubes are tested.\n";
    let doc = parsed("e.md", md);
    let set = semantic_at_every_breakpoint(&doc);
    let first_line = md.lines().next().unwrap();
    assert!(
        set.chunks.iter().any(|c| c.text == first_line),
        "{:?}",
        texts(&set)
    );
    assert_eq!(set.debug.unwrap().mid_sentence_ends, 0);
}

#[test]
fn wrapped_lines_give_way_to_sentence_ends_and_hard_breaks_do_not() {
    let split = |md: &str| {
        let doc = parsed("w.md", md);
        let set = chunker(Strategy::Recursive, settings(40, 0, Unit::Chars))
            .chunk(&doc)
            .unwrap();
        set.chunks[0].text.clone()
    };
    // A wrapped line is a word boundary: the sentence end before it wins.
    assert_eq!(
        split("A short one. Then a wrapped\nline and more words here."),
        "A short one."
    );
    // A hard break (two spaces) and a list item's line are line breaks still.
    assert_eq!(
        split("A short one. Then a hard  \nbreak and more words here."),
        "A short one. Then a hard"
    );
    assert_eq!(
        split("- A short one. Then an item\n- and more words here in it."),
        "- A short one. Then an item"
    );
}

/// Medline record 255 (the `text` of `shared/eval/ir/medline/corpus.jsonl`): tokenized text
/// whose sentences end with " .".
const MEDLINE_255: &str = "effect of heterologous antiserum and complement on glycolysis of tumor cells . the effect of heterologous antiserum and complement on glucose metabolism of rat ascites tumor cells was examined to clarify the mechanism of the cytotoxic effect of antibody . 1. lactate-production of the target cells was inhibited by the cooperation of antiserum and complement, while no inhibition was observed when the cells were subjected to either antiserum or complement alone . the inhibition of lactate-production was observed under both acrobic and anacrobic conditions . no effect of the antiserum and complement was observed on the oxygen consumption of the cells . 2. the amount of antiserum necessary for the inhibition of lactate-production of the cells was determined in the presence of a definite amount of complement, and it was found that the degree of inhibition was not in parallel with the concentration of antiserum beyond a certain threshold . on the other hand, a parallelism was observed between the amount of complement and the rate of inhibition of lactate-production when different amounts of complement were added to a definite amount of antiserum . 3. similar inhibitory effects of the antiserum and complement on lactate-production of the cells from glucose, fructose-1, 6-diphosphate, and pyruvate suggested that the inhibition occurred toward the final step of glycolytic process of the cells .";

#[test]
fn a_full_stop_stays_with_the_chunk_that_has_room_for_it() {
    let doc = parsed("255.txt", MEDLINE_255);
    let set = chunker(Strategy::Recursive, settings(400, 0, Unit::Chars))
        .chunk(&doc)
        .unwrap();
    let texts = texts(&set);
    // The " ." after "oxygen consumption of the cells" fits in that chunk (398 + 2 chars).
    assert!(
        texts
            .iter()
            .any(|t| t.ends_with("oxygen consumption of the cells .")),
        "{texts:?}"
    );
    for t in &texts {
        assert!(
            t.chars().any(char::is_alphanumeric) && !t.starts_with('.'),
            "{texts:?}"
        );
        assert!(t.chars().count() <= 400);
    }
}

/// A code block longer than a chunk is not cut right before its closing fence (the next chunk
/// had nothing new but `` ``` ``), and overlap in code repeats whole lines (it began at
/// `= compute(5)`).
#[test]
fn code_blocks_keep_their_fence_and_overlap_whole_lines() {
    let code: String = (0..12)
        .map(|i| format!("x{i} = compute({i})  # c\n"))
        .collect();
    let md = format!("## One\n\nIntro paragraph here w w.\n\n```\n{code}```\n\n## Two\n\nAfter.\n");
    let set = chunker(
        Strategy::ByHeading { level: 2 },
        settings(200, 40, Unit::Chars),
    )
    .chunk(&parsed("f.md", &md))
    .unwrap();
    let texts = texts(&set);
    assert!(
        texts
            .iter()
            .all(|t| t.trim() != "```" && !t.ends_with("```\n```")),
        "{texts:#?}"
    );
    for text in texts.iter().filter(|t| t.contains("compute")) {
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with('x')
                || first.starts_with("Intro")
                || first.starts_with("##")
                || first == "```",
            "overlap inside a line: {text:?}"
        );
    }
    let fence = texts.iter().find(|t| t.ends_with("```")).unwrap();
    assert!(fence.contains("x11 = compute(11)"), "{texts:#?}");
}

/// A chunk that starts inside a code block keeps its first line's indentation, with overlap
/// or without: it began at `return x * 6 + y`, four spaces short.
#[test]
fn a_chunk_starting_in_code_keeps_its_indentation() {
    let body: String = (0..16)
        .map(|i| format!("def f{i}(x, y):\n    return x * {i} + y\n"))
        .collect();
    let md = format!("Some code:\n\n```python\n{body}```\n");
    for overlap in [0, 30] {
        let set = chunker(Strategy::Recursive, settings(120, overlap, Unit::Chars))
            .chunk(&parsed("c.md", &md))
            .unwrap();
        for chunk in &set.chunks {
            assert!(
                !chunk.text.starts_with("return"),
                "overlap {overlap}: {:?}",
                texts(&set)
            );
        }
        assert!(
            set.chunks.iter().any(|c| c.text.starts_with("    return")),
            "overlap {overlap}: {:?}",
            texts(&set)
        );
    }
}

/// Overlap never leaves a code block: after a chunk that ends with a block's closing fence, the
/// next began with that fence alone (a chunk of "```" and one sentence, rendered as an open
/// code block). And a code block that fits in a chunk is not cut for the overlap's sake.
#[test]
fn overlap_never_leaves_a_code_block_nor_cuts_one_that_fits() {
    let md = "# Threads\n\nWe will now show the compiler output that explains what went wrong with the program.\n\n```console\nerror[E0373]: closure may outlive the current function\n```\n\nRust ownership rules have saved us again! We got an error from the code because Rust was being conservative and only borrowing v for the thread, which meant the main thread could theoretically invalidate the reference.\n";
    let set = chunker(Strategy::Recursive, settings(200, 40, Unit::Chars))
        .chunk(&parsed("f.md", md))
        .unwrap();
    let first = texts(&set);
    for text in &first[1..] {
        assert!(
            !text.starts_with("```") && !text.starts_with("error["),
            "{first:#?}"
        );
    }
    let code: String = (0..8)
        .map(|i| format!("SELECT col_{i} FROM table_{i};\n"))
        .collect();
    let md = format!(
        "The first paragraph explains the setup in enough words to fill most of the first chunk of this document nicely.\n\nWhen rounding values, the numeric type rounds ties away from zero. For example:\n\n```sql\n{code}```\n\nAfter the code.\n"
    );
    let set = chunker(Strategy::Recursive, settings(260, 60, Unit::Chars))
        .chunk(&parsed("f.md", &md))
        .unwrap();
    let texts = texts(&set);
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&format!("```sql\n{code}```"))),
        "{texts:#?}"
    );
}

/// A code block whose first line is longer than a chunk is not cut right after its opening
/// fence: no chunk is a fence alone.
#[test]
fn no_chunk_is_an_opening_fence_alone() {
    let md = "Para.\n\n```\nSELECT * FROM weather JOIN cities ON w.city = c.name;\n```\n\nAfter.\n";
    let set = chunker(Strategy::Recursive, settings(40, 0, Unit::Chars))
        .chunk(&parsed("f.md", md))
        .unwrap();
    let texts = texts(&set);
    assert!(texts.iter().all(|t| t.trim() != "```"), "{texts:#?}");
}

/// A failing provider of `chunk.semantic` is said once: the error is in the message, not also
/// its source, which `{:#}` would print again.
#[test]
fn a_semantic_provider_error_is_said_once() {
    let err = ChunkError::from(crate::embed::EmbedError::new("http://x: answered 500"));
    assert_eq!(
        err.to_string(),
        "embedding sentences failed: http://x: answered 500"
    );
    assert!(std::error::Error::source(&err).is_none());
}

/// With a large overlap, no chunk lies inside its neighbour: after a chunk ending with a code
/// block's first line, the next was that line alone (`<script src=…>`), its only new text the
/// next line's indentation. Without overlap, that indentation was a chunk's trailing white
/// space. A line of code whose first word fits in a chunk only without its indentation is not
/// cut for it.
#[test]
fn no_chunk_lies_inside_its_neighbour() {
    let md = "Adding coverage is simple, add this line to your HTML test file:\n\n```\n<script src=\"vendor/blanket.js\"\n        data-cover-adapter=\"vendor/mocha-blanket.js\"></script>\n```\n\nSource files: blanket.js, mocha-blanket.js\n";
    let word = "data-cover-adapter=\"vendor/mocha-blanket.js\"></script>";
    for overlap in [0, 20, 45] {
        let set = chunker(Strategy::Recursive, settings(60, overlap, Unit::Chars))
            .chunk(&parsed("cov.md", md))
            .unwrap();
        let spans: Vec<[usize; 2]> = set.chunks.iter().map(|c| c.span).collect();
        for w in spans.windows(2) {
            assert!(
                w[1][0] > w[0][0] && w[1][1] > w[0][1],
                "overlap {overlap}: {w:?} in {:#?}",
                texts(&set)
            );
        }
        let texts = texts(&set);
        assert!(
            texts.iter().all(|t| t.trim_end() == *t) && texts.iter().any(|t| t.contains(word)),
            "overlap {overlap}: {texts:#?}"
        );
    }
}
