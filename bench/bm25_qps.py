#!/usr/bin/env python3
"""BM25 of the engine against bm25s on the same texts and queries, and the index benchmark's table.

Run the engine's side first (`just bench-index` does both):
`cargo run --release -p operators --example index_bench` writes, into
`$CARGO_TARGET_DIR/index-bench/`, the chunks of every size it indexed (`texts-N.jsonl`), the
queries (`queries.jsonl`, Cranfield + Medline) and its figures (`results.json`). This script
indexes the same chunks with bm25s (title + text, Lucene BM25 k1=1.2 b=0.75, English stop words,
Snowball English stemmer from PyStemmer; the engine analyses alike) and times its queries:
top 10, one thread (`n_threads=1`, BLAS/OpenMP pinned to one thread), the same number of timed
passes after one warm-up pass; queries per second are those of the fastest pass on both sides
(other programs on the machine slow some passes down). bm25s's count tokenizing the queries and
retrieving (the engine's count parsing the query, searching and reading the 10 stored hits);
retrieval alone is printed too. Prints one table with both and the ratio, and writes it to
`index-bench/compare.json`.
"""

import json
import os
import pathlib
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import bm25s  # noqa: E402
import Stemmer  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET / "index-bench"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def bm25s_figures(size, queries, rounds):
    rows = read_jsonl(OUT / f"texts-{size}.jsonl")
    assert len(rows) == size, f"texts-{size}.jsonl has {len(rows)} chunks"
    corpus = [(r["title"] + " " + r["text"]).strip() for r in rows]
    stemmer = Stemmer.Stemmer("english")
    start = time.perf_counter()
    tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    retriever.index(tokens, show_progress=False)
    build = time.perf_counter() - start

    def tokenize():
        return bm25s.tokenize(queries, stopwords="en", stemmer=stemmer, show_progress=False)

    def retrieve(query_tokens):
        return retriever.retrieve(query_tokens, k=10, n_threads=1, show_progress=False)

    retrieve(tokenize())  # warm-up
    best = best_retrieve = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        query_tokens = tokenize()
        middle = time.perf_counter()
        retrieve(query_tokens)
        end = time.perf_counter()
        best = min(best, end - start)
        best_retrieve = min(best_retrieve, end - middle)
    return {
        "build_chunks_per_s": size / build,
        "qps": len(queries) / best,
        "retrieve_only_qps": len(queries) / best_retrieve,
    }


def main():
    results = json.loads((OUT / "results.json").read_text())
    queries = [q["text"] for q in read_jsonl(OUT / "queries.jsonl")]
    rounds = results["rounds"]
    rows = []
    for entry in results["sizes"]:
        size = entry["chunks"]
        peer = bm25s_figures(size, queries, rounds)
        entry["bm25s"] = peer
        entry["bm25_qps_ratio"] = entry["latency"]["bm25"]["qps"] / peer["qps"]
        rows.append(entry)

    texts = results["texts"]
    print(
        f"\nIndex benchmark: {len(queries)} queries (Cranfield + Medline) x {rounds} passes, "
        f"top {results['k']}, one thread, defaults (m {results['config']['m']}, "
        f"ef_construction {results['config']['ef_construction']}, "
        f"ef_search {results['config']['ef_search']})."
    )
    print(f"Texts: {texts['real_chunks']} real chunks ({texts['chunking']}; {texts['sources']}),")
    print(f"  {texts['held_out']} of them held out as recall queries; beyond the rest, synthetic:")
    print(f"  {texts['synthetic']}. Vectors: {texts['vectors']}.")
    header = (
        f"{'chunks':>7} {'real':>6} {'synth':>6} | {'build/s BM25':>12} {'HNSW':>6} {'both':>6} | "
        f"{'p50/p99 ms bm25':>15} {'vector':>13} {'hybrid':>13} | "
        f"{'recall@10':>9} {'(queries)':>9} | "
        f"{'BM25 q/s':>8} {'bm25s':>6} {'ratio':>6} {'bm25s ret.':>10}"
    )
    print()
    print(header)
    print("-" * len(header))
    for e in rows:
        lat = e["latency"]
        pp = lambda m: f"{lat[m]['p50_ms']:.2f}/{lat[m]['p99_ms']:.2f}"  # noqa: E731
        print(
            f"{e['chunks']:>7} {e['real']:>6} {e['synthetic']:>6} | "
            f"{e['build']['bm25_chunks_per_s']:>12.0f} {e['build']['hnsw_chunks_per_s']:>6.0f} "
            f"{e['build']['hybrid_chunks_per_s']:>6.0f} | "
            f"{pp('bm25'):>15} {pp('vector'):>13} {pp('hybrid'):>13} | "
            f"{e['recall_at_10']['held_out_chunks']:>9.4f} {e['recall_at_10']['queries']:>9.4f} | "
            f"{lat['bm25']['qps']:>8.0f} {e['bm25s']['qps']:>6.0f} {e['bm25_qps_ratio']:>5.2f}x "
            f"{e['bm25s']['retrieve_only_qps']:>10.0f}"
        )
    print()
    print("build/s: chunks per second; BM25 = Tantivy add + commit, HNSW = graph inserts + save,")
    print("  both = the whole index.hybrid update; bm25s builds at "
          + ", ".join(f"{e['bm25s']['build_chunks_per_s']:.0f}/s ({e['chunks']})" for e in rows)
          + ".")
    print("recall@10: HNSW against exact cosine search, held-out real chunks (queries: the real queries).")
    print("BM25 q/s: engine HybridIndex::search in bm25 mode (parse, search, read 10 hits); bm25s:")
    print("  tokenize + retrieve(k=10, n_threads=1); 'bm25s ret.' = its retrieve alone.")
    bge = results.get("bge")
    if bge:
        r = bge["recall_at_10"]
        print(
            f"bge-small vectors ({bge['chunks']} real chunks, embedded in {bge['embed_seconds']:.0f}s): "
            f"HNSW recall@10 {r['held_out_chunks']:.4f} ({bge['held_out_queries']} held-out chunks), "
            f"{r['queries']:.4f} (real queries)."
        )
    (OUT / "compare.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
