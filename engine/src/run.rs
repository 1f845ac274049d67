//! One run of a pipeline: plan, build, execute, summarise and record it under the store.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Map;

use crate::checkpoint::RunCheckpoints;
use crate::live::{LiveRun, LiveServer};
use crate::registry::OperatorConfig;
use crate::runtime::{self, ErrorRecord, LastRead, Options};
use crate::spec::load::Pipeline;
use crate::spec::paths::identity;
use crate::store::Store;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every item succeeded.
    Ok,
    /// Some items failed; the rest were processed.
    FailedItems,
    /// Stopped by the user; outputs were not completed.
    Cancelled,
    /// Still running (as recorded when it started).
    Running,
    /// Recorded as running but the process ended without finishing (killed or crashed).
    Interrupted,
}

impl Status {
    /// The process exit code for this status.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::FailedItems => 1,
            Status::Cancelled | Status::Interrupted => 130,
            Status::Running => 0,
        }
    }
}

/// What `engine run --json` prints and the store keeps.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Unique, sortable id.
    pub run_id: String,
    /// How it ended.
    pub status: Status,
    /// The pipeline file.
    pub pipeline: String,
    /// The pipeline file's absolute path, to tell two files that give one name apart.
    pub pipeline_path: String,
    /// The pipeline's name (pipelines sharing a store are told apart by it).
    #[serde(default)]
    pub name: String,
    /// blake3 of the pipeline file.
    pub pipeline_hash: String,
    /// The git commit that last changed the pipeline file, when it is in a repository
    /// (with `+dirty` when it has uncommitted changes).
    pub pipeline_commit: Option<String>,
    /// Start, UTC, RFC 3339.
    pub started_at: String,
    /// End, UTC, RFC 3339 (none while running).
    pub ended_at: Option<String>,
    /// Peak resident memory of the process, KiB.
    pub peak_rss_kib: u64,
    /// Fingerprint of every step, by name.
    pub fingerprints: Map<String, serde_json::Value>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Per step, in plan order.
    pub steps: Map<String, serde_json::Value>,
    /// Failed items.
    pub errors: Vec<ErrorRecord>,
    /// All failed items, when more than `errors` holds.
    pub errors_total: u64,
    /// Entries skipped on purpose.
    pub warnings: Vec<ErrorRecord>,
    /// A few documents per step emitted with warnings (their first warning); each step's
    /// `warned` counts them all, and `engine inspect RUN --step STEP` lists them.
    pub warned: Vec<runtime::WarnedRecord>,
}

