//! Parties and guilds, one behaviour per test (harness in `tests.rs`).

use super::harness::H;
use super::*;
use crate::protocol::{ChatChannel, GuildRank};
use crate::time::Duration;

fn party(h: &H, i: usize) -> Option<(CharacterId, Vec<CharacterId>)> {
    h.s.party_of(h.id(i)).map(|(l, m)| (l, m.to_vec()))
}

#[test]
fn a_party_forms_on_the_first_accept_and_the_next_member_leads_when_the_leader_leaves() {
    let mut h = H::entered(&["ada", "bo", "cy"]);
    h.join_party(0, 1);
    h.join_party(0, 2);
    let (a, b, c) = (h.id(0), h.id(1), h.id(2));
    assert_eq!(party(&h, 2), Some((a, vec![a, b, c])));
    let views = h.take(2);
    assert!(views
        .iter()
        .any(|m| matches!(m, ServerSocial::Party(Some(v)) if v.members.len() == 3 && v.cap == 5)));
    h.req(0, ClientSocial::PartyLeave);
    assert_eq!(party(&h, 1), Some((b, vec![b, c])));
    assert!(h.take(0).contains(&ServerSocial::Party(None)));
    // Two left; one leaving ends the party.
    h.req(2, ClientSocial::PartyLeave);
    assert_eq!(party(&h, 1), None);
    assert!(h.take(1).contains(&ServerSocial::Party(None)));
    assert_eq!(h.s.party_count(), 0);
}

#[test]
fn only_the_leader_invites_kicks_promotes_and_the_cap_holds() {
    let names = ["p0", "p1", "p2", "p3", "p4", "p5", "p6"];
    let mut h = H::new(&names);
    for i in 0..7 {
        h.enter(i);
    }
    for i in 1..5 {
        h.join_party(0, i);
    }
    h.inbox.clear();
    h.req(0, ClientSocial::PartyInvite { name: "p5".into() });
    assert_eq!(h.refusals(0), [SocialRefusal::PartyFull]);
    h.req(1, ClientSocial::PartyInvite { name: "p6".into() });
    let p2 = h.id(2);
    h.req(1, ClientSocial::PartyKick { character: p2 });
    h.req(1, ClientSocial::PartyPromote { character: p2 });
    h.req(1, ClientSocial::PartyMakeRaid);
    assert_eq!(h.refusals(1), [SocialRefusal::NotAllowed; 4]);
    // A raid party holds more.
    h.req(0, ClientSocial::PartyMakeRaid);
    h.join_party(0, 5);
    assert_eq!(party(&h, 5).unwrap().1.len(), 6);
    h.tick(5_000);
    h.req(0, ClientSocial::PartyKick { character: p2 });
    assert_eq!(party(&h, 2), None);
    let p6 = h.id(6);
    h.req(0, ClientSocial::PartyKick { character: p6 });
    h.req(
        0,
        ClientSocial::PartyPromote {
            character: h.ids[0],
        },
    );
    assert_eq!(
        h.refusals(0),
        [SocialRefusal::NotMember, SocialRefusal::Yourself]
    );
    let p3 = h.id(3);
    h.req(0, ClientSocial::PartyPromote { character: p3 });
    assert_eq!(party(&h, 0).unwrap().0, p3);
}

#[test]
fn an_invitation_expires_is_one_at_a_time_and_an_answer_needs_one() {
    let mut h = H::entered(&["ada", "bo", "cy"]);
    h.req(0, ClientSocial::PartyInvite { name: "cy".into() });
    h.req(1, ClientSocial::PartyInvite { name: "cy".into() });
    assert_eq!(h.refusals(1), [SocialRefusal::TooManyInvites]);
    let bo = h.id(1);
    h.req(
        2,
        ClientSocial::PartyAnswer {
            from: bo,
            accept: true,
        },
    );
    assert_eq!(h.refusals(2), [SocialRefusal::NoInvite]);
    h.tick(30_000);
    let ada = h.id(0);
    h.req(
        2,
        ClientSocial::PartyAnswer {
            from: ada,
            accept: true,
        },
    );
    assert_eq!(h.refusals(2), [SocialRefusal::NoInvite]);
    assert_eq!(party(&h, 2), None);
    // Declining tells the inviter.
    h.req(1, ClientSocial::PartyInvite { name: "cy".into() });
    h.req(
        2,
        ClientSocial::PartyAnswer {
            from: bo,
            accept: false,
        },
    );
    assert!(matches!(&h.take(1)[..], [ServerSocial::Declined { by }] if by.name == "cy"));
}

