//! The raid checks catch what they are for: each rule is fed numbers that
//! break it, beside the same numbers done right.

use super::raid::{
    exclusive, lifetime, rewarded_once, rewards_balance, rewards_given_once, spread, ticket_lost,
    Ticket, LOST_AFTER,
};
use game_core::content::Content;
use game_core::ids::{CharacterId, ConnId, ZoneId};
use game_core::node::{InstanceInfo, RaidStats};
use game_core::time::{Duration, Instant};
use std::collections::BTreeSet;

fn c(n: u64) -> CharacterId {
    CharacterId(n)
}

/// Instance `id` of the training grounds (kind 1, level group 0, 14 wide)
/// with `members`: (character, inside, owed).
fn instance(id: u64, members: &[(u64, bool, bool)]) -> InstanceInfo {
    InstanceInfo {
        id,
        kind: 1,
        level_group: 0,
        spread: 2,
        allowed: 3,
        zone: ZoneId(100 + id),
        end: None,
        members: (members.iter())
            .map(|&(m, inside, owed)| (c(m), inside, true, owed, false))
            .collect(),
    }
}

#[test]
fn a_character_in_two_instances_or_queued_and_inside_is_caught() {
    let a = instance(1, &[(1, true, false), (2, true, false)]);
    let b = instance(2, &[(3, true, false), (4, true, false)]);
    let mut f = Vec::new();
    assert_eq!(exclusive(&[a.clone(), b], &|_| false, &mut f), 4);
    assert!(f.is_empty(), "{f:?}");
    let twice = instance(2, &[(3, true, false), (2, true, false)]);
    exclusive(&[a.clone(), twice], &|_| false, &mut f);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("instances 1 and 2"), "{f:?}");
    f.clear();
    exclusive(&[a], &|ch| ch == c(2), &mut f);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("queued and in instance 1"), "{f:?}");
}

#[test]
fn an_empty_instance_may_last_one_tick_not_two_and_zones_must_match() {
    let full = instance(1, &[(1, true, false)]);
    let empty = instance(2, &[(2, false, false)]);
    let mut f = Vec::new();
    let seen = lifetime(&[full.clone(), empty.clone()], 2, &BTreeSet::new(), &mut f);
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(seen, BTreeSet::from([2]));
    lifetime(&[full.clone(), empty], 2, &seen, &mut f);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("outlived"), "{f:?}");
    f.clear();
    lifetime(&[full], 2, &BTreeSet::new(), &mut f);
    assert_eq!(
        f,
        vec!["raid: 1 instances open, 2 instance zones".to_string()]
    );
}

#[test]
fn a_match_wider_than_allowed_or_than_its_group_is_caught() {
    let w = widths_of_sample();
    let mut f = Vec::new();
    spread(&instance(1, &[]), &w, &mut f);
    assert!(f.is_empty(), "{f:?}");
    let too_wide = InstanceInfo {
        spread: 4,
        ..instance(2, &[])
    };
    spread(&too_wide, &w, &mut f);
    let allowed_past_group = InstanceInfo {
        spread: 4,
        allowed: 15,
        ..instance(3, &[])
    };
    spread(&allowed_past_group, &w, &mut f);
    let no_group = InstanceInfo {
        level_group: 2,
        ..instance(4, &[])
    };
    spread(&no_group, &w, &mut f);
    assert_eq!(f.len(), 3, "{f:?}");
    let mut stats = RaidStats::default();
    let mut g = Vec::new();
    rewards_balance(&stats, &[], &mut g);
    assert!(g.is_empty());
    stats.matches_too_wide = 1;
    rewards_balance(&stats, &[], &mut g);
    assert_eq!(g.len(), 1, "{g:?}");
}

#[test]
fn the_sample_raids_widths_are_their_level_groups() {
    let content = Content::sample();
    let widths: Vec<Vec<u16>> = (content.raids.iter())
        .map(|k| {
            (k.queue.level_groups.iter())
                .map(|g| g.max - g.min)
                .collect()
        })
        .collect();
    assert_eq!(widths, widths_of_sample());
}

fn widths_of_sample() -> Vec<Vec<u16>> {
    // raids.toml: ember_lair 1-10/11-20/21-30, training_grounds 1-15/16-30.
    vec![vec![9, 9, 9], vec![14, 14]]
}

