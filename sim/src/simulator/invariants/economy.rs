//! What must hold of the economy, checked against the store's committed
//! state (the `MemoryStore` behind the simulator's store) and against what
//! the node and the clients were told:
//!
//! - one of each item: every item id is in at most one place across the
//!   store's inventories, and across the node's held inventories;
//! - the books balance: per item kind, and for gold, what every inventory
//!   holds is what the ledger's receipts minted (from their sources) minus
//!   what they burned (into their sinks);
//! - nothing shown before it is stored: a client is never shown (by
//!   `Inventory` or `Changed`) a sequence number its inventory has not
//!   reached in the store, and when the store is at that very number the
//!   client's view after the message is the stored inventory; on one
//!   connection the numbers a client is shown by `Changed` rise strictly;
//!   the node's view of an inventory with no transaction in flight is the
//!   store's; and at quiescence (no faults, bots still), once neither has
//!   changed for [`SETTLE`], every honest client's view is the store's;
//! - applied once: the store's answer to a transaction it has under that
//!   name already changes nothing ([`TxAudit`], fed every `CommitTx` the
//!   simulator's store applies, with the inventories before and after); a
//!   stored inventory's number never goes back, and the inventory never
//!   changes without a new number; every ledger name's number is one its
//!   inventory reached.

use super::social::self_character;
use game_core::client::{Client, ClientEvent};
use game_core::economy::{Inventory, ItemId};
use game_core::ids::{CharacterId, ConnId};
use game_core::node::{Node, INVENTORY_SLOTS};
use game_core::persist::{Change, Intent, MemoryStore, Outcome};
use game_core::protocol::{InventoryView, ServerEconomy};
use game_core::time::{Duration, Instant};
use serde::Serialize;
use std::collections::BTreeMap;

/// An inventory and its client's connection must be unchanged this long
/// before the client's view is compared with the store at quiescence.
pub const SETTLE: Duration = Duration::from_millis(1_500);
/// Failures of one kind reported per check, at most.
const REPORT: usize = 5;

/// What the economy checks looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EconomyChecks {
    /// Checks of the store's inventories and ledger.
    pub store_checks: u64,
    /// At the last check: stored inventories, the stacks in them, ledger
    /// entries.
    pub inventories: u64,
    pub stacks: u64,
    pub ledger_entries: u64,
    /// Node views (no transaction in flight) compared with the store.
    pub node_views_compared: u64,
    /// `Inventory` and `Changed` messages checked against the store, and
    /// of those, the ones compared whole (the store at that very number).
    pub shown_checked: u64,
    pub shown_compared: u64,
    /// Client views compared with the store at quiescence.
    pub views_at_rest: u64,
    /// `CommitTx` intents the store applied, answered again as applied
    /// before (a retry), and refused.
    pub tx_applied: u64,
    pub tx_replayed: u64,
    pub tx_refused: u64,
}

#[derive(Debug, Default)]
pub struct EconomyChecker {
    /// Each stored inventory as last seen, and since when.
    stored: BTreeMap<CharacterId, (Inventory, Instant)>,
    /// The last number each character's client was shown, and on which
    /// connection.
    shown: BTreeMap<CharacterId, (Option<ConnId>, u64)>,
    /// Each playing character's connection, and since when.
    conns: BTreeMap<CharacterId, (Option<ConnId>, Instant)>,
    pub counts: EconomyChecks,
}

impl EconomyChecker {
    pub fn on_restart(&mut self) {
        self.shown.clear();
        self.conns.clear();
    }

    /// An event a client emitted, with the connection it came on.
    pub fn on_client(
        &mut self,
        client: &Client,
        conn: Option<ConnId>,
        e: &ClientEvent,
        store: &MemoryStore,
        failures: &mut Vec<String>,
    ) {
        let ClientEvent::Economy(msg) = e else { return };
        let (seq, changed) = match msg {
            ServerEconomy::Inventory(v) => (v.seq, false),
            ServerEconomy::Changed { seq, .. } => (*seq, true),
            _ => return,
        };
        let (Some(me), Some(view)) = (self_character(client), client.economy().inventory.as_ref())
        else {
            return;
        };
        self.shown(me, conn, seq, changed, view, store, failures);
    }

