//! The deterministic simulator: the real node and thousands of real client
//! machines, joined by modelled TCP links, in virtual time.
//!
//! A discrete-event loop: every delivery, timer and bot action is an event on
//! one agenda ordered by (time, sequence number), so simultaneous
//! events have a total order and a run is a pure function of its seed. The
//! seed chooses the fault plan, every link, every bot's policy and every random
//! draw; the trace hash covers every byte that crosses a link. Invariants are
//! checked as it runs; the last seconds are a liveness phase with no faults.

mod accounts;
mod agenda;
mod economy;
mod faults;
mod invariants;
mod links;
mod login;
mod persistence;
mod raids;
mod store;
mod summary;
pub use crate::policy;

pub use accounts::BadTokenTally;
pub use economy::{EconomyReport, NodeEconomy, TraderReport};
pub use faults::{FaultMode, FaultPlan, StorePlan, HEAL};
pub use invariants::{CombatChecks, EconomyChecks, ServerCombat, SocialChecks, Violation};
pub use login::{BadToken, LoginStats};
pub use persistence::PersistCounts;
pub use raids::RaidReport;
pub use store::StoreStats;
pub use summary::SimReport;
use summary::TraceHash;

use crate::netem::{Item, LinkParams, Pipe, Stall};
use crate::policy::Atlas;
use game_core::client::{Client, ClientConfig, ClientState};
use game_core::ids::ConnId;
use game_core::node::{InProcess, Node, NodeConfig};
use game_core::persist::Outcome;
use game_core::protocol::{
    encode_frame, ClientMsg, ClientSession, DisconnectReason, MAX_CLIENT_PAYLOAD,
};
use game_core::rng::{self, StreamKind};
use game_core::time::{Duration, Instant};
use invariants::Checker;
use policy::{Act, Kind, Policy, ACT_EVERY};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use std::collections::BTreeMap;

/// How a run is set up.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub bots: usize,
    pub seconds: u64,
    pub seed: u64,
    pub faults: FaultMode,
    /// Percent of bots that are hostile.
    pub hostile_pct: u32,
    /// The kinds honest and hostile bots are drawn from (each equally
    /// likely): [`Kind::HONEST`] and [`Kind::HOSTILE`] by default.
    pub honest: Vec<Kind>,
    pub hostile: Vec<Kind>,
    /// Observers checked against the AOI oracle per zone per check.
    pub oracle_sample: usize,
    pub node: NodeConfig,
}

impl SimConfig {
    pub fn new(bots: usize, seconds: u64, seed: u64, faults: FaultMode) -> Self {
        let mut node = NodeConfig::default();
        node.max_sessions = (bots as u32 + 64).max(node.max_sessions);
        node.max_players = node.max_sessions;
        node.max_pending_intents = node.max_players.max(node.max_pending_intents);
        node.world.max_channels = (bots as u32 / 500 + 2).min(64) as u16;
        node.world.zone.max_players = 500;
        // Arrivals spread over the map, as if it had many spawn points: a
        // thousand bots on one spot would measure the crowd, not the server.
        node.world.zone.spawn_spread_m = 120;
        // Saves often enough that a run of seconds acknowledges many, and
        // store faults meet them.
        node.save_interval_ms = 5_000;
        SimConfig {
            bots,
            seconds,
            seed,
            faults,
            hostile_pct: 5,
            honest: Kind::HONEST.to_vec(),
            hostile: Kind::HOSTILE.to_vec(),
            oracle_sample: 16,
            node,
        }
    }

