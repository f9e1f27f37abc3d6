//! `mmo-server`: the game server on embedded defaults, a TOML file and flags.

use clap::Parser;
use net_adapter::config::ServerConfig;
use net_adapter::Metrics;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
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
    if let Err(e) = config.validate() {
        error!("{e}");
        return ExitCode::from(2);
    }
    // The open-file limit is raised, and connections capped below it, by
    // `serve_with_metrics` (it logs the cap).

    // The game loop runs on this thread (`block_on`); connections run on the
    // runtime's workers, a little below it.
    let io_nice = config.io_threads_nice;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(move || lower_this_thread(io_nice))
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
        let admin = if config.admin.enabled {
            match tokio::net::TcpListener::bind(config.admin.listen).await {
                Ok(l) => {
                    info!(admin = %config.admin.listen, "admin port: /metrics, /healthz");
                    Some(tokio::spawn(net_adapter::serve_admin(
                        l,
                        Arc::clone(&metrics),
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
        info!(
            listen = %config.listen,
            tick_hz = config.node.tick_hz,
            max_sessions = config.node.max_sessions,
            "mmo-server listening"
        );
        let served = net_adapter::serve_with_metrics(
            listener,
            config,
            os_seed(),
            shutdown_signal(),
            metrics,
        )
        .await;
        if let Some(admin) = admin {
            admin.abort();
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

/// Adds `by` to the calling thread's nice value (on Linux, nice is per thread).
fn lower_this_thread(by: i32) {
    if by == 0 {
        return;
    }
    let result = rustix::process::getpriority_process(None)
        .and_then(|nice| rustix::process::setpriority_process(None, (nice + by).min(19)));
    if let Err(e) = result {
        warn!("cannot lower an I/O thread's priority: {e}");
    }
}
