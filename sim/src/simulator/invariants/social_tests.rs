//! The social checks catch what they are for: each fed messages that break
//! one rule, beside the same messages done right.

use super::membership::{disagreement, party_breaks, Membership};
use super::social::{Owed, SocialChecker, SETTLE};
use game_core::ids::{CharacterId, ConnId, GuildId};
use game_core::protocol::{
    ChatChannel, ChatLine, Contact, GuildRank, GuildView, PartyView, ServerSocial,
};
use game_core::time::{Duration, Instant};

const A: CharacterId = CharacterId(1);
const B: CharacterId = CharacterId(2);
const C: CharacterId = CharacterId(3);
const CONN: Option<ConnId> = Some(ConnId(7));
const T0: Instant = Instant::ZERO;

fn whisper(from: CharacterId, text: &str) -> Owed {
    Owed::Line {
        channel: ChatChannel::Whisper,
        from,
        text: text.into(),
    }
}

fn heard(from: CharacterId, channel: ChatChannel, text: &str) -> ServerSocial {
    ServerSocial::Chat(ChatLine {
        channel,
        from,
        from_name: format!("bot{}", from.0),
        text: text.into(),
    })
}

fn contact(c: CharacterId) -> Contact {
    Contact {
        character: c,
        name: format!("bot{}", c.0),
    }
}

/// Feeds `msgs` to `to`'s client (on `CONN`, blocking `blocked`): the failures.
fn feed(
    s: &mut SocialChecker,
    to: CharacterId,
    blocked: &[CharacterId],
    msgs: &[ServerSocial],
) -> Vec<String> {
    let blocked: Vec<Contact> = blocked.iter().map(|&c| contact(c)).collect();
    let mut failures = Vec::new();
    for m in msgs {
        s.on_message(to, &blocked, CONN, m, &mut failures);
    }
    failures
}

/// A checker owing B two whispers from A, in this order.
fn two_whispers() -> SocialChecker {
    let mut s = SocialChecker::new(30);
    s.owe(B, CONN, T0, whisper(A, "w1"));
    s.owe(B, CONN, T0, whisper(A, "w2"));
    s
}

#[test]
fn whispers_heard_once_and_in_order_pass() {
    let mut s = two_whispers();
    let f = feed(
        &mut s,
        B,
        &[],
        &[
            heard(A, ChatChannel::Whisper, "w1"),
            heard(A, ChatChannel::Whisper, "w2"),
        ],
    );
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(s.counts.copies_heard, 2);
}

#[test]
fn a_whisper_lost_without_chat_missed_is_caught() {
    let mut s = two_whispers();
    let f = feed(&mut s, B, &[], &[heard(A, ChatChannel::Whisper, "w2")]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("skipping 1"), "{f:?}");
}

#[test]
fn a_whisper_shed_and_counted_by_chat_missed_passes() {
    let mut s = two_whispers();
    let f = feed(
        &mut s,
        B,
        &[],
        &[
            ServerSocial::ChatMissed { count: 1 },
            heard(A, ChatChannel::Whisper, "w2"),
        ],
    );
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(s.counts.copies_shed, 1);
}

#[test]
fn chat_missed_counting_more_than_was_skipped_is_caught() {
    let mut s = two_whispers();
    let f = feed(
        &mut s,
        B,
        &[],
        &[
            ServerSocial::ChatMissed { count: 3 },
            heard(A, ChatChannel::Whisper, "w1"),
        ],
    );
    assert_eq!(f.len(), 1, "{f:?}");
}

#[test]
fn whispers_out_of_order_are_caught() {
    let mut s = two_whispers();
    s.remember(A, "w1".into(), T0, vec![B], vec![]);
    s.remember(A, "w2".into(), T0, vec![B], vec![]);
    let f = feed(
        &mut s,
        B,
        &[],
        &[
            ServerSocial::ChatMissed { count: 1 },
            heard(A, ChatChannel::Whisper, "w2"),
            heard(A, ChatChannel::Whisper, "w1"),
        ],
    );
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("second copy, or out of order"), "{f:?}");
}

#[test]
fn a_second_copy_is_caught() {
    let mut s = two_whispers();
    s.remember(A, "w1".into(), T0, vec![B], vec![]);
    let w1 = heard(A, ChatChannel::Whisper, "w1");
    let f = feed(&mut s, B, &[], &[w1.clone(), w1]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("second copy"), "{f:?}");
}

#[test]
fn copies_owed_on_an_ended_connection_may_be_lost() {
    let mut s = SocialChecker::new(30);
    s.owe(B, Some(ConnId(3)), T0, whisper(A, "w1"));
    s.owe(B, CONN, T0, whisper(A, "w2"));
    let f = feed(&mut s, B, &[], &[heard(A, ChatChannel::Whisper, "w2")]);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(s.counts.copies_lost_with_connection, 1);
}

