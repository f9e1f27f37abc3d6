//! Area of interest: which entities see which, on a uniform grid, with hysteresis.
//!
//! Owns: one position, one sorted visible list and one near list per entity, and
//! the grid.
//! Entity ids index its tables directly (ids are meant to be dense, like a zone's
//! slot numbers), so a lookup is an index, not a search. Each visible entry is a
//! [`TaggedId`]: the id and eight bits the caller owns ([`TaggedId::tag`]): a
//! zone keeps what it sent each client about each entity there, so it walks one
//! list, not two.
//! May not touch: anything else. It knows no zone, session or protocol; the caller
//! feeds positions in and takes [`AoiEvent`]s out, and no clock, randomness or IO.
//!
//! Algorithm: near lists (Verlet lists, from molecular dynamics) over a dense
//! grid. Each entity keeps, beside its visible list, a near list: everyone
//! that was within `radius + skin` of it when the list was made, where the skin
//! is at least the margin (so every visible pair is near). An entity's list is
//! made again once it drifts from where it was made by more than its limit,
//! which is at most a third of the skin. Then a pair that is not near stays
//! beyond the radius: the later of the two to make its list found the other
//! beyond `radius + skin`; since then that one moved at most a third of the
//! skin, and the other at most two thirds (a third each side of where its own
//! list was made). So only near
//! pairs can enter, and every visible pair is near, so only near pairs can
//! leave.
//! `insert`/`move_to` only note the entity's position and cell and mark it
//! changed. `update` drops removed entities (a `Leave` to each observer), then
//! sorts every live entity into one array by cell (a counting sort), then makes
//! the near list again for each changed entity that is new or drifted past its
//! limit (a scan of the 3x3 cells around it: cells are as wide as
//! `radius + skin`), then re-decides each changed entity's near pairs: enter at
//! `d <= radius`, leave at `d > radius + margin`.
//! Near lists are symmetric, and deciding a pair is idempotent, so a pair of two
//! changed entities is decided once, by the lower slot. Lists live in arenas
//! laid out by slot, and changed entities are taken in slot order, so the
//! lists are read forwards. Cost follows the changed entities and their
//! neighbours, never all pairs; nothing is allocated once buffers have grown
//! (the list arenas keep room to double between compactions).
//!
//! Layout: `grid` holds the cells (the counting sort of entities by cell and
//! the scan of the cells around a point); `arena` the lists (4-byte
//! [`TaggedId`] entries laid out by slot, their growth and compaction); `near`
//! the near lists and the visibility decisions made from them. This file keeps
//! the public [`Aoi`] API and `update`, which runs those phases in order.

mod arena;
mod grid;
mod near;

pub use arena::{TaggedId, MAX_ID};

use crate::ids::EntityId;
use crate::math::{Fixed, Vec2};
use arena::ListArena;
use grid::Grid;
use near::skin;

/// Visibility radius and hysteresis margin (both in metres, non-negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AoiConfig {
    /// A pair that does not see each other starts to at `d <= radius`.
    pub radius: Fixed,
    /// A pair that sees each other stops only at `d > radius + margin`.
    pub margin: Fixed,
}

/// A change of visibility, seen from `observer`.
///
/// [`Aoi::update`] emits them in [`AoiEvent::sort_key`] order: by observer, then
/// `Leave` before `Enter`, then by target. The derived `Ord` (kind first) is not
/// that order; it exists so events can be put in sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AoiEvent {
    /// `observer` no longer sees `target`.
    Leave {
        observer: EntityId,
        target: EntityId,
    },
    /// `observer` now sees `target`.
    Enter {
        observer: EntityId,
        target: EntityId,
    },
}

impl AoiEvent {
    pub fn observer(self) -> EntityId {
        match self {
            AoiEvent::Leave { observer, .. } | AoiEvent::Enter { observer, .. } => observer,
        }
    }

    pub fn target(self) -> EntityId {
        match self {
            AoiEvent::Leave { target, .. } | AoiEvent::Enter { target, .. } => target,
        }
    }

