//! One module per route; each owns its resources and its loading, empty and error states.

pub mod dashboard;
pub mod not_found;
