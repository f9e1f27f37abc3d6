//! The search on hand-drawn maps, and as properties over random small maps
//! checked against a breadth-first search.

use super::*;
use proptest::prelude::*;
use std::collections::VecDeque;

/// A map of 2 m cells from grid rows (`.` walkable, `#` blocked); the spawn
/// is the first walkable cell.
fn grid(rows: &[&str]) -> Map {
    let mut spawn = None;
    for (y, row) in rows.iter().enumerate() {
        if let Some(x) = row.find('.') {
            spawn = Some((x, y));
            break;
        }
    }
    let (sx, sy) = spawn.expect("a walkable cell");
    let mut text = format!("name t\ncell 2\nspawn {sx} {sy}\ngrid\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    Map::parse(&text).unwrap()
}

fn at(map: &Map, x: u32, y: u32) -> Vec2 {
    map.cell_center((x, y))
}

fn search(map: &Map, from: Vec2, to: Vec2, max_nodes: u32) -> (PathResult, Vec<Vec2>) {
    let mut scratch = PathScratch::default();
    let mut out = Vec::new();
    let r = find_path(map, from, to, max_nodes, &mut scratch, &mut out);
    (r, out)
}

/// Every leg, `from` to the first waypoint included, is walkable.
fn assert_walkable(map: &Map, from: Vec2, out: &[Vec2]) {
    let mut prev = from;
    for &p in out {
        assert!(
            map.segment_walkable(prev, p),
            "leg {prev:?} -> {p:?} of {out:?} is not walkable"
        );
        prev = p;
    }
}

fn assert_found(map: &Map, from: Vec2, to: Vec2, r: PathResult, out: &[Vec2]) {
    assert_eq!(r, PathResult::Found, "{out:?}");
    assert_eq!(out.last(), Some(&to));
    assert_walkable(map, from, out);
}

/// Whether the goal's cell is reachable from the start's by eight-neighbour
/// moves without corner cutting (a plain breadth-first search).
fn reachable(map: &Map, from: Vec2, to: Vec2) -> bool {
    let (w, h) = (map.width() as i64, map.height() as i64);
    let open = |x: i64, y: i64| {
        x >= 0 && y >= 0 && x < w && y < h && map.is_walkable(at(map, x as u32, y as u32))
    };
    let start = map.cell_of(from);
    let goal = map.cell_of(to);
    if !open(start.0, start.1) || !open(goal.0, goal.1) {
        return false;
    }
    let mut seen = vec![false; (w * h) as usize];
    let mut queue = VecDeque::from([start]);
    seen[(start.1 * w + start.0) as usize] = true;
    while let Some((x, y)) = queue.pop_front() {
        if (x, y) == goal {
            return true;
        }
        for (dx, dy) in MOVES {
            let (nx, ny) = (x + dx, y + dy);
            if !open(nx, ny) || !open(nx, y) || !open(x, ny) {
                continue;
            }
            let i = (ny * w + nx) as usize;
            if !seen[i] {
                seen[i] = true;
                queue.push_back((nx, ny));
            }
        }
    }
    false
}

const AROUND: &[&str] = &[
    "###########",
    "#....#....#",
    "#....#....#",
    "#....#....#",
    "#....#....#",
    "#.........#",
    "###########",
];

const CORRIDOR: &[&str] = &[
    "##########",
    "#........#",
    "########.#",
    "#........#",
    "#.########",
    "#........#",
    "##########",
];

const ENCLOSED: &[&str] = &[
    "##########",
    "#........#",
    "#....###.#",
    "#....#.#.#",
    "#....###.#",
    "#........#",
    "##########",
];

#[test]
fn a_clear_line_is_one_waypoint_and_no_search() {
    let map = Map::open("o", 20, 20, 2);
    let (from, to) = (Vec2::from_ints(3, 3), Vec2::from_ints(30, 21));
    let mut scratch = PathScratch::default();
    let mut out = vec![Vec2::ZERO; 3];
    let r = find_path(&map, from, to, 256, &mut scratch, &mut out);
    assert_eq!(r, PathResult::Found);
    assert_eq!(out, vec![to]);
    assert!(scratch.nodes.is_empty(), "the grid was not touched");
    assert_eq!(scratch.generation, 0);
}

#[test]
fn goes_around_a_wall() {
    let map = grid(AROUND);
    let (from, to) = (at(&map, 2, 1), at(&map, 8, 1));
    assert!(!map.segment_walkable(from, to));
    let (r, out) = search(&map, from, to, 1000);
    assert_found(&map, from, to, r, &out);
    // Through the gap under the wall: some waypoint is in row 5.
    assert!(out.iter().any(|&p| map.cell_of(p).1 == 5), "{out:?}");
    // Smoothed: into the gap and out again, not cell by cell.
    assert!(out.len() <= 3, "{out:?}");
}

#[test]
fn follows_a_winding_corridor() {
    let map = grid(CORRIDOR);
    let (from, to) = (at(&map, 1, 1), at(&map, 8, 5));
    let (r, out) = search(&map, from, to, 1000);
    assert_found(&map, from, to, r, &out);
    // Along row 1, down the right end, back along row 3, down the left end:
    // one waypoint per turn.
    let turns = [(8, 1), (8, 3), (1, 3), (1, 5)].map(|(x, y)| at(&map, x, y));
    assert_eq!(out[..4], turns);
    assert_eq!(out.len(), 5);
}

#[test]
fn an_enclosed_goal_gives_a_partial_path_that_closes_in() {
    let map = grid(ENCLOSED);
    let (from, to) = (at(&map, 1, 3), at(&map, 6, 3));
    assert!(map.is_walkable(to));
    let (r, out) = search(&map, from, to, 10_000);
    assert_eq!(r, PathResult::Partial);
    assert_walkable(&map, from, &out);
    let last = *out.last().expect("a path toward the goal");
    assert!(last.distance_squared_raw(to) < from.distance_squared_raw(to));
    // Right up against the enclosure, at (4, 3).
    assert_eq!(map.cell_of(last), (4, 3));
}

#[test]
fn an_exhausted_budget_gives_a_partial_path() {
    let map = grid(AROUND);
    let (from, to) = (at(&map, 2, 1), at(&map, 8, 1));
    let (r, out) = search(&map, from, to, 5);
    assert_eq!(r, PathResult::Partial);
    assert_walkable(&map, from, &out);
    let last = *out.last().expect("some progress");
    assert!(last.distance_squared_raw(to) < from.distance_squared_raw(to));
    // No budget at all: no progress, but no panic either.
    assert_eq!(search(&map, from, to, 0), (PathResult::Partial, vec![]));
    // The budget bounds expansions: the smallest that finds the path finds it.
    let needed = (1..1000)
        .find(|&n| search(&map, from, to, n).0 == PathResult::Found)
        .unwrap();
    assert!(needed > 5);
    assert_eq!(search(&map, from, to, needed - 1).0, PathResult::Partial);
}

#[test]
fn unwalkable_ends_are_blocked() {
    let map = grid(AROUND);
    let open = at(&map, 2, 1);
    let wall = at(&map, 5, 2);
    let mut scratch = PathScratch::default();
    let mut out = vec![Vec2::ZERO];
    for (from, to) in [
        (wall, open),
        (open, wall),
        (open, Vec2::from_ints(-1, 3)),
        (open, map.max()),
        (Vec2::from_ints(3, -5), open),
    ] {
        let r = find_path(&map, from, to, 1000, &mut scratch, &mut out);
        assert_eq!(r, PathResult::Blocked, "{from:?} -> {to:?}");
        assert!(out.is_empty());
    }
}

#[test]
fn diagonals_do_not_cut_corners() {
    // (1, 2) is blocked: from (1, 1) to (2, 2) goes by (2, 1).
    let map = grid(&["####", "#..#", "##.#", "####"]);
    let (from, to) = (at(&map, 1, 1), at(&map, 2, 2));
    let (r, out) = search(&map, from, to, 100);
    assert_found(&map, from, to, r, &out);
    assert_eq!(out, vec![at(&map, 2, 1), to]);
    // Both sides blocked: the diagonal neighbour is unreachable.
    let map = grid(&["####", "#.##", "##.#", "####"]);
    let (r, out) = search(&map, at(&map, 1, 1), at(&map, 2, 2), 100);
    assert_eq!((r, out), (PathResult::Partial, vec![]));
}

#[test]
fn searches_are_deterministic_and_independent_of_the_scratch() {
    let map = Map::parse(crate::zone::SAMPLE_MAPS[0]).unwrap();
    // Across the long wall at x = 60..65, y = 20..51 (meadow).
    let (from, to) = (at(&map, 55, 35), at(&map, 70, 36));
    let (r, fresh) = search(&map, from, to, 4096);
    assert_found(&map, from, to, r, &fresh);
    let mut scratch = PathScratch::default();
    let mut out = Vec::new();
    for _ in 0..3 {
        // Other searches in between leave nothing behind.
        find_path(&map, to, from, 50, &mut scratch, &mut out);
        find_path(
            &map,
            at(&map, 2, 2),
            at(&map, 150, 110),
            300,
            &mut scratch,
            &mut out,
        );
        assert_eq!(find_path(&map, from, to, 4096, &mut scratch, &mut out), r);
        assert_eq!(out, fresh);
    }
    // A wrapped generation counter clears the stamps instead of trusting them.
    scratch.generation = u32::MAX;
    assert_eq!(find_path(&map, from, to, 4096, &mut scratch, &mut out), r);
    assert_eq!(out, fresh);
    assert_eq!(scratch.generation, 1);
}

#[test]
fn a_warm_scratch_does_not_grow() {
    let map = Map::parse(crate::zone::SAMPLE_MAPS[0]).unwrap();
    let (from, to) = (at(&map, 55, 35), at(&map, 70, 36));
    let mut scratch = PathScratch::default();
    let mut out = Vec::new();
    find_path(&map, from, to, 4096, &mut scratch, &mut out);
    let caps = |s: &PathScratch, out: &Vec<Vec2>| {
        (
            s.nodes.capacity(),
            s.nodes.as_ptr(),
            s.open.capacity(),
            s.trail.capacity(),
            out.capacity(),
            out.as_ptr(),
        )
    };
    let before = caps(&scratch, &out);
    for _ in 0..10 {
        find_path(&map, from, to, 4096, &mut scratch, &mut out);
        assert_eq!(caps(&scratch, &out), before);
    }
}

#[test]
fn step_toward_moves_at_most_a_step_and_arrives_exactly() {
    let (a, b) = (Vec2::from_ints(1, 1), Vec2::from_ints(4, 5));
    let step = Fixed::from_int(1);
    let p = step_toward(a, b, step);
    assert!(a.within(p, step));
    assert!(p.distance_squared_raw(b) < a.distance_squared_raw(b));
    assert_eq!(step_toward(a, b, Fixed::from_int(5)), b);
    assert_eq!(step_toward(a, b, Fixed::from_int(6)), b);
    assert_eq!(step_toward(a, b, Fixed::ZERO), a);
    assert_eq!(step_toward(a, b, -step), a);
    assert_eq!(step_toward(b, b, step), b);
    // Step by step it gets there: each step truncates towards zero, so it
    // may take one more than 5 m / 1 m, never fewer.
    let mut p = a;
    let mut steps = 0;
    while p != b {
        let q = step_toward(p, b, step);
        assert!(p.within(q, step));
        p = q;
        steps += 1;
        assert!(steps <= 6);
    }
    assert!(steps >= 5);
}

fn small_map() -> impl Strategy<Value = (Map, Vec2, Vec2)> {
    (
        3u32..11,
        3u32..11,
        proptest::collection::vec(0u8..100, 100),
        0u8..60,
        (0u32..100, 0u32..100, 0i32..512, 0i32..512),
        (0u32..100, 0u32..100, 0i32..512, 0i32..512),
    )
        .prop_map(|(w, h, cells, blocked_pct, f, t)| {
            let mut open: Vec<bool> = (0..w * h)
                .map(|i| cells[i as usize] >= blocked_pct)
                .collect();
            if !open.iter().any(|&o| o) {
                open[0] = true;
            }
            let spawn = open.iter().position(|&o| o).unwrap() as u32;
            let mut text = format!("name p\ncell 2\nspawn {} {}\ngrid\n", spawn % w, spawn / w);
            for y in 0..h {
                for x in 0..w {
                    text.push(if open[(y * w + x) as usize] { '.' } else { '#' });
                }
                text.push('\n');
            }
            let map = Map::parse(&text).unwrap();
            let point = |(cx, cy, ox, oy): (u32, u32, i32, i32)| {
                Vec2::new(
                    Fixed::from_raw((cx % w) as i32 * 512 + ox),
                    Fixed::from_raw((cy % h) as i32 * 512 + oy),
                )
            };
            (map, point(f), point(t))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn found_paths_are_walkable_and_agree_with_bfs(
        (map, from, to) in small_map(),
        small_budget in 0u32..24,
    ) {
        let big = map.width() * map.height() + 8;
        let mut scratch = PathScratch::default();
        let mut out = Vec::new();
        let r = find_path(&map, from, to, big, &mut scratch, &mut out);
        let blocked = !map.is_walkable(from) || !map.is_walkable(to);
        prop_assert_eq!(r == PathResult::Blocked, blocked);
        if !blocked {
            prop_assert_eq!(r == PathResult::Found, reachable(&map, from, to));
        }
        match r {
            PathResult::Found => {
                prop_assert_eq!(out.last(), Some(&to));
                assert_walkable(&map, from, &out);
            }
            PathResult::Partial => assert_walkable(&map, from, &out),
            PathResult::Blocked => prop_assert!(out.is_empty()),
        }
        // A fresh scratch says the same.
        let (fresh_r, fresh) = search(&map, from, to, big);
        prop_assert_eq!(fresh_r, r);
        prop_assert_eq!(&fresh, &out);

        // A small budget: whatever it returns is walkable, and it never finds
        // what the big budget could not.
        let small = find_path(&map, from, to, small_budget, &mut scratch, &mut out);
        match small {
            PathResult::Found => {
                prop_assert_eq!(r, PathResult::Found);
                prop_assert_eq!(out.last(), Some(&to));
                assert_walkable(&map, from, &out);
            }
            PathResult::Partial => {
                prop_assert!(r != PathResult::Blocked);
                assert_walkable(&map, from, &out);
            }
            PathResult::Blocked => prop_assert_eq!(r, PathResult::Blocked),
        }
    }
}
