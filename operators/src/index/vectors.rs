//! The vector half of the hybrid index: an hnsw_rs graph (cosine) over every chunk vector, with
//! tombstones for removed chunks (HNSW cannot delete) filtered at query time and a rebuild once
//! they pass a threshold. A rebuild drops the tombstoned vectors for good; point ids stay
//! stable across it (the vectors are kept in point order, found by binary search), so the text
//! index never changes because of one.
//!
//! The graph holds each vector scaled to length 1 and measures [`UnitCosine`] distance. A
//! vector without direction (all zeros, e.g. the hash embedder's vector of a chunk without a
//! word) is kept under its point id but stays out of the graph: it has no cosine with anything.
//!
//! Inserted vectors wait until [`VectorIndex::commit`] (which saving does) and then go into the
//! graph together, on every core. A long build saves its progress now and then, and when asked
//! to stop, into [`BuildCheckpoints`]: the graph so far and the points still to insert, which
//! [`VectorIndex::load`] reads back to go on from there.
//!
//! HNSW's neighbour pruning can leave a point that no link leads to (feature-hashed vectors,
//! nearly orthogonal to each other, left 31 of 1,090): no search would ever return it. After
//! each commit the points the links do not reach are found, and every search scores them
//! directly. A search narrowed to a few allowed points, or asking for nearly all of them, is
//! exact.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hnsw_rs::api::AnnT;
use hnsw_rs::prelude::{Hnsw, HnswIo};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::distance::{UnitCosine, dot, length, unit};
use super::{IndexConfig, IndexError};
use crate::caught::catch_quietly;

const MAX_LAYER: usize = 16;
const BASENAME: &str = "hnsw";
/// The graph's distance as saved; a graph saved without it (hnsw_rs's `DistCosine` over raw
/// vectors, before this format) is rebuilt from the vectors when loaded.
const DISTANCE: &str = "unit-cosine";
/// Points scaled and inserted together by one parallel insert (a stop request is seen between
/// any two inserts); checkpoints are saved between two. Blocks of 1,024 or 4,096 built 10 to 15%
/// slower.
const INSERT_BLOCK: usize = 8192;
/// Points a graph gets one at a time before inserts go parallel.
const SERIAL_START: usize = 256;
/// A search allowed at most this many points scores them all instead of walking the graph.
const EXACT_AMONG: usize = 2048;
/// How many points a scan scores in the time a graph walk computes one distance (see
/// [`walk_is_cheaper`]).
const WALK_COST: usize = 6;
/// Names the complete checkpoint of the two a build alternates between.
const LATEST_CHECKPOINT: &str = "LATEST";
/// How often a long graph build saves its progress (a save of 100,000 points of 384 dimensions
/// writes about 350 MB, a second or so).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);

/// What is saved beside the graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct VectorMeta {
    dimensions: usize,
    /// Vectors stored (in `vectors.f32`).
    points: usize,
    /// The point id of each stored vector, ascending; absent in indexes saved before rebuilds
    /// dropped vectors, where the ids are `0..points`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ids: Option<Vec<usize>>,
    /// The id the next inserted vector gets (absent: `points`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_id: Option<usize>,
    /// Point ids of the stored vectors that are tombstones.
    dead: Vec<usize>,
    graph: Option<String>,
    #[serde(default)]
    distance: Option<String>,
    /// The points in the graph that its links do not reach (absent in indexes saved before
    /// they were tracked: found again on load).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unreached: Option<Vec<usize>>,
    /// BLAKE3 of the graph's files as saved (absent in indexes saved before): hnsw_rs ends the
    /// process on some damage to them, so they are checked before it reads them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    graph_digest: Option<String>,
    /// Point ids of stored vectors not in the graph yet, in the order they go in (a build's
    /// checkpoint).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pending: Vec<usize>,
}

impl VectorMeta {
    /// Whether the graph saved with this meta in `dir` can be loaded as it is: in the current
    /// format and, when its digest was saved, undamaged.
    fn graph_usable(&self, dir: &Path) -> bool {
        let Some(basename) = &self.graph else {
            return false;
        };
        self.distance.as_deref() == Some(DISTANCE)
            && self.graph_digest.as_ref().is_none_or(|digest| {
                graph_digest(dir, basename).is_ok_and(|found| found == *digest)
            })
    }
}

