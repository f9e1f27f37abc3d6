//! The wandering walk most policies build on (honest walkers, and the speed
//! hacker and slow reader as they cheat): straight lines at a
//! steady pace, turning at random moments and before walls and portals.

use game_core::math::{Fixed, Vec2};
use game_core::rng::{self, StreamKind};
use game_core::time::{Duration, Instant};
use game_core::zone::Map;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;

/// Walks in a straight line at a steady pace, turning at random moments and
/// before walls: an honest player exploring.
#[derive(Clone, Debug)]
pub struct Wander {
    rng: ChaCha8Rng,
    dir: (i32, i32),
    /// Speed as a percentage of the zone's limit.
    pace_pct: i64,
    turn_at: Instant,
}

const DIRS: [(i32, i32); 8] = [
    (1, 0),
    (0, 1),
    (-1, 0),
    (0, -1),
    (7, 7),
    (-7, 7),
    (7, -7),
    (-7, -7),
];

impl Wander {
    pub fn new(seed: u64, bot: u64) -> Self {
        let mut rng = rng::stream(seed, StreamKind::Bot, bot);
        let dir = DIRS[(rng.next_u32() % 8) as usize];
        let pace_pct = 50 + (rng.next_u32() % 31) as i64;
        Wander {
            rng,
            dir,
            pace_pct,
            turn_at: Instant::ZERO,
        }
    }

    /// The velocity (raw units per second) for the next `step` of time, from
    /// `pos` on `map`, at most `max_speed`.
    pub fn velocity(
        &mut self,
        now: Instant,
        pos: Vec2,
        map: Option<&Map>,
        max_speed: Fixed,
        step: Duration,
    ) -> Vec2 {
        if now >= self.turn_at {
            self.turn(now);
        }
        for _ in 0..8 {
            let v = self.vel(max_speed);
            let ahead = |k: i64| {
                let us = step.as_micros() as i64 * k;
                pos + Vec2::new(
                    Fixed::from_raw((v.x.raw() as i64 * us / 1_000_000) as i32),
                    Fixed::from_raw((v.y.raw() as i64 * us / 1_000_000) as i32),
                )
            };
            // Look three steps ahead so there is room to turn before a wall.
            let clear = map
                .is_none_or(|m| steps_walkable(m, pos, v, step) && m.portal_at(ahead(3)).is_none());
            if clear {
                return v;
            }
            self.turn(now);
        }
        Vec2::ZERO
    }

    fn turn(&mut self, now: Instant) {
        self.dir = DIRS[(self.rng.next_u32() % 8) as usize];
        self.turn_at = now + Duration::from_millis(2_000 + (self.rng.next_u32() % 4_000) as u64);
    }

    fn vel(&self, max_speed: Fixed) -> Vec2 {
        let s = max_speed.raw() as i64 * self.pace_pct / 100;
        let norm = if self.dir.0.abs() == 7 { 10 } else { 1 };
        Vec2::new(
            Fixed::from_raw((self.dir.0 as i64 * s / norm) as i32),
            Fixed::from_raw((self.dir.1 as i64 * s / norm) as i32),
        )
    }
}

/// The longest step a client takes between two moves (its `MAX_STEP_TIME`).
const LONGEST_STEP: Duration = Duration::from_millis(250);

/// Whether moving at `v` stays walkable for three steps of `step`, judged as
/// the server judges each move: the segment from where the character stands
/// to each position the client will send (one, two and three steps on, and
/// the longest step a client takes after a pause), each rounded as the
/// client rounds it. One segment three steps long is not enough: a shorter
/// step rounds onto a cell boundary beside a wall's corner and is blocked
/// where the long segment passed (seed 16, 1,000 bots, 60 s: an honest
/// follower corrected twice).
pub fn steps_walkable(map: &Map, pos: Vec2, v: Vec2, step: Duration) -> bool {
    let at = |us: i64| {
        pos + Vec2::new(
            Fixed::from_raw((v.x.raw() as i64 * us / 1_000_000) as i32),
            Fixed::from_raw((v.y.raw() as i64 * us / 1_000_000) as i32),
        )
    };
    let us = step.as_micros() as i64;
    [us, 2 * us, LONGEST_STEP.as_micros() as i64, 3 * us]
        .into_iter()
        .all(|t| map.segment_walkable(pos, at(t)))
}
