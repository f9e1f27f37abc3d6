//! The node driven with no IO: logins, duplicate logins, resume within and after
//! the grace period, limits, kicks and shutdown. Time jumps from deadline to
//! deadline, so "wait 30 seconds" costs nothing.

use super::*;
use crate::bus::{BusMessage, Topic};
use crate::ids::{EntityId, ZoneId};
use crate::persist::{MemoryStore, Outcome};
use crate::protocol::{
    encode_frame, ChannelRefusal, ClientMsg, ClientSession, ClientWorld, Credentials, FrameDecoder,
    LoginRefusal, NoticeLevel, ResumeToken, ServerMsg, ServerSession, ServerWorld, Violation,
    MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};
use std::collections::BTreeSet;

struct Harness {
    node: Node,
    now: Instant,
    decoders: BTreeMap<ConnId, FrameDecoder>,
    inbox: BTreeMap<ConnId, Vec<ServerMsg>>,
    closed: BTreeMap<ConnId, DisconnectReason>,
    events: Vec<NodeEvent>,
    /// Connections whose client answers heartbeats.
    answering: BTreeSet<ConnId>,
    /// Executes the node's persistence intents, answering at once.
    store: MemoryStore,
    /// Outcomes held back instead (while `hold_outcomes` is set).
    held: Vec<Outcome>,
    hold_outcomes: bool,
    published: Vec<BusMessage>,
    subscribed: Vec<Topic>,
}

impl Harness {
    fn new() -> Self {
        Self::with_config(NodeConfig::default())
    }

    fn with_config(config: NodeConfig) -> Self {
        Harness {
            node: Node::new(config, 7).unwrap(),
            now: Instant::ZERO,
            decoders: BTreeMap::new(),
            inbox: BTreeMap::new(),
            closed: BTreeMap::new(),
            events: Vec::new(),
            answering: BTreeSet::new(),
            store: MemoryStore::default(),
            held: Vec::new(),
            hold_outcomes: false,
            published: Vec::new(),
            subscribed: Vec::new(),
        }
    }

    fn connect(&mut self, c: u64) -> ConnId {
        let conn = ConnId(c);
        self.decoders
            .insert(conn, FrameDecoder::new(MAX_SERVER_PAYLOAD));
        self.node.handle_connect(self.now, conn);
        self.drain();
        conn
    }

    fn send(&mut self, conn: ConnId, msgs: &[ClientMsg]) {
        let mut bytes = Vec::new();
        for m in msgs {
            encode_frame(m, MAX_CLIENT_PAYLOAD, &mut bytes).unwrap();
        }
        self.node.handle_bytes(self.now, conn, &bytes);
        self.drain();
    }

    fn drain(&mut self) {
        let mut pongs = Vec::new();
        let mut bus_back = Vec::new();
        while let Some(out) = self.node.poll_output() {
            match out {
                Output::Transmit { conn, bytes } => {
                    let dec = self
                        .decoders
                        .get_mut(&conn)
                        .expect("transmit to unknown conn");
                    let mut input = &bytes[..];
                    while let Some(p) = dec.decode(&mut input).unwrap() {
                        let msg = ServerMsg::decode(p).unwrap();
                        if let (
                            true,
                            ServerMsg::Session(ServerSession::Ping {
                                seq,
                                server_time_us,
                            }),
                        ) = (self.answering.contains(&conn), &msg)
                        {
                            pongs.push((
                                conn,
                                ClientMsg::Session(ClientSession::Pong {
                                    seq: *seq,
                                    server_time_us: *server_time_us,
                                    client_time_us: 0,
                                }),
                            ));
                        }
                        self.inbox.entry(conn).or_default().push(msg);
                    }
                    self.node.handle_flushed(conn, bytes.len());
                }
                Output::Close { conn, reason } => {
                    assert!(self.closed.insert(conn, reason).is_none(), "closed twice");
                }
                Output::Event(e) => self.events.push(e),
                Output::Persist(intent) => {
                    let outcome = self.store.apply(&intent);
                    if self.hold_outcomes {
                        self.held.push(outcome);
                    } else {
                        self.node.handle_store_outcome(self.now, outcome);
                    }
                }
                Output::Publish(m) => {
                    self.published.push(m.clone());
                    // One server: the bus hands the node its own messages.
                    if self.subscribed.contains(&m.topic()) {
                        bus_back.push(m);
                    }
                }
                Output::Subscribe(topic) => self.subscribed.push(topic),
            }
        }
        for m in bus_back {
            self.node.handle_bus(self.now, m);
            self.drain();
        }
        for (conn, pong) in pongs {
            self.send(conn, &[pong]);
        }
    }

