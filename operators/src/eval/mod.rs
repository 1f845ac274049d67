//! Retrieval evaluation: BEIR-layout queries and qrels, trec_eval-style metrics, documents ranked
//! by their best chunk, and a paired randomisation test for comparing two systems.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

/// Graded judgments: query id → document id → gain (> 0 relevant).
pub type Qrels = HashMap<String, HashMap<String, f64>>;

/// Why evaluation inputs could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// The text of `path`, without a leading UTF-8 byte-order mark (editors on Windows write one).
fn read_text(path: &Path) -> Result<String, EvalError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| EvalError(format!("cannot read {}: {err}", path.display())))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Reads `queries.jsonl` (`{"_id", "text"}` per line), in file order. A line without an id or
/// a text, a text without anything but whitespace, an id given twice and a file without
/// queries are refused, with the line.
pub fn read_queries(path: &Path) -> Result<Vec<(String, String)>, EvalError> {
    Ok(read_query_lines(path)?
        .into_iter()
        .map(|(id, text, _)| (id, text))
        .collect())
}

/// [`read_queries`] with the line (from 1) each query is on, for messages about one of them.
pub fn read_query_lines(path: &Path) -> Result<Vec<(String, String, usize)>, EvalError> {
    let text = read_text(path)?;
    let mut queries = Vec::new();
    let mut lines_of: HashMap<String, usize> = HashMap::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
    {
        let at = || format!("{}:{}", path.display(), number + 1);
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|err| EvalError(format!("{}: invalid JSON: {err}", at())))?;
        let id = match &value["_id"] {
            serde_json::Value::String(id) => id.clone(),
            serde_json::Value::Number(id) => id.to_string(),
            serde_json::Value::Null if value.get("_id").is_none() => {
                return Err(EvalError(format!("{}: no `_id`", at())));
            }
            other => {
                return Err(EvalError(format!(
                    "{}: `_id` is {}, not a string or a number",
                    at(),
                    json_kind(other)
                )));
            }
        };
        let Some(query) = value["text"].as_str() else {
            return Err(EvalError(format!(
                "{}: query `{id}` has no `text` (a string)",
                at()
            )));
        };
        // An empty text ranks nothing by its words, and its embedding (a query prefix alone)
        // would rank arbitrary chunks with confident scores.
        if query.trim().is_empty() {
            return Err(EvalError(format!(
                "{}: the text of query `{id}` is empty; give every query words to search for",
                at()
            )));
        }
        if let Some(first) = lines_of.insert(id.clone(), number + 1) {
            return Err(EvalError(format!(
                "{}: query id `{id}` again (first on line {first}); every query needs its own `_id`",
                at()
            )));
        }
        queries.push((id, query.to_owned(), number + 1));
    }
    if queries.is_empty() {
        return Err(EvalError(format!(
            "{} holds no queries (one {{\"_id\", \"text\"}} object a line)",
            path.display()
        )));
    }
    Ok(queries)
}

/// What kind of JSON value `value` is, for messages: `null`, `true`, an object…
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(true) => "`true`",
        serde_json::Value::Bool(false) => "`false`",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Whether `text` starts as a number does (a digit, or a sign or point before one).
fn looks_numeric(text: &str) -> bool {
    let unsigned = text.trim_start_matches(['+', '-']);
    let digits = unsigned.strip_prefix('.').unwrap_or(unsigned);
    digits.starts_with(|c: char| c.is_ascii_digit())
}

/// Reads a qrels TSV (`query-id TAB corpus-id TAB score`, with or without a header row). A
/// line that is not three tab-separated columns with a numeric score, and a file without
/// judgments, are refused, with the line.
pub fn read_qrels(path: &Path) -> Result<Qrels, EvalError> {
    Ok(read_qrels_noting(path)?.0)
}

