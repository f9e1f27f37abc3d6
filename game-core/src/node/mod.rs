//! The node: one server process's sessions, players and world, as one pure machine.
//!
//! The adapter and the simulator drive only this. The node composes parts that
//! each own their state and their deadlines, as str0m's `Rtc` composes its own:
//!
//! | file | concern |
//! |---|---|
//! | `connections.rs` | the sessions (one per connection) and their timers |
//! | `accounts.rs` | login (development names, tokens), resume, take-over, the grace period, leaving |
//! | `characters.rs` | the character screen: list, create, delete, enter the world |
//! | `saves.rs` | characters saved on leaving, on a map change, periodically; retries |
//! | `store.rs` | intents in flight and their deadlines; outcomes to the part that asked |
//! | `routing.rs` | in-game requests to the part that owns them; zone transfers |
//! | `tick.rs` | the world's tick: zones run, their frames go to sessions |
//! | `outbox.rs` | connections with output to flush, in order; buffer reuse |
//! | `commands.rs` | what an operator asks: kick, notice, announce, shutdown |
//! | `social.rs` | the social layer's inputs, store changes and deliveries |
//! | `economy.rs` | inventories held, transactions decided and committed exactly once |
//! | `missions.rs` | battle pass progress (kills, metres, enhancements) stored as it completes |
//! | `raids.rs` | the raid queue, its ready checks, leaderboard reads, runs recorded |
//! | `instances.rs` | raid instances: opened for a match, entered and left, closed |
//! | `instances/rewards.rs` | a raid's end: rewards owed and given once, runs recorded |
//! | `economy_stats.rs` | the economy's counters: transactions by kind and result, refusals, sources and sinks |
//! | `world.rs` | the maps and the zones (channels) running them |
//! | `players.rs` | the player registry, by id and by account |
//!
//! Parts exchange typed values (a zone's frames and transfers, a session's
//! requests), never closures into one another, so a part could later run on
//! another thread or server. Each part reports its next deadline; the node's is
//! the earliest of them.
//!
//! Contract: after any `handle_*` call, drain [`Node::poll_output`] until `None`,
//! then sleep until [`Node::poll_timeout`] and call [`Node::handle_timeout`].
//! Outputs for one connection come in order: its bytes, then its close.

mod accounts;
mod characters;
mod combat;
mod commands;
mod connections;
mod economy;
mod economy_load;
mod economy_requests;
mod economy_stats;
mod economy_views;
mod in_process;
mod instances;
mod missions;
mod outbox;
mod players;
mod raids;
mod routing;
mod saves;
mod social;
mod store;
mod tick;
mod trade;
mod world;

pub use accounts::refusal_label;
pub use economy::{TxName, TxRefusal, INVENTORY_SLOTS};
pub use economy_stats::{EconomyStats, TxKind, TxResult};

pub use in_process::InProcess;
pub use instances::InstanceInfo;
pub use players::Player;
pub use raids::{RaidConfig, RaidStats};
pub use routing::TransferError;
pub use tick::TickObserver;
pub use world::{Location, World, WorldConfig};

