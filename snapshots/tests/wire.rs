//! The wire bytes of every message variant, pinned. A change to the encoding of
//! any message shows up here as a snapshot diff in review; `docs/PROTOCOL.md`
//! quotes these bytes as its examples.

use game_core::ids::{EntityId, PlayerId, ZoneId};
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{
    encode_frame, ClientMsg, ClientSession, ClientWorld, Credentials, DisconnectReason,
    LoginRefusal, NoticeLevel, ResumeToken, ServerMsg, ServerSession, ServerWorld, Violation,
    FRAME_HEADER_LEN, MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};
use game_core::protocol::{
    ChannelRefusal, Correction, EntityKind, MoveInput, QPos, Spawn, Update, WorldUpdate,
    ZoneEntered,
};
use game_core::time::Tick;
use std::fmt::{Debug, Write};

/// `length | payload` as hex, split after the 4-byte prefix.
fn hex_frame<T: serde::Serialize + Debug>(msg: &T) -> String {
    let mut bytes = Vec::new();
    encode_frame(msg, MAX_SERVER_PAYLOAD, &mut bytes).unwrap();
    let hex = |b: &[u8]| {
        b.iter().fold(String::new(), |mut s, x| {
            let _ = write!(s, "{x:02x} ");
            s
        })
    };
    format!(
        "{msg:?}\n{}| {}",
        hex(&bytes[..FRAME_HEADER_LEN]),
        hex(&bytes[FRAME_HEADER_LEN..]).trim_end()
    )
}

/// One example of every client message. The match makes adding a variant without
/// a snapshot a compile error.
fn client_examples() -> Vec<ClientMsg> {
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
        ClientMsg::Session(ClientSession::EnterWorld),
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
    ];
    for m in &all {
        match m {
            ClientMsg::Session(ClientSession::Hello { .. })
            | ClientMsg::Session(ClientSession::Login { .. })
            | ClientMsg::Session(ClientSession::Resume { .. })
            | ClientMsg::Session(ClientSession::EnterWorld)
            | ClientMsg::Session(ClientSession::Ping { .. })
            | ClientMsg::Session(ClientSession::Pong { .. })
            | ClientMsg::Session(ClientSession::Goodbye)
            | ClientMsg::World(ClientWorld::Move(_))
            | ClientMsg::World(ClientWorld::SwitchChannel { .. }) => {}
        }
    }
    all
}

fn server_examples() -> Vec<ServerMsg> {
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
                kind: EntityKind::Npc,
                pos: QPos { x: 2600, y: 3872 },
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
        })),
        ServerMsg::World(ServerWorld::ChannelRefused {
            channel: 9,
            reason: ChannelRefusal::NoSuchChannel,
        }),
    ]);
    all.extend(
        disconnect_examples()
            .into_iter()
            .map(|reason| ServerMsg::Session(ServerSession::Disconnect { reason })),
    );
    for m in &all {
        match m {
            ServerMsg::Session(ServerSession::Welcome { .. })
            | ServerMsg::Session(ServerSession::EnteredWorld { .. })
            | ServerMsg::Session(ServerSession::Ping { .. })
            | ServerMsg::Session(ServerSession::Pong { .. })
            | ServerMsg::Session(ServerSession::Notice { .. })
            | ServerMsg::Session(ServerSession::Disconnect { .. })
            | ServerMsg::World(ServerWorld::ZoneEntered(_))
            | ServerMsg::World(ServerWorld::WorldUpdate(_))
            | ServerMsg::World(ServerWorld::ChannelRefused { .. }) => {}
        }
    }
    all
}

fn disconnect_examples() -> Vec<DisconnectReason> {
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
            | DisconnectReason::TooManyConnections => {}
        }
    }
    all
}

#[test]
fn client_messages_on_the_wire() {
    let dump: Vec<String> = client_examples().iter().map(hex_frame).collect();
    insta::assert_snapshot!("client_messages", dump.join("\n\n"));
}

#[test]
fn server_messages_on_the_wire() {
    let dump: Vec<String> = server_examples().iter().map(hex_frame).collect();
    insta::assert_snapshot!("server_messages", dump.join("\n\n"));
}

#[test]
fn every_example_round_trips() {
    for m in client_examples() {
        let mut bytes = Vec::new();
        encode_frame(&m, MAX_SERVER_PAYLOAD, &mut bytes).unwrap();
        assert_eq!(ClientMsg::decode(&bytes[FRAME_HEADER_LEN..]), Ok(m));
    }
    for m in server_examples() {
        let mut bytes = Vec::new();
        encode_frame(&m, MAX_SERVER_PAYLOAD, &mut bytes).unwrap();
        assert_eq!(ServerMsg::decode(&bytes[FRAME_HEADER_LEN..]), Ok(m));
    }
}
