//! `crash`: kills `mmo-server` with SIGKILL while bots play and save, restarts
//! it on the same data, and checks that every character is back with at least
//! the last save the server acknowledged (issue 16, "Invariants and crash
//! tests").
//!
//! For each engine (SQLite in a fresh data directory, PostgreSQL in a fresh
//! database made for the run and dropped after), and `--runs` times:
//!
//! 1. starts `mmo-server` on free loopback ports with a short
//!    `save_interval_ms`, logging every acknowledged save
//!    (`RUST_LOG=net_adapter::server::core_loop=debug`: `character saved
//!    character=character#12 version=3 map="meadow" channel=0 x=.. y=..`);
//! 2. runs `mmo-bots` (walking, dev logins `crash0..`) against it;
//! 3. SIGKILLs the server at a seeded-random moment once saves are flowing;
//! 4. reads from its log the last acknowledged (version, place) per character;
//! 5. restarts the server on the same data, and
//! 6. checks the store: one character per bot and account, none doubled,
//!    every character that entered the world before the kill still there
//!    (all 500 when the kill comes after the first logins); for each
//!    acknowledged save, the stored version is at least the acknowledged
//!    one, and when equal the place is the same;
//! 7. runs the bots again, stops the server cleanly and checks they found
//!    their characters (only a bot that had none at the kill makes one),
//!    every version moved on and every save acknowledged then is stored.
//!
//! ```sh
//! cargo run --release -p sim --bin crash -- --engine all --runs 3
//! ```
//! Exits 1 on any violation (the run's directory is kept and named), 2 when
//! the harness itself could not run.

use clap::{Parser, ValueEnum};
use game_core::persist::CharacterRecord;
use net_adapter::store::Store;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sim::socket_tools::binaries::server_and_bots;
use sim::socket_tools::load_report::LoadReport;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode};
use std::time::{Duration, Instant};

#[path = "crash/checks.rs"]
mod checks;
#[path = "crash/db.rs"]
mod db;
#[path = "crash/log.rs"]
mod log;
#[path = "crash/procs.rs"]
mod procs;

use checks::*;
use db::*;
use log::*;
use procs::*;

