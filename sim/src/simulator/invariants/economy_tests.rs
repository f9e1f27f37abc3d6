//! The economy checks catch what they are for: each is fed a store, a
//! client's view or a transaction that breaks one rule, beside the same
//! done right.

use super::economy::{books, duplicate_ids, view_differs, EconomyChecker, TxAudit};
use game_core::content::ItemDefId;
use game_core::economy::{Inventory, ItemId, Receipt, Source, Stack};
use game_core::ids::{CharacterId, ConnId, IntentId};
use game_core::math::Vec2;
use game_core::node::INVENTORY_SLOTS;
use game_core::persist::{
    AccountRef, Change, CharacterState, Intent, InventoryPart, MemoryStore, Place, Reply,
};
use game_core::protocol::InventoryView;
use game_core::time::Instant;

const T0: Instant = Instant::ZERO;
const CONN: Option<ConnId> = Some(ConnId(7));

/// A store with two characters, ann's and bob's.
fn store() -> (MemoryStore, CharacterId, CharacterId) {
    let mut s = MemoryStore::default();
    let mut ids = Vec::new();
    for (i, name) in ["ann", "bob"].into_iter().enumerate() {
        let open = s.apply(&Intent {
            id: IntentId(1 + i as u64),
            change: Change::OpenAccount {
                account: AccountRef::Dev(name.into()),
            },
        });
        let Ok(Reply::Account { account, .. }) = open.result else {
            panic!("{open:?}")
        };
        let made = s.apply(&Intent {
            id: IntentId(10 + i as u64),
            change: Change::CreateCharacter {
                account,
                name: name.into(),
                state: CharacterState {
                    place: Place {
                        map: "meadow".into(),
                        channel: 1,
                        pos: Vec2::from_ints(1, 1),
                    },
                    level: 1,
                    experience: 0,
                },
                max_characters: 4,
            },
        });
        let Ok(Reply::Characters(list)) = made.result else {
            panic!("{made:?}")
        };
        ids.push(list[0].id);
    }
    (s, ids[0], ids[1])
}

fn stack(owner: CharacterId, tx: u64, count: u32) -> Stack {
    Stack {
        id: ItemId {
            minted_by: owner,
            tx,
            n: 1,
        },
        def: ItemDefId(3),
        count,
        plus: 0,
    }
}

/// `c`'s inventory at `seq` with `gold` and `items` in its first slots.
fn inv(seq: u64, gold: u64, items: &[Stack]) -> Inventory {
    let mut i = Inventory::new(INVENTORY_SLOTS);
    i.seq = seq;
    i.gold = gold;
    for (n, s) in items.iter().enumerate() {
        i.slots[n] = Some(*s);
    }
    i
}

fn commit_intent(id: u64, parts: Vec<(CharacterId, Inventory)>, receipt: Receipt) -> Intent {
    Intent {
        id: IntentId(id),
        change: Change::CommitTx {
            parts: parts
                .into_iter()
                .map(|(character, after)| InventoryPart {
                    character,
                    before: after.seq - 1,
                    after,
                })
                .collect(),
            receipt: Box::new(receipt),
            grants: Vec::new(),
        },
    }
}

fn minted(n: u64, gold: u64) -> Receipt {
    Receipt {
        minted: vec![(ItemDefId(3), n, Source::Grant)],
        gold_in: vec![(gold, Source::Grant)],
        ..Receipt::default()
    }
}

fn view(i: &Inventory) -> InventoryView {
    InventoryView {
        seq: i.seq,
        gold: i.gold,
        slots: i.slots.clone(),
        equipped: i.equipped.to_vec(),
        bought_today: Vec::new(),
        last_req: 0,
    }
}

#[test]
fn an_item_held_in_two_places_is_caught() {
    let (mut s, ann, bob) = store();
    let sword = stack(ann, 1, 1);
    let grant = commit_intent(100, vec![(ann, inv(1, 0, &[sword]))], minted(1, 0));
    assert!(s.apply(&grant).result.is_ok());
    assert!(duplicate_ids(s.inventories(), "the store").is_empty());
    assert!(books(&s).is_empty());
    // Bob holds the very same item (a trade that gave without taking).
    let copy = commit_intent(101, vec![(bob, inv(1, 0, &[sword]))], minted(1, 0));
    assert!(s.apply(&copy).result.is_ok());
    let f = duplicate_ids(s.inventories(), "the store");
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("held 2 times"), "{f:?}");
}

#[test]
fn books_that_do_not_balance_are_caught() {
    let (mut s, ann, _) = store();
    let grant = commit_intent(
        100,
        vec![(ann, inv(1, 10, &[stack(ann, 1, 5)]))],
        minted(5, 10),
    );
    assert!(s.apply(&grant).result.is_ok());
    assert!(books(&s).is_empty(), "{:?}", books(&s));
    // Gold and an item from nowhere: the receipt names no source.
    let more = inv(2, 25, &[stack(ann, 1, 5), stack(ann, 2, 1)]);
    let from_nowhere = commit_intent(101, vec![(ann, more)], Receipt::default());
    assert!(s.apply(&from_nowhere).result.is_ok());
    let f = books(&s);
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(
        f[0].contains("gold: 25 held, the ledger accounts for 10"),
        "{f:?}"
    );
    assert!(f[1].contains("item kind 3: 6 held"), "{f:?}");
}

