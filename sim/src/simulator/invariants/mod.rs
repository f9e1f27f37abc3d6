//! What must hold while the simulation runs, and at its end.
//!
//! Safety, checked as it runs (sampled when there are many bots): every visible
//! set agrees with a brute-force oracle of the hysteresis rule; no player moves
//! faster than the limit allows over any window; no duplicate or ghost players;
//! every queue within its bound. At the end: hostile bots were corrected or
//! disconnected, honest ones never were (unless their link stalled past what the
//! validator forgives); and, after the faults healed (liveness), every connected
//! bot sees exactly what the server says is in its view, where the server says.
//! Fights are checked in `combat.rs`; chat, blocks, parties and guilds in
//! `social.rs` (every accepted line reaches exactly whom it is owed, in order);
//! inventories, the books and what clients are shown in `economy.rs`.

mod combat;
#[cfg(test)]
mod combat_tests;
mod economy;
#[cfg(test)]
mod economy_tests;
mod interpolation;
mod membership;
mod raid;
#[cfg(test)]
mod raid_tests;
mod social;
#[cfg(test)]
mod social_tests;
mod verdict;
mod walk;

pub use combat::{CombatChecks, ServerCombat};
pub use economy::{EconomyChecker, EconomyChecks, TxAudit};
pub use raid::{rewards_given_once, RaidChecker, RaidChecks};
pub use social::{self_character, Asked, SocialChecks};
use walk::{isqrt_m, moved_more_than, SortedWalk};

use super::policy::{FightTally, Kind, SocialTally};
use super::SimConfig;
use game_core::client::{Client, ClientState};
use game_core::ids::{EntityId, IdMap, PlayerId, ZoneId};
use game_core::math::Vec2;
use game_core::node::Node;
use game_core::protocol::{DisconnectReason, QPos, MAX_SERVER_PAYLOAD};
use game_core::time::{Duration, Instant, Tick};
use game_core::zone::MovementRules;
use std::collections::VecDeque;
use std::fmt;

/// How often the sampled checks run.
pub const CHECK_EVERY: Duration = Duration::from_millis(250);
/// Run the AOI oracle after every this many ticks.
const ORACLE_EVERY_TICKS: u64 = 5;
/// Run the speed check after every this many ticks.
const SPEED_EVERY_TICKS: u64 = 5;
/// Speed is checked over windows up to this long.
const SPEED_WINDOW: Duration = Duration::from_secs(2);
/// Ticks of positions kept for the interpolation error and liveness.
const HISTORY_TICKS: usize = 40;
/// Links that stalled this long may see honest moves judged too fast.
const FORGIVEN_STALL: Duration = Duration::from_millis(400);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub at: Instant,
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.at, self.what)
    }
}

/// A read-only look at one bot.
#[derive(Debug)]
pub struct PeerView<'a> {
    pub client: &'a Client,
    pub kind: Kind,
    pub worst_stall: Duration,
    pub corrections: u64,
    /// What a fighting bot did.
    pub fight: Option<&'a FightTally>,
    /// What a social bot did.
    pub social: Option<&'a SocialTally>,
    pub disconnects: &'a [DisconnectReason],
    pub misbehaved: bool,
}

/// Every entity's position at one tick, sorted by (zone, entity).
type Snapshot = Vec<((ZoneId, EntityId), Vec2)>;

fn lookup(s: &Snapshot, key: (ZoneId, EntityId)) -> Option<Vec2> {
    s.binary_search_by_key(&key, |&(k, _)| k)
        .ok()
        .map(|i| s[i].1)
}

#[derive(Debug)]
pub struct Checker {
    radius_sq: i64,
    leave_sq: i64,
    rules: MovementRules,
    max_outbound: usize,
    oracle_sample: usize,
    ticks: u64,
    /// Recent authoritative positions per player: (time, zone, position).
    /// Looked up per player per check, never iterated in an observable order.
    trails: IdMap<PlayerId, VecDeque<(Instant, ZoneId, Tick, Vec2)>>,
    /// Every entity's position at each recent tick, for the interpolation error.
    history: VecDeque<(Instant, Snapshot)>,
    violations: Vec<Violation>,
    interp_error_mm: Vec<u64>,
    /// The same draws against each entity's path through its moves
    /// ([`path_through_moves`]).
    interp_error_path_mm: Vec<u64>,
    store_faulty: bool,
    /// Built at the first tick, from the node's content.
    combat: Option<combat::CombatChecker>,
    /// What the zones of nodes since restarted counted.
    combat_before_restart: ServerCombat,
    tick_hz: u16,
    lag_compensation_ms: u32,
    social: social::SocialChecker,
}

