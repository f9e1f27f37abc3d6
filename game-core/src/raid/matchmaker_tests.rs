//! The matchmaker: matching by level and role, spread widening with the
//! wait, ready checks, refusals; and a property test of random queues,
//! leaves, answers and timeouts against its invariants.

use super::*;
use crate::time::Instant;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn at(ms: u64) -> Instant {
    Instant::from_micros(ms * 1_000)
}

fn who(c: u64, level: u16, role: Role) -> Entrant {
    Entrant {
        character: CharacterId(c),
        level,
        role,
    }
}

fn solo(c: u64, level: u16) -> Vec<Entrant> {
    vec![who(c, level, Role::Damage)]
}

/// Groups of `size`, levels 1-10 and 11-20, spread 0 widening a level a second.
fn rules(size: u8, roles: Option<[u8; ROLES]>) -> QueueRules {
    QueueRules {
        group_size: size,
        roles,
        level_groups: vec![
            LevelGroup { min: 1, max: 10 },
            LevelGroup { min: 11, max: 20 },
        ],
        spread_start: 0,
        widen_every_ms: 1_000,
        ready_check_ms: 10_000,
        matching: Matching::LevelSpread,
    }
}

fn matchmaker(size: u8, roles: Option<[u8; ROLES]>) -> Matchmaker {
    Matchmaker::new(vec![rules(size, roles)], MatchmakerLimits::default())
}

fn found(events: &[MatchEvent]) -> Vec<(MatchId, Vec<CharacterId>)> {
    (events.iter())
        .filter_map(|e| match e {
            MatchEvent::Found { id, members, .. } => Some((*id, members.clone())),
            _ => None,
        })
        .collect()
}

fn ids(cs: &[u64]) -> Vec<CharacterId> {
    cs.iter().map(|&c| CharacterId(c)).collect()
}

#[test]
fn two_of_a_level_match_and_both_accepting_makes_it_ready() {
    let mut mm = matchmaker(2, None);
    mm.enqueue(at(0), 0, solo(1, 5)).unwrap();
    mm.enqueue(at(0), 0, solo(2, 5)).unwrap();
    mm.tick(at(50));
    let f = found(&mm.take_events());
    assert_eq!(f.len(), 1);
    let (id, members) = f[0].clone();
    assert_eq!(members, ids(&[1, 2]));
    mm.accept(CharacterId(1), id).unwrap();
    assert!(mm.take_events().is_empty());
    mm.accept(CharacterId(2), id).unwrap();
    match &mm.take_events()[..] {
        [MatchEvent::Ready(r)] => {
            assert_eq!(r.id, id);
            assert_eq!(
                r.members,
                vec![who(1, 5, Role::Damage), who(2, 5, Role::Damage)]
            );
            assert_eq!((r.spread, r.allowed), (0, 0));
        }
        other => panic!("{other:?}"),
    }
    assert!(!mm.is_queued(CharacterId(1)));
    mm.audit().unwrap();
}

#[test]
fn levels_apart_wait_until_the_spread_has_widened_enough() {
    let mut mm = matchmaker(2, None);
    mm.enqueue(at(0), 0, solo(1, 2)).unwrap();
    mm.enqueue(at(0), 0, solo(2, 6)).unwrap();
    mm.tick(at(3_999));
    assert!(found(&mm.take_events()).is_empty(), "allowed 3 < 4");
    mm.tick(at(4_000));
    assert_eq!(found(&mm.take_events()).len(), 1);
    // Other level groups never meet, however long they wait.
    mm.enqueue(at(0), 0, solo(3, 10)).unwrap();
    mm.enqueue(at(0), 0, solo(4, 11)).unwrap();
    mm.tick(at(3_600_000));
    assert!(found(&mm.take_events()).is_empty());
    mm.audit().unwrap();
}

