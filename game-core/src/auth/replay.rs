//! Each login token is accepted once: the ids of tokens used so far are kept
//! until the tokens expire, in a bounded table.

use std::collections::{BTreeMap, BTreeSet};

/// Token ids seen and not yet expired. Bounded: when full of unexpired ids,
/// it refuses to take more (the login is refused as busy), rather than forget
/// one that could then be replayed.
#[derive(Clone, Debug)]
pub struct ReplayGuard {
    seen: BTreeSet<[u8; 16]>,
    by_expiry: BTreeMap<(u64, [u8; 16]), ()>,
    capacity: usize,
}

/// What [`ReplayGuard::admit`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// First use: remembered until it expires.
    First,
    /// Seen before.
    Replayed,
    /// The table is full of unexpired ids.
    Full,
}

impl ReplayGuard {
    pub fn new(capacity: usize) -> Self {
        ReplayGuard {
            seen: BTreeSet::new(),
            by_expiry: BTreeMap::new(),
            capacity,
        }
    }

    /// Records token `id`, valid until `expires_at` (unix seconds), at `now`.
    pub fn admit(&mut self, id: [u8; 16], expires_at: u64, now: u64) -> Admission {
        self.forget_expired(now);
        if self.seen.contains(&id) {
            return Admission::Replayed;
        }
        if self.seen.len() >= self.capacity {
            return Admission::Full;
        }
        self.seen.insert(id);
        self.by_expiry.insert((expires_at, id), ());
        Admission::First
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// An expired token is refused for its expiry, so its id need not be kept.
    fn forget_expired(&mut self, now: u64) {
        while let Some((&(expires_at, id), ())) = self.by_expiry.first_key_value() {
            if expires_at > now {
                break;
            }
            self.by_expiry.pop_first();
            self.seen.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_admitted_once_until_it_expires_and_the_table_is_bounded() {
        let mut guard = ReplayGuard::new(2);
        assert_eq!(guard.admit([1; 16], 100, 0), Admission::First);
        assert_eq!(guard.admit([1; 16], 100, 50), Admission::Replayed);
        assert_eq!(guard.admit([2; 16], 200, 50), Admission::First);
        assert_eq!(guard.admit([3; 16], 200, 50), Admission::Full);
        // At 100 the first has expired (its token is refused as expired anyway).
        assert_eq!(guard.admit([3; 16], 200, 100), Admission::First);
        assert_eq!(guard.len(), 2);
    }
}
