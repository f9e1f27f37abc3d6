//! The node under test, in real time, on the real SQLite store: one `Node`
//! on an open map run as several channels, its persistence intents queued
//! to net-adapter's group-commit worker (`StoreHandle`) over a SQLite file,
//! their outcomes handed back as they arrive, as the server's core loop
//! does; and one raw session per player (frames encoded here, bytes in
//! through `Node::handle_bytes`, bytes out through `Output::Transmit`,
//! decoded only as far as the bench needs).
//!
//! The node's clock is the wall clock: its `Instant` is the time since the
//! driver started. The world tick runs when it is due by that clock, so a
//! store that is slow shows as latency, never as a faster tick.
//!
//! The bench may read clocks: it times the node (inputs, outcomes, timers,
//! the tick, the drain of its outputs), never its own bookkeeping.

use game_core::bus::LoopbackBus;
use game_core::ids::{CharacterId, ConnId, EntityId, IntentId, ZoneId};
use game_core::math::{Fixed, Vec2};
use game_core::node::{Node, NodeConfig, Output};
use game_core::persist::{Change, Outcome, Reply, StoreError};
use game_core::protocol::{
    encode_frame, ClientMsg, ClientSession, ClientWorld, Credentials, FrameDecoder, MoveInput,
    ServerEconomy, ServerMsg, ServerSession, ServerWorld, MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD,
    PROTOCOL_VERSION,
};
use game_core::time::Instant;
use game_core::zone::Map;
use net_adapter::store::{StoreHandle, StoreStatsSnapshot, SubmitError};
use std::collections::HashSet;
use std::time::{Duration as Wall, Instant as Clock};
use tokio::sync::mpsc;

use crate::clock::Mark;
pub use crate::clock::Spent;

/// Channel tags on the wire (`protocol::tags`): a payload's first byte.
const WORLD_TAG: u8 = 16;
const WORLD_UPDATE_TAG: u8 = 17;
const COMBAT_TAG: u8 = 32;
const ECONOMY_TAG: u8 = 80;
const ECONOMY_END: u8 = 112;

/// View radius of the bench map's zones; each channel's map is sized so a
/// player sees about 50 others, as in bench-social and bench-world.
const VIEW_M: i32 = 40;
const TARGET_VISIBLE: f64 = 50.0;
/// 4 m/s (under the 6 m/s limit) at one input per 100 ms: 0.4 m per input.
const STEP_RAW: i32 = 4 * 256 / 10;

/// One raw client.
pub struct Client {
    pub conn: ConnId,
    pub name: String,
    pub character: CharacterId,
    pub zone: ZoneId,
    pub entity: EntityId,
    logged_in: bool,
    epoch: u16,
    dir: (i32, i32),
    seq: u32,
    decoder: FrameDecoder,
}

/// What the store did with the transactions (`CommitTx`) the node sent.
#[derive(Clone, Copy, Debug, Default)]
pub struct Commits {
    /// `CommitTx` intents handed to the store worker.
    pub sent: u64,
    /// Answered `Done`: committed to the SQLite file.
    pub stored: u64,
    /// Answered otherwise (conflict, unavailable).
    pub failed: u64,
    /// Refused by the worker's full queue (answered `Unavailable` at once).
    pub refused_full: u64,
}