#[test]
fn a_closer_level_is_taken_before_an_older_one_out_of_reach() {
    let mut mm = matchmaker(2, None);
    mm.enqueue(at(0), 0, solo(1, 5)).unwrap();
    mm.enqueue(at(100), 0, solo(2, 9)).unwrap();
    mm.enqueue(at(200), 0, solo(3, 5)).unwrap();
    mm.tick(at(300));
    assert_eq!(found(&mm.take_events())[0].1, ids(&[1, 3]));
}

#[test]
fn roles_are_filled_as_the_raid_asks() {
    // One tank, one healer, two damage.
    let mut mm = matchmaker(4, Some([1, 1, 2]));
    for c in 1..=4 {
        mm.enqueue(at(c), 0, vec![who(c, 5, Role::Damage)]).unwrap();
    }
    mm.tick(at(10));
    assert!(found(&mm.take_events()).is_empty(), "no tank, no healer");
    mm.enqueue(at(20), 0, vec![who(5, 5, Role::Healer)])
        .unwrap();
    mm.enqueue(at(30), 0, vec![who(6, 5, Role::Tank)]).unwrap();
    mm.tick(at(40));
    assert_eq!(found(&mm.take_events())[0].1, ids(&[1, 2, 5, 6]));
    assert_eq!(mm.status(at(40), CharacterId(3)).map(|s| s.ahead), Some(0));
    assert_eq!(mm.status(at(40), CharacterId(4)).map(|s| s.ahead), Some(1));
}

#[test]
fn a_party_is_matched_whole_or_not_at_all() {
    let mut mm = matchmaker(3, None);
    mm.enqueue(at(0), 0, solo(1, 5)).unwrap();
    let party = vec![who(2, 5, Role::Damage), who(3, 5, Role::Healer)];
    mm.enqueue(at(1), 0, party.clone()).unwrap();
    mm.enqueue(at(2), 0, solo(4, 5)).unwrap();
    mm.tick(at(10));
    assert_eq!(found(&mm.take_events())[0].1, ids(&[1, 2, 3]));
    // A party of two does not fit the one place left beside the two
    // oldest solos: anchored on each of them in turn, no match; anchored on
    // the party, the oldest solo joins it.
    let mut mm = matchmaker(3, None);
    mm.enqueue(at(0), 0, solo(1, 5)).unwrap();
    mm.enqueue(at(1), 0, solo(4, 5)).unwrap();
    mm.enqueue(at(2), 0, party).unwrap();
    mm.tick(at(10));
    assert_eq!(found(&mm.take_events())[0].1, ids(&[2, 3, 1]));
    assert!(mm.is_queued(CharacterId(4)));
    mm.audit().unwrap();
}

#[test]
fn a_decline_removes_the_decliner_and_returns_the_others_to_the_front() {
    let mut mm = matchmaker(2, None);
    mm.enqueue(at(0), 0, solo(1, 5)).unwrap();
    mm.enqueue(at(1), 0, solo(2, 5)).unwrap();
    mm.tick(at(10));
    let (id, _) = found(&mm.take_events())[0].clone();
    // Someone queues meanwhile, at a level nobody else has.
    mm.enqueue(at(20), 0, solo(3, 9)).unwrap();
    mm.accept(CharacterId(1), id).unwrap();
    mm.decline(CharacterId(2), id).unwrap();
    assert_eq!(
        mm.take_events(),
        vec![MatchEvent::Failed {
            id,
            returned: ids(&[1]),
            removed: ids(&[2]),
        }]
    );
    assert!(!mm.is_queued(CharacterId(2)));
    let status = mm.status(at(30), CharacterId(1)).unwrap();
    assert_eq!(status.ahead, 0);
    assert_eq!(mm.status(at(30), CharacterId(3)).unwrap().ahead, 1);
    // Its old answer does not count in a new check.
    assert_eq!(
        mm.accept(CharacterId(1), id),
        Err(QueueRefusal::NotYourMatch)
    );
    mm.audit().unwrap();
}

