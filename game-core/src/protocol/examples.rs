//! One example of every message, with realistic values: the one list that the
//! wire snapshots, the fuzz seeds, the session model test and the examples in
//! `docs/PROTOCOL.md` are made from. A new message is added here once (the
//! matches below make forgetting it a compile error, and a test finds any tag
//! in use that has no example).

use super::{
    ChannelRefusal, CharacterRefusal, CharacterSummary, ClientCombat, ClientMsg, ClientSession,
    ClientWorld, CombatEvent, Correction, Credentials, DisconnectReason, EffectKind, EntityKind,
    HitOutcome, LoginRefusal, MapChunk, MoveInput, NoticeLevel, PortalInfo, QPos, ResumeToken,
    ServerCombat, ServerMsg, ServerSession, ServerWorld, SkillInfo, SkillRefusal, Spawn,
    TokenRefusal, Update, Violation, Vitals, WorldUpdate, ZoneEntered, PROTOCOL_VERSION,
};
use crate::ids::{CharacterId, EntityId, PlayerId, ZoneId};
use crate::math::{Fixed, Vec2};
use crate::time::Tick;

/// One example of every client message. The match makes adding a variant without
/// a snapshot a compile error.
pub fn client_messages() -> Vec<ClientMsg> {
    let all = vec![
        ClientMsg::Session(ClientSession::Hello {
            protocol_version: PROTOCOL_VERSION,
            client: "unity-1.0".into(),
        }),
        ClientMsg::Session(ClientSession::Login {
            credentials: Credentials::Dev { name: "ada".into() },
        }),
        ClientMsg::Session(ClientSession::Resume {
            player: PlayerId(300),
            token: ResumeToken([0xab; 16]),
        }),
        ClientMsg::Session(ClientSession::EnterWorld {
            character: CharacterId(12),
        }),
        ClientMsg::Session(ClientSession::Ping {
            seq: 7,
            client_time_us: 1_500_000,
        }),
        ClientMsg::Session(ClientSession::Pong {
            seq: 7,
            server_time_us: 2_000_000,
            client_time_us: 1_500_000,
        }),
        ClientMsg::Session(ClientSession::Goodbye),
        ClientMsg::World(ClientWorld::Move(MoveInput {
            seq: 42,
            epoch: 1,
            client_time_us: 1_550_000,
            pos: Vec2::new(Fixed::from_raw(81 * 256 + 64), Fixed::from_raw(120 * 256)),
            vel: Vec2::new(Fixed::from_int(4), Fixed::ZERO),
        })),
        ClientMsg::World(ClientWorld::SwitchChannel { channel: 2 }),
        ClientMsg::World(ClientWorld::FetchMap { first_row: 0 }),
        ClientMsg::Session(ClientSession::Login {
            credentials: Credentials::Token {
                token: "v4.public.eyJzdWIiOiIxNyJ9c2lnbmF0dXJl".into(),
            },
        }),
        ClientMsg::Session(ClientSession::ListCharacters),
        ClientMsg::Session(ClientSession::CreateCharacter { name: "Ada".into() }),
        ClientMsg::Session(ClientSession::DeleteCharacter {
            character: CharacterId(12),
        }),
        ClientMsg::Combat(ClientCombat::UseSkill {
            skill: 2,
            target: Some(EntityId(18)),
        }),
        ClientMsg::Combat(ClientCombat::UseSkill {
            skill: 4,
            target: None,
        }),
        ClientMsg::Combat(ClientCombat::Attack {
            target: EntityId(18),
        }),
        ClientMsg::Combat(ClientCombat::StopAttack),
        ClientMsg::Combat(ClientCombat::CancelCast),
    ];
    for m in &all {
        match m {
            ClientMsg::Session(ClientSession::Hello { .. })
            | ClientMsg::Session(ClientSession::Login { .. })
            | ClientMsg::Session(ClientSession::Resume { .. })
            | ClientMsg::Session(ClientSession::EnterWorld { .. })
            | ClientMsg::Session(ClientSession::Ping { .. })
            | ClientMsg::Session(ClientSession::Pong { .. })
            | ClientMsg::Session(ClientSession::Goodbye)
            | ClientMsg::Session(ClientSession::ListCharacters)
            | ClientMsg::Session(ClientSession::CreateCharacter { .. })
            | ClientMsg::Session(ClientSession::DeleteCharacter { .. })
            | ClientMsg::World(ClientWorld::Move(_))
            | ClientMsg::World(ClientWorld::SwitchChannel { .. })
            | ClientMsg::World(ClientWorld::FetchMap { .. })
            | ClientMsg::Combat(ClientCombat::UseSkill { .. })
            | ClientMsg::Combat(ClientCombat::Attack { .. })
            | ClientMsg::Combat(ClientCombat::StopAttack)
            | ClientMsg::Combat(ClientCombat::CancelCast)
            | ClientMsg::Social(_)
            | ClientMsg::Economy(_)
            | ClientMsg::Raid(_) => {}
        }
    }
    let mut all = all;
    all.extend(super::social_examples::client_messages());
    all.extend(super::economy_examples::client_messages());
    all.extend(super::raid_examples::client_messages());
    all
}

