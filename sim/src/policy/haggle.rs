//! The trader's side of player trade. It asks other traders by name (the
//! partners its driver gave it, and anyone who asked it before), answers
//! the asks it gets (mostly yes), and in an open trade puts up an offer (a
//! little of its loot or a spare piece, and some gold), then confirms the
//! version it is shown. Sometimes, once the other side has confirmed, it
//! changes its offer instead (which voids that confirmation); sometimes it
//! cancels; a trade that drags on, or an ask nobody answers, it gives up.
//! While a trade is open it sends nothing else, so its own requests do not
//! keep changing the trade under its partner.

use super::trader::{stacks, worth, TradeTally};
use game_core::client::Client;
use game_core::content::EquipSlot;
use game_core::ids::CharacterId;
use game_core::protocol::{
    Catalogue, ClientEconomy, Contact, InventoryView, ServerEconomy, TradeEnd, TradeView,
};
use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use std::collections::VecDeque;

/// Its own ask unanswered this long: withdrawn.
const ASK_PATIENCE: Duration = Duration::from_secs(12);
/// An ask it got older than this has expired on the server (30 s).
const ASK_FRESH: Duration = Duration::from_secs(25);
/// An open trade not done this long: cancelled.
const DEAL_PATIENCE: Duration = Duration::from_secs(20);
/// Names it keeps to ask.
const MAX_PARTNERS: usize = 16;
/// Asks it keeps to answer.
const MAX_ASKS: usize = 8;
/// The most stacks it puts up (the server takes 8).
const MAX_STACKS: usize = 2;

#[derive(Debug)]
struct Deal {
    with: CharacterId,
    opened: Instant,
    offered: bool,
    changed_after_confirm: bool,
}

#[derive(Debug, Default)]
pub struct Haggle {
    /// Names of traders it may ask.
    pub(super) partners: Vec<String>,
    /// Asks it got, oldest first.
    asks: VecDeque<(Contact, Instant)>,
    /// When it asked someone, while that ask is open.
    asked: Option<Instant>,
    deal: Option<Deal>,
}

impl Haggle {
    /// Whether a trade is open.
    pub(super) fn trading(&self) -> bool {
        self.deal.is_some()
    }

    /// A new connection: whatever was pending is the server's to end.
    pub(super) fn forget(&mut self) {
        self.asks.clear();
        self.asked = None;
        self.deal = None;
    }

    pub(super) fn on_message(&mut self, now: Instant, msg: &ServerEconomy, tally: &mut TradeTally) {
        match msg {
            ServerEconomy::TradeRequested { from, .. } => {
                if !self.partners.contains(&from.name) && self.partners.len() < MAX_PARTNERS {
                    self.partners.push(from.name.clone());
                }
                self.asks.retain(|(c, _)| c.character != from.character);
                if self.asks.len() >= MAX_ASKS {
                    self.asks.pop_front();
                }
                self.asks.push_back((from.clone(), now));
            }
            ServerEconomy::Trade(t) => {
                self.asked = None;
                self.asks.retain(|(c, _)| c.character != t.with.character);
                if self
                    .deal
                    .as_ref()
                    .is_none_or(|d| d.with != t.with.character)
                {
                    self.deal = Some(Deal {
                        with: t.with.character,
                        opened: now,
                        offered: false,
                        changed_after_confirm: false,
                    });
                }
            }
            ServerEconomy::TradeClosed { end } => {
                *tally.trade_ends.entry(end_label(*end)).or_default() += 1;
                self.asked = None;
                self.deal = None;
            }
            _ => {}
        }
    }

