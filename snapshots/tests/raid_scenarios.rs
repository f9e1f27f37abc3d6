//! Canonical raid scenario trace: one raid from the queue to the reward, in
//! the real node and client machines (`sim::lab`, fixed seed, virtual time).
//! Any change in how the queue matches, how the instance is entered, how
//! the boss fight runs and ends, how the reward is given and how the
//! instance closes shows up here as a readable diff.
//!
//! Five level-1 players, each given a chain mail and an iron helm by the
//! operator (`Node::grant`) and wearing them (level-1 players in their own
//! clothes lose to the bear, as the simulator's raiders mostly do), queue for the training grounds, accept the ready check and
//! are moved into their own instance of the ember lair. Each fights the
//! bear with the simulator's fighter (`sim::policy::Fighter`: its targeting
//! and skills, told to hunt the boss) and steps out of an area attack's
//! circle when it is warned; the bear dies, each claims its reward, leaves,
//! and the instance closes as the last one goes.
//!
//! A trace line per raid message per player, per reward inventory change
//! (`Changed` with `Cause::Raid`), and per request the script made (`>>`). The raid's periodic state is left out unless its
//! phase changed: the boss's health is in every one.

use game_core::client::ClientEvent;
use game_core::math::{Fixed, Vec2};
use game_core::node::NodeConfig;
use game_core::protocol::{
    Cause, ClientEconomy, ClientRaid, FrameDecoder, RaidEnd, ServerEconomy, ServerMsg, ServerRaid,
    MAX_SERVER_PAYLOAD,
};
use game_core::raid::Role;
use game_core::time::{Duration, Instant};
use sim::lab::{Lab, INSTANT};
use sim::policy::{Atlas, Fighter, Wander, TRAINING_GROUNDS};
use std::collections::BTreeMap;

const SEED: u64 = 20;
/// Granted at 0.5 s and 0.8 s; worn at 1.5 s and 1.8 s.
const GEAR: [&str; 2] = ["chain_mail", "iron_helm"];
const FRAME: Duration = Duration::from_millis(100);
const NAMES: [&str; 5] = ["ann", "bob", "cid", "dee", "eve"];

fn secs(s: u64) -> Instant {
    Instant::from_micros(s * 1_000_000)
}

/// Every message the node sent, decoded, in order: (when, peer, message).
fn messages(lab: &Lab) -> Vec<(Instant, usize, ServerMsg)> {
    let mut decoders: Vec<FrameDecoder> = (lab.peers.iter())
        .map(|_| FrameDecoder::new(MAX_SERVER_PAYLOAD))
        .collect();
    let mut out = Vec::new();
    for (at, peer, bytes) in &lab.frames {
        let mut input = &bytes[..];
        while let Some(payload) = decoders[*peer].decode(&mut input).unwrap() {
            out.push((*at, *peer, ServerMsg::decode(payload).unwrap()));
        }
    }
    out
}

