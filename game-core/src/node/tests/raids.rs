//! Raids through the node: queue, ready check, the instance opened and
//! entered through the transfer path, the encounter's end, the reward
//! claimed once, the instance closed; a resume inside; hostile requests
//! refused, counted and never applied.

use super::*;
use crate::protocol::{ClientRaid, RaidEnd, RaidRefusal, ServerRaid};
use crate::raid::{Board, Role};

/// `training_grounds`: five players, no roles, levels 1-15 in group 0.
const GROUNDS: u16 = 1;

pub(super) fn raid_msgs(msgs: &[ServerMsg]) -> Vec<ServerRaid> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::Raid(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn queue() -> ClientMsg {
    ClientMsg::Raid(ClientRaid::Queue {
        raid: GROUNDS,
        role: Role::Damage,
        party: false,
    })
}

pub(super) fn refusals(msgs: &[ServerMsg]) -> Vec<RaidRefusal> {
    raid_msgs(msgs)
        .into_iter()
        .filter_map(|m| match m {
            ServerRaid::Refused { reason } => Some(reason),
            _ => None,
        })
        .collect()
}

fn tick(h: &mut Harness) {
    h.advance(Duration::from_millis(50));
}

impl Harness {
    /// `n` players (connections `first..`) in the world, queued for the
    /// training grounds.
    pub(super) fn queued(&mut self, first: u64, n: u64) -> Vec<ConnId> {
        let conns: Vec<ConnId> = (first..first + n)
            .map(|c| self.enter(c, &format!("p{c}")).0)
            .collect();
        for &c in &conns {
            self.send(c, &[queue()]);
            let msgs = raid_msgs(&self.take(c));
            assert!(
                matches!(msgs.as_slice(), [ServerRaid::Queued(_)]),
                "{msgs:?}"
            );
        }
        conns
    }

    /// Everyone of `conns` accepts the ready check it was sent; returns
    /// the instance they were moved into.
    pub(super) fn accept_all(&mut self, conns: &[ConnId]) -> u64 {
        tick(self);
        for &c in conns {
            let ready = raid_msgs(&self.take(c))
                .into_iter()
                .find_map(|m| match m {
                    ServerRaid::ReadyCheck { ready, .. } => Some(ready),
                    _ => None,
                })
                .expect("a ready check");
            self.send(c, &[ClientMsg::Raid(ClientRaid::Accept { ready })]);
        }
        let mut instance = None;
        for &c in conns {
            let msgs = self.take(c);
            zone_entered(&msgs);
            let entered = raid_msgs(&msgs).into_iter().find_map(|m| match m {
                ServerRaid::Entered(v) => Some(v.instance),
                _ => None,
            });
            assert!(entered.is_some(), "{msgs:?}");
            assert!(instance.is_none() || instance == entered);
            instance = entered;
        }
        instance.unwrap()
    }

    fn instance_zone(&self, instance: u64) -> ZoneId {
        let info = self.node.instances();
        info.iter().find(|i| i.id == instance).unwrap().zone
    }

    /// Kills the boss of `instance` (as if its last hit landed).
    pub(super) fn kill_boss(&mut self, instance: u64) {
        let zone = self.instance_zone(instance);
        let z = self.node.world.zone_mut(zone).unwrap();
        let boss = z.encounter().unwrap().boss.unwrap();
        z.fighter_mut_of(boss).unwrap().health = 0;
        tick(self);
    }

    fn zone_of(&self, conn: ConnId) -> Option<ZoneId> {
        let player = self.node.session(conn)?.player()?;
        Some(self.node.player(player)?.location?.zone)
    }
}

#[test]
fn five_queue_accept_and_are_moved_into_one_instance_of_their_own() {
    let mut h = Harness::new();
    let conns = h.queued(1, 5);
    let home = h.zone_of(conns[0]).unwrap();
    let instance = h.accept_all(&conns);
    let zone = h.instance_zone(instance);
    assert_ne!(zone, home);
    let info = &h.node.instances()[0];
    assert_eq!(
        (info.level_group, info.spread),
        (0, 0),
        "five level-1 players"
    );
    assert!(info.allowed >= info.spread);
    for &c in &conns {
        assert_eq!(h.zone_of(c), Some(zone));
    }
    assert_eq!(h.node.world().instance_count(), 1);
    assert_eq!(h.node.world().zone(zone).unwrap().player_count(), 5);
    assert_eq!(
        h.node.world().zone(zone).unwrap().map().name(),
        "ember_lair"
    );
    assert_eq!(h.node.matchmaker().waiting(), 0);
    // A save while inside puts the character where it came from.
    let player = h.node.session(conns[0]).unwrap().player().unwrap();
    let character = h.node.player(player).unwrap().character.unwrap();
    h.node.save_playing(h.now, player);
    h.drain();
    let (_, state) = h.node.character_state(character).unwrap();
    assert_eq!(state.place.map, "meadow");
}

#[test]
fn a_victory_owes_each_member_its_reward_once_and_the_instance_closes_after() {
    let mut h = Harness::new();
    let conns = h.queued(1, 5);
    let instance = h.accept_all(&conns);
    h.kill_boss(instance);
    let ended = raid_msgs(&h.take(conns[0]));
    let reward = ended
        .iter()
        .find_map(|m| match m {
            ServerRaid::Ended { end, reward, .. } => Some((*end, reward.clone())),
            _ => None,
        })
        .expect("the raid ended");
    assert_eq!(reward.0, RaidEnd::Victory);
    assert_eq!(reward.1.as_ref().map(|r| r.gold), Some(120));
    let gold_before = h.node.inventory(character_of(&h, conns[0])).unwrap().gold;
    let claim = ClientMsg::Raid(ClientRaid::ClaimReward { instance });
    h.send(conns[0], std::slice::from_ref(&claim));
    let msgs = h.take(conns[0]);
    assert!(raid_msgs(&msgs).contains(&ServerRaid::RewardClaimed { instance }));
    tick(&mut h);
    let gold_after = h.node.inventory(character_of(&h, conns[0])).unwrap().gold;
    assert_eq!(gold_after, gold_before + 120);
    // Twice: refused, counted, nothing given.
    h.send(conns[0], &[claim]);
    assert_eq!(
        refusals(&h.take(conns[0])),
        vec![RaidRefusal::AlreadyClaimed]
    );
    tick(&mut h);
    assert_eq!(
        h.node.inventory(character_of(&h, conns[0])).unwrap().gold,
        gold_after
    );
    assert_eq!(h.node.raid_stats().refused.get("already_claimed"), Some(&1));
    // The others never claim: the close gives it to them, once each.
    h.advance(Duration::from_secs(31));
    assert_eq!(h.node.instances(), vec![]);
    assert_eq!(h.node.world().instance_count(), 0);
    let stats = h.node.raid_stats();
    assert_eq!(
        (
            stats.victories,
            stats.rewards_claimed,
            stats.rewards_given_at_close,
            stats.rewards_lost
        ),
        (1, 1, 4, 0)
    );
    assert_eq!(stats.rewards_owed, 5, "every member inside was owed one");
    assert_eq!((stats.matches_ready, stats.matches_too_wide), (1, 0));
    assert_eq!(stats.runs_recorded, 1);
    for &c in &conns {
        assert_ne!(h.zone_of(c), None);
        assert!(raid_msgs(&h.take(c)).contains(&ServerRaid::Left { instance }));
        assert_eq!(
            h.node.world().channel_of(h.zone_of(c).unwrap()).unwrap().0,
            "meadow"
        );
    }
    // The run is on the boards, read through the store.
    let read = |board| {
        ClientMsg::Raid(ClientRaid::Leaderboard {
            raid: GROUNDS,
            level_group: 0,
            board,
            top: 3,
        })
    };
    h.send(conns[2], &[read(Board::Players), read(Board::Groups)]);
    let boards: Vec<_> = raid_msgs(&h.take(conns[2]))
        .into_iter()
        .filter_map(|m| match m {
            ServerRaid::Leaderboard {
                board, top, own, ..
            } => Some((board, top, own)),
            _ => None,
        })
        .collect();
    let [(Board::Players, players, Some(own)), (Board::Groups, groups, None)] = boards.as_slice()
    else {
        panic!("{boards:?}");
    };
    assert_eq!(players.len(), 3, "the top 3 of 5");
    assert!(players.iter().all(|r| r.cleared));
    assert!(own.rank >= 1 && own.rank <= 5);
    assert_eq!(own.names, vec!["p3-char".to_string()]);
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].names.len(), 5);
    assert_eq!(h.node.raid_stats().boards_read, 2);
}