#[derive(Parser, Debug)]
#[command(
    name = "crash",
    about = "SIGKILL mmo-server while bots play and save, restart it, check every acknowledged save"
)]
struct Args {
    /// Which stores: sqlite, postgres or all.
    #[arg(long, value_enum, default_value_t = EngineArg::All)]
    engine: EngineArg,
    /// Kills per engine, each on fresh data.
    #[arg(long, default_value_t = 1)]
    runs: u32,
    #[arg(long, default_value_t = 500)]
    bots: usize,
    /// How long the bots play before the kill would end their run anyway.
    #[arg(long, default_value_t = 18)]
    seconds: u64,
    /// The kill comes at a seeded moment between these (seconds after the
    /// bots start), and never before the first acknowledged save.
    #[arg(long, default_value_t = 8.0)]
    kill_after_min: f64,
    #[arg(long, default_value_t = 12.0)]
    kill_after_max: f64,
    /// `[node] save_interval_ms` of the server under test.
    #[arg(long, default_value_t = 1000)]
    save_interval_ms: u32,
    /// How long the bots play again against the restarted server.
    #[arg(long, default_value_t = 4)]
    again_seconds: u64,
    /// Seeds the kill moments and the bots (default: from the clock; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// The PostgreSQL server (default: $MMO_TEST_POSTGRES_URL, else
    /// postgres://postgres@127.0.0.1:5432/test); a database is created on it
    /// for each run and dropped after.
    #[arg(long)]
    postgres_url: Option<String>,
    /// Nice value for mmo-bots, so the server under test keeps its CPU.
    #[arg(long, default_value_t = 10)]
    bots_nice: i32,
    /// Use these binaries instead of building them.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    #[arg(long)]
    bots_bin: Option<PathBuf>,
    /// Keep every run's directory (logs, config, SQLite file) and database.
    #[arg(long)]
    keep: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    Sqlite,
    Postgres,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const NAME_PREFIX: &str = "crash";
/// What the server under test logs: info, and every acknowledged save.
const SERVER_LOG: &str = "info,net_adapter::server::core_loop=debug";

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("crash: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<bool, String> {
    if args.kill_after_min > args.kill_after_max || args.kill_after_max >= args.seconds as f64 {
        return Err("need --kill-after-min <= --kill-after-max < --seconds".into());
    }
    let (server_bin, bots_bin) = server_and_bots(
        "crash",
        args.server_bin.as_deref(),
        args.bots_bin.as_deref(),
    )?;
    if let Ok(limit) = rlimit::increase_nofile_limit(u64::MAX) {
        if limit < args.bots as u64 + 64 {
            eprintln!(
                "crash: warning: open-file limit {limit} is below {} bots",
                args.bots
            );
        }
    }
    let seed = args.seed.unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        nanos ^ (u64::from(std::process::id()) << 32)
    });
    let engines: &[Engine] = match args.engine {
        EngineArg::Sqlite => &[Engine::Sqlite],
        EngineArg::Postgres => &[Engine::Postgres],
        EngineArg::All => &[Engine::Sqlite, Engine::Postgres],
    };
    let postgres = args
        .postgres_url
        .clone()
        .or_else(|| std::env::var("MMO_TEST_POSTGRES_URL").ok())
        .unwrap_or_else(|| DEFAULT_POSTGRES.to_owned());
    println!(
        "crash: seed {seed} ({} bots, saves every {} ms, SIGKILL {}-{} s into a {} s run); \
         again: --seed {seed}",
        args.bots, args.save_interval_ms, args.kill_after_min, args.kill_after_max, args.seconds
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut all_ok = true;
    let mut summary = Vec::new();
    for &engine in engines {
        for run_no in 1..=args.runs {
            let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let kill_at = args.kill_after_min + unit * (args.kill_after_max - args.kill_after_min);
            let bots_seed = rng.next_u64() >> 1;
            let setup = RunSetup {
                engine,
                run_no,
                kill_at: Duration::from_secs_f64(kill_at),
                bots_seed,
                postgres: &postgres,
                server_bin: &server_bin,
                bots_bin: &bots_bin,
            };
            println!(
                "\n=== {} run {run_no}/{}: kill at {kill_at:.2} s",
                engine.name(),
                args.runs
            );
            let report = one_run(args, &setup, &runtime)?;
            report.print();
            all_ok &= report.violations.is_empty();
            summary.push(report.one_line(engine, run_no));
        }
    }
    println!("\ncrash: summary (seed {seed})");
    for line in &summary {
        println!("  {line}");
    }
    println!(
        "crash: {}",
        if all_ok {
            "every acknowledged save survived every kill"
        } else {
            "VIOLATIONS (see above)"
        }
    );
    Ok(all_ok)
}

struct RunSetup<'a> {
    engine: Engine,
    run_no: u32,
    kill_at: Duration,
    bots_seed: u64,
    postgres: &'a str,
    server_bin: &'a Path,
    bots_bin: &'a Path,
}

/// The last save the server acknowledged for one character, from its log.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Ack {
    version: u64,
    map: String,
    channel: u16,
    x: i32,
    y: i32,
}

/// What one log says: the last acknowledged save per character id, how many
/// save lines it held, and the characters that entered the world (the server
/// places a character only once the store has answered its load, so each
/// one is known to be stored).
#[derive(Debug, Default)]
struct Acks {
    last: BTreeMap<u64, Ack>,
    entered: BTreeSet<u64>,
    lines: u64,
    /// Save lines that would not parse (a line cut by the kill).
    unreadable: u64,
}

