//! The economy load: bots shopping, enhancing, moving stacks and trading in
//! pairs, as clients would (one request waiting for its answer at a time),
//! beside the same players moving without it (see the bin's header).

use crate::node::{frame, Driver, Spent};
use game_core::content::ItemDefId;
use game_core::economy::Inventory;
use game_core::protocol::{Cause, ClientEconomy, ClientMsg, ServerEconomy, TradeEnd, TradeView};
use serde::Serialize;
use sim::report::Percentiles;
use std::collections::BTreeMap;
use std::time::{Duration as Wall, Instant as Clock};

pub const TICK_HZ: u64 = 20;
const PLAYERS_PER_CHANNEL: usize = 1000;
/// Ticks at the start of each block left out of the tick samples: the
/// other kind's answers still arriving (a trade's last steps, acks).
const SETTLE_TICKS: usize = 10;
/// A trade not closed after this long is cancelled (a lost step).
const TRADE_GIVE_UP: Wall = Wall::from_secs(5);
/// Gold, stones and a sword each bot starts with (granted by the operator).
pub const START_GOLD: u64 = 1_000_000;
pub const START_STONES: u64 = 99;
/// Potions a bot keeps about (it buys below, sells above).
const POTIONS_KEPT: u64 = 30;
/// An enhanced sword is sold at this level and a new one bought.
const SELL_SWORD_AT: u8 = 5;

/// What a request asks for (the transaction it becomes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Kind {
    Buy,
    Sell,
    Enhance,
    Move,
    Trade,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Buy,
        Kind::Sell,
        Kind::Enhance,
        Kind::Move,
        Kind::Trade,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Buy => "buy",
            Kind::Sell => "sell",
            Kind::Enhance => "enhance",
            Kind::Move => "move",
            Kind::Trade => "trade",
        }
    }
}

/// A bot's actions go round this: buy 30%, enhance 30%, sell 20%, move 10%,
/// trade 10% (an enhancement becomes a purchase or a sale when the sword is
/// gone or done, a trade a purchase when the partner is busy).
const CYCLE: [Kind; 10] = [
    Kind::Buy,
    Kind::Enhance,
    Kind::Move,
    Kind::Sell,
    Kind::Trade,
    Kind::Buy,
    Kind::Enhance,
    Kind::Sell,
    Kind::Buy,
    Kind::Enhance,
];

/// The request a bot waits for.
struct Waiting {
    req: u32,
    kind: Kind,
    /// When its bytes went to the node.
    at: Clock,
    /// Sent in a measured economy block.
    counted: bool,
}

/// A bot's part in a trade with its partner (`i ^ 1`).
struct Trading {
    partner: usize,
    initiator: bool,
    since: Clock,
    counted: bool,
    /// This side's offer is sent.
    offered: bool,
    /// The version this side last confirmed.
    confirmed: Option<u32>,
    /// When the newest confirmation of either side went to the node (the
    /// initiator keeps it: the swap is made at the second one).
    last_confirm: Option<Clock>,
}

#[derive(Default)]
struct Bot {
    req: u32,
    actions: u64,
    waiting: Option<Waiting>,
    trade: Option<Trading>,
    /// Its bytes for the next tick.
    buf: Vec<u8>,
    /// Its next bytes include the request it waits for, or a trade
    /// confirmation (each stamped when its bytes go to the node).
    stamp_waiting: bool,
    confirms: bool,
}

impl Bot {
    fn free(&self) -> bool {
        self.waiting.is_none() && self.trade.is_none()
    }

    fn next_req(&mut self) -> u32 {
        self.req += 1;
        self.req
    }
}

/// The items and offers the bots use.
struct Catalogue {
    potion: ItemDefId,
    sword: ItemDefId,
    stone: ItemDefId,
    potion_offer: u16,
    sword_offer: u16,
    stone_offer: u16,
}

