//! The wire protocol: typed messages and the frames that carry them. Nothing else.
//!
//! A frame is a 4-byte little-endian payload length followed by that many bytes of
//! a postcard-encoded [`ClientMsg`] or [`ServerMsg`]. `docs/PROTOCOL.md` documents
//! the bytes; `snapshots/` pins the encoding of every variant.
//!
//! Compatibility rule: new enum variants are only ever appended, so an old peer's
//! messages keep their encoding. Anything else bumps [`PROTOCOL_VERSION`].

mod combat;
mod disconnect;
mod economy;
mod economy_examples;
pub mod examples;
mod frame;
mod raid;
mod raid_examples;
mod social;
mod social_examples;
mod tags;
mod world_update_codec;

pub use combat::{
    health_fraction, ClientCombat, CombatEvent, EffectKind, HitOutcome, ServerCombat, SkillInfo,
    SkillRefusal, Vitals,
};
pub use disconnect::{DisconnectReason, LoginRefusal, TokenRefusal, Violation};
pub use economy::{
    Catalogue, Cause, ClientEconomy, EconomyRefusal, EnhanceOutcome, InventoryView, ItemInfo,
    LevelInfo, MissionInfo, OfferInfo, OfferView, PassProgress, PassView, ServerEconomy, StepInfo,
    TradeEnd, TradeView,
};
pub use frame::{encode_frame, FrameDecoder, FrameError, FRAME_HEADER_LEN};
pub use raid::{
    BoardRow, ClientRaid, LeftQueue, QueueView, RaidEnd, RaidRefusal, RaidTally, RaidView,
    RewardView, ServerRaid, MAX_BOARD_TOP,
};
pub use social::{
    ChatChannel, ChatLine, ClientSocial, Contact, Friend, GuildRank, GuildView, MemberVitals,
    PartyView, ServerSocial, SocialRefusal, Whereabouts, DEFAULT_MAX_CHAT_BYTES,
};
pub use world_update_codec::{
    encode_event, encode_move_frame, encode_world_update_frame, read_world_update, EncodedUpdate,
    Entries, UpdateHeader, WorldUpdateReader, WorldUpdateWriter,
};

use crate::ids::{CharacterId, EntityId, PlayerId, ZoneId};
use crate::math::{Fixed, Vec2};
use crate::time::Tick;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The version a client announces in [`ClientSession::Hello`]; a mismatch is refused.
pub const PROTOCOL_VERSION: u16 = 6;

/// The largest payload a server accepts from a client by default.
pub const MAX_CLIENT_PAYLOAD: u32 = 2 * 1024;

/// The largest payload a server ever sends (clients should accept at least this).
pub const MAX_SERVER_PAYLOAD: u32 = 256 * 1024;

/// The longest player name a development login accepts, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 32;

/// Messages from a client to the server, grouped by domain. A new domain is a
/// new variant here, an enum of its own and a range in [`domain`]; each
/// message is one tag on the wire (see `tags.rs`).
#[derive(Clone, PartialEq, Eq)]
pub enum ClientMsg {
    /// The connection's life: handshake, login, heartbeats, leaving.
    Session(ClientSession),
    /// The character in the world: movement, channels.
    World(ClientWorld),
    /// The character's fighting: skills, auto-attack.
    Combat(ClientCombat),
    /// The character's social life: chat, friends, blocks, parties, guilds.
    Social(ClientSocial),
    /// What the character owns: inventory, equipment, shop, enhancement,
    /// battle pass, trade.
    Economy(ClientEconomy),
    /// Raids: the queue, the instance, the reward, the leaderboards.
    Raid(ClientRaid),
}

/// The session's own messages from a client: the session handles these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientSession {
    /// First message on every connection.
    Hello {
        protocol_version: u16,
        /// Free-form client build name, for logs (at most [`MAX_NAME_LEN`] bytes).
        client: String,
    },
    /// Log in as a new session for an account.
    Login { credentials: Credentials },
    /// Reattach to a player kept during the grace period after a dropped connection.
    Resume {
        player: PlayerId,
        token: ResumeToken,
    },
    /// Play one of the account's characters: it enters the world where it last
    /// stood (after login, not after a resume, which puts it back by itself).
    EnterWorld { character: CharacterId },
    /// Heartbeat from the client; the server answers with [`ServerSession::Pong`].
    Ping { seq: u32, client_time_us: u64 },
    /// Answer to [`ServerSession::Ping`], echoing its fields.
    Pong {
        seq: u32,
        server_time_us: u64,
        client_time_us: u64,
    },
    /// Leave for good: the player is removed at once, no grace period.
    Goodbye,
    /// Ask for the account's characters again (answered with [`ServerSession::Characters`]).
    ListCharacters,
    /// Create a character (answered with [`ServerSession::Characters`] or
    /// [`ServerSession::CharacterRefused`]).
    CreateCharacter { name: String },
    /// Delete one of the account's characters (answered as `CreateCharacter` is).
    DeleteCharacter { character: CharacterId },
}