#[test]
fn a_reward_neither_claimed_given_lost_nor_owed_is_caught() {
    let owing = instance(1, &[(1, true, true), (2, true, false)]);
    let stats = RaidStats {
        rewards_owed: 6,
        rewards_claimed: 1,
        rewards_given_at_close: 1,
        rewards_given_at_load: 1,
        rewards_stored: 1,
        rewards_lost: 1,
        ..RaidStats::default()
    };
    let mut f = Vec::new();
    rewards_balance(&stats, std::slice::from_ref(&owing), &mut f);
    assert!(f.is_empty(), "{f:?}");
    // One owed more than went anywhere (a reward given twice would be
    // counted claimed and given: one settled more than owed).
    let given_twice = RaidStats {
        rewards_given_at_close: 2,
        ..stats.clone()
    };
    rewards_balance(&given_twice, std::slice::from_ref(&owing), &mut f);
    rewards_balance(&stats, &[], &mut f);
    assert_eq!(f.len(), 2, "{f:?}");
}

#[test]
fn more_reward_changes_than_raids_owed_is_caught() {
    let mut f = Vec::new();
    rewarded_once(c(1), 1, 1, &mut f);
    rewarded_once(c(1), 2, 3, &mut f);
    assert!(f.is_empty(), "{f:?}");
    rewarded_once(c(1), 2, 1, &mut f);
    rewarded_once(c(2), 1, 0, &mut f);
    assert_eq!(f.len(), 2, "{f:?}");
}

#[test]
fn a_ticket_the_node_dropped_unheard_is_lost_once_it_has_been_long_enough() {
    let t0 = Instant::from_micros(10_000_000);
    let ticket = |missing| Ticket {
        incarnation: 0,
        conn: Some(ConnId(3)),
        missing,
    };
    let mut f = Vec::new();
    ticket_lost(c(1), &ticket(None), t0, &mut f);
    ticket_lost(c(1), &ticket(Some(t0)), t0 + Duration::from_secs(1), &mut f);
    assert!(f.is_empty(), "{f:?}");
    ticket_lost(c(1), &ticket(Some(t0)), t0 + LOST_AFTER, &mut f);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("lost"), "{f:?}");
}

#[test]
fn raid_gold_in_the_ledger_without_a_reward_marked_given_is_caught() {
    use game_core::economy::{Inventory, Receipt, Source};
    use game_core::ids::IntentId;
    use game_core::persist::{
        AccountRef, Change, CharacterState, Intent, InventoryPart, MemoryStore, Place, RaidReward,
        RaidRun,
    };
    let mut store = MemoryStore::default();
    let mut apply = |id: u64, change: Change| {
        let out = store.apply(&Intent {
            id: IntentId(id),
            change,
        });
        assert!(out.result.is_ok(), "{:?}", out.result);
    };
    apply(
        1,
        Change::OpenAccount {
            account: AccountRef::Dev("ada".into()),
        },
    );
    let state = CharacterState {
        place: Place {
            map: "meadow".into(),
            channel: 0,
            pos: game_core::math::Vec2::from_ints(0, 0),
        },
        level: 1,
        experience: 0,
    };
    let create = Change::CreateCharacter {
        account: game_core::ids::AccountId(1),
        name: "ada".into(),
        state,
        max_characters: 1,
    };
    apply(2, create);
    let ada = c(1);
    let run = RaidRun {
        id: 7,
        owed: vec![ada],
        reward: RaidReward {
            gold: 120,
            item: None,
        },
        ..RaidRun::default()
    };
    apply(3, Change::RecordRaid { run: Box::new(run) });
    let give = |seq: u64, grants: Vec<u64>| Change::CommitTx {
        parts: vec![InventoryPart {
            character: ada,
            before: seq - 1,
            after: Inventory {
                gold: 120 * seq,
                seq,
                ..Inventory::new(4)
            },
        }],
        receipt: Box::new(Receipt {
            gold_in: vec![(120, Source::Raid)],
            ..Receipt::default()
        }),
        grants,
    };
    apply(4, give(1, vec![7]));
    let mut f = Vec::new();
    rewards_given_once(&store, &mut f);
    assert!(f.is_empty(), "{f:?}");
    // Raid gold given again without naming the run: caught.
    store.apply(&Intent {
        id: IntentId(5),
        change: give(2, vec![]),
    });
    rewards_given_once(&store, &mut f);
    assert_eq!(f.len(), 1, "{f:?}");
}
