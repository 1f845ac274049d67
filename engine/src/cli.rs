//! The `engine` command line: run, validate, graph, schema, parse.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use operators::index::{Fusion, Hit, Mode};

use crate::failure::{InvalidPipeline, invalid};
use crate::live::{self, AskError};
use crate::progress::Progress;
use crate::run::Status;
use crate::spec::diagnostic::Report;
use crate::spec::load::{self, Pipeline};
use crate::store::{Store, StoreError};

pub use crate::failure::{EXIT_COULD_NOT_RUN, EXIT_INVALID};

/// Most trials `compare --trials` runs: p-values to 1e-5, in seconds even on large sets.
const MAX_TRIALS: usize = 100_000;

/// Turns a folder of documents into a retrieval knowledge base, step by visible step.
#[derive(Debug, Parser)]
#[command(name = "engine", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline.
    Run {
        /// The pipeline file.
        pipeline: PathBuf,
        /// Print one JSON object at the end instead of progress and a table.
        #[arg(long)]
        json: bool,
        /// Let a source that reads no documents, where the last completed run read some, empty
        /// the index and sinks (without it, that source fails and they keep what they hold).
        #[arg(long)]
        allow_empty: bool,
        /// How many of the pipeline's newest runs (with their per-item records) to keep; older
        /// ones are removed after the run, except those that say what `gc` keeps.
        #[arg(long, allow_negative_numbers = true, default_value_t = crate::gc::RUNS_KEPT, value_parser = at_least_one)]
        keep_runs: usize,
        /// Parse again the documents whose parse failed in an earlier run; without it, a
        /// document that failed is not parsed again until its file, the parse settings or the
        /// engine's parser for its format change, and its failure is recorded as before.
        #[arg(long)]
        retry_failed: bool,
        /// After the run, wait for a file a source reads, or the pipeline file, to change,
        /// and run again, until Ctrl-C.
        #[arg(long)]
        watch: bool,
        /// With --watch: seconds between two looks at the files (0.1 to 3600).
        #[arg(long, allow_negative_numbers = true, value_name = "SECONDS", default_value_t = 2.0, value_parser = seconds, requires = "watch")]
        interval: f64,
    },
    /// Check a pipeline without running it; reports every problem with file:line:column.
    Validate {
        /// The pipeline file.
        pipeline: PathBuf,
        /// Print the problems as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the pipeline's DAG with the item type on every edge.
    Graph {
        /// The pipeline file.
        pipeline: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Print nodes and edges as JSON (instead of `--format`).
        #[arg(long, conflicts_with = "format")]
        json: bool,
    },
    /// Print the JSON Schema of pipeline files.
    Schema {
        /// Accepted as every command takes it: the schema is JSON either way.
        #[arg(long)]
        json: bool,
    },
    /// List the runs recorded in a store, newest first.
    Runs {
        #[command(flatten)]
        store: StoreArgs,
        /// Print the runs as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show what a run did: per step, per document, or one output in full.
    Inspect {
        /// A run id (or a prefix of one), or `latest`.
        run: String,
        /// Show this step: counters, timing distribution and debug records per document.
        #[arg(long)]
        step: Option<String>,
        /// Show this document: what every step produced for it.
        #[arg(long)]
        doc: Option<String>,
        /// With `--step`: list only these documents (a run of 200,000 lists them all).
        #[arg(long, value_enum, requires = "step", conflicts_with = "doc")]
        only: Option<crate::inspect::Only>,
        #[command(flatten)]
        store: StoreArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Follow a running run: print every item a step (or every step) completes, as it completes.
    Tap {
        /// The step to follow (default: every step).
        step: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
        /// Stop after this many items (at least 1).
        #[arg(long, allow_negative_numbers = true, value_parser = at_least_one)]
        limit: Option<usize>,
        /// When no run is using the store yet, wait for one to start.
        #[arg(long)]
        wait: bool,
        /// Print one JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Remove checkpoints that no step of the pipeline reaches any more, and old runs.
    Gc {
        /// The pipeline file.
        pipeline: PathBuf,
        /// How many of the newest runs (with their per-item records) to keep; at least 1, since
        /// the newest completed run says which checkpoints the pipeline reaches.
        #[arg(long, allow_negative_numbers = true, default_value_t = crate::gc::RUNS_KEPT, value_parser = at_least_one)]
        keep_runs: usize,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search the index a pipeline's `index.hybrid` step built.
    Query {
        /// The pipeline file.
        pipeline: PathBuf,
        /// The index step to search.
        #[arg(long)]
        index: String,
        /// How to rank: BM25, vector similarity, or both fused.
        #[arg(long, value_enum, default_value_t = QueryMode::Hybrid)]
        mode: QueryMode,
        /// Hits to return (at least 1; fewer when the index holds fewer matching chunks).
        #[arg(short, alias = "k", allow_negative_numbers = true, default_value_t = 10, value_parser = at_least_one)]
        k: usize,
        /// Only hits whose field (doc_id, chunk_id, source, page, title, section: any heading of
        /// the section path, or the whole path joined by " > ") or metadata `key` equals `value`,
        /// or holds it in a list. Repeated filters must all hold, the same key twice too (for a
        /// list, both values in it); a page is a whole number.
        #[arg(long = "filter", value_name = "KEY=VALUE")]
        filters: Vec<String>,
        #[command(flatten)]
        fusion: FusionArgs,
        /// Print the hits as JSON (with --queries, one object a line).
        #[arg(long)]
        json: bool,
        /// Run every query of this file (one JSON object a line, with `_id` and `text`), with
        /// the model and index loaded once.
        #[arg(long)]
        queries: Option<PathBuf>,
        /// With --queries: print a TREC run named NAME instead (`qid Q0 doc_id rank score NAME`),
        /// the k best documents per query, each ranked by its best chunk.
        #[arg(
            long,
            value_name = "NAME",
            requires = "queries",
            conflicts_with = "json"
        )]
        trec: Option<String>,
        /// With hybrid mode (the default): show each hit's rank and score in the BM25 and
        /// vector lists fused into it (`"explain"` in the JSON).
        #[arg(long, conflicts_with = "trec")]
        explain: bool,
        /// Add to each hit up to N chunks before it and N after it in its document (at most
        /// 50), for the text around a passage (`"context": {"before", "after"}` in the JSON).
        #[arg(
            long,
            value_name = "N",
            default_value_t = 0,
            value_parser = whole_number,
            allow_negative_numbers = true,
            conflicts_with = "trec"
        )]
        context: usize,
        /// The query.
        #[arg(required_unless_present_any = ["queries", "trec"], conflicts_with = "queries")]
        text: Option<String>,
    },
    /// Answer queries of the pipeline's indexes over HTTP, each index and model loaded once
    /// (`POST /query` with a JSON body, `GET /query?text=…`, `GET /indexes`).
    Serve {
        /// The pipeline file.
        pipeline: PathBuf,
        /// The address and port to listen on (port 0: any free port, printed at start).
        #[arg(long, default_value = "127.0.0.1:8765")]
        addr: String,
        /// A file whose first line is a token every request but `GET /health` must carry
        /// (`Authorization: Bearer <token>`); without it, anyone who reaches the address may
        /// query.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Seconds a connection may take to send a request's headers or body, or to send the
        /// next request when kept alive, or go without reading any of its answer, before it is
        /// closed.
        #[arg(long, allow_negative_numbers = true, value_name = "SECONDS", default_value_t = 30.0, value_parser = seconds)]
        idle_timeout: f64,
        /// Say where it listens as one JSON line (`{"url", "pipeline", "indexes"}`).
        #[arg(long)]
        json: bool,
    },
    /// Evaluate every index step (branch) on the same queries, side by side.
    Compare {
        /// The pipeline file.
        pipeline: PathBuf,
        /// Queries, one JSON object per line with `_id` and `text`.
        #[arg(long)]
        queries: PathBuf,
        /// Relevance judgments (BEIR TSV: query-id, corpus-id, score).
        #[arg(long)]
        qrels: Option<PathBuf>,
        /// Depth of the side-by-side lists and overlaps without judgments (at least 1).
        #[arg(short, alias = "k", allow_negative_numbers = true, default_value_t = 10, value_parser = at_least_one)]
        k: usize,
        /// Modes to evaluate.
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [QueryMode::Hybrid, QueryMode::Bm25, QueryMode::Vector])]
        modes: Vec<QueryMode>,
        /// Index steps to compare (default: all).
        #[arg(long, value_delimiter = ',')]
        index: Option<Vec<String>>,
        /// Trials of the randomisation test (1 to 100,000).
        #[arg(long, allow_negative_numbers = true, default_value_t = 10_000, value_parser = trials)]
        trials: usize,
        /// How hybrid mode fuses the two lists.
        #[command(flatten)]
        fusion: FusionArgs,
        /// Print everything as one JSON object.
        #[arg(long)]
        json: bool,
        /// Also write a self-contained HTML report here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Another system's TREC run (`qid Q0 doc_id rank score tag` a line) to compare with
        /// every branch and mode, under NAME (repeatable).
        #[arg(long = "run", value_name = "NAME=FILE", value_parser = parse_run)]
        runs: Vec<(String, PathBuf)>,
    },
    /// Parse one file and print the result (exit 1 with the error on stderr when it cannot be parsed).
    Parse {
        /// The file to parse.
        file: PathBuf,
        /// Output: the Markdown rendering, or the parsed document as JSON (as sink.jsonl writes it).
        #[arg(long, value_enum, default_value_t = ParseOutput::Markdown)]
        format: ParseOutput,
        /// Parse as this format instead of detecting it.
        #[arg(long = "as", value_name = "FORMAT", value_parser = ["text", "markdown", "html", "pdf", "docx"])]
        as_format: Option<String>,
        /// Print the parsed document as JSON: the same as --format json.
        #[arg(long, conflicts_with = "format")]
        json: bool,
    },
}

impl Command {
    /// Whether the command was asked for JSON (its errors are then JSON on stdout too).
    fn json(&self) -> bool {
        match self {
            Command::Run { json, .. }
            | Command::Validate { json, .. }
            | Command::Graph { json, .. }
            | Command::Schema { json }
            | Command::Runs { json, .. }
            | Command::Inspect { json, .. }
            | Command::Tap { json, .. }
            | Command::Gc { json, .. }
            | Command::Query { json, .. }
            | Command::Compare { json, .. }
            | Command::Parse { json, .. }
            | Command::Serve { json, .. } => *json,
        }
    }
}

/// A count of at least 1 (`-k`, `--keep-runs`, `--limit`).
fn at_least_one(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("not a whole number from 1 to {}", usize::MAX)),
    }
}

/// `query --context`: a whole number, 0 or more.
fn whole_number(value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .map_err(|_| "not a whole number (0 or more)".to_owned())
}

