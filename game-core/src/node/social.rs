//! The node's side of the social layer: it tells [`Social`] who entered,
//! moved, dropped and left, hands it each request with the hearers of a
//! `Say` (from the zone), carries its store changes, and at every tick sends
//! what it decided through each session's outbound queue, after the world
//! update, so a tick's chat rides in the same write. Chat lines go as
//! sheddable frames ([`Session::send_chat`]): a client that falls behind
//! loses them first, and is told how many.
//!
//! [`Session::send_chat`]: crate::session::Session::send_chat

use super::store::Purpose;
use super::Node;
use crate::ids::{CharacterId, ConnId, IdMap, PlayerId};
use crate::math::Fixed;
use crate::persist::{Reply, StoreError};
use crate::protocol::{
    encode_frame, health_fraction, ClientSocial, MemberVitals, QPos, ServerMsg, ServerSocial,
    Whereabouts, MAX_SERVER_PAYLOAD,
};
use crate::social::{Deliveries, Social, SocialToken};
use crate::time::{Duration, Instant};

/// The social layer and what the node keeps to serve it.
#[derive(Debug)]
pub(super) struct SocialLink {
    pub(super) social: Social,
    /// The player playing each character the social layer knows.
    players: IdMap<CharacterId, PlayerId>,
    deliveries: Deliveries,
    /// Each message's frame, encoded once for all its recipients.
    frames: Vec<u8>,
    ends: Vec<u32>,
    vitals_due: Vec<(u32, CharacterId)>,
    near: Vec<PlayerId>,
    hearers: Vec<CharacterId>,
}

impl SocialLink {
    pub(super) fn new(social: Social) -> Self {
        SocialLink {
            social,
            players: IdMap::default(),
            deliveries: Deliveries::default(),
            frames: Vec::new(),
            ends: Vec::new(),
            vitals_due: Vec::new(),
            near: Vec::new(),
            hearers: Vec::new(),
        }
    }
}

impl Node {
    /// The social layer (for tests, metrics and the simulator's invariants).
    pub fn social(&self) -> &Social {
        &self.social.social
    }

    /// The character `player` plays and where it is, for the social layer.
    fn whereabouts(&self, player: PlayerId) -> Option<(CharacterId, Whereabouts)> {
        let p = self.players.get(player)?;
        let (map, channel) = self.world.channel_of(p.location?.zone)?;
        Some((p.character?, Whereabouts { map, channel }))
    }

    /// The player playing `character`, as the social layer knows it.
    pub(super) fn social_player_of(&self, character: CharacterId) -> Option<PlayerId> {
        self.social.players.get(&character).copied()
    }

    /// A character entered the world: the social layer loads its record.
    pub(super) fn social_entered(&mut self, now: Instant, player: PlayerId, name: &str) {
        let Some((character, at)) = self.whereabouts(player) else {
            return;
        };
        self.social.players.insert(character, player);
        self.social.social.entered(character, name, at);
        self.carry_social_intents(now);
    }

    /// A character changed map or channel.
    pub(super) fn social_moved(&mut self, player: PlayerId) {
        if let Some((character, at)) = self.whereabouts(player) {
            self.social.social.moved(character, at);
        }
    }

    /// A player's connection dropped (`false`) or came back (`true`).
    pub(super) fn social_connected(&mut self, player: PlayerId, connected: bool) {
        let Some(character) = self.players.get(player).and_then(|p| p.character) else {
            return;
        };
        if connected {
            self.social.social.reattached(character);
        } else {
            self.social.social.detached(character);
        }
    }

    /// A player left for good.
    pub(super) fn social_left(&mut self, now: Instant, character: CharacterId) {
        if self.social.players.remove(&character).is_some() {
            self.social.social.left(character);
            // A guild with no member left here is saved at once.
            self.social.social.save_due(now);
            self.carry_social_intents(now);
        }
    }

    /// A social request from the client on `conn`.
    pub(super) fn route_social(&mut self, now: Instant, conn: ConnId, request: ClientSocial) {
        let Some(player) = self.player_of(conn) else {
            return;
        };
        let Some(p) = self.players.get(player) else {
            return;
        };
        let (Some(character), Some(at)) = (p.character, p.location) else {
            return;
        };
        let mut hearers = std::mem::take(&mut self.social.hearers);
        hearers.clear();
        if matches!(
            request,
            ClientSocial::Chat {
                channel: crate::protocol::ChatChannel::Say,
                ..
            }
        ) {
            let mut near = std::mem::take(&mut self.social.near);
            near.clear();
            let radius = Fixed::from_int(self.social.social.config().say_radius_m as i32);
            if let Some(zone) = self.world.zone(at.zone) {
                zone.players_near(at.entity, radius, &mut near);
            }
            hearers.extend(
                near.iter()
                    .filter_map(|&p| self.players.get(p).and_then(|p| p.character)),
            );
            self.social.near = near;
        }
        self.social.social.handle(now, character, request, &hearers);
        self.social.hearers = hearers;
        self.carry_social_intents(now);
    }

    /// Operator: a system line to everyone online.
    pub fn system_message(&mut self, text: &str) {
        self.social.social.system(text);
    }

