//! The fighter: an honest player hunting monsters. It walks to the nearest
//! live monster it sees (or to a hunting ground it knows of), auto-attacks
//! it, uses its skillbook's skills when its own bookkeeping says they are
//! ready, heals itself when low, stands still while casting, waits while
//! dead, and keeps at it to level up.
//!
//! Its bookkeeping: one skill request in flight at a time. A request is
//! settled by what the server says about it: `CastStarted` (the global
//! cooldown started), `CastEnded{completed}` (the skill's cooldown started),
//! an instant skill's `Hit` by us (both started), or a `SkillRefused`
//! (nothing started). A request nobody answered (an instant skill that
//! reached no one, or an event past the per-entity bound) is settled after
//! [`UNANSWERED`] as if it had been used then. Cooldowns count from when
//! the client heard of the use, which is never before the server applied
//! it: a request sent once that cooldown is over is never early.

use super::{toward, Atlas, Wander};
use game_core::client::{Client, ClientEvent};
use game_core::ids::EntityId;
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{CombatEvent, EntityKind, SkillInfo, SkillRefusal};
use game_core::time::{Duration, Instant};
use serde::Serialize;
use std::collections::BTreeMap;

/// A request with no answer this long is taken as used.
const UNANSWERED: Duration = Duration::from_secs(2);
/// Added to every cooldown: tick rounding and a little more.
const MARGIN: Duration = Duration::from_millis(100);
/// Health below this percent: heal.
const HEAL_BELOW_PCT: u32 = 50;
/// How near the fighter walks to its target (the auto-attack reaches 3 m).
const MELEE: Fixed = Fixed::from_raw(2 * 256);
/// Monsters more than this many levels above the fighter are left alone.
const LEVELS_ABOVE: u16 = 3;
/// Re-sends `Attack` this often while the target stays the same (the server
/// ends an auto-attack silently when its target leaves view for a moment).
const ATTACK_AGAIN: Duration = Duration::from_secs(3);

/// What a fighter did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FightTally {
    pub kills: u64,
    pub deaths: u64,
    pub levels_gained: u64,
    pub experience: u64,
    /// Hits it dealt or healed (its own events; pulses too).
    pub hits: u64,
    /// Skill requests sent (not counting `Attack`).
    pub skills_sent: u64,
    pub attacks_sent: u64,
    /// Refusals by [`SkillRefusal::label`].
    pub refusals: BTreeMap<&'static str, u64>,
}

impl FightTally {
    pub fn add(&mut self, o: &FightTally) {
        self.kills += o.kills;
        self.deaths += o.deaths;
        self.levels_gained += o.levels_gained;
        self.experience += o.experience;
        self.hits += o.hits;
        self.skills_sent += o.skills_sent;
        self.attacks_sent += o.attacks_sent;
        for (k, v) in &o.refusals {
            *self.refusals.entry(k).or_default() += v;
        }
    }

    pub fn refused(&self) -> u64 {
        self.refusals.values().sum()
    }

    pub(super) fn refusal(&mut self, reason: SkillRefusal) {
        *self.refusals.entry(reason.label()).or_default() += 1;
    }

    /// Counts what an event says about `me`'s doings.
    pub(super) fn note(&mut self, me: Option<EntityId>, e: &ClientEvent) {
        let Some(me) = me else { return };
        match *e {
            ClientEvent::SkillRefused { reason, .. } => self.refusal(reason),
            ClientEvent::Combat(CombatEvent::Hit { source, .. }) if source == me => self.hits += 1,
            ClientEvent::Combat(CombatEvent::Died { entity, killer, .. }) => {
                if entity == me {
                    self.deaths += 1;
                } else if killer == Some(me) {
                    self.kills += 1;
                }
            }
            ClientEvent::Combat(CombatEvent::LevelUp { entity, .. }) if entity == me => {
                self.levels_gained += 1
            }
            _ => {}
        }
    }
}

