//! The swindler in the lab: two swindlers racing trades among honest
//! players (see `swindler.rs`).

use super::*;
use crate::lab::{Lab, INSTANT};
use game_core::economy::Inventory;
use game_core::node::NodeConfig;
use game_core::time::{Duration, Instant};
use EconomyRefusal::*;

fn secs(s: u64) -> Instant {
    Instant::from_micros(s * 1_000_000)
}

fn grant(lab: &mut Lab, name: &str, what: &str, n: u64) {
    lab.node.grant(lab.now, name, what, n).expect("online");
    lab.pump();
}

/// Peer `i`'s inventory as the store last acknowledged it.
fn inventory(lab: &Lab, i: usize) -> Inventory {
    let player = lab.peers[i].client.player().expect("logged in");
    let c = lab.node.player(player).and_then(|p| p.character).unwrap();
    lab.node.inventory(c).expect("loaded").clone()
}

/// What peer `i` owns, at the shop's prices: gold, and every item at
/// its sell price.
fn worth(lab: &Lab, i: usize) -> u64 {
    let items = &lab.node.world().content().items;
    let inv = inventory(lab, i);
    let goods: u64 = inv
        .stacks()
        .map(|s| u64::from(s.count) * items[s.def.0 as usize].sell_price)
        .sum();
    inv.gold + goods
}

fn refusals(lab: &Lab, i: usize) -> Vec<EconomyRefusal> {
    (lab.peers[i].events.iter())
        .filter_map(|(_, e)| match e {
            ClientEvent::Economy(ServerEconomy::Refused { reason, .. }) => Some(*reason),
            _ => None,
        })
        .collect()
}

