//! What `engine runs` and `engine inspect` read from the store.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};

use crate::failure::invalid;
use crate::runtime::Item;
use crate::store::{ItemRecord, Store, codec, parse_key};

/// Characters of text shown in previews.
const PREVIEW: usize = 160;

/// Matching run ids an ambiguous prefix lists.
const AMBIGUOUS_SHOWN: usize = 10;

/// The summary of run `id`: `latest` for the newest (of pipeline `pipeline`, when given: a store
/// may serve several), a whole run id, or a prefix of exactly one.
pub fn find_run(store: &Store, id: &str, pipeline: Option<&str>) -> anyhow::Result<Value> {
    if id.trim().is_empty() {
        return Err(invalid(
            "the run id is empty: give a run id, a prefix of one, or `latest` (`engine runs` lists them)",
        ));
    }
    let runs = store.runs()?;
    if id == "latest" {
        // Runs recorded before runs named their pipeline belong to any.
        let of_pipeline = |run: &Value| match (pipeline, run["name"].as_str()) {
            (Some(wanted), Some(name)) if !name.is_empty() => name == wanted,
            _ => true,
        };
        return runs.into_iter().find(of_pipeline).ok_or_else(|| {
            let whose = pipeline.map_or(String::new(), |name| format!(" of pipeline `{name}`"));
            invalid(format!(
                "{} holds no runs{whose} yet; run the pipeline first",
                store.dir().display()
            ))
        });
    }
    let run_id = |run: &Value| run["run_id"].as_str().unwrap_or_default().to_owned();
    if let Some(exact) = runs.iter().position(|run| run_id(run) == id) {
        return Ok(runs.into_iter().nth(exact).expect("found above"));
    }
    let mut matching: Vec<Value> = runs
        .into_iter()
        .filter(|run| run_id(run).starts_with(id))
        .collect();
    match matching.len() {
        0 => Err(invalid(format!(
            "no run `{id}` in {}; `engine runs` lists them",
            store.dir().display()
        ))),
        1 => Ok(matching.remove(0)),
        count => {
            let shown: Vec<String> = matching.iter().take(AMBIGUOUS_SHOWN).map(run_id).collect();
            let more = if count > AMBIGUOUS_SHOWN {
                format!(" and {} more", count - AMBIGUOUS_SHOWN)
            } else {
                String::new()
            };
            Err(invalid(format!(
                "run id prefix `{id}` is ambiguous: {count} runs match ({}{more}); give more of the id, or `latest`",
                shown.join(", ")
            )))
        }
    }
}

/// Where a cached output was computed: the run and the seconds it took there.
type Origins = HashMap<(String, String), Value>;

/// For the cached records among `records` (of run `run_id`), the newest earlier run that
/// computed the same output (same step fingerprint and key), with the seconds it took there.
/// Outputs whose computing run was pruned by `gc` have no entry.
///
/// The store says where each output was last computed; only outputs it does not know (computed
/// before it kept this), or last computed again after `run_id`, are looked for in the records
/// of earlier runs, which took seconds and gigabytes with 20 runs of 20,000 documents kept.
fn computed_in(
    store: &Store,
    run_id: &str,
    step: Option<&str>,
    records: &[(String, String, ItemRecord)],
) -> anyhow::Result<Origins> {
    let mut wanted: HashSet<(String, String)> = records
        .iter()
        .filter(|(_, _, record)| record.cached && !record.key.is_empty())
        .map(|(_, _, record)| (record.fingerprint.clone(), record.key.clone()))
        .collect();
    let mut origins = Origins::new();
    let runs = store.runs()?;
    let earlier = || {
        runs.iter()
            .skip_while(|run| run["run_id"].as_str() != Some(run_id))
            .skip(1)
    };
    let kept_ids: HashSet<&str> = runs
        .iter()
        .filter_map(|run| run["run_id"].as_str())
        .collect();
    wanted.retain(|(fingerprint, key)| {
        let known = parse_key(key).and_then(|key| store.origin(fingerprint, &key));
        let Some((origin, seconds)) = known else {
            return true;
        };
        // Run ids sort as the runs started. One computed again since: an earlier run
        // computed it first.
        if origin.as_str() >= run_id {
            return true;
        }
        let mut found = json!({ "run_id": origin, "seconds": seconds });
        if !kept_ids.contains(origin.as_str()) {
            found["pruned"] = true.into();
        }
        origins.insert((fingerprint.clone(), key.clone()), found);
        false
    });
    // The step's own records first; then every step's, for an output computed under another
    // name (a step renamed since keeps its checkpoints).
    let mut steps = vec![step];
    if step.is_some() {
        steps.push(None);
    }
    for step in steps {
        for run in earlier() {
            if wanted.is_empty() {
                return Ok(origins);
            }
            let earlier_id = run["run_id"].as_str().unwrap_or_default();
            for (_, _, record) in store.item_records(earlier_id, step)? {
                if record.cached || record.error.is_some() {
                    continue;
                }
                let output = (record.fingerprint, record.key);
                if wanted.remove(&output) {
                    origins.insert(
                        output,
                        json!({ "run_id": earlier_id, "seconds": record.seconds }),
                    );
                }
            }
        }
    }
    Ok(origins)
}

