//! One module per route; each owns its resources and its loading, empty and error states.

pub mod account;
pub mod audit;
pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod tokens;
pub mod users;