pub struct Driver {
    pub node: Node,
    bus: LoopbackBus,
    store: StoreHandle,
    outcomes: mpsc::Receiver<Outcome>,
    /// The wall clock at the node's zero.
    zero: Clock,
    pub now: Instant,
    pub clients: Vec<Client>,
    side_m: i32,
    lcg: u64,
    outs: Vec<Output>,
    pongs: Vec<(usize, u32, u64)>,
    /// Economy messages heard since the last look: (client, message, when
    /// the drain whose transmit carried it had taken the node's outputs).
    pub heard: Vec<(usize, ServerEconomy, Clock)>,
    heard_at: Clock,
    /// `CommitTx` intents in the store worker's hands.
    commit_ids: HashSet<IntentId>,
    pub commits: Commits,
    pub closes: u64,
    /// The node's time since [`Driver::take_busy`]: inputs, outcomes,
    /// timers, ticks and drains.
    busy: Spent,
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

impl Driver {
    /// A node whose start map "bench" runs `channels` channels of
    /// `per_channel` players, its intents going to `store`, whose outcomes
    /// come back on `outcomes`.
    pub fn new(
        channels: u16,
        per_channel: u32,
        store: StoreHandle,
        outcomes: mpsc::Receiver<Outcome>,
    ) -> Self {
        let side_m = side_for(per_channel as usize);
        let cells = (side_m / 2) as u32 + 2;
        let mut config = NodeConfig::default();
        config.world.start_map = "bench".into();
        config.world.max_channels = channels;
        config.world.zone.max_players = per_channel + 8;
        config.world.zone.view_radius_m = VIEW_M;
        config.world.zone.spawn_spread_m = side_m / 2 - 4;
        let total = channels as u32 * per_channel + 16;
        config.max_sessions = config.max_sessions.max(total);
        config.max_players = config.max_players.max(total);
        config.max_pending_intents = config.max_pending_intents.max(total);
        let mut node = Node::with_maps(config, 7, vec![Map::open("bench", cells, cells, 2)])
            .expect("a valid bench config");
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        node.set_wall_clock(unix_ms);
        Driver {
            node,
            bus: LoopbackBus::default(),
            store,
            outcomes,
            zero: Clock::now(),
            now: Instant::ZERO,
            clients: Vec::new(),
            side_m,
            lcg: 0x2545_f491_4f6c_dd1d,
            outs: Vec::new(),
            pongs: Vec::new(),
            heard: Vec::new(),
            heard_at: Clock::now(),
            commit_ids: HashSet::new(),
            commits: Commits::default(),
            closes: 0,
            busy: Spent::default(),
        }
    }

    /// The node's time for the wall clock now (never going back).
    fn clock(&mut self) -> Instant {
        let t = Instant::from_micros(self.zero.elapsed().as_micros() as u64);
        self.now = self.now.max(t);
        self.now
    }

    /// The wall clock at the node's `at`.
    fn wall(&self, at: Instant) -> Clock {
        self.zero + Wall::from_micros(at.as_micros())
    }

    pub fn store_stats(&self) -> StoreStatsSnapshot {
        self.store.stats().snapshot()
    }

    /// The node's time since the last call.
    pub fn take_busy(&mut self) -> Spent {
        std::mem::take(&mut self.busy)
    }

    fn next_rand(&mut self) -> i32 {
        self.lcg = self
            .lcg
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.lcg >> 33) as i32
    }

    /// Connects `n` clients and logs each in (its account is opened in the
    /// store), then creates their characters and enters the world with
    /// them; returns once every one is in and its inventory loaded.
    pub async fn populate(&mut self, n: usize) {
        let now = self.clock();
        for i in 0..n {
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
            self.clients.push(Client {
                conn,
                name: format!("char{i}"),
                character: CharacterId(0),
                zone: ZoneId(0),
                entity: EntityId(0),
                logged_in: false,
                epoch: 0,
                dir,
                seq: 0,
                decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
            });
            self.node.handle_connect(now, conn);
            self.send(
                i,
                &[
                    ClientMsg::Session(ClientSession::Hello {
                        protocol_version: PROTOCOL_VERSION,
                        client: "bench-economy".into(),
                    }),
                    ClientMsg::Session(ClientSession::Login {
                        credentials: Credentials::Dev {
                            name: format!("player{i}"),
                        },
                    }),
                ],
            );
        }
        self.pump_until("logins", |d| d.clients.iter().all(|c| c.logged_in))
            .await;
        for i in 0..n {
            let name = self.clients[i].name.clone();
            self.send(
                i,
                &[ClientMsg::Session(ClientSession::CreateCharacter { name })],
            );
        }
        self.pump_until("characters", |d| {
            d.clients.iter().all(|c| c.character != CharacterId(0))
        })
        .await;
        for i in 0..n {
            let character = self.clients[i].character;
            self.send(
                i,
                &[ClientMsg::Session(ClientSession::EnterWorld { character })],
            );
        }
        self.pump_until("entering the world", |d| {
            d.clients
                .iter()
                .all(|c| c.entity != EntityId(0) && d.node.inventory(c.character).is_some())
        })
        .await;
        self.heard.clear();
    }

    /// Gives every client's character `count` of `item` (or gold) from the
    /// operator, and waits until the store has every grant.
    pub async fn grant_all(&mut self, item: &str, count: u64) {
        let now = self.clock();
        for i in 0..self.clients.len() {
            let name = self.clients[i].name.clone();
            self.node
                .grant(now, &name, item, count)
                .unwrap_or_else(|e| panic!("granting {item} to {name}: {e}"));
            self.drain();
        }
        self.pump_until("grants", |d| d.node.transactions_in_flight() == 0)
            .await;
        self.heard.clear();
    }

