//! The node fed arbitrary interleavings of inputs from several connections,
//! with a store and a bus that answer at once, late, twice or not at all.

mod content;
mod economy;
mod ops;
mod raid;
mod social;
mod store_bus;

pub use content::{config, content};
pub use economy::EconomyBytes;
pub use ops::{NodeOp, StoreMode};
pub use raid::RaidBytes;

use super::script::Script;
use super::wire::ServerStream;
use game_core::bus::BusMessage;
use game_core::ids::ConnId;
use game_core::math::{Fixed, Vec2};
use game_core::node::{Node, NodeConfig, NodeStats, Output, RaidStats};
use game_core::persist::Change;
use game_core::protocol::{
    encode_frame, ClientMsg, DisconnectReason, NoticeLevel, MAX_CLIENT_PAYLOAD,
};
use game_core::session::SessionState;
use game_core::time::{Duration, Instant};
use game_core::zone::ZoneStats;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use store_bus::StoreAndBus;

/// What [`NodeOp::Grant`] gives.
const GRANTS: [(&str, u64); 4] = [
    ("gold", 500),
    ("iron_sword", 1),
    ("enhancement_stone", 20),
    ("minor_potion", 5),
];

#[derive(Debug)]
struct Conn {
    id: ConnId,
    /// The node sent `Close` for it.
    closed: bool,
    heard: ServerStream,
    social: social::SocialHeard,
    economy: economy::EconomyHeard,
    raid: raid::RaidHeard,
    writes: VecDeque<usize>,
}

struct Harness {
    node: Node,
    store_bus: StoreAndBus,
    config: NodeConfig,
    now: Instant,
    slots: BTreeMap<u8, Conn>,
    next_id: u64,
    closed_ids: BTreeSet<ConnId>,
    /// Connections an announcement was handed to the node for, with the
    /// notices each had heard then: each must hear one more, or be closed.
    notices_due: Vec<(ConnId, u64)>,
    raid: raid::RaidBooks,
}

/// Runs a node script (see [`NodeOp`]) and checks after every step: outputs
/// name only open connections and nothing follows a connection's `Close`; a
/// close (other than a lost transport) is announced by a `Disconnect` as the
/// connection's last message; the session and player caps hold; every player
/// has at most one connection and that connection's session names it; every
/// placed character is in its zone; queues stay within their bounds; nothing is
/// left due after the timers ran. For the store and the bus: the node holds
/// pending exactly the intents issued and not yet answered, never more than
/// its bound; its counters agree with every answer (an answer to nothing
/// pending, a second one included, counts as unexpected, and issued =
/// acknowledged + failed + pending); every announcement the bus hands it
/// reaches every connected player; the accounts it announced online are its
/// players'. At the end the store answers everything held and the bus
/// delivers what it holds: nothing may stay pending. For combat (the
/// characters enter beside monsters, see [`content`]): every fighter's health
/// and mana stay within [0, max], a fighter is dead (health 0) exactly while
/// it waits to respawn or leave, and then casts nothing and bears no effect; every
/// placed character fights; each zone grants exactly the experience of its
/// kills. For raids, the rules of [`raid::RaidBooks::check`] after every
/// step and [`raid::RaidBooks::finish`] at the end.
pub fn node(data: &[u8]) {
    run(data);
}

/// What a node script reached: the node's counters and its zones' summed.
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))] // read by the seeds' tests only
pub(crate) struct Reached {
    pub node: NodeStats,
    pub zones: ZoneStats,
    pub raid: RaidStats,
}

/// [`node`], returning what it reached (for tests of what the seeds reach).
pub(crate) fn run(data: &[u8]) -> Reached {
    let mut script = Script::new(data);
    let seed = script.u8() as u64;
    let config = config();
    let mut node =
        Node::with_content(config.clone(), seed, Vec::new(), content()).expect("valid config");
    node.accept_tokens(
        super::wire::token_key(),
        super::wire::UNIX_MS_AT_ZERO,
        Instant::ZERO,
    );
    let mut h = Harness {
        node,
        store_bus: StoreAndBus::default(),
        config,
        now: Instant::ZERO,
        slots: BTreeMap::new(),
        next_id: 0,
        closed_ids: BTreeSet::new(),
        notices_due: Vec::new(),
        raid: raid::RaidBooks::default(),
    };
    // The node's first outputs (its subscriptions) reach the driver before
    // anything else happens, as they do in the adapter.
    h.drain();
    h.check();
    while !script.done() {
        h.apply(NodeOp::read(&mut script));
        h.drain();
        h.check();
    }
    h.store_bus.mode = StoreMode::AtOnce;
    h.store_bus.hold_bus = false;
    h.store_bus.answer_all(&mut h.node, h.now);
    while let Some(message) = h.store_bus.next_delivery() {
        h.deliver(message);
    }
    h.drain();
    h.check();
    assert_eq!(
        h.node.pending_intents(),
        0,
        "intents left pending at the end"
    );
    h.raid.finish(&h.node);
    let zones = h.node.world().zone_stats();
    Reached {
        node: h.node.stats().clone(),
        zones,
        raid: h.node.raid_stats().clone(),
    }
}

