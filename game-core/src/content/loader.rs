//! Turning the content files (formats in `files.rs`) into the validated tables
//! of `mod.rs`, refusing the first mistake with its file and line.
//!
//! The order is fixed, so the same files always give the same error: file
//! names first (unknown, given twice, missing), then `skills.toml`,
//! `levels.toml`, `monsters.toml`, `rules.toml`, and the spawns files by map
//! name; within a file, entries in file order.

use super::files::{
    AreaDef, ControlDef, EffectDef, GroupDef, LevelDef, LevelsFile, MonsterDef, MonstersFile,
    OverTimeDef, RulesFile, SkillDef, SkillsFile, SpawnsFile, TargetingDef,
};
use super::{
    Area, CombatRules, Content, Control, Level, LevelTable, MapContent, MonsterKind, MonsterKindId,
    OverTime, PlayerClass, Skill, SkillEffect, SkillId, SpawnGroup, Targeting,
};
use crate::math::Fixed;
use crate::zone::{Map, SAMPLE_MAPS};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use toml::Spanned;

/// The sample content compiled into the server: (file name, text). Loaded
/// against the sample maps by [`Content::sample`].
pub const SAMPLE_CONTENT: &[(&str, &str)] = &[
    ("skills.toml", include_str!("../../content/skills.toml")),
    ("monsters.toml", include_str!("../../content/monsters.toml")),
    ("levels.toml", include_str!("../../content/levels.toml")),
    ("rules.toml", include_str!("../../content/rules.toml")),
    (
        "meadow.spawns.toml",
        include_str!("../../maps/meadow.spawns.toml"),
    ),
    (
        "forest.spawns.toml",
        include_str!("../../maps/forest.spawns.toml"),
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

/// The largest distance a file may give, in metres.
const MAX_METRES: f64 = 1000.0;
/// The largest duration a file may give (a day), in milliseconds.
const MAX_MS: i64 = 86_400_000;
/// The most entries of one table (ids are `u16`).
const MAX_ENTRIES: usize = 1 << 16;
/// The most rows in the level table.
const MAX_LEVELS: usize = 1000;
/// The longest skill or monster name.
const MAX_NAME_LEN: usize = 32;

/// Whether a cell of a map is walkable (`None`: no such map or cell).
type Walkable<'a> = dyn Fn(&str, (u32, u32)) -> Option<bool> + 'a;

const REQUIRED: [&str; 4] = ["skills.toml", "monsters.toml", "levels.toml", "rules.toml"];
const SPAWNS_SUFFIX: &str = ".spawns.toml";

impl Content {
    /// Loads and validates content from `files` (name, text). A file is known
    /// by the last component of its name: `skills.toml`, `monsters.toml`,
    /// `levels.toml` and `rules.toml` (all four required) and any number of
    /// `<map>.spawns.toml`. `walkable(map, cell)` says whether a cell of a
    /// loaded map is walkable (`None`: no such map or cell).
    #[allow(clippy::type_complexity)] // spelt out for the reader
    pub fn load(
        files: &[(&str, &str)],
        walkable: &dyn Fn(&str, (u32, u32)) -> Option<bool>,
    ) -> Result<Content, ContentError> {
        let mut required: [Option<File>; 4] = [None, None, None, None];
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
                    "unknown content file \"{base}\": the files are skills.toml, monsters.toml, \
                     levels.toml, rules.toml and <map>{SPAWNS_SUFFIX}"
                )));
            };
            if slot.is_some() {
                return Err(file.at_no_line(format!("{base} is given twice")));
            }
            *slot = Some(file);
        }
        let [Some(skills_file), Some(monsters_file), Some(levels_file), Some(rules_file)] =
            required
        else {
            let name = REQUIRED[required.iter().position(Option::is_none).unwrap_or(0)];
            return Err(ContentError {
                file: name.into(),
                line: 0,
                message: format!(
                    "{name} is missing: the content needs {}",
                    REQUIRED.join(", ")
                ),
            });
        };

        let skills = load_skills(skills_file)?;
        let skill_ids: BTreeMap<&str, &Skill> =
            skills.iter().map(|s| (s.name.as_str(), s)).collect();
        let levels = load_levels(levels_file)?;
        let monsters = load_monsters(monsters_file, &skill_ids, &levels)?;
        let monster_ids: BTreeMap<&str, MonsterKindId> =
            monsters.iter().map(|m| (m.name.as_str(), m.id)).collect();
        let (player, rules) = load_rules(rules_file, &skill_ids)?;
        let mut maps = BTreeMap::new();
        for (map, file) in spawns {
            let content = load_spawns(file, map, &monster_ids, walkable)?;
            maps.insert(map.to_string(), content);
        }
        Ok(Content {
            skills,
            monsters,
            levels,
            player,
            rules,
            maps,
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

/// One file being read: its name (as given) and text, to turn byte spans into
/// lines.
#[derive(Clone, Copy, Debug)]
struct File<'a> {
    name: &'a str,
    text: &'a str,
}

impl File<'_> {
    /// The 1-based line holding byte `offset`.
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn at(&self, span: Range<usize>, message: impl Into<String>) -> ContentError {
        ContentError {
            file: self.name.into(),
            line: self.line(span.start),
            message: message.into(),
        }
    }

    fn at_no_line(&self, message: impl Into<String>) -> ContentError {
        ContentError {
            file: self.name.into(),
            line: 0,
            message: message.into(),
        }
    }

    /// Parses the whole file; a syntax or shape error (unknown field, missing
    /// field, wrong type) is reported on the line toml points at.
    fn parse<T: DeserializeOwned>(&self) -> Result<T, ContentError> {
        toml::from_str(self.text).map_err(|e| ContentError {
            file: self.name.into(),
            line: e.span().map_or(0, |s| self.line(s.start)),
            message: e.message().trim().replace('\n', ": "),
        })
    }

    /// An integer field in `min..=max`, narrowed to `T`.
    fn int<T: TryFrom<i64>>(
        &self,
        v: &Spanned<i64>,
        field: &str,
        min: i64,
        max: i64,
    ) -> Result<T, ContentError> {
        let n = *v.get_ref();
        if n < min || n > max {
            return Err(self.at(
                v.span(),
                format!("{field} is {n}: it must be from {min} to {max}"),
            ));
        }
        T::try_from(n).map_err(|_| self.at(v.span(), format!("{field} is out of range")))
    }

    /// An optional integer field in `min..=max`, `default` when absent.
    fn int_or<T: TryFrom<i64>>(
        &self,
        v: &Option<Spanned<i64>>,
        field: &str,
        min: i64,
        max: i64,
        default: T,
    ) -> Result<T, ContentError> {
        match v {
            Some(v) => self.int(v, field, min, max),
            None => Ok(default),
        }
    }

    /// A distance in metres (a decimal or an integer), rounded to 1/256 m: from
    /// 0 (more than 0 if `positive`) to [`MAX_METRES`].
    fn metres(&self, v: &Spanned<f64>, field: &str, positive: bool) -> Result<Fixed, ContentError> {
        self.metres_value(*v.get_ref(), v.span(), field, positive)
    }

    fn metres_value(
        &self,
        m: f64,
        span: Range<usize>,
        field: &str,
        positive: bool,
    ) -> Result<Fixed, ContentError> {
        let allowed = if positive {
            "more than 0 and at most"
        } else {
            "from 0 to"
        };
        // NaN and infinities are outside too.
        if !(0.0..=MAX_METRES).contains(&m) {
            return Err(self.at(
                span,
                format!("{field} is {m}: it must be a distance in metres, {allowed} {MAX_METRES}"),
            ));
        }
        // Deterministic: TOML's decimal parse and this rounding are exact
        // IEEE operations, the same on every machine.
        let raw = (m * f64::from(1u32 << Fixed::FRAC_BITS)).round() as i32;
        if positive && raw == 0 {
            return Err(self.at(
                span,
                format!("{field} is {m}: it must be at least 1/256 m (0.004)"),
            ));
        }
        Ok(Fixed::from_raw(raw))
    }

    /// A name: a lowercase ASCII identifier.
    fn name(&self, v: &Spanned<String>, what: &str) -> Result<String, ContentError> {
        let name = v.get_ref();
        let ok = name.len() <= MAX_NAME_LEN
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(self.at(
                v.span(),
                format!(
                    "{what} name \"{name}\" is not allowed: a name is 1 to {MAX_NAME_LEN} \
                     lowercase ASCII letters, digits and `_`, starting with a letter"
                ),
            ));
        }
        Ok(name.clone())
    }

    /// A cell of `map`, checked walkable.
    fn cell(
        &self,
        v: &Spanned<[i64; 2]>,
        what: &str,
        map: &str,
        walkable: &Walkable<'_>,
    ) -> Result<(u32, u32), ContentError> {
        let [x, y] = *v.get_ref();
        let coord = |n: i64| u32::try_from(n).ok();
        let (Some(cx), Some(cy)) = (coord(x), coord(y)) else {
            return Err(self.at(
                v.span(),
                format!("{what} [{x}, {y}] is not a cell: cells are [x, y], each from 0"),
            ));
        };
        match walkable(map, (cx, cy)) {
            // Every map has a cell (0, 0): without it, there is no such map.
            None if walkable(map, (0, 0)).is_none() => Err(self.at(
                v.span(),
                format!(
                    "no map named \"{map}\": a spawns file is named <map>{SPAWNS_SUFFIX} after \
                     a loaded map"
                ),
            )),
            None => Err(self.at(
                v.span(),
                format!("{what} [{x}, {y}] is outside map \"{map}\""),
            )),
            Some(false) => Err(self.at(
                v.span(),
                format!(
                    "{what} [{x}, {y}] is not a walkable cell of map \"{map}\": it must be a `.` \
                     cell inside the map"
                ),
            )),
            Some(true) => Ok((cx, cy)),
        }
    }
}

