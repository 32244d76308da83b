//! Password hashing and the password policy.
//!
//! Argon2id, selected explicitly, with OWASP's recommended minimum (19 MiB of memory, two
//! passes, one lane) and a fresh random salt per password. Hashes are PHC strings, so
//! they carry their parameters: `needs_rehash` tells when a stored hash was made with
//! weaker ones, for an upgrade at the next successful login.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost in KiB (OWASP: at least 19 MiB with two passes).
pub const MEMORY_KIB: u32 = 19_456;
/// Passes over memory.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;
/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted (hashing cost must stay bounded).
pub const MAX_LENGTH: usize = 1024;

/// Why a password was refused or could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The password does not meet the policy; the message says how.
    #[error("password refused: {0}")]
    Weak(String),
    /// Hashing failed (should not happen with valid parameters).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("the constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with a fresh salt into a PHC string.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut password_hash::rand_core::OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Whether `password` matches the stored PHC string. A malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Whether a stored hash was made with other parameters than today's.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || params.m_cost() != MEMORY_KIB
        || params.t_cost() != ITERATIONS
        || params.p_cost() != PARALLELISM
}

/// Words that make up most leaked passwords; a password that is one of them padded with
/// digits and symbols (`Password2024!`) is refused.
const COMMON_WORDS: &[&str] = &[
    "password",
    "passw0rd",
    "qwerty",
    "qwertyuiop",
    "asdfgh",
    "letmein",
    "welcome",
    "admin",
    "administrator",
    "iloveyou",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "trustno",
    "master",
    "superman",
    "batman",
    "shadow",
    "michael",
    "login",
    "starwars",
    "secret",
    "changeme",
    "default",
    "timescale",
    "timescaledb",
    "postgres",
    "console",
    "manager",
    "operator",
    "viewer",
    "abc",
    "abcdef",
];

/// Applies the password policy: length, not a common password, not the username.
pub fn check_policy(username: &str, password: &str) -> Result<(), PasswordError> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(PasswordError::Weak(format!(
            "it has {length} characters; at least {MIN_LENGTH} are required"
        )));
    }
    if length > MAX_LENGTH {
        return Err(PasswordError::Weak(format!(
            "it has {length} characters; at most {MAX_LENGTH} are accepted"
        )));
    }
    let lower = password.to_lowercase();
    let letters: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() || COMMON_WORDS.contains(&letters.as_str()) {
        return Err(PasswordError::Weak(
            "it is a common password with digits or symbols around it".into(),
        ));
    }
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(PasswordError::Weak("it contains the username".into()));
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 5 {
        return Err(PasswordError::Weak(
            "it uses fewer than 5 different characters".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let stored = hash("correct horse battery staple").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("correct horse battery staple", &stored));
        assert!(!verify("correct horse battery stapler", &stored));
        assert!(!verify("anything", "not a hash"));
        assert!(!needs_rehash(&stored));
    }

    #[test]
    fn salts_differ_per_password() {
        assert_ne!(
            hash("same password here").unwrap(),
            hash("same password here").unwrap()
        );
    }

    #[test]
    fn weaker_hashes_are_flagged_for_upgrade() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8_192, 1, 1, None).unwrap(),
        )
        .hash_password(
            b"some long password",
            &SaltString::generate(&mut password_hash::rand_core::OsRng),
        )
        .unwrap()
        .to_string();
        assert!(
            verify("some long password", &weak),
            "old hashes still verify"
        );
        assert!(needs_rehash(&weak));
    }

    #[test]
    fn the_policy_refuses_short_common_and_personal_passwords() {
        assert!(check_policy("ada", "short").is_err());
        assert!(check_policy("ada", "Password2024!").is_err());
        assert!(check_policy("ada", "123456789012").is_err());
        assert!(check_policy("ada", "aaaaaaaaaaaaaa").is_err());
        assert!(check_policy("ada", "my-ada-password-x").is_err());
        assert!(check_policy("ada", "violet kettle under rain").is_ok());
    }
}
