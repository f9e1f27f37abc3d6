//! The interpolator's promises: exact interpolation, capped extrapolation, a
//! render time that never runs backwards, late snapshots blended in instead of
//! snapped to, bounded memory, and, over a jittery lossy network, a drawn position
//! that never moves backwards, sits on the true path whenever the snapshots came
//! in time and converges once they have all arrived.

use super::*;
use proptest::prelude::*;

/// Server tick period in microseconds (20 Hz).
const TICK_US: u64 = 50_000;
/// The fastest entity in these tests moves 10 m/s = 0.5 m = 128 raw units per tick.
const MAX_RAW_PER_TICK: i64 = 128;

fn ms(n: u64) -> Instant {
    Instant::from_micros(n * 1_000)
}

fn raw(x: i32, y: i32) -> Vec2 {
    Vec2::new(Fixed::from_raw(x), Fixed::from_raw(y))
}

/// Render frame `k` at 60 Hz, in microseconds of (perfectly estimated) server time.
fn frame_us(k: u64) -> u64 {
    k * 1_000_000 / 60
}

/// `floor(num / den + 1/2)` for `den > 0`, written independently of the module.
fn round_half_up(num: i128, den: i128) -> i128 {
    (2 * num + den).div_euclid(2 * den)
}

/// An entity moving in a straight line at constant velocity: at `p0` at server time
/// `t0`, moving `d` raw units per tick. Whole raw units per tick make every
/// snapshot an exact sample of the line, so any drift in the drawn position comes
/// from the interpolator, not from quantised snapshots.
#[derive(Clone, Copy, Debug)]
struct Line {
    p0: (i64, i64),
    d: (i64, i64),
    t0: u64,
}

impl Line {
    fn at(&self, t: u64) -> Vec2 {
        let dt = i128::from(t) - i128::from(self.t0);
        let axis = |p: i64, d: i64| {
            let v = i128::from(p) + round_half_up(i128::from(d) * dt, i128::from(TICK_US));
            Fixed::from_raw(i32::try_from(v).expect("test positions fit"))
        };
        Vec2::new(axis(self.p0.0, self.d.0), axis(self.p0.1, self.d.1))
    }

    /// Position along the direction of motion, scaled by `|d|`.
    fn progress(&self, p: Vec2) -> i64 {
        self.d.0 * i64::from(p.x.raw()) + self.d.1 * i64::from(p.y.raw())
    }
}

/// One snapshot the server sent: its tick time and when (if ever) it reaches the client.
#[derive(Clone, Copy, Debug)]
struct Delivery {
    time: u64,
    arrival: Option<u64>,
}

#[derive(Clone, Copy, Debug)]
struct FrameRecord {
    now: u64,
    render: u64,
    drawn: Option<Vec2>,
    /// Every frame within the last `CORRECTION_WINDOW` of render time (this one
    /// included) had an arrived snapshot at or before and at or after its render
    /// time, so nothing could have been extrapolated, held or blended.
    in_time: bool,
    /// All snapshots that will ever arrive have arrived, at least
    /// `CORRECTION_WINDOW` ago.
    settled: bool,
}

struct Trace {
    frames: Vec<FrameRecord>,
    /// Server time of the newest snapshot the interpolator accepted.
    newest: Option<u64>,
}