    /// The emission order: `(observer, kind, target)` with `Leave` (0) before
    /// `Enter` (1), so a consumer replaying one observer's events never holds a
    /// stale entry next to a fresh one.
    pub fn sort_key(self) -> (EntityId, u8, EntityId) {
        let kind = match self {
            AoiEvent::Leave { .. } => 0,
            AoiEvent::Enter { .. } => 1,
        };
        (self.observer(), kind, self.target())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No entity has this id.
    Free,
    Live,
    /// Removed by the API; its observers hear of it at the next `update`.
    Removed,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    cell: u32,
    state: State,
    /// Its near list was made (at `Aoi::anchor`); a new entity has none yet.
    has_near: bool,
}

impl Slot {
    const FREE: Slot = Slot {
        cell: 0,
        state: State::Free,
        has_near: false,
    };
}

/// Interest management for one space: see the module documentation.
///
/// Between a call that changes things and the next [`Aoi::update`], visible lists
/// are those of the last update (a removed id may still appear in its observers'
/// lists; a new entity sees nothing yet).
#[derive(Debug)]
pub struct Aoi {
    config: AoiConfig,
    /// `radius^2` in raw units.
    enter_sq: u64,
    /// `(radius + margin)^2` in raw units.
    leave_sq: u64,
    /// `(radius + skin)^2` in raw units: how near a pair must be to go in each
    /// other's near lists.
    near_sq: u64,
    /// A third of the skin, in raw units: how far an entity may drift from
    /// where its near list was made before it is made again (see the module
    /// documentation for why a third). Each list has its own limit, between
    /// half and all of this (see [`Aoi::drift_limit_sq`]).
    drift: i64,
    /// Every live entity as of the last update, by cell.
    grid: Grid,
    /// By id.
    slots: Vec<Slot>,
    /// By slot: inserted or moved since the last update (in `dirty`).
    moved: Vec<bool>,
    live: usize,
    /// Positions by slot, apart from the rest so pair checks stay in cache.
    pos: Vec<Vec2>,
    /// By slot: where the entity was when its near list was made.
    anchor: Vec<Vec2>,
    /// Slots inserted or moved since the last update (each once).
    dirty: Vec<u32>,
    /// Slots removed since the last update.
    removed: Vec<u32>,
    /// Scratch: one entity's near entries whose pair changes visibility.
    flips: Vec<u32>,
    /// Scratch for making one entity's near list: who is near now, the list
    /// it had, and what of that stays.
    found: Vec<TaggedId>,
    old: Vec<TaggedId>,
    merged: Vec<TaggedId>,
    /// Per slot: equals `stamp` while that slot is near the entity whose list
    /// is being made and was not near before.
    mark: Vec<u32>,
    stamp: u32,
    checks: usize,
    /// Who each entity sees, with the caller's bits.
    visible: ListArena,
    /// Who each entity could start to see before it drifts past its limit:
    /// everyone within `radius + skin` when its list was made, and everyone
    /// whose list found it since (the lists are symmetric), with [`near::VISIBLE`]
    /// on the pairs that see each other.
    near: ListArena,
}

impl Aoi {
    /// Grid covering [min, max] (positions outside are clamped into the edge cells
    /// for bucketing; distances still use true positions).
    ///
    /// Panics if `radius` or `margin` is negative, or if `min > max` on an axis.
    pub fn new(config: AoiConfig, min: Vec2, max: Vec2) -> Self {
        assert!(config.radius >= Fixed::ZERO, "negative AOI radius");
        assert!(config.margin >= Fixed::ZERO, "negative AOI margin");
        assert!(min.x <= max.x && min.y <= max.y, "AOI bounds min > max");
        let r = config.radius.raw() as i64;
        let rm = r + config.margin.raw() as i64;
        let s = skin(r, config.margin.raw() as i64);
        let near = r + s;
        Aoi {
            config,
            enter_sq: (r * r) as u64,
            leave_sq: (rm * rm) as u64,
            near_sq: (near * near) as u64,
            drift: s / 3,
            grid: Grid::new(near, min, max),
            slots: Vec::new(),
            moved: Vec::new(),
            live: 0,
            pos: Vec::new(),
            anchor: Vec::new(),
            dirty: Vec::new(),
            removed: Vec::new(),
            flips: Vec::new(),
            found: Vec::new(),
            old: Vec::new(),
            merged: Vec::new(),
            mark: Vec::new(),
            stamp: 0,
            checks: 0,
            visible: ListArena::default(),
            near: ListArena::default(),
        }
    }

    pub fn config(&self) -> AoiConfig {
        self.config
    }

    /// Live entities (removed ones stop counting at once).
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Grid dimensions in cells, `(x, y)`.
    pub fn grid_size(&self) -> (u32, u32) {
        self.grid.size()
    }

    /// Pair distance checks done by the last [`Aoi::update`]: a cost measure.
    pub fn last_update_checks(&self) -> usize {
        self.checks
    }

