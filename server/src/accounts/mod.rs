//! Accounts on the server side: password hashing and policy, API token secrets, and the CLI's user commands.

pub mod cli;
pub mod password;
pub mod token;
