//! `engine run --watch`: run, wait until a file a source reads (or the pipeline file) changes,
//! run again; until Ctrl-C.
//!
//! The files are looked at every `--interval` seconds, by their listing alone (names, lengths
//! and modification times of what each source picks, as `FileSource::listing` gives them, and
//! of the models and tokenizers the steps read),
//! so an unchanged folder costs a walk and no run: an unchanged run still records what every
//! step did to every document.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use operators::source::{JsonlSource, Listing};

use crate::registry::OperatorConfig;
use crate::spec::load::{self, Pipeline};
use crate::store::{StoreError, StoreLock};

/// Set by Ctrl-C: watching ends (after the run in progress, which the same Ctrl-C cancels).
static STOP: AtomicBool = AtomicBool::new(false);

/// Ends watching: the run in progress is the last, and a wait ends at once.
pub fn stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// What a run reads, as far as watching can tell without reading it: the pipeline file, each
/// source's listing, and the files the steps read besides (models, tokenizers).
#[derive(Debug, PartialEq)]
struct Inputs {
    pipeline_file: Option<load::FileStamp>,
    sources: Vec<Listing>,
    resources: Listing,
}

fn inputs(file: &Path) -> Inputs {
    // A file that does not load (being edited) has no sources to look at: its next edit
    // changes its bytes.
    let (sources, resources) = load::load_for(file, load::Purpose::Read)
        .map(|(pipeline, _)| (source_listings(&pipeline), resource_listing(&pipeline)))
        .unwrap_or_default();
    Inputs {
        pipeline_file: load::file_stamp(file),
        sources,
        resources,
    }
}

/// The name, length and modification time of every file whose contents change what a step
/// outputs (an `onnx` model and its tokenizer, a chunker's `tokenizer`): replaced in place, it
/// makes the steps' fingerprints change, so the next run redoes their work.
fn resource_listing(pipeline: &Pipeline) -> Listing {
    (pipeline.steps.iter())
        .flat_map(|step| step.config.resource_files(&pipeline.base))
        .map(|path| {
            let metadata = std::fs::metadata(&path).ok();
            let length = metadata.as_ref().map_or(0, std::fs::Metadata::len);
            let modified = metadata.and_then(|metadata| metadata.modified().ok());
            (path.to_string_lossy().into_owned(), length, modified)
        })
        .collect()
}

fn source_listings(pipeline: &Pipeline) -> Vec<Listing> {
    let base = pipeline.base.as_path();
    pipeline
        .steps
        .iter()
        .filter_map(|step| match &step.config {
            OperatorConfig::SourceFiles(config) => Some(
                crate::ops::file_source(pipeline, config)
                    .map(|source| source.listing())
                    .unwrap_or_default(),
            ),
            OperatorConfig::SourceJsonl(config) => Some(JsonlSource::new(config, base).listing()),
            _ => None,
        })
        .collect()
}

/// The store folder a run could not open because another process held it (an `engine gc`,
/// another run).
fn store_in_use(err: &anyhow::Error) -> Option<PathBuf> {
    err.chain()
        .find_map(|cause| match cause.downcast_ref::<StoreError>() {
            Some(StoreError::InUse { path, .. }) => Some(path.clone()),
            _ => None,
        })
}

/// Whether no process holds the store in `dir` now.
fn store_free(dir: &Path) -> bool {
    StoreLock::acquire(dir).is_ok()
}

/// Runs `run_once` (a run of the pipeline in `file`), then again each time what it reads
/// changes, looking every `interval`, until Ctrl-C. A run that cannot be carried out (the
/// pipeline file invalid while being edited, say) is reported and waited out like any other;
/// one that found the store in use by another process is run again once it is free.
/// The exit code is the last run's.
pub fn watch(
    file: &Path,
    interval: Duration,
    json: bool,
    mut run_once: impl FnMut() -> anyhow::Result<i32>,
) -> anyhow::Result<i32> {
    let mut code;
    loop {
        // Taken before the run: a change during it starts the next one.
        let before = inputs(file);
        let mut busy = None;
        code = match run_once() {
            Ok(code) => code,
            Err(err) => {
                busy = store_in_use(&err);
                crate::failure::report(&err, json)
            }
        };
        if STOP.load(Ordering::SeqCst) {
            return Ok(code);
        }
        if !json {
            errln!(
                "watching {} and what its sources read (every {:?}; Ctrl-C stops)",
                file.display(),
                interval
            );
            if busy.is_some() {
                errln!("the run is tried again once the store is free");
            }
        }
        loop {
            if sleep_unless_stopped(interval) {
                if !json {
                    errln!("stopped watching");
                }
                return Ok(code);
            }
            if inputs(file) != before || busy.as_deref().is_some_and(store_free) {
                break;
            }
        }
    }
}

/// Sleeps `interval` in short steps; whether Ctrl-C stopped watching meanwhile.
fn sleep_unless_stopped(interval: Duration) -> bool {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < interval {
        if STOP.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep(step.min(interval - slept));
        slept += step;
    }
    STOP.load(Ordering::SeqCst)
}