/// How long the last write of a run's record may take before the run gives up (a full disk).
const FLUSH_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs a valid pipeline, checkpointing every step's outputs in the pipeline's store. A source
/// that reads no document where the last completed run read some fails, keeping the outputs,
/// unless `allow_empty`. Then removes the pipeline's runs past its newest `keep_runs`
/// ([`crate::gc::prune_runs`]).
pub fn run(
    pipeline: &Pipeline,
    mut options: Options,
    allow_empty: bool,
    keep_runs: usize,
) -> anyhow::Result<RunSummary> {
    let store = Arc::new(Store::open_waiting(&pipeline.store)?);
    if let Some(other) = name_shared_with(&store, pipeline) {
        return Err(crate::failure::invalid(name_shared_message(
            pipeline, &other,
        )));
    }
    mark_interrupted(&store)?;
    if !allow_empty {
        options.last_read = last_reads(&store, pipeline);
    }
    let now = SystemTime::now();
    let run_id = run_id(dated_after_the_newest(&store, now));
    let plan = crate::plan::plan(pipeline);
    let fingerprints: Map<String, serde_json::Value> = plan
        .order
        .iter()
        .map(|planned| {
            (
                pipeline.steps[planned.index].name.clone(),
                planned.fingerprint.clone().into(),
            )
        })
        .collect();
    let build = serde_json::json!({ "run_id": run_id, "fingerprints": fingerprints });
    let nodes = crate::ops::build_nodes(pipeline, &plan, Some(&store), &build)?;
    let mut summary = RunSummary {
        run_id: run_id.clone(),
        status: Status::Running,
        pipeline: pipeline.file.display().to_string(),
        pipeline_path: identity(&pipeline.file).display().to_string(),
        name: pipeline.name.clone(),
        pipeline_hash: pipeline.file_hash.clone(),
        pipeline_commit: git_commit(&pipeline.file),
        started_at: rfc3339(now),
        ended_at: None,
        peak_rss_kib: 0,
        fingerprints,
        seconds: 0.0,
        // Each step's operator, so that a run killed before its end still names its steps.
        steps: plan
            .step_ops(pipeline)
            .into_iter()
            .map(|(name, op)| (name, serde_json::json!({ "op": op })))
            .collect(),
        errors: Vec::new(),
        errors_total: 0,
        warnings: Vec::new(),
        warned: Vec::new(),
    };
    save(&store, &summary)?;
    let live = Arc::new(LiveRun::new(
        run_id.clone(),
        pipeline.name.clone(),
        plan.step_ops(pipeline),
    ));
    options.journal = Some((store.dir().to_owned(), run_id.clone()));
    let checkpoints = Arc::new(RunCheckpoints::new(store.clone(), run_id).with_live(live.clone()));
    options.checkpoints = Some(checkpoints.clone());
    options.observer = Some(observe_live(live.clone(), options.observer.take()));
    // Other processes see this run through it while it runs (sled admits one process).
    let server = LiveServer::start(store.clone(), live);
    let execution = runtime::execute(nodes, options);
    if let Some((count, why)) = checkpoints.unreadable() {
        errln!(
            "warning: {count} stored output(s) could not be read ({why}): the store's checkpoint database is damaged; they were computed again (if this recurs, move the database away: `mv {db} {db}.damaged`)",
            db = store.dir().join("db").display()
        );
    }
    summary.status = if execution.cancelled {
        Status::Cancelled
    } else if execution.errors_total > 0 {
        Status::FailedItems
    } else {
        Status::Ok
    };
    summary.steps = execution
        .steps
        .iter()
        .map(|(name, report)| {
            let mut value = serde_json::to_value(report).expect("step report serializes");
            if let Some(object) = value.as_object_mut() {
                object.insert("op".into(), report.op.clone().into());
                if let Some(reads) = source_reads(pipeline, name) {
                    object.insert("reads".into(), reads.into());
                }
            }
            (name.clone(), value)
        })
        .collect();
    summary.seconds = execution.seconds;
    summary.ended_at = Some(rfc3339(SystemTime::now()));
    summary.peak_rss_kib = runtime::peak_resident_kib();
    summary.errors = execution.errors;
    summary.errors_total = execution.errors_total;
    summary.warnings = execution.warnings;
    summary.warned = execution.warned;
    save(&store, &summary)?;
    // Every run records every document: without a bound the store grows run after run. sled
    // reuses the space of what is pruned, but keeps its files' size: the next `gc` rewrites
    // the database, which gives it back.
    if crate::gc::prune_runs(&store, Some(&pipeline.name), keep_runs)? > 0 {
        store.want_compaction(true)?;
        // What pruning took is the run's too.
        let peak = runtime::peak_resident_kib();
        if peak > summary.peak_rss_kib {
            summary.peak_rss_kib = peak;
            save(&store, &summary)?;
        }
    }
    store.flush_or_exit(FLUSH_PATIENCE)?;
    // Recorded: what put its outputs in place is no longer needed.
    crate::publishing::remove(store.dir())?;
    drop(server);
    Ok(summary)
}

/// The folder or file source step `step` of `pipeline` reads (resolved), as its report in a
/// run records it (`reads`); `None` for any other step.
pub fn source_reads(pipeline: &Pipeline, step: &str) -> Option<String> {
    let path = match &pipeline.steps.iter().find(|s| s.name == step)?.config {
        OperatorConfig::SourceFiles(config) => &config.path,
        OperatorConfig::SourceJsonl(config) => &config.path,
        _ => return None,
    };
    Some(identity(&pipeline.base.join(path)).display().to_string())
}

