//! The console's user interface: pages, components, charts and the server functions
//! they call. Compiled twice: with `ssr` into the server, with `hydrate` into the WASM.

pub mod account;
pub mod advisor;
pub mod alerts;
pub mod audit;
#[cfg(feature = "ssr")]
pub mod auth;
pub mod bench;
pub mod charts;
pub mod components;
pub mod csp;
pub mod diagnostics;
pub mod error;
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod lanes;
pub mod monitoring;
pub mod pages;
pub mod policies;
pub mod routes;
pub mod startup;
#[cfg(feature = "ssr")]
pub mod state;
pub mod storage;
#[cfg(feature = "ssr")]
pub mod tasks;
pub mod tokens;
pub mod url;
pub mod users;
#[cfg(feature = "ssr")]
pub mod visibility;

pub use routes::{shell, App};
