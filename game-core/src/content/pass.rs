//! The battle pass: missions that pay pass experience, and levels with a
//! reward each (from `pass.toml`). A character's progress is
//! [`crate::economy::PassState`], stored with its inventory.

use super::economy_loader::{item_named, ItemsByName};
use super::files::{MissionDef, MissionKindDef, PassFile, PassLevelDef};
use super::items::ItemDefId;
use super::loader::ContentError;
use super::reading::{unique_name, File};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most missions (a character's progress has one counter each).
pub const MAX_MISSIONS: usize = 32;
/// The most levels: a character's claims are one bit per level in a `u64`.
pub const MAX_PASS_LEVELS: usize = 64;
const MAX_GOAL: i64 = 1_000_000;
const MAX_GOLD: i64 = 1_000_000_000_000;

/// What a mission counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissionKind {
    /// Monsters killed (a share of the kill, as loot is).
    Kill,
    /// Metres walked.
    Walk,
    /// Enhancement attempts, whatever their outcome.
    Enhance,
}

/// A repeatable mission: each time `goal` is reached it pays `xp`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mission {
    pub name: String,
    pub kind: MissionKind,
    pub goal: u32,
    pub xp: u64,
}

/// One pass level: reached at `xp` total pass experience; its reward is
/// claimed once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PassLevel {
    pub xp: u64,
    pub item: Option<(ItemDefId, u32)>,
    pub gold: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BattlePass {
    /// By index (what the wire and the stored progress name).
    pub missions: Vec<Mission>,
    /// `levels[0]` is level 1.
    pub levels: Vec<PassLevel>,
}

impl BattlePass {
    /// The level `xp` reaches (0: none yet).
    pub fn level_for(&self, xp: u64) -> u8 {
        self.levels.iter().take_while(|l| l.xp <= xp).count() as u8
    }

    /// Level `level` (1-based).
    pub fn level(&self, level: u8) -> Option<&PassLevel> {
        self.levels.get(usize::from(level).checked_sub(1)?)
    }
}

pub(super) fn load_pass(file: File, items: &ItemsByName<'_>) -> Result<BattlePass, ContentError> {
    let parsed: PassFile = file.parse()?;
    if parsed.mission.len() > MAX_MISSIONS {
        return Err(file.at_no_line(format!("too many missions: at most {MAX_MISSIONS}")));
    }
    if parsed.level.len() > MAX_PASS_LEVELS {
        return Err(file.at_no_line(format!("too many levels: at most {MAX_PASS_LEVELS}")));
    }
    let mut names = BTreeMap::new();
    let mut missions = Vec::with_capacity(parsed.mission.len());
    for def in &parsed.mission {
        let MissionDef {
            name,
            kind,
            goal,
            xp,
        } = def;
        unique_name(&file, &mut names, name, "mission")?;
        missions.push(Mission {
            name: file.name(name, "mission")?,
            kind: match kind {
                MissionKindDef::Kill => MissionKind::Kill,
                MissionKindDef::Walk => MissionKind::Walk,
                MissionKindDef::Enhance => MissionKind::Enhance,
            },
            goal: file.int(goal, "goal", 1, MAX_GOAL)?,
            xp: file.int(xp, "xp", 1, MAX_GOAL)?,
        });
    }
    let mut levels: Vec<PassLevel> = Vec::with_capacity(parsed.level.len());
    for (i, def) in parsed.level.iter().enumerate() {
        let PassLevelDef {
            xp,
            item,
            count,
            gold,
        } = def;
        let need: u64 = file.int(xp, "xp", 1, MAX_GOLD)?;
        if let Some(prev) = levels.last().filter(|p| p.xp >= need) {
            return Err(file.at(
                xp.span(),
                format!(
                    "level {} needs xp {need}, not more than level {}'s {}: the xp needed must \
                     strictly increase",
                    i + 1,
                    i,
                    prev.xp
                ),
            ));
        }
        let item = match item {
            Some(name) => {
                let it = item_named(&file, items, name, "a level's item")?;
                Some((
                    it.id,
                    file.int_or(count, "count", 1, it.max_stack.into(), 1)?,
                ))
            }
            None if count.is_some() => {
                return Err(file.at(
                    xp.span(),
                    format!("level {} has a count but no item", i + 1),
                ))
            }
            None => None,
        };
        let gold: u64 = file.int_or(gold, "gold", 0, MAX_GOLD, 0)?;
        if item.is_none() && gold == 0 {
            return Err(file.at(
                xp.span(),
                format!(
                    "level {} has no reward: give it an item, gold or both",
                    i + 1
                ),
            ));
        }
        levels.push(PassLevel {
            xp: need,
            item,
            gold,
        });
    }
    Ok(BattlePass { missions, levels })
}

#[cfg(test)]
mod tests {
    use crate::content::{Content, MissionKind};

    #[test]
    fn the_sample_pass_loads_with_rising_levels() {
        let c = Content::sample();
        assert_eq!(c.pass.missions.len(), 3);
        assert_eq!(c.pass.missions[0].kind, MissionKind::Kill);
        assert_eq!(c.pass.level_for(0), 0);
        assert_eq!(c.pass.level_for(100), 1);
        assert_eq!(c.pass.level_for(449), 2);
        assert_eq!(c.pass.level_for(u64::MAX), c.pass.levels.len() as u8);
        assert!(c.pass.level(0).is_none());
        assert_eq!(c.pass.level(1).unwrap().xp, 100);
    }

    fn with_pass(text: &str) -> Result<Content, crate::content::ContentError> {
        let files: Vec<(&str, &str)> = crate::content::SAMPLE_CONTENT
            .iter()
            .map(|&(n, t)| if n == "pass.toml" { (n, text) } else { (n, t) })
            .collect();
        let maps: Vec<crate::zone::Map> = crate::zone::SAMPLE_MAPS
            .iter()
            .map(|t| crate::zone::Map::parse(t).unwrap())
            .collect();
        Content::load_for_maps(&files, &maps)
    }

    #[test]
    fn mistakes_are_refused_on_their_line() {
        let cases = [
            (
                "[[level]]\nxp = 10\ngold = 1\n[[level]]\nxp = 10\ngold = 1\n",
                5,
                "strictly increase",
            ),
            ("[[level]]\nxp = 10\n", 2, "no reward"),
            (
                "[[level]]\nxp = 10\nitem = \"nothing\"\n",
                3,
                "unknown item",
            ),
            (
                "[[level]]\nxp = 10\nitem = \"rusty_sword\"\ncount = 2\n",
                4,
                "count is 2",
            ),
            (
                "[[mission]]\nname = \"a\"\nkind = \"kill\"\ngoal = 0\nxp = 1\n",
                4,
                "goal is 0",
            ),
            (
                "[[mission]]\nname = \"a\"\nkind = \"fly\"\ngoal = 1\nxp = 1\n",
                3,
                "unknown variant",
            ),
        ];
        for (text, line, words) in cases {
            let e = with_pass(text).unwrap_err();
            assert_eq!((e.file.as_str(), e.line), ("pass.toml", line), "{e}");
            assert!(e.message.contains(words), "{e}");
        }
    }
}
