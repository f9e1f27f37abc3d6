//! The simulator's store: a [`MemoryStore`] as the committed state, behind a
//! group-commit queue that can be slow, fail and crash.
//!
//! Intents queue up. When no commit is running, one starts with everything
//! queued (a batch) and ends after a seeded latency: then, unless it fails,
//! each intent is applied to the committed state in order, and only then are
//! its outcomes handed back (the simulator delivers them at the commit's
//! virtual time). A failed commit applies nothing and answers every intent
//! in the batch `Unavailable`. A crash loses every queued and in-flight
//! intent without an answer (the node's `store_timeout_ms` gives up on
//! them) and keeps the store down for a while, taking and answering
//! nothing; it comes back with exactly its committed state.
//!
//! The store outlives node restarts, as a database outlives a server
//! process. Each intent is tagged with the node incarnation that sent it
//! (its epoch): an answer for an earlier incarnation goes to a connection
//! that died with it and is dropped, though its change was committed.

use super::faults::{StorePlan, STORE_RUN_STREAM};
use super::invariants::TxAudit;
use game_core::persist::{Intent, MemoryStore, Outcome, StoreError};
use game_core::rng::{self, StreamKind};
use game_core::time::{Duration, Instant};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde::Serialize;

/// An intent and the node incarnation that sent it.
type Tagged = (u64, Intent);

/// What the store did over a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    pub intents: u64,
    pub batches: u64,
    pub largest_batch: u64,
    pub committed: u64,
    pub failed_batches: u64,
    pub failed_intents: u64,
    pub crashes: u64,
    /// Queued or in flight at a crash, or sent while down: never answered.
    pub lost: u64,
    /// Refused at once because the queue was full.
    pub overflowed: u64,
    /// Answers for a node incarnation that had since restarted.
    pub to_dead_node: u64,
}

#[derive(Debug)]
pub struct SimStore {
    committed: MemoryStore,
    plan: StorePlan,
    rng: ChaCha8Rng,
    queue: Vec<Tagged>,
    /// The batch being committed, and when it ends.
    in_flight: Option<(Vec<Tagged>, Instant)>,
    /// Counts crashes: a commit scheduled before a crash finds it changed.
    generation: u64,
    down_until: Option<Instant>,
    max_queue: usize,
    /// From here on (the liveness phase) the store is quick and never fails.
    calm_from: Instant,
    stats: StoreStats,
    /// Watches every transaction applied (the economy checks).
    audit: TxAudit,
}

/// What the driver schedules after a call: a commit's end, by generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitAt {
    pub at: Instant,
    pub generation: u64,
}

impl SimStore {
    pub fn new(plan: StorePlan, seed: u64, max_queue: usize, calm_from: Instant) -> Self {
        SimStore {
            committed: MemoryStore::default(),
            plan,
            rng: rng::stream(seed, StreamKind::Faults, STORE_RUN_STREAM),
            queue: Vec::new(),
            in_flight: None,
            generation: 0,
            down_until: None,
            max_queue,
            calm_from,
            stats: StoreStats::default(),
            audit: TxAudit::default(),
        }
    }

    /// The committed state: what survives any crash.
    pub fn committed(&self) -> &MemoryStore {
        &self.committed
    }

    /// The committed state, for the login service (its own connection to
    /// the database; it registers accounts outside the node's intents).
    pub fn committed_mut(&mut self) -> &mut MemoryStore {
        &mut self.committed
    }

    pub fn is_down(&self) -> bool {
        self.down_until.is_some()
    }

    pub fn stats(&self) -> &StoreStats {
        &self.stats
    }

    pub fn audit(&self) -> &TxAudit {
        &self.audit
    }

    pub fn audit_mut(&mut self) -> &mut TxAudit {
        &mut self.audit
    }

    /// Takes an intent from node incarnation `epoch`. An immediate answer
    /// (the queue is full) comes back as `Err`; a commit to schedule as
    /// `Ok(Some)`.
    pub fn submit(
        &mut self,
        now: Instant,
        epoch: u64,
        intent: Intent,
    ) -> Result<Option<CommitAt>, Outcome> {
        self.stats.intents += 1;
        if self.down_until.is_some() {
            self.stats.lost += 1;
            return Ok(None);
        }
        if self.queue.len() >= self.max_queue {
            self.stats.overflowed += 1;
            return Err(Outcome {
                id: intent.id,
                result: Err(StoreError::Unavailable),
            });
        }
        self.queue.push((epoch, intent));
        Ok(self.start_commit(now))
    }

