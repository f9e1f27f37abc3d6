//! `bench-matchmaker`: the raid queue under load (issue 20's target), beside
//! a first-come-first-served baseline run on the same arrivals.
//!
//! `cargo run --release -p sim --bin bench-matchmaker [-- --quick] [--json FILE]`
//!
//! Raids of 10 (2 tanks, 2 healers, 6 damage), level groups of ten levels
//! (1-10 … 51-60). The queue starts with `--waiting` tickets (default
//! 10,000) that queued over the last minutes, and `--join-per-s` more
//! (default 200) join each second; levels are uniform, roles 20/20/60, one
//! ticket in six a party of 2-4. Matches start only as ready checks free
//! (at most `--checks` open, as instances would allow), so the queue stays
//! long; members accept 0.5-4 s after a match is found, 2% decline.
//!
//! Time is virtual (the matchmaker is pure): 20 ticks a second for
//! `--seconds`. Each tick's `Matchmaker::tick` is timed by the wall clock
//! (target: p99 under 1 ms). Printed for the level-spread rules (spread 2,
//! one level wider per 15 s of the oldest ticket's wait) and for the
//! baseline (any spread within the group: first come, first served): the
//! tick's time, the median and p90 wait of the tickets matched, and the
//! spread of the matches (target: a fairer spread at no worse than 1.5x
//! the baseline's median wait).

use clap::Parser;
use game_core::ids::CharacterId;
use game_core::raid::{
    Entrant, LevelGroup, MatchEvent, MatchId, Matching, Matchmaker, MatchmakerLimits, QueueRules,
    Role,
};
use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Parser, Debug)]
#[command(
    name = "bench-matchmaker",
    about = "The raid queue: tick time with 10,000 waiting, wait and spread beside first come first served"
)]
struct Args {
    /// A shorter run (30 s of virtual time).
    #[arg(long)]
    quick: bool,
    /// Virtual seconds measured.
    #[arg(long)]
    seconds: Option<u64>,
    /// Tickets waiting at the start.
    #[arg(long, default_value_t = 10_000)]
    waiting: usize,
    /// Tickets joining each second.
    #[arg(long, default_value_t = 200)]
    join_per_s: u64,
    /// Ready checks open at once (matches starting).
    #[arg(long, default_value_t = 90)]
    checks: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the results as JSON.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

const TICK_MS: u64 = 50;
const GROUP: u8 = 10;

fn rules(matching: Matching) -> QueueRules {
    QueueRules {
        group_size: GROUP,
        roles: Some([2, 2, 6]),
        level_groups: (0..6)
            .map(|g| LevelGroup {
                min: g * 10 + 1,
                max: g * 10 + 10,
            })
            .collect(),
        spread_start: 2,
        widen_every_ms: 15_000,
        ready_check_ms: 10_000,
        matching,
    }
}

/// The arrivals, the same for both runs.
struct Arrivals {
    rng: ChaCha8Rng,
    next_character: u64,
}

impl Arrivals {
    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n
    }

    fn ticket(&mut self) -> Vec<Entrant> {
        let size = if self.below(6) == 0 {
            2 + self.below(3) as usize
        } else {
            1
        };
        let group = self.below(6) as u16;
        let centre = group * 10 + 1 + self.below(10) as u16;
        let mut members = Vec::with_capacity(size);
        let mut roles = [0u8; 3];
        while members.len() < size {
            let role = match self.below(10) {
                0 | 1 => Role::Tank,
                2 | 3 => Role::Healer,
                _ => Role::Damage,
            };
            if roles[role.index()] >= [2, 2, 6][role.index()] {
                continue;
            }
            roles[role.index()] += 1;
            // A party's members within two levels, inside the group.
            let level = if members.is_empty() {
                centre
            } else {
                let off = self.below(5) as i32 - 2;
                (i32::from(centre) + off)
                    .clamp(i32::from(group * 10 + 1), i32::from(group * 10 + 10))
                    as u16
            };
            self.next_character += 1;
            members.push(Entrant {
                character: CharacterId(self.next_character),
                level,
                role,
            });
        }
        members
    }
}

