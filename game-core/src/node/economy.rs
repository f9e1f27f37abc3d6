//! The node's side of the economy: each playing character's inventory as the
//! store last acknowledged it, and the transactions on their way there.
//!
//! A transaction is decided here ([`crate::economy::apply`] on copies) and
//! sent as one `CommitTx`; the inventories it touches are busy until the
//! store answers, and what it changed takes effect (and may be shown) only
//! then. A store that does not answer, or is down, gets the very same change
//! again a second later, as often as it takes: applied twice, it is applied
//! once (the store knows it by its name). A conflict (the store holds other
//! inventories than the ones it was decided on) drops it and loads them
//! again. A character who leaves with a transaction in flight is kept until
//! it is settled.

use super::store::Purpose;
use super::Node;
use crate::content::{MonsterKind, MonsterKindId};
use crate::economy::{actions, apply, EconomyError, Inventory, Op, Source, Tx};
use crate::ids::CharacterId;
use crate::persist::{Change, InventoryPart, Reply, StoreError};
use crate::rng::{self, StreamKind};
use crate::time::{Duration, Instant};
use crate::timers::TimerSet;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use std::collections::BTreeMap;

/// Slots of a new inventory.
pub const INVENTORY_SLOTS: usize = 40;
/// A change the store did not take is sent again this much later.
const RETRY_MS: u64 = 1_000;
/// The index of the node's loot stream (0 is its resume tokens).
const LOOT_STREAM: u64 = 1;

/// A transaction's name: its first part's character and sequence number.
pub type TxName = (CharacterId, u64);

#[derive(Debug)]
struct Held {
    /// As the store last acknowledged it; `None` while loading.
    inv: Option<Inventory>,
    /// A transaction touching it is in flight.
    busy: bool,
    /// Its character is in the world.
    playing: bool,
}

#[derive(Debug)]
struct InFlight {
    change: Change,
}

#[derive(Debug)]
pub(super) struct Wallets {
    /// Loot rolls: the node's own stream, so a roll never shifts its
    /// resume tokens or a zone's fights.
    loot_rng: ChaCha8Rng,
    held: BTreeMap<CharacterId, Held>,
    in_flight: BTreeMap<TxName, InFlight>,
    /// Transactions to send again.
    retries: TimerSet<TxName>,
    /// Inventories to load again (the store failed to).
    reloads: TimerSet<CharacterId>,
}

impl Wallets {
    pub(super) fn new(seed: u64) -> Self {
        Wallets {
            loot_rng: rng::stream(seed, StreamKind::Node, LOOT_STREAM),
            held: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            retries: TimerSet::default(),
            reloads: TimerSet::default(),
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let retry = self.retries.next().map(|(at, _)| at);
        let reload = self.reloads.next().map(|(at, _)| at);
        retry.into_iter().chain(reload).min()
    }

    /// The next due: a transaction to send again, or an inventory to load.
    pub(super) fn pop_due(&mut self, at: Instant) -> Option<Result<TxName, CharacterId>> {
        if let Some((_, name)) = self.retries.pop_due(at) {
            return Some(Ok(name));
        }
        self.reloads.pop_due(at).map(|(_, c)| Err(c))
    }
}

/// Why the node did not start a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxRefusal {
    /// An inventory is loading, or in another transaction: try again.
    Busy,
    /// A character it names is not in the world here.
    NotHere,
    /// The transaction itself is refused.
    Refused(EconomyError),
}

impl Node {
    /// The inventory of `character`, as the store last acknowledged it.
    pub fn inventory(&self, character: CharacterId) -> Option<&Inventory> {
        self.wallets.held.get(&character)?.inv.as_ref()
    }

    /// A character entered the world: its inventory is loaded (unless the
    /// node still holds it).
    pub(super) fn wallet_entered(&mut self, now: Instant, character: CharacterId) {
        if let Some(h) = self.wallets.held.get_mut(&character) {
            h.playing = true;
            return;
        }
        self.wallets.held.insert(
            character,
            Held {
                inv: None,
                busy: false,
                playing: true,
            },
        );
        self.load_inventory(now, character);
    }

