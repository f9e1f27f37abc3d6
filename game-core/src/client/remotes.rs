//! The remote entities a client knows, sorted by id.
//!
//! Each remote's id and latest position sit together in one dense, sorted
//! array of 16-byte entries, apart from the rest (its kind and, for drawing
//! clients, its interpolation buffer): a position update, most of what a
//! client receives, reads and writes one cache line of that array and nothing
//! else. A lookup is a binary search, and updates, which arrive sorted, gallop
//! onwards from the previous hit.

use super::Interpolator;
use crate::ids::EntityId;
use crate::protocol::{EntityKind, QPos};
use crate::time::Instant;

/// A remote entity as this client knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remote {
    pub kind: EntityKind,
    /// The latest replicated position (quantized, exactly as the server sent it).
    pub pos: QPos,
}

/// What position updates do not touch.
#[derive(Clone, Debug)]
struct Extra {
    kind: EntityKind,
    /// Boxed: most of a remote's bytes, and only drawing clients have one.
    interp: Option<Box<Interpolator>>,
}

#[derive(Clone, Debug, Default)]
pub struct Remotes {
    entries: Vec<(EntityId, QPos)>,
    /// `extras[i]` belongs to `entries[i]`.
    extras: Vec<Extra>,
}

impl Remotes {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, id: &EntityId) -> Result<usize, usize> {
        self.entries.binary_search_by_key(id, |&(e, _)| e)
    }

    pub fn contains_key(&self, id: &EntityId) -> bool {
        self.find(id).is_ok()
    }

    pub fn get(&self, id: &EntityId) -> Option<Remote> {
        let i = self.find(id).ok()?;
        Some(Remote {
            kind: self.extras[i].kind,
            pos: self.entries[i].1,
        })
    }

    /// The interpolation buffer of remote `id`, if this client keeps one.
    pub fn interpolator_mut(&mut self, id: &EntityId) -> Option<&mut Interpolator> {
        let i = self.find(id).ok()?;
        self.extras[i].interp.as_deref_mut()
    }

    /// Moves remote `id` by `(dx, dy)` (wrapping, as the wire's deltas do);
    /// `false` when it is unknown. With `at`, the new position also goes into
    /// its interpolation buffer, if it has one (clients that keep none pass
    /// `None` and never read the extras). Searches at or after index `*from`
    /// first and leaves `*from` just past the hit, where the next id of an
    /// ascending run is most often found. Ids out of order still work,
    /// through a full search.
    #[inline]
    pub fn step_from(
        &mut self,
        id: &EntityId,
        from: &mut usize,
        dx: i32,
        dy: i32,
        at: Option<Instant>,
    ) -> bool {
        let Some(i) = self.find_from(id, *from) else {
            return false;
        };
        *from = i + 1;
        let pos = &mut self.entries[i].1;
        *pos = QPos {
            x: pos.x.wrapping_add(dx),
            y: pos.y.wrapping_add(dy),
        };
        let pos = *pos;
        if let Some(at) = at {
            if let Some(interp) = self.extras[i].interp.as_mut() {
                interp.push(at, pos.to_pos());
            }
        }
        true
    }

    #[inline]
    fn find_from(&self, id: &EntityId, from: usize) -> Option<usize> {
        let start = from.min(self.entries.len());
        let rest = &self.entries[start..];
        // Nearly always the next update is for the entry after the last hit
        // (where `from` points) or the one after that: look there before
        // galloping.
        for (k, &(found, _)) in rest.iter().take(2).enumerate() {
            if found == *id {
                return Some(start + k);
            }
        }
        // Galloping: the next id is usually a step or two on, so probe 1, 2, 4,
        // ... entries ahead, then search only the last stretch. Past both
        // entries just looked at, the probes start at the fourth.
        let mut hi = if rest.len() > 2 && rest[1].0 < *id {
            4
        } else {
            1
        };
        while hi < rest.len() && rest[hi - 1].0 < *id {
            hi *= 2;
        }
        let lo = hi / 2;
        let hi = hi.min(rest.len());
        match rest
            .get(lo..hi)
            .map(|r| r.binary_search_by_key(id, |&(e, _)| e))
        {
            Some(Ok(i)) => Some(start + lo + i),
            _ => self.find(id).ok(),
        }
    }

    /// Inserts or replaces.
    pub(super) fn insert(
        &mut self,
        id: EntityId,
        kind: EntityKind,
        pos: QPos,
        interp: Option<Box<Interpolator>>,
    ) {
        let extra = Extra { kind, interp };
        match self.find(&id) {
            Ok(i) => {
                self.entries[i].1 = pos;
                self.extras[i] = extra;
            }
            Err(i) => {
                self.entries.insert(i, (id, pos));
                self.extras.insert(i, extra);
            }
        }
    }

    /// Forgets remote `id`; `false` when it was unknown.
    pub(super) fn remove(&mut self, id: &EntityId) -> bool {
        let Ok(i) = self.find(id) else {
            return false;
        };
        self.entries.remove(i);
        self.extras.remove(i);
        true
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.extras.clear();
    }

    /// Ids in ascending order.
    pub fn keys(&self) -> impl Iterator<Item = &EntityId> {
        self.entries.iter().map(|(e, _)| e)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&EntityId, Remote)> {
        self.entries.iter().zip(&self.extras).map(|((e, pos), x)| {
            (
                e,
                Remote {
                    kind: x.kind,
                    pos: *pos,
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Stepping from a cursor finds exactly what a full search finds,
        /// whatever order the lookups come in.
        #[test]
        fn step_from_agrees_with_get(
            ids in proptest::collection::btree_set(0u64..200, 0..80),
            lookups in proptest::collection::vec(0u64..220, 0..120),
            sorted in any::<bool>(),
        ) {
            let mut r = Remotes::default();
            for &id in &ids {
                r.insert(EntityId(id), EntityKind::Player, QPos { x: id as i32, y: 0 }, None);
            }
            let mut lookups = lookups;
            if sorted {
                lookups.sort_unstable();
            }
            let mut from = 0;
            for id in lookups {
                let id = EntityId(id);
                let want = r.get(&id).map(|x| QPos { x: x.pos.x.wrapping_add(1), y: 0 });
                let known = r.step_from(&id, &mut from, 1, 0, None);
                prop_assert_eq!(known, want.is_some(), "id {:?}", id);
                prop_assert_eq!(r.get(&id).map(|x| x.pos), want);
            }
        }
    }
}
