//! Chunking: splitting a [`ParsedDocument`] into [`Chunk`]s sized for retrieval.
//!
//! [`chunk_recursive`] cuts at the strongest boundary that keeps a chunk within size
//! (`recursive`, with break levels from `breaks`); sizes are measured by a [`sizer::Sizer`] for
//! the configured [`Unit`]; what a chunk inherits from the document's elements is worked out in
//! `annotate`.

mod annotate;
mod breaks;
mod recursive;
mod scan;
pub mod sizer;

#[cfg(test)]
mod proptests;

use crate::model::{Chunk, ChunkSet, ElementKind, ParsedDocument};
use sizer::{CharSizer, Sizer, WordSizer};

/// The unit chunk sizes are measured in.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Unicode scalar values.
    #[default]
    Chars,
    /// Whitespace-separated words.
    Words,
}

impl Unit {
    /// The sizer that measures text in this unit.
    pub fn sizer(self) -> &'static dyn Sizer {
        match self {
            Unit::Chars => &CharSizer,
            Unit::Words => &WordSizer,
        }
    }
}

/// Settings of `chunk.recursive`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecursiveConfig {
    /// Largest chunk, in `unit`s.
    #[schemars(range(min = 1))]
    pub size: usize,
    /// How much of the previous chunk's end the next chunk repeats, in `unit`s (less than `size`).
    #[serde(default)]
    pub overlap: usize,
    /// What `size` and `overlap` count.
    #[serde(default)]
    pub unit: Unit,
}

impl RecursiveConfig {
    /// Problems with the settings as (key, message) pairs, e.g. ("overlap", "overlap (300) must
    /// be smaller than size (200)"); size 0 is one too.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.size == 0 {
            problems.push(("size", "size must be at least 1".to_string()));
        }
        if self.size > 0 && self.overlap >= self.size {
            problems.push((
                "overlap",
                format!(
                    "overlap ({}) must be smaller than size ({})",
                    self.overlap, self.size
                ),
            ));
        }
        problems
    }
}

