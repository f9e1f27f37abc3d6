//! The client side of a session, as a sans-IO machine.
//!
//! The same machine runs in `mmo-bots`, in the simulator and (ported) in a game
//! client: it performs the handshake, logs in or resumes, answers and sends
//! heartbeats, estimates RTT and the server clock, and notices a silent server.
//! The driver owns the transport: after `Disconnected` it drops the connection and
//! may call [`Client::connect`] again on a new one, which resumes the same player
//! when the server still holds it.

mod avatar;
mod economy;
mod events;
mod fight;
mod interpolation;
mod raid;
mod remotes;
mod social;

pub use avatar::{clamp_speed, Avatar};
pub use economy::EconomyView;
pub use events::{ClientConfig, ClientEvent, ClientState};
pub use fight::{Bar, Fight, Skillbook};
pub use interpolation::{InterpolationConfig, Interpolator};
pub use raid::RaidState;
pub use remotes::{Remote, Remotes};
pub use social::SocialView;

use crate::heartbeat::Pinger;
use crate::ids::{CharacterId, EntityId, PlayerId};
use crate::math::Vec2;
use crate::protocol::{
    encode_frame, encode_move_frame, CharacterSummary, ClientCombat, ClientEconomy, ClientMsg,
    ClientRaid, ClientSession, ClientSocial, ClientWorld, CombatEvent, Credentials, DecodeError,
    DisconnectReason, FrameDecoder, ResumeToken, ServerCombat, ServerMsg, ServerSession,
    ServerWorld, Violation, WorldUpdateReader, MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD,
};
use crate::time::{Duration, Instant};
use std::collections::VecDeque;

/// Remote entities tracked at most; more spawns from a confused server are ignored.
const MAX_REMOTES: usize = 65_536;

/// At most this many events wait for the driver; it drains after every call, so
/// only a driver bug could reach it.
const MAX_EVENTS: usize = 4096;

/// A buffer bigger than this is not kept for reuse (a client's own writes are
/// a few hundred bytes at most).
const MAX_SPARE_CAPACITY: usize = 16 * 1024;

/// What the welcome told us about the server's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ServerParams {
    idle_timeout: Duration,
    tick_hz: u16,
}

/// Laid out in the order written (`repr(C)`), hottest first: a simulator
/// drives thousands of clients, each event touches one of them cold, and what
/// a delivered world update and the timer check after it read then shares a
/// few adjacent cache lines instead of spreading over all twelve.
/// Cachegrind, `sim --bots 1000 --seconds 10 --seed 42` (2026-12-06), with
/// the four `repr(C)` orderings (`node::Connection`, `Session`, `Pinger`,
/// `Client`) against none: 18.37M first-level data-cache misses against
/// 19.40M, for 0.2% more instructions; last-level misses equal.
#[derive(Debug)]
#[repr(C)]
pub struct Client {
    state: ClientState,
    last_heard: Instant,
    connected_at: Instant,
    server: Option<ServerParams>,
    /// Server time stamped on world updates minus our time of arrival, from
    /// the least delayed recent update: the clock interpolation renders against.
    arrival_offset_us: Option<i64>,
    world_updates: u64,
    /// Spawns, despawns and position updates received in world updates.
    entity_updates: u64,
    updates_for_unknown: u64,
    out: Vec<u8>,
    /// A written buffer the driver gave back ([`Client::recycle`]) while
    /// `out` held something: the queue after the next write, so a bot moving
    /// ten times a second allocates nothing.
    spare: Vec<u8>,
    decoder: FrameDecoder,
    remotes: Remotes,
    events: VecDeque<ClientEvent>,
    avatar: Option<Avatar>,
    pinger: Pinger,
    config: ClientConfig,
    /// The player and token to resume with on the next connect.
    resume: Option<(PlayerId, ResumeToken)>,
    player: Option<PlayerId>,
    /// The account's characters, from the last character screen.
    characters: Vec<CharacterSummary>,
    /// `auto_enter_world` asked to create its character on this connection.
    create_sent: bool,
    dropped_events: u64,
    fight: Fight,
    social: SocialView,
    economy: EconomyView,
    raid: RaidState,
}