/// In-game requests about the character in the world. The session passes
/// them to the node without reading them, once the player is in the world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientWorld {
    /// Where the client's own character is now (client-side prediction). The
    /// zone validates it and answers a bad move with a correction.
    Move(MoveInput),
    /// Move to another channel (copy) of the current map.
    SwitchChannel { channel: u16 },
    /// Send the current map's description and walkability from this row on
    /// (answered with [`ServerWorld::MapChunk`]). Fetch from row 0, then from
    /// each answer's `first_row + rows` until it reaches `height`.
    FetchMap { first_row: u32 },
}

/// One movement input, sent at 10-20 Hz while moving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveInput {
    /// Increases by one per input; the server acknowledges the last one applied.
    pub seq: u32,
    /// The epoch of the last correction the client applied (0 before any).
    /// Inputs from an older epoch were made before the client knew of the
    /// correction and are ignored.
    pub epoch: u16,
    pub client_time_us: u64,
    pub pos: Vec2,
    pub vel: Vec2,
}

/// How a client proves who it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Credentials {
    /// Development login: trust the name (refused when the server turns it
    /// off). Development accounts are keyed by name, apart from registered ones.
    Dev { name: String },
    /// A PASETO v4.public token from the login service (`POST /v1/sessions`),
    /// at most [`MAX_TOKEN_LEN`] bytes. Each token is accepted once.
    Token { token: String },
}

/// The longest login token a server reads, in bytes.
pub const MAX_TOKEN_LEN: usize = 1024;

/// One character on the character screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharacterSummary {
    pub id: CharacterId,
    pub name: String,
    pub level: u16,
    /// The map it last stood on.
    pub map: String,
}

/// Why a character request was refused. Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CharacterRefusal {
    /// Not 3 to 16 ASCII letters, digits, `_` or `-`, starting with a letter.
    InvalidName,
    /// Another character, on any account, has this name (in any case).
    NameTaken,
    /// The account already has its most characters.
    TooManyCharacters,
    /// The account has no such character.
    NoSuchCharacter,
    /// An earlier character request is still being answered.
    Busy,
    /// The store did not answer; try again later.
    StoreUnavailable,
}

/// Messages from the server to a client, grouped by domain as [`ClientMsg`] is.
#[derive(Clone, PartialEq, Eq)]
pub enum ServerMsg {
    Session(ServerSession),
    World(ServerWorld),
    Combat(ServerCombat),
    Social(ServerSocial),
    Economy(ServerEconomy),
    Raid(ServerRaid),
}

/// The session's messages to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerSession {
    /// Login or resume accepted.
    Welcome {
        player: PlayerId,
        /// Present it in [`ClientSession::Resume`] after a dropped connection.
        resume_token: ResumeToken,
        server_time_us: u64,
        tick_hz: u16,
        /// The server pings at this interval; a client silent for longer than
        /// `idle_timeout_ms` is disconnected.
        heartbeat_ms: u32,
        idle_timeout_ms: u32,
        /// How long the player is kept after the connection drops.
        resume_grace_ms: u32,
        /// True when this session took over an existing player (resume, or a second
        /// login for the same account). If its character was in the world, the
        /// server puts it back there (`EnteredWorld` follows); otherwise the
        /// character screen (`Characters`) follows, as after a new login.
        resumed: bool,
    },
    /// The player's character is in the world.
    EnteredWorld {
        server_time_us: u64,
        character: CharacterSummary,
        experience: u64,
    },
    /// Heartbeat from the server; the client answers with [`ClientSession::Pong`].
    Ping { seq: u32, server_time_us: u64 },
    /// Answer to [`ClientSession::Ping`].
    Pong {
        seq: u32,
        client_time_us: u64,
        server_time_us: u64,
    },
    /// Text for the player to see (operator announcements, shutdown warnings).
    Notice { level: NoticeLevel, text: String },
    /// The last message on a connection: why it ends.
    Disconnect { reason: DisconnectReason },
    /// The account's characters (after a login, and answering a character
    /// request), oldest first, and how many it may have.
    Characters {
        characters: Vec<CharacterSummary>,
        max: u8,
    },
    /// A character request was refused.
    CharacterRefused { reason: CharacterRefusal },
}

