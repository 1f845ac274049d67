//! The store under a pipeline's `store` folder: checkpoints of every step's output per input,
//! run history and per-item records. sled lives behind this one module so it can be swapped.
//!
//! Layout: `engine-store` (the mark of a store, see `marker`), `lock` (held by the process
//! using the store, holding its pid) and `db/` (sled) with
//! trees `checkpoints` (step fingerprint + output key → encoded output), `runs` (run id → summary)
//! and, per run, `items/<run id>` (what each step did to each document in that run, in blocks:
//! see `records`; a run's records go with one cheap drop of its tree, where removing 200,000
//! records one by one took 5 s). Runs recorded before that are in one `items` tree, under (run
//! id, step, doc id). While
//! `gc` compacts the database, `db.compacting/`, `db.compacted` and `db.old/` stand beside it
//! (see `compact`). `db.seal` names the newest run the database held when last flushed, so that
//! a damaged database is not taken for an older store (see `seal`).

pub mod codec;
mod compact;
mod lock;
mod marker;
mod records;
mod seal;

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use lock::StoreLock;
pub use marker::{
    Folder, claim, describe as describe_entries, examine, nearest_existing_ancestor,
    unwritable_ancestor,
};

/// A 32-byte key: the content-derived identity of an item.
pub type Key = [u8; 32];

/// How long a command waits for another process to let go of the store.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// Calls `attempt` until it breaks with a result, for up to [`PATIENCE`]: `Continue(error)`
/// is worth another try a moment later, and is the result once the patience is spent.
pub fn patiently<T, E>(mut attempt: impl FnMut() -> ControlFlow<Result<T, E>, E>) -> Result<T, E> {
    let started = std::time::Instant::now();
    loop {
        match attempt() {
            ControlFlow::Break(result) => return result,
            ControlFlow::Continue(error) if started.elapsed() >= PATIENCE => return Err(error),
            ControlFlow::Continue(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
}

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the store.
    #[error(
        "store {path} is in use by process {pid}; wait for it to finish (or stop it) and try again"
    )]
    InUse {
        /// The store folder.
        path: PathBuf,
        /// The holder's pid, as it wrote it.
        pid: String,
    },
    /// The store cannot be written by this process: another user's, or on a read-only mount.
    #[error(
        "the store {path} is read-only to this user ({why}): every command but `engine query` writes to it; run this one as the store's owner, or on a copy you can write (`cp -r {path} COPY`, then point `--store` or the pipeline's `store:` at COPY)"
    )]
    ReadOnly {
        /// The store folder.
        path: PathBuf,
        /// What was refused, in words.
        why: String,
    },
    /// The folder holds files that are not a store's.
    #[error(
        "{path} is not a store of the engine: it already holds {held}; the engine would put its files among them (and `engine gc` clean what it took for its own), so it leaves it alone: point the pipeline's `store:` (or `--store`) at a new or empty folder, e.g. `.engine`"
    )]
    NotAStore {
        /// The folder.
        path: PathBuf,
        /// Some of what it holds, in words.
        held: String,
    },
    /// The store's folder is not there and cannot be made.
    #[error(
        "the store {path} cannot be created: {why} (in {parent}); point the pipeline's `store:` (or `--store`) at a folder you can write"
    )]
    CannotCreate {
        /// The store folder.
        path: PathBuf,
        /// The folder it would be made in that refused.
        parent: PathBuf,
        /// Why, in words.
        why: String,
    },
    /// The folder or database could not be opened.
    #[error("cannot open the store {path}: {message}")]
    Open {
        /// The store folder.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A read or write failed.
    #[error("store {0}")]
    Io(String),
}

impl StoreError {
    /// The error of opening `what` (the store folder `dir` or a file in it) for writing: a
    /// [`StoreError::ReadOnly`] when the place is not writable, else an [`StoreError::Open`].
    pub fn opening(dir: &Path, what: &Path, err: &std::io::Error) -> StoreError {
        if read_only(err) {
            return StoreError::ReadOnly {
                path: dir.to_owned(),
                why: format!("{}: {}", what.display(), refusal(err)),
            };
        }
        StoreError::Open {
            path: dir.to_owned(),
            message: format!("cannot open {}: {}", what.display(), io_message(err)),
        }
    }
}

/// Whether an I/O error says the place cannot be written (permissions or a read-only mount),
/// however sled passes it on.
fn read_only(err: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    let text = err.to_string();
    matches!(
        err.kind(),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
    ) || text.contains("PermissionDenied")
        || text.contains("ReadOnlyFilesystem")
}

/// What refused a write, in words.
pub(crate) fn refusal(err: &std::io::Error) -> &'static str {
    let text = err.to_string();
    if err.kind() == std::io::ErrorKind::ReadOnlyFilesystem || text.contains("ReadOnlyFilesystem") {
        "read-only file system"
    } else {
        "permission denied"
    }
}

impl From<sled::Error> for StoreError {
    fn from(err: sled::Error) -> Self {
        match err {
            sled::Error::Io(err) => StoreError::Io(io_message(&err)),
            err => StoreError::Io(err.to_string()),
        }
    }
}

/// What to do about a checkpoint database sled cannot read (damaged, or written by another
/// version): it can be moved away, at the cost of every step running again.
fn damaged(db: &Path, detail: &str) -> String {
    let detail = detail.trim_end_matches(" backtrace ()").trim_end();
    format!(
        "its checkpoint database cannot be read ({detail}); move it away to start afresh \
         (`mv {db} {db}.damaged`): the next run computes every step again, and the indexes stay \
         as they are until it replaces them",
        db = db.display()
    )
}

