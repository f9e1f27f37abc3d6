//! The node fed arbitrary interleavings of inputs from several connections.

mod ops;

pub use ops::NodeOp;

use super::script::Script;
use super::wire::ServerStream;
use game_core::ids::ConnId;
use game_core::math::{Fixed, Vec2};
use game_core::node::{InProcess, Node, NodeConfig, Output};
use game_core::protocol::{encode_frame, DisconnectReason, NoticeLevel, MAX_CLIENT_PAYLOAD};
use game_core::session::SessionState;
use game_core::time::{Duration, Instant};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Small caps, so a short script meets every one of them.
pub fn config() -> NodeConfig {
    let mut config = NodeConfig {
        max_sessions: 4,
        max_players: 3,
        resume_grace_ms: 2_000,
        session: super::session::config(),
        ..NodeConfig::default()
    };
    config.world.max_channels = 2;
    config.world.zone.max_players = 2;
    config
}

#[derive(Debug)]
struct Conn {
    id: ConnId,
    /// The node sent `Close` for it.
    closed: bool,
    heard: ServerStream,
    writes: VecDeque<usize>,
}

struct Harness {
    node: Node,
    in_process: InProcess,
    config: NodeConfig,
    now: Instant,
    slots: BTreeMap<u8, Conn>,
    next_id: u64,
    closed_ids: BTreeSet<ConnId>,
}

/// Runs a node script (see [`NodeOp`]) and checks after every step: outputs
/// name only open connections and nothing follows a connection's `Close`; a
/// close (other than a lost transport) is announced by a `Disconnect` as the
/// connection's last message; the session and player caps hold; every player
/// has at most one connection and that connection's session names it; every
/// placed character is in its zone; queues stay within their bounds; nothing is
/// left due after the timers ran.
pub fn node(data: &[u8]) {
    let mut script = Script::new(data);
    let seed = script.u8() as u64;
    let config = config();
    let mut h = Harness {
        node: Node::new(config.clone(), seed).expect("valid config"),
        in_process: InProcess::default(),
        config,
        now: Instant::ZERO,
        slots: BTreeMap::new(),
        next_id: 0,
        closed_ids: BTreeSet::new(),
    };
    while !script.done() {
        h.apply(NodeOp::read(&mut script));
        h.drain();
        h.check();
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
                    self.slots.insert(
                        slot,
                        Conn {
                            id,
                            closed: false,
                            heard,
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
                    (7, _) if what == 255 => self.node.shutdown(now),
                    _ => {}
                }
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
            let Some(output) = self.in_process.serve(&mut self.node, self.now, output) else {
                continue;
            };
            match output {
                Output::Transmit { conn, bytes } => {
                    assert!(
                        !self.closed_ids.contains(&conn),
                        "bytes for {conn} after close"
                    );
                    assert!(!bytes.is_empty());
                    let c = self.conn_mut(conn);
                    c.heard.receive(&bytes);
                    c.writes.push_back(bytes.len());
                }
                Output::Close { conn, reason } => {
                    assert!(self.closed_ids.insert(conn), "{conn} closed twice");
                    let c = self.conn_mut(conn);
                    c.closed = true;
                    if reason != DisconnectReason::ConnectionLost {
                        assert_eq!(c.heard.disconnect.as_ref(), Some(&reason), "{conn}");
                    }
                }
                Output::Event(_) => {}
                // Served in process above.
                Output::Persist(_) | Output::Publish(_) | Output::Subscribe(_) => {}
            }
        }
    }

    fn check_timers(&self) {
        if let Some(at) = self.node.poll_timeout() {
            assert!(at > self.now, "deadline {at:?} still due at {:?}", self.now);
        }
    }

    fn check(&self) {
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
        let mut placed = 0;
        for p in node.players() {
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
                let zone = node.world().zone(at.zone).expect("the player's zone");
                assert!(
                    zone.position(at.entity).is_some(),
                    "{} not in its zone",
                    p.id
                );
            }
        }
        assert_eq!(node.world().player_count() as usize, placed);
    }
}
