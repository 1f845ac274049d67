//! Fuzzes the PDF parser: any bytes must give a parsed document or a clean error.
//!
//! `cargo +nightly fuzz run parse_pdf -- -max_total_time=600` (seed the corpus with
//! `../shared/corpus/pdf/*.pdf` for useful coverage).
#![no_main]

use libfuzzer_sys::fuzz_target;
use operators::model::{Document, Format};
use operators::parse::{ParseConfig, parse};

fuzz_target!(|data: &[u8]| {
    let doc = Document::new("fuzz.pdf".into(), "fuzz.pdf".into(), data.to_vec());
    let config = ParseConfig {
        format: Some(Format::Pdf),
    };
    if let Ok(parsed) = parse(&doc, &config) {
        for e in &parsed.elements {
            assert!(e.span[0] <= e.span[1] && e.span[1] <= parsed.markdown.len());
            assert!(parsed.markdown.is_char_boundary(e.span[0]));
            assert!(parsed.markdown.is_char_boundary(e.span[1]));
        }
    }
});
