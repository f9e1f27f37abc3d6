//! A set of deadlines keyed by whatever a machine times: one type for every
//! subsystem, so a new feature adds a key type of its own, not a variant to a
//! shared enum.
//!
//! Ordered by `(deadline, key)`: entries due at the same instant come out in key
//! order, so a run is the same on every machine. Arming, moving and disarming a
//! key are O(log n); the earliest deadline is O(1).

use crate::ids::IdMap;
use crate::time::Instant;
use std::collections::BTreeSet;
use std::hash::Hash;

#[derive(Debug)]
pub struct TimerSet<K> {
    by_deadline: BTreeSet<(Instant, K)>,
    /// Each armed key's deadline, looked up on every re-arm (never iterated).
    deadline_of: IdMap<K, Instant>,
}

impl<K> Default for TimerSet<K> {
    fn default() -> Self {
        TimerSet {
            by_deadline: BTreeSet::new(),
            deadline_of: IdMap::default(),
        }
    }
}

impl<K: Copy + Ord + Hash> TimerSet<K> {
    /// Arms `key` for `at`, replacing its earlier deadline; `None` disarms it.
    pub fn set(&mut self, key: K, at: Option<Instant>) {
        if let Some(old) = self.deadline_of.remove(&key) {
            self.by_deadline.remove(&(old, key));
        }
        if let Some(at) = at {
            self.deadline_of.insert(key, at);
            self.by_deadline.insert((at, key));
        }
    }

    /// Arms `key` for `at` unless it is already armed no later. For deadlines
    /// that mostly move later (an idle timer pushed back by every message): the
    /// early entry fires, finds nothing due and moves to the real deadline, one
    /// wake-up per period instead of a table update per message.
    pub fn set_no_later_than(&mut self, key: K, at: Option<Instant>) {
        match (self.deadline_of.get(&key), at) {
            (Some(&armed), Some(at)) if armed <= at => {}
            _ => self.set(key, at),
        }
    }

    pub fn deadline(&self, key: K) -> Option<Instant> {
        self.deadline_of.get(&key).copied()
    }

    /// The earliest deadline and its key.
    pub fn next(&self) -> Option<(Instant, K)> {
        self.by_deadline.first().copied()
    }

    /// Takes the earliest entry if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, K)> {
        let &(at, key) = self.by_deadline.first()?;
        if at > now {
            return None;
        }
        self.by_deadline.pop_first();
        self.deadline_of.remove(&key);
        Some((at, key))
    }

    pub fn len(&self) -> usize {
        self.deadline_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.deadline_of.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    fn at(ms: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(ms)
    }

    #[test]
    fn due_entries_come_out_by_deadline_then_key() {
        let mut t = TimerSet::default();
        t.set(3u64, Some(at(10)));
        t.set(1, Some(at(10)));
        t.set(2, Some(at(5)));
        assert_eq!(t.next(), Some((at(5), 2)));
        assert_eq!(t.pop_due(at(4)), None);
        assert_eq!(t.pop_due(at(10)), Some((at(5), 2)));
        assert_eq!(t.pop_due(at(10)), Some((at(10), 1)));
        assert_eq!(t.pop_due(at(10)), Some((at(10), 3)));
        assert_eq!(t.pop_due(at(10)), None);
        assert!(t.is_empty());
    }

    #[test]
    fn re_arming_moves_the_one_entry_and_none_disarms() {
        let mut t = TimerSet::default();
        t.set(7u64, Some(at(10)));
        t.set(7, Some(at(20)));
        assert_eq!(t.len(), 1);
        assert_eq!(t.deadline(7), Some(at(20)));
        t.set_no_later_than(7, Some(at(30)));
        assert_eq!(t.deadline(7), Some(at(20)), "an earlier entry is kept");
        t.set_no_later_than(7, Some(at(15)));
        assert_eq!(t.deadline(7), Some(at(15)), "an earlier deadline moves it");
        t.set(7, None);
        assert!(t.is_empty());
        assert_eq!(t.next(), None);
    }
}
