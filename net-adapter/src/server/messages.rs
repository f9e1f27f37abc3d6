//! What the server's tasks tell each other: connection events going to the
//! core loop, commands going to a connection task, and the two things they
//! share without messages (the written-bytes counter, the buffer pool).
//!
//! Owns only these types. It may not hold behaviour: each task's logic lives
//! in its own file.

use game_core::ids::ConnId;
use game_core::time::Instant;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

/// Written buffers waiting to go back to the node for reuse; more are dropped.
/// As many as the node keeps (one per connection up to the default
/// `max_sessions`): with 4,096, the connections past the pool started each
/// tick with an empty buffer and the tick's first chat line reallocated it
/// (bench-social, 10,000 players: allocations per tick 8,295 -> 1,801 with
/// the node's pool sized so).
const MAX_RETURNED_BUFFERS: usize = 16_384;

/// What a connection task saw, and when (the adapter clock when it saw it):
/// the node judges inputs by when they arrived, not by when the core got to
/// them, so a backlog in the core does not squeeze a client's moves together.
pub(super) type Stamped = (Instant, Event);

pub(super) enum Event {
    Opened {
        conn: ConnId,
        peer: SocketAddr,
        /// Admitted only to resume ([`super::admission::Ticket::resume_only`]).
        resume_only: bool,
        commands: mpsc::UnboundedSender<Command>,
        kill: oneshot::Sender<()>,
        written: std::sync::Arc<Written>,
    },
    Bytes {
        conn: ConnId,
        data: Vec<u8>,
    },
    /// The peer closed, or reading or writing failed.
    Lost {
        conn: ConnId,
    },
}

pub(super) enum Command {
    Write(Vec<u8>),
    /// Write nothing more; shut the socket down.
    Close,
}

/// What connection tasks have written, collected by the core loop when its
/// timers run (at least every tick while anyone is in the world) rather than
/// sent as one event per write: at 5,000 players that was 100,000 events a
/// second through the queue that also carries their inputs.
#[derive(Debug, Default)]
pub(super) struct Written {
    /// Bytes written since the core last collected, per connection.
    pub(super) bytes: AtomicUsize,
}

/// Written buffers on their way back to the node for reuse, bounded.
#[derive(Debug, Default)]
pub(super) struct ReturnedBuffers(Mutex<Vec<Vec<u8>>>);

impl ReturnedBuffers {
    pub(super) fn give(&self, buffer: Vec<u8>) {
        if let Ok(mut pool) = self.0.lock() {
            if pool.len() < MAX_RETURNED_BUFFERS {
                pool.push(buffer);
            }
        }
    }

    pub(super) fn take_all(&self, into: &mut Vec<Vec<u8>>) {
        if let Ok(mut pool) = self.0.lock() {
            into.append(&mut pool);
        }
    }
}
