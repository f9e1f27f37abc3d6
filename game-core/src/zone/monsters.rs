//! Tick phase 3, monsters: each spawn group's members come back when their
//! respawn time is up, and every live monster's brain takes its step, in
//! member order.
//!
//! A brain is idle (wandering near home, and every few ticks looking for a
//! player in sight within its aggro radius), chasing (its target is the top
//! of its threat table; it uses the first of its skills that is ready and in
//! reach, else closes in along the walkability grid) or returning (pulled
//! farther than its leash from home, or with nobody left to fight: it walks
//! home, ignores everyone, and is restored when it gets there).
//!
//! Owns spawn-group members and monster decisions. May not judge a skill
//! (it asks `combat.rs`, as a player's request does) nor touch players.

use super::npc::Wanderer;
use super::Zone;
use crate::combat::{Fighter, ThreatTable, MAX_THREAT_ENTRIES};
use crate::content::{Content, MonsterKindId, SkillId};
use crate::ids::EntityId;
use crate::math::{Fixed, Vec2};
use crate::protocol::EntityKind;
use crate::time::Tick;
use rand_core::RngCore;
use std::sync::Arc;

/// An idle monster looks for players every this many ticks (staggered by
/// member), not every tick: aggro scans are the brain's dearest step.
const AGGRO_SCAN_TICKS: u64 = 4;
/// Home is reached within this distance (1/2 m).
const HOME_SLACK: Fixed = Fixed::from_raw(128);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Brain {
    Idle,
    Chase,
    Return,
}

/// One place of a spawn group: the monster standing there now, if any, and
/// what it remembers across its lives (kept, so a respawn allocates nothing).
#[derive(Debug)]
pub(super) struct Member {
    pub(super) kind: MonsterKindId,
    pub(super) home: Vec2,
    pub(super) entity: Option<EntityId>,
    pub(super) respawn_at: Option<Tick>,
    pub(super) respawn_ticks: u64,
    pub(super) brain: Brain,
    pub(super) threat: ThreatTable,
    wander: Wanderer,
    /// The waypoint a path search gave, and until when to follow it before
    /// searching again: a search cost 15-22 us on meadow with 256 nodes
    /// (10,000 searches timed once, 2026-12-06), so a chaser behind a
    /// wall searches every [`REPATH_TICKS`], not every tick.
    waypoint: Option<(Vec2, Tick)>,
}

/// Ticks a monster follows one path search's waypoint before searching again.
const REPATH_TICKS: u64 = 10;

impl Zone {
    /// Places the map's spawn groups (members on walkable cells around each
    /// group's centre, drawn from the zone's stream) and spawns them.
    pub(super) fn place_monsters(&mut self) {
        let content = Arc::clone(&self.content);
        let Some(groups) = content.map(self.map.name()) else {
            return;
        };
        for g in &groups.groups {
            for _ in 0..g.count {
                let centre = self.map.cell_center(g.cell);
                let r = g.radius_cells as i64;
                let mut home = centre;
                for _ in 0..8 {
                    let span = (2 * r + 1) as u32;
                    let dx = (self.rng.next_u32() % span) as i64 - r;
                    let dy = (self.rng.next_u32() % span) as i64 - r;
                    let (cx, cy) = (g.cell.0 as i64 + dx, g.cell.1 as i64 + dy);
                    if cx < 0 || cy < 0 {
                        continue;
                    }
                    let spot = self.map.cell_center((cx as u32, cy as u32));
                    if self.map.is_walkable(spot) && self.map.segment_walkable(centre, spot) {
                        home = spot;
                        break;
                    }
                }
                let mut threat = ThreatTable::default();
                threat.reserve(MAX_THREAT_ENTRIES);
                self.members.push(Member {
                    kind: g.monster,
                    home,
                    entity: None,
                    respawn_at: None,
                    respawn_ticks: crate::combat::formulas::ticks(g.respawn_ms, self.tick_period),
                    brain: Brain::Idle,
                    threat,
                    wander: Wanderer::new(home),
                    waypoint: None,
                });
            }
        }
        for m in 0..self.members.len() {
            self.spawn_member(&content, m);
        }
    }

