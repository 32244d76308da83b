//! API token secrets: 256 random bits, shown once, stored as a SHA-256 digest.
//!
//! A digest (not Argon2) is right here: the secret is random and long, so there is
//! nothing to brute-force, and every API call must verify in microseconds.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Every token starts with this, so leaked tokens are easy to grep for.
pub const SCHEME_PREFIX: &str = "ms5_";

/// A freshly generated token: the secret (show once), its prefix and digest (store).
pub struct Generated {
    /// The whole token, `ms5_…`; never stored.
    pub secret: String,
    /// The first 12 characters, for recognising the token in lists.
    pub prefix: String,
    /// SHA-256 of the whole token.
    pub sha256: [u8; 32],
}

/// Generates a new token from the operating system's random source.
pub fn generate() -> Result<Generated, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)?;
    let secret = format!("{SCHEME_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    Ok(Generated {
        prefix: secret.chars().take(12).collect(),
        sha256: digest(&secret),
        secret,
    })
}

/// The digest a presented token is looked up by.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The token from an `Authorization: Bearer …` header value, if well formed.
pub fn from_bearer(header: &str) -> Option<&str> {
    let token = header.strip_prefix("Bearer ")?.trim();
    (token.starts_with(SCHEME_PREFIX) && token.len() == SCHEME_PREFIX.len() + 43).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_digested() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a.secret, b.secret);
        assert!(
            a.secret.starts_with("ms5_") && a.secret.len() == 47,
            "{}",
            a.secret
        );
        assert_eq!(a.prefix, &a.secret[..12]);
        assert_eq!(a.sha256, digest(&a.secret));
        assert_ne!(a.sha256, b.sha256);
    }

    #[test]
    fn bearer_headers_are_parsed_strictly() {
        let token = generate().unwrap().secret;
        assert_eq!(
            from_bearer(&format!("Bearer {token}")),
            Some(token.as_str())
        );
        assert_eq!(from_bearer(&format!("bearer {token}")), None);
        assert_eq!(from_bearer("Bearer ms5_short"), None);
        assert_eq!(from_bearer(&format!("Basic {token}")), None);
    }
}
