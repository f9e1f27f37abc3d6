//! The remote entities a client knows, sorted by id.
//!
//! Ids live in their own dense, sorted array, apart from the (larger) entity
//! data: a lookup is a binary search over a few kilobytes instead of a walk
//! through tree nodes, and updates, which arrive sorted, gallop onwards from
//! the previous hit.

use super::Remote;
use crate::ids::EntityId;

#[derive(Clone, Debug, Default)]
pub struct Remotes {
    ids: Vec<EntityId>,
    data: Vec<Remote>,
}

impl Remotes {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn contains_key(&self, id: &EntityId) -> bool {
        self.ids.binary_search(id).is_ok()
    }

    pub fn get(&self, id: &EntityId) -> Option<&Remote> {
        self.ids.binary_search(id).ok().map(|i| &self.data[i])
    }

    pub fn get_mut(&mut self, id: &EntityId) -> Option<&mut Remote> {
        self.ids.binary_search(id).ok().map(|i| &mut self.data[i])
    }

    /// Like `get_mut`, searching only at or after index `*from`, and leaving
    /// `*from` at the hit: for ids looked up in ascending order.
    /// Ids out of order still work, through a full search.
    #[inline]
    pub fn get_mut_from(&mut self, id: &EntityId, from: &mut usize) -> Option<&mut Remote> {
        let start = (*from).min(self.ids.len());
        let rest = &self.ids[start..];
        // Nearly always the next update is for the hit itself or the entry
        // after it: look there before galloping.
        for (k, found) in rest.iter().take(2).enumerate() {
            if found == id {
                *from = start + k;
                return Some(&mut self.data[start + k]);
            }
        }
        // Galloping: the next id is usually a step or two on, so probe 1, 2, 4,
        // ... entries ahead, then search only the last stretch.
        let mut hi = 1;
        while hi < rest.len() && rest[hi - 1] < *id {
            hi *= 2;
        }
        let lo = hi / 2;
        let hi = hi.min(rest.len());
        let i = match rest.get(lo..hi).map(|r| r.binary_search(id)) {
            Some(Ok(i)) => start + lo + i,
            _ => self.ids.binary_search(id).ok()?,
        };
        *from = i;
        Some(&mut self.data[i])
    }

    /// Inserts or replaces.
    pub fn insert(&mut self, id: EntityId, remote: Remote) {
        match self.ids.binary_search(&id) {
            Ok(i) => self.data[i] = remote,
            Err(i) => {
                self.ids.insert(i, id);
                self.data.insert(i, remote);
            }
        }
    }

    pub fn remove(&mut self, id: &EntityId) -> Option<Remote> {
        let i = self.ids.binary_search(id).ok()?;
        self.ids.remove(i);
        Some(self.data.remove(i))
    }

    pub fn clear(&mut self) {
        self.ids.clear();
        self.data.clear();
    }

    /// Ids in ascending order.
    pub fn keys(&self) -> impl Iterator<Item = &EntityId> {
        self.ids.iter()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&EntityId, &Remote)> {
        self.ids.iter().zip(self.data.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{EntityKind, QPos};
    use proptest::prelude::*;

    fn remote(x: i32) -> Remote {
        Remote {
            kind: EntityKind::Player,
            pos: QPos { x, y: 0 },
            interp: None,
        }
    }

    proptest! {
        /// Galloping from a cursor finds exactly what a full search finds,
        /// whatever order the lookups come in.
        #[test]
        fn get_mut_from_agrees_with_get(
            ids in proptest::collection::btree_set(0u64..200, 0..80),
            lookups in proptest::collection::vec(0u64..220, 0..120),
            sorted in any::<bool>(),
        ) {
            let mut r = Remotes::default();
            for &id in &ids {
                r.insert(EntityId(id), remote(id as i32));
            }
            let mut lookups = lookups;
            if sorted {
                lookups.sort_unstable();
            }
            let mut from = 0;
            for id in lookups {
                let want = r.get(&EntityId(id)).map(|x| x.pos.x);
                let got = r.get_mut_from(&EntityId(id), &mut from).map(|x| x.pos.x);
                prop_assert_eq!(got, want, "id {}", id);
            }
        }
    }
}