#[test]
fn a_party_outlives_a_dropped_connection_and_loses_a_member_who_leaves() {
    let mut h = H::entered(&["ada", "bo", "cy"]);
    h.join_party(0, 1);
    h.join_party(0, 2);
    let (a, b, c) = (h.id(0), h.id(1), h.id(2));
    h.inbox.clear();
    h.s.detached(a);
    h.settle();
    // Still in the party, shown as not connected, and still its leader.
    assert_eq!(party(&h, 1), Some((a, vec![a, b, c])));
    let view = h.take(1);
    assert!(view
        .iter()
        .any(|m| matches!(m, ServerSocial::Party(Some(v)) if !v.members[0].1)));
    h.s.reattached(a);
    h.s.left(a);
    h.settle();
    assert_eq!(party(&h, 1), Some((b, vec![b, c])));
}

#[test]
fn members_are_due_each_others_vitals_twice_a_second() {
    let mut h = H::entered(&["ada", "bo", "cy"]);
    h.join_party(0, 1);
    let mut due = Vec::new();
    let mut pairs = 0;
    for _ in 0..20 {
        h.now += Duration::from_millis(50);
        due.clear();
        h.s.tick(h.now, &mut due);
        pairs += due.len();
        assert!(due.iter().all(|&(_, c)| c == h.id(0) || c == h.id(1)));
    }
    // One second: two rounds of two members.
    assert_eq!(pairs, 4);
}

#[test]
fn a_guild_is_founded_under_a_free_name_and_look_alikes_are_taken() {
    let mut h = H::entered(&["ada", "bo", "cy"]);
    h.req(
        0,
        ClientSocial::GuildCreate {
            name: "Night Watch".into(),
        },
    );
    let (id, rank) = h.s.guild_of(h.id(0)).expect("founded");
    assert_eq!(rank, GuildRank::Leader);
    assert!(h
        .take(0)
        .iter()
        .any(|m| matches!(m, ServerSocial::Guild(Some(v)) if v.guild == id)));
    for (name, reason) in [
        ("NIGHT VVATCH", SocialRefusal::NameTaken),
        ("N1ght Watch", SocialRefusal::NameTaken),
        ("Night Wаtch", SocialRefusal::InvalidName),
        ("x", SocialRefusal::InvalidName),
    ] {
        h.req(1, ClientSocial::GuildCreate { name: name.into() });
        assert_eq!(h.refusals(1), [reason], "{name}");
    }
    h.req(
        0,
        ClientSocial::GuildCreate {
            name: "Second".into(),
        },
    );
    assert_eq!(h.refusals(0), [SocialRefusal::AlreadyInGuild]);
}

#[test]
fn ranks_decide_who_invites_kicks_and_leads() {
    let mut h = H::entered(&["ada", "bo", "cy", "di"]);
    let g = h.found_guild(0, "Watch");
    for i in 1..3 {
        let name = h.names[i].clone();
        h.req(0, ClientSocial::GuildInvite { name });
        h.req(
            i,
            ClientSocial::GuildAnswer {
                guild: g,
                accept: true,
            },
        );
    }
    h.inbox.clear();
    let (bo, cy) = (h.id(1), h.id(2));
    // A member may not invite or kick.
    h.req(1, ClientSocial::GuildInvite { name: "di".into() });
    h.req(1, ClientSocial::GuildKick { character: cy });
    h.req(
        1,
        ClientSocial::GuildSetRank {
            character: cy,
            rank: GuildRank::Officer,
        },
    );
    assert_eq!(h.refusals(1), [SocialRefusal::NotAllowed; 3]);
    // An officer invites and kicks members, not the leader.
    h.tick(5_000);
    h.req(
        0,
        ClientSocial::GuildSetRank {
            character: bo,
            rank: GuildRank::Officer,
        },
    );
    h.req(
        1,
        ClientSocial::GuildKick {
            character: h.ids[0],
        },
    );
    assert_eq!(h.refusals(1), [SocialRefusal::NotAllowed]);
    h.req(1, ClientSocial::GuildKick { character: cy });
    assert_eq!(h.s.guild_of(cy), None);
    assert!(h.take(2).contains(&ServerSocial::Guild(None)));
    // The leader leaving hands the lead to the first officer.
    h.req(0, ClientSocial::GuildLeave);
    assert_eq!(h.s.guild_of(bo), Some((g, GuildRank::Leader)));
}

