//! Turning the content files (formats in `files.rs`) into the validated tables
//! of `mod.rs`, refusing the first mistake with its file and line.
//!
//! The order is fixed, so the same files always give the same error: file
//! names first (unknown, given twice, missing), then `skills.toml`,
//! `levels.toml`, `items.toml`, `monsters.toml` (with their loot),
//! `rules.toml`, the spawns files by map name, `shop.toml`,
//! `enhance.toml` and `pass.toml`; within a file, entries in file order.

use super::economy_loader::{
    items_by_name, load_enhance, load_items, load_shop, monster_loot, ItemsByName,
};
use super::files::{
    GroupDef, LevelDef, LevelsFile, MonsterDef, MonstersFile, RulesFile, SpawnsFile,
};
use super::pass::load_pass;
use super::raids::{load_raids, RaidRefs};
use super::reading::{dense_ids, unique_name, File, Walkable, MAX_MS, SPAWNS_SUFFIX};
use super::skills_loader::load_skills;
use super::{
    CombatRules, Content, Level, LevelTable, MapContent, MonsterKind, MonsterKindId, PlayerClass,
    Skill, SkillEffect, SpawnGroup, Targeting,
};
use crate::zone::{Map, SAMPLE_MAPS};
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// The sample content compiled into the server: (file name, text). Loaded
/// against the sample maps by [`Content::sample`].
pub const SAMPLE_CONTENT: &[(&str, &str)] = &[
    ("skills.toml", include_str!("../../content/skills.toml")),
    ("monsters.toml", include_str!("../../content/monsters.toml")),
    ("levels.toml", include_str!("../../content/levels.toml")),
    ("rules.toml", include_str!("../../content/rules.toml")),
    ("items.toml", include_str!("../../content/items.toml")),
    ("shop.toml", include_str!("../../content/shop.toml")),
    ("enhance.toml", include_str!("../../content/enhance.toml")),
    ("pass.toml", include_str!("../../content/pass.toml")),
    ("raids.toml", include_str!("../../content/raids.toml")),
    (
        "meadow.spawns.toml",
        include_str!("../../maps/meadow.spawns.toml"),
    ),
    (
        "forest.spawns.toml",
        include_str!("../../maps/forest.spawns.toml"),
    ),
    (
        "ember_lair.spawns.toml",
        include_str!("../../maps/ember_lair.spawns.toml"),
    ),
];

/// Why the content was refused: the file, the line (1-based; 0 when the
/// mistake is not on one line, such as a missing file) and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ContentError {}

/// The most rows in the level table.
const MAX_LEVELS: usize = 1000;

/// The files every content set has, each once.
const REQUIRED: [&str; 9] = [
    "skills.toml",
    "monsters.toml",
    "levels.toml",
    "rules.toml",
    "items.toml",
    "shop.toml",
    "enhance.toml",
    "pass.toml",
    "raids.toml",
];

