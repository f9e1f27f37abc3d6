//! Maps: bounds, a walkability grid, spawn point, portals and NPC spawns, parsed
//! from a small text format. The core never opens the file: the driver passes
//! its text in (the sample maps are compiled in with `include_str!`).
//!
//! Format (one directive per line, `#` starts a comment outside the grid):
//!
//! ```text
//! name meadow
//! cell 2                         metres per grid cell (1..=64)
//! spawn 10 12                    where players appear, in cells
//! portal 79 20 forest 1 20       stepping on cell (79, 20) leads to map forest, cell (1, 20)
//! npc 30 30                      an NPC wandering around cell (30, 30)
//! grid                           the rest of the file: one line per row of cells,
//! ##########                     `.` walkable, `#` blocked; the first line is y = 0
//! #........#
//! ```

use crate::math::{Fixed, Vec2};
use std::fmt;

/// The largest map, in cells per side.
pub const MAX_MAP_CELLS: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Portal {
    pub cell: (u32, u32),
    pub target_map: String,
    pub target_cell: (u32, u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Map {
    name: String,
    cell_m: i32,
    width: u32,
    height: u32,
    /// Row-major, `width * height`.
    walkable: Bits,
    spawn: (u32, u32),
    portals: Vec<Portal>,
    npcs: Vec<(u32, u32)>,
    /// A fingerprint of what a client needs of the map (see [`Map::checksum`]).
    checksum: u64,
}

/// A fixed set of bits: eight times denser than `Vec<bool>`, so a big map's
/// walkability stays in cache while every move is checked against it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }
}

impl FromIterator<bool> for Bits {
    fn from_iter<I: IntoIterator<Item = bool>>(iter: I) -> Self {
        let mut words = Vec::new();
        for (i, bit) in iter.into_iter().enumerate() {
            if i % 64 == 0 {
                words.push(0);
            }
            if let Some(w) = words.last_mut() {
                *w |= (bit as u64) << (i % 64);
            }
        }
        Bits(words)
    }
}

/// Why a map file was refused (an operator error: the server does not start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for MapError {}

fn err(line: usize, message: impl Into<String>) -> MapError {
    MapError {
        line,
        message: message.into(),
    }
}

fn parse_cell(line: usize, x: Option<&str>, y: Option<&str>) -> Result<(u32, u32), MapError> {
    let p = |v: Option<&str>| {
        v.and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| err(line, "expected two cell coordinates"))
    };
    Ok((p(x)?, p(y)?))
}

