//! Durable small transactions per second (character saves, or economy
//! transactions with `--change economy`), with group commit beside one
//! transaction per commit, through the same `StoreHandle` and the same
//! concurrent submitters: only `max_batch` differs (N against 1). The
//! process's CPU time per transaction is printed beside (on a shared
//! machine the wall clock also counts waiting for a core).
//!
//! ```text
//! cargo run --release -p net-adapter --bin bench-store -- --engine all --seconds 5
//! cargo run --release -p net-adapter --bin bench-store -- --change economy
//! ```
//!
//! An economy transaction is what a purchase makes: one inventory (40
//! slots, five stacks, a worn item, the pass's three missions, a shop
//! purchase) from sequence number n to n + 1, and its receipt.
//!
//! SQLite writes to `--dir` (default `target/bench-store`, its file removed
//! after); PostgreSQL and MariaDB get a schema or database of their own at
//! `MMO_TEST_POSTGRES_URL` / `MMO_TEST_MYSQL_URL` (the test defaults),
//! dropped after.

use clap::{Parser, ValueEnum};
use game_core::content::ItemDefId;
use game_core::economy::{Inventory, ItemId, Receipt, ShopDay, Sink, Source, Stack};
use game_core::ids::{AccountId, CharacterId, IntentId};
use game_core::math::Vec2;
use game_core::persist::{AccountRef, Change, CharacterState, Intent, InventoryPart, Place, Reply};
use net_adapter::store::{Engine, Store, StoreHandle, SubmitError, WorkerConfig};
use sqlx::{Connection, Executor};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Which {
    Sqlite,
    Postgres,
    Mysql,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// `SaveCharacter`.
    Saves,
    /// `CommitTx`: one inventory's purchase.
    Economy,
}