pub(super) fn character_of(h: &Harness, conn: ConnId) -> CharacterId {
    let player = h.node.session(conn).unwrap().player().unwrap();
    h.node.player(player).unwrap().character.unwrap()
}

#[test]
fn the_time_limit_fails_the_raid_and_nobody_is_owed_a_reward() {
    let mut h = Harness::new();
    let conns = h.queued(1, 5);
    let instance = h.accept_all(&conns);
    h.advance(Duration::from_secs(301));
    let msgs = raid_msgs(&h.take(conns[1]));
    assert!(msgs.iter().any(|m| matches!(
        m,
        ServerRaid::Ended {
            end: RaidEnd::TimeUp,
            reward: None,
            ..
        }
    )));
    assert!(
        msgs.iter().any(|m| matches!(m, ServerRaid::State(_))),
        "the timer is sent while the raid runs"
    );
    h.send(
        conns[1],
        &[ClientMsg::Raid(ClientRaid::ClaimReward { instance })],
    );
    assert_eq!(refusals(&h.take(conns[1])), vec![RaidRefusal::NoReward]);
    h.advance(Duration::from_secs(31));
    assert_eq!(h.node.world().instance_count(), 0);
    assert_eq!(h.node.raid_stats().time_ups, 1);
}

#[test]
fn everyone_leaving_closes_the_instance_at_once_and_a_leaver_cannot_come_back_after() {
    let mut h = Harness::new();
    let conns = h.queued(1, 5);
    let instance = h.accept_all(&conns);
    h.send(conns[0], &[ClientMsg::Raid(ClientRaid::Leave)]);
    assert!(raid_msgs(&h.take(conns[0])).contains(&ServerRaid::Left { instance }));
    // Back in while the raid runs.
    h.send(conns[0], &[ClientMsg::Raid(ClientRaid::Enter { instance })]);
    assert_eq!(h.zone_of(conns[0]), Some(h.instance_zone(instance)));
    for &c in &conns {
        h.send(c, &[ClientMsg::Raid(ClientRaid::Leave)]);
    }
    assert_eq!(h.node.world().instance_count(), 0);
    assert_eq!(h.node.raid_stats().instances_closed, 1);
    h.send(conns[0], &[ClientMsg::Raid(ClientRaid::Enter { instance })]);
    assert_eq!(
        refusals(&h.take(conns[0])),
        vec![RaidRefusal::NotYourInstance]
    );
}

