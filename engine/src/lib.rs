//! The engine: YAML pipelines become a typed DAG of operators that runs concurrently over
//! bounded channels.

#[macro_use]
pub mod stdout;
pub mod checkpoint;
pub mod cli;
pub mod compare;
pub mod durable;
pub mod failure;
pub mod filter_notes;
pub mod gc;
pub mod in_flight;
pub mod inspect;
pub mod live;
pub mod natural_order;
pub mod ops;
pub mod plan;
pub mod progress;
pub mod publishing;
pub mod query;
pub mod registry;
pub mod report;
pub mod run;
pub mod runtime;
pub mod serve;
pub mod spec;
pub mod store;
pub mod unsearchable;
pub mod vectors;
pub mod watch;
pub mod write_deadline;
