//! What the trader buys, sells and tidies: purchases it can afford within
//! the shop's daily limits, surplus it sells, and now and then a sort, a
//! move, a split or one piece of junk dropped.

use super::trader::{count_of, stacks, worn_at, worth, Trader, KEEP, RESERVE};
use game_core::protocol::{Catalogue, ClientEconomy, InventoryView};
use rand_core::RngCore;

impl Trader {
    /// A purchase it can afford and has room for: gear for an empty place,
    /// stones when it has something to enhance, or a potion.
    pub(super) fn buy(
        &mut self,
        inv: &InventoryView,
        cat: &Catalogue,
        req: u32,
    ) -> Option<ClientEconomy> {
        if inv.slots.iter().all(|s| s.is_some()) {
            return None;
        }
        let step = cat.steps.first();
        let has_gear = inv.equipped.iter().flatten().next().is_some();
        let wanted: Vec<u16> = cat
            .offers
            .iter()
            .enumerate()
            .filter(|(i, o)| {
                let left = o.daily_limit == 0
                    || self.bought.get(&(*i as u16)).copied().unwrap_or(0) < o.daily_limit;
                left && inv.gold >= o.price + RESERVE
            })
            .filter(|(_, o)| {
                let Some(item) = cat.items.get(o.item.0 as usize) else {
                    return false;
                };
                match item.slot {
                    Some(place) => {
                        worn_at(inv, place).is_none()
                            && !stacks(inv).any(|(_, s)| {
                                cat.items.get(s.def.0 as usize).and_then(|i| i.slot) == Some(place)
                            })
                    }
                    None if o.item == cat.stone => {
                        has_gear
                            && step.is_some_and(|st| {
                                inv.gold >= o.price + st.cost_gold + RESERVE
                                    && count_of(inv, cat.stone) < st.stones as u64 * 3
                            })
                    }
                    None => o.count == 1 && self.rng.next_u32() % 4 == 0,
                }
            })
            .map(|(i, _)| i as u16)
            .collect();
        if wanted.is_empty() {
            return None;
        }
        let offer = wanted[self.pick(wanted.len())];
        Some(ClientEconomy::Buy { req, offer })
    }

    /// Surplus to sell: loot beyond [`KEEP`] (any loot at all when `tight`),
    /// or gear worse than what is worn in its place.
    pub(super) fn sell(
        &mut self,
        inv: &InventoryView,
        cat: &Catalogue,
        req: u32,
        tight: bool,
    ) -> Option<ClientEconomy> {
        let busy = self.enhancing.map(|(id, _)| id);
        let surplus: Vec<(u16, u32)> = stacks(inv)
            .filter(|(_, s)| Some(s.id) != busy && s.def != cat.stone)
            .filter_map(|(slot, s)| {
                let item = cat.items.get(s.def.0 as usize)?;
                if item.sell_price == 0 {
                    return None;
                }
                match item.slot {
                    Some(place) => {
                        let worn = worn_at(inv, place).map_or(0, |w| worth(cat, w));
                        (worth(cat, s) <= worn).then_some((slot, 1))
                    }
                    None if tight => Some((slot, s.count)),
                    None => (s.count > KEEP).then(|| (slot, s.count - KEEP)),
                }
            })
            .collect();
        if surplus.is_empty() {
            return None;
        }
        let (slot, count) = surplus[self.pick(surplus.len())];
        Some(ClientEconomy::Sell { req, slot, count })
    }

    /// Now and then: sort, move a stack, split one, or drop one of junk.
    pub(super) fn tidy(
        &mut self,
        inv: &InventoryView,
        cat: &Catalogue,
        req: u32,
    ) -> Option<ClientEconomy> {
        let full: Vec<(u16, u32)> = stacks(inv).map(|(i, s)| (i, s.count)).collect();
        let empty: Vec<u16> = (0..inv.slots.len() as u16)
            .filter(|&i| inv.slots[i as usize].is_none())
            .collect();
        if full.is_empty() {
            return None;
        }
        let (from, count) = full[self.pick(full.len())];
        match self.rng.next_u32() % 10 {
            0..=2 => Some(ClientEconomy::Sort { req }),
            3..=5 if !empty.is_empty() => Some(ClientEconomy::Move {
                req,
                from,
                to: empty[self.pick(empty.len())],
            }),
            6..=8 if !empty.is_empty() && count >= 2 => Some(ClientEconomy::Split {
                req,
                from,
                to: empty[self.pick(empty.len())],
                count: 1 + self.rng.next_u32() % (count - 1),
            }),
            9 => {
                let junk = stacks(inv).find(|(_, s)| {
                    s.def != cat.stone
                        && cat
                            .items
                            .get(s.def.0 as usize)
                            .is_some_and(|i| i.slot.is_none() && s.count > KEEP)
                })?;
                Some(ClientEconomy::Delete {
                    req,
                    slot: junk.0,
                    count: 1,
                })
            }
            _ => None,
        }
    }
}
