//! Raid leaderboards inside a batch's transaction, kept as `MemoryStore`'s
//! `persist/memory/raids.rs` keeps them: each entrant's best run per raid
//! kind, level group and board (`raid_best`, migration 0005). Recording a
//! run also owes its rewards, in the same transaction (`rewards.rs`).
//!
//! Recording a score is two statements, neither of which reads first: an
//! insert if the entrant has no row, then an update whose `WHERE` holds only
//! if the stored run ranks after the new one. The engine decides on the row
//! it locks, so two writers can neither lose a better run nor keep a worse
//! one, and the same run again changes nothing. Neither statement's count of
//! rows is used (MySQL counts rows found or rows changed, by a flag).
//!
//! The order of a board is [`RaidScore::key`] then the entrant, written out
//! as SQL by [`ranks`]. The u64s it compares are stored with their top bit
//! flipped ([`ordered`]) so that signed order is unsigned order. A rank is
//! 1 + the rows ranking before the entry: a count over the board's range
//! of the rank index (every entry of the board read, at worst).

use super::placeholders::for_engine;
use super::{storable, text, Inner};
use crate::store::Engine;
use game_core::content::MAX_RAID_GROUP;
use game_core::ids::CharacterId;
use game_core::persist::{
    Board, BoardEntry, Change, RaidRun, Reply, StoreError, MAX_LEADERBOARD_TOP, MAX_RAID_NAME_BYTES,
};
use game_core::raid::RaidScore;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

/// Names are stored one per line.
const NAME_SEPARATOR: char = '\n';

/// Whether every engine can store the raid change: a raid name of at most
/// [`MAX_RAID_NAME_BYTES`] (MariaDB's key column), at most a raid group of
/// players, names without a NUL or a line break.
pub(super) fn intent_storable(change: &Change) -> bool {
    match change {
        Change::RecordRaid { run } => {
            raid_storable(&run.raid)
                && run.players.len() <= usize::from(MAX_RAID_GROUP)
                && (run.players.iter())
                    .all(|(_, name, _)| storable(name) && !name.contains(NAME_SEPARATOR))
        }
        Change::LoadLeaderboard { raid, .. } => raid_storable(raid),
        _ => true,
    }
}

pub(in crate::store) fn raid_storable(raid: &str) -> bool {
    raid.len() <= MAX_RAID_NAME_BYTES && storable(raid)
}

/// A u64 as a BIGINT that sorts as the u64 does: its top bit flipped.
pub(super) fn ordered(v: u64) -> i64 {
    (v ^ (1 << 63)) as i64
}

pub(super) fn unordered(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

/// A board's order, best first: `(column, descending)`.
const ORDER: [(&str, bool); 6] = [
    ("cleared", true),
    ("time_ms", false),
    ("deaths", false),
    ("damage", true),
    ("run_at", false),
    ("entrant", false),
];

/// The condition "the row ranks before (`before`) or after the bound
/// values" over `columns` in order: `c0 < ? OR (c0 = ? AND (c1 < ? OR …))`
/// with `>` for a descending column (and all turned round for after). Its
/// values are bound by [`bind_ranked`].
fn ranks(columns: &[(&str, bool)], before: bool) -> String {
    let strict = |&(column, descending): &(&str, bool)| {
        let less = before != descending;
        format!("{column} {} ?", if less { '<' } else { '>' })
    };
    let Some((last, rest)) = columns.split_last() else {
        return "FALSE".to_owned();
    };
    (rest.iter().rev()).fold(strict(last), |inner, column| {
        format!("{} OR ({} = ? AND ({inner}))", strict(column), column.0)
    })
}

/// The values of a [`ranks`] condition: each twice (strict, equal) but the
/// last.
fn bind_ranked<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    values: &[i64],
) -> Query<'q, Any, AnyArguments<'q>> {
    if let Some((last, rest)) = values.split_last() {
        for &v in rest {
            query = query.bind(v).bind(v);
        }
        query = query.bind(*last);
    }
    query
}

/// A score's values in [`ORDER`] (without the entrant).
fn key_values(score: &RaidScore) -> [i64; 5] {
    [
        i64::from(score.cleared),
        i64::from(score.time_ms),
        i64::from(score.deaths),
        ordered(score.damage),
        ordered(score.at),
    ]
}

/// The raid statements, in the engine's placeholder syntax.
#[derive(Debug)]
pub(super) struct Statements {
    insert_if_absent: String,
    update_if_better: String,
    top: String,
    entry: String,
    before: String,
    forget: String,
}

