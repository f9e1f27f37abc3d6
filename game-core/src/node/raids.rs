//! The node's side of raids: the raid queue ([`Matchmaker`]) fed from
//! players' requests, parties and levels; its decisions told to the players;
//! matches ready handed to `instances.rs`; the leaderboards read from the
//! store. Every refusal is typed, counted by reason and sent back.
//!
//! A character is in at most one of: a queue's ticket, a ready check, an
//! instance (the matchmaker and the instances each check, and a queue
//! request is refused for a character in an instance).

use super::instances::Instances;
use super::store::Purpose;
use super::Node;
use crate::ids::{CharacterId, ConnId, IdMap, PlayerId};
use crate::persist::{BoardEntry, Change, Reply, StoreError};
use crate::protocol::{
    BoardRow, ClientRaid, LeftQueue, QueueView, RaidRefusal, ServerMsg, ServerRaid, MAX_BOARD_TOP,
};
use crate::raid::{
    Board, Entrant, MatchEvent, MatchId, Matchmaker, MatchmakerLimits, QueueRefusal, Role,
};
use crate::time::{Duration, Instant};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `[node.raid]` in the server config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RaidConfig {
    /// Raid instances this server runs at once; a queue request while all
    /// are in use is refused (`InstancesFull`), and no match is made
    /// without an instance free for it.
    pub max_instances: u32,
    /// Tickets waiting in all queues.
    pub max_tickets: u32,
    /// Ready checks open at once (never more than the free instances).
    pub max_ready_checks: u32,
    /// Leaderboard reads waiting for the store; past this, `BoardBusy`.
    pub max_board_reads: u32,
    /// Members of a running raid are sent its state this often.
    pub state_every_ms: u32,
}

impl Default for RaidConfig {
    fn default() -> Self {
        RaidConfig {
            max_instances: 256,
            max_tickets: 20_000,
            max_ready_checks: 1_000,
            max_board_reads: 64,
            state_every_ms: 5_000,
        }
    }
}

impl RaidConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_tickets == 0 || self.max_ready_checks == 0 || self.max_board_reads == 0 {
            return Err(
                "raid max_tickets, max_ready_checks and max_board_reads must be positive".into(),
            );
        }
        if self.state_every_ms < 100 {
            return Err("raid state_every_ms must be at least 100".into());
        }
        Ok(())
    }
}

/// The raid part's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaidStats {
    /// Raid requests from clients, and those refused by reason
    /// ([`RaidRefusal::label`]).
    pub requests: u64,
    pub refused: BTreeMap<&'static str, u64>,
    pub instances_opened: u64,
    pub instances_closed: u64,
    /// The most instances open at once.
    pub instances_peak: u64,
    /// Matches everyone accepted, and of those, any whose level spread was
    /// wider than the matchmaker allowed when it found them (never, if the
    /// matchmaker keeps its rule: the simulator checks it stays 0).
    pub matches_ready: u64,
    pub matches_too_wide: u64,
    /// Raids ended, by how.
    pub victories: u64,
    pub time_ups: u64,
    pub wipes: u64,
    /// Members inside at a victory, each owed its reward. Each is later
    /// claimed, given as the instance closed unclaimed, given at an
    /// inventory load while still owed here, left to the store (its player
    /// left, its inventory was busy or full at the close, or the store had
    /// not answered the run by then: given at the character's next load),
    /// or lost (its run was never recorded: too many waited); or it is
    /// still owed. The simulator checks the sum.
    pub rewards_owed: u64,
    pub rewards_claimed: u64,
    pub rewards_given_at_close: u64,
    pub rewards_given_at_load: u64,
    pub rewards_stored: u64,
    pub rewards_lost: u64,
    /// Owed rewards the store answered with an inventory load (or with a
    /// run recorded after its instance closed) that this node gave.
    pub rewards_from_store: u64,
    /// Runs the store recorded, and runs never sent (too many waited,
    /// [`RaidConfig::max_instances`]). A run the store fails is sent
    /// again a second later, until it is recorded.
    pub runs_recorded: u64,
    pub runs_lost: u64,
    pub boards_read: u64,
}