/// Free space a store's disk must have for the store to be opened: sled writes as it opens
/// (recovering what the last process left), and a write a full disk cuts short can leave its
/// database unreadable for good.
pub const MIN_FREE_BYTES: u64 = 32 << 20;

/// An error when `available` bytes are too few to open the store in `dir` safely.
fn enough_space(dir: &Path, available: u64) -> Result<(), StoreError> {
    if available >= MIN_FREE_BYTES {
        return Ok(());
    }
    Err(StoreError::Open {
        path: dir.to_owned(),
        message: format!(
            "its disk has {:.1} MiB free, less than the {} MiB opening it needs: free some space \
             and try again (opening a store on a full disk can damage it, so `engine gc` waits \
             for space too; a run resumes from what was written)",
            available as f64 / f64::from(1 << 20),
            MIN_FREE_BYTES >> 20
        ),
    })
}

/// A read or write error in words: sled passes some on as the debug text of the error it got
/// (`Os { code: 28, kind: StorageFull, … }`).
fn io_message(err: &std::io::Error) -> String {
    let text = err.to_string();
    if read_only(err) {
        return format!(
            "cannot be written ({}): every command but `engine query` writes to the store; run this one as the store's owner",
            refusal(err)
        );
    }
    if err.kind() == std::io::ErrorKind::StorageFull
        || text.contains("StorageFull")
        || text.contains("code: 28,")
    {
        return "cannot be written: no space left on device; free some space and run again \
                (the run resumes from what was written)"
            .to_owned();
    }
    // sled's debug text of an OS error (`Os { code: 5, kind: …, message: … }`) names its code.
    let code = err.raw_os_error().or_else(|| {
        let after = &text[text.find("code: ")? + "code: ".len()..];
        after[..after.find(|c: char| !c.is_ascii_digit())?]
            .parse()
            .ok()
    });
    match code {
        Some(code) => format!("IO error: {}", std::io::Error::from_raw_os_error(code)),
        None => format!("IO error: {text}"),
    }
}

/// What one step did to one document in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    /// The step's fingerprint.
    pub fingerprint: String,
    /// Hex key of the step's output (empty for sinks).
    pub key: String,
    /// Whether the output came from a checkpoint.
    pub cached: bool,
    /// Seconds spent (0 when cached).
    pub seconds: f64,
    /// Size of the input as stored.
    pub bytes_in: u64,
    /// Size of the output as stored (of the failure, for a failure that was stored).
    pub bytes_out: u64,
    /// The error, when the item failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the output carries warnings (a parsed document's), so that a run that ends
    /// without its summary still counts them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warned: bool,
}

/// Most bytes of the database's pages sled keeps cached (its own count; the process holds about
/// twice that). sled's default, 1 GiB, took 900 MB for 200,000 small documents, and a 600,000
/// document run 1.65 GB; 256 MiB takes 590 MB there for 6% more time (128 MiB: 390 MB, 18%).
const CACHE_BYTES: u64 = 256 << 20;

/// The store's layout. 2: each run's item records in a tree of its own; 3: in blocks of many
/// records (see `records`), which layout 2 would not read. A store written by an
/// engine of a later layout is refused rather than misread (an engine that does not see a
/// run's records would take nothing as reached, and `gc` would drop every checkpoint); stores
/// written before the layout was recorded are read as they are.
const FORMAT: u32 = 3;

/// Refuses a store of a later layout than [`FORMAT`]; records this one's in a store of an
/// earlier or unrecorded one.
fn check_format(dir: &Path, db: &sled::Db) -> Result<(), StoreError> {
    let meta = db.open_tree("meta")?;
    let recorded = (meta.get("format")?)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes.as_ref()).ok())
        .map(u32::from_le_bytes);
    match recorded {
        Some(format) if format > FORMAT => Err(StoreError::Open {
            path: dir.to_owned(),
            message: format!(
                "it was written by a later version of the engine (store format {format}; this one reads up to {FORMAT}): use that version, or point `store:` at a new folder"
            ),
        }),
        Some(format) if format == FORMAT => Ok(()),
        _ => {
            meta.insert("format", &FORMAT.to_le_bytes())?;
            Ok(())
        }
    }
}

/// The file in a store's folder that says a rewrite of its database is wanted.
const COMPACTION_WANTED: &str = "compact.wanted";

/// A store, held exclusively by this process while open.
pub struct Store {
    dir: PathBuf,
    db: sled::Db,
    checkpoints: sled::Tree,
    runs: sled::Tree,
    items: sled::Tree,
    vectors: sled::Tree,
    /// Where each output was last computed, under its checkpoint's key: the run and the
    /// seconds it took, so that `inspect` finds it without reading every earlier run.
    origins: sled::Tree,
    /// The length of each embedding provider's vectors in `vectors`, by fingerprint.
    vector_sizes: sled::Tree,
    /// Writes the blocks of `records` when due; dropped (its thread ended) before them.
    due_writer: records::DueWriter,
    /// Item records waiting for their block.
    records: std::sync::Arc<records::RecordBlocks>,
    _lock: StoreLock,
}