/// What the world tells a client about its character and what it sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerWorld {
    /// The player's character is now in this zone (first entry, portal, channel
    /// switch, or a resume): forget every entity of the previous zone.
    ZoneEntered(ZoneEntered),
    /// Everything that changed in view this tick: at most one per client per tick.
    WorldUpdate(WorldUpdate),
    /// A channel switch was refused.
    ChannelRefused {
        channel: u16,
        reason: ChannelRefusal,
    },
    /// Part of the current map, answering [`ClientWorld::FetchMap`].
    MapChunk(MapChunk),
}

/// The largest walkability payload of one [`MapChunk`].
pub const MAX_MAP_CHUNK_BYTES: usize = 16 * 1024;

/// The map a character is in, as a client needs it: its size, spawn and
/// portals in every chunk, and some rows of its walkability grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapChunk {
    pub map: String,
    /// As in [`ZoneEntered::map_checksum`]: keep it with a cached copy.
    pub checksum: u64,
    /// Metres per cell side.
    pub cell_m: u32,
    /// Cells per row, and rows.
    pub width: u32,
    pub height: u32,
    /// The cell new players appear around.
    pub spawn: (u32, u32),
    pub portals: Vec<PortalInfo>,
    /// The rows this chunk carries: `first_row .. first_row + rows`. None
    /// (`rows == 0`) when `first_row` is past the last row.
    pub first_row: u32,
    pub rows: u32,
    /// One bit per cell of those rows, row-major from (0, first_row), least
    /// significant bit first, 1 = walkable; the last byte padded with zeros.
    pub walkable: Vec<u8>,
}

/// A portal: stepping on `cell` leads to `target_cell` of `target_map`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalInfo {
    pub cell: (u32, u32),
    pub target_map: String,
    pub target_cell: (u32, u32),
}

/// Where each domain's message tags start on the wire: a message's tag is its
/// domain's base plus its index in the domain's enum. Ranges are reserved for
/// the domains to come; every tag below 128 is one byte.
pub mod domain {
    /// Tags 0-15.
    pub const SESSION: u32 = 0;
    /// Tags 16-31.
    pub const WORLD: u32 = 16;
    /// Tags 32-47.
    pub const COMBAT: u32 = 32;
    /// Tags 48-79.
    pub const SOCIAL: u32 = 48;
    /// Tags 80-111.
    pub const ECONOMY: u32 = 80;
    /// Tags 112-127: raids (the queue, instances, rewards, leaderboards).
    pub const RAID: u32 = 112;
    /// One past the last tag in use by a domain.
    pub(crate) const END: u32 = 128;

    /// The range of tags a domain's base owns.
    pub fn range(base: u32) -> std::ops::Range<u32> {
        let bases = [SESSION, WORLD, COMBAT, SOCIAL, ECONOMY, RAID, END];
        let next = bases.iter().copied().find(|&b| b > base).unwrap_or(END);
        base..next
    }
}

tags::by_domain!(ClientMsg, "a client message" {
    Session(ClientSession) = domain::SESSION,
    World(ClientWorld) = domain::WORLD,
    Combat(ClientCombat) = domain::COMBAT,
    Social(ClientSocial) = domain::SOCIAL,
    Economy(ClientEconomy) = domain::ECONOMY,
    Raid(ClientRaid) = domain::RAID,
});

tags::by_domain!(ServerMsg, "a server message" {
    Session(ServerSession) = domain::SESSION,
    World(ServerWorld) = domain::WORLD,
    Combat(ServerCombat) = domain::COMBAT,
    Social(ServerSocial) = domain::SOCIAL,
    Economy(ServerEconomy) = domain::ECONOMY,
    Raid(ServerRaid) = domain::RAID,
});

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneEntered {
    pub zone: ZoneId,
    pub map: String,
    pub channel: u16,
    /// The client's own entity.
    pub entity: EntityId,
    pub pos: Vec2,
    /// Metres per second; faster moves are corrected.
    pub max_speed: Fixed,
    /// Movement epoch to put in [`MoveInput::epoch`] from now on.
    pub epoch: u16,
    pub tick: Tick,
    pub server_time_us: u64,
    /// A fingerprint of the map's content: a client with a copy cached under
    /// this value can use it; otherwise it fetches the map
    /// ([`ClientWorld::FetchMap`]).
    pub map_checksum: u64,
}