    /// The trade's next request while one is open (`Some(None)`: wait).
    pub(super) fn in_trade(
        &mut self,
        now: Instant,
        client: &Client,
        req: u32,
        rng: &mut ChaCha8Rng,
        tally: &mut TradeTally,
    ) -> Option<Option<ClientEconomy>> {
        let e = client.economy();
        let t = e.trade.as_ref()?;
        let deal = self.deal.get_or_insert(Deal {
            with: t.with.character,
            opened: now,
            offered: false,
            changed_after_confirm: false,
        });
        let (Some(inv), Some(cat)) = (e.inventory.as_ref(), e.catalogue.as_ref()) else {
            return Some(None);
        };
        if now.saturating_since(deal.opened) >= DEAL_PATIENCE {
            return Some(Some(ClientEconomy::TradeCancel { req }));
        }
        if !deal.offered {
            deal.offered = true;
            return Some(Some(offer(inv, cat, req, rng)));
        }
        if t.confirmed.0 {
            // Confirmed: waiting for the other side.
            return Some(None);
        }
        if t.confirmed.1 && !deal.changed_after_confirm && rng.next_u32() % 100 < 25 {
            deal.changed_after_confirm = true;
            tally.offers_changed_after_confirm += 1;
            return Some(Some(offer(inv, cat, req, rng)));
        }
        if rng.next_u32() % 100 < 4 {
            return Some(Some(ClientEconomy::TradeCancel { req }));
        }
        Some(Some(confirm(t, req)))
    }

    /// Outside a trade: withdraws its own ask after a while, or answers the
    /// oldest ask it got.
    pub(super) fn answer(
        &mut self,
        now: Instant,
        req: u32,
        rng: &mut ChaCha8Rng,
    ) -> Option<ClientEconomy> {
        if let Some(at) = self.asked {
            if now.saturating_since(at) >= ASK_PATIENCE {
                self.asked = None;
                return Some(ClientEconomy::TradeCancel { req });
            }
        }
        while let Some((from, at)) = self.asks.pop_front() {
            if now.saturating_since(at) < ASK_FRESH {
                return Some(ClientEconomy::TradeAnswer {
                    req,
                    from: from.character,
                    accept: rng.next_u32() % 100 < 85,
                });
            }
        }
        None
    }

    /// Its ask was refused (the name is offline, or busy): none is open.
    pub(super) fn ask_refused(&mut self) {
        self.asked = None;
    }

    /// Asks a partner to trade, unless it is asking someone already.
    pub(super) fn ask(&mut self, now: Instant, req: u32, roll: u32) -> Option<ClientEconomy> {
        if self.asked.is_some() || self.deal.is_some() || self.partners.is_empty() {
            return None;
        }
        self.asked = Some(now);
        let name = self.partners[roll as usize % self.partners.len()].clone();
        Some(ClientEconomy::TradeRequest { req, name })
    }
}

fn confirm(t: &TradeView, req: u32) -> ClientEconomy {
    ClientEconomy::TradeConfirm {
        req,
        version: t.version,
    }
}

/// What it puts up: up to [`MAX_STACKS`] of its loot or spare gear (some of
/// a stack, or all of it), and a little gold; each drawn afresh.
fn offer(inv: &InventoryView, cat: &Catalogue, req: u32, rng: &mut ChaCha8Rng) -> ClientEconomy {
    let spare: Vec<(u16, u32)> = stacks(inv)
        .filter(|(_, s)| s.def != cat.stone)
        .filter(
            |(_, s)| match cat.items.get(s.def.0 as usize).and_then(|i| i.slot) {
                // Gear no better than what it wears there.
                Some(place) => {
                    let i = EquipSlot::ALL.iter().position(|&p| p == place);
                    let worn = i.and_then(|i| inv.equipped.get(i)?.as_ref());
                    worn.is_some_and(|w| worth(cat, w) >= worth(cat, s))
                }
                None => true,
            },
        )
        .map(|(slot, s)| (slot, s.count))
        .collect();
    let mut items: Vec<(u16, u32)> = Vec::new();
    let n = rng.next_u32() as usize % (MAX_STACKS + 1);
    for _ in 0..n.min(spare.len()) {
        let (slot, count) = spare[rng.next_u32() as usize % spare.len()];
        if items.iter().any(|(s, _)| *s == slot) {
            continue;
        }
        items.push((slot, 1 + rng.next_u32() % count.max(1)));
    }
    let gold = if inv.gold >= 8 && rng.next_u32() % 2 == 0 {
        1 + rng.next_u64() % (inv.gold / 4).min(50)
    } else {
        0
    };
    ClientEconomy::TradeOffer { req, items, gold }
}

fn end_label(end: TradeEnd) -> &'static str {
    match end {
        TradeEnd::Done => "done",
        TradeEnd::Cancelled => "cancelled",
        TradeEnd::Left => "left",
        TradeEnd::Expired => "expired",
        TradeEnd::Failed(_) => "failed",
    }
}