/// `run --interval`, `serve --idle-timeout`: 0.1 to 3600 seconds.
fn seconds(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(seconds) if (0.1..=3600.0).contains(&seconds) => Ok(seconds),
        _ => Err("a number of seconds from 0.1 to 3600".to_owned()),
    }
}

/// `compare --trials`: 1 to [`MAX_TRIALS`].
fn trials(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(trials) if (1..=MAX_TRIALS).contains(&trials) => Ok(trials),
        _ => Err(format!("not a whole number from 1 to {MAX_TRIALS}")),
    }
}

/// `--alpha`: a weight from 0 to 1.
fn alpha(value: &str) -> Result<f32, String> {
    checked_alpha(value.parse::<f32>().unwrap_or(f32::NAN))
}

/// A weight of the vector list from 0 to 1 (`--alpha`, `engine serve`'s `alpha`).
pub(crate) fn checked_alpha(alpha: f32) -> Result<f32, String> {
    match (0.0..=1.0).contains(&alpha) {
        true => Ok(alpha),
        false => Err("the weight of the vector list must be a number from 0 to 1".to_owned()),
    }
}

/// The largest `--rrf-k`: past it every rank scores alike to f32's precision.
const MAX_RRF_K: f32 = 1_000_000.0;

/// `--rrf-k`: a constant from 0 to [`MAX_RRF_K`].
fn rrf_k(value: &str) -> Result<f32, String> {
    checked_rrf_k(value.parse::<f32>().unwrap_or(f32::NAN))
}

/// An RRF constant from 0 to [`MAX_RRF_K`] (`--rrf-k`, `engine serve`'s `rrf_k`).
pub(crate) fn checked_rrf_k(k: f32) -> Result<f32, String> {
    match (0.0..=MAX_RRF_K).contains(&k) {
        true => Ok(k),
        false => Err(format!(
            "the RRF constant must be a number from 0 to {MAX_RRF_K} (usually 60)"
        )),
    }
}

/// How hybrid mode fuses the BM25 and vector lists.
#[derive(Debug, clap::Args)]
struct FusionArgs {
    /// Reciprocal-rank fusion constant (default 60).
    #[arg(long, allow_negative_numbers = true, value_parser = rrf_k, conflicts_with = "alpha")]
    rrf_k: Option<f32>,
    /// Fuse by `alpha * vector + (1 - alpha) * bm25` (min-max normalised scores; alpha from 0
    /// to 1) instead of RRF.
    #[arg(long, allow_negative_numbers = true, value_parser = alpha)]
    alpha: Option<f32>,
}

/// RRF's constant when none is given.
const DEFAULT_RRF_K: f32 = 60.0;

impl FusionArgs {
    /// The fusion asked for. Fusion settings are refused when no mode asked for (`modes`, as
    /// `flag` gives them) fuses: they would change nothing.
    fn fusion(&self, modes: &[Mode], flag: &str) -> anyhow::Result<Fusion> {
        fusion_asked(self.alpha, self.rrf_k, modes.contains(&Mode::Hybrid)).map_err(|given| {
            let given = match given {
                FusionSetting::Alpha => "--alpha",
                FusionSetting::RrfK => "--rrf-k",
            };
            invalid(format!(
                "{given} sets how hybrid mode fuses its two lists, but `{flag}` has no hybrid: leave {given} out, or ask for hybrid"
            ))
        })
    }
}

/// A setting of how hybrid mode fuses (`--alpha` or `--rrf-k`; `engine serve`'s `alpha` or
/// `rrf_k`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FusionSetting {
    Alpha,
    RrfK,
}

/// The fusion `alpha` (weighted) or else `rrf_k` asks for, RRF at [`DEFAULT_RRF_K`] when
/// neither does; the setting given when no hybrid search is asked for (`hybrid` false), where
/// it would change nothing. Ranges are the caller's to check.
pub(crate) fn fusion_asked(
    alpha: Option<f32>,
    rrf_k: Option<f32>,
    hybrid: bool,
) -> Result<Fusion, FusionSetting> {
    let given = match (alpha, rrf_k) {
        (Some(_), _) => Some(FusionSetting::Alpha),
        (None, Some(_)) => Some(FusionSetting::RrfK),
        (None, None) => None,
    };
    if let Some(given) = given.filter(|_| !hybrid) {
        return Err(given);
    }
    Ok(match alpha {
        Some(alpha) => Fusion::Weighted { alpha },
        None => Fusion::Rrf {
            k: rrf_k.unwrap_or(DEFAULT_RRF_K),
        },
    })
}

/// Which store to read: given directly, through a pipeline file, or `.engine` here.
#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// The store folder.
    #[arg(long, conflicts_with = "pipeline")]
    store: Option<PathBuf>,
    /// A pipeline file whose store to read.
    #[arg(long, short)]
    pipeline: Option<PathBuf>,
}

impl StoreArgs {
    /// The store folder (which need not exist yet), or says how to name one.
    fn folder(&self) -> anyhow::Result<PathBuf> {
        if let Some(store) = &self.store {
            return Ok(store.clone());
        }
        if let Some(pipeline) = &self.pipeline {
            return Ok(load_to_read(pipeline)?.0.store);
        }
        for candidate in [PathBuf::from(".engine")] {
            if candidate.is_dir() {
                return Ok(candidate);
            }
        }
        let default = Path::new("pipelines/kb.yaml");
        if default.exists()
            && let Ok((pipeline, _)) = load::load_for(default, load::Purpose::Read)
        {
            return Ok(pipeline.store);
        }
        Err(invalid(
            "no store here: pass --pipeline FILE or --store DIR",
        ))
    }

    /// The name of the pipeline given with `--pipeline`, whose runs `latest` means.
    fn pipeline_name(&self) -> anyhow::Result<Option<String>> {
        match &self.pipeline {
            Some(pipeline) => Ok(Some(load_to_read(pipeline)?.0.name)),
            None => Ok(None),
        }
    }

