//! Seeds for the social target, and the node target's social seeds: honest
//! and hostile use of every request, with the store answering at once, late,
//! failing and twice.

use super::node::NodeOp;
use super::script::ScriptWriter;
use super::seeds::Seed;
use super::social::SocialOp;
use super::social_request::SocialBytes;

/// `ClientSocial` kinds, as [`SocialBytes::kind`] reads them.
mod kind {
    pub const CHAT: u8 = 0;
    pub const WHISPER: u8 = 1;
    pub const BLOCK: u8 = 2;
    pub const UNBLOCK: u8 = 3;
    pub const FRIEND_REQUEST: u8 = 4;
    pub const FRIEND_ANSWER: u8 = 5;
    pub const FRIEND_REMOVE: u8 = 6;
    pub const PARTY_INVITE: u8 = 7;
    pub const PARTY_ANSWER: u8 = 8;
    pub const PARTY_LEAVE: u8 = 9;
    pub const PARTY_KICK: u8 = 10;
    pub const PARTY_PROMOTE: u8 = 11;
    pub const PARTY_MAKE_RAID: u8 = 12;
    pub const GUILD_CREATE: u8 = 13;
    pub const GUILD_INVITE: u8 = 14;
    pub const GUILD_ANSWER: u8 = 15;
    pub const GUILD_LEAVE: u8 = 16;
    pub const GUILD_KICK: u8 = 17;
    pub const GUILD_SET_RANK: u8 = 18;
}
use kind::*;

fn req(kind: u8, a: u8, b: u8, text: &str) -> SocialBytes {
    SocialBytes {
        kind,
        a,
        b,
        bytes: text.as_bytes().to_vec(),
    }
}

/// `who` asks; everyone hears it say.
fn ask(who: u8, request: SocialBytes) -> SocialOp {
    SocialOp::Request {
        who,
        request,
        near: 0x1F,
    }
}

/// A line on `channel` (index in `ChatChannel::ALL`), as the bytes.
fn say(who: u8, channel: u8, text: &str) -> SocialOp {
    ask(who, req(CHAT, 0, channel, text))
}

fn enter_all(n: u8) -> Vec<SocialOp> {
    (0..n)
        .map(|who| SocialOp::Enter { who, place: 0 })
        .collect()
}