impl Catalogue {
    fn of(d: &Driver) -> Self {
        let content = d.node.world().content();
        let def = |name: &str| content.item_named(name).expect("a sample item").id;
        let offer = |item: ItemDefId| {
            content
                .shop
                .iter()
                .position(|o| o.item == item && o.count == 1)
                .expect("a shop offer of one") as u16
        };
        let (potion, sword, stone) = (
            def("minor_potion"),
            def("rusty_sword"),
            def("enhancement_stone"),
        );
        Catalogue {
            potion,
            sword,
            stone,
            potion_offer: offer(potion),
            sword_offer: offer(sword),
            stone_offer: offer(stone),
        }
    }
}

#[derive(Debug, Default, Serialize, Clone)]
pub struct Timing {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Timing {
    fn of(samples: &mut [u64]) -> Self {
        let p = Percentiles::of(samples);
        Timing {
            p50_ms: p.p50_ms,
            p99_ms: p.p99_ms,
            max_ms: p.max_ms,
        }
    }
}

/// One kind of transaction over the measured economy blocks.
#[derive(Debug, Default, Serialize, Clone)]
pub struct KindRow {
    pub kind: &'static str,
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    pub latency: Timing,
}

#[derive(Debug, Serialize)]
pub struct Results {
    pub players: usize,
    pub channels: usize,
    pub block: usize,
    pub blocks: usize,
    /// Ticks sampled of each kind (each block's first `SETTLE_TICKS` left out).
    pub ticks_each: usize,
    /// Wall seconds of the economy blocks.
    pub economy_seconds: f64,
    pub scheduled_per_s: f64,
    pub sent_per_s: f64,
    pub acked_per_s: f64,
    /// `CommitTx` answered `Done` by the store in the economy blocks (the
    /// requests' and trades' transactions, and the pass's missions).
    pub stored_per_s: f64,
    pub commits_failed: u64,
    pub queue_refused: u64,
    /// SQL transactions (group commits) in the economy blocks.
    pub sql_commits_per_s: f64,
    pub intents_per_sql_commit: f64,
    pub sql_commit_ms_mean: f64,
    pub sql_commit_ms_max: f64,
    /// Share of the economy blocks' wall time the store worker spent in
    /// transactions.
    pub store_busy: f64,
    pub latency: Timing,
    pub kinds: Vec<KindRow>,
    pub refusals: BTreeMap<&'static str, u64>,
    pub trade_ends: BTreeMap<String, u64>,
    /// Scheduled actions whose bot was still busy (another took it), and
    /// those no bot was free for.
    pub deferred: u64,
    pub unserved: u64,
    pub tick_off: Timing,
    pub tick_on: Timing,
    pub tick_cpu_off: Timing,
    pub tick_cpu_on: Timing,
    pub node_off: Timing,
    pub node_on: Timing,
    pub node_cpu_off: Timing,
    pub node_cpu_on: Timing,
    pub allocs_per_tick_off: f64,
    pub allocs_per_tick_on: f64,
    pub overruns_off: u64,
    pub overruns_on: u64,
    pub closes: u64,
    pub durability: String,
    /// Rows in the SQLite file's ledger after the run, and `CommitTx`
    /// answered `Done` over the whole run (setup included).
    pub ledger_rows: u64,
    pub stored_total: u64,
}

/// What the load keeps between ticks.
pub struct Load {
    n: usize,
    bots: Vec<Bot>,
    catalogue: Catalogue,
    /// Transactions a second the schedule asks for (economy blocks).
    rate: u64,
    /// Since when the economy block runs, and actions scheduled in it: the
    /// schedule follows the wall clock, so a late tick does not lower it.
    block_start: Option<(Clock, u64)>,
    cursor: usize,
    step: usize,
    ticks: u64,
    /// Counting (a measured block is running, or its answers arriving).
    measuring: bool,
    /// The current block is a measured economy block.
    counting: bool,
    latencies: Vec<u64>,
    kinds: [KindRow; 5],
    kind_latencies: [Vec<u64>; 5],
    scheduled: u64,
    refusals: BTreeMap<&'static str, u64>,
    trade_ends: BTreeMap<String, u64>,
    deferred: u64,
    unserved: u64,
}

fn kind_index(k: Kind) -> usize {
    Kind::ALL.iter().position(|&x| x == k).expect("a kind")
}

fn econ(m: ClientEconomy) -> ClientMsg {
    ClientMsg::Economy(m)
}

/// A step through `0..n` that visits every index: a prime not dividing `n`.
fn step_for(n: usize) -> usize {
    [7919, 7907, 7901, 7883]
        .into_iter()
        .find(|p| n % p != 0)
        .unwrap_or(1)
}

impl Load {
    pub fn new(d: &Driver, rate: u64) -> Self {
        let n = d.clients.len();
        Load {
            n,
            // Each bot starts at its own place in the cycle.
            bots: (0..n)
                .map(|i| Bot {
                    actions: i as u64,
                    ..Bot::default()
                })
                .collect(),
            catalogue: Catalogue::of(d),
            rate,
            block_start: None,
            cursor: 0,
            step: step_for(n),
            ticks: 0,
            measuring: false,
            counting: false,
            latencies: Vec::new(),
            kinds: Kind::ALL.map(|k| KindRow {
                kind: k.label(),
                ..KindRow::default()
            }),
            kind_latencies: Default::default(),
            scheduled: 0,
            refusals: BTreeMap::new(),
            trade_ends: BTreeMap::new(),
            deferred: 0,
            unserved: 0,
        }
    }

