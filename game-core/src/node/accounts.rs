//! Accounts: login, resume, take-over, the grace period and leaving.
//!
//! A session is a connection; a player is a logged-in character that outlives
//! a dropped connection for the grace period. One account, one player, one
//! session: a second login or a resume takes the player over and closes the
//! older connection. Owns the grace timers; places nothing in the world (that
//! is `routing.rs`), but takes a leaving player's character out of it.

use super::{Node, NodeEvent};
use crate::bus::BusMessage;
use crate::ids::{ConnId, PlayerId};
use crate::persist::{Change, Place};
use crate::protocol::{Credentials, DisconnectReason, LoginRefusal, ResumeToken, MAX_NAME_LEN};
use crate::session::WelcomeInfo;
use crate::time::Instant;
use rand_core::RngCore;

impl Node {
    pub(super) fn login(&mut self, now: Instant, conn: ConnId, credentials: Credentials) {
        let Credentials::Dev { name } = credentials;
        if !valid_name(&name) {
            self.close(
                now,
                conn,
                DisconnectReason::LoginRefused(LoginRefusal::InvalidName),
            );
            return;
        }
        match self.players.by_account(&name) {
            Some(existing) => self.take_over(now, conn, existing),
            None => {
                if self.connections.get(&conn).is_some_and(|c| c.resume_only) {
                    self.close(now, conn, DisconnectReason::TooManyConnections);
                    return;
                }
                if self.players.len() >= self.config.max_players as usize {
                    self.close(now, conn, DisconnectReason::ServerFull);
                    return;
                }
                let token = self.new_token();
                let player = self.players.insert(name.clone(), conn, token);
                self.stats.logins += 1;
                self.publish(BusMessage::Presence {
                    account: name.clone(),
                    online: true,
                });
                self.event(NodeEvent::LoggedIn { conn, player, name });
                self.welcome(now, conn, player, token, false);
            }
        }
    }

    pub(super) fn resume(
        &mut self,
        now: Instant,
        conn: ConnId,
        player: PlayerId,
        token: ResumeToken,
    ) {
        let valid = self
            .players
            .get(player)
            .is_some_and(|p| p.resume_token.matches(&token));
        if valid {
            self.take_over(now, conn, player);
        } else {
            self.close(now, conn, DisconnectReason::ResumeRejected);
        }
    }

    /// Attaches `conn` to an existing player, closing the player's older
    /// connection if it still has one: one player, one session, no ghosts.
    fn take_over(&mut self, now: Instant, conn: ConnId, player: PlayerId) {
        let token = self.new_token();
        let Some(p) = self.players.get_mut(player) else {
            return;
        };
        let old = p.conn.replace(conn);
        p.grace_until = None;
        p.resume_token = token;
        p.in_world = false;
        self.grace_timers.set(player, None);
        if let Some(old) = old {
            if old != conn {
                self.close(now, old, DisconnectReason::LoggedInElsewhere);
            }
        }
        self.stats.resumes += 1;
        self.event(NodeEvent::Resumed { conn, player });
        self.welcome(now, conn, player, token, true);
        // Straight back into the world, with no round trip: `EnteredWorld`,
        // `ZoneEntered`, and at the next tick every entity in view spawned
        // afresh, before any update refers to one.
        self.enter_world(now, conn);
    }

    fn welcome(
        &mut self,
        now: Instant,
        conn: ConnId,
        player: PlayerId,
        token: ResumeToken,
        resumed: bool,
    ) {
        let info = WelcomeInfo {
            tick_hz: self.config.tick_hz,
            resume_grace: self.config.resume_grace(),
        };
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.accept(now, player, token, resumed, info);
        }
    }

    fn new_token(&mut self) -> ResumeToken {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        ResumeToken(bytes)
    }

    /// A connection closed: its player (unless another connection has taken it
    /// over) waits for a resume or leaves at once, by the reason.
    pub(super) fn connection_closed(
        &mut self,
        now: Instant,
        conn: ConnId,
        reason: DisconnectReason,
    ) {
        let Some(player) = self.connections.get(&conn).and_then(|c| c.session.player()) else {
            return;
        };
        if self.players.get(player).and_then(|p| p.conn) != Some(conn) {
            return;
        }
        if keeps_player_for_resume(&reason) && !self.shutting_down {
            let until = now + self.config.resume_grace();
            if let Some(p) = self.players.get_mut(player) {
                p.conn = None;
                p.grace_until = Some(until);
                p.in_world = false;
            }
            self.grace_timers.set(player, Some(until));
            self.event(NodeEvent::Detached { player, reason });
        } else {
            self.remove_player(player, reason);
        }
    }

    pub(super) fn grace_ended(&mut self, now: Instant, player: PlayerId) {
        let expired = self
            .players
            .get(player)
            .is_some_and(|p| p.conn.is_none() && p.grace_until.is_some_and(|t| t <= now));
        if expired {
            self.remove_player(player, DisconnectReason::ConnectionLost);
        }
    }

    /// The player leaves for good: its character leaves the world, and the store
    /// is asked to remember where it stood.
    pub(super) fn remove_player(&mut self, player: PlayerId, reason: DisconnectReason) {
        let Some(p) = self.players.remove(player) else {
            return;
        };
        if let Some(at) = p.location {
            let map = self.world.channel_of(at.zone).map(|(map, _)| map);
            if let (Some(map), Some(pos)) = (map, self.world.remove(at)) {
                self.persist(Change::SavePlace {
                    account: p.account.clone(),
                    place: Place { map, pos },
                });
            }
        }
        self.grace_timers.set(player, None);
        self.publish(BusMessage::Presence {
            account: p.account,
            online: false,
        });
        self.event(NodeEvent::PlayerLeft { player, reason });
    }
}

/// Disconnects caused by the network keep the player for a resume; the rest (the
/// client left, broke the rules, or was replaced) end the player at once.
fn keeps_player_for_resume(reason: &DisconnectReason) -> bool {
    matches!(
        reason,
        DisconnectReason::ConnectionLost
            | DisconnectReason::IdleTimeout
            | DisconnectReason::FrameTimeout
            | DisconnectReason::SlowReader
    )
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.trim() == name
        && !name.chars().any(char::is_control)
}
