//! `mmo-bots`: a load generator. Connects N bots to a server over real TCP from
//! one multi-threaded process, each following one of the simulator's policies
//! (`sim::policy`), and reports what they saw.
//!
//! `mmo-bots --addr 127.0.0.1:7777 --bots 5000 --seconds 300 --mix wander=100
//! --move-hz 10 --connect-rate 500 [--json FILE]`
//! Exits non-zero if any bot was disconnected unexpectedly or could not connect;
//! with `--reconnect`, a drop the bot resumed from and a failed connect a later
//! one made good count as neither.
//!
//! `--auth password --login-url http://127.0.0.1:7780`: each bot signs in to
//! the login service first (its account registered if missing, its password
//! derived from its name and `--password-salt`), `--login-concurrency` at a
//! time, then connects with its token; a reconnect that cannot resume fetches
//! a fresh one. `--login-only` signs the accounts in and stops there (the
//! login storm of `loadtest --storm`).

use clap::{Parser, ValueEnum};
use game_core::client::ClientConfig;
use game_core::protocol::Credentials;
use game_core::zone::Map;
use sim::policy::{ring_partners, Atlas, Kind};
use sim::report::Percentiles;
use sim::socket_tools::bot::{run_bot_with, FreshCredentials, LiveCounts, OnDrop, SocketPolicy};
use sim::socket_tools::load_report::{LoadReport, LoginPhase};
use sim::socket_tools::login_client::{password_for, LoginClient, LoginStats, LoginUrl, Token};
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
    /// at a spot near the spawn), idle, follow, portal-walker, channel-hopper,
    /// fighter (hunts monsters), brawler (sends combat requests the server
    /// must refuse), social (talks), heckler (social requests the server must
    /// refuse), trader (fights for gold, shops, enhances and trades with the
    /// traders beside it in the mix, by name), swindler, raider (queues for
    /// raids alone, fights the boss, claims its reward).
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
    /// How the bots log in: `dev` (the name alone; the server must allow
    /// development logins) or `password` (an account and a token from the
    /// login service at --login-url).
    #[arg(long, value_enum, default_value_t = Auth::Dev)]
    auth: Auth,
    /// The login service (with --auth password).
    #[arg(long, default_value = "http://127.0.0.1:7780")]
    login_url: LoginUrl,
    /// Salts the passwords, derived from each name: the same salt and names
    /// log into the same accounts run after run.
    #[arg(long, default_value = "mmo-bots")]
    password_salt: String,
    /// Requests to the login service in flight at once while the bots sign in.
    #[arg(long, default_value_t = 32)]
    login_concurrency: usize,
    /// How long one request keeps retrying 429s, 503s and failed connects.
    #[arg(long, default_value_t = 120)]
    login_patience_s: u64,
    /// Sign the accounts in (register, log in) and stop: no game connection.
    #[arg(long)]
    login_only: bool,
    /// Register each account before its first login (two Argon2 runs on the
    /// server for a new account, where logging in first and registering on
    /// the 401 costs three; one more for an account already there).
    #[arg(long)]
    register_first: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Auth {
    Dev,
    Password,
}

/// A first token is used if it is younger than this (tokens live 300 s by
/// default); an older one is fetched afresh.
const FIRST_TOKEN_MAX_AGE: Duration = Duration::from_secs(120);

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
    if args.login_only {
        println!(
            "mmo-bots report ({} accounts signed in at {})",
            report.bots, args.login_url
        );
    } else {
        println!(
            "mmo-bots report ({} bots against {}, {} s)",
            report.bots, report.addr, report.seconds
        );
    }
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

