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
use crate::protocol::{Correction, EntityKind, QPos, Spawn, Update, WorldUpdateWriter};

/// Added to a spawn's priority so entering entities go before updates.
const SPAWN_BOOST: u64 = 1 << 40;

/// One visible entity, kept small (20 bytes): every client's list is walked
/// every tick, so memory traffic is the cost that matters.
#[derive(Clone, Copy, Debug)]
struct Known {
    /// The entity's slot in the zone; its id is `slot + 1`.
    slot: u32,
    priority: u32,
    /// Position last sent (meaningless while `state` is `UNSENT`).
    sent: QPos,
    state: u8,
}

/// The spawn has not gone out yet.
const UNSENT: u8 = 0;
/// Sent, and the last update did not move it.
const STILL: u8 = 1;
/// The last update moved it: when it stops, one zero update says so, so the
/// client stops extrapolating. After that, standing still is free.
const MOVING: u8 = 2;

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

/// What the zone tells replication about an entity.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub kind: EntityKind,
    pub pos: Vec2,
}

/// Scratch space reused across observers and ticks, so a tick allocates nothing.
#[derive(Debug, Default)]
pub struct Scratch {
    pub writer: WorldUpdateWriter,
    candidates: Vec<(u64, u32)>,
}

/// The per-message fields of a client's update.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub ack_seq: u32,
    pub correction: Option<Correction>,
}

impl Observer {
    /// The entity in `slot` came into view.
    pub fn on_enter(&mut self, slot: u32) {
        if let Err(i) = self.known.binary_search_by_key(&slot, |k| k.slot) {
            self.known.insert(
                i,
                Known {
                    slot,
                    priority: 0,
                    sent: QPos::default(),
                    state: UNSENT,
                },
            );
        }
    }

    /// The entity in `slot` left view (or the zone).
    pub fn on_leave(&mut self, slot: u32) {
        if let Ok(i) = self.known.binary_search_by_key(&slot, |k| k.slot) {
            if self.known.remove(i).state != UNSENT {
                self.despawns.push(id_of(slot));
            }
        }
    }

    /// Forget what the client was sent: everything is spawned again (after a
    /// resume, the client starts from nothing).
    pub fn resync(&mut self) {
        for k in &mut self.known {
            k.state = UNSENT;
            k.priority = 0;
        }
        self.despawns.clear();
        self.correction = None;
        self.sent_ack = self.ack_seq.wrapping_sub(1);
    }

    pub fn known_len(&self) -> usize {
        self.known.len()
    }

    /// Writes this tick's spawns, despawns and updates for the client into
    /// `scratch.writer`, choosing at most `budget` spawns and updates. Returns
    /// the acknowledgement and correction to put in the message, or `None` when
    /// there is nothing to say. `seen(slot)` gives a known entity's kind and
    /// position; `weight` turns a position into priority gained per tick.
    pub fn build(
        &mut self,
        budget: usize,
        scratch: &mut Scratch,
        seen: impl Fn(u32) -> Seen,
        weight: impl Fn(Vec2) -> u32,
    ) -> Option<Reply> {
        let writer = &mut scratch.writer;
        writer.clear();
        for &e in &self.despawns {
            writer.despawn(e);
        }
        self.despawns.clear();

        let candidates = &mut scratch.candidates;
        candidates.clear();
        for (i, k) in self.known.iter().enumerate() {
            let changed = k.state != STILL || k.sent != QPos::from_pos(seen(k.slot).pos);
            if changed {
                candidates.push((0, i as u32));
            }
        }
        // Within budget everything goes out and priorities stay at zero; only
        // when something must wait does priority need computing.
        if candidates.len() > budget {
            for c in candidates.iter_mut() {
                let k = &mut self.known[c.1 as usize];
                k.priority = k.priority.saturating_add(weight(seen(k.slot).pos));
                let boost = if k.state == UNSENT { SPAWN_BOOST } else { 0 };
                c.0 = (k.priority as u64).saturating_add(boost);
            }
            // Highest priority first; ties to the lower entity, so it is deterministic.
            let key = |&(p, i): &(u64, u32)| (std::cmp::Reverse(p), i);
            candidates.select_nth_unstable_by_key(budget, key);
            candidates.truncate(budget);
            candidates.sort_unstable_by_key(|&(_, i)| i);
        }
        for &(_, i) in candidates.iter() {
            let k = &mut self.known[i as usize];
            let now = seen(k.slot);
            let q = QPos::from_pos(now.pos);
            if k.state == UNSENT {
                writer.spawn(&Spawn {
                    entity: id_of(k.slot),
                    kind: now.kind,
                    pos: q,
                });
                k.state = STILL;
            } else {
                let (dx, dy) = (q.x.wrapping_sub(k.sent.x), q.y.wrapping_sub(k.sent.y));
                writer.update(&Update {
                    entity: id_of(k.slot),
                    dx,
                    dy,
                });
                k.state = if (dx, dy) == (0, 0) { STILL } else { MOVING };
            }
            k.sent = q;
            k.priority = 0;
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
