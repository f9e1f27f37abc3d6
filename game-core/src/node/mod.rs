//! The node: every session and player of one server process, as one pure machine.
//!
//! The adapter and the simulator drive only this. It owns the sessions (one per
//! connection), the players (who outlive a dropped connection for a grace period),
//! the account index that makes a second login take over the first, and one timer
//! table. It will own the zones next.
//!
//! Contract: after any `handle_*` call, drain [`Node::poll_output`] until `None`,
//! then sleep until [`Node::poll_timeout`] and call [`Node::handle_timeout`].
//! Outputs for one connection come in order: its bytes, then its close.

mod players;
mod world;

pub use players::Player;
pub use world::{Location, World, WorldConfig};

use crate::ids::{ConnId, IdMap, PlayerId, ZoneId};
use crate::protocol::{
    ChannelRefusal, Credentials, DisconnectReason, LoginRefusal, MoveInput, NoticeLevel,
    ResumeToken, ServerMsg, MAX_NAME_LEN,
};
use crate::rng::{self, StreamKind};
use crate::session::{Session, SessionConfig, SessionRequest, WelcomeInfo};
use crate::time::{Duration, Instant};
use crate::zone::{Map, Transfer};
use players::Players;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The node's configuration: the `[node]` table of the server's config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Simulation ticks per second, announced to clients.
    pub tick_hz: u16,
    /// Connections held at once; one more is told `ServerFull` and closed.
    pub max_sessions: u32,
    /// Players (connected or in their grace period) held at once.
    pub max_players: u32,
    /// How long a player whose connection dropped is kept for a resume.
    pub resume_grace_ms: u32,
    pub session: SessionConfig,
    pub world: WorldConfig,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            tick_hz: 20,
            max_sessions: 16_000,
            max_players: 16_000,
            resume_grace_ms: 30_000,
            session: SessionConfig::default(),
            world: WorldConfig::default(),
        }
    }
}

impl NodeConfig {
    /// Checks the configuration; an error here is the operator's, and the server
    /// refuses to start with it.
    pub fn validate(&self) -> Result<(), String> {
        if self.tick_hz == 0 || self.tick_hz > 1000 {
            return Err(format!("tick_hz must be 1..=1000, got {}", self.tick_hz));
        }
        if self.max_sessions == 0 || self.max_players == 0 {
            return Err("max_sessions and max_players must be positive".into());
        }
        self.session.validate()?;
        self.world.zone.validate()
    }

    fn resume_grace(&self) -> Duration {
        Duration::from_millis(self.resume_grace_ms as u64)
    }
}

/// What the node asks of its driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Write these bytes to the connection, in one write, then report them with
    /// [`Node::handle_flushed`].
    Transmit { conn: ConnId, bytes: Vec<u8> },
    /// Close the connection once the bytes already given are written. The node has
    /// forgotten it; later input for it is ignored.
    Close {
        conn: ConnId,
        reason: DisconnectReason,
    },
    /// Something worth a log line or a trace entry.
    Event(NodeEvent),
}

/// Things that happened, for logs, metrics and simulation traces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeEvent {
    LoggedIn {
        conn: ConnId,
        player: PlayerId,
        name: String,
    },
    /// A session took over an existing player (resume or second login).
    Resumed {
        conn: ConnId,
        player: PlayerId,
    },
    EnteredWorld {
        player: PlayerId,
    },
    /// The player's connection dropped; it is kept for the grace period.
    Detached {
        player: PlayerId,
        reason: DisconnectReason,
    },
    /// The player is gone for good.
    PlayerLeft {
        player: PlayerId,
        reason: DisconnectReason,
    },
}

/// Node-wide counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    pub connections_opened: u64,
    pub logins: u64,
    pub resumes: u64,
    /// Closed connections by [`DisconnectReason::label`].
    pub disconnects: BTreeMap<&'static str, u64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Messages dropped by the rate limit (summed when sessions close).
    pub rate_limited: u64,
    /// Input for connections the node had already closed.
    pub input_after_close: u64,
    /// Messages received and sent by sessions that have closed (see
    /// [`Node::message_totals`] for the live ones too).
    pub msgs_in: u64,
    pub msgs_out: u64,
    pub ticks: u64,
    /// Ticks started later than one period after they were due.
    pub tick_overruns: u64,
    pub transfers: u64,
}

