//! Tick overruns as the operator sees them: the longest streak of
//! consecutive overruns (a metric) and a warning at most every
//! [`OVERRUN_LOG_EVERY`], with the count since the last.
//!
//! Owns only that bookkeeping. It may not touch the node: the core loop hands
//! it the node's counters after each timer run.

use game_core::node::NodeStats;
use std::time::Duration;
use tracing::warn;

/// At most one tick-overrun warning per this long; the rest are summed into it.
const OVERRUN_LOG_EVERY: Duration = Duration::from_secs(10);

/// Follows the node's overrun counter tick by tick: the longest streak of
/// consecutive overruns, and a warning at most every [`OVERRUN_LOG_EVERY`].
#[derive(Debug, Default)]
pub(super) struct OverrunWatch {
    ticks: u64,
    overruns: u64,
    streak: u64,
    pub(super) streak_max: u64,
    /// Overruns not yet logged, the slowest zone tick among them, and when the
    /// last warning went out.
    unlogged: u64,
    slowest: Duration,
    logged_at: Option<tokio::time::Instant>,
}

impl OverrunWatch {
    pub(super) fn after_timers(&mut self, stats: &NodeStats, slowest_zone: Option<Duration>) {
        if stats.ticks == self.ticks {
            return;
        }
        let new = stats.tick_overruns - self.overruns;
        self.ticks = stats.ticks;
        self.overruns = stats.tick_overruns;
        if new == 0 {
            self.streak = 0;
        } else {
            self.streak += new;
            self.streak_max = self.streak_max.max(self.streak);
            self.unlogged += new;
            self.slowest = self.slowest.max(slowest_zone.unwrap_or_default());
        }
        let now = tokio::time::Instant::now();
        let due = self
            .logged_at
            .is_none_or(|at| now.duration_since(at) >= OVERRUN_LOG_EVERY);
        if self.unlogged > 0 && due {
            warn!(
                overruns = self.unlogged,
                total = self.overruns,
                streak = self.streak,
                longest_streak = self.streak_max,
                slowest_zone_tick_ms = self.slowest.as_secs_f64() * 1000.0,
                "ticks started more than a period late (missed ticks skipped)"
            );
            self.unlogged = 0;
            self.slowest = Duration::ZERO;
            self.logged_at = Some(now);
        }
    }
}