impl Content {
    /// Loads and validates content from `files` (name, text). A file is known
    /// by the last component of its name: `skills.toml`, `monsters.toml`,
    /// `levels.toml`, `rules.toml`, `items.toml`, `shop.toml`,
    /// `enhance.toml`, `pass.toml` and `raids.toml` (all nine required) and any number of
    /// `<map>.spawns.toml`. `walkable(map, cell)` says whether a cell of a
    /// loaded map is walkable (`None`: no such map or cell).
    #[allow(clippy::type_complexity)] // spelt out for the reader
    pub fn load(
        files: &[(&str, &str)],
        walkable: &dyn Fn(&str, (u32, u32)) -> Option<bool>,
    ) -> Result<Content, ContentError> {
        let mut required: [Option<File>; REQUIRED.len()] = [None; REQUIRED.len()];
        let mut spawns: BTreeMap<&str, File> = BTreeMap::new();
        for &(name, text) in files {
            let file = File { name, text };
            let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
            let slot = if let Some(i) = REQUIRED.iter().position(|r| *r == base) {
                &mut required[i]
            } else if let Some(map) = base
                .strip_suffix(SPAWNS_SUFFIX)
                .filter(|map| !map.is_empty())
            {
                if spawns.contains_key(map) {
                    return Err(file.at_no_line(format!(
                        "the spawns of map \"{map}\" are given twice: one {map}{SPAWNS_SUFFIX} per map"
                    )));
                }
                spawns.insert(map, file);
                continue;
            } else {
                return Err(file.at_no_line(format!(
                    "unknown content file \"{base}\": the files are {} and <map>{SPAWNS_SUFFIX}",
                    REQUIRED.join(", ")
                )));
            };
            if slot.is_some() {
                return Err(file.at_no_line(format!("{base} is given twice")));
            }
            *slot = Some(file);
        }
        if let Some(i) = required.iter().position(Option::is_none) {
            let name = REQUIRED[i];
            return Err(ContentError {
                file: name.into(),
                line: 0,
                message: format!(
                    "{name} is missing: the content needs {}",
                    REQUIRED.join(", ")
                ),
            });
        }
        // Every file is there (just checked): no default is used. Each name
        // is shadowed by its table once loaded.
        let [skills, monsters, levels, rules, items, shop, enhance, pass, raids] =
            required.map(Option::unwrap_or_default);

        let skills = load_skills(skills)?;
        let skill_ids: BTreeMap<&str, &Skill> =
            skills.iter().map(|s| (s.name.as_str(), s)).collect();
        let levels = load_levels(levels)?;
        let items = load_items(items)?;
        let item_ids = items_by_name(&items);
        let monsters = load_monsters(monsters, &skill_ids, &levels, &item_ids)?;
        let monster_ids: BTreeMap<&str, MonsterKindId> =
            monsters.iter().map(|m| (m.name.as_str(), m.id)).collect();
        let (player, rules) = load_rules(rules, &skill_ids)?;
        let mut maps = BTreeMap::new();
        for (map, file) in spawns {
            let content = load_spawns(file, map, &monster_ids, walkable)?;
            maps.insert(map.to_string(), content);
        }
        let shop = load_shop(shop, &item_ids)?;
        let enhance = load_enhance(enhance, &item_ids)?;
        let pass = load_pass(pass, &item_ids)?;
        let raids = load_raids(
            raids,
            &RaidRefs {
                levels: &levels,
                monsters: &monster_ids,
                items: &item_ids,
                walkable,
            },
        )?;
        Ok(Content {
            skills,
            monsters,
            levels,
            player,
            rules,
            maps,
            items,
            shop,
            enhance,
            pass,
            raids,
        })
    }

    /// [`Content::load`] against parsed maps: a cell is walkable when its map
    /// is among `maps` and its grid marks it `.` (`None` when the map is not
    /// there or the cell is outside it).
    pub fn load_for_maps(files: &[(&str, &str)], maps: &[Map]) -> Result<Content, ContentError> {
        let walkable = |name: &str, cell: (u32, u32)| {
            let map = maps.iter().find(|m| m.name() == name)?;
            (cell.0 < map.width() && cell.1 < map.height())
                .then(|| map.is_walkable(map.cell_center(cell)))
        };
        Content::load(files, &walkable)
    }

    /// The sample content ([`SAMPLE_CONTENT`]) on the sample maps
    /// ([`SAMPLE_MAPS`]). Panics if either is invalid (a test proves neither
    /// is).
    pub fn sample() -> Content {
        let maps: Vec<Map> = SAMPLE_MAPS
            .iter()
            .map(|text| match Map::parse(text) {
                Ok(map) => map,
                Err(e) => panic!("a sample map is invalid: {e}"),
            })
            .collect();
        match Content::load_for_maps(SAMPLE_CONTENT, &maps) {
            Ok(content) => content,
            Err(e) => panic!("the sample content is invalid: {e}"),
        }
    }
}

fn load_levels(file: File) -> Result<LevelTable, ContentError> {
    let parsed: LevelsFile = file.parse()?;
    if parsed.level.is_empty() {
        return Err(file.at_no_line("no levels: add a [[level]] table per level, level 1 first"));
    }
    if parsed.level.len() > MAX_LEVELS {
        return Err(file.at_no_line(format!("too many levels: at most {MAX_LEVELS}")));
    }
    let mut levels: Vec<Level> = Vec::with_capacity(parsed.level.len());
    for (i, def) in parsed.level.iter().enumerate() {
        let LevelDef {
            experience,
            health,
            mana,
            power,
            armor,
        } = def;
        let exp: u64 = file.int(experience, "experience", 0, i64::MAX)?;
        match levels.last() {
            None if exp != 0 => {
                return Err(file.at(
                    experience.span(),
                    format!("level 1 needs experience 0, not {exp}"),
                ))
            }
            Some(prev) if exp <= prev.experience => {
                return Err(file.at(
                    experience.span(),
                    format!(
                        "level {} needs experience {exp}, not more than level {}'s {}: the \
                         experience needed must strictly increase",
                        i + 1,
                        i,
                        prev.experience
                    ),
                ))
            }
            _ => {}
        }
        levels.push(Level {
            experience: exp,
            health: file.int(health, "health", 1, u32::MAX.into())?,
            mana: file.int(mana, "mana", 0, u32::MAX.into())?,
            power: file.int(power, "power", 0, u32::MAX.into())?,
            armor: file.int(armor, "armor", 0, u32::MAX.into())?,
        });
    }
    Ok(LevelTable { levels })
}

