//! One scenario per transaction kind: the content it runs on, who plays,
//! what the operator grants first, what each bot wants, which transaction
//! the crash falls on, and what must hold at the end of it (the
//! transaction's own "exactly once").

use super::bots::{Bot, Goal, Grant, Operator};
use super::store::SweepStore;
use super::world::World;
use super::Kind;
use game_core::content::{Content, ItemDefId, MapContent, MissionKind, MonsterKindId, SpawnGroup};
use game_core::economy::{Inventory, Receipt, Sink, Source};
use game_core::math::Fixed;
use game_core::persist::Change;

pub struct Scenario {
    pub content: Content,
    pub players: Vec<&'static str>,
    /// `players[..actors]` are the scenario's own: the crash falls on a
    /// transaction of theirs (the others are bystanders).
    pub actors: usize,
    pub bots: Vec<Bot>,
    pub operator: Operator,
    /// Picks the target among the commits sent once armed.
    pub pick: fn(&Change, &SweepStore) -> bool,
    /// What must hold once the world settled, as failures.
    pub expect: fn(&World) -> Vec<String>,
}

/// The sample content, with an enhancement mission that completes at every
/// attempt (so one attempt reaches pass level 1), and for loot one monster
/// on the meadow's spawn that an auto-attack kills at one blow, dropping
/// two potions and 5 gold.
pub fn content(kind: Kind) -> Content {
    let mut c = Content::sample();
    for m in &mut c.pass.missions {
        if m.kind == MissionKind::Enhance {
            m.goal = 1;
            m.xp = c.pass.levels[0].xp;
        }
    }
    if kind == Kind::Loot {
        c.skills[0].power = 100_000;
        c.skills[0].range = Fixed::from_int(30);
        let potion = item(&c, "minor_potion");
        c.monsters[0].loot = vec![game_core::content::LootEntry {
            item: potion,
            chance_pm: 1000,
            min: 2,
            max: 2,
        }];
        c.monsters[0].gold = (5, 5);
        c.maps.insert(
            "meadow".into(),
            MapContent {
                respawn: (40, 60),
                groups: vec![SpawnGroup {
                    monster: MonsterKindId(0),
                    cell: (40, 60),
                    count: 1,
                    radius_cells: 0,
                    respawn_ms: 600_000,
                }],
            },
        );
    }
    c
}

pub fn item(c: &Content, name: &str) -> ItemDefId {
    c.item_named(name).expect("a sample item").id
}

fn sword(c: &Content) -> ItemDefId {
    item(c, "rusty_sword")
}
fn potion(c: &Content) -> ItemDefId {
    item(c, "minor_potion")
}
fn stone(c: &Content) -> ItemDefId {
    item(c, "enhancement_stone")
}

/// The shop's offer of one `item`.
fn offer_of(c: &Content, item: ItemDefId) -> u16 {
    c.shop
        .iter()
        .position(|o| o.item == item && o.count == 1)
        .expect("an offer of one") as u16
}

fn grant(peer: usize, item: &'static str, count: u64) -> Grant {
    // Setup grants are judged "made" by the inventory's count; each setup
    // grant below is the first of its item for its character.
    Grant {
        peer,
        item,
        count,
        until: match item {
            "gold" => |inv, _| inv.gold > 0,
            "rusty_sword" => |inv, w| inv.count_of(sword(w.content())) > 0,
            "minor_potion" => |inv, w| inv.count_of(potion(w.content())) > 0,
            "enhancement_stone" => |inv, w| inv.count_of(stone(w.content())) > 0,
            other => panic!("no sweep grant of {other}"),
        },
    }
}

fn receipt_of(change: &Change) -> Option<&Receipt> {
    match change {
        Change::CommitTx { receipt, .. } => Some(receipt),
        _ => None,
    }
}

fn minted_from(change: &Change, source: Source) -> bool {
    receipt_of(change).is_some_and(|r| {
        r.minted.iter().any(|m| m.2 == source) || r.gold_in.iter().any(|g| g.1 == source)
    })
}

fn burned_into(change: &Change, sink: Sink) -> bool {
    receipt_of(change).is_some_and(|r| {
        r.burned.iter().any(|b| b.2 == sink) || r.gold_out.iter().any(|g| g.1 == sink)
    })
}

fn parts(change: &Change) -> usize {
    match change {
        Change::CommitTx { parts, .. } => parts.len(),
        _ => 0,
    }
}

