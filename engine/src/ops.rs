//! Builds the runtime nodes of a planned pipeline from the operator library.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use operators::chunk::Chunker;
use operators::embed::Embed;
use operators::index::{Entry, IndexConfig, IndexUpdate, StoredHit};
use operators::model::ChunkSet;
use operators::parse::{ParseConfig, parse};
use operators::sink::JsonlSink;
use operators::source::{DocumentSource, FileSource, JsonlSource, SourceEvent};

use crate::in_flight::InFlight;
use crate::plan::Plan;
use crate::registry::OperatorConfig;
use crate::runtime::{
    BatchOp, Emitted, FailedDocuments, Item, Node, Operator, Publish, SinkOp, SourceOp, TransformOp,
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
pub fn build_nodes(
    pipeline: &Pipeline,
    plan: &Plan,
    store: Option<&Arc<Store>>,
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
            let operator = operator(pipeline, step, &planned.fingerprint, store)
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

/// The runtime operator of one step.
fn operator(
    pipeline: &Pipeline,
    step: &Step,
    fingerprint: &str,
    store: Option<&Arc<Store>>,
) -> anyhow::Result<Operator> {
    let base = pipeline.base.as_path();
    Ok(match &step.config {
        OperatorConfig::SourceFiles(config) => Operator::Source(Box::new(Source::new(
            FileSource::new(config, base)?.skipping(written_by(pipeline)),
        ))),
        OperatorConfig::SourceJsonl(config) => {
            Operator::Source(Box::new(Source::new(JsonlSource::new(config, base))))
        }
        OperatorConfig::Parse(config) => Operator::Transform(Arc::new(Parse(config.clone()))),
        OperatorConfig::ChunkRecursive(config) => chunking(config.chunker(base, fingerprint)?),
        OperatorConfig::ChunkByHeading(config) => chunking(config.chunker(base, fingerprint)?),
        OperatorConfig::ChunkByPage(config) => chunking(config.chunker(base, fingerprint)?),
        OperatorConfig::ChunkSemantic(config) => chunking(config.chunker(base, fingerprint)?),
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
                update: None,
            }))
        }
    })
}

/// Any document source as a runtime source, its documents bounded in bytes ([`InFlight`]).
struct Source<S> {
    source: S,
    in_flight: InFlight,
}

impl<S> Source<S> {
    fn new(source: S) -> Self {
        Source {
            source,
            in_flight: InFlight::new(crate::in_flight::BUDGET),
        }
    }
}

impl<S: DocumentSource> SourceOp for Source<S> {
    fn run(&mut self, emit: &mut dyn FnMut(Emitted) -> ControlFlow<()>) -> anyhow::Result<()> {
        let in_flight = &mut self.in_flight;
        self.source.scan(&mut |event| {
            emit(match event {
                SourceEvent::Document(doc) => Emitted::Item(Item::Document(in_flight.admit(doc))),
                SourceEvent::Error(err) => Emitted::Error {
                    doc_id: err.doc_id,
                    message: err.message,
                },
                SourceEvent::FolderError(err) => Emitted::FolderError {
                    folder: err.doc_id,
                    message: err.message,
                },
                SourceEvent::Warning(warning) => Emitted::Warning {
                    doc_id: warning.doc_id,
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
    /// The documents that failed in the run.
    failed: FailedDocuments,
}

impl Jsonl {
    fn new(sink: JsonlSink) -> Self {
        Jsonl {
            sink,
            written: HashSet::new(),
            failed: FailedDocuments::default(),
        }
    }
}

impl SinkOp for Jsonl {
    fn write(&mut self, item: &Item) -> anyhow::Result<()> {
        if !self.written.contains(item.doc_id()) {
            self.written.insert(item.doc_id().to_owned());
        }
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
        Ok(())
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
        Ok(Box::new(move || {
            written.publish()?;
            Ok(())
        }))
    }
}

/// `index.hybrid`: each document's embedded chunks upserted by content; when the run completes,
/// documents no longer offered are removed (unless they failed in the run: those keep their
/// indexed chunks) and the new index generation is switched in.
struct HybridIndexSink {
    dir: std::path::PathBuf,
    config: IndexConfig,
    update: Option<IndexUpdate>,
}

impl HybridIndexSink {
    fn update(&mut self, model: Option<&str>) -> anyhow::Result<&mut IndexUpdate> {
        if self.update.is_none() {
            self.update = Some(IndexUpdate::begin(&self.dir, &self.config, model)?);
        }
        Ok(self.update.as_mut().expect("begun above"))
    }
}

/// How the index writes an entry, part of every content key so that a change of it re-indexes
/// each document once (2: a number in metadata is indexed as a number, not as its text; 3: title
/// and section headings indexed exactly, CJK bigrams and accent folding; 4: a chunk's section
/// filters pass it under every section it covers, not only the one it starts in).
const INDEXED_AS: &[u8] = b"entries 4\0";

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
    fn write(&mut self, item: &Item) -> anyhow::Result<()> {
        let Item::Embedded(set) = item else {
            bail!(
                "index.hybrid takes embedded chunks, got {}",
                item.item_type()
            );
        };
        let entries: Vec<Entry> = set
            .chunks
            .iter()
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
        let key = content_key(&set.model, &entries);
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

    fn finish(mut self: Box<Self>) -> anyhow::Result<Publish> {
        self.update(None)?;
        let Some(update) = self.update.take() else {
            return Ok(Box::new(|| Ok(())));
        };
        let (_, switch) = update.finish()?;
        Ok(Box::new(move || {
            switch.publish()?;
            Ok(())
        }))
    }
}