    /// A monster of `kind` at `home` that never respawns (a raid's boss or
    /// add), spawned at once; returns its member.
    pub(super) fn add_member(&mut self, kind: MonsterKindId, home: Vec2) -> usize {
        let mut threat = ThreatTable::default();
        threat.reserve(MAX_THREAT_ENTRIES);
        self.members.push(Member {
            kind,
            home,
            entity: None,
            respawn_at: None,
            respawn_ticks: super::encounter::NEVER_TICKS,
            brain: Brain::Idle,
            threat,
            wander: Wanderer::new(home),
            waypoint: None,
        });
        let m = self.members.len() - 1;
        let content = Arc::clone(&self.content);
        self.spawn_member(&content, m);
        m
    }

    fn spawn_member(&mut self, content: &Content, m: usize) {
        let member = &self.members[m];
        let Some(kind) = content.monster(member.kind) else {
            return;
        };
        let home = member.home;
        let id = self.insert(EntityKind::Monster, home, None, None);
        let slot = (id.0 - 1) as u32;
        let tick = self.tick;
        if let Some(e) = self.slots[slot as usize].as_mut() {
            e.monster = Some(m as u32);
            e.fighter = Some(Fighter::monster(
                kind.level,
                kind.health,
                kind.power,
                kind.armor,
            ));
            e.since = tick;
        }
        self.replicas.set_look(slot, kind.id.0, kind.level);
        let member = &mut self.members[m];
        member.entity = Some(id);
        member.respawn_at = None;
        member.brain = Brain::Idle;
        member.threat.clear();
        member.wander = Wanderer::new(home);
        member.waypoint = None;
    }

    /// The monster phase: respawns due, then every live monster's brain.
    pub(super) fn step_monsters(&mut self) {
        let content = Arc::clone(&self.content);
        for m in 0..self.members.len() {
            let member = &self.members[m];
            let slot = member.entity.and_then(|e| self.slot_of(e));
            if slot.is_none() {
                self.members[m].entity = None;
                if self.members[m].respawn_at.is_some_and(|t| t <= self.tick) {
                    self.spawn_member(&content, m);
                }
                continue;
            }
            let slot = slot.expect("checked");
            let Some(f) = self.fighter(slot) else {
                continue;
            };
            if f.is_dead() || f.is_stunned() {
                continue;
            }
            let speed_pct = f.speed_pct();
            let casting = f.cast.is_some();
            let Some(kind) = content.monster(self.members[m].kind) else {
                continue;
            };
            let step = Fixed::from_raw(
                (kind.speed.raw() as i64 * speed_pct as i64 / 100
                    * self.tick_period.as_micros() as i64
                    / 1_000_000) as i32,
            );
            match self.members[m].brain {
                Brain::Idle => self.idle(m, slot, kind.aggro_radius, step),
                Brain::Chase => {
                    self.chase(&content, m, slot, kind.leash, &kind.skills, step, casting)
                }
                Brain::Return => self.go_home(m, slot, step),
            }
        }
    }