impl Checker {
    pub fn new(config: &SimConfig) -> Self {
        let zone = &config.node.world.zone;
        let r = zone.view_radius_m as i64 * 256;
        let rm = (zone.view_radius_m + zone.view_margin_m) as i64 * 256;
        Checker {
            radius_sq: r * r,
            leave_sq: rm * rm,
            rules: zone.movement,
            max_outbound: config.node.session.max_outbound_bytes as usize
                + MAX_SERVER_PAYLOAD as usize,
            oracle_sample: config.oracle_sample,
            ticks: 0,
            trails: IdMap::default(),
            history: VecDeque::new(),
            violations: Vec::new(),
            interp_error_mm: Vec::new(),
            interp_error_path_mm: Vec::new(),
            store_faulty: false,
            combat: None,
            combat_before_restart: ServerCombat::default(),
            tick_hz: config.node.tick_hz,
            lag_compensation_ms: zone.lag_compensation_ms,
            social: social::SocialChecker::new(config.node.social.say_radius_m),
        }
    }

    /// The node is about to restart: keep what its zones counted.
    pub fn bank_combat(&mut self, node: &Node) {
        self.combat_before_restart.add_node(node);
    }

    /// What the zones counted, over every incarnation of the node.
    pub fn server_combat(&self, node: &Node) -> ServerCombat {
        let mut c = self.combat_before_restart.clone();
        c.add_node(node);
        c
    }

