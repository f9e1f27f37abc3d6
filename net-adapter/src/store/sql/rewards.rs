//! Owed raid rewards inside a batch's transaction (`raid_rewards`,
//! migration 0006), kept as `MemoryStore`'s `persist/memory/raids.rs`
//! keeps them: recording a run owes each existing character in its `owed`
//! the reward once, a load answers the oldest ones not given, and a
//! `CommitTx` gives some (`economy/commit.rs` decides, against the
//! [`Grants`] read here before its run, and writes them after).
//!
//! Owing is one `INSERT … SELECT` from `characters` (only those that exist)
//! that does nothing on a key already there, so a retry keeps the row as it
//! is, owed or given. Giving sets `given` only where it is 0 and counts the
//! rows: one fewer means another writer gave it (or deleted its
//! character) since the read, and the whole transaction fails (its intents are answered `Unavailable`, and a
//! retry answers as the store then stands) rather than give it twice.

use super::placeholders::for_engine;
use super::raids::{ordered, unordered};
use super::values::decode_err;
use super::{bits, unbits, Inner};
use crate::store::Engine;
use game_core::content::ItemDefId;
use game_core::ids::CharacterId;
use game_core::persist::{OwedReward, RaidReward, RaidRun, MAX_OWED_LOADED};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashSet;

/// Keys per statement (an `IN` list's ids, an `OR` of keys): far below
/// every engine's bound on parameters.
const KEYS: usize = 500;

/// A reward owed to a character, by run: (character, run id).
type Key = (CharacterId, u64);

/// The statements that do not depend on a list's length.
#[derive(Debug)]
pub(super) struct Statements {
    owed: String,
    forget: String,
    all: String,
}

impl Statements {
    pub(super) fn new(engine: Engine) -> Statements {
        let q = |sql: &str| for_engine(engine, sql);
        Statements {
            owed: q("SELECT run_id, gold, item, count FROM raid_rewards \
                 WHERE character_id = ? AND given = 0 ORDER BY run_id LIMIT ?"),
            forget: q("DELETE FROM raid_rewards WHERE character_id = ?"),
            all: q("SELECT character_id, run_id, gold, item, count, given FROM raid_rewards"),
        }
    }
}

/// A reward from the columns `gold, item, count` starting at `from`.
fn reward(row: &AnyRow, from: usize) -> Result<RaidReward, sqlx::Error> {
    let item: Option<i64> = row.try_get(from + 1)?;
    let item = match item {
        Some(def) => {
            let count: i64 = row.try_get(from + 2)?;
            Some((
                ItemDefId(u16::try_from(def).map_err(decode_err)?),
                u32::try_from(count).map_err(decode_err)?,
            ))
        }
        None => None,
    };
    Ok(RaidReward {
        gold: unbits(row.try_get(from)?),
        item,
    })
}

/// The owed rewards a run of commits may give, read before it decides:
/// those not given yet, less the ones the run has given so far.
#[derive(Debug, Default)]
pub(super) struct Grants {
    owed: HashSet<Key>,
    given: Vec<Key>,
}

impl Grants {
    /// Gives `character` the rewards of `runs` if every one is owed, not
    /// given, and named once (then `true`), as `MemoryStore` does; else
    /// changes nothing.
    pub(super) fn give(&mut self, character: CharacterId, runs: &[u64]) -> bool {
        let distinct = runs.iter().enumerate().all(|(i, r)| !runs[..i].contains(r));
        if !distinct || !runs.iter().all(|&r| self.owed.contains(&(character, r))) {
            return false;
        }
        for &run in runs {
            self.owed.remove(&(character, run));
            self.given.push((character, run));
        }
        true
    }
}

/// `(character_id = ? AND run_id = ?) OR …` for `n` keys.
fn keys_condition(n: usize) -> String {
    vec!["(character_id = ? AND run_id = ?)"; n].join(" OR ")
}