impl Client {
    pub fn new(config: ClientConfig) -> Self {
        let pinger = Pinger::new(config.heartbeat_interval, Instant::ZERO);
        Client {
            config,
            state: ClientState::Idle,
            decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
            out: Vec::new(),
            spare: Vec::new(),
            events: VecDeque::new(),
            pinger,
            resume: None,
            player: None,
            characters: Vec::new(),
            create_sent: false,
            server: None,
            connected_at: Instant::ZERO,
            last_heard: Instant::ZERO,
            dropped_events: 0,
            avatar: None,
            remotes: Remotes::default(),
            arrival_offset_us: None,
            updates_for_unknown: 0,
            entity_updates: 0,
            world_updates: 0,
            fight: Fight::default(),
            social: SocialView::default(),
            economy: EconomyView::default(),
            raid: RaidState::default(),
        }
    }

    /// What the client knows of fighting: its vitals, skillbook and cast,
    /// and the health bars of what it sees.
    pub fn fight(&self) -> &Fight {
        &self.fight
    }

    /// Asks to use a skill (the zone judges it at its next tick).
    pub fn use_skill(&mut self, skill: u16, target: Option<EntityId>) {
        self.queue(&ClientMsg::Combat(ClientCombat::UseSkill { skill, target }));
    }

    /// Starts auto-attacking `target`.
    pub fn attack(&mut self, target: EntityId) {
        self.queue(&ClientMsg::Combat(ClientCombat::Attack { target }));
    }

    pub fn stop_attack(&mut self) {
        self.queue(&ClientMsg::Combat(ClientCombat::StopAttack));
    }

    pub fn cancel_cast(&mut self) {
        self.queue(&ClientMsg::Combat(ClientCombat::CancelCast));
    }

    /// Sends a social request (chat, whisper, friends, party, guild).
    pub fn social_request(&mut self, request: ClientSocial) {
        self.queue(&ClientMsg::Social(request));
    }

    /// Lists, party, guild and recent chat, as the server last said.
    pub fn social(&self) -> &SocialView {
        &self.social
    }

    /// Sends an economy request; `make` gets the request's number (one above
    /// the last), which the answer names. Returns that number.
    pub fn economy_request(&mut self, make: impl FnOnce(u32) -> ClientEconomy) -> u32 {
        let req = self.economy.next_req();
        self.queue(&ClientMsg::Economy(make(req)));
        req
    }

    /// Sends an economy request as it is, number included (tests and hostile
    /// bots replay or reorder numbers with it).
    pub fn economy_request_raw(&mut self, request: ClientEconomy) {
        self.queue(&ClientMsg::Economy(request));
    }

    /// Sends a raid request (queue, ready check, instance, reward, boards).
    pub fn raid_request(&mut self, request: ClientRaid) {
        self.queue(&ClientMsg::Raid(request));
    }

    /// The queue, the ready check and the raid, as the server last said.
    pub fn raid(&self) -> &RaidState {
        &self.raid
    }

    /// What the character owns, as the server last said.
    pub fn economy(&self) -> &EconomyView {
        &self.economy
    }

    /// The client's own character, once in a zone.
    pub fn avatar(&self) -> Option<&Avatar> {
        self.avatar.as_ref()
    }

    /// Remote entities in view, by id.
    pub fn remotes(&self) -> &Remotes {
        &self.remotes
    }

    /// Updates that named an entity this client did not know (a server bug).
    pub fn updates_for_unknown(&self) -> u64 {
        self.updates_for_unknown
    }

    /// Entity entries (spawns, despawns, position updates) received in world
    /// updates since the client was made: what a load test counts per second.
    pub fn entity_updates(&self) -> u64 {
        self.entity_updates
    }

    /// `WorldUpdate` messages applied since the client was made.
    pub fn world_updates(&self) -> u64 {
        self.world_updates
    }

    /// Moves the character at `vel` (raw units per second; clamped to the zone's
    /// speed limit) since the last call, and sends the new position. Returns the
    /// predicted position, or `None` when not in a zone.
    pub fn move_with(&mut self, now: Instant, vel: Vec2) -> Option<Vec2> {
        if self.state != ClientState::InWorld {
            return None;
        }
        let avatar = self.avatar.as_mut()?;
        let input = avatar.step(now, vel);
        let pos = avatar.position();
        self.queue(&ClientMsg::World(ClientWorld::Move(input)));
        Some(pos)
    }

    /// Claims a position outright (scripted moves; a cheater in tests).
    pub fn claim_position(&mut self, now: Instant, pos: Vec2) {
        if self.state != ClientState::InWorld {
            return;
        }
        if let Some(avatar) = self.avatar.as_mut() {
            let input = avatar.claim(now, pos);
            self.queue(&ClientMsg::World(ClientWorld::Move(input)));
        }
    }

