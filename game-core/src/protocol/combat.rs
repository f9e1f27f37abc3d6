//! The combat domain's messages (tags 32-47), and the combat parts of the
//! world update: the character's own values ([`Vitals`]) and what happened to
//! the entities in view ([`CombatEvent`]).
//!
//! A client asks ([`ClientCombat`]); the zone decides at its next tick and
//! answers a refusal with [`ServerCombat::SkillRefused`], or lets the outcome
//! show up as events in the next `WorldUpdate`. No message names the caster:
//! it is always the sender's own character.

use crate::ids::EntityId;
use serde::{Deserialize, Serialize};

/// Requests about the character's fighting, passed by the session to the
/// zone untouched (once the player is in the world).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientCombat {
    /// Use a skill from the skillbook: on `target` for skills aimed at an
    /// enemy or an ally (`None` on an ally skill means oneself), `None` for
    /// skills on the caster.
    UseSkill {
        skill: u16,
        target: Option<EntityId>,
    },
    /// Auto-attack `target` with the auto-attack skill whenever it is ready,
    /// until [`ClientCombat::StopAttack`], the target dies or leaves view.
    Attack {
        target: EntityId,
    },
    StopAttack,
    /// Stop the cast in progress (no cost is paid, no cooldown starts).
    CancelCast,
}

/// The combat domain's messages to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerCombat {
    /// The skills the character may use (after entering the world).
    Skillbook {
        auto_attack: u16,
        skills: Vec<SkillInfo>,
        global_cooldown_ms: u32,
    },
    /// A request was refused; nothing was spent.
    SkillRefused { skill: u16, reason: SkillRefusal },
}

/// What a client needs to know of one skill to offer it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillInfo {
    pub id: u16,
    pub name: String,
    /// 0: damage, 1: heal.
    pub heals: bool,
    /// 0: enemy, 1: ally, 2: caster.
    pub targeting: u8,
    pub cast_ms: u32,
    pub cooldown_ms: u32,
    pub global_cooldown: bool,
    pub mana: u32,
    /// Metres, 1/256 m resolution (a raw `Fixed`).
    pub range_raw: i32,
}

/// Why the zone refused a skill. Each is the client's to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SkillRefusal {
    /// Not a skill this character has.
    UnknownSkill,
    OnCooldown,
    GlobalCooldown,
    NotEnoughMana,
    /// The target was farther than the skill's range where the caster saw it.
    OutOfRange,
    /// A wall stands between the caster and where it saw the target.
    NoLineOfSight,
    TargetDead,
    /// The target is not in the caster's view (or does not exist).
    NotVisible,
    /// The target is not one this skill may be used on (a damage skill on
    /// oneself or another player, a heal on a monster).
    InvalidTarget,
    /// The caster is dead.
    Dead,
    /// The caster is stunned.
    Stunned,
    /// Another cast is in progress.
    Casting,
    /// Too many requests this tick; the rest were dropped.
    TooFast,
}

impl SkillRefusal {
    /// A label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            SkillRefusal::UnknownSkill => "unknown_skill",
            SkillRefusal::OnCooldown => "on_cooldown",
            SkillRefusal::GlobalCooldown => "global_cooldown",
            SkillRefusal::NotEnoughMana => "not_enough_mana",
            SkillRefusal::OutOfRange => "out_of_range",
            SkillRefusal::NoLineOfSight => "no_line_of_sight",
            SkillRefusal::TargetDead => "target_dead",
            SkillRefusal::NotVisible => "not_visible",
            SkillRefusal::InvalidTarget => "invalid_target",
            SkillRefusal::Dead => "dead",
            SkillRefusal::Stunned => "stunned",
            SkillRefusal::Casting => "casting",
            SkillRefusal::TooFast => "too_fast",
        }
    }

    pub const ALL: [SkillRefusal; 13] = [
        SkillRefusal::UnknownSkill,
        SkillRefusal::OnCooldown,
        SkillRefusal::GlobalCooldown,
        SkillRefusal::NotEnoughMana,
        SkillRefusal::OutOfRange,
        SkillRefusal::NoLineOfSight,
        SkillRefusal::TargetDead,
        SkillRefusal::NotVisible,
        SkillRefusal::InvalidTarget,
        SkillRefusal::Dead,
        SkillRefusal::Stunned,
        SkillRefusal::Casting,
        SkillRefusal::TooFast,
    ];
}

/// The character's own exact values, in a `WorldUpdate` when any changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vitals {
    pub health: u32,
    pub max_health: u32,
    pub mana: u32,
    pub max_mana: u32,
    pub level: u16,
    pub experience: u64,
    /// Speed in percent of normal (below 100 while slowed; 0 while stunned):
    /// a predicting client moves no faster.
    pub speed_pct: u8,
}

/// How a hit turned out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HitOutcome {
    Normal,
    Critical,
    Miss,
}

/// A lasting effect on an entity, for a client to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EffectKind {
    Stun,
    Slow,
    /// Damage over time.
    Wound,
    /// Healing over time.
    Mend,
}

/// Something that happened to an entity in view this tick. Events about an
/// entity reach every client that sees it (and the entity's own client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CombatEvent {
    /// `source`'s `skill` reached `target` (a pulse over time too): damage,
    /// or healing for a healing skill; 0 on a miss.
    Hit {
        source: EntityId,
        target: EntityId,
        skill: u16,
        amount: u32,
        outcome: HitOutcome,
    },
    /// A cast began; it completes `cast_ms` from now unless interrupted.
    CastStarted {
        caster: EntityId,
        skill: u16,
        target: Option<EntityId>,
        cast_ms: u32,
    },
    /// A cast ended: completed (its hits follow) or interrupted.
    CastEnded {
        caster: EntityId,
        skill: u16,
        completed: bool,
    },
    /// An entity's health bar, in 255ths of its maximum (0 only when dead).
    Health {
        entity: EntityId,
        fraction: u8,
    },
    /// It died. A player comes back `respawn_ms` later (0 for monsters,
    /// which leave and are replaced later).
    Died {
        entity: EntityId,
        killer: Option<EntityId>,
        respawn_ms: u32,
    },
    /// It is alive again, at full health: a player respawning at the map's
    /// respawn point (a correction moves its own client there).
    Revived {
        entity: EntityId,
    },
    /// An effect from `skill` holds it for `ms`.
    EffectStarted {
        entity: EntityId,
        skill: u16,
        kind: EffectKind,
        ms: u32,
    },
    EffectEnded {
        entity: EntityId,
        kind: EffectKind,
    },
    LevelUp {
        entity: EntityId,
        level: u16,
    },
}

impl CombatEvent {
    /// The entity the event is about: whoever sees it hears the event.
    pub fn subject(&self) -> EntityId {
        match *self {
            CombatEvent::Hit { target, .. } => target,
            CombatEvent::CastStarted { caster, .. } | CombatEvent::CastEnded { caster, .. } => {
                caster
            }
            CombatEvent::Health { entity, .. }
            | CombatEvent::Died { entity, .. }
            | CombatEvent::Revived { entity }
            | CombatEvent::EffectStarted { entity, .. }
            | CombatEvent::EffectEnded { entity, .. }
            | CombatEvent::LevelUp { entity, .. } => entity,
        }
    }
}

/// An entity's health as a bar: 255ths of its maximum, rounded up so only
/// the dead show 0.
pub fn health_fraction(health: u32, max: u32) -> u8 {
    if health == 0 || max == 0 {
        0
    } else {
        ((health as u64 * 255).div_ceil(max as u64)).min(255) as u8
    }
}
