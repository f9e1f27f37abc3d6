//! What a server that is alone answers in-process: its store in memory and a
//! loopback bus. The simulator, the tests and (until the SQL stores and the
//! Redis bus arrive) the adapter drive a node through this, so each driver
//! handles only its own outputs: bytes, closes and events.

use super::{Node, Output};
use crate::bus::LoopbackBus;
use crate::persist::MemoryStore;
use crate::time::Instant;

#[derive(Debug, Default)]
pub struct InProcess {
    pub store: MemoryStore,
    pub bus: LoopbackBus,
}

impl InProcess {
    /// Carries out a persistence, publish or subscribe output at once, feeding
    /// any answer back to `node`; hands every other output back to the driver.
    pub fn serve(&mut self, node: &mut Node, now: Instant, out: Output) -> Option<Output> {
        match out {
            Output::Persist(intent) => {
                let outcome = self.store.apply(&intent);
                node.handle_store_outcome(now, outcome);
                None
            }
            Output::Publish(message) => {
                if let Some(back) = self.bus.publish(message) {
                    node.handle_bus(now, back);
                }
                None
            }
            Output::Subscribe(topic) => {
                self.bus.subscribe(topic);
                None
            }
            other => Some(other),
        }
    }
}
