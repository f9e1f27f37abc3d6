//! Tick phase 3b, the raid encounter of a raid instance's zone: the boss
//! and its phases (adds joining as a phase starts, an area attack announced
//! before it lands), the enrage, the time limit, and the end: victory when
//! the boss dies, failure when time runs out or every player in the zone is
//! dead at once. A player who dies here stays dead until the end (then
//! everyone is revived where they lie). The zone keeps each player's
//! damage to the boss and its adds, and its deaths.
//!
//! Owns the encounter's clock and mechanics. Uses the monsters' members for
//! the boss and its adds (they never respawn) and `landing.rs` for deaths;
//! tells the node what happened as [`EncounterEvent`]s.

use super::Zone;
use crate::content::RaidFight;
use crate::ids::{EntityId, PlayerId};
use crate::math::{Fixed, Vec2};
use crate::protocol::{CombatEvent, HitOutcome, RaidEnd, RaidTally};
use crate::time::Tick;
use rand_core::RngCore;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A member that never comes back: its respawn is this many ticks away
/// (at 20 Hz, 1.8 billion years).
pub(super) const NEVER_TICKS: u64 = 1 << 60;

/// What the encounter did this tick, for the node to tell the players.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncounterEvent {
    /// A new phase began, or the boss enraged.
    Changed,
    /// An area attack will land at `center` in `lands_in_ms`.
    Warning {
        center: Vec2,
        radius: Fixed,
        lands_in_ms: u32,
        damage: u32,
    },
    Ended(RaidEnd),
}

/// Where the encounter stands, as the players are shown it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncounterView {
    pub time_limit_ms: u32,
    /// Until the time limit (0 once it has passed or the raid is over).
    pub remaining_ms: u32,
    pub phase: u8,
    pub enraged: bool,
    pub boss: Option<EntityId>,
    pub boss_health_pm: u16,
    pub end: Option<RaidEnd>,
    /// From the start to the end (or to now).
    pub elapsed_ms: u32,
    /// An area attack landed at the zone's last tick. Its hits name the
    /// boss as their source and the boss's first skill, though the boss
    /// used no skill (the simulator's combat checks tell them apart so).
    pub area_landed: bool,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    center: Vec2,
    radius: Fixed,
    damage: u32,
    lands: Tick,
}

#[derive(Debug)]
pub(super) struct Encounter {
    fight: Arc<RaidFight>,
    boss_member: usize,
    started: Tick,
    ends: Tick,
    enrage_at: Option<Tick>,
    enraged: bool,
    phase: usize,
    next_area: Option<Tick>,
    /// At most two at once: a warning is shorter than the attack's period.
    pending: Vec<Pending>,
    /// The last tick an area attack landed.
    area_landed: Option<Tick>,
    /// Each player's damage and deaths (bounded by the zone's player cap).
    tally: BTreeMap<PlayerId, RaidTally>,
    end: Option<(RaidEnd, Tick)>,
    boss_health_pm: u16,
    events: Vec<EncounterEvent>,
}

impl Zone {
    /// Starts `fight` in this zone: the boss stands at its cell, and the
    /// time limit runs from now.
    pub fn start_encounter(&mut self, fight: Arc<RaidFight>) {
        let home = self.map.cell_center(fight.boss_cell);
        let boss_member = self.add_member(fight.boss, home);
        let period = self.tick_period;
        let ticks = |ms: u32| crate::combat::formulas::ticks(ms, period);
        let tick = self.tick;
        let first_area = fight.phases.first().and_then(|p| p.area);
        self.encounter = Some(Box::new(Encounter {
            boss_member,
            started: tick,
            ends: Tick(tick.0 + ticks(fight.time_limit_ms)),
            enrage_at: (fight.enrage_ms > 0).then(|| Tick(tick.0 + ticks(fight.enrage_ms))),
            enraged: false,
            phase: 0,
            next_area: first_area.map(|a| Tick(tick.0 + ticks(a.every_ms))),
            pending: Vec::with_capacity(2),
            area_landed: None,
            tally: BTreeMap::new(),
            end: None,
            boss_health_pm: 1000,
            events: Vec::new(),
            fight,
        }));
    }

