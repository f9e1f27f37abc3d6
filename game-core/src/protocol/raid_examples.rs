//! One example of every raid message (see `examples.rs`, which adds these to
//! its lists). The matches make adding a variant without an example a
//! compile error.

use super::{
    BoardRow, ClientMsg, ClientRaid, LeftQueue, QueueView, RaidEnd, RaidRefusal, RaidTally,
    RaidView, RewardView, ServerMsg, ServerRaid,
};
use crate::content::ItemDefId;
use crate::ids::EntityId;
use crate::math::{Fixed, Vec2};
use crate::raid::{Board, Role};

pub(super) fn client_messages() -> Vec<ClientMsg> {
    let all = vec![
        ClientRaid::Queue {
            raid: 0,
            role: Role::Healer,
            party: true,
        },
        ClientRaid::LeaveQueue,
        ClientRaid::Accept { ready: 7 },
        ClientRaid::Decline { ready: 8 },
        ClientRaid::Status,
        ClientRaid::Enter { instance: 3 },
        ClientRaid::Leave,
        ClientRaid::ClaimReward { instance: 3 },
        ClientRaid::Leaderboard {
            raid: 1,
            level_group: 2,
            board: Board::Groups,
            top: 10,
        },
    ];
    for m in &all {
        match m {
            ClientRaid::Queue { .. }
            | ClientRaid::LeaveQueue
            | ClientRaid::Accept { .. }
            | ClientRaid::Decline { .. }
            | ClientRaid::Status
            | ClientRaid::Enter { .. }
            | ClientRaid::Leave
            | ClientRaid::ClaimReward { .. }
            | ClientRaid::Leaderboard { .. } => {}
        }
    }
    all.into_iter().map(ClientMsg::Raid).collect()
}

fn view() -> RaidView {
    RaidView {
        instance: 3,
        raid: 0,
        level_group: 1,
        time_limit_ms: 600_000,
        remaining_ms: 412_250,
        phase: 1,
        enraged: false,
        boss: Some(EntityId(4)),
        boss_health_pm: 580,
    }
}

fn row(rank: u32, names: &[&str]) -> BoardRow {
    BoardRow {
        rank,
        names: names.iter().map(|n| n.to_string()).collect(),
        cleared: true,
        time_ms: 187_500,
        deaths: 2,
        damage: 48_211,
    }
}

pub(super) fn server_messages() -> Vec<ServerMsg> {
    let mut all = vec![
        ServerRaid::Queued(QueueView {
            raid: 0,
            level_group: 1,
            ahead: 14,
            waited_ms: 9_500,
            estimate_ms: Some(31_000),
        }),
        ServerRaid::ReadyCheck {
            ready: 7,
            raid: 0,
            players: 10,
            expires_ms: 30_000,
        },
        ServerRaid::ReadyCheckFailed {
            ready: 7,
            requeued: true,
        },
        ServerRaid::Entered(view()),
        ServerRaid::State(RaidView {
            phase: 2,
            enraged: true,
            boss_health_pm: 120,
            ..view()
        }),
        ServerRaid::AreaWarning {
            center: Vec2::new(Fixed::from_int(21), Fixed::from_int(14)),
            radius: Fixed::from_int(4),
            lands_in_ms: 2_000,
            damage: 90,
        },
        ServerRaid::Ended {
            instance: 3,
            end: RaidEnd::Victory,
            time_ms: 187_500,
            tally: RaidTally {
                damage: 4_800,
                deaths: 1,
            },
            reward: Some(RewardView {
                gold: 500,
                items: vec![(ItemDefId(3), 2)],
            }),
            closes_in_ms: 60_000,
        },
        ServerRaid::Left { instance: 3 },
        ServerRaid::RewardClaimed { instance: 3 },
        ServerRaid::Leaderboard {
            raid: 0,
            level_group: 1,
            board: Board::Players,
            top: vec![row(1, &["Ann"]), row(2, &["Bo"])],
            own: Some(row(17, &["Cy"])),
        },
    ];
    all.extend(
        [
            LeftQueue::Asked,
            LeftQueue::ReadyCheckFailed,
            LeftQueue::MemberLeft,
        ]
        .map(|why| ServerRaid::LeftQueue { why }),
    );
    all.extend(
        [RaidEnd::TimeUp, RaidEnd::Wiped].map(|end| ServerRaid::Ended {
            instance: 4,
            end,
            time_ms: 600_000,
            tally: RaidTally {
                damage: 0,
                deaths: 3,
            },
            reward: None,
            closes_in_ms: 30_000,
        }),
    );
    all.extend(RaidRefusal::ALL.map(|reason| ServerRaid::Refused { reason }));
    for m in &all {
        match m {
            ServerRaid::Queued(_)
            | ServerRaid::LeftQueue { .. }
            | ServerRaid::ReadyCheck { .. }
            | ServerRaid::ReadyCheckFailed { .. }
            | ServerRaid::Entered(_)
            | ServerRaid::State(_)
            | ServerRaid::AreaWarning { .. }
            | ServerRaid::Ended { .. }
            | ServerRaid::Left { .. }
            | ServerRaid::RewardClaimed { .. }
            | ServerRaid::Refused { .. }
            | ServerRaid::Leaderboard { .. } => {}
        }
    }
    all.into_iter().map(ServerMsg::Raid).collect()
}