    /// Operator: the character named `name`, if online, may not chat or
    /// whisper for `ms`. False if no character of that name is online.
    pub fn mute(&mut self, now: Instant, name: &str, ms: u64) -> bool {
        let Some(c) = self.social.social.online_character(name) else {
            return false;
        };
        self.social.social.mute(c, now + Duration::from_millis(ms));
        true
    }

    /// Store changes the social layer asked for, as intents. One the table
    /// cannot take fails at once (the social layer retries or refuses).
    pub(super) fn carry_social_intents(&mut self, now: Instant) {
        while let Some((token, change)) = self.social.social.take_intent() {
            if self
                .persist(now, change, Purpose::Social { token })
                .is_none()
            {
                self.social
                    .social
                    .store_outcome(now, token, Err(StoreError::Unavailable));
            }
        }
    }

    pub(super) fn social_settled(
        &mut self,
        now: Instant,
        token: SocialToken,
        result: Result<Reply, StoreError>,
    ) {
        self.social.social.store_outcome(now, token, result);
        self.carry_social_intents(now);
    }

    /// At each tick, after the zones: the social layer's timers, party
    /// vitals, and everything it decided, into the sessions.
    pub(super) fn deliver_social(&mut self, now: Instant) {
        let mut due = std::mem::take(&mut self.social.vitals_due);
        due.clear();
        self.social.social.tick(now, &mut due);
        self.carry_social_intents(now);
        self.send_deliveries(now);
        // After the tick's messages, so a member hears of its party before
        // the party's vitals.
        self.send_party_vitals(now, &due);
        self.social.vitals_due = due;
    }

    fn send_deliveries(&mut self, now: Instant) {
        let mut out = std::mem::take(&mut self.social.deliveries);
        self.social.social.drain(&mut out);
        if out.is_empty() {
            self.social.deliveries = out;
            return;
        }
        let (mut frames, mut ends) = (
            std::mem::take(&mut self.social.frames),
            std::mem::take(&mut self.social.ends),
        );
        frames.clear();
        ends.clear();
        for (msg, _) in &out.messages {
            // Every social message is far below the largest payload (lists
            // and lines are bounded); one that is not is dropped, not sent.
            let _ = encode_frame(
                &ServerMsg::Social(msg.clone()),
                MAX_SERVER_PAYLOAD,
                &mut frames,
            );
            ends.push(frames.len() as u32);
        }
        let mut closed = Vec::new();
        for &(character, i) in &out.to {
            let start = if i == 0 {
                0
            } else {
                ends[i as usize - 1] as usize
            };
            let frame = &frames[start..ends[i as usize] as usize];
            let sheddable = out.messages[i as usize].1;
            self.send_social_frame(now, character, frame, sheddable, &mut closed);
        }
        for conn in closed {
            self.session_changed(now, conn);
        }
        self.social.frames = frames;
        self.social.ends = ends;
        self.social.deliveries = out;
    }

    fn send_social_frame(
        &mut self,
        now: Instant,
        character: CharacterId,
        frame: &[u8],
        sheddable: bool,
        closed: &mut Vec<ConnId>,
    ) {
        let Some(conn) = self
            .social
            .players
            .get(&character)
            .and_then(|&p| self.players.get(p))
            .and_then(|p| p.conn)
        else {
            return;
        };
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        if sheddable {
            c.session.send_chat(now, frame);
        } else {
            c.session.send_encoded(now, frame);
        }
        if c.session.is_closed() {
            closed.push(conn);
        } else if !c.queued_for_flush {
            c.queued_for_flush = true;
            self.outbox.to_flush.push_back(conn);
        }
    }

    /// Each due party's members' place and health, to its connected members.
    fn send_party_vitals(&mut self, now: Instant, due: &[(u32, CharacterId)]) {
        for group in due.chunk_by(|a, b| a.0 == b.0) {
            let members: Vec<MemberVitals> = group
                .iter()
                .filter_map(|&(_, c)| self.member_vitals(c))
                .collect();
            let msg = ServerMsg::Social(ServerSocial::PartyVitals { members });
            let mut frame = Vec::new();
            if encode_frame(&msg, MAX_SERVER_PAYLOAD, &mut frame).is_err() {
                continue;
            }
            let mut closed = Vec::new();
            for &(_, c) in group {
                if self.social.social.is_online(c) {
                    self.send_social_frame(now, c, &frame, false, &mut closed);
                }
            }
            for conn in closed {
                self.session_changed(now, conn);
            }
        }
    }

    fn member_vitals(&self, character: CharacterId) -> Option<MemberVitals> {
        let player = *self.social.players.get(&character)?;
        let at = self.players.get(player)?.location?;
        let zone = self.world.zone(at.zone)?;
        let pos = QPos::from_pos(zone.position(at.entity)?);
        let health = zone
            .fighter_of(at.entity)
            .map_or(255, |f| health_fraction(f.health, f.max_health));
        Some(MemberVitals {
            character,
            map: zone.map().name().to_owned(),
            x: pos.x,
            y: pos.y,
            health,
        })
    }
}
