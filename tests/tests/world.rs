//! The world end to end in virtual time: the real node and client machines over
//! simulated links with latency and jitter (`sim::lab`).

use game_core::client::ClientEvent;
use game_core::math::{Fixed, Vec2};
use game_core::node::NodeConfig;
use game_core::protocol::QPos;
use game_core::time::{Duration, Instant};
use sim::lab::{Lab, LinkSpec};

const JITTERY: LinkSpec = LinkSpec {
    latency_ms: 40,
    jitter_ms: 30,
    loss_per_10k: 0,
    bandwidth: 0,
};

fn secs(s: u64) -> Instant {
    Instant::from_micros(s * 1_000_000)
}

fn east(speed_m: i32) -> Vec2 {
    Vec2::new(Fixed::from_int(speed_m), Fixed::ZERO)
}

/// Two players in the meadow; the walker goes east and back while the watcher
/// draws it every frame (60 Hz).
#[test]
fn interpolated_positions_are_smooth_and_converge_under_jitter() {
    let mut lab = Lab::new(NodeConfig::default(), 5);
    let watcher = lab.join("watcher", JITTERY);
    let walker = lab.join("walker", JITTERY);
    lab.run(secs(2), Duration::from_millis(50), |_| {});
    let walker_entity = lab.entity_of(walker).expect("walker in a zone");
    let start = lab.server_position(walker).unwrap();
    assert!(lab.peers[watcher]
        .client
        .remotes()
        .contains_key(&walker_entity));

    let frame = Duration::from_micros(16_667);
    let mut last_x: Option<i32> = None;
    let mut backward_steps = 0;
    let mut drawn_frames = 0;
    let mut step_count = 0u64;
    lab.run(secs(8), frame, |lab| {
        step_count += 1;
        let now = lab.now;
        // Walk east for 3 s at 4 m/s, inputs at 20 Hz (every third frame).
        if step_count % 3 == 0 && now < secs(5) {
            lab.peers[walker].client.move_with(now, east(4));
        }
        if let Some(p) = lab.peers[watcher].client.draw_position(walker_entity, now) {
            drawn_frames += 1;
            if let Some(prev) = last_x {
                if p.x.raw() < prev - 1 {
                    backward_steps += 1;
                }
            }
            last_x = Some(p.x.raw());
        }
    });
    assert!(drawn_frames > 300, "{drawn_frames} frames drawn");
    assert_eq!(backward_steps, 0, "the drawn walker never jumps back");
    // The walker stopped at 5 s; by 8 s the drawing has converged to the
    // server's position, to the quantum of replication.
    let truth = lab.server_position(walker).unwrap();
    let drawn = lab.peers[watcher]
        .client
        .draw_position(walker_entity, lab.now)
        .unwrap();
    assert_eq!(drawn, QPos::from_pos(truth).to_pos());
    assert!(
        truth.x > start.x + Fixed::from_int(9),
        "it did walk: {start:?} to {truth:?}"
    );
    assert_eq!(lab.peers[walker].client.avatar().unwrap().corrections(), 0);
}

#[test]
fn prediction_plus_correction_ends_at_the_authoritative_position() {
    let mut lab = Lab::new(NodeConfig::default(), 6);
    let cheat = lab.join("cheat", JITTERY);
    lab.run(secs(1), Duration::from_millis(50), |_| {});
    let start = lab.server_position(cheat).unwrap();
    // A teleport claim, then honest walking right after it (before the
    // correction comes back).
    let now = lab.now;
    lab.peers[cheat]
        .client
        .claim_position(now, start + Vec2::from_ints(30, 0));
    let mut ticks = 0;
    lab.run(secs(3), Duration::from_millis(50), |lab| {
        ticks += 1;
        if ticks <= 10 {
            let now = lab.now;
            lab.peers[cheat]
                .client
                .move_with(now, Vec2::from_ints(0, 3));
        }
    });
    let corrected = lab.peers[cheat]
        .events
        .iter()
        .filter(|(_, e)| matches!(e, ClientEvent::Corrected { .. }))
        .count();
    assert_eq!(corrected, 1, "one correction for the teleport");
    let predicted = lab.peers[cheat].client.avatar().unwrap().position();
    let authoritative = lab.server_position(cheat).unwrap();
    assert_eq!(predicted, authoritative);
    // The teleport never happened; the honest walk after it did.
    assert_eq!(authoritative.x, start.x);
    assert!(authoritative.y > start.y);
}

#[test]
fn bots_that_know_the_map_are_never_corrected() {
    use sim::policy::{Atlas, Wander};
    let atlas = Atlas::samples();
    let mut lab = Lab::new(NodeConfig::default(), 7);
    let bots: Vec<usize> = (0..12)
        .map(|i| lab.join(&format!("bot{i}"), JITTERY))
        .collect();
    let mut wanders: Vec<Wander> = (0..bots.len()).map(|i| Wander::new(7, i as u64)).collect();
    lab.run(secs(1), Duration::from_millis(50), |_| {});
    lab.run(secs(60), Duration::from_millis(100), |lab| {
        let now = lab.now;
        for (i, &b) in bots.iter().enumerate() {
            let client = &mut lab.peers[b].client;
            let Some(avatar) = client.avatar() else {
                continue;
            };
            let map = atlas.get(&avatar.map).map(|m| m.as_ref());
            let v = wanders[i].velocity(
                now,
                avatar.position(),
                map,
                avatar.max_speed(),
                Duration::from_millis(100),
            );
            client.move_with(now, v);
        }
    });
    for &b in &bots {
        let c = &lab.peers[b].client;
        assert_eq!(c.avatar().unwrap().corrections(), 0, "bot {b}");
        assert_eq!(c.updates_for_unknown(), 0);
    }
    // Everyone's view equals the server's AOI (reconstructed from messages).
    for &b in &bots {
        let avatar = lab.peers[b].client.avatar().unwrap();
        let zone = lab
            .node
            .world()
            .zones()
            .find(|z| z.id() == avatar.zone)
            .unwrap();
        let seen: Vec<_> = lab.peers[b].client.remotes().keys().copied().collect();
        assert_eq!(
            seen,
            zone.visible(avatar.entity).collect::<Vec<_>>(),
            "bot {b}"
        );
    }
}