impl Inner {
    /// Owes each existing character in `run.owed` the run's reward, where
    /// it has no row for the run yet.
    pub(super) async fn owe_rewards(
        &self,
        conn: &mut AnyConnection,
        run: &RaidRun,
    ) -> Result<(), sqlx::Error> {
        let tail = match self.engine {
            Engine::MySql => " ON DUPLICATE KEY UPDATE given = given",
            _ => " ON CONFLICT DO NOTHING",
        };
        let (item, count) = match run.reward.item {
            Some((def, n)) => (Some(i32::from(def.0)), i64::from(n)),
            None => (None, 0),
        };
        for chunk in run.owed.chunks(KEYS) {
            let sql = for_engine(
                self.engine,
                &format!(
                    "INSERT INTO raid_rewards (character_id, run_id, gold, item, count, given) \
                     SELECT id, ?, ?, ?, ?, 0 FROM characters WHERE id IN ({}){tail}",
                    vec!["?"; chunk.len()].join(", ")
                ),
            );
            let mut query = sqlx::query(&sql)
                .persistent(false)
                .bind(ordered(run.id))
                .bind(bits(run.reward.gold))
                .bind(item)
                .bind(count);
            for c in chunk {
                query = query.bind(bits(c.0));
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// The rewards `character` is owed and not given, oldest run first, at
    /// most [`MAX_OWED_LOADED`].
    pub(super) async fn owed_rewards(
        &self,
        conn: &mut AnyConnection,
        character: CharacterId,
    ) -> Result<Vec<OwedReward>, sqlx::Error> {
        sqlx::query(&self.rewards.owed)
            .bind(bits(character.0))
            .bind(MAX_OWED_LOADED as i64)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                Ok(OwedReward {
                    run: unordered(row.try_get(0)?),
                    reward: reward(row, 1)?,
                })
            })
            .collect()
    }

    /// Which of `keys` are owed and not given, for a run of commits.
    pub(super) async fn grants(
        &self,
        conn: &mut AnyConnection,
        keys: &[Key],
    ) -> Result<Grants, sqlx::Error> {
        let mut grants = Grants::default();
        for chunk in keys.chunks(KEYS) {
            let sql = for_engine(
                self.engine,
                &format!(
                    "SELECT character_id, run_id FROM raid_rewards WHERE given = 0 AND ({})",
                    keys_condition(chunk.len())
                ),
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for &(c, run) in chunk {
                query = query.bind(bits(c.0)).bind(ordered(run));
            }
            for row in query.fetch_all(&mut *conn).await? {
                let key = (
                    CharacterId(unbits(row.try_get(0)?)),
                    unordered(row.try_get(1)?),
                );
                grants.owed.insert(key);
            }
        }
        Ok(grants)
    }

    /// Marks given what the run of commits gave (see the module's doc for
    /// why a row found given fails the transaction).
    pub(super) async fn mark_given(
        &self,
        conn: &mut AnyConnection,
        grants: &Grants,
    ) -> Result<(), sqlx::Error> {
        for chunk in grants.given.chunks(KEYS) {
            let sql = for_engine(
                self.engine,
                &format!(
                    "UPDATE raid_rewards SET given = 1 WHERE given = 0 AND ({})",
                    keys_condition(chunk.len())
                ),
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for &(c, run) in chunk {
                query = query.bind(bits(c.0)).bind(ordered(run));
            }
            let marked = query.execute(&mut *conn).await?.rows_affected();
            if usize::try_from(marked) != Ok(chunk.len()) {
                return Err(sqlx::Error::Protocol(
                    "an owed raid reward was given or deleted by another writer meanwhile".into(),
                ));
            }
        }
        Ok(())
    }

    /// A deleted character's rewards go, given or not.
    pub(super) async fn forget_rewards(
        &self,
        conn: &mut AnyConnection,
        character: CharacterId,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&self.rewards.forget)
            .bind(bits(character.0))
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Every owed raid reward and whether it was given, by (character, run).
    pub(in crate::store) async fn raid_rewards(
        &self,
    ) -> Result<Vec<(CharacterId, u64, RaidReward, bool)>, sqlx::Error> {
        let rows = sqlx::query(&self.rewards.all).fetch_all(&self.pool).await?;
        let mut all = (rows.iter())
            .map(|row| {
                let given: i64 = row.try_get(5)?;
                Ok((
                    CharacterId(unbits(row.try_get(0)?)),
                    unordered(row.try_get(1)?),
                    reward(row, 2)?,
                    given != 0,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        // By the u64s, as `MemoryStore` lists them, not by the stored bits.
        all.sort_by_key(|&(c, run, ..)| (c, run));
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reward_is_given_once_and_only_all_of_a_grant_at_once() {
        let c = CharacterId(1);
        let mut grants = Grants {
            owed: [(c, 5), (c, 7), (CharacterId(2), 9)].into(),
            given: Vec::new(),
        };
        assert!(!grants.give(c, &[5, 5]), "named twice");
        assert!(!grants.give(c, &[5, 9]), "9 is another's");
        assert!(grants.give(c, &[]));
        assert!(grants.give(c, &[7, 5]));
        assert!(!grants.give(c, &[5]), "already given by the run");
        assert_eq!(grants.given, vec![(c, 7), (c, 5)]);
    }
}
