//! The raid queue: tickets (a player, or a whole party) wait for a raid kind
//! in their level group, are matched into groups of the kind's size (with
//! its roles, if it has any) whose level spread stays within a limit that
//! widens with the oldest ticket's wait, and go through a ready check.
//!
//! Pure: it is told the time, who queues, leaves, accepts, declines and
//! leaves the game, and says what happened as [`MatchEvent`]s. It never
//! knows a zone or a connection; the node turns a ready match into an
//! instance.
//!
//! Matching, per queue (a raid kind and a level group), at each
//! [`Matchmaker::tick`]: the oldest waiting ticket anchors a match; the
//! spread allowed is [`QueueRules::allowed_spread`] of its wait. Counts of
//! waiting players by level and role say at once whether any window of
//! levels that wide around the anchor could fill the group; if one can,
//! tickets inside it are taken in the order they queued (the anchor first)
//! until the group is full; the narrowest such window is used. An anchor
//! that cannot be matched yet is passed over for the next oldest, at most
//! [`ANCHORS_PER_TICK`] a tick. [`Matching::FirstCome`] takes the oldest
//! tickets of the group whatever their levels (the benchmark's baseline).
//!
//! A ready check that fails (a decline, a timeout, a member leaving the
//! game) removes the tickets of those who failed it and puts the others back
//! where they were, in front of everyone who queued after them.

use super::{Entrant, MatchId, QueueRules, TicketId, ROLES};
use crate::ids::CharacterId;
use crate::time::{Duration, Instant};
use std::collections::{BTreeMap, BTreeSet};

mod audit;
mod forming;
mod queue;

use queue::Queue;

/// Anchors tried per queue per tick before the queue waits for the next.
pub const ANCHORS_PER_TICK: usize = 4;

/// Scans of a queue per anchor for windows its counts said could fill but
/// whose tickets did not (parties that do not fit).
const PICKS_PER_ANCHOR: usize = 3;

/// The matchmaker's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchmakerLimits {
    /// Waiting tickets, all queues together; past it `QueueFull`.
    pub max_tickets: usize,
    /// Ready checks open at once; past it matching waits.
    pub max_ready_checks: usize,
}

impl Default for MatchmakerLimits {
    fn default() -> Self {
        MatchmakerLimits {
            max_tickets: 20_000,
            max_ready_checks: 1_000,
        }
    }
}

/// Why a queue request was refused. Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueueRefusal {
    UnknownRaid,
    /// No members, more than the raid's group, or a character twice.
    BadTicket,
    /// A member already waits in a queue.
    AlreadyQueued,
    /// A member is in a ready check.
    InReadyCheck,
    /// A member's level is in none of the raid's level groups.
    NoLevelGroup,
    /// The members' levels are in different level groups.
    MixedLevelGroups,
    /// More members of a role than the raid takes.
    TooManyOfRole,
    QueueFull,
    /// Not waiting in a queue (to leave one).
    NotQueued,
    /// Not a member of that ready check (it may have ended).
    NotYourMatch,
    AlreadyAccepted,
}

/// What the matchmaker decided, in order; [`Matchmaker::take_events`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchEvent {
    /// A match was found: every member must accept by `deadline`.
    Found {
        id: MatchId,
        kind: u16,
        members: Vec<CharacterId>,
        deadline: Instant,
    },
    /// Everyone accepted: the group is the node's now (an instance).
    Ready(ReadyMatch),
    /// The ready check failed: `removed` (who declined, timed out or left
    /// the game, with their parties) left the queue, `returned` went back.
    Failed {
        id: MatchId,
        returned: Vec<CharacterId>,
        removed: Vec<CharacterId>,
    },
    /// A waiting ticket left the queue: asked to, or a member left the game.
    Cancelled {
        ticket: TicketId,
        members: Vec<CharacterId>,
    },
}

/// A match everyone accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyMatch {
    pub id: MatchId,
    pub kind: u16,
    /// Index into the kind's `level_groups`.
    pub group: u8,
    /// In the order their tickets queued; a party's members together.
    pub members: Vec<Entrant>,
    /// Highest level minus lowest.
    pub spread: u16,
    /// The spread allowed when it was found.
    pub allowed: u16,
}

/// Where a queued player stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueStatus {
    pub ticket: TicketId,
    pub kind: u16,
    /// Index into the kind's `level_groups`.
    pub group: u8,
    /// Players in the same queue who queued before this ticket.
    pub ahead: u32,
    pub waited: Duration,
    /// The queue's recent waits less this one's so far; `None` until the
    /// queue has matched someone.
    pub estimate: Option<Duration>,
}

