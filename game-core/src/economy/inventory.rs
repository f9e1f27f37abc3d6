//! An inventory: a fixed number of slots, the equipped items, and gold.

use super::ItemId;
use crate::content::{EquipSlot, ItemDefId};
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
}

impl Inventory {
    /// An empty inventory of `slots` slots.
    pub fn new(slots: usize) -> Self {
        Inventory {
            gold: 0,
            slots: vec![None; slots],
            equipped: [None; 7],
            seq: 0,
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
