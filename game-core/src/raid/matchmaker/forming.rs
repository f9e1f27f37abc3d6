//! Forming a match in one queue: the anchor, the narrowest window of
//! levels that can fill the group, the tickets taken in it.

use super::{Cursor, Matchmaker, Queue, ANCHORS_PER_TICK, PICKS_PER_ANCHOR};
use crate::raid::{Matching, QueueRules, TicketId, ROLES};
use crate::time::Instant;

impl Matchmaker {
    /// Forms one match in the queue, anchored on its oldest ticket that
    /// can be matched past `cursor`; false (and the cursor done) when
    /// [`ANCHORS_PER_TICK`] anchors could not be.
    pub(super) fn match_one(
        &mut self,
        now: Instant,
        (kind, group): (u16, u8),
        cursor: &mut Cursor,
    ) -> bool {
        let rules = &self.kinds[kind as usize];
        let levels = rules.level_groups[group as usize];
        while cursor.tried < ANCHORS_PER_TICK {
            let Some(queue) = self.queues.get(&(kind, group)) else {
                break;
            };
            let next = match cursor.after {
                None => queue.order.keys().next(),
                Some(k) => queue.order.range(k..).nth(1).map(|(k, _)| k),
            };
            let Some(&(queued_at, anchor)) = next else {
                break;
            };
            let allowed = match rules.matching {
                Matching::LevelSpread => {
                    rules.allowed_spread(levels, now.saturating_since(queued_at))
                }
                Matching::FirstCome => levels.max - levels.min,
            };
            if let Some(picked) = self.form(kind, group, anchor, allowed) {
                self.found(now, kind, group, picked, allowed);
                return true;
            }
            cursor.tried += 1;
            cursor.after = Some((queued_at, anchor));
        }
        cursor.done = true;
        false
    }

    /// Tickets that make a match around `anchor` within `allowed`, anchor
    /// first, or `None`. The narrowest window of levels that can make one is
    /// used: the spread allowed is a limit, not a target.
    fn form(&self, kind: u16, group: u8, anchor: TicketId, allowed: u16) -> Option<Vec<TicketId>> {
        let rules = &self.kinds[kind as usize];
        let levels = rules.level_groups[group as usize];
        let queue = &self.queues[&(kind, group)];
        if rules.matching == Matching::FirstCome {
            return self.pick(rules, queue, anchor, (levels.min, levels.max));
        }
        let a = &self.tickets[&anchor];
        let mut picks = PICKS_PER_ANCHOR;
        for width in (a.hi - a.lo)..=allowed {
            // Windows [lo, lo + width] holding the anchor's levels.
            let first = a.hi.saturating_sub(width).max(levels.min);
            for lo in first..=a.lo {
                let hi = lo.saturating_add(width).min(levels.max);
                if !queue.could_fill(rules, lo - levels.min, hi - levels.min) {
                    continue;
                }
                if let Some(picked) = self.pick(rules, queue, anchor, (lo, hi)) {
                    return Some(picked);
                }
                // The counts promised more than the tickets hold (parties
                // that do not fit): a few such scans per anchor at most.
                picks -= 1;
                if picks == 0 {
                    return None;
                }
            }
        }
        None
    }

    /// Tickets with every member in `lo..=hi`, in the order they queued
    /// (the anchor first), until the group is full of the roles it needs.
    fn pick(
        &self,
        rules: &QueueRules,
        queue: &Queue,
        anchor: TicketId,
        (lo, hi): (u16, u16),
    ) -> Option<Vec<TicketId>> {
        let mut need = rules.roles.unwrap_or([u8::MAX; ROLES]);
        let mut slots = rules.group_size as usize;
        let mut picked = Vec::new();
        let order = std::iter::once(anchor).chain(
            (queue.order.keys())
                .map(|&(_, id)| id)
                .filter(|&id| id != anchor),
        );
        for id in order {
            let t = &self.tickets[&id];
            let fits = t.lo >= lo
                && t.hi <= hi
                && t.members.len() <= slots
                && (0..ROLES).all(|r| t.roles[r] <= need[r]);
            if !fits {
                continue;
            }
            for (n, r) in need.iter_mut().zip(t.roles) {
                *n -= r;
            }
            slots -= t.members.len();
            picked.push(id);
            if slots == 0 {
                return Some(picked);
            }
        }
        None
    }
}
