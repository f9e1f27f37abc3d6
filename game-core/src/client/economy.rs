//! What a client knows of what its character owns: the inventory as the
//! server last said (always a state the store has), the catalogue, the
//! battle pass, an open trade and trade requests waiting for an answer.
//! Kept from the server's economy messages; every one is also handed to the
//! driver as [`super::ClientEvent::Economy`].

use crate::content::EquipSlot;
use crate::economy::Stack;
use crate::protocol::{
    Catalogue, Contact, InventoryView, PassProgress, PassView, ServerEconomy, TradeView,
};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EconomyView {
    pub inventory: Option<InventoryView>,
    pub catalogue: Option<Catalogue>,
    pub pass: Option<PassView>,
    pub trade: Option<TradeView>,
    pub trade_requests: Vec<Contact>,
    /// The last request number used (requests must rise).
    pub last_req: u32,
}

impl EconomyView {
    pub(super) fn apply(&mut self, msg: &ServerEconomy) {
        match msg {
            ServerEconomy::Inventory(inv) => {
                self.last_req = self.last_req.max(inv.last_req);
                self.inventory = Some(inv.clone());
            }
            ServerEconomy::Catalogue(c) => self.catalogue = Some(c.clone()),
            ServerEconomy::Pass(p) => self.pass = Some(p.clone()),
            ServerEconomy::Changed {
                seq,
                gold,
                slots,
                equipped,
                pass,
                ..
            } => {
                if let Some(inv) = self.inventory.as_mut() {
                    inv.seq = *seq;
                    inv.gold = *gold;
                    for &(i, s) in slots {
                        if let Some(slot) = inv.slots.get_mut(i as usize) {
                            *slot = s;
                        }
                    }
                    for &(at, s) in equipped {
                        let i = EquipSlot::ALL.iter().position(|x| *x == at);
                        if let Some(worn) = i.and_then(|i| inv.equipped.get_mut(i)) {
                            *worn = s;
                        }
                    }
                }
                if let (Some(view), Some(p)) = (self.pass.as_mut(), pass) {
                    view.progress = p.clone();
                }
            }
            ServerEconomy::Refused { .. } => {}
            ServerEconomy::TradeRequested { from, .. } => {
                if !self.trade_requests.contains(from) {
                    self.trade_requests.push(from.clone());
                }
            }
            ServerEconomy::Trade(t) => {
                self.trade_requests
                    .retain(|c| c.character != t.with.character);
                self.trade = Some(t.clone());
            }
            ServerEconomy::TradeClosed { .. } => self.trade = None,
        }
    }

    /// The next request number.
    pub fn next_req(&mut self) -> u32 {
        self.last_req += 1;
        self.last_req
    }

    /// The stacks in the bag, with their slots.
    pub fn stacks(&self) -> impl Iterator<Item = (u16, &Stack)> {
        self.inventory
            .iter()
            .flat_map(|i| i.slots.iter().enumerate())
            .filter_map(|(i, s)| Some((i as u16, s.as_ref()?)))
    }

    pub fn gold(&self) -> u64 {
        self.inventory.as_ref().map_or(0, |i| i.gold)
    }

    pub fn pass_progress(&self) -> Option<&PassProgress> {
        self.pass.as_ref().map(|p| &p.progress)
    }

    /// Forgets everything (a new character).
    pub(super) fn clear(&mut self) {
        let last_req = self.last_req;
        *self = EconomyView {
            last_req,
            ..EconomyView::default()
        };
    }
}
