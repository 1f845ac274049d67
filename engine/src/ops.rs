//! Builds the runtime nodes of a planned pipeline from the operator library.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use operators::came_twice::{SecondOffer, came_twice, second_offer};
use operators::chunk::Chunker;
use operators::embed::Embed;
use operators::embed::cache::LruCache;
use operators::index::{Entry, IndexConfig, IndexUpdate, StoredHit};
use operators::model::ChunkSet;
use operators::parse::{ParseConfig, parse};
use operators::sink::JsonlSink;
use operators::source::{DocumentSource, FileSource, FilesConfig, JsonlSource, SourceEvent};

use crate::in_flight::InFlight;
use crate::plan::Plan;
use crate::registry::OperatorConfig;
use crate::runtime::{
    BatchOp, Emitted, FailedDocuments, Item, Node, Operator, Position, Publish, SinkOp, SourceOp,
    TransformOp,
};
use crate::spec::load::{Pipeline, Step};
use crate::store::Store;
use crate::vectors::StoredVectors;

/// Workers a parallel step gets unless the pipeline says otherwise.
pub fn default_parallelism() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

/// The nodes of `plan`, in its order, ready for [`crate::runtime::execute`]; embed steps keep
/// their vectors in `store` when one is given.
///
/// `build` is what each index records of the run that updates it (its id and the steps'
/// fingerprints), so that a query can tell an index older than the pipeline file.
pub fn build_nodes(
    pipeline: &Pipeline,
    plan: &Plan,
    store: Option<&Arc<Store>>,
    build: &serde_json::Value,
) -> anyhow::Result<Vec<Node>> {
    let position: std::collections::HashMap<&str, usize> = plan
        .order
        .iter()
        .enumerate()
        .map(|(position, planned)| (pipeline.steps[planned.index].name.as_str(), position))
        .collect();
    plan.order
        .iter()
        .map(|planned| {
            let step = &pipeline.steps[planned.index];
            let operator = operator(pipeline, step, &planned.fingerprint, store, build)
                .with_context(|| format!("step `{}` cannot start", step.name))?;
            Ok(Node {
                name: step.name.clone(),
                op: step.config.info().name.to_owned(),
                fingerprint: planned.fingerprint.clone(),
                operator,
                inputs: step
                    .inputs
                    .iter()
                    .map(|input| position[input.as_str()])
                    .collect(),
                parallelism: step.parallelism.unwrap_or_else(default_parallelism),
                capacity: step.channel_capacity.unwrap_or(pipeline.channel_capacity),
            })
        })
        .collect()
}

/// The source a `source.files` step of `pipeline` reads with: never the pipeline's own files.
pub(crate) fn file_source(
    pipeline: &Pipeline,
    config: &FilesConfig,
) -> Result<FileSource, globset::Error> {
    Ok(FileSource::new(config, &pipeline.base)?.skipping(written_by(pipeline)))
}

/// What a pipeline is made of and writes: its own file, its store and the files of its sinks.
/// A source never reads them.
fn written_by(pipeline: &Pipeline) -> Vec<PathBuf> {
    let sinks = pipeline.steps.iter().flat_map(|step| match &step.config {
        OperatorConfig::SinkJsonl(config) => JsonlSink::files(config, &pipeline.base).to_vec(),
        _ => Vec::new(),
    });
    [pipeline.file.clone(), pipeline.store.clone()]
        .into_iter()
        .chain(sinks)
        .collect()
}

/// Calls of `chunk.semantic`'s sentence embedding kept in memory in front of the store's (each
/// up to 256 vectors).
const SENTENCE_CALLS_IN_MEMORY: usize = 16;

