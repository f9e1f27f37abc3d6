//! Metrics of combat, summed over the server's zones: skills used, hits,
//! interrupted casts, refusals by reason, requests dropped past the per-tick
//! allowance, kills, deaths, experience granted and combat events dropped.

use game_core::node::Node;
use game_core::protocol::SkillRefusal;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::{set, Labels};

#[derive(Debug, Default)]
pub(super) struct CombatMetrics {
    skills_used: Counter,
    hits: Counter,
    casts_interrupted: Counter,
    skill_refusals: Family<Labels, Counter>,
    requests_dropped: Counter,
    monsters_killed: Counter,
    player_deaths: Counter,
    experience_granted: Counter,
    events_dropped: Counter,
}

impl CombatMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "skills_used",
            "Skills used: casts started and instant skills, auto-attack swings included",
            self.skills_used.clone(),
        );
        r.register(
            "skill_hits",
            "Hits landed: damage or healing reaching a target, each pulse over time too",
            self.hits.clone(),
        );
        r.register(
            "casts_interrupted",
            "Casts that ended before completing (cancelled, moved, stunned, died)",
            self.casts_interrupted.clone(),
        );
        r.register(
            "skill_refusals",
            "Combat requests refused (SkillRefused), by reason",
            self.skill_refusals.clone(),
        );
        r.register(
            "combat_requests_dropped",
            "Combat requests dropped silently past the per-tick allowance (after its TooFast)",
            self.requests_dropped.clone(),
        );
        r.register(
            "monsters_killed",
            "Monsters that died",
            self.monsters_killed.clone(),
        );
        r.register(
            "player_deaths",
            "Player characters that died",
            self.player_deaths.clone(),
        );
        r.register(
            "experience_granted",
            "Experience given to players for kills",
            self.experience_granted.clone(),
        );
        r.register(
            "combat_events_dropped",
            "Combat events past the per-entity or per-message bound, not sent",
            self.events_dropped.clone(),
        );
        // Every reason is exported from the start, at 0 until it happens.
        for reason in SkillRefusal::ALL {
            let _ = self
                .skill_refusals
                .get_or_create(&vec![("reason", reason.label().to_string())]);
        }
    }

    /// Copies the zones' counters, summed (zones are never removed, so the
    /// sums only grow).
    pub(super) fn refresh(&self, node: &Node) {
        let sum = node.world().zone_stats();
        set(&self.skills_used, sum.skills_used);
        set(&self.hits, sum.hits);
        set(&self.casts_interrupted, sum.casts_interrupted);
        for (reason, n) in sum.skill_refusals {
            set(
                &self
                    .skill_refusals
                    .get_or_create(&vec![("reason", reason.to_string())]),
                n,
            );
        }
        set(&self.requests_dropped, sum.combat_dropped);
        set(&self.monsters_killed, sum.monsters_killed);
        set(&self.player_deaths, sum.player_deaths);
        set(&self.experience_granted, sum.experience_granted);
        set(&self.events_dropped, sum.events_dropped);
    }
}
