//! The sweep's scripted players and its operator.
//!
//! A bot works through its goals in order. Each goal is judged on what the
//! client was shown (its `EconomyView`), never on what it sent: a request
//! with no answer (its node crashed) is sent again only if, once the bot is
//! back in the world, the inventory still does not show the goal reached.
//! On every entry to the world a bot first sorts its bag, so the first
//! transaction after a node restart is another one than the one that was in
//! flight (a store must not take one for the other).

use super::world::World;
use game_core::client::EconomyView;
use game_core::content::ItemDefId;
use game_core::economy::Inventory;
use game_core::ids::CharacterId;
use game_core::protocol::{ClientEconomy, EconomyRefusal, EntityKind, ServerEconomy};
use game_core::time::{Duration, Instant};

/// After a refusal that says "not now", or a trade message, a bot waits this long.
const PAUSE: Duration = Duration::from_millis(300);
/// A request with no answer for this long is given up (and judged again).
const GIVE_UP: Duration = Duration::from_secs(20);
/// A trade request is sent again this often while no trade is open.
const ASK_EVERY: Duration = Duration::from_secs(2);

/// Where a scenario is: the operator's setup grants, then the bots' setup
/// goals, then (the crash armed) the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Grants,
    BotSetup,
    Armed,
}

/// A request, given its number.
type Request = Box<dyn FnOnce(u32) -> ClientEconomy>;

/// What a bot wants done, judged on what it was shown.
#[derive(Clone, Debug)]
pub enum Goal {
    /// Owns at least one `item`: buys offer `offer`.
    Buy { offer: u16, item: ItemDefId },
    /// Owns no `item`: sells its stack.
    SellAll { item: ItemDefId },
    /// `item` lies in slot `to`.
    Move { item: ItemDefId, to: u16 },
    /// A stack of exactly `count` of `item`, beside another: splits it off.
    Split { item: ItemDefId, count: u32 },
    /// Owns no `item`: deletes its stack.
    DeleteAll { item: ItemDefId },
    /// Wears `item`.
    Equip { item: ItemDefId },
    /// `item` is in the bag, not worn.
    Unequip { item: ItemDefId },
    /// The bag is in sorted order.
    Sort,
    /// Has fewer than `stones_below` of `stone`: one enhancement attempt on
    /// `item` (paid whatever its outcome) brings it there.
    Enhance {
        item: ItemDefId,
        stone: ItemDefId,
        stones_below: u64,
    },
    /// Pass level `level` is claimed.
    Claim { level: u8 },
    /// Waits until the pass has `xp` (a mission stored).
    PassXp { xp: u64 },
    /// Attacks the monster in its zone, once.
    Attack,
    /// Trades its `item` to `to` for `price` gold: done when it no longer
    /// has it.
    Give {
        to: &'static str,
        item: ItemDefId,
        price: u64,
    },
    /// Takes `item` from `from` for `price` gold: done when it has it.
    Take {
        from: &'static str,
        item: ItemDefId,
        price: u64,
    },
}

fn count_of(v: &EconomyView, item: ItemDefId) -> u64 {
    v.inventory.as_ref().map_or(0, |i| {
        i.slots
            .iter()
            .chain(i.equipped.iter())
            .flatten()
            .filter(|s| s.def == item)
            .map(|s| u64::from(s.count))
            .sum()
    })
}

fn slot_of(v: &EconomyView, item: ItemDefId) -> Option<(u16, u32)> {
    v.stacks()
        .find(|(_, s)| s.def == item)
        .map(|(i, s)| (i, s.count))
}

fn free_slot(v: &EconomyView) -> Option<u16> {
    let inv = v.inventory.as_ref()?;
    inv.slots.iter().position(|s| s.is_none()).map(|i| i as u16)
}

fn worn(v: &EconomyView, item: ItemDefId) -> Option<usize> {
    let inv = v.inventory.as_ref()?;
    inv.equipped
        .iter()
        .position(|s| s.is_some_and(|s| s.def == item))
}

/// Whether the bag is as `Op::Sort` leaves it.
fn sorted(v: &EconomyView) -> bool {
    let Some(inv) = v.inventory.as_ref() else {
        return false;
    };
    let stacks: Vec<_> = inv.slots.iter().flatten().collect();
    let mut want = stacks.clone();
    want.sort_by_key(|s| (s.def, std::cmp::Reverse(s.plus), s.id));
    stacks == want && inv.slots.iter().take(stacks.len()).all(|s| s.is_some())
}