pub fn server_messages() -> Vec<ServerMsg> {
    let mut all = vec![
        ServerMsg::Session(ServerSession::Welcome {
            player: PlayerId(300),
            resume_token: ResumeToken([0xab; 16]),
            server_time_us: 2_000_000,
            tick_hz: 20,
            heartbeat_ms: 2_000,
            idle_timeout_ms: 15_000,
            resume_grace_ms: 30_000,
            resumed: false,
        }),
        ServerMsg::Session(ServerSession::EnteredWorld {
            server_time_us: 2_000_000,
            character: ada(),
            experience: 1_250,
        }),
        ServerMsg::Session(ServerSession::Ping {
            seq: 1,
            server_time_us: 4_000_000,
        }),
        ServerMsg::Session(ServerSession::Pong {
            seq: 7,
            client_time_us: 1_500_000,
            server_time_us: 2_000_000,
        }),
        ServerMsg::Session(ServerSession::Notice {
            level: NoticeLevel::Warning,
            text: "restart in 5 min".into(),
        }),
    ];
    all.extend([
        ServerMsg::World(ServerWorld::ZoneEntered(ZoneEntered {
            zone: ZoneId(1),
            map: "meadow".into(),
            channel: 0,
            entity: EntityId(17),
            pos: Vec2::from_ints(81, 121),
            max_speed: Fixed::from_int(6),
            epoch: 0,
            tick: Tick(40),
            server_time_us: 2_000_000,
            map_checksum: 0x3c1f_a2b4_9e07_5d11,
        })),
        ServerMsg::World(ServerWorld::WorldUpdate(WorldUpdate {
            tick: Tick(41),
            server_time_us: 2_050_000,
            ack_seq: 42,
            correction: Some(Correction {
                epoch: 2,
                seq: 43,
                pos: Vec2::from_ints(81, 121),
            }),
            spawns: vec![Spawn {
                entity: EntityId(18),
                kind: EntityKind::Monster,
                pos: QPos { x: 2600, y: 3872 },
                look: 1,
                level: 3,
                health: 255,
            }],
            despawns: vec![EntityId(9)],
            updates: vec![
                Update {
                    entity: EntityId(12),
                    dx: 6,
                    dy: -1,
                },
                Update {
                    entity: EntityId(13),
                    dx: 0,
                    dy: 0,
                },
            ],
            me: Some(Vitals {
                health: 180,
                max_health: 200,
                mana: 90,
                max_mana: 120,
                level: 7,
                experience: 1_310,
                speed_pct: 100,
            }),
            events: vec![
                CombatEvent::CastStarted {
                    caster: EntityId(17),
                    skill: 2,
                    target: Some(EntityId(18)),
                    cast_ms: 1_500,
                },
                CombatEvent::Hit {
                    source: EntityId(17),
                    target: EntityId(18),
                    skill: 2,
                    amount: 42,
                    outcome: HitOutcome::Critical,
                },
                CombatEvent::Health {
                    entity: EntityId(18),
                    fraction: 120,
                },
            ],
        })),
        ServerMsg::World(ServerWorld::ChannelRefused {
            channel: 9,
            reason: ChannelRefusal::NoSuchChannel,
        }),
        // A 12 x 3 map: a walled room with a door east to "forest".
        ServerMsg::World(ServerWorld::MapChunk(MapChunk {
            map: "hut".into(),
            checksum: 0x3c1f_a2b4_9e07_5d11,
            cell_m: 2,
            width: 12,
            height: 3,
            spawn: (2, 1),
            portals: vec![PortalInfo {
                cell: (11, 1),
                target_map: "forest".into(),
                target_cell: (1, 20),
            }],
            first_row: 0,
            rows: 3,
            // Rows `############`, `#...........`, `############`: 36 bits,
            // least significant first (see the test of `HUT` below).
            walkable: vec![0x00, 0xe0, 0xff, 0x00, 0x00],
        })),
    ]);
    all.extend(
        disconnect_reasons()
            .into_iter()
            .map(|reason| ServerMsg::Session(ServerSession::Disconnect { reason })),
    );
    all.extend([
        ServerMsg::Session(ServerSession::Characters {
            characters: vec![ada()],
            max: 4,
        }),
        ServerMsg::Session(ServerSession::CharacterRefused {
            reason: CharacterRefusal::NameTaken,
        }),
        ServerMsg::Combat(ServerCombat::Skillbook {
            auto_attack: 0,
            skills: vec![SkillInfo {
                id: 0,
                name: "strike".into(),
                heals: false,
                targeting: 0,
                cast_ms: 0,
                cooldown_ms: 2_000,
                global_cooldown: false,
                mana: 0,
                range_raw: 768,
            }],
            global_cooldown_ms: 1_000,
        }),
    ]);
    all.extend(
        SkillRefusal::ALL
            .map(|reason| ServerMsg::Combat(ServerCombat::SkillRefused { skill: 2, reason })),
    );
    all.extend(combat_events().into_iter().map(|e| {
        ServerMsg::World(ServerWorld::WorldUpdate(WorldUpdate {
            tick: Tick(42),
            server_time_us: 2_100_000,
            events: vec![e],
            ..WorldUpdate::default()
        }))
    }));
    for m in &all {
        match m {
            ServerMsg::Session(ServerSession::Welcome { .. })
            | ServerMsg::Session(ServerSession::EnteredWorld { .. })
            | ServerMsg::Session(ServerSession::Ping { .. })
            | ServerMsg::Session(ServerSession::Pong { .. })
            | ServerMsg::Session(ServerSession::Notice { .. })
            | ServerMsg::Session(ServerSession::Disconnect { .. })
            | ServerMsg::Session(ServerSession::Characters { .. })
            | ServerMsg::Session(ServerSession::CharacterRefused { .. })
            | ServerMsg::World(ServerWorld::ZoneEntered(_))
            | ServerMsg::World(ServerWorld::WorldUpdate(_))
            | ServerMsg::World(ServerWorld::ChannelRefused { .. })
            | ServerMsg::World(ServerWorld::MapChunk(_))
            | ServerMsg::Combat(ServerCombat::Skillbook { .. })
            | ServerMsg::Combat(ServerCombat::SkillRefused { .. })
            | ServerMsg::Social(_)
            | ServerMsg::Economy(_)
            | ServerMsg::Raid(_) => {}
        }
    }
    all.extend(super::social_examples::server_messages());
    all.extend(super::economy_examples::server_messages());
    all.extend(super::raid_examples::server_messages());
    all
}

