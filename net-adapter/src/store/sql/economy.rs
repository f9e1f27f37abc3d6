//! The economy's changes inside a batch's transaction: inventories and the
//! ledger, applied as `MemoryStore`'s `persist/memory/economy.rs` applies
//! them (same checks in the same order, same replies).
//!
//! An inventory is a row (`inventories`: sequence number, gold, number of
//! slots, pass experience, claimed pass levels as bits, shop day), a row per
//! stack (`inventory_stacks`: where it lies, its item id's parts, kind,
//! count and enhancement level), a row per entry of the pass's mission
//! progress (`pass_progress`, by mission index, zeros included) and a row
//! per entry of the day's shop purchases (`shop_purchases`, by position);
//! a receipt is a row in `economy_ledger` and a row per line in
//! `economy_ledger_lines`. Rows and not a serialized blob: the crash sweep
//! reads item ids and gold from the database, an operator can sum gold by
//! source with plain SQL, and what is stored does not follow the serde shape
//! of game-core's types. Progress and purchases are kept exactly as given
//! (their order and length, trailing zeros too), so a load is equal to what
//! `MemoryStore` holds. `economy/commit.rs` applies a run of commits at
//! once, and writes only the rows that changed where it can. A load also
//! answers the raid rewards the character is owed, and a commit may give
//! some (`rewards.rs`).

use super::placeholders::for_engine;
use super::{bits, text, unbits, Inner};
use crate::store::Engine;
use game_core::content::ItemDefId;
use game_core::economy::{Inventory, ItemId, Receipt, Sink, Source, Stack};
use game_core::ids::CharacterId;
use game_core::persist::{Change, Reply, StoreError};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

mod commit;
mod written;

pub(super) use written::Written;

/// Whether every engine can store the transaction: its slot indices,
/// mission indices, purchase positions and receipt line numbers fit the
/// `INTEGER` columns that hold them.
pub(super) fn intent_storable(change: &Change) -> bool {
    let fits = |n: usize| i32::try_from(n).is_ok();
    match change {
        Change::CommitTx { parts, receipt, .. } => {
            parts.iter().all(|p| {
                fits(p.after.slots.len())
                    && fits(p.after.pass.progress.len())
                    && fits(p.after.shop.bought.len())
            }) && fits(lines_len(receipt))
        }
        _ => true,
    }
}

fn lines_len(r: &Receipt) -> usize {
    r.minted.len() + r.burned.len() + r.gold_in.len() + r.gold_out.len()
}

// A new variant fails to compile in the label functions below; it must be
// added to these lists too (the test reads every one back).
const SOURCES: [Source; 5] = [
    Source::Loot,
    Source::Shop,
    Source::PassReward,
    Source::Grant,
    Source::Raid,
];
const SINKS: [Sink; 3] = [Sink::Shop, Sink::Enhancement, Sink::Deleted];

fn source_label(source: Source) -> &'static str {
    match source {
        Source::Loot => "loot",
        Source::Shop => "shop",
        Source::PassReward => "pass_reward",
        Source::Grant => "grant",
        Source::Raid => "raid",
    }
}

fn sink_label(sink: Sink) -> &'static str {
    match sink {
        Sink::Shop => "shop",
        Sink::Enhancement => "enhancement",
        Sink::Deleted => "deleted",
    }
}

fn unknown(what: &str, label: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {label:?}").into())
}

fn source_of(label: &str) -> Result<Source, sqlx::Error> {
    SOURCES
        .into_iter()
        .find(|s| source_label(*s) == label)
        .ok_or_else(|| unknown("source", label))
}

fn sink_of(label: &str) -> Result<Sink, sqlx::Error> {
    SINKS
        .into_iter()
        .find(|s| sink_label(*s) == label)
        .ok_or_else(|| unknown("sink", label))
}

/// A value that must fit a column (an index or a count).
fn fit<T: TryFrom<U>, U>(v: U) -> Result<T, sqlx::Error>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    T::try_from(v).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

