//! What is read of an ONNX model from its file without loading it: the names of its outputs,
//! and how many token positions it takes, the rows of its position table (the initializer
//! named `…position_embeddings…` that BERT-style models (bge, MiniLM, e5) have). A text longer
//! than that fails in the model, and an `output` it does not have fails every text, so both
//! are found before a run. Models that encode positions another way (rotary ones) have no such
//! table, and no limit is read.
//!
//! The file is a protobuf `ModelProto`: its `graph` (field 7) holds `initializer`s (field 5),
//! each a `TensorProto` with `dims` (field 1) and `name` (field 8), and `output`s (field 12),
//! each a `ValueInfoProto` with a `name` (field 1). Everything else, the weights' bytes among
//! it, is skipped by seeking, so a model of a gigabyte costs a few reads.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::Path;

/// `ModelProto.graph`.
const MODEL_GRAPH: u64 = 7;
/// `GraphProto.initializer`.
const GRAPH_INITIALIZER: u64 = 5;
/// `TensorProto.dims`.
const TENSOR_DIMS: u64 = 1;
/// `TensorProto.name`.
const TENSOR_NAME: u64 = 8;
/// `GraphProto.output`.
const GRAPH_OUTPUT: u64 = 12;
/// `ValueInfoProto.name`.
const VALUE_INFO_NAME: u64 = 1;
/// The most outputs whose names are read.
const MAX_OUTPUTS: usize = 1024;
/// The longest tensor name read; longer ones are skipped.
const MAX_NAME: u64 = 4096;
/// The most dims read of one tensor.
const MAX_DIMS: usize = 16;

/// What is read of an ONNX model without loading it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelOutline {
    /// The rows of its position table; `None` when it has none.
    pub position_rows: Option<usize>,
    /// The names of its graph's outputs, in order (the first [`MAX_OUTPUTS`]); empty when
    /// the file could not be read to its end as a model.
    pub outputs: Vec<String>,
    /// Why the file is no model onnxruntime could load, when it is not: it cannot be read as
    /// one to its end, or its graph has no outputs.
    pub unreadable: Option<String>,
}

/// The outline of the ONNX model in `path`; `None` when the file cannot be opened. A position
/// table read before the file turned out damaged is kept; outputs are only given whole.
pub fn model_outline(path: &Path) -> Option<ModelOutline> {
    let file = File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    let mut reader = Reader {
        inner: BufReader::with_capacity(64 * 1024, file),
        at: 0,
    };
    let mut outline = ModelOutline::default();
    if reader.model(length, &mut outline).is_err() {
        outline.outputs.clear();
        outline.unreadable = Some("it is damaged (cut short?), or no ONNX model".to_owned());
    } else if outline.outputs.is_empty() {
        outline.unreadable = Some("it holds no graph with outputs".to_owned());
    }
    Some(outline)
}

/// A protobuf reader that knows where it is.
struct Reader<R> {
    inner: BufReader<R>,
    at: u64,
}

/// What a field holds.
enum Value {
    /// A varint.
    Number(u64),
    /// A length-delimited field: its length (not read yet).
    Bytes(u64),
    /// A fixed-width field (already skipped).
    Fixed,
}

fn damaged() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "not an ONNX model")
}

