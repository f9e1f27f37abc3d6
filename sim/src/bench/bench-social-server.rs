//! The node under test and its raw clients: one `Node` on an open map run as
//! several channels, the in-process store answering every intent at once, and
//! one raw session per player (frames encoded here, bytes in through
//! `Node::handle_bytes`, bytes out through `Output::Transmit`, decoded only as
//! far as the bench needs: pings, the character screen, entering the world,
//! and social messages).
//!
//! The bench may read clocks: it times the node's tick (`handle_timeout`) and
//! the drain of its outputs (`poll_output` and the store answering), never
//! its own bookkeeping.

use game_core::ids::{CharacterId, ConnId, EntityId, GuildId, IntentId, ZoneId};
use game_core::math::{Fixed, Vec2};
use game_core::node::{InProcess, Node, NodeConfig, Output};
use game_core::persist::{Change, GuildState, Intent, Reply};
use game_core::protocol::{
    encode_frame, ClientMsg, ClientSession, ClientSocial, ClientWorld, Credentials, FrameDecoder,
    GuildRank, MoveInput, ServerMsg, ServerSession, ServerSocial, ServerWorld, MAX_CLIENT_PAYLOAD,
    MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};
use game_core::time::Instant;
use game_core::zone::Map;

use crate::clock::Mark;
pub use crate::clock::Spent;

/// Channel tags on the wire (`protocol::tags`): a payload's first byte.
const WORLD_TAG: u8 = 16;
const WORLD_UPDATE_TAG: u8 = 17;
const COMBAT_TAG: u8 = 32;
const SOCIAL_TAG: u8 = 48;
const SOCIAL_END: u8 = 80;

/// View radius of the bench map's zones; each channel's map is sized so a
/// player sees about 50 others, as in bench-world.
const VIEW_M: i32 = 40;
const TARGET_VISIBLE: f64 = 50.0;
/// 4 m/s (under the 6 m/s limit) at one input per 100 ms: 0.4 m per input.
const STEP_RAW: i32 = 4 * 256 / 10;

/// One raw client.
pub struct Player {
    pub conn: ConnId,
    pub name: String,
    pub character: CharacterId,
    pub zone: ZoneId,
    pub entity: EntityId,
    epoch: u16,
    dir: (i32, i32),
    seq: u32,
    decoder: FrameDecoder,
}

/// What the drain saw, for the bench to read.
#[derive(Default)]
pub struct Heard {
    /// Chat lines by the id in their text: (line id, recipient index).
    pub lines: Vec<(u64, usize)>,
    /// `FriendChanged` heard: (about whom, recipient index, online).
    pub friend_changes: Vec<(CharacterId, usize, bool)>,
    /// Chat lines a client was told it missed (shed), summed.
    pub chat_missed: u64,
    /// Refusals, by label.
    pub refusals: std::collections::BTreeMap<&'static str, u64>,
    pub closes: u64,
    /// Bytes transmitted.
    pub bytes: u64,
}

pub struct Server {
    pub node: Node,
    pub in_process: InProcess,
    pub now: Instant,
    pub players: Vec<Player>,
    /// World ticks run so far.
    pub ticks: u64,
    pub heard: Heard,
    side_m: i32,
    pongs: Vec<(usize, u32, u64)>,
    outs: Vec<Output>,
    /// Pre-set store changes get ids from the top down, far from the node's.
    next_intent: u64,
    lcg: u64,
}

/// The side of a square open map where `n` players see ~50 each.
fn side_for(n: usize) -> i32 {
    let area = n as f64 * std::f64::consts::PI * (VIEW_M as f64).powi(2) / TARGET_VISIBLE;
    area.sqrt().ceil() as i32 + 4
}

pub fn frame(msgs: &[ClientMsg], out: &mut Vec<u8>) {
    for m in msgs {
        encode_frame(m, MAX_CLIENT_PAYLOAD, out).expect("a client frame encodes");
    }
}