/// The origin of `record`'s output, when it came from a checkpoint an earlier run computed.
fn origin_of(origins: &Origins, record: &ItemRecord) -> Value {
    origins
        .get(&(record.fingerprint.clone(), record.key.clone()))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The stored output a record points at, if it was stored.
pub fn output_of(store: &Store, record: &ItemRecord) -> Option<Item> {
    stored_output(store, record).ok().flatten()
}

/// The stored output a record points at (`None` when none is stored), or why the store holds
/// one it cannot read (a blob file of its database gone, say).
fn stored_output(store: &Store, record: &ItemRecord) -> Result<Option<Item>, String> {
    let Some(key) = parse_key(&record.key) else {
        return Ok(None);
    };
    let Some(bytes) =
        (store.checkpoint(&record.fingerprint, &key)).map_err(|err| err.to_string())?
    else {
        return Ok(None);
    };
    codec::decode(&bytes).map_err(|err| err.to_string())
}

fn preview(text: &str, full: bool) -> String {
    if full || text.chars().count() <= PREVIEW {
        return text.to_owned();
    }
    let cut: String = text.chars().take(PREVIEW).collect();
    format!("{cut}…")
}

/// min / median / max of some sizes.
fn distribution(mut values: Vec<f64>) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    json!({ "count": values.len(), "min": values[0], "p50": at(0.5), "p90": at(0.9), "max": values[values.len() - 1], "total": values.iter().sum::<f64>() })
}

/// What an output holds: counts and previews, or everything when `full`.
pub fn describe(item: &Item, full: bool) -> Value {
    match item {
        Item::Document(doc) => json!({
            "type": "Document", "doc_id": doc.doc_id, "source": doc.source, "bytes": doc.bytes.len(), "hash": doc.hash,
        }),
        Item::Parsed(doc) => {
            let mut kinds = BTreeMap::new();
            for element in &doc.elements {
                *kinds.entry(element.kind.name()).or_insert(0u64) += 1;
            }
            json!({
                "type": "Parsed", "title": doc.title, "format": doc.format, "elements": kinds,
                "characters": doc.markdown.chars().count(), "metadata": doc.metadata, "debug": doc.debug,
                "markdown": preview(&doc.markdown, full),
            })
        }
        Item::Chunks(set) => {
            let sizes = set.chunks.iter().map(|chunk| chunk.tokens as f64).collect();
            let chunks: Vec<Value> = set
                .chunks
                .iter()
                .map(|chunk| {
                    json!({
                        "ordinal": chunk.ordinal, "chunk_id": chunk.chunk_id, "span": chunk.span,
                        "tokens": chunk.tokens, "section": chunk.section, "pages": chunk.pages,
                        "contents": chunk.is_contents(), "text": preview(&chunk.text, full),
                    })
                })
                .collect();
            json!({ "type": "Chunks", "count": set.chunks.len(), "sizes": distribution(sizes), "chunks": chunks })
        }
        Item::Embedded(set) => {
            let chunks: Vec<Value> = set
                .chunks
                .iter()
                .map(|embedded| {
                    let norm = embedded.vector.iter().map(|x| x * x).sum::<f32>().sqrt();
                    let head: Vec<f32> = embedded
                        .vector
                        .iter()
                        .take(if full { usize::MAX } else { 4 })
                        .copied()
                        .collect();
                    json!({
                        "ordinal": embedded.chunk.ordinal, "chunk_id": embedded.chunk.chunk_id,
                        "dimensions": embedded.vector.len(), "norm": norm, "vector": head,
                        "text": preview(&embedded.chunk.text, full),
                    })
                })
                .collect();
            json!({ "type": "Embedded", "model": set.model, "dimensions": set.dimensions, "count": set.chunks.len(), "debug": set.debug, "chunks": chunks })
        }
    }
}