/// What each source of `pipeline` read in its latest completed run that it did not fail in as
/// a whole (a run in which it read nothing and failed, such as one this guard stopped, tells
/// nothing); sources that read nothing there are left out. A run's report of the source is the
/// one of a step that read the same folder or file, under any name (a source step renamed
/// while its folder is empty is still guarded), or else the step of the same name.
fn last_reads(store: &Store, pipeline: &Pipeline) -> HashMap<String, LastRead> {
    let Ok(runs) = crate::query::completed_runs(store, &pipeline.name) else {
        return HashMap::new();
    };
    let runs: Vec<_> = runs.collect();
    let sources = pipeline.steps.iter().filter(|step| step.inputs.is_empty());
    sources
        .filter_map(|step| {
            let reads = source_reads(pipeline, &step.name);
            let report_of = |run: &serde_json::Value| {
                let same_source =
                    (run["steps"].as_object().into_iter().flatten()).find(|(_, report)| {
                        reads.is_some() && report["reads"].as_str() == reads.as_deref()
                    });
                match same_source {
                    Some((_, report)) => report.clone(),
                    None => run["steps"][&step.name].clone(),
                }
            };
            let (run, documents) = runs.iter().find_map(|run| {
                let report = &report_of(run);
                let documents = report["out"].as_u64()?;
                let failed = report["failed"].as_u64().unwrap_or(0);
                (documents > 0 || failed == 0).then_some((run, documents))
            })?;
            let run_id = run["run_id"].as_str()?.to_owned();
            (documents > 0).then(|| (step.name.clone(), LastRead { run_id, documents }))
        })
        .collect()
}

/// An observer that keeps the live counters in `live`, then calls `then`.
fn observe_live(live: Arc<LiveRun>, then: Option<runtime::Observer>) -> runtime::Observer {
    Arc::new(move |counters| {
        live.observe(counters);
        if let Some(then) = &then {
            then(counters);
        }
    })
}

fn save(store: &Store, summary: &RunSummary) -> anyhow::Result<()> {
    let value = serde_json::to_value(summary)?;
    store.save_run(&summary.run_id, &value)?;
    Ok(())
}

/// Another pipeline file that has run on this store under `pipeline`'s name and still gives
/// that name and this store: the two share runs, indexes and what `gc` keeps.
pub fn name_shared_with(store: &Store, pipeline: &Pipeline) -> Option<std::path::PathBuf> {
    name_shared_in(&store.runs().ok()?, pipeline)
}

/// [`name_shared_with`] over the store's `runs`, as `engine runs --json` lists them.
pub fn name_shared_in(
    runs: &[serde_json::Value],
    pipeline: &Pipeline,
) -> Option<std::path::PathBuf> {
    let ours = identity(&pipeline.file);
    let store_dir = identity(&pipeline.store);
    let mut seen = std::collections::HashSet::new();
    for run in runs {
        if run["name"].as_str() != Some(pipeline.name.as_str()) {
            continue;
        }
        let Some(path) = run["pipeline_path"].as_str().map(std::path::PathBuf::from) else {
            continue;
        };
        if path == ours || !seen.insert(path.clone()) || !path.is_file() {
            continue;
        }
        if let Ok((other, _)) = crate::spec::load::load(&path)
            && other.name == pipeline.name
            && identity(&other.store) == store_dir
        {
            return Some(path);
        }
    }
    None
}

/// What to say of a name that two pipeline files give.
pub fn name_shared_message(pipeline: &Pipeline, other: &std::path::Path) -> String {
    format!(
        "{} is also named `{}` and uses this store: the two would share runs and indexes, each run replacing the other's documents; give one of them another `name`",
        other.display(),
        pipeline.name
    )
}

/// Runs recorded as running cannot be when the caller holds the store and runs nothing: they
/// were killed. One killed while its outputs went into place has them put in place, and is
/// recorded as completed (see [`crate::publishing`]); the others are recorded as interrupted.
pub fn mark_interrupted(store: &Store) -> anyhow::Result<()> {
    complete_publishing(store)?;
    for mut run in store.runs()? {
        if run["status"] == "running" {
            run["status"] = "interrupted".into();
            // How long it ran is not known: it ended without saying.
            run["seconds"] = serde_json::Value::Null;
            // Nor is its memory: it was measured at the end.
            run["peak_rss_kib"] = serde_json::Value::Null;
            let id = run["run_id"].as_str().unwrap_or_default().to_owned();
            count_recorded_items(store, &id, &mut run)?;
            store.save_run(&id, &run)?;
        }
    }
    Ok(())
}