/// Counters, for the metrics. They only grow.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchStats {
    pub queued: u64,
    pub cancelled: u64,
    pub found: u64,
    pub ready: u64,
    pub failed: u64,
    pub refused: BTreeMap<QueueRefusal, u64>,
}

#[derive(Clone, Debug)]
struct Ticket {
    id: TicketId,
    kind: u16,
    group: u8,
    members: Vec<Entrant>,
    queued_at: Instant,
    lo: u16,
    hi: u16,
    roles: [u8; ROLES],
}

#[derive(Debug)]
struct ReadyCheck {
    kind: u16,
    group: u8,
    tickets: Vec<Ticket>,
    deadline: Instant,
    accepted: BTreeSet<CharacterId>,
    spread: u16,
    allowed: u16,
}

/// Where one queue's matching stands in a tick.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    /// Anchors that could not be matched.
    tried: usize,
    /// The last of them.
    after: Option<(Instant, TicketId)>,
    done: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Waiting(TicketId),
    Checking(MatchId),
}

/// Every raid kind's queues and open ready checks.
#[derive(Debug)]
pub struct Matchmaker {
    kinds: Vec<QueueRules>,
    limits: MatchmakerLimits,
    queues: BTreeMap<(u16, u8), Queue>,
    tickets: BTreeMap<TicketId, Ticket>,
    checks: BTreeMap<MatchId, ReadyCheck>,
    places: BTreeMap<CharacterId, Place>,
    next_ticket: u64,
    next_match: u64,
    /// Which queue matches first next tick.
    rotation: usize,
    events: Vec<MatchEvent>,
    stats: MatchStats,
}

impl Matchmaker {
    /// `kinds[k]` is raid kind `k`'s rules.
    pub fn new(kinds: Vec<QueueRules>, limits: MatchmakerLimits) -> Matchmaker {
        Matchmaker {
            kinds,
            limits,
            queues: BTreeMap::new(),
            tickets: BTreeMap::new(),
            checks: BTreeMap::new(),
            places: BTreeMap::new(),
            next_ticket: 1,
            next_match: 1,
            rotation: 0,
            events: Vec::new(),
            stats: MatchStats::default(),
        }
    }

    pub fn stats(&self) -> &MatchStats {
        &self.stats
    }

    /// Opens at most `max` ready checks at once from now on (those open
    /// already stay): the node keeps every open check an instance to go to.
    pub fn set_max_ready_checks(&mut self, max: usize) {
        self.limits.max_ready_checks = max;
    }

    /// The open ready check the character is in, if any.
    pub fn check_of(&self, character: CharacterId) -> Option<MatchId> {
        match self.places.get(&character)? {
            Place::Checking(id) => Some(*id),
            Place::Waiting(_) => None,
        }
    }

    /// Waiting tickets, all queues.
    pub fn waiting(&self) -> usize {
        self.tickets.len()
    }

    pub fn ready_checks(&self) -> usize {
        self.checks.len()
    }

    /// Whether the character waits in a queue or a ready check.
    pub fn is_queued(&self, character: CharacterId) -> bool {
        self.places.contains_key(&character)
    }

    /// Everything decided since the last call, in order.
    pub fn take_events(&mut self) -> Vec<MatchEvent> {
        std::mem::take(&mut self.events)
    }

    fn refuse<T>(&mut self, why: QueueRefusal) -> Result<T, QueueRefusal> {
        *self.stats.refused.entry(why).or_default() += 1;
        Err(why)
    }

    /// Queues `members` (one player, or a party) as one ticket for raid `kind`.
    pub fn enqueue(
        &mut self,
        now: Instant,
        kind: u16,
        members: Vec<Entrant>,
    ) -> Result<TicketId, QueueRefusal> {
        match self.check_ticket(kind, &members) {
            Ok((group, lo, hi, roles)) => {
                let id = TicketId(self.next_ticket);
                self.next_ticket += 1;
                for m in &members {
                    self.places.insert(m.character, Place::Waiting(id));
                }
                self.stats.queued += 1;
                self.insert(Ticket {
                    id,
                    kind,
                    group,
                    members,
                    queued_at: now,
                    lo,
                    hi,
                    roles,
                });
                Ok(id)
            }
            Err(why) => self.refuse(why),
        }
    }

