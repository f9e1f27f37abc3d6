//! The world of one node: its maps, and the zones (channels) running them.
//!
//! Each map runs as one or more channels (copies) with a player cap. A player
//! entering a map goes to the least-loaded channel with room; when every channel
//! is full a new one opens, up to `max_channels`. The world owns the tick's
//! deadline: it runs while anyone is in the world, at a fixed rate.

use crate::content::Content;
use crate::ids::{EntityId, PlayerId, ZoneId};
use crate::math::Vec2;
use crate::protocol::ChannelRefusal;
use crate::time::{Duration, Instant};
use crate::zone::{Map, Zone, ZoneConfig, SAMPLE_MAPS};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// `[node.world]` in the server config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorldConfig {
    /// The map new players enter.
    pub start_map: String,
    /// Channels one map may open.
    pub max_channels: u16,
    pub zone: ZoneConfig,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            start_map: "meadow".into(),
            max_channels: 8,
            zone: ZoneConfig::default(),
        }
    }
}

/// Where a player's character is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub zone: ZoneId,
    pub entity: EntityId,
}

#[derive(Debug)]
pub struct World {
    config: WorldConfig,
    tick_hz: u16,
    seed: u64,
    maps: BTreeMap<String, Arc<Map>>,
    content: Arc<Content>,
    /// Per map, its channels' zones; the index is the channel number.
    channels: BTreeMap<String, Vec<ZoneId>>,
    /// Maps played only as raid instances (no channels, no portals).
    raid_maps: BTreeSet<String>,
    /// The zones that are raid instances.
    instances: BTreeSet<ZoneId>,
    zones: BTreeMap<ZoneId, Zone>,
    next_zone: u64,
    tick_period: Duration,
    /// When the next tick is due; `None` while nobody is in the world.
    tick_due: Option<Instant>,
}

impl World {
    /// A world of `maps` (the sample maps when empty). Fails on an unknown start
    /// map or a portal to a missing map: operator errors.
    pub fn new(
        config: WorldConfig,
        maps: Vec<Map>,
        tick_hz: u16,
        seed: u64,
        content: Arc<Content>,
    ) -> Result<Self, String> {
        config.zone.validate()?;
        if config.max_channels == 0 {
            return Err("max_channels must be positive".into());
        }
        let maps = if maps.is_empty() {
            SAMPLE_MAPS
                .iter()
                .map(|t| Map::parse(t).map_err(|e| format!("sample map: {e}")))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            maps
        };
        let maps: BTreeMap<String, Arc<Map>> = maps
            .into_iter()
            .map(|m| (m.name().to_owned(), Arc::new(m)))
            .collect();
        if !maps.contains_key(&config.start_map) {
            return Err(format!(
                "start_map {:?} is not a loaded map",
                config.start_map
            ));
        }
        let raid_maps: BTreeSet<String> =
            content.raids.iter().map(|r| r.fight.map.clone()).collect();
        for map in &raid_maps {
            // A raid whose map is not loaded is refused as unknown (the
            // content was checked against other maps: a test's).
            match maps.get(map) {
                None => {}
                Some(m) if !m.portals().is_empty() => {
                    return Err(format!(
                        "raid map {map:?} has portals: raid instances are entered and left \
                         only through the raid"
                    ))
                }
                Some(_) if *map == config.start_map => {
                    return Err(format!("start_map {map:?} is a raid map"))
                }
                Some(_) => {}
            }
        }
        for m in maps.values() {
            for p in m.portals() {
                if raid_maps.contains(&p.target_map) {
                    return Err(format!(
                        "map {:?} has a portal to raid map {:?}",
                        m.name(),
                        p.target_map
                    ));
                }
                if !maps.contains_key(&p.target_map) {
                    return Err(format!(
                        "map {:?} has a portal to unknown map {:?}",
                        m.name(),
                        p.target_map
                    ));
                }
            }
        }
        Ok(World {
            config,
            tick_hz,
            seed,
            maps,
            content,
            channels: BTreeMap::new(),
            raid_maps,
            instances: BTreeSet::new(),
            zones: BTreeMap::new(),
            next_zone: 0,
            tick_period: Duration::per_second(tick_hz as u32),
            tick_due: None,
        })
    }

    /// When the next tick is due, if the world is ticking.
    pub fn tick_due(&self) -> Option<Instant> {
        self.tick_due
    }

    /// Starts ticking, one period from `now`, if there are players and the
    /// tick is not running.
    pub(super) fn arm_tick(&mut self, now: Instant) {
        if self.tick_due.is_none() && self.player_count() > 0 {
            self.tick_due = Some(now + self.tick_period);
        }
    }

    /// After the tick due at `due` ran at `now`: the next is due one period
    /// after it was (a fixed rate), or, running more than a period late, one
    /// period from now (the missed ticks are skipped rather than run as a
    /// burst; returns true then). Nobody in the world stops the tick.
    pub(super) fn schedule_next_tick(&mut self, due: Instant, now: Instant) -> bool {
        let mut next = due + self.tick_period;
        let overrun = next <= now;
        if overrun {
            next = now + self.tick_period;
        }
        self.tick_due = (self.player_count() > 0).then_some(next);
        overrun
    }

    /// The game's content (skills, monsters, items, shop, ...).
    pub fn content(&self) -> &Arc<Content> {
        &self.content
    }

    pub fn start_map(&self) -> &str {
        &self.config.start_map
    }

    pub fn map(&self, name: &str) -> Option<&Arc<Map>> {
        self.maps.get(name)
    }