/// The raid's lines, what each heard, and the requests made.
fn trace(lab: &Lab, requests: &[(Instant, usize, ClientRaid)]) -> String {
    let mut lines: Vec<(Instant, u8, String)> = (requests.iter())
        .map(|(at, i, r)| (*at, 0, format!("{at:?} {} >> {r:?}", NAMES[*i])))
        .collect();
    let mut phase: BTreeMap<usize, u8> = BTreeMap::new();
    for (at, peer, msg) in messages(lab) {
        let line = match &msg {
            ServerMsg::Raid(ServerRaid::State(v)) => {
                if phase.insert(peer, v.phase).is_some_and(|p| p == v.phase) {
                    continue;
                }
                format!("State phase {} boss health {}‰", v.phase, v.boss_health_pm)
            }
            ServerMsg::Raid(ServerRaid::Entered(v)) => {
                phase.insert(peer, v.phase);
                format!(
                    "Entered instance {} raid {} group {} ({} ms left)",
                    v.instance, v.raid, v.level_group, v.remaining_ms
                )
            }
            ServerMsg::Raid(r) => format!("{r:?}"),
            ServerMsg::Economy(ServerEconomy::Changed {
                cause: Cause::Raid,
                gold,
                seq,
                ..
            }) => format!("reward given: gold now {gold} (inventory #{seq})"),
            _ => continue,
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

/// A velocity out of the first warned circle `pos` stands in (1 m spare),
/// at 70% of `max`, else none.
fn dodge(pos: Vec2, warnings: &[(Vec2, Fixed, Instant)], now: Instant, max: Fixed) -> Option<Vec2> {
    let (center, radius, _) = warnings.iter().find(|(c, r, lands)| {
        let reach = r.raw() as i64 + 256;
        *lands > now && (pos - *c).length_squared_raw() < reach * reach
    })?;
    let _ = radius;
    let d = pos - *center;
    let len = ((d.length_squared_raw() as u64).isqrt() as i64).max(1);
    let s = max.raw() as i64 * 70 / 100;
    let (x, y) = if d.length_squared_raw() == 0 {
        (s, 0)
    } else {
        (d.x.raw() as i64 * s / len, d.y.raw() as i64 * s / len)
    };
    Some(Vec2::new(
        Fixed::from_raw(x as i32),
        Fixed::from_raw(y as i32),
    ))
}

#[test]
fn five_queue_fight_the_bear_claim_their_rewards_and_the_instance_closes() {
    let mut lab = Lab::new(NodeConfig::default(), SEED);
    lab.record_frames = true;
    for name in NAMES {
        lab.join(name, INSTANT);
    }
    let atlas = Atlas::samples();
    let goal = atlas.boss(TRAINING_GROUNDS);
    let mut fighters: Vec<Fighter> = (0..NAMES.len()).map(Fighter::new).collect();
    let mut wanders: Vec<Wander> = (0..NAMES.len() as u64)
        .map(|i| Wander::new(SEED, i))
        .collect();
    let mut seen = vec![0usize; NAMES.len()];
    let mut sent: Vec<(Instant, usize, ClientRaid)> = Vec::new();
    let mut queued = false;
    lab.run(secs(240), FRAME, |lab| {
        let now = lab.now;
        for i in 0..NAMES.len() {
            let mut asks = Vec::new();
            let peer = &mut lab.peers[i];
            for (_, e) in &peer.events[seen[i]..] {
                fighters[i].on_event(now, &peer.client, e);
                match e {
                    ClientEvent::Raid(ServerRaid::ReadyCheck { ready, .. }) => {
                        asks.push(ClientRaid::Accept { ready: *ready })
                    }
                    ClientEvent::Raid(ServerRaid::Ended {
                        instance,
                        reward: Some(_),
                        ..
                    }) => asks.push(ClientRaid::ClaimReward {
                        instance: *instance,
                    }),
                    ClientEvent::Raid(ServerRaid::RewardClaimed { .. }) => {
                        asks.push(ClientRaid::Leave)
                    }
                    _ => {}
                }
            }
            seen[i] = peer.events.len();
            for (n, item) in GEAR.iter().enumerate() {
                let (grant, wear) = (500 + 300 * n as u64, 1_500 + 300 * n as u64);
                if now == Instant::from_micros(grant * 1_000) {
                    lab.node.grant(now, NAMES[i], item, 1).expect("granted");
                }
                let peer = &mut lab.peers[i];
                if now == Instant::from_micros(wear * 1_000) {
                    let inv = peer.client.economy().inventory.as_ref().expect("loaded");
                    let from = inv.slots.iter().position(|s| s.is_some()).expect("an item");
                    peer.client.economy_request(|req| ClientEconomy::Equip {
                        req,
                        from: from as u16,
                    });
                }
            }
            let peer = &mut lab.peers[i];
            if !queued && now >= secs(3) {
                asks.push(ClientRaid::Queue {
                    raid: TRAINING_GROUNDS,
                    role: Role::Damage,
                    party: false,
                });
            }
            for a in asks {
                peer.client.raid_request(a.clone());
                sent.push((now, i, a));
            }
            let Some(view) = peer
                .client
                .raid()
                .raid
                .filter(|_| peer.client.raid().ended.is_none())
            else {
                continue;
            };
            let Some(avatar) = peer.client.avatar() else {
                continue;
            };
            let (pos, max) = (avatar.position(), avatar.max_speed());
            let warned = dodge(pos, &peer.client.raid().warnings, now, max);
            if let Some(v) = warned.filter(|_| !peer.client.fight().is_dead()) {
                peer.client.move_with(now, v);
                continue;
            }
            fighters[i].hunt(view.boss, goal);
            if let Some(v) = fighters[i].step(now, &mut peer.client, &atlas, &mut wanders[i], FRAME)
            {
                peer.client.move_with(now, v);
            }
        }
        queued |= now >= secs(3);
    });

    let msgs = messages(&lab);
    let raid_of = |p: usize| -> Vec<ServerRaid> {
        (msgs.iter())
            .filter(|(_, q, _)| *q == p)
            .filter_map(|(_, _, m)| match m {
                ServerMsg::Raid(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    };
    for (p, name) in NAMES.iter().enumerate() {
        let heard = raid_of(p);
        assert!(
            !heard
                .iter()
                .any(|m| matches!(m, ServerRaid::Refused { .. })),
            "{}: nothing refused: {heard:?}",
            name
        );
        let ended: Vec<RaidEnd> = (heard.iter())
            .filter_map(|m| match m {
                ServerRaid::Ended { end, .. } => Some(*end),
                _ => None,
            })
            .collect();
        assert_eq!(ended, vec![RaidEnd::Victory], "{}", name);
        assert!(heard.contains(&ServerRaid::RewardClaimed { instance: 1 }));
        assert!(heard.contains(&ServerRaid::Left { instance: 1 }));
        // The reward: 120 gold, given once.
        let given = (msgs.iter())
            .filter(|(_, q, m)| {
                *q == p
                    && matches!(
                        m,
                        ServerMsg::Economy(ServerEconomy::Changed {
                            cause: Cause::Raid,
                            ..
                        })
                    )
            })
            .count();
        assert_eq!(given, 1, "{}", name);
    }
    // They fought: every one of them hit the bear.
    for (i, f) in fighters.iter().enumerate() {
        assert!(f.tally.hits > 0, "{} never hit", NAMES[i]);
    }
    let stats = lab.node.raid_stats();
    assert_eq!(
        (stats.victories, stats.rewards_claimed, stats.rewards_owed),
        (1, 5, 5)
    );
    assert_eq!(stats.instances_closed, 1);
    assert_eq!(lab.node.instances(), vec![]);
    assert_eq!(lab.node.world().instance_count(), 0);
    insta::assert_snapshot!(trace(&lab, &sent));
}
