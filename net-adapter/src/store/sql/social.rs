//! The social changes inside a batch's transaction: friendships, blocks and
//! guilds, applied as `MemoryStore`'s `persist/memory/social.rs` applies them
//! (same checks in the same order, same replies, same ordering of lists).
//!
//! A guild's members and chat lines are rows (`guild_members`,
//! `guild_lines`), not a serialized blob: what is stored does not follow
//! the serde shape of the protocol's `ChatLine` (a renamed field would
//! otherwise leave old blobs unreadable), every string passes the same
//! `storable` check as a character's name, and an operator can read a guild
//! with plain SQL. The cost is that a kept save rewrites the guild's rows
//! (at most `guild_history` lines, 50 by default, and the members), in
//! multi-row statements of [`CHUNK`] rows; the core saves a guild at most
//! once per `guild_save_ms` (10 s by default) or on a change of members.

use super::placeholders::{for_engine, insert_rows};
use super::{bits, storable, storable_key, text, unbits, Inner};
use crate::store::Engine;
use game_core::ids::{CharacterId, GuildId, IntentId};
use game_core::persist::{Change, GuildRecord, GuildState, Reply, SocialRecord, StoreError};
use game_core::protocol::{ChatChannel, ChatLine, Contact, GuildRank};
use game_core::social::guild_name_key;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeSet;

/// Rows per multi-row `INSERT` and ids per `IN` list: far below every
/// engine's bound on parameters (SQLite 32766, PostgreSQL and MySQL 65535).
const CHUNK: usize = 100;

/// Whether every engine can store the social change's strings.
pub(super) fn intent_storable(change: &Change) -> bool {
    match change {
        Change::CreateGuild { name, .. } => storable_key(&guild_name_key(name)) && storable(name),
        Change::SaveGuild { state, .. } => state
            .history
            .iter()
            .all(|line| storable(&line.from_name) && storable(&line.text)),
        _ => true,
    }
}

fn rank_label(rank: GuildRank) -> &'static str {
    match rank {
        GuildRank::Leader => "leader",
        GuildRank::Officer => "officer",
        GuildRank::Member => "member",
    }
}

fn rank_of(label: &str) -> Result<GuildRank, sqlx::Error> {
    [GuildRank::Leader, GuildRank::Officer, GuildRank::Member]
        .into_iter()
        .find(|r| rank_label(*r) == label)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown guild rank {label:?}").into()))
}

fn channel_of(label: &str) -> Result<ChatChannel, sqlx::Error> {
    ChatChannel::ALL
        .into_iter()
        .find(|c| c.label() == label)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown chat channel {label:?}").into()))
}

/// A contact from the columns `id, name`.
fn contact(row: &AnyRow) -> Result<Contact, sqlx::Error> {
    Ok(Contact {
        character: CharacterId(unbits(row.try_get(0)?)),
        name: text(row, 1)?,
    })
}

