//! The simulator's side of the economy: traders told of one another, the
//! economy checks (`invariants/economy.rs`) fed with each client's economy
//! messages, the store's and the node's inventories at each check and the
//! store's audit of every transaction it applies; and the figures for the
//! report.

use super::invariants::{EconomyChecker, EconomyChecks};
use super::Simulator;
use crate::policy::{ring_partners, FightTally, Kind, TradeTally};
use game_core::client::{Client, ClientEvent};
use game_core::node::NodeStats;
use serde::Serialize;

/// Refusals an honest trader's own bookkeeping should never earn: its
/// numbers rise, it asks others, it buys what the catalogue lists, it offers
/// a few stacks. (The rest may come of a view a moment old.)
const TRADER_BLUNDERS: [&str; 4] = ["replayed", "yourself", "no_such_offer", "too_many_items"];

/// What the node counted of the economy, over every incarnation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeEconomy {
    pub requests: u64,
    pub refused: u64,
    pub transactions: u64,
    pub committed: u64,
    pub conflicts: u64,
    pub retries: u64,
    pub trades_ended: u64,
    pub trades_done: u64,
    pub loot_given: u64,
    pub loot_lost: u64,
}

impl NodeEconomy {
    pub(super) fn add(&mut self, s: &NodeStats) {
        self.requests += s.economy_requests;
        self.refused += s.economy_refused;
        self.transactions += s.economy_transactions;
        self.committed += s.economy_committed;
        self.conflicts += s.economy_conflicts;
        self.retries += s.economy_retries;
        self.trades_ended += s.trades_ended;
        self.trades_done += s.trades_done;
        self.loot_given += s.loot_given;
        self.loot_lost += s.loot_lost;
    }
}

/// What the traders did, all together.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TraderReport {
    pub bots: usize,
    #[serde(flatten)]
    pub tally: TradeTally,
    pub fight: FightTally,
}

/// The economy: what the node counted and what the checks looked at.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EconomyReport {
    pub node: NodeEconomy,
    pub checks: EconomyChecks,
}

/// The economy's part of the simulator's state.
#[derive(Debug, Default)]
pub(super) struct EconomyWatch {
    pub(super) checker: EconomyChecker,
    /// What nodes since restarted counted.
    pub(super) banked: NodeEconomy,
}

impl Simulator {
    /// Each trader learns the names of the traders beside it (bot names
    /// are their characters').
    pub(super) fn introduce_traders(&mut self) {
        let traders: Vec<usize> = (0..self.peers.len())
            .filter(|&i| self.peers[i].policy.kind == Kind::Trader)
            .collect();
        for &i in &traders {
            let names = ring_partners(&traders, i)
                .into_iter()
                .map(|j| self.peers[j].client.config().character.clone())
                .collect();
            self.peers[i].policy.set_trade_partners(names);
        }
    }

    /// Bot `i`'s client emitted `e`.
    pub(super) fn economy_event(&mut self, i: u32, e: &ClientEvent) {
        if !matches!(e, ClientEvent::Economy(_)) {
            return;
        }
        let p = &self.peers[i as usize];
        let mut failures = Vec::new();
        let store = self.store.committed();
        self.economy
            .checker
            .on_client(&p.client, p.conn_for_down, e, store, &mut failures);
        for f in failures {
            self.checker.report(self.now, f);
        }
    }

    /// The economy checks, at each check.
    pub(super) fn check_economy(&mut self, settled: bool) {
        let clients: Vec<(&Client, bool)> = self
            .peers
            .iter()
            .map(|p| (&p.client, !p.policy.kind.is_hostile()))
            .collect();
        let mut failures = self.store.audit_mut().take_failures();
        let store = self.store.committed();
        self.economy.checker.check(
            &self.node,
            store,
            &clients,
            self.now,
            settled,
            &mut failures,
        );
        for f in failures {
            self.checker.report(self.now, f);
        }
    }

    /// At the end: no trader earned a refusal for its own mistake.
    pub(super) fn final_economy_checks(&mut self) {
        let mut failures = Vec::new();
        for (i, p) in self.peers.iter().enumerate() {
            let Some(t) = p.policy.trade_tally() else {
                continue;
            };
            for r in TRADER_BLUNDERS {
                if let Some(n) = t.refusals.get(r) {
                    failures.push(format!("honest bot {i} (Trader) was refused {r} {n} times"));
                }
            }
        }
        for f in failures {
            self.checker.report(game_core::time::Instant::ZERO, f);
        }
    }

    /// The node is about to restart: keep what it counted.
    pub(super) fn bank_economy(&mut self) {
        self.economy.banked.add(self.node.stats());
        self.economy.checker.on_restart();
    }

    pub(super) fn economy_report(&self) -> (TraderReport, EconomyReport) {
        let mut traders = TraderReport::default();
        for p in &self.peers {
            if let Some(t) = p.policy.trade_tally() {
                traders.bots += 1;
                traders.tally.add(t);
                if let Some(f) = p.policy.fight_tally() {
                    traders.fight.add(f);
                }
            }
        }
        let mut node = self.economy.banked.clone();
        node.add(self.node.stats());
        let audit = self.store.audit();
        let checks = EconomyChecks {
            tx_applied: audit.applied,
            tx_replayed: audit.replayed,
            tx_refused: audit.refused,
            ..self.economy.checker.counts.clone()
        };
        (traders, EconomyReport { node, checks })
    }
}
