//! What must hold of raids, checked after every tick and at each check:
//!
//! - one place each: no character is a member of two instances, nor both
//!   in a queue (or a ready check) and an instance;
//! - no ticket lost: a client told `Queued` on a connection that is still
//!   its own hears, on that connection, how its ticket ended (`LeftQueue`,
//!   `Entered`), or the node still has it queued, or in an instance: judged
//!   at the end, for tickets the node had lost for [`LOST_AFTER`] and more;
//! - matches within the spread: every instance's match has a level spread
//!   no wider than the matchmaker allowed, which is no wider than its level
//!   group, and the node counted no match too wide;
//! - no instance outlives its players: one with no member inside is gone
//!   by the next tick, and the world runs a zone for every open instance
//!   and no other;
//! - rewards once: the node's rewards claimed, given at the close or at a
//!   load, left to the store and lost, with those still owed, are the
//!   rewards it owed; no client is shown more reward changes (`Changed`
//!   with `Cause::Raid`) than the raids its character was owed a reward
//!   in; and in the store, each character's raid gold in the ledger is the
//!   gold of the rewards marked given to it (each given by one
//!   transaction, across the node's restarts).
//!
//! The pure rules take plain numbers (`raid_tests.rs` feeds them broken
//! ones); [`RaidChecker`] feeds them the node's and the clients'.

use super::social::self_character;
use game_core::client::{Client, ClientEvent};
use game_core::ids::{CharacterId, ConnId};
use game_core::node::{InstanceInfo, Node, RaidStats};
use game_core::persist::MemoryStore;
use game_core::protocol::{Cause, ServerEconomy, ServerRaid};
use game_core::time::{Duration, Instant};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A ticket the node no longer has, unheard of by its client this long, is
/// lost (no message is that long on a healed link).
pub const LOST_AFTER: Duration = Duration::from_secs(3);

/// What the raid checks looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RaidChecks {
    /// Ticks the instances and queues were compared after.
    pub ticks_checked: u64,
    /// Instance memberships compared with the queue.
    pub members_checked: u64,
    /// Matches whose spread was checked.
    pub matches_checked: u64,
    /// Tickets clients were told of, and those judged at the end.
    pub tickets: u64,
    pub tickets_judged: u64,
    /// Rewards seen owed (character and instance), and reward changes shown.
    pub owed_seen: u64,
    pub reward_changes: u64,
}

/// A client's ticket: told `Queued` on `conn` in node incarnation
/// `incarnation`; `missing`: since when the node has not had it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    pub incarnation: u32,
    pub conn: Option<ConnId>,
    pub missing: Option<Instant>,
}

#[derive(Debug)]
pub struct RaidChecker {
    /// The node's incarnation (a restart forgets every queue and instance).
    incarnation: u32,
    /// Instances with nobody inside after the last tick.
    empty: BTreeSet<u64>,
    /// Instances whose match was checked, this incarnation.
    matched: BTreeSet<u64>,
    /// Each level group's width (highest level minus lowest), by raid kind.
    widths: Vec<Vec<u16>>,
    /// The raids each character was owed a reward in: (incarnation, instance).
    owed: BTreeMap<CharacterId, BTreeSet<(u32, u64)>>,
    /// Reward changes each character's clients were shown.
    rewarded: BTreeMap<CharacterId, u64>,
    tickets: BTreeMap<CharacterId, Ticket>,
    pub counts: RaidChecks,
}

impl RaidChecker {
    /// `widths[kind][group]`: each raid kind's level groups' widths.
    pub fn new(widths: Vec<Vec<u16>>) -> Self {
        RaidChecker {
            incarnation: 0,
            empty: BTreeSet::new(),
            matched: BTreeSet::new(),
            widths,
            owed: BTreeMap::new(),
            rewarded: BTreeMap::new(),
            tickets: BTreeMap::new(),
            counts: RaidChecks::default(),
        }
    }

