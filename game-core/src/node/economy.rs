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

use super::economy_stats::{TxKind, TxResult};
use super::store::Purpose;
use super::trade::Trades;
use super::Node;
use crate::content::{MissionKind, MonsterKind, MonsterKindId};
use crate::economy::{actions, apply, EconomyError, Inventory, Op, Source, Tx};
use crate::ids::{CharacterId, PlayerId, ZoneId};
use crate::math::Vec2;
use crate::persist::{Change, InventoryPart, Reply, StoreError};
use crate::protocol::{Cause, EconomyRefusal, EnhanceOutcome, ServerEconomy, ServerMsg};
use crate::rng::{self, StreamKind};
use crate::time::{Duration, Instant};
use crate::timers::TimerSet;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use std::collections::BTreeMap;

/// Slots of a new inventory.
pub const INVENTORY_SLOTS: usize = 40;
/// A change the store did not take is sent again this much later.
pub(super) const RETRY_MS: u64 = 1_000;
/// The index of the node's loot stream (0 is its resume tokens).
const LOOT_STREAM: u64 = 1;
/// The index of the node's enhancement stream.
const ENHANCE_STREAM: u64 = 2;

/// A transaction's name: its first part's character and sequence number.
pub type TxName = (CharacterId, u64);

#[derive(Debug)]
pub(super) struct Held {
    /// As the store last acknowledged it; `None` while loading.
    pub(super) inv: Option<Inventory>,
    /// A transaction touching it is in flight.
    pub(super) busy: bool,
    /// Its character is in the world.
    pub(super) playing: bool,
    pub(super) player: PlayerId,
    /// The last request number the client used (requests must rise).
    pub(super) last_req: u32,
    /// Battle pass progress not stored yet: kills, metres, enhancements.
    pub(super) pending: [u32; 3],
    /// Where it stood at the last walk sample, and the part of a metre
    /// walked since the last whole one (in 1/256 m).
    pub(super) last_pos: Option<(ZoneId, Vec2)>,
    pub(super) walked_raw: u64,
}

impl Held {
    pub(super) fn new(player: PlayerId) -> Held {
        Held {
            inv: None,
            busy: false,
            playing: true,
            player,
            last_req: 0,
            pending: [0; 3],
            last_pos: None,
            walked_raw: 0,
        }
    }
}

/// Why a transaction was made, for what its players are told when the
/// store has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Why {
    /// What it is for (its cause follows: [`TxKind::cause`]).
    pub kind: TxKind,
    /// The request it answers (first part only; 0: none).
    pub req: u32,
    pub enhanced: Option<EnhanceOutcome>,
}

impl Why {
    pub fn of(kind: TxKind) -> Why {
        Why {
            kind,
            req: 0,
            enhanced: None,
        }
    }

    /// A client's request number `req`, of `kind`.
    pub fn request(kind: TxKind, req: u32) -> Why {
        Why {
            req,
            ..Why::of(kind)
        }
    }

    pub fn cause(&self) -> Cause {
        self.kind.cause()
    }
}

#[derive(Debug)]
struct InFlight {
    change: Change,
    why: Why,
}

#[derive(Debug)]
pub(super) struct Wallets {
    /// Loot rolls: the node's own stream, so a roll never shifts its
    /// resume tokens or a zone's fights.
    loot_rng: ChaCha8Rng,
    pub(super) held: BTreeMap<CharacterId, Held>,
    in_flight: BTreeMap<TxName, InFlight>,
    /// Transactions to send again.
    retries: TimerSet<TxName>,
    /// Inventories to load again (the store failed to).
    pub(super) reloads: TimerSet<CharacterId>,
    /// Enhancement rolls: decided by the server, stored before shown.
    enhance_rng: ChaCha8Rng,
    pub(super) trades: Trades,
    /// Wall-clock time at the node's zero, in unix milliseconds (for the
    /// shop's days).
    pub(super) unix_ms_at_zero: u64,
    pub(super) next_walk_sample: Instant,
}

