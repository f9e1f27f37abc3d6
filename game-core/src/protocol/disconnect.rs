//! Why a connection ends, and why a login is refused: sent to the client,
//! counted by the node, and shown to players.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a connection ended. Sent to the client in [`ServerSession::Disconnect`](super::ServerSession::Disconnect), counted
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
    /// A frame was begun but not completed within the frame timeout (a peer
    /// trickling bytes to hold the connection open).
    FrameTimeout,
    /// This address already holds as many connections as the server allows one
    /// address; sent by the server's accept loop before any session exists.
    TooManyConnections,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LoginRefusal {
    /// Empty, too long, or containing control characters.
    InvalidName,
    /// A token that is malformed, forged, expired or already used.
    Token(TokenRefusal),
    /// This server does not accept development logins.
    DevLoginDisabled,
    /// The store is behind: new logins are shed until it catches up.
    ServerBusy,
    /// The store did not answer, or no longer knows the account.
    StoreUnavailable,
}

/// Why a login token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TokenRefusal {
    /// Not a PASETO v4.public token, too long, or its claims are unreadable.
    Malformed,
    /// The signature is not the login service's (forged, or another key).
    BadSignature,
    /// Past its expiry.
    Expired,
    /// Already used once (a token logs in once).
    Replayed,
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
            DisconnectReason::FrameTimeout => "frame_timeout",
            DisconnectReason::TooManyConnections => "too_many_connections",
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