#[test]
fn an_echo_is_owed_like_a_line() {
    let mut s = SocialChecker::new(30);
    let echo = |text: &str| ServerSocial::Whispered {
        to: contact(B),
        text: text.into(),
    };
    s.owe(
        A,
        CONN,
        T0,
        Owed::Echo {
            to: B,
            text: "w1".into(),
        },
    );
    assert!(feed(&mut s, A, &[], &[echo("w1")]).is_empty());
    assert_eq!(feed(&mut s, A, &[], &[echo("w1")]).len(), 1);
}

#[test]
fn a_line_from_a_character_the_client_blocks_is_caught() {
    let mut s = SocialChecker::new(30);
    s.owe(
        B,
        CONN,
        T0,
        Owed::Line {
            channel: ChatChannel::Zone,
            from: A,
            text: "z1".into(),
        },
    );
    let f = feed(&mut s, B, &[A], &[heard(A, ChatChannel::Zone, "z1")]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("whom it blocks"), "{f:?}");
    // Its guild's history too.
    let history = ServerSocial::GuildHistory {
        lines: vec![
            ChatLine {
                channel: ChatChannel::Guild,
                from: C,
                from_name: "bot3".into(),
                text: "g1".into(),
            },
            ChatLine {
                channel: ChatChannel::Guild,
                from: A,
                from_name: "bot1".into(),
                text: "g2".into(),
            },
        ],
    };
    let f = feed(&mut s, B, &[A], std::slice::from_ref(&history));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(feed(&mut s, B, &[], &[history]).is_empty());
}

#[test]
fn a_line_left_out_for_blocking_and_heard_all_the_same_is_named() {
    let mut s = SocialChecker::new(30);
    s.remember(A, "s1".into(), T0, vec![A, C], vec![B]);
    // B unblocked A since: its list no longer names A, but it was not owed.
    let f = feed(&mut s, B, &[], &[heard(A, ChatChannel::Say, "s1")]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("from a character it blocks"), "{f:?}");
}

#[test]
fn a_line_outside_its_channel_is_caught() {
    let mut s = SocialChecker::new(30);
    // A party line owed to A and C; B is not in the party.
    s.remember(A, "p1".into(), T0, vec![A, C], vec![]);
    s.owe(
        C,
        CONN,
        T0,
        Owed::Line {
            channel: ChatChannel::Party,
            from: A,
            text: "p1".into(),
        },
    );
    assert!(feed(&mut s, C, &[], &[heard(A, ChatChannel::Party, "p1")]).is_empty());
    let f = feed(&mut s, B, &[], &[heard(A, ChatChannel::Party, "p1")]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("outside its channel"), "{f:?}");
    // A line the server never accepted at all.
    let f = feed(&mut s, B, &[], &[heard(A, ChatChannel::Zone, "never")]);
    assert!(f[0].contains("never accepted"), "{f:?}");
}

#[test]
fn copies_never_heard_at_quiescence_are_caught() {
    let s = two_whispers();
    let mut f = Vec::new();
    // Too young to be overdue.
    s.check_unheard(B, CONN, T0 + Duration::from_millis(100), &mut f);
    assert!(f.is_empty());
    // Owed on another connection: lost with it.
    s.check_unheard(B, Some(ConnId(9)), T0 + SETTLE, &mut f);
    assert!(f.is_empty());
    s.check_unheard(B, CONN, T0 + SETTLE, &mut f);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("never heard 2"), "{f:?}");
    // Counted missed: accounted for.
    let mut s = two_whispers();
    assert!(feed(&mut s, B, &[], &[ServerSocial::ChatMissed { count: 2 }]).is_empty());
    let mut f = Vec::new();
    s.check_unheard(B, CONN, T0 + SETTLE, &mut f);
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn a_party_that_does_not_hold_together_is_caught() {
    let good = |c: CharacterId| (c != C).then(|| (A, vec![A, B]));
    assert_eq!(party_breaks(A, good), None);
    assert_eq!(party_breaks(C, good), None);
    // B thinks it leads another party.
    let split = |c: CharacterId| match c {
        A => Some((A, vec![A, B])),
        B => Some((B, vec![A, B])),
        _ => None,
    };
    assert!(party_breaks(A, split).is_some());
    // A party of one, and a leader outside its party.
    assert!(party_breaks(A, |_| Some((A, vec![A]))).is_some());
    assert!(party_breaks(A, |_| Some((C, vec![A, B]))).is_some());
}

