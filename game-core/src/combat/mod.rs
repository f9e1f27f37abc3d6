//! Combat: the state every fighting entity carries ([`Fighter`]), the
//! formulas that turn skills and stats into amounts (`formulas`), lasting
//! effects, and a monster's threat table (`threat`).
//!
//! Pure pieces the zone's tick uses (`zone/combat.rs` runs them, in a fixed
//! order, drawing from the zone's seeded stream). Nothing here knows where an
//! entity stands or who sees it.
//!
//! Owns a fighter's numbers and the rules that change them. May not decide
//! range, sight or targets (the zone's), nor what clients are told.

pub mod formulas;
pub mod threat;

pub use threat::{ThreatTable, MAX_THREAT_ENTRIES};

use crate::content::{Content, ItemStats, Level, SkillId};
use crate::ids::EntityId;
use crate::protocol::{health_fraction, EffectKind, Vitals};
use crate::time::Tick;

/// The most skills one fighter has (its cooldowns live in a fixed array).
pub const MAX_SKILLS: usize = 16;
/// The most lasting effects on one fighter; a new one replaces the one ending
/// soonest.
pub const MAX_EFFECTS: usize = 8;

/// A cast in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cast {
    pub skill: SkillId,
    /// Its place in the fighter's skill list.
    pub slot: u8,
    pub target: Option<EntityId>,
    pub ends: Tick,
    /// Ticks of lag compensation granted when it began (the range check
    /// at completion rewinds as far).
    pub rewind: u8,
}

/// A lasting effect: a stun, a slow, or pulses of damage or healing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effect {
    pub kind: EffectKind,
    pub skill: SkillId,
    pub source: EntityId,
    pub until: Tick,
    /// For pulses: the next one, the period, how many are left and each one's
    /// amount (before the roll).
    pub next_pulse: Tick,
    pub period: u64,
    pub pulses_left: u8,
    pub power: u32,
    pub source_power: u32,
    /// For a slow: the speed left, in percent.
    pub speed_pct: u8,
}

/// Everything about an entity's fighting that changes as it fights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fighter {
    pub level: u16,
    /// A player's total experience (0 for monsters).
    pub experience: u64,
    pub health: u32,
    pub max_health: u32,
    pub mana: u32,
    pub max_mana: u32,
    pub power: u32,
    pub armor: u32,
    /// When each skill (by its place in the skill list) is ready again.
    pub ready: [Tick; MAX_SKILLS],
    pub global_ready: Tick,
    pub cast: Option<Cast>,
    pub effects: [Option<Effect>; MAX_EFFECTS],
    /// Fighting until this tick (health does not regenerate meanwhile).
    pub in_combat_until: Tick,
    /// Auto-attacking this entity, with the rewind its `Attack` was judged
    /// with (the caster's delay, in ticks).
    pub auto_target: Option<EntityId>,
    pub auto_rewind: u8,
    /// Dead: a player respawns, a corpse leaves, at this tick.
    pub dead_until: Option<Tick>,
    /// Its vitals changed since its client was last sent them.
    pub vitals_dirty: bool,
    /// The health bar others were last told.
    pub shown_health: u8,
    /// What the equipment worn adds to the level's stats (players only).
    pub gear: ItemStats,
}

impl Fighter {
    /// A player character of `experience` (its level from the table).
    pub fn player(content: &Content, experience: u64) -> Fighter {
        let level = content.levels.level_for(experience).max(1);
        let mut f = Fighter::with_stats(level, content.levels.row(level));
        f.experience = experience;
        f
    }

    /// A monster of the given stats.
    pub fn monster(level: u16, health: u32, power: u32, armor: u32) -> Fighter {
        Fighter::with_stats(
            level,
            &Level {
                experience: 0,
                health,
                mana: 0,
                power,
                armor,
            },
        )
    }

    fn with_stats(level: u16, row: &Level) -> Fighter {
        Fighter {
            level,
            experience: 0,
            health: row.health.max(1),
            max_health: row.health.max(1),
            mana: row.mana,
            max_mana: row.mana,
            power: row.power,
            armor: row.armor,
            ready: [Tick(0); MAX_SKILLS],
            global_ready: Tick(0),
            cast: None,
            effects: [None; MAX_EFFECTS],
            in_combat_until: Tick(0),
            auto_target: None,
            auto_rewind: 0,
            dead_until: None,
            vitals_dirty: true,
            shown_health: 255,
            gear: ItemStats::default(),
        }
    }

    /// Takes the stats of `row` (a level-up), which fills health and mana.
    pub fn set_level(&mut self, level: u16, row: &Level) {
        self.level = level;
        self.max_mana = row.mana;
        self.take_row(row);
        if !self.is_dead() {
            self.health = self.max_health;
            self.mana = self.max_mana;
        }
        self.vitals_dirty = true;
    }

    /// Wears `gear` on top of `row` (its level's stats): power, armor and
    /// health change at once; health stays at most the new maximum.
    pub fn wear(&mut self, gear: ItemStats, row: &Level) {
        self.gear = gear;
        self.take_row(row);
        self.health = self.health.min(self.max_health);
        self.vitals_dirty = true;
    }

    /// The level's stats plus the gear's.
    fn take_row(&mut self, row: &Level) {
        self.max_health = row.health.max(1).saturating_add(self.gear.health);
        self.power = row.power.saturating_add(self.gear.power);
        self.armor = row.armor.saturating_add(self.gear.armor);
    }

    pub fn is_dead(&self) -> bool {
        self.health == 0
    }

    pub fn is_stunned(&self) -> bool {
        self.effects
            .iter()
            .flatten()
            .any(|e| e.kind == EffectKind::Stun)
    }

