//! Raid leaderboards against every engine, chosen and skipped as in
//! `store_engines.rs` (see `common`). `MemoryStore` is the reference: every
//! batch must be answered as it answers it; the expected boards are also
//! written out, so that both cannot be wrong alike.

#[macro_use]
mod common;

use common::*;
use game_core as gc;
use net_adapter::store::Engine;

use gc::ids::{CharacterId, IntentId};
use gc::persist::{
    group_entrant, Board, BoardEntry, Change, Intent, RaidRun, Reply, StoreError,
    MAX_LEADERBOARD_TOP, MAX_RAID_NAME_BYTES,
};
use gc::raid::RaidScore;

store_tests!(
    only_each_entrants_best_is_kept_and_the_same_run_again_changes_nothing,
    equal_runs_rank_by_entrant_as_unsigned,
    the_own_entry_has_its_rank_among_extreme_values,
    deleting_a_character_takes_it_off_the_players_board_only,
    top_is_bounded_and_boards_are_apart,
    scores_survive_a_restart_and_read_the_same_outside_a_batch,
    raid_strings_no_engine_can_hold_are_refused_alone,
);

// ---------------------------------------------------------------------------
// Helpers.

const RAID: &str = "ember_lair";

fn score(cleared: bool, time_ms: u32, deaths: u32, damage: u64, at: u64) -> RaidScore {
    RaidScore {
        cleared,
        time_ms,
        deaths,
        damage,
        at,
    }
}

/// A run of `RAID`, level group 0: each player `c{id}` with its own score.
fn run(group: RaidScore, players: &[(u64, RaidScore)]) -> Change {
    Change::RecordRaid {
        run: Box::new(RaidRun {
            raid: RAID.to_owned(),
            level_group: 0,
            group,
            players: (players.iter())
                .map(|&(c, s)| (CharacterId(c), format!("c{c}"), s))
                .collect(),
            ..RaidRun::default()
        }),
    }
}

/// A run whose group and players all have `s`.
fn run_all(s: RaidScore, players: &[u64]) -> Change {
    let players: Vec<(u64, RaidScore)> = players.iter().map(|&c| (c, s)).collect();
    run(s, &players)
}

fn load(board: Board, top: u16, character: Option<u64>) -> Change {
    Change::LoadLeaderboard {
        raid: RAID.to_owned(),
        level_group: 0,
        board,
        top,
        character: character.map(CharacterId),
    }
}

fn standings(outcome: &Result<Reply, StoreError>) -> (&[BoardEntry], Option<&BoardEntry>) {
    match outcome {
        Ok(Reply::Leaderboard { top, own }) => (top, own.as_ref()),
        other => panic!("not a leaderboard: {other:?}"),
    }
}

/// `(rank, entrant)` of each entry.
fn ranked(top: &[BoardEntry]) -> Vec<(u32, u64)> {
    top.iter().map(|e| (e.rank, e.entrant)).collect()
}

/// One development account with characters `c1`, `c2`, … `c{n}` (ids 1..=n).
async fn with_characters(twin: &mut Twin<'_>, n: usize) {
    let mut changes = vec![open_dev("ada")];
    changes.extend((1..=n).map(|i| create(1, &format!("c{i}"), 255)));
    let out = twin.changes(changes).await;
    assert!(matches!(&out[n].result, Ok(Reply::Characters(c)) if c.len() == n));
}

fn group(ids: &[u64]) -> u64 {
    group_entrant(ids.iter().map(|&c| CharacterId(c)))
}

// ---------------------------------------------------------------------------
// The suite.

async fn only_each_entrants_best_is_kept_and_the_same_run_again_changes_nothing(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 3).await;
    let slow = score(true, 900, 0, 10, 1);
    let fast = score(true, 500, 2, 10, 2);
    let failed = score(false, 100, 0, 99, 3);
    let first = twin.intent(run_all(slow, &[1, 2]));
    twin.batch(std::slice::from_ref(&first)).await;
    let out = twin
        .changes(vec![
            run_all(fast, &[1]),
            run_all(failed, &[2, 1]),
            // Fewer deaths but slower: not better.
            run_all(score(true, 600, 0, 10, 4), &[1]),
        ])
        .await;
    assert!(out.iter().all(|o| o.result == Ok(Reply::Done)));
    // The first run again, under its id and under another.
    let again = twin.intent(first.change.clone());
    twin.batch(&[first, again]).await;
    let out = twin
        .changes(vec![
            load(Board::Players, 10, Some(2)),
            load(Board::Groups, 10, Some(1)),
        ])
        .await;
    let (top, own) = standings(&out[0].result);
    assert_eq!(ranked(top), vec![(1, 1), (2, 2)]);
    assert_eq!((top[0].score, top[1].score), (fast, slow));
    assert_eq!(top[1].names, vec!["c2".to_owned()]);
    assert_eq!(own, Some(&top[1]));
    let (top, own) = standings(&out[1].result);
    let mut expected = vec![(fast, group(&[1])), (slow, group(&[1, 2]))];
    expected.sort_by_key(|(s, e)| (s.key(), *e));
    let got: Vec<(RaidScore, u64)> = top.iter().map(|e| (e.score, e.entrant)).collect();
    assert_eq!(
        got, expected,
        "the failed run ranks below every cleared one"
    );
    assert_eq!(own, None, "no own entry on the groups' board");
    let pair = top.iter().find(|e| e.entrant == group(&[1, 2])).unwrap();
    assert_eq!(pair.names, vec!["c1".to_owned(), "c2".to_owned()]);
}

