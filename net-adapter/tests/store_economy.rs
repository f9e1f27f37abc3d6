//! The economy's changes (inventories and the ledger) against every engine,
//! chosen and skipped as in `store_engines.rs` (see `common`). `MemoryStore`
//! is the reference: every batch must be answered as it answers it, and
//! every test ends with its inventories and its ledger. An inventory's
//! battle pass and shop day are part of it: they are compared too.

#[macro_use]
mod common;

use common::*;
use game_core as gc;
use net_adapter::store::Engine;

use gc::content::ItemDefId;
use gc::economy::{Inventory, ItemId, PassState, Receipt, ShopDay, Sink, Source, Stack};
use gc::ids::CharacterId;
use gc::persist::{Change, InventoryPart, Reply, StoreError};

store_tests!(
    a_new_character_has_no_inventory,
    a_commit_round_trips_stacks_in_slots_and_worn,
    a_retried_commit_answers_done_and_changes_nothing,
    a_stale_before_conflicts_and_changes_nothing,
    a_trade_applies_both_parts_or_neither,
    another_receipt_under_a_used_name_conflicts,
    an_unknown_character_or_no_part_changes_nothing,
    deleting_a_character_puts_its_inventory_in_the_ledger,
    large_inventories_receipts_and_values_round_trip,
    pass_and_shop_state_round_trips_exactly,
    pass_and_shop_state_changes_with_the_day_and_on_a_trade,
    a_refused_commit_keeps_the_stored_pass_and_shop,
    deleting_a_character_deletes_its_pass_and_shop_rows,
    another_writer_is_not_overwritten_by_what_the_store_remembers,
);

// ---------------------------------------------------------------------------
// Helpers.

fn load(character: u64) -> Change {
    Change::LoadInventory {
        character: CharacterId(character),
    }
}

fn part(character: u64, before: u64, after: Inventory) -> InventoryPart {
    InventoryPart {
        character: CharacterId(character),
        before,
        after,
    }
}

fn commit(parts: Vec<InventoryPart>, receipt: Receipt) -> Change {
    Change::CommitTx {
        parts,
        receipt: Box::new(receipt),
        grants: Vec::new(),
    }
}

fn item(minted_by: u64, tx: u64, n: u32, def: u16, count: u32, plus: u8) -> Stack {
    Stack {
        id: ItemId {
            minted_by: CharacterId(minted_by),
            tx,
            n,
        },
        def: ItemDefId(def),
        count,
        plus,
    }
}

/// An inventory of 8 slots at `seq` with `gold`.
fn at(seq: u64, gold: u64) -> Inventory {
    Inventory {
        gold,
        seq,
        ..Inventory::new(8)
    }
}

/// Potions in slot 0, a sword in slot 5, a worn helmet (+3) and ring.
fn kitted(character: u64, seq: u64, gold: u64) -> Inventory {
    let mut inv = at(seq, gold);
    inv.slots[0] = Some(item(character, 1, 0, 4, 17, 0));
    inv.slots[5] = Some(item(character, 1, 1, 9, 1, 0));
    inv.equipped[1] = Some(item(character, 1, 2, 12, 1, 3));
    inv.equipped[6] = Some(item(character, 1, 3, 13, 1, 0));
    inv
}

/// `inv` with a battle pass and a shop day: experience, claimed levels as
/// bits, each mission's progress, and (offer, count) bought on `day`.
fn with_pass(
    mut inv: Inventory,
    (xp, claimed, progress): (u64, u64, &[u32]),
    (day, bought): (u32, &[(u16, u32)]),
) -> Inventory {
    inv.pass = PassState {
        xp,
        claimed,
        progress: progress.to_vec(),
    };
    inv.shop = ShopDay {
        day,
        bought: bought.to_vec(),
    };
    inv
}

fn looted(gold: u64) -> Receipt {
    Receipt {
        minted: vec![
            (ItemDefId(4), 17, Source::Loot),
            (ItemDefId(9), 1, Source::Loot),
            (ItemDefId(12), 1, Source::Shop),
            (ItemDefId(13), 1, Source::Grant),
        ],
        gold_in: vec![(gold, Source::Loot)],
        ..Receipt::default()
    }
}

fn granted(gold: u64) -> Receipt {
    Receipt {
        gold_in: vec![(gold, Source::Grant)],
        ..Receipt::default()
    }
}

