//! `[login]`: the login service's settings (the server config embeds this).

use game_core::auth::{LimiterConfig, PasswordParams};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file names of the key pair inside the data directory, when the config
/// does not name them.
pub const SIGNING_KEY_FILE: &str = "login_ed25519.key";
pub const VERIFYING_KEY_FILE: &str = "login_ed25519.pub";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    /// Serve the HTTP API from this process (it then holds the signing key).
    /// A game server behind a login service elsewhere sets this false and
    /// loads only the verifying key (`verifying_key_path`).
    pub serve: bool,
    /// Where the HTTP API listens.
    pub listen: SocketAddr,
    /// How long an issued token logs in, in seconds.
    pub token_ttl_s: u64,
    /// The oldest client build allowed to register or log in (426 below it;
    /// a request without `client_version` counts as build 0). 0 allows any.
    pub min_client_version: u32,
    /// The Argon2id cost of new hashes (old hashes keep the cost they name).
    pub password_params: PasswordParams,
    /// Attempts (registrations and logins) per client address; IPv6
    /// addresses are counted by their /64 network.
    pub per_address: LimiterConfig,
    /// Login attempts per account name (known or not), from any address.
    pub per_account: LimiterConfig,
    /// Argon2 jobs running at once, each on a blocking thread; 0 means one
    /// per available core.
    pub max_hash_concurrency: usize,
    /// Requests waiting for a hashing slot; one more is answered 503 `busy`.
    pub max_hash_queue: usize,
    /// Open connections at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// A request's headers must arrive within this.
    pub header_timeout_ms: u64,
    /// A request (its body, its hash, its answer) gets this long; a body still
    /// arriving then is cut with 408.
    pub request_timeout_ms: u64,
    /// A connection is closed this long after it opened, whatever it does.
    pub connection_timeout_ms: u64,
    /// The largest request body, in bytes (413 past it).
    pub max_body_bytes: usize,
    /// The signing key's file (a seed, 64 hex digits); default
    /// `<data_dir>/login_ed25519.key`.
    pub signing_key_path: Option<PathBuf>,
    /// The verifying key's file (64 hex digits), what game servers load;
    /// default `<data_dir>/login_ed25519.pub`.
    pub verifying_key_path: Option<PathBuf>,
    /// Whether the game server still accepts development logins (read by the
    /// game server, not by this service).
    pub dev_login: bool,
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            serve: true,
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 7780)),
            token_ttl_s: 300,
            min_client_version: 0,
            password_params: PasswordParams::OWASP,
            // Tables of 16,384 keys: when one is full, each new key scans it
            // (0.2 ms in a release build; 1.4 ms at 100,000), so bigger is not free.
            per_address: LimiterConfig {
                burst: 20,
                per_minute: 30,
                max_keys: 16_384,
            },
            per_account: LimiterConfig {
                burst: 5,
                per_minute: 6,
                max_keys: 16_384,
            },
            max_hash_concurrency: 0,
            max_hash_queue: 64,
            max_connections: 1024,
            header_timeout_ms: 5_000,
            request_timeout_ms: 10_000,
            connection_timeout_ms: 30_000,
            max_body_bytes: 4 * 1024,
            signing_key_path: None,
            verifying_key_path: None,
            dev_login: true,
        }
    }
}

/// A setting the service cannot run with (the operator's mistake).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginConfigError(pub String);

impl fmt::Display for LoginConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[login] {}", self.0)
    }
}

impl std::error::Error for LoginConfigError {}

impl LoginConfig {
    pub fn validate(&self) -> Result<(), LoginConfigError> {
        let fail = |text: String| Err(LoginConfigError(text));
        for (name, limiter) in [
            ("per_address", &self.per_address),
            ("per_account", &self.per_account),
        ] {
            if limiter.burst == 0 || limiter.per_minute == 0 || limiter.max_keys == 0 {
                return fail(format!(
                    "{name}: burst, per_minute and max_keys must be at least 1"
                ));
            }
        }
        if !(1..=86_400).contains(&self.token_ttl_s) {
            return fail("token_ttl_s must be 1 to 86400".into());
        }
        if self.max_connections == 0 {
            return fail("max_connections must be at least 1".into());
        }
        if self.header_timeout_ms == 0
            || self.request_timeout_ms == 0
            || self.connection_timeout_ms == 0
        {
            return fail("timeouts must be at least 1 ms".into());
        }
        if !(256..=1024 * 1024).contains(&self.max_body_bytes) {
            return fail("max_body_bytes must be 256 to 1048576".into());
        }
        if self.password_params.memory_kib < 8 || self.password_params.iterations == 0 {
            return fail("password_params: memory_kib >= 8 and iterations >= 1".into());
        }
        Ok(())
    }

    /// `max_hash_concurrency`, with 0 resolved to the available cores.
    pub fn hash_concurrency(&self) -> usize {
        match self.max_hash_concurrency {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// The signing and verifying key files: the configured ones, or the
    /// defaults in `data_dir`.
    pub fn key_paths(&self, data_dir: &Path) -> (PathBuf, PathBuf) {
        (
            self.signing_key_path
                .clone()
                .unwrap_or_else(|| data_dir.join(SIGNING_KEY_FILE)),
            self.verifying_key_path
                .clone()
                .unwrap_or_else(|| data_dir.join(VERIFYING_KEY_FILE)),
        )
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn connection_timeout(&self) -> Duration {
        Duration::from_millis(self.connection_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_a_partial_table_fills_in() {
        LoginConfig::default().validate().unwrap();
        let config: LoginConfig = toml::from_str(
            "listen = \"0.0.0.0:7781\"\nmin_client_version = 12\n\
             password_params = { memory_kib = 8, iterations = 1 }\n",
        )
        .unwrap();
        assert_eq!(config.listen.port(), 7781);
        assert_eq!(config.min_client_version, 12);
        assert_eq!(config.password_params, PasswordParams::TEST_ONLY);
        assert_eq!(config.token_ttl_s, 300);
        assert!(config.dev_login);
        assert!(toml::from_str::<LoginConfig>("listn = \"0.0.0.0:1\"").is_err());
        let (key, public) = config.key_paths(Path::new("/var/lib/mmo"));
        assert_eq!(key, Path::new("/var/lib/mmo/login_ed25519.key"));
        assert_eq!(public, Path::new("/var/lib/mmo/login_ed25519.pub"));
        assert!(config.hash_concurrency() >= 1);
        // The defaults print and read back (the server shows its config).
        let text = toml::to_string(&LoginConfig::default()).unwrap();
        assert_eq!(
            toml::from_str::<LoginConfig>(&text).unwrap(),
            LoginConfig::default()
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let mut config = LoginConfig::default();
        config.per_account.per_minute = 0;
        assert!(config.validate().is_err());
        let config = LoginConfig {
            max_body_bytes: 10,
            ..LoginConfig::default()
        };
        assert!(config.validate().is_err());
        let config = LoginConfig {
            token_ttl_s: 0,
            ..LoginConfig::default()
        };
        assert!(config.validate().is_err());
    }
}
