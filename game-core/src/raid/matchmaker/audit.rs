//! [`Matchmaker::audit`]: the matchmaker's books checked against each other.

use super::{Matchmaker, Place, Queue};
use crate::ids::CharacterId;
use crate::raid::ROLES;
use std::collections::BTreeMap;

impl Matchmaker {
    /// Checks the matchmaker's own books: every waiting ticket in its
    /// queue's order and counts, every member of a waiting ticket or a ready
    /// check placed there and nowhere else, nobody placed who is in
    /// neither. For the simulator's invariants and the tests; `Err` says
    /// what is wrong.
    pub fn audit(&self) -> Result<(), String> {
        let mut placed = BTreeMap::new();
        let mut place = |c: CharacterId, p: Place| match placed.insert(c, p) {
            Some(q) => Err(format!("{c:?} is in {q:?} and {p:?}")),
            None => Ok(()),
        };
        for (id, t) in &self.tickets {
            for m in &t.members {
                place(m.character, Place::Waiting(*id))?;
            }
        }
        for (id, check) in &self.checks {
            for t in &check.tickets {
                for m in &t.members {
                    place(m.character, Place::Checking(*id))?;
                }
            }
        }
        if placed != self.places {
            return Err("the places of characters differ from the tickets and checks".into());
        }
        for (&(kind, group), queue) in &self.queues {
            let base = self.kinds[kind as usize].level_groups[group as usize].min;
            let mut counts = Queue::default();
            for &(at, id) in queue.order.keys() {
                let t = (self.tickets.get(&id)).ok_or(format!("{id:?} queued, not waiting"))?;
                if (t.queued_at, t.kind, t.group) != (at, kind, group) {
                    return Err(format!("{id:?} is in the wrong queue or place"));
                }
                counts.count(t, base, true);
            }
            let trimmed = |c: &[[u32; ROLES]]| {
                let end = c.iter().rposition(|n| n.iter().any(|&x| x > 0));
                c[..end.map_or(0, |e| e + 1)].to_vec()
            };
            if trimmed(&counts.counts) != trimmed(&queue.counts) {
                return Err(format!(
                    "queue {kind}/{group}: counts differ from its tickets"
                ));
            }
        }
        let queued: usize = self.queues.values().map(|q| q.order.len()).sum();
        if queued != self.tickets.len() {
            return Err("a waiting ticket is in no queue".into());
        }
        Ok(())
    }
}
