//! Entity interpolation: where to draw one remote entity between server snapshots.
//!
//! The client receives authoritative positions of a remote entity stamped with
//! server time (whenever it moved: every tick for a 20 Hz mover, every other
//! tick for a client sending 10 Hz input; sometimes late, jittered, reordered
//! or missing) and draws the entity a little in the past, at the *render time*
//! `server_now - delay`, so that it usually has a snapshot on each side and can
//! interpolate instead of guess. [`Interpolator`] owns the snapshot buffer of one
//! entity, the last render time and last drawn position, and the correction that
//! hides a change of path. It reads no clock: the driver passes its estimate of
//! the server clock to [`Interpolator::sample`] every render frame.
//!
//! All arithmetic is integer arithmetic on the raw fixed-point values (`i128`
//! intermediates, rounding half up, i.e. `floor(x + 1/2)`), so the same inputs
//! give the same drawn positions on every machine.
//!
//! # The path
//!
//! The snapshots define a *path*, a position for every render time `t`:
//!
//! - before the oldest snapshot: the oldest position (hold);
//! - between two snapshots: linear interpolation between them;
//! - after the newest: extrapolation with the velocity of the last two snapshots
//!   for at most `max_extrapolation` past the newest, then the position reached
//!   there is held. With a single snapshot there is no velocity and it is held.
//!
//! This follows the protocol's update semantics: an entity with no new update
//! is still moving (a 10 Hz mover is silent every other tick), so the path runs
//! on; a zero update (a snapshot at the newest position again) says it stopped
//! there, so the path holds from the newest snapshot on. A stop is announced
//! only once the entity has gone without a move for longer than its input
//! interval, so its snapshot comes well after the entity stood still: the first
//! move after it did not take all that time. [`Interpolator::push`] therefore
//! starts a stopped entity's next move `start_lead` before its snapshot (one
//! tick: the server moved it at that tick), holding the stop until then,
//! instead of drawing a slow glide over the whole pause.
//!
//! # Rendering rules
//!
//! - **Monotonic render time.** The render time is `server_now - delay` clamped to
//!   be at least the last render time, so the renderer itself never moves the
//!   drawn time backwards even if the clock estimate steps back.
//! - **Correction instead of snapping.** When an accepted [`Interpolator::push`]
//!   changes the path *at the last render time* `r` (a late snapshot arrives after
//!   we extrapolated or held past the newest one, or eviction removed the snapshot
//!   we were interpolating from), the interpolator records the offset
//!   `e = last_drawn - new_path(r)` and the start `r`. Until the render time
//!   reaches `r + CORRECTION_WINDOW` it draws
//!   `new_path(t) + round(e * (r + CORRECTION_WINDOW - t) / CORRECTION_WINDOW)`,
//!   afterwards `new_path(t)` exactly. At `t = r` this is the last drawn position,
//!   so the drawn position is continuous, and each sample moves it by at most the
//!   path's own step plus `|e| * dt / CORRECTION_WINDOW` (plus one raw unit of
//!   rounding). A second path change during a correction starts a new one from the
//!   position drawn last, which already contains what is left of the old offset.
//!   The window is measured in render time, so it does not advance while the
//!   render time stands still. A push that leaves the path at `r` unchanged (the
//!   usual case: a new snapshot ahead of the render time) leaves any running
//!   correction alone.
//!
//! # Memory
//!
//! At most `capacity` snapshots (at least two) are kept in a ring allocated once in
//! [`Interpolator::new`]; a push into a full ring drops the oldest snapshot. Each
//! sample drops the snapshots older than the render time except the one just
//! before it (and always keeps the two newest, which give the extrapolation
//! velocity), which does not change the path at or after the render time.
//! Nothing allocates after construction.

use crate::math::{Fixed, Vec2};
use crate::time::{Duration, Instant};
use std::collections::VecDeque;

/// How long, in render time, a change of path is blended out over.
pub const CORRECTION_WINDOW: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterpolationConfig {
    /// Render this far behind the (estimated) server time.
    pub delay: Duration,
    /// When the newest snapshot is older than the render time, extrapolate at most
    /// this far past it, then hold.
    pub max_extrapolation: Duration,
    /// Snapshots kept (values below two are treated as two); the oldest is dropped
    /// first.
    pub capacity: usize,
    /// A move that follows a stop began this long before its snapshot: one
    /// server tick (see the module docs).
    pub start_lead: Duration,
}

