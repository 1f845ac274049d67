#!/usr/bin/env python3
"""Chunking speed of the engine against LangChain, chonkie and text-splitter, side by side.

Run `cargo bench -p operators --bench chunking` first (or `just bench-chunk`, which does both):
it measures the engine and the `text-splitter` crate with criterion and writes the exact texts
it chunked to `$CARGO_TARGET_DIR/criterion/chunk-texts.json`. This script chunks the same
texts with the same settings in Python:

- recursive, 2,000 chars: LangChain RecursiveCharacterTextSplitter(chunk_size=2000,
  length_function=len), chonkie RecursiveChunker("character", 2000), chonkie
  TokenChunker("character", 2000);
- recursive, 512 tokens of all-MiniLM-L6-v2 (the committed tokenizer.json, truncation and
  padding off): LangChain with a length function counting that tokenizer's tokens, chonkie
  RecursiveChunker and TokenChunker with the same `tokenizers.Tokenizer`.

No overlap anywhere. Everything runs on one thread (TOKENIZERS_PARALLELISM=false; the engine
chunks one document per worker). Throughput is input bytes over the best of several passes, on
both sides: for the Rust side, the fastest criterion sample (its time per pass). On a busy
machine the best pass is the figure least disturbed by other work. Prints a table with MB/s and the engine's speed-up,
and writes it as JSON to `$CARGO_TARGET_DIR/criterion/chunk-compare.json`.
"""

import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
CRITERION = TARGET / "criterion"
TOKENIZER = ROOT / "operators/tests/data/all-MiniLM-L6-v2.tokenizer.json"


def best_seconds(fn, texts, min_time=3.0, max_runs=10, before_pass=None):
    """Best wall time of one pass over `texts`, after a warm-up pass."""
    count = sum(len(fn(t)) for t in texts)
    best = float("inf")
    spent = 0.0
    runs = 0
    while runs < max_runs and (spent < min_time or runs < 2):
        if before_pass is not None:
            before_pass()
        start = time.perf_counter()
        for t in texts:
            fn(t)
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        runs += 1
    return best, count


def criterion_results():
    """Seconds per pass of the fastest sample of every `chunk/*` criterion benchmark, by id."""
    results = {}
    for bench in (CRITERION / "chunk").glob("*/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        sample = json.loads((bench.parent / "sample.json").read_text())
        per_pass = [t / n for t, n in zip(sample["times"], sample["iters"]) if n > 0]
        results[meta["function_id"]] = min(per_pass) / 1e9
    return results


def main():
    texts_file = CRITERION / "chunk-texts.json"
    if not texts_file.exists():
        sys.exit(f"{texts_file} is missing: run `cargo bench -p operators --bench chunking` first")
    texts = json.loads(texts_file.read_text())
    total = sum(len(t.encode("utf-8")) for t in texts)
    mb = total / 1e6

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(TOKENIZER))
    tok.no_truncation()
    tok.no_padding()

    def count_tokens(text):
        return len(tok.encode(text, add_special_tokens=False).ids)

    from chonkie import RecursiveChunker, TokenChunker
    from chonkie.tokenizer import TokenizersAutoTokenizer
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    chonkie_tok = TokenizersAutoTokenizer(tok)
    python = {
        "chars-2000": {
            "langchain RecursiveCharacterTextSplitter": RecursiveCharacterTextSplitter(
                chunk_size=2000, chunk_overlap=0, length_function=len
            ).split_text,
            "chonkie RecursiveChunker": RecursiveChunker(
                tokenizer="character", chunk_size=2000
            ).chunk,
            "chonkie TokenChunker": TokenChunker(
                tokenizer="character", chunk_size=2000, chunk_overlap=0
            ).chunk,
        },
        "tokens-512": {
            "langchain RecursiveCharacterTextSplitter": RecursiveCharacterTextSplitter(
                chunk_size=512, chunk_overlap=0, length_function=count_tokens
            ).split_text,
            "chonkie RecursiveChunker": RecursiveChunker(
                tokenizer=chonkie_tok, chunk_size=512
            ).chunk,
            "chonkie TokenChunker": TokenChunker(
                tokenizer=chonkie_tok, chunk_size=512, chunk_overlap=0
            ).chunk,
        },
    }
    rust = criterion_results()
    report = {"documents": len(texts), "bytes": total, "settings": {}}
    print(f"{len(texts)} documents, {mb:.2f} MB, one thread\n")
    print(f"{'settings':<11} {'chunker':<42} {'MB/s':>9} {'chunks':>7} {'engine speed-up':>16}")
    for setting, chunkers in python.items():
        rows = []
        engine = rust.get(f"engine/{setting}")
        if engine is None:
            sys.exit(f"no criterion result for engine/{setting}: run the Rust bench first")
        rows.append(("engine (Rust)", engine, None))
        splitter = rust.get(f"text-splitter/{setting}")
        if splitter is not None:
            rows.append(("text-splitter crate (Rust, same sizer)", splitter, None))
        for name, fn in chunkers.items():
            # chonkie's RecursiveChunker memoises token counts of every piece it has seen
            # (functools.lru_cache); later passes over the same texts would only hit that
            # cache, so it is cleared before each pass: every pass chunks texts it has not seen.
            seconds, count = best_seconds(
                fn, texts, before_pass=RecursiveChunker._estimate_token_count.cache_clear
            )
            rows.append((name, seconds, count))
        report["settings"][setting] = {}
        for name, seconds, count in rows:
            speedup = seconds / engine
            report["settings"][setting][name] = {
                "seconds": seconds,
                "mb_per_s": mb / seconds,
                "chunks": count,
                "engine_speedup": speedup,
            }
            chunks = "" if count is None else str(count)
            ratio = "" if name == "engine (Rust)" else f"{speedup:.1f}x"
            print(f"{setting:<11} {name:<42} {mb / seconds:>9.2f} {chunks:>7} {ratio:>16}")
        print()
    (CRITERION / "chunk-compare.json").write_text(json.dumps(report, indent=2))
    print(f"written to {CRITERION / 'chunk-compare.json'}")


if __name__ == "__main__":
    main()
