//! The server: one task owns the node; each connection has one task.
//!
//! Three parts, each in its own file:
//!
//! - [`admission`]: the accept loop and its caps (open sockets in total and
//!   per address), within what the open-file limit leaves ([`descriptors`]).
//! - [`refusal`]: telling a connection over a cap why, before the node ever
//!   hears of it.
//! - [`core_loop`]: the one task that owns the `Node` and drives it: events
//!   in, outputs out, timers, metrics refresh; with [`overruns`] (tick
//!   overrun warnings) and [`player_addresses`] (which address each kept
//!   character counts against).
//! - [`connection`]: one task per socket, moving bytes and nothing else.
//!
//! [`messages`] holds what they say to each other, and [`persistence`] where
//! the node's intents go (a SQL store's worker, or memory). This file wires
//! them together and runs the shutdown, which waits for the last saves.
//!
//! Bounds: connection events travel on a bounded channel (a full channel makes
//! connection tasks wait, and TCP flow control pushes back on clients); bytes
//! queued for a connection are bounded by the node's outbound limit, which counts
//! them until the core collects the connection task's written count (when its
//! timers run: every tick while anyone is in the world). Open sockets are capped
//! globally and per address in the accept loop: a connection over a cap is told
//! why in one small write and closed before the node ever hears of it. The
//! global cap is also held below the open-file limit ([`descriptors`]), so the
//! server always has a descriptor left to say `ServerFull` with.

mod admission;
mod connection;
mod core_loop;
mod descriptors;
mod messages;
mod overruns;
mod persistence;
mod player_addresses;
mod refusal;

pub use admission::RefusalStats;
pub use persistence::{Persistence, ServeOptions};

use crate::clock::AdapterClock;
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::transport::Listener;
use admission::{accept_loop, Admission};
use core_loop::{CoreLoop, LoopSettings};
use descriptors::SocketBudget;
use game_core::node::{Node, NodeStats};
use messages::{ReturnedBuffers, Stamped};
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What the server did, returned when it stops.
#[derive(Clone, Debug)]
pub struct ServerReport {
    pub stats: NodeStats,
    /// Connections refused by the accept loop, before any session existed.
    pub refused: RefusalStats,
    /// Connection tasks still running when the shutdown grace ran out.
    pub unfinished_connections: bool,
    /// Intents the store had not answered when the shutdown grace ran out
    /// (saves that may be lost); 0 on a clean stop.
    pub unanswered_intents: usize,
}

/// Runs the server on `listener` until `shutdown` completes, then tells every
/// client why and waits (up to the configured grace) for that to be written.
/// `seed` seeds the node's resume tokens; in production, pass OS entropy.
pub async fn serve<L: Listener>(
    listener: L,
    config: ServerConfig,
    seed: u64,
    shutdown: impl Future<Output = ()>,
) -> io::Result<ServerReport> {
    serve_with_metrics(listener, config, seed, shutdown, Arc::new(Metrics::new())).await
}

/// [`serve`], keeping `metrics` up to date (serve them with
/// [`crate::admin::serve_admin`]). Everything is kept in memory.
pub async fn serve_with_metrics<L: Listener>(
    listener: L,
    config: ServerConfig,
    seed: u64,
    shutdown: impl Future<Output = ()>,
    metrics: Arc<Metrics>,
) -> io::Result<ServerReport> {
    let options = ServeOptions::default();
    serve_with(listener, config, seed, shutdown, metrics, options).await
}

/// [`serve_with_metrics`] on the store and with the token key `options` give.
pub async fn serve_with<L: Listener>(
    listener: L,
    config: ServerConfig,
    seed: u64,
    shutdown: impl Future<Output = ()>,
    metrics: Arc<Metrics>,
    options: ServeOptions,
) -> io::Result<ServerReport> {
    config
        .validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let maps = config
        .load_maps()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let content = config
        .load_content(&maps)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut node = Node::with_content(config.node_config(), seed, maps, Arc::new(content))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let clock = AdapterClock::start();
    // The shop's daily limits count days of the wall clock (UTC).
    node.set_wall_clock(clock.unix_ms_at_zero());
    if let Some(key) = options.tokens {
        node.accept_tokens(key, clock.unix_ms_at_zero(), clock.now());
    }
    if let Persistence::Store { handle, .. } = &options.persistence {
        metrics.attach_store(Arc::clone(handle.stats()), handle.queue_capacity());
    }
    let mut operator = options.operator;
    let (backend, mut outcomes) = persistence::Backend::new(options.persistence);
    let (events_tx, mut events) = mpsc::channel::<Stamped>(config.event_queue);
    // Every connection task holds a clone; when all are gone, `recv` returns None.
    let (alive_tx, mut alive) = mpsc::channel::<()>(1);
    let linger = Duration::from_millis(config.close_linger_ms);
    let returned = Arc::new(ReturnedBuffers::default());
    // Past the open-file limit, accept fails and nobody is told anything:
    // admission refuses (`ServerFull`) well before it.
    let budget = if L::USES_FILE_DESCRIPTORS {
        SocketBudget::from_process(config.max_connections)
    } else {
        SocketBudget::of(None, config.max_connections)
    };
    metrics.set_connection_cap(budget.connections);
    let admission = Arc::new(Admission::new(&config, budget));
    let accept = tokio::spawn(accept_loop(
        listener,
        clock,
        events_tx,
        alive_tx,
        Arc::clone(&returned),
        admission.clone(),
        Arc::clone(&metrics),
    ));
    let mut core = CoreLoop::new(
        node,
        backend,
        clock,
        returned,
        Arc::clone(&admission),
        metrics,
        linger,
    );
    let settings = LoopSettings {
        status_interval_s: config.status_interval_s,
        event_queue: config.event_queue,
    };
    core.run(
        &mut events,
        &mut outcomes,
        &mut operator,
        &settings,
        shutdown,
    )
    .await;

    accept.abort();
    // The goodbyes' linger (for peers that have not closed) ends well inside the
    // grace, so a peer that holds its socket open cannot outlast the shutdown.
    let grace = Duration::from_millis(config.shutdown_grace_ms);
    core.shut_down(linger.min(grace / 2));
    drop(events);
    let finished = tokio::time::timeout(grace, alive.recv()).await.is_ok();
    // Every player was just removed and saved: wait for the store's answers.
    let unanswered = core.finish_saves(&mut outcomes, grace).await;
    if unanswered > 0 {
        tracing::warn!(unanswered, "stopped before the store answered every save");
    }
    core.backend.release_store();
    core.log_status();
    Ok(ServerReport {
        stats: core.node.stats().clone(),
        refused: admission.stats(),
        unfinished_connections: !finished,
        unanswered_intents: unanswered,
    })
}
