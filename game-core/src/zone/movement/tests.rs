//! The validator's two promises, as properties: nothing moves faster than the
//! limit over any window, and honest jittery clients are never corrected.

use super::*;
use proptest::prelude::*;

fn map() -> Map {
    Map::open("test", 500, 500, 2)
}

fn input(seq: u32, epoch: u16, pos: Vec2) -> MoveInput {
    MoveInput {
        seq,
        epoch,
        client_time_us: 0,
        pos,
        vel: Vec2::ZERO,
    }
}

fn ms(n: u64) -> Instant {
    Instant::from_micros(n * 1000)
}

#[test]
fn a_speed_hack_is_rejected_and_the_epoch_advances() {
    let rules = MovementRules::default();
    let m = map();
    let mut mover = Mover::new(&rules, ms(0), 0);
    // 6 m/s allows 0.3 m per 50 ms; 2 m per 50 ms drains the 3 m burst quickly.
    let mut pos = Vec2::from_ints(100, 100);
    let mut verdicts = Vec::new();
    for i in 1..=10u32 {
        let next = pos + Vec2::from_ints(2, 0);
        let v = mover.judge(
            &rules,
            &m,
            ms(50 * i as u64),
            pos,
            &input(i, mover.epoch(), next),
        );
        if v == Verdict::Accept {
            pos = next;
        }
        verdicts.push(v);
    }
    assert!(
        verdicts.contains(&Verdict::Reject(Rejection::TooFast)),
        "{verdicts:?}"
    );
    assert!(mover.epoch() > 0);
    // An input from before the correction is ignored, not judged.
    assert_eq!(
        mover.judge(&rules, &m, ms(600), pos, &input(11, 0, pos)),
        Verdict::Stale
    );
}

#[test]
fn teleports_walls_and_bounds_are_rejected() {
    let rules = MovementRules::default();
    let m = Map::parse("name t\ncell 2\nspawn 1 1\ngrid\n#####\n#.#.#\n#####\n").unwrap();
    let from = Vec2::from_ints(3, 3);
    let mut mover = Mover::new(&rules, ms(0), 0);
    let mut judge = |seq, to| {
        let epoch = mover.epoch();
        mover.judge(&rules, &m, ms(10_000), from, &input(seq, epoch, to))
    };
    let into_wall = Vec2::new(Fixed::from_raw(4 * 256 + 128), Fixed::from_int(3));
    assert_eq!(judge(1, into_wall), Verdict::Reject(Rejection::Blocked));
    assert_eq!(
        judge(2, Vec2::from_ints(-1, 3)),
        Verdict::Reject(Rejection::OutOfBounds)
    );
    let big = Map::open("big", 100, 100, 2);
    let mut mover = Mover::new(&rules, ms(0), 0);
    let far = input(1, 0, Vec2::from_ints(60, 50));
    assert_eq!(
        mover.judge(&rules, &big, ms(10_000), Vec2::from_ints(50, 50), &far),
        Verdict::Reject(Rejection::Teleport)
    );
}

#[test]
fn repeated_and_old_sequence_numbers_are_stale() {
    let rules = MovementRules::default();
    let m = map();
    let p = Vec2::from_ints(100, 100);
    let mut mover = Mover::new(&rules, ms(0), 0);
    assert_eq!(
        mover.judge(&rules, &m, ms(50), p, &input(5, 0, p)),
        Verdict::Accept
    );
    assert_eq!(
        mover.judge(&rules, &m, ms(100), p, &input(5, 0, p)),
        Verdict::Stale
    );
    assert_eq!(
        mover.judge(&rules, &m, ms(100), p, &input(4, 0, p)),
        Verdict::Stale
    );
    assert_eq!(
        mover.judge(&rules, &m, ms(100), p, &input(u32::MAX, 0, p)),
        Verdict::Accept
    );
}

proptest! {
    /// Whatever a cheater sends, whenever it arrives, the accepted path over any
    /// window [a, b] of server time is no longer than limit * (b - a) + burst.
    #[test]
    fn nothing_moves_faster_than_the_limit_over_any_window(
        steps in prop::collection::vec((0u64..200_000, -2000i32..2000, -2000i32..2000), 1..120),
    ) {
        let rules = MovementRules::default();
        let m = map();
        let mut mover = Mover::new(&rules, Instant::ZERO, 0);
        let mut pos = Vec2::from_ints(500, 500);
        let mut now = Instant::ZERO;
        // (time, cumulative accepted distance) after each accepted move.
        let mut path: Vec<(Instant, i64)> = vec![(now, 0)];
        for (i, (gap_us, dx, dy)) in steps.into_iter().enumerate() {
            now += Duration::from_micros(gap_us);
            let to = pos + Vec2::new(Fixed::from_raw(dx), Fixed::from_raw(dy));
            let epoch = mover.epoch();
            if mover.judge(&rules, &m, now, pos, &input(i as u32, epoch, to)) == Verdict::Accept {
                let total = path.last().unwrap().1 + distance_raw(pos, to);
                path.push((now, total));
                pos = to;
            }
        }
        let limit_raw_per_s = rules.max_speed_raw as i64 * (100 + rules.tolerance_pct as i64) / 100;
        for (i, &(ta, da)) in path.iter().enumerate() {
            for &(tb, db) in &path[i..] {
                let window_us = tb.saturating_since(ta).as_micros() as i64;
                let allowed = limit_raw_per_s * window_us / 1_000_000 + rules.capacity() + 1;
                prop_assert!(db - da <= allowed, "moved {} raw in {} us, allowed {}", db - da, window_us, allowed);
            }
        }
    }

    /// An honest client at full speed, 20 inputs a second, each delayed by up to
    /// 400 ms of jitter (in order, as TCP delivers), is never corrected.
    #[test]
    fn honest_jittery_clients_are_never_corrected(
        delays in prop::collection::vec(0u64..400_000, 1..200),
        dir in 0usize..8,
    ) {
        let rules = MovementRules::default();
        let m = map();
        let dirs = [(1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)];
        let (ux, uy) = dirs[dir];
        // Full speed for 50 ms along the direction, rounded down to raw units.
        let per_tick = rules.max_speed_raw as i64 * 50 / 1000;
        let (sx, sy) = if ux != 0 && uy != 0 {
            let d = per_tick * 1000 / 1415;
            (ux as i64 * d, uy as i64 * d)
        } else {
            (ux as i64 * per_tick, uy as i64 * per_tick)
        };
        let mut mover = Mover::new(&rules, Instant::ZERO, 0);
        let mut pos = Vec2::from_ints(500, 500);
        let mut arrival = Instant::ZERO;
        for (i, delay) in delays.into_iter().enumerate() {
            let sent = Instant::from_micros(50_000 * (i as u64 + 1));
            arrival = arrival.max(sent + Duration::from_micros(delay));
            let to = pos + Vec2::new(Fixed::from_raw(sx as i32), Fixed::from_raw(sy as i32));
            let v = mover.judge(&rules, &m, arrival, pos, &input(i as u32, 0, to));
            prop_assert_eq!(v, Verdict::Accept, "input {} arriving at {:?}", i, arrival);
            pos = to;
        }
    }
}