    pub(super) fn load_inventory(&mut self, now: Instant, character: CharacterId) {
        if !self.wallets.held.get(&character).is_some_and(|h| h.playing) {
            return;
        }
        let change = Change::LoadInventory { character };
        if self
            .persist(now, change, Purpose::Inventory { character })
            .is_none()
        {
            self.reload_later(now, character);
        }
    }

    fn reload_later(&mut self, now: Instant, character: CharacterId) {
        let at = now + Duration::from_millis(RETRY_MS);
        self.wallets.reloads.set(character, Some(at));
    }

    /// A character left the world: forgotten, unless a transaction on it is
    /// in flight (then once that is settled).
    pub(super) fn wallet_left(&mut self, character: CharacterId) {
        if let Some(h) = self.wallets.held.get_mut(&character) {
            h.playing = false;
            if !h.busy {
                self.wallets.held.remove(&character);
            }
        }
    }

    pub(super) fn inventory_loaded(
        &mut self,
        now: Instant,
        character: CharacterId,
        result: Result<Reply, StoreError>,
    ) {
        let Some(h) = self.wallets.held.get_mut(&character) else {
            return;
        };
        match result {
            Ok(Reply::Inventory(inv)) => {
                h.inv = Some(inv.map_or_else(|| Inventory::new(INVENTORY_SLOTS), |b| *b));
            }
            // The store failed: asked again a second later.
            _ => self.reload_later(now, character),
        }
    }

    /// Decides `tx` on the inventories held and sends it to the store; it
    /// takes effect when the store acknowledges it.
    pub fn commit(&mut self, now: Instant, tx: Tx) -> Result<TxName, TxRefusal> {
        let mut invs = Vec::with_capacity(tx.parts.len());
        for p in &tx.parts {
            let h = self
                .wallets
                .held
                .get(&p.character)
                .ok_or(TxRefusal::NotHere)?;
            match &h.inv {
                Some(inv) if !h.busy => invs.push(inv.clone()),
                _ => return Err(TxRefusal::Busy),
            }
        }
        let before: Vec<u64> = invs.iter().map(|i| i.seq).collect();
        let defs = &self.world.content().items;
        let receipt = apply(&tx, &mut invs, defs).map_err(TxRefusal::Refused)?;
        let parts: Vec<InventoryPart> = tx
            .parts
            .iter()
            .zip(before)
            .zip(invs)
            .map(|((p, before), after)| InventoryPart {
                character: p.character,
                before,
                after,
            })
            .collect();
        let name = (parts[0].character, parts[0].after.seq);
        let change = Change::CommitTx {
            parts,
            receipt: Box::new(receipt),
        };
        if self
            .persist(now, change.clone(), Purpose::Commit { name })
            .is_none()
        {
            return Err(TxRefusal::Busy);
        }
        for p in &tx.parts {
            if let Some(h) = self.wallets.held.get_mut(&p.character) {
                h.busy = true;
            }
        }
        self.wallets.in_flight.insert(name, InFlight { change });
        self.stats.economy_transactions += 1;
        Ok(name)
    }

    pub(super) fn commit_settled(
        &mut self,
        now: Instant,
        name: TxName,
        result: Result<Reply, StoreError>,
    ) {
        let Some(flight) = self.wallets.in_flight.get(&name) else {
            return;
        };
        let Change::CommitTx { parts, .. } = &flight.change else {
            return;
        };
        let characters: Vec<CharacterId> = parts.iter().map(|p| p.character).collect();
        match result {
            Ok(_) => {
                let Some(InFlight {
                    change: Change::CommitTx { parts, .. },
                }) = self.wallets.in_flight.remove(&name)
                else {
                    return;
                };
                self.stats.economy_committed += 1;
                for p in parts {
                    if let Some(h) = self.wallets.held.get_mut(&p.character) {
                        h.inv = Some(p.after);
                    }
                }
                self.wallets_idle(&characters);
            }
            Err(StoreError::Conflict) | Err(StoreError::NoSuchCharacter) => {
                // Decided on inventories the store no longer holds: drop it
                // and load what the store holds.
                self.wallets.in_flight.remove(&name);
                self.stats.economy_conflicts += 1;
                for &c in &characters {
                    if let Some(h) = self.wallets.held.get_mut(&c) {
                        h.inv = None;
                    }
                    self.load_inventory(now, c);
                }
                self.wallets_idle(&characters);
            }
            Err(_) => {
                // Unknown whether it applied: the same change again, later.
                self.stats.economy_retries += 1;
                let at = now + Duration::from_millis(RETRY_MS);
                self.wallets.retries.set(name, Some(at));
            }
        }
    }

