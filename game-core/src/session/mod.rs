//! One connection's life: handshake, login, heartbeats, limits, close.
//!
//! The session owns the connection's framing, its rate limit, its outbound queue
//! and its timers. It knows nothing of other connections: whatever needs the whole
//! server (accounts, duplicate logins, resume) it hands to the node as a
//! [`SessionRequest`], and the node answers with [`Session::accept`],
//! [`Session::enter_world`] or [`Session::close`].
//!
//! ```text
//! AwaitingHello --Hello(ok)--> AwaitingLogin --Login--> LoggingIn --accept--> Authenticated
//! AwaitingLogin --Resume + accept--> Authenticated
//! Authenticated --EnterWorld--> Entering --enter_world--> InWorld
//!               Entering --refuse_character--> Authenticated (the character screen)
//! Authenticated --enter_world (a take-over puts the character back)--> InWorld
//!       any state --close(reason)--> Closed (a Disconnect frame is the last thing sent)
//! ```
//!
//! While the node waits for the store (`LoggingIn`, `Entering`) the session
//! still answers heartbeats, and the handshake deadline still runs before login.
//!
//! ```text
//! ```

mod config;
mod rate_limit;
mod types;

pub use config::SessionConfig;
pub use rate_limit::{RateDecision, TokenBucket};
pub use types::{SessionRequest, SessionState, SessionStats, WelcomeInfo};

use crate::heartbeat::Pinger;
use crate::ids::{ConnId, PlayerId};
use crate::protocol::{
    encode_frame, CharacterRefusal, CharacterSummary, ClientMsg, ClientSession, DisconnectReason,
    FrameDecoder, FrameError, ResumeToken, ServerMsg, ServerSession, ServerSocial, Violation,
    MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};
use crate::time::{Duration, Instant};

const UNEXPECTED: DisconnectReason =
    DisconnectReason::ProtocolViolation(Violation::UnexpectedMessage);

/// Laid out in the order written (`repr(C)`), hottest first: what sending a
/// tick's update, confirming a write and the timer check read shares the first
/// cache lines. Cachegrind, `sim --bots 1000 --seconds 10 --seed 42`
/// (2026-12-06), with the four `repr(C)` orderings (`node::Connection`,
/// `Session`, `Pinger`, `Client`) against none: 18.37M first-level data-cache
/// misses against 19.40M, for 0.2% more instructions; last-level misses equal.
#[derive(Debug)]
#[repr(C)]
pub struct Session {
    state: SessionState,
    /// Bytes handed to the driver and not yet confirmed written.
    in_flight: usize,
    /// Encoded frames not yet handed to the driver.
    out: Vec<u8>,
    stats: SessionStats,
    last_heard: Instant,
    /// When the frame now partly received began to arrive.
    partial_since: Option<Instant>,
    opened_at: Instant,
    /// The player this session is (or, once closed, was) attached to.
    player: Option<PlayerId>,
    conn: ConnId,
    config: SessionConfig,
    decoder: FrameDecoder,
    bucket: TokenBucket,
    pinger: Pinger,
    /// Chat lines dropped since the client was last told.
    chat_missed: u32,
}

impl Session {
    pub fn new(conn: ConnId, config: SessionConfig, now: Instant) -> Self {
        let heartbeat = Duration::from_millis(config.heartbeat_interval_ms as u64);
        Session {
            conn,
            decoder: FrameDecoder::new(config.max_inbound_payload),
            bucket: TokenBucket::new(config.rate_limit_per_second, config.rate_limit_burst, now),
            pinger: Pinger::new(heartbeat, now + heartbeat),
            config,
            state: SessionState::AwaitingHello,
            player: None,
            out: Vec::new(),
            in_flight: 0,
            opened_at: now,
            last_heard: now,
            partial_since: None,
            stats: SessionStats::default(),
            chat_missed: 0,
        }
    }

    pub fn conn(&self) -> ConnId {
        self.conn
    }

    pub fn state(&self) -> &SessionState {
        &self.state
    }

    /// The player this session is attached to; kept after the session closes.
    pub fn player(&self) -> Option<PlayerId> {
        self.player
    }

    pub fn close_reason(&self) -> Option<&DisconnectReason> {
        match &self.state {
            SessionState::Closed { reason } => Some(reason),
            _ => None,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, SessionState::Closed { .. })
    }

    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    pub fn pinger(&self) -> &Pinger {
        &self.pinger
    }