/// Checks that the ids of a table of `n` entries are `0..n`, each once, and
/// returns them in file order.
fn dense_ids(file: &File, ids: &[&Spanned<i64>], what: &str) -> Result<Vec<u16>, ContentError> {
    let n = ids.len();
    if n > MAX_ENTRIES {
        return Err(file.at_no_line(format!("too many {what}s: at most {MAX_ENTRIES}")));
    }
    // id -> where it was first seen (a byte offset).
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(n);
    for id in ids {
        let v = *id.get_ref();
        if v < 0 || v >= n as i64 {
            return Err(file.at(
                id.span(),
                format!(
                    "{what} id {v} is out of range: the {n} {what}s must have the ids 0 to {}, \
                     each once, in any order",
                    n as i64 - 1
                ),
            ));
        }
        if let Some(first) = seen.insert(v, id.span().start) {
            let first = file.line(first);
            return Err(file.at(
                id.span(),
                format!("{what} id {v} is given twice (also on line {first}): each id once"),
            ));
        }
        out.push(v as u16);
    }
    Ok(out)
}

/// Checks that a name is not taken yet, and takes it (`seen`: name -> the
/// byte offset where it was first given).
fn unique_name(
    file: &File,
    seen: &mut BTreeMap<String, usize>,
    name: &Spanned<String>,
    what: &str,
) -> Result<(), ContentError> {
    if let Some(first) = seen.insert(name.get_ref().clone(), name.span().start) {
        let first = file.line(first);
        return Err(file.at(
            name.span(),
            format!(
                "{what} name \"{}\" is given twice (also on line {first}): names are unique",
                name.get_ref()
            ),
        ));
    }
    Ok(())
}

