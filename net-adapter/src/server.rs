//! The server loop: one task owns the node; each connection has one task.
//!
//! Phases of the core loop, in order: wait for the first of (shutdown, node
//! deadline, status and metrics timers, connection event), timers first; apply
//! that event and up to 1,024 others already queued; drain the node's outputs,
//! so all messages for one connection produced in this pass leave in one write.
//! The node is the only writer of game state; connection tasks only move bytes.
//!
//! Bounds: connection events travel on a bounded channel (a full channel makes
//! connection tasks wait, and TCP flow control pushes back on clients); bytes
//! queued for a connection are bounded by the node's outbound limit, which counts
//! them until the core collects the connection task's written count (when its
//! timers run: every tick while anyone is in the world). Open sockets are capped
//! globally and per address in the accept loop ([`Admission`]): a connection
//! over a cap is told why in one small write and closed before the node ever
//! hears of it.

use crate::clock::AdapterClock;
use crate::config::ServerConfig;
use crate::metrics::{Metrics, ZoneTimer};
use crate::transport::Listener;
use game_core::ids::ConnId;
use game_core::node::{InProcess, Node, NodeEvent, NodeStats, Output};
use game_core::protocol::{
    encode_frame, DisconnectReason, ServerMsg, ServerSession, MAX_SERVER_PAYLOAD,
};
use game_core::time::Instant;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 4096;
/// Events applied to the node before its outputs are drained.
const MAX_BATCH: usize = 1024;
/// How often the core loop copies the node's counters into the metrics.
const METRICS_EVERY: Duration = Duration::from_millis(500);
/// At most one tick-overrun warning per this long; the rest are summed into it.
const OVERRUN_LOG_EVERY: Duration = Duration::from_secs(10);
/// Written buffers waiting to go back to the node for reuse; more are dropped.
const MAX_RETURNED_BUFFERS: usize = 4096;

/// Refusals of a connection over a cap may each take this long to write.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Refusals being written at once; past this, a refused socket is just closed.
const MAX_REFUSALS_IN_FLIGHT: usize = 256;

/// What the server did, returned when it stops.
#[derive(Clone, Debug)]
pub struct ServerReport {
    pub stats: NodeStats,
    /// Connections refused by the accept loop, before any session existed.
    pub refused: RefusalStats,
    /// Connection tasks still running when the shutdown grace ran out.
    pub unfinished_connections: bool,
}

/// Connections refused by the accept loop's caps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefusalStats {
    /// Over `max_connections`: told `ServerFull`.
    pub server_full: u64,
    /// Over `max_connections_per_address`: told `TooManyConnections`.
    pub per_address: u64,
    /// Refused without being told, because too many refusals were in flight.
    pub silent: u64,
}

/// The accept loop's admission control: open sockets, in total and per address.
/// A [`Ticket`] holds one place and gives it back when dropped (the connection
/// task's end, lingering included).
struct Admission {
    max_total: u32,
    max_per_address: u32,
    exempt: Vec<IpAddr>,
    open: Mutex<OpenSockets>,
    server_full: AtomicU64,
    per_address: AtomicU64,
    silent: AtomicU64,
}

#[derive(Default)]
struct OpenSockets {
    total: u32,
    by_address: HashMap<IpAddr, u32>,
}

struct Ticket {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Admission {
    fn new(config: &ServerConfig) -> Self {
        Admission {
            max_total: config.max_connections,
            max_per_address: config.max_connections_per_address,
            exempt: config.per_address_exempt.clone(),
            open: Mutex::new(OpenSockets::default()),
            server_full: AtomicU64::new(0),
            per_address: AtomicU64::new(0),
            silent: AtomicU64::new(0),
        }
    }

    /// A place for a socket from `ip`, or the reason it gets none.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Ticket, DisconnectReason> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            self.server_full.fetch_add(1, Ordering::Relaxed);
            return Err(DisconnectReason::ServerFull);
        }
        let from_ip = open.by_address.get(&ip).copied().unwrap_or(0);
        if from_ip >= self.max_per_address && !self.exempt.contains(&ip) {
            self.per_address.fetch_add(1, Ordering::Relaxed);
            return Err(DisconnectReason::TooManyConnections);
        }
        open.total += 1;
        *open.by_address.entry(ip).or_default() += 1;
        Ok(Ticket {
            admission: self.clone(),
            ip,
        })
    }

    fn stats(&self) -> RefusalStats {
        RefusalStats {
            server_full: self.server_full.load(Ordering::Relaxed),
            per_address: self.per_address.load(Ordering::Relaxed),
            silent: self.silent.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self
            .admission
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(n) = open.by_address.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.ip);
            }
        }
    }
}