/// Delivers the snapshots of `line` as `deliveries` says and samples at 60 Hz until
/// `end_us`, checking that exactly the snapshots newer than every earlier arrival
/// are accepted.
fn simulate(
    config: InterpolationConfig,
    line: Line,
    deliveries: &[Delivery],
    end_us: u64,
) -> (Interpolator, Trace) {
    let mut interp = Interpolator::new(config);
    let mut order: Vec<(u64, usize)> = deliveries
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.arrival.map(|a| (a, i)))
        .collect();
    order.sort_unstable();
    let last_arrival = order.last().map(|&(a, _)| a);
    let window = CORRECTION_WINDOW.as_micros();
    let delay = config.delay.as_micros();
    let mut next = 0;
    let mut oldest: Option<u64> = None;
    let mut newest: Option<u64> = None;
    let mut last_unbracketed: Option<u64> = None;
    let mut frames = Vec::new();
    let mut k = 0;
    loop {
        let now = frame_us(k);
        if now > end_us {
            break;
        }
        while next < order.len() && order[next].0 <= now {
            let snap = deliveries[order[next].1];
            let expected = newest.is_none_or(|n| snap.time > n);
            let kept = interp.push(Instant::from_micros(snap.time), line.at(snap.time));
            assert_eq!(
                kept, expected,
                "acceptance of the snapshot at {}",
                snap.time
            );
            if kept {
                oldest.get_or_insert(snap.time);
                newest = Some(snap.time);
            }
            next += 1;
        }
        let render = now.saturating_sub(delay);
        let drawn = interp.sample(Instant::from_micros(now));
        assert_eq!(
            drawn.is_some(),
            newest.is_some(),
            "a position iff a snapshot"
        );
        let bracketed =
            matches!((oldest, newest), (Some(o), Some(n)) if o <= render && render <= n);
        if !bracketed {
            last_unbracketed = Some(render);
        }
        let in_time = last_unbracketed.is_none_or(|u| u + window <= render);
        let settled = last_arrival.is_none_or(|a| next == order.len() && now >= a + window);
        frames.push(FrameRecord {
            now,
            render,
            drawn,
            in_time,
            settled,
        });
        k += 1;
    }
    (interp, Trace { frames, newest })
}

/// The square of the distance between two positions, in raw units squared.
fn dist_sq(a: Vec2, b: Vec2) -> i64 {
    (a - b).length_squared_raw()
}

// ---------------------------------------------------------------------------
// The path, exactly.

#[test]
fn nothing_is_drawn_before_the_first_snapshot() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert_eq!(interp.sample(ms(5_000)), None);
    assert_eq!(interp.latest(), None);
    assert!(interp.push(ms(4_000), raw(7, 8)));
    assert_eq!(interp.sample(ms(5_000)), Some(raw(7, 8)));
}

#[test]
fn interpolates_the_exact_midpoint_between_two_snapshots() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(interp.push(ms(1_050), raw(100, -51)));
    // Render time 1025 ms, halfway: -25.5 rounds half up to -25.
    assert_eq!(interp.sample(ms(1_125)), Some(raw(50, -25)));
    // 1040 ms is 4/5 of the way: (80, -40.8) rounds to (80, -41).
    assert_eq!(interp.sample(ms(1_140)), Some(raw(80, -41)));
    assert_eq!(interp.sample(ms(1_150)), Some(raw(100, -51)));
}

#[test]
fn before_the_oldest_snapshot_its_position_is_held() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(300, 400)));
    assert!(interp.push(ms(1_050), raw(400, 400)));
    assert_eq!(interp.sample(ms(900)), Some(raw(300, 400)));
    assert_eq!(interp.sample(ms(1_099)), Some(raw(300, 400)));
    assert_eq!(interp.sample(ms(1_100)), Some(raw(300, 400)));
    assert_eq!(interp.sample(ms(1_110)), Some(raw(320, 400)));
}

#[test]
fn extrapolation_follows_the_last_velocity_then_holds_at_the_cap() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(interp.push(ms(1_050), raw(100, 20)));
    // 150 ms past the newest snapshot, at 100 raw / 50 ms.
    assert_eq!(interp.sample(ms(1_300)), Some(raw(400, 80)));
    // 200 ms (the cap) past it.
    assert_eq!(interp.sample(ms(1_350)), Some(raw(500, 100)));
    // Past the cap the position is held, however long the silence.
    assert_eq!(interp.sample(ms(1_351)), Some(raw(500, 100)));
    assert_eq!(interp.sample(ms(60_000)), Some(raw(500, 100)));
}

#[test]
fn a_single_snapshot_is_held_without_extrapolating() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(-5, 9)));
    assert_eq!(interp.sample(ms(1_300)), Some(raw(-5, 9)));
}

#[test]
fn out_of_order_and_duplicate_snapshots_are_ignored() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(!interp.push(ms(1_000), raw(9, 9)), "duplicate");
    assert!(!interp.push(ms(950), raw(9, 9)), "older");
    assert!(interp.push(ms(1_050), raw(100, 0)));
    assert!(!interp.push(ms(1_025), raw(9, 9)), "between, but late");
    assert_eq!(interp.latest(), Some((ms(1_050), raw(100, 0))));
    assert_eq!(interp.len(), 2);
    assert_eq!(interp.sample(ms(1_125)), Some(raw(50, 0)));
}

