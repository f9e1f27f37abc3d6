//! The trader: an honest player who fights for money and spends it. It
//! hunts as the fighter does (its own [`Fighter`]), and between blows works
//! its inventory through the economy's requests: it claims the pass levels
//! it reached, wears the best piece it has for each place, enhances when it
//! has the stones and the gold (taking the piece off first: only what is in
//! the bag can be enhanced), buys what it lacks and can afford (gear for an
//! empty place, stones to enhance with, a potion now and then) within the
//! shop's daily limits, sells its surplus (loot it carries too much of, gear
//! worse than what it wears), tidies now and then (sort, move, split, drop
//! one piece of junk) (those three in `shopping.rs`), and trades with other
//! traders (`haggle.rs`).
//!
//! One request at a time: each waits for the server's answer naming it
//! (`Changed` or `Refused`) before the next is sent; a trade request, which
//! is answered only by the trade's own messages when it succeeds, waits for
//! those or a quiet moment. A request nobody answered (its connection
//! dropped, the store was down long) is given up after [`UNANSWERED`].
//! Everything it decides comes from its own seeded stream. The catalogue
//! shows no stats, so a piece's sell price (and its enhancement level) is
//! the trader's measure of how good it is.

use super::haggle::Haggle;
use super::{Atlas, Fighter, Wander};
use game_core::client::{Client, ClientEvent};
use game_core::content::EquipSlot;
use game_core::economy::{ItemId, Stack};
use game_core::math::Vec2;
use game_core::protocol::{
    Catalogue, Cause, ClientEconomy, EnhanceOutcome, InventoryView, ServerEconomy,
};
use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::Serialize;
use std::collections::BTreeMap;

/// A request answered by neither `Changed` nor `Refused` this long is lost.
pub const UNANSWERED: Duration = Duration::from_secs(20);
/// A trade request with no refusal this long went through.
pub(super) const QUIET: Duration = Duration::from_millis(1_500);
/// Between two requests (the server's rate limit is far above).
const PACE: (u64, u64) = (800, 2_500);
/// Gold it keeps back from the shop.
pub(super) const RESERVE: u64 = 5;
/// Of a stackable loot item, it keeps this many and sells the rest.
pub(super) const KEEP: u32 = 5;
/// Free slots it wants; fewer and it sells junk first.
const ROOM: usize = 4;
/// After a refusal, the same kind of request waits this long (a claim
/// refused for a full bag must not come back at once, and forever).
const COOL: Duration = Duration::from_secs(10);

/// What a trader did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TradeTally {
    /// Requests sent, by [`ClientEconomy::label`].
    pub sent: BTreeMap<&'static str, u64>,
    /// `Changed` answers to its requests.
    pub changed: u64,
    /// Refusals by [`game_core::protocol::EconomyRefusal::label`].
    pub refusals: BTreeMap<&'static str, u64>,
    /// Requests given up unanswered.
    pub unanswered: u64,
    /// Gold its loot brought in.
    pub loot_gold: u64,
    /// Enhancement outcomes, by name.
    pub enhanced: BTreeMap<&'static str, u64>,
    /// How its trades ended, by name.
    pub trade_ends: BTreeMap<&'static str, u64>,
    /// Offers it changed after the other side had confirmed.
    pub offers_changed_after_confirm: u64,
}

impl TradeTally {
    pub fn add(&mut self, o: &TradeTally) {
        for (k, v) in &o.sent {
            *self.sent.entry(k).or_default() += v;
        }
        for (k, v) in &o.refusals {
            *self.refusals.entry(k).or_default() += v;
        }
        for (k, v) in &o.enhanced {
            *self.enhanced.entry(k).or_default() += v;
        }
        for (k, v) in &o.trade_ends {
            *self.trade_ends.entry(k).or_default() += v;
        }
        self.changed += o.changed;
        self.unanswered += o.unanswered;
        self.loot_gold += o.loot_gold;
        self.offers_changed_after_confirm += o.offers_changed_after_confirm;
    }

    pub fn sent_total(&self) -> u64 {
        self.sent.values().sum()
    }
}

/// How the request in flight is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wait {
    /// By `Changed` or `Refused` naming it.
    Answer,
    /// By `Refused` naming it, the trade's messages, or [`QUIET`].
    Quiet,
}

