//! The grid: every live entity sorted by cell, and the scan of the cells
//! around a point.
//!
//! Cells are as wide as `radius + skin`, so everything near an entity lies in
//! the 3x3 cells around its own. The grid is rebuilt by a counting sort at each
//! update that changes anything (by cell, row-major, then by slot), so a row
//! of cells is one run of one array. Positions outside the bounds are clamped
//! into the edge cells for bucketing; distances always use true positions.

use super::{Slot, State, TaggedId};
use crate::math::{Fixed, Vec2};

/// The grid is dense, and every update that changes anything walks its cells
/// once: cells are made larger than the radius when the bounds would otherwise
/// need more than this many.
const MAX_CELLS: i64 = 1 << 18;

/// One entity in the grid, with a copy of its position so a neighbourhood scan
/// reads the cells in order instead of jumping around the slots.
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    pub(super) slot: u32,
    pub(super) pos: Vec2,
}

#[derive(Debug)]
pub(super) struct Grid {
    min: (i64, i64),
    cell_size: i64,
    cells_x: u32,
    cells_y: u32,
    /// Cells on each side of an entity's own that can hold something near it:
    /// 1 (0 for a zero radius and skin), since cells are at least as wide.
    rings: u32,
    /// Every live entity as of the last update, by cell (row-major), then by
    /// slot: cell `c` is `entries[cell_start[c]..cell_start[c + 1]]`.
    pub(super) entries: Vec<Entry>,
    /// `cells_x * cells_y + 1` offsets into `entries`.
    pub(super) cell_start: Vec<u32>,
}

impl Grid {
    /// Cells at least `near` (raw units) wide covering [min, max], coarser if
    /// that would take more than [`MAX_CELLS`].
    pub(super) fn new(near: i64, min: Vec2, max: Vec2) -> Self {
        let mut cell_size = near.max(1);
        let span = |lo: Fixed, hi: Fixed, size: i64| (hi.raw() as i64 - lo.raw() as i64) / size + 1;
        while span(min.x, max.x, cell_size).saturating_mul(span(min.y, max.y, cell_size))
            > MAX_CELLS
        {
            cell_size *= 2;
        }
        let (nx, ny) = (span(min.x, max.x, cell_size), span(min.y, max.y, cell_size));
        let rings = (near + cell_size - 1).div_euclid(cell_size) as u32;
        assert!(rings <= 1, "cells narrower than the near radius");
        let cells = (nx * ny) as usize;
        Grid {
            min: (min.x.raw() as i64, min.y.raw() as i64),
            cell_size,
            cells_x: nx as u32,
            cells_y: ny as u32,
            rings,
            entries: Vec::new(),
            cell_start: vec![0; cells + 1],
        }
    }

    /// Dimensions in cells, `(x, y)`.
    pub(super) fn size(&self) -> (u32, u32) {
        (self.cells_x, self.cells_y)
    }

    /// Every live one of `slots` (`live` of them) into `entries`, by cell and
    /// then by slot, at its position in `pos` (a counting sort: one pass to
    /// count, one to place).
    pub(super) fn sort(&mut self, slots: &[Slot], pos: &[Vec2], live: usize) {
        let cells = self.cell_start.len() - 1;
        let start = &mut self.cell_start;
        start.fill(0);
        for slot in slots.iter().filter(|s| s.state == State::Live) {
            start[slot.cell as usize + 1] += 1;
        }
        for c in 0..cells {
            start[c + 1] += start[c];
        }
        self.entries.resize(
            live,
            Entry {
                slot: 0,
                pos: Vec2::ZERO,
            },
        );
        // `start[c]` runs ahead as cell `c` fills, ending at the next cell's
        // start; one step back afterwards puts every start right again.
        for (s, slot) in slots.iter().enumerate() {
            if slot.state != State::Live {
                continue;
            }
            let at = &mut start[slot.cell as usize];
            self.entries[*at as usize] = Entry {
                slot: s as u32,
                pos: pos[s],
            };
            *at += 1;
        }
        start.copy_within(0..cells, 1);
        start[0] = 0;
    }

    /// Appends to `found` every entity of the last sort within `sqrt(near_sq)`
    /// of `pos` but `me`, in grid order; returns how many were measured.
    pub(super) fn collect_near(
        &self,
        pos: Vec2,
        me: u32,
        near_sq: u64,
        found: &mut Vec<TaggedId>,
    ) -> usize {
        let (cx, cy) = self.cell_xy(pos);
        let k = self.rings;
        let (x0, x1) = (cx.saturating_sub(k), (cx + k).min(self.cells_x - 1));
        let (y0, y1) = (cy.saturating_sub(k), (cy + k).min(self.cells_y - 1));
        let mut checks = 0;
        for y in y0..=y1 {
            let gy = self.gap(pos.y.raw() as i64, y, self.min.1, self.cells_y);
            let gy2 = gy.saturating_mul(gy);
            if gy2 > near_sq {
                continue;
            }
            // The cells of a row worth scanning lie side by side in the grid.
            let row = (y * self.cells_x) as usize;
            let mut run: Option<std::ops::Range<usize>> = None;
            for x in x0..=x1 {
                let gx = self.gap(pos.x.raw() as i64, x, self.min.0, self.cells_x);
                if gy2.saturating_add(gx.saturating_mul(gx)) <= near_sq {
                    let c = row + x as usize;
                    let from = run.map_or(self.cell_start[c] as usize, |r| r.start);
                    run = Some(from..self.cell_start[c + 1] as usize);
                }
            }
            let Some(cells) = run.map(|r| &self.entries[r]) else {
                continue;
            };
            checks += cells.len();
            // Whether a candidate is near is a coin toss for the branch
            // predictor, so every one is written and only the near are kept.
            let at = found.len();
            found.resize(at + cells.len(), TaggedId::new(0));
            let out = &mut found[at..];
            let mut kept = 0;
            for (e, _) in cells.iter().zip(0..out.len()) {
                out[kept] = TaggedId::new(e.slot);
                kept += ((pos.distance_squared_raw(e.pos) <= near_sq) & (e.slot != me)) as usize;
            }
            found.truncate(at + kept);
        }
        checks
    }

    pub(super) fn cell_of(&self, pos: Vec2) -> u32 {
        let (cx, cy) = self.cell_xy(pos);
        cy * self.cells_x + cx
    }

    /// Distance (raw, along one axis) from `p` to cell `c`; edge cells extend to
    /// infinity, since out-of-bounds positions are clamped into them.
    fn gap(&self, p: i64, c: u32, min: i64, n: u32) -> u64 {
        let lo = min + c as i64 * self.cell_size;
        let hi = lo + self.cell_size - 1;
        if c > 0 && p < lo {
            (lo - p) as u64
        } else if c + 1 < n && p > hi {
            (p - hi) as u64
        } else {
            0
        }
    }

    fn cell_xy(&self, pos: Vec2) -> (u32, u32) {
        let axis = |v: Fixed, min: i64, n: u32| {
            let c = (v.raw() as i64 - min).div_euclid(self.cell_size);
            c.clamp(0, n as i64 - 1) as u32
        };
        (
            axis(pos.x, self.min.0, self.cells_x),
            axis(pos.y, self.min.1, self.cells_y),
        )
    }
}