    /// The store folder, which must be a store.
    fn dir(&self) -> anyhow::Result<PathBuf> {
        let dir = self.folder()?;
        match std::fs::metadata(&dir) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(invalid(format!(
                "no store at {} yet: run a pipeline first",
                dir.display()
            ))),
            Err(err) => Err(anyhow::anyhow!("cannot read {}: {err}", dir.display())),
            Ok(meta) if !meta.is_dir() => Err(invalid(format!(
                "{} is a file, not a store (a store is the folder a pipeline's `store` names)",
                dir.display()
            ))),
            Ok(_) if !dir.join("db").is_dir() => Err(invalid(format!(
                "{} is not a store (it has no `db`); run a pipeline that uses it first",
                dir.display()
            ))),
            Ok(_) => Ok(dir),
        }
    }

    /// Gives the store to `local` when it opens here at once; `None` when another process
    /// holds it (a run answers over its socket instead: see [`StoreArgs::report`]).
    fn with_open_store<T>(
        &self,
        local: impl FnOnce(&Store) -> anyhow::Result<T>,
    ) -> anyhow::Result<Option<T>> {
        match Store::open(&self.dir()?) {
            Ok(store) => local(&store).map(Some),
            Err(StoreError::InUse { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The report for `request`: from the store, or, while a run holds it, from that run.
    /// A run that is starting (not listening yet) or ending (no longer listening), or another
    /// command holding the store a moment, is waited for up to [`crate::store::PATIENCE`].
    fn report(&self, request: &live::Request) -> anyhow::Result<serde_json::Value> {
        use std::ops::ControlFlow::{Break, Continue};
        let dir = self.dir()?;
        crate::store::patiently(|| match Store::open(&dir) {
            Ok(store) => Break(live::answer(&store, None, request)),
            Err(in_use @ StoreError::InUse { .. }) => match live::ask(&dir, request) {
                Ok(report) => Break(Ok(report)),
                Err(AskError::Refused(err)) => Break(Err(err)),
                Err(AskError::NoAnswer(why)) => Continue(anyhow::anyhow!("{in_use} ({why:#})")),
            },
            Err(err) => Break(Err(err.into())),
        })
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ParseOutput {
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    // Panics that operators catch (e.g. in `engine parse`) become errors, not stderr noise.
    crate::runtime::panics::install_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    let json = cli.command.json();
    crate::failure::set_json(json);
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(err) => crate::failure::report(&err, json),
    }
}

/// Prints clap's message (help, version, or a usage error) and gives its exit code (0 or 2);
/// a usage error of a command given `--json` is also one JSON object on stdout.
fn usage_error(err: &clap::Error) -> i32 {
    let _ = err.print();
    let code = err.exit_code();
    let json = std::env::args_os()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    if code != 0 && json {
        // The message is the lines before the usage: "the following required arguments were
        // not provided: <RUN>" needs its second line.
        let rendered = err.render().to_string();
        let message = rendered
            .lines()
            .take_while(|line| !line.trim().is_empty() && !line.starts_with("Usage:"))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        let message = message.strip_prefix("error: ").unwrap_or(&message);
        jsonln!("{}", crate::failure::error_object(message, code));
    }
    code
}

/// Runs one command: its exit code, or why it failed.
fn dispatch(command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Run {
            pipeline,
            json,
            allow_empty,
            keep_runs,
            retry_failed,
            watch,
            interval,
        } => {
            let flags = RunFlags {
                allow_empty,
                keep_runs,
                retry_failed,
            };
            match watch {
                false => run(&pipeline, json, flags),
                true => crate::watch::watch(
                    &pipeline,
                    std::time::Duration::from_secs_f64(interval),
                    json,
                    || run(&pipeline, json, flags),
                ),
            }
        }
        Command::Validate { pipeline, json } => validate(&pipeline, json),
        Command::Graph {
            pipeline,
            format,
            json,
        } => graph(&pipeline, format, json),
        Command::Schema { json: _ } => {
            out!("{}", crate::spec::schema::pipeline_schema_text());
            Ok(0)
        }
        Command::Runs { store, json } => runs(&store, json),
        Command::Inspect {
            run,
            step,
            doc,
            only,
            store,
            json,
        } => {
            let what = Inspected {
                step: step.as_deref(),
                doc: doc.as_deref(),
                only,
            };
            inspect(&run, what, &store, json)
        }
        Command::Tap {
            step,
            store,
            limit,
            wait,
            json,
        } => tap(step.as_deref(), &store, limit, wait, json),
        Command::Gc {
            pipeline,
            keep_runs,
            json,
        } => gc(&pipeline, keep_runs, json),
        Command::Query {
            pipeline,
            index,
            mode,
            k,
            filters,
            fusion,
            json,
            queries,
            trec,
            explain,
            context,
            text,
        } => {
            if trec.is_some() && queries.is_none() {
                return Err(invalid(
                    "`--trec` writes a run of the queries of a file: give `--queries FILE` (one query prints as text or with `--json`)",
                ));
            }
            let output = match (trec, json) {
                (Some(name), _) => QueryOutput::Trec(name),
                (None, true) => QueryOutput::Json,
                (None, false) => QueryOutput::Text,
            };
            let mode = Mode::from(mode);
            if explain && mode != Mode::Hybrid {
                return Err(invalid(EXPLAIN_IS_HYBRID));
            }
            if context > crate::query::MAX_CONTEXT {
                return Err(invalid(crate::query::context_too_wide(
                    context,
                    crate::query::Asker::CommandLine,
                )));
            }
            let request = QueryRequest {
                index,
                mode,
                k,
                fusion: fusion.fusion(
                    &[mode],
                    &format!("--mode {}", crate::compare::mode_name(mode)),
                )?,
                output,
                explain,
                context,
            };
            let input = match (text, queries) {
                (_, Some(file)) => QueryInput::File(file),
                (Some(text), None) => QueryInput::Text(text),
                (None, None) => return Err(invalid("give a query, or --queries FILE")),
            };
            query(&pipeline, &request, &filters, &input)
        }
        Command::Serve {
            pipeline,
            addr,
            token_file,
            idle_timeout,
            json,
        } => {
            let token = token_file
                .as_deref()
                .map(crate::serve::read_token)
                .transpose()?;
            let (loaded, _) = load_to_read(&pipeline)?;
            let listening = crate::serve::Listening {
                addr,
                token,
                idle_timeout: std::time::Duration::from_secs_f64(idle_timeout),
                json,
            };
            crate::serve::serve(&pipeline, &loaded, listening)
        }
        Command::Compare {
            pipeline,
            queries,
            qrels,
            k,
            modes,
            index,
            trials,
            fusion,
            json,
            html,
            runs,
        } => {
            let modes: Vec<Mode> = modes.into_iter().map(Mode::from).collect();
            let names: Vec<&str> = modes
                .iter()
                .map(|mode| crate::compare::mode_name(*mode))
                .collect();
            let fusion = fusion.fusion(&modes, &format!("--modes {}", names.join(",")))?;
            compare(
                &pipeline,
                crate::compare::CompareOptions {
                    queries,
                    qrels,
                    k,
                    modes,
                    indexes: index,
                    trials,
                    fusion,
                    runs,
                },
                json,
                html,
            )
        }
        Command::Parse {
            file,
            format,
            as_format,
            json,
        } => {
            let format = if json { ParseOutput::Json } else { format };
            parse_file(&file, format, as_format.as_deref())
        }
    }
}

fn runs(store: &StoreArgs, json: bool) -> anyhow::Result<i32> {
    let report = store.report(&live::Request::Runs)?;
    if json {
        jsonln!("{report}");
        return Ok(0);
    }
    let runs = report["runs"].as_array().cloned().unwrap_or_default();
    outln!(
        "{:<25} {:<13} {:<21} {:>8} {:>7}  pipeline",
        "run",
        "status",
        "started",
        "seconds",
        "failed"
    );
    for run in &runs {
        outln!(
            "{:<25} {:<13} {:<21} {:>8} {:>7}  {}",
            run["run_id"].as_str().unwrap_or_default(),
            run["status"].as_str().unwrap_or_default(),
            run["started_at"].as_str().unwrap_or_default(),
            run_seconds(run).map_or("—".into(), |s| format!("{s:.2}")),
            run["errors_total"].as_u64().unwrap_or(0),
            run["pipeline"].as_str().unwrap_or_default(),
        );
    }
    Ok(0)
}

/// What `engine inspect` shows of a run: a step, a document, both, or neither.
struct Inspected<'a> {
    step: Option<&'a str>,
    doc: Option<&'a str>,
    /// Which documents a step's report lists.
    only: Option<crate::inspect::Only>,
}

fn inspect(run: &str, what: Inspected<'_>, store: &StoreArgs, json: bool) -> anyhow::Result<i32> {
    let Inspected { step, doc, only } = what;
    let request = live::Request::Inspect {
        run: run.to_owned(),
        step: step.map(str::to_owned),
        doc: doc.map(str::to_owned),
        only,
        pipeline: store.pipeline_name()?,
    };
    let report = match (step, doc) {
        // Written as it is read when the store opens here: it can be large.
        (Some(step), None) => {
            let streamed = store.with_open_store(|opened| {
                let run = live::recorded_run(opened, run, store.pipeline_name()?.as_deref())?;
                let report = crate::inspect::StepReport::open(opened, &run, step, only)?;
                print_step_report(&report.header(), report.documents(), json);
                Ok(())
            })?;
            match streamed {
                Some(()) => return Ok(0),
                None => store.report(&request)?,
            }
        }
        _ => store.report(&request)?,
    };
    if json {
        jsonln!("{report}");
    } else {
        match (step, doc) {
            (None, None) => print_summary(&report),
            (Some(_), None) => {
                let documents = report["documents"].as_array().into_iter().flatten();
                print_step_report(&report, documents.cloned(), false)
            }
            (None, Some(_)) => print_document_report(&report),
            (Some(_), Some(_)) => outln!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            ),
        }
    }
    Ok(0)
}

/// The last line of a tap: the items shown, and those skipped only when there were some.
fn tap_ended(items: usize, skipped: u64) -> String {
    if skipped == 0 {
        format!("the run ended; {items} item(s)")
    } else {
        format!("the run ended; {items} item(s), {skipped} skipped (this terminal fell behind)")
    }
}

fn tap(
    step: Option<&str>,
    store: &StoreArgs,
    limit: Option<usize>,
    wait: bool,
    json: bool,
) -> anyhow::Result<i32> {
    // With --pipeline, a run of that pipeline, and a step it has (waiting for a step no run
    // of it will have would wait for ever).
    let pipeline = match &store.pipeline {
        Some(file) => {
            let (pipeline, _) = load_to_read(file)?;
            if let Some(step) = step
                && !pipeline.steps.iter().any(|s| s.name == step)
            {
                let names: Vec<&str> = pipeline.steps.iter().map(|s| s.name.as_str()).collect();
                return Err(invalid(format!(
                    "{} has no step `{step}`; its steps: {}",
                    file.display(),
                    names.join(", ")
                )));
            }
            Some(pipeline.name)
        }
        None => None,
    };
    // Waiting, the store need not exist yet: the run to come makes it. A file never becomes one.
    let dir = if wait { store.folder()? } else { store.dir()? };
    if dir.is_file() {
        return Err(invalid(format!(
            "{} is a file, not a store (a store is the folder a pipeline's `store` names)",
            dir.display()
        )));
    }
    let mut items = 0usize;
    // Whether the run said it ended, or the tap stopped early: a run that closes its side
    // without either was killed.
    let mut ended = false;
    let mut each = |line: &serde_json::Value| {
        ended |= line.get("end").is_some();
        if json {
            jsonln!("{line}");
        } else if let Some(started) = line.get("ok") {
            let what = step.map_or("every step".to_owned(), |step| format!("step {step}"));
            errln!(
                "following {what} of run {} (Ctrl-C to stop)",
                text(&started["run_id"])
            );
        } else if let Some(item) = line.get("item") {
            let title = format!("{} {}", text(&item["step"]), text(&item["doc_id"]));
            print_step_output(item, &title);
        } else if let Some(end) = line.get("end") {
            let skipped = end["skipped"].as_u64().unwrap_or(0);
            errln!("{}", tap_ended(items, skipped));
        }
        items += usize::from(line.get("item").is_some());
        let go_on = limit.is_none_or(|limit| items < limit) && !crate::stdout::gone();
        ended |= !go_on;
        go_on
    };
    let mut waiting = || {
        if !json {
            errln!("waiting for a run to use {} …", dir.display());
        }
    };
    // Waiting for a run, the tap follows it from its start: a short run could otherwise
    // complete its first items before the tap connects.
    let wait = wait.then_some(&mut waiting as &mut dyn FnMut());
    let followed = live::follow(&dir, step, pipeline.as_deref(), wait, &mut each);
    match followed {
        Ok(()) if !ended => Err(anyhow::anyhow!(
            "the run ended without finishing (killed, or it crashed) after {items} item(s); `engine runs` records it as interrupted, and the next `engine run` resumes it"
        )),
        Ok(()) => Ok(0),
        Err(AskError::Refused(err)) => Err(err),
        Err(AskError::NoAnswer(_)) => Err(invalid(format!(
            "no run is using {}; `engine tap` follows a running `engine run` (start one, then tap, or tap with --wait)",
            dir.display()
        ))),
    }
}

fn gc(path: &Path, keep_runs: usize, json: bool) -> anyhow::Result<i32> {
    let (pipeline, _) = load_pipeline(path)?;
    let print = |collected: crate::gc::Collected| {
        if !collected.left_alone.is_empty() {
            let named: Vec<String> = (collected.left_alone.iter().take(5))
                .map(|path| path.display().to_string())
                .collect();
            let more = collected.left_alone.len().saturating_sub(named.len());
            errln!(
                "note: left {}{} in the store's indexes folder: the engine did not make {} (an index of its own holds only `CURRENT` and `gen-…` folders); move {} out of the store",
                named.join(", "),
                match more {
                    0 => String::new(),
                    more => format!(" and {more} more"),
                },
                if collected.left_alone.len() == 1 {
                    "it"
                } else {
                    "them"
                },
                if collected.left_alone.len() == 1 {
                    "it"
                } else {
                    "them"
                },
            );
        }
        if json {
            jsonln!("{}", serde_json::to_value(collected).unwrap_or_default());
        } else {
            outln!(
                "removed {} checkpoints, {} cached vectors, {} indexes of removed steps or renamed pipelines ({} bytes in all) and {} old runs; {} checkpoints kept; the store's database {} bytes on disk ({})",
                collected.removed,
                collected.vectors_removed,
                collected.indexes_removed,
                collected.bytes_freed,
                collected.runs_removed,
                collected.kept,
                collected.store_bytes,
                match (collected.rewritten, collected.removed_from_database()) {
                    (true, _) => format!("{} before", collected.store_bytes_before),
                    (false, true) => "not rewritten".to_owned(),
                    (false, false) => "not rewritten: nothing was removed from it".to_owned(),
                }
            );
        }
    };
    // No store, nothing to collect: gc never makes one.
    if !pipeline.store.join("db").is_dir() {
        errln!(
            "note: {} has no store at {} yet: nothing to collect",
            path.display(),
            pipeline.store.display()
        );
        print(crate::gc::Collected::default());
        return Ok(0);
    }
    let plan = crate::plan::plan(&pipeline);
    let current = plan
        .order
        .iter()
        .map(|planned| {
            (
                pipeline.steps[planned.index].name.clone(),
                planned.fingerprint.clone(),
            )
        })
        .collect();
    let store = Store::open_waiting(&pipeline.store)?;
    // A run killed while its outputs went into place is completed first: what gc keeps
    // follows the runs that completed.
    crate::run::mark_interrupted(&store)?;
    if let Some(other) = crate::run::name_shared_with(&store, &pipeline) {
        return Err(invalid(format!(
            "{}; gc would drop what the other reaches",
            crate::run::name_shared_message(&pipeline, &other)
        )));
    }
    let orphaned = crate::query::orphaned_index_dirs(&pipeline);
    let store_dir = crate::spec::paths::identity(&pipeline.store);
    // A file that is gone or does not load cannot tell: its name's index is kept. Each file
    // is loaded once (gc asks of renamed pipelines, then of abandoned index folders).
    let loaded: std::cell::RefCell<std::collections::HashMap<PathBuf, Option<(String, PathBuf)>>> =
        Default::default();
    let gives_name = |file: &Path, name: &str| {
        let mut loaded = loaded.borrow_mut();
        let found = loaded.entry(file.to_owned()).or_insert_with(|| {
            let (other, _) = load::load(file).ok()?;
            Some((other.name, crate::spec::paths::identity(&other.store)))
        });
        match found {
            Some((other, store)) => other == name && *store == store_dir,
            None => true,
        }
    };
    // A project copied or moved whole (`cp -a`) records the files where they were: the one at
    // the same place in this copy tells too.
    let moved = crate::gc::moved_root(&store.runs()?, &pipeline);
    let still_named = |file: &Path, name: &str| {
        gives_name(file, name)
            || moved
                .as_ref()
                .and_then(|(was, is)| Some(is.join(file.strip_prefix(was).ok()?)))
                .is_some_and(|here| here.is_file() && gives_name(&here, name))
    };
    // A gc killed from here on leaves the mark: the next one rewrites the database.
    let wanted = store.compaction_wanted();
    store.want_compaction(true)?;
    let mut collected = crate::gc::collect_garbage(
        &store,
        &pipeline.name,
        &current,
        keep_runs,
        &orphaned,
        &still_named,
    )?;
    // sled keeps its files' size: the database is rewritten to give the space back, when
    // anything went (a rewrite of 6.6 GB takes minutes), now or in a gc that did not finish.
    let store = if collected.removed_from_database() || wanted {
        let compacted = store.compact(COMPACT_PATIENCE)?;
        match &compacted.note {
            Some(note) => errln!("note: {note}"),
            None if !compacted.rewritten => errln!(
                "note: a copy of the store's database would not have been smaller: it was left as it was"
            ),
            None => {}
        }
        collected.store_bytes_before = compacted.before;
        collected.store_bytes = compacted.after;
        collected.rewritten = compacted.rewritten;
        if compacted.note.is_none() {
            compacted.store.want_compaction(false)?;
        }
        compacted.store
    } else {
        store.want_compaction(false)?;
        let bytes = crate::store::bytes_below(&pipeline.store.join("db"));
        (collected.store_bytes_before, collected.store_bytes) = (bytes, bytes);
        store
    };
    store.flush()?;
    print(collected);
    Ok(0)
}

/// How long `gc`'s rewrite of the store may make no progress before the process gives up.
const COMPACT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Largest file `engine parse` reads, as `source.files` does by default.
const PARSE_MAX_BYTES: u64 = 256 << 20;

/// `engine parse FILE`: prints one file's Markdown or JSON. A file it cannot parse is an
/// [`ItemFailed`](crate::failure::ItemFailed) error (exit 1).
fn parse_file(path: &Path, output: ParseOutput, as_format: Option<&str>) -> anyhow::Result<i32> {
    use crate::failure::ItemFailed;
    use std::io::Read;

    let config = match as_format {
        None => operators::parse::ParseConfig::default(),
        Some(name) => {
            serde_json::from_value(serde_json::json!({ "format": name })).map_err(|_| {
                invalid(format!(
                    "unknown format `{name}`; use one of text, markdown, html, pdf, docx"
                ))
            })?
        }
    };
    // Opening a FIFO waits for a writer, and a device may never end.
    if let Ok(metadata) = std::fs::metadata(path)
        && metadata.is_dir()
    {
        return Err(invalid(format!(
            "{} is a folder: `engine parse` reads one file (a pipeline's `source.files` step reads a folder)",
            path.display()
        )));
    }
    if let Ok(metadata) = std::fs::metadata(path)
        && !metadata.is_file()
    {
        return Err(invalid(format!(
            "{} is not a regular file but a FIFO, socket or device: `engine parse` reads a file to its end, so save what it gives to a file and parse that",
            path.display()
        )));
    }
    let too_large = || {
        let message = format!(
            "{}: larger than {} MiB, the most `engine parse` reads (a pipeline's `source.files` takes larger files with `max_bytes`)",
            path.display(),
            PARSE_MAX_BYTES >> 20
        );
        Err(ItemFailed(message).into())
    };
    // Refused before it is read, when its size already says so; the read is bounded too, as
    // the file may grow meanwhile.
    if std::fs::metadata(path).is_ok_and(|metadata| metadata.len() > PARSE_MAX_BYTES) {
        return too_large();
    }
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|file| file.take(PARSE_MAX_BYTES + 1).read_to_end(&mut bytes));
    if let Err(error) = read {
        return Err(invalid(format!("{}: {error}", path.display())));
    }
    if bytes.len() as u64 > PARSE_MAX_BYTES {
        return too_large();
    }
    let name = path.display().to_string();
    let doc = operators::model::Document::new(name.clone(), name, bytes);
    let parsed = operators::parse::parse(&doc, &config).map_err(|error| {
        // Here the format is set on the command line, not in a pipeline's parse settings.
        let message = match error {
            operators::parse::ParseError::UnknownFormat { .. } => error.to_string().replace(
                operators::parse::UNKNOWN_FORMAT_ADVICE,
                "give it with `--as` (text, markdown, html, pdf or docx)",
            ),
            _ => error.to_string(),
        };
        ItemFailed(format!("{}: {message}", path.display()))
    })?;
    match output {
        ParseOutput::Markdown => {
            // What the parser recovered from goes to stderr (the JSON holds it in `debug`).
            for warning in &parsed.debug.warnings {
                // Here the format is given with `--as`, not in a pipeline's settings.
                let warning = warning.replace(
                    operators::parse::AS_TEXT_ADVICE,
                    "give `--as` to read it otherwise",
                );
                errln!(
                    "warning: {}: {}",
                    path.display(),
                    crate::stdout::visible(&warning)
                );
            }
            out!("{}", parsed.markdown)
        }
        ParseOutput::Json => jsonln!(
            "{}",
            serde_json::to_string(&parsed).expect("a parsed document serializes")
        ),
    }
    Ok(0)
}

