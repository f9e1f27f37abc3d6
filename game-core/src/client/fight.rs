//! What the client knows of fighting: its character's exact values, its
//! skillbook and cast, and each visible fighter's health bar, level, look and
//! cast, kept up to date from spawns and combat events.
//!
//! Display state only: the server judges every hit. The driver reads it
//! ([`super::Client::fight`]) to draw health bars and cast bars, and hears
//! about its own character through [`super::ClientEvent::Combat`].

use crate::ids::EntityId;
use crate::protocol::{CombatEvent, EffectKind, SkillInfo, Spawn, Vitals};
use crate::time::{Duration, Instant};
use std::collections::BTreeMap;

/// A visible fighter, as its health bar shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bar {
    pub look: u16,
    pub level: u16,
    /// 255ths of its maximum; 0: dead.
    pub health: u8,
    /// The skill it is casting, if any.
    pub casting: Option<u16>,
}

/// The skills the character may use, as the server sent them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skillbook {
    pub auto_attack: u16,
    pub skills: Vec<SkillInfo>,
    pub global_cooldown_ms: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Fight {
    /// The character's own values, once the server sent them.
    pub vitals: Option<Vitals>,
    pub skillbook: Skillbook,
    /// The character's own cast: the skill and when it should complete.
    pub casting: Option<(u16, Instant)>,
    bars: BTreeMap<EntityId, Bar>,
    /// Until when the fight holds the character back (see [`Fight::held`]).
    held_until: Instant,
}

/// Moves sent before the client heard it was held are refused for about a
/// round trip after: this much slack covers that.
const HELD_SLACK: Duration = Duration::from_secs(2);

impl Fight {
    /// A visible fighter's bar (none for wanderers and the unknown).
    pub fn bar(&self, entity: EntityId) -> Option<&Bar> {
        self.bars.get(&entity)
    }

    pub fn bars(&self) -> impl Iterator<Item = (EntityId, &Bar)> {
        self.bars.iter().map(|(e, b)| (*e, b))
    }

    /// Whether the fight holds the character back at `now` (dead, stunned,
    /// slowed), or did within [`HELD_SLACK`]: a correction then is the
    /// fight's doing.
    pub fn held(&self, now: Instant) -> bool {
        now < self.held_until
            || self
                .vitals
                .is_some_and(|v| v.speed_pct < 100 || v.health == 0)
    }

    fn hold(&mut self, until: Instant) {
        self.held_until = self.held_until.max(until);
    }

    pub fn is_dead(&self) -> bool {
        self.vitals.is_some_and(|v| v.health == 0)
    }

    pub(super) fn clear_view(&mut self) {
        self.bars.clear();
        self.casting = None;
    }

    pub(super) fn spawned(&mut self, s: &Spawn) {
        if s.kind == crate::protocol::EntityKind::Npc {
            return;
        }
        self.bars.insert(
            s.entity,
            Bar {
                look: s.look,
                level: s.level,
                health: s.health,
                casting: None,
            },
        );
    }

    pub(super) fn despawned(&mut self, entity: EntityId) {
        self.bars.remove(&entity);
    }

    /// Applies one event; `me` is the character's entity.
    pub(super) fn apply(&mut self, now: Instant, me: Option<EntityId>, e: &CombatEvent) {
        match *e {
            CombatEvent::CastStarted {
                caster,
                skill,
                cast_ms,
                ..
            } => {
                if Some(caster) == me {
                    self.casting = Some((skill, now + Duration::from_millis(cast_ms as u64)));
                } else if let Some(b) = self.bars.get_mut(&caster) {
                    b.casting = Some(skill);
                }
            }
            CombatEvent::CastEnded { caster, .. } => {
                if Some(caster) == me {
                    self.casting = None;
                } else if let Some(b) = self.bars.get_mut(&caster) {
                    b.casting = None;
                }
            }
            CombatEvent::Health { entity, fraction } => {
                if let Some(b) = self.bars.get_mut(&entity) {
                    b.health = fraction;
                }
            }
            CombatEvent::Died {
                entity, respawn_ms, ..
            } => {
                if let Some(b) = self.bars.get_mut(&entity) {
                    b.health = 0;
                    b.casting = None;
                }
                if Some(entity) == me {
                    self.casting = None;
                    self.hold(now + Duration::from_millis(respawn_ms as u64) + HELD_SLACK);
                }
            }
            CombatEvent::Revived { entity } if Some(entity) == me => {
                self.hold(now + HELD_SLACK);
            }
            CombatEvent::EffectStarted {
                entity,
                kind: EffectKind::Stun | EffectKind::Slow,
                ms,
                ..
            } if Some(entity) == me => {
                self.hold(now + Duration::from_millis(ms as u64) + HELD_SLACK);
            }
            CombatEvent::LevelUp { entity, level } => {
                if let Some(b) = self.bars.get_mut(&entity) {
                    b.level = level;
                }
            }
            CombatEvent::Hit { .. }
            | CombatEvent::Revived { .. }
            | CombatEvent::EffectStarted { .. }
            | CombatEvent::EffectEnded { .. } => {}
        }
    }
}