#[test]
fn a_client_shown_what_the_store_does_not_have_is_caught() {
    let (mut s, ann, _) = store();
    let at1 = inv(1, 10, &[stack(ann, 1, 5)]);
    assert!(s
        .apply(&commit_intent(100, vec![(ann, at1.clone())], minted(5, 10)))
        .result
        .is_ok());
    let mut c = EconomyChecker::default();
    let mut f = Vec::new();
    c.shown(ann, CONN, 1, true, &view(&at1), &s, &mut f);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(c.counts.shown_compared, 1);
    // Number 2 shown while the store still holds 1: acknowledged before
    // it was committed.
    let at2 = inv(2, 3, &[stack(ann, 1, 5)]);
    c.shown(ann, CONN, 2, true, &view(&at2), &s, &mut f);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("shown before stored"), "{f:?}");
    // The store's number with other gold; and an older change after it.
    f.clear();
    let wrong = inv(1, 11, &[stack(ann, 1, 5)]);
    c.shown(ann, CONN, 1, true, &view(&wrong), &s, &mut f);
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f[0].contains("11 gold"), "{f:?}");
    assert!(f[1].contains("numbered 1 after 2"), "{f:?}");
    // A full inventory resent on a new connection may repeat a number.
    f.clear();
    c.shown(ann, Some(ConnId(8)), 1, false, &view(&at1), &s, &mut f);
    assert!(f.is_empty(), "{f:?}");
    // At rest: other items than the store's.
    let moved = Inventory {
        slots: at1.slots.iter().rev().copied().collect(),
        ..at1.clone()
    };
    let d = view_differs(&view(&moved), s.inventory(ann)).unwrap();
    assert!(d.contains("2 slots differ"), "{d}");
    // Never stored: the empty inventory.
    assert!(view_differs(&view(&inv(0, 0, &[])), None).is_none());
}

#[test]
fn a_transaction_applied_twice_is_caught() {
    let (mut s, ann, _) = store();
    let t1 = commit_intent(100, vec![(ann, inv(1, 10, &[]))], minted(0, 10));
    let mut audit = TxAudit::default();
    for _ in 0..2 {
        // Applied, then retried: the store answers the retry without
        // applying it again.
        let before = TxAudit::before(&s, &t1).unwrap();
        let out = s.apply(&t1);
        audit.after(&s, before, &out);
    }
    assert_eq!((audit.applied, audit.replayed), (1, 1));
    assert!(audit.take_failures().is_empty());
    // A store that applied the retry all the same (its inventory moved on
    // under a name it already had).
    let before = TxAudit::before(&s, &t1).unwrap();
    let t2 = commit_intent(101, vec![(ann, inv(2, 20, &[]))], minted(0, 10));
    let out = s.apply(&t2);
    audit.after(&s, before, &out);
    let f = audit.take_failures();
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("applied twice"), "{f:?}");
    // A stale transaction is refused and changes nothing.
    let stale = commit_intent(102, vec![(ann, inv(2, 99, &[]))], minted(0, 89));
    let before = TxAudit::before(&s, &stale).unwrap();
    let out = s.apply(&stale);
    audit.after(&s, before, &out);
    assert_eq!(audit.refused, 1);
    assert!(audit.take_failures().is_empty());
}

#[test]
fn a_stored_inventory_that_goes_back_or_changes_in_place_is_caught() {
    let (mut ahead, ann, _) = store();
    let (mut behind, _, _) = store();
    for (i, g) in [10, 20].into_iter().enumerate() {
        let seq = i as u64 + 1;
        let t = commit_intent(100 + seq, vec![(ann, inv(seq, g, &[]))], minted(0, 10));
        assert!(ahead.apply(&t).result.is_ok());
    }
    let t = commit_intent(101, vec![(ann, inv(1, 10, &[]))], minted(0, 10));
    assert!(behind.apply(&t).result.is_ok());
    let mut c = EconomyChecker::default();
    let mut f = Vec::new();
    c.watch_store(&behind, T0, &mut f);
    c.watch_store(&ahead, T0, &mut f);
    assert!(f.is_empty(), "{f:?}");
    // Back to number 1: a transaction undone, or one applied again.
    c.watch_store(&behind, T0, &mut f);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("from number 2 to 1"), "{f:?}");
    // Number 1 again with other gold: changed without a new number.
    f.clear();
    let (mut other, _, _) = store();
    let t = commit_intent(101, vec![(ann, inv(1, 11, &[]))], minted(0, 11));
    assert!(other.apply(&t).result.is_ok());
    c.watch_store(&other, T0, &mut f);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("from number 1 to 1"), "{f:?}");
}
