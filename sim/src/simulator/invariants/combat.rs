//! What must hold of every fight, checked after every tick from what the
//! zone did (its combat events) and what its fighters are (their values),
//! never from the zone's own bookkeeping of cooldowns:
//!
//! - every fighter's health is within `[0, max_health]`, its mana within
//!   `[0, max_mana]`;
//! - the dead never act: no `CastStarted`, and no direct `Hit`, whose source
//!   was dead at the end of the previous tick. A `Hit` of an over-time skill
//!   is allowed: a wound or mend keeps pulsing after its caster died (the
//!   effect lives on its target), and a pulse looks like any other hit;
//! - no direct hit lands beyond the skill's reach: from the source to the
//!   target (both after the tick), the range for a single-target skill, the
//!   range plus the radius for a circle around a target, the radius for an
//!   area around the caster or a cone; plus what the target may move in the
//!   lag compensation window and one tick (players at the speed limit with
//!   its tolerance and burst, monsters at the fastest monster's speed: a
//!   target moves after the combat phase in the same tick), what a monster
//!   source may move in one tick (it may walk after a cast completes), and
//!   1 m of slack for quantization and the zone's 1/2 m range slack. Pulses
//!   are skipped: their source may have moved anywhere;
//! - cooldowns: per (caster, skill), a use (a `CastStarted`, or an instant
//!   skill's first `Hit` of a tick that is not a pulse) comes at least the
//!   skill's cooldown in ticks (rounded up) after the last instant use or
//!   completed cast (`CastEnded{completed}`: a cast's cooldown starts when
//!   it lands; an interrupted one starts none), and a global-cooldown skill
//!   at least the global cooldown after the caster's last global-cooldown
//!   use (a cast starts it). A `Hit` of an over-time skill is a pulse when
//!   the same source hit the same target with it within the effect's span;
//! - costs: in a tick where a fighter used skills with a mana cost (instant
//!   uses and completed casts), its mana fell by at least their cost, less
//!   what regeneration may have given it that tick (a tick where its level
//!   changed, or it came back to life, restores it and is skipped);
//! - experience: each zone's `experience_granted` equals its
//!   `experience_of_kills` (both cumulative, exact); and in each tick the
//!   experience gained by the zone's players (those there at both ends of
//!   the tick, whose values are compared) equals what the zone granted that
//!   tick. A player who arrives between ticks is measured from its first
//!   tick (it cannot be on a threat table before it arrives).
//!
//! A raid boss's area attack lands as hits by the boss with its first
//! skill, though it used none: on a tick one landed ([`TickView::area_by`])
//! the boss's hits are counted apart and judged neither as uses nor for
//! reach.
//!
//! The relational checks (the dead, costs, experience per tick) need the
//! previous tick of the same zone; a tick the checker did not see (the node
//! ran two at once) or a restart starts over from the next one.

use game_core::combat::formulas;
use game_core::content::{Area, Content, Skill, SkillId, Targeting};
use game_core::ids::{EntityId, ZoneId};
use game_core::math::Vec2;
use game_core::node::Node;
use game_core::protocol::{CombatEvent, EntityKind};
use game_core::time::Duration;
use game_core::zone::{MovementRules, Zone};
use std::collections::BTreeMap;

/// One fighter's values at the end of a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FighterSnap {
    pub entity: EntityId,
    pub player: bool,
    pub pos: Vec2,
    pub health: u32,
    pub max_health: u32,
    pub mana: u32,
    pub max_mana: u32,
    pub level: u16,
    pub experience: u64,
    /// The tick it was placed in the zone: an entity id placed anew (a
    /// slot reused by a player moved in after the tick, as a raid instance
    /// closes) is someone else, not compared with the last tick's.
    pub placed: u64,
}

/// A zone after one tick, as the checker reads it.
#[derive(Debug)]
pub struct TickView<'a> {
    pub zone: ZoneId,
    pub tick: u64,
    /// Sorted by entity.
    pub fighters: &'a [FighterSnap],
    pub events: &'a [CombatEvent],
    pub experience_granted: u64,
    pub experience_of_kills: u64,
    /// A raid boss whose area attack landed this tick.
    pub area_by: Option<EntityId>,
}

/// What the checker remembers of one zone.
#[derive(Debug, Default)]
struct ZoneMemory {
    tick: u64,
    fighters: Vec<FighterSnap>,
    granted: u64,
    /// Per (caster, skill): the tick its cooldown last started.
    cooldown_from: BTreeMap<(EntityId, u16), u64>,
    /// Per caster: the tick its global cooldown last started.
    global_from: BTreeMap<EntityId, u64>,
    /// Per (source, target, over-time skill): the tick of its last hit.
    over_time: BTreeMap<(EntityId, EntityId, u16), u64>,
}

