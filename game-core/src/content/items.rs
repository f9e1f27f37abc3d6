//! The economy's tables: item definitions, the shop's catalogue and the
//! enhancement steps. (Loaded from `items.toml`, `shop.toml` and
//! `enhance.toml`; see `files.rs` and `loader.rs`.)

use serde::{Deserialize, Serialize};

/// An item definition's id: its index in `Content::items`, and what the wire
/// carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemDefId(pub u16);

/// Where an item is worn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EquipSlot {
    Weapon,
    Head,
    Chest,
    Legs,
    Hands,
    Feet,
    Ring,
}

impl EquipSlot {
    pub const ALL: [EquipSlot; 7] = [
        EquipSlot::Weapon,
        EquipSlot::Head,
        EquipSlot::Chest,
        EquipSlot::Legs,
        EquipSlot::Hands,
        EquipSlot::Feet,
        EquipSlot::Ring,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Rarity {
    Common,
    Uncommon,
    Rare,
    Epic,
    Legendary,
}

/// What an equipped item adds to its wearer (at +0; each enhancement level
/// adds `per_plus` of each).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ItemStats {
    pub power: u32,
    pub armor: u32,
    pub health: u32,
}

/// One kind of item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemDef {
    pub id: ItemDefId,
    pub name: String,
    /// How many fit in one inventory slot: 1 for items that do not stack
    /// (every equippable item).
    pub max_stack: u32,
    pub slot: Option<EquipSlot>,
    pub stats: ItemStats,
    /// Added to `stats` per enhancement level, in percent of `stats`.
    pub per_plus_pct: u16,
    pub rarity: Rarity,
    /// What a shop pays for one (a shop sells for `ShopEntry::price`).
    pub sell_price: u64,
    /// The highest enhancement level; 0 for items that cannot be enhanced.
    pub max_plus: u8,
}

impl ItemDef {
    pub fn stacks(&self) -> bool {
        self.max_stack > 1
    }
}
