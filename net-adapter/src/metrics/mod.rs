//! What the server exports to Prometheus: one [`Metrics`] per server, filled by
//! the core loop and read by the admin port ([`crate::admin`]).
//!
//! The core loop owns the node, so the metrics never touch it: tick durations
//! are observed as each zone ticks (timed here, with the adapter's clock; the
//! node only says when a zone starts and ends), and everything else is copied
//! from the node's counters by [`Metrics::refresh`] a few times a second. The
//! exposition format is `prometheus-client`'s.
//!
//! A tick's wall time includes time the thread spent waiting for a core (on a
//! shared machine, much of it). On Unix the ticking thread's CPU clock
//! (`CLOCK_THREAD_CPUTIME_ID`) splits it: time on a CPU goes into
//! `tick_cpu_seconds`, the rest of the wall time (the tick never blocks, so
//! that is waiting for a core) into `tick_waiting_seconds_total`.

mod accounts;
mod combat;
mod economy;
mod social;

use crate::login::LoginMetrics;
use crate::store::StoreStats;
use game_core::ids::ZoneId;
use game_core::node::{Node, TickObserver};
use game_core::session::SessionState;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Labels = Vec<(&'static str, String)>;

/// Upper bounds of the tick duration buckets, in seconds: fine around the
/// 50 ms tick period and the 25 ms target, coarse beyond.
pub const TICK_BUCKETS: [f64; 18] = [
    0.000_5, 0.001, 0.002, 0.003, 0.005, 0.007_5, 0.01, 0.012_5, 0.015, 0.02, 0.025, 0.03, 0.04,
    0.05, 0.075, 0.1, 0.25, 1.0,
];

fn tick_histogram() -> Histogram {
    Histogram::new(TICK_BUCKETS)
}

/// The session states a gauge is kept for (closed sessions leave the node at once).
const SESSION_STATES: [&str; 6] = [
    "awaiting_hello",
    "awaiting_login",
    "logging_in",
    "authenticated",
    "entering",
    "in_world",
];

fn state_label(state: &SessionState) -> Option<&'static str> {
    match state {
        SessionState::AwaitingHello => Some(SESSION_STATES[0]),
        SessionState::AwaitingLogin => Some(SESSION_STATES[1]),
        SessionState::LoggingIn => Some(SESSION_STATES[2]),
        SessionState::Authenticated => Some(SESSION_STATES[3]),
        SessionState::Entering => Some(SESSION_STATES[4]),
        SessionState::InWorld => Some(SESSION_STATES[5]),
        SessionState::Closed { .. } => None,
    }
}

