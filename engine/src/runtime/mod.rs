//! The runtime: every step runs its own worker threads, joined by bounded channels.
//!
//! Memory is bounded by channel capacities and worker counts, not by the corpus. Fan-out sends
//! each consumer the same `Arc`; fan-in is several producers sharing one channel. End of stream is
//! the last sender of a channel going away. One item's error or panic becomes an error record and
//! the run goes on. Cancellation stops the sources; everything already emitted is finished,
//! but for work an operator stops on request ([`operators::stop`]), which is not recorded.

pub mod commit;
pub mod item;
pub mod panics;

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use serde::Serialize;

pub use item::Item;

pub use operators::model::FailedDocuments;

use crate::in_flight::Lease;
use crate::store::{ItemRecord, Key, hex};

/// An item on an edge with its content-derived key, stored size and place in the run's order.
#[derive(Debug, Clone)]
struct Envelope {
    key: Key,
    bytes: u64,
    item: Item,
    position: Position,
    /// The source's budget share of the document, while it is a document or a parsed one.
    lease: Option<Arc<Lease>>,
}

impl Envelope {
    /// The envelope of `item`, the output of the step that received `input`: it keeps the
    /// input's lease while it is still the document, read or parsed.
    fn after(input: &Envelope, key: Key, bytes: u64, item: Item) -> Envelope {
        let lease = match item {
            Item::Document(_) | Item::Parsed(_) => input.lease.clone(),
            Item::Chunks(_) | Item::Embedded(_) => None,
        };
        Envelope {
            key,
            bytes,
            item,
            position: input.position,
            lease,
        }
    }
}

/// Where an item belongs in the order of a run's outputs, whatever order the workers finished
/// in: the source step that emitted its document, the document's place among that source's
/// documents, and the step that handed the item on (which orders the items of one document
/// reaching a sink from several branches).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The node index of the source step.
    pub source: usize,
    /// The document's place in the source's order, from 0.
    pub document: u64,
    /// The node index of the step that emitted the item.
    pub from: usize,
}

/// What a step's checkpoint holds for one input.
#[derive(Debug, Clone)]
pub enum Checkpoint {
    /// The complete output; `None` when the input produced nothing.
    Output(Option<Item>),
    /// The failure the input ended in, one that recurs for the same input and settings
    /// ([`TransformOp::failure_is_final`]), with its message.
    Failed(String),
}

/// Where steps keep and find their outputs, and what they did to each document.
pub trait Checkpoints: Send + Sync {
    /// What is stored for `key` of the step `fingerprint`, with its stored size; `None` on a
    /// miss.
    fn get(&self, fingerprint: &str, key: &Key) -> Option<(Checkpoint, u64)>;
    /// Stores a complete output; returns its stored size (0 when not stored).
    fn put(&self, fingerprint: &str, key: &Key, output: Option<&Item>) -> u64;
    /// Stores a final failure's message, so that the next run records it again instead of
    /// doing the work again; returns its stored size (0 when not stored).
    fn put_failure(&self, fingerprint: &str, key: &Key, message: &str) -> u64;
    /// Records what `step` did to `doc_id`.
    fn record(&self, step: &str, doc_id: &str, record: ItemRecord);
}

/// The key of a step's output: its fingerprint applied to its input's key.
pub fn output_key(fingerprint: &str, input: &Key) -> Key {
    let mut hasher = blake3::Hasher::new();
    hasher.update(fingerprint.as_bytes());
    hasher.update(b"\0");
    hasher.update(input);
    *hasher.finalize().as_bytes()
}

/// Where the final failure of the input whose output goes under `output` is stored, given the
/// step's [`TransformOp::failure_variant`]: never where an output is.
fn failure_key(output: &Key, variant: &str) -> Key {
    output_key(&format!("failure\0{variant}"), output)
}

/// [`output_key`], then the item's `variant` ([`TransformOp::key_variant`]) applied to it.
fn varied_output_key(fingerprint: &str, input: &Key, variant: Option<&str>) -> Key {
    let key = output_key(fingerprint, input);
    match variant {
        Some(variant) => output_key(variant, &key),
        None => key,
    }
}

/// What a source hands the runtime.
#[derive(Debug)]
pub enum Emitted {
    /// An item.
    Item(Item),
    /// A document with its share of the source's budget ([`crate::in_flight`]), held until a
    /// step after its parse is done with it.
    Leased(Item, Arc<Lease>),
    /// An entry that could not be read; becomes an error record.
    Error {
        /// The entry's id.
        doc_id: String,
        /// What went wrong.
        message: String,
    },
    /// A folder whose entries could not be listed (`folder`: its path, as a doc_id would
    /// name it): every document below it failed, so none of them is taken as gone.
    FolderError {
        /// The folder's path below the source root.
        folder: String,
        /// What went wrong.
        message: String,
    },
    /// An entry that could not be read and whose document cannot be told (`doc_id` names the
    /// entry, a JSON line's `file:line`): it failed, and since it may have been any document,
    /// none is taken as gone in this run.
    Unplaced {
        /// The entry's name.
        doc_id: String,
        /// What went wrong.
        message: String,
    },
    /// An entry skipped on purpose; reported, not an error.
    Warning {
        /// The entry's id.
        doc_id: String,
        /// Why.
        message: String,
    },
}

/// A step without inputs.
pub trait SourceOp: Send {
    /// Emits every item; stops early when `emit` breaks (the run was cancelled).
    fn run(&mut self, emit: &mut dyn FnMut(Emitted) -> ControlFlow<()>) -> anyhow::Result<()>;
}

/// A step that turns one item into at most one item; called from several workers at once.
pub trait TransformOp: Send + Sync {
    /// Processes one item.
    fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>>;

    /// What sets `item`'s output apart beyond the step's fingerprint (`parse`: the version of
    /// the document's format), folded into its checkpoint key; `None` leaves the key as the
    /// fingerprint alone makes it.
    fn key_variant(&self, _item: &Item) -> Option<String> {
        None
    }

    /// Whether the step stores its final failures ([`TransformOp::failure_is_final`]): `Some`
    /// with what, beyond the output's key, decides whether an input fails (`parse`: its time
    /// budget, which the fingerprint leaves out since outputs do not depend on it), so that a
    /// failure is found again only where that is the same; `None` when it stores none.
    fn failure_variant(&self) -> Option<String> {
        None
    }

    /// Whether `error`, which [`TransformOp::apply`] returned, comes back whenever the same
    /// input meets the same settings (a damaged file, say, unlike a panic): such a failure is
    /// stored, apart from outputs, and later runs record it again without doing the work,
    /// unless they are told to retry failures ([`Options::retry_failed`]). Only asked of steps
    /// with a [`TransformOp::failure_variant`].
    fn failure_is_final(&self, _error: &anyhow::Error) -> bool {
        false
    }
}

/// A step that turns each item into at most one item, but works better on several at once
/// (e.g. an embedding model running one padded batch for many documents). The runtime hands it
/// the inputs that are waiting, up to [`BatchOp::budget`]; called from several workers at once.
pub trait BatchOp: Send + Sync {
    /// How much of the budget `item` takes (e.g. its number of texts); at least 1 is counted.
    fn weight(&self, item: &Item) -> usize;
    /// Workers stop gathering inputs once their weights reach this.
    fn budget(&self) -> usize;
    /// Processes several items: one result per item, in their order. A failure of one item
    /// must not fail the others.
    fn apply_batch(&self, items: &[&Item]) -> Vec<anyhow::Result<Option<Item>>>;
}

/// Largest bound of a step's input channel (`channel_capacity`): a bounded channel sets its
/// slots aside up front, so a huge bound would take memory for nothing.
pub const MAX_CHANNEL_CAPACITY: usize = 65_536;

/// Most slots the channels of one run set aside in all (about 100 bytes each): past it, every
/// step's bound is scaled down alike. 1,000 steps at the largest bound took 6 GB.
pub const MAX_CHANNEL_SLOTS: usize = 1 << 20;

/// The bounds of channels asked for `wanted` (each at least 1 and at most
/// [`MAX_CHANNEL_CAPACITY`]), scaled down alike when they add up to more than
/// [`MAX_CHANNEL_SLOTS`].
fn channel_bounds(wanted: &[usize]) -> Vec<usize> {
    let wanted: Vec<usize> = (wanted.iter())
        .map(|&bound| bound.clamp(1, MAX_CHANNEL_CAPACITY))
        .collect();
    let total: usize = wanted.iter().sum();
    if total <= MAX_CHANNEL_SLOTS {
        return wanted;
    }
    (wanted.iter())
        .map(|&bound| (bound * MAX_CHANNEL_SLOTS / total).max(1))
        .collect()
}

/// How long a batch worker waits for one more input before running what it has.
const BATCH_LINGER: Duration = Duration::from_millis(10);
/// The longest a batch worker spends gathering one batch.
const BATCH_GATHER_LIMIT: Duration = Duration::from_millis(250);

/// A step that consumes items.
pub trait SinkOp: Send {
    /// Takes one item.
    fn write(&mut self, item: &Item, position: Position) -> anyhow::Result<()>;
    /// Told, once every item is written and before [`SinkOp::finish`], which documents failed
    /// in the run (a whole source, a folder that could not be listed, single documents). A sink
    /// that mirrors its input (an index, a file of every item) keeps what it holds for them
    /// rather than dropping it as gone.
    fn documents_failed(&mut self, _failed: &FailedDocuments) {}
    /// Completes the output once every item is written (not called when cancelled), short of
    /// making it visible: that is what the returned [`Publish`] does, once every step of the
    /// run has finished.
    fn finish(self: Box<Self>) -> anyhow::Result<Publish>;
    /// [`SinkOp::finish`], with what the sink did as a whole for the step's report (an index:
    /// documents indexed and removed, whether its graph was rebuilt), when it tells.
    fn finish_reporting(self: Box<Self>) -> anyhow::Result<(Publish, Option<serde_json::Value>)> {
        Ok((self.finish()?, None))
    }
}

