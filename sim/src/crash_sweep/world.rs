//! The sweep's world: one node, the store that outlives it, and clients on
//! links that deliver at once, in virtual time. It watches what the node asks
//! of the store and injects one crash at one step of one transaction (the
//! [`Plan`]): a node crash is a fresh node over the same store (the old one's
//! outputs die with it, its clients reconnect), a store crash loses what it
//! had not committed and keeps it down for a while.

use super::store::{Bug, SweepStore};
use super::{Point, Step, Who};
use game_core::bus::LoopbackBus;
use game_core::client::{Client, ClientConfig, ClientEvent, ClientState};
use game_core::content::{Content, EquipSlot};
use game_core::economy::{Inventory, Stack};
use game_core::ids::{CharacterId, ConnId};
use game_core::node::{Node, NodeConfig, Output};
use game_core::persist::{Change, Intent, Outcome, Reply, StoreError};
use game_core::protocol::{Cause, InventoryView, PassProgress, ServerEconomy};
use game_core::time::{Duration, Instant};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The store answers this long after an intent reaches it.
const STORE_LATENCY: Duration = Duration::from_millis(2);
/// A crashed store is down this long.
pub const STORE_DOWN: Duration = Duration::from_secs(3);
/// A client reconnects this long after its connection ended.
const RECONNECT_AFTER: Duration = Duration::from_millis(250);
/// An intent held on the wire by a node crash lands at the latest this long
/// after the crash (sooner: right after the restarted node loaded one of its
/// inventories).
const LATE_AT_MOST: Duration = Duration::from_secs(5);

/// What the store does with one intent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Normal,
    /// The node crashes after the store's first step (a sound store: the
    /// commit; so the answer goes to a dead node).
    CrashNodeAfterFirst,
    /// The store crashes after its first step (a sound store: the commit;
    /// so the answer is never sent).
    CrashStoreAfterFirst,
    /// Committed and answered; the node crashes right after taking the
    /// answer, before anything it sends leaves.
    CrashNodeAfterAnswer,
    /// Committed; the answer is lost on the way.
    LoseAnswer,
    /// The commit fails: answered `Unavailable`, nothing applied.
    FailUnavailable,
}

/// What the crash plan does to the retry of the target, when it comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RetryFate {
    NodeCrash,
    Store(Fate),
}

/// One crash, at one step of the first transaction the predicate picks
/// once armed.
pub struct Plan {
    pub point: Point,
    pub pick: fn(&Change, &SweepStore) -> bool,
    /// The characters whose transaction it may be (one part at least).
    pub actors: Vec<CharacterId>,
    pub armed: bool,
    /// The target was seen (and its crash set up).
    pub fired: bool,
    /// The crash itself happened.
    pub crashed: bool,
    /// The target's name and characters.
    pub target: Option<((CharacterId, u64), Vec<CharacterId>)>,
    retry: Option<(Change, RetryFate)>,
    /// An intent on the wire from a dead node: (its epoch, it, its characters).
    late: Option<(u64, Intent, Vec<CharacterId>)>,
}

impl Plan {
    pub fn new(point: Point, pick: fn(&Change, &SweepStore) -> bool) -> Self {
        Plan {
            point,
            pick,
            actors: Vec::new(),
            armed: false,
            fired: false,
            crashed: false,
            target: None,
            retry: None,
            late: None,
        }
    }

    /// Nothing of the crash is still to happen.
    pub fn spent(&self) -> bool {
        self.fired && self.crashed && self.retry.is_none() && self.late.is_none()
    }
}

/// A `Changed` a client got: the inventory as it then showed it.
#[derive(Clone, Debug)]
pub struct Ack {
    pub peer: usize,
    pub character: CharacterId,
    pub cause: Cause,
    pub req: u32,
    pub seq: u64,
    pub gold: u64,
    pub slots: Vec<Option<Stack>>,
    pub equipped: Vec<Option<Stack>>,
    pub pass: Option<PassProgress>,
}

