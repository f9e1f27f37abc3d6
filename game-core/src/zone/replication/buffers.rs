//! The buffers every observer of a zone shares: the held-back tables (what a
//! client holds of each entity the budget left out, and the priority it
//! gained), this tick's despawns, and the space a message is built and ranked
//! in.
//!
//! Owns their layout and the swap at the end of a tick. May not decide what
//! goes in them (`observer` does).

use crate::headroom::reserve_twice_peak;
use crate::ids::EntityId;
use crate::protocol::{QPos, WorldUpdateWriter};

/// A visible entry the budget held back: what the client holds of the entity
/// and the priority it gained while it waited.
#[derive(Clone, Copy, Debug)]
pub(super) struct HeldBack {
    /// The entity's id.
    pub(super) id: u32,
    /// The position last sent (meaningless when `unsent`).
    pub(super) sent: QPos,
    pub(super) priority: u32,
    pub(super) unsent: bool,
}

/// No entry is held back (in `Found` places).
pub(super) const NOT_HELD_BACK: u32 = u32::MAX;

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
    pub(super) keys: Vec<u64>,
    pub(super) ranked: Vec<u64>,
    /// The pending entries of one observer's list when it is longer than the
    /// budget: (place in the list, place of its held-back entry or
    /// `NOT_HELD_BACK`).
    pub(super) found: Vec<(u32, u32)>,
    /// Every observer's held-back table, one after another, as of the last
    /// tick; and the tables being written by this one. Every observer is built
    /// once per tick, so [`ObserverBuffers::end_tick`] swaps them: one pair of
    /// buffers for the zone, which grows only when the zone's total does.
    pub(super) held: Vec<HeldBack>,
    pub(super) next_held: Vec<HeldBack>,
    /// This tick's despawns for every observer, one run each: the AOI sorts
    /// its events by observer, so each observer's leaves come together.
    pub(super) despawns: Vec<EntityId>,
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
