//! The raid domain's messages (tags 112-127): the raid queue and its ready
//! check, the instance a matched group plays in, the boss fight's timer and
//! warnings, the reward and the leaderboards.
//!
//! A client asks ([`ClientRaid`]); the node answers at once with a refusal
//! ([`ServerRaid::Refused`]) or the outcome, and tells every member of a
//! match or an instance what happened to it. A raid kind is named by its
//! place in `raids.toml`; a level group by its place in the kind's
//! `level_groups`.

use crate::content::ItemDefId;
use crate::ids::EntityId;
use crate::math::{Fixed, Vec2};
use crate::raid::{Board, Role};
use serde::{Deserialize, Serialize};

/// The most leaderboard entries one request may ask for.
pub const MAX_BOARD_TOP: u8 = 100;

/// Requests about raids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientRaid {
    /// Queue for raid kind `raid` in `role` (ignored by a kind without
    /// roles). With `party`, the whole party queues as one ticket (only its
    /// leader may ask; every member must be in the world on this server,
    /// each in the role it last queued in, else `role`). Answered with
    /// [`ServerRaid::Queued`].
    Queue { raid: u16, role: Role, party: bool },
    /// Leave the queue (the whole ticket: a party leaves together).
    /// Answered with [`ServerRaid::LeftQueue`].
    LeaveQueue,
    /// Accept the ready check `ready` ([`ServerRaid::ReadyCheck`]).
    Accept { ready: u64 },
    /// Decline it: this ticket leaves the queue, the others go back.
    Decline { ready: u64 },
    /// Where the character stands in the queue (answered with
    /// [`ServerRaid::Queued`]).
    Status,
    /// Go back into instance `instance`, left with [`ClientRaid::Leave`]
    /// while its raid runs.
    Enter { instance: u64 },
    /// Leave the instance for the place the character came from.
    Leave,
    /// Take the reward of a raid won in `instance`, once.
    ClaimReward { instance: u64 },
    /// The best `top` (at most [`MAX_BOARD_TOP`]) of a leaderboard, and the
    /// character's own place on it (answered with [`ServerRaid::Leaderboard`]).
    Leaderboard {
        raid: u16,
        level_group: u8,
        board: Board,
        top: u8,
    },
}

/// Where a queued character stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueView {
    pub raid: u16,
    pub level_group: u8,
    /// Players queued before this ticket in its level group.
    pub ahead: u32,
    pub waited_ms: u32,
    /// The recent wait of matched players minus the wait so far; `None`
    /// before anyone was matched.
    pub estimate_ms: Option<u32>,
}

/// Why a character is no longer queued (without a match).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeftQueue {
    /// It (or its party's leader) asked.
    Asked,
    /// It, or someone of its ticket, declined or let a ready check time out.
    ReadyCheckFailed,
    /// Someone of its ticket left the game.
    MemberLeft,
}

/// The raid in an instance, as its members see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaidView {
    pub instance: u64,
    pub raid: u16,
    pub level_group: u8,
    /// The raid's time limit, and what is left of it.
    pub time_limit_ms: u32,
    pub remaining_ms: u32,
    /// The boss's phase, from 0.
    pub phase: u8,
    pub enraged: bool,
    /// The boss, once it is in the zone.
    pub boss: Option<EntityId>,
    /// Its health, in thousandths of its maximum.
    pub boss_health_pm: u16,
}

/// How a raid ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaidEnd {
    /// The boss died.
    Victory,
    /// The time limit passed.
    TimeUp,
    /// Every member in the instance was dead at once.
    Wiped,
}

/// One member's part in a finished raid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaidTally {
    pub damage: u64,
    pub deaths: u32,
}

/// A raid's reward: what [`ClientRaid::ClaimReward`] gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardView {
    pub gold: u64,
    /// Items by kind (`items.toml`'s ids) and count, minted as claimed.
    pub items: Vec<(ItemDefId, u32)>,
}

/// One leaderboard entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardRow {
    pub rank: u32,
    /// A player's name, or a group's members' names.
    pub names: Vec<String>,
    pub cleared: bool,
    pub time_ms: u32,
    pub deaths: u32,
    pub damage: u64,
}

/// Why a raid request was refused. Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RaidRefusal {
    /// No raid kind (or level group) has that number.
    UnknownRaid,
    /// The character (or a party member) is queued already.
    AlreadyQueued,
    /// The character (or a party member) has a ready check open.
    InReadyCheck,
    /// The character (or a party member) was matched into a raid instance
    /// that is still open (having left it too, until it closes), or is
    /// inside it already.
    InInstance,
    /// No level group of the raid holds the character's (or a member's) level.
    NoLevelGroup,
    /// The party's levels span two level groups.
    MixedLevelGroups,
    /// The party has more of a role than the raid takes, or more players.
    TooManyOfRole,
    /// Asked to queue as a party without being in one.
    NotInParty,
    /// Only the party's leader may queue it.
    NotPartyLeader,
    /// A party member is not in the world on this server.
    MemberAway,
    /// The queue holds its most tickets.
    QueueFull,
    /// Every raid instance this server may run is in use or promised.
    InstancesFull,
    /// Not queued.
    NotQueued,
    /// That ready check is not the character's (or is over).
    NotYourMatch,
    /// Accepted already.
    AlreadyAccepted,
    /// No instance has that number, or the character was not matched into it.
    NotYourInstance,
    /// Not in a raid instance.
    NotInInstance,
    /// The instance's raid is over: it cannot be entered again.
    RaidOver,
    /// No reward: the raid was not won, not yet over, or not the character's.
    NoReward,
    /// The reward was claimed already.
    AlreadyClaimed,
    /// The character's inventory is busy (loading, or a change on its way):
    /// claim again in a moment.
    Busy,
    /// Too many leaderboard reads are waiting for the store.
    BoardBusy,
    /// The store did not answer the leaderboard read.
    BoardUnavailable,
}

