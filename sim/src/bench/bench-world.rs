//! `bench-world`: the zone tick and the bytes on the wire, each beside a baseline
//! measured in the same run.
//!
//! `cargo run --release -p sim --bin bench-world [-- --json FILE] [--quick]`
//!
//! 1. Tick cost (movement validation + AOI + replication encoding) with 1k, 10k
//!    and 20k player entities all moving, ~50 in view each; baseline: the same
//!    interest computed by checking all pairs.
//! 2. Bytes per second per client with ~50 visible entities moving at 20 Hz,
//!    framing included; baselines: a JSON message per tick and plain postcard
//!    of full positions, for the same visible sets. Then the same standing still.
//! 3. Heap allocations per tick in steady state (a counting allocator).
//! 4. Combat (issue 17, `combat.rs`): the tick of 10,000 entities with 2,000
//!    monsters fighting 2,000 players beside the movement-only tick of the
//!    same run, and bytes per client in a fight of ~50 in view beside JSON
//!    and naive postcard. `--combat` runs only this part.

// The counting allocator is the one place the workspace allows `unsafe`: a
// `GlobalAlloc` impl that forwards to the system allocator.
#![allow(unsafe_code)]

mod combat;

use clap::Parser;
use game_core::content::Content;
use game_core::ids::{EntityId, PlayerId, ZoneId};
use game_core::math::{Fixed, Vec2};
use game_core::protocol::{MoveInput, FRAME_HEADER_LEN};
use game_core::time::{Duration, Instant};
use game_core::zone::{Map, Zone, ZoneConfig};
use serde::Serialize;
use sim::report::Percentiles;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// Set while measured ticks run, so a debugger can stop on `counted_alloc`:
/// `gdb -ex 'break counted_alloc' ...` shows who allocates in steady state.
static MEASURING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[inline(never)]
fn counted_alloc() {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    std::hint::black_box(MEASURING.load(Ordering::Relaxed));
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if MEASURING.load(Ordering::Relaxed) {
            counted_alloc();
        }
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if MEASURING.load(Ordering::Relaxed) {
            counted_alloc();
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[derive(Parser, Debug)]
#[command(
    name = "bench-world",
    about = "Zone tick and bandwidth benchmarks with baselines"
)]
struct Args {
    /// Also write the results as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Fewer ticks (for CI smoke runs).
    #[arg(long)]
    quick: bool,
    /// Run only the tick benchmark with this many entities (for profiling).
    #[arg(long)]
    entities: Option<usize>,
    /// Run only the combat benchmarks (issue 17).
    #[arg(long)]
    combat: bool,
}

const TICK: Duration = Duration::from_millis(50);
const VIEW_M: i32 = 40;
/// Entities per view circle we aim for.
const TARGET_VISIBLE: f64 = 50.0;
/// 4 m/s, under the 6 m/s limit: honest movers, no corrections.
const STEP_RAW: i32 = 4 * 256 / 20;

#[derive(Debug, Serialize)]
struct TickRow {
    entities: usize,
    avg_visible: f64,
    ticks: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    baseline_all_pairs_ms: f64,
    baseline_ticks: usize,
    speedup_vs_all_pairs: f64,
    allocations_per_tick: f64,
    corrections: u64,
}

#[derive(Debug, Serialize)]
struct BandwidthRow {
    scenario: &'static str,
    avg_visible: f64,
    ours_bytes_per_s: f64,
    json_bytes_per_s: f64,
    postcard_full_bytes_per_s: f64,
}

#[derive(Debug, Serialize)]
struct Results {
    tick: Vec<TickRow>,
    bandwidth: Vec<BandwidthRow>,
    combat_tick: Option<combat::CombatTickRow>,
    fight_bandwidth: Vec<combat::FightBandwidthRow>,
}

/// A world of players on an open map sized for ~50 in view each, walking in
/// straight lines and bouncing off the edges (and, in the combat bench,
/// players standing at given spots, whom `queue_moves` leaves alone).
struct Crowd {
    zone: Zone,
    ids: Vec<EntityId>,
    dirs: Vec<(i32, i32)>,
    /// `ids[..still]` are placed, not walked.
    still: usize,
    seq: u32,
    now: Instant,
    side_m: i32,
}

/// The side of a square open map where `n` entities see ~50 each.
fn side_for(n: usize) -> i32 {
    let area = n as f64 * std::f64::consts::PI * (VIEW_M as f64).powi(2) / TARGET_VISIBLE;
    area.sqrt().ceil() as i32 + 4
}