    fn take(&mut self, conn: ConnId) -> Vec<ServerMsg> {
        self.inbox.remove(&conn).unwrap_or_default()
    }

    /// Jumps time forward, running every deadline on the way.
    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(at) = self.node.poll_timeout().filter(|&at| at <= end) {
            assert!(at >= self.now, "a deadline in the past");
            self.now = at;
            self.node.handle_timeout(at);
            self.drain();
        }
        self.now = end;
    }

    /// Connects, says hello and logs in; returns the welcome's player and token.
    fn login(&mut self, c: u64, name: &str) -> (ConnId, PlayerId, ResumeToken) {
        let conn = self.connect(c);
        self.send(conn, &[hello(), login(name)]);
        let (player, token) = welcome(&self.take(conn));
        (conn, player, token)
    }
}

fn hello() -> ClientMsg {
    ClientMsg::Session(ClientSession::Hello {
        protocol_version: PROTOCOL_VERSION,
        client: "test".into(),
    })
}

fn login(name: &str) -> ClientMsg {
    ClientMsg::Session(ClientSession::Login {
        credentials: Credentials::Dev { name: name.into() },
    })
}

fn welcome(msgs: &[ServerMsg]) -> (PlayerId, ResumeToken) {
    match msgs.first() {
        Some(ServerMsg::Session(ServerSession::Welcome {
            player,
            resume_token,
            ..
        })) => (*player, *resume_token),
        other => panic!("expected a welcome, got {other:?} in {msgs:?}"),
    }
}

fn resumed_flag(msgs: &[ServerMsg]) -> bool {
    matches!(
        msgs.first(),
        Some(ServerMsg::Session(ServerSession::Welcome {
            resumed: true,
            ..
        }))
    )
}

fn disconnect(reason: DisconnectReason) -> Vec<ServerMsg> {
    vec![ServerMsg::Session(ServerSession::Disconnect { reason })]
}

#[test]
fn login_and_enter_world() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    h.send(conn, &[ClientMsg::Session(ClientSession::EnterWorld)]);
    assert!(matches!(
        &h.take(conn)[..],
        [
            ServerMsg::Session(ServerSession::EnteredWorld { .. }),
            ServerMsg::World(ServerWorld::ZoneEntered(_))
        ]
    ));
    assert!(h.node.player(player).unwrap().in_world);
    assert_eq!(
        h.events,
        vec![
            NodeEvent::LoggedIn {
                conn,
                player,
                name: "ada".into()
            },
            NodeEvent::EnteredWorld { player }
        ]
    );
}

#[test]
fn pipelined_handshake_in_one_read() {
    let mut h = Harness::new();
    let conn = h.connect(1);
    h.send(
        conn,
        &[
            hello(),
            login("ada"),
            ClientMsg::Session(ClientSession::EnterWorld),
        ],
    );
    let msgs = h.take(conn);
    assert!(matches!(
        &msgs[..],
        [
            ServerMsg::Session(ServerSession::Welcome { .. }),
            ServerMsg::Session(ServerSession::EnteredWorld { .. }),
            ServerMsg::World(ServerWorld::ZoneEntered(_))
        ]
    ));
}

#[test]
fn second_login_closes_the_first_and_keeps_one_player() {
    let mut h = Harness::new();
    let (first, player, _) = h.login(1, "ada");
    let (second, player2, _) = h.login(2, "ada");
    assert_eq!(
        player, player2,
        "the account's player moves, no second player"
    );
    assert_eq!(
        h.take(first),
        disconnect(DisconnectReason::LoggedInElsewhere)
    );
    assert_eq!(
        h.closed.get(&first),
        Some(&DisconnectReason::LoggedInElsewhere)
    );
    assert!(!h.closed.contains_key(&second));
    assert_eq!(h.node.player_count(), 1);
    assert_eq!(h.node.session_count(), 1);
    assert_eq!(h.node.player(player).unwrap().conn, Some(second));
    // The first connection's late bytes reach nobody.
    h.send(first, &[ClientMsg::Session(ClientSession::Goodbye)]);
    assert_eq!(h.node.player_count(), 1);
    assert_eq!(h.node.stats().input_after_close, 1);
}