#[derive(Serialize, Default, Debug)]
struct Results {
    label: String,
    ticks: usize,
    tick_p50_us: f64,
    tick_p99_us: f64,
    tick_max_us: f64,
    waiting_start: usize,
    waiting_end: usize,
    matched_players: u64,
    matches_ready: u64,
    wait_p50_s: f64,
    wait_p90_s: f64,
    spread_mean: f64,
    spread_p50: u16,
    spread_p90: u16,
    spread_max: u16,
}

fn pct<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn run(args: &Args, label: &str, rules: QueueRules, seconds: u64) -> Results {
    let mut mm = Matchmaker::new(
        vec![rules],
        MatchmakerLimits {
            max_tickets: args.waiting * 4 + 10_000,
            max_ready_checks: args.checks,
        },
    );
    let mut arrivals = Arrivals {
        rng: ChaCha8Rng::seed_from_u64(args.seed),
        next_character: 0,
    };
    let mut answers = ChaCha8Rng::seed_from_u64(args.seed ^ 0xA5A5);
    // The standing queue: queued over the last ten minutes, oldest first.
    let start = Instant::from_micros(3_600_000_000);
    let mut queued_at: BTreeMap<CharacterId, Instant> = BTreeMap::new();
    for i in 0..args.waiting {
        let ago = Duration::from_millis(600_000 - 600_000 * i as u64 / args.waiting as u64);
        let at = Instant::from_micros(start.as_micros() - ago.as_micros());
        let members = arrivals.ticket();
        for m in &members {
            queued_at.insert(m.character, at);
        }
        let _ = mm.enqueue(at, 0, members);
    }
    let waiting_start = mm.waiting();
    // Answers due: (when, match, character, accept).
    let mut due: BTreeMap<(Instant, u64), (MatchId, CharacterId, bool)> = BTreeMap::new();
    let mut seq = 0u64;
    let mut ticks_us = Vec::new();
    let (mut waits, mut spreads) = (Vec::new(), Vec::new());
    let (mut matched_players, mut ready) = (0u64, 0u64);
    let ticks = seconds * 1_000 / TICK_MS;
    let mut joined = 0u64;
    for t in 0..ticks {
        let now = start + Duration::from_millis(t * TICK_MS);
        // Arrivals due by now.
        let want = args.join_per_s * (t + 1) * TICK_MS / 1_000;
        while joined < want {
            joined += 1;
            let members = arrivals.ticket();
            for m in &members {
                queued_at.insert(m.character, now);
            }
            let _ = mm.enqueue(now, 0, members);
        }
        // Answers due by now.
        while let Some((&(at, k), _)) = due.first_key_value() {
            if at > now {
                break;
            }
            let (id, c, accept) = due.remove(&(at, k)).expect("present");
            let _ = if accept {
                mm.accept(c, id)
            } else {
                mm.decline(c, id)
            };
        }
        let clock = std::time::Instant::now();
        mm.tick(now);
        ticks_us.push(clock.elapsed().as_secs_f64() * 1e6);
        for e in mm.take_events() {
            match e {
                MatchEvent::Found { id, members, .. } => {
                    for c in members {
                        let after = 500 + answers.next_u64() % 3_500;
                        let accept = answers.next_u64() % 50 != 0;
                        seq += 1;
                        due.insert((now + Duration::from_millis(after), seq), (id, c, accept));
                        if let Some(at) = queued_at.get(&c) {
                            waits.push(now.saturating_since(*at).as_micros() as f64 / 1e6);
                        }
                    }
                }
                MatchEvent::Ready(r) => {
                    ready += 1;
                    matched_players += r.members.len() as u64;
                    spreads.push(r.spread);
                    for m in r.members {
                        queued_at.remove(&m.character);
                    }
                }
                MatchEvent::Failed { removed, .. } => {
                    for c in removed {
                        queued_at.remove(&c);
                    }
                }
                MatchEvent::Cancelled { members, .. } => {
                    for c in members {
                        queued_at.remove(&c);
                    }
                }
            }
        }
    }
    if let Err(e) = mm.audit() {
        panic!("{label}: the matchmaker's books are wrong: {e}");
    }
    ticks_us.sort_by(f64::total_cmp);
    waits.sort_by(f64::total_cmp);
    spreads.sort_unstable();
    Results {
        label: label.into(),
        ticks: ticks_us.len(),
        tick_p50_us: pct(&ticks_us, 0.5),
        tick_p99_us: pct(&ticks_us, 0.99),
        tick_max_us: ticks_us.last().copied().unwrap_or(0.0),
        waiting_start,
        waiting_end: mm.waiting(),
        matched_players,
        matches_ready: ready,
        wait_p50_s: pct(&waits, 0.5),
        wait_p90_s: pct(&waits, 0.9),
        spread_mean: spreads.iter().map(|&s| f64::from(s)).sum::<f64>()
            / spreads.len().max(1) as f64,
        spread_p50: pct(&spreads, 0.5),
        spread_p90: pct(&spreads, 0.9),
        spread_max: spreads.last().copied().unwrap_or(0),
    }
}

