//! One queue's waiting tickets in order, and its players by level and role.

use super::Ticket;
use crate::raid::TicketId;
use crate::raid::{QueueRules, ROLES};
use crate::time::{Duration, Instant};
use std::collections::BTreeMap;

/// One raid kind's queue for one level group.
#[derive(Debug, Default)]
pub(super) struct Queue {
    /// Waiting tickets in the order they queued.
    pub(super) order: BTreeMap<(Instant, TicketId), ()>,
    /// Waiting players by level (from the group's lowest) and role.
    pub(super) counts: Vec<[u32; ROLES]>,
    /// Recent waits until found, in µs, smoothed (1/8 per match).
    pub(super) recent_wait_us: Option<u64>,
}

impl Queue {
    pub(super) fn count(&mut self, t: &Ticket, base: u16, add: bool) {
        for m in &t.members {
            let at = (m.level - base) as usize;
            if self.counts.len() <= at {
                self.counts.resize(at + 1, [0; ROLES]);
            }
            let n = &mut self.counts[at][m.role.index()];
            *n = if add { *n + 1 } else { n.saturating_sub(1) };
        }
    }

    /// Whether the players waiting at levels `lo..=hi` (from the group's
    /// lowest) are enough for a group, by role where the raid has roles.
    pub(super) fn could_fill(&self, rules: &QueueRules, lo: u16, hi: u16) -> bool {
        let mut have = [0u32; ROLES];
        for level in self.counts.iter().take(hi as usize + 1).skip(lo as usize) {
            for (h, n) in have.iter_mut().zip(level) {
                *h += n;
            }
        }
        match rules.roles {
            Some(wanted) => (0..ROLES).all(|r| have[r] >= u32::from(wanted[r])),
            None => have.iter().sum::<u32>() >= u32::from(rules.group_size),
        }
    }

    pub(super) fn waited(&mut self, waited: Duration) {
        let us = waited.as_micros();
        self.recent_wait_us = Some(match self.recent_wait_us {
            None => us,
            Some(old) => old - old / 8 + us / 8,
        });
    }
}
