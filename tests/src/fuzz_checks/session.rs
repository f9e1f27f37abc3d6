//! One session machine fed arbitrary bytes, node decisions, flushes and time.

use super::script::{Script, ScriptWriter};
use super::wire::{Say, ServerStream};
use game_core::ids::{CharacterId, ConnId, PlayerId};
use game_core::protocol::{
    encode_frame, CharacterRefusal, CharacterSummary, ClientMsg, DisconnectReason, LoginRefusal,
    ResumeToken, MAX_CLIENT_PAYLOAD,
};
use game_core::session::{Session, SessionConfig, SessionRequest, SessionState, WelcomeInfo};
use game_core::time::{Duration, Instant};
use std::collections::VecDeque;

/// Short timers and a low rate limit, so a short script reaches every path.
pub fn config() -> SessionConfig {
    SessionConfig {
        handshake_timeout_ms: 1_000,
        heartbeat_interval_ms: 200,
        idle_timeout_ms: 1_000,
        frame_timeout_ms: 300,
        // Room for a login token (about 300 bytes), little more.
        max_inbound_payload: 512,
        max_outbound_bytes: 2 * game_core::protocol::MAX_SERVER_PAYLOAD,
        max_chat_backlog_bytes: 4 * 1024,
        rate_limit_per_second: 20,
        rate_limit_burst: 10,
    }
}

/// What a session script does: the one list of the session target's
/// operations, read by the check and written by the seeds. On the wire each is
/// an opcode byte (modulo [`SessionOp::COUNT`]) and its operands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOp {
    /// `[len: u8] [len bytes]`: raw bytes from the client.
    Raw(Vec<u8>),
    /// `[say: Say::LEN] [verdicts: u8]`: one well-formed client message; the
    /// bits of `verdicts` decide, one request at a time, whether the node
    /// accepts (0) or refuses (1).
    Say { say: Say, verdicts: u8 },
    /// `[ms: u16]`: time passes, then the timers run.
    Advance { ms: u16 },
    /// Jump to the session's next deadline and run it.
    Deadline,
    /// The driver takes what is queued for the client.
    Transmit,
    /// The driver reports the oldest write done.
    Flushed,
    /// The node closes the session (an operator's kick).
    Kick,
    /// The transport is lost.
    Lost,
}

impl SessionOp {
    pub const COUNT: u8 = 8;

    fn code(&self) -> u8 {
        match self {
            SessionOp::Raw(_) => 0,
            SessionOp::Say { .. } => 1,
            SessionOp::Advance { .. } => 2,
            SessionOp::Deadline => 3,
            SessionOp::Transmit => 4,
            SessionOp::Flushed => 5,
            SessionOp::Kick => 6,
            SessionOp::Lost => 7,
        }
    }

    pub fn read(script: &mut Script<'_>) -> SessionOp {
        match script.u8() % Self::COUNT {
            0 => {
                let n = script.u8() as usize;
                SessionOp::Raw(script.bytes(n).to_vec())
            }
            1 => SessionOp::Say {
                say: Say::read(script),
                verdicts: script.u8(),
            },
            2 => SessionOp::Advance { ms: script.u16() },
            3 => SessionOp::Deadline,
            4 => SessionOp::Transmit,
            5 => SessionOp::Flushed,
            6 => SessionOp::Kick,
            _ => SessionOp::Lost,
        }
    }

    pub fn write(&self, w: &mut ScriptWriter) {
        w.u8(self.code());
        match self {
            SessionOp::Raw(bytes) => {
                let n = u8::try_from(bytes.len()).expect("at most 255 raw bytes a step");
                w.u8(n).raw(bytes);
            }
            SessionOp::Say { say, verdicts } => {
                say.write(w);
                w.u8(*verdicts);
            }
            SessionOp::Advance { ms } => {
                w.u16(*ms);
            }
            SessionOp::Deadline
            | SessionOp::Transmit
            | SessionOp::Flushed
            | SessionOp::Kick
            | SessionOp::Lost => {}
        }
    }
}

