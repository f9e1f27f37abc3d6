//! Replication: what one client knows of the zone, and the one batched message
//! per tick that brings it up to date.
//!
//! For each visible entity the observer remembers the quantized position last
//! sent (the stream is ordered and reliable, so that is a safe baseline) and
//! sends only the difference, only when it changed: standing still costs nothing
//! on the wire. When more entities changed than the per-tick budget allows, each
//! one left out gains priority (more the nearer it is) and the highest priorities
//! go first, so the nearest are freshest and none starves.

use crate::ids::EntityId;
use crate::math::Vec2;
use crate::protocol::{
    Correction, EncodedUpdate, EntityKind, QPos, Spawn, Update, WorldUpdateWriter,
};
use crate::room::HighWater;

/// Added to a spawn's priority so entering entities go before updates.
const SPAWN_BOOST: u64 = 1 << 40;

/// One visible entity, kept small (16 bytes): every client's list is walked
/// every tick, so memory traffic is the cost that matters.
#[derive(Clone, Copy, Debug)]
struct Known {
    /// Position last sent (meaningless while the state is `UNSENT`).
    sent: QPos,
    /// The entity's slot in the zone (its id is `slot + 1`) in the low 30 bits,
    /// the state in the top two.
    tag: u32,
    priority: u32,
}

/// The spawn has not gone out yet.
const UNSENT: u32 = 0;
/// Sent, and the last update did not move it.
const STILL: u32 = 1;
/// The last update moved it: when it stops, one zero update says so, so the
/// client stops extrapolating. After that, standing still is free.
const MOVING: u32 = 2;

const SLOT_BITS: u32 = 30;

impl Known {
    #[inline]
    fn slot(&self) -> u32 {
        self.tag & ((1 << SLOT_BITS) - 1)
    }

    #[inline]
    fn state(&self) -> u32 {
        self.tag >> SLOT_BITS
    }

    #[inline]
    fn set_state(&mut self, state: u32) {
        self.tag = self.slot() | (state << SLOT_BITS);
    }
}

fn id_of(slot: u32) -> EntityId {
    EntityId(slot as u64 + 1)
}

/// One client's view of the zone.
#[derive(Clone, Debug, Default)]
pub struct Observer {
    /// Sorted by entity id.
    known: Vec<Known>,
    despawns: Vec<EntityId>,
    pub(super) ack_seq: u32,
    sent_ack: u32,
    pub(super) correction: Option<Correction>,
}

/// What every observer of an entity may be sent about it this tick, worked out
/// once per entity per tick, not once per observer.
#[derive(Clone, Copy, Debug)]
pub struct Replica {
    pub kind: EntityKind,
    /// The quantized position now...
    now: QPos,
    /// ...and at the previous tick.
    was: QPos,
    /// The update from `was` to `now`, encoded: what an observer that was sent
    /// `was` gets (when it fits the short form).
    step: Option<EncodedUpdate>,
}

impl Replica {
    pub fn new(kind: EntityKind, pos: Vec2) -> Self {
        let q = QPos::from_pos(pos);
        Replica {
            kind,
            now: q,
            was: q,
            step: None,
        }
    }

    /// Moves on to this tick: the entity in `slot` is at `pos`.
    pub fn advance(&mut self, slot: u32, pos: Vec2) {
        self.was = self.now;
        self.now = QPos::from_pos(pos);
        self.step = EncodedUpdate::of(&Update {
            entity: id_of(slot),
            dx: self.now.x.wrapping_sub(self.was.x),
            dy: self.now.y.wrapping_sub(self.was.y),
        });
    }
}

/// Scratch space reused across observers and ticks, so a tick allocates nothing.
#[derive(Debug, Default)]
pub struct Scratch {
    pub writer: WorldUpdateWriter,
    /// `(priority, index)` when they do not all fit the budget.
    ranked: Vec<(u64, u32)>,
    /// The longest known list and the most despawns in one tick so far.
    widest: HighWater,
    most_despawns: HighWater,
}

/// Writes the spawn or update that brings `k` up to date with `r`.
#[inline(always)]
fn send_one(writer: &mut WorldUpdateWriter, k: &mut Known, r: &Replica) {
    if k.state() == UNSENT {
        writer.spawn(&Spawn {
            entity: id_of(k.slot()),
            kind: r.kind,
            pos: r.now,
        });
        k.set_state(STILL);
    } else {
        match &r.step {
            // The usual case: the client has last tick's position.
            Some(step) if k.sent == r.was => writer.encoded_update(step),
            _ => writer.update(&Update {
                entity: id_of(k.slot()),
                dx: r.now.x.wrapping_sub(k.sent.x),
                dy: r.now.y.wrapping_sub(k.sent.y),
            }),
        }
        k.set_state(if k.sent == r.now { STILL } else { MOVING });
    }
    k.sent = r.now;
    k.priority = 0;
}

