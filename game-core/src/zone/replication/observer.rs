//! The observer: what one client was sent about each entity in its view, and
//! the building of its one message per tick (spawns, despawns, and the updates
//! the budget lets through, by priority).
//!
//! Owns the per-entry state (kept in the tags of the AOI's visible lists) and
//! the choice of what a message carries. May not change who sees whom (that
//! is the AOI's) nor any entity's replica (read only).

use super::buffers::{HeldBack, ObserverBuffers, NOT_HELD_BACK};
use super::priority::{threshold, PLACE_BITS, PLACE_MASK};
use super::replicas::{stopped, Replicas, Step};
use crate::aoi::TaggedId;
use crate::ids::{EntityId, PlayerId};
use crate::protocol::{Correction, Entries, Spawn, Update};

// What the client was sent about one visible entity lives in the eight bits the
// AOI keeps beside each visible entry ([`TaggedId::tag`]), so one list serves
// both.
/// The spawn has not gone out yet (every entry starts so).
const UNSENT: u8 = 0;
/// Sent, and the last update did not move it.
const STILL: u8 = 1;
/// The last update moved it: once it has stopped ([`stopped`]), one zero
/// update says so, so the client stops extrapolating. After that, standing
/// still is free.
const MOVING: u8 = 2;
const STATE: u8 = 3;
/// The budget left it out, so the client does not hold its position of the
/// previous tick: its entry in the observer's held-back table says what the
/// client holds.
/// Without this bit the client holds the entity's position of the previous
/// tick (or nothing, if `UNSENT`).
const HELD_BACK: u8 = 4;

/// Whether the client knows the entity of this entry (its spawn went out).
#[inline]
pub(super) fn known(seen: TaggedId) -> bool {
    seen.tag() & STATE != UNSENT
}

#[inline]
fn slot_of(seen: TaggedId) -> usize {
    seen.id().0 as usize - 1
}

/// One client's view of the zone (who it sees is the AOI's visible list of its
/// entity, which carries the per-entity state).
#[derive(Clone, Debug, Default)]
pub struct Observer {
    /// The client's player (`None` in a slot that holds no player).
    pub(in crate::zone) player: Option<PlayerId>,
    /// Where its held-back table is in [`ObserverBuffers::held`]: one entry for
    /// each visible entry tagged `HELD_BACK`, in the same (id) order.
    held_at: u32,
    held_len: u32,
    /// This tick's despawns for the client: `despawns_len` ids at
    /// `despawns_at` in [`ObserverBuffers::despawns`].
    despawns_at: u32,
    despawns_len: u32,
    /// The client was reset to knowing nothing and has not been sent anything
    /// since: it needs no despawns.
    fresh: bool,
    pub(in crate::zone) ack_seq: u32,
    sent_ack: u32,
    pub(in crate::zone) correction: Option<Correction>,
}

/// The per-message fields of a client's update.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub ack_seq: u32,
    pub correction: Option<Correction>,
    /// The acknowledgement changed or a correction is due: worth a message
    /// even with no entries.
    pub news: bool,
}

/// Whether an entry has something to send: it was never sent, it moved, or it
/// stopped after the client was told it moves (one zero update says so).
/// `held` is its held-back entry if it is held back.
///
/// `pending`, `send_step` and `send_steps` run for every visible entry: their
/// `#[inline]` hints keep them in `build`'s loops. Callgrind, `bench-world
/// --entities 10000 --quick`, measured ticks (2026-12-06): 1,429M instructions
/// with the hints, 1,584M without; `#[inline(always)]` on all three, 1,431M.
#[inline]
fn pending(tag: u8, held: Option<&HeldBack>, slot: usize, t: &Replicas) -> bool {
    match (tag & STATE, held) {
        (UNSENT, _) => true,
        (state, None) => {
            let step = t.hot[slot];
            step.moves() || (state == MOVING && stopped(step))
        }
        (state, Some(l)) => l.sent != t.cold[slot].now || (state == MOVING && stopped(t.hot[slot])),
    }
}