impl Default for InterpolationConfig {
    fn default() -> Self {
        InterpolationConfig {
            delay: Duration::from_millis(100),
            max_extrapolation: Duration::from_millis(200),
            capacity: 32,
            start_lead: Duration::from_millis(50),
        }
    }
}

/// One snapshot: the entity was at `pos` at server time `time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Snapshot {
    time: Instant,
    pos: Vec2,
}

/// A blend from an old path onto the current one (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Correction {
    /// The render time the blend starts at.
    start: Instant,
    /// `last_drawn - path(start)` in raw units, at the start.
    offset_x: i64,
    offset_y: i64,
}

/// The interpolation buffer of one remote entity.
#[derive(Clone, Debug)]
pub struct Interpolator {
    config: InterpolationConfig,
    /// Strictly increasing server times; never longer than `capacity`.
    snapshots: VecDeque<Snapshot>,
    capacity: usize,
    /// The render time of the last `sample`.
    last_render: Option<Instant>,
    /// The position the last `sample` returned.
    last_drawn: Option<Vec2>,
    correction: Option<Correction>,
}

impl Interpolator {
    pub fn new(config: InterpolationConfig) -> Self {
        let capacity = config.capacity.max(2);
        Interpolator {
            config,
            snapshots: VecDeque::with_capacity(capacity),
            capacity,
            last_render: None,
            last_drawn: None,
            correction: None,
        }
    }

    /// A snapshot: the entity was at `pos` at server time `server_time`. Snapshots
    /// older than or equal to the newest are ignored (out of order/duplicate);
    /// returns whether it was kept. A move after a stop (the two newest
    /// snapshots at one position) first gets the stop held until `start_lead`
    /// before it.
    pub fn push(&mut self, server_time: Instant, pos: Vec2) -> bool {
        if let Some(newest) = self.snapshots.back() {
            if server_time <= newest.time {
                return false;
            }
        }
        if let Some(start) = self.start_of_move_after_stop(server_time, pos) {
            self.push_one(start, self.snapshots.back().map_or(pos, |s| s.pos));
        }
        self.push_one(server_time, pos);
        true
    }

    /// When the entity stopped (the two newest snapshots hold one position)
    /// and `pos` moves it, the time it set off, if that is after the newest.
    fn start_of_move_after_stop(&self, server_time: Instant, pos: Vec2) -> Option<Instant> {
        let len = self.snapshots.len();
        if len < 2 {
            return None;
        }
        let (prev, newest) = (self.snapshots[len - 2], self.snapshots[len - 1]);
        let start = server_time - self.config.start_lead;
        (prev.pos == newest.pos && newest.pos != pos && start > newest.time).then_some(start)
    }

    /// Adds a snapshot later than the newest, and starts a correction if that
    /// changes the path at the last render time.
    fn push_one(&mut self, server_time: Instant, pos: Vec2) {
        // The path at the last render time, before this snapshot changes it.
        let before = match (self.last_render, self.last_drawn) {
            (Some(r), Some(drawn)) => self.path_at(r).map(|p| (r, drawn, p)),
            _ => None,
        };
        if self.snapshots.len() >= self.capacity {
            self.snapshots.pop_front();
        }
        self.snapshots.push_back(Snapshot {
            time: server_time,
            pos,
        });
        if let Some((r, drawn, old)) = before {
            let new = self.path_at(r).unwrap_or(old);
            if new != old {
                let offset_x = i64::from(drawn.x.raw()) - i64::from(new.x.raw());
                let offset_y = i64::from(drawn.y.raw()) - i64::from(new.y.raw());
                self.correction = if offset_x == 0 && offset_y == 0 {
                    None
                } else {
                    Some(Correction {
                        start: r,
                        offset_x,
                        offset_y,
                    })
                };
            }
        }
    }