/// [`read_qrels`], with a note (`file:line: …`) for every judgment given again for the same
/// query and document. The last one counts, as in pytrec_eval, ranx and ir_measures, which
/// read qrels into a mapping; trec_eval's own handling of duplicates is unspecified, so a
/// file with them scores differently across tools: fix the file.
pub fn read_qrels_noting(path: &Path) -> Result<(Qrels, Vec<String>), EvalError> {
    let text = read_text(path)?;
    let mut qrels: Qrels = HashMap::new();
    let mut lines_of: HashMap<(String, String), usize> = HashMap::new();
    let mut notes = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), number + 1);
        let columns: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [query, doc, score] = columns[..] else {
            return Err(EvalError(format!(
                "{}: not a qrels line (query-id TAB corpus-id TAB score, BEIR's qrels/*.tsv): `{}`",
                at(),
                line.chars().take(80).collect::<String>()
            )));
        };
        let Ok(score) = score.parse::<f64>() else {
            // A header names its column (`score`); a score column starting like a number
            // (`1x`) is a judgment with a typo, refused like one on any other line.
            if number == 0 && !looks_numeric(score) {
                continue;
            }
            return Err(EvalError(format!(
                "{}: score `{score}` is not a number",
                at()
            )));
        };
        if !score.is_finite() || query.is_empty() || doc.is_empty() {
            return Err(EvalError(format!(
                "{}: a qrels line needs a query id, a corpus id and a finite score: `{line}`",
                at()
            )));
        }
        let earlier = qrels
            .entry(query.to_owned())
            .or_default()
            .insert(doc.to_owned(), score);
        let first = lines_of.insert((query.to_owned(), doc.to_owned()), number + 1);
        if let (Some(earlier), Some(first)) = (earlier, first) {
            let grades = if earlier == score {
                format!("the same score, {score}")
            } else {
                format!("{earlier} there, {score} here; {score} counts")
            };
            notes.push(format!(
                "{}: query `{query}` judges document `{doc}` again (line {first}: {grades})",
                at()
            ));
        }
    }
    if qrels.is_empty() {
        return Err(EvalError(format!(
            "{} holds no judgments (query-id TAB corpus-id TAB score a line)",
            path.display()
        )));
    }
    Ok((qrels, notes))
}

/// The queries among `queries` that `qrels` judges at least one document relevant for: the
/// only ones metrics can score. An error when there are none, since every metric would be 0.
pub fn judged_queries<'a>(
    queries: &'a [(String, String)],
    qrels: &Qrels,
    qrels_path: &Path,
) -> Result<Vec<&'a str>, EvalError> {
    let judged: Vec<&str> = queries
        .iter()
        .map(|(id, _)| id.as_str())
        .filter(|id| {
            qrels
                .get(*id)
                .is_some_and(|judged| !relevant(judged).is_empty())
        })
        .collect();
    if judged.is_empty() {
        let mut ids: Vec<&str> = qrels.keys().map(String::as_str).collect();
        ids.sort_unstable();
        let shown = ids.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        let more = if ids.len() > 5 { ", …" } else { "" };
        return Err(EvalError(format!(
            "{} judges no document relevant to any of the {} queries (the query ids it judges: {shown}{more}); are these the judgments of these queries?",
            qrels_path.display(),
            queries.len()
        )));
    }
    Ok(judged)
}

/// The mean of `values`, 0 (never -0) when there are none.
pub fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, count) = values
        .into_iter()
        .fold((0.0, 0usize), |(sum, count), value| {
            (sum + value, count + 1)
        });
    if count == 0 {
        0.0
    } else {
        sum / count as f64 + 0.0
    }
}

/// A TREC run as [`read_trec_run`] reads it.
#[derive(Debug, Default)]
pub struct TrecRun {
    /// Per query, its documents best first.
    pub ranked: HashMap<String, Vec<String>>,
    /// The lines that list a document again for its query: (line, query, document, the line
    /// that listed it first), in file order.
    pub repeated: Vec<(usize, String, String, usize)>,
}