/// One development account with characters `c1`, `c2`, … `c{n}` (ids 1..=n).
async fn with_characters(twin: &mut Twin<'_>, n: usize) {
    let mut changes = vec![open_dev("ada")];
    changes.extend((1..=n).map(|i| create(1, &format!("c{i}"), 255)));
    let out = twin.changes(changes).await;
    assert!(matches!(&out[n].result, Ok(Reply::Characters(c)) if c.len() == n));
}

fn loaded(outcome: &Result<Reply, StoreError>) -> Option<&Inventory> {
    match outcome {
        Ok(Reply::Inventory { inv, .. }) => inv.as_deref(),
        other => panic!("not an inventory: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// The suite.

async fn a_new_character_has_no_inventory(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    let out = twin.changes(vec![load(1), load(2)]).await;
    assert_eq!(loaded(result(&out, 0)), None);
    assert_eq!(result(&out, 1), &Err(StoreError::NoSuchCharacter));
    twin.same_economy().await;
}

async fn a_commit_round_trips_stacks_in_slots_and_worn(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    let inv = kitted(1, 1, 250);
    let out = twin
        .changes(vec![
            commit(vec![part(1, 0, inv.clone())], looted(250)),
            load(1),
        ])
        .await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    assert_eq!(loaded(result(&out, 1)), Some(&inv));
    twin.same_economy().await;
    let next = twin.intent(load(1));
    // And after a restart, from the database alone.
    db.reopen().await;
    let out = db.store.apply_batch(&[next]).await;
    assert_eq!(loaded(result(&out, 0)), Some(&inv));
}

async fn a_retried_commit_answers_done_and_changes_nothing(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    let first = twin.intent(commit(vec![part(1, 0, kitted(1, 1, 10))], looted(10)));
    let out = twin.batch(std::slice::from_ref(&first)).await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    // A later transaction, then the first again (a late retry): Done, and
    // the later state stays.
    let later = commit(vec![part(1, 1, kitted(1, 2, 15))], granted(5));
    twin.changes(vec![later]).await;
    let out = twin.batch(&[first.clone(), first]).await;
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|o| o.result == Ok(Reply::Done)));
    let out = twin.changes(vec![load(1)]).await;
    assert_eq!(
        loaded(result(&out, 0)).map(|i| (i.seq, i.gold)),
        Some((2, 15))
    );
    twin.same_economy().await;
}

async fn a_stale_before_conflicts_and_changes_nothing(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    twin.changes(vec![commit(vec![part(1, 0, at(1, 10))], granted(10))])
        .await;
    let out = twin
        .changes(vec![
            // Decided on seq 0 again, under a new name (seq 2).
            commit(vec![part(1, 0, at(2, 99))], granted(89)),
            // Decided on a state the store never had.
            commit(vec![part(1, 5, at(6, 99))], granted(89)),
            load(1),
        ])
        .await;
    assert_eq!(result(&out, 0), &Err(StoreError::Conflict));
    assert_eq!(result(&out, 1), &Err(StoreError::Conflict));
    assert_eq!(loaded(result(&out, 2)), Some(&at(1, 10)));
    twin.same_economy().await;
}

async fn a_trade_applies_both_parts_or_neither(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 2).await;
    twin.changes(vec![
        commit(vec![part(1, 0, kitted(1, 1, 100))], looted(100)),
        commit(vec![part(2, 0, at(1, 40))], granted(40)),
    ])
    .await;
    // 1 gives its sword (slot 5) for 30 gold.
    let mut one = kitted(1, 2, 130);
    let sword = one.slots[5].take();
    let mut two = at(2, 10);
    two.slots[0] = sword;
    // Stale on the second part: neither side changes.
    let stale = commit(
        vec![part(1, 1, one.clone()), part(2, 0, two.clone())],
        Receipt::default(),
    );
    let out = twin.changes(vec![stale, load(1), load(2)]).await;
    assert_eq!(result(&out, 0), &Err(StoreError::Conflict));
    assert_eq!(loaded(result(&out, 1)), Some(&kitted(1, 1, 100)));
    assert_eq!(loaded(result(&out, 2)), Some(&at(1, 40)));
    twin.same_economy().await;
    // Current on both: both change, one ledger entry under (1, 2).
    let trade = commit(
        vec![part(1, 1, one.clone()), part(2, 1, two.clone())],
        Receipt::default(),
    );
    let out = twin.changes(vec![trade, load(1), load(2)]).await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    assert_eq!(loaded(result(&out, 1)), Some(&one));
    assert_eq!(loaded(result(&out, 2)), Some(&two));
    twin.same_economy().await;
    let ledger = db.store.ledger().await.unwrap();
    assert_eq!(ledger.len(), 3);
    assert!(ledger.iter().any(|(name, _)| *name == (CharacterId(1), 2)));
}