    /// Runs the node (outcomes, timers, ticks with no input) until `done`,
    /// for at most two minutes.
    pub async fn pump_until(&mut self, what: &str, done: impl Fn(&Driver) -> bool) {
        let give_up = Clock::now() + Wall::from_secs(120);
        while !done(self) {
            assert!(
                Clock::now() < give_up,
                "bench-economy: {what} took too long"
            );
            if self
                .until_tick(Some(Clock::now() + Wall::from_millis(20)))
                .await
            {
                self.tick();
            }
        }
    }

    /// Serves store outcomes and the node's other timers until the world
    /// tick is due (true) or `until` passes (false).
    pub async fn until_tick(&mut self, until: Option<Clock>) -> bool {
        loop {
            let due = self.node.poll_timeout();
            let tick_due = self.node.world().tick_due();
            let wall_now = Clock::now();
            if tick_due.is_some_and(|t| self.wall(t) <= wall_now) {
                return true;
            }
            if due.is_some_and(|d| self.wall(d) <= wall_now) {
                // Another timer (a session's, a retry): run it, unless the
                // tick has come due meanwhile.
                let now = self.clock();
                if tick_due.is_some_and(|t| t <= now) {
                    return true;
                }
                let mark = Mark::now();
                self.node.handle_timeout(now);
                self.busy += mark.spent();
                self.drain();
                continue;
            }
            if until.is_some_and(|u| u <= wall_now) {
                return false;
            }
            let wake = [due.map(|d| self.wall(d)), until]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(wall_now + Wall::from_secs(1));
            tokio::select! {
                biased;
                () = tokio::time::sleep_until(wake.into()) => {}
                Some(outcome) = self.outcomes.recv() => {
                    self.outcome(outcome);
                    // Everything else already waiting, as the core loop does.
                    for _ in 0..1024 {
                        let Ok(outcome) = self.outcomes.try_recv() else { break };
                        self.outcome(outcome);
                    }
                    self.drain();
                }
            }
        }
    }

    fn outcome(&mut self, outcome: Outcome) {
        if self.commit_ids.remove(&outcome.id) {
            match outcome.result {
                Ok(Reply::Done) => self.commits.stored += 1,
                _ => self.commits.failed += 1,
            }
        }
        let now = self.clock();
        let mark = Mark::now();
        self.node.handle_store_outcome(now, outcome);
        self.busy += mark.spent();
    }

    /// Hands each client's bytes to the node, one read per client, and
    /// drains. Calls `sent(i)` just before client `i`'s bytes go in.
    pub fn inputs(&mut self, batch: &[(usize, Vec<u8>)], mut sent: impl FnMut(usize)) {
        let now = self.clock();
        let mark = Mark::now();
        for (i, bytes) in batch {
            sent(*i);
            self.node.handle_bytes(now, self.clients[*i].conn, bytes);
        }
        self.busy += mark.spent();
        self.drain();
    }

    /// Runs the world tick (due now) and drains; returns the tick's
    /// `handle_timeout` time and the heap allocations it made.
    pub fn tick(&mut self) -> (Spent, u64) {
        let now = self.clock();
        let mark = Mark::now();
        let ((), allocations) = crate::counted(|| self.node.handle_timeout(now));
        let tick = mark.spent();
        self.busy += tick;
        self.drain();
        (tick, allocations)
    }

    /// Sends `msgs` from client `i` as one read, and drains.
    pub fn send(&mut self, i: usize, msgs: &[ClientMsg]) {
        let mut bytes = Vec::new();
        frame(msgs, &mut bytes);
        let now = self.clock();
        let mark = Mark::now();
        self.node.handle_bytes(now, self.clients[i].conn, &bytes);
        self.busy += mark.spent();
        self.drain();
    }

