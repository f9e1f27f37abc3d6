//! A client's economy requests: each becomes one transaction on its
//! character's inventory (trades are in `trade.rs`). A request is refused at
//! once, with its reason, when its number does not rise, when the inventory
//! is loading or busy, or when the transaction would not apply; otherwise
//! its answer waits for the store.

use super::economy::Why;
use super::economy_stats::{TxKind, TxResult};
use super::Node;
use crate::economy::{actions, Op, Sink};
use crate::ids::{CharacterId, ConnId};
use crate::protocol::{ClientEconomy, EconomyRefusal, EnhanceOutcome};
use crate::time::Instant;

impl Node {
    /// An economy request from the client on `conn`.
    pub(super) fn route_economy(&mut self, now: Instant, conn: ConnId, request: ClientEconomy) {
        let Some(character) = self
            .player_of(conn)
            .and_then(|p| self.players.get(p))
            .filter(|p| p.in_world)
            .and_then(|p| p.character)
        else {
            return;
        };
        let req = request.req();
        let kind = TxKind::of(&request);
        self.stats.economy_requests += 1;
        let served = if self.take_req(character, req) {
            self.serve_economy(now, character, request)
        } else {
            match self.held(character) {
                Some(_) => Err(EconomyRefusal::Replayed),
                None => Err(EconomyRefusal::Busy),
            }
        };
        if let Err(reason) = served {
            self.stats.economy.count(kind, TxResult::Refused);
            self.refuse(now, character, req, reason);
        }
    }

    fn serve_economy(
        &mut self,
        now: Instant,
        character: CharacterId,
        request: ClientEconomy,
    ) -> Result<(), EconomyRefusal> {
        let req = request.req();
        let kind = TxKind::of(&request);
        let ops = match request {
            ClientEconomy::Move { from, to, .. } => vec![Op::Move { from, to }],
            ClientEconomy::Split {
                from, to, count, ..
            } => vec![Op::Split { from, to, count }],
            ClientEconomy::Delete { slot, count, .. } => vec![Op::Burn {
                slot,
                count,
                sink: Sink::Deleted,
            }],
            ClientEconomy::Equip { from, .. } => vec![Op::Equip { from }],
            ClientEconomy::Unequip { slot, to, .. } => vec![Op::Unequip { slot, to }],
            ClientEconomy::Sort { .. } => vec![Op::Sort],
            ClientEconomy::Buy { offer, .. } => return self.buy(now, character, req, offer),
            ClientEconomy::Sell { slot, count, .. } => {
                return self.sell(now, character, req, slot, count)
            }
            ClientEconomy::Enhance { slot, .. } => return self.enhance(now, character, req, slot),
            ClientEconomy::Claim { level, .. } => {
                let inv = self.ready_inventory(character)?;
                let tx = actions::claim(character, inv, &self.world.content().pass, level)
                    .ok_or(EconomyRefusal::NoSuchOffer)?;
                return self.commit_request(now, tx, Why::request(kind, req));
            }
            ClientEconomy::TradeRequest { name, .. } => {
                return self.trade_request(now, character, &name)
            }
            ClientEconomy::TradeAnswer { from, accept, .. } => {
                return self.trade_answer(now, character, from, accept)
            }
            ClientEconomy::TradeOffer { items, gold, .. } => {
                return self.trade_offer(now, character, items, gold)
            }
            ClientEconomy::TradeConfirm { version, .. } => {
                return self.trade_confirm(now, character, version)
            }
            ClientEconomy::TradeCancel { .. } => return self.trade_cancel(now, character),
        };
        let inv = self.ready_inventory(character)?;
        let tx = actions::solo(character, inv, ops);
        self.commit_request(now, tx, Why::request(kind, req))
    }

