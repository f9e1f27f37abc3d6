//! The social layer against the reference store, one behaviour per test.
//! `model_tests.rs` runs random requests against its invariants.

use super::harness::H;
use super::*;
use crate::protocol::{ChatChannel, Friend};
use crate::time::Duration;

fn line(text: &str) -> String {
    text.to_string()
}

#[test]
fn each_channel_reaches_its_members_and_no_one_else() {
    let mut h = H::new(&["ada", "bo", "cy", "di"]);
    h.enter_at(0, "meadow", 1);
    h.enter_at(1, "meadow", 1);
    h.enter_at(2, "meadow", 2);
    h.enter_at(3, "forest", 1);
    h.join_party(0, 3);
    h.clear();

    h.say(0, ChatChannel::Zone, "zone");
    h.req_near(
        0,
        ClientSocial::Chat {
            channel: ChatChannel::Say,
            text: "say".into(),
        },
        &[2],
    );
    h.say(0, ChatChannel::Party, "party");
    h.say(0, ChatChannel::World, "world");
    use ChatChannel::*;
    assert_eq!(
        h.heard(0),
        [
            (Zone, line("zone")),
            (Say, line("say")),
            (Party, line("party")),
            (World, line("world"))
        ]
    );
    assert_eq!(h.heard(1), [(Zone, line("zone")), (World, line("world"))]);
    assert_eq!(h.heard(2), [(Say, line("say")), (World, line("world"))]);
    assert_eq!(h.heard(3), [(Party, line("party")), (World, line("world"))]);
    assert_eq!(h.s.stats().lines[ChatChannel::World as usize], 1);
}

#[test]
fn a_zone_line_follows_the_speaker_to_its_new_channel() {
    let mut h = H::new(&["ada", "bo"]);
    h.enter_at(0, "meadow", 1);
    h.enter_at(1, "meadow", 2);
    h.s.moved(
        h.id(0),
        Whereabouts {
            map: "meadow".into(),
            channel: 2,
        },
    );
    h.clear();
    h.say(0, ChatChannel::Zone, "here now");
    assert_eq!(h.heard(1), [(ChatChannel::Zone, line("here now"))]);
}

#[test]
fn bad_text_is_refused_with_its_reason_and_reaches_no_one() {
    let mut h = H::entered(&["ada", "bo"]);
    h.clear();
    let long = "x".repeat(257);
    for (text, reason) in [
        (long.as_str(), SocialRefusal::TooLong),
        ("", SocialRefusal::InvalidText),
        ("   ", SocialRefusal::InvalidText),
        ("bell\u{7}", SocialRefusal::InvalidText),
        ("evil\u{202e}txet", SocialRefusal::InvalidText),
        ("zero\u{200b}width", SocialRefusal::InvalidText),
    ] {
        h.say(0, ChatChannel::Zone, text);
        assert_eq!(h.refusals(0), [reason], "{text:?}");
    }
    assert!(h.heard(1).is_empty());
    // 256 bytes of multi-byte text is fine; emoji with joiners too.
    h.say(0, ChatChannel::Zone, &"é".repeat(128));
    h.say(0, ChatChannel::Zone, "👩\u{200d}👩\u{200d}👧");
    assert_eq!(h.heard(1).len(), 2);
    h.say(0, ChatChannel::Whisper, "by chat");
    h.say(0, ChatChannel::System, "spoof");
    assert_eq!(
        h.refusals(0),
        [SocialRefusal::WrongChannel, SocialRefusal::WrongChannel]
    );
}

