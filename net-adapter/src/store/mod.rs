//! The SQL stores: where the core's persistence intents are applied.
//!
//! # Interface
//!
//! [`Store`] is one type over three engines, chosen by the URL it is opened
//! from: `sqlite://path` (the file and its directory are created; WAL
//! journal, `synchronous=FULL` so a commit is on disk when it returns, a
//! 5 s busy timeout), `postgres://…` and `mysql://…` (MariaDB or MySQL). It
//! migrates its schema on open (`net-adapter/migrations/<engine>/`, embedded
//! in the binary). Its methods:
//!
//! - [`Store::apply_batch`] applies many [`Intent`]s in ONE transaction and
//!   answers one [`Outcome`] per intent, in order, exactly as
//!   [`MemoryStore::apply`](game_core::persist::MemoryStore::apply) would
//!   have applied them one after another (the tests hold every engine to
//!   that). An intent refused by the rules (`NameTaken`, `NoSuchCharacter`…)
//!   is answered and the others go on: every write is checked before it is
//!   made, so no statement fails for a rule. If the transaction itself
//!   fails (the server is gone, the commit fails), EVERY intent of the batch
//!   is answered `StoreError::Unavailable`: nothing is acknowledged before
//!   its commit, and each intent is idempotent by its id, so trying again is
//!   safe.
//! - [`Store::register`], [`Store::find_account`] and [`Store::leaderboard`],
//!   for the login service (also as its [`AccountStore`]).
//! - [`Store::durability`]: what the engine says makes a commit durable
//!   (worth a log line at start).
//!
//! The schema: `0001` accounts and characters, `0002` friendships (each
//! pair once, lower id first), blocks, guilds (unique by
//! `guild_name_key`), their members in join order and their last chat lines
//! as rows (`sql/social.rs` says why rows and not a blob); `0003`
//! inventories with a row per stack, and the ledger of every committed
//! economy transaction with a row per receipt line (`sql/economy.rs`);
//! `0004` each inventory's battle pass (experience, claimed levels, a row
//! per mission's progress) and its day's shop purchases, a row each;
//! `0005` each entrant's best raid run per raid kind, level group and board
//! (`sql/raids.rs`); `0006` the rewards won runs owe their members, by
//! (character, run), and whether a transaction gave them (`sql/rewards.rs`).
//!
//! A store holds a pool of at most 4 SQLite connections (3 files each) or 8
//! server connections. Ids come from the engine (SQLite `AUTOINCREMENT`,
//! identity, `AUTO_INCREMENT`): counting from 1 and never reused, so a late
//! save for a deleted character cannot land on a newer one.
//!
//! # Group commit and its bound
//!
//! [`StoreHandle`] puts a worker task in front of a store. Callers
//! [`StoreHandle::try_submit`] intents into a BOUNDED queue
//! ([`WorkerConfig::queue_capacity`]); when it is full the intent is handed
//! back as [`SubmitError::Full`] and the queue never grows. The worker takes
//! whatever is waiting, up to [`WorkerConfig::max_batch`], applies it with
//! one `apply_batch` (one commit, one fsync, for all of them), then sends
//! each outcome to the channel the caller gave at spawn. While one batch
//! commits the next one gathers, so the busier the server, the more intents
//! share a commit. [`StoreStats`] counts batches, intents, failures and
//! commit latency for the metrics; [`StoreHandle::queue_depth`] is the queue.
//!
//! # Values the SQL columns cannot hold
//!
//! PostgreSQL text cannot hold a NUL character, and name keys are limited to
//! [`MAX_KEY_BYTES`] (MariaDB's unique index). Names are validated long
//! before they reach a store, but a store must still be safe: an intent
//! holding such a string is answered `Unavailable` alone, without touching
//! the database, on every engine alike.

mod sql;
mod worker;

pub use sql::MAX_KEY_BYTES;
pub use worker::{StoreHandle, StoreStats, StoreStatsSnapshot, SubmitError, WorkerConfig};

use crate::login::store::{AccountStore, RegisterError, Standings, StoreFuture, Unavailable};
use game_core::auth::name_key;
use game_core::economy::{Inventory, Receipt};
use game_core::ids::{AccountId, CharacterId, GuildId};
use game_core::persist::{
    AccountRecord, Board, CharacterRecord, GuildRecord, Intent, Outcome, RaidReward, StoreError,
};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");
static MYSQL: Migrator = sqlx::migrate!("migrations/mysql");