    /// `me`'s client was shown number `seq` (by `Changed` if `changed`) on
    /// `conn`, and its view is now `view`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn shown(
        &mut self,
        me: CharacterId,
        conn: Option<ConnId>,
        seq: u64,
        changed: bool,
        view: &InventoryView,
        store: &MemoryStore,
        failures: &mut Vec<String>,
    ) {
        self.counts.shown_checked += 1;
        let stored = store.inventory(me);
        let at = stored.map_or(0, |i| i.seq);
        if seq > at {
            failures.push(format!(
                "economy: {me:?} was shown number {seq}, the store has {at} (shown before stored)"
            ));
        } else if seq == at {
            self.counts.shown_compared += 1;
            if let Some(d) = view_differs(view, stored) {
                failures.push(format!("economy: {me:?} was shown number {seq} {d}"));
            }
        }
        if let Some(&(c, last)) = self.shown.get(&me) {
            if changed && c == conn && seq <= last {
                failures.push(format!(
                    "economy: {me:?} was shown a change numbered {seq} after {last} on {conn:?}"
                ));
            }
        }
        self.shown.insert(me, (conn, seq));
    }

    /// The store's inventories and ledger, the node's views, and at
    /// quiescence the clients'.
    pub fn check(
        &mut self,
        node: &Node,
        store: &MemoryStore,
        clients: &[(&Client, bool)],
        now: Instant,
        settled: bool,
        failures: &mut Vec<String>,
    ) {
        self.counts.store_checks += 1;
        let stored: Vec<(CharacterId, &Inventory)> = store.inventories().collect();
        self.counts.inventories = stored.len() as u64;
        self.counts.stacks = stored.iter().map(|(_, i)| i.stacks().count() as u64).sum();
        self.counts.ledger_entries = store.ledger().count() as u64;
        failures.extend(duplicate_ids(stored.iter().copied(), "the store"));
        let held: Vec<(CharacterId, &Inventory)> =
            node.held_inventories().map(|(c, i, _)| (c, i)).collect();
        failures.extend(duplicate_ids(held.into_iter(), "the node"));
        failures.extend(books(store));
        self.watch_store(store, now, failures);
        let mut differ = Vec::new();
        for (c, inv, busy) in node.held_inventories() {
            if busy {
                continue;
            }
            self.counts.node_views_compared += 1;
            let empty = Inventory::new(INVENTORY_SLOTS);
            let want = store.inventory(c).unwrap_or(&empty);
            if inv != want {
                differ.push(format!(
                    "economy: the node holds {c:?} at number {} with no transaction in flight, the store at {}",
                    inv.seq, want.seq
                ));
            }
        }
        failures.extend(differ.into_iter().take(REPORT));
        self.watch_conns(node, now);
        if settled {
            self.at_rest(node, store, clients, now, failures);
        }
    }

    /// Every stored inventory's number only rises, and nothing changes
    /// without it; every ledger name is a number its inventory reached.
    pub(super) fn watch_store(
        &mut self,
        store: &MemoryStore,
        now: Instant,
        failures: &mut Vec<String>,
    ) {
        let mut out = Vec::new();
        let mut present = Vec::new();
        for (c, inv) in store.inventories() {
            present.push(c);
            match self.stored.get_mut(&c) {
                Some((last, _)) if last == inv => {}
                Some((last, since)) => {
                    if inv.seq <= last.seq {
                        out.push(format!(
                            "economy: the store's inventory of {c:?} changed from number {} to {} (applied twice, or rolled back)",
                            last.seq, inv.seq
                        ));
                    }
                    *last = inv.clone();
                    *since = now;
                }
                None => {
                    self.stored.insert(c, (inv.clone(), now));
                }
            }
        }
        // Deleted characters' inventories leave the store.
        self.stored.retain(|c, _| present.binary_search(c).is_ok());
        for (&(c, seq), _) in store.ledger() {
            if let Some(inv) = store.inventory(c) {
                if seq > inv.seq {
                    out.push(format!(
                        "economy: the ledger names {c:?}'s transaction {seq}, its inventory is at {}",
                        inv.seq
                    ));
                }
            }
        }
        failures.extend(out.into_iter().take(REPORT));
    }

    fn watch_conns(&mut self, node: &Node, now: Instant) {
        let mut playing = Vec::new();
        for p in node.players() {
            let Some(c) = p.character else { continue };
            playing.push(c);
            match self.conns.get_mut(&c) {
                Some((conn, _)) if *conn == p.conn => {}
                _ => {
                    self.conns.insert(c, (p.conn, now));
                }
            }
        }
        playing.sort_unstable();
        self.conns.retain(|c, _| playing.binary_search(c).is_ok());
    }

    /// At quiescence: each honest client's view is the store's inventory,
    /// once both have held still for [`SETTLE`].
    fn at_rest(
        &mut self,
        node: &Node,
        store: &MemoryStore,
        clients: &[(&Client, bool)],
        now: Instant,
        failures: &mut Vec<String>,
    ) {
        let busy: Vec<CharacterId> = node
            .held_inventories()
            .filter(|(_, _, busy)| *busy)
            .map(|(c, _, _)| c)
            .collect();
        let still = |since: Instant| now.saturating_since(since) >= SETTLE;
        let mut out = Vec::new();
        for &(client, honest) in clients {
            let (Some(me), Some(view)) =
                (self_character(client), client.economy().inventory.as_ref())
            else {
                continue;
            };
            let quiet = self.stored.get(&me).is_none_or(|&(_, since)| still(since))
                && self
                    .conns
                    .get(&me)
                    .is_some_and(|&(c, since)| c.is_some() && still(since));
            if !honest || !quiet || busy.contains(&me) {
                continue;
            }
            self.counts.views_at_rest += 1;
            if let Some(d) = view_differs(view, store.inventory(me)) {
                out.push(format!("economy: at rest, {me:?}'s client {d}"));
            }
        }
        failures.extend(out.into_iter().take(REPORT));
    }
}