/// BLAKE3 of the graph and data files hnsw_rs dumped as `basename` in `dir`.
fn graph_digest(dir: &Path, basename: &str) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    for suffix in ["hnsw.graph", "hnsw.data"] {
        let mut file = fs::File::open(dir.join(format!("{basename}.{suffix}")))?;
        let length = file.metadata()?.len();
        hasher.update(&length.to_le_bytes());
        std::io::copy(&mut file, &mut hasher)?;
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// The vectors added since the last rebuild (live and tombstoned), their graph and their
/// tombstones. Slot `s` holds point `ids[s]`.
pub struct VectorIndex {
    dimensions: usize,
    vectors: Vec<f32>,
    /// The point id of each slot, ascending.
    ids: Vec<usize>,
    /// Whether each slot is a tombstone.
    dead: Vec<bool>,
    /// The id the next inserted vector gets.
    next_id: usize,
    graph: Option<Hnsw<'static, f32, UnitCosine>>,
    /// Points inserted since the last commit, not yet in the graph.
    pending: Vec<usize>,
    /// Points in the graph that its links do not reach, ascending.
    unreached: Vec<usize>,
    m: usize,
    ef_construction: usize,
    /// Whether [`VectorIndex::load`] found a graph of an older format, or damaged, and rebuilt
    /// it.
    rebuilt_on_load: bool,
    /// The graph saved where [`VectorIndex::open`] read the vectors, read when a search first
    /// walks it.
    saved_graph: Option<SavedGraph>,
    /// Set when the graph being built will not be kept ([`crate::stop`]): a commit stops.
    stop: &'static AtomicBool,
    /// Points inserted into the graph by one parallel insert ([`INSERT_BLOCK`]).
    insert_block: usize,
    /// Where a build saves its progress, if anywhere.
    checkpoints: Option<BuildCheckpoints>,
    /// Tests: asks to stop once this many blocks are in the graph.
    #[cfg(test)]
    stop_after_blocks: Option<usize>,
    /// Tests: asks to stop once this many points are in the graph.
    #[cfg(test)]
    stop_after_points: Option<usize>,
    /// Tests: points inserted so far.
    #[cfg(test)]
    inserted: std::sync::atomic::AtomicUsize,
}

/// Where a graph build saves its progress, and how often: into one of two folders under `dir`
/// in turn, `dir/LATEST` naming the last complete one, so that a save cut short leaves the one
/// before. A build saves after a block of inserts once `every` has passed since it began or
/// last saved, and when it is asked to stop.
#[derive(Debug, Clone)]
pub struct BuildCheckpoints {
    /// The folder the checkpoints go in.
    pub dir: PathBuf,
    /// The time between two saves.
    pub every: Duration,
}

impl BuildCheckpoints {
    /// The folder of the last complete checkpoint under `dir`, if there is one.
    pub fn latest(dir: &Path) -> Option<PathBuf> {
        let name = fs::read_to_string(dir.join(LATEST_CHECKPOINT)).ok()?;
        let name = name.trim();
        let folder = dir.join(name);
        (matches!(name, "a" | "b") && folder.join("vectors.json").exists()).then_some(folder)
    }
}

/// The description [`VectorIndex::save`] wrote in `dir`, when it reads.
fn saved_meta(dir: &Path) -> Option<VectorMeta> {
    let bytes = fs::read(dir.join("vectors.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The length of a vector, at least the smallest positive f32 (so it can divide).
pub fn norm(vector: &[f32]) -> f32 {
    dot(vector, vector).sqrt().max(f32::MIN_POSITIVE)
}

/// Whether every f32 of the vectors file at `path` is finite, read a block at a time.
fn all_finite(path: &Path) -> io::Result<bool> {
    let mut reader = io::BufReader::with_capacity(1 << 20, fs::File::open(path)?);
    let mut value = [0u8; 4];
    loop {
        match reader.read_exact(&mut value) {
            Ok(()) if f32::from_le_bytes(value).is_finite() => {}
            Ok(()) => return Ok(false),
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(true),
            Err(err) => return Err(err),
        }
    }
}

/// What a vectors file of the wrong size is.
const SIZE_MISMATCH: &str = "size does not match the point count";

fn io_error(what: &str, path: &Path, err: impl std::fmt::Display) -> IndexError {
    IndexError::new(format!("{what} {}: {err}", path.display()))
}

/// The graph of the vectors.
type Graph = Hnsw<'static, f32, UnitCosine>;

/// Points found, with their cosine similarity to a query.
type Scored = Vec<(usize, f32)>;

/// A graph [`VectorIndex::open`] left on disk: searches that score every candidate (a narrow
/// filter, a small index) never need it, and loading it is most of a vector query's start at
/// 100,000 chunks.
struct SavedGraph {
    dir: PathBuf,
    /// What was saved beside the vectors about the graph.
    meta: VectorMeta,
    /// Whether the graph's files are in this version's format and undamaged (read once).
    usable: OnceLock<bool>,
    /// The graph and the points its links do not reach, once loaded (`None`: it is not usable,
    /// or could not be loaded: searches then score every candidate).
    loaded: OnceLock<Option<(Graph, Vec<usize>)>>,
}

impl SavedGraph {
    fn usable(&self) -> bool {
        *self
            .usable
            .get_or_init(|| self.meta.graph_usable(&self.dir))
    }

    fn loaded(&self) -> Option<(&Graph, &[usize])> {
        let loaded = self.loaded.get_or_init(|| {
            let basename = self.meta.graph.as_deref().filter(|_| self.usable())?;
            let graph = load_graph(&self.dir, basename).ok()?;
            let unreached = match &self.meta.unreached {
                Some(saved) => saved.clone(),
                None => unreached(&graph),
            };
            Some((graph, unreached))
        });
        loaded
            .as_ref()
            .map(|(graph, unreached)| (graph, unreached.as_slice()))
    }
}

impl VectorIndex {
    /// An empty index for vectors of `dimensions` values.
    pub fn new(dimensions: usize, config: &IndexConfig) -> VectorIndex {
        VectorIndex {
            dimensions,
            vectors: Vec::new(),
            ids: Vec::new(),
            dead: Vec::new(),
            next_id: 0,
            graph: None,
            pending: Vec::new(),
            unreached: Vec::new(),
            m: config.m,
            ef_construction: config.ef_construction,
            rebuilt_on_load: false,
            saved_graph: None,
            stop: &crate::stop::REQUESTED,
            insert_block: INSERT_BLOCK,
            checkpoints: None,
            #[cfg(test)]
            stop_after_blocks: None,
            #[cfg(test)]
            stop_after_points: None,
            #[cfg(test)]
            inserted: Default::default(),
        }
    }

    /// Makes the next builds save their progress as `checkpoints` says.
    pub fn save_checkpoints(&mut self, checkpoints: BuildCheckpoints) {
        self.checkpoints = Some(checkpoints);
    }

    /// The length of the vectors file these vectors were read from (or would be saved as).
    pub fn file_bytes(&self) -> u64 {
        (self.vectors.len() * std::mem::size_of::<f32>()) as u64
    }

    /// Points not in the graph yet (a build that was stopped, or inserts not committed).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Tests: builds in blocks of `block` points and, with a stop flag of its own, is asked to
    /// stop once `blocks` blocks are in.
    #[cfg(test)]
    pub(crate) fn stop_after_blocks(&mut self, blocks: usize, block: usize) {
        self.stop = Box::leak(Box::new(AtomicBool::new(false)));
        self.insert_block = block;
        self.stop_after_blocks = Some(blocks);
    }

    /// Tests: with a stop flag of its own, is asked to stop once `points` points are in the
    /// graph (some inserts under way then may still finish).
    #[cfg(test)]
    pub(crate) fn stop_after_points(&mut self, points: usize) {
        self.stop = Box::leak(Box::new(AtomicBool::new(false)));
        self.stop_after_points = Some(points);
    }

    /// Length of every vector.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Points stored: live ones and tombstones not yet dropped by a rebuild.
    pub fn points(&self) -> usize {
        self.dead.len()
    }

    /// The ids of the points stored, ascending (after a rebuild that dropped tombstones they
    /// are not `0..points()`).
    pub fn point_ids(&self) -> &[usize] {
        &self.ids
    }

    /// The slot holding point `point`, if it is stored.
    fn slot(&self, point: usize) -> Option<usize> {
        self.ids.binary_search(&point).ok()
    }

    /// Whether `point` is stored and not a tombstone.
    fn alive(&self, point: usize) -> bool {
        self.slot(point).is_some_and(|slot| !self.dead[slot])
    }

    /// Live points.
    pub fn live(&self) -> usize {
        self.dead.iter().filter(|dead| !**dead).count()
    }

    /// Share of points that are tombstones.
    pub fn tombstone_ratio(&self) -> f64 {
        if self.dead.is_empty() {
            0.0
        } else {
            (self.points() - self.live()) as f64 / self.points() as f64
        }
    }

    fn new_graph(&self, capacity: usize) -> Hnsw<'static, f32, UnitCosine> {
        Hnsw::new(
            self.m.clamp(2, 255),
            capacity.max(1024),
            MAX_LAYER,
            self.ef_construction.max(self.m),
            UnitCosine,
        )
    }

    /// Inserts the live `slots` into `graph` under their point ids, scaled to length 1, in
    /// parallel; vectors without direction stay out. Scaled copies exist for one block of
    /// vectors at a time. Stops when asked to, between two points (the graph is then
    /// incomplete): `false`. Saves its progress between blocks as [`BuildCheckpoints`] say, and
    /// when stopped.
    fn add_to_graph(&self, graph: &Hnsw<'static, f32, UnitCosine>, slots: &[usize]) -> bool {
        let mut last_saved = Instant::now();
        for (done, block) in slots.chunks(self.insert_block).enumerate() {
            #[cfg(test)]
            if self.stop_after_blocks == Some(done) {
                self.stop.store(true, Ordering::Relaxed);
            }
            let first = done * self.insert_block;
            let remaining = &slots[first..];
            if self.stop.load(Ordering::Relaxed) {
                if done > 0 {
                    self.checkpoint(graph, remaining);
                }
                return false;
            }
            if done > 0
                && let Some(checkpoints) = &self.checkpoints
                && last_saved.elapsed() >= checkpoints.every
            {
                self.checkpoint(graph, remaining);
                last_saved = Instant::now();
            }
            let units: Vec<(Vec<f32>, usize)> = block
                .iter()
                .filter(|&&slot| !self.dead[slot])
                .filter_map(|&slot| unit(self.vector(slot)).map(|v| (v, slot)))
                .collect();
            let mut left_out = self.insert_until_stopped(graph, &units);
            if !left_out.is_empty() {
                if graph.get_nb_point() > 0 {
                    left_out.extend_from_slice(&slots[first + block.len()..]);
                    self.checkpoint(graph, &left_out);
                }
                return false;
            }
        }
        true
    }

    /// Inserts scaled `units` (vector, slot) into `graph`, in parallel once it holds enough
    /// points, each unless a stop request came first: the slots left out, in order. A Ctrl-C
    /// is thus seen within one insert, not one block.
    fn insert_until_stopped(
        &self,
        graph: &Hnsw<'static, f32, UnitCosine>,
        units: &[(Vec<f32>, usize)],
    ) -> Vec<usize> {
        let insert = |(vector, slot): &(Vec<f32>, usize)| {
            if self.stop.load(Ordering::Relaxed) {
                return Some(*slot);
            }
            graph.insert_slice((vector, self.ids[*slot]));
            #[cfg(test)]
            self.count_insert();
            None
        };
        // Parallel inserts into a nearly empty graph race for its entry point and can leave
        // points unreachable: the first points go in one at a time.
        let serial = SERIAL_START
            .saturating_sub(graph.get_nb_point())
            .min(units.len());
        let mut left_out: Vec<usize> = units[..serial].iter().filter_map(insert).collect();
        left_out.extend(
            units[serial..]
                .par_iter()
                .filter_map(insert)
                .collect::<Vec<_>>(),
        );
        left_out
    }

    /// Tests: counts an insert, and asks to stop at the count `stop_after_points` names.
    #[cfg(test)]
    fn count_insert(&self) {
        let inserted = self.inserted.fetch_add(1, Ordering::SeqCst) + 1;
        if self.stop_after_points == Some(inserted) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    /// Saves `graph` and the `remaining` slots as the next checkpoint, if checkpoints are kept.
    /// A checkpoint is only a head start for the next run: one that cannot be written is left
    /// out, and the build goes on.
    fn checkpoint(&self, graph: &Hnsw<'static, f32, UnitCosine>, remaining: &[usize]) {
        if let Some(checkpoints) = &self.checkpoints {
            let _skipped_when_unwritable =
                self.write_checkpoint(&checkpoints.dir, graph, remaining);
        }
    }

    /// Writes a checkpoint into the folder under `dir` that `LATEST` does not name, then names
    /// it there.
    fn write_checkpoint(
        &self,
        dir: &Path,
        graph: &Hnsw<'static, f32, UnitCosine>,
        remaining: &[usize],
    ) -> Result<(), IndexError> {
        let latest = BuildCheckpoints::latest(dir);
        let name = if latest.is_some_and(|folder| folder.ends_with("a")) {
            "b"
        } else {
            "a"
        };
        let folder = dir.join(name);
        if folder.exists() {
            fs::remove_dir_all(&folder).map_err(|err| io_error("cannot clear", &folder, err))?;
        }
        fs::create_dir_all(&folder).map_err(|err| io_error("cannot create", &folder, err))?;
        self.write(&folder, Some(graph), remaining, None)?;
        let pending = dir.join(format!("{LATEST_CHECKPOINT}.pending"));
        fs::write(&pending, name)
            .and_then(|()| fs::rename(&pending, dir.join(LATEST_CHECKPOINT)))
            .map_err(|err| io_error("cannot write", &pending, err))
    }

    /// The vector in `slot`.
    fn vector(&self, slot: usize) -> &[f32] {
        &self.vectors[slot * self.dimensions..(slot + 1) * self.dimensions]
    }

    /// Whether the vector in `slot` may be a neighbour: live and with a direction.
    fn searchable(&self, slot: usize) -> bool {
        !self.dead[slot] && length(self.vector(slot)).is_some()
    }

    /// The graph to walk and the points its links do not reach: the index's own, or the one
    /// saved where it was opened, loaded now.
    fn graph(&self) -> Option<(&Graph, &[usize])> {
        match (&self.graph, &self.saved_graph) {
            (Some(graph), _) => Some((graph, &self.unreached)),
            (None, Some(saved)) => saved.loaded(),
            (None, None) => None,
        }
    }

    /// Whether `point` is live and has a direction (a vector search can rank it).
    pub fn has_direction(&self, point: usize) -> bool {
        self.slot(point).is_some_and(|slot| self.searchable(slot))
    }

    /// The vector of a live point.
    pub fn live_vector(&self, point: usize) -> Option<&[f32]> {
        let slot = self.slot(point)?;
        (!self.dead[slot]).then(|| self.vector(slot))
    }

    /// Adds a vector; returns its point id. It is searchable after [`VectorIndex::commit`].
    pub fn insert(&mut self, vector: &[f32]) -> Result<usize, IndexError> {
        if vector.len() != self.dimensions {
            return Err(IndexError::new(format!(
                "a vector has {} dimensions but the index holds {}: vectors of two sizes reached one index (a model changed without its fingerprint, or a provider answered in two sizes: set `dimensions` on the embed step, which recomputes its vectors)",
                vector.len(),
                self.dimensions
            )));
        }
        let point = self.next_id;
        self.next_id += 1;
        self.pending.push(self.ids.len());
        self.vectors.extend_from_slice(vector);
        self.ids.push(point);
        self.dead.push(false);
        Ok(point)
    }

    /// Puts the vectors inserted since the last commit into the graph. A stop request
    /// ([`crate::stop`]) leaves it incomplete, and it is an error: nothing may be saved then.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let graph = match self.graph.take() {
            Some(graph) => graph,
            None => self.new_graph(self.points()),
        };
        let complete = self.add_to_graph(&graph, &pending);
        self.install(graph, complete)
    }

    /// Makes `graph` the index's graph, with the points it leaves unreached; an incomplete one
    /// (a build stopped on request) is an error.
    fn install(
        &mut self,
        graph: Hnsw<'static, f32, UnitCosine>,
        complete: bool,
    ) -> Result<(), IndexError> {
        self.unreached = unreached(&graph);
        self.graph = Some(graph);
        if complete {
            Ok(())
        } else {
            Err(IndexError::new(
                "stopped: the run was cancelled while its index was being built",
            ))
        }
    }

    /// Marks a point removed.
    pub fn remove(&mut self, point: usize) {
        if let Some(slot) = self.slot(point) {
            self.dead[slot] = true;
        }
    }

    /// Drops the tombstoned vectors and rebuilds the graph from the live ones (their point ids
    /// unchanged). A stop request ([`crate::stop`]) leaves it incomplete, and it is an error.
    pub fn rebuild(&mut self) -> Result<(), IndexError> {
        let mut kept = 0;
        for slot in 0..self.ids.len() {
            if self.dead[slot] {
                continue;
            }
            let (from, to) = (slot * self.dimensions, kept * self.dimensions);
            self.vectors.copy_within(from..from + self.dimensions, to);
            self.ids[kept] = self.ids[slot];
            kept += 1;
        }
        self.vectors.truncate(kept * self.dimensions);
        self.vectors.shrink_to_fit();
        self.ids.truncate(kept);
        self.dead = vec![false; kept];
        let graph = self.new_graph(kept);
        let slots: Vec<usize> = (0..kept).collect();
        let complete = self.add_to_graph(&graph, &slots);
        self.pending.clear();
        self.install(graph, complete)
    }

    /// The `k` nearest live points to `query` as (point, cosine similarity), best first;
    /// `allowed` (sorted) restricts the candidates. Commit inserted points first.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef_search: usize,
        allowed: Option<&[usize]>,
    ) -> Vec<(usize, f32)> {
        self.search_by(query, k, ef_search, allowed, Strategy::Cheapest)
    }

    /// [`VectorIndex::search`] that always walks the graph, even where scoring every point
    /// would cost less: to measure the graph's recall.
    pub fn graph_search(&self, query: &[f32], k: usize, ef_search: usize) -> Vec<(usize, f32)> {
        self.search_by(query, k, ef_search, None, Strategy::Walk)
    }

    fn search_by(
        &self,
        query: &[f32],
        k: usize,
        ef_search: usize,
        allowed: Option<&[usize]>,
        strategy: Strategy,
    ) -> Vec<(usize, f32)> {
        debug_assert!(self.pending.is_empty(), "search before commit");
        if query.len() != self.dimensions {
            return Vec::new();
        }
        let Some(query) = unit(query) else {
            return Vec::new();
        };
        let mut found = self.nearest(&query, k, ef_search, allowed, strategy);
        // Every path scores with one formula, so that a chunk's score does not depend on how
        // it was found (the graph's `1 - distance` differs in the last bits): equal vectors
        // score the same, and equal scores are ordered by point.
        for (id, score) in &mut found {
            if let Some(slot) = self.slot(*id) {
                *score = self.similarity(slot, &query);
            }
        }
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // Vectors without direction are like nothing: they come last, only when asked for.
        if found.len() < k {
            // Only the allowed points are looked at: a narrow filter does not scan the index.
            let slots: Box<dyn Iterator<Item = usize>> = match allowed {
                Some(ids) => Box::new(ids.iter().filter_map(|&id| self.slot(id))),
                None => Box::new(0..self.points()),
            };
            let directionless = slots
                .filter(|&slot| !self.dead[slot] && !self.searchable(slot))
                .map(|slot| (self.ids[slot], 0.0));
            found.extend(directionless.take(k - found.len()));
        }
        found
    }

    /// [`VectorIndex::search`] among the vectors with a direction.
    fn nearest(
        &self,
        query: &[f32],
        k: usize,
        ef_search: usize,
        allowed: Option<&[usize]>,
        strategy: Strategy,
    ) -> Vec<(usize, f32)> {
        if let Some(ids) = allowed.filter(|ids| ids.len() <= EXACT_AMONG) {
            return self.exact_among(query, k, ids);
        }
        let filter =
            |id: &usize| self.alive(*id) && allowed.is_none_or(|ids| ids.binary_search(id).is_ok());
        let walked = self.walk(query, (k, ef_search), allowed, &filter, strategy);
        let Some((mut found, unreached)) = walked else {
            return match allowed {
                Some(ids) => self.exact_among(query, k, ids),
                None => self.exact_search(query, k, None),
            };
        };
        let unreached = self.exact_among(query, k, unreached);
        if !unreached.is_empty() {
            let filtered = unreached.into_iter().filter(|(id, _)| filter(id));
            found.extend(filtered);
            found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            found.dedup_by_key(|(id, _)| *id);
            found.truncate(k);
        }
        found
    }

    /// The `k` nearest points of the graph to the unit vector `query` that pass `filter`
    /// (live, and among `allowed` when given), with the points the graph's links do not reach;
    /// or `None` when scoring every candidate is cheaper than walking the graph that deep and
    /// `strategy` allows it, or when there is no graph to walk (none, or a saved one that is
    /// damaged).
    ///
    /// The walk asks the graph for as many more points as tombstones and `allowed` leave out,
    /// and twice as many again while fewer than `k` pass: hnsw_rs's own filtered search never
    /// ends early, so its cost grows with the square of its depth (8 s for 8,000 of 38,000
    /// points, where a scan takes milliseconds).
    fn walk(
        &self,
        query: &[f32],
        (k, ef_search): (usize, usize),
        allowed: Option<&[usize]>,
        filter: &impl Fn(&usize) -> bool,
        strategy: Strategy,
    ) -> Option<(Scored, &[usize])> {
        let in_graph = self.points() - self.pending.len();
        let candidates = allowed.map_or(self.live(), <[usize]>::len).max(1);
        let mut depth = k.saturating_mul(in_graph).div_ceil(candidates).max(k);
        loop {
            if strategy == Strategy::Cheapest
                && !walk_is_cheaper(depth, ef_search, self.m, candidates)
            {
                return None;
            }
            let (graph, unreached) = self.graph()?;
            let walked = graph.search(query, depth, ef_search.max(depth));
            let exhausted = walked.len() < depth;
            let found: Vec<(usize, f32)> = walked
                .into_iter()
                .filter(|neighbour| filter(&neighbour.d_id))
                .map(|neighbour| (neighbour.d_id, 1.0 - neighbour.distance))
                .take(k)
                .collect();
            if found.len() >= k || exhausted {
                return Some((found, unreached));
            }
            depth = depth.saturating_mul(2);
        }
    }

    /// The exact `k` nearest of the live points `ids` (sorted) to the unit vector `query`.
    fn exact_among(&self, query: &[f32], k: usize, ids: &[usize]) -> Vec<(usize, f32)> {
        let mut scored: Vec<(usize, f32)> = ids
            .iter()
            .filter_map(|&id| {
                let slot = self.slot(id)?;
                self.searchable(slot)
                    .then(|| (id, self.similarity(slot, query)))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        scored
    }

    /// The cosine similarity of the vector in `slot` to the unit vector `query`.
    fn similarity(&self, slot: usize, query: &[f32]) -> f32 {
        let vector = self.vector(slot);
        dot(vector, query) / norm(vector)
    }

    /// The exact `k` nearest live points (brute force), to measure the graph's recall.
    pub fn exact_search(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&[usize]>,
    ) -> Vec<(usize, f32)> {
        let query_norm = norm(query);
        let mut scored: Vec<(usize, f32)> = (0..self.points())
            .filter(|slot| {
                self.searchable(*slot)
                    && allowed.is_none_or(|ids| ids.binary_search(&self.ids[*slot]).is_ok())
            })
            .map(|slot| {
                let vector = self.vector(slot);
                (
                    self.ids[slot],
                    dot(vector, query) / (norm(vector) * query_norm),
                )
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        scored
    }

    /// Commits, then writes the vectors, tombstones and graph into `dir`.
    pub fn save(&mut self, dir: &Path) -> Result<(), IndexError> {
        self.commit()?;
        self.write(dir, self.graph.as_ref(), &[], Some(&self.unreached))
    }

    /// Writes the vectors, tombstones, `graph` and the `pending` slots not in it into `dir`;
    /// `unreached` is found again on load when not given.
    fn write(
        &self,
        dir: &Path,
        graph: Option<&Hnsw<'static, f32, UnitCosine>>,
        pending: &[usize],
        unreached: Option<&[usize]>,
    ) -> Result<(), IndexError> {
        let graph = match graph {
            Some(graph) if graph.get_nb_point() > 0 => {
                // hnsw_rs panics when it cannot create its files: make sure it can.
                let made: Vec<PathBuf> = ["hnsw.graph", "hnsw.data"]
                    .iter()
                    .map(|suffix| dir.join(format!("{BASENAME}.{suffix}")))
                    .collect();
                for path in &made {
                    fs::File::create(path).map_err(|err| io_error("cannot write", path, err))?;
                }
                let basename = graph
                    .file_dump(dir, BASENAME)
                    .map_err(|err| io_error("cannot write the graph in", dir, err))?;
                // A graph that was loaded is dumped under a name of its own (hnsw_rs never
                // writes over the files a loaded graph may map): the empty files go.
                if basename != BASENAME {
                    for path in &made {
                        let _ = fs::remove_file(path);
                    }
                }
                Some(basename)
            }
            _ => None,
        };
        let graph_digest = match &graph {
            Some(basename) => Some(
                graph_digest(dir, basename)
                    .map_err(|err| io_error("cannot read the graph in", dir, err))?,
            ),
            None => None,
        };
        let meta = VectorMeta {
            dimensions: self.dimensions,
            points: self.points(),
            ids: Some(self.ids.clone()),
            next_id: Some(self.next_id),
            dead: (0..self.points())
                .filter(|slot| self.dead[*slot])
                .map(|slot| self.ids[slot])
                .collect(),
            distance: Some(DISTANCE.to_owned()),
            // A graph of no points was not written: it is made anew, and nothing is unreached.
            unreached: unreached.filter(|_| graph.is_some()).map(<[usize]>::to_vec),
            graph,
            graph_digest,
            pending: pending.iter().map(|&slot| self.ids[slot]).collect(),
        };
        let mut bytes = Vec::with_capacity(self.vectors.len() * 4);
        for value in &self.vectors {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        let path = dir.join("vectors.f32");
        fs::File::create(&path)
            .and_then(|mut file| file.write_all(&bytes).and_then(|()| file.sync_all()))
            .map_err(|err| io_error("cannot write", &path, err))?;
        let path = dir.join("vectors.json");
        let text = serde_json::to_vec(&meta).map_err(|err| IndexError::new(err.to_string()))?;
        fs::write(&path, text).map_err(|err| io_error("cannot write", &path, err))?;
        Ok(())
    }

    /// Whether the graph saved in `dir` is in an older format or damaged, so that
    /// [`VectorIndex::load`] rebuilds it from the vectors every time.
    pub fn outdated(dir: &Path) -> bool {
        saved_meta(dir).is_some_and(|meta| meta.graph.is_some() && !meta.graph_usable(dir))
    }

    /// Whether what [`VectorIndex::save`] wrote in `dir` is whole: its description reads and
    /// the vectors' file has the size it gives (a cheap check, without reading the vectors).
    pub fn intact(dir: &Path) -> bool {
        Self::whole_on_disk(dir).is_ok() && all_finite(&dir.join("vectors.f32")).unwrap_or(false)
    }

    /// Why what [`VectorIndex::save`] wrote in `dir` is not whole, found without reading the
    /// vectors: its description does not read, or the vectors' file is not the size it gives
    /// (cut short). What a search that reads them would fail with, said before one does.
    pub fn whole_on_disk(dir: &Path) -> Result<(), IndexError> {
        let path = dir.join("vectors.json");
        let meta = saved_meta(dir).ok_or_else(|| io_error("damaged", &path, "it does not read"))?;
        let path = dir.join("vectors.f32");
        let file = fs::metadata(&path).map_err(|err| io_error("cannot read", &path, err))?;
        if file.len() != (meta.points * meta.dimensions * 4) as u64 {
            return Err(io_error("damaged", &path, SIZE_MISMATCH));
        }
        Ok(())
    }

    /// Reads what [`VectorIndex::save`] wrote, the graph included (one saved in an older
    /// format, or damaged, is rebuilt from the vectors), to update it.
    pub fn load(dir: &Path, config: &IndexConfig) -> Result<VectorIndex, IndexError> {
        Self::read(dir, config, true)
    }

    /// Reads what [`VectorIndex::save`] wrote, to search it: the graph is read when a search
    /// first walks it (one saved in an older format, or damaged, is not rebuilt: searches then
    /// score every candidate, see [`VectorIndex::graph_unusable`]).
    pub fn open(dir: &Path, config: &IndexConfig) -> Result<VectorIndex, IndexError> {
        Self::read(dir, config, false)
    }

    fn read(dir: &Path, config: &IndexConfig, with_graph: bool) -> Result<VectorIndex, IndexError> {
        let path = dir.join("vectors.json");
        let mut meta: VectorMeta = fs::read(&path)
            .map_err(|err| io_error("cannot read", &path, err))
            .and_then(|bytes| {
                serde_json::from_slice(&bytes).map_err(|err| io_error("damaged", &path, err))
            })?;
        let usable = with_graph && meta.graph_usable(dir);
        let path = dir.join("vectors.f32");
        let mut bytes = Vec::new();
        fs::File::open(&path)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(|err| io_error("cannot read", &path, err))?;
        if bytes.len() != meta.points * meta.dimensions * 4 {
            return Err(io_error("damaged", &path, SIZE_MISMATCH));
        }
        let vectors: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        // The engine stores finite vectors only: any other value is damage (its scores would
        // be NaN), found here rather than in every query.
        if !crate::embed::all_finite(&vectors) {
            return Err(io_error(
                "damaged",
                &path,
                "it holds values that are not numbers",
            ));
        }
        let ids = meta
            .ids
            .take()
            .unwrap_or_else(|| (0..meta.points).collect());
        if ids.len() != meta.points || ids.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(io_error(
                "damaged",
                &dir.join("vectors.json"),
                "the point ids do not match the vectors",
            ));
        }
        let next_id = meta
            .next_id
            .unwrap_or(meta.points)
            .max(ids.last().map_or(0, |last| last + 1));
        let mut dead = vec![false; meta.points];
        for &point in &meta.dead {
            if let Ok(slot) = ids.binary_search(&point) {
                dead[slot] = true;
            }
        }
        let graph = match &meta.graph {
            Some(basename) if usable => Some(load_graph(dir, basename)?),
            _ => None,
        };
        let unreached = match (&graph, &meta.unreached) {
            (Some(_), Some(saved)) => saved.clone(),
            (Some(graph), None) => unreached(graph),
            (None, _) => Vec::new(),
        };
        let pending = meta
            .pending
            .iter()
            .filter_map(|point| ids.binary_search(point).ok())
            .collect();
        let mut index = VectorIndex {
            dimensions: meta.dimensions,
            vectors,
            ids,
            dead,
            next_id,
            graph,
            pending,
            unreached,
            m: config.m,
            ef_construction: config.ef_construction,
            rebuilt_on_load: with_graph && meta.graph.is_some() && !usable,
            saved_graph: None,
            stop: &crate::stop::REQUESTED,
            insert_block: INSERT_BLOCK,
            checkpoints: None,
            #[cfg(test)]
            stop_after_blocks: None,
            #[cfg(test)]
            stop_after_points: None,
            #[cfg(test)]
            inserted: Default::default(),
        };
        if index.rebuilt_on_load {
            index.rebuild()?;
        }
        if !with_graph && meta.graph.is_some() {
            index.saved_graph = Some(SavedGraph {
                dir: dir.to_owned(),
                meta,
                usable: OnceLock::new(),
                loaded: OnceLock::new(),
            });
        }
        Ok(index)
    }

    /// Whether loading rebuilt a graph saved in an older format or damaged: every load does so
    /// until a run saves the index again.
    pub fn rebuilt_on_load(&self) -> bool {
        self.rebuilt_on_load
    }

    /// Whether a search that would have walked the graph saved where the index was opened
    /// found it in an older format or damaged, and scored every candidate instead: so it goes
    /// until a run saves the index again. Searches that score every candidate anyway never
    /// read the graph's files, and never tell.
    pub fn graph_found_unusable(&self) -> bool {
        (self.saved_graph.as_ref()).is_some_and(|saved| saved.usable.get() == Some(&false))
    }
}

/// The points of `graph` that no chain of bottom-layer links leads to from its top layer (where
/// every search starts), ascending: the bottom layer is where a search collects its results.
fn unreached(graph: &Hnsw<'static, f32, UnitCosine>) -> Vec<usize> {
    if graph.get_nb_point() == 0 {
        return Vec::new();
    }
    let indexation = graph.get_point_indexation();
    let mut links: HashMap<usize, Vec<usize>> = HashMap::with_capacity(graph.get_nb_point());
    for point in indexation {
        let neighbours = point.get_neighborhood_id();
        links.insert(
            point.get_origin_id(),
            neighbours
                .first()
                .into_iter()
                .flatten()
                .map(|n| n.d_id)
                .collect(),
        );
    }
    let top = usize::from(graph.get_max_level_observed());
    let mut reached: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let mut frontier: Vec<usize> = indexation
        .get_layer_iterator(top)
        .map(|point| point.get_origin_id())
        .collect();
    while let Some(point) = frontier.pop() {
        if reached.insert(point) {
            frontier.extend(links.get(&point).into_iter().flatten().copied());
        }
    }
    let mut unreached: Vec<usize> = links
        .into_keys()
        .filter(|point| !reached.contains(point))
        .collect();
    unreached.sort_unstable();
    unreached
}

/// How a search finds the nearest points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// Walk the graph, or score every candidate where that costs less.
    Cheapest,
    /// Always walk the graph.
    Walk,
}

/// Whether walking the graph `depth` deep costs less than scoring all `candidates`: a walk
/// computes about `ef × m` distances, each a random read, where a scan computes one per
/// candidate in order. Asking for half the candidates or more always scans.
fn walk_is_cheaper(depth: usize, ef_search: usize, m: usize, candidates: usize) -> bool {
    let walked = ef_search
        .max(depth)
        .saturating_mul(m.max(2))
        .saturating_mul(WALK_COST);
    depth.saturating_mul(2) < candidates && walked < candidates
}

/// Loads the graph hnsw_rs dumped as `basename` in `dir`. hnsw_rs asserts on some damage
/// instead of returning an error; such a panic becomes the error too.
fn load_graph(dir: &Path, basename: &str) -> Result<Hnsw<'static, f32, UnitCosine>, IndexError> {
    // The loaded graph borrows its loader for as long as it lives; the loader is small and
    // loaded once per open index, so it is kept for the process.
    let loader: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, basename)));
    match catch_quietly(|| loader.load_hnsw::<f32, UnitCosine>()) {
        Ok(Ok(graph)) => Ok(graph),
        Ok(Err(err)) => Err(io_error("cannot load the graph in", dir, err)),
        Err(_) => Err(io_error(
            "cannot load the graph in",
            dir,
            "the graph files are damaged; run the pipeline again to rebuild the index",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(values: &[f32]) -> Vec<f32> {
        let norm = values.iter().map(|x| x * x).sum::<f32>().sqrt();
        values.iter().map(|x| x / norm).collect()
    }

    #[test]
    fn a_rebuild_drops_tombstones_for_good_and_keeps_point_ids() {
        let dir = tempfile::tempdir().unwrap();
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(2, &config);
        let points: Vec<usize> = (0..6)
            .map(|i| {
                let angle = i as f32 * 0.5;
                index.insert(&[angle.cos(), angle.sin()]).unwrap()
            })
            .collect();
        index.commit().unwrap();
        for &point in &points[..4] {
            index.remove(point);
        }
        assert!(index.tombstone_ratio() > 0.6);
        index.rebuild().unwrap();
        assert_eq!((index.points(), index.live()), (2, 2));
        assert_eq!(index.tombstone_ratio(), 0.0, "the tombstones are gone");
        let later = index.insert(&[0.0, -1.0]).unwrap();
        assert_eq!(later, 6, "ids are never reused");
        index.save(dir.path()).unwrap();
        let loaded = VectorIndex::load(dir.path(), &config).unwrap();
        let bytes = fs::metadata(dir.path().join("vectors.f32")).unwrap().len();
        assert_eq!(bytes, 3 * 2 * 4, "only the live vectors are written");
        for index in [&index, &loaded] {
            let near: Vec<usize> = index
                .search(&[1.0, 0.0], 3, 16, None)
                .iter()
                .map(|hit| hit.0)
                .collect();
            let mut sorted = near.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, [4, 5, 6], "{near:?}");
            assert!(index.live_vector(points[0]).is_none());
            assert_eq!(index.live_vector(points[5]).map(<[f32]>::len), Some(2));
        }
    }

    #[test]
    fn an_index_saved_before_rebuilds_dropped_vectors_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let config = IndexConfig::default();
        let vectors: Vec<f32> = [1.0f32, 0.0, 0.0, 1.0, 0.7, 0.7].to_vec();
        let bytes: Vec<u8> = vectors.iter().flat_map(|v| v.to_le_bytes()).collect();
        fs::write(dir.path().join("vectors.f32"), bytes).unwrap();
        let meta =
            r#"{"dimensions":2,"points":3,"dead":[1],"graph":null,"distance":"unit-cosine"}"#;
        fs::write(dir.path().join("vectors.json"), meta).unwrap();
        let mut index = VectorIndex::load(dir.path(), &config).unwrap();
        assert_eq!((index.points(), index.live()), (3, 2));
        assert!(index.live_vector(1).is_none() && index.live_vector(2).is_some());
        assert_eq!(index.insert(&[0.0, 1.0]).unwrap(), 3);
    }

    #[test]
    fn vectors_without_direction_are_never_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(3, &config);
        let zero = index.insert(&[0.0, 0.0, 0.0]).unwrap();
        let x = index.insert(&unit(&[1.0, 0.1, 0.0])).unwrap();
        let y = index.insert(&unit(&[0.0, 1.0, 0.1])).unwrap();
        assert_eq!(
            (zero, x, y),
            (0, 1, 2),
            "the zero vector still has its point id"
        );
        let query = unit(&[1.0, 0.0, 0.0]);
        index.commit().unwrap();
        index.save(dir.path()).unwrap();
        let loaded = VectorIndex::load(dir.path(), &config).unwrap();
        for index in [&index, &loaded] {
            let graph: Vec<usize> = index
                .search(&query, 2, 16, None)
                .iter()
                .map(|h| h.0)
                .collect();
            assert_eq!(
                graph,
                [x, y],
                "the zero vector is not 'nearest' to everything"
            );
            let everything = index.search(&query, 5, 16, None);
            assert_eq!(everything.len(), 3, "asked for all, it comes last");
            assert_eq!(everything[2], (zero, 0.0));
            let exact: Vec<usize> = index
                .exact_search(&query, 3, None)
                .iter()
                .map(|h| h.0)
                .collect();
            assert_eq!(exact, [x, y]);
            assert!(index.search(&[0.0, 0.0, 0.0], 3, 16, None).is_empty());
            assert_eq!(index.live(), 3);
        }
    }

    #[test]
    fn committed_vectors_are_found_and_removed_ones_never() {
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(2, &config);
        let a = index.insert(&[1.0, 0.0]).unwrap();
        let b = index.insert(&[0.0, 2.0]).unwrap();
        let c = index.insert(&[1.0, 1.0]).unwrap();
        index.remove(b);
        index.commit().unwrap();
        let found: Vec<usize> = index
            .search(&[1.0, 0.0], 3, 16, None)
            .iter()
            .map(|h| h.0)
            .collect();
        assert_eq!(found, [a, c]);
        let hits = index.search(&[3.0, 0.0], 1, 16, None);
        assert!(
            (hits[0].1 - 1.0).abs() < 1e-6,
            "cosine of raw vectors: {hits:?}"
        );
    }

    #[test]
    fn a_graph_saved_in_the_old_format_is_rebuilt_when_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(2, &config);
        for v in [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]] {
            index.insert(&v).unwrap();
        }
        index.save(dir.path()).unwrap();
        let meta_path = dir.path().join("vectors.json");
        let mut meta: serde_json::Value =
            serde_json::from_slice(&fs::read(&meta_path).unwrap()).unwrap();
        meta.as_object_mut().unwrap().remove("distance");
        fs::write(&meta_path, meta.to_string()).unwrap();
        // The old graph files would not load with this distance; they are not read.
        for file in fs::read_dir(dir.path()).unwrap().flatten() {
            if file.file_name().to_string_lossy().starts_with(BASENAME) {
                fs::write(file.path(), b"old").unwrap();
            }
        }
        let loaded = VectorIndex::load(dir.path(), &config).unwrap();
        let hits = loaded.search(&[0.0, 1.0], 1, 16, None);
        assert_eq!(hits[0].0, 1);
    }

    #[test]
    fn damaged_graph_files_are_rebuilt_or_an_error_never_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(2, &config);
        for v in [[1.0, 0.0], [0.0, 1.0]] {
            index.insert(&v).unwrap();
        }
        index.save(dir.path()).unwrap();
        for file in fs::read_dir(dir.path()).unwrap().flatten() {
            if file.file_name().to_string_lossy().starts_with(BASENAME) {
                let bytes = fs::read(file.path()).unwrap();
                let mut damaged = bytes.clone();
                damaged[..8.min(bytes.len())].fill(0xAB);
                fs::write(file.path(), damaged).unwrap();
            }
        }
        // Its digest tells the damage: the graph is rebuilt from the vectors.
        let loaded = VectorIndex::load(dir.path(), &config).unwrap();
        assert!(loaded.rebuilt_on_load());
        assert_eq!(loaded.search(&[0.0, 1.0], 1, 16, None)[0].0, 1);
        // Saved without a digest (by an older version), hnsw_rs reads it: its panics are an
        // error.
        let meta_path = dir.path().join("vectors.json");
        let mut meta: serde_json::Value =
            serde_json::from_slice(&fs::read(&meta_path).unwrap()).unwrap();
        meta.as_object_mut()
            .unwrap()
            .remove("graph_digest")
            .unwrap();
        fs::write(&meta_path, meta.to_string()).unwrap();
        let err = VectorIndex::load(dir.path(), &config).err().unwrap();
        assert!(err.message.contains("cannot load the graph"), "{err}");
    }

    /// A build asked to stop (a cancelled run) stops and is an error, so that
    /// an incomplete graph is never saved.
    #[test]
    fn a_stop_request_ends_a_build_unsaved() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = VectorIndex::new(2, &IndexConfig::default());
        index.stop = Box::leak(Box::new(AtomicBool::new(false)));
        for v in [[1.0, 0.0], [0.0, 1.0]] {
            index.insert(&v).unwrap();
        }
        index.stop.store(true, Ordering::Relaxed);
        assert!(
            index
                .save(dir.path())
                .unwrap_err()
                .message
                .contains("stopped")
        );
        assert!(!dir.path().join("vectors.json").exists());
        assert!(index.rebuild().is_err());
        index.stop.store(false, Ordering::Relaxed);
        index.rebuild().unwrap();
        index.save(dir.path()).unwrap();
        let loaded = VectorIndex::load(dir.path(), &IndexConfig::default()).unwrap();
        assert_eq!(loaded.search(&[0.0, 1.0], 1, 16, None)[0].0, 1);
    }

    /// Each point's nearest neighbour, as the graph finds it, is the point itself.
    fn finds_every_point(index: &VectorIndex) {
        for slot in 0..index.points() {
            let found = index.graph_search(index.vector(slot), 1, 64);
            assert_eq!(found[0].0, index.ids[slot], "point {}", index.ids[slot]);
        }
    }

    /// A build stopped after a block saves the graph so far and the points still to insert;
    /// loading that checkpoint goes on from there to a complete graph.
    #[test]
    fn a_stopped_build_saves_a_checkpoint_that_goes_on_when_loaded() {
        let (checkpoints, done) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(16, &config);
        for seed in 0..300 {
            index.insert(&super::reach_tests::noise(seed, 16)).unwrap();
        }
        index.save_checkpoints(BuildCheckpoints {
            dir: checkpoints.path().to_owned(),
            every: Duration::ZERO,
        });
        index.stop_after_blocks(3, 50);
        assert!(index.save(done.path()).is_err());
        assert!(!done.path().join("vectors.json").exists());
        // Checkpoints after the first block (a) and the second (b), and on the stop after the
        // third (a again).
        let latest = BuildCheckpoints::latest(checkpoints.path()).unwrap();
        assert!(latest.ends_with("a"), "{}", latest.display());
        let mut resumed = VectorIndex::load(&latest, &config).unwrap();
        assert_eq!((resumed.points(), resumed.pending()), (300, 150));
        resumed.save(done.path()).unwrap();
        let loaded = VectorIndex::load(done.path(), &config).unwrap();
        assert_eq!(loaded.pending(), 0);
        finds_every_point(&loaded);
    }

    /// A stop request is seen between two inserts, not at the end of a block: the build stops
    /// within its first block, and its checkpoint holds the points inserted so far and, as
    /// still to insert, exactly the others, so that resuming completes the graph.
    #[test]
    fn a_stop_request_ends_a_build_within_a_block() {
        let (checkpoints, done) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(16, &config);
        for seed in 0..2000 {
            index.insert(&super::reach_tests::noise(seed, 16)).unwrap();
        }
        index.save_checkpoints(BuildCheckpoints {
            dir: checkpoints.path().to_owned(),
            every: Duration::from_secs(3600),
        });
        index.stop_after_points(400);
        assert!(index.save(done.path()).is_err());
        let inserted = index.inserted.load(Ordering::SeqCst);
        // Inserts under way when the request came finish; no other starts.
        assert!((400..=400 + 64).contains(&inserted), "{inserted} inserted");
        let latest = BuildCheckpoints::latest(checkpoints.path()).unwrap();
        let mut resumed = VectorIndex::load(&latest, &config).unwrap();
        assert_eq!(resumed.points(), 2000);
        assert_eq!(resumed.pending(), 2000 - inserted);
        let graph = resumed.graph.as_ref().unwrap();
        assert_eq!(graph.get_nb_point(), inserted);
        resumed.save(done.path()).unwrap();
        let loaded = VectorIndex::load(done.path(), &config).unwrap();
        assert_eq!(loaded.pending(), 0);
        finds_every_point(&loaded);
    }

    /// Equal vectors score the same however the search finds them (the graph's `1 - distance`
    /// and the exact paths' dot product differed in the last bits), and equal scores come in
    /// point order, so that filtered and unfiltered searches agree.
    #[test]
    fn equal_vectors_score_the_same_on_every_path() {
        let dir = tempfile::tempdir().unwrap();
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(16, &config);
        // Not of length 1, as a model's raw vectors may be.
        let same: Vec<f32> = super::reach_tests::noise(7, 16)
            .iter()
            .map(|x| x * 3.7)
            .collect();
        for seed in 0..1200 {
            let vector = if seed % 4 == 0 {
                same.clone()
            } else {
                super::reach_tests::noise(1000 + seed, 16)
            };
            index.insert(&vector).unwrap();
        }
        index.save(dir.path()).unwrap();
        let index = VectorIndex::load(dir.path(), &config).unwrap();
        let graph = index.graph_search(&same, 20, 128);
        let first = graph[0].1;
        let equal: Vec<usize> = graph
            .iter()
            .filter(|(_, score)| *score == first)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(equal.len(), 20, "{graph:?}");
        assert!(equal.windows(2).all(|w| w[0] < w[1]), "{equal:?}");
        // A narrow filter searches exactly, and so does a deep search: the same scores.
        let allowed: Vec<usize> = equal[..3].to_vec();
        let exact = index.search(&same, 3, 128, Some(&allowed));
        assert!(
            exact.iter().all(|(_, score)| *score == first),
            "{exact:?} vs {first}"
        );
        let deep = index.search(&same, 1000, 128, None);
        assert_eq!(deep[0].1, first);
        let other = super::reach_tests::noise(1001, 16);
        let by_graph = index.graph_search(&other, 5, 128);
        let by_scan = index.search(&other, 1000, 128, None);
        assert_eq!(by_scan[..5], by_graph[..]);
    }

    /// A checkpoint that cannot be written is left out: the build goes on and completes.
    #[test]
    fn a_checkpoint_that_cannot_be_written_does_not_stop_the_build() {
        let (blocked, done) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let file = blocked.path().join("file");
        fs::write(&file, "not a folder").unwrap();
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(16, &config);
        for seed in 0..120 {
            index.insert(&super::reach_tests::noise(seed, 16)).unwrap();
        }
        index.save_checkpoints(BuildCheckpoints {
            dir: file,
            every: Duration::ZERO,
        });
        index.insert_block = 30;
        index.save(done.path()).unwrap();
        finds_every_point(&VectorIndex::load(done.path(), &config).unwrap());
    }

    #[test]
    fn an_index_of_zero_vectors_saves_loads_and_scores_them_zero() {
        let dir = tempfile::tempdir().unwrap();
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(2, &config);
        index.insert(&[0.0, 0.0]).unwrap();
        index.save(dir.path()).unwrap();
        let loaded = VectorIndex::load(dir.path(), &config).unwrap();
        assert_eq!(loaded.points(), 1);
        assert_eq!(loaded.search(&[1.0, 0.0], 1, 16, None), [(0, 0.0)]);
    }

    /// A loaded graph saved again leaves no empty files beside it (hnsw_rs dumps it under a
    /// name of its own, not over the files made for it).
    #[test]
    fn a_loaded_graph_saved_again_leaves_no_empty_files() {
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(2, &config);
        index.insert(&[1.0, 0.0]).unwrap();
        index.save(first.path()).unwrap();
        let mut loaded = VectorIndex::load(first.path(), &config).unwrap();
        loaded.insert(&[0.0, 1.0]).unwrap();
        loaded.save(second.path()).unwrap();
        for entry in fs::read_dir(second.path()).unwrap().flatten() {
            let size = entry.metadata().unwrap().len();
            assert!(size > 0, "{} is empty", entry.path().display());
        }
        let reloaded = VectorIndex::load(second.path(), &config).unwrap();
        assert_eq!(reloaded.search(&[0.0, 1.0], 1, 16, None)[0].0, 1);
    }

    /// hnsw_rs panics when it cannot create its files; saving says which file instead.
    #[test]
    fn a_graph_that_cannot_be_written_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(format!("{BASENAME}.hnsw.data"))).unwrap();
        let mut index = VectorIndex::new(2, &IndexConfig::default());
        index.insert(&[1.0, 0.0]).unwrap();
        index.insert(&[0.0, 1.0]).unwrap();
        let err = index.save(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("cannot write") && err.contains("hnsw.hnsw.data"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod reach_tests {
    use super::*;

    /// A deterministic pseudo-random vector.
    pub(super) fn noise(seed: u64, dimensions: usize) -> Vec<f32> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..dimensions)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect()
    }

    /// An index with `config` of `count` [`noise`] vectors of `dimensions`, committed, and
    /// the vectors (point `i` holds vector `i`).
    fn noise_index(
        count: u64,
        dimensions: usize,
        config: &IndexConfig,
    ) -> (VectorIndex, Vec<Vec<f32>>) {
        let mut index = VectorIndex::new(dimensions, config);
        let vectors: Vec<Vec<f32>> = (0..count).map(|seed| noise(seed, dimensions)).collect();
        for vector in &vectors {
            index.insert(vector).unwrap();
        }
        index.commit().unwrap();
        (index, vectors)
    }

    /// The points of `hits`, in order.
    fn ids(hits: Vec<(usize, f32)>) -> Vec<usize> {
        hits.into_iter().map(|(id, _)| id).collect()
    }

    /// The hash embedder's vectors (256 dimensions) of the Medline abstracts.
    fn hashed_abstracts() -> Vec<Vec<f32>> {
        let path = crate::parse::test_corpus::corpus_dir().join("../eval/ir/medline/corpus.jsonl");
        let text =
            fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let embedder = crate::embed::hash::HashEmbedder::new(256);
        text.lines()
            .map(|line| {
                let record: serde_json::Value = serde_json::from_str(line).unwrap();
                embedder.embed(record["text"].as_str().unwrap())
            })
            .collect()
    }

    /// Vectors like feature-hashed texts make HNSW's neighbour pruning leave points that no
    /// link leads to; every point must still be found, by its own vector and in a search for
    /// everything.
    #[test]
    fn every_point_is_found_even_where_no_link_leads() {
        let config = IndexConfig::default();
        let mut index = VectorIndex::new(256, &config);
        let vectors = hashed_abstracts();
        let points: Vec<usize> = vectors.iter().map(|v| index.insert(v).unwrap()).collect();
        index.commit().unwrap();
        assert!(
            !index.unreached.is_empty(),
            "the data leave points unreached"
        );
        let missing: Vec<usize> = index
            .unreached
            .iter()
            .filter(|&&point| {
                let found = index.graph_search(&vectors[point], 10, 200);
                found.first().is_none_or(|(id, _)| *id != point)
            })
            .copied()
            .collect();
        assert_eq!(missing, Vec::<usize>::new());
        // Filtered to itself, an unreached point is found too.
        let point = index.unreached[0];
        let alone = index.search(&vectors[point], 3, 64, Some(&[point]));
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].0, point);
        assert_eq!(
            points.len(),
            index.search(&vectors[0], 5000, 64, None).len()
        );
        // Saved and loaded, the graph keeps knowing them.
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let loaded = VectorIndex::load(dir.path(), &config).unwrap();
        assert_eq!(loaded.unreached, index.unreached);
    }

    /// A graph walk whose nearest points are tombstones walks past them to `k` live ones.
    #[test]
    fn a_walk_past_tombstones_still_finds_k_live_points() {
        let (mut index, vectors) = noise_index(3000, 16, &IndexConfig::default());
        let query = &vectors[0];
        let removed = ids(index.exact_search(query, 200, None));
        for &point in &removed {
            index.remove(point);
        }
        let found = index.graph_search(query, 5, 16);
        assert_eq!(found.len(), 5, "{found:?}");
        assert!(
            found.iter().all(|(id, _)| !removed.contains(id)),
            "{found:?}"
        );
    }

    /// A filter that allows too many points to score them all walks the graph and keeps to
    /// them; a search for most of them scores them all.
    #[test]
    fn a_wide_filter_walks_the_graph_and_keeps_to_it() {
        let config = IndexConfig {
            m: 8,
            ef_search: 24,
            ..IndexConfig::default()
        };
        let (index, vectors) = noise_index(7000, 16, &config);
        let allowed: Vec<usize> = (0..7000).step_by(3).collect();
        assert!(allowed.len() > EXACT_AMONG);
        assert!(walk_is_cheaper(
            15,
            config.ef_search,
            config.m,
            allowed.len()
        ));
        let found = index.search(&vectors[300], 5, config.ef_search, Some(&allowed));
        assert_eq!(found.len(), 5, "{found:?}");
        assert_eq!(found[0].0, 300);
        assert!(found.iter().all(|(id, _)| id % 3 == 0), "{found:?}");
        let most = index.search(&vectors[300], 2000, config.ef_search, Some(&allowed));
        let exact = index.exact_search(&vectors[300], 2000, Some(&allowed));
        assert_eq!(ids(most), ids(exact));
    }

    /// A search narrowed to a few allowed points scores exactly those.
    #[test]
    fn a_narrow_filter_is_searched_exactly() {
        let (index, vectors) = noise_index(600, 256, &IndexConfig::default());
        let allowed: Vec<usize> = (0..600).step_by(7).collect();
        let found = ids(index.search(&vectors[14], 5, 16, Some(&allowed)));
        assert_eq!(
            found,
            ids(index.exact_search(&vectors[14], 5, Some(&allowed)))
        );
        assert_eq!(found[0], 14);
    }

    /// An index opened to search reads its saved graph only to walk it: a search that scores
    /// its candidates (a narrow filter) never loads it, and a walk finds what the index loaded
    /// whole finds. A damaged graph is never walked: searches score every point.
    #[test]
    fn an_opened_index_reads_its_graph_only_to_walk_it() {
        let config = IndexConfig {
            m: 4,
            ef_search: 8,
            ..IndexConfig::default()
        };
        let (mut index, vectors) = noise_index(1000, 16, &config);
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let loaded = VectorIndex::load(dir.path(), &config).unwrap();
        let opened = VectorIndex::open(dir.path(), &config).unwrap();
        let graph_read = || {
            let saved = opened.saved_graph.as_ref().expect("a saved graph");
            saved.loaded.get().is_some_and(Option::is_some)
        };
        let query = &vectors[7];
        let few: Vec<usize> = (0..50).collect();
        assert_eq!(
            opened.search(query, 5, 8, Some(&few)),
            loaded.search(query, 5, 8, Some(&few))
        );
        assert!(!graph_read(), "a narrow filter scores its points");
        assert!(walk_is_cheaper(10, 8, 4, 1000), "the search below walks");
        assert_eq!(
            opened.search(query, 10, 8, None),
            loaded.search(query, 10, 8, None)
        );
        assert!(graph_read());
        assert!(!opened.graph_found_unusable());
        let data = dir.path().join("hnsw.hnsw.data");
        let file = fs::OpenOptions::new().write(true).open(&data).unwrap();
        file.set_len(100).unwrap();
        let damaged = VectorIndex::open(dir.path(), &config).unwrap();
        assert!(!damaged.graph_found_unusable(), "not read yet");
        damaged.search(&vectors[0], 5, 8, Some(&few));
        assert!(
            !damaged.graph_found_unusable(),
            "a narrow filter never reads it"
        );
        for query in &vectors[..20] {
            assert_eq!(
                ids(damaged.search(query, 10, 8, None)),
                ids(damaged.exact_search(query, 10, None))
            );
        }
        assert!(damaged.graph_found_unusable());
    }
}
