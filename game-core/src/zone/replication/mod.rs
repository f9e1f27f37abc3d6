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
//! Tick phase 5 is [`Zone::replicate`], here. The rest is in four files:
//! `replicas` (each entity's replicated position and step, once per tick),
//! `observer` (what each client was sent, and building its message),
//! `priority` (how entries left out gain priority, and where the budget cuts)
//! and `buffers` (the held-back tables and scratch space observers share).
//!
//! Owns what clients are sent about the entities they see. May not change
//! who sees whom (the AOI's), nor positions, nor anything a client sent.

mod buffers;
mod events;
mod observer;
mod priority;
mod replicas;

pub use buffers::ObserverBuffers;
pub use events::CombatEvents;
pub use observer::Observer;
pub use priority::Weights;
pub use replicas::Replicas;

use super::Zone;
use crate::math::Fixed;
use crate::protocol::MAX_SERVER_PAYLOAD;
use crate::time::Instant;

impl Zone {
    /// Tick phase 5: every entity's replica moves on to this tick, then each
    /// observer with something to hear gets one frame in [`Zone::replies`].
    pub(in crate::zone) fn replicate(&mut self, now: Instant) {
        let budget = self.config.update_budget as usize;
        let weights = {
            let r = Fixed::from_int(self.config.view_radius_m).raw() as i64;
            Weights::new((r * r) as u64)
        };
        // Free slots too: nobody sees them, and a dense loop beats a check.
        for (i, body) in self.bodies.iter().enumerate() {
            self.replicas.advance(i as u32, body.pos);
        }
        self.stats.events_dropped += self.combat.seal(self.slots.len());
        // Observers by id: the observer and AOI tables are read in order.
        let Zone {
            observers,
            bodies,
            replicas,
            buffers,
            replies,
            stats,
            tick,
            combat,
            slots,
            ..
        } = self;
        let any_events = combat.any();
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
            buffers.writer.clear();
            let reply = o.build(seen, budget, buffers, replicas, weight);
            // Its own values when they changed, then the events of itself
            // and of every entity it knows.
            if let Some(f) = slots[i].as_mut().and_then(|e| e.fighter.as_mut()) {
                if f.vitals_dirty {
                    f.vitals_dirty = false;
                    buffers.writer.vitals(f.vitals());
                }
            }
            if any_events {
                stats.events_dropped += add_events(&mut buffers.writer, combat, i, seen);
            }
            if !reply.news && buffers.writer.is_empty() {
                return;
            }
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

/// Appends to a client's message the events about its own entity (in
/// `own`) and about each entity of `seen` it knows, within
/// [`events::MAX_EVENT_BYTES`]; returns how many did not fit.
fn add_events(
    writer: &mut crate::protocol::WorldUpdateWriter,
    combat: &CombatEvents,
    own: usize,
    seen: &[crate::aoi::TaggedId],
) -> u64 {
    let mut dropped = 0;
    let mut add = |slot: usize| {
        let (bytes, n) = combat.of(slot);
        if n == 0 {
            return;
        }
        if writer.events_len() + bytes.len() > events::MAX_EVENT_BYTES {
            dropped += n;
        } else {
            writer.encoded_events(bytes, n);
        }
    };
    add(own);
    for e in seen {
        if observer::known(*e) {
            add(e.id().0 as usize - 1);
        }
    }
    dropped
}
