//! Combat, continued: a skill that lands. Its targets (one, or everyone an
//! area reaches), each hit rolled from the zone's stream and applied, threat
//! noted on monsters, effects put on; a death, and the experience it shares.
//!
//! Owns what a landing skill does to fighters. May not judge whether it may
//! land (`combat.rs` does, before calling here).

use super::combat::hostile;
use super::combat::Progress;
use super::Zone;
use crate::combat::{formulas, Effect};
use crate::content::{Area, Content, Control, Skill, SkillEffect, Targeting};
use crate::ids::{EntityId, PlayerId};
use crate::math::Vec2;
use crate::protocol::{CombatEvent, EffectKind, HitOutcome};
use crate::time::Tick;

/// An integer cosine in 1/32400ths for whole degrees in 0..=180 (Bhaskara
/// I's approximation, within 0.2% of the true value): cone checks stay
/// integer, so every machine agrees on who a cone reaches.
fn cos_32400(deg: u16) -> i64 {
    let d = deg.min(180) as i64;
    let (d, sign) = if d > 90 { (180 - d, -1) } else { (d, 1) };
    sign * (32400 - 4 * d * d) * 32400 / (32400 + d * d)
}

/// Whether `p` is within the cone from `apex` towards `dir` of `half_deg`.
fn in_cone(apex: Vec2, dir: Vec2, p: Vec2, half_deg: u16) -> bool {
    let (dx, dy) = (
        (dir.x - apex.x).raw() as i128,
        (dir.y - apex.y).raw() as i128,
    );
    let (vx, vy) = ((p.x - apex.x).raw() as i128, (p.y - apex.y).raw() as i128);
    if (vx == 0 && vy == 0) || (dx == 0 && dy == 0) {
        return true;
    }
    let dot = dx * vx + dy * vy;
    let lengths = (((dx * dx + dy * dy) * (vx * vx + vy * vy)) as u128).isqrt() as i128;
    dot * 32400 >= cos_32400(half_deg) as i128 * lengths
}

impl Zone {
    /// Applies a skill from the caster in `slot` aimed at `t_slot`: to it
    /// alone, or to everyone its area reaches.
    pub(super) fn resolve(&mut self, content: &Content, slot: u32, def: &Skill, t_slot: u32) {
        let (centre, radius, cone) = match def.area {
            Area::Single => {
                self.land(content, slot, def, t_slot);
                return;
            }
            Area::Circle { radius } => {
                let c = if def.targeting == Targeting::Caster {
                    slot
                } else {
                    t_slot
                };
                (self.bodies[c as usize].pos, radius, None)
            }
            Area::Cone {
                radius,
                half_angle_deg,
            } => (
                self.bodies[slot as usize].pos,
                radius,
                Some((self.bodies[t_slot as usize].pos, half_angle_deg)),
            ),
        };
        let Some(caster) = self.slots[slot as usize].as_ref() else {
            return;
        };
        let caster_id = caster.id;
        let apex = self.bodies[slot as usize].pos;
        let mut found = std::mem::take(&mut self.area_scratch);
        found.clear();
        let candidates = self
            .aoi
            .visible_tagged(caster_id)
            .iter()
            .map(|t| t.id())
            .chain(std::iter::once(caster_id));
        for id in candidates {
            let s = (id.0 - 1) as u32;
            let Some(e) = self.slots[s as usize].as_ref() else {
                continue;
            };
            let Some(f) = e.fighter.as_ref() else {
                continue;
            };
            let wanted = match def.effect {
                SkillEffect::Damage => hostile(caster, e),
                SkillEffect::Heal => !hostile(caster, e),
            };
            let p = self.bodies[s as usize].pos;
            if !wanted
                || f.is_dead()
                || !centre.within(p, radius)
                || !self.map.segment_walkable(centre, p)
            {
                continue;
            }
            if let Some((dir, half)) = cone {
                if !in_cone(apex, dir, p, half) {
                    continue;
                }
            }
            found.push((centre.distance_squared_raw(p), s));
        }
        found.sort_unstable();
        found.truncate(def.max_targets as usize);
        for &(_, s) in found.iter() {
            self.land(content, slot, def, s);
        }
        self.area_scratch = found;
    }

