//! Hand-written encoders for the messages sent most: the world update every
//! client gets every tick, and the move every client sends several times a
//! second.
//!
//! [`WorldUpdateWriter`] writes exactly the bytes postcard would write for
//! `ServerMsg::World(ServerWorld::WorldUpdate)` (a property test holds it to
//! that). What it buys is [`Entries::encoded`]: an entity's step is encoded
//! once per tick ([`EncodedUpdate`]) and copied into every observer's message,
//! into buffers reused from tick to tick. Measured for one frame of 55 updates
//! and 2 spawns (a release build, 200,000 frames, 2026-12-06): postcard through
//! serde 730-990 ns, the writer entry by entry ([`Entries::update`], for the
//! few steps that are not shared) about the same, 730-835 ns, and the shared,
//! pre-encoded steps 58-96 ns, 8 to 17 times faster.
//! [`encode_move_frame`] writes `ClientMsg::World(ClientWorld::Move)` the same
//! way, byte for byte.
//!
//! The `#[inline(always)]` on [`EncodedUpdate`]'s and [`Entries`]' one-liners
//! keeps the write position in the replication loop's registers. Callgrind,
//! `bench-world --entities 10000 --quick`, measured ticks (2026-12-06):
//! 1,413.7M instructions with them, 1,447.3M with plain `#[inline]`.
//! The rare paths are kept out of line (`#[cold]`, `#[inline(never)]`: a long
//! step, a spawn, growing the buffer), and so is replication's `long_step`:
//! with them 1,413.7M, with none of those attributes 1,623.9M.

use super::{
    CombatEvent, Correction, DecodeError, EntityKind, MoveInput, Spawn, Update, Vitals,
    WorldUpdate, FRAME_HEADER_LEN,
};
use crate::ids::EntityId;
use crate::time::Tick;

/// The tag of `ServerMsg::World(ServerWorld::WorldUpdate)`: the world
/// domain's base plus its index (see `docs/PROTOCOL.md`).
const WORLD_UPDATE_TAG: u64 = super::domain::WORLD as u64 + 1;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(out: &mut Vec<u8>, v: i32) {
    varint(out, zz(v));
}

fn zz(v: i32) -> u64 {
    ((v << 1) ^ (v >> 31)) as u32 as u64
}

/// One `Update` entry, encoded once to be copied into many messages: its
/// bytes when they fit in seven (with an id under 2^21, any step under 64 m on
/// each axis does), and whether it moves the entity. One word, so a table of
/// them is dense: the bytes little-endian in the low seven bytes, their count in
/// bits 56-58 (zero when they do not fit), and bit 63 set when `dx` or `dy` is
/// not zero. The zero word is an update that does not fit and does not move.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncodedUpdate(u64);

const SHORT_LEN: usize = 7;
const LEN_SHIFT: u32 = 56;
const MOVES: u64 = 1 << 63;

/// Writes postcard varints of `values` into `buf` from `len` on; returns the
/// new length. `buf` must have room (at most 10 bytes a value).
#[inline]
fn put_varints<const N: usize>(buf: &mut [u8], mut len: usize, values: [u64; N]) -> usize {
    for mut v in values {
        while v >= 0x80 {
            buf[len] = (v as u8) | 0x80;
            len += 1;
            v >>= 7;
        }
        buf[len] = v as u8;
        len += 1;
    }
    len
}

/// All of an `Update` entry's bytes (varints of a u64 and two u32: at most
/// 10 + 5 + 5), and how many there are.
#[inline]
fn encode_update(u: &Update) -> ([u8; MAX_UPDATE_LEN], usize) {
    let mut all = [0u8; MAX_UPDATE_LEN];
    let len = put_varints(&mut all, 0, [u.entity.0, zz(u.dx), zz(u.dy)]);
    (all, len)
}

#[cold]
#[inline(never)]
fn encode_update_cold(u: Update) -> ([u8; MAX_UPDATE_LEN], usize) {
    encode_update(&u)
}

impl EncodedUpdate {
    pub fn of(u: &Update) -> Self {
        let moves = if u.dx != 0 || u.dy != 0 { MOVES } else { 0 };
        let (all, len) = encode_update(u);
        if len > SHORT_LEN {
            return EncodedUpdate(moves);
        }
        let mut bytes = [0u8; 8];
        bytes[..len].copy_from_slice(&all[..len]);
        EncodedUpdate(u64::from_le_bytes(bytes) | (len as u64) << LEN_SHIFT | moves)
    }