async fn equal_runs_rank_by_entrant_as_unsigned(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 8).await;
    let same = score(true, 700, 1, 50, 9);
    // Groups of every pair: their entrants are hashes, about half of them
    // at or above 2^63 (negative as stored bits).
    let mut changes = Vec::new();
    let mut entrants = Vec::new();
    for a in 1..=8u64 {
        for b in a + 1..=8 {
            changes.push(run_all(same, &[a, b]));
            entrants.push(group(&[a, b]));
        }
    }
    assert!(entrants.iter().any(|&e| e >= 1 << 63) && entrants.iter().any(|&e| e < 1 << 63));
    twin.changes(changes).await;
    let out = twin.changes(vec![load(Board::Groups, 100, None)]).await;
    entrants.sort_unstable();
    let (top, _) = standings(&out[0].result);
    let expected: Vec<(u32, u64)> = (1..).zip(entrants).collect();
    assert_eq!(ranked(top), expected);
    let out = twin.changes(vec![load(Board::Players, 100, Some(5))]).await;
    let (top, own) = standings(&out[0].result);
    assert_eq!(
        ranked(top),
        (1..=8).map(|c| (c as u32, c)).collect::<Vec<_>>()
    );
    assert_eq!(own.map(|e| e.rank), Some(5));
}

async fn the_own_entry_has_its_rank_among_extreme_values(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 6).await;
    let top_bit = 1u64 << 63;
    // Best first; each differs from the next in one column, at the edges of
    // its type.
    let scores = [
        score(true, 0, 0, u64::MAX, 0),
        score(true, 0, 0, top_bit, 0),
        score(true, 0, 0, top_bit - 1, top_bit - 1),
        score(true, 0, 0, top_bit - 1, top_bit),
        score(true, 0, u32::MAX, 0, u64::MAX),
        score(false, u32::MAX, u32::MAX, 0, u64::MAX),
    ];
    // Characters 6, 5, … 1 get them, best to worst, in one run.
    let players: Vec<(u64, RaidScore)> = (scores.iter().zip((1..=6).rev()))
        .map(|(&s, c)| (c, s))
        .collect();
    twin.changes(vec![run(scores[0], &players)]).await;
    let loads = (1..=6).map(|c| load(Board::Players, 2, Some(c))).collect();
    let out = twin.changes(loads).await;
    for (i, c) in (1..=6u64).enumerate() {
        let (top, own) = standings(&out[i].result);
        assert_eq!(ranked(top), vec![(1, 6), (2, 5)]);
        let own = own.unwrap();
        assert_eq!((own.rank, own.entrant), (7 - c as u32, c));
        assert_eq!(own.score, scores[6 - c as usize]);
    }
    let out = twin.changes(vec![load(Board::Players, 3, Some(7))]).await;
    assert_eq!(standings(&out[0].result).1, None, "not on the board");
}

async fn deleting_a_character_takes_it_off_the_players_board_only(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 2).await;
    let both = twin.intent(run_all(score(true, 500, 0, 0, 1), &[1, 2]));
    twin.batch(std::slice::from_ref(&both)).await;
    let delete = Change::DeleteCharacter {
        account: gc::ids::AccountId(1),
        character: CharacterId(1),
    };
    twin.changes(vec![delete]).await;
    // A retry of the run after the deletion does not bring it back.
    twin.batch(&[both]).await;
    let out = twin
        .changes(vec![
            load(Board::Players, 10, Some(1)),
            load(Board::Groups, 10, None),
        ])
        .await;
    let (top, own) = standings(&out[0].result);
    assert_eq!((ranked(top), own), (vec![(1, 2)], None));
    let (top, _) = standings(&out[1].result);
    assert_eq!(ranked(top), vec![(1, group(&[1, 2]))]);
    assert_eq!(top[0].names, vec!["c1".to_owned(), "c2".to_owned()]);
    twin.same_characters().await;
}

