//! Fuzz target: arbitrary bytes parsed as markdown. An Ok or an Err are both fine; a panic (other
//! than one the parser catches by design inside a third-party library, see `check.rs`), an
//! abort, a hang, a blow-up of memory or an element with a broken span is not.
#![no_main]

mod check;

use libfuzzer_sys::fuzz_target;
use operators::model::Format;

fuzz_target!(init: check::init(), |data: &[u8]| {
    check::parse_as(data.to_vec(), Format::Markdown);
});