    fn idle(&mut self, m: usize, slot: u32, aggro: Fixed, step: Fixed) {
        let id = EntityId(slot as u64 + 1);
        let pos = self.bodies[slot as usize].pos;
        if (self.tick.0 + m as u64) % AGGRO_SCAN_TICKS == 0 {
            let mut best: Option<(u64, EntityId)> = None;
            for t in self.aoi.visible_tagged(id) {
                let s = t.id().0 as usize - 1;
                let Some(e) = self.slots[s].as_ref() else {
                    continue;
                };
                let alive = e.fighter.as_ref().is_some_and(|f| !f.is_dead());
                let p = self.bodies[s].pos;
                if e.player.is_none() || !alive || !pos.within(p, aggro) {
                    continue;
                }
                let d = pos.distance_squared_raw(p);
                if best.is_none_or(|(bd, _)| d < bd) && self.map.segment_walkable(pos, p) {
                    best = Some((d, t.id()));
                }
            }
            if let Some((_, target)) = best {
                let member = &mut self.members[m];
                member.threat.add(target, 1, 0);
                member.brain = Brain::Chase;
                return;
            }
        }
        let Zone {
            members,
            rng,
            map,
            bodies,
            aoi,
            ..
        } = self;
        if let Some(next) = members[m]
            .wander
            .step(rng, map, pos, Fixed::from_raw(step.raw() / 2))
        {
            bodies[slot as usize].pos = next;
            aoi.move_to(id, next);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn chase(
        &mut self,
        content: &Content,
        m: usize,
        slot: u32,
        leash: Fixed,
        skills: &[SkillId],
        step: Fixed,
        casting: bool,
    ) {
        let pos = self.bodies[slot as usize].pos;
        // The top of the table, once those gone or dead are dropped.
        let target = loop {
            let Some(t) = self.members[m].threat.top() else {
                break None;
            };
            let alive = self
                .slot_of(t)
                .filter(|&s| self.is_player(s))
                .and_then(|s| self.fighter(s))
                .is_some_and(|f| !f.is_dead());
            if alive {
                break Some(t);
            }
            self.members[m].threat.remove(t);
        };
        let home = self.members[m].home;
        let (Some(target), true) = (target, home.within(pos, leash)) else {
            self.members[m].threat.clear();
            self.members[m].brain = Brain::Return;
            if let Some(f) = self.fighter_mut(slot) {
                f.cast = None;
            }
            return;
        };
        if casting {
            return;
        }
        let t_slot = (target.0 - 1) as u32;
        let t_pos = self.bodies[t_slot as usize].pos;
        let tick = self.tick;
        let mut reach = Fixed::ZERO;
        for (place, &skill) in skills.iter().enumerate() {
            let Some(def) = content.skill(skill) else {
                continue;
            };
            if place == 0 {
                reach = def.range;
            }
            let ready = self
                .fighter(slot)
                .is_some_and(|f| place < f.ready.len() && f.ready[place] <= tick);
            if ready
                && pos.within(t_pos, def.range)
                && self
                    .use_skill(content, slot, skill, Some(target), 0)
                    .is_ok()
            {
                return;
            }
        }
        // Close in to within most of the basic attack's reach.
        let close = Fixed::from_raw(reach.raw() * 3 / 4);
        if !pos.within(t_pos, close) {
            self.walk_towards(m, slot, t_pos, step);
        }
    }

    fn go_home(&mut self, m: usize, slot: u32, step: Fixed) {
        let pos = self.bodies[slot as usize].pos;
        let home = self.members[m].home;
        if pos.within(home, HOME_SLACK) {
            if let Some(f) = self.fighter_mut(slot) {
                f.restore();
            }
            let member = &mut self.members[m];
            member.brain = Brain::Idle;
            member.threat.clear();
            member.wander = Wanderer::new(home);
            return;
        }
        self.walk_towards(m, slot, home, step);
    }

    /// Moves the monster of member `m` in `slot` up to `step` towards `goal`
    /// along the walkability grid.
    fn walk_towards(&mut self, m: usize, slot: u32, goal: Vec2, step: Fixed) {
        let pos = self.bodies[slot as usize].pos;
        let next = self.next_step(m, pos, goal, step);
        if next != pos {
            self.bodies[slot as usize].pos = next;
            self.aoi.move_to(EntityId(slot as u64 + 1), next);
        }
    }

    /// Where member `m`'s monster at `pos` goes this tick on its way to
    /// `goal`: straight when the way is clear, else towards the waypoint of a
    /// bounded path search (kept for a while, while it stays in sight).
    fn next_step(&mut self, m: usize, pos: Vec2, goal: Vec2, step: Fixed) -> Vec2 {
        let tick = self.tick;
        let waypoint = if self.map.segment_walkable(pos, goal) {
            self.members[m].waypoint = None;
            goal
        } else {
            match self.members[m].waypoint {
                Some((w, until))
                    if until > tick && w != pos && self.map.segment_walkable(pos, w) =>
                {
                    w
                }
                _ => {
                    let w = self.path_waypoint(pos, goal).unwrap_or(pos);
                    self.members[m].waypoint = Some((w, Tick(tick.0 + REPATH_TICKS)));
                    w
                }
            }
        };
        let next = super::path::step_toward(pos, waypoint, step);
        if self.map.segment_walkable(pos, next) {
            next
        } else {
            pos
        }
    }

    /// Drops a departed player from every monster's threat table (its id may
    /// be reused by the next arrival).
    pub(super) fn forget_in_threat(&mut self, entity: EntityId) {
        for member in &mut self.members {
            member.threat.remove(entity);
        }
    }
}

impl Zone {
    /// The first waypoint of a bounded path search from `pos` to `goal`
    /// (towards the nearest point found when the goal is out of reach).
    fn path_waypoint(&mut self, pos: Vec2, goal: Vec2) -> Option<Vec2> {
        let mut out = std::mem::take(&mut self.path_out);
        out.clear();
        let result = super::path::find_path(
            &self.map,
            pos,
            goal,
            self.config.path_nodes,
            &mut self.path_scratch,
            &mut out,
        );
        let first = match result {
            super::path::PathResult::Blocked => None,
            _ => out.first().copied(),
        };
        self.path_out = out;
        first
    }
}
