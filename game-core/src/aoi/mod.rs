//! Area of interest: which entities see which, on a uniform grid, with hysteresis.
//!
//! Owns: one position and one sorted visible list per entity, and the grid buckets.
//! Entity ids index its tables directly (ids are meant to be dense, like a zone's
//! slot numbers), so a lookup is an index, not a search. Each visible entry
//! carries eight bits the caller owns ([`Seen::tag`]): a zone keeps what it sent
//! each client about each entity there, so it walks one list, not two.
//! May not touch: anything else. It knows no zone, session or protocol; the caller
//! feeds positions in and takes [`AoiEvent`]s out, and no clock, randomness or IO.
//!
//! Algorithm: a dense grid with cells as wide as the radius, so everything within
//! the radius of an entity lies in the 3x3 cells around it. (Cells only serve
//! entering, at the radius; leaving is checked on the visible lists. Smaller
//! cells scan a little less area but visit more cells: measured, no faster.)
//! `insert`/`move_to` only note the entity's position and cell and mark it
//! changed. `update` drops removed entities (a `Leave` to each observer), then
//! sorts every live entity into one array by cell (a counting sort, so a row of
//! neighbouring cells is one contiguous run of positions to scan), then, for
//! each changed entity, checks its visible list (leave at `d > radius + margin`,
//! wherever the other one is) and the nearby cells' entities (enter at
//! `d <= radius`).
//! Deciding a pair is idempotent, so a pair of two changed entities comes out the
//! same whichever is processed first, and a mover need not look at an earlier
//! cell that holds only movers. Visible lists live in one arena laid out cell by
//! cell, so walking entities in grid order walks memory forwards. Cost follows the changed entities and
//! their neighbours, never all pairs; nothing is allocated once buffers have
//! grown (see `crate::room`).

use crate::ids::EntityId;
use crate::math::{Fixed, Vec2};
use crate::room::keep_room;

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

/// One entity in the grid, with a copy of its position so a neighbourhood scan
/// reads the cells in order instead of jumping around the slots.
#[derive(Clone, Copy, Debug)]
struct Entry {
    slot: u32,
    pos: Vec2,
}

/// One entry of a visible list: the id seen, and eight bits that belong to the
/// caller (zero when the pair starts to see each other; the AOI never reads them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen(u32);

const ID_BITS: u32 = 24;
const ID_MASK: u32 = (1 << ID_BITS) - 1;

impl Seen {
    fn new(slot: u32) -> Self {
        Seen(slot)
    }

    #[inline]
    fn slot(self) -> u32 {
        self.0 & ID_MASK
    }

    #[inline]
    pub fn id(self) -> EntityId {
        EntityId(self.slot() as u64)
    }

    #[inline]
    pub fn tag(self) -> u8 {
        (self.0 >> ID_BITS) as u8
    }

    #[inline]
    pub fn set_tag(&mut self, tag: u8) {
        self.0 = self.slot() | (tag as u32) << ID_BITS;
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    cell: u32,
    state: State,
    /// In `Aoi::dirty`.
    dirty: bool,
    /// Who this one sees, sorted by id: `len` entries at `at` in `Aoi::lists`,
    /// with room for `room`.
    at: u32,
    len: u32,
    room: u32,
}

impl Slot {
    const FREE: Slot = Slot {
        cell: 0,
        state: State::Free,
        dirty: false,
        at: 0,
        len: 0,
        room: 0,
    };

