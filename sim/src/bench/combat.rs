//! bench-world's combat part (issue 17), each figure beside a baseline from
//! the same run:
//!
//! 1. Tick cost of a zone of 10,000 entities where 2,000 monsters fight
//!    2,000 players and 6,000 players walk about, beside the movement-only
//!    zone of 10,000 walkers (the crowd of the tick bench), their ticks
//!    interleaved so the host's noise falls on both; heap allocations per
//!    steady tick of each. A third zone, the same crowd without combat
//!    (monsters passive, wandering; fighters standing), says what combat
//!    itself costs: the combat zone has 4,000 entities that mostly stand,
//!    so it can be cheaper than the all-walking baseline.
//! 2. Bytes per second per client in a fight of 25 players and 25 monsters
//!    in one spot (~50 in view, all fighting), beside the same ticks'
//!    information sent the naive way: every visible entity's full state
//!    (absolute position, look, level, health bar) every tick, with the
//!    same vitals and combat events, as JSON and as plain postcard. Twice:
//!    fighters standing, and fighters circling their monster at 2 m/s.
//!
//! The monsters are one bench kind (`bench_brute`, added to the sample
//! content): level 10, 20,000 health so none dies while measured (its bar
//! still moves every few hits), bite and swipe (a cone) at power 4, aggro
//! 6 m. The fighters are level-10 players (595 health) who auto-attack the
//! monster beside them, follow it when it steps away, use their other skills
//! when ready and affordable, and mend themselves below half health: none
//! dies while measured either, so the steady state stays steady.
//! `BENCH_MONSTER_HEALTH=600` makes monsters die (and come back 2 s after)
//! while measured instead: kills, experience, corpses and respawns in the
//! steady state too; then a few replication buffers still grow to new peaks
//! for a while (6 allocations in 200 ticks after 200 of warm-up, none after
//! 1,200: `BENCH_WARMUP=1200`).

use super::{
    measured_tick, open_zone, side_for, Crowd, Percentiles, ALLOCATIONS, MEASURING, STEP_RAW, TICK,
};
use game_core::content::{Content, MapContent, MonsterKind, MonsterKindId, SkillId, SpawnGroup};
use game_core::ids::EntityId;
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{
    ClientCombat, EntityKind, MoveInput, QPos, ServerMsg, ServerWorld, Spawn, WorldUpdate,
    FRAME_HEADER_LEN,
};
use game_core::time::Duration;
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Monsters per spawn group in the big zone (and fighters beside them).
const GROUP: u16 = 10;
/// Experience of a level-10 player (levels.toml: 100 * 9^2).
const LEVEL_10_XP: u64 = 8_100;
/// The delay fighters' requests carry (half a 100 ms round trip plus 100 ms
/// of interpolation): 3 ticks of rewind.
const DELAY: Duration = Duration::from_millis(150);
/// Fighters start over this many ticks, so their cooldowns do not all tick
/// in step.
const STAGGER: u64 = 40;
/// A strafing fighter's step per tick: 2 m/s.
const STRAFE_RAW: i64 = 2 * 256 / 20;

#[derive(Debug, Serialize)]
pub(crate) struct CombatTickRow {
    pub entities: usize,
    pub monsters: usize,
    pub fighters: usize,
    pub ticks: usize,
    pub warmup: usize,
    pub movement_p50_ms: f64,
    pub movement_p99_ms: f64,
    pub movement_max_ms: f64,
    pub movement_allocations_per_tick: f64,
    /// The same crowd without combat: passive monsters (they wander) and
    /// players standing beside them.
    pub calm_p50_ms: f64,
    pub calm_p99_ms: f64,
    pub calm_max_ms: f64,
    pub calm_allocations_per_tick: f64,
    pub combat_p50_ms: f64,
    pub combat_p99_ms: f64,
    pub combat_max_ms: f64,
    pub combat_allocations_per_tick: f64,
    pub p99_ratio: f64,
    pub combat_avg_visible: f64,
    /// Per measured tick in the combat zone.
    pub hits_per_tick: f64,
    pub skills_per_tick: f64,
    pub refusals_per_tick: f64,
    pub player_deaths: u64,
    pub monsters_killed: u64,
    pub combat_corrections: u64,
    /// At the end: fighters auto-attacking a monster, and monsters below
    /// full health (so all of them are in the fight).
    pub fighters_attacking: usize,
    pub monsters_hurt: usize,
    /// Bytes per second per fighter's client (framing included).
    pub fighter_bytes_per_s: f64,
}

