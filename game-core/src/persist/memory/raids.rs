//! The reference store's raid leaderboards: per raid kind, level group and
//! board, every entrant's best run (a [`Leaderboard`] that never drops one)
//! and the names shown beside it.

use super::MemoryStore;
use crate::ids::CharacterId;
use crate::persist::{Board, BoardEntry, RaidRun, Reply, StoreError, MAX_LEADERBOARD_TOP};
use crate::raid::{Leaderboard, RaidScore, Ranked};
use std::collections::BTreeMap;

/// A board's place in the store: raid kind name, level group, board.
pub(super) type BoardKey = (String, u8, Board);

/// One board: the bests in order, and each entrant's names.
#[derive(Clone, Debug)]
pub(super) struct StoredBoard {
    bests: Leaderboard<u64>,
    names: BTreeMap<u64, Vec<String>>,
}

impl Default for StoredBoard {
    fn default() -> Self {
        StoredBoard {
            // Never full: the reference keeps every entrant, as a table does.
            bests: Leaderboard::new(usize::MAX),
            names: BTreeMap::new(),
        }
    }
}

impl StoredBoard {
    /// Keeps the run if it beats the entrant's best (or is its first).
    fn record(&mut self, entrant: u64, score: RaidScore, names: impl FnOnce() -> Vec<String>) {
        if self.bests.record(entrant, score) {
            self.names.insert(entrant, names());
        }
    }

    fn remove(&mut self, entrant: u64) {
        self.bests.remove(entrant);
        self.names.remove(&entrant);
    }

    fn entry(&self, ranked: Ranked<u64>) -> BoardEntry {
        BoardEntry {
            rank: ranked.rank,
            entrant: ranked.entrant,
            names: self.names.get(&ranked.entrant).cloned().unwrap_or_default(),
            score: ranked.score,
        }
    }
}

impl MemoryStore {
    pub(super) fn record_raid(&mut self, run: &RaidRun) -> Result<Reply, StoreError> {
        for (character, name, score) in &run.players {
            // A character deleted since its run stays off the board.
            if self.characters.contains_key(character) {
                (self.raid_board(run, Board::Players))
                    .record(character.0, *score, || vec![name.clone()]);
            }
        }
        if !run.players.is_empty() {
            let entrant = run.group_entrant();
            (self.raid_board(run, Board::Groups)).record(entrant, run.group, || run.group_names());
        }
        Ok(Reply::Done)
    }

    fn raid_board(&mut self, run: &RaidRun, board: Board) -> &mut StoredBoard {
        let key = (run.raid.clone(), run.level_group, board);
        self.raid_boards.entry(key).or_default()
    }

    /// A leaderboard: its best `top` entries (at most
    /// [`MAX_LEADERBOARD_TOP`]) in order, and `character`'s own entry on the
    /// players' board. What [`crate::persist::Change::LoadLeaderboard`]
    /// answers, also for readers outside the core (the login service).
    pub fn leaderboard(
        &self,
        raid: &str,
        level_group: u8,
        board: Board,
        top: u16,
        character: Option<CharacterId>,
    ) -> (Vec<BoardEntry>, Option<BoardEntry>) {
        let Some(stored) = self.raid_boards.get(&(raid.to_owned(), level_group, board)) else {
            return (Vec::new(), None);
        };
        let top = (stored.bests.top(usize::from(top.min(MAX_LEADERBOARD_TOP))))
            .into_iter()
            .map(|r| stored.entry(r))
            .collect();
        let own = match (board, character) {
            (Board::Players, Some(c)) => stored.bests.rank(c.0).map(|r| stored.entry(r)),
            _ => None,
        };
        (top, own)
    }