    /// The encounter's state, if this zone runs one.
    pub fn encounter(&self) -> Option<EncounterView> {
        let e = self.encounter.as_ref()?;
        let at = e.end.map_or(self.tick, |(_, t)| t);
        let ms = |ticks: u64| {
            let us = ticks.saturating_mul(self.tick_period.as_micros()) / 1_000;
            u32::try_from(us).unwrap_or(u32::MAX)
        };
        Some(EncounterView {
            time_limit_ms: e.fight.time_limit_ms,
            remaining_ms: if e.end.is_some() {
                0
            } else {
                ms(e.ends.0.saturating_sub(self.tick.0))
            },
            phase: e.phase as u8,
            enraged: e.enraged,
            boss: self.members[e.boss_member].entity,
            boss_health_pm: e.boss_health_pm,
            end: e.end.map(|(end, _)| end),
            elapsed_ms: ms(at.0.saturating_sub(e.started.0)),
            area_landed: e.area_landed == Some(self.tick),
        })
    }

    /// A player's damage and deaths in this zone's encounter.
    pub fn tally(&self, player: PlayerId) -> RaidTally {
        self.encounter
            .as_ref()
            .and_then(|e| e.tally.get(&player).copied())
            .unwrap_or_default()
    }

    /// What the encounter did since the last call.
    pub fn take_encounter_events(&mut self) -> Vec<EncounterEvent> {
        self.encounter
            .as_mut()
            .map(|e| std::mem::take(&mut e.events))
            .unwrap_or_default()
    }

    /// Brings a dead player back where it lies, at full health (leaving a
    /// raid instance, or its end).
    pub fn revive(&mut self, entity: EntityId) {
        let Some(slot) = self.slot_of(entity) else {
            return;
        };
        if let Some(f) = self.fighter_mut(slot).filter(|f| f.is_dead()) {
            f.restore();
            self.combat.push(CombatEvent::Revived { entity });
        }
    }

    /// Whether a raid runs here and is not over: a player who dies stays dead.
    pub(super) fn in_encounter(&self) -> bool {
        self.encounter.as_ref().is_some_and(|e| e.end.is_none())
    }

    /// A player dealt `amount` of damage to a monster.
    pub(super) fn note_raid_damage(&mut self, player: PlayerId, amount: u32) {
        if let Some(e) = self.encounter.as_mut().filter(|e| e.end.is_none()) {
            e.tally.entry(player).or_default().damage += u64::from(amount);
        }
    }

    /// A player died in the raid.
    pub(super) fn note_raid_death(&mut self, player: PlayerId) {
        if let Some(e) = self.encounter.as_mut().filter(|e| e.end.is_none()) {
            e.tally.entry(player).or_default().deaths += 1;
        }
    }

    /// The encounter's step: the end first, then phases, the enrage and
    /// area attacks.
    pub(super) fn step_encounter(&mut self) {
        let Some(mut e) = self.encounter.take() else {
            return;
        };
        let mut killed = std::mem::take(&mut self.area_killed);
        if e.end.is_none() {
            self.step_running(&mut e, &mut killed);
        }
        self.encounter = Some(e);
        // Deaths after the encounter is back in place: `kill` reads it (a
        // player killed in a raid stays dead, and its death is tallied).
        let content = Arc::clone(&self.content);
        for (slot, boss) in killed.drain(..) {
            self.kill(&content, slot, Some(boss));
        }
        self.area_killed = killed;
    }

    fn step_running(&mut self, e: &mut Encounter, killed: &mut Vec<(u32, u32)>) {
        let tick = self.tick;
        let boss = self.members[e.boss_member].entity;
        let boss_slot = boss.and_then(|b| self.slot_of(b));
        let boss_fighter = boss_slot.and_then(|s| self.fighter(s));
        let boss_dead = boss_fighter.is_none_or(|f| f.is_dead());
        if let Some(f) = boss_fighter {
            e.boss_health_pm =
                (u64::from(f.health) * 1_000 / u64::from(f.max_health.max(1))) as u16;
        }
        let end = if boss_dead {
            e.boss_health_pm = 0;
            Some(RaidEnd::Victory)
        } else if tick >= e.ends {
            Some(RaidEnd::TimeUp)
        } else if self.everyone_dead() {
            Some(RaidEnd::Wiped)
        } else {
            None
        };
        if let Some(end) = end {
            self.finish(e, end);
            return;
        }
        let boss_slot = boss_slot.expect("the boss lives");
        let period = self.tick_period;
        let ticks = |ms: u32| crate::combat::formulas::ticks(ms, period);
        let fight = Arc::clone(&e.fight);
        while let Some(next) = fight.phases.get(e.phase + 1) {
            if e.boss_health_pm > next.health_pm {
                break;
            }
            e.phase += 1;
            e.next_area = next.area.map(|a| Tick(tick.0 + ticks(a.every_ms)));
            if let Some(adds) = next.adds {
                let around = self.bodies[boss_slot as usize].pos;
                for _ in 0..adds.count {
                    let home = self.spot_near(around, 3);
                    self.add_member(adds.monster, home);
                }
            }
            e.events.push(EncounterEvent::Changed);
        }
        if e.enrage_at.is_some_and(|t| t <= tick) && !e.enraged {
            e.enraged = true;
            if let Some(f) = self.fighter_mut(boss_slot) {
                f.power = (u64::from(f.power) * u64::from(fight.enrage_power_pct) / 100) as u32;
            }
            e.events.push(EncounterEvent::Changed);
        }
        let area = fight.phases[e.phase].area;
        if let (Some(a), Some(due)) = (area, e.next_area) {
            if due <= tick {
                e.next_area = Some(Tick(tick.0 + ticks(a.every_ms)));
                if let Some(center) = self.random_living_player() {
                    e.pending.push(Pending {
                        center,
                        radius: a.radius,
                        damage: a.damage,
                        lands: Tick(tick.0 + ticks(a.warn_ms)),
                    });
                    e.events.push(EncounterEvent::Warning {
                        center,
                        radius: a.radius,
                        lands_in_ms: a.warn_ms,
                        damage: a.damage,
                    });
                }
            }
        }
        let mut landed = std::mem::take(&mut e.pending);
        landed.retain(|p| {
            let lands = p.lands <= tick;
            if !lands {
                e.pending.push(*p);
            }
            lands
        });
        if !landed.is_empty() {
            e.area_landed = Some(tick);
        }
        for p in landed {
            self.land_area(e, boss_slot, p, killed);
        }
    }