#[derive(Debug)]
struct Pending {
    req: u32,
    sent: Instant,
    wait: Wait,
    /// Its [`ClientEconomy::label`].
    label: &'static str,
}

#[derive(Debug)]
pub struct Trader {
    pub(super) fighter: Fighter,
    pub(super) rng: ChaCha8Rng,
    pending: Option<Pending>,
    next_action: Instant,
    /// The piece being enhanced, and the attempts left.
    pub(super) enhancing: Option<(ItemId, u32)>,
    /// Shop purchases today, by offer (from the inventory, then its own).
    pub(super) bought: BTreeMap<u16, u32>,
    /// Kinds of request refused lately, and until when they wait.
    cooling: BTreeMap<&'static str, Instant>,
    last_gold: u64,
    pub(super) haggle: Haggle,
    pub tally: TradeTally,
}

impl Trader {
    pub fn new(mut rng: ChaCha8Rng) -> Self {
        let ground = rng.next_u32() as usize;
        Trader {
            fighter: Fighter::new(ground),
            rng,
            pending: None,
            next_action: Instant::ZERO,
            enhancing: None,
            bought: BTreeMap::new(),
            cooling: BTreeMap::new(),
            last_gold: 0,
            haggle: Haggle::default(),
            tally: TradeTally::default(),
        }
    }

    /// Other traders it may ask by name.
    pub fn set_partners(&mut self, names: Vec<String>) {
        self.haggle.partners = names;
    }

    pub(super) fn wait(&mut self, (lo, hi): (u64, u64)) -> Duration {
        Duration::from_millis(lo + self.rng.next_u64() % (hi - lo).max(1))
    }

    pub(super) fn pick(&mut self, n: usize) -> usize {
        self.rng.next_u32() as usize % n.max(1)
    }

    /// An event the client emitted.
    pub fn on_event(&mut self, now: Instant, client: &Client, e: &ClientEvent) {
        self.fighter.on_event(now, client, e);
        let msg = match e {
            ClientEvent::Welcomed { .. } => {
                // A new connection: what was in flight on the old one is lost.
                self.pending = None;
                self.haggle.forget();
                return;
            }
            ClientEvent::Economy(msg) => msg,
            _ => return,
        };
        let settles = |p: &Pending, req: u32| p.req == req;
        match msg {
            ServerEconomy::Inventory(v) => {
                self.bought = v.bought_today.iter().copied().collect();
                self.last_gold = v.gold;
            }
            ServerEconomy::Changed {
                req,
                cause,
                gold,
                enhanced,
                ..
            } => {
                if *cause == Cause::Loot {
                    self.tally.loot_gold += gold.saturating_sub(self.last_gold);
                }
                self.last_gold = *gold;
                if let Some(outcome) = enhanced {
                    *self
                        .tally
                        .enhanced
                        .entry(outcome_label(*outcome))
                        .or_default() += 1;
                    if *outcome == EnhanceOutcome::Destroyed {
                        self.enhancing = None;
                    }
                }
                if *cause == Cause::Request
                    && self.pending.as_ref().is_some_and(|p| settles(p, *req))
                {
                    self.tally.changed += 1;
                    self.settle(now);
                }
            }
            ServerEconomy::Refused { req, reason } => {
                *self.tally.refusals.entry(reason.label()).or_default() += 1;
                if let Some(p) = self.pending.as_ref().filter(|p| settles(p, *req)) {
                    self.cooling.insert(p.label, now + COOL);
                    match p.label {
                        // Not enough of something: stop enhancing for now.
                        "enhance" | "unequip" => self.enhancing = None,
                        "trade_request" => self.haggle.ask_refused(),
                        _ => {}
                    }
                    self.settle(now);
                }
            }
            ServerEconomy::Trade(_) | ServerEconomy::TradeClosed { .. }
                if self.pending.as_ref().is_some_and(|p| p.wait == Wait::Quiet) =>
            {
                self.settle(now);
            }
            _ => {}
        }
        self.haggle.on_message(now, msg, &mut self.tally);
    }

    fn settle(&mut self, now: Instant) {
        if let Some(p) = self.pending.take() {
            if p.label == "enhance" {
                if let Some((_, left)) = self.enhancing.as_mut() {
                    *left = left.saturating_sub(1);
                }
            }
        }
        let pace = self.pace();
        self.next_action = now + self.wait(pace);
    }

