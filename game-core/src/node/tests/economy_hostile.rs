//! Hostile economy requests through the node: each is refused with its typed
//! reason, counted by reason and by request kind, and never applied (the
//! store and the node hold exactly what they held). Races between a trade
//! and its items are in `economy_races.rs`.

use super::economy_requests::{character_of, econ, heard, refused};
use super::*;
use crate::economy::Inventory;
use crate::node::{TxKind, TxResult};
use crate::protocol::{EconomyRefusal, TradeEnd, TradeView};
use EconomyRefusal::*;

/// Everything the store holds of the economy, and the node's inventories of
/// the same characters.
type Books = (Vec<(CharacterId, Inventory, Option<Inventory>)>, usize);

fn books(h: &Harness) -> Books {
    let invs = h
        .store
        .inventories()
        .map(|(c, i)| (c, i.clone(), h.node.inventory(c).cloned()))
        .collect();
    (invs, h.store.ledger().count())
}

/// Sends `request` and requires exactly one refusal, for `reason`; nothing
/// changed in the store or the node; the refusal counted by reason and kind.
pub(super) fn refused_with(
    h: &mut Harness,
    conn: ConnId,
    request: ClientEconomy,
    reason: EconomyRefusal,
) {
    let before = books(h);
    let stats = h.node.stats().clone();
    let kind = TxKind::of(&request);
    h.take(conn);
    econ(h, conn, request.clone());
    assert_eq!(refused(h, conn), [(request.req(), reason)], "{request:?}");
    assert_eq!(books(h), before, "{request:?} changed something");
    let (was, now) = (&stats.economy, &h.node.stats().economy);
    assert_eq!(h.node.stats().economy_refused, stats.economy_refused + 1);
    assert_eq!(now.refused_for(reason), was.refused_for(reason) + 1);
    assert_eq!(
        now.of(kind, TxResult::Refused),
        was.of(kind, TxResult::Refused) + 1
    );
    assert_eq!(
        now.total(TxResult::Committed),
        was.total(TxResult::Committed)
    );
}

fn grant(h: &mut Harness, name: &str, what: &str, n: u64) {
    h.node.grant(h.now, name, what, n).unwrap();
    h.drain();
}

/// Ada (an iron sword in slot 0, five potions in slot 1, 100 gold) and Bo
/// (a rusty sword in slot 0, 50 gold), in the world.
pub(super) fn ada_and_bo() -> (Harness, [ConnId; 2], [CharacterId; 2]) {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let (bo, _) = h.enter(2, "bo");
    grant(&mut h, "ada-char", "iron_sword", 1);
    grant(&mut h, "ada-char", "minor_potion", 5);
    grant(&mut h, "ada-char", "gold", 100);
    grant(&mut h, "bo-char", "rusty_sword", 1);
    grant(&mut h, "bo-char", "gold", 50);
    h.take(ada);
    h.take(bo);
    let chars = [character_of(&h, ada), character_of(&h, bo)];
    (h, [ada, bo], chars)
}

/// What `conn` heard of trades since the last look: the last view, the
/// ends, and refusals.
pub(super) fn trade_news(
    h: &mut Harness,
    conn: ConnId,
) -> (Option<TradeView>, Vec<TradeEnd>, Vec<EconomyRefusal>) {
    let (mut view, mut ends, mut refusals) = (None, Vec::new(), Vec::new());
    for m in heard(h, conn) {
        match m {
            ServerEconomy::Trade(t) => view = Some(t),
            ServerEconomy::TradeClosed { end } => ends.push(end),
            ServerEconomy::Refused { reason, .. } => refusals.push(reason),
            _ => {}
        }
    }
    (view, ends, refusals)
}

/// Ada asks Bo (her request `req`, his `req`) and Bo accepts.
pub(super) fn open_trade(h: &mut Harness, [ada, bo]: [ConnId; 2], a: CharacterId, req: u32) {
    let name = "bo-char".to_string();
    econ(h, ada, ClientEconomy::TradeRequest { req, name });
    let answer = ClientEconomy::TradeAnswer {
        req,
        from: a,
        accept: true,
    };
    econ(h, bo, answer);
    assert_eq!(h.node.trades_open(), 1);
}

pub(super) fn offer(req: u32, items: Vec<(u16, u32)>, gold: u64) -> ClientEconomy {
    ClientEconomy::TradeOffer { req, items, gold }
}

pub(super) fn confirm(req: u32, version: u32) -> ClientEconomy {
    ClientEconomy::TradeConfirm { req, version }
}

/// Everyone's count of `def`, in the store.
pub(super) fn stored_count(h: &Harness, def: crate::content::ItemDefId) -> u64 {
    h.store.inventories().map(|(_, i)| i.count_of(def)).sum()
}

