//! Builds the runtime nodes of a planned pipeline from the operator library.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use operators::chunk::{RecursiveConfig, chunk_recursive};
use operators::embed::Embed;
use operators::parse::{ParseConfig, parse};
use operators::sink::JsonlSink;
use operators::source::{DocumentSource, FileSource, JsonlSource, SourceEvent};

use crate::plan::Plan;
use crate::registry::OperatorConfig;
use crate::runtime::{Emitted, Item, Node, Operator, SinkOp, SourceOp, TransformOp};
use crate::spec::load::Pipeline;

/// Workers a parallel step gets unless the pipeline says otherwise.
pub fn default_parallelism() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

/// The nodes of `plan`, in its order, ready for [`crate::runtime::execute`].
pub fn build_nodes(pipeline: &Pipeline, plan: &Plan) -> anyhow::Result<Vec<Node>> {
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
            let operator = operator(&step.config, &pipeline.base, &planned.fingerprint)
                .with_context(|| format!("step `{}` cannot start", step.name))?;
            Ok(Node {
                name: step.name.clone(),
                op: step.config.info().name.to_owned(),
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

fn operator(config: &OperatorConfig, base: &Path, fingerprint: &str) -> anyhow::Result<Operator> {
    Ok(match config {
        OperatorConfig::SourceFiles(config) => {
            Operator::Source(Box::new(Source(FileSource::new(config, base)?)))
        }
        OperatorConfig::SourceJsonl(config) => {
            Operator::Source(Box::new(Source(JsonlSource::new(config, base))))
        }
        OperatorConfig::Parse(config) => Operator::Transform(Arc::new(Parse(config.clone()))),
        OperatorConfig::ChunkRecursive(config) => Operator::Transform(Arc::new(ChunkRecursive {
            config: config.clone(),
            fingerprint: fingerprint.to_owned(),
        })),
        OperatorConfig::Embed(config) => {
            Operator::Transform(Arc::new(EmbedOp(Embed::new(config, base)?)))
        }
        OperatorConfig::SinkJsonl(config) => {
            Operator::Sink(Box::new(Jsonl(JsonlSink::create(config, base)?)))
        }
    })
}

/// Any document source as a runtime source.
struct Source<S>(S);

impl<S: DocumentSource> SourceOp for Source<S> {
    fn run(&mut self, emit: &mut dyn FnMut(Emitted) -> ControlFlow<()>) -> anyhow::Result<()> {
        self.0.scan(&mut |event| {
            emit(match event {
                SourceEvent::Document(doc) => Emitted::Item(Item::Document(Arc::new(doc))),
                SourceEvent::Error(err) => Emitted::Error {
                    doc_id: err.doc_id,
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

/// `chunk.recursive`.
struct ChunkRecursive {
    config: RecursiveConfig,
    fingerprint: String,
}

impl TransformOp for ChunkRecursive {
    fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
        let Item::Parsed(doc) = item else {
            bail!(
                "chunk.recursive takes parsed documents, got {}",
                item.item_type()
            );
        };
        Ok(Some(Item::Chunks(Arc::new(chunk_recursive(
            doc,
            &self.config,
            &self.fingerprint,
        )))))
    }
}

/// `embed`.
struct EmbedOp(Embed);

impl TransformOp for EmbedOp {
    fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
        let Item::Chunks(set) = item else {
            bail!("embed takes chunks, got {}", item.item_type());
        };
        Ok(Some(Item::Embedded(Arc::new(self.0.embed_set(set)?))))
    }
}

/// `sink.jsonl`: documents and parsed documents as one line each, chunks one line per chunk
/// (embedded chunks with their `vector`).
struct Jsonl(JsonlSink);

impl SinkOp for Jsonl {
    fn write(&mut self, item: &Item) -> anyhow::Result<()> {
        match item {
            Item::Document(doc) => self.0.write(doc.as_ref())?,
            Item::Parsed(doc) => self.0.write(doc.as_ref())?,
            Item::Chunks(set) => {
                for chunk in &set.chunks {
                    self.0.write(chunk)?;
                }
            }
            Item::Embedded(set) => {
                for chunk in &set.chunks {
                    self.0.write(chunk)?;
                }
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> anyhow::Result<()> {
        self.0.finish()?;
        Ok(())
    }
}