fn main() {
    let args = Args::parse();
    let seconds = args.seconds.unwrap_or(if args.quick { 30 } else { 120 });
    // Warm-up (caches, allocator), not printed.
    let _ = run(&args, "warm-up", rules(Matching::LevelSpread), 2);
    let spread = run(&args, "level spread", rules(Matching::LevelSpread), seconds);
    let fcfs = run(
        &args,
        "first come, first served",
        rules(Matching::FirstCome),
        seconds,
    );
    println!(
        "bench-matchmaker: {} waiting at the start, {} joining a second, {} ready checks at most, {} s virtual at 20 Hz",
        args.waiting, args.join_per_s, args.checks, seconds
    );
    println!("raids of 10 (2 tanks, 2 healers, 6 damage), level groups of 10; spread 2, one level wider per 15 s");
    println!();
    println!(
        "{:<34}{:>14}{:>14}{:>9}{:>10}",
        "", "level spread", "first come", "ratio", "target"
    );
    let row = |name: &str, a: f64, b: f64, target: &str, met: Option<bool>| {
        let ratio = if b > 0.0 { a / b } else { 0.0 };
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!("{name:<34}{a:>14.2}{b:>14.2}{ratio:>8.2}x{target:>10} {verdict}");
    };
    row(
        "tick p50 us (matching)",
        spread.tick_p50_us,
        fcfs.tick_p50_us,
        "",
        None,
    );
    row(
        "tick p99 us (matching)",
        spread.tick_p99_us,
        fcfs.tick_p99_us,
        "< 1000",
        Some(spread.tick_p99_us < 1000.0),
    );
    row(
        "tick max us",
        spread.tick_max_us,
        fcfs.tick_max_us,
        "",
        None,
    );
    row(
        "waiting at the start",
        spread.waiting_start as f64,
        fcfs.waiting_start as f64,
        "",
        None,
    );
    row(
        "waiting at the end",
        spread.waiting_end as f64,
        fcfs.waiting_end as f64,
        "",
        None,
    );
    row(
        "matches ready",
        spread.matches_ready as f64,
        fcfs.matches_ready as f64,
        "",
        None,
    );
    row(
        "players matched",
        spread.matched_players as f64,
        fcfs.matched_players as f64,
        "",
        None,
    );
    let wait_ok = spread.wait_p50_s <= 1.5 * fcfs.wait_p50_s;
    row(
        "wait p50 s (queued to found)",
        spread.wait_p50_s,
        fcfs.wait_p50_s,
        "<= 1.5x",
        Some(wait_ok),
    );
    row("wait p90 s", spread.wait_p90_s, fcfs.wait_p90_s, "", None);
    let fairer = spread.spread_mean < fcfs.spread_mean;
    row(
        "level spread mean",
        spread.spread_mean,
        fcfs.spread_mean,
        "fairer",
        Some(fairer),
    );
    row(
        "level spread p50",
        f64::from(spread.spread_p50),
        f64::from(fcfs.spread_p50),
        "",
        None,
    );
    row(
        "level spread p90",
        f64::from(spread.spread_p90),
        f64::from(fcfs.spread_p90),
        "",
        None,
    );
    row(
        "level spread max",
        f64::from(spread.spread_max),
        f64::from(fcfs.spread_max),
        "",
        None,
    );
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&[&spread, &fcfs]).unwrap_or_default();
        if let Err(e) = std::fs::write(path, json + "\n") {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
