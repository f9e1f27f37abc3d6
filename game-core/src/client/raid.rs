//! What a client knows of raids: its place in the queue, the ready check
//! waiting for its answer, the raid it is in and the area attacks coming.
//! Kept from the server's raid messages; every one is also handed to the
//! driver as [`super::ClientEvent::Raid`].

use crate::math::{Fixed, Vec2};
use crate::protocol::{QueueView, RaidEnd, RaidRefusal, RaidView, RewardView, ServerRaid};
use crate::time::Instant;

/// Area warnings a client keeps (the oldest are dropped).
const KEPT_WARNINGS: usize = 8;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaidState {
    /// Queued, and where.
    pub queued: Option<QueueView>,
    /// A ready check to answer: its number and when it expires.
    pub ready_check: Option<(u64, Instant)>,
    /// The raid the character is in.
    pub raid: Option<RaidView>,
    /// Area attacks announced: where, how wide, and when they land.
    pub warnings: Vec<(Vec2, Fixed, Instant)>,
    /// How the last raid ended, and the reward waiting to be claimed.
    pub ended: Option<(u64, RaidEnd)>,
    pub reward: Option<(u64, RewardView)>,
    /// The last refusal.
    pub refused: Option<RaidRefusal>,
}

impl RaidState {
    pub(super) fn apply(&mut self, now: Instant, msg: &ServerRaid) {
        let in_ms = |ms: u32| now + crate::time::Duration::from_millis(u64::from(ms));
        match msg {
            ServerRaid::Queued(view) => self.queued = Some(*view),
            ServerRaid::LeftQueue { .. } => self.queued = None,
            ServerRaid::ReadyCheck {
                ready, expires_ms, ..
            } => {
                self.queued = None;
                self.ready_check = Some((*ready, in_ms(*expires_ms)));
            }
            ServerRaid::ReadyCheckFailed { .. } => self.ready_check = None,
            ServerRaid::Entered(view) => {
                self.ready_check = None;
                self.queued = None;
                self.ended = None;
                self.reward = None;
                self.warnings.clear();
                self.raid = Some(*view);
            }
            ServerRaid::State(view) => self.raid = Some(*view),
            ServerRaid::AreaWarning {
                center,
                radius,
                lands_in_ms,
                ..
            } => {
                self.warnings.retain(|w| w.2 > now);
                if self.warnings.len() >= KEPT_WARNINGS {
                    self.warnings.remove(0);
                }
                self.warnings.push((*center, *radius, in_ms(*lands_in_ms)));
            }
            ServerRaid::Ended {
                instance,
                end,
                reward,
                ..
            } => {
                self.ended = Some((*instance, *end));
                self.warnings.clear();
                self.reward = reward.clone().map(|r| (*instance, r));
            }
            ServerRaid::Left { .. } => {
                self.raid = None;
                self.warnings.clear();
            }
            ServerRaid::RewardClaimed { .. } => self.reward = None,
            ServerRaid::Refused { reason } => self.refused = Some(*reason),
            ServerRaid::Leaderboard { .. } => {}
        }
    }

    /// The area attacks still to land, as of `now`.
    pub fn warnings_at(&self, now: Instant) -> impl Iterator<Item = &(Vec2, Fixed, Instant)> {
        self.warnings.iter().filter(move |w| w.2 > now)
    }
}