/// Completes what a run killed while its outputs went into place left (its journal): the
/// renames not done, and the run's record, as completed, counted from the items it recorded.
fn complete_publishing(store: &Store) -> anyhow::Result<()> {
    let Some(journal) = crate::publishing::Journal::read(store.dir()) else {
        // None, or one cut short before it was whole (written, then renamed into place: no
        // rename was done after it).
        return crate::publishing::remove(store.dir());
    };
    for warning in journal.complete() {
        errln!("warning: {warning}");
    }
    let recorded = store
        .runs()?
        .into_iter()
        .find(|run| run["run_id"] == journal.run_id);
    if let Some(mut run) = recorded.filter(|run| run["status"] == "running") {
        // Its length up to then, nearly all of it; unknown from a journal without it.
        run["seconds"] = journal.seconds.into();
        run["peak_rss_kib"] = serde_json::Value::Null;
        count_recorded_items(store, &journal.run_id, &mut run)?;
        for (step, outcome) in &journal.outcomes {
            run["steps"][step.as_str()]["outcome"] = outcome.clone();
        }
        let failed = run["errors_total"].as_u64().unwrap_or(0) > 0;
        run["status"] = if failed { "failed_items" } else { "ok" }.into();
        run["note"] = "the process ended while its outputs went into place; the next command put the rest in place"
            .into();
        store.save_run(&journal.run_id, &run)?;
    }
    store.flush()?;
    crate::publishing::remove(store.dir())
}

/// Fills the step counters of a run that ended without its summary from the items it recorded:
/// what each step finished before the end (in, out, failed, cached, warned for steps that parse,
/// bytes, busy seconds), and its error records (the first [`runtime::MAX_ERROR_RECORDS`], as a
/// finished run keeps them, and how many in all).
fn count_recorded_items(
    store: &Store,
    run_id: &str,
    run: &mut serde_json::Value,
) -> anyhow::Result<()> {
    if !run["steps"].is_object() {
        run["steps"] = serde_json::json!({});
    }
    // Steps that emit parsed documents count the warned ones, as a finished run's summary does.
    if let Some(steps) = run["steps"].as_object_mut() {
        for counters in steps.values_mut() {
            let op = counters["op"].as_str().unwrap_or_default();
            if runtime::emits_warnings(op) {
                counters["warned"] = 0.into();
            }
        }
    }
    let mut errors = Vec::new();
    let mut errors_total: u64 = 0;
    for (step, doc_id, record) in store.item_records(run_id, None)? {
        if let Some(message) = &record.error {
            errors_total += 1;
            if errors.len() < runtime::MAX_ERROR_RECORDS {
                errors.push(serde_json::json!({
                    "step": step, "doc_id": doc_id, "message": message,
                }));
            }
        }
        let counters = &mut run["steps"][step.as_str()];
        let op = counters["op"].as_str().unwrap_or_default().to_owned();
        // Steps that emit chunk sets count their chunks, read from the outputs kept.
        let chunks = match op.starts_with("chunk.") || op == "embed" {
            true => crate::inspect::output_of(store, &record).and_then(|item| item.chunks()),
            false => None,
        };
        let mut count = |key: &str, amount: u64| {
            counters[key] = (counters[key].as_u64().unwrap_or(0) + amount).into();
        };
        count("in", 1);
        count("bytes_in", record.bytes_in);
        count("bytes_out", record.bytes_out);
        count("cached", u64::from(record.cached));
        if record.warned {
            count("warned", 1);
        }
        count(
            if record.error.is_some() {
                "failed"
            } else {
                "out"
            },
            1,
        );
        if let Some(chunks) = chunks {
            count("chunks", chunks as u64);
        }
        // Sources have no busy time, as in a finished run.
        let source = crate::registry::lookup(&op).is_some_and(|info| info.is_source());
        if !source {
            let busy = counters["busy_seconds"].as_f64().unwrap_or(0.0) + record.seconds;
            counters["busy_seconds"] = busy.into();
        }
    }
    // Every step has the counters a finished run's has: 0 when it finished nothing, and
    // null where the run did not live to say (its seconds and memory).
    if let Some(steps) = run["steps"].as_object_mut() {
        for counters in steps.values_mut() {
            for key in ["in", "out", "failed", "cached", "bytes_in", "bytes_out"] {
                if counters[key].is_null() {
                    counters[key] = 0.into();
                }
            }
            // A chunking step that finished no item (or whose outputs are gone) tells none.
            let mut unknown = vec!["seconds", "peak_rss_kib"];
            let op = counters["op"].as_str().unwrap_or_default();
            if op.starts_with("chunk.") || op == "embed" {
                unknown.push("chunks");
            }
            for key in unknown {
                if counters.get(key).is_none() {
                    counters[key] = serde_json::Value::Null;
                }
            }
        }
    }
    run["errors"] = errors.into();
    run["errors_total"] = errors_total.into();
    Ok(())
}