#[test]
fn dropped_connection_keeps_the_player_and_resume_gets_it_back() {
    let mut h = Harness::new();
    let (conn, player, token) = h.login(1, "ada");
    h.node.handle_disconnect(h.now, conn);
    h.drain();
    assert_eq!(h.closed.get(&conn), Some(&DisconnectReason::ConnectionLost));
    assert_eq!(
        h.take(conn),
        vec![],
        "nothing is written to a dead transport"
    );
    let kept = h.node.player(player).unwrap();
    assert_eq!(kept.conn, None);
    assert_eq!(
        kept.grace_until,
        Some(Instant::ZERO + Duration::from_secs(30))
    );

    h.advance(Duration::from_secs(29));
    let conn2 = h.connect(2);
    h.send(
        conn2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    let msgs = h.take(conn2);
    assert!(resumed_flag(&msgs));
    let (same, new_token) = welcome(&msgs);
    assert_eq!(same, player);
    assert_ne!(new_token, token, "the token rotates on every resume");
    assert_eq!(h.node.player(player).unwrap().conn, Some(conn2));
    // The grace timer is gone: the player stays past the old deadline.
    h.answering.insert(conn2);
    h.advance(Duration::from_secs(60));
    assert!(h.node.player(player).is_some());
}

#[test]
fn resume_after_the_grace_period_is_rejected() {
    let mut h = Harness::new();
    let (conn, player, token) = h.login(1, "ada");
    h.node.handle_disconnect(h.now, conn);
    h.drain();
    h.advance(Duration::from_secs(30));
    assert!(h.node.player(player).is_none());
    assert!(h.events.contains(&NodeEvent::PlayerLeft {
        player,
        reason: DisconnectReason::ConnectionLost
    }));
    let conn2 = h.connect(2);
    h.send(
        conn2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    assert_eq!(h.take(conn2), disconnect(DisconnectReason::ResumeRejected));
    // A fresh login still works, as a new player.
    let (_, again, _) = h.login(3, "ada");
    assert_ne!(again, player);
}

#[test]
fn resume_with_a_wrong_token_is_rejected_and_the_player_kept() {
    let mut h = Harness::new();
    let (conn, player, token) = h.login(1, "ada");
    h.node.handle_disconnect(h.now, conn);
    h.drain();
    let mut forged = token;
    forged.0[0] ^= 1;
    let conn2 = h.connect(2);
    h.send(
        conn2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume {
                player,
                token: forged,
            }),
        ],
    );
    assert_eq!(h.take(conn2), disconnect(DisconnectReason::ResumeRejected));
    assert!(h.node.player(player).is_some());
    let conn3 = h.connect(3);
    h.send(
        conn3,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    assert!(resumed_flag(&h.take(conn3)));
}

#[test]
fn resume_over_a_half_open_connection_closes_the_old_one() {
    let mut h = Harness::new();
    let (old, player, token) = h.login(1, "ada");
    let conn2 = h.connect(2);
    h.send(
        conn2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    assert!(resumed_flag(&h.take(conn2)));
    assert_eq!(
        h.closed.get(&old),
        Some(&DisconnectReason::LoggedInElsewhere)
    );
    assert_eq!(h.node.session_count(), 1);
}

#[test]
fn idle_timeout_detaches_and_the_grace_period_then_removes() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    h.advance(Duration::from_secs(15));
    assert_eq!(h.closed.get(&conn), Some(&DisconnectReason::IdleTimeout));
    assert_eq!(h.node.player(player).unwrap().conn, None);
    h.advance(Duration::from_secs(30));
    assert!(h.node.player(player).is_none());
    assert_eq!(h.node.poll_timeout(), None, "no timers left behind");
}

#[test]
fn heartbeats_keep_an_answering_client_connected() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    h.answering.insert(conn);
    h.advance(Duration::from_secs(600));
    assert!(!h.closed.contains_key(&conn));
    assert_eq!(h.node.player(player).unwrap().conn, Some(conn));
    let rtt = h.node.session(conn).unwrap().pinger().rtt().latest();
    assert_eq!(
        rtt,
        Some(Duration::ZERO),
        "answered within the same instant"
    );
}

#[test]
fn goodbye_removes_the_player_at_once() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    h.send(conn, &[ClientMsg::Session(ClientSession::Goodbye)]);
    assert_eq!(h.take(conn), disconnect(DisconnectReason::ClientQuit));
    assert!(h.node.player(player).is_none());
    assert_eq!(h.node.stats().disconnects.get("client_quit"), Some(&1));
}

#[test]
fn garbage_closes_only_that_connection() {
    let mut h = Harness::new();
    let (good, player, _) = h.login(1, "ada");
    let bad = h.connect(2);
    h.node
        .handle_bytes(h.now, bad, &[5, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0xff]);
    h.drain();
    assert_eq!(
        h.closed.get(&bad),
        Some(&DisconnectReason::ProtocolViolation(Violation::Malformed))
    );
    assert!(!h.closed.contains_key(&good));
    assert_eq!(h.node.player(player).unwrap().conn, Some(good));
}

#[test]
fn cheating_player_is_removed_not_kept_for_resume() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    h.send(conn, &[login("ada")]);
    assert_eq!(
        h.closed.get(&conn),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::UnexpectedMessage
        ))
    );
    assert!(h.node.player(player).is_none());
}