#[derive(Debug)]
pub struct Fighter {
    target: Option<EntityId>,
    /// The target `Attack` was last sent for, and when.
    attacking: Option<(EntityId, Instant)>,
    /// When each skill (by id) may be used again.
    ready: BTreeMap<u16, Instant>,
    global_ready: Instant,
    /// The one request in flight: skill and when it was sent.
    pending: Option<(u16, Instant)>,
    /// Our own cast in progress (the skill), from `CastStarted` to `CastEnded`.
    casting: Option<u16>,
    /// The experience last seen in the vitals.
    last_experience: Option<u64>,
    /// The hunting ground it walks to when no monster is in sight.
    ground: usize,
    /// A monster fought whatever its level, before any other while in
    /// view (a raid's boss), and where to walk while none is in sight
    /// instead of the hunting grounds: see [`Fighter::hunt`].
    quarry: Option<EntityId>,
    goal: Option<Vec2>,
    pub tally: FightTally,
}

impl Fighter {
    pub fn new(ground: usize) -> Self {
        Fighter {
            target: None,
            attacking: None,
            ready: BTreeMap::new(),
            global_ready: Instant::ZERO,
            pending: None,
            casting: None,
            last_experience: None,
            ground,
            quarry: None,
            goal: None,
            tally: FightTally::default(),
        }
    }

    /// Hunts `quarry` first, whatever its level, and walks to `goal` while
    /// no monster is in sight; `(None, None)`: the hunting grounds again.
    pub fn hunt(&mut self, quarry: Option<EntityId>, goal: Option<Vec2>) {
        self.quarry = quarry;
        self.goal = goal;
    }

    fn info(client: &Client, skill: u16) -> Option<&SkillInfo> {
        client
            .fight()
            .skillbook
            .skills
            .iter()
            .find(|s| s.id == skill)
    }

    fn used(&mut self, client: &Client, now: Instant, skill: u16, cooldown: bool, global: bool) {
        let Some(info) = Self::info(client, skill) else {
            return;
        };
        if cooldown {
            let cd = Duration::from_millis(info.cooldown_ms as u64) + MARGIN;
            self.ready.insert(skill, now + cd);
        }
        if global && info.global_cooldown {
            let gcd = client.fight().skillbook.global_cooldown_ms as u64;
            self.global_ready = now + Duration::from_millis(gcd) + MARGIN;
        }
    }

    /// An event the client emitted (about us, or by us).
    pub fn on_event(&mut self, now: Instant, client: &Client, e: &ClientEvent) {
        let me = client.avatar().map(|a| a.entity);
        self.tally.note(me, e);
        let pending = self.pending.map(|(s, _)| s);
        match *e {
            ClientEvent::SkillRefused { skill, reason } => {
                if Some(skill) == pending {
                    self.pending = None;
                    // Not spent; wait a little before asking again.
                    let wait = match reason {
                        SkillRefusal::OnCooldown => Duration::from_secs(1),
                        _ => Duration::from_millis(300),
                    };
                    self.ready.insert(skill, now + wait);
                }
                if skill == client.fight().skillbook.auto_attack {
                    self.attacking = None;
                    self.target = None;
                }
                if Some(skill) == self.casting {
                    // A cast that failed its final check.
                    self.casting = None;
                }
            }
            ClientEvent::Combat(CombatEvent::CastStarted { caster, skill, .. })
                if Some(caster) == me =>
            {
                if pending == Some(skill) {
                    self.pending = None;
                }
                self.casting = Some(skill);
                self.used(client, now, skill, false, true);
            }
            ClientEvent::Combat(CombatEvent::CastEnded {
                caster,
                skill,
                completed,
            }) if Some(caster) == me => {
                self.casting = None;
                if completed {
                    self.used(client, now, skill, true, false);
                }
            }
            ClientEvent::Combat(CombatEvent::Hit { source, skill, .. })
                if Some(source) == me && pending == Some(skill) =>
            {
                self.pending = None;
                self.used(client, now, skill, true, true);
            }
            ClientEvent::Combat(CombatEvent::Died { entity, .. }) if Some(entity) == me => {
                self.forget();
            }
            ClientEvent::ZoneEntered { .. } | ClientEvent::Welcomed { .. } => self.forget(),
            _ => {}
        }
    }

