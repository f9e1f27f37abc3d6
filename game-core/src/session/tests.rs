//! The session machine alone, driven with no IO. Login, resume and duplicate
//! logins need the node and are tested in `node/tests.rs`.

use super::*;
use crate::ids::CharacterId;
use crate::protocol::{
    encode_frame, CharacterRefusal, CharacterSummary, ClientSession, NoticeLevel, ServerSession,
};
use crate::protocol::{Credentials, MAX_CLIENT_PAYLOAD};

const T0: Instant = Instant::ZERO;

fn at_ms(ms: u64) -> Instant {
    Instant::from_micros(ms * 1_000)
}

fn frame(msg: &ClientMsg) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(msg, MAX_CLIENT_PAYLOAD, &mut out).unwrap();
    out
}

fn hello() -> Vec<u8> {
    frame(&ClientMsg::Session(ClientSession::Hello {
        protocol_version: PROTOCOL_VERSION,
        client: "test".into(),
    }))
}

fn login(name: &str) -> Vec<u8> {
    frame(&ClientMsg::Session(ClientSession::Login {
        credentials: Credentials::Dev { name: name.into() },
    }))
}

/// Feeds all bytes, collecting every request (as the node would, answering none).
fn feed(s: &mut Session, now: Instant, bytes: &[u8]) -> Vec<SessionRequest> {
    let mut input = bytes;
    let mut requests = Vec::new();
    while !input.is_empty() && !s.is_closed() {
        match s.handle_bytes(now, &mut input) {
            Some(r) => requests.push(r),
            None => break,
        }
    }
    requests
}

fn sent(s: &mut Session) -> Vec<ServerMsg> {
    let bytes = s.poll_transmit().unwrap_or_default();
    let mut dec = FrameDecoder::new(MAX_SERVER_PAYLOAD);
    let mut input = &bytes[..];
    let mut msgs = Vec::new();
    while let Some(p) = dec.decode(&mut input).unwrap() {
        msgs.push(ServerMsg::decode(p).unwrap());
    }
    s.handle_flushed(bytes.len());
    msgs
}

fn info() -> WelcomeInfo {
    WelcomeInfo {
        tick_hz: 20,
        resume_grace: Duration::from_secs(30),
    }
}

fn logged_in() -> Session {
    let mut s = Session::new(ConnId(1), SessionConfig::default(), T0);
    let mut bytes = hello();
    bytes.extend(login("ada"));
    assert_eq!(
        feed(&mut s, T0, &bytes),
        vec![SessionRequest::Login {
            credentials: Credentials::Dev { name: "ada".into() }
        }]
    );
    s.accept(T0, PlayerId(7), ResumeToken([1; 16]), false, info());
    sent(&mut s);
    s
}

#[test]
fn hello_then_login_asks_the_node_and_accept_welcomes() {
    let mut s = Session::new(ConnId(1), SessionConfig::default(), T0);
    assert_eq!(s.state(), &SessionState::AwaitingHello);
    assert!(feed(&mut s, T0, &hello()).is_empty());
    assert_eq!(s.state(), &SessionState::AwaitingLogin);
    let req = feed(&mut s, T0, &login("ada"));
    assert_eq!(req.len(), 1);
    s.accept(at_ms(5), PlayerId(7), ResumeToken([1; 16]), false, info());
    assert_eq!(s.state(), &SessionState::Authenticated);
    assert_eq!(s.player(), Some(PlayerId(7)));
    match &sent(&mut s)[..] {
        [ServerMsg::Session(ServerSession::Welcome {
            player,
            tick_hz: 20,
            resumed: false,
            server_time_us: 5_000,
            ..
        })] => assert_eq!(*player, PlayerId(7)),
        other => panic!("expected a welcome, got {other:?}"),
    }
    let character = CharacterId(3);
    assert_eq!(
        feed(
            &mut s,
            at_ms(6),
            &frame(&ClientMsg::Session(ClientSession::EnterWorld { character }))
        ),
        vec![SessionRequest::EnterWorld { character }]
    );
    assert_eq!(s.state(), &SessionState::Entering);
    // Refused (the store failed): back on the character screen.
    s.refuse_character(at_ms(6), CharacterRefusal::StoreUnavailable);
    assert_eq!(s.state(), &SessionState::Authenticated);
    assert!(matches!(
        &sent(&mut s)[..],
        [ServerMsg::Session(ServerSession::CharacterRefused {
            reason: CharacterRefusal::StoreUnavailable
        })]
    ));
    feed(
        &mut s,
        at_ms(7),
        &frame(&ClientMsg::Session(ClientSession::EnterWorld { character })),
    );
    let summary = CharacterSummary {
        id: character,
        name: "Ada".into(),
        level: 3,
        map: "meadow".into(),
    };
    s.enter_world(at_ms(7), summary, 10);
    assert_eq!(s.state(), &SessionState::InWorld);
    assert!(matches!(
        &sent(&mut s)[..],
        [ServerMsg::Session(ServerSession::EnteredWorld { .. })]
    ));
}