#[test]
fn invalid_names_are_refused() {
    let mut h = Harness::new();
    for (i, name) in ["", " ada", "a\u{7}b", &"x".repeat(33)].iter().enumerate() {
        let conn = h.connect(i as u64 + 1);
        h.send(conn, &[hello(), login(name)]);
        assert_eq!(
            h.take(conn),
            disconnect(DisconnectReason::LoginRefused(LoginRefusal::InvalidName)),
            "name {name:?}"
        );
    }
    assert_eq!(h.node.player_count(), 0);
}

#[test]
fn over_the_session_cap_the_client_is_told_server_full() {
    let mut h = Harness::with_config(NodeConfig {
        max_sessions: 1,
        ..NodeConfig::default()
    });
    h.login(1, "ada");
    let conn = h.connect(2);
    assert_eq!(h.take(conn), disconnect(DisconnectReason::ServerFull));
    assert_eq!(h.closed.get(&conn), Some(&DisconnectReason::ServerFull));
}

#[test]
fn over_the_player_cap_login_is_refused() {
    let mut h = Harness::with_config(NodeConfig {
        max_players: 1,
        ..NodeConfig::default()
    });
    h.login(1, "ada");
    let conn = h.connect(2);
    h.send(conn, &[hello(), login("bob")]);
    assert_eq!(h.take(conn), disconnect(DisconnectReason::ServerFull));
}

#[test]
fn kick_tells_the_player_why() {
    let mut h = Harness::new();
    let (conn, player, _) = h.login(1, "ada");
    assert!(h.node.kick(h.now, player, "spamming".into()));
    h.drain();
    assert_eq!(
        h.take(conn),
        disconnect(DisconnectReason::Kicked {
            message: "spamming".into()
        })
    );
    assert!(h.node.player(player).is_none());
    assert!(!h.node.kick(h.now, player, "again".into()));
}

#[test]
fn notice_reaches_everyone_connected() {
    let mut h = Harness::new();
    let (a, _, _) = h.login(1, "ada");
    let (b, _, _) = h.login(2, "bob");
    h.node
        .notice(h.now, None, NoticeLevel::Warning, "restart in 5 minutes");
    h.drain();
    for conn in [a, b] {
        assert_eq!(
            h.take(conn),
            vec![ServerMsg::Session(ServerSession::Notice {
                level: NoticeLevel::Warning,
                text: "restart in 5 minutes".into()
            })]
        );
    }
}

#[test]
fn shutdown_tells_everyone_and_refuses_newcomers() {
    let mut h = Harness::new();
    let (a, _, _) = h.login(1, "ada");
    let (b, player_b, _) = h.login(2, "bob");
    h.node.handle_disconnect(h.now, b);
    h.drain();
    assert!(h.node.player(player_b).is_some());
    h.node.shutdown(h.now);
    h.drain();
    assert_eq!(h.take(a), disconnect(DisconnectReason::ServerShutdown));
    assert_eq!(h.node.player_count(), 0);
    assert_eq!(h.node.session_count(), 0);
    let late = h.connect(3);
    assert_eq!(h.take(late), disconnect(DisconnectReason::ServerShutdown));
    assert_eq!(h.node.poll_timeout(), None);
}

#[test]
fn spurious_timeouts_are_harmless() {
    let mut h = Harness::new();
    let (conn, _, _) = h.login(1, "ada");
    for _ in 0..10 {
        h.node.handle_timeout(h.now);
    }
    h.drain();
    assert!(h.take(conn).is_empty());
    assert!(!h.closed.contains_key(&conn));
}