    /// Bytes this session holds for the client: queued plus in flight.
    pub fn outbound_bytes(&self) -> usize {
        self.out.len() + self.in_flight
    }

    /// Bytes of an incomplete inbound frame held, and the memory reserved for
    /// them: both at most 4 + `max_inbound_payload`.
    pub fn inbound_buffered(&self) -> (usize, usize) {
        (self.decoder.buffered(), self.decoder.capacity())
    }

    /// Feeds received bytes. Consumes `input` until a message needs the node's
    /// decision (returned) or the input is used up (`None`). Call again with the
    /// rest of the input after handling the request; stops early once closed.
    pub fn handle_bytes(&mut self, now: Instant, input: &mut &[u8]) -> Option<SessionRequest> {
        let request = self.read_messages(now, input);
        if self.decoder.buffered() == 0 {
            self.partial_since = None;
        } else if self.partial_since.is_none() {
            self.partial_since = Some(now);
        }
        request
    }

    fn read_messages(&mut self, now: Instant, input: &mut &[u8]) -> Option<SessionRequest> {
        while !input.is_empty() && !self.is_closed() {
            let before = input.len();
            let decoded = match self.decoder.decode(input) {
                Ok(Some(payload)) => Some(ClientMsg::decode(payload)),
                Ok(None) => None,
                Err(FrameError::TooLarge { .. }) => {
                    self.close(
                        now,
                        DisconnectReason::ProtocolViolation(Violation::FrameTooLarge),
                    );
                    None
                }
                Err(FrameError::Empty) => {
                    self.close(
                        now,
                        DisconnectReason::ProtocolViolation(Violation::Malformed),
                    );
                    None
                }
            };
            self.stats.bytes_in += (before - input.len()) as u64;
            match decoded {
                None => {}
                Some(Err(_)) => self.close(
                    now,
                    DisconnectReason::ProtocolViolation(Violation::Malformed),
                ),
                Some(Ok(msg)) => {
                    self.stats.msgs_in += 1;
                    self.last_heard = now;
                    self.partial_since = None;
                    match self.bucket.take(now) {
                        RateDecision::Allow => {}
                        RateDecision::Drop => {
                            self.stats.rate_limited += 1;
                            continue;
                        }
                        RateDecision::Exceeded => {
                            self.stats.rate_limited += 1;
                            self.close(now, DisconnectReason::RateLimited);
                            continue;
                        }
                    }
                    if let Some(request) = self.on_message(now, msg) {
                        return Some(request);
                    }
                }
            }
        }
        None
    }

    /// The session's own messages it handles; every other domain's it passes
    /// to the node unread, once the player is in the world.
    fn on_message(&mut self, now: Instant, msg: ClientMsg) -> Option<SessionRequest> {
        match msg {
            ClientMsg::Session(m) => self.on_session_message(now, m),
            _ if self.state == SessionState::InWorld => Some(SessionRequest::Game(msg)),
            _ if self.is_closed() => None,
            _ => {
                self.close(now, UNEXPECTED);
                None
            }
        }
    }

    fn on_session_message(&mut self, now: Instant, msg: ClientSession) -> Option<SessionRequest> {
        match (&self.state, msg) {
            (SessionState::Closed { .. }, _) => None,
            (
                SessionState::AwaitingHello,
                ClientSession::Hello {
                    protocol_version, ..
                },
            ) => {
                if protocol_version == PROTOCOL_VERSION {
                    self.state = SessionState::AwaitingLogin;
                } else {
                    self.close(
                        now,
                        DisconnectReason::VersionMismatch {
                            server: PROTOCOL_VERSION,
                            client: protocol_version,
                        },
                    );
                }
                None
            }
            (SessionState::AwaitingHello, _) => {
                self.close(now, UNEXPECTED);
                None
            }
            (
                _,
                ClientSession::Ping {
                    seq,
                    client_time_us,
                },
            ) => {
                self.send(
                    now,
                    &ServerMsg::Session(ServerSession::Pong {
                        seq,
                        client_time_us,
                        server_time_us: now.as_micros(),
                    }),
                );
                None
            }
            (
                _,
                ClientSession::Pong {
                    seq,
                    server_time_us,
                    client_time_us,
                },
            ) => {
                if self
                    .pinger
                    .handle_pong(now, seq, server_time_us, client_time_us)
                    .is_err()
                {
                    self.stats.bad_pongs += 1;
                }
                None
            }
            (_, ClientSession::Goodbye) => {
                self.close(now, DisconnectReason::ClientQuit);
                None
            }
            (SessionState::AwaitingLogin, ClientSession::Login { credentials }) => {
                self.state = SessionState::LoggingIn;
                Some(SessionRequest::Login { credentials })
            }
            (SessionState::AwaitingLogin, ClientSession::Resume { player, token }) => {
                Some(SessionRequest::Resume { player, token })
            }
            (SessionState::Authenticated, ClientSession::ListCharacters) => {
                Some(SessionRequest::ListCharacters)
            }
            (SessionState::Authenticated, ClientSession::CreateCharacter { name }) => {
                Some(SessionRequest::CreateCharacter { name })
            }
            (SessionState::Authenticated, ClientSession::DeleteCharacter { character }) => {
                Some(SessionRequest::DeleteCharacter { character })
            }
            (SessionState::Authenticated, ClientSession::EnterWorld { character }) => {
                self.state = SessionState::Entering;
                Some(SessionRequest::EnterWorld { character })
            }
            (_, _) => {
                self.close(now, UNEXPECTED);
                None
            }
        }
    }