    /// The one command that reproduces this run.
    pub fn repro(&self) -> String {
        let mut cmd = format!(
            "SIM_SEED={} cargo run --release -p sim -- --bots {} --seconds {} --seed {} --faults {}",
            self.seed, self.bots, self.seconds, self.seed, self.faults
        );
        let labels = |kinds: &[Kind]| {
            kinds
                .iter()
                .map(|k| k.label())
                .collect::<Vec<_>>()
                .join(",")
        };
        if self.hostile_pct != 5 {
            cmd += &format!(" --hostile-pct {}", self.hostile_pct);
        }
        if self.honest[..] != Kind::HONEST[..] {
            cmd += &format!(" --honest {}", labels(&self.honest));
        }
        if self.hostile[..] != Kind::HOSTILE[..] {
            cmd += &format!(" --hostile {}", labels(&self.hostile));
        }
        cmd
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Node,
    Client(u32),
    Up(u32),
    Down(u32),
    Act(u32),
    Reconnect(u32),
    Restart,
    Check,
    /// A store commit ends (by the store's crash generation).
    StoreCommit(u64),
    /// The store's `n`th planned crash.
    StoreCrash(u32),
    StoreUp,
    /// An honest bot refused on the character screen logs in again.
    Relog(u32),
}

#[derive(Debug)]
struct Peer {
    client: Client,
    policy: Policy,
    params: LinkParams,
    stalls: Vec<Stall>,
    link_rng: ChaCha8Rng,
    conn: Option<ConnId>,
    /// The connection the items in each pipe belong to (the old one, while a
    /// closed connection's last bytes are still in flight).
    conn_for_up: Option<ConnId>,
    conn_for_down: Option<ConnId>,
    up: Pipe,
    down: Pipe,
    client_armed: Option<Instant>,
    /// Reconnects after a drop (hostile bots give up).
    reconnects: bool,
    reconnect_pending: bool,
    corrections: u64,
    /// Corrections while the fight held the character (dead, stunned,
    /// slowed): see `ClientEvent::Corrected`.
    held_corrections: u64,
    welcomes: u32,
    resumes: u32,
    disconnects: Vec<DisconnectReason>,
    bytes_in: u64,
    login: accounts::LoginMode,
    registered: bool,
    /// The bad token a hostile bot is trying on its current connection.
    bad_attempt: Option<BadToken>,
}

/// The bot holding each open connection. The simulator hands out connection
/// ids in order from 1, so a vector indexed by id is a dense map: one load per
/// transmit instead of a tree search.
#[derive(Debug, Default)]
struct Owners(Vec<Option<u32>>);

impl Owners {
    fn get(&self, conn: ConnId) -> Option<u32> {
        self.0.get(conn.0 as usize).copied().flatten()
    }

    fn insert(&mut self, conn: ConnId, bot: u32) {
        let i = conn.0 as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        self.0[i] = Some(bot);
    }

    fn remove(&mut self, conn: ConnId) -> Option<u32> {
        self.0.get_mut(conn.0 as usize)?.take()
    }

    fn clear(&mut self) {
        self.0.fill(None);
    }
}

pub struct Simulator {
    config: SimConfig,
    plan: FaultPlan,
    node: Node,
    /// The bus (its store is unused: `store` serves persistence).
    in_process: InProcess,
    /// The store: outlives a node's restart, as a database would.
    store: store::SimStore,
    /// Outcomes waiting to be handed to the node.
    outcomes: Vec<Outcome>,
    login: login::LoginService,
    persist: persistence::PersistChecker,
    bad_tokens: BTreeMap<BadToken, BadTokenTally>,
    refusals_before_restart: BTreeMap<&'static str, u64>,
    restarts: u64,
    now: Instant,
    end: Instant,
    queue: agenda::Agenda<Ev>,
    seq: u64,
    node_armed: Option<Instant>,
    peers: Vec<Peer>,
    by_conn: Owners,
    next_conn: u64,
    atlas: Atlas,
    trace: TraceHash,
    checker: Checker,
    economy: economy::EconomyWatch,
    raids: raids::RaidWatch,
    events: u64,
    tick_wall_us: Vec<u64>,
    ticks_before_restart: u64,
    overruns_before_restart: u64,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("now", &self.now)
            .field("peers", &self.peers.len())
            .finish()
    }
}

