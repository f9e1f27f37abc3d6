//! The economy's model: item instances, inventories, gold, and the
//! transactions that change them, as pure values.
//!
//! Every change to what a character owns is one [`Tx`]: a list of
//! [`Op`]s for each inventory it touches (one, or two for a trade).
//! [`apply`] checks and carries out a transaction on copies and hands back
//! the new inventories with a [`Receipt`] of what was created (from a named
//! [`Source`]) and destroyed (into a named [`Sink`]), or refuses it whole:
//! nothing is half applied. The node will show a transaction's result to a
//! player only once the store has it (the store contract); this module only
//! decides what the result is.
//!
//! Exactly once: each inventory carries the sequence number of the last
//! transaction applied to it, and a transaction names the number it expects
//! next for each part. A replay (an older number) is refused, and so is a
//! gap; a store applying the same transaction twice sees the second as a
//! replay. Item ids are minted from (character, sequence, index), so they
//! are unique without any counter shared between servers.
//!
//! Conservation: the sum of everyone's items of a kind is what was minted
//! minus what was burned, and the sum of everyone's gold is what came in
//! minus what went out; the model test holds every transaction to it.

pub mod actions;
mod inventory;
#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;
mod tx;

pub use inventory::{Inventory, PassState, ShopDay, Stack};
pub use tx::{apply, EconomyError, Op, Part, Receipt, Sink, Source, Tx};

use crate::ids::CharacterId;
use serde::{Deserialize, Serialize};

/// One item instance (a stack of a stackable kind shares the id of the stack
/// it was minted as). Minted by the transaction `tx` of `minted_by`, the
/// `n`th item it made: unique for ever, across servers and restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemId {
    pub minted_by: CharacterId,
    pub tx: u64,
    pub n: u32,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Loot,
        Source::Shop,
        Source::PassReward,
        Source::Grant,
        Source::Raid,
    ];

    /// A label for metrics.
    pub fn label(self) -> &'static str {
        match self {
            Source::Loot => "loot",
            Source::Shop => "shop",
            Source::PassReward => "pass_reward",
            Source::Grant => "grant",
            Source::Raid => "raid",
        }
    }
}

impl Sink {
    pub const ALL: [Sink; 3] = [Sink::Shop, Sink::Enhancement, Sink::Deleted];

    /// A label for metrics.
    pub fn label(self) -> &'static str {
        match self {
            Sink::Shop => "shop",
            Sink::Enhancement => "enhancement",
            Sink::Deleted => "deleted",
        }
    }
}
