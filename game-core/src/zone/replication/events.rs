//! This tick's combat events, gathered as the tick runs, then sorted by the
//! entity they are about and encoded once each, so every client that sees
//! an entity gets a copy of the same bytes (as with movement steps).
//!
//! Bounded: at most [`MAX_EVENTS_PER_ENTITY`] per entity per tick, and at
//! most [`MAX_EVENT_BYTES`] of events in one client's message; the rest are
//! counted and dropped (hits are cosmetic; health bars are absolute, so the
//! next change puts a client right).
//!
//! Owns the events' order and encoding. May not decide who hears them (the
//! replication phase does, from the AOI's lists).

use crate::headroom::reserve_twice_peak;
use crate::protocol::{encode_event, CombatEvent};

pub const MAX_EVENTS_PER_ENTITY: usize = 16;
pub const MAX_EVENT_BYTES: usize = 32 * 1024;

#[derive(Debug, Default)]
pub struct CombatEvents {
    /// (subject's slot, order pushed, event), this tick.
    list: Vec<(u32, u32, CombatEvent)>,
    /// After [`CombatEvents::seal`]: every subject's events encoded, one run
    /// each, and where each slot's run is (`(start, end, count)`, zero for
    /// none).
    bytes: Vec<u8>,
    runs: Vec<(u32, u32, u32)>,
    touched: Vec<u32>,
    dropped: u64,
}

impl CombatEvents {
    pub fn push(&mut self, e: CombatEvent) {
        let slot = (e.subject().0 - 1) as u32;
        let order = self.list.len() as u32;
        self.list.push((slot, order, e));
    }

    /// Whether any event happened this tick.
    pub fn any(&self) -> bool {
        !self.touched.is_empty()
    }

    /// The events of this tick, in the order they happened (for tests).
    pub fn iter(&self) -> impl Iterator<Item = &CombatEvent> {
        self.list.iter().map(|(_, _, e)| e)
    }

    /// Sorts and encodes this tick's events by subject, for `slots` slots.
    /// Returns how many were dropped past the per-entity bound.
    pub fn seal(&mut self, slots: usize) -> u64 {
        if self.runs.len() < slots {
            self.runs.resize(slots, (0, 0, 0));
        }
        self.list.sort_unstable_by_key(|&(s, o, _)| (s, o));
        let mut dropped = 0;
        let mut i = 0;
        while i < self.list.len() {
            let slot = self.list[i].0;
            let start = self.bytes.len() as u32;
            let mut n = 0u32;
            while i < self.list.len() && self.list[i].0 == slot {
                if (n as usize) < MAX_EVENTS_PER_ENTITY {
                    encode_event(&self.list[i].2, &mut self.bytes);
                    n += 1;
                } else {
                    dropped += 1;
                }
                i += 1;
            }
            if let Some(run) = self.runs.get_mut(slot as usize) {
                *run = (start, self.bytes.len() as u32, n);
                self.touched.push(slot);
            }
        }
        self.dropped += dropped;
        dropped
    }

    /// The encoded events about the entity in `slot`, and how many.
    #[inline]
    pub fn of(&self, slot: usize) -> (&[u8], u64) {
        match self.runs.get(slot) {
            Some(&(start, end, n)) if n > 0 => {
                (&self.bytes[start as usize..end as usize], n as u64)
            }
            _ => (&[], 0),
        }
    }

    /// Forgets this tick's events (keeping the buffers' room).
    pub fn clear(&mut self) {
        for &s in &self.touched {
            self.runs[s as usize] = (0, 0, 0);
        }
        reserve_twice_peak(&mut self.list);
        reserve_twice_peak(&mut self.bytes);
        reserve_twice_peak(&mut self.touched);
        self.list.clear();
        self.bytes.clear();
        self.touched.clear();
    }
}
