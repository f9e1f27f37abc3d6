//! Routing: each request a session passes up goes to the part that owns it,
//! and characters move between zones (entering the world, channel switches,
//! portals, operator moves).
//!
//! The session decides only whether a message is allowed in its state; what a
//! request means is decided here or by the subsystem it is routed to. Owns no
//! state of its own.

use super::{Location, Node, NodeEvent};
use crate::ids::{ConnId, EntityId, PlayerId, ZoneId};
use crate::math::Vec2;
use crate::protocol::{
    ChannelRefusal, ClientMsg, ClientWorld, MapChunk, MoveInput, PortalInfo, ServerMsg,
    ServerWorld, MAX_MAP_CHUNK_BYTES,
};
use crate::session::SessionRequest;
use crate::time::Instant;
use crate::zone::Zone;
use std::fmt;

/// Why an operator's move of a character (teleport, transfer) did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferError {
    /// No player has that id.
    NoSuchPlayer,
    /// The player is logged in but has no character in the world.
    NotInWorld,
    /// No map has that name.
    NoSuchMap,
    /// The zone refused the character (full, or the channel does not exist).
    Refused(ChannelRefusal),
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::NoSuchPlayer => f.write_str("no such player"),
            TransferError::NotInWorld => f.write_str("the player is not in the world"),
            TransferError::NoSuchMap => f.write_str("no such map"),
            TransferError::Refused(r) => write!(f, "refused by the zone: {r:?}"),
        }
    }
}

impl std::error::Error for TransferError {}

/// Where a character is moved to.
enum Target<'a> {
    /// A map: this channel, or the least loaded one with room.
    Map { map: &'a str, channel: Option<u16> },
    /// A raid instance's zone.
    Instance(ZoneId),
}

impl Node {
    /// Carries out what a session asked for.
    pub(super) fn route(&mut self, now: Instant, conn: ConnId, request: SessionRequest) {
        match request {
            SessionRequest::Login { credentials } => self.login(now, conn, credentials),
            SessionRequest::Resume { player, token } => self.resume(now, conn, player, token),
            SessionRequest::ListCharacters => self.list_characters(now, conn),
            SessionRequest::CreateCharacter { name } => self.create_character(now, conn, name),
            SessionRequest::DeleteCharacter { character } => {
                self.delete_character(now, conn, character)
            }
            SessionRequest::EnterWorld { character } => self.choose_character(now, conn, character),
            SessionRequest::Game(ClientMsg::World(request)) => match request {
                ClientWorld::Move(input) => self.route_move(now, conn, input),
                ClientWorld::SwitchChannel { channel } => self.switch_channel(now, conn, channel),
                ClientWorld::FetchMap { first_row } => self.send_map(now, conn, first_row),
            },
            SessionRequest::Game(ClientMsg::Combat(request)) => self.route_combat(conn, request),
            SessionRequest::Game(ClientMsg::Social(request)) => {
                self.route_social(now, conn, request)
            }
            SessionRequest::Game(ClientMsg::Economy(request)) => {
                self.route_economy(now, conn, request)
            }
            SessionRequest::Game(ClientMsg::Raid(request)) => self.route_raid(now, conn, request),
            // The session answers its own messages and passes only the others.
            SessionRequest::Game(ClientMsg::Session(_)) => {}
        }
    }

    /// Operator command: puts a player's character at `pos` in its current map
    /// and channel (observers see it leave and appear; its client is told).
    pub fn teleport(
        &mut self,
        now: Instant,
        player: PlayerId,
        pos: Vec2,
    ) -> Result<(), TransferError> {
        let at = self.location_of(player)?;
        let (map, channel) = self
            .world
            .channel_of(at.zone)
            .ok_or(TransferError::NotInWorld)?;
        self.relocate(now, player, &map, Some(channel), Some(pos))?;
        self.player_changed(now, player);
        Ok(())
    }

    /// Operator command: moves a player's character to `map` (its spawn area).
    pub fn transfer(
        &mut self,
        now: Instant,
        player: PlayerId,
        map: &str,
    ) -> Result<(), TransferError> {
        self.relocate(now, player, map, None, None)?;
        self.player_changed(now, player);
        Ok(())
    }