impl Store {
    /// Opens (creating) the store in `dir`; fails at once if another process holds it, when
    /// its disk is nearly full ([`MIN_FREE_BYTES`]), or when `dir` holds files that are not a
    /// store's ([`marker`]).
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        marker::claim(dir)?;
        let lock = StoreLock::acquire(dir)?;
        // A compaction a process was killed in is finished or undone first: the copy it
        // leaves may be what fills the disk.
        compact::recover(dir)?;
        seal::forget_if_no_database(dir)?;
        if let Ok(available) = fs4::available_space(dir) {
            enough_space(dir, available)?;
        }
        Self::open_locked(dir, lock)
    }

    /// Opens the database of the store in `dir`, whose lock this process holds.
    fn open_locked(dir: &Path, lock: StoreLock) -> Result<Store, StoreError> {
        let config = sled::Config::new()
            .path(dir.join("db"))
            .flush_every_ms(Some(200))
            .cache_capacity(CACHE_BYTES);
        let unreadable = |detail: &str| StoreError::Open {
            path: dir.to_owned(),
            message: damaged(&dir.join("db"), detail),
        };
        // sled panics on some damage (a database cut short): that is an unreadable store too.
        crate::runtime::panics::install_hook();
        let opened =
            operators::caught::catch_quietly(|| compact::open(&config)).map_err(|panic| {
                unreadable(&format!(
                    "sled failed: {}",
                    crate::runtime::panics::payload_text(panic.as_ref())
                ))
            })?;
        let db = opened.map_err(|err| match err {
            sled::Error::Io(err) => StoreError::opening(dir, &dir.join("db"), &err),
            err => unreadable(&err.to_string()),
        })?;
        check_format(dir, &db)?;
        if let Some(run) = seal::sealed_run(dir)
            && !db.open_tree("runs")?.contains_key(run.as_bytes())?
        {
            return Err(unreadable(&format!(
                "it no longer holds run {run}, the newest it held when last written: it was cut short or overwritten"
            )));
        }
        let blocks = records::RecordBlocks::new(db.clone());
        Ok(Store {
            dir: dir.to_owned(),
            checkpoints: db.open_tree("checkpoints")?,
            runs: db.open_tree("runs")?,
            items: db.open_tree("items")?,
            vectors: db.open_tree("vectors")?,
            vector_sizes: db.open_tree("vector_sizes")?,
            origins: db.open_tree("origins")?,
            due_writer: blocks.write_when_due(),
            records: blocks,
            db,
            _lock: lock,
        })
    }

    /// [`Store::open`], waiting up to [`PATIENCE`] while another process holds the store: a
    /// command that only reads (`runs`, `inspect`) holds it for a moment.
    pub fn open_waiting(dir: &Path) -> Result<Store, StoreError> {
        patiently(|| match Store::open(dir) {
            Err(in_use @ StoreError::InUse { .. }) => ControlFlow::Continue(in_use),
            opened => ControlFlow::Break(opened),
        })
    }

    /// The store folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn checkpoint_key(fingerprint: &str, key: &Key) -> Vec<u8> {
        let mut full = Vec::with_capacity(fingerprint.len() + 33);
        full.extend_from_slice(fingerprint.as_bytes());
        full.push(0);
        full.extend_from_slice(key);
        full
    }

    /// The stored output of step `fingerprint` for output key `key`.
    pub fn checkpoint(
        &self,
        fingerprint: &str,
        key: &Key,
    ) -> Result<Option<sled::IVec>, StoreError> {
        Ok(self
            .checkpoints
            .get(Self::checkpoint_key(fingerprint, key))?)
    }

    /// Stores a complete output.
    pub fn put_checkpoint(
        &self,
        fingerprint: &str,
        key: &Key,
        value: &[u8],
    ) -> Result<(), StoreError> {
        self.checkpoints
            .insert(Self::checkpoint_key(fingerprint, key), value)?;
        Ok(())
    }

    /// The vector stored under an embedding cache key.
    pub fn vector(&self, key: &[u8; 32]) -> Option<Vec<f32>> {
        let bytes = self.vectors.get(key).ok()??;
        Some(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )
    }

    /// Stores a vector under an embedding cache key.
    pub fn put_vector(&self, key: &[u8; 32], vector: &[f32]) -> Result<(), StoreError> {
        let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.vectors.insert(key, bytes)?;
        Ok(())
    }

    /// The length recorded for the vectors of the embedding provider of `fingerprint`.
    pub fn vector_size(&self, fingerprint: &str) -> Option<usize> {
        let bytes = self.vector_sizes.get(fingerprint.as_bytes()).ok()??;
        let bytes: [u8; 8] = bytes.as_ref().try_into().ok()?;
        usize::try_from(u64::from_le_bytes(bytes)).ok()
    }

    /// Records the length of the vectors of the embedding provider of `fingerprint`.
    pub fn put_vector_size(&self, fingerprint: &str, size: usize) -> Result<(), StoreError> {
        self.vector_sizes
            .insert(fingerprint.as_bytes(), &(size as u64).to_le_bytes())?;
        Ok(())
    }

    /// Removes the embedding cache's vectors whose key `keep` refuses; returns (vectors, bytes)
    /// removed.
    pub fn retain_vectors(&self, keep: impl Fn(&[u8]) -> bool) -> Result<(u64, u64), StoreError> {
        let (mut count, mut bytes) = (0, 0);
        for entry in self.vectors.iter() {
            let (key, value) = entry?;
            if !keep(&key) {
                self.vectors.remove(&key)?;
                count += 1;
                bytes += (key.len() + value.len()) as u64;
            }
        }
        Ok((count, bytes))
    }

    /// Saves (or replaces) a run's summary, given as JSON.
    pub fn save_run(&self, run_id: &str, summary: &serde_json::Value) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(summary).map_err(|err| StoreError::Io(err.to_string()))?;
        self.runs.insert(run_id.as_bytes(), bytes)?;
        Ok(())
    }

    /// The id of the newest run (the greatest), if any.
    pub fn newest_run_id(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .runs
            .last()?
            .map(|(key, _)| String::from_utf8_lossy(&key).into_owned()))
    }

    /// Every run's summary, newest first.
    pub fn runs(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        let mut runs = Vec::new();
        for entry in self.runs.iter().rev() {
            let (_, value) = entry?;
            if let Ok(summary) = serde_json::from_slice(&value) {
                runs.push(summary);
            }
        }
        Ok(runs)
    }

    fn item_key(run_id: &str, step: &str, doc_id: &str) -> Vec<u8> {
        [run_id.as_bytes(), step.as_bytes(), doc_id.as_bytes()].join(&0u8)
    }

    /// Records what a step did to a document in a run.
    pub fn record_item(
        &self,
        run_id: &str,
        step: &str,
        doc_id: &str,
        record: &ItemRecord,
    ) -> Result<(), StoreError> {
        self.records.add(run_id, step, doc_id, record.clone())?;
        // An output, or a failure that was stored (a final one), computed in this run.
        let stored = record.error.is_none() || record.bytes_out > 0;
        if !record.cached
            && stored
            && let Some(key) = parse_key(&record.key)
        {
            let origin = rmp_serde::to_vec(&(run_id, record.seconds))
                .map_err(|err| StoreError::Io(err.to_string()))?;
            self.origins
                .insert(Self::checkpoint_key(&record.fingerprint, &key), origin)?;
        }
        Ok(())
    }

    /// What step `step` did to document `doc_id` in run `run_id`, if recorded.
    pub fn item_record(&self, run_id: &str, step: &str, doc_id: &str) -> Option<ItemRecord> {
        if let Some(record) = self.records.waiting_one(run_id, step, doc_id) {
            return Some(record);
        }
        match self.run_items(run_id) {
            Some(tree) => records::read_one(&tree, step, doc_id),
            None => {
                let bytes = self.items.get(Self::item_key(run_id, step, doc_id));
                rmp_serde::from_slice(&bytes.ok()??).ok()
            }
        }
    }

    /// The tree of run `run_id`'s item records, if it has one (runs recorded before such trees
    /// keep theirs in `items`). Never creates one.
    fn run_items(&self, run_id: &str) -> Option<sled::Tree> {
        let name = records::tree_name(run_id);
        let exists = self.db.tree_names().iter().any(|tree| **tree == *name);
        exists.then(|| self.db.open_tree(name).ok()).flatten()
    }

    /// The run that last computed output `key` of step `fingerprint` (a record not taken from
    /// a checkpoint), and the seconds it took there; unknown for outputs computed before the
    /// store kept this.
    pub fn origin(&self, fingerprint: &str, key: &Key) -> Option<(String, f64)> {
        let bytes = (self.origins)
            .get(Self::checkpoint_key(fingerprint, key))
            .ok()??;
        rmp_serde::from_slice(&bytes).ok()
    }

    /// The item records of a run as (step, doc_id, record), optionally for one step, ordered by
    /// step and doc id.
    pub fn item_records(
        &self,
        run_id: &str,
        step: Option<&str>,
    ) -> Result<Vec<(String, String, ItemRecord)>, StoreError> {
        // Waiting records first: one written meanwhile is then found twice, never missed.
        let waiting = self.records.waiting(run_id, step);
        let tree = self.run_items(run_id);
        if tree.is_none() && waiting.is_empty() {
            return self.item_records_of_layout_1(run_id, step);
        }
        let mut found = match tree {
            Some(tree) => records::read(&tree, step)?,
            None => Vec::new(),
        };
        found.extend(waiting);
        Ok(records::newest_of_each(found))
    }

    /// [`Store::item_records`] of a run recorded in the `items` tree of all runs.
    fn item_records_of_layout_1(
        &self,
        run_id: &str,
        step: Option<&str>,
    ) -> Result<Vec<(String, String, ItemRecord)>, StoreError> {
        let mut prefix = [run_id.as_bytes(), &[0]].concat();
        let skip = prefix.len();
        if let Some(step) = step {
            prefix.extend_from_slice(step.as_bytes());
            prefix.push(0);
        }
        let mut found = Vec::new();
        for entry in self.items.scan_prefix(&prefix) {
            let (key, value) = entry?;
            found.extend(records::one_entry_record(&key[skip..], &value));
        }
        Ok(found)
    }

    /// Removes runs `run_ids` with their item records; returns how many were there.
    pub fn remove_runs(&self, run_ids: &[String]) -> Result<u64, StoreError> {
        // The seal never names a run the database lacks: it moves to the newest run that stays.
        if seal::sealed_run(&self.dir).is_some_and(|sealed| run_ids.contains(&sealed)) {
            self.db.flush()?;
            let staying = (self.runs.iter().keys().rev())
                .filter_map(Result::ok)
                .map(|key| String::from_utf8_lossy(&key).into_owned())
                .find(|run_id| !run_ids.contains(run_id));
            seal::write(&self.dir, staying.as_deref())?;
        }
        let mut removed = 0;
        for run_id in run_ids {
            self.records.forget(run_id);
            // Emptied first: dropping a large tree whole holds every page it frees until it is
            // done (pruning five runs of 100,000 documents took 1 GB over the run's 490 MB).
            if let Some(items) = self.run_items(run_id) {
                items.clear()?;
            }
            self.db.drop_tree(records::tree_name(run_id))?;
            let mut prefix = run_id.as_bytes().to_vec();
            prefix.push(0);
            for item in self.items.scan_prefix(&prefix) {
                let (key, _) = item?;
                self.items.remove(key)?;
            }
            if self.runs.remove(run_id.as_bytes())?.is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes every checkpoint whose (fingerprint, key) is not in `live`, and where it was
    /// computed; returns (checkpoints removed, bytes freed).
    pub fn retain_checkpoints(
        &self,
        live: &HashSet<(String, String)>,
    ) -> Result<(u64, u64), StoreError> {
        retain_outputs(&self.origins, live)?;
        retain_outputs(&self.checkpoints, live)
    }

    /// Every stored output, encoded, in no particular order.
    pub fn checkpoint_values(&self) -> impl Iterator<Item = Result<sled::IVec, StoreError>> + '_ {
        self.checkpoints
            .iter()
            .map(|entry| entry.map(|(_, value)| value).map_err(StoreError::from))
    }

    /// Number of checkpoints and their total size in bytes.
    pub fn checkpoint_stats(&self) -> (u64, u64) {
        self.checkpoints
            .iter()
            .flatten()
            .fold((0, 0), |(count, bytes), (key, value)| {
                (count + 1, bytes + (key.len() + value.len()) as u64)
            })
    }

    /// Rewrites the database afresh, which gives back to the disk the space of removed records
    /// (sled keeps its files' size): the store again, with the database's bytes before and
    /// after. Without room on the disk for a copy, it is left as it is; a copy the disk runs
    /// short of room for stops (and is removed), and one that makes no progress for `patience`
    /// (a write the disk has no room for: sled waits for ever) ends the process, the next open
    /// removing the copy.
    pub fn compact(self, patience: std::time::Duration) -> Result<Compacted, StoreError> {
        let dir = self.dir.clone();
        let before = bytes_below(&dir.join("db"));
        let room = fs4::available_space(&dir)
            .is_ok_and(|available| available > before.saturating_add(MIN_FREE_BYTES));
        let left = |store, note: Option<&str>| Compacted {
            store,
            before,
            after: before,
            rewritten: false,
            note: note.map(str::to_owned),
        };
        if !room {
            return Ok(left(
                self,
                Some(
                    "the disk has no room for a copy of the store's database: it was not rewritten",
                ),
            ));
        }
        self.flush()?;
        let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stalled = format!(
            "the rewrite of the store {} made no progress for {} s (is its disk full?); stopping. The store is as it was: the next command removes the copy",
            dir.display(),
            patience.as_secs()
        );
        let copied = watched(&progress, patience, stalled, || {
            compact::copy_out(&dir, &self.db, MIN_FREE_BYTES, &progress)
        });
        match copied {
            Err(err) => {
                compact::recover(&dir)?;
                return Ok(left(self, Some(&err.to_string())));
            }
            Ok(false) => return Ok(left(self, None)),
            Ok(true) => {}
        }
        let Store {
            db,
            checkpoints,
            runs,
            items,
            vectors,
            vector_sizes,
            origins,
            due_writer,
            records,
            _lock: lock,
            dir: _,
        } = self;
        // Every tree holds the database open: all go before it is swapped (no record waits:
        // the flush before the copy wrote them).
        drop((
            due_writer,
            checkpoints,
            runs,
            items,
            vectors,
            vector_sizes,
            origins,
            records,
        ));
        drop(db);
        // The complete copy takes the old one's place.
        compact::recover(&dir)?;
        let store = Store::open_locked(&dir, lock)?;
        let after = bytes_below(&dir.join("db"));
        Ok(Compacted {
            store,
            before,
            after,
            rewritten: true,
            note: None,
        })
    }

    /// Whether a `gc` removed records from the database that no rewrite has given back to the
    /// disk yet (one was killed, or found no room): the next `gc` rewrites it even when it
    /// removes nothing.
    pub fn compaction_wanted(&self) -> bool {
        self.dir.join(COMPACTION_WANTED).exists()
    }

    /// Records whether a rewrite is wanted ([`Store::compaction_wanted`]); the mark is on disk
    /// before records are removed.
    pub fn want_compaction(&self, wanted: bool) -> Result<(), StoreError> {
        let mark = self.dir.join(COMPACTION_WANTED);
        let failed = |err: std::io::Error| StoreError::Io(format!("{}: {err}", mark.display()));
        if wanted {
            std::fs::File::create(&mark)
                .and_then(|file| file.sync_all())
                .map_err(failed)
        } else {
            crate::durable::remove(&mark).map_err(failed)
        }
    }

    /// Writes everything to disk, item records waiting for their block included, then seals
    /// the store with its newest run (see `seal`).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.records.write_all()?;
        self.db.flush()?;
        seal::write(&self.dir, self.newest_run_id()?.as_deref())
    }

    /// [`Store::flush`], or, when it has not returned after `patience`, the end of the process
    /// (exit 3) with a message: sled can wait for ever on a write that failed (a full disk),
    /// and the next run marks this one interrupted and resumes from what was written.
    pub fn flush_or_exit(&self, patience: std::time::Duration) -> Result<(), StoreError> {
        // Nothing counts progress: a flush that has not returned after `patience` stands still.
        let still = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stalled = format!(
            "the store {} could not be written in {} s (is its disk full?); stopping. The next run resumes from what was written.",
            self.dir.display(),
            patience.as_secs()
        );
        watched(&still, patience, stalled, || self.flush())
    }
}

