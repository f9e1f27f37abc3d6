//! One session machine fed arbitrary bytes, node decisions, flushes and time.

use super::script::{Script, ScriptWriter};
use super::wire::{message, ServerStream};
use game_core::ids::{ConnId, PlayerId};
use game_core::protocol::{
    encode_frame, ClientMsg, DisconnectReason, LoginRefusal, ResumeToken, MAX_CLIENT_PAYLOAD,
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
        max_inbound_payload: 256,
        max_outbound_bytes: 2 * game_core::protocol::MAX_SERVER_PAYLOAD,
        rate_limit_per_second: 20,
        rate_limit_burst: 10,
    }
}

/// Steps of a session script. Each is an opcode byte (taken modulo the count)
/// and its operands.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// `[len: u8] [len bytes]`: raw bytes from the client.
    Raw = 0,
    /// `[kind: u8] [operands]`: one well-formed client message (see [`message`]).
    Message = 1,
    /// `[ms: u16]`: time passes, then the timers run.
    Advance = 2,
    /// Jump to the session's next deadline and run it.
    Deadline = 3,
    /// The driver takes what is queued for the client.
    Transmit = 4,
    /// The driver reports the oldest write done.
    Flushed = 5,
    /// The node closes the session (an operator's kick).
    Kick = 6,
    /// The transport is lost.
    Lost = 7,
}

const STEPS: u8 = 8;

impl Step {
    pub fn write(self, w: &mut ScriptWriter) -> &mut ScriptWriter {
        w.u8(self as u8)
    }
}

fn rank(state: &SessionState) -> u8 {
    match state {
        SessionState::AwaitingHello => 0,
        SessionState::AwaitingLogin => 1,
        SessionState::Authenticated => 2,
        SessionState::InWorld => 3,
        SessionState::Closed { .. } => 4,
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

/// Runs a session script (see [`Step`]) and checks after every step: states only
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
        match script.u8() % STEPS {
            0 => {
                let n = script.u8() as usize;
                let bytes = script.bytes(n);
                h.feed(bytes);
            }
            1 => {
                let mut frame = Vec::new();
                let msg = message(&mut script, &mut h.wire);
                encode_frame(&msg, MAX_CLIENT_PAYLOAD, &mut frame).expect("client frame");
                h.verdicts = script.u8();
                h.feed(&frame);
            }
            2 => {
                let ms = script.u16();
                h.now += Duration::from_millis(ms as u64);
                h.session.handle_timeout(h.now);
                h.check_timers();
            }
            3 => {
                if let Some(at) = h.session.poll_timeout() {
                    h.now = h.now.max(at);
                    h.session.handle_timeout(h.now);
                    h.check_timers();
                }
            }
            4 => h.transmit(),
            5 => {
                if let Some(n) = h.writes.pop_front() {
                    h.session.handle_flushed(n);
                }
            }
            6 => h.session.close(
                h.now,
                DisconnectReason::Kicked {
                    message: "fuzz".into(),
                },
            ),
            _ => h.session.close(h.now, DisconnectReason::ConnectionLost),
        }
        h.check();
    }
    // Whatever is left goes out: the stream must end in the close's goodbye.
    h.transmit();
    h.check();
}

impl Harness {
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
                assert_eq!(state, SessionState::AwaitingLogin, "{request:?}");
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
            SessionRequest::EnterWorld => {
                assert_eq!(state, SessionState::Authenticated, "{request:?}");
                if refuse {
                    self.session.close(self.now, DisconnectReason::ServerFull);
                } else {
                    self.session.enter_world(self.now);
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
