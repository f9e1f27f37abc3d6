//! The zone driven tick by tick with no IO.

use super::*;
use crate::protocol::{
    FrameDecoder, QPos, ServerMsg, ServerWorld, WorldUpdate, MAX_SERVER_PAYLOAD,
};
use proptest::prelude::*;

const T0: Instant = Instant::ZERO;

fn ms(n: u64) -> Instant {
    Instant::from_micros(n * 1000)
}

fn open_zone(config: ZoneConfig) -> Zone {
    Zone::new(
        ZoneId(1),
        Arc::new(Map::open("open", 200, 200, 2)),
        0,
        config,
        20,
        9,
        content(),
    )
}

fn content() -> Arc<crate::content::Content> {
    Arc::new(crate::content::Content::sample())
}

/// Runs a tick and decodes each player's message.
fn tick(zone: &mut Zone, now: Instant) -> BTreeMap<PlayerId, WorldUpdate> {
    let mut out = BTreeMap::new();
    zone.run_tick(now);
    for (player, frame) in zone.replies().iter() {
        let mut dec = FrameDecoder::new(MAX_SERVER_PAYLOAD);
        let mut input = frame;
        let payload = dec.decode(&mut input).unwrap().unwrap();
        match ServerMsg::decode(payload).unwrap() {
            ServerMsg::World(ServerWorld::WorldUpdate(u)) => {
                assert!(
                    out.insert(player, u).is_none(),
                    "one message per client per tick"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

fn mv(seq: u32, epoch: u16, pos: Vec2) -> MoveInput {
    MoveInput {
        seq,
        epoch,
        client_time_us: 0,
        pos,
        vel: Vec2::ZERO,
    }
}

#[test]
fn players_in_view_spawn_for_each_other_and_far_ones_do_not() {
    let mut z = open_zone(ZoneConfig::default());
    let a = z.spawn_player(PlayerId(1), Some(Vec2::from_ints(100, 100)), 0, T0);
    let b = z.spawn_player(PlayerId(2), Some(Vec2::from_ints(120, 100)), 0, T0);
    let c = z.spawn_player(PlayerId(3), Some(Vec2::from_ints(300, 300)), 0, T0);
    let msgs = tick(&mut z, ms(50));
    let spawned = |p: u64| {
        msgs[&PlayerId(p)]
            .spawns
            .iter()
            .map(|s| s.entity)
            .collect::<Vec<_>>()
    };
    assert_eq!(spawned(1), vec![b]);
    assert_eq!(spawned(2), vec![a]);
    let alone = &msgs[&PlayerId(3)];
    assert!(
        alone.spawns.is_empty() && alone.me.is_some(),
        "nothing in view: only its own vitals, once"
    );
    assert_eq!(z.visible(c).count(), 0);
    let msgs = tick(&mut z, ms(100));
    assert!(!msgs.contains_key(&PlayerId(3)), "then nothing to say");
}

#[test]
fn speed_hack_is_corrected_not_applied() {
    let mut z = open_zone(ZoneConfig::default());
    let start = Vec2::from_ints(100, 100);
    let a = z.spawn_player(PlayerId(1), Some(start), 0, T0);
    tick(&mut z, ms(50));
    // 20 m in 50 ms: a teleport.
    assert!(z.queue_move(a, ms(60), mv(1, 0, Vec2::from_ints(120, 100))));
    let msgs = tick(&mut z, ms(100));
    assert_eq!(z.position(a), Some(start), "the cheat was not applied");
    let c = msgs[&PlayerId(1)].correction.expect("a correction");
    assert_eq!((c.seq, c.pos, c.epoch), (1, start, 1));
    assert_eq!(z.corrections_of(a), 1);
    assert_eq!(z.stats().corrections.get("teleport"), Some(&1));
}

#[test]
fn valid_moves_are_applied_and_acknowledged() {
    let mut z = open_zone(ZoneConfig::default());
    let a = z.spawn_player(PlayerId(1), Some(Vec2::from_ints(100, 100)), 0, T0);
    let to = Vec2::new(Fixed::from_raw(100 * 256 + 70), Fixed::from_int(100));
    z.queue_move(a, ms(50), mv(7, 0, to));
    let msgs = tick(&mut z, ms(50));
    assert_eq!(z.position(a), Some(to));
    assert_eq!(msgs[&PlayerId(1)].ack_seq, 7);
    assert_eq!(msgs[&PlayerId(1)].correction, None);
}

#[test]
fn stationary_entities_cost_nothing_after_one_stop_update() {
    let mut z = open_zone(ZoneConfig::default());
    let a = z.spawn_player(PlayerId(1), Some(Vec2::from_ints(100, 100)), 0, T0);
    let b = z.spawn_player(PlayerId(2), Some(Vec2::from_ints(110, 100)), 0, T0);
    tick(&mut z, ms(50));
    let step = Vec2::new(Fixed::from_raw(100 * 256 + 60), Fixed::from_int(100));
    z.queue_move(a, ms(100), mv(1, 0, step));
    let msgs = tick(&mut z, ms(100));
    assert_eq!(msgs[&PlayerId(2)].updates.len(), 1);
    // A stops. It could still be a mover between two inputs for two ticks;
    // after those and one of slack, one zero update so B's client stops
    // extrapolating...
    for t in [150, 200] {
        assert!(!tick(&mut z, ms(t)).contains_key(&PlayerId(2)), "at {t} ms");
    }
    let msgs = tick(&mut z, ms(250));
    let u = &msgs[&PlayerId(2)].updates;
    assert_eq!((u[0].entity, u[0].dx, u[0].dy), (a, 0, 0));
    // ...then silence.
    for i in 0..20 {
        let msgs = tick(&mut z, ms(300 + 50 * i));
        assert!(!msgs.contains_key(&PlayerId(2)), "tick {i}: {msgs:?}");
    }
    let _ = b;
}

/// A client that moves at 10 Hz moves its character every other tick of a
/// 20 Hz zone. Between two of its moves it is still moving, so its observers
/// must not get a zero update (which says it stopped) between them: only the
/// moves, and once it really stops, one zero update soon after, then silence.
#[test]
fn a_10_hz_mover_gets_no_stop_update_between_its_moves() {
    let mut z = open_zone(ZoneConfig::default());
    let a = z.spawn_player(PlayerId(1), Some(Vec2::from_ints(100, 100)), 0, T0);
    z.spawn_player(PlayerId(2), Some(Vec2::from_ints(110, 100)), 0, T0);
    tick(&mut z, ms(50));
    // (tick, dx, dy) of every update about A that B's client gets.
    let mut heard = Vec::new();
    for i in 0..24u32 {
        let now = ms(100 + 50 * i as u64);
        if i % 2 == 0 && i <= 10 {
            // 0.4 m every 100 ms: 4 m/s.
            let x = Fixed::from_raw(100 * 256 + 102 * (i as i32 / 2 + 1));
            assert!(z.queue_move(a, now, mv(i / 2 + 1, 0, Vec2::new(x, Fixed::from_int(100)))));
        }
        if let Some(u) = tick(&mut z, now).get(&PlayerId(2)) {
            heard.extend(
                u.updates
                    .iter()
                    .filter(|u| u.entity == a)
                    .map(|u| (i, u.dx, u.dy)),
            );
        }
    }
    let moves: Vec<u32> = heard
        .iter()
        .filter(|h| (h.1, h.2) != (0, 0))
        .map(|h| h.0)
        .collect();
    let stops: Vec<u32> = heard
        .iter()
        .filter(|h| (h.1, h.2) == (0, 0))
        .map(|h| h.0)
        .collect();
    assert_eq!(moves, vec![0, 2, 4, 6, 8, 10], "{heard:?}");
    assert_eq!(stops.len(), 1, "one stop, after the last move: {heard:?}");
    assert!(
        (11..=14).contains(&stops[0]),
        "the stop comes within four ticks of the last move: {heard:?}"
    );
}

#[test]
fn over_budget_the_nearest_go_first_and_none_starves() {
    let config = ZoneConfig {
        update_budget: 5,
        ..ZoneConfig::default()
    };
    let mut z = open_zone(config);
    let me = z.spawn_player(PlayerId(1), Some(Vec2::from_ints(100, 100)), 0, T0);
    let others: Vec<EntityId> = (0..30)
        .map(|i| {
            z.spawn_player(
                PlayerId(100 + i),
                Some(Vec2::from_ints(101 + i as i32, 100)),
                0,
                T0,
            )
        })
        .collect();
    // Spawns trickle in at 5 per tick, nearest first.
    let first = tick(&mut z, ms(50));
    let got: Vec<EntityId> = first[&PlayerId(1)]
        .spawns
        .iter()
        .map(|s| s.entity)
        .collect();
    assert_eq!(got, others[..5].to_vec());
    let mut known: Vec<EntityId> = got;
    for t in 2..=6 {
        let msgs = tick(&mut z, ms(50 * t));
        known.extend(msgs[&PlayerId(1)].spawns.iter().map(|s| s.entity));
    }
    known.sort();
    assert_eq!(known, others); // Everyone moves every tick: each entity is updated within a bounded wait,
                               // and the nearest more often than the farthest.
    let mut last_sent: BTreeMap<EntityId, u64> = BTreeMap::new();
    let mut sends: BTreeMap<EntityId, u32> = BTreeMap::new();
    for t in 7..=80u64 {
        for (i, &e) in others.iter().enumerate() {
            let x = 101 * 256 + i as i32 * 256 + ((t as i32 % 2) * 40);
            z.queue_move(
                e,
                ms(50 * t),
                mv(
                    t as u32,
                    0,
                    Vec2::new(Fixed::from_raw(x), Fixed::from_int(100)),
                ),
            );
        }
        let msgs = tick(&mut z, ms(50 * t));
        for u in &msgs[&PlayerId(1)].updates {
            last_sent.insert(u.entity, t);
            *sends.entry(u.entity).or_default() += 1;
        }
        if t > 40 {
            for e in &others {
                let waited = t - last_sent.get(e).copied().unwrap_or(0);
                assert!(waited <= 30, "{e:?} starved for {waited} ticks");
            }
        }
    }
    assert!(sends[&others[0]] > 2 * sends[&others[29]], "{sends:?}");
    let _ = me;
}

#[test]
fn inputs_beyond_the_per_tick_allowance_are_dropped() {
    let mut z = open_zone(ZoneConfig::default());
    let a = z.spawn_player(PlayerId(1), Some(Vec2::from_ints(100, 100)), 0, T0);
    let p = Vec2::from_ints(100, 100);
    let queued = (0..20)
        .filter(|&i| z.queue_move(a, T0, mv(i, 0, p)))
        .count();
    assert_eq!(queued, 8);
    assert_eq!(z.stats().inputs_dropped, 12);
    tick(&mut z, ms(50));
    assert!(
        z.queue_move(a, ms(60), mv(100, 0, p)),
        "the allowance resets each tick"
    );
}

#[test]
fn stepping_on_a_portal_asks_for_a_transfer() {
    let text = "name a\ncell 2\nspawn 1 1\nportal 3 1 b 1 1\ngrid\n#####\n#...#\n#####\n";
    let map = Arc::new(Map::parse(text).unwrap());
    let mut z = Zone::new(ZoneId(1), map, 0, ZoneConfig::default(), 20, 1, content());
    let a = z.spawn_player(PlayerId(1), None, 0, T0);
    tick(&mut z, ms(50));
    z.queue_move(a, ms(1000), mv(1, 0, Vec2::from_ints(5, 3)));
    tick(&mut z, ms(1000));
    assert_eq!(z.take_transfers().count(), 0);
    z.queue_move(a, ms(2000), mv(2, 0, Vec2::from_ints(7, 3)));
    tick(&mut z, ms(2000));
    let t: Vec<Transfer> = z.take_transfers().collect();
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].player, t[0].target_map.as_str(), t[0].target_cell),
        (PlayerId(1), "b", (1, 1))
    );
}

#[test]
fn arrival_order_across_clients_does_not_change_the_outcome() {
    let run = |reverse: bool| {
        let mut z = open_zone(ZoneConfig::default());
        let ids: Vec<EntityId> = (0..10)
            .map(|i| {
                z.spawn_player(
                    PlayerId(i + 1),
                    Some(Vec2::from_ints(100 + i as i32, 100)),
                    0,
                    T0,
                )
            })
            .collect();
        let mut order: Vec<usize> = (0..10).collect();
        if reverse {
            order.reverse();
        }
        for &i in &order {
            let to = Vec2::new(
                Fixed::from_int(100 + i as i32),
                Fixed::from_raw(100 * 256 + 50),
            );
            z.queue_move(ids[i], ms(40), mv(1, 0, to));
        }
        tick(&mut z, ms(50))
    };
    assert_eq!(run(false), run(true));
}

#[test]
fn npcs_wander_within_walkable_cells() {
    let map = Arc::new(Map::parse(SAMPLE_MAPS[0]).unwrap());
    let mut z = Zone::new(
        ZoneId(1),
        Arc::clone(&map),
        0,
        ZoneConfig::default(),
        20,
        3,
        content(),
    );
    let start: Vec<(EntityId, Vec2)> = z.entities().map(|(id, _, p)| (id, p)).collect();
    assert!(!start.is_empty());
    let _p = z.spawn_player(PlayerId(1), None, 0, T0);
    for t in 1..400 {
        tick(&mut z, ms(50 * t));
    }
    let moved = z
        .entities()
        .filter(|(id, kind, pos)| {
            *kind == EntityKind::Npc && start.iter().any(|(s, p)| s == id && p != pos)
        })
        .count();
    assert!(moved > 0, "some NPC moved");
    assert!(z.entities().all(|(_, _, p)| map.is_walkable(p)));
}

/// The server's quantized state of what `e` sees.
fn seen_by(z: &Zone, e: EntityId) -> BTreeMap<EntityId, QPos> {
    z.visible(e)
        .map(|v| (v, QPos::from_pos(z.position(v).unwrap())))
        .collect()
}

/// What a client rebuilds from the messages: spawns, despawns and deltas.
fn apply(model: &mut BTreeMap<EntityId, QPos>, u: &WorldUpdate) {
    for e in &u.despawns {
        assert!(model.remove(e).is_some(), "despawn of an unknown entity");
    }
    for s in &u.spawns {
        model.insert(s.entity, s.pos);
    }
    for up in &u.updates {
        let q = model
            .get_mut(&up.entity)
            .expect("update of an unknown entity");
        q.x += up.dx;
        q.y += up.dy;
    }
}

proptest! {
    /// After every tick, what each client reconstructs from its messages equals
    /// the server's quantized state of its visible set.
    #[test]
    fn clients_reconstruct_exactly_what_they_see(
        moves in prop::collection::vec(prop::collection::vec((0usize..12, -300i32..300, -300i32..300), 0..12), 1..40),
    ) {
        let mut z = open_zone(ZoneConfig { view_radius_m: 20, view_margin_m: 4, ..ZoneConfig::default() });
        let ids: Vec<EntityId> = (0..12)
            .map(|i| z.spawn_player(PlayerId(i as u64 + 1), Some(Vec2::from_ints(150 + 7 * i, 150 + 3 * (i % 4))), 0, T0))
            .collect();
        let mut models: BTreeMap<PlayerId, BTreeMap<EntityId, QPos>> = BTreeMap::new();
        let mut seq = 0;
        for (t, tick_moves) in moves.iter().enumerate() {
            let now = ms(1000 * (t as u64 + 1));
            for &(who, dx, dy) in tick_moves {
                let e = ids[who];
                let pos = z.position(e).unwrap() + Vec2::new(Fixed::from_raw(dx * 4), Fixed::from_raw(dy * 4));
                seq += 1;
                let epoch = z.epoch_of(e).unwrap();
                z.queue_move(e, now, mv(seq, epoch, pos));
            }
            for (p, u) in tick(&mut z, now) {
                apply(models.entry(p).or_default(), &u);
            }
            for (i, &e) in ids.iter().enumerate() {
                let model = models.entry(PlayerId(i as u64 + 1)).or_default();
                let truth = seen_by(&z, e);
                prop_assert_eq!(&*model, &truth, "player {} after tick {}", i + 1, t);
            }
        }
    }
}

proptest! {
    /// Over budget, and with clients reset to nothing at random (a resume):
    /// a client never hears of an entity it cannot see, never gets a spawn for
    /// one it holds or an update or despawn for one it does not, and once
    /// everyone stands still it catches up within a bounded number of ticks.
    #[test]
    fn over_budget_clients_lag_but_stay_consistent_and_catch_up(
        script in prop::collection::vec(
            (prop::collection::vec((0usize..12, -300i32..300, -300i32..300), 0..12), prop::option::of(0usize..12)),
            1..30,
        ),
    ) {
        let mut z = open_zone(ZoneConfig {
            view_radius_m: 20,
            view_margin_m: 4,
            update_budget: 3,
            ..ZoneConfig::default()
        });
        let ids: Vec<EntityId> = (0..12)
            .map(|i| z.spawn_player(PlayerId(i as u64 + 1), Some(Vec2::from_ints(150 + 3 * i, 150 + 2 * (i % 4))), 0, T0))
            .collect();
        let mut models: BTreeMap<PlayerId, BTreeMap<EntityId, QPos>> = BTreeMap::new();
        let mut seq = 0;
        let quiet = 12 / 3 + 2;
        for t in 0..script.len() + quiet {
            let now = ms(1000 * (t as u64 + 1));
            if let Some((moves, reset)) = script.get(t) {
                for &(who, dx, dy) in moves {
                    let e = ids[who];
                    let pos = z.position(e).unwrap() + Vec2::new(Fixed::from_raw(dx * 4), Fixed::from_raw(dy * 4));
                    seq += 1;
                    z.queue_move(e, now, mv(seq, z.epoch_of(e).unwrap(), pos));
                }
                if let Some(who) = *reset {
                    z.resync(ids[who], now);
                    models.remove(&PlayerId(who as u64 + 1));
                }
            }
            for (p, u) in tick(&mut z, now) {
                let model = models.entry(p).or_default();
                for s in &u.spawns {
                    let despawned = u.despawns.contains(&s.entity);
                    prop_assert!(despawned || !model.contains_key(&s.entity), "{p:?} spawned {:?} twice", s.entity);
                }
                apply(model, &u);
            }
            for (i, &e) in ids.iter().enumerate() {
                let model = models.entry(PlayerId(i as u64 + 1)).or_default();
                let truth = seen_by(&z, e);
                for held in model.keys() {
                    prop_assert!(truth.contains_key(held), "player {} holds {held:?}, out of view", i + 1);
                }
                if t + 1 == script.len() + quiet {
                    prop_assert_eq!(&*model, &truth, "player {} did not catch up", i + 1);
                }
            }
        }
    }
}

#[test]
fn priority_weights_follow_the_formula_from_feet_to_radius() {
    let r = Fixed::from_int(40).raw() as u64;
    let w = replication::Weights::new(r * r);
    assert_eq!(w.of(0), 1025);
    assert!((205..=208).contains(&w.of(r * r)), "{}", w.of(r * r));
    let mut last = u32::MAX;
    for step in 0..=200u64 {
        let d = r * step / 100;
        let got = w.of(d * d);
        assert!(got <= last, "weights never rise with distance");
        last = got;
        let exact = 1 + 256 * r * r / (d * d + r * r / 4);
        let err = (got as i64 - exact as i64).unsigned_abs();
        assert!(
            step > 141 || err <= exact / 50 + 1,
            "d = {step}% of r: {got} vs {exact}"
        );
    }
}
