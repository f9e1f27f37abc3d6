//! A raid's reward across the store's answers and the node's crashes: the
//! end is told once the store has the run (and the rewards it owes), a
//! claim before then waits, and a reward never claimed on this node (its
//! player left, the node crashed) is given at the next inventory load,
//! once, whatever restarts follow.

use super::raids::{character_of, raid_msgs, refusals};
use super::*;
use crate::economy::Source;
use crate::protocol::{ClientRaid, RaidRefusal, ServerRaid};

/// The training grounds' reward.
const GOLD: u64 = 120;

impl Harness {
    /// The node crashes and another starts on the same store: every
    /// connection, queue and instance is gone.
    fn restart(&mut self) {
        self.node = Node::new(NodeConfig::default(), 8).unwrap();
        self.decoders.clear();
        self.inbox.clear();
        self.closed.clear();
        self.answering.clear();
        self.held.clear();
        self.hold_outcomes = false;
        self.characters.clear();
        self.stalled.clear();
    }

    /// Outcomes held back so far reach the node.
    fn release(&mut self) {
        self.hold_outcomes = false;
        for outcome in std::mem::take(&mut self.held) {
            self.node.handle_store_outcome(self.now, outcome);
        }
        self.drain();
    }

    /// Gold of each of `characters` as the store holds it.
    fn stored_gold(&self, characters: &[CharacterId]) -> Vec<u64> {
        let gold_of = |c: &CharacterId| self.store.inventory(*c).map_or(0, |i| i.gold);
        characters.iter().map(gold_of).collect()
    }

    /// Raid receipts in the store's ledger, and owed rewards not given.
    fn raid_ledger(&self) -> (usize, usize) {
        let receipts = (self.store.ledger())
            .filter(|(_, r)| r.gold_in.iter().any(|(_, s)| *s == Source::Raid))
            .count();
        let owed = self.store.raid_rewards().filter(|r| !r.3).count();
        (receipts, owed)
    }
}

/// Five (`p1`..`p5`) queue, enter and win; the store has the run.
/// Returns their connections, characters and the instance.
fn won(h: &mut Harness) -> (Vec<ConnId>, Vec<CharacterId>, u64) {
    let conns = h.queued(1, 5);
    let instance = h.accept_all(&conns);
    h.kill_boss(instance);
    let characters = conns.iter().map(|&c| character_of(h, c)).collect();
    (conns, characters, instance)
}

#[test]
fn the_end_is_told_once_the_store_has_the_run_and_a_claim_before_waits() {
    let mut h = Harness::new();
    let conns = h.queued(1, 5);
    let instance = h.accept_all(&conns);
    h.hold_outcomes = true;
    h.kill_boss(instance);
    let ended = |msgs: &[ServerMsg]| {
        raid_msgs(msgs)
            .into_iter()
            .filter(|m| matches!(m, ServerRaid::Ended { .. }))
            .count()
    };
    assert_eq!(ended(&h.take(conns[0])), 0, "not before the store has it");
    let claim = ClientMsg::Raid(ClientRaid::ClaimReward { instance });
    h.send(conns[0], std::slice::from_ref(&claim));
    assert_eq!(refusals(&h.take(conns[0])), vec![RaidRefusal::Busy]);
    assert_eq!(h.store.raid_rewards().count(), 5, "owed in the store");
    h.release();
    for &c in &conns {
        assert_eq!(ended(&h.take(c)), 1);
    }
    h.send(conns[0], &[claim]);
    assert!(raid_msgs(&h.take(conns[0])).contains(&ServerRaid::RewardClaimed { instance }));
    let me = character_of(&h, conns[0]);
    assert_eq!(h.node.inventory(me).unwrap().gold, GOLD);
}