/// Loads a pipeline to run (or validate, draw, collect); one that does not load is an
/// [`InvalidPipeline`] error with its problems.
fn load_pipeline(path: &Path) -> anyhow::Result<(Pipeline, Report)> {
    load::load(path).map_err(|report| InvalidPipeline(report).into())
}

/// Loads a pipeline to read what its runs made (query, compare, inspect, serve): its sources,
/// sinks and models need not be there (see [`load::Purpose::Read`]).
pub(crate) fn load_to_read(path: &Path) -> anyhow::Result<(Pipeline, Report)> {
    load::load_for(path, load::Purpose::Read).map_err(|report| InvalidPipeline(report).into())
}

fn validate(path: &Path, json: bool) -> anyhow::Result<i32> {
    let (pipeline, report) = load_pipeline(path)?;
    // What `run` refuses with the store's records: another pipeline file of this name there.
    if let Some(other) = name_shared_in_store(&pipeline) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let at = crate::spec::yaml::parse(&text)
            .doc
            .map_or(crate::spec::yaml::Pos { line: 1, col: 1 }, |doc| {
                doc.value_pos("/name")
            });
        let shared = crate::spec::diagnostic::Diagnostic::error(
            at,
            crate::run::name_shared_message(&pipeline, &other),
        )
        .at_key("name");
        let mut diagnostics = report.diagnostics;
        diagnostics.push(shared);
        let report = crate::spec::diagnostic::Report::new(path, diagnostics);
        return Err(crate::failure::InvalidPipeline(report).into());
    }
    if json {
        jsonln!(
            "{}",
            serde_json::json!({ "valid": true, "file": report.file, "diagnostics": report.diagnostics })
        );
    } else {
        err_out!("{report}");
        outln!(
            "{}: valid ({} steps, {} warning(s))",
            path.display(),
            pipeline.steps.len(),
            report.warnings()
        );
    }
    Ok(0)
}

/// Another pipeline file that has run on `pipeline`'s store under its name and still gives
/// both, by the store's records (read from the run that holds the store, if one does); none
/// when there is no store yet or it cannot be read.
fn name_shared_in_store(pipeline: &Pipeline) -> Option<PathBuf> {
    if !pipeline.store.join("db").is_dir() {
        return None;
    }
    let store = StoreArgs {
        store: Some(pipeline.store.clone()),
        pipeline: None,
    };
    let report = store.report(&live::Request::Runs).ok()?;
    crate::run::name_shared_in(report["runs"].as_array()?, pipeline)
}

fn graph(path: &Path, format: GraphFormat, json: bool) -> anyhow::Result<i32> {
    let (pipeline, _) = load_pipeline(path)?;
    let plan = crate::plan::plan(&pipeline);
    if json {
        let nodes: Vec<_> = plan
            .order
            .iter()
            .map(|planned| {
                let step = &pipeline.steps[planned.index];
                let info = step.config.info();
                serde_json::json!({
                    "step": step.name, "op": info.name, "accepts": info.accepts.to_string(),
                    "emits": info.emits, "fingerprint": planned.fingerprint,
                })
            })
            .collect();
        jsonln!(
            "{}",
            serde_json::json!({ "nodes": nodes, "edges": plan.edges })
        );
    } else {
        match format {
            GraphFormat::Dot => out!("{}", crate::plan::to_dot(&pipeline, &plan)),
            GraphFormat::Mermaid => out!("{}", crate::plan::to_mermaid(&pipeline, &plan)),
        }
    }
    Ok(0)
}

/// What `engine run` is told beyond its pipeline and output.
#[derive(Clone, Copy)]
struct RunFlags {
    allow_empty: bool,
    keep_runs: usize,
    retry_failed: bool,
}