/// The moment bots stop moving, so the liveness check sees settled positions.
const STILL_BEFORE_END: u64 = 4;

impl Simulator {
    pub fn new(config: SimConfig) -> Self {
        let plan = FaultPlan::choose(config.faults, config.seed, config.seconds);
        let mut node =
            Node::new(config.node.clone(), config.seed).expect("valid simulator node config");
        let login = login::LoginService::new(config.seed);
        node.accept_tokens(login.verifying_key(), login::UNIX_MS_AT_ZERO, Instant::ZERO);
        let store = store::SimStore::new(
            plan.store.clone(),
            config.seed,
            config.node.max_pending_intents as usize * 2,
            Instant::from_micros(config.seconds.saturating_sub(HEAL) * 1_000_000),
        );
        let mut checker = Checker::new(&config);
        checker.store_faulty(plan.store.is_faulty());
        let mut pick = rng::stream(config.seed, StreamKind::Bot, u64::MAX);
        let mut sim = Simulator {
            checker,
            economy: economy::EconomyWatch::default(),
            raids: raids::RaidWatch::new(),
            end: Instant::from_micros(config.seconds * 1_000_000),
            plan,
            node,
            in_process: InProcess::default(),
            store,
            outcomes: Vec::new(),
            login,
            persist: persistence::PersistChecker::default(),
            bad_tokens: BTreeMap::new(),
            refusals_before_restart: BTreeMap::new(),
            restarts: 0,
            now: Instant::ZERO,
            queue: agenda::Agenda::default(),
            seq: 0,
            node_armed: None,
            peers: Vec::with_capacity(config.bots),
            by_conn: Owners::default(),
            next_conn: 0,
            atlas: Atlas::samples(),
            trace: TraceHash::new(),
            events: 0,
            tick_wall_us: Vec::new(),
            ticks_before_restart: 0,
            overruns_before_restart: 0,
            config,
        };
        // Only the bots whose drawing is measured keep interpolation buffers.
        let sample_every = (sim.config.bots / 32).max(1);
        for i in 0..sim.config.bots {
            let hostile = pick.next_u32() % 100 < sim.config.hostile_pct;
            let kinds = if hostile {
                &sim.config.hostile
            } else {
                &sim.config.honest
            };
            let kind = kinds[(pick.next_u32() as usize) % kinds.len().max(1)];
            let (params, stalls, link_rng) =
                sim.plan.link(sim.config.seed, i as u64, sim.config.seconds);
            let mut client_config = ClientConfig::new(format!("bot{i}"));
            client_config.interpolate = i % sample_every == 0;
            sim.peers.push(Peer {
                client: Client::new(client_config),
                policy: Policy::seeded(kind, sim.config.seed, i as u64),
                params,
                stalls,
                link_rng,
                conn: None,
                conn_for_up: None,
                conn_for_down: None,
                up: Pipe::default(),
                down: Pipe::default(),
                client_armed: None,
                reconnects: kind.persists(),
                reconnect_pending: false,
                corrections: 0,
                held_corrections: 0,
                welcomes: 0,
                resumes: 0,
                disconnects: Vec::new(),
                bytes_in: 0,
                login: accounts::LoginMode::for_kind(kind),
                registered: false,
                bad_attempt: None,
            });
            // Staggered arrival over the first two seconds.
            let at = Instant::from_micros(pick.next_u64() % 2_000_000);
            sim.push(at, Ev::Reconnect(i as u32));
            sim.push(at + ACT_EVERY, Ev::Act(i as u32));
        }
        sim.introduce_traders();
        sim.introduce_raiders();
        for &at in &sim.plan.restarts.clone() {
            sim.push(at, Ev::Restart);
        }
        for (n, &(at, _)) in sim.plan.store.crashes.clone().iter().enumerate() {
            sim.push(at, Ev::StoreCrash(n as u32));
        }
        sim.push(Instant::ZERO + invariants::CHECK_EVERY, Ev::Check);
        sim
    }

    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    fn push(&mut self, at: Instant, ev: Ev) {
        self.seq += 1;
        self.queue.push(at, self.seq, ev);
    }