/// The database engine behind a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    Sqlite,
    Postgres,
    MySql,
}

impl Engine {
    /// The engine a URL names by its scheme, if this store speaks it.
    pub fn of_url(url: &str) -> Option<Engine> {
        match url.split(':').next()? {
            "sqlite" => Some(Engine::Sqlite),
            "postgres" | "postgresql" => Some(Engine::Postgres),
            "mysql" => Some(Engine::MySql),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
            Engine::MySql => "mysql",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a store could not be opened: the operator's to fix (a bad URL, a
/// database that is down or refuses us). Never shows the URL, which may hold
/// a password.
#[derive(Debug)]
pub enum OpenError {
    /// The URL's scheme is none of `sqlite:`, `postgres:`, `mysql:`.
    UnknownEngine,
    /// The SQLite file's directory could not be created.
    Directory(PathBuf, std::io::Error),
    /// The database could not be reached or refused the connection.
    Connect(Engine, sqlx::Error),
    /// The schema could not be migrated.
    Migrate(Engine, sqlx::migrate::MigrateError),
    /// The runtime shut down while the store was opening.
    Cancelled,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::UnknownEngine => {
                f.write_str("store URL must start with sqlite:, postgres: or mysql:")
            }
            OpenError::Directory(dir, e) => {
                write!(
                    f,
                    "cannot create the store's directory {}: {e}",
                    dir.display()
                )
            }
            OpenError::Connect(engine, e) => write!(f, "cannot connect to the {engine} store: {e}"),
            OpenError::Migrate(engine, e) => {
                write!(f, "cannot migrate the {engine} store's schema: {e}")
            }
            OpenError::Cancelled => f.write_str("the runtime stopped while the store was opening"),
        }
    }
}

impl std::error::Error for OpenError {}

/// A SQL store: SQLite, PostgreSQL or MariaDB/MySQL. Cheap to clone (a pool).
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<sql::Inner>,
}

impl Store {
    /// Opens (and for SQLite creates) the database at `url` and migrates it.
    ///
    /// The connections are started on a runtime task, not on the caller's
    /// thread: SQLite's connection threads take the nice of the thread that
    /// starts them, and `mmo-server` awaits this on the game loop's thread,
    /// whose priority they must not have (see `crate::priority`).
    pub async fn open(url: &str) -> Result<Store, OpenError> {
        let url = url.to_owned();
        match tokio::spawn(async move { Store::open_here(&url).await }).await {
            Ok(opened) => opened,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only when the runtime shuts down meanwhile.
            Err(_) => Err(OpenError::Cancelled),
        }
    }

