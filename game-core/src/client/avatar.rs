//! The client's own character: prediction and reconciliation.
//!
//! The client moves its character at once (prediction) and sends each new
//! position with a sequence number. The server acknowledges the last input it
//! applied; inputs after it are kept. When the server rejects an input it sends
//! a correction (authoritative position, rejected sequence, new epoch): the
//! client goes back to the authoritative position and replays the movement of
//! every kept input after the rejected one, then reports the result under the
//! new epoch (inputs sent under the old epoch are ignored by the server).

use crate::ids::{EntityId, ZoneId};
use crate::math::{Fixed, Vec2};
use crate::protocol::{Correction, MoveInput, ZoneEntered};
use crate::time::{Duration, Instant};
use std::collections::VecDeque;

/// Inputs kept for replay; older ones are dropped (the server would have
/// acknowledged or corrected them long ago).
const MAX_PENDING: usize = 128;
/// The longest step one input may integrate, so a stalled client does not
/// produce a teleport.
const MAX_STEP_TIME: Duration = Duration::from_millis(250);

#[derive(Clone, Debug)]
pub struct Avatar {
    pub zone: ZoneId,
    pub map: String,
    pub channel: u16,
    pub entity: EntityId,
    pos: Vec2,
    max_speed: Fixed,
    epoch: u16,
    next_seq: u32,
    last_input: Option<Instant>,
    /// The movement each unacknowledged input added, oldest first. Inputs are
    /// numbered consecutively, so these are inputs `next_seq - len` up to
    /// `next_seq - 1` (wrapping): acknowledging reads no entry, only counts.
    pending: VecDeque<Vec2>,
    corrections: u64,
    /// The server's word on how fast the character may move now, in percent
    /// (slowed, or 0 while stunned or dead): prediction moves no faster.
    speed_pct: u8,
}

impl Avatar {
    /// The character as the server placed it; `next_seq` continues the
    /// client's input numbering across zones.
    pub fn new(z: &ZoneEntered, next_seq: u32) -> Self {
        Avatar {
            zone: z.zone,
            map: z.map.clone(),
            channel: z.channel,
            entity: z.entity,
            pos: z.pos,
            max_speed: z.max_speed,
            epoch: z.epoch,
            next_seq,
            last_input: None,
            pending: VecDeque::new(),
            corrections: 0,
            speed_pct: 100,
        }
    }

    /// The server says the character moves at `pct` percent of its speed.
    pub fn set_speed_pct(&mut self, pct: u8) {
        self.speed_pct = pct.min(100);
    }

    /// The speed the character may move at now.
    pub fn speed_now(&self) -> Fixed {
        Fixed::from_raw((self.max_speed.raw() as i64 * self.speed_pct as i64 / 100) as i32)
    }

    pub fn position(&self) -> Vec2 {
        self.pos
    }

    pub fn max_speed(&self) -> Fixed {
        self.max_speed
    }

    pub fn corrections(&self) -> u64 {
        self.corrections
    }

    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Moves at `vel` (raw units per second, clamped to the speed limit) for the
    /// time since the last input, and returns the input to send.
    pub fn step(&mut self, now: Instant, vel: Vec2) -> MoveInput {
        let dt = self
            .last_input
            .map_or(Duration::ZERO, |t| now.saturating_since(t))
            .min(MAX_STEP_TIME);
        self.last_input = Some(now);
        let vel = clamp_speed(vel, self.speed_now());
        let us = dt.as_micros() as i64;
        let delta = Vec2::new(
            Fixed::from_raw((vel.x.raw() as i64 * us / 1_000_000) as i32),
            Fixed::from_raw((vel.y.raw() as i64 * us / 1_000_000) as i32),
        );
        self.pos = self.pos + delta;
        self.input(now, vel, delta)
    }

    /// Places the character somewhere (a scripted teleport, or a cheat in tests)
    /// and returns the input claiming it.
    pub fn claim(&mut self, now: Instant, pos: Vec2) -> MoveInput {
        let delta = pos - self.pos;
        self.pos = pos;
        self.last_input = Some(now);
        self.input(now, Vec2::ZERO, delta)
    }

    fn input(&mut self, now: Instant, vel: Vec2, delta: Vec2) -> MoveInput {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(delta);
        MoveInput {
            seq,
            epoch: self.epoch,
            client_time_us: now.as_micros(),
            pos: self.pos,
            vel,
        }
    }

    fn oldest_pending_seq(&self) -> u32 {
        self.next_seq.wrapping_sub(self.pending.len() as u32)
    }

    /// The server applied every input up to `seq`.
    pub fn acknowledge(&mut self, seq: u32) {
        let mut oldest = self.oldest_pending_seq();
        while !self.pending.is_empty() && oldest <= seq {
            self.pending.pop_front();
            oldest = oldest.wrapping_add(1);
        }
    }

    /// Reconciles with a correction; returns the input reporting the replayed
    /// position under the new epoch, if the replay moved away from the
    /// authoritative position.
    pub fn correct(&mut self, now: Instant, c: &Correction) -> Option<MoveInput> {
        self.corrections += 1;
        self.epoch = c.epoch;
        let oldest = self.oldest_pending_seq();
        let replayed = (0u32..)
            .zip(&self.pending)
            .filter(|&(k, _)| oldest.wrapping_add(k) > c.seq)
            .fold(c.pos, |p, (_, &d)| p + d);
        self.pending.clear();
        self.pos = c.pos;
        if replayed == c.pos {
            return None;
        }
        Some(self.claim(now, replayed))
    }
}

/// Scales `vel` down to at most `max` (raw units per second).
pub fn clamp_speed(vel: Vec2, max: Fixed) -> Vec2 {
    let len_sq = vel.length_squared_raw();
    let max_raw = max.raw().max(0) as i64;
    if len_sq <= max_raw * max_raw {
        return vel;
    }
    let len = (len_sq as u64).isqrt() as i64 + 1;
    Vec2::new(
        Fixed::from_raw((vel.x.raw() as i64 * max_raw / len) as i32),
        Fixed::from_raw((vel.y.raw() as i64 * max_raw / len) as i32),
    )
}
