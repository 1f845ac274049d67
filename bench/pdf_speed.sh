#!/usr/bin/env bash
# PDF parsing speed, side by side: this engine's parser, pdftotext (poppler) and PyMuPDF, on the
# same files (the corpus PDFs whose MANIFEST `expect` is `ok`), best of N rounds each.
#
#   bench/pdf_speed.sh [CORPUS_DIR] [ROUNDS]
#
# Needs: pdftotext (apt-get install -y poppler-utils), PyMuPDF (pip install pymupdf), and a
# release build (this script runs `cargo run --release`; set CARGO_TARGET_DIR to reuse a build).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$here/../shared/corpus}"
rounds="${2:-3}"
[ -f "$corpus/MANIFEST.tsv" ] || { echo "no MANIFEST.tsv in $corpus" >&2; exit 2; }

mapfile -t files < <(awk -F'\t' -v dir="$corpus" 'NR > 1 && $2 == "pdf" && $3 == "ok" { print dir "/" $1 }' "$corpus/MANIFEST.tsv")
pages=$(awk -F'\t' 'NR > 1 && $2 == "pdf" && $3 == "ok" { n += $8 } END { print n }' "$corpus/MANIFEST.tsv")
echo "${#files[@]} files, $pages pages, best of $rounds rounds"

# This engine (its own count of pages is printed too, as a check).
cargo build -q --release -p operators --example pdf_speed --manifest-path "$here/Cargo.toml"
ours=$(cargo run -q --release -p operators --example pdf_speed --manifest-path "$here/Cargo.toml" -- --rounds "$rounds" "${files[@]}")
ours_s=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$ours")

# pdftotext: one process per file, as a user would run it.
best_pdftotext=""
for _ in $(seq "$rounds"); do
  start=$(date +%s.%N)
  for f in "${files[@]}"; do pdftotext -q "$f" /dev/null || true; done
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l)
  if [ -z "$best_pdftotext" ] || (( $(echo "$t < $best_pdftotext" | bc -l) )); then best_pdftotext=$t; fi
done

# PyMuPDF: one interpreter, text of every page (process start-up not counted).
best_pymupdf=$(python3 - "$rounds" "${files[@]}" <<'PY'
import sys, time, warnings
warnings.filterwarnings("ignore")
import pymupdf
rounds, files = int(sys.argv[1]), sys.argv[2:]
best = float("inf")
for _ in range(rounds):
    t = time.perf_counter()
    for f in files:
        with pymupdf.open(f) as d:
            for p in d:
                p.get_text()
    best = min(best, time.perf_counter() - t)
print(f"{best:.3f}")
PY
)

printf '%-12s %8s %10s %12s\n' tool seconds pages/s "vs pdftotext"
row() { printf '%-12s %8.3f %10.1f %11.2fx\n' "$1" "$2" "$(echo "$pages / $2" | bc -l)" "$(echo "$best_pdftotext / $2" | bc -l)"; }
row engine "$ours_s"
row pdftotext "$best_pdftotext"
row pymupdf "$best_pymupdf"
echo "engine: $ours"