impl Goal {
    pub fn reached(&self, v: &EconomyView, attacked: bool) -> bool {
        match *self {
            Goal::Buy { item, .. } => count_of(v, item) >= 1,
            Goal::SellAll { item } | Goal::DeleteAll { item } => count_of(v, item) == 0,
            Goal::Move { item, to } => v
                .inventory
                .as_ref()
                .and_then(|i| i.slots.get(to as usize).copied().flatten())
                .is_some_and(|s| s.def == item),
            Goal::Split { item, count } => {
                let stacks: Vec<u32> = v
                    .stacks()
                    .filter(|(_, s)| s.def == item)
                    .map(|(_, s)| s.count)
                    .collect();
                stacks.len() >= 2 && stacks.contains(&count)
            }
            Goal::Equip { item } => worn(v, item).is_some(),
            Goal::Unequip { item } => worn(v, item).is_none() && slot_of(v, item).is_some(),
            Goal::Sort => sorted(v),
            Goal::Enhance {
                stone,
                stones_below,
                ..
            } => count_of(v, stone) < stones_below,
            Goal::Claim { level } => v
                .pass_progress()
                .is_some_and(|p| p.claimed & (1 << (level - 1)) != 0),
            Goal::PassXp { xp } => v.pass_progress().is_some_and(|p| p.xp >= xp),
            Goal::Attack => attacked,
            Goal::Give { item, .. } => count_of(v, item) == 0 && v.trade.is_none(),
            Goal::Take { item, .. } => count_of(v, item) >= 1 && v.trade.is_none(),
        }
    }

    /// The request that works towards it, if one can be made from `v`.
    fn request(&self, v: &EconomyView) -> Option<Request> {
        let r: Request = match *self {
            Goal::Buy { offer, .. } => Box::new(move |req| ClientEconomy::Buy { req, offer }),
            Goal::SellAll { item } => {
                let (slot, count) = slot_of(v, item)?;
                Box::new(move |req| ClientEconomy::Sell { req, slot, count })
            }
            Goal::Move { item, to } => {
                let (from, _) = slot_of(v, item)?;
                Box::new(move |req| ClientEconomy::Move { req, from, to })
            }
            Goal::Split { item, count } => {
                let (from, _) = v.stacks().find(|(_, s)| s.def == item && s.count > count)?;
                let to = free_slot(v)?;
                Box::new(move |req| ClientEconomy::Split {
                    req,
                    from,
                    to,
                    count,
                })
            }
            Goal::DeleteAll { item } => {
                let (slot, count) = slot_of(v, item)?;
                Box::new(move |req| ClientEconomy::Delete { req, slot, count })
            }
            Goal::Equip { item } => {
                let (from, _) = slot_of(v, item)?;
                Box::new(move |req| ClientEconomy::Equip { req, from })
            }
            Goal::Unequip { item } => {
                let at = worn(v, item)?;
                let slot = game_core::content::EquipSlot::ALL[at];
                let to = free_slot(v)?;
                Box::new(move |req| ClientEconomy::Unequip { req, slot, to })
            }
            Goal::Sort => Box::new(|req| ClientEconomy::Sort { req }),
            Goal::Enhance { item, .. } => {
                let (slot, _) = slot_of(v, item)?;
                Box::new(move |req| ClientEconomy::Enhance { req, slot })
            }
            Goal::Claim { level } => Box::new(move |req| ClientEconomy::Claim { req, level }),
            Goal::PassXp { .. } | Goal::Attack | Goal::Give { .. } | Goal::Take { .. } => {
                return None
            }
        };
        Some(r)
    }
}

/// One scripted player.
#[derive(Debug)]
pub struct Bot {
    pub peer: usize,
    pub goals: Vec<Goal>,
    /// `goals[..setup]` are reached before the crash plan is armed.
    pub setup: usize,
    next: usize,
    /// The request waiting for its answer: number, when sent, whether it
    /// serves a goal (or is the sort on entry).
    awaiting: Option<(u32, Instant, bool)>,
    entries_seen: u64,
    tidy_due: bool,
    pause_until: Instant,
    attacked: bool,
    asked_at: Option<Instant>,
    /// Refusals no sound server gives this script.
    pub unexpected: Vec<String>,
}

impl Bot {
    pub fn new(peer: usize, goals: Vec<Goal>, setup: usize) -> Bot {
        Bot {
            peer,
            goals,
            setup,
            next: 0,
            awaiting: None,
            entries_seen: 0,
            tidy_due: false,
            pause_until: Instant::ZERO,
            attacked: false,
            asked_at: None,
            unexpected: Vec::new(),
        }
    }