fn social_scripts() -> Vec<(&'static str, Vec<SocialOp>)> {
    let mut seeds = Vec::new();

    let mut ops = enter_all(3);
    for channel in 0..7 {
        ops.push(say(0, channel, "hello"));
    }
    ops.extend([
        ask(1, req(WHISPER, 0, 0, "psst")),
        ask(1, req(WHISPER, 0, 0xE0, "Nobody")),
        ask(2, req(CHAT, 1, 0, "")),
        ask(2, req(CHAT, 3, 0, "hidden")),
        ask(2, req(CHAT, 2 + 4 * 9, 1, "long")),
        SocialOp::System {
            bytes: b"server restarts soon".to_vec(),
        },
        SocialOp::Mute { who: 0, ms: 100 },
        say(0, 0, "muted?"),
        SocialOp::Advance { ms: 1_500 },
        say(0, 0, "not any more"),
    ]);
    ops.extend((0..6).map(|_| say(1, 4, "spam")));
    seeds.push(("chat_on_every_channel", ops));

    let mut ops = enter_all(4);
    ops.extend([
        ask(0, req(FRIEND_REQUEST, 1, 0, "")),
        ask(2, req(FRIEND_REQUEST, 1, 0, "")),
        ask(3, req(FRIEND_REQUEST, 1, 0, "")),
        ask(1, req(FRIEND_ANSWER, 0, 0, "")),
        ask(1, req(FRIEND_ANSWER, 1, 2, "")),
        ask(1, req(FRIEND_ANSWER, 0, 3, "")),
        SocialOp::Hold { hold: true },
        ask(0, req(BLOCK, 0, 2, "")),
        ask(0, req(BLOCK, 0, 3, "")),
        SocialOp::Answer { which: 0, how: 1 },
        ask(0, req(BLOCK, 0, 3, "")),
        SocialOp::Answer { which: 0, how: 2 },
        SocialOp::Answer { which: 0, how: 0 },
        say(2, 1, "can you hear me"),
        ask(2, req(WHISPER, 0, 0, "and now")),
        ask(0, req(UNBLOCK, 0, 2, "")),
        ask(0, req(FRIEND_REMOVE, 0, 1, "")),
        SocialOp::Answer { which: 1, how: 3 },
        SocialOp::Hold { hold: false },
        SocialOp::AnswerUnknown { ahead: 3 },
        SocialOp::Advance { ms: 4_000 },
    ]);
    seeds.push(("friends_and_blocks", ops));

    let mut ops = enter_all(5);
    ops.extend([
        ask(0, req(PARTY_INVITE, 1, 0, "")),
        ask(0, req(PARTY_INVITE, 2, 0, "")),
        ask(1, req(PARTY_ANSWER, 0, 0, "")),
        ask(2, req(PARTY_ANSWER, 0, 0, "")),
        ask(0, req(PARTY_INVITE, 3, 0, "")),
        ask(3, req(PARTY_ANSWER, 0, 0, "")),
        ask(0, req(PARTY_MAKE_RAID, 0, 0, "")),
        ask(0, req(PARTY_INVITE, 3, 0, "")),
        ask(3, req(PARTY_ANSWER, 0, 0, "")),
        ask(1, req(PARTY_KICK, 0, 2, "")),
        ask(0, req(PARTY_PROMOTE, 0, 1, "")),
        say(2, 2, "party line"),
        ask(1, req(PARTY_KICK, 0, 0, "")),
        SocialOp::Advance { ms: 600 },
        SocialOp::Detach { who: 1 },
        ask(2, req(PARTY_LEAVE, 0, 0, "")),
        SocialOp::Leave { who: 1 },
        SocialOp::Reattach { who: 1 },
        SocialOp::Advance { ms: 3_000 },
    ]);
    seeds.push(("party_and_raid", ops));

    let mut ops = enter_all(4);
    ops.extend([
        ask(0, req(GUILD_CREATE, 0, 0, "")),
        ask(1, req(GUILD_CREATE, 1, 0, "")),
        ask(1, req(GUILD_CREATE, 6, 0, "")),
        ask(1, req(GUILD_CREATE, 0xF0, 0, "G\u{0}ild")),
        ask(0, req(GUILD_INVITE, 1, 0, "")),
        ask(0, req(GUILD_INVITE, 2, 0, "")),
        ask(1, req(GUILD_ANSWER, 0, 0, "")),
        ask(2, req(GUILD_ANSWER, 0, 0, "")),
        say(1, 3, "guild line"),
        ask(0, req(GUILD_SET_RANK, 1, 1, "")),
        ask(1, req(GUILD_KICK, 0, 2, "")),
        ask(0, req(GUILD_SET_RANK, 0, 1, "")),
        ask(0, req(GUILD_LEAVE, 0, 0, "")),
        SocialOp::Advance { ms: 1_200 },
        SocialOp::Leave { who: 1 },
        SocialOp::Enter { who: 1, place: 3 },
        SocialOp::Advance { ms: 1_200 },
    ]);
    seeds.push(("guilds_and_look_alikes", ops));

    let ops = vec![
        SocialOp::Hold { hold: true },
        SocialOp::Enter { who: 0, place: 0 },
        SocialOp::Enter { who: 1, place: 0 },
        SocialOp::Leave { who: 0 },
        SocialOp::Enter { who: 0, place: 0 },
        SocialOp::Answer { which: 0, how: 1 },
        SocialOp::Advance { ms: 50 },
        SocialOp::Answer { which: 0, how: 0 },
        SocialOp::Answer { which: 0, how: 0 },
        SocialOp::Answer { which: 0, how: 0 },
        SocialOp::Move { who: 0, place: 1 },
        SocialOp::Leave { who: 0 },
        say(1, 1, "anyone"),
    ];
    seeds.push(("loads_late_and_twice", ops));
    seeds
}

