//! Canonical economy scenario traces: what each player is told of what it
//! owns in a small fixed scenario (fixed seed, a few seconds of virtual
//! time, the real node and client machines in `sim::lab`, the store in
//! process). Any change in how purchases, equipment, enhancement and trade
//! are answered shows up here as a readable diff.
//!
//! A trace has one line per economy message per player, short (items by
//! name, `snapshots::economy_line` for the big tables), and a line per
//! request the scenario made (`>>`), operators' grants included.
//!
//! Besides the snapshot, the test asserts the facts the scenario is about,
//! from the decoded messages, the node and the store, so it fails for the
//! right reason.

use game_core::client::Client;
use game_core::economy::Stack;
use game_core::node::NodeConfig;
use game_core::protocol::{
    Cause, ClientEconomy, EconomyRefusal, FrameDecoder, OfferView, ServerEconomy, ServerMsg,
    TradeEnd, MAX_SERVER_PAYLOAD,
};
use game_core::time::{Duration, Instant};
use sim::lab::{Lab, INSTANT};
use std::fmt::Write;

const SEED: u64 = 4;
const FRAME: Duration = Duration::from_millis(50);
const NAMES: [&str; 2] = ["ann", "bob"];
const ANN: usize = 0;
const BOB: usize = 1;

fn ms(ms: u64) -> Instant {
    Instant::from_micros(ms * 1000)
}

/// One step of the scenario: an operator's grant, or a player's request
/// made from what its client knows then (`None`: it could not be made).
enum Step {
    Grant(&'static str, &'static str, u64),
    Ask(usize, fn(&Client, u32) -> Option<ClientEconomy>),
}

/// Every economy message the node sent, decoded, in order.
fn economy_messages(lab: &Lab) -> Vec<(Instant, usize, ServerEconomy)> {
    let mut decoders: Vec<FrameDecoder> = lab
        .peers
        .iter()
        .map(|_| FrameDecoder::new(MAX_SERVER_PAYLOAD))
        .collect();
    let mut out = Vec::new();
    for (at, peer, bytes) in &lab.frames {
        let mut input = &bytes[..];
        while let Some(payload) = decoders[*peer].decode(&mut input).unwrap() {
            if let ServerMsg::Economy(e) = ServerMsg::decode(payload).unwrap() {
                out.push((*at, *peer, e));
            }
        }
    }
    out
}

fn item_name(client: &Client, s: &Stack) -> String {
    let name = client
        .economy()
        .catalogue
        .as_ref()
        .and_then(|c| c.items.get(s.def.0 as usize))
        .map_or("?", |i| i.name.as_str());
    let plus = if s.plus > 0 {
        format!("+{}", s.plus)
    } else {
        String::new()
    };
    format!("{name}{plus} x{}", s.count)
}

fn offer_line(client: &Client, o: &OfferView) -> String {
    let items: Vec<String> = o.items.iter().map(|s| item_name(client, s)).collect();
    format!("[{}] {} gold", items.join(", "), o.gold)
}

/// An economy message, short: items by name.
fn line(client: &Client, msg: &ServerEconomy) -> String {
    match msg {
        ServerEconomy::Changed {
            req,
            cause,
            seq,
            gold,
            slots,
            equipped,
            pass,
            enhanced,
        } => {
            let mut s = format!("Changed req {req} ({cause:?}) seq {seq} gold {gold}");
            for (i, stack) in slots {
                let what = stack.map_or("empty".into(), |st| item_name(client, &st));
                let _ = write!(s, "; slot {i} {what}");
            }
            for (at, stack) in equipped {
                let what = stack.map_or("nothing".into(), |st| item_name(client, &st));
                let _ = write!(s, "; wears {what} ({at:?})");
            }
            if let Some(p) = pass {
                let _ = write!(s, "; pass xp {}", p.xp);
            }
            if let Some(e) = enhanced {
                let _ = write!(s, "; enhancement {e:?}");
            }
            s
        }
        ServerEconomy::Trade(t) => format!(
            "Trade v{} with {}: mine {}, theirs {}, confirmed {:?}",
            t.version,
            t.with.name,
            offer_line(client, &t.mine),
            offer_line(client, &t.theirs),
            t.confirmed
        ),
        ServerEconomy::TradeRequested { from, .. } => format!("TradeRequested by {}", from.name),
        other => snapshots::economy_line(other),
    }
}

