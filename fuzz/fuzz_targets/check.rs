//! What every parse target treats as a failure, shared by the targets (`mod check;`).
//!
//! libfuzzer-sys installs a panic hook that aborts on *every* panic, even one that `parse`
//! catches on purpose: `operators::caught::catch_quietly` wraps the PDF libraries (lopdf,
//! pdf-extract), whose panics on bad input become the document's `PdfMalformed` error by design.
//! [`init`] keeps aborting for everything else, and lets through only a panic that is caught
//! by `catch_quietly` *and* raised outside the operators crate's own code: a panic in our code
//! is a bug even when a catch upstream would turn it into an error record.
//!
//! The caught third-party panics are printed once per source location (set
//! `FUZZ_QUIET_CAUGHT=1` to hide them), so a run shows what the catch absorbs.

use std::collections::HashSet;
use std::panic::PanicHookInfo;
use std::sync::Mutex;

use operators::model::{Document, ElementKind, Format, ParsedDocument};
use operators::parse::{ParseConfig, parse};

/// Parses `bytes` as `format`: an error is fine, a parsed document must pass [`elements`].
pub fn parse_as(bytes: Vec<u8>, format: Format) {
    let doc = Document::new("fuzz".into(), "fuzz".into(), bytes);
    let config = ParseConfig {
        format: Some(format),
        ..ParseConfig::default()
    };
    if let Ok(parsed) = parse(&doc, &config) {
        elements(&parsed);
    }
}

/// Replaces libfuzzer-sys's abort-on-any-panic hook; call from `fuzz_target!(init: …)`.
pub fn init() {
    let abort_hook = std::panic::take_hook();
    let quiet = std::env::var_os("FUZZ_QUIET_CAUGHT").is_some();
    let seen: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    std::panic::set_hook(Box::new(move |info| {
        if operators::caught::is_catching() && !raised_in_operators(info) {
            let place = info
                .location()
                .map_or_else(|| "?".to_string(), |l| format!("{}:{}", l.file(), l.line()));
            let new = seen
                .lock()
                .map(|mut s| s.insert(place.clone()))
                .unwrap_or(false);
            if new && !quiet {
                eprintln!(
                    "[check] panic caught by design at {place}: {}",
                    message(info)
                );
            }
            return;
        }
        abort_hook(info);
    }));
}

/// Whether the panic comes from the operators crate: its location, or, for a panic raised
/// inside the standard library (a failed `sort_by` order, an allocation size overflow), the
/// first caller outside the standard library.
fn raised_in_operators(info: &PanicHookInfo<'_>) -> bool {
    let file = info.location().map_or("", |l| l.file());
    if !is_std(file) {
        return is_ours(file);
    }
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    trace
        .lines()
        .filter_map(|line| line.trim().strip_prefix("at "))
        .find(|at| !is_std(at) && !at.contains("/backtrace") && !at.contains("check.rs"))
        .is_some_and(is_ours)
}

fn is_std(file: &str) -> bool {
    file.starts_with("/rustc/") || file.contains("/library/std/") || file.contains("/library/core/")
}

fn is_ours(file: &str) -> bool {
    file.contains("operators/src/")
}

fn message(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// The invariants of a parsed document's elements (see `operators::model::Element`).
pub fn elements(parsed: &ParsedDocument) {
    let md = &parsed.markdown;
    for e in &parsed.elements {
        let [start, end] = e.span;
        assert!(start <= end && end <= md.len(), "span out of range: {e:?}");
        assert!(
            md.is_char_boundary(start),
            "span start not on a char boundary: {e:?}"
        );
        assert!(
            md.is_char_boundary(end),
            "span end not on a char boundary: {e:?}"
        );
        if e.kind == ElementKind::Heading {
            assert!(matches!(e.level, Some(1..=6)), "heading level: {e:?}");
        }
    }
}