use crate::bus::{BusMessage, Topic};
use crate::content::Content;
use crate::ids::{CharacterId, ConnId, IdMap, PlayerId};
use crate::persist::{CharacterState, Intent, Place};
use crate::protocol::DisconnectReason;
use crate::rng::{self, StreamKind};
use crate::session::{Session, SessionConfig};
use crate::social::{Social, SocialConfig};
use crate::time::{Duration, Instant};
use crate::timers::TimerSet;
use crate::zone::Map;
use connections::Connection;
use outbox::Outbox;
use players::Players;
use rand_chacha::ChaCha8Rng;
use saves::Saves;
use serde::{Deserialize, Serialize};
use social::SocialLink;
use std::collections::BTreeMap;
use std::sync::Arc;
use store::StoreLink;
use tick::TickBuffers;

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
    /// Persistence intents waiting for their outcome; past this, new ones are
    /// refused and counted (`NodeStats::store_dropped`): a login is refused
    /// as busy, a save waits and retries.
    pub max_pending_intents: u32,
    /// New logins are refused as `ServerBusy` while this many intents wait,
    /// counting the unsaved characters of players who left: the store is
    /// behind, and the server sheds work instead of growing.
    pub store_busy_intents: u32,
    /// How long an intent waits for its outcome before it counts as failed
    /// (a save is then retried; a login or character request refused).
    pub store_timeout_ms: u32,
    /// A character being played is saved this often (and on leaving, and on
    /// a map change).
    pub save_interval_ms: u32,
    /// Characters one account may have.
    pub max_characters: u8,
    /// Accept `Credentials::Dev` (trust the typed name). For development and
    /// the simulator; a production server turns it off and takes tokens. Not
    /// in the `[node]` table: the server sets it from `[login] dev_login`.
    #[serde(skip)]
    pub dev_login: bool,
    /// Login-token ids remembered until they expire, so each logs in once;
    /// when full of unexpired ids, token logins are refused as busy.
    pub max_token_ids: u32,
    pub session: SessionConfig,
    pub world: WorldConfig,
    pub social: SocialConfig,
    pub raid: RaidConfig,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            tick_hz: 20,
            max_sessions: 16_000,
            max_players: 16_000,
            resume_grace_ms: 30_000,
            max_pending_intents: 16_384,
            store_busy_intents: 8_192,
            store_timeout_ms: 10_000,
            save_interval_ms: 30_000,
            max_characters: 4,
            dev_login: true,
            max_token_ids: 65_536,
            session: SessionConfig::default(),
            world: WorldConfig::default(),
            social: SocialConfig::default(),
            raid: RaidConfig::default(),
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
        // A shutdown saves every player at once, before the driver can hand
        // back a single outcome: the table must hold them all.
        if self.max_pending_intents < self.max_players {
            return Err(format!(
                "max_pending_intents ({}) must be at least max_players ({}), or a shutdown drops saves",
                self.max_pending_intents, self.max_players
            ));
        }
        if self.store_busy_intents == 0 || self.store_busy_intents > self.max_pending_intents {
            return Err(format!(
                "store_busy_intents ({}) must be 1..=max_pending_intents ({})",
                self.store_busy_intents, self.max_pending_intents
            ));
        }
        if self.store_timeout_ms == 0 || self.save_interval_ms == 0 {
            return Err("store_timeout_ms and save_interval_ms must be positive".into());
        }
        if self.max_characters == 0 {
            return Err("max_characters must be positive".into());
        }
        self.session.validate()?;
        self.social.validate()?;
        self.raid.validate()?;
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
    /// Apply this change to the store, then hand its outcome to
    /// [`Node::handle_store_outcome`] (see [`crate::persist`]).
    Persist(Intent),
    /// Deliver to every node subscribed to the message's topic (this one too).
    Publish(BusMessage),
    /// From now on, hand this node every message on `Topic` ([`Node::handle_bus`]).
    Subscribe(Topic),
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
    Resumed { conn: ConnId, player: PlayerId },
    EnteredWorld {
        player: PlayerId,
        character: CharacterId,
    },
    /// The store acknowledged a save of the character at this version, and
    /// where that save put it.
    CharacterSaved {
        character: CharacterId,
        version: u64,
        place: Place,
    },
    /// The store acknowledged an economy transaction: its name (the first
    /// part's character and sequence number) and every part's character and
    /// sequence number after it.
    TransactionCommitted {
        first: CharacterId,
        seq: u64,
        parts: Vec<(CharacterId, u64)>,
    },
    /// The store recorded a raid run: its id, and the characters it owes
    /// a reward (each given once, later, by a transaction naming the run).
    RaidRunRecorded { run: u64, owed: Vec<CharacterId> },
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
    /// Skill requests refused by a zone (by reason: the zones' stats).
    pub skill_refusals: u64,
    pub logins: u64,
    /// Logins refused, by [`refusal_label`].
    pub login_refusals: BTreeMap<&'static str, u64>,
    /// Character requests refused (any reason).
    pub character_refusals: u64,
    pub resumes: u64,
    /// Closed connections by [`DisconnectReason::label`].
    pub disconnects: BTreeMap<&'static str, u64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Messages dropped by the rate limit (summed when sessions close).
    pub rate_limited: u64,
    /// Chat lines sessions shed for slow readers (summed when sessions
    /// close; see [`Node::chat_shed_total`] for the live ones too).
    pub chat_shed: u64,
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
    /// Persistence intents issued, acknowledged, failed, not issued because
    /// too many were pending, and given up on after `store_timeout_ms`.
    pub store_intents: u64,
    pub store_acknowledged: u64,
    pub store_failed: u64,
    pub store_dropped: u64,
    pub store_timeouts: u64,
    /// Outcomes for no pending intent (a store answering twice, or late).
    pub store_unexpected: u64,
    /// Bus messages handed in.
    pub bus_received: u64,
    /// Economy transactions decided and sent, acknowledged, dropped for a
    /// conflict, and sent again.
    pub economy_transactions: u64,
    pub economy_committed: u64,
    pub economy_conflicts: u64,
    pub economy_retries: u64,
    /// Economy requests from clients, and refusals sent (of any request).
    pub economy_requests: u64,
    pub economy_refused: u64,
    /// Trades that ended, and those of them that swapped.
    pub trades_ended: u64,
    pub trades_done: u64,
    /// Players' loot shares given, and lost (an inventory busy or full).
    pub loot_given: u64,
    pub loot_lost: u64,
    /// The economy by transaction kind and result, refusal reason, source
    /// and sink.
    pub economy: EconomyStats,
}

