//! `engine compare`: every index step (branch) of a pipeline evaluated on the same queries, side by
//! side, with paired significance tests when judgments are given.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use operators::eval::{self, METRICS, Scores};
use operators::index::{Fusion, Mode};
use serde_json::{Value, json};

use crate::failure::invalid;
use crate::inspect::{find_run, output_of};
use crate::query::{Searcher, all_zeros, index_dir, index_steps};
use crate::spec::load::Pipeline;
use crate::store::Store;
use crate::unsearchable::UnsearchableQueries;

/// What to compare.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// `queries.jsonl` (`{"_id", "text"}`).
    pub queries: PathBuf,
    /// BEIR qrels TSV, when there are judgments.
    pub qrels: Option<PathBuf>,
    /// Depth of the side-by-side lists and overlaps.
    pub k: usize,
    /// Modes to evaluate.
    pub modes: Vec<Mode>,
    /// Index steps to compare (default: all).
    pub indexes: Option<Vec<String>>,
    /// Randomisation test trials.
    pub trials: usize,
    /// How hybrid mode fuses the two lists.
    pub fusion: Fusion,
    /// Runs of other systems (name, TREC run file), compared with every branch and mode.
    pub runs: Vec<(String, PathBuf)>,
}

/// Documents ranked per query for one branch and mode.
type Rankings = HashMap<String, Vec<String>>;

/// Documents kept per query (Recall@100 needs 100).
const DEPTH: usize = 100;

/// The "mode" of a run read from a file: it is compared with every branch and mode.
const RUN: &str = "run";

/// The name of `mode`, as `--mode` takes it.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Bm25 => "bm25",
        Mode::Vector => "vector",
        Mode::Hybrid => "hybrid",
    }
}

