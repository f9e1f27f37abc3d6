//! Accounts: login, resume, take-over, the grace period and leaving.
//!
//! A session is a connection; a player is a logged-in account that outlives a
//! dropped connection for the grace period. One account, one player, one
//! session: a second login or a resume takes the player over and closes the
//! older connection. A login is checked here (a development name, or a token
//! from the login service), then the store opens the account; only its answer
//! welcomes the client. Owns the grace timers; places nothing in the world
//! (that is `characters.rs` and `routing.rs`), but takes a leaving player's
//! character out of it and has it saved.

use super::store::Purpose;
use super::{Node, NodeEvent};
use crate::auth::{Admission, ReplayGuard, VerifyingKey};
use crate::bus::BusMessage;
use crate::ids::{AccountId, ConnId, PlayerId};
use crate::persist::{AccountRef, Change, Place, Reply, StoreError};
use crate::protocol::{
    Credentials, DisconnectReason, LoginRefusal, ResumeToken, TokenRefusal, MAX_NAME_LEN,
};
use crate::session::{SessionState, WelcomeInfo};
use crate::time::Instant;
use rand_core::RngCore;

/// What a node needs to accept login tokens: the login service's public key,
/// the wall clock, and the tokens already used.
#[derive(Debug)]
pub(super) struct TokenCheck {
    key: VerifyingKey,
    /// Unix milliseconds at the node's `Instant` zero: the driver's wall clock
    /// (the simulator's is fixed, so its runs replay).
    unix_ms_at_zero: u64,
    /// Unix seconds when tokens began to be accepted: one issued before may
    /// have been used on this server's previous run, which `used` no longer
    /// remembers, so it is refused.
    since: u64,
    used: ReplayGuard,
}

impl Node {
    /// Accept login tokens signed by the pair of `key`, from `now` on.
    /// `unix_ms_at_zero` is the wall-clock time (unix milliseconds) of the
    /// `Instant` zero the driver counts from; token expiry is read against
    /// it. Tokens issued before `now` are refused (as expired): each token
    /// logs in once, and the tokens used before this node started are not
    /// known to it.
    pub fn accept_tokens(&mut self, key: VerifyingKey, unix_ms_at_zero: u64, now: Instant) {
        self.tokens = Some(TokenCheck {
            key,
            unix_ms_at_zero,
            since: (unix_ms_at_zero + now.as_micros() / 1000) / 1000,
            used: ReplayGuard::new(self.config.max_token_ids as usize),
        });
    }

    pub(super) fn login(&mut self, now: Instant, conn: ConnId, credentials: Credentials) {
        let account = match credentials {
            Credentials::Dev { name } => {
                if !self.config.dev_login {
                    return self.refuse_login(now, conn, LoginRefusal::DevLoginDisabled);
                }
                if !valid_dev_name(&name) {
                    return self.refuse_login(now, conn, LoginRefusal::InvalidName);
                }
                AccountRef::Dev(name)
            }
            Credentials::Token { token } => match self.check_token(now, &token) {
                Ok(account) => AccountRef::Id(account),
                Err(refusal) => return self.refuse_login(now, conn, refusal),
            },
        };
        if self.store_busy() {
            return self.refuse_login(now, conn, LoginRefusal::ServerBusy);
        }
        let change = Change::OpenAccount { account };
        if self.persist(now, change, Purpose::Login { conn }).is_none() {
            self.refuse_login(now, conn, LoginRefusal::ServerBusy);
        }
    }

    fn check_token(&mut self, now: Instant, token: &str) -> Result<AccountId, LoginRefusal> {
        let Some(check) = self.tokens.as_mut() else {
            // No key: this server takes no tokens.
            return Err(LoginRefusal::Token(TokenRefusal::BadSignature));
        };
        let unix_s = (check.unix_ms_at_zero + now.as_micros() / 1000) / 1000;
        let claims = check
            .key
            .verify(token, unix_s)
            .map_err(LoginRefusal::Token)?;
        if claims.issued_at < check.since {
            return Err(LoginRefusal::Token(TokenRefusal::Expired));
        }
        match check.used.admit(claims.token_id, claims.expires_at, unix_s) {
            Admission::First => Ok(claims.account),
            Admission::Replayed => Err(LoginRefusal::Token(TokenRefusal::Replayed)),
            Admission::Full => Err(LoginRefusal::ServerBusy),
        }
    }

    fn refuse_login(&mut self, now: Instant, conn: ConnId, refusal: LoginRefusal) {
        *self
            .stats
            .login_refusals
            .entry(refusal_label(refusal))
            .or_default() += 1;
        self.close(now, conn, DisconnectReason::LoginRefused(refusal));
    }

