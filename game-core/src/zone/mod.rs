//! A zone: one map instance (a channel of a map) on a fixed tick.
//!
//! The zone is the only writer of its state. Inputs are queued as they arrive
//! and applied at the next tick in a fixed order (by entity, then arrival), never
//! in arrival order across clients. One tick, in order:
//!
//! 1. inputs (`inputs.rs`): apply queued movement inputs through the validator
//!    (accept or correct; moving interrupts a cast; the dead and the stunned
//!    do not move);
//! 2. combat (`combat.rs`): judge queued skill requests, then every fighter's
//!    casts, effects, auto-attacks, regeneration, deaths and respawns;
//! 3. monsters and NPCs (`monsters.rs`, `npc.rs`): respawn spawn-group
//!    members, run each monster's brain, step the wanderers; then the
//!    positions of the tick go into the lag-compensation history
//!    (`history.rs`) and changed health bars become events;
//! 4. portals (`portals.rs`): note players standing on portals (the node
//!    transfers them after the tick);
//! 5. interest (`interest.rs`): update the AOI for what moved, and tell
//!    observers who entered and left;
//! 6. replication (`replication/`): build and encode one message per client
//!    that has something to hear: movement, its own vitals, and the combat
//!    events of what it sees.
//!
//! Each phase is its own file, an `impl Zone` block that [`Zone::run_tick`]
//! calls in this order. This file keeps the zone's types, its public API and
//! the tick; the entity table (insert, despawn, lookup by id) is
//! `entities.rs`, the movement validator `movement.rs`, the map `map.rs`.
//!
//! Owns one map instance: its entities, their positions and its tick. May not
//! touch sessions, other zones or the node: what a tick has to say leaves as
//! values ([`Replies`], [`Transfer`]).
//!
//! Steady-state ticks allocate nothing: buffers and scratch space are reused.

mod combat;
mod encounter;
mod entities;
mod fighters;
mod history;
mod inputs;
mod interest;
mod landing;
pub mod map;
mod monsters;
pub mod movement;
mod npc;
pub mod path;
mod portals;
pub(crate) mod replication;

pub use combat::{Progress, Refusal};
pub use encounter::{EncounterEvent, EncounterView};
pub use history::HISTORY_TICKS;

pub use map::{Map, MapError, Portal, SAMPLE_MAPS};
pub use movement::{MovementRules, Rejection, Verdict};
pub use replication::Observer;

use crate::aoi::{Aoi, AoiConfig, AoiEvent};
use crate::combat::Fighter;
use crate::content::Content;
use crate::ids::{EntityId, PlayerId, ZoneId};
use crate::math::{Fixed, Vec2};
use crate::protocol::{EntityKind, MoveInput, ZoneEntered};
use crate::rng::{self, StreamKind};
use crate::time::{Duration, Instant, Tick};
use combat::CombatRequest;
use history::History;
use monsters::Member;
use movement::Mover;
use npc::Wanderer;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use replication::{CombatEvents, ObserverBuffers, Replicas};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Zone settings (`[node.zone]` in the server config).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZoneConfig {
    /// Entities within this many metres come into view...
    pub view_radius_m: i32,
    /// ...and leave it only beyond view radius plus this margin (no flapping).
    pub view_margin_m: i32,
    /// Players per channel; a full map opens (or sends you to) another channel.
    pub max_players: u32,
    /// Spawns plus updates per client per tick; the rest wait, by priority.
    pub update_budget: u32,
    /// Movement inputs one player may queue per tick; more are dropped.
    pub max_inputs_per_tick: u32,
    /// NPC walking speed, metres per second.
    pub npc_speed_m: i32,
    /// New arrivals are scattered up to this far from the map's spawn point.
    pub spawn_spread_m: i32,
    /// Combat requests one player may queue per tick; more are refused
    /// (`TooFast`) and dropped.
    pub max_combat_per_tick: u32,
    /// The most a skill's range and sight checks rewind for the caster's
    /// delay, in milliseconds (at most 200: the history kept).
    pub lag_compensation_ms: u32,
    /// A dead monster's body stays this long before it leaves.
    pub corpse_ms: u32,
    /// Nodes one monster's path search may expand.
    pub path_nodes: u32,
    pub movement: MovementRules,
}