/// The one-line debug summary of an output, for `inspect --step`.
fn debug_summary(item: &Item) -> Value {
    match item {
        Item::Document(doc) => json!({ "bytes": doc.bytes.len() }),
        Item::Parsed(doc) => json!({
            "elements": doc.elements.len(), "characters": doc.markdown.chars().count(),
            "stats": doc.debug.stats, "warnings": doc.debug.warnings,
        }),
        Item::Chunks(set) => {
            let sizes = set.chunks.iter().map(|chunk| chunk.tokens as f64).collect();
            json!({ "chunks": set.chunks.len(), "sizes": distribution(sizes), "debug": set.debug })
        }
        Item::Embedded(set) => {
            json!({ "chunks": set.chunks.len(), "dimensions": set.dimensions, "debug": set.debug })
        }
    }
}

/// `inspect RUN --step S`: counters, timing distribution and per-document debug records.
pub fn step_report(
    store: &Store,
    run: &Value,
    step: &str,
    only: Option<Only>,
) -> anyhow::Result<Value> {
    let report = StepReport::open(store, run, step, only)?;
    let mut value = report.header();
    value["documents"] = report.documents().collect();
    Ok(value)
}

/// Which documents `inspect RUN --step S --only …` lists.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Only {
    /// Those the step failed on, in this run or as in an earlier one.
    Failed,
    /// Those whose output has warnings.
    Warned,
    /// Those the step did the work for in this run.
    Computed,
    /// Those whose output came from a checkpoint, a failure remembered from an earlier run
    /// among them (the `cached` count holds them too).
    Cached,
}

impl Only {
    /// Whether a document of `record` is listed.
    fn lists(self, record: &ItemRecord) -> bool {
        match self {
            Only::Failed => record.error.is_some(),
            Only::Warned => record.warned,
            Only::Computed => !record.cached,
            Only::Cached => record.cached,
        }
    }
}

/// The report of `inspect RUN --step S`, its per-document records made one at a time as they
/// are read, so that it can be written out without holding them all (a document's record
/// decodes its stored output: hundreds of megabytes for 20,000 documents).
pub struct StepReport<'a> {
    store: &'a Store,
    header: Value,
    records: Vec<(String, String, ItemRecord)>,
    origins: Origins,
}

impl<'a> StepReport<'a> {
    /// The report of `step` in `run`, listing the documents `only` picks (all, without it), or
    /// an error naming the run's steps.
    pub fn open(
        store: &'a Store,
        run: &Value,
        step: &str,
        only: Option<Only>,
    ) -> anyhow::Result<StepReport<'a>> {
        let run_id = run["run_id"].as_str().unwrap_or_default();
        let Some(counters) = run["steps"].get(step) else {
            return Err(invalid(format!(
                "run {run_id} has no step `{step}`; its steps: {}",
                step_names(run)
            )));
        };
        let mut records = store.item_records(run_id, Some(step))?;
        let computed: Vec<f64> = records
            .iter()
            .filter(|(_, _, r)| !r.cached)
            .map(|(_, _, r)| r.seconds)
            .collect();
        let mut header = json!({
            "run_id": run_id, "step": step, "counters": counters,
            "timing": distribution(computed),
        });
        if let Some(only) = only {
            records.retain(|(_, _, record)| only.lists(record));
            header["only"] = json!(only);
        }
        let origins = computed_in(store, run_id, Some(step), &records)?;
        Ok(StepReport {
            store,
            header,
            records,
            origins,
        })
    }

    /// Everything but the documents: run id, step, counters and timing.
    pub fn header(&self) -> Value {
        self.header.clone()
    }

    /// Each document's record, in the store's order.
    pub fn documents(&self) -> impl Iterator<Item = Value> + '_ {
        self.records.iter().map(|(_, doc_id, record)| {
            json!({
                "doc_id": doc_id, "cached": record.cached, "seconds": record.seconds,
                "computed_in": origin_of(&self.origins, record), "bytes_in": record.bytes_in, "bytes_out": record.bytes_out, "error": record.error,
                "debug": output_of(self.store, record).as_ref().map(debug_summary),
            })
        })
    }
}

