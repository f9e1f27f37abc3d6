//! The server's configuration: embedded defaults, a TOML file, command-line flags.
//!
//! Precedence: flags over the file over the defaults. Unknown keys are an error, so
//! a typo in the file is caught at start instead of silently ignored.

use crate::login::LoginConfig;
use game_core::content::Content;
use game_core::node::NodeConfig;
use game_core::zone::{Map, SAMPLE_MAPS};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Where the game port listens.
    pub listen: SocketAddr,
    /// On shutdown, how long to wait for the goodbye messages to be written.
    pub shutdown_grace_ms: u64,
    /// After closing a connection, how long its last bytes may take to write
    /// before the socket is dropped regardless (a client that stopped reading).
    pub close_linger_ms: u64,
    /// Seconds between status log lines (0 turns them off).
    pub status_interval_s: u64,
    /// Inbound events (reads, writes done) waiting for the core; past this,
    /// connection tasks wait, and TCP flow control pushes back on the clients.
    pub event_queue: usize,
    /// Map files to run; empty runs the sample maps compiled into the server.
    pub maps: Vec<PathBuf>,
    /// A directory of content files: `skills.toml`, `monsters.toml`,
    /// `levels.toml`, `rules.toml`, `items.toml`, `shop.toml`,
    /// `enhance.toml`, `pass.toml`, `raids.toml` and a `<map>.spawns.toml` per map with monsters (every `*.toml` file in it is read; other files are
    /// ignored). Empty: the sample content compiled into the server. Checked
    /// against the maps run; a mistake is refused with its file and line.
    pub content_dir: PathBuf,
    pub admin: AdminConfig,
    /// Open sockets at once, lingering closes included. One more is sent
    /// `Disconnect{ServerFull}` and closed before any session exists. The
    /// open-file limit may lower it (the server logs the cap it uses).
    pub max_connections: u32,
    /// Open sockets from one IP address at once, plus the characters it left
    /// waiting for a resume. One more socket is sent
    /// `Disconnect{TooManyConnections}` and closed; while kept characters
    /// alone fill the cap, a socket may still resume one, and a new login on
    /// it is told `TooManyConnections`.
    pub max_connections_per_address: u32,
    /// Addresses the per-address cap does not apply to (a local load tester,
    /// a proxy in front of the server). The global cap still does.
    pub per_address_exempt: Vec<IpAddr>,
    /// Added to the nice value of the I/O threads (socket reads and writes),
    /// so the game loop's thread wins the CPU when both want it and a tick
    /// starts on time; 0 leaves them equal. Lowering a thread's priority
    /// needs no privilege.
    pub io_threads_nice: i32,
    /// Where the server keeps its data: the SQLite database (unless
    /// `[store] url` names another store) and the login service's keys.
    /// Created if missing.
    pub data_dir: PathBuf,
    pub store: StoreConfig,
    pub login: LoginConfig,
    pub node: NodeConfig,
}

/// `[store]`: where accounts and characters are kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Empty (the default): SQLite in `<data_dir>/mmo.sqlite3`. Otherwise
    /// `sqlite://path`, `postgres://user@host/db`, `mysql://user@host/db`
    /// (MariaDB or MySQL), or `memory` (nothing kept past the process).
    pub url: String,
    /// The most intents one transaction commits (group commit). The queue
    /// in front of the store holds `node.max_pending_intents`, the node's
    /// own bound.
    pub max_batch: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: String::new(),
            max_batch: 512,
        }
    }
}

impl ServerConfig {
    /// The store's URL: `[store] url`, or SQLite in the data directory.
    pub fn store_url(&self) -> String {
        if self.store.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("mmo.sqlite3").display())
        } else {
            self.store.url.clone()
        }
    }

    /// The node's configuration, with what other sections decide for it
    /// (`[login] dev_login`).
    pub fn node_config(&self) -> NodeConfig {
        NodeConfig {
            dev_login: self.login.dev_login,
            ..self.node.clone()
        }
    }
}