#[derive(Debug)]
pub struct Peer {
    pub name: String,
    pub client: Client,
    pub conn: Option<ConnId>,
    reconnect_at: Option<Instant>,
    pub character: Option<CharacterId>,
    /// Times it entered the world.
    pub entries: u64,
    /// The inventory as this peer was shown it, kept here from the
    /// messages one by one (to check each acknowledgement as it was).
    pub seen: Option<InventoryView>,
    /// Economy messages not yet read by its bot.
    pub inbox: Vec<ServerEconomy>,
}

impl Peer {
    pub fn in_world(&self) -> bool {
        *self.client.state() == ClientState::InWorld
    }
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Store { epoch: u64, fate: Fate },
    StoreUp,
    LateLands,
}

/// Counts for the report.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub restarts: u64,
    pub store_crashes: u64,
    pub lost_intents: u64,
    pub answers_to_dead_node: u64,
    pub node_retries: u64,
    pub late_landed: u64,
}

pub struct World {
    pub now: Instant,
    pub node: Node,
    pub epoch: u64,
    config: NodeConfig,
    content: Arc<Content>,
    seed: u64,
    bus: LoopbackBus,
    pub store: SweepStore,
    store_down: bool,
    pub peers: Vec<Peer>,
    next_conn: u64,
    events: BTreeMap<(Instant, u64), (Ev, Option<Intent>)>,
    ev_seq: u64,
    pub plan: Plan,
    pub acks: Vec<Ack>,
    pub counts: Counts,
    /// Economy messages of a kind the checks must see none of.
    pub oddities: Vec<String>,
}

impl World {
    pub fn new(content: Content, seed: u64, plan: Plan, bug: Option<Bug>) -> Self {
        let config = NodeConfig {
            store_timeout_ms: 2_000,
            ..NodeConfig::default()
        };
        let content = Arc::new(content);
        let node = Node::with_content(config.clone(), seed, Vec::new(), Arc::clone(&content))
            .expect("a valid sweep node");
        World {
            now: Instant::ZERO,
            node,
            epoch: 0,
            config,
            content,
            seed,
            bus: LoopbackBus::default(),
            store: SweepStore::new(bug),
            store_down: false,
            peers: Vec::new(),
            next_conn: 0,
            events: BTreeMap::new(),
            ev_seq: 0,
            plan,
            acks: Vec::new(),
            counts: Counts::default(),
            oddities: Vec::new(),
        }
    }

    pub fn content(&self) -> &Arc<Content> {
        &self.content
    }

    /// A client logging in as `name` (its character has the same name).
    pub fn join(&mut self, name: &str) -> usize {
        self.peers.push(Peer {
            name: name.into(),
            client: Client::new(ClientConfig::new(name)),
            conn: None,
            reconnect_at: Some(self.now),
            character: None,
            entries: 0,
            seen: None,
            inbox: Vec::new(),
        });
        self.peers.len() - 1
    }

    fn push(&mut self, at: Instant, ev: Ev, intent: Option<Intent>) {
        self.ev_seq += 1;
        self.events.insert((at, self.ev_seq), (ev, intent));
    }

    /// The node crashes: a fresh one over the same store; every connection
    /// ends and its client comes back.
    fn restart(&mut self) {
        self.counts.node_retries += self.node.stats().economy_retries;
        self.counts.restarts += 1;
        self.plan.crashed = true;
        self.epoch += 1;
        self.node = Node::with_content(
            self.config.clone(),
            self.seed ^ (self.epoch << 48),
            Vec::new(),
            Arc::clone(&self.content),
        )
        .expect("a valid sweep node");
        self.bus = LoopbackBus::default();
        for p in &mut self.peers {
            if p.conn.take().is_some() {
                p.client.handle_connection_lost(self.now);
            }
            p.reconnect_at = Some(self.now + RECONNECT_AFTER);
        }
    }