/// The raid queue, the instances and what the node keeps to serve them.
#[derive(Debug)]
pub(super) struct RaidLink {
    pub(super) matchmaker: Matchmaker,
    pub(super) instances: Instances,
    /// The role each character last queued in: its party's ticket uses it.
    roles: IdMap<CharacterId, Role>,
    /// Leaderboard reads waiting for the store.
    pub(super) board_reads: usize,
    pub(super) config: RaidConfig,
    pub(super) stats: RaidStats,
}

impl RaidLink {
    pub(super) fn new(config: RaidConfig, content: &crate::content::Content) -> Self {
        let kinds = content.raids.iter().map(|k| k.queue.clone()).collect();
        RaidLink {
            matchmaker: Matchmaker::new(
                kinds,
                MatchmakerLimits {
                    max_tickets: config.max_tickets as usize,
                    max_ready_checks: config.max_ready_checks as usize,
                },
            ),
            instances: Instances::default(),
            roles: IdMap::default(),
            board_reads: 0,
            config,
            stats: RaidStats::default(),
        }
    }
}

fn refusal_of(q: QueueRefusal) -> RaidRefusal {
    match q {
        QueueRefusal::UnknownRaid => RaidRefusal::UnknownRaid,
        // An empty, oversized or repeated ticket: only a party can be one.
        QueueRefusal::BadTicket | QueueRefusal::TooManyOfRole => RaidRefusal::TooManyOfRole,
        QueueRefusal::AlreadyQueued => RaidRefusal::AlreadyQueued,
        QueueRefusal::InReadyCheck => RaidRefusal::InReadyCheck,
        QueueRefusal::NoLevelGroup => RaidRefusal::NoLevelGroup,
        QueueRefusal::MixedLevelGroups => RaidRefusal::MixedLevelGroups,
        QueueRefusal::QueueFull => RaidRefusal::QueueFull,
        QueueRefusal::NotQueued => RaidRefusal::NotQueued,
        QueueRefusal::NotYourMatch => RaidRefusal::NotYourMatch,
        QueueRefusal::AlreadyAccepted => RaidRefusal::AlreadyAccepted,
    }
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_micros() / 1_000).unwrap_or(u32::MAX)
}

impl Node {
    /// The raid part's counters.
    pub fn raid_stats(&self) -> &RaidStats {
        &self.raids.stats
    }

    /// The raid queue (for tests, metrics and the simulator's invariants).
    pub fn matchmaker(&self) -> &Matchmaker {
        &self.raids.matchmaker
    }

    /// A raid request from the client on `conn`.
    pub(super) fn route_raid(&mut self, now: Instant, conn: ConnId, request: ClientRaid) {
        let Some(player) = self.player_of(conn) else {
            return;
        };
        let Some(character) = self
            .players
            .get(player)
            .filter(|p| p.location.is_some())
            .and_then(|p| p.character)
        else {
            return;
        };
        self.raids.stats.requests += 1;
        let result = match request {
            ClientRaid::Queue { raid, role, party } => {
                self.raid_queue(now, character, raid, role, party)
            }
            ClientRaid::LeaveQueue => self
                .raids
                .matchmaker
                .leave(character)
                .map_err(refusal_of)
                .map(|()| self.carry_match_events(now, LeftQueue::Asked)),
            ClientRaid::Accept { ready } => self
                .raids
                .matchmaker
                .accept(character, MatchId(ready))
                .map_err(refusal_of)
                .map(|()| self.carry_match_events(now, LeftQueue::ReadyCheckFailed)),
            ClientRaid::Decline { ready } => self
                .raids
                .matchmaker
                .decline(character, MatchId(ready))
                .map_err(refusal_of)
                .map(|()| self.carry_match_events(now, LeftQueue::ReadyCheckFailed)),
            ClientRaid::Status => match self.queue_view(now, character) {
                Some(view) => {
                    self.send_to_player(now, player, &ServerMsg::Raid(ServerRaid::Queued(view)));
                    Ok(())
                }
                None => Err(RaidRefusal::NotQueued),
            },
            ClientRaid::Enter { instance } => self.enter_instance(now, character, instance),
            ClientRaid::Leave => self.leave_instance(now, player, character),
            ClientRaid::ClaimReward { instance } => self.claim_reward(now, character, instance),
            ClientRaid::Leaderboard {
                raid,
                level_group,
                board,
                top,
            } => self.read_board(now, player, character, raid, level_group, board, top),
        };
        if let Err(reason) = result {
            *self.raids.stats.refused.entry(reason.label()).or_default() += 1;
            self.send_to_player(
                now,
                player,
                &ServerMsg::Raid(ServerRaid::Refused { reason }),
            );
        }
    }