/// How a client's view differs from the stored inventory (`None`: never
/// stored, an empty one), if it does.
pub(super) fn view_differs(view: &InventoryView, stored: Option<&Inventory>) -> Option<String> {
    let empty = Inventory::new(INVENTORY_SLOTS);
    let s = stored.unwrap_or(&empty);
    if view.seq != s.seq || view.gold != s.gold {
        return Some(format!(
            "shows number {} with {} gold, the store has number {} with {} gold",
            view.seq, view.gold, s.seq, s.gold
        ));
    }
    if view.slots != s.slots || view.equipped[..] != s.equipped[..] {
        let slots = (0..view.slots.len().max(s.slots.len()))
            .filter(|&i| view.slots.get(i) != s.slots.get(i))
            .count();
        return Some(format!(
            "shows other items at number {} ({slots} slots differ)",
            s.seq
        ));
    }
    None
}

/// Item ids held in more than one place among `inventories` (`whose`).
pub(super) fn duplicate_ids<'a>(
    inventories: impl Iterator<Item = (CharacterId, &'a Inventory)>,
    whose: &str,
) -> Vec<String> {
    let mut ids: Vec<(ItemId, CharacterId)> = Vec::new();
    for (c, inv) in inventories {
        ids.extend(inv.stacks().map(|s| (s.id, c)));
    }
    ids.sort_unstable();
    ids.chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .take(REPORT)
        .map(|run| {
            let holders: Vec<CharacterId> = run.iter().map(|&(_, c)| c).collect();
            format!(
                "economy: item {:?} is held {} times in {whose}, by {holders:?}",
                run[0].0,
                run.len()
            )
        })
        .collect()
}

