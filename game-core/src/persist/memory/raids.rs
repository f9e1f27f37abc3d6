//! The reference store's raid leaderboards: per raid kind, level group and
//! board, every entrant's best run (a [`Leaderboard`] that never drops one)
//! and the names shown beside it.

use super::MemoryStore;
use crate::ids::CharacterId;
use crate::persist::{
    Board, BoardEntry, OwedReward, RaidRun, Reply, StoreError, MAX_LEADERBOARD_TOP, MAX_OWED_LOADED,
};
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
        for &character in &run.owed {
            if self.characters.contains_key(&character) {
                // Owed once: a retry finds it owed, or given, and keeps it.
                (self.raid_rewards)
                    .entry((character, run.id))
                    .or_insert_with(|| (run.reward.clone(), false));
            }
        }
        Ok(Reply::Done)
    }

    /// The rewards `character` is owed and not given, oldest run first, at
    /// most [`MAX_OWED_LOADED`].
    pub(super) fn owed_rewards(&self, character: CharacterId) -> Vec<OwedReward> {
        let range = (character, 0)..=(character, u64::MAX);
        (self.raid_rewards.range(range))
            .filter(|(_, (_, given))| !given)
            .take(MAX_OWED_LOADED)
            .map(|(&(_, run), (reward, _))| OwedReward {
                run,
                reward: reward.clone(),
            })
            .collect()
    }

    /// Marks the rewards of `runs` given to `character`, if every one is
    /// owed and not given (then `true`); otherwise changes nothing.
    pub(super) fn give_rewards(&mut self, character: CharacterId, runs: &[u64]) -> bool {
        let owed = |run: &u64| {
            (self.raid_rewards.get(&(character, *run))).is_some_and(|(_, given)| !given)
        };
        let distinct = runs.iter().enumerate().all(|(i, r)| !runs[..i].contains(r));
        if !distinct || !runs.iter().all(owed) {
            return false;
        }
        for run in runs {
            if let Some((_, given)) = self.raid_rewards.get_mut(&(character, *run)) {
                *given = true;
            }
        }
        true
    }

    /// Whether every raid reward marked given was given by exactly one
    /// transaction: each character's raid gold in the ledger is the gold of
    /// its rewards marked given (a raid reward is a transaction of one
    /// part, its character's). What is wrong, if anything. Characters since
    /// deleted are skipped (their rewards go with them, their receipts
    /// stay). For the simulator's and the fuzz targets' checks.
    pub fn audit_raid_rewards(&self) -> Vec<String> {
        let mut ledger: BTreeMap<CharacterId, u64> = BTreeMap::new();
        for (&(c, _), r) in &self.ledger {
            let raid = (r.gold_in.iter()).filter(|(_, s)| *s == crate::economy::Source::Raid);
            *ledger.entry(c).or_default() += raid.map(|(g, _)| g).sum::<u64>();
        }
        let mut given: BTreeMap<CharacterId, u64> = BTreeMap::new();
        for (&(c, _), (reward, was_given)) in &self.raid_rewards {
            if *was_given {
                *given.entry(c).or_default() += reward.gold;
            }
        }
        let mut wrong = Vec::new();
        for (c, gold) in ledger {
            let marked = given.get(&c).copied().unwrap_or(0);
            if gold != marked && self.characters.contains_key(&c) {
                wrong.push(format!(
                    "raid: {c:?} holds {gold} raid gold by the ledger, rewards of {marked} marked given"
                ));
            }
        }
        wrong
    }

    /// Every owed raid reward and whether it was given, by (character,
    /// run) (for tests and the simulator's checks).
    pub fn raid_rewards(
        &self,
    ) -> impl Iterator<Item = (CharacterId, u64, &crate::persist::RaidReward, bool)> {
        (self.raid_rewards.iter()).map(|(&(c, run), (reward, given))| (c, run, reward, *given))
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

    /// A deleted character leaves every players' board, and its owed
    /// rewards are gone.
    pub(super) fn forget_raids(&mut self, character: CharacterId) {
        for ((_, _, board), stored) in &mut self.raid_boards {
            if *board == Board::Players {
                stored.remove(character.0);
            }
        }
        (self.raid_rewards).retain(|&(c, _), _| c != character);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, IntentId};
    use crate::math::Vec2;
    use crate::persist::RaidReward;
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
                ..RaidRun::default()
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
            ..RaidRun::default()
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

    fn owing(run_id: u64, members: &[u64], owed: &[u64]) -> Change {
        let mut change = run(members, 500, run_id);
        if let Change::RecordRaid { run } = &mut change {
            run.id = run_id;
            run.owed = owed.iter().map(|&c| CharacterId(c)).collect();
            run.reward = RaidReward {
                gold: 25,
                item: Some((crate::content::ItemDefId(3), 2)),
            };
        }
        change
    }

    fn owed(store: &mut MemoryStore, c: u64) -> Vec<u64> {
        match apply(
            store,
            9_999,
            Change::LoadInventory {
                character: CharacterId(c),
            },
        ) {
            Ok(Reply::Inventory { owed, .. }) => owed.iter().map(|o| o.run).collect(),
            other => panic!("{other:?}"),
        }
    }

    /// Gives character 1 its reward of `runs` in a transaction moving its
    /// inventory from `before` to `before + 1`.
    fn give(
        store: &mut MemoryStore,
        id: u64,
        before: u64,
        runs: &[u64],
    ) -> Result<Reply, StoreError> {
        use crate::economy::{Inventory, Receipt, Source};
        let after = Inventory {
            gold: 25 * (before + 1),
            seq: before + 1,
            ..Inventory::new(4)
        };
        let change = Change::CommitTx {
            parts: vec![crate::persist::InventoryPart {
                character: CharacterId(1),
                before,
                after,
            }],
            receipt: Box::new(Receipt {
                gold_in: vec![(25, Source::Raid)],
                ..Receipt::default()
            }),
            grants: runs.to_vec(),
        };
        apply(store, id, change)
    }

    #[test]
    fn an_owed_reward_is_owed_once_given_once_and_a_late_record_does_not_owe_it_again() {
        let mut store = store_with(3);
        let won = owing(7, &[1, 2, 3], &[1, 2]);
        apply(&mut store, 1, won.clone()).unwrap();
        apply(&mut store, 2, owing(5, &[1], &[1])).unwrap();
        assert_eq!(owed(&mut store, 1), vec![5, 7], "oldest run first");
        assert_eq!(owed(&mut store, 3), Vec::<u64>::new(), "not a winner");
        // Given by one transaction; its retry answers the same.
        assert_eq!(give(&mut store, 10, 0, &[7]), Ok(Reply::Done));
        assert_eq!(give(&mut store, 10, 0, &[7]), Ok(Reply::Done));
        assert_eq!(owed(&mut store, 1), vec![5]);
        // Another transaction giving it again conflicts, and changes nothing.
        assert_eq!(give(&mut store, 11, 1, &[7]), Err(StoreError::Conflict));
        assert_eq!(give(&mut store, 11, 1, &[5, 5]), Err(StoreError::Conflict));
        assert_eq!(give(&mut store, 11, 1, &[5, 9]), Err(StoreError::Conflict));
        assert_eq!(owed(&mut store, 1), vec![5]);
        assert_eq!(store.inventory(CharacterId(1)).map(|i| i.seq), Some(1));
        // The run recorded again, late: the given reward stays given.
        apply(&mut store, 1, won).unwrap();
        assert_eq!(owed(&mut store, 1), vec![5]);
        assert_eq!(owed(&mut store, 2), vec![7]);
        let given: Vec<_> = (store.raid_rewards())
            .map(|(c, run, _, given)| (c.0, run, given))
            .collect();
        assert_eq!(given, vec![(1, 5, false), (1, 7, true), (2, 7, false)]);
    }

    #[test]
    fn a_load_answers_at_most_so_many_owed_rewards_and_a_deleted_character_owes_nothing() {
        let mut store = store_with(2);
        for r in 0..20 {
            apply(&mut store, 100 + r, owing(r, &[1, 2], &[1, 2])).unwrap();
        }
        let first: Vec<u64> = (0..MAX_OWED_LOADED as u64).collect();
        assert_eq!(owed(&mut store, 1), first);
        let delete = Change::DeleteCharacter {
            account: AccountId(1),
            character: CharacterId(2),
        };
        apply(&mut store, 2, delete).unwrap();
        apply(&mut store, 100, owing(0, &[1, 2], &[1, 2])).unwrap();
        assert!(store.raid_rewards().all(|(c, ..)| c == CharacterId(1)));
    }
}
