//! The core loop: the one task that owns the [`Node`] and drives it.
//!
//! Phases, in order: wait for the first of (shutdown, node deadline, status
//! and metrics timers, connection event), timers first; apply that event and
//! up to [`MAX_BATCH`] others already queued, each at its stamp; drain the
//! node's outputs, so all messages for one connection produced in this pass
//! leave in one write. Timers also collect what the connection tasks wrote and
//! refresh the metrics.
//!
//! Owns the node, the map of open connections (their command channels), the
//! player-to-address book admission counts kept characters by, and the
//! metrics' writing side. It may not touch sockets: it only sends commands to
//! connection tasks, and it never blocks on one.

use super::admission::Admission;
use super::messages::{Command, Event, ReturnedBuffers, Stamped, Written};
use super::overruns::OverrunWatch;
use super::persistence::Backend;
use super::player_addresses::PlayerAddresses;
use crate::admin::OperatorRequest;
use crate::clock::AdapterClock;
use crate::metrics::{Metrics, ZoneTimer};
use game_core::ids::ConnId;
use game_core::node::{Node, NodeEvent, Output};
use game_core::persist::Outcome;
use game_core::protocol::DisconnectReason;
use game_core::time::Instant;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};

/// Events applied to the node before its outputs are drained.
const MAX_BATCH: usize = 1024;
/// How often the core loop copies the node's counters into the metrics.
const METRICS_EVERY: Duration = Duration::from_millis(500);

/// The core loop's state: the node and what it needs to reach the connections.
pub(super) struct CoreLoop {
    pub(super) node: Node,
    /// The node's store and bus (see `persistence.rs`).
    pub(super) backend: Backend,
    clock: AdapterClock,
    /// The node's clock only goes forward: events carry the time they happened,
    /// which can be a little behind a time the node was already given.
    node_now: NodeClock,
    conns: HashMap<ConnId, ConnHandle>,
    returned: Arc<ReturnedBuffers>,
    buffers: Vec<Vec<u8>>,
    admission: Arc<Admission>,
    addresses: PlayerAddresses,
    metrics: Arc<Metrics>,
    linger: Duration,
}

struct ConnHandle {
    peer: SocketAddr,
    written: Arc<Written>,
    commands: mpsc::UnboundedSender<Command>,
    /// Dropping it ends the connection task at once.
    kill: oneshot::Sender<()>,
}

/// What the loop needs from the config.
pub(super) struct LoopSettings {
    /// Seconds between status lines; 0 logs none.
    pub(super) status_interval_s: u64,
    pub(super) event_queue: usize,
}

impl CoreLoop {
    pub(super) fn new(
        node: Node,
        backend: Backend,
        clock: AdapterClock,
        returned: Arc<ReturnedBuffers>,
        admission: Arc<Admission>,
        metrics: Arc<Metrics>,
        linger: Duration,
    ) -> Self {
        CoreLoop {
            node,
            backend,
            clock,
            node_now: NodeClock::default(),
            conns: HashMap::new(),
            returned,
            buffers: Vec::new(),
            addresses: PlayerAddresses::new(Arc::clone(&admission)),
            admission,
            metrics,
            linger,
        }
    }

