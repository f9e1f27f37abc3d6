//! The store and the bus as the fuzzed driver plays them, and what the node must
//! have counted after each answer.
//!
//! The store answers an intent at once (as `InProcess` does), refuses it at
//! once with `Unavailable`, or holds it until the script answers it: late, out
//! of order, twice, failing. It also answers ids the node never issued. The bus
//! hands the node's publications back at once or holds them until the script
//! delivers them. Ok answers are applied to a real `MemoryStore`, so the
//! node sees real replies (accounts, characters). The node may also give up
//! on a held intent (its store timeout); answering it later is then
//! unexpected to the node.

use super::ops::StoreMode;
use game_core::bus::{BusMessage, Topic};
use game_core::ids::{AccountId, IntentId};
use game_core::node::{Node, NodeConfig};
use game_core::persist::{Intent, MemoryStore, Outcome, Reply, StoreError};
use game_core::time::Instant;
use std::collections::{BTreeSet, VecDeque};

#[derive(Debug)]
pub(super) struct StoreAndBus {
    pub mode: StoreMode,
    memory: MemoryStore,
    /// Intents issued, and the last id among them.
    issued: u64,
    last_id: u64,
    /// Issued and not yet answered, in the order issued: what the node must
    /// hold pending.
    held: Vec<Intent>,
    /// Answered at least once, in the order of their first answer.
    answered: Vec<Intent>,
    /// Answers given to the node, of any kind: each is counted by the node
    /// as acknowledged, failed or unexpected.
    answers: u64,
    /// The node's `store_dropped` after the last check.
    dropped: u64,
    pub hold_bus: bool,
    subscribed: BTreeSet<Topic>,
    /// Publications held back, on subscribed topics.
    in_flight: VecDeque<BusMessage>,
    /// Accounts the node has announced online and not since offline.
    online: BTreeSet<AccountId>,
    /// Bus messages the node must have taken (on a subscribed topic).
    bus_received: u64,
}

impl Default for StoreAndBus {
    fn default() -> Self {
        // The accounts scripted tokens name (ids 1 and 2).
        let mut memory = MemoryStore::default();
        for name in super::super::wire::TOKEN_ACCOUNTS {
            memory
                .register(name, "$argon2id$unused")
                .expect("a new name");
        }
        StoreAndBus {
            mode: StoreMode::AtOnce,
            memory,
            issued: 0,
            last_id: 0,
            held: Vec::new(),
            answered: Vec::new(),
            answers: 0,
            dropped: 0,
            hold_bus: false,
            subscribed: BTreeSet::new(),
            in_flight: VecDeque::new(),
            online: BTreeSet::new(),
            bus_received: 0,
        }
    }
}

impl StoreAndBus {
    /// An `Output::Persist`: answered now or held, as the mode says.
    pub fn intent(&mut self, node: &mut Node, now: Instant, intent: Intent) {
        assert!(
            intent.id.0 > self.last_id,
            "{:?} issued after {}",
            intent.id,
            self.last_id
        );
        self.last_id = intent.id.0;
        self.issued += 1;
        self.held.push(intent);
        match self.mode {
            StoreMode::AtOnce => self.answer(node, now, self.held.len() - 1, false),
            StoreMode::Unavailable => self.answer(node, now, self.held.len() - 1, true),
            StoreMode::Hold => {}
        }
    }

    /// Answers the `which`-th held intent (modulo), if any is held.
    pub fn answer(&mut self, node: &mut Node, now: Instant, which: usize, fail: bool) {
        if self.held.is_empty() {
            return;
        }
        let intent = self.held.remove(which % self.held.len());
        self.reply(node, now, &intent, fail);
        self.answered.push(intent);
    }

    /// Answers again the `which`-th intent already answered (modulo).
    pub fn answer_again(&mut self, node: &mut Node, now: Instant, which: usize, fail: bool) {
        if self.answered.is_empty() {
            return;
        }
        let intent = self.answered[which % self.answered.len()].clone();
        self.reply(node, now, &intent, fail);
    }

    /// Answers an id `ahead` past the last the node issued.
    pub fn answer_unknown(&mut self, node: &mut Node, now: Instant, ahead: u8) {
        let id = IntentId(self.last_id + 1 + ahead as u64);
        self.answers += 1;
        let result = Ok(Reply::Done);
        node.handle_store_outcome(now, Outcome { id, result });
    }

    /// Answers everything held, acknowledged, oldest first.
    pub fn answer_all(&mut self, node: &mut Node, now: Instant) {
        while !self.held.is_empty() {
            self.answer(node, now, 0, false);
        }
    }

    fn reply(&mut self, node: &mut Node, now: Instant, intent: &Intent, fail: bool) {
        self.answers += 1;
        let result = if fail {
            Err(StoreError::Unavailable)
        } else {
            let outcome = self.memory.apply(intent);
            assert_eq!(outcome.id, intent.id);
            outcome.result
        };
        node.handle_store_outcome(
            now,
            Outcome {
                id: intent.id,
                result,
            },
        );
    }

    /// The store the Ok answers were applied to.
    pub fn memory(&self) -> &MemoryStore {
        &self.memory
    }

    /// An `Output::Subscribe`: each topic once.
    pub fn subscribe(&mut self, topic: Topic) {
        assert!(
            self.subscribed.insert(topic),
            "subscribed to {topic:?} twice"
        );
    }

    /// An `Output::Publish`: returns it if the bus hands it back now.
    pub fn publish(&mut self, message: BusMessage) -> Option<BusMessage> {
        if let BusMessage::Presence { account, online } = &message {
            let changed = if *online {
                self.online.insert(*account)
            } else {
                self.online.remove(account)
            };
            assert!(changed, "presence of {account:?} repeated: online {online}");
        }
        if !self.subscribed.contains(&message.topic()) {
            return None;
        }
        if self.hold_bus {
            self.in_flight.push_back(message);
            return None;
        }
        Some(message)
    }

    /// The oldest publication held back.
    pub fn next_delivery(&mut self) -> Option<BusMessage> {
        self.in_flight.pop_front()
    }

    /// A message is about to be handed to the node: whether it subscribed.
    pub fn delivering(&mut self, message: &BusMessage) -> bool {
        let subscribed = self.subscribed.contains(&message.topic());
        self.bus_received += subscribed as u64;
        subscribed
    }

    /// The node's counters agree with every answer given and every message
    /// delivered; its pending table is what was issued and not answered, and
    /// within its bound; the accounts announced online are its players'.
    pub fn check(&mut self, node: &Node, config: &NodeConfig) {
        let stats = node.stats();
        let pending = node.pending_intents();
        // Held intents the node gave up on are no longer pending there.
        assert!(pending <= self.held.len(), "pending intents");
        assert!(pending <= config.max_pending_intents as usize);
        assert_eq!(stats.store_intents, self.issued, "intents issued");
        assert_eq!(
            stats.store_acknowledged + stats.store_failed + stats.store_unexpected,
            self.answers,
            "every answer is counted once"
        );
        assert_eq!(
            stats.store_intents,
            stats.store_acknowledged + stats.store_failed + stats.store_timeouts + pending as u64,
            "every intent is acknowledged, failed, given up on or pending"
        );
        assert!(stats.store_dropped >= self.dropped);
        self.dropped = stats.store_dropped;
        assert_eq!(stats.bus_received, self.bus_received, "bus messages taken");
        let players: BTreeSet<AccountId> = node.players().map(|p| p.account).collect();
        assert_eq!(players, self.online, "players and presence disagree");
    }
}
