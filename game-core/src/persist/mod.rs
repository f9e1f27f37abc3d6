//! The contract every store keeps: persistence is an output of the core.
//!
//! The core asks with an [`Intent`] (a change with a unique [`IntentId`]); the
//! driver executes it against a store (the adapter's, the simulator's) and feeds
//! the [`Outcome`] back as an input. Rules every store and every caller keep:
//!
//! 1. An intent is idempotent by its id: applied twice, it has the effect of once
//!    (a retry after a crash or a timeout cannot apply a change twice).
//! 2. The core treats a change as done only when its outcome arrives; until
//!    then it is pending, in a bounded table.
//! 3. Many intents may share one commit; none is acknowledged before it.
//!
//! This module owns the types and [`MemoryStore`], the reference store: no IO,
//! so the simulator and the tests run it, and so does the adapter until the
//! SQL stores arrive. It may not touch sessions, zones or the node.

mod memory;

pub use memory::MemoryStore;

use crate::ids::IntentId;
use crate::math::Vec2;

/// One change for the store to apply, named by its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    pub id: IntentId,
    pub change: Change,
}

/// What a store can be asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Remember where an account's character last stood (on leaving the world).
    SavePlace { account: String, place: Place },
}

/// A spot in the world: a map and a position on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub map: String,
    pub pos: Vec2,
}

/// The store's answer to one intent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub id: IntentId,
    pub result: Result<(), StoreError>,
}

/// Why a store did not apply an intent. The change did not happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The store could not be reached or failed to commit; trying the same
    /// intent again later is safe (rule 1).
    Unavailable,
}
