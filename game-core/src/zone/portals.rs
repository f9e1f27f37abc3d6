//! Tick phase 3, portals: players standing on a portal are noted as a
//! [`Transfer`]; the node carries them to the target map after the tick.
//!
//! Owns noticing portal steps. May not move or despawn anyone: leaving a zone
//! is the node's decision, between ticks.

use super::{Transfer, Zone};

impl Zone {
    /// Notes every player standing on a portal, for the node to move after the
    /// tick ([`Zone::take_transfers`]).
    pub(super) fn find_portal_steps(&mut self) {
        if self.map.portals().is_empty() {
            return;
        }
        for (e, body) in self.slots.iter().zip(&self.bodies) {
            let Some(e) = e else { continue };
            let Some(p) = &e.player else { continue };
            if let Some(portal) = self.map.portal_at(body.pos) {
                self.transfers.push(Transfer {
                    player: p.player,
                    entity: e.id,
                    target_map: portal.target_map.clone(),
                    target_cell: portal.target_cell,
                });
            }
        }
    }
}
