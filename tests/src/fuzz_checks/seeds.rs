//! The committed seed corpora (`fuzz/seeds/<target>/`), generated from real
//! encoded messages and real conversations so the fuzzers start from inputs
//! that reach deep states. `tests/tests/fuzz_regressions.rs` holds the files to
//! this list (`UPDATE_FUZZ_SEEDS=1` rewrites them).

use super::node::NodeStep;
use super::script::ScriptWriter;
use super::session::Step;
use super::wire::Kind;
use game_core::protocol::{
    encode_frame, examples, ClientMsg, FRAME_HEADER_LEN, MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD,
};

/// One seed: its target, its file name, its bytes.
#[derive(Debug)]
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

fn client_messages() -> Vec<ClientMsg> {
    examples::client_messages()
}

/// A file name for an example: its place in the list and its name.
fn seed_name(side: &str, i: usize, msg: &impl std::fmt::Debug) -> String {
    let debug = format!("{msg:?}");
    let name: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("{side}_{i:02}_{}", name.to_lowercase())
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
        name: "login_move_goodbye".into(),
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
        name: "raw_handshake".into(),
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
        name: "trickle".into(),
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
        name: "ping_flood".into(),
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
        name: "meet_drop_resume_kick".into(),
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
        name: "caps_takeover_operator".into(),
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
        name: "raw_conversation".into(),
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
        name: "conversation".into(),
        bytes: cut,
    });
    let mut oversized = vec![1u8, 2];
    oversized.extend_from_slice(&frames(&client_messages()[..1]));
    oversized.extend_from_slice(&u32::MAX.to_le_bytes());
    seeds.push(Seed {
        target: "frame_decoder",
        name: "then_4gib_prefix".into(),
        bytes: oversized,
    });
    for (i, msg) in client_messages().iter().enumerate() {
        let mut f = Vec::new();
        encode_frame(msg, MAX_CLIENT_PAYLOAD, &mut f).expect("client frame");
        seeds.push(Seed {
            target: "client_msg",
            name: seed_name("client", i, msg),
            bytes: f[FRAME_HEADER_LEN..].to_vec(),
        });
    }
    for (i, msg) in examples::server_messages().iter().enumerate() {
        let mut f = Vec::new();
        encode_frame(msg, MAX_SERVER_PAYLOAD, &mut f).expect("server frame");
        seeds.push(Seed {
            target: "client_msg",
            name: seed_name("server", i, msg),
            bytes: f[FRAME_HEADER_LEN..].to_vec(),
        });
    }
    seeds.extend(session_seeds());
    seeds.extend(node_seeds());
    seeds
}