#[derive(Debug, Default)]
struct RunReport {
    kill_after: f64,
    /// Acknowledged saves in the log before the kill, and in its last second.
    acks: Acks,
    acks_last_second: u64,
    /// After the restart.
    characters: usize,
    accounts: Option<i64>,
    exact: usize,
    newer: usize,
    never_acked: usize,
    never_acked_saved: usize,
    /// Bots with no character after the restart that never entered the world
    /// before the kill (a kill during the first logins): they create theirs
    /// on the second run.
    not_yet_created: usize,
    /// The bots' second run.
    created_again: usize,
    again_connected: usize,
    again_clean: bool,
    moved_on: usize,
    /// The clean stop after it.
    final_acks: u64,
    final_exact: usize,
    violations: Vec<String>,
    kept: Option<PathBuf>,
}

impl RunReport {
    fn print(&self) {
        println!(
            "  killed (SIGKILL) {:.2} s after the bots started: {} acknowledged saves in the log \
             ({} in its last second) of {} characters{}",
            self.kill_after,
            self.acks.lines,
            self.acks_last_second,
            self.acks.last.len(),
            if self.acks.unreadable > 0 {
                format!(", {} unreadable lines", self.acks.unreadable)
            } else {
                String::new()
            }
        );
        println!(
            "  after the restart: {} characters ({} had entered the world), {} accounts; of the {} \
             with an acknowledged save, {} stored exactly as last acknowledged, {} with a newer \
             commit; {} never acknowledged ({} of them saved anyway){}",
            self.characters,
            self.acks.entered.len(),
            self.accounts.map_or("?".into(), |a| a.to_string()),
            self.acks.last.len(),
            self.exact,
            self.newer,
            self.never_acked,
            self.never_acked_saved,
            if self.not_yet_created > 0 {
                format!(
                    "; {} bots had no character yet at the kill",
                    self.not_yet_created
                )
            } else {
                String::new()
            }
        );
        println!(
            "  played again: {} bots connected to the end{}, {} versions moved on, {} characters \
             created; clean stop: {} acknowledged saves, {} characters stored exactly as last \
             acknowledged",
            self.again_connected,
            if self.again_clean { "" } else { " (NOT clean)" },
            self.moved_on,
            self.created_again,
            self.final_acks,
            self.final_exact,
        );
        if self.violations.is_empty() {
            println!("  violations: 0");
        } else {
            println!("  VIOLATIONS: {}", self.violations.len());
            for v in self.violations.iter().take(30) {
                println!("    {v}");
            }
            if self.violations.len() > 30 {
                println!("    ... and {} more", self.violations.len() - 30);
            }
        }
        if let Some(dir) = &self.kept {
            println!("  kept: {}", dir.display());
        }
    }

    fn one_line(&self, engine: Engine, run_no: u32) -> String {
        format!(
            "{} run {run_no}: kill at {:.2} s, {} acks of {} characters; restart: {} characters, \
             {} exact, {} newer, {} never acked; again: {} connected, {} moved on, {} created; \
             {} violations",
            engine.name(),
            self.kill_after,
            self.acks.lines,
            self.acks.last.len(),
            self.characters,
            self.exact,
            self.newer,
            self.never_acked,
            self.again_connected,
            self.moved_on,
            self.created_again,
            self.violations.len()
        )
    }
}

