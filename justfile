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