/// Writes this tick's step of the entity to a client holding its position of
/// the previous tick (the usual case), and returns the entry's new state.
#[inline]
fn send_step(run: &mut Entries<'_>, seen: TaggedId, step: Step, t: &Replicas) -> u8 {
    if step.fits() {
        run.encoded(step);
    } else {
        // Passed by value, so the run does not leave the caller's registers.
        run.update(long_step(seen, t));
    }
    if step.moves() {
        MOVING
    } else {
        STILL
    }
}

/// A step that did not fit the short form (a long jump). Out of line
/// (`#[cold]`): see the figure in `protocol/world_update_codec.rs`.
#[cold]
fn long_step(seen: TaggedId, t: &Replicas) -> Update {
    let r = &t.cold[slot_of(seen)];
    Update {
        entity: seen.id(),
        dx: r.now.x.wrapping_sub(r.was.x),
        dy: r.now.y.wrapping_sub(r.was.y),
    }
}

/// The usual case for every entry at once: where the client holds last tick's
/// position (`STILL` or `MOVING`), the entity's step is all it may need.
/// Returns whether any entry was left for the general path (unsent or held
/// back).
#[inline]
fn send_steps(seen: &mut [TaggedId], run: &mut Entries<'_>, t: &Replicas) -> bool {
    let mut rest = false;
    for e in seen.iter_mut() {
        let tag = e.tag();
        if tag != STILL && tag != MOVING {
            rest = true;
            continue;
        }
        let step = t.hot[slot_of(*e)];
        if step.moves() || (tag == MOVING && stopped(step)) {
            e.set_tag(send_step(run, *e, step, t));
        }
    }
    rest
}

/// Writes the spawn or update that brings the client up to date with the
/// entity, and returns the entry's new tag.
///
/// `#[inline(always)]`: inlined into its three callers, the message's write
/// position stays in registers. Callgrind, `bench-world --entities 10000
/// --quick`, measured ticks (2026-12-06): 1,431M instructions with it, 1,465M
/// with `#[inline]`.
#[inline(always)]
fn send_one(
    out: &mut Entries<'_>,
    seen: TaggedId,
    held: Option<&HeldBack>,
    slot: usize,
    t: &Replicas,
) -> u8 {
    let entity = seen.id();
    match (seen.tag() & STATE, held) {
        (UNSENT, _) => {
            let r = &t.cold[slot];
            out.spawn(Spawn {
                entity,
                kind: r.kind,
                pos: r.now,
                look: r.look,
                level: r.level,
                health: r.health,
            });
            STILL
        }
        (_, None) => send_step(out, seen, t.hot[slot], t),
        (_, Some(l)) => {
            let r = &t.cold[slot];
            out.update(Update {
                entity,
                dx: r.now.x.wrapping_sub(l.sent.x),
                dy: r.now.y.wrapping_sub(l.sent.y),
            });
            if l.sent == r.now {
                STILL
            } else {
                MOVING
            }
        }
    }
}

/// Writes to `found` each entry of `seen` that has something to send, in list
/// order, as its place in `seen` and the place of its held-back entry in `held`
/// (or `NOT_HELD_BACK`); `held` is the observer's held-back table, in the same
/// order as its entries tagged `HELD_BACK`.
fn find_pending(seen: &[TaggedId], held: &[HeldBack], t: &Replicas, found: &mut Vec<(u32, u32)>) {
    found.clear();
    let mut held_at = 0;
    for (k, e) in seen.iter().enumerate() {
        let tag = e.tag();
        let held_back = tag & HELD_BACK != 0;
        let l = if held_back { held.get(held_at) } else { None };
        if pending(tag, l, slot_of(*e), t) {
            found.push((
                k as u32,
                if held_back {
                    held_at as u32
                } else {
                    NOT_HELD_BACK
                },
            ));
        }
        held_at += held_back as usize;
    }
}

impl Observer {
    pub fn new(player: Option<PlayerId>) -> Self {
        Observer {
            player,
            ..Observer::default()
        }
    }

