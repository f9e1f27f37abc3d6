//! The committed seed corpora (`fuzz/seeds/<target>/`), generated from real
//! encoded messages and real conversations so the fuzzers start from inputs
//! that reach deep states. `tests/tests/fuzz_regressions.rs` holds the files to
//! this list (`UPDATE_FUZZ_SEEDS=1` rewrites them).

use super::node::{NodeOp, StoreMode};
use super::script::ScriptWriter;
use super::session::SessionOp;
use super::wire::Say;
use game_core::protocol::{
    encode_frame, examples, ClientCombat, ClientMsg, ClientSession, ClientWorld, Credentials,
    FRAME_HEADER_LEN, MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD,
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
    client_messages()
        .into_iter()
        .filter(|m| {
            matches!(
                m,
                ClientMsg::Session(
                    ClientSession::Hello { .. }
                        | ClientSession::Login {
                            credentials: Credentials::Dev { .. }
                        }
                        | ClientSession::EnterWorld { .. }
                        | ClientSession::Ping { .. }
                ) | ClientMsg::World(ClientWorld::Move(_))
            )
        })
        .collect()
}

fn frames(msgs: &[ClientMsg]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        encode_frame(m, MAX_CLIENT_PAYLOAD, &mut out).expect("client frame");
    }
    out
}

// What the scripted clients say, by the example each picks (see `Say`).

fn hello() -> Say {
    Say::of(|m| matches!(m, ClientMsg::Session(ClientSession::Hello { .. })))
}

/// `name`: 0 "ada", 1 "bob", 2 "cy", 3 invalid.
fn login(name: u8) -> Say {
    Say {
        pick: name,
        ..Say::of(|m| {
            matches!(
                m,
                ClientMsg::Session(ClientSession::Login {
                    credentials: Credentials::Dev { .. }
                })
            )
        })
    }
}

/// A token login: `kind` 0 valid, 1 expired, 2 another key's, 3 garbage
/// (4 added: the other account); `id` the token id (repeat it to replay).
fn token_login(kind: u8, id: u32) -> Say {
    Say {
        pick: kind,
        n: id,
        ..Say::of(|m| {
            matches!(
                m,
                ClientMsg::Session(ClientSession::Login {
                    credentials: Credentials::Token { .. }
                })
            )
        })
    }
}

/// `name`: 0 "Ada", 1 "Bob", 2 "Cyd", 3 invalid, 4 "ADA".
fn create(name: u8) -> Say {
    Say {
        pick: name,
        ..Say::of(|m| matches!(m, ClientMsg::Session(ClientSession::CreateCharacter { .. })))
    }
}

/// The `n`-th character heard of.
fn delete(n: u32) -> Say {
    Say {
        n,
        ..Say::of(|m| matches!(m, ClientMsg::Session(ClientSession::DeleteCharacter { .. })))
    }
}

fn resume() -> Say {
    Say::of(|m| matches!(m, ClientMsg::Session(ClientSession::Resume { .. })))
}

/// Enters with the first character heard of.
fn enter_world() -> Say {
    Say::of(|m| matches!(m, ClientMsg::Session(ClientSession::EnterWorld { .. })))
}

pub(super) fn ping(seq: u32) -> Say {
    Say {
        n: seq,
        ..Say::of(|m| matches!(m, ClientMsg::Session(ClientSession::Ping { .. })))
    }
}

pub(super) fn pong() -> Say {
    Say::of(|m| matches!(m, ClientMsg::Session(ClientSession::Pong { .. })))
}

fn goodbye() -> Say {
    Say::of(|m| matches!(m, ClientMsg::Session(ClientSession::Goodbye)))
}

/// A move: small honest step (`how` 0), long (1), absurd (2), with sequence jump (4).
fn moving(how: u8, dx: i16, dy: i16, jump: u32) -> Say {
    Say {
        pick: how,
        dx,
        dy,
        n: jump,
        ..Say::of(|m| matches!(m, ClientMsg::World(ClientWorld::Move(_))))
    }
}

/// A skill on a target (see `Say::pick`): `target` 0 the `n`-th monster
/// heard of, 1 the `n`-th entity, 2 oneself, 3 none, 7 the raw id `n`; `skill` 0 the `dx`-th of
/// the skillbook, 3 the raw id `dx`.
fn use_skill(target: u8, skill: u8, dx: i16, n: u32) -> Say {
    Say {
        pick: target | skill << 3,
        dx,
        n,
        ..Say::of(|m| matches!(m, ClientMsg::Combat(ClientCombat::UseSkill { .. })))
    }
}