    fn list(&self) -> std::ops::Range<usize> {
        self.at as usize..(self.at + self.len) as usize
    }
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
    min: (i64, i64),
    cell_size: i64,
    cells_x: u32,
    cells_y: u32,
    /// Every live entity as of the last update, by cell (row-major), then by
    /// slot: cell `c` is `grid[cell_start[c]..cell_start[c + 1]]`.
    grid: Vec<Entry>,
    /// `cells_x * cells_y + 1` offsets into `grid`.
    cell_start: Vec<u32>,
    /// Per grid entry: whether it changed since the update before (so it is
    /// refreshed in this one).
    grid_dirty: Vec<bool>,
    /// Per cell: how many of its entities did not change.
    clean: Vec<u32>,
    /// By id.
    slots: Vec<Slot>,
    live: usize,
    /// Positions by slot, apart from the rest so candidate scans stay in cache.
    pos: Vec<Vec2>,
    /// Per slot: equals `stamp` while that slot is in the visible list of the
    /// entity being refreshed.
    seen: Vec<u32>,
    stamp: u32,
    /// Cells on each side of an entity's own that can hold something within the
    /// radius: 1 (0 for a zero radius), since cells are at least as wide.
    rings: u32,
    /// Slots inserted or moved since the last update (each once).
    dirty: Vec<u32>,
    /// Slots removed since the last update.
    removed: Vec<u32>,
    /// Scratch for one entity's leaving partners.
    scratch: Vec<u32>,
    /// Scratch for one entity's entering partners.
    candidates: Vec<u32>,
    checks: usize,
    /// Every visible list, each with some room to grow, laid out in grid order
    /// when last compacted, so walking entities cell by cell walks memory
    /// forwards. A list that outgrows its room moves to the end; the space it
    /// leaves is `garbage` until [`Aoi::compact`].
    lists: Vec<Seen>,
    /// What `compact` builds into, then swaps with `lists`: no allocation once
    /// both have grown.
    spare: Vec<Seen>,
    garbage: usize,
    /// Updates since the last compaction.
    since_compact: u32,
}

/// Visible lists are laid out again in grid order at least this often (in
/// updates), since entities drift away from where their lists were put.
const COMPACT_EVERY: u32 = 64;

/// The grid is dense, and every update that changes anything walks its cells
/// once: cells are made larger than the radius when the bounds would otherwise
/// need more than this many.
const MAX_CELLS: i64 = 1 << 18;

/// Ids index a table: they must be below this.
pub const MAX_ID: u64 = 1 << ID_BITS;

/// What a neighbourhood scan for one entity compares against.
struct Probe<'a> {
    pos: Vec2,
    enter_sq: u64,
    /// The entity itself, which is in its own cell but is no pair.
    me: u32,
    seen: &'a [u32],
    stamp: u32,
}

