//! Player trade: one character asks another, who accepts; both put up
//! items and gold, both confirm the same version, and the swap is one
//! transaction of two parts ([`actions::trade`]), so the store applies both
//! sides or neither. Any change (an offer, or either inventory changing
//! under it) raises the version and clears both confirmations. A trade
//! ends when it is cancelled, when a side leaves, when the swap is stored
//! (both are told), or when the store refuses it. A side in a trade may
//! still use its inventory: the swap is checked again when it is made.

use super::economy::{TxName, Why};
use super::economy_stats::TxKind;
use super::Node;
use crate::economy::actions::{self, Offer};
use crate::ids::CharacterId;
use crate::protocol::{
    Contact, EconomyRefusal, OfferView, ServerEconomy, ServerMsg, TradeEnd, TradeView,
};
use crate::time::{Duration, Instant};
use std::collections::BTreeMap;

/// How long a trade request waits for its answer.
pub const TRADE_REQUEST_MS: u32 = 30_000;
/// The most stacks one side may put up.
pub const MAX_TRADE_ITEMS: usize = 8;
/// The most requests waiting for one character's answer.
const MAX_ASKS_PER_CHARACTER: usize = 8;

#[derive(Debug)]
struct Side {
    character: CharacterId,
    offer: Offer,
    confirmed: bool,
}

#[derive(Debug)]
struct Trade {
    sides: [Side; 2],
    version: u32,
    /// The swap's transaction, once both confirmed.
    committing: Option<TxName>,
}

/// A request waiting for `to`'s answer.
#[derive(Debug, Clone, Copy)]
struct Ask {
    from: CharacterId,
    to: CharacterId,
    until: Instant,
}

#[derive(Debug, Default)]
pub(super) struct Trades {
    /// Open trades, by number.
    open: BTreeMap<u64, Trade>,
    /// The trade each trading character is in.
    by_character: BTreeMap<CharacterId, u64>,
    asks: Vec<Ask>,
    next: u64,
}

impl Trades {
    fn trade_of(&self, c: CharacterId) -> Option<u64> {
        self.by_character.get(&c).copied()
    }

    fn busy(&self, c: CharacterId) -> bool {
        self.by_character.contains_key(&c) || self.asks.iter().any(|a| a.from == c)
    }

    /// Open trades (for tests and the simulator).
    pub(super) fn len(&self) -> usize {
        self.open.len()
    }
}

impl Node {
    /// Open trades.
    pub fn trades_open(&self) -> usize {
        self.wallets.trades.len()
    }

    fn contact(&self, c: CharacterId) -> Contact {
        Contact {
            character: c,
            name: self
                .saves
                .record(c)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
        }
    }

    fn tell(&mut self, now: Instant, c: CharacterId, msg: ServerEconomy) {
        if let Some(player) = self.held(c).map(|h| h.player) {
            self.send_to_player(now, player, &ServerMsg::Economy(msg));
        }
    }

    pub(super) fn trade_request(
        &mut self,
        now: Instant,
        from: CharacterId,
        name: &str,
    ) -> Result<(), EconomyRefusal> {
        let to = self
            .social()
            .online_character(name)
            .filter(|c| self.held(*c).is_some())
            .ok_or(EconomyRefusal::NotOnline)?;
        if to == from {
            return Err(EconomyRefusal::Yourself);
        }
        let trades = &mut self.wallets.trades;
        if trades.busy(from) || trades.trade_of(to).is_some() {
            return Err(EconomyRefusal::AlreadyTrading);
        }
        if trades.asks.iter().filter(|a| a.to == to).count() >= MAX_ASKS_PER_CHARACTER {
            return Err(EconomyRefusal::AlreadyTrading);
        }
        trades.asks.push(Ask {
            from,
            to,
            until: now + Duration::from_millis(TRADE_REQUEST_MS.into()),
        });
        let msg = ServerEconomy::TradeRequested {
            from: self.contact(from),
            expires_ms: TRADE_REQUEST_MS,
        };
        self.tell(now, to, msg);
        Ok(())
    }