    /// One tick of play: movement inputs from half the players (10 Hz
    /// each), the economy requests due if `economy`, the bots' answers to
    /// what they heard; then the node's tick. Returns the tick's
    /// `handle_timeout` time, its allocations, and everything the node did
    /// since the last tick.
    async fn tick(&mut self, d: &mut Driver, economy: bool) -> (Spent, u64, Spent) {
        while !d.until_tick(None).await {}
        self.hear(d);
        self.ticks += 1;
        for i in 0..self.n {
            if (i as u64 + self.ticks) % 2 == 0 {
                if let Some(m) = d.move_input(i) {
                    frame(&[m], &mut self.bots[i].buf);
                }
            }
        }
        if economy {
            self.schedule(d);
        } else {
            self.block_start = None;
        }
        self.give_up_trades(d);
        let batch: Vec<(usize, Vec<u8>)> = self
            .bots
            .iter_mut()
            .enumerate()
            .filter(|(_, b)| !b.buf.is_empty())
            .map(|(i, b)| (i, std::mem::take(&mut b.buf)))
            .collect();
        let bots = &mut self.bots;
        d.inputs(&batch, |i| {
            let b = &mut bots[i];
            if std::mem::take(&mut b.stamp_waiting) {
                if let Some(w) = b.waiting.as_mut() {
                    w.at = Clock::now();
                }
            }
            if std::mem::take(&mut b.confirms) {
                let owner = b
                    .trade
                    .as_ref()
                    .map(|t| if t.initiator { i } else { t.partner });
                if let Some(t) = owner.and_then(|o| bots[o].trade.as_mut()) {
                    t.last_confirm = Some(Clock::now());
                }
            }
        });
        let (tick, allocations) = d.tick();
        self.hear(d);
        (tick, allocations, d.take_busy())
    }

    /// The actions due by now in this economy block (`rate` a second by the
    /// wall clock, the first tick's share at once), each by the next free bot.
    fn schedule(&mut self, d: &mut Driver) {
        let (start, done) = *self.block_start.get_or_insert((Clock::now(), 0));
        let elapsed = start.elapsed().as_secs_f64() + 1.0 / TICK_HZ as f64;
        let due = ((self.rate as f64 * elapsed) as u64).saturating_sub(done);
        if let Some((_, done)) = self.block_start.as_mut() {
            *done += due;
        }
        for _ in 0..due {
            if self.counting {
                self.scheduled += 1;
            }
            let mut found = None;
            for tries in 0..self.n {
                let i = self.cursor;
                self.cursor = (self.cursor + self.step) % self.n;
                if self.bots[i].free() {
                    if tries > 0 && self.counting {
                        self.deferred += 1;
                    }
                    found = Some(i);
                    break;
                }
            }
            match found {
                Some(i) => self.act(d, i),
                None if self.counting => self.unserved += 1,
                None => {}
            }
        }
    }

