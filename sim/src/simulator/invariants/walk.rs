//! Small exact helpers the checks share: membership in a sorted slice by a
//! walk, and "moved further than" without a square root.

use game_core::math::Vec2;

/// Membership in a sorted slice for queries that mostly come in ascending
/// order: each query walks on from where the last one stopped, so a run of
/// ascending queries costs one pass over the slice instead of a binary search
/// each. A query below the previous one starts the walk over (still exact).
pub(super) struct SortedWalk<'a, T> {
    items: &'a [T],
    cursor: usize,
    last: Option<T>,
}

impl<'a, T: Ord + Copy> SortedWalk<'a, T> {
    pub(super) fn new(items: &'a [T]) -> Self {
        SortedWalk {
            items,
            cursor: 0,
            last: None,
        }
    }

    pub(super) fn contains(&mut self, x: T) -> bool {
        if self.last.is_some_and(|l| x < l) {
            self.cursor = 0;
        }
        self.last = Some(x);
        while self.items.get(self.cursor).is_some_and(|&v| v < x) {
            self.cursor += 1;
        }
        self.items.get(self.cursor) == Some(&x)
    }
}

/// Whether a move from `old` to `pos` is longer than `allowed` raw units, as
/// `distance_raw(old, pos) > allowed`. That distance is the square root
/// rounded up, so it exceeds `allowed` exactly when the squared distance
/// exceeds `allowed` squared: no square root per comparison.
pub(super) fn moved_more_than(old: Vec2, pos: Vec2, allowed: i64) -> bool {
    let sq = (pos - old).length_squared_raw().max(0) as u64;
    match u64::try_from(allowed) {
        Ok(a) => a.checked_mul(a).is_some_and(|a2| sq > a2),
        Err(_) => true,
    }
}

pub(super) fn isqrt_m(d_sq_raw: i64) -> i64 {
    (d_sq_raw.max(0) as u64).isqrt() as i64 / 256
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_core::math::Fixed;
    use proptest::prelude::*;

    proptest! {
        /// A walk answers exactly what a binary search answers, whatever
        /// order the queries come in.
        #[test]
        fn sorted_walk_agrees_with_binary_search(
            items in proptest::collection::btree_set(0u32..300, 0..100),
            queries in proptest::collection::vec(0u32..320, 0..150),
            ascending in any::<bool>(),
        ) {
            let items: Vec<u32> = items.into_iter().collect();
            let mut queries = queries;
            if ascending {
                queries.sort_unstable();
            }
            let mut walk = SortedWalk::new(&items);
            for q in queries {
                prop_assert_eq!(walk.contains(q), items.binary_search(&q).is_ok(), "query {}", q);
            }
        }

        /// The squared comparison agrees with the rounded-up distance.
        #[test]
        fn moved_more_than_agrees_with_distance(
            ax in -100_000i32..100_000, ay in -100_000i32..100_000,
            bx in -100_000i32..100_000, by in -100_000i32..100_000,
            allowed in -10i64..300_000,
            near in any::<bool>(),
        ) {
            let a = Vec2::new(Fixed::from_raw(ax), Fixed::from_raw(ay));
            let b = Vec2::new(Fixed::from_raw(bx), Fixed::from_raw(by));
            let d = game_core::zone::movement::distance_raw(a, b);
            // Half the cases right at the boundary, where rounding matters.
            let allowed = if near { d + allowed % 3 - 1 } else { allowed };
            prop_assert_eq!(moved_more_than(a, b, allowed), d > allowed);
        }
    }

    #[test]
    fn moved_more_than_at_exact_squares_and_extremes() {
        let o = Vec2::new(Fixed::from_raw(0), Fixed::from_raw(0));
        let p = Vec2::new(Fixed::from_raw(3), Fixed::from_raw(4));
        assert!(!moved_more_than(o, p, 5));
        assert!(moved_more_than(o, p, 4));
        let q = Vec2::new(Fixed::from_raw(3), Fixed::from_raw(5));
        // sqrt(34) rounds up to 6.
        assert!(!moved_more_than(o, q, 6));
        assert!(moved_more_than(o, q, 5));
        assert!(moved_more_than(o, o, -1));
        assert!(!moved_more_than(o, p, i64::MAX));
    }
}
