//! Fuzz target: arbitrary bytes parsed as docx; any result is fine, a panic or hang is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use operators::model::{Document, Format};
use operators::parse::{ParseConfig, parse};

fuzz_target!(|data: &[u8]| {
    let mut doc = Document::new("fuzz".into(), "fuzz".into(), data.to_vec());
    doc.format = Some(Format::Docx);
    let _ = parse(&doc, &ParseConfig::default());
});
