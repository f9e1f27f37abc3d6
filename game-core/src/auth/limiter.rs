//! Attempt limits for the login service: a token bucket per key (a client
//! address, an account name), in a bounded table.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many attempts one key may make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimiterConfig {
    /// Attempts allowed at once.
    pub burst: u32,
    /// Attempts regained per minute.
    pub per_minute: u32,
    /// Keys tracked at most; see [`AttemptLimiter::try_acquire`].
    pub max_keys: usize,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Attempts left, in thousandths.
    milli: u64,
    at_ms: u64,
}

/// Token buckets by key.
#[derive(Clone, Debug)]
pub struct AttemptLimiter {
    config: LimiterConfig,
    buckets: BTreeMap<String, Bucket>,
}

impl AttemptLimiter {
    pub fn new(config: LimiterConfig) -> Self {
        AttemptLimiter {
            config,
            buckets: BTreeMap::new(),
        }
    }

    /// Takes one attempt for `key` at `now_ms` (any monotonic milliseconds),
    /// or refuses. When the table is full, buckets that have refilled (keys
    /// that behave) are forgotten first; if none has, the attempt is refused:
    /// a flood of fresh addresses fails closed rather than growing the table.
    pub fn try_acquire(&mut self, key: &str, now_ms: u64) -> bool {
        let full = self.config.burst as u64 * 1000;
        if !self.buckets.contains_key(key) && self.buckets.len() >= self.config.max_keys {
            let before = self.buckets.len();
            let config = self.config;
            self.buckets
                .retain(|_, b| refill(config, *b, now_ms).milli < full);
            if self.buckets.len() == before {
                return false;
            }
        }
        let bucket = self.buckets.entry(key.to_owned()).or_insert(Bucket {
            milli: full,
            at_ms: now_ms,
        });
        *bucket = refill(self.config, *bucket, now_ms);
        if bucket.milli >= 1000 {
            bucket.milli -= 1000;
            true
        } else {
            false
        }
    }

    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

fn refill(config: LimiterConfig, b: Bucket, now_ms: u64) -> Bucket {
    let elapsed = now_ms.saturating_sub(b.at_ms);
    // per_minute attempts per 60,000 ms = per_minute milli-attempts per 60 ms.
    let gained = elapsed.saturating_mul(config.per_minute as u64) / 60;
    Bucket {
        milli: (b.milli + gained).min(config.burst as u64 * 1000),
        at_ms: now_ms.max(b.at_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: LimiterConfig = LimiterConfig {
        burst: 3,
        per_minute: 60,
        max_keys: 2,
    };

    #[test]
    fn a_key_gets_its_burst_then_its_rate() {
        let mut limiter = AttemptLimiter::new(CONFIG);
        assert!((0..3).all(|_| limiter.try_acquire("1.2.3.4", 0)));
        assert!(!limiter.try_acquire("1.2.3.4", 0));
        assert!(!limiter.try_acquire("1.2.3.4", 999));
        assert!(limiter.try_acquire("1.2.3.4", 1_000));
        assert!(limiter.try_acquire("5.6.7.8", 1_000));
    }

    #[test]
    fn a_full_table_forgets_refilled_keys_and_otherwise_refuses() {
        let mut limiter = AttemptLimiter::new(CONFIG);
        assert!(limiter.try_acquire("a", 0));
        assert!(limiter.try_acquire("b", 0));
        // Both still owe an attempt: a third key is refused.
        assert!(!limiter.try_acquire("c", 0));
        // A second later both have refilled; they make room.
        assert!(limiter.try_acquire("c", 1_000));
        assert!(limiter.tracked() <= 2);
    }
}
