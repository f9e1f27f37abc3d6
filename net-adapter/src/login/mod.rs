//! The login service: accounts and login tokens over HTTP/1 (axum).
//!
//! ```text
//! POST /v1/accounts  {"name","password","client_version"?}
//!   201 {"account": 7, "name": "Ada"}
//!   400 {"error": <why the name or password is refused>}   409 {"error": "name taken"}
//! POST /v1/sessions  {"name","password","client_version"?}
//!   200 {"token": "v4.public...", "expires_at": "2026-12-06T05:28:48Z", "account": 7}
//!   401 {"error": "bad credentials"}  (unknown name and wrong password alike)
//! either:
//!   426 {"error": "client too old", "min_client_version": N}
//!   429 {"error": "too many attempts"} with Retry-After (seconds)
//!   503 {"error": "busy"} (hashing slots and queue full) or {"error": "store unavailable"}
//!   408, 413, 415, 404, 405, 400/422 for a bad body: always {"error": ...}
//! GET /v1/leaderboards/{raid}/{level_group}?board=players|groups&top=N&character=ID
//!   200 {"raid", "level_group", "board", "top": [{"rank", "entrant" (a string),
//!        "names", "cleared", "time_ms", "deaths", "damage"}], "own": {...} | null}
//!   400 {"error": ...} (a bad raid name or level group, an unknown board,
//!   top over 100)   503 {"error": "store unavailable"}
//! ```
//!
//! The token is a PASETO v4.public signed with the service's key
//! ([`keys`]); a game server checks it with the verifying key alone and
//! accepts each token once (`game_core::auth`).
//!
//! Bounds: connections ([`LoginConfig::max_connections`]), the time to send
//! headers, a request and a whole connection, the body size, the Argon2 jobs
//! running and waiting (`hashing.rs`), and the limiter tables. Argon2 never runs on
//! an async thread. An unknown name is checked against a dummy hash of the
//! same cost, so the answer's timing does not tell which names exist.
//! Leaderboards are read from the same store (`leaderboards.rs`), with
//! their own bounds and no login.

pub mod config;
mod hashing;
mod http;
pub mod keys;
mod leaderboards;
pub mod metrics;
mod serve;
pub mod store;

pub use config::LoginConfig;
pub use hashing::Busy;
pub use http::router;
pub use keys::{load_or_create_keys, load_verifying_key, KeyError};
pub use metrics::{LoginMetrics, LoginMetricsSnapshot};
pub use serve::{serve, PeerAddr};
pub use store::{AccountStore, RegisterError, Standings, Unavailable};

use game_core::auth::{hash_password, AttemptLimiter, SigningKey, VerifyingKey};
use hashing::HashPool;
use std::fmt;
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// Everything a request needs; cheap to clone.
#[derive(Clone)]
pub struct LoginState {
    inner: Arc<Inner>,
}

struct Inner {
    config: LoginConfig,
    store: Arc<dyn AccountStore>,
    signing: SigningKey,
    hashes: HashPool,
    per_address: Mutex<AttemptLimiter>,
    per_account: Mutex<AttemptLimiter>,
    metrics: Arc<LoginMetrics>,
    /// Checked when the name is unknown, so that costs what a real check does.
    dummy_hash: String,
    /// The limiters' clock: milliseconds since this.
    started: Instant,
}

impl fmt::Debug for LoginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginState")
            .field("listen", &self.inner.config.listen)
            .field("key", &self.inner.signing.verifying_key())
            .finish_non_exhaustive()
    }
}

impl LoginState {
    /// Checks `config` and makes the dummy hash (one Argon2 run at the
    /// configured cost, so also a check of the parameters).
    pub fn new(
        config: LoginConfig,
        store: Arc<dyn AccountStore>,
        signing: SigningKey,
    ) -> Result<LoginState, config::LoginConfigError> {
        config.validate()?;
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)
            .map_err(|e| config::LoginConfigError(format!("no randomness: {e}")))?;
        let mut secret = [0u8; 16];
        getrandom::fill(&mut secret)
            .map_err(|e| config::LoginConfigError(format!("no randomness: {e}")))?;
        let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let dummy_hash = hash_password(&secret, &salt, config.password_params, &mut Vec::new())
            .map_err(|e| config::LoginConfigError(format!("password_params: {e}")))?;
        let metrics = Arc::new(LoginMetrics::default());
        Ok(LoginState {
            inner: Arc::new(Inner {
                hashes: HashPool::new(
                    config.hash_concurrency(),
                    config.max_hash_queue,
                    metrics.clone(),
                ),
                per_address: Mutex::new(AttemptLimiter::new(config.per_address)),
                per_account: Mutex::new(AttemptLimiter::new(config.per_account)),
                config,
                store,
                signing,
                metrics,
                dummy_hash,
                started: Instant::now(),
            }),
        })
    }

    pub fn config(&self) -> &LoginConfig {
        &self.inner.config
    }

    pub fn metrics(&self) -> Arc<LoginMetrics> {
        self.inner.metrics.clone()
    }

    /// What game servers check tokens with.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.inner.signing.verifying_key()
    }
}
