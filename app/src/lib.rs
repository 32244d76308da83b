//! The console's user interface: pages, components, charts and the server functions
//! they call. Compiled twice: with `ssr` into the server, with `hydrate` into the WASM.

pub mod account;
pub mod api_tokens;
pub mod audit_trail;
#[cfg(feature = "ssr")]
pub mod auth;
pub mod charts;
pub mod components;
pub mod error;
#[cfg(feature = "ssr")]
pub mod monitor;
pub mod monitoring;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod state;
pub mod status;
#[cfg(feature = "ssr")]
pub mod tasks;
pub mod url;
pub mod users;

pub use routes::{shell, App};