    /// Where to draw the entity when the client's estimate of the server clock is
    /// `server_now` (render time = server_now - delay, never earlier than the last
    /// render time). None before the first snapshot.
    pub fn sample(&mut self, server_now: Instant) -> Option<Vec2> {
        let target = server_now - self.config.delay;
        let render = match self.last_render {
            Some(last) => last.max(target),
            None => target,
        };
        self.last_render = Some(render);
        self.prune(render);
        let path = self.path_at(render)?;
        let drawn = match self.correction {
            Some(c) => {
                let elapsed = render.saturating_since(c.start);
                if elapsed >= CORRECTION_WINDOW {
                    self.correction = None;
                    path
                } else {
                    let window = i128::from(CORRECTION_WINDOW.as_micros());
                    let left = window - i128::from(elapsed.as_micros());
                    Vec2::new(
                        add_raw(path.x, round_div(i128::from(c.offset_x) * left, window)),
                        add_raw(path.y, round_div(i128::from(c.offset_y) * left, window)),
                    )
                }
            }
            None => path,
        };
        self.last_drawn = Some(drawn);
        Some(drawn)
    }

    /// The newest snapshot kept.
    pub fn latest(&self) -> Option<(Instant, Vec2)> {
        self.snapshots.back().map(|s| (s.time, s.pos))
    }

    /// Forgets everything (snapshots, render time, correction), as if new: for a
    /// teleport, a respawn or an entity that left and re-entered view.
    pub fn clear(&mut self) {
        self.snapshots.clear();
        self.last_render = None;
        self.last_drawn = None;
        self.correction = None;
    }

    pub fn config(&self) -> InterpolationConfig {
        self.config
    }

    /// Snapshots currently kept.
    pub fn len(&self) -> usize {
        self.snapshots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.snapshots.is_empty()
    }

    /// The render time of the last `sample`, if any.
    pub fn last_render_time(&self) -> Option<Instant> {
        self.last_render
    }

    /// Whether a change of path is still being blended out.
    pub fn is_correcting(&self) -> bool {
        self.correction.is_some()
    }

    /// Drops the snapshots the path at or after `render` no longer needs: all
    /// older than the render time except the one just before it, keeping at least
    /// the two newest for the extrapolation velocity.
    fn prune(&mut self, render: Instant) {
        while self.snapshots.len() > 2 && self.snapshots[1].time <= render {
            self.snapshots.pop_front();
        }
    }

    /// The path (interpolation, hold or capped extrapolation) at render time `t`.
    fn path_at(&self, t: Instant) -> Option<Vec2> {
        let oldest = self.snapshots.front()?;
        let newest = self.snapshots.back()?;
        if t <= oldest.time {
            return Some(oldest.pos);
        }
        if t >= newest.time {
            let len = self.snapshots.len();
            if len < 2 {
                return Some(newest.pos);
            }
            let prev = self.snapshots[len - 2];
            let ahead = t
                .saturating_since(newest.time)
                .min(self.config.max_extrapolation);
            return Some(along(prev, *newest, newest.pos, ahead));
        }
        // The first snapshot later than `t`; 0 < next < len here.
        let next = self.snapshots.partition_point(|s| s.time <= t);
        let a = self.snapshots[next - 1];
        let b = self.snapshots[next];
        Some(along(a, b, a.pos, t.saturating_since(a.time)))
    }
}

/// `from + (b.pos - a.pos) * dt / (b.time - a.time)`, rounded half up per axis.
/// Requires `a.time < b.time`.
fn along(a: Snapshot, b: Snapshot, from: Vec2, dt: Duration) -> Vec2 {
    let span = i128::from(b.time.saturating_since(a.time).as_micros()).max(1);
    let dt = i128::from(dt.as_micros());
    let step = |pa: Fixed, pb: Fixed| {
        let delta = i128::from(pb.raw()) - i128::from(pa.raw());
        round_div(delta * dt, span)
    };
    Vec2::new(
        add_raw(from.x, step(a.pos.x, b.pos.x)),
        add_raw(from.y, step(a.pos.y, b.pos.y)),
    )
}

/// `num / den` rounded half up (`floor(num / den + 1/2)`), for `den > 0`. Unlike
/// rounding half away from zero it commutes with adding whole units, so
/// interpolating from either snapshot of a straight path gives the same result.
fn round_div(num: i128, den: i128) -> i128 {
    (2 * num + den).div_euclid(2 * den)
}

/// `base + delta` raw units, saturating at the range of [`Fixed`].
fn add_raw(base: Fixed, delta: i128) -> Fixed {
    let sum = i128::from(base.raw()) + delta;
    Fixed::from_raw(sum.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32)
}

#[cfg(test)]
mod tests;
