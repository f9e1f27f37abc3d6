//! Canonical scenario traces: what each client receives, tick by tick, in small
//! fixed scenarios. Any change in replication or interest shows up here as a
//! readable diff.

use game_core::client::ClientEvent;
use game_core::math::{Fixed, Vec2};
use game_core::node::NodeConfig;
use game_core::protocol::{FrameDecoder, ServerMsg, MAX_SERVER_PAYLOAD};
use game_core::time::{Duration, Instant};
use sim::lab::{Lab, INSTANT};
use std::fmt::Write;

fn secs_f(s: f64) -> Instant {
    Instant::from_micros((s * 1e6) as u64)
}

/// Renders every frame the node sent, per peer, one line per message.
fn trace(lab: &Lab, names: &[&str]) -> String {
    let mut out = String::new();
    let mut decoders: Vec<FrameDecoder> = names
        .iter()
        .map(|_| FrameDecoder::new(MAX_SERVER_PAYLOAD))
        .collect();
    for (at, peer, bytes) in &lab.frames {
        let mut input = &bytes[..];
        while let Some(payload) = decoders[*peer].decode(&mut input).unwrap() {
            let msg = ServerMsg::decode(payload).unwrap();
            let line = match msg {
                ServerMsg::ZoneEntered(z) => format!(
                    "zone {} ch{} as {:?} at {:?}",
                    z.map, z.channel, z.entity, z.pos
                ),
                ServerMsg::WorldUpdate(u) => {
                    let mut s = format!("tick {} ack {}", u.tick.0, u.ack_seq);
                    for sp in &u.spawns {
                        let _ = write!(
                            s,
                            " +{:?}({:?} {},{})",
                            sp.entity, sp.kind, sp.pos.x, sp.pos.y
                        );
                    }
                    for d in &u.despawns {
                        let _ = write!(s, " -{d:?}");
                    }
                    for up in &u.updates {
                        let _ = write!(s, " {:?}({:+},{:+})", up.entity, up.dx, up.dy);
                    }
                    if let Some(c) = u.correction {
                        let _ = write!(s, " CORRECTION seq {} to {:?}", c.seq, c.pos);
                    }
                    s
                }
                ServerMsg::Ping { .. } | ServerMsg::Pong { .. } => continue,
                other => format!("{other:?}"),
            };
            let _ = writeln!(out, "{at:?} {}: {line}", names[*peer]);
        }
    }
    out
}

fn small_view() -> NodeConfig {
    let mut config = NodeConfig::default();
    config.world.zone.view_radius_m = 10;
    config.world.zone.view_margin_m = 2;
    config
}

fn walk(lab: &mut Lab, who: usize, vel: Vec2) {
    let now = lab.now;
    lab.peers[who].client.move_with(now, vel);
}

/// Ann stands still; Bob walks east out of her view and back past her; Cid
/// stands 5 m north of Ann. Enter at 10 m, leave beyond 12 m.
#[test]
fn walking_past_each_other_through_the_view_edge() {
    let mut lab = Lab::new(small_view(), 1);
    lab.record_frames = true;
    let names = ["ann", "bob", "cid"];
    let ids: Vec<usize> = names.iter().map(|n| lab.join(n, INSTANT)).collect();
    let (bob, cid) = (ids[1], ids[2]);
    for (i, x) in [(ids[0], 81), (bob, 83), (cid, 81)] {
        lab.place(i, Vec2::from_ints(x, 121));
    }
    let mut step = 0u32;
    lab.run(secs_f(8.0), Duration::from_millis(50), |lab| {
        step += 1;
        // Cid walks 5 m north, then stops.
        if step <= 20 {
            walk(lab, cid, Vec2::new(Fixed::ZERO, Fixed::from_int(-5)));
        }
        match step {
            // Bob walks east for 3 s at 5 m/s, then west for 4 s.
            21..=80 => walk(lab, bob, Vec2::from_ints(5, 0)),
            81..=160 => walk(lab, bob, Vec2::from_ints(-5, 0)),
            _ => {}
        }
    });
    for p in &lab.peers {
        assert!(!p
            .events
            .iter()
            .any(|(_, e)| matches!(e, ClientEvent::Corrected { .. })));
    }
    insta::assert_snapshot!(trace(&lab, &names));
}

/// A speed hacker claims a position 7 m away in one step: the server answers
/// with a correction and the observer never sees the jump.
#[test]
fn a_speed_hacker_is_corrected() {
    let mut lab = Lab::new(small_view(), 2);
    lab.record_frames = true;
    let names = ["ann", "hax"];
    let ids: Vec<usize> = names.iter().map(|n| lab.join(n, INSTANT)).collect();
    let hax = ids[1];
    lab.place(ids[0], Vec2::from_ints(81, 121));
    lab.place(hax, Vec2::from_ints(84, 121));
    let mut step = 0u32;
    lab.run(secs_f(1.5), Duration::from_millis(50), |lab| {
        step += 1;
        if step == 10 {
            let now = lab.now;
            let here = lab.peers[hax].client.avatar().unwrap().position();
            lab.peers[hax]
                .client
                .claim_position(now, here + Vec2::from_ints(7, 0));
        }
        if (12..=14).contains(&step) {
            walk(lab, hax, Vec2::from_ints(0, 4));
        }
    });
    insta::assert_snapshot!(trace(&lab, &names));
}

/// Dee's connection drops; she reconnects 3 s later and resumes the same
/// character, which Eve saw standing there all along; Dee is sent her whole
/// view again.
#[test]
fn a_dropped_player_reconnects_and_resumes() {
    let mut lab = Lab::new(small_view(), 3);
    lab.record_frames = true;
    let names = ["dee", "eve"];
    let ids: Vec<usize> = names.iter().map(|n| lab.join(n, INSTANT)).collect();
    lab.place(ids[0], Vec2::from_ints(81, 121));
    lab.place(ids[1], Vec2::from_ints(84, 121));
    lab.run(secs_f(1.0), Duration::from_millis(50), |_| {});
    lab.drop_connection(ids[0]);
    lab.run(secs_f(4.0), Duration::from_millis(50), |_| {});
    lab.connect(ids[0]);
    lab.run(secs_f(5.0), Duration::from_millis(50), |_| {});
    let resumed = lab.peers[ids[0]]
        .events
        .iter()
        .any(|(_, e)| matches!(e, ClientEvent::Welcomed { resumed: true, .. }));
    assert!(resumed);
    insta::assert_snapshot!(trace(&lab, &names));
}