#[test]
fn buying_without_the_gold_is_refused_and_changes_nothing() {
    let (mut h, [ada, _], _) = ada_and_bo();
    let shop = h.node.world().content().shop.clone();
    let dear = shop.iter().position(|o| o.price > 100).unwrap() as u16;
    refused_with(
        &mut h,
        ada,
        ClientEconomy::Buy {
            req: 1,
            offer: dear,
        },
        NotEnoughGold,
    );
    refused_with(
        &mut h,
        ada,
        ClientEconomy::Buy {
            req: 2,
            offer: u16::MAX,
        },
        NoSuchOffer,
    );
    assert_eq!(h.node.stats().economy.refused_for(NotEnoughGold), 1);
}

#[test]
fn slots_out_of_range_empty_or_another_s_are_refused() {
    let (mut h, [ada, bo], [a, b]) = ada_and_bo();
    use ClientEconomy as E;
    let far = u16::MAX;
    let ring = crate::content::EquipSlot::Ring;
    let cases = [
        (
            E::Move {
                req: 1,
                from: far,
                to: 2,
            },
            NoItem,
        ),
        (
            E::Move {
                req: 2,
                from: 7,
                to: 2,
            },
            NoItem,
        ),
        (
            E::Move {
                req: 3,
                from: 0,
                to: far,
            },
            NoItem,
        ),
        (
            E::Split {
                req: 4,
                from: 1,
                to: far,
                count: 1,
            },
            NoItem,
        ),
        (
            E::Split {
                req: 5,
                from: 1,
                to: 0,
                count: 1,
            },
            SlotTaken,
        ),
        (
            E::Split {
                req: 6,
                from: 9,
                to: 8,
                count: 1,
            },
            NoItem,
        ),
        (
            E::Delete {
                req: 7,
                slot: 9,
                count: 1,
            },
            NoItem,
        ),
        (E::Equip { req: 8, from: 1 }, NotAllowed),
        (E::Equip { req: 9, from: far }, NoItem),
        (
            E::Unequip {
                req: 10,
                slot: ring,
                to: 5,
            },
            NoItem,
        ),
        (
            E::Sell {
                req: 11,
                slot: far,
                count: 1,
            },
            NoItem,
        ),
        (E::Enhance { req: 12, slot: 30 }, NoItem),
        (E::Enhance { req: 13, slot: 1 }, NotAllowed),
    ];
    for (request, reason) in cases {
        refused_with(&mut h, ada, request, reason);
    }
    // Bo's sword is in his slot 0 and Ada's slot 2 is empty: no request
    // names another's inventory, and hers has nothing there.
    assert!(h.node.inventory(b).unwrap().slots[0].is_some());
    refused_with(
        &mut h,
        ada,
        E::Delete {
            req: 14,
            slot: 2,
            count: 1,
        },
        NoItem,
    );
    refused_with(
        &mut h,
        ada,
        E::Sell {
            req: 15,
            slot: 2,
            count: 1,
        },
        NoItem,
    );
    let bo_before = h.store.inventory(b).cloned();
    open_trade(&mut h, [ada, bo], a, 16);
    refused_with(&mut h, ada, offer(17, vec![(2, 1)], 0), NoItem);
    assert_eq!(h.store.inventory(b).cloned(), bo_before);
}

#[test]
fn absurd_counts_and_amounts_are_refused() {
    let (mut h, [ada, bo], [a, _]) = ada_and_bo();
    use ClientEconomy as E;
    let max = u32::MAX;
    let cases = [
        (
            E::Split {
                req: 1,
                from: 1,
                to: 5,
                count: max,
            },
            BadCount,
        ),
        (
            E::Split {
                req: 2,
                from: 1,
                to: 5,
                count: 5,
            },
            BadCount,
        ),
        (
            E::Split {
                req: 3,
                from: 1,
                to: 5,
                count: 0,
            },
            BadCount,
        ),
        (
            E::Delete {
                req: 4,
                slot: 1,
                count: max,
            },
            BadCount,
        ),
        (
            E::Delete {
                req: 5,
                slot: 1,
                count: 0,
            },
            BadCount,
        ),
        (
            E::Sell {
                req: 6,
                slot: 1,
                count: max,
            },
            BadCount,
        ),
        (
            E::Sell {
                req: 7,
                slot: 1,
                count: 6,
            },
            BadCount,
        ),
        (E::Claim { req: 8, level: 0 }, NoSuchOffer),
        (
            E::Claim {
                req: 9,
                level: u8::MAX,
            },
            NoSuchOffer,
        ),
    ];
    for (request, reason) in cases {
        refused_with(&mut h, ada, request, reason);
    }
    open_trade(&mut h, [ada, bo], a, 10);
    let cases = [
        (offer(11, vec![(1, max)], 0), BadCount),
        (offer(12, vec![(1, 0)], 0), BadCount),
        (offer(13, vec![(1, 1), (1, 1)], 0), BadCount),
        (offer(14, vec![], u64::MAX), NotEnoughGold),
        (offer(15, vec![], 101), NotEnoughGold),
        (offer(16, (0..9).map(|s| (s, 1)).collect(), 0), TooManyItems),
    ];
    for (request, reason) in cases {
        refused_with(&mut h, ada, request, reason);
    }
    // The largest honest offer goes through.
    econ(&mut h, ada, offer(17, vec![(1, 5)], 100));
    assert!(refused(&mut h, ada).is_empty());
}