#[test]
fn guild_lines_are_kept_saved_and_shown_at_the_next_login() {
    let mut h = H::entered(&["ada", "bo"]);
    let g = h.found_guild(0, "Watch");
    h.join_guild(0, 1, g);
    for n in 0..3 {
        h.tick(1_000);
        h.req(
            0,
            ClientSocial::Chat {
                channel: ChatChannel::Guild,
                text: format!("line {n}"),
            },
        );
    }
    // Saved within guild_save_ms.
    h.tick(10_000);
    assert_eq!(h.store.guild(g).unwrap().history.len(), 3);
    assert_eq!(h.store.guild(g).unwrap().members.len(), 2);
    // Everyone leaves: the guild is forgotten here, and comes back with bo.
    h.s.left(h.id(0));
    h.s.left(h.id(1));
    h.s.save_due(h.now);
    h.settle();
    assert_eq!(h.s.guild_count(), 0);
    h.inbox.clear();
    h.enter(1);
    let got = h.take(1);
    let history = got.iter().find_map(|m| match m {
        ServerSocial::GuildHistory { lines } => Some(lines.len()),
        _ => None,
    });
    assert_eq!(history, Some(3));
    assert_eq!(h.s.guild_of(h.id(1)), Some((g, GuildRank::Member)));
}

#[test]
fn the_last_member_leaving_disbands_the_guild_and_frees_its_name() {
    let mut h = H::entered(&["ada", "bo"]);
    let g = h.found_guild(0, "Watch");
    h.req(0, ClientSocial::GuildLeave);
    h.tick(50);
    assert!(h.store.guild(g).is_none());
    assert_eq!(h.s.guild_count(), 0);
    h.req(
        1,
        ClientSocial::GuildCreate {
            name: "watch".into(),
        },
    );
    assert!(h.s.guild_of(h.id(1)).is_some());
}

#[test]
fn party_and_guild_lines_from_non_members_are_refused() {
    let mut h = H::new(&["ada"]);
    h.enter(0);
    h.inbox.clear();
    for channel in [ChatChannel::Party, ChatChannel::Guild] {
        h.req(
            0,
            ClientSocial::Chat {
                channel,
                text: "anyone?".into(),
            },
        );
    }
    h.req(0, ClientSocial::PartyLeave);
    h.req(0, ClientSocial::GuildLeave);
    assert_eq!(
        h.refusals(0),
        [
            SocialRefusal::NotInParty,
            SocialRefusal::NotInGuild,
            SocialRefusal::NotInParty,
            SocialRefusal::NotInGuild
        ]
    );
}

#[test]
fn a_guild_save_the_store_fails_is_tried_again_a_second_later() {
    let mut h = H::entered(&["ada", "bo"]);
    let g = h.found_guild(0, "Watch");
    h.store_down = true;
    h.join_guild(0, 1, g);
    h.tick(50);
    assert_eq!(
        h.store.guild(g).unwrap().members.len(),
        1,
        "the save failed"
    );
    h.store_down = false;
    h.tick(50);
    assert_eq!(h.store.guild(g).unwrap().members.len(), 1, "not every tick");
    h.tick(1_000);
    assert_eq!(h.store.guild(g).unwrap().members.len(), 2);
}

