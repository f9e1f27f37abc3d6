//! Raid scores and a leaderboard: every entrant's best run, ordered, with
//! the top N and any entrant's own rank.
//!
//! A run is ranked by [`RaidScore::key`]: a cleared raid before a failed
//! one; then the faster; then the fewer deaths; then the more damage; then
//! the earlier (whoever set it first keeps the place). An entrant (a
//! player, or a group) keeps only its best run. The board is a sorted
//! vector: a rank is a binary search, an improvement a removal and an
//! insertion (a memmove; at 100,000 entries some tens of µs).

use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// Which of a raid kind's two leaderboards (per level group).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Board {
    /// Each player's best run, by character.
    Players,
    /// Each group's best run; a group is its set of characters.
    Groups,
}

impl Board {
    pub const ALL: [Board; 2] = [Board::Players, Board::Groups];

    /// Its name in stores and in the login service's API.
    pub fn label(self) -> &'static str {
        match self {
            Board::Players => "players",
            Board::Groups => "groups",
        }
    }

    /// The board a [`Board::label`] names.
    pub fn from_label(label: &str) -> Option<Board> {
        Board::ALL.into_iter().find(|b| b.label() == label)
    }
}

/// How one run went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaidScore {
    /// The boss died within the time limit.
    pub cleared: bool,
    /// From the pull to the end.
    pub time_ms: u32,
    pub deaths: u32,
    pub damage: u64,
    /// A number that only grows (the raid's end, say), to break ties.
    pub at: u64,
}

/// Smaller is better.
type Key = (Reverse<bool>, u32, u32, Reverse<u64>, u64);

impl RaidScore {
    pub fn key(&self) -> Key {
        (
            Reverse(self.cleared),
            self.time_ms,
            self.deaths,
            Reverse(self.damage),
            self.at,
        )
    }

    /// Whether this run ranks above `other`.
    pub fn beats(&self, other: &RaidScore) -> bool {
        self.key() < other.key()
    }
}

/// One entrant's best run and where it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ranked<E> {
    /// 1 for the best.
    pub rank: u32,
    pub entrant: E,
    pub score: RaidScore,
}

/// Every entrant's best run, ordered.
#[derive(Clone, Debug)]
pub struct Leaderboard<E: Ord + Copy> {
    /// Best first.
    sorted: Vec<(Key, E)>,
    best: BTreeMap<E, RaidScore>,
    /// Entrants kept at most: past it a run that would rank last is not
    /// kept, and one that ranks higher pushes the last entrant off.
    cap: usize,
}