#[test]
fn a_client_shown_another_party_than_the_servers_is_caught() {
    let server: Membership = (Some((A, vec![A, B])), Some((GuildId(4), GuildRank::Member)));
    assert_eq!(disagreement(B, &server, &server, &server), None);
    let stale: Membership = (Some((A, vec![A, B, C])), server.1);
    assert!(disagreement(B, &server, &stale, &server).is_some());
    let no_guild: Membership = (server.0.clone(), None);
    assert!(disagreement(B, &server, &server, &no_guild).is_some());
}

#[test]
fn a_malformed_party_or_guild_view_is_caught() {
    let mut s = SocialChecker::new(30);
    let party = |members: &[CharacterId]| {
        ServerSocial::Party(Some(PartyView {
            leader: A,
            members: members.iter().map(|&c| (contact(c), true)).collect(),
            cap: 5,
        }))
    };
    assert!(feed(&mut s, B, &[], &[party(&[A, B])]).is_empty());
    // Without its recipient, and with a member twice.
    assert_eq!(feed(&mut s, B, &[], &[party(&[A, C])]).len(), 1);
    assert_eq!(feed(&mut s, B, &[], &[party(&[A, B, B])]).len(), 1);
    let guild = |ranks: &[(CharacterId, GuildRank)]| {
        ServerSocial::Guild(Some(GuildView {
            guild: GuildId(4),
            name: "Hall".into(),
            members: ranks.iter().map(|&(c, r)| (contact(c), r, true)).collect(),
        }))
    };
    let ok = [(A, GuildRank::Leader), (B, GuildRank::Member)];
    assert!(feed(&mut s, B, &[], &[guild(&ok)]).is_empty());
    let two_leaders = [(A, GuildRank::Leader), (B, GuildRank::Leader)];
    assert_eq!(feed(&mut s, B, &[], &[guild(&two_leaders)]).len(), 1);
}

/// A small run of social bots among wanderers, on lossy links: the checks
/// look at lines, copies and memberships, find nothing wrong, and the
/// social bots keep the server's pace.
#[test]
fn social_bots_run_clean_under_the_checks() {
    use crate::policy::Kind;
    use crate::simulator::{FaultMode, SimConfig, Simulator};
    let mut config = SimConfig::new(48, 40, 7, FaultMode::Lossy);
    config.honest = vec![Kind::Social, Kind::Social, Kind::Wander];
    config.hostile_pct = 0;
    let report = Simulator::new(config).run(|_| {});
    assert_eq!(report.invariant_violations, 0, "{:?}", report.violations);
    let k = &report.social_checks;
    assert!(k.lines_accepted > 100, "{k:?}");
    assert!(k.copies_heard > 1_000, "{k:?}");
    assert!(k.memberships_compared > 0, "{k:?}");
    let t = &report.social.tally;
    assert!(t.parties_joined > 0 && t.friends_made > 0, "{t:?}");
    assert_eq!(t.rate_limited(), 0, "{t:?}");
}

/// The same with a chat backlog so small that the server sheds lines: each
/// skipped copy is matched by a `ChatMissed` count, exactly.
#[test]
fn shed_lines_are_matched_by_chat_missed_exactly() {
    use crate::policy::Kind;
    use crate::simulator::{FaultMode, SimConfig, Simulator};
    let mut config = SimConfig::new(48, 40, 11, FaultMode::Lossy);
    config.honest = vec![Kind::Social, Kind::Social, Kind::Wander];
    config.hostile_pct = 0;
    config.node.session.max_chat_backlog_bytes = 700;
    let report = Simulator::new(config).run(|_| {});
    assert_eq!(report.invariant_violations, 0, "{:?}", report.violations);
    let k = &report.social_checks;
    assert!(k.copies_shed > 0, "{k:?}");
    // What the social bots were told they missed is part of what was shed.
    let told = report.social.tally.missed;
    assert!(told > 0 && told <= k.copies_shed, "{told} {k:?}");
}

#[test]
fn an_honest_social_bot_refused_for_its_pace_is_caught_unless_its_link_stalled() {
    use super::{verdict::verdict, PeerView};
    use crate::policy::{Kind, SocialTally};
    use game_core::client::{Client, ClientConfig};
    let client = Client::new(ClientConfig::new("bot0"));
    let mut tally = SocialTally::default();
    tally.refusals.insert("already_in_party", 3);
    let view = |tally: &SocialTally, stall_ms: u64| {
        let p = PeerView {
            client: &client,
            kind: Kind::Social,
            worst_stall: Duration::from_millis(stall_ms),
            corrections: 0,
            fight: None,
            social: Some(tally),
            disconnects: &[],
            misbehaved: false,
        };
        verdict(0, &p, false)
    };
    // Refused for the game's reasons: fine.
    assert!(view(&tally, 0).is_empty());
    tally.refusals.insert("rate_limited", 1);
    assert_eq!(view(&tally, 0).len(), 1);
    assert!(view(&tally, 2_000).is_empty());
}
