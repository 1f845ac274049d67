#!/usr/bin/env python3
"""End to end: a folder of documents to a persisted hybrid knowledge base, engine vs LlamaIndex.

Both sides read the same folder (a temporary copy, so edits never touch the original), cut it
into chunks of up to 256 bge-small tokens with 32 of overlap, embed every chunk with the same
ONNX model files (models/bge-small-en-v1.5, int8; CLS pooling, normalized, 512 tokens at most,
batches of 32, 2 onnxruntime intra-op threads) and persist a BM25 + vector index to disk:

- engine: `engine run` of bench/e2e.yaml (source.files → parse → chunk.recursive (tokens) →
  embed (onnx) → index.hybrid), copied next to the corpus with `path`, `store` and `model` made
  absolute; its store holds the checkpoints and the index.
- LlamaIndex (llama-index-core 0.14): SimpleDirectoryReader (filename_as_id; pypdf for PDF,
  docx2txt for DOCX, BeautifulSoup body text for HTML, plain text for the rest) → an
  IngestionPipeline with a docstore, a cache and a vector store (docstore_strategy
  upserts_and_delete: LlamaIndex's own way to skip unchanged documents and replace edited ones)
  running SentenceSplitter (the bge tokenizer counts the tokens) and a BaseEmbedding subclass
  that runs the same model with onnxruntime + tokenizers → VectorStoreIndex (SimpleVectorStore)
  and a BM25Retriever (llama-index-retrievers-bm25, bm25s), all persisted under one folder.

Scenarios, each a fresh process timed wall-clock with its peak RSS (/usr/bin/time):
cold (empty store), no change (run again), one edited document (a paragraph appended to one
Markdown file, then run again). Cold runs 3 times on the sample corpus and once on the shared
one by default; the other two `--runs` times (median shown). A warm-up of both sides on the
sample corpus comes first (page cache, Python bytecode) and is reported on its own line, not in
the table. The engine runs from a private copy of the binary (a shared target folder may get a
new build mid-benchmark); its build time and hash go into the JSON.

Run with `just bench-e2e` (which builds the release binary and this script's venv under the
target folder). Not a test: nothing fails on a slow result; the table goes to stdout and JSON to
$CARGO_TARGET_DIR/e2e/e2e.json.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")).resolve()
MODEL = ROOT / "models" / "bge-small-en-v1.5"
PIPELINE = ROOT / "bench" / "e2e.yaml"
SAMPLE = ROOT / "sample-corpus"
# ../shared/corpus beside the clone (or beside the folder of worktrees); E2E_CORPUS overrides it.
SHARED = next((p for p in [Path(os.environ.get("E2E_CORPUS", "/nonexistent")), ROOT.parent / "shared" / "corpus",
                           ROOT.parent.parent / "shared" / "corpus"] if (p / "MANIFEST.tsv").is_file()),
              ROOT.parent / "shared" / "corpus")
sys.path.insert(0, str(ROOT / "bench"))

# The edited document of each corpus (a Markdown file both sides read as text).
EDITED = {"sample": "rust-book/ch16-01-threads.md", "shared": "md/rust-book__ch16-01-threads.md"}

CHUNK_SIZE, CHUNK_OVERLAP = 256, 32


# ----------------------------------------------------------------------------------------------
# The LlamaIndex side (runs in a child process: `e2e_bench.py --llamaindex CORPUS STORAGE`).


def llamaindex_run(corpus: Path, storage: Path, threads: int, batch_size: int) -> dict:
    """One LlamaIndex ingestion of `corpus` into `storage` (created or updated); figures as a dict."""
    phases = {}
    started = time.perf_counter()
    from onnx_bge import onnx_bge_embedding
    from llama_index.core import Settings, StorageContext, VectorStoreIndex, load_index_from_storage
    from llama_index.core.ingestion import DocstoreStrategy, IngestionCache, IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.readers import SimpleDirectoryReader
    from llama_index.core.schema import Document
    from llama_index.core.storage.docstore import SimpleDocumentStore
    from llama_index.core.vector_stores import SimpleVectorStore
    from llama_index.readers.file import HTMLTagReader
    from llama_index.retrievers.bm25 import BM25Retriever

    phases["import"] = time.perf_counter() - started

    class HTMLBodyReader(HTMLTagReader):
        """HTMLTagReader(tag="body"), reading bytes so that BeautifulSoup finds the charset
        (HTMLTagReader opens every file as UTF-8 and so fails on a cp1252 page)."""

        def load_data(self, file, extra_info=None):
            from bs4 import BeautifulSoup

            soup = BeautifulSoup(Path(file).read_bytes(), "html.parser")
            body = soup.body or soup
            text = "\n".join(line for line in (s.strip() for s in body.get_text("\n").splitlines()) if line)
            return [Document(text=text, metadata={"file_path": str(file), **(extra_info or {})})]

    embed_model = onnx_bge_embedding(MODEL, threads, batch_size)
    Settings.embed_model = embed_model
    bge = embed_model._tokenizer
    splitter = SentenceSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP,
                                tokenizer=lambda text: bge.encode(text, add_special_tokens=False).ids)
    phases["setup"] = time.perf_counter() - started - phases["import"]

    mark = time.perf_counter()
    html = HTMLBodyReader()
    reader = SimpleDirectoryReader(str(corpus), recursive=True, filename_as_id=True,
                                   file_extractor={".html": html, ".htm": html})
    documents = reader.load_data()
    phases["read"] = time.perf_counter() - mark

    mark = time.perf_counter()
    pipeline_dir, index_dir, bm25_dir = storage / "pipeline", storage / "index", storage / "bm25"
    fresh = not index_dir.exists()
    if fresh:
        vector_store = SimpleVectorStore()
        index = VectorStoreIndex([], storage_context=StorageContext.from_defaults(vector_store=vector_store),
                                 embed_model=embed_model)
    else:
        index = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(index_dir)),
                                        embed_model=embed_model)
        vector_store = index.storage_context.vector_store
    pipeline = IngestionPipeline(transformations=[splitter, embed_model], docstore=SimpleDocumentStore(),
                                 vector_store=vector_store, cache=IngestionCache(),
                                 docstore_strategy=DocstoreStrategy.UPSERTS_AND_DELETE)
    if not fresh:
        pipeline.load(str(pipeline_dir))
    known = set(pipeline.docstore.get_all_document_hashes().values())
    phases["load"] = time.perf_counter() - mark

    mark = time.perf_counter()
    nodes = pipeline.run(documents=documents)
    phases["pipeline"] = time.perf_counter() - mark

    # The pipeline replaced the vectors of changed documents and dropped those of removed ones;
    # the index's node store (text for BM25 and for answers) follows the same way.
    mark = time.perf_counter()
    changed = {node.ref_doc_id for node in nodes}
    removed = known - {doc.id_ for doc in documents}
    for ref_doc_id in (changed | removed) & set(index.ref_doc_info):
        index.delete_ref_doc(ref_doc_id, delete_from_docstore=True)
    index.insert_nodes(list(nodes))
    phases["index"] = time.perf_counter() - mark

    mark = time.perf_counter()
    total = len(index.docstore.docs)
    if fresh or changed or removed:
        bm25 = BM25Retriever.from_defaults(docstore=index.docstore, similarity_top_k=10)
        phases["bm25"] = time.perf_counter() - mark
        mark = time.perf_counter()
        bm25.persist(str(bm25_dir))
        index.storage_context.persist(persist_dir=str(index_dir))
        pipeline.persist(str(pipeline_dir))
        phases["persist"] = time.perf_counter() - mark
    return {
        "documents": len(documents),  # LlamaIndex Documents (one per file, one per PDF page)
        "files": len({doc.metadata.get("file_path") for doc in documents}),
        "chunks_total": total,
        "chunks_embedded": embed_model._stats["texts"],
        "tokens_embedded": embed_model._stats["tokens"],
        "tokens_padded": embed_model._stats["padded"],
        "embed_seconds": embed_model._stats["seconds"],
        "phases": phases,
        "seconds_inside": time.perf_counter() - started,
    }


# ----------------------------------------------------------------------------------------------
# The driver.


def timed(command, cwd=None, env=None):
    """Runs `command` under /usr/bin/time; (completed process, wall s, user+sys s, peak RSS MB)."""
    stats = TARGET / "e2e" / "time.txt"
    stats.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["/usr/bin/time", "-o", str(stats), "-f", "%e %U %S %M", *map(str, command)],
                          cwd=cwd, env=env, capture_output=True, text=True)
    wall, user, system, rss_kib = stats.read_text().strip().splitlines()[-1].split()
    return done, float(wall), float(user) + float(system), int(rss_kib) / 1024


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6 if path.exists() else 0.0


def copy_corpus(name: str, dest: Path) -> int:
    """Copies the documents of corpus `name` into `dest`; returns how many files."""
    if dest.exists():
        shutil.rmtree(dest)
    if name == "sample":
        shutil.copytree(SAMPLE, dest)
    else:
        # Only the documents MANIFEST.tsv lists, never the *.ref.* / *.struct.* references.
        rows = (SHARED / "MANIFEST.tsv").read_text().splitlines()[1:]
        for row in rows:
            file = row.split("\t")[0]
            (dest / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(SHARED / file, dest / file)
    return sum(1 for f in dest.rglob("*") if f.is_file())


def engine_pipeline(work: Path, corpus: Path, store: Path) -> Path:
    """bench/e2e.yaml with its corpus, store and model paths pointed at absolute folders."""
    text = PIPELINE.read_text()
    for key, value in (("path", corpus), ("store", store), ("model", MODEL)):
        text, count = re.subn(rf"(\b{key}: )\S+?(?=[ ,}}\n])", lambda m: m.group(1) + str(value), text, count=1)
        assert count == 1, f"bench/e2e.yaml has no `{key}:`"
    path = work / "e2e.yaml"
    path.write_text(text)
    return path


def run_engine(engine: Path, pipeline: Path, store: Path) -> dict:
    done, wall, cpu, rss = timed([engine, "run", "--json", pipeline])
    if done.returncode not in (0, 1):  # 1: finished, with failed items (the broken documents)
        sys.exit(f"engine run failed ({done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    report = json.loads(done.stdout)
    steps = report["steps"]
    inspect = subprocess.run([engine, "inspect", report["run_id"], "--store", store, "--step", "embed", "--json"],
                             capture_output=True, text=True, check=True)
    embed = json.loads(inspect.stdout)
    batches, embedded = {}, 0
    for doc in embed["documents"]:
        debug = doc.get("debug") or {}
        if doc.get("cached"):
            continue  # served from the checkpoint (its debug record is that of the run that made it)
        embedded += debug.get("chunks", 0)
        for batch in (debug.get("debug") or {}).get("batches", []):
            batches[(batch["size"], batch["padded_len"], batch["tokens"], batch["seconds"])] = batch
    return {
        "wall": wall, "cpu": cpu, "rss_mb": rss, "seconds_inside": report["seconds"],
        "parsed": steps["parse"]["out"], "parse_failed": steps["parse"]["failed"],
        "computed_docs": steps["embed"]["in"] - steps["embed"]["cached"],
        "chunks_embedded": embedded,
        "tokens_embedded": sum(b["tokens"] for b in batches.values()),
        "tokens_padded": sum(b["size"] * b["padded_len"] for b in batches.values()),
        # Summed per batch; a batch's seconds include waiting for the model session while the
        # step's other worker runs a batch, so this can exceed the step's wall time.
        # At most one batch runs the model at a time, so the embed step's own wall time bounds it.
        "embed_seconds": min(sum(b["seconds"] for b in batches.values()), steps["embed"]["seconds"]),
        "embed_batch_seconds_sum": sum(b["seconds"] for b in batches.values()),
        "embed_step_seconds": steps["embed"]["seconds"],
        "step_seconds": {name: step["seconds"] for name, step in steps.items()},
    }


def engine_chunks_total(engine: Path, store: Path) -> int:
    """Chunks in the knowledge base: the chunk step's output of the latest run, cached or not."""
    out = subprocess.run([engine, "inspect", "latest", "--store", store, "--step", "chunk", "--json"],
                         capture_output=True, text=True, check=True)
    return sum((d.get("debug") or {}).get("chunks", 0) for d in json.loads(out.stdout)["documents"])