// ---------------------------------------------------------------------------
// Render time and corrections.

#[test]
fn the_render_time_never_moves_backwards() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(interp.push(ms(1_100), raw(100, 0)));
    assert_eq!(interp.sample(ms(1_180)), Some(raw(80, 0)));
    // The clock estimate steps back: the entity stays where it was drawn.
    assert_eq!(interp.sample(ms(1_130)), Some(raw(80, 0)));
    assert_eq!(interp.last_render_time(), Some(ms(1_080)));
    assert_eq!(interp.sample(ms(1_190)), Some(raw(90, 0)));
}

#[test]
fn a_late_snapshot_is_blended_in_from_the_last_drawn_position() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    // Moving +x at 100 raw per 50 ms...
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(interp.push(ms(1_050), raw(100, 0)));
    // ...extrapolated to the cap (render 1250 ms) and held (render 1300 ms).
    assert_eq!(interp.sample(ms(1_350)), Some(raw(500, 0)));
    assert_eq!(interp.sample(ms(1_400)), Some(raw(500, 0)));
    assert!(!interp.is_correcting());
    // A late snapshot shows the entity turned to +y at 1050 ms. The new path at
    // render time 1300 ms is (100, 500): 400 raw units away from what is drawn.
    assert!(interp.push(ms(1_100), raw(100, 100)));
    assert!(interp.is_correcting());
    // Same render time: exactly the last drawn position, no snap.
    assert_eq!(interp.sample(ms(1_400)), Some(raw(500, 0)));
    // Halfway through the window half of the offset (400, -500) is left.
    assert_eq!(interp.sample(ms(1_450)), Some(raw(300, 250)));
    // A quarter of it left.
    assert_eq!(interp.sample(ms(1_475)), Some(raw(200, 375)));
    // The window is over: exactly on the new path.
    assert_eq!(interp.sample(ms(1_500)), Some(raw(100, 500)));
    assert!(!interp.is_correcting());
}

#[test]
fn a_snapshot_ahead_of_the_render_time_changes_nothing_drawn() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(interp.push(ms(1_050), raw(100, 0)));
    assert_eq!(interp.sample(ms(1_125)), Some(raw(50, 0)));
    assert!(interp.push(ms(1_100), raw(100, 999)));
    assert!(!interp.is_correcting());
    assert_eq!(interp.sample(ms(1_125)), Some(raw(50, 0)));
}

#[test]
fn evicting_the_snapshot_being_interpolated_from_is_blended_not_snapped() {
    let config = InterpolationConfig {
        capacity: 2,
        ..InterpolationConfig::default()
    };
    let mut interp = Interpolator::new(config);
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(interp.push(ms(1_050), raw(100, 0)));
    assert_eq!(interp.sample(ms(1_125)), Some(raw(50, 0)));
    // The ring is full: 1000 ms is dropped and the path at 1025 ms becomes the
    // held oldest position (100, 0).
    assert!(interp.push(ms(1_100), raw(200, 0)));
    assert_eq!(interp.len(), 2);
    assert!(interp.is_correcting());
    assert_eq!(interp.sample(ms(1_125)), Some(raw(50, 0)));
    // From render 1025 to 1075 ms: the path moves to 150, the offset of -50 is half gone.
    assert_eq!(interp.sample(ms(1_175)), Some(raw(125, 0)));
    // Window over at render 1125 ms: on the path, extrapolated 25 ms past 1100 ms.
    assert_eq!(interp.sample(ms(1_225)), Some(raw(250, 0)));
    assert!(!interp.is_correcting());
}