/// States only move forward, but for the character screen and a refused
/// entry, which go back and forth (one rank).
fn rank(state: &SessionState) -> u8 {
    match state {
        SessionState::AwaitingHello => 0,
        SessionState::AwaitingLogin => 1,
        SessionState::LoggingIn => 2,
        SessionState::Authenticated | SessionState::Entering => 3,
        SessionState::InWorld => 4,
        SessionState::Closed { .. } => 5,
    }
}

fn summary() -> CharacterSummary {
    CharacterSummary {
        id: CharacterId(12),
        name: "Ada".into(),
        level: 1,
        map: "meadow".into(),
    }
}

struct Harness {
    session: Session,
    config: SessionConfig,
    now: Instant,
    wire: ServerStream,
    /// Sizes of writes handed to the driver and not yet reported flushed.
    writes: VecDeque<usize>,
    last_state: SessionState,
    /// Decides the node's answers to requests.
    verdicts: u8,
}

/// Runs a session script (see [`SessionOp`]) and checks after every step: states only
/// move forward and `Closed` is final; requests come only in the states that
/// allow them; queued and buffered bytes stay within their bounds; a deadline
/// that has passed has been dealt with; every byte sent is a whole server
/// message and a close's `Disconnect` is the last of them.
pub fn session(data: &[u8]) {
    let config = config();
    let now = Instant::ZERO;
    let mut h = Harness {
        session: Session::new(ConnId(1), config.clone(), now),
        config,
        now,
        wire: ServerStream::default(),
        writes: VecDeque::new(),
        last_state: SessionState::AwaitingHello,
        verdicts: 0,
    };
    let mut script = Script::new(data);
    while !script.done() {
        h.apply(SessionOp::read(&mut script));
        h.check();
    }
    // Whatever is left goes out: the stream must end in the close's goodbye.
    h.transmit();
    h.check();
}

impl Harness {
    fn apply(&mut self, op: SessionOp) {
        match op {
            SessionOp::Raw(bytes) => self.feed(&bytes),
            SessionOp::Say { say, verdicts } => {
                let mut frame = Vec::new();
                let msg = say.message(&mut self.wire);
                encode_frame(&msg, MAX_CLIENT_PAYLOAD, &mut frame).expect("client frame");
                self.verdicts = verdicts;
                self.feed(&frame);
            }
            SessionOp::Advance { ms } => {
                self.now += Duration::from_millis(ms as u64);
                self.session.handle_timeout(self.now);
                self.check_timers();
            }
            SessionOp::Deadline => {
                if let Some(at) = self.session.poll_timeout() {
                    self.now = self.now.max(at);
                    self.session.handle_timeout(self.now);
                    self.check_timers();
                }
            }
            SessionOp::Transmit => self.transmit(),
            SessionOp::Flushed => {
                if let Some(n) = self.writes.pop_front() {
                    self.session.handle_flushed(n);
                }
            }
            SessionOp::Kick => self.session.close(
                self.now,
                DisconnectReason::Kicked {
                    message: "fuzz".into(),
                },
            ),
            SessionOp::Lost => self
                .session
                .close(self.now, DisconnectReason::ConnectionLost),
        }
    }

    fn feed(&mut self, mut input: &[u8]) {
        let mut rounds = 0;
        while let Some(request) = self.session.handle_bytes(self.now, &mut input) {
            rounds += 1;
            assert!(
                rounds <= MAX_CLIENT_PAYLOAD as usize,
                "no progress on input"
            );
            self.answer(request);
            self.check();
        }
        assert!(
            input.is_empty() || self.session.is_closed(),
            "input left unread by an open session"
        );
    }