    /// The entity `id` left view (or the zone); the AOI has dropped its entry.
    pub fn on_leave(&mut self, id: EntityId, buffers: &mut ObserverBuffers) {
        let mut known = !self.fresh;
        let (at, len) = (self.held_at as usize, self.held_len as usize);
        let table = &mut buffers.held[at..at + len];
        if let Ok(i) = table.binary_search_by_key(&(id.0 as u32), |l| l.id) {
            known &= !table[i].unsent;
            table.copy_within(i + 1.., i);
            self.held_len -= 1;
        }
        if known {
            if self.despawns_len == 0 {
                self.despawns_at = buffers.despawns.len() as u32;
            }
            debug_assert_eq!(
                (self.despawns_at + self.despawns_len) as usize,
                buffers.despawns.len(),
                "one observer's leaves come together"
            );
            buffers.despawns.push(id);
            self.despawns_len += 1;
        }
    }

    /// Forget what the client was sent: everything is spawned again (after a
    /// resume, the client starts from nothing). `seen` is its visible list.
    pub fn resync(&mut self, seen: &mut [TaggedId]) {
        for e in seen {
            e.set_tag(UNSENT);
        }
        self.held_len = 0;
        (self.despawns_at, self.despawns_len) = (0, 0);
        self.fresh = true;
        self.correction = None;
        self.sent_ack = self.ack_seq.wrapping_sub(1);
    }

    /// Writes this tick's spawns, despawns and updates for the client into
    /// `buffers.writer` (cleared by the caller), choosing at most `budget`
    /// spawns and updates. Returns the acknowledgement and correction to put
    /// in the message, and whether they are news. `seen` is the client's visible list; `table[slot]`
    /// is the entity in `slot` this tick; `weight(slot)` is the priority it
    /// gains per tick while it waits.
    pub fn build(
        &mut self,
        seen: &mut [TaggedId],
        budget: usize,
        buffers: &mut ObserverBuffers,
        table: &Replicas,
        weight: impl Fn(u32) -> u32,
    ) -> Reply {
        let (at, len) = (self.despawns_at as usize, self.despawns_len as usize);
        for &e in &buffers.despawns[at..at + len] {
            buffers.writer.despawn(e);
        }
        (self.despawns_at, self.despawns_len) = (0, 0);
        self.fresh = false;

        let (at, len) = (self.held_at as usize, self.held_len as usize);
        if seen.len() > budget {
            // Longer than the budget: send what is pending if it all fits
            // (a crowd mostly standing around), else rank it.
            find_pending(seen, &buffers.held[at..at + len], table, &mut buffers.found);
            if buffers.found.len() > budget {
                self.send_by_priority(seen, budget, buffers, table, weight);
            } else {
                self.send_found(seen, buffers, table);
            }
        } else {
            // Everything pending goes out; an entry held back that is not pending
            // stays held back, with the priority it gained.
            let ObserverBuffers {
                writer,
                held,
                next_held,
                ..
            } = buffers;
            let start = next_held.len();
            writer.entries(seen.len(), |out| {
                if !send_steps(seen, out, table) {
                    return;
                }
                let mut held = held[at..at + len].iter();
                for e in seen.iter_mut() {
                    let (tag, slot) = (e.tag(), slot_of(*e));
                    if tag == STILL || tag == MOVING {
                        continue;
                    }
                    let l = if tag & HELD_BACK != 0 {
                        held.next()
                    } else {
                        None
                    };
                    if pending(tag, l, slot, table) {
                        e.set_tag(send_one(out, *e, l, slot, table));
                    } else if let Some(&l) = l {
                        next_held.push(l);
                    }
                }
            });
            self.held_at = start as u32;
            self.held_len = (next_held.len() - start) as u32;
        }
        let ack_changed = self.sent_ack != self.ack_seq;
        self.sent_ack = self.ack_seq;
        let correction = self.correction.take();
        Reply {
            ack_seq: self.ack_seq,
            news: ack_changed || correction.is_some(),
            correction,
        }
    }

