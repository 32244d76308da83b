//! Storage over time (issue #13, under way): for now the policy-aware forecast, a pure
//! function; the sampler, its history table and the trends page build on it.

pub mod forecast;