/// What makes a sink's completed output visible (moves a file into place, switches an index
/// generation in). The run does it when every step has finished, unless it was cancelled, so
/// the outputs of a run appear together, and not at all for a run that did not complete.
pub struct Publish {
    /// The renames that put the output in place, each `(prepared, live)`: written down before
    /// any is done, so that a run killed while its outputs go into place has the rest done by
    /// the next command (see [`crate::publishing`]).
    pub renames: Vec<(std::path::PathBuf, std::path::PathBuf)>,
    /// Does the renames, and what follows them (removing what no reader needs any more).
    pub act: Box<dyn FnOnce() -> anyhow::Result<()> + Send>,
}

impl Publish {
    /// Puts an output in place by `renames`, done by `act` with what follows them.
    pub fn new(
        renames: Vec<(std::path::PathBuf, std::path::PathBuf)>,
        act: impl FnOnce() -> anyhow::Result<()> + Send + 'static,
    ) -> Publish {
        Publish {
            renames,
            act: Box::new(act),
        }
    }

    /// Nothing to put in place.
    pub fn nothing() -> Publish {
        Publish::new(Vec::new(), || Ok(()))
    }
}

/// A step's operator, by role.
pub enum Operator {
    /// No input.
    Source(Box<dyn SourceOp>),
    /// One in, at most one out.
    Transform(Arc<dyn TransformOp>),
    /// One in, at most one out, several at a time.
    Batch(Arc<dyn BatchOp>),
    /// No output.
    Sink(Box<dyn SinkOp>),
}

/// One step to run.
pub struct Node {
    /// Step name.
    pub name: String,
    /// Operator name, for reports.
    pub op: String,
    /// Identifies the operator, its settings and everything upstream; checkpoints are kept under it.
    pub fingerprint: String,
    /// The operator.
    pub operator: Operator,
    /// Indexes of the nodes it reads.
    pub inputs: Vec<usize>,
    /// Worker threads (transforms only; others run one).
    pub parallelism: usize,
    /// Bound of its input channel.
    pub capacity: usize,
}

/// Whether operator `op` emits items that carry warnings (parsed documents): its steps count
/// the warned ones.
pub fn emits_warnings(op: &str) -> bool {
    let emits = crate::registry::lookup(op).and_then(|info| info.emits);
    matches!(emits, Some(crate::registry::ItemType::Parsed))
}

/// Live counters of one step.
#[derive(Debug, Default)]
pub struct StepCounters {
    /// Items received (sources: entries seen).
    pub input: AtomicU64,
    /// Items emitted or written.
    pub output: AtomicU64,
    /// Items that failed.
    pub failed: AtomicU64,
    /// Items whose work stopped on request (a cancelled run): neither done nor failed.
    pub stopped: AtomicU64,
    /// Items taken from checkpoints instead of computed.
    pub cached: AtomicU64,
    /// Failures taken from checkpoints instead of computed (counted in `failed` and `cached`
    /// too).
    pub remembered: AtomicU64,
    /// Stored size of the items received.
    pub bytes_in: AtomicU64,
    /// Stored size of the items emitted.
    pub bytes_out: AtomicU64,
    /// Chunks in the items emitted (chunk sets, embedded or not).
    pub chunks: AtomicU64,
    /// Items emitted with warnings (parsed documents), from checkpoints too.
    pub warned: AtomicU64,
    /// Microseconds spent on items (computing, or writing in a sink, and a sink's finish), over
    /// all workers; checkpoint hits cost none.
    pub busy_micros: AtomicU64,
    /// Highest resident memory of the process (KiB) seen while the step ran.
    pub peak_rss_kib: AtomicU64,
    /// Whether a sink has written every item and is finishing (an index committing).
    pub finishing: AtomicBool,
    /// What a sink did as a whole, as its finish told ([`SinkOp::finish_reporting`]).
    pub outcome: Mutex<Option<serde_json::Value>>,
    /// Whether every worker has finished.
    pub done: AtomicBool,
}

/// An item that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorRecord {
    /// The step.
    pub step: String,
    /// The document.
    pub doc_id: String,
    /// What went wrong, with its cause chain.
    pub message: String,
}

/// Final figures of one step.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Operator name.
    #[serde(skip)]
    pub op: String,
    /// Items in.
    #[serde(rename = "in")]
    pub input: u64,
    /// Items out.
    #[serde(rename = "out")]
    pub output: u64,
    /// Items failed.
    pub failed: u64,
    /// Items whose work stopped when the run was cancelled (redone by the next run); only
    /// when some did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<u64>,
    /// Items reused from checkpoints.
    pub cached: u64,
    /// Failures reused from checkpoints, counted in `failed` and `cached` too; only when some
    /// were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remembered: Option<u64>,
    /// Stored size of the items received.
    pub bytes_in: u64,
    /// Stored size of the items emitted.
    pub bytes_out: u64,
    /// Chunks in the items emitted, for steps that emit chunk sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<u64>,
    /// Items emitted with warnings (taken from checkpoints too), for steps that emit parsed
    /// documents; [`Execution::warned`] names a few.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warned: Option<u64>,
    /// Highest resident memory of the process (KiB) seen while the step ran.
    pub peak_rss_kib: u64,
    /// Wall-clock seconds from the step's start to its last worker's end.
    pub seconds: f64,
    /// Seconds items spent in the operator, summed over its workers (waiting for a model another
    /// worker holds included), and a sink's finish; checkpoint hits cost none. Not for sources,
    /// whose time is their lifetime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub busy_seconds: Option<f64>,
    /// What a sink did as a whole (an index: documents indexed, unchanged and removed, chunks,
    /// whether its graph was rebuilt or went on from a cancelled run's build), when it tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<serde_json::Value>,
}

