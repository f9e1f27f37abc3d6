//! A session's configuration: the `[node.session]` table of the server's
//! config file, and its checks.

use crate::protocol::{MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD};
use serde::{Deserialize, Serialize};

/// Limits and timers of every session. Read from the server's config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// A connection must finish Hello + Login within this.
    pub handshake_timeout_ms: u32,
    /// The server pings a logged-in client this often.
    pub heartbeat_interval_ms: u32,
    /// A connection silent (no complete frame) for this long is closed.
    pub idle_timeout_ms: u32,
    /// A frame begun must be complete within this, or the connection is closed
    /// (`FrameTimeout`): a peer trickling a frame a byte at a time holds nothing
    /// for long. Frames are at most a few KiB, so any working link finishes one
    /// in far less.
    pub frame_timeout_ms: u32,
    /// The largest payload accepted from the client.
    pub max_inbound_payload: u32,
    /// Bytes queued for the client plus bytes written but not yet confirmed flushed;
    /// past this the client is a slow reader and is disconnected.
    pub max_outbound_bytes: u32,
    /// A chat line finding more than this queued for the client is dropped
    /// (and counted for a `ChatMissed`): a client that falls behind loses
    /// chat long before its world updates would make it a slow reader.
    pub max_chat_backlog_bytes: u32,
    /// Sustained inbound messages per second.
    pub rate_limit_per_second: u32,
    /// Messages allowed in a burst above the rate, and again as debt before a
    /// flooding client is disconnected.
    pub rate_limit_burst: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            handshake_timeout_ms: 10_000,
            heartbeat_interval_ms: 2_000,
            idle_timeout_ms: 15_000,
            frame_timeout_ms: 5_000,
            max_inbound_payload: MAX_CLIENT_PAYLOAD,
            max_outbound_bytes: 1024 * 1024,
            max_chat_backlog_bytes: 64 * 1024,
            rate_limit_per_second: 60,
            rate_limit_burst: 120,
        }
    }
}

impl SessionConfig {
    /// Checks the values make sense together (an operator error otherwise).
    pub fn validate(&self) -> Result<(), String> {
        if self.handshake_timeout_ms == 0
            || self.heartbeat_interval_ms == 0
            || self.frame_timeout_ms == 0
        {
            return Err(
                "handshake_timeout_ms, heartbeat_interval_ms and frame_timeout_ms must be positive"
                    .into(),
            );
        }
        if self.idle_timeout_ms <= self.heartbeat_interval_ms {
            return Err(format!(
                "idle_timeout_ms ({}) must exceed heartbeat_interval_ms ({})",
                self.idle_timeout_ms, self.heartbeat_interval_ms
            ));
        }
        if self.max_inbound_payload < 64 || self.max_inbound_payload > MAX_SERVER_PAYLOAD {
            return Err(format!(
                "max_inbound_payload must be between 64 and {MAX_SERVER_PAYLOAD}"
            ));
        }
        if (self.max_outbound_bytes as u64) < 2 * MAX_SERVER_PAYLOAD as u64 {
            return Err(format!(
                "max_outbound_bytes must be at least {} (two of the largest frames)",
                2 * MAX_SERVER_PAYLOAD
            ));
        }
        if self.max_chat_backlog_bytes == 0
            || self.max_chat_backlog_bytes > self.max_outbound_bytes / 2
        {
            return Err("max_chat_backlog_bytes must be 1..=max_outbound_bytes / 2".into());
        }
        if self.rate_limit_per_second == 0 || self.rate_limit_burst == 0 {
            return Err("rate_limit_per_second and rate_limit_burst must be positive".into());
        }
        Ok(())
    }
}
