//! Races between a trade and the items it names: one item offered in two
//! trades, sold while offered, sold while the swap is on its way, or changed
//! in the store under an open trade. Each ends with the swap refused or the
//! trade confirmed again as it is now, never with an item twice.

use super::economy_hostile::{
    ada_and_bo, confirm, offer, open_trade, refused_with, stored_count, trade_news,
};
use super::economy_requests::{character_of, econ, item, refused};
use super::*;
use crate::economy::{Receipt, Sink, Source};
use crate::node::{TxKind, TxResult};
use crate::persist::{Change, Intent, InventoryPart};
use crate::protocol::{EconomyRefusal, TradeEnd};
use EconomyRefusal::*;

#[test]
fn one_item_cannot_be_in_two_trades() {
    let (mut h, [ada, bo], [a, _]) = ada_and_bo();
    let (cy, _) = h.enter(3, "cy");
    let c = character_of(&h, cy);
    // Cy asks Ada first; then Bo does, and Ada takes Bo's.
    let ask = |req, name: &str| ClientEconomy::TradeRequest {
        req,
        name: name.into(),
    };
    econ(&mut h, cy, ask(1, "ada-char"));
    h.take(ada);
    h.take(cy);
    let b = character_of(&h, bo);
    econ(&mut h, bo, ask(1, "ada-char"));
    let take_bo = ClientEconomy::TradeAnswer {
        req: 1,
        from: b,
        accept: true,
    };
    econ(&mut h, ada, take_bo);
    assert_eq!(trade_news(&mut h, cy).1, [TradeEnd::Cancelled]);
    econ(&mut h, ada, offer(2, vec![(0, 1)], 0));
    // The sword is on Bo's table: no second trade for Ada, either way.
    let take_cy = ClientEconomy::TradeAnswer {
        req: 3,
        from: c,
        accept: true,
    };
    refused_with(&mut h, ada, take_cy, NoTrade);
    refused_with(&mut h, cy, ask(2, "ada-char"), AlreadyTrading);
    refused_with(&mut h, ada, ask(4, "cy-char"), AlreadyTrading);
    assert_eq!(h.node.trades_open(), 1);
    let _ = a;
}

#[test]
fn selling_an_offered_item_voids_the_confirmations_and_the_swap_fails() {
    let (mut h, [ada, bo], [a, b]) = ada_and_bo();
    let iron = item(&h, "iron_sword");
    open_trade(&mut h, [ada, bo], a, 1);
    econ(&mut h, ada, offer(2, vec![(0, 1)], 0));
    econ(&mut h, bo, offer(2, vec![], 50));
    let v1 = trade_news(&mut h, ada).0.unwrap();
    assert_eq!(v1.mine.items.len(), 1);
    econ(&mut h, ada, confirm(3, v1.version));
    // Sold while on the table: stored at once, and the trade changed.
    econ(
        &mut h,
        ada,
        ClientEconomy::Sell {
            req: 4,
            slot: 0,
            count: 1,
        },
    );
    assert_eq!(h.node.inventory(a).unwrap().gold, 130);
    let v2 = trade_news(&mut h, bo).0.unwrap();
    assert!(v2.version != v1.version && v2.confirmed == (false, false));
    assert!(v2.theirs.items.is_empty(), "the view shows the slot empty");
    refused_with(&mut h, bo, confirm(3, v1.version), TradeChanged);
    // Both agree to the trade as it is now: the swap names an empty slot.
    econ(&mut h, bo, confirm(4, v2.version));
    econ(&mut h, ada, confirm(5, v2.version));
    let failed = TradeEnd::Failed(NoItem);
    assert_eq!(trade_news(&mut h, bo).1, [failed]);
    assert_eq!(stored_count(&h, iron), 0, "sold once, given never");
    assert_eq!(h.store.inventory(b).unwrap().gold, 50);
    let trades = h.node.stats().economy.of(TxKind::Trade, TxResult::Refused);
    assert_eq!(trades, 1);
}

#[test]
fn a_sale_on_its_way_to_the_store_keeps_the_swap_from_starting() {
    let (mut h, [ada, bo], [a, b]) = ada_and_bo();
    let iron = item(&h, "iron_sword");
    open_trade(&mut h, [ada, bo], a, 1);
    econ(&mut h, ada, offer(2, vec![(0, 1)], 0));
    let v1 = trade_news(&mut h, bo).0.unwrap();
    econ(&mut h, ada, confirm(3, v1.version));
    h.hold_outcomes = true;
    econ(
        &mut h,
        ada,
        ClientEconomy::Sell {
            req: 4,
            slot: 0,
            count: 1,
        },
    );
    h.take(bo);
    // Bo confirms the version he saw while the sale is in flight.
    econ(&mut h, bo, confirm(5, v1.version));
    assert_eq!(trade_news(&mut h, bo).2, [Busy]);
    h.hold_outcomes = false;
    for outcome in std::mem::take(&mut h.held) {
        h.node.handle_store_outcome(h.now, outcome);
    }
    h.drain();
    refused_with(&mut h, bo, confirm(6, v1.version), TradeChanged);
    assert_eq!(stored_count(&h, iron), 0);
    assert_eq!(h.node.inventory(b).unwrap().count_of(iron), 0);
}