/// The runtime operator of one step.
fn operator(
    pipeline: &Pipeline,
    step: &Step,
    fingerprint: &str,
    store: Option<&Arc<Store>>,
    build: &serde_json::Value,
) -> anyhow::Result<Operator> {
    let base = pipeline.base.as_path();
    Ok(match &step.config {
        OperatorConfig::SourceFiles(config) => Operator::Source(Box::new(Source::new(
            file_source(pipeline, config)?,
            &config.id_prefix,
        ))),
        OperatorConfig::SourceJsonl(config) => Operator::Source(Box::new(Source::new(
            JsonlSource::new(config, base),
            &config.id_prefix,
        ))),
        OperatorConfig::Parse(config) => Operator::Transform(Arc::new(Parse(config.clone()))),
        OperatorConfig::ChunkRecursive(config) => chunking(config.chunker(base, fingerprint)?),
        OperatorConfig::ChunkByHeading(config) => chunking(config.chunker(base, fingerprint)?),
        OperatorConfig::ChunkByPage(config) => chunking(config.chunker(base, fingerprint)?),
        OperatorConfig::ChunkSemantic(config) => chunking(config.chunker_keeping(
            base,
            fingerprint,
            store.map(|store| {
                StoredVectors::cache(
                    Arc::new(LruCache::new(SENTENCE_CALLS_IN_MEMORY)),
                    Arc::clone(store),
                )
            }),
        )?),
        OperatorConfig::ChunkSmart(config) => chunking(config.chunker(base, fingerprint)?),
        OperatorConfig::Embed(config) => Operator::Batch(Arc::new(EmbedOp {
            embed: match store {
                Some(store) => Embed::new_with(config, base, |memory| {
                    StoredVectors::cache(memory, Arc::clone(store))
                }),
                None => Embed::new(config, base),
            },
            texts_per_call: config.texts_per_call(),
        })),
        OperatorConfig::SinkJsonl(config) => {
            Operator::Sink(Box::new(Jsonl::new(JsonlSink::create(config, base)?)))
        }
        OperatorConfig::IndexHybrid(config) => {
            crate::query::move_legacy_index(pipeline, &step.name)?;
            Operator::Sink(Box::new(HybridIndexSink {
                dir: crate::query::index_dir(pipeline, &step.name),
                config: config.clone(),
                build: build.clone(),
                update: None,
                contents_left_out: 0,
            }))
        }
    })
}

/// Any document source as a runtime source, its documents bounded in bytes ([`InFlight`]) and
/// their ids after the source's `id_prefix`.
struct Source<S> {
    source: S,
    in_flight: InFlight,
    id_prefix: String,
}

impl<S> Source<S> {
    fn new(source: S, id_prefix: &str) -> Self {
        Source {
            source,
            in_flight: InFlight::new(crate::in_flight::BUDGET),
            id_prefix: id_prefix.to_owned(),
        }
    }
}

/// `id` after `prefix`; an empty id (the source as a whole) stays empty.
fn prefixed(prefix: &str, id: String) -> String {
    match prefix.is_empty() || id.is_empty() {
        true => id,
        false => format!("{prefix}{id}"),
    }
}

impl<S: DocumentSource> SourceOp for Source<S> {
    fn run(&mut self, emit: &mut dyn FnMut(Emitted) -> ControlFlow<()>) -> anyhow::Result<()> {
        let Source {
            source,
            in_flight,
            id_prefix,
        } = self;
        let prefixed = |id: String| prefixed(id_prefix, id);
        source.scan(&mut |event| {
            emit(match event {
                SourceEvent::Document(mut doc) => {
                    doc.doc_id = prefixed(std::mem::take(&mut doc.doc_id));
                    let lease = in_flight.admit(doc.bytes.len() as u64);
                    Emitted::Leased(Item::Document(Arc::new(doc)), lease)
                }
                SourceEvent::Error(err) => Emitted::Error {
                    doc_id: prefixed(err.doc_id),
                    message: err.message,
                },
                SourceEvent::FolderError(err) => Emitted::FolderError {
                    folder: prefixed(err.doc_id),
                    message: err.message,
                },
                // `file:line`: the entry, not a document.
                SourceEvent::Unplaced(err) => Emitted::Unplaced {
                    doc_id: err.doc_id,
                    message: err.message,
                },
                SourceEvent::Warning(warning) => Emitted::Warning {
                    doc_id: prefixed(warning.doc_id),
                    message: warning.message,
                },
            })
        })?;
        Ok(())
    }
}

/// `parse`.
struct Parse(ParseConfig);