/// A store after [`Store::compact`].
pub struct Compacted {
    /// The store, open again.
    pub store: Store,
    /// Bytes of its database on disk before.
    pub before: u64,
    /// And after.
    pub after: u64,
    /// Whether the copy took the database's place: not when it would not have been smaller.
    pub rewritten: bool,
    /// Why it could not be rewritten, when it could not.
    pub note: Option<String>,
}

/// Runs `work`, ending the process (exit 3) with `stalled` when `progress` stands still for
/// `patience`: sled waits for ever on a write the disk has no room for.
fn watched<T>(
    progress: &std::sync::Arc<std::sync::atomic::AtomicU64>,
    patience: std::time::Duration,
    stalled: String,
    work: impl FnOnce() -> T,
) -> T {
    use std::sync::atomic::Ordering;
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let progress = progress.clone();
    let watchdog = std::thread::spawn(move || {
        let mut seen = (progress.load(Ordering::Relaxed), std::time::Instant::now());
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            finished.recv_timeout(std::time::Duration::from_millis(200))
        {
            let now = progress.load(Ordering::Relaxed);
            if now != seen.0 {
                seen = (now, std::time::Instant::now());
            } else if seen.1.elapsed() >= patience {
                crate::failure::exit_now(&stalled, crate::failure::EXIT_COULD_NOT_RUN);
            }
        }
    });
    let result = work();
    drop(done);
    let _ = watchdog.join();
    result
}