impl Statements {
    pub(super) fn new(engine: Engine) -> Statements {
        let q = |sql: &str| for_engine(engine, sql);
        const BOARD: &str = "raid = ? AND level_group = ? AND board = ?";
        const ENTRY: &str = "entrant, cleared, time_ms, deaths, damage, run_at, names";
        let insert = "INSERT INTO raid_best (raid, level_group, board, entrant, cleared, \
             time_ms, deaths, damage, run_at, names) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        let order: Vec<String> = (ORDER.iter())
            .map(|&(c, desc)| {
                if desc {
                    format!("{c} DESC")
                } else {
                    c.to_owned()
                }
            })
            .collect();
        Statements {
            insert_if_absent: q(&match engine {
                Engine::MySql => format!("{insert} ON DUPLICATE KEY UPDATE entrant = entrant"),
                _ => format!("{insert} ON CONFLICT DO NOTHING"),
            }),
            // The stored run ranks after the new one (entrants are equal).
            update_if_better: q(&format!(
                "UPDATE raid_best SET cleared = ?, time_ms = ?, deaths = ?, damage = ?, \
                 run_at = ?, names = ? WHERE {BOARD} AND entrant = ? AND ({})",
                ranks(&ORDER[..5], false)
            )),
            top: q(&format!(
                "SELECT {ENTRY} FROM raid_best WHERE {BOARD} ORDER BY {} LIMIT ?",
                order.join(", ")
            )),
            entry: q(&format!(
                "SELECT {ENTRY} FROM raid_best WHERE {BOARD} AND entrant = ?"
            )),
            before: q(&format!(
                "SELECT COUNT(*) FROM raid_best WHERE {BOARD} AND ({})",
                ranks(&ORDER, true)
            )),
            forget: q("DELETE FROM raid_best WHERE board = 'players' AND entrant = ?"),
        }
    }
}

/// A board's place: raid kind name, level group, board.
struct Place<'a> {
    raid: &'a str,
    level_group: u8,
    board: Board,
}

impl<'a> Place<'a> {
    fn bind<'q>(&self, query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>>
    where
        'a: 'q,
    {
        query
            .bind(self.raid)
            .bind(i32::from(self.level_group))
            .bind(self.board.label())
    }
}