#[test]
fn a_swap_on_its_way_to_the_store_keeps_the_item_from_being_sold() {
    let (mut h, [ada, bo], [a, b]) = ada_and_bo();
    let iron = item(&h, "iron_sword");
    open_trade(&mut h, [ada, bo], a, 1);
    econ(&mut h, ada, offer(2, vec![(0, 1)], 0));
    let v = trade_news(&mut h, bo).0.unwrap();
    econ(&mut h, ada, confirm(3, v.version));
    h.hold_outcomes = true;
    econ(&mut h, bo, confirm(5, v.version));
    let sell = ClientEconomy::Sell {
        req: 4,
        slot: 0,
        count: 1,
    };
    h.take(ada);
    econ(&mut h, ada, sell);
    econ(&mut h, ada, offer(5, vec![], 0));
    econ(&mut h, ada, ClientEconomy::TradeCancel { req: 6 });
    assert_eq!(refused(&mut h, ada), [(4, Busy), (5, Busy), (6, Busy)]);
    h.hold_outcomes = false;
    for outcome in std::mem::take(&mut h.held) {
        h.node.handle_store_outcome(h.now, outcome);
    }
    h.drain();
    assert_eq!(trade_news(&mut h, ada).1, [TradeEnd::Done]);
    assert_eq!(h.node.inventory(b).unwrap().count_of(iron), 1);
    assert_eq!(stored_count(&h, iron), 1, "one sword, Bo's");
    refused_with(
        &mut h,
        ada,
        ClientEconomy::Sell {
            req: 7,
            slot: 0,
            count: 1,
        },
        NoItem,
    );
}

/// The store changed Ada's inventory behind the node's back (another
/// server, an operator): her iron sword is now a rusty one. The node's next
/// transaction on her conflicts and it loads what the store holds; the open
/// trade has changed, so the old version can no longer be confirmed.
#[test]
fn an_inventory_reloaded_under_a_trade_changes_the_trade() {
    let (mut h, [ada, bo], [a, b]) = ada_and_bo();
    let (iron, rusty) = (item(&h, "iron_sword"), item(&h, "rusty_sword"));
    open_trade(&mut h, [ada, bo], a, 1);
    econ(&mut h, ada, offer(2, vec![(0, 1)], 0));
    econ(&mut h, bo, offer(2, vec![], 50));
    let v = trade_news(&mut h, bo).0.unwrap();
    assert_eq!(v.theirs.items[0].def, iron);
    let held = h.store.inventory(a).unwrap().clone();
    let mut after = held.clone();
    after.seq += 1;
    let sword = after.slots[0].as_mut().unwrap();
    sword.def = rusty;
    let receipt = Receipt {
        minted: vec![(rusty, 1, Source::Grant)],
        burned: vec![(iron, 1, Sink::Deleted)],
        ..Receipt::default()
    };
    let parts = vec![InventoryPart {
        character: a,
        before: held.seq,
        after,
    }];
    let change = Change::CommitTx {
        parts,
        receipt: Box::new(receipt),
        grants: Vec::new(),
    };
    let outcome = h.store.apply(&Intent {
        id: crate::ids::IntentId(9_999),
        change,
    });
    assert!(outcome.result.is_ok());
    h.take(ada);
    let conflicts = h.node.stats().economy.of(TxKind::Grant, TxResult::Conflict);
    assert!(h.node.grant(h.now, "ada-char", "gold", 1).is_ok());
    h.drain();
    let stats = &h.node.stats().economy;
    assert_eq!(stats.of(TxKind::Grant, TxResult::Conflict), conflicts + 1);
    // Nobody asked for the grant: no refusal goes to Ada for it.
    let (view, _, refusals) = trade_news(&mut h, ada);
    assert!(refusals.is_empty(), "{refusals:?}");
    assert_eq!(h.node.inventory(a).unwrap().slots[0].unwrap().def, rusty);
    let v2 = view.expect("the trade shown again");
    assert_ne!(v2.version, v.version);
    assert_eq!(v2.mine.items[0].def, rusty);
    econ(&mut h, ada, confirm(3, v.version));
    refused_with(&mut h, bo, confirm(3, v.version), TradeChanged);
    assert_eq!(h.store.inventory(b).unwrap().count_of(rusty), 1, "his own");
    assert_eq!(h.store.inventory(b).unwrap().gold, 50);
}