/// Auto-attack: `target` as in [`use_skill`].
pub(super) fn attack(target: u8, n: u32) -> Say {
    Say {
        pick: target,
        n,
        ..Say::of(|m| matches!(m, ClientMsg::Combat(ClientCombat::Attack { .. })))
    }
}

fn stop_attack() -> Say {
    Say::of(|m| matches!(m, ClientMsg::Combat(ClientCombat::StopAttack)))
}

fn cancel_cast() -> Say {
    Say::of(|m| matches!(m, ClientMsg::Combat(ClientCombat::CancelCast)))
}

fn switch_channel(channel: u8) -> Say {
    Say {
        pick: channel,
        ..Say::of(|m| matches!(m, ClientMsg::World(ClientWorld::SwitchChannel { .. })))
    }
}

fn session_script(ops: &[SessionOp]) -> Vec<u8> {
    let mut w = ScriptWriter::default();
    for op in ops {
        op.write(&mut w);
    }
    w.bytes
}

/// A node script: the node's seed, then the operations.
fn node_script(seed: u8, ops: &[NodeOp]) -> Vec<u8> {
    let mut w = ScriptWriter::default();
    w.u8(seed);
    for op in ops {
        op.write(&mut w);
    }
    w.bytes
}

/// A message the node accepts (verdicts 0).
fn says(say: Say) -> SessionOp {
    SessionOp::Say { say, verdicts: 0 }
}

/// The session target's seed scripts, by name.
fn session_scripts() -> Vec<(&'static str, Vec<SessionOp>)> {
    let mut seeds = Vec::new();
    // Log in, enter, move, heartbeats, then leave.
    let mut ops = vec![says(hello()), says(login(0)), SessionOp::Transmit];
    ops.push(says(enter_world()));
    for i in 0..4 {
        ops.push(says(moving(i, 3_000, -2_000, 9)));
        ops.push(SessionOp::Advance { ms: 100 });
    }
    ops.extend([
        SessionOp::Deadline,
        SessionOp::Transmit,
        says(pong()),
        SessionOp::Flushed,
        says(ping(1)),
        says(goodbye()),
        SessionOp::Transmit,
    ]);
    seeds.push(("login_move_goodbye", ops));
    // The same conversation as raw frames, in one read.
    let ops = [
        SessionOp::Raw(frames(&conversation())),
        SessionOp::Deadline,
        SessionOp::Transmit,
    ];
    seeds.push(("raw_handshake", ops.to_vec()));
    // A slowloris: one byte of a frame at a time, slower than the frame timeout.
    let mut ops = Vec::new();
    for &b in &frames(&client_messages()[..1]) {
        ops.push(SessionOp::Raw(vec![b]));
        ops.push(SessionOp::Advance { ms: 90 });
    }
    ops.push(SessionOp::Transmit);
    seeds.push(("trickle", ops));
    // A flood of pings past the rate limit, never read.
    let mut ops = vec![says(hello())];
    ops.extend((0..40).map(|seq| says(ping(seq))));
    ops.push(SessionOp::Transmit);
    seeds.push(("ping_flood", ops));
    // The node refuses a resume; then, in the world, another session is
    // kicked and its transport lost.
    let refused = SessionOp::Say {
        say: resume(),
        verdicts: 1,
    };
    seeds.push((
        "resume_refused",
        vec![says(hello()), refused, SessionOp::Transmit],
    ));
    let ops = [
        says(hello()),
        says(login(1)),
        says(enter_world()),
        says(switch_channel(1)),
        SessionOp::Transmit,
        SessionOp::Kick,
        SessionOp::Lost,
        SessionOp::Transmit,
    ];
    seeds.push(("kicked_in_world", ops.to_vec()));
    seeds
}

/// A message from `slot`, cut after three bytes.
pub(super) fn tell(slot: u8, say: Say) -> NodeOp {
    NodeOp::Say {
        slot,
        say,
        split: 3,
    }
}

/// A client in `slot` logs in as `name`, creates a character (named by
/// `name` too) and enters the world with its first character.
pub(super) fn arrive(slot: u8, name: u8) -> [NodeOp; 5] {
    [
        NodeOp::Connect { slot },
        tell(slot, hello()),
        tell(slot, login(name)),
        tell(slot, create(name)),
        tell(slot, enter_world()),
    ]
}

