//! A run's item records, kept in its tree `items/<run id>` in blocks of up to [`BLOCK_RECORDS`]
//! of one step: sled spends about 500 bytes of disk on an entry whatever its size, so one entry
//! a record made an unchanged re-run of 100,000 documents through four steps grow the store by
//! 262 MB (in blocks: 67 MB; blocks of 256 or more records made sled write many blob files).
//! Records wait in memory until their block is full or [`BLOCK_AGE`] old, whether or not
//! other records come (a step that records nothing for a while, an `embed` on its next batch,
//! left the blocks of the others waiting: a run killed 25 s on had no record of outputs it
//! stored at 5 s, and `gc` then dropped them). A block is also written by
//! [`RecordBlocks::write_all`], which every flush of the store calls. A process killed outright
//! loses the records of about its last second (sled, its writes of the last 200 ms). Readers
//! see waiting records as written ones.
//!
//! A block's key is `0xFF, step, 0, id` (the id from sled's counter, so later blocks sort after
//! earlier ones of their step); stores of layout 2 hold one entry a record, under `step, 0, doc
//! id`, which are read as they are. No step name starts with byte 0xFF (not UTF-8).

use std::collections::HashMap;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::{ItemRecord, Key, StoreError, hex, parse_key};

/// Most records in a block (about 8 KB encoded).
pub const BLOCK_RECORDS: usize = 128;

/// Longest a record waits for its block to fill while other records are being made.
pub const BLOCK_AGE: Duration = Duration::from_secs(1);

/// The first byte of a block's key.
const BLOCK_MARK: u8 = 0xFF;

/// (step, doc id, record): what one step did to one document.
pub type Recorded = (String, String, ItemRecord);

/// The thread that writes the due blocks of a [`RecordBlocks`] a few times a [`BLOCK_AGE`];
/// stopped, and waited for, when dropped, so that the blocks (and their database) are not
/// held past their store.
pub struct DueWriter {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for DueWriter {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The name of the tree of run `run_id`'s item records.
pub fn tree_name(run_id: &str) -> Vec<u8> {
    [b"items/", run_id.as_bytes()].concat()
}

/// Records not yet in a block of the database, by (run id, step).
pub struct RecordBlocks {
    db: sled::Db,
    waiting: Mutex<HashMap<(String, String), Waiting>>,
}

/// The records of one run's step that wait for their block.
struct Waiting {
    since: Instant,
    records: Vec<(String, ItemRecord)>,
}

impl RecordBlocks {
    /// Blocks written to `db` as records come, or by [`RecordBlocks::write_all`]; see
    /// [`RecordBlocks::write_when_due`] for the rest.
    pub fn new(db: sled::Db) -> Arc<Self> {
        Arc::new(RecordBlocks {
            db,
            waiting: Mutex::new(HashMap::new()),
        })
    }

    /// A thread that writes each block at the latest about [`BLOCK_AGE`] after its first
    /// record, whether or not other records come, until the returned writer is dropped.
    pub fn write_when_due(self: &Arc<Self>) -> DueWriter {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let blocks = Arc::clone(self);
        let thread = std::thread::Builder::new()
            .name("record-blocks".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(BLOCK_AGE / 4) {
                    // A block that cannot be written now is lost as a killed run's last
                    // records are.
                    let _ = blocks.write_due(&mut blocks.lock());
                }
            });
        DueWriter {
            stop: Some(stop),
            thread: thread.ok(),
        }
    }

    /// Adds a record of run `run_id`; writes its block when full, and any other block that
    /// has waited [`BLOCK_AGE`].
    pub fn add(
        &self,
        run_id: &str,
        step: &str,
        doc_id: &str,
        record: ItemRecord,
    ) -> Result<(), StoreError> {
        let mut waiting = self.lock();
        let block =
            (waiting.entry((run_id.to_owned(), step.to_owned()))).or_insert_with(|| Waiting {
                since: Instant::now(),
                records: Vec::new(),
            });
        block.records.push((doc_id.to_owned(), record));
        self.write_due(&mut waiting)
    }