impl Harness {
    fn apply(&mut self, op: NodeOp) {
        let now = self.now;
        match op {
            NodeOp::Connect { slot } => {
                if self.slots.get(&slot).is_none_or(|c| c.closed) {
                    self.next_id += 1;
                    let id = ConnId(self.next_id);
                    // A client that reconnects remembers its player and resume
                    // token, as a real one does.
                    let mut heard = ServerStream::default();
                    heard.welcome = self.slots.get(&slot).and_then(|c| c.heard.welcome);
                    // And its request numbers go on rising.
                    let mut economy = economy::EconomyHeard::default();
                    economy.last_req = self.slots.get(&slot).map_or(0, |c| c.economy.last_req);
                    self.slots.insert(
                        slot,
                        Conn {
                            id,
                            closed: false,
                            heard,
                            social: social::SocialHeard::default(),
                            economy,
                            raid: raid::RaidHeard::after(self.slots.get(&slot).map(|c| &c.raid)),
                            writes: VecDeque::new(),
                        },
                    );
                    self.node.handle_connect(now, id);
                }
            }
            NodeOp::Say { slot, say, split } => {
                let Some(conn) = self.slots.get_mut(&slot) else {
                    return;
                };
                let msg = say.message(&mut conn.heard);
                let mut frame = Vec::new();
                encode_frame(&msg, MAX_CLIENT_PAYLOAD, &mut frame).expect("client frame");
                let split = (split as usize).min(frame.len());
                let id = conn.id;
                self.node.handle_bytes(now, id, &frame[..split]);
                self.node.handle_bytes(now, id, &frame[split..]);
            }
            NodeOp::Social { slot, request } => {
                let Some(conn) = self.slots.get(&slot) else {
                    return;
                };
                let msg = social::request(&self.node, &conn.heard.characters, &request);
                let mut frame = Vec::new();
                // A line past the largest frame a client may send is not sent
                // (frames too large reach the node by `Raw`).
                if encode_frame(&msg, MAX_CLIENT_PAYLOAD, &mut frame).is_ok() {
                    self.node.handle_bytes(now, conn.id, &frame);
                }
            }
            NodeOp::Economy { slot, request } => {
                let ids: Vec<_> = self.node.players().filter_map(|p| p.character).collect();
                let Some(conn) = self.slots.get_mut(&slot) else {
                    return;
                };
                let msg = ClientMsg::Economy(request.request(&mut conn.economy, &ids));
                let mut frame = Vec::new();
                encode_frame(&msg, MAX_CLIENT_PAYLOAD, &mut frame).expect("client frame");
                self.node.handle_bytes(now, conn.id, &frame);
            }
            NodeOp::Raid { slot, request } => {
                let Some(conn) = self.slots.get(&slot) else {
                    return;
                };
                let msg = ClientMsg::Raid(request.request(&conn.raid));
                let mut frame = Vec::new();
                encode_frame(&msg, MAX_CLIENT_PAYLOAD, &mut frame).expect("client frame");
                self.node.handle_bytes(now, conn.id, &frame);
            }
            NodeOp::Grant { slot, what } => {
                let Some(p) = self.player_in(slot).and_then(|p| self.node.player(p)) else {
                    return;
                };
                let Some(name) = p
                    .character
                    .and_then(|c| p.characters.iter().find(|s| s.id == c))
                    .map(|s| s.name.clone())
                else {
                    return;
                };
                let (item, count) = GRANTS[what as usize % GRANTS.len()];
                let _ = self.node.grant(now, &name, item, count);
            }
            NodeOp::Raw { slot, bytes } => {
                if let Some(conn) = self.slots.get(&slot) {
                    self.node.handle_bytes(now, conn.id, &bytes);
                }
            }
            NodeOp::Advance { ms } => {
                self.now += Duration::from_millis(ms as u64);
                self.node.handle_timeout(self.now);
                self.check_timers();
            }
            NodeOp::Deadline => {
                if let Some(at) = self.node.poll_timeout() {
                    self.now = self.now.max(at);
                    self.node.handle_timeout(self.now);
                    self.check_timers();
                }
            }
            NodeOp::Lost { slot } => {
                if let Some(conn) = self.slots.get(&slot) {
                    self.node.handle_disconnect(now, conn.id);
                }
            }
            NodeOp::Flushed { slot } => {
                if let Some(conn) = self.slots.get_mut(&slot) {
                    if let Some(n) = conn.writes.pop_front() {
                        self.node.handle_flushed(conn.id, n);
                    }
                }
            }
            NodeOp::Kick { slot } => {
                if let Some(player) = self.player_in(slot) {
                    self.node.kick(now, player, "fuzz".into());
                }
            }
            NodeOp::Operator { slot, what } => {
                let player = self.player_in(slot);
                match (what % 8, player) {
                    (0, _) => self.node.notice(now, player, NoticeLevel::Info, "fuzz"),
                    (1, Some(p)) => {
                        let _ = self.node.transfer(now, p, "forest");
                    }
                    (2, Some(p)) => {
                        let _ = self.node.transfer(now, p, "meadow");
                    }
                    (3, Some(p)) => {
                        let far = Fixed::from_raw(i32::MAX);
                        let _ = self.node.teleport(now, p, Vec2::new(far, far));
                    }
                    (4, _) => self.node.announce(NoticeLevel::Warning, "fuzz"),
                    (7, _) if what == 255 => self.node.shutdown(now),
                    _ => {}
                }
            }
            NodeOp::Store(mode) => self.store_bus.mode = mode,
            NodeOp::Answer { which, fail } => {
                self.store_bus
                    .answer(&mut self.node, now, which as usize, fail)
            }
            NodeOp::AnswerAgain { which, fail } => {
                self.store_bus
                    .answer_again(&mut self.node, now, which as usize, fail)
            }
            NodeOp::AnswerUnknown { ahead } => {
                self.store_bus.answer_unknown(&mut self.node, now, ahead)
            }
            NodeOp::BusHold { hold } => self.store_bus.hold_bus = hold,
            NodeOp::BusDeliver => {
                if let Some(message) = self.store_bus.next_delivery() {
                    self.deliver(message);
                }
            }
            NodeOp::BusFromAfar { what } => {
                let message = match what % 4 {
                    0 => BusMessage::Announcement {
                        level: NoticeLevel::Info,
                        text: "from afar".into(),
                    },
                    1 => BusMessage::Announcement {
                        level: NoticeLevel::Warning,
                        text: "from afar".into(),
                    },
                    n => BusMessage::Presence {
                        account: game_core::ids::AccountId(999),
                        online: n == 2,
                    },
                };
                self.deliver(message);
            }
        }
    }

