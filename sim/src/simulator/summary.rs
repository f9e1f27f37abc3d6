//! What a run found: the report, and the trace hash over every byte on
//! every link.

use super::{
    peers_view, BadToken, BadTokenTally, CombatChecks, EconomyReport, LoginStats, Peer,
    PersistCounts, RaidReport, ServerCombat, Simulator, SocialChecks, StoreStats, TraderReport,
};
use crate::policy::{FightTally, Kind, SocialTally};
use crate::report::{Percentiles, Spread, Tally};
use game_core::client::ClientState;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a run found.
#[derive(Clone, Debug, Serialize)]
pub struct SimReport {
    pub trace_hash: String,
    pub seed: u64,
    pub bots: usize,
    pub hostile_bots: usize,
    pub sim_seconds: u64,
    pub wall_seconds: f64,
    pub bot_seconds_per_wall_second: f64,
    pub speed_vs_real_time: f64,
    pub faults: String,
    pub events: u64,
    pub ticks: u64,
    pub tick_overruns: u64,
    pub tick_wall_ms: Percentiles,
    pub bytes_per_client_per_second: f64,
    pub corrections_honest: u64,
    pub corrections_hostile: u64,
    pub disconnects: Tally,
    pub invariant_violations: usize,
    pub violations: Vec<String>,
    /// Distance between where bots draw others and where they truly were.
    pub interpolation_error_m: Spread,
    /// The same draws against each entity's path through its moves (a 10 Hz
    /// mover walks between its moves; it does not hop every other tick).
    pub interpolation_error_vs_moves_m: Spread,
    pub store: StoreStats,
    pub login: LoginStats,
    pub persistence: PersistCounts,
    /// Hostile bots' bad tokens, by kind.
    pub bad_tokens: BTreeMap<BadToken, BadTokenTally>,
    /// Token refusals the node counted (over every incarnation).
    pub node_token_refusals: u64,
    /// Honest bots in the world at the end.
    pub honest_in_world: usize,
    pub honest_bots: usize,
    /// What the fighters did (honest), and the brawlers (hostile).
    pub fighters: FightReport,
    pub brawlers: FightReport,
    /// What the zones counted of fighting, and what the combat checks read.
    pub server_combat: ServerCombat,
    pub combat_checks: CombatChecks,
    /// What the social bots did, and what the social checks looked at.
    pub social: SocialReport,
    pub social_checks: SocialChecks,
    /// What the traders did, and the economy's counts and checks.
    pub traders: TraderReport,
    pub economy: EconomyReport,
    /// What the raiders did, what the node counted of raids, and the raid checks.
    pub raids: RaidReport,
    /// What the swindlers tried and were refused.
    pub swindlers: SwindleReport,
    pub repro: String,
}

/// What the swindlers did, all together, and what the node counted.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SwindleReport {
    pub bots: usize,
    /// Economy requests sent.
    pub sent: u64,
    /// Refusals they heard, by reason.
    pub refused: Tally,
    /// Economy requests and refusals the node counted (every player's,
    /// since its last start).
    pub node_requests: u64,
    pub node_refused: u64,
}

impl SwindleReport {
    fn of<'a>(peers: impl Iterator<Item = &'a Peer>, node: &game_core::node::Node) -> Self {
        let mut r = SwindleReport {
            node_requests: node.stats().economy_requests,
            node_refused: node.stats().economy_refused,
            ..SwindleReport::default()
        };
        for t in peers.filter_map(|p| p.policy.swindle_tally()) {
            r.bots += 1;
            r.sent += t.sent.values().sum::<u64>();
            for ((_, reason), n) in &t.refusals {
                *r.refused.entry(reason.label().to_string()).or_default() += n;
            }
        }
        r
    }
}

/// What the social bots did, all together.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SocialReport {
    pub bots: usize,
    #[serde(flatten)]
    pub tally: SocialTally,
}

impl SocialReport {
    fn of<'a>(peers: impl Iterator<Item = &'a Peer>) -> Self {
        let mut r = SocialReport::default();
        for t in peers.filter_map(|p| p.policy.social_tally()) {
            r.bots += 1;
            r.tally.add(t);
        }
        r
    }
}

/// What the bots of one fighting kind did, all together.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FightReport {
    pub bots: usize,
    #[serde(flatten)]
    pub tally: FightTally,
    /// Corrections while the fight held the character (dead, stunned,
    /// slowed): the fight's doing, not the bot's.
    pub held_corrections: u64,
    /// Corrections otherwise.
    pub corrections: u64,
}

impl FightReport {
    fn of<'a>(peers: impl Iterator<Item = &'a Peer>) -> Self {
        let mut r = FightReport::default();
        for p in peers {
            r.bots += 1;
            if let Some(t) = p.policy.fight_tally() {
                r.tally.add(t);
            }
            r.held_corrections += p.held_corrections;
            r.corrections += p.corrections;
        }
        r
    }
}