/// The stored inventory of the peer named `name`, or a failure.
fn stored<'a>(w: &'a World, name: &str, out: &mut Vec<String>) -> Option<&'a Inventory> {
    let i = w.peers.iter().position(|p| p.name == name)?;
    let inv = w.stored(i);
    if inv.is_none() {
        out.push(format!("{name} has no stored inventory"));
    }
    inv
}

fn want(out: &mut Vec<String>, what: &str, got: u64, expected: u64) {
    if got != expected {
        out.push(format!("{what}: {got}, expected {expected} (once)"));
    }
}

/// A scenario's players, bots, operator, target pick and expectations.
type Parts = (
    Vec<&'static str>,
    Vec<Bot>,
    Operator,
    fn(&Change, &SweepStore) -> bool,
    fn(&World) -> Vec<String>,
);

pub fn build(kind: Kind) -> Scenario {
    let c = content(kind);
    let (sword, potion, stone) = (sword(&c), potion(&c), stone(&c));
    let one = |goals: Vec<Goal>, setup: usize| vec![Bot::new(0, goals, setup)];
    let solo = vec!["ann"];
    // Every solo kind: the first commit once armed is the target, unless
    // the kind says otherwise.
    let first: fn(&Change, &SweepStore) -> bool = |_, _| true;
    let (players, bots, operator, pick, expect): Parts = match kind {
        Kind::Grant => (
            solo,
            one(vec![], 0),
            Operator::new(
                vec![Grant {
                    peer: 0,
                    item: "gold",
                    count: 50,
                    until: |inv, _| inv.gold >= 50,
                }],
                0,
            ),
            |ch, _| minted_from(ch, Source::Grant),
            |w| {
                let mut out = Vec::new();
                if let Some(inv) = stored(w, "ann", &mut out) {
                    want(&mut out, "ann's gold", inv.gold, 50);
                }
                out
            },
        ),
        Kind::Loot => (
            solo,
            one(vec![Goal::Attack], 0),
            Operator::new(vec![], 0),
            |ch, _| minted_from(ch, Source::Loot),
            |w| {
                let mut out = Vec::new();
                let loot = w
                    .store
                    .log
                    .iter()
                    .filter(|a| a.receipt.gold_in.iter().any(|g| g.1 == Source::Loot))
                    .count();
                if loot > 1 {
                    out.push(format!("one kill's loot stored {loot} times"));
                }
                out
            },
        ),
        Kind::Buy => (
            solo,
            one(
                vec![Goal::Buy {
                    offer: offer_of(&c, stone),
                    item: stone,
                }],
                0,
            ),
            Operator::new(vec![grant(0, "gold", 100)], 1),
            |ch, _| burned_into(ch, Sink::Shop),
            |w| {
                let mut out = Vec::new();
                let stone = super::scenario::stone(w.content());
                let price = w.content().shop[offer_of(w.content(), stone) as usize].price;
                if let Some(inv) = stored(w, "ann", &mut out) {
                    want(&mut out, "ann's stones", inv.count_of(stone), 1);
                    want(&mut out, "ann's gold", inv.gold, 100 - price);
                    let bought: u32 = inv.shop.bought.iter().map(|b| b.1).sum();
                    want(&mut out, "ann's purchases today", u64::from(bought), 1);
                }
                out
            },
        ),
        Kind::Sell => (
            solo,
            one(vec![Goal::SellAll { item: potion }], 0),
            Operator::new(vec![grant(0, "minor_potion", 3)], 1),
            |ch, _| minted_from(ch, Source::Shop),
            |w| {
                let mut out = Vec::new();
                let potion = super::scenario::potion(w.content());
                let price = w.content().items[potion.0 as usize].sell_price;
                if let Some(inv) = stored(w, "ann", &mut out) {
                    want(&mut out, "ann's potions", inv.count_of(potion), 0);
                    want(&mut out, "ann's gold", inv.gold, 3 * price);
                }
                out
            },
        ),
        Kind::Move => (
            solo,
            one(
                vec![Goal::Move {
                    item: potion,
                    to: 9,
                }],
                0,
            ),
            Operator::new(vec![grant(0, "minor_potion", 3)], 1),
            first,
            |w| unchanged_items(w, &[("minor_potion", 3)]),
        ),
        Kind::Split => (
            solo,
            one(
                vec![Goal::Split {
                    item: potion,
                    count: 2,
                }],
                0,
            ),
            Operator::new(vec![grant(0, "minor_potion", 5)], 1),
            first,
            |w| unchanged_items(w, &[("minor_potion", 5)]),
        ),
        Kind::Delete => (
            solo,
            one(vec![Goal::DeleteAll { item: stone }], 0),
            Operator::new(vec![grant(0, "enhancement_stone", 4)], 1),
            |ch, _| burned_into(ch, Sink::Deleted),
            |w| unchanged_items(w, &[("enhancement_stone", 0)]),
        ),
        Kind::Equip => (
            solo,
            one(vec![Goal::Equip { item: sword }], 0),
            Operator::new(vec![grant(0, "rusty_sword", 1)], 1),
            first,
            |w| {
                let mut out = unchanged_items(w, &[("rusty_sword", 1)]);
                let sword = super::scenario::sword(w.content());
                if let Some(inv) = stored(w, "ann", &mut out) {
                    if !inv.equipped.iter().flatten().any(|s| s.def == sword) {
                        out.push("ann's sword is not worn".into());
                    }
                }
                out
            },
        ),
        Kind::Unequip => (
            solo,
            one(
                vec![Goal::Equip { item: sword }, Goal::Unequip { item: sword }],
                1,
            ),
            Operator::new(vec![grant(0, "rusty_sword", 1)], 1),
            first,
            |w| {
                let mut out = unchanged_items(w, &[("rusty_sword", 1)]);
                if let Some(inv) = stored(w, "ann", &mut out) {
                    if inv.equipped.iter().any(|s| s.is_some()) {
                        out.push("ann still wears something".into());
                    }
                }
                out
            },
        ),
        Kind::Sort => (
            solo,
            one(vec![Goal::Sort], 0),
            // A potion, then a sword: the sword's kind sorts first.
            Operator::new(
                vec![grant(0, "minor_potion", 2), grant(0, "rusty_sword", 1)],
                2,
            ),
            first,
            |w| unchanged_items(w, &[("minor_potion", 2), ("rusty_sword", 1)]),
        ),
        Kind::Enhance | Kind::Mission => (
            solo,
            one(
                vec![Goal::Enhance {
                    item: sword,
                    stone,
                    stones_below: 1,
                }],
                0,
            ),
            Operator::new(
                vec![
                    grant(0, "gold", 150),
                    grant(0, "enhancement_stone", 1),
                    grant(0, "rusty_sword", 1),
                ],
                3,
            ),
            if kind == Kind::Enhance {
                |ch, _| burned_into(ch, Sink::Enhancement)
            } else {
                // The mission the attempt completes: pass experience, and
                // nothing made or destroyed.
                |ch, store| match ch {
                    Change::CommitTx { parts, receipt, .. } => {
                        **receipt == Receipt::default()
                            && parts.len() == 1
                            && parts[0].after.pass.xp
                                > store.inventory(parts[0].character).map_or(0, |i| i.pass.xp)
                    }
                    _ => false,
                }
            },
            |w| {
                let mut out = Vec::new();
                let (stone, sword) = (
                    super::scenario::stone(w.content()),
                    super::scenario::sword(w.content()),
                );
                let step = w.content().enhance.steps[0];
                if let Some(inv) = stored(w, "ann", &mut out) {
                    want(&mut out, "ann's gold", inv.gold, 150 - step.cost_gold);
                    want(&mut out, "ann's stones", inv.count_of(stone), 0);
                    want(&mut out, "ann's swords", inv.count_of(sword), 1);
                    let xp = w.content().pass.levels[0].xp;
                    if inv.pass.xp != 0 && inv.pass.xp != xp {
                        out.push(format!(
                            "ann's pass experience {}: one mission pays {xp}",
                            inv.pass.xp
                        ));
                    }
                }
                out
            },
        ),
        Kind::Claim => (
            solo,
            one(
                vec![
                    Goal::Enhance {
                        item: sword,
                        stone,
                        stones_below: 1,
                    },
                    Goal::PassXp {
                        xp: c.pass.levels[0].xp,
                    },
                    Goal::Claim { level: 1 },
                ],
                2,
            ),
            Operator::new(
                vec![
                    grant(0, "gold", 150),
                    grant(0, "enhancement_stone", 1),
                    grant(0, "rusty_sword", 1),
                ],
                3,
            ),
            |ch, _| minted_from(ch, Source::PassReward),
            |w| {
                let mut out = Vec::new();
                let level = w.content().pass.levels[0];
                if let Some(inv) = stored(w, "ann", &mut out) {
                    if !inv.pass.is_claimed(1) {
                        out.push("ann's level 1 is not claimed".into());
                    }
                    if let Some((item, n)) = level.item {
                        want(
                            &mut out,
                            "ann's reward items",
                            inv.count_of(item),
                            u64::from(n),
                        );
                    }
                }
                out
            },
        ),
        Kind::Trade => (
            vec!["ann", "bob"],
            vec![
                Bot::new(
                    0,
                    vec![Goal::Give {
                        to: "bob",
                        item: sword,
                        price: 60,
                    }],
                    0,
                ),
                Bot::new(
                    1,
                    vec![Goal::Take {
                        from: "ann",
                        item: sword,
                        price: 60,
                    }],
                    0,
                ),
            ],
            Operator::new(vec![grant(0, "rusty_sword", 1), grant(1, "gold", 100)], 2),
            |ch, _| parts(ch) == 2,
            |w| {
                let mut out = Vec::new();
                let sword = super::scenario::sword(w.content());
                let (Some(a), Some(b)) = (stored(w, "ann", &mut out), stored(w, "bob", &mut out))
                else {
                    return out;
                };
                let moved = (a.count_of(sword), b.count_of(sword)) == (0, 1);
                let paid = (a.gold, b.gold) == (60, 40);
                let neither =
                    (a.count_of(sword), b.count_of(sword), a.gold, b.gold) == (1, 0, 0, 100);
                if !(moved && paid) {
                    out.push(format!(
                        "trade: ann has {} sword(s) and {} gold, bob {} and {}: {}",
                        a.count_of(sword),
                        a.gold,
                        b.count_of(sword),
                        b.gold,
                        if neither { "not done" } else { "half done" }
                    ));
                }
                out
            },
        ),
    };
    let actors = players.len();
    let (players, bots, operator) =
        with_bystanders(players, bots, operator, sword, potion, stone, &c);
    Scenario {
        content: c,
        players,
        actors,
        bots,
        operator,
        pick,
        expect,
    }
}