    async fn open_here(url: &str) -> Result<Store, OpenError> {
        sqlx::any::install_default_drivers();
        let engine = Engine::of_url(url).ok_or(OpenError::UnknownEngine)?;
        let (url, in_memory) = match engine {
            Engine::Sqlite => sqlite_url(url)?,
            _ => (url.to_owned(), false),
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|e| OpenError::Connect(engine, e))?;
        let mut pool = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            // The worker holds one connection; the login service and a second
            // worker (if any) the others.
            .max_connections(match engine {
                Engine::Sqlite if in_memory => 1,
                Engine::Sqlite => 4,
                _ => 8,
            });
        if in_memory {
            // Every connection to `:memory:` is a database of its own: keep the one.
            pool = pool.idle_timeout(None).max_lifetime(None);
        } else if engine == Engine::Sqlite {
            // All of them now, kept: each is a thread, which takes the nice of
            // the thread that starts it (see `Store::open`); a connection
            // made later on demand could be started by the game loop's.
            pool = pool
                .min_connections(4)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        if engine == Engine::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; \
                         PRAGMA synchronous = FULL; \
                         PRAGMA busy_timeout = 5000; \
                         PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool: AnyPool = pool
            .connect_with(options)
            .await
            .map_err(|e| OpenError::Connect(engine, e))?;
        let migrator = match engine {
            Engine::Sqlite => &SQLITE,
            Engine::Postgres => &POSTGRES,
            Engine::MySql => &MYSQL,
        };
        migrator
            .run(&pool)
            .await
            .map_err(|e| OpenError::Migrate(engine, e))?;
        Ok(Store {
            inner: Arc::new(sql::Inner::new(pool, engine)),
        })
    }

    pub fn engine(&self) -> Engine {
        self.inner.engine
    }

    /// Applies `intents` in one transaction, answering each in order as
    /// `MemoryStore::apply` would; if the transaction fails, every intent is
    /// answered `Unavailable`.
    pub async fn apply_batch(&self, intents: &[Intent]) -> Vec<Outcome> {
        self.apply_batch_reporting(intents).await.0
    }

    /// [`Store::apply_batch`], and whether the transaction failed.
    async fn apply_batch_reporting(&self, intents: &[Intent]) -> (Vec<Outcome>, bool) {
        if intents.is_empty() {
            return (Vec::new(), false);
        }
        match self.inner.apply_batch(intents).await {
            Ok(outcomes) => (outcomes, false),
            Err(e) => {
                tracing::warn!(
                    engine = %self.inner.engine,
                    intents = intents.len(),
                    error = %e,
                    "store batch failed; every intent of it answered Unavailable"
                );
                let outcomes = intents
                    .iter()
                    .map(|intent| Outcome {
                        id: intent.id,
                        result: Err(StoreError::Unavailable),
                    })
                    .collect();
                (outcomes, true)
            }
        }
    }

    /// Registers an account for the login service, unique by `name_key(name)`.
    pub async fn register(
        &self,
        name: &str,
        password_hash: &str,
    ) -> Result<AccountId, RegisterError> {
        if !sql::storable_key(&name_key(name)) || !sql::storable(password_hash) {
            return Err(RegisterError::Unavailable);
        }
        self.inner
            .register(name, password_hash)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(engine = %self.inner.engine, error = %e, "store register failed");
                Err(RegisterError::Unavailable)
            })
    }

    /// A registered account by name (any case), for the login service.
    /// `Ok(None)` when there is none (or it is a development account).
    pub async fn find_account(&self, name: &str) -> Result<Option<AccountRecord>, Unavailable> {
        if !sql::storable_key(&name_key(name)) {
            return Ok(None);
        }
        self.inner.find_account(name).await.map_err(|e| {
            tracing::warn!(engine = %self.inner.engine, error = %e, "store find_account failed");
            Unavailable
        })
    }

    /// A raid leaderboard, read outside any batch (the login service): what
    /// `Change::LoadLeaderboard` answers. A raid name no store can hold has
    /// no runs.
    pub async fn leaderboard(
        &self,
        raid: &str,
        level_group: u8,
        board: Board,
        top: u16,
        character: Option<CharacterId>,
    ) -> Result<Standings, Unavailable> {
        if !sql::raid_storable(raid) {
            return Ok((Vec::new(), None));
        }
        (self.inner)
            .leaderboard(raid, level_group, board, top, character)
            .await
            .map_err(|e| {
                tracing::warn!(engine = %self.inner.engine, error = %e, "store leaderboard failed");
                Unavailable
            })
    }

    /// Every stored character, by id (for tests, tools and invariants).
    pub async fn characters(&self) -> Result<Vec<CharacterRecord>, StoreError> {
        self.inner
            .characters()
            .await
            .map_err(|_| StoreError::Unavailable)
    }

    /// Every stored inventory, by character (for tests, tools and the
    /// crash sweep's checks).
    pub async fn inventories(&self) -> Result<Vec<(CharacterId, Inventory)>, StoreError> {
        self.inner
            .inventories()
            .await
            .map_err(|_| StoreError::Unavailable)
    }

    /// Every committed transaction's receipt, by its name (first part's
    /// character, sequence number), in order.
    pub async fn ledger(&self) -> Result<Vec<((CharacterId, u64), Receipt)>, StoreError> {
        self.inner
            .ledger()
            .await
            .map_err(|_| StoreError::Unavailable)
    }

    /// Every owed raid reward and whether it was given, by (character,
    /// run) (for tests and tools, as `MemoryStore::raid_rewards`).
    pub async fn raid_rewards(
        &self,
    ) -> Result<Vec<(CharacterId, u64, RaidReward, bool)>, StoreError> {
        (self.inner.raid_rewards().await).map_err(|_| StoreError::Unavailable)
    }

    /// A guild as stored: members with names in join order, lines oldest
    /// first (for tests, tools and invariants).
    pub async fn guild(&self, id: GuildId) -> Result<Option<GuildRecord>, StoreError> {
        self.inner
            .guild(id)
            .await
            .map_err(|_| StoreError::Unavailable)
    }

    /// What makes a commit durable on this engine, as the server reports it
    /// (for a log line at start and the benchmark): SQLite's journal mode
    /// and `synchronous` (2 = FULL), PostgreSQL's `fsync` and
    /// `synchronous_commit`, InnoDB's `innodb_flush_log_at_trx_commit`.
    pub async fn durability(&self) -> Result<String, StoreError> {
        self.inner.durability().await.map_err(|e| {
            tracing::warn!(engine = %self.inner.engine, error = %e, "store durability query failed");
            StoreError::Unavailable
        })
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }
}