    /// The store opened the account of a login on `conn`.
    pub(super) fn account_opened(
        &mut self,
        now: Instant,
        conn: ConnId,
        result: Result<Reply, StoreError>,
    ) {
        let waiting = self
            .connections
            .get(&conn)
            .is_some_and(|c| c.session.state() == &SessionState::LoggingIn);
        if !waiting {
            return;
        }
        let Ok(Reply::Account {
            account,
            name,
            characters,
        }) = result
        else {
            return self.refuse_login(now, conn, LoginRefusal::StoreUnavailable);
        };
        if let Some(existing) = self.players.by_account(account) {
            if let Some(p) = self.players.get_mut(existing) {
                p.characters = characters;
            }
            return self.take_over(now, conn, existing);
        }
        if self.connections.get(&conn).is_some_and(|c| c.resume_only) {
            self.close(now, conn, DisconnectReason::TooManyConnections);
            return;
        }
        if self.players.len() >= self.config.max_players as usize {
            self.close(now, conn, DisconnectReason::ServerFull);
            return;
        }
        let token = self.new_token();
        let player = self
            .players
            .insert(account, name.clone(), characters.clone(), conn, token);
        self.stats.logins += 1;
        self.publish(BusMessage::Presence {
            account,
            online: true,
        });
        self.event(NodeEvent::LoggedIn { conn, player, name });
        self.welcome(now, conn, player, token, false);
        let max = self.config.max_characters;
        if let Some(c) = self.connections.get_mut(&conn) {
            c.session.show_characters(now, characters, max);
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
        let in_world = p.location.is_some();
        let characters = p.characters.clone();
        self.grace_timers.set(player, None);
        if let Some(old) = old {
            if old != conn {
                self.close(now, old, DisconnectReason::LoggedInElsewhere);
            }
        }
        self.stats.resumes += 1;
        self.event(NodeEvent::Resumed { conn, player });
        self.welcome(now, conn, player, token, true);
        if in_world {
            // Straight back into the world, with no round trip: `EnteredWorld`,
            // `ZoneEntered`, and at the next tick every entity in view spawned
            // afresh, before any update refers to one.
            self.reenter_world(now, conn);
        } else {
            let max = self.config.max_characters;
            if let Some(c) = self.connections.get_mut(&conn) {
                c.session.show_characters(now, characters, max);
            }
        }
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
            self.social_connected(player, false);
            self.event(NodeEvent::Detached { player, reason });
        } else {
            self.remove_player(now, player, reason);
        }
    }

    pub(super) fn grace_ended(&mut self, now: Instant, player: PlayerId) {
        let expired = self
            .players
            .get(player)
            .is_some_and(|p| p.conn.is_none() && p.grace_until.is_some_and(|t| t <= now));
        if expired {
            self.remove_player(now, player, DisconnectReason::ConnectionLost);
        }
    }

    /// The player leaves for good: its character leaves the world and is
    /// saved where it stood.
    pub(super) fn remove_player(
        &mut self,
        now: Instant,
        player: PlayerId,
        reason: DisconnectReason,
    ) {
        let Some(p) = self.players.remove(player) else {
            return;
        };
        if let Some(character) = p.character {
            self.social_left(now, character);
            self.wallet_left(now, character);
        }
        if let (Some(at), Some(character)) = (p.location, p.character) {
            let channel = self.world.channel_of(at.zone);
            // In a raid instance, it is saved where it came from.
            let back = self.raids.instances.saved_place(character, at.zone);
            if let (Some((map, channel)), Some(pos)) = (channel, self.world.remove(at)) {
                let place = back.unwrap_or(Place { map, channel, pos });
                self.stop_playing(now, character, place);
            }
            self.raid_left(now, character);
        } else if let Some(character) = p.character {
            self.raid_left(now, character);
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

fn valid_dev_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.trim() == name
        && !name.chars().any(char::is_control)
}

/// The metric label of a login refusal.
pub fn refusal_label(refusal: LoginRefusal) -> &'static str {
    match refusal {
        LoginRefusal::InvalidName => "invalid_name",
        LoginRefusal::Token(TokenRefusal::Malformed) => "token_malformed",
        LoginRefusal::Token(TokenRefusal::BadSignature) => "token_bad_signature",
        LoginRefusal::Token(TokenRefusal::Expired) => "token_expired",
        LoginRefusal::Token(TokenRefusal::Replayed) => "token_replayed",
        LoginRefusal::DevLoginDisabled => "dev_login_disabled",
        LoginRefusal::ServerBusy => "server_busy",
        LoginRefusal::StoreUnavailable => "store_unavailable",
    }
}