#[derive(Parser, Debug)]
#[command(about = "Durable transactions per second: group commit against one per commit")]
struct Args {
    #[arg(long, value_enum, default_value = "sqlite")]
    engine: Which,
    /// What each transaction changes.
    #[arg(long, value_enum, default_value = "saves")]
    change: Kind,
    /// Seconds per mode per engine.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Saves in flight at once (concurrent submitters).
    #[arg(long, default_value_t = 2048)]
    submitters: usize,
    /// The group-commit worker's `max_batch`.
    #[arg(long, default_value_t = 2048)]
    max_batch: usize,
    /// Characters the saves go round.
    #[arg(long, default_value_t = 10_000)]
    characters: u64,
    /// Where the SQLite file goes.
    #[arg(long, default_value = "target/bench-store")]
    dir: std::path::PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let engines = match args.engine {
        Which::Sqlite => vec![Engine::Sqlite],
        Which::Postgres => vec![Engine::Postgres],
        Which::Mysql => vec![Engine::MySql],
        Which::All => vec![Engine::Sqlite, Engine::Postgres, Engine::MySql],
    };
    println!(
        "bench-store: {:?}, {} s per mode, {} submitters, max_batch {}, {} characters",
        args.change, args.seconds, args.submitters, args.max_batch, args.characters
    );
    let mut rows = Vec::new();
    for engine in engines {
        match runtime.block_on(bench_engine(engine, &args)) {
            Ok(row) => rows.push(row),
            Err(e) => {
                eprintln!("bench-store: {engine}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!();
    println!(
        "{:<9} {:>12} {:>11} {:>12} {:>10} {:>13} {:>11} {:>12} {:>10} {:>8}",
        "engine",
        "group tx/s",
        "mean batch",
        "mean commit",
        "cpu us/tx",
        "1-per-commit",
        "mean batch",
        "mean commit",
        "cpu us/tx",
        "ratio"
    );
    for r in &rows {
        println!(
            "{:<9} {:>12.0} {:>11.1} {:>9.2} ms {:>10.0} {:>13.0} {:>11.1} {:>9.2} ms {:>10.0} {:>7.1}x",
            r.engine.name(),
            r.group.tx_per_s,
            r.group.mean_batch,
            r.group.mean_commit_ms,
            r.group.cpu_us_per_tx,
            r.single.tx_per_s,
            r.single.mean_batch,
            r.single.mean_commit_ms,
            r.single.cpu_us_per_tx,
            r.group.tx_per_s / r.single.tx_per_s
        );
    }
    ExitCode::SUCCESS
}

struct Row {
    engine: Engine,
    group: Run,
    single: Run,
}

struct Run {
    tx_per_s: f64,
    mean_batch: f64,
    mean_commit_ms: f64,
    /// The process's CPU time (every thread) per transaction.
    cpu_us_per_tx: f64,
}

/// The process's CPU time so far.
fn cpu_time() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map_or(Duration::ZERO, Duration::from)
}

async fn bench_engine(engine: Engine, args: &Args) -> Result<Row, String> {
    let site = Site::create(engine, args).await?;
    let result = async {
        let store = Store::open(&site.url).await.map_err(|e| e.to_string())?;
        let durability = store.durability().await.map_err(|e| format!("{e:?}"))?;
        println!("{engine}: {durability}");
        populate(&store, args.characters).await?;
        let mut next_id = 1_000_000u64;
        let mut versions = vec![0u64; args.characters as usize];
        let group = run(&store, args, args.max_batch, &mut next_id, &mut versions).await?;
        print_run(engine, "group commit", &group);
        let single = run(&store, args, 1, &mut next_id, &mut versions).await?;
        print_run(engine, "one per commit", &single);
        store.close().await;
        Ok(Row {
            engine,
            group,
            single,
        })
    }
    .await;
    site.remove().await;
    result
}

fn print_run(engine: Engine, mode: &str, r: &Run) {
    println!(
        "{engine}: {mode:<15} {:>9.0} tx/s, mean batch {:.1}, mean commit {:.2} ms, {:.0} us CPU/tx",
        r.tx_per_s, r.mean_batch, r.mean_commit_ms, r.cpu_us_per_tx
    );
}

fn state(x: i32) -> CharacterState {
    CharacterState {
        place: Place {
            map: "meadow".into(),
            channel: 1,
            pos: Vec2::from_ints(x, -x),
        },
        level: 10,
        experience: x as u64,
    }
}

/// `count` characters, 200 to a development account.
async fn populate(store: &Store, count: u64) -> Result<(), String> {
    let accounts = count.div_ceil(200);
    let mut intents: Vec<Intent> = (1..=accounts)
        .map(|a| Intent {
            id: IntentId(a),
            change: Change::OpenAccount {
                account: AccountRef::Dev(format!("bench{a}")),
            },
        })
        .collect();
    intents.extend((0..count).map(|c| Intent {
        id: IntentId(accounts + 1 + c),
        change: Change::CreateCharacter {
            account: AccountId(1 + c / 200),
            name: format!("c{c}"),
            state: state(0),
            max_characters: 200,
        },
    }));
    for chunk in intents.chunks(1_000) {
        for o in store.apply_batch(chunk).await {
            if o.result.is_err() {
                return Err(format!("populating: {o:?}"));
            }
        }
    }
    Ok(())
}

/// Saves through a worker with `max_batch`, `args.submitters` in flight, for
/// `args.seconds`; counts the answered ones (each a committed transaction's
/// part, durable when answered).
async fn run(
    store: &Store,
    args: &Args,
    max_batch: usize,
    next_id: &mut u64,
    versions: &mut [u64],
) -> Result<Run, String> {
    let in_flight = args.submitters.max(1);
    let (tx, mut rx) = mpsc::channel(in_flight);
    let (handle, worker) = StoreHandle::spawn(
        store.clone(),
        WorkerConfig {
            queue_capacity: in_flight,
            max_batch,
        },
        tx,
    );
    let permits = Arc::new(Semaphore::new(in_flight));
    let answered = Arc::new(AtomicU64::new(0));
    let collector = {
        let permits = Arc::clone(&permits);
        let answered = Arc::clone(&answered);
        tokio::spawn(async move {
            let mut failed = 0u64;
            while let Some(outcome) = rx.recv().await {
                if outcome.result != Ok(Reply::Done) {
                    failed += 1;
                }
                answered.fetch_add(1, Ordering::Relaxed);
                permits.add_permits(1);
            }
            failed
        })
    };
    let start = Instant::now();
    let cpu_start = cpu_time();
    let deadline = start + Duration::from_secs(args.seconds);
    let mut submitted = 0u64;
    let mut c = 0usize;
    while Instant::now() < deadline {
        permits.acquire().await.map_err(|e| e.to_string())?.forget();
        c = (c + 1) % versions.len();
        versions[c] += 1;
        *next_id += 1;
        let character = CharacterId(c as u64 + 1);
        let change = match args.change {
            Kind::Saves => Change::SaveCharacter {
                character,
                version: versions[c],
                state: state(versions[c] as i32),
            },
            Kind::Economy => purchase(character, versions[c]),
        };
        let intent = Intent {
            id: IntentId(*next_id),
            change,
        };
        match handle.try_submit(intent) {
            Ok(()) => submitted += 1,
            Err(SubmitError::Full(_)) => return Err("queue full with a permit in hand".into()),
            Err(SubmitError::Closed(_)) => return Err("worker stopped".into()),
        }
    }
    let stats = Arc::clone(handle.stats());
    drop(handle);
    worker.await.map_err(|e| e.to_string())?;
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_time().saturating_sub(cpu_start).as_secs_f64();
    let failed = collector.await.map_err(|e| e.to_string())?;
    let done = answered.load(Ordering::Relaxed);
    if failed > 0 || done != submitted {
        return Err(format!(
            "{failed} saves failed, {done} of {submitted} answered"
        ));
    }
    let s = stats.snapshot();
    Ok(Run {
        tx_per_s: done as f64 / elapsed,
        mean_batch: s.intents as f64 / s.batches.max(1) as f64,
        mean_commit_ms: s.commit_us_total as f64 / s.batches.max(1) as f64 / 1_000.0,
        cpu_us_per_tx: cpu * 1e6 / done.max(1) as f64,
    })
}

/// The character's purchase that takes its inventory from `seq - 1` to
/// `seq`: ten gold to the shop for a potion, counted against the day.
fn purchase(character: CharacterId, seq: u64) -> Change {
    let stack = |n: u32, def: u16, count: u32, plus: u8| {
        Some(Stack {
            id: ItemId {
                minted_by: character,
                tx: 1,
                n,
            },
            def: ItemDefId(def),
            count,
            plus,
        })
    };
    let mut after = Inventory::new(40);
    after.seq = seq;
    after.gold = 1_000_000 - 10 * seq;
    after.slots[0] = stack(0, 9, 1 + (seq % 19) as u32, 0);
    after.slots[1] = stack(1, 10, 90, 0);
    after.slots[2] = stack(2, 0, 1, (seq % 5) as u8);
    after.slots[3] = stack(3, 4, 1, 0);
    after.slots[4] = stack(4, 9, 20, 0);
    after.equipped[0] = stack(5, 1, 1, 3);
    after.pass.progress = vec![0, (seq % 500) as u32, (seq % 3) as u32];
    after.shop = ShopDay {
        day: 20_000,
        bought: vec![(2, (seq % 20) as u32)],
    };
    Change::CommitTx {
        parts: vec![InventoryPart {
            character,
            before: seq - 1,
            after,
        }],
        receipt: Box::new(Receipt {
            minted: vec![(ItemDefId(9), 1, Source::Shop)],
            gold_out: vec![(10, Sink::Shop)],
            ..Receipt::default()
        }),
        grants: Vec::new(),
    }
}

/// Where one engine's benchmark runs, and how to remove it after.
struct Site {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Files(Vec<std::path::PathBuf>),
    Sql { admin: String, sql: String },
}

impl Site {
    async fn create(engine: Engine, args: &Args) -> Result<Site, String> {
        let name = format!("mmo_bench_{}", std::process::id());
        let env = |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.into());
        match engine {
            Engine::Sqlite => {
                let file = args.dir.join(format!("{name}.db"));
                let files = ["", "-wal", "-shm"]
                    .iter()
                    .map(|s| args.dir.join(format!("{name}.db{s}")))
                    .collect();
                Ok(Site {
                    url: format!("sqlite://{}", file.display()),
                    cleanup: Cleanup::Files(files),
                })
            }
            Engine::Postgres => {
                let admin = env(
                    "MMO_TEST_POSTGRES_URL",
                    "postgres://postgres@127.0.0.1:5432/test",
                );
                admin_exec(&admin, &format!("CREATE SCHEMA {name}")).await?;
                let sep = if admin.contains('?') { '&' } else { '?' };
                Ok(Site {
                    url: format!("{admin}{sep}options=-c%20search_path%3D{name}"),
                    cleanup: Cleanup::Sql {
                        admin,
                        sql: format!("DROP SCHEMA {name} CASCADE"),
                    },
                })
            }
            Engine::MySql => {
                let admin = env("MMO_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");
                admin_exec(&admin, &format!("CREATE DATABASE {name}")).await?;
                let base = admin.split('?').next().unwrap_or(&admin);
                let host_end = base
                    .find("://")
                    .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
                    .unwrap_or(base.len());
                Ok(Site {
                    url: format!("{}/{name}", &base[..host_end]),
                    cleanup: Cleanup::Sql {
                        admin,
                        sql: format!("DROP DATABASE {name}"),
                    },
                })
            }
        }
    }

    async fn remove(self) {
        match self.cleanup {
            Cleanup::Files(files) => {
                for f in files {
                    let _ = std::fs::remove_file(f);
                }
            }
            Cleanup::Sql { admin, sql } => {
                if let Err(e) = admin_exec(&admin, &sql).await {
                    eprintln!("bench-store: cleanup ({sql}) failed: {e}");
                }
            }
        }
    }
}

async fn admin_exec(url: &str, sql: &str) -> Result<(), String> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    conn.execute(sql).await.map_err(|e| e.to_string())?;
    conn.close().await.map_err(|e| e.to_string())
}
