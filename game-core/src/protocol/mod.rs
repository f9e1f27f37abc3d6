//! The wire protocol: typed messages and the frames that carry them. Nothing else.
//!
//! A frame is a 4-byte little-endian payload length followed by that many bytes of
//! a postcard-encoded [`ClientMsg`] or [`ServerMsg`]. `docs/PROTOCOL.md` documents
//! the bytes; `snapshots/` pins the encoding of every variant.
//!
//! Compatibility rule: new enum variants are only ever appended, so an old peer's
//! messages keep their encoding. Anything else bumps [`PROTOCOL_VERSION`].

mod frame;

pub use frame::{encode_frame, FrameDecoder, FrameError, FRAME_HEADER_LEN};

use crate::ids::PlayerId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The version a client announces in [`ClientMsg::Hello`]; a mismatch is refused.
pub const PROTOCOL_VERSION: u16 = 1;

/// The largest payload a server accepts from a client by default.
pub const MAX_CLIENT_PAYLOAD: u32 = 2 * 1024;

/// The largest payload a server ever sends (clients should accept at least this).
pub const MAX_SERVER_PAYLOAD: u32 = 256 * 1024;

/// The longest player name a development login accepts, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 32;

/// Messages from a client to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMsg {
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
    /// Ask to be placed in the world after login.
    EnterWorld,
    /// Heartbeat from the client; the server answers with [`ServerMsg::Pong`].
    Ping { seq: u32, client_time_us: u64 },
    /// Answer to [`ServerMsg::Ping`], echoing its fields.
    Pong {
        seq: u32,
        server_time_us: u64,
        client_time_us: u64,
    },
    /// Leave for good: the player is removed at once, no grace period.
    Goodbye,
}

/// How a client proves who it is. A signed token from a login server will be
/// appended as a new variant, which does not change the encoding of `Dev`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Credentials {
    /// Development login: trust the name. Accounts are keyed by name.
    Dev { name: String },
}

/// Messages from the server to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMsg {
    /// Login or resume accepted.
    Welcome {
        player: PlayerId,
        /// Present it in [`ClientMsg::Resume`] after a dropped connection.
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
        /// login for the same account).
        resumed: bool,
    },
    /// The player is in the world.
    EnteredWorld { server_time_us: u64 },
    /// Heartbeat from the server; the client answers with [`ClientMsg::Pong`].
    Ping { seq: u32, server_time_us: u64 },
    /// Answer to [`ClientMsg::Ping`].
    Pong {
        seq: u32,
        client_time_us: u64,
        server_time_us: u64,
    },
    /// Text for the player to see (operator announcements, shutdown warnings).
    Notice { level: NoticeLevel, text: String },
    /// The last message on a connection: why it ends.
    Disconnect { reason: DisconnectReason },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeLevel {
    Info,
    Warning,
}

/// Why a connection ended. Sent to the client in [`ServerMsg::Disconnect`], counted
/// by the node, and shown to players, so each says whose fault it was.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DisconnectReason {
    /// The client said goodbye.
    ClientQuit,
    /// The client speaks another protocol version: update the client.
    VersionMismatch { server: u16, client: u16 },
    /// The login was refused.
    LoginRefused(LoginRefusal),
    /// The resume token did not match a player kept in its grace period.
    ResumeRejected,
    /// Another session logged in to the same account.
    LoggedInElsewhere,
    /// The client did not finish the handshake in time.
    HandshakeTimeout,
    /// Nothing was heard from the client for longer than the idle timeout.
    IdleTimeout,
    /// The client sent more messages than the rate limit allows.
    RateLimited,
    /// The client stopped reading and its outbound queue hit the bound.
    SlowReader,
    /// The client broke the protocol.
    ProtocolViolation(Violation),
    /// The server is shutting down.
    ServerShutdown,
    /// An operator removed the player.
    Kicked { message: String },
    /// The server is at its connection or player cap.
    ServerFull,
    /// The transport closed without a goodbye (never sent; recorded by the node).
    ConnectionLost,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LoginRefusal {
    /// Empty, too long, or containing control characters.
    InvalidName,
}

/// A protocol violation by the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Violation {
    /// The length prefix exceeds the maximum payload.
    FrameTooLarge,
    /// The payload is not a valid message.
    Malformed,
    /// A valid message that is not allowed in the current state (moving before login).
    UnexpectedMessage,
}

impl DisconnectReason {
    /// A short stable name for counters and logs.
    pub fn label(&self) -> &'static str {
        match self {
            DisconnectReason::ClientQuit => "client_quit",
            DisconnectReason::VersionMismatch { .. } => "version_mismatch",
            DisconnectReason::LoginRefused(_) => "login_refused",
            DisconnectReason::ResumeRejected => "resume_rejected",
            DisconnectReason::LoggedInElsewhere => "logged_in_elsewhere",
            DisconnectReason::HandshakeTimeout => "handshake_timeout",
            DisconnectReason::IdleTimeout => "idle_timeout",
            DisconnectReason::RateLimited => "rate_limited",
            DisconnectReason::SlowReader => "slow_reader",
            DisconnectReason::ProtocolViolation(Violation::FrameTooLarge) => "frame_too_large",
            DisconnectReason::ProtocolViolation(Violation::Malformed) => "malformed",
            DisconnectReason::ProtocolViolation(Violation::UnexpectedMessage) => {
                "unexpected_message"
            }
            DisconnectReason::ServerShutdown => "server_shutdown",
            DisconnectReason::Kicked { .. } => "kicked",
            DisconnectReason::ServerFull => "server_full",
            DisconnectReason::ConnectionLost => "connection_lost",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::VersionMismatch { server, client } => write!(
                f,
                "client protocol version {client} is not supported (server speaks {server}); please update"
            ),
            DisconnectReason::Kicked { message } => write!(f, "kicked: {message}"),
            other => f.write_str(other.label()),
        }
    }
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