    /// Answers a request the way the node may: accept or refuse.
    fn answer(&mut self, request: SessionRequest) {
        let state = self.session.state().clone();
        let refuse = self.verdicts & 1 == 1;
        self.verdicts >>= 1;
        let info = WelcomeInfo {
            tick_hz: 20,
            resume_grace: Duration::from_secs(30),
        };
        match request {
            SessionRequest::Login { .. } | SessionRequest::Resume { .. } => {
                let expected = match request {
                    SessionRequest::Login { .. } => SessionState::LoggingIn,
                    _ => SessionState::AwaitingLogin,
                };
                assert_eq!(state, expected, "{request:?}");
                if refuse {
                    let reason = match request {
                        SessionRequest::Login { .. } => {
                            DisconnectReason::LoginRefused(LoginRefusal::InvalidName)
                        }
                        _ => DisconnectReason::ResumeRejected,
                    };
                    self.session.close(self.now, reason);
                } else {
                    let resumed = matches!(request, SessionRequest::Resume { .. });
                    let token = ResumeToken([7; 16]);
                    self.session
                        .accept(self.now, PlayerId(1), token, resumed, info);
                    assert_eq!(self.session.player(), Some(PlayerId(1)));
                }
            }
            SessionRequest::ListCharacters
            | SessionRequest::CreateCharacter { .. }
            | SessionRequest::DeleteCharacter { .. } => {
                assert_eq!(state, SessionState::Authenticated, "{request:?}");
                if refuse {
                    self.session
                        .refuse_character(self.now, CharacterRefusal::Busy);
                } else {
                    self.session.show_characters(self.now, vec![summary()], 4);
                }
            }
            SessionRequest::EnterWorld { character } => {
                assert_eq!(state, SessionState::Entering, "{request:?}");
                match refuse {
                    true if character.0 % 2 == 0 => self
                        .session
                        .refuse_character(self.now, CharacterRefusal::NoSuchCharacter),
                    true => self.session.close(self.now, DisconnectReason::ServerFull),
                    false => self.session.enter_world(self.now, summary(), 7),
                }
            }
            SessionRequest::Game(msg) => {
                assert_eq!(state, SessionState::InWorld, "{msg:?}");
                assert!(
                    !matches!(msg, ClientMsg::Session(_)),
                    "the session passed on its own message {msg:?}"
                );
            }
        }
    }

    fn transmit(&mut self) {
        if let Some(bytes) = self.session.poll_transmit() {
            assert!(!bytes.is_empty());
            self.writes.push_back(bytes.len());
            self.wire.receive(&bytes);
        }
        assert_eq!(self.session.poll_transmit(), None, "one write per flush");
        if let Some(reason) = self.session.close_reason() {
            if *reason != DisconnectReason::ConnectionLost {
                assert_eq!(self.wire.disconnect.as_ref(), Some(reason));
            }
        }
    }

    /// Right after `handle_timeout(now)`: nothing is left due at `now`.
    fn check_timers(&self) {
        if let Some(at) = self.session.poll_timeout() {
            assert!(at > self.now, "deadline {at:?} still due at {:?}", self.now);
        }
    }

    fn check(&mut self) {
        let state = self.session.state().clone();
        assert!(
            rank(&state) >= rank(&self.last_state),
            "{:?} -> {state:?}",
            self.last_state
        );
        if let SessionState::Closed { .. } = self.last_state {
            assert_eq!(state, self.last_state, "a closed session changed");
        }
        self.last_state = state;
        assert_eq!(
            self.session.poll_timeout().is_none(),
            self.session.is_closed(),
            "an open session always has a deadline, a closed one none"
        );
        if !self.session.is_closed() {
            assert!(self.session.outbound_bytes() <= self.config.max_outbound_bytes as usize);
        }
        let (buffered, capacity) = self.session.inbound_buffered();
        let frame_max = 4 + self.config.max_inbound_payload as usize;
        assert!(buffered <= frame_max && capacity <= frame_max);
        assert!(self.writes.iter().sum::<usize>() <= self.session.outbound_bytes());
    }
}
