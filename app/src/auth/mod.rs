//! Authentication and authorization on the server: who is asking (session or API
//! token), what they may call, and the secrets behind it (password hashes, token
//! digests). Nothing here runs in the browser.

pub mod access;
pub mod cache;
pub mod flights;
pub mod password;
pub mod principal;
pub mod proxy;
pub mod resolve;
pub mod settings;
pub mod sign_in;
pub mod store;
pub mod token_secret;

pub use principal::{request_auth, require, Principal, RequestAuth};