    /// Runs to the end; `progress` is called now and then with the fraction done.
    pub fn run(mut self, mut progress: impl FnMut(f64)) -> SimReport {
        let wall = std::time::Instant::now();
        let mut next_progress = Instant::ZERO;
        while let Some((at, _, ev)) = self.queue.pop() {
            if at > self.end {
                break;
            }
            self.now = at;
            self.events += 1;
            self.dispatch(ev);
            if at >= next_progress {
                next_progress = at + Duration::from_secs(1);
                progress(at.as_micros() as f64 / self.end.as_micros().max(1) as f64);
            }
        }
        self.now = self.end;
        self.finish(wall.elapsed().as_secs_f64())
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Node => {
                self.node_armed = None;
                let ticks = self.node.stats().ticks;
                let start = std::time::Instant::now();
                self.node.handle_timeout(self.now);
                if self.node.stats().ticks != ticks {
                    self.tick_wall_us.push(start.elapsed().as_micros() as u64);
                    self.checker.after_tick(&self.node, self.now);
                    self.raids_after_tick();
                }
                self.node_io();
            }
            Ev::Client(i) => {
                let p = &mut self.peers[i as usize];
                p.client_armed = None;
                p.client.handle_timeout(self.now);
                self.client_io(i);
            }
            Ev::Up(i) => self.deliver_up(i),
            Ev::Down(i) => self.deliver_down(i),
            Ev::Act(i) => self.act(i),
            Ev::Reconnect(i) => self.reconnect(i),
            Ev::Restart => self.restart(),
            Ev::Check => {
                let settled = self.now + Duration::from_secs(1) >= self.end;
                let step = (self.config.bots / 32).max(1);
                for p in self.peers.iter_mut().step_by(step) {
                    if !p.policy.kind.is_hostile() {
                        self.checker.sample_interpolation(&mut p.client, self.now);
                    }
                }
                self.checker
                    .check(&self.node, &peers_view(&self.peers), self.now, settled);
                self.check_persistence();
                self.check_economy(settled);
                self.check_raids();
                self.push(self.now + invariants::CHECK_EVERY, Ev::Check);
            }
            Ev::StoreCommit(generation) => self.store_commit(generation),
            Ev::StoreCrash(n) => self.store_crash(n),
            Ev::StoreUp => self.store.recover(),
            Ev::Relog(i) => {
                if *self.peers[i as usize].client.state() == ClientState::LoggedIn {
                    self.relog(i);
                }
            }
        }
    }
}

fn peers_view(peers: &[Peer]) -> Vec<invariants::PeerView<'_>> {
    peers
        .iter()
        .map(|p| invariants::PeerView {
            client: &p.client,
            kind: p.policy.kind,
            worst_stall: p.up.worst_stall.max(p.down.worst_stall),
            corrections: p.corrections,
            fight: p.policy.fight_tally(),
            social: p.policy.social_tally(),
            disconnects: &p.disconnects,
            misbehaved: p.policy.misbehaved,
        })
        .collect()
}

impl Simulator {
    fn arm_node(&mut self) {
        if let Some(at) = self.node.poll_timeout() {
            if self.node_armed.is_none_or(|armed| at < armed) {
                self.node_armed = Some(at);
                self.push(at.max(self.now), Ev::Node);
            }
        }
    }

