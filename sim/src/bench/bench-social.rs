//! `bench-social`: the social layer under load, each figure beside a baseline
//! or target from the same run.
//!
//! `cargo run --release -p sim --bin bench-social [-- --quick] [--json FILE]`
//!
//! Under valgrind set `BENCH_NO_CPU_CLOCK=1` (see `tick_with_chat` in
//! `bench-social-chat.rs` for the profiling command).
//!
//! 1. Chat load (`bench-social-chat.rs`): 10,000 players on one node (ten
//!    channels of one open map, ~50 in view each), all moving at 10 Hz, in
//!    parties of 5 and guilds of 100. Blocks of ticks alternate between no
//!    chat and 500 lines a second (say 200, zone 50, party 100, guild 75,
//!    whisper 70, world 5, each world line to all 10,000), every line sent
//!    as client bytes through `Node::handle_bytes`. Printed: the world
//!    tick's `handle_timeout` p50/p99 with chat beside without (target: p99
//!    at most 1.2x), the whole loop's (inputs + tick + output drain), and
//!    for each delivered copy the ticks from its send to the tick whose
//!    `Output::Transmit` carried it to that recipient (target: 1, the next
//!    tick). Ticks are timed by the wall clock and by the thread's CPU
//!    clock (on a shared machine the wall clock also counts waiting for a
//!    core); heap allocations are counted inside `handle_timeout` only.
//!    Chat ticks that carry a world line (one in four) are shown apart: each
//!    is 10,000 copies in one tick.
//! 2. Presence: a player with 200 friends (pre-set in the store, all online)
//!    enters; ticks from its social record loading until all 200 heard
//!    `FriendChanged` (target: 1).
//! 3. Memory: `Social::member_overhead_bytes()` beside bytes measured by a
//!    counting allocator over adding players with empty lists to a `Social`
//!    (target: 2,048 per player).

// The counting allocator is the one place the workspace allows `unsafe`: a
// `GlobalAlloc` impl that forwards to the system allocator.
#![allow(unsafe_code)]

#[path = "bench-social-chat.rs"]
mod chat;
#[path = "bench-clock.rs"]
mod clock;
#[path = "bench-social-server.rs"]
mod server;

use clap::Parser;
use game_core::ids::CharacterId;
use game_core::persist::{Reply, SocialRecord};
use game_core::protocol::Whereabouts;
use game_core::social::{Deliveries, Social, SocialConfig};
use serde::Serialize;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Bytes asked for minus bytes given back while `MEASURING`.
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static MEASURING: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if MEASURING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if MEASURING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        }
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if MEASURING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            LIVE_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Counts allocations (and live bytes) while `f` runs.
pub fn counted<T>(f: impl FnOnce() -> T) -> (T, u64, i64) {
    let (a, b) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        LIVE_BYTES.load(Ordering::Relaxed),
    );
    MEASURING.store(true, Ordering::Relaxed);
    let out = f();
    MEASURING.store(false, Ordering::Relaxed);
    (
        out,
        ALLOCATIONS.load(Ordering::Relaxed) - a,
        LIVE_BYTES.load(Ordering::Relaxed) - b,
    )
}

#[derive(Parser, Debug)]
#[command(
    name = "bench-social",
    about = "Social layer benchmarks: chat under load, presence, memory"
)]
struct Args {
    /// Fewer ticks (for CI smoke runs, under a minute).
    #[arg(long)]
    quick: bool,
    /// Players on the node (a multiple of 1,000: one channel each).
    #[arg(long, default_value_t = 10_000)]
    players: usize,
    /// Ticks per block (blocks alternate no chat / chat).
    #[arg(long)]
    block: Option<usize>,
    /// Measured blocks of each kind.
    #[arg(long)]
    blocks: Option<usize>,
    /// Also write the results as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct MemoryRow {
    players: usize,
    overhead_by_size_of: usize,
    measured_per_player: f64,
    names_per_player: f64,
    allocations_per_player: f64,
    target: usize,
}

#[derive(Debug, Serialize)]
struct Results {
    chat: chat::ChatRow,
    presence: chat::PresenceRow,
    memory: MemoryRow,
}