#[test]
fn each_channel_has_its_own_rate_and_world_the_strictest() {
    let mut h = H::entered(&["ada", "bo"]);
    h.clear();
    for n in 0..5 {
        h.say(0, ChatChannel::Say, &format!("say {n}"));
    }
    h.say(0, ChatChannel::Say, "one too many");
    assert_eq!(h.refusals(0), [SocialRefusal::RateLimited]);
    // Other channels are untouched by say's limit.
    h.say(0, ChatChannel::World, "first");
    h.say(0, ChatChannel::World, "second");
    assert_eq!(h.refusals(0), [SocialRefusal::RateLimited]);
    h.tick(1_000);
    h.say(0, ChatChannel::Say, "a second later");
    h.say(0, ChatChannel::World, "still too soon");
    assert_eq!(h.refusals(0), [SocialRefusal::RateLimited]);
    h.tick(30_000);
    h.say(0, ChatChannel::World, "thirty seconds on");
    assert!(h.refusals(0).is_empty());
}

#[test]
fn a_muted_character_is_refused_until_the_mute_expires() {
    let mut h = H::entered(&["ada", "bo"]);
    h.clear();
    let until = h.now + Duration::from_secs(60);
    h.s.mute(h.id(0), until);
    h.say(0, ChatChannel::Zone, "hello?");
    h.req(
        0,
        ClientSocial::Whisper {
            to: "bo".into(),
            text: "psst".into(),
        },
    );
    assert_eq!(h.refusals(0), [SocialRefusal::Muted, SocialRefusal::Muted]);
    // A new login does not lift it.
    h.s.left(h.id(0));
    h.enter(0);
    h.clear();
    h.say(0, ChatChannel::Zone, "relogged");
    assert_eq!(h.refusals(0), [SocialRefusal::Muted]);
    h.tick(60_000);
    h.say(0, ChatChannel::Zone, "free");
    assert_eq!(h.heard(1), [(ChatChannel::Zone, line("free"))]);
}

#[test]
fn a_whisper_reaches_its_target_once_by_name_in_any_case_and_is_echoed() {
    let mut h = H::entered(&["ada", "Bo", "cy"]);
    h.clear();
    for text in ["one", "two"] {
        h.req(
            0,
            ClientSocial::Whisper {
                to: "BO".into(),
                text: text.into(),
            },
        );
    }
    assert_eq!(
        h.heard(1),
        [
            (ChatChannel::Whisper, line("one")),
            (ChatChannel::Whisper, line("two"))
        ]
    );
    let echoes: Vec<_> = h.take(0);
    assert!(
        matches!(&echoes[..], [ServerSocial::Whispered { to, .. }, ServerSocial::Whispered { .. }] if to.name == "Bo")
    );
    assert!(h.heard(2).is_empty());
    // Offline, unknown, and oneself.
    h.s.detached(h.id(2));
    for (to, reason) in [
        ("cy", SocialRefusal::NotOnline),
        ("nobody", SocialRefusal::NotOnline),
        ("ada", SocialRefusal::Yourself),
    ] {
        h.req(
            0,
            ClientSocial::Whisper {
                to: to.into(),
                text: "hi".into(),
            },
        );
        assert_eq!(h.refusals(0), [reason], "{to}");
    }
}

#[test]
fn a_blocked_character_is_never_heard_by_its_blocker_and_the_block_is_kept() {
    let mut h = H::entered(&["ada", "bo", "cy"]);
    h.join_party(0, 1);
    let bo = h.id(1);
    h.req(0, ClientSocial::Block { character: bo });
    h.clear();
    for channel in [ChatChannel::Zone, ChatChannel::Party, ChatChannel::World] {
        h.tick(31_000);
        h.say(1, channel, "from bo");
    }
    h.req(
        1,
        ClientSocial::Whisper {
            to: "ada".into(),
            text: "psst".into(),
        },
    );
    // The blocker looks offline to whom it blocks.
    assert_eq!(h.refusals(1), [SocialRefusal::NotOnline]);
    assert!(h.heard(0).is_empty());
    assert_eq!(h.heard(2).len(), 2, "cy hears bo's zone and world lines");
    h.req(1, ClientSocial::PartyInvite { name: "ada".into() });
    assert_eq!(h.refusals(1), [SocialRefusal::NotOnline]);
    // Kept in the store: after a new login ada still blocks bo.
    h.s.left(h.id(0));
    h.enter(0);
    assert!(h.s.blocks(h.id(0), bo));
    let lists = h.take(0);
    assert!(lists
        .iter()
        .any(|m| matches!(m, ServerSocial::Blocked { blocked } if blocked[0].character == bo)));
    h.req(0, ClientSocial::Unblock { character: bo });
    h.tick(31_000);
    h.say(1, ChatChannel::World, "heard again");
    assert_eq!(h.heard(0), [(ChatChannel::World, line("heard again"))]);
}

