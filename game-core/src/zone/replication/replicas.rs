//! The replicas table: what every observer of each entity may be sent about it
//! this tick, worked out once per entity per tick (its quantized position now
//! and at the previous tick, the step between them already encoded, and the
//! rhythm of its moves that says when it has stopped).
//!
//! Owns each entity's replicated position and step. May not know who observes
//! an entity nor what any client was sent (that is `observer`'s).

use crate::ids::EntityId;
use crate::math::Vec2;
use crate::protocol::{EncodedUpdate, EntityKind, QPos, Update};

/// Where an entity is now and was at the previous tick, quantized, and the
/// rhythm of its moves (the cold part of [`Replicas`]: spawns, clients held
/// back and the once-a-tick [`Replicas::advance`] read it). The three counts
/// fill what would be padding.
#[derive(Clone, Copy, Debug)]
pub(super) struct Replica {
    pub(super) kind: EntityKind,
    /// What a spawn carries beside the position: its look (a monster's
    /// kind), level and health bar.
    pub(super) look: u16,
    pub(super) level: u16,
    pub(super) health: u8,
    pub(super) now: QPos,
    pub(super) was: QPos,
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
pub(super) type Step = EncodedUpdate;

/// The step of an entity between two moves of its rhythm: the zero word, no
/// bytes and no move (a real step without bytes is a long jump, which moves).
#[inline]
pub(super) fn coasting() -> Step {
    Step::default()
}

/// The entity has stopped: it has not moved for longer than its rhythm, and a
/// client told it moves must hear so (one zero update). Not while coasting.
#[inline]
pub(super) fn stopped(step: Step) -> bool {
    !step.moves() && step.fits()
}

/// What every observer of each entity may be sent about it this tick, worked
/// out once per entity per tick, not once per observer. By slot.
#[derive(Clone, Debug, Default)]
pub struct Replicas {
    pub(super) hot: Vec<Step>,
    pub(super) cold: Vec<Replica>,
}

impl Replicas {
    /// The entity in `slot` (one past the last, or a free one) is new at `pos`.
    pub fn set(&mut self, slot: u32, kind: EntityKind, pos: Vec2) {
        let q = QPos::from_pos(pos);
        let r = Replica {
            kind,
            look: 0,
            level: 0,
            health: 255,
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

    /// A fighter's look and level, for its spawns.
    pub fn set_look(&mut self, slot: u32, look: u16, level: u16) {
        let r = &mut self.cold[slot as usize];
        (r.look, r.level) = (look, level);
    }

    pub fn set_level(&mut self, slot: u32, level: u16) {
        self.cold[slot as usize].level = level;
    }

    pub fn set_health(&mut self, slot: u32, health: u8) {
        self.cold[slot as usize].health = health;
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