/// Every metric of one server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    tick_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    tick_cpu_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    tick_waiting: Counter<f64, AtomicU64>,
    ticks: Counter,
    tick_overruns: Counter,
    overrun_streak_max: Gauge,
    sessions: Family<Labels, Gauge>,
    players: Family<Labels, Gauge>,
    zone_players: Family<Labels, Gauge>,
    connections_opened: Counter,
    logins: Counter,
    resumes: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
    messages_in: Counter,
    messages_out: Counter,
    rate_limited: Counter,
    corrections: Family<Labels, Counter>,
    disconnects: Family<Labels, Counter>,
    event_queue_depth: Gauge,
    event_queue_depth_max: Gauge,
    event_queue_capacity: Gauge,
    outbound_bytes: Gauge,
    outbound_bytes_max: Gauge,
    accept_errors: Counter,
    connection_cap: Gauge,
    accounts: accounts::AccountMetrics,
    combat: combat::CombatMetrics,
    economy: economy::EconomyMetrics,
    social: social::SocialMetrics,
    /// When the core loop last refreshed, in µs since `born`: the health check.
    refreshed_us: AtomicU64,
    born: Instant,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("mmo");
        let tick_seconds =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(tick_histogram);
        registry.register(
            "tick_duration_seconds",
            "Wall time of one zone tick (movement, interest, replication)",
            tick_seconds.clone(),
        );
        let tick_cpu_seconds =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(tick_histogram);
        registry.register(
            "tick_cpu_seconds",
            "Time the ticking thread spent on a CPU during one zone tick (Unix)",
            tick_cpu_seconds.clone(),
        );
        let m = Metrics {
            registry,
            tick_seconds,
            tick_cpu_seconds,
            tick_waiting: Counter::default(),
            ticks: Counter::default(),
            tick_overruns: Counter::default(),
            overrun_streak_max: Gauge::default(),
            sessions: Family::default(),
            players: Family::default(),
            zone_players: Family::default(),
            connections_opened: Counter::default(),
            logins: Counter::default(),
            resumes: Counter::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            messages_in: Counter::default(),
            messages_out: Counter::default(),
            rate_limited: Counter::default(),
            corrections: Family::default(),
            disconnects: Family::default(),
            event_queue_depth: Gauge::default(),
            event_queue_depth_max: Gauge::default(),
            event_queue_capacity: Gauge::default(),
            outbound_bytes: Gauge::default(),
            outbound_bytes_max: Gauge::default(),
            accept_errors: Counter::default(),
            connection_cap: Gauge::default(),
            accounts: accounts::AccountMetrics::default(),
            combat: combat::CombatMetrics::default(),
            economy: economy::EconomyMetrics::default(),
            social: social::SocialMetrics::default(),
            refreshed_us: AtomicU64::new(0),
            born: Instant::now(),
        };
        m.register_rest()
    }

    fn register_rest(mut self) -> Self {
        self.accounts.register(&mut self.registry);
        self.combat.register(&mut self.registry);
        self.economy.register(&mut self.registry);
        self.social.register(&mut self.registry);
        let r = &mut self.registry;
        r.register("ticks", "World ticks run", self.ticks.clone());
        r.register(
            "tick_waiting_seconds",
            "Wall time of zone ticks not spent on a CPU: waiting for one (Unix)",
            self.tick_waiting.clone(),
        );
        r.register(
            "tick_overruns",
            "Ticks started more than one period late (the missed ticks are skipped)",
            self.tick_overruns.clone(),
        );
        r.register(
            "tick_overrun_streak_max",
            "The longest run of consecutive overrun ticks so far",
            self.overrun_streak_max.clone(),
        );
        r.register("sessions", "Open sessions by state", self.sessions.clone());
        r.register(
            "players",
            "Players by state (connected, or detached awaiting resume)",
            self.players.clone(),
        );
        r.register(
            "zone_players",
            "Players in each zone",
            self.zone_players.clone(),
        );
        r.register(
            "connections_opened",
            "Transport connections accepted",
            self.connections_opened.clone(),
        );
        r.register("logins", "Successful logins", self.logins.clone());
        r.register(
            "resumes",
            "Sessions that took over an existing player",
            self.resumes.clone(),
        );
        r.register(
            "received_bytes",
            "Bytes read from clients",
            self.bytes_in.clone(),
        );
        r.register(
            "sent_bytes",
            "Bytes handed to connections for writing",
            self.bytes_out.clone(),
        );
        r.register(
            "received_messages",
            "Messages decoded from clients",
            self.messages_in.clone(),
        );
        r.register(
            "sent_messages",
            "Messages queued for clients",
            self.messages_out.clone(),
        );
        r.register(
            "rate_limited_messages",
            "Client messages dropped by the rate limit (counted when sessions close)",
            self.rate_limited.clone(),
        );
        r.register(
            "corrections",
            "Movement inputs rejected and corrected, by reason",
            self.corrections.clone(),
        );
        r.register(
            "disconnects",
            "Closed connections by reason",
            self.disconnects.clone(),
        );
        r.register(
            "event_queue_depth",
            "Connection events waiting for the core loop",
            self.event_queue_depth.clone(),
        );
        r.register(
            "event_queue_depth_max",
            "The deepest the event queue was since the previous refresh",
            self.event_queue_depth_max.clone(),
        );
        r.register(
            "event_queue_capacity",
            "The event queue's bound",
            self.event_queue_capacity.clone(),
        );
        r.register(
            "outbound_bytes",
            "Bytes queued or being written to clients, all sessions",
            self.outbound_bytes.clone(),
        );
        r.register(
            "outbound_bytes_max",
            "Bytes queued or being written to the most backed-up session",
            self.outbound_bytes_max.clone(),
        );
        r.register(
            "accept_errors",
            "Failed accepts on the game port (out of file descriptors, resets)",
            self.accept_errors.clone(),
        );
        r.register(
            "connection_cap",
            "Connections admitted at once: max_connections, or less under the open-file limit",
            self.connection_cap.clone(),
        );
        self
    }

    /// Counts a failed accept on the game port (the accept loop calls it).
    pub fn count_accept_error(&self) {
        self.accept_errors.inc();
    }

    /// The effective cap on connections, fixed at start.
    pub fn set_connection_cap(&self, cap: u32) {
        self.connection_cap.set(i64::from(cap));
    }

    /// The Prometheus (OpenMetrics) text of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    /// How long ago the core loop last refreshed the metrics.
    pub fn since_refresh(&self) -> Duration {
        let now = self.born.elapsed().as_micros() as u64;
        Duration::from_micros(now.saturating_sub(self.refreshed_us.load(Ordering::Relaxed)))
    }

    /// Records the zone ticks `timer` saw.
    pub fn observe_ticks(&self, node: &Node, timer: &mut ZoneTimer) {
        for tick in timer.ticks.drain(..) {
            let labels = zone_labels(node, tick.zone);
            self.tick_seconds
                .get_or_create(&labels)
                .observe(tick.wall.as_secs_f64());
            if let Some(on_cpu) = tick.on_cpu {
                self.tick_cpu_seconds
                    .get_or_create(&labels)
                    .observe(on_cpu.as_secs_f64());
                self.tick_waiting
                    .inc_by(tick.wall.saturating_sub(on_cpu).as_secs_f64());
            }
        }
    }

    /// Copies the node's counters and gauges; `queue` is the event queue's
    /// (depth now, deepest since the last refresh, bound).
    /// From now on, also export the store worker's counters (`capacity`:
    /// its queue's bound).
    pub fn attach_store(&self, stats: Arc<StoreStats>, capacity: usize) {
        self.accounts.attach_store(stats, capacity);
    }

    /// From now on, also export the login service's counters.
    pub fn attach_login(&self, login: Arc<LoginMetrics>) {
        self.accounts.attach_login(login);
    }

    /// `store_queue`: intents queued in front of the store's worker.
    pub fn refresh(
        &self,
        node: &Node,
        queue: (usize, usize, usize),
        store_queue: usize,
        streak_max: u64,
    ) {
        self.accounts.refresh(node, store_queue);
        self.combat.refresh(node);
        self.economy.refresh(node);
        self.social.refresh(node);
        let s = node.stats();
        set(&self.ticks, s.ticks);
        set(&self.tick_overruns, s.tick_overruns);
        self.overrun_streak_max.set(streak_max as i64);
        set(&self.connections_opened, s.connections_opened);
        set(&self.logins, s.logins);
        set(&self.resumes, s.resumes);
        set(&self.bytes_in, s.bytes_in);
        set(&self.bytes_out, s.bytes_out);
        let (msgs_in, msgs_out) = node.message_totals();
        set(&self.messages_in, msgs_in);
        set(&self.messages_out, msgs_out);
        set(&self.rate_limited, s.rate_limited);
        for (reason, n) in &s.disconnects {
            set(
                &self
                    .disconnects
                    .get_or_create(&vec![("reason", reason.to_string())]),
                *n,
            );
        }

        let mut by_state = [0i64; SESSION_STATES.len()];
        let (mut outbound, mut outbound_max) = (0usize, 0usize);
        for session in node.sessions() {
            if let Some(label) = state_label(session.state()) {
                if let Some(i) = SESSION_STATES.iter().position(|s| *s == label) {
                    by_state[i] += 1;
                }
            }
            outbound += session.outbound_bytes();
            outbound_max = outbound_max.max(session.outbound_bytes());
        }
        for (state, n) in SESSION_STATES.iter().zip(by_state) {
            self.sessions
                .get_or_create(&vec![("state", state.to_string())])
                .set(n);
        }
        self.outbound_bytes.set(outbound as i64);
        self.outbound_bytes_max.set(outbound_max as i64);

        let connected = node.players().filter(|p| p.conn.is_some()).count();
        let detached = node.player_count() - connected;
        for (state, n) in [("connected", connected), ("detached", detached)] {
            self.players
                .get_or_create(&vec![("state", state.to_string())])
                .set(n as i64);
        }

        let mut corrections: BTreeMap<&'static str, u64> = BTreeMap::new();
        for zone in node.world().zones() {
            self.zone_players
                .get_or_create(&zone_labels(node, zone.id()))
                .set(i64::from(zone.player_count()));
            for (reason, n) in &zone.stats().corrections {
                *corrections.entry(reason).or_default() += n;
            }
        }
        for (reason, n) in corrections {
            set(
                &self
                    .corrections
                    .get_or_create(&vec![("reason", reason.to_string())]),
                n,
            );
        }

        let (depth, depth_max, capacity) = queue;
        self.event_queue_depth.set(depth as i64);
        self.event_queue_depth_max.set(depth_max as i64);
        self.event_queue_capacity.set(capacity as i64);
        self.refreshed_us
            .store(self.born.elapsed().as_micros() as u64, Ordering::Relaxed);
    }
}