impl Wallets {
    pub(super) fn new(seed: u64) -> Self {
        Wallets {
            loot_rng: rng::stream(seed, StreamKind::Node, LOOT_STREAM),
            held: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            retries: TimerSet::default(),
            reloads: TimerSet::default(),
            enhance_rng: rng::stream(seed, StreamKind::Node, ENHANCE_STREAM),
            trades: Trades::default(),
            unix_ms_at_zero: 0,
            next_walk_sample: Instant::ZERO,
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

impl From<EconomyError> for EconomyRefusal {
    fn from(e: EconomyError) -> Self {
        match e {
            EconomyError::Sequence => EconomyRefusal::Busy,
            EconomyError::NoItem | EconomyError::UnknownItem => EconomyRefusal::NoItem,
            EconomyError::BadCount => EconomyRefusal::BadCount,
            EconomyError::NotEnoughGold => EconomyRefusal::NotEnoughGold,
            EconomyError::InventoryFull => EconomyRefusal::InventoryFull,
            EconomyError::NotAllowed | EconomyError::Unbalanced | EconomyError::BadParts => {
                EconomyRefusal::NotAllowed
            }
            EconomyError::SlotTaken => EconomyRefusal::SlotTaken,
            EconomyError::Overflow => EconomyRefusal::Overflow,
            EconomyError::SoldOut => EconomyRefusal::SoldOut,
            EconomyError::AlreadyClaimed => EconomyRefusal::AlreadyClaimed,
            EconomyError::NotReached => EconomyRefusal::NotReached,
        }
    }
}

impl From<TxRefusal> for EconomyRefusal {
    fn from(r: TxRefusal) -> Self {
        match r {
            TxRefusal::Busy => EconomyRefusal::Busy,
            TxRefusal::NotHere => EconomyRefusal::NotOnline,
            TxRefusal::Refused(e) => e.into(),
        }
    }
}

impl Node {
    /// The inventory of `character`, as the store last acknowledged it.
    pub fn inventory(&self, character: CharacterId) -> Option<&Inventory> {
        self.wallets.held.get(&character)?.inv.as_ref()
    }

    /// Every inventory the node holds as the store acknowledged it, and
    /// whether a transaction on it is in flight (for the simulator's checks).
    pub fn held_inventories(&self) -> impl Iterator<Item = (CharacterId, &Inventory, bool)> {
        self.wallets
            .held
            .iter()
            .filter_map(|(&c, h)| Some((c, h.inv.as_ref()?, h.busy)))
    }

    pub(super) fn held(&self, character: CharacterId) -> Option<&Held> {
        self.wallets.held.get(&character)
    }

    /// The wall clock at the node's zero (unix milliseconds): the shop's
    /// days (UTC) follow it. The simulator leaves it at 0.
    pub fn set_wall_clock(&mut self, unix_ms_at_zero: u64) {
        self.wallets.unix_ms_at_zero = unix_ms_at_zero;
    }

    /// Today (UTC), in days since the unix epoch.
    pub(super) fn economy_day(&self, now: Instant) -> u32 {
        let ms = self.wallets.unix_ms_at_zero + now.as_micros() / 1_000;
        (ms / 86_400_000) as u32
    }

    /// The next enhancement roll, 0 to 999.
    pub(super) fn enhancement_roll(&mut self) -> u16 {
        (self.wallets.enhance_rng.next_u64() % 1_000) as u16
    }

    /// Whether `req` may be served for `character`: above the last one.
    pub(super) fn take_req(&mut self, character: CharacterId, req: u32) -> bool {
        match self.wallets.held.get_mut(&character) {
            Some(h) if req > h.last_req => {
                h.last_req = req;
                true
            }
            _ => false,
        }
    }

    /// Decides `tx` on the inventories held and sends it to the store; it
    /// takes effect when the store acknowledges it.
    pub fn commit(&mut self, now: Instant, tx: Tx, why: Why) -> Result<TxName, TxRefusal> {
        self.commit_granting(now, tx, why, Vec::new())
    }

    /// [`Node::commit`], giving the owed raid rewards of `grants` (runs)
    /// to the first part's character with it ([`Change::CommitTx`]).
    pub(super) fn commit_granting(
        &mut self,
        now: Instant,
        tx: Tx,
        why: Why,
        grants: Vec<u64>,
    ) -> Result<TxName, TxRefusal> {
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
        let receipt = match apply(&tx, &mut invs, defs) {
            Ok(receipt) => receipt,
            Err(e) => {
                // A request's refusal is counted as it is answered.
                if why.cause() != Cause::Request {
                    self.stats.economy.count(why.kind, TxResult::Refused);
                }
                return Err(TxRefusal::Refused(e));
            }
        };
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
            grants,
        };
        if self
            .persist(now, change.clone(), Purpose::Commit { name })
            .is_none()
        {
            if why.cause() != Cause::Request {
                self.stats.economy.count(why.kind, TxResult::Refused);
            }
            return Err(TxRefusal::Busy);
        }
        for p in &tx.parts {
            if let Some(h) = self.wallets.held.get_mut(&p.character) {
                h.busy = true;
            }
        }
        self.wallets
            .in_flight
            .insert(name, InFlight { change, why });
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
                    change: Change::CommitTx { parts, receipt, .. },
                    why,
                }) = self.wallets.in_flight.remove(&name)
                else {
                    return;
                };
                self.stats.economy_committed += 1;
                self.event(super::NodeEvent::TransactionCommitted {
                    first: name.0,
                    seq: name.1,
                    parts: parts.iter().map(|p| (p.character, p.after.seq)).collect(),
                });
                self.stats.economy.count(why.kind, TxResult::Committed);
                self.stats.economy.receipt(&receipt);
                for (i, p) in parts.into_iter().enumerate() {
                    let why = if i == 0 { why } else { Why::of(why.kind) };
                    self.tx_applied(now, name, p.character, p.after, why);
                }
                self.wallets_idle(&characters);
                self.trade_settled(now, name, Ok(()));
                for &c in &characters {
                    self.save_completed_missions(now, c);
                }
            }
            Err(StoreError::Conflict) | Err(StoreError::NoSuchCharacter) => {
                // Decided on inventories the store no longer holds: drop it
                // and load what the store holds. Only a client's request is
                // answered: nobody asked for loot, a grant or a mission's
                // progress (and a trade's sides are told as it ends).
                if let Some(flight) = self.wallets.in_flight.remove(&name) {
                    self.stats
                        .economy
                        .count(flight.why.kind, TxResult::Conflict);
                    if flight.why.cause() == Cause::Request {
                        self.refuse(
                            now,
                            characters[0],
                            flight.why.req,
                            EconomyRefusal::Unavailable,
                        );
                    }
                }
                self.trade_settled(now, name, Err(EconomyRefusal::Unavailable));
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
                let kind = self.wallets.in_flight[&name].why.kind;
                self.stats.economy.count(kind, TxResult::Retried);
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
        self.commit(now, tx, Why::of(TxKind::Grant))
            .map_err(|r| format!("{r:?}"))
    }

