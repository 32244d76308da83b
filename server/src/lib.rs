//! The console server: configuration, database connection, start-up work, the HTTP
//! application (REST API, server functions, pages) and graceful shutdown.

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod database;
pub mod demo_accounts;
pub mod http;
pub mod logging;
pub mod shutdown;
pub mod site;
pub mod tasks;