/// The last commit that touched `file`, with `+dirty` when it has uncommitted changes.
fn git_commit(file: &std::path::Path) -> Option<String> {
    let folder = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = file.file_name()?;
    let git = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(folder)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let commit = git(&[
        "log".as_ref(),
        "-1".as_ref(),
        "--format=%H".as_ref(),
        "--".as_ref(),
        name,
    ])?;
    if commit.is_empty() {
        return None;
    }
    let dirty = git(&[
        "status".as_ref(),
        "--porcelain".as_ref(),
        "--".as_ref(),
        name,
    ])
    .is_some_and(|s| !s.is_empty());
    Some(if dirty {
        format!("{commit}+dirty")
    } else {
        commit
    })
}

/// `20261129T081502.123Z-3fa9`: the start time (sorts by time) plus a few random-enough hex digits.
/// When a new run's id is dated: `now`, or just after the newest run's id when the clock reads
/// earlier (it was set back after running ahead). Runs sort by id, so a run dated before the
/// newest would be taken for an old one: `inspect latest` showed the run before it, pruning
/// dropped it first, and `gc` kept the checkpoints of the older runs' settings, not its own.
fn dated_after_the_newest(store: &Store, now: SystemTime) -> SystemTime {
    let newest = store.newest_run_id().ok().flatten();
    let Some(newest_at) = newest.as_deref().and_then(run_id_time) else {
        return now;
    };
    let after = newest_at + std::time::Duration::from_millis(1);
    if now >= after {
        return now;
    }
    errln!(
        "warning: the clock reads {}, before the newest run in the store ({}) started: this run is dated just after it, so that it stays the newest",
        rfc3339(now),
        newest.unwrap_or_default()
    );
    after
}

/// The time a run id gives (`20261202T044500.123Z-…`), to the millisecond.
fn run_id_time(id: &str) -> Option<SystemTime> {
    let number = |range: std::ops::Range<usize>| id.get(range)?.parse::<i64>().ok();
    if id.get(8..9) != Some("T") || id.get(15..16) != Some(".") {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hours, minutes, seconds, millis) = (
        number(9..11)?,
        number(11..13)?,
        number(13..15)?,
        number(16..19)?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Howard Hinnant's days-from-civil algorithm (the inverse of `civil`).
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let millis = ((days * 86_400 + hours * 3_600 + minutes * 60 + seconds) * 1_000) + millis;
    Some(UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(millis).ok()?))
}

fn run_id(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let salt = blake3::hash(format!("{}{}", since.as_nanos(), std::process::id()).as_bytes());
    let (date, time) = civil(since.as_secs());
    format!(
        "{}T{}.{:03}Z-{}",
        date.replace('-', ""),
        time.replace(':', ""),
        since.subsec_millis(),
        &salt.to_hex()[..4]
    )
}

fn rfc3339(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (date, time) = civil(since.as_secs());
    format!("{date}T{time}Z")
}

/// Seconds since the epoch as (`YYYY-MM-DD`, `HH:MM:SS`) in UTC.
fn civil(seconds: u64) -> (String, String) {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        ),
    )
}

