//! What a session says about itself: where it is, what it asks of the node,
//! what the node tells it for a welcome, and its counters.

use crate::ids::{CharacterId, PlayerId};
use crate::protocol::{ClientMsg, Credentials, DisconnectReason, ResumeToken};
use crate::time::Duration;

/// Where a session is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    AwaitingHello,
    AwaitingLogin,
    /// The node is checking the login with the store.
    LoggingIn,
    /// Logged in, on the character screen.
    Authenticated,
    /// The node is loading the chosen character.
    Entering,
    InWorld,
    Closed {
        reason: DisconnectReason,
    },
}

/// What the session needs the node to decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionRequest {
    Login {
        credentials: Credentials,
    },
    Resume {
        player: PlayerId,
        token: ResumeToken,
    },
    ListCharacters,
    CreateCharacter {
        name: String,
    },
    DeleteCharacter {
        character: CharacterId,
    },
    EnterWorld {
        character: CharacterId,
    },
    /// An in-game request (any domain but the session's), passed on unread.
    Game(ClientMsg),
}

/// What the node tells the client in its welcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WelcomeInfo {
    pub tick_hz: u16,
    pub resume_grace: Duration,
}

/// Per-session counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub bytes_in: u64,
    pub msgs_in: u64,
    pub bytes_out: u64,
    pub msgs_out: u64,
    pub rate_limited: u64,
    pub bad_pongs: u64,
    /// Chat lines dropped because the client was behind.
    pub chat_shed: u64,
}