/// The per-message fields of a client's update.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub ack_seq: u32,
    pub correction: Option<Correction>,
}

impl Observer {
    /// The entity in `slot` came into view.
    pub fn on_enter(&mut self, slot: u32, scratch: &mut Scratch) {
        debug_assert!(slot < 1 << SLOT_BITS);
        if let Err(i) = self.known.binary_search_by_key(&slot, Known::slot) {
            scratch.widest.make_room(&mut self.known);
            self.known.insert(
                i,
                Known {
                    sent: QPos::default(),
                    tag: slot | (UNSENT << SLOT_BITS),
                    priority: 0,
                },
            );
            scratch.widest.note(self.known.len());
        }
    }

    /// The entity in `slot` left view (or the zone).
    pub fn on_leave(&mut self, slot: u32, scratch: &mut Scratch) {
        if let Ok(i) = self.known.binary_search_by_key(&slot, Known::slot) {
            if self.known.remove(i).state() != UNSENT {
                scratch.most_despawns.make_room(&mut self.despawns);
                self.despawns.push(id_of(slot));
                scratch.most_despawns.note(self.despawns.len());
            }
        }
    }

    /// Forget what the client was sent: everything is spawned again (after a
    /// resume, the client starts from nothing).
    pub fn resync(&mut self) {
        for k in &mut self.known {
            k.set_state(UNSENT);
            k.priority = 0;
        }
        self.despawns.clear();
        self.correction = None;
        self.sent_ack = self.ack_seq.wrapping_sub(1);
    }

    /// Called after a tick's enters: when known lists reached a new size, each
    /// observer's grows to it at once (see `crate::room`).
    pub fn top_up_all<'a>(
        observers: impl Iterator<Item = &'a mut Observer>,
        scratch: &mut Scratch,
    ) {
        if scratch.widest.rose() {
            observers.for_each(|o| scratch.widest.top_up(&mut o.known));
        }
    }

    pub fn known_len(&self) -> usize {
        self.known.len()
    }

    /// Writes this tick's spawns, despawns and updates for the client into
    /// `scratch.writer`, choosing at most `budget` spawns and updates. Returns
    /// the acknowledgement and correction to put in the message, or `None` when
    /// there is nothing to say. `table[slot]` is the entity in `slot` this tick;
    /// `weight(slot)` is the priority it gains per tick while it waits.
    pub fn build(
        &mut self,
        budget: usize,
        scratch: &mut Scratch,
        table: &[Replica],
        weight: impl Fn(u32) -> u32,
    ) -> Option<Reply> {
        let writer = &mut scratch.writer;
        writer.clear();
        for &e in &self.despawns {
            writer.despawn(e);
        }
        self.despawns.clear();

        // Whether an entry has something to send: it was never sent, it moved,
        // or it stopped (one zero update says so).
        let pending = |k: &Known| k.state() != STILL || k.sent != table[k.slot() as usize].now;
        let count = self.known.iter().filter(|k| pending(k)).count();
        if count <= budget {
            // Everything goes out and priorities stay at zero.
            for k in self.known.iter_mut() {
                if pending(k) {
                    send_one(writer, k, &table[k.slot() as usize]);
                }
            }
        } else {
            // Only when something must wait does priority need computing.
            let ranked = &mut scratch.ranked;
            ranked.clear();
            for (i, k) in self.known.iter_mut().enumerate() {
                if pending(k) {
                    k.priority = k.priority.saturating_add(weight(k.slot()));
                    let boost = if k.state() == UNSENT { SPAWN_BOOST } else { 0 };
                    ranked.push(((k.priority as u64).saturating_add(boost), i as u32));
                }
            }
            // Highest priority first; ties to the lower entity, so it is deterministic.
            let key = |&(p, i): &(u64, u32)| (std::cmp::Reverse(p), i);
            ranked.select_nth_unstable_by_key(budget, key);
            let chosen = &mut ranked[..budget];
            chosen.sort_unstable_by_key(|&(_, i)| i);
            for &(_, i) in chosen.iter() {
                let k = &mut self.known[i as usize];
                send_one(writer, k, &table[k.slot() as usize]);
            }
        }
        let ack_changed = self.sent_ack != self.ack_seq;
        self.sent_ack = self.ack_seq;
        let correction = self.correction.take();
        (ack_changed || correction.is_some() || !writer.is_empty()).then_some(Reply {
            ack_seq: self.ack_seq,
            correction,
        })
    }
}