impl Default for ZoneConfig {
    fn default() -> Self {
        ZoneConfig {
            view_radius_m: 40,
            view_margin_m: 8,
            max_players: 1000,
            update_budget: 64,
            max_inputs_per_tick: 8,
            npc_speed_m: 2,
            spawn_spread_m: 10,
            max_combat_per_tick: 4,
            lag_compensation_ms: 200,
            corpse_ms: 3000,
            path_nodes: 256,
            movement: MovementRules::default(),
        }
    }
}

impl ZoneConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.view_radius_m <= 0 || self.view_margin_m < 0 {
            return Err("view_radius_m must be positive and view_margin_m not negative".into());
        }
        if self.max_players == 0 || self.update_budget == 0 || self.max_inputs_per_tick == 0 {
            return Err(
                "max_players, update_budget and max_inputs_per_tick must be positive".into(),
            );
        }
        if self.max_combat_per_tick == 0 || self.path_nodes == 0 {
            return Err("max_combat_per_tick and path_nodes must be positive".into());
        }
        if self.lag_compensation_ms > 200 {
            return Err("lag_compensation_ms is at most 200 (the history a zone keeps)".into());
        }
        self.movement.validate()
    }
}

/// A player asking to leave through a portal, for the node to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub player: PlayerId,
    pub entity: EntityId,
    pub target_map: String,
    pub target_cell: (u32, u32),
}

/// Counters of one zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneStats {
    pub ticks: u64,
    pub inputs_applied: u64,
    pub inputs_stale: u64,
    pub inputs_dropped: u64,
    /// Corrections by [`Rejection::label`].
    pub corrections: BTreeMap<&'static str, u64>,
    pub messages_out: u64,
    pub bytes_out: u64,
    /// Skills used (started or instant), hits landed (pulses too), casts
    /// interrupted, refusals by [`crate::protocol::SkillRefusal::label`], and
    /// requests dropped past the per-tick allowance.
    pub skills_used: u64,
    pub hits: u64,
    pub casts_interrupted: u64,
    pub skill_refusals: BTreeMap<&'static str, u64>,
    pub combat_dropped: u64,
    pub monsters_killed: u64,
    pub player_deaths: u64,
    /// Experience of the monsters killed with someone to share it, and the
    /// experience granted: always equal.
    pub experience_of_kills: u64,
    pub experience_granted: u64,
    /// Combat events past the per-entity or per-message bound, not sent.
    pub events_dropped: u64,
}

impl ZoneStats {
    /// Adds `other`'s counters to these (to sum a world's zones).
    pub fn add(&mut self, other: &ZoneStats) {
        let ZoneStats {
            ticks,
            inputs_applied,
            inputs_stale,
            inputs_dropped,
            corrections,
            messages_out,
            bytes_out,
            skills_used,
            hits,
            casts_interrupted,
            skill_refusals,
            combat_dropped,
            monsters_killed,
            player_deaths,
            experience_of_kills,
            experience_granted,
            events_dropped,
        } = other;
        self.ticks += ticks;
        self.inputs_applied += inputs_applied;
        self.inputs_stale += inputs_stale;
        self.inputs_dropped += inputs_dropped;
        for (label, n) in corrections {
            *self.corrections.entry(label).or_default() += n;
        }
        self.messages_out += messages_out;
        self.bytes_out += bytes_out;
        self.skills_used += skills_used;
        self.hits += hits;
        self.casts_interrupted += casts_interrupted;
        for (label, n) in skill_refusals {
            *self.skill_refusals.entry(label).or_default() += n;
        }
        self.combat_dropped += combat_dropped;
        self.monsters_killed += monsters_killed;
        self.player_deaths += player_deaths;
        self.experience_of_kills += experience_of_kills;
        self.experience_granted += experience_granted;
        self.events_dropped += events_dropped;
    }
}

