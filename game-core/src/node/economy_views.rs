//! What a client is shown of the economy: its inventory, the catalogue (item
//! kinds, the shop, the enhancement odds), its battle pass, and after each
//! transaction only what changed.

use super::economy::Why;
use super::Node;
use crate::content::{Content, EquipSlot};
use crate::economy::Inventory;
use crate::ids::CharacterId;
use crate::protocol::{
    Catalogue, InventoryView, ItemInfo, LevelInfo, MissionInfo, OfferInfo, PassProgress, PassView,
    ServerEconomy, ServerMsg, StepInfo,
};
use crate::time::Instant;

pub(super) fn inventory_view(inv: &Inventory, day: u32, last_req: u32) -> InventoryView {
    InventoryView {
        seq: inv.seq,
        gold: inv.gold,
        slots: inv.slots.clone(),
        equipped: inv.equipped.to_vec(),
        bought_today: if inv.shop.day == day {
            inv.shop.bought.clone()
        } else {
            Vec::new()
        },
        last_req,
    }
}

pub(super) fn pass_progress(inv: &Inventory) -> PassProgress {
    PassProgress {
        xp: inv.pass.xp,
        claimed: inv.pass.claimed,
        progress: inv.pass.progress.clone(),
    }
}

pub(super) fn catalogue(content: &Content) -> Catalogue {
    Catalogue {
        items: content
            .items
            .iter()
            .map(|d| ItemInfo {
                name: d.name.clone(),
                max_stack: d.max_stack,
                slot: d.slot,
                sell_price: d.sell_price,
                max_plus: d.max_plus,
            })
            .collect(),
        offers: content
            .shop
            .iter()
            .map(|o| OfferInfo {
                item: o.item,
                price: o.price,
                count: o.count,
                daily_limit: o.daily_limit,
            })
            .collect(),
        stone: content.enhance.stone,
        steps: content
            .enhance
            .steps
            .iter()
            .map(|s| StepInfo {
                cost_gold: s.cost_gold,
                stones: s.stones,
                success: s.success,
                fail: s.fail,
                downgrade: s.downgrade,
                destroy: s.destroy,
            })
            .collect(),
    }
}

pub(super) fn pass_view(content: &Content, inv: &Inventory) -> PassView {
    PassView {
        missions: content
            .pass
            .missions
            .iter()
            .map(|m| MissionInfo {
                name: m.name.clone(),
                kind: m.kind,
                goal: m.goal,
                xp: m.xp,
            })
            .collect(),
        levels: content
            .pass
            .levels
            .iter()
            .map(|l| LevelInfo {
                xp: l.xp,
                item: l.item,
                gold: l.gold,
            })
            .collect(),
        progress: pass_progress(inv),
    }
}

/// What a transaction changed, from `before` (`None`: not known) to `after`.
pub(super) fn changed(why: Why, before: Option<&Inventory>, after: &Inventory) -> ServerEconomy {
    let slots = after
        .slots
        .iter()
        .enumerate()
        .filter(|&(i, s)| before.is_none_or(|b| b.slots.get(i) != Some(s)))
        .map(|(i, s)| (i as u16, *s))
        .collect();
    let equipped = EquipSlot::ALL
        .iter()
        .zip(after.equipped.iter())
        .enumerate()
        .filter(|&(i, (_, s))| before.is_none_or(|b| b.equipped[i] != *s))
        .map(|(_, (slot, s))| (*slot, *s))
        .collect();
    ServerEconomy::Changed {
        req: why.req,
        cause: why.cause(),
        seq: after.seq,
        gold: after.gold,
        slots,
        equipped,
        pass: before
            .is_none_or(|b| b.pass != after.pass)
            .then(|| pass_progress(after)),
        enhanced: why.enhanced,
    }
}

impl Node {
    /// The client of `character` gets its inventory, the catalogue and its
    /// pass (after entering the world, a take-over, or a reload).
    pub(super) fn send_economy_views(&mut self, now: Instant, character: CharacterId) {
        let day = self.economy_day(now);
        let Some(h) = self.held(character) else {
            return;
        };
        let Some(inv) = h.inv.as_ref() else {
            return;
        };
        let player = h.player;
        let content = self.world.content();
        let msgs = [
            ServerEconomy::Inventory(inventory_view(inv, day, h.last_req)),
            ServerEconomy::Catalogue(catalogue(content)),
            ServerEconomy::Pass(pass_view(content, inv)),
        ];
        for m in msgs {
            self.send_to_player(now, player, &ServerMsg::Economy(m));
        }
    }
}