/// FNV-1a, 64 bits: small, stable across machines and versions.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl Map {
    /// Parses a map file's text.
    pub fn parse(text: &str) -> Result<Map, MapError> {
        let mut name = None;
        let mut cell_m = 1;
        let mut spawn = None;
        let mut portals = Vec::new();
        let mut npcs = Vec::new();
        let mut rows: Vec<&str> = Vec::new();
        let mut in_grid = false;
        let mut grid_line = 0;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            if in_grid {
                let row = raw.trim_end();
                if row.is_empty() {
                    continue;
                }
                if rows.len() >= MAX_MAP_CELLS {
                    return Err(err(line_no, format!("more than {MAX_MAP_CELLS} rows")));
                }
                rows.push(row);
                continue;
            }
            let content = raw.split('#').next().unwrap_or("").trim();
            let mut words = content.split_whitespace();
            match words.next() {
                None => {}
                Some("name") => {
                    let n = words
                        .next()
                        .ok_or_else(|| err(line_no, "name needs a value"))?;
                    if n.len() > 32 {
                        return Err(err(line_no, "map names are at most 32 bytes"));
                    }
                    name = Some(n.to_owned());
                }
                Some("cell") => {
                    cell_m = words
                        .next()
                        .and_then(|s| s.parse::<i32>().ok())
                        .filter(|c| (1..=64).contains(c))
                        .ok_or_else(|| err(line_no, "cell must be 1..=64 metres"))?;
                }
                Some("spawn") => spawn = Some(parse_cell(line_no, words.next(), words.next())?),
                Some("npc") => npcs.push(parse_cell(line_no, words.next(), words.next())?),
                Some("portal") => {
                    let cell = parse_cell(line_no, words.next(), words.next())?;
                    let target_map = words
                        .next()
                        .ok_or_else(|| err(line_no, "portal needs a target map"))?
                        .to_owned();
                    let target_cell = parse_cell(line_no, words.next(), words.next())?;
                    portals.push(Portal {
                        cell,
                        target_map,
                        target_cell,
                    });
                }
                Some("grid") => {
                    in_grid = true;
                    grid_line = line_no;
                }
                Some(other) => return Err(err(line_no, format!("unknown directive {other:?}"))),
            }
        }
        let name = name.ok_or_else(|| err(1, "missing `name`"))?;
        let width = rows.first().map_or(0, |r| r.len());
        if rows.is_empty() || width == 0 {
            return Err(err(grid_line.max(1), "missing or empty `grid`"));
        }
        if width > MAX_MAP_CELLS {
            return Err(err(
                grid_line,
                format!("rows longer than {MAX_MAP_CELLS} cells"),
            ));
        }
        let mut walkable = Vec::with_capacity(width * rows.len());
        for (y, row) in rows.iter().enumerate() {
            if row.len() != width {
                return Err(err(
                    grid_line + 1 + y,
                    format!("row {y} has {} cells, expected {width}", row.len()),
                ));
            }
            for c in row.bytes() {
                match c {
                    b'.' => walkable.push(true),
                    b'#' => walkable.push(false),
                    other => {
                        return Err(err(
                            grid_line + 1 + y,
                            format!("unexpected {:?} in grid", other as char),
                        ))
                    }
                }
            }
        }
        let map = Map {
            name,
            cell_m,
            width: width as u32,
            height: rows.len() as u32,
            walkable: walkable.into_iter().collect(),
            spawn: spawn.ok_or_else(|| err(1, "missing `spawn`"))?,
            portals,
            npcs,
            checksum: 0,
        }
        .with_checksum();
        for (what, cell) in std::iter::once(("spawn", map.spawn))
            .chain(map.npcs.iter().map(|c| ("npc", *c)))
            .chain(map.portals.iter().map(|p| ("portal", p.cell)))
        {
            if !map.cell_walkable(cell.0 as i64, cell.1 as i64) {
                return Err(err(1, format!("{what} at {cell:?} is not a walkable cell")));
            }
        }
        Ok(map)
    }

    /// An open rectangular map with walls around it (for tests and benchmarks).
    pub fn open(name: &str, width: u32, height: u32, cell_m: i32) -> Map {
        let (w, h) = (width.max(3), height.max(3));
        let walkable = (0..h)
            .flat_map(|y| (0..w).map(move |x| x > 0 && y > 0 && x < w - 1 && y < h - 1))
            .collect();
        Map {
            name: name.to_owned(),
            cell_m: cell_m.clamp(1, 64),
            width: w,
            height: h,
            walkable,
            spawn: (w / 2, h / 2),
            portals: Vec::new(),
            npcs: Vec::new(),
            checksum: 0,
        }
        .with_checksum()
    }

    fn with_checksum(mut self) -> Map {
        let mut h = Fnv1a::default();
        h.bytes(self.name.as_bytes());
        for v in [
            self.cell_m as u32,
            self.width,
            self.height,
            self.spawn.0,
            self.spawn.1,
        ] {
            h.bytes(&v.to_le_bytes());
        }
        for p in &self.portals {
            h.bytes(&p.cell.0.to_le_bytes());
            h.bytes(&p.cell.1.to_le_bytes());
            h.bytes(p.target_map.as_bytes());
            h.bytes(&p.target_cell.0.to_le_bytes());
            h.bytes(&p.target_cell.1.to_le_bytes());
        }
        h.bytes(&self.walkable_rows(0, self.height));
        self.checksum = h.0;
        self
    }

    /// A fingerprint of the map as a client sees it (name, cell size, size,
    /// spawn, portals, walkability): a client that cached a map under this
    /// value need not fetch it again. Not a security measure.
    pub fn checksum(&self) -> u64 {
        self.checksum
    }

    /// Cells per row.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Rows of cells.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Metres per cell side.
    pub fn cell_metres(&self) -> u32 {
        self.cell_m as u32
    }

    /// The spawn point's cell.
    pub fn spawn_cell(&self) -> (u32, u32) {
        self.spawn
    }

    /// Walkability of `rows` rows from `first_row` (clipped to the map), one
    /// bit per cell, row-major, least significant bit first, 1 = walkable; the
    /// last byte is padded with zeros.
    pub fn walkable_rows(&self, first_row: u32, rows: u32) -> Vec<u8> {
        let first = first_row.min(self.height) as usize;
        let end = first_row.saturating_add(rows).min(self.height) as usize;
        let w = self.width as usize;
        let cells = (end - first) * w;
        let mut out = vec![0u8; cells.div_ceil(8)];
        for i in 0..cells {
            if self.walkable.get(first * w + i) {
                out[i / 8] |= 1 << (i % 8);
            }
        }
        out
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn portals(&self) -> &[Portal] {
        &self.portals
    }

    pub fn npc_spawns(&self) -> &[(u32, u32)] {
        &self.npcs
    }

    /// Metres per cell.
    pub fn cell_size(&self) -> Fixed {
        Fixed::from_int(self.cell_m)
    }

    /// The corner opposite the origin: positions lie in `[0, max)`.
    pub fn max(&self) -> Vec2 {
        Vec2::from_ints(
            self.width as i32 * self.cell_m,
            self.height as i32 * self.cell_m,
        )
    }

    /// The centre of a cell.
    pub fn cell_center(&self, cell: (u32, u32)) -> Vec2 {
        let half = Fixed::from_raw(self.cell_size().raw() / 2);
        Vec2::new(
            Fixed::from_int(cell.0 as i32 * self.cell_m) + half,
            Fixed::from_int(cell.1 as i32 * self.cell_m) + half,
        )
    }

    pub fn spawn_point(&self) -> Vec2 {
        self.cell_center(self.spawn)
    }

    /// The cell holding a position (may be outside the map).
    pub fn cell_of(&self, p: Vec2) -> (i64, i64) {
        let c = self.cell_size().raw() as i64;
        (
            (p.x.raw() as i64).div_euclid(c),
            (p.y.raw() as i64).div_euclid(c),
        )
    }

    pub fn in_bounds(&self, p: Vec2) -> bool {
        let max = self.max();
        p.x >= Fixed::ZERO && p.y >= Fixed::ZERO && p.x < max.x && p.y < max.y
    }

    fn cell_walkable(&self, x: i64, y: i64) -> bool {
        x >= 0
            && y >= 0
            && x < self.width as i64
            && y < self.height as i64
            && self
                .walkable
                .get((y as usize) * self.width as usize + x as usize)
    }

    pub fn is_walkable(&self, p: Vec2) -> bool {
        let (x, y) = self.cell_of(p);
        self.cell_walkable(x, y)
    }

    /// Whether a straight walk from `a` to `b` crosses only walkable cells: every
    /// cell the segment touches (a supercover traversal) must be walkable, so a
    /// move cannot cut through a wall or a blocked corner.
    pub fn segment_walkable(&self, a: Vec2, b: Vec2) -> bool {
        let (mut cx, mut cy) = self.cell_of(a);
        let (ex, ey) = self.cell_of(b);
        if !self.cell_walkable(cx, cy) {
            return false;
        }
        let c = self.cell_size().raw() as i128;
        let (ax, ay) = (a.x.raw() as i128, a.y.raw() as i128);
        let (dx, dy) = (b.x.raw() as i128 - ax, b.y.raw() as i128 - ay);
        let (sx, sy) = (dx.signum() as i64, dy.signum() as i64);
        // Walk cell by cell towards the end cell; while both axes still have
        // cells to cross, cross whichever boundary comes first (compared exactly
        // by cross-multiplying), both at once at a corner. The segment is
        // monotonic, so the end cell fixes how many crossings each axis makes:
        // an end point lying exactly on a boundary is never overshot.
        while (cx, cy) != (ex, ey) {
            let next_x = if sx > 0 {
                (cx as i128 + 1) * c
            } else {
                cx as i128 * c
            };
            let next_y = if sy > 0 {
                (cy as i128 + 1) * c
            } else {
                cy as i128 * c
            };
            // Parameter t at each boundary is (next - a) / d; compare tx and ty.
            let tx_num = (next_x - ax).abs();
            let ty_num = (next_y - ay).abs();
            let (adx, ady) = (dx.abs(), dy.abs());
            let ord = if cx == ex {
                std::cmp::Ordering::Greater
            } else if cy == ey {
                std::cmp::Ordering::Less
            } else {
                (tx_num * ady).cmp(&(ty_num * adx))
            };
            match ord {
                std::cmp::Ordering::Less => cx += sx,
                std::cmp::Ordering::Greater => cy += sy,
                std::cmp::Ordering::Equal => {
                    // Through a corner: both side cells must be open too.
                    if !self.cell_walkable(cx + sx, cy) || !self.cell_walkable(cx, cy + sy) {
                        return false;
                    }
                    cx += sx;
                    cy += sy;
                }
            }
            if !self.cell_walkable(cx, cy) {
                return false;
            }
        }
        true
    }

    /// The portal on the cell holding `p`, if any.
    pub fn portal_at(&self, p: Vec2) -> Option<&Portal> {
        let (x, y) = self.cell_of(p);
        self.portals
            .iter()
            .find(|portal| (portal.cell.0 as i64, portal.cell.1 as i64) == (x, y))
    }
}