#[test]
fn same_seed_same_tokens() {
    let run = || {
        let mut h = Harness::new();
        (0..5)
            .map(|i| h.login(i, &format!("p{i}")).2)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

fn zone_entered(msgs: &[ServerMsg]) -> crate::protocol::ZoneEntered {
    msgs.iter()
        .find_map(|m| match m {
            ServerMsg::World(ServerWorld::ZoneEntered(z)) => Some(z.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no ZoneEntered in {msgs:?}"))
}

fn world_updates(msgs: &[ServerMsg]) -> Vec<crate::protocol::WorldUpdate> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::World(ServerWorld::WorldUpdate(u)) => Some(u.clone()),
            _ => None,
        })
        .collect()
}

impl Harness {
    fn enter(&mut self, c: u64, name: &str) -> (ConnId, crate::protocol::ZoneEntered) {
        let (conn, _, _) = self.login(c, name);
        self.answering.insert(conn);
        self.send(conn, &[ClientMsg::Session(ClientSession::EnterWorld)]);
        (conn, zone_entered(&self.take(conn)))
    }
}

fn small_channels() -> NodeConfig {
    let mut config = NodeConfig::default();
    config.world.zone.max_players = 2;
    config.world.max_channels = 2;
    config
}

#[test]
fn a_full_map_sends_newcomers_to_another_channel_until_all_are_full() {
    let mut h = Harness::with_config(small_channels());
    let channels: Vec<u16> = (1..=4)
        .map(|i| h.enter(i, &format!("p{i}")).1.channel)
        .collect();
    assert_eq!(channels, vec![0, 0, 1, 1]);
    let (conn, _, _) = h.login(5, "p5");
    h.send(conn, &[ClientMsg::Session(ClientSession::EnterWorld)]);
    assert!(h
        .take(conn)
        .contains(&ServerMsg::Session(ServerSession::Disconnect {
            reason: DisconnectReason::ServerFull
        })));
}

#[test]
fn switching_channel_moves_the_character_or_says_why_not() {
    let mut h = Harness::with_config(small_channels());
    let (a, za) = h.enter(1, "a");
    h.enter(2, "b");
    let (c, zc) = h.enter(3, "c");
    assert_eq!((za.channel, zc.channel), (0, 1));
    h.send(
        c,
        &[ClientMsg::World(ClientWorld::SwitchChannel { channel: 0 })],
    );
    assert!(h
        .take(c)
        .contains(&ServerMsg::World(ServerWorld::ChannelRefused {
            channel: 0,
            reason: ChannelRefusal::Full
        })));
    h.send(
        c,
        &[ClientMsg::World(ClientWorld::SwitchChannel { channel: 1 })],
    );
    assert!(h
        .take(c)
        .contains(&ServerMsg::World(ServerWorld::ChannelRefused {
            channel: 1,
            reason: ChannelRefusal::AlreadyThere
        })));
    h.send(
        a,
        &[ClientMsg::World(ClientWorld::SwitchChannel { channel: 1 })],
    );
    let moved = zone_entered(&h.take(a));
    assert_eq!(moved.channel, 1);
    assert_eq!(moved.pos, za.pos, "same place, other channel");
    assert_eq!(
        moved.epoch,
        za.epoch + 1,
        "inputs in flight for the old zone are ignored"
    );
}

#[test]
fn transfer_moves_the_character_and_observers_see_it_leave_and_appear() {
    let mut h = Harness::new();
    let (a, za) = h.enter(1, "a");
    let (b, _) = h.enter(2, "b");
    h.advance(Duration::from_millis(60));
    let spawned: Vec<_> = world_updates(&h.take(b))
        .iter()
        .flat_map(|u| u.spawns.clone())
        .collect();
    assert!(spawned.iter().any(|s| s.entity == za.entity), "b sees a");
    h.take(a);
    let player_a = h
        .node
        .sessions()
        .find(|s| s.conn() == a)
        .unwrap()
        .player()
        .unwrap();
    h.node.transfer(h.now, player_a, "forest").unwrap();
    h.drain();
    let to = zone_entered(&h.take(a));
    assert_eq!(to.map, "forest");
    h.advance(Duration::from_millis(60));
    let despawned: Vec<_> = world_updates(&h.take(b))
        .iter()
        .flat_map(|u| u.despawns.clone())
        .collect();
    assert_eq!(despawned, vec![za.entity]);
    assert_eq!(h.node.stats().transfers, 1);
    assert_eq!(
        h.node.transfer(h.now, player_a, "nowhere"),
        Err(TransferError::NoSuchMap)
    );
}

#[test]
fn a_resumed_connection_gets_its_zone_and_every_spawn_before_any_update_with_no_round_trip() {
    let mut h = Harness::new();
    let (a, za) = h.enter(1, "a");
    h.enter(2, "b");
    h.advance(Duration::from_millis(60));
    let player = h.node.session(a).unwrap().player().unwrap();
    let token = h.node.player(player).unwrap().resume_token;
    h.node.handle_disconnect(h.now, a);
    h.drain();
    h.advance(Duration::from_secs(5));
    let a2 = h.connect(10);
    h.answering.insert(a2);
    // No EnterWorld: the server puts a resumed player back by itself.
    h.send(
        a2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    let first = h.take(a2);
    assert!(matches!(
        first[0],
        ServerMsg::Session(ServerSession::Welcome { resumed: true, .. })
    ));
    assert!(matches!(
        first[1],
        ServerMsg::Session(ServerSession::EnteredWorld { .. })
    ));
    let again = zone_entered(&first);
    assert_eq!(
        (again.entity, again.pos, again.zone),
        (za.entity, za.pos, za.zone)
    );
    assert!(again.epoch > za.epoch);
    // Moving at once is allowed.
    let step = crate::protocol::MoveInput {
        seq: 1,
        epoch: again.epoch,
        client_time_us: 0,
        pos: again.pos,
        vel: crate::math::Vec2::ZERO,
    };
    h.send(a2, &[ClientMsg::World(ClientWorld::Move(step))]);
    assert!(!h.closed.contains_key(&a2));
    // Everything in view is spawned afresh before any update refers to it.
    h.advance(Duration::from_millis(500));
    let mut spawned = BTreeSet::new();
    let updates = world_updates(&h.take(a2));
    for u in &updates {
        spawned.extend(u.spawns.iter().map(|s| s.entity));
        for d in &u.despawns {
            spawned.remove(d);
        }
        for m in &u.updates {
            assert!(
                spawned.contains(&m.entity),
                "update for unspawned {:?}",
                m.entity
            );
        }
    }
    assert!(updates.iter().map(|u| u.spawns.len()).sum::<usize>() >= 1);
}

#[test]
fn entering_the_world_again_after_a_resume_is_a_violation() {
    let mut h = Harness::new();
    let (a, _) = h.enter(1, "a");
    let player = h.node.session(a).unwrap().player().unwrap();
    let token = h.node.player(player).unwrap().resume_token;
    h.node.handle_disconnect(h.now, a);
    h.drain();
    let a2 = h.connect(10);
    h.send(
        a2,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
            ClientMsg::Session(ClientSession::EnterWorld),
        ],
    );
    assert_eq!(
        h.closed.get(&a2),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::UnexpectedMessage
        ))
    );
}

