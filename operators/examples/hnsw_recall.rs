//! HNSW recall@10 against exact search, on an index a pipeline built:
//! every live vector (up to 1,000, evenly spread) is a query; the graph's top 10 is compared with
//! the brute-force top 10.
//!
//! ```sh
//! cargo run --release -p operators --example hnsw_recall -- .engine-eval-cranfield/indexes/eval-cranfield/index
//! ```

use std::path::Path;

use operators::index::HybridIndex;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: hnsw_recall INDEX_DIR");
        std::process::exit(2);
    };
    let index = HybridIndex::open(Path::new(&dir)).unwrap_or_else(|err| {
        eprintln!("error: {err}");
        std::process::exit(1);
    });
    let vectors = index.vectors().unwrap_or_else(|err| {
        eprintln!("error: {err}");
        std::process::exit(1);
    });
    let Some(vectors) = vectors else {
        eprintln!("error: the index holds no vectors");
        std::process::exit(1);
    };
    let ef = index.config().ef_search;
    let step = (vectors.points() / 1000).max(1);
    let (mut found, mut wanted, mut queries) = (0usize, 0usize, 0usize);
    for &point in vectors.point_ids().iter().step_by(step) {
        let Some(query) = vectors.live_vector(point) else {
            continue;
        };
        let exact: Vec<usize> = vectors
            .exact_search(query, 10, None)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let graph: Vec<usize> = vectors
            .graph_search(query, 10, ef)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        // A graph that cannot be walked was not measured: its searches scored every point.
        if vectors.graph_found_unusable() {
            eprintln!(
                "error: the graph is damaged or of an older format: run the pipeline to rebuild it"
            );
            std::process::exit(1);
        }
        found += graph.iter().filter(|p| exact.contains(p)).count();
        wanted += exact.len();
        queries += 1;
    }
    println!(
        "{queries} queries over {} live vectors, ef_search {ef}: HNSW recall@10 = {:.4}",
        vectors.live(),
        found as f64 / wanted.max(1) as f64
    );
}
