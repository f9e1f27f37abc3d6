//! A raid kind's fight (from its `raids.toml` table): the map its instances
//! run, the boss and its phases (an area attack to dodge, adds that join),
//! the enrage, the time limit and the reward.

use super::economy_loader::{item_named, ItemsByName, MAX_GOLD};
use super::files::{AddsDef, AreaAttackDef, PhaseDef, RaidDef};
use super::loader::{monster_named, ContentError};
use super::reading::{File, Walkable};
use super::{ItemDefId, MonsterKindId};
use crate::math::Fixed;
use serde::Serialize;
use std::collections::BTreeMap;

/// The most phases a boss has.
pub const MAX_PHASES: usize = 8;
/// The most adds one phase brings.
pub const MAX_ADDS: u8 = 20;

/// How a raid kind's instance plays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaidFight {
    pub map: String,
    pub time_limit_ms: u32,
    /// After the end, the instance closes this long later.
    pub close_after_ms: u32,
    pub boss: MonsterKindId,
    pub boss_cell: (u32, u32),
    /// From this long after the start the boss is enraged (0: never).
    pub enrage_ms: u32,
    /// An enraged boss's power, in percent of its own.
    pub enrage_power_pct: u32,
    /// In order; the first starts at full health.
    pub phases: Vec<Phase>,
    pub reward_gold: u64,
    pub reward_item: Option<(ItemDefId, u32)>,
}

/// One phase of the boss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Phase {
    /// Starts when the boss's health falls to this many thousandths of its
    /// maximum.
    pub health_pm: u16,
    pub area: Option<AreaAttack>,
    pub adds: Option<Adds>,
}

/// An area attack: announced `warn_ms` before it lands at a member's place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AreaAttack {
    pub every_ms: u32,
    pub warn_ms: u32,
    pub radius: Fixed,
    pub damage: u32,
}

/// Monsters that join the boss as a phase starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Adds {
    pub monster: MonsterKindId,
    pub count: u8,
}

/// The fight of `def` (raid `name`), checked against the monsters, items
/// and maps.
pub(super) fn load_fight(
    file: &File,
    name: &str,
    def: &RaidDef,
    monsters: &BTreeMap<&str, MonsterKindId>,
    items: &ItemsByName<'_>,
    walkable: &Walkable<'_>,
) -> Result<RaidFight, ContentError> {
    let monster = |v: &toml::Spanned<String>, role: &str| monster_named(file, monsters, v, role);
    let map = def.map.get_ref().clone();
    let boss_cell = file.cell(&def.boss_cell, "boss_cell", &map, walkable)?;
    let time_limit_s: u32 = file.int(&def.time_limit_s, "time_limit_s", 30, 7_200)?;
    let enrage_s: u32 = file.int(&def.enrage_s, "enrage_s", 0, i64::from(time_limit_s) - 1)?;
    let enrage_power_pct = match (&def.enrage_power_pct, enrage_s) {
        (Some(pct), _) => file.int(pct, "enrage_power_pct", 100, 1_000)?,
        (None, 0) => 100,
        (None, _) => {
            return Err(file.at(
                def.enrage_s.span(),
                format!("raid {name} enrages but has no enrage_power_pct"),
            ))
        }
    };
    let reward_item = match &def.reward_item {
        Some(item) => {
            let it = item_named(file, items, item, "a raid's reward_item")?;
            let count =
                file.int_or(&def.reward_count, "reward_count", 1, it.max_stack.into(), 1)?;
            Some((it.id, count))
        }
        None if def.reward_count.is_some() => {
            return Err(file.at(
                def.name.span(),
                format!("raid {name} has a reward_count but no reward_item"),
            ))
        }
        None => None,
    };
    let reward_gold: u64 = file.int_or(&def.reward_gold, "reward_gold", 0, MAX_GOLD, 0)?;
    if reward_item.is_none() && reward_gold == 0 {
        return Err(file.at(
            def.name.span(),
            format!("raid {name} has no reward: give it reward_gold, a reward_item or both"),
        ));
    }
    if def.phase.is_empty() || def.phase.len() > MAX_PHASES {
        return Err(file.at(
            def.name.span(),
            format!("raid {name} needs 1 to {MAX_PHASES} [[raid.phase]] tables"),
        ));
    }
    let mut phases: Vec<Phase> = Vec::with_capacity(def.phase.len());
    for (i, p) in def.phase.iter().enumerate() {
        let PhaseDef {
            health_pct,
            area,
            adds,
        } = p;
        let pct: u16 = file.int(health_pct, "health_pct", 1, 100)?;
        let first = i == 0;
        let falls = phases.last().is_none_or(|last| pct * 10 < last.health_pm);
        if (first && pct != 100) || !falls {
            return Err(file.at(
                health_pct.span(),
                format!(
                    "raid {name}'s phase {} starts at {pct}%: the first phase's health_pct is \
                     100, and each next one is lower",
                    i + 1
                ),
            ));
        }
        let area = match area {
            Some(a) => {
                let AreaAttackDef {
                    every_s,
                    warn_ms,
                    radius_m,
                    damage,
                } = a.get_ref();
                let every_ms = file.int::<u32>(every_s, "every_s", 1, 600)? * 1_000;
                Some(AreaAttack {
                    every_ms,
                    warn_ms: file.int(
                        warn_ms,
                        "warn_ms",
                        0,
                        i64::from(every_ms.min(10_001)) - 1,
                    )?,
                    radius: file.metres(radius_m, "radius_m", true)?,
                    damage: file.int(damage, "damage", 1, 100_000)?,
                })
            }
            None => None,
        };
        let adds = match adds {
            Some(a) => {
                let AddsDef { monster: m, count } = a.get_ref();
                Some(Adds {
                    monster: monster(m, "adds' monster")?,
                    count: file.int(count, "count", 1, MAX_ADDS.into())?,
                })
            }
            None => None,
        };
        phases.push(Phase {
            health_pm: pct * 10,
            area,
            adds,
        });
    }
    Ok(RaidFight {
        map,
        time_limit_ms: time_limit_s * 1_000,
        close_after_ms: file.int::<u32>(&def.close_after_s, "close_after_s", 5, 600)? * 1_000,
        boss: monster(&def.boss, "boss")?,
        boss_cell,
        enrage_ms: enrage_s * 1_000,
        enrage_power_pct,
        phases,
        reward_gold,
        reward_item,
    })
}