    /// Speed in percent: 0 while stunned, the strongest slow's while slowed.
    pub fn speed_pct(&self) -> u8 {
        let mut pct = 100u8;
        for e in self.effects.iter().flatten() {
            match e.kind {
                EffectKind::Stun => return 0,
                EffectKind::Slow => pct = pct.min(e.speed_pct),
                _ => {}
            }
        }
        pct
    }

    /// Takes `amount` of damage; returns what it took (never below zero).
    pub fn damage(&mut self, amount: u32) -> u32 {
        let taken = amount.min(self.health);
        self.health -= taken;
        self.vitals_dirty |= taken > 0;
        taken
    }

    /// Heals up to the maximum; returns what it healed. The dead are not healed.
    pub fn heal(&mut self, amount: u32) -> u32 {
        if self.is_dead() {
            return 0;
        }
        let healed = amount.min(self.max_health - self.health);
        self.health += healed;
        self.vitals_dirty |= healed > 0;
        healed
    }

    /// Puts on an effect, replacing one of the same kind from the same skill,
    /// else taking a free place, else the place of the one ending soonest.
    pub fn add_effect(&mut self, e: Effect) {
        let place = self
            .effects
            .iter()
            .position(|x| x.is_some_and(|x| x.kind == e.kind && x.skill == e.skill))
            .or_else(|| self.effects.iter().position(Option::is_none))
            .unwrap_or_else(|| {
                (0..MAX_EFFECTS)
                    .min_by_key(|&i| self.effects[i].map_or(Tick(0), |x| x.until))
                    .unwrap_or(0)
            });
        self.effects[place] = Some(e);
        self.vitals_dirty = true;
    }

    pub fn clear_effects(&mut self) {
        self.effects = [None; MAX_EFFECTS];
        self.vitals_dirty = true;
    }

    /// Back to full health and mana, no effects, no cast (a respawn, or a
    /// monster home from a leash).
    pub fn restore(&mut self) {
        self.health = self.max_health;
        self.mana = self.max_mana;
        self.clear_effects();
        self.cast = None;
        self.auto_target = None;
        self.dead_until = None;
        self.vitals_dirty = true;
    }

    /// The fighter as it goes to another zone, whose tick is `to` where this
    /// one's is `from`: health, mana, experience and cooldowns carry over
    /// (cooldowns rebased onto the new zone's ticks, a death's timer too);
    /// a cast, an auto-attack and lasting effects end, since their targets
    /// and sources stay behind.
    pub fn carried(&self, from: Tick, to: Tick) -> Fighter {
        let rebase = |t: Tick| Tick(to.0 + t.0.saturating_sub(from.0));
        let mut f = self.clone();
        for r in &mut f.ready {
            *r = rebase(*r);
        }
        f.global_ready = rebase(f.global_ready);
        f.in_combat_until = rebase(f.in_combat_until);
        f.dead_until = f.dead_until.map(rebase);
        f.cast = None;
        f.auto_target = None;
        f.effects = [None; MAX_EFFECTS];
        f.vitals_dirty = true;
        f.shown_health = 255;
        f
    }

    pub fn health_fraction(&self) -> u8 {
        health_fraction(self.health, self.max_health)
    }

    pub fn vitals(&self) -> Vitals {
        Vitals {
            health: self.health,
            max_health: self.max_health,
            mana: self.mana,
            max_mana: self.max_mana,
            level: self.level,
            experience: self.experience,
            // The dead do not move either.
            speed_pct: if self.is_dead() { 0 } else { self.speed_pct() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effect(kind: EffectKind, skill: u16, until: u64) -> Effect {
        Effect {
            kind,
            skill: SkillId(skill),
            source: EntityId(1),
            until: Tick(until),
            next_pulse: Tick(until),
            period: 1,
            pulses_left: 0,
            power: 0,
            source_power: 0,
            speed_pct: 50,
        }
    }

    #[test]
    fn health_stays_within_zero_and_max() {
        let mut f = Fighter::monster(1, 100, 10, 0);
        assert_eq!(f.damage(30), 30);
        assert_eq!(f.heal(500), 30);
        assert_eq!(f.health, 100);
        assert_eq!(f.damage(500), 100);
        assert!(f.is_dead());
        assert_eq!(f.heal(10), 0, "the dead are not healed");
        assert_eq!(f.health_fraction(), 0);
    }

    #[test]
    fn stuns_and_slows_set_the_speed() {
        let mut f = Fighter::monster(1, 100, 10, 0);
        assert_eq!(f.speed_pct(), 100);
        f.add_effect(effect(EffectKind::Slow, 1, 10));
        assert_eq!(f.speed_pct(), 50);
        f.add_effect(effect(EffectKind::Stun, 2, 10));
        assert!(f.is_stunned());
        assert_eq!(f.speed_pct(), 0);
    }

    #[test]
    fn effects_are_bounded_and_the_soonest_ending_makes_room() {
        let mut f = Fighter::monster(1, 100, 10, 0);
        for i in 0..MAX_EFFECTS as u16 {
            f.add_effect(effect(EffectKind::Wound, i, 100 + i as u64));
        }
        f.add_effect(effect(EffectKind::Wound, 99, 500));
        assert!(f.effects.iter().flatten().all(|e| e.skill != SkillId(0)));
        assert!(f.effects.iter().flatten().any(|e| e.skill == SkillId(99)));
        // The same skill's effect is refreshed, not stacked.
        f.add_effect(effect(EffectKind::Wound, 99, 900));
        assert_eq!(
            f.effects
                .iter()
                .flatten()
                .filter(|e| e.skill == SkillId(99))
                .count(),
            1
        );
    }
}
