//! The client machine against the real node, in memory: bytes are handed across
//! directly and time jumps to the next deadline of either side.

use super::*;
use crate::ids::ConnId;
use crate::node::{InProcess, Node, NodeConfig, Output};
use crate::protocol::PROTOCOL_VERSION;
use std::sync::Arc;

/// One client, one node, a perfect zero-latency link that can be cut.
struct Pair {
    node: Node,
    /// The node's store and bus, answered at once.
    in_process: InProcess,
    client: Client,
    conn: ConnId,
    link_up: bool,
    now: Instant,
    events: Vec<ClientEvent>,
    closed_by_server: Option<DisconnectReason>,
}

impl Pair {
    fn new(config: ClientConfig) -> Self {
        Pair {
            node: Node::new(NodeConfig::default(), 1).unwrap(),
            in_process: InProcess::default(),
            client: Client::new(config),
            conn: ConnId(0),
            link_up: false,
            now: Instant::ZERO,
            events: Vec::new(),
            closed_by_server: None,
        }
    }

    fn connect(&mut self) {
        self.conn = ConnId(self.conn.0 + 1);
        self.link_up = true;
        self.closed_by_server = None;
        self.node.handle_connect(self.now, self.conn);
        self.client.connect(self.now);
        self.pump();
    }

    /// Moves bytes both ways until both sides are quiet.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            if let Some(bytes) = self.client.poll_transmit() {
                moved = true;
                if self.link_up {
                    self.node.handle_bytes(self.now, self.conn, &bytes);
                }
            }
            while let Some(out) = self.node.poll_output() {
                let Some(out) = self.in_process.serve(&mut self.node, self.now, out) else {
                    continue;
                };
                match out {
                    Output::Transmit { conn, bytes } => {
                        self.node.handle_flushed(conn, bytes.len());
                        if conn == self.conn && self.link_up {
                            moved = true;
                            self.client.handle_bytes(self.now, &bytes);
                        }
                    }
                    Output::Close { conn, reason } if conn == self.conn => {
                        self.closed_by_server = Some(reason);
                    }
                    _ => {}
                }
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            if !moved {
                break;
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        loop {
            let next = [self.node.poll_timeout(), self.client.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.node.handle_timeout(self.now);
                    self.client.handle_timeout(self.now);
                    self.pump();
                }
                _ => break,
            }
        }
        self.now = end;
    }
}

#[test]
fn logs_in_enters_the_world_and_measures_rtt() {
    let mut p = Pair::new(ClientConfig::new("ada"));
    p.connect();
    assert_eq!(p.client.state(), &ClientState::InWorld);
    let player = p.client.player().unwrap();
    assert_eq!(
        p.events[0],
        ClientEvent::Welcomed {
            player,
            resumed: false
        }
    );
    // The character screen, empty; the character is created, then entered.
    assert!(
        matches!(&p.events[1], ClientEvent::Characters { characters, max: 4 } if characters.is_empty())
    );
    assert!(
        matches!(&p.events[2], ClientEvent::Characters { characters, .. } if characters.len() == 1)
    );
    assert!(matches!(
        &p.events[3],
        ClientEvent::EnteredWorld { character, experience: 0 } if character.name == "ada" && character.level == 1
    ));
    assert_eq!(p.client.tick_hz(), Some(20));
    p.advance(Duration::from_secs(60));
    assert_eq!(p.client.state(), &ClientState::InWorld);
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, ClientEvent::RttSample { .. })));
    assert_eq!(p.client.server_time(p.now), Some(p.now));
}

#[test]
fn wrong_version_gets_a_reason_to_show() {
    let mut config = ClientConfig::new("ada");
    config.protocol_version = PROTOCOL_VERSION + 1;
    let mut p = Pair::new(config);
    p.connect();
    let reason = DisconnectReason::VersionMismatch {
        server: PROTOCOL_VERSION,
        client: PROTOCOL_VERSION + 1,
    };
    assert_eq!(
        p.client.state(),
        &ClientState::Disconnected {
            reason: reason.clone()
        }
    );
    assert!(reason.to_string().contains("please update"));
    assert_eq!(p.closed_by_server, Some(reason));
}

#[test]
fn partition_past_the_idle_timeout_then_reconnect_resumes() {
    let mut p = Pair::new(ClientConfig::new("ada"));
    p.connect();
    let player = p.client.player().unwrap();
    p.link_up = false;
    p.advance(Duration::from_secs(16));
    // Both ends noticed the silence on their own.
    assert_eq!(p.closed_by_server, Some(DisconnectReason::IdleTimeout));
    assert_eq!(
        p.client.state(),
        &ClientState::Disconnected {
            reason: DisconnectReason::IdleTimeout
        }
    );
    assert!(p.client.can_resume());
    p.connect();
    assert_eq!(p.client.state(), &ClientState::InWorld);
    assert_eq!(p.client.player(), Some(player));
    assert!(p.events.contains(&ClientEvent::Welcomed {
        player,
        resumed: true
    }));
    assert_eq!(p.node.player_count(), 1);
}