fn run(path: &Path, json: bool, flags: RunFlags) -> anyhow::Result<i32> {
    let (pipeline, report) = load_pipeline(path)?;
    if !json && report.warnings() > 0 {
        err_out!("{report}");
    }
    let progress = (!json && std::io::stderr().is_terminal()).then(|| {
        let steps = crate::plan::plan(&pipeline).step_ops(&pipeline);
        Arc::new(Progress::new(&steps))
    });
    let options = crate::runtime::Options {
        retry_failed: flags.retry_failed,
        ..crate::run::options(progress)
    };
    install_ctrl_c(options.cancel.clone(), options.gate.clone());
    // The store in use or unopenable, a step that cannot start: exit 3.
    let summary = crate::run::run(&pipeline, options, flags.allow_empty, flags.keep_runs);
    // A Ctrl-C from now on (while `run --watch` waits) stops no run.
    *ACTIVE_RUN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    let summary = summary?;
    let value = serde_json::to_value(&summary).expect("summary serializes");
    if json {
        jsonln!("{value}");
    } else {
        print_summary(&value);
    }
    Ok(summary.status.exit_code())
}

/// The run a Ctrl-C stops: the one in progress (its cancel flag and commit gate), if any.
type ActiveRun = (
    Arc<std::sync::atomic::AtomicBool>,
    Arc<crate::runtime::commit::CommitGate>,
);

static ACTIVE_RUN: std::sync::Mutex<Option<ActiveRun>> = std::sync::Mutex::new(None);

/// First Ctrl-C: stop the sources and finish what is in flight. Second: leave at once, saying
/// so (with `--json`, as the error object on stdout a command ends with). Once the run's
/// outputs are going into place, a Ctrl-C does nothing: the run ends, and is recorded, as what
/// it is (the little left to do is bounded). Every Ctrl-C also ends `run --watch` (after the
/// run in progress, or at once while it waits).
fn install_ctrl_c(
    cancel: Arc<std::sync::atomic::AtomicBool>,
    gate: Arc<crate::runtime::commit::CommitGate>,
) {
    *ACTIVE_RUN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((cancel, gate));
    // One handler for the process, whichever run is in progress when it fires.
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = ctrlc::set_handler(on_ctrl_c);
    });
}

fn on_ctrl_c() {
    use crate::runtime::commit::Interrupt;
    crate::watch::stop();
    let active = ACTIVE_RUN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let Some((cancel, gate)) = active else {
        return;
    };
    gate.interrupt(&cancel, |what| match what {
        Interrupt::Cancelled => {
            // An index being built for this run will not be kept: its build stops too.
            operators::stop::request();
            errln!(
                "\nstopping: finishing the items in flight, embedding stops after its current batch (Ctrl-C again to stop at once)"
            );
        }
        Interrupt::Again => {
            errln!();
            crate::failure::exit_now(
                "stopped at once by a second Ctrl-C: nothing of this run went into place, and the next run resumes from what was stored",
                Status::Cancelled.exit_code(),
            );
        }
        Interrupt::AfterCommit => errln!(
            "\ntoo late to cancel: the run's outputs are going into place, and it ends as soon as it is recorded"
        ),
    })
}

/// Failed items a run's text summary names; the rest are counted (4,000 lines of a file's
/// broken records buried the table).
const SHOWN_ERRORS: usize = 50;

fn print_summary(summary: &serde_json::Value) {
    let empty = serde_json::Map::new();
    let steps = summary["steps"].as_object().unwrap_or(&empty);
    let width = steps.keys().map(String::len).max().unwrap_or(4).max(4);
    outln!(
        "{:<width$}  {:<16} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>9} {:>9}",
        "step",
        "op",
        "in",
        "out",
        "chunks",
        "failed",
        "warned",
        "cached",
        "seconds",
        "busy"
    );
    for (name, step) in steps {
        let number = |key: &str| step[key].as_u64().unwrap_or(0);
        // A running run's index that has every item and commits.
        let finishing = if step["finishing"] == true {
            "  finishing"
        } else {
            ""
        };
        let optional = |key: &str| {
            step[key]
                .as_u64()
                .map_or_else(String::new, |n| n.to_string())
        };
        outln!(
            "{:<width$}  {:<16} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>9} {:>9}{finishing}",
            name,
            step["op"].as_str().unwrap_or_default(),
            number("in"),
            number("out"),
            optional("chunks"),
            number("failed"),
            optional("warned"),
            number("cached"),
            // Unknown for a run that was killed.
            step["seconds"]
                .as_f64()
                .map_or_else(|| "—".to_owned(), |seconds| format!("{seconds:.2}")),
            step["busy_seconds"]
                .as_f64()
                .map_or_else(String::new, |busy| format!("{busy:.2}")),
        );
    }
    let records = |key: &str| summary[key].as_array().cloned().unwrap_or_default();
    // "step doc: message", "step: message" for the step as a whole (an index's commit), or
    // the message alone for the run as a whole.
    let record = |kind: &str, record: &serde_json::Value| {
        let place = [text(&record["step"]), text(&record["doc_id"])]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let colon = if place.is_empty() { "" } else { ": " };
        outln!("{kind}: {place}{colon}{}", text(&record["message"]));
    };
    for warning in records("warnings") {
        record("warning", &warning);
    }
    print_warned(summary, steps);
    let errors = records("errors");
    for error in errors.iter().take(SHOWN_ERRORS) {
        record("error", error);
    }
    let total = summary["errors_total"].as_u64().unwrap_or(0);
    let shown = errors.len().min(SHOWN_ERRORS) as u64;
    if total > shown {
        let run = summary["run_id"].as_str().unwrap_or("latest");
        outln!(
            "… and {} more error(s): `engine inspect {run} --step STEP --only failed` lists a step's, `engine run --json` the first {}",
            total - shown,
            crate::runtime::MAX_ERROR_RECORDS
        );
    }
    for (name, step) in steps {
        if let Some(line) = index_outcome(&step["outcome"]) {
            outln!("{name}: {line}");
        }
        if let Some(remembered) = step["remembered"].as_u64().filter(|&n| n > 0) {
            outln!(
                "{name}: {remembered} document(s) failed as in an earlier run, not done again (same input and settings); `engine run --retry-failed` tries them again"
            );
        }
        if let Some(stopped) = step["stopped"].as_u64().filter(|&n| n > 0) {
            outln!(
                "{}: {stopped} document(s) stopped when the run was cancelled; the next run does them",
                name
            );
        }
    }
    if let Some(note) = summary["note"].as_str() {
        outln!("note: {note}");
    }
    let length = run_seconds(summary).map_or(String::new(), |s| format!(" in {s:.2}s"));
    outln!(
        "run {} {}{length}",
        text(&summary["run_id"]),
        text(&summary["status"]).replace('_', " "),
    );
}

/// How long a run took; `None` while it runs, or when it was killed before it could say (a
/// run finished by the next command read 0.00 s).
fn run_seconds(run: &serde_json::Value) -> Option<f64> {
    let unfinished = matches!(run["status"].as_str(), Some("running" | "interrupted"))
        && run["ended_at"].is_null();
    if unfinished {
        return None;
    }
    run["seconds"].as_f64()
}

/// The documents named with their first warning, and per step how many more had warnings
/// (`engine inspect` lists them).
fn print_warned(summary: &serde_json::Value, steps: &serde_json::Map<String, serde_json::Value>) {
    let named = summary["warned"].as_array().cloned().unwrap_or_default();
    for record in &named {
        let more = record["warnings"].as_u64().unwrap_or(1).saturating_sub(1);
        let more = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        outln!(
            "warning: {} {}: {}{more}",
            text(&record["step"]),
            text(&record["doc_id"]),
            text(&record["message"])
        );
    }
    for (name, step) in steps {
        let warned = step["warned"].as_u64().unwrap_or(0);
        let shown = named.iter().filter(|r| r["step"] == name.as_str()).count() as u64;
        if warned > shown {
            // A run killed before its summary named none.
            let lead = if shown > 0 { "… and " } else { "" };
            let more = if shown > 0 { " more" } else { "" };
            outln!(
                "{lead}{}{more} document(s) with warnings in {name}: engine inspect {} --step {name}",
                warned - shown,
                text(&summary["run_id"])
            );
        }
    }
}

/// `text` followed by spaces up to `columns` columns as a terminal shows it (a CJK character
/// or an emoji takes two), so that the next column lines up.
fn padded(text: &str, columns: usize) -> String {
    let width = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(columns.saturating_sub(width)))
}

/// `text` on one line: each line end (LF or CRLF, so no carriage return is left to show as
/// `\u{d}`) a space.
fn one_line(text: &str) -> String {
    text.replace("\r\n", " ").replace('\n', " ")
}