    /// Death, a new zone or a new connection: no target, no cast; requests
    /// in flight are settled by their timeout.
    fn forget(&mut self) {
        self.target = None;
        self.attacking = None;
        self.casting = None;
    }

    /// One step: fights, and returns the velocity to move at (`None`: send
    /// no move at all, as while dead).
    pub fn step(
        &mut self,
        now: Instant,
        client: &mut Client,
        atlas: &Atlas,
        wander: &mut Wander,
        every: Duration,
    ) -> Option<Vec2> {
        let avatar = client.avatar()?;
        let (me, pos, speed) = (avatar.entity, avatar.position(), avatar.speed_now());
        let map = atlas.get(&avatar.map).cloned();
        let map = map.as_deref();
        let fight = client.fight();
        let vitals = fight.vitals?;
        if let Some(last) = self.last_experience {
            self.tally.experience += vitals.experience.saturating_sub(last);
        }
        self.last_experience = Some(vitals.experience);
        if let Some((skill, sent)) = self.pending {
            if now.saturating_since(sent) >= UNANSWERED {
                self.pending = None;
                self.used(client, now, skill, true, true);
            }
        }
        if fight.is_dead() {
            self.forget();
            return None;
        }
        if self.casting.is_some() && client.fight().casting.is_none() {
            // Its `CastEnded` was past the bound: the client's own record
            // (which ends with `cast_ms`) says it is over.
            self.casting = None;
        }
        let standing = self.casting.is_some()
            || self
                .pending
                .and_then(|(s, _)| Self::info(client, s))
                .is_some_and(|i| i.cast_ms > 0);
        if standing {
            return Some(Vec2::ZERO);
        }
        let target = self.choose_target(client, me, pos, vitals.level);
        let Some((target, at)) = target else {
            self.target = None;
            self.attacking = None;
            return Some(self.explore(now, pos, map, speed, atlas, client, wander, every));
        };
        self.target = Some(target);
        if self
            .attacking
            .is_none_or(|(t, sent)| t != target || now.saturating_since(sent) >= ATTACK_AGAIN)
        {
            client.attack(target);
            self.tally.attacks_sent += 1;
            self.attacking = Some((target, now));
        }
        let distance = game_core::zone::movement::distance_raw(pos, at);
        if self.pending.is_none() {
            if let Some((skill, aim)) = self.choose_skill(client, now, target, distance) {
                client.use_skill(skill, aim);
                self.tally.skills_sent += 1;
                self.pending = Some((skill, now));
                let casts = Self::info(client, skill).is_some_and(|i| i.cast_ms > 0);
                if casts {
                    return Some(Vec2::ZERO);
                }
            }
        }
        if distance <= MELEE.raw() as i64 {
            return Some(Vec2::ZERO);
        }
        Some(
            toward(pos, at, speed, map, false, every)
                .unwrap_or_else(|| wander.velocity(now, pos, map, speed, every)),
        )
    }

