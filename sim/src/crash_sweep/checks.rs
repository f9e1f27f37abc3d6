//! What must hold once a crash point's world has settled, read from the
//! store (its inventories, its ledger as applied, the history of every state
//! it held) and from what every client was shown.

use super::world::World;
use game_core::content::ItemDefId;
use game_core::economy::ItemId;
use game_core::ids::CharacterId;
use std::collections::{BTreeMap, BTreeSet};

/// How much each check looked at (so a report shows each ran).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Item instances checked for a second copy.
    pub items: u64,
    /// Item kinds (and gold) whose totals were held to the ledger.
    pub totals: u64,
    /// Commits in the ledger (each checked for a second application).
    pub ledger: u64,
    /// Acknowledgements (`Changed`) held to the store's history.
    pub acks: u64,
    /// Two-part commits checked as both-or-neither.
    pub trades: u64,
    /// Inventories whose node, client and store copies were compared.
    pub views: u64,
}

impl Checked {
    pub fn add(&mut self, o: &Checked) {
        self.items += o.items;
        self.totals += o.totals;
        self.ledger += o.ledger;
        self.acks += o.acks;
        self.trades += o.trades;
        self.views += o.views;
    }
}

/// Every check; returns the failures.
pub fn check(w: &World, out: &mut Vec<String>) -> Checked {
    let mut n = Checked::default();
    unique_items(w, out, &mut n);
    conservation(w, out, &mut n);
    ledger_once(w, out, &mut n);
    acknowledged_kept(w, out, &mut n);
    trades_whole(w, out, &mut n);
    views_agree(w, out, &mut n);
    out.extend(w.oddities.iter().cloned());
    n
}

/// (1) Every item id exists at most once, over every stored inventory.
fn unique_items(w: &World, out: &mut Vec<String>, n: &mut Checked) {
    let mut seen: BTreeMap<ItemId, CharacterId> = BTreeMap::new();
    for (c, inv) in w.store.mem.inventories() {
        for s in inv.stacks() {
            n.items += 1;
            if let Some(first) = seen.insert(s.id, c) {
                out.push(format!(
                    "item {:?} exists twice: held by {first:?} and {c:?}",
                    s.id
                ));
            }
        }
    }
}

/// (2) Per item kind and for gold: what the store holds is what the ledger
/// says was made minus what it says was destroyed.
fn conservation(w: &World, out: &mut Vec<String>, n: &mut Checked) {
    let mut held: BTreeMap<ItemDefId, i128> = BTreeMap::new();
    let mut gold: i128 = 0;
    for (_, inv) in w.store.mem.inventories() {
        for s in inv.stacks() {
            *held.entry(s.def).or_default() += i128::from(s.count);
        }
        gold += i128::from(inv.gold);
    }
    let mut ledger: BTreeMap<ItemDefId, i128> = BTreeMap::new();
    let mut ledger_gold: i128 = 0;
    for a in &w.store.log {
        for &(def, count, _) in &a.receipt.minted {
            *ledger.entry(def).or_default() += i128::from(count);
        }
        for &(def, count, _) in &a.receipt.burned {
            *ledger.entry(def).or_default() -= i128::from(count);
        }
        for &(amount, _) in &a.receipt.gold_in {
            ledger_gold += i128::from(amount);
        }
        for &(amount, _) in &a.receipt.gold_out {
            ledger_gold -= i128::from(amount);
        }
    }
    let kinds: BTreeSet<ItemDefId> = held.keys().chain(ledger.keys()).copied().collect();
    for def in kinds {
        n.totals += 1;
        let (h, l) = (
            held.get(&def).copied().unwrap_or(0),
            ledger.get(&def).copied().unwrap_or(0),
        );
        if h != l {
            let name = &w.content().items[def.0 as usize].name;
            out.push(format!(
                "{name}: the store holds {h}, the ledger's sources minus sinks say {l}"
            ));
        }
    }
    n.totals += 1;
    if gold != ledger_gold {
        out.push(format!(
            "gold: the store holds {gold}, the ledger's sources minus sinks say {ledger_gold}"
        ));
    }
}

