//! Fault plans: the seed chooses every fault setting (swarm testing), and the
//! plan is printed, so a run can be read and replayed.
//!
//! Faults happen only in the safety phase; the last `HEAL` seconds are clean so
//! the liveness checks can demand convergence.

use crate::netem::{LinkParams, Stall};
use game_core::rng::{self, StreamKind};
use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::Serialize;
use std::fmt;

/// Seconds at the end of a run with no faults.
pub const HEAL: u64 = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FaultMode {
    /// Short, steady latency; nothing else.
    Clean,
    /// Latency, jitter and loss on every link.
    Lossy,
    /// The seed decides which faults are on and how hard.
    Swarm,
}

impl std::str::FromStr for FaultMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "clean" => Ok(FaultMode::Clean),
            "lossy" => Ok(FaultMode::Lossy),
            "swarm" => Ok(FaultMode::Swarm),
            other => Err(format!(
                "unknown fault mode {other:?} (clean, lossy, swarm)"
            )),
        }
    }
}

impl fmt::Display for FaultMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FaultMode::Clean => "clean",
            FaultMode::Lossy => "lossy",
            FaultMode::Swarm => "swarm",
        })
    }
}

/// Everything the seed chose.
#[derive(Clone, Debug, Serialize)]
pub struct FaultPlan {
    pub mode: FaultMode,
    pub latency_ms: (u32, u32),
    pub jitter_ms: u32,
    pub loss_per_10k: u32,
    pub bandwidth: u32,
    /// Share of bots (percent) whose links clog once, and for how long.
    pub clog_pct: u32,
    pub clog_ms: u32,
    /// Share of bots partitioned once (longer than the idle timeout).
    pub partition_pct: u32,
    pub partition_ms: u32,
    /// When the server crashes and restarts with empty state.
    pub restarts: Vec<Instant>,
    /// The store's faults (drawn after everything above, from its own
    /// stream, so adding them shifted no other choice).
    pub store: StorePlan,
}

/// How the simulator's store misbehaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StorePlan {
    /// Each group commit takes this long, uniformly (slow: up to seconds).
    pub latency_ms: (u32, u32),
    /// Chance (per 10,000) that a batch's commit fails: every intent in it
    /// answered `Unavailable`, nothing applied.
    pub fail_per_10k: u32,
    /// When the store crashes (queued and in-flight intents lost without an
    /// answer) and how long it stays down.
    pub crashes: Vec<(Instant, Duration)>,
}

impl StorePlan {
    /// A quick store that never fails.
    pub const RELIABLE: StorePlan = StorePlan {
        latency_ms: (1, 5),
        fail_per_10k: 0,
        crashes: Vec::new(),
    };

    pub fn is_faulty(&self) -> bool {
        self.latency_ms.1 > 100 || self.fail_per_10k > 0 || !self.crashes.is_empty()
    }

    /// The seed's store faults for a run of `seconds`: each of slow, failing
    /// and crash on or off, and how hard. Crashes fall in the safety phase
    /// and the store is back before the liveness phase.
    fn choose(seed: u64, seconds: u64) -> StorePlan {
        let mut rng = rng::stream(seed, StreamKind::Faults, STORE_PLAN_STREAM);
        let mut pick = |lo: u32, hi: u32| lo + rng.next_u32() % (hi - lo + 1);
        let mut plan = StorePlan::RELIABLE;
        if pick(0, 1) == 1 {
            let hi = pick(20, 3_000);
            plan.latency_ms = (pick(1, hi / 2), hi);
        }
        if pick(0, 1) == 1 {
            plan.fail_per_10k = pick(100, 3_000);
        }
        let safety_end_s = seconds.saturating_sub(HEAL);
        if pick(0, 1) == 1 && safety_end_s > 8 {
            let down_ms = pick(500, 8_000).min((safety_end_s as u32 - 4) * 1000);
            let latest_ms = safety_end_s as u32 * 1000 - down_ms;
            let at_ms = pick(3_000.min(latest_ms), latest_ms);
            plan.crashes.push((
                Instant::from_micros(at_ms as u64 * 1000),
                Duration::from_millis(down_ms as u64),
            ));
        }
        plan
    }
}

impl fmt::Display for StorePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "store: latency={}-{}ms fail={}/10000 crashes=[",
            self.latency_ms.0, self.latency_ms.1, self.fail_per_10k
        )?;
        for (i, (at, down)) in self.crashes.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{at:?} down {}ms", down.as_micros() / 1000)?;
        }
        f.write_str("]")
    }
}