    pub(super) fn trade_answer(
        &mut self,
        now: Instant,
        to: CharacterId,
        from: CharacterId,
        accept: bool,
    ) -> Result<(), EconomyRefusal> {
        let trades = &mut self.wallets.trades;
        let i = trades
            .asks
            .iter()
            .position(|a| a.from == from && a.to == to)
            .ok_or(EconomyRefusal::NoTrade)?;
        trades.asks.remove(i);
        if !accept {
            self.tell(now, from, closed(TradeEnd::Cancelled));
            return Ok(());
        }
        if trades.trade_of(to).is_some() || trades.trade_of(from).is_some() {
            self.tell(now, from, closed(TradeEnd::Cancelled));
            return Err(EconomyRefusal::AlreadyTrading);
        }
        // Its other requests, and any it was asked meanwhile, end here.
        let dropped: Vec<Ask> = trades
            .asks
            .iter()
            .filter(|a| [from, to].contains(&a.from) || [from, to].contains(&a.to))
            .copied()
            .collect();
        trades
            .asks
            .retain(|a| ![from, to].contains(&a.from) && ![from, to].contains(&a.to));
        let id = trades.next;
        trades.next += 1;
        let side = |character| Side {
            character,
            offer: Offer::default(),
            confirmed: false,
        };
        trades.open.insert(
            id,
            Trade {
                sides: [side(from), side(to)],
                version: 1,
                committing: None,
            },
        );
        trades.by_character.insert(from, id);
        trades.by_character.insert(to, id);
        for a in dropped {
            self.tell(now, a.from, closed(TradeEnd::Cancelled));
        }
        self.show_trade(now, id);
        Ok(())
    }

    pub(super) fn trade_offer(
        &mut self,
        now: Instant,
        c: CharacterId,
        items: Vec<(u16, u32)>,
        gold: u64,
    ) -> Result<(), EconomyRefusal> {
        let id = self
            .wallets
            .trades
            .trade_of(c)
            .ok_or(EconomyRefusal::NoTrade)?;
        if items.len() > MAX_TRADE_ITEMS {
            return Err(EconomyRefusal::TooManyItems);
        }
        let inv = self.inventory(c).ok_or(EconomyRefusal::Busy)?;
        for (i, &(slot, count)) in items.iter().enumerate() {
            if items[..i].iter().any(|(s, _)| *s == slot) {
                return Err(EconomyRefusal::BadCount);
            }
            let stack = inv
                .slots
                .get(slot as usize)
                .copied()
                .flatten()
                .ok_or(EconomyRefusal::NoItem)?;
            if count == 0 || count > stack.count {
                return Err(EconomyRefusal::BadCount);
            }
        }
        if gold > inv.gold {
            return Err(EconomyRefusal::NotEnoughGold);
        }
        let trade = self.wallets.trades.open.get_mut(&id).expect("indexed");
        if trade.committing.is_some() {
            return Err(EconomyRefusal::Busy);
        }
        let side = trade
            .sides
            .iter_mut()
            .find(|s| s.character == c)
            .expect("a side");
        side.offer = Offer { items, gold };
        changed(trade);
        self.show_trade(now, id);
        Ok(())
    }

