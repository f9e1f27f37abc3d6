//! Argon2id password hashes, in the PHC string format (`$argon2id$v=19$...`),
//! so the parameters travel with each hash and can be raised later.
//!
//! Hashing is deliberately slow (tens of milliseconds at the OWASP
//! parameters): the login service runs it on a blocking thread, never on the
//! game loop.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

/// The cost of a new hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl PasswordParams {
    /// OWASP's first Argon2id configuration: 19 MiB, 2 iterations, 1 lane.
    pub const OWASP: PasswordParams = PasswordParams {
        memory_kib: 19 * 1024,
        iterations: 2,
    };

    /// The smallest cost Argon2 allows, for the simulator's thousands of bots
    /// and for tests; never for a real server.
    pub const TEST_ONLY: PasswordParams = PasswordParams {
        memory_kib: 8,
        iterations: 1,
    };
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams::OWASP
    }
}

/// Hashes `password` with the caller's random `salt` (16 bytes from the OS in
/// the login service, from a seeded stream in the simulator).
pub fn hash_password(
    password: &str,
    salt: &[u8; 16],
    params: PasswordParams,
) -> Result<String, String> {
    let params = Params::new(params.memory_kib, params.iterations, 1, None)
        .map_err(|e| format!("argon2 parameters: {e}"))?;
    let salt = SaltString::encode_b64(salt).map_err(|e| format!("salt: {e}"))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("argon2: {e}"))
}

/// True when `password` matches `hash` (with the parameters the hash names).
/// A hash that does not parse matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse", &[7; 16], PasswordParams::TEST_ONLY).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsf", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        // The same salt and password give the same hash: the simulator replays.
        assert_eq!(
            hash,
            hash_password("correct horse", &[7; 16], PasswordParams::TEST_ONLY).unwrap()
        );
    }
}