impl Server {
    /// A node whose start map "bench" runs `channels` channels of
    /// `per_channel` players.
    pub fn new(channels: u16, per_channel: u32) -> Self {
        let side_m = side_for(per_channel as usize);
        let cells = (side_m / 2) as u32 + 2;
        let mut config = NodeConfig::default();
        config.world.start_map = "bench".into();
        config.world.max_channels = channels;
        // Room for the presence bench's newcomer (arrivals go to the least loaded).
        config.world.zone.max_players = per_channel + 8;
        config.world.zone.view_radius_m = VIEW_M;
        // Arrivals scatter over the whole map (the spawn is its centre).
        config.world.zone.spawn_spread_m = side_m / 2 - 4;
        let total = channels as u32 * per_channel + 16;
        config.max_sessions = config.max_sessions.max(total);
        config.max_players = config.max_players.max(total);
        config.max_pending_intents = config.max_pending_intents.max(total);
        let node = Node::with_maps(config, 7, vec![Map::open("bench", cells, cells, 2)])
            .expect("a valid bench config");
        Server {
            node,
            in_process: InProcess::default(),
            now: Instant::ZERO,
            players: Vec::new(),
            ticks: 0,
            heard: Heard::default(),
            side_m,
            pongs: Vec::new(),
            outs: Vec::new(),
            next_intent: u64::MAX / 2,
            lcg: 0x2545_f491_4f6c_dd1d,
        }
    }

