#!/usr/bin/env python3
"""Writes tests/fixtures/bge_reference.json: vectors onnxruntime-python computes for a few texts
with the model `just setup` fetches. The Rust tests compare the engine's vectors with these.

Independent of the engine on purpose: CLS pooling, L2 normalisation, truncation to 512 tokens
by the tokenizer. Each text is run alone (a batch of one, no padding): the model is int8 with
dynamic quantization, whose activation scales are computed over the whole batch tensor, so a
text's vector shifts slightly (cosine ~0.99-0.999) with its batch mates and padding. Alone is the
canonical vector; the tests compare the engine's batch-of-one vectors with these at >= 0.999.

    python3 -m venv models/.venv && models/.venv/bin/pip install onnxruntime==1.32.0 numpy tokenizers
    models/.venv/bin/python scripts/reference_vectors.py
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "bge-small-en-v1.5"
OUT = ROOT / "tests" / "fixtures" / "bge_reference.json"
QUERY_PREFIX = "Represent this sentence for searching relevant passages: "
MAX_TOKENS = 512

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Rust's ownership system guarantees memory safety without a garbage collector.",
    "A borrowed reference must never outlive the value it points to.",
    "Cargo is Rust's build system and package manager.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The boundary layer separates from the surface of the wing at high angles of attack.",
    "Hello",
    "",
    "Ünïcödé, emoji 🦀 and symbols: α + β = γ; 東京は日本の首都です。",
    "# Heading\n\n- a list item with `code`\n- another item\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    "To resume an interrupted run, start it again: finished steps are read from checkpoints.",
    # Longer than 512 tokens: checks truncation.
    " ".join(f"word{i} is followed by some more text about topic {i % 7}." for i in range(200)),
]
QUERY = "how does rust prevent dangling references?"


def embed(session, tokenizer, texts):
    encodings = tokenizer.encode_batch(texts, add_special_tokens=True)
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask = np.zeros((len(texts), width), dtype=np.int64)
    types = np.zeros((len(texts), width), dtype=np.int64)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = 1
        types[row, : len(e.ids)] = e.type_ids
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    names = [i.name for i in session.get_inputs()]
    hidden = session.run(None, {name: feeds[name] for name in names})[0]
    cls = hidden[:, 0, :]
    cls = cls / np.maximum(np.linalg.norm(cls, axis=1, keepdims=True), 1e-12)
    return cls, [len(e.ids) for e in encodings], [len(e.overflowing) > 0 for e in encodings]


def main():
    model_file = MODEL / "model_quantized.onnx"
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    session = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    results = [embed(session, tokenizer, [text]) for text in TEXTS]
    vectors = np.concatenate([r[0] for r in results])
    lengths = [r[1][0] for r in results]
    truncated = [r[2][0] for r in results]
    query, _, _ = embed(session, tokenizer, [QUERY_PREFIX + QUERY])
    fixture = {
        "generator": "scripts/reference_vectors.py",
        "onnxruntime": ort.__version__,
        "model_sha256": hashlib.sha256(model_file.read_bytes()).hexdigest(),
        "pooling": "cls",
        "max_tokens": MAX_TOKENS,
        "query_prefix": QUERY_PREFIX,
        "texts": TEXTS,
        "tokens": lengths,
        "truncated": truncated,
        "vectors": [[round(float(x), 7) for x in v] for v in vectors],
        "query": QUERY,
        "query_vector": [round(float(x), 7) for x in query[0]],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture) + "\n")
    print(f"wrote {OUT} ({len(TEXTS)} texts, {vectors.shape[1]} dimensions, truncated: {sum(truncated)})")


if __name__ == "__main__":
    main()
