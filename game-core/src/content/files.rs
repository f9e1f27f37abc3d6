//! The content files as written: one serde struct per TOML table, every field
//! that can be wrong wrapped in [`Spanned`] so a mistake is reported on its
//! line. Numbers are read wide (`i64`, `f64`) and narrowed by `loader.rs`,
//! which says what range is allowed. Unknown fields are refused everywhere.
//!
//! The formats (see ARCHITECTURE.md, "Content", and the sample files in
//! `game-core/content/` and `game-core/maps/*.spawns.toml`):
//!
//! - `skills.toml`: `[[skill]]` tables ([`SkillDef`]);
//! - `monsters.toml`: `[[monster]]` tables ([`MonsterDef`]), each with an
//!   optional `loot` list ([`LootDef`]);
//! - `levels.toml`: `[[level]]` tables, level 1 first ([`LevelDef`]);
//! - `rules.toml`: `[player]` and `[combat]` ([`RulesFile`]);
//! - `<map>.spawns.toml`: `respawn = [x, y]` and `[[group]]` tables
//!   ([`SpawnsFile`]);
//! - `items.toml`: `[[item]]` tables ([`ItemEntryDef`]);
//! - `pass.toml`: `[[mission]]` and `[[level]]` tables ([`PassFile`]);
//! - `shop.toml`: `[[offer]]` tables ([`OfferDef`]);
//! - `enhance.toml`: `stone = "<item>"` and a `[[step]]` table per level
//!   ([`EnhanceFile`]);
//! - `raids.toml`: `[[raid]]` tables ([`RaidDef`]).

use serde::Deserialize;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SkillsFile {
    #[serde(default)]
    pub skill: Vec<SkillDef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum EffectDef {
    Damage,
    Heal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum TargetingDef {
    Enemy,
    Ally,
    Caster,
}

/// `area = "single"`, `area = { circle = { radius_m = 5 } }` or
/// `area = { cone = { radius_m = 6, half_angle_deg = 45 } }`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub(super) enum AreaDef {
    Single,
    Circle { radius_m: f64 },
    Cone { radius_m: f64, half_angle_deg: i64 },
}

/// `over_time = { period_ms = 1000, pulses = 5, power = 6 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OverTimeDef {
    pub period_ms: S<i64>,
    pub pulses: S<i64>,
    pub power: S<i64>,
}