/// All sessions, players and zones of one server process.
#[derive(Debug)]
pub struct Node {
    config: NodeConfig,
    rng: ChaCha8Rng,
    connections: IdMap<ConnId, Connection>,
    /// Each session's next deadline.
    session_timers: TimerSet<ConnId>,
    players: Players,
    /// When each detached player is removed for good.
    grace_timers: TimerSet<PlayerId>,
    world: World,
    tick_buffers: TickBuffers,
    outbox: Outbox,
    /// Persistence intents waiting for their outcome.
    store: StoreLink,
    /// Characters being played or not yet saved.
    saves: Saves,
    /// Chat, friends, parties and guilds.
    social: SocialLink,
    /// Inventories and the transactions in flight.
    wallets: economy::Wallets,
    /// The raid queue, instances and leaderboards.
    raids: raids::RaidLink,
    /// Set by [`Node::accept_tokens`].
    tokens: Option<accounts::TokenCheck>,
    subscriptions: Vec<Topic>,
    shutting_down: bool,
    stats: NodeStats,
}

impl Node {
    /// A node running the sample maps. Resume tokens and zones draw from `seed`
    /// (the adapter seeds it from OS entropy; the simulator from its master seed).
    /// Fails on an invalid configuration: the operator's error.
    pub fn new(config: NodeConfig, seed: u64) -> Result<Self, String> {
        Self::with_maps(config, seed, Vec::new())
    }

    /// A node running `maps` (the sample maps when empty) with the sample
    /// content.
    pub fn with_maps(config: NodeConfig, seed: u64, maps: Vec<Map>) -> Result<Self, String> {
        Self::with_content(config, seed, maps, Arc::new(Content::sample()))
    }

    /// A node running `maps` (the sample maps when empty) with `content`
    /// (validated against those maps by [`Content::load`]).
    pub fn with_content(
        config: NodeConfig,
        seed: u64,
        maps: Vec<Map>,
        content: Arc<Content>,
    ) -> Result<Self, String> {
        config.validate()?;
        let content_for_raids = Arc::clone(&content);
        let world = World::new(config.world.clone(), maps, config.tick_hz, seed, content)?;
        let mut node = Node {
            world,
            rng: rng::stream(seed, StreamKind::Node, 0),
            connections: IdMap::default(),
            session_timers: TimerSet::default(),
            players: Players::default(),
            grace_timers: TimerSet::default(),
            tick_buffers: TickBuffers::default(),
            outbox: Outbox::default(),
            store: StoreLink::default(),
            saves: Saves::default(),
            social: SocialLink::new(Social::new(config.social.clone())),
            wallets: economy::Wallets::new(seed),
            raids: raids::RaidLink::new(config.raid.clone(), &content_for_raids),
            tokens: None,
            subscriptions: Vec::new(),
            shutting_down: false,
            stats: NodeStats::default(),
            config,
        };
        node.subscribe(Topic::Announcements);
        Ok(node)
    }

    // ----- getters -----

    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    pub fn session_count(&self) -> usize {
        self.connections.len()
    }

    pub fn session(&self, conn: ConnId) -> Option<&Session> {
        self.connections.get(&conn).map(|c| &c.session)
    }

