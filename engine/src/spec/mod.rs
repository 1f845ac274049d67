//! The pipeline file: YAML with positions, the JSON Schema, settings and diagnostics.

pub mod diagnostic;
pub mod inherit;
pub mod load;
pub mod paths;
pub mod schema;
pub mod vector_space;
pub mod yaml;