    pub(super) fn player_of(&self, conn: ConnId) -> Option<PlayerId> {
        self.connections.get(&conn)?.session.player()
    }

    fn location_of(&self, player: PlayerId) -> Result<Location, TransferError> {
        self.players
            .get(player)
            .ok_or(TransferError::NoSuchPlayer)?
            .location
            .ok_or(TransferError::NotInWorld)
    }

    /// A take-over found the player's character still in the world: the new
    /// session enters with it, and the client's view starts afresh.
    pub(super) fn reenter_world(&mut self, now: Instant, conn: ConnId) {
        let Some(player) = self.player_of(conn) else {
            return;
        };
        let Some(p) = self.players.get(player) else {
            return;
        };
        let (Some(at), Some(character)) = (p.location, p.character) else {
            return;
        };
        let Some(record) = self.saves.record(character) else {
            return;
        };
        if let Some(zone) = self.world.zone_mut(at.zone) {
            zone.resync(at.entity, now);
        }
        let mut summary = record.summary();
        if let Some((map, _)) = self.world.channel_of(at.zone) {
            summary.map = map;
        }
        if let Some(p) = self.players.get_mut(player) {
            p.in_world = true;
        }
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.enter_world(now, summary, record.state.experience);
        }
        self.social_connected(player, true);
        self.send_zone_entered(now, player);
        self.send_skillbook(now, player);
        self.send_economy_views(now, character);
        self.raid_reentered(now, player, character);
        self.world.arm_tick(now);
        self.event(NodeEvent::EnteredWorld { player, character });
    }

    fn route_move(&mut self, now: Instant, conn: ConnId, input: MoveInput) {
        if let Some((zone, entity)) = self.zone_of_conn(conn) {
            zone.queue_move(entity, now, input);
        }
    }

    /// The zone and entity of the character a connection plays, if it is
    /// in the world.
    pub(super) fn zone_of_conn(&mut self, conn: ConnId) -> Option<(&mut Zone, EntityId)> {
        let at = self
            .player_of(conn)
            .and_then(|p| self.players.get(p))
            .and_then(|p| p.location)?;
        Some((self.world.zone_mut(at.zone)?, at.entity))
    }

    fn switch_channel(&mut self, now: Instant, conn: ConnId, channel: u16) {
        let Some(player) = self.player_of(conn) else {
            return;
        };
        let Ok(at) = self.location_of(player) else {
            return;
        };
        let Some((map, current)) = self.world.channel_of(at.zone) else {
            return;
        };
        // Same place, another copy of the map.
        let here = self.world.zone(at.zone).and_then(|z| z.position(at.entity));
        let refusal = if channel == current {
            Some(ChannelRefusal::AlreadyThere)
        } else {
            match self.relocate(now, player, &map, Some(channel), here) {
                Ok(()) => None,
                Err(TransferError::Refused(r)) => Some(r),
                // The map and the character were just found; nothing else fails.
                Err(_) => Some(ChannelRefusal::NoSuchChannel),
            }
        };
        if let Some(reason) = refusal {
            if let Some(c) = self.connections.get_mut(&conn) {
                c.session.send(
                    now,
                    &ServerMsg::World(ServerWorld::ChannelRefused { channel, reason }),
                );
            }
        }
    }

    /// Answers a map fetch with the rows from `first_row` that fit one chunk.
    fn send_map(&mut self, now: Instant, conn: ConnId, first_row: u32) {
        let Some(at) = self.player_of(conn).and_then(|p| self.location_of(p).ok()) else {
            return;
        };
        let Some(map) = self.world.zone(at.zone).map(|z| z.map()) else {
            return;
        };
        let per_chunk = (MAX_MAP_CHUNK_BYTES as u32 * 8 / map.width()).max(1);
        let first_row = first_row.min(map.height());
        let rows = per_chunk.min(map.height() - first_row);
        let chunk = MapChunk {
            map: map.name().to_owned(),
            checksum: map.checksum(),
            cell_m: map.cell_metres(),
            width: map.width(),
            height: map.height(),
            spawn: map.spawn_cell(),
            portals: map
                .portals()
                .iter()
                .map(|p| PortalInfo {
                    cell: p.cell,
                    target_map: p.target_map.clone(),
                    target_cell: p.target_cell,
                })
                .collect(),
            first_row,
            rows,
            walkable: map.walkable_rows(first_row, rows),
        };
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session
                .send(now, &ServerMsg::World(ServerWorld::MapChunk(chunk)));
        }
    }

    /// Moves a character to another zone: out of the old one (its observers see
    /// it leave at their next tick), into the new one (observers there see it
    /// appear), and tells the client.
    pub(super) fn relocate(
        &mut self,
        now: Instant,
        player: PlayerId,
        map: &str,
        channel: Option<u16>,
        pos: Option<Vec2>,
    ) -> Result<(), TransferError> {
        if self.world.map(map).is_none() {
            return Err(TransferError::NoSuchMap);
        }
        self.move_character(now, player, Target::Map { map, channel }, pos)
    }

    /// Moves a character into raid instance `zone`, at its map's spawn.
    pub(super) fn move_to_zone(
        &mut self,
        now: Instant,
        player: PlayerId,
        zone: ZoneId,
    ) -> Result<(), TransferError> {
        self.move_character(now, player, Target::Instance(zone), None)
    }

    /// The one transfer path: portals, channel switches, operator moves and
    /// raid instances all move a character with it.
    fn move_character(
        &mut self,
        now: Instant,
        player: PlayerId,
        to: Target<'_>,
        pos: Option<Vec2>,
    ) -> Result<(), TransferError> {
        let from = self.location_of(player)?;
        let epoch = self
            .world
            .zone(from.zone)
            .and_then(|z| z.epoch_of(from.entity))
            .unwrap_or(0)
            .wrapping_add(1);
        // Place first: a refused move leaves the character where it was.
        let to = match to {
            Target::Map { map, channel } => self.world.place(map, channel, player, pos, epoch, now),
            Target::Instance(zone) => self.world.place_in(zone, player, pos, epoch, now),
        }
        .map_err(TransferError::Refused)?;
        let map = self.world.channel_of(to.zone).map(|(m, _)| m);
        // Health, mana and cooldowns go along (no healing by portal).
        let carried = self
            .world
            .zone(from.zone)
            .and_then(|z| Some((z.fighter_of(from.entity)?.clone(), z.tick())));
        if let (Some((fighter, then)), Some(zone)) = (carried, self.world.zone_mut(to.zone)) {
            zone.carry_fighter(to.entity, &fighter, then);
        }
        let left = self.world.channel_of(from.zone).map(|(m, _)| m);
        self.world.remove(from);
        let mut character = None;
        if let Some(p) = self.players.get_mut(player) {
            p.location = Some(to);
            character = p.character;
        }
        if let Some(c) = character.filter(|_| from.zone != to.zone) {
            self.instance_zone_left(now, player, c, from.zone);
        }
        self.stats.transfers += 1;
        self.social_moved(player);
        self.send_zone_entered(now, player);
        // A map change is saved at once; a channel switch waits for the next save.
        if left != map {
            self.save_playing(now, player);
        }
        Ok(())
    }

    pub(super) fn send_zone_entered(&mut self, now: Instant, player: PlayerId) {
        let Some(p) = self.players.get(player) else {
            return;
        };
        let (Some(at), Some(conn)) = (p.location, p.conn) else {
            return;
        };
        let Some(msg) = self
            .world
            .zone(at.zone)
            .and_then(|z| z.entered_message(at.entity, now))
        else {
            return;
        };
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session
                .send(now, &ServerMsg::World(ServerWorld::ZoneEntered(msg)));
        }
        self.arm_character(player);
    }

    /// Bookkeeping for the connection of a player something was sent to.
    pub(super) fn player_changed(&mut self, now: Instant, player: PlayerId) {
        if let Some(conn) = self.players.get(player).and_then(|p| p.conn) {
            self.session_changed(now, conn);
        }
    }
}
