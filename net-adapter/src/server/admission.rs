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

/// The accept loop's admission control: open sockets in total, and per
/// address the open sockets plus the characters the address left waiting for
/// a resume (the core loop reports those: [`Admission::hold`]). Without the
/// second, a client that logs in, enters the world and drops, again and
/// again, keeps one character per drop for the resume grace with few sockets.
///
/// A [`Ticket`] holds one socket's place and gives it back when dropped (the
/// connection task's end, lingering included).
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
    by_address: HashMap<IpAddr, FromAddress>,
}

/// What one address holds.
#[derive(Clone, Copy, Debug, Default)]
struct FromAddress {
    sockets: u32,
    /// Characters detached from their connection, kept for a resume.
    held: u32,
}

pub(super) struct Ticket {
    admission: Arc<Admission>,
    ip: IpAddr,
    /// Admitted only to take back a character the address left: logging in a
    /// new one on it is refused (`TooManyConnections`).
    pub(super) resume_only: bool,
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
    ///
    /// An address whose sockets and kept characters together reach its cap
    /// still gets a socket while its sockets alone are under the cap, but only
    /// to resume: otherwise the players behind one address (a NAT) who all
    /// dropped at once could not come back until their characters expired.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Ticket, DisconnectReason> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            self.server_full.fetch_add(1, Ordering::Relaxed);
            return Err(DisconnectReason::ServerFull);
        }
        let from_ip = open.by_address.get(&ip).copied().unwrap_or_default();
        let capped = !self.exempt.contains(&ip);
        if capped && from_ip.sockets >= self.max_per_address {
            self.per_address.fetch_add(1, Ordering::Relaxed);
            return Err(DisconnectReason::TooManyConnections);
        }
        let resume_only = capped && from_ip.sockets + from_ip.held >= self.max_per_address;
        open.total += 1;
        open.by_address.entry(ip).or_default().sockets += 1;
        Ok(Ticket {
            admission: self.clone(),
            ip,
            resume_only,
        })
    }

    /// A character logged in from `ip` lost its connection and is kept.
    pub(super) fn hold(&self, ip: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.by_address.entry(ip).or_default().held += 1;
    }

    /// A character [`Admission::hold`] counted was resumed or removed.
    pub(super) fn release(&self, ip: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.forget(ip, |from| from.held = from.held.saturating_sub(1));
    }

    /// A connection admitted to resume logged in a new character instead.
    pub(super) fn count_refused_login(&self) {
        self.per_address.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn stats(&self) -> RefusalStats {
        RefusalStats {
            server_full: self.server_full.load(Ordering::Relaxed),
            per_address: self.per_address.load(Ordering::Relaxed),
            silent: self.silent.load(Ordering::Relaxed),
        }
    }
}

impl OpenSockets {
    /// Applies `change` to `ip`'s counts, dropping the entry once it is empty.
    fn forget(&mut self, ip: IpAddr, change: impl FnOnce(&mut FromAddress)) {
        if let Some(from) = self.by_address.get_mut(&ip) {
            change(from);
            if from.sockets == 0 && from.held == 0 {
                self.by_address.remove(&ip);
            }
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
        open.forget(self.ip, |from| from.sockets -= 1);
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
            resume_only: ticket.resume_only,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(cap: u32, exempt: Vec<IpAddr>) -> Arc<Admission> {
        Arc::new(Admission::new(&ServerConfig {
            max_connections_per_address: cap,
            per_address_exempt: exempt,
            ..ServerConfig::default()
        }))
    }

    const FAR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));

    #[test]
    fn kept_characters_count_against_the_address_until_released() {
        let a = admission(2, Vec::new());
        a.hold(FAR);
        let first = a.admit(FAR).unwrap();
        assert!(!first.resume_only);
        // One socket and one kept character: the cap of 2 is reached, so the
        // next socket may only resume, and the one after that is refused.
        let second = a.admit(FAR).unwrap();
        assert!(second.resume_only);
        assert_eq!(
            a.admit(FAR).err(),
            Some(DisconnectReason::TooManyConnections)
        );
        drop(second);
        a.release(FAR);
        assert!(!a.admit(FAR).unwrap().resume_only);
        drop(first);
        assert!(a.open.lock().unwrap().by_address.is_empty());
    }

    #[test]
    fn exempt_addresses_are_not_held_to_kept_characters() {
        let a = admission(1, vec![FAR]);
        a.hold(FAR);
        a.hold(FAR);
        let tickets: Vec<_> = (0..3).map(|_| a.admit(FAR).unwrap()).collect();
        assert!(tickets.iter().all(|t| !t.resume_only));
    }
}