/// One tick of replication for one client. Positions are quantized to
/// [`QUANTUM_RAW`] raw units (1/32 m): `Spawn::pos` is absolute, `Update` is the
/// difference from the last position this client was sent for that entity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldUpdate {
    pub tick: Tick,
    pub server_time_us: u64,
    /// The last movement input applied for the client's own entity.
    pub ack_seq: u32,
    /// Present when a movement input was rejected this tick.
    pub correction: Option<Correction>,
    /// Entities that came into view, full state.
    pub spawns: Vec<Spawn>,
    /// Entities that left view (or the zone).
    pub despawns: Vec<EntityId>,
    /// Visible entities that moved since they were last sent.
    pub updates: Vec<Update>,
    /// The client's own character's exact values, when any changed.
    pub me: Option<Vitals>,
    /// What happened this tick to the entities the client knows (those
    /// already spawned for it, and its own), after this message's spawns.
    pub events: Vec<CombatEvent>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The new movement epoch: use it in every input from now on.
    pub epoch: u16,
    /// The rejected input.
    pub seq: u32,
    /// The authoritative position, full precision.
    pub pos: Vec2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spawn {
    pub entity: EntityId,
    pub kind: EntityKind,
    pub pos: QPos,
    /// What it looks like: a monster's kind (0 for players and NPCs).
    pub look: u16,
    pub level: u16,
    /// Its health bar, as [`CombatEvent::Health`] (0: dead; 255 for an
    /// entity that does not fight).
    pub health: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    pub entity: EntityId,
    pub dx: i32,
    pub dy: i32,
}

/// A quantized position: raw fixed-point divided by [`QUANTUM_RAW`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QPos {
    pub x: i32,
    pub y: i32,
}

/// Raw fixed-point units per quantum of replicated positions (8 = 1/32 m).
pub const QUANTUM_RAW: i32 = 8;

impl QPos {
    /// Rounds to the nearest quantum.
    pub fn from_pos(p: Vec2) -> Self {
        let q =
            |v: i32| (v as i64 + (QUANTUM_RAW as i64 / 2)).div_euclid(QUANTUM_RAW as i64) as i32;
        QPos {
            x: q(p.x.raw()),
            y: q(p.y.raw()),
        }
    }

    pub fn to_pos(self) -> Vec2 {
        Vec2::new(
            Fixed::from_raw(self.x.saturating_mul(QUANTUM_RAW)),
            Fixed::from_raw(self.y.saturating_mul(QUANTUM_RAW)),
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntityKind {
    Player,
    /// A wanderer that does not fight.
    Npc,
    Monster,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelRefusal {
    NoSuchChannel,
    Full,
    AlreadyThere,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeLevel {
    Info,
    Warning,
}

/// A secret that lets a reconnecting client take its player back.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeToken(pub [u8; 16]);

impl ResumeToken {
    /// Compares without an early exit, so timing does not reveal a matching prefix.
    pub fn matches(&self, other: &ResumeToken) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResumeToken({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// Why a payload did not decode into a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Not a valid postcard encoding of the message type.
    Malformed,
    /// A valid message followed by extra bytes inside the same frame.
    TrailingBytes,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Malformed => f.write_str("malformed message"),
            DecodeError::TrailingBytes => f.write_str("trailing bytes after message"),
        }
    }
}

impl std::error::Error for DecodeError {}

fn decode_exact<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Result<T, DecodeError> {
    match postcard::take_from_bytes::<T>(payload) {
        Ok((msg, [])) => Ok(msg),
        Ok((_, _)) => Err(DecodeError::TrailingBytes),
        Err(_) => Err(DecodeError::Malformed),
    }
}

impl ClientMsg {
    /// Decodes one frame's payload; never panics.
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(payload)
    }
}

impl ServerMsg {
    /// Decodes one frame's payload; never panics.
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(payload)
    }
}