async fn another_receipt_under_a_used_name_conflicts(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 2).await;
    twin.changes(vec![commit(vec![part(1, 0, at(1, 10))], granted(10))])
        .await;
    let out = twin
        .changes(vec![
            // The same name (1, 1), another receipt: even with a current
            // `before` it is not the transaction that was applied.
            commit(vec![part(1, 0, at(1, 10))], granted(11)),
            commit(vec![part(1, 1, at(1, 10))], granted(11)),
            // The same name and receipt, another state after: another
            // transaction (a restarted node decided again on a state loaded
            // before the first landed), not this one again.
            commit(vec![part(1, 0, at(1, 55))], granted(10)),
            // The very same transaction again: applied before.
            commit(vec![part(1, 0, at(1, 10))], granted(10)),
            load(1),
        ])
        .await;
    assert_eq!(result(&out, 0), &Err(StoreError::Conflict));
    assert_eq!(result(&out, 1), &Err(StoreError::Conflict));
    assert_eq!(result(&out, 2), &Err(StoreError::Conflict));
    assert_eq!(result(&out, 3), &Ok(Reply::Done));
    assert_eq!(loaded(result(&out, 4)), Some(&at(1, 10)));
    twin.same_economy().await;
}

async fn an_unknown_character_or_no_part_changes_nothing(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    let out = twin
        .changes(vec![
            commit(
                vec![part(1, 0, at(1, 5)), part(9, 0, at(1, 5))],
                granted(10),
            ),
            commit(vec![part(9, 0, at(1, 5))], granted(5)),
            commit(Vec::new(), granted(5)),
            load(1),
        ])
        .await;
    assert_eq!(result(&out, 0), &Err(StoreError::NoSuchCharacter));
    assert_eq!(result(&out, 1), &Err(StoreError::NoSuchCharacter));
    assert_eq!(result(&out, 2), &Err(StoreError::Conflict));
    assert_eq!(loaded(result(&out, 3)), None);
    twin.same_economy().await;
}

async fn deleting_a_character_puts_its_inventory_in_the_ledger(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 3).await;
    twin.changes(vec![
        commit(vec![part(1, 0, kitted(1, 1, 70))], looted(70)),
        commit(vec![part(2, 0, at(1, 0))], Receipt::default()),
    ])
    .await;
    // 1 holds items and gold, 2 an empty inventory, 3 none ever stored.
    let gone = |c: u64| Change::DeleteCharacter {
        account: gc::ids::AccountId(1),
        character: CharacterId(c),
    };
    let out = twin.changes(vec![gone(1), gone(2), gone(3), load(1)]).await;
    assert!(matches!(result(&out, 2), Ok(Reply::Characters(c)) if c.is_empty()));
    assert_eq!(result(&out, 3), &Err(StoreError::NoSuchCharacter));
    twin.same_economy().await;
    let ledger = db.store.ledger().await.unwrap();
    let deleted = Receipt {
        burned: vec![
            (ItemDefId(4), 17, Sink::Deleted),
            (ItemDefId(9), 1, Sink::Deleted),
            (ItemDefId(12), 1, Sink::Deleted),
            (ItemDefId(13), 1, Sink::Deleted),
        ],
        gold_out: vec![(70, Sink::Deleted)],
        ..Receipt::default()
    };
    assert!(ledger.contains(&((CharacterId(1), 2), deleted)));
    assert!(ledger.contains(&((CharacterId(2), 2), Receipt::default())));
    assert_eq!(ledger.len(), 4);
    assert!(db.store.inventories().await.unwrap().is_empty());
}