fn load_monsters(
    file: File,
    skills: &BTreeMap<&str, &Skill>,
    levels: &LevelTable,
    items: &ItemsByName<'_>,
) -> Result<Vec<MonsterKind>, ContentError> {
    let parsed: MonstersFile = file.parse()?;
    let ids = dense_ids(
        &file,
        &parsed.monster.iter().map(|m| &m.id).collect::<Vec<_>>(),
        "monster",
    )?;
    let mut names = BTreeMap::new();
    let mut monsters: Vec<Option<MonsterKind>> = vec![None; ids.len()];
    for (def, id) in parsed.monster.iter().zip(ids) {
        unique_name(&file, &mut names, &def.name, "monster")?;
        monsters[id as usize] = Some(monster(
            &file,
            def,
            MonsterKindId(id),
            skills,
            levels,
            items,
        )?);
    }
    Ok(monsters.into_iter().flatten().collect())
}

fn monster(
    file: &File,
    def: &MonsterDef,
    id: MonsterKindId,
    skills: &BTreeMap<&str, &Skill>,
    levels: &LevelTable,
    items: &ItemsByName<'_>,
) -> Result<MonsterKind, ContentError> {
    let name = file.name(&def.name, "monster")?;
    let aggro_radius = file.metres(&def.aggro_radius_m, "aggro_radius_m", false)?;
    let leash = file.metres(&def.leash_m, "leash_m", true)?;
    if leash < aggro_radius {
        return Err(file.at(
            def.leash_m.span(),
            "leash_m is less than aggro_radius_m: a monster would give up on what it just \
             attacked; it must be at least the aggro radius",
        ));
    }
    if def.skills.get_ref().is_empty() {
        return Err(file.at(
            def.skills.span(),
            "a monster needs at least one skill (the first is its basic attack)",
        ));
    }
    let mut ids = Vec::with_capacity(def.skills.get_ref().len());
    for s in def.skills.get_ref() {
        let Some(skill) = skills.get(s.get_ref().as_str()) else {
            return Err(file.at(
                s.span(),
                format!(
                    "unknown skill \"{}\": a monster's skills are names from skills.toml",
                    s.get_ref()
                ),
            ));
        };
        if skill.targeting == Targeting::Ally {
            return Err(file.at(
                s.span(),
                format!(
                    "skill \"{}\" targets an ally: a monster's skills target \"enemy\" or \"caster\"",
                    skill.name
                ),
            ));
        }
        if ids.contains(&skill.id) {
            return Err(file.at(
                s.span(),
                format!("skill \"{}\" is listed twice", skill.name),
            ));
        }
        ids.push(skill.id);
    }
    let (loot, gold) = monster_loot(file, def, items)?;
    Ok(MonsterKind {
        id,
        name,
        level: file.int(&def.level, "level", 1, levels.max_level().into())?,
        health: file.int(&def.health, "health", 1, u32::MAX.into())?,
        power: file.int(&def.power, "power", 0, u32::MAX.into())?,
        armor: file.int(&def.armor, "armor", 0, u32::MAX.into())?,
        speed: file.metres(&def.speed_m, "speed_m", true)?,
        aggro_radius,
        leash,
        skills: ids,
        experience: file.int(&def.experience, "experience", 0, i64::MAX)?,
        loot,
        gold,
    })
}

