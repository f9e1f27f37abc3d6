//! Inbound rate limit: a token bucket on the core's clock.
//!
//! Messages within the rate (plus a burst) pass. Beyond it they are dropped and the
//! bucket goes into debt; a client whose debt reaches a second burst is flooding on
//! purpose and is disconnected. Integer arithmetic in micro-tokens, so it is exact.

use crate::time::Instant;

const UNIT: i64 = 1_000_000;

/// What to do with one inbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateDecision {
    Allow,
    /// Over the rate: drop the message and count it.
    Drop,
    /// Over the rate for longer than the burst allows: disconnect.
    Exceeded,
}

#[derive(Clone, Debug)]
pub struct TokenBucket {
    per_second: i64,
    burst: i64,
    /// Micro-tokens; negative while in debt.
    level: i64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket refilling at `per_second` messages, holding at most `burst`.
    pub fn new(per_second: u32, burst: u32, now: Instant) -> Self {
        let burst = burst.max(1) as i64;
        TokenBucket {
            per_second: per_second as i64,
            burst,
            level: burst * UNIT,
            last: now,
        }
    }

    pub fn take(&mut self, now: Instant) -> RateDecision {
        let elapsed = now
            .saturating_since(self.last)
            .as_micros()
            .min(i64::MAX as u64) as i64;
        self.last = self.last.max(now);
        self.level = self
            .level
            .saturating_add(elapsed.saturating_mul(self.per_second))
            .min(self.burst * UNIT);
        self.level -= UNIT;
        if self.level >= 0 {
            RateDecision::Allow
        } else if self.level >= -self.burst * UNIT {
            RateDecision::Drop
        } else {
            RateDecision::Exceeded
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    #[test]
    fn burst_then_drop_then_exceeded() {
        let t = Instant::ZERO;
        let mut b = TokenBucket::new(10, 3, t);
        assert_eq!(b.take(t), RateDecision::Allow);
        assert_eq!(b.take(t), RateDecision::Allow);
        assert_eq!(b.take(t), RateDecision::Allow);
        assert_eq!(b.take(t), RateDecision::Drop);
        assert_eq!(b.take(t), RateDecision::Drop);
        assert_eq!(b.take(t), RateDecision::Drop);
        assert_eq!(b.take(t), RateDecision::Exceeded);
    }

    #[test]
    fn steady_rate_is_always_allowed() {
        let mut b = TokenBucket::new(20, 1, Instant::ZERO);
        let mut now = Instant::ZERO;
        for _ in 0..10_000 {
            assert_eq!(b.take(now), RateDecision::Allow);
            now += Duration::from_millis(50);
        }
    }
}
