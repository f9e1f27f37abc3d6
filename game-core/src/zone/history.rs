//! Lag compensation's memory: where every entity stood at the end of each of
//! the last few ticks, so a skill's range and sight checks can use the target
//! where the attacker saw it (the attacker's delay, capped).
//!
//! A ring of whole position tables, one per tick: copying the dense bodies
//! array once per tick is a memcpy (80 KB at 10,000 entities), cheaper than
//! keeping a history per entity, and allocates nothing once the ring has
//! grown to the zone's size.
//!
//! Owns the ring. May not decide what a rewound position is used for.

use crate::math::Vec2;
use crate::time::Tick;

/// Ticks of history kept: 200 ms at 20 Hz, plus the current tick.
pub const HISTORY_TICKS: usize = 5;

#[derive(Debug, Default)]
pub(super) struct History {
    /// `ring[t % HISTORY_TICKS]` holds positions by slot at the end of tick `t`.
    ring: [Vec<Vec2>; HISTORY_TICKS],
    /// The last tick recorded.
    last: Tick,
}

impl History {
    /// Records the positions at the end of `tick`.
    pub(super) fn record(&mut self, tick: Tick, positions: impl ExactSizeIterator<Item = Vec2>) {
        let row = &mut self.ring[(tick.0 % HISTORY_TICKS as u64) as usize];
        row.clear();
        row.extend(positions);
        self.last = tick;
    }

    /// Where the entity in `slot` stood `back` ticks before the last recorded
    /// tick, if that is recorded and not before `since` (the tick it arrived
    /// or was last teleported: before that, its slot's history is another
    /// story).
    pub(super) fn at(&self, slot: u32, back: u8, since: Tick) -> Option<Vec2> {
        let back = (back as u64).min(HISTORY_TICKS as u64 - 1);
        let tick = self.last.0.checked_sub(back)?;
        if tick < since.0 || tick == 0 {
            return None;
        }
        self.ring[(tick % HISTORY_TICKS as u64) as usize]
            .get(slot as usize)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewinds_up_to_the_ring_and_not_before_arrival() {
        let mut h = History::default();
        for t in 1..=10u64 {
            h.record(Tick(t), [Vec2::from_ints(t as i32, 0)].into_iter());
        }
        assert_eq!(h.at(0, 0, Tick(0)), Some(Vec2::from_ints(10, 0)));
        assert_eq!(h.at(0, 3, Tick(0)), Some(Vec2::from_ints(7, 0)));
        // Capped at the ring's length.
        assert_eq!(h.at(0, 200, Tick(0)), Some(Vec2::from_ints(6, 0)));
        // Not before the entity arrived.
        assert_eq!(h.at(0, 3, Tick(8)), None);
        assert_eq!(h.at(1, 0, Tick(0)), None);
    }
}
