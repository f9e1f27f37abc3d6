//! Content: the game's data tables (skills, monster kinds and their loot, the
//! level table, the player class, combat rules, each map's spawn groups and
//! respawn point, and the economy's items, shop and enhancement steps),
//! loaded from text files beside the maps and validated at start.
//!
//! The core never opens a file: the driver passes each file's name and text
//! in ([`Content::load`]), and the sample content is compiled in
//! ([`Content::sample`]). A mistake is an operator's error, refused with the
//! file, line and reason ([`ContentError`]); the server does not start.
//!
//! Everything here is the validated form: ids are dense indices, amounts are
//! integers, distances fixed point, and every reference (a monster's skills,
//! a spawn group's monster) has been checked to exist. `files.rs` holds the
//! file formats (see ARCHITECTURE.md, "Content"); `loader.rs` turns them
//! into these tables, with `skills_loader.rs` for the skills,
//! `economy_loader.rs` for the economy's tables and the checks of
//! `reading.rs`.
//!
//! Owns the tables and their validation. May not hold any live state (a
//! monster's health is the zone's).

mod economy_loader;
#[cfg(test)]
mod economy_tests;
mod files;
mod items;
mod loader;
mod pass;
mod raid_fight;
mod raids;
mod reading;
mod skills_loader;
#[cfg(test)]
mod tests;

pub use items::{
    EnhanceStep, EnhanceTable, EquipSlot, ItemDef, ItemDefId, ItemStats, LootEntry, Rarity,
    ShopOffer, MAX_PLUS,
};
pub use loader::{ContentError, SAMPLE_CONTENT};
pub use pass::{BattlePass, Mission, MissionKind, PassLevel, MAX_MISSIONS, MAX_PASS_LEVELS};
pub use raid_fight::{Adds, AreaAttack, Phase, RaidFight, MAX_ADDS, MAX_PHASES};
pub use raids::{RaidKind, MAX_RAIDS, MAX_RAID_GROUP};

use crate::math::Fixed;
use serde::Serialize;
use std::collections::BTreeMap;

/// A skill's id: its index in [`Content::skills`], and what the wire carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SkillId(pub u16);

/// A monster kind's id: its index in [`Content::monsters`], and the `look` a
/// client is sent for a monster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct MonsterKindId(pub u16);

/// Every table, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Content {
    /// By id: `skills[i].id == SkillId(i)`.
    pub skills: Vec<Skill>,
    /// By id: `monsters[i].id == MonsterKindId(i)`.
    pub monsters: Vec<MonsterKind>,
    pub levels: LevelTable,
    pub player: PlayerClass,
    pub rules: CombatRules,
    /// By map name. A map without an entry has no monsters, and players
    /// respawn at its spawn point.
    pub maps: BTreeMap<String, MapContent>,
    /// By id: `items[i].id == ItemDefId(i)`.
    pub items: Vec<ItemDef>,
    /// The shop's catalogue, in file order.
    pub shop: Vec<ShopOffer>,
    pub enhance: EnhanceTable,
    pub pass: BattlePass,
    /// By index (what the wire names), in file order.
    pub raids: Vec<RaidKind>,
}

impl Content {
    pub fn skill(&self, id: SkillId) -> Option<&Skill> {
        self.skills.get(id.0 as usize)
    }

    pub fn monster(&self, id: MonsterKindId) -> Option<&MonsterKind> {
        self.monsters.get(id.0 as usize)
    }

    pub fn map(&self, name: &str) -> Option<&MapContent> {
        self.maps.get(name)
    }

    pub fn item(&self, id: ItemDefId) -> Option<&ItemDef> {
        self.items.get(id.0 as usize)
    }

    /// The item called `name` (a scan: for tests, tools and operators'
    /// commands, not a hot path).
    pub fn item_named(&self, name: &str) -> Option<&ItemDef> {
        self.items.iter().find(|i| i.name == name)
    }
}

#[cfg(test)]
impl Content {
    /// This content with `map`'s monsters replaced by one of `monster`
    /// standing on `cell`, which is also the map's respawn point (tests).
    pub(crate) fn with_one_monster_at(
        mut self,
        map: &str,
        cell: (u32, u32),
        monster: MonsterKindId,
    ) -> Content {
        self.maps.insert(
            map.into(),
            MapContent {
                respawn: cell,
                groups: vec![SpawnGroup {
                    monster,
                    cell,
                    count: 1,
                    radius_cells: 0,
                    respawn_ms: 60_000,
                }],
            },
        );
        self
    }
}

/// What a skill does to each target it reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SkillEffect {
    Damage,
    Heal,
}

/// Whom a skill may be aimed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Targeting {
    /// Another entity hostile to the caster (players and monsters are hostile
    /// to each other; players do not fight players).
    Enemy,
    /// The caster or a friendly entity.
    Ally,
    /// The caster only (no target is sent).
    Caster,
}