    /// Sends every entry in `buffers.found` (they fit the budget); entries
    /// held back that are not among them stay held back, with the priority they
    /// gained.
    fn send_found(
        &mut self,
        seen: &mut [TaggedId],
        buffers: &mut ObserverBuffers,
        table: &Replicas,
    ) {
        let ObserverBuffers {
            writer,
            found,
            held,
            next_held,
            ..
        } = buffers;
        let old_held = &held[self.held_at as usize..(self.held_at + self.held_len) as usize];
        writer.entries(found.len(), |out| {
            for &(k, l) in found.iter() {
                let e = &mut seen[k as usize];
                let l = old_held.get(l as usize);
                e.set_tag(send_one(out, *e, l, slot_of(*e), table));
            }
        });
        // The held-back entries of those sent leave the table; the rest stay, in order.
        let start = next_held.len();
        let mut sent = found
            .iter()
            .map(|&(_, l)| l)
            .filter(|&l| l != NOT_HELD_BACK);
        let mut next_sent = sent.next();
        for (i, l) in old_held.iter().enumerate() {
            if next_sent == Some(i as u32) {
                next_sent = sent.next();
            } else {
                next_held.push(*l);
            }
        }
        self.held_at = start as u32;
        self.held_len = (next_held.len() - start) as u32;
    }

    /// More may be pending than the budget allows: each pending entry gains
    /// priority, the `budget` highest go out and the rest wait (held back).
    fn send_by_priority(
        &mut self,
        seen: &mut [TaggedId],
        budget: usize,
        buffers: &mut ObserverBuffers,
        table: &Replicas,
        weight: impl Fn(u32) -> u32,
    ) {
        let ObserverBuffers {
            writer,
            keys,
            ranked,
            found,
            held,
            next_held,
            ..
        } = buffers;
        let old_held = &held[self.held_at as usize..(self.held_at + self.held_len) as usize];
        // One key per entry, in list order: zero when nothing is pending, else
        // the priority (with the spawn boost above it) over the entry's place
        // inverted, so keys are distinct, higher goes first and ties go to
        // the earlier entry. The pending ones are in `found` (`find_pending`).
        keys.clear();
        keys.resize(seen.len(), 0);
        ranked.clear();
        for &(k, l) in found.iter() {
            let e = seen[k as usize];
            let tag = e.tag();
            let waited = old_held.get(l as usize).map_or(0, |l| l.priority);
            let priority = waited.saturating_add(weight(slot_of(e) as u32)) as u64;
            let boost = ((tag & STATE == UNSENT) as u64) << 32;
            let key = (boost | priority) << PLACE_BITS | (PLACE_MASK - k as u64);
            keys[k as usize] = key;
            ranked.push(key);
        }
        // The budget-th highest key: it and everything above go out, in list
        // order.
        let last = threshold(ranked, budget);

        let start = next_held.len();
        let mut held = old_held.iter();
        writer.entries(budget, |out| {
            for (e, &key) in seen.iter_mut().zip(keys.iter()) {
                let tag = e.tag();
                let l = if tag & HELD_BACK != 0 {
                    held.next()
                } else {
                    None
                };
                if key == 0 {
                    // Still held back (the client holds what it holds), and still
                    // waiting: its priority is kept for when it moves again.
                    if let Some(&l) = l {
                        next_held.push(l);
                    }
                    continue;
                }
                let slot = slot_of(*e);
                if key >= last {
                    e.set_tag(send_one(out, *e, l, slot, table));
                } else {
                    let unsent = tag & STATE == UNSENT;
                    next_held.push(HeldBack {
                        id: e.id().0 as u32,
                        sent: match l {
                            Some(l) => l.sent,
                            None => table.cold[slot].was,
                        },
                        priority: (key >> PLACE_BITS) as u32,
                        unsent,
                    });
                    e.set_tag(tag | HELD_BACK);
                }
            }
        });
        self.held_at = start as u32;
        self.held_len = (next_held.len() - start) as u32;
    }
}
