//! `loadtest`: the whole load test in one command. Builds (or finds) `mmo-server`
//! and `mmo-bots`, starts the server as a child on free loopback ports with a
//! world sized so each bot sees about `--visible` others, runs the bots as a
//! second process, scrapes the server's `/metrics` and reads its resident
//! memory while they run, and prints the server's figures beside the bots'.
//!
//! `cargo run --release -p sim --bin loadtest -- --bots 5000 --seconds 300`
//! `cargo run --release -p sim --bin loadtest -- --bots 10000 --seconds 60 --idle`
//! Exits non-zero when the bots' run was not clean or a target was missed.
//!
//! The login storm: `loadtest --bots 2000 --storm 1000` measures the tick
//! over a quiet window, then over a window of the same length while up to
//! 1,000 new accounts register and log in over HTTP (`mmo-bots --login-only
//! --register-first`, a third process), six times in turn, and prints the
//! two p99s of each pair and pooled, their ratio and the storm's logins per
//! second, with the CPU of every server thread in each window, so a storm
//! that moves the tick says why.

use clap::Parser;
use serde::Serialize;
use sim::socket_tools::binaries::{free_port, server_and_bots, wait_healthy};
use sim::socket_tools::load_report::{LoadReport, LoginPhase};
use sim::socket_tools::scrape::{self, Buckets, Sample};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

#[path = "loadtest/storm.rs"]
mod storm;

use storm::*;

#[derive(Parser, Debug)]
#[command(
    name = "loadtest",
    about = "Start mmo-server, load it with mmo-bots, report both"
)]
struct Args {
    #[arg(long, default_value_t = 1000)]
    bots: usize,
    /// Seconds every bot stays connected after the last has started.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Idle sessions: the bots stand still (the 10,000 idle sessions test).
    #[arg(long)]
    idle: bool,
    /// The bots' policies (see mmo-bots --mix); ignored with --idle.
    #[arg(long, default_value = "wander=100")]
    mix: String,
    #[arg(long, default_value_t = 10)]
    move_hz: u32,
    /// Bots connecting per second while ramping up.
    #[arg(long, default_value_t = 250)]
    connect_rate: u32,
    /// About how many others each bot should see: sizes the arena.
    #[arg(long, default_value_t = 50)]
    visible: u32,
    /// Seconds between scrapes of the server's metrics.
    #[arg(long, default_value_t = 5)]
    scrape_every: u64,
    /// Nice value for mmo-bots (0 runs it at the server's priority). The bots
    /// stand in for remote players, whose machines would not take the
    /// server's CPU; at 10 they use what the server leaves.
    #[arg(long, default_value_t = 10)]
    bots_nice: i32,
    /// Worker threads for mmo-bots (default: one per core).
    #[arg(long)]
    bot_threads: Option<usize>,
    /// Use these binaries instead of building them.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    #[arg(long)]
    bots_bin: Option<PathBuf>,
    /// Where to keep the config, map, logs and reports (default: a new
    /// directory under the system's temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also write the combined report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Login storms: this many new accounts register and log in over HTTP
    /// while the bots play, after a quiet window; 0 runs none.
    #[arg(long, default_value_t = 0)]
    storm: usize,
    /// How many quiet window + storm pairs (each storm with new accounts);
    /// the figures pool them, so the machine's drift falls on both sides.
    #[arg(long, default_value_t = 6)]
    storms: u32,
    /// Seconds of each window: the quiet one, and the storm's (its first
    /// seconds; all of it if it ends sooner).
    #[arg(long, default_value_t = 15)]
    storm_window: u64,
    /// HTTP requests of the storm in flight at once.
    #[arg(long, default_value_t = 48)]
    storm_concurrency: usize,
    /// Seconds a storm may go on past its window; then its client is
    /// stopped (the bots' run is planned with this much room per storm).
    /// 0: the storm is exactly its window.
    #[arg(long, default_value_t = 0)]
    storm_tail: u64,
    /// Seconds between the end of the ramp and the first window.
    #[arg(long, default_value_t = 10)]
    settle: u64,
    /// The server's `[login] max_hash_concurrency` (Argon2 jobs at once;
    /// default: the server's own, one per core).
    #[arg(long)]
    hash_concurrency: Option<usize>,
    /// Keep the server's data directory (the SQLite store) after the run.
    #[arg(long)]
    keep_data: bool,
}