async fn top_is_bounded_and_boards_are_apart(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    // 130 groups of characters that do not exist: on the groups' board of
    // level group 0 only.
    let changes = (0..130u64)
        .map(|i| run_all(score(true, 1_000 - i as u32, 0, 0, i), &[100 + i]))
        .collect();
    twin.changes(changes).await;
    let mut elsewhere = load(Board::Groups, 10, None);
    if let Change::LoadLeaderboard { level_group, .. } = &mut elsewhere {
        *level_group = 1;
    }
    let mut other_raid = load(Board::Groups, 10, None);
    if let Change::LoadLeaderboard { raid, .. } = &mut other_raid {
        *raid = "Ember_Lair".to_owned();
    }
    let out = twin
        .changes(vec![
            load(Board::Groups, u16::MAX, None),
            load(Board::Groups, 0, None),
            load(Board::Players, 10, Some(100)),
            elsewhere,
            other_raid,
        ])
        .await;
    let (top, _) = standings(&out[0].result);
    assert_eq!(top.len(), usize::from(MAX_LEADERBOARD_TOP));
    assert_eq!(top[0].score.time_ms, 1_000 - 129);
    assert!(standings(&out[1].result).0.is_empty());
    for o in &out[2..] {
        assert_eq!(standings(&o.result), (&[][..], None));
    }
}

async fn scores_survive_a_restart_and_read_the_same_outside_a_batch(db: &mut TestDb) {
    let mut memory;
    {
        let mut twin = Twin::new(&db.store);
        with_characters(&mut twin, 3).await;
        twin.changes(vec![
            run_all(score(true, 300, 1, 5, 1), &[1, 3]),
            run_all(score(true, 200, 1, 5, 2), &[2]),
        ])
        .await;
        memory = std::mem::take(&mut twin.memory);
    }
    db.reopen().await;
    let (top, own) = memory.leaderboard(RAID, 0, Board::Players, 10, Some(CharacterId(3)));
    assert_eq!(ranked(&top), vec![(1, 2), (2, 1), (3, 3)]);
    for board in [Board::Players, Board::Groups] {
        let read = db
            .store
            .leaderboard(RAID, 0, board, 10, Some(CharacterId(3)))
            .await
            .unwrap();
        assert_eq!(
            read,
            memory.leaderboard(RAID, 0, board, 10, Some(CharacterId(3)))
        );
    }
    assert_eq!(own.map(|e| e.rank), Some(3));
    // The same reads through a batch, after the restart.
    let intent = Intent {
        id: IntentId(1_000),
        change: load(Board::Players, 10, Some(3)),
    };
    let out = db.store.apply_batch(std::slice::from_ref(&intent)).await;
    assert_eq!(out, vec![memory.apply(&intent)]);
}

async fn raid_strings_no_engine_can_hold_are_refused_alone(db: &mut TestDb) {
    let store = &db.store;
    let long = "x".repeat(MAX_RAID_NAME_BYTES + 1);
    let fine = score(true, 1, 0, 0, 0);
    let named = |raid: &str, name: &str| Change::RecordRaid {
        run: Box::new(RaidRun {
            raid: raid.to_owned(),
            level_group: 0,
            group: fine,
            players: vec![(CharacterId(1), name.to_owned(), fine)],
            ..RaidRun::default()
        }),
    };
    let too_many: Vec<(u64, RaidScore)> = (1..=u64::from(gc::content::MAX_RAID_GROUP) + 1)
        .map(|c| (c, fine))
        .collect();
    let mut long_load = load(Board::Players, 1, None);
    if let Change::LoadLeaderboard { raid, .. } = &mut long_load {
        *raid = long.clone();
    }
    let changes = vec![
        open_dev("ada"),
        create(1, "c1", 2),
        named(RAID, "two\nlines"),
        named(RAID, "nul\0"),
        named("nul\0raid", "c1"),
        named(&long, "c1"),
        run(fine, &too_many),
        long_load,
        named(&"x".repeat(MAX_RAID_NAME_BYTES), "c1"),
        run_all(fine, &[1]),
        load(Board::Players, 5, Some(1)),
    ];
    let intents: Vec<Intent> = (changes.into_iter().zip(1..))
        .map(|(change, id)| Intent {
            id: IntentId(id),
            change,
        })
        .collect();
    let out = store.apply_batch(&intents).await;
    for (i, o) in out.iter().enumerate().take(8).skip(2) {
        assert_eq!(o.result, Err(StoreError::Unavailable), "intent {i}");
    }
    assert_eq!(out[8].result, Ok(Reply::Done), "the longest name is held");
    assert_eq!(out[9].result, Ok(Reply::Done));
    let (top, own) = standings(&out[10].result);
    assert_eq!((ranked(top), own.map(|e| e.rank)), (vec![(1, 1)], Some(1)));
    assert_eq!(top[0].names, vec!["c1".to_owned()]);
}