    fn raid_queue(
        &mut self,
        now: Instant,
        character: CharacterId,
        raid: u16,
        role: Role,
        party: bool,
    ) -> Result<(), RaidRefusal> {
        let kind = self.world.content().raids.get(raid as usize);
        if !kind.is_some_and(|k| self.world.has_map(&k.fight.map)) {
            return Err(RaidRefusal::UnknownRaid);
        }
        if self.raids.instances.of(character).is_some() {
            return Err(RaidRefusal::InInstance);
        }
        if self.raids.instances.len() >= self.raids.config.max_instances as usize {
            return Err(RaidRefusal::InstancesFull);
        }
        let members: Vec<CharacterId> = if party {
            let (leader, members) = self
                .social
                .social
                .party_of(character)
                .ok_or(RaidRefusal::NotInParty)?;
            if leader != character {
                return Err(RaidRefusal::NotPartyLeader);
            }
            members.to_vec()
        } else {
            vec![character]
        };
        let mut entrants = Vec::with_capacity(members.len());
        for &m in &members {
            let here = self
                .player_of_character(m)
                .and_then(|p| self.players.get(p))
                .is_some_and(|p| p.conn.is_some() && p.location.is_some());
            if !here {
                return Err(RaidRefusal::MemberAway);
            }
            if self.raids.instances.of(m).is_some() {
                return Err(RaidRefusal::InInstance);
            }
            let level = self.saves.latest(m).map_or(1, |(_, s)| s.level);
            let role = if m == character {
                role
            } else {
                self.raids.roles.get(&m).copied().unwrap_or(Role::Damage)
            };
            entrants.push(Entrant {
                character: m,
                level,
                role,
            });
        }
        self.raids
            .matchmaker
            .enqueue(now, raid, entrants)
            .map_err(refusal_of)?;
        self.raids.roles.insert(character, role);
        for m in members {
            self.tell_queued(now, m);
        }
        Ok(())
    }

    fn queue_view(&self, now: Instant, character: CharacterId) -> Option<QueueView> {
        let s = self.raids.matchmaker.status(now, character)?;
        Some(QueueView {
            raid: s.kind,
            level_group: s.group,
            ahead: s.ahead,
            waited_ms: millis(s.waited),
            estimate_ms: s.estimate.map(millis),
        })
    }

    fn tell_queued(&mut self, now: Instant, character: CharacterId) {
        let Some(view) = self.queue_view(now, character) else {
            return;
        };
        self.send_to_character(now, character, &ServerMsg::Raid(ServerRaid::Queued(view)));
    }

    /// Sends `msg` to the player playing `character`, if it is here.
    pub(super) fn send_to_character(
        &mut self,
        now: Instant,
        character: CharacterId,
        msg: &ServerMsg,
    ) {
        if let Some(player) = self.player_of_character(character) {
            self.send_to_player(now, player, msg);
        }
    }

    /// The player playing `character` on this node.
    pub(super) fn player_of_character(&self, character: CharacterId) -> Option<PlayerId> {
        self.raids
            .instances
            .player_of(character)
            .or_else(|| self.social_player_of(character))
    }