/// Which entities a skill reaches around its aim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Area {
    /// The target alone.
    Single,
    /// Every valid entity within `radius` of the target (or of the caster,
    /// for a [`Targeting::Caster`] skill).
    Circle { radius: Fixed },
    /// Every valid entity within `radius` of the caster and within
    /// `half_angle_deg` of the direction to the target.
    Cone { radius: Fixed, half_angle_deg: u16 },
}

/// A skill's effect repeated over time (a damage or heal over time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OverTime {
    /// Milliseconds between two pulses.
    pub period_ms: u32,
    /// How many pulses.
    pub pulses: u8,
    /// Each pulse's amount before scaling (as `Skill::power`).
    pub power: u32,
}

/// A crowd-control effect a skill puts on each target it reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Control {
    /// The target can neither move nor act.
    Stun { ms: u32 },
    /// The target moves at `speed_pct` percent of its speed.
    Slow { ms: u32, speed_pct: u8 },
}

impl Control {
    pub fn duration_ms(self) -> u32 {
        match self {
            Control::Stun { ms } | Control::Slow { ms, .. } => ms,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skill {
    pub id: SkillId,
    pub name: String,
    pub effect: SkillEffect,
    pub targeting: Targeting,
    pub area: Area,
    /// The amount at level 1 before stats; see `combat::formulas`.
    pub power: u32,
    /// Percent of the caster's power stat added to `power`.
    pub scaling_pct: u32,
    /// 0: instant.
    pub cast_ms: u32,
    pub cooldown_ms: u32,
    /// Whether it starts (and waits for) the global cooldown.
    pub global_cooldown: bool,
    pub mana: u32,
    /// How far the target may be from the caster (0 for `Caster` skills).
    pub range: Fixed,
    /// Areas reach at most this many entities, nearest first.
    pub max_targets: u8,
    pub over_time: Option<OverTime>,
    pub control: Option<Control>,
    /// Threat per point of damage or healing, in percent.
    pub threat_pct: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MonsterKind {
    pub id: MonsterKindId,
    pub name: String,
    pub level: u16,
    pub health: u32,
    pub power: u32,
    pub armor: u32,
    /// Metres per second when chasing or returning home.
    pub speed: Fixed,
    /// A player within this distance and in sight is attacked.
    pub aggro_radius: Fixed,
    /// Pulled farther than this from home, it gives up, walks home and resets.
    pub leash: Fixed,
    /// Its skills, the first being its basic attack. It uses the first one
    /// ready whose range reaches its target.
    pub skills: Vec<SkillId>,
    /// Shared among those who fought it when it dies.
    pub experience: u64,
    /// What it may drop when it dies, each entry drawn on its own.
    pub loot: Vec<LootEntry>,
    /// The gold it drops: from `gold.0` to `gold.1` (inclusive).
    pub gold: (u64, u64),
}

/// One row of the level table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Level {
    /// Total experience needed to reach this level (0 for level 1).
    pub experience: u64,
    pub health: u32,
    pub mana: u32,
    pub power: u32,
    pub armor: u32,
}

/// Levels 1 to `levels.len()`: `levels[0]` is level 1. Experience needed
/// strictly increases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LevelTable {
    pub levels: Vec<Level>,
}

impl LevelTable {
    pub fn max_level(&self) -> u16 {
        self.levels.len() as u16
    }

    /// The row of `level` (clamped into the table).
    pub fn row(&self, level: u16) -> &Level {
        let i = (level.max(1) as usize - 1).min(self.levels.len() - 1);
        &self.levels[i]
    }

    /// The level a character with `experience` has.
    pub fn level_for(&self, experience: u64) -> u16 {
        self.levels.partition_point(|l| l.experience <= experience) as u16
    }
}

/// What every player character can do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlayerClass {
    /// The skill repeated while auto-attacking.
    pub auto_attack: SkillId,
    /// The skills a player may use (the auto-attack among them).
    pub skills: Vec<SkillId>,
}

/// Numbers every fight shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CombatRules {
    pub global_cooldown_ms: u32,
    /// Percent chance a damaging hit misses, and crits.
    pub miss_pct: u8,
    pub crit_pct: u8,
    /// A crit's amount, in percent of a normal hit.
    pub crit_damage_pct: u32,
    /// Health and mana regenerate every this many milliseconds, by these
    /// percents of their maximum (not while dead; health not in combat).
    pub regen_period_ms: u32,
    pub health_regen_pct: u8,
    pub mana_regen_pct: u8,
    /// A dead player respawns after this long.
    pub respawn_delay_ms: u32,
    /// A player is in combat for this long after dealing or taking damage.
    pub combat_timeout_ms: u32,
}

/// A map's combat content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MapContent {
    /// Where dead players come back, in cells (walkable).
    pub respawn: (u32, u32),
    pub groups: Vec<SpawnGroup>,
}

/// Monsters of one kind placed around a cell, each coming back `respawn_ms`
/// after it dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SpawnGroup {
    pub monster: MonsterKindId,
    /// The group's centre, in cells (walkable).
    pub cell: (u32, u32),
    pub count: u16,
    /// Members are placed on walkable cells within this many cells of the
    /// centre.
    pub radius_cells: u16,
    pub respawn_ms: u32,
}