impl TransformOp for Parse {
    fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
        let Item::Document(doc) = item else {
            bail!("parse takes documents, got {}", item.item_type());
        };
        Ok(Some(Item::Parsed(Arc::new(parse(doc, &self.0)?))))
    }

    fn key_variant(&self, item: &Item) -> Option<String> {
        let Item::Document(doc) = item else {
            return None;
        };
        operators::parse::versions::output_variant(doc, &self.0)
    }

    /// Whether a PDF runs out of time depends on its budget, which the fingerprint leaves out.
    fn failure_variant(&self) -> Option<String> {
        Some(format!(
            "pdf time budget {} s",
            self.0.pdf.time_budget_seconds
        ))
    }

    /// A document the parser refuses (damaged, encrypted, too large, out of time while it had
    /// the processor) is refused again while its bytes, the settings and its format's parser
    /// stay as they are.
    fn failure_is_final(&self, error: &anyhow::Error) -> bool {
        (error.downcast_ref::<operators::parse::ParseError>())
            .is_some_and(operators::parse::ParseError::recurs)
    }
}

fn chunking(chunker: Chunker) -> Operator {
    Operator::Transform(Arc::new(Chunking(chunker)))
}

/// Every `chunk.*` operator: a [`Chunker`] with its strategy, settings and tokenizer.
struct Chunking(Chunker);

impl TransformOp for Chunking {
    fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
        let Item::Parsed(doc) = item else {
            bail!(
                "chunk.{} takes parsed documents, got {}",
                self.0.strategy().name(),
                item.item_type()
            );
        };
        Ok(Some(Item::Chunks(Arc::new(self.0.chunk(doc)?))))
    }
}

/// `embed`: the chunks of the documents waiting at the step go to the provider together.
struct EmbedOp {
    embed: Embed,
    texts_per_call: usize,
}

impl BatchOp for EmbedOp {
    fn weight(&self, item: &Item) -> usize {
        match item {
            Item::Chunks(set) => set.chunks.len(),
            _ => 1,
        }
    }

    fn budget(&self) -> usize {
        self.texts_per_call
    }

    fn apply_batch(&self, items: &[&Item]) -> Vec<anyhow::Result<Option<Item>>> {
        let sets: Vec<&ChunkSet> = items
            .iter()
            .filter_map(|item| match item {
                Item::Chunks(set) => Some(set.as_ref()),
                _ => None,
            })
            .collect();
        let mut embedded = self.embed.embed_sets(&sets).into_iter();
        items
            .iter()
            .map(|item| match item {
                Item::Chunks(_) => match embedded.next() {
                    Some(Ok(set)) => Ok(Some(Item::Embedded(Arc::new(set)))),
                    // Cancelled before its texts were embedded: not done, and not failed.
                    Some(Err(error)) if error.stopped => Err(operators::stop::Stopped.into()),
                    Some(Err(error)) => Err(error.into()),
                    None => Err(anyhow::anyhow!("no result for the document")),
                },
                other => Err(anyhow::anyhow!(
                    "embed takes chunks, got {}",
                    other.item_type()
                )),
            })
            .collect()
    }
}

/// `sink.jsonl`: documents and parsed documents as one line each, chunks one line per chunk
/// (embedded chunks with their `vector`). The lines of a document that failed in the run are
/// taken over from the previous output, as an index keeps such a document's chunks.
struct Jsonl {
    sink: JsonlSink,
    /// The documents written in this run.
    written: HashSet<String>,
    /// Per input step and document: the content hash and item number of what was written.
    by_branch: HashMap<(usize, String), (String, usize)>,
    /// The documents that failed in the run.
    failed: FailedDocuments,
}

impl Jsonl {
    fn new(sink: JsonlSink) -> Self {
        Jsonl {
            sink,
            written: HashSet::new(),
            by_branch: HashMap::new(),
            failed: FailedDocuments::default(),
        }
    }
}

