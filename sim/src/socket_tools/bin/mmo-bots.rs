//! `mmo-bots`: a load generator. Connects N bots to a server over real TCP from
//! one multi-threaded process, each following one of the simulator's policies
//! (`sim::policy`), and reports what they saw.
//!
//! `mmo-bots --addr 127.0.0.1:7777 --bots 5000 --seconds 300 --mix wander=100
//! --move-hz 10 --connect-rate 500 [--json FILE]`
//! Exits non-zero if any bot was disconnected unexpectedly or could not connect;
//! with `--reconnect`, a drop the bot resumed from and a failed connect a later
//! one made good count as neither.

use clap::Parser;
use game_core::client::ClientConfig;
use game_core::zone::Map;
use sim::policy::{Atlas, Kind};
use sim::socket_tools::bot::{run_bot_counted, LiveCounts, OnDrop, SocketPolicy};
use sim::socket_tools::load_report::LoadReport;
use sim::socket_tools::mix::Mix;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "mmo-bots",
    about = "Load an mmo-server with many bots and report"
)]
struct Args {
    /// Server game port.
    #[arg(long, default_value = "127.0.0.1:7777")]
    addr: SocketAddr,
    /// Number of bots.
    #[arg(long, default_value_t = 100)]
    bots: usize,
    /// How long each bot stays connected once all have started.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// New connections per second while ramping up (staggered connects).
    #[arg(long, default_value_t = 500)]
    connect_rate: u32,
    /// How often a moving bot sends a move, per second.
    #[arg(long, default_value_t = 10)]
    move_hz: u32,
    /// The bots' policies as kind=percent pairs; kinds: wander, hotspot (crowd
    /// at a spot near the spawn), idle, follow, portal-walker, channel-hopper.
    #[arg(long, default_value = "wander=100")]
    mix: Mix,
    /// Stand still in the world (the same as --mix idle=100).
    #[arg(long)]
    idle: bool,
    /// A map file the server runs (beside the sample maps), so bots walk
    /// around its walls. Repeatable.
    #[arg(long)]
    map: Vec<PathBuf>,
    /// Login names are PREFIX0, PREFIX1, ...
    #[arg(long, default_value = "bot")]
    name_prefix: String,
    /// After a dropped connection, reconnect and resume instead of giving up.
    #[arg(long)]
    reconnect: bool,
    /// Seeds the bots' policies.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Run at this nice value (0-19): beside the server on one machine, the
    /// load generator stands in for remote clients, so it should not take the
    /// CPU from the server it measures.
    #[arg(long, default_value_t = 0)]
    nice: i32,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.nice != 0 {
        // Before any thread starts: they all inherit it.
        if let Err(e) = rustix::process::setpriority_process(None, args.nice.clamp(0, 19)) {
            eprintln!("mmo-bots: cannot set nice {}: {e}", args.nice);
        }
    }
    if args.idle {
        args.mix = Mix::only(Kind::Idle);
    }
    if args.move_hz == 0 || args.move_hz > 60 {
        eprintln!("--move-hz must be 1..=60 (the server's rate limit is 60 messages a second)");
        return ExitCode::from(2);
    }
    let mut atlas = Atlas::samples();
    for path in &args.map {
        match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Map::parse(&t).map_err(|e| e.to_string()))
        {
            Ok(map) => atlas.insert(map),
            Err(e) => {
                eprintln!("cannot load map {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    raise_fd_limit(args.bots as u64 + 64);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(run(&args, Arc::new(atlas)));
    println!(
        "mmo-bots report ({} bots against {}, {} s)",
        report.bots, report.addr, report.seconds
    );
    for (label, value) in report.table() {
        println!("  {label:<24}{value}");
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = std::fs::write(path, json + "\n") {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if report.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Each bot needs a file descriptor: raise the soft limit as far as the hard
/// limit allows, and say so when that is not enough.
fn raise_fd_limit(wanted: u64) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < wanted => eprintln!(
            "warning: open-file limit {limit} is below the {wanted} this run needs; \
             raise the hard limit (ulimit -Hn)"
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: cannot raise the open-file limit: {e}"),
    }
}

async fn run(args: &Args, atlas: Arc<Atlas>) -> LoadReport {
    let started = std::time::Instant::now();
    let epoch = tokio::time::Instant::now();
    let gap = Duration::from_secs_f64(1.0 / args.connect_rate.max(1) as f64);
    let ramp = gap * args.bots as u32;
    let until = epoch + ramp + Duration::from_secs(args.seconds);
    let on_drop = if args.reconnect {
        OnDrop::Reconnect {
            retry_after: Duration::from_millis(500),
        }
    } else {
        OnDrop::GiveUp
    };
    let every = Duration::from_secs_f64(1.0 / args.move_hz as f64);
    let live = Arc::new(LiveCounts::default());
    let mut tasks = Vec::with_capacity(args.bots);
    for i in 0..args.bots {
        let kind = args.mix.kind_of(i);
        let policy = SocketPolicy::of(kind, args.seed, i as u64, Arc::clone(&atlas), every)
            .expect("the mix holds only kinds a bot can follow");
        let addr = args.addr;
        let mut config = ClientConfig::new(format!("{}{i}", args.name_prefix));
        // Bots draw nothing: no interpolation buffers.
        config.interpolate = false;
        let start = epoch + gap * i as u32;
        let live = Arc::clone(&live);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start).await;
            let connect = || async move {
                let s = tokio::net::TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                Ok(s)
            };
            run_bot_counted(config, connect, epoch, until, on_drop, policy, &live).await
        }));
    }
    let total = (ramp + Duration::from_secs(args.seconds)).as_secs_f64();
    let progress = tokio::spawn(progress(Arc::clone(&live), args.bots, epoch, total));
    let mut outcomes = Vec::with_capacity(args.bots);
    for t in tasks {
        match t.await {
            Ok(o) => outcomes.push(o),
            Err(e) => eprintln!("bot task failed: {e}"),
        }
    }
    progress.abort();
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    let mut report = LoadReport::summarise(&outcomes, started.elapsed().as_secs_f64());
    report.addr = args.addr.to_string();
    report.mix = args.mix.to_string();
    report.move_hz = args.move_hz;
    report.seconds = args.seconds;
    report
}

/// A bar on a terminal; on anything else, a line every 30 s.
async fn progress(live: Arc<LiveCounts>, bots: usize, epoch: tokio::time::Instant, total: f64) {
    let tty = std::io::stderr().is_terminal();
    let every = Duration::from_millis(if tty { 250 } else { 30_000 });
    loop {
        tokio::time::sleep(every).await;
        let elapsed = epoch.elapsed().as_secs_f64();
        let connected = live.connected.load(Ordering::Relaxed);
        let welcomed = live.welcomed.load(Ordering::Relaxed);
        let dropped = live.dropped.load(Ordering::Relaxed);
        let status = format!(
            "{elapsed:>5.0}/{total:.0} s  connected {connected}/{bots} (welcomed {welcomed})  dropped {dropped}"
        );
        if tty {
            let width = 30;
            let filled = ((elapsed / total.max(1.0)) * width as f64) as usize;
            let filled = filled.min(width);
            eprint!(
                "\r[{}{}] {status}  ",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("mmo-bots: {status}");
        }
    }
}