    /// Starts a commit of everything queued, if none is running.
    fn start_commit(&mut self, now: Instant) -> Option<CommitAt> {
        if self.in_flight.is_some() || self.queue.is_empty() || self.down_until.is_some() {
            return None;
        }
        let calm = now >= self.calm_from;
        let (lo, hi) = if calm {
            StorePlan::RELIABLE.latency_ms
        } else {
            self.plan.latency_ms
        };
        let ms = lo as u64 + self.rng.next_u64() % (hi - lo + 1) as u64;
        let at = now + Duration::from_millis(ms);
        let batch = std::mem::take(&mut self.queue);
        self.in_flight = Some((batch, at));
        Some(CommitAt {
            at,
            generation: self.generation,
        })
    }

    /// The commit scheduled for `generation` ends: the batch's outcomes
    /// (tagged with their epochs), and the next commit to schedule. A
    /// commit lost in a crash ends with nothing.
    pub fn commit(
        &mut self,
        now: Instant,
        generation: u64,
    ) -> (Vec<(u64, Outcome)>, Option<CommitAt>) {
        if generation != self.generation {
            return (Vec::new(), None);
        }
        let Some((batch, _)) = self.in_flight.take() else {
            return (Vec::new(), None);
        };
        self.stats.batches += 1;
        self.stats.largest_batch = self.stats.largest_batch.max(batch.len() as u64);
        let fails = self.plan.fail_per_10k > 0
            && now < self.calm_from
            && (self.rng.next_u32() % 10_000) < self.plan.fail_per_10k;
        let outcomes = if fails {
            self.stats.failed_batches += 1;
            self.stats.failed_intents += batch.len() as u64;
            batch
                .into_iter()
                .map(|(epoch, intent)| {
                    let outcome = Outcome {
                        id: intent.id,
                        result: Err(StoreError::Unavailable),
                    };
                    (epoch, outcome)
                })
                .collect()
        } else {
            self.stats.committed += batch.len() as u64;
            batch
                .into_iter()
                .map(|(epoch, intent)| {
                    let before = TxAudit::before(&self.committed, &intent);
                    let outcome = self.committed.apply(&intent);
                    if let Some(b) = before {
                        self.audit.after(&self.committed, b, &outcome);
                    }
                    (epoch, outcome)
                })
                .collect()
        };
        (outcomes, self.start_commit(now))
    }

    /// The store crashes: every queued and in-flight intent is lost without
    /// an answer, and it is down for `down`. Returns when it comes back.
    pub fn crash(&mut self, now: Instant, down: Duration) -> Instant {
        self.stats.crashes += 1;
        self.generation += 1;
        let in_flight = self.in_flight.take().map_or(0, |(b, _)| b.len());
        self.stats.lost += (self.queue.len() + in_flight) as u64;
        self.queue.clear();
        let back = now + down;
        self.down_until = Some(back);
        back
    }

    /// Back up, with its committed state and nothing queued.
    pub fn recover(&mut self) {
        self.down_until = None;
    }