/// Adds `n` players with empty lists to a fresh `Social` (each entered,
/// its record loaded, its lists sent and dropped) and measures the bytes
/// still held per player.
fn bench_memory(n: usize) -> MemoryRow {
    let names: Vec<String> = (0..n).map(|i| format!("char{i}")).collect();
    let wheres: Vec<Whereabouts> = (0..n)
        .map(|i| Whereabouts {
            map: "bench".into(),
            channel: (i % 10) as u16,
        })
        .collect();
    let mut social = Social::new(SocialConfig::default());
    // One player first, so the rooms and the name index exist.
    social.entered(CharacterId(u64::MAX), "warm", wheres[0].clone());
    answer_loads(&mut social);
    let mut wheres = wheres.into_iter();
    let (_, allocations, bytes) = counted(|| {
        for (i, name) in names.iter().enumerate() {
            let at = wheres.next().expect("one per player");
            social.entered(CharacterId(i as u64 + 1), name, at);
            answer_loads(&mut social);
        }
    });
    // Each member's name is held twice: its own and its name-index key.
    let names_bytes: usize = names.iter().map(|s| 2 * s.len()).sum();
    assert_eq!(social.len(), n + 1);
    MemoryRow {
        players: n,
        overhead_by_size_of: Social::member_overhead_bytes(),
        measured_per_player: bytes as f64 / n as f64,
        names_per_player: names_bytes as f64 / n as f64,
        allocations_per_player: allocations as f64 / n as f64,
        target: 2048,
    }
}

fn answer_loads(social: &mut Social) {
    let now = game_core::time::Instant::ZERO;
    while let Some((token, _)) = social.take_intent() {
        social.store_outcome(now, token, Ok(Reply::Social(SocialRecord::default())));
    }
    let mut out = Deliveries::default();
    social.drain(&mut out);
}