#[test]
fn a_dropped_member_resumes_inside_its_instance_and_one_gone_for_good_is_saved_outside() {
    let mut h = Harness::new();
    let conns = h.queued(1, 5);
    let player = h.node.session(conns[0]).unwrap().player().unwrap();
    let token = h.node.player(player).unwrap().resume_token;
    let instance = h.accept_all(&conns);
    let zone = h.instance_zone(instance);
    h.node.handle_disconnect(h.now, conns[0]);
    h.drain();
    h.advance(Duration::from_secs(10));
    let conn = h.connect(50);
    h.send(
        conn,
        &[
            hello(),
            ClientMsg::Session(ClientSession::Resume { player, token }),
        ],
    );
    let msgs = h.take(conn);
    assert!(resumed_flag(&msgs));
    assert!(raid_msgs(&msgs)
        .iter()
        .any(|m| matches!(m, ServerRaid::Entered(v) if v.instance == instance)));
    assert_eq!(h.zone_of(conn), Some(zone));
    // Another drops and never comes back: out of the instance, saved where
    // it came from.
    let gone = character_of(&h, conns[1]);
    h.node.handle_disconnect(h.now, conns[1]);
    h.drain();
    h.answering.insert(conn);
    h.advance(Duration::from_secs(31));
    assert!(h.node.instances()[0]
        .members
        .iter()
        .any(|m| m.0 == gone && !m.1 && !m.2));
    let stored = h.store.character(gone).unwrap();
    assert_eq!(stored.state.place.map, "meadow");
}