#[test]
fn a_player_who_leaves_is_removed_from_its_zone() {
    let mut h = Harness::new();
    let (a, za) = h.enter(1, "a");
    h.send(a, &[ClientMsg::Session(ClientSession::Goodbye)]);
    let zone = h.node.world().zone(za.zone).unwrap();
    assert_eq!(zone.position(za.entity), None);
    assert_eq!(zone.player_count(), 0);
}

#[test]
fn moving_before_entering_the_world_is_a_violation() {
    let mut h = Harness::new();
    let (conn, _, _) = h.login(1, "a");
    h.send(
        conn,
        &[ClientMsg::World(ClientWorld::Move(
            crate::protocol::MoveInput {
                seq: 1,
                epoch: 0,
                client_time_us: 0,
                pos: crate::math::Vec2::ZERO,
                vel: crate::math::Vec2::ZERO,
            },
        ))],
    );
    assert_eq!(
        h.closed.get(&conn),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::UnexpectedMessage
        ))
    );
}

/// Records the observer calls, so the pairing can be checked.
#[derive(Default)]
struct Calls(Vec<(bool, ZoneId)>);

impl TickObserver for Calls {
    fn zone_tick_started(&mut self, zone: ZoneId) {
        self.0.push((true, zone));
    }
    fn zone_tick_finished(&mut self, zone: ZoneId) {
        self.0.push((false, zone));
    }
}

#[test]
fn the_tick_observer_hears_each_zone_with_players_start_and_finish() {
    let mut h = Harness::new();
    let (conn, _, _) = h.login(1, "ada");
    h.send(conn, &[ClientMsg::Session(ClientSession::EnterWorld)]);
    let zone = match h.take(conn).last() {
        Some(ServerMsg::World(ServerWorld::ZoneEntered(z))) => z.zone,
        other => panic!("expected ZoneEntered, got {other:?}"),
    };
    let mut calls = Calls::default();
    // Nothing is due yet: no tick, no calls.
    h.node.handle_timeout_observed(h.now, &mut calls);
    assert!(calls.0.is_empty());
    let due = h.node.poll_timeout().unwrap();
    let ticks = h.node.stats().ticks;
    h.now = due;
    h.node.handle_timeout_observed(due, &mut calls);
    h.drain();
    assert_eq!(h.node.stats().ticks, ticks + 1);
    // One zone has a player (the other maps' zones are empty and skipped).
    assert_eq!(calls.0, vec![(true, zone), (false, zone)]);
}

#[test]
fn big_written_buffers_are_not_kept_for_reuse() {
    let mut h = Harness::new();
    let conn = h.connect(1);
    // A write to a client that had fallen behind, given back once written.
    h.node.recycle(Vec::with_capacity(1024 * 1024));
    h.node.recycle(Vec::with_capacity(1024));
    h.node
        .handle_bytes(h.now, conn, &frame_bytes(&[hello(), login("ada")]));
    let mut capacities = Vec::new();
    while let Some(out) = h.node.poll_output() {
        if let Output::Transmit { bytes, .. } = out {
            capacities.push(bytes.capacity());
        }
    }
    assert!(!capacities.is_empty());
    assert!(
        capacities
            .iter()
            .all(|&c| c <= outbox::MAX_REUSABLE_CAPACITY),
        "{capacities:?}"
    );
    assert!(h
        .node
        .outbox
        .reusable_buffers
        .iter()
        .all(|b| b.capacity() <= outbox::MAX_REUSABLE_CAPACITY));
}