    /// The store crashes: what it had queued is lost, and it is down.
    fn crash_store(&mut self) {
        self.counts.store_crashes += 1;
        self.plan.crashed = true;
        let queued: Vec<_> = self
            .events
            .iter()
            .filter(|(_, (ev, _))| matches!(ev, Ev::Store { .. }))
            .map(|(k, _)| *k)
            .collect();
        self.counts.lost_intents += queued.len() as u64;
        for k in queued {
            self.events.remove(&k);
        }
        if !self.store_down {
            self.store_down = true;
            self.push(self.now + STORE_DOWN, Ev::StoreUp, None);
        }
    }

    fn send_to_store(&mut self, intent: Intent, fate: Fate) {
        let epoch = self.epoch;
        self.push(
            self.now + STORE_LATENCY,
            Ev::Store { epoch, fate },
            Some(intent),
        );
    }

    /// The node asks the store for something. Returns whether the node
    /// crashed (its other outputs died with it).
    fn on_persist(&mut self, intent: Intent) -> bool {
        if let Some((change, fate)) = &self.plan.retry {
            if *change == intent.change {
                let fate = *fate;
                self.plan.retry = None;
                match fate {
                    RetryFate::NodeCrash => {
                        self.restart();
                        return true;
                    }
                    RetryFate::Store(f) => {
                        self.plan.crashed = true;
                        self.send_to_store(intent, f);
                        return false;
                    }
                }
            }
        }
        let target = self.plan.armed
            && !self.plan.fired
            && match &intent.change {
                Change::CommitTx { parts, .. } => parts
                    .iter()
                    .any(|p| self.plan.actors.contains(&p.character)),
                _ => false,
            }
            && (self.plan.pick)(&intent.change, &self.store);
        if !target {
            self.send_to_store(intent, Fate::Normal);
            return false;
        }
        self.plan.fired = true;
        let Change::CommitTx { parts, .. } = &intent.change else {
            unreachable!("checked above");
        };
        let characters: Vec<CharacterId> = parts.iter().map(|p| p.character).collect();
        self.plan.target = Some(((parts[0].character, parts[0].after.seq), characters.clone()));
        match (self.plan.point.who, self.plan.point.step) {
            (Who::Node, Step::BeforeSend) => {
                self.restart();
                return true;
            }
            (Who::Node, Step::InTransit) => {
                self.plan.late = Some((self.epoch, intent, characters));
                self.push(self.now + LATE_AT_MOST, Ev::LateLands, None);
                self.restart();
                return true;
            }
            (Who::Node, Step::AfterCommit) => self.send_to_store(intent, Fate::CrashNodeAfterFirst),
            (Who::Node, Step::DuringAck) => self.send_to_store(intent, Fate::CrashNodeAfterAnswer),
            (Who::Node, Step::OnRetry) => {
                self.plan.retry = Some((intent.change.clone(), RetryFate::NodeCrash));
                self.send_to_store(intent, Fate::FailUnavailable);
            }
            (Who::Store, Step::BeforeSend) => {
                // Down when it arrives: lost without an answer.
                self.crash_store();
                self.counts.lost_intents += 1;
            }
            (Who::Store, Step::InTransit) => {
                self.plan.crashed = true;
                self.send_to_store(intent, Fate::FailUnavailable);
            }
            (Who::Store, Step::AfterCommit) => {
                self.send_to_store(intent, Fate::CrashStoreAfterFirst)
            }
            (Who::Store, Step::DuringAck) => {
                self.plan.crashed = true;
                self.send_to_store(intent, Fate::LoseAnswer);
            }
            (Who::Store, Step::OnRetry) => {
                self.plan.retry = Some((
                    intent.change.clone(),
                    RetryFate::Store(Fate::CrashStoreAfterFirst),
                ));
                self.send_to_store(intent, Fate::FailUnavailable);
            }
        }
        false
    }

    /// Hands an answer to the node that asked, if it is still the one up.
    /// Returns false when it went to a dead node.
    fn answer(&mut self, epoch: u64, outcome: Outcome, drain: bool) -> bool {
        if epoch != self.epoch {
            self.counts.answers_to_dead_node += 1;
            return false;
        }
        self.node.handle_store_outcome(self.now, outcome);
        if drain {
            self.pump();
        }
        true
    }

