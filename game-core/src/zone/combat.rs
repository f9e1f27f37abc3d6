//! Tick phase 2, combat: the skill requests queued since the last tick,
//! judged in a fixed order (by entity, then arrival), then every fighter's
//! casts, effects, auto-attack, regeneration and death timers, in slot order.
//!
//! The zone is the only judge of every hit: a client only asks. Range and
//! sight are checked against the target where the caster saw it (lag
//! compensation: `history.rs`, rewound by the caster's delay as the node
//! measured it, capped at `lag_compensation_ms`). Misses and crits come from
//! the zone's seeded stream, so a fight replays exactly from its seed.
//!
//! Owns what skills do to fighters. May not move anyone (a respawn teleports
//! through the entity table's own path) nor build messages: what happened is
//! queued as events (`CombatEvents`) for replication, refusals for the node.

use super::{Entity, Zone};
use crate::combat::{formulas, Cast, Effect, Fighter};
use crate::content::{Area, Content, Control, Skill, SkillEffect, SkillId, Targeting};
use crate::ids::{EntityId, PlayerId};
use crate::math::{Fixed, Vec2};
use crate::protocol::{ClientCombat, CombatEvent, EffectKind, HitOutcome, SkillRefusal};
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
}

/// Whether two fighters are enemies: players fight monsters, not each other.
fn hostile(a: &Entity, b: &Entity) -> bool {
    a.player.is_some() != b.player.is_some()
}

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
        let Some(slot) = self.slot_of(entity) else {
            return false;
        };
        let Some(p) = self.slots[slot as usize]
            .as_mut()
            .and_then(|e| e.player.as_mut())
        else {
            return false;
        };
        if p.combat_queued >= max {
            self.stats.combat_dropped += 1;
            if p.combat_queued == max {
                p.combat_queued += 1;
                let skill = match request {
                    ClientCombat::UseSkill { skill, .. } => skill,
                    _ => u16::MAX,
                };
                self.refuse(slot, skill, SkillRefusal::TooFast);
            }
            return false;
        }
        p.combat_queued += 1;
        self.input_order = self.input_order.wrapping_add(1);
        self.combat_requests.push(CombatRequest {
            entity,
            slot,
            order: self.input_order,
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

    fn refuse(&mut self, slot: u32, skill: u16, reason: SkillRefusal) {
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

    fn apply_request(&mut self, content: &Content, q: CombatRequest) {
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
    fn skills_of<'c>(&self, content: &'c Content, slot: u32) -> &'c [SkillId] {
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
    fn seen_at(&self, slot: u32, rewind: u8) -> Vec2 {
        let since = self.slots[slot as usize]
            .as_ref()
            .map_or(Tick(0), |e| e.since);
        self.history
            .at(slot, rewind, since)
            .unwrap_or(self.bodies[slot as usize].pos)
    }

    /// Whether `target` is in reach of the caster in `slot`: within range and
    /// in sight, where the caster saw it or where it is now.
    fn reach(
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
    fn check_target(
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
    fn spend(&mut self, _content: &Content, slot: u32, place: usize, def: &Skill) {
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
    fn complete_cast(&mut self, content: &Content, slot: u32, cast: Cast) {
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

    /// Applies a skill from the caster in `slot` aimed at `t_slot`: to it
    /// alone, or to everyone its area reaches.
    fn resolve(&mut self, content: &Content, slot: u32, def: &Skill, t_slot: u32) {
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
    fn land(&mut self, content: &Content, slot: u32, def: &Skill, t_slot: u32) {
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
    fn hit(
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
                    if s_slot.is_some_and(|s| self.is_player(s)) {
                        self.members[m as usize]
                            .threat
                            .add(source, threat.max(1), done as u64);
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

    pub(super) fn is_player(&self, slot: u32) -> bool {
        self.slots[slot as usize]
            .as_ref()
            .is_some_and(|e| e.player.is_some())
    }

    /// `healer` healed `target`: every monster in the healer's view fighting
    /// the target adds threat for the healer.
    fn heal_threat(&mut self, healer: u32, target: EntityId, threat: u64) {
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
    fn kill(&mut self, content: &Content, slot: u32, killer: Option<u32>) {
        let tick = self.tick;
        let entity = EntityId(slot as u64 + 1);
        let is_player = self.is_player(slot);
        let delay_ms = if is_player {
            content.rules.respawn_delay_ms
        } else {
            self.config.corpse_ms
        };
        let until = Tick(tick.0 + formulas::ticks(delay_ms, self.tick_period).max(1));
        self.interrupt(slot);
        if let Some(f) = self.fighter_mut(slot) {
            f.dead_until = Some(until);
            f.auto_target = None;
            f.clear_effects();
        }
        self.combat.push(CombatEvent::Died {
            entity,
            killer: killer.map(|k| EntityId(k as u64 + 1)),
            respawn_ms: if is_player { delay_ms } else { 0 },
        });
        if is_player {
            self.stats.player_deaths += 1;
            return;
        }
        self.stats.monsters_killed += 1;
        let Some(m) = self.slots[slot as usize].as_ref().and_then(|e| e.monster) else {
            return;
        };
        let member = &mut self.members[m as usize];
        member.respawn_at = Some(Tick(tick.0 + member.respawn_ticks.max(1)));
        let experience = content.monster(member.kind).map_or(0, |k| k.experience);
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
                self.grant_experience(content, s, xp);
            }
        }
        self.share_scratch = shares;
        let member = &mut self.members[m as usize];
        member.threat = table;
        member.threat.clear();
    }

    /// A player gains experience, and levels up from the table.
    fn grant_experience(&mut self, content: &Content, slot: u32, xp: u64) {
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
        });
        if leveled_up {
            self.replicas.set_level(slot, level);
            self.combat.push(CombatEvent::LevelUp {
                entity: EntityId(slot as u64 + 1),
                level,
            });
        }
    }

    /// Every fighter, in slot order: effects pulse and end, casts complete,
    /// auto-attacks swing, health and mana regenerate, the dead come back.
    fn step_fighters(&mut self, content: &Content) {
        let tick = self.tick;
        let regen_every = formulas::ticks(content.rules.regen_period_ms, self.tick_period).max(1);
        let regen = tick.0 % regen_every == 0;
        for slot in 0..self.slots.len() as u32 {
            let Some(f) = self.fighter(slot) else {
                continue;
            };
            if let Some(until) = f.dead_until {
                if until <= tick {
                    self.dead_timer_ends(content, slot);
                }
                continue;
            }
            self.step_effects(content, slot);
            let Some(f) = self.fighter(slot) else {
                continue;
            };
            if f.is_dead() {
                continue;
            }
            if let Some(cast) = f.cast.filter(|c| c.ends <= tick) {
                if let Some(f) = self.fighter_mut(slot) {
                    f.cast = None;
                }
                self.complete_cast(content, slot, cast);
            }
            self.swing(content, slot);
            if regen {
                if let Some(f) = self.fighter_mut(slot) {
                    if !f.is_dead() {
                        let mana =
                            (f.max_mana as u64 * content.rules.mana_regen_pct as u64 / 100) as u32;
                        let before = f.mana;
                        f.mana = (f.mana + mana.max(1)).min(f.max_mana);
                        f.vitals_dirty |= f.mana != before;
                        if f.in_combat_until <= tick {
                            let hp = (f.max_health as u64 * content.rules.health_regen_pct as u64
                                / 100) as u32;
                            f.heal(hp.max(1));
                        }
                    }
                }
            }
        }
    }

    /// Effects on the fighter in `slot` pulse when due and end when over.
    fn step_effects(&mut self, content: &Content, slot: u32) {
        let tick = self.tick;
        let entity = EntityId(slot as u64 + 1);
        for i in 0..crate::combat::MAX_EFFECTS {
            let Some(e) = self.fighter(slot).and_then(|f| f.effects[i]) else {
                continue;
            };
            if e.pulses_left > 0 && e.next_pulse <= tick {
                if let Some(f) = self.fighter_mut(slot) {
                    if let Some(x) = f.effects[i].as_mut() {
                        x.pulses_left -= 1;
                        x.next_pulse = Tick(tick.0 + x.period);
                    }
                }
                if let Some(def) = content.skill(e.skill) {
                    self.hit(content, e.source, e.source_power, def, e.power, slot);
                }
                if self.fighter(slot).is_none_or(|f| f.is_dead()) {
                    return;
                }
            }
            let over = self
                .fighter(slot)
                .and_then(|f| f.effects[i])
                .is_some_and(|x| x.until <= tick && x.pulses_left == 0);
            if over {
                if let Some(f) = self.fighter_mut(slot) {
                    f.effects[i] = None;
                    f.vitals_dirty = true;
                }
                self.combat.push(CombatEvent::EffectEnded {
                    entity,
                    kind: e.kind,
                });
            }
        }
    }

    /// An auto-attacking player swings when its auto-attack is ready and its
    /// target in reach; a target dead or out of view ends the auto-attack.
    fn swing(&mut self, content: &Content, slot: u32) {
        let Some(f) = self.fighter(slot) else {
            return;
        };
        let (Some(target), None) = (f.auto_target, f.cast) else {
            return;
        };
        let rewind = f.auto_rewind;
        let auto = content.player.auto_attack;
        let place = content.player.skills.iter().position(|&s| s == auto);
        if place.is_none_or(|p| f.ready[p] > self.tick) || f.is_stunned() {
            return;
        }
        match self.use_skill(content, slot, auto, Some(target), rewind) {
            Ok(()) | Err(SkillRefusal::OutOfRange | SkillRefusal::NoLineOfSight) => {}
            Err(_) => {
                if let Some(f) = self.fighter_mut(slot) {
                    f.auto_target = None;
                }
            }
        }
    }

    /// A dead fighter's time is up: a player respawns at the map's respawn
    /// point, a monster's corpse leaves (its member comes back later).
    fn dead_timer_ends(&mut self, content: &Content, slot: u32) {
        let entity = EntityId(slot as u64 + 1);
        if !self.is_player(slot) {
            self.despawn(entity);
            return;
        }
        let cell = content
            .map(self.map.name())
            .map_or(self.map.spawn_cell(), |m| m.respawn);
        let spot = self.map.cell_center(cell);
        if let Some(f) = self.fighter_mut(slot) {
            f.restore();
        }
        self.teleport_entity(slot, spot);
        self.combat.push(CombatEvent::Revived { entity });
    }

    /// Tells observers of every fighter whose health bar changed, and the
    /// level and bar spawns will carry.
    pub(super) fn publish_health(&mut self) {
        for slot in 0..self.slots.len() as u32 {
            let Some(f) = self.fighter_mut(slot) else {
                continue;
            };
            let fraction = f.health_fraction();
            if fraction != f.shown_health {
                f.shown_health = fraction;
                self.replicas.set_health(slot, fraction);
                self.combat.push(CombatEvent::Health {
                    entity: EntityId(slot as u64 + 1),
                    fraction,
                });
            }
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
