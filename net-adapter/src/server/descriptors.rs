//! How many sockets the process can hold: the open-file limit, less what the
//! rest of the process needs, split between admitted connections and refusals.
//!
//! Owns only this arithmetic and the reading (and raising) of the limit. It
//! may not open anything: a server that runs out of descriptors can no longer
//! tell a client it is full, accept on its admin port, or open its store.

use std::io;
use tracing::{info, warn};

/// Descriptors kept back from sockets: standard streams and log files (8),
/// the runtime's epoll, event and signal descriptors (8), both listeners (2),
/// the admin port's connections (`admin::MAX_ADMIN_CONNECTIONS`, 16), and a
/// database connection pool (32, for the store that is coming).
pub(super) const RESERVED: u64 = 66;

/// Refusals being written at once, at most; fewer under a low limit.
pub(super) const MAX_REFUSALS_IN_FLIGHT: usize = 256;

/// What the open-file limit leaves for game sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SocketBudget {
    /// Admitted connections at once: `max_connections`, or less if the limit
    /// says so.
    pub(super) connections: u32,
    /// Refusals being written at once.
    pub(super) refusals: usize,
}

impl SocketBudget {
    /// The split of an open-file limit of `limit` (`None`: no limit applies,
    /// as under turmoil, whose sockets are not descriptors).
    pub(super) fn of(limit: Option<u64>, max_connections: u32) -> Self {
        let Some(limit) = limit else {
            return SocketBudget {
                connections: max_connections,
                refusals: MAX_REFUSALS_IN_FLIGHT,
            };
        };
        let sockets = limit.saturating_sub(RESERVED).max(2);
        // A quarter for refusals (a connect flood is answered, not just
        // dropped), the rest for players.
        let refusals = (sockets / 4).clamp(1, MAX_REFUSALS_IN_FLIGHT as u64);
        let connections = (sockets - refusals).min(u64::from(max_connections));
        SocketBudget {
            connections: u32::try_from(connections).unwrap_or(max_connections),
            refusals: refusals as usize,
        }
    }

    /// The budget from this process's open-file limit, raised first to the
    /// hard limit where the OS allows, and logged.
    pub(super) fn from_process(max_connections: u32) -> Self {
        let limit = match open_file_limit() {
            Ok(limit) => Some(limit),
            Err(error) => {
                warn!(%error, "cannot read the open-file limit; trusting max_connections");
                None
            }
        };
        let budget = Self::of(limit, max_connections);
        if budget.connections < max_connections {
            warn!(
                open_file_limit = limit,
                reserved = RESERVED,
                max_connections,
                connections = budget.connections,
                refusals = budget.refusals,
                "the open-file limit caps connections below max_connections; \
                 raise the hard limit (ulimit -Hn) for more"
            );
        } else {
            info!(
                open_file_limit = limit,
                connections = budget.connections,
                refusals = budget.refusals,
                "connection cap"
            );
        }
        budget
    }
}

/// The soft open-file limit after raising it as far as the hard limit allows.
fn open_file_limit() -> io::Result<u64> {
    #[cfg(unix)]
    {
        // Raising is best effort: the current soft limit is what counts.
        let _ = rlimit::increase_nofile_limit(u64::MAX);
        rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft)
    }
    #[cfg(not(unix))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no RLIMIT_NOFILE",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_low_limit_leaves_room_for_the_reserve_and_refusals() {
        let b = SocketBudget::of(Some(256), 16_000);
        assert_eq!(b.refusals, 47);
        assert_eq!(b.connections, 143);
        assert!(u64::from(b.connections) + b.refusals as u64 + RESERVED <= 256);
    }

    #[test]
    fn a_high_limit_leaves_the_configured_cap() {
        let b = SocketBudget::of(Some(1 << 20), 16_000);
        assert_eq!(
            (b.connections, b.refusals),
            (16_000, MAX_REFUSALS_IN_FLIGHT)
        );
        assert_eq!(SocketBudget::of(None, 7).connections, 7);
    }

    #[test]
    fn an_absurd_limit_still_admits_someone() {
        let b = SocketBudget::of(Some(10), 16_000);
        assert!(b.connections >= 1 && b.refusals >= 1);
    }
}