    /// Bot `i`'s next action.
    fn act(&mut self, d: &Driver, i: usize) {
        let b = &mut self.bots[i];
        let wanted = CYCLE[(b.actions % CYCLE.len() as u64) as usize];
        b.actions += 1;
        let partner = i ^ 1;
        if wanted == Kind::Trade && partner < self.n && self.bots[partner].free() {
            self.start_trade(d, i, partner);
            return;
        }
        let Some(inv) = d.node.inventory(d.clients[i].character) else {
            return;
        };
        let wanted = if wanted == Kind::Trade {
            Kind::Buy
        } else {
            wanted
        };
        let b = &mut self.bots[i];
        let req = b.next_req();
        let (kind, request) = request(&self.catalogue, inv, wanted, req);
        frame(&[econ(request)], &mut b.buf);
        b.waiting = Some(Waiting {
            req,
            kind,
            at: Clock::now(),
            counted: self.counting,
        });
        b.stamp_waiting = true;
        if self.counting {
            self.kinds[kind_index(kind)].sent += 1;
        }
    }

    fn start_trade(&mut self, d: &Driver, i: usize, partner: usize) {
        let now = Clock::now();
        let name = d.clients[partner].name.clone();
        let counting = self.counting;
        let side = |initiator, partner| Trading {
            partner,
            initiator,
            since: now,
            counted: counting,
            offered: false,
            confirmed: None,
            last_confirm: None,
        };
        self.bots[i].trade = Some(side(true, partner));
        self.bots[partner].trade = Some(side(false, i));
        let b = &mut self.bots[i];
        let req = b.next_req();
        frame(
            &[econ(ClientEconomy::TradeRequest { req, name })],
            &mut b.buf,
        );
        if counting {
            self.kinds[kind_index(Kind::Trade)].sent += 1;
        }
    }

    /// Trades stuck past `TRADE_GIVE_UP` (a step lost) are cancelled.
    fn give_up_trades(&mut self, _d: &Driver) {
        let now = Clock::now();
        for i in 0..self.n {
            let stuck = self.bots[i]
                .trade
                .as_ref()
                .is_some_and(|t| t.initiator && now.duration_since(t.since) > TRADE_GIVE_UP);
            if stuck {
                let partner = self.bots[i].trade.as_ref().expect("stuck").partner;
                for k in [i, partner] {
                    let b = &mut self.bots[k];
                    b.trade = None;
                    let req = b.next_req();
                    frame(&[econ(ClientEconomy::TradeCancel { req })], &mut b.buf);
                }
                *self.trade_ends.entry("given up".into()).or_default() += 1;
            }
        }
    }

    /// What the bots heard since the last look.
    fn hear(&mut self, d: &mut Driver) {
        for (i, msg, at) in std::mem::take(&mut d.heard) {
            self.heard(d, i, msg, at);
        }
    }