    pub fn switch_channel(&mut self, channel: u16) {
        if self.state == ClientState::InWorld {
            self.queue(&ClientMsg::World(ClientWorld::SwitchChannel { channel }));
        }
    }

    /// Asks for the current map from `first_row` on; the answer comes as
    /// [`ClientEvent::MapChunk`].
    pub fn fetch_map(&mut self, first_row: u32) {
        if self.state == ClientState::InWorld {
            self.queue(&ClientMsg::World(ClientWorld::FetchMap { first_row }));
        }
    }

    /// When the last complete message from the server arrived.
    pub fn last_heard(&self) -> Instant {
        self.last_heard
    }

    /// The server time remote entities are drawn at, at local time `now` (the
    /// arrival clock minus the interpolation delay), once an update has arrived.
    pub fn render_time(&self, now: Instant) -> Option<Instant> {
        let offset = self.arrival_offset_us?;
        let t = now.as_micros() as i128 + offset as i128
            - self.config.interpolation.delay.as_micros() as i128;
        Some(Instant::from_micros(t.clamp(0, u64::MAX as i128) as u64))
    }

    /// Where to draw remote entity `entity` at local time `now`: interpolated
    /// 100 ms (the configured delay) behind the server clock as updates arrive,
    /// as Source engine games do. Rendering against arrival time, not the true
    /// server clock, keeps one-way latency out of the delay budget: 100 ms
    /// covers one tick interval plus jitter, whatever the ping.
    pub fn draw_position(&mut self, entity: EntityId, now: Instant) -> Option<Vec2> {
        let offset = self.arrival_offset_us?;
        let t = (now.as_micros() as i128 + offset as i128).clamp(0, u64::MAX as i128) as u64;
        self.remotes
            .interpolator_mut(&entity)?
            .sample(Instant::from_micros(t))
    }

    pub fn state(&self) -> &ClientState {
        &self.state
    }

    pub fn player(&self) -> Option<PlayerId> {
        self.player
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Whether the next [`Client::connect`] will try to resume a player.
    pub fn can_resume(&self) -> bool {
        self.resume.is_some()
    }

    pub fn tick_hz(&self) -> Option<u16> {
        self.server.map(|s| s.tick_hz)
    }

    pub fn rtt(&self) -> Option<Duration> {
        self.pinger.rtt().smoothed()
    }

    /// The server's clock now, as best the heartbeats (or, before the first
    /// heartbeat, the world updates) tell.
    pub fn server_time(&self, now: Instant) -> Option<Instant> {
        let offset = self
            .pinger
            .rtt()
            .clock_offset_us()
            .or(self.arrival_offset_us)?;
        let t = now.as_micros() as i128 + offset as i128;
        Some(Instant::from_micros(t.clamp(0, u64::MAX as i128) as u64))
    }

    /// A new transport is up: say hello and log in, or resume the held player.
    pub fn connect(&mut self, now: Instant) {
        self.state = ClientState::Handshaking;
        self.decoder = FrameDecoder::new(MAX_SERVER_PAYLOAD);
        self.out.clear();
        self.connected_at = now;
        self.last_heard = now;
        self.queue(&ClientMsg::Session(ClientSession::Hello {
            protocol_version: self.config.protocol_version,
            client: "game-core".into(),
        }));
        match self.resume {
            Some((player, token)) => {
                self.queue(&ClientMsg::Session(ClientSession::Resume { player, token }))
            }
            None => self.queue(&ClientMsg::Session(ClientSession::Login {
                credentials: self.config.credentials.clone(),
            })),
        }
        self.create_sent = false;
    }

    /// The credentials of the next login (a fresh token: each logs in once).
    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.config.credentials = credentials;
    }

    /// The account's characters, as the last character screen listed them.
    pub fn characters(&self) -> &[CharacterSummary] {
        &self.characters
    }

    /// Asks to enter the world with one of the account's characters (done
    /// automatically with `auto_enter_world`).
    pub fn enter_world(&mut self, character: CharacterId) {
        if self.state == ClientState::LoggedIn {
            self.queue(&ClientMsg::Session(ClientSession::EnterWorld { character }));
        }
    }

    /// Asks to create a character (answered with a new character screen).
    pub fn create_character(&mut self, name: &str) {
        if self.state == ClientState::LoggedIn {
            self.queue(&ClientMsg::Session(ClientSession::CreateCharacter {
                name: name.to_owned(),
            }));
        }
    }

