//! Replication: what one client knows of the zone, and the one batched message
//! per tick that brings it up to date.
//!
//! For each visible entity the client is sent the difference from the quantized
//! position it was sent last (the stream is ordered and reliable, so that is a
//! safe baseline), only when it changed: standing still costs nothing on the
//! wire. Usually what it was sent last is the entity's position of the previous
//! tick, so the step each entity took is encoded once per tick and copied into
//! every message; what each client was sent about each entity fits in the few
//! bits the AOI keeps beside its visible entries, and only entries the budget
//! left behind keep a position of their own. When more entities changed than
//! the per-tick budget allows, each one left out gains priority (more the
//! nearer it is) and the highest priorities go first, so the nearest are
//! freshest and none starves.
//!
//! A client told an entity moves is told once when it stops (a zero update),
//! but not before it has gone without a move for longer than its rhythm: a
//! client sending 10 Hz input moves its character every other tick, and
//! between two of its moves it is coasting, not stopped (see
//! [`Replicas::advance`]).
//!
//! Tick phase 5 is [`Zone::replicate`], at the end of this file.

use super::Zone;
use crate::aoi::TaggedId;
use crate::headroom::reserve_twice_peak;
use crate::ids::{EntityId, PlayerId};
use crate::math::{Fixed, Vec2};
use crate::protocol::{
    Correction, EncodedUpdate, EntityKind, Entries, QPos, Spawn, Update, WorldUpdateWriter,
    MAX_SERVER_PAYLOAD,
};
use crate::time::Instant;

/// A ranking key is `(spawn << 32 | priority) << PLACE_BITS | inverted place`:
/// spawns go before updates, then higher priority, then earlier entries.
const PLACE_BITS: u32 = 24;
const PLACE_MASK: u64 = (1 << PLACE_BITS) - 1;

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

/// A visible entry the budget held back: what the client holds of the entity
/// and the priority it gained while it waited.
#[derive(Clone, Copy, Debug)]
struct HeldBack {
    /// The entity's id.
    id: u32,
    /// The position last sent (meaningless when `unsent`).
    sent: QPos,
    priority: u32,
    unsent: bool,
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
    pub(super) player: Option<PlayerId>,
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
    pub(super) ack_seq: u32,
    sent_ack: u32,
    pub(super) correction: Option<Correction>,
}

/// Where an entity is now and was at the previous tick, quantized, and the
/// rhythm of its moves (the cold part of [`Replicas`]: spawns, clients held
/// back and the once-a-tick [`Replicas::advance`] read it). The three counts
/// fill what would be padding.
#[derive(Clone, Copy, Debug)]
struct Replica {
    kind: EntityKind,
    now: QPos,
    was: QPos,
    /// Ticks since its quantized position last changed (saturating).
    still: u8,
    /// Ticks between its last two moves, and the two before those: its input
    /// rhythm (0: unknown, the first move after a pause longer than
    /// [`MAX_RHYTHM_TICKS`]).
    last_gap: u8,
    gap_before: u8,
}

/// Gaps between moves are a rhythm up to this many ticks (input at 5 Hz or
/// faster at a 20 Hz tick); a longer gap was a pause.
const MAX_RHYTHM_TICKS: u8 = 4;
/// The rhythm of an entity whose gaps are unknown (its first moves after a
/// pause): a client sending 10 Hz input at a 20 Hz tick.
const UNKNOWN_RHYTHM_TICKS: u8 = 2;

/// The hot part: all a client holding the previous position needs, the step
/// from `was` to `now` encoded (when it fits the short form) with whether it
/// moved. One word, so the table of them stays in cache. Between two moves of
/// its rhythm an entity has no step ([`coasting`]): it is still moving, so a
/// client told it moves is sent nothing; once it has stopped, its step is the
/// zero update, which always fits (ids are below 2^24).
type Step = EncodedUpdate;

/// The step of an entity between two moves of its rhythm: the zero word, no
/// bytes and no move (a real step without bytes is a long jump, which moves).
#[inline]
fn coasting() -> Step {
    Step::default()
}

