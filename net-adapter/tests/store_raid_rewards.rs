//! Owed raid rewards against every engine, chosen and skipped as in
//! `store_engines.rs` (see `common`): the same cases as `MemoryStore`'s own
//! tests, and the values and orders a column could get wrong. Every batch
//! must be answered as `MemoryStore` answers it; the expected rewards are
//! also written out, so that both cannot be wrong alike.

#[macro_use]
mod common;

use common::*;
use game_core as gc;
use net_adapter::store::Engine;

use gc::content::ItemDefId;
use gc::economy::{Inventory, Receipt, Source};
use gc::ids::{AccountId, CharacterId};
use gc::persist::{
    Change, Intent, InventoryPart, OwedReward, RaidReward, RaidRun, Reply, StoreError,
    MAX_OWED_LOADED,
};
use gc::raid::RaidScore;

store_tests!(
    an_owed_reward_is_owed_once_given_once_and_a_late_record_does_not_owe_it_again,
    owed_rewards_read_back_as_recorded_oldest_run_first_across_the_top_bit,
    a_load_answers_at_most_so_many_owed_rewards_and_a_deleted_character_owes_nothing,
);

// ---------------------------------------------------------------------------
// Helpers.

/// One development account with characters `c1`, `c2`, … `c{n}` (ids 1..=n).
async fn with_characters(twin: &mut Twin<'_>, n: usize) {
    let mut changes = vec![open_dev("ada")];
    changes.extend((1..=n).map(|i| create(1, &format!("c{i}"), 255)));
    let out = twin.changes(changes).await;
    assert!(matches!(&out[n].result, Ok(Reply::Characters(c)) if c.len() == n));
}

const REWARD: RaidReward = RaidReward {
    gold: 25,
    item: Some((ItemDefId(3), 2)),
};

/// A won run `id` of `members`, owing `owed` the reward.
fn owing(id: u64, members: &[u64], owed: &[u64], reward: RaidReward) -> Change {
    let score = RaidScore {
        cleared: true,
        time_ms: 500,
        deaths: 0,
        damage: 0,
        at: id,
    };
    Change::RecordRaid {
        run: Box::new(RaidRun {
            id,
            raid: "ember_lair".to_owned(),
            level_group: 0,
            group: score,
            players: (members.iter())
                .map(|&c| (CharacterId(c), format!("c{c}"), score))
                .collect(),
            owed: owed.iter().map(|&c| CharacterId(c)).collect(),
            reward,
        }),
    }
}

fn load_inventory(c: u64) -> Change {
    Change::LoadInventory {
        character: CharacterId(c),
    }
}

fn owed(outcome: &Result<Reply, StoreError>) -> &[OwedReward] {
    match outcome {
        Ok(Reply::Inventory { owed, .. }) => owed,
        other => panic!("not an inventory: {other:?}"),
    }
}

fn owed_runs(outcome: &Result<Reply, StoreError>) -> Vec<u64> {
    owed(outcome).iter().map(|o| o.run).collect()
}

/// Gives character 1 the rewards of `runs` in a transaction moving its
/// inventory from `before` to `before + 1`.
fn give(before: u64, runs: &[u64]) -> Change {
    let after = Inventory {
        gold: 25 * (before + 1),
        seq: before + 1,
        ..Inventory::new(4)
    };
    Change::CommitTx {
        parts: vec![InventoryPart {
            character: CharacterId(1),
            before,
            after,
        }],
        receipt: Box::new(Receipt {
            gold_in: vec![(25, Source::Raid)],
            ..Receipt::default()
        }),
        grants: runs.to_vec(),
    }
}

// ---------------------------------------------------------------------------
// The suite.