#[test]
fn hostile_raid_requests_are_refused_counted_and_change_nothing() {
    let mut h = Harness::new();
    let conns = h.queued(1, 5);
    // Queueing twice.
    h.send(conns[0], &[queue()]);
    assert_eq!(
        refusals(&h.take(conns[0])),
        vec![RaidRefusal::AlreadyQueued]
    );
    tick(&mut h);
    let ready = raid_msgs(&h.take(conns[0]))
        .into_iter()
        .find_map(|m| match m {
            ServerRaid::ReadyCheck { ready, .. } => Some(ready),
            _ => None,
        })
        .unwrap();
    // A stranger accepting it; an unknown raid; a party queue without one.
    let (stranger, _) = h.enter(9, "stranger");
    h.send(stranger, &[ClientMsg::Raid(ClientRaid::Accept { ready })]);
    h.send(
        stranger,
        &[
            ClientMsg::Raid(ClientRaid::Queue {
                raid: 99,
                role: Role::Tank,
                party: false,
            }),
            ClientMsg::Raid(ClientRaid::Queue {
                raid: GROUNDS,
                role: Role::Tank,
                party: true,
            }),
            ClientMsg::Raid(ClientRaid::Leave),
            ClientMsg::Raid(ClientRaid::ClaimReward { instance: 1 }),
        ],
    );
    assert_eq!(
        refusals(&h.take(stranger)),
        vec![
            RaidRefusal::NotYourMatch,
            RaidRefusal::UnknownRaid,
            RaidRefusal::NotInParty,
            RaidRefusal::NotInInstance,
            RaidRefusal::NotYourInstance,
        ]
    );
    for &c in &conns[..5] {
        h.send(c, &[ClientMsg::Raid(ClientRaid::Accept { ready })]);
    }
    let instance = h.node.instances()[0].id;
    // Queueing while in an instance; entering someone else's.
    h.take(conns[0]);
    h.send(conns[0], &[queue()]);
    assert_eq!(refusals(&h.take(conns[0])), vec![RaidRefusal::InInstance]);
    h.send(stranger, &[ClientMsg::Raid(ClientRaid::Enter { instance })]);
    assert_eq!(
        refusals(&h.take(stranger)),
        vec![RaidRefusal::NotYourInstance]
    );
    assert_ne!(h.zone_of(stranger), Some(h.instance_zone(instance)));
    let refused: u64 = h.node.raid_stats().refused.values().sum();
    assert_eq!(refused, 8);
}

#[test]
fn a_full_server_refuses_queues_and_makes_no_match_without_a_free_instance() {
    let mut config = NodeConfig::default();
    config.raid.max_instances = 1;
    let mut h = Harness::with_config(config);
    let first = h.queued(1, 5);
    // A second group queues while the first waits for its ready check...
    let second = h.queued(11, 5);
    let instance = h.accept_all(&first);
    // ...and gets none while the only instance is in use.
    tick(&mut h);
    for &c in &second {
        let msgs = raid_msgs(&h.take(c));
        assert!(
            !msgs
                .iter()
                .any(|m| matches!(m, ServerRaid::ReadyCheck { .. })),
            "{msgs:?}"
        );
    }
    let (late, _) = h.enter(30, "late");
    h.send(late, &[queue()]);
    assert_eq!(refusals(&h.take(late)), vec![RaidRefusal::InstancesFull]);
    // Once it closes, the second group is matched.
    for &c in &first {
        h.send(c, &[ClientMsg::Raid(ClientRaid::Leave)]);
    }
    assert_eq!(h.node.instances(), vec![]);
    let next = h.accept_all(&second);
    assert_ne!(next, instance);
}

