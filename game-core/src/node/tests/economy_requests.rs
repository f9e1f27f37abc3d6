//! Players' economy requests through the node: answered once the store has
//! the change, refused with a reason otherwise, never applied twice.

use super::*;
use crate::protocol::{Cause, EconomyRefusal, EnhanceOutcome, TradeEnd};

pub(super) fn character_of(h: &Harness, conn: ConnId) -> CharacterId {
    let player = h.node.session(conn).unwrap().player().unwrap();
    h.node.player(player).unwrap().character.unwrap()
}

pub(super) fn econ(h: &mut Harness, conn: ConnId, m: ClientEconomy) {
    h.send(conn, &[ClientMsg::Economy(m)]);
}

/// The economy messages `conn` got since the last look.
pub(super) fn heard(h: &mut Harness, conn: ConnId) -> Vec<ServerEconomy> {
    h.take(conn)
        .into_iter()
        .filter_map(|m| match m {
            ServerMsg::Economy(e) => Some(e),
            _ => None,
        })
        .collect()
}

pub(super) fn refused(h: &mut Harness, conn: ConnId) -> Vec<(u32, EconomyRefusal)> {
    heard(h, conn)
        .into_iter()
        .filter_map(|m| match m {
            ServerEconomy::Refused { req, reason } => Some((req, reason)),
            _ => None,
        })
        .collect()
}

pub(super) fn item(h: &Harness, name: &str) -> crate::content::ItemDefId {
    h.node.world().content().item_named(name).unwrap().id
}

fn offer_of(h: &Harness, name: &str) -> u16 {
    let def = item(h, name);
    let shop = &h.node.world().content().shop;
    shop.iter()
        .position(|o| o.item == def && o.count == 1)
        .unwrap() as u16
}

#[test]
fn entering_the_world_shows_the_inventory_catalogue_and_pass() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let _ = ada;
    let (conn, _, _) = h.login(2, "bo");
    h.play(conn, "bo");
    let got = heard(&mut h, conn);
    assert!(matches!(
        &got[..],
        [
            ServerEconomy::Inventory(i),
            ServerEconomy::Catalogue(c),
            ServerEconomy::Pass(p),
        ] if i.seq == 0 && i.slots.len() == INVENTORY_SLOTS && c.offers.len() == h.node.world().content().shop.len()
            && c.steps.len() == 15 && p.levels.len() == 10 && p.progress.xp == 0
    ));
}

#[test]
fn a_purchase_is_answered_once_the_store_has_it_and_refused_without_gold() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let c = character_of(&h, ada);
    h.take(ada);
    let sword = offer_of(&h, "rusty_sword");
    econ(
        &mut h,
        ada,
        ClientEconomy::Buy {
            req: 1,
            offer: sword,
        },
    );
    assert_eq!(refused(&mut h, ada), [(1, EconomyRefusal::NotEnoughGold)]);
    h.node.grant(h.now, "ada-char", "gold", 100).unwrap();
    h.drain();
    h.take(ada);
    h.hold_outcomes = true;
    econ(
        &mut h,
        ada,
        ClientEconomy::Buy {
            req: 2,
            offer: sword,
        },
    );
    // A second request while the first is on its way: busy.
    econ(&mut h, ada, ClientEconomy::Sort { req: 3 });
    assert_eq!(refused(&mut h, ada), [(3, EconomyRefusal::Busy)]);
    assert_eq!(
        h.node.inventory(c).unwrap().gold,
        100,
        "not before the store"
    );
    h.hold_outcomes = false;
    for outcome in std::mem::take(&mut h.held) {
        h.node.handle_store_outcome(h.now, outcome);
    }
    h.drain();
    let got = heard(&mut h, ada);
    let [ServerEconomy::Changed {
        req: 2,
        cause: Cause::Request,
        gold: 70,
        slots,
        ..
    }] = &got[..]
    else {
        panic!("{got:?}");
    };
    assert_eq!(slots.len(), 1, "only the slot that changed");
    assert_eq!(slots[0].1.unwrap().def, item(&h, "rusty_sword"));
    // The same number again, or an older one: never applied.
    econ(
        &mut h,
        ada,
        ClientEconomy::Buy {
            req: 2,
            offer: sword,
        },
    );
    econ(
        &mut h,
        ada,
        ClientEconomy::Buy {
            req: 1,
            offer: sword,
        },
    );
    assert_eq!(
        refused(&mut h, ada),
        [(2, EconomyRefusal::Replayed), (1, EconomyRefusal::Replayed)]
    );
    assert_eq!(h.node.inventory(c).unwrap().gold, 70);
    econ(&mut h, ada, ClientEconomy::Buy { req: 9, offer: 999 });
    assert_eq!(refused(&mut h, ada), [(9, EconomyRefusal::NoSuchOffer)]);
}