    /// One skill reaches one target: its hit (rolled), then its effects.
    pub(super) fn land(&mut self, content: &Content, slot: u32, def: &Skill, t_slot: u32) {
        let caster_power = self.fighter(slot).map_or(0, |f| f.power);
        let source = EntityId(slot as u64 + 1);
        if def.power > 0 {
            self.hit(content, source, caster_power, def, def.power, t_slot);
        }
        let tick = self.tick;
        let period = self.tick_period;
        let Some(t) = self.fighter(t_slot) else {
            return;
        };
        if t.is_dead() {
            return;
        }
        let target = EntityId(t_slot as u64 + 1);
        let mut effects = [None, None];
        if let Some(ot) = def.over_time {
            let every = formulas::ticks(ot.period_ms, period).max(1);
            let kind = match def.effect {
                SkillEffect::Damage => EffectKind::Wound,
                SkillEffect::Heal => EffectKind::Mend,
            };
            effects[0] = Some((
                Effect {
                    kind,
                    skill: def.id,
                    source,
                    until: Tick(tick.0 + every * ot.pulses as u64),
                    next_pulse: Tick(tick.0 + every),
                    period: every,
                    pulses_left: ot.pulses,
                    power: ot.power,
                    source_power: caster_power,
                    speed_pct: 100,
                },
                ot.period_ms.saturating_mul(ot.pulses as u32),
            ));
        }
        if let Some(c) = def.control {
            let (kind, speed_pct) = match c {
                Control::Stun { .. } => (EffectKind::Stun, 0),
                Control::Slow { speed_pct, .. } => (EffectKind::Slow, speed_pct),
            };
            let ticks = formulas::ticks(c.duration_ms(), period);
            effects[1] = Some((
                Effect {
                    kind,
                    skill: def.id,
                    source,
                    until: Tick(tick.0 + ticks),
                    next_pulse: Tick(u64::MAX),
                    period: 0,
                    pulses_left: 0,
                    power: 0,
                    source_power: 0,
                    speed_pct,
                },
                c.duration_ms(),
            ));
        }
        for (effect, ms) in effects.into_iter().flatten() {
            if effect.kind == EffectKind::Stun {
                self.interrupt(t_slot);
            }
            if let Some(t) = self.fighter_mut(t_slot) {
                t.add_effect(effect);
            }
            self.combat.push(CombatEvent::EffectStarted {
                entity: target,
                skill: def.id.0,
                kind: effect.kind,
                ms,
            });
        }
    }

    /// One hit (or pulse) of `def` with `power` from `source` on `t_slot`:
    /// rolled, applied, threat and combat time noted, death handled.
    pub(super) fn hit(
        &mut self,
        content: &Content,
        source: EntityId,
        caster_power: u32,
        def: &Skill,
        power: u32,
        t_slot: u32,
    ) {
        let tick = self.tick;
        let combat_ticks = formulas::ticks(content.rules.combat_timeout_ms, self.tick_period);
        let Some(t) = self.fighter(t_slot) else {
            return;
        };
        if t.is_dead() {
            return;
        }
        let armor = t.armor;
        let (outcome, amount) = formulas::hit(
            &mut self.rng,
            &content.rules,
            def,
            power,
            caster_power,
            armor,
        );
        let target = EntityId(t_slot as u64 + 1);
        let t = self.fighter_mut(t_slot).expect("checked above");
        let done = match def.effect {
            SkillEffect::Damage => {
                t.in_combat_until = Tick(tick.0 + combat_ticks);
                t.damage(amount)
            }
            SkillEffect::Heal => t.heal(amount),
        };
        let dead = t.is_dead();
        self.stats.hits += 1;
        self.combat.push(CombatEvent::Hit {
            source,
            target,
            skill: def.id.0,
            amount: done,
            outcome,
        });
        let s_slot = self.slot_of(source);
        if let Some(s) = s_slot.and_then(|s| self.fighter_mut(s)) {
            if def.effect == SkillEffect::Damage {
                s.in_combat_until = Tick(tick.0 + combat_ticks);
            }
        }
        let threat = formulas::threat(
            done.max(u32::from(outcome == HitOutcome::Miss)),
            def.threat_pct,
        );
        match def.effect {
            SkillEffect::Damage => {
                // A monster hit by a player takes note.
                if let Some(m) = self.slots[t_slot as usize].as_ref().and_then(|e| e.monster) {
                    if let Some(p) = s_slot.and_then(|s| self.player_of_slot(s)) {
                        self.members[m as usize]
                            .threat
                            .add(source, threat.max(1), done as u64);
                        self.note_raid_damage(p, done);
                    }
                }
            }
            SkillEffect::Heal => {
                // Healing someone a monster is fighting angers that monster.
                if let Some(s) = s_slot {
                    self.heal_threat(s, target, threat);
                }
            }
        }
        if dead {
            self.kill(content, t_slot, s_slot);
        }
    }

    /// The player whose character is in `slot`, if it holds one.
    pub(super) fn player_of_slot(&self, slot: u32) -> Option<PlayerId> {
        self.slots[slot as usize]
            .as_ref()
            .and_then(|e| e.player.as_ref())
            .map(|p| p.player)
    }

    pub(super) fn is_player(&self, slot: u32) -> bool {
        self.slots[slot as usize]
            .as_ref()
            .is_some_and(|e| e.player.is_some())
    }