    /// The widths of the sample content's raids.
    pub fn of_content(content: &game_core::content::Content) -> Self {
        let widths = (content.raids.iter())
            .map(|k| {
                (k.queue.level_groups.iter())
                    .map(|g| g.max - g.min)
                    .collect()
            })
            .collect();
        RaidChecker::new(widths)
    }

    pub fn on_restart(&mut self) {
        self.incarnation += 1;
        self.empty.clear();
        self.matched.clear();
        self.tickets.clear();
    }

    /// Right after a tick.
    pub fn after_tick(&mut self, node: &Node, failures: &mut Vec<String>) {
        self.counts.ticks_checked += 1;
        let instances = node.instances();
        let mm = node.matchmaker();
        self.counts.members_checked += exclusive(&instances, &|c| mm.is_queued(c), failures);
        let zones = node.world().instance_count();
        self.empty = lifetime(&instances, zones, &self.empty, failures);
        for i in &instances {
            if self.matched.insert(i.id) {
                self.counts.matches_checked += 1;
                spread(i, &self.widths, failures);
            }
            for &(c, _, _, owed, given) in &i.members {
                if (owed || given)
                    && self
                        .owed
                        .entry(c)
                        .or_default()
                        .insert((self.incarnation, i.id))
                {
                    self.counts.owed_seen += 1;
                }
            }
        }
        rewards_balance(node.raid_stats(), &instances, failures);
    }

    /// An event a client emitted, with the connection its bytes came on.
    pub fn on_client(
        &mut self,
        client: &Client,
        conn: Option<ConnId>,
        e: &ClientEvent,
        failures: &mut Vec<String>,
    ) {
        let Some(me) = self_character(client) else {
            return;
        };
        match e {
            ClientEvent::Raid(ServerRaid::Queued(_)) => {
                self.counts.tickets += u64::from(!self.tickets.contains_key(&me));
                self.tickets.insert(
                    me,
                    Ticket {
                        incarnation: self.incarnation,
                        conn,
                        missing: None,
                    },
                );
            }
            ClientEvent::Raid(ServerRaid::LeftQueue { .. } | ServerRaid::Entered(_)) => {
                self.tickets.remove(&me);
            }
            ClientEvent::Economy(ServerEconomy::Changed {
                cause: Cause::Raid, ..
            }) => {
                self.counts.reward_changes += 1;
                let shown = self.rewarded.entry(me).or_default();
                *shown += 1;
                let owed = self.owed.get(&me).map_or(0, |s| s.len()) as u64;
                rewarded_once(me, *shown, owed, failures);
            }
            _ => {}
        }
    }

    /// At each check: which tickets the node no longer has.
    pub fn check(&mut self, node: &Node, now: Instant) {
        let inside: BTreeSet<CharacterId> = (node.instances().iter())
            .flat_map(|i| i.members.iter().map(|m| m.0))
            .collect();
        let mm = node.matchmaker();
        for (&c, t) in self.tickets.iter_mut() {
            if mm.is_queued(c) || inside.contains(&c) {
                t.missing = None;
            } else if t.missing.is_none() {
                t.missing = Some(now);
            }
        }
    }

    /// At the end: the tickets lost. `conn_of` is each character's
    /// client's connection now (`None`: not connected).
    pub fn final_check(
        &mut self,
        now: Instant,
        conn_of: &dyn Fn(CharacterId) -> Option<ConnId>,
        failures: &mut Vec<String>,
    ) {
        for (&c, t) in &self.tickets {
            if t.incarnation != self.incarnation || t.conn.is_none() || conn_of(c) != t.conn {
                continue;
            }
            self.counts.tickets_judged += 1;
            ticket_lost(c, t, now, failures);
        }
    }
}

/// No character in two instances, nor queued and in an instance. Returns
/// the memberships compared.
pub fn exclusive(
    instances: &[InstanceInfo],
    queued: &dyn Fn(CharacterId) -> bool,
    failures: &mut Vec<String>,
) -> u64 {
    let mut of: BTreeMap<CharacterId, u64> = BTreeMap::new();
    let mut n = 0;
    for i in instances {
        for &(c, ..) in &i.members {
            n += 1;
            if let Some(other) = of.insert(c, i.id) {
                failures.push(format!("raid: {c:?} is in instances {other} and {}", i.id));
            }
            if queued(c) {
                failures.push(format!("raid: {c:?} is queued and in instance {}", i.id));
            }
        }
    }
    n
}

