//! `crash-economy`: trader bots loot, shop, enhance and trade while
//! `mmo-server` is killed with SIGKILL and restarted several times, on
//! SQLite and on PostgreSQL; then the database is read with plain SQL and
//! held to the economy's promises (issue 19, "Proof"):
//!
//! - every item id exists at most once;
//! - for gold and for each item kind, what is held equals what the ledger
//!   says came from its sources minus what went to its sinks;
//! - every transaction a server acknowledged (its log's `transaction
//!   committed` lines, written when the store's answer arrives and before any
//!   player is told) is in the ledger, and every inventory it touched is at
//!   least at the sequence number it acknowledged: no acknowledgement lost;
//! - no transaction applied twice (a second application would double its
//!   items or gold, or an id, and fail the two checks above; the ledger's
//!   name is its primary key);
//! - raid rewards exactly once across crashes (issue 20; `raids.rs`): raider
//!   bots play beside the traders, and a segment is killed just after the
//!   store recorded a won run (0-50 ms after its log line, so before,
//!   during or after its winners' claims), segment after segment until a
//!   kill finds a reward still owed; every reward a recorded
//!   run owes is in the database, given by one transaction at most, and
//!   every one still owed at a kill was given by the end (at its winner's
//!   next login).
//!
//! Each engine gets fresh data. The server runs `--kills` segments that end
//! in SIGKILL at a seeded moment, then one that ends in a clean stop; the
//! bots (`mmo-bots --mix trader=70,raider=30` by default) start again with each
//! segment, and the operator grants gold to a few of them every second on the
//! admin port (a source of its own, so the checks see grants cut by a kill).
//!
//! ```sh
//! cargo run --release -p sim --bin crash-economy -- --engine all --kills 3
//! ```
//! Exits 1 on any violation (the run's directory is kept and named), 2 when
//! the harness itself could not run.

use clap::{Parser, ValueEnum};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sim::socket_tools::binaries::server_and_bots;
use sim::socket_tools::scrape::http_post;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[path = "crash/db.rs"]
#[allow(dead_code)]
mod db;
#[path = "crash_economy/ledger.rs"]
mod ledger;
#[path = "crash/procs.rs"]
mod procs;
#[path = "crash_economy/raids.rs"]
mod raids;

use db::{create_database, drop_database, with_database};
use ledger::Acked;
use procs::{wait_or_kill, Bots, Server, ServerSetup};

// `db.rs` reads characters with these; this tool reads the economy only.
use game_core::persist::CharacterRecord;
use net_adapter::store::Store;

