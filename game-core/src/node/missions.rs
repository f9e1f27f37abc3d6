//! Battle pass progress as characters play: kills, metres walked and
//! enhancements count towards their missions, and are stored as a
//! transaction when one completes (or the character leaves).

use super::economy::Why;
use super::economy_stats::TxKind;
use super::Node;
use crate::content::MissionKind;
use crate::economy::actions;
use crate::ids::CharacterId;
use crate::time::{Duration, Instant};

/// How often the distance each character walked is measured.
pub(super) const WALK_SAMPLE_MS: u64 = 1_000;
/// Farther than this between two samples is a teleport or a portal, not a
/// walk (running speed is below 10 m/s).
const MAX_WALK_PER_SAMPLE_M: u64 = 20;

impl Node {
    /// `n` more towards the character's missions of `kind`: stored at once
    /// if that completes one (so its experience is never lost), otherwise
    /// with the next completion or when the character leaves.
    pub(super) fn count_mission(
        &mut self,
        now: Instant,
        character: CharacterId,
        kind: MissionKind,
        n: u32,
    ) {
        let Some(h) = self.wallets.held.get_mut(&character) else {
            return;
        };
        let k = kind_index(kind);
        h.pending[k] = h.pending[k].saturating_add(n);
        self.save_completed_missions(now, character);
    }

    /// Stores the character's pending pass progress if it completes a
    /// mission (and the inventory is free; else after its transaction).
    pub(super) fn save_completed_missions(&mut self, now: Instant, character: CharacterId) {
        let Some(h) = self.wallets.held.get(&character) else {
            return;
        };
        let Some(inv) = h.inv.as_ref().filter(|_| !h.busy) else {
            return;
        };
        let completes = self
            .world
            .content()
            .pass
            .missions
            .iter()
            .enumerate()
            .any(|(i, m)| {
                let pending = h.pending[kind_index(m.kind)];
                pending > 0
                    && u64::from(inv.pass.progress_of(i as u16)) + u64::from(pending)
                        >= u64::from(m.goal)
            });
        if completes {
            self.save_missions(now, character);
        }
    }

    /// Stores the character's pending pass progress. Kept for later if the
    /// inventory is busy.
    pub(super) fn save_missions(&mut self, now: Instant, character: CharacterId) {
        let content = std::sync::Arc::clone(self.world.content());
        let Some(h) = self.wallets.held.get(&character) else {
            return;
        };
        let Some(inv) = h.inv.as_ref().filter(|_| !h.busy) else {
            return;
        };
        if h.pending == [0; 3] || content.pass.missions.is_empty() {
            return;
        }
        let progress: Vec<(u16, u32)> = content
            .pass
            .missions
            .iter()
            .enumerate()
            .map(|(i, m)| (i as u16, h.pending[kind_index(m.kind)]))
            .filter(|(_, n)| *n > 0)
            .collect();
        let tx = actions::missions(character, inv, &content.pass, &progress);
        if tx.parts[0].ops.is_empty() {
            return;
        }
        if self.commit(now, tx, Why::of(TxKind::Mission)).is_ok() {
            if let Some(h) = self.wallets.held.get_mut(&character) {
                h.pending = [0; 3];
            }
        }
    }

    /// Once a second: the metres each character walked, towards its walking
    /// missions; and trade requests that expired.
    pub(super) fn economy_tick(&mut self, now: Instant) {
        if now < self.wallets.next_walk_sample {
            return;
        }
        self.wallets.next_walk_sample = now + Duration::from_millis(WALK_SAMPLE_MS);
        self.expire_trade_requests(now);
        let mut walked: Vec<(CharacterId, u32)> = Vec::new();
        for (&c, h) in self.wallets.held.iter_mut().filter(|(_, h)| h.playing) {
            let Some(at) = self.players.get(h.player).and_then(|p| p.location) else {
                continue;
            };
            let Some(pos) = self.world.zone(at.zone).and_then(|z| z.position(at.entity)) else {
                continue;
            };
            if let Some((zone, last)) = h.last_pos.filter(|(z, _)| *z == at.zone) {
                let _ = zone;
                let raw = pos.distance_squared_raw(last).isqrt();
                if raw <= MAX_WALK_PER_SAMPLE_M << crate::math::Fixed::FRAC_BITS {
                    h.walked_raw += raw;
                }
            }
            h.last_pos = Some((at.zone, pos));
            let metres = h.walked_raw >> crate::math::Fixed::FRAC_BITS;
            if metres > 0 {
                h.walked_raw -= metres << crate::math::Fixed::FRAC_BITS;
                walked.push((c, metres as u32));
            }
        }
        for (c, m) in walked {
            self.count_mission(now, c, MissionKind::Walk, m);
        }
    }
}

fn kind_index(kind: MissionKind) -> usize {
    match kind {
        MissionKind::Kill => 0,
        MissionKind::Walk => 1,
        MissionKind::Enhance => 2,
    }
}
