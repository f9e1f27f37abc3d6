//! What a client is configured with, where it is in its life, and what it
//! tells its driver.

use super::InterpolationConfig;
use crate::ids::{EntityId, PlayerId};
use crate::protocol::{
    ChannelRefusal, CharacterRefusal, CharacterSummary, CombatEvent, Credentials, DisconnectReason,
    MapChunk, NoticeLevel, ServerEconomy, ServerRaid, ServerSocial, SkillRefusal, PROTOCOL_VERSION,
};
use crate::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// How the client logs in: a development name, or a token from the login
    /// service (used once: set a fresh one with [`Client::set_credentials`]
    /// before a connect that cannot resume).
    pub credentials: Credentials,
    /// The character to play with `auto_enter_world`: created on the
    /// character screen if the account has none of that name.
    pub character: String,
    /// Announced in Hello; anything but [`PROTOCOL_VERSION`] is refused by the server.
    pub protocol_version: u16,
    /// How often the client pings once logged in.
    pub heartbeat_interval: Duration,
    /// Give up on a connection whose handshake has not completed in this long.
    pub handshake_timeout: Duration,
    /// On the character screen, enter the world at once with `character`
    /// (creating it first if needed).
    pub auto_enter_world: bool,
    pub interpolation: InterpolationConfig,
    /// Keep an interpolation buffer per remote entity. A headless client (a
    /// load-test bot that draws nothing) turns it off and saves the memory.
    pub interpolate: bool,
}

impl ClientConfig {
    /// A development login as `name`, playing a character of the same name.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        ClientConfig {
            credentials: Credentials::Dev { name: name.clone() },
            character: name,
            protocol_version: PROTOCOL_VERSION,
            heartbeat_interval: Duration::from_secs(1),
            handshake_timeout: Duration::from_secs(10),
            auto_enter_world: true,
            interpolation: InterpolationConfig::default(),
            interpolate: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientState {
    /// No transport yet.
    Idle,
    /// Hello and Login/Resume sent, waiting for the welcome.
    Handshaking,
    LoggedIn,
    InWorld,
    /// The connection is over; the driver should drop the transport.
    Disconnected {
        reason: DisconnectReason,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    Welcomed {
        player: PlayerId,
        resumed: bool,
    },
    /// The character screen: the account's characters and how many it may have.
    Characters {
        characters: Vec<CharacterSummary>,
        max: u8,
    },
    CharacterRefused {
        reason: CharacterRefusal,
    },
    EnteredWorld {
        character: CharacterSummary,
        experience: u64,
    },
    Notice {
        level: NoticeLevel,
        text: String,
    },
    /// A heartbeat round trip completed.
    RttSample {
        rtt: Duration,
    },
    /// The character is in a (new) zone; every remote entity was forgotten.
    ZoneEntered {
        map: String,
        channel: u16,
        entity: EntityId,
    },
    /// The server rejected movement input `seq`, or moved the character
    /// itself (a respawn); the character was put back. `held` when the fight
    /// held it then (dead, stunned or slowed, or within two seconds of the
    /// client hearing so: its moves in flight meanwhile are refused through
    /// no fault of its own).
    Corrected {
        seq: u32,
        held: bool,
    },
    ChannelRefused {
        channel: u16,
        reason: ChannelRefusal,
    },
    /// Part of the current map, answering [`Client::fetch_map`].
    MapChunk(MapChunk),
    /// The server sent the character's skills.
    Skillbook,
    /// A skill request was refused; nothing was spent.
    SkillRefused {
        skill: u16,
        reason: SkillRefusal,
    },
    /// A combat event about the character, or by it (its hits on others,
    /// and the deaths it dealt).
    Combat(CombatEvent),
    /// A social message (the client's [`SocialView`] already holds what it says).
    Social(ServerSocial),
    /// An economy message (the client's [`EconomyView`] already holds what
    /// it says).
    ///
    /// [`EconomyView`]: super::EconomyView
    Economy(ServerEconomy),
    /// A raid message (already applied to [`super::Client::raid`]).
    Raid(ServerRaid),
    /// The connection ended. `ConnectionLost` and `IdleTimeout` are detected
    /// locally; other reasons are the server's word.
    Disconnected {
        reason: DisconnectReason,
    },
}
