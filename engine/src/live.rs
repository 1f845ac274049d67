//! Seeing a run while it runs. sled lets one process open a store, so while `engine run` holds
//! it, the run answers `engine runs`, `engine inspect` and `engine tap` for that store over a Unix
//! socket in the store folder (`live.sock`): the same reports those commands make from a store
//! at rest, with the running run's live counters, and a stream of the items a step completes.
//!
//! Protocol: the client writes one JSON [`Request`] line; the server answers JSON lines:
//! `{"ok": report}` or `{"error": message}`; for `tap`, `{"ok": …}` then one `{"item": …}` per
//! item the step completes and a last `{"end": …}` when the run ends.
//!
//! On platforms without Unix sockets, other processes are told the store is in use, as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::bail;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::inspect;
use crate::runtime::StepCounters;
use crate::store::{ItemRecord, Store};

/// Items a slow `tap` client may fall behind by before items are skipped for it.
#[cfg_attr(not(unix), allow(dead_code))] // only the socket subscribes to taps
const TAP_BUFFER: usize = 1024;

// The socket (Unix); elsewhere, a run does not answer for its store.
#[cfg(unix)]
mod socket;
#[cfg(unix)]
pub use socket::{LiveServer, ask, follow};
#[cfg(not(unix))]
mod unsupported;
#[cfg(not(unix))]
pub use unsupported::{LiveServer, ask, follow};

/// What a client asks the running run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    /// The runs of the store, newest first.
    Runs,
    /// `engine inspect RUN [--step S] [--doc D]`.
    Inspect {
        /// A run id, a prefix of one, or `latest`.
        run: String,
        /// The step to report on.
        step: Option<String>,
        /// The document to report on.
        doc: Option<String>,
        /// Which documents a step's report lists (all, without it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        only: Option<inspect::Only>,
        /// The pipeline (by name) whose newest run `latest` means; any, without one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pipeline: Option<String>,
    },
    /// Every item step `step` (every step, without one) completes from now on, or, with
    /// `from_start`, since the run started.
    Tap {
        /// The step.
        step: Option<String>,
        /// Whether the items completed before the request come first.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        from_start: bool,
        /// Only a run of this pipeline: a run of another says which it is and ends the tap.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pipeline: Option<String>,
    },
}

/// Run `run` (an id, a prefix of one, or `latest`) of a store this process opened and runs
/// nothing on (a run recorded as running there was killed, and is marked so).
pub fn recorded_run(store: &Store, run: &str, pipeline: Option<&str>) -> anyhow::Result<Value> {
    crate::run::mark_interrupted(store)?;
    inspect::find_run(store, run, pipeline)
}

/// The report for `request` from an open store; `live` is the run in progress, if this process
/// runs one.
pub fn answer(store: &Store, live: Option<&LiveRun>, request: &Request) -> anyhow::Result<Value> {
    if live.is_none() {
        // This process holds the store and runs nothing: a run recorded as running was killed.
        crate::run::mark_interrupted(store)?;
    }
    let overlay = |run: &mut Value| {
        if let Some(live) = live {
            live.overlay(run);
        }
    };
    match request {
        Request::Runs => {
            let mut runs = store.runs()?;
            runs.iter_mut().for_each(overlay);
            Ok(json!({ "runs": runs }))
        }
        Request::Inspect {
            run,
            step,
            doc,
            only,
            pipeline,
        } => {
            let mut run = inspect::find_run(store, run, pipeline.as_deref())?;
            overlay(&mut run);
            match (step.as_deref(), doc.as_deref()) {
                (None, None) => Ok(run),
                (Some(step), None) => inspect::step_report(store, &run, step, *only),
                (None, Some(doc)) => inspect::document_report(store, &run, doc),
                (Some(step), Some(doc)) => inspect::one_output(store, &run, step, doc),
            }
        }
        Request::Tap { .. } => bail!(
            "no run is using {}: `engine tap` follows a running `engine run`",
            store.dir().display()
        ),
    }
}

/// The run in progress, as the server reports it: its id, its steps' operators and live
/// counters, and the taps listening to its steps.
pub struct LiveRun {
    run_id: String,
    /// The name of the pipeline the run runs.
    pipeline: String,
    started: Instant,
    /// `(step, operator)` in plan order.
    steps: Vec<(String, String)>,
    observed: Mutex<Observed>,
    taps: Taps,
}

/// What the run's observer has seen so far.
#[derive(Default)]
struct Observed {
    /// The runtime's live counters, by step.
    counters: HashMap<String, Arc<StepCounters>>,
    /// Seconds from the start to the end of each step that has ended.
    ended: HashMap<String, f64>,
}