fn frame_bytes(msgs: &[ClientMsg]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for m in msgs {
        encode_frame(m, MAX_CLIENT_PAYLOAD, &mut bytes).unwrap();
    }
    bytes
}

fn enter_and_leave(h: &mut Harness, c: u64, name: &str) {
    let (conn, _, _) = h.login(c, name);
    h.send(conn, &[ClientMsg::Session(ClientSession::EnterWorld)]);
    h.send(conn, &[ClientMsg::Session(ClientSession::Goodbye)]);
}

#[test]
fn a_leaving_character_s_place_is_saved_through_the_store() {
    let mut h = Harness::new();
    enter_and_leave(&mut h, 1, "ada");
    let place = h
        .store
        .place("ada")
        .expect("the store was asked to save")
        .clone();
    assert_eq!(place.map, "meadow");
    assert_eq!(h.node.pending_intents(), 0, "the outcome came back");
    assert_eq!(h.node.stats().store_intents, 1);
    assert_eq!(h.node.stats().store_acknowledged, 1);
    // Never entered the world: nothing to save.
    let (conn, _, _) = h.login(2, "bob");
    h.send(conn, &[ClientMsg::Session(ClientSession::Goodbye)]);
    assert_eq!(h.node.stats().store_intents, 1);
}

#[test]
fn intents_wait_for_their_outcome_within_a_bound_and_a_repeated_outcome_is_ignored() {
    let mut h = Harness::with_config(NodeConfig {
        max_pending_intents: 1,
        max_players: 1,
        ..NodeConfig::default()
    });
    h.hold_outcomes = true;
    enter_and_leave(&mut h, 1, "ada");
    enter_and_leave(&mut h, 2, "bob");
    assert_eq!(h.node.pending_intents(), 1, "still waiting for the store");
    assert_eq!(
        h.node.stats().store_dropped,
        1,
        "past the bound: dropped, counted"
    );
    let held = std::mem::take(&mut h.held);
    assert_eq!(held.len(), 1);
    h.node.handle_store_outcome(h.now, held[0].clone());
    assert_eq!(h.node.pending_intents(), 0);
    assert_eq!(h.node.stats().store_acknowledged, 1);
    h.node.handle_store_outcome(h.now, held[0].clone());
    assert_eq!(h.node.stats().store_unexpected, 1);
    assert_eq!(h.node.stats().store_acknowledged, 1, "not counted twice");
}

#[test]
fn a_failed_outcome_is_counted_and_ends_the_wait() {
    let mut h = Harness::new();
    h.hold_outcomes = true;
    enter_and_leave(&mut h, 1, "ada");
    let id = h.held.pop().unwrap().id;
    h.node.handle_store_outcome(
        h.now,
        Outcome {
            id,
            result: Err(crate::persist::StoreError::Unavailable),
        },
    );
    assert_eq!(h.node.pending_intents(), 0);
    assert_eq!(h.node.stats().store_failed, 1);
}

#[test]
fn presence_is_published_when_an_account_comes_online_and_leaves() {
    let mut h = Harness::new();
    enter_and_leave(&mut h, 1, "ada");
    assert_eq!(
        h.published,
        vec![
            BusMessage::Presence {
                account: "ada".into(),
                online: true
            },
            BusMessage::Presence {
                account: "ada".into(),
                online: false
            },
        ]
    );
    assert_eq!(h.subscribed, vec![Topic::Announcements]);
}

#[test]
fn an_announcement_goes_out_on_the_bus_and_reaches_every_player_when_it_comes_back() {
    let mut h = Harness::new();
    let (a, _, _) = h.login(1, "ada");
    let (b, _, _) = h.login(2, "bob");
    h.node
        .announce(NoticeLevel::Warning, "restart in 5 minutes");
    assert!(
        h.take(a).is_empty(),
        "nothing is shown before the bus hands it back"
    );
    h.drain();
    let notice = ServerMsg::Session(ServerSession::Notice {
        level: NoticeLevel::Warning,
        text: "restart in 5 minutes".into(),
    });
    assert_eq!(h.take(a), vec![notice.clone()]);
    assert_eq!(h.take(b), vec![notice]);
    assert_eq!(h.node.stats().bus_received, 1);
}

#[test]
fn moving_a_player_who_is_not_in_the_world_names_that_cause() {
    let mut h = Harness::new();
    let (_, player, _) = h.login(1, "ada");
    assert_eq!(
        h.node.transfer(h.now, player, "forest"),
        Err(TransferError::NotInWorld)
    );
    assert_eq!(
        h.node
            .teleport(h.now, PlayerId(999), crate::math::Vec2::ZERO),
        Err(TransferError::NoSuchPlayer)
    );
}