impl SinkOp for Jsonl {
    /// A document that comes twice from one input step with other content (two sources with
    /// the same id) fails: of the two, the one whose content hash is smaller is written,
    /// whichever came first, so that the output does not depend on the order they arrive in.
    fn write(&mut self, item: &Item, position: Position) -> anyhow::Result<()> {
        let branch = (position.from, item.doc_id().to_owned());
        let hash = item.content_hash();
        let replaced = match self.by_branch.get(&branch) {
            Some((first, number)) => {
                let twice = anyhow::anyhow!(came_twice(item.doc_id(), "the output"));
                match second_offer(first, hash) {
                    SecondOffer::Same => return Ok(()),
                    SecondOffer::KeepFirst => return Err(twice),
                    SecondOffer::Replace => Some((*number, twice)),
                }
            }
            None => None,
        };
        if !self.written.contains(item.doc_id()) {
            self.written.insert(item.doc_id().to_owned());
        }
        let number = self.sink.start_item(output_order(position));
        self.by_branch.insert(branch, (hash.to_owned(), number));
        match item {
            Item::Document(doc) => self.sink.write(doc.as_ref())?,
            Item::Parsed(doc) => self.sink.write(doc.as_ref())?,
            Item::Chunks(set) => {
                for chunk in &set.chunks {
                    self.sink.write(chunk)?;
                }
            }
            Item::Embedded(set) => {
                for chunk in &set.chunks {
                    self.sink.write(chunk)?;
                }
            }
        }
        match replaced {
            Some((number, twice)) => {
                self.sink.drop_item(number);
                Err(twice)
            }
            None => Ok(()),
        }
    }

    fn documents_failed(&mut self, failed: &FailedDocuments) {
        self.failed = failed.clone();
    }

    fn finish(mut self: Box<Self>) -> anyhow::Result<Publish> {
        if !self.failed.ids.is_empty() || !self.failed.folders.is_empty() {
            let (failed, written) = (&self.failed, &self.written);
            self.sink
                .keep_previous(|doc_id| failed.contains(doc_id) && !written.contains(doc_id))?;
        }
        let written = self.sink.finish()?;
        Ok(Publish::new(vec![written.rename()], move || {
            written.publish()?;
            Ok(())
        }))
    }
}

/// Where an item's lines go in a JSON Lines output: by source, then by the document's place in
/// its source, then by the branch that brought it.
fn output_order(position: Position) -> u128 {
    ((position.source as u128) << 96) | ((position.document as u128) << 32) | position.from as u128
}

/// `index.hybrid`: each document's embedded chunks upserted by content; when the run completes,
/// documents no longer offered are removed (unless they failed in the run: those keep their
/// indexed chunks) and the new index generation is switched in.
struct HybridIndexSink {
    dir: std::path::PathBuf,
    config: IndexConfig,
    /// What the index records of the run ([`IndexUpdate::record_build`]).
    build: serde_json::Value,
    update: Option<IndexUpdate>,
    /// Chunks of table of contents entries the run's documents had, left out of the index
    /// (unless `contents` is set).
    contents_left_out: usize,
}

impl HybridIndexSink {
    fn update(&mut self, model: Option<&str>) -> anyhow::Result<&mut IndexUpdate> {
        if self.update.is_none() {
            let mut update = IndexUpdate::begin(&self.dir, &self.config, model)?;
            update.record_build(self.build.clone());
            self.update = Some(update);
        }
        Ok(self.update.as_mut().expect("begun above"))
    }
}

/// How the index writes an entry, part of every content key so that a change of it re-indexes
/// each document once (2: a number in metadata is indexed as a number, not as its text; 3: title
/// and section headings indexed exactly, CJK bigrams and accent folding; 4: a chunk's section
/// filters pass it under every section it covers, not only the one it starts in; 5: a
/// document's first chunk is found by its title too). A change of the text analysis is a new
/// index format instead (`FORMAT` in the index), which queries refuse until a run indexes it
/// afresh: a query read with other rules than the index would miss what it holds.
const INDEXED_AS: &[u8] = b"entries 5\0";

/// What identifies the entries of an embedded document in the index: the model and everything
/// an entry holds (the hit, metadata, pages, sections and vector), so a new title, metadata, source or
/// vector (e.g. `context_header` switched on) re-indexes the document and nothing else does.
fn content_key(model: &str, entries: &[Entry]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(INDEXED_AS);
    hasher.update(model.as_bytes());
    for entry in entries {
        hasher.update(b"\0");
        let described =
            serde_json::to_vec(&(&entry.hit, &entry.metadata, entry.pages, &entry.sections))
                .unwrap_or_default();
        hasher.update(&described);
        for value in &entry.vector {
            hasher.update(&value.to_le_bytes());
        }
    }
    hasher.finalize().to_hex().to_string()
}