fn col<T: TryFrom<i64>>(row: &AnyRow, i: usize) -> Result<T, sqlx::Error>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    T::try_from(row.try_get::<i64, _>(i)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// One receipt line as stored: kind, def (items only), amount, way.
type Line = (&'static str, Option<i32>, i64, &'static str);

fn lines_of(receipt: &Receipt) -> Vec<Line> {
    let minted = receipt.minted.iter().map(|&(def, n, source)| {
        let def = Some(i32::from(def.0));
        ("minted", def, bits(n), source_label(source))
    });
    let burned = receipt.burned.iter().map(|&(def, n, sink)| {
        let def = Some(i32::from(def.0));
        ("burned", def, bits(n), sink_label(sink))
    });
    let gold_in = (receipt.gold_in.iter())
        .map(|&(n, source)| ("gold_in", None, bits(n), source_label(source)));
    let gold_out =
        (receipt.gold_out.iter()).map(|&(n, sink)| ("gold_out", None, bits(n), sink_label(sink)));
    minted
        .chain(burned)
        .chain(gold_in)
        .chain(gold_out)
        .collect()
}

/// A receipt from its lines (`kind, def, amount, way`), in line order.
fn receipt_of(rows: &[AnyRow]) -> Result<Receipt, sqlx::Error> {
    let mut receipt = Receipt::default();
    for row in rows {
        let kind = text(row, 0)?;
        let def = || -> Result<ItemDefId, sqlx::Error> {
            let def: Option<i64> = row.try_get(1)?;
            let def = def.ok_or_else(|| unknown("item line without def", &kind))?;
            Ok(ItemDefId(fit(def)?))
        };
        let amount = unbits(row.try_get(2)?);
        let way = text(row, 3)?;
        match kind.as_str() {
            "minted" => receipt.minted.push((def()?, amount, source_of(&way)?)),
            "burned" => receipt.burned.push((def()?, amount, sink_of(&way)?)),
            "gold_in" => receipt.gold_in.push((amount, source_of(&way)?)),
            "gold_out" => receipt.gold_out.push((amount, sink_of(&way)?)),
            _ => return Err(unknown("ledger line kind", &kind)),
        }
    }
    Ok(receipt)
}

/// A stack from the columns `minted_by, tx, n, def, count, plus` from `at`.
fn stack(row: &AnyRow, at: usize) -> Result<Stack, sqlx::Error> {
    Ok(Stack {
        id: ItemId {
            minted_by: CharacterId(unbits(row.try_get(at)?)),
            tx: unbits(row.try_get(at + 1)?),
            n: col(row, at + 2)?,
        },
        def: ItemDefId(col(row, at + 3)?),
        count: col(row, at + 4)?,
        plus: col(row, at + 5)?,
    })
}

/// Puts a stack row (`character_id, worn, slot, minted_by, tx, n, def, count,
/// plus`) into its place in `inv`.
fn place(inv: &mut Inventory, row: &AnyRow) -> Result<(), sqlx::Error> {
    let worn: i64 = row.try_get(1)?;
    let slot: usize = col(row, 2)?;
    let place = if worn != 0 {
        inv.equipped.get_mut(slot)
    } else {
        inv.slots.get_mut(slot)
    };
    let place = place.ok_or_else(|| unknown("stack slot", &slot.to_string()))?;
    *place = Some(stack(row, 3)?);
    Ok(())
}

/// An inventory with no stacks, progress or purchases yet from
/// [`INVENTORY_COLUMNS`].
fn header(row: &AnyRow) -> Result<(CharacterId, Inventory), sqlx::Error> {
    let mut inv = Inventory::new(col(row, 3)?);
    inv.seq = unbits(row.try_get(1)?);
    inv.gold = unbits(row.try_get(2)?);
    inv.pass.xp = unbits(row.try_get(4)?);
    inv.pass.claimed = unbits(row.try_get(5)?);
    inv.shop.day = col(row, 6)?;
    Ok((CharacterId(unbits(row.try_get(0)?)), inv))
}

/// Appends a progress row (`character_id, mission, progress`), read in
/// mission order, to `inv`'s pass: its mission must be the next index.
fn push_progress(inv: &mut Inventory, row: &AnyRow) -> Result<(), sqlx::Error> {
    let mission: usize = col(row, 1)?;
    if mission != inv.pass.progress.len() {
        return Err(unknown("pass progress index", &mission.to_string()));
    }
    inv.pass.progress.push(col(row, 2)?);
    Ok(())
}

/// Appends a purchase row (`character_id, line, offer, count`), read in line
/// order, to `inv`'s shop day: its line must be the next position.
fn push_purchase(inv: &mut Inventory, row: &AnyRow) -> Result<(), sqlx::Error> {
    let line: usize = col(row, 1)?;
    if line != inv.shop.bought.len() {
        return Err(unknown("shop purchase line", &line.to_string()));
    }
    inv.shop.bought.push((col(row, 2)?, col(row, 3)?));
    Ok(())
}

/// The economy's statements, in the engine's placeholder syntax.
#[derive(Debug)]
pub(super) struct Statements {
    inventory: String,
    stacks: String,
    all_inventories: String,
    all_stacks: String,
    progress: String,
    all_progress: String,
    purchases: String,
    all_purchases: String,
    ledger_entry: String,
    ledger_lines: String,
    all_ledger_lines: String,
    all_ledger: String,
    delete_ledger_lines: String,
    delete_ledger: String,
}

const STACK_COLUMNS: &str = "character_id, worn, slot, minted_by, tx, n, def, count, plus";
const INVENTORY_COLUMNS: &str =
    "character_id, seq, gold, slot_count, pass_xp, pass_claimed, shop_day";
const PROGRESS_COLUMNS: &str = "character_id, mission, progress";
const PURCHASE_COLUMNS: &str = "character_id, line, offer, count";

impl Statements {
    pub(super) fn new(engine: Engine) -> Statements {
        let q = |sql: &str| for_engine(engine, sql);
        Statements {
            inventory: q(&format!(
                "SELECT {INVENTORY_COLUMNS} FROM inventories WHERE character_id = ?"
            )),
            stacks: q(&format!(
                "SELECT {STACK_COLUMNS} FROM inventory_stacks WHERE character_id = ?"
            )),
            all_inventories: q(&format!("SELECT {INVENTORY_COLUMNS} FROM inventories")),
            all_stacks: q(&format!("SELECT {STACK_COLUMNS} FROM inventory_stacks")),
            progress: q(&format!(
                "SELECT {PROGRESS_COLUMNS} FROM pass_progress WHERE character_id = ? \
                 ORDER BY mission"
            )),
            all_progress: q(&format!(
                "SELECT {PROGRESS_COLUMNS} FROM pass_progress ORDER BY character_id, mission"
            )),
            purchases: q(&format!(
                "SELECT {PURCHASE_COLUMNS} FROM shop_purchases WHERE character_id = ? \
                 ORDER BY line"
            )),
            all_purchases: q(&format!(
                "SELECT {PURCHASE_COLUMNS} FROM shop_purchases ORDER BY character_id, line"
            )),
            ledger_entry: q("SELECT seq FROM economy_ledger WHERE first_character = ? AND seq = ?"),
            ledger_lines: q("SELECT kind, def, amount, way FROM economy_ledger_lines \
                 WHERE first_character = ? AND seq = ? ORDER BY line"),
            all_ledger: q("SELECT first_character, seq FROM economy_ledger"),
            all_ledger_lines: q(
                "SELECT kind, def, amount, way, first_character, seq FROM economy_ledger_lines \
                 ORDER BY first_character, seq, line",
            ),
            delete_ledger_lines: q(
                "DELETE FROM economy_ledger_lines WHERE first_character = ? AND seq = ?",
            ),
            delete_ledger: q("DELETE FROM economy_ledger WHERE first_character = ? AND seq = ?"),
        }
    }
}

impl Inner {
    pub(super) async fn load_inventory(
        &self,
        conn: &mut AnyConnection,
        character: CharacterId,
    ) -> Result<Result<Reply, StoreError>, sqlx::Error> {
        if !self.character_exists(conn, character).await? {
            return Ok(Err(StoreError::NoSuchCharacter));
        }
        let inv = self.stored_inventory(conn, character).await?;
        Ok(Ok(Reply::Inventory {
            inv: inv.map(Box::new),
            owed: self.owed_rewards(conn, character).await?,
        }))
    }

    async fn stored_inventory(
        &self,
        conn: &mut AnyConnection,
        character: CharacterId,
    ) -> Result<Option<Inventory>, sqlx::Error> {
        let s = &self.economy;
        let Some(row) = sqlx::query(&s.inventory)
            .bind(bits(character.0))
            .fetch_optional(&mut *conn)
            .await?
        else {
            return Ok(None);
        };
        let (_, mut inv) = header(&row)?;
        for row in sqlx::query(&s.stacks)
            .bind(bits(character.0))
            .fetch_all(&mut *conn)
            .await?
        {
            place(&mut inv, &row)?;
        }
        for row in sqlx::query(&s.progress)
            .bind(bits(character.0))
            .fetch_all(&mut *conn)
            .await?
        {
            push_progress(&mut inv, &row)?;
        }
        for row in sqlx::query(&s.purchases)
            .bind(bits(character.0))
            .fetch_all(&mut *conn)
            .await?
        {
            push_purchase(&mut inv, &row)?;
        }
        Ok(Some(inv))
    }

    /// A character about to be deleted: its inventory goes, and what it
    /// held goes to the ledger as deleted under `(character, seq + 1)`, so
    /// the totals still add up.
    pub(super) async fn forget_inventory(
        &self,
        conn: &mut AnyConnection,
        character: CharacterId,
    ) -> Result<(), sqlx::Error> {
        let Some(inv) = self.stored_inventory(conn, character).await? else {
            return Ok(());
        };
        self.delete_inventories(conn, &[character]).await?;
        let receipt = Receipt::deleted(&inv);
        // Wrapping rather than a panic in the store: a u64::MAX sequence
        // number is never reached (the reference's `seq + 1` overflows).
        let seq = inv.seq.wrapping_add(1);
        // Replacing what the ledger held under the name, as `MemoryStore`'s
        // map insert does.
        for sql in [
            &self.economy.delete_ledger_lines,
            &self.economy.delete_ledger,
        ] {
            sqlx::query(sql)
                .bind(bits(character.0))
                .bind(bits(seq))
                .execute(&mut *conn)
                .await?;
        }
        self.insert_receipts(conn, &[((character, seq), &receipt)])
            .await
    }
}

impl Inner {
    /// Every stored inventory, by character.
    pub(in crate::store) async fn inventories(
        &self,
    ) -> Result<Vec<(CharacterId, Inventory)>, sqlx::Error> {
        inventories(&self.pool, &self.economy).await
    }

    /// Every ledger entry, by name.
    pub(in crate::store) async fn ledger(
        &self,
    ) -> Result<Vec<((CharacterId, u64), Receipt)>, sqlx::Error> {
        ledger(&self.pool, &self.economy).await
    }
}

/// Every stored inventory, by character.
async fn inventories(
    pool: &AnyPool,
    s: &Statements,
) -> Result<Vec<(CharacterId, Inventory)>, sqlx::Error> {
    let mut all = std::collections::BTreeMap::new();
    for row in sqlx::query(&s.all_inventories).fetch_all(pool).await? {
        let (character, inv) = header(&row)?;
        all.insert(character, inv);
    }
    for row in sqlx::query(&s.all_stacks).fetch_all(pool).await? {
        let character = CharacterId(unbits(row.try_get(0)?));
        let inv = all
            .get_mut(&character)
            .ok_or_else(|| unknown("stack of no inventory", &character.0.to_string()))?;
        place(inv, &row)?;
    }
    for row in sqlx::query(&s.all_progress).fetch_all(pool).await? {
        let character = CharacterId(unbits(row.try_get(0)?));
        let inv = all
            .get_mut(&character)
            .ok_or_else(|| unknown("pass progress of no inventory", &character.0.to_string()))?;
        push_progress(inv, &row)?;
    }
    for row in sqlx::query(&s.all_purchases).fetch_all(pool).await? {
        let character = CharacterId(unbits(row.try_get(0)?));
        let inv = all
            .get_mut(&character)
            .ok_or_else(|| unknown("shop purchase of no inventory", &character.0.to_string()))?;
        push_purchase(inv, &row)?;
    }
    Ok(all.into_iter().collect())
}

/// Every ledger entry, by name.
async fn ledger(
    pool: &AnyPool,
    s: &Statements,
) -> Result<Vec<((CharacterId, u64), Receipt)>, sqlx::Error> {
    let mut all = std::collections::BTreeMap::new();
    for row in sqlx::query(&s.all_ledger).fetch_all(pool).await? {
        let name = (
            CharacterId(unbits(row.try_get(0)?)),
            unbits(row.try_get(1)?),
        );
        all.insert(name, Vec::new());
    }
    for row in sqlx::query(&s.all_ledger_lines).fetch_all(pool).await? {
        let name = (
            CharacterId(unbits(row.try_get(4)?)),
            unbits(row.try_get(5)?),
        );
        all.get_mut(&name)
            .ok_or_else(|| unknown("ledger line of no entry", &format!("{name:?}")))?
            .push(row);
    }
    all.into_iter()
        .map(|(name, rows)| Ok((name, receipt_of(&rows)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_and_sink_reads_back_from_its_label() {
        for s in SOURCES {
            assert_eq!(source_of(source_label(s)).unwrap(), s);
        }
        for s in SINKS {
            assert_eq!(sink_of(sink_label(s)).unwrap(), s);
        }
    }
}