#[test]
fn friends_are_made_by_request_and_answer_kept_and_told_of_presence() {
    let mut h = H::entered(&["ada", "bo"]);
    h.clear();
    h.req(0, ClientSocial::FriendRequest { name: "bo".into() });
    let asked = h.take(1);
    assert!(matches!(&asked[..], [ServerSocial::FriendRequested { from }] if from.name == "ada"));
    let ada = h.id(0);
    h.req(
        1,
        ClientSocial::FriendAnswer {
            from: ada,
            accept: true,
        },
    );
    assert_eq!(h.store.friendships().count(), 1);
    for (me, other) in [(0, 1), (1, 0)] {
        let got = h.take(me);
        let expected = Friend {
            contact: Contact {
                character: h.id(other),
                name: h.names[other].clone(),
            },
            online: Some(Whereabouts {
                map: "meadow".into(),
                channel: 1,
            }),
        };
        assert_eq!(got, [ServerSocial::FriendChanged(expected)]);
    }
    // Presence: bo moves, drops, comes back, leaves.
    let bo = h.id(1);
    h.s.moved(
        bo,
        Whereabouts {
            map: "forest".into(),
            channel: 1,
        },
    );
    h.s.detached(bo);
    h.s.reattached(bo);
    h.s.left(bo);
    h.settle();
    let seen: Vec<Option<String>> = h
        .take(0)
        .into_iter()
        .filter_map(|m| match m {
            ServerSocial::FriendChanged(f) => Some(f.online.map(|w| w.map)),
            _ => None,
        })
        .collect();
    assert_eq!(
        seen,
        [Some("forest".into()), None, Some("forest".into()), None]
    );
    // Kept: the next login lists ada as a friend, online.
    h.enter(1);
    let lists = h.take(1);
    assert!(
        matches!(&lists[0], ServerSocial::Friends { friends } if friends.len() == 1 && friends[0].online.is_some())
    );
    h.req(1, ClientSocial::FriendRemove { character: ada });
    assert_eq!(h.store.friendships().count(), 0);
    assert!(h
        .take(0)
        .contains(&ServerSocial::FriendRemoved { character: bo }));
}

#[test]
fn friend_requests_are_bounded_expire_and_can_be_declined() {
    let names: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let mut h = H::new(&refs);
    for i in 0..10 {
        h.enter(i);
    }
    h.clear();
    for i in 1..10 {
        h.tick(1_000);
        h.req(i, ClientSocial::FriendRequest { name: "p0".into() });
    }
    // Eight wait for p0; the ninth is refused.
    assert_eq!(h.refusals(9), [SocialRefusal::TooManyInvites]);
    let from = h.id(1);
    h.req(
        0,
        ClientSocial::FriendAnswer {
            from,
            accept: false,
        },
    );
    assert!(matches!(&h.take(1)[..], [ServerSocial::Declined { by }] if by.name == "p0"));
    h.tick(300_000);
    let from = h.id(2);
    h.req(0, ClientSocial::FriendAnswer { from, accept: true });
    assert_eq!(h.refusals(0), [SocialRefusal::NoInvite]);
    assert_eq!(h.store.friendships().count(), 0);
}

