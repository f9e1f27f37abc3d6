//! `mmo-bots`: connects N clients to a server, keeps them alive, reports.
//!
//! `mmo-bots --addr 127.0.0.1:7777 --bots 1000 --seconds 60 [--json FILE]`
//! Exits non-zero if any bot was disconnected unexpectedly or could not connect.

use clap::Parser;
use game_core::client::ClientConfig;
use serde::Serialize;
use sim::behaviour::Atlas;
use sim::bots::{run_bot, Behaviour, BotOutcome, OnDrop};
use sim::report::{Percentiles, Tally};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "mmo-bots",
    about = "Connect many bots to an mmo-server and report"
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
    /// Login names are PREFIX0, PREFIX1, ...
    #[arg(long, default_value = "bot")]
    name_prefix: String,
    /// After a dropped connection, reconnect and resume instead of giving up.
    #[arg(long)]
    reconnect: bool,
    /// Stand still in the world instead of wandering.
    #[arg(long)]
    idle: bool,
    /// Seeds the bots' wandering.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Report {
    addr: String,
    bots: usize,
    seconds: u64,
    welcomed: usize,
    connected_at_end: usize,
    resumes: u64,
    connect_failures: u64,
    corrections: u64,
    zones_entered: u64,
    rtt: Percentiles,
    disconnects: Tally,
    unexpected_disconnects: u64,
    wall_seconds: f64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if (limit as usize) < args.bots + 64 => {
            eprintln!(
                "warning: open-file limit {limit} is below {} bots",
                args.bots
            )
        }
        Ok(_) => {}
        Err(e) => eprintln!("warning: cannot raise the open-file limit: {e}"),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(run(&args));
    print_table(&report);
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = std::fs::write(path, json + "\n") {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if report.unexpected_disconnects > 0 || report.connect_failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn run(args: &Args) -> Report {
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
    let atlas = Arc::new(Atlas::samples());
    let mut tasks = Vec::with_capacity(args.bots);
    for i in 0..args.bots {
        let behaviour = if args.idle {
            Behaviour::idle()
        } else {
            Behaviour::wander(args.seed, i as u64, Arc::clone(&atlas))
        };
        let addr = args.addr;
        let mut config = ClientConfig::new(format!("{}{i}", args.name_prefix));
        // Bots draw nothing: no interpolation buffers.
        config.interpolate = false;
        let start = epoch + gap * i as u32;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start).await;
            let connect = || async move {
                let s = tokio::net::TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                Ok(s)
            };
            run_bot(config, connect, epoch, until, on_drop, behaviour).await
        }));
    }
    let progress = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            eprintln!("mmo-bots: {:.0}s elapsed", epoch.elapsed().as_secs_f64());
        }
    });
    let mut outcomes = Vec::with_capacity(args.bots);
    for t in tasks {
        match t.await {
            Ok(o) => outcomes.push(o),
            Err(e) => eprintln!("bot task failed: {e}"),
        }
    }
    progress.abort();
    summarise(args, outcomes, started.elapsed().as_secs_f64())
}

fn summarise(args: &Args, outcomes: Vec<BotOutcome>, wall_seconds: f64) -> Report {
    let mut rtts: Vec<u64> = outcomes
        .iter()
        .flat_map(|o| o.rtt_samples_us.iter().copied())
        .collect();
    let mut disconnects = Tally::new();
    for reason in outcomes.iter().flat_map(|o| &o.disconnects) {
        *disconnects.entry(reason.label().to_string()).or_default() += 1;
    }
    Report {
        addr: args.addr.to_string(),
        bots: args.bots,
        seconds: args.seconds,
        welcomed: outcomes.iter().filter(|o| o.welcomes > 0).count(),
        connected_at_end: outcomes.iter().filter(|o| o.connected_at_end).count(),
        resumes: outcomes.iter().map(|o| o.resumes as u64).sum(),
        connect_failures: outcomes.iter().map(|o| o.connect_failures as u64).sum(),
        corrections: outcomes.iter().map(|o| o.corrections as u64).sum(),
        zones_entered: outcomes.iter().map(|o| o.zones_entered as u64).sum(),
        rtt: Percentiles::of(&mut rtts),
        unexpected_disconnects: disconnects.values().sum(),
        disconnects,
        wall_seconds,
    }
}

fn print_table(r: &Report) {
    println!(
        "mmo-bots report ({} bots against {}, {} s)",
        r.bots, r.addr, r.seconds
    );
    println!("  welcomed              {:>8}", r.welcomed);
    println!("  connected at end      {:>8}", r.connected_at_end);
    println!("  resumes               {:>8}", r.resumes);
    println!("  connect failures      {:>8}", r.connect_failures);
    println!("  zones entered         {:>8}", r.zones_entered);
    println!("  corrections           {:>8}", r.corrections);
    println!(
        "  rtt ms p50/p99/max    {:>8.2} / {:.2} / {:.2}  ({} samples)",
        r.rtt.p50_ms, r.rtt.p99_ms, r.rtt.max_ms, r.rtt.samples
    );
    println!("  unexpected disconnects{:>8}", r.unexpected_disconnects);
    for (reason, n) in &r.disconnects {
        println!("    {reason:<20}{n:>8}");
    }
    println!("  wall time             {:>8.1} s", r.wall_seconds);
}