    /// The target to fight and where it is: the quarry while it lives and
    /// is in view, else the current one while it lives and is in view, else
    /// the nearest live monster not too strong.
    fn choose_target(
        &self,
        client: &Client,
        me: EntityId,
        pos: Vec2,
        level: u16,
    ) -> Option<(EntityId, Vec2)> {
        let fight = client.fight();
        let alive = |e: EntityId| fight.bar(e).is_some_and(|b| b.health > 0);
        if let Some(q) = self.quarry.filter(|&q| alive(q)) {
            if let Some(r) = client.remotes().get(&q) {
                return Some((q, r.pos.to_pos()));
            }
        }
        if let Some(t) = self.target.filter(|&t| alive(t)) {
            if let Some(r) = client.remotes().get(&t) {
                return Some((t, r.pos.to_pos()));
            }
        }
        let mut best: Option<(i64, EntityId, Vec2)> = None;
        for (&e, r) in client.remotes().iter() {
            if e == me || r.kind != EntityKind::Monster || !alive(e) {
                continue;
            }
            if fight.bar(e).is_some_and(|b| b.level > level + LEVELS_ABOVE) {
                continue;
            }
            let p = r.pos.to_pos();
            let d = (p - pos).length_squared_raw();
            if best.is_none_or(|(bd, _, _)| d < bd) {
                best = Some((d, e, p));
            }
        }
        best.map(|(_, e, p)| (e, p))
    }

    /// The skill to use now, and its target: a heal when low, else the first
    /// ready damage skill that reaches (instant ones first).
    fn choose_skill(
        &self,
        client: &Client,
        now: Instant,
        target: EntityId,
        distance: i64,
    ) -> Option<(u16, Option<EntityId>)> {
        let fight = client.fight();
        let vitals = fight.vitals?;
        let book = &fight.skillbook;
        let ready = |s: &SkillInfo| {
            self.ready.get(&s.id).is_none_or(|&t| now >= t)
                && (!s.global_cooldown || now >= self.global_ready)
                && vitals.mana >= s.mana
        };
        let low = vitals.health * 100 < vitals.max_health * HEAL_BELOW_PCT;
        if low {
            if let Some(heal) = book
                .skills
                .iter()
                .find(|s| s.heals && s.targeting == 1 && ready(s))
            {
                return Some((heal.id, None));
            }
        }
        // Keep enough mana for a heal.
        let reserve = book
            .skills
            .iter()
            .filter(|s| s.heals)
            .map(|s| s.mana)
            .max()
            .unwrap_or(0);
        let reaches = |s: &SkillInfo| match s.targeting {
            // Within the range, a metre to spare for its moving.
            0 => distance + 256 <= s.range_raw as i64,
            // Around the caster: the target must stand close.
            2 => distance <= 3 * 256,
            _ => false,
        };
        let usable = |s: &&SkillInfo| {
            s.id != book.auto_attack
                && !s.heals
                && ready(s)
                && vitals.mana >= s.mana + reserve
                && reaches(s)
        };
        let pick = book
            .skills
            .iter()
            .filter(usable)
            .min_by_key(|s| (s.cast_ms > 0, s.id))?;
        let aim = (pick.targeting == 0).then_some(target);
        Some((pick.id, aim))
    }

    /// No monster in sight: walk to the goal or the hunting ground,
    /// wandering there.
    #[allow(clippy::too_many_arguments)]
    fn explore(
        &mut self,
        now: Instant,
        pos: Vec2,
        map: Option<&game_core::zone::Map>,
        speed: Fixed,
        atlas: &Atlas,
        client: &Client,
        wander: &mut Wander,
        every: Duration,
    ) -> Vec2 {
        if let Some(goal) = self.goal {
            let far = (goal - pos).length_squared_raw() > (4 * 256i64).pow(2);
            if let Some(v) = toward(pos, goal, speed, map, false, every).filter(|_| far) {
                return v;
            }
            return wander.velocity(now, pos, map, speed, every);
        }
        let name = client.avatar().map(|a| a.map.as_str()).unwrap_or("");
        let grounds = atlas.grounds(name);
        if !grounds.is_empty() {
            let goal = grounds[self.ground % grounds.len()];
            let far = (goal - pos).length_squared_raw() > (12 * 256i64).pow(2);
            if far {
                if let Some(v) = toward(pos, goal, speed, map, false, every) {
                    return v;
                }
            } else {
                // Arrived and nothing here: try the next ground.
                self.ground = self.ground.wrapping_add(1);
            }
        }
        wander.velocity(now, pos, map, speed, every)
    }
}