    /// The character's inventory, if loaded and not in a transaction.
    pub(super) fn ready_inventory(
        &self,
        character: CharacterId,
    ) -> Result<&crate::economy::Inventory, EconomyRefusal> {
        let h = self.held(character).ok_or(EconomyRefusal::Busy)?;
        match &h.inv {
            Some(inv) if !h.busy => Ok(inv),
            _ => Err(EconomyRefusal::Busy),
        }
    }

    fn commit_request(
        &mut self,
        now: Instant,
        tx: crate::economy::Tx,
        why: Why,
    ) -> Result<(), EconomyRefusal> {
        self.commit(now, tx, why).map(|_| ()).map_err(Into::into)
    }

    fn buy(
        &mut self,
        now: Instant,
        character: CharacterId,
        req: u32,
        offer: u16,
    ) -> Result<(), EconomyRefusal> {
        let day = self.economy_day(now);
        let content = std::sync::Arc::clone(self.world.content());
        let o = content
            .shop
            .get(offer as usize)
            .ok_or(EconomyRefusal::NoSuchOffer)?;
        let inv = self.ready_inventory(character)?;
        let tx = actions::buy(character, inv, offer, o, day);
        self.commit_request(now, tx, Why::request(TxKind::Buy, req))
    }

    fn sell(
        &mut self,
        now: Instant,
        character: CharacterId,
        req: u32,
        slot: u16,
        count: u32,
    ) -> Result<(), EconomyRefusal> {
        let content = std::sync::Arc::clone(self.world.content());
        let inv = self.ready_inventory(character)?;
        let stack = inv
            .slots
            .get(slot as usize)
            .copied()
            .flatten()
            .ok_or(EconomyRefusal::NoItem)?;
        let def = content.item(stack.def).ok_or(EconomyRefusal::NoItem)?;
        if def.sell_price == 0 {
            return Err(EconomyRefusal::NotAllowed);
        }
        // More than the stack holds is a bad count, whatever the price
        // would come to.
        if count == 0 || count > stack.count {
            return Err(EconomyRefusal::BadCount);
        }
        let tx = actions::sell(character, inv, slot, count, def.sell_price)
            .ok_or(EconomyRefusal::Overflow)?;
        self.commit_request(now, tx, Why::request(TxKind::Sell, req))
    }

    /// One attempt: the outcome is drawn from the server's stream now, and
    /// shown only once the store has it.
    fn enhance(
        &mut self,
        now: Instant,
        character: CharacterId,
        req: u32,
        slot: u16,
    ) -> Result<(), EconomyRefusal> {
        let content = std::sync::Arc::clone(self.world.content());
        let stack = self
            .ready_inventory(character)?
            .slots
            .get(slot as usize)
            .copied()
            .flatten()
            .ok_or(EconomyRefusal::NoItem)?;
        let def = content.item(stack.def).ok_or(EconomyRefusal::NoItem)?;
        if stack.plus >= def.max_plus {
            return Err(EconomyRefusal::NotAllowed);
        }
        let step = content
            .enhance
            .step_from(stack.plus)
            .ok_or(EconomyRefusal::NotAllowed)?;
        let odds = actions::Odds {
            success: step.success,
            fail: step.fail,
            downgrade: step.downgrade,
            destroy: step.destroy,
        };
        let outcome = odds.outcome(self.enhancement_roll());
        let inv = self.ready_inventory(character)?;
        let cost = (step.cost_gold, content.enhance.stone, step.stones);
        let tx = actions::enhance(character, inv, slot, stack.plus, cost, outcome)
            .ok_or(EconomyRefusal::NoStones)?;
        let shown = match outcome {
            actions::Enhanced::Success => EnhanceOutcome::Success,
            actions::Enhanced::Fail => EnhanceOutcome::Fail,
            actions::Enhanced::Downgrade => EnhanceOutcome::Downgrade,
            actions::Enhanced::Destroyed => EnhanceOutcome::Destroyed,
        };
        let why = Why {
            enhanced: Some(shown),
            ..Why::request(TxKind::Enhance, req)
        };
        self.commit_request(now, tx, why)
    }
}