fn text(value: &serde_json::Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// Prints the report of `inspect --step`: its `header` (everything but the documents), then
/// the `documents` one by one, as text or as one line of JSON (`{...header, "documents": [...]}`).
fn print_step_report(
    header: &serde_json::Value,
    documents: impl Iterator<Item = serde_json::Value>,
    json: bool,
) {
    if json {
        for piece in step_report_json(header, documents) {
            if crate::stdout::gone() {
                return;
            }
            crate::stdout::write_raw(format_args!("{piece}"), false);
        }
        jsonln!("");
        return;
    }
    print_step_header(header);
    for doc in documents {
        if crate::stdout::gone() {
            return;
        }
        print_step_document(&doc);
    }
}

/// The JSON of `header` with `"documents": [...]` added last, in pieces: the opening, each
/// document, the closing.
fn step_report_json(
    header: &serde_json::Value,
    documents: impl Iterator<Item = serde_json::Value>,
) -> impl Iterator<Item = String> {
    let opening = header.to_string();
    let opening = match opening.strip_suffix('}') {
        Some(fields) if fields.len() > 1 => format!("{fields},\"documents\":["),
        _ => "{\"documents\":[".to_owned(),
    };
    let documents = documents
        .enumerate()
        .map(|(i, document)| format!("{}{document}", if i == 0 { "" } else { "," }));
    std::iter::once(opening)
        .chain(documents)
        .chain(std::iter::once("]}".to_owned()))
}

fn print_step_header(report: &serde_json::Value) {
    let counters = &report["counters"];
    outln!(
        "step {} ({}) of run {}: in {} out {} failed {} cached {}",
        text(&report["step"]),
        text(&counters["op"]),
        text(&report["run_id"]),
        counters["in"],
        counters["out"],
        counters["failed"],
        counters["cached"]
    );
    let timing = &report["timing"];
    if timing.is_object() {
        outln!(
            "computed {} items: min {:.4}s  p50 {:.4}s  p90 {:.4}s  max {:.4}s  total {:.3}s",
            timing["count"],
            timing["min"].as_f64().unwrap_or(0.0),
            timing["p50"].as_f64().unwrap_or(0.0),
            timing["p90"].as_f64().unwrap_or(0.0),
            timing["max"].as_f64().unwrap_or(0.0),
            timing["total"].as_f64().unwrap_or(0.0)
        );
    }
}

/// One document's line of `inspect --step`.
fn print_step_document(doc: &serde_json::Value) {
    let state = if doc["error"].is_string() {
        "failed"
    } else if doc["cached"] == true {
        "cached"
    } else {
        "computed"
    };
    outln!(
        "  {} {:<8} {:>8.4}s {:>9}B  {}",
        padded(text(&doc["doc_id"]), 40),
        state,
        doc["seconds"].as_f64().unwrap_or(0.0),
        doc["bytes_out"],
        if doc["error"].is_string() {
            // A failure remembered from the run that met it.
            let origin = origin_note(&doc["computed_in"], "failed", ": ");
            format!("{}{}", origin.trim_start(), text(&doc["error"]))
        } else {
            format!(
                "{}{}",
                origin_note(&doc["computed_in"], "computed", ": ").trim_start(),
                doc["debug"]
            )
        }
    );
}

/// "(computed in run R in S s)" for a cached output whose computing run is known ("failed"
/// for a remembered failure: its `done`), then `after`; nothing otherwise. The output's debug
/// timings were measured in that run.
fn origin_note(origin: &serde_json::Value, done: &str, after: &str) -> String {
    match origin["run_id"].as_str() {
        Some(run_id) => format!(
            " ({done} in run {run_id}{} in {:.4}s){after}",
            if origin["pruned"] == true {
                ", since removed,"
            } else {
                ""
            },
            origin["seconds"].as_f64().unwrap_or(0.0)
        ),
        None => String::new(),
    }
}

fn print_document_report(report: &serde_json::Value) {
    outln!(
        "document {} in run {}",
        text(&report["doc_id"]),
        text(&report["run_id"])
    );
    for step in report["steps"].as_array().into_iter().flatten() {
        let title = format!("{} ({})", text(&step["step"]), text(&step["op"]));
        print_step_output(step, &title);
    }
    let doc_id = text(&report["doc_id"]);
    match report.get("kept_from") {
        Some(serde_json::Value::String(run_id)) => outln!(
            "\nthe indexes and sinks after the failure keep what run {run_id} made of it (`engine inspect {run_id} --doc {doc_id}`)"
        ),
        Some(_) => outln!(
            "\nno run recorded took it through without failing: the indexes and sinks hold nothing of it"
        ),
        None => {}
    }
}

/// One step's record and output for one document (`inspect --doc`, `tap`), under `title`.
fn print_step_output(step: &serde_json::Value, title: &str) {
    let failed = step["error"].is_string();
    let state = match (failed, step["cached"] == true) {
        (true, true) => "failed as in an earlier run, not done again",
        (true, false) => "failed",
        (false, true) => "cached",
        (false, false) => "computed",
    };
    let done = if failed { "failed" } else { "computed" };
    outln!(
        "\n== {title} {state} {:.4}s{}",
        step["seconds"].as_f64().unwrap_or(0.0),
        origin_note(&step["computed_in"], done, "")
    );
    if let Some(error) = step["error"].as_str() {
        outln!("error: {error}");
    }
    let output = &step["output"];
    match text(&output["type"]) {
        "Parsed" => {
            outln!(
                "title: {}  format: {}  characters: {}",
                // As written (control characters shown as every line shows them), not JSON.
                output["title"].as_str().unwrap_or("(none)"),
                text(&output["format"]),
                output["characters"]
            );
            outln!("elements: {}", output["elements"]);
            for warning in output["debug"]["warnings"].as_array().into_iter().flatten() {
                outln!("warning: {}", text(warning));
            }
            outln!("{}", text(&output["markdown"]));
        }
        "Chunks" => {
            outln!("{} chunks, sizes {}", output["count"], output["sizes"]);
            for chunk in output["chunks"].as_array().into_iter().flatten() {
                // A chunk of table of contents entries, which `index.hybrid` leaves out.
                let contents = if chunk["contents"] == true {
                    "(contents) "
                } else {
                    ""
                };
                outln!(
                    "  #{:<3} {:>6}..{:<6} {:>5} {:<30} {contents}{}",
                    chunk["ordinal"],
                    chunk["span"][0],
                    chunk["span"][1],
                    chunk["tokens"],
                    chunk["section"]
                        .as_array()
                        .map(|s| s.iter().map(text).collect::<Vec<_>>().join(" > "))
                        .unwrap_or_default(),
                    one_line(text(&chunk["text"]))
                );
            }
        }
        // Its error is said above: a failure stores no output.
        _ if output.is_null() && step["error"].is_string() => {}
        _ if output.is_null() && step["output_note"].is_string() => {
            outln!("({})", text(&step["output_note"]))
        }
        _ if output.is_null() => outln!(
            "({})",
            crate::inspect::missing_output_note(
                step["op"].as_str(),
                text(&step["key"]),
                crate::inspect::Failure::None
            )
        ),
        _ => outln!(
            "{}",
            serde_json::to_string_pretty(output).unwrap_or_default()
        ),
    }
}

/// Parses `NAME=FILE` of `compare --run`.
fn parse_run(value: &str) -> Result<(String, PathBuf), String> {
    match value.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok((name.to_owned(), PathBuf::from(file)))
        }
        _ => Err(format!(
            "`{value}` is not NAME=FILE (e.g. --run llamaindex=runs/llamaindex.trec)"
        )),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum QueryMode {
    Hybrid,
    Bm25,
    Vector,
}

impl From<QueryMode> for Mode {
    fn from(mode: QueryMode) -> Mode {
        match mode {
            QueryMode::Hybrid => Mode::Hybrid,
            QueryMode::Bm25 => Mode::Bm25,
            QueryMode::Vector => Mode::Vector,
        }
    }
}

/// What `engine query` searches for.
enum QueryInput {
    /// One query from the command line.
    Text(String),
    /// Every query of a JSONL file.
    File(PathBuf),
}

/// How `engine query` prints.
enum QueryOutput {
    Text,
    Json,
    /// A TREC run with this name.
    Trec(String),
}

/// The settings of `engine query` that apply to every query.
struct QueryRequest {
    index: String,
    mode: Mode,
    k: usize,
    fusion: Fusion,
    output: QueryOutput,
    /// Whether hits show their places in the two lists of hybrid mode.
    explain: bool,
    /// Chunks to add on each side of every hit (`--context`).
    context: usize,
}

/// Why `--explain` (`"explain": true`) is refused outside hybrid mode.
const EXPLAIN_IS_HYBRID: &str = "`--explain` shows where each hybrid hit stood in the BM25 and vector lists fused into it; with `--mode bm25` or `vector` a hit's rank is its list's already: leave it out, or ask for `--mode hybrid`";

fn query(
    path: &Path,
    request: &QueryRequest,
    filters: &[String],
    input: &QueryInput,
) -> anyhow::Result<i32> {
    let (pipeline, _) = load_to_read(path)?;
    // Every input is checked before the index and model load.
    let filters = crate::query::parse_filters(filters, crate::query::Asker::CommandLine)?;
    if let QueryOutput::Trec(name) = &request.output {
        trec_field("run name", name)?;
    }
    let queries = match input {
        QueryInput::Text(text) => {
            crate::query::refuse_empty(text)?;
            Vec::new()
        }
        QueryInput::File(file) => {
            let queries = operators::eval::read_query_lines(file)?;
            if let QueryOutput::Trec(_) = &request.output {
                for (id, _, line) in &queries {
                    trec_field("query id", id)
                        .with_context(|| format!("{}:{line}", file.display()))?;
                }
            }
            queries
                .into_iter()
                .map(|(id, text, _)| (id, text))
                .collect()
        }
    };
    let searcher = crate::query::Searcher::open(&pipeline, &request.index)?;
    let stale = crate::query::stale_notes(&pipeline, &[request.index.as_str()]);
    for note in stale.into_iter().chain(crate::filter_notes::filter_notes(
        searcher.index.metadata_keys(),
        &filters,
    )) {
        errln!("note: {}", crate::stdout::visible(&note));
    }
    match input {
        QueryInput::Text(text) => {
            let (vector, note) = crate::query::prepare(&searcher, request.mode, text)?;
            if let Some(note) = note {
                errln!("note: {note}");
            }
            let mut hits = searcher.search(
                text,
                vector.as_deref(),
                request.mode,
                request.k,
                &filters,
                request.fusion,
            )?;
            crate::query::keep_explain(&mut hits, request.explain);
            searcher.add_context(&mut hits, request.context)?;
            match &request.output {
                QueryOutput::Json => jsonln!("{}", serde_json::json!({ "hits": hits })),
                _ => print_hits(&hits),
            }
        }
        QueryInput::File(_) => query_all(&searcher, request, &filters, &queries)?,
    }
    if let Some(note) = searcher.rebuilt_graph_note() {
        errln!("note: {note}");
    }
    // The process ends here: freeing a large vector graph point by point took a fifth of a
    // query's time (0.4 s at 100,000 chunks), and the system takes the memory back at once.
    std::mem::forget(searcher);
    Ok(0)
}

/// Runs `queries` (id, text) in order, printing each one's results as it is answered; a
/// TREC run is printed whole once every query is answered, so that a doc id it cannot hold
/// refuses the run before a line of it is written (`> run.trec` kept a run cut short that
/// looked complete).
fn query_all(
    searcher: &crate::query::Searcher,
    request: &QueryRequest,
    filters: &[(String, String)],
    queries: &[(String, String)],
) -> anyhow::Result<()> {
    let mut run = Vec::new();
    for (i, (id, text)) in queries.iter().enumerate() {
        // Nobody reads any more (`| head`): the rest need not be searched.
        if crate::stdout::gone() {
            break;
        }
        let (vector, note) = crate::query::prepare(searcher, request.mode, text)?;
        if let Some(note) = note {
            errln!("note: query {}: {note}", crate::stdout::visible(id));
        }
        let vector = vector.as_deref();
        let (mode, k, fusion) = (request.mode, request.k, request.fusion);
        let mut hits = match request.output {
            // A TREC run ranks documents, each by its best chunk.
            QueryOutput::Trec(_) => {
                searcher.search_documents(text, vector, mode, k, filters, fusion)?
            }
            _ => searcher.search(text, vector, mode, k, filters, fusion)?,
        };
        crate::query::keep_explain(&mut hits, request.explain);
        // `--context` and `--trec` exclude each other.
        searcher.add_context(&mut hits, request.context)?;
        match &request.output {
            QueryOutput::Json => {
                jsonln!(
                    "{}",
                    serde_json::json!({ "query_id": id, "text": text, "hits": hits })
                );
            }
            QueryOutput::Text => {
                if i > 0 {
                    outln!();
                }
                outln!("query {id}: {text}");
                print_hits(&hits);
            }
            // Machine output: the ids exactly as the index and qrels hold them.
            QueryOutput::Trec(name) => run.extend(trec_lines(id, &hits, name)?),
        }
    }
    for line in run {
        jsonln!("{line}");
    }
    Ok(())
}

/// Checks that `value` (the `what` of a TREC run line) is one non-empty field.
fn trec_field(what: &str, value: &str) -> anyhow::Result<()> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        return Err(invalid(format!(
            "{what} `{value}` is empty or has whitespace, which a TREC run cannot hold; use --json instead"
        )));
    }
    Ok(())
}

