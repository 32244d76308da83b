//! `ms5-console bench`: the seed's performance suite run honestly against the configured
//! database — inside a scratch schema that is always removed, every figure beside an
//! anchor measured in the same run (psql sending the same statements and rows).
//!
//! `report` and `stats` compile for wasm32 too (the admin page reads reports); the rest
//! talks to the database.

pub mod report;
pub mod stats;

#[cfg(feature = "db")]
pub mod history;
#[cfg(feature = "db")]
pub mod psql;
#[cfg(feature = "db")]
pub mod rows;
#[cfg(feature = "db")]
pub mod run;
#[cfg(feature = "db")]
pub mod scratch;
#[cfg(feature = "db")]
pub mod suite;
