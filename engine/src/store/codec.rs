//! How step outputs are stored: MessagePack (self-describing, so metadata of any shape round
//! trips), LZ4-compressed when that saves space, behind a one-byte header.

use std::sync::Arc;

use operators::model::{ChunkSet, EmbeddedSet, ParsedDocument};
use serde::{Deserialize, Serialize};

use crate::runtime::{Checkpoint, Item};

const RAW: u8 = 0;
const LZ4: u8 = 1;
/// Values below this size are not worth compressing.
const COMPRESS_FROM: usize = 512;
/// Largest decoded value accepted (guards against a corrupt size prefix).
const MAX_DECODED: usize = 1 << 30;

/// A checkpoint as stored: an item, "this input produced nothing", or the final failure it
/// ended in (an engine from before failures were stored reads that as damaged: a miss).
#[derive(Serialize, Deserialize)]
enum Stored {
    Nothing,
    Parsed(ParsedDocument),
    Chunks(ChunkSet),
    Embedded(EmbeddedSet),
    Failed(String),
}

/// Why a stored value could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The value is damaged or from an incompatible version.
    #[error("stored value is unreadable: {0}")]
    Corrupt(String),
}

/// Encodes an output; `None` when the item type is not stored (raw documents keep their bytes
/// only in memory and are cheap to re-read).
pub fn encode(output: Option<&Item>) -> Option<Vec<u8>> {
    let packed = match output {
        None => rmp_serde::to_vec_named(&Stored::Nothing),
        Some(Item::Parsed(doc)) => rmp_serde::to_vec_named(&StoredRef::Parsed(doc)),
        Some(Item::Chunks(set)) => rmp_serde::to_vec_named(&StoredRef::Chunks(set)),
        Some(Item::Embedded(set)) => rmp_serde::to_vec_named(&StoredRef::Embedded(set)),
        Some(Item::Document(_)) => return None,
    }
    .ok()?;
    Some(frame(packed))
}

/// Encodes a final failure's message ([`Checkpoint::Failed`]).
pub fn encode_failure(message: &str) -> Vec<u8> {
    frame(rmp_serde::to_vec_named(&StoredRef::Failed(message)).expect("a string always encodes"))
}