/// `control = { stun_ms = 1500 }` or `control = { slow_ms = 4000, speed_pct = 50 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ControlDef {
    pub stun_ms: Option<S<i64>>,
    pub slow_ms: Option<S<i64>>,
    pub speed_pct: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SkillDef {
    pub id: S<i64>,
    pub name: S<String>,
    pub effect: S<EffectDef>,
    pub targeting: S<TargetingDef>,
    /// Default `"single"`.
    pub area: Option<S<AreaDef>>,
    pub power: S<i64>,
    /// Default 100.
    pub scaling_pct: Option<S<i64>>,
    /// Default 0 (instant).
    pub cast_ms: Option<S<i64>>,
    pub cooldown_ms: S<i64>,
    /// Default true.
    pub global_cooldown: Option<bool>,
    /// Default 0.
    pub mana: Option<S<i64>>,
    /// Required unless the targeting is `caster` (then absent or 0).
    pub range_m: Option<S<f64>>,
    /// Default 1 for `single`, 8 for an area.
    pub max_targets: Option<S<i64>>,
    pub over_time: Option<S<OverTimeDef>>,
    pub control: Option<S<ControlDef>>,
    /// Default 100.
    pub threat_pct: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MonstersFile {
    #[serde(default)]
    pub monster: Vec<MonsterDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MonsterDef {
    pub id: S<i64>,
    pub name: S<String>,
    pub level: S<i64>,
    pub health: S<i64>,
    pub power: S<i64>,
    pub armor: S<i64>,
    pub speed_m: S<f64>,
    pub aggro_radius_m: S<f64>,
    pub leash_m: S<f64>,
    pub skills: S<Vec<S<String>>>,
    pub experience: S<i64>,
    /// Default none.
    #[serde(default)]
    pub loot: Vec<LootDef>,
    /// Default 0 each.
    pub gold_min: Option<S<i64>>,
    pub gold_max: Option<S<i64>>,
}

/// `{ item = "wolf_pelt", chance_pm = 400, min = 1, max = 2 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LootDef {
    pub item: S<String>,
    pub chance_pm: S<i64>,
    pub min: S<i64>,
    pub max: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LevelsFile {
    #[serde(default)]
    pub level: Vec<LevelDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LevelDef {
    pub experience: S<i64>,
    pub health: S<i64>,
    pub mana: S<i64>,
    pub power: S<i64>,
    pub armor: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RulesFile {
    pub player: PlayerDef,
    pub combat: CombatDef,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlayerDef {
    pub auto_attack: S<String>,
    pub skills: S<Vec<S<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CombatDef {
    pub global_cooldown_ms: S<i64>,
    pub miss_pct: S<i64>,
    pub crit_pct: S<i64>,
    pub crit_damage_pct: S<i64>,
    pub regen_period_ms: S<i64>,
    pub health_regen_pct: S<i64>,
    pub mana_regen_pct: S<i64>,
    pub respawn_delay_ms: S<i64>,
    pub combat_timeout_ms: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SpawnsFile {
    pub respawn: S<[i64; 2]>,
    #[serde(default)]
    pub group: Vec<GroupDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupDef {
    pub monster: S<String>,
    pub cell: S<[i64; 2]>,
    pub count: S<i64>,
    pub radius_cells: S<i64>,
    pub respawn_ms: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ItemsFile {
    #[serde(default)]
    pub item: Vec<ItemEntryDef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum SlotDef {
    Weapon,
    Head,
    Chest,
    Legs,
    Hands,
    Feet,
    Ring,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum RarityDef {
    Common,
    Uncommon,
    Rare,
    Epic,
    Legendary,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ItemEntryDef {
    pub id: S<i64>,
    pub name: S<String>,
    pub max_stack: S<i64>,
    /// Absent: not equipment.
    pub slot: Option<S<SlotDef>>,
    /// The stats and the enhancement fields default to 0.
    pub power: Option<S<i64>>,
    pub armor: Option<S<i64>>,
    pub health: Option<S<i64>>,
    pub per_plus_pct: Option<S<i64>>,
    pub rarity: S<RarityDef>,
    pub sell_price: S<i64>,
    pub max_plus: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ShopFile {
    #[serde(default)]
    pub offer: Vec<OfferDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OfferDef {
    pub item: S<String>,
    pub price: S<i64>,
    /// Default 1.
    pub count: Option<S<i64>>,
    /// Default 0 (no limit).
    pub daily_limit: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EnhanceFile {
    pub stone: S<String>,
    #[serde(default)]
    pub step: Vec<StepDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepDef {
    /// The level this step reaches: the steps are levels 1, 2, ... in order.
    pub level: S<i64>,
    pub cost_gold: S<i64>,
    pub stones: S<i64>,
    pub success: S<i64>,
    pub fail: S<i64>,
    pub downgrade: S<i64>,
    pub destroy: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PassFile {
    #[serde(default)]
    pub mission: Vec<MissionDef>,
    #[serde(default)]
    pub level: Vec<PassLevelDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub(super) enum MissionKindDef {
    Kill,
    Walk,
    Enhance,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MissionDef {
    pub name: S<String>,
    pub kind: MissionKindDef,
    pub goal: S<i64>,
    pub xp: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PassLevelDef {
    pub xp: S<i64>,
    pub item: Option<S<String>>,
    /// Default 1.
    pub count: Option<S<i64>>,
    /// Default 0.
    pub gold: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RaidsFile {
    #[serde(default)]
    pub raid: Vec<RaidDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RaidDef {
    pub name: S<String>,
    pub group_size: S<i64>,
    pub roles: Option<S<RolesDef>>,
    pub level_groups: S<Vec<[i64; 2]>>,
    pub spread: S<i64>,
    pub widen_every_s: S<i64>,
    pub ready_check_s: S<i64>,
    pub map: S<String>,
    pub time_limit_s: S<i64>,
    pub close_after_s: S<i64>,
    pub boss: S<String>,
    pub boss_cell: S<[i64; 2]>,
    pub enrage_s: S<i64>,
    /// Required unless `enrage_s` is 0.
    pub enrage_power_pct: Option<S<i64>>,
    /// Default 0.
    pub reward_gold: Option<S<i64>>,
    pub reward_item: Option<S<String>>,
    /// Default 1.
    pub reward_count: Option<S<i64>>,
    #[serde(default)]
    pub phase: Vec<PhaseDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PhaseDef {
    pub health_pct: S<i64>,
    pub area: Option<S<AreaAttackDef>>,
    pub adds: Option<S<AddsDef>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AreaAttackDef {
    pub every_s: S<i64>,
    pub warn_ms: S<i64>,
    pub radius_m: S<f64>,
    pub damage: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddsDef {
    pub monster: S<String>,
    pub count: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RolesDef {
    pub tank: i64,
    pub healer: i64,
    pub damage: i64,
}