#[test]
fn a_daily_limit_sells_out_and_selling_pays_the_sell_price() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let c = character_of(&h, ada);
    h.node.grant(h.now, "ada-char", "gold", 10_000).unwrap();
    h.drain();
    h.take(ada);
    let shop = h.node.world().content().shop.clone();
    let (limited, o) = shop
        .iter()
        .enumerate()
        .find(|(_, o)| o.daily_limit > 0)
        .unwrap();
    for req in 1..=o.daily_limit {
        econ(
            &mut h,
            ada,
            ClientEconomy::Buy {
                req,
                offer: limited as u16,
            },
        );
    }
    assert!(refused(&mut h, ada).is_empty());
    let req = o.daily_limit + 1;
    econ(
        &mut h,
        ada,
        ClientEconomy::Buy {
            req,
            offer: limited as u16,
        },
    );
    assert_eq!(refused(&mut h, ada), [(req, EconomyRefusal::SoldOut)]);
    // The next day (the wall clock moved on), the limit starts again.
    h.node.set_wall_clock(86_400_000);
    h.take(ada);
    econ(
        &mut h,
        ada,
        ClientEconomy::Buy {
            req: req + 1,
            offer: limited as u16,
        },
    );
    assert!(refused(&mut h, ada).is_empty());
    let inv = h.node.inventory(c).unwrap().clone();
    let (slot, stack) = inv
        .slots
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.map(|s| (i, s)))
        .unwrap();
    let unit = h.node.world().content().item(stack.def).unwrap().sell_price;
    econ(
        &mut h,
        ada,
        ClientEconomy::Sell {
            req: req + 2,
            slot: slot as u16,
            count: 2,
        },
    );
    assert_eq!(h.node.inventory(c).unwrap().gold, inv.gold + 2 * unit);
    econ(
        &mut h,
        ada,
        ClientEconomy::Sell {
            req: req + 3,
            slot: slot as u16,
            count: u32::MAX,
        },
    );
    assert_eq!(refused(&mut h, ada), [(req + 3, EconomyRefusal::BadCount)]);
}

#[test]
fn equipping_changes_the_stats_combat_uses() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let c = character_of(&h, ada);
    h.node.grant(h.now, "ada-char", "iron_sword", 1).unwrap();
    h.drain();
    let player = h.node.session(ada).unwrap().player().unwrap();
    let at = h.node.player(player).unwrap().location.unwrap();
    let power = |h: &Harness| {
        h.node
            .world()
            .zone(at.zone)
            .unwrap()
            .fighter_of(at.entity)
            .unwrap()
            .power
    };
    let bare = power(&h);
    let slot = h
        .node
        .inventory(c)
        .unwrap()
        .slots
        .iter()
        .position(Option::is_some)
        .unwrap();
    econ(
        &mut h,
        ada,
        ClientEconomy::Equip {
            req: 1,
            from: slot as u16,
        },
    );
    let sword = h
        .node
        .world()
        .content()
        .item_named("iron_sword")
        .unwrap()
        .stats
        .power;
    assert_eq!(power(&h), bare + sword);
    econ(
        &mut h,
        ada,
        ClientEconomy::Unequip {
            req: 2,
            slot: crate::content::EquipSlot::Weapon,
            to: slot as u16,
        },
    );
    assert_eq!(power(&h), bare);
}

#[test]
fn an_enhancement_is_shown_only_once_stored_and_pays_its_cost() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let c = character_of(&h, ada);
    h.node.grant(h.now, "ada-char", "gold", 1_000).unwrap();
    h.drain();
    h.node.grant(h.now, "ada-char", "rusty_sword", 1).unwrap();
    h.drain();
    let slot = |h: &Harness| {
        h.node
            .inventory(c)
            .unwrap()
            .slots
            .iter()
            .position(|s| s.is_some_and(|s| s.count == 1))
            .unwrap() as u16
    };
    let sword = slot(&h);
    h.take(ada);
    econ(
        &mut h,
        ada,
        ClientEconomy::Enhance {
            req: 1,
            slot: sword,
        },
    );
    assert_eq!(refused(&mut h, ada), [(1, EconomyRefusal::NoStones)]);
    h.node
        .grant(h.now, "ada-char", "enhancement_stone", 5)
        .unwrap();
    h.drain();
    h.take(ada);
    h.hold_outcomes = true;
    econ(
        &mut h,
        ada,
        ClientEconomy::Enhance {
            req: 2,
            slot: sword,
        },
    );
    assert!(
        heard(&mut h, ada).is_empty(),
        "nothing shown before the store has it"
    );
    h.hold_outcomes = false;
    for outcome in std::mem::take(&mut h.held) {
        h.node.handle_store_outcome(h.now, outcome);
    }
    h.drain();
    let got = heard(&mut h, ada);
    let [ServerEconomy::Changed {
        req: 2,
        enhanced: Some(outcome),
        gold,
        ..
    }] = &got[..]
    else {
        panic!("{got:?}");
    };
    let step = h.node.world().content().enhance.steps[0];
    assert_eq!(*gold, 1_000 - step.cost_gold);
    let plus = h.node.inventory(c).unwrap().slots[sword as usize]
        .unwrap()
        .plus;
    match outcome {
        EnhanceOutcome::Success => assert_eq!(plus, 1),
        EnhanceOutcome::Fail => assert_eq!(plus, 0),
        other => panic!("step 1 cannot {other:?}"),
    }
}