    fn act(&mut self, i: u32) {
        // Only followers look at their friend (the next bot): the others do
        // not fetch its client from memory.
        let friend = match self.peers[i as usize].policy.kind {
            Kind::Follow => {
                let f = (i as usize + 1) % self.peers.len();
                self.peers[f].client.avatar().map(|a| a.position())
            }
            _ => None,
        };
        let still = self.now + Duration::from_secs(STILL_BEFORE_END) >= self.end;
        let p = &mut self.peers[i as usize];
        let in_world = *p.client.state() == ClientState::InWorld;
        let act = if in_world && !still {
            p.policy.step(self.now, &mut p.client, &self.atlas, friend)
        } else {
            Act::None
        };
        let hostile_active = p.conn.is_some();
        match act {
            Act::None => {}
            Act::Relog => self.relog(i),
            Act::Drop => {
                if let Some(conn) = p.conn.take() {
                    // An abrupt reset: both ends learn at once.
                    p.up.clear();
                    p.down.clear();
                    p.client.handle_connection_lost(self.now);
                    self.by_conn.remove(conn);
                    self.node.handle_disconnect(self.now, conn);
                    self.node_io();
                    self.client_io(i);
                }
            }
            Act::Raw(bytes) => {
                if hostile_active {
                    self.send_up(i, Item::Bytes(bytes));
                }
            }
            Act::Flood(n) => {
                if hostile_active {
                    let mut bytes = Vec::new();
                    for seq in 0..n {
                        let ping = ClientMsg::Session(ClientSession::Ping {
                            seq,
                            client_time_us: self.now.as_micros(),
                        });
                        let _ = encode_frame(&ping, MAX_CLIENT_PAYLOAD, &mut bytes);
                    }
                    self.send_up(i, Item::Bytes(bytes));
                }
            }
        }
        self.client_io(i);
        self.push(self.now + ACT_EVERY, Ev::Act(i));
    }

    /// Leaves for good and logs in again two seconds later.
    fn relog(&mut self, i: u32) {
        let p = &mut self.peers[i as usize];
        p.client.goodbye();
        p.reconnect_pending = true;
        self.client_io(i);
        self.push(self.now + Duration::from_secs(2), Ev::Reconnect(i));
    }

    fn reconnect(&mut self, i: u32) {
        let p = &mut self.peers[i as usize];
        p.reconnect_pending = false;
        if p.conn.is_some() {
            return;
        }
        // Wait for the old connection's last bytes (a goodbye) to leave.
        if let Some(at) = p.up.next_at() {
            p.reconnect_pending = true;
            self.push(at + Duration::from_millis(1), Ev::Reconnect(i));
            return;
        }
        if !self.prepare_login(i) {
            return;
        }
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        let p = &mut self.peers[i as usize];
        p.conn = Some(conn);
        p.conn_for_up = Some(conn);
        p.conn_for_down = Some(conn);
        p.down.clear();
        self.by_conn.insert(conn, i);
        self.node.handle_connect(self.now, conn);
        self.peers[i as usize].client.connect(self.now);
        self.node_io();
        self.client_io(i);
    }

    fn restart(&mut self) {
        self.restarts += 1;
        let s = self.node.stats();
        self.ticks_before_restart += s.ticks;
        self.overruns_before_restart += s.tick_overruns;
        self.count_refusals_before_restart();
        self.checker.bank_combat(&self.node);
        self.bank_economy();
        self.bank_raids();
        self.node = Node::new(
            self.config.node.clone(),
            self.config.seed ^ (self.restarts << 48),
        )
        .expect("valid simulator node config");
        self.node
            .accept_tokens(self.login.verifying_key(), login::UNIX_MS_AT_ZERO, self.now);
        self.login.node_restarted();
        self.persist.node_restarted();
        // Answers still owed to the old node died with its connections.
        self.outcomes.clear();
        self.node_armed = None;
        self.by_conn.clear();
        self.checker.on_restart();
        for i in 0..self.peers.len() as u32 {
            let p = &mut self.peers[i as usize];
            p.up.clear();
            p.down.clear();
            p.conn_for_up = None;
            p.conn_for_down = None;
            if p.conn.take().is_some() {
                p.client.handle_connection_lost(self.now);
                self.client_io(i);
            }
        }
    }
}
