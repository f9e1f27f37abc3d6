//! Raid instances: a matched group's own zone of its raid's map, opened
//! when everyone accepted, entered and left through the same transfer path
//! as portals, closed (its zone dropped) when the raid has ended and its
//! close time comes, or as soon as nobody is left in it.
//!
//! Members keep their place across a dropped connection (the character
//! stays in the zone for the grace period; a resume puts the player back
//! and it is sent the raid again). While inside, a character is saved at
//! the place it came from, so a crash or a logout never leaves it in an
//! instance that no longer exists. The raid's reward is owed to everyone
//! in the instance when the boss dies, written to the store with the run
//! (only then is the end told), and given once, by the one economy
//! transaction that marks it given in the store: claimed, given as the
//! instance closes, or, if neither happened here (the player left, the
//! node crashed), at the character's next inventory load.

use super::{Location, Node};
use crate::content::RaidFight;
use crate::ids::{CharacterId, IdMap, PlayerId, ZoneId};
use crate::persist::Place;
use crate::protocol::{RaidEnd, RaidRefusal, ServerMsg, ServerRaid};
use crate::raid::ReadyMatch;
use crate::time::{Duration, Instant};
use crate::zone::EncounterEvent;
use std::collections::BTreeMap;
use std::sync::Arc;

mod rewards;
mod view;
pub use view::InstanceInfo;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reward {
    None,
    /// Won; the run (and so the reward) is on its way to the store.
    Recording,
    /// The store owes it: claimable here.
    Owed,
    /// Given by a transaction of this node (or left to the store to give
    /// at the next load: then `None` again, and counted stored).
    Given,
}

#[derive(Debug)]
struct Member {
    character: CharacterId,
    player: PlayerId,
    name: String,
    /// Where it came from, and goes back to.
    back: Place,
    /// Its character is in the instance's zone.
    inside: bool,
    /// Its player is still on this node.
    in_game: bool,
    reward: Reward,
}

#[derive(Debug)]
struct Instance {
    kind: u16,
    level_group: u8,
    /// The match's level spread, and the spread allowed when it was found.
    spread: u16,
    allowed: u16,
    zone: ZoneId,
    fight: Arc<RaidFight>,
    members: Vec<Member>,
    next_state: Instant,
    end: Option<RaidEnd>,
    close_at: Option<Instant>,
    /// The id of its run once ended ([`crate::persist::RaidRun::id`]).
    run: Option<u64>,
}

/// Every open instance, and which one each matched character belongs to.
#[derive(Debug, Default)]
pub(super) struct Instances {
    open: BTreeMap<u64, Instance>,
    of: IdMap<CharacterId, u64>,
    next: u64,
    /// Ended raids' runs on their way to the store, by run id.
    runs: BTreeMap<u64, rewards::PendingRun>,
    /// Runs the store failed, to send again.
    run_retries: crate::timers::TimerSet<u64>,
    next_run: u64,
}

impl Instances {
    pub(super) fn len(&self) -> usize {
        self.open.len()
    }

    /// The instance `character` was matched into, while it is open.
    pub(super) fn of(&self, character: CharacterId) -> Option<u64> {
        self.of.get(&character).copied()
    }

    /// `Ok` if `character` was matched into open instance `instance`.
    pub(super) fn matched_into(
        &self,
        character: CharacterId,
        instance: u64,
    ) -> Result<(), RaidRefusal> {
        match self.of(character) {
            Some(id) if id == instance => Ok(()),
            _ => Err(RaidRefusal::NotYourInstance),
        }
    }

    pub(super) fn player_of(&self, character: CharacterId) -> Option<PlayerId> {
        let i = self.open.get(self.of.get(&character)?)?;
        let m = i.members.iter().find(|m| m.character == character)?;
        m.in_game.then_some(m.player)
    }

    /// Where a character inside an instance is saved: where it came from.
    pub(super) fn saved_place(&self, character: CharacterId, zone: ZoneId) -> Option<Place> {
        let i = self.open.get(self.of.get(&character)?)?;
        let m = i.members.iter().find(|m| m.character == character)?;
        (i.zone == zone).then(|| m.back.clone())
    }