#[test]
fn missions_earn_pass_levels_whose_rewards_are_claimed_once() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let c = character_of(&h, ada);
    let pass = h.node.world().content().pass.clone();
    let smith = pass
        .missions
        .iter()
        .position(|m| m.kind == crate::content::MissionKind::Enhance)
        .unwrap();
    h.node.grant(h.now, "ada-char", "gold", 100_000).unwrap();
    h.drain();
    h.node
        .grant(h.now, "ada-char", "enhancement_stone", 90)
        .unwrap();
    h.drain();
    h.node.grant(h.now, "ada-char", "rusty_sword", 1).unwrap();
    h.drain();
    let sword = h
        .node
        .inventory(c)
        .unwrap()
        .slots
        .iter()
        .position(|s| s.is_some_and(|s| s.count == 1))
        .unwrap() as u16;
    let goal = pass.missions[smith].goal;
    for req in 1..=goal * 2 {
        if h.node.inventory(c).unwrap().slots[sword as usize].is_none_or(|s| s.plus >= 9) {
            break;
        }
        econ(&mut h, ada, ClientEconomy::Enhance { req, slot: sword });
    }
    let inv = h.node.inventory(c).unwrap().clone();
    assert!(inv.pass.xp >= pass.missions[smith].xp, "{:?}", inv.pass);
    h.take(ada);
    let level = pass.level_for(inv.pass.xp);
    assert!(level >= 1);
    econ(&mut h, ada, ClientEconomy::Claim { req: 100, level: 1 });
    econ(&mut h, ada, ClientEconomy::Claim { req: 101, level: 1 });
    econ(
        &mut h,
        ada,
        ClientEconomy::Claim {
            req: 102,
            level: 10,
        },
    );
    assert_eq!(
        refused(&mut h, ada),
        [
            (101, EconomyRefusal::AlreadyClaimed),
            (102, EconomyRefusal::NotReached)
        ]
    );
    assert!(h.node.inventory(c).unwrap().pass.is_claimed(1));
    let minted: Vec<_> = h
        .store
        .ledger()
        .flat_map(|(_, r)| r.minted.clone())
        .filter(|m| m.2 == crate::economy::Source::PassReward)
        .collect();
    assert_eq!(minted.len(), 1, "{minted:?}");
}