    /// `healer` healed `target`: every monster in the healer's view fighting
    /// the target adds threat for the healer.
    pub(super) fn heal_threat(&mut self, healer: u32, target: EntityId, threat: u64) {
        let healer_id = EntityId(healer as u64 + 1);
        let Zone {
            aoi,
            slots,
            members,
            ..
        } = self;
        for t in aoi.visible_tagged(healer_id) {
            let s = t.id().0 as usize - 1;
            if let Some(m) = slots[s].as_ref().and_then(|e| e.monster) {
                let table = &mut members[m as usize].threat;
                if table.entries().iter().any(|e| e.entity == target) {
                    table.add(healer_id, threat, 0);
                }
            }
        }
    }

    /// The fighter in `slot` died (killed by the one in `killer`, if known).
    pub(super) fn kill(&mut self, content: &Content, slot: u32, killer: Option<u32>) {
        let tick = self.tick;
        let entity = EntityId(slot as u64 + 1);
        let is_player = self.is_player(slot);
        let delay_ms = if is_player {
            content.rules.respawn_delay_ms
        } else {
            self.config.corpse_ms
        };
        // In a raid, a dead player stays dead until the raid ends.
        let raid_death = is_player && self.in_encounter();
        let until = if raid_death {
            Tick(tick.0 + super::encounter::NEVER_TICKS)
        } else {
            Tick(tick.0 + formulas::ticks(delay_ms, self.tick_period).max(1))
        };
        self.interrupt(slot);
        if let Some(f) = self.fighter_mut(slot) {
            f.dead_until = Some(until);
            f.auto_target = None;
            f.clear_effects();
        }
        self.combat.push(CombatEvent::Died {
            entity,
            killer: killer.map(|k| EntityId(k as u64 + 1)),
            respawn_ms: if is_player && !raid_death {
                delay_ms
            } else {
                0
            },
        });
        if is_player {
            self.stats.player_deaths += 1;
            if let Some(p) = self.player_of_slot(slot).filter(|_| raid_death) {
                self.note_raid_death(p);
            }
            return;
        }
        self.stats.monsters_killed += 1;
        let Some(m) = self.slots[slot as usize].as_ref().and_then(|e| e.monster) else {
            return;
        };
        let member = &mut self.members[m as usize];
        member.respawn_at = Some(Tick(tick.0 + member.respawn_ticks.max(1)));
        let kind = member.kind;
        let experience = content.monster(kind).map_or(0, |k| k.experience);
        let table = std::mem::take(&mut member.threat);
        let mut shares = std::mem::take(&mut self.share_scratch);
        shares.clear();
        table.share(
            experience,
            |e| self.slot_of(e).is_some_and(|s| self.is_player(s)),
            |e, xp| shares.push((e, xp)),
        );
        if !shares.is_empty() {
            self.stats.experience_of_kills += experience;
        }
        for &(e, xp) in shares.iter() {
            if let Some(s) = self.slot_of(e) {
                self.grant_experience(content, s, xp, kind);
            }
        }
        self.share_scratch = shares;
        let member = &mut self.members[m as usize];
        member.threat = table;
        member.threat.clear();
    }

    /// A player gains experience, and levels up from the table.
    pub(super) fn grant_experience(
        &mut self,
        content: &Content,
        slot: u32,
        xp: u64,
        kill: crate::content::MonsterKindId,
    ) {
        self.stats.experience_granted += xp;
        let Some(e) = self.slots[slot as usize].as_mut() else {
            return;
        };
        let (Some(p), Some(f)) = (e.player.as_ref(), e.fighter.as_mut()) else {
            return;
        };
        f.experience = f.experience.saturating_add(xp);
        f.vitals_dirty = true;
        let level = content.levels.level_for(f.experience).max(1);
        let leveled_up = level > f.level;
        if leveled_up {
            f.set_level(level, content.levels.row(level));
        }
        self.progress.push(Progress {
            player: p.player,
            experience: f.experience,
            level,
            leveled_up,
            kill: Some(kill),
        });
        if leveled_up {
            self.replicas.set_level(slot, level);
            self.combat.push(CombatEvent::LevelUp {
                entity: EntityId(slot as u64 + 1),
                level,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_cones() {
        assert_eq!(cos_32400(0), 32400);
        assert_eq!(cos_32400(90), 0);
        assert_eq!(cos_32400(180), -32400);
        let apex = Vec2::from_ints(0, 0);
        let dir = Vec2::from_ints(10, 0);
        assert!(in_cone(apex, dir, Vec2::from_ints(5, 1), 30));
        assert!(!in_cone(apex, dir, Vec2::from_ints(1, 5), 30));
        assert!(!in_cone(apex, dir, Vec2::from_ints(-5, 0), 60));
        assert!(in_cone(apex, dir, Vec2::from_ints(-5, 0), 180));
    }
}
