//! A run of consecutive `CommitTx` intents inside a batch's transaction,
//! decided together and written together.
//!
//! Each commit is decided in order, exactly as `MemoryStore` decides it
//! (same checks in the same order, same replies), against the stored state
//! as the run's earlier commits leave it. But the reads come first, one
//! statement per table for the whole run (which characters exist and their
//! sequence numbers; which of the run's names the ledger already holds;
//! which of the raid rewards it gives are owed), and the writes last, one
//! multi-row statement per table for the whole run (each inventory changed
//! in the run written once, as the run leaves it; every receipt; the
//! rewards given). What that bought, in `bench-economy` (5,000 players,
//! 5,500 requests a second, SQLite): one commit at a time took ~15
//! statements per transaction and acknowledged 2,858 tx/s at a 2,262 ms
//! p99; runs acknowledge all 5,500 (and 7,977 of 8,000), the store busy
//! 67-74% of the time, ack p99 77-124 ms; writing only what changed
//! (below) brought that to 53-55% busy and a 46-62 ms p99.
//!
//! The rare paths (a retried commit whose name is in the ledger) read the
//! stored inventory and receipt one by one, as before.
//!
//! An inventory is written whole the first time (its rows deleted and
//! inserted again); after that, while the store remembers what it last
//! committed of it ([`Written`](super::Written)), only the rows that differ
//! from that. That memory is used only when the stored sequence number,
//! read in the same transaction, is the remembered one's: every commit
//! writes a whole state under a new sequence number (`before + 1`, checked
//! against the stored one), so one number is one state. It is forgotten
//! before the transaction that changes it and learnt again only once that
//! has committed, so a failed transaction leaves nothing wrong in it.
//!
//! A commit's `grants` are checked, after its sequence numbers, against the
//! rewards read as owed less those the run's earlier commits gave
//! ([`Grants`], `rewards.rs`).

use super::super::placeholders::{for_engine, insert_rows};
use super::super::rewards::Grants;
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

/// A `CommitTx`'s parts, receipt and grants.
type Tx<'a> = (&'a [InventoryPart], &'a Receipt, &'a [u64]);

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
    /// The owed rewards the run may still give, and those it gave.
    grants: Grants,
}

impl Inner {
    /// Applies consecutive `CommitTx` intents: one reply per intent, in
    /// order (an intent of another change is answered `Unavailable`; the
    /// caller passes none). The inventories written are pushed to
    /// `committed`, for [`Written::learn`](super::Written::learn) once the
    /// transaction commits.
    pub(in crate::store::sql) async fn commit_run(
        &self,
        conn: &mut AnyConnection,
        intents: &[Intent],
        committed: &mut Vec<(CharacterId, Inventory)>,
    ) -> Result<Vec<Result<Reply, StoreError>>, sqlx::Error> {
        let txs: Vec<Option<Tx>> = (intents.iter())
            .map(|i| match &i.change {
                Change::CommitTx {
                    parts,
                    receipt,
                    grants,
                } => Some((parts.as_slice(), &**receipt, grants.as_slice())),
                _ => None,
            })
            .collect();
        let parts = || txs.iter().flatten().flat_map(|(parts, ..)| parts.iter());
        let mut characters: Vec<CharacterId> = parts().map(|p| p.character).collect();
        characters.sort_unstable();
        characters.dedup();
        let mut names: Vec<Name> = (txs.iter().flatten())
            .filter_map(|(parts, ..)| parts.first().map(|f| (f.character, f.after.seq)))
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut granted: Vec<(CharacterId, u64)> = (txs.iter().flatten())
            .filter_map(|(parts, _, runs)| Some((parts.first()?.character, *runs)))
            .flat_map(|(c, runs)| runs.iter().map(move |&run| (c, run)))
            .collect();
        granted.sort_unstable();
        granted.dedup();
        let stored = self.stored_seqs(conn, &characters).await?;
        let mut run = Run {
            seqs: stored.clone(),
            in_ledger: self.ledger_names(conn, &names).await?,
            written: BTreeMap::new(),
            receipts: Vec::new(),
            named: HashMap::new(),
            grants: self.grants(conn, &granted).await?,
        };
        let mut replies = Vec::with_capacity(txs.len());
        for tx in txs {
            replies.push(match tx {
                Some(tx) => self.decide(conn, &mut run, tx).await?,
                None => Err(StoreError::Unavailable),
            });
        }
        let written: Vec<(CharacterId, &Inventory)> = run.written.into_iter().collect();
        let bases: HashMap<CharacterId, Inventory> = (written.iter())
            .filter_map(|&(c, _)| Some((c, self.written.take(c, *stored.get(&c)?)?)))
            .collect();
        self.write_inventories(conn, &written, &bases).await?;
        self.insert_receipts(conn, &run.receipts).await?;
        self.mark_given(conn, &run.grants).await?;
        committed.extend(written.into_iter().map(|(c, inv)| (c, inv.clone())));
        Ok(replies)
    }