    /// What the combat checks looked at.
    pub fn combat_checks(&self) -> CombatChecks {
        self.combat
            .as_ref()
            .map(|c| c.counts.clone())
            .unwrap_or_default()
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// A violation found by a check kept elsewhere (persistence, logins).
    pub fn report(&mut self, at: Instant, what: String) {
        self.fail(at, what);
    }

    /// The store may be slow, fail or crash: an honest login refused because
    /// the store did not answer (or was too far behind) is its fault, not the
    /// bot's, and is no violation.
    pub fn store_faulty(&mut self, faulty: bool) {
        self.store_faulty = faulty;
    }

    fn fail(&mut self, at: Instant, what: String) {
        if self.violations.len() < 1000 {
            self.violations.push(Violation { at, what });
        }
    }

    pub fn on_restart(&mut self) {
        if let Some(c) = self.combat.as_mut() {
            c.on_restart();
        }
        self.trails.clear();
        self.history.clear();
        self.social.on_restart();
    }

    /// What the social checks looked at.
    pub fn social_checks(&self) -> SocialChecks {
        self.social.counts.clone()
    }

    /// A chat or whisper request from `from` is about to reach the node.
    pub fn social_before(
        &self,
        node: &Node,
        from: game_core::ids::CharacterId,
        request: &game_core::protocol::ClientSocial,
    ) -> Option<Asked> {
        self.social.before(node, from, request)
    }

    /// The node read the request `asked` describes.
    pub fn social_after(&mut self, node: &Node, now: Instant, asked: Asked) {
        let mut failures = Vec::new();
        self.social.after(node, now, asked, &mut failures);
        for f in failures {
            self.fail(now, f);
        }
    }

    /// An event a client emitted, with the connection its bytes came on.
    pub fn client_event(
        &mut self,
        client: &Client,
        conn: Option<game_core::ids::ConnId>,
        e: &game_core::client::ClientEvent,
        now: Instant,
    ) {
        let mut failures = Vec::new();
        self.social.on_client(client, conn, e, &mut failures);
        for f in failures {
            self.fail(now, f);
        }
    }

    /// Right after a tick, when interest and positions are consistent.
    pub fn after_tick(&mut self, node: &Node, now: Instant) {
        self.ticks += 1;
        if self.combat.is_none() {
            if let Some(zone) = node.world().zones().next() {
                self.combat = Some(combat::CombatChecker::new(
                    self.tick_hz,
                    self.lag_compensation_ms,
                    &self.rules,
                    zone.content(),
                ));
            }
        }
        if let Some(c) = self.combat.as_mut() {
            let mut failures = Vec::new();
            c.after_tick(node, &mut failures);
            for f in failures {
                self.fail(now, f);
            }
        }
        if self.ticks % SPEED_EVERY_TICKS == 0 {
            self.check_speed(node, now);
        }
        // The oldest snapshot's buffer takes the new one.
        let mut snapshot = if self.history.len() >= HISTORY_TICKS {
            self.history.pop_front().map(|(_, s)| s).unwrap_or_default()
        } else {
            Vec::with_capacity(self.history.back().map_or(0, |(_, s)| s.len()))
        };
        snapshot.clear();
        for zone in node.world().zones() {
            for (id, _, pos) in zone.entities() {
                snapshot.push(((zone.id(), id), pos));
            }
        }
        self.history.push_back((now, snapshot));
        if self.ticks % ORACLE_EVERY_TICKS == 0 {
            self.check_oracle(node, now);
        }
    }

    /// Visible sets against brute force: everything within the radius is seen,
    /// nothing beyond radius + margin is.
    fn check_oracle(&mut self, node: &Node, now: Instant) {
        let mut failures = Vec::new();
        let mut all: Vec<(EntityId, Vec2, bool)> = Vec::new();
        let mut visible: Vec<EntityId> = Vec::new();
        for zone in node.world().zones() {
            // Arrivals after the tick (transfers) are decided at the next one.
            all.clear();
            all.extend(
                zone.entities()
                    .map(|(id, _, p)| (id, p, zone.interest_pending(id))),
            );
            let players: Vec<EntityId> = zone
                .entities()
                .filter(|(_, k, _)| *k == game_core::protocol::EntityKind::Player)
                .map(|(id, _, _)| id)
                .collect();
            let step = (players.len() / self.oracle_sample.max(1)).max(1);
            for &o in players.iter().step_by(step) {
                if zone.interest_pending(o) {
                    continue;
                }
                let Some(op) = zone.position(o) else { continue };
                visible.clear();
                visible.extend(zone.visible(o));
                // Entities come in id order and the visible list is ascending:
                // one walk along it answers every entity.
                let mut seen_by_o = SortedWalk::new(&visible);
                for &(e, p, pending) in &all {
                    if pending {
                        continue;
                    }
                    let seen = seen_by_o.contains(e);
                    let d = (p - op).length_squared_raw();
                    if e != o && d <= self.radius_sq && !seen {
                        failures.push(format!(
                            "aoi: {:?} in {:?} does not see {e:?} at {} m",
                            o,
                            zone.id(),
                            isqrt_m(d)
                        ));
                    }
                    if seen && d > self.leave_sq {
                        failures.push(format!(
                            "aoi: {o:?} in {:?} still sees {e:?} at {} m",
                            zone.id(),
                            isqrt_m(d)
                        ));
                    }
                }
            }
        }
        for f in failures {
            self.fail(now, f);
        }
    }

    /// No player covers more ground than the limit allows over any recent window.
    fn check_speed(&mut self, node: &Node, now: Instant) {
        let per_s = self.rules.max_speed_raw as i64 * (100 + self.rules.tolerance_pct as i64) / 100;
        let burst = self.rules.max_speed_raw as i64 * self.rules.burst_ms as i64 / 1000;
        let mut failures = Vec::new();
        for p in node.players() {
            let Some(at) = p.location else { continue };
            let zone = node.world().zone(at.zone);
            let (Some(pos), Some(placed)) = (
                zone.and_then(|z| z.position(at.entity)),
                zone.and_then(|z| z.placed_at(at.entity)),
            ) else {
                continue;
            };
            let trail = self.trails.entry(p.id).or_default();
            if trail
                .back()
                .is_some_and(|&(_, z, since, _)| (z, since) != (at.zone, placed))
            {
                // A transfer or a respawn: a new place, not a move.
                trail.clear();
            }
            for &(t, _, _, old) in trail.iter() {
                let dt = now.saturating_since(t).as_micros() as i64;
                let allowed = per_s * dt / 1_000_000 + burst + 2;
                if moved_more_than(old, pos, allowed) {
                    let moved = game_core::zone::movement::distance_raw(old, pos);
                    failures.push(format!(
                        "speed: {:?} moved {} raw in {} us (allowed {allowed})",
                        p.id, moved, dt
                    ));
                    break;
                }
            }
            trail.push_back((now, at.zone, placed, pos));
            while trail
                .front()
                .is_some_and(|&(t, _, _, _)| now.saturating_since(t) > SPEED_WINDOW)
            {
                trail.pop_front();
            }
        }
        for f in failures {
            self.fail(now, f);
        }
        self.trails.retain(|&id, _| node.player(id).is_some());
    }

    /// Ghosts, duplicates and queue bounds now; the liveness comparison when
    /// `settled` (faults healed and bots still).
    pub fn check(&mut self, node: &Node, peers: &[PeerView<'_>], now: Instant, settled: bool) {
        let mut failures = Vec::new();
        // Every placed player is in its zone, and zones hold no one else.
        let placed = node.players().filter(|p| p.location.is_some()).count() as u32;
        let in_zones: u32 = node.world().zones().map(|z| z.player_count()).sum();
        if placed != in_zones {
            failures.push(format!(
                "ghosts: {placed} players placed, {in_zones} in zones"
            ));
        }
        for p in node.players() {
            if let Some(at) = p.location {
                if node
                    .world()
                    .zone(at.zone)
                    .and_then(|z| z.position(at.entity))
                    .is_none()
                {
                    failures.push(format!(
                        "ghost: {:?} placed at a missing entity {:?}",
                        p.id, at
                    ));
                }
            }
        }
        // One live session per player: sorted, a player's sessions are
        // neighbours.
        let mut sessions_of: Vec<PlayerId> = Vec::with_capacity(node.session_count());
        for s in node.sessions() {
            if let (Some(player), false) = (s.player(), s.is_closed()) {
                sessions_of.push(player);
            }
            if s.outbound_bytes() > self.max_outbound {
                failures.push(format!(
                    "queue: {:?} holds {} bytes",
                    s.conn(),
                    s.outbound_bytes()
                ));
            }
        }
        sessions_of.sort_unstable();
        for run in sessions_of.chunk_by(|a, b| a == b) {
            let (player, n) = (run[0], run.len());
            if n > 1 {
                failures.push(format!("duplicate: {player:?} has {n} sessions"));
            }
        }
        for (i, p) in peers.iter().enumerate() {
            if p.client.dropped_events() > 0 {
                failures.push(format!("queue: bot {i} dropped client events"));
            }
        }
        if settled {
            self.check_liveness(node, peers, &mut failures);
        }
        let clients: Vec<(&Client, bool)> = peers
            .iter()
            .map(|p| (p.client, !p.kind.is_hostile()))
            .collect();
        self.social
            .check(node, &clients, now, settled, &mut failures);
        for f in failures {
            self.fail(now, f);
        }
    }

    /// Entities that moved during the recorded history (NPCs keep wandering in
    /// the liveness phase; their latest step may still be on its way), sorted.
    /// Snapshots are sorted by key, so each is walked beside the latest one
    /// instead of searched entry by entry.
    fn recently_moved(&self) -> Vec<(ZoneId, EntityId)> {
        let mut moving = Vec::new();
        let Some((_, latest)) = self.history.back() else {
            return moving;
        };
        for (_, snap) in &self.history {
            // Moved or gone since `snap`.
            let mut now = latest.iter().peekable();
            for &(key, pos) in snap {
                while now.next_if(|&&(k, _)| k < key).is_some() {}
                let still = now.peek().is_some_and(|&&(k, p)| k == key && p == pos);
                if !still {
                    moving.push(key);
                }
            }
            // Appeared since `snap` (a player entering the world: its spawn
            // may still be on its way to those who see it).
            let mut then = snap.iter().peekable();
            for &(key, _) in latest {
                while then.next_if(|&&(k, _)| k < key).is_some() {}
                if then.peek().is_none_or(|&&(k, _)| k != key) {
                    moving.push(key);
                }
            }
        }
        moving.sort_unstable();
        moving.dedup();
        moving
    }

    fn check_liveness(&self, node: &Node, peers: &[PeerView<'_>], failures: &mut Vec<String>) {
        let moving = self.recently_moved();
        for (i, p) in peers.iter().enumerate() {
            if p.kind.is_hostile() || *p.client.state() != ClientState::InWorld {
                continue;
            }
            let (Some(avatar), Some(player)) = (p.client.avatar(), p.client.player()) else {
                continue;
            };
            let placed = node.player(player).and_then(|pl| pl.location);
            if placed.map(|at| (at.zone, at.entity)) != Some((avatar.zone, avatar.entity)) {
                // A raid instance closed within the history (2 s) moved its
                // members out: their `ZoneEntered` may still be on the wire.
                let closed_lately = node.world().zone(avatar.zone).is_none()
                    && (self.history.iter())
                        .any(|(_, snap)| snap.iter().any(|&((z, _), _)| z == avatar.zone));
                if !closed_lately {
                    failures.push(format!(
                        "liveness: bot {i} thinks it is {:?} in {:?}; server says {placed:?}",
                        avatar.entity, avatar.zone
                    ));
                }
                continue;
            }
            let Some(zone) = node.world().zone(avatar.zone) else {
                continue;
            };
            // This zone's part of `moving`; both views come in id order, so
            // each walks it once.
            let zone_id = avatar.zone;
            // Bots stand still in the liveness phase; a character that moved
            // all the same was moved by the server (a respawn: monsters
            // still fight), and its correction may still be on its way.
            if moving.binary_search(&(zone_id, avatar.entity)).is_ok() {
                continue;
            }
            let moving = &moving[moving.partition_point(|&(z, _)| z < zone_id)
                ..moving.partition_point(|&(z, _)| z <= zone_id)];
            let truth = || {
                let mut moved = SortedWalk::new(moving);
                zone.visible(avatar.entity)
                    .filter(move |&e| !moved.contains((zone_id, e)))
                    .filter_map(|e| zone.position(e).map(|pos| (e, QPos::from_pos(pos))))
            };
            let seen = || {
                let mut moved = SortedWalk::new(moving);
                p.client
                    .remotes()
                    .iter()
                    .filter(move |&(&e, _)| !moved.contains((zone_id, e)))
                    .map(|(&e, r)| (e, r.pos))
            };
            // Equal in the usual case: compared without collecting either.
            if !truth().eq(seen()) {
                let truth: Vec<(EntityId, QPos)> = truth().collect();
                let seen: Vec<(EntityId, QPos)> = seen().collect();
                let missing = truth.iter().filter(|t| !seen.contains(t)).count();
                let extra = seen.iter().filter(|s| !truth.contains(s)).count();
                failures.push(format!(
                    "liveness: bot {i} ({:?}) view differs from the server's: {missing} missing or stale, {extra} extra",
                    p.kind
                ));
            }
            if zone.position(avatar.entity) != Some(avatar.position()) {
                failures.push(format!(
                    "liveness: bot {i} predicts {:?}, server has {:?}",
                    avatar.position(),
                    zone.position(avatar.entity)
                ));
            }
        }
    }

    /// At the end: hostile bots were stopped, honest ones never were.
    pub fn final_checks(&mut self, peers: &[PeerView<'_>]) {
        let failures: Vec<String> = peers
            .iter()
            .enumerate()
            .flat_map(|(i, p)| verdict::verdict(i, p, self.store_faulty))
            .collect();
        for f in failures {
            self.fail(Instant::ZERO, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entity_that_appeared_within_the_history_counts_as_moving() {
        use crate::simulator::{FaultMode, SimConfig};
        let mut c = Checker::new(&SimConfig::new(1, 10, 1, FaultMode::Clean));
        let key = |e| (ZoneId(1), EntityId(e));
        let at = |x| Vec2::from_ints(x, 0);
        let t = |ms: u64| Instant::from_micros(ms * 1000);
        c.history
            .push_back((t(0), vec![(key(1), at(1)), (key(2), at(2))]));
        c.history
            .push_back((t(50), vec![(key(1), at(1)), (key(2), at(3))]));
        // Entity 3 entered the world at the last tick; 1 stood still; 2 moved.
        c.history.push_back((
            t(100),
            vec![(key(1), at(1)), (key(2), at(3)), (key(3), at(4))],
        ));
        assert_eq!(c.recently_moved(), vec![key(2), key(3)]);
    }
}