/// Per item kind and for gold: held against minted minus burned.
pub(super) fn books(store: &MemoryStore) -> Vec<String> {
    // (item kind or gold) -> (held, ledger's net)
    let mut sums: BTreeMap<Option<u16>, (i128, i128)> = BTreeMap::new();
    for (_, inv) in store.inventories() {
        sums.entry(None).or_default().0 += inv.gold as i128;
        for s in inv.stacks() {
            sums.entry(Some(s.def.0)).or_default().0 += s.count as i128;
        }
    }
    for (_, r) in store.ledger() {
        for &(def, n, _) in &r.minted {
            sums.entry(Some(def.0)).or_default().1 += n as i128;
        }
        for &(def, n, _) in &r.burned {
            sums.entry(Some(def.0)).or_default().1 -= n as i128;
        }
        for &(n, _) in &r.gold_in {
            sums.entry(None).or_default().1 += n as i128;
        }
        for &(n, _) in &r.gold_out {
            sums.entry(None).or_default().1 -= n as i128;
        }
    }
    sums.into_iter()
        .filter(|(_, (held, net))| held != net)
        .take(REPORT)
        .map(|(what, (held, net))| {
            let what = what.map_or("gold".to_string(), |d| format!("item kind {d}"));
            format!("economy: the books do not balance for {what}: {held} held, the ledger accounts for {net}")
        })
        .collect()
}

/// Watches the store apply each `CommitTx`: a name it has already changes
/// nothing; a new one leaves the ledger holding it and each inventory as
/// the transaction said; a refused one changes nothing.
#[derive(Debug, Default)]
pub struct TxAudit {
    pub applied: u64,
    pub replayed: u64,
    pub refused: u64,
    failures: Vec<String>,
}

/// What [`TxAudit::before`] saw.
#[derive(Debug)]
pub struct BeforeTx {
    name: (CharacterId, u64),
    known: bool,
    inventories: Vec<(CharacterId, Option<Inventory>)>,
    afters: Vec<Inventory>,
}

impl TxAudit {
    /// Just before the store applies `intent` (`None`: not a transaction).
    pub fn before(store: &MemoryStore, intent: &Intent) -> Option<BeforeTx> {
        let Change::CommitTx { parts, receipt, .. } = &intent.change else {
            return None;
        };
        let first = parts.first()?;
        let name = (first.character, first.after.seq);
        Some(BeforeTx {
            name,
            // The same transaction again (a retry); another one under a
            // taken name is a conflict, refused.
            known: store.receipt(name) == Some(&**receipt),
            inventories: parts
                .iter()
                .map(|p| (p.character, store.inventory(p.character).cloned()))
                .collect(),
            afters: parts.iter().map(|p| p.after.clone()).collect(),
        })
    }

    /// Just after, with the store's answer.
    pub fn after(&mut self, store: &MemoryStore, before: BeforeTx, outcome: &Outcome) {
        let unchanged = before
            .inventories
            .iter()
            .all(|(c, inv)| store.inventory(*c) == inv.as_ref());
        let (c, seq) = before.name;
        if before.known {
            self.replayed += 1;
            if !unchanged {
                self.fail(format!(
                    "economy: transaction ({c:?}, {seq}) applied twice: the store had it and its inventories changed again"
                ));
            }
        } else if outcome.result.is_ok() {
            self.applied += 1;
            let as_said = before
                .inventories
                .iter()
                .zip(&before.afters)
                .all(|((c, _), after)| store.inventory(*c) == Some(after));
            if store.receipt(before.name).is_none() || !as_said {
                self.fail(format!(
                    "economy: transaction ({c:?}, {seq}) acknowledged, but the store does not hold it as decided"
                ));
            }
        } else {
            self.refused += 1;
            if !unchanged {
                self.fail(format!(
                    "economy: transaction ({c:?}, {seq}) refused, but its inventories changed"
                ));
            }
        }
    }

    fn fail(&mut self, what: String) {
        if self.failures.len() < 100 {
            self.failures.push(what);
        }
    }

    /// Failures found since the last call.
    pub fn take_failures(&mut self) -> Vec<String> {
        std::mem::take(&mut self.failures)
    }
}