/// Splits a parsed document into chunks of at most `config.size` units. `fingerprint`
/// identifies the chunking step and its settings; it goes into every chunk_id.
///
/// Breaks are preferred at element starts, except the start of the element right after a
/// heading, so headings stay with their content.
///
/// Settings with [`RecursiveConfig::problems`] are clamped rather than rejected here: size 0
/// counts as 1 and the overlap as at most `size - 1`.
pub fn chunk_recursive(
    doc: &ParsedDocument,
    config: &RecursiveConfig,
    fingerprint: &str,
) -> ChunkSet {
    let sizer = config.unit.sizer();
    let text = doc.markdown.as_str();
    // A heading binds to what follows it: the element right after a heading is no
    // element-level break, so a chunk does not end on a dangling heading.
    let starts = doc
        .elements
        .iter()
        .scan(false, |after_heading, e| {
            let start = (!*after_heading).then_some(e.span[0]);
            *after_heading = e.kind == ElementKind::Heading;
            Some(start)
        })
        .flatten();
    let spans = recursive::split(text, starts, sizer, config.size, config.overlap);
    let index = annotate::ElementIndex::new(&doc.elements);
    let chunks = spans
        .into_iter()
        .enumerate()
        .filter_map(|(ordinal, span)| {
            let chunk_text = text.get(span[0]..span[1])?;
            Some(Chunk {
                chunk_id: annotate::chunk_id(&doc.doc_id, fingerprint, span),
                doc_id: doc.doc_id.clone(),
                ordinal,
                text: chunk_text.to_string(),
                span,
                section: index.section_at(span[0]),
                pages: index.pages(span),
                tokens: sizer.size(chunk_text),
                kinds: index.kinds(span),
                metadata: doc.metadata.clone(),
            })
        })
        .collect();
    ChunkSet {
        doc_id: doc.doc_id.clone(),
        source: doc.source.clone(),
        title: doc.title.clone(),
        hash: doc.hash.clone(),
        chunks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Document;
    use crate::parse::{ParseConfig, parse};

    fn parsed(name: &str, text: &str) -> ParsedDocument {
        let mut doc = Document::new(name.into(), name.into(), text.as_bytes().to_vec());
        doc.metadata.insert("lang".into(), "en".into());
        parse(&doc, &ParseConfig::default()).unwrap()
    }

    fn config(size: usize, overlap: usize, unit: Unit) -> RecursiveConfig {
        RecursiveConfig {
            size,
            overlap,
            unit,
        }
    }

    #[test]
    fn problems() {
        assert!(config(10, 9, Unit::Chars).problems().is_empty());
        assert_eq!(
            config(200, 300, Unit::Chars).problems(),
            vec![(
                "overlap",
                "overlap (300) must be smaller than size (200)".to_string()
            )]
        );
        assert_eq!(config(0, 0, Unit::Words).problems()[0].0, "size");
        // Bad settings are clamped, never a panic or an endless loop.
        let doc = parsed("a.txt", "some words here and there");
        assert!(
            !chunk_recursive(&doc, &config(0, 5, Unit::Chars), "fp")
                .chunks
                .is_empty()
        );
        assert!(
            !chunk_recursive(&doc, &config(3, 3, Unit::Words), "fp")
                .chunks
                .is_empty()
        );
    }

    #[test]
    fn config_serde() {
        let c: RecursiveConfig = serde_json::from_str(r#"{"size": 100}"#).unwrap();
        assert_eq!(c, config(100, 0, Unit::Chars));
        let c: RecursiveConfig =
            serde_json::from_str(r#"{"size": 100, "overlap": 10, "unit": "words"}"#).unwrap();
        assert_eq!(c.unit, Unit::Words);
        assert!(serde_json::from_str::<RecursiveConfig>(r#"{"size": 1, "olap": 1}"#).is_err());
        assert!(serde_json::from_str::<RecursiveConfig>(r#"{}"#).is_err());
        let schema = serde_json::to_value(schemars::schema_for!(RecursiveConfig)).unwrap();
        assert_eq!(schema["properties"]["size"]["minimum"], 1);
    }

    #[test]
    fn chunks_carry_structure() {
        let md = "# Guide\n\nIntro paragraph here.\n\n## Install\n\n- step one\n- step two\n\n```sh\ncargo build\n```\n\n## Use\n\nRun it.\n";
        let doc = parsed("guide.md", md);
        let set = chunk_recursive(&doc, &config(35, 0, Unit::Chars), "fp");
        assert_eq!(set.doc_id, "guide.md");
        assert_eq!(set.title.as_deref(), Some("Guide"));
        assert_eq!(set.hash, doc.hash);
        let texts: Vec<&str> = set.chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
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
        assert_eq!(c.metadata["lang"], "en");
        assert_eq!(set.chunks[2].section, vec!["Guide", "Install"]);
        assert_eq!(set.chunks[2].kinds, vec![ElementKind::Code]);
        assert_eq!(set.chunks[0].section, vec!["Guide"]);
        for c in &set.chunks {
            assert_eq!(c.text, &md[c.span[0]..c.span[1]]);
            assert_eq!(c.chunk_id, annotate::chunk_id("guide.md", "fp", c.span));
        }
    }

    #[test]
    fn word_unit_tokens() {
        let doc = parsed("a.txt", "one two three four five");
        let set = chunk_recursive(&doc, &config(2, 0, Unit::Words), "fp");
        let tokens: Vec<usize> = set.chunks.iter().map(|c| c.tokens).collect();
        assert_eq!(tokens, vec![2, 2, 1]);
    }

    #[test]
    fn fingerprint_changes_ids() {
        let doc = parsed("a.txt", "hello world");
        let a = chunk_recursive(&doc, &config(100, 0, Unit::Chars), "a");
        let b = chunk_recursive(&doc, &config(100, 0, Unit::Chars), "b");
        assert_ne!(a.chunks[0].chunk_id, b.chunks[0].chunk_id);
        let empty = parsed("e.md", "");
        assert!(
            chunk_recursive(&empty, &config(10, 0, Unit::Chars), "a")
                .chunks
                .is_empty()
        );
    }
}