/// Counters here mirror totals the node keeps, so they are set, not added to.
fn set(counter: &Counter, total: u64) {
    counter.inner().store(total, Ordering::Relaxed);
}

fn zone_labels(node: &Node, zone: ZoneId) -> Labels {
    let (map, channel) = node
        .world()
        .channel_of(zone)
        .unwrap_or_else(|| (String::from("?"), 0));
    vec![
        ("zone", zone.0.to_string()),
        ("map", map),
        ("channel", channel.to_string()),
    ]
}

/// Times each zone's tick with the adapter's clock while the node runs its
/// timers; [`Metrics::observe_ticks`] takes the results.
#[derive(Debug, Default)]
pub struct ZoneTimer {
    started: Option<(ZoneId, Instant, Option<Duration>)>,
    ticks: Vec<ZoneTick>,
}

#[derive(Debug)]
struct ZoneTick {
    zone: ZoneId,
    wall: Duration,
    /// Time on a CPU while the zone ticked (where the platform says).
    on_cpu: Option<Duration>,
}

impl ZoneTimer {
    /// The longest zone tick not yet taken by [`Metrics::observe_ticks`].
    pub fn slowest(&self) -> Option<Duration> {
        self.ticks.iter().map(|t| t.wall).max()
    }
}

impl TickObserver for ZoneTimer {
    fn zone_tick_started(&mut self, zone: ZoneId) {
        self.started = Some((zone, Instant::now(), thread_cpu_time()));
    }

