//! A monster's threat table: who it is angry at, and how much each fought it.
//!
//! Damage and healing generate threat; the entry with the most is the
//! target (ties go to whoever got there first). Beside threat the table keeps
//! each entry's damage dealt, which shares out the experience when the
//! monster dies. Bounded: past [`MAX_THREAT_ENTRIES`] the weakest entry makes
//! room.

use crate::ids::EntityId;

pub const MAX_THREAT_ENTRIES: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreatEntry {
    pub entity: EntityId,
    pub threat: u64,
    pub damage: u64,
    /// When it entered the table (ties in threat go to the earlier).
    order: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreatTable {
    entries: Vec<ThreatEntry>,
    next_order: u32,
}

impl ThreatTable {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Makes room for `n` entries up front (so a full table never allocates).
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
    }

    pub fn entries(&self) -> &[ThreatEntry] {
        &self.entries
    }

    /// Adds threat (and damage dealt) for `entity`.
    pub fn add(&mut self, entity: EntityId, threat: u64, damage: u64) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.entity == entity) {
            e.threat = e.threat.saturating_add(threat);
            e.damage = e.damage.saturating_add(damage);
            return;
        }
        if self.entries.len() >= MAX_THREAT_ENTRIES {
            let weakest = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| (e.threat, std::cmp::Reverse(e.order)))
                .map(|(i, _)| i);
            match weakest {
                Some(i) if self.entries[i].threat < threat => {
                    self.entries.swap_remove(i);
                }
                _ => return,
            }
        }
        self.next_order = self.next_order.wrapping_add(1);
        self.entries.push(ThreatEntry {
            entity,
            threat,
            damage,
            order: self.next_order,
        });
    }

    /// The entity with the most threat.
    pub fn top(&self) -> Option<EntityId> {
        self.entries
            .iter()
            .max_by_key(|e| (e.threat, std::cmp::Reverse(e.order)))
            .map(|e| e.entity)
    }

    pub fn remove(&mut self, entity: EntityId) {
        self.entries.retain(|e| e.entity != entity);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Splits `experience` among the `eligible` who dealt damage, in
    /// proportion to it: the shares add up to exactly `experience` (the
    /// rounding remainder goes to the one who dealt the most), or to nothing
    /// when no eligible entry dealt damage. Calls `grant(entity, share)` for
    /// every share above zero, in table order.
    pub fn share(
        &self,
        experience: u64,
        eligible: impl Fn(EntityId) -> bool,
        mut grant: impl FnMut(EntityId, u64),
    ) {
        let mut dealt = [0u64; MAX_THREAT_ENTRIES];
        for (i, e) in self.entries.iter().enumerate() {
            if eligible(e.entity) {
                dealt[i] = e.damage;
            }
        }
        let total: u128 = dealt.iter().map(|&d| d as u128).sum();
        if total == 0 || experience == 0 {
            return;
        }
        let mut given = 0u64;
        let mut shares = [0u64; MAX_THREAT_ENTRIES];
        for (i, &d) in dealt.iter().enumerate() {
            shares[i] = (experience as u128 * d as u128 / total) as u64;
            given += shares[i];
        }
        if let Some(top) = (0..self.entries.len())
            .max_by_key(|&i| (dealt[i], std::cmp::Reverse(self.entries[i].order)))
        {
            shares[top] += experience - given;
        }
        for (i, e) in self.entries.iter().enumerate() {
            if shares[i] > 0 {
                grant(e.entity, shares[i]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_most_threat_is_the_target_and_ties_go_to_the_first() {
        let mut t = ThreatTable::default();
        assert_eq!(t.top(), None);
        t.add(EntityId(1), 10, 10);
        t.add(EntityId(2), 10, 0);
        assert_eq!(t.top(), Some(EntityId(1)));
        t.add(EntityId(2), 1, 0);
        assert_eq!(t.top(), Some(EntityId(2)));
        t.remove(EntityId(2));
        assert_eq!(t.top(), Some(EntityId(1)));
    }

    #[test]
    fn a_full_table_keeps_the_strongest() {
        let mut t = ThreatTable::default();
        for i in 0..MAX_THREAT_ENTRIES as u64 {
            t.add(EntityId(i + 1), 100 + i, 1);
        }
        t.add(EntityId(99), 1, 1);
        assert!(t.entries().iter().all(|e| e.entity != EntityId(99)));
        t.add(EntityId(98), 1000, 1);
        assert_eq!(t.entries().len(), MAX_THREAT_ENTRIES);
        assert_eq!(t.top(), Some(EntityId(98)));
        assert!(t.entries().iter().all(|e| e.entity != EntityId(1)));
    }

    proptest! {
        #[test]
        fn shares_add_up_to_the_experience(
            damage in prop::collection::vec(0u64..1_000_000, 1..20),
            xp in 0u64..10_000_000,
        ) {
            let mut t = ThreatTable::default();
            for (i, d) in damage.iter().enumerate() {
                t.add(EntityId(i as u64 + 1), *d, *d);
            }
            let mut sum = 0;
            t.share(xp, |e| e.0 % 3 != 0, |e, s| {
                assert!(e.0 % 3 != 0, "only the eligible");
                sum += s;
            });
            let dealt: u64 = t.entries().iter().filter(|e| e.entity.0 % 3 != 0).map(|e| e.damage).sum();
            prop_assert_eq!(sum, if dealt == 0 { 0 } else { xp });
        }
    }
}