/// An open map "bench" of `side_m` metres (2 m cells) and its zone, with
/// `content` (which may place monsters on "bench").
fn open_zone(side_m: i32, max_players: usize, content: Arc<Content>) -> Zone {
    let cells = (side_m / 2) as u32 + 2;
    let map = Arc::new(Map::open("bench", cells, cells, 2));
    let config = ZoneConfig {
        view_radius_m: VIEW_M,
        view_margin_m: 8,
        max_players: max_players as u32 + 1,
        ..ZoneConfig::default()
    };
    Zone::new(ZoneId(1), map, 0, config, 20, 1, content)
}

impl Crowd {
    fn new(n: usize) -> Self {
        let side_m = side_for(n);
        // The sample content: no spawn groups on a map named "bench".
        let content = Arc::new(Content::sample());
        Crowd::populate(open_zone(side_m, n, content), side_m, &[], n)
    }

    /// Adds players standing at `placed` (entities first), then `movers`
    /// walkers at spots and in directions from a fixed LCG.
    fn populate(mut zone: Zone, side_m: i32, placed: &[Vec2], movers: usize) -> Self {
        let n = placed.len() + movers;
        // A fixed LCG: the bench is deterministic.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as i32
        };
        let mut ids = Vec::with_capacity(n);
        let mut dirs = Vec::with_capacity(n);
        for (i, &pos) in placed.iter().enumerate() {
            ids.push(zone.spawn_player(PlayerId(i as u64 + 1), Some(pos), 0, Instant::ZERO));
            dirs.push((0, 0));
        }
        for i in placed.len()..n {
            let x = 3 * 256 + next().rem_euclid((side_m - 6) * 256);
            let y = 3 * 256 + next().rem_euclid((side_m - 6) * 256);
            let pos = Vec2::new(Fixed::from_raw(x), Fixed::from_raw(y));
            ids.push(zone.spawn_player(PlayerId(i as u64 + 1), Some(pos), 0, Instant::ZERO));
            let d = [
                (1, 0),
                (0, 1),
                (-1, 0),
                (0, -1),
                (1, 1),
                (-1, 1),
                (1, -1),
                (-1, -1),
            ];
            dirs.push(d[next().rem_euclid(8) as usize]);
        }
        Crowd {
            zone,
            ids,
            dirs,
            still: placed.len(),
            seq: 0,
            now: Instant::ZERO,
            side_m,
        }
    }

    /// Queues one move per entity (or none, standing still).
    fn queue_moves(&mut self, moving: bool) {
        self.now += TICK;
        self.seq += 1;
        if !moving {
            return;
        }
        let lo = 2 * 256;
        let hi = (self.side_m - 2) * 256;
        for (i, &id) in self.ids.iter().enumerate().skip(self.still) {
            let Some(p) = self.zone.position(id) else {
                continue;
            };
            let (mut dx, mut dy) = self.dirs[i];
            let (nx, ny) = (p.x.raw() + dx * STEP_RAW, p.y.raw() + dy * STEP_RAW);
            if nx < lo || nx > hi {
                dx = -dx;
            }
            if ny < lo || ny > hi {
                dy = -dy;
            }
            self.dirs[i] = (dx, dy);
            let step = if dx != 0 && dy != 0 {
                STEP_RAW * 7 / 10
            } else {
                STEP_RAW
            };
            let to = Vec2::new(
                Fixed::from_raw(p.x.raw() + dx * step),
                Fixed::from_raw(p.y.raw() + dy * step),
            );
            let input = MoveInput {
                seq: self.seq,
                epoch: 0,
                client_time_us: self.now.as_micros(),
                pos: to,
                vel: Vec2::ZERO,
            };
            self.zone.queue_move(id, self.now, input);
        }
    }

    fn tick(&mut self, bytes: &mut u64) {
        let now = self.now;
        self.zone.run_tick(now);
        *bytes += self
            .zone
            .replies()
            .iter()
            .map(|(_, frame)| frame.len() as u64)
            .sum::<u64>();
    }

    fn avg_visible(&self) -> f64 {
        let total: usize = self.ids.iter().map(|&id| self.zone.visible(id).len()).sum();
        total as f64 / self.ids.len() as f64
    }

    fn positions(&self) -> Vec<(EntityId, Vec2)> {
        self.ids
            .iter()
            .filter_map(|&id| self.zone.position(id).map(|p| (id, p)))
            .collect()
    }
}

/// The baseline interest computation: every pair, every tick (in plain i64
/// arithmetic, as earlier sessions measured it; positions here are small).
fn all_pairs(positions: &[(EntityId, Vec2)], radius: Fixed) -> usize {
    let r = radius.raw() as i64;
    let mut pairs = 0;
    for (i, &(_, a)) in positions.iter().enumerate() {
        for &(_, b) in &positions[i + 1..] {
            let dx = a.x.raw() as i64 - b.x.raw() as i64;
            let dy = a.y.raw() as i64 - b.y.raw() as i64;
            if dx * dx + dy * dy <= r * r {
                pairs += 1;
            }
        }
    }
    pairs
}