    /// The player the slot's client last heard it was.
    fn player_in(&self, slot: u8) -> Option<game_core::ids::PlayerId> {
        self.slots
            .get(&slot)
            .and_then(|c| c.heard.welcome)
            .map(|(p, _)| p)
    }

    /// Hands the node a bus message, noting who must hear an announcement.
    fn deliver(&mut self, message: BusMessage) {
        let subscribed = self.store_bus.delivering(&message);
        if subscribed && matches!(message, BusMessage::Announcement { .. }) {
            for p in self.node.players() {
                let Some(id) = p.conn else { continue };
                let slot = self.slots.values().find(|c| c.id == id);
                let heard = slot
                    .expect("a player's connection has a slot")
                    .heard
                    .notices;
                self.notices_due.push((id, heard));
            }
        }
        self.node.handle_bus(self.now, message);
    }

    fn conn_mut(&mut self, id: ConnId) -> &mut Conn {
        self.slots
            .values_mut()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("output for {id}, which no slot holds now"))
    }

    fn drain(&mut self) {
        let mut steps = 0usize;
        while let Some(output) = self.node.poll_output() {
            steps += 1;
            assert!(steps < 1_000_000, "the node's outputs never end");
            match output {
                Output::Transmit { conn, bytes } => {
                    assert!(
                        !self.closed_ids.contains(&conn),
                        "bytes for {conn} after close"
                    );
                    assert!(!bytes.is_empty());
                    let social = self.config.social.clone();
                    let character = raid::character_on(&self.node, conn);
                    let mut books = std::mem::take(&mut self.raid);
                    let c = self.conn_mut(conn);
                    c.heard.receive(&bytes);
                    c.social.receive(&bytes, &social);
                    c.economy.receive(&bytes);
                    c.raid.receive(&bytes, character, &mut books);
                    c.writes.push_back(bytes.len());
                    self.raid = books;
                }
                Output::Close { conn, reason } => {
                    assert!(self.closed_ids.insert(conn), "{conn} closed twice");
                    if reason == DisconnectReason::SlowReader {
                        self.raid.slow_reader_closed();
                    }
                    let c = self.conn_mut(conn);
                    c.closed = true;
                    if reason != DisconnectReason::ConnectionLost {
                        assert_eq!(c.heard.disconnect.as_ref(), Some(&reason), "{conn}");
                    }
                }
                Output::Event(_) => {}
                Output::Persist(intent) => {
                    if matches!(intent.change, Change::LoadLeaderboard { .. }) {
                        self.raid.board_read_issued();
                    }
                    self.store_bus.intent(&mut self.node, self.now, intent)
                }
                Output::Publish(message) => {
                    if let Some(back) = self.store_bus.publish(message) {
                        self.deliver(back);
                    }
                }
                Output::Subscribe(topic) => self.store_bus.subscribe(topic),
            }
        }
    }

    fn check_timers(&self) {
        if let Some(at) = self.node.poll_timeout() {
            assert!(at > self.now, "deadline {at:?} still due at {:?}", self.now);
        }
    }

    fn check(&mut self) {
        self.store_bus.check(&self.node, &self.config);
        for (id, before) in std::mem::take(&mut self.notices_due) {
            let conn = self.slots.values().find(|c| c.id == id);
            if let Some(c) = conn.filter(|c| !c.closed) {
                assert!(c.heard.notices > before, "{id} missed an announcement");
            }
        }
        let node = &self.node;
        assert!(node.session_count() <= self.config.max_sessions as usize);
        assert!(node.player_count() <= self.config.max_players as usize);
        for conn in self.slots.values() {
            assert_eq!(
                node.session(conn.id).is_some(),
                !conn.closed,
                "{}: the node and its driver disagree on whether it is open",
                conn.id
            );
        }
        let bound = self.config.session.max_outbound_bytes as usize;
        let frame_max = 4 + self.config.session.max_inbound_payload as usize;
        for s in node.sessions() {
            assert!(!s.is_closed(), "a closed session outlived the drain");
            assert!(s.outbound_bytes() <= bound);
            let (buffered, capacity) = s.inbound_buffered();
            assert!(buffered <= frame_max && capacity <= frame_max);
            if let (Some(p), SessionState::Authenticated | SessionState::InWorld) =
                (s.player(), s.state())
            {
                let owner = node.player(p).and_then(|p| p.conn);
                assert_eq!(owner, Some(s.conn()), "session of {p} not its player's");
            }
        }
        let mut conns = BTreeSet::new();
        let mut characters = BTreeSet::new();
        let mut placed = 0;
        for p in node.players() {
            if let Some(c) = p.character {
                assert!(characters.insert(c), "{c} chosen by two players");
                assert!(
                    p.characters.iter().any(|s| s.id == c),
                    "{} plays {c}, not one of its account's",
                    p.id
                );
            }
            match p.conn {
                Some(c) => {
                    assert!(conns.insert(c), "two players on {c}");
                    let s = node.session(c).expect("a player's connection is open");
                    assert_eq!(s.player(), Some(p.id));
                    assert!(p.grace_until.is_none());
                }
                None => assert!(p.grace_until.is_some(), "{} detached with no grace", p.id),
            }
            if p.in_world {
                assert!(p.location.is_some(), "{} in the world nowhere", p.id);
            }
            if let Some(at) = p.location {
                placed += 1;
                let c = p.character.expect("a placed player has a character");
                assert!(
                    node.character_state(c).is_some(),
                    "{c} in the world untracked"
                );
                let zone = node.world().zone(at.zone).expect("the player's zone");
                assert!(
                    zone.position(at.entity).is_some(),
                    "{} not in its zone",
                    p.id
                );
                assert!(
                    zone.fighter_of(at.entity).is_some(),
                    "{} placed without a fighter",
                    p.id
                );
            }
        }
        assert_eq!(node.world().player_count() as usize, placed);
        check_fighters(node);
        social::check(node, &self.config.social);
        economy::check(node, self.store_bus.memory());
        self.raid.check(node, &self.config, self.store_bus.memory());
    }
}