    /// Asks to delete a character (answered with a new character screen).
    pub fn delete_character(&mut self, character: CharacterId) {
        if self.state == ClientState::LoggedIn {
            self.queue(&ClientMsg::Session(ClientSession::DeleteCharacter {
                character,
            }));
        }
    }

    /// `auto_enter_world` on the character screen: enter with the configured
    /// character, creating it once if the account lacks it.
    fn auto_enter(&mut self) {
        let wanted = crate::auth::name_key(&self.config.character);
        let found = self
            .characters
            .iter()
            .find(|c| crate::auth::name_key(&c.name) == wanted)
            .map(|c| c.id);
        match found {
            Some(id) => self.enter_world(id),
            None if !self.create_sent => {
                self.create_sent = true;
                let name = self.config.character.clone();
                self.create_character(&name);
            }
            None => {}
        }
    }

    /// Leaves for good: the server removes the player at once.
    pub fn goodbye(&mut self) {
        if self.is_connected() {
            self.queue(&ClientMsg::Session(ClientSession::Goodbye));
        }
        self.resume = None;
        self.disconnect(DisconnectReason::ClientQuit);
    }

    /// Bytes arrived from the server.
    pub fn handle_bytes(&mut self, now: Instant, mut input: &[u8]) {
        // The decoder is taken out while a payload borrowed from it is applied.
        let mut decoder = std::mem::replace(&mut self.decoder, FrameDecoder::new(0));
        while !input.is_empty() && self.is_connected() {
            let payload = match decoder.decode(&mut input) {
                Ok(Some(payload)) => payload,
                Ok(None) => break,
                Err(_) => {
                    self.disconnect(DisconnectReason::ProtocolViolation(
                        Violation::FrameTooLarge,
                    ));
                    break;
                }
            };
            let applied = match WorldUpdateReader::new(payload) {
                Some(reader) => {
                    self.world_updates += 1;
                    self.apply_update(now, reader)
                }
                None => ServerMsg::decode(payload).map(|msg| self.on_message(now, msg)),
            };
            match applied {
                Ok(()) => self.last_heard = now,
                Err(_) => {
                    self.disconnect(DisconnectReason::ProtocolViolation(Violation::Malformed))
                }
            }
        }
        self.decoder = decoder;
    }

    /// The transport closed under us.
    pub fn handle_connection_lost(&mut self, _now: Instant) {
        if self.is_connected() {
            self.disconnect(DisconnectReason::ConnectionLost);
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.is_connected() {
            return;
        }
        if let Some(deadline) = self.silence_deadline() {
            if now >= deadline {
                self.disconnect(if self.state == ClientState::Handshaking {
                    DisconnectReason::HandshakeTimeout
                } else {
                    DisconnectReason::IdleTimeout
                });
                return;
            }
        }
        if matches!(self.state, ClientState::LoggedIn | ClientState::InWorld) {
            if let Some((seq, sent)) = self.pinger.poll_ping(now) {
                self.queue(&ClientMsg::Session(ClientSession::Ping {
                    seq,
                    client_time_us: sent.as_micros(),
                }));
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            ClientState::Handshaking => self.silence_deadline(),
            ClientState::LoggedIn | ClientState::InWorld => {
                let ping = self.pinger.deadline();
                Some(self.silence_deadline().map_or(ping, |d| d.min(ping)))
            }
            ClientState::Idle | ClientState::Disconnected { .. } => None,
        }
    }

    /// Everything queued for the server, for one write.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            None
        } else {
            let next = std::mem::take(&mut self.spare);
            Some(std::mem::replace(&mut self.out, next))
        }
    }

    /// Gives back a buffer [`Client::poll_transmit`] returned, once written:
    /// the next write goes into it (into the one after, if something is
    /// queued already). One spare is kept, of at most `MAX_SPARE_CAPACITY`.
    pub fn recycle(&mut self, mut buffer: Vec<u8>) {
        if buffer.capacity() > MAX_SPARE_CAPACITY {
            return;
        }
        buffer.clear();
        if self.out.is_empty() && self.out.capacity() < buffer.capacity() {
            self.out = buffer;
        } else if self.spare.capacity() < buffer.capacity() {
            self.spare = buffer;
        }
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Events dropped because the driver did not drain them.
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events
    }

