//! Area of interest: which entities see which, on a uniform grid, with hysteresis.
//!
//! Owns: one position, one sorted visible list and one near list per entity, and
//! the grid.
//! Entity ids index its tables directly (ids are meant to be dense, like a zone's
//! slot numbers), so a lookup is an index, not a search. Each visible entry
//! carries eight bits the caller owns ([`Seen::tag`]): a zone keeps what it sent
//! each client about each entity there, so it walks one list, not two.
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

use crate::ids::EntityId;
use crate::math::{Fixed, Vec2};

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
/// (Near lists use the same entries, with [`VISIBLE`] in the bits.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen(u32);

const ID_BITS: u32 = 24;
const ID_MASK: u32 = (1 << ID_BITS) - 1;
/// In a near-list entry: the pair sees each other.
const VISIBLE: u8 = 1;

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

/// Where one slot's list is in a [`Lists`]: `len` entries at `at`, with room
/// for `room`.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    at: u32,
    len: u32,
    room: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.at as usize..(self.at + self.len) as usize
    }
}

/// One list per slot, each sorted by slot, all in one buffer with some room to
/// grow, laid out by slot when last compacted (so walking slots in order walks
/// memory forwards). A list that outgrows its room moves to the end; the space
/// it leaves is `garbage` until [`Lists::compact`].
#[derive(Debug, Default)]
struct Lists {
    data: Vec<Seen>,
    /// What `compact` builds into, then swaps with `data`: no allocation once
    /// both have grown.
    spare: Vec<Seen>,
    span: Vec<Span>,
    garbage: usize,
}

impl Lists {
    fn grow_to(&mut self, slots: usize) {
        if self.span.len() < slots {
            self.span.resize(slots, Span::default());
        }
    }

    #[inline]
    fn get(&self, s: u32) -> &[Seen] {
        &self.data[self.span[s as usize].range()]
    }

    #[inline]
    fn get_mut(&mut self, s: u32) -> &mut [Seen] {
        &mut self.data[self.span[s as usize].range()]
    }

    /// The entry for `t` in `s`'s list, which must hold it.
    fn find_mut(&mut self, s: u32, t: u32) -> &mut Seen {
        let list = self.get_mut(s);
        let at = list.binary_search_by_key(&t, |o| o.slot());
        debug_assert!(at.is_ok(), "{t} not listed by {s}");
        &mut list[at.unwrap_or(0)]
    }

    /// Adds `e` to `s`'s list, which must not hold its slot.
    fn insert(&mut self, s: u32, e: Seen) {
        let span = self.span[s as usize];
        if span.len == span.room {
            self.move_to_end(s, span.len as usize + 1);
        }
        let span = &mut self.span[s as usize];
        let len = span.len as usize;
        let list = &mut self.data[span.at as usize..span.at as usize + len + 1];
        match list[..len].binary_search_by_key(&e.slot(), |o| o.slot()) {
            Ok(_) => debug_assert!(false, "{} already listed by {s}", e.slot()),
            Err(at) => {
                list.copy_within(at..len, at + 1);
                list[at] = e;
                span.len += 1;
            }
        }
    }

    /// Removes `t` from `s`'s list, which must hold it.
    fn remove(&mut self, s: u32, t: u32) {
        let span = &mut self.span[s as usize];
        let list = &mut self.data[span.range()];
        match list.binary_search_by_key(&t, |o| o.slot()) {
            Ok(at) => {
                list.copy_within(at + 1.., at);
                span.len -= 1;
            }
            Err(_) => debug_assert!(false, "{t} not listed by {s}"),
        }
    }

    /// Makes `s`'s list `from` (sorted by slot).
    fn set(&mut self, s: u32, from: &[Seen]) {
        if from.len() > self.span[s as usize].room as usize {
            self.move_to_end(s, from.len());
        }
        let span = &mut self.span[s as usize];
        span.len = from.len() as u32;
        self.data[span.range()].copy_from_slice(from);
    }

