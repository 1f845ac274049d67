//! Fuzz target: the XML parts of a docx, packed into a valid zip and parsed as docx.
//!
//! `parse_docx` mutates the zip bytes, so nearly every mutation inside a compressed part fails
//! the zip's CRC check and never reaches the XML readers. Here the input is the parts
//! themselves, separated by NUL bytes (which XML cannot contain), in the order of [`PARTS`];
//! they are stored uncompressed in a fresh package. Failures are those of `check.rs`.
#![no_main]

mod check;

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use operators::model::Format;

/// The parts the docx parser reads, in input order.
const PARTS: [&str; 6] = [
    "word/document.xml",
    "word/styles.xml",
    "word/numbering.xml",
    "word/footnotes.xml",
    "word/endnotes.xml",
    "docProps/core.xml",
];

fn package(data: &[u8]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, part) in PARTS.iter().zip(data.split(|&b| b == 0)) {
        zip.start_file(*name, options).expect("zip entry");
        zip.write_all(part).expect("zip write");
    }
    zip.finish().expect("zip finish");
    out.into_inner()
}

fuzz_target!(init: check::init(), |data: &[u8]| {
    check::parse_as(package(data), Format::Docx);
});