#[test]
fn a_run_the_store_failed_is_sent_again_until_it_is_there() {
    let mut h = Harness::new();
    let conns = h.queued(1, 5);
    let instance = h.accept_all(&conns);
    // The store applies nothing and answers nothing: the record times out.
    h.hold_outcomes = true;
    let mut store = std::mem::take(&mut h.store);
    h.kill_boss(instance);
    h.held.clear();
    h.store = std::mem::take(&mut store);
    h.hold_outcomes = false;
    assert_eq!(h.store.raid_rewards().count(), 0);
    let timeout = u64::from(h.node.config().store_timeout_ms);
    h.advance(Duration::from_millis(timeout + 1_100));
    assert_eq!(h.store.raid_rewards().count(), 5, "recorded on a retry");
    assert_eq!(h.node.raid_stats().runs_recorded, 1);
    assert!(raid_msgs(&h.take(conns[1])).iter().any(|m| matches!(
        m,
        ServerRaid::Ended {
            reward: Some(_),
            ..
        }
    )));
}

#[test]
fn a_crash_before_the_claim_neither_loses_nor_doubles_a_reward() {
    let mut h = Harness::new();
    let (_, names, _) = won(&mut h);
    let before = h.stored_gold(&names);
    assert_eq!(h.raid_ledger(), (0, 5), "owed, none given");
    // Crash; everyone comes back to the new node: given at the load.
    h.restart();
    for c in 1..=5 {
        h.enter(10 + c, &format!("p{c}"));
    }
    let after: Vec<u64> = before.iter().map(|g| g + GOLD).collect();
    assert_eq!(h.stored_gold(&names), after);
    assert_eq!(h.raid_ledger(), (5, 0));
    assert_eq!(h.node.raid_stats().rewards_from_store, 5);
    // Again: nothing more.
    h.restart();
    for c in 1..=5 {
        h.enter(20 + c, &format!("p{c}"));
    }
    assert_eq!(h.stored_gold(&names), after);
    assert_eq!(h.raid_ledger(), (5, 0));
    assert_eq!(h.node.raid_stats().rewards_from_store, 0);
}

#[test]
fn a_crash_with_the_claim_applied_but_unanswered_does_not_give_it_again() {
    let mut h = Harness::new();
    let (conns, names, instance) = won(&mut h);
    h.hold_outcomes = true;
    for &c in &conns {
        h.send(c, &[ClientMsg::Raid(ClientRaid::ClaimReward { instance })]);
    }
    // The store applied every claim; the node dies before its answers.
    let claimed = h.stored_gold(&names);
    assert_eq!(h.raid_ledger(), (5, 0));
    h.restart();
    for c in 1..=5 {
        h.enter(10 + c, &format!("p{c}"));
    }
    assert_eq!(h.stored_gold(&names), claimed);
    assert_eq!(h.raid_ledger(), (5, 0));
    assert_eq!(h.node.raid_stats().rewards_from_store, 0);
}

#[test]
fn a_winner_who_left_before_claiming_is_given_it_when_it_comes_back() {
    let mut h = Harness::with_config(NodeConfig {
        resume_grace_ms: 1_000,
        ..NodeConfig::default()
    });
    let (conns, names, _) = won(&mut h);
    let before = h.stored_gold(&names)[0];
    h.node.handle_disconnect(h.now, conns[0]);
    h.drain();
    h.advance(Duration::from_secs(2));
    assert_eq!(h.node.raid_stats().rewards_stored, 1);
    assert_eq!(h.stored_gold(&names)[0], before, "not yet");
    h.enter(50, "p1");
    assert_eq!(h.stored_gold(&names)[0], before + GOLD);
    let s = h.node.raid_stats();
    assert_eq!((s.rewards_from_store, s.rewards_given_at_load), (1, 0));
    // The others were given theirs at the close: five in all, once each.
    h.advance(Duration::from_secs(31));
    assert_eq!(h.node.raid_stats().rewards_given_at_close, 4);
    assert_eq!(h.raid_ledger(), (5, 0));
}
