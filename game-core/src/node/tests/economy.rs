//! Economy transactions through the node: decided here, effective once the
//! store has them, sent again (the same change) until it answers, applied
//! once however often it arrives.

use super::*;
use crate::persist::Change;

fn character_of(h: &Harness, conn: ConnId) -> CharacterId {
    let player = h.node.session(conn).unwrap().player().unwrap();
    h.node.player(player).unwrap().character.unwrap()
}

#[test]
fn a_grant_takes_effect_when_the_store_has_it() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let c = character_of(&h, ada);
    assert_eq!(h.node.inventory(c).unwrap().seq, 0, "a new inventory");
    h.hold_outcomes = true;
    h.node.grant(h.now, "ada-char", "gold", 50).unwrap();
    h.drain();
    assert_eq!(h.node.inventory(c).unwrap().gold, 0, "not before the store");
    assert_eq!(h.store.inventory(c).unwrap().gold, 50);
    h.hold_outcomes = false;
    for outcome in std::mem::take(&mut h.held) {
        h.node.handle_store_outcome(h.now, outcome);
    }
    assert_eq!(h.node.inventory(c).unwrap().gold, 50);
    let name = h.node.grant(h.now, "ada-char", "minor_potion", 3).unwrap();
    h.drain();
    assert_eq!(name, (c, 2));
    let potion = h
        .node
        .world()
        .content()
        .item_named("minor_potion")
        .unwrap()
        .id;
    assert_eq!(h.node.inventory(c).unwrap().count_of(potion), 3);
    assert!(h.node.grant(h.now, "ada-char", "no_such_thing", 1).is_err());
    assert!(h.node.grant(h.now, "nobody", "gold", 1).is_err());
}

#[test]
fn a_transaction_the_store_lost_the_answer_to_is_sent_again_and_applied_once() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let c = character_of(&h, ada);
    // The store applies it, but its answer is lost (the node times out).
    h.hold_outcomes = true;
    h.node.grant(h.now, "ada-char", "gold", 50).unwrap();
    h.drain();
    h.held.clear();
    h.hold_outcomes = false;
    // A second transaction waits: the inventory is busy.
    assert_eq!(
        h.node.grant(h.now, "ada-char", "gold", 1),
        Err("Busy".to_string())
    );
    let timeout = Duration::from_millis(h.node.config().store_timeout_ms as u64);
    h.advance(timeout + Duration::from_secs(2));
    // Sent again: the store knew it, answered Done, and it counts once.
    assert_eq!(h.node.stats().economy_retries, 1);
    assert_eq!(h.node.stats().economy_committed, 1);
    assert_eq!(h.node.inventory(c).unwrap().gold, 50);
    assert_eq!(h.store.inventory(c).unwrap().gold, 50);
    assert_eq!(h.store.ledger().count(), 1);
    assert_eq!(h.node.transactions_in_flight(), 0);
}

#[test]
fn a_conflict_drops_the_transaction_and_loads_what_the_store_holds() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let c = character_of(&h, ada);
    // Someone else (another server, before a restart) changed the stored
    // inventory: the node's decision no longer holds.
    let other = crate::economy::actions::solo(
        c,
        &crate::economy::Inventory::new(INVENTORY_SLOTS),
        vec![crate::economy::Op::GoldIn {
            amount: 7,
            source: crate::economy::Source::Grant,
        }],
    );
    let mut invs = [crate::economy::Inventory::new(INVENTORY_SLOTS)];
    let receipt = crate::economy::apply(&other, &mut invs, &[]).unwrap();
    let outcome = h.store.apply(&crate::persist::Intent {
        id: crate::ids::IntentId(9_999),
        change: Change::CommitTx {
            parts: vec![crate::persist::InventoryPart {
                character: c,
                before: 0,
                after: invs[0].clone(),
            }],
            receipt: Box::new(receipt),
            grants: Vec::new(),
        },
    });
    assert!(outcome.result.is_ok());
    h.take(ada);
    h.node.grant(h.now, "ada-char", "gold", 50).unwrap();
    h.drain();
    assert_eq!(h.node.stats().economy_conflicts, 1);
    // Nobody asked for the grant: no refusal names a request (req 0).
    let refusals: Vec<ServerMsg> = h
        .take(ada)
        .into_iter()
        .filter(|m| matches!(m, ServerMsg::Economy(ServerEconomy::Refused { .. })))
        .collect();
    assert!(refusals.is_empty(), "{refusals:?}");
    assert_eq!(
        h.node.inventory(c).unwrap().gold,
        7,
        "reloaded from the store"
    );
}

#[test]
fn a_kill_s_loot_is_the_killer_s_own_minted_from_loot() {
    use crate::content::{Content, LootEntry};
    let mut content = Content::sample();
    content.skills[0].power = 100_000;
    content.skills[0].range = crate::math::Fixed::from_int(30);
    let potion = content.item_named("minor_potion").unwrap().id;
    content.monsters[0].loot = vec![LootEntry {
        item: potion,
        chance_pm: 1000,
        min: 2,
        max: 2,
    }];
    content.monsters[0].gold = (5, 5);
    let (h, a) = super::world::kill_one_slime(content);
    let c = character_of(&h, a);
    let inv = h.node.inventory(c).unwrap();
    assert_eq!((inv.count_of(potion), inv.gold), (2, 5));
    assert_eq!(h.node.stats().loot_given, 1);
    let (_, receipt) = h.store.ledger().next().unwrap();
    assert_eq!(receipt.minted, [(potion, 2, crate::economy::Source::Loot)]);
    assert_eq!(receipt.gold_in, [(5, crate::economy::Source::Loot)]);
}