/// What a connection task saw, and when (the adapter clock when it saw it):
/// the node judges inputs by when they arrived, not by when the core got to
/// them, so a backlog in the core does not squeeze a client's moves together.
type Stamped = (Instant, Event);

enum Event {
    Opened {
        conn: ConnId,
        peer: SocketAddr,
        commands: mpsc::UnboundedSender<Command>,
        kill: oneshot::Sender<()>,
        written: Arc<Written>,
    },
    Bytes {
        conn: ConnId,
        data: Vec<u8>,
    },
    /// The peer closed, or reading or writing failed.
    Lost {
        conn: ConnId,
    },
}

/// What connection tasks have written, collected by the core loop when its
/// timers run (at least every tick while anyone is in the world) rather than
/// sent as one event per write: at 5,000 players that was 100,000 events a
/// second through the queue that also carries their inputs.
#[derive(Debug, Default)]
struct Written {
    /// Bytes written since the core last collected, per connection.
    bytes: AtomicUsize,
}

/// Written buffers on their way back to the node for reuse, bounded.
#[derive(Debug, Default)]
struct ReturnedBuffers(Mutex<Vec<Vec<u8>>>);

impl ReturnedBuffers {
    fn give(&self, buffer: Vec<u8>) {
        if let Ok(mut pool) = self.0.lock() {
            if pool.len() < MAX_RETURNED_BUFFERS {
                pool.push(buffer);
            }
        }
    }

    fn take_all(&self, into: &mut Vec<Vec<u8>>) {
        if let Ok(mut pool) = self.0.lock() {
            into.append(&mut pool);
        }
    }
}

enum Command {
    Write(Vec<u8>),
    /// Write nothing more; shut the socket down.
    Close,
}

struct ConnHandle {
    peer: SocketAddr,
    written: Arc<Written>,
    commands: mpsc::UnboundedSender<Command>,
    /// Dropping it ends the connection task at once.
    kill: oneshot::Sender<()>,
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
/// [`crate::admin::serve_admin`]).
pub async fn serve_with_metrics<L: Listener>(
    listener: L,
    config: ServerConfig,
    seed: u64,
    shutdown: impl Future<Output = ()>,
    metrics: Arc<Metrics>,
) -> io::Result<ServerReport> {
    config
        .validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let maps = config
        .load_maps()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut node = Node::with_maps(config.node.clone(), seed, maps)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let clock = AdapterClock::start();
    let (events_tx, mut events) = mpsc::channel::<Stamped>(config.event_queue);
    // The node's clock only goes forward: events carry the time they happened,
    // which can be a little behind a time the node was already given.
    let mut node_now = NodeClock::default();
    // The store and the bus, in process, until the SQL stores and Redis arrive.
    let mut in_process = InProcess::default();
    // Every connection task holds a clone; when all are gone, `recv` returns None.
    let (alive_tx, mut alive) = mpsc::channel::<()>(1);
    let linger = Duration::from_millis(config.close_linger_ms);
    let returned = Arc::new(ReturnedBuffers::default());
    let admission = Arc::new(Admission::new(&config));
    let accept = tokio::spawn(accept_loop(
        listener,
        clock,
        events_tx,
        alive_tx,
        Arc::clone(&returned),
        admission.clone(),
    ));
    let mut buffers = Vec::new();
    let mut conns: HashMap<ConnId, ConnHandle> = HashMap::new();
    let status_every = Duration::from_secs(config.status_interval_s.max(1));
    let mut next_status = tokio::time::Instant::now() + status_every;
    let mut next_metrics = tokio::time::Instant::now();
    let mut zone_timer = ZoneTimer::default();
    let mut overruns = OverrunWatch::default();
    let mut queue_max = 0usize;
    tokio::pin!(shutdown);

    loop {
        let deadline = node.poll_timeout().map(|at| clock.deadline(at));
        // Timers before connection events: under a flood of events a tick
        // still starts on time (events still queued are applied after it, at
        // its time: the node's clock never goes back), and the metrics keep
        // being refreshed.
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            _ = sleep_until_some(deadline) => {
                collect_written(&mut node, &conns, &returned, &mut buffers);
                node.handle_timeout_observed(node_now.at(clock.now()), &mut zone_timer);
                overruns.after_timers(node.stats(), zone_timer.slowest());
                metrics.observe_ticks(&node, &mut zone_timer);
            }
            _ = tokio::time::sleep_until(next_status) => {
                next_status += status_every;
                if config.status_interval_s > 0 {
                    log_status(&node, &admission);
                }
            }
            _ = tokio::time::sleep_until(next_metrics) => {
                next_metrics += METRICS_EVERY;
                collect_written(&mut node, &conns, &returned, &mut buffers);
                let queue = (events.len(), queue_max, config.event_queue);
                metrics.refresh(&node, queue, overruns.streak_max);
                queue_max = 0;
            }
            event = events.recv() => {
                let Some(event) = event else { break };
                queue_max = queue_max.max(events.len() + 1);
                apply(&mut node, &mut node_now, &mut conns, event);
                for _ in 0..MAX_BATCH {
                    match events.try_recv() {
                        Ok(event) => apply(&mut node, &mut node_now, &mut conns, event),
                        Err(_) => break,
                    }
                }
            }
        }
        let now = node_now.at(clock.now());
        drain(&mut node, &mut in_process, now, &mut conns, linger);
    }

