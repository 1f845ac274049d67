//! Sinks: where items end up.

pub mod jsonl;

pub use jsonl::{JsonlSink, JsonlSinkConfig};
