//! The node's side of the store contract: intents in flight, what each was
//! for, and how long the node waits for its outcome.
//!
//! Every intent waits in one bounded table with a deadline. An outcome, or the
//! deadline passing (the store crashed with the intent, or is stuck), settles
//! it exactly once: the part that asked is told the result, a missed
//! deadline reading as `Unavailable`. An outcome for an intent already
//! settled is counted and ignored, so a store answering twice, or late, can
//! change nothing.

use super::{Node, Output};
use crate::ids::{CharacterId, ConnId, IntentId, PlayerId};
use crate::persist::{Change, Intent, Outcome, Reply, StoreError};
use crate::social::SocialToken;
use crate::time::{Duration, Instant};
use crate::timers::TimerSet;
use std::collections::BTreeMap;

/// What an intent in flight was for: who is told its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    /// A login's `OpenAccount`, for the session on `conn`.
    Login { conn: ConnId },
    /// A character created or deleted for `player`.
    Characters { player: PlayerId },
    /// `player`'s chosen character, loading.
    Load {
        player: PlayerId,
        character: CharacterId,
    },
    /// A save of `character` at `version`.
    Save {
        character: CharacterId,
        version: u64,
    },
    /// A change the social layer asked for.
    Social { token: SocialToken },
    /// A character's inventory, loading.
    Inventory { character: CharacterId },
    /// An economy transaction.
    Commit { name: super::TxName },
    /// A leaderboard read for `player`: raid kind, level group, board.
    Board {
        player: PlayerId,
        raid: u16,
        level_group: u8,
        board: crate::raid::Board,
    },
    /// A raid run's scores (`RaidLink::runs` holds it until answered).
    RaidRun { run: u64 },
}

#[derive(Debug, Default)]
pub(super) struct StoreLink {
    pending: BTreeMap<IntentId, Purpose>,
    deadlines: TimerSet<IntentId>,
    next_intent: u64,
}

impl StoreLink {
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.next().map(|(at, _)| at)
    }

    pub fn pop_due(&mut self, at: Instant) -> Option<IntentId> {
        self.deadlines.pop_due(at).map(|(_, id)| id)
    }
}

impl Node {
    /// Asks the store to apply `change`, for `purpose`. `None` when the table
    /// of pending intents is full (counted): the caller refuses or retries.
    pub(super) fn persist(
        &mut self,
        now: Instant,
        change: Change,
        purpose: Purpose,
    ) -> Option<IntentId> {
        if self.store.pending.len() >= self.config.max_pending_intents as usize {
            self.stats.store_dropped += 1;
            return None;
        }
        self.store.next_intent += 1;
        let id = IntentId(self.store.next_intent);
        self.store.pending.insert(id, purpose);
        let timeout = Duration::from_millis(self.config.store_timeout_ms as u64);
        self.store.deadlines.set(id, Some(now + timeout));
        self.stats.store_intents += 1;
        self.outbox
            .outputs
            .push_back(Output::Persist(Intent { id, change }));
        Some(id)
    }

    /// True when new logins are shed: the store is behind by more than
    /// `store_busy_intents` (intents waiting, plus characters of players who
    /// left whose last state is not yet saved).
    pub(super) fn store_busy(&self) -> bool {
        self.store.pending.len() + self.saves.unsaved_leavers()
            >= self.config.store_busy_intents as usize
    }

    /// A store's answer to an intent this node issued ([`Output::Persist`]).
    /// An answer to no pending intent (a store answering twice, or after the
    /// node stopped waiting) is counted and otherwise ignored.
    pub fn handle_store_outcome(&mut self, now: Instant, outcome: Outcome) {
        let Some(purpose) = self.store.pending.remove(&outcome.id) else {
            self.stats.store_unexpected += 1;
            return;
        };
        self.store.deadlines.set(outcome.id, None);
        match outcome.result {
            Ok(_) => self.stats.store_acknowledged += 1,
            Err(_) => self.stats.store_failed += 1,
        }
        self.settle(now, purpose, outcome.result);
    }

    /// No outcome in time: the intent reads as failed. If the store applied
    /// it after all, its outcome is ignored; rule 1 makes the retry safe.
    pub(super) fn intent_timed_out(&mut self, now: Instant, id: IntentId) {
        if let Some(purpose) = self.store.pending.remove(&id) {
            self.stats.store_timeouts += 1;
            self.settle(now, purpose, Err(StoreError::Unavailable));
        }
    }

    fn settle(&mut self, now: Instant, purpose: Purpose, result: Result<Reply, StoreError>) {
        // The connection an answer may send to: it must be flushed (and its
        // timers rearmed) after, as after any input on it.
        let conn = match purpose {
            Purpose::Login { conn } => Some(conn),
            Purpose::Characters { player } | Purpose::Load { player, .. } => {
                self.players.get(player).and_then(|p| p.conn)
            }
            Purpose::Save { .. }
            | Purpose::Social { .. }
            | Purpose::Inventory { .. }
            | Purpose::Commit { .. }
            | Purpose::Board { .. }
            | Purpose::RaidRun { .. } => None,
        };
        match purpose {
            Purpose::Login { conn } => self.account_opened(now, conn, result),
            Purpose::Characters { player } => self.characters_changed(now, player, result),
            Purpose::Load { player, character } => {
                self.character_loaded(now, player, character, result)
            }
            Purpose::Save { character, version } => {
                self.character_saved(now, character, version, result)
            }
            Purpose::Social { token } => self.social_settled(now, token, result),
            Purpose::Inventory { character } => self.inventory_loaded(now, character, result),
            Purpose::Commit { name } => self.commit_settled(now, name, result),
            Purpose::Board {
                player,
                raid,
                level_group,
                board,
            } => self.board_read(now, player, (raid, level_group, board), result),
            Purpose::RaidRun { run } => self.run_recorded(now, run, result),
        }
        if let Some(conn) = conn {
            self.session_changed(now, conn);
        }
    }
}
