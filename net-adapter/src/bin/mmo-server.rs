//! `mmo-server`: the game server on embedded defaults, a TOML file and flags.

use clap::Parser;
use game_core::persist::MemoryStore;
use net_adapter::config::ServerConfig;
use net_adapter::login::{self, AccountStore, LoginState};
use net_adapter::priority::{set_this_thread_nice, this_thread_nice};
use net_adapter::server::{Persistence, ServeOptions};
use net_adapter::store::{Store, StoreHandle, WorkerConfig};
use net_adapter::Metrics;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::Mutex;
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

#[derive(Parser, Debug)]
#[command(
    name = "mmo-server",
    version,
    about = "Deterministic-core MMO game server"
)]
struct Args {
    /// Address of the game port (default 127.0.0.1:7777).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Simulation ticks per second (default 20).
    #[arg(long)]
    tick_hz: Option<u16>,
    /// A TOML config file; flags override its values.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address of the admin port: /metrics and /healthz (default 127.0.0.1:9100).
    #[arg(long)]
    admin_listen: Option<SocketAddr>,
    /// Serve no admin port.
    #[arg(long)]
    no_admin: bool,
    /// Where the server keeps its data: the SQLite database and the login
    /// keys (default ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The store: `sqlite://path`, `postgres://...`, `mysql://...` or
    /// `memory` (default: SQLite in the data directory).
    #[arg(long)]
    store_url: Option<String>,
    /// Address of the login service's HTTP API (default 127.0.0.1:7780).
    #[arg(long)]
    login_listen: Option<SocketAddr>,
    /// A directory of content files: skills.toml, monsters.toml,
    /// levels.toml, rules.toml, items.toml, shop.toml, enhance.toml,
    /// pass.toml, raids.toml, <map>.spawns.toml (default: the sample
    /// content compiled in).
    #[arg(long)]
    content_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => match ServerConfig::load(path) {
            Ok(c) => c,
            Err(e) => {
                error!("{e}");
                return ExitCode::from(2);
            }
        },
        None => ServerConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(hz) = args.tick_hz {
        config.node.tick_hz = hz;
    }
    if let Some(admin) = args.admin_listen {
        config.admin.listen = admin;
    }
    if args.no_admin {
        config.admin.enabled = false;
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if let Some(url) = args.store_url {
        config.store.url = url;
    }
    if let Some(listen) = args.login_listen {
        config.login.listen = listen;
    }
    if let Some(dir) = args.content_dir {
        config.content_dir = dir;
    }
    if let Err(e) = config.validate() {
        error!("{e}");
        return ExitCode::from(2);
    }
    // The maps and the content are the operator's too: refused before
    // anything starts (`serve_with` loads them again for the node).
    match config
        .load_maps()
        .and_then(|maps| config.load_content(&maps))
    {
        Ok(content) if !config.content_dir.as_os_str().is_empty() => info!(
            dir = %config.content_dir.display(),
            skills = content.skills.len(),
            monsters = content.monsters.len(),
            maps_with_spawns = content.maps.len(),
            "content loaded"
        ),
        Ok(_) => {}
        Err(e) => {
            error!("{e}");
            return ExitCode::from(2);
        }
    }
    // The open-file limit is raised, and connections capped below it, by
    // `serve_with_metrics` (it logs the cap).

    // The game loop runs on this thread (`block_on`); connections run on the
    // runtime's workers, a little below it.
    let io_nice = config.io_threads_nice;
    // The nice every runtime thread gets: this (the game loop's) thread's,
    // plus `io_nice`. Set, not added: a blocking thread is started by a
    // worker already lowered, and adding made Argon2's threads nice 10 (the
    // login storm starved of CPU on a busy host: 1.3-3.5 logins/s).
    let base_nice = this_thread_nice();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(move || set_this_thread_nice(base_nice + io_nice))
        // Each Argon2 hash takes 19 MiB, which the allocator keeps on the
        // blocking thread that ran it: with tokio's default of up to 512
        // such threads, a login storm left 0.46-1.07 GB resident. Few
        // threads bound that (hashing runs `max_hash_concurrency` at once).
        .max_blocking_threads(8)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(config.listen).await {
            Ok(l) => l,
            Err(e) => {
                error!("cannot listen on {}: {e}", config.listen);
                return ExitCode::FAILURE;
            }
        };
        let metrics = Arc::new(Metrics::new());
        let (commands, operator) = tokio::sync::mpsc::channel(net_adapter::admin::OPERATOR_QUEUE);
        let admin = if config.admin.enabled {
            match tokio::net::TcpListener::bind(config.admin.listen).await {
                Ok(l) => {
                    info!(
                        admin = %config.admin.listen,
                        "admin port: GET /metrics, GET /healthz, POST /commands"
                    );
                    Some(tokio::spawn(net_adapter::serve_admin(
                        l,
                        Arc::clone(&metrics),
                        Some(commands),
                    )))
                }
                Err(e) => {
                    error!(
                        "cannot listen on the admin port {}: {e}",
                        config.admin.listen
                    );
                    return ExitCode::FAILURE;
                }
            }
        } else {
            None
        };
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        let until_stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|&s| s).await;
        };
        let (persistence, accounts, worker) = match open_store(&config).await {
            Ok(opened) => opened,
            Err(e) => {
                error!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let (tokens, login_task) = if config.login.serve {
            let (key_path, pub_path) = config.login.key_paths(&config.data_dir);
            let key = match login::load_or_create_keys(&key_path, &pub_path) {
                Ok(key) => key,
                Err(e) => {
                    error!("{e}");
                    return ExitCode::FAILURE;
                }
            };
            let state = match LoginState::new(config.login.clone(), accounts, key) {
                Ok(state) => state,
                Err(e) => {
                    error!("{e}");
                    return ExitCode::FAILURE;
                }
            };
            metrics.attach_login(state.metrics());
            let tokens = state.verifying_key();
            let login_listener = match tokio::net::TcpListener::bind(config.login.listen).await {
                Ok(l) => l,
                Err(e) => {
                    error!(
                        "cannot listen on the login port {}: {e}",
                        config.login.listen
                    );
                    return ExitCode::FAILURE;
                }
            };
            let task = tokio::spawn(login::serve(
                login_listener,
                state,
                until_stopped(stopped.clone()),
            ));
            (Some(tokens), Some(task))
        } else {
            // The login service runs elsewhere: only its public key is here.
            let (_, pub_path) = config.login.key_paths(&config.data_dir);
            match login::load_verifying_key(&pub_path) {
                Ok(key) => (Some(key), None),
                Err(e) => {
                    error!("{e}");
                    return ExitCode::FAILURE;
                }
            }
        };
        if config.login.dev_login {
            warn!(
                "DEVELOPMENT LOGINS ARE ON: anyone may log in as any name with no password. \
                 Set `[login] dev_login = false` for a real server."
            );
        }
        info!(
            listen = %config.listen,
            login = %config.login.listen,
            login_served = config.login.serve,
            tick_hz = config.node.tick_hz,
            max_sessions = config.node.max_sessions,
            "mmo-server listening"
        );
        let options = ServeOptions {
            persistence,
            tokens,
            operator: Some(operator),
        };
        let served = net_adapter::server::serve_with(
            listener,
            config,
            os_seed(),
            until_stopped(stopped),
            metrics,
            options,
        )
        .await;
        if let Some(admin) = admin {
            admin.abort();
        }
        if let Some(task) = login_task {
            let _ = task.await;
        }
        if let Some(worker) = worker {
            // The node let go of the store: the worker commits what is
            // queued, then stops.
            let _ = worker.await;
        }
        match served {
            Ok(report) => {
                info!(disconnects = ?report.stats.disconnects, "stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                error!("server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Opens the configured store: the node's persistence, the login service's
/// accounts (the same store), and the store worker's task to wait for.
async fn open_store(
    config: &ServerConfig,
) -> Result<
    (
        Persistence,
        Arc<dyn AccountStore>,
        Option<tokio::task::JoinHandle<()>>,
    ),
    String,
> {
    let url = config.store_url();
    if url == "memory" {
        warn!("store in memory: nothing is kept when the server stops");
        let memory = Arc::new(Mutex::new(MemoryStore::default()));
        let accounts: Arc<dyn AccountStore> = memory.clone();
        return Ok((Persistence::Memory(memory), accounts, None));
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", config.data_dir.display()))?;
    let store = Store::open(&url).await.map_err(|e| e.to_string())?;
    match store.durability().await {
        Ok(durability) => info!(engine = store.engine().name(), %durability, "store open"),
        Err(e) => warn!("store open; its durability is unknown: {e:?}"),
    }
    let accounts: Arc<dyn AccountStore> = Arc::new(store.clone());
    // The queue holds what the node may have pending, so it never refuses.
    let worker_config = WorkerConfig {
        queue_capacity: config.node.max_pending_intents as usize,
        max_batch: config.store.max_batch,
    };
    let (outcomes_tx, outcomes) = mpsc::channel(worker_config.queue_capacity);
    let (handle, worker) = StoreHandle::spawn(store, worker_config, outcomes_tx);
    Ok((
        Persistence::Store { handle, outcomes },
        accounts,
        Some(worker),
    ))
}

/// Seeds resume tokens from OS entropy, so they cannot be predicted across runs.
fn os_seed() -> u64 {
    getrandom::u64().unwrap_or_else(|e| {
        warn!("no OS entropy ({e}); resume tokens fall back to a time-based seed");
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("Ctrl-C received"),
        _ = term => info!("SIGTERM received"),
    }
}
