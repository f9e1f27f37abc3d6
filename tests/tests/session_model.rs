//! The session machine against a small reference model of its lifecycle
//! (docs/PROTOCOL.md's rules): which message is allowed in which state, what
//! ends the session and with which reason, and which deadline fires first. The
//! driver follows the machine contract: it runs every deadline as it falls due.

use game_core::ids::{ConnId, PlayerId};
use game_core::protocol::{
    encode_frame, examples, CharacterRefusal, CharacterSummary, ClientMsg, ClientSession,
    DisconnectReason, FrameDecoder, ResumeToken, ServerMsg, ServerSession, Violation,
    MAX_CLIENT_PAYLOAD, MAX_SERVER_PAYLOAD, PROTOCOL_VERSION,
};
use game_core::session::{Session, SessionConfig, SessionRequest, SessionState, WelcomeInfo};
use game_core::time::{Duration, Instant};
use proptest::prelude::*;

const HANDSHAKE: u64 = 1_000;
const IDLE: u64 = 1_500;
const FRAME: u64 = 300;

fn config() -> SessionConfig {
    SessionConfig {
        handshake_timeout_ms: HANDSHAKE as u32,
        heartbeat_interval_ms: 500,
        idle_timeout_ms: IDLE as u32,
        frame_timeout_ms: FRAME as u32,
        // The rate limit has its own model (rate_limit_model.rs).
        rate_limit_per_second: 1_000_000,
        rate_limit_burst: 1_000_000,
        ..SessionConfig::default()
    }
}

#[derive(Clone, Debug)]
enum Op {
    Hello {
        version: u16,
    },
    /// One of the example messages (`protocol::examples`), by index: every
    /// message of every domain, so a new one is modelled without a new op.
    Send(usize),
    /// A frame whose payload is not a message.
    Garbage,
    /// A length prefix over the limit.
    Oversized,
    EmptyFrame,
    /// The first `n` bytes of a ping frame; the rest comes with the next message.
    Partial(usize),
    /// The node refuses the next login/resume or entry instead of accepting it.
    RefuseNext,
    Advance(u64),
    Lost,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop_oneof![Just(PROTOCOL_VERSION), any::<u16>()].prop_map(|version| Op::Hello { version }),
        15 => (0..examples::client_messages().len()).prop_map(Op::Send),
        1 => Just(Op::Garbage),
        1 => Just(Op::Oversized),
        1 => Just(Op::EmptyFrame),
        2 => (1usize..9).prop_map(Op::Partial),
        1 => Just(Op::RefuseNext),
        4 => prop_oneof![0u64..400, 0u64..3_000].prop_map(Op::Advance),
        1 => Just(Op::Lost),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    Hello,
    Login,
    Auth,
    World,
}

/// The reference: state, deadlines, and the expected close.
#[derive(Debug)]
struct Model {
    state: Result<St, DisconnectReason>,
    opened: u64,
    last_heard: u64,
    partial_since: Option<u64>,
    refuse_next: bool,
    pongs: u32,
}

impl Model {
    fn close(&mut self, reason: DisconnectReason) {
        if self.state.is_ok() {
            self.state = Err(reason);
        }
    }

    /// A complete, valid message arrived at `now`.
    fn message(&mut self, now: u64, msg: &ClientMsg) {
        let Ok(st) = self.state else { return };
        self.last_heard = now;
        let unexpected = DisconnectReason::ProtocolViolation(Violation::UnexpectedMessage);
        let next = match (st, msg) {
            (
                St::Hello,
                ClientMsg::Session(ClientSession::Hello {
                    protocol_version, ..
                }),
            ) => {
                if *protocol_version == PROTOCOL_VERSION {
                    Ok(St::Login)
                } else {
                    Err(DisconnectReason::VersionMismatch {
                        server: PROTOCOL_VERSION,
                        client: *protocol_version,
                    })
                }
            }
            (St::Hello, _) => Err(unexpected),
            (_, ClientMsg::Session(ClientSession::Ping { .. })) => {
                self.pongs += 1;
                Ok(st)
            }
            // A pong that echoes no ping of ours is counted and ignored.
            (_, ClientMsg::Session(ClientSession::Pong { .. })) => Ok(st),
            (_, ClientMsg::Session(ClientSession::Goodbye)) => Err(DisconnectReason::ClientQuit),
            (St::Login, ClientMsg::Session(ClientSession::Login { .. })) => self
                .verdict(St::Auth, || {
                    DisconnectReason::LoginRefused(game_core::protocol::LoginRefusal::InvalidName)
                }),
            (St::Login, ClientMsg::Session(ClientSession::Resume { .. })) => {
                self.verdict(St::Auth, || DisconnectReason::ResumeRejected)
            }
            // A refused entry goes back to the character screen.
            (St::Auth, ClientMsg::Session(ClientSession::EnterWorld { .. })) => {
                Ok(if std::mem::take(&mut self.refuse_next) {
                    St::Auth
                } else {
                    St::World
                })
            }
            // The character screen's requests, answered or refused, stay on it.
            (
                St::Auth,
                ClientMsg::Session(
                    ClientSession::ListCharacters
                    | ClientSession::CreateCharacter { .. }
                    | ClientSession::DeleteCharacter { .. },
                ),
            ) => {
                self.refuse_next = false;
                Ok(St::Auth)
            }
            // Any other domain's message, in the world, goes to the node.
            (St::World, msg) if !matches!(msg, ClientMsg::Session(_)) => Ok(St::World),
            _ => Err(unexpected),
        };
        self.state = next;
    }