async fn large_inventories_receipts_and_values_round_trip(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    // More stacks and receipt lines than one multi-row insert holds, and
    // u64s above 2^63 (stored as negative BIGINTs).
    let big = u64::MAX - 3;
    // A commit moves an inventory one step on from what is stored, so its
    // sequence number stays small here; ids, counts and gold go past 2^63.
    let mut inv = Inventory {
        gold: big,
        seq: 1,
        ..Inventory::new(260)
    };
    for (i, slot) in inv.slots.iter_mut().enumerate().skip(3) {
        *slot = Some(item(
            1,
            big - i as u64,
            u32::MAX - i as u32,
            7,
            u32::MAX,
            255,
        ));
    }
    inv.equipped[0] = Some(item(1, 1 << 63, 0, u16::MAX, 1, 20));
    // More progress entries and purchases than one insert holds too.
    inv.pass = PassState {
        xp: big,
        claimed: u64::MAX,
        progress: (0..250u32).map(|i| u32::MAX - i % 3).collect(),
    };
    inv.shop = ShopDay {
        day: u32::MAX,
        bought: (0..230u16)
            .map(|i| (u16::MAX - i, u32::MAX - u32::from(i)))
            .collect(),
    };
    let receipt = Receipt {
        minted: (0..150)
            .map(|i| (ItemDefId(i), big - u64::from(i), Source::PassReward))
            .collect(),
        burned: vec![
            (ItemDefId(1), 1, Sink::Enhancement),
            (ItemDefId(2), 2, Sink::Shop),
        ],
        gold_in: vec![(big, Source::Shop), (1, Source::Grant)],
        gold_out: vec![(1 << 63, Sink::Enhancement)],
    };
    let out = twin
        .changes(vec![
            commit(vec![part(1, 0, inv.clone())], receipt.clone()),
            load(1),
        ])
        .await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    assert_eq!(loaded(result(&out, 1)), Some(&inv));
    // The retry compares the whole receipt as read back.
    let out = twin
        .changes(vec![commit(vec![part(1, 0, inv)], receipt)])
        .await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    twin.same_economy().await;
}

async fn pass_and_shop_state_round_trips_exactly(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    // Bit 63 claimed (level 64: a negative BIGINT), trailing zero progress
    // (the same Vec, not a shorter one), purchases out of offer order.
    let inv = with_pass(
        kitted(1, 1, 40),
        ((1 << 63) + 17, (1 << 63) | 0b101, &[3, 0, 7, 0, 0]),
        (20_431, &[(4, 2), (0, 1), (2, u32::MAX)]),
    );
    let out = twin
        .changes(vec![
            commit(vec![part(1, 0, inv.clone())], looted(40)),
            load(1),
        ])
        .await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    let got = loaded(result(&out, 1)).expect("stored");
    assert_eq!(got, &inv);
    assert_eq!(got.pass.progress.len(), 5);
    assert!(got.pass.is_claimed(64) && got.pass.is_claimed(3) && !got.pass.is_claimed(2));
    assert_eq!(got.shop.bought_on(20_431, 2), u32::MAX);
    twin.same_economy().await;
    // And after a restart, from the database alone.
    let next = twin.intent(load(1));
    db.reopen().await;
    let out = db.store.apply_batch(&[next]).await;
    assert_eq!(loaded(result(&out, 0)), Some(&inv));
}

async fn pass_and_shop_state_changes_with_the_day_and_on_a_trade(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 2).await;
    let day_one = with_pass(
        at(1, 0),
        (120, 0b1, &[2, 5, 1]),
        (19_000, &[(1, 3), (3, 1)]),
    );
    twin.changes(vec![commit(
        vec![part(1, 0, day_one.clone())],
        Receipt::default(),
    )])
    .await;
    // The next day: the purchases start again (one offer), progress grows
    // by a mission with a trailing zero, another level is claimed.
    let day_two = with_pass(at(2, 0), (180, 0b11, &[2, 0, 1, 4, 0]), (19_001, &[(3, 1)]));
    // Then a day with no purchases at all, and progress cleared.
    let day_three = with_pass(at(3, 0), (180, 0b11, &[]), (19_002, &[]));
    let out = twin
        .changes(vec![
            commit(vec![part(1, 1, day_two.clone())], Receipt::default()),
            load(1),
            commit(vec![part(1, 2, day_three.clone())], Receipt::default()),
            load(1),
        ])
        .await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    assert_eq!(loaded(result(&out, 1)), Some(&day_two));
    assert_eq!(result(&out, 2), &Ok(Reply::Done));
    assert_eq!(loaded(result(&out, 3)), Some(&day_three));
    twin.same_economy().await;
    // A trade writes both parts' pass and shop state, each its own.
    let mine = with_pass(at(4, 5), (7, 1 << 63, &[0, 0, 9]), (19_003, &[(0, 1)]));
    let theirs = with_pass(at(1, 0), (0, 0, &[0]), (0, &[(2, 2), (2, 2)]));
    let out = twin
        .changes(vec![
            commit(
                vec![part(1, 3, mine.clone()), part(2, 0, theirs.clone())],
                granted(5),
            ),
            load(1),
            load(2),
        ])
        .await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    assert_eq!(loaded(result(&out, 1)), Some(&mine));
    assert_eq!(loaded(result(&out, 2)), Some(&theirs));
    twin.same_economy().await;
}

