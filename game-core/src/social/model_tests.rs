//! Random requests from a handful of characters, random drops, resumes and
//! leaves, and a store that sometimes fails: after every step the social
//! layer's parties, guilds, lists and deliveries keep their invariants.

use super::harness::H;
use super::*;
use crate::protocol::{ChatChannel, GuildRank};
use proptest::prelude::*;

const N: usize = 6;

#[derive(Clone, Debug)]
enum Op {
    Request(usize, u8, usize, bool),
    Chat(usize, u8),
    Detach(usize),
    Reattach(usize),
    Leave(usize),
    Enter(usize),
    Tick(u16),
    StoreDown(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..N, 0u8..14, 0..N, any::<bool>()).prop_map(|(a, k, b, f)| Op::Request(a, k, b, f)),
        3 => (0..N, 0u8..5).prop_map(|(a, c)| Op::Chat(a, c)),
        1 => (0..N).prop_map(Op::Detach),
        1 => (0..N).prop_map(Op::Reattach),
        1 => (0..N).prop_map(Op::Leave),
        2 => (0..N).prop_map(Op::Enter),
        2 => (0u16..40_000).prop_map(Op::Tick),
        1 => any::<bool>().prop_map(Op::StoreDown),
    ]
}

fn request(h: &H, kind: u8, other: usize, flag: bool, guild: Option<GuildId>) -> ClientSocial {
    let name = h.names[other].clone();
    let character = h.id(other);
    match kind {
        0 => ClientSocial::Block { character },
        1 => ClientSocial::Unblock { character },
        2 => ClientSocial::FriendRequest { name },
        3 => ClientSocial::FriendAnswer {
            from: character,
            accept: flag,
        },
        4 => ClientSocial::FriendRemove { character },
        5 => ClientSocial::PartyInvite { name },
        6 => ClientSocial::PartyAnswer {
            from: character,
            accept: flag,
        },
        7 => ClientSocial::PartyLeave,
        8 => ClientSocial::PartyKick { character },
        9 => ClientSocial::PartyPromote { character },
        10 => ClientSocial::GuildCreate {
            name: if flag {
                "Watch".into()
            } else {
                "W4tch Two".into()
            },
        },
        11 => ClientSocial::GuildInvite { name },
        12 => ClientSocial::GuildAnswer {
            guild: guild.unwrap_or(GuildId(1)),
            accept: flag,
        },
        _ => ClientSocial::GuildSetRank {
            character,
            rank: if flag {
                GuildRank::Officer
            } else {
                GuildRank::Leader
            },
        },
    }
}

fn check(h: &H) {
    let cfg = h.s.config().clone();
    for i in 0..N {
        let c = h.id(i);
        if let Some((leader, members)) = h.s.party_of(c) {
            assert!(members.contains(&c) && members.contains(&leader));
            assert!(members.len() >= 2 && members.len() <= cfg.raid_size as usize);
            for &m in members {
                let (l2, m2) = h.s.party_of(m).expect("every member is in it");
                assert_eq!((l2, m2), (leader, members));
            }
        }
        if let Some((g, rank)) = h.s.guild_of(c) {
            let (_, members) = h.s.guild(g).expect("held");
            assert!(members.iter().any(|(m, r)| m.character == c && *r == rank));
            let leaders = members
                .iter()
                .filter(|(_, r)| *r == GuildRank::Leader)
                .count();
            assert_eq!(leaders, 1, "one leader");
            assert!(members.len() <= cfg.guild_size as usize);
        }
        let friends: Vec<_> = h.s.friends_of(c).collect();
        assert!(friends.len() <= cfg.max_friends as usize);
        // A friendship shown here is one the store has.
        for f in friends {
            let pair = (c.min(f), c.max(f));
            assert!(h.store.friendships().any(|p| p == pair), "{pair:?}");
        }
    }
    // Nobody hears a chat line from someone it blocks.
    for (to, msgs) in &h.inbox {
        for m in msgs {
            if let ServerSocial::Chat(line) = m {
                assert!(!h.s.blocks(*to, line.from), "{to:?} heard {line:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_requests_keep_every_invariant(ops in proptest::collection::vec(op(), 1..120)) {
        let names = ["ada", "bo", "cy", "di", "eve", "fay"];
        let mut h = H::new(&names);
        let mut entered = [false; N];
        for (i, e) in entered.iter_mut().enumerate() {
            h.enter(i);
            *e = true;
        }
        for op in ops {
            match op {
                Op::Request(a, kind, b, flag) if entered[a] => {
                    let guild = h.s.guild_of(h.id(b)).map(|(g, _)| g);
                    let r = request(&h, kind, b, flag, guild);
                    h.req(a, r);
                }
                Op::Chat(a, c) if entered[a] => {
                    let channel = [ChatChannel::Say, ChatChannel::Zone, ChatChannel::Party,
                        ChatChannel::Guild, ChatChannel::World][c as usize];
                    h.req_near(a, ClientSocial::Chat { channel, text: "hi".into() }, &[0, 1, 2]);
                }
                Op::Detach(a) => { h.s.detached(h.id(a)); h.settle(); }
                Op::Reattach(a) => { h.s.reattached(h.id(a)); h.settle(); }
                Op::Leave(a) if entered[a] => {
                    h.s.left(h.id(a));
                    h.s.save_due(h.now);
                    h.settle();
                    entered[a] = false;
                }
                Op::Enter(a) if !entered[a] => { h.enter(a); entered[a] = true; }
                Op::Tick(ms) => h.tick(ms as u64),
                Op::StoreDown(down) => h.store_down = down,
                _ => {}
            }
            check(&h);
            h.inbox.clear();
        }
    }
}
