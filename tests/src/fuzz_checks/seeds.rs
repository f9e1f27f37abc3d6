//! The committed seed corpora (`fuzz/seeds/<target>/`), generated from real
//! encoded messages and real conversations so the fuzzers start from inputs
//! that reach deep states. `tests/tests/fuzz_regressions.rs` holds the files to
//! this list (`UPDATE_FUZZ_SEEDS=1` rewrites them).

use super::node::NodeStep;
use super::script::ScriptWriter;
use super::session::Step;
use super::wire::Kind;
use game_core::ids::{EntityId, PlayerId};
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{
    encode_frame, encode_world_update_frame, ClientMsg, ClientSession, ClientWorld, Correction,
    Credentials, EntityKind, MoveInput, QPos, ResumeToken, ServerMsg, ServerSession, Spawn, Update,
    WorldUpdate, FRAME_HEADER_LEN, MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};
use game_core::time::Tick;

/// One seed: its target, its file name, its bytes.
#[derive(Debug)]
pub struct Seed {
    pub target: &'static str,
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

fn client_messages() -> Vec<ClientMsg> {
    vec![
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
            seq: 3,
            server_time_us: 2_000_000,
            client_time_us: 1_500_000,
        }),
        ClientMsg::Session(ClientSession::Goodbye),
        ClientMsg::World(ClientWorld::Move(MoveInput {
            seq: 12,
            epoch: 1,
            client_time_us: 600_000,
            pos: Vec2::new(Fixed::from_raw(2_560), Fixed::from_raw(-768)),
            vel: Vec2::new(Fixed::from_raw(512), Fixed::from_raw(0)),
        })),
        ClientMsg::World(ClientWorld::SwitchChannel { channel: 1 }),
    ]
}

/// An honest conversation: hello, login, enter, ping, move.
fn conversation() -> Vec<ClientMsg> {
    let all = client_messages();
    [0, 1, 3, 4, 7].iter().map(|&i| all[i].clone()).collect()
}

fn frames(msgs: &[ClientMsg]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        encode_frame(m, MAX_CLIENT_PAYLOAD, &mut out).expect("client frame");
    }
    out
}

fn world_update() -> WorldUpdate {
    WorldUpdate {
        tick: Tick(41),
        server_time_us: 2_050_000,
        ack_seq: 12,
        correction: Some(Correction {
            epoch: 2,
            seq: 12,
            pos: Vec2::new(Fixed::from_raw(2_300), Fixed::from_raw(-700)),
        }),
        spawns: vec![Spawn {
            entity: EntityId(5),
            kind: EntityKind::Npc,
            pos: QPos { x: 300, y: -90 },
        }],
        despawns: vec![EntityId(9)],
        updates: vec![Update {
            entity: EntityId(2),
            dx: -4,
            dy: 3,
        }],
    }
}

/// A message step of a session script.
fn say(w: &mut ScriptWriter, kind: Kind, operands: &[u8]) {
    Step::Message.write(w);
    kind.write(w).raw(operands).u8(0);
}

/// A message step of a node script, to `slot`.
fn tell(w: &mut ScriptWriter, slot: u8, kind: Kind, operands: &[u8]) {
    NodeStep::Message.write(w).u8(slot);
    kind.write(w).raw(operands).u8(3);
}

/// A move: small honest step (`how` 0), long (1), absurd (2), with sequence jump (4).
fn step_operands(how: u8, dx: i16, dy: i16, jump: u32) -> Vec<u8> {
    let mut w = ScriptWriter::default();
    w.u8(how).u16(dx as u16).u16(dy as u16).u32(jump);
    w.bytes
}

fn session_seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    // Log in, enter, move, heartbeats, then leave.
    let mut w = ScriptWriter::default();
    say(&mut w, Kind::Hello, &[0]);
    say(&mut w, Kind::Login, &[0]);
    Step::Transmit.write(&mut w);
    say(&mut w, Kind::EnterWorld, &[]);
    for i in 0..4 {
        say(&mut w, Kind::Move, &step_operands(i, 3_000, -2_000, 9));
        Step::Advance.write(&mut w).u16(100);
    }
    Step::Deadline.write(&mut w);
    Step::Transmit.write(&mut w);
    say(&mut w, Kind::Pong, &[0]);
    Step::Flushed.write(&mut w);
    say(&mut w, Kind::Ping, &[1, 0, 0, 0]);
    say(&mut w, Kind::Goodbye, &[]);
    Step::Transmit.write(&mut w);
    seeds.push(Seed {
        target: "session",
        name: "login_move_goodbye",
        bytes: w.bytes,
    });
    // The same conversation as raw frames, in one read.
    let mut w = ScriptWriter::default();
    let raw = frames(&conversation());
    Step::Raw.write(&mut w).u8(raw.len() as u8).raw(&raw);
    Step::Deadline.write(&mut w);
    Step::Transmit.write(&mut w);
    seeds.push(Seed {
        target: "session",
        name: "raw_handshake",
        bytes: w.bytes,
    });
    // A slowloris: one byte of a frame at a time, slower than the frame timeout.
    let mut w = ScriptWriter::default();
    for &b in &frames(&client_messages()[..1]) {
        Step::Raw.write(&mut w).u8(1).u8(b);
        Step::Advance.write(&mut w).u16(90);
    }
    Step::Transmit.write(&mut w);
    seeds.push(Seed {
        target: "session",
        name: "trickle",
        bytes: w.bytes,
    });
    // A flood of pings past the rate limit, never read.
    let mut w = ScriptWriter::default();
    say(&mut w, Kind::Hello, &[0]);
    for seq in 0..40u8 {
        say(&mut w, Kind::Ping, &[seq, 0, 0, 0]);
    }
    Step::Transmit.write(&mut w);
    seeds.push(Seed {
        target: "session",
        name: "ping_flood",
        bytes: w.bytes,
    });
    seeds
}