/// Two more players in every scenario, busy while the crash falls: a
/// shopper buying a potion and selling it back, five times, and an
/// enhancer making three attempts on a sword (each completes a mission).
/// The crash falls on the scenario's own players' transaction; theirs are
/// in flight beside it, lost with it, retried with it. Only the checks that
/// hold for everyone (and that they finish) judge them.
fn with_bystanders(
    mut players: Vec<&'static str>,
    mut bots: Vec<Bot>,
    operator: Operator,
    sword: ItemDefId,
    potion: ItemDefId,
    stone: ItemDefId,
    c: &Content,
) -> (Vec<&'static str>, Vec<Bot>, Operator) {
    let (cal, dee) = (players.len(), players.len() + 1);
    players.extend(["cal", "dee"]);
    let buy = Goal::Buy {
        offer: offer_of(c, potion),
        item: potion,
    };
    let sell = Goal::SellAll { item: potion };
    bots.push(Bot::new(
        cal,
        (0..5).flat_map(|_| [buy.clone(), sell.clone()]).collect(),
        0,
    ));
    bots.push(Bot::new(
        dee,
        (0..3)
            .rev()
            .map(|left| Goal::Enhance {
                item: sword,
                stone,
                stones_below: left + 1,
            })
            .collect(),
        0,
    ));
    let mut grants = vec![
        grant(cal, "gold", 1_000),
        grant(dee, "gold", 1_000),
        grant(dee, "enhancement_stone", 3),
        grant(dee, "rusty_sword", 1),
    ];
    let setup = grants.len() + operator.setup;
    grants.extend(operator.grants);
    (players, bots, Operator::new(grants, setup))
}

/// The items of the named kinds that "ann" holds: exactly these counts (no
/// value made or lost by moving things around).
fn unchanged_items(w: &World, counts: &[(&str, u64)]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(inv) = stored(w, "ann", &mut out) {
        for &(name, n) in counts {
            let id = item(w.content(), name);
            want(&mut out, &format!("ann's {name}"), inv.count_of(id), n);
        }
    }
    out
}