fn load_skills(file: File) -> Result<Vec<Skill>, ContentError> {
    let parsed: SkillsFile = file.parse()?;
    let ids = dense_ids(
        &file,
        &parsed.skill.iter().map(|s| &s.id).collect::<Vec<_>>(),
        "skill",
    )?;
    let mut names = BTreeMap::new();
    let mut skills: Vec<Option<Skill>> = vec![None; ids.len()];
    for (def, id) in parsed.skill.iter().zip(ids) {
        unique_name(&file, &mut names, &def.name, "skill")?;
        skills[id as usize] = Some(skill(&file, def, SkillId(id))?);
    }
    Ok(skills.into_iter().flatten().collect())
}

fn skill(file: &File, def: &SkillDef, id: SkillId) -> Result<Skill, ContentError> {
    let name = file.name(&def.name, "skill")?;
    let effect = match def.effect.get_ref() {
        EffectDef::Damage => SkillEffect::Damage,
        EffectDef::Heal => SkillEffect::Heal,
    };
    let targeting = match def.targeting.get_ref() {
        TargetingDef::Enemy => Targeting::Enemy,
        TargetingDef::Ally => Targeting::Ally,
        TargetingDef::Caster => Targeting::Caster,
    };
    let (area, area_span) = match &def.area {
        None => (Area::Single, def.name.span()),
        Some(a) => {
            let area = match *a.get_ref() {
                AreaDef::Single => Area::Single,
                AreaDef::Circle { radius_m } => Area::Circle {
                    radius: file.metres_value(radius_m, a.span(), "area radius_m", true)?,
                },
                AreaDef::Cone {
                    radius_m,
                    half_angle_deg,
                } => {
                    if !(1..=180).contains(&half_angle_deg) {
                        return Err(file.at(
                            a.span(),
                            format!(
                                "cone half_angle_deg is {half_angle_deg}: it must be from 1 to 180"
                            ),
                        ));
                    }
                    Area::Cone {
                        radius: file.metres_value(radius_m, a.span(), "area radius_m", true)?,
                        half_angle_deg: half_angle_deg as u16,
                    }
                }
            };
            (area, a.span())
        }
    };

    match (effect, targeting) {
        (SkillEffect::Damage, Targeting::Ally) => {
            return Err(file.at(
                def.targeting.span(),
                "a damage skill cannot target an ally: use \"enemy\" or \"caster\" (with an area)",
            ))
        }
        (SkillEffect::Heal, Targeting::Enemy) => {
            return Err(file.at(
                def.targeting.span(),
                "a heal cannot target an enemy: use \"ally\" or \"caster\"",
            ))
        }
        (SkillEffect::Damage, Targeting::Caster) if area == Area::Single => {
            return Err(file.at(
                def.targeting.span(),
                "a damage skill aimed at its caster needs an area (a circle around the caster)",
            ))
        }
        _ => {}
    }
    if targeting == Targeting::Caster && matches!(area, Area::Cone { .. }) {
        return Err(file.at(
            area_span,
            "a cone points at a target: a skill targeting \"caster\" may be single or a circle",
        ));
    }

    let range = match (&def.range_m, targeting) {
        (None, Targeting::Caster) => Fixed::ZERO,
        (Some(r), Targeting::Caster) => {
            let range = file.metres(r, "range_m", false)?;
            if range != Fixed::ZERO {
                return Err(file.at(
                    r.span(),
                    "a skill targeting \"caster\" has no range: leave range_m out (or 0)",
                ));
            }
            range
        }
        (Some(r), _) => file.metres(r, "range_m", true)?,
        (None, _) => {
            return Err(file.at(
                def.targeting.span(),
                "range_m is missing: a skill targeting \"enemy\" or \"ally\" needs one",
            ))
        }
    };

    let max_targets = match (&def.max_targets, area) {
        (None, Area::Single) => 1,
        (None, _) => 8,
        (Some(m), Area::Single) => file.int(m, "max_targets (of a single-target skill)", 1, 1)?,
        (Some(m), _) => file.int(m, "max_targets", 1, 255)?,
    };

    let over_time = match &def.over_time {
        None => None,
        Some(ot) => {
            let OverTimeDef {
                period_ms,
                pulses,
                power,
            } = ot.get_ref();
            Some(OverTime {
                period_ms: file.int(period_ms, "over_time period_ms", 100, MAX_MS)?,
                pulses: file.int(pulses, "over_time pulses", 1, 255)?,
                power: file.int(power, "over_time power", 0, u32::MAX.into())?,
            })
        }
    };

    let control = match &def.control {
        None => None,
        Some(c) => {
            if effect != SkillEffect::Damage {
                return Err(file.at(
                    c.span(),
                    "only a damage skill may stun or slow: a heal has no control",
                ));
            }
            let ControlDef {
                stun_ms,
                slow_ms,
                speed_pct,
            } = c.get_ref();
            Some(match (stun_ms, slow_ms, speed_pct) {
                (Some(ms), None, None) => Control::Stun {
                    ms: file.int(ms, "control stun_ms", 1, MAX_MS)?,
                },
                (None, Some(ms), Some(pct)) => Control::Slow {
                    ms: file.int(ms, "control slow_ms", 1, MAX_MS)?,
                    speed_pct: file.int(pct, "control speed_pct", 0, 99)?,
                },
                _ => {
                    return Err(file.at(
                        c.span(),
                        "control is { stun_ms = N } or { slow_ms = N, speed_pct = P }",
                    ))
                }
            })
        }
    };

    Ok(Skill {
        id,
        name,
        effect,
        targeting,
        area,
        power: file.int(&def.power, "power", 0, u32::MAX.into())?,
        scaling_pct: file.int_or(&def.scaling_pct, "scaling_pct", 0, 10_000, 100)?,
        cast_ms: file.int_or(&def.cast_ms, "cast_ms", 0, 60_000, 0)?,
        cooldown_ms: file.int(&def.cooldown_ms, "cooldown_ms", 0, MAX_MS)?,
        global_cooldown: def.global_cooldown.unwrap_or(true),
        mana: file.int_or(&def.mana, "mana", 0, u32::MAX.into(), 0)?,
        range,
        max_targets,
        over_time,
        control,
        threat_pct: file.int_or(&def.threat_pct, "threat_pct", 0, 10_000, 100)?,
    })
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
        monsters[id as usize] = Some(monster(&file, def, MonsterKindId(id), skills, levels)?);
    }
    Ok(monsters.into_iter().flatten().collect())
}

fn monster(
    file: &File,
    def: &MonsterDef,
    id: MonsterKindId,
    skills: &BTreeMap<&str, &Skill>,
    levels: &LevelTable,
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
        let Some(&kind) = monsters.get(monster.get_ref().as_str()) else {
            return Err(file.at(
                monster.span(),
                format!(
                    "unknown monster \"{}\": a group's monster is a name from monsters.toml",
                    monster.get_ref()
                ),
            ));
        };
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
