//! The economy's tables: item definitions, the shop's catalogue, the
//! enhancement steps and what monsters drop. (Loaded from `items.toml`,
//! `shop.toml`, `enhance.toml` and the loot of `monsters.toml`; see
//! `files.rs` and `economy_loader.rs`.)

use serde::{Deserialize, Serialize};

/// The highest enhancement level of any item: the enhancement table has one
/// step per level, 1 to this.
pub const MAX_PLUS: u8 = 15;

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
/// adds `ItemDef::per_plus_pct` percent of each).
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
    /// What a shop pays for one (a shop sells for [`ShopOffer::price`]).
    pub sell_price: u64,
    /// The highest enhancement level, at most [`MAX_PLUS`]; 0 for items that
    /// cannot be enhanced (every item without a slot).
    pub max_plus: u8,
}

impl ItemDef {
    pub fn stacks(&self) -> bool {
        self.max_stack > 1
    }
}

/// One line of the shop's catalogue; its index in `Content::shop` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ShopOffer {
    pub item: ItemDefId,
    /// Gold for one purchase (at least 1, and at least what selling the
    /// `count` items back pays, so buying and selling never makes gold).
    pub price: u64,
    /// Items one purchase gives (1 to the item's `max_stack`).
    pub count: u32,
    /// Purchases per player per day; 0: no limit.
    pub daily_limit: u32,
}

/// The cost and odds of enhancing an item from one level to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EnhanceStep {
    pub cost_gold: u64,
    /// Enhancement stones ([`EnhanceTable::stone`]) consumed.
    pub stones: u32,
    /// Per-mille odds of each outcome; they sum to 1000. Success raises the
    /// level by one, fail keeps it, downgrade lowers it by one, destroy
    /// removes the item.
    pub success: u16,
    pub fail: u16,
    pub downgrade: u16,
    pub destroy: u16,
}

impl EnhanceStep {
    /// The odds' total: what the four per-mille odds must sum to.
    pub const ODDS_TOTAL: u16 = 1000;
}

/// Enhancement: one step per target level, 1 to [`MAX_PLUS`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnhanceTable {
    /// The item consumed by every step (stackable, not equipment).
    pub stone: ItemDefId,
    /// `steps[0]` takes +0 to +1; `steps.len() == MAX_PLUS`.
    pub steps: Vec<EnhanceStep>,
}

impl EnhanceTable {
    /// The step that enhances an item now at `plus` (`None` at [`MAX_PLUS`]).
    pub fn step_from(&self, plus: u8) -> Option<&EnhanceStep> {
        self.steps.get(plus as usize)
    }
}

/// One item a monster may drop when it dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LootEntry {
    pub item: ItemDefId,
    /// Per-mille chance that it drops (1 to 1000), drawn per entry.
    pub chance_pm: u16,
    /// How many drop when it does: from `min` to `max` (1 <= min <= max <=
    /// the item's `max_stack`).
    pub min: u32,
    pub max: u32,
}
