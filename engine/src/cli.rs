//! The `engine` command line: run, validate, graph, schema, parse.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use clap::{Parser, Subcommand, ValueEnum};

use crate::progress::Progress;
use crate::run::{RunSummary, Status};
use crate::spec::diagnostic::Report;
use crate::spec::load::{self, Pipeline};

/// Exit code for an invalid pipeline or bad usage.
pub const EXIT_INVALID: i32 = 2;

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
        /// Print nodes and edges as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of pipeline files.
    Schema,
    /// Parse one file and print the result (exit 1 with the error on stderr when it cannot be parsed).
    Parse {
        /// The file to parse.
        file: PathBuf,
        /// Output: the Markdown rendering, or the parsed document as JSON (as sink.jsonl writes it).
        #[arg(long, value_enum, default_value_t = ParseOutput::Markdown)]
        format: ParseOutput,
        /// Parse as this format instead of detecting it.
        #[arg(long = "as", value_name = "FORMAT")]
        as_format: Option<String>,
    },
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
    let cli = Cli::parse();
    match cli.command {
        Command::Run { pipeline, json } => run(&pipeline, json),
        Command::Validate { pipeline, json } => validate(&pipeline, json),
        Command::Graph {
            pipeline,
            format,
            json,
        } => graph(&pipeline, format, json),
        Command::Schema => {
            print!("{}", crate::spec::schema::pipeline_schema_text());
            0
        }
        Command::Parse {
            file,
            format,
            as_format,
        } => parse_file(&file, format, as_format.as_deref()),
    }
}

/// Largest file `engine parse` reads, as `source.files` does by default.
const PARSE_MAX_BYTES: u64 = 256 << 20;

/// `engine parse FILE`: prints one file's Markdown or JSON; errors go to stderr with exit 1.
fn parse_file(path: &Path, output: ParseOutput, as_format: Option<&str>) -> i32 {
    use std::io::Read;

    let config = match as_format {
        None => operators::parse::ParseConfig::default(),
        Some(name) => match serde_json::from_value(serde_json::json!({ "format": name })) {
            Ok(config) => config,
            Err(_) => {
                eprintln!(
                    "error: unknown format `{name}`; use one of text, markdown, html, pdf, docx"
                );
                return EXIT_INVALID;
            }
        },
    };
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|file| file.take(PARSE_MAX_BYTES + 1).read_to_end(&mut bytes));
    if let Err(error) = read {
        eprintln!("error: {}: {error}", path.display());
        return 1;
    }
    if bytes.len() as u64 > PARSE_MAX_BYTES {
        eprintln!(
            "error: {}: larger than {PARSE_MAX_BYTES} bytes",
            path.display()
        );
        return 1;
    }
    let name = path.display().to_string();
    let doc = operators::model::Document::new(name.clone(), name, bytes);
    match operators::parse::parse(&doc, &config) {
        Ok(parsed) => {
            match output {
                ParseOutput::Markdown => print!("{}", parsed.markdown),
                ParseOutput::Json => println!(
                    "{}",
                    serde_json::to_string(&parsed).expect("a parsed document serializes")
                ),
            }
            0
        }
        Err(error) => {
            eprintln!("error: {}: {error}", path.display());
            1
        }
    }
}

/// Loads a pipeline; on problems prints them (text on stderr, or JSON on stdout) and gives the exit code.
fn load_or_report(path: &Path, json: bool) -> Result<(Pipeline, Report), i32> {
    match load::load(path) {
        Ok(loaded) => Ok(loaded),
        Err(report) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "valid": false, "file": report.file, "diagnostics": report.diagnostics })
                );
            } else {
                eprint!("{report}");
                eprintln!(
                    "{}: {} error(s), {} warning(s)",
                    report.file.display(),
                    report.errors(),
                    report.warnings()
                );
            }
            Err(EXIT_INVALID)
        }
    }
}

fn validate(path: &Path, json: bool) -> i32 {
    let (pipeline, report) = match load_or_report(path, json) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if json {
        println!(
            "{}",
            serde_json::json!({ "valid": true, "file": report.file, "diagnostics": report.diagnostics })
        );
    } else {
        eprint!("{report}");
        println!(
            "{}: valid ({} steps, {} warning(s))",
            path.display(),
            pipeline.steps.len(),
            report.warnings()
        );
    }
    0
}

fn graph(path: &Path, format: GraphFormat, json: bool) -> i32 {
    let (pipeline, _) = match load_or_report(path, json) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
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
        println!(
            "{}",
            serde_json::json!({ "nodes": nodes, "edges": plan.edges })
        );
    } else {
        match format {
            GraphFormat::Dot => print!("{}", crate::plan::to_dot(&pipeline, &plan)),
            GraphFormat::Mermaid => print!("{}", crate::plan::to_mermaid(&pipeline, &plan)),
        }
    }
    0
}

fn run(path: &Path, json: bool) -> i32 {
    let (pipeline, report) = match load_or_report(path, json) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if !json && report.warnings() > 0 {
        eprint!("{report}");
    }
    let progress = (!json && std::io::stderr().is_terminal()).then(|| {
        let steps: Vec<(String, String)> = crate::plan::plan(&pipeline)
            .order
            .iter()
            .map(|planned| {
                let step = &pipeline.steps[planned.index];
                (step.name.clone(), step.config.info().name.to_owned())
            })
            .collect();
        Arc::new(Progress::new(&steps))
    });
    let options = crate::run::options(progress);
    install_ctrl_c(options.cancel.clone());
    match crate::run::run(&pipeline, options) {
        Ok(summary) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&summary).expect("summary serializes")
                );
            } else {
                print_summary(&summary);
            }
            summary.status.exit_code()
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            1
        }
    }
}

/// First Ctrl-C: stop the sources and finish what is in flight. Second: leave at once.
fn install_ctrl_c(cancel: Arc<std::sync::atomic::AtomicBool>) {
    let _ = ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::SeqCst) {
            eprintln!("\nstopped");
            std::process::exit(Status::Cancelled.exit_code());
        }
        eprintln!("\nstopping: finishing the items in flight (Ctrl-C again to stop at once)");
    });
}

fn print_summary(summary: &RunSummary) {
    let width = summary
        .steps
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:<width$}  {:<16} {:>8} {:>8} {:>7} {:>7} {:>9}",
        "step", "op", "in", "out", "failed", "cached", "seconds"
    );
    for (name, step) in &summary.steps {
        let number = |key: &str| step[key].as_u64().unwrap_or(0);
        println!(
            "{:<width$}  {:<16} {:>8} {:>8} {:>7} {:>7} {:>9.2}",
            name,
            step["op"].as_str().unwrap_or_default(),
            number("in"),
            number("out"),
            number("failed"),
            number("cached"),
            step["seconds"].as_f64().unwrap_or(0.0),
        );
    }
    for warning in &summary.warnings {
        println!(
            "warning: {} {}: {}",
            warning.step, warning.doc_id, warning.message
        );
    }
    for error in &summary.errors {
        println!("error: {} {}: {}", error.step, error.doc_id, error.message);
    }
    if summary.errors_total > summary.errors.len() as u64 {
        println!(
            "… and {} more errors",
            summary.errors_total - summary.errors.len() as u64
        );
    }
    let status = match summary.status {
        Status::Ok => "ok",
        Status::FailedItems => "finished with failed items",
        Status::Cancelled => "cancelled",
    };
    println!("run {} {status} in {:.2}s", summary.run_id, summary.seconds);
}