impl StepCounters {
    /// Adds `seconds` of work on an item.
    fn add_busy(&self, seconds: f64) {
        let micros = (seconds.max(0.0) * 1e6) as u64;
        self.busy_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The chunks emitted so far, when the step's operator `op` emits chunk sets.
    pub fn chunks_of(&self, op: &str) -> Option<u64> {
        let emits = crate::registry::lookup(op).and_then(|info| info.emits);
        matches!(
            emits,
            Some(crate::registry::ItemType::Chunks | crate::registry::ItemType::Embedded)
        )
        .then(|| self.chunks.load(Ordering::Relaxed))
    }

    /// The items emitted with warnings so far, when the step's operator `op` emits items that
    /// carry warnings (parsed documents).
    pub fn warned_of(&self, op: &str) -> Option<u64> {
        emits_warnings(op).then(|| self.warned.load(Ordering::Relaxed))
    }

    /// The busy seconds so far, unless the step's operator `op` is a source.
    pub fn busy_seconds_of(&self, op: &str) -> Option<f64> {
        crate::registry::lookup(op)
            .is_some_and(|info| !info.is_source())
            .then(|| self.busy_micros.load(Ordering::Relaxed) as f64 / 1e6)
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Per step, in node order.
    pub steps: Vec<(String, StepReport)>,
    /// Failed items (at most [`MAX_ERROR_RECORDS`] kept; `errors_total` counts all).
    pub errors: Vec<ErrorRecord>,
    /// How many items failed in all.
    pub errors_total: u64,
    /// Entries skipped on purpose.
    pub warnings: Vec<ErrorRecord>,
    /// A few documents emitted with warnings, per step (at most [`MAX_WARNED_SHOWN`] each;
    /// [`StepReport::warned`] counts all).
    pub warned: Vec<WarnedRecord>,
    /// Whether the run was cancelled.
    pub cancelled: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Error records kept in memory; beyond this they are only counted.
pub const MAX_ERROR_RECORDS: usize = 10_000;

/// Documents with warnings named per step; beyond this they are only counted.
pub const MAX_WARNED_SHOWN: u64 = 3;

/// A document a step emitted with warnings: its first warning, and how many it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarnedRecord {
    /// The step.
    pub step: String,
    /// The document.
    pub doc_id: String,
    /// Its first warning.
    pub message: String,
    /// How many warnings it has.
    pub warnings: usize,
}

#[derive(Default)]
struct Records {
    errors: Vec<ErrorRecord>,
    total: u64,
    warnings: Vec<ErrorRecord>,
    warned: Vec<WarnedRecord>,
    /// Every document that failed, even beyond [`MAX_ERROR_RECORDS`].
    failed_documents: FailedDocuments,
}

impl Records {
    fn error(&mut self, step: &str, doc_id: &str, message: String) {
        self.total += 1;
        if !self.failed_documents.ids.contains(doc_id) {
            self.failed_documents.ids.insert(doc_id.to_owned());
        }
        if self.errors.len() < MAX_ERROR_RECORDS {
            self.errors.push(ErrorRecord {
                step: step.to_owned(),
                doc_id: doc_id.to_owned(),
                message,
            });
        }
    }
}

/// A callback that sees the live counters of every step.
pub type Observer = Arc<dyn Fn(&[(String, Arc<StepCounters>)]) + Send + Sync>;

/// How a run is observed and stopped.
#[derive(Clone, Default)]
pub struct Options {
    /// Set to stop the sources; what is in flight is finished.
    pub cancel: Arc<AtomicBool>,
    /// Called every 100 ms with the live counters (for progress bars).
    pub observer: Option<Observer>,
    /// Where outputs are checkpointed; without it every item is computed.
    pub checkpoints: Option<Arc<dyn Checkpoints>>,
    /// Decides between the run's commit and a cancel (a Ctrl-C) that comes at its end.
    pub gate: Arc<commit::CommitGate>,
    /// What each source (by step name) read in the pipeline's last completed run: a source
    /// that now reads no document where that run read some fails as a whole, so that nothing
    /// is taken as gone. Sources left out may read none.
    pub last_read: std::collections::HashMap<String, LastRead>,
    /// Does again the work of inputs whose final failure is stored, instead of recording
    /// that failure again.
    pub retry_failed: bool,
    /// The store folder and run id under which the renames that put the outputs in place are
    /// written down first (see [`crate::publishing`]); without it they are not.
    pub journal: Option<(std::path::PathBuf, String)>,
}

/// The documents a source read in an earlier run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRead {
    /// That run.
    pub run_id: String,
    /// How many documents the source emitted in it.
    pub documents: u64,
}

/// Runs the nodes to completion. Nodes must be in topological order.
pub fn execute(nodes: Vec<Node>, options: Options) -> Execution {
    panics::install_hook();
    let started = Instant::now();
    let records = Arc::new(Mutex::new(Records::default()));
    let counters: Vec<(String, Arc<StepCounters>)> = nodes
        .iter()
        .map(|node| (node.name.clone(), Arc::new(StepCounters::default())))
        .collect();
    // One bounded channel per consuming node; producers hold clones of their consumers' senders.
    let mut senders: Vec<Option<Sender<Envelope>>> = Vec::with_capacity(nodes.len());
    let mut receivers: Vec<Option<Receiver<Envelope>>> = Vec::with_capacity(nodes.len());
    let consumers = nodes.iter().filter(|node| !node.inputs.is_empty());
    let wanted: Vec<usize> = consumers.map(|node| node.capacity).collect();
    let mut bounds = channel_bounds(&wanted).into_iter();
    for node in &nodes {
        if node.inputs.is_empty() {
            senders.push(None);
            receivers.push(None);
        } else {
            let (tx, rx) = bounded(bounds.next().unwrap_or(1));
            senders.push(Some(tx));
            receivers.push(Some(rx));
        }
    }
    let mut outputs: Vec<Vec<Sender<Envelope>>> = vec![Vec::new(); nodes.len()];
    for (consumer, node) in nodes.iter().enumerate() {
        for &producer in &node.inputs {
            if let Some(tx) = &senders[consumer] {
                outputs[producer].push(tx.clone());
            }
        }
    }
    drop(senders);

    let publishes: Arc<Mutex<Vec<(String, Publish)>>> = Arc::default();
    let mut step_threads = Vec::new();
    for (index, node) in nodes.into_iter().enumerate() {
        let context = StepContext {
            index,
            name: node.name.clone(),
            fingerprint: node.fingerprint.clone(),
            counters: counters[index].1.clone(),
            records: records.clone(),
            outputs: std::mem::take(&mut outputs[index]),
            publishes: publishes.clone(),
            cancel: options.cancel.clone(),
            checkpoints: options.checkpoints.clone(),
            retry_failed: options.retry_failed,
            last_read: options.last_read.get(&node.name).cloned(),
        };
        let receiver = receivers[index].take();
        let op = node.op.clone();
        let handle = thread::Builder::new()
            .name(format!("step-{}", node.name))
            .spawn(move || {
                let started = Instant::now();
                // Sampled at its start and end too: a step shorter than the monitor's
                // interval has a peak all the same.
                let sample =
                    || (context.counters.peak_rss_kib).fetch_max(resident_kib(), Ordering::Relaxed);
                sample();
                run_step(node.operator, node.parallelism, receiver, &context);
                sample();
                context.counters.done.store(true, Ordering::Release);
                started.elapsed().as_secs_f64()
            })
            .expect("spawning a step thread");
        step_threads.push((counters[index].0.clone(), op, handle));
    }

    let monitor_stop = Arc::new(AtomicBool::new(false));
    let monitor = {
        let counters = counters.clone();
        let stop = monitor_stop.clone();
        let observe = options.observer.clone();
        thread::spawn(move || {
            loop {
                let stopping = stop.load(Ordering::Acquire);
                let rss = resident_kib();
                for (_, live) in &counters {
                    if !live.done.load(Ordering::Acquire) {
                        live.peak_rss_kib.fetch_max(rss, Ordering::Relaxed);
                    }
                }
                if let Some(observe) = &observe {
                    observe(&counters);
                }
                if stopping {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
        })
    };

    let mut steps = Vec::new();
    for ((name, op, handle), (_, live)) in step_threads.into_iter().zip(&counters) {
        let seconds = handle.join().unwrap_or(0.0);
        let (chunks, busy_seconds) = (live.chunks_of(&op), live.busy_seconds_of(&op));
        let warned = live.warned_of(&op);
        steps.push((
            name,
            StepReport {
                op,
                input: live.input.load(Ordering::Relaxed),
                output: live.output.load(Ordering::Relaxed),
                failed: live.failed.load(Ordering::Relaxed),
                stopped: Some(live.stopped.load(Ordering::Relaxed)).filter(|&n| n > 0),
                cached: live.cached.load(Ordering::Relaxed),
                remembered: Some(live.remembered.load(Ordering::Relaxed)).filter(|&n| n > 0),
                bytes_in: live.bytes_in.load(Ordering::Relaxed),
                bytes_out: live.bytes_out.load(Ordering::Relaxed),
                chunks,
                warned,
                peak_rss_kib: live.peak_rss_kib.load(Ordering::Relaxed),
                busy_seconds,
                seconds,
                outcome: live
                    .outcome
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take(),
            },
        ));
    }
    monitor_stop.store(true, Ordering::Release);
    let _ = monitor.join();
    let publishes = std::mem::take(&mut *publishes.lock().unwrap_or_else(|p| p.into_inner()));
    // Decided once: a cancel that comes while the outputs go into place does not undo them.
    let cancelled = !options.gate.commit(&options.cancel);
    if cancelled {
        // Nothing of a cancelled run is published: what a sink's finish did never went live.
        for (_, report) in &mut steps {
            report.outcome = None;
        }
    } else {
        // Written down before the first rename: a process killed among them leaves what the
        // next command completes. Without it, nothing goes into place.
        let journal = (options.journal.as_ref()).map(|(store_dir, run_id)| {
            let renames = (publishes.iter())
                .flat_map(|(_, publish)| publish.renames.iter().cloned())
                .collect();
            let outcomes = (steps.iter())
                .filter_map(|(name, report)| Some((name.clone(), report.outcome.clone()?)))
                .collect();
            let journal = crate::publishing::Journal {
                run_id: run_id.clone(),
                renames,
                seconds: Some(started.elapsed().as_secs_f64()),
                outcomes,
            };
            journal.write(store_dir)
        });
        let publishes = match journal {
            Some(Err(error)) => (publishes.into_iter())
                .map(|(step, _)| {
                    let message = format!("{error:#}");
                    let act = move || {
                        Err(anyhow::anyhow!(
                            "{message}: its output was not put in place"
                        ))
                    };
                    (step, Publish::new(Vec::new(), act))
                })
                .collect(),
            _ => publishes,
        };
        for (step, publish) in publishes {
            if let Err(error) = panics::catch(publish.act) {
                if let Some((_, live)) = counters.iter().find(|(name, _)| *name == step) {
                    live.failed.fetch_add(1, Ordering::Relaxed);
                }
                if let Some((_, report)) = steps.iter_mut().find(|(name, _)| *name == step) {
                    report.failed += 1;
                    // What it did did not go live.
                    report.outcome = None;
                }
                records.lock().unwrap_or_else(|p| p.into_inner()).error(
                    &step,
                    "",
                    format!("{error:#}"),
                );
            }
        }
    }
    let mut records = std::mem::take(&mut *records.lock().unwrap_or_else(|p| p.into_inner()));
    // In the steps' order, then by document id (numbers in it as numbers: `docs.jsonl:4`
    // before `docs.jsonl:12`), not in the order workers finished in: identical runs list
    // their failures alike.
    let place = |step: &str| steps.iter().position(|(name, _)| name == step);
    records.errors.sort_by(|a, b| {
        (place(&a.step).cmp(&place(&b.step)))
            .then_with(|| crate::natural_order::natural_cmp(&a.doc_id, &b.doc_id))
    });
    Execution {
        steps,
        errors: records.errors,
        errors_total: records.total,
        warnings: records.warnings,
        warned: records.warned,
        cancelled,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Resident memory of this process in KiB (0 where /proc is not available).
pub fn resident_kib() -> u64 {
    proc_status_kib("VmRSS:")
}

/// Peak resident memory of this process in KiB (0 where /proc is not available).
pub fn peak_resident_kib() -> u64 {
    proc_status_kib("VmHWM:")
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// What every worker of a step shares.
struct StepContext {
    /// The step's node index.
    index: usize,
    name: String,
    fingerprint: String,
    counters: Arc<StepCounters>,
    records: Arc<Mutex<Records>>,
    outputs: Vec<Sender<Envelope>>,
    /// Where sinks leave what makes their outputs visible, for the end of the run.
    publishes: Arc<Mutex<Vec<(String, Publish)>>>,
    cancel: Arc<AtomicBool>,
    checkpoints: Option<Arc<dyn Checkpoints>>,
    /// Stored failures are misses ([`Options::retry_failed`]).
    retry_failed: bool,
    /// What this step read in the last completed run, when it is a source that must not
    /// read nothing.
    last_read: Option<LastRead>,
}

impl StepContext {
    fn fail(&self, doc_id: &str, error: &anyhow::Error) -> String {
        let message = format!("{error:#}");
        self.fail_with(doc_id, message.clone());
        message
    }

    fn fail_with(&self, doc_id: &str, message: String) {
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .error(&self.name, doc_id, message);
    }

    /// Records a folder that could not be listed: an error record for `folder/`, and every
    /// document below it (or the entry itself, should it be a file) failed.
    fn fail_folder(&self, folder: &str, error: &anyhow::Error) {
        let prefix = format!("{}/", folder.trim_end_matches('/'));
        self.fail(&prefix, error);
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let failed = &mut records.failed_documents;
        failed.ids.insert(prefix.trim_end_matches('/').to_owned());
        if !failed.folders.contains(&prefix) {
            failed.folders.push(prefix);
        }
    }

    /// Fails an entry whose document cannot be told: no document is taken as gone.
    fn fail_unplaced(&self, doc_id: &str, error: &anyhow::Error) {
        self.fail(doc_id, error);
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.failed_documents.ids.insert(String::new());
    }

    /// Fails the source as a whole when it read no document, failed none and was not
    /// cancelled, where the last completed run read some: a folder not mounted or a file
    /// emptied by mistake would otherwise empty the index and sinks.
    fn refuse_emptying(&self, emitted_documents: u64) {
        let Some(last) = &self.last_read else {
            return;
        };
        if emitted_documents > 0
            || self.counters.failed.load(Ordering::Relaxed) > 0
            || self.cancel.load(Ordering::Relaxed)
        {
            return;
        }
        let documents = match last.documents {
            1 => "1 document".to_owned(),
            many => format!("{many} documents"),
        };
        self.fail_source(&anyhow::anyhow!(
            "read no documents, where run {} read {documents}, so nothing is taken as gone: the index and sinks keep what they hold. If the documents were removed on purpose, `engine run --allow-empty` empties them",
            last.run_id
        ));
    }

    /// Fails a source as a whole: one entry in, failed, so that its counters add up as for
    /// any entry it reads (`in` = `out` + `failed`).
    fn fail_source(&self, error: &anyhow::Error) {
        self.counters.input.fetch_add(1, Ordering::Relaxed);
        self.fail("", error);
    }

    fn warn(&self, doc_id: String, message: String) {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .warnings
            .push(ErrorRecord {
                step: self.name.clone(),
                doc_id,
                message,
            });
    }

    /// Counts an item emitted with warnings, and names the first few of the step.
    fn note_warnings(&self, item: &Item) {
        let warnings = item.warnings();
        let Some(first) = warnings.first() else {
            return;
        };
        if self.counters.warned.fetch_add(1, Ordering::Relaxed) < MAX_WARNED_SHOWN {
            self.records
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .warned
                .push(WarnedRecord {
                    step: self.name.clone(),
                    doc_id: item.doc_id().to_owned(),
                    message: first.clone(),
                    warnings: warnings.len(),
                });
        }
    }

    /// Hands an item to every consumer; blocks while a consumer's channel is full.
    fn emit(&self, mut envelope: Envelope) {
        envelope.position.from = self.index;
        self.counters.output.fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes_out
            .fetch_add(envelope.bytes, Ordering::Relaxed);
        if let Some(chunks) = envelope.item.chunks() {
            self.counters
                .chunks
                .fetch_add(chunks as u64, Ordering::Relaxed);
        }
        self.note_warnings(&envelope.item);
        if let Some((last, rest)) = self.outputs.split_last() {
            for tx in rest {
                let _ = tx.send(envelope.clone());
            }
            let _ = last.send(envelope);
        }
    }

    fn record(&self, doc_id: &str, record: impl FnOnce(&str) -> ItemRecord) {
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.record(&self.name, doc_id, record(&self.fingerprint));
        }
    }

    /// Records and emits an item a source read, the `read`th of its documents (counted on).
    fn hand_on(&self, item: Item, lease: Option<Arc<Lease>>, read: &mut u64) {
        self.counters.input.fetch_add(1, Ordering::Relaxed);
        // A document's key is what it is, not the settings that found it: a new glob that
        // finds the same files recomputes nothing.
        let key = item.identity();
        let bytes = item.size_hint();
        self.record(item.doc_id(), |fingerprint| {
            item_record(fingerprint, &key, false, 0.0, 0, bytes, None)
        });
        let position = Position {
            source: self.index,
            document: *read,
            from: self.index,
        };
        *read += 1;
        self.emit(Envelope {
            key,
            bytes,
            item,
            position,
            lease,
        });
    }

    /// Counts an input of a transform and looks up its checkpoint (under the key its
    /// `variant` sets apart, if any), then, for a step that stores failures (`failures`, its
    /// [`TransformOp::failure_variant`]), its stored failure: a hit is emitted, or the failure
    /// recorded again, and gives `None`; a miss gives the key its output must be stored under.
    fn receive(
        &self,
        input: &Envelope,
        variant: Option<&str>,
        failures: Option<&str>,
    ) -> Option<Key> {
        if self.cancel.load(Ordering::Relaxed) {
            // Cancelled: what waits in the channel is dropped; only items already inside an
            // operator are finished.
            return None;
        }
        self.counters.input.fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes_in
            .fetch_add(input.bytes, Ordering::Relaxed);
        let key = varied_output_key(&self.fingerprint, &input.key, variant);
        let Some(checkpoints) = self.checkpoints.as_ref() else {
            return Some(key);
        };
        let (output, bytes) = match checkpoints.get(&self.fingerprint, &key) {
            Some((Checkpoint::Output(output), bytes)) => (output, bytes),
            // Failures are stored under failure keys ([`failure_key`]) only.
            Some((Checkpoint::Failed(_), _)) | None => {
                if let Some(failures) = failures.filter(|_| !self.retry_failed)
                    && self.remembered_failure(checkpoints, input, failure_key(&key, failures))
                {
                    return None;
                }
                return Some(key);
            }
        };
        self.counters.cached.fetch_add(1, Ordering::Relaxed);
        let warned = output
            .as_ref()
            .is_some_and(|item| !item.warnings().is_empty());
        self.record(input.item.doc_id(), |fingerprint| ItemRecord {
            warned,
            ..item_record(fingerprint, &key, true, 0.0, input.bytes, bytes, None)
        });
        if let Some(item) = output {
            self.emit(Envelope::after(input, key, bytes, item));
        }
        None
    }

    /// Records again the failure `checkpoints` hold under `failure_key` for `input`; whether
    /// there was one.
    fn remembered_failure(
        &self,
        checkpoints: &Arc<dyn Checkpoints>,
        input: &Envelope,
        failure_key: Key,
    ) -> bool {
        let Some((Checkpoint::Failed(message), bytes)) =
            checkpoints.get(&self.fingerprint, &failure_key)
        else {
            return false;
        };
        self.counters.cached.fetch_add(1, Ordering::Relaxed);
        self.counters.remembered.fetch_add(1, Ordering::Relaxed);
        self.fail_with(input.item.doc_id(), message.clone());
        self.record(input.item.doc_id(), |fingerprint| ItemRecord {
            error: Some(message),
            ..item_record(
                fingerprint,
                &failure_key,
                true,
                0.0,
                input.bytes,
                bytes,
                None,
            )
        });
        true
    }

    /// Completes a computed input: checkpoints and emits its output, or records its failure,
    /// storing it (under its [`failure_key`]) only when it is final: `failures` is the step's
    /// [`TransformOp::failure_variant`] and `final_failure` says the failure recurs. An
    /// input whose work stopped on request (a cancelled run, [`operators::stop::Stopped`]) is
    /// neither: nothing is stored or recorded for it, so the next run does it again.
    fn complete(
        &self,
        input: &Envelope,
        key: Key,
        result: anyhow::Result<Option<Item>>,
        (failures, final_failure): (Option<&str>, bool),
        seconds: f64,
    ) {
        let doc_id = input.item.doc_id();
        self.counters.add_busy(seconds);
        match result {
            Err(error) if error.is::<operators::stop::Stopped>() => {
                self.counters.stopped.fetch_add(1, Ordering::Relaxed);
            }
            Ok(output) => {
                let bytes = self
                    .checkpoints
                    .as_ref()
                    .map_or(0, |c| c.put(&self.fingerprint, &key, output.as_ref()));
                let warned = output
                    .as_ref()
                    .is_some_and(|item| !item.warnings().is_empty());
                self.record(doc_id, |fingerprint| ItemRecord {
                    warned,
                    ..item_record(fingerprint, &key, false, seconds, input.bytes, bytes, None)
                });
                if let Some(item) = output {
                    self.emit(Envelope::after(input, key, bytes, item));
                }
            }
            Err(error) => {
                let message = self.fail(doc_id, &error);
                let (key, stored) = match (&self.checkpoints, failures) {
                    (Some(checkpoints), Some(failures)) if final_failure => {
                        let key = failure_key(&key, failures);
                        (
                            key,
                            checkpoints.put_failure(&self.fingerprint, &key, &message),
                        )
                    }
                    _ => (key, 0),
                };
                self.record(doc_id, |fingerprint| {
                    item_record(
                        fingerprint,
                        &key,
                        false,
                        seconds,
                        input.bytes,
                        stored,
                        Some(message),
                    )
                });
            }
        }
    }

    /// Processes one input of a transform: from its checkpoint when there is one, else by
    /// running the operator and checkpointing the complete output. `failures` is the
    /// transform's [`TransformOp::failure_variant`].
    fn transform(&self, transform: &dyn TransformOp, failures: Option<&str>, input: &Envelope) {
        // A variant that panics leaves the key unvaried. `parse`'s detects the format, as its
        // `apply` does next: that fails too, and the failure is recorded.
        let variant = panics::catch(|| Ok(transform.key_variant(&input.item))).unwrap_or(None);
        let Some(key) = self.receive(input, variant.as_deref(), failures) else {
            return;
        };
        let started = Instant::now();
        let result = panics::catch(|| transform.apply(&input.item));
        let final_failure = (result.as_ref().err()).is_some_and(|error| {
            panics::catch(|| Ok(transform.failure_is_final(error))).unwrap_or(false)
        });
        let seconds = started.elapsed().as_secs_f64();
        let failing = (failures, final_failure);
        self.complete(input, key, result, failing, seconds);
    }

    /// One worker of a batch step: gathers the inputs that are waiting (checkpoint hits go
    /// straight through) until their weights reach the budget or none arrives for a moment,
    /// then runs them as one batch.
    fn gather_batches(&self, op: &dyn BatchOp, receiver: &Receiver<Envelope>) {
        let budget = op.budget().max(1);
        while let Ok(first) = receiver.recv() {
            let deadline = Instant::now() + BATCH_GATHER_LIMIT;
            let mut pending: Vec<(Envelope, Key)> = Vec::new();
            let mut weight = 0;
            let mut next = Some(first);
            while let Some(input) = next.take() {
                if let Some(key) = self.receive(&input, None, None) {
                    weight += op.weight(&input.item).max(1);
                    pending.push((input, key));
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if weight >= budget || left.is_zero() {
                    break;
                }
                next = receiver.recv_timeout(left.min(BATCH_LINGER)).ok();
            }
            if !pending.is_empty() {
                self.run_batch(op, pending);
            }
        }
    }

    /// Runs gathered inputs as one batch. When the batch as a whole fails (a panic, or a wrong
    /// number of results), each input runs alone so the failure lands on the item that caused it.
    fn run_batch(&self, op: &dyn BatchOp, pending: Vec<(Envelope, Key)>) {
        let started = Instant::now();
        let items: Vec<&Item> = pending.iter().map(|(input, _)| &input.item).collect();
        let results = match panics::catch(|| batch_results(op, &items)) {
            Ok(results) => results,
            Err(error) if items.len() == 1 => vec![Err(error)],
            Err(_) => items
                .iter()
                .map(|&item| {
                    panics::catch(|| batch_results(op, &[item]))
                        .and_then(|mut one| one.pop().expect("one result per item"))
                })
                .collect(),
        };
        // Each item is charged its share of the batch's time, by weight.
        let seconds = started.elapsed().as_secs_f64();
        let weights: Vec<usize> = items.iter().map(|item| op.weight(item).max(1)).collect();
        let total: usize = weights.iter().sum();
        for (((input, key), result), weight) in pending.into_iter().zip(results).zip(weights) {
            let share = seconds * weight as f64 / total as f64;
            self.complete(&input, key, result, (None, false), share);
        }
    }
}

/// A batch operator's results, checked to be one per item.
fn batch_results(
    op: &dyn BatchOp,
    items: &[&Item],
) -> anyhow::Result<Vec<anyhow::Result<Option<Item>>>> {
    let results = op.apply_batch(items);
    anyhow::ensure!(
        results.len() == items.len(),
        "the operator returned {} results for {} items (this is a bug in the operator)",
        results.len(),
        items.len()
    );
    Ok(results)
}

/// What a transform did to one input.
fn item_record(
    fingerprint: &str,
    key: &Key,
    cached: bool,
    seconds: f64,
    bytes_in: u64,
    bytes_out: u64,
    error: Option<String>,
) -> ItemRecord {
    ItemRecord {
        fingerprint: fingerprint.to_owned(),
        key: hex(key),
        cached,
        seconds,
        bytes_in,
        bytes_out,
        error,
        warned: false,
    }
}

/// Runs `work` on `parallelism` threads, each with its own handle on the step's input, and
/// waits for all of them.
fn workers(
    parallelism: usize,
    receiver: &Receiver<Envelope>,
    work: impl Fn(&Receiver<Envelope>) + Sync,
) {
    thread::scope(|scope| {
        for _ in 0..parallelism.max(1) {
            let receiver = receiver.clone();
            let work = &work;
            scope.spawn(move || work(&receiver));
        }
    });
}

fn run_step(
    operator: Operator,
    parallelism: usize,
    receiver: Option<Receiver<Envelope>>,
    ctx: &StepContext,
) {
    match operator {
        Operator::Source(mut source) => {
            let mut emitted_documents = 0;
            let result = panics::catch(|| {
                source.run(&mut |emitted| {
                    if ctx.cancel.load(Ordering::Relaxed) {
                        return ControlFlow::Break(());
                    }
                    match emitted {
                        Emitted::Item(item) => ctx.hand_on(item, None, &mut emitted_documents),
                        Emitted::Leased(item, lease) => {
                            ctx.hand_on(item, Some(lease), &mut emitted_documents)
                        }
                        Emitted::Error { doc_id, message } => {
                            ctx.counters.input.fetch_add(1, Ordering::Relaxed);
                            ctx.fail(&doc_id, &anyhow::anyhow!(message));
                        }
                        Emitted::FolderError { folder, message } => {
                            ctx.counters.input.fetch_add(1, Ordering::Relaxed);
                            ctx.fail_folder(&folder, &anyhow::anyhow!(message));
                        }
                        Emitted::Unplaced { doc_id, message } => {
                            ctx.counters.input.fetch_add(1, Ordering::Relaxed);
                            ctx.fail_unplaced(&doc_id, &anyhow::anyhow!(message));
                        }
                        Emitted::Warning { doc_id, message } => ctx.warn(doc_id, message),
                    }
                    ControlFlow::Continue(())
                })
            });
            match result {
                Err(error) => ctx.fail_source(&error),
                Ok(()) => ctx.refuse_emptying(emitted_documents),
            }
        }
        Operator::Transform(transform) => {
            let Some(receiver) = receiver else { return };
            // The step's, not the item's: asked once.
            let failures = panics::catch(|| Ok(transform.failure_variant())).unwrap_or(None);
            workers(parallelism, &receiver, |receiver| {
                for envelope in receiver.iter() {
                    ctx.transform(transform.as_ref(), failures.as_deref(), &envelope);
                }
            });
        }
        Operator::Batch(op) => {
            let Some(receiver) = receiver else { return };
            workers(parallelism, &receiver, |receiver| {
                ctx.gather_batches(op.as_ref(), receiver);
            });
        }
        Operator::Sink(mut sink) => {
            let Some(receiver) = receiver else { return };
            for envelope in receiver.iter() {
                if ctx.cancel.load(Ordering::Relaxed) {
                    continue;
                }
                ctx.counters.input.fetch_add(1, Ordering::Relaxed);
                ctx.counters
                    .bytes_in
                    .fetch_add(envelope.bytes, Ordering::Relaxed);
                let started = Instant::now();
                let result = panics::catch(|| sink.write(&envelope.item, envelope.position));
                ctx.counters.add_busy(started.elapsed().as_secs_f64());
                let error = match result {
                    Ok(()) => {
                        ctx.counters.output.fetch_add(1, Ordering::Relaxed);
                        None
                    }
                    Err(error) => Some(ctx.fail(envelope.item.doc_id(), &error)),
                };
                ctx.record(envelope.item.doc_id(), |fingerprint| ItemRecord {
                    fingerprint: fingerprint.to_owned(),
                    key: String::new(),
                    cached: false,
                    seconds: started.elapsed().as_secs_f64(),
                    bytes_in: envelope.bytes,
                    bytes_out: 0,
                    error,
                    warned: false,
                });
            }
            if ctx.cancel.load(Ordering::Relaxed) {
                return;
            }
            let failed = ctx
                .records
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .failed_documents
                .clone();
            sink.documents_failed(&failed);
            ctx.counters.finishing.store(true, Ordering::Release);
            let started = Instant::now();
            match panics::catch(|| sink.finish_reporting()) {
                Ok((publish, outcome)) => {
                    *ctx.counters
                        .outcome
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = outcome;
                    ctx.publishes
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((ctx.name.clone(), publish));
                }
                // A finish the run's cancel stopped (an index build) is no failure: the run
                // is cancelled, and nothing of it is published.
                Err(_) if ctx.cancel.load(Ordering::Relaxed) => {}
                Err(error) => {
                    ctx.fail("", &error);
                }
            }
            ctx.counters.add_busy(started.elapsed().as_secs_f64());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use operators::model::Document;
    use std::collections::HashMap;

    /// 1,000 steps at the largest bound set 65 million slots aside, 6 GB up front: the bounds
    /// of a run add up to at most `MAX_CHANNEL_SLOTS`, scaled down alike, each at least 1.
    #[test]
    fn the_channels_of_a_run_set_a_bounded_number_of_slots_aside() {
        let bounds = channel_bounds(&[MAX_CHANNEL_CAPACITY; 1000]);
        assert_eq!(bounds.len(), 1000);
        assert!(
            bounds.iter().sum::<usize>() <= MAX_CHANNEL_SLOTS,
            "{bounds:?}"
        );
        assert!(
            bounds.iter().all(|&b| b == bounds[0] && b > 1000),
            "{bounds:?}"
        );
        assert_eq!(
            channel_bounds(&[64, 0, 1 << 40]),
            [64, 1, MAX_CHANNEL_CAPACITY]
        );
        let many = channel_bounds(&[1; 2_000_000]);
        assert!(many.iter().all(|&b| b == 1));
        let mixed = channel_bounds(&[MAX_CHANNEL_CAPACITY * 8, 64, 5000]);
        assert_eq!(mixed, [MAX_CHANNEL_CAPACITY, 64, 5000]);
        let scaled = channel_bounds(&[MAX_CHANNEL_CAPACITY; 17]);
        assert!(scaled.iter().sum::<usize>() <= MAX_CHANNEL_SLOTS);
    }

    struct Numbers(usize);

    impl SourceOp for Numbers {
        fn run(&mut self, emit: &mut dyn FnMut(Emitted) -> ControlFlow<()>) -> anyhow::Result<()> {
            for i in 0..self.0 {
                let doc = Document::new(format!("{i}"), String::new(), Vec::new());
                if emit(Emitted::Item(Item::Document(Arc::new(doc)))).is_break() {
                    break;
                }
            }
            Ok(())
        }
    }

    struct FailOn(&'static str, bool);

    impl TransformOp for FailOn {
        fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
            if item.doc_id() == self.0 {
                if self.1 {
                    panic!("exploded on {}", self.0);
                }
                anyhow::bail!("bad item");
            }
            Ok(Some(item.clone()))
        }
    }

    /// A sink that counts the items written to it.
    pub(crate) struct Count(pub(crate) Arc<AtomicU64>);

    impl SinkOp for Count {
        fn write(&mut self, _item: &Item, _position: Position) -> anyhow::Result<()> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        fn finish(self: Box<Self>) -> anyhow::Result<Publish> {
            Ok(Publish::nothing())
        }
    }

    /// A sink whose finish is stopped by a cancel coming while it works, as an index build is.
    struct StoppedInFinish(Arc<AtomicBool>);

    impl SinkOp for StoppedInFinish {
        fn write(&mut self, _item: &Item, _position: Position) -> anyhow::Result<()> {
            Ok(())
        }
        fn finish(self: Box<Self>) -> anyhow::Result<Publish> {
            self.0.store(true, Ordering::SeqCst);
            anyhow::bail!("stopped: the run was cancelled while its index was being built")
        }
    }

    /// A cancel that stops a sink's finish makes a cancelled run, not a failed item.
    #[test]
    fn a_finish_stopped_by_a_cancel_is_no_failure() {
        let cancel = Arc::new(AtomicBool::new(false));
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(5))), vec![]),
            node(
                "index",
                Operator::Sink(Box::new(StoppedInFinish(cancel.clone()))),
                vec![0],
            ),
        ];
        let run = execute(
            nodes,
            Options {
                cancel,
                ..Options::default()
            },
        );
        assert!(run.cancelled);
        assert!(run.errors.is_empty(), "{:?}", run.errors);
    }

    /// A step over before the monitor's first sample (every 100 ms) has a peak all the same:
    /// a source of one item reported 0 KiB, which no process runs in.
    #[test]
    fn a_step_shorter_than_the_monitors_interval_has_a_peak() {
        let written = Arc::new(AtomicU64::new(0));
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(1))), vec![]),
            node("out", Operator::Sink(Box::new(Count(written))), vec![0]),
        ];
        let run = execute(nodes, Options::default());
        for (name, step) in &run.steps {
            assert!(step.peak_rss_kib > 0, "{name}: {step:?}");
        }
    }