impl RaidRefusal {
    /// Every refusal, in declaration order.
    pub const ALL: [RaidRefusal; 23] = [
        RaidRefusal::UnknownRaid,
        RaidRefusal::AlreadyQueued,
        RaidRefusal::InReadyCheck,
        RaidRefusal::InInstance,
        RaidRefusal::NoLevelGroup,
        RaidRefusal::MixedLevelGroups,
        RaidRefusal::TooManyOfRole,
        RaidRefusal::NotInParty,
        RaidRefusal::NotPartyLeader,
        RaidRefusal::MemberAway,
        RaidRefusal::QueueFull,
        RaidRefusal::InstancesFull,
        RaidRefusal::NotQueued,
        RaidRefusal::NotYourMatch,
        RaidRefusal::AlreadyAccepted,
        RaidRefusal::NotYourInstance,
        RaidRefusal::NotInInstance,
        RaidRefusal::RaidOver,
        RaidRefusal::NoReward,
        RaidRefusal::AlreadyClaimed,
        RaidRefusal::Busy,
        RaidRefusal::BoardBusy,
        RaidRefusal::BoardUnavailable,
    ];

    /// A label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            RaidRefusal::UnknownRaid => "unknown_raid",
            RaidRefusal::AlreadyQueued => "already_queued",
            RaidRefusal::InReadyCheck => "in_ready_check",
            RaidRefusal::InInstance => "in_instance",
            RaidRefusal::NoLevelGroup => "no_level_group",
            RaidRefusal::MixedLevelGroups => "mixed_level_groups",
            RaidRefusal::TooManyOfRole => "too_many_of_role",
            RaidRefusal::NotInParty => "not_in_party",
            RaidRefusal::NotPartyLeader => "not_party_leader",
            RaidRefusal::MemberAway => "member_away",
            RaidRefusal::QueueFull => "queue_full",
            RaidRefusal::InstancesFull => "instances_full",
            RaidRefusal::NotQueued => "not_queued",
            RaidRefusal::NotYourMatch => "not_your_match",
            RaidRefusal::AlreadyAccepted => "already_accepted",
            RaidRefusal::NotYourInstance => "not_your_instance",
            RaidRefusal::NotInInstance => "not_in_instance",
            RaidRefusal::RaidOver => "raid_over",
            RaidRefusal::NoReward => "no_reward",
            RaidRefusal::AlreadyClaimed => "already_claimed",
            RaidRefusal::Busy => "busy",
            RaidRefusal::BoardBusy => "board_busy",
            RaidRefusal::BoardUnavailable => "board_unavailable",
        }
    }
}

/// What the raid part tells a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerRaid {
    /// Queued (answering `Queue` and `Status`), or back in the queue after a
    /// ready check failed for others.
    Queued(QueueView),
    /// No longer queued, and why.
    LeftQueue { why: LeftQueue },
    /// A match was found: accept `ready` within `expires_ms`.
    ReadyCheck {
        ready: u64,
        raid: u16,
        players: u8,
        expires_ms: u32,
    },
    /// The ready check failed; `requeued`: this character's ticket is back
    /// in its old place.
    ReadyCheckFailed { ready: u64, requeued: bool },
    /// The character is in the raid's instance (sent on entering, and after
    /// a resume puts it back).
    Entered(RaidView),
    /// The raid's state: every few seconds, and when the phase changes or
    /// the boss enrages.
    State(RaidView),
    /// The boss's area attack lands at `center` in `lands_in_ms`: everyone
    /// within `radius` then takes `damage`.
    AreaWarning {
        center: Vec2,
        radius: Fixed,
        lands_in_ms: u32,
        damage: u32,
    },
    /// The raid is over; the instance closes in `closes_in_ms` (everyone
    /// still in it is then moved out). `reward`: the character's to claim.
    Ended {
        instance: u64,
        end: RaidEnd,
        time_ms: u32,
        tally: RaidTally,
        reward: Option<RewardView>,
        closes_in_ms: u32,
    },
    /// The character left the instance (asked, or it closed).
    Left { instance: u64 },
    /// The reward was given (the inventory's change follows in the
    /// economy domain).
    RewardClaimed { instance: u64 },
    /// A request was refused.
    Refused { reason: RaidRefusal },
    /// A leaderboard, answering [`ClientRaid::Leaderboard`].
    Leaderboard {
        raid: u16,
        level_group: u8,
        board: Board,
        top: Vec<BoardRow>,
        own: Option<BoardRow>,
    },
}
