//! The raid's end and its reward. The members inside a won raid are owed
//! it; the run goes to the store with the rewards it owes (its scores for
//! the leaderboards, and one owed row per winner), and only when the store
//! has it is the end told. Each owed reward is then given once, by an
//! economy transaction that names its run (`CommitTx::grants`), so the
//! store marks it given in the same commit: claimed, given as the instance
//! closes, or given when the character's inventory is next loaded (the
//! player left, the inventory was busy, the node crashed). A crash at any
//! step neither loses an owed reward nor gives one twice.

use super::super::Node;
use super::Reward;
use crate::economy::actions;
use crate::ids::CharacterId;
use crate::node::economy::{TxName, TxRefusal, Why};
use crate::node::store::Purpose;
use crate::node::TxKind;
use crate::persist::{Change, OwedReward, RaidReward, RaidRun, Reply, StoreError};
use crate::protocol::{RaidEnd, RaidRefusal, RewardView, ServerMsg, ServerRaid};
use crate::raid::RaidScore;
use crate::time::{Duration, Instant};

/// A run the store failed is sent again this much later.
const RUN_RETRY_MS: u64 = 1_000;

/// A run on its way to the store, and the end to tell once it is there.
#[derive(Debug)]
pub(in crate::node) struct PendingRun {
    run: Box<RaidRun>,
    instance: u64,
    /// Each member inside at the end, and what it is told.
    ended: Vec<(CharacterId, ServerRaid)>,
}

impl Node {
    /// The raid in instance `id` ended: members inside are owed the reward
    /// of a victory, and the run goes to the store; the members are told
    /// when it is there. The instance closes after the raid's close time.
    pub(super) fn raid_ended(&mut self, now: Instant, id: u64, end: RaidEnd) {
        let Some(i) = self.raids.instances.open.get(&id) else {
            return;
        };
        let zone = i.zone;
        let Some(view) = self.world.zone(zone).and_then(|z| z.encounter()) else {
            return;
        };
        let elapsed_ms = view.elapsed_ms;
        let won = end == RaidEnd::Victory;
        let reward = RaidReward {
            gold: i.fight.reward_gold,
            item: i.fight.reward_item,
        };
        let closes_in = i.fight.close_after_ms;
        let mut group = RaidScore {
            cleared: won,
            time_ms: elapsed_ms,
            at: self.wall_ms(now),
            ..RaidScore::default()
        };
        let mut players = Vec::with_capacity(i.members.len());
        let mut owed = Vec::new();
        let mut ended = Vec::new();
        for m in &i.members {
            let tally = (self.world.zone(zone))
                .map(|z| z.tally(m.player))
                .unwrap_or_default();
            group.deaths += tally.deaths;
            group.damage += tally.damage;
            let score = RaidScore {
                deaths: tally.deaths,
                damage: tally.damage,
                ..group
            };
            players.push((m.character, m.name.clone(), score));
            if !m.inside {
                continue;
            }
            if won {
                owed.push(m.character);
            }
            let msg = ServerRaid::Ended {
                instance: id,
                end,
                time_ms: elapsed_ms,
                tally,
                reward: won.then(|| reward_view(&reward)),
                closes_in_ms: closes_in,
            };
            ended.push((m.character, msg));
        }
        let raid = self.world.content().raids[i.kind as usize].name.clone();
        let level_group = i.level_group;
        self.raids.instances.next_run += 1;
        // Unique across restarts while the wall clock does not go back: its
        // millisecond, and a counter for runs ending in the same one.
        let run_id = (self.wall_ms(now) << 20) | (self.raids.instances.next_run & 0xf_ffff);
        let Some(i) = self.raids.instances.open.get_mut(&id) else {
            return;
        };
        i.end = Some(end);
        i.close_at = Some(now + Duration::from_millis(u64::from(closes_in)));
        i.run = Some(run_id);
        let stats = &mut self.raids.stats;
        match end {
            RaidEnd::Victory => stats.victories += 1,
            RaidEnd::TimeUp => stats.time_ups += 1,
            RaidEnd::Wiped => stats.wipes += 1,
        }
        for m in &mut i.members {
            if won && m.inside {
                m.reward = Reward::Recording;
                stats.rewards_owed += 1;
            }
        }
        let run = RaidRun {
            id: run_id,
            raid,
            level_group,
            group,
            players,
            owed,
            reward,
        };
        self.record_run(now, id, run, ended);
    }