    /// Whether the bytes are here ([`Entries::encoded`] takes only those).
    #[inline(always)]
    pub fn fits(self) -> bool {
        self.len() != 0
    }

    /// Whether the update moves the entity.
    #[inline(always)]
    pub fn moves(self) -> bool {
        self.0 & MOVES != 0
    }

    #[inline(always)]
    fn len(self) -> usize {
        (self.0 >> LEN_SHIFT) as usize & 7
    }
}

/// The longest `Update` entry: varints of a u64 and two u32.
const MAX_UPDATE_LEN: usize = 20;

/// Spawns and updates being appended to a [`WorldUpdateWriter`], with room
/// made beforehand for as many updates as were asked for. The write position
/// and counts are locals of whoever holds it, so a loop over a client's
/// visible list keeps them in registers.
#[derive(Debug)]
pub struct Entries<'a> {
    updates: &'a mut [u8],
    end: usize,
    n_updates: u64,
    spawns: &'a mut Vec<u8>,
    n_spawns: u64,
}

impl Entries<'_> {
    /// Appends an update encoded beforehand (the same bytes [`Self::update`]
    /// writes), which must [fit](EncodedUpdate::fits): one entity's step is
    /// encoded once per tick, then copied into every message that carries it.
    /// Copies the whole word (one store) and keeps the first `len` bytes.
    #[inline(always)]
    pub fn encoded(&mut self, enc: EncodedUpdate) {
        debug_assert!(enc.fits());
        self.updates[self.end..self.end + 8].copy_from_slice(&enc.0.to_le_bytes());
        self.end += enc.len();
        self.n_updates += 1;
    }

    /// Appends `u`, encoded out of line (taken by value, so the entries stay
    /// in the caller's registers).
    #[inline(always)]
    pub fn update(&mut self, u: Update) {
        self.append(encode_update_cold(u));
    }

    #[inline(always)]
    fn append(&mut self, (all, len): ([u8; MAX_UPDATE_LEN], usize)) {
        self.updates[self.end..self.end + MAX_UPDATE_LEN].copy_from_slice(&all);
        self.end += len;
        self.n_updates += 1;
    }

    #[inline(always)]
    pub fn spawn(&mut self, s: Spawn) {
        self.n_spawns += 1;
        encode_spawn(self.spawns, s);
    }
}

#[inline(never)]
fn encode_spawn(out: &mut Vec<u8>, s: Spawn) {
    varint(out, s.entity.0);
    let kind = match s.kind {
        EntityKind::Player => 0,
        EntityKind::Npc => 1,
        EntityKind::Monster => 2,
    };
    varint(out, kind);
    zigzag(out, s.pos.x);
    zigzag(out, s.pos.y);
    varint(out, s.look as u64);
    varint(out, s.level as u64);
    out.push(s.health);
}

/// The longest encoded [`CombatEvent`] (a `Hit`: a tag, two ids, a skill,
/// an amount and an outcome), with room to spare.
pub const MAX_EVENT_LEN: usize = 48;

/// Appends the postcard bytes of `e` to `out` without allocating beyond
/// `out`'s growth.
pub fn encode_event(e: &CombatEvent, out: &mut Vec<u8>) {
    let mut buf = [0u8; MAX_EVENT_LEN];
    // An event is a few varints: it always fits.
    let used = postcard::to_slice(e, &mut buf).map_or(0, |b| b.len());
    debug_assert!(used > 0);
    out.extend_from_slice(&buf[..used]);
}

/// Collects one client's spawns, despawns and updates, then writes the frame.
#[derive(Debug, Default)]
pub struct WorldUpdateWriter {
    spawns: Vec<u8>,
    n_spawns: u64,
    despawns: Vec<u8>,
    n_despawns: u64,
    /// Written up to `updates_end`; the rest is room, so appending an entry
    /// is a fixed-size copy and no length bookkeeping.
    updates: Vec<u8>,
    updates_end: usize,
    n_updates: u64,
    me: Option<Vitals>,
    /// Combat events, encoded (see [`encode_event`]).
    events: Vec<u8>,
    n_events: u64,
}