#[test]
fn replayed_and_reordered_request_numbers_are_never_applied() {
    let (mut h, [ada, _], [a, _]) = ada_and_bo();
    let potion = ClientEconomy::Buy { req: 0, offer: 0 };
    refused_with(&mut h, ada, potion, Replayed);
    econ(&mut h, ada, ClientEconomy::Buy { req: 5, offer: 0 });
    assert!(refused(&mut h, ada).is_empty());
    let gold = h.node.inventory(a).unwrap().gold;
    assert_eq!(gold, 90);
    for req in [5, 4, 1] {
        refused_with(&mut h, ada, ClientEconomy::Buy { req, offer: 0 }, Replayed);
    }
    // A client that jumps to the last number has no number left.
    econ(&mut h, ada, ClientEconomy::Sort { req: u32::MAX });
    assert!(refused(&mut h, ada).is_empty());
    refused_with(&mut h, ada, ClientEconomy::Sort { req: u32::MAX }, Replayed);
    assert_eq!(h.node.inventory(a).unwrap().gold, 90);
    let buys = h.node.stats().economy.of(TxKind::Buy, TxResult::Refused);
    assert_eq!(buys, 4);
    assert_eq!(h.node.stats().economy.refused_for(Replayed), 5);
}

#[test]
fn trading_with_oneself_or_nobody_is_refused() {
    let (mut h, [ada, _], [a, _]) = ada_and_bo();
    use ClientEconomy as E;
    let ask = |req, name: &str| E::TradeRequest {
        req,
        name: name.into(),
    };
    refused_with(&mut h, ada, ask(1, "ada-char"), Yourself);
    refused_with(&mut h, ada, ask(2, "ADA-CHAR"), Yourself);
    refused_with(&mut h, ada, ask(3, "nobody-at-all"), NotOnline);
    let answer = E::TradeAnswer {
        req: 4,
        from: a,
        accept: true,
    };
    refused_with(&mut h, ada, answer, NoTrade);
    let stranger = CharacterId(999_999);
    let answer = E::TradeAnswer {
        req: 5,
        from: stranger,
        accept: true,
    };
    refused_with(&mut h, ada, answer, NoTrade);
    refused_with(&mut h, ada, offer(6, vec![(0, 1)], 0), NoTrade);
    refused_with(&mut h, ada, confirm(7, 1), NoTrade);
    refused_with(&mut h, ada, E::TradeCancel { req: 8 }, NoTrade);
}

#[test]
fn refusals_are_counted_by_reason_and_receipts_by_source_and_sink() {
    let (mut h, [ada, _], _) = ada_and_bo();
    let s = h.node.stats().economy.clone();
    // Granted: an iron sword, five potions, 100 gold; a rusty sword, 50.
    assert_eq!(s.items_created[3], 1 + 5 + 1);
    assert_eq!(s.gold_created[3], 150);
    assert_eq!(s.of(TxKind::Grant, TxResult::Committed), 5);
    econ(&mut h, ada, ClientEconomy::Buy { req: 1, offer: 0 });
    econ(
        &mut h,
        ada,
        ClientEconomy::Sell {
            req: 2,
            slot: 1,
            count: 2,
        },
    );
    econ(
        &mut h,
        ada,
        ClientEconomy::Delete {
            req: 3,
            slot: 1,
            count: 1,
        },
    );
    econ(
        &mut h,
        ada,
        ClientEconomy::Delete {
            req: 3,
            slot: 1,
            count: 1,
        },
    );
    econ(
        &mut h,
        ada,
        ClientEconomy::Move {
            req: 4,
            from: 40,
            to: 1,
        },
    );
    let s = &h.node.stats().economy;
    assert_eq!(s.items_created, [0, 1, 0, 7, 0]);
    assert_eq!(s.items_destroyed, [2, 0, 1]);
    assert_eq!(s.gold_created, [0, 4, 0, 150, 0]);
    assert_eq!(s.gold_destroyed, [10, 0, 0]);
    assert_eq!(s.total(TxResult::Committed), 8);
    assert_eq!(s.refused_for(Replayed), 1);
    assert_eq!(s.refused_for(NoItem), 1);
    let by_reason: u64 = s.refusals.iter().sum();
    assert_eq!(by_reason, h.node.stats().economy_refused);
    assert_eq!(s.total(TxResult::Refused), 2);
}