#[test]
fn wrong_protocol_version_is_refused_with_both_versions() {
    let mut s = Session::new(ConnId(1), SessionConfig::default(), T0);
    feed(
        &mut s,
        T0,
        &frame(&ClientMsg::Session(ClientSession::Hello {
            protocol_version: 99,
            client: "old".into(),
        })),
    );
    let reason = DisconnectReason::VersionMismatch {
        server: PROTOCOL_VERSION,
        client: 99,
    };
    assert_eq!(s.close_reason(), Some(&reason));
    assert_eq!(
        sent(&mut s),
        vec![ServerMsg::Session(ServerSession::Disconnect { reason })]
    );
}

#[test]
fn anything_before_hello_is_a_violation() {
    let mut s = Session::new(ConnId(1), SessionConfig::default(), T0);
    feed(&mut s, T0, &login("ada"));
    assert_eq!(
        s.close_reason(),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::UnexpectedMessage
        ))
    );
}

#[test]
fn entering_the_world_before_login_is_a_violation() {
    let mut s = Session::new(ConnId(1), SessionConfig::default(), T0);
    let mut bytes = hello();
    bytes.extend(frame(&ClientMsg::Session(ClientSession::EnterWorld {
        character: CharacterId(1),
    })));
    feed(&mut s, T0, &bytes);
    assert_eq!(
        s.close_reason(),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::UnexpectedMessage
        ))
    );
}

#[test]
fn garbage_is_malformed_and_oversized_prefix_is_too_large() {
    let mut s = Session::new(ConnId(1), SessionConfig::default(), T0);
    feed(&mut s, T0, &[3, 0, 0, 0, 0xff, 0xff, 0xff]);
    assert_eq!(
        s.close_reason(),
        Some(&DisconnectReason::ProtocolViolation(Violation::Malformed))
    );

    let mut s = Session::new(ConnId(1), SessionConfig::default(), T0);
    feed(&mut s, T0, &[0xff, 0xff, 0xff, 0xff]);
    assert_eq!(
        s.close_reason(),
        Some(&DisconnectReason::ProtocolViolation(
            Violation::FrameTooLarge
        ))
    );
    assert!(matches!(
        &sent(&mut s)[..],
        [ServerMsg::Session(ServerSession::Disconnect {
            reason: DisconnectReason::ProtocolViolation(Violation::FrameTooLarge)
        })]
    ));
}