/// Every fighter's values are within their bounds, the dead (health 0) are
/// exactly those waiting to respawn or leave, cast nothing and bear no
/// effect; each zone
/// grants exactly the experience of its kills.
fn check_fighters(node: &Node) {
    for zone in node.world().zones() {
        let s = zone.stats();
        assert_eq!(
            s.experience_granted,
            s.experience_of_kills,
            "zone {}: experience granted is not the kills'",
            zone.id()
        );
        for (entity, kind, _) in zone.entities() {
            let Some(f) = zone.fighter_of(entity) else {
                continue;
            };
            let what = || format!("zone {} {entity} ({kind:?}): {f:?}", zone.id());
            assert!(f.max_health > 0, "no health to have: {}", what());
            assert!(f.health <= f.max_health, "health past its max: {}", what());
            assert!(f.mana <= f.max_mana, "mana past its max: {}", what());
            assert_eq!(
                f.is_dead(),
                f.dead_until.is_some(),
                "dead and waiting disagree: {}",
                what()
            );
            if f.is_dead() {
                assert!(f.cast.is_none(), "the dead cast: {}", what());
                assert!(f.auto_target.is_none(), "the dead attack: {}", what());
                assert!(
                    f.effects.iter().all(Option::is_none),
                    "effects on the dead: {}",
                    what()
                );
            }
        }
    }
}