    fn zone_tick_finished(&mut self, zone: ZoneId) {
        if let Some((started_zone, at, cpu_before)) = self.started.take() {
            debug_assert_eq!(started_zone, zone);
            let wall = at.elapsed();
            // The node ticks a zone without yielding, so both readings are of
            // the same thread.
            let on_cpu = cpu_before
                .zip(thread_cpu_time())
                .map(|(before, after)| after.saturating_sub(before));
            // One entry per zone per tick; taken after every timer run.
            self.ticks.push(ZoneTick { zone, wall, on_cpu });
        }
    }
}

/// CPU time the calling thread has used.
#[cfg(unix)]
fn thread_cpu_time() -> Option<Duration> {
    use nix::time::{clock_gettime, ClockId};
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .ok()
        .map(Duration::from)
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_text_names_every_family() {
        let m = Metrics::new();
        let node = Node::new(Default::default(), 1).unwrap();
        m.refresh(&node, (3, 7, 8192), 0, 0);
        let text = m.render();
        for name in [
            "mmo_ticks_total",
            "mmo_tick_overruns_total",
            "mmo_sessions{state=\"in_world\"} 0",
            "mmo_event_queue_depth 3",
            "mmo_event_queue_depth_max 7",
            "mmo_event_queue_capacity 8192",
            "mmo_received_bytes_total 0",
            "mmo_skills_used_total 0",
            "mmo_skill_hits_total 0",
            "mmo_casts_interrupted_total 0",
            "mmo_skill_refusals_total{reason=\"too_fast\"} 0",
            "mmo_skill_refusals_total{reason=\"unknown_skill\"} 0",
            "mmo_combat_requests_dropped_total 0",
            "mmo_monsters_killed_total 0",
            "mmo_player_deaths_total 0",
            "mmo_experience_granted_total 0",
            "mmo_combat_events_dropped_total 0",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn zone_ticks_land_in_the_histogram_by_zone() {
        let m = Metrics::new();
        let node = Node::new(Default::default(), 1).unwrap();
        let mut timer = ZoneTimer::default();
        timer.zone_tick_started(ZoneId(4));
        timer.zone_tick_finished(ZoneId(4));
        assert!(timer.slowest().is_some());
        m.observe_ticks(&node, &mut timer);
        assert!(timer.slowest().is_none());
        let text = m.render();
        assert!(
            text.contains("mmo_tick_duration_seconds_count{zone=\"4\",map=\"?\",channel=\"0\"} 1"),
            "{text}"
        );
        if cfg!(unix) {
            assert!(
                text.contains("mmo_tick_cpu_seconds_count{zone=\"4\",map=\"?\",channel=\"0\"} 1"),
                "{text}"
            );
        }
    }

    #[test]
    fn the_thread_cpu_clock_counts_work_not_sleep() {
        let Some(before) = thread_cpu_time() else {
            return;
        };
        std::thread::sleep(Duration::from_millis(30));
        let slept = thread_cpu_time().unwrap() - before;
        // Spin until the clock shows 5 ms of work (a loaded machine only
        // makes this take longer).
        let mut x = 1u64;
        let give_up = Instant::now() + Duration::from_secs(10);
        while thread_cpu_time().unwrap() - before - slept < Duration::from_millis(5) {
            assert!(
                Instant::now() < give_up,
                "the thread CPU clock does not advance"
            );
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        assert!(
            slept < Duration::from_millis(10),
            "{slept:?} on a CPU while asleep"
        );
    }
}