    fn clear(&mut self, s: u32) {
        self.span[s as usize].len = 0;
    }

    /// Moves `s`'s list to the end of `data`, with room for at least `need`
    /// (twice what it had).
    fn move_to_end(&mut self, s: u32, need: usize) {
        let span = &mut self.span[s as usize];
        let at = self.data.len();
        let room = (span.room * 2).max(8).max(need as u32);
        self.data.extend_from_within(span.range());
        self.data.resize(at + room as usize, Seen(0));
        self.garbage += span.room as usize;
        span.at = at as u32;
        span.room = room;
    }

    /// Lays every list out again by slot, each with a quarter more room than
    /// it needs (plus a few), and drops the garbage. `live(s)`: whether slot
    /// `s` may get entries (others keep no room).
    fn compact(&mut self, live: impl Fn(usize) -> bool) {
        self.spare.clear();
        for (s, span) in self.span.iter_mut().enumerate() {
            if !live(s) {
                debug_assert_eq!(span.len, 0);
                *span = Span::default();
                continue;
            }
            let at = self.spare.len();
            self.spare.extend_from_slice(&self.data[span.range()]);
            let room = span.len + span.len / 4 + 4;
            self.spare.resize(at + room as usize, Seen(0));
            span.at = at as u32;
            span.room = room;
        }
        std::mem::swap(&mut self.data, &mut self.spare);
        self.garbage = 0;
        // Room for the arena to double before it is compacted again (see
        // `Aoi::update`).
        self.data.reserve(self.data.len());
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
    /// `(radius + skin)^2` in raw units: how near a pair must be to go in each
    /// other's near lists.
    near_sq: u64,
    /// A third of the skin, in raw units: how far an entity may drift from
    /// where its near list was made before it is made again (see the module
    /// documentation for why a third). Each list has its own limit, between
    /// half and all of this (see [`Aoi::drift_limit_sq`]).
    drift: i64,
    min: (i64, i64),
    cell_size: i64,
    cells_x: u32,
    cells_y: u32,
    /// Every live entity as of the last update, by cell (row-major), then by
    /// slot: cell `c` is `grid[cell_start[c]..cell_start[c + 1]]`.
    grid: Vec<Entry>,
    /// `cells_x * cells_y + 1` offsets into `grid`.
    cell_start: Vec<u32>,
    /// By id.
    slots: Vec<Slot>,
    /// By slot: inserted or moved since the last update (in `dirty`).
    moved: Vec<bool>,
    live: usize,
    /// Positions by slot, apart from the rest so pair checks stay in cache.
    pos: Vec<Vec2>,
    /// By slot: where the entity was when its near list was made.
    anchor: Vec<Vec2>,
    /// Cells on each side of an entity's own that can hold something near it:
    /// 1 (0 for a zero radius and skin), since cells are at least as wide.
    rings: u32,
    /// Slots inserted or moved since the last update (each once).
    dirty: Vec<u32>,
    /// Slots removed since the last update.
    removed: Vec<u32>,
    /// Scratch: one entity's near entries whose pair changes visibility.
    flips: Vec<u32>,
    /// Scratch for making one entity's near list: who is near now, the list
    /// it had, and what of that stays.
    found: Vec<Seen>,
    old: Vec<Seen>,
    merged: Vec<Seen>,
    /// Per slot: equals `stamp` while that slot is near the entity whose list
    /// is being made and was not near before.
    mark: Vec<u32>,
    stamp: u32,
    checks: usize,
    /// Who each entity sees, with the caller's bits.
    visible: Lists,
    /// Who each entity could start to see before it drifts past its limit:
    /// everyone within `radius + skin` when its list was made, and everyone
    /// whose list found it since (the lists are symmetric), with [`VISIBLE`]
    /// on the pairs that see each other.
    near: Lists,
}

/// The grid is dense, and every update that changes anything walks its cells
/// once: cells are made larger than the radius when the bounds would otherwise
/// need more than this many.
const MAX_CELLS: i64 = 1 << 18;

/// Ids index a table: they must be below this.
pub const MAX_ID: u64 = 1 << ID_BITS;

/// The skin (raw units) for a radius and margin: at least the margin, so every
/// visible pair is near; and at least a fifth of the radius, so an entity
/// drifts a while before its near list is made again.
fn skin(radius: i64, margin: i64) -> i64 {
    margin.max(radius / 5)
}

/// Pushes an `Enter` (or a `Leave`) for the pair of slots `a` and `b` to each.
fn both(events: &mut Vec<AoiEvent>, a: u32, b: u32, enter: bool) {
    let (a, b) = (EntityId(a as u64), EntityId(b as u64));
    for (observer, target) in [(a, b), (b, a)] {
        events.push(if enter {
            AoiEvent::Enter { observer, target }
        } else {
            AoiEvent::Leave { observer, target }
        });
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
        let s = skin(r, config.margin.raw() as i64);
        let near = r + s;
        let mut cell_size = near.max(1);
        let span = |lo: Fixed, hi: Fixed, size: i64| (hi.raw() as i64 - lo.raw() as i64) / size + 1;
        while span(min.x, max.x, cell_size).saturating_mul(span(min.y, max.y, cell_size))
            > MAX_CELLS
        {
            cell_size *= 2;
        }
        let (nx, ny) = (span(min.x, max.x, cell_size), span(min.y, max.y, cell_size));
        let rings = (near + cell_size - 1).div_euclid(cell_size) as u32;
        assert!(rings <= 1, "cells narrower than the near radius");
        let cells = (nx * ny) as usize;
        Aoi {
            config,
            enter_sq: (r * r) as u64,
            leave_sq: (rm * rm) as u64,
            near_sq: (near * near) as u64,
            drift: s / 3,
            rings,
            min: (min.x.raw() as i64, min.y.raw() as i64),
            cell_size,
            cells_x: nx as u32,
            cells_y: ny as u32,
            grid: Vec::new(),
            cell_start: vec![0; cells + 1],
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
            visible: Lists::default(),
            near: Lists::default(),
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
            Some(s) => self.visible.get(s),
            None => &[],
        };
        list.iter().map(|o| o.id())
    }

    /// Who `id` sees, as [`Aoi::visible`], with the caller's bits to change.
    pub fn visible_mut(&mut self, id: EntityId) -> &mut [Seen] {
        match self.slot_of(id) {
            Some(s) => self.visible.get_mut(s),
            None => &mut [],
        }
    }

    /// Calls `f` with every live id, ascending, and its visible list (the
    /// lists are laid out in that order).
    pub fn each_visible_mut(&mut self, mut f: impl FnMut(EntityId, &mut [Seen])) {
        let Lists { data, span, .. } = &mut self.visible;
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
        let cell = self.cell_of(pos);
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
        self.slots[s as usize].cell = self.cell_of(pos);
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
        self.sort_into_grid();

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

        // Lists that outgrew their room moved to the end (with twice the
        // room) and left garbage behind: the arena grows about three times
        // as fast as its garbage. Compacting once garbage is an eighth of it
        // keeps it under 1.6 times its compacted length, and compaction
        // leaves room for twice that, so a steady tick never reallocates.
        // (Not on a timer: a compaction copies the whole arena, megabytes at
        // 10k entities, and lists laid out by slot do not drift out of order.)
        let slots = &self.slots;
        let live = |s: usize| slots[s].state == State::Live;
        for lists in [&mut self.visible, &mut self.near] {
            if lists.garbage > lists.data.len() / 8 {
                lists.compact(live);
            }
        }
    }

    /// The squared drift limit of slot `s`'s near list: between half and all
    /// of `drift`, by a hash of the slot and where the list was made. Were it
    /// the same for all, entities that started moving together at one speed
    /// (a benchmark, a raid) would all make their lists again on the same
    /// tick, every few ticks; spread out, those ticks cost the same as others.
    fn drift_limit_sq(&self, s: u32) -> u64 {
        let at = self.anchor[s as usize];
        let h =
            (s ^ at.x.raw() as u32 ^ (at.y.raw() as u32).rotate_left(16)).wrapping_mul(0x9e37_79b9);
        let limit = self.drift / 2 + ((self.drift * (h >> 24) as i64) >> 9);
        (limit * limit) as u64
    }

    /// Every live entity into `grid`, by cell and then by slot (a counting
    /// sort: one pass to count, one to place).
    fn sort_into_grid(&mut self) {
        let cells = self.cell_start.len() - 1;
        let start = &mut self.cell_start;
        start.fill(0);
        for slot in self.slots.iter().filter(|s| s.state == State::Live) {
            start[slot.cell as usize + 1] += 1;
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
            *at += 1;
        }
        start.copy_within(0..cells, 1);
        start[0] = 0;
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

    /// The pair of `a` and `b` (its entry in `a`'s near list at `k`) stops
    /// seeing each other.
    fn hide(&mut self, a: u32, k: usize, b: u32, events: &mut Vec<AoiEvent>) {
        self.near.get_mut(a)[k].set_tag(0);
        self.near.find_mut(b, a).set_tag(0);
        self.unsee(a, b, events);
    }

    /// Takes `a` and `b` out of each other's visible lists, with a `Leave` to
    /// each.
    fn unsee(&mut self, a: u32, b: u32, events: &mut Vec<AoiEvent>) {
        self.visible.remove(a, b);
        self.visible.remove(b, a);
        both(events, a, b, false);
    }

    /// Tells everyone who saw removed slot `s` that it left, takes it out of
    /// every near list, and frees `s`.
    fn drop_removed(&mut self, s: u32, events: &mut Vec<AoiEvent>) {
        for k in self.near.span[s as usize].range() {
            let e = self.near.data[k];
            let o = e.slot();
            if e.tag() & VISIBLE != 0 {
                // Another removed entity is gone too: it gets no events.
                if self.slots[o as usize].state == State::Live {
                    events.push(AoiEvent::Leave {
                        observer: EntityId(o as u64),
                        target: EntityId(s as u64),
                    });
                }
                self.visible.remove(o, s);
            }
            self.near.remove(o, s);
        }
        self.near.clear(s);
        self.visible.clear(s);
        self.slots[s as usize] = Slot::FREE;
        self.moved[s as usize] = false;
    }

    /// Makes changed slot `a`'s near list again: everyone now within
    /// `radius + skin`, keeping what it knew of those it listed already. Those
    /// it listed that are no longer near lose `a` from their own lists, and if
    /// they saw each other, that ends (they are beyond `radius + margin`).
    fn make_near(&mut self, a: u32, events: &mut Vec<AoiEvent>) {
        let pos = self.pos[a as usize];
        let (cx, cy) = self.cell_xy(pos);
        let k = self.rings;
        let (x0, x1) = (cx.saturating_sub(k), (cx + k).min(self.cells_x - 1));
        let (y0, y1) = (cy.saturating_sub(k), (cy + k).min(self.cells_y - 1));
        self.found.clear();
        for y in y0..=y1 {
            let gy = self.gap(pos.y.raw() as i64, y, self.min.1, self.cells_y);
            let gy2 = gy.saturating_mul(gy);
            if gy2 > self.near_sq {
                continue;
            }
            // The cells of a row worth scanning lie side by side in the grid.
            let row = (y * self.cells_x) as usize;
            let mut run: Option<std::ops::Range<usize>> = None;
            for x in x0..=x1 {
                let gx = self.gap(pos.x.raw() as i64, x, self.min.0, self.cells_x);
                if gy2.saturating_add(gx.saturating_mul(gx)) <= self.near_sq {
                    let c = row + x as usize;
                    let from = run.map_or(self.cell_start[c] as usize, |r| r.start);
                    run = Some(from..self.cell_start[c + 1] as usize);
                }
            }
            let Some(cells) = run.map(|r| &self.grid[r]) else {
                continue;
            };
            self.checks += cells.len();
            // Whether a candidate is near is a coin toss for the branch
            // predictor, so every one is written and only the near are kept.
            let at = self.found.len();
            self.found.resize(at + cells.len(), Seen(0));
            let out = &mut self.found[at..];
            let mut kept = 0;
            for (e, _) in cells.iter().zip(0..out.len()) {
                out[kept] = Seen::new(e.slot);
                kept +=
                    ((pos.distance_squared_raw(e.pos) <= self.near_sq) & (e.slot != a)) as usize;
            }
            self.found.truncate(at + kept);
        }

        // Against the list it had (sorted), with `found` marked: what both
        // hold keeps its bits; what only the old list holds goes; what only
        // `found` holds is new, and only that little needs sorting.
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.mark.fill(0);
            self.stamp = 1;
        }
        let stamp = self.stamp;
        for e in &self.found {
            self.mark[e.slot() as usize] = stamp;
        }
        self.old.clear();
        self.old.extend_from_slice(self.near.get(a));
        self.merged.clear();
        for i in 0..self.old.len() {
            let e = self.old[i];
            let o = e.slot();
            if self.mark[o as usize] == stamp {
                // Still near; and not new.
                self.merged.push(e);
                self.mark[o as usize] = 0;
                continue;
            }
            if e.tag() & VISIBLE != 0 {
                self.unsee(a, o, events);
            }
            self.near.remove(o, a);
        }
        // The new ones, sorted, to the front of `found`.
        let mut fresh = 0;
        for j in 0..self.found.len() {
            let e = self.found[j];
            self.found[fresh] = e;
            fresh += (self.mark[e.slot() as usize] == stamp) as usize;
        }
        self.found.truncate(fresh);
        self.found.sort_unstable_by_key(|e| e.slot());
        for &e in &self.found {
            self.near.insert(e.slot(), Seen::new(a));
        }
        // Both sorted: merged into the new list.
        self.old.clear();
        let (mut i, mut j) = (0, 0);
        while i < self.merged.len() || j < self.found.len() {
            let kept = self.merged.get(i).map_or(u32::MAX, |e| e.slot());
            let new = self.found.get(j).map_or(u32::MAX, |e| e.slot());
            if kept < new {
                self.old.push(self.merged[i]);
                i += 1;
            } else {
                self.old.push(self.found[j]);
                j += 1;
            }
        }
        self.near.set(a, &self.old);
        self.anchor[a as usize] = pos;
        self.slots[a as usize].has_near = true;
    }

    /// Re-decides the pairs in changed slot `a`'s near list, but those with a
    /// lower changed slot, which decides them itself (all lower slots, if
    /// `all` changed).
    fn decide(&mut self, a: u32, all: bool, events: &mut Vec<AoiEvent>) {
        let pos = self.pos[a as usize];
        self.flips.clear();
        let list = self.near.get(a);
        let from = if all {
            list.partition_point(|e| e.slot() < a)
        } else {
            0
        };
        for (k, e) in list.iter().enumerate().skip(from) {
            let o = e.slot();
            if o < a && self.moved[o as usize] {
                continue;
            }
            self.checks += 1;
            let d = pos.distance_squared_raw(self.pos[o as usize]);
            let flip = if e.tag() & VISIBLE != 0 {
                d > self.leave_sq
            } else {
                d <= self.enter_sq
            };
            if flip {
                self.flips.push(k as u32);
            }
        }
        for i in 0..self.flips.len() {
            let k = self.flips[i] as usize;
            let e = self.near.get(a)[k];
            let o = e.slot();
            if e.tag() & VISIBLE != 0 {
                self.hide(a, k, o, events);
            } else {
                self.near.get_mut(a)[k].set_tag(VISIBLE);
                self.near.find_mut(o, a).set_tag(VISIBLE);
                self.visible.insert(a, Seen::new(o));
                self.visible.insert(o, Seen::new(a));
                both(events, a, o, true);
            }
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
                .filter(|e| e.tag() & VISIBLE != 0)
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