/// The node target's seed scripts, by name, with the node's seed.
fn node_scripts() -> Vec<(&'static str, u8, Vec<NodeOp>)> {
    let mut seeds = Vec::new();
    // Two players meet, walk, one drops, resumes (back in the world at once)
    // and walks on, one is kicked.
    let mut ops = Vec::new();
    for slot in 0..2 {
        ops.extend(arrive(slot, slot));
    }
    for i in 0..6u8 {
        ops.push(tell(i % 2, moving(i % 3, 2_000, 1_000, 1)));
        ops.push(NodeOp::Advance { ms: 50 });
    }
    ops.extend([
        NodeOp::Lost { slot: 1 },
        NodeOp::Connect { slot: 1 },
        tell(1, hello()),
        tell(1, resume()),
        tell(1, moving(0, 500, 500, 1)),
        NodeOp::Deadline,
        NodeOp::Flushed { slot: 0 },
        NodeOp::Kick { slot: 0 },
        NodeOp::Advance { ms: 3_000 },
    ]);
    seeds.push(("meet_drop_resume_kick", 1, ops));
    // More connections than the caps, logins taking over players, a channel
    // switch, moving before login, and operator commands (a transfer, a
    // teleport, shutdown).
    let mut ops = Vec::new();
    for slot in 0..5 {
        ops.extend(arrive(slot, slot % 3));
    }
    ops.extend([
        tell(0, switch_channel(1)),
        tell(2, moving(2, -1, -1, 0)),
        NodeOp::Operator { slot: 2, what: 1 },
        NodeOp::Operator { slot: 2, what: 3 },
        NodeOp::Connect { slot: 4 },
        tell(4, moving(0, 10, 10, 0)),
        NodeOp::Deadline,
        NodeOp::Operator { slot: 0, what: 255 },
    ]);
    seeds.push(("caps_takeover_operator", 2, ops));
    // A real conversation as raw bytes, cut across reads.
    let raw = frames(&conversation());
    let (a, b) = raw.split_at(7);
    let ops = [
        NodeOp::Connect { slot: 0 },
        NodeOp::Raw {
            slot: 0,
            bytes: a.to_vec(),
        },
        NodeOp::Raw {
            slot: 0,
            bytes: b.to_vec(),
        },
        NodeOp::Advance { ms: 500 },
    ];
    seeds.push(("raw_conversation", 3, ops.to_vec()));
    // The store holds intents back: three characters leave the world, filling
    // the three places for pending intents, and a fourth login is shed as
    // busy; answered out of order, one with `Unavailable` (retried later),
    // one twice, and an id never issued; then a store that refuses at once,
    // and one that answers at once, answered again.
    let mut ops = Vec::new();
    for slot in 0..3 {
        ops.extend(arrive(slot, slot));
    }
    ops.push(NodeOp::Store(StoreMode::Hold));
    ops.extend((0..3).map(|slot| tell(slot, goodbye())));
    ops.extend(arrive(0, 0));
    ops.push(tell(0, goodbye()));
    ops.extend([
        NodeOp::Answer {
            which: 1,
            fail: false,
        },
        NodeOp::Answer {
            which: 0,
            fail: true,
        },
        NodeOp::AnswerAgain {
            which: 0,
            fail: false,
        },
        NodeOp::AnswerUnknown { ahead: 0 },
        NodeOp::Store(StoreMode::Unavailable),
    ]);
    ops.extend(arrive(0, 0));
    ops.extend([NodeOp::Kick { slot: 0 }, NodeOp::Store(StoreMode::AtOnce)]);
    ops.extend(arrive(1, 1));
    ops.extend([
        tell(1, goodbye()),
        NodeOp::AnswerAgain {
            which: 2,
            fail: true,
        },
        NodeOp::Advance { ms: 100 },
    ]);
    seeds.push(("store_late_twice_unknown", 4, ops));
    // The bus holds the node's announcement back while another server's
    // announcement and a presence the node never subscribed to arrive; then
    // delivers it; then hands one back at once. A player leaves meanwhile.
    let mut ops = Vec::new();
    for slot in 0..2 {
        ops.extend(arrive(slot, slot));
    }
    ops.extend([
        NodeOp::BusHold { hold: true },
        NodeOp::Operator { slot: 0, what: 4 },
        NodeOp::BusFromAfar { what: 1 },
        NodeOp::BusFromAfar { what: 2 },
        tell(1, goodbye()),
        NodeOp::BusDeliver,
        NodeOp::BusHold { hold: false },
        NodeOp::Operator { slot: 0, what: 4 },
        NodeOp::Advance { ms: 100 },
    ]);
    seeds.push(("bus_held_and_from_afar", 5, ops));
    // Token logins: a valid one plays; the same token again is a replay; an
    // expired one, another key's and garbage are refused; the other
    // account's valid token plays too.
    let mut ops = vec![
        NodeOp::Connect { slot: 0 },
        tell(0, hello()),
        tell(0, token_login(0, 1)),
        tell(0, create(1)),
        tell(0, enter_world()),
    ];
    for (slot, kind, id) in [(1, 0, 1), (2, 1, 2), (3, 2, 3), (4, 3, 4)] {
        ops.extend([
            NodeOp::Connect { slot },
            tell(slot, hello()),
            tell(slot, token_login(kind, id)),
        ]);
    }
    ops.extend([
        NodeOp::Connect { slot: 1 },
        tell(1, hello()),
        tell(1, token_login(4, 5)),
        tell(1, create(2)),
        tell(1, enter_world()),
        NodeOp::Advance { ms: 200 },
    ]);
    seeds.push(("token_logins", 6, ops));
    // The character screen: names taken in another case, an invalid name,
    // more than the account may have, a delete, a forged id; then a save
    // that fails and is retried, and a periodic save.
    let ops = vec![
        NodeOp::Connect { slot: 0 },
        tell(0, hello()),
        tell(0, login(0)),
        tell(0, create(0)),
        tell(0, create(4)),
        tell(0, create(3)),
        tell(0, create(1)),
        tell(0, create(2)),
        tell(0, delete(1)),
        tell(0, create(2)),
        tell(
            0,
            Say {
                pick: 1,
                n: 77,
                ..enter_world()
            },
        ),
        tell(0, enter_world()),
        NodeOp::Store(StoreMode::Unavailable),
        NodeOp::Operator { slot: 0, what: 1 },
        NodeOp::Store(StoreMode::AtOnce),
        NodeOp::Advance { ms: 2_000 },
        NodeOp::Advance { ms: 30_000 },
    ];
    seeds.push(("character_screen", 7, ops));
    // A fight beside the spawn point (see `node::content`): two characters
    // auto-attack and cast on the monsters they were shown, heal each other,
    // use a skill that does not exist, aim at nothing, at any id and at
    // themselves, flood one tick past the allowance, cancel a cast, stop
    // attacking; then fight on until someone dies.
    let mut ops = Vec::new();
    for slot in 0..2 {
        ops.extend(arrive(slot, slot));
    }
    ops.push(NodeOp::Advance { ms: 200 });
    ops.extend([
        tell(0, attack(0, 0)),
        tell(1, attack(0, 1)),
        NodeOp::Advance { ms: 50 },
        tell(0, use_skill(0, 0, 1, 0)),
        NodeOp::Advance { ms: 50 },
        tell(0, cancel_cast()),
        tell(1, use_skill(2, 0, 2, 0)),
        tell(1, use_skill(0, 3, 999, 0)),
        tell(1, use_skill(3, 0, 1, 0)),
        tell(1, use_skill(7, 0, 1, 4_242)),
        NodeOp::Advance { ms: 50 },
    ]);
    ops.extend((0..6).map(|i| tell(0, use_skill(0, 0, i, 0))));
    ops.push(NodeOp::Advance { ms: 50 });
    // Both fight on, answering pings (or the idle timeout closes them) and
    // draining their writes (or their queues fill).
    for i in 0..60u32 {
        for slot in 0..2u8 {
            ops.extend([
                tell(slot, pong()),
                tell(slot, use_skill(0, 0, (i % 5) as i16, i)),
                tell(slot, attack(0, i)),
            ]);
            ops.extend((0..4).map(|_| NodeOp::Flushed { slot }));
        }
        // One tick at a time: a node running late skips the missed ticks.
        ops.extend((0..8).map(|_| NodeOp::Advance { ms: 50 }));
    }
    ops.extend([tell(1, stop_attack()), NodeOp::Advance { ms: 100 }]);
    seeds.push(("fight_beside_the_spawn", 8, ops));
    seeds.extend(super::social_seeds::node_scripts());
    seeds.extend(super::economy_seeds::node_scripts());
    seeds.extend(super::raid_seeds::node_scripts());
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
    for (name, ops) in session_scripts() {
        seeds.push(Seed {
            target: "session",
            name: name.into(),
            bytes: session_script(&ops),
        });
    }
    for (name, seed, ops) in node_scripts() {
        seeds.push(Seed {
            target: "node",
            name: name.into(),
            bytes: node_script(seed, &ops),
        });
    }
    for (name, bytes) in super::token::seeds() {
        seeds.push(Seed {
            target: "token",
            name,
            bytes,
        });
    }
    seeds.extend(super::social_seeds::all());
    seeds.extend(super::economy_seeds::all());
    seeds
}