    fn next_rand(&mut self) -> i32 {
        self.lcg = self
            .lcg
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.lcg >> 33) as i32
    }

    /// Connects a client, logs it in and creates its character (left on the
    /// character screen); returns its index.
    pub fn join(&mut self) -> usize {
        let i = self.players.len();
        let conn = ConnId(i as u64 + 1);
        let d = [
            (1, 0),
            (0, 1),
            (-1, 0),
            (0, -1),
            (1, 1),
            (-1, 1),
            (1, -1),
            (-1, -1),
        ];
        let dir = d[self.next_rand().rem_euclid(8) as usize];
        self.players.push(Player {
            conn,
            name: format!("char{i}"),
            character: CharacterId(0),
            zone: ZoneId(0),
            entity: EntityId(0),
            epoch: 0,
            dir,
            seq: 0,
            decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
        });
        self.node.handle_connect(self.now, conn);
        self.drain(&mut Default::default());
        let name = format!("player{i}");
        self.send(
            i,
            &[
                ClientMsg::Session(ClientSession::Hello {
                    protocol_version: PROTOCOL_VERSION,
                    client: "bench-social".into(),
                }),
                ClientMsg::Session(ClientSession::Login {
                    credentials: Credentials::Dev { name },
                }),
            ],
        );
        self.send(
            i,
            &[ClientMsg::Session(ClientSession::CreateCharacter {
                name: self.players[i].name.clone(),
            })],
        );
        assert!(
            self.players[i].character != CharacterId(0),
            "player {i} has no character"
        );
        i
    }

    /// Player `i` enters the world with its character.
    pub fn enter(&mut self, i: usize) {
        let character = self.players[i].character;
        self.send(
            i,
            &[ClientMsg::Session(ClientSession::EnterWorld { character })],
        );
        assert!(self.players[i].entity != EntityId(0), "player {i} not in");
    }

    /// Sends `msgs` from player `i` as one read, and drains.
    pub fn send(&mut self, i: usize, msgs: &[ClientMsg]) {
        let mut bytes = Vec::new();
        frame(msgs, &mut bytes);
        self.node
            .handle_bytes(self.now, self.players[i].conn, &bytes);
        self.drain(&mut Default::default());
    }

    /// Applies a change to the store directly (the pre-set social graph).
    pub fn preset(&mut self, change: Change) -> Reply {
        self.next_intent -= 1;
        let outcome = self.in_process.store.apply(&Intent {
            id: IntentId(self.next_intent),
            change,
        });
        outcome.result.expect("the store takes the pre-set change")
    }

    /// A guild of `members` (the first leads), in the store.
    pub fn preset_guild(&mut self, name: &str, members: &[CharacterId]) -> GuildId {
        let Reply::Guild(id) = self.preset(Change::CreateGuild {
            name: name.into(),
            founder: members[0],
        }) else {
            panic!("a guild id");
        };
        let members = members
            .iter()
            .enumerate()
            .map(|(k, &c)| {
                (
                    c,
                    if k == 0 {
                        GuildRank::Leader
                    } else {
                        GuildRank::Member
                    },
                )
            })
            .collect();
        self.preset(Change::SaveGuild {
            guild: id,
            version: 1,
            state: GuildState {
                members,
                history: Vec::new(),
            },
        });
        id
    }

    /// One movement input from player `i`, 0.4 m on from where the server
    /// has it, bouncing off the map's edges.
    pub fn move_input(&mut self, i: usize) -> Option<ClientMsg> {
        let p = &mut self.players[i];
        let pos = self.node.world().zone(p.zone)?.position(p.entity)?;
        let (lo, hi) = (3 * 256, (self.side_m - 3) * 256);
        let (mut dx, mut dy) = p.dir;
        if !(lo..=hi).contains(&(pos.x.raw() + dx * STEP_RAW)) {
            dx = -dx;
        }
        if !(lo..=hi).contains(&(pos.y.raw() + dy * STEP_RAW)) {
            dy = -dy;
        }
        p.dir = (dx, dy);
        let step = if dx != 0 && dy != 0 {
            STEP_RAW * 7 / 10
        } else {
            STEP_RAW
        };
        p.seq += 1;
        Some(ClientMsg::World(ClientWorld::Move(MoveInput {
            seq: p.seq,
            epoch: p.epoch,
            client_time_us: self.now.as_micros(),
            pos: Vec2::new(
                Fixed::from_raw(pos.x.raw() + dx * step),
                Fixed::from_raw(pos.y.raw() + dy * step),
            ),
            vel: Vec2::ZERO,
        })))
    }

    /// Hands each client's bytes to the node, one read per client, and
    /// drains. Returns the node's time (handle_bytes and the drain).
    pub fn inputs(&mut self, batch: &[(usize, Vec<u8>)]) -> Spent {
        let mark = Mark::now();
        for (i, bytes) in batch {
            self.node
                .handle_bytes(self.now, self.players[*i].conn, bytes);
        }
        let mut spent = mark.spent();
        self.drain(&mut spent);
        spent
    }

    /// Runs every deadline up to and including the next world tick; returns
    /// the world tick's `handle_timeout` time, its drain's time, and the
    /// heap allocations `handle_timeout` made.
    pub fn tick(&mut self) -> (Spent, Spent, u64) {
        loop {
            let due = self.node.world().tick_due().expect("the world ticks");
            let at = self.node.poll_timeout().expect("a deadline");
            self.now = at;
            if at < due {
                self.node.handle_timeout(at);
                self.drain(&mut Spent::default());
                continue;
            }
            self.ticks += 1;
            let mark = Mark::now();
            let ((), allocations, _) = crate::counted(|| self.node.handle_timeout(at));
            let tick = mark.spent();
            let mut drain = Spent::default();
            self.drain(&mut drain);
            return (tick, drain, allocations);
        }
    }

    /// Takes every output, serving the store and bus in process, then reads
    /// the transmits; `spent` gains the node's part (polling, the store's
    /// answers, `handle_flushed`, pongs), not the reading. The flushes are
    /// reported after the whole drain, as a driver writing many sockets
    /// would, so the clocks are read a few times per drain, not per output.
    pub fn drain(&mut self, spent: &mut Spent) {
        let mut outs = std::mem::take(&mut self.outs);
        let mut written = Vec::new();
        loop {
            let mark = Mark::now();
            while let Some(out) = self.node.poll_output() {
                if let Some(out) = self.in_process.serve(&mut self.node, self.now, out) {
                    outs.push(out);
                }
            }
            for out in &outs {
                if let Output::Transmit { conn, bytes } = out {
                    self.node.handle_flushed(*conn, bytes.len());
                }
            }
            *spent += mark.spent();
            for out in outs.drain(..) {
                match out {
                    Output::Transmit { conn, bytes } => {
                        self.heard.bytes += bytes.len() as u64;
                        self.read(conn.0 as usize - 1, &bytes);
                        written.push(bytes);
                    }
                    Output::Close { .. } => self.heard.closes += 1,
                    _ => {}
                }
            }
            // Written: back to the node for reuse, as the adapter does.
            let mark = Mark::now();
            for bytes in written.drain(..) {
                self.node.recycle(bytes);
            }
            *spent += mark.spent();
            if self.pongs.is_empty() {
                break;
            }
            let mut bytes = Vec::new();
            let mark = Mark::now();
            for (i, seq, server_time_us) in std::mem::take(&mut self.pongs) {
                bytes.clear();
                frame(
                    &[ClientMsg::Session(ClientSession::Pong {
                        seq,
                        server_time_us,
                        client_time_us: server_time_us,
                    })],
                    &mut bytes,
                );
                self.node
                    .handle_bytes(self.now, self.players[i].conn, &bytes);
            }
            *spent += mark.spent();
        }
        self.outs = outs;
    }

    fn read(&mut self, i: usize, mut bytes: &[u8]) {
        let mut socials = Vec::new();
        let p = &mut self.players[i];
        while let Some(payload) = p.decoder.decode(&mut bytes).expect("valid frames") {
            let tag = payload.first().copied().unwrap_or(0);
            let wanted = tag < WORLD_TAG
                || (WORLD_TAG..COMBAT_TAG).contains(&tag) && tag != WORLD_UPDATE_TAG
                || (SOCIAL_TAG..SOCIAL_END).contains(&tag);
            if !wanted {
                continue;
            }
            let msg = ServerMsg::decode(payload).expect("a valid server message");
            match msg {
                ServerMsg::Session(ServerSession::Ping {
                    seq,
                    server_time_us,
                }) => self.pongs.push((i, seq, server_time_us)),
                ServerMsg::Session(ServerSession::Characters { characters, .. }) => {
                    if let Some(c) = characters.iter().find(|c| c.name == p.name) {
                        p.character = c.id;
                    }
                }
                ServerMsg::World(ServerWorld::ZoneEntered(z)) => {
                    p.zone = z.zone;
                    p.entity = z.entity;
                    p.epoch = z.epoch;
                }
                ServerMsg::Social(s) => socials.push(s),
                _ => {}
            }
        }
        for s in socials {
            self.heard_social(i, s);
        }
    }

    fn heard_social(&mut self, i: usize, s: ServerSocial) {
        match s {
            ServerSocial::Chat(line) => {
                if let Some(id) = line
                    .text
                    .strip_prefix('#')
                    .and_then(|t| t.split(' ').next())
                    .and_then(|t| t.parse().ok())
                {
                    self.heard.lines.push((id, i));
                }
            }
            ServerSocial::FriendChanged(f) => {
                self.heard
                    .friend_changes
                    .push((f.contact.character, i, f.online.is_some()));
            }
            ServerSocial::ChatMissed { count } => self.heard.chat_missed += count as u64,
            ServerSocial::Refused { reason, .. } => {
                *self.heard.refusals.entry(reason.label()).or_default() += 1
            }
            _ => {}
        }
    }
}

/// A social request as a client message.
pub fn social(request: ClientSocial) -> ClientMsg {
    ClientMsg::Social(request)
}
