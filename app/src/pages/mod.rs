//! One module per route; each owns its resources and its loading, empty and error states.

pub mod account;
pub mod advisor;
pub mod alerts;
pub mod audit;
pub mod bench;
pub mod chunks;
pub mod diagnostics;
pub mod hypertable;
pub mod hypertables;
pub mod job;
pub mod jobs;
pub mod login;
pub mod not_found;
pub mod overview;
pub mod policies;
pub mod policy;
pub mod revert;
pub mod storage;
pub mod tokens;
pub mod users;