/// The ticks that are measured, apart so a profiler can count only them:
/// `valgrind --tool=callgrind --toggle-collect='*measured_tick*' target/release/bench-world --entities 10000 --quick`
#[inline(never)]
fn measured_tick(crowd: &mut Crowd, bytes: &mut u64) {
    crowd.tick(bytes);
}

fn bench_tick(n: usize, ticks: usize, warmup: usize, baseline_ticks: usize) -> TickRow {
    let mut crowd = Crowd::new(n);
    let mut bytes = 0;
    for _ in 0..warmup {
        crowd.queue_moves(true);
        crowd.tick(&mut bytes);
    }
    let mut samples = Vec::with_capacity(ticks);
    let mut allocations = 0;
    for _ in 0..ticks {
        crowd.queue_moves(true);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let start = std::time::Instant::now();
        MEASURING.store(true, Ordering::Relaxed);
        measured_tick(&mut crowd, &mut bytes);
        MEASURING.store(false, Ordering::Relaxed);
        samples.push(start.elapsed().as_micros() as u64);
        allocations += ALLOCATIONS.load(Ordering::Relaxed) - before;
    }
    if std::env::var_os("BENCH_SERIES").is_some() {
        eprintln!("series {samples:?}");
    }
    let p = Percentiles::of(&mut samples);
    let positions = crowd.positions();
    let radius = Fixed::from_int(VIEW_M);
    let start = std::time::Instant::now();
    let mut found = 0;
    for _ in 0..baseline_ticks {
        found += all_pairs(std::hint::black_box(&positions), radius);
    }
    std::hint::black_box(found);
    let baseline = start.elapsed().as_secs_f64() * 1000.0 / baseline_ticks as f64;
    TickRow {
        entities: n,
        avg_visible: crowd.avg_visible(),
        ticks,
        p50_ms: p.p50_ms,
        p99_ms: p.p99_ms,
        max_ms: p.max_ms,
        baseline_all_pairs_ms: baseline,
        baseline_ticks,
        speedup_vs_all_pairs: baseline / p.p99_ms.max(1e-9),
        allocations_per_tick: allocations as f64 / ticks as f64,
        corrections: crowd.zone.stats().corrections.values().sum(),
    }
}

#[derive(Serialize)]
struct JsonEntity {
    id: u64,
    x: f32,
    y: f32,
}

#[derive(Serialize)]
struct JsonUpdate<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    tick: u64,
    entities: &'a [JsonEntity],
}

/// Bytes a client would receive per tick for `visible` entities, in the two
/// baseline formats, framing (4-byte prefix) included.
fn baseline_bytes(tick: u64, visible: &[(EntityId, Vec2)]) -> (usize, usize) {
    let entities: Vec<JsonEntity> = visible
        .iter()
        .map(|&(id, p)| JsonEntity {
            id: id.0,
            x: p.x.to_f32(),
            y: p.y.to_f32(),
        })
        .collect();
    let json = serde_json::to_vec(&JsonUpdate {
        kind: "update",
        tick,
        entities: &entities,
    })
    .unwrap_or_default();
    let full: Vec<(u64, i32, i32)> = visible
        .iter()
        .map(|&(id, p)| (id.0, p.x.raw(), p.y.raw()))
        .collect();
    let postcard = postcard::to_allocvec(&(tick, full)).unwrap_or_default();
    (
        json.len() + FRAME_HEADER_LEN,
        postcard.len() + FRAME_HEADER_LEN,
    )
}

fn bench_bandwidth(moving: bool, ticks: usize) -> BandwidthRow {
    let mut crowd = Crowd::new(2000);
    let mut bytes = 0;
    for _ in 0..40 {
        crowd.queue_moves(true);
        crowd.tick(&mut bytes);
    }
    // Stand still long enough for the stop updates to go out.
    if !moving {
        for _ in 0..4 {
            crowd.queue_moves(false);
            crowd.tick(&mut bytes);
        }
    }
    let sample: Vec<EntityId> = crowd.ids.iter().copied().step_by(20).collect();
    let mut ours = 0u64;
    let (mut json, mut full) = (0usize, 0usize);
    let mut visible_total = 0usize;
    for t in 0..ticks {
        crowd.queue_moves(moving);
        let now = crowd.now;
        let sampled: std::collections::BTreeSet<PlayerId> =
            sample.iter().map(|e| PlayerId(e.0)).collect();
        crowd.zone.run_tick(now);
        for (player, frame) in crowd.zone.replies().iter() {
            if sampled.contains(&player) {
                ours += frame.len() as u64;
            }
        }
        for &e in &sample {
            let vis: Vec<(EntityId, Vec2)> = crowd
                .zone
                .visible(e)
                .filter_map(|v| crowd.zone.position(v).map(|p| (v, p)))
                .collect();
            visible_total += vis.len();
            // The baselines send every visible entity every tick while moving, and
            // (being naive) keep sending when standing still.
            let (j, f) = baseline_bytes(t as u64, &vis);
            json += j;
            full += f;
        }
    }
    let client_seconds = sample.len() as f64 * ticks as f64 * TICK.as_micros() as f64 / 1e6;
    BandwidthRow {
        scenario: if moving {
            "all moving, 20 Hz"
        } else {
            "all standing still"
        },
        avg_visible: visible_total as f64 / (sample.len() * ticks) as f64,
        ours_bytes_per_s: ours as f64 / client_seconds,
        json_bytes_per_s: json as f64 / client_seconds,
        postcard_full_bytes_per_s: full as f64 / client_seconds,
    }
}