    fn heard(&mut self, d: &Driver, i: usize, msg: ServerEconomy, at: Clock) {
        match msg {
            ServerEconomy::Changed {
                req,
                cause: Cause::Request,
                ..
            } => {
                let b = &mut self.bots[i];
                if let Some(w) = b.waiting.take_if(|w| w.req == req) {
                    if w.counted {
                        let us = at.duration_since(w.at).as_micros() as u64;
                        self.latencies.push(us);
                        let k = kind_index(w.kind);
                        self.kinds[k].acked += 1;
                        self.kind_latencies[k].push(us);
                    }
                }
            }
            ServerEconomy::Changed {
                cause: Cause::Trade,
                ..
            } => {
                if let Some(t) = self.bots[i].trade.as_ref().filter(|t| t.initiator) {
                    if let (true, Some(sent)) = (t.counted, t.last_confirm) {
                        let us = at.duration_since(sent).as_micros() as u64;
                        self.latencies.push(us);
                        let k = kind_index(Kind::Trade);
                        self.kinds[k].acked += 1;
                        self.kind_latencies[k].push(us);
                    }
                }
            }
            ServerEconomy::Refused { req, reason } => {
                if self.measuring {
                    *self.refusals.entry(reason.label()).or_default() += 1;
                }
                let b = &mut self.bots[i];
                if let Some(w) = b.waiting.take_if(|w| w.req == req) {
                    if w.counted {
                        self.kinds[kind_index(w.kind)].refused += 1;
                    }
                } else if let Some(t) = b.trade.as_ref() {
                    use game_core::protocol::EconomyRefusal as R;
                    // A confirmation overtaken by a change, or made while
                    // an inventory was busy: the next view is confirmed.
                    if !matches!(reason, R::TradeChanged | R::Busy) {
                        let (counted, partner) = (t.counted && t.initiator, t.partner);
                        b.trade = None;
                        if counted {
                            self.kinds[kind_index(Kind::Trade)].refused += 1;
                        }
                        if self.bots[partner]
                            .trade
                            .as_ref()
                            .is_some_and(|t| t.partner == i)
                        {
                            self.bots[partner].trade = None;
                        }
                    }
                }
            }
            ServerEconomy::TradeRequested { from, .. } => {
                let b = &mut self.bots[i];
                let req = b.next_req();
                let ours = b.trade.as_ref().is_some_and(|t| {
                    !t.initiator && d.clients[t.partner].character == from.character
                });
                frame(
                    &[econ(ClientEconomy::TradeAnswer {
                        req,
                        from: from.character,
                        accept: ours,
                    })],
                    &mut b.buf,
                );
            }
            ServerEconomy::Trade(view) => self.trade_view(d, i, &view),
            ServerEconomy::TradeClosed { end } => {
                let b = &mut self.bots[i];
                if let Some(t) = b.trade.take() {
                    if t.initiator {
                        if self.measuring {
                            let label = match end {
                                TradeEnd::Failed(r) => format!("failed: {}", r.label()),
                                other => format!("{other:?}").to_lowercase(),
                            };
                            *self.trade_ends.entry(label).or_default() += 1;
                        }
                        if end != TradeEnd::Done && t.counted {
                            self.kinds[kind_index(Kind::Trade)].refused += 1;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// A trade's view: put up this side's offer once, then confirm each
    /// version that shows both offers and lacks this side's confirmation.
    /// The initiator gives 10 gold; its partner a potion (or 5 gold).
    fn trade_view(&mut self, d: &Driver, i: usize, view: &TradeView) {
        let potion = self.catalogue.potion;
        let b = &mut self.bots[i];
        let Some(t) = b.trade.as_mut() else {
            return;
        };
        if !t.offered {
            t.offered = true;
            let (items, gold) = if t.initiator {
                (vec![], 10)
            } else {
                let inv = d.node.inventory(d.clients[i].character);
                match inv.and_then(|inv| slot_of(inv, potion)) {
                    Some(slot) => (vec![(slot, 1)], 0),
                    None => (vec![], 5),
                }
            };
            b.req += 1;
            let req = b.req;
            frame(
                &[econ(ClientEconomy::TradeOffer { req, items, gold })],
                &mut b.buf,
            );
            return;
        }
        let mine = !view.mine.items.is_empty() || view.mine.gold > 0;
        let theirs = !view.theirs.items.is_empty() || view.theirs.gold > 0;
        if mine && theirs && !view.confirmed.0 && t.confirmed != Some(view.version) {
            t.confirmed = Some(view.version);
            b.req += 1;
            let req = b.req;
            frame(
                &[econ(ClientEconomy::TradeConfirm {
                    req,
                    version: view.version,
                })],
                &mut b.buf,
            );
            b.confirms = true;
        }
    }
}

/// The first slot holding `def`.
fn slot_of(inv: &Inventory, def: ItemDefId) -> Option<u16> {
    inv.slots
        .iter()
        .position(|s| s.is_some_and(|s| s.def == def))
        .map(|i| i as u16)
}

/// The request for `wanted` given the inventory: a purchase of a potion
/// (or a sale, holding many), a sale of one (or a purchase, holding none),
/// an enhancement of the sword (or buying one, or stones, or selling it
/// once enhanced), a stack moved to the last slot and back.
fn request(c: &Catalogue, inv: &Inventory, wanted: Kind, req: u32) -> (Kind, ClientEconomy) {
    let potion_slot = slot_of(inv, c.potion);
    let buy = |offer| (Kind::Buy, ClientEconomy::Buy { req, offer });
    let sell = |slot| {
        (
            Kind::Sell,
            ClientEconomy::Sell {
                req,
                slot,
                count: 1,
            },
        )
    };
    match wanted {
        Kind::Buy | Kind::Trade => match potion_slot {
            Some(slot) if inv.count_of(c.potion) >= POTIONS_KEPT => sell(slot),
            _ => buy(c.potion_offer),
        },
        Kind::Sell => match potion_slot {
            Some(slot) => sell(slot),
            None => buy(c.potion_offer),
        },
        Kind::Enhance => match slot_of(inv, c.sword) {
            None => buy(c.sword_offer),
            Some(slot) => {
                let plus = inv.slots[slot as usize].map_or(0, |s| s.plus);
                if plus >= SELL_SWORD_AT {
                    sell(slot)
                } else if inv.count_of(c.stone) < 3 {
                    buy(c.stone_offer)
                } else {
                    (Kind::Enhance, ClientEconomy::Enhance { req, slot })
                }
            }
        },
        Kind::Move => {
            let last = inv.slots.len() as u16 - 1;
            let first_empty = inv.slots.iter().position(Option::is_none);
            let first_full = inv.slots.iter().position(Option::is_some);
            let (from, to) = match (inv.slots[last as usize], first_empty, first_full) {
                (None, _, Some(full)) => (full as u16, last),
                (Some(_), Some(empty), _) => (last, empty as u16),
                _ => (0, 1),
            };
            (Kind::Move, ClientEconomy::Move { req, from, to })
        }
    }
}

/// Builds the node on the store and runs the blocks: `blocks` of each
/// kind, `block` ticks each, alternating (no economy first).
pub async fn bench(
    d: &mut Driver,
    players: usize,
    rate: u64,
    block: usize,
    blocks: usize,
) -> Results {
    eprintln!("bench-economy: {players} players log in, create characters, enter...");
    d.populate(players).await;
    eprintln!("bench-economy: starting purses (gold, stones, a sword each)...");
    d.grant_all("gold", START_GOLD).await;
    d.grant_all("enhancement_stone", START_STONES).await;
    d.grant_all("rusty_sword", 1).await;
    let mut load = Load::new(d, rate);
    eprintln!("bench-economy: warm-up...");
    let settle = SETTLE_TICKS.min(block / 4);
    for b in 0..2 {
        for _ in 0..block.min(40) {
            load.tick(d, b % 2 == 1).await;
        }
    }
    eprintln!(
        "bench-economy: {blocks} blocks of {block} ticks each, no economy / economy ({rate} tx/s)..."
    );
    load.measuring = true;
    // [economy][tick wall, tick cpu, node wall, node cpu] samples in µs.
    let mut samples: [[Vec<u64>; 4]; 2] = Default::default();
    let mut allocs = [0u64; 2];
    let mut overruns = [0u64; 2];
    let mut economy_wall = Wall::ZERO;
    let mut stored = 0u64;
    let (mut sql, mut sql_max_us) = (net_adapter::store::StoreStatsSnapshot::default(), 0);
    for b in 0..2 * blocks {
        let economy = b % 2 == 1;
        load.counting = economy;
        let started = Clock::now();
        let (stored_before, sql_before) = (d.commits.stored, d.store_stats());
        let overruns_before = d.node.stats().tick_overruns;
        for t in 0..block {
            let (tick, allocations, node) = load.tick(d, economy).await;
            if t < settle {
                continue;
            }
            let k = economy as usize;
            for (v, x) in samples[k]
                .iter_mut()
                .zip([tick.wall, tick.cpu, node.wall, node.cpu])
            {
                v.push(x.as_micros() as u64);
            }
            allocs[k] += allocations;
        }
        overruns[economy as usize] += d.node.stats().tick_overruns - overruns_before;
        if economy {
            economy_wall += started.elapsed();
            stored += d.commits.stored - stored_before;
            let s = d.store_stats();
            sql.batches += s.batches - sql_before.batches;
            sql.intents += s.intents - sql_before.intents;
            sql.commit_us_total += s.commit_us_total - sql_before.commit_us_total;
            sql_max_us = sql_max_us.max(s.commit_us_max);
        }
    }
    load.counting = false;
    // Answers still on their way arrive within the next ticks.
    for _ in 0..SETTLE_TICKS {
        load.tick(d, false).await;
    }
    d.pump_until("the last transactions", |d| {
        d.node.transactions_in_flight() == 0
    })
    .await;
    let seconds = economy_wall.as_secs_f64();
    let ticks_each = samples[0][0].len();
    let acked: u64 = load.kinds.iter().map(|k| k.acked).sum();
    let sent: u64 = load.kinds.iter().map(|k| k.sent).sum();
    let mut kinds = load.kinds.to_vec();
    for (k, lat) in kinds.iter_mut().zip(load.kind_latencies.iter_mut()) {
        k.latency = Timing::of(lat);
    }
    let durability = String::new();
    Results {
        players,
        channels: players.div_ceil(PLAYERS_PER_CHANNEL),
        block,
        blocks,
        ticks_each,
        economy_seconds: seconds,
        scheduled_per_s: load.scheduled as f64 / seconds,
        sent_per_s: sent as f64 / seconds,
        acked_per_s: acked as f64 / seconds,
        stored_per_s: stored as f64 / seconds,
        commits_failed: d.commits.failed,
        queue_refused: d.commits.refused_full,
        sql_commits_per_s: sql.batches as f64 / seconds,
        intents_per_sql_commit: sql.intents as f64 / sql.batches.max(1) as f64,
        sql_commit_ms_mean: sql.commit_us_total as f64 / sql.batches.max(1) as f64 / 1000.0,
        sql_commit_ms_max: sql_max_us as f64 / 1000.0,
        store_busy: sql.commit_us_total as f64 / 1e6 / seconds,
        latency: Timing::of(&mut load.latencies),
        kinds,
        refusals: load.refusals.clone(),
        trade_ends: load.trade_ends.clone(),
        deferred: load.deferred,
        unserved: load.unserved,
        tick_off: Timing::of(&mut samples[0][0]),
        tick_on: Timing::of(&mut samples[1][0]),
        tick_cpu_off: Timing::of(&mut samples[0][1]),
        tick_cpu_on: Timing::of(&mut samples[1][1]),
        node_off: Timing::of(&mut samples[0][2]),
        node_on: Timing::of(&mut samples[1][2]),
        node_cpu_off: Timing::of(&mut samples[0][3]),
        node_cpu_on: Timing::of(&mut samples[1][3]),
        allocs_per_tick_off: allocs[0] as f64 / ticks_each.max(1) as f64,
        allocs_per_tick_on: allocs[1] as f64 / samples[1][0].len().max(1) as f64,
        overruns_off: overruns[0],
        overruns_on: overruns[1],
        closes: d.closes,
        durability,
        ledger_rows: 0,
        stored_total: 0,
    }
}