impl SinkOp for HybridIndexSink {
    fn write(&mut self, item: &Item, _position: Position) -> anyhow::Result<()> {
        let Item::Embedded(set) = item else {
            bail!(
                "index.hybrid takes embedded chunks, got {}",
                item.item_type()
            );
        };
        let kept = |embedded: &&operators::model::EmbeddedChunk| {
            self.config.contents || !embedded.chunk.is_contents()
        };
        let entries: Vec<Entry> = set
            .chunks
            .iter()
            .filter(kept)
            .map(|embedded| {
                let chunk = &embedded.chunk;
                Entry {
                    hit: StoredHit {
                        chunk_id: chunk.chunk_id.clone(),
                        doc_id: chunk.doc_id.clone(),
                        source: set.source.clone(),
                        title: set.title.clone(),
                        section: chunk.section.clone(),
                        page: chunk.pages.map(|pages| pages[0]),
                        text: chunk.text.clone(),
                    },
                    metadata: chunk.metadata.clone(),
                    pages: chunk.pages,
                    sections: chunk.sections.clone().unwrap_or_default(),
                    vector: embedded.vector.clone(),
                }
            })
            .collect();
        self.contents_left_out += set.chunks.len() - entries.len();
        // Led by the document's content hash: of two documents with one id (two sources),
        // the index keeps the one a `sink.jsonl` keeps, the smaller hash.
        let key = format!("{}:{}", set.hash, content_key(&set.model, &entries));
        self.update(Some(&set.model))?
            .upsert(&set.doc_id, &key, &entries)?;
        Ok(())
    }

    fn documents_failed(&mut self, failed: &FailedDocuments) {
        // An index that cannot be opened is reported by `finish`.
        if let Ok(update) = self.update(None) {
            update.keep_failed(failed);
        }
    }

    fn finish(self: Box<Self>) -> anyhow::Result<Publish> {
        Ok(self.finish_reporting()?.0)
    }

