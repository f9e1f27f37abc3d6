//! Combat, as the node carries it: a player's skill requests go to its zone
//! with the delay its view lags by (for lag compensation), refusals come back
//! to its session, experience gained goes into the character's saved state
//! (a level-up is saved at once), and a character entering a zone gets its
//! experience and its skillbook.
//!
//! The zone judges everything; this file only routes.

use super::Node;
use crate::content::{SkillEffect, Targeting};
use crate::ids::{ConnId, PlayerId};
use crate::protocol::{ClientCombat, ServerCombat, ServerMsg, SkillInfo};
use crate::time::{Duration, Instant};

/// How far behind the present a client draws others (its interpolation
/// delay): a player aims at what it sees, that long ago plus half its
/// round trip.
pub const CLIENT_VIEW_DELAY: Duration = Duration::from_millis(100);

impl Node {
    pub(super) fn route_combat(&mut self, conn: ConnId, request: ClientCombat) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let rtt = c
            .session
            .pinger()
            .rtt()
            .smoothed()
            .unwrap_or(Duration::ZERO);
        let delay = Duration::from_micros(rtt.as_micros() / 2) + CLIENT_VIEW_DELAY;
        if let Some((zone, entity)) = self.zone_of_conn(conn) {
            zone.queue_combat(entity, request, delay);
        }
    }

    /// After the tick: refusals to their players, experience to the saves.
    pub(super) fn carry_combat_outcomes(&mut self, now: Instant) {
        let mut refusals = std::mem::take(&mut self.tick_buffers.refusals);
        let mut progress = std::mem::take(&mut self.tick_buffers.progress);
        for zone in self.world.zones_mut() {
            refusals.extend(zone.take_refusals());
            progress.extend(zone.take_progress());
        }
        for r in refusals.drain(..) {
            self.stats.skill_refusals += 1;
            let msg = ServerMsg::Combat(ServerCombat::SkillRefused {
                skill: r.skill,
                reason: r.reason,
            });
            self.send_to_player(now, r.player, &msg);
        }
        for p in progress.drain(..) {
            let Some(character) = self.players.get(p.player).and_then(|x| x.character) else {
                continue;
            };
            self.saves.note_progress(character, p.experience, p.level);
            if let Some(kind) = p.kill {
                self.drop_loot(now, character, kind);
            }
            if p.leveled_up {
                self.save_playing(now, p.player);
            }
        }
        self.tick_buffers.refusals = refusals;
        self.tick_buffers.progress = progress;
    }

    pub(super) fn send_to_player(&mut self, now: Instant, player: PlayerId, msg: &ServerMsg) {
        let Some(conn) = self.players.get(player).and_then(|p| p.conn) else {
            return;
        };
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.send(now, msg);
        }
        self.session_changed(now, conn);
    }

    /// A player's character is (again) in a zone: the zone gets its
    /// experience.
    pub(super) fn arm_character(&mut self, player: PlayerId) {
        let Some(p) = self.players.get(player) else {
            return;
        };
        let (Some(at), Some(character)) = (p.location, p.character) else {
            return;
        };
        let experience = self
            .saves
            .latest(character)
            .map_or(0, |(_, s)| s.experience);
        let Some(zone) = self.world.zone_mut(at.zone) else {
            return;
        };
        if zone
            .fighter_of(at.entity)
            .is_some_and(|f| f.experience != experience)
        {
            zone.set_experience(at.entity, experience);
        }
        self.wear_gear(character);
    }

    /// The client of a character entering the world gets its skillbook.
    pub(super) fn send_skillbook(&mut self, now: Instant, player: PlayerId) {
        let Some(p) = self.players.get(player) else {
            return;
        };
        let (Some(at), Some(conn)) = (p.location, p.conn) else {
            return;
        };
        let Some(zone) = self.world.zone(at.zone) else {
            return;
        };
        let content = zone.content();
        let skills = content
            .player
            .skills
            .iter()
            .filter_map(|&s| content.skill(s))
            .map(|s| SkillInfo {
                id: s.id.0,
                name: s.name.clone(),
                heals: s.effect == SkillEffect::Heal,
                targeting: match s.targeting {
                    Targeting::Enemy => 0,
                    Targeting::Ally => 1,
                    Targeting::Caster => 2,
                },
                cast_ms: s.cast_ms,
                cooldown_ms: s.cooldown_ms,
                global_cooldown: s.global_cooldown,
                mana: s.mana,
                range_raw: s.range.raw(),
            })
            .collect();
        let msg = ServerMsg::Combat(ServerCombat::Skillbook {
            auto_attack: content.player.auto_attack.0,
            skills,
            global_cooldown_ms: content.rules.global_cooldown_ms,
        });
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.send(now, &msg);
        }
    }
}
