//! Near lists and the visibility decisions made from them.
//!
//! Each entity keeps, beside its visible list, a near list (a Verlet list):
//! everyone within `radius + skin` of it when the list was made, and everyone
//! whose own list found it since (the lists are symmetric), with [`VISIBLE`] on
//! the pairs that see each other. An entity makes its list again (a scan of
//! the grid) when it is new or has drifted past its limit from where it made
//! it; otherwise an update only re-decides the near pairs of the entities that
//! moved: enter at `d <= radius`, leave at `d > radius + margin`.

use super::{Aoi, AoiEvent, Slot, State, TaggedId};
use crate::ids::EntityId;

/// In a near-list entry's tag: the pair sees each other.
pub(super) const VISIBLE: u8 = 1;

/// The skin (raw units) for a radius and margin: at least the margin, so every
/// visible pair is near; and at least a fifth of the radius, so an entity
/// drifts a while before its near list is made again.
pub(super) fn skin(radius: i64, margin: i64) -> i64 {
    margin.max(radius / 5)
}

/// Pushes an `Enter` (or a `Leave`) for the pair of slots `a` and `b` to each.
fn both(events: &mut Vec<AoiEvent>, a: u32, b: u32, enter: bool) {
    let (a, b) = (EntityId(a as u64), EntityId(b as u64));
    for (observer, target) in [(a, b), (b, a)] {
        events.push(if enter {
            AoiEvent::Enter { observer, target }
        } else {
            AoiEvent::Leave { observer, target }
        });
    }
}

impl Aoi {
    /// The squared drift limit of slot `s`'s near list: between half and all
    /// of `drift`, by a hash of the slot and where the list was made. Were it
    /// the same for all, entities that started moving together at one speed
    /// (a benchmark, a raid) would all make their lists again on the same
    /// tick, every few ticks; spread out, those ticks cost the same as others.
    pub(super) fn drift_limit_sq(&self, s: u32) -> u64 {
        let at = self.anchor[s as usize];
        let h =
            (s ^ at.x.raw() as u32 ^ (at.y.raw() as u32).rotate_left(16)).wrapping_mul(0x9e37_79b9);
        let limit = self.drift / 2 + ((self.drift * (h >> 24) as i64) >> 9);
        (limit * limit) as u64
    }

    /// The pair of `a` and `b` (its entry in `a`'s near list at `k`) stops
    /// seeing each other.
    fn hide(&mut self, a: u32, k: usize, b: u32, events: &mut Vec<AoiEvent>) {
        self.near.get_mut(a)[k].set_tag(0);
        self.near.find_mut(b, a).set_tag(0);
        self.unsee(a, b, events);
    }

    /// Takes `a` and `b` out of each other's visible lists, with a `Leave` to
    /// each.
    fn unsee(&mut self, a: u32, b: u32, events: &mut Vec<AoiEvent>) {
        self.visible.remove(a, b);
        self.visible.remove(b, a);
        both(events, a, b, false);
    }

    /// Tells everyone who saw removed slot `s` that it left, takes it out of
    /// every near list, and frees `s`.
    pub(super) fn drop_removed(&mut self, s: u32, events: &mut Vec<AoiEvent>) {
        for k in self.near.span[s as usize].range() {
            let e = self.near.data[k];
            let o = e.slot();
            if e.tag() & VISIBLE != 0 {
                // Another removed entity is gone too: it gets no events.
                if self.slots[o as usize].state == State::Live {
                    events.push(AoiEvent::Leave {
                        observer: EntityId(o as u64),
                        target: EntityId(s as u64),
                    });
                }
                self.visible.remove(o, s);
            }
            self.near.remove(o, s);
        }
        self.near.clear(s);
        self.visible.clear(s);
        self.slots[s as usize] = Slot::FREE;
        self.moved[s as usize] = false;
    }