fn main() {
    let args = Args::parse();
    if std::env::var_os("BENCH_NO_CPU_CLOCK").is_some() {
        clock::CPU_CLOCK.store(false, Ordering::Relaxed);
    }
    let (block, blocks) = if args.quick { (10, 4) } else { (20, 30) };
    let block = args.block.unwrap_or(block);
    let blocks = args.blocks.unwrap_or(blocks);
    eprintln!("bench-social: memory...");
    let memory = bench_memory(args.players);
    let (chat, presence) = chat::bench(args.players, block, blocks);
    let results = Results {
        chat,
        presence,
        memory,
    };
    print(&results);
    if let Some(path) = args.json {
        let json = serde_json::to_string_pretty(&results).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, json + "\n") {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

fn print(r: &Results) {
    let c = &r.chat;
    println!(
        "social: {} players on one node ({} channels), all moving at 10 Hz, one core",
        c.players, c.channels
    );
    println!(
        "chat: {:.0} lines/s offered ({:.0} accepted, {} refused), {:.0} copies/s delivered, {} shed",
        c.lines_per_s_offered, c.lines_per_s_accepted, c.refused, c.copies_per_s, c.shed
    );
    println!(
        "{} ticks of each kind, alternating in blocks of {}",
        c.ticks_each, c.block
    );
    println!();
    println!(
        "{:<38} {:>9} {:>9} {:>8} {:>9} {:>7}",
        "per tick", "no chat", "chat", "ratio", "target", ""
    );
    type Row<'a> = (&'a str, f64, f64, Option<f64>);
    let rows: [Row; 12] = [
        (
            "tick p50 ms, wall (handle_timeout)",
            c.tick_off.p50_ms,
            c.tick_on.p50_ms,
            None,
        ),
        (
            "tick p99 ms, wall (handle_timeout)",
            c.tick_off.p99_ms,
            c.tick_on.p99_ms,
            Some(1.2),
        ),
        (
            "tick max ms, wall",
            c.tick_off.max_ms,
            c.tick_on.max_ms,
            None,
        ),
        (
            "tick p50 ms, cpu (handle_timeout)",
            c.tick_cpu_off.p50_ms,
            c.tick_cpu_on.p50_ms,
            None,
        ),
        (
            "tick p99 ms, cpu (handle_timeout)",
            c.tick_cpu_off.p99_ms,
            c.tick_cpu_on.p99_ms,
            Some(1.2),
        ),
        (
            "tick max ms, cpu",
            c.tick_cpu_off.max_ms,
            c.tick_cpu_on.max_ms,
            None,
        ),
        (
            "  p50 ms, cpu, ticks with a world line",
            c.tick_cpu_off.p50_ms,
            c.tick_cpu_world.p50_ms,
            None,
        ),
        (
            "loop p50 ms, cpu (in + tick + drain)",
            c.loop_cpu_off.p50_ms,
            c.loop_cpu_on.p50_ms,
            None,
        ),
        (
            "loop p99 ms, cpu (in + tick + drain)",
            c.loop_cpu_off.p99_ms,
            c.loop_cpu_on.p99_ms,
            None,
        ),
        (
            "loop p50 ms, wall",
            c.loop_off.p50_ms,
            c.loop_on.p50_ms,
            None,
        ),
        (
            "loop p99 ms, wall",
            c.loop_off.p99_ms,
            c.loop_on.p99_ms,
            None,
        ),
        (
            "allocations per tick (handle_timeout)",
            c.allocs_per_tick_off,
            c.allocs_per_tick_on,
            None,
        ),
    ];
    for (name, off, on, target) in rows {
        let ratio = on / off.max(1e-9);
        let (t, v) = match target {
            Some(t) => (format!("<= {t:.1}x"), verdict(ratio <= t)),
            None => (String::new(), ""),
        };
        let prec = if name.starts_with("alloc") { 0 } else { 2 };
        println!(
            "{:<38} {:>9.prec$} {:>9.prec$} {:>7.2}x {:>9} {:>7}",
            name, off, on, ratio, t, v
        );
    }
    println!(
        "(cpu: this thread's CPU clock, which leaves out waiting for a core on a shared machine;\n {} chat ticks carried a world line, each to every player; movement corrections {}, closes {})",
        c.world_ticks, c.corrections, c.closes
    );
    println!();
    println!("chat delivery: ticks from a line's send to the tick whose Transmit carries it (1 = the next tick)");
    println!(
        "{:<10} {:>10} {:>12} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "channel", "lines", "copies", "<=1", "2", "3+", "max", "target"
    );
    for ch in &c.delivery {
        println!(
            "{:<10} {:>10} {:>12} {:>8} {:>8} {:>8} {:>8} {:>8}",
            ch.channel,
            ch.lines,
            ch.copies,
            ch.by_ticks[0],
            ch.by_ticks[1],
            ch.by_ticks[2],
            ch.max_ticks,
            if ch.channel == "all" {
                format!("1 {}", verdict(ch.max_ticks <= 1 && ch.copies > 0))
            } else {
                String::new()
            }
        );
    }
    println!();
    let p = &r.presence;
    println!(
        "presence: a player with {} friends online enters; {} heard FriendChanged; ticks from its record loading to all: {} (target 1: {})",
        p.friends,
        p.heard,
        p.ticks_to_all
            .map_or("never".to_string(), |t| t.to_string()),
        verdict(p.ticks_to_all.is_some_and(|t| t <= 1))
    );
    println!();
    let m = &r.memory;
    println!(
        "memory per player, beyond its lists (empty), {} players added to a Social:",
        m.players
    );
    println!("{:<44} {:>10} {:>10} {:>8}", "", "bytes", "target", "");
    println!(
        "{:<44} {:>10} {:>10} {:>8}",
        "Social::member_overhead_bytes() (size_of)",
        m.overhead_by_size_of,
        m.target,
        verdict(m.overhead_by_size_of <= m.target)
    );
    println!(
        "{:<44} {:>10.0} {:>10} {:>8}",
        "measured (live heap per player)",
        m.measured_per_player,
        m.target,
        verdict(m.measured_per_player <= m.target as f64)
    );
    println!(
        "{:<44} {:>10.0} {:>10} {:>8}",
        "  of which its name, twice (name, index key)", m.names_per_player, "", ""
    );
    println!(
        "{:<44} {:>10.1}",
        "  allocations per player", m.allocations_per_player
    );
}