/// The fault stream's index for the store's plan (0 is the links' plan).
const STORE_PLAN_STREAM: u64 = 1 << 32;
/// The fault stream's index for the store's draws while it runs.
pub const STORE_RUN_STREAM: u64 = (1 << 32) + 1;
/// The fault stream's index for the login service's salts and token ids.
pub const LOGIN_STREAM: u64 = (1 << 32) + 2;

impl FaultPlan {
    pub fn choose(mode: FaultMode, seed: u64, seconds: u64) -> Self {
        let mut rng = rng::stream(seed, StreamKind::Faults, 0);
        let mut pick = |lo: u32, hi: u32| lo + rng.next_u32() % (hi - lo + 1);
        let mut plan = FaultPlan {
            mode,
            latency_ms: (5, 15),
            jitter_ms: 2,
            loss_per_10k: 0,
            bandwidth: 0,
            clog_pct: 0,
            clog_ms: 0,
            partition_pct: 0,
            partition_ms: 0,
            restarts: Vec::new(),
            store: StorePlan::RELIABLE,
        };
        match mode {
            FaultMode::Clean => {}
            FaultMode::Lossy => {
                plan.latency_ms = (20, 150);
                plan.jitter_ms = 40;
                plan.loss_per_10k = 200;
            }
            FaultMode::Swarm => {
                let on = |p: &mut dyn FnMut(u32, u32) -> u32| p(0, 1) == 1;
                let lo = pick(5, 80);
                plan.latency_ms = (lo, lo + pick(0, 150));
                plan.jitter_ms = if on(&mut pick) { pick(1, 60) } else { 0 };
                plan.loss_per_10k = if on(&mut pick) { pick(1, 300) } else { 0 };
                plan.bandwidth = if on(&mut pick) {
                    pick(40, 200) * 1000
                } else {
                    0
                };
                if on(&mut pick) {
                    plan.clog_pct = pick(1, 30);
                    plan.clog_ms = pick(200, 5_000);
                }
                if on(&mut pick) {
                    plan.partition_pct = pick(1, 10);
                    plan.partition_ms = pick(16_000, 25_000);
                }
                let window = seconds.saturating_sub(HEAL + 10);
                if window > 10 && on(&mut pick) {
                    let at = 5 + pick(0, window as u32) as u64;
                    plan.restarts.push(Instant::from_micros(at * 1_000_000));
                }
                plan.store = StorePlan::choose(seed, seconds);
            }
        }
        plan
    }

    /// The link of bot `bot`: its settings and stall windows, from its own stream.
    pub fn link(&self, seed: u64, bot: u64, seconds: u64) -> (LinkParams, Vec<Stall>, ChaCha8Rng) {
        let mut rng = rng::stream(seed, StreamKind::Link, bot + 1);
        let (lo, hi) = self.latency_ms;
        let params = LinkParams {
            latency_ms: lo + rng.next_u32() % (hi - lo + 1),
            jitter_ms: self.jitter_ms,
            loss_per_10k: self.loss_per_10k,
            bandwidth: self.bandwidth,
        };
        // Stalls start after 5 s and end before the liveness phase; a run too
        // short to hold one has none.
        let safety_end_ms = seconds.saturating_sub(HEAL) * 1000;
        let at = |rng: &mut ChaCha8Rng, len_ms: u32| {
            let latest = safety_end_ms
                .checked_sub(len_ms as u64)?
                .checked_sub(5_000)?;
            let start = 5_000 + rng.next_u64() % (latest + 1);
            let from = Instant::from_micros(start * 1000);
            Some(Stall {
                from,
                until: from + Duration::from_millis(len_ms as u64),
            })
        };
        let mut stalls = Vec::new();
        if self.clog_pct > 0 && rng.next_u32() % 100 < self.clog_pct {
            stalls.extend(at(&mut rng, self.clog_ms));
        }
        if self.partition_pct > 0 && rng.next_u32() % 100 < self.partition_pct {
            stalls.extend(at(&mut rng, self.partition_ms));
        }
        (params, stalls, rng)
    }
}

impl fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "faults={} latency={}-{}ms jitter={}ms loss={}/10000 bandwidth={} clog={}%x{}ms partition={}%x{}ms restarts={:?} {}",
            self.mode,
            self.latency_ms.0,
            self.latency_ms.1,
            self.jitter_ms,
            self.loss_per_10k,
            if self.bandwidth == 0 { "unlimited".to_string() } else { format!("{}B/s", self.bandwidth) },
            self.clog_pct,
            self.clog_ms,
            self.partition_pct,
            self.partition_ms,
            self.restarts,
            self.store
        )
    }
}