#[test]
fn a_stopped_entity_converges_exactly_to_its_last_position() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(interp.push(ms(1_050), raw(100, 0)));
    // Extrapolated past the stopping point before the snapshots showing the stop arrive.
    assert_eq!(interp.sample(ms(1_250)), Some(raw(300, 0)));
    assert!(interp.push(ms(1_100), raw(200, 0)));
    assert!(interp.push(ms(1_150), raw(200, 0)));
    let mut last = raw(300, 0);
    for step in 1..=20 {
        let drawn = interp.sample(ms(1_250 + step * 10)).expect("has snapshots");
        assert!(
            dist_sq(drawn, last) <= 30 * 30,
            "bounded step {last:?} -> {drawn:?}"
        );
        last = drawn;
    }
    assert_eq!(last, raw(200, 0));
    assert_eq!(interp.sample(ms(100_000)), Some(raw(200, 0)));
}

/// The stop was announced long after the entity stood still, and it stood
/// for a second after that: its next move began one tick before its
/// snapshot, not at the stop's, so it is drawn standing until then instead of
/// gliding across the whole pause.
#[test]
fn a_move_after_a_stop_sets_off_one_tick_before_its_snapshot() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(interp.push(ms(1_050), raw(100, 0)));
    // The stop, three ticks later.
    assert!(interp.push(ms(1_200), raw(100, 0)));
    assert!(interp.push(ms(2_200), raw(200, 0)));
    // Render 2100 ms: still standing; 2175 ms: half way along the last tick.
    assert_eq!(interp.sample(ms(2_250)), Some(raw(100, 0)));
    assert_eq!(interp.sample(ms(2_275)), Some(raw(150, 0)));
    assert_eq!(interp.sample(ms(2_300)), Some(raw(200, 0)));

    // A mover between two moves (no stop) is not held: 10 Hz snapshots
    // interpolate straight through.
    let mut walker = Interpolator::new(InterpolationConfig::default());
    assert!(walker.push(ms(1_000), raw(0, 0)));
    assert!(walker.push(ms(1_100), raw(100, 0)));
    assert!(walker.push(ms(1_200), raw(200, 0)));
    assert_eq!(walker.sample(ms(1_250)), Some(raw(150, 0)));
    assert_eq!(walker.len(), 2);
}

// ---------------------------------------------------------------------------
// Memory.

#[test]
fn memory_is_bounded_by_capacity_and_the_ring_never_reallocates() {
    let config = InterpolationConfig {
        capacity: 4,
        ..InterpolationConfig::default()
    };
    let mut interp = Interpolator::new(config);
    let ring = interp.snapshots.capacity();
    for i in 0..1_000u64 {
        assert!(interp.push(ms(1_000 + 50 * i), raw(i as i32, 0)));
        assert!(interp.len() <= 4);
        if i % 3 == 0 {
            interp.sample(ms(1_000 + 50 * i));
        }
    }
    assert_eq!(interp.snapshots.capacity(), ring);

    // With samples keeping up, only the snapshots around the render time stay.
    let mut interp = Interpolator::new(InterpolationConfig::default());
    for i in 0..100u64 {
        interp.push(ms(1_000 + 50 * i), raw(i as i32, 0));
        interp.sample(ms(1_000 + 50 * i));
    }
    assert!(interp.len() <= 4, "{}", interp.len());

    // A capacity below two still keeps the two snapshots a velocity needs.
    let mut tiny = Interpolator::new(InterpolationConfig {
        capacity: 0,
        ..InterpolationConfig::default()
    });
    assert!(tiny.push(ms(1_000), raw(0, 0)));
    assert!(tiny.push(ms(1_050), raw(10, 0)));
    assert_eq!(tiny.len(), 2);
    assert_eq!(tiny.sample(ms(1_200)), Some(raw(20, 0)));
}

#[test]
fn clear_forgets_snapshots_render_time_and_corrections() {
    let mut interp = Interpolator::new(InterpolationConfig::default());
    assert!(interp.push(ms(1_000), raw(0, 0)));
    assert!(interp.push(ms(1_050), raw(100, 0)));
    interp.sample(ms(2_000));
    assert!(interp.push(ms(1_100), raw(0, 500)));
    assert!(interp.is_correcting());
    interp.clear();
    assert!(interp.is_empty());
    assert!(!interp.is_correcting());
    assert_eq!(interp.last_render_time(), None);
    assert_eq!(interp.sample(ms(500)), None);
    // Older server times are accepted again after a clear.
    assert!(interp.push(ms(10), raw(1, 1)));
    assert_eq!(interp.sample(ms(500)), Some(raw(1, 1)));
}