def run_llamaindex(corpus: Path, storage: Path, args) -> dict:
    done, wall, cpu, rss = timed([sys.executable, __file__, "--llamaindex", corpus, storage,
                                  "--threads", args.threads, "--batch-size", args.batch_size])
    if done.returncode != 0:
        sys.exit(f"LlamaIndex run failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    skipped = [line for line in done.stdout.splitlines() if line.startswith("Failed to load file")]
    result.update({"wall": wall, "cpu": cpu, "rss_mb": rss, "files_failed": len(skipped)})
    return result


def edit(corpus: Path, name: str, n: int) -> None:
    with open(corpus / EDITED[name], "a") as f:
        f.write(f"\n\nEdit {n} of the end-to-end benchmark: a paragraph appended to one document, to "
                f"see how much of the knowledge base each side rebuilds when a single file changes.\n")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def bench_corpus(name: str, engine: Path, args, warmup: bool = False) -> dict:
    work = TARGET / "e2e" / ("warmup" if warmup else name)
    corpus = work / "corpus"
    files = copy_corpus(name, corpus)
    store, storage = work / "engine-store", work / "llamaindex-storage"
    pipeline = engine_pipeline(work, corpus, store)
    cold_runs = 1 if warmup else args.cold_runs or (3 if name == "sample" else 1)
    plan = [("cold", 1)] if warmup else [("cold", cold_runs), ("no change", args.runs),
                                                     ("one edited document", args.runs)]
    rows = []
    for scenario, runs in plan:
        samples = {"engine": [], "llamaindex": []}
        for n in range(runs):
            if scenario == "cold":
                for path in (store, storage):
                    shutil.rmtree(path, ignore_errors=True)
            if scenario == "one edited document":
                edit(corpus, name, n)
            # Alternate which side goes first, so that neither always runs after the other.
            order = ("engine", "llamaindex") if n % 2 == 0 else ("llamaindex", "engine")
            for side in order:
                load = load_average()
                if side == "engine":
                    result = run_engine(engine, pipeline, store)
                    result["chunks_total"] = engine_chunks_total(engine, store)
                    result["store_mb"] = du_mb(store)
                else:
                    result = run_llamaindex(corpus, storage, args)
                    result["store_mb"] = du_mb(storage)
                result["load_before"] = load
                samples[side].append(result)
                print(f"  {name} · {scenario} · run {n + 1} · {side}: {result['wall']:.2f} s, "
                      f"{result['rss_mb']:.0f} MB, {result['chunks_embedded']} chunks embedded "
                      f"(load {load})", file=sys.stderr, flush=True)
        rows.append({"corpus": name, "files": files, "scenario": scenario, "runs": samples})
    return rows


def median_of(samples, key):
    return statistics.median(s[key] for s in samples)


def print_table(rows):
    print()
    head = (f"{'corpus · scenario':<30} {'side':<10} {'chunks':>7} {'embedded':>8} {'tokens':>8} "
            f"{'seconds':>8} {'cpu s':>7} {'docs/s':>7} {'peak MB':>8} {'store MB':>8} {'embed s':>8}")
    print(head)
    print("-" * len(head))
    for row in rows:
        figures = {}
        for side in ("engine", "llamaindex"):
            samples = row["runs"][side]
            wall = median_of(samples, "wall")
            figures[side] = (wall, median_of(samples, "rss_mb"))
            last = samples[-1]
            print(f"{row['corpus'] + ' · ' + row['scenario']:<30} {side:<10} {last['chunks_total']:>7} "
                  f"{int(median_of(samples, 'chunks_embedded')):>8} {int(median_of(samples, 'tokens_embedded')):>8} "
                  f"{wall:>8.2f} {median_of(samples, 'cpu'):>7.1f} {row['files'] / wall:>7.1f} "
                  f"{figures[side][1]:>8.0f} {last['store_mb']:>8.1f} "
                  f"{('≤' if side == 'engine' else '') + format(median_of(samples, 'embed_seconds'), '.2f'):>8}")
        (ew, er), (lw, lr) = figures["engine"], figures["llamaindex"]
        print(f"{'':<30} {'ratio':<10} LlamaIndex ÷ engine: time {lw / ew:.2f}×, peak RSS {lr / er:.2f}× "
              f"(median of {len(row['runs']['engine'])})")
    print()
    print("chunks: in the knowledge base after the run; embedded: chunks embedded by this run; tokens: "
          "tokens embedded (special tokens included); docs/s: files in the folder over wall seconds; "
          "embed s: seconds in embedding calls (LlamaIndex: measured in the embedding class; engine: an "
          "upper bound, the smaller of its batches' summed seconds, which include waits for the model "
          "session the step's two workers share, and the embed step's wall time).")
    print()
    print("Where the time goes (medians). LlamaIndex phases: import, setup (model load), read "
          "(SimpleDirectoryReader), load (persisted storage), pipeline (split + embed), index, bm25, persist. "
          "Padding: tokens run through the model over real tokens.")
    for row in rows:
        li = row["runs"]["llamaindex"]
        phases = {key: statistics.median(s["phases"].get(key, 0.0) for s in li)
                  for key in ("import", "setup", "read", "load", "pipeline", "index", "bm25", "persist")}
        pad = {side: sum(s["tokens_padded"] for s in row["runs"][side]) /
               max(1, sum(s["tokens_embedded"] for s in row["runs"][side])) for side in ("engine", "llamaindex")}
        eng = row["runs"]["engine"]
        print(f"  {row['corpus'] + ' · ' + row['scenario']:<30} LlamaIndex "
              + " ".join(f"{k} {v:.2f}" for k, v in phases.items())
              + f" | engine embed step {median_of(eng, 'embed_step_seconds'):.2f} of {median_of(eng, 'wall'):.2f}"
              + f" | padding engine {pad['engine']:.2f}×, LlamaIndex {pad['llamaindex']:.2f}×")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", type=Path, default=TARGET / "release" / "engine",
                        help="the engine binary (default: $CARGO_TARGET_DIR/release/engine)")
    parser.add_argument("--corpus", action="append", choices=["sample", "shared"],
                        help="corpora to run (default: both)")
    parser.add_argument("--runs", type=int, default=3, help="runs of the no-change and edit scenarios")
    parser.add_argument("--cold-runs", type=int, help="cold runs per corpus (default: 3 sample, 1 shared)")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads, both sides")
    parser.add_argument("--batch-size", type=int, default=32, help="texts per model call, both sides")
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--llamaindex", nargs=2, type=Path, metavar=("CORPUS", "STORAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.llamaindex:
        print(json.dumps(llamaindex_run(*args.llamaindex, args.threads, args.batch_size)))
        return

    if not args.engine.is_file():
        sys.exit(f"no engine binary at {args.engine}: `cargo build --release --bin engine` or pass --engine")
    if not (MODEL / "model_quantized.onnx").is_file():
        sys.exit("no model in models/: run `just setup`")
    if args.threads != 2 or args.batch_size != 32:
        sys.exit("bench/e2e.yaml sets threads 2 and batch_size 32: edit it as well to change them")
    corpora = args.corpus or ["sample", "shared"]
    if "shared" in corpora and not (SHARED / "MANIFEST.tsv").is_file():
        print(f"no {SHARED}: running the sample corpus only", file=sys.stderr)
        corpora = [c for c in corpora if c != "shared"]

    # A private copy of the binary: a shared target folder may get a new build in the middle of
    # the benchmark, which would mix two engines in one table.
    pinned = TARGET / "e2e" / "engine"
    pinned.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(args.engine, pinned)
    built = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(args.engine.stat().st_mtime))
    args.engine = pinned

    import hashlib

    import llama_index.core
    import onnxruntime

    versions = {"llama-index-core": llama_index.core.__version__, "onnxruntime (python)": onnxruntime.__version__,
                "engine": subprocess.run([args.engine, "--version"], capture_output=True, text=True).stdout.strip(),
                "engine_built": built,
                "engine_blake2b": hashlib.blake2b(pinned.read_bytes(), digest_size=8).hexdigest()}
    print(f"{versions}; threads {args.threads}, batch {args.batch_size}, chunks ≤ {CHUNK_SIZE} tokens "
          f"(overlap {CHUNK_OVERLAP}); {os.cpu_count()} cores", file=sys.stderr)

    warmup = []
    if not args.no_warmup:
        warmup = bench_corpus("sample", args.engine, args, warmup=True)
        w = warmup[0]["runs"]
        print(f"warm-up (sample corpus, cold, not in the table): engine {w['engine'][0]['wall']:.2f} s, "
              f"LlamaIndex {w['llamaindex'][0]['wall']:.2f} s", file=sys.stderr)
    rows = []
    for name in corpora:
        rows.extend(bench_corpus(name, args.engine, args))
    out = TARGET / "e2e" / "e2e.json"
    out.write_text(json.dumps({"versions": versions, "threads": args.threads, "batch_size": args.batch_size,
                               "chunk_size": CHUNK_SIZE, "chunk_overlap": CHUNK_OVERLAP, "cores": os.cpu_count(),
                               "warmup": warmup, "rows": rows}, indent=2) + "\n")
    print(f"JSON: {out}", file=sys.stderr)
    print_table(rows)


if __name__ == "__main__":
    main()