#[cfg(test)]
mod tests {
    use super::super::node;
    use super::super::script::Script;
    use super::*;
    use std::collections::BTreeSet;
    use std::mem::discriminant;

    fn read_session(bytes: &[u8]) -> Vec<SessionOp> {
        let mut script = Script::new(bytes);
        let mut ops = Vec::new();
        while !script.done() {
            ops.push(SessionOp::read(&mut script));
        }
        ops
    }

    fn read_node(bytes: &[u8]) -> Vec<NodeOp> {
        let mut script = Script::new(bytes);
        script.u8();
        let mut ops = Vec::new();
        while !script.done() {
            ops.push(NodeOp::read(&mut script));
        }
        ops
    }

    #[test]
    fn the_checks_read_back_every_operation_the_seeds_write() {
        for (name, ops) in session_scripts() {
            assert_eq!(read_session(&session_script(&ops)), ops, "{name}");
        }
        for (name, seed, ops) in node_scripts() {
            assert_eq!(read_node(&node_script(seed, &ops)), ops, "{name}");
        }
    }

    #[test]
    fn the_seeds_use_every_operation_of_each_machine() {
        let session: BTreeSet<_> = session_scripts()
            .iter()
            .flat_map(|(_, ops)| ops.iter().map(|op| format!("{:?}", discriminant(op))))
            .collect();
        assert_eq!(session.len(), SessionOp::COUNT as usize);
        let node: BTreeSet<_> = node_scripts()
            .iter()
            .flat_map(|(_, _, ops)| ops.iter().map(|op| format!("{:?}", discriminant(op))))
            .collect();
        assert_eq!(node.len(), NodeOp::COUNT as usize);
    }