fn main() {
    let args = Args::parse();
    let (ticks, base_small, base_big) = if args.quick { (20, 3, 1) } else { (200, 20, 3) };
    let mut results = Results {
        tick: Vec::new(),
        bandwidth: Vec::new(),
        combat_tick: None,
        fight_bandwidth: Vec::new(),
    };
    let sizes: Vec<(usize, usize)> = match args.entities {
        _ if args.combat => Vec::new(),
        Some(n) => vec![(n, 1)],
        None => vec![
            (1_000, base_small * 5),
            (10_000, base_big),
            (20_000, base_big),
        ],
    };
    for (n, baseline_ticks) in sizes {
        eprintln!("bench-world: tick with {n} entities...");
        results
            .tick
            .push(bench_tick(n, ticks, ticks, baseline_ticks));
    }
    for moving in [true, false]
        .into_iter()
        .filter(|_| args.entities.is_none() && !args.combat)
    {
        eprintln!(
            "bench-world: bandwidth ({})...",
            if moving { "moving" } else { "still" }
        );
        results.bandwidth.push(bench_bandwidth(moving, ticks));
    }

    if args.entities.is_none() {
        eprintln!("bench-world: combat tick with 10000 entities...");
        // At least 100 ticks of warm-up: fighters start over 40 ticks
        // (BENCH_WARMUP sets it: buffers that grow to a new peak settle).
        let warmup = std::env::var("BENCH_WARMUP")
            .ok()
            .and_then(|w| w.parse().ok())
            .unwrap_or(ticks.max(100));
        results.combat_tick = Some(combat::bench_combat_tick(10_000, 2_000, ticks, warmup));
        eprintln!("bench-world: bandwidth (fight)...");
        for strafe in [false, true] {
            results
                .fight_bandwidth
                .push(combat::bench_fight_bandwidth(25, 200, strafe));
        }
    }

    if !results.tick.is_empty() {
        print_tick(&results.tick);
    }
    if !results.bandwidth.is_empty() {
        print_bandwidth(&results.bandwidth);
    }
    combat::print(results.combat_tick.as_ref(), &results.fight_bandwidth);
    if let Some(path) = args.json {
        let json = serde_json::to_string_pretty(&results).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, json + "\n") {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}

fn print_tick(rows: &[TickRow]) {
    println!("zone tick (movement validation + AOI + replication encoding), one core");
    println!(
        "{:>9} {:>8} {:>8} {:>8} {:>8} {:>15} {:>9} {:>12} {:>6}",
        "entities",
        "visible",
        "p50 ms",
        "p99 ms",
        "max ms",
        "all-pairs ms",
        "speedup",
        "allocs/tick",
        "corr"
    );
    for r in rows {
        println!(
            "{:>9} {:>8.1} {:>8.2} {:>8.2} {:>8.2} {:>15.2} {:>8.1}x {:>12.2} {:>6}",
            r.entities,
            r.avg_visible,
            r.p50_ms,
            r.p99_ms,
            r.max_ms,
            r.baseline_all_pairs_ms,
            r.speedup_vs_all_pairs,
            r.allocations_per_tick,
            r.corrections
        );
    }
}

fn print_bandwidth(rows: &[BandwidthRow]) {
    println!();
    println!("bytes per second per client, framing included");
    println!(
        "{:<22} {:>8} {:>10} {:>10} {:>15} {:>10}",
        "scenario", "visible", "ours", "json", "postcard full", "vs json"
    );
    for r in rows {
        let ratio = if r.ours_bytes_per_s < 1.0 {
            "all".to_string()
        } else {
            format!("{:.1}x", r.json_bytes_per_s / r.ours_bytes_per_s)
        };
        println!(
            "{:<22} {:>8.1} {:>10.0} {:>10.0} {:>15.0} {:>10}",
            r.scenario,
            r.avg_visible,
            r.ours_bytes_per_s,
            r.json_bytes_per_s,
            r.postcard_full_bytes_per_s,
            ratio
        );
    }
}