/// An entry from the columns `entrant, cleared, time_ms, deaths, damage,
/// run_at, names`.
fn entry(row: &AnyRow, rank: u32) -> Result<BoardEntry, sqlx::Error> {
    let u32_col = |i: usize| -> Result<u32, sqlx::Error> {
        u32::try_from(row.try_get::<i64, _>(i)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    Ok(BoardEntry {
        rank,
        entrant: unordered(row.try_get(0)?),
        names: text(row, 6)?
            .split(NAME_SEPARATOR)
            .map(str::to_owned)
            .collect(),
        score: RaidScore {
            cleared: row.try_get::<i64, _>(1)? != 0,
            time_ms: u32_col(2)?,
            deaths: u32_col(3)?,
            damage: unordered(row.try_get(4)?),
            at: unordered(row.try_get(5)?),
        },
    })
}

impl Inner {
    /// Applies [`Change::RecordRaid`] or [`Change::LoadLeaderboard`].
    pub(super) async fn apply_raids(
        &self,
        conn: &mut AnyConnection,
        change: &Change,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        Ok(Ok(match change {
            Change::RecordRaid { run } => {
                self.record_raid(conn, run).await?;
                Reply::Done
            }
            Change::LoadLeaderboard {
                raid,
                level_group,
                board,
                top,
                character,
            } => {
                let place = Place {
                    raid,
                    level_group: *level_group,
                    board: *board,
                };
                let (top, own) = self.load_board(conn, &place, *top, *character).await?;
                Reply::Leaderboard { top, own }
            }
            _ => unreachable!("apply_raids is given raid changes only"),
        }))
    }

    async fn record_raid(
        &self,
        conn: &mut AnyConnection,
        run: &RaidRun,
    ) -> Result<(), sqlx::Error> {
        let mut place = Place {
            raid: &run.raid,
            level_group: run.level_group,
            board: Board::Players,
        };
        for (character, name, score) in &run.players {
            // A character deleted since its run stays off the board.
            if self.character_exists(conn, *character).await? {
                self.keep_best(conn, &place, character.0, score, name)
                    .await?;
            }
        }
        if !run.players.is_empty() {
            place.board = Board::Groups;
            let names = run.group_names().join(&NAME_SEPARATOR.to_string());
            (self.keep_best(conn, &place, run.group_entrant(), &run.group, &names)).await?;
        }
        self.owe_rewards(conn, run).await
    }

    /// The run becomes the entrant's entry if it has none or ranks better.
    async fn keep_best(
        &self,
        conn: &mut AnyConnection,
        place: &Place<'_>,
        entrant: u64,
        score: &RaidScore,
        names: &str,
    ) -> Result<(), sqlx::Error> {
        let [_, time_ms, deaths, damage, at] = key_values(score);
        let cleared = i32::from(score.cleared);
        let query = place.bind(sqlx::query(&self.raids.insert_if_absent));
        (query.bind(ordered(entrant)).bind(cleared))
            .bind(time_ms)
            .bind(deaths)
            .bind(damage)
            .bind(at)
            .bind(names)
            .execute(&mut *conn)
            .await?;
        let query = sqlx::query(&self.raids.update_if_better)
            .bind(cleared)
            .bind(time_ms)
            .bind(deaths)
            .bind(damage)
            .bind(at)
            .bind(names);
        let query = place.bind(query).bind(ordered(entrant));
        (bind_ranked(query, &key_values(score)))
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// A board's best `top` (at most [`MAX_LEADERBOARD_TOP`]) and, on the
    /// players' board, `character`'s own entry.
    async fn load_board(
        &self,
        conn: &mut AnyConnection,
        place: &Place<'_>,
        top: u16,
        character: Option<CharacterId>,
    ) -> Result<(Vec<BoardEntry>, Option<BoardEntry>), sqlx::Error> {
        let rows = place
            .bind(sqlx::query(&self.raids.top))
            .bind(i64::from(top.min(MAX_LEADERBOARD_TOP)))
            .fetch_all(&mut *conn)
            .await?;
        let top = (rows.iter().zip(1u32..))
            .map(|(row, rank)| entry(row, rank))
            .collect::<Result<Vec<_>, _>>()?;
        let own = match (place.board, character) {
            (Board::Players, Some(c)) => self.own_entry(conn, place, c.0).await?,
            _ => None,
        };
        Ok((top, own))
    }

    async fn own_entry(
        &self,
        conn: &mut AnyConnection,
        place: &Place<'_>,
        entrant: u64,
    ) -> Result<Option<BoardEntry>, sqlx::Error> {
        let row = place
            .bind(sqlx::query(&self.raids.entry))
            .bind(ordered(entrant))
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mine = entry(&row, 0)?;
        let mut values = key_values(&mine.score).to_vec();
        values.push(ordered(entrant));
        let before: i64 = (bind_ranked(place.bind(sqlx::query(&self.raids.before)), &values))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let rank = u32::try_from(before).map_or(u32::MAX, |n| n.saturating_add(1));
        Ok(Some(BoardEntry { rank, ..mine }))
    }

    /// A deleted character leaves every players' board, and its owed
    /// rewards are gone.
    pub(super) async fn forget_raids(
        &self,
        conn: &mut AnyConnection,
        character: CharacterId,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&self.raids.forget)
            .bind(ordered(character.0))
            .execute(&mut *conn)
            .await?;
        self.forget_rewards(conn, character).await
    }

    /// A leaderboard read outside any batch (the login service).
    pub(in crate::store) async fn leaderboard(
        &self,
        raid: &str,
        level_group: u8,
        board: Board,
        top: u16,
        character: Option<CharacterId>,
    ) -> Result<(Vec<BoardEntry>, Option<BoardEntry>), sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let place = Place {
            raid,
            level_group,
            board,
        };
        self.load_board(&mut conn, &place, top, character).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flipped_u64s_sort_as_u64s_and_come_back() {
        let values = [0, 1, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, u64::MAX];
        for w in values.windows(2) {
            assert!(ordered(w[0]) < ordered(w[1]), "{w:?}");
        }
        for v in values {
            assert_eq!(unordered(ordered(v)), v);
        }
    }

    #[test]
    fn the_rank_condition_nests_each_column_under_the_equal_ones() {
        let columns = [("a", false), ("b", true), ("c", false)];
        assert_eq!(
            ranks(&columns, true),
            "a < ? OR (a = ? AND (b > ? OR (b = ? AND (c < ?))))"
        );
        assert_eq!(
            ranks(&columns, false),
            "a > ? OR (a = ? AND (b < ? OR (b = ? AND (c > ?))))"
        );
    }
}
