//! The list arena: one sorted list of [`TaggedId`]s per slot, all in one
//! buffer.
//!
//! Lists are laid out by slot when the arena is compacted, each with room to
//! grow, so walking slots in order walks memory forwards. A list that outgrows
//! its room moves to the end of the buffer with twice the room; what it leaves
//! behind is garbage until the next compaction, which lays every list out by
//! slot again into a spare buffer and swaps it in (no allocation once both
//! buffers have grown). The visible lists and the near lists are two arenas.

use crate::ids::EntityId;

const ID_BITS: u32 = 24;
const ID_MASK: u32 = (1 << ID_BITS) - 1;

/// Ids index the AOI's tables and are packed into 24 bits: they must be below
/// this.
pub const MAX_ID: u64 = 1 << ID_BITS;

/// One list entry, 4 bytes: an entity id (its slot, below [`MAX_ID`]) in the
/// low 24 bits and an 8-bit tag in the high 8. In a visible list the tag
/// belongs to the caller (zero when the pair starts to see each other; the AOI
/// never reads it); in a near list it holds the AOI's own flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaggedId(u32);

impl TaggedId {
    /// `slot` with a zero tag.
    pub(super) fn new(slot: u32) -> Self {
        TaggedId(slot)
    }

    #[inline]
    pub(super) fn slot(self) -> u32 {
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

/// Where one slot's list is in a [`ListArena`]: `len` entries at `at`, with
/// room for `room`.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Span {
    at: u32,
    len: u32,
    room: u32,
}

impl Span {
    pub(super) fn range(self) -> std::ops::Range<usize> {
        self.at as usize..(self.at + self.len) as usize
    }
}

/// One list per slot, each sorted by slot: see the module documentation.
#[derive(Debug, Default)]
pub(super) struct ListArena {
    pub(super) data: Vec<TaggedId>,
    /// What `compact` builds into, then swaps with `data`: no allocation once
    /// both have grown.
    spare: Vec<TaggedId>,
    pub(super) span: Vec<Span>,
    garbage: usize,
}

impl ListArena {
    pub(super) fn grow_to(&mut self, slots: usize) {
        if self.span.len() < slots {
            self.span.resize(slots, Span::default());
        }
    }

    #[inline]
    pub(super) fn get(&self, s: u32) -> &[TaggedId] {
        &self.data[self.span[s as usize].range()]
    }

    #[inline]
    pub(super) fn get_mut(&mut self, s: u32) -> &mut [TaggedId] {
        &mut self.data[self.span[s as usize].range()]
    }

    /// The entry for `t` in `s`'s list, which must hold it.
    pub(super) fn find_mut(&mut self, s: u32, t: u32) -> &mut TaggedId {
        let list = self.get_mut(s);
        let at = list.binary_search_by_key(&t, |o| o.slot());
        debug_assert!(at.is_ok(), "{t} not listed by {s}");
        &mut list[at.unwrap_or(0)]
    }

    /// Adds `e` to `s`'s list, which must not hold its slot.
    pub(super) fn insert(&mut self, s: u32, e: TaggedId) {
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
    pub(super) fn remove(&mut self, s: u32, t: u32) {
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
    pub(super) fn set(&mut self, s: u32, from: &[TaggedId]) {
        if from.len() > self.span[s as usize].room as usize {
            self.move_to_end(s, from.len());
        }
        let span = &mut self.span[s as usize];
        span.len = from.len() as u32;
        self.data[span.range()].copy_from_slice(from);
    }

    pub(super) fn clear(&mut self, s: u32) {
        self.span[s as usize].len = 0;
    }

    /// Moves `s`'s list to the end of `data`, with room for at least `need`
    /// (twice what it had).
    fn move_to_end(&mut self, s: u32, need: usize) {
        let span = &mut self.span[s as usize];
        let at = self.data.len();
        let room = (span.room * 2).max(8).max(need as u32);
        self.data.extend_from_within(span.range());
        self.data.resize(at + room as usize, TaggedId(0));
        self.garbage += span.room as usize;
        span.at = at as u32;
        span.room = room;
    }

    /// Compacts once garbage is an eighth of the arena. Lists that outgrew
    /// their room moved to the end (with twice the room) and left garbage
    /// behind: the arena grows about three times as fast as its garbage, so
    /// this keeps it under 1.6 times its compacted length, and compaction
    /// leaves room for twice that, so a steady tick never reallocates. (Not on
    /// a timer: a compaction copies the whole arena, megabytes at 10k
    /// entities, and lists laid out by slot do not drift out of order.)
    pub(super) fn compact_if_untidy(&mut self, live: impl Fn(usize) -> bool) {
        if self.garbage > self.data.len() / 8 {
            self.compact(live);
        }
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
            self.spare.resize(at + room as usize, TaggedId(0));
            span.at = at as u32;
            span.room = room;
        }
        std::mem::swap(&mut self.data, &mut self.spare);
        self.garbage = 0;
        // Room for the arena to double before it is compacted again (see
        // `compact_if_untidy`).
        self.data.reserve(self.data.len());
    }
}