#[derive(Debug, Serialize)]
pub(crate) struct FightBandwidthRow {
    pub scenario: &'static str,
    pub players: usize,
    pub monsters: usize,
    pub ticks: usize,
    pub avg_visible: f64,
    pub hits_per_tick: f64,
    pub events_per_client_tick: f64,
    pub ours_bytes_per_s: f64,
    pub json_bytes_per_s: f64,
    pub postcard_naive_bytes_per_s: f64,
}

/// The sample content plus the bench monster, `groups` of it on "bench".
fn bench_content(groups: Vec<(u32, u32, u16)>, passive: bool) -> (Content, MonsterKindId) {
    let mut content = Content::sample();
    let skill = |name: &str| {
        content
            .skills
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
            .unwrap_or_else(|| panic!("the sample content has {name}"))
    };
    let skills = vec![skill("bite"), skill("swipe")];
    let id = MonsterKindId(content.monsters.len() as u16);
    content.monsters.push(MonsterKind {
        id,
        name: "bench_brute".into(),
        level: 10,
        health: std::env::var("BENCH_MONSTER_HEALTH")
            .ok()
            .and_then(|h| h.parse().ok())
            .unwrap_or(20_000),
        power: 4,
        armor: 20,
        speed: Fixed::from_int(4),
        aggro_radius: Fixed::from_int(if passive { 0 } else { 6 }),
        leash: Fixed::from_int(25),
        skills,
        experience: 100,
        // The bench measures fighting: its monster drops nothing.
        loot: Vec::new(),
        gold: (0, 0),
    });
    content.maps.insert(
        "bench".into(),
        MapContent {
            respawn: (2, 2),
            groups: groups
                .into_iter()
                .map(|(x, y, count)| SpawnGroup {
                    monster: id,
                    cell: (x, y),
                    count,
                    radius_cells: 2,
                    respawn_ms: 2_000,
                })
                .collect(),
        },
    );
    (content, id)
}

/// A zone with monsters in groups and a fighter beside each monster
/// (`crowd.ids[..fighters]`, fighter k beside monster k), plus walkers.
struct Fight {
    crowd: Crowd,
    content: Arc<Content>,
    look: MonsterKindId,
    fighters: usize,
    /// Whether the entity with id `i + 1` is a player.
    is_player: Vec<bool>,
    targets: Vec<Option<EntityId>>,
    /// The skills fighters use when ready, with their places in the skillbook.
    rotation: Vec<(usize, SkillId)>,
    mend: (usize, SkillId),
    refusals: u64,
    /// Monsters that never aggro and players who never fight: the same
    /// crowd without combat.
    passive: bool,
    /// Fighters circle their monster while they fight (movement and combat
    /// together on the wire).
    strafe: bool,
}

