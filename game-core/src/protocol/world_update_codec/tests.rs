//! The codec held to postcard, byte for byte, both ways.
use super::*;
use crate::math::{Fixed, Vec2};
use crate::protocol::{
    encode_frame, ClientWorld, QPos, ServerMsg, ServerWorld, MAX_SERVER_PAYLOAD,
};
use proptest::prelude::*;

fn update() -> impl Strategy<Value = WorldUpdate> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
        proptest::option::of((any::<u16>(), any::<u32>(), any::<i32>(), any::<i32>())),
        prop::collection::vec(
            (
                any::<u64>(),
                0u8..3,
                any::<i32>(),
                any::<i32>(),
                any::<(u16, u16, u8)>(),
            ),
            0..8,
        ),
        prop::collection::vec(any::<u64>(), 0..8),
        // Small values too: they take the reader's one- and two-byte paths.
        prop::collection::vec(
            (
                prop_oneof![0u64..20_000, any::<u64>()],
                prop_oneof![-100i32..100, any::<i32>()],
                prop_oneof![-100i32..100, any::<i32>()],
            ),
            0..8,
        ),
        proptest::option::of(any::<(u32, u32, u32, u32, u16, u64, u8)>()),
        prop::collection::vec(event(), 0..6),
    )
        .prop_map(
            |(tick, t, ack, c, spawns, despawns, updates, me, events)| WorldUpdate {
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
                    .map(|(e, kind, x, y, (look, level, health))| Spawn {
                        entity: EntityId(e),
                        kind: [EntityKind::Player, EntityKind::Npc, EntityKind::Monster]
                            [kind as usize],
                        pos: QPos { x, y },
                        look,
                        level,
                        health,
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
                me: me.map(
                    |(health, max_health, mana, max_mana, level, experience, speed_pct)| Vitals {
                        health,
                        max_health,
                        mana,
                        max_mana,
                        level,
                        experience,
                        speed_pct,
                    },
                ),
                events,
            },
        )
}

fn event() -> impl Strategy<Value = CombatEvent> {
    use crate::protocol::{EffectKind, HitOutcome};
    let id = || prop_oneof![0u64..5000, any::<u64>()].prop_map(EntityId);
    prop_oneof![
        (id(), id(), any::<u16>(), any::<u32>(), 0u8..3).prop_map(
            |(source, target, skill, amount, o)| {
                CombatEvent::Hit {
                    source,
                    target,
                    skill,
                    amount,
                    outcome: [HitOutcome::Normal, HitOutcome::Critical, HitOutcome::Miss]
                        [o as usize],
                }
            }
        ),
        (id(), any::<u16>(), proptest::option::of(id()), any::<u32>()).prop_map(
            |(caster, skill, target, cast_ms)| CombatEvent::CastStarted {
                caster,
                skill,
                target,
                cast_ms
            }
        ),
        (id(), any::<u8>()).prop_map(|(entity, fraction)| CombatEvent::Health { entity, fraction }),
        (id(), proptest::option::of(id()), any::<u32>()).prop_map(
            |(entity, killer, respawn_ms)| {
                CombatEvent::Died {
                    entity,
                    killer,
                    respawn_ms,
                }
            }
        ),
        (id(), any::<u16>(), any::<u32>()).prop_map(|(entity, skill, ms)| {
            CombatEvent::EffectStarted {
                entity,
                skill,
                kind: EffectKind::Slow,
                ms,
            }
        }),
        (id(), any::<u16>()).prop_map(|(entity, level)| CombatEvent::LevelUp { entity, level }),
    ]
}

proptest! {
    #[test]
    fn the_reader_reads_back_what_was_written(u in update()) {
        let mut bytes = Vec::new();
        encode_world_update_frame(&u, &mut bytes);
        prop_assert_eq!(read_world_update(&bytes[FRAME_HEADER_LEN..]), Ok(u));
    }

    /// On arbitrary bytes after the tag, the reader and postcard agree on
    /// what is a valid message and on what it says.
    #[test]
    fn the_reader_accepts_exactly_what_postcard_accepts(
        tail in prop::collection::vec(any::<u8>(), 0..40),
        prefix in prop::collection::vec(prop_oneof![Just(0u8), Just(1), Just(2), Just(0x80), Just(0xff)], 0..6),
    ) {
        let mut payload = vec![7u8];
        payload.extend(&prefix);
        payload.extend(&tail);
        let ours = read_world_update(&payload).ok();
        let theirs = match ServerMsg::decode(&payload) {
            Ok(ServerMsg::World(ServerWorld::WorldUpdate(u))) => Some(u),
            _ => None,
        };
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn move_encoder_writes_exactly_what_postcard_writes(
        seq in any::<u32>(),
        epoch in any::<u16>(),
        t in prop_oneof![0u64..1_000_000_000, any::<u64>()],
        xs in prop::collection::vec(prop_oneof![-3000i32..3000, any::<i32>()], 4),
    ) {
        let m = MoveInput {
            seq,
            epoch,
            client_time_us: t,
            pos: Vec2::new(Fixed::from_raw(xs[0]), Fixed::from_raw(xs[1])),
            vel: Vec2::new(Fixed::from_raw(xs[2]), Fixed::from_raw(xs[3])),
        };
        let mut fast = vec![0xee];
        encode_move_frame(&m, &mut fast);
        let mut slow = vec![0xee];
        encode_frame(&crate::protocol::ClientMsg::World(ClientWorld::Move(m)), MAX_SERVER_PAYLOAD, &mut slow).unwrap();
        prop_assert_eq!(fast, slow);
    }

    /// An update encoded beforehand writes the same bytes as one encoded
    /// in place, and says truly whether it moves.
    #[test]
    fn an_encoded_update_writes_what_update_writes(
        e in prop_oneof![0u64..(1 << 21), any::<u64>()],
        dx in prop_oneof![-9000i32..9000, Just(0), any::<i32>()],
        dy in prop_oneof![-9000i32..9000, Just(0), any::<i32>()],
    ) {
        let u = Update { entity: EntityId(e), dx, dy };
        let enc = EncodedUpdate::of(&u);
        prop_assert_eq!(enc.moves(), dx != 0 || dy != 0);
        let short = e < 1 << 21 && (-8192..8192).contains(&dx) && (-8192..8192).contains(&dy);
        prop_assert!(enc.fits() || !short, "{:?} should fit", u);
        let (mut a, mut b) = (WorldUpdateWriter::default(), WorldUpdateWriter::default());
        a.update(&u);
        b.entries(1, |out| if enc.fits() { out.encoded(enc) } else { out.update(u) });
        let (mut fa, mut fb) = (Vec::new(), Vec::new());
        a.finish(Tick(1), 2, 3, None, &mut fa);
        b.finish(Tick(1), 2, 3, None, &mut fb);
        prop_assert_eq!(fa, fb);
    }

    #[test]
    fn fast_encoder_writes_exactly_what_postcard_writes(u in update()) {
        let mut fast = vec![0xee];
        encode_world_update_frame(&u, &mut fast);
        let mut slow = vec![0xee];
        encode_frame(&ServerMsg::World(ServerWorld::WorldUpdate(u)), MAX_SERVER_PAYLOAD, &mut slow).unwrap();
        prop_assert_eq!(fast, slow);
    }
}