/// The TREC run lines of query `id`: its documents' hits (each document's best chunk, in
/// rank order), with their exact ids. Tools that read a run sort it by score, so each score is
/// below the one before: where a deeper round of a vector or hybrid search ranks a chunk after
/// one it scores above, or two score alike, it is written just below the one before.
fn trec_lines(id: &str, documents: &[Hit], name: &str) -> anyhow::Result<Vec<String>> {
    trec_field("query id", id)?;
    let mut lines = Vec::new();
    let mut ceiling = f32::INFINITY;
    for hit in documents {
        let doc = hit.stored.doc_id.as_str();
        trec_field("doc_id", doc)?;
        let score = match hit.score < ceiling {
            true => hit.score,
            false => ceiling.next_down(),
        };
        ceiling = score;
        lines.push(format!("{id} Q0 {doc} {} {score} {name}", hit.rank));
    }
    Ok(lines)
}

/// A hit's document as `engine query` names it: its id, and its title when it has one that
/// says more (`432 — Flow past a wing`).
fn document_name(hit: &operators::index::StoredHit) -> String {
    match hit.title.as_deref().map(str::trim) {
        Some(title) if !title.is_empty() && title != hit.doc_id => {
            format!("{} — {title}", hit.doc_id)
        }
        _ => hit.doc_id.clone(),
    }
}

/// A hit's section path as `engine query` names it after its document: without the first
/// heading when that is the title already named (`Using Threads § Using Threads > Joining`).
fn section_name(hit: &operators::index::StoredHit) -> String {
    let path = hit.section.as_slice();
    let title = hit.title.as_deref().map(str::trim).unwrap_or_default();
    let path = match path.split_first() {
        Some((first, rest)) if !title.is_empty() && first.trim() == title => rest,
        _ => path,
    };
    path.join(" > ")
}

/// Hits as `engine query` prints them: rank, score, document, section and page, and a preview.
fn print_hits(hits: &[Hit]) {
    if hits.is_empty() {
        outln!("no hits");
    }
    for hit in hits {
        let section = section_name(&hit.stored);
        let section = if section.is_empty() {
            String::new()
        } else {
            format!(" § {section}")
        };
        let page = hit
            .stored
            .page
            .map(|p| format!(" p.{p}"))
            .unwrap_or_default();
        outln!(
            "{:>2}. {:.4}  {}{section}{page}",
            hit.rank,
            hit.score,
            document_name(&hit.stored)
        );
        if let Some(explain) = &hit.explain {
            outln!("    {}", explained(explain));
        }
        let context = hit.context.as_ref();
        for before in context.map_or(&[][..], |context| &context.before) {
            outln!("    ‹ {}", preview(&before.text, 160));
        }
        outln!("    {}", preview(&hit.stored.text, 240));
        for after in context.map_or(&[][..], |context| &context.after) {
            outln!("    › {}", preview(&after.text, 160));
        }
    }
}

/// `text` on one line, cut to `chars` characters (with `…` when cut).
fn preview(text: &str, chars: usize) -> String {
    let cut = text.chars().count() > chars;
    let shown = one_line(&text.chars().take(chars).collect::<String>());
    format!("{shown}{}", if cut { "…" } else { "" })
}

/// A hybrid hit's places in the two lists, as `--explain` prints them:
/// `bm25 #3 12.4100 · vector #1 0.8312`, `bm25 –` where the list does not hold it.
fn explained(explain: &operators::index::Explain) -> String {
    let place = |name: &str, place: &Option<operators::index::ListPlace>| match place {
        Some(place) => format!("{name} #{} {:.4}", place.rank, place.score),
        None => format!("{name} –"),
    };
    format!(
        "{} · {}",
        place("bm25", &explain.bm25),
        place("vector", &explain.vector)
    )
}

fn compare(
    path: &Path,
    options: crate::compare::CompareOptions,
    json: bool,
    html: Option<PathBuf>,
) -> anyhow::Result<i32> {
    let (pipeline, _) = load_to_read(path)?;
    if let Some(html) = &html {
        html_target(html)?;
    }
    let steps: Vec<&str> = match &options.indexes {
        Some(steps) => steps.iter().map(String::as_str).collect(),
        None => crate::query::index_steps(&pipeline),
    };
    let stale = crate::query::stale_notes(&pipeline, &steps);
    for note in &stale {
        errln!("note: {}", crate::stdout::visible(note));
    }
    let mut report = crate::compare::compare(&pipeline, &options)?;
    // For the page and the JSON; people read them above, before the queries run.
    report["index_notes"] = serde_json::json!(stale);
    let written = html.map_or(Ok(()), |html| {
        let title = format!("engine compare: {}", pipeline.name);
        std::fs::write(&html, crate::report::render(&report, &title))
            .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", html.display()))
    });
    // A page that cannot be written loses nothing else: the report is printed all the same.
    let code = match &written {
        Ok(()) => 0,
        Err(err) => {
            let code = crate::failure::exit_code(err);
            if json {
                report["error"] =
                    serde_json::json!({ "message": format!("{err:#}"), "code": code });
            }
            code
        }
    };
    // Problems of the input files, for people whichever the output (the JSON has them too).
    for warning in report["warnings"].as_array().into_iter().flatten() {
        errln!("warning: {}", crate::stdout::visible(text(warning)));
    }
    if json {
        jsonln!("{report}");
    } else {
        print_comparison(&report);
    }
    if let Err(err) = written {
        errln!("error: {err:#}");
    }
    Ok(code)
}

/// Checks, before any work, that `compare --html` can go to `path`: its folder exists and it
/// is not a folder itself.
fn html_target(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        return Err(invalid(format!(
            "--html {} is a folder; give the file to write",
            path.display()
        )));
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(invalid(format!(
            "--html {}: no folder {} to write it in",
            path.display(),
            folder.display()
        )));
    }
    Ok(())
}

/// Without judgments: per query, the overlap and both top lists side by side, to judge by eye,
/// under the names of the two systems.
fn print_side_by_side(pair: &serde_json::Value, a_name: &str, b_name: &str) {
    let queries = pair["queries"].as_object().into_iter().flatten();
    // The first column is as wide as its longest doc id (at least 40), so the second lines up.
    let width = (queries.clone())
        .flat_map(|(_, lists)| lists["a"].as_array().into_iter().flatten())
        .map(|hit| text(hit).chars().count())
        .chain([a_name.chars().count(), 40])
        .max()
        .unwrap_or(40);
    for (query, lists) in queries {
        match lists["overlap"].as_f64() {
            Some(overlap) => outln!("  query {query}: Jaccard overlap {overlap:.2}"),
            None => outln!("  query {query}: no hits on either side"),
        }
        outln!("    {:>2}  {:<width$} {}", "#", a_name, b_name);
        let (a, b) = (lists["a"].as_array(), lists["b"].as_array());
        let rows = a.map_or(0, Vec::len).max(b.map_or(0, Vec::len));
        for row in 0..rows {
            let cell = |list: Option<&Vec<serde_json::Value>>| {
                list.and_then(|l| l.get(row))
                    .map(|v| text(v).to_owned())
                    .unwrap_or_default()
            };
            outln!("    {:>2}. {:<width$} {}", row + 1, cell(a), cell(b));
        }
    }
}

fn print_comparison(report: &serde_json::Value) {
    match report["judged_queries"].as_u64() {
        Some(judged) => outln!(
            "{} queries, {judged} of them judged (metrics are means over the judged ones)",
            report["queries"]
        ),
        None => outln!("{} queries (no judgments)", report["queries"]),
    }
    for note in report["notes"].as_array().into_iter().flatten() {
        outln!("note: {}", crate::stdout::visible(text(note)));
    }
    let mut header = false;
    for (branch, modes) in report["branches"].as_object().into_iter().flatten() {
        for (mode, metrics) in modes.as_object().into_iter().flatten() {
            let Some(metrics) = metrics.as_object() else {
                continue;
            };
            if !header {
                out!("{:<28}", "branch · mode");
                for metric in metrics.keys() {
                    out!(" {metric:>10}");
                }
                outln!();
                header = true;
            }
            out!("{:<28}", format!("{branch} · {mode}"));
            for value in metrics.values() {
                match value.as_f64() {
                    Some(number) if value.is_f64() => out!(" {number:>10.4}"),
                    // A JSON value's Display takes no width: pad its text.
                    _ => out!(" {:>10}", value.to_string()),
                }
            }
            outln!();
        }
    }
    for pair in report["pairs"].as_array().into_iter().flatten() {
        let name = |side: &str| {
            format!(
                "{} · {}",
                text(&pair[side]["index"]),
                text(&pair[side]["mode"])
            )
        };
        if let Some(overlap) = pair.get("mean_overlap") {
            match overlap.as_f64() {
                Some(overlap) => outln!(
                    "{} vs {}: mean top-k overlap (Jaccard) {overlap:.3}",
                    name("a"),
                    name("b")
                ),
                None => outln!(
                    "{} vs {}: no query has hits on either side",
                    name("a"),
                    name("b")
                ),
            }
            print_side_by_side(pair, &name("a"), &name("b"));
        } else if let Some(ndcg) = pair["metrics"].get("ndcg@10") {
            outln!(
                "{} → {}: nDCG@10 {:+.4} (p = {:.4}; wins {}, losses {}, ties {})",
                name("a"),
                name("b"),
                ndcg["mean_difference"].as_f64().unwrap_or(0.0),
                ndcg["p_value"].as_f64().unwrap_or(1.0),
                ndcg["wins"],
                ndcg["losses"],
                ndcg["ties"]
            );
        }
    }
    for (branch, stats) in report["chunks"].as_object().into_iter().flatten() {
        outln!("{}", branch_line(branch, stats));
    }
}

