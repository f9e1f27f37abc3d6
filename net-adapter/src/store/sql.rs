//! The statements, and each change applied inside a batch's transaction.
//!
//! Every rule is checked with a read before the write, in the same order as
//! `MemoryStore`, so that no statement fails for a rule: a statement error
//! means the transaction is lost, and the whole batch answers `Unavailable`.
//! u64s the core holds are stored as the same 64 bits in a signed BIGINT.

mod economy;
mod placeholders;
mod raids;
mod rewards;
mod social;
mod values;

pub(super) use raids::raid_storable;

use values::{bits, i32_col, opt_text, text, u16_col, unbits};

use placeholders::for_engine;

use super::Engine;
use crate::login::store::RegisterError;
use game_core::auth::name_key;
use game_core::ids::{AccountId, CharacterId, GuildId, IntentId};
use game_core::math::{Fixed, Vec2};
use game_core::persist::{
    AccountRecord, AccountRef, Change, CharacterRecord, CharacterState, GuildRecord, Intent,
    Outcome, Place, Reply, StoreError,
};
use game_core::protocol::CharacterSummary;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

/// The longest name key (in bytes) a store keeps: MariaDB's unique index on
/// a `VARBINARY(1024)`. A development account's key is `"dev:" + name`.
pub const MAX_KEY_BYTES: usize = 1024;

/// Whether every engine can store the string (PostgreSQL text holds no NUL).
pub(super) fn storable(s: &str) -> bool {
    !s.contains('\0')
}

pub(super) fn storable_key(key: &str) -> bool {
    key.len() <= MAX_KEY_BYTES && storable(key)
}

fn intent_storable(change: &Change) -> bool {
    match change {
        Change::OpenAccount {
            account: AccountRef::Dev(name),
        } => storable_key(&dev_key(name)),
        Change::OpenAccount { .. } => true,
        Change::CreateCharacter { name, state, .. } => {
            storable_key(&name_key(name)) && storable(name) && storable(&state.place.map)
        }
        Change::DeleteCharacter { .. } | Change::LoadCharacter { .. } => true,
        Change::SaveCharacter { state, .. } => storable(&state.place.map),
        Change::LoadSocial { .. }
        | Change::SetFriends { .. }
        | Change::SetBlocked { .. }
        | Change::CreateGuild { .. }
        | Change::SaveGuild { .. } => social::intent_storable(change),
        Change::LoadInventory { .. } | Change::CommitTx { .. } => economy::intent_storable(change),
        Change::RecordRaid { .. } | Change::LoadLeaderboard { .. } => {
            raids::intent_storable(change)
        }
    }
}

fn dev_key(name: &str) -> String {
    format!("dev:{name}")
}

/// The statements, in the engine's placeholder syntax.
#[derive(Debug)]
struct Statements {
    account_by_id: String,
    account_by_key: String,
    insert_account: String,
    summaries: String,
    character_by_key: String,
    insert_character: String,
    character_owned: String,
    delete_character: String,
    load_character: String,
    save_up: String,
    save_wrapped: String,
    character_exists: String,
    all_characters: String,
    find_account: String,
}

impl Statements {
    fn new(engine: Engine) -> Statements {
        let q = |sql: &str| for_engine(engine, sql);
        const SAVE: &str = "UPDATE characters SET version = ?, map = ?, channel = ?, \
             pos_x = ?, pos_y = ?, level = ?, experience = ? WHERE id = ?";
        Statements {
            account_by_id: q("SELECT name FROM accounts WHERE id = ?"),
            account_by_key: q("SELECT id, name FROM accounts WHERE name_key = ?"),
            insert_account: q(&format!(
                "INSERT INTO accounts (name, name_key, password_hash) VALUES (?, ?, ?){}",
                if engine == Engine::MySql {
                    "" // MySQL has no RETURNING: the result's last_insert_id
                } else {
                    " RETURNING id"
                }
            )),
            summaries: q(
                "SELECT id, name, level, map FROM characters WHERE account_id = ? ORDER BY id",
            ),
            character_by_key: q(
                "SELECT account_id, created_by_intent FROM characters WHERE name_key = ?",
            ),
            insert_character: q(
                "INSERT INTO characters (account_id, name, name_key, version, \
                 map, channel, pos_x, pos_y, level, experience, created_by_intent) \
                 VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
            ),
            character_owned: q("SELECT id FROM characters WHERE id = ? AND account_id = ?"),
            delete_character: q("DELETE FROM characters WHERE id = ? AND account_id = ?"),
            load_character: q("SELECT name, version, map, channel, pos_x, pos_y, level, \
                 experience FROM characters WHERE id = ? AND account_id = ?"),
            // A save is kept only if its version is newer, comparing the
            // stored bits as unsigned: for a new version below 2^63 the stored
            // one must be in [0, new); at or above 2^63, below 2^63 or in
            // [2^63, new).
            save_up: q(&format!("{SAVE} AND version >= 0 AND version < ?")),
            save_wrapped: q(&format!("{SAVE} AND (version >= 0 OR version < ?)")),
            character_exists: q("SELECT id FROM characters WHERE id = ?"),
            all_characters: q(
                "SELECT id, account_id, name, version, map, channel, pos_x, \
                 pos_y, level, experience FROM characters ORDER BY id",
            ),
            find_account: q("SELECT id, name, password_hash FROM accounts WHERE name_key = ?"),
        }
    }
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) pool: AnyPool,
    pub(super) engine: Engine,
    sql: Statements,
    social: social::Statements,
    economy: economy::Statements,
    raids: raids::Statements,
    rewards: rewards::Statements,
    written: economy::Written,
}