/// The sample maps compiled into the server, so it runs with no files at all.
pub const SAMPLE_MAPS: &[&str] = &[
    include_str!("../../maps/meadow.map"),
    include_str!("../../maps/forest.map"),
    include_str!("../../maps/ember_lair.map"),
];

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "name t\ncell 2\nspawn 1 1\nportal 3 1 other 1 1\nnpc 1 2\ngrid\n#####\n#...#\n#.#.#\n#####\n";

    #[test]
    fn parses_the_small_format() {
        let m = Map::parse(SMALL).unwrap();
        assert_eq!(m.name(), "t");
        assert_eq!(m.max(), Vec2::from_ints(10, 8));
        assert_eq!(m.spawn_point(), Vec2::from_ints(3, 3));
        assert!(m.is_walkable(Vec2::from_ints(3, 3)));
        assert!(!m.is_walkable(Vec2::from_ints(5, 5)));
        assert!(!m.is_walkable(Vec2::from_ints(-1, 3)));
        assert_eq!(
            m.portal_at(Vec2::from_ints(7, 3)).unwrap().target_map,
            "other"
        );
        assert_eq!(m.npc_spawns(), &[(1, 2)]);
    }

    #[test]
    fn errors_name_the_line() {
        let e = Map::parse("name t\ncell 99\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Map::parse("name t\nspawn 0 0\ngrid\n..\n.\n").unwrap_err();
        assert!(e.message.contains("row 1"), "{e}");
        let e = Map::parse("name t\nspawn 0 0\ngrid\n#.\n").unwrap_err();
        assert!(e.message.contains("not a walkable"), "{e}");
        assert!(Map::parse("name t\nbogus 1\n").is_err());
    }

    #[test]
    fn walls_and_corners_block_segments() {
        let m = Map::parse(SMALL).unwrap();
        // Along the open corridor.
        assert!(m.segment_walkable(Vec2::from_ints(3, 3), Vec2::from_ints(7, 3)));
        // Through the pillar at cell (2, 2).
        assert!(!m.segment_walkable(Vec2::from_ints(3, 3), Vec2::from_ints(7, 5)));
        // Diagonally through the corner between (1,1) and (2,2): (2,2) is blocked.
        assert!(!m.segment_walkable(Vec2::from_ints(3, 3), Vec2::from_ints(5, 5)));
        // Ending exactly on a corner does not enter the cell beyond it.
        let open = Map::open("o", 10, 10, 2);
        assert!(open.segment_walkable(
            Vec2::new(
                Fixed::from_raw(3 * 256 + 192),
                Fixed::from_raw(4 * 256 + 64)
            ),
            Vec2::from_ints(4, 4)
        ));
        assert!(
            !Map::parse("name c\ncell 2\nspawn 1 2\ngrid\n####\n#.##\n#..#\n####\n")
                .unwrap()
                .segment_walkable(Vec2::from_ints(3, 5), Vec2::from_ints(5, 3))
        );
        // Staying inside one cell.
        assert!(m.segment_walkable(Vec2::from_ints(2, 2), Vec2::from_ints(3, 3)));
        // Into the outer wall.
        assert!(!m.segment_walkable(Vec2::from_ints(3, 3), Vec2::from_ints(3, 0)));
    }

    #[test]
    fn sample_maps_parse_and_link() {
        let maps: Vec<Map> = SAMPLE_MAPS.iter().map(|t| Map::parse(t).unwrap()).collect();
        for m in &maps {
            for p in m.portals() {
                let target = maps.iter().find(|t| t.name() == p.target_map).unwrap();
                assert!(target.cell_walkable(p.target_cell.0 as i64, p.target_cell.1 as i64));
            }
        }
    }
}