    /// Takes every output: intents to the store worker, the bus looped
    /// back, then reads the transmits. The node's part (polling, queueing,
    /// `handle_flushed`, recycling, pongs) counts as busy, not the reading.
    pub fn drain(&mut self) {
        let mut outs = std::mem::take(&mut self.outs);
        let mut written = Vec::new();
        loop {
            let now = self.now;
            let mark = Mark::now();
            while let Some(out) = self.node.poll_output() {
                match out {
                    Output::Persist(intent) => {
                        let id = intent.id;
                        let commit = matches!(intent.change, Change::CommitTx { .. });
                        match self.store.try_submit(intent) {
                            Ok(()) => {
                                if commit {
                                    self.commits.sent += 1;
                                    self.commit_ids.insert(id);
                                }
                            }
                            Err(e) => {
                                if matches!(e, SubmitError::Full(_)) && commit {
                                    self.commits.refused_full += 1;
                                }
                                let result = Err(StoreError::Unavailable);
                                self.node.handle_store_outcome(now, Outcome { id, result });
                            }
                        }
                    }
                    Output::Publish(message) => {
                        if let Some(back) = self.bus.publish(message) {
                            self.node.handle_bus(now, back);
                        }
                    }
                    Output::Subscribe(topic) => self.bus.subscribe(topic),
                    other => outs.push(other),
                }
            }
            for out in &outs {
                if let Output::Transmit { conn, bytes } = out {
                    self.node.handle_flushed(*conn, bytes.len());
                }
            }
            self.busy += mark.spent();
            self.heard_at = Clock::now();
            for out in outs.drain(..) {
                match out {
                    Output::Transmit { conn, bytes } => {
                        self.read(conn.0 as usize - 1, &bytes);
                        written.push(bytes);
                    }
                    Output::Close { .. } => self.closes += 1,
                    _ => {}
                }
            }
            let mark = Mark::now();
            for bytes in written.drain(..) {
                self.node.recycle(bytes);
            }
            self.busy += mark.spent();
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
                self.node.handle_bytes(now, self.clients[i].conn, &bytes);
            }
            self.busy += mark.spent();
        }
        self.outs = outs;
    }

    fn read(&mut self, i: usize, mut bytes: &[u8]) {
        let c = &mut self.clients[i];
        while let Some(payload) = c.decoder.decode(&mut bytes).expect("valid frames") {
            let tag = payload.first().copied().unwrap_or(0);
            let wanted = tag < WORLD_TAG
                || (WORLD_TAG..COMBAT_TAG).contains(&tag) && tag != WORLD_UPDATE_TAG
                || (ECONOMY_TAG..ECONOMY_END).contains(&tag);
            if !wanted {
                continue;
            }
            match ServerMsg::decode(payload).expect("a valid server message") {
                ServerMsg::Session(ServerSession::Ping {
                    seq,
                    server_time_us,
                }) => self.pongs.push((i, seq, server_time_us)),
                ServerMsg::Session(ServerSession::Characters { characters, .. }) => {
                    c.logged_in = true;
                    if let Some(ch) = characters.iter().find(|ch| ch.name == c.name) {
                        c.character = ch.id;
                    }
                }
                ServerMsg::World(ServerWorld::ZoneEntered(z)) => {
                    c.zone = z.zone;
                    c.entity = z.entity;
                    c.epoch = z.epoch;
                }
                ServerMsg::Economy(e) => self.heard.push((i, e, self.heard_at)),
                _ => {}
            }
        }
    }

    /// One movement input from client `i`, 0.4 m on from where the server
    /// has it, bouncing off the map's edges.
    pub fn move_input(&mut self, i: usize) -> Option<ClientMsg> {
        let c = &mut self.clients[i];
        let pos = self.node.world().zone(c.zone)?.position(c.entity)?;
        let (lo, hi) = (3 * 256, (self.side_m - 3) * 256);
        let (mut dx, mut dy) = c.dir;
        if !(lo..=hi).contains(&(pos.x.raw() + dx * STEP_RAW)) {
            dx = -dx;
        }
        if !(lo..=hi).contains(&(pos.y.raw() + dy * STEP_RAW)) {
            dy = -dy;
        }
        c.dir = (dx, dy);
        let step = if dx != 0 && dy != 0 {
            STEP_RAW * 7 / 10
        } else {
            STEP_RAW
        };
        c.seq += 1;
        Some(ClientMsg::World(ClientWorld::Move(MoveInput {
            seq: c.seq,
            epoch: c.epoch,
            client_time_us: self.now.as_micros(),
            pos: Vec2::new(
                Fixed::from_raw(pos.x.raw() + dx * step),
                Fixed::from_raw(pos.y.raw() + dy * step),
            ),
            vel: Vec2::ZERO,
        })))
    }
}
