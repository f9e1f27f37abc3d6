//! Combat, continued: every fighter's own timers, in slot order, each
//! tick: effects pulse and end, casts complete, auto-attacks swing, health
//! and mana regenerate, the dead come back (a player at the map's respawn
//! point, a monster's body leaves); and the health bars that changed become
//! events.
//!
//! Owns the passing of time for fighters. May not judge requests (`combat.rs`)
//! nor decide what a landing skill does (`landing.rs`).

use super::Zone;
use crate::combat::formulas;
use crate::content::Content;
use crate::ids::EntityId;
use crate::protocol::{CombatEvent, SkillRefusal};
use crate::time::Tick;

impl Zone {
    /// Every fighter, in slot order: effects pulse and end, casts complete,
    /// auto-attacks swing, health and mana regenerate, the dead come back.
    pub(super) fn step_fighters(&mut self, content: &Content) {
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
    pub(super) fn step_effects(&mut self, content: &Content, slot: u32) {
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
    pub(super) fn swing(&mut self, content: &Content, slot: u32) {
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
    pub(super) fn dead_timer_ends(&mut self, content: &Content, slot: u32) {
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