fn load_rules(
    file: File,
    skills: &BTreeMap<&str, &Skill>,
) -> Result<(PlayerClass, CombatRules), ContentError> {
    let parsed: RulesFile = file.parse()?;
    let skill_id = |s: &Spanned<String>| {
        skills
            .get(s.get_ref().as_str())
            .map(|s| s.id)
            .ok_or_else(|| {
                file.at(
                    s.span(),
                    format!(
                        "unknown skill \"{}\": the player's skills are names from skills.toml",
                        s.get_ref()
                    ),
                )
            })
    };
    let player = &parsed.player;
    let auto_attack = skill_id(&player.auto_attack)?;
    if let Some(s) = skills.get(player.auto_attack.get_ref().as_str()) {
        if s.effect != SkillEffect::Damage || s.targeting != Targeting::Enemy {
            return Err(file.at(
                player.auto_attack.span(),
                format!(
                    "the auto-attack \"{}\" must be a damage skill targeting \"enemy\"",
                    s.name
                ),
            ));
        }
    }
    let mut player_skills = Vec::with_capacity(player.skills.get_ref().len());
    for s in player.skills.get_ref() {
        let id = skill_id(s)?;
        if player_skills.contains(&id) {
            return Err(file.at(
                s.span(),
                format!("skill \"{}\" is listed twice", s.get_ref()),
            ));
        }
        player_skills.push(id);
    }
    if !player_skills.contains(&auto_attack) {
        return Err(file.at(
            player.skills.span(),
            format!(
                "the player's skills must include the auto-attack \"{}\"",
                player.auto_attack.get_ref()
            ),
        ));
    }
    let c = &parsed.combat;
    let rules = CombatRules {
        global_cooldown_ms: file.int(&c.global_cooldown_ms, "global_cooldown_ms", 0, 60_000)?,
        miss_pct: file.int(&c.miss_pct, "miss_pct", 0, 100)?,
        crit_pct: file.int(&c.crit_pct, "crit_pct", 0, 100)?,
        crit_damage_pct: file.int(&c.crit_damage_pct, "crit_damage_pct", 100, 1000)?,
        regen_period_ms: file.int(&c.regen_period_ms, "regen_period_ms", 100, 600_000)?,
        health_regen_pct: file.int(&c.health_regen_pct, "health_regen_pct", 0, 100)?,
        mana_regen_pct: file.int(&c.mana_regen_pct, "mana_regen_pct", 0, 100)?,
        respawn_delay_ms: file.int(&c.respawn_delay_ms, "respawn_delay_ms", 0, 600_000)?,
        combat_timeout_ms: file.int(&c.combat_timeout_ms, "combat_timeout_ms", 100, 600_000)?,
    };
    if u32::from(rules.miss_pct) + u32::from(rules.crit_pct) > 100 {
        return Err(file.at(
            c.crit_pct.span(),
            "miss_pct and crit_pct add up to more than 100: together they must be at most 100",
        ));
    }
    Ok((
        PlayerClass {
            auto_attack,
            skills: player_skills,
        },
        rules,
    ))
}

/// The monster kind named `name` (`role` says what names it, for the
/// error), or the error on its line.
pub(super) fn monster_named(
    file: &File,
    monsters: &BTreeMap<&str, MonsterKindId>,
    name: &toml::Spanned<String>,
    role: &str,
) -> Result<MonsterKindId, ContentError> {
    monsters
        .get(name.get_ref().as_str())
        .copied()
        .ok_or_else(|| {
            file.at(
                name.span(),
                format!(
                    "unknown monster \"{}\": {role} is a name from monsters.toml",
                    name.get_ref()
                ),
            )
        })
}

fn load_spawns(
    file: File,
    map: &str,
    monsters: &BTreeMap<&str, MonsterKindId>,
    walkable: &Walkable<'_>,
) -> Result<MapContent, ContentError> {
    let parsed: SpawnsFile = file.parse()?;
    let respawn = file.cell(&parsed.respawn, "respawn", map, walkable)?;
    let mut groups = Vec::with_capacity(parsed.group.len());
    for def in &parsed.group {
        let GroupDef {
            monster,
            cell,
            count,
            radius_cells,
            respawn_ms,
        } = def;
        let kind = monster_named(&file, monsters, monster, "a group's monster")?;
        groups.push(SpawnGroup {
            monster: kind,
            cell: file.cell(cell, "group cell", map, walkable)?,
            count: file.int(count, "count", 1, 1000)?,
            radius_cells: file.int(radius_cells, "radius_cells", 0, 64)?,
            respawn_ms: file.int(respawn_ms, "respawn_ms", 1000, MAX_MS)?,
        });
    }
    Ok(MapContent { respawn, groups })
}