impl Fight {
    /// `groups` spawn groups of [`GROUP`] (x, y cell, count), on a map of
    /// `side_m`, then `walkers` walkers.
    fn new(side_m: i32, groups: Vec<(u32, u32, u16)>, walkers: usize, passive: bool) -> Self {
        let (content, look) = bench_content(groups, passive);
        let content = Arc::new(content);
        let monsters_n: usize = content.maps["bench"]
            .groups
            .iter()
            .map(|g| g.count as usize)
            .sum();
        let zone = open_zone(side_m, monsters_n + walkers, Arc::clone(&content));
        let monsters: Vec<(EntityId, Vec2)> = zone
            .entities()
            .filter(|(_, kind, _)| *kind == EntityKind::Monster)
            .map(|(id, _, pos)| (id, pos))
            .collect();
        assert_eq!(monsters.len(), monsters_n, "every monster placed");
        // Each fighter 1.5 m from its monster, on one of eight sides.
        let sides = [
            (384, 0),
            (0, 384),
            (-384, 0),
            (0, -384),
            (271, 271),
            (-271, 271),
            (271, -271),
            (-271, -271),
        ];
        let placed: Vec<Vec2> = monsters
            .iter()
            .enumerate()
            .map(|(k, &(_, p))| {
                let (dx, dy) = sides[k % sides.len()];
                p + Vec2::new(Fixed::from_raw(dx), Fixed::from_raw(dy))
            })
            .collect();
        let crowd = Crowd::populate(zone, side_m, &placed, walkers);
        let mut fight = Fight {
            fighters: placed.len(),
            targets: monsters.iter().map(|&(id, _)| Some(id)).collect(),
            is_player: Vec::new(),
            rotation: Vec::new(),
            mend: (0, SkillId(0)),
            content,
            look,
            crowd,
            refusals: 0,
            passive,
            strafe: false,
        };
        let zone = &mut fight.crowd.zone;
        for &id in &fight.crowd.ids {
            zone.set_experience(id, LEVEL_10_XP);
            let i = (id.0 - 1) as usize;
            if fight.is_player.len() <= i {
                fight.is_player.resize(i + 1, false);
            }
            fight.is_player[i] = true;
        }
        let book = &fight.content.player.skills;
        let place = |name: &str| {
            book.iter()
                .position(|&s| fight.content.skill(s).is_some_and(|d| d.name == name))
                .map(|p| (p, book[p]))
                .unwrap_or_else(|| panic!("players have {name}"))
        };
        fight.rotation = [
            "hammer",
            "frost_shot",
            "ignite",
            "cleave",
            "whirlwind",
            "firebolt",
        ]
        .iter()
        .map(|n| place(n))
        .collect();
        fight.mend = place("mend");
        fight
    }

    fn is_player(&self, e: EntityId) -> bool {
        self.is_player
            .get((e.0 - 1) as usize)
            .copied()
            .unwrap_or(false)
    }

    /// The nearest live monster `me` sees.
    fn nearest_monster(&self, me: EntityId, at: Vec2) -> Option<EntityId> {
        let zone = &self.crowd.zone;
        zone.visible(me)
            .filter(|&v| !self.is_player(v))
            .filter(|&v| zone.fighter_of(v).is_some_and(|f| !f.is_dead()))
            .filter_map(|v| zone.position(v).map(|p| (at.distance_squared_raw(p), v)))
            .min()
            .map(|(_, v)| v)
    }