    /// Writes the blocks that are full or have waited [`BLOCK_AGE`], while the lock is held,
    /// so that a reader finds every record in one place or the other.
    fn write_due(
        &self,
        waiting: &mut HashMap<(String, String), Waiting>,
    ) -> Result<(), StoreError> {
        let due: Vec<(String, String)> = (waiting.iter())
            .filter(|(_, block)| {
                block.records.len() >= BLOCK_RECORDS || block.since.elapsed() >= BLOCK_AGE
            })
            .map(|(run_and_step, _)| run_and_step.clone())
            .collect();
        for run_and_step in due {
            if let Some(block) = waiting.remove(&run_and_step) {
                self.write(&run_and_step, block)?;
            }
        }
        Ok(())
    }

    /// Writes every waiting block.
    pub fn write_all(&self) -> Result<(), StoreError> {
        let mut waiting = self.lock();
        for (run_and_step, block) in waiting.drain() {
            self.write(&run_and_step, block)?;
        }
        Ok(())
    }

    /// Drops the waiting records of run `run_id`.
    pub fn forget(&self, run_id: &str) {
        self.lock().retain(|(run, _), _| run != run_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Waiting>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self, (run_id, step): &(String, String), block: Waiting) -> Result<(), StoreError> {
        let tree = self.db.open_tree(tree_name(run_id))?;
        let key = [
            &[BLOCK_MARK],
            step.as_bytes(),
            &[0],
            &self.db.generate_id()?.to_be_bytes(),
        ]
        .concat();
        tree.insert(key, encode(&block.records)?)?;
        Ok(())
    }

    /// The waiting records of run `run_id` (of step `step` only, when given), in the order
    /// they came.
    pub fn waiting(&self, run_id: &str, step: Option<&str>) -> Vec<Recorded> {
        let waiting = self.lock();
        let mut found = Vec::new();
        for ((run, of_step), block) in waiting.iter() {
            if run != run_id || step.is_some_and(|step| step != of_step) {
                continue;
            }
            found.extend(
                (block.records.iter())
                    .map(|(doc_id, record)| (of_step.clone(), doc_id.clone(), record.clone())),
            );
        }
        found
    }

    /// The newest waiting record of what step `step` did to `doc_id` in run `run_id`.
    pub fn waiting_one(&self, run_id: &str, step: &str, doc_id: &str) -> Option<ItemRecord> {
        let waiting = self.lock();
        let block = waiting.get(&(run_id.to_owned(), step.to_owned()))?;
        let mut records = block.records.iter().rev();
        records
            .find(|(doc, _)| doc == doc_id)
            .map(|(_, record)| record.clone())
    }
}

impl Drop for RecordBlocks {
    fn drop(&mut self) {
        let _ = self.write_all();
    }
}

/// The records in `tree` (a run's), of step `step` only when given, oldest first as far as the
/// layout tells: one-entry records (layout 2), then each step's blocks in the order written.
/// [`newest_of_each`] makes them one a (step, doc id).
pub fn read(tree: &sled::Tree, step: Option<&str>) -> Result<Vec<Recorded>, StoreError> {
    let mut found = Vec::new();
    let single_prefix = step.map_or_else(Vec::new, |step| [step.as_bytes(), &[0]].concat());
    for entry in tree.scan_prefix(&single_prefix) {
        let (key, value) = entry?;
        if key.first() == Some(&BLOCK_MARK) {
            break;
        }
        found.extend(one_entry_record(&key, &value));
    }
    let block_prefix = step.map_or_else(|| vec![BLOCK_MARK], block_prefix);
    for entry in tree.scan_prefix(&block_prefix) {
        let (key, value) = entry?;
        let Some(step) = block_step(&key) else {
            continue;
        };
        if let Ok(records) = decode(&value) {
            found.extend(
                records
                    .into_iter()
                    .map(|(doc, record)| (step.clone(), doc, record)),
            );
        }
    }
    Ok(found)
}

/// A record stored as one entry (layouts 1 and 2): `key` is `step, 0, doc id` (past the run id
/// in layout 1), `value` the record, its fields named; `None` when it cannot be read.
pub fn one_entry_record(key: &[u8], value: &[u8]) -> Option<Recorded> {
    let mut parts = key.splitn(2, |byte| *byte == 0);
    let step = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let doc_id = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let record = rmp_serde::from_slice(value).ok()?;
    Some((step, doc_id, record))
}

/// The newest record in `tree` (a run's) of what step `step` did to `doc_id`.
pub fn read_one(tree: &sled::Tree, step: &str, doc_id: &str) -> Option<ItemRecord> {
    for entry in tree.scan_prefix(block_prefix(step)).rev() {
        let Ok((_, value)) = entry else {
            continue;
        };
        // Only a block that holds the document is decoded whole (at 100,000 documents, decoding
        // every block of a step took most of `inspect --doc`'s 0.6 s).
        if !holds(&value, doc_id) {
            continue;
        }
        let Ok(records) = decode(&value) else {
            continue;
        };
        let mut records = records.into_iter().rev();
        if let Some((_, record)) = records.find(|(doc, _)| doc == doc_id) {
            return Some(record);
        }
    }
    let single = tree.get([step.as_bytes(), doc_id.as_bytes()].join(&0u8));
    rmp_serde::from_slice(&single.ok()??).ok()
}

/// `records` (in the order they were made) by step and doc id, the newest of each kept.
pub fn newest_of_each(mut records: Vec<Recorded>) -> Vec<Recorded> {
    // Stable: of one (step, doc id), the newest stays last.
    records.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut newest: Vec<Recorded> = Vec::with_capacity(records.len());
    for record in records {
        match newest.last_mut() {
            Some(last) if last.0 == record.0 && last.1 == record.1 => *last = record,
            _ => newest.push(record),
        }
    }
    newest
}

fn block_prefix(step: &str) -> Vec<u8> {
    [&[BLOCK_MARK], step.as_bytes(), &[0]].concat()
}

/// The step of a block's key.
fn block_step(key: &[u8]) -> Option<String> {
    let rest = key.strip_prefix(&[BLOCK_MARK])?;
    let end = rest.iter().position(|byte| *byte == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// A block as stored: the fingerprint most of its records have, each record (positional), and
/// the output keys, 32 bytes each, of the records whose key is one (half the size of its hex).
#[derive(Serialize, Deserialize)]
struct Block {
    fingerprint: String,
    records: Vec<Entry>,
    keys: KeyBytes,
}

/// One record of a [`Block`]: doc id, its fingerprint when not the block's, its key as written
/// when not the next of the block's keys (a sink's, empty), then [`ItemRecord`]'s other fields
/// in order.
#[derive(Serialize, Deserialize)]
struct Entry(
    String,
    Option<String>,
    Option<String>,
    bool,
    f64,
    u64,
    u64,
    Option<String>,
    bool,
);

/// Output keys one after another, stored as MessagePack binary (serde's `Vec<u8>` would be an
/// array of numbers, up to twice the size).
#[derive(Default)]
struct KeyBytes(Vec<u8>);

impl Serialize for KeyBytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for KeyBytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = KeyBytes;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("output keys as bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<KeyBytes, E> {
                Ok(KeyBytes(bytes.to_vec()))
            }
        }
        deserializer.deserialize_bytes(Visitor)
    }
}

fn encode(records: &[(String, ItemRecord)]) -> Result<Vec<u8>, StoreError> {
    let fingerprint = (records.first()).map_or_else(String::new, |(_, r)| r.fingerprint.clone());
    let mut keys = KeyBytes::default();
    let records = (records.iter())
        .map(|(doc_id, r)| {
            // A key that reads back the same from its bytes goes as its bytes.
            let binary = parse_key(&r.key).filter(|key| hex(key) == r.key);
            if let Some(key) = &binary {
                keys.0.extend_from_slice(key);
            }
            Entry(
                doc_id.clone(),
                (r.fingerprint != fingerprint).then(|| r.fingerprint.clone()),
                binary.is_none().then(|| r.key.clone()),
                r.cached,
                r.seconds,
                r.bytes_in,
                r.bytes_out,
                r.error.clone(),
                r.warned,
            )
        })
        .collect();
    let block = Block {
        fingerprint,
        records,
        keys,
    };
    rmp_serde::to_vec(&block).map_err(|err| StoreError::Io(err.to_string()))
}

/// A [`Block`] read for its doc ids alone, borrowed, the rest skipped.
#[derive(Deserialize)]
struct BlockDocs<'a>(IgnoredAny, #[serde(borrow)] Vec<EntryDoc<'a>>, IgnoredAny);