    fn store_event(&mut self, epoch: u64, fate: Fate, intent: Intent) {
        if self.store_down {
            self.counts.lost_intents += 1;
            return;
        }
        if fate == Fate::FailUnavailable {
            let outcome = Outcome {
                id: intent.id,
                result: Err(StoreError::Unavailable),
            };
            self.answer(epoch, outcome, true);
            return;
        }
        let ack_first = self.store.bug == Some(Bug::AckBeforeCommit)
            && matches!(intent.change, Change::CommitTx { .. });
        let mut outcome = None;
        for first in [true, false] {
            let apply_now = first != ack_first;
            if apply_now {
                let o = self.store.apply(&intent);
                outcome.get_or_insert(o);
            } else {
                let o = outcome.clone().unwrap_or(Outcome {
                    id: intent.id,
                    result: Ok(Reply::Done),
                });
                if fate != Fate::LoseAnswer {
                    let drain = fate != Fate::CrashNodeAfterAnswer;
                    self.answer(epoch, o, drain);
                }
                if fate == Fate::CrashNodeAfterAnswer {
                    self.restart();
                }
            }
            if first {
                match fate {
                    Fate::CrashNodeAfterFirst => self.restart(),
                    Fate::CrashStoreAfterFirst => {
                        self.crash_store();
                        break;
                    }
                    _ => {}
                }
            }
        }
        // An intent held on the wire lands right after the restarted node
        // loaded one of the inventories it changes.
        if let (Change::LoadInventory { character }, Some((late_epoch, _, chars))) =
            (&intent.change, &self.plan.late)
        {
            if epoch > *late_epoch && chars.contains(character) {
                self.land_late();
            }
        }
    }

    fn land_late(&mut self) {
        if let Some((epoch, intent, _)) = self.plan.late.take() {
            self.counts.late_landed += 1;
            self.push(
                self.now,
                Ev::Store {
                    epoch,
                    fate: Fate::Normal,
                },
                Some(intent),
            );
        }
    }

    /// The next instant something is due.
    fn next_due(&self) -> Option<Instant> {
        let node = self.node.poll_timeout();
        let ev = self.events.keys().next().map(|(at, _)| *at);
        let peers = self
            .peers
            .iter()
            .flat_map(|p| [p.client.poll_timeout(), p.reconnect_at]);
        [node, ev].into_iter().chain(peers).flatten().min()
    }

    /// Runs everything due up to `end`, then sets the clock there.
    pub fn advance_to(&mut self, end: Instant) {
        while let Some(at) = self.next_due().filter(|&at| at <= end) {
            self.now = self.now.max(at);
            self.run_due();
        }
        self.now = self.now.max(end);
    }

    fn run_due(&mut self) {
        let now = self.now;
        while let Some((&key, _)) = self.events.iter().next().filter(|(k, _)| k.0 <= now) {
            let (ev, intent) = self.events.remove(&key).expect("just seen");
            match ev {
                Ev::Store { epoch, fate } => {
                    self.store_event(epoch, fate, intent.expect("a store event has its intent"))
                }
                Ev::StoreUp => self.store_down = false,
                Ev::LateLands => self.land_late(),
            }
            self.pump();
        }
        if self.node.poll_timeout().is_some_and(|t| t <= now) {
            self.node.handle_timeout(now);
        }
        for i in 0..self.peers.len() {
            if self.peers[i]
                .client
                .poll_timeout()
                .is_some_and(|t| t <= now)
            {
                self.peers[i].client.handle_timeout(now);
            }
            if self.peers[i].reconnect_at.is_some_and(|t| t <= now) {
                self.peers[i].reconnect_at = None;
                self.next_conn += 1;
                let conn = ConnId(self.next_conn);
                self.peers[i].conn = Some(conn);
                self.peers[i].client.connect(now);
                self.node.handle_connect(now, conn);
            }
        }
        self.pump();
    }