/// What the zones counted of fighting, over every incarnation of the node.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ServerCombat {
    pub skills_used: u64,
    pub hits: u64,
    pub monsters_killed: u64,
    pub player_deaths: u64,
    pub experience_granted: u64,
    pub casts_interrupted: u64,
    /// Requests past the per-tick allowance, dropped.
    pub dropped: u64,
    /// Refusals by reason.
    pub refusals: BTreeMap<&'static str, u64>,
}

impl ServerCombat {
    /// Adds every zone's counters.
    pub fn add_node(&mut self, node: &Node) {
        let s = node.world().zone_stats();
        self.skills_used += s.skills_used;
        self.hits += s.hits;
        self.monsters_killed += s.monsters_killed;
        self.player_deaths += s.player_deaths;
        self.experience_granted += s.experience_granted;
        self.casts_interrupted += s.casts_interrupted;
        self.dropped += s.combat_dropped;
        for (k, v) in &s.skill_refusals {
            *self.refusals.entry(k).or_default() += v;
        }
    }
}

/// The combat checks' counters, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CombatChecks {
    pub ticks_checked: u64,
    /// Ticks whose previous tick the checker did not see.
    pub ticks_unpaired: u64,
    pub hits_checked: u64,
    pub uses_checked: u64,
    pub mana_checks: u64,
    /// Hits of a raid boss's area attack (judged neither as uses nor for reach).
    pub area_hits: u64,
}

#[derive(Debug)]
pub struct CombatChecker {
    period: Duration,
    /// Raw units a player / a monster may move in the lag compensation
    /// window and a tick, and a monster in one tick.
    player_reach: i64,
    monster_reach: i64,
    monster_tick: i64,
    zones: BTreeMap<ZoneId, ZoneMemory>,
    /// Scratch, reused every tick.
    fighters: Vec<FighterSnap>,
    events: Vec<CombatEvent>,
    pub counts: CombatChecks,
}

/// A metre: quantization, and the zone's half-metre range slack.
const SLACK: i64 = 256;

impl CombatChecker {
    pub fn new(
        tick_hz: u16,
        lag_compensation_ms: u32,
        rules: &MovementRules,
        content: &Content,
    ) -> Self {
        let period = Duration::from_micros(1_000_000 / tick_hz.max(1) as u64);
        let window_us = lag_compensation_ms as i64 * 1000 + period.as_micros() as i64;
        let per_s = rules.max_speed_raw as i64 * (100 + rules.tolerance_pct as i64) / 100;
        let burst = rules.max_speed_raw as i64 * rules.burst_ms as i64 / 1000;
        let monster_speed = content
            .monsters
            .iter()
            .map(|m| m.speed.raw() as i64)
            .max()
            .unwrap_or(0);
        CombatChecker {
            period,
            player_reach: per_s * window_us / 1_000_000 + burst,
            monster_reach: monster_speed * window_us / 1_000_000 + 1,
            monster_tick: monster_speed * period.as_micros() as i64 / 1_000_000 + 1,
            zones: BTreeMap::new(),
            fighters: Vec::new(),
            events: Vec::new(),
            counts: CombatChecks::default(),
        }
    }

    /// The node restarted: its zones start afresh.
    pub fn on_restart(&mut self) {
        self.zones.clear();
    }

    /// Checks every zone after a tick; what is wrong goes to `failures`.
    pub fn after_tick(&mut self, node: &Node, failures: &mut Vec<String>) {
        let mut fighters = std::mem::take(&mut self.fighters);
        let mut events = std::mem::take(&mut self.events);
        for zone in node.world().zones() {
            snapshot(zone, &mut fighters, &mut events);
            let view = TickView {
                zone: zone.id(),
                tick: zone.tick().0,
                fighters: &fighters,
                events: &events,
                experience_granted: zone.stats().experience_granted,
                experience_of_kills: zone.stats().experience_of_kills,
                area_by: (zone.encounter())
                    .filter(|e| e.area_landed)
                    .and_then(|e| e.boss),
            };
            self.check(zone.content(), &view, failures);
        }
        self.fighters = fighters;
        self.events = events;
        let live: Vec<ZoneId> = node.world().zones().map(|z| z.id()).collect();
        self.zones.retain(|z, _| live.binary_search(z).is_ok());
    }