    fn verdict(
        &mut self,
        ok: St,
        refusal: impl FnOnce() -> DisconnectReason,
    ) -> Result<St, DisconnectReason> {
        if std::mem::take(&mut self.refuse_next) {
            Err(refusal())
        } else {
            Ok(ok)
        }
    }

    /// The earliest deadline and what it does; the frame deadline wins a tie.
    fn next_deadline(&self) -> Option<(u64, DisconnectReason)> {
        let st = self.state.as_ref().ok()?;
        let state_deadline = match st {
            St::Hello | St::Login => (self.opened + HANDSHAKE, DisconnectReason::HandshakeTimeout),
            St::Auth | St::World => (self.last_heard + IDLE, DisconnectReason::IdleTimeout),
        };
        match self.partial_since {
            Some(p) if p + FRAME <= state_deadline.0 => {
                Some((p + FRAME, DisconnectReason::FrameTimeout))
            }
            _ => Some(state_deadline),
        }
    }
}

struct Driver {
    session: Session,
    now: u64,
    pending_partial: Vec<u8>,
    decoder: FrameDecoder,
    heard: Vec<ServerMsg>,
}

impl Driver {
    fn at(&self) -> Instant {
        Instant::from_micros(self.now * 1_000)
    }

    /// Feeds bytes, answering requests as the model's node would.
    fn feed(&mut self, mut bytes: &[u8], model_refuses: &mut bool) {
        let info = WelcomeInfo {
            tick_hz: 20,
            resume_grace: Duration::from_secs(30),
        };
        while let Some(request) = self.session.handle_bytes(self.at(), &mut bytes) {
            let refuse = std::mem::take(model_refuses);
            match request {
                SessionRequest::Login { .. } if refuse => self.session.close(
                    self.at(),
                    DisconnectReason::LoginRefused(game_core::protocol::LoginRefusal::InvalidName),
                ),
                SessionRequest::Resume { .. } if refuse => self
                    .session
                    .close(self.at(), DisconnectReason::ResumeRejected),
                SessionRequest::Login { .. } | SessionRequest::Resume { .. } => self
                    .session
                    .accept(self.at(), PlayerId(1), ResumeToken([1; 16]), false, info),
                SessionRequest::ListCharacters
                | SessionRequest::CreateCharacter { .. }
                | SessionRequest::DeleteCharacter { .. } => {
                    if refuse {
                        self.session
                            .refuse_character(self.at(), CharacterRefusal::Busy)
                    } else {
                        self.session.show_characters(self.at(), Vec::new(), 4)
                    }
                }
                SessionRequest::EnterWorld { .. } if refuse => self
                    .session
                    .refuse_character(self.at(), CharacterRefusal::NoSuchCharacter),
                SessionRequest::EnterWorld { character } => {
                    let summary = CharacterSummary {
                        id: character,
                        name: "Ada".into(),
                        level: 1,
                        map: "meadow".into(),
                    };
                    self.session.enter_world(self.at(), summary, 0)
                }
                SessionRequest::Game(_) => {}
            }
        }
    }

    /// Runs time forward to `to` the way a driver must: each deadline as it
    /// falls due.
    fn advance(&mut self, to: u64) {
        while let Some(at) = self.session.poll_timeout() {
            let at_ms = at.as_micros().div_ceil(1_000);
            if at_ms > to {
                break;
            }
            self.now = self.now.max(at_ms);
            self.session.handle_timeout(self.at());
        }
        self.now = to;
        self.session.handle_timeout(self.at());
    }

    fn collect(&mut self) {
        if let Some(bytes) = self.session.poll_transmit() {
            let n = bytes.len();
            let mut input = &bytes[..];
            while let Some(p) = self.decoder.decode(&mut input).unwrap() {
                self.heard.push(ServerMsg::decode(p).unwrap());
            }
            self.session.handle_flushed(n);
        }
    }
}

