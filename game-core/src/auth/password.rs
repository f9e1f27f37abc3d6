//! Argon2id password hashes, in the PHC string format (`$argon2id$v=19$...`),
//! so the parameters travel with each hash and can be raised later.
//!
//! Hashing is deliberately slow (tens of milliseconds at the OWASP
//! parameters): the login service runs it on a blocking thread, never on the
//! game loop.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Argon2's working memory: one per hashing thread, kept and reused. Each
/// hash at the OWASP cost needs 19 MiB; allocated afresh per hash, the
/// allocator kept them on whichever thread ran it, and a login storm left
/// the server at 0.88 GB resident (`loadtest --storm 1000`).
pub type HashMemory = Vec<argon2::Block>;
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
/// the login service, from a seeded stream in the simulator), in `memory`.
pub fn hash_password(
    password: &str,
    salt: &[u8; 16],
    params: PasswordParams,
    memory: &mut HashMemory,
) -> Result<String, String> {
    let params = Params::new(params.memory_kib, params.iterations, 1, None)
        .map_err(|e| format!("argon2 parameters: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    run(password, salt, &params, &mut out, memory)?;
    let salt = SaltString::encode_b64(salt).map_err(|e| format!("salt: {e}"))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| format!("argon2: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| format!("argon2: {e}"))?),
    };
    Ok(hash.to_string())
}

/// True when `password` matches `hash` (with the parameters the hash names),
/// computed in `memory`. A hash that does not parse, or is not Argon2id,
/// matches nothing.
pub fn verify_password(password: &str, hash: &str, memory: &mut HashMemory) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let (Ok(params), Some(salt), Some(expected)) =
        (Params::try_from(&parsed), parsed.salt, parsed.hash)
    else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if run(password, salt, &params, &mut out, memory).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|out| out == expected)
}

fn run(
    password: &str,
    salt: &[u8],
    params: &Params,
    out: &mut [u8],
    memory: &mut HashMemory,
) -> Result<(), String> {
    memory.resize(params.block_count(), argon2::Block::default());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..])
        .map_err(|e| format!("argon2: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let mut memory = HashMemory::new();
        let m = &mut memory;
        let hash = hash_password("correct horse", &[7; 16], PasswordParams::TEST_ONLY, m).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert!(verify_password("correct horse", &hash, m));
        assert!(!verify_password("correct horsf", &hash, m));
        assert!(!verify_password("correct horse", "not a hash", m));
        // The same salt and password give the same hash: the simulator replays.
        assert_eq!(
            hash,
            hash_password("correct horse", &[7; 16], PasswordParams::TEST_ONLY, m).unwrap()
        );
        // The same string the argon2 crate's own PHC hashing makes, and its
        // verifier accepts ours: the format is the standard one.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::encode_b64(&[7; 16]).unwrap();
        let params = Params::new(8, 1, 1, None).unwrap();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let theirs = argon.hash_password(b"correct horse", &salt).unwrap();
        assert_eq!(hash, theirs.to_string());
        let ours = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &ours)
            .is_ok());
        // At the OWASP cost the memory is 19 MiB, and stays for the next hash.
        let strong = hash_password("correct horse", &[1; 16], PasswordParams::OWASP, m).unwrap();
        assert_eq!(memory.len(), 19 * 1024);
        assert!(verify_password("correct horse", &strong, &mut memory));
    }
}