#[test]
fn goodbye_ends_the_player_and_the_next_connect_logs_in_afresh() {
    let mut p = Pair::new(ClientConfig::new("ada"));
    p.connect();
    let first = p.client.player().unwrap();
    p.client.goodbye();
    p.pump();
    assert_eq!(p.closed_by_server, Some(DisconnectReason::ClientQuit));
    assert_eq!(p.node.player_count(), 0);
    assert!(!p.client.can_resume());
    p.connect();
    assert_ne!(p.client.player(), Some(first));
}

#[test]
fn a_silent_server_during_handshake_times_out() {
    let mut p = Pair::new(ClientConfig::new("ada"));
    p.link_up = false;
    p.client.connect(p.now);
    p.advance(Duration::from_secs(11));
    assert_eq!(
        p.client.state(),
        &ClientState::Disconnected {
            reason: DisconnectReason::HandshakeTimeout
        }
    );
}

#[test]
fn garbage_from_the_server_ends_the_connection() {
    let mut c = Client::new(ClientConfig::new("ada"));
    c.connect(Instant::ZERO);
    c.handle_bytes(Instant::ZERO, &[2, 0, 0, 0, 0xff, 0xff]);
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Disconnected {
            reason: DisconnectReason::ProtocolViolation(Violation::Malformed)
        })
    );
}

#[test]
fn recycled_buffers_carry_the_same_bytes_and_are_reused() {
    // A hello, then a goodbye: two writes, the second into the first's
    // buffer when it is given back, with the same bytes either way.
    let writes = |recycle: bool| {
        let mut client = Client::new(ClientConfig::new("ada"));
        client.connect(Instant::ZERO);
        let hello = client.poll_transmit().unwrap();
        let (ptr, capacity) = (hello.as_ptr(), hello.capacity());
        let first = hello.clone();
        if recycle {
            client.recycle(hello);
        }
        client.goodbye();
        let bye = client.poll_transmit().unwrap();
        if recycle {
            assert_eq!(bye.as_ptr(), ptr, "the given-back buffer is the next one");
            assert!(bye.capacity() >= capacity);
        }
        // A huge buffer is not kept.
        client.recycle(Vec::with_capacity(1 << 20));
        assert!(client.spare.capacity() < 1 << 20);
        (first, bye)
    };
    let plain = writes(false);
    assert!(!plain.1.is_empty());
    assert_eq!(writes(true), plain);
}

/// The client shows fights: its skillbook and vitals, others' health bars
/// from spawns and events, its own cast while it lasts; a slow lowers the
/// speed it predicts at.
#[test]
fn the_client_shows_casts_health_bars_and_its_vitals() {
    use crate::content::{Content, MonsterKindId};
    use crate::protocol::{CombatEvent, EntityKind};
    let mut content = Content::sample();
    // A tough slime on the spawn point, in firebolt's range of everyone
    // arriving.
    content.monsters[0].health = 5_000;
    let content = content.with_one_monster_at("meadow", (40, 60), MonsterKindId(0));
    let mut p = Pair::new(ClientConfig::new("ada"));
    p.node = Node::with_content(NodeConfig::default(), 1, Vec::new(), Arc::new(content)).unwrap();
    p.connect();
    p.advance(Duration::from_millis(200));
    let fight = p.client.fight();
    assert_eq!(fight.skillbook.skills.len(), 8);
    let me = fight.vitals.expect("vitals in the first update");
    assert_eq!((me.health, me.level, me.speed_pct), (me.max_health, 1, 100));
    let slime = p
        .client
        .remotes()
        .iter()
        .find(|(_, r)| r.kind == EntityKind::Monster)
        .map(|(id, _)| *id)
        .expect("the slime in view");
    assert_eq!(
        fight.bar(slime).map(|b| (b.look, b.level, b.health)),
        Some((0, 1, 255))
    );

    const FIREBOLT: u16 = 1;
    p.client.use_skill(FIREBOLT, Some(slime));
    p.advance(Duration::from_millis(100));
    let (skill, _) = p.client.fight().casting.expect("its own cast shows");
    assert_eq!(skill, FIREBOLT);
    p.advance(Duration::from_millis(1_600));
    assert_eq!(p.client.fight().casting, None, "the cast ended");
    assert!(
        p.client.fight().bar(slime).unwrap().health < 255,
        "the bar went down"
    );
    assert!(
        p.client.fight().vitals.unwrap().mana < me.mana,
        "mana was paid"
    );
    assert!(p.events.iter().any(|e| matches!(
        e,
        ClientEvent::Combat(CombatEvent::Hit { target, skill: FIREBOLT, .. }) if *target == slime
    )));
    // Still predicting: a move goes out and is not corrected.
    p.client.move_with(p.now, Vec2::from_ints(1, 0));
    p.advance(Duration::from_millis(200));
    assert!(!p
        .events
        .iter()
        .any(|e| matches!(e, ClientEvent::Corrected { .. })));
}