    /// A finished run goes to the store, sent again until it is there; at
    /// most as many wait as instances may be open. A run that cannot wait
    /// is never recorded: its members are told now, owed nothing.
    fn record_run(
        &mut self,
        now: Instant,
        instance: u64,
        run: RaidRun,
        ended: Vec<(CharacterId, ServerRaid)>,
    ) {
        let runs = &mut self.raids.instances.runs;
        if runs.len() >= self.raids.config.max_instances as usize {
            self.raids.stats.runs_lost += 1;
            if let Some(i) = self.raids.instances.open.get_mut(&instance) {
                for m in &mut i.members {
                    if m.reward == Reward::Recording {
                        m.reward = Reward::None;
                        self.raids.stats.rewards_lost += 1;
                    }
                }
            }
            for (character, mut msg) in ended {
                if let ServerRaid::Ended { reward, .. } = &mut msg {
                    *reward = None;
                }
                self.send_to_character(now, character, &ServerMsg::Raid(msg));
            }
            return;
        }
        let id = run.id;
        let pending = PendingRun {
            run: Box::new(run),
            instance,
            ended,
        };
        runs.insert(id, pending);
        self.send_run(now, id);
    }

    fn send_run(&mut self, now: Instant, id: u64) {
        let Some(p) = self.raids.instances.runs.get(&id) else {
            return;
        };
        let change = Change::RecordRaid { run: p.run.clone() };
        if self
            .persist(now, change, Purpose::RaidRun { run: id })
            .is_none()
        {
            self.run_recorded(now, id, Err(StoreError::Unavailable));
        }
    }

    /// Runs whose retry is due are sent again.
    pub(in crate::node) fn send_runs_due(&mut self, now: Instant) {
        while let Some((_, id)) = self.raids.instances.run_retries.pop_due(now) {
            self.send_run(now, id);
        }
    }

    /// The store answered a run's record: once it is there, the rewards
    /// are owed (claimable while the instance is open) and the members
    /// inside are told the end. A failure sends it again a second later.
    pub(in crate::node) fn run_recorded(
        &mut self,
        now: Instant,
        id: u64,
        result: Result<Reply, StoreError>,
    ) {
        if result.is_err() {
            if self.raids.instances.runs.contains_key(&id) {
                let at = now + Duration::from_millis(RUN_RETRY_MS);
                self.raids.instances.run_retries.set(id, Some(at));
            }
            return;
        }
        let Some(p) = self.raids.instances.runs.remove(&id) else {
            return;
        };
        self.raids.stats.runs_recorded += 1;
        self.event(crate::node::NodeEvent::RaidRunRecorded {
            run: id,
            owed: p.run.owed.clone(),
        });
        for &c in &p.run.owed {
            match self.raids.instances.member_mut(c) {
                Some((instance, i, at)) if instance == p.instance => {
                    let m = &mut i.members[at];
                    if m.reward == Reward::Recording {
                        if m.in_game {
                            m.reward = Reward::Owed;
                        } else {
                            m.reward = Reward::None;
                            self.raids.stats.rewards_stored += 1;
                        }
                    }
                }
                // The instance closed first (which left the reward to the
                // store): given now if the character plays here.
                _ => {
                    let owed = OwedReward {
                        run: id,
                        reward: p.run.reward.clone(),
                    };
                    self.give_stored_rewards(now, c, vec![owed]);
                }
            }
        }
        for (character, msg) in p.ended {
            let inside = (self.raids.instances.member_mut(character))
                .is_some_and(|(instance, i, at)| instance == p.instance && i.members[at].inside);
            if inside {
                self.send_to_character(now, character, &ServerMsg::Raid(msg));
            }
        }
    }

