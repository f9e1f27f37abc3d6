//! What instances show: the numbers the simulator's invariants and the
//! benchmark read ([`InstanceInfo`]), and the raid as its members see it.

use super::{Node, Reward};
use crate::ids::{CharacterId, ZoneId};
use crate::protocol::{RaidEnd, RaidView};

/// Numbers for the simulator's invariants and the benchmark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceInfo {
    pub id: u64,
    pub kind: u16,
    pub level_group: u8,
    /// The match's level spread (highest minus lowest), and the spread the
    /// matchmaker allowed when it found the match.
    pub spread: u16,
    pub allowed: u16,
    pub zone: ZoneId,
    pub end: Option<RaidEnd>,
    /// (character, inside, in game, reward owed (won, not yet given),
    /// reward given)
    pub members: Vec<(CharacterId, bool, bool, bool, bool)>,
}

impl Node {
    /// Every open raid instance (for tests, the simulator and benchmarks).
    pub fn instances(&self) -> Vec<InstanceInfo> {
        (self.raids.instances.open.iter())
            .map(|(&id, i)| InstanceInfo {
                id,
                kind: i.kind,
                level_group: i.level_group,
                spread: i.spread,
                allowed: i.allowed,
                zone: i.zone,
                end: i.end,
                members: (i.members.iter())
                    .map(|m| {
                        let owed = matches!(m.reward, Reward::Owed | Reward::Recording);
                        let given = m.reward == Reward::Given;
                        (m.character, m.inside, m.in_game, owed, given)
                    })
                    .collect(),
            })
            .collect()
    }

    /// The raid of instance `id` as its members are shown it.
    pub(super) fn raid_view(&self, id: u64) -> Option<RaidView> {
        let i = self.raids.instances.open.get(&id)?;
        let e = self.world.zone(i.zone)?.encounter()?;
        Some(RaidView {
            instance: id,
            raid: i.kind,
            level_group: i.level_group,
            time_limit_ms: e.time_limit_ms,
            remaining_ms: e.remaining_ms,
            phase: e.phase,
            enraged: e.enraged,
            boss: e.boss,
            boss_health_pm: e.boss_health_pm,
        })
    }
}