    /// Moves every byte and output until nothing more happens now.
    pub fn pump(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.peers.len() {
                while let Some(bytes) = self.peers[i].client.poll_transmit() {
                    if let Some(conn) = self.peers[i].conn {
                        self.node.handle_bytes(self.now, conn, &bytes);
                        moved = true;
                    }
                }
            }
            while let Some(out) = self.node.poll_output() {
                moved = true;
                match out {
                    Output::Transmit { conn, bytes } => {
                        self.node.handle_flushed(conn, bytes.len());
                        if let Some(i) = self.peers.iter().position(|p| p.conn == Some(conn)) {
                            self.peers[i].client.handle_bytes(self.now, &bytes);
                            self.client_events(i);
                        }
                    }
                    Output::Close { conn, .. } => {
                        if let Some(p) = self.peers.iter_mut().find(|p| p.conn == Some(conn)) {
                            p.conn = None;
                            p.client.handle_connection_lost(self.now);
                            p.reconnect_at = Some(self.now + RECONNECT_AFTER);
                        }
                    }
                    Output::Persist(intent) => {
                        if self.on_persist(intent) {
                            // The node crashed: its other outputs are gone.
                            continue;
                        }
                    }
                    Output::Publish(m) => {
                        if let Some(back) = self.bus.publish(m) {
                            self.node.handle_bus(self.now, back);
                        }
                    }
                    Output::Subscribe(topic) => self.bus.subscribe(topic),
                    Output::Event(_) => {}
                }
            }
            if !moved {
                break;
            }
        }
    }

    fn client_events(&mut self, i: usize) {
        while let Some(e) = self.peers[i].client.poll_event() {
            match e {
                ClientEvent::EnteredWorld { character, .. } => {
                    let p = &mut self.peers[i];
                    p.character = Some(character.id);
                    p.entries += 1;
                    p.seen = None;
                }
                ClientEvent::Economy(msg) => self.economy_message(i, msg),
                _ => {}
            }
        }
    }

    fn economy_message(&mut self, i: usize, msg: ServerEconomy) {
        let p = &mut self.peers[i];
        match &msg {
            ServerEconomy::Inventory(v) => p.seen = Some(v.clone()),
            ServerEconomy::Changed {
                req,
                cause,
                seq,
                gold,
                slots,
                equipped,
                pass,
                ..
            } => match (p.seen.as_mut(), p.character) {
                (Some(v), Some(character)) => {
                    v.seq = *seq;
                    v.gold = *gold;
                    for &(at, s) in slots {
                        if let Some(slot) = v.slots.get_mut(at as usize) {
                            *slot = s;
                        }
                    }
                    for &(at, s) in equipped {
                        let k = EquipSlot::ALL.iter().position(|x| *x == at);
                        if let Some(worn) = k.and_then(|k| v.equipped.get_mut(k)) {
                            *worn = s;
                        }
                    }
                    self.acks.push(Ack {
                        peer: i,
                        character,
                        cause: *cause,
                        req: *req,
                        seq: *seq,
                        gold: *gold,
                        slots: v.slots.clone(),
                        equipped: v.equipped.clone(),
                        pass: pass.clone(),
                    });
                }
                _ => self
                    .oddities
                    .push(format!("{}: a change before its inventory", p.name)),
            },
            _ => {}
        }
        p.inbox.push(msg);
    }

    /// The store is up, nothing is queued for it or on the wire, and the
    /// node has no transaction in flight.
    pub fn quiet(&self) -> bool {
        !self.store_down
            && self
                .events
                .values()
                .all(|(ev, _)| matches!(ev, Ev::LateLands))
            && self.plan.late.is_none()
            && self.node.transactions_in_flight() == 0
    }

    /// Every peer is in the world with its inventory shown.
    pub fn all_in_world(&self) -> bool {
        self.peers.iter().all(|p| p.in_world() && p.seen.is_some())
    }

    /// The node's retries, over every incarnation so far.
    pub fn node_retries(&self) -> u64 {
        self.counts.node_retries + self.node.stats().economy_retries
    }

    /// The inventory the store holds for a peer's character.
    pub fn stored(&self, peer: usize) -> Option<&Inventory> {
        self.store.inventory(self.peers[peer].character?)
    }
}