    /// Checks one zone's tick against what the checker remembers of it.
    pub fn check(&mut self, content: &Content, view: &TickView<'_>, failures: &mut Vec<String>) {
        self.counts.ticks_checked += 1;
        let z = view.zone;
        let mut memory = self.zones.remove(&z).unwrap_or_default();
        let before = std::mem::take(&mut memory.fighters);
        let paired = memory.tick + 1 == view.tick && !before.is_empty();
        if !paired {
            self.counts.ticks_unpaired += 1;
        }
        let prev = |e: EntityId| -> Option<&FighterSnap> {
            if !paired {
                return None;
            }
            let f = &before;
            let then = f
                .binary_search_by_key(&e, |s| s.entity)
                .ok()
                .map(|i| &f[i])?;
            let f = view.fighters;
            let now = f.binary_search_by_key(&e, |s| s.entity).ok().map(|i| &f[i]);
            now.is_none_or(|n| n.placed == then.placed).then_some(then)
        };
        let now = |e: EntityId| -> Option<&FighterSnap> {
            let f = view.fighters;
            f.binary_search_by_key(&e, |s| s.entity).ok().map(|i| &f[i])
        };
        for f in view.fighters {
            if f.health > f.max_health || f.mana > f.max_mana {
                failures.push(format!(
                    "combat: {z:?} {:?} has health {}/{} and mana {}/{}",
                    f.entity, f.health, f.max_health, f.mana, f.max_mana
                ));
            }
        }
        let tick = view.tick;
        let gcd = formulas::ticks(content.rules.global_cooldown_ms, self.period);
        // Mana spent this tick by caster, and who came back to life.
        let mut spent: Vec<(EntityId, u32)> = Vec::new();
        let mut revived: Vec<EntityId> = Vec::new();
        // (source, skill) pairs whose first hit of the tick was seen.
        let mut hit_once: Vec<(EntityId, u16)> = Vec::new();
        for e in view.events {
            match *e {
                CombatEvent::CastStarted { caster, skill, .. } => {
                    if prev(caster).is_some_and(|f| f.health == 0) {
                        failures.push(format!(
                            "combat: {z:?} dead {caster:?} started casting skill {skill} at tick {tick}"
                        ));
                    }
                    if let Some(def) = content.skill(SkillId(skill)) {
                        self.use_of(&mut memory, caster, def, tick, gcd, true, failures, z);
                    }
                }
                CombatEvent::CastEnded {
                    caster,
                    skill,
                    completed: true,
                } => {
                    memory.cooldown_from.insert((caster, skill), tick);
                    if let Some(def) = content.skill(SkillId(skill)) {
                        spent.push((caster, def.mana));
                    }
                }
                CombatEvent::Revived { entity } => revived.push(entity),
                CombatEvent::Hit {
                    source,
                    target,
                    skill,
                    ..
                } => {
                    let Some(def) = content.skill(SkillId(skill)) else {
                        failures.push(format!("combat: {z:?} a hit of unknown skill {skill}"));
                        continue;
                    };
                    let pulse = def.over_time.is_some_and(|ot| {
                        let span = formulas::ticks(ot.period_ms, self.period) * ot.pulses as u64;
                        let key = (source, target, skill);
                        let last = memory.over_time.insert(key, tick);
                        last.is_some_and(|t| tick <= t + span + 1)
                    });
                    if pulse {
                        continue;
                    }
                    if view.area_by == Some(source) {
                        self.counts.area_hits += 1;
                        continue;
                    }
                    self.counts.hits_checked += 1;
                    if def.over_time.is_none() && prev(source).is_some_and(|f| f.health == 0) {
                        failures.push(format!(
                            "combat: {z:?} dead {source:?} hit {target:?} with skill {skill} at tick {tick}"
                        ));
                    }
                    if let (Some(s), Some(t)) = (now(source), now(target)) {
                        if let Some(err) = self.beyond_reach(def, s, t) {
                            failures.push(format!("combat: {z:?} tick {tick}: {err}"));
                        }
                    }
                    if def.cast_ms == 0 && !hit_once.contains(&(source, skill)) {
                        hit_once.push((source, skill));
                        self.use_of(&mut memory, source, def, tick, gcd, false, failures, z);
                        spent.push((source, def.mana));
                    }
                }
                _ => {}
            }
        }
        let regen_every = formulas::ticks(content.rules.regen_period_ms, self.period).max(1);
        let regen_tick = tick % regen_every == 0;
        spent.sort_unstable();
        for run in spent.chunk_by(|a, b| a.0 == b.0) {
            let (e, cost) = (run[0].0, run.iter().map(|&(_, m)| m as u64).sum::<u64>());
            let (Some(before), Some(after)) = (prev(e), now(e)) else {
                continue;
            };
            if cost == 0
                || before.level != after.level
                || revived.contains(&e)
                || before.health == 0
            {
                continue;
            }
            self.counts.mana_checks += 1;
            let regen = if regen_tick {
                (after.max_mana as u64 * content.rules.mana_regen_pct as u64 / 100).max(1)
            } else {
                0
            };
            if after.mana as u64 + cost > before.mana as u64 + regen {
                failures.push(format!(
                    "combat: {z:?} {e:?} spent {cost} mana at tick {tick}, yet went from {} to {} (regeneration {regen})",
                    before.mana, after.mana
                ));
            }
        }
        if view.experience_granted != view.experience_of_kills {
            failures.push(format!(
                "combat: {z:?} granted {} experience for kills worth {}",
                view.experience_granted, view.experience_of_kills
            ));
        }
        if paired {
            let gained: u64 = view
                .fighters
                .iter()
                .filter(|f| f.player)
                .filter_map(|f| prev(f.entity).map(|p| f.experience.saturating_sub(p.experience)))
                .sum();
            let granted = view.experience_granted.saturating_sub(memory.granted);
            if gained != granted {
                failures.push(format!(
                    "combat: {z:?} players gained {gained} experience at tick {tick}; the zone granted {granted}"
                ));
            }
        }
        // Forget those gone: an entity id may come back as someone else.
        let present = |e: &EntityId| now(*e).is_some();
        memory.cooldown_from.retain(|(e, _), _| present(e));
        memory.global_from.retain(|e, _| present(e));
        memory
            .over_time
            .retain(|(s, t, _), _| present(s) || present(t));
        memory.tick = tick;
        memory.granted = view.experience_granted;
        let mut before = before;
        before.clear();
        before.extend_from_slice(view.fighters);
        memory.fighters = before;
        self.zones.insert(z, memory);
    }