/// One branch's chunks, index size and build cost, as `compare` prints them: "index_a: 224
/// chunks of chunk_a (sizes 12 / 180 / 256 min / median / max, 3 tables); index 1.2 MB; last
/// run: docs 0.01s, parse 0.20s (11 cached), …".
fn branch_line(branch: &str, stats: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    let indexed = stats["indexed_chunks"].as_u64();
    if let Some(count) = stats["count"].as_u64() {
        let sizes = &stats["sizes"];
        let held = crate::compare::indexed_note(stats);
        parts.push(format!(
            "{count} chunks of {}{held} (sizes {} / {} / {} min / median / max, {} tables)",
            text(&stats["step"]),
            sizes["min"],
            sizes["p50"],
            sizes["max"],
            stats["tables"]
        ));
    } else if let Some(indexed) = indexed {
        parts.push(format!("{indexed} chunks"));
    }
    parts.push(format!(
        "index {}",
        human_bytes(stats["index_bytes"].as_u64().unwrap_or(0))
    ));
    if let Some(build) = stats["build"].as_object() {
        let steps: Vec<String> = build
            .iter()
            .map(|(step, cost)| {
                let cached = cost["cached"].as_u64().unwrap_or(0);
                let cached = if cached > 0 {
                    format!(" ({cached} cached)")
                } else {
                    String::new()
                };
                format!(
                    "{step} {:.2}s{cached}",
                    cost["seconds"].as_f64().unwrap_or(0.0)
                )
            })
            .collect();
        if !steps.is_empty() {
            parts.push(format!("last run: {}", steps.join(", ")));
        }
    }
    format!("{branch}: {}", parts.join("; "))
}

/// `bytes` in B, kB, MB or GB (powers of 1,000), three digits or so.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// What an index update did, in a line of the run's text report (from its step's `outcome`).
fn index_outcome(outcome: &serde_json::Value) -> Option<String> {
    let count = |key: &str| outcome[key].as_u64().unwrap_or(0);
    let indexed = outcome["documents_indexed"].as_u64()?;
    let mut line = format!(
        "{indexed} document(s) indexed, {} unchanged, {} removed",
        count("documents_unchanged"),
        count("documents_removed")
    );
    if count("documents_kept") > 0 {
        let kept = count("documents_kept");
        line.push_str(&format!(
            ", {kept} kept as they were (they failed in this run)"
        ));
    }
    line.push_str(&format!("; {} chunks", count("chunks")));
    let contents = count("contents_chunks_left_out");
    if contents > 0 {
        line.push_str(&format!(
            "; {contents} table of contents chunk(s) left out (`contents: true` indexes them)"
        ));
    }
    if outcome["damaged_index_rebuilt"] == true {
        line.push_str("; the index was found damaged, and everything was indexed afresh");
    } else if outcome["indexed_afresh"] == true {
        line.push_str(
            "; everything was indexed afresh, the vector graph built anew (another model or text analysis)",
        );
    } else if outcome["graph_resumed"] == true {
        line.push_str("; the vector graph build went on from where a cancelled run left it");
    } else if outcome["graph_rebuilt"] == true {
        line.push_str("; the vector graph was rebuilt");
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Table columns line up by display width: a wide character takes two columns.
    #[test]
    fn columns_pad_by_display_width() {
        assert_eq!(padded("ab", 5), "ab   ");
        assert_eq!(padded("北京", 5), "北京 ");
        assert_eq!(padded("longer than", 4), "longer than");
    }

    /// A CRLF line end is a space on one line, as LF is: no carriage return is left for the
    /// terminal filter to show as `\u{d}`; one inside a line stays.
    #[test]
    fn crlf_line_ends_are_spaces_on_one_line() {
        assert_eq!(one_line("first\r\nsecond\nthird"), "first second third");
        assert_eq!(one_line("a\rb"), "a\rb");
    }

    /// `inspect --step --json`, written document by document, is the report built whole (as a
    /// running store's socket answers it), with none, one and several documents.
    #[test]
    fn a_step_report_written_in_pieces_is_the_whole_report() {
        let header = serde_json::json!({
            "run_id": "r1", "step": "parse", "counters": {"in": 2, "out": 2}, "timing": null
        });
        let document =
            |id: &str| serde_json::json!({"doc_id": id, "cached": false, "debug": {"elements": 3}});
        for count in [0, 1, 3] {
            let documents: Vec<_> = (0..count).map(|i| document(&format!("d{i}.md"))).collect();
            let mut whole = header.clone();
            whole["documents"] = documents.clone().into();
            let written: String = step_report_json(&header, documents.into_iter()).collect();
            assert_eq!(written, whole.to_string());
        }
        let empty = serde_json::json!({});
        let written: String = step_report_json(&empty, std::iter::empty()).collect();
        assert_eq!(written, r#"{"documents":[]}"#);
    }

    /// An index update's line tells what it did, and says when its graph was rebuilt or went
    /// on from a cancelled run's build.
    #[test]
    fn an_index_outcome_reads_as_one_line() {
        let outcome = serde_json::json!({
            "documents_indexed": 2, "documents_unchanged": 5, "documents_removed": 1,
            "documents_kept": 0, "chunks_added": 9, "chunks": 40,
            "graph_rebuilt": false, "graph_resumed": true
        });
        assert_eq!(
            index_outcome(&outcome).unwrap(),
            "2 document(s) indexed, 5 unchanged, 1 removed; 40 chunks; the vector graph build \
             went on from where a cancelled run left it"
        );
        assert_eq!(index_outcome(&serde_json::Value::Null), None);
    }

    /// A killed run's length is unknown ("—"), not 0.00 s; a finished run's is its seconds.
    #[test]
    fn runs_without_an_end_have_no_length() {
        let run = |status: &str, ended: serde_json::Value| serde_json::json!({ "status": status, "ended_at": ended, "seconds": 0.0 });
        assert_eq!(
            run_seconds(&run("interrupted", serde_json::Value::Null)),
            None
        );
        assert_eq!(run_seconds(&run("running", serde_json::Value::Null)), None);
        let done = serde_json::json!({ "status": "cancelled", "ended_at": "t", "seconds": 45.5 });
        assert_eq!(run_seconds(&done), Some(45.5));
        // A run the next command finished, from a journal that did not say: unknown, not 0.00.
        let finished = serde_json::json!({ "status": "ok", "ended_at": "t", "seconds": null });
        assert_eq!(run_seconds(&finished), None);
    }

    #[test]
    fn a_hit_shows_its_title_when_it_says_more_than_the_doc_id() {
        let hit = |title: Option<&str>| operators::index::StoredHit {
            chunk_id: "c".into(),
            doc_id: "432".into(),
            source: "corpus.jsonl".into(),
            title: title.map(str::to_owned),
            section: Vec::new(),
            page: None,
            text: "t".into(),
        };
        assert_eq!(
            document_name(&hit(Some("Flow past a wing"))),
            "432 — Flow past a wing"
        );
        assert_eq!(document_name(&hit(Some("432"))), "432");
        assert_eq!(document_name(&hit(Some("  "))), "432");
        assert_eq!(document_name(&hit(None)), "432");
    }

    /// A Markdown chapter's title is its first heading, so every hit read `Using Threads §
    /// Using Threads > Joining`.
    #[test]
    fn a_hit_names_its_section_without_the_title_it_repeats() {
        let hit = |title: Option<&str>, section: &[&str]| operators::index::StoredHit {
            chunk_id: "c".into(),
            doc_id: "ch16.md".into(),
            source: "ch16.md".into(),
            title: title.map(str::to_owned),
            section: section.iter().map(|s| s.to_string()).collect(),
            page: None,
            text: "t".into(),
        };
        let threads = Some("Using Threads");
        assert_eq!(
            section_name(&hit(threads, &["Using Threads", "Joining"])),
            "Joining"
        );
        assert_eq!(section_name(&hit(threads, &["Using Threads"])), "");
        assert_eq!(
            section_name(&hit(threads, &["Intro", "Using Threads"])),
            "Intro > Using Threads"
        );
        assert_eq!(section_name(&hit(None, &["A", "B"])), "A > B");
        assert_eq!(section_name(&hit(Some(""), &["", "B"])), " > B");
    }

    #[test]
    fn a_branch_line_says_chunks_index_size_and_build_cost() {
        let stats = serde_json::json!({
            "index_bytes": 1_234_567,
            "step": "chunk_a", "count": 224, "tables": 3,
            "sizes": { "min": 12, "p50": 180, "max": 256 },
            "build": {
                "docs": { "op": "source.files", "seconds": 0.012, "items": 11, "cached": 0 },
                "chunk_a": { "op": "chunk.recursive", "seconds": 0.2, "items": 11, "cached": 11 },
            },
        });
        assert_eq!(
            branch_line("index_a", &stats),
            "index_a: 224 chunks of chunk_a (sizes 12 / 180 / 256 min / median / max, 3 tables); index 1.2 MB; last run: docs 0.01s, chunk_a 0.20s (11 cached)"
        );
        // No run recorded (the store in use, say): the size alone.
        assert_eq!(
            branch_line("index_b", &serde_json::json!({ "index_bytes": 999 })),
            "index_b: index 999 B"
        );
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(2_500_000_000), "2.5 GB");
    }

    #[test]
    fn the_rrf_constant_is_a_number_in_range() {
        assert_eq!(rrf_k("60"), Ok(60.0));
        assert_eq!(rrf_k("0"), Ok(0.0));
        for wrong in ["-1", "1e100", "inf", "NaN", "1000001", "sixty"] {
            let message = rrf_k(wrong).unwrap_err();
            assert!(message.contains("from 0 to 1000000"), "{wrong}: {message}");
        }
    }

    /// A negative number after a numeric option is its value, refused with the option's range:
    /// clap took `-0.1` for an unknown flag `-0` and advised `-- -0`, which makes it the query.
    #[test]
    fn a_negative_number_is_refused_with_the_range_of_its_option() {
        let query = &["engine", "query", "p.yaml", "--index", "i", "text"][..];
        let compare = &["engine", "compare", "p.yaml", "--queries", "q.jsonl"][..];
        for (base, option, value, says) in [
            (query, "--alpha", "-0.1", "from 0 to 1"),
            (query, "--rrf-k", "-60", "from 0 to 1000000"),
            (query, "-k", "-1", "not a whole number from 1"),
            (query, "--context", "-2", "not a whole number (0 or more)"),
            (compare, "--alpha", "-0.5", "from 0 to 1"),
            (compare, "-k", "-3", "not a whole number from 1"),
            (compare, "--trials", "-10", "not a whole number from 1"),
        ] {
            let args = base.iter().copied().chain([option, value]);
            let message = Cli::try_parse_from(args).unwrap_err().to_string();
            assert!(
                message.contains(&format!("invalid value '{value}'"))
                    && message.contains(says)
                    && !message.contains("unexpected argument"),
                "{option} {value}: {message}"
            );
        }
    }

    #[test]
    fn a_tap_mentions_skipped_items_only_when_there_were_some() {
        assert_eq!(tap_ended(3, 0), "the run ended; 3 item(s)");
        assert_eq!(
            tap_ended(0, 2),
            "the run ended; 0 item(s), 2 skipped (this terminal fell behind)"
        );
    }
}
