//! PDF: glyphs from pdf-extract's content interpreter (over a lopdf `Document`), laid out into
//! lines, reading order, paragraphs, headings, lists and tables, rendered as Markdown.
//!
//! One module per job: `load` (open, decrypt, metadata, sanity checks), `lenient` (objects
//! lopdf refused for one bad token, read again), `glyph_names` (glyph names mapped by the
//! rules of the Adobe Glyph List), `page_tree` (each page once, past loops),
//! `freed` (objects an incremental update deleted), `extract` (glyphs),
//! `turn` (text set sideways or upside down, read in the frame that turns it upright),
//! `rules` (the thin lines a page draws), `lines` (glyphs → words → line segments),
//! `furniture` (running headers, footers, page numbers), `order` (columns and reading order),
//! `lists` (which labels mark list items, and label columns beside text), `grid` (ruled
//! tables), `banded` (tables ruled with horizontal lines alone), `header_rule` (tables ruled
//! under their header alone), `gutters` (the thin gutters of compact tables without rules),
//! `tables` (tables told from text), `wrapped` (a first cell wrapped onto a line of its own, or
//! a row of its own), `paragraphs`, `display` (centred lines between running text), `headings`
//! and `render` (Markdown and elements). Bad input never panics out of [`parse`]: the work runs
//! on its own thread with a large stack, every page under `catch_unwind`, and within a time
//! budget.

mod accents;
mod banded;
mod bidi;
mod cid_encoding;
mod cmap_guard;
mod code;
mod dangling;
mod display;
mod extract;
mod flatten;
mod font_repair;
mod font_streams;
mod freed;
mod furniture;
mod glyph_names;
mod grid;
mod gutters;
mod header_rule;
mod headings;
mod layout;
mod leaders;
mod lengths;
mod lenient;
mod lines;
mod lists;
mod load;
mod order;
mod page_tree;
mod paragraphs;
mod preload;
mod rebuild;
mod render;
mod rules;
mod streams;
mod tables;
mod tokens;
mod truncated;
mod turn;
mod wrapped;

#[cfg(test)]
mod tests;

use crate::caught::catch_quietly;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use super::{ParseError, Parsed};

/// Default time budget of one document.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(60);

/// Stack of the parsing thread: deep but finite nesting in a hostile file must not overflow.
const STACK_BYTES: usize = 256 << 20;

/// Settings of the PDF parser: the `pdf` key of a `parse` step.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct PdfConfig {
    /// Seconds one PDF may take; past them it fails with a timeout error. Changing it re-parses
    /// nothing that was parsed, only the documents that timed out.
    #[serde(
        default = "default_time_budget_seconds",
        skip_serializing,
        rename = "time_budget_seconds"
    )]
    #[schemars(range(min = 1, max = 86400), extend("default" = 60))]
    pub time_budget_seconds: u64,
    /// Glyphs read from one PDF (at most 400,000 a page); later pages are left out with a
    /// warning. Time and memory grow with it.
    #[serde(default = "default_max_glyphs")]
    #[schemars(range(min = 1, max = 100_000_000))]
    pub max_glyphs: usize,
}

fn default_time_budget_seconds() -> u64 {
    DEFAULT_TIME_BUDGET.as_secs()
}

fn default_max_glyphs() -> usize {
    extract::MAX_GLYPHS_PER_DOCUMENT
}

impl Default for PdfConfig {
    fn default() -> Self {
        PdfConfig {
            time_budget_seconds: default_time_budget_seconds(),
            max_glyphs: default_max_glyphs(),
        }
    }
}

impl PdfConfig {
    /// Whether every setting that shapes the output has its default (the time budget shapes
    /// none), so that the step's settings, and its fingerprint, leave `pdf` out.
    pub fn keeps_default_output(&self) -> bool {
        self.max_glyphs == default_max_glyphs()
    }

    fn time_budget(&self) -> Duration {
        Duration::from_secs(self.time_budget_seconds)
    }

    fn limits(&self) -> layout::DocLimits {
        layout::DocLimits {
            glyphs: self.max_glyphs,
            ..layout::DocLimits::default()
        }
    }
}

/// Parses a PDF on a thread of its own, so that a hang inside the PDF libraries costs at most
/// the time budget (plus a grace period) and a panic becomes an error.
pub(crate) fn parse_with(bytes: Arc<[u8]>, config: &PdfConfig) -> Result<Parsed, ParseError> {
    let (tx, rx) = mpsc::channel();
    let budget = config.time_budget();
    let limits = config.limits();
    let worker_bytes = Arc::clone(&bytes);
    let spawned = std::thread::Builder::new()
        .name("parse-pdf".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let result = catch_quietly(|| layout::parse(&worker_bytes, budget, limits))
                .unwrap_or_else(|panic| Err(panicked(panic.as_ref())));
            let _ = tx.send(result);
        });
    if spawned.is_err() {
        return catch_quietly(|| layout::parse(&bytes, budget, config.limits()))
            .unwrap_or_else(|panic| Err(panicked(panic.as_ref())));
    }
    let grace = Duration::from_secs(5);
    match rx.recv_timeout(budget + grace) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(ParseError::PdfTimeout {
            seconds: budget.as_secs(),
            page: 0,
            cpu_percent: None,
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(ParseError::PdfMalformed {
            reason: "the PDF reader stopped unexpectedly".into(),
        }),
    }
}

/// The error for a panic caught inside the PDF libraries.
fn panicked(panic: &(dyn std::any::Any + Send)) -> ParseError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown failure".into());
    ParseError::PdfMalformed {
        reason: format!("the PDF reader failed ({message})"),
    }
}