    fn on_message(&mut self, now: Instant, msg: ServerMsg) {
        match msg {
            ServerMsg::Session(ServerSession::Welcome {
                player,
                resume_token,
                tick_hz,
                idle_timeout_ms,
                resumed,
                ..
            }) => {
                self.player = Some(player);
                self.resume = Some((player, resume_token));
                self.server = Some(ServerParams {
                    idle_timeout: Duration::from_millis(idle_timeout_ms as u64),
                    tick_hz,
                });
                self.state = ClientState::LoggedIn;
                // First ping at once, for an early RTT and clock estimate.
                self.pinger = Pinger::new(self.config.heartbeat_interval, now);
                // A resumed player is put back in the world by the server;
                // any other login gets the character screen next.
                self.emit(ClientEvent::Welcomed { player, resumed });
            }
            ServerMsg::Session(ServerSession::Characters { characters, max }) => {
                self.characters = characters.clone();
                self.emit(ClientEvent::Characters { characters, max });
                if self.config.auto_enter_world && self.state == ClientState::LoggedIn {
                    self.auto_enter();
                }
            }
            ServerMsg::Session(ServerSession::CharacterRefused { reason }) => {
                self.emit(ClientEvent::CharacterRefused { reason })
            }
            ServerMsg::Session(ServerSession::EnteredWorld {
                character,
                experience,
                ..
            }) => {
                if self.state != ClientState::InWorld {
                    self.social.clear();
                    self.economy.clear();
                }
                self.state = ClientState::InWorld;
                self.emit(ClientEvent::EnteredWorld {
                    character,
                    experience,
                });
            }
            ServerMsg::Session(ServerSession::Ping {
                seq,
                server_time_us,
            }) => self.queue(&ClientMsg::Session(ClientSession::Pong {
                seq,
                server_time_us,
                client_time_us: now.as_micros(),
            })),
            ServerMsg::Session(ServerSession::Pong {
                seq,
                client_time_us,
                server_time_us,
            }) => {
                if let Ok(rtt) = self
                    .pinger
                    .handle_pong(now, seq, client_time_us, server_time_us)
                {
                    self.emit(ClientEvent::RttSample { rtt });
                }
            }
            ServerMsg::Session(ServerSession::Notice { level, text }) => {
                self.emit(ClientEvent::Notice { level, text })
            }
            ServerMsg::World(ServerWorld::ZoneEntered(z)) => {
                let next_seq = self.avatar.as_ref().map_or(0, |a| a.next_seq());
                self.avatar = Some(Avatar::new(&z, next_seq));
                self.remotes.clear();
                self.fight.clear_view();
                self.emit(ClientEvent::ZoneEntered {
                    map: z.map,
                    channel: z.channel,
                    entity: z.entity,
                });
            }
            // Read in place by `handle_bytes`; never decoded into this form.
            ServerMsg::World(ServerWorld::WorldUpdate(_)) => {}
            ServerMsg::World(ServerWorld::ChannelRefused { channel, reason }) => {
                self.emit(ClientEvent::ChannelRefused { channel, reason })
            }
            ServerMsg::World(ServerWorld::MapChunk(chunk)) => {
                self.emit(ClientEvent::MapChunk(chunk))
            }
            ServerMsg::Combat(ServerCombat::Skillbook {
                auto_attack,
                skills,
                global_cooldown_ms,
            }) => {
                self.fight.skillbook = Skillbook {
                    auto_attack,
                    skills,
                    global_cooldown_ms,
                };
                self.emit(ClientEvent::Skillbook);
            }
            ServerMsg::Combat(ServerCombat::SkillRefused { skill, reason }) => {
                self.emit(ClientEvent::SkillRefused { skill, reason })
            }
            ServerMsg::Economy(msg) => {
                self.economy.apply(&msg);
                self.emit(ClientEvent::Economy(msg));
            }
            ServerMsg::Social(msg) => {
                self.social.apply(&msg);
                self.emit(ClientEvent::Social(msg));
            }
            ServerMsg::Raid(msg) => {
                self.raid.apply(now, &msg);
                self.emit(ClientEvent::Raid(msg));
            }
            ServerMsg::Session(ServerSession::Disconnect { reason }) => {
                if !matches!(
                    reason,
                    DisconnectReason::IdleTimeout | DisconnectReason::SlowReader
                ) {
                    // Only network trouble leaves a player to resume.
                    self.resume = None;
                }
                self.disconnect(reason);
            }
        }
    }

