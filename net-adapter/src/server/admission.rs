//! Admission: the accept loop and the caps it holds every socket to.
//!
//! Owns the listener, the count of open sockets (in total and per address),
//! and the refusals being written to connections over a cap. It may not touch
//! the node: a refused connection is told why in one small write and closed
//! before the node ever hears of it; an admitted one is announced to the core
//! loop (`Opened`) before its connection task can send anything.

use super::connection::connection;
use super::messages::{Event, ReturnedBuffers, Stamped, Written};
use crate::clock::AdapterClock;
use crate::config::ServerConfig;
use crate::transport::Listener;
use game_core::ids::ConnId;
use game_core::protocol::{encode_frame, DisconnectReason, ServerMsg, MAX_SERVER_PAYLOAD};
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

/// Refusals of a connection over a cap may each take this long to write.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Refusals being written at once; past this, a refused socket is just closed.
const MAX_REFUSALS_IN_FLIGHT: usize = 256;

/// Connections refused by the accept loop's caps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefusalStats {
    /// Over `max_connections`: told `ServerFull`.
    pub server_full: u64,
    /// Over `max_connections_per_address`: told `TooManyConnections`.
    pub per_address: u64,
    /// Refused without being told, because too many refusals were in flight.
    pub silent: u64,
}

/// The accept loop's admission control: open sockets, in total and per address.
/// A [`Ticket`] holds one place and gives it back when dropped (the connection
/// task's end, lingering included).
pub(super) struct Admission {
    max_total: u32,
    max_per_address: u32,
    exempt: Vec<IpAddr>,
    open: Mutex<OpenSockets>,
    server_full: AtomicU64,
    per_address: AtomicU64,
    silent: AtomicU64,
}

#[derive(Default)]
struct OpenSockets {
    total: u32,
    by_address: HashMap<IpAddr, u32>,
}

struct Ticket {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Admission {
    pub(super) fn new(config: &ServerConfig) -> Self {
        Admission {
            max_total: config.max_connections,
            max_per_address: config.max_connections_per_address,
            exempt: config.per_address_exempt.clone(),
            open: Mutex::new(OpenSockets::default()),
            server_full: AtomicU64::new(0),
            per_address: AtomicU64::new(0),
            silent: AtomicU64::new(0),
        }
    }

    /// A place for a socket from `ip`, or the reason it gets none.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Ticket, DisconnectReason> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            self.server_full.fetch_add(1, Ordering::Relaxed);
            return Err(DisconnectReason::ServerFull);
        }
        let from_ip = open.by_address.get(&ip).copied().unwrap_or(0);
        if from_ip >= self.max_per_address && !self.exempt.contains(&ip) {
            self.per_address.fetch_add(1, Ordering::Relaxed);
            return Err(DisconnectReason::TooManyConnections);
        }
        open.total += 1;
        *open.by_address.entry(ip).or_default() += 1;
        Ok(Ticket {
            admission: self.clone(),
            ip,
        })
    }

    pub(super) fn stats(&self) -> RefusalStats {
        RefusalStats {
            server_full: self.server_full.load(Ordering::Relaxed),
            per_address: self.per_address.load(Ordering::Relaxed),
            silent: self.silent.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self
            .admission
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(n) = open.by_address.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.ip);
            }
        }
    }
}

pub(super) async fn accept_loop<L: Listener>(
    listener: L,
    clock: AdapterClock,
    events: mpsc::Sender<Stamped>,
    alive: mpsc::Sender<()>,
    returned: Arc<ReturnedBuffers>,
    admission: Arc<Admission>,
) {
    let refusals = Arc::new(tokio::sync::Semaphore::new(MAX_REFUSALS_IN_FLIGHT));
    let mut next_id = 0u64;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, or a connection reset before accept:
                // back off briefly rather than spin.
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let ticket = match admission.admit(peer.ip()) {
            Ok(ticket) => ticket,
            Err(reason) => {
                debug!(%peer, %reason, "connection refused");
                refuse(stream, reason, &refusals, &admission);
                continue;
            }
        };
        next_id += 1;
        let conn = ConnId(next_id);
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (kill_tx, kill) = oneshot::channel();
        // `Opened` is queued before the task can queue any bytes for this conn.
        let written = Arc::new(Written::default());
        let opened = Event::Opened {
            conn,
            peer,
            commands: commands_tx,
            kill: kill_tx,
            written: Arc::clone(&written),
        };
        if events.send((clock.now(), opened)).await.is_err() {
            return;
        }
        let events = events.clone();
        let alive = alive.clone();
        let returned = Arc::clone(&returned);
        tokio::spawn(async move {
            tokio::select! {
                biased;
                _ = kill => {}
                _ = connection(conn, stream, clock, events, commands, written, returned) => {}
            }
            drop(ticket);
            drop(alive);
        });
    }
}

/// Tells a connection over a cap why, in one frame, and closes it. The write
/// (and the reading that follows it) is bounded in time and in how many run at
/// once; past that bound the socket is closed without a word, so a flood of
/// connects costs the server nothing that grows. What the client sent is read
/// and dropped until it closes: closing over unread input would reset the
/// connection and could discard the reason before the client reads it.
fn refuse<S: AsyncRead + AsyncWrite + Send + Unpin + 'static>(
    mut stream: S,
    reason: DisconnectReason,
    refusals: &Arc<tokio::sync::Semaphore>,
    admission: &Admission,
) {
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        admission.silent.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let mut frame = Vec::new();
    if encode_frame(
        &ServerMsg::Disconnect { reason },
        MAX_SERVER_PAYLOAD,
        &mut frame,
    )
    .is_err()
    {
        return;
    }
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
            stream.write_all(&frame).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            io::Result::Ok(())
        })
        .await;
        drop(permit);
    });
}