/// `inspect RUN --doc D`: what every step produced for one document, in step order.
pub fn document_report(store: &Store, run: &Value, doc_id: &str) -> anyhow::Result<Value> {
    let run_id = run["run_id"].as_str().unwrap_or_default();
    let step_names: Vec<&String> = run["steps"]
        .as_object()
        .into_iter()
        .flat_map(|steps| steps.keys())
        .collect();
    let this_document: Vec<_> = (step_names.iter())
        .filter_map(|step| {
            let record = store.item_record(run_id, step, doc_id)?;
            Some(((*step).clone(), doc_id.to_owned(), record))
        })
        .collect();
    let origins = computed_in(store, run_id, None, &this_document)?;
    let mut steps = Vec::new();
    for step in step_names {
        let Some((_, _, record)) = this_document.iter().find(|(s, _, _)| s == step) else {
            continue;
        };
        let stored = stored_output(store, record);
        let mut found = json!({
            "step": step, "op": run["steps"][step]["op"], "cached": record.cached, "seconds": record.seconds,
            "computed_in": origin_of(&origins, record), "error": record.error, "key": record.key,
            "output": stored.as_ref().ok().and_then(Option::as_ref).map(|item| describe(item, false)),
        });
        if let Err(why) = stored {
            found["output_note"] = unreadable_note(&why).into();
        }
        steps.push(found);
    }
    if steps.is_empty() {
        let records = store.item_records(run_id, None)?;
        let known: HashSet<&str> = records.iter().map(|(_, d, _)| d.as_str()).collect();
        let mut known: Vec<&str> = known.into_iter().collect();
        known.sort_unstable();
        let hint = crate::spec::diagnostic::did_you_mean(doc_id, known.iter().copied())
            .map(|hint| format!("; {hint}"))
            .unwrap_or_default();
        return Err(invalid(format!(
            "run {run_id} has no document `{doc_id}`{hint}"
        )));
    }
    let mut report = json!({ "run_id": run_id, "doc_id": doc_id, "steps": steps });
    if this_document
        .iter()
        .any(|(_, _, record)| record.error.is_some())
    {
        report["kept_from"] = kept_from(store, run, doc_id)?.into();
    }
    Ok(report)
}

/// For a document that failed in `run`: the newest earlier completed run of its pipeline that
/// took it through every step it reached without failing, whose outputs the indexes and sinks
/// still hold for it (`None`: no run recorded did).
fn kept_from(store: &Store, run: &Value, doc_id: &str) -> anyhow::Result<Option<String>> {
    let runs = store.runs()?;
    let Some(at) = runs
        .iter()
        .position(|other| other["run_id"] == run["run_id"])
    else {
        return Ok(None);
    };
    let earlier = (runs[at + 1..].iter())
        .filter(|other| other["name"] == run["name"])
        .filter(|other| matches!(other["status"].as_str(), Some("ok" | "failed_items")));
    for other in earlier {
        let (Some(id), Some(steps)) = (other["run_id"].as_str(), other["steps"].as_object()) else {
            continue;
        };
        let records: Vec<ItemRecord> = (steps.keys())
            .filter_map(|step| store.item_record(id, step, doc_id))
            .collect();
        if !records.is_empty() && records.iter().all(|record| record.error.is_none()) {
            return Ok(Some(id.to_owned()));
        }
    }
    Ok(None)
}

/// `inspect RUN --step S --doc D`: that one output, in full.
pub fn one_output(store: &Store, run: &Value, step: &str, doc_id: &str) -> anyhow::Result<Value> {
    let run_id = run["run_id"].as_str().unwrap_or_default();
    let Some(record) = store.item_record(run_id, step, doc_id) else {
        return Err(invalid(format!(
            "step `{step}` of run {run_id} has no record for `{doc_id}`"
        )));
    };
    let found = (step.to_owned(), doc_id.to_owned(), record);
    let origins = computed_in(store, run_id, Some(step), std::slice::from_ref(&found))?;
    let record = &found.2;
    let stored = stored_output(store, record);
    let output = match stored.as_ref().ok().and_then(Option::as_ref) {
        Some(Item::Parsed(doc)) => serde_json::to_value(doc.as_ref())?,
        Some(Item::Chunks(set)) => {
            let contents = set.chunks.iter().map(|chunk| chunk.is_contents());
            mark_contents(serde_json::to_value(set.as_ref())?, contents)
        }
        Some(Item::Embedded(set)) => {
            let contents = set
                .chunks
                .iter()
                .map(|embedded| embedded.chunk.is_contents());
            mark_contents(serde_json::to_value(set.as_ref())?, contents)
        }
        Some(Item::Document(doc)) => serde_json::to_value(doc.as_ref())?,
        None => Value::Null,
    };
    let mut found = json!({ "run_id": run_id, "step": step, "doc_id": doc_id, "record": record,
                            "computed_in": origin_of(&origins, record), "output": output });
    if found["output"].is_null() {
        let op = run["steps"][step]["op"].as_str();
        found["output_note"] = match stored {
            Err(why) => unreadable_note(&why),
            Ok(_) => missing_output_note(op, &record.key, Failure::of(record)),
        }
        .into();
    }
    Ok(found)
}