/// The entity has stopped: it has not moved for longer than its rhythm, and a
/// client told it moves must hear so (one zero update). Not while coasting.
#[inline]
fn stopped(step: Step) -> bool {
    !step.moves() && step.fits()
}

/// What every observer of each entity may be sent about it this tick, worked
/// out once per entity per tick, not once per observer. By slot.
#[derive(Clone, Debug, Default)]
pub struct Replicas {
    hot: Vec<Step>,
    cold: Vec<Replica>,
}

impl Replicas {
    /// The entity in `slot` (one past the last, or a free one) is new at `pos`.
    pub fn set(&mut self, slot: u32, kind: EntityKind, pos: Vec2) {
        let q = QPos::from_pos(pos);
        let r = Replica {
            kind,
            now: q,
            was: q,
            still: u8::MAX,
            last_gap: 0,
            gap_before: 0,
        };
        let s = slot as usize;
        if s == self.cold.len() {
            self.cold.push(r);
            self.hot.push(coasting());
        } else {
            self.cold[s] = r;
            self.hot[s] = coasting();
        }
    }

    pub fn kind(&self, slot: u32) -> EntityKind {
        self.cold[slot as usize].kind
    }

    /// Moves on to this tick: the entity in `slot` is at `pos`. An entity
    /// that did not move is still moving (coasting) until it has gone without
    /// a move for longer than the longer of the gaps between its last three
    /// moves, its rhythm (a client sending 10 Hz input moves its character
    /// every other tick at 20 Hz): the stop is announced one tick after the
    /// move that did not come was due. Any sooner and a 10 Hz mover would
    /// seem to stop between its moves; any later and a client rendering
    /// 100 ms behind would draw a 20 Hz mover past where it stopped, then
    /// pull it back.
    pub fn advance(&mut self, slot: u32, pos: Vec2) {
        let r = &mut self.cold[slot as usize];
        r.was = r.now;
        r.now = QPos::from_pos(pos);
        let (dx, dy) = (r.now.x.wrapping_sub(r.was.x), r.now.y.wrapping_sub(r.was.y));
        let moved = dx != 0 || dy != 0;
        if moved {
            let gap = r.still.saturating_add(1);
            r.gap_before = r.last_gap;
            r.last_gap = if gap <= MAX_RHYTHM_TICKS { gap } else { 0 };
            r.still = 0;
        } else {
            r.still = r.still.saturating_add(1);
        }
        let rhythm = match r.last_gap.max(r.gap_before) {
            0 => UNKNOWN_RHYTHM_TICKS,
            gap => gap,
        };
        self.hot[slot as usize] = if moved || r.still > rhythm {
            let step = EncodedUpdate::of(&Update {
                entity: EntityId(slot as u64 + 1),
                dx,
                dy,
            });
            debug_assert!(moved || stopped(step), "a zero step always fits");
            step
        } else {
            coasting()
        };
    }
}

/// The buffers every observer of a zone shares: their held-back tables and
/// this tick's despawns, each observer's a run of one buffer, and the space
/// one observer's message is built and ranked in. Reused across observers and
/// ticks, so a tick allocates nothing.
#[derive(Debug, Default)]
pub struct ObserverBuffers {
    pub writer: WorldUpdateWriter,
    /// Ranking keys of one observer's entries, in list order (zero: nothing
    /// pending), when they may not all fit the budget; and the non-zero ones,
    /// to select from.
    keys: Vec<u64>,
    ranked: Vec<u64>,
    /// The pending entries of one observer's list when it is longer than the
    /// budget: (place in the list, place of its held-back entry or
    /// `NOT_HELD_BACK`).
    found: Vec<(u32, u32)>,
    /// Every observer's held-back table, one after another, as of the last
    /// tick; and the tables being written by this one. Every observer is built
    /// once per tick, so [`ObserverBuffers::end_tick`] swaps them: one pair of
    /// buffers for the zone, which grows only when the zone's total does.
    held: Vec<HeldBack>,
    next_held: Vec<HeldBack>,
    /// This tick's despawns for every observer, one run each: the AOI sorts
    /// its events by observer, so each observer's leaves come together.
    despawns: Vec<EntityId>,
}

