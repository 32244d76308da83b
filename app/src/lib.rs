//! The console's user interface: pages, components, charts and the server functions
//! they call. Compiled twice: with `ssr` into the server, with `hydrate` into the WASM.

pub mod charts;
pub mod components;
pub mod error;
pub mod hypertables;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod state;
pub mod status;

pub use routes::{shell, App};