/// Told when each zone's tick starts and ends, so a driver can time zones
/// with its own clock (the node reads none). Both calls come in pairs, zone by
/// zone, inside [`Node::handle_timeout_observed`].
pub trait TickObserver {
    fn zone_tick_started(&mut self, zone: ZoneId);
    fn zone_tick_finished(&mut self, zone: ZoneId);
}

/// Observes nothing: what [`Node::handle_timeout`] uses.
impl TickObserver for () {
    fn zone_tick_started(&mut self, _zone: ZoneId) {}
    fn zone_tick_finished(&mut self, _zone: ZoneId) {}
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum TimerKey {
    /// The world's next tick; sorts first so a tick runs before sessions due at
    /// the same instant.
    Tick,
    Session(ConnId),
    Grace(PlayerId),
}

/// The flags first (`repr(C)`), beside the session's hot fields.
#[derive(Debug)]
#[repr(C)]
struct Slot {
    /// Already queued for flushing in `touched`.
    touched: bool,
    /// Player bookkeeping for the close is done.
    close_handled: bool,
    session: Session,
}

/// All sessions and players of one server process.
#[derive(Debug)]
pub struct Node {
    config: NodeConfig,
    rng: ChaCha8Rng,
    sessions: IdMap<ConnId, Slot>,
    players: Players,
    timers: BTreeSet<(Instant, TimerKey)>,
    /// Each armed timer's deadline, looked up on every input (never iterated).
    timer_of: IdMap<TimerKey, Instant>,
    /// Connections with output to flush, in the order they were touched.
    touched: VecDeque<ConnId>,
    outputs: VecDeque<Output>,
    shutting_down: bool,
    stats: NodeStats,
    world: World,
    tick_period: Duration,
    /// Reused each tick: connections a replication message closed.
    tick_touched: Vec<ConnId>,
    transfers: Vec<Transfer>,
    /// Buffers the driver has finished writing, reused for the next writes.
    spares: Vec<Vec<u8>>,
}

/// Buffers kept for reuse; more are dropped.
const MAX_SPARES: usize = 4096;
/// A buffer bigger than this is not kept for reuse: one write to a client that
/// fell behind can be up to `max_outbound_bytes`, and a pool of thousands of
/// those would hold gigabytes. Everyday writes (a tick's update) are far smaller.
const MAX_SPARE_CAPACITY: usize = 16 * 1024;

impl Node {
    /// A node running the sample maps. Resume tokens and zones draw from `seed`
    /// (the adapter seeds it from OS entropy; the simulator from its master seed).
    /// Fails on an invalid configuration: the operator's error.
    pub fn new(config: NodeConfig, seed: u64) -> Result<Self, String> {
        Self::with_maps(config, seed, Vec::new())
    }

    /// A node running `maps` (the sample maps when empty).
    pub fn with_maps(config: NodeConfig, seed: u64, maps: Vec<Map>) -> Result<Self, String> {
        config.validate()?;
        let world = World::new(config.world.clone(), maps, config.tick_hz, seed)?;
        Ok(Node {
            tick_period: Duration::per_second(config.tick_hz as u32),
            world,
            tick_touched: Vec::new(),
            transfers: Vec::new(),
            spares: Vec::new(),
            config,
            rng: rng::stream(seed, StreamKind::Node, 0),
            sessions: IdMap::default(),
            players: Players::default(),
            timers: BTreeSet::new(),
            timer_of: IdMap::default(),
            touched: VecDeque::new(),
            outputs: VecDeque::new(),
            shutting_down: false,
            stats: NodeStats::default(),
        })
    }

    // ----- getters -----

    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn session(&self, conn: ConnId) -> Option<&Session> {
        self.sessions.get(&conn).map(|s| &s.session)
    }

    /// Every session, in no particular order (the same on every run).
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values().map(|s| &s.session)
    }

    pub fn player(&self, player: PlayerId) -> Option<&Player> {
        self.players.get(player)
    }

    pub fn players(&self) -> impl Iterator<Item = &Player> {
        self.players.iter()
    }