#[derive(Debug)]
struct PlayerPart {
    player: PlayerId,
    mover: Mover,
    queued: u32,
    combat_queued: u32,
    corrections: u32,
}

#[derive(Debug)]
struct Entity {
    id: EntityId,
    vel: Vec2,
    player: Option<PlayerPart>,
    npc: Option<Wanderer>,
    /// Players and monsters fight; wanderers do not.
    fighter: Option<Fighter>,
    /// A monster's place in [`Zone::members`].
    monster: Option<u32>,
    /// The tick it arrived or was last teleported: its position history
    /// starts there.
    since: Tick,
}

/// The hot part of an entity, in a dense array beside the slots: interest,
/// movement and replication priority read it each tick. (Its kind is in
/// [`Replicas`].)
#[derive(Clone, Copy, Debug)]
struct Body {
    pos: Vec2,
}

/// Why an input was not queued ([`Zone::admit`]).
#[derive(Clone, Copy, Debug)]
enum Admission {
    /// No player has that entity.
    NoPlayer,
    /// Past the per-tick allowance; `first` for the first one over this tick.
    Over { slot: u32, first: bool },
}

#[derive(Clone, Copy, Debug)]
struct QueuedInput {
    entity: EntityId,
    slot: u32,
    order: u32,
    received: Instant,
    input: MoveInput,
}

#[derive(Debug)]
pub struct Zone {
    id: ZoneId,
    map: Arc<Map>,
    content: Arc<Content>,
    /// Spawn-group members, in content order (monsters think in this order).
    members: Vec<Member>,
    combat_requests: Vec<CombatRequest>,
    refusals: Vec<Refusal>,
    progress: Vec<Progress>,
    /// This tick's combat events, then encoded by entity for replication.
    combat: CombatEvents,
    history: History,
    /// Scratch space: an area skill's targets; experience shares; a path.
    area_scratch: Vec<(u64, u32)>,
    share_scratch: Vec<(EntityId, u64)>,
    path_scratch: path::PathScratch,
    path_out: Vec<Vec2>,
    channel: u16,
    config: ZoneConfig,
    tick: Tick,
    tick_period: Duration,
    rng: ChaCha8Rng,
    slots: Vec<Option<Entity>>,
    /// `bodies[i]` is the position and kind of `slots[i]`.
    bodies: Vec<Body>,
    /// What observers of `slots[i]` are sent this tick.
    replicas: Replicas,
    /// What the client of `slots[i]` (if it is a player) was sent: dense and
    /// small, since replication visits every one each tick.
    observers: Vec<Observer>,
    live: usize,
    /// The slots that hold NPCs, ascending (NPCs step in slot order).
    npcs: Vec<u32>,
    free: Vec<u32>,
    /// Freed during this tick; reusable only after it, so no observer can read
    /// a new entity through an old slot.
    freed: Vec<u32>,
    players: u32,
    aoi: Aoi,
    events: Vec<AoiEvent>,
    inputs: Vec<QueuedInput>,
    input_order: u32,
    transfers: Vec<Transfer>,
    buffers: ObserverBuffers,
    replies: Replies,
    stats: ZoneStats,
    /// A raid instance's boss fight (`encounter.rs`), and the players its
    /// area attack brought to 0 this tick (with the boss's slot).
    encounter: Option<Box<encounter::Encounter>>,
    area_killed: Vec<(u32, u32)>,
}