/// Two swindlers racing trades with each other among two honest
/// players for a minute: every trick is refused for its reason, the
/// swindlers end with no more than they were given (at the shop's
/// prices), the store's books balance, and the honest players' every
/// purchase and their trade went through, exactly, with no refusal.
#[test]
fn swindlers_are_refused_for_each_trick_and_honest_players_are_unharmed() {
    let mut lab = Lab::new(NodeConfig::default(), 12);
    let ada = lab.join("ada", INSTANT);
    let bob = lab.join("bob", INSTANT);
    let sly = lab.join("sly", INSTANT);
    let fox = lab.join("fox", INSTANT);
    lab.run(secs(2), Duration::from_millis(100), |_| {});
    for name in ["ada", "bob"] {
        grant(&mut lab, name, "gold", 1_000);
    }
    for name in ["sly", "fox"] {
        grant(&mut lab, name, "gold", 100);
        grant(&mut lab, name, "iron_sword", 1);
        grant(&mut lab, name, "minor_potion", 10);
    }
    lab.run(secs(3), Duration::from_millis(100), |_| {});
    let worth_before = worth(&lab, sly) + worth(&lab, fox);

    let mut swindlers = [Swindler::with_partner("fox"), Swindler::with_partner("sly")];
    let mut seen = [0, 0];
    let (mut ada_buys, mut bob_buys, mut step) = (0u64, 0u64, 0u64);
    let buy = |offer| move |req| ClientEconomy::Buy { req, offer };
    lab.run(secs(63), Duration::from_millis(100), |lab| {
        step += 1;
        for (k, &i) in [sly, fox].iter().enumerate() {
            let events = &lab.peers[i].events;
            for (_, e) in &events[seen[k]..] {
                swindlers[k].on_event(e);
            }
            seen[k] = events.len();
            swindlers[k].step(&mut lab.peers[i].client);
        }
        // Honest: Ada buys a potion every 3 s, Bob a stone every 4 s
        // (within its daily limit), but for the 5 s of their trade.
        let trading = (240..=290).contains(&step);
        if step % 30 == 0 && !trading {
            ada_buys += 1;
            lab.peers[ada].client.economy_request(buy(0));
        }
        if step % 40 == 0 && !trading {
            bob_buys += 1;
            lab.peers[bob].client.economy_request(buy(2));
        }
        // At 25 s Ada sells Bob three potions for 50 gold.
        let [a, b] = [ada, bob].map(|i| &lab.peers[i].client);
        let version = |c: &Client| c.economy().trade.as_ref().map_or(0, |t| t.version);
        let request = match step {
            250 => Some((
                ada,
                ClientEconomy::TradeRequest {
                    req: 0,
                    name: "bob".into(),
                },
            )),
            255 => b.economy().trade_requests.first().map(|from| {
                let from = from.character;
                (
                    bob,
                    ClientEconomy::TradeAnswer {
                        req: 0,
                        from,
                        accept: true,
                    },
                )
            }),
            260 => a.economy().stacks().next().map(|(slot, _)| {
                (
                    ada,
                    ClientEconomy::TradeOffer {
                        req: 0,
                        items: vec![(slot, 3)],
                        gold: 0,
                    },
                )
            }),
            265 => Some((
                bob,
                ClientEconomy::TradeOffer {
                    req: 0,
                    items: vec![],
                    gold: 50,
                },
            )),
            270 => Some((
                ada,
                ClientEconomy::TradeConfirm {
                    req: 0,
                    version: version(a),
                },
            )),
            272 => Some((
                bob,
                ClientEconomy::TradeConfirm {
                    req: 0,
                    version: version(b),
                },
            )),
            _ => None,
        };
        if let Some((i, r)) = request {
            lab.peers[i].client.economy_request(|req| with_req(r, req));
        }
    });
    lab.run(secs(65), Duration::from_millis(100), |_| {});
    for (k, &i) in [sly, fox].iter().enumerate() {
        for (_, e) in &lab.peers[i].events[seen[k]..] {
            swindlers[k].on_event(e);
        }
    }

    let mut t = SwindleTally::default();
    for s in &swindlers {
        for (trick, n) in &s.tally.sent {
            *t.sent.entry(*trick).or_default() += n;
        }
        for (key, n) in &s.tally.refusals {
            *t.refusals.entry(*key).or_default() += n;
        }
    }
    for trick in Trick::ALL {
        assert!(
            t.sent.get(&trick).copied().unwrap_or(0) > 0,
            "{trick:?} never tried"
        );
    }
    let expected = [
        ("buy", NotEnoughGold),
        ("move", NoItem),
        ("delete", NoItem),
        ("enhance", NoItem),
        ("split", BadCount),
        ("sell", BadCount),
        ("sort", Replayed),
        ("buy", NoSuchOffer),
        ("claim", NoSuchOffer),
        ("trade_request", Yourself),
        ("trade_request", NotOnline),
        ("trade_answer", NoTrade),
        ("trade_offer", TooManyItems),
        ("trade_offer", NotEnoughGold),
        ("trade_offer", BadCount),
        ("trade_confirm", TradeChanged),
    ];
    for (label, reason) in expected {
        assert!(
            t.refused_for(label, reason) > 0,
            "{label} never refused as {reason:?}: {:?}",
            t.refusals
        );
    }
    let allowed: Vec<EconomyRefusal> = (Trick::ALL.iter())
        .flat_map(|t| t.expected())
        .copied()
        .chain([Busy])
        .collect();
    for &(label, reason) in t.refusals.keys() {
        assert!(allowed.contains(&reason), "{label} refused as {reason:?}");
    }
    assert_eq!(
        t.refused(),
        lab.node.stats().economy_refused,
        "each refusal counted once"
    );

    // The swindlers: no more than they were given.
    // The race swapped, and a swap of a stack sold while offered was
    // refused whole.
    let ended = &swindlers[0].tally.trades_ended;
    assert!(ended.contains_key("done"), "{ended:?}");
    assert!(ended.contains_key("failed:no_item"), "{ended:?}");
    let worth_after = worth(&lab, sly) + worth(&lab, fox);
    assert!(
        worth_after <= worth_before,
        "{worth_after} > {worth_before}"
    );
    // The store's books: held plus burned is minted, by kind; gold.
    let store = &lab.in_process.store;
    let mut minted: BTreeMap<_, i128> = BTreeMap::new();
    let mut gold: i128 = 0;
    for (_, r) in store.ledger() {
        for &(def, n, _) in &r.minted {
            *minted.entry(def).or_default() += i128::from(n);
        }
        for &(def, n, _) in &r.burned {
            *minted.entry(def).or_default() -= i128::from(n);
        }
        gold += r.gold_in.iter().map(|g| i128::from(g.0)).sum::<i128>();
        gold -= r.gold_out.iter().map(|g| i128::from(g.0)).sum::<i128>();
    }
    for (_, inv) in store.inventories() {
        for s in inv.stacks() {
            *minted.entry(s.def).or_default() -= i128::from(s.count);
        }
        gold -= i128::from(inv.gold);
    }
    assert!(minted.values().all(|&n| n == 0), "{minted:?}");
    assert_eq!(gold, 0);

    // The honest players: every purchase and the trade, exactly.
    assert!(refusals(&lab, ada).is_empty() && refusals(&lab, bob).is_empty());
    let content = lab.node.world().content().clone();
    let (potion, stone) = (content.shop[0].item, content.shop[2].item);
    let (a, b) = (inventory(&lab, ada), inventory(&lab, bob));
    assert!(ada_buys >= 15 && bob_buys >= 10, "{ada_buys} {bob_buys}");
    assert_eq!(a.gold, 1_000 - 10 * ada_buys + 50);
    assert_eq!(a.count_of(potion), ada_buys - 3);
    assert_eq!(b.gold, 1_000 - 40 * bob_buys - 50);
    assert_eq!((b.count_of(potion), b.count_of(stone)), (3, bob_buys));
}