    pub fn zone(&self, id: ZoneId) -> Option<&Zone> {
        self.zones.get(&id)
    }

    pub fn zone_mut(&mut self, id: ZoneId) -> Option<&mut Zone> {
        self.zones.get_mut(&id)
    }

    pub fn zones(&self) -> impl Iterator<Item = &Zone> {
        self.zones.values()
    }

    /// Every zone's counters, summed.
    pub fn zone_stats(&self) -> crate::zone::ZoneStats {
        let mut sum = crate::zone::ZoneStats::default();
        for z in self.zones.values() {
            sum.add(z.stats());
        }
        sum
    }

    pub(super) fn zones_mut(&mut self) -> impl Iterator<Item = &mut Zone> {
        self.zones.values_mut()
    }

    pub fn player_count(&self) -> u32 {
        self.zones.values().map(|z| z.player_count()).sum()
    }

    /// Places a player on `map`: in `channel` if given, else the least-loaded
    /// channel with room, opening a new one when all are full.
    pub fn place(
        &mut self,
        map: &str,
        channel: Option<u16>,
        player: PlayerId,
        pos: Option<Vec2>,
        epoch: u16,
        now: Instant,
    ) -> Result<Location, ChannelRefusal> {
        if self.raid_maps.contains(map) {
            return Err(ChannelRefusal::NoSuchChannel);
        }
        let zone_id = match channel {
            Some(c) => {
                let id = *self
                    .channels
                    .get(map)
                    .and_then(|cs| cs.get(c as usize))
                    .ok_or(ChannelRefusal::NoSuchChannel)?;
                if self.zones[&id].is_full() {
                    return Err(ChannelRefusal::Full);
                }
                id
            }
            None => self.least_loaded(map).ok_or(ChannelRefusal::Full)?,
        };
        let zone = self
            .zones
            .get_mut(&zone_id)
            .ok_or(ChannelRefusal::NoSuchChannel)?;
        let entity = zone.spawn_player(player, pos, epoch, now);
        Ok(Location {
            zone: zone_id,
            entity,
        })
    }

    /// Places a player in raid instance `zone`, at its map's spawn.
    pub fn place_in(
        &mut self,
        zone: ZoneId,
        player: PlayerId,
        pos: Option<Vec2>,
        epoch: u16,
        now: Instant,
    ) -> Result<Location, ChannelRefusal> {
        if !self.instances.contains(&zone) {
            return Err(ChannelRefusal::NoSuchChannel);
        }
        let z = self
            .zones
            .get_mut(&zone)
            .ok_or(ChannelRefusal::NoSuchChannel)?;
        if z.is_full() {
            return Err(ChannelRefusal::Full);
        }
        let entity = z.spawn_player(player, pos, epoch, now);
        Ok(Location { zone, entity })
    }

    /// Opens a raid instance of `map`: a zone of its own, outside the map's
    /// channels. `None` for a map that is not loaded.
    pub fn open_instance(&mut self, map: &str) -> Option<ZoneId> {
        let m = Arc::clone(self.maps.get(map)?);
        self.next_zone += 1;
        let id = ZoneId(self.next_zone);
        let zone = Zone::new(
            id,
            m,
            0,
            self.config.zone.clone(),
            self.tick_hz,
            self.seed,
            Arc::clone(&self.content),
        );
        self.zones.insert(id, zone);
        self.instances.insert(id);
        Some(id)
    }

    /// Drops raid instance `zone` (its memory returned); whoever is still
    /// in it must have been moved out.
    pub fn close_instance(&mut self, zone: ZoneId) {
        if self.instances.remove(&zone) {
            self.zones.remove(&zone);
        }
    }

    /// Whether raid map `map` is loaded (its raids can be played).
    pub fn has_map(&self, map: &str) -> bool {
        self.maps.contains_key(map)
    }

    /// Raid instances open.
    pub fn instance_count(&self) -> usize {
        self.instances.len()
    }

    /// Takes a character out of its zone; returns where it stood.
    pub fn remove(&mut self, at: Location) -> Option<Vec2> {
        self.zones.get_mut(&at.zone)?.despawn(at.entity)
    }

    /// The channel number of a zone and its map's channel count.
    pub fn channel_of(&self, zone: ZoneId) -> Option<(String, u16)> {
        let z = self.zones.get(&zone)?;
        Some((z.map().name().to_owned(), z.channel()))
    }

    fn least_loaded(&mut self, map: &str) -> Option<ZoneId> {
        let best = self
            .channels
            .get(map)
            .into_iter()
            .flatten()
            .map(|id| &self.zones[id])
            .filter(|z| !z.is_full())
            .min_by_key(|z| (z.player_count(), z.channel()))
            .map(|z| z.id());
        match best {
            Some(id) => Some(id),
            None => self.open_channel(map),
        }
    }

    fn open_channel(&mut self, map: &str) -> Option<ZoneId> {
        let m = Arc::clone(self.maps.get(map)?);
        let channels = self.channels.entry(map.to_owned()).or_default();
        if channels.len() >= self.config.max_channels as usize {
            return None;
        }
        self.next_zone += 1;
        let id = ZoneId(self.next_zone);
        let channel = channels.len() as u16;
        channels.push(id);
        let zone = Zone::new(
            id,
            m,
            channel,
            self.config.zone.clone(),
            self.tick_hz,
            self.seed,
            Arc::clone(&self.content),
        );
        self.zones.insert(id, zone);
        Some(id)
    }
}