    /// The matchmaker's decisions since the last call, told to their
    /// players; a cancelled ticket's players are told `cancelled`.
    pub(super) fn carry_match_events(&mut self, now: Instant, cancelled: LeftQueue) {
        for event in self.raids.matchmaker.take_events() {
            match event {
                MatchEvent::Found {
                    id,
                    kind,
                    members,
                    deadline,
                } => {
                    let msg = ServerMsg::Raid(ServerRaid::ReadyCheck {
                        ready: id.0,
                        raid: kind,
                        players: members.len() as u8,
                        expires_ms: millis(deadline.saturating_since(now)),
                    });
                    for m in members {
                        self.send_to_character(now, m, &msg);
                    }
                }
                MatchEvent::Ready(ready) => self.open_instance(now, ready),
                MatchEvent::Failed {
                    id,
                    returned,
                    removed,
                } => {
                    for (list, requeued) in [(returned, true), (removed, false)] {
                        let failed = ServerMsg::Raid(ServerRaid::ReadyCheckFailed {
                            ready: id.0,
                            requeued,
                        });
                        for m in list {
                            self.send_to_character(now, m, &failed);
                            if requeued {
                                self.tell_queued(now, m);
                            } else {
                                let why = LeftQueue::ReadyCheckFailed;
                                let left = ServerMsg::Raid(ServerRaid::LeftQueue { why });
                                self.send_to_character(now, m, &left);
                            }
                        }
                    }
                }
                MatchEvent::Cancelled { members, .. } => {
                    let msg = ServerMsg::Raid(ServerRaid::LeftQueue { why: cancelled });
                    for m in members {
                        self.send_to_character(now, m, &msg);
                    }
                }
            }
        }
    }

    /// The raid part's share of the tick: the queue matches (never more
    /// ready checks than free instances), then the instances step.
    pub(super) fn raid_tick(&mut self, now: Instant) {
        let free =
            (self.raids.config.max_instances as usize).saturating_sub(self.raids.instances.len());
        let checks = free.min(self.raids.config.max_ready_checks as usize);
        self.raids.matchmaker.set_max_ready_checks(checks);
        self.raids.matchmaker.tick(now);
        self.carry_match_events(now, LeftQueue::MemberLeft);
        self.step_instances(now);
        self.send_runs_due(now);
    }

    /// A character left the game: out of the queue and its instance.
    pub(super) fn raid_left(&mut self, now: Instant, character: CharacterId) {
        self.raids.matchmaker.gone(character);
        self.carry_match_events(now, LeftQueue::MemberLeft);
        self.raids.roles.remove(&character);
        self.instance_member_gone(now, character);
    }

    #[allow(clippy::too_many_arguments)] // one per field of the request
    fn read_board(
        &mut self,
        now: Instant,
        player: PlayerId,
        character: CharacterId,
        raid: u16,
        level_group: u8,
        board: Board,
        top: u8,
    ) -> Result<(), RaidRefusal> {
        let kind = (self.world.content().raids.get(raid as usize))
            .filter(|k| (level_group as usize) < k.queue.level_groups.len())
            .ok_or(RaidRefusal::UnknownRaid)?;
        if self.raids.board_reads >= self.raids.config.max_board_reads as usize {
            return Err(RaidRefusal::BoardBusy);
        }
        let change = Change::LoadLeaderboard {
            raid: kind.name.clone(),
            level_group,
            board,
            top: u16::from(top.min(MAX_BOARD_TOP)),
            character: (board == Board::Players).then_some(character),
        };
        let purpose = Purpose::Board {
            player,
            raid,
            level_group,
            board,
        };
        self.persist(now, change, purpose)
            .ok_or(RaidRefusal::BoardBusy)?;
        self.raids.board_reads += 1;
        Ok(())
    }

    /// The store answered a leaderboard read.
    pub(super) fn board_read(
        &mut self,
        now: Instant,
        player: PlayerId,
        (raid, level_group, board): (u16, u8, Board),
        result: Result<Reply, StoreError>,
    ) {
        self.raids.board_reads = self.raids.board_reads.saturating_sub(1);
        let msg = match result {
            Ok(Reply::Leaderboard { top, own }) => {
                self.raids.stats.boards_read += 1;
                ServerRaid::Leaderboard {
                    raid,
                    level_group,
                    board,
                    top: top.into_iter().map(row).collect(),
                    own: own.map(row),
                }
            }
            _ => {
                let reason = RaidRefusal::BoardUnavailable;
                *self.raids.stats.refused.entry(reason.label()).or_default() += 1;
                ServerRaid::Refused { reason }
            }
        };
        self.send_to_player(now, player, &ServerMsg::Raid(msg));
    }
}

fn row(e: BoardEntry) -> BoardRow {
    BoardRow {
        rank: e.rank,
        names: e.names,
        cleared: e.score.cleared,
        time_ms: e.score.time_ms,
        deaths: e.score.deaths,
        damage: e.score.damage,
    }
}