    info!("shutting down: telling {} clients", node.session_count());
    accept.abort();
    node.shutdown(node_now.at(clock.now()));
    // The goodbyes' linger (for peers that have not closed) ends well inside the
    // grace, so a peer that holds its socket open cannot outlast the shutdown.
    let grace = Duration::from_millis(config.shutdown_grace_ms);
    let now = node_now.at(clock.now());
    drain(
        &mut node,
        &mut in_process,
        now,
        &mut conns,
        linger.min(grace / 2),
    );
    drop(events);
    let finished = tokio::time::timeout(grace, alive.recv()).await.is_ok();
    log_status(&node, &admission);
    Ok(ServerReport {
        stats: node.stats().clone(),
        refused: admission.stats(),
        unfinished_connections: !finished,
    })
}

/// Follows the node's overrun counter tick by tick: the longest streak of
/// consecutive overruns, and a warning at most every [`OVERRUN_LOG_EVERY`].
#[derive(Debug, Default)]
struct OverrunWatch {
    ticks: u64,
    overruns: u64,
    streak: u64,
    streak_max: u64,
    /// Overruns not yet logged, the slowest zone tick among them, and when the
    /// last warning went out.
    unlogged: u64,
    slowest: Duration,
    logged_at: Option<tokio::time::Instant>,
}

impl OverrunWatch {
    fn after_timers(&mut self, stats: &NodeStats, slowest_zone: Option<Duration>) {
        if stats.ticks == self.ticks {
            return;
        }
        let new = stats.tick_overruns - self.overruns;
        self.ticks = stats.ticks;
        self.overruns = stats.tick_overruns;
        if new == 0 {
            self.streak = 0;
        } else {
            self.streak += new;
            self.streak_max = self.streak_max.max(self.streak);
            self.unlogged += new;
            self.slowest = self.slowest.max(slowest_zone.unwrap_or_default());
        }
        let now = tokio::time::Instant::now();
        let due = self
            .logged_at
            .is_none_or(|at| now.duration_since(at) >= OVERRUN_LOG_EVERY);
        if self.unlogged > 0 && due {
            warn!(
                overruns = self.unlogged,
                total = self.overruns,
                streak = self.streak,
                longest_streak = self.streak_max,
                slowest_zone_tick_ms = self.slowest.as_secs_f64() * 1000.0,
                "ticks started more than a period late (missed ticks skipped)"
            );
            self.unlogged = 0;
            self.slowest = Duration::ZERO;
            self.logged_at = Some(now);
        }
    }
}