/// What one tick has to say: one encoded frame (a `WorldUpdate`) per client
/// with something to hear, in observer order. The zone hands these to the node
/// as values, not through a callback into its sessions, so a zone could run on
/// another thread or server. Both buffers are reused tick after tick.
#[derive(Debug, Default)]
pub struct Replies {
    bytes: Vec<u8>,
    /// Each frame's player and where its bytes end in `bytes`.
    frames: Vec<(PlayerId, u32)>,
}

impl Replies {
    /// Each client's frame, in the order the tick made them.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (PlayerId, &[u8])> + '_ {
        let mut start = 0;
        self.frames.iter().map(move |&(player, end)| {
            let frame = &self.bytes[start as usize..end as usize];
            start = end;
            (player, frame)
        })
    }

    fn clear(&mut self) {
        crate::headroom::reserve_twice_peak(&mut self.bytes);
        crate::headroom::reserve_twice_peak(&mut self.frames);
        self.bytes.clear();
        self.frames.clear();
    }
}

impl Zone {
    /// A zone for `map`, channel `channel`, ticking at `tick_hz`, with the
    /// monsters `content` places on the map; its NPCs, monsters and combat
    /// rolls draw from the stream (seed, Zone, id).
    pub fn new(
        id: ZoneId,
        map: Arc<Map>,
        channel: u16,
        config: ZoneConfig,
        tick_hz: u16,
        seed: u64,
        content: Arc<Content>,
    ) -> Self {
        let aoi = Aoi::new(
            AoiConfig {
                radius: Fixed::from_int(config.view_radius_m),
                margin: Fixed::from_int(config.view_margin_m),
            },
            Vec2::ZERO,
            map.max(),
        );
        let mut zone = Zone {
            id,
            channel,
            tick: Tick(0),
            tick_period: Duration::per_second(tick_hz as u32),
            rng: rng::stream(seed, StreamKind::Zone, id.0),
            slots: Vec::new(),
            bodies: Vec::new(),
            replicas: Replicas::default(),
            observers: Vec::new(),
            live: 0,
            npcs: Vec::new(),
            free: Vec::new(),
            freed: Vec::new(),
            players: 0,
            aoi,
            events: Vec::new(),
            inputs: Vec::new(),
            input_order: 0,
            transfers: Vec::new(),
            buffers: ObserverBuffers::default(),
            replies: Replies::default(),
            stats: ZoneStats::default(),
            config,
            map,
            content,
            members: Vec::new(),
            combat_requests: Vec::new(),
            refusals: Vec::new(),
            progress: Vec::new(),
            combat: CombatEvents::default(),
            history: History::default(),
            area_scratch: Vec::new(),
            share_scratch: Vec::new(),
            path_scratch: path::PathScratch::default(),
            path_out: Vec::new(),
            encounter: None,
            area_killed: Vec::new(),
        };
        let homes: Vec<Vec2> = zone
            .map
            .npc_spawns()
            .iter()
            .map(|&c| zone.map.cell_center(c))
            .collect();
        for home in homes {
            zone.insert(EntityKind::Npc, home, None, Some(Wanderer::new(home)));
        }
        zone.place_monsters();
        zone
    }

    pub fn content(&self) -> &Arc<Content> {
        &self.content
    }

    // ----- getters -----

    pub fn id(&self) -> ZoneId {
        self.id
    }

    pub fn map(&self) -> &Arc<Map> {
        &self.map
    }

    pub fn channel(&self) -> u16 {
        self.channel
    }

    pub fn tick(&self) -> Tick {
        self.tick
    }

    pub fn stats(&self) -> &ZoneStats {
        &self.stats
    }

    pub fn player_count(&self) -> u32 {
        self.players
    }

    pub fn is_full(&self) -> bool {
        self.players >= self.config.max_players
    }

    pub fn entity_count(&self) -> usize {
        self.live
    }
    pub fn position(&self, entity: EntityId) -> Option<Vec2> {
        let slot = self.slot_of(entity)?;
        Some(self.bodies[slot as usize].pos)
    }