    /// Makes changed slot `a`'s near list again: everyone now within
    /// `radius + skin`, keeping what it knew of those it listed already. Those
    /// it listed that are no longer near lose `a` from their own lists, and if
    /// they saw each other, that ends (they are beyond `radius + margin`).
    pub(super) fn make_near(&mut self, a: u32, events: &mut Vec<AoiEvent>) {
        let pos = self.pos[a as usize];
        self.found.clear();
        self.checks += self
            .grid
            .collect_near(pos, a, self.near_sq, &mut self.found);

        // Against the list it had (sorted), with `found` marked: what both
        // hold keeps its bits; what only the old list holds goes; what only
        // `found` holds is new, and only that little needs sorting.
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.mark.fill(0);
            self.stamp = 1;
        }
        let stamp = self.stamp;
        for e in &self.found {
            self.mark[e.slot() as usize] = stamp;
        }
        self.old.clear();
        self.old.extend_from_slice(self.near.get(a));
        self.merged.clear();
        for i in 0..self.old.len() {
            let e = self.old[i];
            let o = e.slot();
            if self.mark[o as usize] == stamp {
                // Still near; and not new.
                self.merged.push(e);
                self.mark[o as usize] = 0;
                continue;
            }
            if e.tag() & VISIBLE != 0 {
                self.unsee(a, o, events);
            }
            self.near.remove(o, a);
        }
        // The new ones, sorted, to the front of `found`.
        let mut fresh = 0;
        for j in 0..self.found.len() {
            let e = self.found[j];
            self.found[fresh] = e;
            fresh += (self.mark[e.slot() as usize] == stamp) as usize;
        }
        self.found.truncate(fresh);
        self.found.sort_unstable_by_key(|e| e.slot());
        for &e in &self.found {
            self.near.insert(e.slot(), TaggedId::new(a));
        }
        // Both sorted: merged into the new list.
        self.old.clear();
        let (mut i, mut j) = (0, 0);
        while i < self.merged.len() || j < self.found.len() {
            let kept = self.merged.get(i).map_or(u32::MAX, |e| e.slot());
            let new = self.found.get(j).map_or(u32::MAX, |e| e.slot());
            if kept < new {
                self.old.push(self.merged[i]);
                i += 1;
            } else {
                self.old.push(self.found[j]);
                j += 1;
            }
        }
        self.near.set(a, &self.old);
        self.anchor[a as usize] = pos;
        self.slots[a as usize].has_near = true;
    }

    /// Re-decides the pairs in changed slot `a`'s near list, but those with a
    /// lower changed slot, which decides them itself (all lower slots, if
    /// `all` changed).
    pub(super) fn decide(&mut self, a: u32, all: bool, events: &mut Vec<AoiEvent>) {
        let pos = self.pos[a as usize];
        self.flips.clear();
        let list = self.near.get(a);
        let from = if all {
            list.partition_point(|e| e.slot() < a)
        } else {
            0
        };
        for (k, e) in list.iter().enumerate().skip(from) {
            let o = e.slot();
            if o < a && self.moved[o as usize] {
                continue;
            }
            self.checks += 1;
            let d = pos.distance_squared_raw(self.pos[o as usize]);
            let flip = if e.tag() & VISIBLE != 0 {
                d > self.leave_sq
            } else {
                d <= self.enter_sq
            };
            if flip {
                self.flips.push(k as u32);
            }
        }
        for i in 0..self.flips.len() {
            let k = self.flips[i] as usize;
            let e = self.near.get(a)[k];
            let o = e.slot();
            if e.tag() & VISIBLE != 0 {
                self.hide(a, k, o, events);
            } else {
                self.near.get_mut(a)[k].set_tag(VISIBLE);
                self.near.find_mut(o, a).set_tag(VISIBLE);
                self.visible.insert(a, TaggedId::new(o));
                self.visible.insert(o, TaggedId::new(a));
                both(events, a, o, true);
            }
        }
    }
}
