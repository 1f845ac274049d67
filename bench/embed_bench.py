#!/usr/bin/env python3
"""Embedding speed, side by side, on the same chunks, model file, threads and batch size:

- the engine's `onnx` provider (operators/examples/embed_bench.rs, release build)
- onnxruntime-python with the tokenizers package, batching the same way (sorted by length,
  padded to each batch's longest)
- sentence-transformers, where it can be installed and load the model

Chunks: ~200-token windows of the Cranfield collection (../shared/eval/ir/cranfield), 2,000 of
them. Run with `just bench-embed` (which runs `just setup` first). Not a test: nothing fails on
a slow result; the figures are printed and written to bench/out/embed.json.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "bge-small-en-v1.5"
OUT = ROOT / "bench" / "out"
CORPUS = ROOT.parent / "shared" / "eval" / "ir" / "cranfield" / "corpus.jsonl"
SAMPLE = ROOT / "sample-corpus"


def make_chunks(count: int, tokenizer, target_tokens: int = 200):
    """`count` windows of about `target_tokens` tokens of real text (Cranfield, else the sample corpus)."""
    if CORPUS.exists():
        words = []
        for line in CORPUS.read_text().splitlines():
            words.extend(json.loads(line)["text"].split())
    else:
        words = []
        for path in sorted(SAMPLE.rglob("*.md")):
            words.extend(path.read_text(errors="replace").split())
    # Words per window for ~target_tokens tokens (model tokens, special tokens included).
    probe = " ".join(words[:5000])
    per_word = len(tokenizer.encode(probe, add_special_tokens=False).ids) / 5000
    size = max(8, int((target_tokens - 2) / per_word))
    stride = max(1, min(size, (len(words) - size) // count))
    chunks = []
    start = 0
    while len(chunks) < count:
        if start + size > len(words):
            start = (start % stride) + 1
        chunks.append(" ".join(words[start : start + size]))
        start += stride
    return chunks


def bench_ort(chunks, threads, batch, runs):
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(MODEL / "model_quantized.onnx"), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(512)
    names = [i.name for i in session.get_inputs()]

    def embed(texts):
        encodings = tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        out = [None] * len(texts)
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {n: feeds[n] for n in names})[0]
            cls = hidden[:, 0, :]
            cls = cls / np.linalg.norm(cls, axis=1, keepdims=True)
            for r, i in enumerate(rows):
                out[i] = cls[r]
        return out

    embed(chunks[:64])
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        vectors = embed(chunks)
        best = min(best, time.perf_counter() - started)
    assert len(vectors) == len(chunks)
    return {"impl": f"onnxruntime-python {ort.__version__}", "chunks": len(chunks), "seconds": best,
            "chunks_per_s": len(chunks) / best}


def bench_sentence_transformers(chunks, threads, batch, runs):
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        return {"impl": "sentence-transformers", "skipped": f"not installed ({err.name}): "
                "it needs torch, whose PyPI wheel for Linux pulls the CUDA stack (GBs); "
                "install sentence-transformers into models/.venv to include it"}
    torch.set_num_threads(threads)
    try:
        model = SentenceTransformer(str(MODEL), backend="onnx",
                                    model_kwargs={"file_name": "model_quantized.onnx"})
    except Exception as err:  # noqa: BLE001 - report whatever stops it
        return {"impl": "sentence-transformers", "skipped": f"cannot load the model: {err}"}
    model.encode(chunks[:64], batch_size=batch)
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        model.encode(chunks, batch_size=batch, normalize_embeddings=True)
        best = min(best, time.perf_counter() - started)
    return {"impl": "sentence-transformers (onnx backend)", "chunks": len(chunks), "seconds": best,
            "chunks_per_s": len(chunks) / best}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3, help="best of N")
    args = parser.parse_args()
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    chunks = make_chunks(args.chunks, tokenizer)
    lengths = [len(e.ids) for e in tokenizer.encode_batch(chunks)]
    OUT.mkdir(parents=True, exist_ok=True)
    texts = OUT / "chunks.jsonl"
    texts.write_text("".join(json.dumps({"text": c}) + "\n" for c in chunks))
    print(f"{len(chunks)} chunks, tokens mean {sum(lengths) / len(lengths):.0f}, min {min(lengths)}, "
          f"max {max(lengths)}; threads {args.threads}, batch {args.batch_size}, best of {args.runs}",
          file=sys.stderr)

    results = []
    engine = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "-p", "operators", "--example", "embed_bench", "--",
         str(texts), str(MODEL), str(args.threads), str(args.batch_size), str(args.runs)],
        cwd=ROOT, check=True, capture_output=True, text=True)
    results.append(json.loads(engine.stdout.strip().splitlines()[-1]))
    results.append(bench_ort(chunks, args.threads, args.batch_size, args.runs))
    results.append(bench_sentence_transformers(chunks, args.threads, args.batch_size, args.runs))

    base = results[0]["chunks_per_s"]
    print(f"{'implementation':<40} {'chunks/s':>9} {'seconds':>8} {'engine ÷ this':>14}")
    for r in results:
        if "skipped" in r:
            print(f"{r['impl']:<40} skipped: {r['skipped']}")
            continue
        r["engine_ratio"] = base / r["chunks_per_s"]
        print(f"{r['impl']:<40} {r['chunks_per_s']:>9.1f} {r['seconds']:>8.2f} {r['engine_ratio']:>13.2f}x")
    (OUT / "embed.json").write_text(json.dumps({"threads": args.threads, "batch_size": args.batch_size,
                                                "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