    fn member_mut(&mut self, character: CharacterId) -> Option<(u64, &mut Instance, usize)> {
        let id = *self.of.get(&character)?;
        let i = self.open.get_mut(&id)?;
        let at = i.members.iter().position(|m| m.character == character)?;
        Some((id, i, at))
    }
}

impl Node {
    /// Everyone accepted `ready`: its instance opens and they are moved in.
    pub(super) fn open_instance(&mut self, now: Instant, ready: ReadyMatch) {
        let content = Arc::clone(self.world.content());
        let Some(kind) = content.raids.get(ready.kind as usize) else {
            return;
        };
        let fight = Arc::new(kind.fight.clone());
        let Some(zone) = self.world.open_instance(&fight.map) else {
            // The queue opens no more ready checks than free instances, so
            // this is not reached; if it were, the group is told and counted.
            for e in &ready.members {
                let reason = RaidRefusal::InstancesFull;
                *self.raids.stats.refused.entry(reason.label()).or_default() += 1;
                let msg = ServerMsg::Raid(ServerRaid::Refused { reason });
                self.send_to_character(now, e.character, &msg);
            }
            return;
        };
        if let Some(z) = self.world.zone_mut(zone) {
            z.start_encounter(Arc::clone(&fight));
        }
        self.raids.instances.next += 1;
        let id = self.raids.instances.next;
        let mut members = Vec::with_capacity(ready.members.len());
        for e in &ready.members {
            let Some(player) = self.player_of_character(e.character) else {
                continue;
            };
            let Some(back) = self.place_of(player) else {
                continue;
            };
            let name = (self.saves.record(e.character)).map_or_else(String::new, |r| r.name);
            members.push(Member {
                character: e.character,
                player,
                name,
                back,
                inside: false,
                in_game: true,
                reward: Reward::None,
            });
        }
        let every = Duration::from_millis(u64::from(self.raids.config.state_every_ms));
        self.raids.instances.open.insert(
            id,
            Instance {
                kind: ready.kind,
                level_group: ready.group,
                spread: ready.spread,
                allowed: ready.allowed,
                zone,
                fight,
                members,
                next_state: now + every,
                end: None,
                close_at: None,
                run: None,
            },
        );
        self.raids.stats.instances_opened += 1;
        self.raids.stats.matches_ready += 1;
        if ready.spread > ready.allowed {
            self.raids.stats.matches_too_wide += 1;
        }
        let open = self.raids.instances.len() as u64;
        self.raids.stats.instances_peak = self.raids.stats.instances_peak.max(open);
        // Only those still here: one not found is not a member, and is
        // not held in the instance.
        let characters: Vec<CharacterId> = (self.raids.instances.open[&id].members.iter())
            .map(|m| m.character)
            .collect();
        for c in characters {
            self.raids.instances.of.insert(c, id);
            self.move_in(now, id, c);
        }
        self.close_if_empty(now, id);
    }

    /// Where a player's character stands now (its map, channel, position).
    fn place_of(&self, player: PlayerId) -> Option<Place> {
        let at = self.players.get(player)?.location?;
        let (map, channel) = self.world.channel_of(at.zone)?;
        let pos = self.world.zone(at.zone)?.position(at.entity)?;
        Some(Place { map, channel, pos })
    }

    fn move_in(&mut self, now: Instant, id: u64, character: CharacterId) {
        let Some((_, i, at)) = self.raids.instances.member_mut(character) else {
            return;
        };
        let (zone, player) = (i.zone, i.members[at].player);
        if self.move_to_zone(now, player, zone).is_err() {
            return;
        }
        if let Some((_, i, at)) = self.raids.instances.member_mut(character) {
            i.members[at].inside = true;
        }
        if let Some(view) = self.raid_view(id) {
            self.send_to_player(now, player, &ServerMsg::Raid(ServerRaid::Entered(view)));
        }
    }