/// Reads a TREC run (`qid Q0 doc_id rank score tag` a line): per query, its documents best
/// first, in trec_eval's (and pytrec_eval's) order: by score, ties by doc id descending (byte
/// order), the rank column unused; each document once, at its best (a run of chunks lists a
/// document once per chunk). The lines that list a document again are kept in
/// [`TrecRun::repeated`]: pytrec_eval keeps the last of them instead, so its figures differ.
pub fn read_trec_run(path: &Path) -> Result<TrecRun, EvalError> {
    let text = read_text(path)?;
    let mut scored: HashMap<String, Vec<(f64, String)>> = HashMap::new();
    let mut first_lines: HashMap<(String, String), usize> = HashMap::new();
    let mut repeated = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), number + 1);
        let [qid, _, doc, rank, score, _] = line.split_whitespace().collect::<Vec<_>>()[..] else {
            return Err(EvalError(format!(
                "{}: not a TREC run line (qid Q0 doc_id rank score tag): `{line}`",
                at()
            )));
        };
        let (Ok(_), Ok(score)) = (rank.parse::<u64>(), score.parse::<f64>()) else {
            return Err(EvalError(format!(
                "{}: rank `{rank}` or score `{score}` is not a number",
                at()
            )));
        };
        if !score.is_finite() {
            return Err(EvalError(format!(
                "{}: score `{score}` is not finite",
                at()
            )));
        }
        let key = (qid.to_owned(), doc.to_owned());
        match first_lines.get(&key) {
            Some(&first) => repeated.push((number + 1, key.0, key.1, first)),
            None => {
                first_lines.insert(key, number + 1);
            }
        }
        scored
            .entry(qid.to_owned())
            .or_default()
            .push((score, doc.to_owned()));
    }
    let ranked = scored
        .into_iter()
        .map(|(qid, mut docs)| {
            docs.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
            let ranked = documents_by_best_chunk(docs.iter().map(|(_, doc)| doc.as_str()));
            (qid, ranked)
        })
        .collect();
    Ok(TrecRun { ranked, repeated })
}

/// Ranks documents by their best chunk: the first occurrence of each doc_id in a chunk ranking.
pub fn documents_by_best_chunk<'a>(
    chunk_doc_ids: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    best_per_document(chunk_doc_ids, |doc| doc)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The items of a ranking (chunk hits, say) at which each document, as `doc_of` tells,
/// first appears: each document once, at its best, in ranking order.
pub fn best_per_document<T>(
    ranked: impl IntoIterator<Item = T>,
    doc_of: impl Fn(&T) -> &str,
) -> Vec<T> {
    let mut seen = HashSet::new();
    ranked
        .into_iter()
        .filter(|item| seen.insert(doc_of(item).to_owned()))
        .collect()
}

/// nDCG@k with the judgments' gains (trec_eval semantics: DCG = Σ gain_i / log2(i + 1)).
pub fn ndcg_at(ranking: &[String], judged: &HashMap<String, f64>, k: usize) -> f64 {
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, doc)| judged.get(doc).copied().unwrap_or(0.0).max(0.0) / ((i + 2) as f64).log2())
        .fold(0.0, |sum, gain| sum + gain);
    let mut ideal: Vec<f64> = judged
        .values()
        .copied()
        .filter(|gain| *gain > 0.0)
        .collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, gain)| gain / ((i + 2) as f64).log2())
        .fold(0.0, |sum, gain| sum + gain);
    if idcg > 0.0 { dcg / idcg } else { 0.0 }
}

fn relevant(judged: &HashMap<String, f64>) -> HashSet<&str> {
    judged
        .iter()
        .filter(|(_, gain)| **gain > 0.0)
        .map(|(doc, _)| doc.as_str())
        .collect()
}

/// Recall@k: the share of relevant documents in the top k.
pub fn recall_at(ranking: &[String], judged: &HashMap<String, f64>, k: usize) -> f64 {
    let relevant = relevant(judged);
    if relevant.is_empty() {
        return 0.0;
    }
    let found = ranking
        .iter()
        .take(k)
        .filter(|doc| relevant.contains(doc.as_str()))
        .count();
    found as f64 / relevant.len() as f64
}

