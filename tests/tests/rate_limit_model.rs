//! The session's token bucket against a reference model written from its
//! specification in exact arithmetic: a bucket of `burst` messages refilling at
//! `rate` per second; a message takes one; below zero it is dropped; a debt
//! past another `burst` is a flood.

use game_core::session::{RateDecision, TokenBucket};
use game_core::time::{Duration, Instant};
use proptest::prelude::*;

/// Level in millionths of a message, as an unbounded integer.
struct Model {
    rate: i128,
    burst: i128,
    level: i128,
    last: u64,
}

impl Model {
    fn new(rate: u32, burst: u32) -> Self {
        let burst = burst.max(1) as i128 * 1_000_000;
        Model {
            rate: rate as i128,
            burst,
            level: burst,
            last: 0,
        }
    }

    fn take(&mut self, now: u64) -> RateDecision {
        let elapsed = now.saturating_sub(self.last) as i128;
        self.last = self.last.max(now);
        self.level = (self.level + elapsed * self.rate).min(self.burst) - 1_000_000;
        if self.level >= 0 {
            RateDecision::Allow
        } else if self.level >= -self.burst {
            RateDecision::Drop
        } else {
            RateDecision::Exceeded
        }
    }
}

fn gaps() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(
        prop_oneof![
            8 => 0u64..20_000,
            2 => 0u64..2_000_000,
            1 => Just(0u64),
            // Hours, and the far end of the clock.
            1 => 0u64..u64::MAX / 4,
        ],
        1..400,
    )
}

proptest! {
    #[test]
    fn the_bucket_decides_as_the_model(
        rate in 1u32..10_000,
        burst in 1u32..500,
        gaps in gaps(),
    ) {
        let mut bucket = TokenBucket::new(rate, burst, Instant::ZERO);
        let mut model = Model::new(rate, burst);
        let mut now = 0u64;
        for gap in gaps {
            now = now.saturating_add(gap);
            prop_assert_eq!(bucket.take(Instant::from_micros(now)), model.take(now), "at {}", now);
        }
    }

    /// Over any window, no more messages pass than the burst plus the rate times
    /// the window: the limit a flooder can get out of the server.
    #[test]
    fn no_window_lets_more_through_than_burst_plus_rate(
        rate in 1u32..1_000,
        burst in 1u32..200,
        gaps in prop::collection::vec(0u64..50_000, 1..600),
    ) {
        let mut bucket = TokenBucket::new(rate, burst, Instant::ZERO);
        let mut allowed = Vec::new();
        let mut now = 0u64;
        for gap in gaps {
            now += gap;
            if bucket.take(Instant::from_micros(now)) == RateDecision::Allow {
                allowed.push(now);
            }
        }
        for (i, &start) in allowed.iter().enumerate() {
            for (n, &end) in allowed[i..].iter().enumerate() {
                let window = (end - start) as u128;
                let limit = burst as u128 + (window * rate as u128).div_ceil(1_000_000);
                let passed = n as u128 + 1;
                prop_assert!(passed <= limit, "{} in {}us", passed, window);
            }
        }
    }

    /// A client that keeps to the rate is never dropped, however it started.
    #[test]
    fn a_client_within_the_rate_is_never_dropped(
        rate in 1u32..200,
        burst in 1u32..50,
        start in 0u64..10_000_000,
        count in 1usize..500,
    ) {
        let mut bucket = TokenBucket::new(rate, burst, Instant::from_micros(start));
        let period = Duration::from_micros(1_000_000u64.div_ceil(rate as u64));
        let mut now = Instant::from_micros(start);
        for _ in 0..count {
            prop_assert_eq!(bucket.take(now), RateDecision::Allow);
            now += period;
        }
    }
}