/// Seconds between a storm's end and the next quiet window.
const STORM_GAP_S: u64 = 5;
/// Seconds a stopped storm's client has to finish its requests in flight.
const STORM_DRAIN_S: u64 = 30;

/// Same as the server's defaults (`[node.world.zone]`).
const VIEW_RADIUS_M: f64 = 40.0;
/// Arena cells, metres.
const CELL_M: u32 = 4;

#[derive(Debug, Default, Serialize)]
struct ServerFigures {
    tick_p50_ms: Option<f64>,
    tick_p99_ms: Option<f64>,
    /// The bucket bound the p99 is certainly not above.
    tick_p99_bound_ms: Option<f64>,
    /// p99 over the ticks after every bot had connected.
    steady_tick_p99_ms: Option<f64>,
    /// Time the ticking thread was on a CPU during a zone tick (Linux).
    tick_cpu_p50_ms: Option<f64>,
    tick_cpu_p99_ms: Option<f64>,
    /// Time it was runnable but waiting for a CPU during ticks, per second.
    tick_waiting_ms_per_s: f64,
    /// CPU used, in cores (CPU seconds per wall second), by each process.
    server_cpu_cores: f64,
    bots_cpu_cores: f64,
    /// The machine's 1-minute load average at the start and the end.
    load_average: (Option<f64>, Option<f64>),
    ticks: f64,
    tick_overruns: f64,
    longest_overrun_streak: f64,
    rss_peak_mb: f64,
    rss_end_mb: f64,
    sessions_peak: f64,
    disconnects: Vec<(String, f64)>,
    sent_bytes_per_s: f64,
    event_queue_depth_max: f64,
    outbound_bytes_max: f64,
}

#[derive(Debug, Serialize)]
struct Verdict {
    target: String,
    measured: String,
    met: bool,
}

#[derive(Debug, Serialize)]
struct Combined {
    bots: usize,
    seconds: u64,
    idle: bool,
    arena_m: u32,
    spawn_spread_m: u32,
    server: ServerFigures,
    bots_report: Option<LoadReport>,
    storms: Vec<StormRun>,
    storms_pooled: Option<Pooled>,
    verdicts: Vec<Verdict>,
}

/// The server over one window of a storm run.
#[derive(Debug, Default, Serialize)]
struct Window {
    /// The tick histogram's buckets over the window (to pool windows).
    #[serde(skip)]
    buckets: Buckets,
    #[serde(skip)]
    cpu_buckets: Buckets,
    seconds: f64,
    ticks: f64,
    tick_p50_ms: Option<f64>,
    tick_p99_ms: Option<f64>,
    /// The bucket bound the p99 is certainly not above.
    tick_p99_bound_ms: Option<f64>,
    tick_cpu_p99_ms: Option<f64>,
    /// The ticking thread runnable but off a CPU during ticks, per second.
    tick_waiting_ms_per_s: f64,
    tick_overruns: f64,
    /// CPU in cores: the game loop's thread, the server's other threads
    /// (by name: tokio's workers and blocking pool, where Argon2 runs, share
    /// one), the bots, the storm's client.
    loop_thread_cores: f64,
    other_threads_cores: Vec<(String, f64)>,
    bots_cores: f64,
    storm_client_cores: f64,
    /// Argon2 time on the server's blocking threads, per second.
    hash_seconds_per_s: f64,
    /// Login service answers in the window, by outcome.
    login_answers: Vec<(String, f64)>,
    /// Tokens issued in the window, per second (the server's count).
    logins_per_s: f64,
    load_average: Option<f64>,
}