    pub(in crate::node) fn claim_reward(
        &mut self,
        now: Instant,
        character: CharacterId,
        instance: u64,
    ) -> Result<(), RaidRefusal> {
        self.raids.instances.matched_into(character, instance)?;
        self.give_reward(now, character)?;
        self.raids.stats.rewards_claimed += 1;
        self.send_to_character(
            now,
            character,
            &ServerMsg::Raid(ServerRaid::RewardClaimed { instance }),
        );
        Ok(())
    }

    /// Gives `character` the reward its instance owes it, once.
    pub(super) fn give_reward(
        &mut self,
        now: Instant,
        character: CharacterId,
    ) -> Result<(), RaidRefusal> {
        let (_, i, at) =
            (self.raids.instances.member_mut(character)).ok_or(RaidRefusal::NoReward)?;
        match i.members[at].reward {
            Reward::None => return Err(RaidRefusal::NoReward),
            Reward::Given => return Err(RaidRefusal::AlreadyClaimed),
            // The store does not have the run yet.
            Reward::Recording => return Err(RaidRefusal::Busy),
            Reward::Owed => {}
        }
        let run = i.run.ok_or(RaidRefusal::NoReward)?;
        let reward = RaidReward {
            gold: i.fight.reward_gold,
            item: i.fight.reward_item,
        };
        let owed = [OwedReward { run, reward }];
        self.give_owed(now, character, &owed)
            .map_err(|_| RaidRefusal::Busy)?;
        if let Some((_, i, at)) = self.raids.instances.member_mut(character) {
            i.members[at].reward = Reward::Given;
        }
        Ok(())
    }

    /// Rewards the store owes `character` (answered with its inventory, or
    /// a run recorded after its instance closed): given in one transaction.
    /// If it cannot be now (busy, full), the store keeps them owed for the
    /// next load.
    pub(in crate::node) fn give_stored_rewards(
        &mut self,
        now: Instant,
        character: CharacterId,
        owed: Vec<OwedReward>,
    ) {
        let playing = self.held(character).is_some_and(|h| h.playing);
        if owed.is_empty() || !playing || self.give_owed(now, character, &owed).is_err() {
            return;
        }
        let stats = &mut self.raids.stats;
        stats.rewards_from_store += owed.len() as u64;
        let Some((_, i, at)) = self.raids.instances.member_mut(character) else {
            return;
        };
        let m = &mut i.members[at];
        let still = matches!(m.reward, Reward::Owed | Reward::Recording);
        if still && owed.iter().any(|o| Some(o.run) == i.run) {
            m.reward = Reward::Given;
            stats.rewards_given_at_load += 1;
        }
    }

    /// One economy transaction giving `character` the rewards of `owed`,
    /// naming their runs so the store marks them given with it.
    fn give_owed(
        &mut self,
        now: Instant,
        character: CharacterId,
        owed: &[OwedReward],
    ) -> Result<TxName, TxRefusal> {
        let inv = self.inventory(character).ok_or(TxRefusal::Busy)?;
        let gold = owed.iter().map(|o| o.reward.gold).sum();
        let items: Vec<_> = owed.iter().filter_map(|o| o.reward.item).collect();
        let tx = actions::raid_reward(character, inv, &items, gold);
        let runs = owed.iter().map(|o| o.run).collect();
        self.commit_granting(now, tx, Why::of(TxKind::Raid), runs)
    }

    /// Milliseconds since the unix epoch by the wall clock the adapter
    /// passed in ([`Node::set_wall_clock`]; the node's own clock without
    /// one): a raid run's `at`, which breaks ties on the leaderboards.
    fn wall_ms(&self, now: Instant) -> u64 {
        self.wallets.unix_ms_at_zero + now.as_micros() / 1_000
    }
}

fn reward_view(r: &RaidReward) -> RewardView {
    RewardView {
        gold: r.gold,
        items: r.item.into_iter().collect(),
    }
}