    /// A deleted character leaves every players' board.
    pub(super) fn forget_raids(&mut self, character: CharacterId) {
        for ((_, _, board), stored) in &mut self.raid_boards {
            if *board == Board::Players {
                stored.remove(character.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, IntentId};
    use crate::math::Vec2;
    use crate::persist::{group_entrant, AccountRef, Change, CharacterState, Intent, Place};

    fn apply(store: &mut MemoryStore, id: u64, change: Change) -> Result<Reply, StoreError> {
        store
            .apply(&Intent {
                id: IntentId(id),
                change,
            })
            .result
    }

    /// A store with characters 1..=n, named c1, c2…
    fn store_with(n: u64) -> MemoryStore {
        let mut store = MemoryStore::default();
        let account = AccountRef::Dev("ada".into());
        apply(&mut store, 1, Change::OpenAccount { account }).unwrap();
        for c in 1..=n {
            let change = Change::CreateCharacter {
                account: AccountId(1),
                name: format!("c{c}"),
                state: CharacterState {
                    place: Place {
                        map: "meadow".into(),
                        channel: 0,
                        pos: Vec2::from_ints(0, 0),
                    },
                    level: 1,
                    experience: 0,
                },
                max_characters: u8::MAX,
            };
            apply(&mut store, 100 + c, change).unwrap();
        }
        store
    }

    fn score(time_ms: u32, at: u64) -> RaidScore {
        RaidScore {
            cleared: true,
            time_ms,
            deaths: 0,
            damage: 1_000,
            at,
        }
    }

    /// A run by `members`, each with the group's score.
    fn run(members: &[u64], time_ms: u32, at: u64) -> Change {
        Change::RecordRaid {
            run: Box::new(RaidRun {
                raid: "ember_lair".into(),
                level_group: 0,
                group: score(time_ms, at),
                players: (members.iter())
                    .map(|&c| (CharacterId(c), format!("c{c}"), score(time_ms, at)))
                    .collect(),
            }),
        }
    }

    fn board(
        store: &MemoryStore,
        board: Board,
        character: u64,
    ) -> (Vec<(u32, u64, u32)>, Option<u32>) {
        let (top, own) =
            store.leaderboard("ember_lair", 0, board, 10, Some(CharacterId(character)));
        let top = top
            .iter()
            .map(|e| (e.rank, e.entrant, e.score.time_ms))
            .collect();
        (top, own.map(|e| e.rank))
    }

    #[test]
    fn only_each_entrants_best_is_kept_and_the_same_run_again_changes_nothing() {
        let mut store = store_with(3);
        let first = run(&[1, 2], 500, 1);
        assert_eq!(apply(&mut store, 1, first.clone()), Ok(Reply::Done));
        apply(&mut store, 2, run(&[1], 400, 2)).unwrap();
        apply(&mut store, 3, run(&[2, 3], 900, 3)).unwrap();
        let before = board(&store, Board::Players, 2);
        assert_eq!(
            before,
            (vec![(1, 1, 400), (2, 2, 500), (3, 3, 900)], Some(2))
        );
        // The first run again, by another intent or the same: nothing moves.
        apply(&mut store, 1, first.clone()).unwrap();
        apply(&mut store, 4, first).unwrap();
        assert_eq!(board(&store, Board::Players, 2), before);
        let (groups, own) = board(&store, Board::Groups, 1);
        let (g12, g1, g23) = (
            group_entrant([CharacterId(1), CharacterId(2)]),
            group_entrant([CharacterId(1)]),
            group_entrant([CharacterId(2), CharacterId(3)]),
        );
        assert_eq!(groups, vec![(1, g1, 400), (2, g12, 500), (3, g23, 900)]);
        assert_eq!(own, None, "no own entry on the groups' board");
    }

    #[test]
    fn equal_runs_rank_by_entrant_and_names_are_the_runs() {
        let mut store = store_with(3);
        apply(&mut store, 1, run(&[3, 1], 500, 7)).unwrap();
        apply(&mut store, 2, run(&[2], 500, 7)).unwrap();
        let (top, _) = board(&store, Board::Players, 1);
        assert_eq!(top, vec![(1, 1, 500), (2, 2, 500), (3, 3, 500)]);
        let (groups, _) = store.leaderboard("ember_lair", 0, Board::Groups, 10, None);
        let group = groups
            .iter()
            .find(|e| e.entrant == group_entrant([CharacterId(1), CharacterId(3)]));
        assert_eq!(
            group.map(|e| e.names.clone()),
            Some(vec!["c1".to_owned(), "c3".to_owned()])
        );
    }

    #[test]
    fn a_group_is_its_set_of_characters_however_listed() {
        let run = |ids: &[u64]| RaidRun {
            raid: "ember_lair".into(),
            level_group: 0,
            group: score(1, 1),
            players: (ids.iter())
                .map(|&c| (CharacterId(c), format!("c{c}"), score(1, 1)))
                .collect(),
        };
        let (a, b) = (run(&[2, 1]), run(&[1, 2, 2]));
        assert_eq!(a.group_entrant(), b.group_entrant());
        assert_eq!(a.group_names(), b.group_names());
        assert_eq!(a.group_names(), vec!["c1".to_owned(), "c2".to_owned()]);
        assert_ne!(a.group_entrant(), run(&[1, 3]).group_entrant());
    }

    #[test]
    fn a_deleted_character_leaves_the_players_board_and_a_retry_does_not_bring_it_back() {
        let mut store = store_with(2);
        let both = run(&[1, 2], 500, 1);
        apply(&mut store, 1, both.clone()).unwrap();
        let delete = Change::DeleteCharacter {
            account: AccountId(1),
            character: CharacterId(1),
        };
        apply(&mut store, 2, delete).unwrap();
        apply(&mut store, 1, both).unwrap();
        assert_eq!(board(&store, Board::Players, 1), (vec![(1, 2, 500)], None));
        let (groups, _) = board(&store, Board::Groups, 1);
        assert_eq!(groups.len(), 1, "the group's entry stays");
    }

    #[test]
    fn boards_are_apart_by_raid_and_level_group_and_top_is_bounded() {
        let mut store = store_with(0);
        // 150 groups of characters that do not exist: on the groups' board
        // only, in level group 2 only.
        for i in 0..150u64 {
            let mut change = run(&[1_000 + i], 100, i);
            if let Change::RecordRaid { run } = &mut change {
                run.level_group = 2;
            }
            apply(&mut store, i, change).unwrap();
        }
        let empty: (Vec<_>, _) = (vec![], None);
        assert_eq!(
            board(&store, Board::Groups, 1),
            empty,
            "another level group"
        );
        let load = |store: &MemoryStore, raid: &str, board: Board| {
            store.leaderboard(raid, 2, board, u16::MAX, None).0
        };
        assert_eq!(load(&store, "ember_lair", Board::Players), vec![]);
        assert_eq!(load(&store, "Ember_Lair", Board::Groups), vec![]);
        let top = load(&store, "ember_lair", Board::Groups);
        assert_eq!(top.len(), usize::from(MAX_LEADERBOARD_TOP));
        // Equal times: the earliest run first.
        let ats: Vec<u64> = top.iter().map(|e| e.score.at).collect();
        assert_eq!(ats, (0..100).collect::<Vec<u64>>());
        let mut nobody = run(&[], 1, 1);
        if let Change::RecordRaid { run } = &mut nobody {
            run.level_group = 2;
        }
        apply(&mut store, 999, nobody).unwrap();
        assert_eq!(
            load(&store, "ember_lair", Board::Groups)[0].score.time_ms,
            100,
            "a run with no players records nothing"
        );
    }
}