#[test]
fn a_connection_admitted_only_to_resume_is_refused_a_new_player_but_takes_back_a_kept_one() {
    let mut h = Harness::new();
    let (a, player, token) = h.login(1, "ada");
    h.node.handle_disconnect(h.now, a);
    h.drain();
    // A new character: refused before any welcome, with a typed reason.
    let fresh = ConnId(2);
    h.decoders
        .insert(fresh, FrameDecoder::new(MAX_SERVER_PAYLOAD));
    h.node.handle_connect_resume_only(h.now, fresh);
    h.drain();
    h.send(fresh, &[hello(), login("bob")]);
    assert_eq!(
        h.take(fresh),
        disconnect(DisconnectReason::TooManyConnections)
    );
    assert_eq!(h.node.player_count(), 1, "no player was made for bob");
    // The kept character comes back on such a connection.
    let back = ConnId(3);
    h.decoders
        .insert(back, FrameDecoder::new(MAX_SERVER_PAYLOAD));
    h.node.handle_connect_resume_only(h.now, back);
    h.drain();
    h.send(
        back,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    assert_eq!(welcome(&h.take(back)).0, player);
}

#[test]
fn a_client_fetches_the_map_it_is_in_chunk_by_chunk_and_can_verify_it() {
    let big = crate::zone::Map::open("plain", 3000, 100, 1);
    let mut config = NodeConfig::default();
    config.world.start_map = "plain".into();
    let mut h = Harness {
        node: Node::with_maps(config, 7, vec![big.clone()]).unwrap(),
        ..Harness::new()
    };
    let (conn, entered) = h.enter(1, "ada");
    assert_eq!(entered.map_checksum, big.checksum());
    let mut next = 0;
    let mut chunks = 0;
    while next < big.height() {
        h.send(
            conn,
            &[ClientMsg::World(ClientWorld::FetchMap { first_row: next })],
        );
        let chunk = h
            .take(conn)
            .into_iter()
            .find_map(|m| match m {
                ServerMsg::World(ServerWorld::MapChunk(c)) => Some(c),
                _ => None,
            })
            .expect("a map chunk");
        assert_eq!(
            (
                chunk.map.as_str(),
                chunk.checksum,
                chunk.width,
                chunk.height
            ),
            ("plain", big.checksum(), 3000, 100)
        );
        assert_eq!(chunk.first_row, next);
        assert!(chunk.rows > 0 && chunk.walkable.len() <= crate::protocol::MAX_MAP_CHUNK_BYTES);
        // Every bit says what the server's own walkability check says.
        for y in chunk.first_row..chunk.first_row + chunk.rows {
            for x in 0..3000 {
                let i = ((y - chunk.first_row) * 3000 + x) as usize;
                let bit = chunk.walkable[i / 8] >> (i % 8) & 1 == 1;
                assert_eq!(bit, big.is_walkable(big.cell_center((x, y))), "({x}, {y})");
            }
        }
        next += chunk.rows;
        chunks += 1;
    }
    assert!(chunks > 1, "a big map takes several chunks");
    // Past the last row: an empty chunk, not an error.
    h.send(
        conn,
        &[ClientMsg::World(ClientWorld::FetchMap { first_row: 5000 })],
    );
    let past = h.take(conn);
    assert!(matches!(
        &past[..],
        [ServerMsg::World(ServerWorld::MapChunk(c))] if c.rows == 0 && c.first_row == 100 && c.walkable.is_empty()
    ));
}

#[test]
fn a_client_is_never_sent_its_own_entity_in_world_updates() {
    let mut h = Harness::new();
    let (a, za) = h.enter(1, "a");
    let (_, zb) = h.enter(2, "b");
    h.advance(Duration::from_millis(500));
    let updates = world_updates(&h.take(a));
    let spawned: Vec<EntityId> = updates
        .iter()
        .flat_map(|u| u.spawns.iter().map(|s| s.entity))
        .collect();
    assert!(spawned.contains(&zb.entity), "b is seen");
    assert!(updates.iter().all(|u| {
        u.spawns.iter().all(|s| s.entity != za.entity)
            && u.updates.iter().all(|m| m.entity != za.entity)
            && !u.despawns.contains(&za.entity)
    }));
}

#[test]
fn a_pending_table_smaller_than_the_player_cap_is_refused_at_start() {
    let config = NodeConfig {
        max_players: 100,
        max_pending_intents: 99,
        ..NodeConfig::default()
    };
    let err = Node::new(config, 1).unwrap_err();
    assert!(err.contains("max_pending_intents"), "{err}");
}