#[test]
fn a_trade_swaps_both_sides_at_once_and_any_change_clears_the_confirmations() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let (bo, _) = h.enter(2, "bo");
    let (a, b) = (character_of(&h, ada), character_of(&h, bo));
    h.node.grant(h.now, "ada-char", "iron_sword", 1).unwrap();
    h.drain();
    h.node.grant(h.now, "bo-char", "gold", 500).unwrap();
    h.drain();
    h.take(ada);
    h.take(bo);
    econ(
        &mut h,
        ada,
        ClientEconomy::TradeRequest {
            req: 1,
            name: "ada-char".into(),
        },
    );
    assert_eq!(refused(&mut h, ada), [(1, EconomyRefusal::Yourself)]);
    econ(
        &mut h,
        ada,
        ClientEconomy::TradeRequest {
            req: 2,
            name: "bo-char".into(),
        },
    );
    assert!(
        matches!(&heard(&mut h, bo)[..], [ServerEconomy::TradeRequested { from, .. }] if from.character == a)
    );
    econ(
        &mut h,
        bo,
        ClientEconomy::TradeAnswer {
            req: 1,
            from: a,
            accept: true,
        },
    );
    let sword = h
        .node
        .inventory(a)
        .unwrap()
        .slots
        .iter()
        .position(Option::is_some)
        .unwrap() as u16;
    econ(
        &mut h,
        ada,
        ClientEconomy::TradeOffer {
            req: 3,
            items: vec![(sword, 1)],
            gold: 0,
        },
    );
    econ(
        &mut h,
        bo,
        ClientEconomy::TradeOffer {
            req: 2,
            items: vec![],
            gold: 300,
        },
    );
    let version = |h: &mut Harness, conn| {
        heard(h, conn)
            .into_iter()
            .filter_map(|m| match m {
                ServerEconomy::Trade(t) => Some(t),
                _ => None,
            })
            .next_back()
            .unwrap()
    };
    let v = version(&mut h, ada);
    assert_eq!(v.theirs.gold, 300);
    assert_eq!(v.mine.items.len(), 1);
    h.take(bo);
    econ(
        &mut h,
        ada,
        ClientEconomy::TradeConfirm {
            req: 4,
            version: v.version,
        },
    );
    // Bo changes its offer: Ada's confirmation is void, and an old version
    // cannot be confirmed.
    econ(
        &mut h,
        bo,
        ClientEconomy::TradeOffer {
            req: 3,
            items: vec![],
            gold: 200,
        },
    );
    econ(
        &mut h,
        bo,
        ClientEconomy::TradeConfirm {
            req: 4,
            version: v.version,
        },
    );
    assert_eq!(refused(&mut h, bo), [(4, EconomyRefusal::TradeChanged)]);
    let v2 = version(&mut h, ada);
    assert_eq!(v2.confirmed, (false, false));
    assert_eq!(h.node.inventory(b).unwrap().gold, 500, "nothing moved yet");
    econ(
        &mut h,
        ada,
        ClientEconomy::TradeConfirm {
            req: 5,
            version: v2.version,
        },
    );
    econ(
        &mut h,
        bo,
        ClientEconomy::TradeConfirm {
            req: 5,
            version: v2.version,
        },
    );
    let (ia, ib) = (h.node.inventory(a).unwrap(), h.node.inventory(b).unwrap());
    assert_eq!((ia.gold, ib.gold), (200, 300));
    let iron = item(&h, "iron_sword");
    assert_eq!((ia.count_of(iron), ib.count_of(iron)), (0, 1));
    for conn in [ada, bo] {
        let got = heard(&mut h, conn);
        assert!(got.iter().any(|m| matches!(
            m,
            ServerEconomy::Changed {
                cause: Cause::Trade,
                ..
            }
        )));
        assert!(got.iter().any(|m| matches!(
            m,
            ServerEconomy::TradeClosed {
                end: TradeEnd::Done
            }
        )));
    }
    assert_eq!(h.node.trades_open(), 0);
    // One transaction, two parts, in the ledger.
    assert_eq!(h.node.stats().trades_done, 1);
}

#[test]
fn a_trade_ends_when_a_side_leaves_and_nothing_moves() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let (bo, _) = h.enter(2, "bo");
    let a = character_of(&h, ada);
    h.node.grant(h.now, "ada-char", "gold", 50).unwrap();
    h.drain();
    econ(
        &mut h,
        ada,
        ClientEconomy::TradeRequest {
            req: 1,
            name: "bo-char".into(),
        },
    );
    econ(
        &mut h,
        bo,
        ClientEconomy::TradeAnswer {
            req: 1,
            from: a,
            accept: true,
        },
    );
    econ(
        &mut h,
        ada,
        ClientEconomy::TradeOffer {
            req: 2,
            items: vec![],
            gold: 50,
        },
    );
    econ(
        &mut h,
        ada,
        ClientEconomy::TradeOffer {
            req: 3,
            items: vec![],
            gold: 51,
        },
    );
    assert_eq!(refused(&mut h, ada), [(3, EconomyRefusal::NotEnoughGold)]);
    h.take(bo);
    h.send(bo, &[ClientMsg::Session(ClientSession::Goodbye)]);
    assert!(heard(&mut h, ada).iter().any(|m| matches!(
        m,
        ServerEconomy::TradeClosed {
            end: TradeEnd::Left
        }
    )));
    assert_eq!(h.node.trades_open(), 0);
    assert_eq!(h.node.inventory(a).unwrap().gold, 50);
}

#[test]
fn a_client_taking_over_numbers_its_requests_above_the_last_one_served() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    econ(&mut h, ada, ClientEconomy::Sort { req: 41 });
    // A new connection logs in as the same account: the character is still
    // in the world, and its views come with the last number served.
    let again = h.connect(2);
    h.send(again, &[super::hello(), super::login("ada")]);
    let got = heard(&mut h, again);
    let last = got.iter().find_map(|m| match m {
        ServerEconomy::Inventory(i) => Some(i.last_req),
        _ => None,
    });
    assert_eq!(last, Some(41), "{got:?}");
    econ(&mut h, again, ClientEconomy::Sort { req: 41 });
    econ(&mut h, again, ClientEconomy::Sort { req: 42 });
    assert_eq!(refused(&mut h, again), [(41, EconomyRefusal::Replayed)]);
}