    /// Past its setup goals (and not waiting for an answer).
    pub fn set_up(&self) -> bool {
        self.next >= self.setup && self.awaiting.is_none() && !self.tidy_due
    }

    /// Every goal reached, nothing awaited.
    pub fn done(&self, w: &World) -> bool {
        let v = w.peers[self.peer].client.economy();
        self.awaiting.is_none()
            && !self.tidy_due
            && self.goals[self.next..]
                .iter()
                .all(|g| g.reached(v, self.attacked))
    }

    pub fn step(&mut self, w: &mut World, stage: Stage) {
        let now = w.now;
        let name = w.peers[self.peer].name.clone();
        for msg in std::mem::take(&mut w.peers[self.peer].inbox) {
            match msg {
                ServerEconomy::Changed { req, .. }
                    if self.awaiting.is_some_and(|(r, _, _)| r == req) =>
                {
                    self.awaiting = None;
                }
                ServerEconomy::Refused { req, reason } => {
                    let awaited = self.awaiting.filter(|(r, _, _)| *r == req);
                    if awaited.is_some() {
                        self.awaiting = None;
                    }
                    match reason {
                        EconomyRefusal::Busy | EconomyRefusal::Unavailable => {
                            self.pause_until = now + PAUSE;
                        }
                        // Trade steps race the other side: judged again.
                        EconomyRefusal::AlreadyTrading
                        | EconomyRefusal::NotOnline
                        | EconomyRefusal::NoTrade
                        | EconomyRefusal::TradeChanged => self.pause_until = now + PAUSE,
                        other => {
                            if awaited.is_some_and(|(_, _, goal)| goal) || awaited.is_none() {
                                self.unexpected
                                    .push(format!("{name}: request {req} refused: {other:?}"));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let p = &w.peers[self.peer];
        if p.entries != self.entries_seen {
            // Back in the world (after a restart, or the first time): what
            // was awaited is judged again from what it is shown.
            self.entries_seen = p.entries;
            self.awaiting = None;
            self.tidy_due = true;
            self.asked_at = None;
        }
        if !p.in_world() || p.client.economy().inventory.is_none() {
            return;
        }
        if let Some((_, sent, _)) = self.awaiting {
            if now < sent + GIVE_UP {
                return;
            }
            self.awaiting = None;
        }
        if now < self.pause_until {
            return;
        }
        if self.tidy_due {
            self.tidy_due = false;
            let req = w.peers[self.peer]
                .client
                .economy_request(|req| ClientEconomy::Sort { req });
            self.awaiting = Some((req, now, false));
            return;
        }
        let v = w.peers[self.peer].client.economy();
        // A goal is judged only once its turn came (before the scenario's
        // grants, "has no stones" is vacuously true).
        let turn =
            |next: usize| stage == Stage::Armed || (next < self.setup && stage == Stage::BotSetup);
        while self.next < self.goals.len()
            && turn(self.next)
            && self.goals[self.next].reached(v, self.attacked)
        {
            self.next += 1;
        }
        if self.next == self.goals.len() || !turn(self.next) {
            return;
        }
        let goal = self.goals[self.next].clone();
        match goal {
            Goal::Attack => self.attack(w),
            Goal::Give { to, item, price } => self.give(w, to, item, price),
            Goal::Take { from, item, price } => self.take(w, from, item, price),
            Goal::PassXp { .. } => {}
            _ => {
                let Some(make) = goal.request(v) else {
                    // Not yet (what it needs is on its way): judged again.
                    self.pause_until = now + PAUSE;
                    return;
                };
                let req = w.peers[self.peer].client.economy_request(make);
                self.awaiting = Some((req, now, true));
            }
        }
    }

    fn attack(&mut self, w: &mut World) {
        let p = &w.peers[self.peer];
        let Some(at) = p
            .client
            .player()
            .and_then(|pl| w.node.player(pl))
            .and_then(|pl| pl.location)
        else {
            return;
        };
        let monster = w.node.world().zone(at.zone).and_then(|z| {
            z.entities()
                .find(|(_, kind, _)| *kind == EntityKind::Monster)
                .map(|(id, _, _)| id)
        });
        if let Some(m) = monster {
            w.peers[self.peer].client.attack(m);
            self.attacked = true;
        }
    }

    fn give(&mut self, w: &mut World, to: &str, item: ItemDefId, price: u64) {
        let now = w.now;
        let v = w.peers[self.peer].client.economy().clone();
        let client = &mut w.peers[self.peer].client;
        match &v.trade {
            None => {
                if self.asked_at.is_none_or(|at| now >= at + ASK_EVERY) {
                    self.asked_at = Some(now);
                    let name = to.to_string();
                    client.economy_request(|req| ClientEconomy::TradeRequest { req, name });
                }
            }
            Some(t) => {
                let Some((slot, _)) = slot_of(&v, item) else {
                    return;
                };
                if t.mine.items.is_empty() {
                    client.economy_request(|req| ClientEconomy::TradeOffer {
                        req,
                        items: vec![(slot, 1)],
                        gold: 0,
                    });
                } else if t.theirs.gold == price && !t.confirmed.0 {
                    let version = t.version;
                    client.economy_request(|req| ClientEconomy::TradeConfirm { req, version });
                } else {
                    return;
                }
                self.pause_until = now + PAUSE;
            }
        }
    }

    fn take(&mut self, w: &mut World, from: &str, item: ItemDefId, price: u64) {
        let now = w.now;
        let v = w.peers[self.peer].client.economy().clone();
        let client = &mut w.peers[self.peer].client;
        match &v.trade {
            None => {
                let Some(asker) = v.trade_requests.iter().find(|c| c.name == from) else {
                    return;
                };
                let from = asker.character;
                client.economy_request(|req| ClientEconomy::TradeAnswer {
                    req,
                    from,
                    accept: true,
                });
            }
            Some(t) => {
                if t.mine.gold != price {
                    client.economy_request(|req| ClientEconomy::TradeOffer {
                        req,
                        items: Vec::new(),
                        gold: price,
                    });
                } else if t.theirs.items.iter().any(|s| s.def == item) && !t.confirmed.0 {
                    let version = t.version;
                    client.economy_request(|req| ClientEconomy::TradeConfirm { req, version });
                } else {
                    return;
                }
            }
        }
        self.pause_until = now + PAUSE;
    }
}

/// An operator's grant, made until the character's inventory (as the node
/// holds it) satisfies `until`.
#[derive(Clone, Debug)]
pub struct Grant {
    pub peer: usize,
    pub item: &'static str,
    pub count: u64,
    pub until: fn(&Inventory, &World) -> bool,
}

/// The operator: grants in order, each judged on the node's view of the
/// inventory (what the store acknowledged), sent again after a restart if
/// that view does not show it.
#[derive(Debug)]
pub struct Operator {
    pub grants: Vec<Grant>,
    /// `grants[..setup]` come before the crash plan is armed.
    pub setup: usize,
    next: usize,
    /// A grant sent: to whom, its name's sequence number, the node's epoch.
    waiting: Option<(CharacterId, u64, u64)>,
    pub failures: Vec<String>,
}

impl Operator {
    pub fn new(grants: Vec<Grant>, setup: usize) -> Operator {
        Operator {
            grants,
            setup,
            next: 0,
            waiting: None,
            failures: Vec::new(),
        }
    }

    pub fn set_up(&self) -> bool {
        self.next >= self.setup && self.waiting.is_none()
    }

    pub fn done(&self) -> bool {
        self.next >= self.grants.len() && self.waiting.is_none()
    }

    pub fn step(&mut self, w: &mut World, armed: bool) {
        if let Some((c, seq, epoch)) = self.waiting {
            let acked = w.node.inventory(c).is_some_and(|i| i.seq >= seq);
            if !acked && epoch == w.epoch {
                return;
            }
            self.waiting = None;
        }
        let Some(g) = self.grants.get(self.next).cloned() else {
            return;
        };
        if self.next >= self.setup && !armed {
            return;
        }
        let p = &w.peers[g.peer];
        let (Some(c), true) = (p.character, p.in_world()) else {
            return;
        };
        let Some(inv) = w.node.inventory(c) else {
            return;
        };
        if (g.until)(inv, w) {
            self.next += 1;
            return;
        }
        let name = p.name.clone();
        match w.node.grant(w.now, &name, g.item, g.count) {
            Ok((_, seq)) => self.waiting = Some((c, seq, w.epoch)),
            Err(e) if e == "Busy" || e.contains("loading") || e.contains("online") => {}
            Err(e) => self.failures.push(format!("grant to {name}: {e}")),
        }
        w.pump();
    }
}