impl Probe<'_> {
    /// Writes the slots in `bucket` that enter to the front of `out` (which is
    /// as long as `bucket`); returns how many, and how many candidates it saw.
    ///
    /// Whether a candidate enters is a coin toss for the branch predictor, so it
    /// is computed without branches: every candidate is written, and only those
    /// that enter are kept.
    #[inline]
    fn scan(&self, bucket: &[Entry], out: &mut [u32]) -> (usize, usize) {
        let mut kept = 0;
        for (e, _) in bucket.iter().zip(0..out.len()) {
            out[kept] = e.slot;
            kept += (self.pos.distance_squared_raw(e.pos) <= self.enter_sq) as usize;
        }
        // Of those within radius, only the ones not visible yet enter.
        let mut entering = 0;
        for i in 0..kept {
            let o = out[i];
            out[entering] = o;
            entering += ((self.seen[o as usize] != self.stamp) & (o != self.me)) as usize;
        }
        (entering, bucket.len())
    }
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
        let mut cell_size = r.max(1);
        let span = |lo: Fixed, hi: Fixed, size: i64| (hi.raw() as i64 - lo.raw() as i64) / size + 1;
        while span(min.x, max.x, cell_size).saturating_mul(span(min.y, max.y, cell_size))
            > MAX_CELLS
        {
            cell_size *= 2;
        }
        let (nx, ny) = (span(min.x, max.x, cell_size), span(min.y, max.y, cell_size));
        let rings = (r + cell_size - 1).div_euclid(cell_size) as u32;
        assert!(rings <= 1, "cells narrower than the radius");
        let cells = (nx * ny) as usize;
        Aoi {
            config,
            enter_sq: (r * r) as u64,
            leave_sq: (rm * rm) as u64,
            rings,
            min: (min.x.raw() as i64, min.y.raw() as i64),
            cell_size,
            cells_x: nx as u32,
            cells_y: ny as u32,
            grid: Vec::new(),
            cell_start: vec![0; cells + 1],
            grid_dirty: Vec::new(),
            clean: vec![0; cells],
            slots: Vec::new(),
            live: 0,
            pos: Vec::new(),
            seen: Vec::new(),
            stamp: 0,
            dirty: Vec::new(),
            removed: Vec::new(),
            scratch: Vec::new(),
            candidates: Vec::new(),
            checks: 0,
            lists: Vec::new(),
            spare: Vec::new(),
            garbage: 0,
            since_compact: 0,
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
        (self.cells_x, self.cells_y)
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
            Some(s) => &self.lists[self.slots[s as usize].list()],
            None => &[],
        };
        list.iter().map(|o| o.id())
    }

    /// Who `id` sees, as [`Aoi::visible`], with the caller's bits to change.
    pub fn visible_mut(&mut self, id: EntityId) -> &mut [Seen] {
        match self.slot_of(id) {
            Some(s) => &mut self.lists[self.slots[s as usize].list()],
            None => &mut [],
        }
    }

    /// Calls `f` with every live id, ascending, and its visible list. (Id
    /// order, not grid order: a caller's tables by id are then read in order,
    /// which measured faster than finding neighbours' data in cache.)
    pub fn each_visible_mut(&mut self, mut f: impl FnMut(EntityId, &mut [Seen])) {
        for (s, slot) in self.slots.iter().enumerate() {
            if slot.state == State::Live {
                f(EntityId(s as u64), &mut self.lists[slot.list()]);
            }
        }
    }

    /// Whether `id` was inserted or moved since the last [`Aoi::update`], so its
    /// visibility is not decided yet.
    pub fn is_pending(&self, id: EntityId) -> bool {
        self.slot_of(id)
            .is_some_and(|s| self.slots[s as usize].dirty)
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
            self.pos.resize(n, pos);
            self.seen.resize(n, 0);
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
        let cell = self.cell_of(pos);
        let slot = &mut self.slots[s as usize];
        slot.cell = cell;
        slot.state = State::Live;
        self.pos[s as usize] = pos;
        if !slot.dirty {
            slot.dirty = true;
            self.dirty.push(s);
        }
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
        let cell = self.cell_of(pos);
        self.pos[s as usize] = pos;
        let slot = &mut self.slots[s as usize];
        slot.cell = cell;
        if !slot.dirty {
            slot.dirty = true;
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

        // Removals first, so no visible list refers to a removed entity below.
        for i in 0..self.removed.len() {
            let s = self.removed[i];
            self.drop_removed(s, events);
        }
        self.removed.clear();
        self.sort_into_grid();

        // Positions and cells are final. A pair of two changed entities is
        // looked at twice, and the second look agrees with the first: after
        // `d <= radius` it is visible, which `d <= radius + margin` keeps, and after
        // `d > radius + margin` it is hidden, which `d > radius` keeps. So the
        // order of this loop does not matter, and going cell by cell keeps the
        // neighbourhoods of consecutive entities in cache.
        for i in 0..self.grid.len() {
            if self.grid_dirty[i] {
                self.refresh(self.grid[i].slot, i, events);
            }
        }
        for &s in &self.dirty {
            self.slots[s as usize].dirty = false;
        }
        self.dirty.clear();

        events[start..].sort_unstable_by_key(|e| e.sort_key());

        // Entities drift from the cells their lists were laid out for, and
        // lists that grew leave garbage behind: now and then, lay them out
        // again.
        self.since_compact += 1;
        if self.garbage > self.lists.len() / 4 || self.since_compact >= COMPACT_EVERY {
            self.compact();
        }
        keep_room(&mut self.lists);
    }

    /// Every live entity into `grid`, by cell and then by slot (a counting
    /// sort: one pass to count, one to place), with each cell's count of
    /// entities that did not change.
    fn sort_into_grid(&mut self) {
        let cells = self.clean.len();
        let start = &mut self.cell_start;
        start.fill(0);
        self.clean.fill(0);
        for slot in self.slots.iter().filter(|s| s.state == State::Live) {
            start[slot.cell as usize + 1] += 1;
            self.clean[slot.cell as usize] += !slot.dirty as u32;
        }
        for c in 0..cells {
            start[c + 1] += start[c];
        }
        self.grid.resize(
            self.live,
            Entry {
                slot: 0,
                pos: Vec2::ZERO,
            },
        );
        self.grid_dirty.resize(self.live, false);
        // `start[c]` runs ahead as cell `c` fills, ending at the next cell's
        // start; one step back afterwards puts every start right again.
        for (s, slot) in self.slots.iter().enumerate() {
            if slot.state != State::Live {
                continue;
            }
            let at = &mut start[slot.cell as usize];
            self.grid[*at as usize] = Entry {
                slot: s as u32,
                pos: self.pos[s],
            };
            self.grid_dirty[*at as usize] = slot.dirty;
            *at += 1;
        }
        start.copy_within(0..cells, 1);
        start[0] = 0;
    }

    /// Lays every visible list out again, cell by cell, each with a quarter
    /// more room than it needs (plus a few), and drops the garbage.
    fn compact(&mut self) {
        self.spare.clear();
        for e in &self.grid {
            let slot = &mut self.slots[e.slot as usize];
            if slot.state != State::Live {
                continue;
            }
            let at = self.spare.len();
            self.spare.extend_from_slice(&self.lists[slot.list()]);
            let room = slot.len + slot.len / 4 + 4;
            self.spare.resize(at + room as usize, Seen(0));
            slot.at = at as u32;
            slot.room = room;
        }
        // Lists of ids that are not live are empty; they get room when used.
        for slot in self.slots.iter_mut().filter(|s| s.state != State::Live) {
            debug_assert_eq!(slot.len, 0);
            (slot.at, slot.room) = (0, 0);
        }
        std::mem::swap(&mut self.lists, &mut self.spare);
        self.garbage = 0;
        self.since_compact = 0;
    }

    fn cell_of(&self, pos: Vec2) -> u32 {
        let (cx, cy) = self.cell_xy(pos);
        cy * self.cells_x + cx
    }

    /// Distance (raw, along one axis) from `p` to cell `c`; edge cells extend to
    /// infinity, since out-of-bounds positions are clamped into them.
    fn gap(&self, p: i64, c: u32, min: i64, n: u32) -> u64 {
        let lo = min + c as i64 * self.cell_size;
        let hi = lo + self.cell_size - 1;
        if c > 0 && p < lo {
            (lo - p) as u64
        } else if c + 1 < n && p > hi {
            (p - hi) as u64
        } else {
            0
        }
    }

    fn cell_xy(&self, pos: Vec2) -> (u32, u32) {
        let axis = |v: Fixed, min: i64, n: u32| {
            let c = (v.raw() as i64 - min).div_euclid(self.cell_size);
            c.clamp(0, n as i64 - 1) as u32
        };
        (
            axis(pos.x, self.min.0, self.cells_x),
            axis(pos.y, self.min.1, self.cells_y),
        )
    }

    /// Tells everyone who saw removed slot `s` that it left, and frees `s`.
    fn drop_removed(&mut self, s: u32, events: &mut Vec<AoiEvent>) {
        for k in self.slots[s as usize].list() {
            let o = self.lists[k].slot();
            // Another removed entity is gone too: it gets no events.
            if self.slots[o as usize].state == State::Live {
                events.push(AoiEvent::Leave {
                    observer: EntityId(o as u64),
                    target: EntityId(s as u64),
                });
            }
            self.forget(o, s);
        }
        let slot = &mut self.slots[s as usize];
        slot.len = 0;
        slot.state = State::Free;
        slot.dirty = false;
    }

    /// Re-decides every pair of changed slot `a` (at `grid[at]`): its visible
    /// list and its 3x3 neighbourhood.
    fn refresh(&mut self, a: u32, at: usize, events: &mut Vec<AoiEvent>) {
        let au = a as usize;
        let pos = self.pos[au];
        let a_id = EntityId(a as u64);
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.fill(0);
            self.stamp = 1;
        }

        // Leaves: anything visible now beyond radius + margin. This covers entities
        // outside the neighbourhood too, since the list names their slots.
        self.scratch.clear();
        let (positions, seen, stamp) = (&self.pos[..], &mut self.seen[..], self.stamp);
        let visible = &self.lists[self.slots[au].list()];
        for o in visible.iter().map(|o| o.slot()) {
            seen[o as usize] = stamp;
            if pos.distance_squared_raw(positions[o as usize]) > self.leave_sq {
                self.scratch.push(o);
            }
        }
        self.checks += visible.len();
        for i in 0..self.scratch.len() {
            let o = self.scratch[i];
            let o_id = EntityId(o as u64);
            self.forget(a, o);
            self.forget(o, a);
            events.push(AoiEvent::Leave {
                observer: a_id,
                target: o_id,
            });
            events.push(AoiEvent::Leave {
                observer: o_id,
                target: a_id,
            });
        }

        // Enters: candidates in nearby cells within radius that were not visible.
        // (One that just left is beyond radius + margin, so it cannot pass.)
        let (cx, cy) = self.cell_xy(pos);
        let own = (cy * self.cells_x + cx) as usize;
        let k = self.rings;
        let (x0, x1) = (cx.saturating_sub(k), (cx + k).min(self.cells_x - 1));
        let (y0, y1) = (cy.saturating_sub(k), (cy + k).min(self.cells_y - 1));
        let mut found = 0;
        let mut me_in_run = true;
        let probe = Probe {
            pos,
            enter_sq: self.enter_sq,
            me: a,
            seen: &self.seen,
            stamp: self.stamp,
        };
        for y in y0..=y1 {
            let gy = self.gap(pos.y.raw() as i64, y, self.min.1, self.cells_y);
            let gy2 = gy.saturating_mul(gy);
            if gy2 > self.enter_sq {
                continue;
            }
            let row = (y * self.cells_x) as usize;
            // The cells of a row that are worth scanning, as runs of the grid
            // where they lie side by side (a row has at most three cells
            // here, so at most three runs).
            let mut runs = [0..0, 0..0, 0..0];
            let mut n = 0;
            for x in x0..=x1 {
                let c = row + x as usize;
                // Every changed entity in an earlier cell already decided its
                // pairs with this one's cell: a cell of changed entities only
                // has nothing left to find.
                let done = c < own && self.clean[c] == 0;
                let gx = self.gap(pos.x.raw() as i64, x, self.min.0, self.cells_x);
                let far = gy2.saturating_add(gx.saturating_mul(gx)) > self.enter_sq;
                let mut cell = self.cell_start[c] as usize..self.cell_start[c + 1] as usize;
                if done || far {
                    continue;
                }
                // Likewise the changed entities before `a` in its own cell,
                // when there are only changed ones: `a` starts after itself.
                if c == own && self.clean[c] == 0 {
                    cell.start = at + 1;
                    me_in_run = false;
                }
                if n > 0 && runs[n - 1].end == cell.start {
                    runs[n - 1].end = cell.end;
                } else {
                    runs[n] = cell;
                    n += 1;
                }
            }
            for run in runs.into_iter().take(n) {
                let end = found + run.len();
                if self.candidates.len() < end {
                    self.candidates.resize(end, 0);
                }
                let (kept, checked) = probe.scan(&self.grid[run], &mut self.candidates[found..end]);
                found += kept;
                self.checks += checked;
            }
        }
        // `a` itself is no pair.
        self.checks -= me_in_run as usize;
        for i in 0..found {
            let o = self.candidates[i];
            let o_id = EntityId(o as u64);
            self.learn(a, o);
            self.learn(o, a);
            events.push(AoiEvent::Enter {
                observer: a_id,
                target: o_id,
            });
            events.push(AoiEvent::Enter {
                observer: o_id,
                target: a_id,
            });
        }
    }

    /// Checks that the grid holds every live entity, by cell and then by slot,
    /// with its position, and that each cell's run is where `cell_start` says.
    #[cfg(test)]
    fn assert_grid(&self) {
        let mut want: Vec<(u32, u32)> = (0..self.slots.len() as u32)
            .filter(|&s| self.slots[s as usize].state == State::Live)
            .map(|s| (self.cell_of(self.pos[s as usize]), s))
            .collect();
        want.sort_unstable();
        let got: Vec<(u32, u32)> = self
            .grid
            .iter()
            .map(|e| (self.cell_of(e.pos), e.slot))
            .collect();
        assert_eq!(got, want);
        for (i, e) in self.grid.iter().enumerate() {
            assert_eq!(e.pos, self.pos[e.slot as usize]);
            let c = self.cell_of(e.pos) as usize;
            assert!((self.cell_start[c]..self.cell_start[c + 1]).contains(&(i as u32)));
        }
    }

    /// Adds `t` to `s`'s visible list.
    fn learn(&mut self, s: u32, t: u32) {
        let slot = self.slots[s as usize];
        if slot.len == slot.room {
            self.move_to_end(s);
        }
        let slot = &mut self.slots[s as usize];
        let list = &mut self.lists[slot.at as usize..(slot.at + slot.len + 1) as usize];
        let len = slot.len as usize;
        match list[..len].binary_search_by_key(&t, |o| o.slot()) {
            Ok(_) => debug_assert!(false, "{t} already visible to {s}"),
            Err(at) => {
                list.copy_within(at..len, at + 1);
                list[at] = Seen::new(t);
                slot.len += 1;
            }
        }
    }

    /// Moves `s`'s full list to the end of `lists` with twice the room.
    fn move_to_end(&mut self, s: u32) {
        let slot = &mut self.slots[s as usize];
        let at = self.lists.len();
        let room = (slot.room * 2).max(8);
        self.lists
            .extend_from_within(slot.at as usize..(slot.at + slot.len) as usize);
        self.lists.resize(at + room as usize, Seen(0));
        self.garbage += slot.room as usize;
        slot.at = at as u32;
        slot.room = room;
    }

    /// Removes `t` from `s`'s visible list.
    fn forget(&mut self, s: u32, t: u32) {
        let slot = &mut self.slots[s as usize];
        let list = &mut self.lists[slot.list()];
        match list.binary_search_by_key(&t, |o| o.slot()) {
            Ok(at) => {
                list.copy_within(at + 1.., at);
                slot.len -= 1;
            }
            Err(_) => debug_assert!(false, "{t} not visible to {s}"),
        }
    }
}

#[cfg(test)]
mod tests;
