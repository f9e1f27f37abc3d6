//! The node target's raid seeds: three characters (the node's cap) queue
//! for the scripts' two-player raid (see `node::content`), accept, are moved
//! into an instance, kill the boss, claim the reward twice; one is refused
//! entry to an instance not its own, one queues twice; a ready check is
//! declined; a second pair's raid runs out of time; leaderboards are read,
//! one held by the store, one failed.

use super::node::{NodeOp, RaidBytes, StoreMode};
use super::seeds::{arrive, attack, ping, pong, tell};

/// Request kinds, in `ClientRaid`'s order (see [`RaidBytes`]).
mod kind {
    pub const QUEUE: u8 = 0;
    pub const LEAVE_QUEUE: u8 = 1;
    pub const ACCEPT: u8 = 2;
    pub const DECLINE: u8 = 3;
    pub const STATUS: u8 = 4;
    pub const ENTER: u8 = 5;
    pub const LEAVE: u8 = 6;
    pub const CLAIM: u8 = 7;
    pub const BOARD: u8 = 8;
}
use kind::*;

/// Raid numbers: the duo, the trio, just past them, near `u16::MAX`.
const DUO: u8 = 0;
const TRIO: u8 = 1;
const PAST: u8 = 2;
const FAR: u8 = 3;

/// `pick`: the id last named to the client, or (`ANY`) the id `n`.
const NAMED: u8 = 0;
const ANY: u8 = 1;

fn ask(slot: u8, kind: u8, raid: u8, pick: u8, n: u16) -> NodeOp {
    NodeOp::Raid {
        slot,
        request: RaidBytes {
            kind,
            raid,
            pick,
            n,
        },
    }
}

/// `ticks` ticks, each client in `slots` answering pings and reading what
/// it was sent every eight (else the idle timeout or the write queue's
/// bound closes it); `hit`: they auto-attack a monster they were shown.
fn play(ops: &mut Vec<NodeOp>, slots: &[u8], ticks: u32, hit: bool) {
    for t in 0..ticks {
        if t % 8 == 0 {
            for &slot in slots {
                ops.push(tell(slot, pong()));
                if hit {
                    ops.push(tell(slot, attack(0, t)));
                }
                ops.extend((0..10).map(|_| NodeOp::Flushed { slot }));
            }
        }
        ops.push(NodeOp::Advance { ms: 50 });
    }
}

/// `requests`, each followed by a moment and a ping from one of the three
/// clients in turn: within the rate limit, and nobody idle.
fn paced(ops: &mut Vec<NodeOp>, requests: impl IntoIterator<Item = NodeOp>) {
    for (i, op) in requests.into_iter().enumerate() {
        ops.extend([
            op,
            NodeOp::Advance { ms: 60 },
            tell(i as u8 % 3, ping(i as u32)),
        ]);
    }
}

