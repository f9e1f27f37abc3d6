//! The simulator's side of raids: raiders put in little parties, the raid
//! checks (`invariants/raid.rs`) fed after every tick, with each client's
//! raid and reward messages and at each check; what the node counted of
//! raids kept across its restarts; and the figures for the report.

use super::invariants::{rewards_given_once, RaidChecker, RaidChecks};
use super::Simulator;
use crate::policy::{Band, FightTally, Kind, RaidTally};
use game_core::client::ClientEvent;
use game_core::ids::CharacterId;
use game_core::node::RaidStats;
use serde::Serialize;

/// Raiders in every this many lead a party of the next two (the others
/// queue alone).
const BAND_EVERY: usize = 9;

/// What the node counted of raids, over every incarnation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeRaids {
    pub requests: u64,
    pub refused: u64,
    pub matches: u64,
    pub instances_opened: u64,
    pub instances_closed: u64,
    /// The most open at once (in any one incarnation).
    pub instances_peak: u64,
    pub victories: u64,
    pub time_ups: u64,
    pub wipes: u64,
    pub rewards_owed: u64,
    pub rewards_claimed: u64,
    pub rewards_given_at_close: u64,
    pub rewards_given_at_load: u64,
    pub rewards_stored: u64,
    pub rewards_lost: u64,
    pub rewards_from_store: u64,
}

impl NodeRaids {
    fn add(&mut self, s: &RaidStats) {
        self.requests += s.requests;
        self.refused += s.refused.values().sum::<u64>();
        self.matches += s.matches_ready;
        self.instances_opened += s.instances_opened;
        self.instances_closed += s.instances_closed;
        self.instances_peak = self.instances_peak.max(s.instances_peak);
        self.victories += s.victories;
        self.time_ups += s.time_ups;
        self.wipes += s.wipes;
        self.rewards_owed += s.rewards_owed;
        self.rewards_claimed += s.rewards_claimed;
        self.rewards_given_at_close += s.rewards_given_at_close;
        self.rewards_given_at_load += s.rewards_given_at_load;
        self.rewards_stored += s.rewards_stored;
        self.rewards_lost += s.rewards_lost;
        self.rewards_from_store += s.rewards_from_store;
    }
}

/// Raids: what the raiders did, what the node counted, what was checked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RaidReport {
    pub bots: usize,
    #[serde(flatten)]
    pub tally: RaidTally,
    pub fight: FightTally,
    pub node: NodeRaids,
    pub checks: RaidChecks,
}

/// The raids' part of the simulator's state.
#[derive(Debug)]
pub(super) struct RaidWatch {
    checker: RaidChecker,
    /// What nodes since restarted counted.
    banked: NodeRaids,
}

impl RaidWatch {
    pub(super) fn new() -> Self {
        RaidWatch {
            checker: RaidChecker::of_content(&game_core::content::Content::sample()),
            banked: NodeRaids::default(),
        }
    }
}

impl Simulator {
    /// Every [`BAND_EVERY`]th raider leads the next two raiders' party.
    pub(super) fn introduce_raiders(&mut self) {
        let raiders: Vec<usize> = (0..self.peers.len())
            .filter(|&i| self.peers[i].policy.kind == Kind::Raider)
            .collect();
        let name = |i: usize| self.peers[i].client.config().character.clone();
        let mut bands = Vec::new();
        for (n, &leader) in raiders.iter().enumerate().step_by(BAND_EVERY) {
            let members: Vec<usize> = raiders.iter().skip(n + 1).take(2).copied().collect();
            if members.is_empty() {
                continue;
            }
            for &m in &members {
                bands.push((m, Band::Follows(name(leader))));
            }
            bands.push((
                leader,
                Band::Leads(members.iter().map(|&m| name(m)).collect()),
            ));
        }
        for (i, band) in bands {
            self.peers[i].policy.set_raid_band(band);
        }
    }

    /// After every tick.
    pub(super) fn raids_after_tick(&mut self) {
        let mut failures = Vec::new();
        self.raids.checker.after_tick(&self.node, &mut failures);
        for f in failures {
            self.checker.report(self.now, f);
        }
    }

    /// Bot `i`'s client emitted `e`.
    pub(super) fn raid_event(&mut self, i: u32, e: &ClientEvent) {
        if !matches!(e, ClientEvent::Raid(_) | ClientEvent::Economy(_)) {
            return;
        }
        let p = &self.peers[i as usize];
        let mut failures = Vec::new();
        self.raids
            .checker
            .on_client(&p.client, p.conn_for_down, e, &mut failures);
        for f in failures {
            self.checker.report(self.now, f);
        }
    }

    pub(super) fn check_raids(&mut self) {
        self.raids.checker.check(&self.node, self.now);
        let mut failures = Vec::new();
        rewards_given_once(self.store.committed(), &mut failures);
        for f in failures {
            self.checker.report(self.now, f);
        }
    }

    /// At the end: no ticket lost.
    pub(super) fn final_raid_checks(&mut self) {
        let conns: std::collections::BTreeMap<CharacterId, _> = (self.peers.iter())
            .filter_map(|p| {
                let c = super::invariants::self_character(&p.client)?;
                Some((c, p.conn))
            })
            .collect();
        let mut failures = Vec::new();
        let conn_of = |c: CharacterId| conns.get(&c).copied().flatten();
        self.raids
            .checker
            .final_check(self.now, &conn_of, &mut failures);
        for f in failures {
            self.checker.report(self.now, f);
        }
    }

    /// The node is about to restart: keep what it counted.
    pub(super) fn bank_raids(&mut self) {
        self.raids.banked.add(self.node.raid_stats());
        self.raids.checker.on_restart();
    }

    pub(super) fn raid_report(&self) -> RaidReport {
        let mut r = RaidReport::default();
        for p in &self.peers {
            if let Some(t) = p.policy.raid_tally() {
                r.bots += 1;
                r.tally.add(t);
                if let Some(f) = p.policy.fight_tally() {
                    r.fight.add(f);
                }
            }
        }
        r.node = self.raids.banked.clone();
        r.node.add(self.node.raid_stats());
        r.checks = self.raids.checker.counts.clone();
        r
    }
}