    /// A resume put a player back in the world: if that is an instance, its
    /// client is sent the raid again.
    pub(super) fn raid_reentered(
        &mut self,
        now: Instant,
        player: PlayerId,
        character: CharacterId,
    ) {
        let Some(id) = self.raids.instances.of(character) else {
            return;
        };
        let inside = (self.raids.instances.member_mut(character)).is_some_and(|(_, i, at)| {
            i.members[at].player = player;
            i.members[at].inside
        });
        if let Some(view) = self.raid_view(id).filter(|_| inside) {
            self.send_to_player(now, player, &ServerMsg::Raid(ServerRaid::Entered(view)));
        }
    }

    pub(super) fn enter_instance(
        &mut self,
        now: Instant,
        character: CharacterId,
        instance: u64,
    ) -> Result<(), RaidRefusal> {
        self.raids.instances.matched_into(character, instance)?;
        let (_, i, at) =
            (self.raids.instances.member_mut(character)).ok_or(RaidRefusal::NotYourInstance)?;
        if i.members[at].inside {
            return Err(RaidRefusal::InInstance);
        }
        if i.end.is_some() {
            return Err(RaidRefusal::RaidOver);
        }
        self.move_in(now, instance, character);
        Ok(())
    }

    pub(super) fn leave_instance(
        &mut self,
        now: Instant,
        player: PlayerId,
        character: CharacterId,
    ) -> Result<(), RaidRefusal> {
        let (id, i, at) = (self.raids.instances.member_mut(character))
            .filter(|(_, i, at)| i.members[*at].inside)
            .ok_or(RaidRefusal::NotInInstance)?;
        let back = i.members[at].back.clone();
        self.move_out(now, id, player, character, back);
        self.close_if_empty(now, id);
        Ok(())
    }

    /// Takes a member's character back where it came from (alive).
    fn move_out(
        &mut self,
        now: Instant,
        id: u64,
        player: PlayerId,
        character: CharacterId,
        back: Place,
    ) {
        if let Some(Location { zone, entity }) = self.players.get(player).and_then(|p| p.location) {
            if let Some(z) = self.world.zone_mut(zone) {
                z.revive(entity);
            }
        }
        if let Some((_, i, at)) = self.raids.instances.member_mut(character) {
            i.members[at].inside = false;
        }
        let moved = self
            .relocate(now, player, &back.map, Some(back.channel), Some(back.pos))
            .or_else(|_| self.relocate(now, player, &back.map, None, Some(back.pos)))
            .or_else(|_| {
                let start = self.world.start_map().to_owned();
                self.relocate(now, player, &start, None, None)
            });
        match moved {
            Ok(()) => self.send_to_player(
                now,
                player,
                &ServerMsg::Raid(ServerRaid::Left { instance: id }),
            ),
            // Nowhere to put it (the world full everywhere): it is still
            // inside, and a close waits for the next tick.
            Err(_) => {
                if let Some((_, i, at)) = self.raids.instances.member_mut(character) {
                    i.members[at].inside = true;
                }
            }
        }
    }

    /// A character was moved out of zone `zone` by a path other than the
    /// raid's own (an operator's transfer): if that is its instance's zone,
    /// it is no longer inside, is told it left, and the instance closes if
    /// nobody is left in it. (The raid's own moves mark it first.)
    pub(super) fn instance_zone_left(
        &mut self,
        now: Instant,
        player: PlayerId,
        character: CharacterId,
        zone: ZoneId,
    ) {
        let Some((id, i, at)) = self.raids.instances.member_mut(character) else {
            return;
        };
        if i.zone != zone || !i.members[at].inside {
            return;
        }
        i.members[at].inside = false;
        let left = ServerMsg::Raid(ServerRaid::Left { instance: id });
        self.send_to_player(now, player, &left);
        self.close_if_empty(now, id);
    }

    /// A member's player left the game (its character already out of the
    /// world, saved where it came from).
    pub(super) fn instance_member_gone(&mut self, now: Instant, character: CharacterId) {
        let Some((id, i, at)) = self.raids.instances.member_mut(character) else {
            return;
        };
        let m = &mut i.members[at];
        m.inside = false;
        m.in_game = false;
        // The store gives it at the character's next load (one still
        // `Recording` is settled when the store answers, or at the close).
        if m.reward == Reward::Owed {
            m.reward = Reward::None;
            self.raids.stats.rewards_stored += 1;
        }
        self.close_if_empty(now, id);
    }