    /// A player's own share of a monster's loot (nobody else can take it):
    /// rolled from the node's loot stream and minted into its inventory. A
    /// share that cannot be given (the inventory busy or full) is counted
    /// as lost.
    pub(super) fn drop_loot(&mut self, now: Instant, character: CharacterId, kind: MonsterKindId) {
        // The kill counts towards the pass after the loot is on its way (a
        // mission's transaction first would leave the loot no inventory).
        self.loot_share(now, character, kind);
        self.count_mission(now, character, MissionKind::Kill, 1);
    }

    fn loot_share(&mut self, now: Instant, character: CharacterId, kind: MonsterKindId) {
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
        match self.commit(now, tx, Why::of(TxKind::Loot)) {
            Ok(_) => self.stats.loot_given += 1,
            Err(_) => self.stats.loot_lost += 1,
        }
    }

    /// A transaction is in the store: `after` is the character's inventory
    /// now. Its player is told what changed; its gear, its trade and its
    /// pass follow.
    fn tx_applied(
        &mut self,
        now: Instant,
        name: TxName,
        character: CharacterId,
        after: Inventory,
        why: Why,
    ) {
        let Some(h) = self.wallets.held.get_mut(&character) else {
            return;
        };
        let before = h.inv.replace(after);
        let (player, playing) = (h.player, h.playing);
        let after = h.inv.as_ref().expect("just set");
        let worn_changed = before.as_ref().is_none_or(|b| b.equipped != after.equipped);
        if playing {
            let msg =
                ServerMsg::Economy(super::economy_views::changed(why, before.as_ref(), after));
            self.send_to_player(now, player, &msg);
        }
        if worn_changed {
            self.wear_gear(character);
        }
        self.trade_inventory_changed(now, character, name);
        if why.enhanced.is_some() {
            self.count_mission(now, character, MissionKind::Enhance, 1);
        }
    }

    /// Tells the client of `character` that request `req` was refused.
    pub(super) fn refuse(
        &mut self,
        now: Instant,
        character: CharacterId,
        req: u32,
        reason: EconomyRefusal,
    ) {
        self.stats.economy_refused += 1;
        self.stats.economy.refusal(reason);
        let Some(h) = self.wallets.held.get(&character).filter(|h| h.playing) else {
            return;
        };
        let player = h.player;
        let msg = ServerMsg::Economy(ServerEconomy::Refused { req, reason });
        self.send_to_player(now, player, &msg);
    }

    /// The character's zone fighter wears what its inventory says it wears.
    pub(super) fn wear_gear(&mut self, character: CharacterId) {
        let Some(h) = self.wallets.held.get(&character) else {
            return;
        };
        let (Some(inv), Some(at)) = (
            h.inv.as_ref(),
            self.players.get(h.player).and_then(|p| p.location),
        ) else {
            return;
        };
        let gear = inv.gear(&self.world.content().items);
        if let Some(zone) = self.world.zone_mut(at.zone) {
            zone.set_gear(at.entity, gear);
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
