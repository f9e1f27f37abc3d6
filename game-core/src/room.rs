//! Growing lists to their working size early, so steady-state ticks do not
//! allocate.
//!
//! Many small lists of one kind (the AOI's grid cells; visible lists, lag
//! tables and despawns live in shared buffers instead) grow and shrink around
//! a working size that is about the same for each. Left
//! to `Vec`'s doubling, each of thousands of lists reallocates whenever it
//! passes its own previous maximum, which keeps happening long after start-up.
//! Instead a [`HighWater`] tracks the longest list of a kind; a list that fills
//! up grows to that mark rounded up to a power of two, and when the mark itself
//! rises past a power of two every list of the kind is topped up to the new
//! size at once. (Twice the mark measured no fewer allocations and a slower
//! tick: the lists' memory spreads over more pages.) So lists
//! allocate when the mark rises (a few times in a zone's life), not whenever one
//! of them drifts past its own maximum. Sizes are capped at [`ROOM_CAP`] entries:
//! a crowd in one spot does not make every list in the zone that long.

/// Lists are not grown ahead of need beyond this many entries.
pub(crate) const ROOM_CAP: usize = 512;

/// The largest length a kind of list has reached, and the size lists of that
/// kind were last topped up to.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HighWater {
    max: usize,
    topped: usize,
}

impl HighWater {
    /// Notes that a list of this kind is now `len` long.
    #[inline]
    pub(crate) fn note(&mut self, len: usize) {
        self.max = self.max.max(len);
    }

    /// The capacity lists of this kind should have.
    fn target(self) -> usize {
        (self.max + 1).next_power_of_two().clamp(4, ROOM_CAP)
    }

    /// Before one push onto `v`: if it is full, grows it to the target size, or
    /// to double its length if that is more (it is the longest of its kind).
    #[inline]
    pub(crate) fn make_room<T>(self, v: &mut Vec<T>) {
        if v.len() == v.capacity() {
            let target = self.target().max(v.len() * 2);
            v.reserve_exact(target - v.len());
        }
    }

    /// Whether the target rose since the last call, so every list of the kind
    /// should be [`top_up`](Self::top_up)ped now.
    pub(crate) fn rose(&mut self) -> bool {
        let target = self.target();
        let rose = target > self.topped;
        self.topped = self.topped.max(target);
        rose
    }

    /// Grows `v` to the target size if it is smaller.
    pub(crate) fn top_up<T>(self, v: &mut Vec<T>) {
        let target = self.target();
        if v.capacity() < target {
            v.reserve_exact(target - v.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_list_grows_to_the_high_water_mark_at_once() {
        let mut hw = HighWater::default();
        hw.note(100);
        let mut v: Vec<u32> = Vec::new();
        hw.make_room(&mut v);
        assert_eq!(v.capacity(), 128);
        for i in 0..128 {
            hw.make_room(&mut v);
            v.push(i);
        }
        assert_eq!(v.capacity(), 128, "no growth below the rounded mark");
        hw.make_room(&mut v);
        assert_eq!(v.capacity(), 256, "past it, doubling");
    }

    #[test]
    fn room_is_only_made_when_full() {
        let mut hw = HighWater::default();
        hw.note(1000);
        let mut v: Vec<u8> = Vec::with_capacity(8);
        v.push(1);
        hw.make_room(&mut v);
        assert_eq!(v.capacity(), 8);
    }

    #[test]
    fn a_rising_mark_asks_for_top_ups_once_per_step_and_stops_at_the_cap() {
        let mut hw = HighWater::default();
        assert!(hw.rose(), "the first target");
        assert!(!hw.rose());
        hw.note(10);
        assert!(hw.rose());
        let mut v: Vec<u32> = vec![1, 2, 3];
        hw.top_up(&mut v);
        assert_eq!(v.capacity(), 16);
        hw.note(12);
        assert!(!hw.rose(), "same power of two");
        hw.note(100_000);
        assert!(hw.rose());
        hw.top_up(&mut v);
        assert_eq!(v.capacity(), ROOM_CAP);
        assert!(!hw.rose());
    }
}