fn node_seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    // Two players meet, walk, one drops and resumes, one is kicked.
    let mut w = ScriptWriter::default();
    w.u8(1);
    for slot in 0..2 {
        NodeStep::Connect.write(&mut w).u8(slot);
        tell(&mut w, slot, Kind::Hello, &[0]);
        tell(&mut w, slot, Kind::Login, &[slot]);
        tell(&mut w, slot, Kind::EnterWorld, &[]);
    }
    for i in 0..6u8 {
        tell(
            &mut w,
            i % 2,
            Kind::Move,
            &step_operands(i % 3, 2_000, 1_000, 1),
        );
        NodeStep::Advance.write(&mut w).u16(50);
    }
    NodeStep::Lost.write(&mut w).u8(1);
    NodeStep::Connect.write(&mut w).u8(1);
    tell(&mut w, 1, Kind::Hello, &[0]);
    tell(&mut w, 1, Kind::Resume, &[0]);
    tell(&mut w, 1, Kind::EnterWorld, &[]);
    NodeStep::Deadline.write(&mut w);
    NodeStep::Flushed.write(&mut w).u8(0);
    NodeStep::Kick.write(&mut w).u8(0);
    NodeStep::Advance.write(&mut w).u16(3_000);
    seeds.push(Seed {
        target: "node",
        name: "meet_drop_resume_kick",
        bytes: w.bytes,
    });
    // More connections than the caps, a duplicate login, a channel switch,
    // moving before login, and operator commands.
    let mut w = ScriptWriter::default();
    w.u8(2);
    for slot in 0..5 {
        NodeStep::Connect.write(&mut w).u8(slot);
        tell(&mut w, slot, Kind::Hello, &[0]);
        tell(&mut w, slot, Kind::Login, &[slot % 3]);
        tell(&mut w, slot, Kind::EnterWorld, &[]);
    }
    tell(&mut w, 0, Kind::SwitchChannel, &[1]);
    tell(&mut w, 2, Kind::Move, &step_operands(2, -1, -1, 0));
    NodeStep::Operator.write(&mut w).u8(0).u8(1);
    NodeStep::Operator.write(&mut w).u8(1).u8(3);
    NodeStep::Connect.write(&mut w).u8(4);
    tell(&mut w, 4, Kind::Move, &step_operands(0, 10, 10, 0));
    NodeStep::Deadline.write(&mut w);
    NodeStep::Operator.write(&mut w).u8(0).u8(255);
    seeds.push(Seed {
        target: "node",
        name: "caps_takeover_operator",
        bytes: w.bytes,
    });
    // A real conversation as raw bytes, cut across reads.
    let mut w = ScriptWriter::default();
    w.u8(3);
    NodeStep::Connect.write(&mut w).u8(0);
    let raw = frames(&conversation());
    let (a, b) = raw.split_at(7);
    NodeStep::Raw.write(&mut w).u8(0).u8(a.len() as u8).raw(a);
    NodeStep::Raw.write(&mut w).u8(0).u8(b.len() as u8).raw(b);
    NodeStep::Advance.write(&mut w).u16(500);
    seeds.push(Seed {
        target: "node",
        name: "raw_conversation",
        bytes: w.bytes,
    });
    seeds
}

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let stream = frames(&client_messages());
    let mut cut = vec![3u8, 1, 5, 17];
    cut.extend_from_slice(&stream);
    seeds.push(Seed {
        target: "frame_decoder",
        name: "conversation",
        bytes: cut,
    });
    let mut oversized = vec![1u8, 2];
    oversized.extend_from_slice(&frames(&client_messages()[..1]));
    oversized.extend_from_slice(&u32::MAX.to_le_bytes());
    seeds.push(Seed {
        target: "frame_decoder",
        name: "then_4gib_prefix",
        bytes: oversized,
    });
    let names = [
        "hello", "login", "resume", "enter", "ping", "pong", "goodbye", "move", "switch",
    ];
    for (msg, name) in client_messages().iter().zip(names) {
        let mut f = Vec::new();
        encode_frame(msg, MAX_CLIENT_PAYLOAD, &mut f).expect("client frame");
        seeds.push(Seed {
            target: "client_msg",
            name,
            bytes: f[FRAME_HEADER_LEN..].to_vec(),
        });
    }
    let mut f = Vec::new();
    encode_world_update_frame(&world_update(), &mut f);
    seeds.push(Seed {
        target: "client_msg",
        name: "server_world_update",
        bytes: f[FRAME_HEADER_LEN..].to_vec(),
    });
    let mut f = Vec::new();
    let welcome = ServerMsg::Session(ServerSession::Welcome {
        player: PlayerId(300),
        resume_token: ResumeToken([0xab; 16]),
        server_time_us: 2_000_000,
        tick_hz: 20,
        heartbeat_ms: 2_000,
        idle_timeout_ms: 15_000,
        resume_grace_ms: 30_000,
        resumed: false,
    });
    encode_frame(&welcome, MAX_SERVER_PAYLOAD, &mut f).expect("server frame");
    seeds.push(Seed {
        target: "client_msg",
        name: "server_welcome",
        bytes: f[FRAME_HEADER_LEN..].to_vec(),
    });
    seeds.extend(session_seeds());
    seeds.extend(node_seeds());
    seeds
}