/// The bots' first tokens, from the login service, before any connects; the
/// phase's figures.
async fn sign_in_all(
    args: &Args,
    stats: &Arc<LoginStats>,
) -> (Vec<Option<(Token, tokio::time::Instant)>>, LoginPhase) {
    let slots = Arc::new(tokio::sync::Semaphore::new(args.login_concurrency.max(1)));
    // SIGTERM (or Ctrl-C) stops the sign-ins gracefully: no new account is
    // started, those in flight finish (a dropped request would cancel the
    // service's work mid-way), and the report says how far it got.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let terminated = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = terminated => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            stop.store(true, Ordering::Relaxed);
            eprintln!("mmo-bots: stopping: the sign-ins in flight finish, no more start");
        }
    });
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(args.bots);
    for i in 0..args.bots {
        let name = format!("{}{i}", args.name_prefix);
        let password = password_for(&name, &args.password_salt);
        let mut client = LoginClient::new(
            args.login_url.clone(),
            Arc::clone(stats),
            Duration::from_secs(args.login_patience_s),
        );
        let slots = Arc::clone(&slots);
        let register_first = args.register_first;
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire_owned().await.expect("never closed");
            if stop.load(Ordering::Relaxed) {
                return (Err(None), Duration::ZERO);
            }
            let t0 = tokio::time::Instant::now();
            let token = if register_first {
                match client.register(&name, &password).await {
                    Ok(_) => client.login(&name, &password).await,
                    Err(e) => Err(e),
                }
            } else {
                client.sign_in(&name, &password).await
            };
            let done = tokio::time::Instant::now();
            (token.map(|t| (t, done)).map_err(Some), done - t0)
        }));
    }
    let mut tokens = Vec::with_capacity(args.bots);
    let mut latencies = Vec::with_capacity(args.bots);
    let mut first_error = None;
    let mut not_started = 0;
    let mut last_token = started;
    for t in tasks {
        match t.await {
            Ok((Ok((token, at)), took)) => {
                last_token = last_token.max(at);
                latencies.push(took.as_micros() as u64);
                tokens.push(Some((token, at)));
            }
            Ok((Err(Some(e)), _)) => {
                first_error.get_or_insert_with(|| e.to_string());
                tokens.push(None);
            }
            Ok((Err(None), _)) => {
                not_started += 1;
                tokens.push(None);
            }
            Err(e) => {
                first_error.get_or_insert_with(|| format!("sign-in task failed: {e}"));
                tokens.push(None);
            }
        }
    }
    watcher.abort();
    let signed_in = tokens.iter().flatten().count();
    let seconds = (last_token - started).as_secs_f64();
    let phase = LoginPhase {
        url: args.login_url.to_string(),
        concurrency: args.login_concurrency.max(1),
        signed_in,
        failed: args.bots - signed_in - not_started,
        not_started,
        seconds,
        logins_per_s: if seconds > 0.0 {
            signed_in as f64 / seconds
        } else {
            0.0
        },
        sign_in: Percentiles::of(&mut latencies),
        counts: stats.counts(),
        first_error,
    };
    (tokens, phase)
}

/// A bot's source of tokens: its first token while it is fresh, then the
/// login service's.
fn fresh_tokens(
    args: &Args,
    name: String,
    first: Option<(Token, tokio::time::Instant)>,
    stats: &Arc<LoginStats>,
) -> FreshCredentials {
    let password = password_for(&name, &args.password_salt);
    let client = Arc::new(tokio::sync::Mutex::new(LoginClient::new(
        args.login_url.clone(),
        Arc::clone(stats),
        Duration::from_secs(args.login_patience_s),
    )));
    let mut first = first.filter(|(_, at)| at.elapsed() < FIRST_TOKEN_MAX_AGE);
    Box::new(move || {
        let first = first
            .take()
            .filter(|(_, at)| at.elapsed() < FIRST_TOKEN_MAX_AGE);
        let client = Arc::clone(&client);
        let name = name.clone();
        let password = password.clone();
        Box::pin(async move {
            let token = match first {
                Some((token, _)) => token,
                None => {
                    let mut client = client.lock().await;
                    let token = client.sign_in(&name, &password).await;
                    client.disconnect();
                    token.map_err(|e| e.to_string())?
                }
            };
            Ok(Credentials::Token { token: token.token })
        })
    })
}

async fn run(args: &Args, atlas: Arc<Atlas>) -> LoadReport {
    let started = std::time::Instant::now();
    let login_stats = Arc::new(LoginStats::default());
    let (mut first_tokens, mut login) = match args.auth {
        Auth::Dev => (Vec::new(), None),
        Auth::Password => {
            let (tokens, phase) = sign_in_all(args, &login_stats).await;
            eprintln!(
                "mmo-bots: {} of {} accounts signed in at {} in {:.1} s ({:.1} logins/s)",
                phase.signed_in, args.bots, phase.url, phase.seconds, phase.logins_per_s
            );
            (tokens, Some(phase))
        }
    };
    if args.login_only {
        let mut report = LoadReport {
            bots: args.bots,
            auth: "password".into(),
            login,
            wall_seconds: started.elapsed().as_secs_f64(),
            ..LoadReport::default()
        };
        report.addr = args.login_url.to_string();
        return report;
    }
    first_tokens.resize_with(args.bots, || None);
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
    // Traders ask the traders beside them in the mix by name.
    let traders: Vec<usize> = (0..args.bots)
        .filter(|&i| args.mix.kind_of(i) == Kind::Trader)
        .collect();
    for (i, first_token) in first_tokens.into_iter().enumerate() {
        let kind = args.mix.kind_of(i);
        let policy = SocketPolicy::of(kind, args.seed, i as u64, Arc::clone(&atlas), every)
            .expect("the mix holds only kinds a bot can follow")
            .with_trade_partners(
                ring_partners(&traders, i)
                    .into_iter()
                    .map(|j| format!("{}{j}", args.name_prefix))
                    .collect(),
            );
        let addr = args.addr;
        let name = format!("{}{i}", args.name_prefix);
        let fresh = (args.auth == Auth::Password)
            .then(|| fresh_tokens(args, name.clone(), first_token, &login_stats));
        let mut config = ClientConfig::new(name);
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
            run_bot_with(config, connect, epoch, until, on_drop, policy, &live, fresh).await
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
    report.auth = match args.auth {
        Auth::Dev => "dev",
        Auth::Password => "password",
    }
    .into();
    if let Some(phase) = login.as_mut() {
        // The reconnects' fresh tokens too.
        phase.counts = login_stats.counts();
    }
    report.login = login;
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