#[test]
fn an_invitation_is_into_the_party_it_was_made_for() {
    let mut h = H::entered(&["ada", "bo", "cy", "di"]);
    // ada invites cy while in no party, then joins bo's party.
    h.req(0, ClientSocial::PartyInvite { name: "cy".into() });
    h.join_party(1, 0);
    let ada = h.id(0);
    h.inbox.clear();
    h.req(
        2,
        ClientSocial::PartyAnswer {
            from: ada,
            accept: true,
        },
    );
    assert_eq!(h.refusals(2), [SocialRefusal::NoInvite]);
    assert_eq!(party(&h, 2), None);
}

#[test]
fn someone_in_no_party_may_invite_several_at_once() {
    let mut h = H::entered(&["ada", "bo", "cy"]);
    for name in ["bo", "cy"] {
        h.req(0, ClientSocial::PartyInvite { name: name.into() });
    }
    let ada = h.id(0);
    for i in [1, 2] {
        h.req(
            i,
            ClientSocial::PartyAnswer {
                from: ada,
                accept: true,
            },
        );
    }
    assert_eq!(party(&h, 2).unwrap().1.len(), 3);
}

#[test]
fn a_character_founding_a_guild_cannot_join_another_meanwhile() {
    let mut h = H::entered(&["ada", "bo"]);
    let g = h.found_guild(0, "Watch");
    h.req(0, ClientSocial::GuildInvite { name: "bo".into() });
    h.hold = true;
    h.req(
        1,
        ClientSocial::GuildCreate {
            name: "Other".into(),
        },
    );
    h.inbox.clear();
    h.req(
        1,
        ClientSocial::GuildAnswer {
            guild: g,
            accept: false,
        },
    );
    h.join_guild(0, 1, g);
    assert_eq!(h.refusals(1), [SocialRefusal::Busy]);
    h.release();
    let (mine, _) = h.s.guild_of(h.id(1)).unwrap();
    assert_ne!(mine, g);
    assert_eq!(h.s.guild(g).unwrap().1.len(), 1);
}

#[test]
fn guild_history_leaves_out_whom_the_reader_blocks() {
    let mut h = H::entered(&["ada", "bo"]);
    let g = h.found_guild(0, "Watch");
    h.join_guild(0, 1, g);
    for (i, text) in [(0, "from ada"), (1, "from bo")] {
        h.req(
            i,
            ClientSocial::Chat {
                channel: ChatChannel::Guild,
                text: text.into(),
            },
        );
    }
    let ada = h.id(0);
    h.req(1, ClientSocial::Block { character: ada });
    h.s.left(h.id(1));
    h.inbox.clear();
    h.enter(1);
    let history = h.take(1).into_iter().find_map(|m| match m {
        ServerSocial::GuildHistory { lines } => Some(lines),
        _ => None,
    });
    let texts: Vec<String> = history.unwrap().into_iter().map(|l| l.text).collect();
    assert_eq!(texts, ["from bo"]);
}

#[test]
fn a_guild_whose_leader_was_deleted_is_led_by_the_next_when_loaded() {
    let mut h = H::entered(&["ada", "bo", "cy"]);
    let g = h.found_guild(0, "Watch");
    for i in 1..3 {
        let name = h.names[i].clone();
        h.tick(1_000);
        h.req(0, ClientSocial::GuildInvite { name });
        h.req(
            i,
            ClientSocial::GuildAnswer {
                guild: g,
                accept: true,
            },
        );
    }
    for i in 0..3 {
        h.s.left(h.id(i));
    }
    h.s.save_due(h.now);
    h.settle();
    // Ada's character is deleted: the stored guild has no leader.
    h.delete_character(0);
    h.enter(2);
    assert_eq!(h.s.guild_of(h.id(2)), Some((g, GuildRank::Member)));
    let leader = h.s.guild(g).unwrap().1[0].clone();
    assert_eq!(
        (leader.0.name.as_str(), leader.1),
        ("bo", GuildRank::Leader)
    );
}