#[test]
fn a_ready_check_times_out_for_those_who_did_not_answer() {
    let mut mm = matchmaker(3, None);
    mm.enqueue(at(0), 0, solo(1, 5)).unwrap();
    mm.enqueue(
        at(0),
        0,
        vec![who(2, 5, Role::Damage), who(3, 5, Role::Tank)],
    )
    .unwrap();
    mm.tick(at(0));
    let (id, _) = found(&mm.take_events())[0].clone();
    mm.accept(CharacterId(1), id).unwrap();
    mm.accept(CharacterId(2), id).unwrap();
    mm.tick(at(9_999));
    assert!(mm.take_events().is_empty());
    mm.tick(at(10_000));
    // 3 never answered: its whole party leaves; 1 goes back.
    assert_eq!(
        mm.take_events(),
        vec![MatchEvent::Failed {
            id,
            returned: ids(&[1]),
            removed: ids(&[2, 3]),
        }]
    );
    assert!(mm.is_queued(CharacterId(1)) && !mm.is_queued(CharacterId(3)));
    mm.audit().unwrap();
}

#[test]
fn leaving_the_game_cancels_a_ticket_or_fails_its_check() {
    let mut mm = matchmaker(2, None);
    mm.enqueue(
        at(0),
        0,
        vec![who(1, 5, Role::Damage), who(2, 5, Role::Damage)],
    )
    .unwrap();
    mm.enqueue(at(0), 0, solo(3, 9)).unwrap();
    mm.gone(CharacterId(2));
    let events = mm.take_events();
    assert!(
        matches!(&events[..], [MatchEvent::Cancelled { members, .. }] if *members == ids(&[1, 2]))
    );
    mm.enqueue(at(6), 0, solo(4, 9)).unwrap();
    mm.tick(at(7));
    let (id, _) = found(&mm.take_events())[0].clone();
    mm.gone(CharacterId(4));
    assert!(matches!(&mm.take_events()[..], [MatchEvent::Failed { id: f, .. }] if *f == id));
    assert_eq!(mm.stats().cancelled, 1);
    assert_eq!(mm.stats().failed, 1);
    mm.audit().unwrap();
}

#[test]
fn every_bad_request_is_refused_with_its_reason_and_counted() {
    let mut mm = Matchmaker::new(
        vec![rules(4, Some([1, 1, 2]))],
        MatchmakerLimits {
            max_tickets: 3,
            max_ready_checks: 1,
        },
    );
    let r = |mm: &mut Matchmaker, m: Vec<Entrant>| mm.enqueue(at(0), 0, m).unwrap_err();
    assert_eq!(
        mm.enqueue(at(0), 1, solo(1, 5)),
        Err(QueueRefusal::UnknownRaid)
    );
    assert_eq!(r(&mut mm, vec![]), QueueRefusal::BadTicket);
    assert_eq!(
        r(&mut mm, vec![who(1, 5, Role::Damage); 2]),
        QueueRefusal::BadTicket
    );
    assert_eq!(
        r(&mut mm, (1..=5).map(|c| who(c, 5, Role::Damage)).collect()),
        QueueRefusal::BadTicket
    );
    assert_eq!(r(&mut mm, solo(1, 21)), QueueRefusal::NoLevelGroup);
    assert_eq!(
        r(
            &mut mm,
            vec![who(1, 10, Role::Damage), who(2, 11, Role::Damage)]
        ),
        QueueRefusal::MixedLevelGroups
    );
    assert_eq!(
        r(&mut mm, vec![who(1, 5, Role::Tank), who(2, 5, Role::Tank)]),
        QueueRefusal::TooManyOfRole
    );
    mm.enqueue(at(0), 0, vec![who(1, 5, Role::Tank)]).unwrap();
    assert_eq!(
        r(&mut mm, vec![who(1, 5, Role::Tank)]),
        QueueRefusal::AlreadyQueued
    );
    mm.enqueue(at(0), 0, vec![who(2, 5, Role::Healer)]).unwrap();
    mm.enqueue(
        at(0),
        0,
        vec![who(3, 5, Role::Damage), who(4, 5, Role::Damage)],
    )
    .unwrap();
    mm.tick(at(0));
    let (id, _) = found(&mm.take_events())[0].clone();
    assert_eq!(r(&mut mm, solo(3, 5)), QueueRefusal::InReadyCheck);
    mm.accept(CharacterId(3), id).unwrap();
    assert_eq!(
        mm.accept(CharacterId(3), id),
        Err(QueueRefusal::AlreadyAccepted)
    );
    assert_eq!(
        mm.accept(CharacterId(9), id),
        Err(QueueRefusal::NotYourMatch)
    );
    assert_eq!(
        mm.decline(CharacterId(9), id),
        Err(QueueRefusal::NotYourMatch)
    );
    assert_eq!(mm.leave(CharacterId(9)), Err(QueueRefusal::NotQueued));
    for c in 5..=7 {
        mm.enqueue(at(0), 0, solo(c, 5)).unwrap();
    }
    assert_eq!(r(&mut mm, solo(8, 5)), QueueRefusal::QueueFull);
    let refused: u64 = mm.stats().refused.values().sum();
    assert_eq!(refused, 14);
    assert_eq!(mm.stats().refused[&QueueRefusal::BadTicket], 3);
    mm.audit().unwrap();
}