/// The contacts (`id, name` rows) `sql` selects with `binds`.
async fn contacts(
    conn: &mut AnyConnection,
    sql: &str,
    binds: &[i64],
) -> Result<Vec<Contact>, sqlx::Error> {
    let mut query = sqlx::query(sql);
    for &b in binds {
        query = query.bind(b);
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(contact)
        .collect()
}

/// The social statements, in the engine's placeholder syntax.
#[derive(Debug)]
pub(super) struct Statements {
    friends: String,
    blocked: String,
    guilds_of: String,
    guild_by_id: String,
    members: String,
    lines: String,
    add_friends: String,
    remove_friends: String,
    add_block: String,
    remove_block: String,
    guild_by_key: String,
    insert_guild: String,
    save_up: String,
    save_wrapped: String,
    delete_members: String,
    delete_lines: String,
    delete_guild: String,
    forget_friends: String,
    forget_blocks: String,
    forget_member: String,
    member_count: String,
}

impl Statements {
    pub(super) fn new(engine: Engine) -> Statements {
        let q = |sql: &str| for_engine(engine, sql);
        // Setting what is already so changes nothing and fails nothing.
        let if_absent = |sql: &str, key: &str| match engine {
            Engine::MySql => q(&format!("{sql} ON DUPLICATE KEY UPDATE {key} = {key}")),
            _ => q(&format!("{sql} ON CONFLICT DO NOTHING")),
        };
        const SAVE: &str = "UPDATE guilds SET version = ? WHERE id = ?";
        Statements {
            friends: q("SELECT c.id, c.name FROM friendships f \
                 JOIN characters c ON c.id = f.high_id WHERE f.low_id = ? \
                 UNION ALL SELECT c.id, c.name FROM friendships f \
                 JOIN characters c ON c.id = f.low_id WHERE f.high_id = ? ORDER BY 1"),
            blocked: q("SELECT c.id, c.name FROM blocks b \
                 JOIN characters c ON c.id = b.whom_id WHERE b.by_id = ? ORDER BY c.id"),
            guilds_of: q("SELECT id FROM guilds WHERE id IN \
                 (SELECT guild_id FROM guild_members WHERE character_id = ?) ORDER BY id"),
            guild_by_id: q("SELECT name, version FROM guilds WHERE id = ?"),
            members: q("SELECT c.id, c.name, m.member_rank FROM guild_members m \
                 JOIN characters c ON c.id = m.character_id WHERE m.guild_id = ? ORDER BY m.seq"),
            lines: q("SELECT channel, from_id, from_name, line FROM guild_lines \
                 WHERE guild_id = ? ORDER BY seq"),
            add_friends: if_absent(
                "INSERT INTO friendships (low_id, high_id) VALUES (?, ?)",
                "low_id",
            ),
            remove_friends: q("DELETE FROM friendships WHERE low_id = ? AND high_id = ?"),
            add_block: if_absent("INSERT INTO blocks (by_id, whom_id) VALUES (?, ?)", "by_id"),
            remove_block: q("DELETE FROM blocks WHERE by_id = ? AND whom_id = ?"),
            guild_by_key: q("SELECT id, created_by_intent FROM guilds WHERE name_key = ?"),
            insert_guild: q(&format!(
                "INSERT INTO guilds (name, name_key, version, created_by_intent) \
                 VALUES (?, ?, 0, ?){}",
                if engine == Engine::MySql {
                    "" // MySQL has no RETURNING: the result's last_insert_id
                } else {
                    " RETURNING id"
                }
            )),
            // Versions compare as unsigned, as a character's save does.
            save_up: q(&format!("{SAVE} AND version >= 0 AND version < ?")),
            save_wrapped: q(&format!("{SAVE} AND (version >= 0 OR version < ?)")),
            delete_members: q("DELETE FROM guild_members WHERE guild_id = ?"),
            delete_lines: q("DELETE FROM guild_lines WHERE guild_id = ?"),
            delete_guild: q("DELETE FROM guilds WHERE id = ?"),
            forget_friends: q("DELETE FROM friendships WHERE low_id = ? OR high_id = ?"),
            forget_blocks: q("DELETE FROM blocks WHERE by_id = ? OR whom_id = ?"),
            forget_member: q("DELETE FROM guild_members WHERE character_id = ?"),
            member_count: q("SELECT COUNT(*) FROM guild_members WHERE guild_id = ?"),
        }
    }
}

impl Inner {
    /// Applies one of the five social changes.
    pub(super) async fn apply_social(
        &self,
        conn: &mut AnyConnection,
        intent: IntentId,
        change: &Change,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        let s = &self.social;
        match change {
            Change::LoadSocial { character } => self.load_social(conn, *character).await,
            Change::SetFriends { a, b, friends } => {
                if !self.both_exist(conn, *a, *b).await? {
                    return Ok(Err(StoreError::NoSuchCharacter));
                }
                let sql = if *friends {
                    &s.add_friends
                } else {
                    &s.remove_friends
                };
                sqlx::query(sql)
                    .bind(bits(a.0.min(b.0)))
                    .bind(bits(a.0.max(b.0)))
                    .execute(&mut *conn)
                    .await?;
                Ok(Ok(Reply::Done))
            }
            Change::SetBlocked { by, whom, blocked } => {
                if !self.both_exist(conn, *by, *whom).await? {
                    return Ok(Err(StoreError::NoSuchCharacter));
                }
                let sql = if *blocked {
                    &s.add_block
                } else {
                    &s.remove_block
                };
                sqlx::query(sql)
                    .bind(bits(by.0))
                    .bind(bits(whom.0))
                    .execute(&mut *conn)
                    .await?;
                Ok(Ok(Reply::Done))
            }
            Change::CreateGuild { name, founder } => {
                self.create_guild(conn, intent, name, *founder).await
            }
            Change::SaveGuild {
                guild,
                version,
                state,
            } => self.save_guild(conn, *guild, *version, state).await,
            _ => unreachable!("apply_social is given social changes only"),
        }
    }

    async fn load_social(
        &self,
        conn: &mut AnyConnection,
        character: CharacterId,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        if !self.character_exists(conn, character).await? {
            return Ok(Err(StoreError::NoSuchCharacter));
        }
        let id = bits(character.0);
        let friends = contacts(conn, &self.social.friends, &[id, id]).await?;
        let blocked = contacts(conn, &self.social.blocked, &[id]).await?;
        let ids = sqlx::query(&self.social.guilds_of)
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| Ok(GuildId(unbits(row.try_get(0)?))))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let mut guilds = Vec::with_capacity(ids.len());
        for guild in ids {
            guilds.extend(self.guild_record(conn, guild).await?);
        }
        Ok(Ok(Reply::Social(SocialRecord {
            friends,
            blocked,
            guilds,
        })))
    }

    /// A guild as stored: members (with names) in join order, lines oldest first.
    pub(super) async fn guild_record(
        &self,
        conn: &mut AnyConnection,
        guild: GuildId,
    ) -> Result<Option<GuildRecord>, sqlx::Error> {
        let id = bits(guild.0);
        let Some(row) = sqlx::query(&self.social.guild_by_id)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
        else {
            return Ok(None);
        };
        let (name, version) = (text(&row, 0)?, unbits(row.try_get(1)?));
        let members = sqlx::query(&self.social.members)
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| Ok((contact(row)?, rank_of(&text(row, 2)?)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let history = sqlx::query(&self.social.lines)
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                Ok(ChatLine {
                    channel: channel_of(&text(row, 0)?)?,
                    from: CharacterId(unbits(row.try_get(1)?)),
                    from_name: text(row, 2)?,
                    text: text(row, 3)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Some(GuildRecord {
            id: guild,
            name,
            version,
            members,
            history,
        }))
    }

    async fn create_guild(
        &self,
        conn: &mut AnyConnection,
        intent: IntentId,
        name: &str,
        founder: CharacterId,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        if !self.character_exists(conn, founder).await? {
            return Ok(Err(StoreError::NoSuchCharacter));
        }
        let key = guild_name_key(name);
        let existing = sqlx::query(&self.social.guild_by_key)
            .bind(&key)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(row) = existing {
            let id = GuildId(unbits(row.try_get(0)?));
            let created_by: i64 = row.try_get(1)?;
            return Ok(if unbits(created_by) == intent.0 {
                Ok(Reply::Guild(id))
            } else {
                Err(StoreError::NameTaken)
            });
        }
        let query = sqlx::query(&self.social.insert_guild)
            .bind(name)
            .bind(&key)
            .bind(bits(intent.0));
        let id: i64 = match self.engine {
            Engine::Sqlite | Engine::Postgres => query.fetch_one(&mut *conn).await?.try_get(0)?,
            Engine::MySql => query
                .execute(&mut *conn)
                .await?
                .last_insert_id()
                .ok_or_else(|| sqlx::Error::Protocol("no id for the inserted guild".into()))?,
        };
        let guild = GuildId(unbits(id));
        self.insert_members(conn, guild, &[(founder, GuildRank::Leader)])
            .await?;
        Ok(Ok(Reply::Guild(guild)))
    }

    async fn save_guild(
        &self,
        conn: &mut AnyConnection,
        guild: GuildId,
        version: u64,
        state: &GuildState,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        let s = &self.social;
        let new = bits(version);
        let sql = if new >= 0 {
            &s.save_up
        } else {
            &s.save_wrapped
        };
        let kept = sqlx::query(sql)
            .bind(new)
            .bind(bits(guild.0))
            .bind(new)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        // Older than the stored save, or the guild is gone: nothing to do.
        if kept == 0 {
            return Ok(Ok(Reply::Done));
        }
        let ids: Vec<CharacterId> = state.members.iter().map(|&(c, _)| c).collect();
        let existing = self.existing_characters(conn, &ids).await?;
        let members: Vec<(CharacterId, GuildRank)> = state
            .members
            .iter()
            .copied()
            .filter(|(c, _)| existing.contains(c))
            .collect();
        for sql in [&s.delete_members, &s.delete_lines] {
            sqlx::query(sql)
                .bind(bits(guild.0))
                .execute(&mut *conn)
                .await?;
        }
        if members.is_empty() {
            // Disbanded: the row goes, and with it the name's key.
            sqlx::query(&s.delete_guild)
                .bind(bits(guild.0))
                .execute(&mut *conn)
                .await?;
            return Ok(Ok(Reply::Done));
        }
        self.insert_members(conn, guild, &members).await?;
        self.insert_lines(conn, guild, &state.history).await?;
        Ok(Ok(Reply::Done))
    }

    /// Inserts `members` at join positions 0, 1, … (the guild has none).
    async fn insert_members(
        &self,
        conn: &mut AnyConnection,
        guild: GuildId,
        members: &[(CharacterId, GuildRank)],
    ) -> Result<(), sqlx::Error> {
        for (chunk_index, chunk) in members.chunks(CHUNK).enumerate() {
            let sql = insert_rows(
                self.engine,
                "INSERT INTO guild_members (guild_id, seq, character_id, member_rank)",
                "(?, ?, ?, ?)",
                chunk.len(),
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for (i, (character, rank)) in chunk.iter().enumerate() {
                query = query
                    .bind(bits(guild.0))
                    .bind(seq(chunk_index * CHUNK + i)?)
                    .bind(bits(character.0))
                    .bind(rank_label(*rank));
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Inserts `lines` at positions 0, 1, … (the guild has none).
    async fn insert_lines(
        &self,
        conn: &mut AnyConnection,
        guild: GuildId,
        lines: &[ChatLine],
    ) -> Result<(), sqlx::Error> {
        for (chunk_index, chunk) in lines.chunks(CHUNK).enumerate() {
            let sql = insert_rows(
                self.engine,
                "INSERT INTO guild_lines (guild_id, seq, channel, from_id, from_name, line)",
                "(?, ?, ?, ?, ?, ?)",
                chunk.len(),
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for (i, line) in chunk.iter().enumerate() {
                query = query
                    .bind(bits(guild.0))
                    .bind(seq(chunk_index * CHUNK + i)?)
                    .bind(line.channel.label())
                    .bind(bits(line.from.0))
                    .bind(line.from_name.as_str())
                    .bind(line.text.as_str());
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Which of `ids` are stored characters.
    async fn existing_characters(
        &self,
        conn: &mut AnyConnection,
        ids: &[CharacterId],
    ) -> Result<BTreeSet<CharacterId>, sqlx::Error> {
        let mut found = BTreeSet::new();
        for chunk in ids.chunks(CHUNK) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = for_engine(
                self.engine,
                &format!("SELECT id FROM characters WHERE id IN ({marks})"),
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for c in chunk {
                query = query.bind(bits(c.0));
            }
            for row in query.fetch_all(&mut *conn).await? {
                found.insert(CharacterId(unbits(row.try_get(0)?)));
            }
        }
        Ok(found)
    }

    /// Two different characters, both stored (as `MemoryStore::both_exist`).
    async fn both_exist(
        &self,
        conn: &mut AnyConnection,
        a: CharacterId,
        b: CharacterId,
    ) -> Result<bool, sqlx::Error> {
        Ok(a != b
            && self.character_exists(conn, a).await?
            && self.character_exists(conn, b).await?)
    }

    /// Removes a character about to be deleted from every friendship, block
    /// and guild (its guilds keep their version, as in `MemoryStore`); a
    /// guild it leaves with no members is disbanded and its name freed.
    pub(super) async fn forget_social(
        &self,
        conn: &mut AnyConnection,
        character: CharacterId,
    ) -> Result<(), sqlx::Error> {
        let id = bits(character.0);
        let s = &self.social;
        for sql in [&s.forget_friends, &s.forget_blocks] {
            sqlx::query(sql)
                .bind(id)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        let guilds = sqlx::query(&s.guilds_of)
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<Result<Vec<_>, _>>()?;
        sqlx::query(&s.forget_member)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        for guild in guilds {
            let left: i64 = sqlx::query(&s.member_count)
                .bind(guild)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            if left == 0 {
                for sql in [&s.delete_lines, &s.delete_guild] {
                    sqlx::query(sql).bind(guild).execute(&mut *conn).await?;
                }
            }
        }
        Ok(())
    }
}

/// A join position as the `seq` column holds it.
fn seq(i: usize) -> Result<i32, sqlx::Error> {
    i32::try_from(i).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rank_and_channel_reads_back_from_its_label() {
        for rank in [GuildRank::Leader, GuildRank::Officer, GuildRank::Member] {
            assert_eq!(rank_of(rank_label(rank)).unwrap(), rank);
        }
        for channel in ChatChannel::ALL {
            assert_eq!(channel_of(channel.label()).unwrap(), channel);
        }
        assert!(rank_of("king").is_err());
        assert!(channel_of("").is_err());
    }

    #[test]
    fn multi_row_inserts_number_every_placeholder_for_postgres() {
        assert_eq!(
            insert_rows(Engine::Postgres, "INSERT INTO t (a, b)", "(?, ?)", 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            insert_rows(Engine::MySql, "INSERT INTO t (a)", "(?)", 3),
            "INSERT INTO t (a) VALUES (?), (?), (?)"
        );
    }
}
