//! The TimescaleDB engine of the MS5.0 console.
//!
//! Wire types (`types`, `interval`) compile everywhere, wasm32 included, so the browser
//! and the server share one definition. Everything that talks to the database sits
//! behind the `db` feature and knows nothing of HTTP or Leptos.

pub mod access_types;
pub mod advisor;
pub mod alerts;
pub mod bench;
pub mod chunk_query;
pub mod diagnostics;
pub mod facts;
pub mod ident;
pub mod interval;
pub mod jobs;
pub mod policy;
pub mod releases;
pub mod secrets;
pub mod storage;
pub mod types;

#[cfg(feature = "db")]
pub mod audit;
#[cfg(feature = "db")]
pub mod auth_epoch;
#[cfg(feature = "db")]
pub mod capabilities;
#[cfg(feature = "db")]
pub mod chunk_actions;
#[cfg(feature = "db")]
pub mod connection;
#[cfg(feature = "db")]
pub mod contract;
#[cfg(feature = "db")]
pub mod demo;
#[cfg(feature = "db")]
mod error;
#[cfg(feature = "db")]
pub mod locks;
#[cfg(feature = "db")]
pub mod migrations;
#[cfg(feature = "db")]
pub mod monitoring;
#[cfg(feature = "db")]
pub mod pg_time;
#[cfg(feature = "db")]
pub mod sessions;
#[cfg(feature = "test-support")]
pub mod testing;
#[cfg(feature = "db")]
pub mod throttle;
#[cfg(feature = "db")]
pub mod tokens;
#[cfg(feature = "db")]
pub mod users;

#[cfg(feature = "db")]
pub use error::{trouble_of, Error, Result, Trouble};