// ---------------------------------------------------------------------------
// Over a network.

#[test]
fn snapshots_that_arrive_in_time_are_drawn_exactly_on_the_true_path() {
    let config = InterpolationConfig::default();
    let line = Line {
        p0: (1_000, -2_000),
        d: (77, -102),
        t0: 1_013_000,
    };
    // 30 ms latency + at most one 50 ms tick of wait < 100 ms delay.
    let deliveries: Vec<Delivery> = (0..60)
        .map(|k| {
            let time = line.t0 + k * TICK_US;
            Delivery {
                time,
                arrival: Some(time + 30_000),
            }
        })
        .collect();
    let end = line.t0 + 59 * TICK_US + 30_000;
    let (_, trace) = simulate(config, line, &deliveries, end);
    let checked = trace
        .frames
        .iter()
        .filter(|f| f.render >= line.t0 + CORRECTION_WINDOW.as_micros())
        .inspect(|f| {
            assert!(f.in_time, "{f:?}");
            assert_eq!(f.drawn, Some(line.at(f.render)), "{f:?}");
        })
        .count();
    assert!(checked > 150, "{checked}");
}

/// The step bound of the burst test: twice the distance the fastest entity covers
/// in the longest frame, plus two raw units of rounding, in raw units * TICK_US.
fn max_step_scaled() -> i64 {
    let longest_frame = (frame_us(1) + 1) as i64;
    2 * MAX_RAW_PER_TICK * longest_frame + 2 * TICK_US as i64
}

#[test]
fn a_late_burst_stays_continuous_and_converges() {
    let config = InterpolationConfig::default();
    for (latency_ms, d) in [
        (20, (128, 0)),
        (30, (0, -128)),
        (40, (90, -90)),
        (25, (-77, 102)),
        (35, (1, 0)),
    ] {
        let line = Line {
            p0: (5_000, 5_000),
            d,
            t0: 1_000_000,
        };
        let latency = latency_ms * 1_000;
        let count = 60;
        // Arrivals stop for 300 ms right after the snapshot of tick 20, then the
        // backlog arrives in one burst.
        let gap_start = line.t0 + 20 * TICK_US + latency;
        let burst = gap_start + 300_000;
        let deliveries: Vec<Delivery> = (0..count)
            .map(|k| {
                let time = line.t0 + k * TICK_US;
                let normal = time + latency;
                let arrival = if normal > gap_start && normal < burst {
                    burst
                } else {
                    normal
                };
                Delivery {
                    time,
                    arrival: Some(arrival),
                }
            })
            .collect();
        let newest = line.t0 + (count - 1) * TICK_US;
        let end = newest + latency + 1_000_000;
        let (_, trace) = simulate(config, line, &deliveries, end);

        let mut held_frames = 0;
        let mut prev: Option<Vec2> = None;
        for f in &trace.frames {
            let Some(drawn) = f.drawn else { continue };
            if let Some(last) = prev {
                // Continuous: a bounded step per frame, even across the burst.
                let step_sq = dist_sq(drawn, last) * (TICK_US as i64).pow(2);
                assert!(
                    step_sq <= max_step_scaled().pow(2),
                    "latency {latency_ms} ms, d {d:?}: step {last:?} -> {drawn:?} at {}",
                    f.now
                );
                // And never backwards on a straight line.
                assert!(line.progress(drawn) >= line.progress(last), "{f:?}");
                if drawn == last && f.now > gap_start && f.now < burst {
                    held_frames += 1;
                }
            }
            // Converged onto the true path once the burst is blended in.
            if f.now >= burst + CORRECTION_WINDOW.as_micros() {
                let capped = f.render.min(newest + config.max_extrapolation.as_micros());
                assert_eq!(drawn, line.at(capped), "{f:?}");
            }
            prev = Some(drawn);
        }
        assert!(held_frames > 0, "the gap outlasted the extrapolation cap");
        assert_eq!(trace.newest, Some(newest));
        let last = trace.frames.last().expect("frames");
        assert_eq!(
            last.drawn,
            Some(line.at(newest + config.max_extrapolation.as_micros()))
        );
    }
}

