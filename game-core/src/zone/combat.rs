//! Tick phase 2, combat: the skill requests queued since the last tick,
//! judged in a fixed order (by entity, then arrival), then every fighter's
//! casts, effects, auto-attack, regeneration and death timers, in slot order
//! (`fighters.rs`). What a skill does when it lands is `landing.rs`.
//!
//! The zone is the only judge of every hit: a client only asks. Range and
//! sight are checked against the target where the caster saw it (lag
//! compensation: `history.rs`, rewound by the caster's delay as the node
//! measured it, capped at `lag_compensation_ms`). Misses and crits come from
//! the zone's seeded stream, so a fight replays exactly from its seed.
//!
//! Owns the judging of skill requests and casts. May not move anyone (a respawn teleports
//! through the entity table's own path) nor build messages: what happened is
//! queued as events (`CombatEvents`) for replication, refusals for the node.

use super::{Admission, Entity, Zone};
use crate::combat::{formulas, Cast, Fighter};
use crate::content::{Content, Skill, SkillId, Targeting};
use crate::ids::{EntityId, PlayerId};
use crate::math::{Fixed, Vec2};
use crate::protocol::{ClientCombat, CombatEvent, SkillRefusal};
use crate::time::{Duration, Tick};
use std::sync::Arc;

/// Slack on every range check, for quantization and rounding (1/2 m).
const RANGE_SLACK: Fixed = Fixed::from_raw(128);

/// A combat request queued for the next tick.
#[derive(Clone, Copy, Debug)]
pub(super) struct CombatRequest {
    entity: EntityId,
    slot: u32,
    order: u32,
    rewind: u8,
    request: ClientCombat,
}

/// A refusal for the node to send to a player.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub player: PlayerId,
    pub skill: u16,
    pub reason: SkillRefusal,
}

/// A player's experience changed: the node keeps it and saves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub player: PlayerId,
    pub experience: u64,
    pub level: u16,
    /// The level went up with this gain (worth saving now).
    pub leveled_up: bool,
    /// The kind of monster whose kill this share came from (its loot is
    /// the player's own).
    pub kill: Option<crate::content::MonsterKindId>,
}

/// Whether two fighters are enemies: players fight monsters, not each other.
pub(super) fn hostile(a: &Entity, b: &Entity) -> bool {
    a.player.is_some() != b.player.is_some()
}

impl Zone {
    /// Ticks of rewind for a caster whose view lags by `delay` (its one-way
    /// delay plus the client's interpolation), capped by the config.
    pub fn rewind_ticks(&self, delay: Duration) -> u8 {
        let cap = Duration::from_millis(self.config.lag_compensation_ms as u64);
        let d = delay.min(cap).as_micros();
        let period = self.tick_period.as_micros().max(1);
        ((d + period / 2) / period).min(super::history::HISTORY_TICKS as u64 - 1) as u8
    }

    /// Queues a combat request from a player's entity for the next tick, to be
    /// judged with its view rewound by `delay`. Past the per-tick allowance
    /// it is dropped, counted and refused (once a tick) as `TooFast`.
    pub fn queue_combat(
        &mut self,
        entity: EntityId,
        request: ClientCombat,
        delay: Duration,
    ) -> bool {
        let rewind = self.rewind_ticks(delay);
        let max = self.config.max_combat_per_tick;
        let (slot, order) = match self.admit(entity, max, |p| &mut p.combat_queued) {
            Ok(admitted) => admitted,
            Err(Admission::Over { slot, first }) => {
                self.stats.combat_dropped += 1;
                if first {
                    let skill = match request {
                        ClientCombat::UseSkill { skill, .. } => skill,
                        _ => u16::MAX,
                    };
                    self.refuse(slot, skill, SkillRefusal::TooFast);
                }
                return false;
            }
            Err(Admission::NoPlayer) => return false,
        };
        self.combat_requests.push(CombatRequest {
            entity,
            slot,
            order,
            rewind,
            request,
        });
        true
    }