/// `[admin]`: the HTTP port for `/metrics` and `/healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    pub enabled: bool,
    /// Loopback by default: metrics are for the operator, not the players.
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9100)),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7777)),
            shutdown_grace_ms: 2_000,
            close_linger_ms: 2_000,
            status_interval_s: 10,
            event_queue: 8_192,
            maps: Vec::new(),
            content_dir: PathBuf::new(),
            admin: AdminConfig::default(),
            max_connections: 16_000,
            max_connections_per_address: 64,
            per_address_exempt: vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            io_threads_nice: 5,
            data_dir: PathBuf::from("data"),
            store: StoreConfig::default(),
            login: LoginConfig::default(),
            node: NodeConfig::default(),
        }
    }
}

/// The operator's mistake: the server refuses to start and says why.
#[derive(Debug)]
pub enum ConfigError {
    Read {
        path: String,
        error: std::io::Error,
    },
    Parse {
        path: String,
        error: String,
    },
    Invalid(String),
    Map {
        path: String,
        error: String,
    },
    /// A content file's mistake: `error` names the file and line.
    Content {
        error: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, error } => write!(f, "cannot read config {path}: {error}"),
            ConfigError::Parse { path, error } => write!(f, "invalid config {path}: {error}"),
            ConfigError::Invalid(why) => write!(f, "invalid configuration: {why}"),
            ConfigError::Map { path, error } => write!(f, "invalid map {path}: {error}"),
            ConfigError::Content { error } => write!(f, "invalid content {error}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ServerConfig {
    pub fn from_toml(text: &str, path: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            error: e.to_string(),
        })
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: shown.clone(),
            error,
        })?;
        Self::from_toml(&text, &shown)
    }

    /// Reads and parses the configured map files (none: the sample maps).
    pub fn load_maps(&self) -> Result<Vec<Map>, ConfigError> {
        self.maps
            .iter()
            .map(|path| {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                    path: shown.clone(),
                    error,
                })?;
                Map::parse(&text).map_err(|e| ConfigError::Map {
                    path: shown,
                    error: e.to_string(),
                })
            })
            .collect()
    }

    /// The content for `maps` (as [`ServerConfig::load_maps`] gives them;
    /// empty: the sample maps): the files of `content_dir`, or the sample
    /// content when it is empty. A mistake names its file (the path in
    /// `content_dir`) and line.
    pub fn load_content(&self, maps: &[Map]) -> Result<Content, ConfigError> {
        if self.content_dir.as_os_str().is_empty() {
            return Ok(Content::sample());
        }
        let dir = &self.content_dir;
        let unreadable = |error| ConfigError::Read {
            path: dir.display().to_string(),
            error,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut files = Vec::with_capacity(paths.len());
        for path in &paths {
            let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                path: path.display().to_string(),
                error,
            })?;
            files.push((path.display().to_string(), text));
        }
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        let sample;
        let maps = if maps.is_empty() {
            sample = SAMPLE_MAPS
                .iter()
                .map(|text| Map::parse(text))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ConfigError::Invalid(format!("a sample map is invalid: {e}")))?;
            &sample[..]
        } else {
            maps
        };
        Content::load_for_maps(&files, maps).map_err(|e| ConfigError::Content {
            error: e.to_string(),
        })
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(0..=19).contains(&self.io_threads_nice) {
            return Err(ConfigError::Invalid(
                "io_threads_nice must be between 0 and 19".into(),
            ));
        }
        if self.event_queue == 0 {
            return Err(ConfigError::Invalid("event_queue must be positive".into()));
        }
        if self.admin.enabled && self.admin.listen == self.listen {
            return Err(ConfigError::Invalid(
                "admin.listen must differ from the game port".into(),
            ));
        }
        if self.max_connections == 0 || self.max_connections_per_address == 0 {
            return Err(ConfigError::Invalid(
                "max_connections and max_connections_per_address must be positive".into(),
            ));
        }
        if self.store.max_batch == 0 {
            return Err(ConfigError::Invalid(
                "store.max_batch must be positive".into(),
            ));
        }
        if self.login.listen == self.listen
            || (self.admin.enabled && self.login.listen == self.admin.listen)
        {
            return Err(ConfigError::Invalid(
                "login.listen must differ from the game and admin ports".into(),
            ));
        }
        self.login
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.node_config().validate().map_err(ConfigError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_file_keeps_the_other_defaults() {
        let c = ServerConfig::from_toml(
            "listen = \"0.0.0.0:9000\"\n[node]\ntick_hz = 30\n[node.session]\nidle_timeout_ms = 20000\n",
            "test.toml",
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.node.tick_hz, 30);
        assert_eq!(c.node.session.idle_timeout_ms, 20_000);
        assert_eq!(c.node.session.heartbeat_interval_ms, 2_000);
        c.validate().unwrap();
    }

    #[test]
    fn typos_are_refused_with_the_key_named() {
        let err = ServerConfig::from_toml("[node]\ntick_hertz = 30\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("tick_hertz"), "{err}");
    }

    #[test]
    fn inconsistent_values_are_refused() {
        let mut c = ServerConfig::default();
        c.node.tick_hz = 0;
        assert!(c.validate().is_err());
    }
}

#[cfg(test)]
mod content {
    use super::*;
    use game_core::content::SAMPLE_CONTENT;

    /// A directory holding the sample content files, with `edit` applied to
    /// each (name, text).
    fn dir_with(edit: impl Fn(&str, &str) -> String) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in SAMPLE_CONTENT {
            std::fs::write(dir.path().join(name), edit(name, text)).unwrap();
        }
        dir
    }

    fn config(dir: &Path) -> ServerConfig {
        ServerConfig {
            content_dir: dir.to_owned(),
            ..ServerConfig::default()
        }
    }

    #[test]
    fn unset_is_the_sample_content() {
        let c = ServerConfig::default();
        assert_eq!(c.load_content(&[]).unwrap(), Content::sample());
    }

    #[test]
    fn a_directory_of_the_sample_files_loads_the_sample_content() {
        let dir = dir_with(|_, text| text.to_owned());
        std::fs::write(dir.path().join("README.md"), "not content").unwrap();
        let c = config(dir.path());
        let maps = c.load_maps().unwrap();
        assert_eq!(c.load_content(&maps).unwrap(), Content::sample());
    }

    #[test]
    fn a_mistake_is_refused_with_its_file_and_line() {
        let dir = dir_with(|name, text| {
            if name == "monsters.toml" {
                text.replacen("health = 50", "health = -50", 1)
            } else {
                text.to_owned()
            }
        });
        let line = SAMPLE_CONTENT
            .iter()
            .find(|(name, _)| *name == "monsters.toml")
            .unwrap()
            .1
            .lines()
            .position(|l| l == "health = 50")
            .unwrap()
            + 1;
        let err = config(dir.path()).load_content(&[]).unwrap_err();
        let path = dir.path().join("monsters.toml");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("invalid content {}:{line}: ", path.display())),
            "{shown}"
        );
        assert!(shown.contains("health"), "{shown}");
    }

    #[test]
    fn a_missing_file_or_directory_is_refused() {
        for name in ["rules.toml", "items.toml", "shop.toml", "enhance.toml"] {
            let dir = dir_with(|_, text| text.to_owned());
            std::fs::remove_file(dir.path().join(name)).unwrap();
            let err = config(dir.path()).load_content(&[]).unwrap_err();
            assert!(
                err.to_string().contains(&format!("{name} is missing")),
                "{err}"
            );
        }
        let dir = dir_with(|_, text| text.to_owned());
        let err = config(&dir.path().join("nowhere"))
            .load_content(&[])
            .unwrap_err();
        assert!(err.to_string().contains("nowhere"), "{err}");
    }

    #[test]
    fn spawns_of_a_map_not_run_are_refused() {
        let dir = dir_with(|_, text| text.to_owned());
        let meadow = Map::parse(SAMPLE_MAPS[0]).unwrap();
        let only = if meadow.name() == "meadow" {
            meadow
        } else {
            Map::parse(SAMPLE_MAPS[1]).unwrap()
        };
        let err = config(dir.path()).load_content(&[only]).unwrap_err();
        // The first spawns file of a map not run, in name order.
        assert!(err.to_string().contains("ember_lair.spawns.toml"), "{err}");
        assert!(err.to_string().contains("no map named"), "{err}");
    }
}

#[cfg(test)]
mod readme {
    use super::*;

    /// The README lists every key with its default; hold it to the code.
    #[test]
    fn the_readme_config_block_is_the_defaults() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("```toml\n")
            .expect("a toml block in the README")
            + 8;
        let end = start + readme[start..].find("```").expect("closed block");
        let parsed = ServerConfig::from_toml(&readme[start..end], "README.md").unwrap();
        assert_eq!(parsed, ServerConfig::default());
    }
}
