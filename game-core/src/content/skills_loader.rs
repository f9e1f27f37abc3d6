//! Loading `skills.toml` into [`Skill`]s: each skill's effect, aim, area,
//! range and extras checked to make sense together.

use super::files::{
    AreaDef, ControlDef, EffectDef, OverTimeDef, SkillDef, SkillsFile, TargetingDef,
};
use super::loader::ContentError;
use super::reading::{dense_ids, unique_name, File, MAX_MS};
use super::{Area, Control, OverTime, Skill, SkillEffect, SkillId, Targeting};
use crate::math::Fixed;
use std::collections::BTreeMap;

pub(super) fn load_skills(file: File) -> Result<Vec<Skill>, ContentError> {
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