impl LiveRun {
    /// Run `run_id` of pipeline `pipeline` and its `steps` (`(name, operator)` in plan order),
    /// started now.
    pub fn new(run_id: String, pipeline: String, steps: Vec<(String, String)>) -> Self {
        LiveRun {
            run_id,
            pipeline,
            started: Instant::now(),
            steps,
            observed: Mutex::default(),
            taps: Taps::default(),
        }
    }

    /// Keeps the runtime's live counters, and when each step ended (called by the run's
    /// observer every 100 ms).
    pub fn observe(&self, counters: &[(String, Arc<StepCounters>)]) {
        let mut observed = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
        if observed.counters.len() < counters.len() {
            observed.counters.extend(counters.iter().cloned());
        }
        for (name, live) in counters {
            if live.done.load(Ordering::Acquire) && !observed.ended.contains_key(name) {
                let seconds = self.started.elapsed().as_secs_f64();
                observed.ended.insert(name.clone(), seconds);
            }
        }
    }

    /// The step named `name` and its operator (`""` for a name the run does not have).
    fn step<'a>(&'a self, name: &'a str) -> (&'a str, &'a str) {
        let op = self.steps.iter().find(|(step, _)| step == name);
        (name, op.map_or("", |(_, op)| op.as_str()))
    }

    /// Offers a completed item of `step` to the taps listening to it.
    pub fn offer(&self, step: &str, doc_id: &str, record: &ItemRecord) {
        self.taps.offer(step, doc_id, record);
    }

    /// Fills the summary of this run, as stored when it started, with the counters so far.
    fn overlay(&self, run: &mut Value) {
        if run["run_id"] != self.run_id.as_str() || run["status"] != "running" {
            return;
        }
        let seconds = self.started.elapsed().as_secs_f64();
        let observed = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
        let Observed { counters, ended } = &*observed;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let steps: serde_json::Map<String, Value> = self
            .steps
            .iter()
            .map(|(name, op)| {
                let step = counters.get(name).map_or_else(
                    || json!({ "op": op }),
                    |c| {
                        let mut step = json!({
                            "op": op, "in": load(&c.input), "out": load(&c.output),
                            "failed": load(&c.failed), "cached": load(&c.cached),
                            "bytes_in": load(&c.bytes_in), "bytes_out": load(&c.bytes_out),
                            "peak_rss_kib": load(&c.peak_rss_kib),
                            "done": ended.contains_key(name),
                            "finishing": c.finishing.load(Ordering::Acquire)
                                && !ended.contains_key(name),
                            "seconds": ended.get(name).copied().unwrap_or(seconds),
                        });
                        if let Some(chunks) = c.chunks_of(op) {
                            step["chunks"] = chunks.into();
                        }
                        if let Some(warned) = c.warned_of(op) {
                            step["warned"] = warned.into();
                        }
                        if let Some(busy) = c.busy_seconds_of(op) {
                            step["busy_seconds"] = busy.into();
                        }
                        step
                    },
                );
                (name.clone(), step)
            })
            .collect();
        run["steps"] = steps.into();
        run["seconds"] = seconds.into();
    }
}

/// A completed item as taps see it: step, document and record.
type Tapped = (String, String, ItemRecord);

/// One `tap` listener, of one step or (`None`) of all.
#[cfg_attr(not(unix), allow(dead_code))] // only the socket subscribes to taps
struct Subscriber {
    id: u64,
    step: Option<String>,
    sender: SyncSender<Tapped>,
    skipped: Arc<AtomicU64>,
}

/// The listeners of every step; offering to no listener costs one atomic load.
#[cfg_attr(not(unix), allow(dead_code))] // only the socket subscribes to taps
#[derive(Default)]
struct Taps {
    listening: AtomicUsize,
    next_id: AtomicU64,
    subscribers: Mutex<Vec<Subscriber>>,
}