    /// A sink that reports an outcome, and cancels the run in its finish when given a flag.
    struct Reports(Option<Arc<AtomicBool>>);

    impl SinkOp for Reports {
        fn write(&mut self, _item: &Item, _position: Position) -> anyhow::Result<()> {
            Ok(())
        }
        fn finish(self: Box<Self>) -> anyhow::Result<Publish> {
            Ok(self.finish_reporting()?.0)
        }
        fn finish_reporting(
            self: Box<Self>,
        ) -> anyhow::Result<(Publish, Option<serde_json::Value>)> {
            if let Some(cancel) = &self.0 {
                cancel.store(true, Ordering::SeqCst);
            }
            Ok((Publish::nothing(), Some(serde_json::json!({"indexed": 5}))))
        }
    }

    /// A sink's outcome is in its step's report, unless the run was cancelled: then nothing
    /// of it was published, and it tells nothing.
    #[test]
    fn a_sinks_outcome_is_reported_unless_the_run_is_cancelled() {
        for cancelled in [false, true] {
            let cancel = Arc::new(AtomicBool::new(false));
            let sink = Reports(cancelled.then(|| cancel.clone()));
            let nodes = vec![
                node("src", Operator::Source(Box::new(Numbers(5))), vec![]),
                node("index", Operator::Sink(Box::new(sink)), vec![0]),
            ];
            let run = execute(
                nodes,
                Options {
                    cancel,
                    ..Options::default()
                },
            );
            assert_eq!(run.cancelled, cancelled);
            let outcome = &run.steps[1].1.outcome;
            assert_eq!(outcome.is_some(), !cancelled, "{outcome:?}");
        }
    }

