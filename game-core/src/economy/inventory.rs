//! An inventory: a fixed number of slots, the equipped items, and gold; and
//! beside them what is stored in the same transactions: the battle pass's
//! progress and today's shop purchases.

use super::ItemId;
use crate::content::{EquipSlot, ItemDef, ItemDefId, ItemStats};
use serde::{Deserialize, Serialize};

/// Items of one kind in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stack {
    pub id: ItemId,
    pub def: ItemDefId,
    /// At least 1, at most the kind's `max_stack`.
    pub count: u32,
    /// Enhancement level (0 for stackables).
    pub plus: u8,
}

/// What one character owns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub gold: u64,
    /// A fixed number of slots, each empty or holding one stack.
    pub slots: Vec<Option<Stack>>,
    /// By [`EquipSlot::ALL`] order.
    pub equipped: [Option<Stack>; 7],
    /// The sequence number of the last transaction applied (0: none yet).
    pub seq: u64,
    pub pass: PassState,
    pub shop: ShopDay,
}

/// A character's battle pass: experience, each mission's progress towards
/// its next completion, and the levels whose reward it has claimed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassState {
    pub xp: u64,
    /// Bit `n - 1` set: level `n`'s reward is claimed.
    pub claimed: u64,
    /// By mission index; missing entries are 0.
    pub progress: Vec<u32>,
}

impl PassState {
    pub fn is_claimed(&self, level: u8) -> bool {
        (1..=64).contains(&level) && self.claimed & (1 << (level - 1)) != 0
    }

    pub fn progress_of(&self, mission: u16) -> u32 {
        self.progress.get(mission as usize).copied().unwrap_or(0)
    }
}

/// Shop purchases on one day (days count from the unix epoch, UTC): each
/// offer's count, for the offers' daily limits. A purchase on a later day
/// starts the count again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopDay {
    pub day: u32,
    /// (offer index, purchases), by offer.
    pub bought: Vec<(u16, u32)>,
}

impl ShopDay {
    /// Purchases of `offer` on `day`.
    pub fn bought_on(&self, day: u32, offer: u16) -> u32 {
        if self.day != day {
            return 0;
        }
        self.bought
            .iter()
            .find(|(o, _)| *o == offer)
            .map_or(0, |(_, n)| *n)
    }
}

impl Inventory {
    /// An empty inventory of `slots` slots.
    pub fn new(slots: usize) -> Self {
        Inventory {
            gold: 0,
            slots: vec![None; slots],
            equipped: [None; 7],
            seq: 0,
            pass: PassState::default(),
            shop: ShopDay::default(),
        }
    }

    pub fn equipped(&self, slot: EquipSlot) -> Option<&Stack> {
        self.equipped[equip_index(slot)].as_ref()
    }

    /// Every stack, in the slots and worn.
    pub fn stacks(&self) -> impl Iterator<Item = &Stack> {
        self.slots.iter().chain(self.equipped.iter()).flatten()
    }

    /// How many items of `def` it holds, in the slots and worn.
    pub fn count_of(&self, def: ItemDefId) -> u64 {
        self.stacks()
            .filter(|s| s.def == def)
            .map(|s| s.count as u64)
            .sum()
    }

    /// What the worn items add to their wearer: each item's stats, plus
    /// its kind's `per_plus_pct` percent of them per enhancement level.
    pub fn gear(&self, defs: &[ItemDef]) -> ItemStats {
        let mut total = ItemStats::default();
        for s in self.equipped.iter().flatten() {
            let Some(d) = defs.get(s.def.0 as usize) else {
                continue;
            };
            let pct = 100 + u64::from(d.per_plus_pct) * u64::from(s.plus);
            let of = |v: u32| u32::try_from(u64::from(v) * pct / 100).unwrap_or(u32::MAX);
            total.power = total.power.saturating_add(of(d.stats.power));
            total.armor = total.armor.saturating_add(of(d.stats.armor));
            total.health = total.health.saturating_add(of(d.stats.health));
        }
        total
    }

    pub fn free_slots(&self) -> usize {
        self.slots.iter().filter(|s| s.is_none()).count()
    }
}

pub(super) fn equip_index(slot: EquipSlot) -> usize {
    EquipSlot::ALL
        .iter()
        .position(|&s| s == slot)
        .expect("every slot is in ALL")
}
