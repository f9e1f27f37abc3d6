//! Tick phase 1, inputs: the movement inputs queued since the last tick, applied
//! through the validator (`movement`) in a fixed order. An accepted move moves
//! the entity's body and tells the AOI; a rejected one leaves it where it was
//! and queues a `Correction` for its client.
//!
//! Owns the order inputs are applied in and what a verdict does to the zone.
//! May not judge a move itself (that is the validator's), nor build messages
//! (replication sends the acknowledgement and correction noted here).

use super::{Verdict, Zone};
use crate::math::Vec2;
use crate::protocol::Correction;

impl Zone {
    /// Applies the inputs queued since the last tick, in a fixed order: by
    /// entity, then arrival.
    pub(super) fn apply_inputs(&mut self) {
        self.inputs.sort_unstable_by_key(|q| (q.entity, q.order));
        let rules = self.config.movement;
        let max_speed_sq = {
            let v = rules.max_speed_raw as i64 * (100 + rules.tolerance_pct as i64) / 100;
            v * v
        };
        for q in self.inputs.drain(..) {
            let Some(e) = self.slots[q.slot as usize].as_mut() else {
                continue;
            };
            let Some(p) = e.player.as_mut().filter(|_| e.id == q.entity) else {
                continue;
            };
            p.queued = 0;
            let body = &mut self.bodies[q.slot as usize];
            let speed_pct =
                e.fighter
                    .as_ref()
                    .map_or(100, |f| if f.is_dead() { 0 } else { f.speed_pct() });
            match p
                .mover
                .judge_at_speed(&rules, &self.map, q.received, body.pos, &q.input, speed_pct)
            {
                Verdict::Accept => {
                    self.stats.inputs_applied += 1;
                    self.observers[q.slot as usize].ack_seq = q.input.seq;
                    if body.pos != q.input.pos {
                        body.pos = q.input.pos;
                        self.aoi.move_to(e.id, body.pos);
                        // Moving interrupts a cast.
                        if let Some(cast) = e.fighter.as_mut().and_then(|f| f.cast.take()) {
                            self.stats.casts_interrupted += 1;
                            self.combat.push(crate::protocol::CombatEvent::CastEnded {
                                caster: e.id,
                                skill: cast.skill.0,
                                completed: false,
                            });
                        }
                    }
                    // Velocity is a hint for others' extrapolation: keep it sane.
                    e.vel = if q.input.vel.length_squared_raw() <= max_speed_sq {
                        q.input.vel
                    } else {
                        Vec2::ZERO
                    };
                }
                Verdict::Reject(why) => {
                    *self.stats.corrections.entry(why.label()).or_default() += 1;
                    p.corrections += 1;
                    self.observers[q.slot as usize].correction = Some(Correction {
                        epoch: p.mover.epoch(),
                        seq: q.input.seq,
                        pos: body.pos,
                    });
                }
                Verdict::Stale => self.stats.inputs_stale += 1,
            }
        }
    }
}
