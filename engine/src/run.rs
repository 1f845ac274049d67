//! One run of a pipeline: plan, build, execute, summarise and record it under the store.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::Serialize;
use serde_json::Map;

use crate::runtime::{self, ErrorRecord, Options};
use crate::spec::load::Pipeline;

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
}

impl Status {
    /// The process exit code for this status.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::FailedItems => 1,
            Status::Cancelled => 130,
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
    /// blake3 of the pipeline file.
    pub pipeline_hash: String,
    /// Start, UTC, RFC 3339.
    pub started_at: String,
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
    /// Where this summary was saved.
    #[serde(skip)]
    pub record: Option<PathBuf>,
}

/// Runs a valid pipeline.
pub fn run(pipeline: &Pipeline, options: Options) -> anyhow::Result<RunSummary> {
    let now = SystemTime::now();
    let run_id = run_id(now);
    let plan = crate::plan::plan(pipeline);
    std::fs::create_dir_all(&pipeline.store).with_context(|| {
        format!(
            "cannot create the store folder {}",
            pipeline.store.display()
        )
    })?;
    let nodes = crate::ops::build_nodes(pipeline, &plan)?;
    let execution = runtime::execute(nodes, options);
    let status = if execution.cancelled {
        Status::Cancelled
    } else if execution.errors_total > 0 {
        Status::FailedItems
    } else {
        Status::Ok
    };
    let steps = execution
        .steps
        .iter()
        .map(|(name, report)| {
            let mut value = serde_json::to_value(report).expect("step report serializes");
            if let Some(object) = value.as_object_mut() {
                object.insert("op".into(), report.op.clone().into());
            }
            (name.clone(), value)
        })
        .collect();
    let mut summary = RunSummary {
        run_id,
        status,
        pipeline: pipeline.file.display().to_string(),
        pipeline_hash: pipeline.file_hash.clone(),
        started_at: rfc3339(now),
        seconds: execution.seconds,
        steps,
        errors: execution.errors,
        errors_total: execution.errors_total,
        warnings: execution.warnings,
        record: None,
    };
    summary.record = Some(save(pipeline, &summary)?);
    Ok(summary)
}

/// Writes the summary to `<store>/runs/<run_id>.json`.
fn save(pipeline: &Pipeline, summary: &RunSummary) -> anyhow::Result<PathBuf> {
    let folder = pipeline.store.join("runs");
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let path = folder.join(format!("{}.json", summary.run_id));
    let text = serde_json::to_string_pretty(summary)?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// `20261129T081502Z-3fa9`: the start time plus a few random-enough hex digits.
fn run_id(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let salt = blake3::hash(format!("{}{}", since.as_nanos(), std::process::id()).as_bytes());
    let (date, time) = civil(since.as_secs());
    format!(
        "{}T{}Z-{}",
        date.replace('-', ""),
        time.replace(':', ""),
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
}