#[derive(Parser, Debug)]
#[command(
    name = "crash-economy",
    about = "SIGKILL mmo-server while bots trade and shop, restart it, check the economy in the database"
)]
struct Args {
    /// Which stores: sqlite, postgres or all.
    #[arg(long, value_enum, default_value_t = EngineArg::All)]
    engine: EngineArg,
    /// Segments that end in SIGKILL (then one more ends in a clean stop).
    #[arg(long, default_value_t = 3)]
    kills: u32,
    #[arg(long, default_value_t = 200)]
    bots: usize,
    /// Each kill comes at a seeded moment this many seconds into its segment.
    #[arg(long, default_value_t = 4.0)]
    kill_after_min: f64,
    #[arg(long, default_value_t = 8.0)]
    kill_after_max: f64,
    /// How long the last segment's bots play before the clean stop.
    #[arg(long, default_value_t = 6)]
    last_seconds: u64,
    /// The bots' kinds, as `mmo-bots --mix`.
    #[arg(long, default_value = "trader=70,raider=30")]
    mix: String,
    /// With raiders in the mix, a segment is killed just after a won run is
    /// recorded (or after this many seconds without one), until a kill
    /// finds a reward owed.
    #[arg(long, default_value_t = 150)]
    raid_wait: u64,
    /// Gold each operator grant gives; grants go to this many bots a second.
    #[arg(long, default_value_t = 300)]
    grant_gold: u64,
    #[arg(long, default_value_t = 20)]
    grants_per_second: usize,
    #[arg(long)]
    seed: Option<u64>,
    /// The PostgreSQL server (default: $MMO_TEST_POSTGRES_URL, else
    /// postgres://postgres@127.0.0.1:5432/test); a database is created on it
    /// for the run and dropped after.
    #[arg(long)]
    postgres_url: Option<String>,
    #[arg(long, default_value_t = 10)]
    bots_nice: i32,
    #[arg(long)]
    server_bin: Option<PathBuf>,
    #[arg(long)]
    bots_bin: Option<PathBuf>,
    /// Keep the run's directory and database.
    #[arg(long)]
    keep: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    Sqlite,
    Postgres,
    All,
}

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const NAME_PREFIX: &str = "trade";
/// Info, and every acknowledged transaction.
const SERVER_LOG: &str = "info,net_adapter::server::core_loop=debug";

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("crash-economy: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<bool, String> {
    if args.kill_after_min > args.kill_after_max {
        return Err("need --kill-after-min <= --kill-after-max".into());
    }
    let (server_bin, bots_bin) = server_and_bots(
        "crash-economy",
        args.server_bin.as_deref(),
        args.bots_bin.as_deref(),
    )?;
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let seed = args.seed.unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        nanos ^ (u64::from(std::process::id()) << 32)
    });
    let engines: &[&str] = match args.engine {
        EngineArg::Sqlite => &["sqlite"],
        EngineArg::Postgres => &["postgres"],
        EngineArg::All => &["sqlite", "postgres"],
    };
    let postgres = args
        .postgres_url
        .clone()
        .or_else(|| std::env::var("MMO_TEST_POSTGRES_URL").ok())
        .unwrap_or_else(|| DEFAULT_POSTGRES.to_owned());
    println!(
        "crash-economy: seed {seed} ({} bots, --mix {}, {} kills each {}-{} s into a segment); \
         again: --seed {seed}",
        args.bots, args.mix, args.kills, args.kill_after_min, args.kill_after_max
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut all_ok = true;
    for &engine in engines {
        println!("\n=== {engine}");
        let ok = one_engine(
            args,
            engine,
            &postgres,
            &server_bin,
            &bots_bin,
            &runtime,
            &mut rng,
        )?;
        all_ok &= ok;
    }
    println!(
        "\ncrash-economy: {}",
        if all_ok {
            "no item or coin duplicated or lost, every acknowledged transaction stored, on every engine"
        } else {
            "VIOLATIONS (see above)"
        }
    );
    Ok(all_ok)
}