    /// An answer for node incarnation `epoch` reaches the node that is up
    /// (`current`), or is dropped and counted.
    pub fn reaches(&mut self, epoch: u64, current: u64) -> bool {
        if epoch == current {
            true
        } else {
            self.stats.to_dead_node += 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_core::ids::IntentId;
    use game_core::persist::{AccountRef, Change, Reply};

    fn open(id: u64, name: &str) -> Intent {
        Intent {
            id: IntentId(id),
            change: Change::OpenAccount {
                account: AccountRef::Dev(name.into()),
            },
        }
    }

    fn plan(fail_per_10k: u32) -> StorePlan {
        StorePlan {
            latency_ms: (10, 10),
            fail_per_10k,
            crashes: Vec::new(),
        }
    }

    const T0: Instant = Instant::ZERO;
    const FOREVER: Instant = Instant::from_micros(u64::MAX);

    #[test]
    fn the_store_is_calm_from_the_liveness_phase() {
        let calm_from = T0 + Duration::from_secs(1);
        let mut store = SimStore::new(plan(10_000), 1, 100, calm_from);
        let c = store.submit(calm_from, 0, open(1, "ann")).unwrap().unwrap();
        assert!(c.at <= calm_from + Duration::from_millis(5));
        let (outcomes, _) = store.commit(c.at, c.generation);
        assert!(outcomes[0].1.result.is_ok());
    }

    #[test]
    fn a_commit_takes_everything_queued_and_answers_only_when_it_ends() {
        let mut store = SimStore::new(plan(0), 1, 100, FOREVER);
        let first = store.submit(T0, 0, open(1, "ann")).unwrap().unwrap();
        assert_eq!(first.at, T0 + Duration::from_millis(10));
        // Queued behind the running commit: no second commit yet.
        assert_eq!(store.submit(T0, 0, open(2, "bob")).unwrap(), None);
        assert_eq!(store.submit(T0, 0, open(3, "cat")).unwrap(), None);
        // Nothing is committed before the commit ends.
        assert!(store.committed().find_account("ann").is_none());
        let (outcomes, next) = store.commit(first.at, first.generation);
        assert_eq!(outcomes.len(), 1);
        assert!(matches!(outcomes[0].1.result, Ok(Reply::Account { .. })));
        // The next commit takes both queued intents at once.
        let next = next.unwrap();
        let (outcomes, after) = store.commit(next.at, next.generation);
        assert_eq!(outcomes.len(), 2);
        assert_eq!(after, None);
        assert_eq!(store.stats().batches, 2);
        assert_eq!(store.stats().largest_batch, 2);
    }

    #[test]
    fn a_failed_commit_applies_nothing_and_answers_unavailable() {
        let mut store = SimStore::new(plan(10_000), 1, 100, FOREVER);
        let c = store.submit(T0, 0, open(1, "ann")).unwrap().unwrap();
        let (outcomes, _) = store.commit(c.at, c.generation);
        assert_eq!(outcomes[0].1.result, Err(StoreError::Unavailable));
        assert_eq!(store.committed().characters().count(), 0);
        // Applying it again (the retry) opens the account once.
        let mut reference = MemoryStore::default();
        let want = reference.apply(&open(1, "ann"));
        let mut ok = SimStore::new(plan(0), 1, 100, FOREVER);
        let c = ok.submit(T0, 0, open(1, "ann")).unwrap().unwrap();
        assert_eq!(ok.commit(c.at, c.generation).0[0].1, want);
    }

    #[test]
    fn a_crash_loses_queued_and_in_flight_intents_without_an_answer() {
        let mut store = SimStore::new(plan(0), 1, 100, FOREVER);
        let c = store.submit(T0, 0, open(1, "ann")).unwrap().unwrap();
        store.submit(T0, 0, open(2, "bob")).unwrap();
        let back = store.crash(T0 + Duration::from_millis(5), Duration::from_secs(1));
        // The commit scheduled before the crash ends with nothing.
        assert_eq!(store.commit(c.at, c.generation), (Vec::new(), None));
        // While down, intents vanish.
        assert_eq!(store.submit(c.at, 0, open(3, "cat")).unwrap(), None);
        assert!(store.is_down());
        store.recover();
        assert!(back > c.at);
        assert_eq!(store.stats().lost, 3);
        let c = store.submit(back, 0, open(4, "dan")).unwrap().unwrap();
        let (outcomes, _) = store.commit(c.at, c.generation);
        assert_eq!(outcomes.len(), 1);
        assert!(store.committed().find_account("ann").is_none());
    }

    #[test]
    fn a_full_queue_refuses_at_once() {
        let mut store = SimStore::new(plan(0), 1, 1, FOREVER);
        store.submit(T0, 0, open(1, "ann")).unwrap(); // in flight
        store.submit(T0, 0, open(2, "bob")).unwrap(); // queued
        let refused = store.submit(T0, 0, open(3, "cat")).unwrap_err();
        assert_eq!(refused.result, Err(StoreError::Unavailable));
        assert_eq!(store.stats().overflowed, 1);
    }

    #[test]
    fn answers_for_a_restarted_node_are_dropped() {
        let mut store = SimStore::new(plan(0), 1, 10, FOREVER);
        assert!(store.reaches(2, 2));
        assert!(!store.reaches(1, 2));
        assert_eq!(store.stats().to_dead_node, 1);
    }
}
