//! A hand-written encoder for the one message sent to every client every tick.
//!
//! It writes exactly the bytes postcard would write for
//! `ServerMsg::WorldUpdate` (a property test holds it to that), but several
//! times faster than the generic serde path, and straight into the frame.

use super::{WorldUpdate, FRAME_HEADER_LEN};
use crate::protocol::EntityKind;

/// The variant index of `ServerMsg::WorldUpdate` (see `docs/PROTOCOL.md`).
const WORLD_UPDATE_TAG: u32 = 7;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(out: &mut Vec<u8>, v: i32) {
    varint(out, ((v << 1) ^ (v >> 31)) as u32 as u64);
}

fn kind_index(k: EntityKind) -> u64 {
    match k {
        EntityKind::Player => 0,
        EntityKind::Npc => 1,
    }
}

/// Appends `ServerMsg::WorldUpdate(u)` as one frame to `out`.
pub fn encode_world_update_frame(u: &WorldUpdate, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
    varint(out, WORLD_UPDATE_TAG as u64);
    varint(out, u.tick.0);
    varint(out, u.server_time_us);
    varint(out, u.ack_seq as u64);
    match &u.correction {
        None => out.push(0),
        Some(c) => {
            out.push(1);
            varint(out, c.epoch as u64);
            varint(out, c.seq as u64);
            zigzag(out, c.pos.x.raw());
            zigzag(out, c.pos.y.raw());
        }
    }
    varint(out, u.spawns.len() as u64);
    for s in &u.spawns {
        varint(out, s.entity.0);
        varint(out, kind_index(s.kind));
        zigzag(out, s.pos.x);
        zigzag(out, s.pos.y);
    }
    varint(out, u.despawns.len() as u64);
    for e in &u.despawns {
        varint(out, e.0);
    }
    varint(out, u.updates.len() as u64);
    for up in &u.updates {
        varint(out, up.entity.0);
        zigzag(out, up.dx);
        zigzag(out, up.dy);
    }
    let len = (out.len() - start - FRAME_HEADER_LEN) as u32;
    out[start..start + FRAME_HEADER_LEN].copy_from_slice(&len.to_le_bytes());
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EntityId;
    use crate::math::{Fixed, Vec2};
    use crate::protocol::ServerMsg;
    use crate::protocol::{encode_frame, Correction, QPos, Spawn, Update, MAX_SERVER_PAYLOAD};
    use crate::time::Tick;
    use proptest::prelude::*;

    fn update() -> impl Strategy<Value = WorldUpdate> {
        (
            any::<u64>(),
            any::<u64>(),
            any::<u32>(),
            proptest::option::of((any::<u16>(), any::<u32>(), any::<i32>(), any::<i32>())),
            prop::collection::vec(
                (any::<u64>(), any::<bool>(), any::<i32>(), any::<i32>()),
                0..8,
            ),
            prop::collection::vec(any::<u64>(), 0..8),
            prop::collection::vec((any::<u64>(), any::<i32>(), any::<i32>()), 0..8),
        )
            .prop_map(|(tick, t, ack, c, spawns, despawns, updates)| WorldUpdate {
                tick: Tick(tick),
                server_time_us: t,
                ack_seq: ack,
                correction: c.map(|(epoch, seq, x, y)| Correction {
                    epoch,
                    seq,
                    pos: Vec2::new(Fixed::from_raw(x), Fixed::from_raw(y)),
                }),
                spawns: spawns
                    .into_iter()
                    .map(|(e, npc, x, y)| Spawn {
                        entity: EntityId(e),
                        kind: if npc {
                            EntityKind::Npc
                        } else {
                            EntityKind::Player
                        },
                        pos: QPos { x, y },
                    })
                    .collect(),
                despawns: despawns.into_iter().map(EntityId).collect(),
                updates: updates
                    .into_iter()
                    .map(|(e, dx, dy)| Update {
                        entity: EntityId(e),
                        dx,
                        dy,
                    })
                    .collect(),
            })
    }

    proptest! {
        #[test]
        fn fast_encoder_writes_exactly_what_postcard_writes(u in update()) {
            let mut fast = vec![0xee];
            encode_world_update_frame(&u, &mut fast);
            let mut slow = vec![0xee];
            encode_frame(&ServerMsg::WorldUpdate(u), MAX_SERVER_PAYLOAD, &mut slow).unwrap();
            prop_assert_eq!(fast, slow);
        }
    }
}