    /// An area attack lands: every living player within its radius takes
    /// its damage (armour ignored); one brought to 0 is `killed`.
    fn land_area(
        &mut self,
        e: &Encounter,
        boss_slot: u32,
        p: Pending,
        killed: &mut Vec<(u32, u32)>,
    ) {
        let skill = self
            .content
            .monster(e.fight.boss)
            .and_then(|k| k.skills.first().copied())
            .map_or(0, |s| s.0);
        let source = EntityId(boss_slot as u64 + 1);
        for slot in 0..self.slots.len() as u32 {
            if !self.is_player(slot) || !self.bodies[slot as usize].pos.within(p.center, p.radius) {
                continue;
            }
            let Some(f) = self.fighter_mut(slot).filter(|f| !f.is_dead()) else {
                continue;
            };
            let amount = f.damage(p.damage);
            let dead = f.is_dead();
            self.combat.push(CombatEvent::Hit {
                source,
                target: EntityId(slot as u64 + 1),
                skill,
                amount,
                outcome: HitOutcome::Normal,
            });
            if dead {
                killed.push((slot, boss_slot));
            }
        }
    }

    /// The raid is over: the boss (if alive) and its adds leave, and every
    /// dead player is revived.
    fn finish(&mut self, e: &mut Encounter, end: RaidEnd) {
        e.end = Some((end, self.tick));
        e.pending.clear();
        e.next_area = None;
        let monsters: Vec<EntityId> = self.members.iter().filter_map(|m| m.entity).collect();
        for m in monsters {
            self.despawn(m);
        }
        for slot in 0..self.slots.len() as u32 {
            if self.is_player(slot) {
                self.revive(EntityId(slot as u64 + 1));
            }
        }
        e.events.push(EncounterEvent::Ended(end));
    }

    fn everyone_dead(&self) -> bool {
        let mut players = (0..self.slots.len() as u32).filter(|&s| self.is_player(s));
        let mut any = false;
        let all_dead = players.all(|s| {
            any = true;
            self.fighter(s).is_some_and(|f| f.is_dead())
        });
        any && all_dead
    }

    fn random_living_player(&mut self) -> Option<Vec2> {
        let living: Vec<u32> = (0..self.slots.len() as u32)
            .filter(|&s| self.is_player(s) && self.fighter(s).is_some_and(|f| !f.is_dead()))
            .collect();
        if living.is_empty() {
            return None;
        }
        let pick = living[self.rng.next_u32() as usize % living.len()];
        Some(self.bodies[pick as usize].pos)
    }

    /// A walkable spot within `cells` cells of `around`, in a straight line
    /// from it (`around` itself if eight draws find none).
    fn spot_near(&mut self, around: Vec2, cells: i32) -> Vec2 {
        let cell = Fixed::from_int(self.map.cell_metres() as i32).raw();
        let span = (2 * cells * cell + 1) as u32;
        for _ in 0..8 {
            let mut offset = || Fixed::from_raw((self.rng.next_u32() % span) as i32 - cells * cell);
            let spot = around + Vec2::new(offset(), offset());
            if self.map.is_walkable(spot) && self.map.segment_walkable(around, spot) {
                return spot;
            }
        }
        around
    }
}