    /// The node accepted a login or resume: welcome the client.
    pub fn accept(
        &mut self,
        now: Instant,
        player: PlayerId,
        resume_token: ResumeToken,
        resumed: bool,
        info: WelcomeInfo,
    ) {
        if self.is_closed() {
            return;
        }
        self.state = SessionState::Authenticated;
        self.player = Some(player);
        // Heartbeats start now, so the first RTT sample comes one interval after login.
        let heartbeat = Duration::from_millis(self.config.heartbeat_interval_ms as u64);
        self.pinger = Pinger::new(heartbeat, now + heartbeat);
        self.send(
            now,
            &ServerMsg::Session(ServerSession::Welcome {
                player,
                resume_token,
                server_time_us: now.as_micros(),
                tick_hz: info.tick_hz,
                heartbeat_ms: self.config.heartbeat_interval_ms,
                idle_timeout_ms: self.config.idle_timeout_ms,
                resume_grace_ms: u32::try_from(info.resume_grace.as_millis()).unwrap_or(u32::MAX),
                resumed,
            }),
        );
    }

    /// The node placed the player's character in the world (a character it
    /// loaded, or the one a take-over found there).
    pub fn enter_world(&mut self, now: Instant, character: CharacterSummary, experience: u64) {
        if matches!(
            self.state,
            SessionState::Authenticated | SessionState::Entering
        ) {
            self.state = SessionState::InWorld;
            self.send(
                now,
                &ServerMsg::Session(ServerSession::EnteredWorld {
                    server_time_us: now.as_micros(),
                    character,
                    experience,
                }),
            );
        }
    }

    /// The character screen: the account's characters.
    pub fn show_characters(&mut self, now: Instant, characters: Vec<CharacterSummary>, max: u8) {
        if self.state == SessionState::Authenticated {
            self.send(
                now,
                &ServerMsg::Session(ServerSession::Characters { characters, max }),
            );
        }
    }

    /// A character request was refused; a refused entry returns to the
    /// character screen.
    pub fn refuse_character(&mut self, now: Instant, reason: CharacterRefusal) {
        if matches!(
            self.state,
            SessionState::Authenticated | SessionState::Entering
        ) {
            self.state = SessionState::Authenticated;
            self.send(
                now,
                &ServerMsg::Session(ServerSession::CharacterRefused { reason }),
            );
        }
    }

    /// Queues a message for the client. A client that lets its queue pass the bound
    /// is disconnected as a slow reader.
    pub fn send(&mut self, now: Instant, msg: &ServerMsg) {
        if self.is_closed() {
            return;
        }
        if encode_frame(msg, MAX_SERVER_PAYLOAD, &mut self.out).is_err() {
            // Only our own oversized message gets here: a bug, not the client's fault.
            debug_assert!(false, "server message over MAX_SERVER_PAYLOAD: {msg:?}");
            return;
        }
        self.stats.msgs_out += 1;
        if self.outbound_bytes() > self.config.max_outbound_bytes as usize {
            self.close(now, DisconnectReason::SlowReader);
        }
    }

    /// Queues an already encoded frame (a zone's replication message).
    pub fn send_encoded(&mut self, now: Instant, frame: &[u8]) {
        if self.is_closed() {
            return;
        }
        self.out.extend_from_slice(frame);
        self.stats.msgs_out += 1;
        if self.outbound_bytes() > self.config.max_outbound_bytes as usize {
            self.close(now, DisconnectReason::SlowReader);
        }
    }