impl WorldUpdateWriter {
    pub fn clear(&mut self) {
        self.spawns.clear();
        self.despawns.clear();
        self.events.clear();
        self.updates_end = 0;
        self.me = None;
        (
            self.n_spawns,
            self.n_despawns,
            self.n_updates,
            self.n_events,
        ) = (0, 0, 0, 0);
    }

    pub fn is_empty(&self) -> bool {
        self.n_spawns == 0
            && self.n_despawns == 0
            && self.n_updates == 0
            && self.n_events == 0
            && self.me.is_none()
    }

    /// The client's own values, this message.
    pub fn vitals(&mut self, v: Vitals) {
        self.me = Some(v);
    }

    pub fn event(&mut self, e: &CombatEvent) {
        encode_event(e, &mut self.events);
        self.n_events += 1;
    }

    /// Appends `n` events encoded beforehand (by [`encode_event`]), one
    /// after another in `bytes`: an entity's events are encoded once per
    /// tick and copied into the message of every client that sees it.
    pub fn encoded_events(&mut self, bytes: &[u8], n: u64) {
        self.events.extend_from_slice(bytes);
        self.n_events += n;
    }

    /// Bytes of events so far (to keep a message within its limit).
    pub fn events_len(&self) -> usize {
        self.events.len()
    }

    pub fn spawn(&mut self, s: &Spawn) {
        self.entries(0, |e| e.spawn(*s));
    }

    pub fn despawn(&mut self, e: EntityId) {
        self.n_despawns += 1;
        varint(&mut self.despawns, e.0);
    }

    pub fn update(&mut self, u: &Update) {
        self.entries(1, |e| e.update(*u));
    }

    /// Runs `f` with room for `updates` more updates (and any spawns).
    #[inline]
    pub fn entries<R>(&mut self, updates: usize, f: impl FnOnce(&mut Entries<'_>) -> R) -> R {
        let need = self.updates_end + updates * MAX_UPDATE_LEN;
        if self.updates.len() < need {
            self.grow_updates(need);
        }
        let mut entries = Entries {
            updates: &mut self.updates,
            end: self.updates_end,
            n_updates: 0,
            spawns: &mut self.spawns,
            n_spawns: 0,
        };
        let r = f(&mut entries);
        self.updates_end = entries.end;
        self.n_updates += entries.n_updates;
        self.n_spawns += entries.n_spawns;
        r
    }

    #[cold]
    #[inline(never)]
    fn grow_updates(&mut self, need: usize) {
        self.updates.resize(need.next_power_of_two().max(1024), 0);
    }

    /// Appends the whole message as one frame to `out`.
    pub fn finish(
        &self,
        tick: Tick,
        server_time_us: u64,
        ack_seq: u32,
        correction: Option<&Correction>,
        out: &mut Vec<u8>,
    ) {
        let start = out.len();
        out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
        varint(out, WORLD_UPDATE_TAG);
        varint(out, tick.0);
        varint(out, server_time_us);
        varint(out, ack_seq as u64);
        match correction {
            None => out.push(0),
            Some(c) => {
                out.push(1);
                varint(out, c.epoch as u64);
                varint(out, c.seq as u64);
                zigzag(out, c.pos.x.raw());
                zigzag(out, c.pos.y.raw());
            }
        }
        varint(out, self.n_spawns);
        out.extend_from_slice(&self.spawns);
        varint(out, self.n_despawns);
        out.extend_from_slice(&self.despawns);
        varint(out, self.n_updates);
        out.extend_from_slice(&self.updates[..self.updates_end]);
        match &self.me {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                varint(out, v.health as u64);
                varint(out, v.max_health as u64);
                varint(out, v.mana as u64);
                varint(out, v.max_mana as u64);
                varint(out, v.level as u64);
                varint(out, v.experience);
                out.push(v.speed_pct);
            }
        }
        varint(out, self.n_events);
        out.extend_from_slice(&self.events);
        let len = (out.len() - start - FRAME_HEADER_LEN) as u32;
        out[start..start + FRAME_HEADER_LEN].copy_from_slice(&len.to_le_bytes());
    }
}

/// The tag of `ClientMsg::World(ClientWorld::Move)`: the world domain's base
/// plus its index (see `docs/PROTOCOL.md`).
const MOVE_TAG: u8 = super::domain::WORLD as u8;