    /// Every session, in no particular order (the same on every run).
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.connections.values().map(|c| &c.session)
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

    /// Persistence intents issued and not yet answered.
    pub fn pending_intents(&self) -> usize {
        self.store.len()
    }

    /// The latest state of a character being played or not yet saved, and
    /// its version (for tests and the simulator's invariants).
    pub fn character_state(&self, character: CharacterId) -> Option<(u64, &CharacterState)> {
        self.saves.latest(character)
    }

    /// Chat lines shed for slow readers, by every session so far: those
    /// closed and those open.
    pub fn chat_shed_total(&self) -> u64 {
        self.connections
            .values()
            .map(|c| c.session.stats().chat_shed)
            .sum::<u64>()
            + self.stats.chat_shed
    }

    /// Messages received and sent, over every session the node has had (closed
    /// ones included): `(in, out)`.
    pub fn message_totals(&self) -> (u64, u64) {
        self.connections
            .values()
            .map(|c| c.session.stats())
            .fold((self.stats.msgs_in, self.stats.msgs_out), |(i, o), s| {
                (i + s.msgs_in, o + s.msgs_out)
            })
    }

    // ----- inputs (the connection inputs are in connections.rs) -----

    /// Runs every timer that is due. Harmless when nothing is.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.handle_timeout_observed(now, &mut ());
    }

    /// [`Node::handle_timeout`], telling `observer` when each zone's tick starts
    /// and ends.
    pub fn handle_timeout_observed(&mut self, now: Instant, observer: &mut impl TickObserver) {
        // Earliest first; due at the same instant, the world's tick runs
        // first, then sessions, grace periods, intent deadlines and saves:
        // one total order on every run.
        while let Some(at) = self.poll_timeout().filter(|&at| at <= now) {
            if self.world.tick_due() == Some(at) {
                self.tick(at, now, observer);
            } else if let Some((_, conn)) = self.session_timers.pop_due(at) {
                self.session_timeout(now, conn);
            } else if let Some((_, player)) = self.grace_timers.pop_due(at) {
                self.grace_ended(now, player);
            } else if let Some(intent) = self.store.pop_due(at) {
                self.intent_timed_out(now, intent);
            } else if let Some(character) = self.saves.pop_due(at) {
                self.save_timer(now, character);
            } else if let Some(due) = self.wallets.pop_due(at) {
                match due {
                    Ok(name) => self.commit_retry(now, name),
                    Err(character) => self.load_inventory(now, character),
                }
            }
        }
    }

    /// A message from the bus on a topic this node subscribed to.
    pub fn handle_bus(&mut self, now: Instant, message: BusMessage) {
        if !self.subscriptions.contains(&message.topic()) {
            return;
        }
        self.stats.bus_received += 1;
        match message {
            BusMessage::Announcement { level, text } => self.notice(now, None, level, &text),
            // Friends' presence is kept by this server's social layer; a
            // social layer spread over servers would read this.
            BusMessage::Presence { .. } => {}
        }
    }

    // ----- outputs -----

    /// The next thing for the driver to do, or `None` when there is nothing.
    pub fn poll_output(&mut self) -> Option<Output> {
        loop {
            if let Some(out) = self.outbox.outputs.pop_front() {
                return Some(out);
            }
            let conn = self.outbox.to_flush.pop_front()?;
            if let Some(out) = self.flush(conn) {
                return Some(out);
            }
        }
    }

    /// The earliest deadline of any part.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.world.tick_due(),
            self.session_timers.next().map(|(at, _)| at),
            self.grace_timers.next().map(|(at, _)| at),
            self.store.next_deadline(),
            self.saves.next_deadline(),
            self.wallets.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ----- shared internals -----

    fn publish(&mut self, message: BusMessage) {
        self.outbox.outputs.push_back(Output::Publish(message));
    }

    fn subscribe(&mut self, topic: Topic) {
        if !self.subscriptions.contains(&topic) {
            self.subscriptions.push(topic);
            self.outbox.outputs.push_back(Output::Subscribe(topic));
        }
    }

    fn event(&mut self, event: NodeEvent) {
        self.outbox.outputs.push_back(Output::Event(event));
    }
}

#[cfg(test)]
mod tests;