    fn finish_reporting(
        mut self: Box<Self>,
    ) -> anyhow::Result<(Publish, Option<serde_json::Value>)> {
        self.update(None)?;
        let Some(update) = self.update.take() else {
            return Ok((Publish::nothing(), None));
        };
        let (stats, switch) = update.finish()?;
        let publish = Publish::new(switch.renames(), move || {
            switch.publish()?;
            Ok(())
        });
        let mut outcome = serde_json::to_value(stats)?;
        if self.contents_left_out > 0 {
            outcome["contents_chunks_left_out"] = self.contents_left_out.into();
        }
        Ok((publish, Some(outcome)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use operators::embed::{EmbedError, Embedder, Embeddings, Placement, cache::NoCache};
    use operators::model::{BatchDebug, Chunk};

    use super::*;
    use crate::runtime::tests::Count;
    use crate::runtime::{Checkpoint, Checkpoints, Execution, Node, Options, execute};
    use crate::store::{ItemRecord, Key};

    /// Embeds batches of two texts in order, checking the stop request before each; Ctrl-C
    /// comes (the run's cancel and the stop request, as the CLI's handler sets them) while
    /// batch number `trip` runs.
    struct Stepping {
        trip: usize,
        stop: &'static AtomicBool,
        cancel: Arc<AtomicBool>,
        batches: AtomicUsize,
    }

    impl Embedder for Stepping {
        fn fingerprint(&self) -> String {
            "stepping".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            Ok(self.embed_documents_debug(texts)?.vectors)
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            Ok(vec![text.len() as f32, 1.0])
        }

        fn embed_documents_until(
            &self,
            texts: &[&str],
            stop: &AtomicBool,
        ) -> Result<Embeddings, EmbedError> {
            let mut out = Embeddings::default();
            for batch in texts.chunks(2) {
                if stop.load(Ordering::SeqCst) {
                    out.stopped = true;
                    out.vectors.extend(batch.iter().map(|_| Vec::new()));
                    out.placements
                        .extend(batch.iter().map(|_| Placement::default()));
                    continue;
                }
                if self.batches.fetch_add(1, Ordering::SeqCst) + 1 == self.trip {
                    self.cancel.store(true, Ordering::SeqCst);
                    self.stop.store(true, Ordering::SeqCst);
                }
                out.vectors
                    .extend(batch.iter().map(|t| vec![t.len() as f32, 1.0]));
                out.placements.extend(batch.iter().map(|_| Placement {
                    batch: out.batches.len(),
                    truncated: false,
                }));
                out.batches.push(BatchDebug {
                    size: batch.len(),
                    ..BatchDebug::default()
                });
            }
            Ok(out)
        }
    }

    /// Emits chunk sets.
    struct Sets(Vec<ChunkSet>);

    impl SourceOp for Sets {
        fn run(&mut self, emit: &mut dyn FnMut(Emitted) -> ControlFlow<()>) -> anyhow::Result<()> {
            for set in self.0.drain(..) {
                if emit(Emitted::Item(Item::Chunks(Arc::new(set)))).is_break() {
                    break;
                }
            }
            Ok(())
        }
    }

    /// A parse step's failures are stored under its PDF time budget, which its fingerprint
    /// leaves out: a document that timed out is parsed again under a larger one.
    #[test]
    fn a_parse_failure_depends_on_the_time_budget() {
        let with_budget = |seconds: u64| {
            let mut config = ParseConfig::default();
            config.pdf.time_budget_seconds = seconds;
            Parse(config).failure_variant()
        };
        assert_eq!(with_budget(60), with_budget(60));
        assert_ne!(with_budget(60), with_budget(120));
    }

    /// Checkpoints in memory: nothing found, everything stored and recorded kept.
    #[derive(Default)]
    struct Memory {
        stored: Mutex<Vec<(String, Option<Item>)>>,
        records: Mutex<Vec<(String, String, ItemRecord)>>,
    }

    impl Checkpoints for Memory {
        fn get(&self, _fingerprint: &str, _key: &Key) -> Option<(Checkpoint, u64)> {
            None
        }
        fn put_failure(&self, _fingerprint: &str, _key: &Key, _message: &str) -> u64 {
            0
        }
        fn put(&self, fingerprint: &str, _key: &Key, output: Option<&Item>) -> u64 {
            self.stored
                .lock()
                .unwrap()
                .push((fingerprint.to_owned(), output.cloned()));
            1
        }
        fn record(&self, step: &str, doc_id: &str, record: ItemRecord) {
            self.records
                .lock()
                .unwrap()
                .push((step.to_owned(), doc_id.to_owned(), record));
        }
    }

    fn chunk_set(doc: usize, chunks: usize) -> ChunkSet {
        let doc_id = format!("d{doc}");
        ChunkSet {
            doc_id: doc_id.clone(),
            source: doc_id.clone(),
            title: None,
            hash: doc_id.clone(),
            chunks: (0..chunks)
                .map(|ordinal| {
                    let text = format!("text {ordinal} of {doc_id}");
                    Chunk {
                        chunk_id: format!("{doc_id}#{ordinal}"),
                        doc_id: doc_id.clone(),
                        ordinal,
                        span: [0, text.len()],
                        text,
                        embed_text: None,
                        section: Vec::new(),
                        sections: None,
                        pages: None,
                        tokens: 1,
                        kinds: Vec::new(),
                        metadata: Default::default(),
                    }
                })
                .collect(),
            debug: None,
        }
    }

    fn node(name: &str, operator: Operator, inputs: Vec<usize>) -> Node {
        Node {
            name: name.to_owned(),
            op: name.to_owned(),
            fingerprint: name.to_owned(),
            operator,
            inputs,
            parallelism: 1,
            capacity: 64,
        }
    }

    /// Ctrl-C while an embed step runs a call of several model batches: the batches after the
    /// one running then are not run, the documents whose texts all ran are checkpointed
    /// whole, the others are neither checkpointed nor recorded (as done or as failed), so
    /// the next run embeds them.
    #[test]
    fn a_cancelled_embed_stops_between_batches_and_checkpoints_only_whole_documents() {
        let memory = Arc::new(Memory::default());
        let options = Options {
            checkpoints: Some(memory.clone()),
            ..Options::default()
        };
        let provider = Arc::new(Stepping {
            trip: 2,
            stop: Box::leak(Box::new(AtomicBool::new(false))),
            cancel: options.cancel.clone(),
            batches: AtomicUsize::new(0),
        });
        let embed =
            Embed::with_cache(provider.clone(), Arc::new(NoCache)).stopping_on(provider.stop);
        // Five documents of three texts: eight batches of two to embed them all.
        let sets: Vec<ChunkSet> = (0..5).map(|doc| chunk_set(doc, 3)).collect();
        let nodes = vec![
            node("src", Operator::Source(Box::new(Sets(sets))), vec![]),
            node(
                "embed",
                Operator::Batch(Arc::new(EmbedOp {
                    embed,
                    texts_per_call: 100,
                })),
                vec![0],
            ),
            node(
                "sink",
                Operator::Sink(Box::new(Count(Arc::default()))),
                vec![1],
            ),
        ];
        let run: Execution = execute(nodes, options);
        assert!(run.cancelled);
        // Two of the eight batches ran, whichever documents the step gathered per call.
        assert_eq!(provider.batches.load(Ordering::SeqCst), 2);
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        let embed_report = &run.steps[1].1;
        assert_eq!(embed_report.failed, 0);
        // Every document the step took in is done or stopped: none is lost from the counts.
        let stopped = embed_report.stopped.unwrap_or(0);
        assert!(stopped > 0);
        assert_eq!(embed_report.input, embed_report.output + stopped);
        // The four texts embedded complete d0 only (d1 has one of its three).
        let stored = memory.stored.lock().unwrap();
        let done: Vec<&str> = stored
            .iter()
            .map(|(fingerprint, item)| {
                assert_eq!(fingerprint, "embed");
                let Some(Item::Embedded(set)) = item else {
                    panic!("stored {item:?}")
                };
                assert_eq!(set.chunks.len(), 3);
                assert!(set.chunks.iter().all(|c| c.vector.len() == 2));
                set.doc_id.as_str()
            })
            .collect();
        assert_eq!(done, ["d0"]);
        let records = memory.records.lock().unwrap();
        let embedded: Vec<(&str, bool)> = records
            .iter()
            .filter(|(step, _, _)| step == "embed")
            .map(|(_, doc, record)| (doc.as_str(), record.error.is_some()))
            .collect();
        assert_eq!(embedded, [("d0", false)]);
    }

    /// Tags the chunk ids of a set with the step's name, the earliest documents slowest.
    struct SlowFirst(&'static str);

    impl TransformOp for SlowFirst {
        fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
            let Item::Chunks(set) = item else {
                bail!("chunks expected")
            };
            let doc: u64 = set.doc_id[1..].parse()?;
            std::thread::sleep(std::time::Duration::from_millis(20 * (6 - doc)));
            let mut set = set.as_ref().clone();
            for chunk in &mut set.chunks {
                chunk.chunk_id = format!("{} {}", self.0, chunk.chunk_id);
            }
            Ok(Some(Item::Chunks(Arc::new(set))))
        }
    }

    /// Workers finish the documents in reverse order, on two branches into one sink: the file
    /// holds them in the source's order, each document's items in the order of the branches,
    /// and each item's lines as written.
    #[test]
    fn a_jsonl_output_is_in_source_order_whatever_order_the_items_arrive_in() {
        let dir = tempfile::tempdir().unwrap();
        let config = operators::sink::JsonlSinkConfig {
            path: "out.jsonl".to_owned(),
        };
        let sink = Jsonl::new(JsonlSink::create(&config, dir.path()).unwrap());
        let sets: Vec<ChunkSet> = (0..6).map(|doc| chunk_set(doc, 2)).collect();
        let slow = |name: &'static str| Node {
            parallelism: 6,
            ..node(
                name,
                Operator::Transform(Arc::new(SlowFirst(name))),
                vec![0],
            )
        };
        let nodes = vec![
            node("src", Operator::Source(Box::new(Sets(sets))), vec![]),
            slow("a"),
            slow("b"),
            node("sink", Operator::Sink(Box::new(sink)), vec![2, 1]),
        ];
        let run = execute(nodes, Options::default());
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        let written = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
        let ids: Vec<String> = written
            .lines()
            .map(|line| serde_json::from_str::<Chunk>(line).unwrap().chunk_id)
            .collect();
        let expected: Vec<String> = (0..6)
            .flat_map(|doc| {
                ["a", "b"].into_iter().flat_map(move |branch| {
                    (0..2).map(move |ordinal| format!("{branch} d{doc}#{ordinal}"))
                })
            })
            .collect();
        assert_eq!(ids, expected);
    }
}