    pub(super) fn trade_confirm(
        &mut self,
        now: Instant,
        c: CharacterId,
        version: u32,
    ) -> Result<(), EconomyRefusal> {
        let id = self
            .wallets
            .trades
            .trade_of(c)
            .ok_or(EconomyRefusal::NoTrade)?;
        let trade = self.wallets.trades.open.get_mut(&id).expect("indexed");
        if trade.committing.is_some() {
            return Err(EconomyRefusal::Busy);
        }
        if trade.version != version {
            return Err(EconomyRefusal::TradeChanged);
        }
        for s in trade.sides.iter_mut().filter(|s| s.character == c) {
            s.confirmed = true;
        }
        if !trade.sides.iter().all(|s| s.confirmed) {
            self.show_trade(now, id);
            return Ok(());
        }
        let [(a, offer_a), (b, offer_b)] = [0, 1].map(|i| {
            let s = &trade.sides[i];
            (s.character, s.offer.clone())
        });
        let (ia, ib) = match (self.ready_inventory(a), self.ready_inventory(b)) {
            (Ok(ia), Ok(ib)) => (ia, ib),
            _ => {
                // An inventory is in another transaction: the swap waits
                // for this side to confirm again.
                let trade = self.wallets.trades.open.get_mut(&id).expect("indexed");
                for s in trade.sides.iter_mut().filter(|s| s.character == c) {
                    s.confirmed = false;
                }
                self.show_trade(now, id);
                return Err(EconomyRefusal::Busy);
            }
        };
        let tx = actions::trade((a, ia, &offer_a), (b, ib, &offer_b));
        match self.commit(now, tx, Why::of(TxKind::Trade)) {
            Ok(name) => {
                let trade = self.wallets.trades.open.get_mut(&id).expect("indexed");
                trade.committing = Some(name);
                self.show_trade(now, id);
                Ok(())
            }
            Err(r) => {
                self.end_trade(now, id, TradeEnd::Failed(r.into()));
                Ok(())
            }
        }
    }

    pub(super) fn trade_cancel(
        &mut self,
        now: Instant,
        c: CharacterId,
    ) -> Result<(), EconomyRefusal> {
        if let Some(id) = self.wallets.trades.trade_of(c) {
            if self.wallets.trades.open[&id].committing.is_some() {
                return Err(EconomyRefusal::Busy);
            }
            self.end_trade(now, id, TradeEnd::Cancelled);
            return Ok(());
        }
        let asks: Vec<Ask> = self
            .wallets
            .trades
            .asks
            .iter()
            .filter(|a| a.from == c || a.to == c)
            .copied()
            .collect();
        if asks.is_empty() {
            return Err(EconomyRefusal::NoTrade);
        }
        self.wallets
            .trades
            .asks
            .retain(|a| a.from != c && a.to != c);
        for a in asks {
            self.tell(now, a.from, closed(TradeEnd::Cancelled));
            self.tell(now, a.to, closed(TradeEnd::Cancelled));
        }
        Ok(())
    }

    /// A character left the world: its trade (unless its swap is on its way
    /// to the store) and its requests end.
    pub(super) fn trade_left(&mut self, now: Instant, c: CharacterId) {
        if let Some(id) = self.wallets.trades.trade_of(c) {
            if self.wallets.trades.open[&id].committing.is_none() {
                self.end_trade(now, id, TradeEnd::Left);
            }
        }
        let asks: Vec<Ask> = self
            .wallets
            .trades
            .asks
            .iter()
            .filter(|a| a.from == c || a.to == c)
            .copied()
            .collect();
        self.wallets
            .trades
            .asks
            .retain(|a| a.from != c && a.to != c);
        for a in asks {
            let other = if a.from == c { a.to } else { a.from };
            self.tell(now, other, closed(TradeEnd::Left));
        }
    }

    /// Requests nobody answered in time end.
    pub(super) fn expire_trade_requests(&mut self, now: Instant) {
        let expired: Vec<Ask> = self
            .wallets
            .trades
            .asks
            .iter()
            .filter(|a| a.until <= now)
            .copied()
            .collect();
        if expired.is_empty() {
            return;
        }
        self.wallets.trades.asks.retain(|a| a.until > now);
        for a in expired {
            self.tell(now, a.from, closed(TradeEnd::Expired));
            self.tell(now, a.to, closed(TradeEnd::Expired));
        }
    }