impl Taps {
    fn offer(&self, step: &str, doc_id: &str, record: &ItemRecord) {
        if self.listening.load(Ordering::Relaxed) == 0 {
            return;
        }
        let subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let listens = |s: &&Subscriber| s.step.as_deref().is_none_or(|wanted| wanted == step);
        for subscriber in subscribers.iter().filter(listens) {
            // A slow listener never slows the run: what does not fit is skipped and counted.
            let tapped = (step.to_owned(), doc_id.to_owned(), record.clone());
            if subscriber.sender.try_send(tapped).is_err() {
                subscriber.skipped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    #[cfg_attr(not(unix), allow(dead_code))] // only the socket subscribes to taps
    fn subscribe(&self, step: Option<&str>) -> (u64, Receiver<Tapped>, Arc<AtomicU64>) {
        let (sender, receiver) = sync_channel(TAP_BUFFER);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let skipped = Arc::new(AtomicU64::new(0));
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.push(Subscriber {
            id,
            step: step.map(str::to_owned),
            sender,
            skipped: skipped.clone(),
        });
        self.listening.store(subscribers.len(), Ordering::Relaxed);
        (id, receiver, skipped)
    }

    #[cfg_attr(not(unix), allow(dead_code))] // only the socket subscribes to taps
    fn unsubscribe(&self, id: u64) {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|s| s.id != id);
        self.listening.store(subscribers.len(), Ordering::Relaxed);
    }
}

/// Why the run using a store gave no report.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// No run answers there (none runs, it is too old to answer, or the socket cannot be made).
    #[error("{0:#}")]
    NoAnswer(anyhow::Error),
    /// The run answered with an error (an unknown run id, step or document, …).
    #[error("{0:#}")]
    Refused(anyhow::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str) -> ItemRecord {
        ItemRecord {
            fingerprint: "f".into(),
            key: key.into(),
            cached: false,
            seconds: 0.5,
            bytes_in: 1,
            bytes_out: 2,
            error: None,
            warned: false,
        }
    }

    #[test]
    fn taps_hear_their_step_only_and_skip_what_does_not_fit() {
        let taps = Taps::default();
        taps.offer("chunk", "before.md", &record("0"));
        let (id, items, skipped) = taps.subscribe(Some("chunk"));
        let (all, every_step, _) = taps.subscribe(None);
        taps.offer("parse", "a.md", &record("1"));
        taps.offer("chunk", "a.md", &record("2"));
        let (step, doc, got) = items.try_recv().unwrap();
        assert_eq!(
            (step.as_str(), doc.as_str(), got.key.as_str()),
            ("chunk", "a.md", "2")
        );
        assert!(items.try_recv().is_err());
        let heard: Vec<String> = every_step.try_iter().map(|(step, _, _)| step).collect();
        assert_eq!(heard, ["parse", "chunk"]);
        taps.unsubscribe(all);
        for _ in 0..TAP_BUFFER + 3 {
            taps.offer("chunk", "b.md", &record("3"));
        }
        assert_eq!(skipped.load(Ordering::Relaxed), 3);
        taps.unsubscribe(id);
        assert_eq!(taps.listening.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_running_run_gets_live_counters_and_others_are_left_alone() {
        let live = LiveRun::new(
            "r1".into(),
            "p".into(),
            vec![
                ("docs".into(), "source.files".into()),
                ("parse".into(), "parse".into()),
                ("index".into(), "index.hybrid".into()),
            ],
        );
        let docs = Arc::new(StepCounters::default());
        docs.output.store(7, Ordering::Relaxed);
        docs.done.store(true, Ordering::Relaxed);
        let index = Arc::new(StepCounters::default());
        index.finishing.store(true, Ordering::Relaxed);
        live.observe(&[("docs".into(), docs), ("index".into(), index)]);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut running = json!({ "run_id": "r1", "status": "running", "steps": {} });
        live.overlay(&mut running);
        assert_eq!(running["steps"]["docs"]["out"], 7);
        assert_eq!(running["steps"]["docs"]["op"], "source.files");
        assert_eq!(running["steps"]["docs"]["done"], true);
        assert_eq!(running["steps"]["docs"]["finishing"], false);
        // A sink that has written everything and commits says so until it ends.
        assert_eq!(running["steps"]["index"]["finishing"], true);
        assert_eq!(running["steps"]["index"]["done"], false);
        // An ended step keeps the time it took; the run's time goes on.
        let step_seconds = running["steps"]["docs"]["seconds"].as_f64().unwrap();
        assert!(step_seconds < running["seconds"].as_f64().unwrap());
        assert_eq!(running["steps"]["parse"], json!({ "op": "parse" }));
        let mut finished = json!({ "run_id": "r0", "status": "ok", "steps": {} });
        live.overlay(&mut finished);
        assert_eq!(finished["steps"], json!({}));
    }

    #[test]
    fn requests_read_back_as_written() {
        let requests = [
            Request::Runs,
            Request::Inspect {
                run: "latest".into(),
                step: Some("chunk".into()),
                doc: None,
                only: Some(inspect::Only::Failed),
                pipeline: Some("kb".into()),
            },
            Request::Tap {
                step: Some("embed".into()),
                from_start: true,
                pipeline: Some("kb".into()),
            },
            Request::Tap {
                step: None,
                from_start: false,
                pipeline: None,
            },
        ];
        for request in requests {
            let line = serde_json::to_string(&request).unwrap();
            assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), request);
        }
    }
}
