//! Canonical social scenario traces: what each bot hears of its social life
//! in a small fixed scenario (fixed seed, a few seconds of virtual time, the
//! real node and client machines in `sim::lab`). Any change in how parties
//! form, talk, report their members and come apart shows up here as a
//! readable diff.
//!
//! A trace has one line per social message per bot, and a line per request
//! the scenario made (`>>`). World and session messages are left out (the
//! movement scenarios in `scenarios.rs` cover them), and so is a party's
//! vitals message when it says what the last one to that bot said: vitals
//! come twice a second, and only a change is news.
//!
//! Besides the snapshot, each test asserts the facts the scenario is about,
//! from the decoded messages and the node's state, so it fails for the right
//! reason.

use game_core::ids::CharacterId;
use game_core::node::NodeConfig;
use game_core::protocol::{
    ChatChannel, ClientSocial, FrameDecoder, PartyView, ServerMsg, ServerSocial, MAX_SERVER_PAYLOAD,
};
use game_core::time::{Duration, Instant};
use sim::lab::{Lab, INSTANT};
use std::collections::BTreeMap;
use std::fmt::Write;

const SEED: u64 = 4;
const FRAME: Duration = Duration::from_millis(50);
const NAMES: [&str; 4] = ["ann", "bob", "cid", "dee"];
const ANN: usize = 0;
const BOB: usize = 1;
const CID: usize = 2;
const DEE: usize = 3;

fn ms(ms: u64) -> Instant {
    Instant::from_micros(ms * 1000)
}

/// Every social message the node sent, decoded, in order: (when, peer, message).
fn social_messages(lab: &Lab) -> Vec<(Instant, usize, ServerSocial)> {
    let mut decoders: Vec<FrameDecoder> = lab
        .peers
        .iter()
        .map(|_| FrameDecoder::new(MAX_SERVER_PAYLOAD))
        .collect();
    let mut out = Vec::new();
    for (at, peer, bytes) in &lab.frames {
        let mut input = &bytes[..];
        while let Some(payload) = decoders[*peer].decode(&mut input).unwrap() {
            if let ServerMsg::Social(s) = ServerMsg::decode(payload).unwrap() {
                out.push((*at, *peer, s));
            }
        }
    }
    out
}

/// Character ids by name, for a trace that names characters.
fn names(lab: &Lab) -> BTreeMap<CharacterId, &'static str> {
    (0..lab.peers.len())
        .filter_map(|i| {
            let player = lab.peers[i].client.player()?;
            Some((lab.node.player(player)?.character?, NAMES[i]))
        })
        .collect()
}

fn party_line(p: &PartyView, who: &BTreeMap<CharacterId, &str>) -> String {
    let members: Vec<String> = p
        .members
        .iter()
        .map(|(c, on)| format!("{}{}", c.name, if *on { "" } else { "(away)" }))
        .collect();
    format!(
        "party led by {}: [{}] cap {}",
        who.get(&p.leader).copied().unwrap_or("?"),
        members.join(", "),
        p.cap
    )
}