    /// The slot of live entity `id`.
    fn slot_of(&self, id: EntityId) -> Option<u32> {
        let s = usize::try_from(id.0).ok()?;
        (self.slots.get(s)?.state == State::Live).then_some(s as u32)
    }

    pub fn position(&self, id: EntityId) -> Option<Vec2> {
        self.slot_of(id).map(|s| self.pos[s as usize])
    }

    /// Who `id` sees, ascending, as of the last update; nothing if unknown.
    pub fn visible(&self, id: EntityId) -> impl ExactSizeIterator<Item = EntityId> + '_ {
        let list = match self.slot_of(id) {
            Some(s) => self.visible.get(s),
            None => &[],
        };
        list.iter().map(|o| o.id())
    }

    /// Who `id` sees, as [`Aoi::visible`], with the caller's bits.
    pub fn visible_tagged(&self, id: EntityId) -> &[TaggedId] {
        match self.slot_of(id) {
            Some(s) => self.visible.get(s),
            None => &[],
        }
    }

    /// Who `id` sees, as [`Aoi::visible`], with the caller's bits to change.
    pub fn visible_mut(&mut self, id: EntityId) -> &mut [TaggedId] {
        match self.slot_of(id) {
            Some(s) => self.visible.get_mut(s),
            None => &mut [],
        }
    }

    /// Calls `f` with every live id, ascending, and its visible list (the
    /// lists are laid out in that order).
    pub fn each_visible_mut(&mut self, mut f: impl FnMut(EntityId, &mut [TaggedId])) {
        let ListArena { data, span, .. } = &mut self.visible;
        for (s, slot) in self.slots.iter().enumerate() {
            if slot.state == State::Live {
                f(EntityId(s as u64), &mut data[span[s].range()]);
            }
        }
    }

    /// Whether `id` was inserted or moved since the last [`Aoi::update`], so its
    /// visibility is not decided yet.
    pub fn is_pending(&self, id: EntityId) -> bool {
        self.slot_of(id).is_some_and(|s| self.moved[s as usize])
    }

    /// Adds an entity; it sees and is seen from the next [`Aoi::update`]. An id
    /// removed since the last update comes back as if it had moved there.
    ///
    /// Panics if `id` is not below [`MAX_ID`]. In debug builds, panics if `id` is
    /// present (in release builds that is a `move_to`).
    pub fn insert(&mut self, id: EntityId, pos: Vec2) {
        assert!(id.0 < MAX_ID, "{id} is too large for an AOI id");
        let s = id.0 as u32;
        if s as usize >= self.slots.len() {
            let n = s as usize + 1;
            self.slots.resize_with(n, || Slot::FREE);
            self.moved.resize(n, false);
            self.pos.resize(n, pos);
            self.anchor.resize(n, pos);
            self.mark.resize(n, 0);
            self.visible.grow_to(n);
            self.near.grow_to(n);
        }
        let state = self.slots[s as usize].state;
        debug_assert!(state != State::Live, "{id} inserted twice");
        if state == State::Live {
            self.move_to(id, pos);
            return;
        }
        if state == State::Removed {
            // Its observers have not heard yet: they never will.
            self.removed.retain(|&r| r != s);
        }
        let cell = self.grid.cell_of(pos);
        let slot = &mut self.slots[s as usize];
        slot.cell = cell;
        slot.state = State::Live;
        self.pos[s as usize] = pos;
        self.mark(s);
        self.live += 1;
    }

    /// Takes `id` out at once (`position`, `visible` and `len` forget it); every
    /// entity that saw it gets a `Leave` at the next update, and it gets no events
    /// itself. Returns whether it was present.
    pub fn remove(&mut self, id: EntityId) -> bool {
        let Some(s) = self.slot_of(id) else {
            return false;
        };
        self.slots[s as usize].state = State::Removed;
        self.removed.push(s);
        self.live -= 1;
        true
    }

    /// Moves `id` and marks it for the next update; does nothing if unknown.
    pub fn move_to(&mut self, id: EntityId, pos: Vec2) {
        let Some(s) = self.slot_of(id) else {
            return;
        };
        self.slots[s as usize].cell = self.grid.cell_of(pos);
        self.pos[s as usize] = pos;
        self.mark(s);
    }

    fn mark(&mut self, s: u32) {
        if !self.moved[s as usize] {
            self.moved[s as usize] = true;
            self.dirty.push(s);
        }
    }