impl<E: Ord + Copy> Leaderboard<E> {
    pub fn new(cap: usize) -> Self {
        Leaderboard {
            sorted: Vec::new(),
            best: BTreeMap::new(),
            cap: cap.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Records a run; true if it is now the entrant's best and on the board.
    pub fn record(&mut self, entrant: E, score: RaidScore) -> bool {
        if let Some(old) = self.best.get(&entrant) {
            if !score.beats(old) {
                return false;
            }
            let at = self.position(old.key(), entrant);
            self.sorted.remove(at);
        } else if self.sorted.len() >= self.cap {
            match self.sorted.last() {
                Some(&last) if (score.key(), entrant) < last => {
                    if let Some((_, pushed)) = self.sorted.pop() {
                        self.best.remove(&pushed);
                    }
                }
                _ => return false,
            }
        }
        let key = score.key();
        let at = self
            .sorted
            .partition_point(|&(k, e)| (k, e) < (key, entrant));
        self.sorted.insert(at, (key, entrant));
        self.best.insert(entrant, score);
        true
    }

    /// Takes the entrant off the board; true if it was on it.
    pub fn remove(&mut self, entrant: E) -> bool {
        match self.best.remove(&entrant) {
            Some(old) => {
                let at = self.position(old.key(), entrant);
                self.sorted.remove(at);
                true
            }
            None => false,
        }
    }

    fn position(&self, key: Key, entrant: E) -> usize {
        self.sorted
            .partition_point(|&(k, e)| (k, e) < (key, entrant))
    }

    /// The best `n`, best first.
    pub fn top(&self, n: usize) -> Vec<Ranked<E>> {
        (self.sorted.iter().take(n).enumerate())
            .map(|(i, &(_, entrant))| Ranked {
                rank: rank_of(i),
                entrant,
                score: self.best[&entrant],
            })
            .collect()
    }

    /// The entrant's best run and its rank, if it is on the board.
    pub fn rank(&self, entrant: E) -> Option<Ranked<E>> {
        let score = *self.best.get(&entrant)?;
        Some(Ranked {
            rank: rank_of(self.position(score.key(), entrant)),
            entrant,
            score,
        })
    }
}

fn rank_of(index: usize) -> u32 {
    u32::try_from(index).map_or(u32::MAX, |i| i.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(cleared: bool, time_ms: u32, deaths: u32, damage: u64, at: u64) -> RaidScore {
        RaidScore {
            cleared,
            time_ms,
            deaths,
            damage,
            at,
        }
    }

    #[test]
    fn cleared_then_faster_then_fewer_deaths_then_more_damage_then_earlier() {
        let order = [
            run(true, 100, 5, 10, 9),
            run(true, 200, 0, 10, 1),
            run(true, 200, 1, 99, 1),
            run(true, 200, 1, 50, 1),
            run(true, 200, 1, 50, 2),
            run(false, 50, 0, 999, 0),
        ];
        for w in order.windows(2) {
            assert!(w[0].beats(&w[1]), "{:?} before {:?}", w[0], w[1]);
            assert!(!w[1].beats(&w[0]));
        }
    }

    #[test]
    fn an_entrant_keeps_its_best_and_the_cap_pushes_off_the_last() {
        let mut board = Leaderboard::new(2);
        assert!(board.record(1u64, run(true, 300, 0, 0, 1)));
        assert!(board.record(2, run(true, 200, 0, 0, 2)));
        assert!(
            !board.record(1, run(true, 400, 0, 0, 3)),
            "worse than its best"
        );
        assert!(
            !board.record(3, run(true, 500, 0, 0, 4)),
            "would rank last on a full board"
        );
        assert!(board.record(3, run(true, 100, 0, 0, 5)));
        let top: Vec<(u32, u64)> = board.top(5).iter().map(|r| (r.rank, r.entrant)).collect();
        assert_eq!(top, vec![(1, 3), (2, 2)]);
        assert_eq!(board.rank(1), None, "pushed off");
        assert_eq!(board.rank(2).map(|r| r.rank), Some(2));
        assert!(board.record(2, run(true, 50, 0, 0, 6)));
        assert_eq!(board.rank(2).map(|r| r.rank), Some(1));
    }

    #[test]
    fn a_removed_entrant_leaves_no_gap_and_can_come_back() {
        let mut board = Leaderboard::new(10);
        for (entrant, time) in [(1u64, 100), (2, 200), (3, 300)] {
            board.record(entrant, run(true, time, 0, 0, entrant));
        }
        assert!(board.remove(2));
        assert!(!board.remove(2), "already gone");
        assert_eq!(board.rank(2), None);
        assert_eq!(board.rank(3).map(|r| r.rank), Some(2));
        assert_eq!(board.len(), 2);
        // Gone, its old best is forgotten: a worse run is now its best.
        assert!(board.record(2, run(true, 900, 0, 0, 9)));
        assert_eq!(board.rank(2).map(|r| r.rank), Some(3));
    }

    proptest! {
        /// The board equals a reference: every entrant's best, sorted, cut to the cap.
        #[test]
        fn the_board_is_every_best_sorted(
            runs in prop::collection::vec((0u64..30, any::<bool>(), 0u32..5, 0u32..3, 0u64..4), 0..200),
            cap in 1usize..40,
        ) {
            let mut board = Leaderboard::new(cap);
            let mut reference: Vec<(u64, RaidScore)> = Vec::new();
            for (i, &(entrant, cleared, time, deaths, damage)) in runs.iter().enumerate() {
                let score = run(cleared, time, deaths, damage, i as u64);
                board.record(entrant, score);
                // The reference: best per entrant among those kept.
                match reference.iter().position(|(e, _)| *e == entrant) {
                    Some(at) if score.beats(&reference[at].1) => reference[at].1 = score,
                    Some(_) => {}
                    None => reference.push((entrant, score)),
                }
                reference.sort_by_key(|(e, s)| (s.key(), *e));
                reference.truncate(cap);
                let top = board.top(cap);
                prop_assert_eq!(top.len(), reference.len());
                for (i, (r, (e, s))) in top.iter().zip(&reference).enumerate() {
                    prop_assert_eq!((r.rank as usize, r.entrant, r.score), (i + 1, *e, *s));
                    prop_assert_eq!(board.rank(*e).map(|x| x.rank as usize), Some(i + 1));
                }
            }
        }
    }
}