    pub fn player_count(&self) -> usize {
        self.players.len()
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// Messages received and sent, over every session the node has had (closed
    /// ones included): `(in, out)`.
    pub fn message_totals(&self) -> (u64, u64) {
        self.sessions
            .values()
            .map(|s| s.session.stats())
            .fold((self.stats.msgs_in, self.stats.msgs_out), |(i, o), s| {
                (i + s.msgs_in, o + s.msgs_out)
            })
    }

    // ----- inputs -----

    /// A transport connection opened. Over the session cap, or while shutting down,
    /// the client is told why and the connection is closed.
    pub fn handle_connect(&mut self, now: Instant, conn: ConnId) {
        self.stats.connections_opened += 1;
        let mut session = Session::new(conn, self.config.session.clone(), now);
        if self.shutting_down {
            session.close(now, DisconnectReason::ServerShutdown);
        } else if self.sessions.len() >= self.config.max_sessions as usize {
            session.close(now, DisconnectReason::ServerFull);
        }
        if let Some(old) = self.sessions.insert(
            conn,
            Slot {
                session,
                touched: false,
                close_handled: false,
            },
        ) {
            // A driver that reuses a live id has a bug; keep the old one's books right.
            debug_assert!(false, "connection id {conn} reused while open");
            drop(old);
        }
        self.after_session(now, conn);
    }

    /// Bytes arrived on a connection.
    pub fn handle_bytes(&mut self, now: Instant, conn: ConnId, mut input: &[u8]) {
        self.stats.bytes_in += input.len() as u64;
        if !self.sessions.contains_key(&conn) {
            self.stats.input_after_close += 1;
            return;
        }
        while let Some(slot) = self.sessions.get_mut(&conn) {
            if slot.session.is_closed() || input.is_empty() {
                break;
            }
            match slot.session.handle_bytes(now, &mut input) {
                Some(request) => self.execute(now, conn, request),
                None => break,
            }
        }
        self.after_session(now, conn);
    }

    /// The transport closed (EOF or error) without a goodbye.
    pub fn handle_disconnect(&mut self, now: Instant, conn: ConnId) {
        if let Some(slot) = self.sessions.get_mut(&conn) {
            slot.session.close(now, DisconnectReason::ConnectionLost);
            self.after_session(now, conn);
        }
    }

    /// The driver wrote `n` bytes of a [`Output::Transmit`] to the connection.
    pub fn handle_flushed(&mut self, conn: ConnId, n: usize) {
        if let Some(slot) = self.sessions.get_mut(&conn) {
            slot.session.handle_flushed(n);
        }
    }

    /// Gives back a written [`Output::Transmit`] buffer for reuse. At most
    /// `MAX_SPARES` buffers of at most `MAX_SPARE_CAPACITY` bytes are kept.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        if self.spares.len() < MAX_SPARES && buffer.capacity() <= MAX_SPARE_CAPACITY {
            self.spares.push(buffer);
        }
    }

    /// Runs every timer that is due. Harmless when nothing is.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.handle_timeout_observed(now, &mut ());
    }

    /// [`Node::handle_timeout`], telling `observer` when each zone's tick starts
    /// and ends.
    pub fn handle_timeout_observed(&mut self, now: Instant, observer: &mut impl TickObserver) {
        while let Some(&(at, key)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            self.timer_of.remove(&key);
            match key {
                TimerKey::Tick => self.tick(at, now, observer),
                TimerKey::Session(conn) => {
                    if let Some(slot) = self.sessions.get_mut(&conn) {
                        slot.session.handle_timeout(now);
                        self.after_session(now, conn);
                    }
                }
                TimerKey::Grace(player) => {
                    let expired = self.players.get(player).is_some_and(|p| {
                        p.conn.is_none() && p.grace_until.is_some_and(|t| t <= now)
                    });
                    if expired {
                        self.remove_player(player, DisconnectReason::ConnectionLost);
                    }
                }
            }
        }
    }

    // ----- commands -----

    /// Removes a player: its client is told the operator's message.
    pub fn kick(&mut self, now: Instant, player: PlayerId, message: String) -> bool {
        let Some(p) = self.players.get(player) else {
            return false;
        };
        match p.conn {
            Some(conn) => self.close(now, conn, DisconnectReason::Kicked { message }),
            None => self.remove_player(player, DisconnectReason::Kicked { message }),
        }
        true
    }

    /// Shows text to one player, or to every connected player with `None`.
    pub fn notice(&mut self, now: Instant, to: Option<PlayerId>, level: NoticeLevel, text: &str) {
        let conns: Vec<ConnId> = match to {
            Some(p) => self
                .players
                .get(p)
                .and_then(|p| p.conn)
                .into_iter()
                .collect(),
            None => {
                let mut conns: Vec<ConnId> = self.players.iter().filter_map(|p| p.conn).collect();
                conns.sort_unstable();
                conns
            }
        };
        let msg = ServerMsg::Notice {
            level,
            text: text.to_owned(),
        };
        for conn in conns {
            if let Some(slot) = self.sessions.get_mut(&conn) {
                slot.session.send(now, &msg);
                self.after_session(now, conn);
            }
        }
    }

    /// Closes one connection with a reason.
    pub fn close(&mut self, now: Instant, conn: ConnId, reason: DisconnectReason) {
        if let Some(slot) = self.sessions.get_mut(&conn) {
            slot.session.close(now, reason);
            self.after_session(now, conn);
        }
    }

    /// Tells every client the server is going down and closes every connection.
    /// New connections are refused from now on.
    pub fn shutdown(&mut self, now: Instant) {
        self.shutting_down = true;
        let mut conns: Vec<ConnId> = self.sessions.keys().copied().collect();
        conns.sort_unstable();
        for conn in conns {
            self.close(now, conn, DisconnectReason::ServerShutdown);
        }
        let mut players: Vec<PlayerId> = self.players.iter().map(|p| p.id).collect();
        players.sort_unstable();
        for player in players {
            self.remove_player(player, DisconnectReason::ServerShutdown);
        }
    }

    // ----- outputs -----

    /// The next thing for the driver to do, or `None` when there is nothing.
    pub fn poll_output(&mut self) -> Option<Output> {
        loop {
            if let Some(out) = self.outputs.pop_front() {
                return Some(out);
            }
            let conn = self.touched.pop_front()?;
            if let Some(out) = self.flush(conn) {
                return Some(out);
            }
        }
    }

    /// The earliest deadline of any timer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|&(at, _)| at)
    }

    // ----- internals -----

    fn execute(&mut self, now: Instant, conn: ConnId, request: SessionRequest) {
        match request {
            SessionRequest::Login { credentials } => self.login(now, conn, credentials),
            SessionRequest::Resume { player, token } => self.resume(now, conn, player, token),
            SessionRequest::EnterWorld => self.enter_world(now, conn),
            SessionRequest::Move(input) => self.route_move(now, conn, input),
            SessionRequest::SwitchChannel { channel } => self.switch_channel(now, conn, channel),
        }
    }

    fn enter_world(&mut self, now: Instant, conn: ConnId) {
        let Some(player) = self.sessions.get(&conn).and_then(|s| s.session.player()) else {
            return;
        };
        let Some(p) = self.players.get(player) else {
            return;
        };
        let location = match p.location {
            // Resumed or taken over: the character is still there; start the
            // client's view afresh.
            Some(at) => {
                if let Some(zone) = self.world.zone_mut(at.zone) {
                    zone.resync(at.entity, now);
                }
                at
            }
            None => {
                let start = self.world.start_map().to_owned();
                match self.world.place(&start, None, player, None, 0, now) {
                    Ok(at) => at,
                    Err(_) => {
                        self.close(now, conn, DisconnectReason::ServerFull);
                        return;
                    }
                }
            }
        };
        if let Some(p) = self.players.get_mut(player) {
            p.in_world = true;
            p.location = Some(location);
        }
        if let Some(slot) = self.sessions.get_mut(&conn) {
            slot.session.enter_world(now);
        }
        self.send_zone_entered(now, player);
        self.arm_tick(now);
        self.outputs
            .push_back(Output::Event(NodeEvent::EnteredWorld { player }));
    }

    fn route_move(&mut self, now: Instant, conn: ConnId, input: MoveInput) {
        let at = self
            .sessions
            .get(&conn)
            .and_then(|s| s.session.player())
            .and_then(|p| self.players.get(p))
            .and_then(|p| p.location);
        if let Some(at) = at {
            if let Some(zone) = self.world.zone_mut(at.zone) {
                zone.queue_move(at.entity, now, input);
            }
        }
    }

    fn switch_channel(&mut self, now: Instant, conn: ConnId, channel: u16) {
        let Some(player) = self.sessions.get(&conn).and_then(|s| s.session.player()) else {
            return;
        };
        let Some(at) = self.players.get(player).and_then(|p| p.location) else {
            return;
        };
        let Some((map, current)) = self.world.channel_of(at.zone) else {
            return;
        };
        // Same place, another copy of the map.
        let here = self.world.zone(at.zone).and_then(|z| z.position(at.entity));
        let refusal = if channel == current {
            Some(ChannelRefusal::AlreadyThere)
        } else {
            self.relocate(now, player, &map, Some(channel), here).err()
        };
        if let Some(reason) = refusal {
            if let Some(slot) = self.sessions.get_mut(&conn) {
                slot.session
                    .send(now, &ServerMsg::ChannelRefused { channel, reason });
            }
        }
    }

    /// Operator command: puts a player's character at `pos` in its current map
    /// and channel (observers see it leave and appear; its client is told).
    pub fn teleport(
        &mut self,
        now: Instant,
        player: PlayerId,
        pos: crate::math::Vec2,
    ) -> Result<(), ChannelRefusal> {
        let at = self
            .players
            .get(player)
            .and_then(|p| p.location)
            .ok_or(ChannelRefusal::NoSuchChannel)?;
        let (map, channel) = self
            .world
            .channel_of(at.zone)
            .ok_or(ChannelRefusal::NoSuchChannel)?;
        self.relocate(now, player, &map, Some(channel), Some(pos))?;
        self.after_player(now, player);
        Ok(())
    }

    /// Operator command: moves a player's character to `map` (its spawn area).
    pub fn transfer(
        &mut self,
        now: Instant,
        player: PlayerId,
        map: &str,
    ) -> Result<(), ChannelRefusal> {
        self.relocate(now, player, map, None, None)?;
        self.after_player(now, player);
        Ok(())
    }

    /// Moves a character to another zone: out of the old one (its observers see
    /// it leave at their next tick), into the new one (observers there see it
    /// appear), and tells the client.
    fn relocate(
        &mut self,
        now: Instant,
        player: PlayerId,
        map: &str,
        channel: Option<u16>,
        pos: Option<crate::math::Vec2>,
    ) -> Result<(), ChannelRefusal> {
        let Some(from) = self.players.get(player).and_then(|p| p.location) else {
            return Err(ChannelRefusal::NoSuchChannel);
        };
        if self.world.map(map).is_none() {
            return Err(ChannelRefusal::NoSuchChannel);
        }
        let epoch = self
            .world
            .zone(from.zone)
            .and_then(|z| z.epoch_of(from.entity))
            .unwrap_or(0)
            .wrapping_add(1);
        // Place first: a refused move leaves the character where it was.
        let to = self.world.place(map, channel, player, pos, epoch, now)?;
        self.world.remove(from);
        if let Some(p) = self.players.get_mut(player) {
            p.location = Some(to);
        }
        self.stats.transfers += 1;
        self.send_zone_entered(now, player);
        Ok(())
    }

    fn send_zone_entered(&mut self, now: Instant, player: PlayerId) {
        let Some(p) = self.players.get(player) else {
            return;
        };
        let (Some(at), Some(conn)) = (p.location, p.conn) else {
            return;
        };
        let Some(msg) = self
            .world
            .zone(at.zone)
            .and_then(|z| z.entered_message(at.entity, now))
        else {
            return;
        };
        if let Some(slot) = self.sessions.get_mut(&conn) {
            slot.session.send(now, &ServerMsg::ZoneEntered(msg));
        }
    }

    fn after_player(&mut self, now: Instant, player: PlayerId) {
        if let Some(conn) = self.players.get(player).and_then(|p| p.conn) {
            self.after_session(now, conn);
        }
    }

    /// Starts the tick timer if the world has players and it is not running.
    fn arm_tick(&mut self, now: Instant) {
        if !self.timer_of.contains_key(&TimerKey::Tick) && self.world.player_count() > 0 {
            self.set_timer(TimerKey::Tick, Some(now + self.tick_period));
        }
    }

    /// One world tick, due at `due`, run at `now`.
    fn tick(&mut self, due: Instant, now: Instant, observer: &mut impl TickObserver) {
        self.stats.ticks += 1;
        // Sessions a message closed (a slow reader) need the full bookkeeping
        // after the tick; the rest only need flushing (sending does not move
        // a session's deadlines).
        let mut closed = std::mem::take(&mut self.tick_touched);
        {
            let Node {
                world,
                sessions,
                players,
                touched,
                ..
            } = self;
            for zone in world.zones_mut() {
                if zone.player_count() == 0 {
                    continue;
                }
                let id = zone.id();
                observer.zone_tick_started(id);
                zone.run_tick(now, &mut |player, frame| {
                    let Some(conn) = players.get(player).and_then(|p| p.conn) else {
                        return;
                    };
                    if let Some(slot) = sessions.get_mut(&conn) {
                        slot.session.send_encoded(now, frame);
                        if slot.session.is_closed() {
                            closed.push(conn);
                        } else if !slot.touched {
                            slot.touched = true;
                            touched.push_back(conn);
                        }
                    }
                });
                observer.zone_tick_finished(id);
            }
        }
        for conn in closed.drain(..) {
            self.after_session(now, conn);
        }
        self.tick_touched = closed;

        let mut transfers = std::mem::take(&mut self.transfers);
        for zone in self.world.zones_mut() {
            transfers.extend(zone.take_transfers());
        }
        for t in transfers.drain(..) {
            let target = self
                .world
                .map(&t.target_map)
                .map(|m| m.cell_center(t.target_cell));
            if self
                .relocate(now, t.player, &t.target_map, None, target)
                .is_ok()
            {
                self.after_player(now, t.player);
            }
        }
        self.transfers = transfers;

        // Fixed rate: the next tick is due one period after this one was due.
        // Running more than a period late, skip the missed ticks rather than
        // run a burst of them.
        let mut next = due + self.tick_period;
        if next <= now {
            self.stats.tick_overruns += 1;
            next = now + self.tick_period;
        }
        if self.world.player_count() > 0 {
            self.set_timer(TimerKey::Tick, Some(next));
        }
    }

    fn login(&mut self, now: Instant, conn: ConnId, credentials: Credentials) {
        let Credentials::Dev { name } = credentials;
        if !valid_name(&name) {
            self.close(
                now,
                conn,
                DisconnectReason::LoginRefused(LoginRefusal::InvalidName),
            );
            return;
        }
        match self.players.by_account(&name) {
            Some(existing) => self.take_over(now, conn, existing),
            None => {
                if self.players.len() >= self.config.max_players as usize {
                    self.close(now, conn, DisconnectReason::ServerFull);
                    return;
                }
                let token = self.new_token();
                let player = self.players.insert(name.clone(), conn, token);
                self.stats.logins += 1;
                self.outputs
                    .push_back(Output::Event(NodeEvent::LoggedIn { conn, player, name }));
                self.welcome(now, conn, player, token, false);
            }
        }
    }

    fn resume(&mut self, now: Instant, conn: ConnId, player: PlayerId, token: ResumeToken) {
        let valid = self
            .players
            .get(player)
            .is_some_and(|p| p.resume_token.matches(&token));
        if valid {
            self.take_over(now, conn, player);
        } else {
            self.close(now, conn, DisconnectReason::ResumeRejected);
        }
    }

    /// Attaches `conn` to an existing player, closing the player's older
    /// connection if it still has one: one player, one session, no ghosts.
    fn take_over(&mut self, now: Instant, conn: ConnId, player: PlayerId) {
        let token = self.new_token();
        let Some(p) = self.players.get_mut(player) else {
            return;
        };
        let old = p.conn.replace(conn);
        p.grace_until = None;
        p.resume_token = token;
        p.in_world = false;
        self.set_timer(TimerKey::Grace(player), None);
        if let Some(old) = old {
            if old != conn {
                self.close(now, old, DisconnectReason::LoggedInElsewhere);
            }
        }
        self.stats.resumes += 1;
        self.outputs
            .push_back(Output::Event(NodeEvent::Resumed { conn, player }));
        self.welcome(now, conn, player, token, true);
    }

    fn welcome(
        &mut self,
        now: Instant,
        conn: ConnId,
        player: PlayerId,
        token: ResumeToken,
        resumed: bool,
    ) {
        let info = WelcomeInfo {
            tick_hz: self.config.tick_hz,
            resume_grace: self.config.resume_grace(),
        };
        if let Some(slot) = self.sessions.get_mut(&conn) {
            slot.session.accept(now, player, token, resumed, info);
        }
    }

    fn new_token(&mut self) -> ResumeToken {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        ResumeToken(bytes)
    }

    /// Bookkeeping after anything touched a session: its timer, its place in the
    /// flush queue, and, once it has closed, what becomes of its player.
    fn after_session(&mut self, now: Instant, conn: ConnId) {
        let Some(slot) = self.sessions.get_mut(&conn) else {
            return;
        };
        let deadline = slot.session.poll_timeout();
        if !slot.touched {
            slot.touched = true;
            self.touched.push_back(conn);
        }
        let closed = slot.session.close_reason().cloned();
        let needs_close = closed.is_some() && !slot.close_handled;
        if needs_close {
            slot.close_handled = true;
        }
        self.arm_session_timer(conn, deadline);
        if let (true, Some(reason)) = (needs_close, closed) {
            self.on_session_closed(now, conn, reason);
        }
    }

    fn on_session_closed(&mut self, now: Instant, conn: ConnId, reason: DisconnectReason) {
        *self.stats.disconnects.entry(reason.label()).or_default() += 1;
        let Some(player) = self.sessions.get(&conn).and_then(|s| s.session.player()) else {
            return;
        };
        // After a takeover the player belongs to another connection already.
        if self.players.get(player).and_then(|p| p.conn) != Some(conn) {
            return;
        }
        if keeps_player_for_resume(&reason) && !self.shutting_down {
            let until = now + self.config.resume_grace();
            if let Some(p) = self.players.get_mut(player) {
                p.conn = None;
                p.grace_until = Some(until);
                p.in_world = false;
            }
            self.set_timer(TimerKey::Grace(player), Some(until));
            self.outputs
                .push_back(Output::Event(NodeEvent::Detached { player, reason }));
        } else {
            self.remove_player(player, reason);
        }
    }

    fn remove_player(&mut self, player: PlayerId, reason: DisconnectReason) {
        if let Some(p) = self.players.remove(player) {
            if let Some(at) = p.location {
                self.world.remove(at);
            }
            self.set_timer(TimerKey::Grace(player), None);
            self.outputs
                .push_back(Output::Event(NodeEvent::PlayerLeft { player, reason }));
        }
    }

    /// Moves a touched connection's output out. Called with `outputs` empty:
    /// a lone `Transmit` is returned at once rather than queued and taken
    /// back (most of what a node outputs); one followed by its `Close` is
    /// queued, in that order.
    fn flush(&mut self, conn: ConnId) -> Option<Output> {
        debug_assert!(self.outputs.is_empty());
        let slot = self.sessions.get_mut(&conn)?;
        slot.touched = false;
        let transmit = slot
            .session
            .poll_transmit_from(&mut self.spares)
            .map(|bytes| {
                self.stats.bytes_out += bytes.len() as u64;
                Output::Transmit { conn, bytes }
            });
        let Some(reason) = slot.session.close_reason().cloned() else {
            return transmit;
        };
        self.outputs.extend(transmit);
        let closed = slot.session.stats();
        self.stats.rate_limited += closed.rate_limited;
        self.stats.msgs_in += closed.msgs_in;
        self.stats.msgs_out += closed.msgs_out;
        self.sessions.remove(&conn);
        self.set_timer(TimerKey::Session(conn), None);
        self.outputs.push_back(Output::Close { conn, reason });
        None
    }

    /// Session deadlines mostly move later (every message pushes the idle
    /// deadline back), so an armed earlier entry is kept: when it fires, the
    /// session finds nothing due and the entry moves to the real deadline. One
    /// early wake-up per idle period instead of a timer-table update per message.
    fn arm_session_timer(&mut self, conn: ConnId, at: Option<Instant>) {
        let key = TimerKey::Session(conn);
        match (self.timer_of.get(&key), at) {
            (Some(&armed), Some(at)) if armed <= at => {}
            _ => self.set_timer(key, at),
        }
    }

    fn set_timer(&mut self, key: TimerKey, at: Option<Instant>) {
        if let Some(old) = self.timer_of.remove(&key) {
            self.timers.remove(&(old, key));
        }
        if let Some(at) = at {
            self.timer_of.insert(key, at);
            self.timers.insert((at, key));
        }
    }
}

/// Disconnects caused by the network keep the player for a resume; the rest (the
/// client left, broke the rules, or was replaced) end the player at once.
fn keeps_player_for_resume(reason: &DisconnectReason) -> bool {
    matches!(
        reason,
        DisconnectReason::ConnectionLost
            | DisconnectReason::IdleTimeout
            | DisconnectReason::FrameTimeout
            | DisconnectReason::SlowReader
    )
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.trim() == name
        && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests;