#[test]
fn queues_take_the_free_ready_checks_in_turn() {
    let limits = MatchmakerLimits {
        max_tickets: 100,
        max_ready_checks: 1,
    };
    let mut mm = Matchmaker::new(vec![rules(2, None)], limits);
    for c in 1..=4 {
        mm.enqueue(at(0), 0, solo(c, 5)).unwrap();
        mm.enqueue(at(0), 0, solo(10 + c, 15)).unwrap();
    }
    let mut second_group = Vec::new();
    for t in 0..4 {
        mm.tick(at(t));
        let (id, members) = found(&mm.take_events())[0].clone();
        second_group.push(members[0].0 > 10);
        for c in members {
            mm.accept(c, id).unwrap();
        }
        mm.take_events();
    }
    assert_eq!(second_group, vec![false, true, false, true]);
}

#[test]
fn the_estimate_follows_the_queue_s_recent_waits() {
    let mut mm = matchmaker(2, None);
    assert_eq!(mm.status(at(0), CharacterId(1)), None);
    mm.enqueue(at(0), 0, solo(1, 5)).unwrap();
    assert_eq!(mm.status(at(0), CharacterId(1)).unwrap().estimate, None);
    mm.enqueue(at(8_000), 0, solo(2, 5)).unwrap();
    mm.enqueue(at(8_000), 0, solo(3, 5)).unwrap();
    mm.tick(at(8_000));
    // Waits 8 s and 0 s: smoothed 8 s then 7 s.
    let s = mm.status(at(9_000), CharacterId(3)).unwrap();
    assert_eq!(s.waited, Duration::from_secs(1));
    assert_eq!(s.estimate, Some(Duration::from_secs(6)));
}

// ---------------------------------------------------------------------------
// The property test.