/// Borrowing twin of [`Stored`], so encoding does not clone.
#[derive(Serialize)]
enum StoredRef<'a> {
    Parsed(&'a ParsedDocument),
    Chunks(&'a ChunkSet),
    Embedded(&'a EmbeddedSet),
    Failed(&'a str),
}

fn frame(packed: Vec<u8>) -> Vec<u8> {
    if packed.len() >= COMPRESS_FROM {
        let compressed = lz4_flex::compress_prepend_size(&packed);
        if compressed.len() + 1 < packed.len() {
            let mut out = Vec::with_capacity(compressed.len() + 1);
            out.push(LZ4);
            out.extend_from_slice(&compressed);
            return out;
        }
    }
    let mut out = Vec::with_capacity(packed.len() + 1);
    out.push(RAW);
    out.extend_from_slice(&packed);
    out
}

/// Decodes a stored output; a stored failure has none.
pub fn decode(bytes: &[u8]) -> Result<Option<Item>, CodecError> {
    Ok(match decode_checkpoint(bytes)? {
        Checkpoint::Output(output) => output,
        Checkpoint::Failed(_) => None,
    })
}

/// Decodes a stored checkpoint: an output or a final failure.
pub fn decode_checkpoint(bytes: &[u8]) -> Result<Checkpoint, CodecError> {
    let corrupt = |message: String| CodecError::Corrupt(message);
    let (&tag, body) = bytes
        .split_first()
        .ok_or_else(|| corrupt("empty value".into()))?;
    let unpacked;
    let packed = match tag {
        RAW => body,
        LZ4 => {
            let size = body
                .get(..4)
                .map(|prefix| {
                    u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize
                })
                .ok_or_else(|| corrupt("truncated".into()))?;
            if size > MAX_DECODED {
                return Err(corrupt(format!("claims {size} bytes")));
            }
            unpacked = lz4_flex::decompress_size_prepended(body)
                .map_err(|err| corrupt(err.to_string()))?;
            &unpacked
        }
        other => return Err(corrupt(format!("unknown encoding {other}"))),
    };
    let stored: Stored = rmp_serde::from_slice(packed).map_err(|err| corrupt(err.to_string()))?;
    let output = match stored {
        Stored::Nothing => None,
        Stored::Parsed(doc) => Some(Item::Parsed(Arc::new(doc))),
        Stored::Chunks(set) => Some(Item::Chunks(Arc::new(set))),
        Stored::Embedded(set) => Some(Item::Embedded(Arc::new(set))),
        Stored::Failed(message) => return Ok(Checkpoint::Failed(message)),
    };
    Ok(Checkpoint::Output(output))
}

#[cfg(test)]
mod tests {
    use super::*;
    use operators::model::{ChunkDebug, ChunkSizes, Element, ElementKind, Format, OversizedChunk};

    fn parsed(text: &str) -> ParsedDocument {
        let mut metadata = serde_json::Map::new();
        metadata.insert("tags".into(), serde_json::json!(["a", 1, {"b": null}]));
        ParsedDocument {
            doc_id: "a.md".into(),
            source: "/x/a.md".into(),
            format: Format::Markdown,
            title: None,
            markdown: text.into(),
            elements: vec![Element::new(ElementKind::Paragraph, text, [0, text.len()])],
            metadata,
            hash: "h".into(),
            debug: Default::default(),
        }
    }

    #[test]
    fn outputs_round_trip_small_and_compressed() {
        for text in ["short", &"a long repeated paragraph. ".repeat(200)] {
            let item = Item::Parsed(Arc::new(parsed(text)));
            let bytes = encode(Some(&item)).unwrap();
            if text.len() > 1000 {
                assert_eq!(bytes[0], LZ4);
                assert!(bytes.len() < text.len() / 4);
            }
            let Some(Item::Parsed(back)) = decode(&bytes).unwrap() else {
                panic!()
            };
            assert_eq!(back.markdown, text);
            assert_eq!(back.metadata, parsed(text).metadata);
            assert_eq!(back.elements, parsed(text).elements);
        }
        assert!(decode(&encode(None).unwrap()).unwrap().is_none());
    }

    #[test]
    fn a_failure_round_trips_and_is_no_output() {
        for message in ["damaged", &"a long failure message. ".repeat(100)] {
            let bytes = encode_failure(message);
            let Checkpoint::Failed(back) = decode_checkpoint(&bytes).unwrap() else {
                panic!()
            };
            assert_eq!(back, message);
            assert!(decode(&bytes).unwrap().is_none());
        }
        let output = encode(Some(&Item::Parsed(Arc::new(parsed("x"))))).unwrap();
        let Checkpoint::Output(Some(Item::Parsed(_))) = decode_checkpoint(&output).unwrap() else {
            panic!()
        };
    }

    fn chunk_set(debug: ChunkDebug) -> ChunkSet {
        ChunkSet {
            doc_id: "a.md".into(),
            source: "/x/a.md".into(),
            title: Some("A".into()),
            hash: "h".into(),
            chunks: Vec::new(),
            debug: Some(debug),
        }
    }

    fn debug_record(extra: serde_json::Map<String, serde_json::Value>) -> ChunkDebug {
        ChunkDebug {
            strategy: "semantic".into(),
            used: "semantic".into(),
            reasons: vec!["6 sentences in 2 group(s)".into()],
            fallback: None,
            unit: "chars".into(),
            size: 500,
            overlap: 0,
            min_size: 0,
            chunks: 2,
            sizes: Some(ChunkSizes {
                min: 90,
                median: 96,
                max: 96,
            }),
            under_min_size: 0,
            mid_sentence_ends: 1,
            table_chunks: 0,
            oversized: vec![OversizedChunk {
                ordinal: 1,
                size: 96,
            }],
            extra,
        }
    }

    fn decoded_debug(bytes: &[u8]) -> ChunkDebug {
        let Some(Item::Chunks(back)) = decode(bytes).unwrap() else {
            panic!()
        };
        back.debug.clone().unwrap()
    }

    #[test]
    fn chunk_debug_round_trips_with_and_without_extra() {
        let extra = serde_json::json!({
            "sentences": 6, "breakpoints": 1, "groups": 2, "threshold": 0.4321,
            "embedder": "hash:v1:dim=256", "nothing": null,
        });
        let serde_json::Value::Object(extra) = extra else {
            panic!()
        };
        for debug in [debug_record(extra), debug_record(Default::default())] {
            let item = Item::Chunks(Arc::new(chunk_set(debug.clone())));
            assert_eq!(decoded_debug(&encode(Some(&item)).unwrap()), debug);
        }
    }

    #[test]
    fn chunk_debug_reads_old_generic_maps() {
        /// A chunk set as older versions stored it: the debug record a generic JSON value.
        #[derive(Serialize)]
        struct OldChunkSet {
            doc_id: String,
            source: String,
            title: Option<String>,
            hash: String,
            chunks: Vec<operators::model::Chunk>,
            debug: Option<serde_json::Value>,
        }
        let old = serde_json::json!({
            "strategy": "smart", "used": "recursive", "reasons": ["no headings"],
            "fallback": "the document has no pages", "unit": "words", "size": 64, "overlap": 8,
            "min_size": 4, "chunks": 3, "sizes": {"min": 3, "median": 40, "max": 70},
            "under_min_size": 1, "mid_sentence_ends": 0, "table_chunks": 0,
            "oversized": [{"ordinal": 2, "size": 70}], "sentences": 12, "threshold": 0.5,
        });
        let set = OldChunkSet {
            doc_id: "a.md".into(),
            source: "/x/a.md".into(),
            title: None,
            hash: "h".into(),
            chunks: Vec::new(),
            debug: Some(old.clone()),
        };
        #[derive(Serialize)]
        enum OldStored {
            Chunks(OldChunkSet),
        }
        let bytes = frame(rmp_serde::to_vec_named(&OldStored::Chunks(set)).unwrap());
        let debug = decoded_debug(&bytes);
        assert_eq!(debug.used, "recursive");
        assert_eq!(debug.fallback.as_deref(), Some("the document has no pages"));
        assert_eq!(debug.sizes.unwrap().median, 40);
        assert_eq!(debug.oversized[0].ordinal, 2);
        assert_eq!(debug.extra.len(), 2);
        assert_eq!(serde_json::to_value(&debug).unwrap(), old);
        assert_eq!(
            serde_json::to_string(&debug).unwrap(),
            serde_json::to_string(&old).unwrap()
        );
    }

    #[test]
    fn damaged_values_are_errors_not_panics() {
        let bytes = encode(Some(&Item::Parsed(Arc::new(parsed(&"x y ".repeat(500)))))).unwrap();
        for cut in [0, 1, 3, 10, bytes.len() / 2] {
            assert!(decode(&bytes[..cut]).is_err());
        }
        assert!(decode(&[LZ4, 255, 255, 255, 255, 0]).is_err());
        assert!(decode(&[9, 1, 2]).is_err());
    }
}