/// FNV-1a-style, 64 bits: stable across Rust versions and platforms, unlike
/// std's hasher.
#[derive(Debug)]
pub(super) struct TraceHash(pub(super) u64);

impl TraceHash {
    pub(super) fn new() -> Self {
        TraceHash(0xcbf2_9ce4_8422_2325)
    }

    /// FNV-1a over little-endian 64-bit words (then the last few bytes one by
    /// one): a multiply per eight bytes, not per byte, over every byte every
    /// link carries.
    pub(super) fn bytes(&mut self, b: &[u8]) {
        const PRIME: u64 = 0x0100_0000_01b3;
        let mut words = b.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            self.0 = (self.0 ^ u64::from_le_bytes(word)).wrapping_mul(PRIME);
        }
        for &x in words.remainder() {
            self.0 = (self.0 ^ x as u64).wrapping_mul(PRIME);
        }
        self.0 = (self.0 ^ b.len() as u64).wrapping_mul(PRIME);
    }

    pub(super) fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
}

impl Simulator {
    pub(super) fn finish(mut self, wall_seconds: f64) -> SimReport {
        let settled = true;
        self.checker
            .check(&self.node, &peers_view(&self.peers), self.now, settled);
        self.checker.final_checks(&peers_view(&self.peers));
        self.check_persistence();
        self.check_economy(settled);
        self.final_economy_checks();
        self.final_raid_checks();
        self.check_token_refusals();
        let mut disconnects = Tally::new();
        for p in &self.peers {
            for r in &p.disconnects {
                *disconnects.entry(r.label().to_string()).or_default() += 1;
            }
        }
        let hostile = |p: &&Peer| p.policy.kind.is_hostile();
        let bytes: u64 = self.peers.iter().map(|p| p.bytes_in).sum();
        let sim_seconds = self.config.seconds;
        let bot_seconds = self.config.bots as f64 * sim_seconds as f64;
        let stats = self.node.stats();
        let mut tick_wall = self.tick_wall_us.clone();
        let honest = self.peers.iter().filter(|p| !hostile(p));
        let honest_bots = honest.clone().count();
        let honest_in_world = honest
            .filter(|p| *p.client.state() == ClientState::InWorld)
            .count();
        let node_token_refusals = self.node_token_refusals();
        let (traders, economy) = self.economy_report();
        let raids = self.raid_report();
        let violations = self.checker.violations();
        SimReport {
            trace_hash: format!("{:016x}", self.trace.0),
            seed: self.config.seed,
            bots: self.config.bots,
            hostile_bots: self.peers.iter().filter(hostile).count(),
            sim_seconds,
            wall_seconds,
            bot_seconds_per_wall_second: bot_seconds / wall_seconds.max(1e-9),
            speed_vs_real_time: sim_seconds as f64 / wall_seconds.max(1e-9),
            faults: self.plan.to_string(),
            events: self.events,
            ticks: self.ticks_before_restart + stats.ticks,
            tick_overruns: self.overruns_before_restart + stats.tick_overruns,
            tick_wall_ms: Percentiles::of(&mut tick_wall),
            bytes_per_client_per_second: bytes as f64 / bot_seconds.max(1.0),
            corrections_honest: self
                .peers
                .iter()
                .filter(|p| !hostile(p))
                .map(|p| p.corrections)
                .sum(),
            corrections_hostile: self
                .peers
                .iter()
                .filter(hostile)
                .map(|p| p.corrections)
                .sum(),
            disconnects,
            invariant_violations: violations.len(),
            violations: violations.iter().take(20).map(|v| v.to_string()).collect(),
            interpolation_error_m: self.checker.interpolation_error(),
            interpolation_error_vs_moves_m: self.checker.interpolation_error_vs_moves(),
            store: self.store.stats().clone(),
            login: self.login.stats().clone(),
            persistence: self.persist.counts(),
            bad_tokens: self.bad_tokens.clone(),
            node_token_refusals,
            honest_in_world,
            honest_bots,
            fighters: FightReport::of(self.peers.iter().filter(|p| p.policy.kind == Kind::Fighter)),
            brawlers: FightReport::of(self.peers.iter().filter(|p| p.policy.kind == Kind::Brawler)),
            server_combat: self.checker.server_combat(&self.node),
            combat_checks: self.checker.combat_checks(),
            social: SocialReport::of(self.peers.iter()),
            social_checks: self.checker.social_checks(),
            traders,
            economy,
            raids,
            swindlers: SwindleReport::of(self.peers.iter(), &self.node),
            repro: self.config.repro(),
        }
    }
}