    /// A transaction on `c`'s inventory is stored: if it was not the swap,
    /// the trade changed under its sides.
    pub(super) fn trade_inventory_changed(&mut self, now: Instant, c: CharacterId, tx: TxName) {
        let Some(id) = self.wallets.trades.trade_of(c) else {
            return;
        };
        let trade = self.wallets.trades.open.get_mut(&id).expect("indexed");
        if trade.committing == Some(tx) {
            return;
        }
        changed(trade);
        self.show_trade(now, id);
    }

    /// `c`'s inventory was loaded again (after a conflict, the store holds
    /// something else): its trade changed under both sides, who must
    /// confirm it again as it is now.
    pub(super) fn trade_inventory_reloaded(&mut self, now: Instant, c: CharacterId) {
        let Some(id) = self.wallets.trades.trade_of(c) else {
            return;
        };
        let trade = self.wallets.trades.open.get_mut(&id).expect("indexed");
        if trade.committing.is_some() {
            return;
        }
        changed(trade);
        self.show_trade(now, id);
    }

    /// The swap `tx` settled (if it was one): the trade ends.
    pub(super) fn trade_settled(
        &mut self,
        now: Instant,
        tx: TxName,
        result: Result<(), EconomyRefusal>,
    ) {
        let Some((&id, _)) = self
            .wallets
            .trades
            .open
            .iter()
            .find(|(_, t)| t.committing == Some(tx))
        else {
            return;
        };
        let end = match result {
            Ok(()) => TradeEnd::Done,
            Err(r) => TradeEnd::Failed(r),
        };
        self.end_trade(now, id, end);
    }

    fn end_trade(&mut self, now: Instant, id: u64, end: TradeEnd) {
        let Some(trade) = self.wallets.trades.open.remove(&id) else {
            return;
        };
        self.stats.trades_ended += 1;
        if end == TradeEnd::Done {
            self.stats.trades_done += 1;
        }
        for s in &trade.sides {
            self.wallets.trades.by_character.remove(&s.character);
        }
        for s in &trade.sides {
            self.tell(now, s.character, closed(end));
        }
    }

    /// Both sides get the trade as it is now.
    fn show_trade(&mut self, now: Instant, id: u64) {
        let Some(trade) = self.wallets.trades.open.get(&id) else {
            return;
        };
        let views: Vec<OfferView> = trade
            .sides
            .iter()
            .map(|s| self.offer_view(s.character, &s.offer))
            .collect();
        let msgs: Vec<(CharacterId, ServerEconomy)> = (0..2)
            .map(|i| {
                let (me, them) = (&trade.sides[i], &trade.sides[1 - i]);
                let view = TradeView {
                    with: self.contact(them.character),
                    version: trade.version,
                    mine: views[i].clone(),
                    theirs: views[1 - i].clone(),
                    confirmed: (me.confirmed, them.confirmed),
                };
                (me.character, ServerEconomy::Trade(view))
            })
            .collect();
        for (c, m) in msgs {
            self.tell(now, c, m);
        }
    }

    /// The stacks an offer names, as its inventory holds them, each with the
    /// count offered.
    fn offer_view(&self, c: CharacterId, offer: &Offer) -> OfferView {
        let inv = self.inventory(c);
        OfferView {
            items: offer
                .items
                .iter()
                .filter_map(|&(slot, count)| {
                    let s = inv?.slots.get(slot as usize).copied().flatten()?;
                    Some(crate::economy::Stack { count, ..s })
                })
                .collect(),
            gold: offer.gold,
        }
    }
}

fn closed(end: TradeEnd) -> ServerEconomy {
    ServerEconomy::TradeClosed { end }
}

/// Something in the trade changed: a new version, to be confirmed again.
fn changed(trade: &mut Trade) {
    trade.version = trade.version.wrapping_add(1);
    for s in &mut trade.sides {
        s.confirmed = false;
    }
}