async fn a_refused_commit_keeps_the_stored_pass_and_shop(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    let kept = with_pass(at(1, 10), (50, 0b100, &[1, 0]), (300, &[(5, 1)]));
    twin.changes(vec![commit(vec![part(1, 0, kept.clone())], granted(10))])
        .await;
    let other = with_pass(at(1, 55), (99, u64::MAX, &[9; 4]), (301, &[]));
    let out = twin
        .changes(vec![
            // Stale: decided on a state the store never had.
            commit(vec![part(1, 4, at(5, 10))], Receipt::default()),
            // Applied before (the same transaction): Done, nothing written.
            commit(vec![part(1, 0, kept.clone())], granted(10)),
            // The same name and receipt with another pass and shop day:
            // another transaction.
            commit(vec![part(1, 0, other.clone())], granted(10)),
            // The same name with another receipt.
            commit(vec![part(1, 0, other)], granted(11)),
            load(1),
        ])
        .await;
    assert_eq!(result(&out, 0), &Err(StoreError::Conflict));
    assert_eq!(result(&out, 1), &Ok(Reply::Done));
    assert_eq!(result(&out, 2), &Err(StoreError::Conflict));
    assert_eq!(result(&out, 3), &Err(StoreError::Conflict));
    assert_eq!(loaded(result(&out, 4)), Some(&kept));
    twin.same_economy().await;
}

async fn deleting_a_character_deletes_its_pass_and_shop_rows(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 2).await;
    let one = with_pass(
        kitted(1, 1, 30),
        (9, 1 << 63, &[1, 2, 0]),
        (77, &[(0, 2), (1, 1)]),
    );
    let two = with_pass(at(1, 0), (3, 0, &[0]), (77, &[(4, 4)]));
    twin.changes(vec![
        commit(vec![part(1, 0, one)], looted(30)),
        commit(vec![part(2, 0, two.clone())], Receipt::default()),
    ])
    .await;
    // The rows referring to the inventory go before it (a foreign key would
    // fail the deletion otherwise); the other character's stay.
    let out = twin
        .changes(vec![
            Change::DeleteCharacter {
                account: gc::ids::AccountId(1),
                character: CharacterId(1),
            },
            load(2),
        ])
        .await;
    assert!(matches!(result(&out, 0), Ok(Reply::Characters(c)) if c.len() == 1));
    assert_eq!(loaded(result(&out, 1)), Some(&two));
    twin.same_economy().await;
    assert_eq!(
        db.store.inventories().await.unwrap(),
        vec![(CharacterId(2), two)]
    );
}

/// A store writes only the rows that changed since the state it remembers
/// committing; a state another store (another process) committed since,
/// under a later sequence number, must be written over whole.
async fn another_writer_is_not_overwritten_by_what_the_store_remembers(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    let out = twin
        .changes(vec![commit(vec![part(1, 0, kitted(1, 1, 10))], looted(10))])
        .await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    // The other store: a potion stack in slot 3, a bigger bag, progress.
    let other = net_adapter::store::Store::open(&db.url)
        .await
        .expect("a second store on the same database");
    let mut theirs = with_pass(kitted(1, 2, 20), (5, 0, &[1, 2]), (3, &[(0, 1)]));
    theirs.slots.resize(12, None);
    theirs.slots[3] = Some(item(1, 2, 0, 4, 3, 0));
    theirs.slots[11] = Some(item(1, 2, 1, 4, 1, 0));
    let i = twin.intent(commit(vec![part(1, 1, theirs)], granted(10)));
    let expected = twin.memory.apply(&i);
    assert_eq!(
        other.apply_batch(std::slice::from_ref(&i)).await,
        vec![expected]
    );
    other.close().await;
    // This store's next commit follows the stored state, not its memory.
    let mut ours = kitted(1, 3, 25);
    ours.slots[5] = None;
    let out = twin
        .changes(vec![
            commit(vec![part(1, 2, ours.clone())], granted(5)),
            load(1),
        ])
        .await;
    assert_eq!(result(&out, 0), &Ok(Reply::Done));
    assert_eq!(loaded(result(&out, 1)), Some(&ours));
    twin.same_economy().await;
}