#[derive(Clone, Debug)]
enum Op {
    /// Characters (from a pool of 40) and their levels and roles; a party
    /// when more than one.
    Queue(Vec<(u64, u16, u8)>),
    Leave(u64),
    Gone(u64),
    /// Accept (or decline) the nth open check for its nth member.
    Answer(usize, usize, bool),
    /// A stranger answers some check.
    Stranger(usize),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let member = (0u64..40, 1u16..21, 0u8..3);
    prop_oneof![
        6 => prop::collection::vec(member, 1..4).prop_map(Op::Queue),
        1 => (0u64..40).prop_map(Op::Leave),
        1 => (0u64..40).prop_map(Op::Gone),
        6 => (0usize..4, 0usize..10, prop::bool::weighted(0.85)).prop_map(|(m, i, a)| Op::Answer(m, i, a)),
        1 => (0usize..4).prop_map(Op::Stranger),
        4 => (0u64..6_000).prop_map(Op::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Nobody in two tickets or checks; every queued character ends matched,
    /// cancelled, removed by a failed check or still queued (none lost);
    /// every match full, of its roles, and within the spread allowed.
    #[test]
    fn queues_keep_their_books_and_matches_keep_the_rules(
        ops in prop::collection::vec(op(), 1..120),
        with_roles in any::<bool>(),
        first_come in any::<bool>(),
    ) {
        let roles = with_roles.then_some([1, 1, 2]);
        let mut rules = rules(4, roles);
        if first_come {
            rules.matching = Matching::FirstCome;
        }
        let mut mm = Matchmaker::new(vec![rules.clone()], MatchmakerLimits { max_tickets: 24, max_ready_checks: 3 });
        let mut now = at(0);
        // What the events say each character is: queued or not.
        let mut queued: BTreeMap<CharacterId, bool> = BTreeMap::new();
        let mut open: Vec<(MatchId, Vec<CharacterId>)> = Vec::new();
        for op in ops {
            match op {
                Op::Queue(ms) => {
                    let members: Vec<Entrant> = ms.iter().map(|&(c, l, r)| who(c, l, Role::ALL[r as usize])).collect();
                    if mm.enqueue(now, 0, members.clone()).is_ok() {
                        for m in &members {
                            prop_assert!(!queued.get(&m.character).copied().unwrap_or(false));
                            queued.insert(m.character, true);
                        }
                    }
                }
                Op::Leave(c) => {
                    let was = mm.is_queued(CharacterId(c));
                    prop_assert_eq!(mm.leave(CharacterId(c)).is_ok(), was);
                }
                Op::Gone(c) => mm.gone(CharacterId(c)),
                Op::Answer(m, i, accept) => {
                    if let Some((id, members)) = open.get(m % open.len().max(1)).cloned() {
                        let c = members[i % members.len()];
                        let _ = if accept { mm.accept(c, id) } else { mm.decline(c, id) };
                    }
                }
                Op::Stranger(m) => {
                    if let Some((id, members)) = open.get(m % open.len().max(1)).cloned() {
                        let stranger = (100..).map(CharacterId).find(|c| !members.contains(c)).unwrap();
                        prop_assert_eq!(mm.accept(stranger, id), Err(QueueRefusal::NotYourMatch));
                    }
                }
                Op::Wait(ms) => {
                    now += Duration::from_millis(ms);
                    mm.tick(now);
                }
            }
            for e in mm.take_events() {
                match e {
                    MatchEvent::Found { id, members, deadline, .. } => {
                        prop_assert_eq!(members.len(), 4);
                        prop_assert!(deadline > now);
                        open.push((id, members));
                    }
                    MatchEvent::Ready(r) => {
                        open.retain(|(id, _)| *id != r.id);
                        prop_assert_eq!(r.members.len(), 4);
                        let lo = r.members.iter().map(|m| m.level).min().unwrap();
                        let hi = r.members.iter().map(|m| m.level).max().unwrap();
                        prop_assert_eq!(r.spread, hi - lo);
                        prop_assert!(r.spread <= r.allowed);
                        let group = rules.level_groups[r.group as usize];
                        prop_assert!(r.allowed <= group.max - group.min);
                        prop_assert!(lo >= group.min && hi <= group.max);
                        if let Some(wanted) = roles {
                            let mut have = [0u8; ROLES];
                            for m in &r.members {
                                have[m.role.index()] += 1;
                            }
                            prop_assert_eq!(have, wanted);
                        }
                        for m in &r.members {
                            queued.insert(m.character, false);
                        }
                    }
                    MatchEvent::Failed { id, returned, removed } => {
                        open.retain(|(o, _)| *o != id);
                        for c in returned {
                            prop_assert!(queued[&c]);
                        }
                        for c in removed {
                            queued.insert(c, false);
                        }
                    }
                    MatchEvent::Cancelled { members, .. } => {
                        for c in members {
                            queued.insert(c, false);
                        }
                    }
                }
            }
            prop_assert_eq!(mm.audit(), Ok(()));
            for (c, &q) in &queued {
                prop_assert_eq!(mm.is_queued(*c), q, "{:?}", c);
            }
            prop_assert!(mm.ready_checks() <= 3 && mm.waiting() <= 24);
        }
    }
}
