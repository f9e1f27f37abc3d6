//! Priority: how an entry the budget leaves out gains priority while it waits
//! (more the nearer it is), how entries are ranked, and where the budget cuts.
//!
//! Owns the weights, the ranking key's layout and the cut. May not read
//! entries or write messages (`observer` does, with these).

/// A ranking key is `(spawn << 32 | priority) << PLACE_BITS | inverted place`:
/// spawns go before updates, then higher priority, then earlier entries.
pub(super) const PLACE_BITS: u32 = 24;
pub(super) const PLACE_MASK: u64 = (1 << PLACE_BITS) - 1;

/// The priority an entry gains per tick while it waits, by its distance `d`
/// from the observer: `1 + 256 r^2 / (d^2 + r^2/4)` for view radius `r`, so
/// from 1025 at the observer's feet to 205 at the radius, with `d^2 / r^2`
/// taken in 256ths (a multiply and a table, not a division per entry).
#[derive(Clone, Copy, Debug)]
pub struct Weights {
    /// `2^32 * 256 / r^2`.
    scale: u64,
}

/// By `d^2 / r^2` in 256ths, up to 2 (visible entities are within the radius
/// plus the margin).
const WEIGHTS: [u32; 512] = {
    let mut table = [0; 512];
    let mut q = 0;
    while q < 512 {
        table[q] = 1 + 256 * 256 / (q as u32 + 64);
        q += 1;
    }
    table
};

impl Weights {
    /// For a view radius of `radius_sq` (squared, raw units).
    pub fn new(radius_sq: u64) -> Self {
        Weights {
            scale: (256u64 << 32) / radius_sq.max(1),
        }
    }

    /// For an entity `d_sq` (squared, raw units) away.
    #[inline]
    pub fn of(self, d_sq: u64) -> u32 {
        let q = d_sq.saturating_mul(self.scale) >> 32;
        WEIGHTS[(q as usize).min(WEIGHTS.len() - 1)]
    }
}

/// Fewer lowest keys than this to leave out are found by insertion, not by
/// a general selection.
const FEW: usize = 16;

/// The lowest key of the `budget` highest of `keys` (distinct, none zero), or 1
/// when they all fit.
pub(super) fn threshold(keys: &mut [u64], budget: usize) -> u64 {
    if keys.len() <= budget {
        return 1;
    }
    // The answer is the (out + 1)-th lowest.
    let out = keys.len() - budget;
    if out >= FEW {
        return *keys.select_nth_unstable(out).1;
    }
    // Usually only a few are left out: keep the out + 1 lowest, sorted.
    let mut low = [u64::MAX; FEW];
    for &k in keys.iter() {
        if k < low[out] {
            let at = low[..out].partition_point(|&l| l < k);
            low.copy_within(at..out, at + 1);
            low[at] = k;
        }
    }
    low[out]
}

#[cfg(test)]
mod threshold_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn threshold_is_the_lowest_of_the_budget_highest(
            keys in proptest::collection::btree_set(1u64..u64::MAX, 0..80)
                .prop_map(Vec::from_iter)
                .prop_shuffle(),
            budget in 1usize..80,
        ) {
            let mut keys = keys;
            let mut sorted = keys.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            let want = if keys.len() <= budget { 1 } else { sorted[budget - 1] };
            prop_assert_eq!(threshold(&mut keys, budget), want);
        }
    }
}
