//! The brawler: a hostile player sending combat requests the server must
//! refuse. Each step one bad request, drawn from its own stream: a skill it
//! does not have, a target that is not in view (a random entity id), damage
//! on itself or on another player, a short-range skill on a monster far off,
//! a long-range one on a monster behind a wall, an auto-attack on nobody; every tenth step a burst of
//! the same skill past its cooldown and past the per-tick allowance. It
//! keeps on while dead. It walks about as a wanderer meanwhile.

use super::fighter::FightTally;
use game_core::client::{Client, ClientEvent};
use game_core::ids::EntityId;
use game_core::protocol::EntityKind;
use game_core::zone::Map;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;

/// Requests in a burst: more than the 4 a tick the server queues.
const BURST: u32 = 7;

#[derive(Debug, Default)]
pub struct Brawler {
    steps: u64,
    /// What came of it: its refusals by reason, mostly.
    pub tally: FightTally,
}

impl Brawler {
    pub fn on_event(&mut self, client: &Client, e: &ClientEvent) {
        self.tally.note(client.avatar().map(|a| a.entity), e);
    }

    /// One step of misbehaviour; `map` is the map it is on, if known.
    pub fn step(&mut self, client: &mut Client, rng: &mut ChaCha8Rng, map: Option<&Map>) {
        let Some((me, pos)) = client.avatar().map(|a| (a.entity, a.position())) else {
            return;
        };
        self.steps += 1;
        let book = &client.fight().skillbook;
        let auto = book.auto_attack;
        // A damage skill aimed at an enemy with the shortest range.
        let short = book
            .skills
            .iter()
            .filter(|s| !s.heals && s.targeting == 0)
            .min_by_key(|s| (s.range_raw, s.id))
            .map_or(auto, |s| s.id);
        let any_skill = if book.skills.is_empty() {
            auto
        } else {
            book.skills[(rng.next_u32() as usize) % book.skills.len()].id
        };
        // Someone it sees, of a kind.
        let seen = |kind: EntityKind, pick: u32| -> Option<EntityId> {
            let all: Vec<EntityId> = client
                .remotes()
                .iter()
                .filter(|(_, r)| r.kind == kind)
                .map(|(&e, _)| e)
                .collect();
            (!all.is_empty()).then(|| all[pick as usize % all.len()])
        };
        let monster = seen(EntityKind::Monster, rng.next_u32());
        let player = seen(EntityKind::Player, rng.next_u32());
        if self.steps % 10 == 0 {
            // The same skill, again and again, in one tick.
            for _ in 0..BURST {
                client.use_skill(short, monster);
            }
            self.tally.skills_sent += BURST as u64;
            return;
        }
        let stranger = EntityId(1 + rng.next_u64() % 1_000_000);
        let mode = rng.next_u32() % 7;
        if mode == 6 {
            // Through a wall: a monster within the longest range, with a
            // blocked cell between (when there is one).
            let book = &client.fight().skillbook;
            let far = book
                .skills
                .iter()
                .filter(|s| !s.heals && s.targeting == 0)
                .max_by_key(|s| (s.range_raw, s.id))
                .map(|s| (s.id, s.range_raw as i64));
            if let (Some(map), Some((skill, range))) = (map, far) {
                let hidden = client.remotes().iter().find_map(|(&e, r)| {
                    let p = r.pos.to_pos();
                    let near = (p - pos).length_squared_raw() <= range * range;
                    (r.kind == EntityKind::Monster && near && !map.segment_walkable(pos, p))
                        .then_some(e)
                });
                if let Some(target) = hidden {
                    client.use_skill(skill, Some(target));
                    self.tally.skills_sent += 1;
                    return;
                }
            }
        }
        match mode {
            0 => client.use_skill(20 + (rng.next_u32() % 60_000) as u16, monster),
            1 => client.use_skill(any_skill, Some(stranger)),
            2 => client.use_skill(short, Some(me)),
            3 => client.use_skill(short, player.or(Some(me))),
            4 | 6 => client.use_skill(short, monster.or(Some(stranger))),
            _ => {
                client.attack(stranger);
                self.tally.attacks_sent += 1;
                return;
            }
        }
        self.tally.skills_sent += 1;
    }
}
