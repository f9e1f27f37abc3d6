//! Tick phase 4, interest: the AOI re-decides who sees whom for what moved,
//! and each observer hears of the entities that left its view.
//!
//! Owns turning the AOI's enter and leave events into each observer's known
//! set. May not decide visibility itself (that is `aoi`'s) nor write messages
//! (replication does, from what is noted here).

use super::Zone;
use crate::aoi::AoiEvent;

impl Zone {
    /// Brings the AOI up to date with what moved this tick and notes each
    /// observer's leaves for replication.
    pub(super) fn update_interest(&mut self) {
        self.events.clear();
        self.aoi.update(&mut self.events);
        crate::headroom::reserve_twice_peak(&mut self.events);
        // An entering entity is in its observers' visible lists now, marked
        // unsent; a leaving one needs a despawn.
        for ev in &self.events {
            let AoiEvent::Leave { observer, target } = *ev else {
                continue;
            };
            let Some(oslot) = self.slot_of(observer) else {
                continue;
            };
            let o = &mut self.observers[oslot as usize];
            if o.player.is_some() {
                o.on_leave(target, &mut self.buffers);
            }
        }
    }
}