    /// Quicker in a trade: its partner is waiting.
    fn pace(&self) -> (u64, u64) {
        if self.haggle.trading() {
            (300, 900)
        } else {
            PACE
        }
    }

    /// One step: fights (the velocity to move at), then at most one
    /// economy request.
    pub fn step(
        &mut self,
        now: Instant,
        client: &mut Client,
        atlas: &Atlas,
        wander: &mut Wander,
        every: Duration,
    ) -> Option<Vec2> {
        let v = self.fighter.step(now, client, atlas, wander, every);
        self.trade_step(now, client);
        v
    }

    fn trade_step(&mut self, now: Instant, client: &mut Client) {
        let e = client.economy();
        if e.inventory.is_none() || e.catalogue.is_none() || client.avatar().is_none() {
            return;
        }
        if let Some(p) = &self.pending {
            let patience = match p.wait {
                Wait::Answer => UNANSWERED,
                Wait::Quiet => QUIET,
            };
            if now.saturating_since(p.sent) < patience {
                return;
            }
            if p.wait == Wait::Answer {
                self.tally.unanswered += 1;
            }
            self.settle(now);
            return;
        }
        if now < self.next_action {
            return;
        }
        let req = e.last_req + 1;
        let Some((request, wait)) = self.choose(now, client, req) else {
            let pace = self.pace();
            self.next_action = now + self.wait(pace);
            return;
        };
        let label = request.label();
        *self.tally.sent.entry(label).or_default() += 1;
        if let ClientEconomy::Buy { offer, .. } = request {
            *self.bought.entry(offer).or_default() += 1;
        }
        let sent = client.economy_request(|n| {
            debug_assert_eq!(n, req);
            request
        });
        self.pending = Some(Pending {
            req: sent,
            sent: now,
            wait,
            label,
        });
    }

    /// The next request, numbered `req`.
    fn choose(&mut self, now: Instant, client: &Client, req: u32) -> Option<(ClientEconomy, Wait)> {
        let (rng, tally) = (&mut self.rng, &mut self.tally);
        if let Some(step) = self.haggle.in_trade(now, client, req, rng, tally) {
            return step.map(|r| (r, Wait::Quiet));
        }
        if let Some(r) = self.haggle.answer(now, req, &mut self.rng) {
            return Some((r, Wait::Quiet));
        }
        let e = client.economy();
        let (inv, cat) = (e.inventory.as_ref()?, e.catalogue.as_ref()?);
        self.cooling.retain(|_, until| *until > now);
        let cooling: Vec<&str> = self.cooling.keys().copied().collect();
        let ready = |label: &str| !cooling.contains(&label);
        let answer = |r| Some((r, Wait::Answer));
        if let Some(level) = claimable(client).filter(|_| ready("claim")) {
            return answer(ClientEconomy::Claim { req, level });
        }
        if ready("enhance") && ready("unequip") {
            if let Some(r) = self.enhance(inv, cat, req) {
                return answer(r);
            }
        }
        if let Some(from) = self.better_gear(inv, cat).filter(|_| ready("equip")) {
            return answer(ClientEconomy::Equip { req, from });
        }
        let tight = inv.slots.iter().filter(|s| s.is_none()).count() < ROOM;
        if tight && ready("sell") {
            if let Some(r) = self.sell(inv, cat, req, true) {
                return answer(r);
            }
        }
        let r = match self.rng.next_u32() % 100 {
            0..=34 => self.buy(inv, cat, req),
            35..=59 => self.sell(inv, cat, req, false),
            60..=74 => self.tidy(inv, cat, req),
            _ => {
                let roll = self.rng.next_u32();
                return self.haggle.ask(now, req, roll).map(|r| (r, Wait::Quiet));
            }
        }?;
        (!self.cooling.contains_key(r.label())).then_some((r, Wait::Answer))
    }

