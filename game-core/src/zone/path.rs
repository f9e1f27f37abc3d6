//! Bounded path search over a map's walkability grid, for monsters chasing
//! players: A* over cells, eight-neighbour moves without corner cutting,
//! integer costs (10 orthogonal, 14 diagonal) and the octile heuristic.
//!
//! A search expands at most `max_nodes` cells, so its cost is bounded however
//! far or unreachable the goal is; when the budget runs out (or the goal is
//! walled off) the caller still gets a path toward the explored cell nearest
//! the goal. Ties are broken by (f, h, cell index), never by hash order, so a
//! search is deterministic.
//!
//! The per-cell arrays live in a [`PathScratch`] sized to the map and reused
//! across searches: a generation counter marks which entries belong to the
//! current search, so nothing is cleared per search and, once warm, a search
//! allocates nothing.
//!
//! Owns the search and its scratch space. May not touch the zone, its entities
//! or its random stream: a search is a pure function of its inputs.

use super::map::Map;
use super::movement::distance_raw;
use crate::math::{Fixed, Vec2};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Cost of an orthogonal step.
const ORTHO: u32 = 10;
/// Cost of a diagonal step (10 * sqrt 2, rounded).
const DIAG: u32 = 14;
/// The eight moves, (dx, dy): orthogonal first (+x, -x, +y, -y), then diagonal.
const MOVES: [(i64, i64); 8] = [
    (1, 0),
    (-1, 0),
    (0, 1),
    (0, -1),
    (1, 1),
    (1, -1),
    (-1, 1),
    (-1, -1),
];
/// The parent direction of the start cell.
const NO_DIR: u8 = 8;

/// [`Node::flags`]: the cell's walkability has been looked up...
const KNOWN: u8 = 1;
/// ...and it is walkable;
const WALKABLE: u8 = 2;
/// `g` and `dir` hold a path to the cell;
const REACHED: u8 = 4;
/// the cell has been expanded.
const CLOSED: u8 = 8;

/// What one search knows of one cell; valid only when `stamp` is the current
/// generation (otherwise it is as if all were zero).
#[derive(Clone, Copy, Debug, Default)]
struct Node {
    stamp: u32,
    /// Cost of the best path found so far from the start.
    g: u32,
    /// The move (index into [`MOVES`]) that reached this cell, or [`NO_DIR`].
    dir: u8,
    flags: u8,
}

/// Scratch space reused across searches (one per zone): after warm-up a
/// search allocates nothing. The per-cell array is sized to the last map
/// searched (12 bytes a cell) and resized when a map of another size comes.
#[derive(Debug, Default)]
pub struct PathScratch {
    width: u32,
    height: u32,
    generation: u32,
    nodes: Vec<Node>,
    /// Open cells keyed by (f, h, cell index) packed into one integer (see
    /// [`key`]), smallest first; stale entries (cells already closed) are
    /// skipped when popped.
    open: BinaryHeap<Reverse<u128>>,
    /// The cells of the path found, from its end back to the start.
    trail: Vec<u32>,
}

impl PathScratch {
    /// Ready for a new search on `map`: entries of earlier searches become
    /// stale by bumping the generation (the array is cleared only when the map
    /// size changes or the counter wraps).
    fn begin(&mut self, map: &Map) {
        let cells = map.width() as usize * map.height() as usize;
        if self.width != map.width() || self.height != map.height() || self.nodes.len() != cells {
            self.width = map.width();
            self.height = map.height();
            self.nodes.clear();
            self.nodes.resize(cells, Node::default());
            self.generation = 0;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            for n in &mut self.nodes {
                n.stamp = 0;
            }
            self.generation = 1;
        }
        self.open.clear();
        self.trail.clear();
    }
}

/// How a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathResult {
    /// `out` holds waypoints (cell centres, then the goal itself), first to go
    /// to first.
    Found,
    /// The goal is not reachable within the node budget (or not at all):
    /// `out` holds the path toward the explored cell nearest the goal (so a
    /// chaser still closes in), possibly empty.
    Partial,
    /// The start or the goal is not walkable or out of bounds; `out` is empty.
    Blocked,
}

/// The heap key of a cell: ordered as the tuple (f, h, cell index), packed so
/// that a comparison is one integer comparison.
fn key(f: u32, h: u32, cell: u32) -> u128 {
    (f as u128) << 64 | (h as u128) << 32 | cell as u128
}

/// The octile distance between two cells, in step costs: a lower bound on
/// the cost of any path between them (and consistent).
fn octile(ax: i64, ay: i64, bx: i64, by: i64) -> u32 {
    let dx = (ax - bx).unsigned_abs() as u32;
    let dy = (ay - by).unsigned_abs() as u32;
    ORTHO * dx.max(dy) + (DIAG - ORTHO) * dx.min(dy)
}

/// Whether cell (x, y) is on the map and walkable, looked up in the map at
/// most once per search (each cell is a neighbour of up to eight others).
fn open_cell(map: &Map, nodes: &mut [Node], generation: u32, x: i64, y: i64) -> bool {
    let (w, h) = (map.width() as i64, map.height() as i64);
    if x < 0 || y < 0 || x >= w || y >= h {
        return false;
    }
    let n = &mut nodes[(y * w + x) as usize];
    if n.stamp != generation {
        *n = Node {
            stamp: generation,
            g: 0,
            dir: NO_DIR,
            flags: 0,
        };
    }
    if n.flags & KNOWN == 0 {
        n.flags |= KNOWN;
        if map.is_walkable(map.cell_center((x as u32, y as u32))) {
            n.flags |= WALKABLE;
        }
    }
    n.flags & WALKABLE != 0
}