/// Instances with nobody inside must be gone by the next tick, and the
/// world runs a zone for each open instance; returns those empty now.
pub fn lifetime(
    instances: &[InstanceInfo],
    zones: usize,
    empty_before: &BTreeSet<u64>,
    failures: &mut Vec<String>,
) -> BTreeSet<u64> {
    if zones != instances.len() {
        failures.push(format!(
            "raid: {} instances open, {zones} instance zones",
            instances.len()
        ));
    }
    let mut empty = BTreeSet::new();
    for i in instances.iter().filter(|i| i.members.iter().all(|m| !m.1)) {
        if empty_before.contains(&i.id) {
            failures.push(format!(
                "raid: instance {} outlived its players by a tick",
                i.id
            ));
        }
        empty.insert(i.id);
    }
    empty
}

/// A match's spread within what was allowed, and that within its group.
pub fn spread(i: &InstanceInfo, widths: &[Vec<u16>], failures: &mut Vec<String>) {
    let width = widths
        .get(i.kind as usize)
        .and_then(|g| g.get(i.level_group as usize));
    let Some(&width) = width else {
        failures.push(format!(
            "raid: instance {} of kind {} level group {} that do not exist",
            i.id, i.kind, i.level_group
        ));
        return;
    };
    if i.spread > i.allowed || i.allowed > width {
        failures.push(format!(
            "raid: instance {} matched a spread of {} levels, {} allowed, in a group {width} wide",
            i.id, i.spread, i.allowed
        ));
    }
}

/// Every reward owed was claimed, given at the close or at a load, left to
/// the store, lost, or is still owed.
pub fn rewards_balance(s: &RaidStats, instances: &[InstanceInfo], failures: &mut Vec<String>) {
    let still: u64 = (instances.iter())
        .map(|i| i.members.iter().filter(|m| m.3).count() as u64)
        .sum();
    let settled = s.rewards_claimed
        + s.rewards_given_at_close
        + s.rewards_given_at_load
        + s.rewards_stored
        + s.rewards_lost;
    if settled + still != s.rewards_owed {
        failures.push(format!(
            "raid: {} rewards owed, {} claimed + {} given at close + {} at a load + {} left to the store + {} lost + {still} still owed",
            s.rewards_owed,
            s.rewards_claimed,
            s.rewards_given_at_close,
            s.rewards_given_at_load,
            s.rewards_stored,
            s.rewards_lost
        ));
    }
    if s.matches_too_wide > 0 {
        failures.push(format!(
            "raid: the node counted {} matches too wide",
            s.matches_too_wide
        ));
    }
}

/// A character's clients were shown `shown` reward changes, and it was
/// owed rewards in `owed` raids.
pub fn rewarded_once(c: CharacterId, shown: u64, owed: u64, failures: &mut Vec<String>) {
    if shown > owed {
        failures.push(format!(
            "raid: {c:?} was shown {shown} reward changes, owed {owed} rewards"
        ));
    }
}

/// A ticket the node no longer has, and since when, at `now`.
pub fn ticket_lost(c: CharacterId, t: &Ticket, now: Instant, failures: &mut Vec<String>) {
    if let Some(since) = t.missing.filter(|&m| now.saturating_since(m) >= LOST_AFTER) {
        failures.push(format!(
            "raid: {c:?}'s ticket was lost: not queued since {since:?} and its client ({:?}) never told",
            t.conn
        ));
    }
}

/// In the store, every raid reward given was given by exactly one
/// transaction ([`MemoryStore::audit_raid_rewards`]).
pub fn rewards_given_once(store: &MemoryStore, failures: &mut Vec<String>) {
    failures.extend(store.audit_raid_rewards());
}