/// An [`Entry`] read for its doc id alone.
#[derive(Deserialize)]
struct EntryDoc<'a>(
    &'a str,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
);

/// Whether the block `bytes` holds a record of `doc_id` (a block that cannot be read, too: its
/// decoding says so).
fn holds(bytes: &[u8], doc_id: &str) -> bool {
    match rmp_serde::from_slice::<BlockDocs>(bytes) {
        Ok(BlockDocs(_, docs, _)) => docs.iter().any(|entry| entry.0 == doc_id),
        Err(_) => true,
    }
}

fn decode(bytes: &[u8]) -> Result<Vec<(String, ItemRecord)>, rmp_serde::decode::Error> {
    let block: Block = rmp_serde::from_slice(bytes)?;
    let mut keys = block.keys.0.chunks_exact(std::mem::size_of::<Key>());
    let records = (block.records.into_iter())
        .map(|entry| {
            let Entry(
                doc_id,
                fingerprint,
                key,
                cached,
                seconds,
                bytes_in,
                bytes_out,
                error,
                warned,
            ) = entry;
            // A block short of keys (damaged) gives empty ones rather than failing whole.
            let key = key.unwrap_or_else(|| keys.next().map(hex).unwrap_or_default());
            let record = ItemRecord {
                fingerprint: fingerprint.unwrap_or_else(|| block.fingerprint.clone()),
                key,
                cached,
                seconds,
                bytes_in,
                bytes_out,
                error,
                warned,
            };
            (doc_id, record)
        })
        .collect();
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fingerprint: &str, key: &str, error: Option<&str>) -> ItemRecord {
        ItemRecord {
            fingerprint: fingerprint.into(),
            key: key.into(),
            cached: error.is_none(),
            seconds: 0.25,
            bytes_in: 10,
            bytes_out: 20,
            error: error.map(str::to_owned),
            warned: error.is_some(),
        }
    }

    #[test]
    fn a_block_reads_back_every_field_of_every_record() {
        let key = hex(&[0xab; 32]);
        let records = vec![
            ("a.md".to_owned(), record("fp1", &key, None)),
            ("b.md".to_owned(), record("fp2", "", Some("bad"))),
            ("c.md".to_owned(), record("fp1", "11", None)),
            ("d.md".to_owned(), record("fp1", &key.to_uppercase(), None)),
            ("e.md".to_owned(), record("fp1", &hex(&[7; 32]), None)),
        ];
        let bytes = encode(&records).unwrap();
        assert_eq!(decode(&bytes).unwrap(), records);
        assert!(holds(&bytes, "c.md") && !holds(&bytes, "f.md"));
    }

    #[test]
    fn output_keys_take_their_bytes_not_their_hex() {
        let records: Vec<(String, ItemRecord)> = (0..100u8)
            .map(|n| (format!("d{n}"), record("fp", &hex(&[n; 32]), None)))
            .collect();
        let bytes = encode(&records).unwrap();
        assert!(bytes.len() < 100 * 64, "{} bytes", bytes.len());
        assert_eq!(decode(&bytes).unwrap(), records);
    }

    #[test]
    fn the_newest_record_of_an_item_wins_and_the_order_is_step_then_doc() {
        let made = vec![
            ("parse".into(), "b".into(), record("f", "1", None)),
            ("chunk".into(), "a".into(), record("f", "2", None)),
            ("parse".into(), "b".into(), record("f", "3", None)),
            ("parse".into(), "a".into(), record("f", "4", None)),
        ];
        let keys: Vec<(String, String, String)> = (newest_of_each(made).into_iter())
            .map(|(step, doc, record)| (step, doc, record.key))
            .collect();
        let expected = [
            ("chunk", "a", "2"),
            ("parse", "a", "4"),
            ("parse", "b", "3"),
        ];
        let expected: Vec<(String, String, String)> = (expected.iter())
            .map(|(s, d, k)| (s.to_string(), d.to_string(), k.to_string()))
            .collect();
        assert_eq!(keys, expected);
    }

    #[test]
    fn records_wait_until_their_block_fills_and_are_read_from_both_places() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let blocks = RecordBlocks::new(db.clone());
        for n in 0..BLOCK_RECORDS + 3 {
            let key = n.to_string();
            blocks
                .add("r1", "parse", &format!("d{n:04}"), record("f", &key, None))
                .unwrap();
        }
        let tree = db.open_tree(tree_name("r1")).unwrap();
        assert_eq!(tree.len(), 1, "one full block written, three records wait");
        assert_eq!(read(&tree, Some("parse")).unwrap().len(), BLOCK_RECORDS);
        assert_eq!(blocks.waiting("r1", None).len(), 3);
        let last = format!("d{:04}", BLOCK_RECORDS + 2);
        assert_eq!(blocks.waiting_one("r1", "parse", &last).unwrap().key, "130");
        assert_eq!(read_one(&tree, "parse", "d0005").unwrap().key, "5");
        assert!(read_one(&tree, "chunk", "d0005").is_none());
        blocks.write_all().unwrap();
        assert_eq!(read(&tree, None).unwrap().len(), BLOCK_RECORDS + 3);
        assert!(blocks.waiting("r1", None).is_empty());
    }

    #[test]
    fn a_block_that_waited_long_enough_is_written_by_the_next_record() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let blocks = RecordBlocks::new(db.clone());
        blocks
            .add("r1", "parse", "a", record("f", "1", None))
            .unwrap();
        std::thread::sleep(BLOCK_AGE + Duration::from_millis(50));
        blocks
            .add("r1", "chunk", "a", record("g", "2", None))
            .unwrap();
        let tree = db.open_tree(tree_name("r1")).unwrap();
        assert_eq!(read(&tree, Some("parse")).unwrap().len(), 1);
        assert_eq!(blocks.waiting("r1", Some("chunk")).len(), 1);
    }

    /// A step that records nothing for a while (an `embed` on its next batch) left the
    /// blocks of the others waiting until any record came: a run killed meanwhile lost them.
    #[test]
    fn a_block_is_written_when_due_though_no_other_record_comes() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let blocks = RecordBlocks::new(db.clone());
        let _writer = blocks.write_when_due();
        blocks
            .add("r1", "embed", "a", record("f", "1", None))
            .unwrap();
        let tree = db.open_tree(tree_name("r1")).unwrap();
        let deadline = Instant::now() + 20 * BLOCK_AGE;
        while read(&tree, Some("embed")).unwrap().is_empty() {
            assert!(Instant::now() < deadline, "the block was never written");
            std::thread::sleep(BLOCK_AGE / 10);
        }
        assert!(blocks.waiting("r1", None).is_empty());
    }

    #[test]
    fn records_of_the_one_entry_a_record_layout_are_read_beside_blocks() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree(tree_name("r1")).unwrap();
        let old = rmp_serde::to_vec_named(&record("f", "old", None)).unwrap();
        tree.insert(b"parse\0a.md", old).unwrap();
        let blocks = RecordBlocks::new(db.clone());
        blocks
            .add("r1", "parse", "b.md", record("f", "new", None))
            .unwrap();
        blocks.write_all().unwrap();
        let mut docs: Vec<String> = (read(&tree, Some("parse")).unwrap().into_iter())
            .map(|(_, doc, _)| doc)
            .collect();
        docs.sort();
        assert_eq!(docs, ["a.md", "b.md"]);
        assert_eq!(read(&tree, None).unwrap().len(), 2);
        assert_eq!(read_one(&tree, "parse", "a.md").unwrap().key, "old");
    }
}
