//! The social layer through the node: requests in as bytes, lines out in
//! the tick's write, chat shed before anything else for a client that stops
//! reading, operator mutes, party vitals across maps.

use super::*;
use crate::protocol::{ChatChannel, ClientSocial, ServerSocial};

fn social(msgs: &[ServerMsg]) -> Vec<ServerSocial> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::Social(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn lines(msgs: &[ServerMsg]) -> Vec<(ChatChannel, String)> {
    social(msgs)
        .into_iter()
        .filter_map(|m| match m {
            ServerSocial::Chat(l) => Some((l.channel, l.text)),
            _ => None,
        })
        .collect()
}

fn chat(channel: ChatChannel, text: &str) -> ClientMsg {
    ClientMsg::Social(ClientSocial::Chat {
        channel,
        text: text.into(),
    })
}

fn tick(h: &mut Harness) {
    h.advance(Duration::from_millis(50));
}

impl Harness {
    /// The client reads again: everything it was sent is confirmed.
    fn unstall(&mut self, conn: ConnId) {
        if let Some(n) = self.stalled.remove(&conn) {
            self.node.handle_flushed(conn, n);
        }
    }
}

#[test]
fn a_whisper_arrives_at_the_next_tick_after_the_world_update_in_the_same_write() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let (bo, _) = h.enter(2, "bo");
    tick(&mut h);
    h.take(ada);
    h.take(bo);
    let whisper = ClientMsg::Social(ClientSocial::Whisper {
        to: "BO-CHAR".into(),
        text: "over here".into(),
    });
    h.send(ada, &[whisper]);
    assert!(h.take(bo).is_empty(), "nothing before the tick");
    tick(&mut h);
    let got = h.take(bo);
    let world = got
        .iter()
        .position(|m| matches!(m, ServerMsg::World(ServerWorld::WorldUpdate(_))))
        .expect("a world update");
    let line = got
        .iter()
        .position(|m| matches!(m, ServerMsg::Social(ServerSocial::Chat(_))))
        .expect("the whisper");
    assert!(world < line);
    assert_eq!(lines(&got), [(ChatChannel::Whisper, "over here".into())]);
    assert!(social(&h.take(ada))
        .iter()
        .any(|m| matches!(m, ServerSocial::Whispered { to, .. } if to.name == "bo-char")));
}

#[test]
fn say_reaches_those_in_range_and_zone_reaches_the_whole_channel() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let (bo, _) = h.enter(2, "bo");
    let (cy, _) = h.enter(3, "cy");
    let cy_player = h.node.session(cy).unwrap().player().unwrap();
    h.node
        .teleport(h.now, cy_player, crate::math::Vec2::from_ints(150, 150))
        .unwrap();
    for _ in 0..3 {
        tick(&mut h);
    }
    for c in [ada, bo, cy] {
        h.take(c);
    }
    h.send(
        ada,
        &[
            chat(ChatChannel::Say, "near"),
            chat(ChatChannel::Zone, "all"),
        ],
    );
    tick(&mut h);
    assert_eq!(
        lines(&h.take(bo)),
        [
            (ChatChannel::Say, "near".into()),
            (ChatChannel::Zone, "all".into())
        ]
    );
    assert_eq!(lines(&h.take(cy)), [(ChatChannel::Zone, "all".into())]);
    assert_eq!(lines(&h.take(ada)).len(), 2, "the speaker hears itself");
}