/// Reciprocal rank of the first relevant document within the top k.
pub fn mrr_at(ranking: &[String], judged: &HashMap<String, f64>, k: usize) -> f64 {
    let relevant = relevant(judged);
    ranking
        .iter()
        .take(k)
        .position(|doc| relevant.contains(doc.as_str()))
        .map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

/// Average precision within the top k (trec_eval's `map_cut.k`): the precision at each
/// relevant document ranked in the top k, summed, over all the relevant documents.
pub fn average_precision_at(ranking: &[String], judged: &HashMap<String, f64>, k: usize) -> f64 {
    let relevant = relevant(judged);
    if relevant.is_empty() {
        return 0.0;
    }
    let mut hits = 0;
    let mut sum = 0.0;
    for (i, doc) in ranking.iter().take(k).enumerate() {
        if relevant.contains(doc.as_str()) {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    sum / relevant.len() as f64
}

/// Per-query metrics of one system.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    /// Metric name → query id → value.
    pub per_query: BTreeMap<String, BTreeMap<String, f64>>,
}

/// The metrics every report gives. Every one is cut at 100 documents at most, the depth
/// `engine compare` ranks: MAP is `map@100` (trec_eval's `map_cut.100`), lower than trec_eval's
/// `map` over a deeper run.
pub const METRICS: [&str; 5] = ["ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100"];

impl Scores {
    /// Scores the document rankings of every query in `rankings` (the queries asked; an empty
    /// ranking scores 0) that `qrels` judges some document relevant for. Judged queries that
    /// were not asked are left out, so that they do not count as failures.
    pub fn compute(rankings: &HashMap<String, Vec<String>>, qrels: &Qrels) -> Scores {
        let mut per_query: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        for (query, judged) in qrels {
            let Some(ranking) = rankings.get(query) else {
                continue;
            };
            if relevant(judged).is_empty() {
                continue;
            }
            let values = [
                ndcg_at(ranking, judged, 10),
                recall_at(ranking, judged, 10),
                recall_at(ranking, judged, 100),
                mrr_at(ranking, judged, 10),
                average_precision_at(ranking, judged, 100),
            ];
            for (metric, value) in METRICS.iter().zip(values) {
                per_query
                    .entry((*metric).to_owned())
                    .or_default()
                    .insert(query.clone(), value);
            }
        }
        Scores { per_query }
    }

    /// The mean of a metric over the judged queries.
    pub fn mean(&self, metric: &str) -> f64 {
        self.per_query
            .get(metric)
            .map_or(0.0, |values| mean(values.values().copied()))
    }

    /// Every metric's mean.
    pub fn means(&self) -> BTreeMap<String, f64> {
        METRICS
            .iter()
            .map(|metric| ((*metric).to_owned(), self.mean(metric)))
            .collect()
    }
}

/// A paired comparison of two systems on one metric.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Mean of B minus mean of A.
    pub mean_difference: f64,
    /// Two-sided p-value of the paired randomisation test.
    pub p_value: f64,
    /// Queries where B beat A, lost to A, tied.
    pub wins: usize,
    /// Queries where B lost.
    pub losses: usize,
    /// Queries tied.
    pub ties: usize,
    /// Per query: B minus A.
    pub differences: BTreeMap<String, f64>,
}

/// Paired randomisation (permutation) test of B against A over the queries both scored:
/// the share of random sign flips of the per-query differences whose mean is at least as far
/// from zero as the observed one. Deterministic for a given `trials`.
pub fn compare(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>, trials: usize) -> Comparison {
    let differences: BTreeMap<String, f64> = a
        .iter()
        .filter_map(|(query, va)| b.get(query).map(|vb| (query.clone(), vb - va)))
        .collect();
    let values: Vec<f64> = differences.values().copied().collect();
    let n = values.len().max(1) as f64;
    let observed = mean(values.iter().copied());
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut extreme = 0usize;
    for _ in 0..trials {
        let mut sum = 0.0f64;
        for value in &values {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            sum += if state & 1 == 0 { *value } else { -*value };
        }
        if (sum / n).abs() >= observed.abs() - 1e-12 {
            extreme += 1;
        }
    }
    let wins = values.iter().filter(|d| **d > 1e-12).count();
    let losses = values.iter().filter(|d| **d < -1e-12).count();
    Comparison {
        mean_difference: observed,
        p_value: (extreme + 1) as f64 / (trials + 1) as f64,
        wins,
        losses,
        ties: values.len() - wins - losses,
        differences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, f64)]) -> HashMap<String, f64> {
        pairs
            .iter()
            .map(|(doc, gain)| ((*doc).to_owned(), *gain))
            .collect()
    }

    fn ranking(docs: &[&str]) -> Vec<String> {
        docs.iter().map(|doc| (*doc).to_owned()).collect()
    }

    #[test]
    fn a_trec_run_reads_best_first_by_score_each_document_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.trec");
        std::fs::write(
            &path,
            "q1 Q0 d3 3 0.5 sys\nq1 Q0 d1 1 0.9 sys\nq1 Q0 d2 2 0.9 sys\n\nq1 Q0 d1 4 0.1 sys\nq2\tQ0\td9\t1\t-1.5\tsys\nq3 Q0 d10 1 2 sys\nq3 Q0 d9 2 2 sys\n",
        )
        .unwrap();
        let TrecRun {
            ranked: run,
            repeated,
        } = read_trec_run(&path).unwrap();
        assert_eq!(repeated, [(5, "q1".to_owned(), "d1".to_owned(), 2)]);
        assert_eq!(
            run["q1"],
            ["d2", "d1", "d3"],
            "score order, ties by doc id descending as trec_eval, not by rank; d1 once"
        );
        assert_eq!(run["q2"], ["d9"]);
        assert_eq!(run["q3"], ["d9", "d10"], "doc ids compare as strings");
        std::fs::write(&path, "q1 Q0 d1 1 0.9 sys\nq1 d2 2 0.8\n").unwrap();
        let err = read_trec_run(&path).unwrap_err().to_string();
        assert!(err.contains("run.trec:2: not a TREC run line"), "{err}");
        std::fs::write(&path, "q1 Q0 d1 first 0.9 sys\n").unwrap();
        let err = read_trec_run(&path).unwrap_err().to_string();
        assert!(err.contains("run.trec:1: rank `first`"), "{err}");
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped_in_queries_qrels_and_runs() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("\u{feff}{text}")).unwrap();
            path
        };
        let queries = write("q.jsonl", "{\"_id\": \"q1\", \"text\": \"a\"}\n");
        assert_eq!(read_queries(&queries).unwrap(), [("q1".into(), "a".into())]);
        // Without a header row, the first query id would otherwise start with the mark.
        let qrels = write("qrels.tsv", "q1\td1\t1\n");
        assert_eq!(read_qrels(&qrels).unwrap()["q1"]["d1"], 1.0);
        let run = write("run.trec", "q1 Q0 d1 1 2.5 x\n");
        assert_eq!(read_trec_run(&run).unwrap().ranked["q1"], ["d1"]);
        // Only at the start: elsewhere it is a character like any other.
        let inside = write(
            "q2.jsonl",
            "{\"_id\": \"q1\", \"text\": \"a\"}\n\u{feff}{}\n",
        );
        let err = read_queries(&inside).unwrap_err().to_string();
        assert!(err.contains("q2.jsonl:2: invalid JSON"), "{err}");
    }

    #[test]
    fn queries_with_a_repeated_id_no_text_or_none_at_all_are_refused_with_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        let read = |text: &str| {
            std::fs::write(&path, text).unwrap();
            read_queries(&path).map_err(|err| err.to_string())
        };
        let ok =
            read("{\"_id\": \"q1\", \"text\": \"a\"}\n\n{\"_id\": 2, \"text\": \"b\"}\n").unwrap();
        assert_eq!(ok, [("q1".into(), "a".into()), ("2".into(), "b".into())]);
        let err = read("{\"_id\": \"q1\", \"text\": \"a\"}\n{\"_id\": \"q2\", \"text\": \"b\"}\n{\"_id\": \"q1\", \"text\": \"c\"}\n").unwrap_err();
        assert!(
            err.contains("q.jsonl:3: query id `q1` again (first on line 1)"),
            "{err}"
        );
        let err = read("{\"_id\": \"q1\"}\n").unwrap_err();
        assert!(err.contains("q.jsonl:1: query `q1` has no `text`"), "{err}");
        // An id of another type is named as such: it was "no `_id`", which the line has.
        for (id, kind) in [("true", "`true`"), ("{}", "an object"), ("null", "null")] {
            let err = read(&format!("{{\"_id\": {id}, \"text\": \"a\"}}\n")).unwrap_err();
            assert!(
                err.contains(&format!(
                    "q.jsonl:1: `_id` is {kind}, not a string or a number"
                )),
                "{err}"
            );
        }
        let err = read("{\"text\": \"a\"}\n").unwrap_err();
        assert!(err.contains("q.jsonl:1: no `_id`"), "{err}");
        let err = read("\n \n").unwrap_err();
        assert!(err.contains("holds no queries"), "{err}");
        for empty in ["", " \\t \\n"] {
            let err = read(&format!(
                "{{\"_id\": \"q1\", \"text\": \"a\"}}\n{{\"_id\": \"q2\", \"text\": \"{empty}\"}}\n"
            ))
            .unwrap_err();
            assert!(
                err.contains("q.jsonl:2: the text of query `q2` is empty"),
                "{err}"
            );
        }
        let lines = {
            std::fs::write(&path, "\n{\"_id\": \"q1\", \"text\": \"a\"}\n").unwrap();
            read_query_lines(&path).unwrap()
        };
        assert_eq!(lines, [("q1".into(), "a".into(), 2)]);
    }

    #[test]
    fn a_judgment_given_twice_is_noted_with_both_lines_and_the_last_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qrels.tsv");
        std::fs::write(
            &path,
            "query-id\tcorpus-id\tscore\n1\t184\t2\n1\t29\t1\n1\t184\t0\n1\t29\t1\n",
        )
        .unwrap();
        let (qrels, notes) = read_qrels_noting(&path).unwrap();
        assert_eq!(qrels["1"]["184"], 0.0);
        assert_eq!(
            notes,
            [
                format!(
                    "{}:4: query `1` judges document `184` again (line 2: 2 there, 0 here; 0 counts)",
                    path.display()
                ),
                format!(
                    "{}:5: query `1` judges document `29` again (line 3: the same score, 1)",
                    path.display()
                ),
            ]
        );
    }

    #[test]
    fn qrels_that_are_not_three_tab_separated_columns_are_refused_with_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qrels.tsv");
        let read = |text: &str| {
            std::fs::write(&path, text).unwrap();
            read_qrels(&path).map_err(|err| err.to_string())
        };
        let ok = read("query-id\tcorpus-id\tscore\nq1\td1\t2\n\nq1\td2\t0\n").unwrap();
        assert_eq!(ok["q1"].len(), 2);
        for (text, needle) in [
            ("q1 d1 1\n", "qrels.tsv:1: not a qrels line"),
            ("q1\td1\t1\nq2 0 d2 1\n", "qrels.tsv:2: not a qrels line"),
            (
                "q1\td1\t1\nq2\td2\tyes\n",
                "qrels.tsv:2: score `yes` is not a number",
            ),
            ("q1\td1\t1\tmore\n", "qrels.tsv:1: not a qrels line"),
            ("q1\td1\tNaN\n", "qrels.tsv:1: a qrels line needs"),
            ("q1\t\t1\n", "qrels.tsv:1: a qrels line needs"),
            ("", "holds no judgments"),
            ("query-id\tcorpus-id\tscore\n", "holds no judgments"),
            ("\u{0}\u{1}garbage\n", "qrels.tsv:1: not a qrels line"),
            // A typo in the first line's score is no header.
            (
                "q1\td1\t1x\nq1\td2\t1\n",
                "qrels.tsv:1: score `1x` is not a number",
            ),
            (
                "q1\td1\t-.5e\n",
                "qrels.tsv:1: score `-.5e` is not a number",
            ),
        ] {
            let err = read(text).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn qrels_must_judge_some_query_asked_and_others_are_left_out() {
        let queries = vec![
            ("q1".to_owned(), "a".to_owned()),
            ("q2".to_owned(), "b".to_owned()),
        ];
        let mut qrels = Qrels::new();
        qrels.insert("x9".into(), judged(&[("d1", 1.0)]));
        qrels.insert("q2".into(), judged(&[("d1", 0.0)]));
        let err = judged_queries(&queries, &qrels, Path::new("qrels.tsv")).unwrap_err();
        assert!(
            err.to_string()
                .contains("judges no document relevant to any of the 2 queries (the query ids it judges: q2, x9)"),
            "{err}"
        );
        qrels.insert("q1".into(), judged(&[("d1", 1.0)]));
        assert_eq!(
            judged_queries(&queries, &qrels, Path::new("q")).unwrap(),
            ["q1"]
        );
        // x9 is judged but not asked: it is not scored as a failure.
        let rankings: HashMap<String, Vec<String>> = [
            ("q1".to_owned(), ranking(&["d1"])),
            ("q2".to_owned(), ranking(&[])),
        ]
        .into();
        let scores = Scores::compute(&rankings, &qrels);
        assert_eq!(scores.mean("ndcg@10"), 1.0);
        assert_eq!(scores.per_query["ndcg@10"].len(), 1);
    }

    #[test]
    fn nothing_found_scores_plus_zero_never_minus_zero() {
        let judged = judged(&[("a", 1.0)]);
        for value in [
            ndcg_at(&[], &judged, 10),
            recall_at(&[], &judged, 10),
            mrr_at(&[], &judged, 10),
            average_precision_at(&[], &judged, 100),
            mean([]),
            mean([-0.0, -0.0]),
            compare(&BTreeMap::new(), &BTreeMap::new(), 10).mean_difference,
        ] {
            assert!(value == 0.0 && value.is_sign_positive(), "{value}");
        }
        let none: BTreeMap<String, f64> = [("q".to_owned(), 0.0)].into();
        let compared = compare(&none, &none, 10);
        assert!(compared.mean_difference.is_sign_positive());
        assert_eq!(
            serde_json::to_string(&compared.mean_difference).unwrap(),
            "0.0"
        );
    }

    #[test]
    fn ndcg_matches_a_hand_computation() {
        let judged = judged(&[("a", 3.0), ("b", 1.0), ("c", 2.0)]);
        assert!((ndcg_at(&ranking(&["a", "c", "b"]), &judged, 10) - 1.0).abs() < 1e-12);
        let dcg = 1.0 / 2f64.log2() + 3.0 / 3f64.log2();
        let idcg = 3.0 / 2f64.log2() + 2.0 / 3f64.log2() + 1.0 / 4f64.log2();
        assert!((ndcg_at(&ranking(&["b", "a", "x"]), &judged, 10) - dcg / idcg).abs() < 1e-12);
        assert_eq!(ndcg_at(&ranking(&["x"]), &judged, 10), 0.0);
    }

    #[test]
    fn recall_mrr_and_map() {
        let judged = judged(&[("a", 1.0), ("b", 1.0), ("z", 0.0)]);
        let ranked = ranking(&["x", "a", "y", "b"]);
        assert_eq!(recall_at(&ranked, &judged, 2), 0.5);
        assert_eq!(recall_at(&ranked, &judged, 100), 1.0);
        assert_eq!(mrr_at(&ranked, &judged, 10), 0.5);
        assert!((average_precision_at(&ranked, &judged, 100) - (0.5 + 0.5) / 2.0).abs() < 1e-12);
        // Cut at k: `b` at rank 4 no longer counts, but still divides.
        assert!((average_precision_at(&ranked, &judged, 3) - 0.5 / 2.0).abs() < 1e-12);
    }

    #[test]
    fn map_is_named_and_cut_at_100_documents() {
        let judged = judged(&[("rel", 1.0)]);
        // The one relevant document at rank 101: trec_eval's map would give 1/101.
        let mut ranked: Vec<String> = (0..100).map(|i| format!("d{i}")).collect();
        ranked.push("rel".to_owned());
        let rankings: HashMap<String, Vec<String>> = [("q".to_owned(), ranked)].into();
        let qrels: Qrels = [("q".to_owned(), judged)].into();
        let scores = Scores::compute(&rankings, &qrels);
        assert_eq!(scores.mean("map@100"), 0.0);
        assert!(!scores.means().contains_key("map"));
    }

    #[test]
    fn documents_are_ranked_by_their_best_chunk() {
        assert_eq!(
            documents_by_best_chunk(["a", "b", "a", "c", "b"]),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn the_randomisation_test_separates_real_from_no_difference() {
        let a: BTreeMap<String, f64> = (0..50).map(|q| (q.to_string(), 0.3)).collect();
        let better: BTreeMap<String, f64> = (0..50)
            .map(|q| (q.to_string(), 0.4 + (q % 3) as f64 * 0.01))
            .collect();
        let same: BTreeMap<String, f64> = (0..50)
            .map(|q| (q.to_string(), if q % 2 == 0 { 0.35 } else { 0.25 }))
            .collect();
        let real = compare(&a, &better, 2000);
        assert!(real.p_value < 0.01 && real.wins == 50, "{real:?}");
        let none = compare(&a, &same, 2000);
        assert!(none.p_value > 0.5, "{none:?}");
        assert_eq!((none.wins, none.losses), (25, 25));
    }

    #[test]
    fn reads_the_shared_collections() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval/ir/cranfield");
        let queries = read_queries(&root.join("queries.jsonl")).unwrap();
        let qrels = read_qrels(&root.join("qrels.tsv")).unwrap();
        assert_eq!(queries.len(), 225);
        assert_eq!(qrels.values().map(HashMap::len).sum::<usize>(), 1612);
    }
}