/// One of every combat event (each pinned in a world update of its own).
pub fn combat_events() -> Vec<CombatEvent> {
    let (me, it) = (EntityId(17), EntityId(18));
    let all = vec![
        CombatEvent::Hit {
            source: it,
            target: me,
            skill: 9,
            amount: 0,
            outcome: HitOutcome::Miss,
        },
        CombatEvent::CastStarted {
            caster: me,
            skill: 4,
            target: None,
            cast_ms: 800,
        },
        CombatEvent::CastEnded {
            caster: me,
            skill: 2,
            completed: false,
        },
        CombatEvent::Health {
            entity: it,
            fraction: 0,
        },
        CombatEvent::Died {
            entity: me,
            killer: Some(it),
            respawn_ms: 5_000,
        },
        CombatEvent::Revived { entity: me },
        CombatEvent::EffectStarted {
            entity: it,
            skill: 5,
            kind: EffectKind::Stun,
            ms: 1_500,
        },
        CombatEvent::EffectEnded {
            entity: it,
            kind: EffectKind::Slow,
        },
        CombatEvent::LevelUp {
            entity: me,
            level: 8,
        },
    ];
    for e in &all {
        match e {
            CombatEvent::Hit { .. }
            | CombatEvent::CastStarted { .. }
            | CombatEvent::CastEnded { .. }
            | CombatEvent::Health { .. }
            | CombatEvent::Died { .. }
            | CombatEvent::Revived { .. }
            | CombatEvent::EffectStarted { .. }
            | CombatEvent::EffectEnded { .. }
            | CombatEvent::LevelUp { .. } => {}
        }
    }
    all
}