/// Runs every query against every branch and mode.
pub fn compare(pipeline: &Pipeline, options: &CompareOptions) -> anyhow::Result<Value> {
    let steps: Vec<String> = match &options.indexes {
        Some(steps) => steps.clone(),
        None => index_steps(pipeline)
            .into_iter()
            .map(str::to_owned)
            .collect(),
    };
    if steps.is_empty() && options.runs.is_empty() {
        return Err(invalid(format!(
            "{} has no index.hybrid step to compare (and no --run was given)",
            pipeline.file.display()
        )));
    }
    let queries = eval::read_queries(&options.queries)?;
    let (qrels, mut warnings) = match options.qrels.as_deref() {
        Some(path) => {
            let (qrels, notes) = eval::read_qrels_noting(path)?;
            (Some(qrels), notes)
        }
        None => (None, Vec::new()),
    };
    let judged_queries = match (&qrels, &options.qrels) {
        (Some(qrels), Some(path)) => Some(eval::judged_queries(&queries, qrels, path)?.len()),
        _ => None,
    };
    // Other systems' runs first: a file that cannot be read fails before any query runs.
    let mut runs = serde_json::Map::new();
    // What to know to read the figures, beside the warnings about the inputs.
    let mut notes = Vec::new();
    let mut external = Vec::new();
    for (name, path) in &options.runs {
        if steps.contains(name) || runs.contains_key(name) {
            return Err(invalid(format!(
                "two systems are named `{name}`: give the run another name (--run NAME=FILE)"
            )));
        }
        let (ranked, coverage, run_notes) = external_run(name, path, &queries)?;
        external.push((name.clone(), ranked));
        runs.insert(name.clone(), coverage);
        notes.extend(run_notes);
    }
    if let (Some(qrels), Some(judged)) = (&qrels, judged_queries) {
        notes.extend(unscored_note(&queries, qrels, judged));
    }
    // Every index opens before any query runs: a missing one fails at once.
    let mut searchers = Vec::new();
    for step in &steps {
        let searcher = Searcher::open(pipeline, step)?;
        searchers.push((step, searcher));
    }
    if let (Some(qrels), Some(path)) = (&qrels, &options.qrels) {
        let held = |doc: &str| {
            searchers
                .iter()
                .any(|(_, searcher)| searcher.index.holds(doc))
        };
        warnings.extend(unknown_documents(held, &queries, qrels, path));
    }
    let indexed_chunks: BTreeMap<String, u64> = (searchers.iter())
        .map(|(step, searcher)| ((*step).clone(), searcher.index.chunks()))
        .collect();
    let mut rankings: BTreeMap<(String, &'static str), Rankings> = BTreeMap::new();
    let mut unsearchable = UnsearchableQueries::default();
    for (step, searcher) in searchers {
        for (id, text) in &queries {
            let vector = if options.modes.iter().any(|mode| *mode != Mode::Bm25) {
                Some(searcher.embed_query(text)?)
            } else {
                None
            };
            let no_terms = (options.modes.iter().any(|mode| *mode != Mode::Vector))
                && searcher.index.search_terms(text).is_empty();
            let no_direction = vector.as_deref().is_some_and(all_zeros);
            for mode in &options.modes {
                unsearchable.add(step, *mode, id, no_terms, no_direction);
                let hits = searcher.search_documents(
                    text,
                    vector.as_deref(),
                    *mode,
                    DEPTH,
                    &[],
                    options.fusion,
                )?;
                let documents = hits.into_iter().map(|hit| hit.stored.doc_id).collect();
                rankings
                    .entry((step.clone(), mode_name(*mode)))
                    .or_default()
                    .insert(id.clone(), documents);
            }
        }
        warnings.extend(searcher.rebuilt_graph_note());
    }
    warnings.extend(unsearchable.warnings(queries.len()));
    for (name, ranked) in external {
        rankings.insert((name, RUN), ranked);
    }
    // Only a store that exists: this report never creates one. One that cannot be opened (a
    // run holds it, or it is read-only to this user) leaves out what needs it, and says so.
    let store = match pipeline.store.join("db").is_dir() {
        false => None,
        true => Store::open(&pipeline.store)
            .map_err(|err| warnings.push(unreadable_store(&err)))
            .ok(),
    };
    let run = store
        .as_ref()
        .and_then(|store| find_run(store, "latest", Some(&pipeline.name)).ok());
    let mut report = json!({
        "queries": queries.len(),
        "judged_queries": judged_queries,
        "fusion": fusion_json(options.fusion),
        "branches": {},
        "pairs": [],
        "chunks": chunk_statistics(pipeline, store.as_ref(), run.as_ref(), &indexed_chunks),
        "warnings": warnings,
        "notes": notes,
    });
    if !runs.is_empty() {
        report["runs"] = Value::Object(runs);
    }
    match &qrels {
        Some(qrels) => judged(&mut report, &rankings, qrels, options),
        None => unjudged(&mut report, &rankings, &queries, options),
    }
    Ok(report)
}

/// The documents a TREC run ranks for each query (a query it lacks ranks none, as
/// `trec_eval -c` counts it), how well it covers the queries, and the notes that says to
/// whoever reads its figures (`name` is the run's).
fn external_run(
    name: &str,
    path: &std::path::Path,
    queries: &[(String, String)],
) -> anyhow::Result<(Rankings, Value, Vec<String>)> {
    let eval::TrecRun {
        ranked: mut run,
        repeated,
    } = eval::read_trec_run(path)?;
    let mut ranked = Rankings::new();
    let mut missing = Vec::new();
    for (id, _) in queries {
        let mut documents = run.remove(id).unwrap_or_else(|| {
            missing.push(id.clone());
            Vec::new()
        });
        documents.truncate(DEPTH);
        ranked.insert(id.clone(), documents);
    }
    let mut unknown: Vec<String> = run.into_keys().collect();
    unknown.sort();
    let file = path.display().to_string();
    let mut notes = Vec::new();
    if !missing.is_empty() {
        notes.push(format!(
            "run `{name}` has no results for {} of the queries; they count as retrieving nothing",
            missing.len()
        ));
    }
    if !unknown.is_empty() {
        notes.push(format!(
            "run `{name}` ranks {} queries that are not in the queries file; they are left out",
            unknown.len()
        ));
    }
    let mut coverage = json!({
        "file": file,
        "queries_missing": missing,
        "queries_not_asked": unknown,
        "lines_repeating_a_document": repeated.len(),
    });
    if let Some((line, query, doc, first)) = repeated.first() {
        notes.push(format!(
            "run `{name}` lists a document again for its query on {} line(s) (first {file}:{line}, query `{query}`, document `{doc}`, listed on line {first}); each document counts once, at its best score, where pytrec_eval keeps its last line",
            repeated.len()
        ));
        coverage["first_repeat"] =
            json!({ "line": line, "query": query, "document": doc, "first_line": first });
    }
    Ok((ranked, coverage, notes))
}

/// A note when some of `queries` that `qrels` judges have no document judged relevant
/// (`judged` are those that do): no metric can score them, so the means leave them out.
fn unscored_note(
    queries: &[(String, String)],
    qrels: &eval::Qrels,
    judged: usize,
) -> Option<String> {
    let unscored = queries
        .iter()
        .filter(|(id, _)| qrels.contains_key(id))
        .count()
        .saturating_sub(judged);
    (unscored > 0).then(|| format!(
        "{unscored} of the queries the judgments name judge no document relevant (every grade 0 or less): no metric can score them, so they are left out of the means, where pytrec_eval and BEIR count them as 0"
    ))
}

/// Whether two (branch, mode) systems make a pair worth testing: the same mode across branches,
/// two modes of one branch, or a run of another system against anything.
fn paired(a: &(String, &'static str), b: &(String, &'static str)) -> bool {
    a.1 == b.1 || a.0 == b.0 || a.1 == RUN || b.1 == RUN
}

fn judged(
    report: &mut Value,
    rankings: &BTreeMap<(String, &'static str), Rankings>,
    qrels: &eval::Qrels,
    options: &CompareOptions,
) {
    let mut scores: BTreeMap<(String, &'static str), Scores> = BTreeMap::new();
    for (key, ranked) in rankings {
        let computed = Scores::compute(ranked, qrels);
        report["branches"][&key.0][key.1] = json!(computed.means());
        scores.insert(key.clone(), computed);
    }
    let keys: Vec<&(String, &'static str)> = scores.keys().collect();
    let mut pairs = Vec::new();
    for (i, a) in keys.iter().enumerate() {
        for b in &keys[i + 1..] {
            if !paired(a, b) {
                continue;
            }
            let mut metrics = serde_json::Map::new();
            for metric in METRICS {
                let (Some(va), Some(vb)) = (
                    scores[*a].per_query.get(metric),
                    scores[*b].per_query.get(metric),
                ) else {
                    continue;
                };
                metrics.insert(
                    metric.to_owned(),
                    json!(eval::compare(va, vb, options.trials)),
                );
            }
            pairs.push(json!({ "a": { "index": a.0, "mode": a.1 }, "b": { "index": b.0, "mode": b.1 }, "metrics": metrics }));
        }
    }
    report["pairs"] = Value::Array(pairs);
}

fn unjudged(
    report: &mut Value,
    rankings: &BTreeMap<(String, &'static str), Rankings>,
    queries: &[(String, String)],
    options: &CompareOptions,
) {
    let keys: Vec<&(String, &'static str)> = rankings.keys().collect();
    for key in &keys {
        report["branches"][&key.0][key.1] = json!({ "queries": rankings[*key].len() });
    }
    let mut pairs = Vec::new();
    for (i, a) in keys.iter().enumerate() {
        for b in &keys[i + 1..] {
            if !paired(a, b) {
                continue;
            }
            let mut per_query = BTreeMap::new();
            for (id, _) in queries {
                let top = |key: &(String, &'static str)| -> Vec<String> {
                    rankings[key]
                        .get(id)
                        .map(|docs| docs.iter().take(options.k).cloned().collect())
                        .unwrap_or_default()
                };
                let (left, right) = (top(a), top(b));
                let shared = left.iter().filter(|doc| right.contains(doc)).count();
                let union = left.len() + right.len() - shared;
                per_query.insert(
                    id.clone(),
                    json!({
                        // Two empty lists share nothing to compare: no overlap, not a perfect one.
                        "overlap": (union > 0).then(|| shared as f64 / union as f64),
                        "a": left, "b": right,
                    }),
                );
            }
            let overlaps: Vec<f64> = (per_query.values())
                .filter_map(|q| q["overlap"].as_f64())
                .collect();
            let mean = (!overlaps.is_empty()).then(|| eval::mean(overlaps));
            pairs.push(json!({ "a": { "index": a.0, "mode": a.1 }, "b": { "index": b.0, "mode": b.1 }, "mean_overlap": mean, "queries": per_query }));
        }
    }
    report["pairs"] = Value::Array(pairs);
}

/// `--alpha` or `--rrf-k` as the JSON report says it: `{"rrf": {"k": 60}}` or
/// `{"weighted": {"alpha": 0.7}}`, each number as it was given (not its `f32` widened).
pub fn fusion_json(fusion: Fusion) -> Value {
    let number = |value: f32| {
        serde_json::from_str::<Value>(&value.to_string()).unwrap_or_else(|_| json!(value))
    };
    match fusion {
        Fusion::Rrf { k } => json!({ "rrf": { "k": number(k) } }),
        Fusion::Weighted { alpha } => json!({ "weighted": { "alpha": number(alpha) } }),
    }
}

/// The warning when the store cannot be opened: what the report leaves out, and why.
fn unreadable_store(err: &crate::store::StoreError) -> String {
    let why = match err {
        crate::store::StoreError::InUse { .. } => "a run is using it".to_owned(),
        crate::store::StoreError::ReadOnly { .. } => "it is read-only to this user".to_owned(),
        other => other.to_string(),
    };
    format!(
        "the store's run records cannot be read ({why}): the chunk statistics and build costs \
         are left out"
    )
}

/// Judged documents shown at most in a warning about documents the indexes do not hold.
const UNKNOWN_SHOWN: usize = 5;

/// A warning when the qrels judge, for the queries asked, documents that no compared index
/// holds chunks of (`held` tells): the usual sign of ids that do not line up (a prefix, an extension,
/// another id field). They count as never retrieved.
fn unknown_documents(
    held: impl Fn(&str) -> bool,
    queries: &[(String, String)],
    qrels: &eval::Qrels,
    path: &std::path::Path,
) -> Option<String> {
    let mut unknown: Vec<(&str, &str)> = queries
        .iter()
        .filter_map(|(id, _)| Some((id, qrels.get(id)?)))
        .flat_map(|(id, judged)| {
            judged
                .keys()
                .filter(|doc| !held(doc))
                .map(move |doc| (id.as_str(), doc.as_str()))
        })
        .collect();
    if unknown.is_empty() {
        return None;
    }
    unknown.sort_unstable();
    let judged: usize = queries
        .iter()
        .filter_map(|(id, _)| qrels.get(id).map(HashMap::len))
        .sum();
    let shown: Vec<String> = unknown
        .iter()
        .take(UNKNOWN_SHOWN)
        .map(|(query, doc)| format!("`{doc}` (query {query})"))
        .collect();
    let more = if unknown.len() > UNKNOWN_SHOWN {
        ", …"
    } else {
        ""
    };
    Some(format!(
        "{}: {} of the {judged} judgments of these queries name documents the index holds no chunk of, such as {}{more}; they count as never retrieved. Do the ids line up with the doc_id of the index (`engine query --json` shows them)? (A document with no text, or only a table of contents, which the index leaves out, has no chunk there either.)",
        path.display(),
        unknown.len(),
        shown.join(", ")
    ))
}

/// Per branch (index step, and the chunks its index holds): index size on disk and chunks,
/// and from the latest run, the chunks its chunking step made (count, size distribution and
/// histogram, tables; a document that failed in the run keeps its earlier chunks in the index,
/// which then holds more) and the build cost of every step upstream.
fn chunk_statistics(
    pipeline: &Pipeline,
    store: Option<&Store>,
    run: Option<&Value>,
    indexed_chunks: &BTreeMap<String, u64>,
) -> Value {
    let mut chunks = serde_json::Map::new();
    for (step, indexed) in indexed_chunks {
        let upstream = upstream(pipeline, step);
        let mut stats = json!({
            "index_bytes": crate::store::bytes_below(&index_dir(pipeline, step)),
            "indexed_chunks": indexed,
        });
        if let Some(run) = run {
            let left_out = &run["steps"][step]["outcome"]["contents_chunks_left_out"];
            if let Some(left_out) = left_out.as_u64() {
                stats["contents_left_out"] = left_out.into();
            }
            // In the pipeline's order, sources first.
            let cost: serde_json::Map<String, Value> = pipeline
                .steps
                .iter()
                .map(|spec| &spec.name)
                .filter(|name| *name == step || upstream.contains(name))
                .filter_map(|name| {
                    let counters = &run["steps"][name];
                    counters.is_object().then(|| {
                        (name.clone(), json!({ "op": counters["op"], "seconds": counters["seconds"], "items": counters["in"], "cached": counters["cached"] }))
                    })
                })
                .collect();
            stats["build"] = Value::Object(cost);
        }
        let chunker = upstream.iter().find(|name| {
            pipeline
                .steps
                .iter()
                .any(|s| &s.name == *name && s.config.info().name.starts_with("chunk."))
        });
        if let (Some(store), Some(run), Some(chunker)) = (store, run, chunker) {
            add_chunk_sizes(&mut stats, store, run, chunker);
        }
        chunks.insert(step.clone(), stats);
    }
    Value::Object(chunks)
}

/// What sets a branch's indexed chunks apart from those its chunking step made in the latest
/// run (`stats` from `chunk_statistics`), to follow "N chunks of STEP": the table of contents
/// chunks the index leaves out, and the chunks of documents that failed in the run, which keep
/// their earlier chunks in the index. Empty when they agree.
pub fn indexed_note(stats: &Value) -> String {
    let (Some(made), Some(indexed)) = (stats["count"].as_u64(), stats["indexed_chunks"].as_u64())
    else {
        return String::new();
    };
    let left_out = stats["contents_left_out"].as_u64().unwrap_or(0);
    let contents = format!("{left_out} of them table of contents left out of the index");
    match (made.saturating_sub(left_out) == indexed, left_out > 0) {
        (true, false) => String::new(),
        (true, true) => format!(", {contents}"),
        (false, false) => format!(" in the latest run; the index holds {indexed}"),
        (false, true) => format!(" in the latest run, {contents}; the index holds {indexed}"),
    }
}

/// Chunk count, size distribution, histogram and tables of a chunking step's outputs in a run.
fn add_chunk_sizes(stats: &mut Value, store: &Store, run: &Value, chunker: &str) {
    let run_id = run["run_id"].as_str().unwrap_or_default();
    let Ok(records) = store.item_records(run_id, Some(chunker)) else {
        return;
    };
    let mut sizes = Vec::new();
    let mut tables = 0;
    for (_, _, record) in &records {
        if let Some(crate::runtime::Item::Chunks(set)) = output_of(store, record) {
            for chunk in &set.chunks {
                sizes.push(chunk.tokens);
                tables += usize::from(chunk.kinds.contains(&operators::model::ElementKind::Table));
            }
        }
    }
    if sizes.is_empty() {
        return;
    }
    sizes.sort_unstable();
    let max = sizes[sizes.len() - 1].max(1);
    let width = max.div_ceil(10).max(1);
    let mut counts = [0usize; 10];
    for size in &sizes {
        counts[(size / width).min(9)] += 1;
    }
    let histogram: Vec<Value> = counts
        .iter()
        .enumerate()
        .map(|(bin, count)| json!({ "from": bin * width, "to": (bin + 1) * width, "count": count }))
        .collect();
    stats["step"] = json!(chunker);
    stats["count"] = json!(sizes.len());
    stats["tables"] = json!(tables);
    stats["sizes"] = json!({ "min": sizes[0], "p50": sizes[sizes.len() / 2], "max": max });
    stats["histogram"] = Value::Array(histogram);
}

/// The steps a step depends on, nearest first.
pub fn upstream(pipeline: &Pipeline, step: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut frontier = vec![step.to_owned()];
    while let Some(current) = frontier.pop() {
        if let Some(spec) = pipeline.steps.iter().find(|s| s.name == current) {
            for input in &spec.inputs {
                if !found.contains(input) {
                    found.push(input.clone());
                    frontier.push(input.clone());
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_the_fusion_in_lower_case_with_the_numbers_as_given() {
        assert_eq!(
            fusion_json(Fusion::Rrf { k: 60.0 }),
            json!({ "rrf": { "k": 60 } })
        );
        assert_eq!(
            fusion_json(Fusion::Weighted { alpha: 0.7 }),
            json!({ "weighted": { "alpha": 0.7 } })
        );
        assert_eq!(
            fusion_json(Fusion::Rrf { k: 2.5 }),
            json!({ "rrf": { "k": 2.5 } })
        );
    }

    /// A query the judgments name without a relevant document is left out of the means: a
    /// note says so, as pytrec_eval and BEIR count it as 0 (the figures differed silently).
    #[test]
    fn judged_queries_no_metric_can_score_are_noted() {
        let queries: Vec<(String, String)> = ["q1", "q2", "q3"]
            .iter()
            .map(|id| (id.to_string(), "text".to_owned()))
            .collect();
        let qrels: eval::Qrels = [("q1", "d1", 1.0), ("q2", "d4", 0.0), ("q9", "d1", 1.0)]
            .iter()
            .map(|(q, d, g)| (q.to_string(), HashMap::from([(d.to_string(), *g)])))
            .collect();
        let note = unscored_note(&queries, &qrels, 1).unwrap();
        assert!(
            note.starts_with("1 of the queries the judgments name judge no document relevant"),
            "{note}"
        );
        assert_eq!(unscored_note(&queries[..1], &qrels, 1), None);
    }
}
