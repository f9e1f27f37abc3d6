//! Raid kinds (from `raids.toml`): how each one's queue matches players.
//! The instance map, the boss and the rewards come with the raid fight.

use super::files::{RaidDef, RaidsFile, RolesDef};
use super::loader::ContentError;
use super::reading::{unique_name, File};
use super::LevelTable;
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
}

pub(super) fn load_raids(file: File, levels: &LevelTable) -> Result<Vec<RaidKind>, ContentError> {
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
        raids.push(RaidKind {
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
        const REST: &str = "spread = 1\nwiden_every_s = 5\nready_check_s = 10\n";
        let raid = |middle: &str| format!("{RAID}{middle}{REST}");
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
            (
                raid("level_groups = [[1, 10]]\nboss = 1\n"),
                5,
                "unknown field",
            ),
            (
                raid("level_groups = [[1, 10]]\n") + &raid("level_groups = [[1, 10]]\n"),
                9,
                "given twice",
            ),
        ];
        for (text, line, words) in cases {
            let e = with_raids(&text).unwrap_err();
            assert_eq!((e.file.as_str(), e.line), ("raids.toml", line), "{e}");
            assert!(e.message.contains(words), "{e}");
        }
    }
}