#[test]
fn handshake_times_out() {
    let mut s = Session::new(ConnId(1), SessionConfig::default(), T0);
    feed(&mut s, T0, &hello());
    let deadline = s.poll_timeout().unwrap();
    assert_eq!(deadline, at_ms(10_000));
    s.handle_timeout(at_ms(9_999));
    assert!(!s.is_closed());
    s.handle_timeout(deadline);
    assert_eq!(s.close_reason(), Some(&DisconnectReason::HandshakeTimeout));
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn heartbeats_measure_rtt() {
    let mut s = logged_in();
    let ping_at = s.poll_timeout().unwrap();
    assert_eq!(ping_at, at_ms(2_000));
    s.handle_timeout(ping_at);
    let (seq, server_time_us) = match &sent(&mut s)[..] {
        [ServerMsg::Session(ServerSession::Ping {
            seq,
            server_time_us,
        })] => (*seq, *server_time_us),
        other => panic!("expected a ping, got {other:?}"),
    };
    feed(
        &mut s,
        at_ms(2_030),
        &frame(&ClientMsg::Session(ClientSession::Pong {
            seq,
            server_time_us,
            client_time_us: 999,
        })),
    );
    assert_eq!(s.pinger().rtt().latest(), Some(Duration::from_millis(30)));
    assert_eq!(s.poll_timeout(), Some(at_ms(4_000)));
}

#[test]
fn client_ping_is_answered_with_server_time() {
    let mut s = logged_in();
    feed(
        &mut s,
        at_ms(100),
        &frame(&ClientMsg::Session(ClientSession::Ping {
            seq: 4,
            client_time_us: 77,
        })),
    );
    assert_eq!(
        sent(&mut s),
        vec![ServerMsg::Session(ServerSession::Pong {
            seq: 4,
            client_time_us: 77,
            server_time_us: 100_000
        })]
    );
}

#[test]
fn silent_client_is_closed_at_the_idle_timeout() {
    let mut s = logged_in();
    let mut now = T0;
    // Time jumps from deadline to deadline; pings go out, nothing comes back.
    while let Some(next) = s.poll_timeout() {
        now = next;
        s.handle_timeout(now);
        sent(&mut s);
    }
    assert_eq!(now, at_ms(15_000));
    assert_eq!(s.close_reason(), Some(&DisconnectReason::IdleTimeout));
}

#[test]
fn any_message_keeps_the_session_alive() {
    let mut s = logged_in();
    feed(
        &mut s,
        at_ms(14_000),
        &frame(&ClientMsg::Session(ClientSession::Ping {
            seq: 1,
            client_time_us: 0,
        })),
    );
    s.handle_timeout(at_ms(15_000));
    assert!(!s.is_closed());
    s.handle_timeout(at_ms(29_000));
    assert_eq!(s.close_reason(), Some(&DisconnectReason::IdleTimeout));
}

#[test]
fn goodbye_closes_with_client_quit() {
    let mut s = logged_in();
    feed(
        &mut s,
        at_ms(1),
        &frame(&ClientMsg::Session(ClientSession::Goodbye)),
    );
    assert_eq!(s.close_reason(), Some(&DisconnectReason::ClientQuit));
}

#[test]
fn flooding_is_dropped_then_disconnected() {
    let config = SessionConfig {
        rate_limit_per_second: 10,
        rate_limit_burst: 5,
        ..SessionConfig::default()
    };
    let mut s = Session::new(ConnId(1), config, T0);
    let ping = frame(&ClientMsg::Session(ClientSession::Ping {
        seq: 0,
        client_time_us: 0,
    }));
    // Hello + 4 pings fit in the burst of 5, 5 more are dropped, the 11th is too many.
    feed(&mut s, T0, &hello());
    for i in 0..9 {
        feed(&mut s, T0, &ping);
        assert!(!s.is_closed(), "closed after {i} pings");
    }
    assert_eq!(s.stats().rate_limited, 5);
    assert_eq!(sent(&mut s).len(), 4, "dropped pings are not answered");
    feed(&mut s, T0, &ping);
    assert_eq!(s.close_reason(), Some(&DisconnectReason::RateLimited));
}

#[test]
fn slow_reader_is_disconnected_at_the_outbound_bound() {
    let mut s = logged_in();
    let notice = ServerMsg::Session(ServerSession::Notice {
        level: NoticeLevel::Info,
        text: "x".repeat(1000),
    });
    // The driver takes the bytes but never confirms them written.
    let mut taken = 0;
    loop {
        s.send(T0, &notice);
        if s.is_closed() {
            break;
        }
        taken += s.poll_transmit().map_or(0, |b| b.len());
        assert!(s.outbound_bytes() <= SessionConfig::default().max_outbound_bytes as usize + 1100);
    }
    assert!(taken >= SessionConfig::default().max_outbound_bytes as usize - 1100);
    assert_eq!(s.close_reason(), Some(&DisconnectReason::SlowReader));
    // The backlog is dropped; only the disconnect is left to send.
    let bytes = s.poll_transmit().unwrap();
    assert!(bytes.len() < 32);
}

#[test]
fn a_reader_that_keeps_up_is_never_cut_off() {
    let mut s = logged_in();
    let notice = ServerMsg::Session(ServerSession::Notice {
        level: NoticeLevel::Info,
        text: "x".repeat(1000),
    });
    for _ in 0..10_000 {
        s.send(T0, &notice);
        let n = s.poll_transmit().unwrap().len();
        s.handle_flushed(n);
    }
    assert!(!s.is_closed());
}

#[test]
fn closed_session_ignores_input_and_has_no_timers() {
    let mut s = logged_in();
    s.close(T0, DisconnectReason::ServerShutdown);
    sent(&mut s);
    assert!(feed(
        &mut s,
        T0,
        &frame(&ClientMsg::Session(ClientSession::EnterWorld {
            character: CharacterId(1)
        }))
    )
    .is_empty());
    s.close(T0, DisconnectReason::IdleTimeout);
    assert_eq!(s.close_reason(), Some(&DisconnectReason::ServerShutdown));
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.poll_transmit(), None);
}

#[test]
fn connection_lost_sends_nothing() {
    let mut s = logged_in();
    s.close(T0, DisconnectReason::ConnectionLost);
    assert_eq!(s.poll_transmit(), None);
}

#[test]
fn config_validation_names_the_problem() {
    let bad = SessionConfig {
        idle_timeout_ms: 1_000,
        heartbeat_interval_ms: 2_000,
        ..SessionConfig::default()
    };
    assert!(bad.validate().unwrap_err().contains("idle_timeout_ms"));
    assert!(SessionConfig::default().validate().is_ok());
}