/// `output` (a chunk or embedding set as JSON) with `"contents"` on each chunk, in order: whether
/// it is made only of table of contents entries, which `index.hybrid` leaves out.
fn mark_contents(mut output: Value, contents: impl Iterator<Item = bool>) -> Value {
    let chunks = output["chunks"].as_array_mut().into_iter().flatten();
    for (chunk, contents) in chunks.zip(contents) {
        chunk["contents"] = contents.into();
    }
    output
}

/// Why a step shows no output the store holds but cannot read (`why`).
fn unreadable_note(why: &str) -> String {
    format!(
        "stored, but the store cannot read it ({why}): its checkpoint database is damaged; a run that needs it computes it again"
    )
}

/// Whether a step failed on a document, and whether its failure was remembered from a run
/// before (a final failure, stored: see [`crate::runtime::TransformOp::failure_is_final`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// It did not fail.
    None,
    /// It failed in this run.
    Computed,
    /// It failed as in an earlier run, without doing the work again.
    Remembered,
}

impl Failure {
    /// How `record` failed.
    pub fn of(record: &ItemRecord) -> Self {
        match (&record.error, record.cached) {
            (None, _) => Failure::None,
            (Some(_), false) => Failure::Computed,
            (Some(_), true) => Failure::Remembered,
        }
    }
}

/// Why a step shows no output for a document (`op` the step's operator, `key` its output key,
/// `failure` whether and how it failed on the document): what the step keeps, or that `gc`
/// removed it.
pub fn missing_output_note(op: Option<&str>, key: &str, failure: Failure) -> String {
    match op {
        Some(op) if op.starts_with("source.") => {
            "a source keeps no output: it reads the document from its file".to_owned()
        }
        _ if key.is_empty() => "a sink keeps no output: it writes the item out".to_owned(),
        _ if failure == Failure::Computed => {
            "the step failed on this document: a failure has no output".to_owned()
        }
        _ if failure == Failure::Remembered => {
            "the step failed on this document as in an earlier run and was not done again, as nothing it depends on changed (`engine run --retry-failed` does it again): a failure has no output".to_owned()
        }
        _ => format!(
            "not in the store (key {key}): `engine gc` removes the outputs only older runs used; a run that needs it computes it again"
        ),
    }
}

fn step_names(run: &Value) -> String {
    run["steps"]
        .as_object()
        .map(|steps| steps.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::hex;

    fn record(cached: bool) -> ItemRecord {
        ItemRecord {
            fingerprint: "fp".into(),
            key: hex(&[1; 32]),
            cached,
            seconds: if cached { 0.0 } else { 0.5 },
            bytes_in: 1,
            bytes_out: 1,
            error: None,
            warned: false,
        }
    }

    fn origin_in(store: &Store, run_id: &str) -> Value {
        let records = vec![("parse".to_owned(), "a.md".to_owned(), record(true))];
        let origins = computed_in(store, run_id, Some("parse"), &records).unwrap();
        origin_of(&origins, &records[0].2)
    }

    /// An output computed in run 1, taken from its checkpoint in run 2, and computed again in
    /// run 3 (its checkpoint removed meanwhile): run 2's copy came from run 1, found in the
    /// records of the runs before it, and has no origin once run 1 is pruned; run 4's came
    /// from run 3, named (as pruned) even once run 3 is.
    #[test]
    fn a_cached_output_names_the_earlier_run_that_computed_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (run_id, cached) in [("r1", false), ("r2", true), ("r3", false), ("r4", true)] {
            store
                .save_run(run_id, &json!({ "run_id": run_id }))
                .unwrap();
            store
                .record_item(run_id, "parse", "a.md", &record(cached))
                .unwrap();
        }
        assert_eq!(
            origin_in(&store, "r4"),
            json!({ "run_id": "r3", "seconds": 0.5 })
        );
        assert_eq!(
            origin_in(&store, "r2"),
            json!({ "run_id": "r1", "seconds": 0.5 })
        );
        store.remove_runs(&["r1".to_owned()]).unwrap();
        assert_eq!(origin_in(&store, "r2"), Value::Null);
        store.remove_runs(&["r3".to_owned()]).unwrap();
        let pruned = json!({ "run_id": "r3", "seconds": 0.5, "pruned": true });
        assert_eq!(origin_in(&store, "r4"), pruned);
    }
}