impl ObserverBuffers {
    /// After every observer was built: this tick's held-back tables become
    /// current.
    pub fn end_tick(&mut self) {
        reserve_twice_peak(&mut self.next_held);
        reserve_twice_peak(&mut self.despawns);
        std::mem::swap(&mut self.held, &mut self.next_held);
        self.next_held.clear();
        self.despawns.clear();
    }
}

/// The per-message fields of a client's update.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub ack_seq: u32,
    pub correction: Option<Correction>,
}

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

/// A step that did not fit the short form (a long jump).
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

/// No entry is held back (in `Found` places).
const NOT_HELD_BACK: u32 = u32::MAX;

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

/// Fewer lowest keys than this to leave out are found by insertion, not by
/// a general selection.
const FEW: usize = 16;

/// The lowest key of the `budget` highest of `keys` (distinct, none zero), or 1
/// when they all fit.
fn threshold(keys: &mut [u64], budget: usize) -> u64 {
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
    /// `buffers.writer`, choosing at most `budget` spawns and updates. Returns
    /// the acknowledgement and correction to put in the message, or `None` when
    /// there is nothing to say. `seen` is the client's visible list; `table[slot]`
    /// is the entity in `slot` this tick; `weight(slot)` is the priority it
    /// gains per tick while it waits.
    pub fn build(
        &mut self,
        seen: &mut [TaggedId],
        budget: usize,
        buffers: &mut ObserverBuffers,
        table: &Replicas,
        weight: impl Fn(u32) -> u32,
    ) -> Option<Reply> {
        buffers.writer.clear();
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
        let writer = &buffers.writer;
        let ack_changed = self.sent_ack != self.ack_seq;
        self.sent_ack = self.ack_seq;
        let correction = self.correction.take();
        (ack_changed || correction.is_some() || !writer.is_empty()).then_some(Reply {
            ack_seq: self.ack_seq,
            correction,
        })
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

impl Zone {
    /// Tick phase 5: every entity's replica moves on to this tick, then each
    /// observer with something to hear gets one frame in [`Zone::replies`].
    pub(super) fn replicate(&mut self, now: Instant) {
        let budget = self.config.update_budget as usize;
        let weights = {
            let r = Fixed::from_int(self.config.view_radius_m).raw() as i64;
            Weights::new((r * r) as u64)
        };
        // Free slots too: nobody sees them, and a dense loop beats a check.
        for (i, body) in self.bodies.iter().enumerate() {
            self.replicas.advance(i as u32, body.pos);
        }
        // Observers by id: the observer and AOI tables are read in order.
        let Zone {
            observers,
            bodies,
            replicas,
            buffers,
            replies,
            stats,
            tick,
            ..
        } = self;
        self.aoi.each_visible_mut(|id, seen| {
            let i = (id.0 - 1) as usize;
            let o = &mut observers[i];
            let Some(player) = o.player else {
                return;
            };
            let observer_pos = bodies[i].pos;
            // Nearer entities gain priority faster (see `Weights`).
            let weight = |slot: u32| {
                weights.of(bodies[slot as usize].pos.distance_squared_raw(observer_pos))
            };
            let Some(reply) = o.build(seen, budget, buffers, replicas, weight) else {
                return;
            };
            let start = replies.bytes.len();
            buffers.writer.finish(
                *tick,
                now.as_micros(),
                reply.ack_seq,
                reply.correction.as_ref(),
                &mut replies.bytes,
            );
            let len = replies.bytes.len() - start;
            // The budget bounds the message far below the frame limit.
            debug_assert!(len <= MAX_SERVER_PAYLOAD as usize);
            stats.messages_out += 1;
            stats.bytes_out += len as u64;
            replies.frames.push((player, replies.bytes.len() as u32));
        });
        self.buffers.end_tick();
    }
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