    /// A use of `def` by `caster` at `tick`: its cooldown and the global one
    /// must be over. An instant use starts its cooldown; a cast starts only
    /// the global one (its own starts when it lands).
    #[allow(clippy::too_many_arguments)]
    fn use_of(
        &mut self,
        memory: &mut ZoneMemory,
        caster: EntityId,
        def: &Skill,
        tick: u64,
        gcd: u64,
        cast: bool,
        failures: &mut Vec<String>,
        z: ZoneId,
    ) {
        self.counts.uses_checked += 1;
        let cooldown = formulas::ticks(def.cooldown_ms, self.period);
        let key = (caster, def.id.0);
        if let Some(&from) = memory.cooldown_from.get(&key) {
            if tick < from + cooldown {
                failures.push(format!(
                    "combat: {z:?} {caster:?} used skill {} at tick {tick}, {} ticks after its cooldown of {cooldown} started",
                    def.id.0,
                    tick - from
                ));
            }
        }
        if !cast {
            memory.cooldown_from.insert(key, tick);
        }
        if def.global_cooldown {
            if let Some(&from) = memory.global_from.get(&caster) {
                if tick < from + gcd {
                    failures.push(format!(
                        "combat: {z:?} {caster:?} used skill {} at tick {tick}, {} ticks into the global cooldown of {gcd}",
                        def.id.0,
                        tick - from
                    ));
                }
            }
            memory.global_from.insert(caster, tick);
        }
    }

    /// Why a direct hit from `s` on `t` could not have reached, if so.
    fn beyond_reach(&self, def: &Skill, s: &FighterSnap, t: &FighterSnap) -> Option<String> {
        let base = match def.area {
            Area::Single => def.range.raw() as i64,
            Area::Circle { radius } if def.targeting == Targeting::Caster => radius.raw() as i64,
            Area::Circle { radius } => def.range.raw() as i64 + radius.raw() as i64,
            Area::Cone { radius, .. } => radius.raw() as i64,
        };
        let moved = if t.player {
            self.player_reach
        } else {
            self.monster_reach
        };
        let source_moved = if s.player { 0 } else { self.monster_tick };
        let allowed = base + moved + source_moved + SLACK;
        let d = game_core::zone::movement::distance_raw(s.pos, t.pos);
        (d > allowed).then(|| {
            format!(
                "{:?} hit {:?} with skill {} from {:.2} m (at most {:.2} m)",
                s.entity,
                t.entity,
                def.id.0,
                d as f64 / 256.0,
                allowed as f64 / 256.0
            )
        })
    }
}

/// The zone's fighters (sorted by entity) and last tick's events.
fn snapshot(zone: &Zone, fighters: &mut Vec<FighterSnap>, events: &mut Vec<CombatEvent>) {
    fighters.clear();
    for (id, kind, pos) in zone.entities() {
        if let Some(f) = zone.fighter_of(id) {
            fighters.push(FighterSnap {
                entity: id,
                player: kind == EntityKind::Player,
                pos,
                health: f.health,
                max_health: f.max_health,
                mana: f.mana,
                max_mana: f.max_mana,
                level: f.level,
                experience: f.experience,
                placed: zone.placed_at(id).map_or(0, |t| t.0),
            });
        }
    }
    events.clear();
    events.extend(zone.combat_events().copied());
}
