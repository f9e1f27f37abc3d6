//! The adapter's clock: `tokio::time::Instant` mapped to the core's microseconds.
//!
//! Built on tokio's clock (not `std::time`) so that under turmoil, and under
//! tokio's paused test clock, the server sees simulated time.

use game_core::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct AdapterClock {
    epoch: tokio::time::Instant,
}

impl AdapterClock {
    /// A clock whose epoch (the core's `Instant::ZERO`) is now.
    pub fn start() -> Self {
        AdapterClock {
            epoch: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> Instant {
        let us = self.epoch.elapsed().as_micros();
        Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    }

    /// The wall-clock time (unix milliseconds) of the epoch, for reading
    /// login-token expiry. Read once, at the call: the node then counts on
    /// from it with the monotonic clock.
    pub fn unix_ms_at_zero(&self) -> u64 {
        let unix_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        unix_now.saturating_sub(self.now().as_micros() / 1000)
    }

    /// The tokio instant of a core deadline, for `sleep_until`.
    pub fn deadline(&self, at: Instant) -> tokio::time::Instant {
        self.epoch + std::time::Duration::from_micros(at.as_micros())
    }
}

/// Converts a core duration to std's.
pub fn to_std(d: Duration) -> std::time::Duration {
    std::time::Duration::from_micros(d.as_micros())
}