fn frame(msg: &ClientMsg) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(msg, MAX_CLIENT_PAYLOAD, &mut out).unwrap();
    out
}

fn as_message(op: &Op) -> Option<ClientMsg> {
    Some(match op {
        Op::Hello { version } => ClientMsg::Session(ClientSession::Hello {
            protocol_version: *version,
            client: "model".into(),
        }),
        Op::Send(i) => examples::client_messages()[*i].clone(),
        _ => return None,
    })
}

fn state_of(model: &Model) -> SessionState {
    match &model.state {
        Ok(St::Hello) => SessionState::AwaitingHello,
        Ok(St::Login) => SessionState::AwaitingLogin,
        Ok(St::Auth) => SessionState::Authenticated,
        Ok(St::World) => SessionState::InWorld,
        Err(reason) => SessionState::Closed {
            reason: reason.clone(),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn the_session_lives_as_the_model_says(ops in prop::collection::vec(op(), 1..60)) {
        let mut d = Driver {
            session: Session::new(ConnId(1), config(), Instant::ZERO),
            now: 0,
            pending_partial: Vec::new(),
            decoder: FrameDecoder::new(MAX_SERVER_PAYLOAD),
            heard: Vec::new(),
        };
        let mut m = Model {
            state: Ok(St::Hello),
            opened: 0,
            last_heard: 0,
            partial_since: None,
            refuse_next: false,
            pongs: 0,
        };
        let ping = ClientMsg::Session(ClientSession::Ping { seq: 9, client_time_us: 0 });
        for op in &ops {
            // The driver's node refuses the first request of this step exactly
            // when the model's does.
            let mut refuse = m.refuse_next;
            // A message first completes a frame left partial, if any.
            let mut bytes = std::mem::take(&mut d.pending_partial);
            let completes_partial = !bytes.is_empty();
            match op {
                Op::Advance(ms) => {
                    let to = d.now + ms;
                    while let Some((at, reason)) = m.next_deadline() {
                        if at > to { break; }
                        m.close(reason);
                    }
                    d.pending_partial = bytes;
                    d.advance(to);
                }
                Op::RefuseNext => {
                    m.refuse_next = true;
                    d.pending_partial = bytes;
                }
                Op::Lost => {
                    m.close(DisconnectReason::ConnectionLost);
                    d.session.close(d.at(), DisconnectReason::ConnectionLost);
                }
                Op::Partial(n) => {
                    let f = frame(&ping);
                    let n = (*n).min(f.len() - 1);
                    if completes_partial {
                        m.message(d.now, &ping);
                        m.partial_since = None;
                    }
                    bytes.extend_from_slice(&f[..n]);
                    d.feed(&bytes, &mut refuse);
                    if m.state.is_ok() {
                        m.partial_since = Some(d.now);
                    }
                    d.pending_partial = f[n..].to_vec();
                }
                other => {
                    if completes_partial {
                        m.message(d.now, &ping);
                        m.partial_since = None;
                    }
                    match as_message(other) {
                        Some(msg) => {
                            m.message(d.now, &msg);
                            bytes.extend_from_slice(&frame(&msg));
                        }
                        None => {
                            let (b, violation): (&[u8], Violation) = match other {
                                Op::Garbage => (&[2, 0, 0, 0, 0xff, 0xff], Violation::Malformed),
                                Op::Oversized => (&[0xff, 0xff, 0xff, 0x7f], Violation::FrameTooLarge),
                                _ => (&[0, 0, 0, 0], Violation::Malformed),
                            };
                            m.close(DisconnectReason::ProtocolViolation(violation));
                            bytes.extend_from_slice(b);
                        }
                    }
                    d.feed(&bytes, &mut refuse);
                }
            }
            d.collect();
            prop_assert_eq!(d.session.state().clone(), state_of(&m), "after {:?}", op);
        }
        let pongs = d.heard.iter().filter(|m| matches!(m, ServerMsg::Session(ServerSession::Pong { .. }))).count();
        prop_assert_eq!(pongs as u32, m.pongs);
        if let Err(reason) = &m.state {
            let last = d.heard.last().cloned();
            if *reason == DisconnectReason::ConnectionLost {
                let said_goodbye = matches!(last, Some(ServerMsg::Session(ServerSession::Disconnect { .. })));
                prop_assert!(!said_goodbye, "a lost transport is told nothing");
            } else {
                prop_assert_eq!(last, Some(ServerMsg::Session(ServerSession::Disconnect { reason: reason.clone() })));
            }
        }
    }
}