/// Appends `ClientMsg::World(ClientWorld::Move(m))` as one frame to `out`: exactly the bytes
/// `encode_frame` writes for it (a property test holds it to that), built on
/// the stack and appended at once.
pub fn encode_move_frame(m: &MoveInput, out: &mut Vec<u8>) {
    // Header, tag, three varints of at most 5, 3 and 10 bytes, four of 5.
    let mut buf = [0u8; FRAME_HEADER_LEN + 1 + 5 + 3 + 10 + 4 * 5];
    buf[FRAME_HEADER_LEN] = MOVE_TAG;
    let fields = [
        m.seq as u64,
        m.epoch as u64,
        m.client_time_us,
        zz(m.pos.x.raw()),
        zz(m.pos.y.raw()),
        zz(m.vel.x.raw()),
        zz(m.vel.y.raw()),
    ];
    let len = put_varints(&mut buf, FRAME_HEADER_LEN + 1, fields);
    let payload = (len - FRAME_HEADER_LEN) as u32;
    buf[..FRAME_HEADER_LEN].copy_from_slice(&payload.to_le_bytes());
    out.extend_from_slice(&buf[..len]);
}

/// The per-message fields of a `WorldUpdate`, read before its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateHeader {
    pub tick: Tick,
    pub server_time_us: u64,
    pub ack_seq: u32,
    pub correction: Option<Correction>,
}

/// Reads a `WorldUpdate` payload in place, without allocating: the header,
/// then each section's count and entries, then [`WorldUpdateReader::finish`].
/// It accepts and rejects exactly what postcard does (a property test holds it
/// to that), so the client may take this path for the message it gets most.
#[derive(Clone, Debug)]
pub struct WorldUpdateReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> WorldUpdateReader<'a> {
    /// `Some` when `payload` is a `ServerMsg::World(ServerWorld::WorldUpdate)`.
    pub fn new(payload: &'a [u8]) -> Option<Self> {
        let mut r = WorldUpdateReader {
            buf: payload,
            pos: 0,
        };
        (r.varint(32).ok()? == WORLD_UPDATE_TAG).then_some(r)
    }

    /// A postcard varint of an unsigned integer `bits` wide.
    #[inline]
    fn varint(&mut self, bits: u32) -> Result<u64, DecodeError> {
        // Most values fit one or two bytes (steps, entity ids): read those
        // straight. Every width here is over 14 bits, so neither byte is the
        // last that could overflow it, and the result is the general path's.
        debug_assert!(bits > 14);
        match self.buf.get(self.pos..self.pos + 2) {
            Some(&[b0, _]) if b0 < 0x80 => {
                self.pos += 1;
                Ok(b0 as u64)
            }
            Some(&[b0, b1]) if b1 < 0x80 => {
                self.pos += 2;
                Ok((b0 & 0x7f) as u64 | (b1 as u64) << 7)
            }
            _ => self.varint_long(bits),
        }
    }

    fn varint_long(&mut self, bits: u32) -> Result<u64, DecodeError> {
        let max_bytes = bits.div_ceil(7);
        let last_max = (1u64 << (bits - 7 * (max_bytes - 1))) - 1;
        let mut out = 0u64;
        for i in 0..max_bytes {
            let b = *self.buf.get(self.pos).ok_or(DecodeError::Malformed)?;
            self.pos += 1;
            out |= ((b & 0x7f) as u64) << (7 * i);
            if b & 0x80 == 0 {
                if i == max_bytes - 1 && b as u64 > last_max {
                    return Err(DecodeError::Malformed);
                }
                return Ok(out);
            }
        }
        Err(DecodeError::Malformed)
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        let z = self.varint(32)? as u32;
        Ok(((z >> 1) as i32) ^ -((z & 1) as i32))
    }

    pub fn header(&mut self) -> Result<UpdateHeader, DecodeError> {
        let tick = Tick(self.varint(64)?);
        let server_time_us = self.varint(64)?;
        let ack_seq = self.varint(32)? as u32;
        let correction = match self.buf.get(self.pos) {
            Some(0) => {
                self.pos += 1;
                None
            }
            Some(1) => {
                self.pos += 1;
                let epoch = self.varint(16)? as u16;
                let seq = self.varint(32)? as u32;
                let x = self.i32()?;
                let y = self.i32()?;
                Some(Correction {
                    epoch,
                    seq,
                    pos: crate::math::Vec2::new(
                        crate::math::Fixed::from_raw(x),
                        crate::math::Fixed::from_raw(y),
                    ),
                })
            }
            _ => return Err(DecodeError::Malformed),
        };
        Ok(UpdateHeader {
            tick,
            server_time_us,
            ack_seq,
            correction,
        })
    }

    /// The number of entries in the next section.
    pub fn count(&mut self) -> Result<u64, DecodeError> {
        self.varint(64)
    }

    pub fn spawn(&mut self) -> Result<Spawn, DecodeError> {
        let entity = EntityId(self.varint(64)?);
        let kind = match self.varint(32)? {
            0 => EntityKind::Player,
            1 => EntityKind::Npc,
            2 => EntityKind::Monster,
            _ => return Err(DecodeError::Malformed),
        };
        let x = self.i32()?;
        let y = self.i32()?;
        let look = self.varint(16)? as u16;
        let level = self.varint(16)? as u16;
        let health = self.byte()?;
        Ok(Spawn {
            entity,
            kind,
            pos: super::QPos { x, y },
            look,
            level,
            health,
        })
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or(DecodeError::Malformed)?;
        self.pos += 1;
        Ok(b)
    }

    /// The value postcard decodes at the read position, which moves past it.
    fn postcard<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, DecodeError> {
        let (v, rest) = postcard::take_from_bytes::<T>(&self.buf[self.pos..])
            .map_err(|_| DecodeError::Malformed)?;
        self.pos = self.buf.len() - rest.len();
        Ok(v)
    }

    /// The client's own values, after the updates.
    pub fn vitals(&mut self) -> Result<Option<Vitals>, DecodeError> {
        self.postcard()
    }

    /// One combat event (after the vitals, as many as [`Self::count`] says).
    pub fn event(&mut self) -> Result<CombatEvent, DecodeError> {
        self.postcard()
    }

    pub fn despawn(&mut self) -> Result<EntityId, DecodeError> {
        Ok(EntityId(self.varint(64)?))
    }

    /// Inlined: the client reads one per entity per message, and the call
    /// and the result passed through memory cost about what reading does.
    #[inline]
    pub fn update(&mut self) -> Result<Update, DecodeError> {
        let entity = EntityId(self.varint(64)?);
        let dx = self.i32()?;
        let dy = self.i32()?;
        Ok(Update { entity, dx, dy })
    }

    /// The whole payload was one message.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