fn one_engine(
    args: &Args,
    engine: &str,
    postgres: &str,
    server_bin: &Path,
    bots_bin: &Path,
    runtime: &tokio::runtime::Runtime,
    rng: &mut ChaCha8Rng,
) -> Result<bool, String> {
    let tag = format!("{}_{engine}", std::process::id());
    let dir = std::env::temp_dir().join(format!("mmo-crash-economy-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let data = dir.join("data");
    let (server_url, read_url, database) = if engine == "sqlite" {
        let read = format!("sqlite://{}", data.join("mmo.sqlite3").display());
        (String::new(), read, None)
    } else {
        let name = format!("mmo_crash_economy_{tag}");
        let url = with_database(postgres, &name)?;
        runtime.block_on(create_database(postgres, &name))?;
        (url.clone(), url, Some(name))
    };
    let db = Db {
        url: &read_url,
        runtime,
    };
    let outcome = segments(
        args,
        &dir,
        &data,
        &server_url,
        server_bin,
        bots_bin,
        &db,
        rng,
    )
    .and_then(|seen| {
        let stored = runtime.block_on(ledger::read(&read_url))?;
        let rewards = runtime.block_on(raids::read(&read_url))?;
        Ok((seen, stored, rewards))
    });
    if let Some(name) = &database {
        if !args.keep {
            if let Err(e) = runtime.block_on(drop_database(postgres, name)) {
                eprintln!("crash-economy: cannot drop database {name}: {e}");
            }
        }
    }
    let (seen, stored, rewards) = outcome?;
    let acked = seen.acked;
    let mut violations = ledger::check(&stored, &acked);
    violations.extend(raids::check(&rewards, &seen.runs, &seen.owed_at_kills));
    println!(
        "  after {} kills and a clean stop: {} transactions in the ledger, {} acknowledged in \
         the logs; {} stacks, {} gold held",
        args.kills,
        stored.ledger.len(),
        acked.len(),
        stored.stacks,
        stored.gold
    );
    for ((kind, way), amount) in &stored.by_way {
        println!("    {kind:<8} {way:<12} {amount}");
    }
    let won = seen.runs.iter().filter(|r| !r.owed.is_empty()).count();
    println!(
        "  raids: {} runs recorded, {won} won, owing {} rewards; {} owed at the kills (killed: \
         {}); at the end {} given, {} still owed (given at their winners' next login)",
        seen.runs.len(),
        seen.runs.iter().map(|r| r.owed.len()).sum::<usize>(),
        seen.owed_at_kills.len(),
        seen.raid_kills.join("; "),
        rewards.given(),
        rewards.owed().len()
    );
    if stored.ledger.len() < 10 {
        println!("  too few transactions to prove anything: are the bots trading?");
        return Ok(false);
    }
    if args.mix.contains("raider") && seen.owed_at_kills.is_empty() {
        println!("  no reward owed at any kill: the raid part proved nothing (did anyone win?)");
        return Ok(false);
    }
    if violations.is_empty() {
        println!(
            "  checks: item ids unique; held = sources - sinks for gold and {} item kinds; every \
             acknowledged transaction stored; none applied twice: 0 violations",
            stored.held.len()
        );
        if !args.keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Ok(true);
    }
    for v in &violations {
        println!("  VIOLATION: {v}");
    }
    println!("  the run's directory is kept: {}", dir.display());
    Ok(false)
}

/// The database, read between segments.
struct Db<'a> {
    url: &'a str,
    runtime: &'a tokio::runtime::Runtime,
}

/// What the segments showed: the servers' acknowledged transactions and
/// recorded raid runs (from their logs), the raid rewards owed right after
/// each kill (from the database), and how the first kill came.
struct Seen {
    acked: Vec<Acked>,
    runs: Vec<raids::RunAcked>,
    owed_at_kills: BTreeSet<(i64, i64)>,
    raid_kills: Vec<String>,
}

/// Whether the server log at `path` shows a won raid run recorded, reading
/// on from `*read` (the bytes read before; polled every 10 ms, so a kill
/// comes before the winners' claims as often as it can).
fn run_won(path: &Path, read: &mut u64) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut new = Vec::new();
    if file.seek(SeekFrom::Start(*read)).is_err() || file.read_to_end(&mut new).is_err() {
        return false;
    }
    // Whole lines only: a line cut mid-write is read next time.
    let whole = new.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    *read += whole as u64;
    let text = String::from_utf8_lossy(&new[..whole]);
    raids::parse_runs(&text)
        .0
        .iter()
        .any(|r| !r.owed.is_empty())
}

