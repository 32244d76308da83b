//! Accounts on the server side: the CLI's user commands and demo accounts. Hashing and
//! token secrets live in `app::auth`, shared with the server functions.

pub mod cli;
pub mod demo;
