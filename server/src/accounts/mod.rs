//! Accounts on the server side: password hashing and policy, and the CLI's user commands.

pub mod cli;
pub mod password;