/// The login service registers and finds accounts in the SQL store.
impl AccountStore for Store {
    fn register<'a>(
        &'a self,
        name: &'a str,
        password_hash: &'a str,
    ) -> StoreFuture<'a, Result<AccountId, RegisterError>> {
        Box::pin(Store::register(self, name, password_hash))
    }

    fn find_account<'a>(
        &'a self,
        name: &'a str,
    ) -> StoreFuture<'a, Result<Option<AccountRecord>, Unavailable>> {
        Box::pin(Store::find_account(self, name))
    }

    fn leaderboard<'a>(
        &'a self,
        raid: &'a str,
        level_group: u8,
        board: Board,
        top: u16,
        character: Option<CharacterId>,
    ) -> StoreFuture<'a, Result<Standings, Unavailable>> {
        Box::pin(Store::leaderboard(
            self,
            raid,
            level_group,
            board,
            top,
            character,
        ))
    }
}

/// The URL sqlx opens for `sqlite:…`: the file and its directory created.
/// Returns whether it is an in-memory database.
fn sqlite_url(url: &str) -> Result<(String, bool), OpenError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, query),
        None => (rest, ""),
    };
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return Ok((url.to_owned(), true));
    }
    let file = PathBuf::from(path);
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| OpenError::Directory(dir.to_owned(), e))?;
    }
    let query = if query.split('&').any(|kv| kv.starts_with("mode=")) {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok((format!("sqlite://{path}?{query}"), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_named_by_the_url_scheme() {
        assert_eq!(Engine::of_url("sqlite://a.db"), Some(Engine::Sqlite));
        assert_eq!(Engine::of_url("sqlite::memory:"), Some(Engine::Sqlite));
        assert_eq!(Engine::of_url("postgresql://h/db"), Some(Engine::Postgres));
        assert_eq!(Engine::of_url("mysql://root@h/db"), Some(Engine::MySql));
        assert_eq!(Engine::of_url("redis://h"), None);
        assert_eq!(Engine::of_url("a.db"), None);
    }

    #[tokio::test]
    async fn an_unknown_engine_is_the_operators_error_and_hides_the_url() {
        let e = Store::open("redis://user:secret@h").await.unwrap_err();
        assert!(matches!(e, OpenError::UnknownEngine));
        assert!(!e.to_string().contains("secret"));
    }

    #[tokio::test]
    async fn an_in_memory_sqlite_store_keeps_its_one_database() {
        use game_core::ids::IntentId;
        use game_core::persist::{AccountRef, Change, Reply};
        let store = Store::open("sqlite::memory:").await.unwrap();
        let open = |id| Intent {
            id: IntentId(id),
            change: Change::OpenAccount {
                account: AccountRef::Dev("ada".into()),
            },
        };
        let first = store.apply_batch(&[open(1)]).await;
        let again = store.apply_batch(&[open(2)]).await;
        assert!(matches!(&first[0].result, Ok(Reply::Account { account, .. }) if account.0 == 1));
        assert_eq!(first[0].result, again[0].result);
    }

    #[test]
    fn sqlite_urls_create_the_directory_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/store.db");
        let url = format!("sqlite://{}", file.display());
        assert_eq!(
            sqlite_url(&url).unwrap(),
            (format!("sqlite://{}?mode=rwc", file.display()), false)
        );
        assert!(dir.path().join("a/b").is_dir());
        assert_eq!(
            sqlite_url(&format!("{url}?cache=private")).unwrap().0,
            format!("sqlite://{}?cache=private&mode=rwc", file.display())
        );
        assert_eq!(
            sqlite_url(&format!("{url}?mode=ro")).unwrap().0,
            format!("sqlite://{}?mode=ro", file.display())
        );
        assert_eq!(
            sqlite_url("sqlite::memory:").unwrap(),
            ("sqlite::memory:".to_owned(), true)
        );
    }
}