    /// Processes every insert/remove/move since the last call; appends the
    /// resulting events to `events`, sorted by [`AoiEvent::sort_key`]. Events
    /// already in `events` are left alone. Allocates nothing once the internal
    /// buffers and `events` have grown to their working size.
    pub fn update(&mut self, events: &mut Vec<AoiEvent>) {
        let start = events.len();
        self.checks = 0;
        // Nothing changed: the grid and every list stand.
        if self.dirty.is_empty() && self.removed.is_empty() {
            return;
        }

        // Removals first, so no list refers to a removed entity below.
        for i in 0..self.removed.len() {
            let s = self.removed[i];
            self.drop_removed(s, events);
        }
        self.removed.clear();
        self.grid.sort(&self.slots, &self.pos, self.live);

        // Positions are final. New entities, and those that drifted past
        // their limit from where their near list was made, make it again.
        let mut movers = 0;
        for i in 0..self.dirty.len() {
            let s = self.dirty[i];
            if !self.moved[s as usize] {
                // Moved, then removed.
                continue;
            }
            movers += 1;
            let (slot, p) = (self.slots[s as usize], self.pos[s as usize]);
            if !slot.has_near
                || p.distance_squared_raw(self.anchor[s as usize]) > self.drift_limit_sq(s)
            {
                self.make_near(s, events);
            }
        }
        // Then each changed entity decides its near pairs. A pair of two
        // changed entities is decided by the lower slot, and would come out the
        // same from either: after `d <= radius` it is visible, which
        // `d <= radius + margin` keeps, and after `d > radius + margin` it is
        // hidden, which `d > radius` keeps. In slot order, the lists are read
        // in the order they are laid out. When every entity changed, every
        // lower slot decides its own pairs, so a list is read only from the
        // entity's own slot on.
        let all = movers == self.live;
        for s in 0..self.slots.len() as u32 {
            if self.moved[s as usize] {
                self.decide(s, all, events);
            }
        }
        for &s in &self.dirty {
            self.moved[s as usize] = false;
        }
        self.dirty.clear();

        events[start..].sort_unstable_by_key(|e| e.sort_key());

        let slots = &self.slots;
        let live = |s: usize| slots[s].state == State::Live;
        for lists in [&mut self.visible, &mut self.near] {
            lists.compact_if_untidy(live);
        }
    }

    /// Checks that the grid holds every live entity, by cell and then by slot,
    /// with its position, that each cell's run is where `cell_start` says, and
    /// that near lists are symmetric, hold every visible pair, and agree with
    /// the visible lists.
    #[cfg(test)]
    fn assert_grid(&self) {
        let mut want: Vec<(u32, u32)> = (0..self.slots.len() as u32)
            .filter(|&s| self.slots[s as usize].state == State::Live)
            .map(|s| (self.grid.cell_of(self.pos[s as usize]), s))
            .collect();
        want.sort_unstable();
        let grid = &self.grid;
        let got: Vec<(u32, u32)> = grid
            .entries
            .iter()
            .map(|e| (grid.cell_of(e.pos), e.slot))
            .collect();
        assert_eq!(got, want);
        for (i, e) in grid.entries.iter().enumerate() {
            assert_eq!(e.pos, self.pos[e.slot as usize]);
            let c = grid.cell_of(e.pos) as usize;
            assert!((grid.cell_start[c]..grid.cell_start[c + 1]).contains(&(i as u32)));
        }
        for (s, slot) in self.slots.iter().enumerate() {
            let s = s as u32;
            if slot.state != State::Live {
                assert!(self.near.get(s).is_empty() && self.visible.get(s).is_empty());
                continue;
            }
            let near = self.near.get(s);
            assert!(near.windows(2).all(|w| w[0].slot() < w[1].slot()));
            let seen: Vec<u32> = near
                .iter()
                .filter(|e| e.tag() & near::VISIBLE != 0)
                .map(|e| e.slot())
                .collect();
            let vis: Vec<u32> = self.visible.get(s).iter().map(|e| e.slot()).collect();
            assert_eq!(seen, vis, "near and visible lists of {s}");
            for e in near {
                let back = self.near.get(e.slot());
                let i = back.binary_search_by_key(&s, |b| b.slot());
                assert!(i.is_ok(), "{s} near {} but not back", e.slot());
                assert_eq!(back[i.unwrap()].tag(), e.tag());
            }
        }
    }
}

#[cfg(test)]
mod tests;
