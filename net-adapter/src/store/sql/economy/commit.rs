//! A run of consecutive `CommitTx` intents inside a batch's transaction,
//! decided together and written together.
//!
//! Each commit is decided in order, exactly as `MemoryStore` decides it
//! (same checks in the same order, same replies), against the stored state
//! as the run's earlier commits leave it. But the reads come first, one
//! statement per table for the whole run (which characters exist and their
//! sequence numbers; which of the run's names the ledger already holds),
//! and the writes last, one multi-row statement per table for the whole
//! run (each inventory changed in the run written once, as the run leaves
//! it; every receipt). `bench-economy` measured the cost of one commit at a
//! time at ~15 statements per transaction, 2,858 acknowledged tx/s at a
//! 2,262 ms p99; the run's figure is in the commit that made it.
//!
//! The rare paths (a retried commit whose name is in the ledger) read the
//! stored inventory and receipt one by one, as before.

use super::super::placeholders::{for_engine, insert_rows};
use super::super::{bits, unbits, Inner};
use super::{
    fit, lines_of, receipt_of, Statements, INVENTORY_COLUMNS, PROGRESS_COLUMNS, PURCHASE_COLUMNS,
    STACK_COLUMNS,
};
use crate::store::Engine;
use game_core::economy::{Inventory, Receipt, Stack};
use game_core::ids::CharacterId;
use game_core::persist::{well_formed, Change, Intent, InventoryPart, Reply, StoreError};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Rows per multi-row statement (an `INSERT`'s rows, an `IN` list's keys, a
/// ledger lookup's names): at 9 parameters a row, far below every engine's
/// bound on parameters (SQLite 32766, PostgreSQL and MySQL 65535).
const ROWS: usize = 500;

type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// A ledger entry's name: its first part's character and sequence number after.
type Name = (CharacterId, u64);

/// What the run has decided so far, not yet written.
struct Run<'a> {
    /// Every existing character the run touches, and its sequence number
    /// as stored or as the run has left it (0: no inventory yet).
    seqs: HashMap<CharacterId, u64>,
    /// The run's names the ledger held before the run.
    in_ledger: HashSet<Name>,
    /// Each inventory the run changed, as it left it.
    written: BTreeMap<CharacterId, &'a Inventory>,
    /// The receipts the run adds to the ledger, in order, and where each
    /// name is among them.
    receipts: Vec<(Name, &'a Receipt)>,
    named: HashMap<Name, usize>,
}

impl Inner {
    /// Applies consecutive `CommitTx` intents: one reply per intent, in
    /// order (an intent of another change is answered `Unavailable`; the
    /// caller passes none).
    pub(in crate::store::sql) async fn commit_run(
        &self,
        conn: &mut AnyConnection,
        intents: &[Intent],
    ) -> Result<Vec<Result<Reply, StoreError>>, sqlx::Error> {
        let txs: Vec<Option<(&[InventoryPart], &Receipt)>> = (intents.iter())
            .map(|i| match &i.change {
                Change::CommitTx { parts, receipt } => Some((parts.as_slice(), &**receipt)),
                _ => None,
            })
            .collect();
        let parts = || txs.iter().flatten().flat_map(|(parts, _)| parts.iter());
        let mut characters: Vec<CharacterId> = parts().map(|p| p.character).collect();
        characters.sort_unstable();
        characters.dedup();
        let mut names: Vec<Name> = (txs.iter().flatten())
            .filter_map(|(parts, _)| parts.first().map(|f| (f.character, f.after.seq)))
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut run = Run {
            seqs: self.stored_seqs(conn, &characters).await?,
            in_ledger: self.ledger_names(conn, &names).await?,
            written: BTreeMap::new(),
            receipts: Vec::new(),
            named: HashMap::new(),
        };
        let mut replies = Vec::with_capacity(txs.len());
        for tx in txs {
            replies.push(match tx {
                Some((parts, receipt)) => self.decide(conn, &mut run, parts, receipt).await?,
                None => Err(StoreError::Unavailable),
            });
        }
        let written: Vec<(CharacterId, &Inventory)> = run.written.into_iter().collect();
        self.write_inventories(conn, &written).await?;
        self.insert_receipts(conn, &run.receipts).await?;
        Ok(replies)
    }

    /// One commit of the run, as `MemoryStore` decides it.
    async fn decide<'a>(
        &self,
        conn: &mut AnyConnection,
        run: &mut Run<'a>,
        parts: &'a [InventoryPart],
        receipt: &'a Receipt,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        let Some(first) = parts.first() else {
            return Ok(Err(StoreError::Conflict));
        };
        if !well_formed(parts) {
            return Ok(Err(StoreError::Conflict));
        }
        if parts.iter().any(|p| !run.seqs.contains_key(&p.character)) {
            return Ok(Err(StoreError::NoSuchCharacter));
        }
        let name = (first.character, first.after.seq);
        let kept = match run.named.get(&name) {
            Some(&at) => Some(run.receipts[at].1.clone()),
            None if run.in_ledger.contains(&name) => self.ledger_receipt(conn, name).await?,
            None => None,
        };
        if let Some(kept) = kept {
            // Applied before if it is the same transaction: the same receipt,
            // and every inventory still as it left them or moved on past it.
            // Another transaction under the same name (decided on a state
            // that did not last, even with an equal receipt) conflicts, as in
            // `MemoryStore`.
            let mut same = kept == *receipt;
            for p in parts {
                if !same {
                    break;
                }
                let moved_past = |i: &Inventory| i.seq > p.after.seq || *i == p.after;
                same = match run.written.get(&p.character) {
                    Some(inv) => moved_past(inv),
                    None => (self.stored_inventory(conn, p.character).await?)
                        .is_some_and(|i| moved_past(&i)),
                };
            }
            return Ok(if same {
                Ok(Reply::Done)
            } else {
                Err(StoreError::Conflict)
            });
        }
        if parts.iter().any(|p| run.seqs[&p.character] != p.before) {
            return Ok(Err(StoreError::Conflict));
        }
        for p in parts {
            run.seqs.insert(p.character, p.after.seq);
            run.written.insert(p.character, &p.after);
        }
        run.named.insert(name, run.receipts.len());
        run.receipts.push((name, receipt));
        Ok(Ok(Reply::Done))
    }

    /// The existing ones of `characters`, each with its stored inventory's
    /// sequence number (0 when it has none).
    async fn stored_seqs(
        &self,
        conn: &mut AnyConnection,
        characters: &[CharacterId],
    ) -> Result<HashMap<CharacterId, u64>, sqlx::Error> {
        let mut seqs = HashMap::with_capacity(characters.len());
        for chunk in characters.chunks(ROWS) {
            let sql = for_engine(
                self.engine,
                &format!(
                    "SELECT c.id, i.seq FROM characters c \
                     LEFT JOIN inventories i ON i.character_id = c.id WHERE c.id IN ({})",
                    marks("?", chunk.len())
                ),
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for c in chunk {
                query = query.bind(bits(c.0));
            }
            for row in query.fetch_all(&mut *conn).await? {
                let seq: Option<i64> = row.try_get(1)?;
                seqs.insert(CharacterId(unbits(row.try_get(0)?)), seq.map_or(0, unbits));
            }
        }
        Ok(seqs)
    }

    /// Which of `names` the ledger holds.
    async fn ledger_names(
        &self,
        conn: &mut AnyConnection,
        names: &[Name],
    ) -> Result<HashSet<Name>, sqlx::Error> {
        let mut found = HashSet::new();
        for chunk in names.chunks(ROWS) {
            // An `OR` of key lookups: every engine answers it from the
            // primary key, and a row value `IN` list is not portable.
            let sql = for_engine(
                self.engine,
                &format!(
                    "SELECT first_character, seq FROM economy_ledger WHERE {}",
                    vec!["(first_character = ? AND seq = ?)"; chunk.len()].join(" OR ")
                ),
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for &(character, seq) in chunk {
                query = query.bind(bits(character.0)).bind(bits(seq));
            }
            for row in query.fetch_all(&mut *conn).await? {
                found.insert((
                    CharacterId(unbits(row.try_get(0)?)),
                    unbits(row.try_get(1)?),
                ));
            }
        }
        Ok(found)
    }

    /// The receipt in the ledger under `name`, if any.
    async fn ledger_receipt(
        &self,
        conn: &mut AnyConnection,
        (character, seq): Name,
    ) -> Result<Option<Receipt>, sqlx::Error> {
        let s: &Statements = &self.economy;
        let found = sqlx::query(&s.ledger_entry)
            .bind(bits(character.0))
            .bind(bits(seq))
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(&s.ledger_lines)
            .bind(bits(character.0))
            .bind(bits(seq))
            .fetch_all(&mut *conn)
            .await?;
        receipt_of(&rows).map(Some)
    }

    /// Deletes the characters' stored inventories (their stacks, progress
    /// and purchases first: they refer to the inventory's row).
    pub(super) async fn delete_inventories(
        &self,
        conn: &mut AnyConnection,
        characters: &[CharacterId],
    ) -> Result<(), sqlx::Error> {
        let tables = [
            "inventory_stacks",
            "pass_progress",
            "shop_purchases",
            "inventories",
        ];
        for table in tables {
            for chunk in characters.chunks(ROWS) {
                let sql = for_engine(
                    self.engine,
                    &format!(
                        "DELETE FROM {table} WHERE character_id IN ({})",
                        marks("?", chunk.len())
                    ),
                );
                let mut query = sqlx::query(&sql).persistent(false);
                for c in chunk {
                    query = query.bind(bits(c.0));
                }
                query.execute(&mut *conn).await?;
            }
        }
        Ok(())
    }

    /// Replaces each character's stored inventory with the one given.
    async fn write_inventories(
        &self,
        conn: &mut AnyConnection,
        inventories: &[(CharacterId, &Inventory)],
    ) -> Result<(), sqlx::Error> {
        let characters: Vec<CharacterId> = inventories.iter().map(|&(c, _)| c).collect();
        self.delete_inventories(conn, &characters).await?;
        let head = format!("INSERT INTO inventories ({INVENTORY_COLUMNS})");
        insert_all(conn, self.engine, &head, 7, inventories, |q, &(c, inv)| {
            Ok(q.bind(bits(c.0))
                .bind(bits(inv.seq))
                .bind(bits(inv.gold))
                .bind(fit::<i32, _>(inv.slots.len())?)
                .bind(bits(inv.pass.xp))
                .bind(bits(inv.pass.claimed))
                .bind(i64::from(inv.shop.day)))
        })
        .await?;
        let stacks: Vec<(CharacterId, i32, usize, &Stack)> = (inventories.iter())
            .flat_map(|&(c, inv)| {
                let bag = inv.slots.iter().enumerate().map(move |(i, s)| (c, 0, i, s));
                let worn = inv
                    .equipped
                    .iter()
                    .enumerate()
                    .map(move |(i, s)| (c, 1, i, s));
                bag.chain(worn)
                    .filter_map(|(c, w, i, s)| s.as_ref().map(|s| (c, w, i, s)))
            })
            .collect();
        let head = format!("INSERT INTO inventory_stacks ({STACK_COLUMNS})");
        insert_all(
            conn,
            self.engine,
            &head,
            9,
            &stacks,
            |q, &(c, worn, slot, s)| {
                Ok(q.bind(bits(c.0))
                    .bind(worn)
                    .bind(fit::<i32, _>(slot)?)
                    .bind(bits(s.id.minted_by.0))
                    .bind(bits(s.id.tx))
                    .bind(i64::from(s.id.n))
                    .bind(i32::from(s.def.0))
                    .bind(i64::from(s.count))
                    .bind(i32::from(s.plus)))
            },
        )
        .await?;
        let progress: Vec<(CharacterId, usize, u32)> = (inventories.iter())
            .flat_map(|&(c, inv)| {
                (inv.pass.progress.iter().enumerate()).map(move |(i, &p)| (c, i, p))
            })
            .collect();
        let head = format!("INSERT INTO pass_progress ({PROGRESS_COLUMNS})");
        insert_all(
            conn,
            self.engine,
            &head,
            3,
            &progress,
            |q, &(c, mission, p)| {
                Ok(q.bind(bits(c.0))
                    .bind(fit::<i32, _>(mission)?)
                    .bind(i64::from(p)))
            },
        )
        .await?;
        let bought: Vec<(CharacterId, usize, u16, u32)> = (inventories.iter())
            .flat_map(|&(c, inv)| {
                (inv.shop.bought.iter().enumerate()).map(move |(i, &(o, n))| (c, i, o, n))
            })
            .collect();
        let head = format!("INSERT INTO shop_purchases ({PURCHASE_COLUMNS})");
        insert_all(
            conn,
            self.engine,
            &head,
            4,
            &bought,
            |q, &(c, line, offer, n)| {
                Ok(q.bind(bits(c.0))
                    .bind(fit::<i32, _>(line)?)
                    .bind(i32::from(offer))
                    .bind(i64::from(n)))
            },
        )
        .await
    }

    /// Adds the receipts to the ledger under their names, which it does
    /// not hold.
    pub(super) async fn insert_receipts(
        &self,
        conn: &mut AnyConnection,
        receipts: &[(Name, &Receipt)],
    ) -> Result<(), sqlx::Error> {
        let head = "INSERT INTO economy_ledger (first_character, seq)";
        insert_all(conn, self.engine, head, 2, receipts, |q, &((c, seq), _)| {
            Ok(q.bind(bits(c.0)).bind(bits(seq)))
        })
        .await?;
        let lines: Vec<(Name, usize, _)> = (receipts.iter())
            .flat_map(|&(name, r)| {
                (lines_of(r).into_iter().enumerate()).map(move |(i, l)| (name, i, l))
            })
            .collect();
        let head = "INSERT INTO economy_ledger_lines \
             (first_character, seq, line, kind, def, amount, way)";
        insert_all(
            conn,
            self.engine,
            head,
            7,
            &lines,
            |q, &((c, seq), line, l)| {
                let (kind, def, amount, way) = l;
                Ok(q.bind(bits(c.0))
                    .bind(bits(seq))
                    .bind(fit::<i32, _>(line)?)
                    .bind(kind)
                    .bind(def)
                    .bind(amount)
                    .bind(way))
            },
        )
        .await
    }
}

/// `n` copies of `mark`, comma separated.
fn marks(mark: &str, n: usize) -> String {
    vec![mark; n].join(", ")
}

/// Inserts `rows` in multi-row statements of [`ROWS`] rows, `width`
/// parameters a row, each row's parameters bound by `bind`.
async fn insert_all<T>(
    conn: &mut AnyConnection,
    engine: Engine,
    head: &str,
    width: usize,
    rows: &[T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &T) -> Result<AnyQuery<'q>, sqlx::Error>,
) -> Result<(), sqlx::Error> {
    let row = format!("({})", marks("?", width));
    for chunk in rows.chunks(ROWS) {
        let sql = insert_rows(engine, head, &row, chunk.len());
        let mut query = sqlx::query(&sql).persistent(false);
        for r in chunk {
            query = bind(query, r)?;
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
