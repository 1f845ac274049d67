# Tasks for the engine. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

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

# Fetch what the engine needs at run time (nothing yet beyond the Rust toolchain).
setup:
    @command -v cargo >/dev/null || { echo "cargo is required: https://rustup.rs"; exit 1; }

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