/// Renders the requests made and what each peer heard.
fn trace(lab: &Lab, requests: &[(Instant, usize, ClientSocial)]) -> String {
    let who = names(lab);
    let name = |c: &CharacterId| who.get(c).copied().unwrap_or("?");
    let mut lines: Vec<(Instant, u8, String)> = requests
        .iter()
        .map(|(at, i, r)| (*at, 0, format!("{at:?} {} >> {r:?}", NAMES[*i])))
        .collect();
    let mut last_vitals: BTreeMap<usize, String> = BTreeMap::new();
    for (at, peer, msg) in social_messages(lab) {
        let line = match &msg {
            ServerSocial::Chat(l) => {
                format!("[{}] {}: {}", l.channel.label(), l.from_name, l.text)
            }
            ServerSocial::Friends { friends } => format!("friends {friends:?}"),
            ServerSocial::PartyInvited { from, raid, .. } => {
                format!("invited by {} (raid {raid})", from.name)
            }
            ServerSocial::Party(Some(p)) => party_line(p, &who),
            ServerSocial::Party(None) => "no party".into(),
            ServerSocial::PartyVitals { members } => {
                let mut s = String::from("vitals");
                for m in members {
                    let _ = write!(
                        s,
                        " {} {} ({},{}) hp {}",
                        name(&m.character),
                        m.map,
                        m.x,
                        m.y,
                        m.health
                    );
                }
                if last_vitals.get(&peer) == Some(&s) {
                    continue;
                }
                last_vitals.insert(peer, s.clone());
                s
            }
            other => format!("{other:?}"),
        };
        lines.push((at, 1, format!("{at:?} {}: {line}", NAMES[peer])));
    }
    lines.sort_by_key(|(at, order, _)| (*at, *order));
    let mut out = String::new();
    for (_, _, line) in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Ann invites Bob, who accepts (the party is made, Ann leading); Ann
/// invites Cid, who accepts too. Bob talks on the party channel: the three
/// hear it once each, and Dee, standing beside them but in no party, does
/// not. Each member gets the others' place and health. Ann leaves: Bob,
/// the next to have joined, leads Bob and Cid. Bob leaves: a party of one
/// ends, and Cid is told so.
#[test]
fn a_party_forms_talks_loses_its_leader_and_dissolves() {
    let mut lab = Lab::new(NodeConfig::default(), SEED);
    lab.record_frames = true;
    for name in NAMES {
        lab.join(name, INSTANT);
    }
    let plan: Vec<(Instant, usize, ClientSocial)> = vec![
        (
            ms(1000),
            ANN,
            ClientSocial::PartyInvite { name: "bob".into() },
        ),
        (
            ms(1500),
            BOB,
            ClientSocial::PartyAnswer {
                from: CharacterId(0),
                accept: true,
            },
        ),
        (
            ms(2000),
            ANN,
            ClientSocial::PartyInvite { name: "cid".into() },
        ),
        (
            ms(2500),
            CID,
            ClientSocial::PartyAnswer {
                from: CharacterId(0),
                accept: true,
            },
        ),
        (
            ms(3000),
            BOB,
            ClientSocial::Chat {
                channel: ChatChannel::Party,
                text: "hello party".into(),
            },
        ),
        (ms(4000), ANN, ClientSocial::PartyLeave),
        (ms(5000), BOB, ClientSocial::PartyLeave),
    ];
    let mut sent = Vec::new();
    let mut next = 0;
    lab.run(ms(6000), FRAME, |lab| {
        while next < plan.len() && plan[next].0 <= lab.now {
            let (_, i, ref request) = plan[next];
            // An answer names the inviter, known only once the run is on.
            let request = match request {
                ClientSocial::PartyAnswer { accept, .. } => ClientSocial::PartyAnswer {
                    from: lab.peers[i]
                        .client
                        .social()
                        .party_invite
                        .as_ref()
                        .expect("an invitation to answer")
                        .character,
                    accept: *accept,
                },
                other => other.clone(),
            };
            lab.peers[i].client.social_request(request.clone());
            sent.push((lab.now, i, request));
            next += 1;
        }
    });
    assert_eq!(next, plan.len(), "every request was made");

    let msgs = social_messages(&lab);
    assert!(
        !msgs
            .iter()
            .any(|(_, _, m)| matches!(m, ServerSocial::Refused { .. })),
        "nothing was refused"
    );
    // The party line: once to each member, never to Dee.
    let heard: Vec<usize> = msgs
        .iter()
        .filter(|(_, _, m)| matches!(m, ServerSocial::Chat(l) if l.text == "hello party"))
        .map(|(_, p, _)| *p)
        .collect();
    assert_eq!(heard, vec![ANN, BOB, CID]);
    // Vitals reached the members, about the members, and never Dee.
    let vitals_to = |p: usize| {
        msgs.iter()
            .filter(|(_, q, m)| *q == p && matches!(m, ServerSocial::PartyVitals { .. }))
            .count()
    };
    assert!(vitals_to(CID) > 0 && vitals_to(BOB) > 0);
    assert_eq!(vitals_to(DEE), 0);
    // The views Bob was shown: Ann leading two, then three, then Bob leading
    // Bob and Cid, then none.
    let who = names(&lab);
    let bob_views: Vec<Option<(&str, usize)>> = msgs
        .iter()
        .filter(|(_, p, _)| *p == BOB)
        .filter_map(|(_, _, m)| match m {
            ServerSocial::Party(p) => Some(p.as_ref().map(|p| (who[&p.leader], p.members.len()))),
            _ => None,
        })
        .collect();
    assert_eq!(
        bob_views,
        vec![Some(("ann", 2)), Some(("ann", 3)), Some(("bob", 2)), None]
    );
    // Cid's last word: no party. The server holds none.
    let cid_last = msgs
        .iter()
        .rfind(|(_, p, m)| *p == CID && matches!(m, ServerSocial::Party(_)))
        .map(|(_, _, m)| m.clone());
    assert_eq!(cid_last, Some(ServerSocial::Party(None)));
    assert_eq!(lab.node.social().party_count(), 0);
    for c in who.keys() {
        assert!(lab.node.social().party_of(*c).is_none());
    }
    insta::assert_snapshot!(trace(&lab, &sent));
}