    /// Whether `entity` arrived or moved since the last tick, so who sees it is
    /// decided at the next one (a transfer lands between ticks).
    pub fn interest_pending(&self, entity: EntityId) -> bool {
        self.aoi.is_pending(entity)
    }

    /// Entities `entity` can see, ascending.
    pub fn visible(&self, entity: EntityId) -> impl ExactSizeIterator<Item = EntityId> + '_ {
        self.aoi.visible(entity)
    }

    /// The players `entity` sees within `radius` of it (who hears it say
    /// something), appended to `out` in id order.
    pub fn players_near(&self, entity: EntityId, radius: Fixed, out: &mut Vec<PlayerId>) {
        let Some(center) = self.position(entity) else {
            return;
        };
        for seen in self.visible(entity) {
            let Some(slot) = self.slot_of(seen) else {
                continue;
            };
            let player = self.slots[slot as usize]
                .as_ref()
                .and_then(|e| e.player.as_ref());
            if let Some(p) = player {
                if center.within(self.bodies[slot as usize].pos, radius) {
                    out.push(p.player);
                }
            }
        }
    }

    /// Every entity with its kind and position, in id order (for tests and tools).
    pub fn entities(&self) -> impl Iterator<Item = (EntityId, EntityKind, Vec2)> + '_ {
        self.slots
            .iter()
            .zip(&self.bodies)
            .enumerate()
            .filter_map(|(i, (e, b))| {
                let kind = self.replicas.kind(i as u32);
                e.as_ref().map(|e| (e.id, kind, b.pos))
            })
    }

    /// Corrections sent to a player's entity so far.
    pub fn corrections_of(&self, entity: EntityId) -> u32 {
        self.get(entity)
            .and_then(|e| e.player.as_ref())
            .map_or(0, |p| p.corrections)
    }

    /// What to tell a player whose character is (again) in this zone.
    pub fn entered_message(&self, entity: EntityId, now: Instant) -> Option<ZoneEntered> {
        let p = self.get(entity)?.player.as_ref()?;
        Some(ZoneEntered {
            zone: self.id,
            map: self.map.name().to_owned(),
            channel: self.channel,
            entity,
            pos: self.position(entity)?,
            max_speed: self.config.movement.max_speed(),
            epoch: p.mover.epoch(),
            tick: self.tick,
            server_time_us: now.as_micros(),
            map_checksum: self.map.checksum(),
        })
    }

    // ----- inputs -----

    /// Places a player's character at `pos` (a spot in the spawn area if `None`,
    /// or if `pos` is not walkable). `epoch` continues the player's movement
    /// epochs across zones, so inputs in flight for the old zone are ignored here.
    pub fn spawn_player(
        &mut self,
        player: PlayerId,
        pos: Option<Vec2>,
        epoch: u16,
        now: Instant,
    ) -> EntityId {
        let pos = match pos.filter(|&p| self.map.is_walkable(p)) {
            Some(p) => p,
            None => self.spawn_spot(),
        };
        let part = PlayerPart {
            player,
            mover: Mover::new(&self.config.movement, now, epoch),
            queued: 0,
            combat_queued: 0,
            corrections: 0,
        };
        self.players += 1;
        let id = self.insert(EntityKind::Player, pos, Some(part), None);
        let slot = (id.0 - 1) as u32;
        let fighter = Fighter::player(&self.content, 0);
        self.replicas.set_look(slot, 0, fighter.level);
        if let Some(e) = self.slots[slot as usize].as_mut() {
            e.fighter = Some(fighter);
        }
        id
    }

    /// Sets a player's character's experience (its level follows from the
    /// content's table), as loaded from the store.
    pub fn set_experience(&mut self, entity: EntityId, experience: u64) {
        let Some(slot) = self.slot_of(entity) else {
            return;
        };
        let mut fighter = Fighter::player(&self.content, experience);
        self.replicas.set_look(slot, 0, fighter.level);
        if let Some(f) = self.slots[slot as usize]
            .as_mut()
            .filter(|e| e.player.is_some())
            .and_then(|e| e.fighter.as_mut())
        {
            let row = self.content.levels.row(fighter.level);
            fighter.wear(f.gear, row);
            *f = fighter;
        }
    }

    /// A player's worn equipment changed: its stats follow at once.
    pub fn set_gear(&mut self, entity: EntityId, gear: crate::content::ItemStats) {
        let Some(slot) = self.slot_of(entity) else {
            return;
        };
        let content = std::sync::Arc::clone(&self.content);
        if let Some(f) = self.slots[slot as usize]
            .as_mut()
            .filter(|e| e.player.is_some())
            .and_then(|e| e.fighter.as_mut())
            .filter(|f| f.gear != gear)
        {
            f.wear(gear, content.levels.row(f.level));
        }
    }

    /// The combat events of the last tick, in the order they happened (for
    /// tests, tools and the simulator's invariants).
    pub fn combat_events(&self) -> impl Iterator<Item = &crate::protocol::CombatEvent> {
        self.combat.iter()
    }

    /// The tick the entity arrived or the zone last moved it itself (a
    /// respawn): a change means a new place, not a move.
    pub fn placed_at(&self, entity: EntityId) -> Option<Tick> {
        Some(self.get(entity)?.since)
    }

    /// Takes over a player's fighter from another zone whose tick was
    /// `then` (a portal, a channel switch): see [`Fighter::carried`].
    pub fn carry_fighter(&mut self, entity: EntityId, fighter: &Fighter, then: Tick) {
        let Some(slot) = self.slot_of(entity) else {
            return;
        };
        let carried = fighter.carried(then, self.tick);
        self.replicas.set_look(slot, 0, carried.level);
        if let Some(f) = self.slots[slot as usize]
            .as_mut()
            .filter(|e| e.player.is_some())
            .and_then(|e| e.fighter.as_mut())
        {
            *f = carried;
        }
    }

    #[cfg(test)]
    pub(crate) fn fighter_mut_of(&mut self, entity: EntityId) -> Option<&mut Fighter> {
        let slot = self.slot_of(entity)?;
        self.fighter_mut(slot)
    }

    /// A fighter's values (for tests, tools and the simulator's invariants).
    pub fn fighter_of(&self, entity: EntityId) -> Option<&Fighter> {
        self.get(entity)?.fighter.as_ref()
    }

    /// Moves the entity in `slot` to `pos` at once (a respawn): observers
    /// see a jump, its history starts again, and a player's client is
    /// corrected there with a new movement epoch.
    fn teleport_entity(&mut self, slot: u32, pos: Vec2) {
        let tick = self.tick;
        let Some(e) = self.slots[slot as usize].as_mut() else {
            return;
        };
        self.bodies[slot as usize].pos = pos;
        self.aoi.move_to(e.id, pos);
        e.since = Tick(tick.0 + 1);
        e.vel = Vec2::ZERO;
        if let Some(p) = e.player.as_mut() {
            let last = p.mover.last_seq();
            p.mover.new_epoch();
            self.observers[slot as usize].correction = Some(crate::protocol::Correction {
                epoch: p.mover.epoch(),
                seq: last.unwrap_or(0),
                pos,
            });
        }
    }

    /// A walkable spot within `spawn_spread_m` of the map's spawn point, reachable
    /// from it in a straight line, so arrivals do not all stack on one point.
    fn spawn_spot(&mut self) -> Vec2 {
        let base = self.map.spawn_point();
        let spread = self.config.spawn_spread_m.max(0);
        let span = (2 * spread * 256 + 1) as u32;
        for _ in 0..8 {
            let mut offset = || Fixed::from_raw((self.rng.next_u32() % span) as i32 - spread * 256);
            let spot = base + Vec2::new(offset(), offset());
            if self.map.is_walkable(spot)
                && self.map.segment_walkable(base, spot)
                && self.map.portal_at(spot).is_none()
            {
                return spot;
            }
        }
        base
    }

    /// The client starts from nothing (a resume): send it everything again, and
    /// start a new movement epoch so its old inputs in flight are ignored.
    pub fn resync(&mut self, entity: EntityId, now: Instant) {
        let rules = self.config.movement;
        let Some(slot) = self.slot_of(entity) else {
            return;
        };
        if let Some(p) = self.slots[slot as usize]
            .as_mut()
            .and_then(|e| e.player.as_mut())
        {
            self.observers[slot as usize].resync(self.aoi.visible_mut(entity));
            p.mover = Mover::new(&rules, now, p.mover.epoch().wrapping_add(1));
        }
        // Its client starts from nothing: its own values too.
        if let Some(f) = self.slots[slot as usize]
            .as_mut()
            .and_then(|e| e.fighter.as_mut())
        {
            f.vitals_dirty = true;
        }
    }

    /// The movement epoch of a player's entity (to carry to another zone).
    pub fn epoch_of(&self, entity: EntityId) -> Option<u16> {
        self.get(entity)
            .and_then(|e| e.player.as_ref())
            .map(|p| p.mover.epoch())
    }

    /// Queues a movement input received at `now`, for the next tick. Past the
    /// per-tick allowance the input is dropped and counted.
    pub fn queue_move(&mut self, entity: EntityId, now: Instant, input: MoveInput) -> bool {
        let max = self.config.max_inputs_per_tick;
        let (slot, order) = match self.admit(entity, max, |p| &mut p.queued) {
            Ok(admitted) => admitted,
            Err(Admission::Over { .. }) => {
                self.stats.inputs_dropped += 1;
                return false;
            }
            Err(Admission::NoPlayer) => return false,
        };
        self.inputs.push(QueuedInput {
            entity,
            slot,
            order,
            received: now,
            input,
        });
        true
    }

    /// Takes one place of a player's per-tick allowance of `max` queued
    /// inputs of a kind (`count` picks its counter, reset when the tick
    /// applies them): its slot and arrival order, or why not.
    fn admit(
        &mut self,
        entity: EntityId,
        max: u32,
        count: fn(&mut PlayerPart) -> &mut u32,
    ) -> Result<(u32, u32), Admission> {
        let slot = self.slot_of(entity).ok_or(Admission::NoPlayer)?;
        let p = self.slots[slot as usize]
            .as_mut()
            .and_then(|e| e.player.as_mut())
            .ok_or(Admission::NoPlayer)?;
        let n = count(p);
        if *n >= max {
            let first = *n == max;
            *n = n.saturating_add(1);
            return Err(Admission::Over { slot, first });
        }
        *n += 1;
        self.input_order = self.input_order.wrapping_add(1);
        Ok((slot, self.input_order))
    }

    /// Portal transfers noted by the last tick.
    pub fn take_transfers(&mut self) -> std::vec::Drain<'_, Transfer> {
        self.transfers.drain(..)
    }

    // ----- the tick -----

    /// Runs one tick at `now`. Each client's one encoded message (a complete
    /// frame) is then in [`Zone::replies`] until the next tick.
    pub fn run_tick(&mut self, now: Instant) {
        self.tick = Tick(self.tick.0 + 1);
        self.stats.ticks += 1;
        self.replies.clear();
        self.combat.clear();
        self.apply_inputs();
        self.run_combat();
        self.step_monsters();
        self.step_encounter();
        self.step_npcs();
        self.history
            .record(self.tick, self.bodies.iter().map(|b| b.pos));
        self.publish_health();
        self.find_portal_steps();
        self.update_interest();
        self.replicate(now);
        self.reuse_freed_slots();
    }

    /// The frames the last tick made, one per client with something to hear.
    pub fn replies(&self) -> &Replies {
        &self.replies
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fight_tests;

#[cfg(test)]
mod encounter_tests;
