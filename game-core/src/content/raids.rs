//! Raid kinds (from `raids.toml`): how each one's queue matches players.
//! The instance map, the boss and the rewards come with the raid fight.

use super::economy_loader::ItemsByName;
use super::files::{RaidDef, RaidsFile, RolesDef};
use super::loader::ContentError;
use super::raid_fight::{load_fight, RaidFight};
use super::reading::{unique_name, File, Walkable};
use super::{LevelTable, MonsterKindId};
use crate::raid::{LevelGroup, Matching, QueueRules};
use serde::Serialize;
use std::collections::BTreeMap;

/// The most raid kinds (the wire names one by its index).
pub const MAX_RAIDS: usize = 32;
/// The most players in one raid.
pub const MAX_RAID_GROUP: u8 = 40;
const MAX_LEVEL_GROUPS: usize = 100;

/// One raid kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaidKind {
    pub name: String,
    /// Its queue's rules (`Matching::LevelSpread`).
    pub queue: QueueRules,
    /// Its instance's map, boss, phases, time limit and reward.
    pub fight: RaidFight,
}

/// What a raid kind's table is checked against.
pub(super) struct RaidRefs<'a> {
    pub levels: &'a LevelTable,
    pub monsters: &'a BTreeMap<&'a str, MonsterKindId>,
    pub items: &'a ItemsByName<'a>,
    pub walkable: &'a Walkable<'a>,
}