    /// A sink that cancels the run while its output goes into place, as a late Ctrl-C does.
    struct CancelledInPublish(Arc<AtomicBool>);

    impl SinkOp for CancelledInPublish {
        fn write(&mut self, _item: &Item, _position: Position) -> anyhow::Result<()> {
            Ok(())
        }
        fn finish(self: Box<Self>) -> anyhow::Result<Publish> {
            Ok(Publish::new(Vec::new(), move || {
                self.0.store(true, Ordering::SeqCst);
                Ok(())
            }))
        }
    }

    /// A cancel that comes once the outputs are going into place does not make the run
    /// cancelled: what it published stays, and the run is what it is.
    #[test]
    fn a_cancel_during_the_publish_does_not_cancel_the_run() {
        let cancel = Arc::new(AtomicBool::new(false));
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(5))), vec![]),
            node(
                "index",
                Operator::Sink(Box::new(CancelledInPublish(cancel.clone()))),
                vec![0],
            ),
        ];
        let run = execute(
            nodes,
            Options {
                cancel: cancel.clone(),
                ..Options::default()
            },
        );
        assert!(cancel.load(Ordering::SeqCst));
        assert!(!run.cancelled);
    }

    /// A sink whose output goes in place by renaming `prepared`, and whose publish checks that
    /// the journal names that rename before it is done.
    struct Journaled {
        store: std::path::PathBuf,
        prepared: std::path::PathBuf,
        journaled: Arc<AtomicBool>,
    }

    impl SinkOp for Journaled {
        fn write(&mut self, _item: &Item, _position: Position) -> anyhow::Result<()> {
            Ok(())
        }
        fn finish(self: Box<Self>) -> anyhow::Result<Publish> {
            let rename = (self.prepared.clone(), self.prepared.with_extension("live"));
            Ok(Publish::new(vec![rename.clone()], move || {
                let journal = crate::publishing::Journal::read(&self.store);
                let named = journal.is_some_and(|journal| {
                    journal.run_id == "r1" && journal.renames == vec![rename.clone()]
                });
                self.journaled.store(named, Ordering::SeqCst);
                std::fs::rename(&rename.0, &rename.1)?;
                Ok(())
            }))
        }
    }

    /// The renames that put the outputs in place are written down before the first is done,
    /// so that a process killed among them leaves what completes them.
    #[test]
    fn the_renames_are_written_down_before_any_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let prepared = dir.path().join("out.partial");
        std::fs::write(&prepared, "new").unwrap();
        let journaled = Arc::new(AtomicBool::new(false));
        let sink = Journaled {
            store: dir.path().to_owned(),
            prepared: prepared.clone(),
            journaled: journaled.clone(),
        };
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(5))), vec![]),
            node("out", Operator::Sink(Box::new(sink)), vec![0]),
        ];
        let options = Options {
            journal: Some((dir.path().to_owned(), "r1".to_owned())),
            ..Options::default()
        };
        let run = execute(nodes, options);
        assert!(!run.cancelled && run.errors.is_empty(), "{:?}", run.errors);
        assert!(journaled.load(Ordering::SeqCst));
        assert!(prepared.with_extension("live").is_file());
    }

    /// A sink whose publish records whether a step was still running when it was called.
    struct Published {
        published: Arc<AtomicBool>,
        other_running: Arc<AtomicBool>,
        other_done: Arc<AtomicBool>,
    }

    impl SinkOp for Published {
        fn write(&mut self, _item: &Item, _position: Position) -> anyhow::Result<()> {
            Ok(())
        }
        fn finish(self: Box<Self>) -> anyhow::Result<Publish> {
            Ok(Publish::new(Vec::new(), move || {
                self.other_running
                    .store(!self.other_done.load(Ordering::SeqCst), Ordering::SeqCst);
                self.published.store(true, Ordering::SeqCst);
                Ok(())
            }))
        }
    }

    /// Passes items on slowly; sets `done` after the last, and `cancel` at item `cancel_at`.
    struct Slow {
        done: Arc<AtomicBool>,
        cancel: Option<(Arc<AtomicBool>, &'static str)>,
    }

    impl TransformOp for Slow {
        fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
            std::thread::sleep(Duration::from_millis(2));
            if let Some((cancel, at)) = &self.cancel
                && item.doc_id() == *at
            {
                cancel.store(true, Ordering::SeqCst);
            }
            Ok(Some(item.clone()))
        }
    }

    impl Drop for Slow {
        fn drop(&mut self) {
            self.done.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_cancelled_run_drops_what_waits_in_the_channels() {
        let cancel = Arc::new(AtomicBool::new(false));
        let slow = Slow {
            done: Arc::default(),
            cancel: Some((cancel.clone(), "3")),
        };
        let written = Arc::new(AtomicU64::new(0));
        let mut slow_node = node("slow", Operator::Transform(Arc::new(slow)), vec![0]);
        slow_node.parallelism = 1;
        slow_node.capacity = 64;
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(100))), vec![]),
            slow_node,
            node(
                "out",
                Operator::Sink(Box::new(Count(written.clone()))),
                vec![1],
            ),
        ];
        let options = Options {
            cancel,
            ..Options::default()
        };
        let run = execute(nodes, options);
        assert!(run.cancelled);
        let written = written.load(Ordering::Relaxed);
        assert!(written <= 4, "{written} items went on after the cancel");
    }

    #[test]
    fn sinks_publish_when_every_step_is_done_and_never_in_a_cancelled_run() {
        for cancelled in [false, true] {
            let cancel = Arc::new(AtomicBool::new(false));
            let (published, other_running, other_done) = (
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicBool::new(false)),
            );
            let slow = Slow {
                done: other_done.clone(),
                cancel: cancelled.then(|| (cancel.clone(), "30")),
            };
            let sink = Published {
                published: published.clone(),
                other_running: other_running.clone(),
                other_done,
            };
            let nodes = vec![
                node("src", Operator::Source(Box::new(Numbers(60))), vec![]),
                node("fast", Operator::Sink(Box::new(sink)), vec![0]),
                node("slow", Operator::Transform(Arc::new(slow)), vec![0]),
                node(
                    "out",
                    Operator::Sink(Box::new(Count(Arc::default()))),
                    vec![2],
                ),
            ];
            let options = Options {
                cancel,
                ..Options::default()
            };
            let run = execute(nodes, options);
            assert_eq!(run.cancelled, cancelled);
            assert_eq!(published.load(Ordering::SeqCst), !cancelled);
            assert!(
                !other_running.load(Ordering::SeqCst),
                "published while another step still ran"
            );
        }
    }

    fn node(name: &str, operator: Operator, inputs: Vec<usize>) -> Node {
        Node {
            name: name.to_owned(),
            op: name.to_owned(),
            fingerprint: name.to_owned(),
            operator,
            inputs,
            parallelism: 3,
            capacity: 1,
        }
    }

    /// Checkpoints in memory, found by step and key.
    #[derive(Default)]
    struct KeyedMemory(Mutex<HashMap<(String, Key), Checkpoint>>);

    impl Checkpoints for KeyedMemory {
        fn get(&self, fingerprint: &str, key: &Key) -> Option<(Checkpoint, u64)> {
            let stored = self.0.lock().unwrap();
            let output = stored.get(&(fingerprint.to_owned(), *key))?;
            Some((output.clone(), 1))
        }
        fn put(&self, fingerprint: &str, key: &Key, output: Option<&Item>) -> u64 {
            let mut stored = self.0.lock().unwrap();
            let output = Checkpoint::Output(output.cloned());
            stored.insert((fingerprint.to_owned(), *key), output);
            1
        }
        fn put_failure(&self, fingerprint: &str, key: &Key, message: &str) -> u64 {
            let mut stored = self.0.lock().unwrap();
            let failure = Checkpoint::Failed(message.to_owned());
            stored.insert((fingerprint.to_owned(), *key), failure);
            1
        }
        fn record(&self, _step: &str, _doc_id: &str, _record: ItemRecord) {}
    }

    /// Passes items on, counting them, with the key variant `variants` gives each document.
    struct Varied {
        variants: HashMap<&'static str, &'static str>,
        applied: AtomicU64,
    }

    impl TransformOp for Varied {
        fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
            self.applied.fetch_add(1, Ordering::SeqCst);
            Ok(Some(item.clone()))
        }
        fn key_variant(&self, item: &Item) -> Option<String> {
            self.variants.get(item.doc_id()).map(|v| v.to_string())
        }
    }

    /// A step's outputs are found again under their variants: a document whose variant
    /// changes (its format's parse version moved on) is computed again, the others are not.
    #[test]
    fn a_changed_key_variant_redoes_only_its_own_items() {
        let memory = Arc::new(KeyedMemory::default());
        let applied = |variants: &[(&'static str, &'static str)]| {
            let step = Arc::new(Varied {
                variants: variants.iter().copied().collect(),
                applied: AtomicU64::new(0),
            });
            let run = run_through(&memory, step.clone(), false);
            assert!(run.errors.is_empty(), "{:?}", run.errors);
            step.applied.load(Ordering::SeqCst)
        };
        assert_eq!(applied(&[]), 5);
        assert_eq!(applied(&[]), 0, "no variant: the keys of before");
        assert_eq!(applied(&[("2", "v2")]), 1, "only the varied document");
        assert_eq!(applied(&[("2", "v2")]), 0);
        assert_eq!(applied(&[("2", "v3"), ("4", "v3")]), 2);
        assert_eq!(applied(&[]), 0, "the unvaried outputs are still kept");
    }

    /// Fails document "3" (finally when `final_failure`) unless it `passes`, passes the
    /// others on, counting every call; stores its failures under `variant`.
    struct FailsThree {
        final_failure: bool,
        passes: bool,
        variant: &'static str,
        applied: AtomicU64,
    }

    impl FailsThree {
        fn new(final_failure: bool) -> Self {
            FailsThree {
                final_failure,
                passes: false,
                variant: "budget 1",
                applied: AtomicU64::new(0),
            }
        }
    }

    impl TransformOp for FailsThree {
        fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
            self.applied.fetch_add(1, Ordering::SeqCst);
            anyhow::ensure!(self.passes || item.doc_id() != "3", "document 3 is damaged");
            Ok(Some(item.clone()))
        }
        fn failure_variant(&self) -> Option<String> {
            Some(self.variant.to_owned())
        }
        fn failure_is_final(&self, _error: &anyhow::Error) -> bool {
            self.final_failure
        }
    }

    /// Runs five documents through `step` into a sink, with checkpoints in `memory`.
    fn run_through(
        memory: &Arc<KeyedMemory>,
        step: Arc<dyn TransformOp>,
        retry_failed: bool,
    ) -> Execution {
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(5))), vec![]),
            node("step", Operator::Transform(step), vec![0]),
            node(
                "sink",
                Operator::Sink(Box::new(Count(Arc::default()))),
                vec![1],
            ),
        ];
        let options = Options {
            checkpoints: Some(memory.clone()),
            retry_failed,
            ..Options::default()
        };
        execute(nodes, options)
    }

    /// [`run_through`] `step`, and how many documents it computed.
    fn fail_through(
        memory: &Arc<KeyedMemory>,
        step: FailsThree,
        retry_failed: bool,
    ) -> (Execution, u64) {
        let step = Arc::new(step);
        let run = run_through(memory, step.clone(), retry_failed);
        (run, step.applied.load(Ordering::SeqCst))
    }

    /// A final failure is stored: the next run records it again (failed, cached, remembered)
    /// without calling the operator, until a run retries failures; a failure that is not
    /// final is done again every run.
    #[test]
    fn a_final_failure_is_remembered_until_a_run_retries_it() {
        let memory = Arc::new(KeyedMemory::default());
        let run = |final_failure: bool, retry_failed: bool| {
            let (run, applied) =
                fail_through(&memory, FailsThree::new(final_failure), retry_failed);
            let messages: Vec<_> = run.errors.iter().map(|e| e.message.clone()).collect();
            assert_eq!(messages, ["document 3 is damaged"]);
            assert_eq!(run.errors[0].doc_id, "3");
            let report = &run.steps[1].1;
            assert_eq!((report.failed, report.output), (1, 4));
            (applied, report.cached, report.remembered)
        };
        assert_eq!(run(false, false), (5, 0, None));
        assert_eq!(run(false, false), (1, 4, None), "not final: done again");
        assert_eq!(run(true, false), (1, 4, None), "final: done, then stored");
        assert_eq!(run(true, false), (0, 5, Some(1)), "remembered");
        assert_eq!(run(true, true), (1, 4, None), "retried");
        assert_eq!(run(true, false), (0, 5, Some(1)), "remembered again");
    }

    /// Fails every document, the first ones last.
    struct FailsLateFirst;

    impl TransformOp for FailsLateFirst {
        fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
            let number: u64 = item.doc_id().parse()?;
            thread::sleep(Duration::from_millis(40 - 10 * number));
            anyhow::bail!("failed")
        }
    }

    /// Failures are listed by step and document, whatever order the workers met them in.
    #[test]
    fn failures_are_listed_in_order_of_step_and_document() {
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(4))), vec![]),
            node(
                "step",
                Operator::Transform(Arc::new(FailsLateFirst)),
                vec![0],
            ),
            node(
                "sink",
                Operator::Sink(Box::new(Count(Arc::default()))),
                vec![1],
            ),
        ];
        let nodes = nodes
            .into_iter()
            .map(|node| Node {
                parallelism: 4,
                capacity: 4,
                ..node
            })
            .collect();
        let run = execute(nodes, Options::default());
        let ids: Vec<&str> = run.errors.iter().map(|e| e.doc_id.as_str()).collect();
        assert_eq!(ids, ["0", "1", "2", "3"]);
    }

    /// A failure stored under one failure variant (a time budget) is not found under another,
    /// which does the work again; and an output, once stored, wins over the failure: a
    /// failure never takes the place of an output.
    #[test]
    fn a_stored_failure_holds_only_for_its_variant_and_never_hides_an_output() {
        let memory = Arc::new(KeyedMemory::default());
        let (run, applied) = fail_through(&memory, FailsThree::new(true), false);
        assert_eq!((applied, run.errors.len()), (5, 1));
        let longer = FailsThree {
            passes: true,
            variant: "budget 60",
            ..FailsThree::new(true)
        };
        let (run, applied) = fail_through(&memory, longer, false);
        assert_eq!(
            (applied, run.errors.len()),
            (1, 0),
            "another variant: done again"
        );
        let (run, applied) = fail_through(&memory, FailsThree::new(true), false);
        assert_eq!(
            (applied, run.errors.len()),
            (0, 0),
            "the output is found first"
        );
        assert_eq!(run.steps[1].1.remembered, None);
    }

    #[test]
    fn a_diamond_with_capacity_one_finishes_and_counts_every_path() {
        let total = Arc::new(AtomicU64::new(0));
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(500))), vec![]),
            node(
                "a",
                Operator::Transform(Arc::new(FailOn("-", false))),
                vec![0],
            ),
            node(
                "b",
                Operator::Transform(Arc::new(FailOn("-", false))),
                vec![0],
            ),
            node(
                "sink",
                Operator::Sink(Box::new(Count(total.clone()))),
                vec![1, 2],
            ),
        ];
        let run = execute(nodes, Options::default());
        assert_eq!(total.load(Ordering::Relaxed), 1000);
        assert_eq!(run.steps[3].1.input, 1000);
        assert!(run.errors.is_empty());
    }

    /// A source that reads nothing where the last completed run read documents fails as a
    /// whole (nothing is taken as gone); one that reads some, or had read none, does not.
    #[test]
    fn a_source_that_reads_nothing_after_reading_documents_fails_as_a_whole() {
        let errors_with = |documents: usize, last: Option<u64>| {
            let nodes = vec![
                node(
                    "src",
                    Operator::Source(Box::new(Numbers(documents))),
                    vec![],
                ),
                node(
                    "sink",
                    Operator::Sink(Box::new(Count(Arc::default()))),
                    vec![0],
                ),
            ];
            let last_read = last
                .map(|documents| {
                    let run_id = "r1".to_owned();
                    ("src".to_owned(), LastRead { run_id, documents })
                })
                .into_iter()
                .collect();
            let options = Options {
                last_read,
                ..Options::default()
            };
            execute(nodes, options).errors
        };
        let errors = errors_with(0, Some(7));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            (errors[0].step.as_str(), errors[0].doc_id.as_str()),
            ("src", "")
        );
        let message = &errors[0].message;
        assert!(message.contains("run r1 read 7 documents"), "{message}");
        assert!(message.contains("--allow-empty"), "{message}");
        assert!(errors_with(0, None).is_empty());
        assert!(errors_with(2, Some(7)).is_empty());
    }

    /// The parsed documents made so far, to tell how many are alive.
    type Registry = Arc<Mutex<Vec<std::sync::Weak<operators::model::ParsedDocument>>>>;

    fn alive(registry: &Registry) -> u64 {
        let registry = registry.lock().unwrap();
        registry.iter().filter(|doc| doc.strong_count() > 0).count() as u64
    }

    /// Reads documents of 100 bytes on a budget of 250, noting the most parsed documents alive
    /// whenever it hands one on.
    struct Leasing {
        in_flight: crate::in_flight::InFlight,
        parsed: Registry,
        most_alive: Arc<AtomicU64>,
    }

    impl SourceOp for Leasing {
        fn run(&mut self, emit: &mut dyn FnMut(Emitted) -> ControlFlow<()>) -> anyhow::Result<()> {
            for i in 0..30 {
                let lease = self.in_flight.admit(100);
                (self.most_alive).fetch_max(alive(&self.parsed), Ordering::SeqCst);
                let doc = Document::new(format!("{i}.md"), String::new(), vec![b'a'; 100]);
                if emit(Emitted::Leased(Item::Document(Arc::new(doc)), lease)).is_break() {
                    break;
                }
            }
            Ok(())
        }
    }

    /// Parses documents at once, noting each parsed document.
    struct ParseNoting(Registry);

    impl TransformOp for ParseNoting {
        fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
            let Item::Document(doc) = item else {
                anyhow::bail!("not a document")
            };
            let parsed = Arc::new(operators::parse::parse(doc, &Default::default())?);
            self.0.lock().unwrap().push(Arc::downgrade(&parsed));
            Ok(Some(Item::Parsed(parsed)))
        }
    }

    /// Takes its time over each item, and hands nothing on.
    struct Lingering;

    impl TransformOp for Lingering {
        fn apply(&self, _item: &Item) -> anyhow::Result<Option<Item>> {
            std::thread::sleep(Duration::from_millis(10));
            Ok(None)
        }
    }

    /// A source's budget holds until the parsed documents are done with, not only the read
    /// ones: parsed documents (several times their files) piled up behind a slower step, 9.4 GB
    /// for eight files of 200 MB.
    #[test]
    fn the_source_budget_covers_parsed_documents_until_a_later_step_is_done() {
        let parsed = Registry::default();
        let most_alive = Arc::new(AtomicU64::new(0));
        let source = Leasing {
            in_flight: crate::in_flight::InFlight::new(250),
            parsed: parsed.clone(),
            most_alive: most_alive.clone(),
        };
        let nodes = vec![
            node("src", Operator::Source(Box::new(source)), vec![]),
            node(
                "parse",
                Operator::Transform(Arc::new(ParseNoting(parsed.clone()))),
                vec![0],
            ),
            node("chunk", Operator::Transform(Arc::new(Lingering)), vec![1]),
        ];
        let run = execute(nodes, Options::default());
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        assert_eq!(run.steps[2].1.input, 30);
        let most = most_alive.load(Ordering::SeqCst);
        assert!(
            most <= 2,
            "{most} parsed documents alive, budget 2.5 documents"
        );
    }

    /// Parses each document as Markdown, in windows-1252 (a warning) when its number is odd.
    struct ParseNumbers;

    impl TransformOp for ParseNumbers {
        fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
            let id = item.doc_id();
            let odd = id.parse::<u64>()? % 2 == 1;
            let bytes: &[u8] = if odd { b"Caf\xE9\n" } else { b"Cafe\n" };
            let doc = Document::new(format!("{id}.md"), id.to_owned(), bytes.to_vec());
            let parsed = operators::parse::parse(&doc, &Default::default())?;
            Ok(Some(Item::Parsed(Arc::new(parsed))))
        }
    }

    #[test]
    fn documents_with_warnings_are_counted_and_a_few_named() {
        let total = Arc::new(AtomicU64::new(0));
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(20))), vec![]),
            node(
                "parse",
                Operator::Transform(Arc::new(ParseNumbers)),
                vec![0],
            ),
            node(
                "sink",
                Operator::Sink(Box::new(Count(total.clone()))),
                vec![1],
            ),
        ];
        let run = execute(nodes, Options::default());
        assert_eq!(total.load(Ordering::Relaxed), 20);
        assert_eq!(run.steps[1].1.warned, Some(10));
        // Only steps that emit parsed documents count them.
        assert_eq!(run.steps[0].1.warned, None);
        assert_eq!(run.warned.len(), MAX_WARNED_SHOWN as usize);
        for record in &run.warned {
            assert_eq!(record.step, "parse");
            let number: u64 = record.doc_id.trim_end_matches(".md").parse().unwrap();
            assert_eq!(number % 2, 1, "{record:?}");
            assert!(record.message.contains("windows-1252"), "{record:?}");
            assert_eq!(record.warnings, 1);
        }
        let json = serde_json::to_value(&run.steps[1].1).unwrap();
        assert_eq!(json["warned"], 10);
    }

    #[test]
    fn errors_and_panics_become_records_and_the_rest_goes_on() {
        let total = Arc::new(AtomicU64::new(0));
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(100))), vec![]),
            node(
                "err",
                Operator::Transform(Arc::new(FailOn("7", false))),
                vec![0],
            ),
            node(
                "boom",
                Operator::Transform(Arc::new(FailOn("8", true))),
                vec![1],
            ),
            node(
                "sink",
                Operator::Sink(Box::new(Count(total.clone()))),
                vec![2],
            ),
        ];
        let run = execute(nodes, Options::default());
        assert_eq!(total.load(Ordering::Relaxed), 98);
        assert_eq!(run.errors.len(), 2);
        assert_eq!(run.errors[0].doc_id.len(), 1);
        let panic = run.errors.iter().find(|e| e.step == "boom").unwrap();
        assert_eq!(panic.doc_id, "8");
        assert!(panic.message.contains("exploded on 8"));
    }

    /// Records the size of every batch; fails item `fail`, panics on a batch holding `boom`.
    struct Batches {
        sizes: Mutex<Vec<usize>>,
        fail: &'static str,
        boom: &'static str,
    }

    impl BatchOp for Batches {
        fn weight(&self, _item: &Item) -> usize {
            1
        }
        fn budget(&self) -> usize {
            8
        }
        fn apply_batch(&self, items: &[&Item]) -> Vec<anyhow::Result<Option<Item>>> {
            self.sizes.lock().unwrap().push(items.len());
            if items.iter().any(|item| item.doc_id() == self.boom) {
                panic!("batch with {}", self.boom);
            }
            items
                .iter()
                .map(|&item| {
                    if item.doc_id() == self.fail {
                        anyhow::bail!("bad item {}", self.fail);
                    }
                    Ok(Some(item.clone()))
                })
                .collect()
        }
    }

    fn run_batches(op: Arc<Batches>, items: usize) -> (Execution, u64) {
        let total = Arc::new(AtomicU64::new(0));
        let mut batch = node("batch", Operator::Batch(op), vec![0]);
        batch.parallelism = 1;
        batch.capacity = 64;
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(items))), vec![]),
            batch,
            node(
                "sink",
                Operator::Sink(Box::new(Count(total.clone()))),
                vec![1],
            ),
        ];
        let run = execute(nodes, Options::default());
        (run, total.load(Ordering::Relaxed))
    }

    #[test]
    fn a_batch_step_gathers_items_of_several_documents_up_to_its_budget() {
        let op = Arc::new(Batches {
            sizes: Mutex::new(Vec::new()),
            fail: "-",
            boom: "-",
        });
        let (run, written) = run_batches(op.clone(), 200);
        assert_eq!(written, 200);
        assert!(run.errors.is_empty());
        let sizes = op.sizes.lock().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 200);
        assert!(sizes.iter().all(|&size| size <= 8), "{sizes:?}");
        assert!(
            sizes.iter().any(|&size| size > 1),
            "items were never batched together: {sizes:?}"
        );
    }

    #[test]
    fn a_failed_or_panicking_item_in_a_batch_fails_alone() {
        let op = Arc::new(Batches {
            sizes: Mutex::new(Vec::new()),
            fail: "3",
            boom: "17",
        });
        let (run, written) = run_batches(op, 50);
        assert_eq!(written, 48);
        let mut failed: Vec<(&str, &str)> = run
            .errors
            .iter()
            .map(|e| (e.doc_id.as_str(), e.message.as_str()))
            .collect();
        failed.sort();
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert_eq!(failed[0].0, "17");
        assert!(failed[0].1.contains("batch with 17"), "{}", failed[0].1);
        assert_eq!(failed[1], ("3", "bad item 3"));
        assert_eq!(run.steps[1].1.failed, 2);
        assert_eq!(run.steps[1].1.output, 48);
    }

    #[test]
    fn cancelling_stops_the_sources_and_drains_the_rest() {
        let total = Arc::new(AtomicU64::new(0));
        let options = Options::default();
        options.cancel.store(true, Ordering::Relaxed);
        let nodes = vec![
            node("src", Operator::Source(Box::new(Numbers(100))), vec![]),
            node(
                "sink",
                Operator::Sink(Box::new(Count(total.clone()))),
                vec![0],
            ),
        ];
        let run = execute(nodes, options);
        assert!(run.cancelled);
        assert_eq!(total.load(Ordering::Relaxed), 0);
    }
}
