//! The node driven with no IO, by concern: `sessions.rs` (logins, take-overs,
//! resume within and after the grace period, limits, kicks, shutdown),
//! `characters.rs` (tokens, the character screen, entering where a character
//! last stood), `world.rs` (channels, transfers, replication to a client),
//! `store.rs` (saves, intents and their outcomes, the bus). Time jumps from
//! deadline to deadline, so "wait 30 seconds" costs nothing.

mod characters;
mod economy;
mod economy_hostile;
mod economy_races;
mod economy_requests;
mod raid_rewards;
mod raids;
mod sessions;
mod social;
mod store;
mod world;

use super::*;
use crate::bus::{BusMessage, Topic};
use crate::ids::{EntityId, ZoneId};
use crate::persist::{MemoryStore, Outcome};
use crate::protocol::{
    encode_frame, ChannelRefusal, CharacterSummary, ClientEconomy, ClientMsg, ClientSession,
    ClientWorld, Credentials, FrameDecoder, LoginRefusal, NoticeLevel, ResumeToken, ServerCombat,
    ServerEconomy, ServerMsg, ServerSession, ServerWorld, Violation, MAX_CLIENT_PAYLOAD,
    MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
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
    /// The character screen each connection last heard.
    characters: BTreeMap<ConnId, Vec<CharacterSummary>>,
    /// Connections whose client stopped reading: their writes are not
    /// confirmed (bytes held per connection until [`Harness::unstall`]).
    stalled: BTreeMap<ConnId, usize>,
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
            characters: BTreeMap::new(),
            stalled: BTreeMap::new(),
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
                        if let ServerMsg::Session(ServerSession::Characters {
                            characters, ..
                        }) = &msg
                        {
                            self.characters.insert(conn, characters.clone());
                        }
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
                    match self.stalled.get_mut(&conn) {
                        Some(held) => *held += bytes.len(),
                        None => self.node.handle_flushed(conn, bytes.len()),
                    }
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

    /// From the character screen: plays the character named after `name`
    /// (`"{name}-char"`), creating it first if the account lacks it. The
    /// messages that follow are left in the inbox.
    fn play(&mut self, conn: ConnId, name: &str) {
        let character = format!("{name}-char");
        let find = |h: &Harness| {
            h.characters
                .get(&conn)
                .and_then(|list| list.iter().find(|c| c.name == character))
                .map(|c| c.id)
        };
        if find(self).is_none() {
            self.send(
                conn,
                &[ClientMsg::Session(ClientSession::CreateCharacter {
                    name: character.clone(),
                })],
            );
            self.take(conn);
        }
        let character = find(self).expect("the character was created");
        self.send(
            conn,
            &[ClientMsg::Session(ClientSession::EnterWorld { character })],
        );
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
        self.play(conn, name);
        (conn, zone_entered(&self.take(conn)))
    }
}

fn small_channels() -> NodeConfig {
    let mut config = NodeConfig::default();
    config.world.zone.max_players = 2;
    config.world.max_channels = 2;
    config
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
    h.play(conn, name);
    h.send(conn, &[ClientMsg::Session(ClientSession::Goodbye)]);
}