    /// One frame of every fighter's client, after `crowd.queue_moves` (which
    /// advanced the clock and the input sequence).
    fn queue(&mut self) {
        let next = self.crowd.zone.tick().0 + 1;
        if self.passive {
            return;
        }
        for k in 0..self.fighters {
            if next < 1 + (k as u64 * 7) % STAGGER {
                continue;
            }
            let me = self.crowd.ids[k];
            let zone = &self.crowd.zone;
            let (Some(f), Some(at)) = (zone.fighter_of(me), zone.position(me)) else {
                continue;
            };
            if f.is_dead() {
                continue;
            }
            let valid = self.targets[k]
                .and_then(|t| zone.fighter_of(t))
                .is_some_and(|t| !t.is_dead());
            if !valid {
                self.targets[k] = self.nearest_monster(me, at);
            }
            let zone = &self.crowd.zone;
            let Some(target) = self.targets[k] else {
                continue;
            };
            let Some(there) = zone.position(target) else {
                continue;
            };
            let (dx, dy) = (
                (there.x.raw() - at.x.raw()) as i64,
                (there.y.raw() - at.y.raw()) as i64,
            );
            let len = ((dx * dx + dy * dy) as u64).isqrt().max(1) as i64;
            let far = !at.within(there, Fixed::from_raw(640));
            // Out of melee reach: step towards it (no skills while moving).
            // Strafing: circle it at 2 m/s while fighting.
            let step = if far {
                Some((dx, dy, (STEP_RAW as i64).min(len - 2 * 256).max(0)))
            } else if self.strafe {
                Some((-dy, dx, STRAFE_RAW))
            } else {
                None
            };
            if let Some((ux, uy, step)) = step {
                let to = Vec2::new(
                    Fixed::from_raw(at.x.raw() + (ux * step / len) as i32),
                    Fixed::from_raw(at.y.raw() + (uy * step / len) as i32),
                );
                let input = MoveInput {
                    seq: self.crowd.seq,
                    epoch: zone.epoch_of(me).unwrap_or(0),
                    client_time_us: self.crowd.now.as_micros(),
                    pos: to,
                    vel: Vec2::ZERO,
                };
                let now = self.crowd.now;
                self.crowd.zone.queue_move(me, now, input);
            }
            if far {
                continue;
            }
            let zone = &self.crowd.zone;
            let f = zone.fighter_of(me).expect("checked");
            let mut requests: [Option<ClientCombat>; 2] = [None, None];
            if f.auto_target != Some(target) {
                requests[0] = Some(ClientCombat::Attack { target });
            }
            if f.cast.is_none() && f.global_ready.0 <= next {
                let ready = |(place, skill): (usize, SkillId)| {
                    let def = self.content.skill(skill)?;
                    (f.ready[place].0 <= next
                        && f.mana >= def.mana
                        && (def.range == Fixed::ZERO || at.within(there, def.range)))
                    .then_some(skill)
                };
                let use_skill = if f.health * 2 < f.max_health {
                    ready(self.mend).map(|s| (s, None))
                } else {
                    self.rotation
                        .iter()
                        .find_map(|&r| ready(r))
                        .map(|s| (s, Some(target)))
                };
                if let Some((skill, target)) = use_skill {
                    requests[1] = Some(ClientCombat::UseSkill {
                        skill: skill.0,
                        target,
                    });
                }
            }
            for r in requests.into_iter().flatten() {
                self.crowd.zone.queue_combat(me, r, DELAY);
            }
        }
    }

    /// After a tick: what the node would take (refusals, progress).
    fn drain(&mut self) {
        self.refusals += self.crowd.zone.take_refusals().count() as u64;
        self.crowd.zone.take_progress().for_each(drop);
    }

    fn frame(&mut self) {
        self.crowd.queue_moves(true);
        self.queue();
    }
}

/// Spawn groups of [`GROUP`] on a lattice over a map of `side_m`, `monsters`
/// in all.
fn lattice(side_m: i32, monsters: usize) -> Vec<(u32, u32, u16)> {
    let groups = monsters.div_ceil(GROUP as usize);
    let per_row = (groups as f64).sqrt().ceil() as u32;
    let cells = (side_m / 2) as u32;
    let step = cells / (per_row + 1);
    (0..groups as u32)
        .map(|g| {
            let count = (monsters - g as usize * GROUP as usize).min(GROUP as usize) as u16;
            ((g % per_row + 1) * step, (g / per_row + 1) * step, count)
        })
        .collect()
}

