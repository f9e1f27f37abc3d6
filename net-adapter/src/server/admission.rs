//! Admission: the accept loop and the caps it holds every socket to.
//!
//! Owns the listener and the count of open sockets (in total and per address,
//! with the characters each address left waiting for a resume). It may not
//! touch the node: a refused connection is handed to [`super::refusal`] and
//! closed before the node ever hears of it; an admitted one is announced to
//! the core loop (`Opened`) before its connection task can send anything.

use super::connection::connection;
use super::descriptors::SocketBudget;
use super::messages::{Event, ReturnedBuffers, Stamped, Written};
use super::refusal::Refusals;
use crate::clock::AdapterClock;
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::transport::Listener;
use game_core::ids::ConnId;
use game_core::protocol::DisconnectReason;
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

/// After a failed accept the loop sleeps this long, doubling per failure in a
/// row up to [`ACCEPT_BACKOFF_MAX`]: out of descriptors, spinning on the
/// error would only burn the CPU the tick needs.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_millis(500);
/// At most one accept-error warning per this long, with the count since the last.
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(5);

/// Connections refused by the accept loop's caps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefusalStats {
    /// Over `max_connections`: told `ServerFull`.
    pub server_full: u64,
    /// Over `max_connections_per_address`: told `TooManyConnections`.
    pub per_address: u64,
    /// Refused without being told: every refusal slot stayed busy.
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
    /// Refusals being written at once; past this, a refused socket is just closed.
    max_refusals: usize,
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
    /// `budget` is what the open-file limit leaves
    /// ([`SocketBudget::from_process`]).
    pub(super) fn new(config: &ServerConfig, budget: SocketBudget) -> Self {
        Admission {
            max_total: budget.connections.min(config.max_connections),
            max_refusals: budget.refusals,
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

    /// A connection admitted only to resume was refused a new character.
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
    metrics: Arc<Metrics>,
) {
    let mut refusals = Refusals::new(admission.max_refusals);
    let mut backoff = AcceptBackoff::default();
    let mut next_id = 0u64;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => {
                backoff.succeeded();
                accepted
            }
            Err(error) => {
                // Out of file descriptors (EMFILE, ENFILE), out of memory, or
                // a connection reset before accept: the connection waits in
                // the kernel's backlog while the loop backs off.
                metrics.count_accept_error();
                let pause = backoff.failed(&error, tokio::time::Instant::now());
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let ticket = match admission.admit(peer.ip()) {
            Ok(ticket) => ticket,
            Err(reason) => {
                debug!(%peer, %reason, "connection refused");
                if !refusals.refuse(stream, reason).await {
                    admission.silent.fetch_add(1, Ordering::Relaxed);
                }
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

/// The accept loop's pause after failures in a row, and its rate-limited
/// warning: a server out of descriptors fails every accept, and one line per
/// failure filled the log.
#[derive(Debug)]
struct AcceptBackoff {
    next_pause: Duration,
    unlogged: u64,
    logged_at: Option<tokio::time::Instant>,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        AcceptBackoff {
            next_pause: ACCEPT_BACKOFF_MIN,
            unlogged: 0,
            logged_at: None,
        }
    }
}

impl AcceptBackoff {
    /// Notes a failure; returns how long to pause before accepting again.
    fn failed(&mut self, error: &io::Error, now: tokio::time::Instant) -> Duration {
        self.unlogged += 1;
        let due = self
            .logged_at
            .is_none_or(|at| now.duration_since(at) >= ACCEPT_ERROR_LOG_EVERY);
        if due {
            warn!(
                %error,
                failures = self.unlogged,
                "accept failed (counted in mmo_accept_errors_total; at most one line per {}s)",
                ACCEPT_ERROR_LOG_EVERY.as_secs()
            );
            self.unlogged = 0;
            self.logged_at = Some(now);
        }
        let pause = self.next_pause;
        self.next_pause = (pause * 2).min(ACCEPT_BACKOFF_MAX);
        pause
    }

    fn succeeded(&mut self) {
        self.next_pause = ACCEPT_BACKOFF_MIN;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(cap: u32, exempt: Vec<IpAddr>) -> Arc<Admission> {
        let config = ServerConfig {
            max_connections_per_address: cap,
            per_address_exempt: exempt,
            ..ServerConfig::default()
        };
        Arc::new(Admission::new(
            &config,
            SocketBudget::of(None, config.max_connections),
        ))
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
    fn accept_failures_back_off_doubling_and_log_once_per_period() {
        let mut b = AcceptBackoff::default();
        let error = io::Error::from_raw_os_error(24);
        let t0 = tokio::time::Instant::now();
        let pauses: Vec<u64> = (0..9)
            .map(|_| b.failed(&error, t0).as_millis() as u64)
            .collect();
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 320, 500, 500]);
        // Logged once, at the first failure; the other eight wait for the next line.
        assert_eq!(b.unlogged, 8);
        b.failed(&error, t0 + ACCEPT_ERROR_LOG_EVERY);
        assert_eq!(b.unlogged, 0);
        b.succeeded();
        assert_eq!(b.failed(&error, t0).as_millis(), 5);
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