    /// Queues an encoded chat frame, unless more than `max_chat_backlog_bytes`
    /// wait for the client: then it is dropped and counted, and the next line
    /// that fits is preceded by `ChatMissed` with the count. False if dropped.
    pub fn send_chat(&mut self, now: Instant, frame: &[u8]) -> bool {
        if self.is_closed() {
            return false;
        }
        if self.outbound_bytes() + frame.len() > self.config.max_chat_backlog_bytes as usize {
            self.chat_missed = self.chat_missed.saturating_add(1);
            self.stats.chat_shed += 1;
            return false;
        }
        if self.chat_missed > 0 {
            let count = std::mem::take(&mut self.chat_missed);
            self.send(now, &ServerMsg::Social(ServerSocial::ChatMissed { count }));
        }
        self.send_encoded(now, frame);
        true
    }

    /// Ends the session. The client is told why unless the transport is already gone;
    /// a slow reader's backlog is dropped first, since it would never be read.
    pub fn close(&mut self, _now: Instant, reason: DisconnectReason) {
        if self.is_closed() {
            return;
        }
        if reason == DisconnectReason::SlowReader {
            self.out.clear();
        }
        if reason != DisconnectReason::ConnectionLost {
            let msg = ServerMsg::Session(ServerSession::Disconnect {
                reason: reason.clone(),
            });
            if encode_frame(&msg, MAX_SERVER_PAYLOAD, &mut self.out).is_ok() {
                self.stats.msgs_out += 1;
            }
        } else {
            self.out.clear();
        }
        self.state = SessionState::Closed { reason };
    }

    /// Runs the session's timers; a call before any deadline does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.frame_deadline().is_some_and(|at| now >= at) && !self.is_closed() {
            self.close(now, DisconnectReason::FrameTimeout);
            return;
        }
        match self.state {
            SessionState::Closed { .. } => {}
            SessionState::AwaitingHello | SessionState::AwaitingLogin | SessionState::LoggingIn => {
                if now >= self.handshake_deadline() {
                    self.close(now, DisconnectReason::HandshakeTimeout);
                }
            }
            SessionState::Authenticated | SessionState::Entering | SessionState::InWorld => {
                if now >= self.idle_deadline() {
                    self.close(now, DisconnectReason::IdleTimeout);
                } else if let Some((seq, sent)) = self.pinger.poll_ping(now) {
                    self.send(
                        now,
                        &ServerMsg::Session(ServerSession::Ping {
                            seq,
                            server_time_us: sent.as_micros(),
                        }),
                    );
                }
            }
        }
    }

    /// The next moment [`Session::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let state_deadline = match self.state {
            SessionState::Closed { .. } => return None,
            SessionState::AwaitingHello | SessionState::AwaitingLogin | SessionState::LoggingIn => {
                self.handshake_deadline()
            }
            SessionState::Authenticated | SessionState::Entering | SessionState::InWorld => {
                self.idle_deadline().min(self.pinger.deadline())
            }
        };
        Some(match self.frame_deadline() {
            Some(frame) => frame.min(state_deadline),
            None => state_deadline,
        })
    }

    /// Everything queued for the client, as one buffer for one write.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.poll_transmit_from(&mut Vec::new())
    }

    /// Like [`Session::poll_transmit`], taking the new queue buffer from `spares`
    /// (buffers of earlier writes, returned by the driver), so steady state
    /// allocates nothing.
    pub fn poll_transmit_from(&mut self, spares: &mut Vec<Vec<u8>>) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            return None;
        }
        let mut spare = spares.pop().unwrap_or_default();
        spare.clear();
        let bytes = std::mem::replace(&mut self.out, spare);
        self.in_flight += bytes.len();
        self.stats.bytes_out += bytes.len() as u64;
        Some(bytes)
    }

    /// The driver finished writing `n` bytes of what [`Session::poll_transmit`] gave.
    pub fn handle_flushed(&mut self, n: usize) {
        self.in_flight = self.in_flight.saturating_sub(n);
    }

    fn handshake_deadline(&self) -> Instant {
        self.opened_at + Duration::from_millis(self.config.handshake_timeout_ms as u64)
    }

    fn frame_deadline(&self) -> Option<Instant> {
        self.partial_since
            .map(|at| at + Duration::from_millis(self.config.frame_timeout_ms as u64))
    }

    fn idle_deadline(&self) -> Instant {
        self.last_heard + Duration::from_millis(self.config.idle_timeout_ms as u64)
    }
}

#[cfg(test)]
mod tests;
