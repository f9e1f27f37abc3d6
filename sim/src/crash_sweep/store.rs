//! The sweep's store: a [`MemoryStore`] as the durable state, beside what the
//! checks read and the store itself cannot show: the log of every commit it
//! applied (its ledger as a list, so a commit applied twice shows twice) and
//! the history of every inventory state it ever held, by character and
//! sequence number.
//!
//! A [`Bug`] turns it into a broken store on purpose, for the tests that
//! prove the checks catch one.

use game_core::economy::{Inventory, Receipt};
use game_core::ids::CharacterId;
use game_core::persist::{Change, Intent, MemoryStore, Outcome, Reply, StoreError};
use std::collections::BTreeMap;

/// A deliberately broken store (the checker must catch each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// A commit that arrives again is applied again: the store keeps no
    /// ledger by name (as a store keyed by intent id would, across retries).
    ApplyTwice,
    /// Answers `Done` as a commit arrives and commits it afterwards: a crash
    /// between loses an acknowledged transaction.
    AckBeforeCommit,
    /// Knows a commit again by its name and receipt alone, as the store
    /// contract did before the sweep: another transaction decided under the
    /// same name, with an equal receipt, is taken for it.
    ReceiptOnlyReplay,
}

/// One commit the store applied.
#[derive(Clone, Debug)]
pub struct Applied {
    pub name: (CharacterId, u64),
    pub parts: Vec<(CharacterId, Inventory)>,
    pub receipt: Receipt,
}

#[derive(Debug, Default)]
pub struct SweepStore {
    pub mem: MemoryStore,
    pub bug: Option<Bug>,
    /// Every commit applied, in order: the ledger the checks sum.
    pub log: Vec<Applied>,
    /// Every inventory state the store held, by (character, seq).
    pub history: BTreeMap<(CharacterId, u64), Inventory>,
    /// Stored sequence numbers that went backwards (never, in a sound store).
    pub regressions: Vec<String>,
    /// Commits answered `Done` as applied before.
    pub replays: u64,
    pub conflicts: u64,
}

impl SweepStore {
    pub fn new(bug: Option<Bug>) -> Self {
        SweepStore {
            bug,
            ..SweepStore::default()
        }
    }

    /// What a correct store answers and does; a buggy one per its [`Bug`].
    pub fn apply(&mut self, intent: &Intent) -> Outcome {
        let Change::CommitTx { parts, receipt, .. } = &intent.change else {
            return self.mem.apply(intent);
        };
        let name = parts.first().map(|p| (p.character, p.after.seq));
        let known = name.and_then(|n| self.mem.ledger().find(|(k, _)| **k == n).map(|(_, r)| r));
        let known_same = known.is_some_and(|r| r == &**receipt);
        match self.bug {
            Some(Bug::ReceiptOnlyReplay) if known_same => {
                self.replays += 1;
                return Outcome {
                    id: intent.id,
                    result: Ok(Reply::Done),
                };
            }
            Some(Bug::ApplyTwice) if known_same => {
                // Applies it again: the same after states (so nothing to
                // write), and the receipt into the ledger again.
                self.log.push(Applied {
                    name: name.expect("known"),
                    parts: parts
                        .iter()
                        .map(|p| (p.character, p.after.clone()))
                        .collect(),
                    receipt: (**receipt).clone(),
                });
                return Outcome {
                    id: intent.id,
                    result: Ok(Reply::Done),
                };
            }
            _ => {}
        }
        let before: Vec<u64> = parts
            .iter()
            .map(|p| self.mem.inventory(p.character).map_or(0, |i| i.seq))
            .collect();
        let entries = self.mem.ledger().count();
        let outcome = self.mem.apply(intent);
        match outcome.result {
            Ok(_) if self.mem.ledger().count() > entries => {
                for (p, was) in parts.iter().zip(before) {
                    if p.after.seq <= was {
                        self.regressions.push(format!(
                            "{:?}'s stored seq went from {was} to {}",
                            p.character, p.after.seq
                        ));
                    }
                    self.history
                        .insert((p.character, p.after.seq), p.after.clone());
                }
                self.log.push(Applied {
                    name: name.expect("a commit that applied has parts"),
                    parts: parts
                        .iter()
                        .map(|p| (p.character, p.after.clone()))
                        .collect(),
                    receipt: (**receipt).clone(),
                });
            }
            Ok(_) => self.replays += 1,
            Err(StoreError::Conflict) => self.conflicts += 1,
            Err(_) => {}
        }
        outcome
    }

    pub fn inventory(&self, c: CharacterId) -> Option<&Inventory> {
        self.mem.inventory(c)
    }
}