fn offer_of(client: &Client, item: &str, count: u32) -> Option<u16> {
    let c = client.economy().catalogue.as_ref()?;
    c.offers
        .iter()
        .position(|o| o.count == count && c.items[o.item.0 as usize].name == item)
        .map(|i| i as u16)
}

/// The bag slot holding `item`, and the first empty one.
fn slot_of(client: &Client, item: &str) -> Option<u16> {
    let e = client.economy();
    let c = e.catalogue.as_ref()?;
    e.stacks()
        .find(|(_, s)| c.items[s.def.0 as usize].name == item)
        .map(|(i, _)| i)
}

fn empty_slot(client: &Client) -> Option<u16> {
    let inv = client.economy().inventory.as_ref()?;
    inv.slots.iter().position(Option::is_none).map(|i| i as u16)
}

fn version(client: &Client) -> Option<u32> {
    client.economy().trade.as_ref().map(|t| t.version)
}

/// Ann is granted gold; she buys a rusty sword and wears it; buys a stone,
/// takes the sword off, enhances it, wears it again; buys a leather cap and
/// trades it to Bob (granted a little gold) for gold. Ann confirms Bob's
/// first offer, Bob raises it (her confirmation is void, and confirming the
/// old version is refused), both confirm the new version: the swap is one
/// transaction, shown to both once stored.
#[test]
fn a_sword_is_bought_worn_and_enhanced_and_a_cap_is_traded_for_gold() {
    let mut lab = Lab::new(NodeConfig::default(), SEED);
    lab.record_frames = true;
    for name in NAMES {
        lab.join(name, INSTANT);
    }
    let plan: Vec<(u64, Step)> = vec![
        (1000, Step::Grant("ann", "gold", 500)),
        (
            1200,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::Buy {
                    req,
                    offer: offer_of(c, "rusty_sword", 1)?,
                })
            }),
        ),
        (
            1400,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::Equip {
                    req,
                    from: slot_of(c, "rusty_sword")?,
                })
            }),
        ),
        (
            1600,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::Buy {
                    req,
                    offer: offer_of(c, "enhancement_stone", 1)?,
                })
            }),
        ),
        (
            1800,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::Unequip {
                    req,
                    slot: game_core::content::EquipSlot::Weapon,
                    to: empty_slot(c)?,
                })
            }),
        ),
        (
            2000,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::Enhance {
                    req,
                    slot: slot_of(c, "rusty_sword")?,
                })
            }),
        ),
        (
            2200,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::Equip {
                    req,
                    from: slot_of(c, "rusty_sword")?,
                })
            }),
        ),
        (
            2400,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::Buy {
                    req,
                    offer: offer_of(c, "leather_cap", 1)?,
                })
            }),
        ),
        (2600, Step::Grant("bob", "gold", 50)),
        (
            3000,
            Step::Ask(ANN, |_, req| {
                Some(ClientEconomy::TradeRequest {
                    req,
                    name: "bob".into(),
                })
            }),
        ),
        (
            3200,
            Step::Ask(BOB, |c, req| {
                Some(ClientEconomy::TradeAnswer {
                    req,
                    from: c.economy().trade_requests.first()?.character,
                    accept: true,
                })
            }),
        ),
        (
            3400,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::TradeOffer {
                    req,
                    items: vec![(slot_of(c, "leather_cap")?, 1)],
                    gold: 0,
                })
            }),
        ),
        (
            3600,
            Step::Ask(BOB, |_, req| {
                Some(ClientEconomy::TradeOffer {
                    req,
                    items: vec![],
                    gold: 15,
                })
            }),
        ),
        (
            3800,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::TradeConfirm {
                    req,
                    version: version(c)?,
                })
            }),
        ),
        (
            4000,
            Step::Ask(BOB, |_, req| {
                Some(ClientEconomy::TradeOffer {
                    req,
                    items: vec![],
                    gold: 20,
                })
            }),
        ),
        (
            4200,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::TradeConfirm {
                    req,
                    version: version(c)? - 1,
                })
            }),
        ),
        (
            4400,
            Step::Ask(BOB, |c, req| {
                Some(ClientEconomy::TradeConfirm {
                    req,
                    version: version(c)?,
                })
            }),
        ),
        (
            4600,
            Step::Ask(ANN, |c, req| {
                Some(ClientEconomy::TradeConfirm {
                    req,
                    version: version(c)?,
                })
            }),
        ),
    ];
    let mut made: Vec<(Instant, String)> = Vec::new();
    let mut next = 0;
    lab.run(ms(5500), FRAME, |lab| {
        while next < plan.len() && ms(plan[next].0) <= lab.now {
            match &plan[next].1 {
                Step::Grant(name, item, count) => {
                    lab.node
                        .grant(lab.now, name, item, *count)
                        .expect("granted");
                    made.push((lab.now, format!("operator >> grant {name} {count} {item}")));
                }
                Step::Ask(i, make) => {
                    let client = &mut lab.peers[*i].client;
                    let req = client.economy().last_req + 1;
                    let request = make(client, req).expect("the request can be made");
                    made.push((lab.now, format!("{} >> {request:?}", NAMES[*i])));
                    client.economy_request(|_| request);
                }
            }
            next += 1;
        }
    });
    assert_eq!(next, plan.len(), "every step was made");

    let msgs = economy_messages(&lab);
    let refusals: Vec<(usize, u32, EconomyRefusal)> = msgs
        .iter()
        .filter_map(|(_, p, m)| match m {
            ServerEconomy::Refused { req, reason } => Some((*p, *req, *reason)),
            _ => None,
        })
        .collect();
    // Only the stale confirmation (Ann's 11th request) was refused.
    assert_eq!(refusals, [(ANN, 11, EconomyRefusal::TradeChanged)]);
    let outcome = msgs.iter().find_map(|(_, p, m)| match m {
        ServerEconomy::Changed {
            enhanced: Some(e), ..
        } if *p == ANN => Some(*e),
        _ => None,
    });
    assert!(outcome.is_some(), "the enhancement was answered");
    for p in [ANN, BOB] {
        assert!(msgs.iter().any(|(_, q, m)| *q == p
            && matches!(
                m,
                ServerEconomy::Changed {
                    cause: Cause::Trade,
                    ..
                }
            )));
        assert!(msgs.iter().any(|(_, q, m)| *q == p
            && *m
                == ServerEconomy::TradeClosed {
                    end: TradeEnd::Done
                }));
    }
    // What the node and the store hold: Ann paid 30 + 40 + 25 and 100 for
    // the attempt, and got 20; Bob has the cap.
    let store = &lab.in_process.store;
    let character = |i: usize| {
        let player = lab.peers[i].client.player().unwrap();
        lab.node.player(player).unwrap().character.unwrap()
    };
    let (ann, bob) = (
        store.inventory(character(ANN)).unwrap(),
        store.inventory(character(BOB)).unwrap(),
    );
    assert_eq!(
        (ann.gold, bob.gold),
        (500 - 30 - 40 - 25 - 100 + 20, 50 - 20)
    );
    let content = lab.node.world().content();
    let cap = content.item_named("leather_cap").unwrap().id;
    let sword = content.item_named("rusty_sword").unwrap().id;
    assert_eq!((ann.count_of(cap), bob.count_of(cap)), (0, 1));
    let worn = ann.equipped(game_core::content::EquipSlot::Weapon).unwrap();
    assert_eq!(worn.def, sword);
    let want_plus = u8::from(outcome == Some(game_core::protocol::EnhanceOutcome::Success));
    assert_eq!(worn.plus, want_plus);
    for i in [ANN, BOB] {
        let inv = lab.peers[i].client.economy().inventory.clone().unwrap();
        let stored = store.inventory(character(i)).unwrap();
        assert_eq!(
            (inv.seq, inv.gold, &inv.slots),
            (stored.seq, stored.gold, &stored.slots)
        );
    }

    let mut lines: Vec<(Instant, u8, String)> = made
        .into_iter()
        .map(|(at, s)| (at, 0, format!("{at:?} {s}")))
        .collect();
    for (at, peer, m) in &msgs {
        let l = line(&lab.peers[*peer].client, m);
        lines.push((*at, 1, format!("{at:?} {}: {l}", NAMES[*peer])));
    }
    lines.sort_by_key(|(at, order, _)| (*at, *order));
    let trace: String = lines.into_iter().map(|(_, _, l)| l + "\n").collect();
    insta::assert_snapshot!(trace);
}