/// Decodes a whole `WorldUpdate` payload with the reader (for tests and tools).
pub fn read_world_update(payload: &[u8]) -> Result<WorldUpdate, DecodeError> {
    let mut r = WorldUpdateReader::new(payload).ok_or(DecodeError::Malformed)?;
    let h = r.header()?;
    let mut u = WorldUpdate {
        tick: h.tick,
        server_time_us: h.server_time_us,
        ack_seq: h.ack_seq,
        correction: h.correction,
        ..WorldUpdate::default()
    };
    for _ in 0..r.count()? {
        u.spawns.push(r.spawn()?);
    }
    for _ in 0..r.count()? {
        u.despawns.push(r.despawn()?);
    }
    for _ in 0..r.count()? {
        u.updates.push(r.update()?);
    }
    u.me = r.vitals()?;
    for _ in 0..r.count()? {
        u.events.push(r.event()?);
    }
    r.finish()?;
    Ok(u)
}

/// Appends `ServerMsg::World(ServerWorld::WorldUpdate(u))` as one frame to `out`.
pub fn encode_world_update_frame(u: &WorldUpdate, out: &mut Vec<u8>) {
    let mut w = WorldUpdateWriter::default();
    u.spawns.iter().for_each(|s| w.spawn(s));
    u.despawns.iter().for_each(|&e| w.despawn(e));
    u.updates.iter().for_each(|up| w.update(up));
    if let Some(v) = u.me {
        w.vitals(v);
    }
    u.events.iter().for_each(|e| w.event(e));
    w.finish(
        u.tick,
        u.server_time_us,
        u.ack_seq,
        u.correction.as_ref(),
        out,
    );
}

#[cfg(test)]
mod tests;