#[test]
fn a_client_that_stops_reading_loses_chat_first_and_is_told_how_much() {
    let mut config = NodeConfig::default();
    config.session.max_chat_backlog_bytes = 256;
    let mut h = Harness::with_config(config);
    let (ada, _) = h.enter(1, "ada");
    let (bo, _) = h.enter(2, "bo");
    tick(&mut h);
    h.take(bo);
    h.stalled.insert(bo, 0);
    // World updates keep coming; its chat is dropped once 256 bytes wait.
    for n in 0..4 {
        h.send(
            ada,
            &[chat(
                ChatChannel::Say,
                &format!("line {n} {}", "x".repeat(100)),
            )],
        );
        tick(&mut h);
    }
    let got = h.take(bo);
    assert!(world_updates(&got).len() >= 4, "movement still flows");
    let heard = lines(&got).len();
    assert!(heard < 4, "some chat was shed");
    let shed = h.node.session(bo).unwrap().stats().chat_shed;
    assert_eq!(heard as u64 + shed, 4);
    h.unstall(bo);
    h.send(ada, &[chat(ChatChannel::Say, "after")]);
    tick(&mut h);
    let got = social(&h.take(bo));
    let missed = got
        .iter()
        .position(|m| *m == ServerSocial::ChatMissed { count: shed as u32 });
    let after = got
        .iter()
        .position(|m| matches!(m, ServerSocial::Chat(l) if l.text == "after"));
    assert!(missed.is_some() && missed < after, "{got:?}");
    assert!(h.node.session(bo).is_some(), "still connected");
}

#[test]
fn an_operator_mute_holds_for_its_time() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let (bo, _) = h.enter(2, "bo");
    assert!(h.node.mute(h.now, "Ada-Char", 10_000));
    assert!(!h.node.mute(h.now, "nobody", 10_000));
    h.send(ada, &[chat(ChatChannel::Zone, "hush")]);
    tick(&mut h);
    assert!(lines(&h.take(bo)).is_empty());
    assert!(social(&h.take(ada)).iter().any(|m| matches!(
        m,
        ServerSocial::Refused {
            reason: crate::protocol::SocialRefusal::Muted,
            ..
        }
    )));
    h.advance(Duration::from_secs(10));
    h.send(ada, &[chat(ChatChannel::Zone, "back")]);
    tick(&mut h);
    assert_eq!(lines(&h.take(bo)), [(ChatChannel::Zone, "back".into())]);
}

#[test]
fn party_members_on_other_maps_see_each_other_twice_a_second() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    let (bo, _) = h.enter(2, "bo");
    h.send(
        ada,
        &[ClientMsg::Social(ClientSocial::PartyInvite {
            name: "bo-char".into(),
        })],
    );
    tick(&mut h);
    let from = social(&h.take(bo))
        .into_iter()
        .find_map(|m| match m {
            ServerSocial::PartyInvited { from, .. } => Some(from.character),
            _ => None,
        })
        .expect("invited");
    h.send(
        bo,
        &[ClientMsg::Social(ClientSocial::PartyAnswer {
            from,
            accept: true,
        })],
    );
    let bo_player = h.node.session(bo).unwrap().player().unwrap();
    h.node.transfer(h.now, bo_player, "forest").unwrap();
    h.take(bo);
    h.advance(Duration::from_secs(1));
    let vitals: Vec<_> = social(&h.take(bo))
        .into_iter()
        .filter_map(|m| match m {
            ServerSocial::PartyVitals { members } => Some(members),
            _ => None,
        })
        .collect();
    assert_eq!(vitals.len(), 2, "two in one second");
    let maps: Vec<&str> = vitals[1].iter().map(|m| m.map.as_str()).collect();
    assert_eq!(maps, ["meadow", "forest"]);
    assert!(vitals[1].iter().all(|m| m.health == 255));
}

#[test]
fn a_take_over_sends_the_new_client_its_lists_afresh() {
    let mut h = Harness::new();
    let (ada, _) = h.enter(1, "ada");
    tick(&mut h);
    assert!(social(&h.take(ada))
        .iter()
        .any(|m| matches!(m, ServerSocial::Friends { .. })));
    // A second login to the same account while the first is connected.
    let (again, _, _) = h.login(2, "ada");
    tick(&mut h);
    let got = social(&h.take(again));
    assert!(
        got.iter()
            .any(|m| matches!(m, ServerSocial::Friends { .. })),
        "{got:?}"
    );
}
