//! The movement validator: judges each position a client claims.
//!
//! Speed is checked with a distance budget on the server's clock, never the
//! client's: the budget refills at the speed limit (plus a small tolerance for
//! clock drift and rounding) and holds at most `burst` worth of movement, which
//! absorbs network jitter that bunches inputs together. A move costs its length;
//! a move longer than the budget is rejected. So over ANY window of server time
//! an entity moves at most `limit * window + burst distance`, however its inputs
//! are timed, and an honest client whose inputs are delayed by less than `burst`
//! is never corrected. Single jumps beyond `max_step`, positions out of bounds,
//! and paths through blocked cells are rejected outright.

use super::map::Map;
use crate::math::{Fixed, Vec2};
use crate::protocol::MoveInput;
use crate::time::{Duration, Instant};
use serde::{Deserialize, Serialize};

/// The movement rules of a zone (`[node.zone.movement]` in the server config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MovementRules {
    /// Metres per second, in raw fixed-point units (256 per metre).
    pub max_speed_raw: i32,
    /// Extra speed allowed for clock drift and rounding, in percent.
    pub tolerance_pct: u32,
    /// Movement that may be banked for jitter, as time at full speed.
    pub burst_ms: u32,
    /// The longest single step, in metres; anything longer is a teleport.
    pub max_step_m: i32,
}

impl Default for MovementRules {
    fn default() -> Self {
        MovementRules {
            max_speed_raw: 6 * 256,
            tolerance_pct: 5,
            burst_ms: 500,
            max_step_m: 8,
        }
    }
}

impl MovementRules {
    pub fn max_speed(&self) -> Fixed {
        Fixed::from_raw(self.max_speed_raw)
    }

    /// The most distance (raw units) that can be banked.
    fn capacity(&self) -> i64 {
        self.max_speed_raw as i64 * self.burst_ms as i64 / 1000
    }

    /// Raw units of distance earned over `d`, tolerance included.
    fn earned(&self, d: Duration) -> i64 {
        let us = d.as_micros().min(i64::MAX as u64 / 1_000_000) as i64;
        let speed = self.max_speed_raw as i64 * (100 + self.tolerance_pct as i64);
        (us.saturating_mul(speed) / 100 / 1_000_000).min(self.capacity())
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.max_speed_raw <= 0 || self.burst_ms == 0 || self.max_step_m <= 0 {
            return Err("movement rules need a positive speed, burst and step".into());
        }
        Ok(())
    }
}

/// Why a move was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rejection {
    TooFast,
    Teleport,
    OutOfBounds,
    Blocked,
    /// Dead or stunned: the character may not move.
    Held,
}

impl Rejection {
    pub fn label(self) -> &'static str {
        match self {
            Rejection::TooFast => "too_fast",
            Rejection::Teleport => "teleport",
            Rejection::OutOfBounds => "out_of_bounds",
            Rejection::Blocked => "blocked",
            Rejection::Held => "held",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Answer with a correction.
    Reject(Rejection),
    /// An old or repeated input, or one from before the last correction: ignore.
    Stale,
}

/// Per-entity validator state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mover {
    last_seq: Option<u32>,
    epoch: u16,
    /// Banked distance, raw units.
    budget: i64,
    last_refill: Instant,
}

impl Mover {
    /// A mover that appeared at `now` (spawn, portal, resume) with a full budget.
    pub fn new(rules: &MovementRules, now: Instant, epoch: u16) -> Self {
        Mover {
            last_seq: None,
            epoch,
            budget: rules.capacity(),
            last_refill: now,
        }
    }

    pub fn epoch(&self) -> u16 {
        self.epoch
    }

    pub fn last_seq(&self) -> Option<u32> {
        self.last_seq
    }

    /// Starts a new epoch (the server moved the character itself): inputs
    /// made before the client hears of it are ignored.
    pub fn new_epoch(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Judges `input`, received at server time `now`, for an entity at `from`.
    /// On `Accept` the caller moves the entity to `input.pos`; on `Reject` it
    /// sends a correction carrying [`Mover::epoch`] (already advanced).
    pub fn judge(
        &mut self,
        rules: &MovementRules,
        map: &Map,
        now: Instant,
        from: Vec2,
        input: &MoveInput,
    ) -> Verdict {
        self.judge_at_speed(rules, map, now, from, input, 100)
    }

    /// As [`Mover::judge`], for a character moving at `speed_pct` percent of
    /// its speed (slowed; 0: held in place, by a stun or death, so any move
    /// is refused as [`Rejection::Held`]).
    pub fn judge_at_speed(
        &mut self,
        rules: &MovementRules,
        map: &Map,
        now: Instant,
        from: Vec2,
        input: &MoveInput,
        speed_pct: u8,
    ) -> Verdict {
        if input.epoch != self.epoch || self.last_seq.is_some_and(|s| input.seq <= s) {
            return Verdict::Stale;
        }
        self.last_seq = Some(input.seq);
        let elapsed = now.saturating_since(self.last_refill);
        self.last_refill = self.last_refill.max(now);
        let earned = rules.earned(elapsed) * speed_pct.min(100) as i64 / 100;
        self.budget = (self.budget + earned).min(rules.capacity());
        let check = if speed_pct == 0 && input.pos != from {
            Err(Rejection::Held)
        } else {
            self.check(rules, map, from, input.pos)
        };
        match check {
            Ok(dist) => {
                self.budget -= dist;
                Verdict::Accept
            }
            Err(rejection) => {
                self.epoch = self.epoch.wrapping_add(1);
                Verdict::Reject(rejection)
            }
        }
    }

    /// The distance moved, if the move is allowed.
    fn check(
        &self,
        rules: &MovementRules,
        map: &Map,
        from: Vec2,
        to: Vec2,
    ) -> Result<i64, Rejection> {
        if !map.in_bounds(to) {
            return Err(Rejection::OutOfBounds);
        }
        let dist = distance_raw(from, to);
        if dist > rules.max_step_m as i64 * Fixed::ONE.raw() as i64 {
            return Err(Rejection::Teleport);
        }
        if dist > self.budget {
            return Err(Rejection::TooFast);
        }
        if !map.segment_walkable(from, to) {
            return Err(Rejection::Blocked);
        }
        Ok(dist)
    }
}

pub fn distance_raw(a: Vec2, b: Vec2) -> i64 {
    let sq = (b - a).length_squared_raw().max(0) as u64;
    let root = sq.isqrt();
    (if root * root < sq { root + 1 } else { root }) as i64
}

#[cfg(test)]
mod tests;