    fn close_if_empty(&mut self, now: Instant, id: u64) {
        let empty = (self.raids.instances.open.get(&id))
            .is_some_and(|i| i.members.iter().all(|m| !m.inside));
        if empty {
            self.close_instance(now, id);
        }
    }

    /// Instances step after the zones' tick: their encounters' news to the
    /// members, the periodic state, and the closes that are due.
    pub(super) fn step_instances(&mut self, now: Instant) {
        let ids: Vec<u64> = self.raids.instances.open.keys().copied().collect();
        let every = Duration::from_millis(u64::from(self.raids.config.state_every_ms));
        for id in ids {
            let Some(i) = self.raids.instances.open.get_mut(&id) else {
                continue;
            };
            let zone = i.zone;
            let mut state_due = i.next_state <= now;
            if state_due {
                i.next_state = now + every;
            }
            let events =
                (self.world.zone_mut(zone)).map_or_else(Vec::new, |z| z.take_encounter_events());
            for event in events {
                match event {
                    EncounterEvent::Changed => state_due = true,
                    EncounterEvent::Warning {
                        center,
                        radius,
                        lands_in_ms,
                        damage,
                    } => {
                        let msg = ServerRaid::AreaWarning {
                            center,
                            radius,
                            lands_in_ms,
                            damage,
                        };
                        self.tell_inside(now, id, &ServerMsg::Raid(msg));
                    }
                    EncounterEvent::Ended(end) => self.raid_ended(now, id, end),
                }
            }
            if state_due {
                if let Some(view) = self.raid_view(id) {
                    self.tell_inside(now, id, &ServerMsg::Raid(ServerRaid::State(view)));
                }
            }
            let Some(i) = self.raids.instances.open.get(&id) else {
                continue;
            };
            if i.members.iter().all(|m| !m.inside) || i.close_at.is_some_and(|t| t <= now) {
                self.close_instance(now, id);
            }
        }
    }

    fn tell_inside(&mut self, now: Instant, id: u64, msg: &ServerMsg) {
        let Some(i) = self.raids.instances.open.get(&id) else {
            return;
        };
        let players: Vec<PlayerId> = (i.members.iter())
            .filter(|m| m.inside)
            .map(|m| m.player)
            .collect();
        for p in players {
            self.send_to_player(now, p, msg);
        }
    }

    /// Closes instance `id`: owed rewards are given (what cannot be, a busy
    /// or full inventory or a run the store has not answered, the store
    /// gives at the character's next load), everyone inside is moved out,
    /// and the zone is dropped.
    fn close_instance(&mut self, now: Instant, id: u64) {
        let Some(i) = self.raids.instances.open.get(&id) else {
            return;
        };
        let owed: Vec<CharacterId> = (i.members.iter())
            .filter(|m| m.reward == Reward::Owed && m.in_game)
            .map(|m| m.character)
            .collect();
        for c in owed {
            if self.give_reward(now, c).is_ok() {
                self.raids.stats.rewards_given_at_close += 1;
            }
        }
        let Some(i) = self.raids.instances.open.get_mut(&id) else {
            return;
        };
        for m in &mut i.members {
            if matches!(m.reward, Reward::Owed | Reward::Recording) {
                m.reward = Reward::None;
                self.raids.stats.rewards_stored += 1;
            }
        }
        let inside: Vec<(PlayerId, CharacterId, Place)> = (i.members.iter())
            .filter(|m| m.inside)
            .map(|m| (m.player, m.character, m.back.clone()))
            .collect();
        for (player, character, back) in inside {
            self.move_out(now, id, player, character, back);
        }
        let stuck = (self.raids.instances.open.get(&id))
            .is_some_and(|i| i.members.iter().any(|m| m.inside));
        if stuck {
            return;
        }
        let Some(i) = self.raids.instances.open.remove(&id) else {
            return;
        };
        for m in &i.members {
            if self.raids.instances.of.get(&m.character) == Some(&id) {
                self.raids.instances.of.remove(&m.character);
            }
        }
        self.world.close_instance(i.zone);
        self.raids.stats.instances_closed += 1;
    }
}