/// (4) No transaction applied twice: no name twice in the ledger as applied,
/// no stored sequence number going back, and the applied list is the
/// store's ledger.
fn ledger_once(w: &World, out: &mut Vec<String>, n: &mut Checked) {
    let mut names = BTreeSet::new();
    for a in &w.store.log {
        n.ledger += 1;
        if !names.insert(a.name) {
            out.push(format!("transaction {:?} applied twice", a.name));
        }
    }
    out.extend(w.store.regressions.iter().cloned());
    let kept: BTreeSet<_> = w.store.mem.ledger().map(|(k, _)| *k).collect();
    if kept != names {
        out.push(format!(
            "the store's ledger names {} transactions, {} were applied",
            kept.len(),
            names.len()
        ));
    }
}

/// (3) No acknowledged transaction lost: every `Changed` a client was shown
/// is a state the store committed at that sequence number, and the store
/// is at it or past it.
fn acknowledged_kept(w: &World, out: &mut Vec<String>, n: &mut Checked) {
    for a in &w.acks {
        n.acks += 1;
        let who = &w.peers[a.peer].name;
        let Some(kept) = w.store.history.get(&(a.character, a.seq)) else {
            out.push(format!(
                "{who} was shown seq {} ({:?}, req {}), which the store never committed",
                a.seq, a.cause, a.req
            ));
            continue;
        };
        let same_pass = a.pass.as_ref().is_none_or(|p| {
            p.xp == kept.pass.xp
                && p.claimed == kept.pass.claimed
                && p.progress == kept.pass.progress
        });
        if kept.gold != a.gold
            || kept.slots != a.slots
            || kept.equipped.as_slice() != a.equipped.as_slice()
            || !same_pass
        {
            out.push(format!(
                "{who} was shown seq {} ({:?}, req {}) as another state than the store committed",
                a.seq, a.cause, a.req
            ));
        }
        let now = w.store.inventory(a.character).map_or(0, |i| i.seq);
        if now < a.seq {
            out.push(format!(
                "{who} was shown seq {}, the store is back at {now}",
                a.seq
            ));
        }
    }
}

/// (5) Trades: each two-part commit applied both parts (both states are in
/// the store's history, each the state its inventory moved to), and the
/// items that left one side are on the other.
fn trades_whole(w: &World, out: &mut Vec<String>, n: &mut Checked) {
    for a in w.store.log.iter().filter(|a| a.parts.len() == 2) {
        n.trades += 1;
        for (c, after) in &a.parts {
            if w.store.history.get(&(*c, after.seq)) != Some(after) {
                out.push(format!(
                    "trade {:?}: {c:?}'s side is not what was stored",
                    a.name
                ));
            }
        }
        let ids = |k: usize| -> BTreeSet<ItemId> { a.parts[k].1.stacks().map(|s| s.id).collect() };
        let before = |k: usize| -> Option<BTreeSet<ItemId>> {
            let (c, after) = &a.parts[k];
            let prev = w.store.history.get(&(*c, after.seq - 1))?;
            Some(prev.stacks().map(|s| s.id).collect())
        };
        for (from, to) in [(0, 1), (1, 0)] {
            let Some(had) = before(from) else { continue };
            for gone in had.difference(&ids(from)) {
                if !ids(to).contains(gone) {
                    out.push(format!(
                        "trade {:?}: item {gone:?} left one side and did not reach the other",
                        a.name
                    ));
                }
            }
        }
    }
}

/// Once settled: the node, each client and the store show every playing
/// character the same inventory.
fn views_agree(w: &World, out: &mut Vec<String>, n: &mut Checked) {
    for (i, p) in w.peers.iter().enumerate() {
        let Some(c) = p.character else {
            out.push(format!("{} never entered the world", p.name));
            continue;
        };
        n.views += 1;
        let Some(stored) = w.stored(i) else {
            continue;
        };
        match w.node.inventory(c) {
            Some(held) if held == stored => {}
            Some(held) => out.push(format!(
                "the node holds {}'s inventory at seq {}, the store at {} (or another state)",
                p.name, held.seq, stored.seq
            )),
            None => out.push(format!("the node holds no inventory for {}", p.name)),
        }
        let shown = p.client.economy().inventory.as_ref();
        let same = |v: &game_core::protocol::InventoryView| {
            v.seq == stored.seq
                && v.gold == stored.gold
                && v.slots == stored.slots
                && v.equipped.as_slice() == stored.equipped.as_slice()
        };
        if !shown.is_some_and(same) {
            out.push(format!(
                "{}'s client shows seq {:?}, the store holds seq {}",
                p.name,
                shown.map(|v| v.seq),
                stored.seq
            ));
        }
        if p.seen.as_ref() != shown {
            out.push(format!(
                "{}'s client machine and the messages it got disagree",
                p.name
            ));
        }
    }
}
