//! What the login service needs of a store: register an account, find one by
//! name, read a raid leaderboard. The SQL stores implement it in the server;
//! the tests use the in-memory reference store.

use game_core::ids::{AccountId, CharacterId};
use game_core::persist::{AccountRecord, Board, BoardEntry, MemoryStore};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A boxed future, so the trait stays object-safe (`Arc<dyn AccountStore>`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The store did not answer (down, timed out, failed to commit). Nothing changed
/// that the caller can rely on; trying again later is safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unavailable;

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("account store unavailable")
    }
}

impl std::error::Error for Unavailable {}

/// A leaderboard as read: its best entries in rank order, and the asked-for
/// character's own entry (`None`: not on it, not asked, or the groups' board).
pub type Standings = (Vec<BoardEntry>, Option<BoardEntry>);

/// Why registering failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterError {
    /// An account with this name, in any case, exists.
    NameTaken,
    Unavailable,
}

impl From<game_core::persist::RegisterError> for RegisterError {
    fn from(e: game_core::persist::RegisterError) -> Self {
        match e {
            game_core::persist::RegisterError::NameTaken => RegisterError::NameTaken,
        }
    }
}

impl From<Unavailable> for RegisterError {
    fn from(_: Unavailable) -> Self {
        RegisterError::Unavailable
    }
}

/// Accounts, as the login service reads and writes them. Names are compared
/// by [`game_core::auth::name_key`] (ASCII case-insensitive); the store keeps
/// the name as registered.
pub trait AccountStore: Send + Sync + 'static {
    /// A new account with this name and Argon2id hash (a PHC string).
    fn register<'a>(
        &'a self,
        name: &'a str,
        password_hash: &'a str,
    ) -> StoreFuture<'a, Result<AccountId, RegisterError>>;

    /// The registered account with this name, in any case.
    fn find_account<'a>(
        &'a self,
        name: &'a str,
    ) -> StoreFuture<'a, Result<Option<AccountRecord>, Unavailable>>;

    /// A raid kind's leaderboard for one level group: its best `top`
    /// entries (at most `persist::MAX_LEADERBOARD_TOP`), and `character`'s
    /// own on the players' board, as `Change::LoadLeaderboard` answers.
    fn leaderboard<'a>(
        &'a self,
        raid: &'a str,
        level_group: u8,
        board: Board,
        top: u16,
        character: Option<CharacterId>,
    ) -> StoreFuture<'a, Result<Standings, Unavailable>>;
}

/// The reference store, in memory (tests, a server without a database).
impl AccountStore for Mutex<MemoryStore> {
    fn register<'a>(
        &'a self,
        name: &'a str,
        password_hash: &'a str,
    ) -> StoreFuture<'a, Result<AccountId, RegisterError>> {
        let result = match self.lock() {
            Ok(mut store) => store.register(name, password_hash).map_err(Into::into),
            Err(_) => Err(RegisterError::Unavailable),
        };
        Box::pin(std::future::ready(result))
    }

    fn find_account<'a>(
        &'a self,
        name: &'a str,
    ) -> StoreFuture<'a, Result<Option<AccountRecord>, Unavailable>> {
        let result = match self.lock() {
            Ok(store) => Ok(store.find_account(name)),
            Err(_) => Err(Unavailable),
        };
        Box::pin(std::future::ready(result))
    }

    fn leaderboard<'a>(
        &'a self,
        raid: &'a str,
        level_group: u8,
        board: Board,
        top: u16,
        character: Option<CharacterId>,
    ) -> StoreFuture<'a, Result<Standings, Unavailable>> {
        let result = match self.lock() {
            Ok(store) => Ok(store.leaderboard(raid, level_group, board, top, character)),
            Err(_) => Err(Unavailable),
        };
        Box::pin(std::future::ready(result))
    }
}