    /// The ticket's level group, level range and role counts, or why not.
    fn check_ticket(
        &self,
        kind: u16,
        members: &[Entrant],
    ) -> Result<(u8, u16, u16, [u8; ROLES]), QueueRefusal> {
        let rules = self
            .kinds
            .get(kind as usize)
            .ok_or(QueueRefusal::UnknownRaid)?;
        let distinct: BTreeSet<CharacterId> = members.iter().map(|m| m.character).collect();
        if members.is_empty()
            || members.len() > rules.group_size as usize
            || distinct.len() != members.len()
        {
            return Err(QueueRefusal::BadTicket);
        }
        for m in members {
            match self.places.get(&m.character) {
                Some(Place::Waiting(_)) => return Err(QueueRefusal::AlreadyQueued),
                Some(Place::Checking(_)) => return Err(QueueRefusal::InReadyCheck),
                None => {}
            }
        }
        let mut group = None;
        for m in members {
            let g = rules.group_of(m.level).ok_or(QueueRefusal::NoLevelGroup)?;
            if group.is_some_and(|h| h != g) {
                return Err(QueueRefusal::MixedLevelGroups);
            }
            group = Some(g);
        }
        let mut roles = [0u8; ROLES];
        for m in members {
            roles[m.role.index()] += 1;
        }
        if let Some(wanted) = rules.roles {
            if (0..ROLES).any(|r| roles[r] > wanted[r]) {
                return Err(QueueRefusal::TooManyOfRole);
            }
        }
        if self.tickets.len() >= self.limits.max_tickets {
            return Err(QueueRefusal::QueueFull);
        }
        let lo = members.iter().map(|m| m.level).min().unwrap_or(0);
        let hi = members.iter().map(|m| m.level).max().unwrap_or(0);
        Ok((group.unwrap_or(0), lo, hi, roles))
    }

    fn insert(&mut self, ticket: Ticket) {
        let base = self.kinds[ticket.kind as usize].level_groups[ticket.group as usize].min;
        let queue = self.queues.entry((ticket.kind, ticket.group)).or_default();
        queue.order.insert((ticket.queued_at, ticket.id), ());
        queue.count(&ticket, base, true);
        self.tickets.insert(ticket.id, ticket);
    }

    /// Takes a waiting ticket out of its queue (its members' places stay).
    fn remove(&mut self, id: TicketId) -> Option<Ticket> {
        let ticket = self.tickets.remove(&id)?;
        let base = self.kinds[ticket.kind as usize].level_groups[ticket.group as usize].min;
        if let Some(queue) = self.queues.get_mut(&(ticket.kind, ticket.group)) {
            queue.order.remove(&(ticket.queued_at, ticket.id));
            queue.count(&ticket, base, false);
        }
        Some(ticket)
    }

    /// The character's ticket leaves its queue, or, in a ready check, the
    /// character declines it.
    pub fn leave(&mut self, character: CharacterId) -> Result<(), QueueRefusal> {
        match self.places.get(&character).copied() {
            Some(Place::Waiting(id)) => {
                self.cancel(id);
                Ok(())
            }
            Some(Place::Checking(id)) => self.decline(character, id),
            None => self.refuse(QueueRefusal::NotQueued),
        }
    }

    fn cancel(&mut self, id: TicketId) {
        if let Some(ticket) = self.remove(id) {
            let members: Vec<CharacterId> = ticket.members.iter().map(|m| m.character).collect();
            for c in &members {
                self.places.remove(c);
            }
            self.stats.cancelled += 1;
            self.events.push(MatchEvent::Cancelled {
                ticket: id,
                members,
            });
        }
    }

    /// The character left the game (its grace period is over): its ticket
    /// leaves the queue, or its ready check fails.
    pub fn gone(&mut self, character: CharacterId) {
        if self.places.contains_key(&character) {
            let _ = self.leave(character);
        }
    }

    pub fn accept(&mut self, character: CharacterId, id: MatchId) -> Result<(), QueueRefusal> {
        if self.places.get(&character) != Some(&Place::Checking(id)) {
            return self.refuse(QueueRefusal::NotYourMatch);
        }
        let Some(check) = self.checks.get_mut(&id) else {
            return self.refuse(QueueRefusal::NotYourMatch);
        };
        if !check.accepted.insert(character) {
            return self.refuse(QueueRefusal::AlreadyAccepted);
        }
        let everyone: usize = check.tickets.iter().map(|t| t.members.len()).sum();
        if check.accepted.len() == everyone {
            let check = self.checks.remove(&id).expect("found above");
            let members: Vec<Entrant> = (check.tickets.into_iter())
                .flat_map(|t| t.members)
                .collect();
            for m in &members {
                self.places.remove(&m.character);
            }
            self.stats.ready += 1;
            self.events.push(MatchEvent::Ready(ReadyMatch {
                id,
                kind: check.kind,
                group: check.group,
                members,
                spread: check.spread,
                allowed: check.allowed,
            }));
        }
        Ok(())
    }

    pub fn decline(&mut self, character: CharacterId, id: MatchId) -> Result<(), QueueRefusal> {
        if self.places.get(&character) != Some(&Place::Checking(id)) {
            return self.refuse(QueueRefusal::NotYourMatch);
        }
        self.fail(id, |t| t.members.iter().any(|m| m.character == character));
        Ok(())
    }