/// Options for a run observed by progress bars when `progress` is set.
pub fn options(progress: Option<Arc<crate::progress::Progress>>) -> Options {
    let mut options = Options::default();
    if let Some(progress) = progress {
        options.observer = Some(Arc::new(move |counters| progress.update(counters)));
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ItemRecord;

    /// A run id gives back the time it was made from, to the millisecond, across leap days
    /// and years.
    #[test]
    fn a_run_id_gives_back_its_time() {
        for millis in [
            0u64,
            951_782_400_123,
            1_709_208_000_999,
            1_796_184_300_456,
            4_102_444_799_000,
        ] {
            let at = UNIX_EPOCH + std::time::Duration::from_millis(millis);
            assert_eq!(run_id_time(&run_id(at)), Some(at), "{}", run_id(at));
        }
        assert_eq!(run_id_time("r1"), None);
        assert_eq!(run_id_time("20261340T000000.000Z-abcd"), None);
    }

    /// A clock set back after running ahead dated the new run before the runs it made: the
    /// new run sorted as the oldest, so `inspect latest` showed another, pruning dropped it
    /// first and `gc` removed its checkpoints.
    #[test]
    fn a_run_is_dated_after_the_newest_even_when_the_clock_went_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = SystemTime::now();
        assert_eq!(dated_after_the_newest(&store, now), now);
        let ahead = run_id(now + std::time::Duration::from_secs(86_400));
        store
            .save_run(&ahead, &serde_json::json!({ "run_id": ahead }))
            .unwrap();
        let id = run_id(dated_after_the_newest(&store, now));
        assert!(id > ahead, "{id} sorts before {ahead}");
        // A clock that has caught up dates runs by itself again.
        let later = now + std::time::Duration::from_secs(2 * 86_400);
        assert_eq!(dated_after_the_newest(&store, later), later);
    }

    /// A run killed before its summary is marked interrupted with what its steps finished,
    /// the documents parsed with warnings among them, and the errors it met.
    #[test]
    fn an_interrupted_run_counts_what_its_steps_finished() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let run = serde_json::json!({
            "run_id": "r1", "status": "running", "peak_rss_kib": 0,
            "steps": { "docs": { "op": "source.files" }, "parse": { "op": "parse" },
                       "chunk": { "op": "chunk.recursive" },
                       "chunk_b": { "op": "chunk.recursive" } },
        });
        store.save_run("r1", &run).unwrap();
        let record = |cached: bool, error: Option<&str>| ItemRecord {
            fingerprint: "fp".into(),
            key: String::new(),
            cached,
            seconds: 0.5,
            bytes_in: 10,
            bytes_out: 20,
            error: error.map(str::to_owned),
            warned: false,
        };
        store
            .record_item("r1", "docs", "a.md", &record(false, None))
            .unwrap();
        store
            .record_item("r1", "parse", "a.md", &record(true, None))
            .unwrap();
        // b.md was parsed with warnings.
        let warned = ItemRecord {
            warned: true,
            ..record(false, None)
        };
        store.record_item("r1", "parse", "b.md", &warned).unwrap();
        store
            .record_item("r1", "parse", "c.md", &record(false, Some("bad")))
            .unwrap();
        // A chunk set of two chunks kept in the store: its step counts them.
        let chunk = |ordinal: usize| {
            serde_json::json!({ "chunk_id": format!("c{ordinal}"), "doc_id": "a.md",
                "ordinal": ordinal, "text": "x", "span": [0, 1], "section": [], "pages": null,
                "tokens": 1, "kinds": [], "metadata": {} })
        };
        let set: operators::model::ChunkSet = serde_json::from_value(serde_json::json!({
            "doc_id": "a.md", "source": "a.md", "title": null, "hash": "h",
            "chunks": [chunk(0), chunk(1)],
        }))
        .unwrap();
        let item = runtime::Item::Chunks(std::sync::Arc::new(set));
        let key = crate::store::hex(&[9; 32]);
        let bytes = crate::store::codec::encode(Some(&item)).unwrap();
        let parsed_key = crate::store::parse_key(&key).unwrap();
        store.put_checkpoint("fpc", &parsed_key, &bytes).unwrap();
        let chunked = ItemRecord {
            fingerprint: "fpc".into(),
            key,
            ..record(false, None)
        };
        store
            .record_item("r1", "chunk_b", "a.md", &chunked)
            .unwrap();
        mark_interrupted(&store).unwrap();
        let run = &store.runs().unwrap()[0];
        assert_eq!(run["status"], "interrupted");
        assert!(run["seconds"].is_null(), "its length is not known");
        assert!(run["peak_rss_kib"].is_null(), "nor its memory: {run}");
        assert_eq!(run["steps"]["chunk_b"]["chunks"], 2, "{run}");
        let parse = &run["steps"]["parse"];
        assert_eq!(
            [
                &parse["op"],
                &parse["in"],
                &parse["out"],
                &parse["failed"],
                &parse["cached"]
            ],
            [
                &serde_json::json!("parse"),
                &3.into(),
                &2.into(),
                &1.into(),
                &1.into()
            ]
        );
        assert_eq!(parse["bytes_out"], 60);
        assert_eq!(parse["busy_seconds"], 1.5);
        let docs = &run["steps"]["docs"];
        assert_eq!(docs["out"], 1, "{docs}");
        assert!(
            docs.get("busy_seconds").is_none(),
            "a source has no busy time: {docs}"
        );
        assert_eq!(
            parse["warned"], 1,
            "warned items count as in a finished run"
        );
        assert_eq!(
            run["steps"]["chunk"],
            serde_json::json!({
                "op": "chunk.recursive", "in": 0, "out": 0, "failed": 0, "cached": 0,
                "bytes_in": 0, "bytes_out": 0, "seconds": null, "peak_rss_kib": null,
                "chunks": null,
            }),
            "the counters of a finished run's steps, unknown ones null"
        );
        assert_eq!(
            (&run["errors"], &run["errors_total"]),
            (
                &serde_json::json!([{ "step": "parse", "doc_id": "c.md", "message": "bad" }]),
                &1.into()
            ),
            "its errors are listed as a finished run lists them"
        );
    }

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil(0), ("1970-01-01".to_owned(), "00:00:00".to_owned()));
        assert_eq!(
            civil(1_796_000_000),
            ("2026-11-30".to_owned(), "00:53:20".to_owned())
        );
        assert_eq!(
            civil(951_782_400),
            ("2000-02-29".to_owned(), "00:00:00".to_owned())
        );
    }

    /// A run killed while its outputs went into place (its journal written, one rename of two
    /// done) has the rest put in place by the next command that holds the store, and is
    /// recorded as completed, not interrupted: the tester's kill left one index of the new run
    /// beside another of the last, with the run recorded as interrupted.
    #[test]
    fn a_run_killed_while_its_outputs_went_into_place_is_completed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let run = serde_json::json!({
            "run_id": "r1", "status": "running", "peak_rss_kib": 0,
            "steps": { "docs": { "op": "source.files" }, "out": { "op": "sink.jsonl" } },
        });
        store.save_run("r1", &run).unwrap();
        let done = (
            dir.path().join("a.jsonl.partial"),
            dir.path().join("a.jsonl"),
        );
        let left = (
            dir.path().join("b.jsonl.partial"),
            dir.path().join("b.jsonl"),
        );
        std::fs::write(&done.1, "new a").unwrap();
        std::fs::write(&left.0, "new b").unwrap();
        std::fs::write(&left.1, "old b").unwrap();
        let journal = crate::publishing::Journal {
            run_id: "r1".to_owned(),
            renames: vec![done.clone(), left.clone()],
            seconds: Some(2.5),
            outcomes: [(
                "index".to_owned(),
                serde_json::json!({ "documents_indexed": 3 }),
            )]
            .into(),
        };
        journal.write(dir.path()).unwrap();
        mark_interrupted(&store).unwrap();
        assert_eq!(std::fs::read_to_string(&left.1).unwrap(), "new b");
        assert!(!crate::publishing::pending(dir.path()));
        let runs = store.runs().unwrap();
        assert_eq!(runs[0]["status"], "ok", "{}", runs[0]);
        // Its length and its index's outcome come from the journal (it read 0.00 s, and the
        // outcome was lost).
        assert_eq!(runs[0]["seconds"], 2.5, "{}", runs[0]);
        assert_eq!(runs[0]["steps"]["index"]["outcome"]["documents_indexed"], 3);
        // A run killed before its journal was written stays interrupted.
        store
            .save_run(
                "r2",
                &serde_json::json!({ "run_id": "r2", "status": "running" }),
            )
            .unwrap();
        mark_interrupted(&store).unwrap();
        assert_eq!(store.runs().unwrap()[0]["status"], "interrupted");
    }
}