async fn sleep_until_some(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The time given to the node: the latest of every time it was given.
#[derive(Debug, Default)]
struct NodeClock(Instant);

impl NodeClock {
    fn at(&mut self, t: Instant) -> Instant {
        self.0 = self.0.max(t);
        self.0
    }
}

fn apply(
    node: &mut Node,
    node_now: &mut NodeClock,
    conns: &mut HashMap<ConnId, ConnHandle>,
    (at, event): Stamped,
) {
    let now = node_now.at(at);
    match event {
        Event::Opened {
            conn,
            peer,
            commands,
            kill,
            written,
        } => {
            debug!(%conn, %peer, "connection opened");
            conns.insert(
                conn,
                ConnHandle {
                    peer,
                    written,
                    commands,
                    kill,
                },
            );
            node.handle_connect(now, conn);
        }
        Event::Bytes { conn, data } => node.handle_bytes(now, conn, &data),
        Event::Lost { conn } => node.handle_disconnect(now, conn),
    }
}

fn drain(
    node: &mut Node,
    in_process: &mut InProcess,
    now: Instant,
    conns: &mut HashMap<ConnId, ConnHandle>,
    linger: Duration,
) {
    while let Some(output) = node.poll_output() {
        let Some(output) = in_process.serve(node, now, output) else {
            continue;
        };
        match output {
            Output::Transmit { conn, bytes } => {
                if let Some(handle) = conns.get(&conn) {
                    // A send error means the task has ended; its `Lost` event is queued.
                    let _ = handle.commands.send(Command::Write(bytes));
                }
            }
            Output::Close { conn, reason } => {
                if let Some(handle) = conns.remove(&conn) {
                    debug!(%conn, peer = %handle.peer, %reason, "connection closed");
                    let _ = handle.commands.send(Command::Close);
                    // A client that stopped reading may never take the last bytes:
                    // after the linger, the task is ended regardless.
                    let kill = handle.kill;
                    tokio::spawn(async move {
                        tokio::time::sleep(linger).await;
                        drop(kill);
                    });
                }
            }
            Output::Event(event) => log_event(&event),
            // Served in process above.
            Output::Persist(_) | Output::Publish(_) | Output::Subscribe(_) => {}
        }
    }
}

fn log_event(event: &NodeEvent) {
    match event {
        NodeEvent::LoggedIn { conn, player, name } => debug!(%conn, %player, name, "logged in"),
        NodeEvent::Resumed { conn, player } => debug!(%conn, %player, "resumed"),
        NodeEvent::EnteredWorld { player } => debug!(%player, "entered world"),
        NodeEvent::Detached { player, reason } => {
            debug!(%player, %reason, "connection lost, player kept for resume")
        }
        NodeEvent::PlayerLeft { player, reason } => debug!(%player, %reason, "player left"),
    }
}

fn log_status(node: &Node, admission: &Admission) {
    let s = node.stats();
    let refused = admission.stats();
    info!(
        sessions = node.session_count(),
        players = node.player_count(),
        connections_opened = s.connections_opened,
        logins = s.logins,
        resumes = s.resumes,
        bytes_in = s.bytes_in,
        bytes_out = s.bytes_out,
        disconnects = ?s.disconnects,
        refused_server_full = refused.server_full,
        refused_per_address = refused.per_address,
        refused_silently = refused.silent,
        "status"
    );
}

/// Tells the node what each connection has written since the last call, and
/// hands it back the written buffers for reuse.
fn collect_written(
    node: &mut Node,
    conns: &HashMap<ConnId, ConnHandle>,
    returned: &ReturnedBuffers,
    buffers: &mut Vec<Vec<u8>>,
) {
    for (&conn, handle) in conns {
        let n = handle.written.bytes.swap(0, Ordering::Relaxed);
        if n > 0 {
            node.handle_flushed(conn, n);
        }
    }
    returned.take_all(buffers);
    for buffer in buffers.drain(..) {
        node.recycle(buffer);
    }
}

async fn accept_loop<L: Listener>(
    listener: L,
    clock: AdapterClock,
    events: mpsc::Sender<Stamped>,
    alive: mpsc::Sender<()>,
    returned: Arc<ReturnedBuffers>,
    admission: Arc<Admission>,
) {
    let refusals = Arc::new(tokio::sync::Semaphore::new(MAX_REFUSALS_IN_FLIGHT));
    let mut next_id = 0u64;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, or a connection reset before accept:
                // back off briefly rather than spin.
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let ticket = match admission.admit(peer.ip()) {
            Ok(ticket) => ticket,
            Err(reason) => {
                debug!(%peer, %reason, "connection refused");
                refuse(stream, reason, &refusals, &admission);
                continue;
            }
        };
        next_id += 1;
        let conn = ConnId(next_id);
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (kill_tx, kill) = oneshot::channel();
        // `Opened` is queued before the task can queue any bytes for this conn.
        let written = Arc::new(Written::default());
        let opened = Event::Opened {
            conn,
            peer,
            commands: commands_tx,
            kill: kill_tx,
            written: Arc::clone(&written),
        };
        if events.send((clock.now(), opened)).await.is_err() {
            return;
        }
        let events = events.clone();
        let alive = alive.clone();
        let returned = Arc::clone(&returned);
        tokio::spawn(async move {
            tokio::select! {
                biased;
                _ = kill => {}
                _ = connection(conn, stream, clock, events, commands, written, returned) => {}
            }
            drop(ticket);
            drop(alive);
        });
    }
}