/// Per-snapshot network fate: latency and jitter as fractions (0..=1000) of the
/// run's maxima, and a roll against the drop percentage.
fn fates() -> impl Strategy<Value = Vec<(u64, u64, u8)>> {
    prop::collection::vec((0u64..=1_000, 0u64..=1_000, 0u8..100), 10..70)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A straight line at constant velocity over a jittery, reordering, lossy link,
    /// sampled at 60 Hz with a perfect clock estimate.
    #[test]
    fn straight_line_motion_is_drawn_monotonic_accurate_and_convergent(
        speed_mm_s in 0u32..=10_000,
        angle_mdeg in 0u32..360_000,
        p0 in (-100_000i64..100_000, -100_000i64..100_000),
        phase_us in 0u64..TICK_US,
        max_latency_ms in 20u64..=120,
        max_jitter_ms in 0u64..=40,
        drop_pct in 0u8..=10,
        fates in fates(),
    ) {
        let config = InterpolationConfig::default();
        // Whole raw units per tick (see `Line`); at most about 10 m/s.
        let per_tick = f64::from(speed_mm_s) / 1_000.0 * 0.05 * 256.0;
        let angle = f64::from(angle_mdeg) / 1_000.0 * std::f64::consts::PI / 180.0;
        let d = (
            (per_tick * angle.cos()).round() as i64,
            (per_tick * angle.sin()).round() as i64,
        );
        let line = Line { p0, d, t0: 1_000_000 + phase_us };
        let deliveries: Vec<Delivery> = fates
            .iter()
            .enumerate()
            .map(|(k, &(lat, jit, roll))| {
                let time = line.t0 + k as u64 * TICK_US;
                let latency = 20_000 + lat * (max_latency_ms - 20);
                let jitter = jit * max_jitter_ms;
                Delivery {
                    time,
                    arrival: (roll >= drop_pct).then_some(time + latency + jitter),
                }
            })
            .collect();
        let last_arrival = deliveries.iter().filter_map(|d| d.arrival).max();
        let newest_sent = deliveries.iter().filter(|d| d.arrival.is_some()).map(|d| d.time).max();
        let end = last_arrival.unwrap_or(line.t0)
            + config.delay.as_micros()
            + config.max_extrapolation.as_micros()
            + CORRECTION_WINDOW.as_micros()
            + 200_000;
        let (_, trace) = simulate(config, line, &deliveries, end);
        // Everything sent arrives eventually, so the newest accepted is the newest sent.
        prop_assert_eq!(trace.newest, newest_sent);
        let cap = config.max_extrapolation.as_micros();
        let speed_sq = d.0 * d.0 + d.1 * d.1;
        let mut last: Option<Vec2> = None;
        let mut in_time_frames = 0;
        for f in &trace.frames {
            let Some(drawn) = f.drawn else { continue };
            // (a) Never backwards along the motion, beyond one raw unit of rounding.
            if let Some(last) = last {
                let back = line.progress(last) - line.progress(drawn);
                prop_assert!(
                    back <= 0 || back * back <= speed_sq,
                    "moved back {last:?} -> {drawn:?} at {f:?}"
                );
            }
            last = Some(drawn);
            // (c) On time: within 1 cm (3 raw units) of the truth at render time.
            if f.in_time {
                in_time_frames += 1;
                prop_assert!(
                    drawn.within(line.at(f.render), Fixed::from_raw(3)),
                    "drawn {drawn:?}, true {:?} at {f:?}", line.at(f.render)
                );
            }
            // (b) Converged: once everything has arrived and been blended in, exactly
            // on the true path, up to the extrapolation cap past the newest snapshot.
            if f.settled {
                let newest = trace.newest.expect("settled implies arrivals");
                prop_assert_eq!(drawn, line.at(f.render.min(newest + cap)), "{:?}", f);
            }
        }
        if let (Some(newest), Some(last_frame)) = (trace.newest, trace.frames.last()) {
            prop_assert!(last_frame.settled && last_frame.render >= newest + cap);
            prop_assert_eq!(last_frame.drawn, Some(line.at(newest + cap)));
        }
        // Not a vacuous property when the link is fast and lossless.
        if max_latency_ms + max_jitter_ms <= 45 && drop_pct == 0 {
            prop_assert!(in_time_frames > 0);
        }
    }
}