#[test]
fn a_party_queues_whole_through_its_leader_and_plays_in_one_instance() {
    use crate::protocol::{ClientSocial, ServerSocial};
    let mut h = Harness::new();
    let conns: Vec<ConnId> = (1..=5).map(|c| h.enter(c, &format!("p{c}")).0).collect();
    for c in 2..=5u64 {
        h.send(
            conns[0],
            &[ClientMsg::Social(ClientSocial::PartyInvite {
                name: format!("p{c}-char"),
            })],
        );
        tick(&mut h);
        let from = h
            .take(conns[c as usize - 1])
            .into_iter()
            .find_map(|m| match m {
                ServerMsg::Social(ServerSocial::PartyInvited { from, .. }) => Some(from.character),
                _ => None,
            })
            .expect("invited");
        h.send(
            conns[c as usize - 1],
            &[ClientMsg::Social(ClientSocial::PartyAnswer {
                from,
                accept: true,
            })],
        );
        tick(&mut h);
    }
    let party = ClientMsg::Raid(ClientRaid::Queue {
        raid: GROUNDS,
        role: Role::Tank,
        party: true,
    });
    // Only the leader may queue the party.
    h.send(conns[1], std::slice::from_ref(&party));
    assert_eq!(
        refusals(&h.take(conns[1])),
        vec![RaidRefusal::NotPartyLeader]
    );
    h.send(conns[0], &[party]);
    for &c in &conns {
        let msgs = raid_msgs(&h.take(c));
        assert!(
            msgs.iter()
                .any(|m| matches!(m, ServerRaid::Queued(q) if q.raid == GROUNDS)),
            "every member is told: {msgs:?}"
        );
    }
    assert_eq!(h.node.matchmaker().waiting(), 1, "one ticket");
    // A member queueing alone meanwhile: already queued.
    h.send(conns[3], &[queue()]);
    assert_eq!(
        refusals(&h.take(conns[3])),
        vec![RaidRefusal::AlreadyQueued]
    );
    let instance = h.accept_all(&conns);
    let zone = h.instance_zone(instance);
    for &c in &conns {
        assert_eq!(h.zone_of(c), Some(zone));
    }
}

/// Found by the node fuzz target's raid checks: an operator's transfer
/// moved a character out of its instance's zone while the instance still
/// counted it inside (kept open for it, and later moved it "back" from
/// wherever it stood).
#[test]
fn an_operator_transfer_out_of_an_instance_leaves_it_and_the_last_one_out_closes_it() {
    let mut h = Harness::new();
    let conns = h.queued(1, 5);
    let instance = h.accept_all(&conns);
    let zone = h.instance_zone(instance);
    let player = |h: &Harness, c: ConnId| h.node.session(c).unwrap().player().unwrap();
    let first = player(&h, conns[0]);
    h.node.transfer(h.now, first, "forest").unwrap();
    h.drain();
    assert!(raid_msgs(&h.take(conns[0])).contains(&ServerRaid::Left { instance }));
    let info = h.node.instances();
    let me = character_of(&h, conns[0]);
    let member = info[0].members.iter().find(|m| m.0 == me).unwrap();
    assert!(!member.1, "transferred out, still counted inside");
    assert_ne!(h.zone_of(conns[0]), Some(zone));
    for &c in &conns[1..] {
        let p = player(&h, c);
        h.node.transfer(h.now, p, "forest").unwrap();
        h.drain();
    }
    assert_eq!(h.node.instances(), vec![]);
    assert_eq!(h.node.world().instance_count(), 0);
    for &c in &conns {
        assert_eq!(
            h.node.world().channel_of(h.zone_of(c).unwrap()).unwrap().0,
            "forest"
        );
    }
}