/// Every segment in turn; what the servers acknowledged, from their logs.
#[allow(clippy::too_many_arguments)] // the run's settings, paths and database
fn segments(
    args: &Args,
    dir: &Path,
    data: &Path,
    server_url: &str,
    server_bin: &Path,
    bots_bin: &Path,
    db: &Db,
    rng: &mut ChaCha8Rng,
) -> Result<Seen, String> {
    let setup = ServerSetup {
        bin: server_bin,
        dir,
        data,
        store_url: server_url,
        save_interval_ms: 1_000,
        log_filter: SERVER_LOG,
    };
    let extra = vec!["--mix".to_string(), args.mix.clone()];
    let bots = Bots {
        bin: bots_bin,
        dir,
        count: args.bots,
        name_prefix: NAME_PREFIX,
        nice: args.bots_nice,
        extra: &extra,
    };
    let mut seen = Seen {
        acked: Vec::new(),
        runs: Vec::new(),
        owed_at_kills: BTreeSet::new(),
        raid_kills: Vec::new(),
    };
    let mut next_grant = 0usize;
    for segment in 0..=args.kills {
        let last = segment == args.kills;
        let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let kill_at = args.kill_after_min + unit * (args.kill_after_max - args.kill_after_min);
        // With raiders, killed segments wait for a won raid until a kill
        // has found a reward owed (its winners had not all claimed yet).
        let wait_raid = !last && args.mix.contains("raider") && seen.owed_at_kills.is_empty();
        let play = if last {
            args.last_seconds as f64
        } else if wait_raid {
            args.raid_wait as f64
        } else {
            kill_at
        };
        let name = format!("segment{segment}");
        let mut server = Server::start(&setup, &name)?;
        let seconds = play.ceil() as u64 + 30;
        let mut children = bots.start(
            &format!("bots-{name}"),
            server.game,
            seconds,
            rng.next_u64() >> 1,
        )?;
        let started = Instant::now();
        let log_path = setup.dir.join(format!("server-{name}.log"));
        let mut next_grants = started;
        let mut log_read = 0;
        while started.elapsed().as_secs_f64() < play {
            if Instant::now() >= next_grants {
                next_grants += Duration::from_secs(1);
                for _ in 0..args.grants_per_second {
                    let who = format!("{NAME_PREFIX}{}", next_grant % args.bots);
                    next_grant += 1;
                    let command = format!("grant {who} gold {}", args.grant_gold);
                    let _ = http_post(server.admin, "/commands", &command, Duration::from_secs(1));
                }
            }
            if wait_raid && run_won(&log_path, &mut log_read) {
                let delay = rng.next_u64() % 50;
                std::thread::sleep(Duration::from_millis(delay));
                seen.raid_kills.push(format!(
                    "segment {segment} {delay} ms after a won run was recorded, {:.1} s in",
                    started.elapsed().as_secs_f64()
                ));
                break;
            }
            std::thread::sleep(Duration::from_millis(if wait_raid { 10 } else { 1_000 }));
        }
        if wait_raid
            && !seen
                .raid_kills
                .iter()
                .any(|k| k.starts_with(&format!("segment {segment} ")))
        {
            seen.raid_kills.push(format!(
                "segment {segment} after {} s without a won run",
                args.raid_wait
            ));
        }
        let end = if last {
            let _ = children.kill();
            let _ = children.wait();
            if server.stop() {
                "stopped cleanly"
            } else {
                "did not stop cleanly"
            }
        } else {
            let _ = server.child.kill(); // SIGKILL
            let _ = server.child.wait();
            wait_or_kill(&mut children, Duration::from_secs(20));
            let rewards = db.runtime.block_on(raids::read(db.url))?;
            seen.owed_at_kills.extend(rewards.owed());
            "SIGKILL"
        };
        let log = std::fs::read_to_string(&log_path)
            .map_err(|e| format!("cannot read the log of {name}: {e}"))?;
        let (here, cut) = ledger::parse_acked(&log);
        let (runs, runs_cut) = raids::parse_runs(&log);
        println!(
            "  segment {segment}: {end} after {:.2} s; {} transactions acknowledged, {} raid runs \
             recorded{}",
            started.elapsed().as_secs_f64(),
            here.len(),
            runs.len(),
            if cut + runs_cut > 0 {
                format!(" ({} log lines cut by the kill)", cut + runs_cut)
            } else {
                String::new()
            }
        );
        seen.acked.extend(here);
        seen.runs.extend(runs);
    }
    Ok(seen)
}

// Used by `db.rs` (shared with `crash`).
#[allow(dead_code)]
fn _uses(_: Option<CharacterRecord>, _: Option<Store>) {}