    /// Applies a `WorldUpdate` straight from its bytes: it is most of what a
    /// client receives, so it is read in place instead of into vectors.
    fn apply_update(
        &mut self,
        now: Instant,
        mut r: WorldUpdateReader<'_>,
    ) -> Result<(), DecodeError> {
        let h = r.header()?;
        let at = Instant::from_micros(h.server_time_us);
        let offset = h.server_time_us as i64 - now.as_micros() as i64;
        // Follow the least delayed update at once; let a longer path take over
        // slowly (1 ms per update), so jitter does not shake the render clock.
        self.arrival_offset_us = Some(match self.arrival_offset_us {
            Some(cur) if offset < cur => offset.max(cur - 1_000),
            _ => offset,
        });
        if let Some(avatar) = self.avatar.as_mut() {
            avatar.acknowledge(h.ack_seq);
            if let Some(c) = h.correction {
                let replay = avatar.correct(now, &c);
                if let Some(input) = replay {
                    self.queue(&ClientMsg::World(ClientWorld::Move(input)));
                }
                let held = self.fight.held(now);
                self.emit(ClientEvent::Corrected { seq: c.seq, held });
            }
        }
        // On the wire spawns come first, but despawns apply first (an entity
        // may leave and come back in one message): skip the spawns, come back.
        let mut spawns = r.clone();
        let n_spawns = r.count()?;
        self.entity_updates = self.entity_updates.saturating_add(n_spawns);
        for _ in 0..n_spawns {
            r.spawn()?;
        }
        let n_despawns = r.count()?;
        self.entity_updates = self.entity_updates.saturating_add(n_despawns);
        for _ in 0..n_despawns {
            let e = r.despawn()?;
            self.remotes.remove(&e);
            self.fight.despawned(e);
        }
        spawns.count()?;
        for _ in 0..n_spawns {
            let s = spawns.spawn()?;
            if self.remotes.len() >= MAX_REMOTES && !self.remotes.contains_key(&s.entity) {
                continue;
            }
            self.fight.spawned(&s);
            let interp = self.config.interpolate.then(|| {
                let mut interp = Box::new(Interpolator::new(self.config.interpolation));
                interp.push(at, s.pos.to_pos());
                interp
            });
            self.remotes.insert(s.entity, s.kind, s.pos, interp);
        }
        let mut from = 0;
        let n_updates = r.count()?;
        self.entity_updates = self.entity_updates.saturating_add(n_updates);
        // Only a drawing client's remotes have interpolation buffers.
        let record = self.config.interpolate.then_some(at);
        for _ in 0..n_updates {
            let up = r.update()?;
            if !self
                .remotes
                .step_from(&up.entity, &mut from, up.dx, up.dy, record)
            {
                self.updates_for_unknown += 1;
            }
        }
        if let Some(v) = r.vitals()? {
            self.fight.vitals = Some(v);
            if let Some(avatar) = self.avatar.as_mut() {
                avatar.set_speed_pct(v.speed_pct);
            }
        }
        let me = self.avatar.as_ref().map(|a| a.entity);
        for _ in 0..r.count()? {
            let e = r.event()?;
            self.fight.apply(now, me, &e);
            let mine = match e {
                CombatEvent::Hit { source, target, .. } => Some(source) == me || Some(target) == me,
                CombatEvent::Died { entity, killer, .. } => {
                    Some(entity) == me || (me.is_some() && killer == me)
                }
                _ => Some(e.subject()) == me,
            };
            if mine {
                self.emit(ClientEvent::Combat(e));
            }
        }
        r.finish()
    }

    fn silence_deadline(&self) -> Option<Instant> {
        match (&self.state, self.server) {
            (ClientState::Handshaking, _) => {
                Some(self.connected_at + self.config.handshake_timeout)
            }
            (_, Some(server)) => Some(self.last_heard + server.idle_timeout),
            _ => None,
        }
    }

    fn is_connected(&self) -> bool {
        matches!(
            self.state,
            ClientState::Handshaking | ClientState::LoggedIn | ClientState::InWorld
        )
    }

    fn disconnect(&mut self, reason: DisconnectReason) {
        self.state = ClientState::Disconnected {
            reason: reason.clone(),
        };
        self.emit(ClientEvent::Disconnected { reason });
    }

    fn queue(&mut self, msg: &ClientMsg) {
        if let ClientMsg::World(ClientWorld::Move(m)) = msg {
            // Sent several times a second: written without serde.
            encode_move_frame(m, &mut self.out);
            return;
        }
        // Our own messages are small; failing here would be a bug in this crate.
        let encoded = encode_frame(msg, MAX_CLIENT_PAYLOAD, &mut self.out);
        debug_assert!(encoded.is_ok(), "client message too large: {msg:?}");
    }

    fn emit(&mut self, event: ClientEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.dropped_events += 1;
            return;
        }
        self.events.push_back(event);
    }
}

#[cfg(test)]
mod tests;