/// Tells a connection over a cap why, in one frame, and closes it. The write
/// (and the reading that follows it) is bounded in time and in how many run at
/// once; past that bound the socket is closed without a word, so a flood of
/// connects costs the server nothing that grows. What the client sent is read
/// and dropped until it closes: closing over unread input would reset the
/// connection and could discard the reason before the client reads it.
fn refuse<S: AsyncRead + AsyncWrite + Send + Unpin + 'static>(
    mut stream: S,
    reason: DisconnectReason,
    refusals: &Arc<tokio::sync::Semaphore>,
    admission: &Admission,
) {
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        admission.silent.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let mut frame = Vec::new();
    if encode_frame(
        &ServerMsg::Session(ServerSession::Disconnect { reason }),
        MAX_SERVER_PAYLOAD,
        &mut frame,
    )
    .is_err()
    {
        return;
    }
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
            stream.write_all(&frame).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            io::Result::Ok(())
        })
        .await;
        drop(permit);
    });
}

/// Moves bytes between one socket and the core until the core closes it.
///
/// After the core's close the write half is shut down (the peer reads its
/// `Disconnect`, then EOF) and what the peer still sends is read and dropped
/// until it closes too, or the linger ends the task. Closing a socket with
/// unread input would send a reset instead, and a reset can discard the
/// `Disconnect` before the peer reads it: a flooding client would never learn
/// why it was cut.
async fn connection<S: AsyncRead + AsyncWrite>(
    conn: ConnId,
    stream: S,
    clock: AdapterClock,
    events: mpsc::Sender<Stamped>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    written: Arc<Written>,
    returned: Arc<ReturnedBuffers>,
) {
    let (mut rd, mut wr) = tokio::io::split(stream);
    // Both halves run in this one task; the flags only need to be Send.
    let closing = AtomicBool::new(false);
    let peer_done = AtomicBool::new(false);
    let reader_events = events.clone();
    let reader = async {
        let mut buf = [0u8; READ_CHUNK];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    peer_done.store(true, Ordering::Relaxed);
                    if closing.load(Ordering::Relaxed) {
                        return;
                    }
                    let _ = reader_events
                        .send((clock.now(), Event::Lost { conn }))
                        .await;
                    break;
                }
                // Closed by the core: the input means nothing any more.
                Ok(_) if closing.load(Ordering::Relaxed) => {}
                Ok(n) => {
                    let data = buf[..n].to_vec();
                    if reader_events
                        .send((clock.now(), Event::Bytes { conn, data }))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // Keep the write side going until the core says close.
        std::future::pending::<()>().await;
    };
    let writer = async {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Write(bytes) => {
                    if wr.write_all(&bytes).await.is_err() {
                        let _ = events.send((clock.now(), Event::Lost { conn })).await;
                        return;
                    }
                    written.bytes.fetch_add(bytes.len(), Ordering::Relaxed);
                    returned.give(bytes);
                }
                Command::Close => break,
            }
        }
        let _ = wr.shutdown().await;
        closing.store(true, Ordering::Relaxed);
        if !peer_done.load(Ordering::Relaxed) {
            // The reader drops what still arrives until the peer closes.
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        // Fixed order, so a turmoil replay is the same whatever is ready.
        biased;
        _ = reader => {}
        _ = writer => {}
    }
}