pub(super) fn load_raids(file: File, refs: &RaidRefs<'_>) -> Result<Vec<RaidKind>, ContentError> {
    let levels = refs.levels;
    let parsed: RaidsFile = file.parse()?;
    if parsed.raid.len() > MAX_RAIDS {
        return Err(file.at_no_line(format!("too many raids: at most {MAX_RAIDS}")));
    }
    let mut names = BTreeMap::new();
    let mut raids = Vec::with_capacity(parsed.raid.len());
    for def in &parsed.raid {
        let RaidDef {
            name,
            group_size,
            roles,
            level_groups,
            spread,
            widen_every_s,
            ready_check_s,
            ..
        } = def;
        unique_name(&file, &mut names, name, "raid")?;
        let name = file.name(name, "raid")?;
        let size: u8 = file.int(group_size, "group_size", 2, MAX_RAID_GROUP.into())?;
        let roles = match roles {
            Some(r) => {
                let RolesDef {
                    tank,
                    healer,
                    damage,
                } = r.get_ref();
                let counts = [*tank, *healer, *damage];
                if counts.iter().any(|&n| n < 0) || counts.iter().sum::<i64>() != i64::from(size) {
                    return Err(file.at(
                        r.span(),
                        format!(
                            "raid {name}'s roles are {tank} + {healer} + {damage}: they must \
                             sum to its group_size, {size}"
                        ),
                    ));
                }
                Some(counts.map(|n| n as u8))
            }
            None => None,
        };
        let max_level = i64::from(levels.max_level());
        let mut groups: Vec<LevelGroup> = Vec::new();
        let at = level_groups.span();
        if level_groups.get_ref().is_empty() || level_groups.get_ref().len() > MAX_LEVEL_GROUPS {
            return Err(file.at(
                at,
                format!("raid {name} needs 1 to {MAX_LEVEL_GROUPS} level groups"),
            ));
        }
        for &[min, max] in level_groups.get_ref() {
            let after = groups.last().map_or(0, |g| i64::from(g.max));
            if min < 1 || min > max || max > max_level || min <= after {
                return Err(file.at(
                    at.clone(),
                    format!(
                        "raid {name}'s level group [{min}, {max}] is not allowed: groups are \
                         [min, max] with 1 <= min <= max <= {max_level} (the level table), \
                         rising and not overlapping"
                    ),
                ));
            }
            groups.push(LevelGroup {
                min: min as u16,
                max: max as u16,
            });
        }
        let widen: u32 = file.int(widen_every_s, "widen_every_s", 0, 3_600)?;
        let ready: u32 = file.int(ready_check_s, "ready_check_s", 5, 120)?;
        let fight = load_fight(&file, &name, def, refs.monsters, refs.items, refs.walkable)?;
        raids.push(RaidKind {
            fight,
            name,
            queue: QueueRules {
                group_size: size,
                roles,
                level_groups: groups,
                spread_start: file.int(spread, "spread", 0, 100)?,
                widen_every_ms: widen * 1_000,
                ready_check_ms: ready * 1_000,
                matching: Matching::LevelSpread,
            },
        });
    }
    Ok(raids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Content, SAMPLE_CONTENT};
    use crate::raid::Role;

    fn with_raids(text: &str) -> Result<Content, ContentError> {
        let files: Vec<(&str, &str)> = SAMPLE_CONTENT
            .iter()
            .map(|&(n, t)| if n == "raids.toml" { (n, text) } else { (n, t) })
            .collect();
        let maps: Vec<crate::zone::Map> = crate::zone::SAMPLE_MAPS
            .iter()
            .map(|t| crate::zone::Map::parse(t).unwrap())
            .collect();
        Content::load_for_maps(&files, &maps)
    }

    #[test]
    fn the_sample_raids_load() {
        let c = Content::sample();
        assert_eq!(c.raids.len(), 2);
        let lair = &c.raids[0];
        assert_eq!(lair.name, "ember_lair");
        assert_eq!(lair.queue.group_size, 10);
        assert_eq!(lair.queue.roles.map(|r| r[Role::Tank.index()]), Some(2));
        assert_eq!(lair.queue.level_groups[1], LevelGroup { min: 11, max: 20 });
        assert_eq!(lair.queue.group_of(15), Some(1));
        assert_eq!(
            (lair.queue.widen_every_ms, lair.queue.ready_check_ms),
            (15_000, 30_000)
        );
        assert_eq!(c.raids[1].queue.roles, None);
    }

    #[test]
    fn mistakes_are_refused_on_their_line() {
        const RAID: &str = "[[raid]]\nname = \"a\"\ngroup_size = 4\n";
        const REST: &str = "spread = 1\nwiden_every_s = 5\nready_check_s = 10\n\
            map = \"ember_lair\"\ntime_limit_s = 60\nclose_after_s = 10\n\
            boss = \"bear\"\nboss_cell = [30, 15]\nenrage_s = 0\nreward_gold = 5\n\
            [[raid.phase]]\nhealth_pct = 100\n";
        let raid = |middle: &str| format!("{RAID}{middle}{REST}");
        let groups = "level_groups = [[1, 10]]\n";
        let fight = |middle: &str| format!("{RAID}{groups}{middle}{REST}");
        let cases = [
            (
                raid("roles = { tank = 1, healer = 1, damage = 1 }\nlevel_groups = [[1, 10]]\n"),
                4,
                "must sum to its group_size, 4",
            ),
            (
                raid("level_groups = [[1, 10], [10, 20]]\n"),
                4,
                "not overlapping",
            ),
            (raid("level_groups = [[1, 99]]\n"), 4, "<= 30"),
            (raid("level_groups = []\n"), 4, "1 to 100 level groups"),
            (
                "[[raid]]\nname = \"a\"\ngroup_size = 1\nlevel_groups = [[1, 10]]\n".to_string()
                    + REST,
                3,
                "group_size is 1",
            ),
            (fight("bogus = 1\n"), 5, "unknown field"),
            (raid(groups) + &raid(groups), 18, "given twice"),
            // The fight.
            (
                fight("").replace("boss = \"bear\"", "boss = \"dragon\""),
                11,
                "unknown monster \"dragon\"",
            ),
            (
                fight("").replace("[30, 15]", "[0, 0]"),
                12,
                "not a walkable cell",
            ),
            (
                fight("").replace("map = \"ember_lair\"", "map = \"nowhere\""),
                12,
                "no map named \"nowhere\"",
            ),
            (
                fight("").replace("enrage_s = 0", "enrage_s = 30"),
                13,
                "no enrage_power_pct",
            ),
            (
                fight("").replace("enrage_s = 0", "enrage_s = 60"),
                13,
                "enrage_s is 60",
            ),
            (
                fight("").replace("reward_gold = 5\n", ""),
                2,
                "has no reward",
            ),
            (
                fight("") + "[[raid.phase]]\nhealth_pct = 100\n",
                18,
                "each next one is lower",
            ),
            (
                fight("") + "[[raid.phase]]\nhealth_pct = 50\nadds = { monster = \"wolf\", count = 21 }\n",
                19,
                "count is 21",
            ),
            (
                fight("") + "[[raid.phase]]\nhealth_pct = 50\narea = { every_s = 2, warn_ms = 2000, radius_m = 3.0, damage = 5 }\n",
                19,
                "warn_ms is 2000",
            ),
        ];
        for (text, line, words) in cases {
            let e = with_raids(&text).unwrap_err();
            assert_eq!(
                (e.file.as_str(), e.line),
                ("raids.toml", line),
                "{e}\n{text}"
            );
            assert!(e.message.contains(words), "{e}");
        }
    }

    #[test]
    fn the_sample_fights_load() {
        let c = Content::sample();
        let lair = &c.raids[0].fight;
        assert_eq!(lair.map, "ember_lair");
        assert_eq!(lair.phases.len(), 3);
        assert_eq!(lair.phases[1].health_pm, 600);
        assert_eq!(lair.phases[2].adds.map(|a| a.count), Some(4));
        assert_eq!((lair.enrage_ms, lair.enrage_power_pct), (420_000, 250));
        assert_eq!(lair.reward_item.map(|(_, n)| n), Some(3));
        assert_eq!(
            c.monster(lair.boss).map(|m| m.name.as_str()),
            Some("ember_drake")
        );
        let grounds = &c.raids[1].fight;
        assert_eq!((grounds.time_limit_ms, grounds.reward_gold), (300_000, 120));
        assert_eq!(grounds.enrage_ms, 0);
    }
}
