//! The world's tick, as the node runs it: every zone with players runs its
//! tick, each client's frame goes to its session, then players who stepped on
//! a portal move zones.
//!
//! The zones decide everything in the world; this file only carries their
//! outputs (frames, transfers) to sessions and back into `routing.rs`.

use super::Node;
use crate::ids::{ConnId, ZoneId};
use crate::time::Instant;
use crate::zone::{Progress, Refusal, Transfer};

/// Lists the tick fills and empties, kept so steady ticks allocate nothing.
#[derive(Debug, Default)]
pub(super) struct TickBuffers {
    /// Connections a frame closed (slow readers).
    closed: Vec<ConnId>,
    /// Portal steps to carry out.
    transfers: Vec<Transfer>,
    /// Skill refusals and experience gains to carry (`combat.rs`).
    pub(super) refusals: Vec<Refusal>,
    pub(super) progress: Vec<Progress>,
}

/// Told when each zone's tick starts and ends, so a driver can time zones
/// with its own clock (the node reads none). Both calls come in pairs, zone by
/// zone, inside [`Node::handle_timeout_observed`].
pub trait TickObserver {
    fn zone_tick_started(&mut self, zone: ZoneId);
    fn zone_tick_finished(&mut self, zone: ZoneId);
}

/// Observes nothing: what [`Node::handle_timeout`] uses.
impl TickObserver for () {
    fn zone_tick_started(&mut self, _zone: ZoneId) {}
    fn zone_tick_finished(&mut self, _zone: ZoneId) {}
}

impl Node {
    /// One world tick, due at `due`, run at `now`.
    pub(super) fn tick(&mut self, due: Instant, now: Instant, observer: &mut impl TickObserver) {
        self.stats.ticks += 1;
        // Sessions a frame closed (a slow reader) need the full bookkeeping
        // after the tick; the rest only need flushing (sending does not move
        // a session's deadlines).
        let mut closed: Vec<ConnId> = std::mem::take(&mut self.tick_buffers.closed);
        {
            let Node {
                world,
                connections,
                players,
                outbox,
                ..
            } = self;
            for zone in world.zones_mut() {
                if zone.player_count() == 0 {
                    continue;
                }
                let id = zone.id();
                observer.zone_tick_started(id);
                zone.run_tick(now);
                for (player, frame) in zone.replies().iter() {
                    let Some(conn) = players.get(player).and_then(|p| p.conn) else {
                        continue;
                    };
                    let Some(c) = connections.get_mut(&conn) else {
                        continue;
                    };
                    c.session.send_encoded(now, frame);
                    if c.session.is_closed() {
                        closed.push(conn);
                    } else if !c.queued_for_flush {
                        c.queued_for_flush = true;
                        outbox.to_flush.push_back(conn);
                    }
                }
                observer.zone_tick_finished(id);
            }
        }
        for conn in closed.drain(..) {
            self.session_changed(now, conn);
        }
        self.tick_buffers.closed = closed;
        self.carry_combat_outcomes(now);
        self.economy_tick(now);
        self.deliver_social(now);
        self.raid_tick(now);

        let mut transfers = std::mem::take(&mut self.tick_buffers.transfers);
        for zone in self.world.zones_mut() {
            transfers.extend(zone.take_transfers());
        }
        for t in transfers.drain(..) {
            let target = self
                .world
                .map(&t.target_map)
                .map(|m| m.cell_center(t.target_cell));
            if self
                .relocate(now, t.player, &t.target_map, None, target)
                .is_ok()
            {
                self.player_changed(now, t.player);
            }
        }
        self.tick_buffers.transfers = transfers;

        if self.world.schedule_next_tick(due, now) {
            self.stats.tick_overruns += 1;
        }
    }
}
