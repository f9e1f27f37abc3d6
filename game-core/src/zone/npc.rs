//! Tick phase 2, NPCs: each non-player entity takes its step, in slot order.
//! Today every NPC is a wanderer that strolls around its home point.
//!
//! Each zone draws NPC decisions from its own seeded stream, so NPC paths are part
//! of the deterministic trace.
//!
//! Owns NPC behaviour and the phase that runs it. May not touch players or
//! their inputs, nor replication: an NPC that moves only moves its body and
//! tells the AOI.

use super::map::Map;
use super::Zone;
use crate::math::{Fixed, Vec2};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;

/// How far from home a wanderer strays, in metres.
const LEASH_M: i32 = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wanderer {
    home: Vec2,
    target: Option<Vec2>,
    /// Ticks to stand still before picking a new target.
    rest: u32,
}

impl Wanderer {
    pub fn new(home: Vec2) -> Self {
        Wanderer {
            home,
            target: None,
            rest: 0,
        }
    }

    /// One tick: returns the new position, or `None` when standing still.
    pub fn step(
        &mut self,
        rng: &mut ChaCha8Rng,
        map: &Map,
        pos: Vec2,
        step: Fixed,
    ) -> Option<Vec2> {
        if self.rest > 0 {
            self.rest -= 1;
            return None;
        }
        let target = match self.target {
            Some(t) => t,
            None => {
                let leash = Fixed::from_int(LEASH_M).raw();
                let mut offset = || {
                    let span = (2 * leash + 1) as u32;
                    Fixed::from_raw((rng.next_u32() % span) as i32 - leash)
                };
                let t = self.home + Vec2::new(offset(), offset());
                if !map.is_walkable(t) || !map.segment_walkable(pos, t) {
                    self.rest = 5;
                    return None;
                }
                self.target = Some(t);
                t
            }
        };
        let to_target = target - pos;
        let dist = super::movement::distance_raw(pos, target);
        let next = if dist <= step.raw() as i64 {
            self.target = None;
            self.rest = 10 + rng.next_u32() % 40;
            target
        } else {
            let s = step.raw() as i64;
            pos + Vec2::new(
                Fixed::from_raw((to_target.x.raw() as i64 * s / dist) as i32),
                Fixed::from_raw((to_target.y.raw() as i64 * s / dist) as i32),
            )
        };
        if map.segment_walkable(pos, next) {
            Some(next)
        } else {
            self.target = None;
            self.rest = 5;
            None
        }
    }
}

impl Zone {
    /// Every NPC takes its step, in slot order, drawing from the zone's stream.
    pub(super) fn step_npcs(&mut self) {
        let step = Fixed::from_raw(
            (Fixed::from_int(self.config.npc_speed_m).raw() as i64
                * self.tick_period.as_micros() as i64
                / 1_000_000) as i32,
        );
        for &slot in &self.npcs {
            let Some(e) = self.slots[slot as usize].as_mut() else {
                continue;
            };
            let body = &mut self.bodies[slot as usize];
            if let Some(npc) = e.npc.as_mut() {
                if let Some(next) = npc.step(&mut self.rng, &self.map, body.pos, step) {
                    body.pos = next;
                    self.aoi.move_to(e.id, next);
                }
            }
        }
    }
}
