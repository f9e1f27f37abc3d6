//! How well bots draw others: each sampled bot's interpolated view against
//! where the entities truly were at the time drawn, and against their path
//! through their moves.

use super::{lookup, Checker, Snapshot};
use game_core::client::Client;
use game_core::ids::{EntityId, ZoneId};
use game_core::math::Vec2;
use game_core::time::{Duration, Instant};
use std::collections::VecDeque;

impl Checker {
    /// Where `client` draws each remote now, against where it truly was at the
    /// time being drawn; samples in millimetres.
    pub fn sample_interpolation(&mut self, client: &mut Client, now: Instant) {
        let (Some(render), Some(avatar)) = (client.render_time(now), client.avatar()) else {
            return;
        };
        // A connection that has gone quiet (a partition) shows a frozen world:
        // that is the network's doing, not the interpolation's.
        if now.saturating_since(client.last_heard()) > Duration::from_millis(500) {
            return;
        }
        let zone = avatar.zone;
        let ids: Vec<EntityId> = client.remotes().keys().take(8).copied().collect();
        // The two recorded ticks around the render time.
        let after = self.history.iter().position(|(t, _)| *t >= render);
        let (after, a, b) = match after {
            Some(0) | None => return,
            Some(j) => (j, &self.history[j - 1], &self.history[j]),
        };
        for id in ids {
            let (Some(pa), Some(pb)) = (lookup(&a.1, (zone, id)), lookup(&b.1, (zone, id))) else {
                continue;
            };
            let Some(drawn) = client.draw_position(id, now) else {
                continue;
            };
            let span = b.0.saturating_since(a.0).as_micros().max(1) as i64;
            let into = render.saturating_since(a.0).as_micros() as i64;
            let lerp = |x: i32, y: i32| x + ((y as i64 - x as i64) * into / span) as i32;
            let truth = Vec2::new(
                game_core::math::Fixed::from_raw(lerp(pa.x.raw(), pb.x.raw())),
                game_core::math::Fixed::from_raw(lerp(pa.y.raw(), pb.y.raw())),
            );
            let err_raw = game_core::zone::movement::distance_raw(drawn, truth);
            self.interp_error_mm.push((err_raw * 1000 / 256) as u64);
            if let Some(path) = path_through_moves(&self.history, after, (zone, id), render) {
                let err_raw = game_core::zone::movement::distance_raw(drawn, path);
                self.interp_error_path_mm
                    .push((err_raw * 1000 / 256) as u64);
            }
        }
    }

    pub fn interpolation_error(&self) -> crate::report::Spread {
        let mut v = self.interp_error_mm.clone();
        crate::report::Spread::of(&mut v, 1000.0)
    }

    /// Against each entity's path through its moves.
    pub fn interpolation_error_vs_moves(&self) -> crate::report::Spread {
        let mut v = self.interp_error_path_mm.clone();
        crate::report::Spread::of(&mut v, 1000.0)
    }
}

/// Moves at most this many ticks apart are one walk: a client sending input at
/// 5 Hz or faster moved its character all the way between them.
const WALK_GAP_TICKS: usize = 4;

/// Where entity `key` was at `render`, on its path through its moves: the
/// server's positions tick by tick show a client that sends 10 Hz input at a
/// 20 Hz tick as a staircase (a move, a tick standing, a move), but the
/// character walked all along. So between two ticks at which it moved, at
/// most [`WALK_GAP_TICKS`] apart, the path is straight; after a longer pause it
/// stands until the tick before its next move. `j` is the first recorded tick
/// at or after `render` (`j > 0`). None when the entity is missing from a tick
/// the answer needs.
fn path_through_moves(
    history: &VecDeque<(Instant, Snapshot)>,
    j: usize,
    key: (ZoneId, EntityId),
    render: Instant,
) -> Option<Vec2> {
    let at = |i: usize| lookup(&history[i].1, key);
    let moved = |i: usize| -> Option<bool> { Some(i > 0 && at(i)? != at(i - 1)?) };
    // The last tick it moved at, up to `j - 1` (the first recorded tick, if
    // none), and the next one after.
    let mut from = j - 1;
    while from > 0 && !moved(from)? {
        from -= 1;
    }
    let mut to = j;
    while to < history.len() && !moved(to)? {
        to += 1;
    }
    if to == history.len() {
        // No later move recorded yet: a walker between two moves and one that
        // stopped look the same until its next move is due.
        if moved(from)? && history.len() - from <= WALK_GAP_TICKS {
            return None;
        }
        return at(j - 1);
    }
    let walked = moved(from)? && to - from <= WALK_GAP_TICKS;
    let start = if walked { from } else { to - 1 };
    let (ta, pa) = (history[start].0, at(start)?);
    let (tb, pb) = (history[to].0, at(to)?);
    if render <= ta {
        return Some(pa);
    }
    let span = tb.saturating_since(ta).as_micros().max(1) as i64;
    let into = render.saturating_since(ta).as_micros().min(span as u64) as i64;
    let lerp = |x: i32, y: i32| x + ((y as i64 - x as i64) * into / span) as i32;
    Some(Vec2::new(
        game_core::math::Fixed::from_raw(lerp(pa.x.raw(), pb.x.raw())),
        game_core::math::Fixed::from_raw(lerp(pa.y.raw(), pb.y.raw())),
    ))
}