/// Removes the entries of `tree`, keyed by output (`fingerprint \0 key`), whose output is not
/// in `live`; returns (entries removed, bytes freed).
fn retain_outputs(
    tree: &sled::Tree,
    live: &HashSet<(String, String)>,
) -> Result<(u64, u64), StoreError> {
    let (mut removed, mut bytes) = (0, 0);
    for entry in tree.iter() {
        let (key, value) = entry?;
        let Some(split) = key.iter().position(|byte| *byte == 0) else {
            continue;
        };
        let fingerprint = String::from_utf8_lossy(&key[..split]).into_owned();
        let output = hex(&key[split + 1..]);
        if !live.contains(&(fingerprint, output)) {
            tree.remove(&key)?;
            removed += 1;
            bytes += (key.len() + value.len()) as u64;
        }
    }
    Ok((removed, bytes))
}

/// Bytes of the files below `path` (of `path` itself when it is a file; 0 when it is not there).
pub fn bytes_below(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.metadata().ok())
        .filter(|meta| meta.is_file())
        .map(|meta| meta.len())
        .sum()
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Parses a hex key.
pub fn parse_key(text: &str) -> Option<Key> {
    if text.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, slot) in key.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store whose disk is nearly full is not opened (sled's writes while it opens could be
    /// cut short and damage it for good): the error says so and what to do.
    #[test]
    fn a_store_on_a_nearly_full_disk_is_not_opened() {
        let dir = Path::new("/data/store");
        assert!(enough_space(dir, MIN_FREE_BYTES).is_ok());
        let message = enough_space(dir, 3 << 19).unwrap_err().to_string();
        assert!(
            message.starts_with("cannot open the store /data/store: its disk has 1.5 MiB free")
                && message.contains("free some space and try again"),
            "{message}"
        );
    }

    /// A database sled cannot read says what to do, without sled's internal text.
    #[test]
    fn a_damaged_database_says_how_to_start_afresh() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let conf = dir.path().join("db/conf");
        std::fs::write(&conf, b"\x00garbage\xff").unwrap();
        let Err(err) = Store::open(dir.path()) else {
            panic!("sled read a damaged configuration");
        };
        let message = err.to_string();
        assert!(
            message.contains("checkpoint database cannot be read") && message.contains(".damaged`"),
            "{message}"
        );
        assert!(!message.contains("backtrace"), "{message}");
    }

    /// A database whose tail is lost (a crash on a file system that drops unflushed data, a
    /// copy cut short) is unreadable, said as such: sled panics on some (an index out of
    /// bounds), which ended every command with a backtrace and exit 101.
    #[test]
    fn a_database_cut_short_is_unreadable_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            for i in 0..12_000u32 {
                let mut key = [0u8; 32];
                key[..4].copy_from_slice(&i.to_le_bytes());
                store.put_vector(&key, &vec![i as f32; 384]).unwrap();
            }
            store.flush().unwrap();
        }
        // Its last 7 MiB of about 40 lost: sled's recovery panicked ("tried to serialize
        // Uninitialized"); some other cuts it recovers from.
        let file = dir.path().join("db/db");
        let size = std::fs::metadata(&file).unwrap().len();
        let cut = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
        cut.set_len(size.saturating_sub(7 << 20)).unwrap();
        drop(cut);
        if let Err(err) = Store::open(dir.path()) {
            let message = err.to_string();
            assert!(
                message.contains("checkpoint database cannot be read")
                    && message.contains(".damaged`"),
                "{message}"
            );
        }
    }

    /// A store whose runs are all saved and flushed, newest `r2`.
    fn store_with_two_runs(dir: &Path) {
        let store = Store::open(dir).unwrap();
        for run_id in ["r1", "r2"] {
            store.save_run(run_id, &serde_json::json!({})).unwrap();
        }
        store.flush().unwrap();
    }

    /// A database that opens as an older state (a damaged file sled recovers what it can of)
    /// is refused, naming the run it lost and what to do, where it used to open without a
    /// word: with no run history, `gc` kept nothing and the empty-source guard guarded nothing.
    /// Moved away as the message says, the store starts afresh.
    #[test]
    fn a_database_that_lost_its_newest_run_is_refused_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two_runs(dir.path());
        {
            let db = compact::open(&sled::Config::new().path(dir.path().join("db"))).unwrap();
            db.open_tree("runs").unwrap().remove("r2").unwrap();
            db.flush().unwrap();
        }
        let message = Store::open(dir.path()).err().unwrap().to_string();
        assert!(
            message.contains("no longer holds run r2") && message.contains(".damaged`"),
            "{message}"
        );
        std::fs::rename(dir.path().join("db"), dir.path().join("db.damaged")).unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.runs().unwrap().is_empty());
    }

    /// A database file emptied (cut short to nothing) is refused, not opened as a new store.
    #[test]
    fn an_emptied_database_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two_runs(dir.path());
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("db/db"))
            .unwrap();
        file.set_len(0).unwrap();
        drop(file);
        assert!(Store::open(dir.path()).is_err());
    }

    /// Removing the run the seal names moves the seal to the newest run that stays, so the
    /// store opens after it, however the process ends.
    #[test]
    fn removing_the_newest_run_leaves_a_store_that_opens() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two_runs(dir.path());
        {
            let store = Store::open(dir.path()).unwrap();
            store.remove_runs(&["r2".to_owned()]).unwrap();
            // Killed before a flush: sled writes what it has when dropped, as it would not
            // after a kill, so the seal must already be right.
            assert_eq!(seal::sealed_run(dir.path()).as_deref(), Some("r1"));
            store.remove_runs(&["r1".to_owned()]).unwrap();
            assert_eq!(seal::sealed_run(dir.path()), None);
        }
        assert!(Store::open(dir.path()).unwrap().runs().unwrap().is_empty());
    }

    /// A full disk is said in words, however sled passes the error on.
    #[test]
    fn a_full_disk_is_said_in_words() {
        let full = std::io::Error::from_raw_os_error(28);
        let wrapped = std::io::Error::other(format!("{full:?}"));
        for err in [full, wrapped] {
            let message = StoreError::from(sled::Error::Io(err)).to_string();
            assert!(message.contains("no space left on device"), "{message}");
            assert!(!message.contains("Os {"), "{message}");
        }
    }

    /// A store that cannot be written (another user's, a read-only mount) is said so in one line
    /// of words, with what to do, however the refusal comes.
    #[test]
    fn a_read_only_store_is_said_in_words() {
        let dir = Path::new(".engine");
        for err in [
            std::io::Error::from_raw_os_error(13),
            std::io::Error::from_raw_os_error(30),
            std::io::Error::other(format!("{:?}", std::io::Error::from_raw_os_error(13))),
        ] {
            let message = StoreError::opening(dir, &dir.join("lock"), &err).to_string();
            assert!(
                message.starts_with("the store .engine is read-only to this user (.engine/lock: "),
                "{message}"
            );
            assert!(
                message.contains("run this one as the store's owner"),
                "{message}"
            );
            assert!(
                !message.contains("Os {") && !message.contains('\n'),
                "{message}"
            );
            let message = StoreError::from(sled::Error::Io(err)).to_string();
            assert!(message.contains("cannot be written"), "{message}");
        }
        let other = std::io::Error::other(format!("{:?}", std::io::Error::from_raw_os_error(5)));
        let message = StoreError::from(sled::Error::Io(other)).to_string();
        assert_eq!(message, "store IO error: Input/output error (os error 5)");
    }

    #[test]
    fn checkpoints_persist_and_gc_keeps_only_live_entries() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.put_checkpoint("fpA", &[1; 32], b"one").unwrap();
            store.put_checkpoint("fpB", &[2; 32], b"two").unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.checkpoint("fpA", &[1; 32]).unwrap().as_deref(),
            Some(&b"one"[..])
        );
        let live = HashSet::from([("fpA".to_owned(), hex(&[1; 32]))]);
        assert_eq!(store.retain_checkpoints(&live).unwrap().0, 1);
        assert!(store.checkpoint("fpB", &[2; 32]).unwrap().is_none());
        assert_eq!(parse_key(&hex(&[7; 32])), Some([7; 32]));
    }

    /// A store records its layout, and one of a later layout is refused, naming what to do.
    #[test]
    fn a_store_of_a_later_layout_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        {
            // sled lets go of its lock from a thread of its own: this waits for it.
            let db = compact::open(&sled::Config::new().path(dir.path().join("db"))).unwrap();
            let meta = db.open_tree("meta").unwrap();
            assert_eq!(
                meta.get("format").unwrap().as_deref(),
                Some(&FORMAT.to_le_bytes()[..])
            );
            meta.insert("format", &(FORMAT + 1).to_le_bytes()).unwrap();
            db.flush().unwrap();
        }
        let err = Store::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("later version of the engine"), "{err}");
    }

    #[test]
    fn a_second_opener_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).err().unwrap();
        assert!(
            err.to_string()
                .contains(&format!("in use by process {}", std::process::id())),
            "{err}"
        );
    }

    #[test]
    fn item_records_are_listed_by_run_and_step() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let record = ItemRecord {
            fingerprint: "fp".into(),
            key: hex(&[3; 32]),
            cached: false,
            seconds: 0.5,
            bytes_in: 10,
            bytes_out: 20,
            error: None,
            warned: false,
        };
        store.record_item("r1", "parse", "a.md", &record).unwrap();
        store.record_item("r1", "chunk", "a.md", &record).unwrap();
        store.record_item("r2", "parse", "a.md", &record).unwrap();
        assert_eq!(store.item_records("r1", None).unwrap().len(), 2);
        let parse = store.item_records("r1", Some("parse")).unwrap();
        assert_eq!(
            parse,
            vec![("parse".to_owned(), "a.md".to_owned(), record.clone())]
        );
        assert_eq!(
            store.item_record("r1", "chunk", "a.md"),
            Some(record.clone())
        );
        assert_eq!(store.item_record("r1", "chunk", "b.md"), None);
        // A run's records go with its tree; a run recorded before runs had trees (in `items`)
        // is read and removed as well.
        let named = rmp_serde::to_vec_named(&record).unwrap();
        (store.items)
            .insert(Store::item_key("r0", "parse", "a.md"), named)
            .unwrap();
        assert_eq!(store.item_records("r0", None).unwrap().len(), 1);
        assert_eq!(store.item_record("r0", "parse", "a.md"), Some(record));
        for run_id in ["r0", "r1"] {
            store.save_run(run_id, &serde_json::json!({})).unwrap();
        }
        let runs = ["r0".to_owned(), "r1".to_owned()];
        assert_eq!(store.remove_runs(&runs).unwrap(), 2);
        assert!(store.item_records("r0", None).unwrap().is_empty());
        assert!(store.item_records("r1", None).unwrap().is_empty());
        assert!(store.run_items("r1").is_none(), "the run's tree is gone");
        assert_eq!(store.item_records("r2", None).unwrap().len(), 1);
    }

    /// Records waiting for their block are written when the store closes, and a store
    /// reopened reads them with those written before, in blocks or one entry each.
    #[test]
    fn item_records_outlive_the_store_that_made_them() {
        let dir = tempfile::tempdir().unwrap();
        let record = |key: u8| ItemRecord {
            fingerprint: "fp".into(),
            key: hex(&[key; 32]),
            cached: true,
            seconds: 0.0,
            bytes_in: 1,
            bytes_out: 2,
            error: None,
            warned: false,
        };
        {
            let store = Store::open(dir.path()).unwrap();
            for n in 0..300u32 {
                let doc = format!("d{n:03}");
                store.record_item("r1", "parse", &doc, &record(1)).unwrap();
            }
            // A store of layout 2 held one entry a record.
            let tree = store.db.open_tree(records::tree_name("r1")).unwrap();
            let named = rmp_serde::to_vec_named(&record(2)).unwrap();
            tree.insert(b"chunk\0d000", named).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let all = store.item_records("r1", None).unwrap();
        assert_eq!(all.len(), 301);
        assert_eq!(all[0], ("chunk".into(), "d000".into(), record(2)));
        assert_eq!(store.item_record("r1", "parse", "d299"), Some(record(1)));
        assert_eq!(store.item_record("r1", "chunk", "d000"), Some(record(2)));
        // A later record of the same item takes the earlier one's place.
        store
            .record_item("r1", "parse", "d299", &record(3))
            .unwrap();
        assert_eq!(store.item_record("r1", "parse", "d299"), Some(record(3)));
        let parse = store.item_records("r1", Some("parse")).unwrap();
        assert_eq!(parse.len(), 300);
        assert_eq!(parse[299].2, record(3));
    }

    /// A computed output's run is remembered under its checkpoint's key; a cached or failed
    /// record leaves it, and `gc`'s pruning of checkpoints drops it with them.
    #[test]
    fn where_an_output_was_computed_is_kept_until_its_checkpoint_goes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let computed = |key: u8| ItemRecord {
            fingerprint: "fp".into(),
            key: hex(&[key; 32]),
            cached: false,
            seconds: 0.25,
            bytes_in: 1,
            bytes_out: 1,
            error: None,
            warned: false,
        };
        store
            .record_item("r1", "parse", "a.md", &computed(1))
            .unwrap();
        store
            .record_item("r1", "parse", "b.md", &computed(2))
            .unwrap();
        let cached = ItemRecord {
            cached: true,
            seconds: 0.0,
            ..computed(1)
        };
        store.record_item("r2", "parse", "a.md", &cached).unwrap();
        // A failure that was not stored has no origin; a stored (final) one does.
        let failed = ItemRecord {
            error: Some("bad".into()),
            bytes_out: 0,
            ..computed(1)
        };
        store.record_item("r3", "parse", "a.md", &failed).unwrap();
        assert_eq!(store.origin("fp", &[1; 32]), Some(("r1".to_owned(), 0.25)));
        assert_eq!(store.origin("fp", &[3; 32]), None);
        let stored_failure = ItemRecord {
            key: hex(&[4; 32]),
            bytes_out: 40,
            ..failed
        };
        store
            .record_item("r3", "parse", "c.md", &stored_failure)
            .unwrap();
        assert_eq!(store.origin("fp", &[4; 32]), Some(("r3".to_owned(), 0.25)));
        let live = HashSet::from([("fp".to_owned(), hex(&[1; 32]))]);
        store.retain_checkpoints(&live).unwrap();
        assert!(store.origin("fp", &[1; 32]).is_some());
        assert_eq!(store.origin("fp", &[2; 32]), None);
        // The rewrite of the database keeps them, and lets go of the old one whole.
        let patience = std::time::Duration::from_secs(60);
        let store = store.compact(patience).unwrap().store;
        assert_eq!(store.origin("fp", &[1; 32]), Some(("r1".to_owned(), 0.25)));
        store
            .record_item("r4", "parse", "b.md", &computed(2))
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.origin("fp", &[2; 32]), Some(("r4".to_owned(), 0.25)));
        assert_eq!(store.item_records("r1", None).unwrap().len(), 2);
    }
}