async fn an_owed_reward_is_owed_once_given_once_and_a_late_record_does_not_owe_it_again(
    db: &mut TestDb,
) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 3).await;
    let won = twin.intent(owing(7, &[1, 2, 3], &[1, 2], REWARD));
    twin.batch(std::slice::from_ref(&won)).await;
    let out = twin
        .changes(vec![
            owing(5, &[1], &[1], REWARD),
            load_inventory(1),
            load_inventory(3),
        ])
        .await;
    assert_eq!(owed_runs(&out[1].result), vec![5, 7], "oldest run first");
    assert_eq!(owed(&out[1].result)[0].reward, REWARD);
    assert_eq!(owed_runs(&out[2].result), Vec::<u64>::new(), "not a winner");
    // Given by one transaction; its retries, in its batch and later,
    // answer the same.
    let given = twin.intent(give(0, &[7]));
    let out = twin.batch(&[given.clone(), given.clone()]).await;
    assert!(out.iter().all(|o| o.result == Ok(Reply::Done)));
    assert_eq!(twin.batch(&[given]).await[0].result, Ok(Reply::Done));
    // Another transaction giving it again conflicts, and changes nothing.
    let out = twin
        .changes(vec![
            give(1, &[7]),
            give(1, &[5, 5]),
            give(1, &[5, 9]),
            load_inventory(1),
        ])
        .await;
    for o in &out[..3] {
        assert_eq!(o.result, Err(StoreError::Conflict));
    }
    assert_eq!(owed_runs(&out[3].result), vec![5]);
    assert!(matches!(&out[3].result, Ok(Reply::Inventory { inv: Some(i), .. }) if i.seq == 1));
    // The run recorded again, late: the given reward stays given.
    twin.batch(&[won]).await;
    let out = twin
        .changes(vec![load_inventory(1), load_inventory(2)])
        .await;
    assert_eq!(owed_runs(&out[0].result), vec![5]);
    assert_eq!(owed_runs(&out[1].result), vec![7]);
    // Two transactions in one batch (decided as one run) giving the same
    // reward: the first gives it.
    let out = twin.changes(vec![give(1, &[5]), give(2, &[5])]).await;
    assert_eq!(out[0].result, Ok(Reply::Done));
    assert_eq!(out[1].result, Err(StoreError::Conflict));
    twin.same_raid_rewards().await;
    twin.same_economy().await;
    let given: Vec<_> = (db.store.raid_rewards().await.unwrap().into_iter())
        .map(|(c, run, _, given)| (c.0, run, given))
        .collect();
    assert_eq!(given, vec![(1, 5, true), (1, 7, true), (2, 7, false)]);
}

async fn owed_rewards_read_back_as_recorded_oldest_run_first_across_the_top_bit(db: &mut TestDb) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 1).await;
    let top = 1u64 << 63;
    let rewards = [
        (
            u64::MAX,
            RaidReward {
                gold: u64::MAX,
                item: None,
            },
        ),
        (
            top,
            RaidReward {
                gold: 0,
                item: Some((ItemDefId(0), 0)),
            },
        ),
        (
            top - 1,
            RaidReward {
                gold: top,
                item: Some((ItemDefId(u16::MAX), u32::MAX)),
            },
        ),
        (0, REWARD),
    ];
    let mut changes: Vec<Change> = (rewards.iter())
        .map(|(run, reward)| owing(*run, &[1], &[1], reward.clone()))
        .collect();
    changes.push(load_inventory(1));
    let out = twin.changes(changes).await;
    let expected: Vec<OwedReward> = (rewards.iter().rev())
        .map(|(run, reward)| OwedReward {
            run: *run,
            reward: reward.clone(),
        })
        .collect();
    assert_eq!(owed(&out[4].result), &expected[..]);
    let out = twin
        .changes(vec![give(0, &[top, u64::MAX]), load_inventory(1)])
        .await;
    assert_eq!(out[0].result, Ok(Reply::Done));
    assert_eq!(owed_runs(&out[1].result), vec![0, top - 1]);
    twin.same_raid_rewards().await;
}

async fn a_load_answers_at_most_so_many_owed_rewards_and_a_deleted_character_owes_nothing(
    db: &mut TestDb,
) {
    let mut twin = Twin::new(&db.store);
    with_characters(&mut twin, 2).await;
    let runs: Vec<Intent> = (0..20)
        .map(|r| twin.intent(owing(r, &[1, 2], &[1, 2], REWARD)))
        .collect();
    twin.batch(&runs).await;
    // A given one is passed over, not counted.
    let out = twin.changes(vec![give(0, &[3]), load_inventory(1)]).await;
    assert_eq!(out[0].result, Ok(Reply::Done));
    let first: Vec<u64> = (0..=MAX_OWED_LOADED as u64).filter(|&r| r != 3).collect();
    assert_eq!(owed_runs(&out[1].result), first);
    let delete = Change::DeleteCharacter {
        account: AccountId(1),
        character: CharacterId(2),
    };
    twin.changes(vec![delete]).await;
    // A retried record after the deletion owes it nothing again.
    twin.batch(&runs[..1]).await;
    twin.changes(vec![load_inventory(2)]).await;
    twin.same_raid_rewards().await;
    let rewards = db.store.raid_rewards().await.unwrap();
    assert_eq!(rewards.len(), 20);
    assert!(rewards.iter().all(|(c, ..)| *c == CharacterId(1)));
}