/// Searches a path from `from` to `to`, expanding at most `max_nodes` cells,
/// and writes its waypoints to `out` (cleared first): the point to go to first
/// comes first, `from` itself is not included. Waypoints are smoothed: one is
/// kept only where the straight segment from the previous kept point (or
/// `from`) to the next one is not walkable, so every consecutive pair, `from`
/// to the first, is [`Map::segment_walkable`].
///
/// When the straight segment from `from` to `to` is walkable the answer is
/// `[to]` and the grid is not searched at all.
pub fn find_path(
    map: &Map,
    from: Vec2,
    to: Vec2,
    max_nodes: u32,
    scratch: &mut PathScratch,
    out: &mut Vec<Vec2>,
) -> PathResult {
    out.clear();
    if !map.is_walkable(from) || !map.is_walkable(to) {
        return PathResult::Blocked;
    }
    if map.segment_walkable(from, to) {
        out.push(to);
        return PathResult::Found;
    }
    scratch.begin(map);
    let generation = scratch.generation;
    let w = map.width() as i64;
    let (sx, sy) = map.cell_of(from);
    let (gx, gy) = map.cell_of(to);
    let start = (sy * w + sx) as u32;
    let goal = (gy * w + gx) as u32;
    let h0 = octile(sx, sy, gx, gy);
    scratch.nodes[start as usize] = Node {
        stamp: generation,
        g: 0,
        dir: NO_DIR,
        flags: KNOWN | WALKABLE | REACHED,
    };
    scratch.open.push(Reverse(key(h0, h0, start)));
    // The expanded cell nearest the goal: least h, then least g, then index.
    let mut best = (h0, 0u32, start);
    let mut expanded = 0u32;
    let mut reached = false;
    while let Some(Reverse(k)) = scratch.open.pop() {
        let (h, i) = ((k >> 32) as u32, k as u32);
        let node = &mut scratch.nodes[i as usize];
        if node.flags & CLOSED != 0 {
            continue;
        }
        if expanded == max_nodes {
            break;
        }
        expanded += 1;
        node.flags |= CLOSED;
        let g = node.g;
        if (h, g, i) < best {
            best = (h, g, i);
        }
        if i == goal {
            reached = true;
            break;
        }
        let (x, y) = (i as i64 % w, i as i64 / w);
        // +x, -x, +y, -y: a diagonal needs both of its orthogonal sides open.
        let nodes = &mut scratch.nodes;
        let side = [
            open_cell(map, nodes, generation, x + 1, y),
            open_cell(map, nodes, generation, x - 1, y),
            open_cell(map, nodes, generation, x, y + 1),
            open_cell(map, nodes, generation, x, y - 1),
        ];
        for (d, &(dx, dy)) in MOVES.iter().enumerate() {
            let (nx, ny) = (x + dx, y + dy);
            let (ok, cost) = if d < 4 {
                (side[d], ORTHO)
            } else {
                let sx_open = side[if dx > 0 { 0 } else { 1 }];
                let sy_open = side[if dy > 0 { 2 } else { 3 }];
                let open = sx_open && sy_open && open_cell(map, nodes, generation, nx, ny);
                (open, DIAG)
            };
            if !ok {
                continue;
            }
            let j = (ny * w + nx) as u32;
            let ng = g + cost;
            // Walkable, so already stamped this search by `open_cell`.
            let n = &mut nodes[j as usize];
            if n.flags & REACHED != 0 && (n.flags & CLOSED != 0 || ng >= n.g) {
                continue;
            }
            n.flags |= REACHED;
            n.g = ng;
            n.dir = d as u8;
            let nh = octile(nx, ny, gx, gy);
            scratch.open.push(Reverse(key(ng + nh, nh, j)));
        }
    }

    // Walk back from the end cell to the start.
    let end = if reached { goal } else { best.2 };
    let mut c = end;
    loop {
        scratch.trail.push(c);
        let d = scratch.nodes[c as usize].dir;
        if d == NO_DIR {
            break;
        }
        let (dx, dy) = MOVES[d as usize];
        c = (c as i64 - (dy * w + dx)) as u32;
    }
    // Waypoint k (0-based, k < m) is the centre of trail[m - 1 - k], except
    // that the goal cell's waypoint is the goal itself.
    let trail = &scratch.trail;
    let m = trail.len() - 1;
    let point = |k: usize| {
        if reached && k + 1 == m {
            to
        } else {
            let cell = trail[m - 1 - k] as i64;
            map.cell_center(((cell % w) as u32, (cell / w) as u32))
        }
    };
    let mut anchor = from;
    for k in 0..m {
        let p = point(k);
        if k + 1 == m || !map.segment_walkable(anchor, point(k + 1)) {
            out.push(p);
            anchor = p;
        }
    }
    if reached {
        PathResult::Found
    } else {
        PathResult::Partial
    }
}

/// Moves from `pos` at most `step` along the straight line to `target`,
/// arriving exactly when it is that close (or closer); a step that is not
/// positive stays put.
pub fn step_toward(pos: Vec2, target: Vec2, step: Fixed) -> Vec2 {
    let s = step.raw() as i64;
    if s <= 0 {
        return pos;
    }
    let dist = distance_raw(pos, target);
    if dist <= s {
        return target;
    }
    let d = target - pos;
    // Truncating towards zero keeps the move within `step` (dist is rounded up).
    pos + Vec2::new(
        Fixed::from_raw((d.x.raw() as i64 * s / dist) as i32),
        Fixed::from_raw((d.y.raw() as i64 * s / dist) as i32),
    )
}

#[cfg(test)]
mod tests;