impl<R: Read + Seek> Reader<R> {
    /// Walks the model (of `end` bytes) to its graph, and reads its outline there.
    fn model(&mut self, end: u64, outline: &mut ModelOutline) -> io::Result<()> {
        while self.at < end {
            let (field, value) = self.field(end)?;
            match value {
                Value::Bytes(length) if field == MODEL_GRAPH => {
                    return self.graph(self.at + length, outline);
                }
                Value::Bytes(length) => self.skip(length)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Walks a graph ending at `end` for the rows of its position table and its outputs.
    fn graph(&mut self, end: u64, outline: &mut ModelOutline) -> io::Result<()> {
        while self.at < end {
            let (field, value) = self.field(end)?;
            match value {
                Value::Bytes(length) if field == GRAPH_INITIALIZER => {
                    let (name, dims) = self.tensor(self.at + length)?;
                    if outline.position_rows.is_none()
                        && name.contains("position_embeddings")
                        && dims.len() == 2
                    {
                        outline.position_rows =
                            usize::try_from(dims[0]).ok().filter(|&rows| rows > 0);
                    }
                }
                Value::Bytes(length)
                    if field == GRAPH_OUTPUT && outline.outputs.len() < MAX_OUTPUTS =>
                {
                    let name = self.value_info_name(self.at + length)?;
                    outline.outputs.push(name);
                }
                Value::Bytes(length) => self.skip(length)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The name of a `ValueInfoProto` ending at `end`.
    fn value_info_name(&mut self, end: u64) -> io::Result<String> {
        let mut name = String::new();
        while self.at < end {
            let (field, value) = self.field(end)?;
            match (field, value) {
                (VALUE_INFO_NAME, Value::Bytes(length)) if length <= MAX_NAME => {
                    name = self.text(length)?;
                }
                (_, Value::Bytes(length)) => self.skip(length)?,
                _ => {}
            }
        }
        Ok(name)
    }

    /// `length` bytes as text.
    fn text(&mut self, length: u64) -> io::Result<String> {
        let mut bytes = vec![0; length as usize];
        self.inner.read_exact(&mut bytes)?;
        self.at += length;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A tensor ending at `end`: its name and dims.
    fn tensor(&mut self, end: u64) -> io::Result<(String, Vec<u64>)> {
        let mut name = String::new();
        let mut dims = Vec::new();
        while self.at < end {
            let (field, value) = self.field(end)?;
            match (field, value) {
                (TENSOR_DIMS, Value::Number(dim)) if dims.len() < MAX_DIMS => dims.push(dim),
                (TENSOR_DIMS, Value::Bytes(length)) => {
                    let packed_end = self.at + length;
                    while self.at < packed_end {
                        let dim = self.varint()?;
                        if dims.len() < MAX_DIMS {
                            dims.push(dim);
                        }
                    }
                }
                (TENSOR_NAME, Value::Bytes(length)) if length <= MAX_NAME => {
                    name = self.text(length)?;
                }
                (_, Value::Bytes(length)) => self.skip(length)?,
                _ => {}
            }
        }
        Ok((name, dims))
    }

    /// The next field's number and value; a length-delimited one must end by `end`.
    fn field(&mut self, end: u64) -> io::Result<(u64, Value)> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Number(self.varint()?),
            1 => {
                self.skip(8)?;
                Value::Fixed
            }
            2 => {
                let length = self.varint()?;
                if length > end.saturating_sub(self.at) {
                    return Err(damaged());
                }
                Value::Bytes(length)
            }
            5 => {
                self.skip(4)?;
                Value::Fixed
            }
            _ => return Err(damaged()),
        };
        Ok((key >> 3, value))
    }

    fn varint(&mut self) -> io::Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let mut byte = [0u8];
            self.inner.read_exact(&mut byte)?;
            self.at += 1;
            value |= u64::from(byte[0] & 0x7f) << shift;
            if byte[0] < 0x80 {
                return Ok(value);
            }
        }
        Err(damaged())
    }

    fn skip(&mut self, length: u64) -> io::Result<()> {
        let step = i64::try_from(length).map_err(|_| damaged())?;
        self.inner.seek_relative(step)?;
        self.at += length;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut value: u64, out: &mut Vec<u8>) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    fn bytes_field(field: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    /// A tensor of `dims` named `name`, with `weights` bytes of data, dims packed or not.
    fn tensor(name: &str, dims: &[u64], packed: bool, weights: usize) -> Vec<u8> {
        let mut out = Vec::new();
        if packed {
            let mut packed_dims = Vec::new();
            for &dim in dims {
                varint(dim, &mut packed_dims);
            }
            bytes_field(TENSOR_DIMS, &packed_dims, &mut out);
        } else {
            for &dim in dims {
                varint(TENSOR_DIMS << 3, &mut out);
                varint(dim, &mut out);
            }
        }
        varint(2 << 3, &mut out); // data_type: varint
        varint(1, &mut out);
        bytes_field(TENSOR_NAME, name.as_bytes(), &mut out);
        bytes_field(9, &vec![7u8; weights], &mut out); // raw_data
        out
    }

    fn model(initializers: &[Vec<u8>]) -> Vec<u8> {
        model_with_outputs(initializers, &[])
    }

    fn model_with_outputs(initializers: &[Vec<u8>], outputs: &[&str]) -> Vec<u8> {
        let mut graph = Vec::new();
        bytes_field(1, b"a node, skipped", &mut graph);
        for initializer in initializers {
            bytes_field(GRAPH_INITIALIZER, initializer, &mut graph);
        }
        for output in outputs {
            let mut info = Vec::new();
            bytes_field(VALUE_INFO_NAME, output.as_bytes(), &mut info);
            bytes_field(2, b"a type, skipped", &mut info);
            bytes_field(GRAPH_OUTPUT, &info, &mut graph);
        }
        let mut out = Vec::new();
        varint(1 << 3, &mut out); // ir_version
        varint(8, &mut out);
        bytes_field(2, b"producer", &mut out);
        bytes_field(MODEL_GRAPH, &graph, &mut out);
        out
    }

    fn rows_of(bytes: &[u8]) -> Option<usize> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, bytes).unwrap();
        model_outline(&path)?.position_rows
    }

    #[test]
    fn the_position_table_is_found_past_other_weights() {
        let word = tensor(
            "embeddings.word_embeddings.weight",
            &[30522, 4],
            false,
            300_000,
        );
        let positions = tensor(
            "embeddings.position_embeddings.weight",
            &[512, 4],
            false,
            100,
        );
        assert_eq!(rows_of(&model(&[word.clone(), positions])), Some(512));
        // Quantized models name it `…weight_quantized`, and dims may be packed.
        let quantized = tensor(
            "embeddings.position_embeddings.weight_quantized",
            &[1024, 384],
            true,
            10,
        );
        let scale = tensor("embeddings.position_embeddings.weight_scale", &[], true, 4);
        assert_eq!(rows_of(&model(&[scale, quantized])), Some(1024));
        assert_eq!(rows_of(&model(&[word])), None, "no table, no limit");
    }

    /// The outputs are read past the weights, in order, with the position table.
    #[test]
    fn the_outputs_are_read_with_the_position_table() {
        let positions = tensor(
            "embeddings.position_embeddings.weight",
            &[512, 4],
            true,
            100,
        );
        let bytes = model_with_outputs(&[positions], &["last_hidden_state", "pooler_output"]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(
            model_outline(&path),
            Some(ModelOutline {
                position_rows: Some(512),
                outputs: vec!["last_hidden_state".to_owned(), "pooler_output".to_owned()],
                unreadable: None,
            })
        );
    }

    /// A file that is no model onnxruntime could load (a tokenizer named as `file`, a download
    /// cut short) says so, for `validate` to warn (it said the pipeline was valid).
    #[test]
    fn a_file_that_is_no_loadable_model_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let outline = |bytes: &[u8]| {
            let path = dir.path().join("model.onnx");
            std::fs::write(&path, bytes).unwrap();
            model_outline(&path).unwrap().unreadable
        };
        let whole = model_with_outputs(&[], &["last_hidden_state"]);
        assert_eq!(outline(&whole), None);
        let cut = outline(&whole[..whole.len() - 3]).unwrap();
        assert!(cut.contains("damaged (cut short?)"), "{cut}");
        let json = outline(br#"{"version": "1.0", "model": {"type": "WordPiece"}}"#).unwrap();
        assert!(json.contains("no ONNX model"), "{json}");
        let no_outputs = outline(&model(&[])).unwrap();
        assert!(no_outputs.contains("no graph with outputs"), "{no_outputs}");
    }

    proptest::proptest! {
        /// A model with bytes changed anywhere is read to an answer, never a panic or a hang.
        #[test]
        fn any_damage_is_read_to_an_answer(
            flips in proptest::collection::vec((0usize..400, proptest::num::u8::ANY), 0..8),
            cut in 0usize..400,
        ) {
            let positions = tensor("embeddings.position_embeddings.weight", &[512, 4], true, 60);
            let word = tensor("embeddings.word_embeddings.weight", &[100, 4], false, 200);
            let mut bytes = model(&[word, positions]);
            for (at, value) in flips {
                let at = at % bytes.len();
                bytes[at] = value;
            }
            bytes.truncate(cut.max(1).min(bytes.len()));
            let _any_answer = rows_of(&bytes);
        }
    }

    #[test]
    fn what_is_no_model_gives_no_limit_and_never_panics() {
        let positions = tensor(
            "embeddings.position_embeddings.weight",
            &[512, 4],
            false,
            100,
        );
        let whole = model(&[positions]);
        for cut in [0, 1, 5, whole.len() / 2, whole.len() - 1] {
            assert_eq!(rows_of(&whole[..cut]), None, "cut at {cut}");
        }
        assert_eq!(rows_of(b"not a model at all, just text"), None);
        assert_eq!(rows_of(&[0xff; 64]), None);
        assert_eq!(model_outline(Path::new("/nonexistent/model.onnx")), None);
    }
}
