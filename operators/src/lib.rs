//! The typed operator library of the engine, usable without the engine: the item model,
//! parsing, chunking and the helpers they share.

pub mod came_twice;
pub mod caught;
pub mod chunk;
pub mod cpu_time;
pub mod embed;
pub mod eval;
pub mod index;
pub mod model;
pub mod parse;
pub mod sink;
pub mod source;
pub mod stop;
pub mod yaml_scalar;
