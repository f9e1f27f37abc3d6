//! Where the core loop sends the node's persistence intents and bus messages.
//!
//! A running server keeps its data in a SQL store ([`crate::store`]): intents
//! go into the store worker's bounded queue (its capacity is the node's own
//! bound, `max_pending_intents`, so it cannot fill), and outcomes come back
//! on a channel the core loop listens to beside connection events. Tests and
//! trials can run everything in memory instead (`[store] url = "memory"`):
//! each intent is applied at once. Either way a server alone loops its bus
//! messages back to itself.

use crate::store::{StoreHandle, SubmitError};
use game_core::auth::VerifyingKey;
use game_core::bus::LoopbackBus;
use game_core::node::Node;
use game_core::persist::{Intent, MemoryStore, Outcome, StoreError};
use game_core::time::Instant;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The store a server runs on.
#[derive(Debug)]
pub enum Persistence {
    /// Nothing kept past the process (tests, trials). The login service may
    /// share the same store, so its accounts are the node's.
    Memory(Arc<Mutex<MemoryStore>>),
    /// A SQL store behind its group-commit worker; its outcomes arrive on
    /// `outcomes`.
    Store {
        handle: StoreHandle,
        outcomes: mpsc::Receiver<Outcome>,
    },
}

impl Persistence {
    /// A fresh store in memory.
    pub fn memory() -> Self {
        Persistence::Memory(Arc::default())
    }
}

/// What [`super::serve_with`] runs with beyond the config.
#[derive(Debug)]
pub struct ServeOptions {
    pub persistence: Persistence,
    /// The login service's public key: the node accepts its tokens. `None`
    /// takes no tokens (development logins only, if they are on).
    pub tokens: Option<VerifyingKey>,
    /// Operator commands from the admin port ([`crate::admin::serve_admin`]).
    pub operator: Option<tokio::sync::mpsc::Receiver<crate::admin::OperatorRequest>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            persistence: Persistence::memory(),
            tokens: None,
            operator: None,
        }
    }
}

/// The core loop's side: applies or queues intents, loops the bus back.
#[derive(Debug)]
pub(super) struct Backend {
    memory: Option<Arc<Mutex<MemoryStore>>>,
    handle: Option<StoreHandle>,
    pub(super) bus: LoopbackBus,
}

impl Backend {
    /// Splits `persistence` into the loop's backend and the outcomes
    /// channel (a SQL store's), which the loop listens to.
    pub(super) fn new(persistence: Persistence) -> (Backend, Option<mpsc::Receiver<Outcome>>) {
        match persistence {
            Persistence::Memory(store) => (
                Backend {
                    memory: Some(store),
                    handle: None,
                    bus: LoopbackBus::default(),
                },
                None,
            ),
            Persistence::Store { handle, outcomes } => (
                Backend {
                    memory: None,
                    handle: Some(handle),
                    bus: LoopbackBus::default(),
                },
                Some(outcomes),
            ),
        }
    }

    /// Applies `intent` in memory, or queues it for the store. A queue that
    /// refuses it (full, or the worker gone at shutdown) answers
    /// `Unavailable` at once: the node retries a save, refuses the rest.
    pub(super) fn persist(&self, node: &mut Node, now: Instant, intent: Intent) {
        if let Some(memory) = &self.memory {
            let outcome = memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .apply(&intent);
            node.handle_store_outcome(now, outcome);
            return;
        }
        let Some(handle) = &self.handle else {
            return;
        };
        if let Err(refused) = handle.try_submit(intent) {
            let intent = match refused {
                SubmitError::Full(i) | SubmitError::Closed(i) => i,
            };
            let result = Err(StoreError::Unavailable);
            node.handle_store_outcome(
                now,
                Outcome {
                    id: intent.id,
                    result,
                },
            );
        }
    }

    /// The store worker's queue, for the metrics: (depth, capacity).
    pub(super) fn queue(&self) -> Option<(usize, usize)> {
        self.handle
            .as_ref()
            .map(|h| (h.queue_depth(), h.queue_capacity()))
    }

    /// Lets go of the store worker: once the queue is drained it stops.
    pub(super) fn release_store(&mut self) {
        self.handle = None;
    }
}
