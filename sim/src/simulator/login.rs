//! The login service inside the simulator: the HTTP service's calls, in
//! plain Rust, on the store's committed state, with a fixed wall clock.
//!
//! Registering validates the name and password, hashes the password
//! (Argon2id at `PasswordParams::TEST_ONLY`, salts from a seeded stream) and
//! registers the account; logging in finds the account, verifies the
//! password and signs a token (key and token ids from the seed) that a
//! node given [`LoginService::verifying_key`] accepts once. Hostile bots get
//! the bad tokens here too: forged (another key), expired, or replayed (one
//! an honest bot already used on the node that is up).

use super::faults::LOGIN_STREAM;
use game_core::auth::{
    hash_password, validate_account_name, validate_password, verify_password, Claims, HashMemory,
    PasswordParams, SigningKey, VerifyingKey,
};
use game_core::persist::{MemoryStore, RegisterError};
use game_core::rng::{self, StreamKind};
use game_core::time::Instant;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::Serialize;
use std::fmt;

/// Unix milliseconds at the simulator's `Instant` zero: a fixed wall clock,
/// so token expiry replays (2026-12-06T00:00:00Z).
pub const UNIX_MS_AT_ZERO: u64 = 1_796_515_200_000;
/// How long a token is good for (the login service's default).
pub const TOKEN_TTL_S: u64 = 300;

/// Why the service gave no token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginError {
    /// The database is down (HTTP 503): try again later.
    Unavailable,
    /// Refused name or password, or wrong password (HTTP 400/401).
    Refused,
}

/// A bad token a hostile bot tries once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum BadToken {
    /// Signed with a key the node does not know.
    Forged,
    /// Signed right, expired an hour ago.
    Expired,
    /// A token an honest bot already logged in with.
    Replayed,
}

impl fmt::Display for BadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BadToken::Forged => "forged",
            BadToken::Expired => "expired",
            BadToken::Replayed => "replayed",
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LoginStats {
    pub registered: u64,
    pub tokens: u64,
    pub refused: u64,
    pub unavailable: u64,
}

pub struct LoginService {
    key: SigningKey,
    forger: SigningKey,
    rng: ChaCha8Rng,
    /// The last token an honest bot logged in with on the node that is up.
    used: Option<String>,
    /// Argon2's working memory, reused by every hash.
    memory: HashMemory,
    stats: LoginStats,
}

impl fmt::Debug for LoginService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginService")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// A bot's password: long enough, not containing its name, from the seed.
pub fn password_of(seed: u64, bot: u32) -> String {
    format!("pw-{seed:016x}-{bot:06}")
}

