//! The raid's end and its reward: the members inside a won raid are owed
//! it, each is given it once (claimed, or as the instance closes), and
//! every run goes to the store for the leaderboards.

use super::super::Node;
use super::Reward;
use crate::content::RaidFight;
use crate::economy::actions;
use crate::ids::{CharacterId, PlayerId};
use crate::persist::RaidRun;
use crate::protocol::{RaidEnd, RaidRefusal, RewardView, ServerMsg, ServerRaid};
use crate::raid::RaidScore;
use crate::time::{Duration, Instant};

impl Node {
    /// The raid in instance `id` ended: members inside are owed the reward
    /// of a victory, everyone is told, the run is recorded, and the
    /// instance closes after the raid's close time.
    pub(super) fn raid_ended(&mut self, now: Instant, id: u64, end: RaidEnd) {
        let Some(i) = self.raids.instances.open.get_mut(&id) else {
            return;
        };
        i.end = Some(end);
        let closes_in = i.fight.close_after_ms;
        i.close_at = Some(now + Duration::from_millis(u64::from(closes_in)));
        let stats = &mut self.raids.stats;
        match end {
            RaidEnd::Victory => stats.victories += 1,
            RaidEnd::TimeUp => stats.time_ups += 1,
            RaidEnd::Wiped => stats.wipes += 1,
        }
        let reward = RewardView {
            gold: i.fight.reward_gold,
            items: reward_items(&i.fight),
        };
        for m in &mut i.members {
            if end == RaidEnd::Victory && m.inside {
                m.reward = Reward::Owed;
                stats.rewards_owed += 1;
            }
        }
        let zone = i.zone;
        let Some(view) = self.world.zone(zone).and_then(|z| z.encounter()) else {
            return;
        };
        let mut players: Vec<(CharacterId, String, RaidScore)> = Vec::new();
        let members: Vec<(PlayerId, CharacterId, String, bool, bool)> = (i.members.iter())
            .map(|m| {
                (
                    m.player,
                    m.character,
                    m.name.clone(),
                    m.inside,
                    m.reward == Reward::Owed,
                )
            })
            .collect();
        let at = self.wall_ms(now);
        let mut group = RaidScore {
            cleared: end == RaidEnd::Victory,
            time_ms: view.elapsed_ms,
            deaths: 0,
            damage: 0,
            at,
        };
        for (player, character, name, inside, owed) in members {
            let tally = self
                .world
                .zone(zone)
                .map(|z| z.tally(player))
                .unwrap_or_default();
            group.deaths += tally.deaths;
            group.damage += tally.damage;
            players.push((
                character,
                name,
                RaidScore {
                    deaths: tally.deaths,
                    damage: tally.damage,
                    ..group
                },
            ));
            if !inside {
                continue;
            }
            let reward = owed.then(|| reward.clone());
            let msg = ServerRaid::Ended {
                instance: id,
                end,
                time_ms: view.elapsed_ms,
                tally,
                reward,
                closes_in_ms: closes_in,
            };
            self.send_to_player(now, player, &ServerMsg::Raid(msg));
        }
        let Some(i) = self.raids.instances.open.get(&id) else {
            return;
        };
        let run = RaidRun {
            raid: self.world.content().raids[i.kind as usize].name.clone(),
            level_group: i.level_group,
            group,
            players,
            ..RaidRun::default()
        };
        self.record_run(now, run);
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

    /// Gives `character` the reward it is owed, once: an economy
    /// transaction (committed exactly once by the economy's name for it).
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
            Reward::Owed => {}
        }
        let (gold, items) = (i.fight.reward_gold, reward_items(&i.fight));
        let inv = self.inventory(character).ok_or(RaidRefusal::Busy)?;
        let tx = actions::raid_reward(character, inv, &items, gold);
        let why = crate::node::economy::Why::of(crate::node::TxKind::Raid);
        self.commit(now, tx, why).map_err(|_| RaidRefusal::Busy)?;
        if let Some((_, i, at)) = self.raids.instances.member_mut(character) {
            i.members[at].reward = Reward::Given;
        }
        Ok(())
    }

    /// Milliseconds since the unix epoch by the wall clock the adapter
    /// passed in ([`Node::set_wall_clock`]; the node's own clock without
    /// one): a raid run's `at`, which breaks ties on the leaderboards.
    fn wall_ms(&self, now: Instant) -> u64 {
        self.wallets.unix_ms_at_zero + now.as_micros() / 1_000
    }
}

pub(super) fn reward_items(fight: &RaidFight) -> Vec<(crate::content::ItemDefId, u32)> {
    fight.reward_item.into_iter().collect()
}