    /// Runs until `shutdown` completes or every sender of `events` is gone.
    pub(super) async fn run(
        &mut self,
        events: &mut mpsc::Receiver<Stamped>,
        outcomes: &mut Option<mpsc::Receiver<Outcome>>,
        operator: &mut Option<mpsc::Receiver<OperatorRequest>>,
        settings: &LoopSettings,
        shutdown: impl Future<Output = ()>,
    ) {
        let status_every = Duration::from_secs(settings.status_interval_s.max(1));
        let mut next_status = tokio::time::Instant::now() + status_every;
        let mut next_metrics = tokio::time::Instant::now();
        let mut zone_timer = ZoneTimer::default();
        let mut overruns = OverrunWatch::default();
        let mut queue_max = 0usize;
        tokio::pin!(shutdown);

        loop {
            let deadline = self.node.poll_timeout().map(|at| self.clock.deadline(at));
            // Timers before connection events: under a flood of events a tick
            // still starts on time (events still queued are applied after it, at
            // its time: the node's clock never goes back), and the metrics keep
            // being refreshed.
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                _ = sleep_until_some(deadline) => {
                    self.collect_written();
                    let now = self.node_now.at(self.clock.now());
                    self.node.handle_timeout_observed(now, &mut zone_timer);
                    overruns.after_timers(self.node.stats(), zone_timer.slowest());
                    self.metrics.observe_ticks(&self.node, &mut zone_timer);
                }
                _ = tokio::time::sleep_until(next_status) => {
                    next_status += status_every;
                    if settings.status_interval_s > 0 {
                        self.log_status();
                    }
                }
                _ = tokio::time::sleep_until(next_metrics) => {
                    next_metrics += METRICS_EVERY;
                    self.collect_written();
                    let queue = (events.len(), queue_max, settings.event_queue);
                    let store_queue = self.backend.queue().map_or(0, |(depth, _)| depth);
                    self.metrics
                        .refresh(&self.node, queue, store_queue, overruns.streak_max);
                    queue_max = 0;
                }
                Some(request) = next_command(operator) => {
                    let now = self.node_now.at(self.clock.now());
                    let answer = request.command.apply(&mut self.node, now);
                    info!(command = ?request.command, %answer, "operator command");
                    let _ = request.reply.send(answer);
                }
                Some(outcome) = next_outcome(outcomes) => {
                    let now = self.node_now.at(self.clock.now());
                    self.node.handle_store_outcome(now, outcome);
                    while let Some(Ok(outcome)) = outcomes.as_mut().map(|o| o.try_recv()) {
                        self.node.handle_store_outcome(now, outcome);
                    }
                }
                event = events.recv() => {
                    let Some(event) = event else { break };
                    queue_max = queue_max.max(events.len() + 1);
                    self.apply(event);
                    for _ in 0..MAX_BATCH {
                        match events.try_recv() {
                            Ok(event) => self.apply(event),
                            Err(_) => break,
                        }
                    }
                }
            }
            self.drain(self.linger);
        }
    }

    /// Tells every client the server is going down; their goodbyes linger at
    /// most `linger`.
    pub(super) fn shut_down(&mut self, linger: Duration) {
        info!(
            "shutting down: telling {} clients",
            self.node.session_count()
        );
        let now = self.node_now.at(self.clock.now());
        self.node.shutdown(now);
        self.drain(linger);
    }

    fn apply(&mut self, (at, event): Stamped) {
        let now = self.node_now.at(at);
        match event {
            Event::Opened {
                conn,
                peer,
                resume_only,
                commands,
                kill,
                written,
            } => {
                debug!(%conn, %peer, resume_only, "connection opened");
                self.conns.insert(
                    conn,
                    ConnHandle {
                        peer,
                        written,
                        commands,
                        kill,
                    },
                );
                if resume_only {
                    self.node.handle_connect_resume_only(now, conn);
                } else {
                    self.node.handle_connect(now, conn);
                }
            }
            Event::Bytes { conn, data } => self.node.handle_bytes(now, conn, &data),
            Event::Lost { conn } => self.node.handle_disconnect(now, conn),
        }
    }

    /// After the shutdown: waits (at most `grace`) for the store to answer
    /// every intent still pending (the saves of the players who were just
    /// removed), so an acknowledged save is one that reached the database.
    /// Returns how many were still pending when it stopped waiting.
    pub(super) async fn finish_saves(
        &mut self,
        outcomes: &mut Option<mpsc::Receiver<Outcome>>,
        grace: Duration,
    ) -> usize {
        let until = tokio::time::Instant::now() + grace;
        while self.node.pending_intents() > 0 {
            let Some(rx) = outcomes.as_mut() else { break };
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(outcome)) => {
                    let now = self.node_now.at(self.clock.now());
                    self.node.handle_store_outcome(now, outcome);
                    self.drain(Duration::ZERO);
                }
                Ok(None) | Err(_) => break,
            }
        }
        self.node.pending_intents()
    }

    fn drain(&mut self, linger: Duration) {
        while let Some(output) = self.node.poll_output() {
            let now = self.node_now.latest();
            match output {
                Output::Persist(intent) => self.backend.persist(&mut self.node, now, intent),
                Output::Publish(message) => {
                    if let Some(back) = self.backend.bus.publish(message) {
                        self.node.handle_bus(now, back);
                    }
                }
                Output::Subscribe(topic) => self.backend.bus.subscribe(topic),
                Output::Transmit { conn, bytes } => {
                    if let Some(handle) = self.conns.get(&conn) {
                        // A send error means the task has ended; its `Lost` event is queued.
                        let _ = handle.commands.send(Command::Write(bytes));
                    }
                }
                Output::Close { conn, reason } => {
                    if reason == DisconnectReason::TooManyConnections {
                        // Only a connection admitted to resume is closed so.
                        self.admission.count_refused_login();
                    }
                    if let Some(handle) = self.conns.remove(&conn) {
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
                Output::Event(event) => {
                    log_event(&event);
                    let conns = &self.conns;
                    self.addresses
                        .follow(&event, |conn| conns.get(&conn).map(|h| h.peer.ip()));
                }
            }
        }
    }

    /// Tells the node what each connection has written since the last call,
    /// and hands it back the written buffers for reuse.
    fn collect_written(&mut self) {
        for (&conn, handle) in &self.conns {
            let n = handle.written.bytes.swap(0, Ordering::Relaxed);
            if n > 0 {
                self.node.handle_flushed(conn, n);
            }
        }
        self.returned.take_all(&mut self.buffers);
        for buffer in self.buffers.drain(..) {
            self.node.recycle(buffer);
        }
    }

    pub(super) fn log_status(&self) {
        let s = self.node.stats();
        let refused = self.admission.stats();
        info!(
            sessions = self.node.session_count(),
            players = self.node.player_count(),
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
}

fn log_event(event: &NodeEvent) {
    match event {
        NodeEvent::LoggedIn { conn, player, name } => debug!(%conn, %player, name, "logged in"),
        NodeEvent::Resumed { conn, player } => debug!(%conn, %player, "resumed"),
        NodeEvent::EnteredWorld { player, character } => {
            debug!(%player, %character, "entered world")
        }
        NodeEvent::CharacterSaved {
            character,
            version,
            place,
        } => debug!(
            %character,
            version,
            map = place.map,
            channel = place.channel,
            x = place.pos.x.raw(),
            y = place.pos.y.raw(),
            "character saved"
        ),
        NodeEvent::TransactionCommitted { first, seq, parts } => {
            let parts: Vec<String> = parts.iter().map(|(c, s)| format!("{c}@{s}")).collect();
            debug!(%first, seq, parts = parts.join(","), "transaction committed")
        }
        NodeEvent::RaidRunRecorded { run, owed } => {
            let owed: Vec<String> = owed.iter().map(|c| c.to_string()).collect();
            debug!(run, owed = owed.join(","), "raid run recorded")
        }
        NodeEvent::Detached { player, reason } => {
            debug!(%player, %reason, "connection lost, player kept for resume")
        }
        NodeEvent::PlayerLeft { player, reason } => debug!(%player, %reason, "player left"),
    }
}

/// The next outcome from the store, or never when there is no store.
async fn next_outcome(outcomes: &mut Option<mpsc::Receiver<Outcome>>) -> Option<Outcome> {
    match outcomes {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_command(
    operator: &mut Option<mpsc::Receiver<OperatorRequest>>,
) -> Option<OperatorRequest> {
    match operator {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
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
    fn latest(&self) -> Instant {
        self.0
    }

    fn at(&mut self, t: Instant) -> Instant {
        self.0 = self.0.max(t);
        self.0
    }
}
