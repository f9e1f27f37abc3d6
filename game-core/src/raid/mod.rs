//! Raids: the queue that matches players into groups by level
//! ([`Matchmaker`]) and the leaderboards of their runs ([`Leaderboard`]).
//! Instances, the boss fight, rewards and the scores' persistence come with
//! the rest of the raids issue.
//!
//! | file | concern |
//! |---|---|
//! | `matchmaker.rs` | tickets, queues by raid kind and level group, matching, ready checks |
//! | `leaderboard.rs` | a run's score, every entrant's best in order, top N and one's rank |

mod leaderboard;
mod matchmaker;
#[cfg(test)]
mod matchmaker_tests;

pub use leaderboard::{Board, Leaderboard, RaidScore, Ranked};

pub use matchmaker::{
    MatchEvent, MatchStats, Matchmaker, MatchmakerLimits, QueueRefusal, QueueStatus, ReadyMatch,
    ANCHORS_PER_TICK,
};

use crate::ids::CharacterId;
use crate::time::Duration;
use serde::{Deserialize, Serialize};

/// Roles a raid may ask for, in [`Role::ALL`] order.
pub const ROLES: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Tank,
    Healer,
    Damage,
}

impl Role {
    pub const ALL: [Role; ROLES] = [Role::Tank, Role::Healer, Role::Damage];

    pub fn index(self) -> usize {
        match self {
            Role::Tank => 0,
            Role::Healer => 1,
            Role::Damage => 2,
        }
    }
}

/// A queued player: who, at what level, in what role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entrant {
    pub character: CharacterId,
    pub level: u16,
    pub role: Role,
}

/// A ticket in the raid queue: one player or a whole party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TicketId(pub u64);

/// A match found: its ready check, then its instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MatchId(pub u64);

/// Levels `min..=max`: players are matched only within one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LevelGroup {
    pub min: u16,
    pub max: u16,
}

/// How one raid kind's queue matches (from its content).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueRules {
    /// Players in a match.
    pub group_size: u8,
    /// Players wanted per role ([`Role::ALL`] order), summing to
    /// `group_size`; `None`: any roles.
    pub roles: Option<[u8; ROLES]>,
    /// Disjoint, in rising order.
    pub level_groups: Vec<LevelGroup>,
    /// The level spread (highest minus lowest) a match may have when its
    /// oldest ticket has just queued...
    pub spread_start: u16,
    /// ...widened by one level for each of these its oldest ticket has
    /// waited (0: it never widens), up to the level group's width.
    pub widen_every_ms: u32,
    /// How long the players of a match have to accept it.
    pub ready_check_ms: u32,
    pub matching: Matching,
}

/// How a queue picks a match's tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Matching {
    /// Around the oldest ticket, the narrowest window of levels that can
    /// make a match, no wider than the spread allowed.
    LevelSpread,
    /// The oldest tickets of the level group, whatever their levels (the
    /// benchmark's baseline; the spread rules are not used).
    FirstCome,
}

impl QueueRules {
    /// The index of the level group holding `level`.
    pub fn group_of(&self, level: u16) -> Option<u8> {
        let at = (self.level_groups.iter()).position(|g| (g.min..=g.max).contains(&level))?;
        u8::try_from(at).ok()
    }

    /// The spread a match may have once its oldest ticket has waited
    /// `waited`: `spread_start` widened with the wait, never more than the
    /// group's width.
    pub fn allowed_spread(&self, group: LevelGroup, waited: Duration) -> u16 {
        let width = group.max - group.min;
        let widened = match self.widen_every_ms {
            0 => 0,
            every => waited.as_micros() / 1_000 / u64::from(every),
        };
        let allowed = u64::from(self.spread_start).saturating_add(widened);
        u16::try_from(allowed).unwrap_or(u16::MAX).min(width)
    }
}