    #[test]
    fn the_store_and_bus_seeds_reach_their_paths() {
        let script = |name: &str| {
            let (_, seed, ops) = node_scripts()
                .into_iter()
                .find(|(n, _, _)| *n == name)
                .expect("a seed of that name");
            node::run(&node_script(seed, &ops))
        };
        let store = script("store_late_twice_unknown").node;
        assert_eq!(store.login_refusals["server_busy"], 3, "{store:?}");
        assert!(store.store_failed >= 1, "{store:?}");
        assert_eq!(store.store_unexpected, 3, "{store:?}");
        let tokens = script("token_logins").node;
        for label in [
            "token_replayed",
            "token_expired",
            "token_bad_signature",
            "token_malformed",
        ] {
            assert_eq!(
                tokens.login_refusals.get(label),
                Some(&1),
                "{label}: {tokens:?}"
            );
        }
        assert_eq!(tokens.logins, 2, "{tokens:?}");
        let screen = script("character_screen").node;
        assert!(screen.character_refusals >= 4, "{screen:?}");
        assert!(screen.store_failed >= 1, "{screen:?}");
        let bus = script("bus_held_and_from_afar").node;
        assert_eq!(bus.bus_received, 3, "{bus:?}");
    }

    #[test]
    fn the_fight_seed_reaches_the_zones_combat_judging() {
        let (_, seed, ops) = node_scripts()
            .into_iter()
            .find(|(n, _, _)| *n == "fight_beside_the_spawn")
            .expect("the fight seed");
        let fight = node::run(&node_script(seed, &ops)).zones;
        assert!(fight.skills_used >= 5, "{fight:?}");
        assert!(fight.hits >= 5, "{fight:?}");
        assert!(fight.monsters_killed >= 1, "{fight:?}");
        assert!(fight.player_deaths >= 1, "{fight:?}");
        assert!(fight.experience_granted > 0, "{fight:?}");
        assert!(fight.combat_dropped >= 1, "{fight:?}");
        for label in [
            "unknown_skill",
            "too_fast",
            "invalid_target",
            "out_of_range",
            "dead",
            "casting",
            "on_cooldown",
            "global_cooldown",
        ] {
            assert!(
                fight.skill_refusals.contains_key(label),
                "{label}: {fight:?}"
            );
        }
    }
}