/// One quiet window and the storm after it.
#[derive(Debug, Default, Serialize)]
struct StormRun {
    quiet: Window,
    storm: Window,
    /// Storm p99 over quiet p99.
    p99_ratio: Option<f64>,
    /// The storm client's report (logins per second, 429s, 503s).
    login: Option<LoginPhase>,
    /// Why the run is not a fair measure, if it is not.
    note: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("loadtest: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<bool, String> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("mmo-loadtest-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let (server_bin, bots_bin) = server_and_bots(
        "loadtest",
        args.server_bin.as_deref(),
        args.bots_bin.as_deref(),
    )?;
    if let Ok(limit) = rlimit::increase_nofile_limit(u64::MAX) {
        if limit < args.bots as u64 + 64 {
            eprintln!(
                "loadtest: warning: open-file limit {limit} is below {} bots",
                args.bots
            );
        }
    }

    // The arena: a square holding every bot at the density that puts about
    // `visible` of them within the view radius of each.
    let area = args.bots as f64 * std::f64::consts::PI * VIEW_RADIUS_M.powi(2)
        / f64::from(args.visible.max(1));
    let spread = ((area.sqrt() / 2.0).ceil() as u32).max(20);
    let arena_m = 2 * spread + 4 * CELL_M;
    let map = dir.join("arena.map");
    write(&map, &arena_map(arena_m))?;
    let game = free_port()?;
    let admin = free_port()?;
    let login = free_port()?;
    let config = dir.join("server.toml");
    write(
        &config,
        &server_config(args, game, admin, login, &dir.join("data"), &map, spread),
    )?;

    let server_log = dir.join("server.log");
    let log = open(&server_log)?;
    let log_too = log
        .try_clone()
        .map_err(|e| format!("cannot share {}: {e}", server_log.display()))?;
    let mut server = Command::new(&server_bin)
        .arg("--config")
        .arg(&config)
        .stdout(log)
        .stderr(log_too)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", server_bin.display()))?;
    let server_pid = server.id();
    let outcome = (|| {
        wait_healthy(admin, &mut server, Duration::from_secs(15))?;
        eprintln!(
            "loadtest: server pid {server_pid} on {game} (admin {admin}), arena {arena_m} m, \
             spawn spread {spread} m; logs and reports in {}",
            dir.display()
        );
        drive(args, &bots_bin, &dir, &map, game, admin, server_pid, login)
    })();
    stop(&mut server);
    if !args.keep_data {
        let _ = std::fs::remove_dir_all(dir.join("data"));
    }
    let (figures, report, storms) = outcome?;

    let mut verdicts = verdicts(args, &figures, report.as_ref());
    print_side_by_side(args, &figures, report.as_ref(), arena_m);
    if args.storm > 0 {
        println!();
        print_storms(args, &storms);
        verdicts.extend(storm_verdicts(&storms));
    }
    println!();
    for v in &verdicts {
        let mark = if v.met { "met   " } else { "MISSED" };
        println!("  {mark} {:<48} {}", v.target, v.measured);
    }
    let clean = report.as_ref().is_some_and(|r| r.clean());
    let met = verdicts.iter().all(|v| v.met);
    if let Some(path) = &args.json {
        let combined = Combined {
            bots: args.bots,
            seconds: args.seconds,
            idle: args.idle,
            arena_m,
            spawn_spread_m: spread,
            server: figures,
            bots_report: report,
            storms_pooled: (!storms.is_empty()).then(|| pooled(&storms)),
            storms,
            verdicts,
        };
        let json = serde_json::to_string_pretty(&combined).unwrap_or_default();
        write(path, &(json + "\n"))?;
    }
    Ok(clean && met)
}

/// Runs the bots and scrapes the server until they are done.
#[allow(clippy::too_many_arguments)]
fn drive(
    args: &Args,
    bots_bin: &Path,
    dir: &Path,
    map: &Path,
    game: SocketAddr,
    admin: SocketAddr,
    server_pid: u32,
    login: SocketAddr,
) -> Result<(ServerFigures, Option<LoadReport>, Vec<StormRun>), String> {
    let bots_json = dir.join("bots.json");
    let _ = std::fs::remove_file(&bots_json);
    let mut cmd = Command::new(bots_bin);
    cmd.arg("--addr")
        .arg(game.to_string())
        .arg("--bots")
        .arg(args.bots.to_string())
        .arg("--seconds")
        .arg(bots_seconds(args).to_string())
        .arg("--connect-rate")
        .arg(args.connect_rate.to_string())
        .arg("--move-hz")
        .arg(args.move_hz.to_string())
        .arg("--map")
        .arg(map)
        .arg("--json")
        .arg(&bots_json)
        .stdout(open(&dir.join("bots.txt"))?);
    if args.idle {
        cmd.arg("--idle");
    } else {
        cmd.arg("--mix").arg(&args.mix);
    }
    if let Some(n) = args.bot_threads {
        cmd.arg("--threads").arg(n.to_string());
    }
    cmd.arg("--nice").arg(args.bots_nice.to_string());
    let load_before = scrape::load_average();
    let server_cpu_before = scrape::cpu_seconds(server_pid).unwrap_or(0.0);
    let started = Instant::now();
    let mut bots = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bots_bin.display()))?;
    let bots_pid = bots.id();
    let mut bots_cpu = 0.0f64;
    let ramp = Duration::from_secs_f64(args.bots as f64 / f64::from(args.connect_rate.max(1)));
    let storm_plan = StormPlan {
        accounts: args.storm,
        storms: args.storms,
        window: Duration::from_secs(args.storm_window.max(1)),
        concurrency: args.storm_concurrency,
        tail: Duration::from_secs(args.storm_tail),
        first_at: started + ramp + Duration::from_secs(args.settle),
        bots_end: started + ramp + Duration::from_secs(bots_seconds(args)),
        bots_nice: args.bots_nice,
        bots_bin: bots_bin.to_owned(),
        dir: dir.to_owned(),
        admin,
        login,
        server_pid,
        bots_pid,
    };
    let storm = (args.storm > 0).then(|| std::thread::spawn(move || run_storms(storm_plan)));
    let mut at_ramp_end: Option<Buckets> = None;
    let mut last: Vec<Sample> = Vec::new();
    let mut fig = ServerFigures::default();
    let mut rss_samples = Vec::new();
    let every = Duration::from_secs(args.scrape_every.max(1));
    let status = loop {
        let wait_until = Instant::now() + every;
        let mut exited = None;
        while Instant::now() < wait_until {
            if let Some(status) = bots.try_wait().map_err(|e| e.to_string())? {
                exited = Some(status);
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        match scrape::http_get(admin, "/metrics", Duration::from_secs(5)) {
            Ok((200, body)) => {
                last = scrape::parse(&body);
                fig.sessions_peak = fig.sessions_peak.max(scrape::total(&last, "mmo_sessions"));
                fig.event_queue_depth_max = fig
                    .event_queue_depth_max
                    .max(scrape::total(&last, "mmo_event_queue_depth_max"));
                fig.outbound_bytes_max = fig
                    .outbound_bytes_max
                    .max(scrape::total(&last, "mmo_outbound_bytes_max"));
                if at_ramp_end.is_none() && started.elapsed() >= ramp + every {
                    at_ramp_end = Some(Buckets::of(&last, "mmo_tick_duration_seconds"));
                }
            }
            Ok((code, _)) => eprintln!("loadtest: /metrics answered {code}"),
            Err(e) => eprintln!("loadtest: cannot scrape /metrics: {e}"),
        }
        if let Ok((rss, _)) = scrape::resident_memory(server_pid) {
            rss_samples.push(rss);
        }
        if let Ok(cpu) = scrape::cpu_seconds(bots_pid) {
            bots_cpu = cpu;
        }
        if let Some(status) = exited {
            break status;
        }
    };
    let wall = started.elapsed().as_secs_f64();
    // The server refreshes its metrics every 500 ms: wait for the bots'
    // goodbyes to be counted, then read the final figures.
    std::thread::sleep(Duration::from_millis(1500));
    if let Ok((200, body)) = scrape::http_get(admin, "/metrics", Duration::from_secs(5)) {
        last = scrape::parse(&body);
    }
    fig.load_average = (load_before, scrape::load_average());
    fig.server_cpu_cores =
        (scrape::cpu_seconds(server_pid).unwrap_or(0.0) - server_cpu_before) / wall;
    fig.bots_cpu_cores = bots_cpu / wall;
    let (rss_end, rss_peak) = scrape::resident_memory(server_pid).map_err(|e| e.to_string())?;
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    fig.rss_end_mb = mb(rss_end);
    fig.rss_peak_mb = mb(rss_peak.max(rss_samples.iter().copied().max().unwrap_or(0)));

    let ticks = Buckets::of(&last, "mmo_tick_duration_seconds");
    let ms = |s: Option<f64>| s.map(|v| v * 1000.0);
    fig.tick_p50_ms = ms(ticks.quantile(0.5));
    fig.tick_p99_ms = ms(ticks.quantile(0.99));
    fig.tick_p99_bound_ms = ms(ticks.quantile_bound(0.99));
    fig.steady_tick_p99_ms = at_ramp_end.and_then(|early| ms(ticks.since(&early).quantile(0.99)));
    let cpu = Buckets::of(&last, "mmo_tick_cpu_seconds");
    fig.tick_cpu_p50_ms = ms(cpu.quantile(0.5));
    fig.tick_cpu_p99_ms = ms(cpu.quantile(0.99));
    fig.tick_waiting_ms_per_s =
        scrape::total(&last, "mmo_tick_waiting_seconds_total") * 1000.0 / wall;
    fig.ticks = scrape::total(&last, "mmo_ticks_total");
    fig.tick_overruns = scrape::total(&last, "mmo_tick_overruns_total");
    fig.longest_overrun_streak = scrape::total(&last, "mmo_tick_overrun_streak_max");
    fig.sent_bytes_per_s = scrape::total(&last, "mmo_sent_bytes_total") / wall;
    fig.disconnects = last
        .iter()
        .filter(|s| s.name == "mmo_disconnects_total")
        .map(|s| (s.label("reason").unwrap_or("?").to_owned(), s.value))
        .collect();

    let report = std::fs::read_to_string(&bots_json)
        .ok()
        .and_then(|t| serde_json::from_str::<LoadReport>(&t).ok());
    if report.is_none() {
        eprintln!(
            "loadtest: mmo-bots wrote no report ({status}); see {}",
            dir.display()
        );
    }
    let storms = match storm.map(|t| t.join()) {
        Some(Ok(runs)) => runs,
        Some(Err(_)) => return Err("the storm thread panicked".into()),
        None => Vec::new(),
    };
    Ok((fig, report, storms))
}

/// How long the bots play: `--seconds`, or with storms as long as the
/// windows need (every storm allowed `--storm-tail` past its window).
fn bots_seconds(args: &Args) -> u64 {
    if args.storm == 0 {
        return args.seconds;
    }
    // A stopped storm's requests in flight take a few seconds to finish.
    let per_storm = 2 * args.storm_window + args.storm_tail + STORM_GAP_S + 15;
    args.seconds
        .max(args.settle + u64::from(args.storms.max(1)) * per_storm + 5)
}

fn verdicts(args: &Args, f: &ServerFigures, r: Option<&LoadReport>) -> Vec<Verdict> {
    let mut v = Vec::new();
    let connected = r.map_or(0, |r| r.connected_at_end);
    v.push(Verdict {
        target: format!("all {} bots connected to the end", args.bots),
        measured: format!("{connected}"),
        met: connected == args.bots,
    });
    let unexpected = r.map_or(u64::MAX, |r| r.unexpected_disconnects);
    v.push(Verdict {
        target: "zero unexpected disconnects".into(),
        measured: format!("{unexpected}"),
        met: unexpected == 0,
    });
    if args.idle {
        v.push(Verdict {
            target: "server resident memory <= 200 MB".into(),
            measured: format!("{:.1} MB peak", f.rss_peak_mb),
            met: f.rss_peak_mb <= 200.0,
        });
    } else {
        let p99 = f.tick_p99_ms.unwrap_or(f64::INFINITY);
        v.push(Verdict {
            target: "server tick p99 <= 25 ms".into(),
            measured: format!("{p99:.2} ms"),
            met: p99 <= 25.0,
        });
        v.push(Verdict {
            target: "no tick overrun streaks (none longer than 1)".into(),
            measured: format!(
                "{} overruns, longest streak {}",
                f.tick_overruns, f.longest_overrun_streak
            ),
            met: f.longest_overrun_streak <= 1.0,
        });
        v.push(Verdict {
            target: "server resident memory <= 300 MB".into(),
            measured: format!("{:.1} MB peak", f.rss_peak_mb),
            met: f.rss_peak_mb <= 300.0,
        });
    }
    v
}

fn print_side_by_side(args: &Args, f: &ServerFigures, r: Option<&LoadReport>, arena_m: u32) {
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{x:.2} ms"));
    let mut server = vec![
        (
            "mode".to_owned(),
            if args.idle { "idle" } else { "moving" }.to_owned(),
        ),
        ("arena".to_owned(), format!("{arena_m} m square")),
        ("ticks".to_owned(), format!("{}", f.ticks)),
        ("tick p50".to_owned(), opt(f.tick_p50_ms)),
        (
            "tick p99".to_owned(),
            format!(
                "{} (bucket <= {})",
                opt(f.tick_p99_ms),
                opt(f.tick_p99_bound_ms)
            ),
        ),
        ("tick p99 after ramp".to_owned(), opt(f.steady_tick_p99_ms)),
        (
            "tick on-CPU p50/p99".to_owned(),
            format!("{} / {}", opt(f.tick_cpu_p50_ms), opt(f.tick_cpu_p99_ms)),
        ),
        (
            "tick waiting for a CPU".to_owned(),
            format!("{:.1} ms per s", f.tick_waiting_ms_per_s),
        ),
        ("tick overruns".to_owned(), format!("{}", f.tick_overruns)),
        (
            "longest overrun streak".to_owned(),
            format!("{}", f.longest_overrun_streak),
        ),
        ("RSS peak".to_owned(), format!("{:.1} MB", f.rss_peak_mb)),
        (
            "CPU server / bots".to_owned(),
            format!("{:.2} / {:.2} cores", f.server_cpu_cores, f.bots_cpu_cores),
        ),
        ("bots nice".to_owned(), format!("{}", args.bots_nice)),
        (
            "load average start/end".to_owned(),
            format!(
                "{} / {}",
                f.load_average.0.map_or("-".into(), |l| format!("{l:.2}")),
                f.load_average.1.map_or("-".into(), |l| format!("{l:.2}"))
            ),
        ),
        ("RSS at end".to_owned(), format!("{:.1} MB", f.rss_end_mb)),
        ("sessions peak".to_owned(), format!("{}", f.sessions_peak)),
        (
            "sent".to_owned(),
            format!("{:.0} KB/s", f.sent_bytes_per_s / 1024.0),
        ),
        (
            "event queue max".to_owned(),
            format!("{}", f.event_queue_depth_max),
        ),
        (
            "outbound max/session".to_owned(),
            format!("{} B", f.outbound_bytes_max),
        ),
    ];
    for (reason, n) in &f.disconnects {
        server.push((format!("disconnects {reason}"), format!("{n}")));
    }
    let bots = r
        .map(|r| r.table())
        .unwrap_or_else(|| vec![("(no report)".to_owned(), String::new())]);
    println!("{:<54} | bots", "server");
    println!("{:-<54}-+-{:-<50}", "", "");
    for i in 0..server.len().max(bots.len()) {
        let left = server
            .get(i)
            .map(|(k, v)| format!("{k:<24}{v}"))
            .unwrap_or_default();
        let right = bots
            .get(i)
            .map(|(k, v)| format!("{k:<24}{v}"))
            .unwrap_or_default();
        println!("{left:<54} | {right}");
    }
}

fn arena_map(side_m: u32) -> String {
    let cells = side_m.div_ceil(CELL_M);
    let mut text = format!(
        "# written by loadtest: an open square\nname arena\ncell {CELL_M}\nspawn {c} {c}\ngrid\n",
        c = cells / 2
    );
    for y in 0..cells {
        for x in 0..cells {
            let edge = x == 0 || y == 0 || x == cells - 1 || y == cells - 1;
            text.push(if edge { '#' } else { '.' });
        }
        text.push('\n');
    }
    text
}

fn server_config(
    args: &Args,
    game: SocketAddr,
    admin: SocketAddr,
    login: SocketAddr,
    data: &Path,
    map: &Path,
    spread: u32,
) -> String {
    let cap = args.bots + 64;
    // At least max_players, and room for every bot's login and save at once.
    let pending = (2 * cap).max(16_384);
    let busy = pending / 2;
    let hash = args
        .hash_concurrency
        .map_or(String::new(), |n| format!("max_hash_concurrency = {n}\n"));
    format!(
        "# written by loadtest: every bot in one zone (one channel of the arena)\n\
         listen = \"{game}\"\n\
         maps = [{map:?}]\n\
         data_dir = {data:?}\n\
         [admin]\n\
         listen = \"{admin}\"\n\
         # a storm's accounts all come from 127.0.0.1: no per-address limit\n\
         [login]\n\
         listen = \"{login}\"\n\
         per_address = {{ burst = 1000000, per_minute = 1000000, max_keys = 16384 }}\n\
         {hash}\
         [node]\n\
         max_sessions = {cap}\n\
         max_players = {cap}\n\
         max_pending_intents = {pending}\n\
         store_busy_intents = {busy}\n\
         [node.world]\n\
         start_map = \"arena\"\n\
         max_channels = 1\n\
         [node.world.zone]\n\
         max_players = {cap}\n\
         spawn_spread_m = {spread}\n",
        map = map.display().to_string(),
        pending = pending,
        busy = busy,
        data = data.display().to_string()
    )
}

/// SIGTERM (a clean shutdown), then SIGKILL if it takes more than 5 s.
fn stop(server: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let give_up = Instant::now() + Duration::from_secs(5);
    while Instant::now() < give_up {
        if let Ok(Some(_)) = server.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn open(path: &Path) -> Result<std::fs::File, String> {
    std::fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}