    /// The next step of an enhancement: start one when it can pay for it,
    /// take the piece off if it is worn, then attempt.
    fn enhance(&mut self, inv: &InventoryView, cat: &Catalogue, req: u32) -> Option<ClientEconomy> {
        let stones = count_of(inv, cat.stone);
        let affordable = |s: &Stack| {
            cat.steps
                .get(s.plus as usize)
                .is_some_and(|st| stones >= st.stones as u64 && inv.gold >= st.cost_gold + RESERVE)
                && cat
                    .items
                    .get(s.def.0 as usize)
                    .is_some_and(|i| s.plus < i.max_plus)
        };
        if self.enhancing.is_none_or(|(_, left)| left == 0) {
            self.enhancing = None;
            // The best piece it has, worn or not.
            let best = inv
                .equipped
                .iter()
                .flatten()
                .chain(inv.slots.iter().flatten())
                .filter(|s| {
                    cat.items
                        .get(s.def.0 as usize)
                        .is_some_and(|i| i.slot.is_some())
                })
                .filter(|s| affordable(s))
                .max_by_key(|s| (worth(cat, s), s.id))?;
            let attempts = 1 + self.rng.next_u32() % 3;
            self.enhancing = Some((best.id, attempts));
        }
        let (id, _) = self.enhancing?;
        if let Some(at) = inv
            .equipped
            .iter()
            .position(|s| s.is_some_and(|s| s.id == id))
        {
            let Some(to) = inv.slots.iter().position(|s| s.is_none()) else {
                self.enhancing = None;
                return None;
            };
            return Some(ClientEconomy::Unequip {
                req,
                slot: EquipSlot::ALL[at],
                to: to as u16,
            });
        }
        let Some((slot, s)) = stacks(inv).find(|(_, s)| s.id == id) else {
            self.enhancing = None;
            return None;
        };
        if !affordable(s) {
            self.enhancing = None;
            return None;
        }
        Some(ClientEconomy::Enhance { req, slot })
    }

    /// A piece in the bag better than what is worn in its place (never the
    /// one being enhanced).
    fn better_gear(&self, inv: &InventoryView, cat: &Catalogue) -> Option<u16> {
        let busy = self.enhancing.map(|(id, _)| id);
        stacks(inv)
            .filter(|(_, s)| Some(s.id) != busy)
            .filter_map(|(slot, s)| {
                let place = cat.items.get(s.def.0 as usize)?.slot?;
                let worn = worn_at(inv, place).map_or(0, |w| worth(cat, w));
                (worth(cat, s) > worn).then_some((worth(cat, s), slot))
            })
            .max()
            .map(|(_, slot)| slot)
    }
}

/// The partners of the trader `me` among `traders` (bot indices, sorted):
/// up to four before it and four after it, around the ring.
pub fn ring_partners(traders: &[usize], me: usize) -> Vec<usize> {
    let Ok(at) = traders.binary_search(&me) else {
        return Vec::new();
    };
    let n = traders.len();
    let mut out: Vec<usize> = (1..=4.min(n / 2))
        .flat_map(|d| [traders[(at + d) % n], traders[(at + n - d) % n]])
        .filter(|&j| j != me)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The lowest pass level reached and not claimed.
fn claimable(client: &Client) -> Option<u8> {
    let pass = client.economy().pass.as_ref()?;
    let p = &pass.progress;
    pass.levels
        .iter()
        .enumerate()
        .take(64)
        .map(|(i, l)| (i as u8 + 1, l))
        .find(|(n, l)| p.xp >= l.xp && p.claimed & (1u64 << (n - 1)) == 0)
        .map(|(n, _)| n)
}

/// The stacks in the bag, with their slots.
pub(super) fn stacks(inv: &InventoryView) -> impl Iterator<Item = (u16, &Stack)> {
    inv.slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((i as u16, s.as_ref()?)))
}

pub(super) fn count_of(inv: &InventoryView, def: game_core::content::ItemDefId) -> u64 {
    stacks(inv)
        .filter(|(_, s)| s.def == def)
        .map(|(_, s)| s.count as u64)
        .sum()
}

pub(super) fn worn_at(inv: &InventoryView, place: EquipSlot) -> Option<&Stack> {
    let i = EquipSlot::ALL.iter().position(|&p| p == place)?;
    inv.equipped.get(i)?.as_ref()
}

/// How good a piece is, to the trader: its sell price, a tenth more per
/// enhancement level.
pub(super) fn worth(cat: &Catalogue, s: &Stack) -> u64 {
    let price = cat.items.get(s.def.0 as usize).map_or(0, |i| i.sell_price);
    price * (10 + s.plus as u64)
}

fn outcome_label(o: EnhanceOutcome) -> &'static str {
    match o {
        EnhanceOutcome::Success => "success",
        EnhanceOutcome::Fail => "fail",
        EnhanceOutcome::Downgrade => "downgrade",
        EnhanceOutcome::Destroyed => "destroyed",
    }
}