    /// Refusals made since the last call, for the node to send.
    pub fn take_refusals(&mut self) -> std::vec::Drain<'_, Refusal> {
        self.refusals.drain(..)
    }

    /// Experience changes since the last call, for the node to keep.
    pub fn take_progress(&mut self) -> std::vec::Drain<'_, Progress> {
        self.progress.drain(..)
    }

    pub(super) fn refuse(&mut self, slot: u32, skill: u16, reason: SkillRefusal) {
        *self.stats.skill_refusals.entry(reason.label()).or_default() += 1;
        if let Some(player) = self.slots[slot as usize]
            .as_ref()
            .and_then(|e| e.player.as_ref())
            .map(|p| p.player)
        {
            self.refusals.push(Refusal {
                player,
                skill,
                reason,
            });
        }
    }

    /// The combat phase: queued requests in a fixed order, then every
    /// fighter's timers in slot order.
    pub(super) fn run_combat(&mut self) {
        let content = Arc::clone(&self.content);
        self.combat_requests
            .sort_unstable_by_key(|q| (q.entity, q.order));
        let mut requests = std::mem::take(&mut self.combat_requests);
        for q in requests.drain(..) {
            let Some(e) = self.slots[q.slot as usize].as_mut() else {
                continue;
            };
            if e.id != q.entity {
                continue;
            }
            if let Some(p) = e.player.as_mut() {
                p.combat_queued = 0;
            }
            self.apply_request(&content, q);
        }
        // Give the buffer back: it keeps its room (no allocation next tick).
        self.combat_requests = requests;
        self.step_fighters(&content);
    }

    pub(super) fn apply_request(&mut self, content: &Content, q: CombatRequest) {
        let slot = q.slot;
        match q.request {
            ClientCombat::UseSkill { skill, target } => {
                let result = self.use_skill(content, slot, SkillId(skill), target, q.rewind);
                if let Err(reason) = result {
                    self.refuse(slot, skill, reason);
                }
            }
            ClientCombat::Attack { target } => {
                let auto = content.player.auto_attack;
                if self.fighter(slot).is_none_or(|f| f.is_dead()) {
                    self.refuse(slot, auto.0, SkillRefusal::Dead);
                    return;
                }
                match self.check_target(content, slot, content.skill(auto), Some(target), None) {
                    Ok(_) | Err(SkillRefusal::OutOfRange | SkillRefusal::NoLineOfSight) => {
                        if let Some(f) = self.fighter_mut(slot) {
                            f.auto_target = Some(target);
                            f.auto_rewind = q.rewind;
                        }
                    }
                    Err(reason) => self.refuse(slot, auto.0, reason),
                }
            }
            ClientCombat::StopAttack => {
                if let Some(f) = self.fighter_mut(slot) {
                    f.auto_target = None;
                }
            }
            ClientCombat::CancelCast => self.interrupt(slot),
        }
    }

    pub(super) fn fighter_mut(&mut self, slot: u32) -> Option<&mut Fighter> {
        self.slots[slot as usize].as_mut()?.fighter.as_mut()
    }

    pub(super) fn fighter(&self, slot: u32) -> Option<&Fighter> {
        self.slots[slot as usize].as_ref()?.fighter.as_ref()
    }

    /// The skills of the entity in `slot`: the player class's, or its
    /// monster kind's.
    pub(super) fn skills_of<'c>(&self, content: &'c Content, slot: u32) -> &'c [SkillId] {
        match self.slots[slot as usize].as_ref() {
            Some(e) if e.player.is_some() => &content.player.skills,
            Some(Entity {
                monster: Some(m), ..
            }) => content
                .monster(self.members[*m as usize].kind)
                .map_or(&[], |k| &k.skills[..]),
            _ => &[],
        }
    }

    /// Where the entity in `slot` stood `rewind` ticks ago (now, if that is
    /// not known).
    pub(super) fn seen_at(&self, slot: u32, rewind: u8) -> Vec2 {
        let since = self.slots[slot as usize]
            .as_ref()
            .map_or(Tick(0), |e| e.since);
        self.history
            .at(slot, rewind, since)
            .unwrap_or(self.bodies[slot as usize].pos)
    }

    /// Whether `target` is in reach of the caster in `slot`: within range and
    /// in sight, where the caster saw it or where it is now.
    pub(super) fn reach(
        &self,
        caster: u32,
        target: u32,
        range: Fixed,
        rewind: u8,
    ) -> Result<(), SkillRefusal> {
        let from = self.bodies[caster as usize].pos;
        let spots = [
            self.seen_at(target, rewind),
            self.bodies[target as usize].pos,
        ];
        let range = range + RANGE_SLACK;
        if !spots.iter().any(|&p| from.within(p, range)) {
            return Err(SkillRefusal::OutOfRange);
        }
        if !spots
            .iter()
            .any(|&p| from.within(p, range) && self.map.segment_walkable(from, p))
        {
            return Err(SkillRefusal::NoLineOfSight);
        }
        Ok(())
    }

    /// Checks the target of `skill` for the caster in `slot`; returns the
    /// slot it lands on (the caster's own for caster skills). `rewind`
    /// `None` skips range and sight (checked later, or not at all).
    pub(super) fn check_target(
        &self,
        _content: &Content,
        slot: u32,
        skill: Option<&Skill>,
        target: Option<EntityId>,
        rewind: Option<u8>,
    ) -> Result<u32, SkillRefusal> {
        let skill = skill.ok_or(SkillRefusal::UnknownSkill)?;
        let caster = self.slots[slot as usize]
            .as_ref()
            .ok_or(SkillRefusal::Dead)?;
        let target = match (skill.targeting, target) {
            (Targeting::Caster, _) | (Targeting::Ally, None) => return Ok(slot),
            (Targeting::Enemy, None) => return Err(SkillRefusal::InvalidTarget),
            (_, Some(t)) => t,
        };
        if target == caster.id {
            return match skill.targeting {
                Targeting::Enemy => Err(SkillRefusal::InvalidTarget),
                _ => Ok(slot),
            };
        }
        let t_slot = self.slot_of(target).ok_or(SkillRefusal::NotVisible)?;
        // Players may only aim at what their client was shown.
        if caster.player.is_some()
            && self
                .aoi
                .visible_tagged(caster.id)
                .binary_search_by_key(&target, |t| t.id())
                .is_err()
        {
            return Err(SkillRefusal::NotVisible);
        }
        let t = self.slots[t_slot as usize]
            .as_ref()
            .ok_or(SkillRefusal::NotVisible)?;
        let tf = t.fighter.as_ref().ok_or(SkillRefusal::InvalidTarget)?;
        let wants_enemy = skill.targeting == Targeting::Enemy;
        if hostile(caster, t) != wants_enemy {
            return Err(SkillRefusal::InvalidTarget);
        }
        if tf.is_dead() {
            return Err(SkillRefusal::TargetDead);
        }
        if let Some(rewind) = rewind {
            self.reach(slot, t_slot, skill.range, rewind)?;
        }
        Ok(t_slot)
    }

    /// A fighter asks to use a skill: judged now, started (a cast) or resolved
    /// (instant), or refused with nothing spent.
    pub(super) fn use_skill(
        &mut self,
        content: &Content,
        slot: u32,
        skill: SkillId,
        target: Option<EntityId>,
        rewind: u8,
    ) -> Result<(), SkillRefusal> {
        let place = self
            .skills_of(content, slot)
            .iter()
            .position(|&s| s == skill)
            .filter(|&p| p < crate::combat::MAX_SKILLS)
            .ok_or(SkillRefusal::UnknownSkill)?;
        let def = content.skill(skill).ok_or(SkillRefusal::UnknownSkill)?;
        let tick = self.tick;
        let f = self.fighter(slot).ok_or(SkillRefusal::Dead)?;
        if f.is_dead() {
            return Err(SkillRefusal::Dead);
        }
        if f.is_stunned() {
            return Err(SkillRefusal::Stunned);
        }
        if f.cast.is_some() {
            return Err(SkillRefusal::Casting);
        }
        if f.ready[place] > tick {
            return Err(SkillRefusal::OnCooldown);
        }
        if def.global_cooldown && f.global_ready > tick {
            return Err(SkillRefusal::GlobalCooldown);
        }
        if f.mana < def.mana {
            return Err(SkillRefusal::NotEnoughMana);
        }
        let t_slot = self.check_target(content, slot, Some(def), target, Some(rewind))?;
        let target_id = (t_slot != slot || def.targeting != Targeting::Caster)
            .then(|| EntityId(t_slot as u64 + 1));
        let gcd = formulas::ticks(content.rules.global_cooldown_ms, self.tick_period);
        let cast_ticks = formulas::ticks(def.cast_ms, self.tick_period);
        let caster_id = EntityId(slot as u64 + 1);
        self.stats.skills_used += 1;
        let f = self.fighter_mut(slot).ok_or(SkillRefusal::Dead)?;
        if def.global_cooldown {
            f.global_ready = Tick(tick.0 + gcd);
        }
        if cast_ticks == 0 {
            self.spend(content, slot, place, def);
            self.resolve(content, slot, def, t_slot);
        } else {
            f.cast = Some(Cast {
                skill,
                slot: place as u8,
                target: target_id,
                ends: Tick(tick.0 + cast_ticks),
                rewind,
            });
            self.combat.push(CombatEvent::CastStarted {
                caster: caster_id,
                skill: skill.0,
                target: target_id,
                cast_ms: def.cast_ms,
            });
        }
        Ok(())
    }

    /// Pays a skill's mana and starts its cooldown.
    pub(super) fn spend(&mut self, _content: &Content, slot: u32, place: usize, def: &Skill) {
        let cooldown = formulas::ticks(def.cooldown_ms, self.tick_period);
        let tick = self.tick;
        if let Some(f) = self.fighter_mut(slot) {
            f.mana -= def.mana.min(f.mana);
            f.ready[place] = Tick(tick.0 + cooldown);
            f.vitals_dirty |= def.mana > 0;
        }
    }

    /// Stops the cast of the fighter in `slot`, if any: nothing is spent.
    pub(super) fn interrupt(&mut self, slot: u32) {
        let Some(cast) = self.fighter_mut(slot).and_then(|f| f.cast.take()) else {
            return;
        };
        self.stats.casts_interrupted += 1;
        self.combat.push(CombatEvent::CastEnded {
            caster: EntityId(slot as u64 + 1),
            skill: cast.skill.0,
            completed: false,
        });
    }

    /// A cast's time is up: it lands if its target is still valid and in
    /// reach (as seen then), else it ends without cost.
    pub(super) fn complete_cast(&mut self, content: &Content, slot: u32, cast: Cast) {
        let Some(def) = content.skill(cast.skill) else {
            return;
        };
        let caster = EntityId(slot as u64 + 1);
        let enough = self.fighter(slot).is_some_and(|f| f.mana >= def.mana);
        let target = self.check_target(content, slot, Some(def), cast.target, Some(cast.rewind));
        let completed = enough && target.is_ok();
        self.combat.push(CombatEvent::CastEnded {
            caster,
            skill: cast.skill.0,
            completed,
        });
        match target {
            Ok(t_slot) if enough => {
                self.spend(content, slot, cast.slot as usize, def);
                self.resolve(content, slot, def, t_slot);
            }
            Ok(_) => self.refuse(slot, cast.skill.0, SkillRefusal::NotEnoughMana),
            Err(reason) => self.refuse(slot, cast.skill.0, reason),
        }
    }
}