/// The node target's social seeds (read by the seeds' tests with the others).
pub(super) fn node_scripts() -> Vec<(&'static str, u8, Vec<NodeOp>)> {
    let social = |slot: u8, request: SocialBytes| NodeOp::Social { slot, request };
    let mut ops = Vec::new();
    ops.extend(super::seeds::arrive(0, 0));
    ops.extend(super::seeds::arrive(1, 1));
    ops.push(NodeOp::Advance { ms: 100 });
    ops.extend([
        social(0, req(CHAT, 0, 0, "hi")),
        social(0, req(WHISPER, 0, 1, "psst")),
        social(1, req(CHAT, 3, 4, "sneaky")),
        social(0, req(PARTY_INVITE, 1, 0, "")),
        NodeOp::Advance { ms: 50 },
        social(1, req(PARTY_ANSWER, 0, 0, "")),
        social(1, req(CHAT, 0, 2, "party")),
        social(0, req(FRIEND_REQUEST, 1, 0, "")),
        NodeOp::Advance { ms: 50 },
        social(1, req(FRIEND_ANSWER, 0, 0, "")),
        social(0, req(GUILD_CREATE, 0, 0, "")),
        NodeOp::Advance { ms: 50 },
        social(0, req(GUILD_INVITE, 1, 0, "")),
        NodeOp::Advance { ms: 50 },
        social(1, req(GUILD_ANSWER, 0, 0, "")),
        social(1, req(CHAT, 0, 3, "guild")),
        social(1, req(BLOCK, 0, 0, "")),
        social(0, req(CHAT, 0, 1, "blocked?")),
        NodeOp::Operator { slot: 0, what: 1 },
        NodeOp::Advance { ms: 600 },
        NodeOp::Lost { slot: 1 },
        NodeOp::Advance { ms: 2_500 },
    ]);
    vec![("social_chat_party_guild", 3, ops)]
}

/// The social target's seeds.
pub fn all() -> Vec<Seed> {
    social_scripts()
        .into_iter()
        .map(|(name, ops)| {
            let mut w = ScriptWriter::default();
            for op in &ops {
                op.write(&mut w);
            }
            Seed {
                target: "social",
                name: name.into(),
                bytes: w.bytes,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::script::Script;
    use super::*;
    use std::collections::BTreeSet;
    use std::mem::discriminant;

    fn read(bytes: &[u8]) -> Vec<SocialOp> {
        let mut script = Script::new(bytes);
        let mut ops = Vec::new();
        while !script.done() {
            ops.push(SocialOp::read(&mut script));
        }
        ops
    }

    #[test]
    fn the_social_check_reads_back_every_operation_the_seeds_write() {
        for (seed, (name, ops)) in all().iter().zip(social_scripts()) {
            assert_eq!(read(&seed.bytes), ops, "{name}");
        }
    }

    #[test]
    fn the_social_seeds_use_every_operation_and_request() {
        let scripts = social_scripts();
        let ops: BTreeSet<_> = scripts
            .iter()
            .flat_map(|(_, ops)| ops.iter().map(|op| format!("{:?}", discriminant(op))))
            .collect();
        assert_eq!(ops.len(), SocialOp::COUNT as usize);
        let kinds: BTreeSet<u8> = scripts
            .iter()
            .flat_map(|(_, ops)| ops.iter())
            .filter_map(|op| match op {
                SocialOp::Request { request, .. } => Some(request.kind % 19),
                _ => None,
            })
            .collect();
        assert_eq!(kinds.len(), 19, "requests the seeds send: {kinds:?}");
    }
}
