//! Summaries printed by the tools: percentiles and disconnect tallies.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Percentiles of a set of samples in microseconds, reported in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles; sorts `samples_us` in place.
    pub fn of(samples_us: &mut [u64]) -> Self {
        if samples_us.is_empty() {
            return Percentiles::default();
        }
        samples_us.sort_unstable();
        let rank = |p: f64| {
            let i = ((p / 100.0) * samples_us.len() as f64).ceil() as usize;
            samples_us[i.clamp(1, samples_us.len()) - 1] as f64 / 1000.0
        };
        Percentiles {
            samples: samples_us.len(),
            p50_ms: rank(50.0),
            p99_ms: rank(99.0),
            max_ms: rank(100.0),
        }
    }
}

/// Counts by reason label, sorted for stable output.
pub type Tally = BTreeMap<String, u64>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
        let p = Percentiles::of(&mut v);
        assert_eq!((p.p50_ms, p.p99_ms, p.max_ms), (50.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(&mut []).samples, 0);
        let mut one = vec![1500];
        assert_eq!(Percentiles::of(&mut one).p99_ms, 1.5);
    }
}

/// Percentiles of samples in some unit, reported divided by `scale`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    pub samples: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    /// Nearest-rank percentiles of `samples`, divided by `scale`; sorts in place.
    pub fn of(samples: &mut [u64], scale: f64) -> Self {
        let p = Percentiles::of(samples);
        let k = 1000.0 / scale;
        Spread {
            samples: p.samples,
            p50: p.p50_ms * k,
            p99: p.p99_ms * k,
            max: p.max_ms * k,
        }
    }
}