/// One kill: a fresh data directory (and database), the server, the bots, the
/// kill, the restart, the checks. Cleans up after itself unless it failed.
fn one_run(
    args: &Args,
    setup: &RunSetup<'_>,
    runtime: &tokio::runtime::Runtime,
) -> Result<RunReport, String> {
    let tag = format!(
        "{}_{}_{}",
        std::process::id(),
        setup.engine.name(),
        setup.run_no
    );
    let dir = std::env::temp_dir().join(format!("mmo-crash-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let data = dir.join("data");
    // The server's store URL ("" = SQLite in the data directory, as by
    // default) and the URL this tool reads it from.
    let (server_url, read_url, database) = match setup.engine {
        Engine::Sqlite => (
            String::new(),
            format!("sqlite://{}", data.join("mmo.sqlite3").display()),
            None,
        ),
        Engine::Postgres => {
            let name = format!("mmo_crash_{tag}");
            let url = with_database(setup.postgres, &name)?;
            runtime.block_on(create_database(setup.postgres, &name))?;
            (url.clone(), url, Some(name))
        }
    };
    let outcome = checked_run(args, setup, runtime, &dir, &data, &server_url, &read_url);
    let keep = args.keep || outcome.as_ref().map_or(true, |r| !r.violations.is_empty());
    if let Some(name) = &database {
        if args.keep {
            println!("  database kept: {name}");
        } else if let Err(e) = runtime.block_on(drop_database(setup.postgres, name)) {
            eprintln!("crash: cannot drop database {name}: {e}");
        }
    }
    let mut report = outcome?;
    if keep {
        report.kept = Some(dir);
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(report)
}

fn checked_run(
    args: &Args,
    setup: &RunSetup<'_>,
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    data: &Path,
    server_url: &str,
    read_url: &str,
) -> Result<RunReport, String> {
    let mut report = RunReport::default();

    // 1-3. The server, the bots, the kill.
    let server = ServerSetup {
        bin: setup.server_bin,
        dir,
        data,
        store_url: server_url,
        save_interval_ms: args.save_interval_ms,
        log_filter: SERVER_LOG,
    };
    let bots = Bots {
        bin: setup.bots_bin,
        dir,
        count: args.bots,
        name_prefix: NAME_PREFIX,
        nice: args.bots_nice,
        extra: &[],
    };
    let first = Server::start(&server, "first")?;
    let first_bots = bots.start("bots-first", first.game, args.seconds, setup.bots_seed);
    let mut first_bots = match first_bots {
        Ok(b) => b,
        Err(e) => {
            first.stop();
            return Err(e);
        }
    };
    let started = Instant::now();
    let killed = kill_when_saving(
        &first,
        &mut first_bots,
        started,
        setup.kill_at,
        args.seconds,
    );
    report.kill_after = started.elapsed().as_secs_f64();
    let mut first = first;
    let _ = first.child.kill(); // SIGKILL
    let _ = first.child.wait();
    // Without --reconnect each bot gives up when its connection drops.
    wait_or_kill(&mut first_bots, Duration::from_secs(20));
    killed?;

    // 4. What the server acknowledged before it died.
    let log = std::fs::read_to_string(&first.log)
        .map_err(|e| format!("cannot read {}: {e}", first.log.display()))?;
    report.acks = parse_acks(&log);
    report.acks_last_second = count_recent_acks(&log);

    // 5. The restart on the same data.
    let second = Server::start(&server, "second")?;
    let outcome = (|| {
        // 6. Every character back, none doubled, none older than acknowledged.
        let (after_restart, accounts) = runtime.block_on(read_store(read_url))?;
        report.characters = after_restart.len();
        report.accounts = accounts;
        check_after_crash(args.bots, &after_restart, accounts, &mut report);

        // 7. The bots again: they find their characters and play on.
        let mut again = bots.start(
            "bots-again",
            second.game,
            args.again_seconds,
            setup.bots_seed ^ 1,
        )?;
        let status = wait_or_kill(&mut again, Duration::from_secs(args.again_seconds + 60));
        let bots_report = std::fs::read_to_string(dir.join("bots-again.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<LoadReport>(&t).ok());
        match &bots_report {
            Some(r) => {
                report.again_connected = r.connected_at_end;
                report.again_clean = r.clean() && r.connected_at_end == args.bots;
            }
            None => report
                .violations
                .push(format!("the bots' second run wrote no report ({status:?})")),
        }
        if !report.again_clean {
            report.violations.push(format!(
                "the bots could not all play again after the restart: {} of {} connected to the \
                 end (see bots-again.txt)",
                report.again_connected, args.bots
            ));
        }
        Ok::<_, String>(after_restart)
    })();
    let second_log = second.log.clone();
    let stopped = second.stop();
    let after_restart = outcome?;
    if !stopped {
        report
            .violations
            .push("the restarted server did not stop cleanly on SIGTERM within 10 s".into());
    }
    let (after_again, _) = runtime.block_on(read_store(read_url))?;
    let log = std::fs::read_to_string(&second_log)
        .map_err(|e| format!("cannot read {}: {e}", second_log.display()))?;
    let final_acks = parse_acks(&log);
    report.final_acks = final_acks.lines;
    check_after_again(&after_restart, &after_again, &final_acks, &mut report);
    Ok(report)
}

/// Waits for the kill moment, and for the first acknowledged save if there is
/// none yet; fails if the server or the bots die first.
fn kill_when_saving(
    server: &Server,
    bots: &mut Child,
    started: Instant,
    kill_at: Duration,
    seconds: u64,
) -> Result<(), String> {
    let give_up = started + Duration::from_secs(seconds);
    loop {
        std::thread::sleep(Duration::from_millis(20));
        if let Ok(Some(status)) = bots.try_wait() {
            return Err(format!(
                "mmo-bots exited before the kill ({status}); see its output in the run directory"
            ));
        }
        if started.elapsed() < kill_at {
            continue;
        }
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        if log.contains("character saved") {
            return Ok(());
        }
        if Instant::now() >= give_up {
            return Err(format!(
                "no acknowledged save in the server's log after {seconds} s ({})",
                server.log.display()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_save_line_with_or_without_colours() {
        let plain = "2026-12-06T05:40:00.123456Z DEBUG net_adapter::server::core_loop: \
                     character saved character=character#12 version=3 map=\"meadow\" channel=0 \
                     x=-1234 y=5678";
        let want = Ack {
            version: 3,
            map: "meadow".into(),
            channel: 0,
            x: -1234,
            y: 5678,
        };
        assert_eq!(parse_ack_line(plain), Some((12, want.clone())));
        let coloured = "\u{1b}[2m2026-12-06T05:40:00.123456Z\u{1b}[0m \u{1b}[34mDEBUG\u{1b}[0m \
                        character saved \u{1b}[3mcharacter\u{1b}[0m\u{1b}[2m=\u{1b}[0mcharacter#12 \
                        \u{1b}[3mversion\u{1b}[0m\u{1b}[2m=\u{1b}[0m3 map=\"meadow\" channel=0 \
                        x=-1234 y=5678";
        assert_eq!(parse_ack_line(coloured), Some((12, want)));
    }

    #[test]
    fn a_cut_line_is_unreadable_and_the_highest_version_wins() {
        let log = "T character saved character=character#1 version=2 map=\"m\" channel=1 x=1 y=1\n\
                   T character saved character=character#1 version=4 map=\"m\" channel=1 x=4 y=4\n\
                   T character saved character=character#1 version=3 map=\"m\" channel=1 x=3 y=3\n\
                   T character saved character=character#2 version=1 map=\"m\" chan";
        let acks = parse_acks(log);
        assert_eq!(acks.lines, 4);
        assert_eq!(acks.unreadable, 1);
        assert_eq!(acks.last[&1].version, 4);
        assert_eq!(acks.last[&1].x, 4);
        assert!(!acks.last.contains_key(&2));
    }

    #[test]
    fn recent_acks_are_counted_by_time_stamp() {
        let log = "2026-12-06T05:40:00.000Z character saved\n\
                   2026-12-06T05:40:01.500Z character saved\n\
                   2026-12-06T05:40:02.000Z character saved\n";
        assert_eq!(count_recent_acks(log), 2);
    }

    fn record(id: u64, account: u64, name: &str, version: u64, x: i32) -> CharacterRecord {
        use game_core::ids::{AccountId, CharacterId};
        use game_core::math::{Fixed, Vec2};
        use game_core::persist::{CharacterState, Place};
        CharacterRecord {
            id: CharacterId(id),
            account: AccountId(account),
            name: name.into(),
            version,
            state: CharacterState {
                place: Place {
                    map: "meadow".into(),
                    channel: 0,
                    pos: Vec2 {
                        x: Fixed::from_raw(x),
                        y: Fixed::from_raw(7),
                    },
                },
                level: 1,
                experience: 0,
            },
        }
    }

    fn ack(version: u64, x: i32) -> Ack {
        Ack {
            version,
            map: "meadow".into(),
            channel: 0,
            x,
            y: 7,
        }
    }

    #[test]
    fn the_checker_sees_a_lost_save_a_wrong_place_a_missing_and_a_doubled_character() {
        let mut report = RunReport::default();
        // crash0 as acknowledged; crash1 newer than acknowledged; crash2 never.
        report.acks.last.insert(1, ack(5, 10));
        report.acks.last.insert(2, ack(5, 20));
        let stored = [
            record(1, 1, "crash0", 5, 10),
            record(2, 2, "crash1", 6, 21),
            record(3, 3, "crash2", 0, 0),
        ];
        check_after_crash(4, &stored, Some(3), &mut report);
        assert!(report.violations.is_empty(), "{:?}", report.violations);
        assert_eq!((report.exact, report.newer, report.never_acked), (1, 1, 1));
        // crash3 never got to make its character before the kill.
        assert_eq!(report.not_yet_created, 1);

        let mut report = RunReport::default();
        report.acks.last.insert(1, ack(5, 10));
        report.acks.last.insert(2, ack(5, 20));
        report.acks.last.insert(9, ack(1, 0));
        report.acks.entered.extend([1, 2, 3, 5]);
        let stored = [
            record(1, 1, "crash0", 4, 10),  // older than acknowledged
            record(2, 2, "crash1", 5, 99),  // same version elsewhere
            record(3, 2, "crash1", 0, 0),   // a second crash1, same account
            record(4, 4, "stranger", 0, 0), // not a bot's
        ];
        check_after_crash(3, &stored, Some(5), &mut report);
        let v = report.violations.join("\n");
        for want in [
            "LOST: character#1",
            "WRONG PLACE: character#2",
            "LOST: character#9",
            "LOST: character#5 entered the world",
            "missing: 1 bots have no character though 4 characters entered",
            "doubled: 2 characters named \"crash1\"",
            "doubled: account#2 has 2 characters",
            "unexpected character \"stranger\"",
            "5 accounts stored for 3 bots",
        ] {
            assert!(v.contains(want), "{want:?} not in\n{v}");
        }
    }

    #[test]
    fn the_second_run_must_find_its_characters_and_move_them_on() {
        let before = [record(1, 1, "crash0", 5, 0), record(2, 2, "crash1", 5, 0)];
        let mut report = RunReport {
            not_yet_created: 1,
            ..RunReport::default()
        };
        let after = [
            record(1, 1, "crash0", 7, 0),
            record(2, 2, "crash1", 6, 0),
            record(3, 3, "crash2", 1, 0),
        ];
        check_after_again(&before, &after, &Acks::default(), &mut report);
        assert!(report.violations.is_empty(), "{:?}", report.violations);
        assert_eq!((report.moved_on, report.created_again), (2, 1));

        let after = [record(1, 1, "crash0", 5, 0), record(3, 2, "crash1", 1, 0)];
        let mut report = RunReport::default();
        check_after_again(&before, &after, &Acks::default(), &mut report);
        let v = report.violations.join("\n");
        assert!(v.contains("NEW character \"crash1\""), "{v}");
        assert!(v.contains("did not move on: character#1"), "{v}");
    }

    #[test]
    fn the_database_is_replaced_in_a_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x").unwrap(),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h", "x").unwrap(),
            "postgres://h/x"
        );
    }
}