impl Inner {
    pub(super) fn new(pool: AnyPool, engine: Engine) -> Inner {
        Inner {
            pool,
            engine,
            sql: Statements::new(engine),
            social: social::Statements::new(engine),
            economy: economy::Statements::new(engine),
            raids: raids::Statements::new(engine),
            rewards: rewards::Statements::new(engine),
            written: economy::Written::default(),
        }
    }

    /// A write transaction. SQLite takes the write lock at once, so that
    /// two writers wait on the busy timeout rather than fail on upgrade.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            _ => self.pool.begin().await,
        }
    }

    pub(super) async fn apply_batch(
        &self,
        intents: &[Intent],
    ) -> Result<Vec<Outcome>, sqlx::Error> {
        let mut tx = self.begin().await?;
        let mut outcomes = Vec::with_capacity(intents.len());
        let mut rest = intents;
        let mut committed = Vec::new();
        while let Some(intent) = rest.first() {
            // Consecutive commits are decided and written as one run.
            let run = (rest.iter())
                .take_while(|i| {
                    matches!(i.change, Change::CommitTx { .. }) && intent_storable(&i.change)
                })
                .count();
            let (now, later) = rest.split_at(run.max(1));
            rest = later;
            if run > 0 {
                let results = self.commit_run(&mut tx, now, &mut committed).await?;
                outcomes.extend(
                    (now.iter().zip(results)).map(|(i, result)| Outcome { id: i.id, result }),
                );
                continue;
            }
            if let Change::DeleteCharacter { character, .. } = &intent.change {
                // Not to be remembered once it is gone.
                committed.retain(|(c, _)| c != character);
            }
            let result = if intent_storable(&intent.change) {
                self.apply(&mut tx, intent).await?
            } else {
                Err(StoreError::Unavailable)
            };
            outcomes.push(Outcome {
                id: intent.id,
                result,
            });
        }
        tx.commit().await?;
        self.written.learn(committed);
        Ok(outcomes)
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        intent: &Intent,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        Ok(match &intent.change {
            Change::OpenAccount { account } => self.open_account(conn, account).await?,
            Change::CreateCharacter {
                account,
                name,
                state,
                max_characters,
            } => {
                self.create_character(conn, intent.id, *account, name, state, *max_characters)
                    .await?
            }
            Change::DeleteCharacter { account, character } => {
                let owned = sqlx::query(&self.sql.character_owned)
                    .bind(bits(character.0))
                    .bind(bits(account.0))
                    .fetch_optional(&mut *conn)
                    .await?
                    .is_some();
                if owned {
                    // Its friendships, blocks and memberships first: they
                    // refer to it.
                    self.forget_social(conn, *character).await?;
                    self.forget_inventory(conn, *character).await?;
                    self.forget_raids(conn, *character).await?;
                    sqlx::query(&self.sql.delete_character)
                        .bind(bits(character.0))
                        .bind(bits(account.0))
                        .execute(&mut *conn)
                        .await?;
                }
                if self.account_name(conn, *account).await?.is_some() {
                    Ok(Reply::Characters(self.summaries(conn, *account).await?))
                } else {
                    Err(StoreError::NoSuchAccount)
                }
            }
            Change::LoadCharacter { account, character } => {
                let row = sqlx::query(&self.sql.load_character)
                    .bind(bits(character.0))
                    .bind(bits(account.0))
                    .fetch_optional(&mut *conn)
                    .await?;
                match row {
                    Some(row) => Ok(Reply::Character(CharacterRecord {
                        id: *character,
                        account: *account,
                        name: text(&row, 0)?,
                        version: unbits(row.try_get(1)?),
                        state: state(&row, 2)?,
                    })),
                    None => Err(StoreError::NoSuchCharacter),
                }
            }
            Change::SaveCharacter {
                character,
                version,
                state,
            } => {
                let new = bits(*version);
                let sql = if new >= 0 {
                    &self.sql.save_up
                } else {
                    &self.sql.save_wrapped
                };
                let kept = sqlx::query(sql)
                    .bind(new)
                    .bind(&state.place.map)
                    .bind(i32::from(state.place.channel))
                    .bind(state.place.pos.x.raw())
                    .bind(state.place.pos.y.raw())
                    .bind(i32::from(state.level))
                    .bind(bits(state.experience))
                    .bind(bits(character.0))
                    .bind(new)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                if kept > 0 || self.character_exists(conn, *character).await? {
                    Ok(Reply::Done)
                } else {
                    Err(StoreError::NoSuchCharacter)
                }
            }
            change @ (Change::LoadSocial { .. }
            | Change::SetFriends { .. }
            | Change::SetBlocked { .. }
            | Change::CreateGuild { .. }
            | Change::SaveGuild { .. }) => self.apply_social(conn, intent.id, change).await?,
            Change::LoadInventory { character } => self.load_inventory(conn, *character).await?,
            change @ (Change::RecordRaid { .. } | Change::LoadLeaderboard { .. }) => {
                self.apply_raids(conn, change).await?
            }
            // Not remembered (`Written`): a commit is applied in a run.
            Change::CommitTx { .. } => (self
                .commit_run(conn, std::slice::from_ref(intent), &mut Vec::new())
                .await?)
                .pop()
                .unwrap_or(Err(StoreError::Unavailable)),
        })
    }

    async fn open_account(
        &self,
        conn: &mut AnyConnection,
        account: &AccountRef,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        let (id, name) = match account {
            AccountRef::Id(id) => match self.account_name(conn, *id).await? {
                Some(name) => (*id, name),
                None => return Ok(Err(StoreError::NoSuchAccount)),
            },
            AccountRef::Dev(name) => {
                let key = dev_key(name);
                let row = sqlx::query(&self.sql.account_by_key)
                    .bind(&key)
                    .fetch_optional(&mut *conn)
                    .await?;
                match row {
                    Some(row) => (AccountId(unbits(row.try_get(0)?)), text(&row, 1)?),
                    None => (
                        self.insert_account(conn, name, &key, None).await?,
                        name.clone(),
                    ),
                }
            }
        };
        let characters = self.summaries(conn, id).await?;
        Ok(Ok(Reply::Account {
            account: id,
            name,
            characters,
        }))
    }

    async fn create_character(
        &self,
        conn: &mut AnyConnection,
        intent: IntentId,
        account: AccountId,
        name: &str,
        state: &CharacterState,
        max_characters: u8,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        if self.account_name(conn, account).await?.is_none() {
            return Ok(Err(StoreError::NoSuchAccount));
        }
        let key = name_key(name);
        let existing = sqlx::query(&self.sql.character_by_key)
            .bind(&key)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(row) = existing {
            let owner = unbits(row.try_get(0)?);
            let created_by = unbits(row.try_get(1)?);
            if created_by == intent.0 && owner == account.0 {
                return Ok(Ok(Reply::Characters(self.summaries(conn, account).await?)));
            }
            return Ok(Err(StoreError::NameTaken));
        }
        if self.summaries(conn, account).await?.len() >= usize::from(max_characters) {
            return Ok(Err(StoreError::TooManyCharacters));
        }
        sqlx::query(&self.sql.insert_character)
            .bind(bits(account.0))
            .bind(name)
            .bind(&key)
            .bind(&state.place.map)
            .bind(i32::from(state.place.channel))
            .bind(state.place.pos.x.raw())
            .bind(state.place.pos.y.raw())
            .bind(i32::from(state.level))
            .bind(bits(state.experience))
            .bind(bits(intent.0))
            .execute(&mut *conn)
            .await?;
        Ok(Ok(Reply::Characters(self.summaries(conn, account).await?)))
    }

    async fn character_exists(
        &self,
        conn: &mut AnyConnection,
        character: CharacterId,
    ) -> Result<bool, sqlx::Error> {
        Ok(sqlx::query(&self.sql.character_exists)
            .bind(bits(character.0))
            .fetch_optional(&mut *conn)
            .await?
            .is_some())
    }

    async fn account_name(
        &self,
        conn: &mut AnyConnection,
        account: AccountId,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query(&self.sql.account_by_id)
            .bind(bits(account.0))
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| text(&row, 0))
            .transpose()
    }

    async fn insert_account(
        &self,
        conn: &mut AnyConnection,
        name: &str,
        key: &str,
        password_hash: Option<&str>,
    ) -> Result<AccountId, sqlx::Error> {
        let query = sqlx::query(&self.sql.insert_account)
            .bind(name)
            .bind(key)
            .bind(password_hash);
        let id = match self.engine {
            Engine::Sqlite | Engine::Postgres => query.fetch_one(&mut *conn).await?.try_get(0)?,
            Engine::MySql => query
                .execute(&mut *conn)
                .await?
                .last_insert_id()
                .ok_or_else(|| sqlx::Error::Protocol("no id for the inserted account".into()))?,
        };
        Ok(AccountId(unbits(id)))
    }

    /// The account's characters, oldest (lowest id) first.
    async fn summaries(
        &self,
        conn: &mut AnyConnection,
        account: AccountId,
    ) -> Result<Vec<CharacterSummary>, sqlx::Error> {
        sqlx::query(&self.sql.summaries)
            .bind(bits(account.0))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                Ok(CharacterSummary {
                    id: CharacterId(unbits(row.try_get(0)?)),
                    name: text(row, 1)?,
                    level: u16_col(row, 2)?,
                    map: text(row, 3)?,
                })
            })
            .collect()
    }

    pub(super) async fn register(
        &self,
        name: &str,
        password_hash: &str,
    ) -> Result<Result<AccountId, RegisterError>, sqlx::Error> {
        let key = name_key(name);
        let mut tx = self.begin().await?;
        let taken = sqlx::query(&self.sql.account_by_key)
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if taken {
            return Ok(Err(RegisterError::NameTaken));
        }
        let id = match self
            .insert_account(&mut tx, name, &key, Some(password_hash))
            .await
        {
            Ok(id) => id,
            // Another process registered the same name since the check.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Ok(Err(RegisterError::NameTaken))
            }
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        Ok(Ok(id))
    }

    pub(super) async fn find_account(
        &self,
        name: &str,
    ) -> Result<Option<AccountRecord>, sqlx::Error> {
        let row = sqlx::query(&self.sql.find_account)
            .bind(name_key(name))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        // A development account has no password: not one to log in to.
        let Some(password_hash) = opt_text(&row, 2)? else {
            return Ok(None);
        };
        Ok(Some(AccountRecord {
            id: AccountId(unbits(row.try_get(0)?)),
            name: text(&row, 1)?,
            password_hash,
        }))
    }

    pub(super) async fn durability(&self) -> Result<String, sqlx::Error> {
        let settings: &[(&str, &str)] = match self.engine {
            Engine::Sqlite => &[
                ("journal_mode", "PRAGMA journal_mode"),
                ("synchronous", "PRAGMA synchronous"),
            ],
            Engine::Postgres => &[
                ("fsync", "SHOW fsync"),
                ("synchronous_commit", "SHOW synchronous_commit"),
            ],
            Engine::MySql => &[(
                "innodb_flush_log_at_trx_commit",
                "SELECT CAST(@@innodb_flush_log_at_trx_commit AS CHAR)",
            )],
        };
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::new();
        for (name, sql) in settings {
            let row = sqlx::query(sql).fetch_one(&mut *conn).await?;
            let value = match row.try_get::<i64, _>(0) {
                Ok(v) => v.to_string(),
                Err(_) => text(&row, 0)?,
            };
            out.push(format!("{name}={value}"));
        }
        Ok(out.join(" "))
    }

    pub(super) async fn guild(&self, guild: GuildId) -> Result<Option<GuildRecord>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        self.guild_record(&mut conn, guild).await
    }

    pub(super) async fn characters(&self) -> Result<Vec<CharacterRecord>, sqlx::Error> {
        sqlx::query(&self.sql.all_characters)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(CharacterRecord {
                    id: CharacterId(unbits(row.try_get(0)?)),
                    account: AccountId(unbits(row.try_get(1)?)),
                    name: text(row, 2)?,
                    version: unbits(row.try_get(3)?),
                    state: state(row, 4)?,
                })
            })
            .collect()
    }
}

/// A character's state from the columns `map, channel, pos_x, pos_y, level,
/// experience` starting at `from`.
fn state(row: &AnyRow, from: usize) -> Result<CharacterState, sqlx::Error> {
    Ok(CharacterState {
        place: Place {
            map: text(row, from)?,
            channel: u16_col(row, from + 1)?,
            pos: Vec2::new(
                Fixed::from_raw(i32_col(row, from + 2)?),
                Fixed::from_raw(i32_col(row, from + 3)?),
            ),
        },
        level: u16_col(row, from + 4)?,
        experience: unbits(row.try_get(from + 5)?),
    })
}

#[cfg(test)]
mod tests;