    /// A transaction's retry is due: the same change again.
    pub(super) fn commit_retry(&mut self, now: Instant, name: TxName) {
        let Some(flight) = self.wallets.in_flight.get(&name) else {
            return;
        };
        let change = flight.change.clone();
        if self
            .persist(now, change, Purpose::Commit { name })
            .is_none()
        {
            let at = now + Duration::from_millis(RETRY_MS);
            self.wallets.retries.set(name, Some(at));
        }
    }

    /// The inventories of a settled transaction are free again; those whose
    /// characters left are forgotten.
    fn wallets_idle(&mut self, characters: &[CharacterId]) {
        for c in characters {
            if let Some(h) = self.wallets.held.get_mut(c) {
                h.busy = false;
                if !h.playing {
                    self.wallets.held.remove(c);
                }
            }
        }
    }

    /// Operator: gives the online character named `name` `count` of the item
    /// kind named `item` (or `count` gold, for `"gold"`), from
    /// [`Source::Grant`](crate::economy::Source::Grant).
    pub fn grant(
        &mut self,
        now: Instant,
        name: &str,
        item: &str,
        count: u64,
    ) -> Result<TxName, String> {
        let character = self
            .social()
            .online_character(name)
            .ok_or_else(|| format!("no character named {name} is online"))?;
        let inv = self
            .inventory(character)
            .ok_or_else(|| format!("{name}'s inventory is loading"))?;
        let op = if item == "gold" {
            Op::GoldIn {
                amount: count,
                source: Source::Grant,
            }
        } else {
            let def = self
                .world
                .content()
                .item_named(item)
                .ok_or_else(|| format!("no item kind named {item}"))?;
            Op::Mint {
                def: def.id,
                count: u32::try_from(count).map_err(|_| "too many".to_string())?,
                plus: 0,
                source: Source::Grant,
            }
        };
        let tx = crate::economy::actions::solo(character, inv, vec![op]);
        self.commit(now, tx).map_err(|r| format!("{r:?}"))
    }

    /// A player's own share of a monster's loot (nobody else can take it):
    /// rolled from the node's loot stream and minted into its inventory. A
    /// share that cannot be given (the inventory busy or full) is counted
    /// as lost.
    pub(super) fn drop_loot(&mut self, now: Instant, character: CharacterId, kind: MonsterKindId) {
        let content = std::sync::Arc::clone(self.world.content());
        let Some(monster) = content.monster(kind) else {
            return;
        };
        let (items, gold) = roll_loot(&mut self.wallets.loot_rng, monster);
        if items.is_empty() && gold == 0 {
            return;
        }
        let Some(inv) = self.inventory(character) else {
            self.stats.loot_lost += 1;
            return;
        };
        let tx = actions::loot(character, inv, &items, gold);
        match self.commit(now, tx) {
            Ok(_) => self.stats.loot_given += 1,
            Err(_) => self.stats.loot_lost += 1,
        }
    }

    /// Transactions sent and not yet acknowledged.
    pub fn transactions_in_flight(&self) -> usize {
        self.wallets.in_flight.len()
    }
}

/// One roll of `monster`'s loot: each entry by its own chance, a count
/// between its bounds; gold between the monster's bounds.
fn roll_loot(
    rng: &mut ChaCha8Rng,
    monster: &MonsterKind,
) -> (Vec<(crate::content::ItemDefId, u32)>, u64) {
    let mut between = |lo: u64, hi: u64| lo + rng.next_u64() % (hi - lo + 1);
    let mut items = Vec::new();
    for e in &monster.loot {
        if between(0, 999) < e.chance_pm as u64 {
            items.push((e.item, between(e.min as u64, e.max as u64) as u32));
        }
    }
    let (lo, hi) = monster.gold;
    let gold = if hi == 0 { 0 } else { between(lo, hi) };
    (items, gold)
}