    /// One commit of the run, as `MemoryStore` decides it.
    async fn decide<'a>(
        &self,
        conn: &mut AnyConnection,
        run: &mut Run<'a>,
        (parts, receipt, grants): Tx<'a>,
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
        if !run.grants.give(first.character, grants) {
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
        for c in characters {
            self.written.forget(*c);
        }
        for table in [
            "inventory_stacks",
            "pass_progress",
            "shop_purchases",
            "inventories",
        ] {
            self.delete_rows(conn, table, characters).await?;
        }
        Ok(())
    }

    /// Deletes the characters' rows from `table`.
    async fn delete_rows(
        &self,
        conn: &mut AnyConnection,
        table: &str,
        characters: &[CharacterId],
    ) -> Result<(), sqlx::Error> {
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
        Ok(())
    }

    /// Replaces each character's stored inventory with the one given:
    /// where `bases` holds the stored one, only the rows that differ.
    async fn write_inventories(
        &self,
        conn: &mut AnyConnection,
        inventories: &[(CharacterId, &Inventory)],
        bases: &HashMap<CharacterId, Inventory>,
    ) -> Result<(), sqlx::Error> {
        // Which rows go: every stack of an inventory written whole, the
        // stacks that changed, all progress or purchases where they changed.
        let mut whole = Vec::new();
        let mut gone = Vec::new();
        let mut progress_changed = Vec::new();
        let mut bought_changed = Vec::new();
        let mut stacks = Vec::new();
        for &(c, inv) in inventories {
            let Some(base) = bases.get(&c) else {
                whole.push(c);
                progress_changed.push(c);
                bought_changed.push(c);
                stacks.extend(placed(inv).map(|(worn, slot, s)| (c, worn, slot, s)));
                continue;
            };
            for (worn, slot, was, now) in slot_pairs(base, inv) {
                if was != now {
                    if was.is_some() {
                        gone.push((c, worn, slot));
                    }
                    if let Some(s) = now {
                        stacks.push((c, worn, slot, s));
                    }
                }
            }
            if base.pass.progress != inv.pass.progress {
                progress_changed.push(c);
            }
            if base.shop.bought != inv.shop.bought {
                bought_changed.push(c);
            }
        }
        self.delete_rows(conn, "inventory_stacks", &whole).await?;
        for chunk in gone.chunks(ROWS) {
            let sql = for_engine(
                self.engine,
                &format!(
                    "DELETE FROM inventory_stacks WHERE {}",
                    vec!["(character_id = ? AND worn = ? AND slot = ?)"; chunk.len()].join(" OR ")
                ),
            );
            let mut query = sqlx::query(&sql).persistent(false);
            for &(c, worn, slot) in chunk {
                query = query.bind(bits(c.0)).bind(worn).bind(fit::<i32, _>(slot)?);
            }
            query.execute(&mut *conn).await?;
        }
        self.delete_rows(conn, "pass_progress", &progress_changed)
            .await?;
        self.delete_rows(conn, "shop_purchases", &bought_changed)
            .await?;
        // The inventory's row before the rows that refer to it.
        let head = format!("INSERT INTO inventories ({INVENTORY_COLUMNS})");
        let upsert = match self.engine {
            Engine::MySql => {
                " ON DUPLICATE KEY UPDATE seq = VALUES(seq), gold = VALUES(gold), \
                 slot_count = VALUES(slot_count), pass_xp = VALUES(pass_xp), \
                 pass_claimed = VALUES(pass_claimed), shop_day = VALUES(shop_day)"
            }
            _ => {
                " ON CONFLICT (character_id) DO UPDATE SET seq = excluded.seq, \
                 gold = excluded.gold, slot_count = excluded.slot_count, \
                 pass_xp = excluded.pass_xp, pass_claimed = excluded.pass_claimed, \
                 shop_day = excluded.shop_day"
            }
        };
        insert_all(
            conn,
            self.engine,
            (&head, upsert),
            7,
            inventories,
            |q, &(c, inv)| {
                Ok(q.bind(bits(c.0))
                    .bind(bits(inv.seq))
                    .bind(bits(inv.gold))
                    .bind(fit::<i32, _>(inv.slots.len())?)
                    .bind(bits(inv.pass.xp))
                    .bind(bits(inv.pass.claimed))
                    .bind(i64::from(inv.shop.day)))
            },
        )
        .await?;
        let head = format!("INSERT INTO inventory_stacks ({STACK_COLUMNS})");
        insert_all(
            conn,
            self.engine,
            (&head, ""),
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
        let of = |changed: &[CharacterId]| -> Vec<(CharacterId, &Inventory)> {
            (inventories.iter())
                .filter(|(c, _)| changed.contains(c))
                .copied()
                .collect()
        };
        let progress: Vec<(CharacterId, usize, u32)> = (of(&progress_changed).into_iter())
            .flat_map(|(c, inv)| {
                (inv.pass.progress.iter().enumerate()).map(move |(i, &p)| (c, i, p))
            })
            .collect();
        let head = format!("INSERT INTO pass_progress ({PROGRESS_COLUMNS})");
        insert_all(
            conn,
            self.engine,
            (&head, ""),
            3,
            &progress,
            |q, &(c, mission, p)| {
                Ok(q.bind(bits(c.0))
                    .bind(fit::<i32, _>(mission)?)
                    .bind(i64::from(p)))
            },
        )
        .await?;
        let bought: Vec<(CharacterId, usize, u16, u32)> = (of(&bought_changed).into_iter())
            .flat_map(|(c, inv)| {
                (inv.shop.bought.iter().enumerate()).map(move |(i, &(o, n))| (c, i, o, n))
            })
            .collect();
        let head = format!("INSERT INTO shop_purchases ({PURCHASE_COLUMNS})");
        insert_all(
            conn,
            self.engine,
            (&head, ""),
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
        insert_all(
            conn,
            self.engine,
            (head, ""),
            2,
            receipts,
            |q, &((c, seq), _)| Ok(q.bind(bits(c.0)).bind(bits(seq))),
        )
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
            (head, ""),
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

/// Every stack of `inv` where it lies: (worn, slot, stack).
fn placed(inv: &Inventory) -> impl Iterator<Item = (i32, usize, &Stack)> {
    let bag = inv.slots.iter().enumerate().map(|(i, s)| (0, i, s));
    let worn = inv.equipped.iter().enumerate().map(|(i, s)| (1, i, s));
    bag.chain(worn)
        .filter_map(|(w, i, s)| s.as_ref().map(|s| (w, i, s)))
}

/// Every place either inventory has (a bag may have grown or shrunk):
/// (worn, slot, what `was` holds there, what `now` holds).
fn slot_pairs<'a>(
    was: &'a Inventory,
    now: &'a Inventory,
) -> impl Iterator<Item = (i32, usize, Option<&'a Stack>, Option<&'a Stack>)> {
    let at = |v: &'a [Option<Stack>], i: usize| v.get(i).and_then(Option::as_ref);
    let bag = (0..was.slots.len().max(now.slots.len()))
        .map(move |i| (0, i, at(&was.slots, i), at(&now.slots, i)));
    let worn = (0..was.equipped.len().max(now.equipped.len()))
        .map(move |i| (1, i, at(&was.equipped, i), at(&now.equipped, i)));
    bag.chain(worn)
}

/// Inserts `rows` in multi-row statements of [`ROWS`] rows, `width`
/// parameters a row, each row's parameters bound by `bind`; `head` is the
/// statement before `VALUES` and what follows the rows.
async fn insert_all<T>(
    conn: &mut AnyConnection,
    engine: Engine,
    (head, tail): (&str, &str),
    width: usize,
    rows: &[T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &T) -> Result<AnyQuery<'q>, sqlx::Error>,
) -> Result<(), sqlx::Error> {
    let row = format!("({})", marks("?", width));
    for chunk in rows.chunks(ROWS) {
        let sql = insert_rows(engine, head, &row, chunk.len()) + tail;
        let mut query = sqlx::query(&sql).persistent(false);
        for r in chunk {
            query = bind(query, r)?;
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