impl LoginService {
    pub fn new(seed: u64) -> Self {
        let mut rng = rng::stream(seed, StreamKind::Faults, LOGIN_STREAM);
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        let mut forged = [0u8; 32];
        rng.fill_bytes(&mut forged);
        LoginService {
            key: SigningKey::from_seed(&key),
            forger: SigningKey::from_seed(&forged),
            rng,
            used: None,
            memory: HashMemory::new(),
            stats: LoginStats::default(),
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn stats(&self) -> &LoginStats {
        &self.stats
    }

    /// `POST /v1/accounts`. A name already taken counts as done (a bot that
    /// registered before).
    pub fn register(
        &mut self,
        store: Option<&mut MemoryStore>,
        name: &str,
        password: &str,
    ) -> Result<(), LoginError> {
        if validate_account_name(name).is_err() || validate_password(name, password).is_err() {
            self.stats.refused += 1;
            return Err(LoginError::Refused);
        }
        let Some(store) = store else {
            self.stats.unavailable += 1;
            return Err(LoginError::Unavailable);
        };
        let mut salt = [0u8; 16];
        self.rng.fill_bytes(&mut salt);
        let hash = hash_password(password, &salt, PasswordParams::TEST_ONLY, &mut self.memory)
            .expect("test parameters hash");
        match store.register(name, &hash) {
            Ok(_) => self.stats.registered += 1,
            Err(RegisterError::NameTaken) => {}
        }
        Ok(())
    }

    /// `POST /v1/login`: a token for the account, good for [`TOKEN_TTL_S`].
    pub fn login(
        &mut self,
        store: Option<&MemoryStore>,
        now: Instant,
        name: &str,
        password: &str,
    ) -> Result<String, LoginError> {
        if validate_account_name(name).is_err() {
            self.stats.refused += 1;
            return Err(LoginError::Refused);
        }
        let Some(store) = store else {
            self.stats.unavailable += 1;
            return Err(LoginError::Unavailable);
        };
        let Some(account) = store
            .find_account(name)
            .filter(|a| verify_password(password, &a.password_hash, &mut self.memory))
        else {
            self.stats.refused += 1;
            return Err(LoginError::Refused);
        };
        let claims = Claims {
            account: account.id,
            name: account.name,
            issued_at: unix_s(now),
            expires_at: unix_s(now) + TOKEN_TTL_S,
            token_id: self.token_id(),
        };
        self.stats.tokens += 1;
        Ok(self.key.issue(&claims))
    }

    fn token_id(&mut self) -> [u8; 16] {
        let mut id = [0u8; 16];
        self.rng.fill_bytes(&mut id);
        id
    }

    /// An honest bot logged in with `token` on the node that is up.
    pub fn token_used(&mut self, token: &str) {
        self.used = Some(token.to_owned());
    }

    /// The node restarted: its memory of used tokens is gone, so none may
    /// be replayed against it (see the report: a replay guard that forgets
    /// on restart would let it in).
    pub fn node_restarted(&mut self) {
        self.used = None;
    }

    /// A bad token of `kind` for account `name`; `None` for a replay when
    /// no honest bot has logged in yet on this node.
    pub fn bad_token(&mut self, kind: BadToken, now: Instant, name: &str) -> Option<String> {
        let claims = |id, expires_at| Claims {
            account: game_core::ids::AccountId(u64::MAX),
            name: name.to_owned(),
            issued_at: unix_s(now),
            expires_at,
            token_id: id,
        };
        match kind {
            BadToken::Forged => {
                let id = self.token_id();
                Some(self.forger.issue(&claims(id, unix_s(now) + TOKEN_TTL_S)))
            }
            BadToken::Expired => {
                let id = self.token_id();
                Some(
                    self.key
                        .issue(&claims(id, unix_s(now).saturating_sub(3600))),
                )
            }
            BadToken::Replayed => self.used.clone(),
        }
    }
}

/// The fixed wall clock at `now`, in unix seconds.
fn unix_s(now: Instant) -> u64 {
    (UNIX_MS_AT_ZERO + now.as_micros() / 1000) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_core::protocol::TokenRefusal;

    #[test]
    fn a_registered_bot_gets_a_token_the_key_verifies() {
        let mut store = MemoryStore::default();
        let mut login = LoginService::new(7);
        let pw = password_of(7, 3);
        login.register(Some(&mut store), "bot3", &pw).unwrap();
        login.register(Some(&mut store), "bot3", &pw).unwrap();
        assert_eq!(login.stats().registered, 1);
        let token = login
            .login(Some(&store), Instant::ZERO, "bot3", &pw)
            .unwrap();
        let claims = login
            .verifying_key()
            .verify(&token, unix_s(Instant::ZERO))
            .unwrap();
        assert_eq!(claims.name, "bot3");
        assert_eq!(
            login.login(Some(&store), Instant::ZERO, "bot3", "wrong-password"),
            Err(LoginError::Refused)
        );
        assert_eq!(
            login.login(None, Instant::ZERO, "bot3", &pw),
            Err(LoginError::Unavailable)
        );
        // The same seed issues the same token: runs replay.
        let mut again = LoginService::new(7);
        let mut store2 = MemoryStore::default();
        again.register(Some(&mut store2), "bot3", &pw).unwrap();
        again.register(Some(&mut store2), "bot3", &pw).unwrap();
        assert_eq!(
            again.login(Some(&store2), Instant::ZERO, "bot3", &pw),
            Ok(token)
        );
    }

    #[test]
    fn bad_tokens_are_refused_for_their_reason() {
        let mut login = LoginService::new(7);
        let key = login.verifying_key();
        let now = unix_s(Instant::ZERO);
        let forged = login
            .bad_token(BadToken::Forged, Instant::ZERO, "bot1")
            .unwrap();
        assert_eq!(key.verify(&forged, now), Err(TokenRefusal::BadSignature));
        let expired = login
            .bad_token(BadToken::Expired, Instant::ZERO, "bot1")
            .unwrap();
        assert_eq!(key.verify(&expired, now), Err(TokenRefusal::Expired));
        assert_eq!(
            login.bad_token(BadToken::Replayed, Instant::ZERO, "x"),
            None
        );
        login.token_used("t");
        assert_eq!(
            login.bad_token(BadToken::Replayed, Instant::ZERO, "x"),
            Some("t".into())
        );
        login.node_restarted();
        assert_eq!(
            login.bad_token(BadToken::Replayed, Instant::ZERO, "x"),
            None
        );
    }
}