/// The node target's raid seeds.
pub(super) fn node_scripts() -> Vec<(&'static str, u8, Vec<NodeOp>)> {
    let all = [0, 1, 2];
    let mut ops = Vec::new();
    for slot in all {
        ops.extend(arrive(slot, slot));
    }
    ops.push(NodeOp::Advance { ms: 100 });
    // Hostile before anything: nothing to leave, accept, enter, claim or
    // report; raids that do not exist; a party queue with no party; a
    // leaderboard of a level group the raid lacks, and one it has.
    paced(
        &mut ops,
        [
            ask(2, STATUS, 0, 0, 0),
            ask(2, QUEUE, PAST, 0, 0),
            ask(2, QUEUE, FAR, 0, 0),
            ask(2, QUEUE, DUO, 4, 0),
            ask(2, LEAVE_QUEUE, 0, 0, 0),
            ask(2, ACCEPT, 0, ANY, 7),
            ask(2, ENTER, 0, ANY, 1),
            ask(2, LEAVE, 0, 0, 0),
            ask(2, CLAIM, 0, ANY, 1),
            ask(2, BOARD, DUO, 4, 10),
            ask(2, BOARD, DUO, 1, 255),
        ],
    );
    // Ada queues twice; Bo queues for the trio; Cy finds the queue full
    // until Bo leaves it. Ada and Cy are matched; Ada queues again in her
    // ready check, then declines it (out of the queue), and Cy goes back
    // to wait, then leaves the queue.
    paced(
        &mut ops,
        [
            ask(0, QUEUE, DUO, 1, 0),
            ask(0, QUEUE, DUO, 1, 0),
            ask(1, QUEUE, TRIO, 0, 0),
            ask(2, QUEUE, DUO, 2, 0),
            ask(1, LEAVE_QUEUE, 0, 0, 0),
            ask(2, QUEUE, DUO, 2, 0),
            ask(0, QUEUE, DUO, 1, 0),
            ask(0, STATUS, 0, 0, 0),
            ask(0, DECLINE, 0, NAMED, 0),
            ask(2, STATUS, 0, 0, 0),
            ask(2, LEAVE_QUEUE, 0, 0, 0),
        ],
    );
    // Ada and Bo are matched and accept (Ada twice; Cy tries their check),
    // and are moved into the instance; then Cy's queue finds every
    // instance in use, Ada is inside already, Cy may not enter theirs, and
    // nothing is won yet.
    paced(
        &mut ops,
        [
            ask(0, QUEUE, DUO, 2, 0),
            ask(1, QUEUE, DUO, 0, 0),
            ask(0, ACCEPT, 0, NAMED, 0),
            ask(0, ACCEPT, 0, NAMED, 0),
            ask(2, ACCEPT, 0, ANY, 2),
            ask(1, ACCEPT, 0, NAMED, 0),
            ask(2, QUEUE, DUO, 1, 0),
            ask(0, QUEUE, DUO, 2, 0),
            ask(0, ENTER, 0, NAMED, 0),
            ask(2, ENTER, 0, ANY, 1),
            ask(0, CLAIM, 0, NAMED, 0),
            ask(0, STATUS, 0, 0, 0),
        ],
    );
    // They fight the boss until it dies (Cy waits outside).
    play(&mut ops, &all, 400, true);
    // Ada claims twice; Bo leaves and may not come back; Ada leaves, the
    // instance closes empty and gives Bo the reward Bo never claimed.
    paced(
        &mut ops,
        [
            ask(0, CLAIM, 0, NAMED, 0),
            ask(0, CLAIM, 0, NAMED, 0),
            ask(1, LEAVE, 0, 0, 0),
            ask(1, ENTER, 0, NAMED, 0),
            ask(0, LEAVE, 0, 0, 0),
        ],
    );
    // Bo and Cy are matched and wait out the time limit: no reward.
    paced(
        &mut ops,
        [
            ask(1, QUEUE, DUO, 0, 0),
            ask(2, QUEUE, DUO, 1, 0),
            ask(1, ACCEPT, 0, NAMED, 0),
            ask(2, ACCEPT, 0, NAMED, 0),
        ],
    );
    play(&mut ops, &all, 640, false);
    // The leaderboards: one read held by the store (a second is busy) and
    // failed, one answered. Bo and Cy leave; the instance closes empty.
    ops.extend([
        NodeOp::Store(StoreMode::Hold),
        ask(0, BOARD, DUO, 0, 10),
        ask(0, BOARD, DUO, 1, 10),
        NodeOp::Answer {
            which: 0,
            fail: true,
        },
        NodeOp::Store(StoreMode::AtOnce),
    ]);
    paced(
        &mut ops,
        [
            ask(1, CLAIM, 0, NAMED, 0),
            ask(1, BOARD, DUO, 0, 10),
            ask(2, LEAVE, 0, 0, 0),
            ask(1, LEAVE, 0, 0, 0),
        ],
    );
    vec![("raid_honest_and_hostile", 6, ops)]
}

#[cfg(test)]
mod tests {
    use super::super::script::ScriptWriter;
    use super::*;
    use game_core::protocol::RaidRefusal::*;

    /// The raid seed wins a raid and loses one to the clock, gives each
    /// winner its reward once (claimed, and at the close), and meets the
    /// hostile requests' refusals.
    #[test]
    fn the_raid_seed_reaches_its_paths() {
        let (_, seed, ops) = node_scripts().remove(0);
        let mut w = ScriptWriter::default();
        w.u8(seed);
        for op in &ops {
            op.write(&mut w);
        }
        let r = &super::super::node::run(&w.bytes).raid;
        assert_eq!(r.instances_opened, 2, "{r:?}");
        assert_eq!(r.instances_closed, 2, "{r:?}");
        assert_eq!((r.victories, r.time_ups), (1, 1), "{r:?}");
        assert_eq!(r.rewards_claimed, 1, "{r:?}");
        assert_eq!(r.rewards_given_at_close, 1, "{r:?}");
        assert_eq!(r.runs_recorded, 2, "{r:?}");
        assert!(r.boards_read >= 2, "{r:?}");
        for reason in [
            UnknownRaid,
            AlreadyQueued,
            InReadyCheck,
            InInstance,
            NotInParty,
            QueueFull,
            InstancesFull,
            NotQueued,
            NotYourMatch,
            AlreadyAccepted,
            NotYourInstance,
            NotInInstance,
            RaidOver,
            NoReward,
            AlreadyClaimed,
            BoardBusy,
            BoardUnavailable,
        ] {
            assert!(
                r.refused.get(reason.label()).is_some_and(|&n| n >= 1),
                "{reason:?}: {r:?}"
            );
        }
    }
}