fn ada() -> CharacterSummary {
    CharacterSummary {
        id: CharacterId(12),
        name: "Ada".into(),
        level: 7,
        map: "meadow".into(),
    }
}

pub fn disconnect_reasons() -> Vec<DisconnectReason> {
    let all = vec![
        DisconnectReason::ClientQuit,
        DisconnectReason::VersionMismatch {
            server: PROTOCOL_VERSION,
            client: 0,
        },
        DisconnectReason::LoginRefused(LoginRefusal::InvalidName),
        DisconnectReason::ResumeRejected,
        DisconnectReason::LoggedInElsewhere,
        DisconnectReason::HandshakeTimeout,
        DisconnectReason::IdleTimeout,
        DisconnectReason::RateLimited,
        DisconnectReason::SlowReader,
        DisconnectReason::ProtocolViolation(Violation::FrameTooLarge),
        DisconnectReason::ProtocolViolation(Violation::Malformed),
        DisconnectReason::ProtocolViolation(Violation::UnexpectedMessage),
        DisconnectReason::ServerShutdown,
        DisconnectReason::Kicked {
            message: "spam".into(),
        },
        DisconnectReason::ServerFull,
        DisconnectReason::ConnectionLost,
        DisconnectReason::FrameTimeout,
        DisconnectReason::TooManyConnections,
        DisconnectReason::LoginRefused(LoginRefusal::Token(TokenRefusal::Malformed)),
        DisconnectReason::LoginRefused(LoginRefusal::Token(TokenRefusal::BadSignature)),
        DisconnectReason::LoginRefused(LoginRefusal::Token(TokenRefusal::Expired)),
        DisconnectReason::LoginRefused(LoginRefusal::Token(TokenRefusal::Replayed)),
        DisconnectReason::LoginRefused(LoginRefusal::DevLoginDisabled),
        DisconnectReason::LoginRefused(LoginRefusal::ServerBusy),
        DisconnectReason::LoginRefused(LoginRefusal::StoreUnavailable),
    ];
    for r in &all {
        match r {
            DisconnectReason::ClientQuit
            | DisconnectReason::VersionMismatch { .. }
            | DisconnectReason::LoginRefused(LoginRefusal::InvalidName)
            | DisconnectReason::ResumeRejected
            | DisconnectReason::LoggedInElsewhere
            | DisconnectReason::HandshakeTimeout
            | DisconnectReason::IdleTimeout
            | DisconnectReason::RateLimited
            | DisconnectReason::SlowReader
            | DisconnectReason::ProtocolViolation(
                Violation::FrameTooLarge | Violation::Malformed | Violation::UnexpectedMessage,
            )
            | DisconnectReason::ServerShutdown
            | DisconnectReason::Kicked { .. }
            | DisconnectReason::ServerFull
            | DisconnectReason::ConnectionLost
            | DisconnectReason::FrameTimeout
            | DisconnectReason::TooManyConnections
            | DisconnectReason::LoginRefused(
                LoginRefusal::Token(
                    TokenRefusal::Malformed
                    | TokenRefusal::BadSignature
                    | TokenRefusal::Expired
                    | TokenRefusal::Replayed,
                )
                | LoginRefusal::DevLoginDisabled
                | LoginRefusal::ServerBusy
                | LoginRefusal::StoreUnavailable,
            ) => {}
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::domain;
    use crate::zone::Map;

    const HUT: &str = "name hut\ncell 2\nspawn 2 1\nportal 11 1 forest 1 20\ngrid\n\
                       ############\n#...........\n############\n";

    #[test]
    fn the_map_chunk_example_is_what_the_server_makes_of_its_map() {
        let map = Map::parse(HUT).unwrap();
        let chunk = server_messages()
            .into_iter()
            .find_map(|m| match m {
                ServerMsg::World(ServerWorld::MapChunk(c)) => Some(c),
                _ => None,
            })
            .unwrap();
        assert_eq!((chunk.width, chunk.height), (map.width(), map.height()));
        assert_eq!(chunk.spawn, map.spawn_cell());
        assert_eq!(chunk.walkable, map.walkable_rows(0, 3));
    }

    /// Tags that decode from a payload of zeros: every tag a message uses (a
    /// zero is a valid value of every field type here).
    fn tags_in_use<T: serde::de::DeserializeOwned>() -> Vec<u8> {
        let mut payload = vec![0u8; 256];
        (0..domain::END as u8)
            .filter(|&tag| {
                payload[0] = tag;
                postcard::take_from_bytes::<T>(&payload).is_ok()
            })
            .collect()
    }

    fn tags<T: serde::Serialize>(msgs: &[T]) -> Vec<u8> {
        let mut tags: Vec<u8> = msgs
            .iter()
            .map(|m| postcard::to_allocvec(m).unwrap()[0])
            .collect();
        tags.sort_unstable();
        tags.dedup();
        tags
    }

    #[test]
    fn every_message_in_use_has_an_example() {
        assert_eq!(tags(&client_messages()), tags_in_use::<ClientMsg>());
        assert_eq!(tags(&server_messages()), tags_in_use::<ServerMsg>());
    }

    #[test]
    fn every_tag_lies_in_its_domain_range() {
        for m in client_messages() {
            let base = match m {
                ClientMsg::Session(_) => domain::SESSION,
                ClientMsg::World(_) => domain::WORLD,
                ClientMsg::Combat(_) => domain::COMBAT,
                ClientMsg::Social(_) => domain::SOCIAL,
                ClientMsg::Economy(_) => domain::ECONOMY,
                ClientMsg::Raid(_) => domain::RAID,
            };
            let tag = postcard::to_allocvec(&m).unwrap()[0] as u32;
            assert!(domain::range(base).contains(&tag), "{m:?}");
        }
        for m in server_messages() {
            let base = match m {
                ServerMsg::Session(_) => domain::SESSION,
                ServerMsg::World(_) => domain::WORLD,
                ServerMsg::Combat(_) => domain::COMBAT,
                ServerMsg::Social(_) => domain::SOCIAL,
                ServerMsg::Economy(_) => domain::ECONOMY,
                ServerMsg::Raid(_) => domain::RAID,
            };
            let tag = postcard::to_allocvec(&m).unwrap()[0] as u32;
            assert!(domain::range(base).contains(&tag), "{m:?}");
        }
    }
}
