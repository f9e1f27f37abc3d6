//! The character screen: list, create, delete, and entering the world with a
//! chosen character where it last stood.
//!
//! Creating, deleting and loading go through the store; the player is busy
//! until the answer comes (one request at a time), and nothing is shown to
//! the client before it. A character that left with state the store has not
//! yet acknowledged enters with that state, without a load.

use super::store::Purpose;
use super::{Node, NodeEvent};
use crate::auth::validate_character_name;
use crate::ids::{AccountId, CharacterId, ConnId, PlayerId};
use crate::persist::{Change, CharacterRecord, CharacterState, Place, Reply, StoreError};
use crate::protocol::{CharacterRefusal, DisconnectReason};
use crate::session::SessionState;
use crate::time::Instant;

impl Node {
    pub(super) fn list_characters(&mut self, now: Instant, conn: ConnId) {
        let Some(p) = self.player_of(conn).and_then(|p| self.players.get(p)) else {
            return;
        };
        let list = p.characters.clone();
        let max = self.config.max_characters;
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.show_characters(now, list, max);
        }
    }

    pub(super) fn create_character(&mut self, now: Instant, conn: ConnId, name: String) {
        let Some(player) = self.player_of(conn) else {
            return;
        };
        if validate_character_name(&name).is_err() {
            return self.refuse_character(now, conn, CharacterRefusal::InvalidName);
        }
        let Some(p) = self.players.get(player) else {
            return;
        };
        if p.characters.len() >= self.config.max_characters as usize {
            return self.refuse_character(now, conn, CharacterRefusal::TooManyCharacters);
        }
        let account = p.account;
        let map = self.world.start_map().to_owned();
        let pos = self
            .world
            .map(&map)
            .map(|m| m.spawn_point())
            .unwrap_or_default();
        let change = Change::CreateCharacter {
            account,
            name,
            state: CharacterState {
                place: Place {
                    map,
                    channel: 0,
                    pos,
                },
                level: 1,
                experience: 0,
            },
            max_characters: self.config.max_characters,
        };
        self.character_request(now, conn, player, change, Purpose::Characters { player });
    }

    /// The player on `conn` and its account, if `character` is one of the
    /// account's; otherwise the request is refused (`NoSuchCharacter`).
    fn owner_of(
        &mut self,
        now: Instant,
        conn: ConnId,
        character: CharacterId,
    ) -> Option<(PlayerId, AccountId)> {
        let player = self.player_of(conn)?;
        let p = self.players.get(player)?;
        if p.characters.iter().any(|c| c.id == character) {
            return Some((player, p.account));
        }
        self.refuse_character(now, conn, CharacterRefusal::NoSuchCharacter);
        None
    }

    pub(super) fn delete_character(&mut self, now: Instant, conn: ConnId, character: CharacterId) {
        let Some((player, account)) = self.owner_of(now, conn, character) else {
            return;
        };
        let change = Change::DeleteCharacter { account, character };
        self.character_request(now, conn, player, change, Purpose::Characters { player });
    }

    pub(super) fn choose_character(&mut self, now: Instant, conn: ConnId, character: CharacterId) {
        let Some((player, account)) = self.owner_of(now, conn, character) else {
            return;
        };
        if self.saves.is_playing(character) {
            return self.refuse_character(now, conn, CharacterRefusal::Busy);
        }
        // Left with state not yet saved: play that, not the store's older copy.
        if let Some(record) = self.saves.record(character) {
            if let Some(p) = self.players.get_mut(player) {
                p.character = Some(character);
            }
            return self.place_character(now, player, record);
        }
        let change = Change::LoadCharacter { account, character };
        self.character_request(
            now,
            conn,
            player,
            change,
            Purpose::Load { player, character },
        );
        if let Some(p) = self.players.get_mut(player) {
            p.character = Some(character);
        }
    }

    fn character_request(
        &mut self,
        now: Instant,
        conn: ConnId,
        player: PlayerId,
        change: Change,
        purpose: Purpose,
    ) {
        if self.players.get(player).is_some_and(|p| p.busy) {
            return self.refuse_character(now, conn, CharacterRefusal::Busy);
        }
        if self.persist(now, change, purpose).is_none() {
            return self.refuse_character(now, conn, CharacterRefusal::StoreUnavailable);
        }
        if let Some(p) = self.players.get_mut(player) {
            p.busy = true;
        }
    }

    fn refuse_character(&mut self, now: Instant, conn: ConnId, reason: CharacterRefusal) {
        self.stats.character_refusals += 1;
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.refuse_character(now, reason);
        }
    }

    /// The session of `player`'s connection, if it is in `state`.
    fn conn_in(&self, player: PlayerId, state: SessionState) -> Option<ConnId> {
        let conn = self.players.get(player)?.conn?;
        (self.connections.get(&conn)?.session.state() == &state).then_some(conn)
    }

    pub(super) fn characters_changed(
        &mut self,
        now: Instant,
        player: PlayerId,
        result: Result<Reply, StoreError>,
    ) {
        let Some(p) = self.players.get_mut(player) else {
            return;
        };
        p.busy = false;
        let refusal = match result {
            Ok(Reply::Characters(list)) => {
                p.characters = list;
                None
            }
            Ok(_) => Some(CharacterRefusal::StoreUnavailable),
            Err(e) => Some(refusal_for(e)),
        };
        let Some(conn) = self.conn_in(player, SessionState::Authenticated) else {
            return;
        };
        match refusal {
            Some(reason) => self.refuse_character(now, conn, reason),
            None => self.list_characters(now, conn),
        }
    }

    pub(super) fn character_loaded(
        &mut self,
        now: Instant,
        player: PlayerId,
        character: CharacterId,
        result: Result<Reply, StoreError>,
    ) {
        let Some(p) = self.players.get_mut(player) else {
            return;
        };
        p.busy = false;
        let conn = self.conn_in(player, SessionState::Entering);
        match (result, conn) {
            (Ok(Reply::Character(record)), Some(_)) if record.id == character => {
                self.place_character(now, player, record)
            }
            (result, conn) => {
                if let Some(p) = self.players.get_mut(player) {
                    p.character = None;
                }
                if let Some(conn) = conn {
                    let reason = match result {
                        Err(e) => refusal_for(e),
                        Ok(_) => CharacterRefusal::StoreUnavailable,
                    };
                    self.refuse_character(now, conn, reason);
                }
            }
        }
    }

    /// Puts a loaded character in the world where it last stood: its map and
    /// channel if they still exist and have room, else its map's least-loaded
    /// channel, else the start map. A character never saved appears at a
    /// spawn spot.
    fn place_character(&mut self, now: Instant, player: PlayerId, record: CharacterRecord) {
        let Some(conn) = self.players.get(player).and_then(|p| p.conn) else {
            return;
        };
        let place = &record.state.place;
        let pos = (record.version > 0).then_some(place.pos);
        let start = self.world.start_map().to_owned();
        let placed = self
            .world
            .place(&place.map, Some(place.channel), player, pos, 0, now)
            .or_else(|_| self.world.place(&place.map, None, player, pos, 0, now))
            .or_else(|_| self.world.place(&start, None, player, None, 0, now));
        let Ok(location) = placed else {
            if let Some(p) = self.players.get_mut(player) {
                p.character = None;
            }
            self.close(now, conn, DisconnectReason::ServerFull);
            return;
        };
        let mut summary = record.summary();
        if let Some(zone) = self.world.zone(location.zone) {
            summary.map = zone.map().name().to_owned();
        }
        let experience = record.state.experience;
        let character = record.id;
        let name = record.name.clone();
        self.start_playing(now, player, record);
        if let Some(p) = self.players.get_mut(player) {
            p.in_world = true;
            p.location = Some(location);
            p.character = Some(character);
        }
        self.social_entered(now, player, &name);
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.enter_world(now, summary, experience);
        }
        self.send_zone_entered(now, player);
        self.send_skillbook(now, player);
        // After the client hears it entered: its economy views follow.
        self.wallet_entered(now, player, character);
        self.world.arm_tick(now);
        self.event(NodeEvent::EnteredWorld { player, character });
    }
}

fn refusal_for(error: StoreError) -> CharacterRefusal {
    match error {
        StoreError::NameTaken => CharacterRefusal::NameTaken,
        StoreError::TooManyCharacters => CharacterRefusal::TooManyCharacters,
        StoreError::NoSuchCharacter => CharacterRefusal::NoSuchCharacter,
        StoreError::Unavailable | StoreError::NoSuchAccount | StoreError::Conflict => {
            CharacterRefusal::StoreUnavailable
        }
    }
}
