//! The maps a bot knows, so its policy walks around walls instead of into
//! them. Read-only once built; the simulator shares one among all its bots.

use game_core::content::Content;
use game_core::math::Vec2;
use game_core::zone::{Map, SAMPLE_MAPS};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The maps a bot knows, so it walks around walls instead of into them.
#[derive(Clone, Debug)]
pub struct Atlas {
    maps: BTreeMap<String, Arc<Map>>,
    /// Each map's hunting grounds: the centres of its monster spawn groups
    /// (from the sample content), for fighters to walk to.
    grounds: BTreeMap<String, Vec<Vec2>>,
    /// Where each raid kind's boss stands in its instance (by the kind's
    /// place in `raids.toml`), for raiders to walk to.
    bosses: Vec<Option<Vec2>>,
}

impl Atlas {
    /// The maps compiled into the server.
    pub fn samples() -> Self {
        let maps = SAMPLE_MAPS
            .iter()
            .filter_map(|t| Map::parse(t).ok())
            .map(|m| (m.name().to_owned(), Arc::new(m)))
            .collect::<BTreeMap<_, _>>();
        let content = Content::sample();
        let grounds = maps
            .iter()
            .filter_map(|(name, map)| {
                let groups = &content.map(name)?.groups;
                Some((
                    name.clone(),
                    groups.iter().map(|g| map.cell_center(g.cell)).collect(),
                ))
            })
            .collect();
        let bosses = (content.raids.iter())
            .map(|r| (maps.get(&r.fight.map)).map(|m| m.cell_center(r.fight.boss_cell)))
            .collect();
        Atlas {
            maps,
            grounds,
            bosses,
        }
    }

    /// Where raid kind `raid`'s boss stands in its instance.
    pub fn boss(&self, raid: u16) -> Option<Vec2> {
        self.bosses.get(raid as usize).copied().flatten()
    }

    /// The map's hunting grounds (none for a map with no monsters).
    pub fn grounds(&self, map: &str) -> &[Vec2] {
        self.grounds.get(map).map_or(&[], |g| &g[..])
    }

    /// Knows no map: a bot walks blind (and standing bots need none).
    pub fn empty() -> Self {
        Atlas {
            maps: BTreeMap::new(),
            grounds: BTreeMap::new(),
            bosses: Vec::new(),
        }
    }

    /// Adds (or replaces) a map, for a server running maps from files.
    pub fn insert(&mut self, map: Map) {
        self.maps.insert(map.name().to_owned(), Arc::new(map));
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Map>> {
        self.maps.get(name)
    }
}