    /// Ends a ready check: the tickets `failed` picks leave, the others go
    /// back to their places in the queue.
    fn fail(&mut self, id: MatchId, failed: impl Fn(&Ticket) -> bool) {
        let Some(check) = self.checks.remove(&id) else {
            return;
        };
        let (mut returned, mut removed) = (Vec::new(), Vec::new());
        for ticket in check.tickets {
            let members = ticket.members.iter().map(|m| m.character);
            if failed(&ticket) {
                for c in members {
                    self.places.remove(&c);
                    removed.push(c);
                }
            } else {
                for c in members {
                    self.places.insert(c, Place::Waiting(ticket.id));
                    returned.push(c);
                }
                self.insert(ticket);
            }
        }
        self.stats.failed += 1;
        self.events.push(MatchEvent::Failed {
            id,
            returned,
            removed,
        });
    }

    /// Ends the ready checks past their deadline (those who had not
    /// accepted leave), then matches every queue.
    pub fn tick(&mut self, now: Instant) {
        let expired: Vec<MatchId> = (self.checks.iter())
            .filter(|(_, c)| c.deadline <= now)
            .map(|(&id, _)| id)
            .collect();
        for id in expired {
            let accepted = self.checks[&id].accepted.clone();
            self.fail(id, |t| {
                t.members.iter().any(|m| !accepted.contains(&m.character))
            });
        }
        // One match per queue per pass, the queues in turn from one further
        // each tick, so that the cap on open ready checks is shared: with
        // each queue matched to the full in order, the first took every
        // check that freed and the others starved (bench-matchmaker's
        // baseline saw a median wait of 174 s beside p90 548 s).
        let keys: Vec<(u16, u8)> = self.queues.keys().copied().collect();
        if keys.is_empty() {
            return;
        }
        let start = self.rotation % keys.len();
        self.rotation = self.rotation.wrapping_add(1);
        let mut cursors: Vec<Cursor> = vec![Cursor::default(); keys.len()];
        loop {
            let mut progress = false;
            for i in (0..keys.len()).map(|i| (start + i) % keys.len()) {
                if self.checks.len() >= self.limits.max_ready_checks {
                    return;
                }
                if !cursors[i].done && self.match_one(now, keys[i], &mut cursors[i]) {
                    progress = true;
                }
            }
            if !progress {
                return;
            }
        }
    }

    fn found(&mut self, now: Instant, kind: u16, group: u8, picked: Vec<TicketId>, allowed: u16) {
        let id = MatchId(self.next_match);
        self.next_match += 1;
        let tickets: Vec<Ticket> = picked.into_iter().filter_map(|t| self.remove(t)).collect();
        let lo = tickets.iter().map(|t| t.lo).min().unwrap_or(0);
        let hi = tickets.iter().map(|t| t.hi).max().unwrap_or(0);
        let members: Vec<CharacterId> = (tickets.iter())
            .flat_map(|t| t.members.iter().map(|m| m.character))
            .collect();
        for c in &members {
            self.places.insert(*c, Place::Checking(id));
        }
        if let Some(queue) = self.queues.get_mut(&(kind, group)) {
            for t in &tickets {
                queue.waited(now.saturating_since(t.queued_at));
            }
        }
        let deadline = now + Duration::from_millis(self.kinds[kind as usize].ready_check_ms as u64);
        self.stats.found += 1;
        self.events.push(MatchEvent::Found {
            id,
            kind,
            members,
            deadline,
        });
        self.checks.insert(
            id,
            ReadyCheck {
                kind,
                group,
                tickets,
                deadline,
                accepted: BTreeSet::new(),
                spread: hi - lo,
                allowed,
            },
        );
    }

    /// Where the character's ticket stands, if it waits in a queue.
    pub fn status(&self, now: Instant, character: CharacterId) -> Option<QueueStatus> {
        let Some(Place::Waiting(id)) = self.places.get(&character) else {
            return None;
        };
        let t = &self.tickets[id];
        let queue = &self.queues[&(t.kind, t.group)];
        let ahead: usize = (queue.order.range(..(t.queued_at, t.id)))
            .map(|(&(_, id), _)| self.tickets[&id].members.len())
            .sum();
        let waited = now.saturating_since(t.queued_at);
        Some(QueueStatus {
            ticket: t.id,
            kind: t.kind,
            group: t.group,
            ahead: u32::try_from(ahead).unwrap_or(u32::MAX),
            waited,
            estimate: (queue.recent_wait_us)
                .map(|us| Duration::from_micros(us.saturating_sub(waited.as_micros()))),
        })
    }
}