#[test]
fn a_friendship_the_store_does_not_take_is_refused_and_not_shown() {
    let mut h = H::entered(&["ada", "bo"]);
    h.req(0, ClientSocial::FriendRequest { name: "bo".into() });
    h.clear();
    h.store_down = true;
    let ada = h.id(0);
    h.req(
        1,
        ClientSocial::FriendAnswer {
            from: ada,
            accept: true,
        },
    );
    assert_eq!(h.refusals(1), [SocialRefusal::Busy]);
    assert!(h.take(0).is_empty());
    assert_eq!(h.s.friends_of(ada).count(), 0);
}

#[test]
fn a_record_the_store_cannot_load_is_asked_for_again_a_second_later() {
    let mut h = H::new(&["ada", "bo"]);
    h.enter(1);
    h.store_down = true;
    h.enter(0);
    assert!(!h.s.is_online(h.id(0)));
    h.clear();
    h.say(0, ChatChannel::Zone, "too early");
    assert_eq!(h.refusals(0), [SocialRefusal::Busy]);
    h.store_down = false;
    h.tick(50);
    assert!(!h.s.is_online(h.id(0)), "not every tick: a second later");
    h.tick(1_000);
    assert!(h.s.is_online(h.id(0)));
    assert!(matches!(h.take(0)[0], ServerSocial::Friends { .. }));
}

#[test]
fn a_friendship_lands_for_the_side_still_here_when_the_other_left_meanwhile() {
    let mut h = H::entered(&["ada", "bo"]);
    h.req(0, ClientSocial::FriendRequest { name: "bo".into() });
    h.hold = true;
    let ada = h.id(0);
    h.req(
        1,
        ClientSocial::FriendAnswer {
            from: ada,
            accept: true,
        },
    );
    h.s.left(ada);
    h.clear();
    h.release();
    assert!(h.s.friends_of(h.id(1)).any(|f| f == ada));
    let got = h.take(1);
    assert!(
        matches!(&got[..], [ServerSocial::FriendChanged(f)] if f.contact.name == "ada" && f.online.is_none()),
        "{got:?}"
    );
}

#[test]
fn accepts_in_flight_count_against_the_friends_cap() {
    let config = SocialConfig {
        max_friends: 1,
        ..SocialConfig::default()
    };
    let mut h = H::with_config(config, &["ada", "bo", "cy"]);
    for i in 0..3 {
        h.enter(i);
    }
    h.req(1, ClientSocial::FriendRequest { name: "ada".into() });
    h.req(2, ClientSocial::FriendRequest { name: "ada".into() });
    h.clear();
    h.hold = true;
    let (bo, cy) = (h.id(1), h.id(2));
    h.req(
        0,
        ClientSocial::FriendAnswer {
            from: bo,
            accept: true,
        },
    );
    h.req(
        0,
        ClientSocial::FriendAnswer {
            from: cy,
            accept: true,
        },
    );
    assert_eq!(h.refusals(0), [SocialRefusal::ListFull]);
    h.release();
    assert_eq!(h.s.friends_of(h.id(0)).count(), 1);
}

#[test]
fn a_blocked_friend_sees_the_blocker_offline_until_unblocked() {
    let mut h = H::entered(&["ada", "bo"]);
    h.req(0, ClientSocial::FriendRequest { name: "bo".into() });
    let ada = h.id(0);
    h.req(
        1,
        ClientSocial::FriendAnswer {
            from: ada,
            accept: true,
        },
    );
    let bo = h.id(1);
    h.clear();
    h.req(0, ClientSocial::Block { character: bo });
    let online = |msgs: Vec<ServerSocial>| -> Vec<bool> {
        msgs.into_iter()
            .filter_map(|m| match m {
                ServerSocial::FriendChanged(f) => Some(f.online.is_some()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(online(h.take(1)), [false]);
    // Moving does not tell bo where ada went.
    h.s.moved(
        ada,
        Whereabouts {
            map: "forest".into(),
            channel: 1,
        },
    );
    h.settle();
    assert!(online(h.take(1)).is_empty());
    h.tick(1_000);
    h.req(0, ClientSocial::Unblock { character: bo });
    assert_eq!(online(h.take(1)), [true]);
}