/// One measured tick: (microseconds, allocations).
fn timed(crowd: &mut Crowd, bytes: &mut u64) -> (u64, u64) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = std::time::Instant::now();
    MEASURING.store(true, Ordering::Relaxed);
    measured_tick(crowd, bytes);
    MEASURING.store(false, Ordering::Relaxed);
    let us = start.elapsed().as_micros() as u64;
    (us, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

/// The combat zone of `n` entities (`monsters` of them monsters, as many
/// players fighting them, the rest walking) beside the movement-only zone of
/// `n` walkers, ticks interleaved.
pub(crate) fn bench_combat_tick(
    n: usize,
    monsters: usize,
    ticks: usize,
    warmup: usize,
) -> CombatTickRow {
    let side_m = side_for(n);
    let mut walkers = Crowd::new(n);
    let mut fight = Fight::new(side_m, lattice(side_m, monsters), n - 2 * monsters, false);
    let mut calm = Fight::new(side_m, lattice(side_m, monsters), n - 2 * monsters, true);
    assert_eq!(fight.crowd.zone.entity_count(), n);
    let mut bytes = 0;
    for _ in 0..warmup {
        walkers.queue_moves(true);
        walkers.tick(&mut bytes);
        for f in [&mut calm, &mut fight] {
            f.frame();
            f.crowd.tick(&mut bytes);
            f.drain();
        }
    }
    let before = fight.crowd.zone.stats().clone();
    let refusals_before = fight.refusals;
    let (mut walk_us, mut calm_us, mut fight_us) = (Vec::new(), Vec::new(), Vec::new());
    let (mut walk_allocs, mut calm_allocs, mut fight_allocs) = (0, 0, 0);
    let mut fighter_bytes = 0u64;
    let fighter_players = fight.fighters as u64;
    for t in 0..ticks {
        walkers.queue_moves(true);
        calm.frame();
        fight.frame();
        // Rotate which goes first, so none always runs on a warm cache.
        for z in 0..3 {
            let (crowd, us, allocs) = match (t + z) % 3 {
                0 => (&mut walkers, &mut walk_us, &mut walk_allocs),
                1 => (&mut calm.crowd, &mut calm_us, &mut calm_allocs),
                _ => (&mut fight.crowd, &mut fight_us, &mut fight_allocs),
            };
            let (took, a) = timed(crowd, &mut bytes);
            us.push(took);
            *allocs += a;
        }
        fighter_bytes += fight
            .crowd
            .zone
            .replies()
            .iter()
            .filter(|(p, _)| p.0 <= fighter_players)
            .map(|(_, f)| f.len() as u64)
            .sum::<u64>();
        calm.drain();
        fight.drain();
    }
    if std::env::var_os("BENCH_SERIES").is_some() {
        eprintln!("series movement {walk_us:?}");
        eprintln!("series calm {calm_us:?}");
        eprintln!("series combat {fight_us:?}");
    }
    let stats = fight.crowd.zone.stats();
    let per_tick = |a: u64, b: u64| (a - b) as f64 / ticks as f64;
    let wp = Percentiles::of(&mut walk_us);
    let fp = Percentiles::of(&mut fight_us);
    let cp = Percentiles::of(&mut calm_us);
    let fighters = fight.fighters;
    let visible: usize = fight
        .crowd
        .ids
        .iter()
        .map(|&id| fight.crowd.zone.visible(id).len())
        .sum();
    let zone = &fight.crowd.zone;
    let fighters_attacking = fight.crowd.ids[..fighters]
        .iter()
        .filter(|&&id| zone.fighter_of(id).is_some_and(|f| f.auto_target.is_some()))
        .count();
    let monsters_hurt = zone
        .entities()
        .filter(|(_, kind, _)| *kind == EntityKind::Monster)
        .filter(|&(id, _, _)| zone.fighter_of(id).is_some_and(|f| f.health < f.max_health))
        .count();
    CombatTickRow {
        fighters_attacking,
        monsters_hurt,
        entities: n,
        monsters,
        fighters,
        ticks,
        warmup,
        movement_p50_ms: wp.p50_ms,
        movement_p99_ms: wp.p99_ms,
        movement_max_ms: wp.max_ms,
        movement_allocations_per_tick: walk_allocs as f64 / ticks as f64,
        calm_p50_ms: cp.p50_ms,
        calm_p99_ms: cp.p99_ms,
        calm_max_ms: cp.max_ms,
        calm_allocations_per_tick: calm_allocs as f64 / ticks as f64,
        combat_p50_ms: fp.p50_ms,
        combat_p99_ms: fp.p99_ms,
        combat_max_ms: fp.max_ms,
        combat_allocations_per_tick: fight_allocs as f64 / ticks as f64,
        p99_ratio: fp.p99_ms / wp.p99_ms.max(1e-9),
        combat_avg_visible: visible as f64 / fight.crowd.ids.len() as f64,
        hits_per_tick: per_tick(stats.hits, before.hits),
        skills_per_tick: per_tick(stats.skills_used, before.skills_used),
        refusals_per_tick: per_tick(fight.refusals, refusals_before),
        player_deaths: stats.player_deaths,
        monsters_killed: stats.monsters_killed,
        combat_corrections: stats.corrections.values().sum(),
        fighter_bytes_per_s: fighter_bytes as f64
            / (fighters as f64 * ticks as f64 * TICK.as_micros() as f64 / 1e6),
    }
}

/// The fight of `players` players and as many monsters in one spot: bytes
/// per client per second, ours beside the naive full state every tick.
pub(crate) fn bench_fight_bandwidth(pairs: u16, ticks: usize, strafe: bool) -> FightBandwidthRow {
    let side_m = 120;
    let mut fight = Fight::new(side_m, vec![(30, 30, pairs)], 0, false);
    fight.strafe = strafe;
    let look = fight.look;
    for _ in 0..(STAGGER as usize + 60) {
        fight.frame();
        fight.crowd.tick(&mut 0);
        fight.drain();
    }
    let hits_before = fight.crowd.zone.stats().hits;
    let (mut ours, mut json, mut naive) = (0u64, 0u64, 0u64);
    let (mut visible, mut events) = (0usize, 0usize);
    let clients = fight.crowd.ids.len();
    for _ in 0..ticks {
        fight.frame();
        let now = fight.crowd.now;
        fight.crowd.zone.run_tick(now);
        let zone = &fight.crowd.zone;
        let mut sent: Vec<Option<WorldUpdate>> = vec![None; clients];
        for (player, frame) in zone.replies().iter() {
            ours += frame.len() as u64;
            if let Ok(ServerMsg::World(ServerWorld::WorldUpdate(u))) =
                ServerMsg::decode(&frame[FRAME_HEADER_LEN..])
            {
                sent[(player.0 - 1) as usize] = Some(u);
            }
        }
        for (k, &me) in fight.crowd.ids.iter().enumerate() {
            // The naive server: every visible entity's full state, every
            // tick, with the same news about the client's own character.
            let mut u = sent[k].take().unwrap_or_else(|| WorldUpdate {
                tick: zone.tick(),
                server_time_us: now.as_micros(),
                ..WorldUpdate::default()
            });
            events += u.events.len();
            u.updates.clear();
            u.spawns = zone
                .visible(me)
                .filter_map(|v| {
                    let f = zone.fighter_of(v);
                    let player = fight.is_player(v);
                    Some(Spawn {
                        entity: v,
                        kind: match (player, f.is_some()) {
                            (true, _) => EntityKind::Player,
                            (false, true) => EntityKind::Monster,
                            (false, false) => EntityKind::Npc,
                        },
                        pos: QPos::from_pos(zone.position(v)?),
                        look: if player || f.is_none() { 0 } else { look.0 },
                        level: f.map_or(1, |f| f.level),
                        health: f.map_or(255, |f| f.health_fraction()),
                    })
                })
                .collect();
            visible += u.spawns.len();
            json += (serde_json::to_vec(&u).map_or(0, |v| v.len()) + FRAME_HEADER_LEN) as u64;
            naive += (postcard::to_allocvec(&u).map_or(0, |v| v.len()) + FRAME_HEADER_LEN) as u64;
        }
        fight.drain();
    }
    let client_seconds = clients as f64 * ticks as f64 * TICK.as_micros() as f64 / 1e6;
    let per_client_tick = (clients * ticks) as f64;
    FightBandwidthRow {
        scenario: if strafe {
            "fight, strafing 2 m/s"
        } else {
            "fight, standing"
        },
        players: clients,
        monsters: pairs as usize,
        ticks,
        avg_visible: visible as f64 / per_client_tick,
        hits_per_tick: (fight.crowd.zone.stats().hits - hits_before) as f64 / ticks as f64,
        events_per_client_tick: events as f64 / per_client_tick,
        ours_bytes_per_s: ours as f64 / client_seconds,
        json_bytes_per_s: json as f64 / client_seconds,
        postcard_naive_bytes_per_s: naive as f64 / client_seconds,
    }
}

pub(crate) fn print(tick: Option<&CombatTickRow>, bytes: &[FightBandwidthRow]) {
    if let Some(r) = tick {
        println!();
        println!(
            "combat zone tick: {} entities, {} monsters fighting {} players, {} walking; \
             beside movement-only ({} walking), ticks interleaved, one core",
            r.entities,
            r.monsters,
            r.fighters,
            r.entities - r.monsters - r.fighters,
            r.entities
        );
        println!(
            "{:<15} {:>8} {:>8} {:>8} {:>12} {:>9} {:>10} {:>12} {:>6}",
            "zone",
            "p50 ms",
            "p99 ms",
            "max ms",
            "allocs/tick",
            "hits/tick",
            "skills/tick",
            "refused/tick",
            "corr"
        );
        println!(
            "{:<15} {:>8.2} {:>8.2} {:>8.2} {:>12.2} {:>9} {:>10} {:>12} {:>6}",
            "movement-only",
            r.movement_p50_ms,
            r.movement_p99_ms,
            r.movement_max_ms,
            r.movement_allocations_per_tick,
            "-",
            "-",
            "-",
            "-"
        );
        println!(
            "{:<15} {:>8.2} {:>8.2} {:>8.2} {:>12.2} {:>9} {:>10} {:>12} {:>6}",
            "same, no combat",
            r.calm_p50_ms,
            r.calm_p99_ms,
            r.calm_max_ms,
            r.calm_allocations_per_tick,
            "-",
            "-",
            "-",
            "-"
        );
        println!(
            "{:<15} {:>8.2} {:>8.2} {:>8.2} {:>12.2} {:>9.1} {:>10.1} {:>12.1} {:>6}",
            "combat",
            r.combat_p50_ms,
            r.combat_p99_ms,
            r.combat_max_ms,
            r.combat_allocations_per_tick,
            r.hits_per_tick,
            r.skills_per_tick,
            r.refusals_per_tick,
            r.combat_corrections
        );
        let met = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "p99 combat / movement-only: {:.2}x (target at most 1.5x: {}); combat / same \
             crowd without combat: {:.2}x; allocations per steady combat tick: {:.2} \
             (target 0: {}); {} ticks after {} of warm-up; \
             {:.1} in view; {} fighters attacking, {} monsters hurt; player deaths {}, \
             monsters killed {}; a fighter's client {:.0} B/s",
            r.p99_ratio,
            met(r.p99_ratio <= 1.5),
            r.combat_p99_ms / r.calm_p99_ms.max(1e-9),
            r.combat_allocations_per_tick,
            met(r.combat_allocations_per_tick == 0.0),
            r.ticks,
            r.warmup,
            r.combat_avg_visible,
            r.fighters_attacking,
            r.monsters_hurt,
            r.player_deaths,
            r.monsters_killed,
            r.fighter_bytes_per_s
        );
    }
    if let Some(r) = bytes.first() {
        println!();
        println!(
            "bytes per second per client in a fight ({} players, {} monsters in one spot, \
             all fighting), framing included",
            r.players, r.monsters
        );
        println!(
            "{:<22} {:>8} {:>10} {:>10} {:>15} {:>10} {:>10}",
            "scenario", "visible", "ours", "json", "postcard naive", "vs json", "events"
        );
    }
    for r in bytes {
        println!(
            "{:<22} {:>8.1} {:>10.0} {:>10.0} {:>15.0} {:>9.1}x {:>10.1}",
            r.scenario,
            r.avg_visible,
            r.ours_bytes_per_s,
            r.json_bytes_per_s,
            r.postcard_naive_bytes_per_s,
            r.json_bytes_per_s / r.ours_bytes_per_s.max(1.0),
            r.events_per_client_tick
        );
    }
    for r in bytes {
        println!(
            "{}: ours at most 8 KB/s (8,192 B/s): {}; {:.1} hits per tick in the fight, \
             {:.1} events per client per tick",
            r.scenario,
            if r.ours_bytes_per_s <= 8192.0 {
                "met"
            } else {
                "MISSED"
            },
            r.hits_per_tick,
            r.events_per_client_tick
        );
    }
}
